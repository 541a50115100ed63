// SPDX-License-Identifier: MIT
/*
 * System registers, EFLAGS, the time-stamp counter, CPUID and MSRs.
 *
 * The twoostwo virtual CPU: vendor "GenuineIntel" (guests key their errata
 * and feature paths on it), family 6 model 3 stepping 1, brand string
 * "twoostwo virtual CPU (P6 class)". Whatever the host, every guest sees
 * exactly these values. Features advertised are only those implemented
 * here: see cpuid_features(). The TSC counts at TSC_HZ (1 GHz), derived
 * from the host monotonic clock, so guest time is right at any emulation
 * speed.
 */
#include <string.h>

#include "core/clock.h"
#include "cpu/soft/cpu.h"

#define TSC_HZ 1000000000ull
#define CPU_SIGNATURE 0x00000631u /* family 6, model 3, stepping 1 */
#define BRAND "twoostwo virtual CPU (P6 class)"

/* CPUID.1:EDX (SDM vol. 2, table 3-11). */
#define FEAT_FPU BIT(0)
#define FEAT_VME BIT(1)
#define FEAT_DE BIT(2)
#define FEAT_PSE BIT(3)
#define FEAT_TSC BIT(4)
#define FEAT_MSR BIT(5)
#define FEAT_PAE BIT(6)
#define FEAT_CX8 BIT(8)
#define FEAT_APIC BIT(9)
#define FEAT_SEP BIT(11)
#define FEAT_PGE BIT(13)
#define FEAT_CMOV BIT(15)
#define FEAT_PSE36 BIT(17)
#define FEAT_CLFSH BIT(19)
#define FEAT_MMX BIT(23)
#define FEAT_FXSR BIT(24)
#define FEAT_SSE BIT(25)
#define FEAT_SSE2 BIT(26)
/* CPUID.1:ECX (SDM vol. 2, table 3-10); all implemented in sse*.c */
#define FEAT2_SSE3 BIT(0)
#define FEAT2_SSSE3 BIT(9)
#define FEAT2_SSE41 BIT(19)
#define FEAT2_SSE42 BIT(20)
#define FEAT2_POPCNT BIT(23)
/* CPUID.1:EBX[15:8]: CLFLUSH line size in 8-byte units */
#define CLFLUSH_LINE_QWORDS 8
#define FEAT2_CX16 BIT(13)
/* CPUID.80000001H:EDX and ECX (SDM vol. 2, tables 3-8; AMD APM vol. 3, E.4.2) */
#define EXT_FEAT_SYSCALL BIT(11)
#define EXT_FEAT_NX BIT(20)
#define EXT_FEAT_RDTSCP BIT(27)
#define EXT_FEAT_LM BIT(29)
#define EXT_FEAT2_LAHF_LM BIT(0)
/* CPUID.80000008H:EAX: 36 physical address bits (addr_mask), 48 linear */
#define ADDR_SIZES 0x3024u

#define MSR_TSC 0x10
#define MSR_PLATFORM_ID 0x17
#define MSR_BIOS_SIGN_ID 0x8b
#define MSR_APIC_BASE 0x1b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MTRRCAP 0xfe
#define MSR_MISC_ENABLE 0x1a0
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER 0xc0000080u

static u32 cpuid_features(void)
{
	return FEAT_FPU | FEAT_VME | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_PAE |
	       FEAT_CX8 | FEAT_SEP | FEAT_PGE | FEAT_CMOV | FEAT_PSE36 |
	       FEAT_FXSR | FEAT_CLFSH | FEAT_MMX | FEAT_SSE | FEAT_SSE2;
}

static u32 cpuid_features_ecx(void)
{
	return FEAT2_SSE3 | FEAT2_SSSE3 | FEAT2_SSE41 | FEAT2_SSE42 |
	       FEAT2_POPCNT;
}

u64 cpu_tsc(struct soft_cpu *cpu)
{
	return muldiv64(clock_guest_ns(), TSC_HZ, NSEC_PER_SEC) + cpu->s.tsc;
}

static void set_tsc(struct soft_cpu *cpu, u64 value)
{
	cpu->s.tsc = value - muldiv64(clock_guest_ns(), TSC_HZ, NSEC_PER_SEC);
}

static void cpuid_brand(u32 leaf, u32 out[4])
{
	char brand[48] = { 0 };

	memcpy(brand, BRAND, sizeof(BRAND) - 1);
	memcpy(out, brand + (leaf - 0x80000002u) * 16, 16);
}

/*
 * CPUID.1:EDX.APIC follows the global enable bit of IA32_APIC_BASE (SDM
 * vol. 3, 10.4.3); the APIC itself is a machine device behind the MSR hook.
 */
static bool apic_enabled(struct soft_cpu *cpu)
{
	u64 base;

	return cpu->env.msr_read &&
	       cpu->env.msr_read(cpu->env.opaque, MSR_APIC_BASE, &base) &&
	       (base & BIT(11));
}

void cpuid(struct soft_cpu *cpu)
{
	u32 leaf = cpu->s.gpr[R_EAX], r[4] = { 0 };

	switch (leaf) {
	case 0:
		r[0] = 1;
		memcpy(&r[1], "Genu", 4);
		memcpy(&r[3], "ineI", 4);
		memcpy(&r[2], "ntel", 4);
		break;
	case 1:
		r[0] = CPU_SIGNATURE;
		r[1] = CLFLUSH_LINE_QWORDS << 8;
		r[2] = cpuid_features_ecx();
		if (long_mode_capable(cpu))
			r[2] |= FEAT2_CX16;
		r[3] = cpuid_features();
		if (apic_enabled(cpu))
			r[3] |= FEAT_APIC;
		break;
	case 0x80000000u:
		r[0] = long_mode_capable(cpu) ? 0x80000008u : 0x80000004u;
		break;
	case 0x80000001u:
		r[3] = EXT_FEAT_NX;
		if (long_mode_capable(cpu)) {
			r[3] |= EXT_FEAT_SYSCALL | EXT_FEAT_RDTSCP |
				EXT_FEAT_LM;
			r[2] = EXT_FEAT2_LAHF_LM;
		}
		break;
	case 0x80000008u:
		if (long_mode_capable(cpu))
			r[0] = ADDR_SIZES;
		break;
	case 0x80000002u ... 0x80000004u:
		cpuid_brand(leaf, r);
		break;
	default:
		break;
	}
	cpu->s.gpr[R_EAX] = r[0];
	cpu->s.gpr[R_EBX] = r[1];
	cpu->s.gpr[R_ECX] = r[2];
	cpu->s.gpr[R_EDX] = r[3];
}

static bool msr_read(struct soft_cpu *cpu, u32 msr, u64 *v)
{
	switch (msr) {
	case MSR_TSC:
		*v = cpu_tsc(cpu);
		return true;
	case MSR_SYSENTER_CS:
		*v = cpu->s.sysenter_cs;
		return true;
	case MSR_SYSENTER_ESP:
		*v = cpu->s.sysenter_esp;
		return true;
	case MSR_SYSENTER_EIP:
		*v = cpu->s.sysenter_eip;
		return true;
	case MSR_MTRRCAP:
		*v = 0; /* no variable or fixed ranges */
		return true;
	case MSR_MTRR_DEF_TYPE:
		*v = cpu->s.mtrr_def_type;
		return true;
	case MSR_PAT:
		*v = cpu->s.pat;
		return true;
	case MSR_MISC_ENABLE:
		*v = 1; /* fast strings */
		return true;
	case MSR_PLATFORM_ID:
	case MSR_BIOS_SIGN_ID: /* no microcode update loaded */
		*v = 0;
		return true;
	case MSR_EFER:
		*v = cpu->s.efer;
		return true;
	default:
		return long_msr_read(cpu, msr, v);
	}
}

/*
 * EFER: NXE always; SCE and LME on the long-mode model. LMA is read-only
 * (set by CR0.PG, see write_cr), and LME may not change while paging is
 * on (SDM vol. 3, 10.8.5; AMD APM vol. 2, 14.6.1): #GP.
 */
static bool efer_write(struct soft_cpu *cpu, u64 v)
{
	u64 writable = EFER_NXE;

	if (long_mode_capable(cpu))
		writable |= EFER_SCE | EFER_LME;
	v = (v & ~(u64)EFER_LMA) | (cpu->s.efer & EFER_LMA);
	if (v & ~(writable | EFER_LMA))
		return false;
	if (((v ^ cpu->s.efer) & EFER_LME) && (cpu->s.cr0 & CR0_PG))
		return false;
	if ((v ^ cpu->s.efer) & EFER_NXE)
		cpu_tlb_flush(cpu);
	cpu->s.efer = v;
	return true;
}

static bool msr_write(struct soft_cpu *cpu, u32 msr, u64 v)
{
	switch (msr) {
	case MSR_TSC:
		set_tsc(cpu, v);
		return true;
	case MSR_SYSENTER_CS:
		cpu->s.sysenter_cs = (u32)v & 0xffff;
		return true;
	case MSR_SYSENTER_ESP:
		cpu->s.sysenter_esp = (u32)v;
		return true;
	case MSR_SYSENTER_EIP:
		cpu->s.sysenter_eip = (u32)v;
		return true;
	case MSR_MTRR_DEF_TYPE:
		cpu->s.mtrr_def_type = v & 0xcff;
		return true;
	case MSR_PAT:
		cpu->s.pat = v;
		return true;
	case MSR_MISC_ENABLE:
	case MSR_BIOS_SIGN_ID: /* written before CPUID to read the revision */
		return true;
	case MSR_EFER:
		return efer_write(cpu, v);
	default:
		return long_msr_write(cpu, msr, v);
	}
}

void rdmsr(struct soft_cpu *cpu)
{
	u64 v;

	u32 msr = cpu->s.gpr[R_ECX];

	if (!msr_read(cpu, msr, &v) &&
	    !(cpu->env.msr_read &&
	      cpu->env.msr_read(cpu->env.opaque, msr, &v)))
		cpu_fault(cpu, EXC_GP, 0);
	cpu->s.gpr[R_EAX] = (u32)v;
	cpu->s.gpr[R_EDX] = (u32)(v >> 32);
}

void wrmsr(struct soft_cpu *cpu)
{
	u64 v = (u64)cpu->s.gpr[R_EDX] << 32 | cpu->s.gpr[R_EAX];

	u32 msr = cpu->s.gpr[R_ECX];

	if (!msr_write(cpu, msr, v) &&
	    !(cpu->env.msr_write &&
	      cpu->env.msr_write(cpu->env.opaque, msr, v)))
		cpu_fault(cpu, EXC_GP, 0);
}

#define CR4_SUPPORTED (CR4_VME | CR4_PVI | CR4_DE | CR4_TSD | CR4_PSE | CR4_PAE | CR4_PGE | \
		       CR4_MCE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT)

/*
 * Paging on with EFER.LME activates IA-32e mode (EFER.LMA), which needs
 * CR4.PAE and a CS that is not 64-bit; paging off leaves it (SDM vol. 3,
 * 10.8.5 and 4.1.2; AMD APM vol. 2, 14.6). #GP otherwise.
 */
static void cr0_long_mode_switch(struct soft_cpu *cpu, u32 v)
{
	bool pg_on = (v & CR0_PG) && !(cpu->s.cr0 & CR0_PG);
	bool pg_off = !(v & CR0_PG) && (cpu->s.cr0 & CR0_PG);

	if (pg_on && (cpu->s.efer & EFER_LME)) {
		if (!(cpu->s.cr4 & CR4_PAE) ||
		    (cpu->s.seg[S_CS].attr & SEG_ATTR_L))
			cpu_fault(cpu, EXC_GP, 0);
		cpu->s.efer |= EFER_LMA;
	} else if (pg_off && long_mode_active(cpu)) {
		if (cpu->s.seg[S_CS].attr & SEG_ATTR_L)
			cpu_fault(cpu, EXC_GP, 0);
		cpu->s.efer &= ~(u64)EFER_LMA;
	}
}

void write_cr(struct soft_cpu *cpu, int n, u32 v)
{
	switch (n) {
	case 0:
		if ((v & CR0_PG) && !(v & CR0_PE))
			cpu_fault(cpu, EXC_GP, 0);
		if ((v & CR0_NW) && !(v & CR0_CD))
			cpu_fault(cpu, EXC_GP, 0);
		v |= CR0_ET;
		cr0_long_mode_switch(cpu, v);
		if ((v ^ cpu->s.cr0) & (CR0_PG | CR0_WP | CR0_PE))
			cpu_tlb_flush(cpu);
		cpu->s.cr0 = v;
		break;
	case 2:
		cpu->s.cr2 = v;
		break;
	case 3:
		cpu->s.cr3 = v;
		cpu_tlb_flush(cpu);
		break;
	case 4:
		if (v & ~CR4_SUPPORTED)
			cpu_fault(cpu, EXC_GP, 0);
		/* PAE cannot be turned off in long mode (SDM vol. 3, 4.1.3). */
		if (long_mode_active(cpu) && !(v & CR4_PAE))
			cpu_fault(cpu, EXC_GP, 0);
		if ((v ^ cpu->s.cr4) & (CR4_PSE | CR4_PAE | CR4_PGE))
			cpu_tlb_flush(cpu);
		cpu->s.cr4 = v;
		break;
	}
	cpu_update_mode(cpu);
}

/*
 * MOV to CR0/CR2/CR3/CR4 in 64-bit mode: all 64 bits of the register;
 * bits 63:32 of CR0 and CR4 and bits 63:52 of CR3 are reserved, #GP(0)
 * (SDM vol. 3, 2.5).
 */
void write_cr64(struct soft_cpu *cpu, int n, u64 v)
{
	switch (n) {
	case 2:
		cpu->s.cr2 = v;
		return;
	case 3:
		if (v >> 52)
			cpu_fault(cpu, EXC_GP, 0);
		cpu->s.cr3 = v;
		cpu_tlb_flush(cpu);
		return;
	default:
		if (v >> 32)
			cpu_fault(cpu, EXC_GP, 0);
		write_cr(cpu, n, (u32)v);
	}
}

u32 read_eflags(struct soft_cpu *cpu)
{
	flags_sync(cpu);
	switch (cpu->model) {
	case CPU_MODEL_8086:
		return (cpu->s.eflags & 0x0fd5u) | 0xf002u;
	case CPU_MODEL_286:
		return (cpu->s.eflags & (cpu->pe ? 0x7fd5u : 0x0fd5u)) | 2;
	default:
		return (cpu->s.eflags & 0x3f7fd5u) | 2;
	}
}

void load_eflags(struct soft_cpu *cpu, u32 v, u32 mask)
{
	flags_sync(cpu);
	cpu->s.eflags = ((cpu->s.eflags & ~mask) | (v & mask)) | 2;
	cpu->s.eflags = read_eflags(cpu);
	cpu_update_mode(cpu);
}

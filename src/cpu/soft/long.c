// SPDX-License-Identifier: MIT
/*
 * Long-mode machine state the soft CPU keeps outside the instruction
 * executors: the MSRs that only exist on a CPU with long mode (Intel SDM
 * vol. 4, table 2-2; AMD APM vol. 2, appendix A.2), on CPU_MODEL_X86_64.
 *
 * FS_BASE and GS_BASE are the hidden bases of FS and GS; KERNEL_GS_BASE is
 * what SWAPGS exchanges with GS_BASE. Writing a non-canonical address to
 * any MSR that holds a linear address is #GP(0) (SDM vol. 4, notes of
 * table 2-2).
 */
#include "cpu/soft/cpu.h"

#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX 0xc0000103u

/* 48-bit linear addresses: bits 63:47 all equal (SDM vol. 1, 3.3.7.1). */
bool is_canonical(u64 lin)
{
	return (u64)((s64)(lin << 16) >> 16) == lin;
}

/* The MSR's storage, or NULL when it is not a long-mode MSR. */
static u64 *long_msr(struct soft_cpu *cpu, u32 msr)
{
	switch (msr) {
	case MSR_STAR:
		return &cpu->s.star;
	case MSR_LSTAR:
		return &cpu->s.lstar;
	case MSR_CSTAR:
		return &cpu->s.cstar;
	case MSR_SFMASK:
		return &cpu->s.sfmask;
	case MSR_FS_BASE:
		return &cpu->s.seg[S_FS].base;
	case MSR_GS_BASE:
		return &cpu->s.seg[S_GS].base;
	case MSR_KERNEL_GS_BASE:
		return &cpu->s.kernel_gs_base;
	case MSR_TSC_AUX:
		return &cpu->s.tsc_aux;
	default:
		return NULL;
	}
}

bool long_msr_read(struct soft_cpu *cpu, u32 msr, u64 *v)
{
	u64 *p = long_mode_capable(cpu) ? long_msr(cpu, msr) : NULL;

	if (!p)
		return false;
	*v = *p;
	return true;
}

/* False (#GP) for an unknown MSR or a value the MSR cannot hold. */
bool long_msr_write(struct soft_cpu *cpu, u32 msr, u64 v)
{
	u64 *p = long_mode_capable(cpu) ? long_msr(cpu, msr) : NULL;

	if (!p)
		return false;
	switch (msr) {
	case MSR_STAR:
		break;
	case MSR_SFMASK:
		v &= 0xffffffffu; /* bits 63:32 reserved, read as 0 */
		break;
	case MSR_TSC_AUX:
		if (v >> 32) /* bits 63:32 reserved */
			return false;
		break;
	default: /* linear addresses */
		if (!is_canonical(v))
			return false;
	}
	*p = v;
	return true;
}

/* A 16-byte IDT gate of IA-32e mode (SDM vol. 3, 6.14.1, figure 6-8). */
struct gate64 {
	u16 sel;
	u64 offset;
	unsigned type, dpl, ist;
	bool present;
};

static struct gate64 read_gate64(struct soft_cpu *cpu, int vector, u32 ext)
{
	u32 off = (u32)vector * 16, w[3], i;
	struct gate64 g;

	if (off + 15 > cpu->s.idtr.limit)
		cpu_fault(cpu, EXC_GP, (u32)vector * 8 + 2 + ext);
	for (i = 0; i < 3; i++)
		w[i] = sys_read32(cpu, cpu->s.idtr.base + off + 4 * i);
	g.sel = (u16)(w[0] >> 16);
	g.offset = (w[0] & 0xffff) | (w[1] & 0xffff0000u) | (u64)w[2] << 32;
	g.type = (w[1] >> 8) & 0x1f;
	g.dpl = (w[1] >> 13) & 3;
	g.ist = w[1] & 7;
	g.present = w[1] & 0x8000;
	/* Only 64-bit interrupt and trap gates: no task gates here. */
	if (g.type != 0x0e && g.type != 0x0f)
		cpu_fault(cpu, EXC_GP, (u32)vector * 8 + 2 + ext);
	return g;
}

/* A stack pointer from the 64-bit TSS: RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1).
 */
static u64 tss64_read(struct soft_cpu *cpu, u32 off, u32 ext)
{
	const struct x86_segment *tr = &cpu->s.tr;

	if (off + 7 > tr->limit)
		cpu_fault(cpu, EXC_TS, (tr->selector & ~3u) + ext);
	return sys_read64(cpu, tr->base + off);
}

/* The handler's code segment: present, 64-bit (L=1, D=0), DPL <= CPL. */
static void gate64_target(struct soft_cpu *cpu, u16 sel, u32 ext, u32 *lo,
			  u32 *hi)
{
	if (!(sel & ~3u))
		cpu_fault(cpu, EXC_GP, ext);
	if (!desc_fetch(cpu, sel, lo, hi))
		cpu_fault(cpu, EXC_GP, (sel & ~3u) + ext);
	if ((*hi & 0x1800) != 0x1800 || ((*hi >> 13) & 3) > cpu->cpl ||
	    (*hi & 0x600000) != 0x200000)
		cpu_fault(cpu, EXC_GP, (sel & ~3u) + ext);
	if (!(*hi & 0x8000))
		cpu_fault(cpu, EXC_NP, (sel & ~3u) + ext);
}

static void write64(struct soft_cpu *cpu, u64 lin, u64 v)
{
	sys_write64(cpu, lin, v);
}

/*
 * Interrupt and exception delivery in IA-32e mode (SDM vol. 3, 6.14): the
 * stack is the gate's IST stack if it names one, else RSPn of the 64-bit
 * TSS on a privilege change, else the current one; it is aligned down to
 * 16 bytes, and SS:RSP, RFLAGS, CS:RIP and the error code are pushed as
 * 8-byte values whatever the privilege levels. A privilege change loads
 * SS with a null selector of the new CPL. The frame is written before any
 * register changes, so a fault while writing it leaves the interrupted
 * context as it was.
 *
 * Not yet: linear addresses above 4 GiB (the engine's linear addresses are
 * 32-bit so far) and executing the 64-bit handler beyond HLT (no 64-bit
 * decoder yet): CPU_MODEL_X86_64 is for unit tests only.
 */
void deliver_long(struct soft_cpu *cpu, int vector, bool software,
		  bool has_error, u32 error_code, u64 return_eip)
{
	u32 ext = software ? 0 : 1, lo, hi;
	struct gate64 g = read_gate64(cpu, vector, ext);
	u64 frame[6], rsp;
	unsigned new_cpl, n = 0, i;

	if (software && g.dpl < cpu->cpl)
		cpu_fault(cpu, EXC_GP, (u32)vector * 8 + 2);
	if (!g.present)
		cpu_fault(cpu, EXC_NP, (u32)vector * 8 + 2 + ext);
	gate64_target(cpu, g.sel, ext, &lo, &hi);
	new_cpl = hi & 0x400 ? cpu->cpl : (hi >> 13) & 3;
	if (g.ist)
		rsp = tss64_read(cpu, 0x24 + 8 * (g.ist - 1), ext);
	else if (new_cpl < cpu->cpl)
		rsp = tss64_read(cpu, 4 + 8 * new_cpl, ext);
	else
		rsp = cpu->s.gpr[R_ESP];
	if (!is_canonical(g.offset))
		cpu_fault(cpu, EXC_GP, ext);
	if (!is_canonical(rsp))
		cpu_fault(cpu, EXC_SS, ext);
	rsp &= ~0xfull;
	if (has_error)
		frame[n++] = error_code;
	frame[n++] = return_eip;
	frame[n++] = cpu->s.seg[S_CS].selector;
	frame[n++] = read_eflags(cpu);
	frame[n++] = cpu->s.gpr[R_ESP];
	frame[n++] = cpu->s.seg[S_SS].selector;
	for (i = 0; i < n; i++)
		write64(cpu, rsp - 8 * (n - i), frame[i]);
	if (new_cpl < cpu->cpl)
		cpu->s.seg[S_SS] = (struct x86_segment){
			.selector = (u16)new_cpl,
			.attr = SEG_ATTR_P | SEG_ATTR_S | 0x3 |
				(u16)(new_cpl << SEG_ATTR_DPL_SHIFT),
		};
	desc_set_accessed(cpu, g.sel, hi);
	desc_to_segment(lo, hi | 0x100, (u16)((g.sel & ~3u) | new_cpl),
			&cpu->s.seg[S_CS]);
	cpu->s.gpr[R_ESP] = rsp - 8 * n;
	cpu->s.rip = g.offset;
	cpu->s.eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!(g.type & 1))
		cpu->s.eflags &= ~FL_IF;
	cpu_update_mode(cpu);
}

/* A flat code or stack segment as SYSCALL/SYSRET load it. */
static struct x86_segment flat_segment(u16 sel, unsigned dpl, u16 type_bits)
{
	return (struct x86_segment){
		sel, 0, 0xffffffffu,
		(u16)(SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_G |
		      dpl << SEG_ATTR_DPL_SHIFT | type_bits)
	};
}

/*
 * SYSCALL (SDM vol. 2, SYSCALL; AMD APM vol. 3): RCX = the next RIP, R11
 * = RFLAGS, RIP = LSTAR, RFLAGS &= ~SFMASK, CS and SS from STAR[47:32]
 * as flat ring-0 segments. As on Intel processors, SYSCALL exists only in
 * 64-bit mode (AMD also allows it in legacy and compatibility mode, with
 * CSTAR); elsewhere it is #UD, as it is with EFER.SCE clear.
 */
void exec_syscall(struct soft_cpu *cpu)
{
	u16 sel = (u16)(cpu->s.star >> 32) & ~3u;

	if (!cpu->code64 || !(cpu->s.efer & EFER_SCE))
		cpu_fault_noerr(cpu, EXC_UD);
	cpu->s.gpr[R_ECX] = cpu->s.rip;
	cpu->s.gpr[R_R11] = read_eflags(cpu) & ~FL_RF;
	cpu->s.rip = cpu->s.lstar;
	cpu->s.eflags &= ~((u32)cpu->s.sfmask | FL_RF | FL_VM);
	cpu->s.eflags |= 2;
	cpu->s.seg[S_CS] = flat_segment(sel, 0, SEG_ATTR_L | 0xb);
	cpu->s.seg[S_SS] = flat_segment((u16)(sel + 8), 0, SEG_ATTR_DB | 0x3);
	cpu_update_mode(cpu);
}

/*
 * SYSRET: back to CPL 3, RFLAGS from R11; with REX.W to 64-bit code at
 * RCX (CS = STAR[63:48] + 16), else to compatibility mode at ECX (CS =
 * STAR[63:48]); SS = STAR[63:48] + 8. A non-canonical RCX is #GP(0) at
 * CPL 0 before anything changes, as on Intel processors (AMD loads it
 * and faults at CPL 3 on the next fetch): the choice Linux's entry code
 * defends against either way.
 */
void exec_sysret(struct soft_cpu *cpu, unsigned osize)
{
	u16 sel = (u16)(cpu->s.star >> 48);
	u64 rip = cpu->s.gpr[R_ECX];

	if (!cpu->code64 || !(cpu->s.efer & EFER_SCE))
		cpu_fault_noerr(cpu, EXC_UD);
	if (cpu->cpl)
		cpu_fault(cpu, EXC_GP, 0);
	if (osize == 8) {
		if (!is_canonical(rip))
			cpu_fault(cpu, EXC_GP, 0);
		cpu->s.seg[S_CS] = flat_segment((u16)((sel + 16) | 3), 3,
						SEG_ATTR_L | 0xb);
	} else {
		rip = (u32)rip;
		cpu->s.seg[S_CS] =
			flat_segment((u16)(sel | 3), 3, SEG_ATTR_DB | 0xb);
	}
	cpu->s.seg[S_SS] =
		flat_segment((u16)((sel + 8) | 3), 3, SEG_ATTR_DB | 0x3);
	cpu->lazy.op = LAZY_NONE;
	cpu->s.eflags = ((u32)cpu->s.gpr[R_R11] & 0x3c7fd7u) | 2;
	cpu->s.rip = rip;
	cpu_update_mode(cpu);
}

/* SWAPGS (0F 01 F8): 64-bit mode, CPL 0; GS.base <-> KERNEL_GS_BASE. */
void exec_swapgs(struct soft_cpu *cpu)
{
	u64 t = cpu->s.seg[S_GS].base;

	if (!cpu->code64)
		cpu_fault_noerr(cpu, EXC_UD);
	if (cpu->cpl)
		cpu_fault(cpu, EXC_GP, 0);
	cpu->s.seg[S_GS].base = cpu->s.kernel_gs_base;
	cpu->s.kernel_gs_base = t;
}

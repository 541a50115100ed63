// SPDX-License-Identifier: MIT
/*
 * The two-byte opcode map, 0F xx (Intel SDM vol. 2, table A-3): system
 * instructions, the 386 additions (bit tests, double shifts, MOVZX/MOVSX,
 * SETcc, long Jcc) and the 486/Pentium/P6 ones (CMPXCHG, XADD, BSWAP,
 * CPUID, RDTSC, RDMSR/WRMSR, CMOVcc, CMPXCHG8B, SYSENTER/SYSEXIT).
 */
#include "cpu/soft/exec.h"
#include "cpu/soft/sse.h"

static bool protected_only(struct soft_cpu *cpu)
{
	if (!cpu->pe || cpu->vm86)
		undefined_opcode(cpu);
	return true;
}

/*
 * In IA-32e mode, LDT and TSS descriptors are 16 bytes: bits 63:32 of
 * the base are in the third dword (SDM vol. 3, 7.2.3 and 3.5).
 */
static void system_desc_base_high(struct soft_cpu *cpu, u16 sel,
				  struct x86_segment *sg)
{
	if (long_mode_active(cpu))
		sg->base |= (u64)sys_read32(cpu, cpu->s.gdtr.base +
							 (sel & ~7u) + 8)
			    << 32;
}

static void load_ldtr(struct soft_cpu *cpu, u16 sel)
{
	u32 lo, hi;

	if (!(sel & ~3u)) {
		cpu->s.ldtr = (struct x86_segment){ .selector = sel };
		return;
	}
	if ((sel & 4) || !desc_fetch(cpu, sel, &lo, &hi))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if ((hi & 0x1f00) != 0x0200) /* system descriptor, type 2 = LDT */
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if (!(hi & 0x8000))
		cpu_fault(cpu, EXC_NP, sel & ~3u);
	desc_to_segment(lo, hi, sel, &cpu->s.ldtr);
	system_desc_base_high(cpu, sel, &cpu->s.ldtr);
}

static void load_tr(struct soft_cpu *cpu, u16 sel)
{
	u32 lo, hi, type;

	if (!(sel & ~3u) || (sel & 4) || !desc_fetch(cpu, sel, &lo, &hi))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	type = (hi >> 8) & 0x1f;
	if (type != 0x09 && (type != 0x01 || long_mode_active(cpu)))
		cpu_fault(cpu, EXC_GP, sel & ~3u); /* available 16/32/64 TSS */
	if (!(hi & 0x8000))
		cpu_fault(cpu, EXC_NP, sel & ~3u);
	hi |= 0x200; /* busy */
	sys_write32(cpu, (cpu->s.gdtr.base + (sel & ~7u)) + 4, hi);
	desc_to_segment(lo, hi, sel, &cpu->s.tr);
	system_desc_base_high(cpu, sel, &cpu->s.tr);
}

/* VERR/VERW/LAR/LSL: may the current level see this selector? */
static bool selector_visible(struct soft_cpu *cpu, u16 sel, u32 *lo, u32 *hi)
{
	unsigned dpl;
	bool conforming;

	if (!(sel & ~3u) || !desc_fetch(cpu, sel, lo, hi))
		return false;
	dpl = (*hi >> 13) & 3;
	conforming = (*hi & 0x1c00) == 0x1c00;
	return conforming || (dpl >= cpu->cpl && dpl >= (sel & 3u));
}

static void exec_group6(struct soft_cpu *cpu, struct insn *in)
{
	u32 lo, hi;
	u16 sel;
	bool ok;

	protected_only(cpu);
	switch (in->reg) {
	case 0: /* SLDT */
	case 1: /* STR */
		sel = in->reg ? cpu->s.tr.selector : cpu->s.ldtr.selector;
		if (in->mod == 3)
			reg_write(cpu, in->rm, sel, in->osize);
		else
			mem_write16(cpu, in->seg, cpu->ea, sel);
		break;
	case 2: /* LLDT */
	case 3: /* LTR */
		cpl0_or_fault(cpu);
		sel = (u16)rm_read(cpu, in, 2);
		if (in->reg == 2)
			load_ldtr(cpu, sel);
		else
			load_tr(cpu, sel);
		break;
	case 4: /* VERR */
	case 5: /* VERW */
		sel = (u16)rm_read(cpu, in, 2);
		ok = selector_visible(cpu, sel, &lo, &hi) && (hi & 0x1000);
		if (ok && in->reg == 4)
			ok = !(hi & 0x800) || (hi & 0x200);
		else if (ok)
			ok = !(hi & 0x800) && (hi & 0x200);
		set_flag(cpu, FL_ZF, ok);
		break;
	default:
		undefined_opcode(cpu);
	}
}

static void store_dtable(struct soft_cpu *cpu, struct insn *in,
			 const struct x86_dtable *t)
{
	u32 base = (u32)t->base;

	if (cpu->code64) { /* 10 bytes: limit, 64-bit base */
		mem_write16(cpu, in->seg, cpu->ea, t->limit);
		mem_write64(cpu, in->seg, cpu->ea + 2, t->base);
		return;
	}
	if (is_286_or_older(cpu))
		base |= 0xff000000u; /* the 286 stores 0xFF as byte 5 */
	else if (in->osize == 2)
		base &= 0x00ffffffu;
	mem_write16(cpu, in->seg, cpu->ea, t->limit);
	mem_write32(cpu, in->seg, cpu->ea + 2, base);
}

static void load_dtable(struct soft_cpu *cpu, struct insn *in,
			struct x86_dtable *t)
{
	u16 limit = mem_read16(cpu, in->seg, cpu->ea);
	u64 base;

	if (cpu->code64) {
		base = mem_read64(cpu, in->seg, cpu->ea + 2);
		if (!is_canonical(base))
			cpu_fault(cpu, EXC_GP, 0);
		t->limit = limit;
		t->base = base;
		return;
	}
	base = mem_read32(cpu, in->seg, cpu->ea + 2);

	if (in->osize == 2)
		base &= 0x00ffffffu;
	t->limit = limit;
	t->base = base;
}

/*
 * RDTSCP (0F 01 F9): RDTSC plus IA32_TSC_AUX in ECX, on the long-mode
 * model (SDM vol. 2, RDTSCP); CR4.TSD makes it CPL-0 only, like RDTSC.
 */
static void exec_rdtscp(struct soft_cpu *cpu)
{
	u64 t;

	if ((cpu->s.cr4 & CR4_TSD) && cpu->pe && cpu->cpl)
		cpu_fault(cpu, EXC_GP, 0);
	t = cpu_tsc(cpu);
	cpu->s.gpr[R_EAX] = (u32)t;
	cpu->s.gpr[R_EDX] = (u32)(t >> 32);
	cpu->s.gpr[R_ECX] = (u32)cpu->s.tsc_aux;
}

static void exec_group7(struct soft_cpu *cpu, struct insn *in)
{
	u16 msw;

	if (in->mod == 3 && in->reg == 7 && in->rm == 1 &&
	    long_mode_capable(cpu)) {
		exec_rdtscp(cpu);
		return;
	}
	if (in->mod == 3 && in->reg == 7 && in->rm == 0 && cpu->code64) {
		exec_swapgs(cpu);
		return;
	}
	if (in->mod == 3 && in->reg != 4 && in->reg != 6)
		undefined_opcode(cpu);
	switch (in->reg) {
	case 0:
		store_dtable(cpu, in, &cpu->s.gdtr);
		break;
	case 1:
		store_dtable(cpu, in, &cpu->s.idtr);
		break;
	case 2:
	case 3:
		cpl0_or_fault(cpu);
		if (cpu->vm86)
			cpu_fault(cpu, EXC_GP, 0);
		load_dtable(cpu, in, in->reg == 2 ? &cpu->s.gdtr
						  : &cpu->s.idtr);
		break;
	case 4: /* SMSW */
		msw = (u16)cpu->s.cr0;
		if (is_286_or_older(cpu))
			msw |= 0xfff0;
		if (in->mod == 3)
			reg_write(cpu, in->rm, in->osize == 4 ? cpu->s.cr0 : msw,
				  in->osize);
		else
			mem_write16(cpu, in->seg, cpu->ea, msw);
		break;
	case 6: /* LMSW: can set PE, never clear it */
		cpl0_or_fault(cpu);
		if (cpu->vm86)
			cpu_fault(cpu, EXC_GP, 0);
		msw = (u16)rm_read(cpu, in, 2);
		write_cr(cpu, 0, (cpu->s.cr0 & ~0xeu) | (msw & 0xf) |
					 (cpu->s.cr0 & CR0_PE));
		break;
	case 7: /* INVLPG */
		cpl0_or_fault(cpu);
		mmu_invlpg(cpu, seg_linear_noaccess(cpu, in->seg, cpu->ea));
		break;
	default:
		undefined_opcode(cpu);
	}
}

static void exec_lar_lsl(struct soft_cpu *cpu, struct insn *in)
{
	u16 sel = (u16)rm_read(cpu, in, 2);
	u32 lo, hi, type;
	bool ok;
	struct x86_segment sg;

	protected_only(cpu);
	ok = selector_visible(cpu, sel, &lo, &hi);
	type = (hi >> 8) & 0x1f;
	if (ok && !(type & 0x10)) {
		/* System descriptors LAR/LSL accept (SDM table 3-2). */
		static const u32 lar_ok = BIT(1) | BIT(2) | BIT(3) | BIT(4) |
					  BIT(5) | BIT(9) | BIT(11) | BIT(12);
		static const u32 lsl_ok = BIT(1) | BIT(2) | BIT(3) | BIT(9) |
					  BIT(11);

		ok = (in->op == 0x102 ? lar_ok : lsl_ok) & BIT(type);
	}
	set_flag(cpu, FL_ZF, ok);
	if (!ok)
		return;
	if (in->op == 0x102) {
		reg_write(cpu, in->reg, hi & 0x00f0ff00u, in->osize);
	} else {
		desc_to_segment(lo, hi, sel, &sg);
		reg_write(cpu, in->reg, sg.limit, in->osize);
	}
}

static void exec_mov_cr_dr(struct soft_cpu *cpu, struct insn *in)
{
	bool to_reg = !(in->op & 2);
	bool dr = in->op & 1;
	unsigned n = in->reg;

	cpl0_or_fault(cpu);
	if (cpu->vm86)
		cpu_fault(cpu, EXC_GP, 0);
	if (dr) {
		if (n > 7)
			undefined_opcode(cpu); /* DR8-15 (REX.R) */
		if (n == 4 || n == 5)
			n += 2; /* aliases of DR6/DR7 without CR4.DE */
		if (to_reg)
			cpu->s.gpr[in->rm] = cpu->s.dr[n];
		else
			cpu->s.dr[n] = cpu->s.gpr[in->rm];
		return;
	}
	if (n == 8 && long_mode_capable(cpu)) {
		/* CR8: the task priority, TPR bits 7:4 (SDM vol. 3, 10.8.6) */
		if (to_reg) {
			cpu->s.gpr[in->rm] = cpu->s.cr8;
		} else {
			if (cpu->s.gpr[in->rm] >> 4)
				cpu_fault(cpu, EXC_GP, 0);
			cpu->s.cr8 = cpu->s.gpr[in->rm];
		}
		return;
	}
	if (n == 1 || n > 4)
		undefined_opcode(cpu);
	if (to_reg) {
		static const size_t off[] = {
			offsetof(struct x86_state, cr0), 0,
			offsetof(struct x86_state, cr2),
			offsetof(struct x86_state, cr3),
			offsetof(struct x86_state, cr4),
		};

		cpu->s.gpr[in->rm] = *(u64 *)((u8 *)&cpu->s + off[n]);
		if (!cpu->code64)
			cpu->s.gpr[in->rm] = (u32)cpu->s.gpr[in->rm];
	} else if (cpu->code64) {
		write_cr64(cpu, (int)n, cpu->s.gpr[in->rm]);
	} else {
		write_cr(cpu, (int)n, (u32)cpu->s.gpr[in->rm]);
	}
}

/* BT/BTS/BTR/BTC: a register offset may address beyond the operand. */
static void exec_bit_test(struct soft_cpu *cpu, struct insn *in, int kind,
			  u64 offset, bool imm)
{
	unsigned size = in->osize, bits = 8 * size;
	u64 v;
	unsigned bit;

	if (in->mod == 3 || imm) {
		bit = offset & (bits - 1);
	} else {
		s64 so = (s64)alu_sign_extend(offset, size);

		cpu->ea += (u64)((so >> (size == 2 ? 4 : size == 4 ? 5 : 6)) *
				 (s64)size);
		cpu->ea &= size_mask(in->asize);
		bit = offset & (bits - 1);
	}
	v = rm_read(cpu, in, size);
	set_flag(cpu, FL_CF, (v >> bit) & 1);
	switch (kind) {
	case 1:
		v |= 1ull << bit;
		break;
	case 2:
		v &= ~(1ull << bit);
		break;
	case 3:
		v ^= 1ull << bit;
		break;
	default:
		return;
	}
	rm_write(cpu, in, v, size);
}

static void exec_bsf_bsr(struct soft_cpu *cpu, struct insn *in)
{
	u64 v = rm_read(cpu, in, in->osize);

	set_flag(cpu, FL_ZF, !v);
	if (!v)
		return; /* destination unchanged (as the hardware does) */
	if (in->op == 0x1bc)
		reg_write(cpu, in->reg, (u64)__builtin_ctzll(v), in->osize);
	else
		reg_write(cpu, in->reg, 63u - (u64)__builtin_clzll(v),
			  in->osize);
}

static void exec_cmpxchg(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op & 1 ? in->osize : 1;
	u64 dst = rm_read(cpu, in, size);
	u64 acc = reg_read(cpu, R_EAX, size);

	alu(cpu, ALU_CMP, acc, dst, size);
	if (get_flag(cpu, FL_ZF)) {
		rm_write(cpu, in, reg_read(cpu, in->reg, size), size);
	} else {
		/*
		 * A memory destination is written back even when unequal; a
		 * register one is left alone (its upper half too, as the
		 * AMD host does in 64-bit mode).
		 */
		if (in->mod != 3)
			rm_write(cpu, in, dst, size);
		reg_write(cpu, R_EAX, dst, size);
	}
}

/*
 * CMPXCHG16B m128 (REX.W 0F C7 /1): RDX:RAX against the 16 bytes, which
 * must be 16-byte aligned (#GP(0) otherwise; SDM vol. 2, CMPXCHG8B/16B).
 */
static void exec_cmpxchg16b(struct soft_cpu *cpu, struct insn *in)
{
	u64 lo, hi;

	if (seg_linear(cpu, in->seg, cpu->ea, 16, true) & 15)
		cpu_fault(cpu, EXC_GP, 0);
	lo = mem_read64(cpu, in->seg, cpu->ea);
	hi = mem_read64(cpu, in->seg, cpu->ea + 8);
	if (lo == cpu->s.gpr[R_EAX] && hi == cpu->s.gpr[R_EDX]) {
		mem_write64(cpu, in->seg, cpu->ea, cpu->s.gpr[R_EBX]);
		mem_write64(cpu, in->seg, cpu->ea + 8, cpu->s.gpr[R_ECX]);
		set_flag(cpu, FL_ZF, true);
	} else {
		mem_write64(cpu, in->seg, cpu->ea, lo);
		mem_write64(cpu, in->seg, cpu->ea + 8, hi);
		cpu->s.gpr[R_EAX] = lo;
		cpu->s.gpr[R_EDX] = hi;
		set_flag(cpu, FL_ZF, false);
	}
}

static void exec_cmpxchg8b(struct soft_cpu *cpu, struct insn *in)
{
	u32 lo, hi;

	if (in->mod == 3 || in->reg != 1)
		undefined_opcode(cpu);
	if (in->osize == 8) {
		exec_cmpxchg16b(cpu, in);
		return;
	}
	lo = mem_read32(cpu, in->seg, cpu->ea);
	hi = mem_read32(cpu, in->seg, cpu->ea + 4);
	if (lo == (u32)cpu->s.gpr[R_EAX] && hi == (u32)cpu->s.gpr[R_EDX]) {
		mem_write32(cpu, in->seg, cpu->ea, cpu->s.gpr[R_EBX]);
		mem_write32(cpu, in->seg, cpu->ea + 4, cpu->s.gpr[R_ECX]);
		set_flag(cpu, FL_ZF, true);
	} else {
		mem_write32(cpu, in->seg, cpu->ea, lo);
		mem_write32(cpu, in->seg, cpu->ea + 4, hi);
		cpu->s.gpr[R_EAX] = lo;
		cpu->s.gpr[R_EDX] = hi;
		set_flag(cpu, FL_ZF, false);
	}
}

static void exec_xadd(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op & 1 ? in->osize : 1;
	u64 dst = rm_read(cpu, in, size);
	u64 src = reg_read(cpu, in->reg, size);
	u64 sum = alu(cpu, ALU_ADD, dst, src, size);

	reg_write(cpu, in->reg, dst, size);
	rm_write(cpu, in, sum, size);
}

static void exec_movx(struct soft_cpu *cpu, struct insn *in)
{
	unsigned from = in->op & 1 ? 2 : 1;
	u64 v = rm_read(cpu, in, from);

	if (in->op >= 0x1be)
		v = from == 1 ? (u64)(s64)(s8)v : (u64)(s64)(s16)v;
	reg_write(cpu, in->reg, v, in->osize);
}

/*
 * RDPMC (SDM vol. 2; P6 family: counters 0 and 1). No events are
 * counted here, so both read as zero; CPL > 0 needs CR4.PCE.
 */
static void exec_rdpmc(struct soft_cpu *cpu)
{
	if (cpu->pe && cpu->cpl && !(cpu->s.cr4 & CR4_PCE))
		cpu_fault(cpu, EXC_GP, 0);
	if (cpu->s.gpr[R_ECX] > 1)
		cpu_fault(cpu, EXC_GP, 0);
	cpu->s.gpr[R_EAX] = 0;
	cpu->s.gpr[R_EDX] = 0;
}

static void exec_sysenter(struct soft_cpu *cpu)
{
	u16 cs = (u16)cpu->s.sysenter_cs;

	if (!cpu->pe || !(cs & ~3u))
		cpu_fault(cpu, EXC_GP, 0);
	cpu->s.eflags &= ~(FL_VM | FL_IF | FL_RF);
	cpu->s.seg[S_CS] = (struct x86_segment){
		cs & ~3u, 0, 0xffffffffu,
		SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | 0xb
	};
	cpu->s.seg[S_SS] = (struct x86_segment){
		(cs & ~3u) + 8, 0, 0xffffffffu,
		SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | 0x3
	};
	cpu->s.gpr[R_ESP] = (u32)cpu->s.sysenter_esp;
	cpu->s.eip = (u32)cpu->s.sysenter_eip;
	cpu_update_mode(cpu);
}

static void exec_sysexit(struct soft_cpu *cpu)
{
	u16 cs = (u16)cpu->s.sysenter_cs;

	if (!cpu->pe || cpu->vm86 || cpu->cpl || !(cs & ~3u))
		cpu_fault(cpu, EXC_GP, 0);
	cpu->s.seg[S_CS] = (struct x86_segment){
		(u16)((cs + 16) | 3), 0, 0xffffffffu,
		SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G |
			3 << SEG_ATTR_DPL_SHIFT | 0xb
	};
	cpu->s.seg[S_SS] = (struct x86_segment){
		(u16)((cs + 24) | 3), 0, 0xffffffffu,
		SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G |
			3 << SEG_ATTR_DPL_SHIFT | 0x3
	};
	cpu->s.gpr[R_ESP] = cpu->s.gpr[R_ECX];
	cpu->s.eip = cpu->s.gpr[R_EDX];
	cpu_update_mode(cpu);
}

static void exec_group15(struct soft_cpu *cpu, struct insn *in)
{
	if (in->mod == 3) {
		if (in->reg >= 5)
			return; /* LFENCE, MFENCE, SFENCE */
		undefined_opcode(cpu);
	}
	switch (in->reg) {
	case 0:
		fpu_fxsave(cpu, in->seg, cpu->ea);
		break;
	case 1:
		fpu_fxrstor(cpu, in->seg, cpu->ea);
		break;
	case 2: { /* LDMXCSR: reserved bits set -> #GP(0) */
		u32 v;

		sse_check(cpu);
		v = mem_read32(cpu, in->seg, cpu->ea);
		if (v & ~MXCSR_WRITABLE)
			cpu_fault(cpu, EXC_GP, 0);
		cpu->s.fpu.mxcsr = v;
		break;
	}
	case 3: /* STMXCSR */
		sse_check(cpu);
		mem_write32(cpu, in->seg, cpu->ea, cpu->s.fpu.mxcsr);
		break;
	case 7: /* CLFLUSH: caches are not modelled */
		mem_read8(cpu, in->seg, cpu->ea);
		break;
	default:
		undefined_opcode(cpu);
	}
}

static void exec_0f_misc(struct soft_cpu *cpu, struct insn *in);

void exec_0f(struct soft_cpu *cpu, struct insn *in)
{
	u8 op = (u8)in->op;

	/* The 286 knows only 0F 00-06. */
	if (is_286_or_older(cpu) && (op > 0x06 || in->op >= 0x200))
		undefined_opcode(cpu);
	if (sse_exec(cpu, in)) /* MMX, SSE-SSE4.2: sse.c */
		return;
	switch (op) {
	case 0x00:
		exec_group6(cpu, in);
		break;
	case 0x01:
		exec_group7(cpu, in);
		break;
	case 0x02:
	case 0x03:
		exec_lar_lsl(cpu, in);
		break;
	case 0x05:
		exec_syscall(cpu);
		break;
	case 0x07:
		exec_sysret(cpu, in->osize);
		break;
	case 0x06: /* CLTS */
		cpl0_or_fault(cpu);
		cpu->s.cr0 &= ~CR0_TS;
		break;
	case 0x08: /* INVD */
	case 0x09: /* WBINVD */
		cpl0_or_fault(cpu);
		break;
	case 0x0d:
	case 0x18 ... 0x1f: /* prefetch hints and multi-byte NOP */
		break;
	case 0x20 ... 0x23:
		exec_mov_cr_dr(cpu, in);
		break;
	case 0x30:
		cpl0_or_fault(cpu);
		wrmsr(cpu);
		break;
	case 0x31: /* RDTSC */
		if ((cpu->s.cr4 & CR4_TSD) && cpu->pe && cpu->cpl)
			cpu_fault(cpu, EXC_GP, 0);
		{
			u64 t = cpu_tsc(cpu);

			cpu->s.gpr[R_EAX] = (u32)t;
			cpu->s.gpr[R_EDX] = (u32)(t >> 32);
		}
		break;
	case 0x32:
		cpl0_or_fault(cpu);
		rdmsr(cpu);
		break;
	case 0x33:
		exec_rdpmc(cpu);
		break;
	case 0x34:
		exec_sysenter(cpu);
		break;
	case 0x35:
		exec_sysexit(cpu);
		break;
	case 0x40 ... 0x4f: { /* CMOVcc: the load happens either way */
		u64 v = rm_read(cpu, in, in->osize);

		if (cond_true(cpu, op & 0xf))
			reg_write(cpu, in->reg, v, in->osize);
		else if (in->osize == 4) /* a 32-bit CMOV zero-extends */
			cpu->s.gpr[in->reg] = (u32)cpu->s.gpr[in->reg];
		break;
	}
	case 0x80 ... 0x8f:
		if (cond_true(cpu, op & 0xf))
			jump_near(cpu, cpu->s.rip + in->imm, in->osize);
		break;
	case 0x90 ... 0x9f:
		rm_write(cpu, in, cond_true(cpu, op & 0xf), 1);
		break;
	default:
		exec_0f_misc(cpu, in);
		break;
	}
}

static void exec_0f_misc(struct soft_cpu *cpu, struct insn *in)
{
	u8 op = (u8)in->op;

	switch (op) {
	case 0xa0:
	case 0xa8:
		exec_push_seg(cpu, op == 0xa0 ? S_FS : S_GS, in->osize);
		break;
	case 0xa1:
	case 0xa9:
		exec_pop_seg(cpu, op == 0xa1 ? S_FS : S_GS, in->osize);
		break;
	case 0xa2:
		cpuid(cpu);
		break;
	case 0xa3:
		exec_bit_test(cpu, in, 0, reg_read(cpu, in->reg, in->osize),
			      false);
		break;
	case 0xab:
		exec_bit_test(cpu, in, 1, reg_read(cpu, in->reg, in->osize),
			      false);
		break;
	case 0xb3:
		exec_bit_test(cpu, in, 2, reg_read(cpu, in->reg, in->osize),
			      false);
		break;
	case 0xbb:
		exec_bit_test(cpu, in, 3, reg_read(cpu, in->reg, in->osize),
			      false);
		break;
	case 0xba:
		if (in->reg < 4)
			undefined_opcode(cpu);
		exec_bit_test(cpu, in, in->reg - 4, (u8)in->imm, true);
		break;
	case 0xa4:
	case 0xa5:
	case 0xac:
	case 0xad: {
		unsigned count = op & 1 ? (u8)cpu->s.gpr[R_ECX] : (u8)in->imm;

		rm_write(cpu, in,
			 alu_shld(cpu, rm_read(cpu, in, in->osize),
				  reg_read(cpu, in->reg, in->osize), count,
				  in->osize, op < 0xa8),
			 in->osize);
		break;
	}
	case 0xaf:
		reg_write(cpu, in->reg,
			  alu_imul2(cpu, reg_read(cpu, in->reg, in->osize),
				    rm_read(cpu, in, in->osize), in->osize),
			  in->osize);
		break;
	case 0xae:
		exec_group15(cpu, in);
		break;
	case 0xb0:
	case 0xb1:
		exec_cmpxchg(cpu, in);
		break;
	case 0xb2:
	case 0xb4:
	case 0xb5: {
		u64 off;
		u16 sel;

		if (in->mod == 3)
			undefined_opcode(cpu);
		off = mem_read_sz(cpu, in->seg, cpu->ea, in->osize);
		sel = mem_read16(cpu, in->seg, cpu->ea + in->osize);
		seg_load(cpu, op == 0xb2 ? S_SS : op == 0xb4 ? S_FS : S_GS,
			 sel);
		reg_write(cpu, in->reg, off, in->osize);
		break;
	}
	case 0xb6:
	case 0xb7:
	case 0xbe:
	case 0xbf:
		exec_movx(cpu, in);
		break;
	case 0xbc:
	case 0xbd:
		exec_bsf_bsr(cpu, in);
		break;
	case 0xc0:
	case 0xc1:
		exec_xadd(cpu, in);
		break;
	case 0xc7:
		exec_cmpxchg8b(cpu, in);
		break;
	case 0xc8 ... 0xcf: {
		u64 *r = &cpu->s.gpr[opcode_reg(in)];

		if (in->osize == 8)
			*r = __builtin_bswap64(*r);
		else if (in->osize == 4)
			*r = __builtin_bswap32((u32)*r);
		else
			reg_write(cpu, opcode_reg(in), 0, 2); /* undefined: zero */
		break;
	}
	default:
		undefined_opcode(cpu);
	}
}

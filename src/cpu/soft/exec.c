// SPDX-License-Identifier: MIT
/*
 * The one-byte opcode map (Intel SDM vol. 2, table A-2). Before exec()
 * runs, the engine has already advanced EIP past the instruction, so
 * relative jumps and pushed return addresses use cpu->s.rip.
 */
#include "cpu/soft/exec.h"

__attribute__((noreturn)) void undefined_opcode(struct soft_cpu *cpu)
{
	cpu_fault_noerr(cpu, EXC_UD);
}

void jump_near(struct soft_cpu *cpu, u64 target, unsigned osize)
{
	if (osize == 8) {
		/* 64-bit mode: no limit, the target must be canonical */
		if (!is_canonical(target))
			cpu_fault(cpu, EXC_GP, 0);
		cpu->s.rip = target;
		return;
	}
	target = osize == 2 ? (u16)target : (u32)target;
	if (!is_8086(cpu) && target > cpu->s.seg[S_CS].limit)
		cpu_fault(cpu, EXC_GP, 0);
	cpu->s.rip = target;
}

/* An instruction invalid in 64-bit mode (SDM vol. 2, appendix A "i64"). */
static void not_in_64bit(struct soft_cpu *cpu)
{
	if (cpu->code64)
		undefined_opcode(cpu);
}

bool cpl0_or_fault(struct soft_cpu *cpu)
{
	if (cpu->pe && cpu->cpl != 0)
		cpu_fault(cpu, EXC_GP, 0);
	return true;
}

/* I/O permission: IOPL, then the TSS bitmap (SDM vol. 1, 19.5). */
void io_check(struct soft_cpu *cpu, u16 port, unsigned size)
{
	const struct x86_segment *tr = &cpu->s.tr;
	u32 base;
	u16 bits;

	if (!cpu->pe || (!cpu->vm86 && cpu->cpl <= iopl(cpu)))
		return;
	/* Only a 32-bit TSS has a bitmap. */
	if ((tr->attr & 0xf) != 0xb || tr->limit < 0x67)
		cpu_fault(cpu, EXC_GP, 0);
	base = sys_read16(cpu, tr->base + 0x66);
	if (base + port / 8 + 1 > tr->limit)
		cpu_fault(cpu, EXC_GP, 0);
	bits = sys_read16(cpu, tr->base + base + port / 8);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		cpu_fault(cpu, EXC_GP, 0);
}

void exec_alu_rm(struct soft_cpu *cpu, struct insn *in)
{
	int op = (in->op >> 3) & 7;
	unsigned size = in->op & 1 ? in->osize : 1;
	u64 r;

	switch (in->op & 7) {
	case 0: /* r/m, reg */
	case 1:
		r = alu(cpu, op, rm_read(cpu, in, size),
			reg_read(cpu, in->reg, size), size);
		if (op != ALU_CMP)
			rm_write(cpu, in, r, size);
		break;
	case 2: /* reg, r/m */
	case 3:
		r = alu(cpu, op, reg_read(cpu, in->reg, size),
			rm_read(cpu, in, size), size);
		if (op != ALU_CMP)
			reg_write(cpu, in->reg, r, size);
		break;
	case 4: /* AL, imm8 */
	case 5: /* eAX, imm */
		r = alu(cpu, op, reg_read(cpu, R_EAX, size), in->imm, size);
		if (op != ALU_CMP)
			reg_write(cpu, R_EAX, r, size);
		break;
	}
}

static void exec_group1(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op == 0x81 || in->op == 0x83 ? in->osize : 1;
	u64 imm = in->imm;
	u64 r;

	if (in->op == 0x82)
		not_in_64bit(cpu);
	if (in->op == 0x83)
		imm = (u64)(s64)(s8)imm;
	r = alu(cpu, in->reg, rm_read(cpu, in, size), imm, size);
	if (in->reg != ALU_CMP)
		rm_write(cpu, in, r, size);
}

static void exec_shift_group(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op & 1 ? in->osize : 1;
	unsigned count;
	u64 v = rm_read(cpu, in, size);

	switch (in->op) {
	case 0xd0:
	case 0xd1:
		count = 1;
		break;
	case 0xd2:
	case 0xd3:
		count = (u8)cpu->s.gpr[R_ECX];
		break;
	default:
		count = (u8)in->imm;
		break;
	}
	if (in->reg == 6 && is_8086(cpu)) {
		/* SETMO/SETMOC: all ones when the count is non-zero. */
		if (!count)
			return;
		v = size_mask(size);
		flags_szp(cpu, v, size);
		cpu->s.eflags &= ~(FL_CF | FL_OF | FL_AF);
	} else {
		v = alu_shift(cpu, in->reg == 6 ? SH_SHL : in->reg, v, count,
			      size);
	}
	rm_write(cpu, in, v, size);
}

static void exec_group3(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op & 1 ? in->osize : 1;
	u64 v = rm_read(cpu, in, size);

	switch (in->reg) {
	case 0:
	case 1: /* TEST (/1 is an undocumented alias) */
		alu(cpu, ALU_AND, v, in->imm, size);
		break;
	case 2:
		rm_write(cpu, in, ~v & size_mask(size), size);
		break;
	case 3:
		rm_write(cpu, in, alu_neg(cpu, v, size), size);
		break;
	case 4:
	case 5:
		alu_mul(cpu, v, size, in->reg == 5);
		if (is_8086(cpu) && in->rep)
			alu_mul_negate_8086(cpu, size);
		break;
	default:
		alu_div(cpu, v, size, in->reg == 7);
		break;
	}
}

static void exec_incdec_group(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op == 0xfe ? 1 : in->osize;
	u64 v, target;
	u16 sel;

	if (in->op == 0xfe && in->reg > 1) {
		if (!is_8086(cpu))
			undefined_opcode(cpu);
		/* 8086: FE /2-/7 operate on a byte as FF does on a word. */
		size = 1;
	}
	switch (in->reg) {
	case 0:
		rm_write(cpu, in, alu_inc(cpu, rm_read(cpu, in, size), size),
			 size);
		break;
	case 1:
		rm_write(cpu, in, alu_dec(cpu, rm_read(cpu, in, size), size),
			 size);
		break;
	case 2: /* CALL near r/m */
		target = rm_read(cpu, in, in->osize);
		push_sz(cpu, cpu->s.rip, in->osize);
		jump_near(cpu, target, in->osize);
		break;
	case 4: /* JMP near r/m */
		jump_near(cpu, rm_read(cpu, in, in->osize), in->osize);
		break;
	case 3: /* CALL far m16:16/32 */
	case 5: /* JMP far */
		if (in->mod == 3) {
			if (!is_8086(cpu))
				undefined_opcode(cpu);
			/* 8086: the "pointer" comes from the last address. */
			cpu->ea = 4;
		}
		target = mem_read_sz(cpu, in->seg, cpu->ea, in->osize);
		sel = mem_read16(cpu, in->seg,
				 (cpu->ea + in->osize) &
					 (in->asize == 2 ? 0xffff : ~0ull));
		if (in->reg == 3)
			far_call(cpu, sel, (u32)target, in->osize, cpu->s.rip);
		else
			far_jump(cpu, sel, target, in->osize);
		break;
	default: /* 6, and 7 as its alias: PUSH r/m */
		v = rm_read(cpu, in, in->osize);
		if (is_8086(cpu) && in->mod == 3 && in->rm == R_ESP)
			v -= 2; /* the 8086 pushes the decremented SP */
		push_sz(cpu, v, in->osize);
		break;
	}
}

void exec_push_seg(struct soft_cpu *cpu, int seg, unsigned osize)
{
	u16 sel = cpu->s.seg[seg].selector;

	/* A 32-bit push of a segment register writes only 16 bits. */
	if (osize >= 4) {
		u64 sp = stack_sp(cpu) - osize;

		if (!cpu->code64)
			sp &= cpu->stack32 ? ~0u : 0xffffu;
		mem_write16(cpu, S_SS, sp, sel);
		stack_set_sp(cpu, sp);
	} else {
		push16(cpu, sel);
	}
}

void exec_pop_seg(struct soft_cpu *cpu, int seg, unsigned osize)
{
	u64 sp = stack_sp(cpu);
	u16 sel = mem_read16(cpu, S_SS, sp);
	u64 old_esp = cpu->s.gpr[R_ESP];
	u64 new_esp;

	/*
	 * The increment uses the stack width of the SS the value was popped
	 * from: POP SS into a 32-bit segment from a 16-bit one moves SP only
	 * (test386 POST 0x09). Computed before the load, which may fault.
	 */
	stack_set_sp(cpu, sp + osize);
	new_esp = cpu->s.gpr[R_ESP];
	cpu->s.gpr[R_ESP] = old_esp;
	seg_load(cpu, seg, sel);
	cpu->s.gpr[R_ESP] = new_esp;
	if (seg == S_SS)
		cpu->inhibit_irq = true;
}

static void exec_pusha(struct soft_cpu *cpu, unsigned osize)
{
	u32 sp = cpu->s.gpr[R_ESP];
	unsigned r;

	for (r = 0; r < 8; r++)
		push_sz(cpu, r == R_ESP ? sp : cpu->s.gpr[r], osize);
}

static void exec_popa(struct soft_cpu *cpu, unsigned osize)
{
	int r;

	for (r = 7; r >= 0; r--) {
		u64 v = pop_sz(cpu, osize);

		if (r != R_ESP)
			reg_write(cpu, (unsigned)r, v, osize);
	}
}

/*
 * ARPL r/m16, r16 (SDM vol. 2, ARPL): raise the RPL of the destination
 * selector to the source's, ZF saying whether it changed. Protected
 * mode only: #UD in real and virtual-8086 mode.
 */
static void exec_arpl(struct soft_cpu *cpu, struct insn *in)
{
	u16 dst, src;

	if (!cpu->pe || cpu->vm86)
		undefined_opcode(cpu);
	dst = (u16)rm_read(cpu, in, 2);
	src = (u16)reg_read(cpu, in->reg, 2);
	set_flag(cpu, FL_ZF, (dst & 3) < (src & 3));
	if ((dst & 3) < (src & 3))
		rm_write(cpu, in, (dst & ~3u) | (src & 3), 2);
}

static void exec_bound(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->osize;
	s32 idx, lo, hi;

	if (in->mod == 3)
		undefined_opcode(cpu);
	if (size == 2) {
		idx = (s16)reg_read(cpu, in->reg, 2);
		lo = (s16)mem_read16(cpu, in->seg, cpu->ea);
		/* The upper bound wraps at 64 KiB with 16-bit addresses only. */
		hi = (s16)mem_read16(cpu, in->seg,
				     in->asize == 2 ? (cpu->ea + 2) & 0xffff :
						      cpu->ea + 2);
	} else {
		idx = (s32)cpu->s.gpr[in->reg];
		lo = (s32)mem_read32(cpu, in->seg, cpu->ea);
		hi = (s32)mem_read32(cpu, in->seg, cpu->ea + 4);
	}
	if (idx < lo || idx > hi)
		cpu_fault_noerr(cpu, EXC_BR);
}

static void exec_enter(struct soft_cpu *cpu, struct insn *in)
{
	unsigned osize = in->osize, level = in->imm2 & 31, i;
	u64 bp = cpu->s.gpr[R_EBP], frame;
	u64 spmask = cpu->code64 ? ~0ull : cpu->stack32 ? ~0u : 0xffffu;
	u64 bytes = osize * (level ? level + 1 : 1) + (u16)in->imm;
	u64 final = (stack_sp(cpu) - bytes) & spmask;

	/*
	 * ENTER faults before it changes anything when a write at the final
	 * stack pointer would (SDM vol. 2, ENTER, "Protected Mode
	 * Exceptions"; test386 POST 0x1A): probe it first.
	 */
	if (cpu->pe) {
		u64 lin = seg_linear(cpu, S_SS, final, 1, true);

		if (cpu->s.cr0 & CR0_PG)
			mmu_translate(
				cpu, lin,
				ACC_WRITE | (user_access(cpu) ? ACC_USER : 0));
	}
	push_sz(cpu, bp, osize);
	frame = stack_sp(cpu);
	for (i = 1; i < level; i++) {
		bp = (bp - osize) & spmask;
		push_sz(cpu, mem_read_sz(cpu, S_SS, bp, osize), osize);
	}
	/*
	 * The frame pointer pushed is all of ESP even with a 16-bit stack
	 * (ESP's upper half kept): what a 386 does (test386 POST 0x1A).
	 */
	if (level)
		push_sz(cpu, (cpu->s.gpr[R_ESP] & ~spmask) | frame, osize);
	reg_write(cpu, R_EBP, frame, cpu->code64 ? 8 : cpu->stack32 ? 4 : 2);
	stack_set_sp(cpu, (stack_sp(cpu) - (u16)in->imm) & spmask);
}

static void exec_leave(struct soft_cpu *cpu, unsigned osize)
{
	u64 bp = cpu->code64	? cpu->s.gpr[R_EBP] :
		 cpu->stack32 ? (u32)cpu->s.gpr[R_EBP] :
				(u16)cpu->s.gpr[R_EBP];
	u64 v = mem_read_sz(cpu, S_SS, bp, osize);

	stack_set_sp(cpu, bp + osize);
	reg_write(cpu, R_EBP, v, osize);
}

static void exec_io(struct soft_cpu *cpu, struct insn *in)
{
	bool dx = in->op & 8, out = in->op & 2;
	unsigned size = in->op & 1 ? in->osize : 1;
	u16 port = dx ? (u16)cpu->s.gpr[R_EDX] : (u8)in->imm;

	io_check(cpu, port, size);
	if (!out && pio_is_regs_port(cpu->env.pio, port, size)) {
		/*
		 * VMware's backdoor: the device reads and sets the eight
		 * 32-bit registers (a 32-bit write zero-extends, as in
		 * 64-bit mode).
		 */
		u32 regs[8];
		unsigned i;

		for (i = 0; i < 8; i++)
			regs[i] = (u32)cpu->s.gpr[i];
		cpu->env.pio->regs_fn(cpu->env.pio->regs_opaque, regs);
		for (i = 0; i < 8; i++)
			cpu->s.gpr[i] = regs[i];
		return;
	}
	if (out)
		pio_write(cpu->env.pio, port, reg_read(cpu, R_EAX, size), size);
	else
		reg_write(cpu, R_EAX, pio_read(cpu->env.pio, port, size), size);
}

static void exec_xchg(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op & 1 ? in->osize : 1;
	u64 a = rm_read(cpu, in, size);

	rm_write(cpu, in, reg_read(cpu, in->reg, size), size);
	reg_write(cpu, in->reg, a, size);
}

static void exec_mov_sreg(struct soft_cpu *cpu, struct insn *in)
{
	unsigned sreg = in->reg;

	if (is_8086(cpu))
		sreg &= 3; /* the 8086 ignores bit 2 of the sreg field */
	else if (is_286_or_older(cpu) && sreg > S_DS)
		undefined_opcode(cpu);
	if (sreg > S_GS)
		undefined_opcode(cpu);
	if (in->op == 0x8c) {
		/* To a register, a 32-bit operand zero-extends. */
		if (in->mod == 3)
			reg_write(cpu, in->rm, cpu->s.seg[sreg].selector,
				  in->osize);
		else
			mem_write16(cpu, in->seg, cpu->ea,
				    cpu->s.seg[sreg].selector);
		return;
	}
	if (sreg == S_CS) {
		if (!is_8086(cpu))
			undefined_opcode(cpu);
		seg_load_real(cpu, S_CS, (u16)rm_read(cpu, in, 2));
		return;
	}
	seg_load(cpu, (int)sreg, (u16)rm_read(cpu, in, 2));
	if (sreg == S_SS)
		cpu->inhibit_irq = true;
}

static void exec_load_far_ptr(struct soft_cpu *cpu, struct insn *in, int seg)
{
	u64 off;
	u16 sel;

	if (in->mod == 3) {
		if (!is_8086(cpu))
			undefined_opcode(cpu);
		cpu->ea = 4;
	}
	off = mem_read_sz(cpu, in->seg, cpu->ea, in->osize);
	sel = mem_read16(cpu, in->seg, (cpu->ea + in->osize) &
					       (in->asize == 2 ? 0xffff : ~0ull));
	seg_load(cpu, seg, sel);
	reg_write(cpu, in->reg, off, in->osize);
}

static void exec_int(struct soft_cpu *cpu, int vector)
{
	if (vme_int_redirect(cpu, vector))
		return;
	if (cpu->vm86 && iopl(cpu) < 3)
		cpu_fault(cpu, EXC_GP, 0);
	cpu_deliver_interrupt(cpu, vector, true, false, 0, cpu->s.rip);
}

static void exec_pushf(struct soft_cpu *cpu, unsigned osize)
{
	if (vme_active(cpu)) {
		vme_pushf(cpu, osize);
		return;
	}
	if (cpu->vm86 && iopl(cpu) < 3)
		cpu_fault(cpu, EXC_GP, 0);
	/* VM and RF read as zero in the pushed image. */
	push_sz(cpu, read_eflags(cpu) & ~(FL_VM | FL_RF), osize);
}

static void exec_popf(struct soft_cpu *cpu, unsigned osize)
{
	u32 v, mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_IF | FL_IOPL;


	if (vme_active(cpu)) {
		vme_popf(cpu, osize);
		return;
	}
	if (cpu->vm86 && iopl(cpu) < 3)
		cpu_fault(cpu, EXC_GP, 0);
	v = (u32)pop_sz(cpu, osize);
	if (osize >= 4)
		mask |= FL_AC | FL_ID;
	if (cpu->pe && cpu->cpl > 0)
		mask &= ~FL_IOPL;
	if (cpu->pe && cpu->cpl > iopl(cpu))
		mask &= ~FL_IF;
	load_eflags(cpu, v, mask);
}

static void exec_hlt(struct soft_cpu *cpu)
{
	cpl0_or_fault(cpu);
	cpu->s.halted = true;
}

static void exec_cli_sti(struct soft_cpu *cpu, bool set)
{
	if (cpu->pe && (cpu->vm86 ? iopl(cpu) < 3 : cpu->cpl > iopl(cpu))) {
		if (vme_cli_sti(cpu, set))
			return;
		cpu_fault(cpu, EXC_GP, 0);
	}
	if (set && !get_flag(cpu, FL_IF))
		cpu->inhibit_irq = true;
	set_flag(cpu, FL_IF, set);
}

static void exec_imul3(struct soft_cpu *cpu, struct insn *in)
{
	u64 imm = in->op == 0x6b ? (u64)(s64)(s8)in->imm : in->imm;

	reg_write(cpu, in->reg,
		  alu_imul2(cpu, rm_read(cpu, in, in->osize), imm, in->osize),
		  in->osize);
}

static void exec_loop(struct soft_cpu *cpu, struct insn *in)
{
	u64 rel = (u64)(s64)(s8)in->imm;
	u64 count;
	bool take;

	if (in->op == 0xe3) { /* JCXZ / JECXZ / JRCXZ */
		count = reg_read(cpu, R_ECX, in->asize);
		take = !count;
	} else {
		count = reg_read(cpu, R_ECX, in->asize) - 1;
		reg_write(cpu, R_ECX, count, in->asize);
		count &= size_mask(in->asize);
		take = count != 0;
		if (in->op == 0xe0)
			take = take && !get_flag(cpu, FL_ZF);
		else if (in->op == 0xe1)
			take = take && get_flag(cpu, FL_ZF);
	}
	if (take)
		jump_near(cpu, cpu->s.rip + rel, in->osize);
}

static void exec_xlat(struct soft_cpu *cpu, struct insn *in)
{
	u64 off = cpu->s.gpr[R_EBX] + (u8)cpu->s.gpr[R_EAX];

	off &= size_mask(in->asize);
	reg8_write(cpu, 0, mem_read8(cpu, in->seg, off));
}

static void exec_cwd_cbw(struct soft_cpu *cpu, struct insn *in)
{
	u64 *a = &cpu->s.gpr[R_EAX];

	if (in->op == 0x98) { /* CBW, CWDE, CDQE */
		if (in->osize == 2)
			*a = (*a & ~(u64)0xffff) | (u16)(s16)(s8)*a;
		else if (in->osize == 4)
			*a = (u32)(s32)(s16)*a;
		else
			*a = (u64)(s64)(s32)*a;
	} else { /* CWD, CDQ, CQO */
		if (in->osize == 2)
			reg_write(cpu, R_EDX, (s16)*a < 0 ? 0xffff : 0, 2);
		else if (in->osize == 4)
			cpu->s.gpr[R_EDX] = (s32)*a < 0 ? ~0u : 0;
		else
			cpu->s.gpr[R_EDX] = (s64)*a < 0 ? ~0ull : 0;
	}
}

static void exec_flags_misc(struct soft_cpu *cpu, u16 op)
{
	u32 f;

	switch (op) {
	case 0x9e: /* SAHF */
		flags_sync(cpu);
		f = (cpu->s.gpr[R_EAX] >> 8) & (FL_SF | FL_ZF | FL_AF | FL_PF |
						FL_CF);
		cpu->s.eflags = (cpu->s.eflags & ~(FL_SF | FL_ZF | FL_AF |
						   FL_PF | FL_CF)) | f;
		break;
	case 0x9f: /* LAHF */
		reg8_write(cpu, 4, (u8)(read_eflags(cpu) & 0xd7) | 2);
		break;
	case 0xf5:
		flags_sync(cpu);
		cpu->s.eflags ^= FL_CF;
		break;
	case 0xf8:
		set_flag(cpu, FL_CF, false);
		break;
	case 0xf9:
		set_flag(cpu, FL_CF, true);
		break;
	case 0xfc:
		set_flag(cpu, FL_DF, false);
		break;
	case 0xfd:
		set_flag(cpu, FL_DF, true);
		break;
	case 0xd6: /* SALC: AL = CF ? 0xFF : 0 (undocumented) */
		not_in_64bit(cpu);
		reg8_write(cpu, 0, get_flag(cpu, FL_CF) ? 0xff : 0);
		break;
	}
}

static void exec_ret(struct soft_cpu *cpu, struct insn *in)
{
	u64 target = pop_sz(cpu, in->osize);

	if (in->op == 0xc2)
		stack_set_sp(cpu, stack_sp(cpu) + (u16)in->imm);
	jump_near(cpu, target, in->osize);
}

static void exec_misc(struct soft_cpu *cpu, struct insn *in);

/*
 * LOCK is allowed only on read-modify-write instructions with a memory
 * destination; elsewhere it is #UD (SDM vol. 2, LOCK). The 8086 and the
 * 286 take it anywhere.
 */
static bool lock_allowed(const struct soft_cpu *cpu, const struct insn *in)
{
	if (is_286_or_older(cpu))
		return true;
	if (!in->has_modrm || in->mod == 3)
		return false;
	switch (in->op) {
	case 0x00 ... 0x01: /* ADD, OR, ADC, SBB, AND, SUB, XOR r/m, reg */
	case 0x08 ... 0x09:
	case 0x10 ... 0x11:
	case 0x18 ... 0x19:
	case 0x20 ... 0x21:
	case 0x28 ... 0x29:
	case 0x30 ... 0x31:
	case 0x86 ... 0x87: /* XCHG */
	case 0x1ab: /* BTS */
	case 0x1b3: /* BTR */
	case 0x1bb: /* BTC */
	case 0x1b0 ... 0x1b1: /* CMPXCHG */
	case 0x1c0 ... 0x1c1: /* XADD */
		return true;
	case 0x80 ... 0x83:
		return in->reg != ALU_CMP;
	case 0xf6 ... 0xf7: /* NOT, NEG */
		return in->reg == 2 || in->reg == 3;
	case 0xfe ... 0xff: /* INC, DEC */
		return in->reg < 2;
	case 0x1ba: /* BTS, BTR, BTC imm8 */
		return in->reg >= 5;
	case 0x1c7: /* CMPXCHG8B */
		return in->reg == 1;
	default:
		return false;
	}
}

void exec(struct soft_cpu *cpu, struct insn *in)
{
	u16 op = in->op;
	unsigned size;

	if (unlikely(in->lock) && !lock_allowed(cpu, in))
		undefined_opcode(cpu);
	cpu->rex_byte = in->rex != 0;

	if (in->has_modrm && in->mod != 3)
		cpu->ea = ea_compute(cpu, in);
	else if (!in->has_modrm)
		cpu->ea = in->disp; /* moffs forms */

	if (op >= 0x100) {
		exec_0f(cpu, in);
		return;
	}
	if (op < 0x40 && (op & 7) < 6) {
		exec_alu_rm(cpu, in);
		return;
	}
	switch (op) {
	case 0x06:
	case 0x0e:
	case 0x16:
	case 0x1e:
		not_in_64bit(cpu);
		exec_push_seg(cpu, op >> 3, in->osize);
		break;
	case 0x07:
	case 0x17:
	case 0x1f:
		not_in_64bit(cpu);
		exec_pop_seg(cpu, op >> 3, in->osize);
		break;
	case 0x0f: /* 8086: POP CS */
		seg_load_real(cpu, S_CS, pop16(cpu));
		break;
	case 0x27:
		not_in_64bit(cpu);
		alu_daa(cpu);
		break;
	case 0x2f:
		not_in_64bit(cpu);
		alu_das(cpu);
		break;
	case 0x37:
		not_in_64bit(cpu);
		alu_aaa(cpu);
		break;
	case 0x3f:
		not_in_64bit(cpu);
		alu_aas(cpu);
		break;
	case 0x40 ... 0x47:
		reg_write(cpu, op & 7,
			  alu_inc(cpu, reg_read(cpu, op & 7, in->osize),
				  in->osize),
			  in->osize);
		break;
	case 0x48 ... 0x4f:
		reg_write(cpu, op & 7,
			  alu_dec(cpu, reg_read(cpu, op & 7, in->osize),
				  in->osize),
			  in->osize);
		break;
	case 0x50 ... 0x57:
		if ((op & 7) == R_ESP && is_8086(cpu))
			push_sz(cpu, (u16)(cpu->s.gpr[R_ESP] - 2), 2);
		else
			push_sz(cpu, cpu->s.gpr[opcode_reg(in)], in->osize);
		break;
	case 0x58 ... 0x5f:
		reg_write(cpu, opcode_reg(in), pop_sz(cpu, in->osize),
			  in->osize);
		break;
	case 0x60:
		not_in_64bit(cpu);
		exec_pusha(cpu, in->osize);
		break;
	case 0x61:
		not_in_64bit(cpu);
		exec_popa(cpu, in->osize);
		break;
	case 0x62:
		not_in_64bit(cpu);
		exec_bound(cpu, in);
		break;
	case 0x63:
		if (cpu->code64) /* MOVSXD */
			reg_write(cpu, in->reg,
				  (u64)(s64)(s32)rm_read(cpu, in, 4),
				  in->osize);
		else
			exec_arpl(cpu, in);
		break;
	case 0x68:
		push_sz(cpu, in->imm, in->osize);
		break;
	case 0x6a:
		push_sz(cpu, (u64)(s64)(s8)in->imm, in->osize);
		break;
	case 0x69:
	case 0x6b:
		exec_imul3(cpu, in);
		break;
	case 0x6c ... 0x6f:
	case 0xa4 ... 0xa7:
	case 0xaa ... 0xaf:
		exec_string(cpu, in);
		break;
	case 0x70 ... 0x7f:
		if (cond_true(cpu, op & 0xf))
			jump_near(cpu, cpu->s.rip + (u64)(s64)(s8)in->imm,
				  in->osize);
		break;
	case 0x80 ... 0x83:
		exec_group1(cpu, in);
		break;
	case 0x84:
	case 0x85:
		size = op & 1 ? in->osize : 1;
		alu(cpu, ALU_AND, rm_read(cpu, in, size),
		    reg_read(cpu, in->reg, size), size);
		break;
	case 0x86:
	case 0x87:
		exec_xchg(cpu, in);
		break;
	case 0x88:
	case 0x89:
		size = op & 1 ? in->osize : 1;
		rm_write(cpu, in, reg_read(cpu, in->reg, size), size);
		break;
	case 0x8a:
	case 0x8b:
		size = op & 1 ? in->osize : 1;
		reg_write(cpu, in->reg, rm_read(cpu, in, size), size);
		break;
	case 0x8c:
	case 0x8e:
		exec_mov_sreg(cpu, in);
		break;
	case 0x8d: /* LEA */
		if (in->mod == 3) {
			if (!is_8086(cpu))
				undefined_opcode(cpu);
			break; /* 8086: register form leaves it unchanged */
		}
		reg_write(cpu, in->reg, cpu->ea, in->osize);
		break;
	case 0x8f: { /* POP r/m: ESP is incremented before the EA is used */
		u64 v;

		if (in->reg && !is_8086(cpu))
			undefined_opcode(cpu);
		v = pop_sz(cpu, in->osize);

		if (in->mod != 3)
			cpu->ea = ea_compute(cpu, in);
		rm_write(cpu, in, v, in->osize);
		break;
	}
	case 0x90: /* NOP, and PAUSE with F3 */
		if (!(in->rex & 1))
			break;
		__attribute__((fallthrough)); /* REX.B 90: XCHG R8, rAX */
	case 0x91 ... 0x97: {
		u64 t = reg_read(cpu, opcode_reg(in), in->osize);

		reg_write(cpu, opcode_reg(in), reg_read(cpu, R_EAX, in->osize),
			  in->osize);
		reg_write(cpu, R_EAX, t, in->osize);
		break;
	}
	case 0x98:
	case 0x99:
		exec_cwd_cbw(cpu, in);
		break;
	case 0x9a:
		not_in_64bit(cpu);
		far_call(cpu, (u16)in->imm2, (u32)in->imm, in->osize,
			 cpu->s.eip);
		break;
	case 0x9b: /* WAIT */
		fpu_fwait(cpu);
		break;
	case 0x9c:
		exec_pushf(cpu, in->osize);
		break;
	case 0x9d:
		exec_popf(cpu, in->osize);
		break;
	default:
		exec_misc(cpu, in);
		break;
	}
}

static void exec_moffs(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op & 1 ? in->osize : 1;

	if (in->op < 0xa2)
		reg_write(cpu, R_EAX, mem_read_sz(cpu, in->seg, in->disp, size),
			  size);
	else
		mem_write_sz(cpu, in->seg, in->disp,
			     reg_read(cpu, R_EAX, size), size);
}

static void exec_misc(struct soft_cpu *cpu, struct insn *in)
{
	u16 op = in->op;
	unsigned size;

	switch (op) {
	case 0x9e:
	case 0x9f:
	case 0xd6:
	case 0xf5:
	case 0xf8:
	case 0xf9:
	case 0xfc:
	case 0xfd:
		exec_flags_misc(cpu, op);
		break;
	case 0xa0 ... 0xa3:
		exec_moffs(cpu, in);
		break;
	case 0xa8:
	case 0xa9:
		size = op & 1 ? in->osize : 1;
		alu(cpu, ALU_AND, reg_read(cpu, R_EAX, size), in->imm, size);
		break;
	case 0xb0 ... 0xb7:
		reg8_write(cpu, opcode_reg(in), (u8)in->imm);
		break;
	case 0xb8 ... 0xbf:
		reg_write(cpu, opcode_reg(in), in->imm, in->osize);
		break;
	case 0xc0:
	case 0xc1:
	case 0xd0 ... 0xd3:
		exec_shift_group(cpu, in);
		break;
	case 0xc2:
	case 0xc3:
		exec_ret(cpu, in);
		break;
	case 0xc4: /* in 64-bit mode: VEX, and no AVX here */
		not_in_64bit(cpu);
		exec_load_far_ptr(cpu, in, S_ES);
		break;
	case 0xc5:
		not_in_64bit(cpu);
		exec_load_far_ptr(cpu, in, S_DS);
		break;
	case 0xc6:
	case 0xc7:
		/* /1-/7 are undefined: the 8086 treats them as /0. */
		if (in->reg && !is_8086(cpu))
			undefined_opcode(cpu);
		rm_write(cpu, in, in->imm, op & 1 ? in->osize : 1);
		break;
	case 0xc8:
		exec_enter(cpu, in);
		break;
	case 0xc9:
		exec_leave(cpu, in->osize);
		break;
	case 0xca:
	case 0xcb:
		far_return(cpu, in->osize, op == 0xca ? (u16)in->imm : 0);
		break;
	case 0xcc:
		exec_int(cpu, EXC_BP);
		break;
	case 0xcd:
		exec_int(cpu, (u8)in->imm);
		break;
	case 0xce:
		not_in_64bit(cpu);
		if (get_flag(cpu, FL_OF))
			exec_int(cpu, EXC_OF);
		break;
	case 0xcf:
		iret(cpu, in->osize);
		break;
	case 0xd4:
		not_in_64bit(cpu);
		alu_aam(cpu, (u8)in->imm);
		break;
	case 0xd5:
		not_in_64bit(cpu);
		alu_aad(cpu, (u8)in->imm);
		break;
	case 0xd7:
		exec_xlat(cpu, in);
		break;
	case 0xd8 ... 0xdf:
		fpu_exec(cpu, in);
		break;
	case 0xe0 ... 0xe3:
		exec_loop(cpu, in);
		break;
	case 0xe4 ... 0xe7:
	case 0xec ... 0xef:
		exec_io(cpu, in);
		break;
	case 0xe8:
		push_sz(cpu, cpu->s.rip, in->osize);
		jump_near(cpu, cpu->s.rip + in->imm, in->osize);
		break;
	case 0xe9:
		jump_near(cpu, cpu->s.rip + in->imm, in->osize);
		break;
	case 0xea:
		not_in_64bit(cpu);
		far_jump(cpu, (u16)in->imm2, (u32)in->imm, in->osize);
		break;
	case 0xeb:
		jump_near(cpu, cpu->s.rip + (u64)(s64)(s8)in->imm, in->osize);
		break;
	case 0xf1: /* INT1 / ICEBP */
		cpu_deliver_interrupt(cpu, EXC_DB, false, false, 0, cpu->s.rip);
		break;
	case 0xf4:
		exec_hlt(cpu);
		break;
	case 0xf6:
	case 0xf7:
		exec_group3(cpu, in);
		break;
	case 0xfa:
		exec_cli_sti(cpu, false);
		break;
	case 0xfb:
		exec_cli_sti(cpu, true);
		break;
	case 0xfe:
	case 0xff:
		exec_incdec_group(cpu, in);
		break;
	default:
		undefined_opcode(cpu);
	}
}

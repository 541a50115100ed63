/* SPDX-License-Identifier: MIT */
/* Operand access shared by the instruction executors. */
#ifndef TWOOSTWO_CPU_SOFT_EXEC_H
#define TWOOSTWO_CPU_SOFT_EXEC_H

#include "cpu/soft/alu.h"

/*
 * Offset of the ModR/M memory operand (or moffs) within its segment. In
 * 64-bit mode the displacement is sign-extended and RIP-relative operands
 * count from the next instruction, where RIP already points.
 */
static inline u64 ea_compute(const struct soft_cpu *cpu, const struct insn *in)
{
	u64 ea;

	if (likely(in->asize != 8)) {
		u32 ea32 = in->disp;

		if (unlikely(in->base == BASE_RIP)) /* 67h in 64-bit mode */
			ea32 += (u32)cpu->s.rip;
		else if (in->base >= 0)
			ea32 += (u32)cpu->s.gpr[in->base];
		if (in->index >= 0)
			ea32 += (u32)cpu->s.gpr[in->index] << in->scale;
		return in->asize == 2 ? (ea32 & 0xffff) : ea32;
	}
	ea = (u64)(s64)(s32)in->disp;
	if (in->base == BASE_RIP)
		ea += cpu->s.rip;
	else if (in->base >= 0)
		ea += cpu->s.gpr[in->base];
	if (in->index >= 0)
		ea += cpu->s.gpr[in->index] << in->scale;
	return ea;
}

static inline u64 rm_read(struct soft_cpu *cpu, const struct insn *in,
			  unsigned size)
{
	if (in->mod == 3)
		return reg_read(cpu, in->rm, size);
	return mem_read_sz(cpu, in->seg, cpu->ea, size);
}

static inline void rm_write(struct soft_cpu *cpu, const struct insn *in, u64 v,
			    unsigned size)
{
	if (in->mod == 3)
		reg_write(cpu, in->rm, v, size);
	else
		mem_write_sz(cpu, in->seg, cpu->ea, v, size);
}

/* The register in an opcode's low three bits, extended by REX.B. */
static inline unsigned opcode_reg(const struct insn *in)
{
	return (in->op & 7) | (in->rex & 1) << 3;
}

void jump_near(struct soft_cpu *cpu, u64 target, unsigned osize);
/* ADD...CMP in their r/m,reg / reg,r/m / eAX,imm forms (opcodes 00-3D). */
void exec_alu_rm(struct soft_cpu *cpu, struct insn *in);
/* PUSH/POP of a segment register (a 32-bit push writes 16 bits). */
void exec_push_seg(struct soft_cpu *cpu, int seg, unsigned osize);
void exec_pop_seg(struct soft_cpu *cpu, int seg, unsigned osize);
void io_check(struct soft_cpu *cpu, u16 port, unsigned size);
bool cpl0_or_fault(struct soft_cpu *cpu);
__attribute__((noreturn)) void undefined_opcode(struct soft_cpu *cpu);

#endif

/* SPDX-License-Identifier: MIT */
/* Operand access shared by the instruction executors. */
#ifndef TWOOSTWO_CPU_SOFT_EXEC_H
#define TWOOSTWO_CPU_SOFT_EXEC_H

#include "cpu/soft/alu.h"

/* Offset of the ModR/M memory operand (or moffs) within its segment. */
static inline u32 ea_compute(const struct soft_cpu *cpu, const struct insn *in)
{
	u32 ea = in->disp;

	if (in->base >= 0)
		ea += cpu->s.gpr[in->base];
	if (in->index >= 0)
		ea += cpu->s.gpr[in->index] << in->scale;
	return in->asize == 2 ? (ea & 0xffff) : ea;
}

static inline u32 rm_read(struct soft_cpu *cpu, const struct insn *in,
			  unsigned size)
{
	if (in->mod == 3)
		return reg_read(cpu, in->rm, size);
	return mem_read_sz(cpu, in->seg, cpu->ea, size);
}

static inline void rm_write(struct soft_cpu *cpu, const struct insn *in, u32 v,
			    unsigned size)
{
	if (in->mod == 3)
		reg_write(cpu, in->rm, v, size);
	else
		mem_write_sz(cpu, in->seg, cpu->ea, v, size);
}

void jump_near(struct soft_cpu *cpu, u32 target, unsigned osize);
/* ADD...CMP in their r/m,reg / reg,r/m / eAX,imm forms (opcodes 00-3D). */
void exec_alu_rm(struct soft_cpu *cpu, struct insn *in);
/* PUSH/POP of a segment register (a 32-bit push writes 16 bits). */
void exec_push_seg(struct soft_cpu *cpu, int seg, unsigned osize);
void exec_pop_seg(struct soft_cpu *cpu, int seg, unsigned osize);
void io_check(struct soft_cpu *cpu, u16 port, unsigned size);
bool cpl0_or_fault(struct soft_cpu *cpu);
__attribute__((noreturn)) void undefined_opcode(struct soft_cpu *cpu);

#endif

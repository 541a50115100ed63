// SPDX-License-Identifier: MIT
/*
 * The stack: SS-relative pushes and pops, 16-, 32- or 64-bit wide per the
 * operand size, with SP, ESP or RSP per the B bit of SS or 64-bit mode
 * (SDM vol. 1, 6.2; in 64-bit mode the stack is RSP, SS has no base and
 * the address must be canonical, else #SS(0)).
 */
#include "cpu/soft/cpu.h"

u64 stack_sp(struct soft_cpu *cpu)
{
	if (cpu->code64)
		return cpu->s.gpr[R_ESP];
	return cpu->stack32 ? (u32)cpu->s.gpr[R_ESP] : (u16)cpu->s.gpr[R_ESP];
}

void stack_set_sp(struct soft_cpu *cpu, u64 sp)
{
	if (cpu->code64)
		cpu->s.gpr[R_ESP] = sp;
	else if (cpu->stack32)
		cpu->s.gpr[R_ESP] = (u32)sp;
	else
		cpu->s.gpr[R_ESP] =
			(cpu->s.gpr[R_ESP] & ~(u64)0xffff) | (u16)sp;
}

void push_sz(struct soft_cpu *cpu, u64 v, unsigned size)
{
	u64 sp = stack_sp(cpu) - size;

	if (!cpu->stack32)
		sp &= 0xffff;
	else if (!cpu->code64)
		sp = (u32)sp;
	mem_write_sz(cpu, S_SS, sp, v, size);
	stack_set_sp(cpu, sp);
}

void push16(struct soft_cpu *cpu, u16 v)
{
	push_sz(cpu, v, 2);
}

void push32(struct soft_cpu *cpu, u32 v)
{
	push_sz(cpu, v, 4);
}

u64 pop_sz(struct soft_cpu *cpu, unsigned size)
{
	u64 sp = stack_sp(cpu);
	u64 v = mem_read_sz(cpu, S_SS, sp, size);

	stack_set_sp(cpu, sp + size);
	return v;
}

u16 pop16(struct soft_cpu *cpu)
{
	return (u16)pop_sz(cpu, 2);
}

u32 pop32(struct soft_cpu *cpu)
{
	return (u32)pop_sz(cpu, 4);
}

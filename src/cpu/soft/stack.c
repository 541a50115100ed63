// SPDX-License-Identifier: MIT
/*
 * The stack: SS-relative pushes and pops, 16- or 32-bit wide per the
 * operand size, with SP or ESP per the B bit of SS (SDM vol. 1, 6.2).
 */
#include "cpu/soft/cpu.h"

u32 stack_sp(struct soft_cpu *cpu)
{
	return cpu->stack32 ? cpu->s.gpr[R_ESP] : (u16)cpu->s.gpr[R_ESP];
}

void stack_set_sp(struct soft_cpu *cpu, u32 sp)
{
	if (cpu->stack32)
		cpu->s.gpr[R_ESP] = sp;
	else
		cpu->s.gpr[R_ESP] = (cpu->s.gpr[R_ESP] & ~0xffffu) | (u16)sp;
}

void push_sz(struct soft_cpu *cpu, u32 v, unsigned size)
{
	u32 sp = stack_sp(cpu) - size;

	if (!cpu->stack32)
		sp &= 0xffff;
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

u32 pop_sz(struct soft_cpu *cpu, unsigned size)
{
	u32 sp = stack_sp(cpu);
	u32 v = mem_read_sz(cpu, S_SS, sp, size);

	stack_set_sp(cpu, sp + size);
	return v;
}

u16 pop16(struct soft_cpu *cpu)
{
	return (u16)pop_sz(cpu, 2);
}

u32 pop32(struct soft_cpu *cpu)
{
	return pop_sz(cpu, 4);
}

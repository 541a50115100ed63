// SPDX-License-Identifier: MIT
/*
 * x87 FPU. Placeholder until the full x87 lands: the 8086 and 286 models
 * have no coprocessor (ESC opcodes decode their operand and do nothing);
 * the P6 model raises #NM/#UD.
 */
#include "cpu/soft/cpu.h"

void fpu_reset(struct soft_cpu *cpu)
{
	cpu->s.fpu = (struct x86_fpu_state){ .fcw = 0x37f, .ftw = 0xffff,
					     .mxcsr = 0x1f80 };
}

void fpu_exec(struct soft_cpu *cpu, struct insn *in)
{
	if (is_286_or_older(cpu))
		return;
	if (cpu->s.cr0 & (CR0_EM | CR0_TS))
		cpu_fault_noerr(cpu, EXC_NM);
	cpu_fault_noerr(cpu, EXC_UD);
}

void fpu_fwait(struct soft_cpu *cpu)
{
	(void)cpu;
}

void fpu_fxsave(struct soft_cpu *cpu, int seg, u32 off)
{
	cpu_fault_noerr(cpu, EXC_UD);
}

void fpu_fxrstor(struct soft_cpu *cpu, int seg, u32 off)
{
	cpu_fault_noerr(cpu, EXC_UD);
}

/* SPDX-License-Identifier: MIT */
/*
 * Arithmetic and logic with EFLAGS as the SDM defines them (vol. 1,
 * appendix A, and each instruction's "Flags Affected" section). The
 * common operations record their operands lazily (struct lazy_flags in
 * cpu.h); the rest compute flags at once, exact for the undefined-flag
 * behaviour the test suites record.
 */
#ifndef TWOOSTWO_CPU_SOFT_ALU_H
#define TWOOSTWO_CPU_SOFT_ALU_H

#include "cpu/soft/cpu.h"

enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR,
	      ALU_CMP };
enum shift_op { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL,
		SH_SAR };

void flags_szp(struct soft_cpu *cpu, u32 res, unsigned size);

/* Note an operation whose flags are computed when first read. */
static inline u32 lazy_record(struct soft_cpu *cpu, u8 op, u32 a, u32 b,
			      u32 carry, u32 res, unsigned size)
{
	cpu->lazy = (struct lazy_flags){ a, b, res, carry, op, (u8)size };
	return res;
}

u32 alu(struct soft_cpu *cpu, int op, u32 a, u32 b, unsigned size);
u32 alu_inc(struct soft_cpu *cpu, u32 a, unsigned size);
u32 alu_dec(struct soft_cpu *cpu, u32 a, unsigned size);
u32 alu_neg(struct soft_cpu *cpu, u32 a, unsigned size);
u32 alu_shift(struct soft_cpu *cpu, int op, u32 v, unsigned count,
	      unsigned size);
u32 alu_shld(struct soft_cpu *cpu, u32 dst, u32 src, unsigned count,
	     unsigned size, bool left);
void alu_mul(struct soft_cpu *cpu, u32 src, unsigned size, bool is_signed);
void alu_mul_negate_8086(struct soft_cpu *cpu, unsigned size);
void alu_div(struct soft_cpu *cpu, u32 src, unsigned size, bool is_signed);
u32 alu_imul2(struct soft_cpu *cpu, u32 a, u32 b, unsigned size);
void alu_daa(struct soft_cpu *cpu);
void alu_das(struct soft_cpu *cpu);
void alu_aaa(struct soft_cpu *cpu);
void alu_aas(struct soft_cpu *cpu);
void alu_aam(struct soft_cpu *cpu, u8 base);
void alu_aad(struct soft_cpu *cpu, u8 base);
bool cond_true(struct soft_cpu *cpu, unsigned cc);

#endif

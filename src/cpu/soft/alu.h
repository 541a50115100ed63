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

enum alu_op {
	ALU_ADD,
	ALU_OR,
	ALU_ADC,
	ALU_SBB,
	ALU_AND,
	ALU_SUB,
	ALU_XOR,
	ALU_CMP
};
enum shift_op {
	SH_ROL,
	SH_ROR,
	SH_RCL,
	SH_RCR,
	SH_SHL,
	SH_SHR,
	SH_SAL,
	SH_SAR
};

void flags_szp(struct soft_cpu *cpu, u64 res, unsigned size);

/* Note an operation whose flags are computed when first read. */
static inline u64 lazy_record(struct soft_cpu *cpu, u8 op, u64 a, u64 b,
			      u64 carry, u64 res, unsigned size)
{
	cpu->lazy = (struct lazy_flags){a, b, res, carry, op, (u8)size};
	return res;
}

static inline s64 alu_sign_extend(u64 v, unsigned size)
{
	return size == 1 ? (s8)v : size == 2 ? (s16)v : size == 4 ? (s32)v : (s64)v;
}

/*
 * IMUL r, r/m (and imm): CF = OF = overflow; SF, ZF, PF follow the result
 * and AF reads as 0 (all four undefined), recorded lazily like a shift.
 */
static inline u64 alu_imul2(struct soft_cpu *cpu, u64 a, u64 b, unsigned size)
{
	if (size == 8) {
		__int128 r = (__int128)(s64)a * (s64)b;
		u64 overflow = r != (__int128)(s64)(u64)r;

		return lazy_record(cpu, LAZY_SHIFT, 0, overflow, overflow,
				   (u64)r, 8);
	}
	s64 r = alu_sign_extend(a, size) * alu_sign_extend(b, size);
	u64 res = (u64)r & size_mask(size);
	u64 overflow = r != alu_sign_extend(res, size);

	return lazy_record(cpu, LAZY_SHIFT, 0, overflow, overflow, res, size);
}

/*
 * SHL/SHR/SAR by count (not 0): flags come from the last one-bit step, which is
 * how the hardware (and the recorded test data) defines them for counts
 * above 1.
 */
static inline u64 alu_shift_lazy(struct soft_cpu *cpu, int op, u64 v,
				 unsigned count, unsigned size)
{
	unsigned bits = 8 * size;
	u64 m = size_mask(size), msb = sign_bit(size);
	u64 prev, res;
	bool cf, of;

	if (op == SH_SAR) {
		s64 sv = (s64)((u64)(v & m) << (64 - bits)) >> (64 - bits);
		s64 p = count - 1 >= 63 ? sv >> 63 : sv >> (count - 1);

		prev = (u64)p & m;
		res = (u64)(p >> 1) & m;
		cf = p & 1;
		of = false;
	} else if (op == SH_SHR) {
		prev = count - 1 >= 64 ? 0 : (u64)(v & m) >> (count - 1);
		res = prev >> 1;
		cf = prev & 1;
		of = prev & msb;
	} else { /* SHL, SAL */
		prev = count - 1 >= 64 ? 0 : ((u64)(v & m) << (count - 1)) & m;
		res = (prev << 1) & m;
		cf = prev & msb;
		of = !!(res & msb) ^ cf;
	}
	/* Flags are computed when read; AF (undefined) then reads as 0. */
	return lazy_record(cpu, LAZY_SHIFT, 0, of, cf, res, size);
}

u64 alu(struct soft_cpu *cpu, int op, u64 a, u64 b, unsigned size);
u64 alu_inc(struct soft_cpu *cpu, u64 a, unsigned size);
u64 alu_dec(struct soft_cpu *cpu, u64 a, unsigned size);
u64 alu_neg(struct soft_cpu *cpu, u64 a, unsigned size);
u64 alu_shift(struct soft_cpu *cpu, int op, u64 v, unsigned count,
	      unsigned size);
u64 alu_shld(struct soft_cpu *cpu, u64 dst, u64 src, unsigned count,
	     unsigned size, bool left);
void alu_mul(struct soft_cpu *cpu, u64 src, unsigned size, bool is_signed);
void alu_mul_negate_8086(struct soft_cpu *cpu, unsigned size);
void alu_div(struct soft_cpu *cpu, u64 src, unsigned size, bool is_signed);
void alu_daa(struct soft_cpu *cpu);
void alu_das(struct soft_cpu *cpu);
void alu_aaa(struct soft_cpu *cpu);
void alu_aas(struct soft_cpu *cpu);
void alu_aam(struct soft_cpu *cpu, u8 base);
void alu_aad(struct soft_cpu *cpu, u8 base);
/* cc from EFLAGS, computing lazily recorded flags first. */
bool cond_from_eflags(struct soft_cpu *cpu, unsigned cc);

/*
 * Condition cc (its low bit clear: the condition before negation) from
 * the lazy record alone, when the record tells: CMP/SUB and the logic
 * operations are the usual producers. False: read EFLAGS instead.
 */
static inline bool cond_lazy(const struct lazy_flags *l, unsigned cc, bool *r)
{
	u64 sign = sign_bit(l->size);
	s64 sa, sb;

	if (l->op != LAZY_NONE) {     /* every lazy record keeps its result */
		if ((cc >> 1) == 2) { /* Z */
			*r = !l->res;
			return true;
		}
		if ((cc >> 1) == 4) { /* S */
			*r = l->res & sign;
			return true;
		}
	}
	if (l->op == LAZY_LOGIC) { /* CF = OF = 0 */
		switch (cc >> 1) {
		case 0: /* O */
		case 1: /* B */
			*r = false;
			return true;
		case 3: /* BE: ZF */
			*r = !l->res;
			return true;
		case 6: /* L: SF */
			*r = l->res & sign;
			return true;
		case 7: /* LE: ZF or SF */
			*r = !l->res || (l->res & sign);
			return true;
		default: /* P */
			return false;
		}
	}
	if (l->op != LAZY_SUB || l->carry)
		return false;
	sa = (s64)(l->a << (64 - 8 * l->size));
	sb = (s64)(l->b << (64 - 8 * l->size));
	switch (cc >> 1) {
	case 1: /* B */
		*r = l->a < l->b;
		return true;
	case 3: /* BE */
		*r = l->a <= l->b;
		return true;
	case 6: /* L */
		*r = sa < sb;
		return true;
	case 7: /* LE */
		*r = sa <= sb;
		return true;
	default:
		return false;
	}
}

/* Condition code cc of Jcc/SETcc/CMOVcc (SDM vol. 1, appendix B). */
static inline bool cond_true(struct soft_cpu *cpu, unsigned cc)
{
	bool r;

	if (cpu->lazy.op != LAZY_NONE && cond_lazy(&cpu->lazy, cc, &r))
		return r ^ (cc & 1);
	return cond_from_eflags(cpu, cc);
}

#endif

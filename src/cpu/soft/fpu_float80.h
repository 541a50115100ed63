/* SPDX-License-Identifier: MIT */
/*
 * 80-bit extended-precision arithmetic for the soft engine's x87 FPU.
 *
 * Each helper runs the very x87 instruction the guest asked for on the
 * host's own x87 unit, with the guest's rounding and precision control
 * loaded into the host control word, and returns the host status word.
 * Results, exception flags and the C0-C3 condition codes are therefore
 * those of real hardware, including NaN propagation, unsupported formats,
 * denormals, the round-up bit (C1) and the partial-remainder and
 * out-of-range rules of FPREM and FSIN.
 *
 * The helpers never touch the guest's register stack, tags or TOP: fpu.c
 * does that, and applies the responses to unmasked exceptions. Unless a
 * helper says otherwise it runs with every exception masked, so what it
 * returns is the masked response.
 *
 * Values are the guest's 10-byte register format (SDM vol. 1, 4.2.2):
 * 64-bit significand with explicit integer bit, 15-bit exponent biased by
 * 16383, sign; little-endian.
 */
#ifndef TWOOSTWO_CPU_SOFT_FPU_FLOAT80_H
#define TWOOSTWO_CPU_SOFT_FPU_FLOAT80_H

#include "core/types.h"

struct f80 {
	u8 b[10];
};

/* x87 status word (SDM vol. 1, 8.1.3). */
#define FSW_IE BIT(0) /* invalid operation */
#define FSW_DE BIT(1) /* denormal operand */
#define FSW_ZE BIT(2) /* divide by zero */
#define FSW_OE BIT(3) /* overflow */
#define FSW_UE BIT(4) /* underflow */
#define FSW_PE BIT(5) /* precision (inexact) */
#define FSW_SF BIT(6) /* stack fault */
#define FSW_ES BIT(7) /* exception summary */
#define FSW_C0 BIT(8)
#define FSW_C1 BIT(9)
#define FSW_C2 BIT(10)
#define FSW_TOP (7u << 11)
#define FSW_C3 BIT(14)
#define FSW_B BIT(15)
#define FSW_EXC 0x3fu
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* Tag word encoding (SDM vol. 1, 8.1.7). */
enum f80_tag { F80_TAG_VALID, F80_TAG_ZERO, F80_TAG_SPECIAL, F80_TAG_EMPTY };

/* ST(0) = ST(0) op src; the first six match the reg field of opcode D8. */
enum f80_binop {
	F80_ADD = 0,
	F80_MUL = 1,
	F80_SUB = 4,  /* dst - src */
	F80_SUBR = 5, /* src - dst */
	F80_DIV = 6,  /* dst / src */
	F80_DIVR = 7, /* src / dst */
	F80_PREM,     /* src is ST(1) */
	F80_PREM1,
	F80_SCALE,
};

enum f80_unop { F80_SQRT, F80_RNDINT, F80_SIN, F80_COS, F80_F2XM1 };

/* ST(0) in, two results out: FPTAN, FSINCOS, FXTRACT. */
enum f80_pushop { F80_PTAN, F80_SINCOS, F80_XTRACT };

/* ST(0) and ST(1) in, result to ST(1), pop: FPATAN, FYL2X, FYL2XP1. */
enum f80_popop { F80_PATAN, F80_YL2X, F80_YL2XP1 };

/* In the order of opcodes D9 E8..EE. */
enum f80_const {
	F80_ONE,
	F80_L2T,
	F80_L2E,
	F80_PI,
	F80_LG2,
	F80_LN2,
	F80_ZERO
};

/* The QNaN "real indefinite" the masked invalid response produces. */
extern const struct f80 f80_indefinite;

static inline unsigned f80_exponent(const struct f80 *x)
{
	return get_le16(&x->b[8]) & 0x7fff;
}

static inline u64 f80_significand(const struct f80 *x)
{
	return get_le64(x->b);
}

/* What FSTENV/FXRSTOR put in the tag word for a non-empty register. */
enum f80_tag f80_classify(const struct f80 *x);

/*
 * The arithmetic helpers below run with the guest's exception masks too:
 * an unmasked invalid, denormal or divide-by-zero exception leaves *dst
 * unchanged and an unmasked overflow or underflow yields the result with
 * its exponent bias-adjusted by 24576, as the x87 does (SDM vol. 1,
 * 8.5.4 and 8.5.5). Only in-place operations can do this safely.
 */
u16 f80_binary(u16 fcw, enum f80_binop op, struct f80 *dst,
	       const struct f80 *src);
u16 f80_unary(u16 fcw, enum f80_unop op, struct f80 *x);

/*
 * *st0 in; on return *st0 and *st1 are the new ST(0) and ST(1), or, when
 * *pushed is false (FPTAN/FSINCOS out of range), *st0 is the new ST(0).
 */
u16 f80_push_op(u16 fcw, enum f80_pushop op, struct f80 *st0, struct f80 *st1,
		bool *pushed);
/* The result for ST(1) in *st1, before the caller pops. */
u16 f80_pop_op(u16 fcw, enum f80_popop op, const struct f80 *st0,
	       struct f80 *st1);

/* FCOM (quiet: FUCOM) of a with b: C0, C2, C3 and IE/DE. */
u16 f80_compare(const struct f80 *a, const struct f80 *b, bool quiet);
u16 f80_test(const struct f80 *x);    /* FTST */
u16 f80_examine(const struct f80 *x); /* FXAM on a non-empty register */
void f80_load_const(u16 fcw, enum f80_const c, struct f80 *out);

/* Conversions from memory formats. */
u16 f80_from_single(u32 v, struct f80 *out);
u16 f80_from_double(u64 v, struct f80 *out);
void f80_from_int(s64 v, struct f80 *out);
void f80_from_bcd(const u8 bcd[10], struct f80 *out);

/* Conversions to memory formats, rounding as the guest's FCW says. */
u16 f80_to_single(u16 fcw, const struct f80 *x, u32 *out);
u16 f80_to_double(u16 fcw, const struct f80 *x, u64 *out);
/* size: 2, 4 or 8 bytes; out-of-range values give the integer indefinite */
u16 f80_to_int(u16 fcw, const struct f80 *x, unsigned size, u64 *out);
u16 f80_to_bcd(u16 fcw, const struct f80 *x, u8 bcd[10]);

#endif

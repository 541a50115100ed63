// SPDX-License-Identifier: MIT
/*
 * 80-bit extended-precision helpers for the x87 model, computed by the
 * host's x87 unit (see fpu_float80.h for why and for the contract).
 *
 * Every helper is one asm statement that keeps the host x87 stack
 * balanced on every path: it loads its operands with FLD m80 (which never
 * raises an exception), runs one guest instruction between FNCLEX and
 * FNSTSW, stores what is left, and restores the host control word. The
 * compiler keeps nothing in x87 registers across the statement (they are
 * all clobbered), so the eight-register stack is ours for its duration.
 */
#include <string.h>

#include "cpu/soft/fpu_float80.h"

#if !defined(__x86_64__) && !defined(__i386__)
#error "the soft engine's FPU computes with the host's x87 unit"
#endif

/*
 * The asm templates, one per shape of stack effect. Each is used inside a
 * helper that declares cw (the control word to load), sw and hcw.
 * (clang-format would split their strings apart.)
 */
/* clang-format off */
#define X87_CLOBBERS                                                           \
	"st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

/*
 * Save the host control word and load the guest's. Stale host flags are
 * cleared first: loading a control word that unmasks a flagged exception
 * would arm it for the next waiting instruction.
 */
#define X87_ENTER "fnstcw %[hcw]\n\tfnclex\n\tfldcw %[gcw]\n\t"
/*
 * The guest instruction itself. Its flags are read and then cleared at
 * once, so an exception it raised unmasked is never taken on the host.
 */
#define X87_OP(insn) "fnclex\n\t" insn "\n\tfnstsw %[sw]\n\tfnclex\n\t"
#define X87_LEAVE "fldcw %[hcw]"
/* After X87_OP: did the instruction change TOP since sw0 was taken? */
#define X87_TOP_MOVED                                                          \
	"movw %[sw0], %%ax\n\txorw %[sw], %%ax\n\ttestw $0x3800, %%ax\n\t"

/* In place: ST(0) = *dst, ST(1) = *src; ST(0) is stored back to *dst. */
#define X87_BINARY(insn)                                                       \
	asm volatile(X87_ENTER "fldt %[src]\n\tfldt %[dst]\n\t" X87_OP(insn)   \
		     "fstpt %[dst]\n\tfstp %%st(0)\n\t" X87_LEAVE              \
		     : [dst] "+m"(*dst), [sw] "=m"(sw), [hcw] "=m"(hcw)        \
		     : [src] "m"(*src), [gcw] "m"(cw)                          \
		     : X87_CLOBBERS)

/* In place on ST(0) = *x. */
#define X87_UNARY(insn)                                                        \
	asm volatile(X87_ENTER "fldt %[x]\n\t" X87_OP(insn)                    \
		     "fstpt %[x]\n\t" X87_LEAVE                                \
		     : [x] "+m"(*x), [sw] "=m"(sw), [hcw] "=m"(hcw)            \
		     : [gcw] "m"(cw)                                           \
		     : X87_CLOBBERS)

/* Stores one result, or two if the instruction pushed. */
#define X87_PUSH(insn)                                                         \
	asm volatile(X87_ENTER "fldt %[x]\n\tfnstsw %[sw0]\n\t" X87_OP(insn)   \
		     "fstpt %[x]\n\t" X87_TOP_MOVED "jz 1f\n\t"                \
		     "fstpt %[y]\n1:\n\t" X87_LEAVE                            \
		     : [x] "+m"(*st0), [y] "=m"(*st1), [sw] "=m"(sw),          \
		       [sw0] "=m"(sw0), [hcw] "=m"(hcw)                        \
		     : [gcw] "m"(cw)                                           \
		     : X87_CLOBBERS, "ax", "cc")

/* Stores the result the instruction left; drops ST(1) if it did not pop. */
#define X87_POP(insn)                                                          \
	asm volatile(X87_ENTER "fldt %[y]\n\tfldt %[x]\n\tfnstsw %[sw0]\n\t"   \
		     X87_OP(insn) "fstpt %[y]\n\t" X87_TOP_MOVED "jnz 1f\n\t"  \
		     "fstp %%st(0)\n1:\n\t" X87_LEAVE                          \
		     : [y] "+m"(*st1), [sw] "=m"(sw), [sw0] "=m"(sw0),         \
		       [hcw] "=m"(hcw)                                         \
		     : [x] "m"(*st0), [gcw] "m"(cw)                            \
		     : X87_CLOBBERS, "ax", "cc")

/* Condition codes only: ST(0) = *a, ST(1) = *b. */
#define X87_COMPARE(insn)                                                      \
	asm volatile(X87_ENTER "fldt %[b]\n\tfldt %[a]\n\t" X87_OP(insn)       \
		     "fstp %%st(0)\n\tfstp %%st(0)\n\t" X87_LEAVE              \
		     : [sw] "=m"(sw), [hcw] "=m"(hcw)                          \
		     : [a] "m"(*a), [b] "m"(*b), [gcw] "m"(cw)                 \
		     : X87_CLOBBERS)

/* Condition codes only, from ST(0) = *x. */
#define X87_PROBE(insn)                                                        \
	asm volatile(X87_ENTER "fldt %[x]\n\t" X87_OP(insn)                    \
		     "fstp %%st(0)\n\t" X87_LEAVE                              \
		     : [sw] "=m"(sw), [hcw] "=m"(hcw)                          \
		     : [x] "m"(*x), [gcw] "m"(cw)                              \
		     : X87_CLOBBERS)

/* A constant pushed, stored to *out. */
#define X87_CONST(insn)                                                        \
	asm volatile(X87_ENTER X87_OP(insn) "fstpt %[out]\n\t" X87_LEAVE       \
		     : [out] "=m"(*out), [sw] "=m"(sw), [hcw] "=m"(hcw)        \
		     : [gcw] "m"(cw)                                           \
		     : X87_CLOBBERS)

/* A load of value, stored to *out. */
#define X87_LOAD(insn, value)                                                  \
	asm volatile(X87_ENTER X87_OP(insn) "fstpt %[out]\n\t" X87_LEAVE       \
		     : [out] "=m"(*out), [sw] "=m"(sw), [hcw] "=m"(hcw)        \
		     : [in] "m"(value), [gcw] "m"(cw)                          \
		     : X87_CLOBBERS)

/* A store to v; pop is X87_KEEP, or X87_POPPED if the insn pops. */
#define X87_STORE(insn, pop)                                                   \
	asm volatile(X87_ENTER "fldt %[x]\n\t" X87_OP(insn) pop X87_LEAVE      \
		     : [out] "=m"(v), [sw] "=m"(sw), [hcw] "=m"(hcw)           \
		     : [x] "m"(*x), [gcw] "m"(cw)                              \
		     : X87_CLOBBERS)
#define X87_KEEP "fstp %%st(0)\n\t"
#define X87_POPPED ""
/* clang-format on */

/* Status bits a helper reports: the host's TOP, ES, B and SF are not ours. */
#define F80_STATUS (FSW_EXC | FSW_CC)

const struct f80 f80_indefinite = {
	.b = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff}};

/* Guest rounding and precision control, every exception masked. */
static u16 cw_masked(u16 fcw)
{
	return (fcw & 0x0f00) | 0x7f;
}

/* The guest's control word as is (bit 6 reads as one on the 387 on). */
static u16 cw_guest(u16 fcw)
{
	return (fcw & 0x0f3f) | 0x40;
}

enum f80_tag f80_classify(const struct f80 *x)
{
	unsigned e = f80_exponent(x);
	u64 m = f80_significand(x);

	if (e == 0)
		return m ? F80_TAG_SPECIAL : F80_TAG_ZERO;
	if (e == 0x7fff || !(m >> 63))
		return F80_TAG_SPECIAL; /* infinity, NaN, unnormal */
	return F80_TAG_VALID;
}

u16 f80_binary(u16 fcw, enum f80_binop op, struct f80 *dst,
	       const struct f80 *src)
{
	u16 cw = cw_guest(fcw), sw = 0, hcw;

	switch (op) {
	case F80_ADD:
		X87_BINARY("fadd %%st(1), %%st");
		break;
	case F80_MUL:
		X87_BINARY("fmul %%st(1), %%st");
		break;
	case F80_SUB:
		X87_BINARY("fsub %%st(1), %%st");
		break;
	case F80_SUBR:
		X87_BINARY("fsubr %%st(1), %%st");
		break;
	case F80_DIV:
		X87_BINARY("fdiv %%st(1), %%st");
		break;
	case F80_DIVR:
		X87_BINARY("fdivr %%st(1), %%st");
		break;
	case F80_PREM:
		X87_BINARY("fprem");
		break;
	case F80_PREM1:
		X87_BINARY("fprem1");
		break;
	case F80_SCALE:
		X87_BINARY("fscale");
		break;
	}
	return sw & F80_STATUS;
}

u16 f80_unary(u16 fcw, enum f80_unop op, struct f80 *x)
{
	u16 cw = cw_guest(fcw), sw = 0, hcw;

	switch (op) {
	case F80_SQRT:
		X87_UNARY("fsqrt");
		break;
	case F80_RNDINT:
		X87_UNARY("frndint");
		break;
	case F80_SIN:
		X87_UNARY("fsin");
		break;
	case F80_COS:
		X87_UNARY("fcos");
		break;
	case F80_F2XM1:
		X87_UNARY("f2xm1");
		break;
	}
	return sw & F80_STATUS;
}

u16 f80_push_op(u16 fcw, enum f80_pushop op, struct f80 *st0, struct f80 *st1,
		bool *pushed)
{
	u16 cw = cw_masked(fcw), sw = 0, sw0 = 0, hcw;

	switch (op) {
	case F80_PTAN:
		X87_PUSH("fptan");
		break;
	case F80_SINCOS:
		X87_PUSH("fsincos");
		break;
	case F80_XTRACT:
		X87_PUSH("fxtract");
		break;
	}
	*pushed = (sw ^ sw0) & FSW_TOP;
	return sw & F80_STATUS;
}

u16 f80_pop_op(u16 fcw, enum f80_popop op, const struct f80 *st0,
	       struct f80 *st1)
{
	u16 cw = cw_masked(fcw), sw = 0, sw0 = 0, hcw;

	switch (op) {
	case F80_PATAN:
		X87_POP("fpatan");
		break;
	case F80_YL2X:
		X87_POP("fyl2x");
		break;
	case F80_YL2XP1:
		X87_POP("fyl2xp1");
		break;
	}
	return sw & F80_STATUS;
}

u16 f80_compare(const struct f80 *a, const struct f80 *b, bool quiet)
{
	u16 cw = cw_masked(0), sw = 0, hcw;

	if (quiet)
		X87_COMPARE("fucom %%st(1)");
	else
		X87_COMPARE("fcom %%st(1)");
	return sw & F80_STATUS;
}

u16 f80_test(const struct f80 *x)
{
	u16 cw = cw_masked(0), sw = 0, hcw;

	X87_PROBE("ftst");
	return sw & F80_STATUS;
}

u16 f80_examine(const struct f80 *x)
{
	u16 cw = cw_masked(0), sw = 0, hcw;

	X87_PROBE("fxam");
	return sw & F80_STATUS;
}

void f80_load_const(u16 fcw, enum f80_const c, struct f80 *out)
{
	u16 cw = cw_masked(fcw), sw, hcw;

	/* 387 and later round the constants as RC says (SDM vol. 2, FLD1). */
	switch (c) {
	case F80_ONE:
		X87_CONST("fld1");
		break;
	case F80_L2T:
		X87_CONST("fldl2t");
		break;
	case F80_L2E:
		X87_CONST("fldl2e");
		break;
	case F80_PI:
		X87_CONST("fldpi");
		break;
	case F80_LG2:
		X87_CONST("fldlg2");
		break;
	case F80_LN2:
		X87_CONST("fldln2");
		break;
	case F80_ZERO:
		X87_CONST("fldz");
		break;
	}
}

u16 f80_from_single(u32 v, struct f80 *out)
{
	u16 cw = cw_masked(0), sw = 0, hcw;

	X87_LOAD("flds %[in]", v);
	return sw & F80_STATUS;
}

u16 f80_from_double(u64 v, struct f80 *out)
{
	u16 cw = cw_masked(0), sw = 0, hcw;

	X87_LOAD("fldl %[in]", v);
	return sw & F80_STATUS;
}

void f80_from_int(s64 v, struct f80 *out)
{
	u16 cw = cw_masked(0), sw = 0, hcw;

	X87_LOAD("fildll %[in]", v);
}

void f80_from_bcd(const u8 bcd[10], struct f80 *out)
{
	struct f80 in;
	u16 cw = cw_masked(0), sw = 0, hcw;

	memcpy(in.b, bcd, sizeof(in.b));
	X87_LOAD("fbld %[in]", in);
}

u16 f80_to_single(u16 fcw, const struct f80 *x, u32 *out)
{
	u16 cw = cw_masked(fcw), sw = 0, hcw;
	u32 v = 0;

	X87_STORE("fsts %[out]", X87_KEEP);
	*out = v;
	return sw & F80_STATUS;
}

u16 f80_to_double(u16 fcw, const struct f80 *x, u64 *out)
{
	u16 cw = cw_masked(fcw), sw = 0, hcw;
	u64 v = 0;

	X87_STORE("fstl %[out]", X87_KEEP);
	*out = v;
	return sw & F80_STATUS;
}

static u16 f80_to_int16(u16 cw, const struct f80 *x, u64 *out)
{
	u16 sw = 0, hcw, v = 0;

	X87_STORE("fists %[out]", X87_KEEP);
	*out = v;
	return sw;
}

static u16 f80_to_int32(u16 cw, const struct f80 *x, u64 *out)
{
	u16 sw = 0, hcw;
	u32 v = 0;

	X87_STORE("fistl %[out]", X87_KEEP);
	*out = v;
	return sw;
}

static u16 f80_to_int64(u16 cw, const struct f80 *x, u64 *out)
{
	u16 sw = 0, hcw;
	u64 v = 0;

	X87_STORE("fistpll %[out]", X87_POPPED);
	*out = v;
	return sw;
}

u16 f80_to_int(u16 fcw, const struct f80 *x, unsigned size, u64 *out)
{
	u16 cw = cw_masked(fcw), sw;

	if (size == 2)
		sw = f80_to_int16(cw, x, out);
	else if (size == 4)
		sw = f80_to_int32(cw, x, out);
	else
		sw = f80_to_int64(cw, x, out);
	return sw & F80_STATUS;
}

u16 f80_to_bcd(u16 fcw, const struct f80 *x, u8 bcd[10])
{
	u16 cw = cw_masked(fcw), sw = 0, hcw;
	struct f80 v;

	X87_STORE("fbstp %[out]", X87_POPPED);
	memcpy(bcd, v.b, sizeof(v.b));
	return sw & F80_STATUS;
}

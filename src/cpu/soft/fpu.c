// SPDX-License-Identifier: MIT
/*
 * The x87 FPU of the soft engine (Intel SDM vol. 1, chapter 8; vol. 2,
 * the instruction pages; vol. 3, 2.5 for CR0.EM, MP, TS and NE).
 *
 * This file keeps the architectural machinery: the register stack and
 * TOP, the tag word, the control and status words, stack faults, the
 * responses to unmasked exceptions, the last-instruction pointers and the
 * FSTENV, FSAVE and FXSAVE images. The numbers themselves come from
 * fpu_float80.c, which runs each operation on the host's x87 unit with
 * the guest's rounding and precision control.
 *
 * Exceptions (SDM vol. 1, 8.4 to 8.7): a masked exception only sets its
 * flag and the instruction delivers the masked response. An unmasked one
 * also sets ES; invalid operation, denormal operand and divide by zero
 * (and overflow or underflow towards memory) then leave the destination
 * and TOP alone. The exception is taken at the next waiting x87
 * instruction or WAIT: #MF when CR0.NE is set.
 *
 * The 8086 and 286 models have no coprocessor: see fpu_absent().
 */
#include <string.h>

#include "cpu/soft/exec.h"
#include "cpu/soft/fpu_float80.h"

#define FCW_IM BIT(0)
#define FCW_MASKS 0x3f /* IM, DM, ZM, OM, UM, PM */
#define FCW_INIT 0x037f
/* Bit 6 reads as one and bits 13-15 as zero on the 387 and later. */
#define FCW_WRITABLE 0x1f3f
#define FCW_FIXED 0x0040
#define FOP_MASK 0x7ff
#define MXCSR_INIT 0x1f80
#define MXCSR_MASK 0xffff /* with DAZ (SDM vol. 1, 11.6.6; sse_fp.c) */

/* Unmasked, these stop an instruction before it stores its result. */
#define STOP_REG (FSW_IE | FSW_DE | FSW_ZE)
/* Towards memory, unmasked overflow and underflow do too (SDM 8.5.4). */
#define STOP_MEM (STOP_REG | FSW_OE | FSW_UE)
/* "Unordered" in C3, C2, C0. */
#define CC_UNORDERED (FSW_C0 | FSW_C2 | FSW_C3)

#define ENV16_SIZE 14
#define ENV32_SIZE 28
#define FXSAVE_USED 416 /* to XMM15; the rest of the 512 bytes is reserved */
#define FX_ST 32
#define FX_XMM 160

/* Memory operand formats (SDM vol. 1, 8.2). */
enum fpu_format { M32FP, M64FP, M80FP, M16INT, M32INT, M64INT, M80BCD };

static const u8 format_size[] = {4, 8, 10, 2, 4, 8, 10};

/* --- register stack and tags --- */

static unsigned fpu_top(const struct soft_cpu *cpu)
{
	return (cpu->s.fpu.fsw & FSW_TOP) >> 11;
}

static void fpu_set_top(struct soft_cpu *cpu, unsigned top)
{
	cpu->s.fpu.fsw = (u16)((cpu->s.fpu.fsw & ~FSW_TOP) | (top & 7) << 11);
}

/* The physical register R0..R7 that is ST(i). */
static unsigned st_phys(const struct soft_cpu *cpu, unsigned i)
{
	return (fpu_top(cpu) + i) & 7;
}

static unsigned tag_get(const struct soft_cpu *cpu, unsigned phys)
{
	return (cpu->s.fpu.ftw >> (2 * phys)) & 3;
}

static void tag_set(struct soft_cpu *cpu, unsigned phys, unsigned tag)
{
	u16 ftw = cpu->s.fpu.ftw & ~(3u << (2 * phys));

	cpu->s.fpu.ftw = (u16)(ftw | tag << (2 * phys));
}

static bool st_empty(const struct soft_cpu *cpu, unsigned i)
{
	return tag_get(cpu, st_phys(cpu, i)) == F80_TAG_EMPTY;
}

static struct f80 phys_get(const struct soft_cpu *cpu, unsigned phys)
{
	struct f80 v;

	memcpy(v.b, cpu->s.fpu.st[phys], sizeof(v.b));
	return v;
}

static struct f80 st_get(const struct soft_cpu *cpu, unsigned i)
{
	return phys_get(cpu, st_phys(cpu, i));
}

static void st_set(struct soft_cpu *cpu, unsigned i, const struct f80 *v)
{
	unsigned phys = st_phys(cpu, i);

	memcpy(cpu->s.fpu.st[phys], v->b, sizeof(v->b));
	tag_set(cpu, phys, f80_classify(v));
}

static void fpu_push(struct soft_cpu *cpu, const struct f80 *v)
{
	fpu_set_top(cpu, fpu_top(cpu) - 1);
	st_set(cpu, 0, v);
}

static void fpu_pop(struct soft_cpu *cpu)
{
	tag_set(cpu, st_phys(cpu, 0), F80_TAG_EMPTY);
	fpu_set_top(cpu, fpu_top(cpu) + 1);
}

/* The full tag word with every non-empty tag taken from the contents. */
static u16 fpu_full_tags(const struct soft_cpu *cpu)
{
	u16 ftw = 0;
	unsigned p, tag;

	for (p = 0; p < 8; p++) {
		tag = tag_get(cpu, p);
		if (tag != F80_TAG_EMPTY) {
			struct f80 v = phys_get(cpu, p);

			tag = f80_classify(&v);
		}
		ftw |= (u16)(tag << (2 * p));
	}
	return ftw;
}

/*
 * A loaded tag word only says which registers are empty; the processor
 * derives the rest from their contents (SDM vol. 3, 22.18.4).
 * nonempty: bit p for physical register p.
 */
static void fpu_load_tags(struct soft_cpu *cpu, u8 nonempty)
{
	unsigned p;

	cpu->s.fpu.ftw = 0xffff;
	for (p = 0; p < 8; p++) {
		struct f80 v = phys_get(cpu, p);

		if (nonempty & BIT(p))
			tag_set(cpu, p, f80_classify(&v));
	}
}

static u8 tags_nonempty(u16 ftw)
{
	u8 bits = 0;
	unsigned p;

	for (p = 0; p < 8; p++)
		if (((ftw >> (2 * p)) & 3) != F80_TAG_EMPTY)
			bits |= (u8)BIT(p);
	return bits;
}

/* --- status word and exceptions --- */

static void fpu_set_cc(struct soft_cpu *cpu, u16 which, u16 value)
{
	cpu->s.fpu.fsw = (u16)((cpu->s.fpu.fsw & ~which) | (value & which));
}

/*
 * ES, and B which copies it since the 387, summarise the flagged
 * exceptions that are unmasked (SDM vol. 1, 8.1.3.1).
 */
static void fpu_update_es(struct soft_cpu *cpu)
{
	struct x86_fpu_state *f = &cpu->s.fpu;

	if (f->fsw & ~f->fcw & FSW_EXC)
		f->fsw |= FSW_ES | FSW_B;
	else
		f->fsw &= (u16) ~(FSW_ES | FSW_B);
}

static void fpu_set_control(struct soft_cpu *cpu, u16 fcw)
{
	cpu->s.fpu.fcw = (fcw & FCW_WRITABLE) | FCW_FIXED;
}

/* Does an exception in sw, as the guest masks them, stop the insn? */
static bool fpu_stopped(const struct soft_cpu *cpu, u16 sw, u16 stop)
{
	return sw & ~cpu->s.fpu.fcw & stop;
}

/*
 * Record the exceptions a helper reported. Returns false when an
 * unmasked one of `stop` ends the instruction with its destination and
 * TOP unchanged; only those flags are raised then.
 */
static bool fpu_raise(struct soft_cpu *cpu, u16 sw, u16 stop)
{
	bool stopped = fpu_stopped(cpu, sw, stop);

	cpu->s.fpu.fsw |= sw & (stopped ? stop : FSW_EXC);
	fpu_update_es(cpu);
	return !stopped;
}

/*
 * Stack overflow or underflow (SDM vol. 1, 8.5.1.1): IE and SF, with C1
 * telling which. Returns true when IE is masked: the caller then delivers
 * the QNaN indefinite as the result.
 */
static bool fpu_stack_fault(struct soft_cpu *cpu, bool overflow)
{
	cpu->s.fpu.fsw |= FSW_IE | FSW_SF;
	fpu_set_cc(cpu, FSW_C1, overflow ? FSW_C1 : 0);
	fpu_update_es(cpu);
	return cpu->s.fpu.fcw & FCW_IM;
}

/* Masked stack underflow on an instruction whose result goes to ST(0). */
static void fpu_underflow_st0(struct soft_cpu *cpu)
{
	if (fpu_stack_fault(cpu, false))
		st_set(cpu, 0, &f80_indefinite);
}

/* Room to push? On overflow the masked response pushes the indefinite. */
static bool fpu_push_room(struct soft_cpu *cpu)
{
	if (st_empty(cpu, 7))
		return true;
	if (fpu_stack_fault(cpu, true))
		fpu_push(cpu, &f80_indefinite);
	return false;
}

/*
 * A pending unmasked exception is taken by the next waiting instruction
 * (SDM vol. 1, 8.6). With CR0.NE clear a PC would signal it on FERR# to
 * IRQ 13 (vol. 1, appendix D); this machine has no FERR# line, so the
 * exception just stays flagged in ES and execution continues.
 */
static void fpu_check_pending(struct soft_cpu *cpu)
{
	if ((cpu->s.fpu.fsw & FSW_ES) && (cpu->s.cr0 & CR0_NE))
		cpu_fault_noerr(cpu, EXC_MF);
}

/* --- memory --- */

static void fpu_read_bytes(struct soft_cpu *cpu, int seg, u64 off, u8 *buf,
			   unsigned n)
{
	unsigned i = 0;

	for (; i + 4 <= n; i += 4)
		put_le32(buf + i, mem_read32(cpu, seg, off + i));
	for (; i < n; i += 2)
		put_le16(buf + i, mem_read16(cpu, seg, off + i));
}

static void fpu_write_bytes(struct soft_cpu *cpu, int seg, u64 off,
			    const u8 *buf, unsigned n)
{
	unsigned i = 0;

	for (; i + 4 <= n; i += 4)
		mem_write32(cpu, seg, off + i, get_le32(buf + i));
	for (; i < n; i += 2)
		mem_write16(cpu, seg, off + i, get_le16(buf + i));
}

static u16 fpu_from_memory(enum fpu_format fmt, const u8 *raw, struct f80 *v)
{
	switch (fmt) {
	case M32FP:
		return f80_from_single(get_le32(raw), v);
	case M64FP:
		return f80_from_double(get_le64(raw), v);
	case M80FP:
		memcpy(v->b, raw, sizeof(v->b));
		break;
	case M16INT:
		f80_from_int((s16)get_le16(raw), v);
		break;
	case M32INT:
		f80_from_int((s32)get_le32(raw), v);
		break;
	case M64INT:
		f80_from_int((s64)get_le64(raw), v);
		break;
	case M80BCD:
		f80_from_bcd(raw, v);
		break;
	}
	return 0;
}

static u16 fpu_to_memory(u16 fcw, enum fpu_format fmt, const struct f80 *x,
			 u8 *raw)
{
	u32 v32;
	u64 v64;
	u16 sw = 0;

	switch (fmt) {
	case M32FP:
		sw = f80_to_single(fcw, x, &v32);
		put_le32(raw, v32);
		break;
	case M64FP:
		sw = f80_to_double(fcw, x, &v64);
		put_le64(raw, v64);
		break;
	case M80FP:
		memcpy(raw, x->b, sizeof(x->b));
		break;
	case M16INT:
	case M32INT:
	case M64INT:
		sw = f80_to_int(fcw, x, format_size[fmt], &v64);
		put_le64(raw, v64);
		break;
	case M80BCD:
		sw = f80_to_bcd(fcw, x, raw);
		break;
	}
	return sw;
}

/* The operand of D8 (m32fp), DA (m32int), DC (m64fp), DE (m16int). */
static enum fpu_format arith_format(const struct insn *in)
{
	static const u8 fmt[4] = {M32FP, M32INT, M64FP, M16INT};

	return fmt[(in->op >> 1) & 3];
}

/* --- arithmetic --- */

/* dst = dst op src; cc: the condition codes the instruction defines. */
static bool fpu_arith(struct soft_cpu *cpu, enum f80_binop op, struct f80 *dst,
		      const struct f80 *src, u16 cc)
{
	u16 sw = f80_binary(cpu->s.fpu.fcw, op, dst, src);

	if (!fpu_raise(cpu, sw, STOP_REG))
		return false;
	fpu_set_cc(cpu, cc, sw);
	return true;
}

/* ST(d) = ST(d) op ST(s), C1 = rounded up; then pop if asked. */
static void fpu_arith_st(struct soft_cpu *cpu, enum f80_binop op, unsigned d,
			 unsigned s, u16 cc, bool pop)
{
	struct f80 a = f80_indefinite, b;

	if (st_empty(cpu, d) || st_empty(cpu, s)) {
		if (!fpu_stack_fault(cpu, false))
			return;
	} else {
		a = st_get(cpu, d);
		b = st_get(cpu, s);
		if (!fpu_arith(cpu, op, &a, &b, cc))
			return;
	}
	st_set(cpu, d, &a);
	if (pop)
		fpu_pop(cpu);
}

/*
 * A memory operand's denormal exception is not reported when the other
 * operand is invalid or a NaN: those outrank it (SDM vol. 1, 8.7); nor
 * with a zero divide (x / 0 with x denormal reports ZE alone on the AMD
 * EPYC host, found by twoostwo-hostdiff).
 */
static u16 denormal_outranked(u16 conv, u16 sw, const struct f80 *other)
{
	bool nan = (f80_exponent(other) & 0x7fff) == 0x7fff &&
		   (f80_significand(other) << 1);

	if ((sw & (FSW_IE | FSW_ZE)) || nan)
		conv &= (u16)~FSW_DE;
	return conv;
}

/*
 * A single or double SNaN operand of arithmetic or a compare stays
 * signalling in its 80-bit form: loading it would quiet it (setting the
 * significand's bit 62), and then the larger-significand rule for two
 * NaN operands (SDM vol. 1, table 4-7) could pick it where the hardware
 * picks the other NaN. The operation itself raises IE and quiets it.
 */
static u16 arith_operand(enum fpu_format fmt, const u8 *raw, struct f80 *b)
{
	u64 frac, sig;
	u16 se;

	if (fmt == M32FP) {
		u32 v = get_le32(raw);

		if ((v & 0x7fc00000u) != 0x7f800000u || !(v & 0x3fffffu))
			return fpu_from_memory(fmt, raw, b);
		frac = v & 0x3fffffu;
		sig = 1ull << 63 | frac << 40;
		se = (u16)(v >> 31 << 15 | 0x7fff);
	} else if (fmt == M64FP) {
		u64 v = get_le64(raw);

		if ((v & 0x7ff8000000000000ull) != 0x7ff0000000000000ull ||
		    !(v & 0x7ffffffffffffull))
			return fpu_from_memory(fmt, raw, b);
		frac = v & 0x7ffffffffffffull;
		sig = 1ull << 63 | frac << 11;
		se = (u16)(v >> 63 << 15 | 0x7fff);
	} else {
		return fpu_from_memory(fmt, raw, b);
	}
	put_le64(b->b, sig);
	put_le16(b->b + 8, se);
	return 0;
}

/* D8, DA, DC, DE with a memory operand: ST(0) = ST(0) op m. */
static void x87_arith_mem(struct soft_cpu *cpu, struct insn *in)
{
	enum fpu_format fmt = arith_format(in);
	struct f80 a, b;
	u8 raw[8];
	u16 conv, sw;

	fpu_read_bytes(cpu, in->seg, cpu->ea, raw, format_size[fmt]);
	if (st_empty(cpu, 0)) {
		fpu_underflow_st0(cpu);
		return;
	}
	conv = arith_operand(fmt, raw, &b);
	a = st_get(cpu, 0);
	conv = denormal_outranked(conv, 0, &a);
	sw = f80_binary(cpu->s.fpu.fcw, in->reg, &a, &b);
	conv = denormal_outranked(conv, sw, &a);
	if (!fpu_raise(cpu, conv, STOP_REG) || !fpu_raise(cpu, sw, STOP_REG))
		return;
	fpu_set_cc(cpu, FSW_C1, sw);
	st_set(cpu, 0, &a);
}

/* D8 C0-FF (arithmetic rows): ST(0) = ST(0) op ST(i). */
static void x87_arith_st0(struct soft_cpu *cpu, struct insn *in)
{
	fpu_arith_st(cpu, in->reg, 0, in->rm, FSW_C1, false);
}

/*
 * DC and DE: ST(i) = ST(i) op ST(0), popping for DE. In these rows reg 4
 * is FSUBR ST(i),ST(0) (ST(0) - ST(i)) and reg 6 FDIVR, so subtract and
 * divide swap direction relative to row D8 (SDM vol. 2, FSUB and FDIV).
 */
static void x87_arith_sti(struct soft_cpu *cpu, struct insn *in)
{
	unsigned op = in->reg >= 4 ? in->reg ^ 1u : in->reg;

	fpu_arith_st(cpu, op, in->rm, 0, FSW_C1, in->op == 0xde);
}

static void x87_fprem(struct soft_cpu *cpu, struct insn *in)
{
	/* C2: incomplete; C0, C3, C1: quotient bits 2, 1, 0. */
	fpu_arith_st(cpu, F80_PREM, 0, 1, FSW_CC, false);
}

static void x87_fprem1(struct soft_cpu *cpu, struct insn *in)
{
	fpu_arith_st(cpu, F80_PREM1, 0, 1, FSW_CC, false);
}

static void x87_fscale(struct soft_cpu *cpu, struct insn *in)
{
	fpu_arith_st(cpu, F80_SCALE, 0, 1, FSW_C1, false);
}

/* FSQRT, FRNDINT, F2XM1, FSIN, FCOS on ST(0). */
static void fpu_unary(struct soft_cpu *cpu, enum f80_unop op, u16 cc)
{
	struct f80 v;
	u16 sw;

	if (st_empty(cpu, 0)) {
		fpu_underflow_st0(cpu);
		return;
	}
	v = st_get(cpu, 0);
	sw = f80_unary(cpu->s.fpu.fcw, op, &v);
	if (!fpu_raise(cpu, sw, STOP_REG))
		return;
	st_set(cpu, 0, &v);
	fpu_set_cc(cpu, cc, sw);
}

static void x87_fsqrt(struct soft_cpu *cpu, struct insn *in)
{
	fpu_unary(cpu, F80_SQRT, FSW_C1);
}

static void x87_frndint(struct soft_cpu *cpu, struct insn *in)
{
	fpu_unary(cpu, F80_RNDINT, FSW_C1);
}

static void x87_f2xm1(struct soft_cpu *cpu, struct insn *in)
{
	fpu_unary(cpu, F80_F2XM1, FSW_C1);
}

/* C2 set: |ST(0)| >= 2^63, left unchanged (SDM vol. 2, FSIN). */
static void x87_fsin(struct soft_cpu *cpu, struct insn *in)
{
	fpu_unary(cpu, F80_SIN, FSW_C1 | FSW_C2);
}

static void x87_fcos(struct soft_cpu *cpu, struct insn *in)
{
	fpu_unary(cpu, F80_COS, FSW_C1 | FSW_C2);
}

/*
 * FPTAN, FSINCOS, FXTRACT: ST(0) is replaced by one result and the other
 * pushed; out of range (C2) nothing changes. The masked response to a
 * stack fault leaves the indefinite in both places.
 */
static void fpu_push_op(struct soft_cpu *cpu, enum f80_pushop op)
{
	struct f80 r0, r1;
	bool pushed;
	u16 sw;

	if (st_empty(cpu, 0) || !st_empty(cpu, 7)) {
		if (!fpu_stack_fault(cpu, !st_empty(cpu, 0)))
			return;
		st_set(cpu, 0, &f80_indefinite);
		fpu_push(cpu, &f80_indefinite);
		return;
	}
	r0 = st_get(cpu, 0);
	sw = f80_push_op(cpu->s.fpu.fcw, op, &r0, &r1, &pushed);
	if (!fpu_raise(cpu, sw, STOP_REG))
		return;
	if (!pushed) {
		fpu_set_cc(cpu, FSW_C2, FSW_C2);
		return;
	}
	st_set(cpu, 0, &r1);
	fpu_push(cpu, &r0);
	fpu_set_cc(cpu, FSW_C1 | FSW_C2, sw & FSW_C1);
}

static void x87_fptan(struct soft_cpu *cpu, struct insn *in)
{
	fpu_push_op(cpu, F80_PTAN);
}

static void x87_fsincos(struct soft_cpu *cpu, struct insn *in)
{
	fpu_push_op(cpu, F80_SINCOS);
}

static void x87_fxtract(struct soft_cpu *cpu, struct insn *in)
{
	fpu_push_op(cpu, F80_XTRACT);
}

/* FPATAN, FYL2X, FYL2XP1: ST(1) = f(ST(1), ST(0)), then pop. */
static void fpu_pop_op(struct soft_cpu *cpu, enum f80_popop op)
{
	struct f80 a, b = f80_indefinite;
	u16 sw;

	if (st_empty(cpu, 0) || st_empty(cpu, 1)) {
		if (!fpu_stack_fault(cpu, false))
			return;
	} else {
		a = st_get(cpu, 0);
		b = st_get(cpu, 1);
		sw = f80_pop_op(cpu->s.fpu.fcw, op, &a, &b);
		if (!fpu_raise(cpu, sw, STOP_REG))
			return;
		fpu_set_cc(cpu, FSW_C1, sw);
	}
	st_set(cpu, 1, &b);
	fpu_pop(cpu);
}

static void x87_fpatan(struct soft_cpu *cpu, struct insn *in)
{
	fpu_pop_op(cpu, F80_PATAN);
}

static void x87_fyl2x(struct soft_cpu *cpu, struct insn *in)
{
	fpu_pop_op(cpu, F80_YL2X);
}

static void x87_fyl2xp1(struct soft_cpu *cpu, struct insn *in)
{
	fpu_pop_op(cpu, F80_YL2XP1);
}

/* FCHS and FABS only touch the sign: no exception, even for an SNaN. */
static void fpu_sign(struct soft_cpu *cpu, u8 keep, u8 flip)
{
	struct f80 v;

	if (st_empty(cpu, 0)) {
		fpu_underflow_st0(cpu);
		return;
	}
	v = st_get(cpu, 0);
	v.b[9] = (u8)((v.b[9] & keep) ^ flip);
	st_set(cpu, 0, &v);
	fpu_set_cc(cpu, FSW_C1, 0);
}

static void x87_fchs(struct soft_cpu *cpu, struct insn *in)
{
	fpu_sign(cpu, 0xff, 0x80);
}

static void x87_fabs(struct soft_cpu *cpu, struct insn *in)
{
	fpu_sign(cpu, 0x7f, 0);
}

/* --- comparisons --- */

/* Condition codes of a compare the helper made; false if stopped. */
static bool fpu_compared(struct soft_cpu *cpu, u16 sw)
{
	if (!fpu_raise(cpu, sw, STOP_REG))
		return false;
	fpu_set_cc(cpu, FSW_CC, sw & CC_UNORDERED);
	return true;
}

/*
 * FCOM and FUCOM with ST(i), popping `pops` times. A masked stack
 * underflow compares as unordered.
 */
static void fpu_compare_st(struct soft_cpu *cpu, unsigned i, bool quiet,
			   unsigned pops)
{
	struct f80 a, b;

	if (st_empty(cpu, 0) || st_empty(cpu, i)) {
		if (!fpu_stack_fault(cpu, false))
			return;
		fpu_set_cc(cpu, CC_UNORDERED, CC_UNORDERED);
	} else {
		a = st_get(cpu, 0);
		b = st_get(cpu, i);
		if (!fpu_compared(cpu, f80_compare(&a, &b, quiet)))
			return;
	}
	while (pops--)
		fpu_pop(cpu);
}

/* D8 D0+i, and its alias DC D0+i. */
static void x87_fcom(struct soft_cpu *cpu, struct insn *in)
{
	fpu_compare_st(cpu, in->rm, false, 0);
}

/* D8 D8+i, and its aliases DC D8+i and DE D0+i. */
static void x87_fcomp(struct soft_cpu *cpu, struct insn *in)
{
	fpu_compare_st(cpu, in->rm, false, 1);
}

static void x87_fucom(struct soft_cpu *cpu, struct insn *in)
{
	fpu_compare_st(cpu, in->rm, true, 0);
}

static void x87_fucomp(struct soft_cpu *cpu, struct insn *in)
{
	fpu_compare_st(cpu, in->rm, true, 1);
}

static void x87_fcompp(struct soft_cpu *cpu, struct insn *in)
{
	fpu_compare_st(cpu, 1, false, 2);
}

static void x87_fucompp(struct soft_cpu *cpu, struct insn *in)
{
	fpu_compare_st(cpu, 1, true, 2);
}

/* FCOM, FCOMP, FICOM, FICOMP with a memory operand. */
static void x87_compare_mem(struct soft_cpu *cpu, struct insn *in)
{
	enum fpu_format fmt = arith_format(in);
	struct f80 a, b;
	u8 raw[8];

	fpu_read_bytes(cpu, in->seg, cpu->ea, raw, format_size[fmt]);
	if (st_empty(cpu, 0)) {
		if (!fpu_stack_fault(cpu, false))
			return;
		fpu_set_cc(cpu, CC_UNORDERED, CC_UNORDERED);
	} else {
		u16 conv = arith_operand(fmt, raw, &b), sw;

		a = st_get(cpu, 0);
		sw = f80_compare(&a, &b, false);
		conv = denormal_outranked(conv, sw, &a);
		if (!fpu_raise(cpu, conv, STOP_REG) || !fpu_compared(cpu, sw))
			return;
	}
	if (in->reg == 3)
		fpu_pop(cpu);
}

/*
 * FCOMI, FUCOMI (DB) and FCOMIP, FUCOMIP (DF): ZF, PF, CF as C3, C2, C0
 * would be; OF, SF and AF cleared (SDM vol. 2, FCOMI).
 */
static void x87_comi(struct soft_cpu *cpu, struct insn *in)
{
	u16 cc = CC_UNORDERED;
	struct f80 a, b;

	if (st_empty(cpu, 0) || st_empty(cpu, in->rm)) {
		if (!fpu_stack_fault(cpu, false))
			return;
	} else {
		a = st_get(cpu, 0);
		b = st_get(cpu, in->rm);
		cc = f80_compare(&a, &b, in->reg == 5);
		if (!fpu_raise(cpu, cc, STOP_REG))
			return;
		fpu_set_cc(cpu, FSW_C1, 0);
	}
	set_flag(cpu, FL_ZF, cc & FSW_C3);
	set_flag(cpu, FL_PF, cc & FSW_C2);
	set_flag(cpu, FL_CF, cc & FSW_C0);
	cpu->s.eflags &= ~(FL_OF | FL_SF | FL_AF);
	if (in->op == 0xdf)
		fpu_pop(cpu);
}

static void x87_ftst(struct soft_cpu *cpu, struct insn *in)
{
	struct f80 v;

	if (st_empty(cpu, 0)) {
		if (fpu_stack_fault(cpu, false))
			fpu_set_cc(cpu, CC_UNORDERED, CC_UNORDERED);
		return;
	}
	v = st_get(cpu, 0);
	fpu_compared(cpu, f80_test(&v));
}

/* C1 is the sign even for an empty register (SDM vol. 2, FXAM). */
static void x87_fxam(struct soft_cpu *cpu, struct insn *in)
{
	struct f80 v = st_get(cpu, 0);
	u16 cc = FSW_C3 | FSW_C0; /* empty */

	if (!st_empty(cpu, 0))
		cc = f80_examine(&v);
	cc = (cc & (u16)~FSW_C1) | (v.b[9] & 0x80 ? FSW_C1 : 0);
	fpu_set_cc(cpu, FSW_CC, cc);
}

/* --- loads, stores, moves --- */

/* FLD m32/m64/m80fp, FILD m16/m32/m64int, FBLD. */
static enum fpu_format load_format(const struct insn *in)
{
	switch (in->op) {
	case 0xd9:
		return M32FP;
	case 0xdd:
		return M64FP;
	case 0xdb:
		return in->reg == 0 ? M32INT : M80FP;
	default: /* DF */
		return in->reg == 0 ? M16INT : in->reg == 4 ? M80BCD : M64INT;
	}
}

static void x87_load_mem(struct soft_cpu *cpu, struct insn *in)
{
	enum fpu_format fmt = load_format(in);
	struct f80 v;
	u8 raw[10];

	fpu_read_bytes(cpu, in->seg, cpu->ea, raw, format_size[fmt]);
	if (!fpu_push_room(cpu))
		return;
	if (!fpu_raise(cpu, fpu_from_memory(fmt, raw, &v), STOP_REG))
		return;
	fpu_push(cpu, &v);
	fpu_set_cc(cpu, FSW_C1, 0);
}

/* FST, FSTP m32/m64/m80fp, FIST, FISTP m16/m32/m64int, FBSTP. */
static enum fpu_format store_format(const struct insn *in)
{
	switch (in->op) {
	case 0xd9:
		return M32FP;
	case 0xdd:
		return M64FP;
	case 0xdb:
		return in->reg == 7 ? M80FP : M32INT;
	default: /* DF */
		return in->reg == 6 ? M80BCD : in->reg == 7 ? M64INT : M16INT;
	}
}

/*
 * The memory write comes before any state change, so a page fault on it
 * restarts the instruction cleanly. A masked stack underflow stores the
 * format's indefinite, which is what converting the QNaN indefinite
 * gives.
 */
static void x87_store_mem(struct soft_cpu *cpu, struct insn *in)
{
	enum fpu_format fmt = store_format(in);
	bool underflow = st_empty(cpu, 0);
	struct f80 x = f80_indefinite;
	u8 raw[10];
	u16 sw;

	if (underflow && !(cpu->s.fpu.fcw & FCW_IM)) {
		fpu_stack_fault(cpu, false);
		return;
	}
	if (!underflow)
		x = st_get(cpu, 0);
	sw = fpu_to_memory(cpu->s.fpu.fcw, fmt, &x, raw);
	if (!fpu_stopped(cpu, sw, STOP_MEM))
		fpu_write_bytes(cpu, in->seg, cpu->ea, raw, format_size[fmt]);
	if (!fpu_raise(cpu, sw, STOP_MEM))
		return;
	fpu_set_cc(cpu, FSW_C1, sw);
	if (underflow)
		fpu_stack_fault(cpu, false);
	if (in->reg != 2)
		fpu_pop(cpu);
}

/*
 * FISTTP m16/m32/m64int (SSE3: DF /1, DB /1, DD /1): FISTP that always
 * truncates, whatever FCW.RC says.
 */
static void x87_fisttp(struct soft_cpu *cpu, struct insn *in)
{
	enum fpu_format fmt = in->op == 0xdb ? M32INT :
			      in->op == 0xdd ? M64INT :
					       M16INT;
	bool underflow = st_empty(cpu, 0);
	struct f80 x = f80_indefinite;
	u8 raw[10];
	u16 sw;

	if (underflow && !(cpu->s.fpu.fcw & FCW_IM)) {
		fpu_stack_fault(cpu, false);
		return;
	}
	if (!underflow)
		x = st_get(cpu, 0);
	sw = fpu_to_memory(cpu->s.fpu.fcw | 0x0c00, fmt, &x, raw);
	if (!fpu_stopped(cpu, sw, STOP_MEM))
		fpu_write_bytes(cpu, in->seg, cpu->ea, raw, format_size[fmt]);
	if (!fpu_raise(cpu, sw, STOP_MEM))
		return;
	fpu_set_cc(cpu, FSW_C1, sw);
	if (underflow)
		fpu_stack_fault(cpu, false);
	fpu_pop(cpu);
}

static void x87_fld_st(struct soft_cpu *cpu, struct insn *in)
{
	bool empty = st_empty(cpu, in->rm);
	struct f80 v = empty ? f80_indefinite : st_get(cpu, in->rm);

	/*
	 * An empty source is reported as underflow (C1 = 0) even when the
	 * push overflows too, as the AMD EPYC host does (twoostwo-hostdiff);
	 * the SDM does not order the two.
	 */
	if (empty) {
		if (fpu_stack_fault(cpu, false))
			fpu_push(cpu, &v);
		return;
	}
	if (!fpu_push_room(cpu))
		return;
	fpu_push(cpu, &v);
	if (!empty)
		fpu_set_cc(cpu, FSW_C1, 0);
}

static void fpu_store_st(struct soft_cpu *cpu, unsigned i, bool pop)
{
	struct f80 v = f80_indefinite;

	if (st_empty(cpu, 0)) {
		if (!fpu_stack_fault(cpu, false))
			return;
	} else {
		v = st_get(cpu, 0);
		fpu_set_cc(cpu, FSW_C1, 0);
	}
	st_set(cpu, i, &v);
	if (pop)
		fpu_pop(cpu);
}

static void x87_fst_st(struct soft_cpu *cpu, struct insn *in)
{
	fpu_store_st(cpu, in->rm, false);
}

/* DD D8+i, and its aliases D9 D8+i, DF D0+i, DF D8+i. */
static void x87_fstp_st(struct soft_cpu *cpu, struct insn *in)
{
	fpu_store_st(cpu, in->rm, true);
}

/* D9 C8+i, and its aliases DD C8+i, DF C8+i. */
static void x87_fxch(struct soft_cpu *cpu, struct insn *in)
{
	struct f80 a = f80_indefinite, b = f80_indefinite;

	if (st_empty(cpu, 0) || st_empty(cpu, in->rm)) {
		/* Masked: empty registers take part as the indefinite. */
		if (!fpu_stack_fault(cpu, false))
			return;
	} else {
		fpu_set_cc(cpu, FSW_C1, 0);
	}
	if (!st_empty(cpu, 0))
		a = st_get(cpu, 0);
	if (!st_empty(cpu, in->rm))
		b = st_get(cpu, in->rm);
	st_set(cpu, 0, &b);
	st_set(cpu, in->rm, &a);
}

/* DA/DB C0-DF: FCMOVB, E, BE, U and their negations, as Jcc tests. */
static void x87_fcmov(struct soft_cpu *cpu, struct insn *in)
{
	static const u8 jcc[4] = {0x2, 0x4, 0x6, 0xa};
	struct f80 v;

	if (st_empty(cpu, 0) || st_empty(cpu, in->rm)) {
		fpu_underflow_st0(cpu);
		return;
	}
	fpu_set_cc(cpu, FSW_C1, 0);
	if (cond_true(cpu, jcc[in->reg & 3] | (in->op == 0xdb))) {
		v = st_get(cpu, in->rm);
		st_set(cpu, 0, &v);
	}
}

static void x87_fldconst(struct soft_cpu *cpu, struct insn *in)
{
	struct f80 v;

	if (!fpu_push_room(cpu))
		return;
	f80_load_const(cpu->s.fpu.fcw, in->rm, &v);
	fpu_push(cpu, &v);
	fpu_set_cc(cpu, FSW_C1, 0);
}

/* --- stack and control --- */

static void x87_ffree(struct soft_cpu *cpu, struct insn *in)
{
	tag_set(cpu, st_phys(cpu, in->rm), F80_TAG_EMPTY);
}

/* DF C0+i: FFREE, then pop (undocumented, present since the 387). */
static void x87_ffreep(struct soft_cpu *cpu, struct insn *in)
{
	x87_ffree(cpu, in);
	fpu_pop(cpu);
}

static void x87_fdecstp(struct soft_cpu *cpu, struct insn *in)
{
	fpu_set_top(cpu, fpu_top(cpu) - 1);
	fpu_set_cc(cpu, FSW_C1, 0);
}

static void x87_fincstp(struct soft_cpu *cpu, struct insn *in)
{
	fpu_set_top(cpu, fpu_top(cpu) + 1);
	fpu_set_cc(cpu, FSW_C1, 0);
}

/* FNOP; and FENI, FDISI, FSETPM, which do nothing since the 387 (8.3.13). */
static void x87_nop(struct soft_cpu *cpu, struct insn *in)
{
}

static void x87_fnclex(struct soft_cpu *cpu, struct insn *in)
{
	cpu->s.fpu.fsw &= (u16) ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

static void fpu_init(struct soft_cpu *cpu)
{
	struct x86_fpu_state *f = &cpu->s.fpu;

	f->fcw = FCW_INIT;
	f->fsw = 0;
	f->ftw = 0xffff;
	f->fop = 0;
	f->fip = f->fdp = 0;
	f->fcs = f->fds = 0;
}

static void x87_fninit(struct soft_cpu *cpu, struct insn *in)
{
	fpu_init(cpu);
}

static void x87_fldcw(struct soft_cpu *cpu, struct insn *in)
{
	fpu_set_control(cpu, mem_read16(cpu, in->seg, cpu->ea));
	fpu_update_es(cpu);
}

static void x87_fnstcw(struct soft_cpu *cpu, struct insn *in)
{
	mem_write16(cpu, in->seg, cpu->ea, cpu->s.fpu.fcw);
}

static void x87_fnstsw_mem(struct soft_cpu *cpu, struct insn *in)
{
	mem_write16(cpu, in->seg, cpu->ea, cpu->s.fpu.fsw);
}

static void x87_fnstsw_ax(struct soft_cpu *cpu, struct insn *in)
{
	reg_write(cpu, R_EAX, cpu->s.fpu.fsw, 2);
}

/* --- FSTENV/FLDENV and FSAVE/FRSTOR images (SDM vol. 1, 8.1.10) --- */

static unsigned env_size(const struct insn *in)
{
	return in->osize == 4 ? ENV32_SIZE : ENV16_SIZE;
}

/* Real-address and virtual-8086 mode use the real-mode layouts. */
static bool env_real(const struct soft_cpu *cpu)
{
	return !cpu->pe || cpu->vm86;
}

/* Real-mode images hold 20- or 32-bit linear pointers. */
static u32 env_linear(u16 sel, u32 off)
{
	return ((u32)sel << 4) + off;
}

/* Figures 8-9 and 8-10; reserved upper halves of words read as ones. */
static void env_encode32(const struct soft_cpu *cpu, u8 *img)
{
	const struct x86_fpu_state *f = &cpu->s.fpu;
	u32 fop = f->fop & FOP_MASK, ip, dp;

	put_le32(img, 0xffff0000u | f->fcw);
	put_le32(img + 4, 0xffff0000u | f->fsw);
	put_le32(img + 8, 0xffff0000u | fpu_full_tags(cpu));
	if (env_real(cpu)) {
		ip = env_linear(f->fcs, f->fip);
		dp = env_linear(f->fds, f->fdp);
		put_le32(img + 12, 0xffff0000u | (ip & 0xffff));
		put_le32(img + 16, (ip >> 16) << 12 | fop);
		put_le32(img + 20, 0xffff0000u | (dp & 0xffff));
		put_le32(img + 24, (dp >> 16) << 12);
	} else {
		put_le32(img + 12, f->fip);
		put_le32(img + 16, f->fcs | fop << 16);
		put_le32(img + 20, f->fdp);
		put_le32(img + 24, 0xffff0000u | f->fds);
	}
}

/* Figures 8-11 and 8-12. */
static void env_encode16(const struct soft_cpu *cpu, u8 *img)
{
	const struct x86_fpu_state *f = &cpu->s.fpu;
	u32 ip, dp;

	put_le16(img, f->fcw);
	put_le16(img + 2, f->fsw);
	put_le16(img + 4, fpu_full_tags(cpu));
	if (env_real(cpu)) {
		ip = env_linear(f->fcs, f->fip);
		dp = env_linear(f->fds, f->fdp);
		put_le16(img + 6, (u16)ip);
		put_le16(img + 8,
			 (u16)((ip >> 16) << 12 | (f->fop & FOP_MASK)));
		put_le16(img + 10, (u16)dp);
		put_le16(img + 12, (u16)((dp >> 16) << 12));
	} else {
		put_le16(img + 6, (u16)f->fip);
		put_le16(img + 8, f->fcs);
		put_le16(img + 10, (u16)f->fdp);
		put_le16(img + 12, f->fds);
	}
}

/*
 * A real-mode image splits each linear pointer: bits 15-0 in one field,
 * the rest from bit 12 of the next.
 */
static u32 env_join(u32 lo, u32 hi)
{
	return (lo & 0xffff) | ((hi >> 12) & 0xffff) << 16;
}

/* Pointers from a real-mode image become linear offsets with selector 0. */
static void env_decode32(struct soft_cpu *cpu, const u8 *img)
{
	struct x86_fpu_state *f = &cpu->s.fpu;

	if (env_real(cpu)) {
		f->fip = env_join(get_le32(img + 12), get_le32(img + 16));
		f->fop = get_le32(img + 16) & FOP_MASK;
		f->fdp = env_join(get_le32(img + 20), get_le32(img + 24));
		f->fcs = f->fds = 0;
	} else {
		f->fip = get_le32(img + 12);
		f->fcs = get_le16(img + 16);
		f->fop = get_le16(img + 18) & FOP_MASK;
		f->fdp = get_le32(img + 20);
		f->fds = get_le16(img + 24);
	}
}

static void env_decode16(struct soft_cpu *cpu, const u8 *img)
{
	struct x86_fpu_state *f = &cpu->s.fpu;

	if (env_real(cpu)) {
		f->fip = env_join(get_le16(img + 6), get_le16(img + 8));
		f->fop = get_le16(img + 8) & FOP_MASK;
		f->fdp = env_join(get_le16(img + 10), get_le16(img + 12));
		f->fcs = f->fds = 0;
	} else {
		f->fip = get_le16(img + 6);
		f->fcs = get_le16(img + 8);
		f->fdp = get_le16(img + 10);
		f->fds = get_le16(img + 12);
	}
}

static void env_encode(const struct soft_cpu *cpu, const struct insn *in,
		       u8 *img)
{
	if (in->osize == 4)
		env_encode32(cpu, img);
	else
		env_encode16(cpu, img);
}

/*
 * Load an environment image. The register contents must already be in
 * place: the tags are rebuilt from them.
 */
static void env_decode(struct soft_cpu *cpu, const struct insn *in,
		       const u8 *img)
{
	struct x86_fpu_state *f = &cpu->s.fpu;
	unsigned word = in->osize == 4 ? 4 : 2;

	if (in->osize == 4)
		env_decode32(cpu, img);
	else
		env_decode16(cpu, img);
	fpu_set_control(cpu, get_le16(img));
	f->fsw = get_le16(img + word);
	fpu_load_tags(cpu, tags_nonempty(get_le16(img + 2 * word)));
	fpu_update_es(cpu);
}

static void x87_fldenv(struct soft_cpu *cpu, struct insn *in)
{
	u8 img[ENV32_SIZE];

	fpu_read_bytes(cpu, in->seg, cpu->ea, img, env_size(in));
	env_decode(cpu, in, img);
}

/* FNSTENV then masks every exception (SDM vol. 2, FSTENV). */
static void x87_fnstenv(struct soft_cpu *cpu, struct insn *in)
{
	u8 img[ENV32_SIZE];

	env_encode(cpu, in, img);
	fpu_write_bytes(cpu, in->seg, cpu->ea, img, env_size(in));
	cpu->s.fpu.fcw |= FCW_MASKS;
	fpu_update_es(cpu);
}

/* The environment, then ST(0)..ST(7) in 10 bytes each. */
static void x87_frstor(struct soft_cpu *cpu, struct insn *in)
{
	u8 img[ENV32_SIZE + 80];
	unsigned size = env_size(in), word = in->osize == 4 ? 4 : 2;
	unsigned top, i;

	fpu_read_bytes(cpu, in->seg, cpu->ea, img, size + 80);
	top = (get_le16(img + word) & FSW_TOP) >> 11;
	for (i = 0; i < 8; i++)
		memcpy(cpu->s.fpu.st[(top + i) & 7], img + size + 10 * i, 10);
	env_decode(cpu, in, img);
}

/* FNSAVE then reinitialises the FPU as FNINIT does. */
static void x87_fnsave(struct soft_cpu *cpu, struct insn *in)
{
	u8 img[ENV32_SIZE + 80];
	unsigned size = env_size(in), i;

	env_encode(cpu, in, img);
	for (i = 0; i < 8; i++)
		memcpy(img + size + 10 * i, cpu->s.fpu.st[st_phys(cpu, i)], 10);
	fpu_write_bytes(cpu, in->seg, cpu->ea, img, size + 80);
	fpu_init(cpu);
}

/* --- dispatch --- */

typedef void (*x87_fn)(struct soft_cpu *cpu, struct insn *in);

struct x87_insn {
	x87_fn fn;		      /* NULL: #UD */
	const struct x87_insn *by_rm; /* the ST(i) field picks the insn */
	u8 flags;
};

#define X_NOWAIT BIT(0)	 /* FNxxx: does not take pending exceptions */
#define X_CONTROL BIT(1) /* leaves FIP, FDP and FOP alone */

/* The tables read better as opcode maps. */
/* clang-format off */
#define I(fn) { fn, NULL, 0 }
#define CTL(fn) { fn, NULL, X_CONTROL }
#define NOWAIT(fn) { fn, NULL, X_NOWAIT | X_CONTROL }
#define BY_RM(table) { NULL, table, 0 }
#define ARITH_ROW(arith, com, comp)                                      \
	{ I(arith), I(arith), I(com), I(comp),                            \
	  I(arith), I(arith), I(arith), I(arith) }

/* D9 D0-D7, E0-FF; DA E8-EF; DB E0-E7; DE D8-DF; DF E0-E7. */
static const struct x87_insn d9_d0[8] = { I(x87_nop) };
static const struct x87_insn d9_e0[8] = {
	I(x87_fchs), I(x87_fabs), [4] = I(x87_ftst), I(x87_fxam),
};
static const struct x87_insn d9_e8[8] = {
	I(x87_fldconst), I(x87_fldconst), I(x87_fldconst), I(x87_fldconst),
	I(x87_fldconst), I(x87_fldconst), I(x87_fldconst),
};
static const struct x87_insn d9_f0[8] = {
	I(x87_f2xm1),	I(x87_fyl2x),  I(x87_fptan),   I(x87_fpatan),
	I(x87_fxtract), I(x87_fprem1), I(x87_fdecstp), I(x87_fincstp),
};
static const struct x87_insn d9_f8[8] = {
	I(x87_fprem),	I(x87_fyl2xp1), I(x87_fsqrt), I(x87_fsincos),
	I(x87_frndint), I(x87_fscale),	I(x87_fsin),  I(x87_fcos),
};
static const struct x87_insn da_e8[8] = { [1] = I(x87_fucompp) };
static const struct x87_insn db_e0[8] = {
	NOWAIT(x87_nop),    NOWAIT(x87_nop), NOWAIT(x87_fnclex),
	NOWAIT(x87_fninit), NOWAIT(x87_nop),
};
static const struct x87_insn de_d8[8] = { [1] = I(x87_fcompp) };
static const struct x87_insn df_e0[8] = { NOWAIT(x87_fnstsw_ax) };

/* Memory forms, by opcode and reg (SDM vol. 2, table A-7). */
static const struct x87_insn x87_mem[8][8] = {
	ARITH_ROW(x87_arith_mem, x87_compare_mem, x87_compare_mem),
	{ I(x87_load_mem), {}, I(x87_store_mem), I(x87_store_mem),
	  CTL(x87_fldenv), CTL(x87_fldcw), NOWAIT(x87_fnstenv),
	  NOWAIT(x87_fnstcw) },
	ARITH_ROW(x87_arith_mem, x87_compare_mem, x87_compare_mem),
	{ I(x87_load_mem), I(x87_fisttp), I(x87_store_mem), I(x87_store_mem),
	  {}, I(x87_load_mem), {}, I(x87_store_mem) },
	ARITH_ROW(x87_arith_mem, x87_compare_mem, x87_compare_mem),
	{ I(x87_load_mem), I(x87_fisttp), I(x87_store_mem), I(x87_store_mem),
	  CTL(x87_frstor), {}, NOWAIT(x87_fnsave), NOWAIT(x87_fnstsw_mem) },
	ARITH_ROW(x87_arith_mem, x87_compare_mem, x87_compare_mem),
	{ I(x87_load_mem), I(x87_fisttp), I(x87_store_mem), I(x87_store_mem),
	  I(x87_load_mem), I(x87_load_mem), I(x87_store_mem),
	  I(x87_store_mem) },
};

/*
 * Register forms, by opcode and reg (table A-8). Besides the documented
 * instructions this includes the aliases every processor since the 387
 * decodes: FSTP (D9 D8, DF D0, DF D8), FCOM/FCOMP (DC D0, DC D8, DE D0),
 * FXCH (DD C8, DF C8) and FFREEP (DF C0).
 */
static const struct x87_insn x87_reg[8][8] = {
	ARITH_ROW(x87_arith_st0, x87_fcom, x87_fcomp),
	{ I(x87_fld_st), I(x87_fxch), BY_RM(d9_d0), I(x87_fstp_st),
	  BY_RM(d9_e0), BY_RM(d9_e8), BY_RM(d9_f0), BY_RM(d9_f8) },
	{ I(x87_fcmov), I(x87_fcmov), I(x87_fcmov), I(x87_fcmov), {},
	  BY_RM(da_e8) },
	{ I(x87_fcmov), I(x87_fcmov), I(x87_fcmov), I(x87_fcmov),
	  BY_RM(db_e0), I(x87_comi), I(x87_comi) },
	ARITH_ROW(x87_arith_sti, x87_fcom, x87_fcomp),
	{ I(x87_ffree), I(x87_fxch), I(x87_fst_st), I(x87_fstp_st),
	  I(x87_fucom), I(x87_fucomp) },
	{ I(x87_arith_sti), I(x87_arith_sti), I(x87_fcomp), BY_RM(de_d8),
	  I(x87_arith_sti), I(x87_arith_sti), I(x87_arith_sti),
	  I(x87_arith_sti) },
	{ I(x87_ffreep), I(x87_fxch), I(x87_fstp_st), I(x87_fstp_st),
	  BY_RM(df_e0), I(x87_comi), I(x87_comi) },
};

/* clang-format on */

static const struct x87_insn *x87_lookup(const struct insn *in)
{
	const struct x87_insn *e;

	if (in->mod != 3)
		return &x87_mem[in->op & 7][in->reg];
	e = &x87_reg[in->op & 7][in->reg];
	return e->by_rm ? &e->by_rm[in->rm] : e;
}

/* The last non-control instruction, for exception handlers (8.1.8). */
static void fpu_record(struct soft_cpu *cpu, const struct insn *in)
{
	struct x86_fpu_state *f = &cpu->s.fpu;

	f->fip = cpu->insn_eip;
	f->fcs = cpu->s.seg[S_CS].selector;
	f->fop =
		(u16)((in->op & 7) << 8 | in->mod << 6 | in->reg << 3 | in->rm);
	if (in->mod != 3) {
		f->fdp = cpu->ea;
		f->fds = cpu->s.seg[in->seg].selector;
	}
}

void fpu_reset(struct soft_cpu *cpu)
{
	cpu->s.fpu = (struct x86_fpu_state){.mxcsr = MXCSR_INIT};
	fpu_init(cpu);
}

/*
 * ESC without a coprocessor: the CPU only computes the operand address.
 * The 286 still checks the segment limit for the first word it would
 * transfer; an 80C286 recorded doing so raises #GP for a memory operand
 * at offset 0xFFFF (SingleStepTests 80286, opcode D8).
 */
static void fpu_absent(struct soft_cpu *cpu, const struct insn *in)
{
	if (!is_8086(cpu) && in->mod != 3)
		seg_linear(cpu, in->seg, cpu->ea, 2, false);
}

void fpu_exec(struct soft_cpu *cpu, struct insn *in)
{
	const struct x87_insn *e;

	if (is_286_or_older(cpu)) {
		fpu_absent(cpu, in);
		return;
	}
	/* SDM vol. 3, table 2-2: EM emulates, TS defers the context. */
	if (cpu->s.cr0 & (CR0_EM | CR0_TS))
		cpu_fault_noerr(cpu, EXC_NM);
	e = x87_lookup(in);
	if (!e->fn)
		undefined_opcode(cpu);
	if (!(e->flags & X_NOWAIT))
		fpu_check_pending(cpu);
	if (!(e->flags & X_CONTROL))
		fpu_record(cpu, in);
	e->fn(cpu, in);
}

void fpu_fwait(struct soft_cpu *cpu)
{
	if (is_286_or_older(cpu))
		return;
	if ((cpu->s.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		cpu_fault_noerr(cpu, EXC_NM);
	fpu_check_pending(cpu);
}

/* --- FXSAVE/FXRSTOR (SDM vol. 2, FXSAVE, table 3-53) --- */

/* XMM registers in the image: 16 in 64-bit mode (SDM table 3-56). */
static unsigned fx_nxmm(const struct soft_cpu *cpu)
{
	return cpu->code64 ? 16 : 8;
}

/* Bytes of the image written and read: the rest is left alone. */
static unsigned fx_used(const struct soft_cpu *cpu)
{
	return FX_XMM + 16 * fx_nxmm(cpu);
}

static void fx_check(struct soft_cpu *cpu, int seg, u64 off)
{
	if (is_286_or_older(cpu))
		undefined_opcode(cpu);
	if (cpu->s.cr0 & (CR0_EM | CR0_TS))
		cpu_fault_noerr(cpu, EXC_NM);
	if ((cpu->s.seg[seg].base + off) & 15)
		cpu_fault(cpu, EXC_GP, 0);
}

/*
 * The tag byte is abridged, one bit per physical register set when it is
 * not empty; the registers are in stack order. The XMM registers are
 * saved whether or not CR4.OSFXSR is set, which the SDM permits.
 */
void fpu_fxsave(struct soft_cpu *cpu, int seg, u64 off)
{
	const struct x86_fpu_state *f = &cpu->s.fpu;
	u8 img[FXSAVE_USED] = {0};
	unsigned i;

	fx_check(cpu, seg, off);
	put_le16(img, f->fcw);
	put_le16(img + 2, f->fsw);
	img[4] = tags_nonempty(f->ftw);
	put_le16(img + 6, f->fop & FOP_MASK);
	put_le32(img + 8, f->fip);
	put_le16(img + 12, f->fcs);
	put_le32(img + 16, f->fdp);
	put_le16(img + 20, f->fds);
	put_le32(img + 24, f->mxcsr);
	put_le32(img + 28, MXCSR_MASK);
	for (i = 0; i < 8; i++)
		memcpy(img + FX_ST + 16 * i, f->st[st_phys(cpu, i)], 10);
	/* Outside 64-bit mode the image holds XMM0-7 only. */
	memcpy(img + FX_XMM, f->xmm, fx_nxmm(cpu) * sizeof(f->xmm[0]));
	fpu_write_bytes(cpu, seg, off, img, fx_used(cpu));
}

void fpu_fxrstor(struct soft_cpu *cpu, int seg, u64 off)
{
	struct x86_fpu_state *f = &cpu->s.fpu;
	u8 img[FXSAVE_USED];
	unsigned i;
	u32 mxcsr;

	fx_check(cpu, seg, off);
	memset(img, 0, sizeof(img));
	fpu_read_bytes(cpu, seg, off, img, fx_used(cpu));
	mxcsr = get_le32(img + 24);
	if (mxcsr & ~MXCSR_MASK)
		cpu_fault(cpu, EXC_GP, 0);
	fpu_set_control(cpu, get_le16(img));
	f->fsw = get_le16(img + 2);
	f->fop = get_le16(img + 6) & FOP_MASK;
	f->fip = get_le32(img + 8);
	f->fcs = get_le16(img + 12);
	f->fdp = get_le32(img + 16);
	f->fds = get_le16(img + 20);
	f->mxcsr = mxcsr;
	for (i = 0; i < 8; i++)
		memcpy(f->st[st_phys(cpu, i)], img + FX_ST + 16 * i, 10);
	memcpy(f->xmm, img + FX_XMM, fx_nxmm(cpu) * sizeof(f->xmm[0]));
	fpu_load_tags(cpu, img[4]);
	fpu_update_es(cpu);
}

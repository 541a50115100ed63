// SPDX-License-Identifier: MIT
#include "cpu/soft/alu.h"

void flags_szp(struct soft_cpu *cpu, u64 res, unsigned size)
{
	u32 f;

	flags_sync(cpu);
	f = cpu->s.eflags & ~(FL_SF | FL_ZF | FL_PF);

	res &= size_mask(size);
	if (!res)
		f |= FL_ZF;
	if (res & sign_bit(size))
		f |= FL_SF;
	if (!__builtin_parity(res & 0xff))
		f |= FL_PF;
	cpu->s.eflags = f;
}

/* CF of a + b + carry at size bytes (a, b already masked). */
static bool add_carry(u64 a, u64 b, u64 carry, unsigned size)
{
	if (size == 8)
		return ((unsigned __int128)a + b + carry) >> 64;
	return (a + b + carry) >> (8 * size);
}

static void flags_add(struct soft_cpu *cpu, u64 a, u64 b, u64 carry,
		      unsigned size)
{
	u64 m = size_mask(size);
	u64 res = (a + b + carry) & m;

	flags_szp(cpu, res, size);
	set_flag(cpu, FL_CF, add_carry(a & m, b & m, carry, size));
	set_flag(cpu, FL_AF, (a ^ b ^ res) & 0x10);
	set_flag(cpu, FL_OF, (a ^ res) & (b ^ res) & sign_bit(size));
}

static void flags_sub(struct soft_cpu *cpu, u64 a, u64 b, u64 borrow,
		      unsigned size)
{
	u64 m = size_mask(size);
	u64 res = (a - b - borrow) & m;

	flags_szp(cpu, res, size);
	set_flag(cpu, FL_CF, (unsigned __int128)(a & m) <
				     (unsigned __int128)(b & m) + borrow);
	set_flag(cpu, FL_AF, (a ^ b ^ res) & 0x10);
	set_flag(cpu, FL_OF, (a ^ b) & (a ^ res) & sign_bit(size));
}

static void flags_logic(struct soft_cpu *cpu, u64 res, unsigned size)
{
	flags_szp(cpu, res, size);
	cpu->s.eflags &= ~(FL_CF | FL_OF | FL_AF);
}

void flags_materialize(struct soft_cpu *cpu)
{
	struct lazy_flags l = cpu->lazy;

	cpu->lazy.op = LAZY_NONE;
	switch (l.op) {
	case LAZY_ADD:
		flags_add(cpu, l.a, l.b, l.carry, l.size);
		break;
	case LAZY_SUB:
		flags_sub(cpu, l.a, l.b, l.carry, l.size);
		break;
	case LAZY_LOGIC:
		flags_logic(cpu, l.res, l.size);
		break;
	case LAZY_INC:
	case LAZY_DEC:
		if (l.op == LAZY_INC)
			flags_add(cpu, l.a, 1, 0, l.size);
		else
			flags_sub(cpu, l.a, 1, 0, l.size);
		if (l.carry)
			cpu->s.eflags |= FL_CF;
		else
			cpu->s.eflags &= ~FL_CF;
		break;
	case LAZY_SHIFT:
		flags_szp(cpu, l.res, l.size);
		cpu->s.eflags &= ~(FL_CF | FL_OF | FL_AF);
		if (l.carry)
			cpu->s.eflags |= FL_CF;
		if (l.b)
			cpu->s.eflags |= FL_OF;
		break;
	default:
		break;
	}
}

/* CF alone, without materializing the other flags of a lazy record. */
static u64 carry_flag(struct soft_cpu *cpu)
{
	const struct lazy_flags *l = &cpu->lazy;

	switch (l->op) {
	case LAZY_NONE:
		return !!(cpu->s.eflags & FL_CF);
	case LAZY_LOGIC:
		return 0;
	case LAZY_ADD:
		return add_carry(l->a, l->b, l->carry, l->size);
	case LAZY_SUB:
		return (unsigned __int128)l->a <
		       (unsigned __int128)l->b + l->carry;
	default: /* INC, DEC keep the CF they found; shifts record it */
		return l->carry;
	}
}

u64 alu(struct soft_cpu *cpu, int op, u64 a, u64 b, unsigned size)
{
	u64 m = size_mask(size), c;

	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADD:
		return lazy_record(cpu, LAZY_ADD, a, b, 0, (a + b) & m, size);
	case ALU_ADC:
		c = carry_flag(cpu);
		return lazy_record(cpu, LAZY_ADD, a, b, c, (a + b + c) & m,
				   size);
	case ALU_SBB:
		c = carry_flag(cpu);
		return lazy_record(cpu, LAZY_SUB, a, b, c, (a - b - c) & m,
				   size);
	case ALU_SUB:
	case ALU_CMP:
		return lazy_record(cpu, LAZY_SUB, a, b, 0, (a - b) & m, size);
	case ALU_OR:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a | b, size);
	case ALU_AND:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a & b, size);
	default:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a ^ b, size);
	}
}

u64 alu_inc(struct soft_cpu *cpu, u64 a, unsigned size)
{
	u64 cf = carry_flag(cpu);

	a &= size_mask(size);
	return lazy_record(cpu, LAZY_INC, a, 1, cf, (a + 1) & size_mask(size),
			   size);
}

u64 alu_dec(struct soft_cpu *cpu, u64 a, unsigned size)
{
	u64 cf = carry_flag(cpu);

	a &= size_mask(size);
	return lazy_record(cpu, LAZY_DEC, a, 1, cf, (a - 1) & size_mask(size),
			   size);
}

u64 alu_neg(struct soft_cpu *cpu, u64 a, unsigned size)
{
	a &= size_mask(size);
	return lazy_record(cpu, LAZY_SUB, 0, a, 0, (0 - a) & size_mask(size),
			   size);
}

static void set_cf_of(struct soft_cpu *cpu, bool cf, bool of)
{
	set_flag(cpu, FL_CF, cf);
	set_flag(cpu, FL_OF, of);
}

/* Rotates touch only CF and OF (SDM vol. 2, RCL/RCR/ROL/ROR). */
static u64 rotate(struct soft_cpu *cpu, int op, u64 v, unsigned count,
		  unsigned size)
{
	unsigned bits = 8 * size;
	u64 m = size_mask(size), msb = sign_bit(size);
	u64 cf = get_flag(cpu, FL_CF);
	unsigned i;

	v &= m;
	switch (op) {
	case SH_ROL:
		count %= bits;
		v = ((v << count) | (count ? v >> (bits - count) : 0)) & m;
		set_cf_of(cpu, v & 1, !!(v & msb) ^ (v & 1));
		return v;
	case SH_ROR:
		count %= bits;
		v = ((v >> count) | (count ? v << (bits - count) : 0)) & m;
		set_cf_of(cpu, v & msb, !!(v & msb) ^ !!(v & (msb >> 1)));
		return v;
	case SH_RCL:
		count %= bits + 1;
		for (i = 0; i < count; i++) {
			u64 out = !!(v & msb);

			v = ((v << 1) | cf) & m;
			cf = out;
		}
		set_cf_of(cpu, cf, !!(v & msb) ^ cf);
		return v;
	default: /* SH_RCR */
		count %= bits + 1;
		for (i = 0; i < count; i++) {
			u64 out = v & 1;

			v = (v >> 1) | (cf ? msb : 0);
			cf = out;
		}
		set_cf_of(cpu, cf, !!(v & msb) ^ !!(v & (msb >> 1)));
		return v;
	}
}

u64 alu_shift(struct soft_cpu *cpu, int op, u64 v, unsigned count,
	      unsigned size)
{
	if (!is_8086(cpu))
		count &= size == 8 ? 0x3f : 0x1f;
	if (!count)
		return v & size_mask(size);
	if (op < SH_SHL)
		return rotate(cpu, op, v, count, size);
	return alu_shift_lazy(cpu, op, v, count, size);
}

/* SHLD/SHRD r/m64 (count mod 64), with a 128-bit intermediate. */
static u64 alu_shld64(struct soft_cpu *cpu, u64 dst, u64 src, unsigned count,
		      bool left)
{
	unsigned __int128 wide;
	u64 res;
	bool cf;

	if (left) {
		wide = (unsigned __int128)dst << 64 | src;
		res = (u64)((wide << count) >> 64);
		cf = (dst >> (64 - count)) & 1;
	} else {
		wide = (unsigned __int128)src << 64 | dst;
		res = (u64)(wide >> count);
		cf = (dst >> (count - 1)) & 1;
	}
	flags_szp(cpu, res, 8);
	set_flag(cpu, FL_CF, cf);
	set_flag(cpu, FL_OF, ((res ^ dst) >> 63) & 1);
	return res;
}

u64 alu_shld(struct soft_cpu *cpu, u64 dst, u64 src, unsigned count,
	     unsigned size, bool left)
{
	unsigned bits = 8 * size;
	u64 wide, res;
	bool cf;

	count &= size == 8 ? 0x3f : 0x1f;
	if (!count)
		return dst;
	if (size == 8)
		return alu_shld64(cpu, dst, src, count, left);
	dst = (u32)dst;
	src = (u32)src;
	if (size == 2) {
		/* 16-bit with count > 16: undefined; use a 32-bit pattern. */
		wide = left ? ((u64)(dst & 0xffff) << 48 |
			       (u64)(src & 0xffff) << 32 | (dst & 0xffff)) :
			      ((u64)(dst & 0xffff) | (u64)(src & 0xffff) << 16 |
			       (u64)(dst & 0xffff) << 32);
	} else {
		wide = left ? ((u64)dst << 32 | src) : ((u64)src << 32 | dst);
	}
	if (left) {
		res = (wide << count) >> (size == 2 ? 48 : 32);
		cf = (wide >> (64 - count)) & 1;
	} else {
		res = wide >> count;
		cf = (wide >> (count - 1)) & 1;
	}
	res &= size_mask(size);
	flags_szp(cpu, res, size);
	set_flag(cpu, FL_CF, cf);
	set_flag(cpu, FL_OF, ((res ^ dst) >> (bits - 1)) & 1);
	return res;
}

/* MUL/IMUL r/m64: RDX:RAX = RAX * src (128-bit product). */
static void alu_mul64(struct soft_cpu *cpu, u64 src, bool is_signed)
{
	u64 a = cpu->s.gpr[R_EAX], lo, hi;
	bool overflow;

	if (is_signed) {
		__int128 r = (__int128)(s64)a * (s64)src;

		lo = (u64)r;
		hi = (u64)((unsigned __int128)r >> 64);
		overflow = r != (__int128)(s64)lo;
	} else {
		unsigned __int128 r = (unsigned __int128)a * src;

		lo = (u64)r;
		hi = (u64)(r >> 64);
		overflow = hi != 0;
	}
	cpu->s.gpr[R_EAX] = lo;
	cpu->s.gpr[R_EDX] = hi;
	set_cf_of(cpu, overflow, overflow);
	flags_szp(cpu, lo, 8);
	set_flag(cpu, FL_AF, false);
}

/* DIV/IDIV r/m64: RDX:RAX / src, #DE on zero or a quotient too wide. */
static void alu_div64(struct soft_cpu *cpu, u64 src, bool is_signed)
{
	unsigned __int128 dividend =
		(unsigned __int128)cpu->s.gpr[R_EDX] << 64 | cpu->s.gpr[R_EAX];
	u64 q, r;

	if (!src)
		cpu_fault_noerr(cpu, EXC_DE);
	if (is_signed) {
		__int128 sd = (__int128)dividend, sq, sr;
		s64 ss = (s64)src;

		if (ss == -1) {
			/* the quotient -sd: fits only if sd is in range */
			if (sd < -(__int128)INT64_MAX || sd > -(__int128)INT64_MIN)
				cpu_fault_noerr(cpu, EXC_DE);
			sq = -sd;
			sr = 0;
		} else {
			sq = sd / ss;
			sr = sd % ss;
		}
		if (sq < INT64_MIN || sq > INT64_MAX)
			cpu_fault_noerr(cpu, EXC_DE);
		q = (u64)sq;
		r = (u64)sr;
	} else {
		if ((dividend >> 64) >= src)
			cpu_fault_noerr(cpu, EXC_DE);
		q = (u64)(dividend / src);
		r = (u64)(dividend % src);
	}
	cpu->s.gpr[R_EAX] = q;
	cpu->s.gpr[R_EDX] = r;
}

void alu_mul(struct soft_cpu *cpu, u64 src, unsigned size, bool is_signed)
{
	u64 *g = cpu->s.gpr;
	u32 a = (u32)reg_read(cpu, R_EAX, size);
	u64 res;
	bool overflow;

	if (size == 8) {
		alu_mul64(cpu, src, is_signed);
		return;
	}
	src = (u32)src;
	if (is_signed) {
		s64 r = alu_sign_extend(a, size) * alu_sign_extend(src, size);

		res = (u64)r;
		overflow = r != alu_sign_extend((u32)r & size_mask(size), size);
	} else {
		res = (u64)(a & size_mask(size)) * (src & size_mask(size));
		overflow = res >> (8 * size);
	}
	if (size == 1) {
		g[R_EAX] = (g[R_EAX] & ~(u64)0xffff) | (u16)res;
	} else {
		reg_write(cpu, R_EAX, (u32)res, size);
		reg_write(cpu, R_EDX, (u32)(res >> (8 * size)), size);
	}
	set_cf_of(cpu, overflow, overflow);
	/* SF, ZF, PF are undefined; these follow the low half. */
	flags_szp(cpu, (u32)res, size);
	if (!is_8086(cpu))
		set_flag(cpu, FL_AF, false);
}

void alu_div(struct soft_cpu *cpu, u64 src, unsigned size, bool is_signed)
{
	unsigned bits = 8 * size;
	u64 m = size_mask(size);
	u64 dividend;
	u64 q, r;

	if (size == 8) {
		alu_div64(cpu, src, is_signed);
		return;
	}
	if (size == 1)
		dividend = (u16)cpu->s.gpr[R_EAX];
	else
		dividend = (u64)reg_read(cpu, R_EDX, size) << bits |
			   reg_read(cpu, R_EAX, size);
	src &= m;
	if (!src)
		cpu_fault_noerr(cpu, EXC_DE);
	if (is_signed) {
		s64 sd = (s64)(dividend << (64 - 2 * bits)) >> (64 - 2 * bits);
		s64 ss = alu_sign_extend(src, size);
		s64 sq, sr;
		s64 lo = -(s64)(1ull << (bits - 1)),
		    hi = (s64)(1ull << (bits - 1)) - 1;

		if (size == 4 && sd == INT64_MIN && ss == -1)
			cpu_fault_noerr(cpu, EXC_DE);
		sq = sd / ss;
		sr = sd % ss;
		/* The 8086 cannot produce the most negative quotient. */
		if (is_8086(cpu))
			lo++;
		if (sq < lo || sq > hi)
			cpu_fault_noerr(cpu, EXC_DE);
		/* 8086 quirk: a REP prefix negates the quotient. */
		if (is_8086(cpu) && cpu->in && cpu->in->rep)
			sq = -sq;
		q = (u64)sq;
		r = (u64)sr;
	} else {
		q = dividend / src;
		r = dividend % src;
		if (q > m)
			cpu_fault_noerr(cpu, EXC_DE);
	}
	if (size == 1) {
		cpu->s.gpr[R_EAX] = (cpu->s.gpr[R_EAX] & ~(u64)0xffff) |
				    (u32)(q & 0xff) | (u32)(r & 0xff) << 8;
	} else {
		reg_write(cpu, R_EAX, (u32)q, size);
		reg_write(cpu, R_EDX, (u32)r, size);
	}
}

void alu_daa(struct soft_cpu *cpu)
{
	u8 al = (u8)cpu->s.gpr[R_EAX], old_al = al;
	bool old_cf = get_flag(cpu, FL_CF), cf = false, af = false;

	if ((al & 0xf) > 9 || get_flag(cpu, FL_AF)) {
		cf = old_cf || al > 0xf9;
		al += 6;
		af = true;
	}
	if (old_al > (is_8086(cpu) && af ? 0x9f : 0x99) || old_cf) {
		al += 0x60;
		cf = true;
	}
	reg8_write(cpu, 0, al);
	flags_szp(cpu, al, 1);
	set_flag(cpu, FL_CF, cf);
	set_flag(cpu, FL_AF, af);
	set_flag(cpu, FL_OF, (~old_al & al & 0x80) != 0);
}

void alu_das(struct soft_cpu *cpu)
{
	u8 al = (u8)cpu->s.gpr[R_EAX], old_al = al;
	bool old_cf = get_flag(cpu, FL_CF), cf = false, af = false;

	if ((al & 0xf) > 9 || get_flag(cpu, FL_AF)) {
		/* The 8086 takes no borrow out of this first step. */
		cf = old_cf || (al < 6 && !is_8086(cpu));
		al -= 6;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		al -= 0x60;
		cf = true;
	}
	reg8_write(cpu, 0, al);
	flags_szp(cpu, al, 1);
	set_flag(cpu, FL_CF, cf);
	set_flag(cpu, FL_AF, af);
	set_flag(cpu, FL_OF, (old_al & ~al & 0x80) != 0);
}

void alu_aaa(struct soft_cpu *cpu)
{
	u64 *ax = &cpu->s.gpr[R_EAX];
	bool adjust = (*ax & 0xf) > 9 || get_flag(cpu, FL_AF);
	u8 al = (u8)*ax;

	if (adjust) {
		if (is_8086(cpu))
			*ax = (*ax & ~(u64)0xffff) |
			      (u16)(((*ax + 0x100) & 0xff00) |
				    ((al + 6) & 0xff));
		else
			*ax = (*ax & ~(u64)0xffff) | (u16)(*ax + 0x106);
	}
	flags_szp(cpu, (u8)*ax, 1);
	set_flag(cpu, FL_OF, false);
	if (is_8086(cpu)) {
		/* 8086: SF/ZF/PF/OF follow the internal AL + 6 addition. */
		flags_add(cpu, al, adjust ? 6 : 0, 0, 1);
	}
	set_flag(cpu, FL_AF, adjust);
	set_flag(cpu, FL_CF, adjust);
	*ax &= ~(u64)0xf0;
}

void alu_aas(struct soft_cpu *cpu)
{
	u64 *ax = &cpu->s.gpr[R_EAX];
	bool adjust = (*ax & 0xf) > 9 || get_flag(cpu, FL_AF);
	u8 al = (u8)*ax;

	if (adjust) {
		if (is_8086(cpu))
			*ax = (*ax & ~(u64)0xffff) |
			      (u16)(((*ax - 0x100) & 0xff00) |
				    ((al - 6) & 0xff));
		else /* SDM: AX = AX - 6, then AH = AH - 1 */
			*ax = (*ax & ~(u64)0xffff) | (u16)((u16)(*ax - 6) - 0x100);
	}
	flags_szp(cpu, (u8)*ax, 1);
	set_flag(cpu, FL_OF, false);
	if (is_8086(cpu))
		flags_sub(cpu, al, adjust ? 6 : 0, 0, 1);
	set_flag(cpu, FL_AF, adjust);
	set_flag(cpu, FL_CF, adjust);
	*ax &= ~(u64)0xf0;
}

void alu_aam(struct soft_cpu *cpu, u8 base)
{
	u8 al = (u8)cpu->s.gpr[R_EAX];

	if (!base)
		cpu_fault_noerr(cpu, EXC_DE);
	cpu->s.gpr[R_EAX] = (cpu->s.gpr[R_EAX] & ~(u64)0xffff) |
			    (u32)(al / base) << 8 | (al % base);
	flags_szp(cpu, al % base, 1);
	cpu->s.eflags &= ~(FL_CF | FL_OF | FL_AF);
}

void alu_aad(struct soft_cpu *cpu, u8 base)
{
	u8 al = (u8)cpu->s.gpr[R_EAX], ah = (u8)(cpu->s.gpr[R_EAX] >> 8);
	u8 prod = (u8)(ah * base);

	/* Flags are those of the final 8-bit addition AL + AH * base. */
	flags_add(cpu, al, prod, 0, 1);
	cpu->s.gpr[R_EAX] = (cpu->s.gpr[R_EAX] & ~(u64)0xffff) | (u8)(al + prod);
}

/* Conditions straight from a lazy SUB/CMP or logic result, when cheap. */
bool cond_from_eflags(struct soft_cpu *cpu, unsigned cc)
{
	u32 f;
	bool r;

	flags_sync(cpu);
	f = cpu->s.eflags;

	switch (cc >> 1) {
	case 0:
		r = f & FL_OF;
		break;
	case 1:
		r = f & FL_CF;
		break;
	case 2:
		r = f & FL_ZF;
		break;
	case 3:
		r = f & (FL_CF | FL_ZF);
		break;
	case 4:
		r = f & FL_SF;
		break;
	case 5:
		r = f & FL_PF;
		break;
	case 6:
		r = !(f & FL_SF) != !(f & FL_OF);
		break;
	default:
		r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF));
		break;
	}
	return (cc & 1) ? !r : r;
}

/* 8086 quirk: a REP prefix on MUL/IMUL negates the stored product. */
void alu_mul_negate_8086(struct soft_cpu *cpu, unsigned size)
{
	u64 *g = cpu->s.gpr;

	if (size == 1) {
		g[R_EAX] = (g[R_EAX] & ~(u64)0xffff) | (u16)(0 - (u16)g[R_EAX]);
	} else {
		u32 prod = (u32)(u16)g[R_EDX] << 16 | (u16)g[R_EAX];

		prod = 0 - prod;
		reg_write(cpu, R_EAX, prod, 2);
		reg_write(cpu, R_EDX, prod >> 16, 2);
	}
}

// SPDX-License-Identifier: MIT
/*
 * Integer SIMD operations of MMX, SSE2, SSSE3, SSE4.1 and SSE4.2, on 8
 * (MMX) or 16 (XMM) bytes, plus CRC32 (SSE4.2). Semantics from the SDM
 * vol. 2 pages of each instruction; saturation per vol. 1, 4.6.
 */
#include "cpu/soft/sse.h"

static s8 sat8(s32 v)
{
	return (s8)(v > 127 ? 127 : v < -128 ? -128 : v);
}

static u8 usat8(s32 v)
{
	return (u8)(v > 255 ? 255 : v < 0 ? 0 : v);
}

static s16 sat16(s32 v)
{
	return (s16)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static u16 usat16(s32 v)
{
	return (u16)(v > 65535 ? 65535 : v < 0 ? 0 : v);
}

/* d.f[i] = expr(a, b) for every element, a from d and b from s. */
#define ELEMWISE(name, F, expr)                                                \
	static void name(union xmm *d, const union xmm *s, unsigned len)       \
	{                                                                      \
		unsigned i, n = len / sizeof(d->F[0]);                         \
		for (i = 0; i < n; i++) {                                      \
			__typeof__(d->F[0]) a = d->F[i], b = s->F[i];          \
			(void)a;                                               \
			d->F[i] = (__typeof__(d->F[0]))(expr);                 \
		}                                                              \
	}

ELEMWISE(paddb, ub, a + b)
ELEMWISE(paddw, uw, a + b)
ELEMWISE(paddd, ud, a + b)
ELEMWISE(paddq, uq, a + b)
ELEMWISE(psubb, ub, a - b)
ELEMWISE(psubw, uw, a - b)
ELEMWISE(psubd, ud, a - b)
ELEMWISE(psubq, uq, a - b)
ELEMWISE(paddsb, sb, sat8(a + b))
ELEMWISE(paddsw, sw, sat16(a + b))
ELEMWISE(psubsb, sb, sat8(a - b))
ELEMWISE(psubsw, sw, sat16(a - b))
ELEMWISE(paddusb, ub, usat8(a + b))
ELEMWISE(paddusw, uw, usat16(a + b))
ELEMWISE(psubusb, ub, usat8(a - b))
ELEMWISE(psubusw, uw, usat16(a - b))
ELEMWISE(pcmpeqb, ub, a == b ? 0xff : 0)
ELEMWISE(pcmpeqw, uw, a == b ? 0xffff : 0)
ELEMWISE(pcmpeqd, ud, a == b ? ~0u : 0)
ELEMWISE(pcmpeqq, uq, a == b ? ~0ull : 0)
ELEMWISE(pcmpgtb, sb, a > b ? -1 : 0)
ELEMWISE(pcmpgtw, sw, a > b ? -1 : 0)
ELEMWISE(pcmpgtd, sd, a > b ? -1 : 0)
ELEMWISE(pcmpgtq, sq, a > b ? -1 : 0)
ELEMWISE(pmullw, uw, (u32)a *b)
ELEMWISE(pmulhw, sw, ((s32)a * b) >> 16)
ELEMWISE(pmulhuw, uw, ((u32)a * b) >> 16)
ELEMWISE(pmulld, ud, a *b)
ELEMWISE(pmulhrsw, sw, ((((s32)a * b) >> 14) + 1) >> 1)
ELEMWISE(pand, uq, a &b)
ELEMWISE(pandn, uq, ~a &b)
ELEMWISE(por, uq, a | b)
ELEMWISE(pxor, uq, a ^ b)
ELEMWISE(pavgb, ub, ((u32)a + b + 1) >> 1)
ELEMWISE(pavgw, uw, ((u32)a + b + 1) >> 1)
ELEMWISE(pminub, ub, a < b ? a : b)
ELEMWISE(pmaxub, ub, a > b ? a : b)
ELEMWISE(pminsw, sw, a < b ? a : b)
ELEMWISE(pmaxsw, sw, a > b ? a : b)
ELEMWISE(pminsb, sb, a < b ? a : b)
ELEMWISE(pmaxsb, sb, a > b ? a : b)
ELEMWISE(pminuw, uw, a < b ? a : b)
ELEMWISE(pmaxuw, uw, a > b ? a : b)
ELEMWISE(pminsd, sd, a < b ? a : b)
ELEMWISE(pmaxsd, sd, a > b ? a : b)
ELEMWISE(pminud, ud, a < b ? a : b)
ELEMWISE(pmaxud, ud, a > b ? a : b)
ELEMWISE(psignb, sb, b < 0 ? -a : b ? a : 0)
ELEMWISE(psignw, sw, b < 0 ? -a : b ? a : 0)
ELEMWISE(psignd, sd, b < 0 ? (s32)(0u - (u32)a) : b ? a : 0)
ELEMWISE(pabsb, ub, (s8)b < 0 ? -(s8)b : b)
ELEMWISE(pabsw, uw, (s16)b < 0 ? -(s16)b : b)
ELEMWISE(pabsd, ud, (s32)b < 0 ? 0u - b : b)

static void pmuludq(union xmm *d, const union xmm *s, unsigned len)
{
	for (unsigned i = 0; i < len / 8; i++)
		d->uq[i] = (u64)d->ud[2 * i] * s->ud[2 * i];
}

static void pmuldq(union xmm *d, const union xmm *s, unsigned len)
{
	for (unsigned i = 0; i < len / 8; i++)
		d->sq[i] = (s64)d->sd[2 * i] * s->sd[2 * i];
}

static void pmaddwd(union xmm *d, const union xmm *s, unsigned len)
{
	union xmm r;

	for (unsigned i = 0; i < len / 4; i++)
		r.ud[i] = (u32)((s32)d->sw[2 * i] * s->sw[2 * i] +
				(s32)d->sw[2 * i + 1] * s->sw[2 * i + 1]);
	memcpy(d, &r, len);
}

static void pmaddubsw(union xmm *d, const union xmm *s, unsigned len)
{
	union xmm r;

	for (unsigned i = 0; i < len / 2; i++)
		r.sw[i] = sat16(d->ub[2 * i] * s->sb[2 * i] +
				d->ub[2 * i + 1] * s->sb[2 * i + 1]);
	memcpy(d, &r, len);
}

static void psadbw(union xmm *d, const union xmm *s, unsigned len)
{
	for (unsigned q = 0; q < len / 8; q++) {
		u32 sum = 0;

		for (unsigned i = 0; i < 8; i++) {
			int a = d->ub[8 * q + i], b = s->ub[8 * q + i];

			sum += (u32)(a > b ? a - b : b - a);
		}
		d->uq[q] = sum;
	}
}

/* Unpack: interleave the low (hi = false) or high halves. */
static void unpack(union xmm *d, const union xmm *s, unsigned len,
		   unsigned esize, bool hi)
{
	union xmm r;
	unsigned n = len / esize / 2, base = hi ? n * esize : 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy(r.ub + 2 * i * esize, d->ub + base + i * esize, esize);
		memcpy(r.ub + (2 * i + 1) * esize, s->ub + base + i * esize,
		       esize);
	}
	memcpy(d, &r, len);
}

#define UNPACK(name, esize, hi)                                                \
	static void name(union xmm *d, const union xmm *s, unsigned len)       \
	{                                                                      \
		unpack(d, s, len, esize, hi);                                  \
	}
UNPACK(punpcklbw, 1, false)
UNPACK(punpcklwd, 2, false)
UNPACK(punpckldq, 4, false)
UNPACK(punpcklqdq, 8, false)
UNPACK(punpckhbw, 1, true)
UNPACK(punpckhwd, 2, true)
UNPACK(punpckhdq, 4, true)
UNPACK(punpckhqdq, 8, true)

static void packsswb(union xmm *d, const union xmm *s, unsigned len)
{
	union xmm r;
	unsigned n = len / 2;

	for (unsigned i = 0; i < n; i++) {
		r.sb[i] = sat8(d->sw[i]);
		r.sb[n + i] = sat8(s->sw[i]);
	}
	memcpy(d, &r, len);
}

static void packuswb(union xmm *d, const union xmm *s, unsigned len)
{
	union xmm r;
	unsigned n = len / 2;

	for (unsigned i = 0; i < n; i++) {
		r.ub[i] = usat8(d->sw[i]);
		r.ub[n + i] = usat8(s->sw[i]);
	}
	memcpy(d, &r, len);
}

static void packssdw(union xmm *d, const union xmm *s, unsigned len)
{
	union xmm r;
	unsigned n = len / 4;

	for (unsigned i = 0; i < n; i++) {
		r.sw[i] = sat16(d->sd[i]);
		r.sw[n + i] = sat16(s->sd[i]);
	}
	memcpy(d, &r, len);
}

static void packusdw(union xmm *d, const union xmm *s, unsigned len)
{
	union xmm r;
	unsigned n = len / 4;

	for (unsigned i = 0; i < n; i++) {
		r.uw[i] = d->sd[i] < 0	   ? 0 :
			  d->sd[i] > 65535 ? 65535 :
					     (u16)d->sd[i];
		r.uw[n + i] = s->sd[i] < 0     ? 0 :
			      s->sd[i] > 65535 ? 65535 :
						 (u16)s->sd[i];
	}
	memcpy(d, &r, len);
}

/* Horizontal add/subtract (SSSE3): pairs of d, then pairs of s. */
static void phorizontal(union xmm *d, const union xmm *s, unsigned len,
			unsigned esize, bool sub, bool sat)
{
	union xmm r;
	unsigned n = len / esize / 2;

	for (unsigned i = 0; i < 2 * n; i++) {
		const union xmm *src = i < n ? d : s;
		unsigned j = 2 * (i % n);

		if (esize == 2) {
			s32 v = sub ? src->sw[j] - src->sw[j + 1] :
				      src->sw[j] + src->sw[j + 1];
			r.sw[i] = sat ? sat16(v) : (s16)v;
		} else {
			r.ud[i] = sub ? src->ud[j] - src->ud[j + 1] :
					src->ud[j] + src->ud[j + 1];
		}
	}
	memcpy(d, &r, len);
}

#define HORIZ(name, esize, sub, sat)                                           \
	static void name(union xmm *d, const union xmm *s, unsigned len)       \
	{                                                                      \
		phorizontal(d, s, len, esize, sub, sat);                       \
	}
HORIZ(phaddw, 2, false, false)
HORIZ(phaddd, 4, false, false)
HORIZ(phaddsw, 2, false, true)
HORIZ(phsubw, 2, true, false)
HORIZ(phsubd, 4, true, false)
HORIZ(phsubsw, 2, true, true)

void pshufb(union xmm *d, const union xmm *s, unsigned len)
{
	union xmm r;

	for (unsigned i = 0; i < len; i++)
		r.ub[i] = s->ub[i] & 0x80 ? 0 : d->ub[s->ub[i] & (len - 1)];
	memcpy(d, &r, len);
}

/* PALIGNR: (d:s) >> 8 * imm, bytes shifted in are zero. */
void palignr(union xmm *d, const union xmm *s, unsigned len, u8 imm)
{
	u8 cat[64] = {0};

	memcpy(cat, s->ub, len);
	memcpy(cat + len, d->ub, len);
	memcpy(d->ub, cat + (imm < 2 * len ? imm : 2 * len), len);
}

/*
 * Shifts by count (from a register, memory or an immediate), kind 0:
 * logical right, 1: arithmetic right, 2: left; esize 16 is a byte shift
 * of the whole register (PSRLDQ/PSLLDQ: count in bytes).
 */
void psimd_shift(union xmm *d, unsigned kind, unsigned esize, u64 count,
		 unsigned len)
{
	unsigned i, bits = 8 * esize;

	if (esize == 16) {
		union xmm r = {0};
		unsigned c = count > 16 ? 16 : (unsigned)count;

		if (kind == 0)
			memcpy(r.ub, d->ub + c, 16 - c);
		else
			memcpy(r.ub + c, d->ub, 16 - c);
		*d = r;
		return;
	}
	for (i = 0; i < len / esize; i++) {
		u64 v = 0, out;

		memcpy(&v, d->ub + i * esize, esize);
		if (kind == 1) {
			s64 sv = (s64)(v << (64 - bits)) >> (64 - bits);
			out = (u64)(sv >> (count >= bits ? bits - 1 : count));
		} else if (count >= bits) {
			out = 0;
		} else {
			out = kind == 0 ? v >> count : v << count;
		}
		memcpy(d->ub + i * esize, &out, esize);
	}
}

void pblendw(union xmm *d, const union xmm *s, u8 imm)
{
	for (unsigned i = 0; i < 8; i++)
		if (imm & BIT(i))
			d->uw[i] = s->uw[i];
}

void mpsadbw(union xmm *d, const union xmm *s, u8 imm)
{
	union xmm r;
	unsigned a = (imm >> 2 & 1) * 4, b = (imm & 3) * 4;

	for (unsigned i = 0; i < 8; i++) {
		u32 sum = 0;

		for (unsigned k = 0; k < 4; k++) {
			int x = d->ub[a + i + k], y = s->ub[b + k];

			sum += (u32)(x > y ? x - y : y - x);
		}
		r.uw[i] = (u16)sum;
	}
	*d = r;
}

void phminposuw(union xmm *d, const union xmm *s)
{
	unsigned best = 0;

	for (unsigned i = 1; i < 8; i++)
		if (s->uw[i] < s->uw[best])
			best = i;
	*d = (union xmm){.uw = {s->uw[best], (u16)best}};
}

/* PMOVSX/PMOVZX (0F38 20-25, 30-35): widen the low elements of s. */
void pmovx(union xmm *d, const union xmm *s, u8 op)
{
	static const u8 from[6] = {1, 1, 1, 2, 2, 4};
	static const u8 to[6] = {2, 4, 8, 4, 8, 8};
	unsigned k = op & 0xf, fs = from[k], ts = to[k];
	bool sign = op < 0x30;
	union xmm r;

	for (unsigned i = 0; i < 16 / ts; i++) {
		u64 v = 0;

		memcpy(&v, s->ub + i * fs, fs);
		if (sign)
			v = (u64)((s64)(v << (64 - 8 * fs)) >> (64 - 8 * fs));
		memcpy(r.ub + i * ts, &v, ts);
	}
	*d = r;
}

/* --- SSE4.2 string compares (SDM vol. 2, 4.1 "Imm8 control") --- */

static s32 str_elem(const union xmm *v, unsigned i, unsigned fmt)
{
	switch (fmt) {
	case 0:
		return v->ub[i];
	case 1:
		return v->uw[i];
	case 2:
		return v->sb[i];
	default:
		return v->sw[i];
	}
}

static unsigned implicit_len(const union xmm *v, unsigned n, unsigned fmt)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!str_elem(v, i, fmt))
			break;
	return i;
}

/* One comparison with the invalid-element overrides (SDM table 4-7). */
static bool str_cmp(const union xmm *a, const union xmm *b, unsigned agg,
		    unsigned fmt, unsigned alen, unsigned blen, unsigned i,
		    unsigned j)
{
	bool av = i < alen, bv = j < blen;
	s32 x, y;

	if (!av || !bv) {
		if (agg == 2)
			return !av && !bv;
		if (agg == 3)
			return !av;
		return false;
	}
	x = str_elem(a, i, fmt);
	y = str_elem(b, j, fmt);
	if (agg == 1)
		return i & 1 ? y <= x : y >= x;
	return x == y;
}

/* IntRes1 bit j for the aggregation of imm[3:2]. */
static bool str_agg(const union xmm *a, const union xmm *b, unsigned agg,
		    unsigned fmt, unsigned n, unsigned alen, unsigned blen,
		    unsigned j)
{
	unsigned i;

	switch (agg) {
	case 0: /* equal any */
		for (i = 0; i < n; i++)
			if (str_cmp(a, b, agg, fmt, alen, blen, i, j))
				return true;
		return false;
	case 1: /* ranges */
		for (i = 0; i < n; i += 2)
			if (str_cmp(a, b, agg, fmt, alen, blen, i, j) &&
			    str_cmp(a, b, agg, fmt, alen, blen, i + 1, j))
				return true;
		return false;
	case 2: /* equal each */
		return str_cmp(a, b, agg, fmt, alen, blen, j, j);
	default: /* equal ordered */
		for (i = 0; i < n - j; i++)
			if (!str_cmp(a, b, agg, fmt, alen, blen, i, j + i))
				return false;
		return true;
	}
}

/*
 * a: the first operand (xmm1), b: the second (xmm2/m128); returns the
 * arithmetic flags (CF ZF SF OF, the rest clear) and the index or mask.
 */
u32 pcmpstr(const union xmm *a, const union xmm *b, u8 imm, bool explicit_len,
	    s32 la, s32 lb, bool want_mask, union xmm *mask, u32 *index)
{
	unsigned fmt = imm & 3, n = imm & 1 ? 8 : 16;
	unsigned agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
	unsigned alen, blen, j;
	u32 res = 0, flags = 0;

	if (explicit_len) {
		la = la < 0 ? (la == INT32_MIN ? (s32)n : -la) : la;
		lb = lb < 0 ? (lb == INT32_MIN ? (s32)n : -lb) : lb;
		alen = (unsigned)la > n ? n : (unsigned)la;
		blen = (unsigned)lb > n ? n : (unsigned)lb;
	} else {
		alen = implicit_len(a, n, fmt);
		blen = implicit_len(b, n, fmt);
	}
	for (j = 0; j < n; j++) /* j: position in b */
		if (str_agg(a, b, agg, fmt, n, alen, blen, j))
			res |= 1u << j;
	if (pol & 1)
		res ^= pol & 2 ? (1u << blen) - 1 : (1u << n) - 1;
	res &= (1u << n) - 1;
	if (res)
		flags |= FL_CF;
	if (blen < n)
		flags |= FL_ZF;
	if (alen < n)
		flags |= FL_SF;
	if (res & 1)
		flags |= FL_OF;
	if (want_mask) {
		*mask = (union xmm){0};
		if (!(imm & 0x40)) {
			mask->uw[0] = (u16)res;
		} else {
			for (j = 0; j < n; j++)
				if (res >> j & 1)
					memset(mask->ub + j * (16 / n), 0xff,
					       16 / n);
		}
	} else {
		if (!res)
			*index = n;
		else if (imm & 0x40)
			*index = 31u - (u32)__builtin_clz(res);
		else
			*index = (u32)__builtin_ctz(res);
	}
	return flags;
}

/* CRC32 (SSE4.2): the Castagnoli polynomial, bit-reflected. */
u32 crc32c(u32 crc, u64 v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		crc ^= (u8)(v >> (8 * i));
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return crc;
}

/*
 * The element-wise table: map_op is 0x1xx (0F xx) or 0x2xx (0F 38 xx);
 * xmm: the 66 form. NULL: not an element-wise integer operation.
 */
simd_fn sse_int_op(u16 map_op, bool xmm)
{
	switch (map_op) {
	case 0x160:
		return punpcklbw;
	case 0x161:
		return punpcklwd;
	case 0x162:
		return punpckldq;
	case 0x163:
		return packsswb;
	case 0x164:
		return pcmpgtb;
	case 0x165:
		return pcmpgtw;
	case 0x166:
		return pcmpgtd;
	case 0x167:
		return packuswb;
	case 0x168:
		return punpckhbw;
	case 0x169:
		return punpckhwd;
	case 0x16a:
		return punpckhdq;
	case 0x16b:
		return packssdw;
	case 0x16c:
		return xmm ? punpcklqdq : NULL;
	case 0x16d:
		return xmm ? punpckhqdq : NULL;
	case 0x174:
		return pcmpeqb;
	case 0x175:
		return pcmpeqw;
	case 0x176:
		return pcmpeqd;
	case 0x1d4:
		return paddq;
	case 0x1d5:
		return pmullw;
	case 0x1d8:
		return psubusb;
	case 0x1d9:
		return psubusw;
	case 0x1da:
		return pminub;
	case 0x1db:
		return pand;
	case 0x1dc:
		return paddusb;
	case 0x1dd:
		return paddusw;
	case 0x1de:
		return pmaxub;
	case 0x1df:
		return pandn;
	case 0x1e0:
		return pavgb;
	case 0x1e3:
		return pavgw;
	case 0x1e4:
		return pmulhuw;
	case 0x1e5:
		return pmulhw;
	case 0x1e8:
		return psubsb;
	case 0x1e9:
		return psubsw;
	case 0x1ea:
		return pminsw;
	case 0x1eb:
		return por;
	case 0x1ec:
		return paddsb;
	case 0x1ed:
		return paddsw;
	case 0x1ee:
		return pmaxsw;
	case 0x1ef:
		return pxor;
	case 0x1f4:
		return pmuludq;
	case 0x1f5:
		return pmaddwd;
	case 0x1f6:
		return psadbw;
	case 0x1f8:
		return psubb;
	case 0x1f9:
		return psubw;
	case 0x1fa:
		return psubd;
	case 0x1fb:
		return psubq;
	case 0x1fc:
		return paddb;
	case 0x1fd:
		return paddw;
	case 0x1fe:
		return paddd;
	case 0x200:
		return pshufb;
	case 0x201:
		return phaddw;
	case 0x202:
		return phaddd;
	case 0x203:
		return phaddsw;
	case 0x204:
		return pmaddubsw;
	case 0x205:
		return phsubw;
	case 0x206:
		return phsubd;
	case 0x207:
		return phsubsw;
	case 0x208:
		return psignb;
	case 0x209:
		return psignw;
	case 0x20a:
		return psignd;
	case 0x20b:
		return pmulhrsw;
	case 0x21c:
		return pabsb;
	case 0x21d:
		return pabsw;
	case 0x21e:
		return pabsd;
	default:
		break;
	}
	if (!xmm)
		return NULL;
	switch (map_op) { /* SSE4.1: 66 only */
	case 0x228:
		return pmuldq;
	case 0x229:
		return pcmpeqq;
	case 0x22b:
		return packusdw;
	case 0x237:
		return pcmpgtq;
	case 0x238:
		return pminsb;
	case 0x239:
		return pminsd;
	case 0x23a:
		return pminuw;
	case 0x23b:
		return pminud;
	case 0x23c:
		return pmaxsb;
	case 0x23d:
		return pmaxsd;
	case 0x23e:
		return pmaxuw;
	case 0x23f:
		return pmaxud;
	case 0x240:
		return pmulld;
	default:
		return NULL;
	}
}

// SPDX-License-Identifier: MIT
/*
 * SSE/SSE2/SSE3/SSE4.1 floating point. Each operation runs on the host's
 * own SSE unit with the guest's rounding control, DAZ and FZ loaded into
 * the host MXCSR and every exception masked there; the flags it raises
 * are then merged into the guest MXCSR, and an unmasked one faults
 * (#XM) before the destination is written (SDM vol. 1, 11.5). So results,
 * NaN propagation (vol. 1, 4.8.3.5 and table 4-7) and flags are those of
 * the hardware the host runs on, which are architecturally identical on
 * Intel and AMD for everything here but RCPPS/RSQRTPS; those two are
 * approximations whose exact bits differ between vendors, so they are
 * computed here portably (within the SDM's 1.5 * 2^-12 relative error).
 *
 * Known gap: with an unmasked underflow exception the hardware reports
 * UE for a tiny exact result too; here UE follows the masked rule.
 *
 * This file needs an x86 host (the engine interprets on any host; only
 * the floating point here borrows the host's SSE unit).
 */
#include "cpu/soft/sse.h"

#include <math.h>
#if !defined(__x86_64__)
#error "sse_fp.c uses the host SSE unit: build on an x86-64 host"
#endif
#include <immintrin.h>

#include "cpu/soft/exec.h"

/* Keep a value's computation between the MXCSR switches. */
#define PIN(x) asm volatile("" : "+x"(x))

static u32 host_enter(u32 guest)
{
	u32 old = _mm_getcsr();

	_mm_setcsr((guest | (0x3fu << MXCSR_MASKS_SHIFT)) & ~MXCSR_FLAGS);
	return old;
}

static u32 host_leave(u32 old)
{
	u32 now = _mm_getcsr();

	_mm_setcsr(old);
	return now & MXCSR_FLAGS;
}

static __m128 ps(const union xmm *v)
{
	return _mm_loadu_ps(v->f);
}

static __m128d pd(const union xmm *v)
{
	return _mm_loadu_pd(v->g);
}

static __m128i pi(const union xmm *v)
{
	return _mm_loadu_si128((const __m128i *)v->ub);
}

static union xmm from_ps(__m128 x)
{
	union xmm v;

	_mm_storeu_ps(v.f, x);
	return v;
}

static union xmm from_pd(__m128d x)
{
	union xmm v;

	_mm_storeu_pd(v.g, x);
	return v;
}

static union xmm from_pi(__m128i x)
{
	union xmm v;

	_mm_storeu_si128((__m128i *)v.ub, x);
	return v;
}

/* Commit: flags into MXCSR (faulting if unmasked), then the result. */
static void commit_xmm(struct soft_cpu *cpu, unsigned reg, u32 raised,
		       const union xmm *v)
{
	sse_mxcsr_update(cpu, raised);
	xmm_set(cpu, reg, v);
}

/* --- arithmetic: 51, 58, 59, 5C-5F --- */

static __m128 ps_op(u8 op, __m128 a, __m128 b, bool scalar)
{
	switch (op) {
	case 0x51:
		return scalar ? _mm_move_ss(a, _mm_sqrt_ss(b)) : _mm_sqrt_ps(b);
	case 0x58:
		return scalar ? _mm_add_ss(a, b) : _mm_add_ps(a, b);
	case 0x59:
		return scalar ? _mm_mul_ss(a, b) : _mm_mul_ps(a, b);
	case 0x5c:
		return scalar ? _mm_sub_ss(a, b) : _mm_sub_ps(a, b);
	case 0x5d:
		return scalar ? _mm_min_ss(a, b) : _mm_min_ps(a, b);
	case 0x5e:
		return scalar ? _mm_div_ss(a, b) : _mm_div_ps(a, b);
	default:
		return scalar ? _mm_max_ss(a, b) : _mm_max_ps(a, b);
	}
}

static __m128d pd_op(u8 op, __m128d a, __m128d b, bool scalar)
{
	switch (op) {
	case 0x51:
		return scalar ? _mm_sqrt_sd(a, b) : _mm_sqrt_pd(b);
	case 0x58:
		return scalar ? _mm_add_sd(a, b) : _mm_add_pd(a, b);
	case 0x59:
		return scalar ? _mm_mul_sd(a, b) : _mm_mul_pd(a, b);
	case 0x5c:
		return scalar ? _mm_sub_sd(a, b) : _mm_sub_pd(a, b);
	case 0x5d:
		return scalar ? _mm_min_sd(a, b) : _mm_min_pd(a, b);
	case 0x5e:
		return scalar ? _mm_div_sd(a, b) : _mm_div_pd(a, b);
	default:
		return scalar ? _mm_max_sd(a, b) : _mm_max_pd(a, b);
	}
}

/* Operand length by prefix: PS and PD 16 (aligned), SS 4, SD 8. */
static unsigned src_len(unsigned pfx)
{
	return pfx == PFX_F3 ? 4 : pfx == PFX_F2 ? 8 : 16;
}

static bool is_double(unsigned pfx)
{
	return pfx == PFX_66 || pfx == PFX_F2;
}

static void fp_arith(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op;
	bool scalar = pfx >= PFX_F3;
	union xmm d, s, r;
	u32 old, raised;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, src_len(pfx), !scalar);
	old = host_enter(cpu->s.fpu.mxcsr);
	if (is_double(pfx)) {
		__m128d a = pd(&d), b = pd(&s), x;

		PIN(a);
		PIN(b);
		x = pd_op(op, a, b, scalar);
		PIN(x);
		raised = host_leave(old);
		r = from_pd(x);
	} else {
		__m128 a = ps(&d), b = ps(&s), x;

		PIN(a);
		PIN(b);
		x = ps_op(op, a, b, scalar);
		PIN(x);
		raised = host_leave(old);
		r = from_ps(x);
	}
	commit_xmm(cpu, in->reg, raised, &r);
}

/*
 * RCPPS/RSQRTPS (and SS): a portable approximation, the correctly
 * rounded single result truncated to 12 significant bits. Denormal
 * inputs count as zero and tiny results flush to zero, as on hardware.
 */
static u32 approx(u32 x, bool rsqrt)
{
	u32 sign = x & 0x80000000u, mag = x & 0x7fffffffu;
	float f, r;
	u32 out;

	if (mag > 0x7f800000u)
		return x | 0x00400000u; /* QNaN of the input */
	if (mag < 0x00800000u)		/* zero or denormal */
		return sign | 0x7f800000u;
	if (rsqrt && sign)
		return 0xffc00000u; /* the default NaN */
	if (mag == 0x7f800000u)
		return sign;
	memcpy(&f, &mag, 4);
	r = (float)(rsqrt ? 1.0 / sqrt((double)f) : 1.0 / (double)f);
	memcpy(&out, &r, 4);
	if (out < 0x00800000u)
		return sign;
	return sign | (out & ~0x7ffu);
}

static void fp_approx(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	union xmm d, s;
	unsigned i, n = pfx == PFX_F3 ? 1 : 4;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, src_len(pfx), pfx != PFX_F3);
	for (i = 0; i < n; i++)
		d.ud[i] = approx(s.ud[i], (u8)in->op == 0x52);
	xmm_set(cpu, in->reg, &d);
}

/* --- compares --- */

static __m128 cmp_ps(unsigned pred, __m128 a, __m128 b, bool scalar)
{
	switch (pred & 7) {
	case 0:
		return scalar ? _mm_cmpeq_ss(a, b) : _mm_cmpeq_ps(a, b);
	case 1:
		return scalar ? _mm_cmplt_ss(a, b) : _mm_cmplt_ps(a, b);
	case 2:
		return scalar ? _mm_cmple_ss(a, b) : _mm_cmple_ps(a, b);
	case 3:
		return scalar ? _mm_cmpunord_ss(a, b) : _mm_cmpunord_ps(a, b);
	case 4:
		return scalar ? _mm_cmpneq_ss(a, b) : _mm_cmpneq_ps(a, b);
	case 5:
		return scalar ? _mm_cmpnlt_ss(a, b) : _mm_cmpnlt_ps(a, b);
	case 6:
		return scalar ? _mm_cmpnle_ss(a, b) : _mm_cmpnle_ps(a, b);
	default:
		return scalar ? _mm_cmpord_ss(a, b) : _mm_cmpord_ps(a, b);
	}
}

static __m128d cmp_pd(unsigned pred, __m128d a, __m128d b, bool scalar)
{
	switch (pred & 7) {
	case 0:
		return scalar ? _mm_cmpeq_sd(a, b) : _mm_cmpeq_pd(a, b);
	case 1:
		return scalar ? _mm_cmplt_sd(a, b) : _mm_cmplt_pd(a, b);
	case 2:
		return scalar ? _mm_cmple_sd(a, b) : _mm_cmple_pd(a, b);
	case 3:
		return scalar ? _mm_cmpunord_sd(a, b) : _mm_cmpunord_pd(a, b);
	case 4:
		return scalar ? _mm_cmpneq_sd(a, b) : _mm_cmpneq_pd(a, b);
	case 5:
		return scalar ? _mm_cmpnlt_sd(a, b) : _mm_cmpnlt_pd(a, b);
	case 6:
		return scalar ? _mm_cmpnle_sd(a, b) : _mm_cmpnle_pd(a, b);
	default:
		return scalar ? _mm_cmpord_sd(a, b) : _mm_cmpord_pd(a, b);
	}
}

static void fp_cmp(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	bool scalar = pfx >= PFX_F3;
	union xmm d, s, r;
	u32 old, raised;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, src_len(pfx), !scalar);
	old = host_enter(cpu->s.fpu.mxcsr);
	if (is_double(pfx)) {
		__m128d a = pd(&d), b = pd(&s), x;

		PIN(a);
		PIN(b);
		x = cmp_pd(in->imm, a, b, scalar);
		PIN(x);
		raised = host_leave(old);
		r = from_pd(x);
	} else {
		__m128 a = ps(&d), b = ps(&s), x;

		PIN(a);
		PIN(b);
		x = cmp_ps(in->imm, a, b, scalar);
		PIN(x);
		raised = host_leave(old);
		r = from_ps(x);
	}
	commit_xmm(cpu, in->reg, raised, &r);
}

/* COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF, OF SF AF cleared. */
static void fp_comi(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	bool dbl = pfx == PFX_66, ordered = (u8)in->op == 0x2f;
	union xmm d, s;
	u32 old, raised;
	u64 fl;
	__m128 a, b;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, dbl ? 8 : 4, false);
	a = ps(&d);
	b = ps(&s);
	old = host_enter(cpu->s.fpu.mxcsr);
	PIN(a);
	PIN(b);
	if (dbl && ordered)
		asm volatile("comisd %2, %1; pushfq; popq %0"
			     : "=r"(fl)
			     : "x"(a), "x"(b)
			     : "cc");
	else if (dbl)
		asm volatile("ucomisd %2, %1; pushfq; popq %0"
			     : "=r"(fl)
			     : "x"(a), "x"(b)
			     : "cc");
	else if (ordered)
		asm volatile("comiss %2, %1; pushfq; popq %0"
			     : "=r"(fl)
			     : "x"(a), "x"(b)
			     : "cc");
	else
		asm volatile("ucomiss %2, %1; pushfq; popq %0"
			     : "=r"(fl)
			     : "x"(a), "x"(b)
			     : "cc");
	raised = host_leave(old);
	sse_mxcsr_update(cpu, raised);
	flags_sync(cpu);
	cpu->s.eflags = (cpu->s.eflags & ~FL_ARITH) |
			((u32)fl & (FL_ZF | FL_PF | FL_CF));
}

/* --- conversions --- */

/* 2A: CVTPI2PS, CVTPI2PD (mm/m64), CVTSI2SS, CVTSI2SD (r/m32). */
static void fp_cvt_from_int(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	union xmm d, s = {0}, r;
	u32 old, raised;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	if (pfx >= PFX_F3) {
		/* REX.W: a 64-bit integer source */
		s.uq[0] = rm_read(cpu, in, in->osize == 8 ? 8 : 4);
	} else if (in->mod == 3) {
		/* an MMX register source: the x87 goes to MMX mode */
		if (cpu->s.cr0 & CR0_TS)
			cpu_fault_noerr(cpu, EXC_NM);
		memcpy(s.ub, cpu->s.fpu.st[in->rm & 7], 8);
		cpu->s.fpu.fsw &= (u16) ~(7u << 11);
		cpu->s.fpu.ftw = 0;
	} else {
		s.uq[0] = sse_rm(cpu, in, 8, false).uq[0];
	}
	old = host_enter(cpu->s.fpu.mxcsr);
	if (pfx == PFX_66) {
		__m128d x = _mm_cvtepi32_pd(pi(&s));

		PIN(x);
		raised = host_leave(old);
		r = from_pd(x);
	} else if (pfx == PFX_F2) {
		__m128d x = in->osize == 8 ?
				    _mm_cvtsi64_sd(pd(&d), (s64)s.uq[0]) :
				    _mm_cvtsi32_sd(pd(&d), s.sd[0]);

		PIN(x);
		raised = host_leave(old);
		r = from_pd(x);
	} else {
		__m128 x = pfx == PFX_F3 && in->osize == 8 ?
				   _mm_cvtsi64_ss(ps(&d), (s64)s.uq[0]) :
				   _mm_cvtsi32_ss(ps(&d), s.sd[0]);

		if (pfx == PFX_NONE) {
			__m128 hi = _mm_cvtsi32_ss(ps(&d), s.sd[1]);

			PIN(hi);
			x = _mm_unpacklo_ps(x, hi);
			x = _mm_movelh_ps(x, _mm_movehl_ps(ps(&d), ps(&d)));
		}
		PIN(x);
		raised = host_leave(old);
		r = from_ps(x);
	}
	commit_xmm(cpu, in->reg, raised, &r);
}

/* 2C/2D: to int32, truncating (2C) or by MXCSR.RC (2D). */
static void fp_cvt_to_int(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	bool trunc = (u8)in->op == 0x2c;
	union xmm s, r = {0};
	u32 old, raised;
	__m128i x;

	sse_check(cpu);
	s = sse_rm(cpu, in,
		   pfx == PFX_66 ? 16 :
		   pfx == PFX_F3 ? 4 :
				   8,
		   pfx == PFX_66);
	if (pfx == PFX_NONE)
		s.uq[1] = 0; /* CVT(T)PS2PI: the low two elements only */
	old = host_enter(cpu->s.fpu.mxcsr);
	if (is_double(pfx)) {
		__m128d a = pd(&s);

		PIN(a);
		x = trunc ? _mm_cvttpd_epi32(a) : _mm_cvtpd_epi32(a);
	} else {
		__m128 a = ps(&s);

		if (pfx == PFX_F3)
			a = _mm_move_ss(_mm_setzero_ps(), a);
		PIN(a);
		x = trunc ? _mm_cvttps_epi32(a) : _mm_cvtps_epi32(a);
	}
	PIN(x);
	raised = host_leave(old);
	r = from_pi(x);
	if (pfx >= PFX_F3 && in->osize == 8) {
		/* REX.W: to a 64-bit integer */
		s64 v;

		old = host_enter(cpu->s.fpu.mxcsr);
		if (pfx == PFX_F2) {
			__m128d a = pd(&s);

			PIN(a);
			v = trunc ? _mm_cvttsd_si64(a) : _mm_cvtsd_si64(a);
		} else {
			__m128 a = ps(&s);

			PIN(a);
			v = trunc ? _mm_cvttss_si64(a) : _mm_cvtss_si64(a);
		}
		asm volatile("" : "+r"(v));
		raised = host_leave(old);
		sse_mxcsr_update(cpu, raised);
		cpu->s.gpr[in->reg] = (u64)v;
		return;
	}
	if (pfx >= PFX_F3) {
		/* scalar: only the low element counts; redo it alone */
		old = host_enter(cpu->s.fpu.mxcsr);
		if (pfx == PFX_F2) {
			__m128d a = pd(&s);

			PIN(a);
			r.sd[0] =
				trunc ? _mm_cvttsd_si32(a) : _mm_cvtsd_si32(a);
		} else {
			__m128 a = ps(&s);

			PIN(a);
			r.sd[0] =
				trunc ? _mm_cvttss_si32(a) : _mm_cvtss_si32(a);
		}
		asm volatile("" : "+r"(r.sd[0]));
		raised = host_leave(old);
		sse_mxcsr_update(cpu, raised);
		cpu->s.gpr[in->reg] = r.ud[0];
		return;
	}
	/* CVT(T)PS2PI from a register source uses only its low 64 bits */
	sse_mxcsr_update(cpu, raised);
	if (cpu->s.cr0 & CR0_TS)
		cpu_fault_noerr(cpu, EXC_NM);
	memcpy(cpu->s.fpu.st[in->reg & 7], r.ub, 8);
	cpu->s.fpu.st[in->reg & 7][8] = cpu->s.fpu.st[in->reg & 7][9] = 0xff;
	cpu->s.fpu.fsw &= (u16) ~(7u << 11);
	cpu->s.fpu.ftw = 0;
}

/* 5A, 5B, E6: between float formats and from/to packed int32. */
static void fp_cvt_packed(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op;
	unsigned len = 16;
	union xmm d, s, r;
	u32 old, raised;
	bool aligned = true;

	if (op == 0x5a && pfx == PFX_NONE)
		len = 8, aligned = false; /* CVTPS2PD m64 */
	else if (op == 0x5a && pfx == PFX_F3)
		len = 4, aligned = false;
	else if (op == 0x5a && pfx == PFX_F2)
		len = 8, aligned = false;
	else if (op == 0xe6 && pfx == PFX_F3)
		len = 8, aligned = false; /* CVTDQ2PD m64 */
	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, len, aligned);
	old = host_enter(cpu->s.fpu.mxcsr);
	switch (op << 2 | pfx) {
	case 0x5a << 2 | PFX_NONE: {
		__m128 a = ps(&s);
		__m128d x;

		PIN(a);
		x = _mm_cvtps_pd(a);
		PIN(x);
		r = from_pd(x);
		break;
	}
	case 0x5a << 2 | PFX_66: {
		__m128d a = pd(&s);
		__m128 x;

		PIN(a);
		x = _mm_cvtpd_ps(a);
		PIN(x);
		r = from_ps(x);
		break;
	}
	case 0x5a << 2 | PFX_F3: {
		__m128 a = ps(&s);
		__m128d x;

		PIN(a);
		x = _mm_cvtss_sd(pd(&d), a);
		PIN(x);
		r = from_pd(x);
		break;
	}
	case 0x5a << 2 | PFX_F2: {
		__m128d a = pd(&s);
		__m128 x;

		PIN(a);
		x = _mm_cvtsd_ss(ps(&d), a);
		PIN(x);
		r = from_ps(x);
		break;
	}
	case 0x5b << 2 | PFX_NONE: {
		__m128i a = pi(&s);
		__m128 x;

		PIN(a);
		x = _mm_cvtepi32_ps(a);
		PIN(x);
		r = from_ps(x);
		break;
	}
	case 0x5b << 2 | PFX_66:
	case 0x5b << 2 | PFX_F3: {
		__m128 a = ps(&s);
		__m128i x;

		PIN(a);
		x = pfx == PFX_66 ? _mm_cvtps_epi32(a) : _mm_cvttps_epi32(a);
		PIN(x);
		r = from_pi(x);
		break;
	}
	case 0xe6 << 2 | PFX_66:
	case 0xe6 << 2 | PFX_F2: {
		__m128d a = pd(&s);
		__m128i x;

		PIN(a);
		x = pfx == PFX_66 ? _mm_cvttpd_epi32(a) : _mm_cvtpd_epi32(a);
		PIN(x);
		r = from_pi(x);
		break;
	}
	case 0xe6 << 2 | PFX_F3: {
		__m128i a = pi(&s);
		__m128d x;

		PIN(a);
		x = _mm_cvtepi32_pd(a);
		PIN(x);
		r = from_pd(x);
		break;
	}
	default:
		host_leave(old);
		undefined_opcode(cpu);
	}
	raised = host_leave(old);
	commit_xmm(cpu, in->reg, raised, &r);
}

/* --- SSE3: ADDSUB, HADD, HSUB --- */

__attribute__((target("sse3"))) static void
fp_sse3(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op;
	union xmm d, s, r;
	u32 old, raised;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, 16, true);
	old = host_enter(cpu->s.fpu.mxcsr);
	if (pfx == PFX_66) {
		__m128d a = pd(&d), b = pd(&s), x;

		PIN(a);
		PIN(b);
		x = op == 0xd0 ? _mm_addsub_pd(a, b) :
		    op == 0x7c ? _mm_hadd_pd(a, b) :
				 _mm_hsub_pd(a, b);
		PIN(x);
		r = from_pd(x);
	} else {
		__m128 a = ps(&d), b = ps(&s), x;

		PIN(a);
		PIN(b);
		x = op == 0xd0 ? _mm_addsub_ps(a, b) :
		    op == 0x7c ? _mm_hadd_ps(a, b) :
				 _mm_hsub_ps(a, b);
		PIN(x);
		r = from_ps(x);
	}
	raised = host_leave(old);
	commit_xmm(cpu, in->reg, raised, &r);
}

/* --- SSE4.1: ROUND*, DPPS, DPPD --- */

#define ROUND_CASES(F, a)                                                      \
	case 0:                                                                \
		return F(a, 0);                                                \
	case 1:                                                                \
		return F(a, 1);                                                \
	case 2:                                                                \
		return F(a, 2);                                                \
	case 3:                                                                \
		return F(a, 3);                                                \
	case 4:                                                                \
		return F(a, 4);                                                \
	case 5:                                                                \
		return F(a, 5);                                                \
	case 6:                                                                \
		return F(a, 6);                                                \
	case 7:                                                                \
		return F(a, 7);                                                \
	case 8:                                                                \
		return F(a, 8);                                                \
	case 9:                                                                \
		return F(a, 9);                                                \
	case 10:                                                               \
		return F(a, 10);                                               \
	case 11:                                                               \
		return F(a, 11);                                               \
	case 12:                                                               \
		return F(a, 12);                                               \
	case 13:                                                               \
		return F(a, 13);                                               \
	case 14:                                                               \
		return F(a, 14);                                               \
	default:                                                               \
		return F(a, 15)

__attribute__((target("sse4.1"))) static __m128 round_ps(__m128 a, unsigned imm)
{
	switch (imm & 15) {
		ROUND_CASES(_mm_round_ps, a);
	}
}

__attribute__((target("sse4.1"))) static __m128d round_pd(__m128d a,
							  unsigned imm)
{
	switch (imm & 15) {
		ROUND_CASES(_mm_round_pd, a);
	}
}

static void fp_round(struct soft_cpu *cpu, struct insn *in)
{
	u8 op = (u8)in->op;
	bool scalar = op & 2, dbl = op & 1;
	union xmm d, s, r;
	u32 old, raised;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, scalar ? (dbl ? 8 : 4) : 16, !scalar);
	old = host_enter(cpu->s.fpu.mxcsr);
	if (dbl) {
		__m128d a = pd(&s), x;

		if (scalar) /* the upper element must not raise flags */
			a = _mm_move_sd(_mm_setzero_pd(), a);
		PIN(a);
		x = round_pd(a, in->imm);
		PIN(x);
		r = from_pd(x);
		if (scalar)
			r.uq[1] = d.uq[1];
	} else {
		__m128 a = ps(&s), x;

		if (scalar)
			a = _mm_move_ss(_mm_setzero_ps(), a);
		PIN(a);
		x = round_ps(a, in->imm);
		PIN(x);
		r = from_ps(x);
		if (scalar)
			memcpy(r.ud + 1, d.ud + 1, 12);
	}
	raised = host_leave(old);
	commit_xmm(cpu, in->reg, raised, &r);
}

/*
 * DPPS/DPPD (SDM vol. 2): products of the selected elements (+0.0 for
 * the others), summed pairwise, the sum stored where imm[3:0] says.
 * Each step rounds as its own scalar operation, as the SDM describes.
 */
static void fp_dot(struct soft_cpu *cpu, struct insn *in)
{
	u8 imm = (u8)in->imm;
	union xmm d, s, r = {0};
	u32 old, raised;
	unsigned i;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	s = sse_rm(cpu, in, 16, true);
	old = host_enter(cpu->s.fpu.mxcsr);
	if ((u8)in->op == 0x40) {
		__m128 t[4], sum;

		for (i = 0; i < 4; i++) {
			__m128 a = _mm_set_ss(d.f[i]), b = _mm_set_ss(s.f[i]);

			PIN(a);
			PIN(b);
			t[i] = imm & BIT(4 + i) ? _mm_mul_ss(a, b) :
						  _mm_setzero_ps();
			PIN(t[i]);
		}
		t[0] = _mm_add_ss(t[0], t[1]);
		PIN(t[0]);
		t[2] = _mm_add_ss(t[2], t[3]);
		PIN(t[2]);
		sum = _mm_add_ss(t[0], t[2]);
		PIN(sum);
		for (i = 0; i < 4; i++)
			r.f[i] = imm & BIT(i) ? _mm_cvtss_f32(sum) : 0.0f;
	} else {
		__m128d t[2], sum;

		for (i = 0; i < 2; i++) {
			__m128d a = _mm_set_sd(d.g[i]), b = _mm_set_sd(s.g[i]);

			PIN(a);
			PIN(b);
			t[i] = imm & BIT(4 + i) ? _mm_mul_sd(a, b) :
						  _mm_setzero_pd();
			PIN(t[i]);
		}
		sum = _mm_add_sd(t[0], t[1]);
		PIN(sum);
		for (i = 0; i < 2; i++)
			r.g[i] = imm & BIT(i) ? _mm_cvtsd_f64(sum) : 0.0;
	}
	raised = host_leave(old);
	commit_xmm(cpu, in->reg, raised, &r);
}

bool sse_fp_exec(struct soft_cpu *cpu, struct insn *in, unsigned map,
		 unsigned pfx)
{
	u8 op = (u8)in->op;

	if (map == 3) {
		if (pfx != PFX_66)
			return false;
		if (op >= 0x08 && op <= 0x0b)
			fp_round(cpu, in);
		else if (op == 0x40 || op == 0x41)
			fp_dot(cpu, in);
		else
			return false;
		return true;
	}
	switch (op) {
	case 0x51:
	case 0x58:
	case 0x59:
	case 0x5c ... 0x5f:
		fp_arith(cpu, in, pfx);
		return true;
	case 0x52:
	case 0x53:
		if (pfx != PFX_NONE && pfx != PFX_F3)
			return false;
		fp_approx(cpu, in, pfx);
		return true;
	case 0xc2:
		fp_cmp(cpu, in, pfx);
		return true;
	case 0x2e:
	case 0x2f:
		if (pfx >= PFX_F3)
			return false;
		fp_comi(cpu, in, pfx);
		return true;
	case 0x2a:
		fp_cvt_from_int(cpu, in, pfx);
		return true;
	case 0x2c:
	case 0x2d:
		fp_cvt_to_int(cpu, in, pfx);
		return true;
	case 0x5a:
	case 0x5b:
	case 0xe6:
		if (op == 0xe6 && pfx == PFX_NONE)
			return false;
		if (op == 0x5b && pfx == PFX_F2)
			return false;
		fp_cvt_packed(cpu, in, pfx);
		return true;
	case 0x7c:
	case 0x7d:
	case 0xd0:
		if (pfx != PFX_66 && pfx != PFX_F2)
			return false;
		fp_sse3(cpu, in, pfx);
		return true;
	default:
		return false;
	}
}

// SPDX-License-Identifier: MIT
/*
 * MMX/SSE in the soft engine: what the host oracle (twoostwo-hostdiff)
 * cannot reach: the CR0/CR4 gating (#UD, #NM), alignment #GP, unmasked
 * MXCSR exceptions (#XM, or #UD without CR4.OSXMMEXCPT), LDMXCSR reserved
 * bits, the FXSAVE layout of MXCSR/XMM and of the MMX registers aliased
 * on the x87 ones, the CPUID feature bits, and a few known values
 * (masked results per IEEE, CRC32C, PCMPISTRI).
 */
#include "cpu_rig.h"

#define V_MF 16
#define V_XM 19
#define ABS(a) D32(a)
/* ModR/M for [disp32] with reg r */
#define MEM(r) MODRM(0, r, 5)

static const u8 addps[] = {0x0f, 0x58, 0xc1, HLT};    /* addps xmm0, xmm1 */
static const u8 paddb_mm[] = {0x0f, 0xfc, 0xc1, HLT}; /* paddb mm0, mm1 */

/* Run code at CODE in flat ring 0 with extra CR0 bits and this CR4. */
static void run_code(struct rig *r, const u8 *code, unsigned len, u32 cr0_set,
		     u32 cr4)
{
	struct x86_state s;

	rig_org(r, CODE);
	rig_emit(r, code, len);
	rig_pm_state(r, &s);
	s.cr0 |= cr0_set;
	s.cr4 = cr4;
	rig_run_state(r, &s);
}

#define OSFX (CR4_OSFXSR | CR4_OSXMMEXCPT)

/* SDM vol. 3, table 2-2 and 13.1.1/13.2. */
static void test_gating(void)
{
	struct rig r;

	rig_open(&r);
	run_code(&r, addps, sizeof(addps), 0, 0); /* no CR4.OSFXSR */
	CHECK_EQ(rig_vector(&r), V_UD);
	run_code(&r, addps, sizeof(addps), CR0_EM, OSFX);
	CHECK_EQ(rig_vector(&r), V_UD);
	run_code(&r, addps, sizeof(addps), CR0_TS, OSFX);
	CHECK_EQ(rig_vector(&r), V_NM);
	run_code(&r, addps, sizeof(addps), 0, OSFX);
	CHECK_DONE(&r);
	/* MMX does not need OSFXSR; EM is #UD, TS is #NM */
	run_code(&r, paddb_mm, sizeof(paddb_mm), 0, 0);
	CHECK_DONE(&r);
	run_code(&r, paddb_mm, sizeof(paddb_mm), CR0_EM, 0);
	CHECK_EQ(rig_vector(&r), V_UD);
	run_code(&r, paddb_mm, sizeof(paddb_mm), CR0_TS, 0);
	CHECK_EQ(rig_vector(&r), V_NM);
	rig_close(&r);
}

/* Legacy SSE 128-bit memory operands: #GP(0) unless 16-byte aligned. */
static void test_alignment(void)
{
	static const u8 movaps_mis[] = {0x0f, 0x28, MEM(0), ABS(DATA + 8), HLT};
	static const u8 paddb_mis[] = {0x66,   0x0f,	      0xfc,
				       MEM(0), ABS(DATA + 4), HLT};
	static const u8 movntdq_mis[] = {0x66,	 0x0f,		0xe7,
					 MEM(0), ABS(DATA + 1), HLT};
	static const u8 unaligned_ok[] = {
		0x0f,	       0x10,	       MEM(0),
		ABS(DATA + 8), /* movups */
		0xf3,	       0x0f,	       0x6f,
		MEM(1),	       ABS(DATA + 3), /* movdqu */
		0xf2,	       0x0f,	       0xf0,
		MEM(2),	       ABS(DATA + 5), /* lddqu */
		0xf3,	       0x0f,	       0x58,
		MEM(3),	       ABS(DATA + 1), /* addss m32 */
		0x66,	       0x0f,	       0x3a,
		0x63,	       MEM(0),	       ABS(DATA + 7),
		0x0c,	       0x0f,	       0x28,
		MEM(4),	       ABS(DATA + 16), /* movaps aligned */
		HLT,
	};
	struct rig r;

	rig_open(&r);
	run_code(&r, movaps_mis, sizeof(movaps_mis), 0, OSFX);
	CHECK_FAULT(&r, V_GP, 0);
	run_code(&r, paddb_mis, sizeof(paddb_mis), 0, OSFX);
	CHECK_FAULT(&r, V_GP, 0);
	run_code(&r, movntdq_mis, sizeof(movntdq_mis), 0, OSFX);
	CHECK_FAULT(&r, V_GP, 0);
	run_code(&r, unaligned_ok, sizeof(unaligned_ok), 0, OSFX);
	CHECK_DONE(&r);
	rig_close(&r);
}

/*
 * divss by zero with ZM clear: #XM, the destination unchanged and ZE set
 * in MXCSR; without CR4.OSXMMEXCPT the same is #UD (SDM vol. 3, 6.15).
 */
static void test_unmasked_exception(void)
{
	static const u8 code[] = {
		0x0f, 0xae, MEM(2), ABS(DATA), /* ldmxcsr [DATA] */
		0xf3, 0x0f, 0x10,   MEM(0),    ABS(DATA + 16), /* movss xmm0 */
		0xf3, 0x0f, 0x10,   MEM(1),    ABS(DATA + 20), /* movss xmm1 */
		0xf3, 0x0f, 0x5e,   0xc1, /* divss xmm0, xmm1 */
		HLT,
	};
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA, 0x1f80 & ~0x200u); /* ZM clear */
	rig_wr32(&r, DATA + 16, 0x3f800000);  /* 1.0f */
	rig_wr32(&r, DATA + 20, 0);	      /* 0.0f */
	run_code(&r, code, sizeof(code), 0, OSFX);
	CHECK_EQ(rig_vector(&r), V_XM);
	CHECK_EQ(r.st.fpu.mxcsr, (0x1f80 & ~0x200u) | 0x4);
	CHECK_EQ(get_le32(r.st.fpu.xmm[0]), 0x3f800000); /* unchanged */
	run_code(&r, code, sizeof(code), 0, CR4_OSFXSR);
	CHECK_EQ(rig_vector(&r), V_UD);
	/* masked: +inf and ZE, no fault */
	rig_wr32(&r, DATA, 0x1f80);
	run_code(&r, code, sizeof(code), 0, OSFX);
	CHECK_DONE(&r);
	CHECK_EQ(get_le32(r.st.fpu.xmm[0]), 0x7f800000);
	CHECK_EQ(r.st.fpu.mxcsr, 0x1f84);
	rig_close(&r);
}

/* Masked invalid operations give the default NaN (SDM vol. 1, 4.8.3.7). */
static void test_masked_results(void)
{
	static const u8 code[] = {
		0xf3, 0x0f, 0x10, MEM(1), ABS(DATA + 16), /* movss xmm1, -1 */
		0xf3, 0x0f, 0x51, 0xc1, /* sqrtss xmm0, xmm1 */
		0x66, 0x0f, 0x57, 0xd2, /* xorpd xmm2, xmm2 */
		0x66, 0x0f, 0x57, 0xdb, /* xorpd xmm3, xmm3 */
		0xf2, 0x0f, 0x5e, 0xd3, /* divsd xmm2, xmm3: 0/0 */
		0xf3, 0x0f, 0x2d, 0xc1, /* cvtss2si eax, xmm1: -1 */
		0xf3, 0x0f, 0x10, MEM(4), ABS(DATA + 20), /* movss xmm4, 3e9 */
		0xf3, 0x0f, 0x2c, 0xdc, /* cvttss2si ebx, xmm4: invalid */
		HLT,
	};
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA + 16, 0xbf800000); /* -1.0f */
	rig_wr32(&r, DATA + 20, 0x4f32d05e); /* 3e9f */
	run_code(&r, code, sizeof(code), 0, OSFX);
	CHECK_DONE(&r);
	CHECK_EQ(get_le32(r.st.fpu.xmm[0]), 0xffc00000);
	CHECK_EQ(get_le64(r.st.fpu.xmm[2]), 0xfff8000000000000ull);
	CHECK_EQ(r.st.gpr[R_EAX], 0xffffffffu);
	CHECK_EQ(r.st.gpr[R_EBX], 0x80000000u); /* integer indefinite */
	CHECK_EQ(r.st.fpu.mxcsr, 0x1f81);	/* IE */
	rig_close(&r);
}

/* LDMXCSR: reserved bits -> #GP(0); DAZ is supported (MXCSR_MASK). */
static void test_ldmxcsr(void)
{
	static const u8 code[] = {
		0x0f, 0xae, MEM(2), ABS(DATA),	   /* ldmxcsr [DATA] */
		0x0f, 0xae, MEM(3), ABS(DATA + 4), /* stmxcsr [DATA + 4] */
		HLT,
	};
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA, 0x1f80 | 0x40 | 0x8000); /* DAZ, FZ */
	run_code(&r, code, sizeof(code), 0, OSFX);
	CHECK_DONE(&r);
	CHECK_EQ(rig_rd32(&r, DATA + 4), 0x9fc0);
	rig_wr32(&r, DATA, 0x1f80 | 0x10000);
	run_code(&r, code, sizeof(code), 0, OSFX);
	CHECK_FAULT(&r, V_GP, 0);
	rig_close(&r);
}

/*
 * FXSAVE: MXCSR at 24, MXCSR_MASK at 28, XMM0 at 160; MMX registers are
 * the x87 mantissas, writing one sets its exponent to all ones, TOP to 0
 * and every tag valid; EMMS empties the tags (SDM vol. 1, 9.5.1).
 */
static void test_fxsave_and_mmx_aliasing(void)
{
	static const u8 code[] = {
		0x66, 0x0f, 0x6e,   0xc0,	       /* movd xmm0, eax */
		0x0f, 0x6f, MEM(3), ABS(DATA + 0x40),  /* movq mm3, [] */
		0x0f, 0xae, MEM(0), ABS(DATA + 0x200), /* fxsave */
		0x0f, 0x77,			       /* emms */
		0x0f, 0xae, MEM(0), ABS(DATA + 0x400), /* fxsave */
		HLT,
	};
	struct rig r;
	u32 img = DATA + 0x200;

	rig_open(&r);
	rig_wr64(&r, DATA + 0x40, 0x1122334455667788ull);
	rig_org(&r, CODE);
	EMIT(&r, MOV_RI(R_EAX, 0xcafef00d));
	rig_emit(&r, code, sizeof(code));
	{
		struct x86_state s;

		rig_pm_state(&r, &s);
		s.cr4 = OSFX;
		rig_run_state(&r, &s);
	}
	CHECK_DONE(&r);
	CHECK_EQ(rig_rd32(&r, img + 24), 0x1f80);
	CHECK_EQ(rig_rd32(&r, img + 28), 0xffff);
	CHECK_EQ(rig_rd32(&r, img + 160), 0xcafef00d);
	CHECK_EQ(rig_rd32(&r, img + 164), 0);
	/* mm3 is physical R3 = ST(3) with TOP 0 */
	CHECK_EQ(rig_rd64(&r, img + 32 + 16 * 3), 0x1122334455667788ull);
	CHECK_EQ(rig_rd16(&r, img + 32 + 16 * 3 + 8), 0xffff);
	CHECK_EQ(rig_rd8(&r, img + 4), 0xff); /* abridged tags: all valid */
	CHECK_EQ((rig_rd16(&r, img + 2) >> 11) & 7, 0); /* TOP */
	CHECK_EQ(rig_rd8(&r, DATA + 0x400 + 4), 0);	/* after EMMS: empty */
	rig_close(&r);
}

/* CPUID.1 advertises exactly what is implemented: no AVX, XSAVE, CX16. */
static void test_cpuid_features(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 1), CPUID, LOG(R_EDX), LOG(R_ECX), HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 2);
	/* MMX 23, FXSR 24, SSE 25, SSE2 26, CLFSH 19 */
	CHECK_EQ(r.out[0] & 0x07880000u, 0x07880000u);
	/* SSE3 0, SSSE3 9, SSE4.1 19, SSE4.2 20, POPCNT 23, nothing else */
	CHECK_EQ(r.out[1], 0x00980201u);
	rig_close(&r);
}

/* Known values: CRC32C("123456789") and a PCMPISTRI substring search. */
static void test_known_values(void)
{
	static const u8 code[] = {
		MOV_RI(R_EAX, 0xffffffffu),
		0xf2,
		0x0f,
		0x38,
		0xf1,
		MEM(0),
		ABS(DATA), /* crc32 eax, [] */
		0xf2,
		0x0f,
		0x38,
		0xf1,
		MEM(0),
		ABS(DATA + 4),
		0xf2,
		0x0f,
		0x38,
		0xf0,
		MEM(0),
		ABS(DATA + 8), /* 8-bit */
		0xf7,
		0xd0, /* not eax */
		0x66,
		0x0f,
		0x6f,
		MEM(1),
		ABS(DATA + 0x20), /* movdqa xmm1 */
		/* pcmpistri xmm1, [DATA + 0x30], equal ordered, bytes */
		0x66,
		0x0f,
		0x3a,
		0x63,
		MEM(1),
		ABS(DATA + 0x30),
		0x0c,
		HLT,
	};
	struct rig r;

	rig_open(&r);
	rig_write(&r, DATA, "123456789", 9);
	rig_write(&r, DATA + 0x20, "lo w\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	rig_write(&r, DATA + 0x30, "hello world\0\0\0\0\0", 16);
	run_code(&r, code, sizeof(code), 0, OSFX);
	CHECK_DONE(&r);
	CHECK_EQ(r.st.gpr[R_EAX], 0xe3069283u);
	CHECK_EQ(r.st.gpr[R_ECX], 3); /* "lo w" at offset 3 of "hello world" */
	rig_close(&r);
}

/*
 * 16-bit code: the 66 prefix is still the mandatory prefix (it toggles the
 * operand size away from 16), ModR/M uses 16-bit addressing, POPCNT with
 * the default operand size counts 16 bits.
 */
static void test_real_mode(void)
{
	static const u8 code[] = {
		0xbb, D16(0x2000),	       /* mov bx, 0x2000 */
		0xbe, D16(0x0010),	       /* mov si, 0x10 */
		0x66, 0x0f,	   0x6f, 0x00, /* movdqa xmm0, [bx+si] */
		0x66, 0x0f,	   0xfe, 0xc0, /* paddd xmm0, xmm0 */
		0x66, 0x0f,	   0x7e, 0xc1, /* movd ecx, xmm0 */
		0xba, D16(0xf0f1),	       /* mov dx, 0xf0f1 */
		0xf3, 0x0f,	   0xb8, 0xc2, /* popcnt ax, dx */
		HLT,
	};
	struct x86_state s;
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, 0x2010, 0x40000001);
	rig_write(&r, 0x7c00, code, sizeof(code));
	rig_real_state(&r, &s);
	s.cr4 = CR4_OSFXSR;
	s.gpr[R_EAX] = 0x12340000;
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.eip, 0x7c00 + sizeof(code));
	CHECK_EQ(r.st.gpr[R_ECX], 0x80000002u);
	CHECK_EQ(r.st.gpr[R_EAX], 0x12340009u); /* 16-bit POPCNT */
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_gating);
	RUN_TEST(test_alignment);
	RUN_TEST(test_unmasked_exception);
	RUN_TEST(test_masked_results);
	RUN_TEST(test_ldmxcsr);
	RUN_TEST(test_fxsave_and_mmx_aliasing);
	RUN_TEST(test_cpuid_features);
	RUN_TEST(test_known_values);
	RUN_TEST(test_real_mode);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * The soft engine's x87 FPU, driven by real-mode machine code as a guest
 * would run it: each test hand-assembles a few instructions at 0:7C00,
 * ends them with HLT, runs the vCPU and checks what the code stored.
 * Expected values come from the Intel SDM (vol. 1, chapter 8; vol. 2, the
 * instruction pages) and from IEEE 754 arithmetic.
 *
 * Every interrupt vector points at a stub that writes its vector number
 * to MARK and halts, so a test can see which exception was raised.
 */
#include <math.h>
#include <stdlib.h>

#include "core/clock.h"
#include "cpu/engine.h"
#include "unit.h"

/*
 * The programs are laid out by hand, one instruction or one step per
 * line, with their encodings in comments; clang-format would reflow them.
 */
/* clang-format off */

#define CODE 0x7c00
#define MARK 0x0f00
#define STUBS 0x0600 /* 8 bytes per vector */
#define DATA 0x1100
#define OUT 0x1200
#define IMG 0x2000

/*
 * Hand assembly. Memory operands use 16-bit ModR/M mod 00 rm 110, an
 * absolute disp16 in DS (= 0): modrm = 0x06 | reg << 3.
 */
#define LO(a) ((a) & 0xff)
#define HI(a) (((a) >> 8) & 0xff)
#define M(op, reg, a) (op), 0x06 | (reg) << 3, LO(a), HI(a)
#define FLD_M32(a) M(0xd9, 0, a) /* D9 /0 */
#define FSTP_M32(a) M(0xd9, 3, a) /* D9 /3 */
#define FLDENV(a) M(0xd9, 4, a) /* D9 /4 */
#define FLDCW(a) M(0xd9, 5, a) /* D9 /5 */
#define FNSTENV(a) M(0xd9, 6, a) /* D9 /6 */
#define FNSTCW(a) M(0xd9, 7, a) /* D9 /7 */
#define FISUB_M32(a) M(0xda, 4, a) /* DA /4 */
#define FILD_M32(a) M(0xdb, 0, a) /* DB /0 */
#define FIST_M32(a) M(0xdb, 2, a) /* DB /2 */
#define FISTP_M32(a) M(0xdb, 3, a) /* DB /3 */
#define FLD_M80(a) M(0xdb, 5, a) /* DB /5 */
#define FSTP_M80(a) M(0xdb, 7, a) /* DB /7 */
#define FADD_M64(a) M(0xdc, 0, a) /* DC /0 */
#define FCOM_M64(a) M(0xdc, 2, a) /* DC /2 */
#define FLD_M64(a) M(0xdd, 0, a) /* DD /0 */
#define FSTP_M64(a) M(0xdd, 3, a) /* DD /3 */
#define FRSTOR(a) M(0xdd, 4, a) /* DD /4 */
#define FNSAVE(a) M(0xdd, 6, a) /* DD /6 */
#define FNSTSW(a) M(0xdd, 7, a) /* DD /7 */
#define FIMUL_M16(a) M(0xde, 1, a) /* DE /1 */
#define FIDIVR_M16(a) M(0xde, 7, a) /* DE /7 */
#define FISTP_M16(a) M(0xdf, 3, a) /* DF /3 */
#define FBLD(a) M(0xdf, 4, a) /* DF /4 */
#define FBSTP(a) M(0xdf, 6, a) /* DF /6 */
#define FISTP_M64(a) M(0xdf, 7, a) /* DF /7 */
#define FXSAVE(a) 0x0f, 0xae, 0x06, LO(a), HI(a) /* 0F AE /0 */
#define FXRSTOR(a) 0x0f, 0xae, 0x0e, LO(a), HI(a) /* 0F AE /1 */
#define O32 0x66 /* operand-size prefix: 32-bit FSAVE/FSTENV image */
#define FNINIT 0xdb, 0xe3
#define FNSTSW_AX 0xdf, 0xe0
#define FLD1 0xd9, 0xe8
#define FLDPI 0xd9, 0xeb
#define FLDZ 0xd9, 0xee
#define FSQRT 0xd9, 0xfa
#define FSIN 0xd9, 0xfe
#define FCOS 0xd9, 0xff
#define FPREM 0xd9, 0xf8
#define FXAM 0xd9, 0xe5
#define FXCH1 0xd9, 0xc9
#define FSTP_ST0 0xdd, 0xd8
#define FDIVP_ST1 0xde, 0xf9 /* ST(1) = ST(1) / ST(0), pop */
#define FCOMI_ST1 0xdb, 0xf1
#define FUCOMIP_ST0 0xdf, 0xe8
#define WAIT 0x9b
#define MOV_MEM_AX(a) 0xa3, LO(a), HI(a) /* MOV [a], AX */
#define SAVE_SW(a) FNSTSW_AX, MOV_MEM_AX(a)
#define SAVE_FLAGS(a) 0x9c, 0x58, MOV_MEM_AX(a) /* PUSHF; POP AX */
/* MOV AX, v; PUSH AX; POPF */
#define SET_FLAGS(v) 0xb8, LO(v), HI(v), 0x50, 0x9d

#define CR0_ET_ 0x10
#define CR0_NE_ 0x20

/* Status word fields (SDM vol. 1, figure 8-4). */
#define IE 0x0001
#define ZE 0x0004
#define SF 0x0040
#define ES 0x0080
#define C0 0x0100
#define C1 0x0200
#define C2 0x0400
#define C3 0x4000
#define CC (C0 | C1 | C2 | C3)
#define TOP(sw) (((sw) >> 11) & 7)

static const u64 DOUBLE_INDEFINITE = 0xfff8000000000000ull;
static const u64 DOUBLE_INF = 0x7ff0000000000000ull;

struct rig {
	struct phys_mem mem;
	struct pio_bus *pio;
	struct vcpu *vcpu;
	struct x86_state st;
	enum vcpu_exit exit;
	bool pm; /* run in 16-bit protected mode */
};

static int rig_intack(void *opaque)
{
	(void)opaque;
	return -1;
}

/* IVT entry n -> STUBS + 8n: MOV BYTE [MARK], n; HLT. */
static void rig_stubs(struct rig *r)
{
	unsigned n;

	for (n = 0; n < 256; n++) {
		u8 *stub = r->mem.ram + STUBS + 8 * n;

		put_le16(r->mem.ram + 4 * n, (u16)(STUBS + 8 * n));
		put_le16(r->mem.ram + 4 * n + 2, 0);
		stub[0] = 0xc6;
		stub[1] = 0x06;
		put_le16(stub + 2, MARK);
		stub[4] = (u8)n;
		stub[5] = 0xf4;
	}
}

static void rig_open(struct rig *r, enum cpu_model model)
{
	struct vcpu_env env;

	*r = (struct rig){ 0 };
	CHECK_EQ(mem_init(&r->mem, 1 << 20, 1 << 20), 0);
	r->mem.flat = true;
	r->pio = pio_bus_new();
	env = (struct vcpu_env){ .pio = r->pio, .mem = &r->mem,
				 .intack = rig_intack, .model = model };
	CHECK_EQ(soft_engine_ops.create(&env, &r->vcpu), 0);
	rig_stubs(r);
}

static void rig_close(struct rig *r)
{
	soft_engine_ops.destroy(r->vcpu);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
}

static void rig_segment(struct x86_segment *sg, u16 type, u16 sel)
{
	*sg = (struct x86_segment){ sel, 0, 0xffff,
				    SEG_ATTR_P | SEG_ATTR_S | type };
}

/*
 * Run code (then HLT) at 7C00 with the given CR0/CR4: in real mode with
 * every segment at 0, or with r->pm protected-mode selectors over the same
 * flat 64 KiB segments.
 */
static void rig_exec_cr(struct rig *r, const u8 *code, size_t len, u32 cr0,
			u32 cr4)
{
	struct x86_state s;
	unsigned i;

	memcpy(r->mem.ram + CODE, code, len);
	r->mem.ram[CODE + len] = 0xf4;
	soft_engine_ops.get_state(r->vcpu, &s);
	for (i = 0; i < 6; i++)
		rig_segment(&s.seg[i], i == S_CS ? 0xb : 0x3,
			    !r->pm ? 0 : i == S_CS ? 0x08 : 0x10);
	s.eip = CODE;
	s.gpr[R_ESP] = 0x7000;
	s.eflags = 2;
	s.cr0 = cr0;
	s.cr4 = cr4;
	s.halted = false;
	soft_engine_ops.set_state(r->vcpu, &s);
	r->mem.ram[MARK] = 0xff;
	for (i = 0; i < 10; i++) {
		r->exit = soft_engine_ops.run(r->vcpu,
					      clock_now_ns() + NSEC_PER_SEC);
		if (r->exit != VCPU_EXIT_DEADLINE)
			break;
	}
	soft_engine_ops.get_state(r->vcpu, &r->st);
}

/* The same in 16-bit protected mode: CS = 0x08, data segments 0x10. */
static void rig_exec_pm(struct rig *r, const u8 *code, size_t len)
{
	r->pm = true;
	rig_exec_cr(r, code, len, CR0_ET_ | 1, 0);
	r->pm = false;
	CHECK_EQ(r->exit, VCPU_EXIT_HALT);
}

static void rig_exec(struct rig *r, const u8 *code, size_t len)
{
	rig_exec_cr(r, code, len, CR0_ET_, 0);
	CHECK_EQ(r->exit, VCPU_EXIT_HALT);
}

static u16 rd16(struct rig *r, u32 a)
{
	return get_le16(r->mem.ram + a);
}

static u32 rd32(struct rig *r, u32 a)
{
	return get_le32(r->mem.ram + a);
}

static u64 rd64(struct rig *r, u32 a)
{
	return get_le64(r->mem.ram + a);
}

static double rd_double(struct rig *r, u32 a)
{
	double d;

	memcpy(&d, r->mem.ram + a, sizeof(d));
	return d;
}

static void wr_double(struct rig *r, u32 a, double d)
{
	memcpy(r->mem.ram + a, &d, sizeof(d));
}

static u64 double_bits(double d)
{
	u64 v;

	memcpy(&v, &d, sizeof(v));
	return v;
}

/* An 80-bit value: significand, then sign and exponent. */
static void wr_f80(struct rig *r, u32 a, u64 mant, u16 se)
{
	put_le64(r->mem.ram + a, mant);
	put_le16(r->mem.ram + a + 8, se);
}

/* The probes firmware and kernels run to find a coprocessor. */
static void test_init_probes(void)
{
	static const u8 code[] = {
		FNINIT,
		FNSTSW(OUT), /* DD 3E 00 12 */
		FNSTCW(OUT + 2), /* D9 3E 02 12 */
		SAVE_SW(OUT + 4), /* DF E0; A3 04 12 */
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	memset(r.mem.ram + OUT, 0xaa, 16);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, OUT), 0);
	CHECK_EQ(rd16(&r, OUT + 2), 0x037f);
	CHECK_EQ(rd16(&r, OUT + 4), 0);
	CHECK_EQ(r.st.fpu.ftw, 0xffff);
	rig_close(&r);
}

/* After reset the FPU is in the FNINIT state (and MXCSR at 0x1F80). */
static void test_reset_state(void)
{
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	soft_engine_ops.get_state(r.vcpu, &r.st);
	CHECK_EQ(r.st.fpu.fcw, 0x037f);
	CHECK_EQ(r.st.fpu.fsw, 0);
	CHECK_EQ(r.st.fpu.ftw, 0xffff);
	CHECK_EQ(r.st.fpu.mxcsr, 0x1f80);
	rig_close(&r);
}

static void test_add_double(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), /* DD 06 00 11: 1.5 */
		FADD_M64(DATA + 8), /* DC 06 08 11: + 2.25 */
		FSTP_M64(OUT), /* DD 1E 00 12 */
		FNSTSW(OUT + 8),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 1.5);
	wr_double(&r, DATA + 8, 2.25);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd64(&r, OUT), double_bits(3.75));
	CHECK_EQ(rd16(&r, OUT + 8), 0); /* exact, TOP back to 0 */
	CHECK_EQ(r.st.fpu.ftw, 0xffff);
	CHECK_EQ(r.st.fpu.fop, 0x51e); /* FSTP m64: FNSTSW is control */
	rig_close(&r);
}

/* FIST of 2.5 and -2.5 under each RC (SDM vol. 1, table 4-8). */
static void test_rounding_modes(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), /* 2.5 */
		FLDCW(DATA + 0x20), FIST_M32(OUT), /* nearest */
		FLDCW(DATA + 0x22), FIST_M32(OUT + 4), /* down */
		FLDCW(DATA + 0x24), FIST_M32(OUT + 8), /* up */
		FLDCW(DATA + 0x26), FIST_M32(OUT + 12), /* chop */
		FSTP_ST0,
		FLD_M64(DATA + 8), /* -2.5 */
		FLDCW(DATA + 0x20), FIST_M32(OUT + 16),
		FLDCW(DATA + 0x22), FIST_M32(OUT + 20),
		FLDCW(DATA + 0x24), FIST_M32(OUT + 24),
		FLDCW(DATA + 0x26), FISTP_M32(OUT + 28),
		FNSTSW(OUT + 32),
	};
	static const s32 expect[8] = { 2, 2, 3, 2, -2, -3, -2, -2 };
	struct rig r;
	unsigned i;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 2.5);
	wr_double(&r, DATA + 8, -2.5);
	for (i = 0; i < 4; i++)
		put_le16(r.mem.ram + DATA + 0x20 + 2 * i,
			 (u16)(0x037f | i << 10));
	rig_exec(&r, code, sizeof(code));
	for (i = 0; i < 8; i++)
		CHECK_EQ(rd32(&r, OUT + 4 * i), (u32)expect[i]);
	/* Inexact (PE) with C1 as the round-up bit of the last store. */
	CHECK_EQ(rd16(&r, OUT + 32) & 0x3f, 0x20);
	CHECK_EQ(TOP(rd16(&r, OUT + 32)), 0);
	CHECK_EQ(r.st.fpu.fcw, 0x0f7f);
	rig_close(&r);
}

/* Out of range: the integer indefinite and IE (SDM vol. 2, FIST). */
static void test_fist_overflow(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), FISTP_M32(OUT), /* 1e10 */
		FLD_M64(DATA + 8), FISTP_M16(OUT + 4), /* 40000 */
		FLD_M64(DATA + 16), FISTP_M64(OUT + 8), /* 1e19 */
		FNSTSW(OUT + 16),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 1e10);
	wr_double(&r, DATA + 8, 40000.0);
	wr_double(&r, DATA + 16, 1e19);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd32(&r, OUT), 0x80000000u);
	CHECK_EQ(rd16(&r, OUT + 4), 0x8000);
	CHECK_EQ(rd64(&r, OUT + 8), 0x8000000000000000ull);
	CHECK(rd16(&r, OUT + 16) & IE);
	CHECK(!(rd16(&r, OUT + 16) & (SF | ES)));
	CHECK_EQ(TOP(rd16(&r, OUT + 16)), 0);
	rig_close(&r);
}

static void test_compare(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), /* 1.0 */
		FCOM_M64(DATA + 8), SAVE_SW(OUT), /* vs 2.0: less */
		FCOM_M64(DATA), SAVE_SW(OUT + 2), /* vs 1.0: equal */
		FCOM_M64(DATA + 16), SAVE_SW(OUT + 4), /* vs 0.5: greater */
		FCOM_M64(DATA + 24), SAVE_SW(OUT + 6), /* vs QNaN */
		FLD_M64(DATA + 8), /* ST0 = 2, ST1 = 1 */
		SET_FLAGS(0x08d7), FCOMI_ST1, SAVE_FLAGS(OUT + 8),
		FXCH1,
		SET_FLAGS(0x08d7), FCOMI_ST1, SAVE_FLAGS(OUT + 10),
		SET_FLAGS(0x08d7), FUCOMIP_ST0, SAVE_FLAGS(OUT + 12),
		FNSTSW(OUT + 14),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 1.0);
	wr_double(&r, DATA + 8, 2.0);
	wr_double(&r, DATA + 16, 0.5);
	put_le64(r.mem.ram + DATA + 24, 0x7ff8000000000000ull);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, OUT) & CC, C0);
	CHECK_EQ(rd16(&r, OUT + 2) & CC, C3);
	CHECK_EQ(rd16(&r, OUT + 4) & CC, 0);
	CHECK_EQ(rd16(&r, OUT + 6) & CC, C3 | C2 | C0);
	CHECK(rd16(&r, OUT + 6) & IE); /* FCOM: any NaN is invalid */
	/* FCOMI: ZF PF CF as C3 C2 C0, OF SF AF cleared. */
	CHECK_EQ(rd16(&r, OUT + 8) & 0x08d5, 0);
	CHECK_EQ(rd16(&r, OUT + 10) & 0x08d5, 0x0001);
	CHECK_EQ(rd16(&r, OUT + 12) & 0x08d5, 0x0040);
	CHECK_EQ(TOP(rd16(&r, OUT + 14)), 7); /* FUCOMIP popped once */
	rig_close(&r);
}

static void test_sqrt(void)
{
	static const u8 code[] = {
		FNINIT, FLD_M64(DATA), FSQRT, FSTP_M64(OUT),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 2.0);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd64(&r, OUT), double_bits(sqrt(2.0)));
	rig_close(&r);
}

static void test_sin_cos(void)
{
	static const u8 code[] = {
		FNINIT,
		FLDZ, FSIN, FSTP_M64(OUT),
		FLDZ, FCOS, FSTP_M64(OUT + 8),
		FLD_M64(DATA), FSIN, FSTP_M64(OUT + 16), /* pi/2 */
		FLD_M64(DATA), FCOS, FSTP_M64(OUT + 24),
		FNSTSW(OUT + 32),
		FLD_M64(DATA + 8), FSIN, SAVE_SW(OUT + 34), /* 1e30 */
		FSTP_M64(OUT + 40),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, M_PI / 2);
	wr_double(&r, DATA + 8, 1e30);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd64(&r, OUT), 0);
	CHECK_EQ(rd64(&r, OUT + 8), double_bits(1.0));
	CHECK(fabs(rd_double(&r, OUT + 16) - 1.0) < 1e-15);
	CHECK(fabs(rd_double(&r, OUT + 24)) < 1e-15);
	CHECK(!(rd16(&r, OUT + 32) & C2));
	/* |x| >= 2^63: C2 set, operand left alone (SDM vol. 2, FSIN). */
	CHECK(rd16(&r, OUT + 34) & C2);
	CHECK_EQ(rd64(&r, OUT + 40), double_bits(1e30));
	rig_close(&r);
}

/* 10 rem 3 = 1, quotient 3 in C0 C3 C1 = Q2 Q1 Q0 = 0 1 1. */
static void test_fprem(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), FLD_M64(DATA + 8), /* ST1 = 3, ST0 = 10 */
		FPREM, SAVE_SW(OUT), FSTP_M64(OUT + 8), FSTP_ST0,
		FLD_M64(DATA + 24), FLD_M64(DATA + 16), /* 1e30 rem 1 */
		FPREM, SAVE_SW(OUT + 2),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 3.0);
	wr_double(&r, DATA + 8, 10.0);
	wr_double(&r, DATA + 16, 1e30);
	wr_double(&r, DATA + 24, 1.0);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, OUT) & CC, C3 | C1);
	CHECK_EQ(rd64(&r, OUT + 8), double_bits(1.0));
	/* Exponents 99 apart: a partial remainder only, C2 set. */
	CHECK(rd16(&r, OUT + 2) & C2);
	rig_close(&r);
}

/* FXAM classes (SDM vol. 2, FXAM table). */
static void test_fxam(void)
{
	static const u8 code[] = {
		FNINIT,
		FXAM, SAVE_SW(OUT), /* empty */
		FLDZ, FXAM, SAVE_SW(OUT + 2), FSTP_ST0,
		FLD1, FXAM, SAVE_SW(OUT + 4), FSTP_ST0,
		FLD_M64(DATA), FXAM, SAVE_SW(OUT + 6), FSTP_ST0,
		FLD_M64(DATA + 8), FXAM, SAVE_SW(OUT + 8), FSTP_ST0,
		FLD_M64(DATA + 16), FXAM, SAVE_SW(OUT + 10), FSTP_ST0,
		FLD_M80(DATA + 32), FXAM, SAVE_SW(OUT + 12), FSTP_ST0,
		FLD_M80(DATA + 48), FXAM, SAVE_SW(OUT + 14), FSTP_ST0,
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	put_le64(r.mem.ram + DATA, DOUBLE_INF);
	put_le64(r.mem.ram + DATA + 8, 0x7ff8000000000000ull);
	wr_double(&r, DATA + 16, -2.0);
	wr_f80(&r, DATA + 32, 1, 0); /* denormal */
	wr_f80(&r, DATA + 48, 0x4000000000000000ull, 0x3fff); /* unnormal */
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, OUT) & CC, C3 | C0);
	CHECK_EQ(rd16(&r, OUT + 2) & CC, C3);
	CHECK_EQ(rd16(&r, OUT + 4) & CC, C2);
	CHECK_EQ(rd16(&r, OUT + 6) & CC, C2 | C0);
	CHECK_EQ(rd16(&r, OUT + 8) & CC, C0);
	CHECK_EQ(rd16(&r, OUT + 10) & CC, C2 | C1);
	CHECK_EQ(rd16(&r, OUT + 12) & CC, C3 | C2);
	CHECK_EQ(rd16(&r, OUT + 14) & CC, 0); /* unsupported */
	rig_close(&r);
}

/*
 * Loading a single-precision SNaN raises IE and gives the QNaN; with IE
 * unmasked nothing is pushed. A denormal raises DE (SDM vol. 1, 8.5).
 */
static void test_load_signals(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M32(DATA), SAVE_SW(OUT), FSTP_M32(OUT + 4), /* SNaN */
		FLD_M32(DATA + 4), SAVE_SW(OUT + 8), FSTP_ST0, /* denormal */
		FNINIT, FLDCW(DATA + 8), /* IM clear */
		FLD_M32(DATA), FNSTSW(OUT + 10),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	put_le32(r.mem.ram + DATA, 0x7f800001);
	put_le32(r.mem.ram + DATA + 4, 0x00000001);
	put_le16(r.mem.ram + DATA + 8, 0x037e);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, OUT) & 0x3f, IE);
	CHECK_EQ(rd32(&r, OUT + 4), 0x7fc00001);
	CHECK(rd16(&r, OUT + 8) & 0x02);
	CHECK_EQ(rd16(&r, OUT + 10), 0x8000 | ES | IE);
	CHECK_EQ(r.st.fpu.ftw, 0xffff);
	rig_close(&r);
}

static void test_divide_by_zero(void)
{
	static const u8 code[] = {
		FNINIT, FLD1, FLDZ, FDIVP_ST1, SAVE_SW(OUT), FSTP_M64(OUT + 8),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, OUT) & 0xff, ZE); /* masked: no ES */
	CHECK_EQ(TOP(rd16(&r, OUT)), 7);
	CHECK_EQ(rd64(&r, OUT + 8), DOUBLE_INF);
	rig_close(&r);
}

/* PC = 24 bits: 1/3 comes out as the single-precision quotient. */
static void test_precision_control(void)
{
	static const u8 code[] = {
		FNINIT, FLDCW(DATA), FLD1, FLD_M64(DATA + 8), FDIVP_ST1,
		FSTP_M64(OUT),
	};
	volatile float third = 1.0f / 3.0f;
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	put_le16(r.mem.ram + DATA, 0x007f);
	wr_double(&r, DATA + 8, 3.0);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd64(&r, OUT), double_bits(third));
	rig_close(&r);
}

/* FLD m80 and FSTP m80 copy any bit pattern, without exceptions. */
static void test_m80_exact(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M80(DATA), FSTP_M80(OUT),
		FLD_M80(DATA + 16), FSTP_M80(OUT + 16),
		FLD_M80(DATA + 32), FSTP_M80(OUT + 32),
		FLD_M80(DATA + 48), FSTP_M80(OUT + 48),
		FNSTSW(OUT + 64),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_f80(&r, DATA, 0x9234567890abcdefull, 0xc123);
	wr_f80(&r, DATA + 16, 0x1234, 0x0000); /* denormal */
	wr_f80(&r, DATA + 32, 0x8000000000000001ull, 0x7fff); /* SNaN */
	wr_f80(&r, DATA + 48, 0x0123456789abcdefull, 0x4321); /* unnormal */
	rig_exec(&r, code, sizeof(code));
	CHECK(!memcmp(r.mem.ram + OUT, r.mem.ram + DATA, 10));
	CHECK(!memcmp(r.mem.ram + OUT + 16, r.mem.ram + DATA + 16, 10));
	CHECK(!memcmp(r.mem.ram + OUT + 32, r.mem.ram + DATA + 32, 10));
	CHECK(!memcmp(r.mem.ram + OUT + 48, r.mem.ram + DATA + 48, 10));
	CHECK_EQ(rd16(&r, OUT + 64), 0);
	rig_close(&r);
}

/* Packed BCD: 18 digits, two per byte, sign in bit 79 (SDM vol. 1, 4.7). */
static void test_bcd(void)
{
	static const u8 code[] = {
		FNINIT,
		FILD_M32(DATA), FBSTP(OUT), /* 1234567 */
		FILD_M32(DATA + 4), FBSTP(OUT + 16), /* -1234567 */
		FBLD(OUT), FISTP_M32(OUT + 32),
	};
	static const u8 bcd[10] = { 0x67, 0x45, 0x23, 0x01 };
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	put_le32(r.mem.ram + DATA, 1234567);
	put_le32(r.mem.ram + DATA + 4, (u32)-1234567);
	rig_exec(&r, code, sizeof(code));
	CHECK(!memcmp(r.mem.ram + OUT, bcd, 10));
	CHECK(!memcmp(r.mem.ram + OUT + 16, bcd, 9));
	CHECK_EQ(r.mem.ram[OUT + 16 + 9], 0x80);
	CHECK_EQ(rd32(&r, OUT + 32), 1234567);
	rig_close(&r);
}

/* Nine pushes: IE, SF, C1 = 1, and the QNaN indefinite pushed. */
static void test_stack_overflow(void)
{
	static const u8 code[] = {
		FNINIT, FLD1, FLD1, FLD1, FLD1, FLD1, FLD1, FLD1, FLD1,
		FLD1, SAVE_SW(OUT), FSTP_M64(OUT + 8),
	};
	struct rig r;
	u16 sw;

	rig_open(&r, CPU_MODEL_P6);
	rig_exec(&r, code, sizeof(code));
	sw = rd16(&r, OUT);
	CHECK_EQ(sw & (0xff | C1), IE | SF | C1);
	CHECK_EQ(TOP(sw), 7);
	CHECK_EQ(rd64(&r, OUT + 8), DOUBLE_INDEFINITE);
	rig_close(&r);
}

/* A store from an empty stack: IE, SF, C1 = 0; stores the indefinite. */
static void test_stack_underflow(void)
{
	static const u8 code[] = {
		FNINIT, FSTP_M64(OUT), FNSTSW(OUT + 8),
		FISTP_M32(OUT + 12), /* and the integer indefinite */
	};
	struct rig r;
	u16 sw;

	rig_open(&r, CPU_MODEL_P6);
	rig_exec(&r, code, sizeof(code));
	sw = rd16(&r, OUT + 8);
	CHECK_EQ(rd64(&r, OUT), DOUBLE_INDEFINITE);
	CHECK_EQ(sw & (0xff | C1), IE | SF);
	CHECK_EQ(TOP(sw), 1);
	CHECK_EQ(rd32(&r, OUT + 12), 0x80000000u);
	rig_close(&r);
}

static void test_fsave_frstor16(void)
{
	static const u8 code[] = {
		FNINIT, FLDCW(DATA), FLDPI, FLD1,
		FNSAVE(IMG), /* DD 36 00 20: 94-byte image, then FNINIT */
		FNSTCW(OUT), FNSTSW(OUT + 2),
		FRSTOR(IMG), /* DD 26 00 20 */
		FNSTCW(OUT + 4),
		FSTP_M64(OUT + 8), FSTP_M64(OUT + 16), FNSTSW(OUT + 24),
	};
	/* FLD1 is at 0x7C00 + 2 + 4 + 2. */
	const u32 fld1_ip = CODE + 8;
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	put_le16(r.mem.ram + DATA, 0x027f);
	rig_exec(&r, code, sizeof(code));
	/* The real-mode 16-bit image (SDM vol. 1, figure 8-10). */
	CHECK_EQ(rd16(&r, IMG), 0x027f);
	CHECK_EQ(rd16(&r, IMG + 2), 6 << 11);
	CHECK_EQ(rd16(&r, IMG + 4), 0x0fff); /* R6, R7 valid */
	CHECK_EQ(rd16(&r, IMG + 6), fld1_ip);
	CHECK_EQ(rd16(&r, IMG + 8), 0x1e8); /* FOP D9 E8 */
	CHECK_EQ(rd64(&r, IMG + 14), 0x8000000000000000ull); /* ST0 = 1 */
	CHECK_EQ(rd16(&r, IMG + 22), 0x3fff);
	CHECK_EQ(rd64(&r, IMG + 24), 0xc90fdaa22168c235ull); /* ST1 = pi */
	CHECK_EQ(rd16(&r, OUT), 0x037f);
	CHECK_EQ(rd16(&r, OUT + 2), 0);
	CHECK_EQ(rd16(&r, OUT + 4), 0x027f);
	CHECK_EQ(rd64(&r, OUT + 8), double_bits(1.0));
	CHECK_EQ(rd64(&r, OUT + 16), double_bits(M_PI));
	CHECK_EQ(TOP(rd16(&r, OUT + 24)), 0);
	rig_close(&r);
}

/* With an operand-size prefix: the 28-byte environment, 108 in all. */
static void test_fsave_frstor32(void)
{
	static const u8 code[] = {
		FNINIT, FLDPI, FLD1,
		O32, FNSAVE(IMG),
		O32, FRSTOR(IMG),
		FSTP_M64(OUT), FSTP_M64(OUT + 8),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, IMG), 0x037f);
	CHECK_EQ(rd16(&r, IMG + 4), 6 << 11);
	CHECK_EQ(rd16(&r, IMG + 8), 0x0fff);
	CHECK_EQ(rd16(&r, IMG + 12), CODE + 4); /* FLD1, linear */
	CHECK_EQ(rd32(&r, IMG + 16) & 0x7ff, 0x1e8);
	CHECK_EQ(rd64(&r, IMG + 28), 0x8000000000000000ull);
	CHECK_EQ(rd64(&r, IMG + 38), 0xc90fdaa22168c235ull);
	CHECK_EQ(rd64(&r, OUT), double_bits(1.0));
	CHECK_EQ(rd64(&r, OUT + 8), double_bits(M_PI));
	rig_close(&r);
}

/* FXSAVE layout (SDM vol. 2, FXSAVE, table 3-53) and restore. */
static void test_fxsave_fxrstor(void)
{
	static const u8 code[] = {
		FNINIT, FLDPI, FLD1,
		FXSAVE(0x3000), /* 0F AE 06 00 30 */
		FNINIT,
		FXRSTOR(0x3000), /* 0F AE 0E 00 30 */
		FSTP_M64(OUT), FSTP_M64(OUT + 8), FNSTSW(OUT + 16),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	rig_exec_cr(&r, code, sizeof(code), CR0_ET_, 0x200);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.mem.ram[MARK], 0xff);
	CHECK_EQ(rd16(&r, 0x3000), 0x037f);
	CHECK_EQ(rd16(&r, 0x3002), 6 << 11);
	CHECK_EQ(r.mem.ram[0x3004], 0xc0); /* abridged: R6, R7 */
	CHECK_EQ(rd16(&r, 0x3006), 0x1e8);
	CHECK_EQ(rd32(&r, 0x3008), CODE + 4);
	CHECK_EQ(rd32(&r, 0x3018), 0x1f80);
	CHECK_EQ(rd64(&r, 0x3020), 0x8000000000000000ull);
	CHECK_EQ(rd16(&r, 0x3028), 0x3fff);
	CHECK_EQ(rd64(&r, 0x3030), 0xc90fdaa22168c235ull);
	CHECK_EQ(rd64(&r, OUT), double_bits(1.0));
	CHECK_EQ(rd64(&r, OUT + 8), double_bits(M_PI));
	CHECK_EQ(rd16(&r, OUT + 16), 0x20); /* pi to double is inexact */
	rig_close(&r);
}

/* Misaligned operand and reserved MXCSR bits: #GP(0). */
static void test_fxsave_faults(void)
{
	static const u8 misaligned[] = { FXSAVE(0x3008) };
	static const u8 bad_mxcsr[] = { FXRSTOR(0x3000) };
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	rig_exec_cr(&r, misaligned, sizeof(misaligned), CR0_ET_, 0x200);
	CHECK_EQ(r.mem.ram[MARK], 13);
	memset(r.mem.ram + 0x3000, 0, 512);
	put_le16(r.mem.ram + 0x3000, 0x037f);
	put_le32(r.mem.ram + 0x3018, 0x1f80 | 0x10000); /* bit 16: reserved */
	rig_exec_cr(&r, bad_mxcsr, sizeof(bad_mxcsr), CR0_ET_, 0x200);
	CHECK_EQ(r.mem.ram[MARK], 13);
	CHECK_EQ(r.st.fpu.mxcsr, 0x1f80);
	rig_close(&r);
}

/*
 * An unmasked divide by zero leaves the stack alone and sets ES; the next
 * waiting instruction takes #MF with CR0.NE, and not without.
 */
static void test_unmasked_exception(void)
{
	static const u8 code[] = {
		FNINIT, FLDCW(DATA), FLD1, FLDZ,
		FDIVP_ST1, /* at 0x7C0A */
		FNSTSW(OUT), /* no-wait: no #MF */
		FLD1,
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	put_le16(r.mem.ram + DATA, 0x037b); /* ZM clear */
	rig_exec_cr(&r, code, sizeof(code), CR0_ET_ | CR0_NE_, 0);
	CHECK_EQ(r.mem.ram[MARK], 16);
	CHECK_EQ(rd16(&r, OUT), 0x8000 | 6 << 11 | ES | ZE);
	CHECK_EQ(r.st.fpu.fip, CODE + 10);
	CHECK_EQ(r.st.fpu.fop, 0x6f9);
	CHECK_EQ(r.st.fpu.ftw, 0x1fff); /* R6 zero, R7 valid */
	rig_exec_cr(&r, code, sizeof(code), CR0_ET_, 0);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.mem.ram[MARK], 0xff);
	rig_close(&r);
}

/* CR0.EM or TS: #NM on ESC; WAIT only faults with TS and MP. */
static void test_device_not_available(void)
{
	static const u8 esc[] = { FNINIT };
	static const u8 wait[] = { WAIT };
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	rig_exec_cr(&r, esc, sizeof(esc), CR0_ET_ | 0x8, 0);
	CHECK_EQ(r.mem.ram[MARK], 7);
	rig_exec_cr(&r, esc, sizeof(esc), CR0_ET_ | 0x4, 0);
	CHECK_EQ(r.mem.ram[MARK], 7);
	rig_exec_cr(&r, wait, sizeof(wait), CR0_ET_ | 0x8, 0);
	CHECK_EQ(r.mem.ram[MARK], 0xff);
	rig_exec_cr(&r, wait, sizeof(wait), CR0_ET_ | 0x4, 0);
	CHECK_EQ(r.mem.ram[MARK], 0xff);
	rig_exec_cr(&r, wait, sizeof(wait), CR0_ET_ | 0xa, 0);
	CHECK_EQ(r.mem.ram[MARK], 7);
	rig_close(&r);
}

static void test_undefined_opcodes(void)
{
	static const u8 codes[][2] = {
		{ 0xd9, 0xd1 }, { 0xd9, 0xe2 }, { 0xd9, 0xef }, { 0xda, 0xe8 },
		{ 0xdb, 0xe5 }, { 0xdd, 0xf0 }, { 0xde, 0xd8 }, { 0xdf, 0xe1 },
		{ 0xdf, 0xf8 }, { 0xd9, 0x08 }, /* D9 /1 memory */
	};
	struct rig r;
	unsigned i;

	rig_open(&r, CPU_MODEL_P6);
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		rig_exec_cr(&r, codes[i], 2, CR0_ET_, 0);
		CHECK_EQ(r.mem.ram[MARK], 6);
	}
	rig_close(&r);
}

/* Every direction of subtract and divide (SDM vol. 2, FSUB/FSUBR/FDIV). */
static void test_operand_order(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), FLD_M64(DATA + 8), /* ST0 = 4, ST1 = 10 */
		0xd8, 0xe1, FSTP_M64(OUT), FSTP_ST0, /* FSUB ST0,ST1 */
		FLD_M64(DATA), FLD_M64(DATA + 8),
		0xd8, 0xe9, FSTP_M64(OUT + 8), FSTP_ST0, /* FSUBR ST0,ST1 */
		FLD_M64(DATA), FLD_M64(DATA + 8),
		0xdc, 0xe1, FSTP_ST0, FSTP_M64(OUT + 16), /* FSUBR ST1,ST0 */
		FLD_M64(DATA), FLD_M64(DATA + 8),
		0xdc, 0xe9, FSTP_ST0, FSTP_M64(OUT + 24), /* FSUB ST1,ST0 */
		FLD_M64(DATA), FLD_M64(DATA + 8),
		0xde, 0xe9, FSTP_M64(OUT + 32), /* FSUBP ST1,ST0 */
		FLD_M64(DATA), FLD_M64(DATA + 8),
		0xde, 0xe1, FSTP_M64(OUT + 40), /* FSUBRP ST1,ST0 */
		FLD_M64(DATA), FLD_M64(DATA + 8),
		FDIVP_ST1, FSTP_M64(OUT + 48), /* DE F9 */
		FLD_M64(DATA), FLD_M64(DATA + 8),
		0xde, 0xf1, FSTP_M64(OUT + 56), /* FDIVRP ST1,ST0 */
		FLD_M64(DATA), FIDIVR_M16(DATA + 16), FSTP_M64(OUT + 64),
		FLD_M64(DATA), FISUB_M32(DATA + 20), FSTP_M64(OUT + 72),
		FLD_M64(DATA), FIMUL_M16(DATA + 16), FSTP_M64(OUT + 80),
		FNSTSW(OUT + 88),
	};
	static const double expect[] = { -6, 6, -6, 6, 6, -6, 2.5, 0.4,
					 0.5, 7, 50 };
	struct rig r;
	unsigned i;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 10.0);
	wr_double(&r, DATA + 8, 4.0);
	put_le16(r.mem.ram + DATA + 16, 5);
	put_le32(r.mem.ram + DATA + 20, 3);
	rig_exec(&r, code, sizeof(code));
	for (i = 0; i < ARRAY_SIZE(expect); i++)
		CHECK_EQ(rd64(&r, OUT + 8 * i), double_bits(expect[i]));
	CHECK_EQ(TOP(rd16(&r, OUT + 88)), 0);
	rig_close(&r);
}

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-15 * fmax(1.0, fabs(b));
}

static void test_transcendental(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), 0xd9, 0xf2, /* FPTAN 0.5 */
		FSTP_M64(OUT), FSTP_M64(OUT + 8),
		FLD_M64(DATA), 0xd9, 0xfb, /* FSINCOS 0.5 */
		FSTP_M64(OUT + 16), FSTP_M64(OUT + 24),
		FLD_M64(DATA + 8), 0xd9, 0xf4, /* FXTRACT 10 */
		FSTP_M64(OUT + 32), FSTP_M64(OUT + 40),
		FLD_M64(DATA + 16), FLD_M64(DATA + 24), 0xd9, 0xfd, /* FSCALE */
		FSTP_M64(OUT + 48), FSTP_ST0,
		FLD_M64(DATA + 16), FLD_M64(DATA + 32), 0xd9, 0xf1, /* FYL2X */
		FSTP_M64(OUT + 56),
		FLD_M64(DATA), 0xd9, 0xf0, FSTP_M64(OUT + 64), /* F2XM1 */
		FLD1, FLD1, 0xd9, 0xf3, FSTP_M64(OUT + 72), /* FPATAN */
		FLD_M64(DATA + 40), 0xd9, 0xfc, FSTP_M64(OUT + 80), /* FRNDINT */
		FNSTSW(OUT + 88),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 0.5);
	wr_double(&r, DATA + 8, 10.0);
	wr_double(&r, DATA + 16, 3.0);
	wr_double(&r, DATA + 24, 1.5);
	wr_double(&r, DATA + 32, 8.0);
	wr_double(&r, DATA + 40, 2.5);
	rig_exec(&r, code, sizeof(code));
	CHECK_EQ(rd64(&r, OUT), double_bits(1.0)); /* FPTAN pushes 1 */
	CHECK(near(rd_double(&r, OUT + 8), tan(0.5)));
	CHECK(near(rd_double(&r, OUT + 16), cos(0.5)));
	CHECK(near(rd_double(&r, OUT + 24), sin(0.5)));
	CHECK_EQ(rd64(&r, OUT + 32), double_bits(1.25));
	CHECK_EQ(rd64(&r, OUT + 40), double_bits(3.0));
	CHECK_EQ(rd64(&r, OUT + 48), double_bits(12.0));
	CHECK_EQ(rd64(&r, OUT + 56), double_bits(9.0));
	CHECK(near(rd_double(&r, OUT + 64), sqrt(2.0) - 1));
	CHECK(near(rd_double(&r, OUT + 72), M_PI / 4));
	CHECK_EQ(rd64(&r, OUT + 80), double_bits(2.0)); /* to even */
	CHECK_EQ(TOP(rd16(&r, OUT + 88)), 0);
	rig_close(&r);
}

/* FCMOVcc tests EFLAGS as the matching Jcc would. */
static void test_fcmov(void)
{
	static const u8 code[] = {
		FNINIT, FLD1, FLD_M64(DATA), /* ST0 = 2, ST1 = 1 */
		SET_FLAGS(0x0003), 0xda, 0xc1, FSTP_M64(OUT), /* FCMOVB */
		FLD_M64(DATA), 0xdb, 0xc1, FSTP_M64(OUT + 8), /* FCMOVNB */
		FLD_M64(DATA), SET_FLAGS(0x0046),
		0xda, 0xc9, FSTP_M64(OUT + 16), /* FCMOVE */
		FLD_M64(DATA), 0xda, 0xd9, FSTP_M64(OUT + 24), /* FCMOVU */
		FLD_M64(DATA), 0xdb, 0xd9, FSTP_M64(OUT + 32), /* FCMOVNU */
		FLD_M64(DATA), 0xdb, 0xd1, FSTP_M64(OUT + 40), /* FCMOVNBE */
	};
	static const double expect[] = { 1, 2, 1, 1, 2, 2 };
	struct rig r;
	unsigned i;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 2.0);
	rig_exec(&r, code, sizeof(code));
	for (i = 0; i < ARRAY_SIZE(expect); i++)
		CHECK_EQ(rd64(&r, OUT + 8 * i), double_bits(expect[i]));
	rig_close(&r);
}

/*
 * Protected-mode environment images (SDM vol. 1, figures 8-9 and 8-11):
 * offsets and selectors of the last instruction and its operand.
 */
static void test_fstenv_protected(void)
{
	static const u8 code[] = {
		FNINIT,
		FLD_M64(DATA), /* at 7C02: FOP DD 06, operand 0x10:DATA */
		FNSTENV(IMG), /* D9 36 00 20 */
		O32, FNSTENV(IMG + 0x40),
		FNINIT,
		O32, FLDENV(IMG + 0x40), /* 66 D9 26 40 20 */
		FNSTSW(OUT), FNSTCW(OUT + 2),
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	wr_double(&r, DATA, 1.0);
	rig_exec_pm(&r, code, sizeof(code));
	CHECK_EQ(rd16(&r, IMG), 0x037f);
	CHECK_EQ(rd16(&r, IMG + 2), 7 << 11);
	CHECK_EQ(rd16(&r, IMG + 4), 0x3fff);
	CHECK_EQ(rd16(&r, IMG + 6), CODE + 2);
	CHECK_EQ(rd16(&r, IMG + 8), 0x08);
	CHECK_EQ(rd16(&r, IMG + 10), DATA);
	CHECK_EQ(rd16(&r, IMG + 12), 0x10);
	CHECK_EQ(rd16(&r, IMG + 0x40), 0x037f);
	CHECK_EQ(rd16(&r, IMG + 0x44), 7 << 11);
	CHECK_EQ(rd16(&r, IMG + 0x48), 0x3fff);
	CHECK_EQ(rd32(&r, IMG + 0x4c), CODE + 2);
	CHECK_EQ(rd32(&r, IMG + 0x50), 0x08 | 0x506u << 16);
	CHECK_EQ(rd32(&r, IMG + 0x54), DATA);
	CHECK_EQ(rd16(&r, IMG + 0x58), 0x10);
	/* FLDENV brings back TOP, and the tags from the registers. */
	CHECK_EQ(rd16(&r, OUT), 7 << 11);
	CHECK_EQ(rd16(&r, OUT + 2), 0x037f);
	CHECK_EQ(r.st.fpu.ftw, 0x3fff);
	CHECK_EQ(r.st.fpu.fcs, 0x08);
	CHECK_EQ(r.st.fpu.fds, 0x10);
	rig_close(&r);
}

/* FLDENV of an image with an unmasked flag pending: #MF at the next. */
static void test_fldenv_pending(void)
{
	static const u8 code[] = {
		FNINIT, FLDENV(IMG), /* 14-byte real-mode image */
		FNSTSW(OUT), /* no-wait */
		FLD1, /* waiting: #MF */
	};
	struct rig r;

	rig_open(&r, CPU_MODEL_P6);
	memset(r.mem.ram + IMG, 0, 14);
	put_le16(r.mem.ram + IMG, 0x037b); /* ZM clear */
	put_le16(r.mem.ram + IMG + 2, ZE);
	put_le16(r.mem.ram + IMG + 4, 0xffff);
	rig_exec_cr(&r, code, sizeof(code), CR0_ET_ | CR0_NE_, 0);
	CHECK_EQ(rd16(&r, OUT), 0x8000 | ES | ZE);
	CHECK_EQ(r.mem.ram[MARK], 16);
	rig_close(&r);
}

/*
 * The 8086 and 286 models have no coprocessor: ESC does nothing, except
 * that the 286 checks the operand's first word against the segment limit
 * (as the 80C286 SingleStepTests record): #GP at offset 0xFFFF.
 */
static void test_no_coprocessor(void)
{
	static const u8 code[] = { FLD1, FSTP_M64(OUT), WAIT, FNSTSW_AX };
	static const u8 wrap[] = { FLD_M32(0xffff) };
	enum cpu_model models[] = { CPU_MODEL_8086, CPU_MODEL_286 };
	struct rig r;
	unsigned i;

	for (i = 0; i < 2; i++) {
		rig_open(&r, models[i]);
		memset(r.mem.ram + OUT, 0xaa, 8);
		rig_exec_cr(&r, code, sizeof(code), 0, 0);
		CHECK_EQ(r.exit, VCPU_EXIT_HALT);
		CHECK_EQ(r.mem.ram[MARK], 0xff);
		CHECK_EQ(rd64(&r, OUT), 0xaaaaaaaaaaaaaaaaull);
		CHECK_EQ(r.st.fpu.ftw, 0xffff);
		rig_exec_cr(&r, wrap, sizeof(wrap), 0, 0);
		CHECK_EQ(r.mem.ram[MARK], models[i] == CPU_MODEL_286 ? 13 : 0xff);
		rig_close(&r);
	}
}

static u32 lcg(u32 *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* One random ESC, WAIT or FXSAVE/FXRSTOR; operands inside IMG. */
static unsigned random_insn(u32 *seed, u8 *p)
{
	u32 r = lcg(seed), addr = IMG + lcg(seed) % 0xd00;
	unsigned n = 0;

	if (r % 8 == 0)
		p[n++] = O32;
	if (r % 23 == 0) {
		p[n++] = WAIT;
		return n;
	}
	if (r % 29 == 0) {
		p[n++] = 0x0f;
		p[n++] = 0xae;
		p[n++] = (u8)(0x06 | (lcg(seed) & 1) << 3);
	} else {
		p[n++] = (u8)(0xd8 + lcg(seed) % 8);
		if (lcg(seed) & 1) {
			p[n++] = (u8)(0xc0 | (lcg(seed) & 0x3f));
			return n;
		}
		p[n++] = (u8)(0x06 | (lcg(seed) % 8) << 3);
	}
	p[n++] = (u8)(addr & ~(lcg(seed) & 1 ? 15u : 0u));
	p[n++] = (u8)(addr >> 8);
	return n;
}

/* The same value the host computes on its own afterwards. */
static bool host_fpu_intact(void)
{
	volatile long double one = 1.0L, three = 3.0L;
	long double q = one / three;
	u8 b[10];

	memcpy(b, &q, sizeof(b));
	return get_le64(b) == 0xaaaaaaaaaaaaaaabull &&
	       get_le16(b + 8) == 0x3ffd;
}

/*
 * Hostile code: random x87 instructions on random memory, with CR0.NE on
 * or off. Short programs keep most instructions from being skipped by an
 * earlier fault, and the FPU state carries over from one to the next.
 * Nothing may crash or hang, and the host's own floating point must be
 * unaffected.
 */
static void test_random_code(void)
{
	struct rig r;
	u32 seed = 12345, cr0;
	unsigned iter, i, n;
	u8 code[64];

	rig_open(&r, CPU_MODEL_P6);
	for (iter = 0; iter < 50000; iter++) {
		if (iter % 64 == 0)
			for (i = IMG; i < IMG + 0x1000; i++)
				r.mem.ram[i] = (u8)lcg(&seed);
		for (n = 0, i = lcg(&seed) % 3; i < 3; i++)
			n += random_insn(&seed, code + n);
		cr0 = CR0_ET_ | (iter % 4 ? 0 : CR0_NE_);
		rig_exec_cr(&r, code, n, cr0, 0x200);
		CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	}
	CHECK(host_fpu_intact());
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_init_probes);
	RUN_TEST(test_reset_state);
	RUN_TEST(test_add_double);
	RUN_TEST(test_rounding_modes);
	RUN_TEST(test_fist_overflow);
	RUN_TEST(test_compare);
	RUN_TEST(test_sqrt);
	RUN_TEST(test_sin_cos);
	RUN_TEST(test_fprem);
	RUN_TEST(test_fxam);
	RUN_TEST(test_load_signals);
	RUN_TEST(test_divide_by_zero);
	RUN_TEST(test_precision_control);
	RUN_TEST(test_m80_exact);
	RUN_TEST(test_bcd);
	RUN_TEST(test_stack_overflow);
	RUN_TEST(test_stack_underflow);
	RUN_TEST(test_fsave_frstor16);
	RUN_TEST(test_fsave_frstor32);
	RUN_TEST(test_fxsave_fxrstor);
	RUN_TEST(test_fxsave_faults);
	RUN_TEST(test_unmasked_exception);
	RUN_TEST(test_device_not_available);
	RUN_TEST(test_undefined_opcodes);
	RUN_TEST(test_operand_order);
	RUN_TEST(test_transcendental);
	RUN_TEST(test_fcmov);
	RUN_TEST(test_fstenv_protected);
	RUN_TEST(test_fldenv_pending);
	RUN_TEST(test_no_coprocessor);
	RUN_TEST(test_random_code);
	return unit_summary();
}
/* clang-format on */

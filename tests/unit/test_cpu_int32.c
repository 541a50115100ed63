// SPDX-License-Identifier: MIT
/*
 * The soft CPU's 32-bit integer instructions, run as guest code in flat
 * 32-bit protected mode (and 16-bit code for the prefix tests): 32-bit
 * operands and addressing (ModR/M, SIB, disp32, the 0x66 and 0x67
 * prefixes), the 386+ instructions (MOVZX/MOVSX, bit tests, double
 * shifts, BSF/BSR, SETcc), the 486/Pentium/P6 ones (CMPXCHG, XADD, BSWAP,
 * CMPXCHG8B, CMOVcc, CPUID, RDTSC, RDMSR/WRMSR) and 32-bit REP strings.
 * Expected values come from the Intel SDM vol. 2 instruction pages and
 * vol. 1 appendix A (EFLAGS).
 */
#include "cpu_rig.h"

/* clang-format off */

/* setc al; out RIG_PORT, al */
#define LOG_CF 0x0f, 0x92, 0xc0, 0xe6, RIG_PORT
#define LOW 0x9000u /* data below 64 KiB, for 16-bit addressing */
#define CODE16 0x8000u /* 16-bit code must sit below 64 KiB */


/* The rig itself: code runs, reports through the port and halts. */
static void test_rig_smoke(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 0x12345678), /* mov eax, 0x12345678 */
	     LOG_EAX, /* out 0xe0, eax */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x12345678);
	CHECK_EQ(r.st.eip, r.pc);
	CHECK_EQ(r.st.gpr[R_ESP], STACK0);
	rig_close(&r);
}

/* ModR/M and SIB forms (SDM vol. 2, tables 2-2 and 2-3). */
static void test_addressing32(void)
{
	struct rig r;
	int i;

	rig_open(&r);
	for (i = -16; i < 256; i++)
		rig_wr32(&r, DATA + 4 * i, (u32)(0x1000 + i));
	/* Entry 0x40: data segment based 16 bytes above 0. */
	rig_desc(&r, SEL_FREE, 0x10, FLAT, A_DATA32);
	EMIT(&r, MOV_RI(R_EBX, DATA), /* mov ebx, DATA */
	     MOV_RI(R_ESI, 3), /* mov esi, 3 */
	     /* mov eax, [ebx+esi*4+0x10] */
	     0x8b, 0x84, SIB(2, R_ESI, R_EBX), D32(0x10),
	     LOG_EAX,
	     /* mov eax, [esi*8+DATA] */
	     0x8b, 0x04, SIB(3, R_ESI, 5), D32(DATA),
	     LOG_EAX,
	     0x8b, 0x05, D32(DATA + 8), /* mov eax, [DATA+8] */
	     LOG_EAX,
	     0x8b, 0x43, 0xf8, /* mov eax, [ebx-8] */
	     LOG_EAX,
	     0x8b, 0x04, SIB(0, 4, R_EBX), /* mov eax, [ebx] (SIB, no index) */
	     LOG_EAX,
	     /* lea eax, [ebx+esi*8-16] */
	     0x8d, 0x84, SIB(3, R_ESI, R_EBX), D32(0xfffffff0),
	     LOG_EAX,
	     PUSH_I(0xcafe), /* push 0xcafe */
	     0x8b, 0x04, SIB(0, 4, R_ESP), /* mov eax, [esp] */
	     LOG_EAX,
	     /* DS now based at 0x10: [ebx] moves, [ebp] (SS) does not. */
	     MOV_RI(R_EAX, SEL_FREE), /* mov eax, 0x40 */
	     MOV_SR(S_DS, R_EAX), /* mov ds, eax */
	     MOV_RI(R_EBP, DATA), /* mov ebp, DATA */
	     0x8b, 0x03, /* mov eax, [ebx] */
	     LOG_EAX,
	     0x8b, 0x45, 0x00, /* mov eax, [ebp+0] */
	     LOG_EAX,
	     0x8b, 0x44, SIB(2, R_ESI, R_EBP), 0x00, /* mov eax, [ebp+esi*4] */
	     LOG_EAX,
	     0x3e, 0x8b, 0x45, 0x00, /* mov eax, ds:[ebp+0] */
	     LOG_EAX,
	     MOV_RI(R_EBP, 8),
	     0x8b, 0x04, SIB(0, R_EBP, R_EBX), /* mov eax, [ebx+ebp]: DS */
	     LOG_EAX,
	     /* mov eax, [ebp+ebx]: SS */
	     0x8b, 0x44, SIB(0, R_EBX, R_EBP), 0x00,
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x1000 + 7, 0x1000 + 6, 0x1000 + 2, 0x1000 - 2,
		   0x1000, DATA + 24 - 16, 0xcafe, 0x1000 + 4, 0x1000,
		   0x1000 + 3, 0x1000 + 4, 0x1000 + 6, 0x1000 + 2);
	rig_close(&r);
}

/* Operand- and address-size prefixes in 32-bit code (SDM vol. 1, 3.6). */
static void test_prefixes_in_32bit_code(void)
{
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, LOW, 0xa1b2c3d4);
	rig_wr32(&r, 0x8014, 0x11223344);
	EMIT(&r, MOV_RI(R_EAX, 0xffffffff),
	     0x66, 0xb8, D16(0x1234), /* mov ax, 0x1234 */
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x0001ffff),
	     0x66, 0x05, D16(1), /* add ax, 1 */
	     0x9c, 0x5a, /* pushfd; pop edx */
	     LOG_EAX,
	     LOG(R_EDX),
	     MOV_RI(R_EBX, 0x12340000 | LOW), /* ebx = 0x1234:LOW */
	     0x67, 0x8b, 0x07, /* mov eax, [bx] */
	     LOG_EAX,
	     MOV_RI(R_ESI, 0x0000f004),
	     MOV_RI(R_EBX, LOW),
	     /* mov eax, [bx+si+0x10]: wraps at 64 KiB */
	     0x67, 0x8b, 0x40, 0x10,
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x55555555),
	     0x66, 0x67, 0x8b, 0x07, /* mov ax, [bx] */
	     LOG_EAX,
	     0x67, 0x8d, 0x40, 0xf0, /* lea eax, [bx+si-16]: 16-bit sum */
	     LOG_EAX,
	     /* lea ax, [ebx+esi+0x10000] */
	     0x66, 0x8d, 0x84, SIB(0, R_ESI, R_EBX), D32(0x10000),
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xffff1234, 0x00010000,
		   /* ZF, CF, PF, AF of the 16-bit add */
		   2 | FL_ZF | FL_CF | FL_PF | FL_AF,
		   0xa1b2c3d4, 0x11223344, 0x5555c3d4,
		   (LOW + 0xf004 - 16) & 0xffff, (LOW + 0xf004) & 0xffff);
	rig_close(&r);
}

/* The same prefixes from 16-bit protected-mode code, the other way. */
static void test_prefixes_in_16bit_code(void)
{
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA + 0x100, 0x87654321);
	rig_wr32(&r, LOW, 0x0badf00d);
	EMIT(&r, JMP_FAR(SEL_CODE16, CODE16)); /* jmp 0x30:CODE16 */
	rig_org(&r, CODE16);
	EMIT(&r, 0x66, 0xb8, D32(0x89abcdef), /* mov eax, 0x89abcdef */
	     0xb8, D16(0x1111), /* mov ax, 0x1111 */
	     0x66, 0xe7, RIG_PORT, /* out 0xe0, eax */
	     0x66, 0xb9, D32(0x10000), /* mov ecx, 0x10000 */
	     /* mov ax, [ecx*4+disp32] */
	     0x67, 0x8b, 0x04, SIB(2, R_ECX, 5), D32(DATA + 0x100 - 0x40000),
	     0x66, 0xe7, RIG_PORT,
	     /* mov eax, [ecx*4+disp32] */
	     0x66, 0x67, 0x8b, 0x04, SIB(2, R_ECX, 5),
	     D32(DATA + 0x100 - 0x40000),
	     0x66, 0xe7, RIG_PORT,
	     0x8b, 0x1e, D16(LOW), /* mov bx, [LOW] */
	     0x66, 0x89, 0xd8, /* mov eax, ebx */
	     0x66, 0xe7, RIG_PORT,
	     0x66, 0x89, 0xe0, /* mov eax, esp */
	     0x66, 0xe7, RIG_PORT,
	     0x66, 0x53, /* push ebx: 4 bytes */
	     0x53, /* push bx: 2 bytes */
	     0x66, 0x89, 0xe0, /* mov eax, esp */
	     0x66, 0xe7, RIG_PORT,
	     0x66, 0x58, /* pop eax: bx then the low half of ebx */
	     0x66, 0xe7, RIG_PORT,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.st.seg[S_CS].selector, SEL_CODE16);
	CHECK_OUTS(&r, 0x89ab1111, 0x89ab4321, 0x87654321, 0xf00d, STACK0,
		   STACK0 - 6, 0xf00df00d);
	CHECK_EQ(r.st.gpr[R_ESP], STACK0 - 2);
	rig_close(&r);
}

/* MOVZX and MOVSX (SDM vol. 2, MOVZX, MOVSX). */
static void test_movzx_movsx(void)
{
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA, 0x8081);
	EMIT(&r, MOV_RI(R_EBX, 0x80f0),
	     0x0f, 0xb6, 0xc3, /* movzx eax, bl */
	     LOG_EAX,
	     0x0f, 0xbe, 0xc3, /* movsx eax, bl */
	     LOG_EAX,
	     0x0f, 0xb7, 0xc3, /* movzx eax, bx */
	     LOG_EAX,
	     0x0f, 0xbf, 0xc3, /* movsx eax, bx */
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x12345678),
	     0x66, 0x0f, 0xbe, 0xc3, /* movsx ax, bl */
	     LOG_EAX,
	     0x0f, 0xb6, 0xdf, /* movzx ebx, bh */
	     LOG(R_EBX),
	     0x0f, 0xbe, 0x05, D32(DATA), /* movsx eax, byte [DATA] */
	     LOG_EAX,
	     0x0f, 0xb7, 0x05, D32(DATA), /* movzx eax, word [DATA] */
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xf0, 0xfffffff0, 0x80f0, 0xffff80f0, 0x1234fff0, 0x80,
		   0xffffff81, 0x8081);
	rig_close(&r);
}

/*
 * BT, BTS, BTR, BTC (SDM vol. 2, BT): register operands take the offset
 * modulo the width; a register offset into memory addresses a bit string
 * that may start below the operand (negative offsets); an immediate is
 * taken modulo the width even for memory.
 */
static void test_bit_tests(void)
{
	struct rig r;
	const u32 bits = DATA + 0x100;

	rig_open(&r);
	rig_wr32(&r, bits, 0x10);
	EMIT(&r, MOV_RI(R_EDX, 0x10),
	     0x0f, 0xba, 0xe2, 4, /* bt edx, 4 */
	     LOG_CF,
	     0x0f, 0xba, 0xea, 31, /* bts edx, 31 */
	     LOG_CF,
	     0x0f, 0xba, 0xf2, 4, /* btr edx, 4 */
	     LOG_CF,
	     0x0f, 0xba, 0xfa, 0, /* btc edx, 0 */
	     LOG_CF,
	     MOV_RI(R_ECX, 36),
	     0x0f, 0xa3, 0xca, /* bt edx, ecx: bit 36 mod 32 = 4 */
	     LOG_CF,
	     MOV_RI(R_EBX, bits),
	     MOV_RI(R_ECX, 100),
	     0x0f, 0xab, 0x0b, /* bts [ebx], ecx: dword +12, bit 4 */
	     LOG_CF,
	     MOV_RI(R_ECX, 0xffffffff),
	     0x0f, 0xab, 0x0b, /* bts [ebx], ecx: bit -1 = dword -4 bit 31 */
	     LOG_CF,
	     MOV_RI(R_ECX, (u32)-33),
	     0x0f, 0xbb, 0x0b, /* btc [ebx], ecx: dword -8 bit 31 */
	     LOG_CF,
	     MOV_RI(R_ECX, 100),
	     0x0f, 0xb3, 0x0b, /* btr [ebx], ecx */
	     LOG_CF,
	     0x0f, 0xba, 0x23, 100, /* bt dword [ebx], 100: bit 4 of [ebx] */
	     LOG_CF,
	     MOV_RI(R_ECX, 0xffff),
	     /* bt word [ebx], cx: bit -1 = word -2 bit 15 */
	     0x66, 0x0f, 0xa3, 0x0b,
	     LOG_CF,
	     MOV_RI(R_ECX, 0x7fff0011),
	     /* bts word [ebx], cx: cx = 17: word +2 bit 1 */
	     0x66, 0x0f, 0xab, 0x0b,
	     LOG_CF,
	     LOG(R_EDX),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0x80000001);
	CHECK_EQ(rig_rd32(&r, bits), 0x00020010);
	CHECK_EQ(rig_rd32(&r, bits + 12), 0);
	CHECK_EQ(rig_rd32(&r, bits - 4), 0x80000000);
	CHECK_EQ(rig_rd32(&r, bits - 8), 0x80000000);
	rig_close(&r);
}

/* SHLD and SHRD (SDM vol. 2, SHLD, SHRD): CF is the last bit out. */
static void test_double_shifts(void)
{
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA, 0xaabbccdd);
	EMIT(&r, MOV_RI(R_EAX, 0x12345678),
	     MOV_RI(R_EDX, 0x9abcdef0),
	     0x0f, 0xa4, 0xd0, 8, /* shld eax, edx, 8 */
	     LOG_EAX,
	     LOG_CF,
	     MOV_RI(R_EAX, 0x3456789a),
	     0x0f, 0xac, 0xd0, 4, /* shrd eax, edx, 4 */
	     LOG_EAX,
	     LOG_CF,
	     MOV_RI(R_EAX, 0x03456789),
	     MOV_RI(R_ECX, 36),
	     0x0f, 0xa5, 0xd0, /* shld eax, edx, cl: 36 mod 32 = 4 */
	     LOG_EAX,
	     0xf9, /* stc */
	     MOV_RI(R_EAX, 0x11111111),
	     0x0f, 0xa4, 0xd0, 0, /* shld eax, edx, 0: nothing changes */
	     LOG_EAX,
	     LOG_CF,
	     0x0f, 0xac, 0x15, D32(DATA), 16, /* shrd [DATA], edx, 16 */
	     LOG_CF,
	     0x66, 0x0f, 0xa4, 0xd0, 4, /* shld ax, dx, 4 (eax = 0x11111101) */
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x3456789a, 0, 0x03456789, 1, 0x34567899, 0x11111111,
		   1, 1, 0x1111101d);
	CHECK_EQ(rig_rd32(&r, DATA), 0xdef0aabb);
	rig_close(&r);
}

/* BSF and BSR: ZF set for a zero source (SDM vol. 2, BSF, BSR). */
static void test_bit_scan(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 0x00f00100),
	     0x0f, 0xbc, 0xc1, /* bsf eax, ecx */
	     LOG_EAX,
	     0x0f, 0xbd, 0xc1, /* bsr eax, ecx */
	     LOG_EAX,
	     LOG_FLAGS,
	     MOV_RI(R_ECX, 0x00010000),
	     0x66, 0x0f, 0xbd, 0xc1, /* bsr ax, cx: cx = 0 */
	     LOG_FLAGS,
	     MOV_RI(R_ECX, 0x80000000),
	     0x0f, 0xbd, 0xc1, /* bsr eax, ecx */
	     LOG_EAX,
	     0x0f, 0xbc, 0xc1, /* bsf eax, ecx */
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 6);
	CHECK_EQ(r.out[0], 8);
	CHECK_EQ(r.out[1], 23);
	CHECK_EQ(r.out[2] & FL_ZF, 0);
	CHECK_EQ(r.out[3] & FL_ZF, FL_ZF);
	CHECK_EQ(r.out[4], 31);
	CHECK_EQ(r.out[5], 31);
	rig_close(&r);
}

/* MUL, IMUL (one, two and three operands), DIV, IDIV. */
static void test_multiply_divide(void)
{
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA, (u32)-5);
	EMIT(&r, MOV_RI(R_EAX, 0x10000),
	     MOV_RI(R_ECX, 0x10000),
	     0xf7, 0xe9, /* imul ecx: edx:eax = 2^32 */
	     LOG_FLAGS, LOG(R_EDX), /* (LOG_FLAGS clobbers eax) */
	     MOV_RI(R_EAX, (u32)-3),
	     MOV_RI(R_ECX, 7),
	     0xf7, 0xe9, /* imul ecx: -21 */
	     LOG_FLAGS, LOG(R_EDX),
	     MOV_RI(R_EAX, 0xffffffff),
	     MOV_RI(R_ECX, 2),
	     0xf7, 0xe1, /* mul ecx */
	     MOV_RR(R_EBX, R_EAX),
	     LOG_FLAGS, LOG(R_EDX), LOG(R_EBX),
	     MOV_RI(R_ECX, 0x1000),
	     0x69, 0xc1, D32(0x12345), /* imul eax, ecx, 0x12345 */
	     LOG_EAX,
	     0x6b, 0xd9, 0xfe, /* imul ebx, ecx, -2 */
	     LOG(R_EBX),
	     0x0f, 0xaf, 0x1d, D32(DATA), /* imul ebx, [DATA] */
	     LOG(R_EBX),
	     MOV_RI(R_EBX, 0x40000000),
	     0x6b, 0xdb, 0x02, /* imul ebx, ebx, 2: overflows */
	     LOG_FLAGS,
	     MOV_RI(R_EDX, 1),
	     MOV_RI(R_EAX, 0),
	     MOV_RI(R_ECX, 2),
	     0xf7, 0xf1, /* div ecx: 2^32 / 2 */
	     LOG_EAX, LOG(R_EDX),
	     MOV_RI(R_EDX, 0xffffffff),
	     MOV_RI(R_EAX, (u32)-7),
	     0xf7, 0xf9, /* idiv ecx: -7 / 2 */
	     LOG_EAX, LOG(R_EDX),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 15);
	CHECK_EQ(r.out[0] & (FL_CF | FL_OF), FL_CF | FL_OF);
	CHECK_EQ(r.out[1], 1);
	CHECK_EQ(r.out[2] & (FL_CF | FL_OF), 0);
	CHECK_EQ(r.out[3], 0xffffffff);
	CHECK_EQ(r.out[4] & (FL_CF | FL_OF), FL_CF | FL_OF);
	CHECK_EQ(r.out[5], 1);
	CHECK_EQ(r.out[6], 0xfffffffe);
	CHECK_EQ(r.out[7], 0x12345000);
	CHECK_EQ(r.out[8], (u32)-0x2000);
	CHECK_EQ(r.out[9], 0xa000);
	CHECK_EQ(r.out[10] & (FL_CF | FL_OF), FL_CF | FL_OF);
	CHECK_EQ(r.out[11], 0x80000000);
	CHECK_EQ(r.out[12], 0);
	CHECK_EQ(r.out[13], (u32)-3);
	CHECK_EQ(r.out[14], (u32)-1);
	rig_close(&r);
}

/* A quotient too large for EAX is #DE, reported at the DIV (SDM 6.15). */
static void test_divide_error(void)
{
	struct rig r;
	u32 div_at;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EDX, 2), MOV_RI(R_EAX, 0), MOV_RI(R_ECX, 2));
	div_at = r.pc;
	EMIT(&r, 0xf7, 0xf1, /* div ecx */
	     HLT);
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), V_DE);
	CHECK_EQ(rig_frame(&r, 0), div_at); /* no error code: EIP first */
	CHECK_EQ(rig_frame(&r, 1), SEL_CODE0);
	CHECK_EQ(r.st.gpr[R_EDX], 2); /* registers unchanged */
	CHECK_EQ(r.st.gpr[R_EAX], 0);
	rig_close(&r);
}

/* CMPXCHG, XADD, BSWAP, CMPXCHG8B (SDM vol. 2). */
static void test_exchange_family(void)
{
	struct rig r;

	rig_open(&r);
	rig_wr32(&r, DATA, 5);
	rig_wr64(&r, DATA + 8, 0x1111111122222222ull);
	EMIT(&r, MOV_RI(R_EAX, 5),
	     MOV_RI(R_ECX, 9),
	     /* lock cmpxchg [DATA], ecx: equal */
	     0xf0, 0x0f, 0xb1, 0x0d, D32(DATA),
	     LOG_FLAGS,
	     MOV_RI(R_EAX, 5),
	     0x0f, 0xb1, 0x0d, D32(DATA), /* cmpxchg [DATA], ecx: 9 != 5 */
	     MOV_RR(R_EBX, R_EAX),
	     LOG_FLAGS, LOG(R_EBX),
	     MOV_RI(R_EAX, 0x77),
	     MOV_RI(R_EDX, 0x78),
	     0x0f, 0xb0, 0xd0, /* cmpxchg al, dl: equal, al = dl */
	     LOG_EAX,
	     MOV_RI(R_ECX, 1),
	     0x0f, 0xc1, 0x0d, D32(DATA), /* xadd [DATA], ecx */
	     LOG(R_ECX),
	     MOV_RI(R_EAX, 0x12345678),
	     0x0f, 0xc8, /* bswap eax */
	     LOG_EAX,
	     MOV_RI(R_EDX, 0x11111111), MOV_RI(R_EAX, 0x22222222),
	     MOV_RI(R_ECX, 0x33333333), MOV_RI(R_EBX, 0x44444444),
	     0x0f, 0xc7, 0x0d, D32(DATA + 8), /* cmpxchg8b [DATA+8]: equal */
	     LOG_FLAGS,
	     MOV_RI(R_EDX, 0), MOV_RI(R_EAX, 0),
	     0x0f, 0xc7, 0x0d, D32(DATA + 8), /* cmpxchg8b: differs, loads */
	     MOV_RR(R_ESI, R_EAX),
	     LOG_FLAGS, LOG(R_EDX), LOG(R_ESI),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 10);
	CHECK_EQ(r.out[0] & FL_ZF, FL_ZF);
	CHECK_EQ(r.out[1] & FL_ZF, 0);
	CHECK_EQ(r.out[2], 9);
	CHECK_EQ(r.out[3], 0x78);
	CHECK_EQ(r.out[4], 9);
	CHECK_EQ(r.out[5], 0x78563412);
	CHECK_EQ(r.out[6] & FL_ZF, FL_ZF);
	CHECK_EQ(r.out[7] & FL_ZF, 0);
	CHECK_EQ(r.out[8], 0x33333333);
	CHECK_EQ(r.out[9], 0x44444444);
	CHECK_EQ(rig_rd32(&r, DATA), 10);
	CHECK_EQ(rig_rd64(&r, DATA + 8), 0x3333333344444444ull);
	rig_close(&r);
}

/* The condition of each cc after CMP a, b (SDM vol. 2, table B-1). */
static bool cc_after_cmp(u32 a, u32 b, unsigned cc)
{
	u32 d = a - b;
	bool of = ((a ^ b) & (a ^ d)) >> 31, cf = a < b, zf = !d;
	bool sf = d >> 31, pf = !__builtin_parity(d & 0xff), v;

	switch (cc >> 1) {
	case 0: v = of; break;
	case 1: v = cf; break;
	case 2: v = zf; break;
	case 3: v = cf || zf; break;
	case 4: v = sf; break;
	case 5: v = pf; break;
	case 6: v = sf != of; break;
	default: v = zf || sf != of; break;
	}
	return cc & 1 ? !v : v;
}

/* SETcc and CMOVcc for every condition after several comparisons. */
static void test_setcc_cmovcc(void)
{
	static const u32 pairs[][2] = {
		{ 1, 2 }, { 2, 1 }, { 5, 5 }, { 0x80000000, 1 },
		{ 1, 0x80000000 }, { 0x7fffffff, 0xffffffff }, { 0, 0x3 },
	};
	struct rig r;
	unsigned p, cc;

	rig_open(&r);
	for (p = 0; p < ARRAY_SIZE(pairs); p++) {
		EMIT(&r, MOV_RI(R_EAX, pairs[p][0]),
		     MOV_RI(R_EBX, pairs[p][1]),
		     0x39, 0xd8); /* cmp eax, ebx */
		for (cc = 0; cc < 16; cc++)
			EMIT(&r, 0x0f, (u8)(0x90 + cc), 0x05,
			     D32(DATA + 32 * p + cc)); /* setcc [..] */
		for (cc = 0; cc < 16; cc++)
			EMIT(&r, MOV_RI(R_ECX, 0xc0c0c0c0), /* flags kept */
			     0x0f, (u8)(0x40 + cc), 0x0d,
			     D32(DATA + 0x400), /* cmovcc ecx, [DATA+0x400] */
			     STORE(DATA + 0x200 + 64 * p + 4 * cc, R_ECX));
	}
	EMIT(&r, HLT);
	rig_wr32(&r, DATA + 0x400, 0x5eed);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	for (p = 0; p < ARRAY_SIZE(pairs); p++)
		for (cc = 0; cc < 16; cc++) {
			bool v = cc_after_cmp(pairs[p][0], pairs[p][1], cc);

			CHECK_EQ(rig_rd8(&r, DATA + 32 * p + cc), v);
			CHECK_EQ(rig_rd32(&r, DATA + 0x200 + 64 * p + 4 * cc),
				 v ? 0x5eed : 0xc0c0c0c0);
		}
	rig_close(&r);
}

/* CBW, CWDE, CWD, CDQ (SDM vol. 2). */
static void test_sign_extension(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 0x12348000),
	     0x98, /* cwde */
	     LOG_EAX,
	     MOV_RI(R_EDX, 0),
	     0x99, /* cdq */
	     LOG(R_EDX),
	     MOV_RI(R_EAX, 0x12345680),
	     0x66, 0x98, /* cbw */
	     LOG_EAX,
	     MOV_RI(R_EDX, 0xabcd0000),
	     0x66, 0x99, /* cwd */
	     LOG(R_EDX),
	     MOV_RI(R_EAX, 0x7fffffff),
	     0x99, /* cdq */
	     LOG(R_EDX),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xffff8000, 0xffffffff, 0x1234ff80, 0xabcdffff, 0);
	rig_close(&r);
}

/* CPUID leaves with the twoostwo CPU's fixed values (system.c). */
static void test_cpuid(void)
{
	struct rig r;
	char s[49] = { 0 };
	unsigned i;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 0), CPUID,
	     LOG_EAX, LOG(R_EBX), LOG(R_EDX), LOG(R_ECX),
	     MOV_RI(R_EAX, 1), CPUID,
	     LOG_EAX, LOG(R_EDX),
	     MOV_RI(R_EAX, 0x80000000), CPUID,
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x80000001), CPUID,
	     LOG(R_EDX));
	for (i = 0; i < 3; i++)
		EMIT(&r, MOV_RI(R_EAX, 0x80000002 + i), CPUID,
		     STORE(DATA + 16 * i, R_EAX),
		     STORE(DATA + 16 * i + 4, R_EBX),
		     STORE(DATA + 16 * i + 8, R_ECX),
		     STORE(DATA + 16 * i + 12, R_EDX));
	EMIT(&r, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 8);
	CHECK(r.out[0] >= 1);
	CHECK_EQ(r.out[1], 0x756e6547); /* "Genu" */
	CHECK_EQ(r.out[2], 0x49656e69); /* "ineI" */
	CHECK_EQ(r.out[3], 0x6c65746e); /* "ntel" */
	CHECK_EQ(r.out[4], 0x631);
	/* FPU, PSE, TSC, MSR, PAE, CX8, SEP, PGE, CMOV (table 3-11) */
	CHECK_EQ(r.out[5] & 0xa979, 0xa979);
	CHECK(r.out[6] >= 0x80000004);
	CHECK(r.out[7] & BIT(20)); /* NX */
	memcpy(s, r.mem.ram + DATA, 48);
	CHECK_STR(s, "twoostwo virtual CPU (P6 class)");
	rig_close(&r);
}

/* RDTSC only goes forward; WRMSR to IA32_TIME_STAMP_COUNTER sets it. */
static void test_rdtsc(void)
{
	struct rig r;
	u64 t0, t1, t2;

	rig_open(&r);
	EMIT(&r, RDTSC, MOV_RR(R_ESI, R_EAX), LOG(R_EDX), LOG(R_ESI),
	     MOV_RI(R_ECX, 20000),
	     0xe2, 0xfe, /* loop $ */
	     RDTSC, MOV_RR(R_ESI, R_EAX), LOG(R_EDX), LOG(R_ESI),
	     MOV_RI(R_ECX, 0x10), MOV_RI(R_EDX, 0x100), MOV_RI(R_EAX, 0),
	     WRMSR, /* TSC = 0x100_00000000 */
	     RDTSC, MOV_RR(R_ESI, R_EAX), LOG(R_EDX), LOG(R_ESI),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 6);
	t0 = (u64)r.out[0] << 32 | r.out[1];
	t1 = (u64)r.out[2] << 32 | r.out[3];
	t2 = (u64)r.out[4] << 32 | r.out[5];
	CHECK(t1 > t0);
	CHECK(t2 >= 0x10000000000ull && t2 < 0x10000000000ull + 1000000000);
	rig_close(&r);
}

/* SYSENTER MSRs and EFER read back; unknown MSRs are #GP(0). */
static void test_msrs(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EDX, 0),
	     MOV_RI(R_ECX, 0x174), MOV_RI(R_EAX, SEL_CODE0), WRMSR,
	     MOV_RI(R_ECX, 0x175), MOV_RI(R_EAX, 0x12345678), WRMSR,
	     MOV_RI(R_ECX, 0x176), MOV_RI(R_EAX, 0xcafe0000), WRMSR,
	     MOV_RI(R_ECX, 0x174), RDMSR, LOG_EAX,
	     MOV_RI(R_ECX, 0x175), RDMSR, LOG_EAX,
	     MOV_RI(R_ECX, 0x176), RDMSR, LOG_EAX, LOG(R_EDX),
	     /* EFER.NXE */
	     MOV_RI(R_ECX, 0xc0000080), MOV_RI(R_EAX, 0x800), WRMSR,
	     MOV_RI(R_EAX, 0), RDMSR, LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 5);
	CHECK_EQ(r.out[0], SEL_CODE0);
	CHECK_EQ(r.out[1], 0x12345678);
	CHECK_EQ(r.out[2], 0xcafe0000);
	CHECK_EQ(r.out[3], 0);
	CHECK_EQ(r.out[4], 0x800);
	CHECK_EQ(r.st.sysenter_cs, SEL_CODE0);
	CHECK_EQ(r.st.sysenter_esp, 0x12345678);
	CHECK_EQ(r.st.sysenter_eip, 0xcafe0000);
	CHECK_EQ(r.st.efer, EFER_NXE);
	rig_close(&r);
}

static void check_msr_gp(u8 op)
{
	struct rig r;
	u32 at;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 0x12345), MOV_RI(R_EAX, 0x77),
	     MOV_RI(R_EDX, 0));
	at = r.pc;
	EMIT(&r, 0x0f, op, HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), at);
	CHECK_EQ(r.st.gpr[R_EAX], 0x77);
	rig_close(&r);
}

static void test_unknown_msr_faults(void)
{
	check_msr_gp(0x32); /* rdmsr */
	check_msr_gp(0x30); /* wrmsr */
}

/* RDMSR/WRMSR need CPL 0 (SDM vol. 2, RDMSR): #GP(0) from ring 3. */
static void test_msr_from_ring3(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 0x174), RDMSR, HLT);
	rig_pm_state(&r, &s);
	s.seg[S_CS] = rig_seg(SEL_CODE3, 0, FLAT, A_CODE32 | A_DPL(3) | 1);
	s.seg[S_SS] = rig_seg(SEL_DATA3, 0, FLAT, A_DATA32 | A_DPL(3) | 1);
	s.gpr[R_ESP] = STACK3;
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 5);
	CHECK_EQ(rig_frame(&r, 2), SEL_CODE3);
	rig_close(&r);
}

/*
 * REP MOVSB and REP STOSD with 32-bit addresses, longer than one batch
 * of the engine; and backwards with DF set (SDM vol. 2, REP MOVS).
 */
static void test_rep_strings32(void)
{
	struct rig r;
	const u32 n = 10000, src = 0x200000, dst = 0x300000;
	u32 i;
	bool same = true;

	rig_open(&r);
	for (i = 0; i < n; i++)
		rig_wr8(&r, src + i, (u8)(i * 7 + 1));
	EMIT(&r, 0xfc, /* cld */
	     MOV_RI(R_ESI, src), MOV_RI(R_EDI, dst), MOV_RI(R_ECX, n),
	     0xf3, 0xa4, /* rep movsb */
	     LOG(R_ESI), LOG(R_EDI), LOG(R_ECX),
	     MOV_RI(R_EDI, 0x400000), MOV_RI(R_ECX, 3000),
	     MOV_RI(R_EAX, 0xdeadbeef),
	     0xf3, 0xab, /* rep stosd */
	     LOG(R_EDI), LOG(R_ECX),
	     0xfd, /* std */
	     MOV_RI(R_ESI, src + 12), MOV_RI(R_EDI, 0x500000 + 12),
	     MOV_RI(R_ECX, 4),
	     0xf3, 0xa5, /* rep movsd, backwards */
	     0xfc,
	     LOG(R_ESI), LOG(R_EDI),
	     MOV_RI(R_ECX, 0),
	     0xf3, 0xa4, /* rep movsb with ECX = 0: nothing */
	     LOG(R_ESI),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, src + n, dst + n, 0, 0x400000 + 12000, 0, src - 4,
		   0x500000 - 4, src - 4);
	for (i = 0; i < n; i++)
		same = same && rig_rd8(&r, dst + i) == (u8)(i * 7 + 1);
	CHECK(same);
	CHECK_EQ(rig_rd32(&r, 0x400000), 0xdeadbeef);
	CHECK_EQ(rig_rd32(&r, 0x400000 + 11996), 0xdeadbeef);
	CHECK_EQ(rig_rd32(&r, 0x400000 + 12000), 0);
	CHECK_EQ(rig_rd32(&r, 0x500000), rig_rd32(&r, src));
	CHECK_EQ(rig_rd32(&r, 0x500000 + 12), rig_rd32(&r, src + 12));
	rig_close(&r);
}

/*
 * From 16-bit code: 0x67 makes a REP use ESI/EDI/ECX in full; without
 * it, DI wraps at 64 KiB and the upper halves stay as they were.
 */
static void test_rep_strings_address_size(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, JMP_FAR(SEL_CODE16, CODE16));
	rig_org(&r, CODE16);
	EMIT(&r, 0xfc, /* cld */
	     0x66, 0xbe, D32(0x200000), /* mov esi, 0x200000 */
	     0x66, 0xbf, D32(0x300000), /* mov edi, 0x300000 */
	     0x66, 0xb9, D32(0x12000), /* mov ecx, 0x12000 */
	     0x67, 0xf3, 0xa4, /* rep movsb [esi], [edi], ecx */
	     0x66, 0x89, 0xf8, 0x66, 0xe7, RIG_PORT, /* log edi */
	     0x66, 0x89, 0xc8, 0x66, 0xe7, RIG_PORT, /* log ecx */
	     0x66, 0xbf, D32(0x1234fffe), /* mov edi, 0x1234fffe */
	     0x66, 0xb9, D32(0xabcd0004), /* mov ecx, 0xabcd0004 */
	     0xb0, 0x77, /* mov al, 0x77 */
	     0xf3, 0xaa, /* rep stosb: di = fffe, ffff, 0, 1 */
	     0x66, 0x89, 0xf8, 0x66, 0xe7, RIG_PORT, /* log edi */
	     0x66, 0x89, 0xc8, 0x66, 0xe7, RIG_PORT, /* log ecx */
	     HLT);
	rig_wr8(&r, 0x200000 + 0x11fff, 0x99);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x312000, 0, 0x12340002, 0xabcd0000);
	CHECK_EQ(rig_rd8(&r, 0x300000 + 0x11fff), 0x99);
	CHECK_EQ(rig_rd8(&r, 0xfffe), 0x77);
	CHECK_EQ(rig_rd8(&r, 0xffff), 0x77);
	CHECK_EQ(rig_rd8(&r, 0x0000), 0x77);
	CHECK_EQ(rig_rd8(&r, 0x0001), 0x77);
	CHECK_EQ(rig_rd8(&r, 0x0002), 0);
	rig_close(&r);
}

/* 32-bit shifts and rotates: counts masked to 5 bits (SDM vol. 2, SAL). */
static void test_shifts32(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 0x80000001),
	     0xd1, 0xe0, /* shl eax, 1 */
	     LOG_EAX, LOG_CF,
	     MOV_RI(R_EAX, 0x80000000),
	     0xc1, 0xf8, 31, /* sar eax, 31 */
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x80000000),
	     0xc1, 0xe8, 33, /* shr eax, 33: count 1 */
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x12345678),
	     0xc1, 0xc0, 8, /* rol eax, 8 */
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x12345678),
	     MOV_RI(R_ECX, 0x104),
	     0xd3, 0xc8, /* ror eax, cl: count 4 */
	     LOG_EAX,
	     0xf9, /* stc */
	     MOV_RI(R_EAX, 0),
	     0xd1, 0xd0, /* rcl eax, 1 */
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 2, 1, 0xffffffff, 0x40000000, 0x34567812, 0x81234567,
		   1);
	rig_close(&r);
}

/* LOOP and JECXZ count in CX with a 0x67 prefix (SDM vol. 2, LOOP). */
static void test_loop_address_size(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 0x00010003), MOV_RI(R_EBX, 0),
	     0x43, /* inc ebx */
	     0x67, 0xe2, 0xfc, /* loopw: CX 3 -> 0 */
	     LOG(R_EBX), LOG(R_ECX),
	     MOV_RI(R_ECX, 0x00010000),
	     0x67, 0xe3, 0x02, /* jcxz +2: CX = 0 */
	     0xeb, 0x05, /* jmp +5: not taken */
	     MOV_RI(R_EAX, 0x1c), LOG_EAX,
	     0xe3, 0x02, /* jecxz: ECX != 0, not taken */
	     0xeb, 0x00,
	     MOV_RI(R_ECX, 2),
	     0xe1, 0xfe, /* loope $: ZF clear after the MOV? loop once */
	     LOG(R_ECX),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 3, 0x00010000, 0x1c, 1);
	rig_close(&r);
}

/* ENTER with a nesting level and LEAVE, 32-bit (SDM vol. 2, ENTER). */
static void test_enter_leave32(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EBP, 0x2f800),
	     STORE_I(0x2f800 - 4, 0xaaaa), /* the outer frame's display */
	     0xc8, D16(0x10), 2, /* enter 16, 2 */
	     LOG(R_EBP), LOG(R_ESP),
	     0x8b, 0x45, 0x00, LOG_EAX, /* [ebp]: old EBP */
	     0x8b, 0x45, 0xfc, LOG_EAX, /* [ebp-4]: copied display */
	     0x8b, 0x45, 0xf8, LOG_EAX, /* [ebp-8]: this frame */
	     0xc9, /* leave */
	     LOG(R_EBP), LOG(R_ESP),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, STACK0 - 4, STACK0 - 12 - 16, 0x2f800, 0xaaaa,
		   STACK0 - 4, 0x2f800, STACK0);
	rig_close(&r);
}

/* ADC/SBB carry chains, NEG, NOT, XCHG, XLAT with 32-bit operands. */
static void test_arith32(void)
{
	struct rig r;

	rig_open(&r);
	rig_write(&r, DATA + 0x100, "0123456789abcdef", 16);
	EMIT(&r, MOV_RI(R_EAX, 0xffffffff), MOV_RI(R_EDX, 1),
	     0x05, D32(1), /* add eax, 1: CF */
	     0x83, 0xd2, 0x00, /* adc edx, 0 */
	     LOG(R_EDX),
	     MOV_RI(R_EAX, 0), MOV_RI(R_EDX, 2),
	     0x2d, D32(1), /* sub eax, 1: borrow */
	     0x83, 0xda, 0x00, /* sbb edx, 0 */
	     LOG(R_EDX),
	     MOV_RI(R_EBX, 5), 0xf7, 0xdb, /* neg ebx */
	     LOG_CF, LOG(R_EBX),
	     0xf7, 0xd3, LOG(R_EBX), /* not ebx */
	     MOV_RI(R_ECX, 0x11), 0x87, 0xcb, /* xchg ebx, ecx */
	     LOG(R_EBX), LOG(R_ECX),
	     MOV_RI(R_EBX, DATA + 0x100), MOV_RI(R_EAX, 0xffffff0c),
	     0xd7, /* xlat */
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 2, 1, 1, (u32)-5, 4, 0x11, 4, 0xffffff63);
	rig_close(&r);
}

/* POP into memory addressed with ESP uses ESP after the pop. */
static void test_pop_memory_esp(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, PUSH_I(0x1111), PUSH_I(0x2222),
	     0x8f, 0x44, 0x24, 0x00, /* pop dword [esp]: onto 0x1111 */
	     POP_R(R_EAX), LOG_EAX, LOG(R_ESP),
	     /* MOV from a segment register: 32-bit register gets it */
	     MOV_RI(R_EAX, 0xffffffff),
	     0x8c, 0xd8, LOG_EAX, /* mov eax, ds */
	     STORE_I(DATA, 0xffffffff),
	     0x8c, 0x1d, D32(DATA), /* mov [DATA], ds: 16 bits */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x2222, STACK0, SEL_DATA0);
	CHECK_EQ(rig_rd32(&r, DATA), 0xffff0000 | SEL_DATA0);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_rig_smoke);
	RUN_TEST(test_addressing32);
	RUN_TEST(test_prefixes_in_32bit_code);
	RUN_TEST(test_prefixes_in_16bit_code);
	RUN_TEST(test_movzx_movsx);
	RUN_TEST(test_bit_tests);
	RUN_TEST(test_double_shifts);
	RUN_TEST(test_bit_scan);
	RUN_TEST(test_multiply_divide);
	RUN_TEST(test_divide_error);
	RUN_TEST(test_exchange_family);
	RUN_TEST(test_setcc_cmovcc);
	RUN_TEST(test_sign_extension);
	RUN_TEST(test_cpuid);
	RUN_TEST(test_rdtsc);
	RUN_TEST(test_msrs);
	RUN_TEST(test_unknown_msr_faults);
	RUN_TEST(test_msr_from_ring3);
	RUN_TEST(test_rep_strings32);
	RUN_TEST(test_rep_strings_address_size);
	RUN_TEST(test_shifts32);
	RUN_TEST(test_loop_address_size);
	RUN_TEST(test_enter_leave32);
	RUN_TEST(test_arith32);
	RUN_TEST(test_pop_memory_esp);
	return unit_summary();
}

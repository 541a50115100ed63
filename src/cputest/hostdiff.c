// SPDX-License-Identifier: MIT
/*
 * twoostwo-hostdiff: the host processor as the oracle for the soft engine.
 *
 * Method. Random sequences of user-mode instructions are generated from
 * templates (integer ALU, shifts, multiply, bit operations, SETcc/CMOVcc,
 * MMX, SSE to SSE4.2). Each sequence runs
 *  - on the host, in a child process (a crash cannot take the tester
 *    down), in 64-bit mode: the generator emits only encodings that mean
 *    the same in 64-bit and 32-bit code with a 32-bit operand default (no
 *    40-4F, no push/pop, no moffs or RIP-relative forms; memory operands
 *    are [ESI + disp8] with ESI below 4 GiB, so the address is the same),
 *    between a stub that loads GPRs, RFLAGS and an FXSAVE image and saves
 *    them afterwards; code and data are mapped at the same low addresses
 *    the guest uses;
 *  - in the soft engine in flat 32-bit protected mode at CPL 0, from the
 *    same GPRs and EFLAGS, with FXRSTOR/FXSAVE of the same image around
 *    the sequence (so the guest's FXSAVE/FXRSTOR are checked too).
 * Compared: EAX-EDI but ESP, the six arithmetic flags, the 4 KiB data
 * area, and from the FXSAVE images FCW, FSW, the abridged tags, MXCSR,
 * ST0-7/MM0-7 and XMM0-7 (FOP/FIP/FDP are not: AMD saves them only when
 * an x87 exception is pending). A sequence that differs is cut down to
 * its first differing instruction, whose template is blamed.
 *
 * Undefined results, masked (SDM vol. 2 and APM vol. 3 per instruction):
 *   AND OR XOR TEST            AF
 *   SHL SHR SAR by CL or imm   AF, OF (OF is defined only for count 1;
 *                              the D0/D1 count-1 forms mask AF only)
 *   ROL ROR RCL RCR by CL/imm  OF (count != 1)
 *   SHLD SHRD                  AF, OF; 16-bit forms use counts <= 16 only
 *   MUL IMUL                   SF ZF AF PF
 *   BSF BSR                    CF OF SF AF PF (the destination when the
 *                              source is 0: Intel "undefined", AMD and
 *                              this engine leave it unchanged: compared)
 *   BT BTS BTR BTC             OF SF AF PF
 *   x87 arithmetic, loads,     FSW C0 C2 C3 (compares define them)
 *   stores, FXCH, FFREE...
 *   FFREE                      FSW C1 too
 *   FCOMI/FUCOMI(P), FCMOVcc   FSW C1 (SDM: set to 0; AMD: unchanged)
 * A flag-reading instruction (ADC, SBB, RCL, RCR, SETcc, CMOVcc, FCMOVcc)
 * after one that left a flag undefined gets a CMP EAX,ECX first, so
 * undefined values never propagate. Excluded: RCPPS/RCPSS/RSQRTPS/RSQRTSS
 * (the approximations differ between Intel and AMD), DIV/IDIV (faults),
 * x87 transcendentals (last-bit differences between implementations),
 * anything privileged or with a fault (tests/unit/test_sse.c has those).
 *
 * Vendor differences (the host here is an AMD EPYC): BSF/BSR with a zero
 * source keep the destination on AMD and in the engine (Intel: undefined,
 * unchanged in practice); C1 after FCOMI/FCMOVcc (masked, above); where
 * the SDM leaves an order open the engine follows AMD: x / 0 with a
 * denormal memory x reports ZE without DE, and FLD ST(i) from an empty
 * register with a full stack reports underflow (C1 = 0). On a non-AMD
 * host those two are masked (X87_DE, X87_C1), as not established there.
 *
 * Difference classes found by this tester and fixed in the engine: EMMS
 * decoded a ModR/M byte; EMMS left TOP alone (it is 0 after every MMX
 * instruction, EMMS included); CVT(T)PS2PI and ROUNDSD raised MXCSR flags
 * for the unused upper elements; PINSRB from a register read AH-BH
 * instead of the low byte of r32; FISTTP was missing; a memory operand's
 * DE was reported next to an invalid or NaN other operand; a single or
 * double SNaN memory operand was quieted before the NaN selection rule
 * (vol. 1, table 4-7) compared significands; the two AMD orders above.
 */
#include "cputest/hostdiff.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus/memory.h"
#include "core/clock.h"
#include "cpu/engine.h"

#if !defined(__x86_64__)
#error "twoostwo-hostdiff needs an x86-64 host"
#endif

#define HD_CODE 0x100000u /* host stub prologue, then the test code */
#define HD_TEST (HD_CODE + 0x100u)
#define HD_CODE_SIZE 0x10000u
#define HD_DATA 0x200000u /* 4 KiB compared data, ESI in the middle */
#define HD_DATA_SIZE 0x1000u
#define HD_ESI (HD_DATA + 0x800u)
#define HD_REGS (HD_DATA + 0x2000u) /* struct hd_regs */
#define HD_MAP_SIZE 0x3000u
#define HD_RAM (4u << 20)
#define HD_MAX_LEN 512
#define HD_MAX_CODE (HD_MAX_LEN * 20)
#define HD_BATCH 256
#define HD_PREFIXES 0xffffffffu /* host_run(): every prefix of one */

/* FXSAVE image offsets (SDM vol. 2, FXSAVE, table 3-53). */
#define FX_MXCSR 24
#define FX_ST 32
#define FX_XMM 160

#define D32_(v) (u8)(v), (u8)((v) >> 8), (u8)((v) >> 16), (u8)((v) >> 24)

/* The image the stubs load and store (offsets used in their encodings). */
struct hd_regs {
	u8 fx[512];   /* at offset 0: 16-byte aligned */
	u64 gpr[16];  /* at 0x200; 32-bit runs use the low halves of 0-7 */
	u64 rflags;   /* at 0x280 */
	u8 pad[8];
} __attribute__((aligned(16)));
#define HD_OFF_GPR 0x200u
#define HD_OFF_FLAGS 0x280u

/*
 * 64-bit runs (--mode64): the generator adds REX prefixes (REX.W 64-bit
 * operands, REX.R/REX.B for R8-R14 and XMM8-15, SPL/BPL/DIL) and the
 * soft side runs in 64-bit mode; R15 (the stubs' base) and RSP are never
 * named, nor is R14 as a base (memory operands stay [RSI + disp8]).
 */
static bool mode64;

/* --- templates --- */

enum kind { K_NONE, K_G8, K_G16, K_G32, K_MM, K_XMM, K_EXT, K_STI };

/*
 * x87 condition codes C0, C2, C3 (FSW bits 8, 10, 14) share the undefined
 * mask with the arithmetic flags (bits 0-11 of EFLAGS but 8 and 10 are
 * not arithmetic): most x87 arithmetic leaves them undefined (SDM vol. 2,
 * "FPU Flags Affected"), compares define them.
 */
#define X87_CC 0x4500u
/*
 * C1 after FFREE (undefined), FCOMI/FUCOMI(P) and FCMOVcc: the SDM sets
 * it to 0, the AMD EPYC host leaves it unchanged: masked, a vendor
 * difference. (Bit 9 of the mask, IF in EFLAGS terms, is never compared.)
 */
#define X87_C1 0x0200u
/*
 * FSW.DE (bit 1; reserved in EFLAGS, never compared there). The engine
 * follows the AMD EPYC host where the SDM leaves the order open (a
 * memory operand's DE with a zero divide; FLD ST(i) from an empty
 * register with a full stack reports underflow); on other vendors' hosts
 * those two results are masked, as not established there.
 */
#define X87_DE 0x0002u

static bool host_is_amd(void)
{
	unsigned a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0));
	return b == 0x68747541u; /* "Auth"enticAMD */
}
enum form { F_BOTH, F_REG, F_MEM, F_NOMODRM };

#define CF_ FL_CF
#define PF_ FL_PF
#define AF_ FL_AF
#define ZF_ FL_ZF
#define SF_ FL_SF
#define OF_ FL_OF
#define ALL6 FL_ARITH

struct tmpl {
	char name[28];
	u8 op[6];
	u8 nop;
	u8 reg, rm, ext, form;
	u8 msize; /* memory operand size */
	bool align;
	u8 imm;		    /* immediate bytes */
	u8 imm_max;	    /* nonzero: imm8 drawn from 0..imm_max */
	u16 rd, def, undef; /* flags read, written defined, left undefined */
};

static struct tmpl tmpls[1024];
static unsigned ntmpls;

static struct tmpl *add(const char *name, const u8 *op, unsigned nop,
			unsigned reg, unsigned rm, unsigned form,
			unsigned msize)
{
	struct tmpl *t = &tmpls[ntmpls++];

	*t = (struct tmpl){.reg = (u8)reg,
			   .rm = (u8)rm,
			   .form = (u8)form,
			   .msize = (u8)msize};
	snprintf(t->name, sizeof(t->name), "%s", name);
	memcpy(t->op, op, nop);
	t->nop = (u8)nop;
	return t;
}

#define OPS(...) (const u8[]){__VA_ARGS__}, sizeof((const u8[]){__VA_ARGS__})

static void add_int_templates(void)
{
	static const char *alu[8] = {"add", "or",  "adc", "sbb",
				     "and", "sub", "xor", "cmp"};
	static const char *shf[8] = {"rol", "ror", "rcl", "rcr",
				     "shl", "shr", "sal", "sar"};
	char n[28];
	struct tmpl *t;
	unsigned i, sz;

	for (i = 0; i < 8; i++) {
		u16 rd = (i == 2 || i == 3) ? CF_ : 0;
		u16 undef = (i == 1 || i == 4 || i == 6) ? AF_ : 0;
		u8 b = (u8)(8 * i);

		for (sz = 0; sz < 3; sz++) { /* 8, 16, 32 bit */
			unsigned k = sz == 0 ? K_G8 : sz == 1 ? K_G16 : K_G32;
			u8 w = sz ? 1 : 0;

			snprintf(n, sizeof(n), "%s%u rm,r", alu[i], 8u << sz);
			t = sz == 1 ? add(n, OPS(0x66, (u8)(b + w)), k, k,
					  F_BOTH, 2) :
				      add(n, OPS((u8)(b + w)), k, k, F_BOTH,
					  sz ? 4 : 1);
			t->rd = rd, t->def = ALL6 & ~undef, t->undef = undef;
			snprintf(n, sizeof(n), "%s%u r,rm", alu[i], 8u << sz);
			t = sz == 1 ? add(n, OPS(0x66, (u8)(b + 2 + w)), k, k,
					  F_BOTH, 2) :
				      add(n, OPS((u8)(b + 2 + w)), k, k, F_BOTH,
					  sz ? 4 : 1);
			t->rd = rd, t->def = ALL6 & ~undef, t->undef = undef;
		}
		snprintf(n, sizeof(n), "%s32 rm,imm8", alu[i]);
		t = add(n, OPS(0x83), K_EXT, K_G32, F_BOTH, 4);
		t->ext = (u8)i, t->imm = 1;
		t->rd = rd, t->def = ALL6 & ~undef, t->undef = undef;
		snprintf(n, sizeof(n), "%s32 rm,imm32", alu[i]);
		t = add(n, OPS(0x81), K_EXT, K_G32, F_BOTH, 4);
		t->ext = (u8)i, t->imm = 4;
		t->rd = rd, t->def = ALL6 & ~undef, t->undef = undef;
		snprintf(n, sizeof(n), "%s8 rm,imm8", alu[i]);
		t = add(n, OPS(0x80), K_EXT, K_G8, F_BOTH, 1);
		t->ext = (u8)i, t->imm = 1;
		t->rd = rd, t->def = ALL6 & ~undef, t->undef = undef;
		snprintf(n, sizeof(n), "%s16 rm,imm16", alu[i]);
		t = add(n, OPS(0x66, 0x81), K_EXT, K_G16, F_BOTH, 2);
		t->ext = (u8)i, t->imm = 2;
		t->rd = rd, t->def = ALL6 & ~undef, t->undef = undef;
	}
	for (i = 0; i < 8; i++) {
		bool rot = i < 4;
		u16 rd = (i == 2 || i == 3) ? CF_ : 0;

		if (i == 6)
			continue; /* SAL is SHL */
		for (sz = 0; sz < 3; sz++) {
			unsigned k = sz == 0 ? K_G8 : sz == 1 ? K_G16 : K_G32;
			u8 w = sz ? 1 : 0;
			unsigned ms = sz == 0 ? 1 : sz == 1 ? 2 : 4;

			snprintf(n, sizeof(n), "%s%u rm,1", shf[i], 8u << sz);
			t = sz == 1 ? add(n, OPS(0x66, 0xd1), K_EXT, k, F_BOTH,
					  2) :
				      add(n, OPS((u8)(0xd0 + w)), K_EXT, k,
					  F_BOTH, ms);
			t->ext = (u8)i, t->rd = rd;
			t->def = rot ? CF_ | OF_ : ALL6 & ~AF_;
			t->undef = rot ? 0 : AF_;
			snprintf(n, sizeof(n), "%s%u rm,cl", shf[i], 8u << sz);
			t = sz == 1 ? add(n, OPS(0x66, 0xd3), K_EXT, k, F_BOTH,
					  2) :
				      add(n, OPS((u8)(0xd2 + w)), K_EXT, k,
					  F_BOTH, ms);
			t->ext = (u8)i, t->rd = rd | ALL6;
			t->undef = rot ? OF_ : AF_ | OF_;
			t->def = 0; /* count 0 keeps them: treat as unknown */
			snprintf(n, sizeof(n), "%s%u rm,imm", shf[i], 8u << sz);
			t = sz == 1 ? add(n, OPS(0x66, 0xc1), K_EXT, k, F_BOTH,
					  2) :
				      add(n, OPS((u8)(0xc0 + w)), K_EXT, k,
					  F_BOTH, ms);
			t->ext = (u8)i, t->imm = 1, t->rd = rd | ALL6;
			t->undef = rot ? OF_ : AF_ | OF_;
		}
	}
	t = add("shld32 imm", OPS(0x0f, 0xa4), K_G32, K_G32, F_BOTH, 4);
	t->imm = 1, t->rd = ALL6, t->undef = AF_ | OF_;
	t = add("shrd32 imm", OPS(0x0f, 0xac), K_G32, K_G32, F_BOTH, 4);
	t->imm = 1, t->rd = ALL6, t->undef = AF_ | OF_;
	t = add("shld32 cl", OPS(0x0f, 0xa5), K_G32, K_G32, F_BOTH, 4);
	t->rd = ALL6, t->undef = AF_ | OF_;
	t = add("shrd32 cl", OPS(0x0f, 0xad), K_G32, K_G32, F_BOTH, 4);
	t->rd = ALL6, t->undef = AF_ | OF_;
	t = add("shld16 imm", OPS(0x66, 0x0f, 0xa4), K_G16, K_G16, F_BOTH, 2);
	t->imm = 1, t->imm_max = 16, t->rd = ALL6, t->undef = AF_ | OF_;
	t = add("shrd16 imm", OPS(0x66, 0x0f, 0xac), K_G16, K_G16, F_BOTH, 2);
	t->imm = 1, t->imm_max = 16, t->rd = ALL6, t->undef = AF_ | OF_;

	static const char *g3[4] = {"not", "neg", "mul", "imul"};
	for (i = 2; i < 6; i++)
		for (sz = 0; sz < 3; sz++) {
			unsigned k = sz == 0 ? K_G8 : sz == 1 ? K_G16 : K_G32;

			snprintf(n, sizeof(n), "%s%u", g3[i - 2], 8u << sz);
			t = sz == 1 ? add(n, OPS(0x66, 0xf7), K_EXT, k, F_BOTH,
					  2) :
				      add(n, OPS((u8)(0xf6 + (sz ? 1 : 0))),
					  K_EXT, k, F_BOTH, sz ? 4 : 1);
			t->ext = (u8)i;
			if (i == 3)
				t->def = ALL6;
			if (i >= 4)
				t->def = CF_ | OF_,
				t->undef = SF_ | ZF_ | AF_ | PF_;
		}
	t = add("test32", OPS(0x85), K_G32, K_G32, F_BOTH, 4);
	t->def = ALL6 & ~AF_, t->undef = AF_;
	t = add("test8", OPS(0x84), K_G8, K_G8, F_BOTH, 1);
	t->def = ALL6 & ~AF_, t->undef = AF_;
	t = add("imul32 r,rm", OPS(0x0f, 0xaf), K_G32, K_G32, F_BOTH, 4);
	t->def = CF_ | OF_, t->undef = SF_ | ZF_ | AF_ | PF_;
	t = add("imul16 r,rm", OPS(0x66, 0x0f, 0xaf), K_G16, K_G16, F_BOTH, 2);
	t->def = CF_ | OF_, t->undef = SF_ | ZF_ | AF_ | PF_;
	t = add("imul32 r,rm,imm8", OPS(0x6b), K_G32, K_G32, F_BOTH, 4);
	t->imm = 1, t->def = CF_ | OF_, t->undef = SF_ | ZF_ | AF_ | PF_;
	t = add("imul32 r,rm,imm32", OPS(0x69), K_G32, K_G32, F_BOTH, 4);
	t->imm = 4, t->def = CF_ | OF_, t->undef = SF_ | ZF_ | AF_ | PF_;
	for (i = 0; i < 2; i++) {
		t = add(i ? "bsr32" : "bsf32", OPS(0x0f, (u8)(0xbc + i)), K_G32,
			K_G32, F_BOTH, 4);
		t->def = ZF_, t->undef = CF_ | OF_ | SF_ | AF_ | PF_;
		t = add(i ? "bsr16" : "bsf16", OPS(0x66, 0x0f, (u8)(0xbc + i)),
			K_G16, K_G16, F_BOTH, 2);
		t->def = ZF_, t->undef = CF_ | OF_ | SF_ | AF_ | PF_;
	}
	t = add("popcnt32", OPS(0xf3, 0x0f, 0xb8), K_G32, K_G32, F_BOTH, 4);
	t->def = ALL6;
	t = add("popcnt16", OPS(0x66, 0xf3, 0x0f, 0xb8), K_G16, K_G16, F_BOTH,
		2);
	t->def = ALL6;
	static const u8 bt_ops[4] = {0xa3, 0xab, 0xb3, 0xbb};
	static const char *bt_names[4] = {"bt", "bts", "btr", "btc"};
	for (i = 0; i < 4; i++) {
		/* register forms only: a memory bit offset reaches outside */
		snprintf(n, sizeof(n), "%s32 r,r", bt_names[i]);
		t = add(n, OPS(0x0f, bt_ops[i]), K_G32, K_G32, F_REG, 4);
		t->def = CF_, t->undef = OF_ | SF_ | AF_ | PF_;
		snprintf(n, sizeof(n), "%s32 rm,imm", bt_names[i]);
		t = add(n, OPS(0x0f, 0xba), K_EXT, K_G32, F_BOTH, 4);
		t->ext = (u8)(4 + i), t->imm = 1;
		t->def = CF_, t->undef = OF_ | SF_ | AF_ | PF_;
	}
	t = add("bswap32", OPS(0x0f, 0xc8), K_G32, K_NONE, F_NOMODRM, 0);
	for (i = 0; i < 16; i++) {
		snprintf(n, sizeof(n), "setcc%x", i);
		t = add(n, OPS(0x0f, (u8)(0x90 + i)), K_EXT, K_G8, F_BOTH, 1);
		t->rd = ALL6;
		snprintf(n, sizeof(n), "cmovcc%x", i);
		t = add(n, OPS(0x0f, (u8)(0x40 + i)), K_G32, K_G32, F_BOTH, 4);
		t->rd = ALL6;
	}
	add("movzx8", OPS(0x0f, 0xb6), K_G32, K_G8, F_BOTH, 1);
	add("movzx16", OPS(0x0f, 0xb7), K_G32, K_G16, F_BOTH, 2);
	add("movsx8", OPS(0x0f, 0xbe), K_G32, K_G8, F_BOTH, 1);
	add("movsx16", OPS(0x0f, 0xbf), K_G32, K_G16, F_BOTH, 2);
	t = add("xadd32", OPS(0x0f, 0xc1), K_G32, K_G32, F_BOTH, 4);
	t->def = ALL6;
	t = add("cmpxchg32", OPS(0x0f, 0xb1), K_G32, K_G32, F_BOTH, 4);
	t->def = ALL6;
	add("xchg32", OPS(0x87), K_G32, K_G32, F_BOTH, 4);
	add("lea32", OPS(0x8d), K_G32, K_G32, F_MEM, 4);
	add("mov32 rm,r", OPS(0x89), K_G32, K_G32, F_BOTH, 4);
	add("mov8 r,rm", OPS(0x8a), K_G8, K_G8, F_BOTH, 1);
	t = add("cdq", OPS(0x99), K_NONE, K_NONE, F_NOMODRM, 0);
	t = add("cwde", OPS(0x98), K_NONE, K_NONE, F_NOMODRM, 0);
	t = add("crc32 r32,rm8", OPS(0xf2, 0x0f, 0x38, 0xf0), K_G32, K_G8,
		F_BOTH, 1);
	t = add("crc32 r32,rm32", OPS(0xf2, 0x0f, 0x38, 0xf1), K_G32, K_G32,
		F_BOTH, 4);
	t = add("crc32 r32,rm16", OPS(0x66, 0xf2, 0x0f, 0x38, 0xf1), K_G32,
		K_G16, F_BOTH, 2);
	t = add("movnti", OPS(0x0f, 0xc3), K_G32, K_G32, F_MEM, 4);
}

/* An XMM (66 / none / F3 / F2) or MMX operation xmm, xmm/m. */
static struct tmpl *simd(const char *name, u8 pfx, const u8 *op, unsigned nop,
			 unsigned reg, unsigned rm, unsigned msize, bool align)
{
	u8 b[6];
	unsigned n = 0;

	if (pfx)
		b[n++] = pfx;
	memcpy(b + n, op, nop);
	n += nop;
	struct tmpl *t = add(name, b, n, reg, rm, F_BOTH, msize);

	t->align = align;
	return t;
}

static void add_simd_templates(void)
{
	/* 0F xx integer ops with MMX (no prefix) and SSE2 (66) forms */
	static const u8 both[] = {
		0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x6b, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5,
		0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed,
		0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9,
		0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
	};
	static const u8 ssse3[] = {0x00, 0x01, 0x02, 0x03, 0x04,
				   0x05, 0x06, 0x07, 0x08, 0x09,
				   0x0a, 0x0b, 0x1c, 0x1d, 0x1e};
	static const u8 sse41[] = {0x10, 0x14, 0x15, 0x17, 0x28, 0x29,
				   0x2b, 0x37, 0x38, 0x39, 0x3a, 0x3b,
				   0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41};
	static const u8 pmov[] = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
				  0x30, 0x31, 0x32, 0x33, 0x34, 0x35};
	static const u8 pmov_len[6] = {8, 4, 2, 8, 4, 8};
	char n[28];
	struct tmpl *t;
	unsigned i;

	for (i = 0; i < sizeof(both); i++) {
		snprintf(n, sizeof(n), "mmx 0f%02x", both[i]);
		simd(n, 0, OPS(0x0f, both[i]), K_MM, K_MM, 8, false);
		snprintf(n, sizeof(n), "sse2 66 0f%02x", both[i]);
		simd(n, 0x66, OPS(0x0f, both[i]), K_XMM, K_XMM, 16, true);
	}
	simd("sse2 punpcklqdq", 0x66, OPS(0x0f, 0x6c), K_XMM, K_XMM, 16, true);
	simd("sse2 punpckhqdq", 0x66, OPS(0x0f, 0x6d), K_XMM, K_XMM, 16, true);
	for (i = 0; i < sizeof(ssse3); i++) {
		snprintf(n, sizeof(n), "ssse3 mmx 0f38%02x", ssse3[i]);
		simd(n, 0, OPS(0x0f, 0x38, ssse3[i]), K_MM, K_MM, 8, false);
		snprintf(n, sizeof(n), "ssse3 66 0f38%02x", ssse3[i]);
		simd(n, 0x66, OPS(0x0f, 0x38, ssse3[i]), K_XMM, K_XMM, 16,
		     true);
	}
	t = simd("ssse3 palignr mmx", 0, OPS(0x0f, 0x3a, 0x0f), K_MM, K_MM, 8,
		 false);
	t->imm = 1;
	t = simd("ssse3 palignr", 0x66, OPS(0x0f, 0x3a, 0x0f), K_XMM, K_XMM, 16,
		 true);
	t->imm = 1;
	for (i = 0; i < sizeof(sse41); i++) {
		snprintf(n, sizeof(n), "sse41 66 0f38%02x", sse41[i]);
		t = simd(n, 0x66, OPS(0x0f, 0x38, sse41[i]), K_XMM, K_XMM, 16,
			 true);
		if (sse41[i] == 0x17)
			t->def = ALL6;
	}
	for (i = 0; i < sizeof(pmov); i++) {
		snprintf(n, sizeof(n), "sse41 pmov 0f38%02x", pmov[i]);
		simd(n, 0x66, OPS(0x0f, 0x38, pmov[i]), K_XMM, K_XMM,
		     pmov_len[pmov[i] & 0xf], false);
	}
	static const u8 sse41_imm[] = {0x0c, 0x0d, 0x0e, 0x42, 0x40,
				       0x41, 0x08, 0x09, 0x0a, 0x0b};
	for (i = 0; i < sizeof(sse41_imm); i++) {
		u8 o = sse41_imm[i];
		unsigned ms = o == 0x0a ? 4 : o == 0x0b ? 8 : 16;

		snprintf(n, sizeof(n), "sse41 66 0f3a%02x", o);
		t = simd(n, 0x66, OPS(0x0f, 0x3a, o), K_XMM, K_XMM, ms,
			 ms == 16);
		t->imm = 1;
		if (o == 0x42)
			t->imm_max = 7;
		if (o >= 0x08 && o <= 0x0b)
			t->imm_max = 15;
	}
	for (i = 0; i < 4; i++) { /* PEXTRB/W/D, EXTRACTPS: rm is the dest */
		static const u8 ms[4] = {1, 2, 4, 4};

		snprintf(n, sizeof(n), "sse41 pextr 0f3a%02x", 0x14 + i);
		t = simd(n, 0x66, OPS(0x0f, 0x3a, (u8)(0x14 + i)), K_XMM, K_G32,
			 ms[i], false);
		t->imm = 1;
	}
	t = simd("sse41 pinsrb", 0x66, OPS(0x0f, 0x3a, 0x20), K_XMM, K_G32, 1,
		 false);
	t->imm = 1;
	t = simd("sse41 insertps", 0x66, OPS(0x0f, 0x3a, 0x21), K_XMM, K_XMM, 4,
		 false);
	t->imm = 1;
	t = simd("sse41 pinsrd", 0x66, OPS(0x0f, 0x3a, 0x22), K_XMM, K_G32, 4,
		 false);
	t->imm = 1;
	for (i = 0; i < 4; i++) {
		snprintf(n, sizeof(n), "sse42 pcmpstr 0f3a%02x", 0x60 + i);
		t = simd(n, 0x66, OPS(0x0f, 0x3a, (u8)(0x60 + i)), K_XMM, K_XMM,
			 16, false);
		t->imm = 1, t->imm_max = 0x7f, t->def = ALL6;
	}
	t = simd("sse42 pcmpgtq", 0x66, OPS(0x0f, 0x38, 0x37), K_XMM, K_XMM, 16,
		 true);

	/* floating point: packed (none, 66) and scalar (F3, F2) */
	static const u8 fp[] = {0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f};
	static const u8 pfxs[4] = {0, 0x66, 0xf3, 0xf2};
	static const char *pn[4] = {"ps", "pd", "ss", "sd"};
	static const u8 plen[4] = {16, 16, 4, 8};
	unsigned p;

	for (i = 0; i < sizeof(fp); i++)
		for (p = 0; p < 4; p++) {
			snprintf(n, sizeof(n), "sse fp 0f%02x %s", fp[i],
				 pn[p]);
			simd(n, pfxs[p], OPS(0x0f, fp[i]), K_XMM, K_XMM,
			     plen[p], p < 2);
		}
	for (p = 0; p < 4; p++) {
		snprintf(n, sizeof(n), "sse cmp%s", pn[p]);
		t = simd(n, pfxs[p], OPS(0x0f, 0xc2), K_XMM, K_XMM, plen[p],
			 p < 2);
		t->imm = 1, t->imm_max = 7;
		snprintf(n, sizeof(n), "sse cvt 0f5a %s", pn[p]);
		simd(n, pfxs[p], OPS(0x0f, 0x5a), K_XMM, K_XMM,
		     p == 0 ? 8 : plen[p], p == 1);
		snprintf(n, sizeof(n), "sse mov 0f10 %s", pn[p]);
		simd(n, pfxs[p], OPS(0x0f, 0x10), K_XMM, K_XMM, plen[p], false);
		snprintf(n, sizeof(n), "sse mov 0f11 %s", pn[p]);
		simd(n, pfxs[p], OPS(0x0f, 0x11), K_XMM, K_XMM, plen[p], false);
		snprintf(n, sizeof(n), "sse cvtsi2 0f2a %s", pn[p]);
		if (p >= 2)
			simd(n, pfxs[p], OPS(0x0f, 0x2a), K_XMM, K_G32, 4,
			     false);
		else
			simd(n, pfxs[p], OPS(0x0f, 0x2a), K_XMM, K_MM, 8,
			     false);
		for (i = 0; i < 2; i++) {
			snprintf(n, sizeof(n), "sse cvt2i 0f%02x %s", 0x2c + i,
				 pn[p]);
			if (p >= 2)
				simd(n, pfxs[p], OPS(0x0f, (u8)(0x2c + i)),
				     K_G32, K_XMM, plen[p], false);
			else
				simd(n, pfxs[p], OPS(0x0f, (u8)(0x2c + i)),
				     K_MM, K_XMM, p ? 16 : 8, p == 1);
		}
	}
	for (p = 0; p < 2; p++) {
		for (i = 0x54; i <= 0x57; i++) {
			snprintf(n, sizeof(n), "sse logic 0f%02x %s", i, pn[p]);
			simd(n, pfxs[p], OPS(0x0f, (u8)i), K_XMM, K_XMM, 16,
			     true);
		}
		for (i = 0x2e; i <= 0x2f; i++) {
			snprintf(n, sizeof(n), "sse comi 0f%02x %s", i, pn[p]);
			t = simd(n, pfxs[p], OPS(0x0f, (u8)i), K_XMM, K_XMM,
				 p ? 8 : 4, false);
			t->def = ALL6;
		}
		static const u8 mv[] = {0x14, 0x15, 0x28, 0x29};
		for (i = 0; i < 4; i++) {
			snprintf(n, sizeof(n), "sse 0f%02x %s", mv[i], pn[p]);
			simd(n, pfxs[p], OPS(0x0f, mv[i]), K_XMM, K_XMM, 16,
			     true);
		}
		snprintf(n, sizeof(n), "sse shuf %s", pn[p]);
		t = simd(n, pfxs[p], OPS(0x0f, 0xc6), K_XMM, K_XMM, 16, true);
		t->imm = 1;
		snprintf(n, sizeof(n), "sse movmsk %s", pn[p]);
		t = simd(n, pfxs[p], OPS(0x0f, 0x50), K_G32, K_XMM, 16, false);
		t->form = F_REG;
		snprintf(n, sizeof(n), "sse movlp %s", pn[p]);
		t = simd(n, pfxs[p], OPS(0x0f, 0x12), K_XMM, K_XMM, 8, false);
		if (p)
			t->form = F_MEM;
		snprintf(n, sizeof(n), "sse movhp %s", pn[p]);
		t = simd(n, pfxs[p], OPS(0x0f, 0x16), K_XMM, K_XMM, 8, false);
		if (p)
			t->form = F_MEM;
		snprintf(n, sizeof(n), "sse movlp st %s", pn[p]);
		t = simd(n, pfxs[p], OPS(0x0f, 0x13), K_XMM, K_XMM, 8, false);
		t->form = F_MEM;
		snprintf(n, sizeof(n), "sse movhp st %s", pn[p]);
		t = simd(n, pfxs[p], OPS(0x0f, 0x17), K_XMM, K_XMM, 8, false);
		t->form = F_MEM;
	}
	simd("sse2 cvtdq2ps", 0, OPS(0x0f, 0x5b), K_XMM, K_XMM, 16, true);
	simd("sse2 cvtps2dq", 0x66, OPS(0x0f, 0x5b), K_XMM, K_XMM, 16, true);
	simd("sse2 cvttps2dq", 0xf3, OPS(0x0f, 0x5b), K_XMM, K_XMM, 16, true);
	simd("sse2 cvttpd2dq", 0x66, OPS(0x0f, 0xe6), K_XMM, K_XMM, 16, true);
	simd("sse2 cvtdq2pd", 0xf3, OPS(0x0f, 0xe6), K_XMM, K_XMM, 8, false);
	simd("sse2 cvtpd2dq", 0xf2, OPS(0x0f, 0xe6), K_XMM, K_XMM, 16, true);
	simd("sse3 addsubpd", 0x66, OPS(0x0f, 0xd0), K_XMM, K_XMM, 16, true);
	simd("sse3 addsubps", 0xf2, OPS(0x0f, 0xd0), K_XMM, K_XMM, 16, true);
	simd("sse3 haddpd", 0x66, OPS(0x0f, 0x7c), K_XMM, K_XMM, 16, true);
	simd("sse3 haddps", 0xf2, OPS(0x0f, 0x7c), K_XMM, K_XMM, 16, true);
	simd("sse3 hsubpd", 0x66, OPS(0x0f, 0x7d), K_XMM, K_XMM, 16, true);
	simd("sse3 hsubps", 0xf2, OPS(0x0f, 0x7d), K_XMM, K_XMM, 16, true);
	simd("sse3 movsldup", 0xf3, OPS(0x0f, 0x12), K_XMM, K_XMM, 16, true);
	simd("sse3 movshdup", 0xf3, OPS(0x0f, 0x16), K_XMM, K_XMM, 16, true);
	simd("sse3 movddup", 0xf2, OPS(0x0f, 0x12), K_XMM, K_XMM, 8, false);
	t = simd("sse3 lddqu", 0xf2, OPS(0x0f, 0xf0), K_XMM, K_XMM, 16, false);
	t->form = F_MEM;
	/* moves */
	simd("mmx movd mm,rm", 0, OPS(0x0f, 0x6e), K_MM, K_G32, 4, false);
	simd("sse2 movd xmm,rm", 0x66, OPS(0x0f, 0x6e), K_XMM, K_G32, 4, false);
	simd("mmx movd rm,mm", 0, OPS(0x0f, 0x7e), K_MM, K_G32, 4, false);
	simd("sse2 movd rm,xmm", 0x66, OPS(0x0f, 0x7e), K_XMM, K_G32, 4, false);
	simd("sse2 movq xmm,rm", 0xf3, OPS(0x0f, 0x7e), K_XMM, K_XMM, 8, false);
	simd("mmx movq mm,rm", 0, OPS(0x0f, 0x6f), K_MM, K_MM, 8, false);
	simd("mmx movq rm,mm", 0, OPS(0x0f, 0x7f), K_MM, K_MM, 8, false);
	simd("sse2 movdqa", 0x66, OPS(0x0f, 0x6f), K_XMM, K_XMM, 16, true);
	simd("sse2 movdqu", 0xf3, OPS(0x0f, 0x6f), K_XMM, K_XMM, 16, false);
	simd("sse2 movdqa st", 0x66, OPS(0x0f, 0x7f), K_XMM, K_XMM, 16, true);
	simd("sse2 movdqu st", 0xf3, OPS(0x0f, 0x7f), K_XMM, K_XMM, 16, false);
	simd("sse2 movq st", 0x66, OPS(0x0f, 0xd6), K_XMM, K_XMM, 8, false);
	t = simd("sse2 movq2dq", 0xf3, OPS(0x0f, 0xd6), K_XMM, K_MM, 8, false);
	t->form = F_REG;
	t = simd("sse2 movdq2q", 0xf2, OPS(0x0f, 0xd6), K_MM, K_XMM, 8, false);
	t->form = F_REG;
	t = simd("mmx pmovmskb", 0, OPS(0x0f, 0xd7), K_G32, K_MM, 8, false);
	t->form = F_REG;
	t = simd("sse2 pmovmskb", 0x66, OPS(0x0f, 0xd7), K_G32, K_XMM, 16,
		 false);
	t->form = F_REG;
	for (i = 0; i < 4; i++) {
		snprintf(n, sizeof(n), "pshuf %s", pn[i]);
		t = simd(n, pfxs[i], OPS(0x0f, 0x70), i ? K_XMM : K_MM,
			 i ? K_XMM : K_MM, i ? 16 : 8, i != 0);
		t->imm = 1;
	}
	t = simd("mmx pinsrw", 0, OPS(0x0f, 0xc4), K_MM, K_G32, 2, false);
	t->imm = 1;
	t = simd("sse2 pinsrw", 0x66, OPS(0x0f, 0xc4), K_XMM, K_G32, 2, false);
	t->imm = 1;
	t = simd("mmx pextrw", 0, OPS(0x0f, 0xc5), K_G32, K_MM, 8, false);
	t->imm = 1, t->form = F_REG;
	t = simd("sse2 pextrw", 0x66, OPS(0x0f, 0xc5), K_G32, K_XMM, 16, false);
	t->imm = 1, t->form = F_REG;
	for (i = 0; i < 3; i++) {
		static const u8 exts[3][4] = {
			{2, 4, 6, 0}, {2, 4, 6, 0}, {2, 6, 3, 7}};
		for (unsigned e = 0; e < 4; e++) {
			if (!exts[i][e])
				continue;
			for (p = 0; p < 2; p++) {
				if (!p && (exts[i][e] == 3 || exts[i][e] == 7))
					continue;
				snprintf(n, sizeof(n), "shift imm 0f%02x/%u %s",
					 0x71 + i, exts[i][e],
					 p ? "xmm" : "mm");
				t = simd(n, pfxs[p], OPS(0x0f, (u8)(0x71 + i)),
					 K_EXT, p ? K_XMM : K_MM, 0, false);
				t->ext = exts[i][e], t->form = F_REG;
				t->imm = 1;
			}
		}
	}
	t = add("mmx emms", OPS(0x0f, 0x77), K_NONE, K_NONE, F_NOMODRM, 0);
}

/*
 * x87 instructions whose results are deterministic: the basic arithmetic,
 * loads, stores, exchanges, compares and conditional moves, with all
 * exceptions masked (transcendentals are left out: their last bits are
 * implementation-specific).
 */
static void add_x87_templates(void)
{
	bool amd = host_is_amd();
	static const char *arith[8] = {"fadd", "fmul",	"fcom", "fcomp",
				       "fsub", "fsubr", "fdiv", "fdivr"};
	static const struct {
		const char *name;
		u8 b1, b2;
		u16 def, undef;
	} one[] = {
		{"fchs", 0xd9, 0xe0, 0, X87_CC},
		{"fabs", 0xd9, 0xe1, 0, X87_CC},
		{"ftst", 0xd9, 0xe4, X87_CC, 0},
		{"fxam", 0xd9, 0xe5, X87_CC, 0},
		{"fld1", 0xd9, 0xe8, 0, X87_CC},
		{"fldz", 0xd9, 0xee, 0, X87_CC},
		{"fsqrt", 0xd9, 0xfa, 0, X87_CC},
		{"frndint", 0xd9, 0xfc, 0, X87_CC},
		{"fcompp", 0xde, 0xd9, X87_CC, 0},
		{"fucompp", 0xda, 0xe9, X87_CC, 0},
		{"fincstp", 0xd9, 0xf7, 0, X87_CC},
		{"fdecstp", 0xd9, 0xf6, 0, X87_CC},
	};
	char n[28];
	struct tmpl *t;
	unsigned i;

	for (i = 0; i < 8; i++) {
		bool cmp = i == 2 || i == 3;

		snprintf(n, sizeof(n), "x87 %s st0,sti", arith[i]);
		t = add(n, OPS(0xd8, (u8)(0xc0 + 8 * i)), K_STI, K_NONE,
			F_NOMODRM, 0);
		t->def = cmp ? X87_CC : 0, t->undef = cmp ? 0 : X87_CC;
		snprintf(n, sizeof(n), "x87 %s m32", arith[i]);
		t = add(n, OPS(0xd8), K_EXT, K_G32, F_MEM, 4);
		t->ext = (u8)i;
		t->def = cmp ? X87_CC : 0, t->undef = cmp ? 0 : X87_CC;
		t->undef |= amd ? 0 : X87_DE;
		snprintf(n, sizeof(n), "x87 %s m64", arith[i]);
		t = add(n, OPS(0xdc), K_EXT, K_G32, F_MEM, 8);
		t->ext = (u8)i;
		t->def = cmp ? X87_CC : 0, t->undef = cmp ? 0 : X87_CC;
		t->undef |= amd ? 0 : X87_DE;
		snprintf(n, sizeof(n), "x87 fi%s m32", arith[i] + 1);
		t = add(n, OPS(0xda), K_EXT, K_G32, F_MEM, 4);
		t->ext = (u8)i;
		t->def = cmp ? X87_CC : 0, t->undef = cmp ? 0 : X87_CC;
		if (cmp)
			continue;
		snprintf(n, sizeof(n), "x87 %s sti,st0", arith[i]);
		t = add(n, OPS(0xdc, (u8)(0xc0 + 8 * i)), K_STI, K_NONE,
			F_NOMODRM, 0);
		t->undef = X87_CC;
		snprintf(n, sizeof(n), "x87 %sp sti,st0", arith[i]);
		t = add(n, OPS(0xde, (u8)(0xc0 + 8 * i)), K_STI, K_NONE,
			F_NOMODRM, 0);
		t->undef = X87_CC;
	}
	for (i = 0; i < ARRAY_SIZE(one); i++) {
		snprintf(n, sizeof(n), "x87 %s", one[i].name);
		t = add(n, OPS(one[i].b1, one[i].b2), K_NONE, K_NONE, F_NOMODRM,
			0);
		t->def = one[i].def, t->undef = one[i].undef;
	}
	static const struct {
		const char *name;
		u8 b1, b2;
	} sti[] = {
		{"fld sti", 0xd9, 0xc0},    {"fxch sti", 0xd9, 0xc8},
		{"fst sti", 0xdd, 0xd0},    {"fstp sti", 0xdd, 0xd8},
		{"ffree sti", 0xdd, 0xc0},  {"fucom sti", 0xdd, 0xe0},
		{"fucomp sti", 0xdd, 0xe8},
	};
	for (i = 0; i < ARRAY_SIZE(sti); i++) {
		snprintf(n, sizeof(n), "x87 %s", sti[i].name);
		t = add(n, OPS(sti[i].b1, sti[i].b2), K_STI, K_NONE, F_NOMODRM,
			0);
		t->undef = X87_CC;
		if (sti[i].b1 == 0xdd && sti[i].b2 >= 0xe0)
			t->def = X87_CC, t->undef = 0;
		if (sti[i].b2 == 0xc0 && sti[i].b1 == 0xdd) /* FFREE */
			t->undef = X87_CC | X87_C1;
		if (sti[i].b2 == 0xc0 && sti[i].b1 == 0xd9 && !amd) /* FLD */
			t->undef |= X87_C1;
	}
	static const struct {
		const char *name;
		u8 op, ext, size;
	} mem[] = {
		{"fld m32", 0xd9, 0, 4},    {"fst m32", 0xd9, 2, 4},
		{"fstp m32", 0xd9, 3, 4},   {"fld m64", 0xdd, 0, 8},
		{"fst m64", 0xdd, 2, 8},    {"fstp m64", 0xdd, 3, 8},
		{"fild m32", 0xdb, 0, 4},   {"fist m32", 0xdb, 2, 4},
		{"fistp m32", 0xdb, 3, 4},  {"fild m16", 0xdf, 0, 2},
		{"fistp m16", 0xdf, 3, 2},  {"fild m64", 0xdf, 5, 8},
		{"fistp m64", 0xdf, 7, 8},  {"fisttp m32", 0xdb, 1, 4},
		{"fisttp m16", 0xdf, 1, 2}, {"fisttp m64", 0xdd, 1, 8},
	};
	for (i = 0; i < ARRAY_SIZE(mem); i++) {
		snprintf(n, sizeof(n), "x87 %s", mem[i].name);
		t = add(n, OPS(mem[i].op), K_EXT, K_G32, F_MEM, mem[i].size);
		t->ext = mem[i].ext, t->undef = X87_CC;
	}
	static const struct {
		const char *name;
		u8 b1, b2;
		u16 rd;
	} fl[] = {
		{"fcomi", 0xdb, 0xf0, 0},
		{"fucomi", 0xdb, 0xe8, 0},
		{"fcomip", 0xdf, 0xf0, 0},
		{"fucomip", 0xdf, 0xe8, 0},
		{"fcmovb", 0xda, 0xc0, CF_},
		{"fcmove", 0xda, 0xc8, ZF_},
		{"fcmovbe", 0xda, 0xd0, CF_ | ZF_},
		{"fcmovu", 0xda, 0xd8, PF_},
		{"fcmovnb", 0xdb, 0xc0, CF_},
		{"fcmovne", 0xdb, 0xc8, ZF_},
		{"fcmovnbe", 0xdb, 0xd0, CF_ | ZF_},
		{"fcmovnu", 0xdb, 0xd8, PF_},
	};
	for (i = 0; i < ARRAY_SIZE(fl); i++) {
		snprintf(n, sizeof(n), "x87 %s", fl[i].name);
		t = add(n, OPS(fl[i].b1, fl[i].b2), K_STI, K_NONE, F_NOMODRM,
			0);
		t->rd = fl[i].rd;
		t->def = fl[i].rd ? 0 : ALL6;
		t->undef = X87_CC | X87_C1;
	}
}

/* --- random state --- */

static u64 rng_state;

static u64 rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static u32 rnd_below(u32 n)
{
	return (u32)(rnd() % n);
}

static u32 rnd_u32_interesting(void)
{
	static const u32 special[] = {
		0,	     1,		  0xffffffffu, 0x80000000u, 0x7fffffffu,
		0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7fa00000u,
		0x00000001u, 0x807fffffu, 0x3f800000u, 0xbf800000u, 0x00800000u,
		0x4b000000u, 0x4f000000u, 0xcf000000u, 0x5f000000u, 0x80000001u,
		0xff,	     0x8000,
	};

	switch (rnd_below(4)) {
	case 0:
		return special[rnd_below(ARRAY_SIZE(special))];
	case 1: { /* a float of moderate size */
		float f = (float)((s32)rnd_below(2000) - 1000) /
			  (float)(1 + rnd_below(64));
		u32 v;

		memcpy(&v, &f, 4);
		return v;
	}
	case 2:
		return rnd_below(256) - 128;
	default:
		return (u32)rnd();
	}
}

static u64 rnd_u64_interesting(void)
{
	static const u64 special[] = {
		0x7ff0000000000000ull, 0xfff0000000000000ull,
		0x7ff8000000000000ull, 0xfff8000000000000ull,
		0x7ff4000000000000ull, 0x0000000000000001ull,
		0x8000000000000000ull, 0x3ff0000000000000ull,
		0x000fffffffffffffull, 0x41e0000000000000ull,
		0xc1e0000000000000ull, 0x4330000000000000ull,
	};

	switch (rnd_below(4)) {
	case 0:
		return special[rnd_below(ARRAY_SIZE(special))];
	case 1: {
		double d = (double)((s32)rnd_below(200000) - 100000) /
			   (double)(1 + rnd_below(1000));
		u64 v;

		memcpy(&v, &d, 8);
		return v;
	}
	default:
		return (u64)rnd_u32_interesting() | (u64)rnd_u32_interesting()
							    << 32;
	}
}

static void rnd_fill(u8 *p, unsigned len)
{
	unsigned i;

	for (i = 0; i + 8 <= len; i += 8) {
		u64 v = rnd_below(2) ? rnd_u64_interesting() :
				       (u64)rnd_u32_interesting() |
					       (u64)rnd_u32_interesting() << 32;

		memcpy(p + i, &v, 8);
	}
}

/* --- sequences --- */

struct hd_seq {
	u8 code[HD_MAX_CODE];
	unsigned len;		   /* bytes */
	unsigned n;		   /* instructions */
	u16 start[HD_MAX_LEN + 1]; /* offset of each instruction */
	u16 tmpl[HD_MAX_LEN];	   /* template, or 0xFFFF: the CMP fence */
	u16 undef[HD_MAX_LEN + 1]; /* flags undefined after k insns */
	struct hd_regs in;
	u8 data[HD_DATA_SIZE];
};

struct hd_result {
	struct hd_regs out;
	u8 data[HD_DATA_SIZE];
	int status; /* 0: ran; otherwise the signal that stopped it */
};

static unsigned pick_gpr(unsigned kind)
{
	static const u8 wide[6] = {0, 1, 2, 3, 5, 7}; /* not ESP, ESI */

	return kind == K_G8 ? rnd_below(8) : wide[rnd_below(6)];
}

static unsigned pick_reg(unsigned kind)
{
	if (kind == K_G8 || kind == K_G16 || kind == K_G32)
		return pick_gpr(kind);
	return rnd_below(8);
}

/*
 * A register of this kind under REX: byte registers 4-7 are then SPL-DIL
 * (not SPL or SIL: RSP is the stubs' stack, RSI the memory base), 8-14
 * are R8-R14; XMM8-15.
 */
static unsigned pick_reg64(unsigned kind, u8 *rex, u8 bit)
{
	/* not SIL either: RSI is the memory operands' (aligned) base */
	static const u8 g8[13] = {0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14};
	static const u8 wide[13] = {0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14};
	unsigned r;

	if (kind == K_G8)
		r = g8[rnd_below(13)];
	else if (kind == K_G16 || kind == K_G32)
		r = wide[rnd_below(13)];
	else if (kind == K_XMM)
		r = rnd_below(16);
	else
		return pick_reg(kind);
	if (r & 8)
		*rex |= bit;
	return r & 7;
}

/* Where a template's opcode starts: after 66/F2/F3. */
static unsigned opcode_start(const struct tmpl *t)
{
	unsigned k = 0;

	while (k < t->nop &&
	       (t->op[k] == 0x66 || t->op[k] == 0xf2 || t->op[k] == 0xf3))
		k++;
	return k;
}

static void emit_insn(struct hd_seq *q, const struct tmpl *t)
{
	u8 *p = q->code + q->len;
	unsigned n = 0, i, k = opcode_start(t);
	bool mem;
	u8 rex = 0x40;
	bool use_rex = mode64 && k < t->nop &&
		       (t->op[k] < 0xd8 || t->op[k] > 0xdf) && rnd_below(2);

	memcpy(p, t->op, k);
	n = k;
	if (use_rex) {
		/*
		 * REX.W: 64-bit operands; not where it would change the
		 * immediate's size (66h with imm16 becomes imm32)
		 */
		if (rnd_below(2) && !(k && t->imm == 2 && memchr(t->op, 0x66, k)))
			rex |= 8;
		p[n++] = 0; /* filled in below */
	}
	memcpy(p + n, t->op + k, t->nop - k);
	n += t->nop - k;
	if (t->form == F_NOMODRM) {
		if (t->reg == K_G32)
			p[n - 1] = (u8)(p[n - 1] +
					(use_rex ? pick_reg64(K_G32, &rex, 1) :
						   pick_gpr(K_G32)));
		else if (t->reg == K_STI)
			p[n - 1] = (u8)(p[n - 1] + rnd_below(8));
	} else {
		unsigned reg = t->reg == K_EXT ? t->ext :
			       use_rex	       ? pick_reg64(t->reg, &rex, 4) :
						 pick_reg(t->reg);

		mem = t->form == F_MEM || (t->form == F_BOTH && rnd_below(2));
		if (mem) {
			s32 disp;

			if (t->align)
				disp = ((s32)rnd_below(16) - 8) * 16;
			else
				disp = (s32)rnd_below(256 - 16) - 128;
			p[n++] = (u8)(0x40 | reg << 3 | 6); /* [esi + disp8] */
			p[n++] = (u8)disp;
		} else {
			unsigned rm = use_rex ? pick_reg64(t->rm, &rex, 1) :
						pick_reg(t->rm);

			p[n++] = (u8)(0xc0 | reg << 3 | rm);
		}
	}
	if (use_rex)
		p[k] = rex;
	for (i = 0; i < t->imm; i++)
		p[n++] = (u8)rnd();
	if (t->imm_max && t->imm == 1)
		p[n - 1] = (u8)rnd_below(t->imm_max + 1u);
	q->len += n;
}

static void gen_seq(struct hd_seq *q, const u16 *pool, unsigned npool,
		    unsigned length)
{
	struct hd_regs *r = &q->in;
	u16 undef = 0;
	unsigned i;

	memset(q, 0, offsetof(struct hd_seq, in));
	*r = (struct hd_regs){0};
	for (i = 0; i < 16; i++)
		r->gpr[i] = mode64 && rnd_below(2) ? rnd_u64_interesting() :
						     rnd_u32_interesting();
	r->gpr[4] = 0x3000;
	r->gpr[6] = HD_ESI;
	r->rflags = 2 | (rnd() & FL_ARITH);
	/* FXSAVE image: x87 empty, all exceptions masked, random MXCSR */
	/* x87: all exceptions masked, random RC and PC, TOP and tags */
	put_le16(r->fx, (u16)(0x007f | (rnd() & 0x0f00)));
	put_le16(r->fx + 2, (u16)(rnd_below(8) << 11));
	r->fx[4] = (u8)(rnd_below(2) ? 0xff : rnd());
	rnd_fill(r->fx + FX_ST, 128);
	for (i = 0; i < 8; i++)
		if (rnd_below(2)) { /* mostly ordinary numbers */
			long double v =
				(long double)(s32)rnd_u32_interesting() /
				(long double)(1 + rnd_below(1000));

			memcpy(r->fx + FX_ST + 16 * i, &v, 10);
		}
	for (i = 0; i < 8; i++)
		memset(r->fx + FX_ST + 16 * i + 10, 0, 6);
	put_le32(r->fx + FX_MXCSR,
		 0x1f80u | (u32)(rnd() & 0x6000) | (rnd_below(4) ? 0 : 0x8040));
	rnd_fill(r->fx + FX_XMM, 128);
	rnd_fill(q->data, HD_DATA_SIZE);

	q->undef[0] = 0;
	while (q->n < length) {
		const struct tmpl *t = &tmpls[pool[rnd_below(npool)]];

		if (t->rd & undef & FL_ARITH) { /* define the flags first */
			q->start[q->n] = (u16)q->len;
			q->code[q->len++] = 0x39;
			q->code[q->len++] = 0xc8; /* cmp eax, ecx */
			q->tmpl[q->n] = 0xffff;
			undef &= (u16)~FL_ARITH;
			q->undef[++q->n] = undef;
			if (q->n >= length)
				break;
		}
		q->start[q->n] = (u16)q->len;
		emit_insn(q, t);
		q->tmpl[q->n] = (u16)(t - tmpls);
		undef = (u16)((undef & ~t->def) | t->undef);
		q->undef[++q->n] = undef;
	}
	q->start[q->n] = (u16)q->len;
}

/* --- the host side --- */

/*
 * The 64-bit stub around the test code: saves the callee-saved
 * registers, loads the state from struct hd_regs at RDI (kept in R15,
 * which no generated instruction can name), runs the code, stores it.
 */
static unsigned host_prologue(u8 *p)
{
	static const u8 head[] = {
		0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41,
		0x56, 0x41, 0x57, 0x49, 0x89, 0xff, /* mov r15, rdi */
		0x41, 0x0f, 0xae, 0x0f,		    /* fxrstor [r15] */
		0x41, 0xff, 0xb7, D32_(HD_OFF_FLAGS), /* push qword [r15+f] */
		0x9d,				    /* popfq */
	};
	unsigned n = sizeof(head), r;

	memcpy(p, head, n);
	for (r = 0; r < (mode64 ? 15u : 8u); r++) {
		if (r == 4)
			continue;
		/* mov r32/r64, [r15 + disp32] */
		p[n++] = (u8)(0x41 | (mode64 ? 8 : 0) | (r & 8) >> 1);
		p[n++] = 0x8b;
		p[n++] = (u8)(0x87 | (r & 7) << 3);
		put_le32(p + n, HD_OFF_GPR + 8 * r);
		n += 4;
	}
	return n;
}

static unsigned host_epilogue(u8 *p)
{
	static const u8 tail[] = {
		0x9c, 0x41, 0x8f, 0x87, D32_(HD_OFF_FLAGS), /* pushfq; pop */
		0x41, 0x0f, 0xae, 0x07, /* fxsave [r15] */
		0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d,
		0x41, 0x5c, 0x5d, 0x5b, 0xc3,
	};
	unsigned n = 0, r;

	for (r = 0; r < (mode64 ? 15u : 8u); r++) {
		if (r == 4)
			continue;
		p[n++] = (u8)(0x41 | (mode64 ? 8 : 0) | (r & 8) >> 1);
		p[n++] = 0x89; /* mov [r15 + disp32], r32/r64 */
		p[n++] = (u8)(0x87 | (r & 7) << 3);
		put_le32(p + n, HD_OFF_GPR + 8 * r);
		n += 4;
	}
	memcpy(p + n, tail, sizeof(tail));
	return n + (unsigned)sizeof(tail);
}

/* Runs seqs[from..count) on the host; writes results, then progress. */
static void host_child(const struct hd_seq *seqs, struct hd_result *res,
		       unsigned from, unsigned count, volatile u32 *progress,
		       unsigned cut)
{
	u8 *code =
		mmap((void *)(uintptr_t)HD_CODE, HD_CODE_SIZE,
		     PROT_READ | PROT_WRITE | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	u8 *data = mmap(
		(void *)(uintptr_t)HD_DATA, HD_MAP_SIZE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	u8 save[512] __attribute__((aligned(16)));
	unsigned i, n;

	if (code != (u8 *)(uintptr_t)HD_CODE ||
	    data != (u8 *)(uintptr_t)HD_DATA)
		_exit(3);
	n = host_prologue(code);
	memset(code + n, 0x90, HD_TEST - HD_CODE - n);
	for (i = from; i < count; i++) {
		/* HD_PREFIXES: result i is the first i + 1 insns of seqs[0] */
		const struct hd_seq *q = cut == HD_PREFIXES ? seqs : &seqs[i];
		unsigned len = cut == HD_PREFIXES ? q->start[i + 1] : q->len;
		struct hd_regs *r = (struct hd_regs *)(data + 0x2000);

		memcpy(code + (HD_TEST - HD_CODE), q->code, len);
		host_epilogue(code + (HD_TEST - HD_CODE) + len);
		__builtin_ia32_fxsave64(save);
		memcpy(data, q->data, HD_DATA_SIZE);
		*r = q->in;
		((void (*)(struct hd_regs *))(uintptr_t)HD_CODE)(r);
		__builtin_ia32_fxrstor64(save);
		res[i].out = *r;
		memcpy(res[i].data, data, HD_DATA_SIZE);
		res[i].status = 0;
		*progress = i + 1;
	}
	_exit(0);
}

/*
 * Runs seqs[0..count) natively, each in the child until one crashes; a
 * crashed sequence gets the signal as its status. cut: run only the first
 * cut instructions (0: all).
 */
static int host_run(const struct hd_seq *seqs, struct hd_result *res,
		    unsigned count, unsigned cut)
{
	volatile u32 *progress = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned from = 0;

	if (progress == MAP_FAILED)
		return -errno;
	while (from < count) {
		int st;
		pid_t pid;

		*progress = from;
		pid = fork();
		if (pid < 0)
			return -errno;
		if (!pid)
			host_child(seqs, res, from, count, progress, cut);
		if (waitpid(pid, &st, 0) < 0)
			return -errno;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
			return -EADDRINUSE;
		from = *progress;
		if (from < count && !(WIFEXITED(st) && !WEXITSTATUS(st))) {
			res[from].status = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
			from++;
		} else if (from < count) {
			return -EIO;
		}
	}
	munmap((void *)progress, 4096);
	return 0;
}

/* --- the soft side --- */

struct hd_soft {
	struct phys_mem mem;
	struct pio_bus *pio;
	struct vcpu *vcpu;
};

static int soft_open(struct hd_soft *s)
{
	struct vcpu_env env;
	int ret;

	*s = (struct hd_soft){0};
	ret = mem_init(&s->mem, HD_RAM, HD_RAM);
	if (ret)
		return ret;
	s->mem.flat = true;
	s->pio = pio_bus_new();
	if (!s->pio)
		return -ENOMEM;
	env = (struct vcpu_env){.pio = s->pio,
				.mem = &s->mem,
				.model = mode64 ? CPU_MODEL_X86_64 :
						  CPU_MODEL_P6};
	return soft_engine_ops.create(&env, &s->vcpu);
}

static void soft_close(struct hd_soft *s)
{
	if (s->vcpu)
		soft_engine_ops.destroy(s->vcpu);
	if (s->pio)
		pio_bus_free(s->pio);
	mem_destroy(&s->mem);
}

/*
 * 64-bit mode for the soft side: 4-level paging identity-mapping the
 * first 4 MiB with two 2 MiB pages (tables at HD_PT), EFER.LME/LMA, a
 * 64-bit code segment.
 */
#define HD_PT 0x300000u
static void soft_long_mode(struct hd_soft *s, struct x86_state *st)
{
	u64 e[4] = {HD_PT + 0x1003, HD_PT + 0x2003, 0x83, 0x200083};

	mem_dma_write(&s->mem, HD_PT, &e[0], 8);
	mem_dma_write(&s->mem, HD_PT + 0x1000, &e[1], 8);
	mem_dma_write(&s->mem, HD_PT + 0x2000, &e[2], 16);
	st->cr3 = HD_PT;
	st->cr4 |= CR4_PAE;
	st->cr0 |= CR0_PG;
	st->efer = EFER_LME | EFER_LMA;
	st->seg[S_CS].attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_L |
			     SEG_ATTR_G | 0xb;
}

static void soft_run(struct hd_soft *s, const struct hd_seq *q,
		     struct hd_result *res, unsigned cut)
{
	/* fxrstor/fxsave [HD_REGS]: SIB forms, absolute in 64-bit mode too */
	static const u8 pro[] = {0x0f, 0xae, 0x0c, 0x25, D32_(HD_REGS)};
	static const u8 epi[] = {0x0f, 0xae, 0x04, 0x25, D32_(HD_REGS), 0xf4};
	struct x86_state st;
	unsigned len = cut ? q->start[cut] : q->len, i;
	struct x86_segment flat_data = {0x10, 0, 0xffffffffu,
					SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB |
						SEG_ATTR_G | 0x3};
	enum vcpu_exit ex;
	u64 budget;

	mem_dma_write(&s->mem, HD_TEST - sizeof(pro), pro, sizeof(pro));
	mem_dma_write(&s->mem, HD_TEST, q->code, len);
	mem_dma_write(&s->mem, HD_TEST + len, epi, sizeof(epi));
	mem_dma_write(&s->mem, HD_DATA, q->data, HD_DATA_SIZE);
	mem_dma_write(&s->mem, HD_REGS, q->in.fx, 512);

	soft_engine_ops.reset(s->vcpu);
	soft_engine_ops.get_state(s->vcpu, &st);
	for (i = 0; i < 6; i++)
		st.seg[i] = flat_data;
	st.seg[S_CS] = flat_data;
	st.seg[S_CS].selector = 0x08;
	st.seg[S_CS].attr =
		SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | 0xb;
	st.gdtr = (struct x86_dtable){0, 0};
	st.idtr = (struct x86_dtable){0, 0}; /* a fault triple-faults */
	st.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
	st.cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
	for (i = 0; i < 16; i++)
		st.gpr[i] = mode64 ? q->in.gpr[i] : (u32)q->in.gpr[i];
	st.eflags = (u32)q->in.rflags;
	st.rip = HD_TEST - sizeof(pro);
	if (mode64)
		soft_long_mode(s, &st);
	st.halted = false;
	soft_engine_ops.set_state(s->vcpu, &st);
	ex = VCPU_EXIT_DEADLINE;
	for (budget = 0; budget < 1000 && ex == VCPU_EXIT_DEADLINE; budget++)
		ex = soft_engine_ops.run(s->vcpu, clock_now_ns() + 10000000);
	soft_engine_ops.get_state(s->vcpu, &st);
	res->status =
		ex == VCPU_EXIT_HALT && st.eip == HD_TEST + len + sizeof(epi) ?
			0 :
			-2;
	for (i = 0; i < 16; i++)
		res->out.gpr[i] = st.gpr[i];
	res->out.rflags = st.eflags;
	memcpy(res->out.fx, s->mem.ram + HD_REGS, 512);
	memcpy(res->data, s->mem.ram + HD_DATA, HD_DATA_SIZE);
}

/* --- comparison --- */

/* A description of the first difference, or NULL when equal. */
static const char *compare(const struct hd_result *h, const struct hd_result *s,
			   u16 undef, char *buf, size_t size)
{
	unsigned i;
	u32 fmask = FL_ARITH & ~undef;

	if (h->status || s->status) {
		snprintf(buf, size, "status host %d soft %d", h->status,
			 s->status);
		return buf;
	}
	for (i = 0; i < (mode64 ? 15u : 8u); i++) {
		u64 hv = h->out.gpr[i], sv = s->out.gpr[i];

		if (!mode64) {
			hv = (u32)hv;
			sv = (u32)sv;
		}
		if (i != 4 && hv != sv) {
			snprintf(buf, size, "gpr%u host %llx soft %llx", i,
				 (unsigned long long)hv,
				 (unsigned long long)sv);
			return buf;
		}
	}
	if ((h->out.rflags ^ s->out.rflags) & fmask) {
		snprintf(buf, size, "eflags host %03x soft %03x (mask %03x)",
			 (u32)h->out.rflags & FL_ARITH,
			 (u32)s->out.rflags & FL_ARITH, fmask);
		return buf;
	}
	if ((get_le16(h->out.fx + 2) ^ get_le16(s->out.fx + 2)) &
		    ~(undef & (X87_CC | X87_C1 | X87_DE)) ||
	    memcmp(h->out.fx, s->out.fx, 2) || h->out.fx[4] != s->out.fx[4]) {
		snprintf(buf, size,
			 "fcw/fsw/ftw host %04x %04x %02x soft %04x %04x %02x",
			 get_le16(h->out.fx), get_le16(h->out.fx + 2),
			 h->out.fx[4], get_le16(s->out.fx),
			 get_le16(s->out.fx + 2), s->out.fx[4]);
		return buf;
	}
	if (memcmp(h->out.fx + FX_MXCSR, s->out.fx + FX_MXCSR, 4)) {
		snprintf(buf, size, "mxcsr host %08x soft %08x",
			 get_le32(h->out.fx + FX_MXCSR),
			 get_le32(s->out.fx + FX_MXCSR));
		return buf;
	}
	for (i = 0; i < 8; i++)
		if (memcmp(h->out.fx + FX_ST + 16 * i,
			   s->out.fx + FX_ST + 16 * i, 10)) {
			snprintf(buf, size,
				 "st%u/mm%u host %016llx soft %016llx", i, i,
				 (unsigned long long)get_le64(h->out.fx +
							      FX_ST + 16 * i),
				 (unsigned long long)get_le64(s->out.fx +
							      FX_ST + 16 * i));
			return buf;
		}
	for (i = 0; i < (mode64 ? 16u : 8u); i++)
		if (memcmp(h->out.fx + FX_XMM + 16 * i,
			   s->out.fx + FX_XMM + 16 * i, 16)) {
			snprintf(buf, size,
				 "xmm%u host %016llx:%016llx soft "
				 "%016llx:%016llx",
				 i,
				 (unsigned long long)get_le64(
					 h->out.fx + FX_XMM + 16 * i + 8),
				 (unsigned long long)get_le64(h->out.fx +
							      FX_XMM + 16 * i),
				 (unsigned long long)get_le64(
					 s->out.fx + FX_XMM + 16 * i + 8),
				 (unsigned long long)get_le64(s->out.fx +
							      FX_XMM + 16 * i));
			return buf;
		}
	for (i = 0; i < HD_DATA_SIZE; i++)
		if (h->data[i] != s->data[i]) {
			snprintf(buf, size, "memory +%#x host %02x soft %02x",
				 i, h->data[i], s->data[i]);
			return buf;
		}
	return NULL;
}

static void print_insn(FILE *out, const struct hd_seq *q, unsigned k)
{
	unsigned b;

	fprintf(out, "    %-26s",
		q->tmpl[k] == 0xffff ? "cmp eax,ecx" : tmpls[q->tmpl[k]].name);
	for (b = q->start[k]; b < q->start[k + 1]; b++)
		fprintf(out, " %02x", q->code[b]);
	fputc('\n', out);
}

/* The inputs of a one-instruction difference, for the report. */
static void dump_inputs(FILE *out, const struct hd_seq *q)
{
	const u8 *fx = q->in.fx;
	unsigned i;

	fprintf(out,
		"    in: fcw %04x fsw %04x ftw %02x mxcsr %08x eflags %03x\n",
		get_le16(fx), get_le16(fx + 2), fx[4], get_le32(fx + FX_MXCSR),
		(u32)q->in.rflags);
	for (i = 0; i < 8; i++)
		fprintf(out, "    in: st%u %04x:%016llx gpr%u %llx\n", i,
			get_le16(fx + FX_ST + 16 * i + 8),
			(unsigned long long)get_le64(fx + FX_ST + 16 * i), i,
			(unsigned long long)q->in.gpr[i]);
	if (q->tmpl[0] != 0xffff && tmpls[q->tmpl[0]].form != F_NOMODRM) {
		const struct tmpl *t = &tmpls[q->tmpl[0]];

		if (q->code[t->nop] >> 6 == 1) {
			unsigned off =
				0x800u + (unsigned)(s32)(s8)q->code[t->nop + 1];

			fprintf(out, "    in: memory %016llx:%016llx\n",
				(unsigned long long)get_le64(q->data + off + 8),
				(unsigned long long)get_le64(q->data + off));
		}
	}
}

/*
 * The first instruction after which host and soft differ: the template
 * to blame. Returns the index, or -1 if no prefix differs (then the
 * whole sequence is blamed on its last instruction).
 */
static int first_difference(struct hd_soft *s, struct hd_seq *q,
			    struct hd_result *pre, struct hd_result *sr,
			    char *buf, size_t size)
{
	unsigned k;

	if (host_run(q, pre, q->n, HD_PREFIXES))
		return -1;
	for (k = 1; k <= q->n; k++) {
		soft_run(s, q, sr, k);
		if (compare(&pre[k - 1], sr, q->undef[k], buf, size))
			return (int)k - 1;
	}
	return -1;
}

int hostdiff_run(const struct hostdiff_opts *o, struct hostdiff_stats *st)
{
	struct hd_seq *seqs;
	struct hd_result *hres, *sres, *pre;
	struct hd_soft soft;
	u16 pool[1024];
	unsigned npool = 0, i, reported = 0;
	u32 *blame;
	char buf[256];
	int ret;
	u64 done = 0;

	*st = (struct hostdiff_stats){0};
	if (o->length < 1 || o->length > HD_MAX_LEN)
		return -EINVAL;
	mode64 = o->mode64;
	ntmpls = 0;
	add_int_templates();
	add_simd_templates();
	add_x87_templates();
	for (i = 0; i < ntmpls; i++)
		if (!o->only || strstr(tmpls[i].name, o->only))
			pool[npool++] = (u16)i;
	st->templates = npool;
	if (!npool)
		return -ENOENT;
	rng_state = o->seed ? o->seed : 0x9e3779b97f4a7c15ull;
	seqs = mmap(NULL, sizeof(*seqs) * HD_BATCH, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	hres = mmap(NULL, sizeof(*hres) * HD_BATCH, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pre = mmap(NULL, sizeof(*pre) * HD_MAX_LEN, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sres = calloc(HD_BATCH, sizeof(*sres));
	blame = calloc(ntmpls + 1, sizeof(*blame));
	if (seqs == MAP_FAILED || hres == MAP_FAILED || pre == MAP_FAILED ||
	    !sres || !blame)
		return -ENOMEM;
	ret = soft_open(&soft);
	while (!ret && done < o->sequences) {
		unsigned batch = o->sequences - done < HD_BATCH ?
					 (unsigned)(o->sequences - done) :
					 HD_BATCH;

		for (i = 0; i < batch; i++)
			gen_seq(&seqs[i], pool, npool, o->length);
		ret = host_run(seqs, hres, batch, 0);
		if (ret)
			break;
		for (i = 0; i < batch; i++) {
			struct hd_seq *q = &seqs[i];
			int k;

			soft_run(&soft, q, &sres[i], 0);
			st->sequences++;
			st->instructions += q->n;
			if (!compare(&hres[i], &sres[i], q->undef[q->n], buf,
				     sizeof(buf)))
				continue;
			st->differing++;
			k = first_difference(&soft, q, pre, &sres[i], buf,
					     sizeof(buf));
			if (k < 0)
				k = (int)q->n - 1;
			blame[q->tmpl[k] == 0xffff ? ntmpls : q->tmpl[k]]++;
			if (reported++ < o->max_report) {
				unsigned j;

				fprintf(o->out, "difference: %s\n", buf);
				for (j = 0; j <= (unsigned)k; j++)
					print_insn(o->out, q, j);
				if (k == 0)
					dump_inputs(o->out, q);
			}
		}
		done += batch;
	}
	if (st->differing) {
		fprintf(o->out, "differences by template (first differing "
				"instruction):\n");
		for (i = 0; i <= ntmpls; i++)
			if (blame[i])
				fprintf(o->out, "  %6u  %s\n", blame[i],
					i == ntmpls ? "cmp eax,ecx" :
						      tmpls[i].name);
	}
	soft_close(&soft);
	munmap(seqs, sizeof(*seqs) * HD_BATCH);
	munmap(hres, sizeof(*hres) * HD_BATCH);
	munmap(pre, sizeof(*pre) * HD_MAX_LEN);
	free(sres);
	free(blame);
	return ret;
}

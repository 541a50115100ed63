/* SPDX-License-Identifier: MIT */
/*
 * MMX, SSE to SSE4.2, POPCNT and CRC32 in the soft engine (Intel SDM
 * vol. 1, chapters 9-12; vol. 2 for each instruction).
 *
 * The register file: XMM0-XMM7 (the 32-bit model) and MXCSR live in
 * struct x86_fpu_state (x86_state.h) in FXSAVE order, so FXSAVE/FXRSTOR
 * and state save need nothing extra; the MMX registers are the mantissas
 * of the x87 physical registers R0-R7 (SDM vol. 1, 9.5). Executors work
 * on local copies (union xmm) and write back only after every fault
 * check, so a faulting instruction leaves the state as it was.
 *
 * Split: sse.c decodes the mandatory prefix and dispatches, checks
 * CR0/CR4 gating and alignment and moves operands; sse_int.c has the
 * integer operations (portable C), sse_fp.c the floating-point ones (the
 * host's own SSE unit under the guest's MXCSR, for bit-exact results).
 */
#ifndef TWOOSTWO_CPU_SOFT_SSE_H
#define TWOOSTWO_CPU_SOFT_SSE_H

#include <string.h>

#include "cpu/soft/cpu.h"

/* One 64-bit MMX or 128-bit XMM value. */
union xmm {
	u8 ub[16];
	s8 sb[16];
	u16 uw[8];
	s16 sw[8];
	u32 ud[4];
	s32 sd[4];
	u64 uq[2];
	s64 sq[2];
	float f[4];
	double g[2];
};

/* MXCSR (SDM vol. 1, 10.2.3). */
#define MXCSR_IE BIT(0)
#define MXCSR_DE BIT(1)
#define MXCSR_ZE BIT(2)
#define MXCSR_OE BIT(3)
#define MXCSR_UE BIT(4)
#define MXCSR_PE BIT(5)
#define MXCSR_FLAGS 0x3fu
#define MXCSR_DAZ BIT(6)
#define MXCSR_MASKS_SHIFT 7
#define MXCSR_RC_SHIFT 13
#define MXCSR_FZ BIT(15)
#define MXCSR_DEFAULT 0x1f80u
#define MXCSR_WRITABLE 0xffffu /* with DAZ (advertised in MXCSR_MASK) */

/*
 * A binary element-wise operation on len bytes (8: MMX, 16: XMM):
 * d = d op s. imm is the immediate byte where the instruction has one.
 */
typedef void (*simd_fn)(union xmm *d, const union xmm *s, unsigned len);

/* sse_int.c */
simd_fn sse_int_op(u16 map_op, bool xmm);
void pshufb(union xmm *d, const union xmm *s, unsigned len);
void palignr(union xmm *d, const union xmm *s, unsigned len, u8 imm);
void psimd_shift(union xmm *d, unsigned kind, unsigned esize, u64 count,
		 unsigned len);
void pblendw(union xmm *d, const union xmm *s, u8 imm);
void mpsadbw(union xmm *d, const union xmm *s, u8 imm);
void phminposuw(union xmm *d, const union xmm *s);
void pmovx(union xmm *d, const union xmm *s, u8 op);
/* PCMPxSTRx: ECX or the mask into *d, the flags returned (SDM 4.1). */
u32 pcmpstr(const union xmm *a, const union xmm *b, u8 imm, bool explicit_len,
	    s32 la, s32 lb, bool want_mask, union xmm *mask, u32 *index);
u32 crc32c(u32 crc, u64 v, unsigned bytes);

/* sse_fp.c: floating point under the guest MXCSR. */
struct sse_fp_ctx {
	u32 mxcsr;  /* the guest's, flags in it updated by the op */
	u32 raised; /* flags this instruction raised */
};
bool sse_fp_exec(struct soft_cpu *cpu, struct insn *in, unsigned map,
		 unsigned pfx);

/* sse.c: shared with sse_fp.c */
enum { PFX_NONE, PFX_66, PFX_F3, PFX_F2 };
void sse_check(struct soft_cpu *cpu);
union xmm xmm_get(const struct soft_cpu *cpu, unsigned n);
void xmm_set(struct soft_cpu *cpu, unsigned n, const union xmm *v);
/* The r/m operand: len bytes (4, 8 or 16), #GP unless aligned if asked. */
union xmm sse_rm(struct soft_cpu *cpu, const struct insn *in, unsigned len,
		 bool aligned);
void sse_store(struct soft_cpu *cpu, const struct insn *in, const union xmm *v,
	       unsigned len, bool aligned);
/* Raise #XM (or #UD without CR4.OSXMMEXCPT) when an unmasked flag is set. */
bool sse_mxcsr_update(struct soft_cpu *cpu, u32 raised);

/* The hook from exec_0f(): true when the opcode was one of these. */
bool sse_exec(struct soft_cpu *cpu, struct insn *in);

#endif

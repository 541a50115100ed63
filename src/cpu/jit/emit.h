/* SPDX-License-Identifier: MIT */
/*
 * A bounded x86-64 byte emitter for the JIT (translate.c). Every byte goes
 * through emit8(), which refuses to write past the end of the space the
 * code cache granted: a translation that does not fit is marked full and
 * thrown away, never written beyond its buffer.
 *
 * Encodings: Intel SDM vol. 2, chapter 2 (ModR/M, SIB, REX) and the
 * instruction pages of MOV, ADD..CMP, Jcc, CALL.
 */
#ifndef TWOOSTWO_CPU_JIT_EMIT_H
#define TWOOSTWO_CPU_JIT_EMIT_H

#include <stddef.h>
#include <string.h>

#include "core/types.h"

/* Host registers (numbering of the ModR/M reg field plus REX bit 3). */
enum {
	H_RAX,
	H_RCX,
	H_RDX,
	H_RBX,
	H_RSP,
	H_RBP,
	H_RSI,
	H_RDI,
	H_R8,
	H_R9,
	H_R10,
	H_R11,
	H_R12,
	H_R13,
	H_R14,
	H_R15,
};

struct emit {
	u8 *buf; /* the writable view */
	size_t pos, cap;
	bool full; /* something did not fit: discard the translation */
};

static inline void emit8(struct emit *e, u8 b)
{
	if (e->pos < e->cap)
		e->buf[e->pos++] = b;
	else
		e->full = true;
}

static inline void emit32(struct emit *e, u32 v)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		emit8(e, (u8)(v >> (8 * i)));
}

static inline void emit64(struct emit *e, u64 v)
{
	emit32(e, (u32)v);
	emit32(e, (u32)(v >> 32));
}

/* REX prefix when needed: w (64-bit), r (ModR/M reg), b (rm or base). */
static inline void emit_rex(struct emit *e, bool w, unsigned r, unsigned x,
			    unsigned b)
{
	u8 rex = (u8)(0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 |
		      ((x >> 3) & 1) << 1 | ((b >> 3) & 1));

	if (rex != 0x40)
		emit8(e, rex);
}

/* op reg, [base + disp32] (base is not RSP/R12, so no SIB). */
static inline void emit_op_mem(struct emit *e, bool w, u8 op, unsigned reg,
			       unsigned base, s32 disp)
{
	emit_rex(e, w, reg, 0, base);
	emit8(e, op);
	emit8(e, (u8)(0x80 | (reg & 7) << 3 | (base & 7)));
	emit32(e, (u32)disp);
}

/* op reg, reg/rm register form. */
static inline void emit_op_rr(struct emit *e, bool w, u8 op, unsigned reg,
			      unsigned rm)
{
	emit_rex(e, w, reg, 0, rm);
	emit8(e, op);
	emit8(e, (u8)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* mov r32, imm32 (zero-extends into r64). */
static inline void emit_mov_ri(struct emit *e, unsigned r, u32 v)
{
	emit_rex(e, false, 0, 0, r);
	emit8(e, (u8)(0xb8 + (r & 7)));
	emit32(e, v);
}

static inline void emit_mov_ri64(struct emit *e, unsigned r, u64 v)
{
	emit_rex(e, true, 0, 0, r);
	emit8(e, (u8)(0xb8 + (r & 7)));
	emit64(e, v);
}

/* mov dword [base + disp32], imm32 */
static inline void emit_store_imm32(struct emit *e, unsigned base, s32 disp,
				    u32 v)
{
	emit_op_mem(e, false, 0xc7, 0, base, disp);
	emit32(e, v);
}

/* 81 /op r32, imm32 (op: 0 add, 1 or, 4 and, 5 sub, 6 xor, 7 cmp) */
static inline void emit_alu_ri(struct emit *e, bool w, unsigned op, unsigned r,
			       u32 v)
{
	emit_op_rr(e, w, 0x81, op, r);
	emit32(e, v);
}

/* C1 /op r32, imm8 (op: 4 shl, 5 shr) */
static inline void emit_shift_ri(struct emit *e, unsigned op, unsigned r, u8 n)
{
	emit_op_rr(e, false, 0xc1, op, r);
	emit8(e, n);
}

/* call through RAX to an absolute address (the helpers may be > 2 GiB away) */
static inline void emit_call_abs(struct emit *e, const void *fn)
{
	emit_mov_ri64(e, H_RAX, (u64)(uintptr_t)fn);
	emit8(e, 0xff);
	emit8(e, 0xd0);
}

/* Jcc rel32 / JMP rel32 to a label patched later: returns the rel32 site. */
static inline size_t emit_jcc_fwd(struct emit *e, unsigned cc)
{
	emit8(e, 0x0f);
	emit8(e, (u8)(0x80 | cc));
	emit32(e, 0);
	return e->pos - 4;
}

static inline size_t emit_jmp_fwd(struct emit *e)
{
	emit8(e, 0xe9);
	emit32(e, 0);
	return e->pos - 4;
}

/* Point the rel32 at site to the current position. */
static inline void emit_bind(struct emit *e, size_t site)
{
	u32 rel = (u32)(e->pos - (site + 4));

	if (!e->full && site + 4 <= e->cap)
		memcpy(e->buf + site, &rel, 4);
}

/* Jump back to an already emitted position. */
static inline void emit_jmp_back(struct emit *e, size_t target)
{
	emit8(e, 0xe9);
	emit32(e, (u32)(target - (e->pos + 4)));
}

/* x86 condition codes, as in Jcc/SETcc (the guest's are the same). */
enum { CC_E = 4, CC_NE = 5, CC_A = 7 };

#endif

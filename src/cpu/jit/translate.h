/* SPDX-License-Identifier: MIT */
/* The block translator (translate.c) and the helpers its code calls. */
#ifndef TWOOSTWO_CPU_JIT_TRANSLATE_H
#define TWOOSTWO_CPU_JIT_TRANSLATE_H

#include <stddef.h>

#include "cpu/soft/cpu.h"

/* block.h's BLOCK_MAX_LINES, without including it here */
#define BLOCK_LINES_MAX 8

struct block;

/*
 * A chainable exit of a translation: where the code continues at a known
 * EIP. Unlinked, it returns to the engine loop and leaves its number in
 * jit.pending; jit_run_block() then links it to the translation that runs
 * next by patching the code: the code epoch and host address the link is
 * good for, the CS limit the target block needs, and the jump.
 */
struct jit_slot {
	u32 target_eip;
	u32 off_epoch; /* imm32 of  cmp dword [code_epoch], imm32 */
	u32 off_host;  /* imm64 of  mov rdx, imm64 (host address of EIP) */
	u32 off_limit; /* imm32 of  cmp dword [CS.limit], imm32 */
	u32 off_jump;  /* rel32 of  jmp rel32 */
	/* In the page the block starts in: its host address is fixed by the
	 * block's own (off_host unused), and the link must go there. */
	const u8 *same_page_host;
};

#define JIT_MAX_SLOTS (1u << 17)
#define JIT_MAX_INSNS (1u << 19)

/*
 * The inline lookup of indirect exits (RET, JMP/CALL r/m): the
 * translation that ran after an indirect exit to host address host at
 * EIP eip, good while the code epoch is epoch (as for links).
 */
struct jit_ind {
	u64 host;
	const void *chain;
	u32 eip;
	u32 epoch;
	u32 need; /* CS limit the block needs */
	u8 stack32;
	u8 code32;
} __attribute__((aligned(32)));

/*
 * Translations by the block they came from, so that a block the block
 * cache evicted and decoded again (hash conflicts) gets its translation
 * back without translating: same host address, EIP, code and stack size,
 * and the same write generations of its RAM lines (the same bytes).
 */
struct jit_tc {
	const u8 *key;
	const void *code, *chain;
	u32 eip;
	u32 gen; /* the cache's flush generation */
	u32 line_gen[BLOCK_LINES_MAX];
	u16 bytes;
	u8 n, first_line, n_lines;
	bool code32, stack32;
};

#define JIT_TC_BITS 14
#define JIT_TC_SIZE (1u << JIT_TC_BITS)

#define JIT_IND_BITS 12
#define JIT_IND_SIZE (1u << JIT_IND_BITS)

static inline unsigned jit_ind_hash(u64 host)
{
	return (unsigned)((host ^ (host >> 12)) & (JIT_IND_SIZE - 1));
}

struct jit {
	u8 *rw, *rx;
	size_t size, used;
	u32 gen;     /* bumped on every flush; 0 is never current */
	u32 pending; /* slot + 1 the last run left through, 0: none */
	s32 budget;  /* instructions chained blocks may still run */
	u32 n_slots;
	struct jit_slot *slots;
	u32 n_insns;	    /* used of insns[] */
	struct insn *insns; /* copies of translated blocks' instructions */
	struct jit_tc *tc;
	u32 ind_pending; /* the last run left through an indirect exit */
	struct jit_ind *ind;
	u64 translated, reused, flushes, links;
};

/* Generated code: runs the block, returns the instructions completed. */
typedef unsigned (*jit_code_fn)(struct soft_cpu *cpu, struct tlb_entry *tlb);

/*
 * Translate b (decoded at CS:EIP = cpu->s.eip) into buf, at most cap
 * bytes, adding its exits to j->slots. Returns the bytes used, or 0 when
 * it does not fit (code or slots); *chain_entry is where chained blocks
 * jump in (past the prologue).
 */
size_t jit_translate(struct soft_cpu *cpu, struct jit *j, struct block *b,
		     u8 *buf, size_t cap, u32 *chain_entry);

/* The slow paths: the interpreter's memory access and condition test. */
u32 jit_load(struct soft_cpu *cpu, u32 seg, u32 off, u32 size);
void jit_store(struct soft_cpu *cpu, u32 seg, u32 off, u32 v, u32 size);
bool jit_cond(struct soft_cpu *cpu, u32 cc);
u32 jit_carry(struct soft_cpu *cpu);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Decoded basic blocks: a run of instructions that execute one after the
 * other, decoded together and executed by one loop without looking up
 * each instruction (see block.c).
 */
#ifndef TWOOSTWO_CPU_SOFT_BLOCK_H
#define TWOOSTWO_CPU_SOFT_BLOCK_H

#include "cpu/soft/cpu.h"

#define BLOCK_MAX_INSNS 32
/* A block covers at most this many 128-byte RAM lines (1 KiB). */
#define BLOCK_MAX_LINES 8
#define BLOCK_BITS 13
#define BLOCK_CACHE_SIZE (1u << BLOCK_BITS)

struct block {
	const u8 *key; /* host address of the first byte; NULL: empty */
	u8 code32; /* the code_mode it was decoded in */
	u8 n;	       /* instructions */
	u8 first_line; /* first RAM line, counted within the page */
	u8 n_lines;
	u16 bytes; /* from the first byte to the end of the last insn */
	u32 gen[BLOCK_MAX_LINES]; /* line generations when decoded */
	/* Its host code (cpu/jit): valid for this generation of the code
	 * cache, entry EIP and stack size; hits count runs until hot. */
	const void *jit_code;
	const void *jit_chain; /* where chained blocks jump in */
	u32 jit_gen;
	u32 jit_eip;
	bool jit_stack32;
	u8 jit_hits;
	struct insn insns[BLOCK_MAX_INSNS];
};

struct block *block_cache_alloc(void);
void block_cache_free(struct block *blocks);
/*
 * The decoded block starting at CS:EIP, or NULL when there is none to be
 * had (page not in the TLB, near a page end, a segment limit or the 64 KiB
 * wrap, or its first instruction would fault): then step one instruction.
 */
struct block *block_fetch(struct soft_cpu *cpu);

#endif

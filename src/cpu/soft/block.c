// SPDX-License-Identifier: MIT
/*
 * Decoded basic blocks.
 *
 * The instruction loop spends as much time finding the next decoded
 * instruction (icache.h: page check, hash probe, generation check) as
 * executing it. A block is decoded once from a start address up to the
 * first instruction that may leave straight-line order (a jump, call,
 * return, interrupt, I/O, mode or stack-segment change, string
 * instruction) or BLOCK_MAX_INSNS; the engine then runs it with one
 * lookup.
 *
 * Validity is the decode cache's: blocks are keyed by the host address of
 * their first byte, checked against the write generations of the RAM
 * lines they cover, and the pages they come from are code pages, so any
 * store into them bumps a generation and icache.code_epoch, which the
 * engine watches to leave a block that just modified itself.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/soft/block.h"
#include "cpu/soft/icache.h"

struct block *block_cache_alloc(void)
{
	return calloc(BLOCK_CACHE_SIZE, sizeof(struct block));
}

void block_cache_free(struct block *blocks)
{
	free(blocks);
}

static unsigned block_hash(const u8 *p)
{
	uintptr_t v = (uintptr_t)p;

	return (unsigned)((v ^ (v >> BLOCK_BITS)) & (BLOCK_CACHE_SIZE - 1));
}

/* 0F xx instructions that never leave straight-line order. */
static bool two_byte_continues(const struct insn *in)
{
	if (in->op >= 0x200) /* 0F 38, 0F 3A: SSSE3, SSE4 */
		return true;
	switch (in->op & 0xff) {
	case 0x31:	    /* RDTSC */
	case 0x40 ... 0x4f: /* CMOVcc */
	case 0x90 ... 0x9f: /* SETcc */
	case 0xa0:	    /* PUSH FS */
	case 0xa2:	    /* CPUID */
	case 0xa3 ... 0xa5: /* BT, SHLD */
	case 0xa8:	    /* PUSH GS */
	case 0xab ... 0xad: /* BTS, SHRD */
	case 0xaf:	    /* IMUL */
	case 0xb0 ... 0xb1: /* CMPXCHG */
	case 0xb3:	    /* BTR */
	case 0xb6 ... 0xb7: /* MOVZX */
	case 0xba ... 0xbf: /* BT* imm, BTC, BSF, BSR, MOVSX */
	case 0xc0 ... 0xc1: /* XADD */
	case 0xc7:	    /* CMPXCHG8B */
	case 0xc8 ... 0xcf: /* BSWAP */
	/* MMX and SSE (sse.c): straight-line, or a fault */
	case 0x10 ... 0x17:
	case 0x28 ... 0x2f:
	case 0x50 ... 0x7f:
	case 0xb8:
	case 0xc2 ... 0xc6:
	case 0xd0 ... 0xff:
		return true;
	default:
		return false;
	}
}

/*
 * Whether execution always goes on with the next instruction in memory
 * (or faults), with CS, the operand size, TF and the interrupt shadow
 * unchanged: such an instruction may be followed by more in its block.
 */
static bool insn_continues_block(const struct insn *in)
{
	if (in->op >= 0x100)
		return two_byte_continues(in);
	switch (in->op) {
	case 0x00 ... 0x3f:
		/* ALU, segment pushes, DAA...; not POP SS (an irq shadow). */
		return in->op != 0x17;
	case 0x40 ... 0x63: /* INC, DEC, PUSH, POP, PUSHA, POPA, BOUND, ARPL */
	case 0x68 ... 0x6b: /* PUSH imm, IMUL */
	case 0x80 ... 0x8d: /* ALU imm, TEST, XCHG, MOV, LEA */
	case 0x8f ... 0x99: /* POP r/m, NOP, XCHG, CBW, CWD */
	case 0x9b ... 0x9c: /* WAIT, PUSHF */
	case 0x9e ... 0xa3: /* SAHF, LAHF, MOV moffs */
	case 0xa8 ... 0xa9: /* TEST */
	case 0xb0 ... 0xc1: /* MOV imm, shifts */
	case 0xc4 ... 0xc9: /* LES, LDS, MOV imm, ENTER, LEAVE */
	case 0xd0 ... 0xdf: /* shifts, AAM, AAD, SALC, XLAT, x87 */
	case 0xf5:	    /* CMC */
	case 0xf6 ... 0xf7: /* TEST, NOT, NEG, MUL, DIV */
	case 0xf8 ... 0xfa: /* CLC, STC, CLI */
	case 0xfc ... 0xfe: /* CLD, STD, INC/DEC r/m8 */
		return true;
	case 0x8e: /* MOV Sreg: SS opens an irq shadow */
		return in->reg != S_SS;
	case 0xff: /* INC, DEC, PUSH r/m; not CALL or JMP */
		return in->reg < 2 || in->reg == 6;
	default:
		return false;
	}
}

/* Whether the RAM lines b covers are as they were when it was decoded. */
static bool block_current(const struct soft_cpu *cpu, const struct block *b)
{
	const u32 *gen = cpu->fetch_gen;
	unsigned i;

	if (!gen) /* ROM */
		return true;
	for (i = 0; i < b->n_lines; i++)
		if (gen[b->first_line + i] != b->gen[i])
			return false;
	return true;
}

/* Whether an instruction of up to 15 bytes at eip stays decodable here. */
static bool block_room_at(const struct soft_cpu *cpu, u32 eip, u32 in_page,
			  unsigned first_line)
{
	u32 last = in_page + INSN_MAX_LEN - 1;

	if (last >= MEM_PAGE_SIZE)
		return false;
	if (!cpu->code32 && eip > 0xffff - INSN_MAX_LEN)
		return false;
	if (!cpu->code64 &&
	    (u64)eip + INSN_MAX_LEN - 1 > cpu->s.seg[S_CS].limit)
		return false;
	return (last >> ICACHE_LINE_SHIFT) - first_line < BLOCK_MAX_LINES;
}

/*
 * Decode instructions from CS:EIP into b while they fit. A fault while
 * decoding (an over-long instruction) only ends the block early: the
 * instruction loop meets it again and raises it then.
 */
static unsigned block_decode(struct soft_cpu *cpu, struct block *b, u32 in_page)
{
	const u32 start = cpu->s.eip;
	const unsigned first_line = in_page >> ICACHE_LINE_SHIFT;
	volatile unsigned n = 0;
	volatile u32 eip = start;
	jmp_buf outer;

	memcpy(outer, cpu->unwind, sizeof(outer));
	if (!setjmp(cpu->unwind)) {
		while (n < BLOCK_MAX_INSNS &&
		       block_room_at(cpu, eip, in_page + (eip - start),
				     first_line)) {
			struct insn *in = &b->insns[n];

			cpu->s.eip = eip;
			decode(cpu, in);
			eip += in->len;
			n++;
			if (!insn_continues_block(in))
				break;
		}
	}
	memcpy(cpu->unwind, outer, sizeof(outer));
	cpu->s.eip = start;
	b->bytes = (u16)(eip - start);
	return n;
}

static struct block *block_build(struct soft_cpu *cpu, struct block *b,
				 const u8 *host, u32 in_page)
{
	unsigned i;

	b->key = NULL;
	b->jit_code = NULL;
	b->jit_hits = 0;
	b->n = (u8)block_decode(cpu, b, in_page);
	if (!b->n)
		return NULL;
	b->code32 = cpu->code_mode;
	b->first_line = (u8)(in_page >> ICACHE_LINE_SHIFT);
	b->n_lines = (u8)(((in_page + b->bytes - 1) >> ICACHE_LINE_SHIFT) -
			  b->first_line + 1);
	for (i = 0; i < b->n_lines; i++)
		b->gen[i] =
			cpu->fetch_gen ? cpu->fetch_gen[b->first_line + i] : 0;
	icache_mark_code(cpu, host);
	b->key = host;
	return b;
}

struct block *block_fetch(struct soft_cpu *cpu)
{
	u32 eip = cpu->s.eip;
	u64 lin = code_linear(cpu);
	u32 in_page = lin & (MEM_PAGE_SIZE - 1);
	const u8 *host;
	struct block *b;

	if ((lin & ~(u64)(MEM_PAGE_SIZE - 1)) != cpu->fetch_page &&
	    !icache_map_fetch_page(cpu))
		return NULL;
	host = cpu->fetch_host + in_page;
	b = &cpu->icache.blocks[block_hash(host)];
	if (likely(b->key == host && b->code32 == cpu->code_mode &&
		   block_current(cpu, b) &&
		   ((u64)eip + b->bytes - 1 <= cpu->s.seg[S_CS].limit ||
		    cpu->code64) &&
		   (cpu->code32 || eip + b->bytes <= 0x10000)))
		return b;
	return block_build(cpu, b, host, in_page);
}

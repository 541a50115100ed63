/* SPDX-License-Identifier: MIT */
/*
 * The decoded-instruction cache's fast path, inlined into the instruction
 * loop: one hash probe while execution stays in the same code page.
 */
#ifndef TWOOSTWO_CPU_SOFT_ICACHE_H
#define TWOOSTWO_CPU_SOFT_ICACHE_H

#include "cpu/soft/cpu.h"

/* Longest x86 instruction: an entry can reach this far past its start. */
#define INSN_MAX_LEN 15

static inline unsigned icache_hash(const u8 *p)
{
	uintptr_t v = (uintptr_t)p;

	return (unsigned)((v ^ (v >> ICACHE_BITS)) & (ICACHE_SIZE - 1));
}

/* The decoded instruction at CS:EIP, or NULL: decode it directly. */
static inline __attribute__((always_inline)) struct insn *
icache_fetch(struct soft_cpu *cpu)
{
	u32 eip = cpu->s.eip;
	u64 lin = code_linear(cpu);
	u32 in_page = lin & 0xfff;
	const struct icache_entry *e;
	const u8 *host;
	u32 gen;

	if (unlikely((lin & ~(u64)0xfff) != cpu->fetch_page ||
		     in_page > MEM_PAGE_SIZE - INSN_MAX_LEN ||
		     (!cpu->code32 && eip > 0xffff - INSN_MAX_LEN)))
		return icache_fetch_slow(cpu);
	host = cpu->fetch_host + in_page;
	gen = cpu->fetch_gen ? cpu->fetch_gen[in_page >> ICACHE_LINE_SHIFT]
			     : 0;
	e = &cpu->icache.entries[icache_hash(host)];
	if (likely(e->key == host && e->gen == gen &&
		   e->code32 == cpu->code_mode &&
		   (eip + e->in.len - 1 <= cpu->s.seg[S_CS].limit ||
		    is_8086(cpu) || cpu->code64)))
		return (struct insn *)&e->in;
	return icache_fetch_slow(cpu);
}

#endif

// SPDX-License-Identifier: MIT
/*
 * The decoded-instruction cache (see struct icache in cpu.h).
 *
 * Invariant that makes self-modifying code safe: a RAM page from which an
 * instruction was cached is a "code page", and a code page is never in the
 * TLB's write set, so every store into it takes the slow path, which calls
 * icache_note_write(). Device DMA reaches the same function through the
 * memory listener.
 */
#include <stdlib.h>

#include "cpu/soft/block.h"
#include "cpu/soft/icache.h"

int icache_init(struct soft_cpu *cpu)
{
	struct icache *ic = &cpu->icache;
	const struct phys_mem *mem = cpu->env.mem;

	ic->ram = mem->ram;
	ic->ram_size = mem->ram_size;
	ic->entries = calloc(ICACHE_SIZE, sizeof(*ic->entries));
	ic->line_gen =
		calloc((ic->ram_size >> ICACHE_LINE_SHIFT) + 1, sizeof(u32));
	ic->code_page = calloc((ic->ram_size >> MEM_PAGE_SHIFT) + 1, 1);
	ic->blocks = block_cache_alloc();
	if (!ic->entries || !ic->line_gen || !ic->code_page || !ic->blocks) {
		icache_free(cpu);
		return -1;
	}
	return 0;
}

void icache_free(struct soft_cpu *cpu)
{
	struct icache *ic = &cpu->icache;

	free(ic->entries);
	free(ic->line_gen);
	free(ic->code_page);
	block_cache_free(ic->blocks);
	*ic = (struct icache){0};
}

/* Offset of p in guest RAM, or UINT64_MAX (ROM, or no RAM). */
static u64 icache_ram_offset(const struct icache *ic, const u8 *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)ic->ram;

	return ic->ram && off < ic->ram_size ? off : UINT64_MAX;
}

bool icache_is_code_page(const struct soft_cpu *cpu, const u8 *host_page)
{
	const struct icache *ic = &cpu->icache;
	u64 off = icache_ram_offset(ic, host_page);

	return off != UINT64_MAX && ic->code_page[off >> MEM_PAGE_SHIFT];
}

/* First cached instruction in a page: stores to it must now notify. */
static void icache_mark_code_page(struct soft_cpu *cpu, u64 off)
{
	struct icache *ic = &cpu->icache;
	uintptr_t page = (uintptr_t)ic->ram + (off & ~(u64)(MEM_PAGE_SIZE - 1));
	unsigned u, i;

	ic->code_page[off >> MEM_PAGE_SHIFT] = 1;
	for (u = 0; u < 2; u++) {
		for (i = 0; i < TLB_SIZE; i++) {
			struct tlb_entry *e = &cpu->tlb[u][i];

			if (!(e->write_tag & (TLB_INVALID | TLB_CODE)) &&
			    e->addend + e->write_tag == page)
				e->write_tag |= TLB_CODE;
		}
	}
}

void icache_note_write(struct soft_cpu *cpu, const u8 *p, u64 len)
{
	struct icache *ic = &cpu->icache;
	u64 off = icache_ram_offset(ic, p), first, last, page, line;

	if (off == UINT64_MAX || !len)
		return;
	len = MIN(len, ic->ram_size - off);
	for (page = off >> MEM_PAGE_SHIFT;
	     page <= (off + len - 1) >> MEM_PAGE_SHIFT; page++)
		if (ic->code_page[page])
			break;
	if (page > (off + len - 1) >> MEM_PAGE_SHIFT)
		return;
	/* An instruction starting up to 14 bytes earlier may cover p. */
	first = (off >= INSN_MAX_LEN - 1 ? off - (INSN_MAX_LEN - 1) : 0) >>
		ICACHE_LINE_SHIFT;
	last = (off + len - 1) >> ICACHE_LINE_SHIFT;
	for (line = first; line <= last; line++)
		ic->line_gen[line]++;
	ic->code_epoch++;
}

bool icache_map_fetch_page(struct soft_cpu *cpu)
{
	struct icache *ic = &cpu->icache;
	u64 lin = code_linear(cpu);
	u64 page = lin & ~(u64)(MEM_PAGE_SIZE - 1);
	const struct tlb_entry *t;
	const u8 *host;
	u64 off;

	t = &cpu->tlb[cpu->cpl == 3][(lin >> 12) & (TLB_SIZE - 1)];
	if (t->exec_tag != page)
		return false;
	host = (const u8 *)(t->addend + page);
	off = icache_ram_offset(ic, host);
	cpu->fetch_page = page;
	cpu->fetch_host = host;
	cpu->fetch_gen = off == UINT64_MAX ?
				 NULL :
				 &ic->line_gen[off >> ICACHE_LINE_SHIFT];
	return true;
}

void icache_mark_code(struct soft_cpu *cpu, const u8 *host)
{
	struct icache *ic = &cpu->icache;
	u64 off = icache_ram_offset(ic, host);

	if (off != UINT64_MAX && !ic->code_page[off >> MEM_PAGE_SHIFT])
		icache_mark_code_page(cpu, off);
}

/*
 * icache_fetch() (icache.h) missed: probe the TLB for the code page, then
 * look up or decode the instruction. NULL when it cannot be cached (it
 * may cross a page or the 64 KiB IP wrap, or its page is not in the TLB
 * yet): the caller decodes directly.
 */
struct insn *icache_fetch_slow(struct soft_cpu *cpu)
{
	struct icache *ic = &cpu->icache;
	const struct x86_segment *cs = &cpu->s.seg[S_CS];
	u32 eip = cpu->s.eip, in_page = code_linear(cpu) & 0xfff;
	struct icache_entry *e;
	const u8 *host;
	u32 gen;

	if ((!cpu->code32 && eip > 0xffff - INSN_MAX_LEN) ||
	    in_page > MEM_PAGE_SIZE - INSN_MAX_LEN)
		return NULL;
	if (!icache_map_fetch_page(cpu))
		return NULL;
	host = cpu->fetch_host + in_page;
	gen = cpu->fetch_gen ? cpu->fetch_gen[in_page >> ICACHE_LINE_SHIFT] : 0;
	e = &ic->entries[icache_hash(host)];
	if (likely(e->key == host && e->gen == gen &&
		   e->code32 == cpu->code_mode)) {
		if (!is_8086(cpu) && !cpu->code64 &&
		    eip + e->in.len - 1 > cs->limit)
			return NULL; /* let the decoder raise the #GP */
		return &e->in;
	}
	e->key = NULL;
	decode(cpu, &e->in);
	e->key = host;
	e->gen = gen;
	e->code32 = cpu->code_mode;
	icache_mark_code(cpu, host);
	return &e->in;
}

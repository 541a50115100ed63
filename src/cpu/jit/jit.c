// SPDX-License-Identifier: MIT
/*
 * The JIT's code cache and its entry from the engine loop.
 *
 * W^X: the cache is one memfd mapped twice, read-write for the emitter
 * and read-execute for running; no page of the process is writable and
 * executable at once, and the executable view's address is not the one
 * the emitter writes through. The emitter (emit.h) cannot write past the
 * space granted to one translation, and generated code only jumps within
 * its own translation or returns.
 *
 * Bounded: translations are appended; when the cache is full, all of them
 * are dropped at once (a generation number makes every block's pointer
 * stale) and translation starts again from the beginning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/jit/jit.h"
#include "cpu/jit/translate.h"
#include "cpu/soft/block.h"
#include "cpu/soft/exec.h"

#define JIT_CACHE_SIZE (32u << 20)
/* Room one translation may take: 32 instructions of the largest template. */
#define JIT_MAX_BLOCK_BYTES (64u << 10)

/* Instructions one entry from the engine loop may run through links. */
#define JIT_CHAIN_BUDGET 1024

enum jit_mode jit_mode = JIT_DEFAULT;
unsigned jit_hot = 4;

bool jit_wanted(void)
{
	const char *env;

	if (jit_mode != JIT_DEFAULT)
		return jit_mode == JIT_ON;
	env = getenv("TWOOSTWO_JIT");
	if (env && *env)
		return strcmp(env, "0") != 0 && strcmp(env, "off") != 0;
	return JIT_DEFAULT_ON;
}

u32 jit_load(struct soft_cpu *cpu, u32 seg, u32 off, u32 size)
{
	return mem_read_sz(cpu, (int)seg, off, size);
}

void jit_store(struct soft_cpu *cpu, u32 seg, u32 off, u32 v, u32 size)
{
	mem_write_sz(cpu, (int)seg, off, v, size);
}

bool jit_cond(struct soft_cpu *cpu, u32 cc)
{
	return cond_true(cpu, cc);
}

u32 jit_carry(struct soft_cpu *cpu)
{
	return get_flag(cpu, FL_CF);
}

/*
 * The JIT's tables are large (tens of MiB) and mostly never touched: map
 * them anonymously, so untouched pages cost nothing and a vCPU created and
 * destroyed many times (the unit tests) does not pay for calloc clearing
 * memory glibc recycled from its heap.
 */
static void *jit_table_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void jit_table_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

#define JIT_TABLES(X)                                                          \
	X(slots, JIT_MAX_SLOTS)                                                \
	X(ind, JIT_IND_SIZE)                                                   \
	X(insns, JIT_MAX_INSNS)                                                \
	X(tc, JIT_TC_SIZE)

static void jit_tables_free(struct jit *j)
{
#define FREE_TABLE(f, n) jit_table_free(j->f, (n) * sizeof(*j->f));
	JIT_TABLES(FREE_TABLE)
#undef FREE_TABLE
	if (j->rw && j->rw != MAP_FAILED)
		munmap(j->rw, JIT_CACHE_SIZE);
	if (j->rx && j->rx != MAP_FAILED)
		munmap(j->rx, JIT_CACHE_SIZE);
	free(j);
}

/* The code cache: one memfd mapped read-write and read-execute (W^X). */
static int jit_map_cache(struct jit *j)
{
	int fd = memfd_create("twoostwo-jit", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, JIT_CACHE_SIZE)) {
		close(fd);
		return -errno;
	}
	j->rw = mmap(NULL, JIT_CACHE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     fd, 0);
	j->rx = mmap(NULL, JIT_CACHE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED,
		     fd, 0);
	close(fd);
	if (j->rw == MAP_FAILED || j->rx == MAP_FAILED)
		return -ENOMEM;
	return 0;
}

int jit_init(struct soft_cpu *cpu)
{
	const char *hot = getenv("TWOOSTWO_JIT_HOT"); /* for stress tests */
	struct jit *j = calloc(1, sizeof(*j));
	int ret;

	if (!j)
		return -ENOMEM;
#define ALLOC_TABLE(f, n) j->f = jit_table_alloc((n) * sizeof(*j->f));
	JIT_TABLES(ALLOC_TABLE)
#undef ALLOC_TABLE
	if (!j->slots || !j->ind || !j->insns || !j->tc) {
		jit_tables_free(j);
		return -ENOMEM;
	}
	ret = jit_map_cache(j);
	if (ret) {
		jit_tables_free(j);
		return ret;
	}
	if (hot && *hot)
		jit_hot = (unsigned)strtoul(hot, NULL, 0);
	j->size = JIT_CACHE_SIZE;
	j->gen = 1;
	cpu->jit = j;
	return 0;
}

void jit_free(struct soft_cpu *cpu)
{
	struct jit *j = cpu->jit;

	if (!j)
		return;
	if (getenv("TWOOSTWO_JIT_STATS"))
		fprintf(stderr,
			"jit: %llu translations, %llu reused, %llu links, "
			"%llu flushes, %zu KiB of code in use\n",
			(unsigned long long)j->translated,
			(unsigned long long)j->reused,
			(unsigned long long)j->links,
			(unsigned long long)j->flushes, j->used >> 10);
	jit_tables_free(j);
	cpu->jit = NULL;
}

void jit_flush(struct soft_cpu *cpu)
{
	struct jit *j = cpu->jit;

	if (!j)
		return;
	j->used = 0;
	j->n_slots = 0;
	j->n_insns = 0;
	j->pending = 0;
	j->ind_pending = 0;
	memset(j->ind, 0, JIT_IND_SIZE * sizeof(*j->ind));
	j->flushes++;
	if (++j->gen == 0)
		j->gen = 1;
}

static unsigned jit_tc_hash(const u8 *key, u32 eip)
{
	uintptr_t v = (uintptr_t)key ^ eip;

	return (unsigned)((v ^ (v >> JIT_TC_BITS)) & (JIT_TC_SIZE - 1));
}

static void jit_tc_put(struct soft_cpu *cpu, struct jit *j,
		       const struct block *b)
{
	struct jit_tc *t = &j->tc[jit_tc_hash(b->key, b->jit_eip)];

	t->key = b->key;
	t->code = b->jit_code;
	t->chain = b->jit_chain;
	t->eip = b->jit_eip;
	t->gen = j->gen;
	memcpy(t->line_gen, b->gen, sizeof(t->line_gen));
	t->bytes = b->bytes;
	t->n = b->n;
	t->first_line = b->first_line;
	t->n_lines = b->n_lines;
	t->code32 = b->code32;
	t->stack32 = b->jit_stack32;
}

/* b was decoded again: its earlier translation, if still good. */
static bool jit_tc_get(struct soft_cpu *cpu, struct jit *j, struct block *b)
{
	const struct jit_tc *t = &j->tc[jit_tc_hash(b->key, cpu->s.eip)];

	if (t->key != b->key || t->eip != cpu->s.eip || t->gen != j->gen ||
	    t->code32 != b->code32 || t->stack32 != cpu->stack32 ||
	    t->n != b->n || t->bytes != b->bytes ||
	    t->first_line != b->first_line || t->n_lines != b->n_lines ||
	    memcmp(t->line_gen, b->gen, b->n_lines * sizeof(u32)))
		return false;
	b->jit_code = t->code;
	b->jit_chain = t->chain;
	b->jit_gen = j->gen;
	b->jit_eip = t->eip;
	b->jit_stack32 = t->stack32;
	j->reused++;
	return true;
}

/* Translate b at the cache's end (flushing it when full); false: cannot. */
static bool jit_compile(struct soft_cpu *cpu, struct jit *j, struct block *b)
{
	u32 slots = j->n_slots, chain;
	size_t n, room;

	room = MIN(j->size - j->used, (size_t)JIT_MAX_BLOCK_BYTES);
	n = jit_translate(cpu, j, b, j->rw + j->used, room, &chain);
	if (!n) {
		j->n_slots = slots;
		jit_flush(cpu);
		n = jit_translate(cpu, j, b, j->rw,
				  MIN(j->size, (size_t)JIT_MAX_BLOCK_BYTES),
				  &chain);
		if (!n) {
			j->n_slots = 0;
			return false;
		}
	}
	b->jit_code = j->rx + j->used;
	b->jit_chain = j->rx + j->used + chain;
	b->jit_gen = j->gen;
	b->jit_eip = cpu->s.eip;
	b->jit_stack32 = cpu->stack32;
	jit_tc_put(cpu, j, b);
	j->used = (j->used + n + 15) & ~(size_t)15;
	j->translated++;
	return true;
}

/*
 * Code the JIT leaves to the interpreter: everything while long mode is
 * active. 64-bit code is not translated yet, and compatibility-mode code
 * is not either: there a 32-bit result must zero the register's upper
 * half, which the templates (4-byte stores into the 8-byte registers) do
 * not do.
 */
static bool jit_declines(const struct soft_cpu *cpu)
{
	return long_mode_active(cpu);
}

static void put32_at(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

/*
 * The last run left through exit slot j->pending - 1 to CS:EIP, and b's
 * translation is what runs there: patch the exit to jump straight in
 * while the code epoch, the page's host address and CS limit are what
 * they are now (the exit checks them every time it is taken).
 */
static void jit_link(struct soft_cpu *cpu, struct jit *j, struct block *b)
{
	const struct jit_slot *s = &j->slots[j->pending - 1];
	u64 need = (u64)s->target_eip + b->bytes - 1;
	u8 *code = j->rw; /* slot offsets are from the cache's start */
	u64 host = (u64)(uintptr_t)b->key;
	u32 rel;

	if (j->pending > j->n_slots || s->target_eip != cpu->s.eip ||
	    need > 0xffffffffu)
		return;
	if (s->same_page_host && s->same_page_host != b->key)
		return;
	rel = (u32)((const u8 *)b->jit_chain - (j->rx + s->off_jump + 4));
	put32_at(code + s->off_epoch, cpu->icache.code_epoch);
	put32_at(code + s->off_limit, (u32)need);
	if (!s->same_page_host)
		memcpy(code + s->off_host, &host, 8);
	put32_at(code + s->off_jump, rel);
	j->links++;
}

/* The last run left through an indirect exit to b: remember b there. */
static void jit_remember_indirect(struct soft_cpu *cpu, struct jit *j,
				  struct block *b)
{
	u64 host = (u64)(uintptr_t)b->key;
	u64 need = (u64)cpu->s.eip + b->bytes - 1;
	struct jit_ind *e = &j->ind[jit_ind_hash(host)];

	if (need > 0xffffffffu)
		return;
	*e = (struct jit_ind){
		host,	   b->jit_chain, cpu->s.eip, cpu->icache.code_epoch,
		(u32)need, cpu->stack32, cpu->code32};
}

unsigned jit_run_block(struct soft_cpu *cpu, struct block *b)
{
	struct jit *j = cpu->jit;
	u64 before = cpu->icount;
	unsigned n;

	if (jit_declines(cpu))
		return 0;
	if (!(b->jit_code && b->jit_gen == j->gen && b->jit_eip == cpu->s.eip &&
	      b->jit_stack32 == cpu->stack32) &&
	    !jit_tc_get(cpu, j, b)) {
		if (b->jit_hits < jit_hot) {
			b->jit_hits++;
			return 0;
		}
		if (!jit_compile(cpu, j, b))
			return 0;
	}
	if (j->pending) {
		jit_link(cpu, j, b);
		j->pending = 0;
	}
	if (j->ind_pending) {
		jit_remember_indirect(cpu, j, b);
		j->ind_pending = 0;
	}
	j->budget = JIT_CHAIN_BUDGET;
	/* the code points cpu->block_insns at its copy of b->insns */
	n = ((jit_code_fn)b->jit_code)(cpu, cpu->tlb[cpu->cpl == 3]);
	cpu->block_insns = NULL;
	cpu->icount += n;
	return (unsigned)(cpu->icount - before);
}

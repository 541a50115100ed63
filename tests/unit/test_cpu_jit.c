// SPDX-License-Identifier: MIT
/*
 * The JIT (src/cpu/jit) against the interpreter, its reference: random
 * blocks of the integer subset the JIT translates (and of instructions it
 * hands to their executors) run from random register, flag and memory
 * states, once interpreted and once translated (jit_hot = 0: every block
 * on its first run), and the two machines must end identical: registers,
 * EFLAGS with the lazy flags materialized, EIP, CR2, the data and the
 * stack. Paging is on with one page not present and one read-only, and FS
 * has a short limit, so blocks also end in #PF and #GP halfway through;
 * the exception stubs halt, so the frame, the faulting EIP and ESP are
 * compared too.
 *
 * Then self-modifying code: a store into the running block, into the
 * block a branch chains to, through a second virtual mapping of the same
 * page, and DMA into code (the memory API's write notification).
 *
 * JIT_DIFF_PROGRAMS=N runs N random programs instead of the default.
 */
#include <stdlib.h>

#include "cpu/jit/jit.h"
#include "cpu/soft/cpu.h"
#include "cpu_rig.h"

#define PROGRAMS 1500
#define DATA_SPAN 0x3000u /* DATA .. DATA+0x3000: mapped, absent, RO */
#define PAGE_ABSENT (DATA + 0x1000u)
#define PAGE_RO (DATA + 0x2000u)
#define FS_LIMIT (DATA + 0x800u)
#define SEL_FS_SHORT SEL_FREE
#define STACK_TOP (STACK0 - 0x100u)

static u32 rnd_state;

static u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static u32 rnd_value(void)
{
	static const u32 edges[] = {0,		1,     0xffffffff, 0x80000000,
				    0x7fffffff, 0x80,  0x7f,	   0xff,
				    0x8000,	0xffff};
	u32 r = rnd();

	return r % 3 ? rnd() : edges[r % (sizeof(edges) / sizeof(edges[0]))];
}

/* Registers a random instruction may write: not ESP or EBX (the base). */
static unsigned rnd_dst(void)
{
	static const u8 regs[] = {R_EAX, R_ECX, R_EDX, R_EBP, R_ESI, R_EDI};

	return regs[rnd() % sizeof(regs)];
}

static unsigned rnd_src(void)
{
	return rnd() % 8;
}

struct prog {
	u8 b[512];
	unsigned n;
};

static void put(struct prog *p, u8 v)
{
	if (p->n < sizeof(p->b))
		p->b[p->n++] = v;
}

static void put32(struct prog *p, u32 v)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		put(p, (u8)(v >> (8 * i)));
}

/* A memory operand with reg field r: [ebx+d8], [ebx+esi*s+d8], [ebx]. */
static void put_mem(struct prog *p, unsigned r)
{
	switch (rnd() % 4) {
	case 0:
		put(p, MODRM(0, r, R_EBX));
		break;
	case 1:
		put(p, MODRM(1, r, 4));
		put(p, SIB(rnd() % 4, R_ESI, R_EBX));
		put(p, (u8)(rnd() & 0x7c));
		break;
	default:
		put(p, MODRM(1, r, R_EBX));
		put(p, (u8)(rnd() & 0xfc));
		break;
	}
}

static void put_prefix_fs(struct prog *p)
{
	if (rnd() % 6 == 0)
		put(p, 0x64);
}

/* One random instruction of the JIT's subset or next to it. */
static void put_insn(struct prog *p)
{
	static const u8 alu_rr[] = {0x01, 0x09, 0x11, 0x19, 0x21, 0x29,
				    0x31, 0x39, 0x03, 0x0b, 0x23, 0x2b,
				    0x33, 0x3b, 0x85, 0x89, 0x8b};
	static const u8 alu_rm[] = {0x03, 0x0b, 0x23, 0x2b, 0x33,
				    0x3b, 0x39, 0x85, 0x13, 0x01};
	static const u8 eax_imm[] = {0x05, 0x0d, 0x25, 0x2d, 0x35, 0x3d, 0xa9};
	unsigned k = rnd() % 24, d = rnd_dst();

	switch (k) {
	case 0 ... 3:
		put(p, alu_rr[rnd() % sizeof(alu_rr)]);
		/* rm is the destination of 01..39/89, reg of 03..3B/8B */
		put(p, MODRM(3, d, d));
		p->b[p->n - 1] = (p->b[p->n - 2] & 2) ? MODRM(3, d, rnd_src()) :
							MODRM(3, rnd_src(), d);
		break;
	case 4 ... 5:
		put(p, rnd() & 1 ? 0x81 : 0x83);
		put(p, MODRM(3, rnd() % 8, d));
		if (p->b[p->n - 2] == 0x81)
			put32(p, rnd_value());
		else
			put(p, (u8)rnd());
		break;
	case 6:
		put(p, eax_imm[rnd() % sizeof(eax_imm)]);
		put32(p, rnd_value());
		break;
	case 7:
		put(p, (u8)(0xb8 + d));
		put32(p, rnd_value());
		break;
	case 8: /* lea, 32- or 16-bit addressing */
		if (rnd() & 1) {
			put(p, 0x8d);
			put_mem(p, d);
		} else {
			put(p, 0x67);
			put(p, 0x8d);
			put(p, MODRM(1, d, rnd() % 8 == 4 ? 6 : rnd() % 8));
			put(p, (u8)rnd());
		}
		break;
	case 9: /* movzx r, r8 / r16 */
		put(p, 0x0f);
		put(p, rnd() & 1 ? 0xb6 : 0xb7);
		put(p, MODRM(3, d, rnd_src()));
		break;
	case 10 ... 12: /* loads */
		put_prefix_fs(p);
		switch (rnd() % 5) {
		case 0:
			put(p, 0x8b);
			break;
		case 1:
			put(p, 0x8a);
			d = rnd() % 4 == 0 ? 4 + d % 4 : d % 4; /* AL..BH */
			if (d % 4 == R_EBX || d % 4 == R_ESP)
				d = R_EAX;
			break;
		case 2:
			put(p, 0x0f);
			put(p, rnd() & 1 ? 0xb6 : 0xb7);
			break;
		default:
			put(p, alu_rm[rnd() % sizeof(alu_rm)]);
			break;
		}
		put_mem(p, d);
		break;
	case 13: /* cmp [m], imm */
		put_prefix_fs(p);
		put(p, 0x83);
		put_mem(p, 7);
		put(p, (u8)rnd());
		break;
	case 14 ... 15: /* stores */
		put_prefix_fs(p);
		switch (rnd() % 3) {
		case 0:
			put(p, 0x89);
			put_mem(p, rnd_src());
			break;
		case 1:
			put(p, 0x88);
			put_mem(p, rnd_src());
			break;
		default:
			put(p, 0xc7);
			put_mem(p, 0);
			put32(p, rnd_value());
			break;
		}
		break;
	case 16:
		put(p, (u8)(0x50 + rnd_src()));
		break;
	case 17:
		put(p, (u8)(0x58 + d));
		break;
	case 18:
		put(p, (u8)((rnd() & 1 ? 0x40 : 0x48) + d));
		break;
	case 19: /* shifts (executor calls) */
		put(p, 0xc1);
		put(p, MODRM(3, 4 + rnd() % 4, d));
		put(p, (u8)rnd());
		break;
	case 20: /* imul, setcc, cmov: executor calls reading flags */
		put(p, 0x0f);
		switch (rnd() % 3) {
		case 0:
			put(p, 0xaf);
			break;
		case 1:
			put(p, (u8)(0x90 + rnd() % 16));
			d = d % 4 == R_EBX ? R_EAX : d % 4;
			break;
		default:
			put(p, (u8)(0x40 + rnd() % 16));
			break;
		}
		put(p, MODRM(3, d, rnd_src()));
		break;
	case 21: /* add [m], r: read-modify-write through the executor */
		put(p, 0x01);
		put_mem(p, rnd_src());
		break;
	default:
		put(p, 0x90);
		break;
	}
}

/*
 * count instructions, maybe a Jcc over one INC, then pushf; hlt. In
 * 16-bit code most instructions get a 0x66 prefix (32-bit operands, the
 * translated forms).
 */
static void make_prog(struct prog *p, unsigned count, bool code16)
{
	unsigned i;

	p->n = 0;
	for (i = 0; i < count; i++) {
		if (code16 ? rnd() % 4 != 0 : rnd() % 8 == 0)
			put(p, 0x66); /* 32-bit operands in 16-bit code */
		if (code16) /* the generator's ModR/M forms are 32-bit */
			put(p, 0x67);
		put_insn(p);
	}
	if (rnd() & 1) {
		if (rnd() & 1) {
			put(p, (u8)(0x70 + rnd() % 16));
			put(p, 1);
		} else {
			put(p, 0x0f);
			put(p, (u8)(0x80 + rnd() % 16));
			put(p, 1);
			put(p, 0);
			if (!code16) {
				put(p, 0);
				put(p, 0);
			}
		}
		put(p, 0x41);
	}
	put(p, 0x9c);
	put(p, HLT);
}

struct outcome {
	struct x86_state st;
	enum vcpu_exit exit;
	u8 data[DATA_SPAN];
	u8 stack[512];
};

static u32 setup_paging(struct rig *r)
{
	u32 cr3 = rig_paging32(r);

	rig_map(r, cr3, PAGE_ABSENT, PAGE_ABSENT, 0);
	rig_map(r, cr3, PAGE_RO, PAGE_RO, PG_P);
	return cr3;
}

static void run_prog(const struct prog *p, const struct x86_state *s0,
		     const u8 *data, bool jit, bool code16, struct outcome *out)
{
	struct x86_state s = *s0;
	struct rig r;

	jit_mode = jit ? JIT_ON : JIT_OFF;
	jit_hot = 0;
	rig_open(&r);
	rig_desc(&r, SEL_FS_SHORT, 0, FS_LIMIT, A_DATA | A_DB);
	s.cr3 = setup_paging(&r);
	s.cr0 |= CR0_PG | CR0_WP;
	rig_write(&r, DATA, data, DATA_SPAN);
	rig_write(&r, CODE, p->b, p->n);
	if (code16) { /* 16-bit code at CODE, data at DATA */
		s.seg[S_CS] = rig_seg(SEL_CODE16, CODE, 0xffff, A_CODE | 1);
		s.eip = 0;
		s.seg[S_DS] = s.seg[S_ES] =
			rig_seg(SEL_DATA0, DATA, 0xffff, A_DATA | 1);
	}
	rig_run_state(&r, &s);
	out->st = r.st;
	out->exit = r.exit;
	memcpy(out->data, r.mem.ram + DATA, DATA_SPAN);
	memcpy(out->stack, r.mem.ram + STACK0 - sizeof(out->stack),
	       sizeof(out->stack));
	rig_close(&r);
	jit_mode = JIT_DEFAULT;
}

static bool same_outcome(const struct outcome *a, const struct outcome *b)
{
	return a->exit == b->exit &&
	       !memcmp(a->st.gpr, b->st.gpr, sizeof(a->st.gpr)) &&
	       a->st.eflags == b->st.eflags && a->st.eip == b->st.eip &&
	       a->st.cr2 == b->st.cr2 &&
	       !memcmp(a->data, b->data, sizeof(a->data)) &&
	       !memcmp(a->stack, b->stack, sizeof(a->stack));
}

static void random_state(struct x86_state *s)
{
	struct rig r;
	unsigned i;

	rig_open(&r);
	rig_pm_state(&r, s);
	rig_close(&r);
	for (i = 0; i < 8; i++)
		s->gpr[i] = rnd_value();
	s->gpr[R_ESP] = STACK_TOP;
	s->gpr[R_EBX] = DATA + (rnd() % DATA_SPAN & ~3u) - (rnd() & 0x80);
	if (rnd() % 4)
		s->gpr[R_EBX] = DATA + (rnd() & 0xffc);
	s->gpr[R_ESI] &= rnd() % 4 ? 0x1f : 0xffffffff;
	s->eflags = 2 | (rnd() & 0x8d5);
	s->seg[S_FS] = rig_seg(SEL_FS_SHORT, 0, FS_LIMIT, A_DATA | A_DB | 1);
}

static void test_random_blocks_match_interpreter(void)
{
	const char *env = getenv("JIT_DIFF_PROGRAMS");
	const char *only = getenv("JIT_DIFF_ONLY");
	unsigned n = env ? (unsigned)strtoul(env, NULL, 0) : PROGRAMS;
	unsigned i, bad = 0, faults = 0, endless = 0;
	static u8 data[DATA_SPAN];

	rnd_state = 0x9e3779b9;
	for (i = 0; i < n; i++) {
		struct outcome a, b;
		struct x86_state s;
		struct prog p;
		unsigned k;

		bool code16 = rnd() % 4 == 0;

		make_prog(&p, 1 + rnd() % 28, code16);
		for (k = 0; k < DATA_SPAN; k++)
			data[k] = (u8)rnd_value();
		random_state(&s);
		if (only && i != (unsigned)strtoul(only, NULL, 0))
			continue; /* JIT_DIFF_ONLY=N: program N alone */
		run_prog(&p, &s, data, false, code16, &a);
		run_prog(&p, &s, data, true, code16, &b);
		faults += a.st.eip - 1 >= STUBS && a.st.eip - 1 < STUBS + 4096;
		if (a.exit != VCPU_EXIT_HALT || b.exit != VCPU_EXIT_HALT) {
			endless++; /* stopped by the time limit: anywhere */
			continue;
		}
		if (!same_outcome(&a, &b)) {
			if (bad < 3) {
				fprintf(stderr,
					"  program %u: interp exit %d eip %#x "
					"eflags %#x eax %#llx; jit exit %d "
					"eip %#x eflags %#x eax %#llx\n  code:",
					i, a.exit, a.st.eip, a.st.eflags,
					(unsigned long long)a.st.gpr[R_EAX],
					b.exit, b.st.eip, b.st.eflags,
					(unsigned long long)b.st.gpr[R_EAX]);
				for (k = 0; k < p.n; k++)
					fprintf(stderr, " %02x", p.b[k]);
				fprintf(stderr, "\n");
			}
			bad++;
		}
	}
	fprintf(stderr,
		"  %u programs, %u ended in an exception, %u did not halt\n", n,
		faults, endless);
	CHECK(endless < n / 50);
	CHECK(faults > n / 20); /* the fault paths were exercised */
	CHECK_EQ(bad, 0);
}

/* A fresh rig whose soft CPU translates every block on its first run. */
static void jit_rig_open(struct rig *r)
{
	jit_mode = JIT_ON;
	jit_hot = 0;
	rig_open(r);
	jit_mode = JIT_DEFAULT;
}

/* A store into the block that is running: the rest of it is re-decoded. */
static void test_smc_running_block(void)
{
	struct rig r;

	jit_rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 2),
	     /* again: mov dword [CODE+16], 0x22222222: the next imm32 */
	     STORE_I(CODE + 16, 0x22222222), MOV_RI(R_EAX, 0x11111111), LOG_EAX,
	     0x49,	 /* dec ecx */
	     0x75, 0xec, /* jnz again */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x22222222, 0x22222222);
	rig_close(&r);
}

/*
 * A loop whose block at CODE2 (B) is reached through a linked exit; at
 * the third pass a store (to code_lin + 1, B's imm32) changes it, and the
 * next passes must run the new B.
 */
static void emit_chained_loop(struct rig *r, u32 code_lin)
{
	EMIT(r, MOV_RI(R_ECX, 5));
	rig_jmp(r, CODE2);			    /* loop: CODE+5 */
	EMIT(r, STORE_I(code_lin + 1, 0x22222222)); /* CODE+10 */
	rig_jmp(r, CODE + 5);			    /* CODE+20 */
	EMIT(r, HLT);				    /* done: CODE+25 */
	rig_org(r, CODE2);
	EMIT(r, MOV_RI(R_EAX, 0x11111111), LOG_EAX, 0x49, /* dec ecx */
	     0x0f, 0x84, D32(CODE + 25 - (CODE2 + 14)),	  /* jz done */
	     0x83, 0xf9, 0x02,				  /* cmp ecx, 2 */
	     0x0f, 0x84, D32(CODE + 10 - (CODE2 + 23)));  /* je store */
	rig_jmp(r, CODE + 5);
}

static void test_smc_chained_successor(void)
{
	struct rig r;

	jit_rig_open(&r);
	emit_chained_loop(&r, CODE2);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x11111111, 0x11111111, 0x11111111, 0x22222222,
		   0x22222222);
	rig_close(&r);
}

/* The same store through a second linear mapping of B's page. */
static void test_smc_second_mapping(void)
{
	const u32 alias = 0x400000;
	struct x86_state s;
	struct rig r;
	u32 cr3;

	jit_rig_open(&r);
	cr3 = rig_paging32(&r);
	rig_map(&r, cr3, alias, CODE2, PG_P | PG_W);
	emit_chained_loop(&r, alias);
	rig_pm_state(&r, &s);
	s.cr3 = cr3;
	s.cr0 |= CR0_PG;
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x11111111, 0x11111111, 0x11111111, 0x22222222,
		   0x22222222);
	rig_close(&r);
}

/*
 * A RET returns through the JIT's table of indirect targets to a block
 * that a store then changes: the table entry must not outlive it.
 */
static void test_smc_return_target(void)
{
	struct rig r;

	jit_rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 5));
	rig_call(&r, CODE2);				/* loop: CODE+5 */
	EMIT(&r, MOV_RI(R_EDX, 0x11111111), LOG(R_EDX), /* CODE+10 */
	     0x49,					/* dec ecx */
	     0x0f, 0x84, D32(CODE + 50 - (CODE + 26)),	/* jz done */
	     0x83, 0xf9, 0x02,				/* cmp ecx, 2 */
	     0x0f, 0x85, D32(CODE + 5 - (CODE + 35)),	/* jne loop */
	     STORE_I(CODE + 11, 0x22222222));
	rig_jmp(&r, CODE + 5);
	EMIT(&r, HLT); /* done: CODE+50 */
	rig_org(&r, CODE2);
	EMIT(&r, 0x90, 0xc3); /* nop; ret */
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x11111111, 0x11111111, 0x11111111, 0x22222222,
		   0x22222222);
	rig_close(&r);
}

/* DMA (a disk read, say) over code that was translated and linked. */
static void test_smc_dma(void)
{
	static const u8 imm[4] = {0x22, 0x22, 0x22, 0x22};
	struct rig r;

	jit_rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 3), MOV_RI(R_EAX, 0x11111111), /* loop */
	     LOG_EAX, 0x49,				      /* dec ecx */
	     0x75, 0xf6,				      /* jnz loop */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	mem_dma_write(&r.mem, CODE + 6, imm, sizeof(imm));
	r.st.eip = CODE;
	rig_resume(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x11111111, 0x11111111, 0x11111111, 0x22222222,
		   0x22222222, 0x22222222);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_random_blocks_match_interpreter);
	RUN_TEST(test_smc_running_block);
	RUN_TEST(test_smc_chained_successor);
	RUN_TEST(test_smc_second_mapping);
	RUN_TEST(test_smc_return_target);
	RUN_TEST(test_smc_dma);
	return unit_summary();
}

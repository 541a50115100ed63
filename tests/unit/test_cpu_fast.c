// SPDX-License-Identifier: MIT
/*
 * The soft CPU's fast paths (src/cpu/soft/fast.c) and decoded blocks
 * (block.c) against exec(), the reference: each instruction below runs
 * from many random register, flag and memory states twice, once with the
 * fast paths and once through exec() alone (soft_fast_paths = false), and
 * the two machines must end identical: every register, EFLAGS with the
 * lazily computed flags materialized, EIP, and the data they wrote.
 * Each case is a flag producer, the instruction, then a consumer of its
 * flags (PUSHF), so lazily recorded flags are checked too.
 */
#include "cpu/soft/cpu.h"
#include "cpu_rig.h"

#define DATA_BYTES 256
#define SEEDS 40

struct fast_case {
	const char *name;
	u8 bytes[12];
	unsigned len;
};

/* clang-format off */
#define C(name, ...) { name, { __VA_ARGS__ }, sizeof((u8[]){ __VA_ARGS__ }) }
static const struct fast_case cases[] = {
	C("add r,r", 0x01, 0xd8), C("or r,r", 0x09, 0xd8),
	C("adc r,r", 0x11, 0xd8), C("sbb r,r", 0x19, 0xd8),
	C("and r,r", 0x21, 0xd8), C("sub r,r", 0x29, 0xd8),
	C("xor r,r", 0x31, 0xd8), C("cmp r,r", 0x39, 0xd8),
	C("add m,r", 0x01, 0x03), C("sub r,m", 0x2b, 0x03),
	C("cmp m,r", 0x39, 0x03), C("adc r,m", 0x13, 0x03),
	C("add r,imm8", 0x83, 0xc0, 0xf0), C("cmp r,imm32", 0x81, 0xf9, 0x78,
					     0x56, 0x34, 0x12),
	C("and m,imm8", 0x83, 0x23, 0x7f), C("sbb m,imm32", 0x81, 0x1b, 1, 2,
					     3, 0x84),
	C("test r,r", 0x85, 0xd8), C("test m,r", 0x85, 0x03),
	C("mov m,r", 0x89, 0x03), C("mov r,m", 0x8b, 0x03),
	C("mov r,r", 0x89, 0xd8), C("mov r,r'", 0x8b, 0xd8),
	C("mov m8,r8", 0x88, 0x23), C("mov r8,m8", 0x8a, 0x3b),
	C("mov m,imm", 0xc7, 0x43, 0x04, 0xef, 0xbe, 0xad, 0xde),
	C("mov r,imm", 0xbe, 0x11, 0x22, 0x33, 0x44),
	C("lea", 0x8d, 0x44, 0xb3, 0x10), C("lea16", 0x67, 0x8d, 0x40, 0x10),
	C("movzx r,m8", 0x0f, 0xb6, 0x03), C("movzx r,m16", 0x0f, 0xb7, 0x03),
	C("movzx r,r8", 0x0f, 0xb6, 0xc7), C("movzx r,r16", 0x0f, 0xb7, 0xc3),
	C("inc", 0x41), C("dec", 0x4a), C("push", 0x53), C("pop", 0x5e),
	C("shl imm", 0xc1, 0xe0, 0x05), C("shr imm", 0xc1, 0xe8, 0x1f),
	C("sar imm", 0xc1, 0xf8, 0x03), C("shl 1", 0xd1, 0xe0),
	C("shr 1", 0xd1, 0xe8), C("sar 1", 0xd1, 0xf8),
	C("shl cl", 0xd3, 0xe0), C("shr cl", 0xd3, 0xea),
	C("sar cl", 0xd3, 0xfe), C("rol imm", 0xc1, 0xc0, 0x07),
	C("rcr 1", 0xd1, 0xd8), C("shl 0", 0xc1, 0xe0, 0x00),
	C("imul r,r", 0x0f, 0xaf, 0xc3), C("imul r,m", 0x0f, 0xaf, 0x03),
	C("setb r", 0x0f, 0x92, 0xc0), C("setle r", 0x0f, 0x9e, 0xc4),
	C("sete m", 0x0f, 0x94, 0x03), C("setp r", 0x0f, 0x9a, 0xc1),
	C("cmovae r,r", 0x0f, 0x43, 0xc3), C("cmovl r,m", 0x0f, 0x4c, 0x03),
	C("cmovo r,r", 0x0f, 0x40, 0xc3), C("cmovg r,m", 0x0f, 0x4f, 0x03),
	C("add r8,r8", 0x00, 0xd8), C("add r8,m8", 0x02, 0x03),
	C("sub m8,r8", 0x28, 0x23), C("cmp al,imm8", 0x3c, 0x7f),
	C("xor r8,m8", 0x32, 0x03), C("test r8,r8", 0x84, 0xd8),
	C("test m8,r8", 0x84, 0x03), C("mov m16,r16", 0x66, 0x89, 0x03),
	C("mov r16,m16", 0x66, 0x8b, 0x03), C("inc m", 0xff, 0x03),
	C("dec m", 0xff, 0x0b), C("push m", 0xff, 0x33),
};
/* clang-format on */

/* Jcc rel8 over one byte (INC ECX), for each condition. */
static const u8 jcc_short_tail[] = {0x00, 0x01, 0x41};
/* Flag producers that precede the instruction or the branch. */
static const u8 producers[][3] = {
	{0x39, 0xd8, 0x90}, /* cmp eax, ebx; nop */
	{0x85, 0xd1, 0x90}, /* test ecx, edx */
	{0x4f, 0x90, 0x90}, /* dec edi */
	{0xc1, 0xe2, 0x03}, /* shl edx, 3 */
	{0x0f, 0xaf, 0xd1}, /* imul edx, ecx */
	{0x19, 0xc8, 0x90}, /* sbb eax, ecx */
	{0x38, 0xd8, 0x90}, /* cmp al, bl */
	{0x9e, 0x90, 0x90}, /* sahf */
};
/* The same in 64-bit code, where 4F is REX: DEC EDI is FF CF there. */
static const u8 producers64[][3] = {
	{0x39, 0xd8, 0x90}, /* cmp eax, ebx; nop */
	{0x48, 0x85, 0xd1}, /* test rcx, rdx */
	{0xff, 0xcf, 0x90}, /* dec edi */
	{0x48, 0xd3, 0xe2}, /* shl rdx, cl */
	{0x0f, 0xaf, 0xd1}, /* imul edx, ecx */
	{0x48, 0x19, 0xc8}, /* sbb rax, rcx */
	{0x38, 0xd8, 0x90}, /* cmp al, bl */
	{0x9e, 0x90, 0x90}, /* sahf */
};

/*
 * 64-bit code: linear 0-2 MiB identity-mapped by 4-level paging (4 KiB
 * pages), and CS a 64-bit code segment (L set).
 */
static u32 lm_build_tables(struct rig *r)
{
	u32 pml4 = rig_page_new(r), pdpt = rig_page_new(r);
	u32 pd = rig_page_new(r), pt = rig_page_new(r), i;

	rig_wr64(r, pml4, pdpt | PG_P | PG_W | PG_U);
	rig_wr64(r, pdpt, pd | PG_P | PG_W | PG_U);
	rig_wr64(r, pd, pt | PG_P | PG_W | PG_U);
	for (i = 0; i < 512; i++)
		rig_wr64(r, pt + 8 * i, (u64)i * 4096 | PG_P | PG_W | PG_U);
	return pml4;
}

/* RIP-relative operands below point at DATA from the body's start. */
#define RIPREL 0xaa

/* clang-format off */
static const struct fast_case cases64[] = {
	C("add r64,r64", 0x48, 0x01, 0xd8), C("or r64,r64", 0x48, 0x09, 0xd8),
	C("adc r64,r64", 0x48, 0x11, 0xd8), C("sbb r64,r64", 0x48, 0x19, 0xd8),
	C("and r64,r64", 0x48, 0x21, 0xd8), C("sub r64,r64", 0x48, 0x29, 0xd8),
	C("xor r64,r64", 0x48, 0x31, 0xd8), C("cmp r64,r64", 0x48, 0x39, 0xd8),
	C("add r8,r9", 0x4d, 0x01, 0xc8), C("add r8d,r9d", 0x45, 0x01, 0xc8),
	C("add r32,r32", 0x01, 0xd8), C("sub r32,m32", 0x2b, 0x03),
	C("add m64,r", 0x48, 0x01, 0x03), C("sub r,m64", 0x48, 0x2b, 0x03),
	C("cmp m64,r", 0x48, 0x39, 0x03), C("adc r8,m64", 0x4c, 0x13, 0x03),
	C("add r64,imm8", 0x48, 0x83, 0xc0, 0xf0),
	C("cmp r64,imm32", 0x48, 0x81, 0xf9, 0x78, 0x56, 0x34, 0x92),
	C("and m64,imm8", 0x48, 0x83, 0x23, 0x7f),
	C("sbb m64,imm32", 0x48, 0x81, 0x1b, 1, 2, 3, 0x84),
	C("xor r32,imm8", 0x83, 0xf0, 0xff),
	C("test r64,r64", 0x48, 0x85, 0xd8), C("test m64,r", 0x48, 0x85, 0x03),
	C("test r32,r32", 0x85, 0xd8),
	C("mov m64,r", 0x48, 0x89, 0x03), C("mov r64,m", 0x48, 0x8b, 0x03),
	C("mov r64,r64", 0x48, 0x89, 0xd8), C("mov r8,rbx", 0x4c, 0x8b, 0xc3),
	C("mov r32,r32", 0x89, 0xd8), C("mov r32,m32", 0x8b, 0x03),
	C("mov rax,[r11]", 0x49, 0x8b, 0x03),
	C("mov rax,[r11+r14]", 0x4b, 0x8b, 0x04, 0x33),
	C("mov rax,[rip]", 0x48, 0x8b, 0x05, RIPREL),
	C("add [rip],eax", 0x01, 0x05, RIPREL),
	C("lea rax,[rip]", 0x48, 0x8d, 0x05, RIPREL),
	C("mov [rbx],ah", 0x88, 0x23), C("mov [rbx],spl", 0x40, 0x88, 0x23),
	C("mov [rbx],r8b", 0x44, 0x88, 0x03), C("mov bh,[rbx]", 0x8a, 0x3b),
	C("mov dil,[rbx]", 0x40, 0x8a, 0x3b),
	C("mov m64,imm", 0x48, 0xc7, 0x43, 0x04, 0xef, 0xbe, 0xad, 0xde),
	C("mov r64,imm32", 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff),
	C("mov r32,imm (c7)", 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff),
	C("mov rsi,imm64", 0x48, 0xbe, 1, 2, 3, 4, 5, 6, 7, 0x88),
	C("mov r14d,imm32", 0x41, 0xbe, 1, 2, 3, 4),
	C("mov r9,imm64", 0x49, 0xb9, 1, 2, 3, 4, 5, 6, 7, 0x88),
	C("lea r64", 0x48, 0x8d, 0x44, 0xb3, 0x10),
	C("lea r32", 0x8d, 0x44, 0xb3, 0x10),
	C("lea32 (67)", 0x67, 0x8d, 0x44, 0xb3, 0x10),
	C("movzx r64,m8", 0x48, 0x0f, 0xb6, 0x03),
	C("movzx r32,m16", 0x0f, 0xb7, 0x03),
	C("movsx r32,bh", 0x0f, 0xbe, 0xc7),
	C("movsx rax,dil", 0x48, 0x0f, 0xbe, 0xc7),
	C("movsx r64,r16", 0x48, 0x0f, 0xbf, 0xc3),
	C("movsx r8,m8", 0x4c, 0x0f, 0xbe, 0x03),
	C("movsx r32,m16", 0x0f, 0xbf, 0x03),
	C("movsxd r64,r32", 0x48, 0x63, 0xc3),
	C("movsxd r64,m32", 0x48, 0x63, 0x03),
	C("movsxd r8,r32", 0x4c, 0x63, 0xc3),
	C("inc r64", 0x48, 0xff, 0xc0), C("dec r32", 0xff, 0xc8),
	C("inc r8", 0x49, 0xff, 0xc0), C("inc m64", 0x48, 0xff, 0x03),
	C("dec m32", 0xff, 0x0b),
	C("push rbx", 0x53), C("push r11", 0x41, 0x53), C("pop rsi", 0x5e),
	C("pop r14", 0x41, 0x5e), C("push m64", 0xff, 0x33),
	C("push16", 0x66, 0x53),
	C("shl r64,imm", 0x48, 0xc1, 0xe0, 0x05),
	C("shr r64,63", 0x48, 0xc1, 0xe8, 0x3f),
	C("sar r64,imm", 0x48, 0xc1, 0xf8, 0x03),
	C("shl r64,1", 0x48, 0xd1, 0xe0), C("shl r64,cl", 0x48, 0xd3, 0xe0),
	C("shr r64,cl", 0x48, 0xd3, 0xea), C("sar r64,cl", 0x48, 0xd3, 0xfe),
	C("rol r64,imm", 0x48, 0xc1, 0xc0, 0x07), C("rcr r64,1", 0x48, 0xd1, 0xd8),
	C("shl r32,0", 0xc1, 0xe0, 0x00), C("shl r64,0", 0x48, 0xc1, 0xe0, 0x00),
	C("shl r32,33", 0xc1, 0xe0, 0x21), C("shr r10d,cl", 0x41, 0xd3, 0xea),
	C("imul r64,r64", 0x48, 0x0f, 0xaf, 0xc3),
	C("imul r64,m", 0x48, 0x0f, 0xaf, 0x03),
	C("imul r32,r32", 0x0f, 0xaf, 0xc3),
	C("setb al", 0x0f, 0x92, 0xc0), C("setle spl", 0x40, 0x0f, 0x9e, 0xc4),
	C("setle ah", 0x0f, 0x9e, 0xc4), C("sete r8b", 0x41, 0x0f, 0x94, 0xc0),
	C("sete m", 0x0f, 0x94, 0x03),
	C("cmovae r64", 0x48, 0x0f, 0x43, 0xc3),
	C("cmovl r32,m", 0x0f, 0x4c, 0x03), C("cmovo r32", 0x0f, 0x40, 0xc3),
	C("cmovg r64,m", 0x48, 0x0f, 0x4f, 0x03),
	C("add r8,r8", 0x00, 0xd8), C("add al,spl", 0x40, 0x00, 0xe0),
	C("add r8,m8", 0x02, 0x03), C("sub m8,r8", 0x28, 0x23),
	C("cmp al,imm8", 0x3c, 0x7f), C("xor r8b,m8", 0x44, 0x32, 0x03),
	C("test r8,r8", 0x84, 0xd8), C("test spl,spl", 0x40, 0x84, 0xe4),
	C("test m8,r8", 0x84, 0x03),
	C("mov m16,r16", 0x66, 0x89, 0x03), C("mov r16,m16", 0x66, 0x8b, 0x03),
	C("mov r8w,m16", 0x66, 0x44, 0x8b, 0x03),
	C("call rel32; pop", 0xe8, 0, 0, 0, 0, 0x59),
	C("jmp short", 0xeb, 0x02, 0xff, 0xc1),
	C("jmp near", 0xe9, 0x02, 0, 0, 0, 0xff, 0xc1),
	C("call rax", 0x48, 0x8d, 0x05, 2, 0, 0, 0, 0xff, 0xd0),
	C("push; ret", 0x48, 0x8d, 0x05, 2, 0, 0, 0, 0x50, 0xc3),
	C("jmp rax", 0x48, 0x8d, 0x05, 2, 0, 0, 0, 0xff, 0xe0),
	C("jmp [rbx]", 0x48, 0x8d, 0x05, 5, 0, 0, 0, 0x48, 0x89, 0x03,
	  0xff, 0x23),
	C("call [rbx]", 0x48, 0x8d, 0x05, 5, 0, 0, 0, 0x48, 0x89, 0x03,
	  0xff, 0x13),
};
/* clang-format on */

/* Jcc rel8 over one byte (CMC), for each condition (64-bit code). */
static const u8 jcc_short_tail64[] = {0x00, 0x01, 0xf5};

static u32 rnd_state;

static u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* A value likely to hit edge cases: 0, ±1, sign bits, or random. */
static u32 rnd_value(void)
{
	static const u32 edges[] = {0,		1,     0xffffffff, 0x80000000,
				    0x7fffffff, 0x80,  0x7f,	   0xff,
				    0x8000,	0xffff};
	u32 r = rnd();

	return r % 3 ? rnd() : edges[r % (sizeof(edges) / sizeof(edges[0]))];
}

struct outcome {
	struct x86_state st;
	enum vcpu_exit exit;
	u8 data[DATA_BYTES];
	u8 stack[64];
};

/* Run code from state s (EBX pointing into DATA) on a fresh machine. */
static void run_once(const u8 *code, unsigned len, const struct x86_state *s,
		     const u8 *data, bool fast, bool long64,
		     struct outcome *out)
{
	struct rig r;

	soft_fast_paths = fast;
	if (long64) {
		rig_open_model(&r, CPU_MODEL_X86_64);
		lm_build_tables(&r);
	} else {
		rig_open(&r);
	}
	rig_write(&r, DATA, data, DATA_BYTES);
	rig_write(&r, CODE, code, len);
	rig_run_state(&r, s);
	out->st = r.st;
	out->exit = r.exit;
	memcpy(out->data, r.mem.ram + DATA, DATA_BYTES);
	memcpy(out->stack, r.mem.ram + STACK0 - sizeof(out->stack),
	       sizeof(out->stack));
	rig_close(&r);
	soft_fast_paths = true;
}

static bool same_outcome(const struct outcome *a, const struct outcome *b)
{
	return a->exit == b->exit &&
	       !memcmp(a->st.gpr, b->st.gpr, sizeof(a->st.gpr)) &&
	       a->st.eflags == b->st.eflags && a->st.rip == b->st.rip &&
	       !memcmp(a->data, b->data, sizeof(a->data)) &&
	       !memcmp(a->stack, b->stack, sizeof(a->stack));
}

/* A 64-bit value: two edge-prone halves, or a sign-extended one. */
static u64 rnd_value64(void)
{
	u64 lo = rnd_value();

	switch (rnd() % 3) {
	case 0:
		return lo;
	case 1:
		return (u64)(s64)(s32)lo;
	default:
		return lo | (u64)rnd_value() << 32;
	}
}

/* The initial state: protected mode, or 64-bit mode (long64). */
static void random_state(struct x86_state *s, bool long64)
{
	struct rig r;
	unsigned i;

	if (long64) {
		rig_open_model(&r, CPU_MODEL_X86_64);
		rig_pm_state(&r, s);
		s->cr3 = lm_build_tables(&r);
		s->cr4 |= CR4_PAE;
		s->cr0 |= CR0_PG;
		s->efer = BIT(8) | BIT(10); /* LME, LMA */
		s->seg[S_CS] =
			rig_seg(SEL_FREE, 0, FLAT, A_CODE | SEG_ATTR_L | A_G);
		for (i = 0; i < 16; i++)
			s->gpr[i] = rnd_value64();
		s->gpr[11] = DATA + (rnd() & 0x7c); /* R11: a base */
		s->gpr[14] &= 0x0f;		    /* R14: an index */
	} else {
		rig_open(&r);
		rig_pm_state(&r, s);
		for (i = 0; i < 8; i++)
			s->gpr[i] = rnd_value();
	}
	rig_close(&r);
	s->gpr[R_ESP] = STACK0;
	s->gpr[R_EBX] = DATA + (rnd() & 0x7c);
	s->gpr[R_ESI] &= 0x0f;		 /* lea/sib index stays small */
	s->eflags = 2 | (rnd() & 0x8d5); /* CF PF AF ZF SF OF */
}

/*
 * producer; body; pushf; hlt — from a random state, fast vs exec(). In the
 * body, RIPREL stands for a rel32 that makes a RIP-relative operand (the
 * instruction's last field) point at DATA + 8.
 */
static unsigned compare_code_mode(const char *name, const u8 *body,
				  unsigned len, bool long64)
{
	unsigned seed, p, mismatches = 0;

	for (seed = 0; seed < SEEDS; seed++) {
		u8 code[48], data[DATA_BYTES];
		struct outcome slow, fast;
		struct x86_state s;
		unsigned n = 0, i;

		p = seed % (sizeof(producers) / sizeof(producers[0]));
		memcpy(code, long64 ? producers64[p] : producers[p], 3);
		n = 3;
		for (i = 0; i < len; i++) {
			if (long64 && body[i] == RIPREL && i == len - 1) {
				/* the next instruction starts at n + 4 */
				u32 rel = DATA + 8 - (CODE + n + 4);

				put_le32(code + n, rel);
				n += 4;
			} else {
				code[n++] = body[i];
			}
		}
		code[n++] = 0x9c; /* pushf */
		code[n++] = HLT;
		for (i = 0; i < DATA_BYTES; i++)
			data[i] = (u8)rnd_value();
		random_state(&s, long64);

		run_once(code, n, &s, data, false, long64, &slow);
		run_once(code, n, &s, data, true, long64, &fast);
		/* Each case runs to its HLT: no fault hides a difference. */
		if (slow.exit != VCPU_EXIT_HALT || slow.st.rip != CODE + n) {
			fprintf(stderr, "  %s: exit %d at %#llx, not the HLT\n",
				name, (int)slow.exit,
				(unsigned long long)slow.st.rip);
			mismatches++;
		}
		if (!same_outcome(&slow, &fast)) {
			if (!mismatches)
				fprintf(stderr,
					"  %s (producer %u): exec eflags %#x "
					"rax %#llx rip %#llx; fast eflags %#x "
					"rax %#llx rip %#llx\n",
					name, p, slow.st.eflags,
					(unsigned long long)slow.st.gpr[R_EAX],
					(unsigned long long)slow.st.rip,
					fast.st.eflags,
					(unsigned long long)fast.st.gpr[R_EAX],
					(unsigned long long)fast.st.rip);
			mismatches++;
		}
	}
	return mismatches;
}

static unsigned compare_code(const char *name, const u8 *body, unsigned len)
{
	return compare_code_mode(name, body, len, false);
}

static void test_fast_paths_match_exec(void)
{
	unsigned i, bad = 0;

	rnd_state = 0x2545f491;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += compare_code(cases[i].name, cases[i].bytes,
				    cases[i].len);
	CHECK_EQ(bad, 0);
}

/* The same in 64-bit code, with REX forms and RIP-relative operands. */
static void test_fast_paths_match_exec_64(void)
{
	unsigned i, bad = 0;

	rnd_state = 0x6a09e667;
	for (i = 0; i < sizeof(cases64) / sizeof(cases64[0]); i++)
		bad += compare_code_mode(cases64[i].name, cases64[i].bytes,
					 cases64[i].len, true);
	CHECK_EQ(bad, 0);
}

/* Every Jcc, short and near, after each flag producer. */
static void test_jcc_match_exec(void)
{
	unsigned cc, bad = 0, mode;

	rnd_state = 0x9e3779b9;
	for (mode = 0; mode < 2; mode++) {
		for (cc = 0; cc < 16; cc++) {
			u8 short_form[3],
				near_form[7] = {
					0x0f, (u8)(0x80 | cc),	 1, 0, 0,
					0,    mode ? 0xf5 : 0x41};
			char name[24];

			memcpy(short_form,
			       mode ? jcc_short_tail64 : jcc_short_tail,
			       sizeof(short_form));
			short_form[0] = (u8)(0x70 | cc);
			snprintf(name, sizeof(name), "j%x short%s", cc,
				 mode ? " (64)" : "");
			bad += compare_code_mode(name, short_form,
						 sizeof(short_form), mode);
			snprintf(name, sizeof(name), "j%x near%s", cc,
				 mode ? " (64)" : "");
			bad += compare_code_mode(name, near_form, 7, mode);
		}
	}
	CHECK_EQ(bad, 0);
}

/*
 * A store into the next instruction of the same block: the block must be
 * left and the new instruction run (SDM vol. 3, 11.6 self-modifying code).
 */
static void test_block_self_modifying(void)
{
	struct rig r;

	rig_open(&r);
	/* The loop runs its block twice: once decoded, once cached. */
	EMIT(&r, 0xb9, 0x02, 0, 0, 0, /* mov ecx, 2 */
	     /* again: mov byte [CODE+17], 5: the imm8 of the ADD below */
	     0xc6, 0x05, D32(CODE + 17), 0x05, 0x31, 0xc0, /* xor eax, eax */
	     0x90,					   /* nop */
	     0x83, 0xc0, 0x01, /* add eax, 1, patched to add eax, 5 */
	     LOG_EAX,	       /* out 0xe0, eax */
	     0x49,	       /* dec ecx */
	     0x75, 0xee,       /* jnz again */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 5, 5);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_fast_paths_match_exec);
	RUN_TEST(test_fast_paths_match_exec_64);
	RUN_TEST(test_jcc_match_exec);
	RUN_TEST(test_block_self_modifying);
	return unit_summary();
}

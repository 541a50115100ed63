// SPDX-License-Identifier: MIT
/*
 * Long mode in the soft CPU, the parts built so far (CPU_MODEL_X86_64):
 * EFER.LME/LMA and their activation through CR0.PG (Intel SDM vol. 3,
 * 10.8.5; AMD APM vol. 2, 14.6), and 4-level paging seen from
 * compatibility-mode code (SDM vol. 3, 4.5): 4 KiB and 2 MiB pages,
 * accessed and dirty bits at every level.
 */
#include "cpu_rig.h"

#define MSR_EFER 0xc0000080u
#define LME BIT(8)
#define LMA BIT(10)
#define CR4_PAE_BIT 0x20u
#define CR0_PG_BIT 0x80000000u

/* mov eax, cr4; or eax, PAE; mov cr4, eax */
#define SET_PAE 0x0f, 0x20, 0xe0, 0x0d, D32(CR4_PAE_BIT), 0x0f, 0x22, 0xe0
/* mov eax, cr0; or eax, PG; mov cr0, eax */
#define SET_PG 0x0f, 0x20, 0xc0, 0x0d, D32(CR0_PG_BIT), 0x0f, 0x22, 0xc0
/* mov ecx, EFER; rdmsr; or eax, LME; wrmsr */
#define SET_LME MOV_RI(R_ECX, MSR_EFER), RDMSR, 0x0d, D32(LME), WRMSR

struct lm_tables {
	u32 pml4, pdpt, pd, pt;
};

/*
 * Linear 0-2 MiB identity-mapped with 4 KiB pages, 2-4 MiB a 2 MiB page
 * aliasing physical 0-2 MiB: everything the rig uses lies below 2 MiB.
 */
static struct lm_tables lm_build_tables(struct rig *r)
{
	struct lm_tables t;
	u32 i;

	t.pml4 = rig_page_new(r);
	t.pdpt = rig_page_new(r);
	t.pd = rig_page_new(r);
	t.pt = rig_page_new(r);
	rig_wr64(r, t.pml4, t.pdpt | PG_P | PG_W | PG_U);
	rig_wr64(r, t.pdpt, t.pd | PG_P | PG_W | PG_U);
	rig_wr64(r, t.pd, t.pt | PG_P | PG_W | PG_U);
	rig_wr64(r, t.pd + 8, 0 | PG_P | PG_W | PG_PS);
	for (i = 0; i < 512; i++)
		rig_wr64(r, t.pt + 8 * i, (u64)i * 4096 | PG_P | PG_W | PG_U);
	return t;
}

/* Enter IA-32e mode from flat 32-bit code: CS stays 32-bit (compat). */
static void emit_enter_long_mode(struct rig *r, u32 pml4)
{
	EMIT(r, SET_PAE, MOV_RI(R_EAX, pml4), MOV_CR_R(3, R_EAX), SET_LME,
	     SET_PG);
}

static void test_activation_and_4level_paging(void)
{
	struct rig r;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	emit_enter_long_mode(&r, t.pml4);
	EMIT(&r, MOV_RI(R_ECX, MSR_EFER), RDMSR, LOG_EAX,
	     STORE_I(DATA, 0x12345678), /* through the 4 KiB mapping */
	     LOAD(R_EBX, DATA + 0x200000), LOG(R_EBX), /* the 2 MiB alias */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, LME | LMA, 0x12345678);
	CHECK(r.st.efer & LMA);
	/* Accessed at every level; dirty in the written leaf only. */
	CHECK(rig_rd64(&r, t.pml4) & PG_A);
	CHECK(rig_rd64(&r, t.pdpt) & PG_A);
	CHECK(rig_rd64(&r, t.pd) & PG_A);
	CHECK_EQ(rig_rd64(&r, t.pd) & PG_D, 0);
	CHECK_EQ(rig_rd64(&r, t.pt + 8 * (DATA >> 12)) & (PG_A | PG_D),
		 PG_A | PG_D);
	CHECK_EQ(rig_rd64(&r, t.pd + 8) & (PG_A | PG_D), PG_A);
	rig_close(&r);
}

/* Paging off again leaves IA-32e mode: LMA clears, LME stays. */
static void test_leave_long_mode(void)
{
	struct rig r;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	emit_enter_long_mode(&r, t.pml4);
	EMIT(&r, 0x0f, 0x20, 0xc0,   /* mov eax, cr0 */
	     0x25, D32(~CR0_PG_BIT), /* and eax, ~PG */
	     0x0f, 0x22, 0xc0,	     /* mov cr0, eax */
	     MOV_RI(R_ECX, MSR_EFER), RDMSR, LOG_EAX, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, LME);
	rig_close(&r);
}

/* CR0.PG with EFER.LME but CR4.PAE clear: #GP(0), nothing changes. */
static void test_activation_needs_pae(void)
{
	struct rig r;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	EMIT(&r, MOV_RI(R_EAX, t.pml4), MOV_CR_R(3, R_EAX), SET_LME, SET_PG,
	     HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(r.st.efer, LME);
	CHECK_EQ(r.st.cr0 & CR0_PG, 0);
	rig_close(&r);
}

/* EFER.LME cannot change while paging is on: #GP(0). */
static void test_lme_locked_while_paging(void)
{
	struct rig r;
	u32 cr3;

	rig_open_model(&r, CPU_MODEL_X86_64);
	cr3 = rig_paging32(&r);
	EMIT(&r, MOV_RI(R_EAX, cr3), MOV_CR_R(3, R_EAX), SET_PG, SET_LME, HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(r.st.efer, 0);
	rig_close(&r);
}

/* LMA is read-only: writing it is ignored, as the SDM says. */
static void test_lma_read_only(void)
{
	struct rig r;

	rig_open_model(&r, CPU_MODEL_X86_64);
	EMIT(&r, MOV_RI(R_ECX, MSR_EFER), MOV_RI(R_EDX, 0),
	     MOV_RI(R_EAX, LMA | BIT(0)), WRMSR, RDMSR, LOG_EAX, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, BIT(0)); /* SCE kept, LMA not set */
	rig_close(&r);
}

/* The P6 model has no long mode: LME and SCE are reserved there. */
static void test_p6_has_no_lme(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, MSR_EFER), MOV_RI(R_EDX, 0),
	     MOV_RI(R_EAX, BIT(0)), WRMSR, HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(r.st.efer, 0);
	rig_close(&r);
}

/* mov ecx, msr; mov edx, hi; mov eax, lo; wrmsr */
#define WRMSR_I(msr, hi, lo)                                                   \
	MOV_RI(R_ECX, msr), MOV_RI(R_EDX, hi), MOV_RI(R_EAX, lo), WRMSR
/* mov ecx, msr; rdmsr; out eax; out edx */
#define RDMSR_LOG(msr) MOV_RI(R_ECX, msr), RDMSR, LOG_EAX, LOG(R_EDX)

/*
 * The long-mode MSRs hold what is written (SFMASK's upper half reads as
 * 0); FS_BASE is the base FS accesses use.
 */
static void test_long_mode_msrs(void)
{
	struct rig r;

	rig_open_model(&r, CPU_MODEL_X86_64);
	rig_wr32(&r, DATA + 0x10, 0xfeedf00d);
	EMIT(&r, WRMSR_I(0xc0000081, 0x00230010, 0xdeadbeef), /* STAR */
	     WRMSR_I(0xc0000082, 0xffff8000, 0x00001000),     /* LSTAR */
	     WRMSR_I(0xc0000083, 0x00007fff, 0xfffff000),     /* CSTAR */
	     WRMSR_I(0xc0000084, 0x12345678, 0x00047700),     /* SFMASK */
	     WRMSR_I(0xc0000102, 0xffffffff, 0xfffff000),     /* KERNEL_GS */
	     WRMSR_I(0xc0000103, 0, 7),			      /* TSC_AUX */
	     WRMSR_I(0xc0000100, 0, DATA),		      /* FS_BASE */
	     RDMSR_LOG(0xc0000081), RDMSR_LOG(0xc0000082),
	     RDMSR_LOG(0xc0000083), RDMSR_LOG(0xc0000084),
	     RDMSR_LOG(0xc0000102), RDMSR_LOG(0xc0000103), 0x64, 0x8b, 0x05,
	     D32(0x10), /* mov eax, fs:[0x10] */
	     LOG_EAX, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xdeadbeef, 0x00230010, 0x00001000, 0xffff8000,
		   0xfffff000, 0x00007fff, 0x00047700, 0, 0xfffff000,
		   0xffffffff, 7, 0, 0xfeedf00d);
	CHECK_EQ(r.st.seg[S_FS].base, DATA);
	rig_close(&r);
}

/* A non-canonical address in an address MSR: #GP(0), MSR unchanged. */
static void test_msr_canonical_checks(void)
{
	static const u32 msrs[] = {0xc0000082, 0xc0000083, 0xc0000100,
				   0xc0000101, 0xc0000102};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(msrs); i++) {
		struct rig r;

		rig_open_model(&r, CPU_MODEL_X86_64);
		EMIT(&r, WRMSR_I(msrs[i], 0x00008000, 0), HLT);
		rig_run_pm(&r);
		CHECK_FAULT(&r, V_GP, 0);
		rig_close(&r);
	}
}

/* TSC_AUX bits 63:32 are reserved; the P6 model has none of these. */
static void test_msr_reserved(void)
{
	struct rig r;

	rig_open_model(&r, CPU_MODEL_X86_64);
	EMIT(&r, WRMSR_I(0xc0000103, 1, 0), HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	rig_close(&r);

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 0xc0000082), RDMSR, HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	rig_close(&r);
}

/* RDTSCP: the TSC in EDX:EAX and TSC_AUX in ECX; #UD on the P6. */
static void test_rdtscp(void)
{
	struct rig r;

	rig_open_model(&r, CPU_MODEL_X86_64);
	EMIT(&r, WRMSR_I(0xc0000103, 0, 0x2a), RDTSC, MOV_RR(R_EBX, R_EAX),
	     MOV_RR(R_ESI, R_EDX), MOV_RI(R_ECX, 0), 0x0f, 0x01, 0xf9, 0x29,
	     MODRM(3, R_EBX, R_EAX),	   /* sub eax, ebx */
	     0x19, MODRM(3, R_ESI, R_EDX), /* sbb edx, esi */
	     MOV_RR(R_EDI, R_EAX), LOG(R_ECX), LOG(R_EDX), LOG(R_EDI), HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 3);
	CHECK_EQ(r.out[0], 0x2a);
	CHECK_EQ(r.out[1], 0); /* the TSC moved forward, by little */
	CHECK((s32)r.out[2] >= 0);
	rig_close(&r);

	rig_open(&r);
	EMIT(&r, 0x0f, 0x01, 0xf9, HLT);
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), V_UD);
	rig_close(&r);
}

/*
 * Interrupt delivery in IA-32e mode. A 64-bit ring-0 code segment at
 * SEL_CODE64, a 16-byte-gate IDT at IDT64 whose gates lead to HLT stubs,
 * and the TSS (the rig's TSS0) read as a 64-bit one: RSP0 at +4, IST1 at
 * +0x24. The stubs would run in 64-bit mode, which the engine does not
 * decode yet: they are a HLT each, below 64 KiB.
 */
#define SEL_CODE64 SEL_FREE
#define IDT64 (DATA + 0x1000)
#define STUB64(v) (0xa000u + 16 * (v))

static void lm_gate(struct rig *r, unsigned v, unsigned type, unsigned dpl,
		    unsigned ist)
{
	u32 off = STUB64(v);

	rig_wr32(r, IDT64 + 16 * v, (u32)SEL_CODE64 << 16 | (off & 0xffff));
	rig_wr32(r, IDT64 + 16 * v + 4,
		 (off & 0xffff0000u) | 0x8000 | dpl << 13 | type << 8 | ist);
	rig_wr64(r, IDT64 + 16 * v + 8, 0);
	rig_wr8(r, STUB64(v), HLT);
}

/* Long mode entered by the state (as after emit_enter_long_mode). */
static void lm_state(struct rig *r, struct x86_state *s, u32 pml4)
{
	unsigned v;

	rig_desc(r, SEL_CODE64, 0, FLAT, A_CODE | SEG_ATTR_L | A_G);
	for (v = 0; v < 256; v++)
		lm_gate(r, v, GATE_INT32, 0, 0);
	rig_pm_state(r, s);
	s->cr4 |= CR4_PAE;
	s->cr3 = pml4;
	s->cr0 |= CR0_PG;
	s->efer = LME | LMA;
	s->idtr = (struct x86_dtable){IDT64, 256 * 16 - 1};
}

/* INT n at CPL 0, no IST: the frame goes on the current stack, aligned. */
static void test_int_frame_same_level(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;
	u64 top = STACK0 - 0x10; /* the aligned RSP after 'push' below */

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	EMIT(&r, PUSH_I(0x5a5a5a5a), INT(0x40), HLT);
	lm_state(&r, &s, t.pml4);
	s.gpr[R_ESP] = STACK0 - 0xc; /* misaligned on purpose */
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.rip, STUB64(0x40) + 1);
	CHECK_EQ(r.st.seg[S_CS].selector, SEL_CODE64);
	CHECK_EQ(r.st.gpr[R_ESP], top - 40);
	CHECK_EQ(rig_rd64(&r, (u32)top - 40), CODE + 7); /* RIP after INT */
	CHECK_EQ(rig_rd64(&r, (u32)top - 32), SEL_CODE0);
	CHECK_EQ(rig_rd64(&r, (u32)top - 24), 2);	      /* RFLAGS */
	CHECK_EQ(rig_rd64(&r, (u32)top - 16), STACK0 - 0x10); /* old RSP */
	CHECK_EQ(rig_rd64(&r, (u32)top - 8), SEL_DATA0);      /* old SS */
	rig_close(&r);
}

/* An exception through an IST gate: the IST stack, error code pushed. */
static void test_exception_on_ist_stack(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;
	u32 ist = 0x3f008; /* aligned down to 0x3f000 */

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	rig_wr64(&r, TSS0 + 0x24, ist);
	EMIT(&r, MOV_RI(R_EAX, 0x1234), MOV_SR(S_DS, R_EAX), HLT);
	lm_state(&r, &s, t.pml4);
	lm_gate(&r, V_GP, GATE_INT32, 0, 1);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.rip, STUB64(V_GP) + 1);
	CHECK_EQ(r.st.gpr[R_ESP], 0x3f000 - 48);
	CHECK_EQ(rig_rd64(&r, 0x3f000 - 48), 0x1234);	/* selector, TI set */
	CHECK_EQ(rig_rd64(&r, 0x3f000 - 40), CODE + 5); /* the MOV DS */
	CHECK_EQ(rig_rd64(&r, 0x3f000 - 16), STACK0);
	rig_close(&r);
}

/*
 * From CPL 3 to a ring-0 handler: RSP0 from the TSS, SS:RSP of ring 3 in
 * the frame, SS a null selector afterwards; IF cleared by the interrupt
 * gate.
 */
static void test_privilege_change(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;
	unsigned i;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	rig_wr64(&r, TSS0 + 4, ESP0);
	rig_org(&r, 0x9000);
	EMIT(&r, INT(0x41), HLT);
	lm_state(&r, &s, t.pml4);
	lm_gate(&r, 0x41, GATE_INT32, 3, 0);
	for (i = 0; i < 6; i++)
		s.seg[i] = rig_seg(SEL_DATA3, 0, FLAT, A_DATA32 | A_DPL(3) | 1);
	s.seg[S_CS] = rig_seg(SEL_CODE3, 0, FLAT, A_CODE32 | A_DPL(3) | 1);
	s.gpr[R_ESP] = STACK3;
	s.eip = 0x9000;
	s.eflags = 2 | FL_IF;
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.rip, STUB64(0x41) + 1);
	CHECK_EQ(r.st.seg[S_CS].selector, SEL_CODE64);
	CHECK_EQ(r.st.seg[S_SS].selector, 0);
	CHECK_EQ(r.st.eflags & FL_IF, 0);
	CHECK_EQ(r.st.gpr[R_ESP], ESP0 - 40);
	CHECK_EQ(rig_rd64(&r, ESP0 - 40), 0x9002);
	CHECK_EQ(rig_rd64(&r, ESP0 - 32), SEL_CODE3);
	CHECK_EQ(rig_rd64(&r, ESP0 - 24), 2 | FL_IF);
	CHECK_EQ(rig_rd64(&r, ESP0 - 16), STACK3);
	CHECK_EQ(rig_rd64(&r, ESP0 - 8), SEL_DATA3);
	rig_close(&r);
}

/* A gate to a code segment that is not 64-bit: #GP(selector + EXT). */
static void test_gate_needs_64bit_code(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;
	u32 ist = 0x3f000;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	rig_wr64(&r, TSS0 + 0x24, ist);
	EMIT(&r, 0x0f, 0x0b, HLT); /* ud2 */
	lm_state(&r, &s, t.pml4);
	/* #UD's gate points at the 32-bit SEL_CODE0; #GP's uses IST1. */
	rig_wr32(&r, IDT64 + 16 * V_UD,
		 (u32)SEL_CODE0 << 16 | (STUB64(V_UD) & 0xffff));
	lm_gate(&r, V_GP, GATE_INT32, 0, 1);
	rig_run_state(&r, &s);
	CHECK_EQ(r.st.rip, STUB64(V_GP) + 1);
	CHECK_EQ(rig_rd64(&r, ist - 48), SEL_CODE0 + 1); /* EXT set */
	CHECK_EQ(rig_rd64(&r, ist - 40), CODE);
	rig_close(&r);
}

/*
 * 64-bit mode (CS.L = 1 in IA-32e mode). The tests below start in ring-0
 * 64-bit code at CODE with the identity map of lm_build_tables().
 */
#define SEL_CODE64_3 (SEL_FREE + 8 + 3) /* 64-bit ring-3 code */
#define Q64(v) D32((u32)(v)), D32((u32)((u64)(v) >> 32))
#define REX_W 0x48

static void lm64_state(struct rig *r, struct x86_state *s, u32 pml4)
{
	lm_state(r, s, pml4);
	rig_desc(r, SEL_CODE64_3, 0, FLAT,
		 A_CODE | SEG_ATTR_L | A_G | A_DPL(3));
	s->seg[S_CS] =
		rig_seg(SEL_CODE64, 0, FLAT, A_CODE | SEG_ATTR_L | A_G | 1);
}

/* The 64-bit state after a run that ended in the HLT of a stub. */
static u64 lm_frame(struct rig *r, unsigned n)
{
	return rig_rd64(r, (u32)r->st.gpr[R_ESP] + 8 * n);
}

/*
 * REX.W operands, imm64, R8-R15, RIP-relative LEA, MOVSXD, SIL under
 * REX, 64-bit PUSH/POP, 32-bit results zero-extended, CQO and a 128-bit
 * MUL (SDM vol. 1, 3.4.1.1 and vol. 2, 2.2.1).
 */
static void test_64bit_integer(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	EMIT(&r, REX_W, 0xb8, Q64(0x1122334455667788ull), /* mov rax, imm64 */
	     0x49, 0x89, 0xc0,				  /* mov r8, rax */
	     0x49, 0xc1, 0xe0, 0x04,			  /* shl r8, 4 */
	     0x4c, 0x8d, 0x15, D32(0),			  /* lea r10, [rip] */
	     0xb9, D32(0x80000000u),			  /* mov ecx, imm */
	     REX_W, 0x63, 0xc9,				  /* movsxd rcx, ecx */
	     REX_W, 0xc7, 0xc6, D32(~0u),		  /* mov rsi, -1 */
	     0x40, 0xb6, 0x12,				  /* mov sil, 0x12 */
	     0x6a, 0xff,				  /* push -1 */
	     0x41, 0x5b,				  /* pop r11 */
	     REX_W, 0x99,				  /* cqo */
	     REX_W, 0xc7, 0xc3, D32(~0u),		  /* mov rbx, -1 */
	     0x83, 0xc3, 0x01,				  /* add ebx, 1 */
	     REX_W, 0xc7, 0xc0, D32(~0u),		  /* mov rax, -1 */
	     0x49, 0xc7, 0xc4, D32(2),			  /* mov r12, 2 */
	     0x49, 0xf7, 0xe4,				  /* mul r12 */
	     HLT);
	lm64_state(&r, &s, t.pml4);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.gpr[R_R8], 0x1223344556677880ull);
	CHECK_EQ(r.st.gpr[R_R10], CODE + 24);
	CHECK_EQ(r.st.gpr[R_ECX], 0xffffffff80000000ull);
	CHECK_EQ(r.st.gpr[R_ESI], 0xffffffffffffff12ull);
	CHECK_EQ(r.st.gpr[R_R11], ~0ull);
	CHECK_EQ(r.st.gpr[R_EBX], 0);
	CHECK_EQ(r.st.gpr[R_EAX], 0xfffffffffffffffeull);
	CHECK_EQ(r.st.gpr[R_EDX], 1);
	CHECK_EQ(r.st.gpr[R_ESP], STACK0);
	rig_close(&r);
}

/* Stores and loads above 4 GiB go through the page tables' 64-bit index. */
static void test_64bit_memory_and_stack(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;
	u32 pdpt_hi;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	/* linear 0x0000_7f00_0000_0000 + 2 MiB... -> physical 0-2 MiB */
	pdpt_hi = rig_page_new(&r);
	rig_wr64(&r, t.pml4 + 8 * 0xfe, pdpt_hi | PG_P | PG_W | PG_U);
	rig_wr64(&r, pdpt_hi, t.pd | PG_P | PG_W | PG_U);
	EMIT(&r, REX_W, 0xbb, Q64(0x00007f0000000000ull + DATA), /* mov rbx */
	     REX_W, 0xc7, 0x03, D32(0x89abcdefu), /* mov qword [rbx], imm */
	     REX_W, 0x8b, 0x13,		   /* mov rdx, [rbx] */
	     REX_W, 0x89, 0xdc,		   /* mov rsp, rbx */
	     0x53,			   /* push rbx */
	     0x41, 0x5f,		   /* pop r15 */
	     HLT);
	lm64_state(&r, &s, t.pml4);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.gpr[R_EDX], 0xffffffff89abcdefull);
	CHECK_EQ(rig_rd64(&r, DATA), 0xffffffff89abcdefull);
	CHECK_EQ(r.st.gpr[R_R15], 0x00007f0000000000ull + DATA);
	CHECK_EQ(rig_rd64(&r, DATA - 8), 0x00007f0000000000ull + DATA);
	rig_close(&r);
}

/*
 * A non-canonical address: #GP(0), or #SS(0) when the reference is to the
 * stack segment (an RBP base) (SDM vol. 3, 6.15).
 */
static void test_canonical_faults(void)
{
	static const u8 base_reg[2] = {R_EBX, R_EBP};
	static const int vector[2] = {V_GP, V_SS};
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct rig r;
		struct x86_state s;
		struct lm_tables t;

		rig_open_model(&r, CPU_MODEL_X86_64);
		t = lm_build_tables(&r);
		EMIT(&r, REX_W, (u8)(0xb8 + base_reg[i]),
		     Q64(0x0000800000000000ull), /* mov rbx/rbp, imm64 */
		     REX_W, 0x8b, (u8)(0x40 | base_reg[i]), 0, /* mov rax,[r+0] */
		     HLT);
		lm64_state(&r, &s, t.pml4);
		rig_run_state(&r, &s);
		CHECK_EQ(r.st.rip, STUB64(vector[i]) + 1);
		CHECK_EQ(lm_frame(&r, 0), 0); /* error code */
		CHECK_EQ(lm_frame(&r, 1), CODE + 10); /* the faulting MOV */
		CHECK_EQ(r.st.gpr[R_EAX], 0);
		rig_close(&r);
	}
}

#define STAR_USER 0x50u /* SYSRET: CS 0x63 (64-bit), SS 0x5b */

/* SYSCALL/SYSRET set up with EFER.SCE, STAR, LSTAR and SFMASK = IF. */
static void syscall_state(struct rig *r, struct x86_state *s, u32 pml4)
{
	lm64_state(r, s, pml4);
	s->efer |= EFER_SCE;
	s->star = (u64)STAR_USER << 48 | (u64)SEL_CODE64 << 32;
	s->lstar = CODE + 0x100;
	s->sfmask = FL_IF;
}

/*
 * SYSRETQ to ring-3 64-bit code at RCX with RFLAGS from R11, which makes
 * a SYSCALL back: RCX and R11 hold the user RIP and RFLAGS, CS and SS
 * come from STAR, IF is masked by SFMASK.
 */
static void test_syscall_sysret(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	EMIT(&r, REX_W, 0xc7, 0xc1, D32(CODE + 0x80), /* mov rcx, user */
	     0x49, 0xc7, 0xc3, D32(0xd7u | FL_IF),    /* mov r11, flags */
	     REX_W, 0x0f, 0x07);		      /* sysretq */
	rig_org(&r, CODE + 0x80);
	EMIT(&r, 0x0f, 0x05, HLT); /* syscall */
	rig_org(&r, CODE + 0x100);
	EMIT(&r, HLT);
	syscall_state(&r, &s, t.pml4);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.rip, CODE + 0x101);
	CHECK_EQ(r.st.gpr[R_ECX], CODE + 0x82);
	CHECK_EQ(r.st.gpr[R_R11], 0xd7u | FL_IF);
	CHECK_EQ(r.st.seg[S_CS].selector, SEL_CODE64);
	CHECK_EQ(r.st.seg[S_SS].selector, SEL_CODE64 + 8);
	CHECK(r.st.seg[S_CS].attr & SEG_ATTR_L);
	CHECK_EQ(r.st.eflags & FL_IF, 0);
	CHECK_EQ(r.st.eflags & 0xfff, 0xd7u); /* IF masked */
	rig_close(&r);
}

/* SYSRET to a non-canonical RCX: #GP(0) in ring 0 (as Intel does). */
static void test_sysret_noncanonical_rcx(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	EMIT(&r, REX_W, 0xb9, Q64(0x0000800000000000ull), /* mov rcx, imm64 */
	     REX_W, 0x0f, 0x07, HLT);
	syscall_state(&r, &s, t.pml4);
	rig_run_state(&r, &s);
	CHECK_EQ(r.st.rip, STUB64(V_GP) + 1);
	CHECK_EQ(lm_frame(&r, 0), 0);
	CHECK_EQ(lm_frame(&r, 1), CODE + 10);
	CHECK_EQ(lm_frame(&r, 2), SEL_CODE64); /* still ring 0 */
	rig_close(&r);
}

/* SYSCALL without EFER.SCE, and outside 64-bit mode: #UD. */
static void test_syscall_ud(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	EMIT(&r, 0x0f, 0x05, HLT);
	lm64_state(&r, &s, t.pml4);
	rig_run_state(&r, &s);
	CHECK_EQ(r.st.rip, STUB64(V_UD) + 1);
	rig_close(&r);
}

/*
 * IRETQ to ring-3 64-bit code pops SS:RSP too; an INT from there comes
 * back through the 64-bit TSS's RSP0 with the ring-3 frame.
 */
static void test_iretq_to_ring3(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	rig_wr64(&r, TSS0 + 4, ESP0);
	EMIT(&r, 0x6a, SEL_DATA3,	    /* push ss */
	     0x68, D32(STACK3),		    /* push rsp */
	     0x6a, 0x02,		    /* push rflags */
	     0x6a, SEL_CODE64_3,	    /* push cs */
	     0x68, D32(CODE + 0x80),	    /* push rip */
	     REX_W, 0xcf);		    /* iretq */
	rig_org(&r, CODE + 0x80);
	EMIT(&r, 0x41, 0xb8, D32(7), INT(0x41), HLT); /* mov r8d, 7; int */
	lm64_state(&r, &s, t.pml4);
	lm_gate(&r, 0x41, GATE_INT32, 3, 0);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.rip, STUB64(0x41) + 1);
	CHECK_EQ(r.st.gpr[R_R8], 7);
	CHECK_EQ(r.st.gpr[R_ESP], ESP0 - 40);
	CHECK_EQ(rig_rd64(&r, ESP0 - 40), CODE + 0x88);
	CHECK_EQ(rig_rd64(&r, ESP0 - 32), SEL_CODE64_3);
	CHECK_EQ(rig_rd64(&r, ESP0 - 16), STACK3);
	CHECK_EQ(rig_rd64(&r, ESP0 - 8), SEL_DATA3);
	rig_close(&r);
}

/*
 * Far returns between 64-bit and compatibility mode: RETFQ to the 32-bit
 * SEL_CODE0, whose code pushes a 64-bit selector and RETF (32-bit) back.
 */
static void test_compat_mode_transitions(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	EMIT(&r, 0x6a, SEL_CODE0,	   /* push SEL_CODE0 */
	     0x68, D32(CODE + 0x80),	   /* push compat code */
	     REX_W, 0xcb);		   /* retfq */
	rig_org(&r, CODE + 0x80);
	/* compat: 48h is DEC EAX here, not REX */
	EMIT(&r, MOV_RI(R_EAX, 5), 0x48, 0x6a, SEL_CODE64, 0x68,
	     D32(CODE + 0x100), 0xcb);
	rig_org(&r, CODE + 0x100);
	EMIT(&r, REX_W, 0x8d, 0x40, 0x01, HLT); /* lea rax, [rax+1] */
	lm64_state(&r, &s, t.pml4);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.rip, CODE + 0x105);
	CHECK_EQ(r.st.gpr[R_EAX], 5);
	CHECK_EQ(r.st.seg[S_CS].selector, SEL_CODE64);
	CHECK_EQ(r.st.gpr[R_ESP], STACK0);
	rig_close(&r);
}

/* SWAPGS exchanges GS.base and KERNEL_GS_BASE; #UD outside 64-bit mode. */
static void test_swapgs(void)
{
	struct rig r;
	struct x86_state s;
	struct lm_tables t;

	rig_open_model(&r, CPU_MODEL_X86_64);
	t = lm_build_tables(&r);
	rig_wr64(&r, DATA + 8, 0x1234567890ull);
	EMIT(&r, 0x0f, 0x01, 0xf8,		      /* swapgs */
	     0x65, REX_W, 0x8b, 0x04, 0x25, D32(8), /* mov rax, gs:[8] */
	     HLT);
	lm64_state(&r, &s, t.pml4);
	s.kernel_gs_base = DATA;
	s.seg[S_GS].base = 0xffff800000000000ull;
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.gpr[R_EAX], 0x1234567890ull);
	CHECK_EQ(r.st.kernel_gs_base, 0xffff800000000000ull);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_activation_and_4level_paging);
	RUN_TEST(test_leave_long_mode);
	RUN_TEST(test_activation_needs_pae);
	RUN_TEST(test_lme_locked_while_paging);
	RUN_TEST(test_lma_read_only);
	RUN_TEST(test_p6_has_no_lme);
	RUN_TEST(test_long_mode_msrs);
	RUN_TEST(test_msr_canonical_checks);
	RUN_TEST(test_msr_reserved);
	RUN_TEST(test_rdtscp);
	RUN_TEST(test_int_frame_same_level);
	RUN_TEST(test_exception_on_ist_stack);
	RUN_TEST(test_privilege_change);
	RUN_TEST(test_gate_needs_64bit_code);
	RUN_TEST(test_64bit_integer);
	RUN_TEST(test_64bit_memory_and_stack);
	RUN_TEST(test_canonical_faults);
	RUN_TEST(test_syscall_sysret);
	RUN_TEST(test_sysret_noncanonical_rcx);
	RUN_TEST(test_syscall_ud);
	RUN_TEST(test_iretq_to_ring3);
	RUN_TEST(test_compat_mode_transitions);
	RUN_TEST(test_swapgs);
	return unit_summary();
}

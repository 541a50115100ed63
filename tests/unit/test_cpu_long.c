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
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * 64-bit mode regressions found by booting Debian's amd64 kernel and
 * busybox (build/guests/linux64.iso) on the soft CPU: each test is the
 * smallest instruction sequence that went wrong there (see
 * /work/wt/LONG64-BUGS.md of the h2 round for the guest-side story).
 * The code runs in ring-0 64-bit mode at CODE with 0-2 MiB identity-mapped.
 */
#include "cpu_rig.h"

#define LME BIT(8)
#define LMA BIT(10)
#define SEL_CODE64 SEL_FREE
#define REX_W 0x48
#define Q64(v) D32((u32)(v)), D32((u32)((u64)(v) >> 32))
#define RIP_REL(disp) MODRM(0, 0, 5), D32(disp)

/* 0-2 MiB identity-mapped with one 2 MiB page. */
static u32 lm_tables(struct rig *r)
{
	u32 pml4 = rig_page_new(r), pdpt = rig_page_new(r),
	    pd = rig_page_new(r);

	rig_wr64(r, pml4, pdpt | PG_P | PG_W | PG_U);
	rig_wr64(r, pdpt, pd | PG_P | PG_W | PG_U);
	rig_wr64(r, pd, 0 | PG_P | PG_W | PG_PS);
	return pml4;
}

/* Ring-0 64-bit code, paging on, SSE enabled (CR4.OSFXSR). */
static void lm64_state(struct rig *r, struct x86_state *s)
{
	u32 pml4 = lm_tables(r);

	rig_desc(r, SEL_CODE64, 0, FLAT, A_CODE | SEG_ATTR_L | A_G);
	rig_pm_state(r, s);
	s->seg[S_CS] =
		rig_seg(SEL_CODE64, 0, FLAT, A_CODE | SEG_ATTR_L | A_G | 1);
	s->cr4 |= CR4_PAE | CR4_OSFXSR;
	s->cr3 = pml4;
	s->cr0 |= CR0_PG;
	s->efer = LME | LMA;
}

/*
 * glibc's INIT_LIST_HEAD pair, vectorised by gcc (busybox's static glibc
 * start-up): movq rax->xmm0, punpcklqdq, movups to a RIP-relative
 * address. Both halves of the 16-byte store must hold RAX.
 */
static void test_movq_punpcklqdq_movups_riprel(void)
{
	struct rig r;
	struct x86_state s;

	rig_open_model(&r, CPU_MODEL_X86_64);
	EMIT(&r, REX_W, 0xb8, Q64(0x0000000000123456ull), /* mov rax, imm64 */
	     0x66, REX_W, 0x0f, 0x6e, 0xc0,		  /* movq xmm0, rax */
	     0x66, 0x0f, 0x6c, 0xc0, /* punpcklqdq xmm0, xmm0 */
	     /* movups [rip + DATA - next], xmm0: next is CODE + 26 */
	     0x0f, 0x11, 0x05, D32(DATA - (CODE + 26)), HLT);
	lm64_state(&r, &s);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(rig_rd64(&r, DATA), 0x123456ull);
	CHECK_EQ(rig_rd64(&r, DATA + 8), 0x123456ull);
	rig_close(&r);
}

/* 66 REX.W 0F 3A 22: PINSRQ; 66 REX.W 0F 7E: MOVQ r/m64, xmm. */
static void test_pinsrq_movq_to_gpr(void)
{
	struct rig r;
	struct x86_state s;

	rig_open_model(&r, CPU_MODEL_X86_64);
	EMIT(&r, REX_W, 0xb8, Q64(0x1122334455667788ull), /* mov rax, imm64 */
	     0x66, REX_W, 0x0f, 0x3a, 0x22, 0xc8, 1, /* pinsrq xmm1, rax, 1 */
	     0x66, 0x0f, 0x73, 0xd9, 8,		     /* psrldq xmm1, 8 */
	     0x66, REX_W, 0x0f, 0x7e, 0xcb,	     /* movq rbx, xmm1 */
	     HLT);
	lm64_state(&r, &s);
	rig_run_state(&r, &s);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	CHECK_EQ(r.st.gpr[R_EBX], 0x1122334455667788ull);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_movq_punpcklqdq_movups_riprel);
	RUN_TEST(test_pinsrq_movq_to_gpr);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * REP STOS and REP MOVS store whole runs up to a page boundary at once
 * (string.c); the results must be those of one element at a time (SDM
 * vol. 2, MOVS, STOS, REP): across pages, with overlapping operands, and
 * with a fault in the middle leaving ECX and EDI at the faulting element.
 */
#include "cpu_rig.h"

#define REP 0xf3
#define STOSB 0xaa
#define STOSD 0xab
#define MOVSB 0xa4
#define MOVSD 0xa5
#define PG_P 0x001u
#define PG_W 0x002u

static void test_stosd_across_pages(void)
{
	const u32 dst = DATA + 0xff8, n = 3000;
	struct rig r;
	u32 i, bad = 0;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EDI, dst), MOV_RI(R_ECX, n),
	     MOV_RI(R_EAX, 0xa1b2c3d4), REP, STOSD, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	for (i = 0; i < n; i++)
		bad += rig_rd32(&r, dst + 4 * i) != 0xa1b2c3d4;
	CHECK_EQ(bad, 0);
	CHECK_EQ(rig_rd32(&r, dst + 4 * n), 0);
	CHECK_EQ(rig_rd32(&r, dst - 4), 0);
	CHECK_EQ(r.st.gpr[R_ECX], 0);
	CHECK_EQ(r.st.gpr[R_EDI], dst + 4 * n);
	rig_close(&r);
}

/* dst = src + 1: each byte copied is the one just written. */
static void test_movsb_overlap_repeats(void)
{
	struct rig r;
	u32 i, bad = 0;

	rig_open(&r);
	rig_wr8(&r, DATA, 'x');
	for (i = 1; i < 5000; i++)
		rig_wr8(&r, DATA + i, (u8)i);
	EMIT(&r, MOV_RI(R_ESI, DATA), MOV_RI(R_EDI, DATA + 1),
	     MOV_RI(R_ECX, 4000), REP, MOVSB, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	for (i = 0; i <= 4000; i++)
		bad += rig_rd8(&r, DATA + i) != 'x';
	CHECK_EQ(bad, 0);
	CHECK_EQ(rig_rd8(&r, DATA + 4001), (u8)4001);
	CHECK_EQ(r.st.gpr[R_ESI], DATA + 4000);
	rig_close(&r);
}

/* dst = src + 2 with dwords: element by element, as on hardware. */
static void test_movsd_overlap_inside_element(void)
{
	u8 model[4 * 64 + 8];
	struct rig r;
	u32 i, k, bad = 0;

	rig_open(&r);
	for (i = 0; i < sizeof(model); i++) {
		model[i] = (u8)(i * 7 + 1);
		rig_wr8(&r, DATA + i, model[i]);
	}
	for (k = 0; k < 64; k++)
		memmove(model + 2 + 4 * k, model + 4 * k, 4);
	EMIT(&r, MOV_RI(R_ESI, DATA), MOV_RI(R_EDI, DATA + 2),
	     MOV_RI(R_ECX, 64), REP, MOVSD, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	for (i = 0; i < sizeof(model); i++)
		bad += rig_rd8(&r, DATA + i) != model[i];
	CHECK_EQ(bad, 0);
	rig_close(&r);
}

/* A read-only page in the way: #PF at its first byte, ECX counts. */
static void test_stosb_fault_midway(void)
{
	struct x86_state s;
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = rig_paging32(&r);
	rig_map(&r, cr3, DATA + 0x1000, DATA + 0x1000, PG_P);
	EMIT(&r, MOV_RI(R_EDI, DATA + 0x800), MOV_RI(R_ECX, 0x1000),
	     MOV_RI(R_EAX, 0x55), REP, STOSB, HLT);
	rig_pm_state(&r, &s);
	s.cr3 = cr3;
	s.cr0 |= CR0_PG | CR0_WP;
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, 14, 0x3); /* present, write, supervisor */
	CHECK_EQ(r.st.cr2, DATA + 0x1000);
	CHECK_EQ(r.st.gpr[R_ECX], 0x800);
	CHECK_EQ(r.st.gpr[R_EDI], DATA + 0x1000);
	CHECK_EQ(rig_rd8(&r, DATA + 0xfff), 0x55);
	CHECK_EQ(rig_rd8(&r, DATA + 0x1000), 0);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_stosd_across_pages);
	RUN_TEST(test_movsb_overlap_repeats);
	RUN_TEST(test_movsd_overlap_inside_element);
	RUN_TEST(test_stosb_fault_midway);
	return unit_summary();
}

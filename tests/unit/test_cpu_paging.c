// SPDX-License-Identifier: MIT
/*
 * The soft CPU's paging (Intel SDM vol. 3, chapter 4): 32-bit paging with
 * 4 KiB and 4 MiB pages, PAE paging with 4 KiB and 2 MiB pages and NX,
 * #PF error codes and CR2, U/S and R/W protection with CR0.WP, the
 * accessed and dirty bits, TLB invalidation by INVLPG and CR3 loads,
 * privilege changes whose stack pushes are supervisor accesses, and
 * self-modifying code (SDM vol. 3, 11.6) against the decoded-instruction
 * cache.
 */
#include "cpu_rig.h"

/* clang-format off */

#define V86_CS 0x0800


/* mov eax, [esp+n]; out RIG_PORT, eax */
#define LOG_STACK(n) 0x8b, 0x44, 0x24, (u8)(n), 0xe7, RIG_PORT
/* mov eax, sreg; out RIG_PORT, eax */
#define LOG_SREG(sr) MOV_RS(R_EAX, sr), 0xe7, RIG_PORT

/* The pages ring-3 and V86 code may touch. */
static const u32 user_pages[] = {
	CODE, CODE2, CODE3, CODE4, DATA, STACK3 - 0x1000,
	0x8000, /* V86 code */
	0x4f000, /* V86 stack */
};

/*
 * 32-bit paging identity-mapping the rig's low 2 MiB (supervisor,
 * writable), with the user pages above made user-accessible.
 */
static u32 paging32(struct rig *r)
{
	u32 cr3 = rig_paging32(r);
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(user_pages); i++)
		rig_map(r, cr3, user_pages[i], user_pages[i],
			PG_P | PG_W | PG_U);
	return cr3;
}

static void paging_on(struct x86_state *s, u32 cr3)
{
	s->cr3 = cr3;
	s->cr0 |= CR0_PG;
}

/* Run ring-0 code at CODE with 32-bit paging from cr3. */
static void run_paged(struct rig *r, u32 cr3, u32 cr4)
{
	struct x86_state s;

	rig_pm_state(r, &s);
	paging_on(&s, cr3);
	s.cr4 = cr4;
	rig_run_state(r, &s);
}

/* The same at CPL 3. */
static void run_paged_ring3(struct rig *r, u32 cr3)
{
	struct x86_state s;

	rig_ring3_state(r, &s, CODE);
	paging_on(&s, cr3);
	rig_run_state(r, &s);
}

/* A #PF with this error code, CR2, at this EIP. */
static void check_pf(struct rig *r, u32 err, u32 cr2, u32 eip)
{
	CHECK_FAULT(r, V_PF, err);
	CHECK_EQ(r->st.cr2, cr2);
	CHECK_EQ(rig_frame(r, 1), eip);
}

/* 4 KiB pages: translation, aliases, an access split over two pages. */
static void test_4k_pages(void)
{
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	rig_map(&r, cr3, 0x801000, 0x300000, PG_P); /* read-only alias */
	rig_map(&r, cr3, 0x802000, 0x305000, PG_P | PG_W);
	rig_map(&r, cr3, 0x803000, 0x307000, PG_P | PG_W);
	rig_wr32(&r, 0x300ffc, 0x5a5a5a5a);
	EMIT(&r, STORE_I(0x800000, 0x11223344),
	     LOAD(R_EAX, 0x801000), LOG_EAX,
	     LOAD(R_EAX, 0x800ffc), LOG_EAX,
	     STORE_I(0x802ffe, 0xaabbccdd), /* split: two pages */
	     LOAD(R_EAX, 0x802ffe), LOG_EAX,
	     HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x11223344, 0x5a5a5a5a, 0xaabbccdd);
	CHECK_EQ(rig_rd32(&r, 0x300000), 0x11223344);
	CHECK_EQ(rig_rd16(&r, 0x305ffe), 0xccdd);
	CHECK_EQ(rig_rd16(&r, 0x307000), 0xaabb);
	rig_close(&r);
}

/*
 * 4 MiB pages with CR4.PSE (SDM vol. 3, 4.3): the PDE maps the page; A
 * and D are set in the PDE. Without PSE, the PS bit is ignored.
 */
static void test_4m_pages(void)
{
	struct rig r;
	u32 cr3, pt;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map_4m(&r, cr3, 0xc00000, 0x800000, PG_P | PG_W);
	rig_wr32(&r, 0x812344, 0x4444);
	EMIT(&r, LOAD(R_EAX, 0xc12344), LOG_EAX,
	     LOAD(R_EAX, cr3 + 3 * 4), LOG_EAX, /* the PDE: A set */
	     STORE_I(0xfffff0, 0x77),
	     LOAD(R_EAX, cr3 + 3 * 4), LOG_EAX, /* and now D */
	     HLT);
	run_paged(&r, cr3, CR4_PSE);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x4444, 0x800000 | PG_P | PG_W | PG_PS | PG_A,
		   0x800000 | PG_P | PG_W | PG_PS | PG_A | PG_D);
	CHECK_EQ(rig_rd32(&r, 0xbffff0), 0x77);
	rig_close(&r);

	/* CR4.PSE = 0: the same PDE points to a page table at 0x800000 */
	rig_open(&r);
	cr3 = paging32(&r);
	pt = 0x800000;
	rig_map_4m(&r, cr3, 0xc00000, pt, PG_P | PG_W);
	rig_wr32(&r, pt + 0x12 * 4, 0x340000 | PG_P | PG_W);
	rig_wr32(&r, 0x340344, 0x5555);
	EMIT(&r, LOAD(R_EAX, 0xc12344), LOG_EAX, HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x5555);
	rig_close(&r);
}

/* Not-present pages: #PF, CR2 the linear address (SDM vol. 3, 4.7). */
static void test_not_present_faults(void)
{
	struct rig r;
	u32 cr3;

	/* No PDE: a read, error code 0 */
	rig_open(&r);
	cr3 = paging32(&r);
	EMIT(&r, LOAD(R_EAX, 0x900123), HLT);
	run_paged(&r, cr3, 0);
	check_pf(&r, 0, 0x900123, CODE);
	rig_close(&r);

	/* A PDE but no PTE: a write, W set */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x900000, 0x300000, PG_P | PG_W);
	EMIT(&r, MOV_RI(R_EBX, 0x901ffc), 0x89, 0x03, HLT); /* mov [ebx], eax */
	run_paged(&r, cr3, 0);
	check_pf(&r, PFE_W, 0x901ffc, CODE + 5);
	rig_close(&r);

	/* Ring 3: U set */
	rig_open(&r);
	cr3 = paging32(&r);
	EMIT(&r, LOAD(R_EAX, 0x900010), HLT);
	run_paged_ring3(&r, cr3);
	check_pf(&r, PFE_U, 0x900010, CODE);
	CHECK_EQ(rig_frame(&r, 2), SEL_CODE3);
	rig_close(&r);

	/* An instruction fetch: the fault is at the target */
	rig_open(&r);
	cr3 = paging32(&r);
	EMIT(&r, MOV_RI(R_EAX, 0x900000), 0xff, 0xd0, HLT); /* call eax */
	run_paged(&r, cr3, 0);
	check_pf(&r, 0, 0x900000, 0x900000);
	CHECK_EQ(rig_frame(&r, 4 + 0), CODE + 7); /* the pushed return */
	rig_close(&r);

	/* A split access whose second page is missing: CR2 is that page */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x900000, 0x300000, PG_P | PG_W);
	EMIT(&r, LOAD(R_EAX, 0x900ffe), HLT);
	run_paged(&r, cr3, 0);
	check_pf(&r, 0, 0x901000, CODE);
	rig_close(&r);
}

/*
 * U/S (SDM vol. 3, 4.6): ring 3 may not touch supervisor pages, U must be
 * set at every level; ring 0 may read user pages.
 */
static void test_user_supervisor(void)
{
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	EMIT(&r, LOAD(R_EAX, TSS0), HLT);
	run_paged_ring3(&r, cr3);
	check_pf(&r, PFE_P | PFE_U, TSS0, CODE);
	rig_close(&r);

	rig_open(&r);
	cr3 = paging32(&r);
	EMIT(&r, MOV_RI(R_EAX, 1), STORE(TSS0 + 8, R_EAX), HLT);
	run_paged_ring3(&r, cr3);
	check_pf(&r, PFE_P | PFE_W | PFE_U, TSS0 + 8, CODE + 5);
	rig_close(&r);

	/* PTE user, PDE supervisor: supervisor */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W | PG_U);
	rig_wr32(&r, cr3 + 2 * 4, rig_rd32(&r, cr3 + 2 * 4) & ~PG_U);
	EMIT(&r, LOAD(R_EAX, 0x800000), HLT);
	run_paged_ring3(&r, cr3);
	check_pf(&r, PFE_P | PFE_U, 0x800000, CODE);
	rig_close(&r);

	/* Ring 3 jumping into a supervisor page faults on the fetch */
	rig_open(&r);
	cr3 = paging32(&r);
	EMIT(&r, MOV_RI(R_EAX, STUBS), 0xff, 0xe0, HLT); /* jmp eax */
	run_paged_ring3(&r, cr3);
	check_pf(&r, PFE_P | PFE_U, STUBS, STUBS);
	rig_close(&r);

	/* Ring 0 reads a user page, then ring 3 through the same TLB set */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	rig_map(&r, cr3, 0x801000, 0x301000, PG_P | PG_W | PG_U);
	rig_wr32(&r, 0x301000, 0x0707);
	EMIT(&r, LOAD(R_EAX, 0x801000), LOG_EAX,
	     LOAD(R_EAX, 0x800000), /* supervisor page: fine at CPL 0 */
	     MOV_RI(R_EAX, SEL_DATA3), MOV_SR(S_DS, R_EAX),
	     PUSH_I(SEL_DATA3), PUSH_I(STACK3), PUSH_I(2),
	     PUSH_I(SEL_CODE3), PUSH_I(CODE2),
	     IRETD);
	rig_org(&r, CODE2);
	EMIT(&r, LOAD(R_EAX, 0x801000), LOG_EAX,
	     LOAD(R_EAX, 0x800000), /* cached for CPL 0 only */
	     HLT);
	run_paged(&r, cr3, 0);
	check_pf(&r, PFE_P | PFE_U, 0x800000, CODE2 + 8);
	CHECK_OUTS(&r, 0x0707, 0x0707);
	rig_close(&r);
}

/*
 * R/W (SDM vol. 3, 4.6): ring 3 may not write read-only pages; ring 0
 * may unless CR0.WP is set.
 */
static void test_read_only_pages(void)
{
	struct rig r;
	struct x86_state s;
	u32 cr3;

	/* CPL 0, WP = 0: the write goes through */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P);
	EMIT(&r, STORE_I(0x800010, 0x1234), HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_EQ(rig_rd32(&r, 0x300010), 0x1234);
	rig_close(&r);

	/* CPL 0, WP = 1: #PF with P and W */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P);
	EMIT(&r, LOAD(R_EAX, 0x800010), /* the read is fine */
	     STORE_I(0x800010, 0x1234), HLT);
	rig_pm_state(&r, &s);
	paging_on(&s, cr3);
	s.cr0 |= CR0_WP;
	rig_run_state(&r, &s);
	check_pf(&r, PFE_P | PFE_W, 0x800010, CODE + 6);
	CHECK_EQ(rig_rd32(&r, 0x300010), 0);
	rig_close(&r);

	/* CPL 3: #PF with P, W and U, whatever WP says */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_U);
	EMIT(&r, LOAD(R_EAX, 0x800010), STORE(0x800010, R_EAX), HLT);
	run_paged_ring3(&r, cr3);
	check_pf(&r, PFE_P | PFE_W | PFE_U, 0x800010, CODE + 6);
	rig_close(&r);

	/* W must be set at every level: PDE read-only, PTE writable */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W | PG_U);
	rig_wr32(&r, cr3 + 2 * 4, rig_rd32(&r, cr3 + 2 * 4) & ~PG_W);
	EMIT(&r, STORE(0x800010, R_EAX), HLT);
	run_paged_ring3(&r, cr3);
	check_pf(&r, PFE_P | PFE_W | PFE_U, 0x800010, CODE);
	rig_close(&r);

	/* Turning WP on with MOV CR0 takes effect at once */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P);
	EMIT(&r, STORE_I(0x800010, 1), /* allowed, and cached */
	     0x0f, 0x20, 0xc0, /* mov eax, cr0 */
	     0x0d, D32(CR0_WP), /* or eax, WP */
	     MOV_CR_R(0, R_EAX),
	     STORE_I(0x800010, 2),
	     HLT);
	run_paged(&r, cr3, 0);
	check_pf(&r, PFE_P | PFE_W, 0x800010, CODE + 21);
	CHECK_EQ(rig_rd32(&r, 0x300010), 1);
	rig_close(&r);
}

/*
 * Accessed and dirty bits (SDM vol. 3, 4.8): a read sets A in the PDE
 * and the PTE; the first write sets D in the PTE only; a write after a
 * cached read still sets D.
 */
static void test_accessed_dirty(void)
{
	struct rig r;
	u32 cr3, pde, pte, pt;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	pde = cr3 + 2 * 4;
	pte = rig_pte_addr(&r, cr3, 0x800000);
	pt = rig_rd32(&r, pde) & ~0xfffu;
	EMIT(&r, LOAD(R_EAX, pde), LOG_EAX, LOAD(R_EAX, pte), LOG_EAX,
	     LOAD(R_EBX, 0x800000),
	     LOAD(R_EAX, pde), LOG_EAX, LOAD(R_EAX, pte), LOG_EAX,
	     LOAD(R_EBX, 0x800004),
	     STORE(0x800008, R_EBX),
	     LOAD(R_EAX, pde), LOG_EAX, LOAD(R_EAX, pte), LOG_EAX,
	     HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, pt | PG_P | PG_W | PG_U, 0x300000 | PG_P | PG_W,
		   pt | PG_P | PG_W | PG_U | PG_A,
		   0x300000 | PG_P | PG_W | PG_A,
		   pt | PG_P | PG_W | PG_U | PG_A,
		   0x300000 | PG_P | PG_W | PG_A | PG_D);
	rig_close(&r);

	/* The guest clears D: the next write must set it again */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	pte = rig_pte_addr(&r, cr3, 0x800000);
	EMIT(&r, STORE_I(0x800000, 1),
	     STORE_I(pte, 0x300000 | PG_P | PG_W),
	     INVLPG(0x800000),
	     STORE_I(0x800000, 2),
	     LOAD(R_EAX, pte), LOG_EAX,
	     HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x300000 | PG_P | PG_W | PG_A | PG_D);
	rig_close(&r);
}

/* INVLPG makes a changed PTE take effect (SDM vol. 3, 4.10.4.1). */
static void test_invlpg(void)
{
	struct rig r;
	u32 cr3, pte;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	pte = rig_pte_addr(&r, cr3, 0x800000);
	rig_wr32(&r, 0x300000, 0xaaaa);
	rig_wr32(&r, 0x301000, 0xbbbb);
	EMIT(&r, LOAD(R_EAX, 0x800000), LOG_EAX,
	     STORE_I(pte, 0x301000 | PG_P | PG_W),
	     INVLPG(0x800000),
	     LOAD(R_EAX, 0x800000), LOG_EAX,
	     STORE_I(pte, 0),
	     INVLPG(0x800abc), /* any address in the page */
	     LOAD(R_EAX, 0x800004),
	     HLT);
	run_paged(&r, cr3, 0);
	CHECK_OUTS(&r, 0xaaaa, 0xbbbb);
	CHECK_FAULT(&r, V_PF, 0);
	CHECK_EQ(r.st.cr2, 0x800004);
	rig_close(&r);

	/* INVLPG is privileged: #GP(0) at CPL 3 */
	rig_open(&r);
	cr3 = paging32(&r);
	EMIT(&r, INVLPG(DATA), HLT);
	run_paged_ring3(&r, cr3);
	CHECK_FAULT(&r, V_GP, 0);
	rig_close(&r);
}

/* Loading CR3 flushes the TLB and switches address spaces (4.10.4.1). */
static void test_cr3_reload(void)
{
	struct rig r;
	u32 cr3, cr3b, pte;

	rig_open(&r);
	cr3 = paging32(&r);
	cr3b = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	rig_map(&r, cr3b, 0x800000, 0x302000, PG_P | PG_W);
	pte = rig_pte_addr(&r, cr3, 0x800000);
	rig_wr32(&r, 0x300000, 0xaaaa);
	rig_wr32(&r, 0x301000, 0xbbbb);
	rig_wr32(&r, 0x302000, 0xcccc);
	EMIT(&r, LOAD(R_EAX, 0x800000), LOG_EAX,
	     STORE_I(pte, 0x301000 | PG_P | PG_W),
	     0x0f, 0x20, 0xd8, /* mov eax, cr3 */
	     MOV_CR_R(3, R_EAX), /* mov cr3, eax */
	     LOAD(R_EAX, 0x800000), LOG_EAX,
	     MOV_RI(R_EAX, cr3b),
	     MOV_CR_R(3, R_EAX),
	     LOAD(R_EAX, 0x800000), LOG_EAX,
	     HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xaaaa, 0xbbbb, 0xcccc);
	CHECK_EQ(r.st.cr3, cr3b);
	rig_close(&r);
}

/* Turning paging on and off from code (SDM vol. 3, 9.9.1). */
static void test_enable_paging_from_code(void)
{
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	rig_wr32(&r, 0x300000, 0x1234);
	rig_wr32(&r, 0x800000, 0x5678);
	EMIT(&r, MOV_RI(R_EAX, cr3), MOV_CR_R(3, R_EAX),
	     0x0f, 0x20, 0xc0, /* mov eax, cr0 */
	     0x0d, D32(CR0_PG), /* or eax, PG */
	     MOV_CR_R(0, R_EAX),
	     LOAD(R_EAX, 0x800000), LOG_EAX,
	     0x0f, 0x20, 0xc0,
	     0x25, D32(~CR0_PG), /* and eax, ~PG */
	     MOV_CR_R(0, R_EAX),
	     LOAD(R_EAX, 0x800000), LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x1234, 0x5678);
	rig_close(&r);
}

/*
 * PAE paging (SDM vol. 3, 4.4): PDPT, page directory and page table of
 * 64-bit entries; 2 MiB pages; A and D in 64-bit entries.
 */
static void test_pae_paging(void)
{
	struct rig r;
	u32 cr3, pte, pd;

	rig_open(&r);
	cr3 = rig_paging_pae(&r);
	rig_map_pae(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	rig_map_pae_2m(&r, cr3, 0xc00000, 0x600000, PG_P | PG_W);
	rig_map_pae(&r, cr3, 0x40000000, 0x301000, PG_P | PG_W); /* PDPTE 1 */
	pte = rig_pte_pae_addr(&r, cr3, 0x800000);
	pd = (u32)rig_rd64(&r, cr3) & ~0xfffu;
	rig_wr32(&r, 0x300000, 0x1111);
	rig_wr32(&r, 0x612344, 0x2222);
	rig_wr32(&r, 0x301008, 0x3333);
	EMIT(&r, LOAD(R_EAX, 0x800000), LOG_EAX,
	     LOAD(R_EAX, 0xc12344), LOG_EAX,
	     LOAD(R_EAX, 0x40000008), LOG_EAX,
	     STORE_I(0x800004, 9),
	     STORE_I(0xd00000, 9), /* the same 2 MiB page */
	     LOAD(R_EAX, pte), LOG_EAX,
	     LOAD(R_EAX, pd + 6 * 8), LOG_EAX,
	     HLT);
	run_paged(&r, cr3, CR4_PAE);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x1111, 0x2222, 0x3333,
		   0x300000 | PG_P | PG_W | PG_A | PG_D,
		   0x600000 | PG_P | PG_W | PG_PS | PG_A | PG_D);
	CHECK_EQ(rig_rd32(&r, 0x300004), 9);
	CHECK_EQ(rig_rd32(&r, 0x700000), 9);
	rig_close(&r);

	/* A not-present PDPTE */
	rig_open(&r);
	cr3 = rig_paging_pae(&r);
	EMIT(&r, LOAD(R_EAX, 0x80000000), HLT);
	run_paged(&r, cr3, CR4_PAE);
	check_pf(&r, 0, 0x80000000, CODE);
	rig_close(&r);
}

/*
 * NX (SDM vol. 3, 4.6): with EFER.NXE, set by WRMSR, a fetch from an XD
 * page is #PF with I/D set; reads are fine. Without NXE bit 63 is
 * reserved: #PF with RSVD.
 */
static void test_pae_nx(void)
{
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = rig_paging_pae(&r);
	rig_map_pae(&r, cr3, 0x900000, 0x310000, PG_P | PG_W | PG_NX);
	rig_map_pae(&r, cr3, 0x901000, 0x311000, PG_P | PG_W);
	rig_map_pae_2m(&r, cr3, 0xc00000, 0x600000, PG_P | PG_NX);
	rig_wr8(&r, 0x310000, 0xc3); /* ret */
	rig_wr8(&r, 0x311000, 0xc3);
	rig_wr8(&r, 0x600000, 0xc3);
	EMIT(&r, MOV_RI(R_ECX, 0xc0000080), MOV_RI(R_EDX, 0),
	     MOV_RI(R_EAX, EFER_NXE), WRMSR,
	     LOAD(R_EAX, 0x900000), LOG_EAX, /* readable */
	     MOV_RI(R_EAX, 0x901000), 0xff, 0xd0, /* call eax: executable */
	     LOAD(R_EAX, 0xc00000), LOG_EAX,
	     MOV_RI(R_EAX, 0x900000), 0xff, 0xd0, /* call eax: XD */
	     HLT);
	run_paged(&r, cr3, CR4_PAE);
	CHECK_OUTS(&r, 0xc3, 0xc3);
	check_pf(&r, PFE_P | PFE_I, 0x900000, 0x900000);
	CHECK_EQ(r.st.efer, EFER_NXE);
	rig_close(&r);

	/* XD in a 2 MiB PDE */
	rig_open(&r);
	cr3 = rig_paging_pae(&r);
	rig_map_pae_2m(&r, cr3, 0xc00000, 0x600000, PG_P | PG_NX);
	rig_wr8(&r, 0x600010, 0xc3);
	EMIT(&r, MOV_RI(R_ECX, 0xc0000080), MOV_RI(R_EDX, 0),
	     MOV_RI(R_EAX, EFER_NXE), WRMSR,
	     MOV_RI(R_EAX, 0xc00010), 0xff, 0xd0, HLT);
	run_paged(&r, cr3, CR4_PAE);
	check_pf(&r, PFE_P | PFE_I, 0xc00010, 0xc00010);
	rig_close(&r);

	/* NXE clear: bit 63 is a reserved bit */
	rig_open(&r);
	cr3 = rig_paging_pae(&r);
	rig_map_pae(&r, cr3, 0x900000, 0x310000, PG_P | PG_W | PG_NX);
	EMIT(&r, LOAD(R_EAX, 0x900000), HLT);
	run_paged(&r, cr3, CR4_PAE);
	check_pf(&r, PFE_P | PFE_RSVD, 0x900000, CODE);
	rig_close(&r);
}

/*
 * Ring 3 -> ring 0 through an interrupt gate with paging: the pushes to
 * the ring-0 stack are supervisor accesses (SDM vol. 3, 4.6: implicit
 * supervisor-mode accesses), so a supervisor-only stack page works.
 */
static void test_privilege_change_supervisor_stack(void)
{
	struct rig r;
	struct x86_state s;
	u32 cr3, ret;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_idt(&r, 0x40, SEL_CODE0, CODE3, GATE_INT32, 3);
	EMIT(&r, INT(0x40));
	ret = r.pc;
	EMIT(&r, LOG_SREG(S_CS), INT(V_EXIT3));
	rig_org(&r, CODE3);
	EMIT(&r, LOG_STACK(0), LOG_STACK(4), LOG_STACK(12), LOG(R_ESP),
	     IRETD);
	rig_ring3_state(&r, &s, CODE);
	paging_on(&s, cr3);
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r, ret, SEL_CODE3, STACK3, ESP0 - 20, SEL_CODE3);
	rig_close(&r);
}

/* The same for a call gate with parameters, and RETF back. */
static void test_call_gate_supervisor_stack(void)
{
	struct rig r;
	struct x86_state s;
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_call_gate(&r, SEL_FREE, SEL_CODE0, CODE3, 3, 1);
	EMIT(&r, PUSH_I(0x1234), CALL_FAR(SEL_FREE | 3, 0),
	     LOG(R_ESP), INT(V_EXIT3));
	rig_org(&r, CODE3);
	EMIT(&r, LOG_STACK(8), LOG(R_ESP), 0xca, D16(4)); /* retf 4 */
	rig_ring3_state(&r, &s, CODE);
	paging_on(&s, cr3);
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r, 0x1234, ESP0 - 20, STACK3);
	rig_close(&r);
}

/* And for an interrupt from virtual-8086 mode. */
static void test_v86_interrupt_with_paging(void)
{
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_idt(&r, 0x40, SEL_CODE0, CODE3, GATE_INT32, 3);
	EMIT(&r, PUSH_I(0), PUSH_I(0), PUSH_I(0x2000), PUSH_I(0x2000),
	     PUSH_I(0x4000), PUSH_I(0xfff0), /* SS:SP = 0x4fff0 */
	     PUSH_I(FL_VM | FL_IOPL | 2), PUSH_I(V86_CS), PUSH_I(0x100),
	     IRETD);
	rig_org(&r, V86_CS * 16 + 0x100);
	/* mov word [0x10], 0x5678 */
	EMIT(&r, 0xc7, 0x06, D16(0x10), D16(0x5678),
	     INT(0x40),
	     0xb0, 0x99, 0xe6, RIG_PORT, /* mov al, 0x99; out 0xe0, al */
	     HLT);
	rig_org(&r, CODE3);
	EMIT(&r, LOG_STACK(4), LOG_STACK(16), IRETD);
	run_paged(&r, cr3, 0);
	CHECK_OUTS(&r, V86_CS, 0x4000, 0x99);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_rd16(&r, 0x20010), 0x5678);
	rig_close(&r);
}

/*
 * A #PF while pushing an interrupt frame to a missing ring-0 stack page:
 * a supervisor write, reported in the context of the INT (SDM vol. 3,
 * 6.14: the fault is taken before the interrupt's handler starts). A
 * task gate catches it so the interrupted state can be checked in the
 * TSS.
 */
static void test_page_fault_during_delivery(void)
{
	struct rig r;
	struct x86_state s;
	struct rig_task t = { .eip = STUBS + 16 * V_PF, .esp = 0x50000,
			      .cs = SEL_CODE0, .ss = SEL_DATA0,
			      .ds = SEL_DATA0, .esp0 = ESP0 };
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	t.cr3 = cr3;
	rig_map(&r, cr3, ESP0 - 0x1000, 0, 0); /* no ring-0 stack page */
	rig_tss(&r, TSS1, &t);
	rig_desc(&r, 0x48, TSS1, 0x67, A_TSS32);
	rig_wr64(&r, IDT + 8 * V_PF,
		 rig_gate_bits(0x48, 0, GATE_TASK, 0, 0, true));
	rig_idt(&r, 0x40, SEL_CODE0, CODE3, GATE_INT32, 3);
	EMIT(&r, MOV_RI(R_EAX, 0x77), INT(0x40), HLT);
	rig_ring3_state(&r, &s, CODE);
	paging_on(&s, cr3);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_PF, PFE_W);
	CHECK_EQ(r.st.cr2, ESP0 - 4);
	/* The interrupted task: at the INT, still in ring 3 */
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x20), CODE + 5); /* EIP */
	CHECK_EQ(rig_rd16(&r, TSS0 + 0x4c), SEL_CODE3); /* CS */
	CHECK_EQ(rig_rd16(&r, TSS0 + 0x50), SEL_DATA3); /* SS */
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x38), STACK3); /* ESP */
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x28), 0x77); /* EAX */
	rig_close(&r);
}

/*
 * Self-modifying code (SDM vol. 3, 11.6): a store into an instruction
 * that was already executed, or into the very next one, is seen by the
 * next fetch. Each loop runs the patched instruction from the decoded
 * cache before it is changed.
 */
static void test_self_modifying_code(void)
{
	struct rig r;
	u32 top, next;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 3));
	top = r.pc;
	next = top + 6;
	EMIT(&r, 0x88, 0x0d, D32(next + 1)); /* mov [next+1], cl */
	CHECK_EQ(r.pc, next);
	EMIT(&r, 0xb0, 0x00, /* next: mov al, 0 */
	     0xe6, RIG_PORT);
	EMIT(&r, 0xe2, (u8)(top - (r.pc + 2))); /* loop top */
	/* a patched instruction behind us, in a loop */
	EMIT(&r, MOV_RI(R_ECX, 3));
	top = r.pc;
	EMIT(&r, 0xb8, D32(0x1111)); /* top: mov eax, imm32 */
	EMIT(&r, LOG_EAX,
	     0x89, 0x0d, D32(top + 1)); /* mov [top+1], ecx */
	EMIT(&r, 0xe2, (u8)(top - (r.pc + 2)), /* loop top */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 3, 2, 1, 0x1111, 3, 2);
	rig_close(&r);
}

/*
 * Code written by stores into another page and called, twice with
 * different contents; and an instruction whose immediate crosses a
 * 128-byte boundary, patched only past it.
 */
static void test_generated_code(void)
{
	struct rig r;
	u32 insn = CODE4 + 0x7e; /* mov eax, imm32 across CODE4 + 0x80 */

	rig_open(&r);
	EMIT(&r, STORE_I(CODE3, 0xe0e611b0), /* mov al, 0x11; out 0xe0, al */
	     STORE_I(CODE3 + 4, 0xc3), /* ret */
	     MOV_RI(R_EAX, CODE3), 0xff, 0xd0, /* call eax */
	     0xc6, 0x05, D32(CODE3 + 1), 0x22, /* mov byte [CODE3+1], 0x22 */
	     MOV_RI(R_EAX, CODE3), 0xff, 0xd0,
	     /* rep stosb rewrites it again */
	     MOV_RI(R_EDI, CODE3 + 1), MOV_RI(R_ECX, 1),
	     MOV_RI(R_EAX, 0x33), 0xf3, 0xaa,
	     MOV_RI(R_EAX, CODE3), 0xff, 0xd0,
	     MOV_RI(R_EAX, insn), 0xff, 0xd0, /* call insn */
	     0xc6, 0x05, D32(insn + 4), 0x55, /* patch its top byte */
	     MOV_RI(R_EAX, insn), 0xff, 0xd0,
	     HLT);
	rig_org(&r, insn);
	EMIT(&r, 0xb8, D32(0x44332211), LOG_EAX, 0xc3);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x11, 0x22, 0x33, 0x44332211, 0x55332211);
	rig_close(&r);
}

/*
 * With paging, code patched through another linear alias of the same
 * physical page (a writable mapping next to an executable one).
 */
static void test_self_modifying_code_alias(void)
{
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x320000, PG_P); /* execute */
	rig_map(&r, cr3, 0x900000, 0x320000, PG_P | PG_W); /* write */
	rig_org(&r, 0x320000);
	EMIT(&r, 0xb0, 0x01, 0xe6, RIG_PORT, 0xc3); /* mov al, 1; out; ret */
	rig_org(&r, CODE);
	EMIT(&r, MOV_RI(R_EAX, 0x800000), 0xff, 0xd0,
	     0xc6, 0x05, D32(0x900001), 0x02, /* mov byte [0x900001], 2 */
	     MOV_RI(R_EAX, 0x800000), 0xff, 0xd0,
	     HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 1, 2);
	rig_close(&r);
}

/*
 * A REP STOSB running into a missing page faults with its progress in
 * ECX/EDI and EIP at the instruction; once the handler maps the page,
 * IRET resumes it (SDM vol. 2, REP; vol. 3, 6.5 restartable faults).
 */
static void test_rep_page_fault_restart(void)
{
	struct rig r;
	u32 cr3, pte, rep_at, i;
	bool all = true;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x300000, PG_P | PG_W);
	rig_map(&r, cr3, 0x801000, 0x301000, 0); /* not present */
	pte = rig_pte_addr(&r, cr3, 0x801000);
	rig_idt(&r, V_PF, SEL_CODE0, CODE2, GATE_INT32, 0);
	EMIT(&r, 0xfc, MOV_RI(R_EDI, 0x800800), MOV_RI(R_ECX, 0x1000),
	     MOV_RI(R_EAX, 0x5a));
	rep_at = r.pc;
	EMIT(&r, 0xf3, 0xaa, /* rep stosb */
	     LOG(R_ECX), LOG(R_EDI), HLT);
	rig_org(&r, CODE2);
	EMIT(&r, PUSH_R(R_EAX), LOG(R_ECX), LOG(R_EDI), LOG_CR(2),
	     LOG_STACK(4), /* the error code */
	     LOG_STACK(8), /* EIP */
	     STORE_I(pte, 0x301000 | PG_P | PG_W),
	     POP_R(R_EAX),
	     0x83, 0xc4, 0x04, /* add esp, 4: drop the error code */
	     IRETD);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x800, 0x801000, 0x801000, PFE_W, rep_at,
		   0, 0x801800);
	for (i = 0x300800; i < 0x301800; i++)
		all = all && rig_rd8(&r, i) == 0x5a;
	CHECK(all);
	CHECK_EQ(rig_rd8(&r, 0x301800), 0);
	rig_close(&r);
}

/*
 * An instruction whose bytes run into a missing page: #PF for that page,
 * EIP at the instruction's first byte (SDM vol. 3, 6.15, #PF).
 */
static void test_fetch_across_pages(void)
{
	struct rig r;
	u32 cr3;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x320000, PG_P | PG_W);
	rig_org(&r, 0x320ffd);
	EMIT(&r, 0xb8, D32(0x12345678)); /* mov eax, imm32 over the edge */
	rig_org(&r, CODE);
	EMIT(&r, MOV_RI(R_EAX, 0x800ffd), 0xff, 0xe0, HLT); /* jmp eax */
	run_paged(&r, cr3, 0);
	check_pf(&r, 0, 0x801000, 0x800ffd);
	rig_close(&r);

	/* Mapped, it runs */
	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x320000, PG_P | PG_W);
	rig_map(&r, cr3, 0x801000, 0x340000, PG_P | PG_W);
	rig_org(&r, 0x320ffd);
	EMIT(&r, 0xb8, 0x78, 0x56); /* mov eax, imm32: 3 bytes here */
	rig_org(&r, 0x340000);
	EMIT(&r, 0x34, 0x12, LOG_EAX, HLT); /* ... and 2 here */
	rig_org(&r, CODE);
	EMIT(&r, MOV_RI(R_EAX, 0x800ffd), 0xff, 0xe0);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x12345678);
	rig_close(&r);
}

/*
 * Executed code whose page is then remapped to other bytes: after
 * INVLPG the new bytes run (the decoded-instruction cache must follow
 * the translation, not the linear address).
 */
static void test_code_page_remap(void)
{
	struct rig r;
	u32 cr3, pte;

	rig_open(&r);
	cr3 = paging32(&r);
	rig_map(&r, cr3, 0x800000, 0x320000, PG_P);
	pte = rig_pte_addr(&r, cr3, 0x800000);
	rig_org(&r, 0x320000);
	EMIT(&r, 0xb0, 0x01, 0xe6, RIG_PORT, 0xc3); /* mov al, 1; out; ret */
	rig_org(&r, 0x321000);
	EMIT(&r, 0xb0, 0x02, 0xe6, RIG_PORT, 0xc3);
	rig_org(&r, CODE);
	EMIT(&r, MOV_RI(R_EAX, 0x800000), 0xff, 0xd0, /* call eax */
	     STORE_I(pte, 0x321000 | PG_P),
	     INVLPG(0x800000),
	     MOV_RI(R_EAX, 0x800000), 0xff, 0xd0,
	     HLT);
	run_paged(&r, cr3, 0);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 1, 2);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_4k_pages);
	RUN_TEST(test_4m_pages);
	RUN_TEST(test_not_present_faults);
	RUN_TEST(test_user_supervisor);
	RUN_TEST(test_read_only_pages);
	RUN_TEST(test_accessed_dirty);
	RUN_TEST(test_invlpg);
	RUN_TEST(test_cr3_reload);
	RUN_TEST(test_enable_paging_from_code);
	RUN_TEST(test_pae_paging);
	RUN_TEST(test_pae_nx);
	RUN_TEST(test_privilege_change_supervisor_stack);
	RUN_TEST(test_call_gate_supervisor_stack);
	RUN_TEST(test_v86_interrupt_with_paging);
	RUN_TEST(test_page_fault_during_delivery);
	RUN_TEST(test_self_modifying_code);
	RUN_TEST(test_generated_code);
	RUN_TEST(test_self_modifying_code_alias);
	RUN_TEST(test_rep_page_fault_restart);
	RUN_TEST(test_fetch_across_pages);
	RUN_TEST(test_code_page_remap);
	return unit_summary();
}

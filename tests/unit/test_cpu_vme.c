// SPDX-License-Identifier: MIT
/*
 * Virtual-8086 mode extensions (CR4.VME) and protected-mode virtual
 * interrupts (CR4.PVI), Intel SDM vol. 3, 20.3-20.4: with IOPL < 3 the
 * IF-sensitive instructions work on EFLAGS.VIF instead of faulting, and
 * INT n is redirected through the V86 task's own IVT when its bit in the
 * TSS interrupt redirection bitmap is clear.
 */
#include "cpu_rig.h"

/* clang-format off */

#define V86_CS 0x0800 /* V86 code at 0x8000 + IP */
#define V86_SS 0x4000
#define REDIR (TSS0 + 0x68 - 32) /* 32 bytes below the I/O bitmap */

/* mov eax, cr4; or eax, bits; mov cr4, eax */
#define SET_CR4(bits) 0x0f, 0x20, 0xe0, 0x0d, D32(bits), 0x0f, 0x22, 0xe0
/* V86 (16-bit): pushf; pop ax; out RIG_PORT, ax */
#define LOG_FLAGS16 0x9c, 0x58, 0xe7, RIG_PORT

/* clang-format on */

static void emit_iret_to_v86(struct rig *r, u32 eflags)
{
	EMIT(r, PUSH_I(0), PUSH_I(0), PUSH_I(0), PUSH_I(0), /* GS FS DS ES */
	     PUSH_I(V86_SS), PUSH_I(0xfff0), PUSH_I(eflags | FL_VM),
	     PUSH_I(V86_CS), PUSH_I(0x100), IRETD);
	rig_org(r, V86_CS * 16 + 0x100);
}

/* With VME and IOPL 0: CLI, STI, PUSHF, POPF act on VIF; IF stays set. */
static void test_vme_virtual_if(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, SET_CR4(CR4_VME));
	emit_iret_to_v86(&r, FL_IF);
	EMIT(&r, 0xfa, LOG_FLAGS16, /* cli: VIF = 0 */
	     0xfb, LOG_FLAGS16, /* sti: VIF = 1 */
	     0xb8, D16(0), 0x50, 0x9d, /* mov ax, 0; push ax; popf */
	     LOG_FLAGS16,
	     HLT); /* #GP(0): HLT is never allowed at CPL 3 */
	rig_run_pm(&r);
	CHECK_EQ(r.nout, 3);
	/* The image shows IOPL 3 and IF = VIF (SDM 20.3.2). */
	CHECK_EQ(r.out[0] & (FL_IF | FL_IOPL), FL_IOPL);
	CHECK_EQ(r.out[1] & (FL_IF | FL_IOPL), FL_IF | FL_IOPL);
	CHECK_EQ(r.out[2] & (FL_IF | FL_IOPL), FL_IOPL);
	CHECK_FAULT(&r, V_GP, 0);
	/* The real IF was never touched; VIF is clear after the POPF. */
	CHECK(rig_frame(&r, 3) & FL_IF);
	CHECK(rig_frame(&r, 3) & FL_VM);
	CHECK_EQ(rig_frame(&r, 3) & FL_VIF, 0);
	rig_close(&r);
}

/* STI with VIP set faults, so the monitor can deliver the pending IRQ. */
static void test_vme_sti_with_vip(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, SET_CR4(CR4_VME));
	emit_iret_to_v86(&r, FL_VIP);
	EMIT(&r, 0xfb, HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), 0x100); /* the STI itself */
	rig_close(&r);
}

/*
 * INT n: bit n clear in the redirection bitmap runs the V86 IVT handler
 * in V86 mode (SDM table 20-2, method 5); bit set with IOPL < 3 is
 * #GP(0) (method 2).
 */
static void test_vme_int_redirection(void)
{
	struct rig r;
	u32 ret;

	rig_open(&r);
	rig_wr8(&r, REDIR + 0x21 / 8, 0); /* INT 0x21: redirected */
	rig_wr8(&r, REDIR + 0x40 / 8, 1); /* INT 0x40: protected mode */
	rig_wr16(&r, 0x21 * 4, 0x200); /* V86 IVT: 0800:0200 */
	rig_wr16(&r, 0x21 * 4 + 2, V86_CS);
	EMIT(&r, SET_CR4(CR4_VME));
	emit_iret_to_v86(&r, FL_IF | FL_VIF);
	EMIT(&r, INT(0x21));
	ret = r.pc - V86_CS * 16;
	EMIT(&r, LOG_FLAGS16, INT(0x40), HLT);
	rig_org(&r, V86_CS * 16 + 0x200);
	EMIT(&r, LOG_FLAGS16, /* in the handler: VIF was cleared */
	     0x89, 0xe0, 0xe7, RIG_PORT, /* mov ax, sp; out */
	     0xcf); /* iret (16-bit) */
	rig_run_pm(&r);
	CHECK_EQ(r.nout, 3);
	CHECK_EQ(r.out[0] & (FL_IF | FL_IOPL), FL_IOPL);
	CHECK_EQ(r.out[1] & 0xffff, 0xfff0 - 6); /* FLAGS, CS, IP pushed */
	CHECK_EQ(r.out[2] & (FL_IF | FL_IOPL), FL_IF | FL_IOPL);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), ret + 4); /* the INT 0x40 */
	rig_close(&r);
}

/* PVI: CLI/STI at CPL 3 with IOPL 0 toggle VIF instead of faulting. */
static void test_pvi_cli_sti(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	EMIT(&r, 0xfa, 0xfb, 0xfa, INT(V_EXIT3));
	rig_ring3_state(&r, &s, CODE);
	s.cr4 = CR4_PVI;
	s.eflags = 2 | FL_IF | FL_VIF;
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK(rig_frame(&r, 2) & FL_IF);
	CHECK_EQ(rig_frame(&r, 2) & FL_VIF, 0);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_vme_virtual_if);
	RUN_TEST(test_vme_sti_with_vip);
	RUN_TEST(test_vme_int_redirection);
	RUN_TEST(test_pvi_cli_sti);
	return unit_summary();
}

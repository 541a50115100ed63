// SPDX-License-Identifier: MIT
/*
 * The soft CPU's protected-mode system behaviour, run as guest code:
 * entering and leaving protected mode, segment checks, interrupts and
 * exceptions through the IDT (gates, error codes, privilege changes,
 * double and triple faults), call gates, hardware task switches,
 * virtual-8086 mode, I/O permissions and interrupted REP strings.
 * Expected behaviour is from the Intel SDM vol. 3 (chapters 3, 5, 6, 7,
 * 9 and 20) and vol. 2 (the CALL, JMP, RET, IRET, INT, MOV pages).
 */
#include "cpu_rig.h"

/* clang-format off */

#define SEL_TSS1 0x48
#define SEL_TSS2 0x50
#define SEL_TSS3 0x58
#define SEL_LDT 0x60
#define SEL_GATE 0x68
#define V86_CS 0x0800 /* V86 code at 0x8000 + IP */
#define V86_SS 0x4000

/* mov eax, [esp+n]; out RIG_PORT, eax */
#define LOG_STACK(n) 0x8b, 0x44, 0x24, (u8)(n), 0xe7, RIG_PORT
/* mov eax, sreg; out RIG_PORT, eax */
#define LOG_SREG(sr) MOV_RS(R_EAX, sr), 0xe7, RIG_PORT


/* Access byte (descriptor byte 5) of a GDT entry. */
static u8 gdt_access(struct rig *r, u16 sel)
{
	return rig_rd8(r, GDT + (sel & ~7u) + 5);
}

/*
 * Firmware's way in and out (SDM vol. 3, 9.9.1 and 9.9.2): LGDT, set
 * CR0.PE, far JMP to a 32-bit code selector; back through a 16-bit code
 * segment, clear PE, far JMP to a real-mode segment.
 */
static void test_enter_and_leave_protected_mode(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_wr16(&r, 0x7b00, GDT_LIMIT); /* LGDT operand */
	rig_wr32(&r, 0x7b02, GDT);
	rig_wr8(&r, GDT + SEL_CODE0 + 5, 0x9a); /* accessed bit clear */
	rig_org(&r, 0x7c00);
	EMIT(&r, CLI,
	     0x0f, 0x01, 0x16, D16(0x7b00), /* lgdt [0x7b00] */
	     0x0f, 0x20, 0xc0, /* mov eax, cr0 */
	     0x66, 0x83, 0xc8, 0x01, /* or eax, 1 */
	     0x0f, 0x22, 0xc0, /* mov cr0, eax */
	     0x66, JMP_FAR(SEL_CODE0, 0x7d00)); /* jmp dword 0x08:0x7d00 */
	rig_org(&r, 0x7d00);
	EMIT(&r, MOV_RI(R_EAX, SEL_DATA0),
	     MOV_SR(S_DS, R_EAX), MOV_SR(S_ES, R_EAX), MOV_SR(S_SS, R_EAX),
	     MOV_RI(R_ESP, 0x7000),
	     LOG_CR(0),
	     LOG_SREG(S_CS),
	     PUSH_I(0x12345678), /* a 32-bit stack now */
	     LOG(R_ESP),
	     JMP_FAR(SEL_CODE16, 0x7e00));
	rig_org(&r, 0x7e00);
	EMIT(&r, 0xb8, D16(SEL_DATA16), /* mov ax, 0x38 */
	     0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, /* mov ds/es/ss, ax */
	     0x0f, 0x20, 0xc0, /* mov eax, cr0 */
	     0x66, 0x83, 0xe0, 0xfe, /* and eax, ~1 */
	     0x0f, 0x22, 0xc0, /* mov cr0, eax */
	     0xea, D16(0x7f00), D16(0)); /* jmp 0:0x7f00 */
	rig_org(&r, 0x7f00);
	EMIT(&r, 0x31, 0xc0, /* xor ax, ax */
	     0x8e, 0xd0, /* mov ss, ax */
	     0xb8, D16(0x2000), /* mov ax, 0x2000 */
	     0x8e, 0xd8, /* mov ds, ax */
	     /* mov word [0x1234], 0xbeef */
	     0xc7, 0x06, D16(0x1234), D16(0xbeef),
	     0x8c, 0xc8, /* mov ax, cs */
	     0xe7, RIG_PORT, /* out 0xe0, ax */
	     0x0f, 0x20, 0xc0, /* mov eax, cr0 */
	     0x66, 0xe7, RIG_PORT, /* out 0xe0, eax */
	     HLT);
	rig_real_state(&r, &s);
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, CR0_ET | CR0_PE, SEL_CODE0, 0x7000 - 4, 0, CR0_ET);
	CHECK_EQ(r.st.cr0 & CR0_PE, 0);
	CHECK_EQ(r.st.seg[S_CS].selector, 0);
	CHECK_EQ(r.st.seg[S_CS].base, 0);
	CHECK_EQ(r.st.seg[S_DS].base, 0x20000);
	CHECK_EQ(rig_rd16(&r, 0x21234), 0xbeef);
	CHECK_EQ(r.st.gdtr.base, GDT);
	CHECK_EQ(r.st.gdtr.limit, GDT_LIMIT);
	/* Loading a descriptor sets its accessed bit (SDM 3.4.5.1). */
	CHECK_EQ(gdt_access(&r, SEL_CODE0), 0x9b);
	rig_close(&r);
}

/*
 * One segment case: load sreg with sel (the descriptor at SEL_FREE has
 * base DATA, the limit and attributes given), then run the access code
 * with EBP = 0 and, for SS, ESP inside the segment. Returns the vector.
 */
static int seg_case(struct rig *r, u16 attr, u32 limit, int sreg, u16 sel,
		    const u8 *access, u32 len)
{
	rig_desc(r, SEL_FREE, DATA, limit, attr);
	EMIT(r, MOV_RI(R_EAX, sel),
	     MOV_SR(sreg, R_EAX), /* mov sreg, eax */
	     MOV_RI(R_EBP, 0));
	/* For SS, a stack pointer inside the segment (either direction) */
	if (sreg == S_SS)
		EMIT(r, MOV_RI(R_ESP, (attr & 0xc) == 0x4 ? 0xfffff000u
							    : 0xf00u));
	rig_emit(r, access, len);
	EMIT(r, HLT);
	rig_run_pm(r);
	return rig_vector(r);
}

#define SEG_CASE(r, attr, limit, sreg, sel, ...)                            \
	seg_case(r, attr, limit, sreg, sel, (const u8[]){ __VA_ARGS__ },    \
		 sizeof((const u8[]){ __VA_ARGS__ }))

/* mov eax, [off] (DS) / mov [off], eax / mov eax, [ebp+off] (SS) */
#define RD_DS(off) 0x8b, 0x05, D32(off)
#define WR_DS(off) 0x89, 0x05, D32(off)
#define RD_SS(off) 0x8b, 0x85, D32(off)
#define WRB_DS(off) 0x88, 0x05, D32(off) /* mov [off], al */

/* Expand-up and expand-down limits (SDM vol. 3, 5.3, 6.15 #GP, #SS). */
static void test_segment_limits(void)
{
	static const struct {
		u16 attr;
		u32 limit;
		int sreg;
		u8 op; /* 0: read dword, 1: write dword, 2: write byte */
		u32 off;
		int vector;
	} cases[] = {
		{ A_DATA | A_DB, 0xfff, S_DS, 0, 0xffc, -1 },
		{ A_DATA | A_DB, 0xfff, S_DS, 0, 0xffd, V_GP },
		{ A_DATA | A_DB, 0xfff, S_DS, 2, 0x1000, V_GP },
		{ A_DATA | A_DB, 0xfff, S_DS, 2, 0xfff, -1 },
		{ A_DATA | A_DB, 0xfff, S_DS, 1, 0xfffffffe, V_GP }, /* wraps */
		/* expand-down, B = 1: valid offsets 0x1000..0xFFFFFFFF */
		{ A_P | A_S | 0x6 | A_DB, 0xfff, S_DS, 0, 0x1000, -1 },
		{ A_P | A_S | 0x6 | A_DB, 0xfff, S_DS, 0, 0xffe, V_GP },
		{ A_P | A_S | 0x6 | A_DB, 0xfff, S_DS, 1, 0xfffffffc, -1 },
		/* expand-down, B = 0: valid offsets 0x1000..0xFFFF */
		{ A_P | A_S | 0x6, 0xfff, S_DS, 0, 0xfffc, -1 },
		{ A_P | A_S | 0x6, 0xfff, S_DS, 0, 0xfffd, V_GP },
		{ A_P | A_S | 0x6, 0xfff, S_DS, 0, 0x10000, V_GP },
		/* the stack segment reports #SS(0) instead */
		{ A_DATA | A_DB, 0xfff, S_SS, 0, 0xffc, -1 },
		{ A_DATA | A_DB, 0xfff, S_SS, 0, 0xffd, V_SS },
		{ A_P | A_S | 0x6 | A_DB, 0x7ff, S_SS, 0, 0x7ff, V_SS },
		{ A_P | A_S | 0x6 | A_DB, 0x7ff, S_SS, 0, 0x800, -1 },
		/* byte granularity vs 4 KiB granularity of the limit */
		{ A_DATA | A_DB | A_G, 0x1fff, S_DS, 0, 0x1ffc, -1 },
		{ A_DATA | A_DB | A_G, 0x1fff, S_DS, 0, 0x2000, V_GP },
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rig r;
		int v;

		rig_open(&r);
		if (cases[i].sreg == S_SS)
			v = SEG_CASE(&r, cases[i].attr, cases[i].limit, S_SS,
				     SEL_FREE, RD_SS(cases[i].off));
		else if (cases[i].op == 0)
			v = SEG_CASE(&r, cases[i].attr, cases[i].limit, S_DS,
				     SEL_FREE, RD_DS(cases[i].off));
		else if (cases[i].op == 1)
			v = SEG_CASE(&r, cases[i].attr, cases[i].limit, S_DS,
				     SEL_FREE, WR_DS(cases[i].off));
		else
			v = SEG_CASE(&r, cases[i].attr, cases[i].limit, S_DS,
				     SEL_FREE, WRB_DS(cases[i].off));
		if (v != cases[i].vector)
			fprintf(stderr, "  case %u: vector %d\n", i, v);
		CHECK_EQ(v, cases[i].vector);
		if (v >= 0)
			CHECK_EQ(rig_frame(&r, 0), 0);
		rig_close(&r);
	}
}

/* Loading segment registers (SDM vol. 2, MOV; vol. 3, 5.5 and 5.6). */
static void test_segment_loads(void)
{
	static const struct {
		u16 attr;
		int sreg;
		u16 sel;
		int vector;
		u32 err;
	} cases[] = {
		/* SS: writable data with DPL = RPL = CPL, present */
		{ A_DATA32, S_SS, SEL_FREE, -1, 0 },
		{ A_DATA32 | A_DPL(3), S_SS, SEL_FREE, V_GP, SEL_FREE },
		{ A_DATA32, S_SS, SEL_FREE | 3, V_GP, SEL_FREE },
		{ A_P | A_S | 0x0 | A_DB, S_SS, SEL_FREE, V_GP, SEL_FREE },
		{ A_CODE32, S_SS, SEL_FREE, V_GP, SEL_FREE },
		{ A_DATA32 & ~A_P, S_SS, SEL_FREE, V_SS, SEL_FREE },
		{ A_DATA32, S_SS, 0, V_GP, 0 }, /* null SS */
		/* DS: data or readable code, DPL >= max(CPL, RPL) */
		{ A_DATA32, S_DS, SEL_FREE | 3, V_GP, SEL_FREE },
		{ A_DATA32 | A_DPL(3), S_DS, SEL_FREE | 3, -1, 0 },
		{ A_CODE32, S_DS, SEL_FREE, -1, 0 },
		{ A_P | A_S | 0x8 | A_DB, S_DS, SEL_FREE, V_GP, SEL_FREE },
		{ A_DATA32 & ~A_P, S_DS, SEL_FREE, V_NP, SEL_FREE },
		{ A_DATA32 & ~A_P, S_ES, SEL_FREE | 3, V_GP, SEL_FREE },
		{ A_DATA32 | A_DPL(3), S_FS, 0x400, V_GP, 0x400 }, /* > limit */
		{ A_TSS32, S_GS, SEL_FREE, V_GP, SEL_FREE }, /* system */
		{ A_DATA32, S_DS, 0, -1, 0 }, /* null DS loads */
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rig r;
		int v;

		rig_open(&r);
		v = SEG_CASE(&r, cases[i].attr, FLAT, cases[i].sreg,
			     cases[i].sel, 0x90);
		if (v != cases[i].vector)
			fprintf(stderr, "  case %u: vector %d\n", i, v);
		CHECK_EQ(v, cases[i].vector);
		if (v >= 0)
			CHECK_EQ(rig_frame(&r, 0), cases[i].err);
		else
			CHECK_EQ(r.st.seg[cases[i].sreg].selector,
				 cases[i].sel);
		rig_close(&r);
	}
}

/* A null selector loads, but using it is #GP(0) (SDM vol. 3, 5.4.1). */
static void test_null_segment_use(void)
{
	struct rig r;
	u32 at;

	rig_open(&r);
	EMIT(&r, 0x31, 0xc0, /* xor eax, eax */
	     MOV_SR(S_DS, R_EAX),
	     LOG_EAX);
	at = r.pc;
	EMIT(&r, 0xa1, D32(DATA), /* mov eax, [DATA] */
	     HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), at);
	CHECK_OUTS(&r, 0);
	CHECK_EQ(r.st.seg[S_DS].selector, 0);
	rig_close(&r);
}

/* Writes to code and read-only data segments fault (SDM vol. 3, 5.4). */
static void test_segment_rights(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, 0x2e, 0x8b, 0x05, D32(DATA), /* mov eax, cs:[DATA]: readable */
	     0x2e, 0x89, 0x05, D32(DATA), /* mov cs:[DATA], eax */
	     HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 7);
	rig_close(&r);

	rig_open(&r);
	CHECK_EQ(SEG_CASE(&r, A_CODE32, FLAT, S_DS, SEL_FREE,
			  RD_DS(0), WR_DS(0)), V_GP);
	CHECK_EQ(rig_frame(&r, 0), 0);
	rig_close(&r);

	rig_open(&r);
	CHECK_EQ(SEG_CASE(&r, A_P | A_S | A_DB | A_G, FLAT, S_DS, SEL_FREE,
			  RD_DS(0), WR_DS(0)), V_GP); /* read-only data */
	CHECK_EQ(rig_frame(&r, 0), 0);
	CHECK_EQ(rig_frame(&r, 1), r.pc - 7);
	rig_close(&r);
}

/* Segments from an LDT; a not-present one is #NP with TI set in the code. */
static void test_ldt_segments(void)
{
	struct rig r;
	const u32 ldt = 0x9000;

	rig_open(&r);
	rig_desc(&r, SEL_LDT, ldt, 0x1f, A_P | 0x2);
	rig_wr64(&r, ldt + 8, rig_desc_bits(DATA, FLAT, A_DATA32));
	rig_wr64(&r, ldt + 16,
		 rig_desc_bits(DATA, FLAT, (A_DATA32 | A_DPL(3)) & ~A_P));
	rig_wr32(&r, DATA + 4, 0x600d);
	EMIT(&r, MOV_RI(R_EAX, SEL_LDT),
	     0x0f, 0x00, 0xd0, /* lldt ax */
	     MOV_RI(R_EAX, 0x0c), /* index 1, TI = 1 */
	     MOV_SR(S_ES, R_EAX),
	     0x26, 0xa1, D32(4), /* mov eax, es:[4] */
	     LOG_EAX,
	     0x0f, 0x00, 0xc0, /* sldt eax */
	     LOG_EAX,
	     MOV_RI(R_EAX, 0x17), /* index 2, TI = 1, RPL 3 */
	     MOV_SR(S_FS, R_EAX),
	     HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_NP, 0x14);
	CHECK_OUTS(&r, 0x600d, SEL_LDT);
	CHECK_EQ(r.st.ldtr.base, ldt);
	CHECK_EQ(r.st.seg[S_ES].base, DATA);
	rig_close(&r);
}

/* Interrupt gates clear IF, trap gates leave it (SDM vol. 3, 6.12.1.3). */
static void test_interrupt_and_trap_gates(void)
{
	struct rig r;
	u32 ret1, ret2;

	rig_open(&r);
	rig_idt(&r, 0x40, SEL_CODE0, CODE2, GATE_INT32, 0);
	rig_idt(&r, 0x41, SEL_CODE0, CODE2, GATE_TRAP32, 0);
	EMIT(&r, STI,
	     0xf9, /* stc: flags survive the round trip */
	     INT(0x40));
	ret1 = r.pc;
	EMIT(&r, INT(0x41));
	ret2 = r.pc;
	EMIT(&r, LOG_FLAGS, LOG(R_ESP), HLT);
	rig_org(&r, CODE2);
	EMIT(&r, LOG_FLAGS, /* handler's EFLAGS */
	     LOG_STACK(0), LOG_STACK(4), LOG_STACK(8), /* EIP, CS, EFLAGS */
	     IRETD);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 2 | FL_CF, ret1, SEL_CODE0, 0x203,
		   2 | FL_CF | FL_IF, ret2, SEL_CODE0, 0x203,
		   0x203, STACK0);
	rig_close(&r);
}

/* Enter ring 3 at CODE2 by IRET from ring 0, data segments DPL 3. */
static void emit_iret_to_ring3(struct rig *r, u32 eflags)
{
	EMIT(r, PUSH_I(SEL_DATA3), /* SS */
	     PUSH_I(STACK3), /* ESP */
	     PUSH_I(eflags),
	     PUSH_I(SEL_CODE3), /* CS */
	     PUSH_I(CODE2), /* EIP */
	     MOV_RI(R_EAX, SEL_DATA3),
	     MOV_SR(S_ES, R_EAX), /* ES usable in ring 3; DS stays DPL 0 */
	     IRETD);
}

/*
 * Ring 3 -> ring 0 through an interrupt gate: SS:ESP from the TSS, the
 * old SS, ESP, EFLAGS, CS, EIP pushed (SDM vol. 3, 6.12.1, figure 6-4);
 * IRET back to ring 3 nulls data segments ring 3 may not use.
 */
static void test_privilege_change_interrupt(void)
{
	struct rig r;
	u32 ret;

	rig_open(&r);
	rig_idt(&r, 0x40, SEL_CODE0, CODE3, GATE_INT32, 3);
	emit_iret_to_ring3(&r, 0x202);
	rig_org(&r, CODE2);
	EMIT(&r, LOG_SREG(S_CS), LOG_SREG(S_DS), LOG_SREG(S_ES),
	     MOV_RI(R_EBX, 0x3333),
	     INT(0x40));
	ret = r.pc;
	EMIT(&r, LOG_SREG(S_CS), LOG_SREG(S_SS), LOG(R_ESP), LOG(R_EBX),
	     LOG_FLAGS,
	     INT(V_EXIT3));
	rig_org(&r, CODE3);
	EMIT(&r, LOG_STACK(0), LOG_STACK(4), LOG_STACK(8), LOG_STACK(12),
	     LOG_STACK(16),
	     LOG_SREG(S_SS), LOG(R_ESP), LOG_SREG(S_CS), LOG_FLAGS,
	     MOV_RI(R_EBX, 0x4444),
	     IRETD);
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r,
		   /* ring 3 after IRET: DS (DPL 0) was nulled */
		   SEL_CODE3, 0, SEL_DATA3,
		   /* the ring-0 handler's frame and registers */
		   ret, SEL_CODE3, 0x202, STACK3, SEL_DATA3,
		   SEL_DATA0, ESP0 - 20, SEL_CODE0, 0x002,
		   /* back in ring 3 */
		   SEL_CODE3, SEL_DATA3, STACK3, 0x4444, 0x202);
	rig_close(&r);
}

/* INT n from ring 3 to a DPL-0 gate: #GP(n * 8 + 2) (SDM 6.12.1.1). */
static void test_int_to_privileged_gate(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 1), INT(0x41), HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, IDT_ERR(0x41));
	CHECK_EQ(rig_frame(&r, 1), CODE + 5); /* the INT itself */
	CHECK_EQ(rig_frame(&r, 2), SEL_CODE3);
	CHECK_EQ(rig_frame(&r, 4), STACK3);
	CHECK_EQ(rig_frame(&r, 5), SEL_DATA3);
	rig_close(&r);

	/* INT3 is a software interrupt too; CLI at CPL 3 > IOPL is #GP(0) */
	rig_open(&r);
	EMIT(&r, 0xcc, HLT); /* int3 */
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, IDT_ERR(V_BP));
	rig_close(&r);

	rig_open(&r);
	EMIT(&r, CLI, HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE);
	rig_close(&r);
}

/* Error codes of #NP for a gate, #GP past the IDT limit, EXT for INTR. */
static void test_idt_error_codes(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_idt_not_present(&r, 0x60);
	EMIT(&r, INT(0x60), HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_NP, IDT_ERR(0x60));
	CHECK_EQ(rig_frame(&r, 1), CODE);
	rig_close(&r);

	/* A software INT past the IDT limit: #GP(n * 8 + 2) */
	rig_open(&r);
	EMIT(&r, INT(0x90), HLT);
	rig_pm_state(&r, &s);
	s.idtr.limit = 0x3ff;
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, IDT_ERR(0x90));
	rig_close(&r);

	/* An external interrupt past the limit sets EXT (SDM 6.13) */
	rig_open(&r);
	EMIT(&r, 0x90, HLT);
	rig_pm_state(&r, &s);
	s.idtr.limit = 0x3ff;
	s.eflags |= FL_IF;
	r.irq_vector = 0x90;
	soft_engine_ops.set_intr(r.vcpu, true);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, IDT_ERR(0x90) + 1);
	CHECK_EQ(rig_frame(&r, 1), CODE);
	CHECK_EQ(r.intacks, 1);
	rig_close(&r);

	/* A gate whose code segment is not present: #NP(sel + EXT) */
	rig_open(&r);
	rig_desc(&r, SEL_FREE, 0, FLAT, A_CODE32 & ~A_P);
	rig_idt(&r, 0x61, SEL_FREE, CODE2, GATE_INT32, 0);
	EMIT(&r, INT(0x61), HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_NP, SEL_FREE);
	rig_close(&r);

	/* IRET with NT set and a back link that is no TSS: #TS(link) */
	rig_open(&r);
	rig_wr16(&r, TSS0, SEL_DATA0);
	EMIT(&r, PUSHFD,
	     0x81, 0x0c, 0x24, D32(FL_NT), /* or dword [esp], NT */
	     POPFD,
	     IRETD,
	     HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_TS, SEL_DATA0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 9);
	rig_close(&r);
}

/*
 * #GP whose own gate is not present: #NP while delivering a contributory
 * exception makes a double fault, error code 0 (SDM vol. 3, table 6-5).
 */
static void test_double_fault(void)
{
	struct rig r;

	rig_open(&r);
	rig_idt_not_present(&r, V_GP);
	EMIT(&r, MOV_RI(R_EAX, 0x400), MOV_SR(S_DS, R_EAX), HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_DF, 0);
	CHECK_EQ(r.exit, VCPU_EXIT_HALT);
	rig_close(&r);
}

/* And if #DF cannot be delivered either: shutdown (SDM 6.15, int 8). */
static void test_triple_fault(void)
{
	struct rig r;

	rig_open(&r);
	rig_idt_not_present(&r, V_GP);
	rig_idt_not_present(&r, V_DF);
	EMIT(&r, MOV_RI(R_EAX, 0x400), MOV_SR(S_DS, R_EAX), HLT);
	CHECK_EQ(rig_run_pm(&r), VCPU_EXIT_SHUTDOWN);
	rig_close(&r);

	/* An IDT limit of 0 is the classic way to reset a 286/386. */
	rig_open(&r);
	{
		struct x86_state s;

		EMIT(&r, INT(3), HLT);
		rig_pm_state(&r, &s);
		s.idtr.limit = 0;
		CHECK_EQ(rig_run_state(&r, &s), VCPU_EXIT_SHUTDOWN);
	}
	rig_close(&r);
}

/* CALL through a call gate at the same privilege (SDM vol. 3, 5.8.4). */
static void test_call_gate_same_level(void)
{
	struct rig r;
	u32 ret;

	rig_open(&r);
	rig_call_gate(&r, SEL_FREE, SEL_CODE0, CODE2, 0, 0);
	EMIT(&r, CALL_FAR(SEL_FREE, 0xdeadbeef)); /* offset ignored */
	ret = r.pc;
	EMIT(&r, LOG(R_ESP), HLT);
	rig_org(&r, CODE2);
	EMIT(&r, LOG_STACK(0), LOG_STACK(4), LOG(R_ESP), RETF);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, ret, SEL_CODE0, STACK0 - 8, STACK0);
	rig_close(&r);
}

/*
 * CALL from ring 3 through a DPL-3 call gate to ring 0 with two dword
 * parameters copied to the new stack (SDM vol. 3, 5.8.5, figure 5-13);
 * RETF 8 back to ring 3 releases them on both stacks and nulls a data
 * segment register whose DPL is below the new CPL (5.8.6).
 */
static void test_call_gate_to_ring0(void)
{
	struct rig r;
	struct x86_state s;
	u32 ret;

	rig_open(&r);
	rig_call_gate(&r, SEL_FREE, SEL_CODE0, CODE3, 3, 2);
	EMIT(&r, PUSH_I(0x1111), PUSH_I(0x2222),
	     CALL_FAR(SEL_FREE | 3, 0));
	ret = r.pc;
	EMIT(&r, LOG_SREG(S_CS), LOG_SREG(S_SS), LOG(R_ESP),
	     LOG_SREG(S_DS), LOG_SREG(S_ES),
	     INT(V_EXIT3));
	rig_org(&r, CODE3);
	EMIT(&r, LOG_STACK(0), LOG_STACK(4), LOG_STACK(8), LOG_STACK(12),
	     LOG_STACK(16), LOG_STACK(20),
	     LOG_SREG(S_SS), LOG(R_ESP), LOG_SREG(S_CS),
	     MOV_RI(R_EAX, SEL_DATA0), MOV_SR(S_DS, R_EAX),
	     0xca, D16(8)); /* retf 8 */
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r,
		   /* ring 0: EIP, CS, the two parameters, ESP, SS */
		   ret, SEL_CODE3, 0x2222, 0x1111, STACK3 - 8, SEL_DATA3,
		   SEL_DATA0, ESP0 - 24, SEL_CODE0,
		   /* ring 3 again: DS (DPL 0) nulled, ES (DPL 3) kept */
		   SEL_CODE3, SEL_DATA3, STACK3, 0, SEL_DATA3);
	rig_close(&r);
}

/* Call gate checks: gate DPL < CPL is #GP(gate), not present #NP. */
static void test_call_gate_checks(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_call_gate(&r, SEL_FREE, SEL_CODE0, CODE3, 0, 0);
	EMIT(&r, CALL_FAR(SEL_FREE | 3, 0), HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, SEL_FREE);
	rig_close(&r);

	rig_open(&r);
	rig_wr64(&r, GDT + SEL_FREE,
		 rig_gate_bits(SEL_CODE0, CODE3, GATE_CALL32, 0, 0, false));
	EMIT(&r, CALL_FAR(SEL_FREE, 0), HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_NP, SEL_FREE);
	rig_close(&r);

	/* JMP through a call gate cannot raise the privilege level */
	rig_open(&r);
	rig_call_gate(&r, SEL_FREE, SEL_CODE0, CODE3, 3, 0);
	EMIT(&r, JMP_FAR(SEL_FREE | 3, 0), HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, SEL_CODE0);
	rig_close(&r);
}

static void setup_task(struct rig *r, u16 sel, u32 base, u32 eip, u32 esp)
{
	struct rig_task t = { .eip = eip, .esp = esp, .cs = SEL_CODE0,
			      .ss = SEL_DATA0, .ds = SEL_DATA0, .esp0 = ESP0 };

	rig_tss(r, base, &t);
	rig_desc(r, sel, base, 0x67, A_TSS32);
}

/*
 * JMP to a TSS descriptor (SDM vol. 3, 7.3): the old task's state goes
 * into its TSS, its busy bit clears, the new one's is set; no back link,
 * NT clear; CR0.TS set.
 */
static void test_task_switch_jmp(void)
{
	struct rig r;
	u32 after;

	rig_open(&r);
	setup_task(&r, SEL_TSS1, TSS1, CODE2, 0x50000);
	rig_wr32(&r, TSS1 + 0x2c, 0xc0c0); /* the new task's ECX */
	EMIT(&r, MOV_RI(R_EAX, 0x1111), MOV_RI(R_EBX, 0x2222),
	     JMP_FAR(SEL_TSS1, 0));
	after = r.pc;
	EMIT(&r, HLT);
	rig_org(&r, CODE2);
	EMIT(&r, LOG(R_ECX), LOG_FLAGS, LOG(R_ESP),
	     0x0f, 0x00, 0xc8, /* str eax */
	     LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xc0c0, 2, 0x50000, SEL_TSS1);
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x20), after); /* EIP */
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x28), 0x1111); /* EAX */
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x34), 0x2222); /* EBX */
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x38), STACK0); /* ESP */
	CHECK_EQ(rig_rd16(&r, TSS0 + 0x4c), SEL_CODE0); /* CS */
	CHECK_EQ(gdt_access(&r, SEL_TSS0), 0x89); /* no longer busy */
	CHECK_EQ(gdt_access(&r, SEL_TSS1), 0x8b); /* busy */
	CHECK_EQ(rig_rd16(&r, TSS1), 0); /* no back link */
	CHECK_EQ(r.st.tr.selector, SEL_TSS1);
	CHECK_EQ(r.st.tr.base, TSS1);
	CHECK(r.st.cr0 & CR0_TS);
	rig_close(&r);
}

/*
 * CALL to a TSS nests the task: back link to the caller, NT set, both
 * busy. IRET with NT returns through the back link, clears the callee's
 * busy bit and its saved NT; a second CALL resumes it after its IRET.
 */
static void test_task_switch_call_iret(void)
{
	struct rig r;

	rig_open(&r);
	setup_task(&r, SEL_TSS1, TSS1, CODE2, 0x50000);
	EMIT(&r, MOV_RI(R_EBX, 0xaaaa),
	     CALL_FAR(SEL_TSS1, 0),
	     LOG(R_EBX), LOG_FLAGS,
	     0x0f, 0x00, 0xc8, LOG_EAX, /* str eax */
	     CALL_FAR(SEL_TSS1, 0),
	     LOG(R_EBX),
	     HLT);
	rig_org(&r, CODE2);
	EMIT(&r, LOG_FLAGS,
	     LOAD(R_EAX, TSS1), LOG_EAX, /* back link */
	     0x0f, 0x00, 0xc8, LOG_EAX, /* str eax */
	     MOV_RI(R_EBX, 0xbbbb),
	     IRETD,
	     MOV_RI(R_EAX, 0xb2), LOG_EAX,
	     IRETD);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 2 | FL_NT, SEL_TSS0, SEL_TSS1,
		   0xaaaa, 2, SEL_TSS0,
		   0xb2, 0xaaaa);
	CHECK_EQ(gdt_access(&r, SEL_TSS0), 0x8b);
	CHECK_EQ(gdt_access(&r, SEL_TSS1), 0x89);
	CHECK_EQ(rig_rd32(&r, TSS1 + 0x24) & FL_NT, 0);
	CHECK_EQ(rig_rd32(&r, TSS1 + 0x34), 0xbbbb);
	CHECK_EQ(r.st.tr.selector, SEL_TSS0);
	CHECK_EQ(r.st.eflags & FL_NT, 0);
	rig_close(&r);
}

/* A busy TSS cannot be called again: #GP(sel) (SDM vol. 3, 7.3). */
static void test_task_switch_busy(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, CALL_FAR(SEL_TSS0, 0), HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, SEL_TSS0);
	rig_close(&r);
}

/*
 * Task gates in the IDT (SDM vol. 3, 6.12.2): INT n nests the handler
 * task; an exception through a task gate pushes its error code on the
 * handler task's stack.
 */
static void test_task_gates(void)
{
	struct rig r;

	rig_open(&r);
	setup_task(&r, SEL_TSS2, TSS2, CODE2, 0x50000);
	rig_wr64(&r, IDT + 8 * 0x50,
		 rig_gate_bits(SEL_TSS2, 0, GATE_TASK, 0, 0, true));
	EMIT(&r, INT(0x50), MOV_RI(R_EAX, 0x77), LOG_EAX, HLT);
	rig_org(&r, CODE2);
	EMIT(&r, LOG_FLAGS, LOAD(R_EAX, TSS2), LOG_EAX, IRETD);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 2 | FL_NT, SEL_TSS0, 0x77);
	rig_close(&r);

	rig_open(&r);
	setup_task(&r, SEL_TSS3, TSS3, STUBS + 16 * V_GP, 0x60000);
	rig_wr64(&r, IDT + 8 * V_GP,
		 rig_gate_bits(SEL_TSS3, 0, GATE_TASK, 0, 0, true));
	EMIT(&r, MOV_RI(R_EAX, 0x400), MOV_SR(S_DS, R_EAX), HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0x400);
	CHECK_EQ(r.st.gpr[R_ESP], 0x60000 - 4);
	CHECK_EQ(r.st.tr.selector, SEL_TSS3);
	CHECK_EQ(rig_rd32(&r, TSS0 + 0x20), CODE + 5); /* faulting EIP */
	CHECK_EQ(rig_rd16(&r, TSS3), SEL_TSS0);
	rig_close(&r);
}

/*
 * From ring 0, IRET with VM set in the popped EFLAGS enters virtual-8086
 * mode, popping ESP, SS, ES, DS, FS, GS too (SDM vol. 3, 20.2.5).
 */
static void emit_iret_to_v86(struct rig *r, u32 eflags)
{
	EMIT(r, PUSH_I(0), PUSH_I(0x5000), /* GS, FS */
	     PUSH_I(0x2000), PUSH_I(0x3000), /* DS, ES */
	     PUSH_I(V86_SS), PUSH_I(0xfff0), /* SS, ESP */
	     PUSH_I(eflags | FL_VM), PUSH_I(V86_CS), PUSH_I(0x100),
	     IRETD);
	rig_org(r, V86_CS * 16 + 0x100);
}

/*
 * INT n in V86 mode with IOPL 3 goes to the ring-0 handler with the
 * V86 frame (SDM vol. 3, 20.3.1.1, figure 20-5), DS..GS zeroed; IRET
 * returns to V86 mode.
 */
static void test_v86_interrupt(void)
{
	struct rig r;
	u32 ret;

	rig_open(&r);
	rig_idt(&r, 0x40, SEL_CODE0, CODE2, GATE_INT32, 3);
	emit_iret_to_v86(&r, FL_IOPL);
	EMIT(&r, 0x8c, 0xc8, 0xe7, RIG_PORT, /* mov ax, cs; out 0xe0, ax */
	     0x8c, 0xd8, 0xe7, RIG_PORT, /* mov ax, ds; out 0xe0, ax */
	     0xc7, 0x06, D16(0x10), D16(0x5678), /* mov word [0x10], 0x5678 */
	     INT(0x40));
	ret = r.pc - V86_CS * 16;
	EMIT(&r, 0x8c, 0xd8, 0xe7, RIG_PORT, /* mov ax, ds; out */
	     0x89, 0xe0, 0xe7, RIG_PORT, /* mov ax, sp; out */
	     HLT); /* #GP(0) in V86 mode */
	rig_org(&r, CODE2);
	EMIT(&r, LOG_STACK(0), LOG_STACK(4), LOG_STACK(8), LOG_STACK(12),
	     LOG_STACK(16), LOG_STACK(20), LOG_STACK(24), LOG_STACK(28),
	     LOG_STACK(32),
	     LOG_SREG(S_DS), LOG_SREG(S_ES), LOG_SREG(S_FS), LOG_SREG(S_GS),
	     LOG_SREG(S_SS), LOG(R_ESP), LOG_SREG(S_CS),
	     IRETD);
	rig_run_pm(&r);
	CHECK_OUTS(&r, V86_CS, 0x2000,
		   /* EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS */
		   ret, V86_CS, FL_VM | FL_IOPL | 2, 0xfff0, V86_SS, 0x3000,
		   0x2000, 0x5000, 0,
		   0, 0, 0, 0, SEL_DATA0, ESP0 - 36, SEL_CODE0,
		   0x2000, 0xfff0);
	CHECK_EQ(rig_rd16(&r, 0x20010), 0x5678);
	/* HLT at CPL 3: #GP(0) with a V86 frame */
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), ret + 8);
	CHECK_EQ(rig_frame(&r, 2), V86_CS);
	CHECK(rig_frame(&r, 3) & FL_VM);
	CHECK_EQ(r.st.seg[S_DS].selector, 0);
	CHECK_EQ(r.st.eflags & FL_VM, 0);
	rig_close(&r);
}

/* V86 mode with IOPL < 3: INT n, CLI, PUSHF are #GP(0) (SDM 20.2.7). */
static void test_v86_iopl_sensitive(void)
{
	static const u8 insns[][2] = {
		{ 0xcd, 0x40 }, /* int 0x40 */
		{ 0xfa, 0x90 }, /* cli */
		{ 0xfb, 0x90 }, /* sti */
		{ 0x9c, 0x90 }, /* pushf */
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(insns); i++) {
		struct rig r;

		rig_open(&r);
		rig_idt(&r, 0x40, SEL_CODE0, CODE2, GATE_INT32, 3);
		emit_iret_to_v86(&r, 0);
		EMIT(&r, 0x90);
		rig_emit(&r, insns[i], 2);
		rig_run_pm(&r);
		CHECK_FAULT(&r, V_GP, 0);
		CHECK_EQ(rig_frame(&r, 1), 0x101);
		CHECK_EQ(rig_frame(&r, 5), V86_SS);
		rig_close(&r);
	}
}

/*
 * The TSS I/O bitmap (SDM vol. 1, 19.5.2): consulted at CPL > IOPL and
 * always in V86 mode; every bit of a multi-byte access must be clear.
 */
static void test_io_permission_bitmap(void)
{
	struct rig r;
	struct x86_state s;

	/* Ring 3, IOPL 0: 0xE0 allowed, 0x80 not */
	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 0x42), 0xe6, RIG_PORT, /* out 0xe0, al */
	     0xe6, 0x80, /* out 0x80, al */
	     HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 7);
	CHECK_OUTS(&r, 0x42);
	rig_close(&r);

	/* Ring 3, IOPL 3: the bitmap is not used */
	rig_open(&r);
	EMIT(&r, 0xe6, 0x80, MOV_RI(R_EAX, 0x43), 0xe6, RIG_PORT,
	     INT(V_EXIT3));
	rig_ring3_state(&r, &s, CODE);
	s.eflags |= FL_IOPL;
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r, 0x43);
	rig_close(&r);

	/* A word access needs both ports' bits clear */
	rig_open(&r);
	rig_io_allow(&r, 0x100, true);
	EMIT(&r, MOV_RI(R_EDX, 0x100),
	     0xee, /* out dx, al */
	     0x66, 0xef, /* out dx, ax: port 0x101 denied */
	     HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 6);
	rig_close(&r);

	/* V86 mode with IOPL 3 still obeys the bitmap */
	rig_open(&r);
	emit_iret_to_v86(&r, FL_IOPL);
	EMIT(&r, 0xb0, 0x44, 0xe6, RIG_PORT, /* mov al, 0x44; out 0xe0, al */
	     0xe6, 0x80); /* out 0x80, al */
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), 0x104);
	CHECK_OUTS(&r, 0x44);
	rig_close(&r);

	/* IN and INS check the bitmap too */
	rig_open(&r);
	rig_io_allow(&r, 0x80, true);
	EMIT(&r, 0xe4, 0x80, /* in al, 0x80: allowed, reads 0xff */
	     0x0f, 0xb6, 0xc0, LOG_EAX, /* movzx eax, al */
	     MOV_RI(R_EDI, DATA), MOV_RI(R_EDX, 0x81),
	     0x6c, /* insb: port 0x81 denied */
	     HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 17);
	CHECK_OUTS(&r, 0xff);
	CHECK_EQ(rig_rd8(&r, DATA), 0);
	rig_close(&r);
}

/* An interrupt handler that reports ECX and the pushed EIP. */
static void emit_irq_handler(struct rig *r)
{
	rig_idt(r, 0x50, SEL_CODE0, CODE2, GATE_INT32, 0);
	rig_org(r, CODE2);
	EMIT(r, PUSH_R(R_EAX), LOG(R_ECX), LOG_STACK(4), POP_R(R_EAX),
	     IRETD);
	rig_org(r, CODE);
}

/*
 * An external interrupt between iterations of a REP string instruction
 * is taken with EIP at the instruction, the registers showing the work
 * done; IRET resumes it (SDM vol. 2, REP; vol. 3, 6.6).
 */
static void test_rep_movs_interrupted(void)
{
	struct rig r;
	struct x86_state s;
	const u32 n = 1000;
	u32 rep_at, i;
	bool same = true;

	rig_open(&r);
	emit_irq_handler(&r);
	r.irq_vector = 0x50;
	r.mmio_irq_after = 100;
	EMIT(&r, 0xfc, MOV_RI(R_ESI, RIG_MMIO), MOV_RI(R_EDI, DATA),
	     MOV_RI(R_ECX, n));
	rep_at = r.pc;
	EMIT(&r, 0xf3, 0xa4, /* rep movsb from MMIO to RAM */
	     LOG(R_ECX), LOG(R_EDI), HLT);
	rig_pm_state(&r, &s);
	s.eflags |= FL_IF;
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, n - 100, rep_at, 0, DATA + n);
	CHECK_EQ(r.intacks, 1);
	CHECK_EQ(r.mmio_reads, n);
	for (i = 0; i < n; i++)
		same = same && rig_rd8(&r, DATA + i) == (u8)i;
	CHECK(same);
	rig_close(&r);
}

/* The same for REP OUTSB, the device raising INTR at its 10th byte. */
static void test_rep_outs_interrupted(void)
{
	struct rig r;
	struct x86_state s;
	u32 rep_at;

	rig_open(&r);
	emit_irq_handler(&r);
	r.irq_vector = 0x50;
	r.irq_after = 10;
	EMIT(&r, 0xfc, MOV_RI(R_ESI, DATA), MOV_RI(R_EDX, RIG_PORT_COUNT),
	     MOV_RI(R_ECX, 64));
	rep_at = r.pc;
	EMIT(&r, 0xf3, 0x6e, /* rep outsb */
	     LOG(R_ECX), LOG(R_ESI), HLT);
	rig_pm_state(&r, &s);
	s.eflags |= FL_IF;
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 54, rep_at, 0, DATA + 64);
	CHECK_EQ(r.count_writes, 64);
	rig_close(&r);
}

/* SYSENTER to ring 0 and SYSEXIT to ring 3 (SDM vol. 2, SYSENTER). */
static void test_sysenter_sysexit(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	/* SYSEXIT's ring-3 selectors: SYSENTER_CS + 16 and + 24 */
	rig_desc(&r, SEL_CODE0 + 16, 0, FLAT, A_CODE32 | A_DPL(3));
	rig_desc(&r, SEL_CODE0 + 24, 0, FLAT, A_DATA32 | A_DPL(3));
	EMIT(&r, MOV_RI(R_EDX, 0), MOV_RI(R_ECX, 0x174),
	     MOV_RI(R_EAX, SEL_CODE0), WRMSR,
	     MOV_RI(R_ECX, 0x175), MOV_RI(R_EAX, ESP0), WRMSR,
	     MOV_RI(R_ECX, 0x176), MOV_RI(R_EAX, CODE3), WRMSR,
	     MOV_RI(R_EDX, CODE2), MOV_RI(R_ECX, STACK3),
	     0x0f, 0x35); /* sysexit */
	rig_org(&r, CODE2);
	EMIT(&r, LOG_SREG(S_CS), LOG_SREG(S_SS), LOG(R_ESP),
	     0x0f, 0x34); /* sysenter */
	rig_org(&r, CODE3);
	EMIT(&r, LOG_SREG(S_CS), LOG_SREG(S_SS), LOG(R_ESP), LOG_FLAGS, HLT);
	rig_pm_state(&r, &s);
	s.eflags |= FL_IF;
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, SEL_CODE0 + 16 + 3, SEL_CODE0 + 24 + 3, STACK3,
		   SEL_CODE0, SEL_CODE0 + 8, ESP0, 2);
	rig_close(&r);
}

/*
 * A stack fault on the inner stack of a privilege change names the new
 * SS (INT n and CALL: #SS(NewSS + EXT)) and is taken in the caller's
 * context. A task gate for #SS lets the test see the state it saved.
 */
static void inner_stack_fault_setup(struct rig *r)
{
	rig_desc(r, SEL_FREE, 0x30000, 0xfff, A_DATA32 & ~A_G);
	rig_wr32(r, TSS0 + 4, 8); /* ESP0: room for two dwords only */
	rig_wr16(r, TSS0 + 8, SEL_FREE); /* SS0 */
	setup_task(r, SEL_TSS1, TSS1, STUBS + 16 * V_SS, 0x50000);
	rig_wr64(r, IDT + 8 * V_SS,
		 rig_gate_bits(SEL_TSS1, 0, GATE_TASK, 0, 0, true));
}

static void check_ring3_saved(struct rig *r, u32 eip)
{
	CHECK_EQ(rig_rd32(r, TSS0 + 0x20), eip);
	CHECK_EQ(rig_rd16(r, TSS0 + 0x4c), SEL_CODE3);
	CHECK_EQ(rig_rd16(r, TSS0 + 0x50), SEL_DATA3);
	CHECK_EQ(rig_rd32(r, TSS0 + 0x38), STACK3);
	CHECK_EQ(rig_rd32(r, TSS0 + 0x24) & FL_VM, 0);
}

static void test_inner_stack_faults(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	inner_stack_fault_setup(&r);
	rig_idt(&r, 0x40, SEL_CODE0, CODE3, GATE_INT32, 3);
	EMIT(&r, INT(0x40), HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_SS, SEL_FREE);
	check_ring3_saved(&r, CODE);
	rig_close(&r);

	rig_open(&r);
	inner_stack_fault_setup(&r);
	rig_call_gate(&r, SEL_GATE, SEL_CODE0, CODE3, 3, 0);
	EMIT(&r, CALL_FAR(SEL_GATE | 3, 0), HLT);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_SS, SEL_FREE);
	check_ring3_saved(&r, CODE);
	rig_close(&r);
}

/* ARPL raises a selector's RPL to another's (SDM vol. 2, ARPL). */
static void test_arpl(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_wr16(&r, DATA, 0x0011);
	EMIT(&r, MOV_RI(R_EAX, 0xabcd0010), MOV_RI(R_EBX, SEL_CODE3),
	     0x63, 0xd8, /* arpl ax, bx */
	     MOV_RR(R_ECX, R_EAX), LOG_FLAGS, LOG(R_ECX),
	     0x63, 0xd8, /* arpl ax, bx: already 3 */
	     LOG_FLAGS,
	     0x63, 0x1d, D32(DATA), /* arpl [DATA], bx */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 3);
	CHECK_EQ(r.out[0] & FL_ZF, FL_ZF);
	CHECK_EQ(r.out[1], 0xabcd0013);
	CHECK_EQ(r.out[2] & FL_ZF, 0);
	CHECK_EQ(rig_rd16(&r, DATA), 0x0013);
	rig_close(&r);

	/* Not recognized in real mode: #UD */
	rig_open(&r);
	rig_org(&r, 0x7c00);
	EMIT(&r, 0x63, 0xd8, HLT);
	rig_real_state(&r, &s);
	rig_wr32(&r, 4 * V_UD, 0x7d00); /* IVT: #UD -> 0:0x7d00 */
	rig_org(&r, 0x7d00);
	EMIT(&r, MOV_RI(R_EAX, V_UD), 0x66, 0xe7, RIG_PORT, HLT);
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, V_UD);
	rig_close(&r);
}

/*
 * EFLAGS.ID and AC can be toggled on this CPU (how software detects
 * CPUID and a 486, SDM vol. 1, 3.4.3.3 and 19.1).
 */
static void test_eflags_id_ac(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, PUSHFD, POP_R(R_EAX),
	     0x35, D32(FL_ID | FL_AC), /* xor eax, ID | AC */
	     PUSH_R(R_EAX), POPFD, PUSHFD, POP_R(R_EAX), LOG_EAX,
	     0x35, D32(FL_ID | FL_AC),
	     PUSH_R(R_EAX), POPFD, PUSHFD, POP_R(R_EAX), LOG_EAX,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 2 | FL_ID | FL_AC, 2);
	rig_close(&r);
}

/*
 * POPF and IRET at CPL 3 leave IOPL alone, and IF unless CPL <= IOPL
 * (SDM vol. 2, POPF, IRET); neither faults.
 */
static void test_popf_iret_privilege(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	EMIT(&r, PUSH_I(2 | FL_CF | FL_IOPL), /* IF clear, IOPL 3 */
	     POPFD, LOG_FLAGS,
	     PUSH_I(2 | FL_IOPL | FL_DF), /* EFLAGS image for IRET */
	     PUSH_I(SEL_CODE3));
	EMIT(&r, PUSH_I(r.pc + 6), /* the instruction after IRETD */
	     IRETD,
	     LOG_FLAGS, INT(V_EXIT3));
	rig_ring3_state(&r, &s, CODE);
	s.eflags |= FL_IF;
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r, 2 | FL_CF | FL_IF, 2 | FL_DF | FL_IF);
	rig_close(&r);
}

/* LAR, LSL, VERR, VERW (SDM vol. 2): ZF says whether it was allowed. */
static void test_lar_lsl_verr_verw(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	/* exec-only */
	rig_desc(&r, SEL_FREE, 0, 0x12fff, A_P | A_S | 0x8 | A_DPL(3));
	/* read-only */
	rig_desc(&r, SEL_FREE + 8, 0, 0x3ff, A_P | A_S | 0x0 | A_DPL(3));
	EMIT(&r, MOV_RI(R_ECX, SEL_CODE3),
	     0x0f, 0x02, 0xc1, /* lar eax, ecx */
	     LOG_EAX, LOG_FLAGS,
	     MOV_RI(R_ECX, SEL_FREE + 8 + 3),
	     0x0f, 0x03, 0xc1, /* lsl eax, ecx */
	     LOG_EAX,
	     MOV_RI(R_ECX, SEL_FREE + 3),
	     0x0f, 0x03, 0xc1, LOG_EAX, /* lsl: byte-granular 0x12fff */
	     0x0f, 0x00, 0xe1, LOG_FLAGS, /* verr cx: exec-only */
	     MOV_RI(R_ECX, SEL_FREE + 8 + 3),
	     0x0f, 0x00, 0xe1, LOG_FLAGS, /* verr: read-only data */
	     0x0f, 0x00, 0xe9, LOG_FLAGS, /* verw: read-only data */
	     MOV_RI(R_ECX, SEL_DATA0),
	     0x0f, 0x00, 0xe1, LOG_FLAGS, /* verr: DPL 0 from ring 3 */
	     MOV_RI(R_ECX, 0),
	     0x0f, 0x02, 0xc1, LOG_FLAGS, /* lar of null */
	     INT(V_EXIT3));
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_EQ(r.nout, 9);
	/* G, D, P, DPL 3, code; bits 19:16 are undefined */
	CHECK_EQ(r.out[0] & ~0xf0000u, 0x00c0fa00);
	CHECK_EQ(r.out[1] & FL_ZF, FL_ZF);
	CHECK_EQ(r.out[2], 0x3ff);
	CHECK_EQ(r.out[3], 0x12fff);
	CHECK_EQ(r.out[4] & FL_ZF, 0);
	CHECK_EQ(r.out[5] & FL_ZF, FL_ZF);
	CHECK_EQ(r.out[6] & FL_ZF, 0);
	CHECK_EQ(r.out[7] & FL_ZF, 0);
	CHECK_EQ(r.out[8] & FL_ZF, 0);
	rig_close(&r);
}

/*
 * Segment limits survive a return to real mode ("unreal mode", SDM
 * vol. 3, 9.9.2 only requires reloading them): DS keeps a 4 GiB limit
 * after a real-mode load changes its base.
 */
static void test_unreal_mode(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_wr32(&r, 0x200000, 0xfeedface);
	rig_wr32(&r, 0x210000, 0x0badcafe);
	rig_wr16(&r, 0x7b00, GDT_LIMIT);
	rig_wr32(&r, 0x7b02, GDT);
	rig_org(&r, 0x7c00);
	EMIT(&r, 0x0f, 0x01, 0x16, D16(0x7b00), /* lgdt [0x7b00] */
	     0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x01, /* cr0.PE = 1 */
	     0x0f, 0x22, 0xc0,
	     0xb8, D16(SEL_DATA0), 0x8e, 0xd8, /* mov ds, 0x10: 4 GiB */
	     0x0f, 0x20, 0xc0, 0x66, 0x83, 0xe0, 0xfe, /* cr0.PE = 0 */
	     0x0f, 0x22, 0xc0,
	     0x66, 0xbe, D32(0x200000), /* mov esi, 0x200000 */
	     0x67, 0x66, 0x8b, 0x06, /* mov eax, [esi] */
	     0x66, 0xe7, RIG_PORT,
	     0xb8, D16(0x1000), 0x8e, 0xd8, /* mov ds, 0x1000 */
	     0x67, 0x66, 0x8b, 0x06, /* mov eax, [esi]: 0x10000 + esi */
	     0x66, 0xe7, RIG_PORT,
	     HLT);
	rig_real_state(&r, &s);
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xfeedface, 0x0badcafe);
	CHECK_EQ(r.st.seg[S_DS].limit, FLAT);
	rig_close(&r);
}

/* A far CALL to conforming code keeps the CPL (SDM vol. 3, 5.8.1.2). */
static void test_conforming_code(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_desc(&r, SEL_FREE, 0, FLAT, A_CODE32 | 0x4); /* conforming, DPL 0 */
	EMIT(&r, CALL_FAR(SEL_FREE | 3, CODE2), LOG_SREG(S_CS),
	     INT(V_EXIT3));
	rig_org(&r, CODE2);
	EMIT(&r, LOG_SREG(S_CS), LOG_STACK(4), RETF);
	rig_ring3_state(&r, &s, CODE);
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r, SEL_FREE | 3, SEL_CODE3, SEL_CODE3);
	rig_close(&r);
}

/* A 16-bit interrupt gate pushes a 16-bit frame (SDM vol. 3, 6.11). */
static void test_16bit_interrupt_gate(void)
{
	struct rig r;

	rig_open(&r);
	rig_idt(&r, 0x40, SEL_CODE0, 0x9100, 0x6, 0); /* 16-bit int gate */
	rig_org(&r, 0x9000); /* below 64 KiB: IP fits in the frame */
	EMIT(&r, 0xf9, INT(0x40), LOG(R_ESP), HLT);
	rig_org(&r, 0x9100);
	EMIT(&r, LOG(R_ESP),
	     0x0f, 0xb7, 0x04, 0x24, LOG_EAX, /* movzx eax, word [esp] */
	     0x0f, 0xb7, 0x44, 0x24, 0x02, LOG_EAX, /* CS */
	     0x0f, 0xb7, 0x44, 0x24, 0x04, LOG_EAX, /* FLAGS */
	     0x66, IRETD); /* 16-bit IRET */
	{
		struct x86_state s;

		rig_pm_state(&r, &s);
		s.eip = 0x9000;
		rig_run_state(&r, &s);
	}
	CHECK_DONE(&r);
	CHECK_OUTS(&r, STACK0 - 6, 0x9003, SEL_CODE0, 2 | FL_CF, STACK0);
	rig_close(&r);
}

/* MOV to control registers checks its operand (SDM vol. 2, MOV CR). */
static void test_control_register_checks(void)
{
	static const struct {
		u8 cr;
		u32 value;
		int vector;
	} cases[] = {
		{ 0, CR0_PG | CR0_ET, V_GP }, /* PG without PE */
		{ 0, CR0_PE | CR0_NW | CR0_ET, V_GP }, /* NW without CD */
		{ 4, BIT(13), V_GP }, /* VMXE: reserved here */
		{ 1, 0, V_UD },
		{ 5, 0, V_UD },
		{ 0, CR0_PE | CR0_ET | CR0_TS, -1 },
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rig r;

		rig_open(&r);
		EMIT(&r, MOV_RI(R_EAX, cases[i].value),
		     MOV_CR_R(cases[i].cr, R_EAX), HLT);
		rig_run_pm(&r);
		CHECK_EQ(rig_vector(&r), cases[i].vector);
		if (cases[i].vector == V_GP)
			CHECK_EQ(rig_frame(&r, 0), 0);
		rig_close(&r);
	}
}

/* CR0.TS makes x87 instructions #NM; CLTS clears it (SDM vol. 3, 2.5). */
static void test_device_not_available(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	EMIT(&r, 0xdb, 0xe3, HLT); /* fninit */
	rig_pm_state(&r, &s);
	s.cr0 |= CR0_TS;
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_NM);
	CHECK_EQ(rig_frame(&r, 0), CODE);
	rig_close(&r);

	rig_open(&r);
	EMIT(&r, 0x0f, 0x06, /* clts */
	     0xdb, 0xe3, LOG_CR(0), HLT);
	rig_pm_state(&r, &s);
	s.cr0 |= CR0_TS | CR0_MP;
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, s.cr0 & ~CR0_TS);
	rig_close(&r);
}

/* FS/GS overrides with their own bases; LSS/LFS (SDM vol. 2, LDS). */
static void test_fs_gs_lss(void)
{
	struct rig r;

	rig_open(&r);
	rig_desc(&r, SEL_FREE, DATA, FLAT, A_DATA32);
	rig_wr32(&r, DATA + 0x10, 0x1010);
	rig_wr32(&r, DATA + 0x100, 0x7000); /* far pointer: offset */
	rig_wr16(&r, DATA + 0x104, SEL_FREE); /* and selector */
	EMIT(&r, MOV_RI(R_EAX, SEL_FREE), MOV_SR(S_FS, R_EAX),
	     0x64, 0xa1, D32(0x10), LOG_EAX, /* mov eax, fs:[0x10] */
	     0x0f, 0xb5, 0x1d, D32(DATA + 0x100), /* lgs ebx, [DATA+0x100] */
	     0x65, 0x8b, 0x43, 0x10 - 0x10, /* mov eax, gs:[ebx] */
	     LOG(R_EBX),
	     0x0f, 0xb2, 0x25, D32(DATA + 0x100), /* lss esp, [DATA+0x100] */
	     PUSH_I(0x5555),
	     LOG(R_ESP), LOG_SREG(S_SS),
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x1010, 0x7000, 0x7000 - 4, SEL_FREE);
	CHECK_EQ(rig_rd32(&r, DATA + 0x7000 - 4), 0x5555);
	rig_close(&r);
}

/*
 * Trap-class exceptions report the next instruction, faults their own
 * (SDM vol. 3, 6.5): INT3 and INTO vs BOUND and UD2.
 */
static void test_trap_and_fault_eips(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, 0xcc, HLT); /* int3 */
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), V_BP);
	CHECK_EQ(rig_frame(&r, 0), CODE + 1);
	rig_close(&r);

	rig_open(&r);
	EMIT(&r, MOV_RI(R_EAX, 0x7fffffff), 0x40, /* inc eax: OF */
	     0xce, HLT); /* into */
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), 4);
	CHECK_EQ(rig_frame(&r, 0), CODE + 7);
	rig_close(&r);

	rig_open(&r);
	rig_wr32(&r, DATA, 10);
	rig_wr32(&r, DATA + 4, 20);
	EMIT(&r, MOV_RI(R_EAX, 21),
	     0x62, 0x05, D32(DATA), /* bound eax, [DATA] */
	     HLT);
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), 5);
	CHECK_EQ(rig_frame(&r, 0), CODE + 5);
	rig_close(&r);

	rig_open(&r);
	EMIT(&r, 0x90, 0x0f, 0x0b, HLT); /* nop; ud2 */
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), V_UD);
	CHECK_EQ(rig_frame(&r, 0), CODE + 1);
	rig_close(&r);
}

/* PUSH ESP pushes the old value; POP ESP loads it (SDM vol. 2, PUSH). */
static void test_push_pop_esp(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, PUSH_R(R_ESP), POP_R(R_EAX), LOG_EAX,
	     PUSH_I(0x2f000), POP_R(R_ESP), LOG(R_ESP),
	     MOV_RI(R_EAX, 0xa), MOV_RI(R_ECX, 0xc), MOV_RI(R_EBX, 0xb),
	     0x60, /* pushad */
	     0x8b, 0x44, 0x24, 12, LOG_EAX, /* the pushed ESP */
	     MOV_RI(R_ECX, 0),
	     0x61, /* popad */
	     LOG(R_ECX), LOG(R_ESP),
	     MOV_RI(R_ESP, 0x2e000),
	     0x66, 0x1e, LOG(R_ESP), /* push ds (16-bit) */
	     0x1e, LOG(R_ESP), /* push ds: 4 bytes, 2 written */
	     HLT);
	rig_wr32(&r, 0x2e000 - 8, 0xdddddddd);
	rig_wr32(&r, 0x2e000 - 4, 0xdddddddd);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, STACK0, 0x2f000, 0x2f000, 0xc, 0x2f000, 0x2e000 - 2,
		   0x2e000 - 6);
	CHECK_EQ(rig_rd32(&r, 0x2e000 - 6), 0xdddd0000 | SEL_DATA0);
	rig_close(&r);
}

/*
 * STI; HLT: the interrupt that is already pending is taken after the
 * HLT (STI's one-instruction shadow, SDM vol. 2, STI), returning after it.
 */
static void test_sti_hlt(void)
{
	struct rig r;
	u32 after_hlt;

	rig_open(&r);
	emit_irq_handler(&r);
	r.irq_vector = 0x50;
	EMIT(&r, MOV_RI(R_ECX, 0x5c), STI, HLT);
	after_hlt = r.pc;
	EMIT(&r, MOV_RI(R_EAX, 0xd0e), LOG_EAX, HLT);
	soft_engine_ops.set_intr(r.vcpu, true);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x5c, after_hlt, 0xd0e);
	CHECK_EQ(r.intacks, 1);
	rig_close(&r);
}

/* NMI is taken with IF clear, through IDT vector 2 (SDM vol. 3, 6.7). */
static void test_nmi(void)
{
	struct rig r;
	u32 after;

	rig_open(&r);
	rig_idt(&r, 2, SEL_CODE0, CODE2, GATE_INT32, 0);
	rig_org(&r, CODE2);
	EMIT(&r, LOG_STACK(0), LOG_FLAGS, IRETD);
	rig_org(&r, CODE);
	EMIT(&r, CLI, 0xe6, RIG_PORT_NMI); /* out 0xea, al: NMI */
	after = r.pc;
	EMIT(&r, MOV_RI(R_EAX, 0xe0e0), LOG_EAX, HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, after, 2, 0xe0e0);
	CHECK_EQ(r.intacks, 0);
	rig_close(&r);
}

/*
 * EFLAGS.TF: a debug trap after each instruction, starting after the
 * one following the POPF that set it; B S in DR6 (SDM vol. 3, 17.3.1.4).
 */
static void test_single_step(void)
{
	struct rig r;
	u32 nop_end;

	rig_open(&r);
	EMIT(&r, PUSH_I(2 | FL_TF), POPFD, 0x90);
	nop_end = r.pc;
	EMIT(&r, 0x90, HLT);
	rig_run_pm(&r);
	CHECK_EQ(rig_vector(&r), V_DB);
	CHECK_EQ(rig_frame(&r, 0), nop_end);
	CHECK(rig_frame(&r, 2) & FL_TF);
	CHECK_EQ(r.st.eflags & FL_TF, 0);
	CHECK(r.st.dr[6] & BIT(14));
	rig_close(&r);
}

/* A task switch loads LDTR from the TSS before the data segments. */
static void test_task_switch_ldt(void)
{
	struct rig r;
	const u32 ldt = 0x9000;

	rig_open(&r);
	setup_task(&r, SEL_TSS1, TSS1, CODE2, 0x50000);
	rig_desc(&r, SEL_LDT, ldt, 0xf, A_P | 0x2);
	rig_wr64(&r, ldt + 8, rig_desc_bits(DATA, FLAT, A_DATA32));
	rig_wr16(&r, TSS1 + 0x60, SEL_LDT);
	rig_wr16(&r, TSS1 + 0x54, 0x0c); /* DS: LDT entry 1 */
	rig_wr32(&r, DATA + 8, 0x1d7);
	EMIT(&r, JMP_FAR(SEL_TSS1, 0));
	rig_org(&r, CODE2);
	EMIT(&r, 0xa1, D32(8), LOG_EAX, /* mov eax, [8] */
	     0x0f, 0x00, 0xc0, LOG_EAX, /* sldt eax */
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0x1d7, SEL_LDT);
	CHECK_EQ(r.st.ldtr.base, ldt);
	CHECK_EQ(r.st.seg[S_DS].base, DATA);
	rig_close(&r);
}

/* REPE CMPSB and REPNE SCASB stop on the condition (SDM vol. 2, REP). */
static void test_rep_compare(void)
{
	struct rig r;

	rig_open(&r);
	rig_write(&r, DATA, "abcdefgh", 8);
	rig_write(&r, DATA + 0x100, "abcdXfgh", 8);
	EMIT(&r, 0xfc, MOV_RI(R_ESI, DATA), MOV_RI(R_EDI, DATA + 0x100),
	     MOV_RI(R_ECX, 8),
	     0xf3, 0xa6, /* repe cmpsb */
	     LOG(R_ECX), LOG(R_ESI), LOG_FLAGS,
	     MOV_RI(R_EDI, DATA), MOV_RI(R_ECX, 8), MOV_RI(R_EAX, 'f'),
	     0xf2, 0xae, /* repne scasb */
	     LOG(R_ECX), LOG(R_EDI), LOG_FLAGS,
	     MOV_RI(R_EDI, DATA), MOV_RI(R_ECX, 8), MOV_RI(R_EAX, 'z'),
	     0xf2, 0xae, /* repne scasb: not found */
	     LOG(R_ECX), LOG_FLAGS,
	     HLT);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 8);
	CHECK_EQ(r.out[0], 3);
	CHECK_EQ(r.out[1], DATA + 5);
	CHECK_EQ(r.out[2] & FL_ZF, 0);
	CHECK_EQ(r.out[3], 2);
	CHECK_EQ(r.out[4], DATA + 6);
	CHECK_EQ(r.out[5] & FL_ZF, FL_ZF);
	CHECK_EQ(r.out[6], 0);
	CHECK_EQ(r.out[7] & FL_ZF, 0);
	rig_close(&r);
}

/* Near CALL/RET with a 16-bit operand size push and pop 2 bytes. */
static void test_near_call_ret_sizes(void)
{
	struct rig r;

	rig_open(&r);
	rig_org(&r, 0x9000); /* below 64 KiB: the 16-bit IP suffices */
	EMIT(&r, 0x66, 0xe8, D16(0x100 - 4 - 0), /* call 0x9100 (o16) */
	     LOG(R_ESP), HLT);
	rig_org(&r, 0x9100);
	EMIT(&r, LOG(R_ESP),
	     0x0f, 0xb7, 0x04, 0x24, LOG_EAX, /* movzx eax, word [esp] */
	     PUSH_I(0x1234), /* one dword the RET releases */
	     0x66, 0x8b, 0x44, 0x24, 0x04, /* mov ax, [esp+4]: return IP */
	     0x66, 0x89, 0x04, 0x24, /* mov [esp], ax */
	     0x66, 0xc2, D16(4)); /* ret 4 (o16): IP, then 4 bytes */
	{
		struct x86_state s;

		rig_pm_state(&r, &s);
		s.eip = 0x9000;
		rig_run_state(&r, &s);
	}
	CHECK_DONE(&r);
	CHECK_OUTS(&r, STACK0 - 2, 0x9004, STACK0);
	rig_close(&r);
}

/*
 * Instructions reserved to CPL 0 are #GP(0) at CPL 3 (SDM vol. 3, 5.9);
 * the ones that only read descriptor-table registers are not (no UMIP
 * on this CPU).
 */
static void test_privileged_instructions(void)
{
	static const struct {
		u8 len;
		u8 bytes[7];
	} insns[] = {
		{ 1, { 0xf4 } }, /* hlt */
		{ 2, { 0x0f, 0x06 } }, /* clts */
		{ 7, { 0x0f, 0x01, 0x15, D32(DATA) } }, /* lgdt [DATA] */
		{ 7, { 0x0f, 0x01, 0x1d, D32(DATA) } }, /* lidt [DATA] */
		{ 3, { 0x0f, 0x00, 0xd0 } }, /* lldt ax */
		{ 3, { 0x0f, 0x00, 0xd8 } }, /* ltr ax */
		{ 3, { 0x0f, 0x01, 0xf0 } }, /* lmsw ax */
		{ 3, { 0x0f, 0x22, 0xc0 } }, /* mov cr0, eax */
		{ 3, { 0x0f, 0x20, 0xd8 } }, /* mov eax, cr3 */
		{ 3, { 0x0f, 0x23, 0xf8 } }, /* mov dr7, eax */
		{ 2, { 0x0f, 0x08 } }, /* invd */
		{ 2, { 0x0f, 0x09 } }, /* wbinvd */
		{ 2, { 0x0f, 0x32 } }, /* rdmsr */
		{ 2, { 0x0f, 0x30 } }, /* wrmsr */
		{ 2, { 0x0f, 0x35 } }, /* sysexit */
		{ 2, { 0x0f, 0x33 } }, /* rdpmc with CR4.PCE clear */
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(insns); i++) {
		struct rig r;
		struct x86_state s;

		rig_open(&r);
		EMIT(&r, MOV_RI(R_EAX, 0), MOV_RI(R_ECX, 0));
		rig_emit(&r, insns[i].bytes, insns[i].len);
		EMIT(&r, INT(V_EXIT3));
		rig_ring3_state(&r, &s, CODE);
		s.cr4 = 0;
		rig_run_state(&r, &s);
		if (rig_vector(&r) != V_GP)
			fprintf(stderr, "  insn %u: vector %d\n", i,
				rig_vector(&r));
		CHECK_FAULT(&r, V_GP, 0);
		CHECK_EQ(rig_frame(&r, 1), CODE + 10);
		rig_close(&r);
	}

	/* RDTSC too once CR4.TSD is set; the table reads stay allowed */
	{
		struct rig r;
		struct x86_state s;

		rig_open(&r);
		EMIT(&r, 0x0f, 0x01, 0x05, D32(DATA), /* sgdt [DATA] */
		     0x0f, 0x01, 0x0d, D32(DATA + 8), /* sidt [DATA+8] */
		     0x0f, 0x01, 0xe0, LOG_EAX, /* smsw eax */
		     0x0f, 0x00, 0xc8, LOG_EAX, /* str eax */
		     RDTSC, HLT);
		rig_ring3_state(&r, &s, CODE);
		s.cr4 = CR4_TSD;
		rig_run_state(&r, &s);
		CHECK_FAULT(&r, V_GP, 0);
		CHECK_EQ(rig_frame(&r, 1), r.pc - 3);
		CHECK_OUTS(&r, CR0_PE | CR0_ET | CR0_NE, SEL_TSS0);
		CHECK_EQ(rig_rd16(&r, DATA), GDT_LIMIT);
		CHECK_EQ(rig_rd32(&r, DATA + 2), GDT);
		CHECK_EQ(rig_rd16(&r, DATA + 8), IDT_LIMIT);
		CHECK_EQ(rig_rd32(&r, DATA + 10), IDT);
		rig_close(&r);
	}

	/* RDPMC with CR4.PCE: counters 0 and 1 exist, 2 does not */
	{
		struct rig r;
		struct x86_state s;

		rig_open(&r);
		EMIT(&r, MOV_RI(R_EAX, 7), MOV_RI(R_EDX, 7),
		     MOV_RI(R_ECX, 1), 0x0f, 0x33, /* rdpmc */
		     LOG_EAX, LOG(R_EDX),
		     MOV_RI(R_ECX, 2), 0x0f, 0x33, HLT);
		rig_ring3_state(&r, &s, CODE);
		s.cr4 = CR4_PCE;
		rig_run_state(&r, &s);
		CHECK_FAULT(&r, V_GP, 0);
		CHECK_EQ(rig_frame(&r, 1), r.pc - 3);
		CHECK_OUTS(&r, 0, 0);
		rig_close(&r);
	}
}

/*
 * The incoming task's segments are checked as they load; a bad one is
 * #TS (#NP, #SS when not present) in the new task's context (SDM vol. 3,
 * 7.3 step 13 and table 7-1).
 */
static void test_task_switch_segment_checks(void)
{
	static const struct {
		u32 offset; /* of the selector in the TSS */
		u16 sel;
		u16 attr; /* of the descriptor at SEL_FREE */
		int vector;
	} cases[] = {
		{ 0x4c, SEL_DATA0, 0, V_TS }, /* CS: a data segment */
		{ 0x4c, SEL_FREE, A_CODE32 | A_DPL(3), V_TS }, /* RPL != DPL */
		{ 0x4c, SEL_FREE, A_CODE32 & ~A_P, V_NP },
		{ 0x50, SEL_CODE0, 0, V_TS }, /* SS: code */
		{ 0x50, SEL_FREE, A_DATA32 | A_DPL(3), V_TS }, /* DPL != CPL */
		{ 0x50, SEL_FREE, A_DATA32 & ~A_P, V_SS },
		/* DS: exec-only */
		{ 0x54, SEL_FREE, A_P | A_S | 0x8 | A_DB, V_TS },
		{ 0x54, SEL_FREE, A_DATA32 & ~A_P, V_NP },
		{ 0x5c, SEL_FREE | 3, A_DATA32, V_TS }, /* GS: RPL > DPL */
		{ 0x54, SEL_FREE, A_CODE32, -1 }, /* readable code: fine */
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rig r;
		int v;

		rig_open(&r);
		setup_task(&r, SEL_TSS1, TSS1, CODE2, 0x50000);
		if (cases[i].attr)
			rig_desc(&r, SEL_FREE, 0, FLAT, cases[i].attr);
		rig_wr16(&r, TSS1 + cases[i].offset, cases[i].sel);
		EMIT(&r, JMP_FAR(SEL_TSS1, 0));
		rig_org(&r, CODE2);
		EMIT(&r, HLT);
		rig_run_pm(&r);
		v = rig_vector(&r);
		if (v != cases[i].vector)
			fprintf(stderr, "  case %u: vector %d\n", i, v);
		CHECK_EQ(v, cases[i].vector);
		if (v >= 0) {
			CHECK_EQ(rig_frame(&r, 0), cases[i].sel & ~3u);
			CHECK_EQ(r.st.tr.selector, SEL_TSS1);
		}
		rig_close(&r);
	}
}

/*
 * LOCK is #UD except on the read-modify-write instructions with a
 * memory destination (SDM vol. 2, LOCK).
 */
static void test_lock_prefix(void)
{
	static const struct {
		u8 len;
		u8 bytes[8];
		int vector;
	} insns[] = {
		{ 7, { 0xf0, 0x01, 0x05, D32(DATA) }, -1 }, /* add [m], eax */
		{ 7, { 0xf0, 0x87, 0x05, D32(DATA) }, -1 }, /* xchg [m], eax */
		{ 8, { 0xf0, 0x0f, 0xab, 0x05, D32(DATA) }, -1 }, /* bts */
		{ 8, { 0xf0, 0x0f, 0xc1, 0x05, D32(DATA) }, -1 }, /* xadd */
		{ 7, { 0xf0, 0xff, 0x05, D32(DATA) }, -1 }, /* inc [m] */
		/* cmpxchg8b */
		{ 8, { 0xf0, 0x0f, 0xc7, 0x0d, D32(DATA) }, -1 },
		{ 3, { 0xf0, 0x01, 0xd8 }, V_UD }, /* add eax, ebx */
		{ 2, { 0xf0, 0x90 }, V_UD }, /* nop */
		{ 7, { 0xf0, 0x89, 0x05, D32(DATA) }, V_UD }, /* mov [m], eax */
		{ 7, { 0xf0, 0x39, 0x05, D32(DATA) }, V_UD }, /* cmp [m], eax */
		{ 8, { 0xf0, 0x0f, 0xa3, 0x05, D32(DATA) }, V_UD }, /* bt */
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(insns); i++) {
		struct rig r;

		rig_open(&r);
		rig_emit(&r, insns[i].bytes, insns[i].len);
		EMIT(&r, HLT);
		rig_run_pm(&r);
		if (rig_vector(&r) != insns[i].vector)
			fprintf(stderr, "  insn %u: vector %d\n", i,
				rig_vector(&r));
		CHECK_EQ(rig_vector(&r), insns[i].vector);
		if (insns[i].vector == V_UD)
			CHECK_EQ(rig_frame(&r, 0), CODE);
		rig_close(&r);
	}
}

/*
 * From V86 mode only a gate to a DPL-0 code segment works: otherwise
 * #GP(code selector) (SDM vol. 2, INT n, INTERRUPT-FROM-VIRTUAL-8086).
 */
static void test_v86_gate_to_ring3(void)
{
	struct rig r;

	rig_open(&r);
	rig_idt(&r, 0x40, SEL_CODE3, CODE2, GATE_INT32, 3);
	emit_iret_to_v86(&r, FL_IOPL);
	EMIT(&r, INT(0x40));
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, SEL_CODE3 & ~3u);
	CHECK_EQ(rig_frame(&r, 1), 0x100);
	rig_close(&r);
}

/*
 * PUSHF/POPF/IRET inside V86 mode with IOPL 3 work on the low flags
 * and cannot change IOPL (SDM vol. 3, 20.2.7).
 */
static void test_v86_flags(void)
{
	struct rig r;

	rig_open(&r);
	emit_iret_to_v86(&r, FL_IOPL);
	EMIT(&r, 0x9c, 0x58, 0xe7, RIG_PORT, /* pushf; pop ax; out */
	     0x68, D16(0x0001), 0x9d, /* push 1; popf: CF, IOPL 0 ignored */
	     0x9c, 0x58, 0xe7, RIG_PORT,
	     0x6a, 0x01, /* push flags 1 */
	     0x0e, /* push cs */
	     0x68, D16(0x113), /* push ip of the next out */
	     0xcf, /* iret (16-bit) */
	     0x9c, 0x58, 0xe7, RIG_PORT,
	     HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_OUTS(&r, 0x3002, 0x3003, 0x3003);
	CHECK(rig_frame(&r, 3) & FL_VM);
	rig_close(&r);
}

/* A task switch into a TSS whose EFLAGS has VM enters V86 mode (7.3). */
static void test_task_switch_to_v86(void)
{
	struct rig r;
	struct rig_task t = { .eip = 0x100, .esp = 0xfff0, .cs = V86_CS,
			      .ss = V86_SS, .ds = 0x2000,
			      .eflags = FL_VM | FL_IOPL, .esp0 = ESP0 };

	rig_open(&r);
	rig_tss(&r, TSS1, &t);
	rig_desc(&r, SEL_TSS1, TSS1, 0x67, A_TSS32);
	EMIT(&r, JMP_FAR(SEL_TSS1, 0));
	rig_org(&r, V86_CS * 16 + 0x100);
	/* (OUT would fault: this TSS has no I/O bitmap) */
	EMIT(&r, 0x8c, 0x1e, D16(0x10), /* mov [0x10], ds */
	     0x8c, 0x0e, D16(0x12), /* mov [0x12], cs */
	     HLT);
	rig_run_pm(&r);
	CHECK_EQ(rig_rd16(&r, 0x20010), 0x2000);
	CHECK_EQ(rig_rd16(&r, 0x20012), V86_CS);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), 0x108);
	CHECK_EQ(rig_frame(&r, 2), V86_CS);
	CHECK(rig_frame(&r, 3) & FL_VM);
	CHECK_EQ(rig_frame(&r, 7), 0x2000); /* DS in the V86 frame */
	CHECK_EQ(r.st.tr.selector, SEL_TSS1);
	rig_close(&r);
}

/* With A20 masked, real-mode addresses wrap at 1 MiB (port 92h, 8042). */
static void test_a20(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_wr32(&r, 0x100010, 0x1111);
	rig_wr32(&r, 0x000010, 0x2222);
	rig_org(&r, 0x7c00);
	EMIT(&r, 0xb8, D16(0xffff), 0x8e, 0xd8, /* mov ds, 0xffff */
	     0x66, 0xa1, D16(0x20), /* mov eax, [0x20]: 0xffff0 + 0x20 */
	     0x66, 0xe7, RIG_PORT,
	     HLT);
	rig_real_state(&r, &s);
	rig_run_state(&r, &s);
	soft_engine_ops.set_a20(r.vcpu, false);
	rig_real_state(&r, &s); /* the state now has A20 masked */
	CHECK(s.a20_masked);
	rig_run_state(&r, &s);
	CHECK_OUTS(&r, 0x1111, 0x2222);
	soft_engine_ops.set_a20(r.vcpu, true);
	rig_close(&r);
}

/*
 * Fetches are checked against the CS limit, also for an instruction
 * straddling it (#GP(0) at its start); instructions longer than 15 bytes
 * are #GP(0) (SDM vol. 2, 2.3.11).
 */
static void test_fetch_limits(void)
{
	struct rig r;
	struct x86_state s;
	u8 code[15 + 17];

	rig_open(&r);
	rig_desc(&r, SEL_FREE, 0, CODE + 7, A_CODE | A_DB);
	EMIT(&r, MOV_RI(R_EAX, 1), MOV_RI(R_EAX, 2), HLT);
	rig_pm_state(&r, &s);
	s.seg[S_CS] = rig_seg(SEL_FREE, 0, CODE + 7, A_CODE | A_DB | 1);
	rig_run_state(&r, &s);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 5);
	CHECK_EQ(r.st.gpr[R_EAX], 1);
	rig_close(&r);

	/* 14 prefixes + NOP is 15 bytes: fine; 16 + NOP is not */
	rig_open(&r);
	memset(code, 0x3e, sizeof(code)); /* ds: */
	code[14] = 0x90;
	code[15 + 16] = 0x90;
	rig_write(&r, CODE, code, sizeof(code));
	rig_org(&r, CODE + sizeof(code));
	EMIT(&r, HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(rig_frame(&r, 1), CODE + 15);
	rig_close(&r);
}

/*
 * A 16-bit call gate (type 4) from ring 3: word parameters and a 16-bit
 * frame on the ring-0 stack; RETF with a 16-bit operand size returns to
 * ring 3 (SDM vol. 3, 5.8.5: the gate's size sets the frame's).
 */
static void test_16bit_call_gate(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_wr64(&r, GDT + SEL_GATE,
		 rig_gate_bits(SEL_CODE0, 0x9100, 0x4, 3, 2, true));
	rig_org(&r, 0x9000); /* 16-bit IPs: stay below 64 KiB */
	EMIT(&r, 0x66, 0x6a, 0x11, /* push word 0x11 */
	     0x66, 0x6a, 0x22, /* push word 0x22 */
	     0x66, 0x9a, D16(0), D16(SEL_GATE | 3)); /* call far o16 */
	EMIT(&r, LOG(R_ESP), LOG_SREG(S_CS), INT(V_EXIT3));
	rig_org(&r, 0x9100);
	EMIT(&r, LOG(R_ESP),
	     0x0f, 0xb7, 0x04, 0x24, LOG_EAX, /* IP */
	     0x0f, 0xb7, 0x44, 0x24, 0x02, LOG_EAX, /* CS */
	     0x0f, 0xb7, 0x44, 0x24, 0x04, LOG_EAX, /* parameter 2 */
	     0x0f, 0xb7, 0x44, 0x24, 0x06, LOG_EAX, /* parameter 1 */
	     0x0f, 0xb7, 0x44, 0x24, 0x08, LOG_EAX, /* SP */
	     0x0f, 0xb7, 0x44, 0x24, 0x0a, LOG_EAX, /* SS */
	     0x66, 0xca, D16(4)); /* retf 4 (o16) */
	rig_ring3_state(&r, &s, 0x9000);
	rig_run_state(&r, &s);
	CHECK_EQ(rig_vector(&r), V_EXIT3);
	CHECK_OUTS(&r, ESP0 - 12, 0x900c, SEL_CODE3, 0x22, 0x11,
		   (STACK3 - 4) & 0xffff, SEL_DATA3, STACK3, SEL_CODE3);
	rig_close(&r);
}

/* A task switch through a 16-bit (286) TSS (SDM vol. 3, 7.6). */
static void test_16bit_task_switch(void)
{
	struct rig r;

	rig_open(&r);
	rig_desc(&r, SEL_TSS2, TSS2, 0x2b, A_P | 0x1); /* 286 TSS */
	rig_wr16(&r, TSS2 + 0x0e, 0x9000); /* IP */
	rig_wr16(&r, TSS2 + 0x10, 2); /* FLAGS */
	rig_wr16(&r, TSS2 + 0x14, 0x1234); /* CX */
	rig_wr16(&r, TSS2 + 0x1a, 0x8000); /* SP */
	rig_wr16(&r, TSS2 + 0x22, SEL_DATA0); /* ES */
	rig_wr16(&r, TSS2 + 0x24, SEL_CODE0); /* CS */
	rig_wr16(&r, TSS2 + 0x26, SEL_DATA0); /* SS */
	rig_wr16(&r, TSS2 + 0x28, SEL_DATA0); /* DS */
	EMIT(&r, MOV_RI(R_ECX, 0xabcd0000), CALL_FAR(SEL_TSS2, 0),
	     LOG(R_ECX), HLT);
	rig_org(&r, 0x9000);
	EMIT(&r, LOG(R_ECX), LOG(R_ESP),
	     0x0f, 0xb7, MODRM(3, R_ESP, R_ESP), /* movzx esp, sp */
	     LOG_FLAGS,
	     0x0f, 0x00, 0xc8, LOG_EAX, /* str eax */
	     MOV_RI(R_ECX, 0x5555),
	     IRETD); /* NT: back to the caller */
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_EQ(r.nout, 5);
	/* Upper halves of the registers ones, as a 386 loads them. */
	CHECK_EQ(r.out[0], 0xffff1234);
	CHECK_EQ(r.out[1], 0xffff8000);
	CHECK_EQ(r.out[2], 2 | FL_NT);
	CHECK_EQ(r.out[3], SEL_TSS2);
	CHECK_EQ(r.out[4], 0xabcd0000);
	CHECK_EQ(rig_rd16(&r, TSS2), SEL_TSS0); /* back link */
	CHECK_EQ(rig_rd16(&r, TSS2 + 0x14), 0x5555); /* saved CX */
	CHECK_EQ(gdt_access(&r, SEL_TSS2), 0x81); /* not busy again */
	rig_close(&r);
}

/*
 * LMSW sets PE (the 286 way into protected mode) but cannot clear it
 * (SDM vol. 2, LMSW); it loads only MP, EM, TS besides.
 */
static void test_lmsw(void)
{
	struct rig r;
	struct x86_state s;

	rig_open(&r);
	rig_org(&r, 0x7c00);
	EMIT(&r, 0xb8, D16(0x000b), /* mov ax, PE | MP | TS */
	     0x0f, 0x01, 0xf0, /* lmsw ax */
	     0x0f, 0x20, 0xc0, 0x66, 0xe7, RIG_PORT, /* log cr0 */
	     0xb8, D16(0xfff0), /* mov ax, 0xfff0: PE clear */
	     0x0f, 0x01, 0xf0, /* lmsw ax */
	     0x0f, 0x20, 0xc0, 0x66, 0xe7, RIG_PORT,
	     HLT);
	rig_real_state(&r, &s);
	rig_run_state(&r, &s);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, CR0_ET | CR0_PE | CR0_MP | CR0_TS, CR0_ET | CR0_PE);
	rig_close(&r);
}

/* EFER: NXE is the only bit this CPU has; others are #GP(0). */
static void test_efer_reserved_bits(void)
{
	struct rig r;

	rig_open(&r);
	EMIT(&r, MOV_RI(R_ECX, 0xc0000080), MOV_RI(R_EDX, 0),
	     MOV_RI(R_EAX, BIT(8)), /* LME: no long mode here */
	     WRMSR, HLT);
	rig_run_pm(&r);
	CHECK_FAULT(&r, V_GP, 0);
	CHECK_EQ(r.st.efer, 0);
	rig_close(&r);
}

static u32 xorshift32(u32 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Hostile code: random bytes run at CPL 0 and CPL 3, with and without
 * paging, from random registers. The engine must neither crash nor
 * hang: every run returns within its time slice (an ASan build checks
 * the memory accesses).
 */
static void test_random_code(void)
{
	struct rig r;
	u32 seed = 0x2b0c0de5, i, j, cr3 = 0;
	unsigned exits[4] = { 0 };

	rig_open(&r);
	for (i = 0; i < 4000; i++) {
		struct x86_state s;
		u8 code[256];
		u64 t0;

		rig_tables(&r);
		for (j = 0; j < sizeof(code); j++)
			code[j] = (u8)xorshift32(&seed);
		rig_write(&r, CODE, code, sizeof(code));
		if (i % 2)
			rig_ring3_state(&r, &s, CODE);
		else
			rig_pm_state(&r, &s);
		for (j = 0; j < 8; j++)
			if (j != R_ESP)
				s.gpr[j] = xorshift32(&seed);
		if (i % 4 >= 2) {
			r.pt_next = PT_POOL;
			cr3 = rig_paging32(&r);
			rig_identity(&r, cr3, CODE, CODE + 0x1000,
				     PG_P | PG_W | PG_U);
			rig_identity(&r, cr3, STACK3 - 0x1000, STACK3,
				     PG_P | PG_W | PG_U);
			s.cr3 = cr3;
			s.cr0 |= CR0_PG;
		}
		soft_engine_ops.set_state(r.vcpu, &s);
		t0 = clock_now_ns();
		r.exit = soft_engine_ops.run(r.vcpu, t0 + NSEC_PER_MSEC);
		CHECK(r.exit <= VCPU_EXIT_STOP);
		CHECK(clock_now_ns() - t0 < 500 * NSEC_PER_MSEC);
		exits[r.exit & 3]++;
	}
	/* Most random programs end in a fault stub or a triple fault. */
	CHECK(exits[VCPU_EXIT_HALT] + exits[VCPU_EXIT_SHUTDOWN] > 2000);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_enter_and_leave_protected_mode);
	RUN_TEST(test_segment_limits);
	RUN_TEST(test_segment_loads);
	RUN_TEST(test_null_segment_use);
	RUN_TEST(test_segment_rights);
	RUN_TEST(test_ldt_segments);
	RUN_TEST(test_interrupt_and_trap_gates);
	RUN_TEST(test_privilege_change_interrupt);
	RUN_TEST(test_int_to_privileged_gate);
	RUN_TEST(test_idt_error_codes);
	RUN_TEST(test_double_fault);
	RUN_TEST(test_triple_fault);
	RUN_TEST(test_call_gate_same_level);
	RUN_TEST(test_call_gate_to_ring0);
	RUN_TEST(test_call_gate_checks);
	RUN_TEST(test_task_switch_jmp);
	RUN_TEST(test_task_switch_call_iret);
	RUN_TEST(test_task_switch_busy);
	RUN_TEST(test_task_gates);
	RUN_TEST(test_v86_interrupt);
	RUN_TEST(test_v86_iopl_sensitive);
	RUN_TEST(test_io_permission_bitmap);
	RUN_TEST(test_rep_movs_interrupted);
	RUN_TEST(test_rep_outs_interrupted);
	RUN_TEST(test_sysenter_sysexit);
	RUN_TEST(test_inner_stack_faults);
	RUN_TEST(test_arpl);
	RUN_TEST(test_eflags_id_ac);
	RUN_TEST(test_popf_iret_privilege);
	RUN_TEST(test_lar_lsl_verr_verw);
	RUN_TEST(test_unreal_mode);
	RUN_TEST(test_conforming_code);
	RUN_TEST(test_16bit_interrupt_gate);
	RUN_TEST(test_control_register_checks);
	RUN_TEST(test_device_not_available);
	RUN_TEST(test_fs_gs_lss);
	RUN_TEST(test_trap_and_fault_eips);
	RUN_TEST(test_push_pop_esp);
	RUN_TEST(test_sti_hlt);
	RUN_TEST(test_nmi);
	RUN_TEST(test_single_step);
	RUN_TEST(test_task_switch_ldt);
	RUN_TEST(test_rep_compare);
	RUN_TEST(test_near_call_ret_sizes);
	RUN_TEST(test_privileged_instructions);
	RUN_TEST(test_task_switch_segment_checks);
	RUN_TEST(test_lock_prefix);
	RUN_TEST(test_v86_gate_to_ring3);
	RUN_TEST(test_v86_flags);
	RUN_TEST(test_task_switch_to_v86);
	RUN_TEST(test_a20);
	RUN_TEST(test_fetch_limits);
	RUN_TEST(test_16bit_call_gate);
	RUN_TEST(test_16bit_task_switch);
	RUN_TEST(test_lmsw);
	RUN_TEST(test_efer_reserved_bits);
	RUN_TEST(test_random_code);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * Hardware task switching (Intel SDM vol. 3, 7.3): save the outgoing
 * state into the current TSS, link or unlink tasks, and load the incoming
 * state from the new TSS (16-bit 286 format or 32-bit format).
 */
#include "cpu/soft/cpu.h"

struct tss_layout {
	u32 eip, eflags, gpr, sreg, ldt, min_limit;
	unsigned width; /* register width in the TSS: 2 or 4 */
};

static const struct tss_layout tss32 = { 0x20, 0x24, 0x28, 0x48, 0x60, 0x67,
					 4 };
static const struct tss_layout tss16 = { 0x0e, 0x10, 0x12, 0x22, 0x2a, 0x2b,
					 2 };

static void tss_write(struct soft_cpu *cpu, u32 addr, u32 v, unsigned width)
{
	if (width == 4)
		sys_write32(cpu, addr, v);
	else
		sys_write16(cpu, addr, (u16)v);
}

static u32 tss_read(struct soft_cpu *cpu, u32 addr, unsigned width)
{
	return width == 4 ? sys_read32(cpu, addr) : sys_read16(cpu, addr);
}

static void set_busy(struct soft_cpu *cpu, u16 sel, bool busy)
{
	u64 addr = cpu->s.gdtr.base + (sel & ~7u) + 5; /* LTR in long mode too */
	u8 access = sys_read8(cpu, addr);

	sys_write8(cpu, addr, busy ? access | 2 : access & ~2);
}

static void save_state(struct soft_cpu *cpu, const struct tss_layout *l,
		       u32 eflags, u64 return_eip)
{
	u32 base = cpu->s.tr.base;
	unsigned i, nsegs = l->width == 4 ? 6 : 4;

	tss_write(cpu, base + l->eip, return_eip, l->width);
	tss_write(cpu, base + l->eflags, eflags, l->width);
	for (i = 0; i < 8; i++)
		tss_write(cpu, base + l->gpr + i * l->width, cpu->s.gpr[i],
			  l->width);
	for (i = 0; i < nsegs; i++)
		sys_write16(cpu, base + l->sreg + i * l->width,
			    cpu->s.seg[i].selector);
}

/*
 * May this descriptor go into that register of the incoming task, whose
 * CPL is its CS RPL (SDM vol. 3, 7.3 step 13 and table 7-1)?
 */
static bool task_segment_ok(const struct soft_cpu *cpu, int seg, u16 sel,
			    u32 hi)
{
	unsigned dpl = (hi >> 13) & 3, rpl = sel & 3, cpl = cpu->cpl;
	bool code = hi & 0x800, conforming = code && (hi & 0x400);
	bool rw = hi & 0x200; /* readable code, writable data */

	if (!(hi & 0x1000))
		return false;
	switch (seg) {
	case S_CS:
		return code && (conforming ? dpl <= cpl : dpl == cpl);
	case S_SS:
		return !code && rw && dpl == cpl && rpl == cpl;
	default:
		if (code && !rw)
			return false;
		return conforming || (dpl >= cpl && dpl >= rpl);
	}
}

/* Load a segment register of the incoming task; errors are #TS. */
static void load_task_segment(struct soft_cpu *cpu, int seg, u16 sel)
{
	u32 lo, hi;

	if (cpu->vm86) {
		seg_load_real(cpu, seg, sel);
		return;
	}
	if (!(sel & ~3u)) {
		if (seg == S_SS || seg == S_CS)
			cpu_fault(cpu, EXC_TS, 0);
		cpu->s.seg[seg] = (struct x86_segment){ .selector = sel };
		return;
	}
	if (!desc_fetch(cpu, sel, &lo, &hi) ||
	    !task_segment_ok(cpu, seg, sel, hi))
		cpu_fault(cpu, EXC_TS, sel & ~3u);
	if (!(hi & 0x8000))
		cpu_fault(cpu, seg == S_SS ? EXC_SS : EXC_NP, sel & ~3u);
	desc_set_accessed(cpu, sel, hi);
	desc_to_segment(lo, hi | 0x100, sel, &cpu->s.seg[seg]);
}

static void load_state(struct soft_cpu *cpu, const struct tss_layout *l)
{
	u32 base = cpu->s.tr.base, lo, hi;
	unsigned i, nsegs = l->width == 4 ? 6 : 4;
	u16 sel[6] = { 0 }, ldt;

	if (l->width == 4 && (cpu->s.cr0 & CR0_PG)) {
		cpu->s.cr3 = sys_read32(cpu, base + 0x1c);
		cpu_tlb_flush(cpu);
	}
	cpu->s.eip = tss_read(cpu, base + l->eip, l->width);
	cpu->lazy.op = LAZY_NONE; /* every flag is replaced */
	cpu->s.eflags = (tss_read(cpu, base + l->eflags, l->width) &
			 (l->width == 4 ? 0x3f7fd5u : 0x7fd5u)) |
			2;
	/*
	 * A 286 TSS holds 16-bit registers: a 386 loads their upper halves
	 * with ones (observed on silicon, checked by test386 POST 0x22).
	 */
	for (i = 0; i < 8; i++)
		cpu->s.gpr[i] =
			l->width == 4 ?
				sys_read32(cpu, base + l->gpr + i * 4) :
				0xffff0000u |
					sys_read16(cpu, base + l->gpr + i * 2);
	for (i = 0; i < nsegs; i++)
		sel[i] = sys_read16(cpu, base + l->sreg + i * l->width);
	ldt = sys_read16(cpu, base + l->ldt);
	/* Selectors first, so a fault below leaves them as the new task's. */
	for (i = 0; i < 6; i++)
		cpu->s.seg[i].selector = sel[i];
	cpu->s.ldtr = (struct x86_segment){ .selector = ldt };
	if (ldt & ~3u) {
		if ((ldt & 4) || !desc_fetch(cpu, ldt, &lo, &hi) ||
		    ((hi >> 8) & 0x1f) != 0x02)
			cpu_fault(cpu, EXC_TS, ldt & ~3u);
		desc_to_segment(lo, hi, ldt, &cpu->s.ldtr);
	}
	cpu->vm86 = cpu->s.eflags & FL_VM;
	cpu->cpl = cpu->vm86 ? 3 : (u8)(sel[S_CS] & 3);
	load_task_segment(cpu, S_CS, sel[S_CS]);
	load_task_segment(cpu, S_SS, sel[S_SS]);
	for (i = 0; i < 6; i++)
		if (i != S_CS && i != S_SS && (i < nsegs || cpu->vm86))
			load_task_segment(cpu, (int)i, sel[i]);
	cpu_update_mode(cpu);
}

void task_switch(struct soft_cpu *cpu, u16 sel, u32 lo, u32 hi, int reason,
		 u64 return_eip)
{
	unsigned type = (hi >> 8) & 0x1f;
	u16 old_tr = cpu->s.tr.selector;
	const struct tss_layout *old_l = (cpu->s.tr.attr & 8) ? &tss32 : &tss16;
	const struct tss_layout *new_l;
	struct x86_segment new_tr;
	u32 eflags = read_eflags(cpu);

	if (type == 0x05) { /* task gate: the TSS it names */
		sel = (u16)(lo >> 16);
		if ((sel & 4) || !desc_fetch(cpu, sel, &lo, &hi))
			cpu_fault(cpu, EXC_GP, sel & ~3u);
		type = (hi >> 8) & 0x1f;
	}
	if (reason == TS_IRET ? (type != 0x03 && type != 0x0b)
			      : (type != 0x01 && type != 0x09))
		cpu_fault(cpu, reason == TS_IRET ? EXC_TS : EXC_GP, sel & ~3u);
	if (!(hi & 0x8000))
		cpu_fault(cpu, EXC_NP, sel & ~3u);
	new_l = (type & 8) ? &tss32 : &tss16;
	desc_to_segment(lo, hi, sel, &new_tr);
	if (new_tr.limit < new_l->min_limit)
		cpu_fault(cpu, EXC_TS, sel & ~3u);

	if (reason == TS_JMP || reason == TS_IRET) {
		set_busy(cpu, old_tr, false);
		if (reason == TS_IRET)
			eflags &= ~FL_NT;
	}
	save_state(cpu, old_l, eflags, return_eip);
	if (reason == TS_CALL || reason == TS_INT)
		sys_write16(cpu, new_tr.base, old_tr);
	if (reason != TS_IRET) {
		set_busy(cpu, sel, true);
		new_tr.attr |= 2;
	}
	cpu->s.tr = new_tr;
	cpu->s.cr0 |= CR0_TS;
	load_state(cpu, new_l);
	if (reason == TS_CALL || reason == TS_INT)
		cpu->s.eflags |= FL_NT;
	if (cpu->s.eip > cpu->s.seg[S_CS].limit)
		cpu_fault(cpu, EXC_GP, 0);
}

// SPDX-License-Identifier: MIT
/*
 * Segment registers and descriptor tables (Intel SDM vol. 3, 3.4-3.5 and
 * 5.5-5.6 for the checks made when a data or stack segment is loaded).
 * Code-segment loads live in control.c with the far transfers.
 */
#include "cpu/soft/cpu.h"

void desc_to_segment(u32 lo, u32 hi, u16 sel, struct x86_segment *out)
{
	u32 limit = (lo & 0xffff) | (hi & 0xf0000);

	if (hi & (SEG_ATTR_G << 8))
		limit = limit << 12 | 0xfff;
	out->selector = sel;
	out->base = (lo >> 16) | (hi & 0xff) << 16 | (hi & 0xff000000u);
	out->limit = limit;
	out->attr = (u16)((hi >> 8) & 0xf0ff);
}

/* Read the 8-byte descriptor sel names; false if outside its table. */
bool desc_fetch(struct soft_cpu *cpu, u16 sel, u32 *lo, u32 *hi)
{
	u64 base; /* 64-bit in IA-32e mode */
	u32 limit, off = sel & ~7u;

	if (sel & 4) {
		if (!(cpu->s.ldtr.attr & SEG_ATTR_P))
			return false;
		base = cpu->s.ldtr.base;
		limit = cpu->s.ldtr.limit;
	} else {
		base = cpu->s.gdtr.base;
		limit = cpu->s.gdtr.limit;
	}
	if (off + 7 > limit)
		return false;
	*lo = sys_read32(cpu, base + off);
	*hi = sys_read32(cpu, base + off + 4);
	return true;
}

void desc_set_accessed(struct soft_cpu *cpu, u16 sel, u32 hi)
{
	u64 base = sel & 4 ? cpu->s.ldtr.base : cpu->s.gdtr.base;

	if (!(hi & 0x100))
		sys_write8(cpu, base + (sel & ~7u) + 5, (u8)((hi >> 8) | 1));
}

void seg_load_real(struct soft_cpu *cpu, int seg, u16 sel)
{
	struct x86_segment *sg = &cpu->s.seg[seg];

	sg->selector = sel;
	sg->base = (u32)sel << 4;
	if (cpu->vm86) {
		/* SDM vol. 3, 20.1.1: virtual-8086 segments are fixed. */
		sg->limit = 0xffff;
		sg->attr = SEG_ATTR_P | SEG_ATTR_S | 3 << SEG_ATTR_DPL_SHIFT |
			   (seg == S_CS ? 0xb : 0x3);
	} else {
		/*
		 * Real mode keeps the limit and rights a protected-mode load
		 * left ("unreal mode"), but the segment is always usable.
		 */
		sg->attr |= SEG_ATTR_P | SEG_ATTR_S;
	}
	if (seg == S_CS || seg == S_SS)
		cpu_update_mode(cpu);
}

static void seg_load_ss(struct soft_cpu *cpu, u16 sel)
{
	u32 lo, hi;
	unsigned rpl = sel & 3, dpl;
	struct x86_segment *sg = &cpu->s.seg[S_SS];

	/* 64-bit mode: a null SS is allowed below CPL 3 (SDM vol. 3, 5.4.1.1) */
	if (!(sel & ~3u) && cpu->code64 && cpu->cpl < 3 && rpl == cpu->cpl) {
		*sg = (struct x86_segment){
			.selector = sel,
			.attr = (u16)(SEG_ATTR_P | SEG_ATTR_S | 0x3 |
				      rpl << SEG_ATTR_DPL_SHIFT),
		};
		cpu_update_mode(cpu);
		return;
	}
	if (!(sel & ~3u))
		cpu_fault(cpu, EXC_GP, 0);
	if (!desc_fetch(cpu, sel, &lo, &hi))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	dpl = (hi >> 13) & 3;
	/* Writable data segment: S=1, type 001x (expand-down too). */
	if (rpl != cpu->cpl || dpl != cpu->cpl ||
	    (hi & 0x1a00) != 0x1200)
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if (!(hi & 0x8000))
		cpu_fault(cpu, EXC_SS, sel & ~3u);
	desc_set_accessed(cpu, sel, hi);
	desc_to_segment(lo, hi | 0x100, sel, sg);
	cpu_update_mode(cpu);
}

static void seg_load_data(struct soft_cpu *cpu, int seg, u16 sel)
{
	u32 lo, hi;
	unsigned rpl = sel & 3, dpl;
	struct x86_segment *sg = &cpu->s.seg[seg];
	bool code, conforming;

	if (!(sel & ~3u)) {
		/* A null selector makes the register unusable. */
		*sg = (struct x86_segment){ .selector = sel };
		return;
	}
	if (!desc_fetch(cpu, sel, &lo, &hi))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	dpl = (hi >> 13) & 3;
	code = hi & 0x800;
	conforming = (hi & 0xc00) == 0xc00;
	if (!(hi & 0x1000) || (code && !(hi & 0x200)))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if ((!code || !conforming) && (dpl < cpu->cpl || dpl < rpl))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if (!(hi & 0x8000))
		cpu_fault(cpu, EXC_NP, sel & ~3u);
	desc_set_accessed(cpu, sel, hi);
	desc_to_segment(lo, hi | 0x100, sel, sg);
}

/* MOV/POP/LxS into a data or stack segment register. */
void seg_load(struct soft_cpu *cpu, int seg, u16 sel)
{
	if (!cpu->pe || cpu->vm86) {
		seg_load_real(cpu, seg, sel);
		return;
	}
	if (seg == S_SS)
		seg_load_ss(cpu, sel);
	else
		seg_load_data(cpu, seg, sel);
}

/*
 * After a return to an outer privilege level, data segment registers the
 * new level may not use become null (SDM vol. 3, 5.8.6 / RET, IRET).
 */
void seg_validate_on_cpl_change(struct soft_cpu *cpu)
{
	static const int segs[] = { S_ES, S_DS, S_FS, S_GS };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		struct x86_segment *sg = &cpu->s.seg[segs[i]];
		unsigned dpl = (sg->attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT;
		bool conforming_code = (sg->attr & 0xc) == 0xc &&
				       (sg->attr & SEG_ATTR_S);

		if (!(sg->attr & SEG_ATTR_P))
			continue;
		if ((!(sg->attr & 0x8) || !conforming_code) &&
		    dpl < cpu->cpl)
			*sg = (struct x86_segment){ 0 };
	}
}

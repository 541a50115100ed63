// SPDX-License-Identifier: MIT
/*
 * Far transfers: JMP/CALL far (direct, through call gates, task gates and
 * TSS descriptors), RET far and IRET, with the privilege checks and stack
 * switches of Intel SDM vol. 3, 5.8 and vol. 2 (CALL, JMP, RET, IRET).
 */
#include <string.h>

#include "cpu/soft/cpu.h"

#define DESC_P 0x8000u
#define DESC_S 0x1000u
#define DESC_CODE 0x0800u
#define DESC_CONFORMING 0x0400u

static unsigned desc_dpl(u32 hi)
{
	return (hi >> 13) & 3;
}

static unsigned desc_type(u32 hi)
{
	return (hi >> 8) & 0x1f; /* S bit and type */
}

/* A 64-bit code segment in IA-32e mode: no limit, a canonical RIP. */
static bool is_code64(const struct soft_cpu *cpu, const struct x86_segment *cs)
{
	return long_mode_active(cpu) && (cs->attr & SEG_ATTR_L);
}

static void check_eip(struct soft_cpu *cpu, const struct x86_segment *cs,
		      u64 eip)
{
	if (is_code64(cpu, cs)) {
		if (!is_canonical(eip))
			cpu_fault(cpu, EXC_GP, 0);
		return;
	}
	if (!is_8086(cpu) && eip > cs->limit)
		cpu_fault(cpu, EXC_GP, 0);
}

static void commit_cs(struct soft_cpu *cpu, const struct x86_segment *cs,
		      u64 eip)
{
	cpu->s.seg[S_CS] = *cs;
	cpu->s.rip = eip;
	cpu_update_mode(cpu);
}

static void real_far_jump(struct soft_cpu *cpu, u16 sel, u32 eip)
{
	struct x86_segment cs = cpu->s.seg[S_CS];

	cs.selector = sel;
	cs.base = (u32)sel << 4;
	check_eip(cpu, &cs, eip);
	seg_load_real(cpu, S_CS, sel);
	cpu->s.eip = eip;
}

/* Fetch and check a code segment a transfer lands in (not its DPL). */
static void fetch_code_desc(struct soft_cpu *cpu, u16 sel, u32 *lo, u32 *hi)
{
	if (!(sel & ~3u))
		cpu_fault(cpu, EXC_GP, 0);
	if (!desc_fetch(cpu, sel, lo, hi))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
}

static void require_code(struct soft_cpu *cpu, u16 sel, u32 hi)
{
	if ((hi & (DESC_S | DESC_CODE)) != (DESC_S | DESC_CODE))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if (!(hi & DESC_P))
		cpu_fault(cpu, EXC_NP, sel & ~3u);
}

/* Same-level code segment for JMP/CALL (SDM vol. 3, 5.8.1). */
static void check_direct_code(struct soft_cpu *cpu, u16 sel, u32 hi)
{
	unsigned dpl = desc_dpl(hi), rpl = sel & 3;

	if (hi & DESC_CONFORMING) {
		if (dpl > cpu->cpl)
			cpu_fault(cpu, EXC_GP, sel & ~3u);
	} else if (rpl > cpu->cpl || dpl != cpu->cpl) {
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	}
	require_code(cpu, sel, hi);
}

struct call_gate {
	u16 sel;
	u32 offset;
	unsigned params;
	bool gate32;
};

static struct call_gate read_call_gate(struct soft_cpu *cpu, u16 sel, u32 lo,
				       u32 hi)
{
	struct call_gate g = {
		.sel = (u16)(lo >> 16),
		.offset = (lo & 0xffff),
		.params = hi & 0x1f,
		.gate32 = desc_type(hi) == 0x0c,
	};

	if (desc_dpl(hi) < cpu->cpl || desc_dpl(hi) < (sel & 3u))
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if (!(hi & DESC_P))
		cpu_fault(cpu, EXC_NP, sel & ~3u);
	if (g.gate32)
		g.offset |= hi & 0xffff0000u;
	return g;
}

static bool is_task_target(unsigned type)
{
	return type == 0x05 || type == 0x01 || type == 0x09;
}

void far_jump(struct soft_cpu *cpu, u16 sel, u32 eip, unsigned osize)
{
	u32 lo, hi;
	unsigned type;
	struct x86_segment cs;

	if (osize == 2)
		eip &= 0xffff;
	if (!cpu->pe || cpu->vm86) {
		real_far_jump(cpu, sel, eip);
		return;
	}
	fetch_code_desc(cpu, sel, &lo, &hi);
	type = desc_type(hi);
	if (is_task_target(type)) {
		task_switch(cpu, sel, lo, hi, TS_JMP, cpu->s.eip);
		return;
	}
	if (type == 0x04 || type == 0x0c) {
		struct call_gate g = read_call_gate(cpu, sel, lo, hi);

		fetch_code_desc(cpu, g.sel, &lo, &hi);
		require_code(cpu, g.sel, hi);
		if ((hi & DESC_CONFORMING) ? desc_dpl(hi) > cpu->cpl
					   : desc_dpl(hi) != cpu->cpl)
			cpu_fault(cpu, EXC_GP, g.sel & ~3u);
		sel = g.sel;
		eip = g.gate32 ? g.offset : g.offset & 0xffff;
	} else {
		check_direct_code(cpu, sel, hi);
	}
	desc_to_segment(lo, hi | 0x100, (u16)((sel & ~3u) | cpu->cpl), &cs);
	check_eip(cpu, &cs, eip);
	desc_set_accessed(cpu, sel, hi);
	commit_cs(cpu, &cs, eip);
}

/* The inner stack and frame of a CALL through a gate (SDM 5.8.5). */
struct inner_call {
	struct x86_segment cs, ss;
	u32 esp; /* from the TSS */
	u64 old_esp, return_eip;
	u16 old_ss, old_cs;
	unsigned psize, nparams;
	u32 params[32];
};

/* Switch to the inner stack and push figure 5-13's frame onto it. */
static void inner_call_push(struct soft_cpu *cpu, const struct inner_call *c)
{
	unsigned i;

	cpu->s.seg[S_SS] = c->ss;
	/* Push with the inner level's rights: CPL comes from CS. */
	cpu->s.seg[S_CS] = c->cs;
	cpu_update_mode(cpu);
	cpu->s.gpr[R_ESP] = c->esp;
	push_sz(cpu, c->old_ss, c->psize);
	push_sz(cpu, c->old_esp, c->psize);
	for (i = c->nparams; i > 0; i--)
		push_sz(cpu, c->params[i - 1], c->psize);
	push_sz(cpu, c->old_cs, c->psize);
	push_sz(cpu, c->return_eip, c->psize);
}

/* What inner_call_push() changes before its last push can fault. */
struct inner_call_undo {
	struct x86_segment cs, ss;
	u32 esp;
	jmp_buf outer;
};

/*
 * A fault on the new stack (#PF, or #SS naming the new SS: SDM vol. 2,
 * CALL, #SS(SS selector)) is taken in the caller's context: undo the
 * stack switch before it unwinds.
 */
static void inner_call_push_or_undo(struct soft_cpu *cpu,
				    const struct inner_call *c)
{
	struct inner_call_undo u;

	u.cs = cpu->s.seg[S_CS];
	u.ss = cpu->s.seg[S_SS];
	u.esp = cpu->s.gpr[R_ESP];
	memcpy(u.outer, cpu->unwind, sizeof(u.outer));
	if (setjmp(cpu->unwind)) {
		if (cpu->fault_vector == EXC_SS && !cpu->fault_error)
			cpu->fault_error = c->ss.selector & ~3u;
		cpu->s.seg[S_CS] = u.cs;
		cpu->s.seg[S_SS] = u.ss;
		cpu->s.gpr[R_ESP] = u.esp;
		cpu_update_mode(cpu);
		memcpy(cpu->unwind, u.outer, sizeof(u.outer));
		longjmp(cpu->unwind, 1);
	}
	inner_call_push(cpu, c);
	memcpy(cpu->unwind, u.outer, sizeof(u.outer));
}

/* CALL through a gate to a more privileged level: new stack from TSS. */
static void call_gate_inner(struct soft_cpu *cpu, const struct call_gate *g,
			    u32 lo, u32 hi, u64 return_eip)
{
	unsigned dpl = desc_dpl(hi), i;
	const struct x86_segment *tr = &cpu->s.tr;
	bool tss32 = tr->attr & 0x8;
	u32 off = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
	u32 slo, shi;
	u16 new_ss;
	u32 old_sp = stack_sp(cpu);
	struct inner_call c = {
		.old_esp = cpu->s.gpr[R_ESP], .return_eip = return_eip,
		.old_ss = cpu->s.seg[S_SS].selector,
		.old_cs = cpu->s.seg[S_CS].selector,
		.psize = g->gate32 ? 4 : 2, .nparams = g->params,
	};

	if (off + (tss32 ? 5 : 3) > tr->limit)
		cpu_fault(cpu, EXC_TS, tr->selector & ~3u);
	c.esp = tss32 ? sys_read32(cpu, tr->base + off)
		      : sys_read16(cpu, tr->base + off);
	new_ss = sys_read16(cpu, tr->base + off + (tss32 ? 4 : 2));
	if (!(new_ss & ~3u) || (new_ss & 3) != dpl ||
	    !desc_fetch(cpu, new_ss, &slo, &shi) || desc_dpl(shi) != dpl ||
	    (shi & 0x1a00) != 0x1200)
		cpu_fault(cpu, EXC_TS, new_ss & ~3u);
	if (!(shi & DESC_P))
		cpu_fault(cpu, EXC_SS, new_ss & ~3u);
	for (i = 0; i < c.nparams; i++) {
		u32 sp = (old_sp + i * c.psize) &
			 (cpu->stack32 ? ~0u : 0xffffu);

		c.params[i] = mem_read_sz(cpu, S_SS, sp, c.psize);
	}
	desc_to_segment(slo, shi | 0x100, new_ss, &c.ss);
	desc_to_segment(lo, hi | 0x100, (u16)((g->sel & ~3u) | dpl), &c.cs);
	check_eip(cpu, &c.cs, g->offset);
	inner_call_push_or_undo(cpu, &c);
	desc_set_accessed(cpu, new_ss, shi);
	commit_cs(cpu, &c.cs, g->offset);
}

void far_call(struct soft_cpu *cpu, u16 sel, u32 eip, unsigned osize,
	      u64 return_eip)
{
	u32 lo, hi;
	unsigned type;
	struct x86_segment cs;
	u16 old_cs = cpu->s.seg[S_CS].selector;

	if (osize == 2)
		eip &= 0xffff;
	if (!cpu->pe || cpu->vm86) {
		/* Push first: a stack fault must leave CS unchanged. */
		push_sz(cpu, old_cs, osize);
		push_sz(cpu, return_eip, osize);
		real_far_jump(cpu, sel, eip);
		return;
	}
	fetch_code_desc(cpu, sel, &lo, &hi);
	type = desc_type(hi);
	if (is_task_target(type)) {
		task_switch(cpu, sel, lo, hi, TS_CALL, return_eip);
		return;
	}
	if (type == 0x04 || type == 0x0c) {
		struct call_gate g = read_call_gate(cpu, sel, lo, hi);

		fetch_code_desc(cpu, g.sel, &lo, &hi);
		require_code(cpu, g.sel, hi);
		if (desc_dpl(hi) > cpu->cpl)
			cpu_fault(cpu, EXC_GP, g.sel & ~3u);
		if (!(hi & DESC_CONFORMING) && desc_dpl(hi) < cpu->cpl) {
			call_gate_inner(cpu, &g, lo, hi, return_eip);
			return;
		}
		sel = g.sel;
		eip = g.gate32 ? g.offset : g.offset & 0xffff;
		osize = g.gate32 ? 4 : 2;
	} else {
		check_direct_code(cpu, sel, hi);
	}
	desc_to_segment(lo, hi | 0x100, (u16)((sel & ~3u) | cpu->cpl), &cs);
	check_eip(cpu, &cs, eip);
	push_sz(cpu, old_cs, osize);
	push_sz(cpu, return_eip, osize);
	desc_set_accessed(cpu, sel, hi);
	commit_cs(cpu, &cs, eip);
}

static u64 stack_read(struct soft_cpu *cpu, u32 index, unsigned size)
{
	u64 sp = stack_sp(cpu) + index;

	if (!cpu->code64)
		sp = cpu->stack32 ? (u32)sp : sp & 0xffff;
	return mem_read_sz(cpu, S_SS, sp, size);
}

/*
 * The SS of a return to an outer level. 64-bit mode may return with a
 * null SS to a 64-bit CPL below 3 (SDM vol. 2, IRET; AMD APM vol. 2,
 * 4.7.4): SS then holds the selector with no descriptor behind it.
 */
static struct x86_segment return_ss(struct soft_cpu *cpu, u16 new_ss,
				    unsigned rpl, bool to64)
{
	struct x86_segment ss;
	u32 slo, shi;

	if (!(new_ss & ~3u) && to64 && rpl < 3 && (new_ss & 3) == rpl)
		return (struct x86_segment){
			.selector = new_ss,
			.attr = (u16)(SEG_ATTR_P | SEG_ATTR_S | 0x3 |
				      rpl << SEG_ATTR_DPL_SHIFT),
		};
	if (!(new_ss & ~3u) || (new_ss & 3) != rpl ||
	    !desc_fetch(cpu, new_ss, &slo, &shi) || desc_dpl(shi) != rpl ||
	    (shi & 0x1a00) != 0x1200)
		cpu_fault(cpu, EXC_GP, new_ss & ~3u);
	if (!(shi & DESC_P))
		cpu_fault(cpu, EXC_SS, new_ss & ~3u);
	desc_to_segment(slo, shi | 0x100, new_ss, &ss);
	return ss;
}

/*
 * Load CS (and, for an outer return, SS:ESP) for RET far and IRET;
 * always_outer: IRET in 64-bit mode pops SS:RSP even at the same level.
 */
static bool return_to_ex(struct soft_cpu *cpu, u16 sel, u64 eip, u64 sp_after,
			 unsigned size, u32 outer_index, bool always_outer)
{
	u32 lo, hi;
	u64 new_esp;
	unsigned rpl = sel & 3;
	u16 new_ss;
	struct x86_segment cs, ss;

	fetch_code_desc(cpu, sel, &lo, &hi);
	if (rpl < cpu->cpl)
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	if ((hi & DESC_CONFORMING) ? desc_dpl(hi) > rpl : desc_dpl(hi) != rpl)
		cpu_fault(cpu, EXC_GP, sel & ~3u);
	require_code(cpu, sel, hi);
	desc_to_segment(lo, hi | 0x100, sel, &cs);
	if (long_mode_active(cpu) && (cs.attr & SEG_ATTR_L) &&
	    (cs.attr & SEG_ATTR_DB))
		cpu_fault(cpu, EXC_GP, sel & ~3u); /* L and D both set */
	if (!is_code64(cpu, &cs))
		eip = size == 2 ? (u16)eip : (u32)eip;
	check_eip(cpu, &cs, eip);
	if (rpl == cpu->cpl && !always_outer) {
		stack_set_sp(cpu, sp_after);
		commit_cs(cpu, &cs, eip);
		return false;
	}
	new_esp = stack_read(cpu, outer_index, size);
	new_ss = (u16)stack_read(cpu, outer_index + size, size);
	ss = return_ss(cpu, new_ss, rpl, is_code64(cpu, &cs));
	cpu->s.seg[S_SS] = ss;
	cpu->s.seg[S_CS] = cs;
	cpu->s.rip = eip;
	cpu_update_mode(cpu);
	if (size == 2)
		cpu->s.gpr[R_ESP] = (cpu->s.gpr[R_ESP] & ~(u64)0xffff) |
				    (u16)new_esp;
	else
		cpu->s.gpr[R_ESP] = new_esp;
	seg_validate_on_cpl_change(cpu);
	return true;
}

static bool return_to(struct soft_cpu *cpu, u16 sel, u64 eip, u64 sp_after,
		      unsigned size, u32 outer_index)
{
	return return_to_ex(cpu, sel, eip, sp_after, size, outer_index, false);
}

void far_return(struct soft_cpu *cpu, unsigned osize, u16 pop_bytes)
{
	u64 eip = stack_read(cpu, 0, osize);
	u16 sel = (u16)stack_read(cpu, osize, osize);
	u64 sp_after = stack_sp(cpu) + 2 * osize + pop_bytes;

	if (osize == 2)
		eip &= 0xffff;
	if (!cpu->code64)
		sp_after = (u32)sp_after;
	if (!cpu->pe || cpu->vm86) {
		struct x86_segment cs = cpu->s.seg[S_CS];

		cs.base = (u32)sel << 4;
		check_eip(cpu, &cs, eip);
		stack_set_sp(cpu, sp_after);
		seg_load_real(cpu, S_CS, sel);
		cpu->s.eip = eip;
		return;
	}
	/* An outer return releases the parameters on the outer stack too. */
	if (return_to(cpu, sel, eip, sp_after, osize, 2 * osize + pop_bytes))
		stack_set_sp(cpu, stack_sp(cpu) + pop_bytes);
}

/*
 * IRET in 64-bit mode (SDM vol. 2, IRET, "IA-32e mode"): RIP, CS,
 * RFLAGS, RSP and SS are popped, each osize wide, whether or not the
 * level changes; NT set is #GP(0) (no task returns in IA-32e mode).
 */
static void iret64(struct soft_cpu *cpu, unsigned osize)
{
	unsigned old_cpl = cpu->cpl;
	u64 rip = stack_read(cpu, 0, osize);
	u16 sel = (u16)stack_read(cpu, osize, osize);
	u32 flags = (u32)stack_read(cpu, 2 * osize, osize), mask;

	if (get_flag(cpu, FL_NT))
		cpu_fault(cpu, EXC_GP, 0);
	return_to_ex(cpu, sel, rip, 0, osize, 3 * osize, true);
	mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF;
	if (osize >= 4)
		mask |= FL_AC | FL_ID | FL_VIF | FL_VIP;
	if (old_cpl == 0)
		mask |= FL_IOPL;
	if (old_cpl <= iopl(cpu))
		mask |= FL_IF;
	if (osize == 2)
		mask &= 0xffff;
	load_eflags(cpu, flags, mask);
}

static void iret_real(struct soft_cpu *cpu, unsigned osize)
{
	u32 eip = stack_read(cpu, 0, osize);
	u16 sel = (u16)stack_read(cpu, osize, osize);
	u32 flags = stack_read(cpu, 2 * osize, osize);
	u32 mask = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_NT | FL_IOPL;
	struct x86_segment cs = cpu->s.seg[S_CS];

	if (vme_active(cpu)) {
		vme_iret(cpu, osize);
		return;
	}
	if (cpu->vm86 && iopl(cpu) < 3)
		cpu_fault(cpu, EXC_GP, 0);
	if (osize == 2)
		eip &= 0xffff;
	else
		mask |= FL_AC | FL_ID | FL_RF;
	if (cpu->vm86)
		mask &= ~FL_IOPL;
	cs.base = (u32)sel << 4;
	check_eip(cpu, &cs, eip);
	stack_set_sp(cpu, stack_sp(cpu) + 3 * osize);
	seg_load_real(cpu, S_CS, sel);
	cpu->s.eip = eip;
	load_eflags(cpu, flags, mask);
}

/* IRET from CPL 0 to virtual-8086 mode (SDM vol. 3, 20.3 / IRET). */
static void iret_to_vm86(struct soft_cpu *cpu, u32 eip, u16 sel, u32 flags)
{
	u32 esp = stack_read(cpu, 12, 4);
	u16 ss = (u16)stack_read(cpu, 16, 4);
	u16 es = (u16)stack_read(cpu, 20, 4), ds = (u16)stack_read(cpu, 24, 4);
	u16 fs = (u16)stack_read(cpu, 28, 4), gs = (u16)stack_read(cpu, 32, 4);

	cpu->lazy.op = LAZY_NONE; /* every flag is replaced */
	cpu->s.eflags = (flags & 0x3f7fd5u) | 2 | FL_VM;
	cpu->cpl = 3;
	cpu_update_mode(cpu);
	seg_load_real(cpu, S_CS, sel);
	seg_load_real(cpu, S_SS, ss);
	seg_load_real(cpu, S_ES, es);
	seg_load_real(cpu, S_DS, ds);
	seg_load_real(cpu, S_FS, fs);
	seg_load_real(cpu, S_GS, gs);
	cpu->s.gpr[R_ESP] = esp;
	cpu->s.eip = eip & 0xffff;
	cpu_update_mode(cpu);
}

static void iret_task_return(struct soft_cpu *cpu)
{
	u16 back = sys_read16(cpu, cpu->s.tr.base);
	u32 lo, hi;

	if ((back & 4) || !desc_fetch(cpu, back, &lo, &hi))
		cpu_fault(cpu, EXC_TS, back & ~3u);
	if (desc_type(hi) != 0x03 && desc_type(hi) != 0x0b)
		cpu_fault(cpu, EXC_TS, back & ~3u);
	task_switch(cpu, back, lo, hi, TS_IRET, cpu->s.eip);
}

void iret(struct soft_cpu *cpu, unsigned osize)
{
	cpu->s.nmi_blocked = false; /* any IRET ends NMI blocking */
	u32 eip, flags, mask;
	u16 sel;
	unsigned old_cpl = cpu->cpl;

	if (!cpu->pe || cpu->vm86) {
		iret_real(cpu, osize);
		return;
	}
	if (cpu->code64) {
		iret64(cpu, osize);
		return;
	}
	if (get_flag(cpu, FL_NT)) {
		if (long_mode_active(cpu))
			cpu_fault(cpu, EXC_GP, 0); /* no task switches */
		iret_task_return(cpu);
		return;
	}
	eip = stack_read(cpu, 0, osize);
	sel = (u16)stack_read(cpu, osize, osize);
	flags = stack_read(cpu, 2 * osize, osize);
	if (osize == 4 && (flags & FL_VM) && cpu->cpl == 0) {
		iret_to_vm86(cpu, eip, sel, flags);
		return;
	}
	if (osize == 2)
		eip &= 0xffff;
	return_to(cpu, sel, eip, stack_sp(cpu) + 3 * osize, osize, 3 * osize);
	mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF;
	if (osize == 4)
		mask |= FL_AC | FL_ID | FL_VIF | FL_VIP;
	if (old_cpl == 0)
		mask |= FL_IOPL;
	if (old_cpl <= iopl(cpu))
		mask |= FL_IF;
	if (osize == 2)
		mask &= 0xffff;
	load_eflags(cpu, flags, mask);
}

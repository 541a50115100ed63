// SPDX-License-Identifier: MIT
/*
 * Exceptions and interrupt delivery (Intel SDM vol. 3, chapter 6): the
 * real-mode interrupt vector table, protected-mode IDT gates with
 * privilege changes and virtual-8086 exits, and the double-fault and
 * shutdown rules of table 6-5.
 */
#include <string.h>

#include "cpu/soft/cpu.h"

__attribute__((noreturn)) void cpu_fault(struct soft_cpu *cpu, int vector,
					 u32 error_code)
{
	cpu->fault_vector = vector;
	cpu->fault_has_error = vector == EXC_DF || vector == EXC_TS ||
			       vector == EXC_NP || vector == EXC_SS ||
			       vector == EXC_GP || vector == EXC_PF ||
			       vector == EXC_AC;
	cpu->fault_error = error_code;
	longjmp(cpu->unwind, 1);
}

__attribute__((noreturn)) void cpu_fault_noerr(struct soft_cpu *cpu,
					       int vector)
{
	cpu_fault(cpu, vector, 0);
}

static void deliver_real(struct soft_cpu *cpu, int vector, u64 return_eip)
{
	u32 entry = (u32)vector * 4;
	u16 ip, cs;

	if (entry + 3 > cpu->s.idtr.limit)
		cpu_fault(cpu, EXC_GP, (u32)vector * 8 + 2);
	ip = sys_read16(cpu, cpu->s.idtr.base + entry);
	cs = sys_read16(cpu, cpu->s.idtr.base + entry + 2);
	push16(cpu, (u16)read_eflags(cpu));
	push16(cpu, cpu->s.seg[S_CS].selector);
	push16(cpu, (u16)return_eip);
	cpu->s.eflags &= ~(FL_IF | FL_TF | FL_AC | FL_RF);
	seg_load_real(cpu, S_CS, cs);
	cpu->s.eip = ip;
}

struct gate {
	u16 sel;
	u32 offset;
	unsigned type;
	unsigned dpl;
	bool present;
};

static struct gate read_gate(struct soft_cpu *cpu, int vector, u32 ext)
{
	u32 off = (u32)vector * 8, lo, hi;
	struct gate g;

	if (off + 7 > cpu->s.idtr.limit)
		cpu_fault(cpu, EXC_GP, off + 2 + ext);
	lo = sys_read32(cpu, cpu->s.idtr.base + off);
	hi = sys_read32(cpu, cpu->s.idtr.base + off + 4);
	g.type = (hi >> 8) & 0x1f;
	g.dpl = (hi >> 13) & 3;
	g.present = hi & 0x8000;
	g.sel = (u16)(lo >> 16);
	g.offset = (lo & 0xffff) | (g.type & 8 ? (hi & 0xffff0000u) : 0);
	switch (g.type) {
	case 0x05:
	case 0x06:
	case 0x07:
	case 0x0e:
	case 0x0f:
		break;
	default:
		cpu_fault(cpu, EXC_GP, off + 2 + ext);
	}
	return g;
}

/* Inner-level stack from the TSS (SDM vol. 3, 7.2.1 and 7.7). */
static void tss_stack(struct soft_cpu *cpu, unsigned dpl, u16 *ss, u32 *esp)
{
	const struct x86_segment *tr = &cpu->s.tr;
	bool tss32 = (tr->attr & 0x8) != 0;
	u32 off = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;

	if (off + (tss32 ? 5 : 3) > tr->limit)
		cpu_fault(cpu, EXC_TS, tr->selector & ~3u);
	if (tss32) {
		*esp = sys_read32(cpu, tr->base + off);
		*ss = sys_read16(cpu, tr->base + off + 4);
	} else {
		*esp = sys_read16(cpu, tr->base + off);
		*ss = sys_read16(cpu, tr->base + off + 2);
	}
}

static void load_inner_ss(struct soft_cpu *cpu, u16 ss, unsigned dpl,
			  u32 ext)
{
	u32 lo, hi;

	if (!(ss & ~3u) || (ss & 3) != dpl)
		cpu_fault(cpu, EXC_TS, (ss & ~3u) + ext);
	if (!desc_fetch(cpu, ss, &lo, &hi))
		cpu_fault(cpu, EXC_TS, (ss & ~3u) + ext);
	if (((hi >> 13) & 3) != dpl || (hi & 0x1a00) != 0x1200)
		cpu_fault(cpu, EXC_TS, (ss & ~3u) + ext);
	if (!(hi & 0x8000))
		cpu_fault(cpu, EXC_SS, (ss & ~3u) + ext);
	desc_set_accessed(cpu, ss, hi);
	desc_to_segment(lo, hi | 0x100, ss, &cpu->s.seg[S_SS]);
}

/* An interrupt- or trap-gate delivery, worked out before it is done. */
struct gate_entry {
	struct x86_segment cs; /* the handler's code segment */
	u32 eip;
	unsigned dpl;
	u32 ext;
	bool gate32;
	bool inner; /* switch to the stack of level dpl from the TSS */
	u32 old_eflags;
	u64 return_eip;
	u16 old_cs;
	bool has_error;
	u32 error_code;
};

static void push_frame(struct soft_cpu *cpu, const struct gate_entry *e,
		       u32 v)
{
	push_sz(cpu, v, e->gate32 ? 4 : 2);
}

/*
 * The inner stack from the TSS, with the outer SS:ESP on it, and for an
 * exit from virtual-8086 mode the data segments too (SDM vol. 3, 6.12.1
 * and 20.3.1.1, figures 6-4 and 20-5).
 */
static void gate_switch_stack(struct soft_cpu *cpu, const struct gate_entry *e)
{
	u16 ss, old_ss = cpu->s.seg[S_SS].selector;
	u32 esp, old_esp = cpu->s.gpr[R_ESP];
	bool was_vm86 = cpu->vm86;

	tss_stack(cpu, e->dpl, &ss, &esp);
	load_inner_ss(cpu, ss, e->dpl, e->ext);
	cpu->s.eflags &= ~FL_VM;
	/*
	 * The frame goes onto the inner stack with the inner level's
	 * rights: switch CS (hence CPL) before pushing it.
	 */
	cpu->s.seg[S_CS] = e->cs;
	cpu_update_mode(cpu);
	cpu->s.gpr[R_ESP] = esp;
	if (was_vm86) {
		push_frame(cpu, e, cpu->s.seg[S_GS].selector);
		push_frame(cpu, e, cpu->s.seg[S_FS].selector);
		push_frame(cpu, e, cpu->s.seg[S_DS].selector);
		push_frame(cpu, e, cpu->s.seg[S_ES].selector);
		cpu->s.seg[S_GS] = cpu->s.seg[S_FS] = cpu->s.seg[S_DS] =
			cpu->s.seg[S_ES] = (struct x86_segment){ 0 };
	}
	push_frame(cpu, e, old_ss);
	push_frame(cpu, e, old_esp);
}

static void gate_push_frame(struct soft_cpu *cpu, const struct gate_entry *e)
{
	if (e->inner)
		gate_switch_stack(cpu, e);
	push_frame(cpu, e, e->old_eflags);
	push_frame(cpu, e, e->old_cs);
	push_frame(cpu, e, e->return_eip);
	if (e->has_error)
		push_frame(cpu, e, e->error_code);
}

/* What gate_push_frame() changes before its last push can fault. */
struct gate_undo {
	struct x86_segment seg[6];
	u32 eflags, esp;
	jmp_buf outer;
};

/*
 * A fault while the frame is pushed (#PF or #SS on the new stack) is
 * taken in the interrupted context, as if the delivery had not begun
 * (SDM vol. 3, 6.14 and table 6-5): undo the stack switch before the
 * fault unwinds to whoever handles it.
 */
static void gate_push_frame_or_undo(struct soft_cpu *cpu,
				    const struct gate_entry *e)
{
	struct gate_undo u;

	memcpy(u.seg, cpu->s.seg, sizeof(u.seg));
	u.eflags = cpu->s.eflags;
	u.esp = cpu->s.gpr[R_ESP];
	memcpy(u.outer, cpu->unwind, sizeof(u.outer));
	if (setjmp(cpu->unwind)) {
		/* A limit fault on the new stack names it: #SS(SS + EXT). */
		if (e->inner && cpu->fault_vector == EXC_SS &&
		    !cpu->fault_error)
			cpu->fault_error = (cpu->s.seg[S_SS].selector & ~3u) +
					   e->ext;
		memcpy(cpu->s.seg, u.seg, sizeof(u.seg));
		cpu->s.eflags = u.eflags;
		cpu->s.gpr[R_ESP] = u.esp;
		cpu_update_mode(cpu);
		memcpy(cpu->unwind, u.outer, sizeof(u.outer));
		longjmp(cpu->unwind, 1);
	}
	gate_push_frame(cpu, e);
	memcpy(cpu->unwind, u.outer, sizeof(u.outer));
}

static void deliver_task_gate(struct soft_cpu *cpu, const struct gate *g,
			      const struct gate_entry *e)
{
	u32 lo, hi;

	if (!desc_fetch(cpu, g->sel, &lo, &hi) || (g->sel & 4))
		cpu_fault(cpu, EXC_GP, (g->sel & ~3u) + e->ext);
	task_switch(cpu, g->sel, lo, hi, TS_INT, e->return_eip);
	if (e->has_error)
		push_sz(cpu, e->error_code, (cpu->s.tr.attr & 0x8) ? 4 : 2);
}

static void deliver_protected(struct soft_cpu *cpu, int vector, bool software,
			      bool has_error, u32 error_code, u64 return_eip)
{
	u32 ext = software ? 0 : 1;
	struct gate g = read_gate(cpu, vector, ext);
	struct gate_entry e = {
		.ext = ext, .gate32 = g.type & 8,
		.old_eflags = read_eflags(cpu), .return_eip = return_eip,
		.old_cs = cpu->s.seg[S_CS].selector,
		.has_error = has_error, .error_code = error_code,
	};
	u32 lo, hi;
	bool conforming;

	if (software && g.dpl < cpu->cpl)
		cpu_fault(cpu, EXC_GP, (u32)vector * 8 + 2);
	if (!g.present)
		cpu_fault(cpu, EXC_NP, (u32)vector * 8 + 2 + ext);
	if (g.type == 0x05) {
		deliver_task_gate(cpu, &g, &e);
		return;
	}
	if (!(g.sel & ~3u))
		cpu_fault(cpu, EXC_GP, ext);
	if (!desc_fetch(cpu, g.sel, &lo, &hi))
		cpu_fault(cpu, EXC_GP, (g.sel & ~3u) + ext);
	e.dpl = (hi >> 13) & 3;
	conforming = (hi & 0x400) != 0;
	if ((hi & 0x1800) != 0x1800 || e.dpl > cpu->cpl)
		cpu_fault(cpu, EXC_GP, (g.sel & ~3u) + ext);
	if (!(hi & 0x8000))
		cpu_fault(cpu, EXC_NP, (g.sel & ~3u) + ext);
	desc_to_segment(lo, hi | 0x100, (u16)((g.sel & ~3u) | e.dpl), &e.cs);
	e.inner = !conforming && e.dpl < cpu->cpl;
	/* From V86 mode only to a ring-0 handler (SDM vol. 3, 20.3.1.1). */
	if (cpu->vm86 && (!e.inner || e.dpl != 0))
		cpu_fault(cpu, EXC_GP, (g.sel & ~3u) + ext);
	if (!e.inner)
		e.cs.selector = (u16)((g.sel & ~3u) | cpu->cpl);
	e.eip = e.gate32 ? g.offset : g.offset & 0xffff;
	if (e.eip > e.cs.limit)
		cpu_fault(cpu, EXC_GP, 0);
	gate_push_frame_or_undo(cpu, &e);
	desc_set_accessed(cpu, g.sel, hi);
	cpu->s.seg[S_CS] = e.cs;
	cpu->s.eip = e.eip;
	cpu->s.eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!(g.type & 1))
		cpu->s.eflags &= ~FL_IF;
	cpu_update_mode(cpu);
}

void cpu_deliver_interrupt(struct soft_cpu *cpu, int vector, bool software,
			   bool has_error, u32 error_code, u64 return_eip)
{
	cpu->s.halted = false;
	/*
	 * An event that is not the current instruction's own (INTR, NMI,
	 * a debug trap): a fault while delivering it is taken where the
	 * event was, not at the last instruction (SDM vol. 3, 6.6), so that
	 * is where cpu_deliver_fault() must rewind to.
	 */
	if (!software && cpu->delivering < 0) {
		cpu->insn_eip = return_eip;
		cpu->insn_esp = cpu->s.gpr[R_ESP];
	}
	if (!cpu->pe)
		deliver_real(cpu, vector, return_eip);
	else if (cpu->s.efer & EFER_LMA)
		deliver_long(cpu, vector, software, has_error, error_code,
			     return_eip);
	else
		deliver_protected(cpu, vector, software, has_error, error_code,
				  return_eip);
}

static bool contributory(int v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/* SDM vol. 3, table 6-5: which second fault makes a double fault. */
static bool makes_double_fault(int first, int second)
{
	if (first == EXC_PF)
		return second == EXC_PF || contributory(second);
	return contributory(first) && contributory(second);
}

void cpu_deliver_fault(struct soft_cpu *cpu)
{
	/* volatile: they change between setjmp and a later longjmp */
	volatile int vector = cpu->fault_vector;
	volatile bool has_error = cpu->fault_has_error;
	volatile u32 error = cpu->fault_error;
	volatile u64 return_eip = cpu->insn_eip;

	/* The 8086 reports a divide error after the instruction. */
	if (vector == EXC_DE && is_8086(cpu))
		return_eip = cpu->s.eip;
	/* On the real-mode 8086/286, no error codes are pushed. */
	if (!cpu->pe)
		has_error = false;
	cpu_trace_fault(cpu, vector, has_error, error);
	cpu->s.rip = cpu->insn_eip;
	cpu->s.gpr[R_ESP] = cpu->insn_esp;
	for (;;) {
		if (!setjmp(cpu->unwind)) {
			cpu->delivering = vector;
			cpu_deliver_interrupt(cpu, vector, false, has_error,
					      error, return_eip);
			cpu->delivering = -1;
			return;
		}
		/* A fault while delivering the previous one. */
		if (cpu->delivering == EXC_DF) {
			cpu_trace_shutdown(cpu);
			cpu->shutdown = true;
			cpu->delivering = -1;
			return;
		}
		cpu_trace_fault(cpu, cpu->fault_vector, cpu->fault_has_error,
				cpu->fault_error);
		if (makes_double_fault(cpu->delivering, cpu->fault_vector)) {
			vector = EXC_DF;
			error = 0;
			has_error = cpu->pe;
		} else {
			vector = cpu->fault_vector;
			error = cpu->fault_error;
			has_error = cpu->fault_has_error && cpu->pe;
		}
	}
}

// SPDX-License-Identifier: MIT
/*
 * The soft engine: engine_ops glue and the instruction loop.
 *
 * One iteration: deliver a pending interrupt if the CPU accepts one, then
 * decode the instruction at CS:EIP, advance EIP past it and execute it.
 * Faults longjmp back here; the loop rewinds EIP/ESP and delivers them.
 * The loop returns to the machine on HLT, a stop request, shutdown, or
 * when the time slice ends (checked every few hundred instructions).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "cpu/soft/block.h"
#include "cpu/soft/icache.h"
#include "cpu/jit/jit.h"

#define CLOCK_CHECK_INTERVAL 256

struct vcpu {
	struct soft_cpu cpu;
};

void cpu_update_mode(struct soft_cpu *cpu)
{
	struct x86_state *s = &cpu->s;

	cpu->pe = s->cr0 & CR0_PE;
	cpu->vm86 = cpu->pe && (s->eflags & FL_VM);
	if (!cpu->pe)
		cpu->cpl = 0;
	else if (cpu->vm86)
		cpu->cpl = 3;
	else
		cpu->cpl = s->seg[S_CS].selector & 3;
	cpu->fetch_page = TLB_INVALID; /* CPL or CS may have changed */
	cpu->code32 = !cpu->vm86 && (s->seg[S_CS].attr & SEG_ATTR_DB);
	cpu->stack32 = !cpu->vm86 && (s->seg[S_SS].attr & SEG_ATTR_DB);
	/* 64-bit mode: IA-32e active and CS.L (SDM vol. 3, 5.2.1) */
	cpu->code64 = cpu->pe && long_mode_active(cpu) &&
		      (s->seg[S_CS].attr & SEG_ATTR_L);
	if (cpu->code64)
		cpu->code32 = cpu->stack32 = true;
	cpu->code_mode = cpu->code64 ? 2 : cpu->code32;
	cpu->rex_byte = false;
	if (is_286_or_older(cpu)) {
		cpu->code32 = cpu->stack32 = false;
		cpu->addr_mask = is_8086(cpu) ? 0xfffffull : 0xffffffull;
	} else {
		cpu->addr_mask =
			s->a20_masked ? 0xfffefffffull : 0xfffffffffull;
	}
}

static void seg_reset(struct x86_segment *sg, u16 sel, u32 base, u16 type)
{
	*sg = (struct x86_segment){sel, base, 0xffff,
				   SEG_ATTR_P | SEG_ATTR_S | type};
}

/* Power-on state, Intel SDM vol. 3, table 9-1. */
void cpu_reset(struct soft_cpu *cpu)
{
	struct x86_state *s = &cpu->s;
	unsigned i;

	*s = (struct x86_state){0};
	cpu->lazy.op = LAZY_NONE;
	s->eip = 0xfff0;
	s->eflags = 2;
	s->cr0 = CR0_ET | CR0_CD | CR0_NW;
	s->gpr[R_EDX] = 0x00000631u;
	for (i = 0; i < 6; i++)
		seg_reset(&s->seg[i], 0, 0, 0x3);
	seg_reset(&s->seg[S_CS], 0xf000, 0xffff0000u, 0xb);
	if (is_286_or_older(cpu))
		s->seg[S_CS].base = 0xf0000; /* 8086/286: F000:FFF0 */
	s->gdtr.limit = s->idtr.limit = 0xffff;
	s->ldtr = (struct x86_segment){0, 0, 0xffff, SEG_ATTR_P | 0x2};
	s->tr = (struct x86_segment){0, 0, 0xffff, SEG_ATTR_P | 0xb};
	s->dr[6] = 0xffff0ff0u;
	s->dr[7] = 0x400;
	s->pat = 0x0007040600070406ull;
	s->apic_base = 0xfee00900ull;
	cpu->intr_line = false;
	cpu->inhibit_irq = false;
	cpu->delivering = -1;
	cpu->shutdown = false;
	fpu_reset(cpu);
	cpu_update_mode(cpu);
	cpu_tlb_flush(cpu);
}

static void cpu_single_step_trap(struct soft_cpu *cpu)
{
	cpu->s.dr[6] |= BIT(14); /* BS */
	cpu_deliver_interrupt(cpu, EXC_DB, false, false, 0, cpu->s.rip);
}

static inline __attribute__((always_inline)) void cpu_step(struct soft_cpu *cpu,
							   struct insn *in)
{
	bool trap = cpu->s.eflags & FL_TF;
	struct insn *cached;
	u64 next;

	cpu->insn_eip = cpu->s.rip;
	cpu->insn_esp = cpu->s.gpr[R_ESP];
	cached = icache_fetch(cpu);
	if (cached)
		in = cached;
	else
		decode(cpu, in);
	cpu->in = in;
	next = cpu->s.rip + in->len;
	cpu->s.rip = cpu->code64 ? next : cpu->code32 ? (u32)next : next & 0xffff;
	in->fn(cpu, in);
	cpu->icount++;
	if (trap)
		cpu_single_step_trap(cpu);
}

/*
 * Run the instructions of block b, leaving early if one of them stored
 * into cached code (the rest of the block may be stale). The number run.
 */
static __attribute__((noinline)) unsigned cpu_run_block(struct soft_cpu *cpu,
							struct block *b)
{
	const u32 epoch = cpu->icache.code_epoch;
	const u64 ip_mask = cpu->code64 ? ~0ull : cpu->code32 ? 0xffffffffu : 0xffffu;
	struct insn *in = b->insns, *end = in + b->n;

	/*
	 * Out of line (noinline): soft_run() calls setjmp, which makes the
	 * compiler keep its locals in memory; here cpu and the cursor stay
	 * in registers.
	 */
	cpu->block_insns = in;
	do {
		u64 eip = cpu->s.rip;

		cpu->insn_eip = eip;
		cpu->insn_esp = cpu->s.gpr[R_ESP];
		cpu->in = in;
		cpu->s.rip = (eip + in->len) & ip_mask;
		in->fn(cpu, in);
		in++;
	} while (in != end && likely(cpu->icache.code_epoch == epoch));
	cpu->block_insns = NULL;
	cpu->icount += (u64)(in - b->insns);
	return (unsigned)(in - b->insns);
}

/* A fault cut a block short: count the instructions it completed. */
static void cpu_count_block_before_fault(struct soft_cpu *cpu)
{
	if (cpu->block_insns) {
		cpu->icount += (u64)(cpu->in - cpu->block_insns);
		cpu->block_insns = NULL;
	}
}

/*
 * One block, or one instruction when there is no block to run: with TF
 * set (a trap after each instruction), on the 8086 and 286 models (kept
 * instruction by instruction, as their test suites check), or where
 * block_fetch() declines.
 */
static inline __attribute__((always_inline)) unsigned
cpu_run_some(struct soft_cpu *cpu, struct insn *scratch)
{
	struct block *b = NULL;

	if (likely(!(cpu->s.eflags & FL_TF)) && !is_286_or_older(cpu))
		b = block_fetch(cpu);
	if (likely(b)) {
		unsigned n = cpu->jit ? jit_run_block(cpu, b) : 0;

		return n ? n : cpu_run_block(cpu, b);
	}
	cpu_step(cpu, scratch);
	return 1;
}

/* Deliver NMI or INTR if the CPU accepts one now. */
static void cpu_check_interrupts(struct soft_cpu *cpu)
{
	int vector;

	if (cpu->inhibit_irq) {
		cpu->inhibit_irq = false;
		return;
	}
	if (cpu->s.nmi_pending && !cpu->s.nmi_blocked) {
		/* Further NMIs wait for the handler's IRET (SDM vol. 3, 6.7.1).
		 */
		cpu->s.nmi_pending = false;
		cpu->s.nmi_blocked = true;
		cpu_deliver_interrupt(cpu, EXC_NMI, false, false, 0,
				      cpu->s.rip);
		return;
	}
	if (!cpu->intr_line || !(cpu->s.eflags & FL_IF))
		return;
	vector = cpu->env.intack(cpu->env.opaque);
	if (vector >= 0)
		cpu_deliver_interrupt(cpu, vector & 0xff, false, false, 0,
				      cpu->s.rip);
}

static bool cpu_attention(const struct soft_cpu *cpu)
{
	return cpu->stop_requested || cpu->s.halted ||
	       (cpu->s.nmi_pending && !cpu->s.nmi_blocked) ||
	       (cpu->intr_line && (cpu->s.eflags & FL_IF));
}

static enum vcpu_exit soft_run(struct vcpu *v, u64 deadline_ns)
{
	struct soft_cpu *cpu = &v->cpu;
	struct insn in;
	unsigned n;

	cpu->in = &in;
	for (;;) {
		if (setjmp(cpu->unwind)) {
			cpu_count_block_before_fault(cpu);
			cpu_deliver_fault(cpu);
			if (cpu->shutdown) {
				cpu->shutdown = false;
				return VCPU_EXIT_SHUTDOWN;
			}
			/* A guest that faults in a loop must still yield. */
			if (clock_now_ns() >= deadline_ns)
				return VCPU_EXIT_DEADLINE;
			continue;
		}
		for (;;) {
			if (cpu->stop_requested) {
				cpu->stop_requested = false;
				return VCPU_EXIT_STOP;
			}
			cpu_check_interrupts(cpu);
			if (cpu->s.halted)
				return VCPU_EXIT_HALT;
			for (n = 0; n < CLOCK_CHECK_INTERVAL;) {
				n += cpu_run_some(cpu, &in);
				if (unlikely(cpu->inhibit_irq)) {
					cpu_step(cpu, &in);
					cpu->inhibit_irq = false;
				}
				if (unlikely(cpu_attention(cpu)))
					break;
			}
			if (clock_now_ns() >= deadline_ns)
				return VCPU_EXIT_DEADLINE;
		}
	}
}

static enum vcpu_exit soft_step(struct vcpu *v)
{
	struct soft_cpu *cpu = &v->cpu;
	struct insn in;

	cpu->in = &in;
	if (setjmp(cpu->unwind)) {
		cpu_deliver_fault(cpu);
		if (cpu->shutdown) {
			cpu->shutdown = false;
			return VCPU_EXIT_SHUTDOWN;
		}
		return VCPU_EXIT_STOP;
	}
	cpu_step(cpu, &in);
	return cpu->s.halted ? VCPU_EXIT_HALT : VCPU_EXIT_STOP;
}

static void soft_map_changed(void *opaque)
{
	cpu_tlb_flush(opaque);
}

static void soft_dma_written(void *opaque, u64 paddr, u64 len)
{
	struct soft_cpu *cpu = opaque;
	u64 off = mem_ram_offset(cpu->env.mem, paddr);

	if (off != UINT64_MAX)
		icache_note_write(cpu, cpu->env.mem->ram + off, len);
}

static int soft_create(const struct vcpu_env *env, struct vcpu **out)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	struct mem_listener l = {soft_map_changed, soft_dma_written, NULL};

	if (!v)
		return -ENOMEM;
	v->cpu.env = *env;
	v->cpu.model = env->model;
	l.opaque = &v->cpu;
	if (icache_init(&v->cpu) || mem_add_listener(env->mem, &l)) {
		icache_free(&v->cpu);
		free(v);
		return -ENOMEM;
	}
	if (jit_wanted() && jit_init(&v->cpu))
		fprintf(stderr, "twoostwo: JIT unavailable, interpreting\n");
	cpu_reset(&v->cpu);
	*out = v;
	return 0;
}

static void soft_destroy(struct vcpu *v)
{
	if (!v)
		return;
	mem_remove_listener(v->cpu.env.mem, &v->cpu);
	jit_free(&v->cpu);
	icache_free(&v->cpu);
	free(v);
}

static void soft_reset(struct vcpu *v)
{
	cpu_reset(&v->cpu);
}

static void soft_get_state(struct vcpu *v, struct x86_state *state)
{
	*state = v->cpu.s;
	state->eflags = read_eflags(&v->cpu);
}

static void soft_set_state(struct vcpu *v, const struct x86_state *state)
{
	v->cpu.s = *state;
	v->cpu.lazy.op = LAZY_NONE;
	cpu_update_mode(&v->cpu);
	v->cpu.s.eflags = read_eflags(&v->cpu);
	cpu_tlb_flush(&v->cpu);
}

static void soft_set_intr(struct vcpu *v, bool level)
{
	v->cpu.intr_line = level;
}

static void soft_raise_nmi(struct vcpu *v)
{
	v->cpu.s.nmi_pending = true;
}

static void soft_stop(struct vcpu *v)
{
	v->cpu.stop_requested = true;
}

static void soft_set_a20(struct vcpu *v, bool enabled)
{
	if (v->cpu.s.a20_masked == !enabled)
		return;
	v->cpu.s.a20_masked = !enabled;
	cpu_update_mode(&v->cpu);
	cpu_tlb_flush(&v->cpu);
}

static u64 soft_instructions(struct vcpu *v)
{
	return v->cpu.icount;
}

const struct engine_ops soft_engine_ops = {
	.name = "soft",
	.create = soft_create,
	.destroy = soft_destroy,
	.reset = soft_reset,
	.run = soft_run,
	.step = soft_step,
	.get_state = soft_get_state,
	.set_state = soft_set_state,
	.set_intr = soft_set_intr,
	.raise_nmi = soft_raise_nmi,
	.stop = soft_stop,
	.set_a20 = soft_set_a20,
	.instructions = soft_instructions,
};

/*
 * CPUID as this engine answers it, without executing anything: the kvm
 * engine hands these leaves to KVM_SET_CPUID2, so both engines show the
 * guest one processor (cpuid() in system.c is the only table).
 */
void soft_cpuid_query(struct vcpu *v, u32 leaf, u32 subleaf, u32 out[4])
{
	struct soft_cpu *cpu = &v->cpu;
	u64 saved[4] = {cpu->s.gpr[R_EAX], cpu->s.gpr[R_EBX], cpu->s.gpr[R_ECX],
			cpu->s.gpr[R_EDX]};

	cpu->s.gpr[R_EAX] = leaf;
	cpu->s.gpr[R_ECX] = subleaf;
	cpuid(cpu);
	out[0] = (u32)cpu->s.gpr[R_EAX];
	out[1] = (u32)cpu->s.gpr[R_EBX];
	out[2] = (u32)cpu->s.gpr[R_ECX];
	out[3] = (u32)cpu->s.gpr[R_EDX];
	cpu->s.gpr[R_EAX] = saved[0];
	cpu->s.gpr[R_EBX] = saved[1];
	cpu->s.gpr[R_ECX] = saved[2];
	cpu->s.gpr[R_EDX] = saved[3];
}

// SPDX-License-Identifier: MIT
/*
 * One SingleStepTests test on one CPU engine. The machine is reused from
 * test to test: after each test only the RAM bytes it named (INIT and
 * FINA) are zeroed again, so a run of ~100,000 tests never clears 16 MiB.
 */
#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "cputest/runner.h"

#define CPURUN_RAM_SIZE (16u << 20)
#define CPURUN_TIMEOUT_NS (100 * NSEC_PER_MSEC)
#define CPURUN_SLICE_NS (10 * NSEC_PER_MSEC)
/* A test takes a few instructions; ten million means it never halts. */
#define CPURUN_MAX_INSNS 10000000ull
#define CPURUN_RUN_MAX 64
/* Interrupts stay disabled in every test (IF is never set). */
#define CPURUN_SPURIOUS_VECTOR 8

enum cpurun_reg_kind { CPURUN_GPR, CPURUN_SEG, CPURUN_IP, CPURUN_FLAGS };

/* Where each MOO register lives in struct x86_state. */
static const struct {
	u8 kind;
	u8 idx;
} cpurun_map[MOO_NR_REGS] = {
	[MOO_AX] = {CPURUN_GPR, R_EAX}, [MOO_BX] = {CPURUN_GPR, R_EBX},
	[MOO_CX] = {CPURUN_GPR, R_ECX}, [MOO_DX] = {CPURUN_GPR, R_EDX},
	[MOO_CS] = {CPURUN_SEG, S_CS},	[MOO_SS] = {CPURUN_SEG, S_SS},
	[MOO_DS] = {CPURUN_SEG, S_DS},	[MOO_ES] = {CPURUN_SEG, S_ES},
	[MOO_SP] = {CPURUN_GPR, R_ESP}, [MOO_BP] = {CPURUN_GPR, R_EBP},
	[MOO_SI] = {CPURUN_GPR, R_ESI}, [MOO_DI] = {CPURUN_GPR, R_EDI},
	[MOO_IP] = {CPURUN_IP, 0},	[MOO_FLAGS] = {CPURUN_FLAGS, 0},
};

/* Consecutive RAM bytes gathered into one DMA-style write. */
struct cpurun_span {
	u32 start;
	u32 len;
	u8 buf[CPURUN_RUN_MAX];
};

static int cpurun_intack(void *opaque)
{
	return CPURUN_SPURIOUS_VECTOR;
}

int cpurun_init(struct cpurun *r, const struct engine_ops *ops,
		enum cpu_model model)
{
	int ret;

	*r = (struct cpurun){.ops = ops, .model = model};
	r->addr_mask = model == CPU_MODEL_8086 ? 0xfffff : 0xffffff;
	/*
	 * CPU-TESTS.md: the 286's initial flags may hold IOPL/NT bits that
	 * real mode cannot keep, so its top four flag bits are not compared.
	 */
	r->flags_fixed_mask = model == CPU_MODEL_286 ? 0x0fff : 0xffff;
	ret = mem_init(&r->mem, CPURUN_RAM_SIZE, CPURUN_RAM_SIZE);
	if (ret < 0)
		return ret;
	r->mem.flat = true;
	r->pio = pio_bus_new();
	if (!r->pio) {
		cpurun_destroy(r);
		return -ENOMEM;
	}
	r->env = (struct vcpu_env){.pio = r->pio,
				   .mem = &r->mem,
				   .intack = cpurun_intack,
				   .model = model};
	ret = ops->create(&r->env, &r->vcpu);
	if (ret < 0) {
		r->vcpu = NULL;
		cpurun_destroy(r);
	}
	return ret;
}

void cpurun_destroy(struct cpurun *r)
{
	if (r->vcpu)
		r->ops->destroy(r->vcpu);
	r->vcpu = NULL;
	if (r->pio)
		pio_bus_free(r->pio);
	r->pio = NULL;
	mem_destroy(&r->mem);
}

/*
 * Through mem_dma_write() so that memory listeners (an engine's cache of
 * decoded code) learn that the bytes changed.
 */
static void cpurun_flush(struct cpurun *r, struct cpurun_span *s)
{
	if (s->len)
		mem_dma_write(&r->mem, s->start, s->buf, s->len);
	s->len = 0;
}

static void cpurun_put(struct cpurun *r, struct cpurun_span *s, u32 addr,
		       u8 value)
{
	if (s->len && (addr != s->start + s->len || s->len == CPURUN_RUN_MAX))
		cpurun_flush(r, s);
	if (!s->len)
		s->start = addr;
	s->buf[s->len++] = value;
}

/* Write the RAM bytes of a state, or zero them again (clear == true). */
static void cpurun_store_ram(struct cpurun *r, const struct moo_state *st,
			     bool clear)
{
	struct cpurun_span s = {0};
	u32 i, addr;
	u8 value;

	for (i = 0; i < st->ram_count; i++) {
		moo_ram_entry(st, i, &addr, &value);
		cpurun_put(r, &s, addr & r->addr_mask, clear ? 0 : value);
	}
	cpurun_flush(r, &s);
}

/* A real-mode segment: base = selector * 16, 64 KiB limit, present. */
static void cpurun_real_seg(struct x86_segment *seg, u16 sel, bool code)
{
	seg->selector = sel;
	seg->base = (u32)sel << 4;
	seg->limit = 0xffff;
	seg->attr = SEG_ATTR_P | SEG_ATTR_S | (code ? 0xb : 0x3);
}

static void cpurun_set_reg(struct x86_state *s, enum moo_reg reg, u16 v)
{
	switch (cpurun_map[reg].kind) {
	case CPURUN_GPR:
		s->gpr[cpurun_map[reg].idx] = v;
		break;
	case CPURUN_SEG:
		cpurun_real_seg(&s->seg[cpurun_map[reg].idx], v, reg == MOO_CS);
		break;
	case CPURUN_IP:
		s->eip = v;
		break;
	default:
		s->eflags = v;
		break;
	}
}

static u16 cpurun_get_reg(const struct x86_state *s, enum moo_reg reg)
{
	switch (cpurun_map[reg].kind) {
	case CPURUN_GPR:
		return (u16)s->gpr[cpurun_map[reg].idx];
	case CPURUN_SEG:
		return s->seg[cpurun_map[reg].idx].selector;
	case CPURUN_IP:
		return (u16)s->eip;
	default:
		return (u16)s->eflags;
	}
}

/*
 * Start from the engine's reset state (real mode, IDT at 0 with limit
 * 0x3FF) and put the test's registers over it.
 */
static void cpurun_load_state(struct cpurun *r, const struct moo_test *t)
{
	struct x86_state s;
	unsigned i;

	r->ops->reset(r->vcpu);
	r->ops->get_state(r->vcpu, &s);
	for (i = 0; i < MOO_NR_REGS; i++)
		cpurun_set_reg(&s, i, t->init.regs.val[i]);
	cpurun_real_seg(&s.seg[S_FS], 0, false);
	cpurun_real_seg(&s.seg[S_GS], 0, false);
	s.cr0 &= ~(u32)(CR0_PE | CR0_PG);
	s.halted = false;
	r->ops->set_state(r->vcpu, &s);
}

static void cpurun_diff(struct cpurun_result *res, enum cpurun_diff_kind kind,
			u32 where, u16 expected, u16 got, u16 mask)
{
	if (res->nr_diffs < CPURUN_MAX_DIFFS)
		res->diffs[res->nr_diffs] =
			(struct cpurun_diff){kind, where, expected, got, mask};
	res->nr_diffs++;
}

/* The RMSK mask of a register: the test's own, else the file's. */
static u16 cpurun_reg_mask(const struct moo_test *t,
			   const struct moo_regs *file_rmsk, enum moo_reg reg)
{
	if (t->fina.rmsk.present & BIT(reg))
		return t->fina.rmsk.val[reg];
	if (file_rmsk->present & BIT(reg))
		return file_rmsk->val[reg];
	return 0xffff;
}

/* Final value of a register: FINA's if it changed, else INIT's. */
static u16 cpurun_final_reg(const struct moo_test *t, enum moo_reg reg)
{
	return t->fina.regs.present & BIT(reg) ? t->fina.regs.val[reg] :
						 t->init.regs.val[reg];
}

static void cpurun_compare_regs(const struct moo_test *t,
				const struct x86_state *s,
				const struct moo_regs *file_rmsk,
				u16 flags_mask, struct cpurun_result *res)
{
	unsigned i;

	for (i = 0; i < MOO_NR_REGS; i++) {
		u16 want = cpurun_final_reg(t, i);
		u16 got = cpurun_get_reg(s, i);
		u16 mask = cpurun_reg_mask(t, file_rmsk, i);

		if (i == MOO_FLAGS)
			mask &= flags_mask;
		if ((want ^ got) & mask)
			cpurun_diff(res, CPURUN_DIFF_REG, i, want & mask,
				    got & mask, mask);
	}
}

/*
 * Where an interrupt frame's FLAGS word was pushed: SS:SP+4 after the
 * push of FLAGS, CS and IP. The 286 files say where (EXCP), but with an
 * odd SP they give the even address below the word (all 217 such tests
 * of the 80286 suite), so the frame's own address wins when the two
 * agree but for that rounding. The 8086 files carry no EXCP chunk; a
 * frame is recognisable there by SP having dropped by 6.
 */
static bool cpurun_flags_frame(struct cpurun *r, const struct moo_test *t,
			       u32 *addr)
{
	u16 sp = cpurun_final_reg(t, MOO_SP);
	u32 frame = (((u32)cpurun_final_reg(t, MOO_SS) << 4) + (u16)(sp + 4)) &
		    r->addr_mask;

	if (t->has_excp) {
		*addr = t->excp_flags_addr & r->addr_mask;
		if (*addr == frame || *addr == (frame & ~1u))
			*addr = frame;
		return true;
	}
	if ((u16)(t->init.regs.val[MOO_SP] - 6) != sp)
		return false;
	*addr = frame;
	return true;
}

/* FLAGS pushed by an exception are compared as FLAGS are (MOO EXCP). */
static u8 cpurun_ram_mask(struct cpurun *r, const struct moo_test *t, u32 addr,
			  u16 flags_mask)
{
	u32 fa;

	if (!cpurun_flags_frame(r, t, &fa))
		return 0xff;
	if (addr == fa)
		return (u8)flags_mask;
	if (addr == ((fa + 1) & r->addr_mask))
		return (u8)(flags_mask >> 8);
	return 0xff;
}

static void cpurun_compare_ram(struct cpurun *r, const struct moo_test *t,
			       u16 flags_mask, struct cpurun_result *res)
{
	u32 i, addr;
	u8 want, got, mask;

	for (i = 0; i < t->fina.ram_count; i++) {
		moo_ram_entry(&t->fina, i, &addr, &want);
		addr &= r->addr_mask;
		got = (u8)mem_read(&r->mem, addr, 1);
		mask = cpurun_ram_mask(r, t, addr, flags_mask);
		if ((want ^ got) & mask)
			cpurun_diff(res, CPURUN_DIFF_RAM, addr, want & mask,
				    got & mask, mask);
	}
}

static const char *cpurun_exit_name(enum vcpu_exit e)
{
	switch (e) {
	case VCPU_EXIT_DEADLINE:
		return "did not reach HLT (instruction or time limit)";
	case VCPU_EXIT_SHUTDOWN:
		return "did not reach HLT (shutdown)";
	case VCPU_EXIT_STOP:
		return "did not reach HLT (stopped)";
	default:
		return "did not reach HLT";
	}
}

/* The budget of a test: instructions if the engine counts them, else time. */
static bool cpurun_budget_spent(struct cpurun *r, u64 first_insn, u64 end_ns)
{
	if (r->ops->instructions)
		return r->ops->instructions(r->vcpu) - first_insn >=
		       CPURUN_MAX_INSNS;
	return clock_now_ns() >= end_ns;
}

/*
 * Short time slices until HLT. Counting instructions rather than time
 * keeps a test from failing when a busy host deschedules us for a while.
 */
static enum vcpu_exit cpurun_until_hlt(struct cpurun *r)
{
	u64 first = r->ops->instructions ? r->ops->instructions(r->vcpu) : 0;
	u64 end = clock_now_ns() + CPURUN_TIMEOUT_NS;
	enum vcpu_exit e;

	do {
		e = r->ops->run(r->vcpu, clock_now_ns() + CPURUN_SLICE_NS);
	} while (e == VCPU_EXIT_DEADLINE &&
		 !cpurun_budget_spent(r, first, end));
	return e;
}

/*
 * The 8086 suite records one instruction and stops after it; the 286
 * suite follows each instruction with a HLT.
 */
static enum vcpu_exit cpurun_execute(struct cpurun *r)
{
	if (r->model == CPU_MODEL_8086 && r->ops->step)
		return r->ops->step(r->vcpu) == VCPU_EXIT_SHUTDOWN ?
			       VCPU_EXIT_SHUTDOWN :
			       VCPU_EXIT_HALT;
	return cpurun_until_hlt(r);
}

void cpurun_test(struct cpurun *r, const struct moo_test *t,
		 const struct moo_regs *file_rmsk, u16 flags_mask,
		 struct cpurun_result *res)
{
	struct x86_state s;
	enum vcpu_exit e;

	*res = (struct cpurun_result){0};
	flags_mask &= r->flags_fixed_mask;
	flags_mask &= cpurun_reg_mask(t, file_rmsk, MOO_FLAGS);
	cpurun_store_ram(r, &t->init, false);
	cpurun_load_state(r, t);
	e = cpurun_execute(r);
	if (e != VCPU_EXIT_HALT) {
		res->reason = cpurun_exit_name(e);
	} else {
		r->ops->get_state(r->vcpu, &s);
		cpurun_compare_regs(t, &s, file_rmsk, flags_mask, res);
		cpurun_compare_ram(r, t, flags_mask, res);
	}
	res->passed = !res->reason && !res->nr_diffs;
	cpurun_store_ram(r, &t->init, true);
	cpurun_store_ram(r, &t->fina, true);
}

/* Names of the flag bits in mask, e.g. " CF AF" (Intel SDM vol. 1, 3.4.3). */
static void cpurun_flag_names(char *buf, size_t size, u16 bits)
{
	static const char *const names[16] = {
		"CF", "b1", "PF", "b3", "AF",	 "b5",	  "ZF", "SF",
		"TF", "IF", "DF", "OF", "IOPL0", "IOPL1", "NT", "b15",
	};
	size_t n = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < 16 && n < size; i++)
		if (bits & BIT(i))
			n += (size_t)snprintf(buf + n, size - n, " %s",
					      names[i]);
}

static void cpurun_print_diff(FILE *out, const struct cpurun_diff *d)
{
	char flags[96];

	if (d->kind == CPURUN_DIFF_RAM) {
		fprintf(out,
			"    ram[%06x]: expected %02x, got %02x (mask %02x)\n",
			d->where, d->expected, d->got, d->mask);
		return;
	}
	fprintf(out, "    %-5s: expected %04x, got %04x",
		moo_reg_name(d->where), d->expected, d->got);
	if (d->where == MOO_FLAGS) {
		cpurun_flag_names(flags, sizeof(flags),
				  (u16)(d->expected ^ d->got));
		fprintf(out, " (mask %04x; differ:%s)", d->mask, flags);
	} else if (d->mask != 0xffff) {
		fprintf(out, " (mask %04x)", d->mask);
	}
	fputc('\n', out);
}

void cpurun_print_failure(FILE *out, const struct moo_test *t,
			  const struct cpurun_result *res)
{
	unsigned i;

	fprintf(out, "  test %u \"%s\" bytes", t->number, t->name);
	for (i = 0; i < t->nr_bytes && i < 16; i++)
		fprintf(out, " %02x", t->bytes[i]);
	if (t->nr_bytes > 16)
		fprintf(out, " ...");
	if (t->has_hash) {
		fprintf(out, " hash ");
		for (i = 0; i < MOO_HASH_LEN; i++)
			fprintf(out, "%02x", t->hash[i]);
	}
	fputc('\n', out);
	if (t->has_excp)
		fprintf(out, "    (raises exception %u)\n", t->excp_vector);
	if (res->reason)
		fprintf(out, "    %s\n", res->reason);
	for (i = 0; i < res->nr_diffs && i < CPURUN_MAX_DIFFS; i++)
		cpurun_print_diff(out, &res->diffs[i]);
	if (res->nr_diffs > CPURUN_MAX_DIFFS)
		fprintf(out, "    ... %u more mismatches\n",
			res->nr_diffs - CPURUN_MAX_DIFFS);
}

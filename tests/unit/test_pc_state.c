// SPDX-License-Identifier: MIT
/*
 * The CPU section of a saved machine (machine/pc_state.c): every part of
 * x86_state that a 64-bit guest depends on comes back from the file as it
 * was saved, and the machine section's RAM with it.
 */
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "machine/pc_internal.h"
#include "unit.h"

/* A small PC, and an empty temporary file at path (a mkstemp template). */
static struct pc *state_pc(char *path)
{
	struct pc_config cfg = {0};
	struct pc *pc = NULL;
	char err[512];
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("mkstemp");
		return NULL;
	}
	close(fd);

	cfg.ram_size = 4ull << 20;
	cfg.engine = "soft";
	cfg.serial_spec = "none";
	cfg.display = PC_DISPLAY_NONE;
	if (pc_create(&cfg, &pc, err, sizeof(err))) {
		fprintf(stderr, "pc_create: %s\n", err);
		return NULL;
	}
	return pc;
}

/* Distinct values in the fields that only a 64-bit guest uses. */
static void state_fill(struct x86_state *s)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(s->gpr); i++)
		s->gpr[i] = 0x0123456789ab0000ull + i;
	s->rip = 0xfff0;
	s->seg[S_FS].base = 0x00007f0011223340ull;
	s->seg[S_GS].base = 0xffff888012345000ull;
	s->star = 0x0023001000000000ull;
	s->lstar = 0xffffffff81a00000ull;
	s->cstar = 0xffffffff81a00100ull;
	s->sfmask = 0x47700;
	s->kernel_gs_base = 0xffff888077770000ull;
	s->tsc_aux = 5;
	s->fpu.mxcsr = 0x1f80 | 0x3f;
	for (i = 0; i < ARRAY_SIZE(s->fpu.xmm); i++)
		memset(s->fpu.xmm[i], 0x10 + i, sizeof(s->fpu.xmm[i]));
	s->fpu.fcw = 0x027f;
	memset(s->fpu.st, 0x5a, sizeof(s->fpu.st));
}

static void check_same(const struct x86_state *got,
		       const struct x86_state *want)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(want->gpr); i++)
		CHECK_EQ(got->gpr[i], want->gpr[i]);
	CHECK_EQ(got->rip, want->rip);
	CHECK_EQ(got->eflags, want->eflags);
	for (i = 0; i < ARRAY_SIZE(want->seg); i++) {
		CHECK_EQ(got->seg[i].selector, want->seg[i].selector);
		CHECK_EQ(got->seg[i].base, want->seg[i].base);
		CHECK_EQ(got->seg[i].limit, want->seg[i].limit);
		CHECK_EQ(got->seg[i].attr, want->seg[i].attr);
	}
	CHECK_EQ(got->tr.base, want->tr.base);
	CHECK_EQ(got->gdtr.base, want->gdtr.base);
	CHECK_EQ(got->idtr.limit, want->idtr.limit);
	CHECK_EQ(got->cr0, want->cr0);
	CHECK_EQ(got->cr4, want->cr4);
	CHECK_EQ(got->efer, want->efer);
	CHECK_EQ(got->star, want->star);
	CHECK_EQ(got->lstar, want->lstar);
	CHECK_EQ(got->cstar, want->cstar);
	CHECK_EQ(got->sfmask, want->sfmask);
	CHECK_EQ(got->kernel_gs_base, want->kernel_gs_base);
	CHECK_EQ(got->tsc_aux, want->tsc_aux);
	CHECK_EQ(got->a20_masked, want->a20_masked);
	CHECK_EQ(got->halted, want->halted);
	CHECK_EQ(got->fpu.fcw, want->fpu.fcw);
	CHECK_EQ(got->fpu.mxcsr, want->fpu.mxcsr);
	CHECK(!memcmp(got->fpu.st, want->fpu.st, sizeof(want->fpu.st)));
	CHECK(!memcmp(got->fpu.xmm, want->fpu.xmm, sizeof(want->fpu.xmm)));
}

static void test_cpu_state_round_trip(void)
{
	char path[] = "/tmp/twoostwo-test-state-XXXXXX";
	struct x86_state want, got;
	struct pc *pc = state_pc(path);
	char err[512];

	CHECK(pc != NULL);
	if (!pc)
		return;
	pc->engine->get_state(pc->vcpu, &want);
	state_fill(&want);
	pc->engine->set_state(pc->vcpu, &want);
	/* What the engine holds is what a load must give back. */
	pc->engine->get_state(pc->vcpu, &want);
	memcpy(pc->mem.ram + 0x1000, "twoostwo", 8);
	CHECK_EQ(pc_save_state(pc, path, err, sizeof(err)), 0);

	pc_reset(pc);
	memset(pc->mem.ram + 0x1000, 0, 8);
	pc->engine->get_state(pc->vcpu, &got);
	CHECK(got.lstar != want.lstar);
	CHECK_EQ(pc_load_state(pc, path, err, sizeof(err)), 0);
	pc->engine->get_state(pc->vcpu, &got);
	check_same(&got, &want);
	CHECK(!memcmp(pc->mem.ram + 0x1000, "twoostwo", 8));
	unlink(path);
	pc_destroy(pc);
}

/* A file cut short is refused with a reason. */
static void test_truncated_state_refused(void)
{
	char path[] = "/tmp/twoostwo-test-state-XXXXXX";
	struct pc *pc = state_pc(path);
	char err[512] = "";

	CHECK(pc != NULL);
	if (!pc)
		return;
	CHECK_EQ(pc_save_state(pc, path, err, sizeof(err)), 0);
	CHECK_EQ(truncate(path, 100), 0);
	CHECK(pc_load_state(pc, path, err, sizeof(err)) < 0);
	CHECK(err[0] != '\0');
	unlink(path);
	pc_destroy(pc);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	RUN_TEST(test_cpu_state_round_trip);
	RUN_TEST(test_truncated_state_refused);
	return unit_summary();
}

/* SPDX-License-Identifier: MIT */
/*
 * Runs one SingleStepTests test on a CPU engine and compares the result
 * (shared/specs/CPU-TESTS.md): load INIT registers and RAM into a flat
 * 16 MiB machine with an empty port bus, run until HLT, then check every
 * register (those in FINA, the others against INIT) and every FINA RAM
 * byte, flags and the flags word an exception pushed under the mask the
 * suite gives.
 */
#ifndef TWOOSTWO_CPUTEST_RUNNER_H
#define TWOOSTWO_CPUTEST_RUNNER_H

#include <stdio.h>

#include "bus/memory.h"
#include "bus/pio.h"
#include "cpu/engine.h"
#include "cputest/moo.h"

#define CPURUN_MAX_DIFFS 24

enum cpurun_diff_kind {
	CPURUN_DIFF_REG, /* where: enum moo_reg */
	CPURUN_DIFF_RAM, /* where: physical address */
};

struct cpurun_diff {
	enum cpurun_diff_kind kind;
	u32 where;
	u16 expected, got, mask; /* values already masked */
};

struct cpurun_result {
	bool passed;
	const char *reason; /* why the state was not compared, or NULL */
	unsigned nr_diffs;  /* all mismatches; the first few are in diffs[] */
	struct cpurun_diff diffs[CPURUN_MAX_DIFFS];
};

struct cpurun {
	struct phys_mem mem;
	struct pio_bus *pio;
	struct vcpu_env env; /* the engine may keep a pointer to it */
	struct vcpu *vcpu;
	const struct engine_ops *ops;
	enum cpu_model model;
	/* 20 address lines on the 8086, 24 on the 286 */
	u32 addr_mask;
	u16 flags_fixed_mask; /* flag bits the suite never compares */
};

/* Returns 0, or a negative errno. */
int cpurun_init(struct cpurun *r, const struct engine_ops *ops,
		enum cpu_model model);
void cpurun_destroy(struct cpurun *r);

/*
 * Run test t. file_rmsk holds the file's top-level RMSK masks (present == 0
 * when it has none); flags_mask the metadata's mask for this opcode.
 */
void cpurun_test(struct cpurun *r, const struct moo_test *t,
		 const struct moo_regs *file_rmsk, u16 flags_mask,
		 struct cpurun_result *res);

/* NAME, bytes and every mismatch of a failed test, for --verbose. */
void cpurun_print_failure(FILE *out, const struct moo_test *t,
			  const struct cpurun_result *res);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The JIT: decoded blocks (soft/block.c) translated into x86-64 host code
 * (translate.c) kept in a bounded W^X code cache (codebuf.c). The soft
 * engine stays the reference and the fallback: the engine loop asks
 * jit_run_block() first and interprets the block when it answers 0.
 */
#ifndef TWOOSTWO_CPU_JIT_JIT_H
#define TWOOSTWO_CPU_JIT_JIT_H

#include "cpu/soft/cpu.h"

struct block;
struct jit;

/* Whether new soft CPUs get a JIT: JIT_DEFAULT follows TWOOSTWO_JIT. */
enum jit_mode { JIT_DEFAULT, JIT_OFF, JIT_ON };
extern enum jit_mode jit_mode;
/*
 * A block is translated once it has run this many times (cold code stays
 * interpreted, which costs less than translating it); tests set 0.
 */
extern unsigned jit_hot;
/* What JIT_DEFAULT means when TWOOSTWO_JIT is not set. */
#define JIT_DEFAULT_ON true

/* Whether a CPU created now should use the JIT (mode, then environment). */
bool jit_wanted(void);
/* Create cpu->jit (NULL on failure: the CPU then only interprets). */
int jit_init(struct soft_cpu *cpu);
void jit_free(struct soft_cpu *cpu);
/* Drop every translation (also what the code cache does when full). */
void jit_flush(struct soft_cpu *cpu);

/*
 * Run block b as host code: the number of instructions completed, or 0
 * when b has no translation (not hot yet, or untranslatable): then the
 * caller interprets it. Faults unwind through cpu->unwind as in the
 * interpreter, with cpu->in and cpu->block_insns set for the count.
 */
unsigned jit_run_block(struct soft_cpu *cpu, struct block *b);

#endif

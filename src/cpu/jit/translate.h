/* SPDX-License-Identifier: MIT */
/* The block translator (translate.c) and the helpers its code calls. */
#ifndef TWOOSTWO_CPU_JIT_TRANSLATE_H
#define TWOOSTWO_CPU_JIT_TRANSLATE_H

#include <stddef.h>

#include "cpu/soft/cpu.h"

struct block;

/* Generated code: runs the block, returns the instructions completed. */
typedef unsigned (*jit_code_fn)(struct soft_cpu *cpu, struct tlb_entry *tlb);

/*
 * Translate b (decoded at CS:EIP = cpu->s.eip) into buf, at most cap
 * bytes. Returns the bytes used, or 0 when it does not fit.
 */
size_t jit_translate(struct soft_cpu *cpu, struct block *b, u8 *buf,
		     size_t cap);

/* The slow paths: the interpreter's memory access and condition test. */
u32 jit_load(struct soft_cpu *cpu, u32 seg, u32 off, u32 size);
void jit_store(struct soft_cpu *cpu, u32 seg, u32 off, u32 v, u32 size);
bool jit_cond(struct soft_cpu *cpu, u32 cc);
u32 jit_carry(struct soft_cpu *cpu);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Reader for the metadata.json of a SingleStepTests suite: the CPU it was
 * recorded on ("cpu") and, per opcode, a status ("normal", "undocumented",
 * "fpu", ...) and the flags to compare ("flags-mask"; or "flags", a string
 * naming the undefined flags by letter). Group opcodes (80, D0, F6, FF, ...)
 * hold the same fields per ModRM reg value under "reg": { "0": {...}, ...}.
 *
 * The JSON parser is small and strict: bounded nesting, bounded sizes, and
 * any syntax error gives a message, never a crash.
 */
#ifndef TWOOSTWO_CPUTEST_METADATA_H
#define TWOOSTWO_CPUTEST_METADATA_H

#include "core/types.h"

#define CPUMETA_KEY_MAX 16
#define CPUMETA_STATUS_MAX 24
#define CPUMETA_ERR_MAX 160
#define CPUMETA_MAX_OPCODES 65536
#define CPUMETA_MAX_FILE_SIZE (64u << 20)

/* What the suite says about one opcode, or one reg of a group opcode. */
struct cpumeta_entry {
	bool present;
	char status[CPUMETA_STATUS_MAX]; /* "" when not given */
	bool has_mask;
	u16 flags_mask; /* compare flags under this mask */
};

struct cpumeta_opcode {
	char key[CPUMETA_KEY_MAX]; /* e.g. "80" or "0F" */
	struct cpumeta_entry entry;
	bool has_reg;
	struct cpumeta_entry reg[8];
};

struct cpumeta {
	char cpu[CPUMETA_KEY_MAX]; /* e.g. "8086" or "286", "" if absent */
	struct cpumeta_opcode *ops;
	unsigned nr_ops;
	char err[CPUMETA_ERR_MAX];
};

/* Returns 0, or a negative errno with a message in m->err. */
int cpumeta_load(struct cpumeta *m, const char *path);
int cpumeta_parse(struct cpumeta *m, const char *text, size_t len);
void cpumeta_free(struct cpumeta *m);

/* The entry for an opcode key (case-insensitive), or NULL. */
const struct cpumeta_opcode *cpumeta_find(const struct cpumeta *m,
					  const char *key);
/*
 * What applies to a test of that opcode with ModRM reg field reg (0..7,
 * or -1 when unknown): the reg entry when the opcode has one, else the
 * opcode's own. Never NULL: an absent entry has present == false.
 */
const struct cpumeta_entry *cpumeta_entry_for(const struct cpumeta_opcode *op,
					      int reg);
/* The flags mask of an entry: its own, or 0xFFFF (compare all). */
u16 cpumeta_flags_mask(const struct cpumeta_entry *e);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The host processor as an oracle for the soft engine: random user-mode
 * instruction sequences run natively (in a child process) and in the soft
 * engine from the same registers, flags, x87/MMX/SSE state and memory;
 * the results are compared with the flags the SDM/APM leave undefined
 * masked (see hostdiff.c for the method and the mask table).
 */
#ifndef TWOOSTWO_CPUTEST_HOSTDIFF_H
#define TWOOSTWO_CPUTEST_HOSTDIFF_H

#include <stdio.h>

#include "core/types.h"

struct hostdiff_opts {
	u64 seed;
	u64 sequences;	     /* how many to run */
	unsigned length;     /* instructions per sequence */
	const char *only;    /* run only templates whose name contains this */
	unsigned max_report; /* differences to print in detail */
	bool mode64;	     /* REX forms, the soft side in 64-bit mode */
	FILE *out;
};

struct hostdiff_stats {
	u64 sequences;
	u64 instructions;
	u64 differing; /* sequences with a difference */
	unsigned templates;
};

/* Returns 0 when the run completed (differences are in stats), -errno. */
int hostdiff_run(const struct hostdiff_opts *opts,
		 struct hostdiff_stats *stats);

#endif

// SPDX-License-Identifier: MIT
/*
 * twoostwo-hostdiff: compares the soft engine with the host processor on
 * random instruction sequences (src/cputest/hostdiff.c).
 *
 * Exit status: 0 when every sequence matched, 1 when some differed, 2 for
 * usage errors or when the run could not be done.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cputest/hostdiff.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: twoostwo-hostdiff [--sequences N] [--length L] "
		   "[--seed S]\n"
		   "                         [--only SUBSTRING] [--report N]\n"
		   "  --sequences N  random sequences to run (default 10000)\n"
		   "  --length L     instructions per sequence, 1-512 (default "
		   "24)\n"
		   "  --seed S       random seed (default: fixed; 0: from the "
		   "clock)\n"
		   "  --only STR     only templates whose name contains STR\n"
		   "  --report N     differences to print in detail (default "
		   "20)\n"
		   "  --mode64       64-bit code: REX prefixes, 64-bit "
		   "operands, R8-R14, XMM8-15\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"sequences", required_argument, NULL, 'n'},
		{"length", required_argument, NULL, 'l'},
		{"seed", required_argument, NULL, 's'},
		{"only", required_argument, NULL, 'o'},
		{"report", required_argument, NULL, 'r'},
		{"mode64", no_argument, NULL, '6'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct hostdiff_opts o = {.seed = 1,
				  .sequences = 10000,
				  .length = 24,
				  .max_report = 20,
				  .out = stdout};
	struct hostdiff_stats st;
	struct timespec t0, t1;
	int c, ret;

	while ((c = getopt_long(argc, argv, "n:l:s:o:r:6h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'n':
			o.sequences = strtoull(optarg, NULL, 0);
			break;
		case 'l':
			o.length = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 's':
			o.seed = strtoull(optarg, NULL, 0);
			if (!o.seed)
				o.seed = (u64)time(NULL);
			break;
		case 'o':
			o.only = optarg;
			break;
		case 'r':
			o.max_report = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case '6':
			o.mode64 = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = hostdiff_run(&o, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret) {
		fprintf(stderr, "twoostwo-hostdiff: %s\n", strerror(-ret));
		return 2;
	}
	printf("hostdiff: seed %llu, %u templates, %llu sequences, %llu "
	       "instructions, %llu differing, %.1f s\n",
	       (unsigned long long)o.seed, st.templates,
	       (unsigned long long)st.sequences,
	       (unsigned long long)st.instructions,
	       (unsigned long long)st.differing,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return st.differing ? 1 : 0;
}

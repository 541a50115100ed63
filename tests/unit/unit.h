/* SPDX-License-Identifier: MIT */
/*
 * A minimal unit-test harness. A test file defines test functions, lists
 * them in main() with RUN_TEST, and ends with return unit_summary();
 * which prints "N passed, N failed" and sets the exit status.
 */
#ifndef TWOOSTWO_TESTS_UNIT_H
#define TWOOSTWO_TESTS_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_current_failed;
static const char *unit_current_name;

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n",    \
				__FILE__, __LINE__, unit_current_name,      \
				#cond);                                     \
			unit_current_failed = 1;                            \
		}                                                           \
	} while (0)

#define CHECK_EQ(actual, expected)                                          \
	do {                                                                \
		unsigned long long a_ = (unsigned long long)(actual);       \
		unsigned long long e_ = (unsigned long long)(expected);     \
		if (a_ != e_) {                                             \
			fprintf(stderr,                                     \
				"%s:%d: %s: %s is 0x%llx, expected 0x%llx\n", \
				__FILE__, __LINE__, unit_current_name,      \
				#actual, a_, e_);                           \
			unit_current_failed = 1;                            \
		}                                                           \
	} while (0)

#define CHECK_STR(actual, expected)                                         \
	do {                                                                \
		const char *a_ = (actual), *e_ = (expected);                \
		if (!a_ || strcmp(a_, e_)) {                                \
			fprintf(stderr, "%s:%d: %s: %s is \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, unit_current_name,      \
				#actual, a_ ? a_ : "(null)", e_);           \
			unit_current_failed = 1;                            \
		}                                                           \
	} while (0)

#define RUN_TEST(fn)                                                        \
	do {                                                                \
		unit_current_name = #fn;                                    \
		unit_current_failed = 0;                                    \
		fn();                                                       \
		if (unit_current_failed)                                    \
			unit_failed++;                                      \
		else                                                        \
			unit_passed++;                                      \
		printf("%s %s\n", unit_current_failed ? "FAIL" : "ok  ", #fn); \
	} while (0)

static inline int unit_summary(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif

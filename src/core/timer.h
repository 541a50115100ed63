/* SPDX-License-Identifier: MIT */
/*
 * One-shot timers on the host monotonic clock, owned by the machine's event
 * loop. A device arms a timer for the next moment it must act (a PIT
 * terminal count, an RTC update, a UART character time); the loop runs the
 * callbacks that are due between CPU time slices.
 *
 * Timers run on the machine thread only, so callbacks may touch device state
 * without locks.
 */
#ifndef TWOOSTWO_CORE_TIMER_H
#define TWOOSTWO_CORE_TIMER_H

#include "core/types.h"

struct timer_list;

struct timer {
	u64 deadline_ns;
	void (*fn)(void *opaque);
	void *opaque;
	bool armed;
	struct timer *next;
	struct timer_list *list;
};

struct timer_list {
	struct timer *head; /* sorted by deadline */
};

#define TIMER_NEVER UINT64_MAX

void timer_init(struct timer *t, struct timer_list *list,
		void (*fn)(void *opaque), void *opaque);
void timer_arm(struct timer *t, u64 deadline_ns);
void timer_cancel(struct timer *t);

/* Deadline of the earliest armed timer, or TIMER_NEVER. */
u64 timers_next_deadline(const struct timer_list *list);
/* Run (and disarm) every timer due at or before now_ns. */
void timers_run(struct timer_list *list, u64 now_ns);

#endif

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
	u64 deadline_ns; /* host time (clock_now_ns) */
	/* Guest timers: the deadline on clock_guest_ns, kept across pauses. */
	u64 guest_deadline_ns;
	bool guest;
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
/* A guest device's timer: timer_arm takes deadlines on clock_guest_ns. */
void timer_init_guest(struct timer *t, struct timer_list *list,
		      void (*fn)(void *opaque), void *opaque);
void timer_arm(struct timer *t, u64 deadline_ns);
void timer_cancel(struct timer *t);

/* Deadline of the earliest armed timer, or TIMER_NEVER. */
u64 timers_next_deadline(const struct timer_list *list);
/* Run (and disarm) every timer due at or before now_ns. */
void timers_run(struct timer_list *list, u64 now_ns);

/*
 * Stop the guest clock (a pause): guest timers stay armed but cannot fire.
 * Start it again: the paused time is added to the guest clock's offset and
 * the guest timers are due as much later. Both are idempotent.
 */
void clock_guest_stop(struct timer_list *list);
void clock_guest_start(struct timer_list *list);

#endif

// SPDX-License-Identifier: MIT
#include "core/clock.h"
#include "core/timer.h"

u64 clock_guest_offset_ns;
u64 clock_guest_stopped_ns;

void timer_init(struct timer *t, struct timer_list *list,
		void (*fn)(void *opaque), void *opaque)
{
	*t = (struct timer){.fn = fn, .opaque = opaque, .list = list};
}

void timer_init_guest(struct timer *t, struct timer_list *list,
		      void (*fn)(void *opaque), void *opaque)
{
	timer_init(t, list, fn, opaque);
	t->guest = true;
}

/* The host deadline of a guest deadline; never while the clock stands. */
static u64 timer_host_deadline(u64 guest_deadline)
{
	if (clock_guest_stopped_ns || guest_deadline == TIMER_NEVER)
		return TIMER_NEVER;
	if (guest_deadline > TIMER_NEVER - clock_guest_offset_ns)
		return TIMER_NEVER;
	return guest_deadline + clock_guest_offset_ns;
}

void timer_cancel(struct timer *t)
{
	struct timer **pp;

	if (!t->armed)
		return;
	for (pp = &t->list->head; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void timer_arm(struct timer *t, u64 deadline_ns)
{
	struct timer **pp;

	timer_cancel(t);
	if (t->guest) {
		t->guest_deadline_ns = deadline_ns;
		deadline_ns = timer_host_deadline(deadline_ns);
	}
	t->deadline_ns = deadline_ns;
	for (pp = &t->list->head; *pp; pp = &(*pp)->next)
		if ((*pp)->deadline_ns > deadline_ns)
			break;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

u64 timers_next_deadline(const struct timer_list *list)
{
	return list->head ? list->head->deadline_ns : TIMER_NEVER;
}

void timers_run(struct timer_list *list, u64 now_ns)
{
	struct timer *t;

	while ((t = list->head) && t->deadline_ns <= now_ns) {
		list->head = t->next;
		t->next = NULL;
		t->armed = false;
		t->fn(t->opaque);
	}
}

/* Re-arm every armed guest timer from its guest deadline. */
static void timers_rearm_guest(struct timer_list *list)
{
	struct timer *guest[64], *t, **pp = &list->head;
	unsigned n = 0, i;

	/* Unlink them first: re-arming sorts them back in. */
	while ((t = *pp)) {
		if (t->guest && n < ARRAY_SIZE(guest)) {
			*pp = t->next;
			t->next = NULL;
			t->armed = false;
			guest[n++] = t;
		} else {
			pp = &t->next;
		}
	}
	for (i = 0; i < n; i++)
		timer_arm(guest[i], guest[i]->guest_deadline_ns);
}

void clock_guest_stop(struct timer_list *list)
{
	if (clock_guest_stopped_ns)
		return;
	clock_guest_stopped_ns = clock_guest_ns() ?: 1;
	timers_rearm_guest(list);
}

void clock_guest_start(struct timer_list *list)
{
	if (!clock_guest_stopped_ns)
		return;
	clock_guest_offset_ns = clock_now_ns() - clock_guest_stopped_ns;
	clock_guest_stopped_ns = 0;
	timers_rearm_guest(list);
}

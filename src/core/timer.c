// SPDX-License-Identifier: MIT
#include "core/timer.h"

void timer_init(struct timer *t, struct timer_list *list,
		void (*fn)(void *opaque), void *opaque)
{
	*t = (struct timer){ .fn = fn, .opaque = opaque, .list = list };
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

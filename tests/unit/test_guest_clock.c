// SPDX-License-Identifier: MIT
/*
 * The guest clock (core/clock.h, core/timer.c): it stands while the
 * machine is paused, guest timers do not fire meanwhile and come due as
 * much later afterwards, host timers are not affected.
 */
#include <time.h>

#include "core/clock.h"
#include "core/timer.h"
#include "unit.h"

#define MS NSEC_PER_MSEC

static int fired_guest, fired_host;

static void on_guest(void *opaque)
{
	fired_guest++;
}

static void on_host(void *opaque)
{
	fired_host++;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_nsec = (long)ms * 1000000};

	nanosleep(&ts, NULL);
}

static void test_pause_shifts_guest_timers(void)
{
	struct timer_list list = {0};
	struct timer g, h;
	u64 g0, g1;

	timer_init_guest(&g, &list, on_guest, NULL);
	timer_init(&h, &list, on_host, NULL);
	timer_arm(&g, clock_guest_ns() + 300 * MS);
	timer_arm(&h, clock_now_ns() + 80 * MS);

	clock_guest_stop(&list);
	g0 = clock_guest_ns();
	sleep_ms(150);
	g1 = clock_guest_ns();
	CHECK_EQ(g1, g0); /* stands while paused */
	timers_run(&list, clock_now_ns());
	CHECK_EQ(fired_guest, 0);
	CHECK_EQ(fired_host, 1); /* host time went on */
	CHECK(timers_next_deadline(&list) == TIMER_NEVER);

	clock_guest_start(&list);
	CHECK(clock_guest_ns() - g0 < 100 * MS);
	timers_run(&list, clock_now_ns());
	CHECK_EQ(fired_guest, 0); /* 300 ms of guest time not yet over */
	CHECK(timers_next_deadline(&list) > clock_now_ns() + 150 * MS);
	sleep_ms(350);
	timers_run(&list, clock_now_ns());
	CHECK_EQ(fired_guest, 1);
}

/* A timer armed while paused is due after the resume, not before. */
static void test_arm_while_paused(void)
{
	struct timer_list list = {0};
	struct timer g;

	fired_guest = 0;
	timer_init_guest(&g, &list, on_guest, NULL);
	clock_guest_stop(&list);
	clock_guest_stop(&list); /* idempotent */
	timer_arm(&g, clock_guest_ns() + 200 * MS);
	sleep_ms(250);
	timers_run(&list, clock_now_ns());
	CHECK_EQ(fired_guest, 0);
	clock_guest_start(&list);
	clock_guest_start(&list);
	timers_run(&list, clock_now_ns());
	CHECK_EQ(fired_guest, 0);
	sleep_ms(250);
	timers_run(&list, clock_now_ns());
	CHECK_EQ(fired_guest, 1);
}

int main(void)
{
	RUN_TEST(test_pause_shifts_guest_timers);
	RUN_TEST(test_arm_while_paused);
	return unit_summary();
}

/* SPDX-License-Identifier: MIT */
/*
 * Host time. Every guest timer (PIT, RTC, APIC timer, TSC) is derived from
 * the host monotonic clock, so guest time is right however fast the CPU
 * engine runs.
 */
#ifndef TWOOSTWO_CORE_CLOCK_H
#define TWOOSTWO_CORE_CLOCK_H

#include <time.h>

#include "core/types.h"

#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_USEC 1000ull

#ifdef TWOOSTWO_FAKE_CLOCK
/*
 * The whole-machine fuzzer (fuzz/fuzz_machine.c) builds everything with
 * this: time moves only when the fuzzer says, so every run is the same.
 */
extern u64 clock_fake_now_ns;
static inline u64 clock_now_ns(void)
{
	return clock_fake_now_ns;
}
#else
static inline u64 clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}
#endif

/*
 * The guest's clock: host monotonic time minus the time the machine spent
 * paused, so it stands still while the VM is paused (as QEMU's virtual
 * clock does) and guest timers neither fire during a pause nor catch up
 * in a burst after it. Guest devices (PIT, RTC, PM timer, local APIC,
 * UART, TSC) read this one and arm their timers with timer_init_guest;
 * the event loop, back ends and displays use clock_now_ns. Stopped and
 * started by clock_guest_stop/start (core/timer.h). One machine per
 * process, so the state is global.
 */
extern u64 clock_guest_offset_ns;
extern u64 clock_guest_stopped_ns; /* 0 while running, else the guest time */
static inline u64 clock_guest_ns(void)
{
	return clock_guest_stopped_ns ? clock_guest_stopped_ns :
					clock_now_ns() - clock_guest_offset_ns;
}

/* a * b / c without intermediate overflow, for tick conversions. */
static inline u64 muldiv64(u64 a, u64 b, u64 c)
{
	return (u64)((unsigned __int128)a * b / c);
}

#endif

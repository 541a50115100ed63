// SPDX-License-Identifier: MIT
/*
 * MC146818A real-time clock and CMOS RAM.
 *
 * Time is kept as whole guest seconds: epoch_sec at divider second
 * epoch_k, where the divider chain ends its seconds at div_ns + k s on the
 * host monotonic clock. The time registers are computed from that when
 * read; while the clock is held (SET, or the divider stopped) they are
 * plain bytes the guest may rewrite, and are turned back into a time when
 * it runs again.
 *
 * The flags in register C are brought up to date lazily from the time
 * whenever the guest looks; a timer is armed only for the interrupts that
 * are enabled and not already pending.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "hw/rtc.h"

#define RTC_PORT 0x70
#define RTC_SAVE_VERSION 1

/* MC146818A datasheet, "Address Map" */
#define RTC_SEC 0x00
#define RTC_SEC_ALARM 0x01
#define RTC_MIN 0x02
#define RTC_MIN_ALARM 0x03
#define RTC_HOUR 0x04
#define RTC_HOUR_ALARM 0x05
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* IBM PC/AT convention */

#define REGA_UIP BIT(7)
#define REGA_DV(a) (((a) >> 4) & 7)
#define REGA_DV_32K 2 /* the only time base a PC's 32.768 kHz crystal runs */
#define REGA_RATE(a) ((a)&0xf)
#define REGB_SET BIT(7)
#define REGB_PIE BIT(6)
#define REGB_AIE BIT(5)
#define REGB_UIE BIT(4)
#define REGB_SQWE BIT(3)
#define REGB_BINARY BIT(2)
#define REGB_24H BIT(1)
#define REGB_DSE BIT(0)
#define REGC_IRQF BIT(7)
#define REGC_PF BIT(6)
#define REGC_AF BIT(5)
#define REGC_UF BIT(4)
#define REGD_VRT BIT(7)
/* Alarm bytes with both top bits set match any value ("don't care"). */
#define RTC_ALARM_ANY 0xc0

#define RTC_BASE_HZ 32768
/* UIP is high for 244 us before each update ("Update Cycle") */
#define RTC_UIP_NS 244141
#define RTC_DAY_SEC 86400
/* Guest time offsets in a saved state are bounded to 10000 years. */
#define RTC_MAX_OFFSET_SEC (10000ll * 366 * RTC_DAY_SEC)

struct rtc {
	u8 cmos[RTC_CMOS_SIZE];
	u8 index;
	u8 nmi_masked; /* stored only: nothing raises an NMI */
	bool irq_level;
	s64 epoch_sec;
	u64 epoch_k;
	u64 div_ns;
	u64 last_ns; /* register C is up to date until here */
	struct timer timer;
	struct pio_bus *pio;
	struct irq_line irq8;
};

/* What a saved state holds; plain old data. */
struct rtc_saved {
	u8 cmos[RTC_CMOS_SIZE];
	u8 index;
	u8 nmi_masked;
	u8 pad[6];
	s64 offset_sec; /* running clock: guest time minus host wall time */
	u64 phase_ns;	/* time since the divider's last second */
};

static bool rtc_divider_runs(const struct rtc *rtc)
{
	return REGA_DV(rtc->cmos[RTC_REG_A]) == REGA_DV_32K;
}

static bool rtc_running(const struct rtc *rtc)
{
	return rtc_divider_runs(rtc) && !(rtc->cmos[RTC_REG_B] & REGB_SET);
}

static u64 rtc_second_index(const struct rtc *rtc, u64 t)
{
	return (t - rtc->div_ns) / NSEC_PER_SEC;
}

static u64 rtc_next_update_ns(const struct rtc *rtc, u64 now)
{
	return rtc->div_ns + (rtc_second_index(rtc, now) + 1) * NSEC_PER_SEC;
}

static s64 rtc_now_sec(const struct rtc *rtc, u64 now)
{
	return rtc->epoch_sec +
	       (s64)(rtc_second_index(rtc, now) - rtc->epoch_k);
}

/*
 * Periodic rate (register A bits 3:0) as a power of two of 32.768 kHz
 * cycles: rates 3..15 give 2^(rate-1); 1 and 2 repeat rates 8 and 9
 * (datasheet, "Periodic Interrupt Rate" table).
 */
static unsigned rtc_periodic_shift(u8 rate)
{
	return (rate <= 2 ? rate + 7u : rate) - 1;
}

static u64 rtc_periodic_index(const struct rtc *rtc, u64 t)
{
	u8 rate = REGA_RATE(rtc->cmos[RTC_REG_A]);

	return muldiv64(t - rtc->div_ns, RTC_BASE_HZ, NSEC_PER_SEC) >>
	       rtc_periodic_shift(rate);
}

static u64 rtc_periodic_time(const struct rtc *rtc, u64 k)
{
	u8 rate = REGA_RATE(rtc->cmos[RTC_REG_A]);
	u64 cycles = k << rtc_periodic_shift(rate);
	unsigned __int128 ns = (unsigned __int128)cycles * NSEC_PER_SEC;

	return rtc->div_ns + (u64)((ns + RTC_BASE_HZ - 1) / RTC_BASE_HZ);
}

static bool rtc_periodic_on(const struct rtc *rtc)
{
	return rtc_divider_runs(rtc) && REGA_RATE(rtc->cmos[RTC_REG_A]);
}

/* Register B DM and 24/12 select how values are stored. */
static u8 rtc_to_reg(const struct rtc *rtc, unsigned v)
{
	if (rtc->cmos[RTC_REG_B] & REGB_BINARY)
		return (u8)v;
	return (u8)((v / 10 % 10) << 4 | v % 10);
}

static unsigned rtc_from_reg(const struct rtc *rtc, u8 v)
{
	if (rtc->cmos[RTC_REG_B] & REGB_BINARY)
		return v;
	return (v >> 4) * 10u + (v & 0xf);
}

/* 12-hour mode: 1..12, bit 7 set for PM. */
static u8 rtc_hour_to_reg(const struct rtc *rtc, unsigned h)
{
	unsigned h12 = h % 12 ? h % 12 : 12;

	if (rtc->cmos[RTC_REG_B] & REGB_24H)
		return rtc_to_reg(rtc, h);
	return (u8)(rtc_to_reg(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned rtc_hour_from_reg(const struct rtc *rtc, u8 v)
{
	if (rtc->cmos[RTC_REG_B] & REGB_24H)
		return rtc_from_reg(rtc, v);
	return rtc_from_reg(rtc, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

static bool rtc_is_time_reg(unsigned idx)
{
	return (idx <= RTC_YEAR && idx != RTC_SEC_ALARM &&
		idx != RTC_MIN_ALARM && idx != RTC_HOUR_ALARM) ||
	       idx == RTC_CENTURY;
}

static void rtc_fill_time(struct rtc *rtc, s64 sec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	int year;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	year = ((tm.tm_year + 1900) % 10000 + 10000) % 10000;
	rtc->cmos[RTC_SEC] = rtc_to_reg(rtc, (unsigned)tm.tm_sec);
	rtc->cmos[RTC_MIN] = rtc_to_reg(rtc, (unsigned)tm.tm_min);
	rtc->cmos[RTC_HOUR] = rtc_hour_to_reg(rtc, (unsigned)tm.tm_hour);
	rtc->cmos[RTC_WDAY] = rtc_to_reg(rtc, (unsigned)tm.tm_wday + 1);
	rtc->cmos[RTC_MDAY] = rtc_to_reg(rtc, (unsigned)tm.tm_mday);
	rtc->cmos[RTC_MONTH] = rtc_to_reg(rtc, (unsigned)tm.tm_mon + 1);
	rtc->cmos[RTC_YEAR] = rtc_to_reg(rtc, (unsigned)year % 100);
	rtc->cmos[RTC_CENTURY] = rtc_to_reg(rtc, (unsigned)year / 100);
}

static int rtc_clamp(unsigned v, int lo, int hi)
{
	return (int)v < lo ? lo : (int)v > hi ? hi : (int)v;
}

/* The time the registers say; out-of-range guest values are clamped. */
static s64 rtc_regs_to_time(const struct rtc *rtc)
{
	const u8 *r = rtc->cmos;
	struct tm tm = {0};
	int century = rtc_clamp(rtc_from_reg(rtc, r[RTC_CENTURY]), 0, 99);

	tm.tm_sec = rtc_clamp(rtc_from_reg(rtc, r[RTC_SEC]), 0, 59);
	tm.tm_min = rtc_clamp(rtc_from_reg(rtc, r[RTC_MIN]), 0, 59);
	tm.tm_hour = rtc_clamp(rtc_hour_from_reg(rtc, r[RTC_HOUR]), 0, 23);
	tm.tm_mday = rtc_clamp(rtc_from_reg(rtc, r[RTC_MDAY]), 1, 31);
	tm.tm_mon = rtc_clamp(rtc_from_reg(rtc, r[RTC_MONTH]), 1, 12) - 1;
	tm.tm_year = century * 100 +
		     rtc_clamp(rtc_from_reg(rtc, r[RTC_YEAR]), 0, 99) - 1900;
	return (s64)timegm(&tm);
}

/* Keep the divider's phase; the guest's time starts at sec from now. */
static void rtc_rebase(struct rtc *rtc, s64 sec, u64 now)
{
	rtc->epoch_sec = sec;
	rtc->epoch_k = rtc_second_index(rtc, now);
}

static bool rtc_alarm_field(u8 alarm, u8 value)
{
	return (alarm & RTC_ALARM_ANY) == RTC_ALARM_ANY || alarm == value;
}

/* The update at guest time sec compares the alarm bytes (datasheet). */
static bool rtc_alarm_matches(const struct rtc *rtc, s64 sec)
{
	unsigned tod =
		(unsigned)((sec % RTC_DAY_SEC + RTC_DAY_SEC) % RTC_DAY_SEC);

	return rtc_alarm_field(rtc->cmos[RTC_SEC_ALARM],
			       rtc_to_reg(rtc, tod % 60)) &&
	       rtc_alarm_field(rtc->cmos[RTC_MIN_ALARM],
			       rtc_to_reg(rtc, tod / 60 % 60)) &&
	       rtc_alarm_field(rtc->cmos[RTC_HOUR_ALARM],
			       rtc_hour_to_reg(rtc, tod / 3600));
}

/* Whether an update between divider seconds k0 (excluded) and k1 alarms. */
static bool rtc_alarm_between(const struct rtc *rtc, u64 k0, u64 k1)
{
	u64 k;

	/* The alarm pattern repeats daily: one day of updates is enough. */
	if (k1 - k0 > RTC_DAY_SEC)
		k0 = k1 - RTC_DAY_SEC;
	for (k = k0 + 1; k <= k1; k++)
		if (rtc_alarm_matches(rtc,
				      rtc->epoch_sec + (s64)(k - rtc->epoch_k)))
			return true;
	return false;
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE; IRQ 8 is active while IRQF is set. */
static void rtc_update_irq(struct rtc *rtc)
{
	u8 c = rtc->cmos[RTC_REG_C] & (REGC_PF | REGC_AF | REGC_UF);
	bool level;

	/* The flag bits line up with their enable bits in register B. */
	if (c & rtc->cmos[RTC_REG_B])
		c |= REGC_IRQF;
	rtc->cmos[RTC_REG_C] = c;
	level = c & REGC_IRQF;
	if (level == rtc->irq_level)
		return;
	rtc->irq_level = level;
	irq_set(&rtc->irq8, level);
}

/* Set the flags of every periodic tick and update since last_ns. */
static void rtc_catch_up(struct rtc *rtc, u64 now)
{
	u64 k0, k1;
	u8 flags = 0;

	if (now <= rtc->last_ns)
		return;
	if (rtc_periodic_on(rtc) &&
	    rtc_periodic_index(rtc, now) !=
		    rtc_periodic_index(rtc, rtc->last_ns))
		flags |= REGC_PF;
	if (rtc_running(rtc)) {
		k0 = rtc_second_index(rtc, rtc->last_ns);
		k1 = rtc_second_index(rtc, now);
		if (k1 > k0) {
			flags |= REGC_UF;
			if (rtc_alarm_between(rtc, k0, k1))
				flags |= REGC_AF;
		}
	}
	rtc->last_ns = now;
	rtc->cmos[RTC_REG_C] |= flags;
	rtc_update_irq(rtc);
}

/*
 * Arm the timer for the next event that would change IRQ 8: a periodic
 * tick while PIE is set and PF clear, an update while UIE or AIE wait.
 */
static void rtc_rearm(struct rtc *rtc, u64 now)
{
	u8 b = rtc->cmos[RTC_REG_B], c = rtc->cmos[RTC_REG_C];
	u64 next = TIMER_NEVER;

	if ((b & REGB_PIE) && !(c & REGC_PF) && rtc_periodic_on(rtc))
		next = rtc_periodic_time(rtc, rtc_periodic_index(rtc, now) + 1);
	if (rtc_running(rtc) && (((b & REGB_UIE) && !(c & REGC_UF)) ||
				 ((b & REGB_AIE) && !(c & REGC_AF))))
		next = MIN(next, rtc_next_update_ns(rtc, now));
	if (next == TIMER_NEVER)
		timer_cancel(&rtc->timer);
	else
		timer_arm(&rtc->timer, next);
}

static void rtc_timer_fire(void *opaque)
{
	struct rtc *rtc = opaque;
	u64 now = clock_guest_ns();

	rtc_catch_up(rtc, now);
	rtc_rearm(rtc, now);
}

/*
 * New register A and B values. Stopping the clock freezes the time into
 * the registers; starting it again takes the time from them. Restarting
 * the divider puts the first update half a second away (datasheet,
 * "Divider Control").
 */
static void rtc_set_control(struct rtc *rtc, u8 a, u8 b, u64 now)
{
	bool was_running = rtc_running(rtc);
	bool divider_ran = rtc_divider_runs(rtc);
	s64 sec = 0;

	rtc_catch_up(rtc, now);
	if (was_running)
		sec = rtc_now_sec(rtc, now);
	rtc->cmos[RTC_REG_A] = a;
	rtc->cmos[RTC_REG_B] = b;
	if (!divider_ran && rtc_divider_runs(rtc))
		rtc->div_ns = now - MIN(now, NSEC_PER_SEC / 2);
	if (was_running && !rtc_running(rtc))
		rtc_fill_time(rtc, sec);
	else if (!was_running && rtc_running(rtc))
		rtc_rebase(rtc, rtc_regs_to_time(rtc), now);
	rtc_update_irq(rtc);
	rtc_rearm(rtc, now);
}

static void rtc_write_b(struct rtc *rtc, u8 v, u64 now)
{
	/* SET going to 1 clears UIE (datasheet, register B bit 4). */
	if (v & REGB_SET)
		v &= (u8)~REGB_UIE;
	if (v & REGB_DSE)
		log_guest_once("rtc", "daylight saving enable ignored");
	rtc_set_control(rtc, rtc->cmos[RTC_REG_A], v, now);
}

static void rtc_write_time(struct rtc *rtc, unsigned idx, u8 v, u64 now)
{
	if (!rtc_running(rtc)) {
		rtc->cmos[idx] = v;
		return;
	}
	/* Writing a running clock changes that field from now on. */
	rtc_catch_up(rtc, now);
	rtc_fill_time(rtc, rtc_now_sec(rtc, now));
	rtc->cmos[idx] = v;
	rtc_rebase(rtc, rtc_regs_to_time(rtc), now);
	rtc_rearm(rtc, now);
}

static void rtc_reg_write(struct rtc *rtc, unsigned idx, u8 v)
{
	u64 now = clock_guest_ns();

	if (rtc_is_time_reg(idx)) {
		rtc_write_time(rtc, idx, v, now);
		return;
	}
	switch (idx) {
	case RTC_SEC_ALARM:
	case RTC_MIN_ALARM:
	case RTC_HOUR_ALARM:
		rtc_catch_up(rtc, now);
		rtc->cmos[idx] = v;
		rtc_rearm(rtc, now);
		break;
	case RTC_REG_A:
		/* UIP is read-only */
		rtc_set_control(rtc, v & (u8)~REGA_UIP, rtc->cmos[RTC_REG_B],
				now);
		break;
	case RTC_REG_B:
		rtc_write_b(rtc, v, now);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		rtc->cmos[idx] = v;
		break;
	}
}

static u8 rtc_read_a(const struct rtc *rtc, u64 now)
{
	u8 a = rtc->cmos[RTC_REG_A];

	if (rtc_running(rtc) &&
	    rtc_next_update_ns(rtc, now) - now <= RTC_UIP_NS)
		a |= REGA_UIP;
	return a;
}

/* Reading register C returns the flags and clears them. */
static u8 rtc_read_c(struct rtc *rtc, u64 now)
{
	u8 c;

	rtc_catch_up(rtc, now);
	c = rtc->cmos[RTC_REG_C];
	rtc->cmos[RTC_REG_C] = 0;
	rtc_update_irq(rtc);
	rtc_rearm(rtc, now);
	return c;
}

static u8 rtc_reg_read(struct rtc *rtc, unsigned idx)
{
	u64 now = clock_guest_ns();

	if (rtc_is_time_reg(idx)) {
		if (rtc_running(rtc))
			rtc_fill_time(rtc, rtc_now_sec(rtc, now));
		return rtc->cmos[idx];
	}
	switch (idx) {
	case RTC_REG_A:
		return rtc_read_a(rtc, now);
	case RTC_REG_C:
		return rtc_read_c(rtc, now);
	case RTC_REG_D:
		return REGD_VRT; /* the battery is always good */
	default:
		return rtc->cmos[idx];
	}
}

static u32 rtc_io_read(void *opaque, u16 offset, unsigned size)
{
	struct rtc *rtc = opaque;

	if (offset == 0)
		return 0xff; /* the index register is write-only */
	return rtc_reg_read(rtc, rtc->index);
}

static void rtc_io_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct rtc *rtc = opaque;

	if (offset == 0) {
		rtc->index = value & 0x7f;
		rtc->nmi_masked = (value >> 7) & 1;
		return;
	}
	rtc_reg_write(rtc, rtc->index, (u8)value);
}

static const struct pio_ops rtc_ops = {
	.name = "rtc",
	.read = rtc_io_read,
	.write = rtc_io_write,
};

void rtc_cmos_write(struct rtc *rtc, u8 index, u8 value)
{
	rtc_reg_write(rtc, index & 0x7f, value);
}

u8 rtc_cmos_read(struct rtc *rtc, u8 index)
{
	return rtc_reg_read(rtc, index & 0x7f);
}

/* The RESET pin: interrupt enables and flags clear; time and RAM stay. */
static void rtc_reset(void *opaque)
{
	struct rtc *rtc = opaque;

	rtc->cmos[RTC_REG_B] &=
		(u8) ~(REGB_PIE | REGB_AIE | REGB_UIE | REGB_SQWE);
	rtc->cmos[RTC_REG_C] = 0;
	rtc_update_irq(rtc);
	timer_cancel(&rtc->timer);
}

static int rtc_save(void *opaque, struct snap_writer *w)
{
	struct rtc *rtc = opaque;
	struct rtc_saved s = {0};
	u64 now = clock_guest_ns();

	rtc_catch_up(rtc, now);
	if (rtc_running(rtc)) {
		rtc_fill_time(rtc, rtc_now_sec(rtc, now));
		s.offset_sec = rtc_now_sec(rtc, now) - (s64)time(NULL);
	}
	memcpy(s.cmos, rtc->cmos, sizeof(s.cmos));
	s.index = rtc->index;
	s.nmi_masked = rtc->nmi_masked;
	s.phase_ns = (now - rtc->div_ns) % NSEC_PER_SEC;
	return snap_put(w, "rtc", RTC_SAVE_VERSION, &s, sizeof(s));
}

static int rtc_load(void *opaque, const struct snap_reader *r)
{
	struct rtc *rtc = opaque;
	struct rtc_saved s;
	u64 now = clock_guest_ns();
	int ret;

	ret = snap_get(r, "rtc", RTC_SAVE_VERSION, &s, sizeof(s));
	if (ret)
		return ret;
	if (s.phase_ns >= NSEC_PER_SEC || s.offset_sec > RTC_MAX_OFFSET_SEC ||
	    s.offset_sec < -RTC_MAX_OFFSET_SEC)
		return -EINVAL;
	memcpy(rtc->cmos, s.cmos, sizeof(rtc->cmos));
	rtc->cmos[RTC_REG_A] &= (u8)~REGA_UIP;
	rtc->cmos[RTC_REG_D] = REGD_VRT;
	rtc->index = s.index & 0x7f;
	rtc->nmi_masked = s.nmi_masked & 1;
	rtc->div_ns = now - MIN(now, s.phase_ns);
	rtc->last_ns = now;
	/* A running clock keeps its distance from the host's wall clock. */
	rtc_rebase(rtc, (s64)time(NULL) + s.offset_sec, now);
	rtc->irq_level = !(rtc->cmos[RTC_REG_C] & rtc->cmos[RTC_REG_B] &
			   (REGC_PF | REGC_AF | REGC_UF));
	rtc_update_irq(rtc);
	rtc_rearm(rtc, now);
	return 0;
}

static void rtc_destroy(void *opaque)
{
	struct rtc *rtc = opaque;

	timer_cancel(&rtc->timer);
	pio_unregister(rtc->pio, RTC_PORT);
	free(rtc);
}

static const struct device_ops rtc_device_ops = {
	.name = "rtc",
	.reset = rtc_reset,
	.save = rtc_save,
	.load = rtc_load,
	.destroy = rtc_destroy,
};

struct device rtc_device(struct rtc *rtc)
{
	return (struct device){.ops = &rtc_device_ops, .opaque = rtc};
}

struct rtc *rtc_create(struct pio_bus *pio, struct timer_list *timers,
		       struct irq_line irq8)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	u64 now = clock_guest_ns();

	if (!rtc)
		return NULL;
	rtc->pio = pio;
	rtc->irq8 = irq8;
	timer_init_guest(&rtc->timer, timers, rtc_timer_fire, rtc);
	if (pio_register(pio, RTC_PORT, 2, &rtc_ops, rtc)) {
		free(rtc);
		return NULL;
	}
	/* 32.768 kHz time base, 1024 Hz periodic rate, 24-hour BCD */
	rtc->cmos[RTC_REG_A] = REGA_DV_32K << 4 | 6;
	rtc->cmos[RTC_REG_B] = REGB_24H;
	rtc->cmos[RTC_REG_D] = REGD_VRT;
	rtc->div_ns = now;
	rtc->last_ns = now;
	rtc->epoch_sec = (s64)time(NULL);
	rtc->epoch_k = 0;
	return rtc;
}

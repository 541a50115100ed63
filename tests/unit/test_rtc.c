// SPDX-License-Identifier: MIT
/*
 * MC146818A RTC/CMOS, driven through ports 0x70/0x71 as SeaBIOS and
 * Linux do. Expected behaviour from the Motorola MC146818A datasheet.
 */
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/snapshot.h"
#include "hw/rtc.h"
#include "unit.h"

struct rig {
	struct pio_bus *bus;
	struct timer_list timers;
	struct rtc *rtc;
	bool level;
	unsigned rises;
};

static void rig_irq(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	if (level && !r->level)
		r->rises++;
	r->level = level;
}

static void rig_open(struct rig *r)
{
	*r = (struct rig){0};
	r->bus = pio_bus_new();
	r->rtc = rtc_create(r->bus, &r->timers,
			    (struct irq_line){.set = rig_irq, .opaque = r});
}

static void rig_close(struct rig *r)
{
	struct device d = rtc_device(r->rtc);

	d.ops->destroy(d.opaque);
	CHECK(!r->timers.head);
	pio_bus_free(r->bus);
}

static u8 rd(struct rig *r, u8 idx)
{
	pio_write(r->bus, 0x70, idx, 1);
	return (u8)pio_read(r->bus, 0x71, 1);
}

static void wr(struct rig *r, u8 idx, u8 v)
{
	pio_write(r->bus, 0x70, idx, 1);
	pio_write(r->bus, 0x71, v, 1);
}

static unsigned bcd(u8 v)
{
	return (v >> 4) * 10u + (v & 0xf);
}

static void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Wait until UIP is clear, as every BIOS does before reading the time. */
static void wait_no_uip(struct rig *r)
{
	unsigned i;

	for (i = 0; i < 1000 && (rd(r, 0x0a) & 0x80); i++)
		sleep_us(50);
}

/* The time in the registers, read in BCD 24-hour mode. */
static time_t read_bcd_time(struct rig *r, struct tm *tm)
{
	struct tm copy;

	*tm = (struct tm){0};
	wait_no_uip(r);
	tm->tm_sec = (int)bcd(rd(r, 0x00));
	tm->tm_min = (int)bcd(rd(r, 0x02));
	tm->tm_hour = (int)bcd(rd(r, 0x04));
	tm->tm_wday = (int)bcd(rd(r, 0x06)) - 1;
	tm->tm_mday = (int)bcd(rd(r, 0x07));
	tm->tm_mon = (int)bcd(rd(r, 0x08)) - 1;
	tm->tm_year = (int)(bcd(rd(r, 0x32)) * 100 + bcd(rd(r, 0x09))) - 1900;
	copy = *tm;
	return timegm(&copy);
}

static void test_time_bcd(void)
{
	struct rig r;
	struct tm tm, host;
	time_t t, now;

	rig_open(&r);
	CHECK_EQ(rd(&r, 0x0a), 0x26);
	CHECK_EQ(rd(&r, 0x0b), 0x02);
	t = read_bcd_time(&r, &tm);
	now = time(NULL);
	CHECK(llabs((long long)(t - now)) <= 2);
	gmtime_r(&t, &host);
	CHECK_EQ(tm.tm_wday, host.tm_wday);
	CHECK_EQ(rd(&r, 0x32), 0x20);
	rig_close(&r);
}

static void test_binary_and_12h(void)
{
	struct rig r;
	struct tm host;
	time_t now;
	unsigned h;
	u8 hour;

	rig_open(&r);
	/* binary, 24 h */
	wr(&r, 0x0b, 0x06);
	wait_no_uip(&r);
	now = time(NULL);
	gmtime_r(&now, &host);
	CHECK(rd(&r, 0x00) < 60);
	CHECK_EQ(rd(&r, 0x08), host.tm_mon + 1);
	CHECK_EQ(rd(&r, 0x09), host.tm_year % 100);
	CHECK_EQ(rd(&r, 0x32), (host.tm_year + 1900) / 100);
	CHECK_EQ(rd(&r, 0x07), host.tm_mday);
	/* BCD, 12 h: hours 1-12 with bit 7 for PM */
	wr(&r, 0x0b, 0x00);
	hour = rd(&r, 0x04);
	now = time(NULL);
	gmtime_r(&now, &host);
	h = bcd(hour & 0x7f);
	CHECK(h >= 1 && h <= 12);
	if (host.tm_min != 59 || host.tm_sec < 58) {
		CHECK_EQ(h % 12, (unsigned)host.tm_hour % 12);
		CHECK_EQ(!!(hour & 0x80), host.tm_hour >= 12);
	}
	rig_close(&r);
}

static void test_set_time_12h_binary(void)
{
	struct rig r;

	rig_open(&r);
	/* binary 12 h: 11 PM is 0x8b; back in BCD 24 h it reads 0x23 */
	wr(&r, 0x0b, 0x84);
	wr(&r, 0x04, 0x8b);
	wr(&r, 0x02, 30);
	wr(&r, 0x0b, 0x04);
	CHECK_EQ(rd(&r, 0x04), 0x8b);
	wr(&r, 0x0b, 0x02);
	CHECK_EQ(rd(&r, 0x04), 0x23);
	/* 12 AM is midnight */
	wr(&r, 0x0b, 0x80);
	wr(&r, 0x04, 0x12);
	wr(&r, 0x0b, 0x00);
	CHECK_EQ(rd(&r, 0x04), 0x12);
	wr(&r, 0x0b, 0x02);
	CHECK_EQ(rd(&r, 0x04), 0x00);
	rig_close(&r);
}

static void test_periodic(void)
{
	struct rig r;
	u64 end;
	unsigned acks = 0;

	rig_open(&r);
	/* PIE off: no timer wakes the host */
	CHECK(!r.timers.head);
	rd(&r, 0x0c);
	CHECK(!r.timers.head);
	/* the flag is still set on time, for guests that poll */
	sleep_us(2000);
	CHECK_EQ(rd(&r, 0x0c), 0x40);
	CHECK(!r.level);
	/* 1024 Hz for 50 ms, acknowledged by reading C */
	wr(&r, 0x0b, 0x42);
	rd(&r, 0x0c);
	CHECK(r.timers.head);
	end = clock_now_ns() + 50 * NSEC_PER_MSEC;
	while (clock_now_ns() < end) {
		timers_run(&r.timers, clock_now_ns());
		if (r.level) {
			CHECK_EQ(rd(&r, 0x0c), 0xc0);
			CHECK(!r.level);
			acks++;
		}
		sleep_us(100);
	}
	/* a busy host merges ticks, never adds them */
	CHECK(acks >= 10 && acks <= 53);
	/* not acknowledged: the line stays high and the timer stops */
	sleep_us(2000);
	timers_run(&r.timers, clock_now_ns());
	CHECK(r.level);
	CHECK(!r.timers.head);
	/* clearing PIE drops the request */
	wr(&r, 0x0b, 0x02);
	CHECK(!r.level);
	CHECK_EQ(rd(&r, 0x0c), 0x40);
	/* rate 0 disables the periodic flag */
	wr(&r, 0x0a, 0x20);
	sleep_us(2000);
	CHECK_EQ(rd(&r, 0x0c) & 0x40, 0);
	rig_close(&r);
}

/*
 * Set 1999-12-31 23:59:59 with SET and the divider held, then start the
 * divider: half a second later the update rolls into 2000, with UIP
 * before it, UF, and an alarm at 00:00:00.
 */
static void test_set_update_alarm(void)
{
	struct rig r;
	bool uip = false;
	u64 t0, prev, max_gap = 0;

	rig_open(&r);
	wr(&r, 0x0b, 0x92);
	CHECK_EQ(rd(&r, 0x0b), 0x82); /* SET clears UIE */
	wr(&r, 0x0a, 0x70);
	wr(&r, 0x00, 0x59);
	wr(&r, 0x02, 0x59);
	wr(&r, 0x04, 0x23);
	wr(&r, 0x06, 0x06);
	wr(&r, 0x07, 0x31);
	wr(&r, 0x08, 0x12);
	wr(&r, 0x09, 0x99);
	wr(&r, 0x32, 0x19);
	wr(&r, 0x01, 0x00);
	wr(&r, 0x03, 0x00);
	wr(&r, 0x05, 0x00);
	wr(&r, 0x0b, 0x32);
	/* still held by the divider: the registers read as written */
	sleep_us(2000);
	CHECK_EQ(rd(&r, 0x00), 0x59);
	CHECK_EQ(rd(&r, 0x09), 0x99);
	CHECK_EQ(rd(&r, 0x0a) & 0x80, 0);
	rd(&r, 0x0c);
	/* periodic rate 0, so that only UF and AF show */
	wr(&r, 0x0a, 0x20);
	t0 = clock_now_ns();
	CHECK(r.timers.head);
	prev = t0;
	while (!r.level && clock_now_ns() - t0 < 2 * NSEC_PER_SEC) {
		u64 now = clock_now_ns();

		/* a loaded host may deschedule us through the whole window */
		if (now - t0 > 498 * NSEC_PER_MSEC)
			max_gap = MAX(max_gap, now - prev);
		prev = now;
		if (rd(&r, 0x0a) & 0x80)
			uip = true;
		timers_run(&r.timers, clock_now_ns());
		/* poll without sleeping near the update: UIP lasts 244 us */
		if (clock_now_ns() - t0 < 498 * NSEC_PER_MSEC)
			sleep_us(100);
	}
	max_gap = MAX(max_gap, clock_now_ns() - prev);
	CHECK(r.level);
	CHECK(clock_now_ns() - t0 >= 490 * NSEC_PER_MSEC);
	CHECK(uip || max_gap > 200 * NSEC_PER_USEC);
	CHECK_EQ(rd(&r, 0x00), 0x00);
	CHECK_EQ(rd(&r, 0x02), 0x00);
	CHECK_EQ(rd(&r, 0x04), 0x00);
	CHECK_EQ(rd(&r, 0x06), 0x07); /* 2000-01-01 was a Saturday */
	CHECK_EQ(rd(&r, 0x07), 0x01);
	CHECK_EQ(rd(&r, 0x08), 0x01);
	CHECK_EQ(rd(&r, 0x09), 0x00);
	CHECK_EQ(rd(&r, 0x32), 0x20);
	CHECK_EQ(rd(&r, 0x0c), 0xb0);
	CHECK(!r.level);
	CHECK_EQ(rd(&r, 0x0c), 0x00);
	rig_close(&r);
}

static void test_set_holds_and_keeps_offset(void)
{
	struct rig r;
	struct tm tm;
	time_t t;

	rig_open(&r);
	wr(&r, 0x0b, 0x82);
	wr(&r, 0x09, 0x10);
	wr(&r, 0x0b, 0x02);
	/* a write while running changes that field and keeps the rest */
	wr(&r, 0x08, 0x05);
	wr(&r, 0x07, 0x06);
	t = read_bcd_time(&r, &tm);
	CHECK_EQ(tm.tm_year, 110);
	CHECK_EQ(tm.tm_mon, 4);
	CHECK_EQ(tm.tm_mday, 6);
	CHECK(t < time(NULL));
	rig_close(&r);
}

static void test_index_nmi_bit(void)
{
	struct rig r;

	rig_open(&r);
	wr(&r, 0x8f, 0x55);
	CHECK_EQ(rd(&r, 0x0f), 0x55);
	CHECK_EQ(rd(&r, 0x8f), 0x55);
	wr(&r, 0xff, 0xaa);
	CHECK_EQ(rd(&r, 0x7f), 0xaa);
	CHECK_EQ(pio_read(r.bus, 0x70, 1), 0xff);
	rig_close(&r);
}

static void test_direct_cmos(void)
{
	struct rig r;

	rig_open(&r);
	rtc_cmos_write(r.rtc, 0x34, 0x12);
	rtc_cmos_write(r.rtc, 0x35, 0x34);
	CHECK_EQ(rd(&r, 0x34), 0x12);
	CHECK_EQ(rd(&r, 0x35), 0x34);
	wr(&r, 0x3d, 0x21);
	CHECK_EQ(rtc_cmos_read(r.rtc, 0x3d), 0x21);
	CHECK_EQ(rtc_cmos_read(r.rtc, 0xbd), 0x21);
	CHECK_EQ(rtc_cmos_read(r.rtc, 0x0d), 0x80);
	rig_close(&r);
}

static void test_read_only_regs(void)
{
	struct rig r;

	rig_open(&r);
	wr(&r, 0x0d, 0x00);
	CHECK_EQ(rd(&r, 0x0d), 0x80);
	wr(&r, 0x0c, 0xff);
	CHECK_EQ(rd(&r, 0x0c) & 0xb0, 0);
	CHECK(!r.level);
	wr(&r, 0x0a, 0xa6);
	CHECK_EQ(rd(&r, 0x0a) & 0x7f, 0x26);
	rig_close(&r);
}

static void test_reset(void)
{
	struct rig r;
	struct device d;

	rig_open(&r);
	d = rtc_device(r.rtc);
	wr(&r, 0x40, 0x5a);
	wr(&r, 0x0b, 0x7a);
	sleep_us(2000);
	timers_run(&r.timers, clock_now_ns());
	CHECK(r.level);
	d.ops->reset(d.opaque);
	CHECK(!r.level);
	CHECK(!r.timers.head);
	CHECK_EQ(rd(&r, 0x0b), 0x02);
	CHECK_EQ(rd(&r, 0x40), 0x5a);
	rig_close(&r);
}

static void test_hostile(void)
{
	struct rig r;
	unsigned i;
	u64 t0 = clock_now_ns();

	rig_open(&r);
	srand(777);
	for (i = 0; i < 100000; i++) {
		u16 port = 0x70 + (rand() & 1);

		if (rand() & 1)
			pio_write(r.bus, port, (u8)rand(), 1);
		else
			pio_read(r.bus, port, 1);
		if (!(i % 64))
			timers_run(&r.timers, clock_now_ns());
	}
	/* whatever was written, the clock still reads and runs */
	wr(&r, 0x0a, 0x26);
	wr(&r, 0x0b, 0x02);
	CHECK(bcd(rd(&r, 0x00)) < 60);
	CHECK(clock_now_ns() - t0 < NSEC_PER_SEC);
	rig_close(&r);
}

static void test_save_load(void)
{
	struct rig a, b;
	struct snap_writer w;
	struct snap_reader rd_;
	struct device da, db;
	struct tm tm;

	rig_open(&a);
	wr(&a, 0x0b, 0x82);
	wr(&a, 0x09, 0x10);
	wr(&a, 0x08, 0x05);
	wr(&a, 0x07, 0x06);
	wr(&a, 0x0b, 0x42);
	wr(&a, 0x40, 0xab);
	wr(&a, 0x8e, 0x00);
	da = rtc_device(a.rtc);
	snap_writer_init(&w);
	CHECK_EQ(da.ops->save(da.opaque, &w), 0);

	rig_open(&b);
	db = rtc_device(b.rtc);
	snap_reader_init(&rd_, w.buf, w.len);
	CHECK_EQ(db.ops->load(db.opaque, &rd_), 0);
	CHECK_EQ(rd(&b, 0x40), 0xab);
	CHECK_EQ(rd(&b, 0x0b), 0x42);
	rd(&b, 0x0c);
	CHECK(b.timers.head);
	read_bcd_time(&b, &tm);
	CHECK_EQ(tm.tm_year, 110);
	CHECK_EQ(tm.tm_mon, 4);
	CHECK_EQ(tm.tm_mday, 6);
	snap_writer_free(&w);

	/* a held clock comes back held, with the same registers */
	wr(&a, 0x0b, 0x82);
	wr(&a, 0x00, 0x42);
	snap_writer_init(&w);
	CHECK_EQ(da.ops->save(da.opaque, &w), 0);
	snap_reader_init(&rd_, w.buf, w.len);
	CHECK_EQ(db.ops->load(db.opaque, &rd_), 0);
	CHECK_EQ(rd(&b, 0x00), 0x42);
	CHECK_EQ(rd(&b, 0x09), 0x10);
	CHECK(!b.timers.head);
	snap_writer_free(&w);

	snap_writer_init(&w);
	snap_put(&w, "rtc", 1, "x", 1);
	snap_reader_init(&rd_, w.buf, w.len);
	CHECK(db.ops->load(db.opaque, &rd_) < 0);
	snap_writer_free(&w);
	rig_close(&a);
	rig_close(&b);
}

int main(void)
{
	RUN_TEST(test_time_bcd);
	RUN_TEST(test_binary_and_12h);
	RUN_TEST(test_set_time_12h_binary);
	RUN_TEST(test_periodic);
	RUN_TEST(test_set_update_alarm);
	RUN_TEST(test_set_holds_and_keeps_offset);
	RUN_TEST(test_index_nmi_bit);
	RUN_TEST(test_direct_cmos);
	RUN_TEST(test_read_only_regs);
	RUN_TEST(test_reset);
	RUN_TEST(test_hostile);
	RUN_TEST(test_save_load);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * 8254 PIT and port 0x61, driven through their ports against real time.
 * Expected behaviour from the Intel 8254 datasheet; the tests sleep for
 * short stretches and allow for a loaded host in their bounds.
 */
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/snapshot.h"
#include "hw/pit.h"
#include "unit.h"

struct rig {
	struct pio_bus *bus;
	struct timer_list timers;
	struct pit *pit;
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
	r->pit = pit_create(r->bus, &r->timers,
			    (struct irq_line){.set = rig_irq, .opaque = r});
}

static void rig_close(struct rig *r)
{
	struct device d = pit_device(r->pit);

	d.ops->destroy(d.opaque);
	CHECK(!r->timers.head);
	pio_bus_free(r->bus);
}

static void outb(struct rig *r, u16 port, u8 v)
{
	pio_write(r->bus, port, v, 1);
}

static u8 inb(struct rig *r, u16 port)
{
	return (u8)pio_read(r->bus, port, 1);
}

static void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/*
 * Run the timer loop for a while, as the machine's event loop would; the
 * last pass comes after the end, so every deadline before it has run.
 */
static void run_for_ms(struct rig *r, unsigned ms)
{
	u64 end = clock_now_ns() + ms * NSEC_PER_MSEC;
	u64 now;

	for (;;) {
		now = clock_now_ns();
		timers_run(&r->timers, now);
		if (now >= end)
			break;
		sleep_us(100);
	}
}

/* Control word, then a word count LSB first. */
static void program(struct rig *r, unsigned ch, u8 cw, u16 count)
{
	outb(r, 0x43, cw);
	outb(r, (u16)(0x40 + ch), (u8)count);
	outb(r, (u16)(0x40 + ch), (u8)(count >> 8));
}

static u16 latch_read(struct rig *r, unsigned ch)
{
	u8 lo;

	outb(r, 0x43, (u8)(ch << 6));
	lo = inb(r, (u16)(0x40 + ch));
	return (u16)(lo | inb(r, (u16)(0x40 + ch)) << 8);
}

static u64 ticks(u64 ns)
{
	return muldiv64(ns, PIT_FREQ_HZ, NSEC_PER_SEC);
}

static void test_mode2_irq_rate(void)
{
	struct rig r;
	unsigned rises;

	rig_open(&r);
	/* 1193 ticks: 1 kHz */
	program(&r, 0, 0x34, 1193);
	CHECK(timers_next_deadline(&r.timers) != TIMER_NEVER);
	run_for_ms(&r, 100);
	rises = r.rises;
	/* one edge per millisecond; a busy host drops some, never adds */
	CHECK(rises >= 50 && rises <= 101);
	CHECK(!r.level);
	rig_close(&r);
}

static void test_count_follows_time(void)
{
	struct rig r;
	u64 a0, a1, b0, b1, lo, hi;
	u16 c1, c2;
	u32 diff;

	rig_open(&r);
	program(&r, 0, 0x30, 0xffff);
	a0 = clock_now_ns();
	c1 = latch_read(&r, 0);
	a1 = clock_now_ns();
	sleep_us(10000);
	b0 = clock_now_ns();
	c2 = latch_read(&r, 0);
	b1 = clock_now_ns();
	diff = (u16)(c1 - c2);
	lo = ticks(b0 - a1);
	hi = ticks(b1 - a0) + 1;
	CHECK(diff >= lo && diff <= hi);
	rig_close(&r);
}

static void test_mode2_values(void)
{
	struct rig r;
	unsigned i;
	bool changed = false;
	u16 first;

	rig_open(&r);
	program(&r, 2, 0xb4, 100);
	outb(&r, 0x61, 0x01);
	first = latch_read(&r, 2);
	for (i = 0; i < 2000; i++) {
		u16 v = latch_read(&r, 2);

		CHECK(v >= 1 && v <= 100);
		if (v != first)
			changed = true;
	}
	CHECK(changed);
	rig_close(&r);
}

static void test_latch(void)
{
	struct rig r;
	u16 latched, live, again;
	u8 lo;

	rig_open(&r);
	program(&r, 0, 0x34, 0);
	/* the latch holds its value while the counter runs on */
	outb(&r, 0x43, 0x00);
	sleep_us(2000);
	/* a second latch before the first is read is ignored */
	outb(&r, 0x43, 0x00);
	lo = inb(&r, 0x40);
	latched = (u16)(lo | inb(&r, 0x40) << 8);
	lo = inb(&r, 0x40);
	live = (u16)(lo | inb(&r, 0x40) << 8);
	CHECK((u16)(latched - live) >= 2386 - 2);
	CHECK((u16)(latched - live) < 40000);
	/* latched bytes come LSB then MSB, then the latch releases */
	outb(&r, 0x43, 0x00);
	again = (u16)inb(&r, 0x40);
	again |= (u16)(inb(&r, 0x40) << 8);
	CHECK((u16)(live - again) < 2000);
	rig_close(&r);
}

static void test_readback(void)
{
	struct rig r;
	u8 status;
	u16 count;

	rig_open(&r);
	outb(&r, 0x43, 0x34);
	/* before a count is written: NULL COUNT set */
	outb(&r, 0x43, 0xe2);
	status = inb(&r, 0x40);
	CHECK_EQ(status & 0x7f, 0x40 | 0x34);
	outb(&r, 0x40, 0x00);
	outb(&r, 0x40, 0x80);
	/* status and count together: status first */
	outb(&r, 0x43, 0xc2);
	status = inb(&r, 0x40);
	count = inb(&r, 0x40);
	count |= (u16)(inb(&r, 0x40) << 8);
	CHECK_EQ(status & 0x7f, 0x34);
	CHECK(status & 0x80); /* mode 2: OUT high between pulses */
	CHECK(count <= 0x8000 && count > 0x7000);
	/* channel 2 in mode 0 with a count: OUT low, then high */
	program(&r, 2, 0xb0, 60000);
	outb(&r, 0x61, 0x01);
	outb(&r, 0x43, 0xe8);
	CHECK_EQ(inb(&r, 0x42), 0x30);
	/* count only, for two channels at once */
	program(&r, 1, 0x74, 1000);
	outb(&r, 0x43, 0xd6);
	count = inb(&r, 0x41);
	count |= (u16)(inb(&r, 0x41) << 8);
	CHECK(count >= 1 && count <= 1000);
	count = inb(&r, 0x40);
	count |= (u16)(inb(&r, 0x40) << 8);
	CHECK(count <= 0x8000);
	rig_close(&r);
}

static void test_out2_mode0(void)
{
	struct rig r;
	u64 t0, t;

	rig_open(&r);
	/* the SeaBIOS/Linux TSC calibration sequence */
	outb(&r, 0x61, (inb(&r, 0x61) & ~0x02) | 0x01);
	outb(&r, 0x43, 0xb0);
	t0 = clock_now_ns();
	outb(&r, 0x42, 1193 & 0xff);
	outb(&r, 0x42, 1193 >> 8);
	CHECK(!(inb(&r, 0x61) & 0x20));
	while (!(inb(&r, 0x61) & 0x20) && clock_now_ns() - t0 < NSEC_PER_SEC)
		;
	t = clock_now_ns() - t0;
	CHECK(t >= 999 * NSEC_PER_USEC && t < 20 * NSEC_PER_MSEC);
	/* OUT stays high after terminal count */
	sleep_us(1000);
	CHECK(inb(&r, 0x61) & 0x20);
	/* gate low stops the count */
	outb(&r, 0x61, 0x00);
	program(&r, 2, 0xb0, 1193);
	sleep_us(3000);
	CHECK(!(inb(&r, 0x61) & 0x20));
	CHECK_EQ(latch_read(&r, 2), 1193);
	outb(&r, 0x61, 0x01);
	sleep_us(3000);
	CHECK(inb(&r, 0x61) & 0x20);
	rig_close(&r);
}

static void test_port61(void)
{
	struct rig r;
	bool seen[2] = {false, false};
	u64 t0;

	rig_open(&r);
	outb(&r, 0x61, 0xff);
	CHECK_EQ(inb(&r, 0x61) & 0xcf, 0x0f);
	outb(&r, 0x61, 0x02);
	CHECK_EQ(inb(&r, 0x61) & 0xcf, 0x02);
	t0 = clock_now_ns();
	while (!(seen[0] && seen[1]) &&
	       clock_now_ns() - t0 < 50 * NSEC_PER_MSEC)
		seen[(inb(&r, 0x61) >> 4) & 1] = true;
	CHECK(seen[0] && seen[1]);
	rig_close(&r);
}

static void test_mode0_irq(void)
{
	struct rig r;

	rig_open(&r);
	program(&r, 0, 0x30, 2386);
	CHECK(!r.level);
	run_for_ms(&r, 5);
	CHECK_EQ(r.rises, 1);
	CHECK(r.level);
	CHECK(!r.timers.head);
	/* a new count drops OUT until the next terminal count */
	outb(&r, 0x40, 0x52);
	CHECK(!r.level);
	outb(&r, 0x40, 0x09);
	run_for_ms(&r, 5);
	CHECK_EQ(r.rises, 2);
	/* switching to a periodic mode rests the line low */
	program(&r, 0, 0x36, 11932);
	CHECK(!r.level);
	run_for_ms(&r, 25);
	CHECK(r.rises >= 3 && r.rises <= 5);
	rig_close(&r);
}

static void test_mode4_strobe(void)
{
	struct rig r;

	rig_open(&r);
	program(&r, 0, 0x38, 1193);
	run_for_ms(&r, 5);
	CHECK_EQ(r.rises, 1);
	CHECK(!r.level);
	CHECK(!r.timers.head);
	rig_close(&r);
}

static void test_host_behind(void)
{
	struct rig r;
	u64 now;

	rig_open(&r);
	program(&r, 0, 0x34, 1193);
	sleep_us(50000);
	now = clock_now_ns();
	timers_run(&r.timers, now);
	/* fifty periods went by: one edge, then the next one in the future */
	CHECK_EQ(r.rises, 1);
	timers_run(&r.timers, now);
	CHECK_EQ(r.rises, 1);
	CHECK(timers_next_deadline(&r.timers) > now);
	CHECK(timers_next_deadline(&r.timers) < now + 2 * NSEC_PER_MSEC);
	rig_close(&r);
}

static void test_mode3_square(void)
{
	struct rig r;
	unsigned high = 0, total = 0;
	u64 t0;

	rig_open(&r);
	outb(&r, 0x61, 0x01);
	program(&r, 2, 0xb6, 2386);
	t0 = clock_now_ns();
	while (clock_now_ns() - t0 < 10 * NSEC_PER_MSEC) {
		u16 v = latch_read(&r, 2);

		CHECK(!(v & 1) && v <= 2386);
		high += (inb(&r, 0x61) >> 5) & 1;
		total++;
	}
	CHECK(total > 100);
	CHECK(high > total / 4 && high < total * 3 / 4);
	rig_close(&r);
}

static void test_mode2_new_count(void)
{
	struct rig r;

	rig_open(&r);
	outb(&r, 0x61, 0x01);
	program(&r, 2, 0xb4, 30000);
	sleep_us(1000);
	outb(&r, 0x42, 100);
	outb(&r, 0x42, 0);
	/* the current 25 ms period finishes with the old count */
	CHECK(latch_read(&r, 2) > 100);
	outb(&r, 0x43, 0xe8);
	CHECK(inb(&r, 0x42) & 0x40);
	sleep_us(26000);
	CHECK(latch_read(&r, 2) <= 100);
	outb(&r, 0x43, 0xe8);
	CHECK(!(inb(&r, 0x42) & 0x40));
	rig_close(&r);
}

static void test_mode1_gate_trigger(void)
{
	struct rig r;

	rig_open(&r);
	program(&r, 2, 0xb2, 1193);
	CHECK(inb(&r, 0x61) & 0x20);
	outb(&r, 0x61, 0x01);
	CHECK(!(inb(&r, 0x61) & 0x20));
	sleep_us(2000);
	CHECK(inb(&r, 0x61) & 0x20);
	/* retrigger */
	outb(&r, 0x61, 0x00);
	outb(&r, 0x61, 0x01);
	CHECK(!(inb(&r, 0x61) & 0x20));
	rig_close(&r);
}

static void test_byte_access_and_bcd(void)
{
	struct rig r;
	u16 v;
	u8 b;

	rig_open(&r);
	/* MSB only: count 0x1000 */
	outb(&r, 0x43, 0xa0);
	outb(&r, 0x42, 0x10);
	b = inb(&r, 0x42);
	CHECK(b == 0x10 || b == 0x0f);
	/* LSB only */
	outb(&r, 0x43, 0x90);
	outb(&r, 0x42, 0xc8);
	b = inb(&r, 0x42);
	CHECK(b <= 0xc8);
	/* BCD: every nibble a decimal digit */
	program(&r, 2, 0xb1, 0x9999);
	v = latch_read(&r, 2);
	CHECK((v & 0xf) <= 9 && ((v >> 4) & 0xf) <= 9);
	CHECK(((v >> 8) & 0xf) <= 9 && (v >> 12) <= 9);
	CHECK(v >= 0x9000);
	/* BCD 0 is 10000 counts */
	program(&r, 0, 0x35, 0);
	v = latch_read(&r, 0);
	CHECK(v == 0 || v >= 0x9000);
	rig_close(&r);
}

static void test_hostile(void)
{
	static const u16 ports[] = {0x40, 0x41, 0x42, 0x43, 0x61};
	struct rig r;
	unsigned i;
	u64 now;

	rig_open(&r);
	srand(4321);
	for (i = 0; i < 100000; i++) {
		u16 port = ports[rand() % ARRAY_SIZE(ports)];

		if (rand() & 1)
			outb(&r, port, (u8)rand());
		else
			inb(&r, port);
		if (!(i % 64))
			timers_run(&r.timers, clock_now_ns());
	}
	/* even the fastest rate leaves the timer loop with a future deadline */
	program(&r, 0, 0x34, 1);
	run_for_ms(&r, 2);
	now = clock_now_ns();
	timers_run(&r.timers, now);
	CHECK(timers_next_deadline(&r.timers) > now);
	rig_close(&r);
}

static void test_save_load(void)
{
	struct rig a, b;
	struct snap_writer w;
	struct snap_reader rd;
	struct device da, db;
	u16 ca, cb;

	rig_open(&a);
	program(&a, 0, 0x34, 11932);
	program(&a, 2, 0xb0, 0xffff);
	outb(&a, 0x61, 0x03);
	da = pit_device(a.pit);
	snap_writer_init(&w);
	CHECK_EQ(da.ops->save(da.opaque, &w), 0);
	ca = latch_read(&a, 2);

	rig_open(&b);
	db = pit_device(b.pit);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(db.ops->load(db.opaque, &rd), 0);
	cb = latch_read(&b, 2);
	/* the time between save and load does not count */
	CHECK(abs((s16)(ca - cb)) < 1000);
	CHECK_EQ(inb(&b, 0x61) & 0x0f, 0x03);
	outb(&b, 0x43, 0xc2);
	CHECK_EQ(inb(&b, 0x40) & 0x3f, 0x34);
	CHECK(timers_next_deadline(&b.timers) != TIMER_NEVER);
	run_for_ms(&b, 25);
	CHECK(b.rises >= 1 && b.rises <= 3);

	snap_writer_free(&w);
	snap_writer_init(&w);
	snap_put(&w, "pit", 1, "x", 1);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(db.ops->load(db.opaque, &rd) < 0);
	snap_writer_free(&w);
	rig_close(&a);
	rig_close(&b);
}

static void test_reset(void)
{
	struct rig r;
	struct device d;

	rig_open(&r);
	d = pit_device(r.pit);
	program(&r, 0, 0x30, 100);
	run_for_ms(&r, 1);
	CHECK(r.level);
	outb(&r, 0x61, 0x03);
	d.ops->reset(d.opaque);
	CHECK(!r.level);
	CHECK(!r.timers.head);
	CHECK_EQ(inb(&r, 0x61) & 0x0f, 0);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_mode2_irq_rate);
	RUN_TEST(test_count_follows_time);
	RUN_TEST(test_mode2_values);
	RUN_TEST(test_latch);
	RUN_TEST(test_readback);
	RUN_TEST(test_out2_mode0);
	RUN_TEST(test_port61);
	RUN_TEST(test_mode0_irq);
	RUN_TEST(test_mode4_strobe);
	RUN_TEST(test_host_behind);
	RUN_TEST(test_mode3_square);
	RUN_TEST(test_mode2_new_count);
	RUN_TEST(test_mode1_gate_trigger);
	RUN_TEST(test_byte_access_and_bcd);
	RUN_TEST(test_hostile);
	RUN_TEST(test_save_load);
	RUN_TEST(test_reset);
	return unit_summary();
}

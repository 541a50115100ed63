// SPDX-License-Identifier: MIT
/*
 * The 82093AA I/O APIC driven through IOREGSEL/IOWIN as a guest would,
 * delivering to a real local APIC whose IRR and ISR show what arrived.
 * Expected behaviour from the 82093AA datasheet, 3.2.
 */
#include <stdlib.h>

#include "core/snapshot.h"
#include "hw/ioapic.h"
#include "unit.h"

#define IOBASE IOAPIC_DEFAULT_BASE
#define LBASE LAPIC_DEFAULT_BASE

#define MASKED 0x10000u
#define LEVEL 0x8000u
#define REMOTE_IRR 0x4000u
#define ACTIVE_LOW 0x2000u
#define LOGICAL 0x800u

struct rig {
	struct phys_mem mem;
	struct timer_list timers;
	struct lapic *apic;
	struct ioapic *io;
};

static void rig_open(struct rig *r)
{
	*r = (struct rig){0};
	CHECK(mem_init(&r->mem, 1 << 20, 1 << 20) == 0);
	r->apic = lapic_create(&r->mem, &r->timers, NULL);
	CHECK(r->apic != NULL);
	r->io = ioapic_create(&r->mem, r->apic);
	CHECK(r->io != NULL);
	lapic_set_eoi_notify(r->apic, ioapic_eoi, r->io);
	/* software-enable the local APIC */
	mem_write(&r->mem, LBASE + 0xf0, 0x1ff, 4);
}

static void rig_close(struct rig *r)
{
	struct device d = ioapic_device(r->io);

	d.ops->destroy(d.opaque);
	d = lapic_device(r->apic);
	d.ops->destroy(d.opaque);
	CHECK_EQ(r->mem.nr_mmio, 0);
	mem_destroy(&r->mem);
}

static u32 io_rd(struct rig *r, u8 index)
{
	mem_write(&r->mem, IOBASE, index, 4);
	return (u32)mem_read(&r->mem, IOBASE + 0x10, 4);
}

static void io_wr(struct rig *r, u8 index, u32 v)
{
	mem_write(&r->mem, IOBASE, index, 4);
	mem_write(&r->mem, IOBASE + 0x10, v, 4);
}

static void route(struct rig *r, unsigned pin, u32 lo, u8 dest)
{
	io_wr(r, (u8)(0x11 + 2 * pin), (u32)dest << 24);
	io_wr(r, (u8)(0x10 + 2 * pin), lo);
}

static u32 entry_lo(struct rig *r, unsigned pin)
{
	return io_rd(r, (u8)(0x10 + 2 * pin));
}

static bool irr_has(struct rig *r, u8 v)
{
	u32 reg = (u32)mem_read(&r->mem, LBASE + 0x200 + (v >> 5) * 0x10, 4);

	return reg & (1u << (v & 31));
}

static bool tmr_has(struct rig *r, u8 v)
{
	u32 reg = (u32)mem_read(&r->mem, LBASE + 0x180 + (v >> 5) * 0x10, 4);

	return reg & (1u << (v & 31));
}

static void lapic_eoi_write(struct rig *r)
{
	mem_write(&r->mem, LBASE + 0xb0, 0, 4);
}

static void test_registers(void)
{
	struct rig r;
	unsigned pin;

	rig_open(&r);
	CHECK_EQ(io_rd(&r, 0x01), 0x00170011);
	CHECK_EQ(io_rd(&r, 0x00), 0);
	io_wr(&r, 0x00, 0xffffffff);
	CHECK_EQ(io_rd(&r, 0x00), 0x0f000000);
	CHECK_EQ(io_rd(&r, 0x02), 0x0f000000);
	io_wr(&r, 0x01, 0);
	CHECK_EQ(io_rd(&r, 0x01), 0x00170011);
	/* every entry masked after reset */
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		CHECK_EQ(io_rd(&r, (u8)(0x10 + 2 * pin)), MASKED);
		CHECK_EQ(io_rd(&r, (u8)(0x11 + 2 * pin)), 0);
	}
	/* delivery status and Remote IRR are read-only */
	io_wr(&r, 0x10, 0xffffffff);
	CHECK_EQ(io_rd(&r, 0x10), 0x1afff);
	io_wr(&r, 0x11, 0xffffffff);
	CHECK_EQ(io_rd(&r, 0x11), 0xff000000);
	io_wr(&r, 0x3f, 0x12345678);
	CHECK_EQ(io_rd(&r, 0x3f), 0x12000000);
	/* beyond the table: nothing */
	io_wr(&r, 0x40, 0xffffffff);
	CHECK_EQ(io_rd(&r, 0x40), 0);
	CHECK_EQ(io_rd(&r, 0xff), 0);
	/* IOREGSEL reads back */
	mem_write(&r.mem, IOBASE, 0x1234, 4);
	CHECK_EQ(mem_read(&r.mem, IOBASE, 4), 0x34);
	/* IOWIN writes of less than 32 bits are ignored */
	mem_write(&r.mem, IOBASE, 0x12, 4);
	mem_write(&r.mem, IOBASE + 0x10, 0, 1);
	CHECK_EQ(io_rd(&r, 0x12), MASKED);
	/* reset masks everything again */
	ioapic_device(r.io).ops->reset(r.io);
	CHECK_EQ(io_rd(&r, 0x10), MASKED);
	CHECK_EQ(io_rd(&r, 0x00), 0);
	rig_close(&r);
}

static void test_masked_does_not_deliver(void)
{
	struct rig r;

	rig_open(&r);
	route(&r, 3, MASKED | 0x33, 0);
	ioapic_set_irq(r.io, 3, true);
	ioapic_set_irq(r.io, 3, false);
	CHECK(!irr_has(&r, 0x33));
	route(&r, 4, MASKED | LEVEL | 0x34, 0);
	ioapic_set_irq(r.io, 4, true);
	CHECK(!irr_has(&r, 0x34));
	CHECK(!(entry_lo(&r, 4) & REMOTE_IRR));
	/* unmasking a level entry whose line is asserted delivers */
	route(&r, 4, LEVEL | 0x34, 0);
	CHECK(irr_has(&r, 0x34));
	CHECK(lapic_pending(r.apic));
	rig_close(&r);
}

static void test_edge(void)
{
	struct rig r;

	rig_open(&r);
	route(&r, 4, 0x44, 0);
	ioapic_set_irq(r.io, 4, true);
	CHECK(irr_has(&r, 0x44));
	CHECK(!tmr_has(&r, 0x44));
	CHECK_EQ(lapic_intack(r.apic), 0x44);
	lapic_eoi_write(&r);
	/* holding the line high is no new edge */
	ioapic_set_irq(r.io, 4, true);
	CHECK(!irr_has(&r, 0x44));
	ioapic_set_irq(r.io, 4, false);
	CHECK(!irr_has(&r, 0x44));
	ioapic_set_irq(r.io, 4, true);
	CHECK(irr_has(&r, 0x44));
	/* edge entries have no Remote IRR */
	CHECK(!(entry_lo(&r, 4) & REMOTE_IRR));
	/* pins beyond the table are ignored */
	ioapic_set_irq(r.io, IOAPIC_PINS, true);
	ioapic_set_irq(r.io, ~0u, true);
	rig_close(&r);
}

static void test_level_remote_irr(void)
{
	struct rig r;

	rig_open(&r);
	mem_write(&r.mem, LBASE + 0xd0, 0x01000000, 4);
	route(&r, 5, LEVEL | LOGICAL | 0x55, 0x01);
	ioapic_set_irq(r.io, 5, true);
	CHECK(irr_has(&r, 0x55));
	CHECK(tmr_has(&r, 0x55));
	CHECK(entry_lo(&r, 5) & REMOTE_IRR);
	CHECK_EQ(lapic_intack(r.apic), 0x55);
	/* no new message while Remote IRR is set */
	ioapic_set_irq(r.io, 5, false);
	ioapic_set_irq(r.io, 5, true);
	CHECK(!irr_has(&r, 0x55));
	/* the EOI clears Remote IRR; the line is still high: again */
	lapic_eoi_write(&r);
	CHECK(irr_has(&r, 0x55));
	CHECK(entry_lo(&r, 5) & REMOTE_IRR);
	CHECK_EQ(lapic_intack(r.apic), 0x55);
	ioapic_set_irq(r.io, 5, false);
	lapic_eoi_write(&r);
	CHECK(!(entry_lo(&r, 5) & REMOTE_IRR));
	CHECK(!irr_has(&r, 0x55));
	CHECK(!lapic_pending(r.apic));
	/* Remote IRR comes and goes without touching the destination */
	CHECK_EQ(io_rd(&r, 0x11 + 2 * 5), 0x01000000);
	rig_close(&r);
}

/* Switching a stuck level entry to edge clears its Remote IRR. */
static void test_edge_switch_clears_remote_irr(void)
{
	struct rig r;

	rig_open(&r);
	route(&r, 9, LEVEL | 0x59, 0);
	ioapic_set_irq(r.io, 9, true);
	CHECK(entry_lo(&r, 9) & REMOTE_IRR);
	io_wr(&r, 0x10 + 18, MASKED | 0x59);
	CHECK(!(entry_lo(&r, 9) & REMOTE_IRR));
	/* EOI of an unrelated vector leaves others alone */
	route(&r, 10, LEVEL | 0x5a, 0);
	ioapic_set_irq(r.io, 10, true);
	ioapic_eoi(r.io, 0x5b);
	CHECK(entry_lo(&r, 10) & REMOTE_IRR);
	rig_close(&r);
}

static void test_polarity(void)
{
	struct rig r;

	rig_open(&r);
	/* active low, edge: the falling input is the asserting edge */
	route(&r, 6, ACTIVE_LOW | 0x66, 0);
	CHECK(!irr_has(&r, 0x66));
	ioapic_set_irq(r.io, 6, true);
	CHECK(!irr_has(&r, 0x66));
	ioapic_set_irq(r.io, 6, false);
	CHECK(irr_has(&r, 0x66));
	/* active low, level: a low input is asserted */
	route(&r, 7, ACTIVE_LOW | LEVEL | 0x77, 0);
	CHECK(irr_has(&r, 0x77));
	CHECK(entry_lo(&r, 7) & REMOTE_IRR);
	ioapic_set_irq(r.io, 7, true);
	CHECK_EQ(lapic_intack(r.apic), 0x77);
	lapic_eoi_write(&r);
	CHECK(!irr_has(&r, 0x77));
	CHECK(!(entry_lo(&r, 7) & REMOTE_IRR));
	rig_close(&r);
}

static void test_destinations(void)
{
	struct rig r;

	rig_open(&r);
	/* physical: APIC ID 0 and the broadcast */
	route(&r, 1, 0x31, 1);
	ioapic_set_irq(r.io, 1, true);
	CHECK(!irr_has(&r, 0x31));
	route(&r, 2, 0x32, 0xff);
	ioapic_set_irq(r.io, 2, true);
	CHECK(irr_has(&r, 0x32));
	/* logical, flat model: the LDR decides */
	mem_write(&r.mem, LBASE + 0xd0, 0x01000000, 4);
	route(&r, 8, LOGICAL | 0x38, 0x01);
	ioapic_set_irq(r.io, 8, true);
	CHECK(irr_has(&r, 0x38));
	route(&r, 11, LOGICAL | 0x3b, 0x02);
	ioapic_set_irq(r.io, 11, true);
	CHECK(!irr_has(&r, 0x3b));
	/* lowest priority is fixed with one processor */
	route(&r, 12, 0x100 | 0x3c, 0);
	ioapic_set_irq(r.io, 12, true);
	CHECK(irr_has(&r, 0x3c));
	/* NMI, INIT, ExtINT: not delivered */
	route(&r, 13, 0x400 | 0x3d, 0);
	ioapic_set_irq(r.io, 13, true);
	route(&r, 14, 0x700 | 0x3e, 0);
	ioapic_set_irq(r.io, 14, true);
	CHECK(!irr_has(&r, 0x3d));
	CHECK(!irr_has(&r, 0x3e));
	rig_close(&r);
}

static void test_save_load(void)
{
	struct rig r, r2;
	struct snap_writer w;
	struct snap_reader rd;
	struct device d, d2;
	unsigned pin;

	rig_open(&r);
	rig_open(&r2);
	io_wr(&r, 0x00, 0x05000000);
	route(&r, 5, LEVEL | 0x55, 0x01);
	route(&r, 6, ACTIVE_LOW | 0x66, 0xff);
	ioapic_set_irq(r.io, 5, true);
	ioapic_set_irq(r.io, 6, true);
	mem_write(&r.mem, IOBASE, 0x1c, 4);

	d = ioapic_device(r.io);
	d2 = ioapic_device(r2.io);
	snap_writer_init(&w);
	CHECK_EQ(d.ops->save(d.opaque, &w), 0);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(d2.ops->load(d2.opaque, &rd), 0);
	snap_writer_free(&w);

	CHECK_EQ(mem_read(&r2.mem, IOBASE, 4), 0x1c);
	CHECK_EQ(io_rd(&r2, 0x00), 0x05000000);
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		CHECK_EQ(io_rd(&r2, (u8)(0x10 + 2 * pin)),
			 io_rd(&r, (u8)(0x10 + 2 * pin)));
		CHECK_EQ(io_rd(&r2, (u8)(0x11 + 2 * pin)),
			 io_rd(&r, (u8)(0x11 + 2 * pin)));
	}
	/* the loaded input levels are live: pin 6 is deasserted (high) */
	ioapic_set_irq(r2.io, 6, false);
	CHECK(irr_has(&r2, 0x66));
	rig_close(&r);
	rig_close(&r2);
}

static void test_load_rejects_garbage(void)
{
	static u8 junk[512];
	struct rig r;
	struct snap_writer w;
	struct snap_reader rd;
	struct device d;
	size_t len;

	rig_open(&r);
	d = ioapic_device(r.io);
	memset(junk, 0xff, sizeof(junk));
	for (len = 0; len < sizeof(junk); len++) {
		snap_writer_init(&w);
		snap_put(&w, "ioapic", 1, junk, len);
		snap_reader_init(&rd, w.buf, w.len);
		CHECK(d.ops->load(d.opaque, &rd) != 0);
		snap_writer_free(&w);
	}
	CHECK_EQ(io_rd(&r, 0x10), MASKED);
	rig_close(&r);
}

/* A hostile guest: random accesses to the window, random pins, EOIs. */
static void test_random_mmio(void)
{
	static const unsigned sizes[] = {1, 2, 4, 8};
	struct rig r;
	unsigned i;

	rig_open(&r);
	srand(4321);
	for (i = 0; i < 100000; i++) {
		u64 off = (u64)rand() % 0x1000;
		unsigned size = sizes[rand() % 4];
		u32 v = (u32)rand() << 1 ^ (u32)rand();

		if (rand() % 4) {
			off = rand() % 2 ? 0x10 : 0;
			size = 4;
		}
		if (rand() % 2)
			mem_write(&r.mem, IOBASE + off, v, size);
		else
			mem_read(&r.mem, IOBASE + off, size);
		ioapic_set_irq(r.io, (unsigned)rand() % 30, rand() % 2);
		if (lapic_pending(r.apic))
			lapic_intack(r.apic);
		if (!(i % 3))
			lapic_eoi_write(&r);
		if (!(i % 7))
			ioapic_eoi(r.io, (u8)rand());
	}
	CHECK_EQ(io_rd(&r, 0x01), 0x00170011);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_registers);
	RUN_TEST(test_masked_does_not_deliver);
	RUN_TEST(test_edge);
	RUN_TEST(test_level_remote_irr);
	RUN_TEST(test_edge_switch_clears_remote_irr);
	RUN_TEST(test_polarity);
	RUN_TEST(test_destinations);
	RUN_TEST(test_save_load);
	RUN_TEST(test_load_rejects_garbage);
	RUN_TEST(test_random_mmio);
	return unit_summary();
}

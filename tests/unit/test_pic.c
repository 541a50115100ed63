// SPDX-License-Identifier: MIT
/*
 * Dual 8259A + ELCR, driven through its ports as a BIOS or kernel would.
 * Expected values come from the Intel 8259A datasheet and PIIX3 2.7.
 */
#include <stdlib.h>

#include "bus/irq.h"
#include "core/snapshot.h"
#include "hw/pic.h"
#include "unit.h"

struct rig {
	struct pio_bus *bus;
	struct pic *pic;
	bool intr;
	unsigned changes;
	unsigned same_level_calls;
};

static void rig_intr(void *opaque, bool level)
{
	struct rig *r = opaque;

	if (level == r->intr)
		r->same_level_calls++;
	r->intr = level;
	r->changes++;
}

static void rig_open(struct rig *r)
{
	*r = (struct rig){0};
	r->bus = pio_bus_new();
	r->pic = pic_create(r->bus, rig_intr, r);
}

static void rig_close(struct rig *r)
{
	struct device d = pic_device(r->pic);

	d.ops->destroy(d.opaque);
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

/* The PC/AT sequence: edge, cascade, ICW4 8086 mode (icw4 for both). */
static void rig_init(struct rig *r, u8 icw1, u8 icw4)
{
	outb(r, 0x20, icw1);
	outb(r, 0x21, 0x08);
	outb(r, 0x21, 0x04);
	outb(r, 0x21, icw4);
	outb(r, 0xa0, icw1);
	outb(r, 0xa1, 0x70);
	outb(r, 0xa1, 0x02);
	outb(r, 0xa1, icw4);
}

static void rig_pc(struct rig *r)
{
	rig_open(r);
	rig_init(r, 0x11, 0x01);
}

static u8 read_isr(struct rig *r, u16 port)
{
	outb(r, port, 0x0b);
	return inb(r, port);
}

static u8 read_irr(struct rig *r, u16 port)
{
	outb(r, port, 0x0a);
	return inb(r, port);
}

static void test_init_sequence(void)
{
	struct rig r;

	rig_open(&r);
	outb(&r, 0x21, 0xff);
	rig_init(&r, 0x11, 0x01);
	/* ICW1 clears IMR */
	CHECK_EQ(inb(&r, 0x21), 0);
	CHECK_EQ(inb(&r, 0xa1), 0);
	CHECK(!r.intr);
	pic_set_irq(r.pic, 0, true);
	CHECK(r.intr);
	CHECK(pic_intr_pending(r.pic));
	CHECK_EQ(pic_intack(r.pic), 0x08);
	CHECK(!r.intr);
	CHECK_EQ(read_isr(&r, 0x20), 0x01);
	outb(&r, 0x20, 0x20);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	/* after init, reads of port 0 return IRR */
	pic_set_irq(r.pic, 0, false);
	pic_set_irq(r.pic, 1, true);
	outb(&r, 0x20, 0x11);
	outb(&r, 0x21, 0x20);
	outb(&r, 0x21, 0x04);
	outb(&r, 0x21, 0x01);
	CHECK_EQ(inb(&r, 0x20), 0);
	/* the edge sense latch was reset: a held line needs a new edge */
	CHECK(!r.intr);
	pic_set_irq(r.pic, 1, false);
	pic_set_irq(r.pic, 1, true);
	CHECK_EQ(pic_intack(r.pic), 0x21);
	rig_close(&r);
}

static void test_mask(void)
{
	struct rig r;

	rig_pc(&r);
	outb(&r, 0x21, 0x01);
	CHECK_EQ(inb(&r, 0x21), 0x01);
	pic_set_irq(r.pic, 0, true);
	CHECK(!r.intr);
	CHECK_EQ(read_irr(&r, 0x20), 0x01);
	outb(&r, 0x21, 0x00);
	CHECK(r.intr);
	outb(&r, 0x21, 0x01);
	CHECK(!r.intr);
	/* masking the cascade line hides every slave request */
	outb(&r, 0x21, 0x05);
	pic_set_irq(r.pic, 12, true);
	CHECK(!r.intr);
	outb(&r, 0x21, 0x00);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x08);
	rig_close(&r);
}

static void test_priority(void)
{
	struct rig r;

	rig_pc(&r);
	pic_set_irq(r.pic, 3, true);
	pic_set_irq(r.pic, 1, true);
	CHECK_EQ(pic_intack(r.pic), 0x09);
	/* IR3 is lower than IR1, which is in service */
	CHECK(!r.intr);
	outb(&r, 0x20, 0x20);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x0b);
	/* a higher level nests over one in service */
	pic_set_irq(r.pic, 0, true);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x08);
	CHECK_EQ(read_isr(&r, 0x20), 0x09);
	/* non-specific EOI clears the highest level in service */
	outb(&r, 0x20, 0x20);
	CHECK_EQ(read_isr(&r, 0x20), 0x08);
	outb(&r, 0x20, 0x20);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	/* slave levels rank between IR1 and IR3 */
	pic_set_irq(r.pic, 3, false);
	pic_set_irq(r.pic, 3, true);
	pic_set_irq(r.pic, 8, true);
	CHECK_EQ(pic_intack(r.pic), 0x70);
	rig_close(&r);
}

static void test_eoi_variants(void)
{
	struct rig r;

	rig_pc(&r);
	/* specific EOI */
	pic_set_irq(r.pic, 4, true);
	CHECK_EQ(pic_intack(r.pic), 0x0c);
	outb(&r, 0x20, 0x63);
	CHECK_EQ(read_isr(&r, 0x20), 0x10);
	outb(&r, 0x20, 0x64);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	/* set priority: IR3 lowest, so IR4 is now the highest */
	outb(&r, 0x20, 0xc3);
	pic_set_irq(r.pic, 0, true);
	pic_set_irq(r.pic, 5, true);
	CHECK_EQ(pic_intack(r.pic), 0x0d);
	outb(&r, 0x20, 0x20);
	CHECK_EQ(pic_intack(r.pic), 0x08);
	/* rotate on non-specific EOI: IR0 becomes lowest */
	outb(&r, 0x20, 0xa0);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	pic_set_irq(r.pic, 0, false);
	pic_set_irq(r.pic, 0, true);
	pic_set_irq(r.pic, 7, true);
	CHECK_EQ(pic_intack(r.pic), 0x0f);
	/* rotate on specific EOI: IR7 lowest, IR0 first again */
	outb(&r, 0x20, 0xe7);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	pic_set_irq(r.pic, 7, false);
	pic_set_irq(r.pic, 7, true);
	CHECK_EQ(pic_intack(r.pic), 0x08);
	outb(&r, 0x20, 0x20);
	CHECK_EQ(pic_intack(r.pic), 0x0f);
	outb(&r, 0x20, 0x20);
	/* NOP */
	outb(&r, 0x20, 0x40);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	rig_close(&r);
}

static void test_auto_eoi(void)
{
	struct rig r;

	rig_open(&r);
	rig_init(&r, 0x11, 0x03);
	pic_set_irq(r.pic, 1, true);
	pic_set_irq(r.pic, 6, true);
	CHECK_EQ(pic_intack(r.pic), 0x09);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	/* no ISR bit: the lower request follows at once */
	CHECK(r.intr);
	/* rotate in AEOI: the acknowledged level becomes lowest */
	outb(&r, 0x20, 0x80);
	CHECK_EQ(pic_intack(r.pic), 0x0e);
	pic_set_irq(r.pic, 6, false);
	pic_set_irq(r.pic, 6, true);
	pic_set_irq(r.pic, 7, true);
	CHECK_EQ(pic_intack(r.pic), 0x0f);
	outb(&r, 0x20, 0x00);
	pic_set_irq(r.pic, 0, true);
	CHECK_EQ(pic_intack(r.pic), 0x08);
	CHECK_EQ(pic_intack(r.pic), 0x0e);
	rig_close(&r);
}

static void test_cascade(void)
{
	struct rig r;

	rig_pc(&r);
	pic_set_irq(r.pic, 10, true);
	CHECK(r.intr);
	CHECK_EQ(read_irr(&r, 0x20), 0x04);
	CHECK_EQ(read_irr(&r, 0xa0), 0x04);
	CHECK_EQ(pic_intack(r.pic), 0x72);
	CHECK(!r.intr);
	CHECK_EQ(read_isr(&r, 0x20), 0x04);
	CHECK_EQ(read_isr(&r, 0xa0), 0x04);
	/* a second slave request waits for both EOIs */
	pic_set_irq(r.pic, 14, true);
	CHECK(!r.intr);
	outb(&r, 0xa0, 0x20);
	CHECK(!r.intr);
	outb(&r, 0x20, 0x20);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x76);
	outb(&r, 0xa0, 0x20);
	outb(&r, 0x20, 0x20);
	CHECK(!r.intr);
	rig_close(&r);
}

static void test_special_fully_nested(void)
{
	struct rig r;

	rig_open(&r);
	outb(&r, 0x20, 0x11);
	outb(&r, 0x21, 0x08);
	outb(&r, 0x21, 0x04);
	outb(&r, 0x21, 0x11);
	outb(&r, 0xa0, 0x11);
	outb(&r, 0xa1, 0x70);
	outb(&r, 0xa1, 0x02);
	outb(&r, 0xa1, 0x01);
	pic_set_irq(r.pic, 12, true);
	CHECK_EQ(pic_intack(r.pic), 0x74);
	/* a higher slave level gets through while IR2 is in service */
	pic_set_irq(r.pic, 9, true);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x71);
	/* a lower one does not */
	pic_set_irq(r.pic, 15, true);
	CHECK(!r.intr);
	rig_close(&r);

	/* without SFNM the master blocks the slave while IR2 is in service */
	rig_pc(&r);
	pic_set_irq(r.pic, 12, true);
	CHECK_EQ(pic_intack(r.pic), 0x74);
	pic_set_irq(r.pic, 9, true);
	CHECK(!r.intr);
	rig_close(&r);
}

static void test_spurious(void)
{
	struct rig r;

	rig_pc(&r);
	/* a level request that vanishes before INTA gives IR7, no ISR */
	outb(&r, 0x4d0, 0x20);
	pic_set_irq(r.pic, 5, true);
	CHECK(r.intr);
	pic_set_irq(r.pic, 5, false);
	CHECK(!r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x0f);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	/* on the slave: IR15, with the master's IR2 still in service */
	outb(&r, 0x4d1, 0x08);
	pic_set_irq(r.pic, 11, true);
	CHECK(r.intr);
	pic_set_irq(r.pic, 11, false);
	CHECK_EQ(pic_intack(r.pic), 0x77);
	CHECK_EQ(read_isr(&r, 0xa0), 0);
	CHECK_EQ(read_isr(&r, 0x20), 0x04);
	outb(&r, 0x20, 0x20);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	CHECK(!r.intr);
	rig_close(&r);
}

static void test_edge_level(void)
{
	struct rig r;

	rig_pc(&r);
	outb(&r, 0x4d0, 0xff);
	outb(&r, 0x4d1, 0xff);
	CHECK_EQ(inb(&r, 0x4d0), 0xf8);
	CHECK_EQ(inb(&r, 0x4d1), 0xde);
	outb(&r, 0x4d0, 0x00);
	outb(&r, 0x4d1, 0x00);
	/* edge: a line held high interrupts once */
	pic_set_irq(r.pic, 3, true);
	CHECK_EQ(pic_intack(r.pic), 0x0b);
	outb(&r, 0x20, 0x20);
	CHECK(!r.intr);
	/* a pulse is latched even though the line is low again */
	pic_set_irq(r.pic, 4, true);
	pic_set_irq(r.pic, 4, false);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x0c);
	outb(&r, 0x20, 0x20);
	/* level: the request stays while the line is high */
	outb(&r, 0x4d0, 0x08);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x0b);
	outb(&r, 0x20, 0x20);
	CHECK(r.intr);
	pic_set_irq(r.pic, 3, false);
	CHECK(!r.intr);
	/* level on the slave via ELCR2 */
	outb(&r, 0x4d1, 0x02);
	pic_set_irq(r.pic, 9, true);
	CHECK_EQ(pic_intack(r.pic), 0x71);
	outb(&r, 0xa0, 0x20);
	outb(&r, 0x20, 0x20);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x71);
	rig_close(&r);

	/* ICW1.LTIM makes every input of that chip level triggered */
	rig_open(&r);
	rig_init(&r, 0x19, 0x01);
	pic_set_irq(r.pic, 6, true);
	CHECK_EQ(pic_intack(r.pic), 0x0e);
	outb(&r, 0x20, 0x20);
	CHECK(r.intr);
	pic_set_irq(r.pic, 6, false);
	CHECK(!r.intr);
	rig_close(&r);
}

static void test_poll(void)
{
	struct rig r;

	rig_pc(&r);
	outb(&r, 0x20, 0x0c);
	CHECK_EQ(inb(&r, 0x20), 0x00);
	pic_set_irq(r.pic, 4, true);
	pic_set_irq(r.pic, 6, true);
	outb(&r, 0x20, 0x0c);
	CHECK_EQ(inb(&r, 0x20), 0x84);
	CHECK_EQ(read_isr(&r, 0x20), 0x10);
	/* poll is one-shot; port 1 polls too */
	outb(&r, 0x20, 0x0c);
	CHECK_EQ(inb(&r, 0x21), 0x00);
	outb(&r, 0x20, 0x20);
	outb(&r, 0x20, 0x0c);
	CHECK_EQ(inb(&r, 0x21), 0x86);
	CHECK_EQ(inb(&r, 0x21), 0x00); /* IMR again */
	rig_close(&r);
}

static void test_read_irr_isr(void)
{
	struct rig r;

	rig_pc(&r);
	pic_set_irq(r.pic, 1, true);
	pic_set_irq(r.pic, 5, true);
	CHECK_EQ(read_irr(&r, 0x20), 0x22);
	CHECK_EQ(pic_intack(r.pic), 0x09);
	CHECK_EQ(read_irr(&r, 0x20), 0x20);
	CHECK_EQ(read_isr(&r, 0x20), 0x02);
	/* the selection sticks until the next OCW3 with RR */
	CHECK_EQ(inb(&r, 0x20), 0x02);
	outb(&r, 0x20, 0x08);
	CHECK_EQ(inb(&r, 0x20), 0x02);
	outb(&r, 0x20, 0x0a);
	CHECK_EQ(inb(&r, 0x20), 0x20);
	rig_close(&r);
}

static void test_special_mask(void)
{
	struct rig r;

	rig_pc(&r);
	pic_set_irq(r.pic, 3, true);
	CHECK_EQ(pic_intack(r.pic), 0x0b);
	pic_set_irq(r.pic, 5, true);
	CHECK(!r.intr);
	/* SMM with IR3 masked: lower levels are enabled */
	outb(&r, 0x21, 0x08);
	outb(&r, 0x20, 0x68);
	CHECK(r.intr);
	CHECK_EQ(pic_intack(r.pic), 0x0d);
	outb(&r, 0x20, 0x65);
	/* leaving SMM restores the fully nested order */
	outb(&r, 0x20, 0x48);
	pic_set_irq(r.pic, 6, true);
	CHECK(!r.intr);
	CHECK_EQ(read_isr(&r, 0x20), 0x08);
	rig_close(&r);
}

static void test_intr_changes_only(void)
{
	struct rig r;
	irq_set_fn fn = pic_set_irq;
	struct irq_line line = {.set = fn, .pin = 7};

	rig_pc(&r);
	line.opaque = r.pic;
	pic_set_irq(r.pic, 0, true);
	pic_set_irq(r.pic, 1, true);
	pic_set_irq(r.pic, 0, true);
	outb(&r, 0x21, 0x00);
	CHECK_EQ(r.changes, 1);
	irq_pulse(&line);
	CHECK_EQ(r.changes, 1);
	pic_intack(r.pic);
	CHECK_EQ(r.changes, 2);
	CHECK_EQ(r.same_level_calls, 0);
	/* out-of-range lines are ignored */
	pic_set_irq(r.pic, 16, true);
	pic_set_irq(r.pic, 0xffffffffu, true);
	CHECK_EQ(r.changes, 2);
	rig_close(&r);
}

static void test_reset(void)
{
	struct rig r;
	struct device d;

	rig_pc(&r);
	d = pic_device(r.pic);
	pic_set_irq(r.pic, 1, true);
	CHECK(r.intr);
	d.ops->reset(d.opaque);
	CHECK(!r.intr);
	CHECK_EQ(inb(&r, 0x21), 0);
	CHECK_EQ(read_isr(&r, 0x20), 0);
	rig_close(&r);
}

static void test_hostile(void)
{
	static const u16 ports[] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1};
	struct rig r;
	unsigned i;

	rig_pc(&r);
	srand(1234);
	for (i = 0; i < 200000; i++) {
		u16 port = ports[rand() % ARRAY_SIZE(ports)];
		int v;

		switch (rand() % 4) {
		case 0:
			outb(&r, port, (u8)rand());
			break;
		case 1:
			inb(&r, port);
			break;
		case 2:
			pic_set_irq(r.pic, (unsigned)rand() % 18, rand() & 1);
			break;
		default:
			v = pic_intack(r.pic);
			CHECK(v >= 0 && v <= 0xff);
			break;
		}
		if (r.intr != pic_intr_pending(r.pic))
			break;
	}
	CHECK_EQ(i, 200000);
	CHECK_EQ(r.same_level_calls, 0);
	rig_close(&r);
}

static void test_save_load(void)
{
	struct rig a, b;
	struct snap_writer w;
	struct snap_reader rd;
	struct device da, db;

	rig_pc(&a);
	outb(&a, 0x4d1, 0x0c);
	outb(&a, 0x21, 0x10);
	pic_set_irq(a.pic, 3, true);
	pic_set_irq(a.pic, 4, true);
	CHECK_EQ(pic_intack(a.pic), 0x0b);
	pic_set_irq(a.pic, 10, true);
	CHECK(a.intr);
	outb(&a, 0xa0, 0x0b);
	da = pic_device(a.pic);
	snap_writer_init(&w);
	CHECK_EQ(da.ops->save(da.opaque, &w), 0);

	rig_open(&b);
	db = pic_device(b.pic);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(db.ops->load(db.opaque, &rd), 0);
	CHECK(b.intr);
	CHECK_EQ(inb(&b, 0x21), 0x10);
	CHECK_EQ(inb(&b, 0x4d1), 0x0c);
	CHECK_EQ(inb(&b, 0xa0), 0);
	CHECK_EQ(read_isr(&b, 0x20), 0x08);
	CHECK_EQ(read_irr(&b, 0x20), 0x14);
	CHECK_EQ(pic_intack(b.pic), 0x72);
	/* level-triggered IRQ 10 is still high after the load */
	outb(&b, 0xa0, 0x20);
	outb(&b, 0x20, 0x20);
	outb(&b, 0x20, 0x20);
	CHECK_EQ(pic_intack(b.pic), 0x72);

	/* a section with the wrong size is refused */
	snap_writer_free(&w);
	snap_writer_init(&w);
	snap_put(&w, "pic", 1, "x", 1);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(db.ops->load(db.opaque, &rd) < 0);
	snap_writer_free(&w);
	rig_close(&a);
	rig_close(&b);
}

int main(void)
{
	RUN_TEST(test_init_sequence);
	RUN_TEST(test_mask);
	RUN_TEST(test_priority);
	RUN_TEST(test_eoi_variants);
	RUN_TEST(test_auto_eoi);
	RUN_TEST(test_cascade);
	RUN_TEST(test_special_fully_nested);
	RUN_TEST(test_spurious);
	RUN_TEST(test_edge_level);
	RUN_TEST(test_poll);
	RUN_TEST(test_read_irr_isr);
	RUN_TEST(test_special_mask);
	RUN_TEST(test_intr_changes_only);
	RUN_TEST(test_reset);
	RUN_TEST(test_hostile);
	RUN_TEST(test_save_load);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * Dual 8259A PIC with the PIIX3 ELCR.
 *
 * Each chip keeps IRR, ISR and IMR as the datasheet describes them. Inputs
 * are levels: an edge-triggered input latches IRR on its rising edge and
 * keeps it until acknowledged; a level-triggered input (ICW1.LTIM or its
 * ELCR bit) has IRR follow the line. The slave's INT output is the master's
 * IR2 input, so a slave request reaches the CPU through the master's
 * priority logic exactly as on a PC/AT board.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "hw/pic.h"

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT 0xa0
#define PIC_ELCR_PORT 0x4d0
#define PIC_CASCADE_IR 2
#define PIC_SPURIOUS_IR 7
#define PIC_SAVE_VERSION 1

/* 8259A datasheet, "Initialization Command Words" */
#define ICW1_IC4 BIT(0)
#define ICW1_SNGL BIT(1)
#define ICW1_LTIM BIT(3)
#define ICW1_INIT BIT(4)
#define ICW4_UPM BIT(0)
#define ICW4_AEOI BIT(1)
#define ICW4_SFNM BIT(4)

/* 8259A datasheet, "Operation Command Words": OCW3 */
#define OCW3_RIS BIT(0)
#define OCW3_RR BIT(1)
#define OCW3_POLL BIT(2)
#define OCW3_SEL BIT(3)
#define OCW3_SMM BIT(5)
#define OCW3_ESMM BIT(6)

/* OCW2 R/SL/EOI field (bits 7:5) */
enum pic_ocw2 {
	OCW2_ROTATE_AEOI_CLEAR = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

enum pic_init_step {
	PIC_READY,
	PIC_WANT_ICW2,
	PIC_WANT_ICW3,
	PIC_WANT_ICW4,
};

/*
 * PIIX3 datasheet 2.7 (ELCR1/ELCR2): IRQ 0, 1, 2, 8 and 13 are always
 * edge triggered, their bits read as 0.
 */
static const u8 pic_elcr_writable[2] = {0xf8, 0xde};

/* Guest-visible state of one 8259A; plain old data, saved as is. */
struct pic_chip {
	u8 irr;
	u8 isr;
	u8 imr;
	u8 line; /* current input levels */
	u8 elcr;
	u8 lowest;	/* the IR with the lowest priority */
	u8 vector_base; /* ICW2 bits 7:3 */
	u8 icw1;
	u8 icw3;
	u8 icw4;
	u8 init_step;
	u8 read_isr; /* OCW3 RIS: port 0 reads ISR instead of IRR */
	u8 poll;     /* OCW3 P: the next read is a poll */
	u8 special_mask;
	u8 rotate_aeoi;
	u8 pad;
};

struct pic_state {
	struct pic_chip chip[2]; /* master, slave */
};

struct pic {
	struct pic_state s;
	bool intr;
	void (*intr_changed)(void *opaque, bool level);
	void *opaque;
	struct pio_bus *pio;
};

static bool pic_chip_level(const struct pic_chip *c, unsigned ir)
{
	return (c->icw1 & ICW1_LTIM) || (c->elcr & BIT(ir));
}

/* Bits of the inputs that are level triggered. */
static u8 pic_chip_level_mask(const struct pic_chip *c)
{
	return (c->icw1 & ICW1_LTIM) ? 0xff : c->elcr;
}

/* Priority rank of ir: 0 is the highest. */
static unsigned pic_chip_rank(const struct pic_chip *c, unsigned ir)
{
	return (ir - c->lowest - 1) & 7;
}

/* The highest-priority IR whose bit is set in bits, or -1. */
static int pic_chip_highest(const struct pic_chip *c, u8 bits)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		unsigned ir = (c->lowest + 1 + i) & 7;

		if (bits & BIT(ir))
			return (int)ir;
	}
	return -1;
}

/*
 * The request the priority resolver would signal on INT, or -1. A request
 * must outrank every level in service; in special mask mode, masked levels
 * in service do not count; in special fully nested mode the master lets a
 * further request from the in-service slave through (8259A datasheet,
 * "Special Fully Nested Mode", "Special Mask Mode").
 */
static int pic_chip_request(const struct pic_chip *c, bool cascade)
{
	u8 in_service = c->isr;
	int req, svc;

	if (c->special_mask)
		in_service &= (u8)~c->imr;
	req = pic_chip_highest(c, c->irr & (u8)~c->imr);
	if (req < 0)
		return -1;
	svc = pic_chip_highest(c, in_service);
	if (svc < 0)
		return req;
	if (pic_chip_rank(c, (unsigned)req) < pic_chip_rank(c, (unsigned)svc))
		return req;
	if (cascade && (c->icw4 & ICW4_SFNM) && req == PIC_CASCADE_IR &&
	    svc == PIC_CASCADE_IR)
		return req;
	return -1;
}

static void pic_chip_set_input(struct pic_chip *c, unsigned ir, bool level)
{
	u8 bit = (u8)BIT(ir);

	if (pic_chip_level(c, ir)) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (u8)~bit;
	} else if (level && !(c->line & bit)) {
		c->irr |= bit;
	}
	if (level)
		c->line |= bit;
	else
		c->line &= (u8)~bit;
}

/* Level inputs: IRR is the line, whatever it latched before. */
static void pic_chip_resync_levels(struct pic_chip *c)
{
	u8 lvl = pic_chip_level_mask(c);

	c->irr = (u8)((c->irr & ~lvl) | (c->line & lvl));
}

/* The INTA cycle on one chip for request ir. */
static void pic_chip_ack(struct pic_chip *c, unsigned ir)
{
	u8 bit = (u8)BIT(ir);

	if (!pic_chip_level(c, ir))
		c->irr &= (u8)~bit;
	if (!(c->icw4 & ICW4_AEOI))
		c->isr |= bit;
	else if (c->rotate_aeoi)
		c->lowest = (u8)ir;
}

static bool pic_cascaded(const struct pic *p)
{
	return !(p->s.chip[0].icw1 & ICW1_SNGL);
}

static void pic_update(struct pic *p)
{
	struct pic_chip *m = &p->s.chip[0];
	bool intr;

	pic_chip_set_input(m, PIC_CASCADE_IR,
			   pic_chip_request(&p->s.chip[1], false) >= 0);
	intr = pic_chip_request(m, pic_cascaded(p)) >= 0;
	if (intr == p->intr)
		return;
	p->intr = intr;
	if (p->intr_changed)
		p->intr_changed(p->opaque, intr);
}

void pic_set_irq(void *opaque, unsigned irq, bool level)
{
	struct pic *p = opaque;

	/* IRQ 2 is the cascade input: no ISA device drives it. */
	if (irq >= 16 || irq == PIC_CASCADE_IR) {
		log_guest_once("pic", "irq %u is not a PIC input", irq);
		return;
	}
	pic_chip_set_input(&p->s.chip[irq >> 3], irq & 7, level);
	pic_update(p);
}

/* Second half of a cascaded INTA: the slave puts its vector on the bus. */
static int pic_slave_ack(struct pic *p)
{
	struct pic_chip *sl = &p->s.chip[1];
	int ir = pic_chip_request(sl, false);

	if (ir < 0)
		ir = PIC_SPURIOUS_IR; /* the master's ISR bit 2 stays set */
	else
		pic_chip_ack(sl, (unsigned)ir);
	/*
	 * The slave dropped INT for the acknowledge; if it still requests
	 * (AEOI, special mask), the master must see a fresh edge on IR2.
	 */
	p->s.chip[0].line &= (u8)~BIT(PIC_CASCADE_IR);
	return sl->vector_base | ir;
}

int pic_intack(struct pic *p)
{
	struct pic_chip *m = &p->s.chip[0];
	int ir = pic_chip_request(m, pic_cascaded(p));
	int vector;

	if (ir < 0) {
		/* The request went away before INTA: datasheet IR7 default. */
		vector = m->vector_base | PIC_SPURIOUS_IR;
	} else {
		pic_chip_ack(m, (unsigned)ir);
		if (ir == PIC_CASCADE_IR && pic_cascaded(p))
			vector = pic_slave_ack(p);
		else
			vector = m->vector_base | ir;
	}
	pic_update(p);
	return vector;
}

bool pic_intr_pending(const struct pic *p)
{
	return p->intr;
}

/* Poll command: the read acts as INTA and returns the level (OCW3 P). */
static u8 pic_chip_poll(struct pic *p, struct pic_chip *c)
{
	bool cascade = c == &p->s.chip[0] && pic_cascaded(p);
	int ir = pic_chip_request(c, cascade);

	c->poll = 0;
	if (ir < 0)
		return 0;
	pic_chip_ack(c, (unsigned)ir);
	pic_update(p);
	return (u8)(0x80 | ir);
}

static void pic_chip_icw1(struct pic_chip *c, u8 v)
{
	/*
	 * ICW1 resets the edge sense circuit, clears IMR, gives IR7 the
	 * lowest priority, leaves special mask mode, selects IRR for reads
	 * and, without IC4, clears every ICW4 function.
	 */
	c->icw1 = v;
	c->icw4 = 0;
	c->imr = 0;
	c->isr = 0;
	c->irr = 0;
	c->lowest = 7;
	c->read_isr = 0;
	c->poll = 0;
	c->special_mask = 0;
	c->rotate_aeoi = 0;
	c->init_step = PIC_WANT_ICW2;
	pic_chip_resync_levels(c);
}

static void pic_chip_icw_data(struct pic_chip *c, u8 v, bool master)
{
	switch (c->init_step) {
	case PIC_WANT_ICW2:
		c->vector_base = v & 0xf8;
		if (!(c->icw1 & ICW1_SNGL))
			c->init_step = PIC_WANT_ICW3;
		else
			c->init_step = (c->icw1 & ICW1_IC4) ? PIC_WANT_ICW4 :
							      PIC_READY;
		break;
	case PIC_WANT_ICW3:
		c->icw3 = v;
		if (v != (master ? BIT(PIC_CASCADE_IR) : PIC_CASCADE_IR))
			log_guest_once("pic", "ICW3 %#x: slave stays on IR2",
				       v);
		c->init_step = (c->icw1 & ICW1_IC4) ? PIC_WANT_ICW4 : PIC_READY;
		break;
	default:
		c->icw4 = v;
		if (!(v & ICW4_UPM))
			log_guest_once("pic",
				       "MCS-80 mode: using 8086 vectors");
		c->init_step = PIC_READY;
		break;
	}
}

static void pic_chip_ocw2(struct pic_chip *c, u8 v)
{
	unsigned level = v & 7;
	int ir;

	switch ((enum pic_ocw2)(v >> 5)) {
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_aeoi = 0;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = 1;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		ir = pic_chip_highest(c, c->isr);
		if (ir < 0)
			break;
		c->isr &= (u8)~BIT(ir);
		if ((v >> 5) == OCW2_ROTATE_EOI)
			c->lowest = (u8)ir;
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (u8)~BIT(level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= (u8)~BIT(level);
		c->lowest = (u8)level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = (u8)level;
		break;
	case OCW2_NOP:
		break;
	}
}

static void pic_chip_ocw3(struct pic_chip *c, u8 v)
{
	if (v & OCW3_POLL)
		c->poll = 1;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	if (v & OCW3_ESMM)
		c->special_mask = (v & OCW3_SMM) ? 1 : 0;
}

static void pic_chip_write(struct pic *p, unsigned idx, u16 offset, u8 v)
{
	struct pic_chip *c = &p->s.chip[idx];

	if (offset == 0) {
		if (v & ICW1_INIT)
			pic_chip_icw1(c, v);
		else if (v & OCW3_SEL)
			pic_chip_ocw3(c, v);
		else
			pic_chip_ocw2(c, v);
	} else if (c->init_step != PIC_READY) {
		pic_chip_icw_data(c, v, idx == 0);
	} else {
		c->imr = v; /* OCW1 */
	}
	pic_update(p);
}

static u8 pic_chip_read(struct pic *p, unsigned idx, u16 offset)
{
	struct pic_chip *c = &p->s.chip[idx];

	if (c->poll)
		return pic_chip_poll(p, c);
	if (offset == 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static u32 pic_master_read(void *opaque, u16 offset, unsigned size)
{
	return pic_chip_read(opaque, 0, offset);
}

static void pic_master_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	pic_chip_write(opaque, 0, offset, (u8)value);
}

static u32 pic_slave_read(void *opaque, u16 offset, unsigned size)
{
	return pic_chip_read(opaque, 1, offset);
}

static void pic_slave_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	pic_chip_write(opaque, 1, offset, (u8)value);
}

static u32 pic_elcr_read(void *opaque, u16 offset, unsigned size)
{
	struct pic *p = opaque;

	return p->s.chip[offset & 1].elcr;
}

static void pic_elcr_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct pic *p = opaque;
	struct pic_chip *c = &p->s.chip[offset & 1];

	c->elcr = (u8)value & pic_elcr_writable[offset & 1];
	pic_chip_resync_levels(c);
	pic_update(p);
}

static const struct pio_ops pic_master_ops = {
	.name = "pic-master",
	.read = pic_master_read,
	.write = pic_master_write,
};

static const struct pio_ops pic_slave_ops = {
	.name = "pic-slave",
	.read = pic_slave_read,
	.write = pic_slave_write,
};

static const struct pio_ops pic_elcr_ops = {
	.name = "elcr",
	.read = pic_elcr_read,
	.write = pic_elcr_write,
};

static void pic_reset(void *opaque)
{
	struct pic *p = opaque;
	unsigned i;

	/* Input levels belong to the devices driving them: keep them. */
	for (i = 0; i < 2; i++) {
		u8 line = p->s.chip[i].line;

		p->s.chip[i] = (struct pic_chip){.lowest = 7, .line = line};
	}
	pic_update(p);
}

static int pic_save(void *opaque, struct snap_writer *w)
{
	struct pic *p = opaque;

	return snap_put(w, "pic", PIC_SAVE_VERSION, &p->s, sizeof(p->s));
}

static int pic_load(void *opaque, const struct snap_reader *r)
{
	struct pic *p = opaque;
	struct pic_state s;
	unsigned i;
	int ret;

	ret = snap_get(r, "pic", PIC_SAVE_VERSION, &s, sizeof(s));
	if (ret)
		return ret;
	for (i = 0; i < 2; i++) {
		struct pic_chip *c = &s.chip[i];

		if (c->init_step > PIC_WANT_ICW4 || c->lowest > 7)
			return -EINVAL;
		c->elcr &= pic_elcr_writable[i];
	}
	p->s = s;
	pic_update(p);
	return 0;
}

static const struct {
	u16 port;
	const struct pio_ops *ops;
} pic_ranges[] = {
	{PIC_MASTER_PORT, &pic_master_ops},
	{PIC_SLAVE_PORT, &pic_slave_ops},
	{PIC_ELCR_PORT, &pic_elcr_ops},
};

static void pic_unregister(struct pic *p, unsigned n)
{
	while (n--)
		pio_unregister(p->pio, pic_ranges[n].port);
}

static void pic_destroy(void *opaque)
{
	struct pic *p = opaque;

	pic_unregister(p, ARRAY_SIZE(pic_ranges));
	free(p);
}

static const struct device_ops pic_device_ops = {
	.name = "pic",
	.reset = pic_reset,
	.save = pic_save,
	.load = pic_load,
	.destroy = pic_destroy,
};

struct device pic_device(struct pic *pic)
{
	return (struct device){.ops = &pic_device_ops, .opaque = pic};
}

struct pic *pic_create(struct pio_bus *pio,
		       void (*intr_changed)(void *opaque, bool level),
		       void *opaque)
{
	struct pic *p = calloc(1, sizeof(*p));
	unsigned i;

	if (!p)
		return NULL;
	p->pio = pio;
	p->intr_changed = intr_changed;
	p->opaque = opaque;
	for (i = 0; i < ARRAY_SIZE(pic_ranges); i++) {
		if (pio_register(pio, pic_ranges[i].port, 2, pic_ranges[i].ops,
				 p)) {
			pic_unregister(p, i);
			free(p);
			return NULL;
		}
	}
	pic_reset(p);
	return p;
}

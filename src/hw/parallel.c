// SPDX-License-Identifier: MIT
/*
 * SPP parallel port (IBM PC Technical Reference, "Printer Adapter"; IEEE
 * 1284 compatibility mode), three registers at base:
 *
 *   +0 data     written by the host; read back (or the printer's lines
 *               while the PS/2 direction bit selects input)
 *   +1 status   7 nBUSY (1: ready), 6 nACK, 5 PE, 4 SELECT, 3 nERROR,
 *               2 nIRQ; bits 1:0 read 1
 *   +2 control  0 STROBE, 1 AUTOFD, 2 nINIT, 3 SELECTIN, 4 IRQ enable,
 *               5 direction (PS/2: 1 = data lines are inputs); 7:6 read 1
 *
 * The emulated printer is always ready: online, paper in, no error, never
 * busy. A byte is taken on the falling edge of STROBE (the host raises it
 * for a microsecond with the data stable, then drops it), followed by an
 * nACK pulse, which raises the IRQ when control bit 4 enables it (ISA IRQs
 * are edge triggered: the line goes high and low again).
 */
#include <stdio.h>
#include <stdlib.h>

#include "chardev/ppdev.h"
#include "hw/parallel.h"

#define LPT_DATA 0
#define LPT_STATUS 1
#define LPT_CONTROL 2
#define LPT_PORTS 3

#define ST_NIRQ 0x04
#define ST_NERROR 0x08
#define ST_SELECT 0x10
#define ST_NACK 0x40
#define ST_NBUSY 0x80
#define ST_RESERVED 0x03
/* A ready printer: not busy, no ACK pulse, online, no error. */
#define ST_READY (ST_NBUSY | ST_NACK | ST_SELECT | ST_NERROR | ST_NIRQ)

#define CTL_STROBE 0x01
#define CTL_IRQ_EN 0x10
#define CTL_DIR 0x20
#define CTL_WRITABLE 0x3f
#define CTL_RESERVED 0xc0
/* Power-on: nINIT high (bit 2), everything else low. */
#define CTL_RESET 0x04

#define PARALLEL_SAVE_VERSION 1

struct parallel_state {
	u8 data;
	u8 control;
	u8 status_irq; /* ST_NIRQ clear after an ACK until status is read */
};

struct parallel {
	struct parallel_state s;
	struct pio_bus *pio;
	u16 base;
	struct irq_line irq;
	struct chardev *backend;
	int ppdev_fd; /* a host port, or -1: the emulated printer */
	char snap_name[16];
};

/* Pass-through: the host port's lines follow the guest's registers. */
static void parallel_write_host(struct parallel *p, u16 offset, u8 v)
{
	if (offset == LPT_DATA) {
		p->s.data = v;
		ppdev_write_data(p->ppdev_fd, v);
	} else if (offset == LPT_CONTROL) {
		if ((v ^ p->s.control) & CTL_DIR)
			ppdev_set_direction(p->ppdev_fd, v & CTL_DIR);
		p->s.control = v & CTL_WRITABLE;
		ppdev_write_control(p->ppdev_fd, v);
	}
}

static u32 parallel_read(void *opaque, u16 offset, unsigned size)
{
	struct parallel *p = opaque;
	u8 v;

	if (p->ppdev_fd >= 0) {
		if (offset == LPT_DATA)
			return ppdev_read_data(p->ppdev_fd);
		if (offset == LPT_STATUS)
			return ppdev_read_status(p->ppdev_fd);
		return p->s.control | CTL_RESERVED;
	}
	switch (offset) {
	case LPT_DATA:
		/* Input mode: the printer drives nothing, the lines float high.
		 */
		return p->s.control & CTL_DIR ? 0xff : p->s.data;
	case LPT_STATUS:
		v = (u8)((ST_READY & ~ST_NIRQ) | ST_RESERVED | p->s.status_irq);
		p->s.status_irq = ST_NIRQ;
		return v;
	default:
		return p->s.control | CTL_RESERVED;
	}
}

static void parallel_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct parallel *p = opaque;
	u8 old = p->s.control;

	if (p->ppdev_fd >= 0) {
		parallel_write_host(p, offset, (u8)value);
		return;
	}
	switch (offset) {
	case LPT_DATA:
		p->s.data = (u8)value;
		break;
	case LPT_CONTROL:
		p->s.control = (u8)(value & CTL_WRITABLE);
		/* Falling STROBE: the printer takes the byte and ACKs. */
		if ((old & CTL_STROBE) && !(value & CTL_STROBE) &&
		    !(p->s.control & CTL_DIR)) {
			chardev_write(p->backend, &p->s.data, 1);
			p->s.status_irq = 0;
			if (p->s.control & CTL_IRQ_EN) {
				irq_set(&p->irq, true);
				irq_set(&p->irq, false);
			}
		}
		break;
	default:
		break; /* status is read-only */
	}
}

static const struct pio_ops parallel_pio_ops = {
	.name = "parallel",
	.read = parallel_read,
	.write = parallel_write,
};

static void parallel_reset(void *opaque)
{
	struct parallel *p = opaque;

	p->s = (struct parallel_state){.control = CTL_RESET,
				       .status_irq = ST_NIRQ};
	irq_set(&p->irq, false);
}

static int parallel_save(void *opaque, struct snap_writer *w)
{
	struct parallel *p = opaque;

	return snap_put(w, p->snap_name, PARALLEL_SAVE_VERSION, &p->s,
			sizeof(p->s));
}

static int parallel_load(void *opaque, const struct snap_reader *r)
{
	struct parallel *p = opaque;
	struct parallel_state s;
	int ret =
		snap_get(r, p->snap_name, PARALLEL_SAVE_VERSION, &s, sizeof(s));

	if (ret)
		return ret;
	p->s.data = s.data;
	p->s.control = s.control & CTL_WRITABLE;
	p->s.status_irq = s.status_irq & ST_NIRQ;
	return 0;
}

static void parallel_destroy(void *opaque)
{
	struct parallel *p = opaque;

	pio_unregister(p->pio, p->base);
	if (p->ppdev_fd >= 0)
		ppdev_close(p->ppdev_fd);
	free(p);
}

static const struct device_ops parallel_device_ops = {
	.name = "parallel",
	.reset = parallel_reset,
	.save = parallel_save,
	.load = parallel_load,
	.destroy = parallel_destroy,
};

struct device parallel_device(struct parallel *lpt)
{
	return (struct device){&parallel_device_ops, lpt};
}

struct parallel *parallel_create(struct pio_bus *pio, u16 base,
				 struct irq_line irq, struct chardev *backend)
{
	struct parallel *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pio = pio;
	p->base = base;
	p->irq = irq;
	p->backend = backend;
	p->ppdev_fd = -1;
	snprintf(p->snap_name, sizeof(p->snap_name), "lpt@%x", base);
	if (pio_register(pio, base, LPT_PORTS, &parallel_pio_ops, p)) {
		free(p);
		return NULL;
	}
	parallel_reset(p);
	return p;
}

struct parallel *parallel_create_ppdev(struct pio_bus *pio, u16 base,
				       struct irq_line irq, int fd)
{
	struct parallel *p = parallel_create(pio, base, irq, NULL);

	if (!p) {
		ppdev_close(fd);
		return NULL;
	}
	p->ppdev_fd = fd;
	ppdev_write_control(fd, p->s.control);
	return p;
}

// SPDX-License-Identifier: MIT
/*
 * Novell/Eagle NE2000 on the ISA bus: a DP8390 (hw/dp8390.c) behind 0x20
 * ports at a jumpered base (Linux's ne probes 0x300, 0x280, 0x320, 0x340,
 * 0x360, 0x380), registers at base+0x00, the data port at base+0x10 and
 * the reset port at base+0x1F, and one ISA interrupt line driven from the
 * chip's INT output (active high, level while ISR & IMR is non-zero).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hw/dp8390.h"
#include "hw/ne2000.h"

#define NE_ISA_SNAP_VERSION 1

struct ne2000_isa {
	struct ne2000 nic;
	struct pio_bus *pio;
	u16 io_base;
	struct irq_line irq;
	char snap_name[24];
};

static struct ne2000_isa *to_isa(void *opaque)
{
	return container_of((struct ne2000 *)opaque, struct ne2000_isa, nic);
}

static u32 ne_isa_read(void *opaque, u16 offset, unsigned size)
{
	return dp8390_io_read(&to_isa(opaque)->nic.chip, offset, size);
}

static void ne_isa_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	dp8390_io_write(&to_isa(opaque)->nic.chip, offset, value, size);
}

static const struct pio_ops ne_isa_pio_ops = {
	.name = "ne2000",
	.read = ne_isa_read,
	.write = ne_isa_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2 | PIO_SIZE4,
};

static void ne_isa_irq(void *opaque, bool level)
{
	irq_set(&to_isa(opaque)->irq, level);
}

static const struct dp8390_ops ne_isa_chip_ops = {
	.irq = ne_isa_irq,
};

static void ne_isa_reset(void *opaque)
{
	dp8390_power_on(&to_isa(opaque)->nic.chip);
}

static int ne_isa_save(void *opaque, struct snap_writer *w)
{
	struct ne2000_isa *n = to_isa(opaque);

	return dp8390_save(&n->nic.chip, w, n->snap_name);
}

static int ne_isa_load(void *opaque, const struct snap_reader *r)
{
	struct ne2000_isa *n = to_isa(opaque);

	return dp8390_load(&n->nic.chip, r, n->snap_name);
}

static void ne_isa_destroy(void *opaque)
{
	struct ne2000_isa *n = to_isa(opaque);

	dp8390_detach(&n->nic.chip);
	pio_unregister(n->pio, n->io_base);
	free(n);
}

static const struct device_ops ne_isa_device_ops = {
	.name = "ne2000-isa",
	.reset = ne_isa_reset,
	.save = ne_isa_save,
	.load = ne_isa_load,
	.destroy = ne_isa_destroy,
};

int ne2000_isa_create(struct pio_bus *pio, u16 io_base,
		      const struct irq_line *irq, const u8 mac[6],
		      struct net_port *port, struct ne2000 **out, char *err,
		      size_t errlen)
{
	struct ne2000_isa *n;
	int ret;

	if (io_base & (NE2000_IO_SIZE - 1) ||
	    io_base > PIO_PORTS - NE2000_IO_SIZE) {
		snprintf(err, errlen,
			 "NE2000 I/O base 0x%x is not a multiple of 0x20 below "
			 "0x10000",
			 io_base);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory for the NE2000");
		return -ENOMEM;
	}
	n->pio = pio;
	n->io_base = io_base;
	if (irq)
		n->irq = *irq;
	n->nic.device_ops = &ne_isa_device_ops;
	snprintf(n->snap_name, sizeof(n->snap_name), "ne2000@%x", io_base);
	dp8390_init(&n->nic.chip, mac, port, &ne_isa_chip_ops, &n->nic);
	ret = pio_register(pio, io_base, NE2000_IO_SIZE, &ne_isa_pio_ops,
			   &n->nic);
	if (ret < 0) {
		snprintf(err, errlen,
			 "NE2000 ports 0x%x-0x%x are already taken", io_base,
			 io_base + NE2000_IO_SIZE - 1);
		dp8390_detach(&n->nic.chip);
		free(n);
		return ret;
	}
	*out = &n->nic;
	return 0;
}

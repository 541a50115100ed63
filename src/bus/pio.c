// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "bus/io_trace.h"
#include "bus/pio.h"

struct pio_bus *pio_bus_new(void)
{
	io_trace_init();
	return calloc(1, sizeof(struct pio_bus));
}

void pio_bus_free(struct pio_bus *bus)
{
	unsigned port;

	if (!bus)
		return;
	for (port = 0; port < PIO_PORTS; port++) {
		struct pio_range *r = bus->port_owner[port];

		/* Free a range at its last port, after every reference. */
		if (r && (unsigned)r->base + r->len - 1 == port)
			free(r);
	}
	free(bus);
}

int pio_register_regs_port(struct pio_bus *bus, u16 port, pio_regs_fn fn,
			   void *opaque)
{
	if (bus->regs_fn)
		return -EBUSY;
	bus->regs_fn = fn;
	bus->regs_opaque = opaque;
	bus->regs_port = port;
	return 0;
}

int pio_register(struct pio_bus *bus, u16 base, u16 len,
		 const struct pio_ops *ops, void *opaque)
{
	struct pio_range *r;
	unsigned i;

	if (!len || (unsigned)base + len > PIO_PORTS)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (bus->port_owner[base + i])
			return -EBUSY;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct pio_range){ base, len, ops, opaque };
	for (i = 0; i < len; i++)
		bus->port_owner[base + i] = r;
	return 0;
}

void pio_unregister(struct pio_bus *bus, u16 base)
{
	struct pio_range *r = bus->port_owner[base];
	unsigned i;

	if (!r || r->base != base)
		return;
	for (i = 0; i < r->len; i++)
		bus->port_owner[base + i] = NULL;
	free(r);
}

static bool pio_range_takes(const struct pio_range *r, u16 port, unsigned size)
{
	return (r->ops->sizes & BIT(size)) &&
	       (unsigned)port + size <= (unsigned)r->base + r->len;
}

static u8 pio_read_byte(struct pio_bus *bus, u16 port)
{
	struct pio_range *r = bus->port_owner[port];

	if (!r || !r->ops->read)
		return 0xff;
	return (u8)r->ops->read(r->opaque, (u16)(port - r->base), 1);
}

static void pio_write_byte(struct pio_bus *bus, u16 port, u8 value)
{
	struct pio_range *r = bus->port_owner[port];

	if (r && r->ops->write)
		r->ops->write(r->opaque, (u16)(port - r->base), value, 1);
}

u32 pio_read(struct pio_bus *bus, u16 port, unsigned size)
{
	struct pio_range *r = bus->port_owner[port];
	u32 value = 0;
	unsigned i;

	if (io_trace_on)
		io_trace_pio(false, port, 0, size);
	if (r && size > 1 && pio_range_takes(r, port, size))
		return r->ops->read ? r->ops->read(r->opaque,
						   (u16)(port - r->base), size)
				    : 0xffffffffu >> (32 - 8 * size);
	if (size == 1)
		return pio_read_byte(bus, port);
	for (i = 0; i < size; i++)
		value |= (u32)pio_read_byte(bus, (u16)(port + i)) << (8 * i);
	return value;
}

void pio_write(struct pio_bus *bus, u16 port, u32 value, unsigned size)
{
	struct pio_range *r = bus->port_owner[port];
	unsigned i;

	if (io_trace_on)
		io_trace_pio(true, port, value, size);
	if (r && size > 1 && pio_range_takes(r, port, size)) {
		if (r->ops->write)
			r->ops->write(r->opaque, (u16)(port - r->base), value,
				      size);
		return;
	}
	if (size == 1) {
		pio_write_byte(bus, port, (u8)value);
		return;
	}
	for (i = 0; i < size; i++)
		pio_write_byte(bus, (u16)(port + i), (u8)(value >> (8 * i)));
}

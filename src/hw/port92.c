// SPDX-License-Identifier: MIT
/*
 * System control port A (0x92), the "fast A20" and fast reset port.
 * PIIX3 datasheet 2.6.1 (Port 92h): bit 1 gates A20, bit 0 (FAST_INIT)
 * resets the CPU on its 0->1 transition; the register reads back what was
 * written.
 */
#include <stdlib.h>

#include "core/log.h"
#include "hw/port92.h"

#define PORT92_PORT 0x92
#define PORT92_RESET BIT(0)
#define PORT92_A20 BIT(1)
#define PORT92_SNAP_VERSION 1

struct port92_state {
	u8 value;
};

struct port92 {
	struct port92_state s;
	struct i8042_host host;
};

static u32 port92_read(void *opaque, u16 offset, unsigned size)
{
	struct port92 *p = opaque;

	return p->s.value;
}

static void port92_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct port92 *p = opaque;
	u8 old = p->s.value;

	/* State first: the reset callback may reset this device too. */
	p->s.value = (u8)value;
	if (p->host.set_a20)
		p->host.set_a20(p->host.opaque, value & PORT92_A20);
	if (!(old & PORT92_RESET) && (value & PORT92_RESET) && p->host.reset)
		p->host.reset(p->host.opaque);
}

static const struct pio_ops port92_pio_ops = {
	.name = "port92",
	.read = port92_read,
	.write = port92_write,
};

static void port92_reset(void *opaque)
{
	struct port92 *p = opaque;

	p->s.value = 0;
}

static int port92_save(void *opaque, struct snap_writer *w)
{
	struct port92 *p = opaque;

	return snap_put(w, "port92", PORT92_SNAP_VERSION, &p->s, sizeof(p->s));
}

static int port92_load(void *opaque, const struct snap_reader *r)
{
	struct port92 *p = opaque;

	return snap_get(r, "port92", PORT92_SNAP_VERSION, &p->s, sizeof(p->s));
}

static void port92_destroy(void *opaque)
{
	free(opaque);
}

static const struct device_ops port92_device_ops = {
	.name = "port92",
	.reset = port92_reset,
	.save = port92_save,
	.load = port92_load,
	.destroy = port92_destroy,
};

struct device port92_device(struct port92 *p)
{
	return (struct device){&port92_device_ops, p};
}

struct port92 *port92_create(struct pio_bus *pio, const struct i8042_host *host)
{
	struct port92 *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (host)
		p->host = *host;
	if (pio_register(pio, PORT92_PORT, 1, &port92_pio_ops, p) < 0) {
		log_error("port92", "port 0x%x is already taken", PORT92_PORT);
		free(p);
		return NULL;
	}
	return p;
}

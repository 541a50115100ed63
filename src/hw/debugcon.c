// SPDX-License-Identifier: MIT
/*
 * The firmware debug console (SeaBIOS's debug port, 0x402 by default).
 * Firmware writes one byte at a time, so bytes are gathered and written to
 * the log a line at a time; destroy and reset write out whatever is left.
 * The device has no guest-visible state: reads always return 0xE9.
 */
#include <stdlib.h>
#include <string.h>

#include "chardev/chardev.h"
#include "core/log.h"
#include "hw/debugcon.h"

#define DEBUGCON_READBACK 0xe9
#define DEBUGCON_BUF 256

struct debugcon {
	int fd;
	size_t len;
	u8 buf[DEBUGCON_BUF];
	u64 written; /* bytes in the log: capped (CHARDEV_FILE_LIMIT) */
	bool full;
};

static void debugcon_flush(struct debugcon *dc)
{
	int ret;

	if (!dc->len)
		return;
	ret = chardev_fd_write_all(
		dc->fd, dc->buf,
		chardev_limit_take(&dc->written, dc->len, &dc->full));
	if (ret < 0)
		log_guest_once("debugcon", "debug log output lost: %s",
			       strerror(-ret));
	dc->len = 0;
}

static u32 debugcon_read(void *opaque, u16 offset, unsigned size)
{
	return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct debugcon *dc = opaque;

	if (dc->fd < 0)
		return;
	/*
	 * Write through: a reader of the log (a test, a person with tail -f)
	 * must see a marker at once even without a newline; firmware logs
	 * are small, so a write per byte costs nothing measurable.
	 */
	dc->buf[dc->len++] = (u8)value;
	debugcon_flush(dc);
}

static const struct pio_ops debugcon_pio_ops = {
	.name = "debugcon",
	.read = debugcon_read,
	.write = debugcon_write,
};

static void debugcon_reset(void *opaque)
{
	debugcon_flush(opaque);
}

/* Nothing the guest can observe; the pending partial line is written out. */
static int debugcon_save(void *opaque, struct snap_writer *w)
{
	debugcon_flush(opaque);
	return 0;
}

static int debugcon_load(void *opaque, const struct snap_reader *r)
{
	return 0;
}

static void debugcon_destroy(void *opaque)
{
	debugcon_flush(opaque);
	free(opaque);
}

static const struct device_ops debugcon_device_ops = {
	.name = "debugcon",
	.reset = debugcon_reset,
	.save = debugcon_save,
	.load = debugcon_load,
	.destroy = debugcon_destroy,
};

struct device debugcon_device(struct debugcon *dc)
{
	return (struct device){&debugcon_device_ops, dc};
}

struct debugcon *debugcon_create(struct pio_bus *pio, u16 port, int fd)
{
	struct debugcon *dc = calloc(1, sizeof(*dc));

	if (!dc)
		return NULL;
	dc->fd = fd;
	if (pio_register(pio, port, 1, &debugcon_pio_ops, dc) < 0) {
		log_error("debugcon", "port 0x%x is already taken", port);
		free(dc);
		return NULL;
	}
	return dc;
}

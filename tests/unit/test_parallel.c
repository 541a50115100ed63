// SPDX-License-Identifier: MIT
/*
 * The SPP parallel port (hw/parallel.c) as Linux's parport_pc probes it
 * and lp prints through it: registers, the strobe handshake into a file
 * back end, the ACK interrupt, the direction bit, save and load.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "hw/parallel.h"
#include "unit.h"

#define BASE PARALLEL_LPT1_BASE

static unsigned irq_edges;

static void rig_irq(void *opaque, unsigned pin, bool level)
{
	if (level)
		irq_edges++;
}

static void print_byte(struct pio_bus *pio, u8 b, u8 ctl)
{
	/* lp's compatibility-mode handshake (IEEE 1284, 4.2). */
	CHECK(pio_read(pio, BASE + 1, 1) & 0x80); /* not busy */
	pio_write(pio, BASE, b, 1);
	pio_write(pio, BASE + 2, ctl | 0x01, 1); /* STROBE */
	pio_write(pio, BASE + 2, ctl, 1);
}

static void test_probe_print_and_state(void)
{
	char path[] = "/tmp/twoostwo-lpt-XXXXXX", err[256], got[16] = "";
	struct pio_bus *pio = pio_bus_new();
	struct irq_line irq = {rig_irq, NULL, 7};
	struct chardev *cd;
	struct parallel *p;
	struct device dev;
	struct snap_writer w;
	struct snap_reader r;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	{
		char spec[64];

		snprintf(spec, sizeof(spec), "file:%s", path);
		CHECK_EQ(chardev_open(spec, NULL, &cd, err, sizeof(err)), 0);
	}
	p = parallel_create(pio, BASE, irq, cd);
	dev = parallel_device(p);
	/* parport_SPP_supported: control and data read back. */
	pio_write(pio, BASE + 2, 0x0c, 1);
	CHECK_EQ(pio_read(pio, BASE + 2, 1), 0xcc);
	pio_write(pio, BASE, 0xaa, 1);
	CHECK_EQ(pio_read(pio, BASE, 1), 0xaa);
	pio_write(pio, BASE, 0x55, 1);
	CHECK_EQ(pio_read(pio, BASE, 1), 0x55);
	/* A ready printer: online, paper, no error (lp_check_status). */
	CHECK_EQ(pio_read(pio, BASE + 1, 1) & 0xf8, 0xd8);
	print_byte(pio, 'h', 0x0c);
	print_byte(pio, 'i', 0x0c);
	CHECK_EQ(irq_edges, 0);
	pio_write(pio, BASE + 2, 0x1c, 1); /* IRQ enable */
	print_byte(pio, '\n', 0x1c);
	CHECK_EQ(irq_edges, 1);
	/* Input direction: no strobe output, data lines float high. */
	pio_write(pio, BASE + 2, 0x2c, 1);
	CHECK_EQ(pio_read(pio, BASE, 1), 0xff);
	pio_write(pio, BASE + 2, 0x2d, 1);
	pio_write(pio, BASE + 2, 0x2c, 1);
	/* Save, reset, load. */
	snap_writer_init(&w);
	CHECK_EQ(dev.ops->save(dev.opaque, &w), 0);
	dev.ops->reset(dev.opaque);
	CHECK_EQ(pio_read(pio, BASE + 2, 1), 0xc4);
	snap_reader_init(&r, w.buf, w.len);
	CHECK_EQ(dev.ops->load(dev.opaque, &r), 0);
	CHECK_EQ(pio_read(pio, BASE + 2, 1), 0xec);
	snap_writer_free(&w);
	dev.ops->destroy(dev.opaque);
	chardev_close(cd);
	fd = open(path, O_RDONLY);
	CHECK_EQ(read(fd, got, sizeof(got)), 3);
	CHECK_STR(got, "hi\n");
	close(fd);
	unlink(path);
	pio_bus_free(pio);
}

int main(void)
{
	RUN_TEST(test_probe_print_and_state);
	return unit_summary();
}

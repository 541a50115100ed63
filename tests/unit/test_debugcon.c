// SPDX-License-Identifier: MIT
/*
 * The debug console: bytes written to the port land in the log file in
 * order (a line at a time, the rest at destroy); reads return 0xE9.
 */
#include <stdlib.h>
#include <unistd.h>

#include "hw/debugcon.h"
#include "unit.h"

struct rig {
	struct pio_bus *pio;
	struct debugcon *dc;
	struct device dev;
	char path[32];
	int fd;
};

static void rig_init(struct rig *r)
{
	strcpy(r->path, "/tmp/test_debugcon_XXXXXX");
	r->fd = mkstemp(r->path);
	CHECK(r->fd >= 0);
	r->pio = pio_bus_new();
	r->dc = debugcon_create(r->pio, DEBUGCON_PORT, r->fd);
	CHECK(r->dc != NULL);
	r->dev = debugcon_device(r->dc);
}

static void rig_destroy_device(struct rig *r)
{
	r->dev.ops->destroy(r->dev.opaque);
	r->dc = NULL;
}

static void rig_free(struct rig *r)
{
	if (r->dc)
		rig_destroy_device(r);
	pio_bus_free(r->pio);
	close(r->fd);
	unlink(r->path);
}

static size_t file_contents(struct rig *r, char *buf, size_t len)
{
	ssize_t n = pread(r->fd, buf, len - 1, 0);

	CHECK(n >= 0);
	buf[n < 0 ? 0 : n] = 0;
	return n < 0 ? 0 : (size_t)n;
}

static void put_string(struct rig *r, const char *s)
{
	while (*s)
		pio_write(r->pio, DEBUGCON_PORT, (u8)*s++, 1);
}

static void test_read_returns_e9(void)
{
	struct rig r;

	rig_init(&r);
	CHECK_EQ(pio_read(r.pio, DEBUGCON_PORT, 1), 0xe9);
	rig_free(&r);
}

static void test_lines_reach_file(void)
{
	struct rig r;
	char buf[64];

	rig_init(&r);
	put_string(&r, "SeaBIOS (version 1.16)\n");
	CHECK_EQ(file_contents(&r, buf, sizeof(buf)), 23);
	CHECK_STR(buf, "SeaBIOS (version 1.16)\n");
	/* A 16-bit write is split: only its low byte is at 0x402. */
	pio_write(r.pio, DEBUGCON_PORT, 'b' << 8 | 'a', 2);
	put_string(&r, "\n");
	file_contents(&r, buf, sizeof(buf));
	CHECK_STR(buf, "SeaBIOS (version 1.16)\na\n");
	rig_free(&r);
}

static void test_partial_line_flushed_on_destroy(void)
{
	struct rig r;
	char buf[64];

	rig_init(&r);
	put_string(&r, "no newline");
	rig_destroy_device(&r);
	file_contents(&r, buf, sizeof(buf));
	CHECK_STR(buf, "no newline");
	rig_free(&r);
}

static void test_save_load(void)
{
	struct rig r;
	struct snap_writer w;
	struct snap_reader rd;
	char buf[64];

	rig_init(&r);
	put_string(&r, "pending");
	snap_writer_init(&w);
	CHECK_EQ(r.dev.ops->save(r.dev.opaque, &w), 0);
	/* Saving writes out the partial line so nothing is lost. */
	file_contents(&r, buf, sizeof(buf));
	CHECK_STR(buf, "pending");
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(r.dev.ops->load(r.dev.opaque, &rd), 0);
	CHECK_EQ(pio_read(r.pio, DEBUGCON_PORT, 1), 0xe9);
	snap_writer_free(&w);
	rig_free(&r);
}

static void test_no_log_file(void)
{
	struct pio_bus *pio = pio_bus_new();
	struct debugcon *dc = debugcon_create(pio, DEBUGCON_PORT, -1);
	struct device dev = debugcon_device(dc);
	unsigned i;

	for (i = 0; i < 1000; i++)
		pio_write(pio, DEBUGCON_PORT, 'x', 1);
	CHECK_EQ(pio_read(pio, DEBUGCON_PORT, 1), 0xe9);
	dev.ops->destroy(dev.opaque);
	pio_bus_free(pio);
}

static void test_hostile_writes(void)
{
	struct rig r;
	unsigned i, bytes = 0;
	off_t size;

	rig_init(&r);
	srand(42);
	for (i = 0; i < 100000; i++) {
		unsigned size_sel = (unsigned)rand() % 3;
		unsigned len = size_sel == 2 ? 4 : size_sel + 1;

		if (rand() & 1) {
			pio_write(r.pio, DEBUGCON_PORT, (u32)rand(), len);
			bytes++; /* only the byte at 0x402 itself is ours */
		} else {
			pio_read(r.pio, DEBUGCON_PORT, len);
		}
	}
	r.dev.ops->reset(r.dev.opaque);
	size = lseek(r.fd, 0, SEEK_END);
	CHECK_EQ(size, bytes);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_read_returns_e9);
	RUN_TEST(test_lines_reach_file);
	RUN_TEST(test_partial_line_flushed_on_destroy);
	RUN_TEST(test_save_load);
	RUN_TEST(test_no_log_file);
	RUN_TEST(test_hostile_writes);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * The bus access trace (bus/io_trace.h). Buffered stdio, flushed at exit;
 * capped so a guest cannot fill the disk through it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bus/io_trace.h"
#include "core/clock.h"

#define IO_TRACE_MAX_BYTES (256ull << 20)
/* Gaps shorter than this are not worth a record. */
#define IO_TRACE_MIN_GAP_NS (50 * NSEC_PER_USEC)

bool io_trace_on;
static FILE *io_trace_file;
static u64 io_trace_bytes, io_trace_last_ns;
static bool io_trace_tried;

void io_trace_init(void)
{
	const char *path = getenv("TWOOSTWO_IO_TRACE");

	if (io_trace_tried || !path || !*path)
		return;
	io_trace_tried = true;
	io_trace_file = fopen(path, "we");
	if (!io_trace_file) {
		perror(path);
		return;
	}
	io_trace_last_ns = clock_now_ns();
	io_trace_on = true;
}

static void io_trace_put(const u8 *rec, size_t len)
{
	if (io_trace_bytes + len > IO_TRACE_MAX_BYTES) {
		io_trace_on = false;
		fflush(io_trace_file);
		return;
	}
	fwrite(rec, 1, len, io_trace_file);
	io_trace_bytes += len;
}

static void io_trace_time(void)
{
	u64 now = clock_now_ns(), us = (now - io_trace_last_ns) / 1000;
	u8 rec[3];

	if (now - io_trace_last_ns < IO_TRACE_MIN_GAP_NS)
		return;
	io_trace_last_ns = now;
	if (us > 0xffff)
		us = 0xffff;
	rec[0] = IO_TRACE_TIME;
	rec[1] = (u8)us;
	rec[2] = (u8)(us >> 8);
	io_trace_put(rec, sizeof(rec));
}

static u8 io_trace_size_code(unsigned size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

static size_t io_trace_le(u8 *p, u64 v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
	return n;
}

void io_trace_pio(bool write, u16 port, u32 value, unsigned size)
{
	u8 rec[8];
	size_t n = 1;

	io_trace_time();
	rec[0] = (u8)((write ? IO_TRACE_PIO_OUT : IO_TRACE_PIO_IN) |
		      io_trace_size_code(size) << 4);
	n += io_trace_le(rec + n, port, 2);
	if (write)
		n += io_trace_le(rec + n, value, 4);
	io_trace_put(rec, n);
}

void io_trace_mmio(bool write, u64 addr, u64 value, unsigned size)
{
	u8 rec[16];
	size_t n = 1;

	if (addr > 0xffffffffu)
		return;
	io_trace_time();
	rec[0] = (u8)((write ? IO_TRACE_MMIO_W : IO_TRACE_MMIO_R) |
		      io_trace_size_code(size) << 4);
	n += io_trace_le(rec + n, addr, 4);
	if (write)
		n += io_trace_le(rec + n, value, 4);
	io_trace_put(rec, n);
}

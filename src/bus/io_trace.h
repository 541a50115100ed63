/* SPDX-License-Identifier: MIT */
/*
 * Debug only: TWOOSTWO_IO_TRACE=FILE in the environment records every port
 * and MMIO access the machine sees, and the time between them, in the
 * input format of the whole-machine fuzzer (fuzz/fuzz_machine.c), so real
 * guest boots seed its corpus. Off (one predictable branch) otherwise.
 *
 * Records, little-endian:
 *   IO_TRACE_PIO_OUT | size<<4, port u16, value u32
 *   IO_TRACE_PIO_IN  | size<<4, port u16
 *   IO_TRACE_MMIO_W  | size<<4, address u32, value u32
 *   IO_TRACE_MMIO_R  | size<<4, address u32
 *   IO_TRACE_TIME, microseconds u16
 * size is 0, 1, 2 for 1, 2, 4 bytes (3: 8 bytes, MMIO only).
 */
#ifndef TWOOSTWO_BUS_IO_TRACE_H
#define TWOOSTWO_BUS_IO_TRACE_H

#include <stdbool.h>

#include "core/types.h"

enum io_trace_op {
	IO_TRACE_PIO_OUT = 0,
	IO_TRACE_PIO_IN = 1,
	IO_TRACE_MMIO_W = 2,
	IO_TRACE_MMIO_R = 3,
	IO_TRACE_TIME = 6,
};

extern bool io_trace_on;

/* Open the trace file named by TWOOSTWO_IO_TRACE, once. */
void io_trace_init(void);
void io_trace_pio(bool write, u16 port, u32 value, unsigned size);
void io_trace_mmio(bool write, u64 addr, u64 value, unsigned size);

#endif

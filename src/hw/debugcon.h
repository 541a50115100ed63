/* SPDX-License-Identifier: MIT */
/*
 * The firmware debug console: every byte written to port 0x402 (SeaBIOS's
 * debug port) is appended to a log file. Reads return 0xE9, the value
 * SeaBIOS and QEMU use to detect the port.
 */
#ifndef TWOOSTWO_HW_DEBUGCON_H
#define TWOOSTWO_HW_DEBUGCON_H

#include "bus/pio.h"
#include "hw/device.h"

#define DEBUGCON_PORT 0x402

struct debugcon;

/* fd: an open file to append to (owned by the caller), or -1. */
struct debugcon *debugcon_create(struct pio_bus *pio, u16 port, int fd);
struct device debugcon_device(struct debugcon *dc);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * System control port A at 0x92 ("fast A20"): bit 1 gates address line 20,
 * a 0->1 transition of bit 0 resets the CPU. PIIX3 datasheet 2.6.1 /
 * IBM PS/2 technical reference.
 */
#ifndef TWOOSTWO_HW_PORT92_H
#define TWOOSTWO_HW_PORT92_H

#include "bus/pio.h"
#include "hw/device.h"
#include "hw/i8042.h"

struct port92;

struct port92 *port92_create(struct pio_bus *pio,
			     const struct i8042_host *host);
struct device port92_device(struct port92 *p);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The PC parallel port in SPP (standard, "compatibility") mode with the
 * PS/2 bidirectional bit: LPT1 at 0x378 IRQ 7, LPT2 at 0x278 IRQ 5. What
 * Linux's parport_pc + lp and DOS print through. The printer side is a
 * character back end: each byte the host strobes out is written to it.
 */
#ifndef TWOOSTWO_HW_PARALLEL_H
#define TWOOSTWO_HW_PARALLEL_H

#include "bus/irq.h"
#include "bus/pio.h"
#include "chardev/chardev.h"
#include "hw/device.h"

#define PARALLEL_LPT1_BASE 0x378
#define PARALLEL_LPT1_IRQ 7
#define PARALLEL_LPT2_BASE 0x278
#define PARALLEL_LPT2_IRQ 5

struct parallel;

struct parallel *parallel_create(struct pio_bus *pio, u16 base,
				 struct irq_line irq, struct chardev *backend);
/*
 * The same port passed through to a host port (chardev/ppdev.h): fd is a
 * claimed /dev/parportN, which the device closes.
 */
struct parallel *parallel_create_ppdev(struct pio_bus *pio, u16 base,
				       struct irq_line irq, int fd);
struct device parallel_device(struct parallel *lpt);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * National Semiconductor PC16550D UART with 16-byte FIFOs (COM1 0x3F8
 * IRQ 4, COM2 0x2F8 IRQ 3, ...), connected to a character backend.
 */
#ifndef TWOOSTWO_HW_UART16550_H
#define TWOOSTWO_HW_UART16550_H

#include "bus/irq.h"
#include "bus/pio.h"
#include "chardev/chardev.h"
#include "core/timer.h"
#include "hw/device.h"

struct uart16550;

struct uart16550 *uart16550_create(struct pio_bus *pio, u16 base,
				   struct irq_line irq,
				   struct timer_list *timers,
				   struct chardev *backend);
struct device uart16550_device(struct uart16550 *uart);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Intel 8254 programmable interval timer at 0x40-0x43 (channel 0 on IRQ 0,
 * channel 2 gated by port 0x61 for the speaker), plus port 0x61 (NMI status
 * and control: gate 2, speaker data, OUT2, refresh toggle). Counters run
 * from the host monotonic clock at 1.193182 MHz.
 */
#ifndef TWOOSTWO_HW_PIT_H
#define TWOOSTWO_HW_PIT_H

#include "bus/irq.h"
#include "bus/pio.h"
#include "core/timer.h"
#include "hw/device.h"

#define PIT_FREQ_HZ 1193182u

struct pit;

struct pit *pit_create(struct pio_bus *pio, struct timer_list *timers,
		       struct irq_line irq0);
struct device pit_device(struct pit *pit);

#endif

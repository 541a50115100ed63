/* SPDX-License-Identifier: MIT */
/*
 * Motorola MC146818 real-time clock and 128 bytes of CMOS RAM at 0x70/0x71
 * (bit 7 of the index port is the NMI mask). Time comes from the host's
 * wall clock at power-on and advances with the monotonic clock; periodic,
 * alarm and update-ended interrupts go to IRQ 8.
 */
#ifndef TWOOSTWO_HW_RTC_H
#define TWOOSTWO_HW_RTC_H

#include "bus/irq.h"
#include "bus/pio.h"
#include "core/timer.h"
#include "hw/device.h"

#define RTC_CMOS_SIZE 128

struct rtc;

struct rtc *rtc_create(struct pio_bus *pio, struct timer_list *timers,
		       struct irq_line irq8);
/* NVRAM contents the machine fills in (memory size, boot order...). */
void rtc_cmos_write(struct rtc *rtc, u8 index, u8 value);
u8 rtc_cmos_read(struct rtc *rtc, u8 index);
struct device rtc_device(struct rtc *rtc);

#endif

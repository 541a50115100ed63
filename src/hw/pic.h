/* SPDX-License-Identifier: MIT */
/*
 * Dual 8259A programmable interrupt controller (master at 0x20, slave at
 * 0xA0 cascaded on master IR2), with the PIIX3 edge/level control registers
 * (ELCR) at 0x4D0/0x4D1. Intel 8259A datasheet; PIIX3 datasheet 2.7.
 */
#ifndef TWOOSTWO_HW_PIC_H
#define TWOOSTWO_HW_PIC_H

#include "bus/pio.h"
#include "hw/device.h"

struct pic;

/* intr_changed reports the level of the INTR output to the CPU. */
struct pic *pic_create(struct pio_bus *pio,
		       void (*intr_changed)(void *opaque, bool level),
		       void *opaque);
/* Drive ISA IRQ line irq (0..15); matches irq_set_fn. */
void pic_set_irq(void *pic, unsigned irq, bool level);
/* Interrupt acknowledge: the vector to deliver (spurious: IR7/IR15). */
int pic_intack(struct pic *pic);
/* Whether INTR is asserted now. */
bool pic_intr_pending(const struct pic *pic);
struct device pic_device(struct pic *pic);

#endif

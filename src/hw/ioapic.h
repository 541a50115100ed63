/* SPDX-License-Identifier: MIT */
/*
 * Intel 82093AA I/O APIC at 0xFEC00000 with 24 redirection entries: ISA
 * IRQs 0-15 (IRQ 0 arrives on pin 2, as the MADT interrupt source
 * override says) and PCI PIRQs on pins 16-23. Messages go to the local
 * APIC. 82093AA datasheet, 3.2.
 */
#ifndef TWOOSTWO_HW_IOAPIC_H
#define TWOOSTWO_HW_IOAPIC_H

#include "bus/memory.h"
#include "hw/device.h"
#include "hw/lapic.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_PINS 24

struct ioapic;

struct ioapic *ioapic_create(struct phys_mem *mem, struct lapic *apic);
/* Drive input pin (0..23); matches irq_set_fn. */
void ioapic_set_irq(void *ioapic, unsigned pin, bool level);
/* The local APIC EOI'd a level-triggered vector: clear Remote IRR. */
void ioapic_eoi(void *ioapic, u8 vector);
struct device ioapic_device(struct ioapic *io);

#endif

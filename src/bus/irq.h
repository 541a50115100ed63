/* SPDX-License-Identifier: MIT */
/*
 * Interrupt lines. A device owns an irq_line and drives it high or low; it
 * does not know what is on the other end (a PIC input, an IOAPIC pin, both,
 * or nothing). Edge-triggered devices pulse the line (high, then low).
 */
#ifndef TWOOSTWO_BUS_IRQ_H
#define TWOOSTWO_BUS_IRQ_H

#include "core/types.h"

typedef void (*irq_set_fn)(void *opaque, unsigned pin, bool level);

struct irq_line {
	irq_set_fn set;
	void *opaque;
	unsigned pin;
};

static inline void irq_set(const struct irq_line *line, bool level)
{
	if (line->set)
		line->set(line->opaque, line->pin, level);
}

static inline void irq_raise(const struct irq_line *line)
{
	irq_set(line, true);
}

static inline void irq_lower(const struct irq_line *line)
{
	irq_set(line, false);
}

static inline void irq_pulse(const struct irq_line *line)
{
	irq_set(line, true);
	irq_set(line, false);
}

#endif

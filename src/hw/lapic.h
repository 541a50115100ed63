/* SPDX-License-Identifier: MIT */
/*
 * Local APIC of the (single) virtual processor, xAPIC mode, MMIO at the
 * address in IA32_APIC_BASE (default 0xFEE00000). Intel SDM vol. 3,
 * chapter 10: ID, version, TPR/PPR, EOI, LDR/DFR, SVR, ISR/TMR/IRR, ESR,
 * ICR (self IPIs), LVT (timer, LINT0/1, error, thermal, perf) and the
 * timer in one-shot, periodic and TSC-deadline modes.
 *
 * The processor's interrupt input is the APIC's output: lapic_pending()
 * says whether an interrupt can be delivered now, lapic_intack() returns
 * its vector. The 8259 PIC reaches the CPU through LINT0 in ExtINT mode
 * (or directly, while the APIC is globally disabled).
 */
#ifndef TWOOSTWO_HW_LAPIC_H
#define TWOOSTWO_HW_LAPIC_H

#include "bus/memory.h"
#include "core/timer.h"
#include "hw/device.h"

#define LAPIC_DEFAULT_BASE 0xfee00000u

struct lapic;

/*
 * Any of these may be NULL: no notification, an absent 8259 (ExtINT
 * reads 0xFF from the open bus) and a guest TSC equal to the host
 * monotonic clock in ns (a 1 GHz TSC with no offset).
 */
struct lapic_host {
	/* The APIC's output to the CPU changed (an interrupt is pending). */
	void (*intr_changed)(void *opaque, bool level);
	/* ExtINT delivery: ask the 8259 for its vector. */
	int (*extint_ack)(void *opaque);
	/* Current guest TSC, for the TSC-deadline timer. */
	u64 (*tsc)(void *opaque);
	void *opaque;
};

/*
 * The APIC timer counts at this bus clock before its divider: 1 GHz, the
 * guest TSC's rate, so a guest calibrating one against the other finds
 * a consistent ratio.
 */
#define LAPIC_BUS_HZ 1000000000u

struct lapic *lapic_create(struct phys_mem *mem, struct timer_list *timers,
			   const struct lapic_host *host);
/*
 * IA32_APIC_BASE MSR (0x1B): BSP bit 8 (read-only, set), global enable
 * bit 11, base in 35:12. set returns -EINVAL for reserved bits (the
 * guest gets #GP) and -EBUSY when the new base overlaps another MMIO
 * range (the base is left unchanged). While globally disabled the APIC
 * is gone from the address space and the 8259 drives INTR directly.
 */
u64 lapic_get_base(const struct lapic *apic);
int lapic_set_base(struct lapic *apic, u64 value);
/* TSC-deadline MSR (0x6E0). */
u64 lapic_get_tsc_deadline(const struct lapic *apic);
void lapic_set_tsc_deadline(struct lapic *apic, u64 deadline);
/* Level of the LINT0 pin (the 8259's INTR output). */
void lapic_set_lint0(struct lapic *apic, bool level);
/*
 * Whether a message for destination dest (physical APIC ID, or logical
 * under the LDR/DFR model when logical) reaches this APIC: SDM 10.6.2.
 * 0xFF is a broadcast in both modes. False while globally disabled.
 */
bool lapic_is_destination(const struct lapic *apic, u8 dest, bool logical);
/* A message from the IOAPIC: deliver vector (fixed / lowest priority). */
void lapic_deliver(struct lapic *apic, u8 vector, bool level_triggered);
bool lapic_pending(const struct lapic *apic);
/* Interrupt acknowledge: the vector to run (moves IRR -> ISR). */
int lapic_intack(struct lapic *apic);
/* Set in the TMR when a level-triggered interrupt is EOI'd. */
void lapic_set_eoi_notify(struct lapic *apic,
			  void (*eoi)(void *opaque, u8 vector), void *opaque);
struct device lapic_device(struct lapic *apic);

#endif

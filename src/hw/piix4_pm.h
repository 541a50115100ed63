/* SPDX-License-Identifier: MIT */
/*
 * Intel 82371AB PIIX4 function 3, power management (PCI 8086:7113 rev 3,
 * class 0x068000), the ACPI hardware of the PC (PIIX4 datasheet, 3.4 and
 * 7.2): a 64-byte I/O block at PMBA (config 0x40) while PMIOSE (config
 * 0x80 bit 0) is set, holding the ACPI PM1a event and control registers,
 * the 24-bit 3.579545 MHz PM timer and the GPE0 block. The SCI is a
 * level-triggered line (ISA IRQ 9 on the PC).
 *
 * There is no SMI handler: SCI_EN always reads 1, as the FADT's SMI_CMD = 0
 * ("always in ACPI mode") requires. Writing SUS_EN with SUS_TYP 0 (soft
 * off, the DSDT's \_S5) calls the power-off callback; other sleep types
 * are ignored (the DSDT declares none).
 */
#ifndef TWOOSTWO_HW_PIIX4_PM_H
#define TWOOSTWO_HW_PIIX4_PM_H

#include "bus/irq.h"
#include "bus/pci.h"
#include "core/timer.h"
#include "hw/device.h"

#define PIIX4_PM_IO_SIZE 64

/* Offsets in the I/O block (PIIX4 datasheet, 7.2). */
#define PIIX4_PM_PMSTS 0x00   /* ACPI PM1a_STS */
#define PIIX4_PM_PMEN 0x02    /* ACPI PM1a_EN */
#define PIIX4_PM_PMCNTRL 0x04 /* ACPI PM1a_CNT */
#define PIIX4_PM_PMTMR 0x08   /* ACPI PM_TMR, 24 bits */
#define PIIX4_PM_GPSTS 0x0c   /* ACPI GPE0_STS */
#define PIIX4_PM_GPEN 0x0e    /* ACPI GPE0_EN */

/* Block lengths as the FADT declares them. */
#define PIIX4_PM_EVT_LEN 4
#define PIIX4_PM_CNT_LEN 2
#define PIIX4_PM_TMR_LEN 4
#define PIIX4_PM_GPE0_LEN 4

/* PMCNTRL.SUS_TYP for soft off (datasheet 7.2.3); the DSDT's \_S5. */
#define PIIX4_PM_SUS_TYP_SOFF 0

#define PIIX4_PM_TIMER_HZ 3579545ull

struct piix4_pm;

/*
 * sci: the SCI output. power_off: called (with opaque) when the guest
 * enters S5.
 */
struct piix4_pm *piix4_pm_create(struct pci_bus *pci, u8 devfn,
				 struct timer_list *timers, struct irq_line sci,
				 void (*power_off)(void *opaque), void *opaque);
struct device piix4_pm_device(struct piix4_pm *pm);
/* Press the fixed-feature power button (the guest's orderly shutdown). */
void piix4_pm_power_button(struct piix4_pm *pm);

#endif

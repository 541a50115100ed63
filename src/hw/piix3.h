/* SPDX-License-Identifier: MIT */
/*
 * Intel 82371SB PIIX3 PCI-to-ISA bridge (PCI 8086:7000 at 00:01.0):
 * routes the four PCI interrupt lines PIRQA-D to ISA IRQs through config
 * registers 0x60-0x63 (bit 7 set: disabled), and owns the reset control
 * register at port 0xCF9 (PIIX3 datasheet, 2.2.9 and 4.1.13).
 */
#ifndef TWOOSTWO_HW_PIIX3_H
#define TWOOSTWO_HW_PIIX3_H

#include "bus/irq.h"
#include "bus/pci.h"
#include "hw/device.h"

struct piix3;

/*
 * isa_irq: the 16 ISA interrupt lines PIRQs are routed to. reset: called
 * for a hard or soft reset through 0xCF9.
 */
struct piix3 *piix3_create(struct pci_bus *pci, u8 devfn,
			   const struct irq_line isa_irq[16],
			   void (*reset)(void *opaque), void *opaque);
/*
 * The interrupt line of a PCI device's pin: device d, pin p (1 = INTA)
 * uses PIRQ[(d + p - 2) & 3] (the PIIX3 wiring SeaBIOS's $PIR describes).
 */
struct irq_line piix3_pci_irq(struct piix3 *piix, u8 devfn, u8 pin);
struct device piix3_device(struct piix3 *piix);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * NE2000-class network cards: one DP8390 core (hw/dp8390.c: registers,
 * remote DMA, card RAM, receive ring, filtering) behind two front ends:
 *
 *   ne2000_isa_create  Novell/Eagle NE2000 on the ISA bus: 0x20 ports at
 *                      a user-chosen base, an ISA IRQ line.
 *   rtl8029_create     Realtek RTL8029(AS) on PCI (10ec:8029): I/O BAR0,
 *                      INTA# through the PIIX3 PIRQ routing, an optional
 *                      expansion ROM (a network-boot ROM such as iPXE).
 *
 * The card reaches the wire through a net_port (net/net.h), which may be
 * NULL (no cable). Constructors return 0 or -errno with a one-line reason.
 */
#ifndef TWOOSTWO_HW_NE2000_H
#define TWOOSTWO_HW_NE2000_H

#include "bus/irq.h"
#include "bus/pci.h"
#include "bus/pio.h"
#include "hw/device.h"
#include "net/net.h"

struct ne2000;

int ne2000_isa_create(struct pio_bus *pio, u16 io_base,
		      const struct irq_line *irq, const u8 mac[6],
		      struct net_port *port, struct ne2000 **out, char *err,
		      size_t errlen);

/*
 * intx: the function's INTA# line as the machine routes it (PIIX3 PIRQ,
 * piix3_pci_irq()). rom/rom_size: expansion ROM image (copied), or
 * NULL/0 for none.
 */
int rtl8029_create(struct pci_bus *pci, u8 devfn, const struct irq_line *intx,
		   const u8 mac[6],
		   struct net_port *port, const u8 *rom, size_t rom_size,
		   struct ne2000 **out, char *err, size_t errlen);

struct device ne2000_device(struct ne2000 *nic);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * PCI bus 0 with configuration mechanism #1 (ports 0xCF8/0xCFC), as the
 * i440FX host bridge implements it (PCI Local Bus
 * Specification 3.0, 3.2.2.3.2).
 *
 * A function owns a 256-byte configuration space plus a write mask; the bus
 * applies generic rules (read-only bits, BAR sizing, command-register
 * decoding) and calls the function's hook for anything device-specific.
 * BARs are mapped onto the port and memory buses while the matching decode
 * bit of the command register is set.
 */
#ifndef TWOOSTWO_BUS_PCI_H
#define TWOOSTWO_BUS_PCI_H

#include "bus/memory.h"
#include "bus/pio.h"

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MULTI 0x80
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6
#define PCI_DEVFN(dev, fn) (((dev) << 3) | (fn))

struct pci_function;

struct pci_bar {
	u32 size; /* power of two; 0: BAR not implemented */
	bool io;
	const struct pio_ops *pio;   /* for I/O BARs */
	const struct mmio_ops *mmio; /* for memory BARs and the ROM */
	void *opaque;
	/* Set after pci_function_set_bar(): mapped as host memory instead */
	u8 *host;
	struct mem_dirty_log *dirty;
	u64 mapped_at; /* UINT64_MAX when not mapped */
};

struct pci_function_ops {
	/* Called after the generic rules updated config[addr..addr+size). */
	void (*config_written)(struct pci_function *f, u8 addr, unsigned size);
	/* Optional: produce device-specific config reads (rarely needed). */
	bool (*config_read)(struct pci_function *f, u8 addr, unsigned size,
			    u32 *value);
};

struct pci_function {
	u8 config[256];
	u8 wmask[256]; /* bits the guest may change */
	u8 w1c[256];   /* bits the guest clears by writing 1 (status) */
	u8 devfn;
	struct pci_bar bars[PCI_NUM_BARS + 1];
	const struct pci_function_ops *ops;
	void *opaque;
	struct pci_bus *bus;
};

struct pci_bus {
	struct pci_function *fn[256];
	u32 config_address;
	struct pio_bus *pio;
	struct phys_mem *mem;
	/*
	 * Port 0xCF9 (PIIX3 reset control register) sits inside the 0xCF8
	 * dword; byte accesses to it are handed to whoever owns reset.
	 */
	u8 (*rcr_read)(void *opaque);
	void (*rcr_write)(void *opaque, u8 value);
	void *rcr_opaque;
};

int pci_bus_init(struct pci_bus *bus, struct pio_bus *pio,
		 struct phys_mem *mem);

/* Fill the header and attach a function at devfn. */
void pci_function_init(struct pci_function *f, u16 vendor, u16 device,
		       u32 class_code, u8 revision);
int pci_bus_attach(struct pci_bus *bus, struct pci_function *f, u8 devfn);
/* Declare BAR n (PCI_ROM_SLOT for the expansion ROM). */
void pci_function_set_bar(struct pci_function *f, unsigned n, u32 size, bool io,
			  const void *ops, void *opaque);

u32 pci_config_read(struct pci_bus *bus, u8 devfn, u8 addr, unsigned size);
void pci_config_write(struct pci_bus *bus, u8 devfn, u8 addr, u32 value,
		      unsigned size);

/*
 * A saved configuration space back in place (resume): only the bits the
 * guest could have written are taken (a state file is untrusted input),
 * then the BARs are mapped as the command register and BAR values say.
 */
void pci_function_restore_config(struct pci_function *f, const u8 *config);

/* Device's INTx pin (1 = INTA), or 0. */
static inline u8 pci_function_pin(const struct pci_function *f)
{
	return f->config[PCI_INTERRUPT_PIN];
}

static inline bool pci_function_bus_master(const struct pci_function *f)
{
	return f->config[PCI_COMMAND] & PCI_COMMAND_MASTER;
}

#endif

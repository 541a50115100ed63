// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "bus/pci.h"
#include "core/log.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT 0xcfc
#define PCI_CONFIG_ENABLE 0x80000000u

void pci_function_init(struct pci_function *f, u16 vendor, u16 device,
		       u32 class_code, u8 revision)
{
	unsigned i;

	memset(f, 0, sizeof(*f));
	put_le16(&f->config[PCI_VENDOR_ID], vendor);
	put_le16(&f->config[PCI_DEVICE_ID], device);
	f->config[PCI_REVISION_ID] = revision;
	f->config[PCI_CLASS_PROG] = (u8)class_code;
	put_le16(&f->config[PCI_CLASS_DEVICE], (u16)(class_code >> 8));
	/* Command: I/O, memory, bus master, INTx disable are writable. */
	put_le16(&f->wmask[PCI_COMMAND], 0x0407);
	/* Status: the error bits are write-one-to-clear. */
	f->w1c[PCI_STATUS + 1] = 0xf9;
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	f->wmask[0x0c] = 0xff; /* cache line size */
	f->wmask[0x0d] = 0xff; /* latency timer */
	for (i = 0; i <= PCI_NUM_BARS; i++)
		f->bars[i].mapped_at = UINT64_MAX;
}

void pci_function_set_bar(struct pci_function *f, unsigned n, u32 size, bool io,
			  const void *ops, void *opaque)
{
	struct pci_bar *bar = &f->bars[n];
	u8 reg = n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BAR0 + 4 * n;
	u32 mask;

	bar->size = size;
	bar->io = io;
	bar->opaque = opaque;
	if (io)
		bar->pio = ops;
	else
		bar->mmio = ops;
	mask = ~(size - 1);
	if (n == PCI_ROM_SLOT)
		mask |= 1; /* ROM enable bit */
	else if (io)
		put_le32(&f->config[reg], 1); /* I/O space indicator */
	put_le32(&f->wmask[reg], mask);
}

static bool pci_bar_decoding(const struct pci_function *f, unsigned n)
{
	const struct pci_bar *bar = &f->bars[n];
	u16 cmd = get_le16(&f->config[PCI_COMMAND]);

	if (n == PCI_ROM_SLOT)
		return (cmd & PCI_COMMAND_MEMORY) &&
		       (get_le32(&f->config[PCI_ROM_ADDRESS]) & 1);
	return cmd & (bar->io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
}

static u64 pci_bar_address(const struct pci_function *f, unsigned n)
{
	u8 reg = n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BAR0 + 4 * n;
	u32 v = get_le32(&f->config[reg]);

	return f->bars[n].io ? (v & ~3u) : (v & ~15u) & ~(u32)1;
}

static void pci_bar_unmap(struct pci_function *f, unsigned n)
{
	struct pci_bar *bar = &f->bars[n];

	if (bar->mapped_at == UINT64_MAX)
		return;
	if (bar->io)
		pio_unregister(f->bus->pio, (u16)bar->mapped_at);
	else
		mem_unregister_mmio(f->bus->mem, bar->mapped_at);
	bar->mapped_at = UINT64_MAX;
}

/* Map or unmap every BAR to match the command register and BAR values. */
static void pci_update_bars(struct pci_function *f)
{
	unsigned n;

	for (n = 0; n <= PCI_NUM_BARS; n++) {
		struct pci_bar *bar = &f->bars[n];
		u64 addr = pci_bar_address(f, n);
		bool want = bar->size && pci_bar_decoding(f, n) && addr;
		int err;

		if (bar->io && addr + bar->size > PIO_PORTS)
			want = false;
		if (want && bar->mapped_at == addr)
			continue;
		pci_bar_unmap(f, n);
		if (!want)
			continue;
		if (bar->io)
			err = pio_register(f->bus->pio, (u16)addr,
					   (u16)bar->size, bar->pio,
					   bar->opaque);
		else if (bar->host)
			err = mem_register_host(f->bus->mem, addr, bar->size,
						bar->host, bar->dirty);
		else
			err = mem_register_mmio(f->bus->mem, addr, bar->size,
						bar->mmio, bar->opaque);
		if (err)
			log_guest_once("pci",
				       "BAR %u of %02x.%x at 0x%llx overlaps "
				       "another device",
				       n, f->devfn >> 3, f->devfn & 7,
				       (unsigned long long)addr);
		else
			bar->mapped_at = addr;
	}
}

int pci_bus_attach(struct pci_bus *bus, struct pci_function *f, u8 devfn)
{
	if (bus->fn[devfn])
		return -EBUSY;
	f->devfn = devfn;
	f->bus = bus;
	bus->fn[devfn] = f;
	/* A multi-function device announces it in function 0's header. */
	if ((devfn & 7) && bus->fn[devfn & ~7])
		bus->fn[devfn & ~7]->config[PCI_HEADER_TYPE] |=
			PCI_HEADER_TYPE_MULTI;
	return 0;
}

u32 pci_config_read(struct pci_bus *bus, u8 devfn, u8 addr, unsigned size)
{
	struct pci_function *f = bus->fn[devfn];
	u32 value = 0;
	unsigned i;

	if (!f)
		return 0xffffffffu >> (32 - 8 * size);
	if (f->ops && f->ops->config_read &&
	    f->ops->config_read(f, addr, size, &value))
		return value;
	for (i = 0; i < size && addr + i < 256; i++)
		value |= (u32)f->config[addr + i] << (8 * i);
	return value;
}

void pci_config_write(struct pci_bus *bus, u8 devfn, u8 addr, u32 value,
		      unsigned size)
{
	struct pci_function *f = bus->fn[devfn];
	unsigned i;

	if (!f)
		return;
	for (i = 0; i < size && addr + i < 256; i++) {
		u8 a = (u8)(addr + i), v = (u8)(value >> (8 * i));

		f->config[a] =
			(u8)((f->config[a] & ~f->wmask[a]) | (v & f->wmask[a]));
		f->config[a] &= (u8) ~(v & f->w1c[a]);
	}
	if (addr < 0x40 && (addr + size > PCI_COMMAND) &&
	    addr <= PCI_ROM_ADDRESS + 3)
		pci_update_bars(f);
	if (f->ops && f->ops->config_written)
		f->ops->config_written(f, addr, size);
}

void pci_function_restore_config(struct pci_function *f, const u8 *config)
{
	unsigned i;

	for (i = 0; i < sizeof(f->config); i++)
		f->config[i] = (u8)((f->config[i] & ~f->wmask[i]) |
				    (config[i] & f->wmask[i]));
	if (f->bus)
		pci_update_bars(f);
}

static u32 pci_host_read(void *opaque, u16 offset, unsigned size)
{
	struct pci_bus *bus = opaque;
	u32 ca = bus->config_address;

	if (offset == 1 && size == 1 && bus->rcr_read)
		return bus->rcr_read(bus->rcr_opaque);
	if (offset < 4) /* 0xCF8: only a dword access reaches the register */
		return size == 4 ? ca : 0xffffffffu >> (32 - 8 * size);
	if (!(ca & PCI_CONFIG_ENABLE) || (ca >> 16 & 0xff))
		return 0xffffffffu >> (32 - 8 * size);
	return pci_config_read(bus, (u8)(ca >> 8),
			       (u8)((ca & 0xfc) + (offset - 4)), size);
}

static void pci_host_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct pci_bus *bus = opaque;
	u32 ca = bus->config_address;

	if (offset == 1 && size == 1 && bus->rcr_write) {
		bus->rcr_write(bus->rcr_opaque, (u8)value);
		return;
	}
	if (offset < 4) {
		if (size == 4)
			bus->config_address = value & 0x80fffffcu;
		return;
	}
	if (!(ca & PCI_CONFIG_ENABLE) || (ca >> 16 & 0xff))
		return;
	pci_config_write(bus, (u8)(ca >> 8), (u8)((ca & 0xfc) + (offset - 4)),
			 value, size);
}

static const struct pio_ops pci_host_ops = {
	.name = "pci-host",
	.read = pci_host_read,
	.write = pci_host_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2 | PIO_SIZE4,
};

int pci_bus_init(struct pci_bus *bus, struct pio_bus *pio, struct phys_mem *mem)
{
	*bus = (struct pci_bus){.pio = pio, .mem = mem};
	return pio_register(pio, PCI_CONFIG_ADDRESS_PORT, 8, &pci_host_ops,
			    bus);
}

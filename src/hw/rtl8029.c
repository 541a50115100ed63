// SPDX-License-Identifier: MIT
/*
 * Realtek RTL8029AS: an NE2000-compatible DP8390 core (hw/dp8390.c) on PCI
 * (10ec:8029, class 0x020000). Facts from the RTL8029AS datasheet
 * (LS009.0): the 0x20 NE2000 ports in I/O BAR0 (Linux's ne2k-pci and iPXE
 * use 0x20 bytes), the chip ID 'P' 'C' at page 0 0x0A/0x0B, the page-3
 * configuration registers (9346CR, CONFIG0-3, HLTCLK, the ID 0x8029 at
 * 0x0E/0x0F), INTA#, and a boot ROM behind the expansion ROM BAR. The
 * 93C46 EEPROM is not modelled: the configuration it would load is fixed
 * (10BaseT, half duplex until the driver sets FUDUP, no boot ROM size).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/dp8390.h"
#include "hw/ne2000.h"

#define RTL_VENDOR 0x10ec
#define RTL_DEVICE 0x8029
#define RTL_CLASS 0x020000
#define RTL_REVISION 0x00
#define RTL_SNAP_VERSION 1
#define RTL_ROM_MIN 0x800u
#define RTL_ROM_MAX (1u << 20)

#define PCI_STATUS_INTERRUPT 0x08

/* Page-3 registers. */
#define RTL_9346CR 0x01
#define RTL_CONFIG0 0x03
#define RTL_CONFIG2 0x05
#define RTL_CONFIG3 0x06
#define RTL_HLTCLK 0x09
#define RTL_ID0 0x0e
#define RTL_ID1 0x0f

#define RTL_9346CR_EEM 0xc0 /* 11: config register write enable */
#define RTL_9346CR_RW 0xce  /* EEM, EECS, EESK, EEDI (EEDO reads 0) */
#define RTL_CONFIG2_RW 0xe0
#define RTL_CONFIG2_10BASET 0x40
#define RTL_CONFIG3_RW 0x46 /* FUDUP, SLEEP, PWRDN */

struct rtl8029_page3 {
	u8 cr9346, config2, config3, hltclk;
};

struct rtl8029 {
	struct ne2000 nic;
	struct pci_function pci;
	struct pci_bus *bus;
	struct irq_line intx;
	struct rtl8029_page3 p3;
	u8 *rom;
	u32 rom_size;
	char snap_name[24];
	char p3_name[32];
	char pci_name[32];
};

static struct rtl8029 *to_rtl(void *opaque)
{
	return container_of((struct ne2000 *)opaque, struct rtl8029, nic);
}

static u32 rtl_io_read(void *opaque, u16 offset, unsigned size)
{
	return dp8390_io_read(&to_rtl(opaque)->nic.chip, offset, size);
}

static void rtl_io_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	dp8390_io_write(&to_rtl(opaque)->nic.chip, offset, value, size);
}

static const struct pio_ops rtl_pio_ops = {
	.name = "rtl8029",
	.read = rtl_io_read,
	.write = rtl_io_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2 | PIO_SIZE4,
};

static u64 rtl_rom_read(void *opaque, u64 offset, unsigned size)
{
	struct rtl8029 *r = to_rtl(opaque);
	u64 v = 0;
	unsigned i;

	for (i = 0; i < size && i < 8; i++)
		if (offset + i < r->rom_size)
			v |= (u64)r->rom[offset + i] << (8 * i);
	return v;
}

static const struct mmio_ops rtl_rom_ops = {
	.name = "rtl8029-rom",
	.read = rtl_rom_read,
};

/* INTA# follows the chip unless the command register disables INTx. */
static void rtl_update_intx(struct rtl8029 *r)
{
	struct pci_function *f = &r->pci;
	bool level = r->nic.chip.irq_level;

	if (level)
		f->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		f->config[PCI_STATUS] &= (u8)~PCI_STATUS_INTERRUPT;
	if (get_le16(&f->config[PCI_COMMAND]) & PCI_COMMAND_INTX_DISABLE)
		level = false;
	irq_set(&r->intx, level);
}

static void rtl_chip_irq(void *opaque, bool level)
{
	rtl_update_intx(to_rtl(opaque));
}

static u8 rtl_page3_read(void *opaque, u8 reg)
{
	struct rtl8029 *r = to_rtl(opaque);

	switch (reg) {
	case RTL_9346CR:
		return r->p3.cr9346;
	case RTL_CONFIG0:
		return 0; /* no BNC cable */
	case RTL_CONFIG2:
		return r->p3.config2;
	case RTL_CONFIG3:
		return r->p3.config3;
	case RTL_ID0:
		return 0x29;
	case RTL_ID1:
		return 0x80;
	default:
		return 0;
	}
}

/* CONFIG2/3 take writes only with 9346CR in config-write mode (EEM=11). */
static void rtl_page3_write(void *opaque, u8 reg, u8 v)
{
	struct rtl8029 *r = to_rtl(opaque);
	bool cfg = (r->p3.cr9346 & RTL_9346CR_EEM) == RTL_9346CR_EEM;

	switch (reg) {
	case RTL_9346CR:
		r->p3.cr9346 = v & RTL_9346CR_RW;
		break;
	case RTL_CONFIG2:
		if (cfg)
			r->p3.config2 = (u8)((r->p3.config2 & ~RTL_CONFIG2_RW) |
					     (v & RTL_CONFIG2_RW));
		break;
	case RTL_CONFIG3:
		if (cfg)
			r->p3.config3 = (u8)((r->p3.config3 & ~RTL_CONFIG3_RW) |
					     (v & RTL_CONFIG3_RW));
		break;
	case RTL_HLTCLK:
		r->p3.hltclk = v;
		break;
	default:
		break;
	}
}

static const struct dp8390_ops rtl_chip_ops = {
	.irq = rtl_chip_irq,
	.page3_read = rtl_page3_read,
	.page3_write = rtl_page3_write,
	.rtl8029_id = true,
};

static void rtl_config_written(struct pci_function *f, u8 addr, unsigned size)
{
	if (addr <= PCI_COMMAND + 1 && addr + size > PCI_COMMAND)
		rtl_update_intx(f->opaque);
}

static const struct pci_function_ops rtl_pci_ops = {
	.config_written = rtl_config_written,
};

static void rtl_reset(void *opaque)
{
	struct rtl8029 *r = to_rtl(opaque);

	r->p3 = (struct rtl8029_page3){.config2 = RTL_CONFIG2_10BASET,
				       .hltclk = 'R'};
	dp8390_power_on(&r->nic.chip);
	rtl_update_intx(r);
}

static int rtl_save(void *opaque, struct snap_writer *w)
{
	struct rtl8029 *r = to_rtl(opaque);
	int err = dp8390_save(&r->nic.chip, w, r->snap_name);

	if (!err)
		err = snap_put(w, r->p3_name, RTL_SNAP_VERSION, &r->p3,
			       sizeof(r->p3));
	/* BAR0 and the command register: without them a resumed guest's
	 * driver talks to unmapped ports (transmit timeouts). */
	if (!err)
		err = snap_put(w, r->pci_name, RTL_SNAP_VERSION, r->pci.config,
			       sizeof(r->pci.config));
	return err;
}

static int rtl_load(void *opaque, const struct snap_reader *rd)
{
	struct rtl8029 *r = to_rtl(opaque);
	struct rtl8029_page3 p3;
	u8 config[256];
	int err = snap_get(rd, r->p3_name, RTL_SNAP_VERSION, &p3, sizeof(p3));

	if (!err)
		err = dp8390_load(&r->nic.chip, rd, r->snap_name);
	if (err)
		return err;
	r->p3 = p3;
	/* Absent in files from before it was saved: keep the reset space. */
	err = snap_get(rd, r->pci_name, RTL_SNAP_VERSION, config,
		       sizeof(config));
	if (!err)
		pci_function_restore_config(&r->pci, config);
	rtl_update_intx(r);
	return err == -ENOENT ? 0 : err;
}

static void rtl_free(struct rtl8029 *r)
{
	unsigned n;

	dp8390_detach(&r->nic.chip);
	if (r->pci.bus) {
		for (n = 0; n <= PCI_NUM_BARS; n++) {
			struct pci_bar *bar = &r->pci.bars[n];

			if (bar->mapped_at == UINT64_MAX)
				continue;
			if (bar->io)
				pio_unregister(r->bus->pio,
					       (u16)bar->mapped_at);
			else
				mem_unregister_mmio(r->bus->mem,
						    bar->mapped_at);
			bar->mapped_at = UINT64_MAX;
		}
		if (r->bus->fn[r->pci.devfn] == &r->pci)
			r->bus->fn[r->pci.devfn] = NULL;
	}
	free(r->rom);
	free(r);
}

static void rtl_destroy(void *opaque)
{
	rtl_free(to_rtl(opaque));
}

static const struct device_ops rtl_device_ops = {
	.name = "rtl8029",
	.reset = rtl_reset,
	.save = rtl_save,
	.load = rtl_load,
	.destroy = rtl_destroy,
};

/* The ROM BAR is a power of two, zero padded. */
static int rtl_copy_rom(struct rtl8029 *r, const u8 *rom, size_t rom_size,
			char *err, size_t errlen)
{
	u32 size = RTL_ROM_MIN;

	if (!rom || !rom_size)
		return 0;
	if (rom_size > RTL_ROM_MAX) {
		snprintf(err, errlen,
			 "RTL8029 boot ROM of %zu bytes is larger than 1 MiB",
			 rom_size);
		return -EFBIG;
	}
	while (size < rom_size)
		size <<= 1;
	r->rom = calloc(1, size);
	if (!r->rom) {
		snprintf(err, errlen, "out of memory for the RTL8029 ROM");
		return -ENOMEM;
	}
	memcpy(r->rom, rom, rom_size);
	r->rom_size = size;
	return 0;
}

static void rtl_pci_init(struct rtl8029 *r)
{
	struct pci_function *f = &r->pci;

	pci_function_init(f, RTL_VENDOR, RTL_DEVICE, RTL_CLASS, RTL_REVISION);
	put_le16(&f->config[PCI_STATUS], 0x0200); /* DEVSEL medium */
	put_le16(&f->config[PCI_SUBSYSTEM_VENDOR_ID], RTL_VENDOR);
	put_le16(&f->config[PCI_SUBSYSTEM_ID], RTL_DEVICE);
	f->config[PCI_INTERRUPT_PIN] = 1; /* INTA# */
	pci_function_set_bar(f, 0, NE2000_IO_SIZE, true, &rtl_pio_ops, &r->nic);
	if (r->rom)
		pci_function_set_bar(f, PCI_ROM_SLOT, r->rom_size, false,
				     &rtl_rom_ops, &r->nic);
	f->ops = &rtl_pci_ops;
	f->opaque = r;
}

int rtl8029_create(struct pci_bus *pci, u8 devfn, const struct irq_line *intx,
		   const u8 mac[6], struct net_port *port, const u8 *rom,
		   size_t rom_size, struct ne2000 **out, char *err,
		   size_t errlen)
{
	struct rtl8029 *r = calloc(1, sizeof(*r));
	int ret;

	if (!r) {
		snprintf(err, errlen, "out of memory for the RTL8029");
		return -ENOMEM;
	}
	r->bus = pci;
	if (intx)
		r->intx = *intx;
	r->nic.device_ops = &rtl_device_ops;
	snprintf(r->snap_name, sizeof(r->snap_name), "rtl8029@%02x.%x",
		 devfn >> 3, devfn & 7);
	snprintf(r->p3_name, sizeof(r->p3_name), "%s-config", r->snap_name);
	snprintf(r->pci_name, sizeof(r->pci_name), "%s-pci", r->snap_name);
	ret = rtl_copy_rom(r, rom, rom_size, err, errlen);
	if (ret) {
		free(r);
		return ret;
	}
	rtl_pci_init(r);
	ret = pci_bus_attach(pci, &r->pci, devfn);
	if (ret) {
		snprintf(err, errlen, "PCI slot %02x.%x is already taken",
			 devfn >> 3, devfn & 7);
		r->pci.bus = NULL;
		rtl_free(r);
		return ret;
	}
	dp8390_init(&r->nic.chip, mac, port, &rtl_chip_ops, &r->nic);
	rtl_reset(&r->nic);
	*out = &r->nic;
	return 0;
}

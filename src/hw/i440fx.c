// SPDX-License-Identifier: MIT
/*
 * Intel 82441FX PMC, the i440FX host bridge (82441FX datasheet, 3.2). The
 * guest sees its configuration space; the only registers with an effect
 * are the PAM registers, which route each 16 KiB segment of
 * 0xC0000-0xFFFFF to RAM or ROM, separately for reads and writes.
 */
#include <stdlib.h>

#include "hw/i440fx.h"

#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define I440FX_CLASS 0x060000 /* bridge, host */
#define I440FX_REVISION 0x02

/*
 * QEMU's subsystem identity: SeaBIOS recognizes the platform by it
 * (HARDWARE.md, section 4, "Subsystem ID 1af4:1100").
 */
#define I440FX_SUBSYS_VENDOR 0x1af4
#define I440FX_SUBSYS_ID 0x1100

/* PAM0-PAM6 (datasheet 3.2.18): PAM0 bits 5:4 cover 0xF0000-0xFFFFF. */
#define I440FX_PAM0 0x59
#define I440FX_PAM_COUNT 7
#define I440FX_SMRAM 0x72

/* Shadow segments 12..15 form the 64 KiB BIOS area that PAM0 controls. */
#define I440FX_BIOS_SEG_FIRST 12

struct i440fx {
	struct pci_function fn;
	struct phys_mem *mem;
};

/* The PAM attribute (RE bit 0, WE bit 1) of shadow segment seg. */
static enum mem_shadow_mode i440fx_pam_mode(const struct i440fx *hb,
					    unsigned seg)
{
	u8 reg, shift;

	if (seg >= I440FX_BIOS_SEG_FIRST) {
		reg = I440FX_PAM0;
		shift = 4;
	} else {
		/* PAM1 low nibble: 0xC0000, high nibble: 0xC4000, ... */
		reg = (u8)(I440FX_PAM0 + 1 + seg / 2);
		shift = (u8)(seg % 2 * 4);
	}
	return (enum mem_shadow_mode)(hb->fn.config[reg] >> shift & 3);
}

static void i440fx_update_pam(struct i440fx *hb)
{
	unsigned seg;

	for (seg = 0; seg < MEM_SHADOW_SEGS; seg++)
		mem_set_shadow_mode(hb->mem, seg, i440fx_pam_mode(hb, seg));
}

static void i440fx_config_written(struct pci_function *f, u8 addr,
				  unsigned size)
{
	struct i440fx *hb = f->opaque;

	if (addr < I440FX_PAM0 + I440FX_PAM_COUNT && addr + size > I440FX_PAM0)
		i440fx_update_pam(hb);
}

static const struct pci_function_ops i440fx_pci_ops = {
	.config_written = i440fx_config_written,
};

/* Power-on values of the configuration space (datasheet 3.2). */
static void i440fx_init_config(struct i440fx *hb)
{
	struct pci_function *f = &hb->fn;
	struct pci_bus *bus = f->bus;
	u8 devfn = f->devfn;
	unsigned i;

	pci_function_init(f, I440FX_VENDOR, I440FX_DEVICE, I440FX_CLASS,
			  I440FX_REVISION);
	f->bus = bus;
	f->devfn = devfn;
	f->ops = &i440fx_pci_ops;
	f->opaque = hb;
	put_le16(&f->config[PCI_COMMAND], 0x0006);
	put_le16(&f->config[PCI_STATUS], 0x0280);
	put_le16(&f->config[PCI_SUBSYSTEM_VENDOR_ID], I440FX_SUBSYS_VENDOR);
	put_le16(&f->config[PCI_SUBSYSTEM_ID], I440FX_SUBSYS_ID);
	/* Only the RE/WE bits of each PAM nibble are implemented. */
	f->wmask[I440FX_PAM0] = 0x30;
	for (i = 1; i < I440FX_PAM_COUNT; i++)
		f->wmask[I440FX_PAM0 + i] = 0x33;
	/* SMRAM: accepted, but there is no SMM to open it to. */
	f->config[I440FX_SMRAM] = 0x02;
	f->wmask[I440FX_SMRAM] = 0x78;
}

static void i440fx_reset(void *opaque)
{
	struct i440fx *hb = opaque;

	i440fx_init_config(hb);
	i440fx_update_pam(hb);
}

#define I440FX_SNAP_VERSION 1

static int i440fx_save(void *opaque, struct snap_writer *w)
{
	struct i440fx *hb = opaque;

	return snap_put(w, "i440fx", I440FX_SNAP_VERSION, hb->fn.config,
			sizeof(hb->fn.config));
}

static int i440fx_load(void *opaque, const struct snap_reader *r)
{
	struct i440fx *hb = opaque;
	u8 config[sizeof(hb->fn.config)];
	unsigned i;
	int err = snap_get(r, "i440fx", I440FX_SNAP_VERSION, config,
			   sizeof(config));

	if (err)
		return err;
	/* Take only what the guest could have written. */
	i440fx_init_config(hb);
	for (i = 0; i < sizeof(config); i++)
		hb->fn.config[i] = (u8)((hb->fn.config[i] & ~hb->fn.wmask[i]) |
					(config[i] & hb->fn.wmask[i]));
	i440fx_update_pam(hb);
	return 0;
}

static void i440fx_destroy(void *opaque)
{
	free(opaque);
}

static const struct device_ops i440fx_device_ops = {
	.name = "i440fx",
	.reset = i440fx_reset,
	.save = i440fx_save,
	.load = i440fx_load,
	.destroy = i440fx_destroy,
};

struct device i440fx_device(struct i440fx *hb)
{
	return (struct device){&i440fx_device_ops, hb};
}

struct i440fx *i440fx_create(struct pci_bus *pci, struct phys_mem *mem)
{
	struct i440fx *hb = calloc(1, sizeof(*hb));

	if (!hb)
		return NULL;
	hb->mem = mem;
	i440fx_init_config(hb);
	if (pci_bus_attach(pci, &hb->fn, PCI_DEVFN(0, 0))) {
		free(hb);
		return NULL;
	}
	i440fx_update_pam(hb);
	return hb;
}

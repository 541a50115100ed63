// SPDX-License-Identifier: MIT
/*
 * Intel 82371SB PIIX3, function 0: the PCI-to-ISA bridge (PIIX3 datasheet,
 * section 2.2). Two of its jobs are visible to a guest here:
 *
 *  - PCI interrupt routing: PIRQA-D are level-triggered, wired-OR lines
 *    shared by the PCI devices; PIRQRC[A:D] (0x60-0x63) steer each one to
 *    an ISA IRQ, or nowhere when bit 7 is set (datasheet 2.2.9).
 *  - The reset control register at port 0xCF9 (datasheet 4.1.13).
 *
 * Everything else in its configuration space is storage the BIOS may
 * program and read back.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/piix3.h"

#define PIIX3_VENDOR 0x8086
#define PIIX3_DEVICE 0x7000
#define PIIX3_CLASS 0x060100 /* bridge, ISA */

#define PIIX3_PIRQRC 0x60
#define PIIX3_NR_PIRQ 4
#define PIIX3_PIRQ_DISABLE 0x80
#define PIIX3_PIRQ_IRQ 0x0f

/* Reset control register (0xCF9) bits. */
#define PIIX3_RCR_SRST BIT(1) /* system (hard) reset when RCPU rises */
#define PIIX3_RCR_RCPU BIT(2) /* 0->1 transition resets */
#define PIIX3_RCR_FULL BIT(3)
#define PIIX3_RCR_STORED (PIIX3_RCR_SRST | PIIX3_RCR_FULL)

/* Interrupt sources: one per (devfn, pin). */
#define PIIX3_NR_SOURCES (256 * 4)

/* Guest-visible state besides the configuration space. */
struct piix3_regs {
	u8 src_level[PIIX3_NR_SOURCES / 8]; /* asserted (devfn, pin) pairs */
	u8 rcr;
	u8 reserved[3];
};

struct piix3 {
	struct pci_function fn;
	struct piix3_regs regs;
	u16 pirq_count[PIIX3_NR_PIRQ]; /* asserted sources per PIRQ */
	bool isa_level[16];	       /* what we drive on each ISA line */
	struct irq_line isa_irq[16];
	void (*reset)(void *opaque);
	void *reset_opaque;
};

/* Registers the BIOS programs: power-on value and writable bits (2.2). */
static const struct {
	u8 reg, value, wmask;
} piix3_reg_defaults[] = {
	{0x4c, 0x4d, 0xff}, /* IORT: ISA I/O recovery timer */
	{0x4e, 0x03, 0xff}, /* XBCS: X-bus chip select, low */
	{0x4f, 0x00, 0x03}, /* XBCS, high */
	{0x60, 0x80, 0x8f}, /* PIRQRCA */
	{0x61, 0x80, 0x8f}, /* PIRQRCB */
	{0x62, 0x80, 0x8f}, /* PIRQRCC */
	{0x63, 0x80, 0x8f}, /* PIRQRCD */
	{0x69, 0x02, 0xfe}, /* TOM: top of memory */
	{0x6a, 0x00, 0xff}, /* MSTAT: miscellaneous status, low */
	{0x6b, 0x00, 0x80}, /* MSTAT, high */
	{0x70, 0x80, 0xcf}, /* MBIRQ0: motherboard IRQ route */
	{0x71, 0x80, 0xcf}, /* MBIRQ1 */
	{0x76, 0x04, 0x8f}, /* MBDMA0: motherboard DMA */
	{0x77, 0x04, 0x8f}, /* MBDMA1 */
	{0x78, 0x02, 0xff}, /* PCSC: programmable chip select, low */
	{0x79, 0x00, 0xff}, /* PCSC, high */
	{0x80, 0x00, 0x7f}, /* APICBASE */
	{0x82, 0x00, 0x0f}, /* DLC: deterministic latency control */
	{0xa0, 0x08, 0x1f}, /* SMICNTL: SMI control */
	{0xa2, 0x00, 0xff}, /* SMIEN: SMI enable, low */
	{0xa3, 0x00, 0x01}, /* SMIEN, high */
	{0xa4, 0x00, 0xff}, /* SEE: system event enable, byte 0 */
	{0xa5, 0x00, 0xff}, /* SEE, byte 1 */
	{0xa6, 0x00, 0xff}, /* SEE, byte 2 */
	{0xa7, 0x00, 0xff}, /* SEE, byte 3 */
	{0xa8, 0x0f, 0xff}, /* FTMR: fast off timer */
	{0xaa, 0x00, 0xff}, /* SMIREQ: SMI request, low */
	{0xab, 0x00, 0x01}, /* SMIREQ, high */
	{0xac, 0x00, 0xff}, /* CTLTMR: clock scale STPCLK low timer */
	{0xae, 0x00, 0xff}, /* CTHTMR: clock scale STPCLK high timer */
};

/* ISA IRQ a PIRQ is steered to, or -1. IRQs 0-2, 8, 13 are reserved. */
static int piix3_pirq_target(const struct piix3 *piix, unsigned pirq)
{
	u8 v = piix->fn.config[PIIX3_PIRQRC + pirq];
	unsigned irq = v & PIIX3_PIRQ_IRQ;

	if (v & PIIX3_PIRQ_DISABLE || irq < 3 || irq == 8 || irq == 13)
		return -1;
	return (int)irq;
}

/* Drive every ISA line with the OR of the PIRQs steered to it. */
static void piix3_update_isa(struct piix3 *piix)
{
	bool level[16] = {false};
	unsigned pirq, irq;

	for (pirq = 0; pirq < PIIX3_NR_PIRQ; pirq++) {
		int target = piix3_pirq_target(piix, pirq);

		if (target >= 0 && piix->pirq_count[pirq])
			level[target] = true;
	}
	for (irq = 0; irq < 16; irq++) {
		if (level[irq] == piix->isa_level[irq])
			continue;
		piix->isa_level[irq] = level[irq];
		irq_set(&piix->isa_irq[irq], level[irq]);
	}
}

/* Source index: devfn * 4 + pin - 1. Device d, pin p: PIRQ[(d+p-2) & 3]. */
static unsigned piix3_source_pirq(unsigned src)
{
	unsigned dev = src >> 5, pin = (src & 3) + 1;

	return (dev + pin - 2) & 3;
}

static bool piix3_source_level(const struct piix3 *piix, unsigned src)
{
	return piix->regs.src_level[src / 8] & BIT(src % 8);
}

static void piix3_pci_set_irq(void *opaque, unsigned src, bool level)
{
	struct piix3 *piix = opaque;
	unsigned pirq;

	if (src >= PIIX3_NR_SOURCES || piix3_source_level(piix, src) == level)
		return;
	pirq = piix3_source_pirq(src);
	piix->regs.src_level[src / 8] ^= (u8)BIT(src % 8);
	if (level)
		piix->pirq_count[pirq]++;
	else
		piix->pirq_count[pirq]--;
	piix3_update_isa(piix);
}

struct irq_line piix3_pci_irq(struct piix3 *piix, u8 devfn, u8 pin)
{
	if (pin < 1 || pin > 4)
		return (struct irq_line){0};
	return (struct irq_line){piix3_pci_set_irq, piix,
				 (unsigned)devfn * 4 + pin - 1};
}

static void piix3_recount(struct piix3 *piix)
{
	unsigned src;

	for (src = 0; src < PIIX3_NR_PIRQ; src++)
		piix->pirq_count[src] = 0;
	for (src = 0; src < PIIX3_NR_SOURCES; src++)
		if (piix3_source_level(piix, src))
			piix->pirq_count[piix3_source_pirq(src)]++;
}

static void piix3_config_written(struct pci_function *f, u8 addr, unsigned size)
{
	struct piix3 *piix = f->opaque;

	if (addr < PIIX3_PIRQRC + PIIX3_NR_PIRQ && addr + size > PIIX3_PIRQRC)
		piix3_update_isa(piix);
}

static const struct pci_function_ops piix3_pci_ops = {
	.config_written = piix3_config_written,
};

static u8 piix3_rcr_read(void *opaque)
{
	struct piix3 *piix = opaque;

	return piix->regs.rcr & PIIX3_RCR_STORED;
}

static void piix3_rcr_write(void *opaque, u8 value)
{
	struct piix3 *piix = opaque;
	bool rising =
		(value & PIIX3_RCR_RCPU) && !(piix->regs.rcr & PIIX3_RCR_RCPU);

	piix->regs.rcr = value & (PIIX3_RCR_STORED | PIIX3_RCR_RCPU);
	/* Hard (SRST=1) and soft resets both restart the whole machine. */
	if (rising && piix->reset)
		piix->reset(piix->reset_opaque);
}

/* Power-on configuration space; function 0 of a multi-function device. */
static void piix3_init_config(struct piix3 *piix)
{
	struct pci_function *f = &piix->fn;
	unsigned i;

	memset(f->config + 0x40, 0, sizeof(f->config) - 0x40);
	memset(f->wmask + 0x40, 0, sizeof(f->wmask) - 0x40);
	put_le16(&f->config[PCI_COMMAND], 0x0007);
	put_le16(&f->config[PCI_STATUS], 0x0200);
	f->config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI;
	f->config[PCI_INTERRUPT_LINE] = 0;
	f->config[0x0c] = f->config[0x0d] = 0;
	for (i = 0; i < ARRAY_SIZE(piix3_reg_defaults); i++) {
		f->config[piix3_reg_defaults[i].reg] =
			piix3_reg_defaults[i].value;
		f->wmask[piix3_reg_defaults[i].reg] =
			piix3_reg_defaults[i].wmask;
	}
}

static void piix3_reset(void *opaque)
{
	struct piix3 *piix = opaque;

	piix3_init_config(piix);
	piix->regs.rcr = 0;
	piix3_update_isa(piix);
}

/* The saved form: configuration space plus the other registers. */
struct piix3_snap {
	u8 config[256];
	struct piix3_regs regs;
};

#define PIIX3_SNAP_VERSION 1

static int piix3_save(void *opaque, struct snap_writer *w)
{
	struct piix3 *piix = opaque;
	struct piix3_snap s;

	memcpy(s.config, piix->fn.config, sizeof(s.config));
	s.regs = piix->regs;
	return snap_put(w, "piix3", PIIX3_SNAP_VERSION, &s, sizeof(s));
}

static int piix3_load(void *opaque, const struct snap_reader *r)
{
	struct piix3 *piix = opaque;
	struct pci_function *f = &piix->fn;
	struct piix3_snap s;
	unsigned i;
	int err = snap_get(r, "piix3", PIIX3_SNAP_VERSION, &s, sizeof(s));

	if (err)
		return err;
	/* Take only what the guest could have written. */
	piix3_init_config(piix);
	for (i = 0; i < sizeof(s.config); i++)
		f->config[i] = (u8)((f->config[i] & ~f->wmask[i]) |
				    (s.config[i] & f->wmask[i]));
	piix->regs = s.regs;
	piix3_recount(piix);
	piix3_update_isa(piix);
	return 0;
}

static void piix3_destroy(void *opaque)
{
	struct piix3 *piix = opaque;

	if (piix->fn.bus && piix->fn.bus->rcr_opaque == piix) {
		piix->fn.bus->rcr_read = NULL;
		piix->fn.bus->rcr_write = NULL;
		piix->fn.bus->rcr_opaque = NULL;
	}
	free(piix);
}

static const struct device_ops piix3_device_ops = {
	.name = "piix3",
	.reset = piix3_reset,
	.save = piix3_save,
	.load = piix3_load,
	.destroy = piix3_destroy,
};

struct device piix3_device(struct piix3 *piix)
{
	return (struct device){&piix3_device_ops, piix};
}

struct piix3 *piix3_create(struct pci_bus *pci, u8 devfn,
			   const struct irq_line isa_irq[16],
			   void (*reset)(void *opaque), void *opaque)
{
	struct piix3 *piix = calloc(1, sizeof(*piix));

	if (!piix)
		return NULL;
	memcpy(piix->isa_irq, isa_irq, sizeof(piix->isa_irq));
	piix->reset = reset;
	piix->reset_opaque = opaque;
	pci_function_init(&piix->fn, PIIX3_VENDOR, PIIX3_DEVICE, PIIX3_CLASS,
			  0);
	piix->fn.ops = &piix3_pci_ops;
	piix->fn.opaque = piix;
	piix3_init_config(piix);
	if (pci_bus_attach(pci, &piix->fn, devfn)) {
		free(piix);
		return NULL;
	}
	pci->rcr_read = piix3_rcr_read;
	pci->rcr_write = piix3_rcr_write;
	pci->rcr_opaque = piix;
	return piix;
}

// SPDX-License-Identifier: MIT
/*
 * Intel 82371AB PIIX4, function 3: power management (PIIX4 datasheet,
 * sections 3.4 and 7.2). What the ACPI OS uses of it:
 *
 *  - PMSTS/PMEN (ACPI PM1a_STS/PM1a_EN): TMROF_STS is set each time bit 23
 *    of the PM timer changes; status bits are write-1-to-clear; the SCI is
 *    asserted while a status bit and its enable are both set.
 *  - PMCNTRL (ACPI PM1a_CNT): SUS_EN with SUS_TYP 0 turns the machine off.
 *  - PMTMR (ACPI PM_TMR): a free-running 24-bit count at 3.579545 MHz,
 *    derived from the host clock.
 *  - GPSTS/GPEN (ACPI GPE0): no general-purpose event source is wired, so
 *    the status reads 0; the enables are storage.
 *
 * TMROF_STS is computed when the guest looks (a read, a write) from how
 * often bit 23 has changed; a host timer runs only while TMROF_EN asks for
 * the SCI. The SMBus host controller (SMBBA, config 0x90) is not modelled.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "hw/piix4_pm.h"

#define PIIX4_PM_VENDOR 0x8086
#define PIIX4_PM_DEVICE 0x7113
#define PIIX4_PM_REVISION 3
#define PIIX4_PM_CLASS 0x068000 /* bridge, other */

/* Function 3 configuration registers (datasheet 3.4). */
#define PIIX4_PM_PMBA 0x40
#define PIIX4_PM_PMBA_IO BIT(0)	  /* read-only: the base is an I/O address */
#define PIIX4_PM_PMBA_MASK 0xffc0 /* 64-byte aligned base, bits 15:6 */
#define PIIX4_PM_PMREGMISC 0x80
#define PIIX4_PM_PMIOSE BIT(0)	       /* PM I/O space enable */
#define PIIX4_PM_PCISTS_DEFAULT 0x0280 /* medium DEVSEL, fast back-to-back */

/* PMSTS and PMEN bits (datasheet 7.2.1, 7.2.2). */
#define PM_TMROF BIT(0)
#define PM_GBL BIT(5)
#define PM_PWRBTN BIT(8)
#define PM_RTC BIT(10)
#define PM_EN_MASK (PM_TMROF | PM_GBL | PM_PWRBTN | PM_RTC)

/* PMCNTRL bits (datasheet 7.2.3). */
#define PM_SCI_EN BIT(0)
#define PM_BRLD_EN_BM BIT(1)
#define PM_SUS_TYP_SHIFT 10
#define PM_SUS_TYP_MASK (7u << PM_SUS_TYP_SHIFT)
#define PM_SUS_EN BIT(13) /* write-only: enter the sleep state */
#define PM_CNT_STORED (PM_BRLD_EN_BM | PM_SUS_TYP_MASK)

/* TMROF_STS is set whenever the timer's most significant bit changes. */
#define PM_TMR_MASK 0xffffffu
#define PM_TMR_OVF_SHIFT 23

/* Registers the I/O handlers look at: 0x00-0x0F. */
#define PM_VIEW_SIZE 16

/* Guest-visible registers besides configuration space. */
struct piix4_pm_regs {
	u16 sts;
	u16 en;
	u16 cnt; /* without SCI_EN (always 1) and the write-only bits */
	u16 gpen;
};

struct piix4_pm {
	struct pci_function fn;
	struct piix4_pm_regs regs;
	u64 epoch_ns; /* host time at which the PM timer counted 0 */
	u64 ovf_seen; /* bit-23 changes already reflected in TMROF_STS */
	struct timer ovf_timer;
	struct irq_line sci;
	bool sci_level;
	u16 io_base;
	bool io_mapped;
	void (*power_off)(void *opaque);
	void *opaque;
};

static u64 pm_ticks(const struct piix4_pm *pm, u64 now)
{
	return muldiv64(now - pm->epoch_ns, PIIX4_PM_TIMER_HZ, NSEC_PER_SEC);
}

/* Latch TMROF_STS if bit 23 changed since we last looked. */
static void pm_update_status(struct piix4_pm *pm, u64 now)
{
	u64 ovf = pm_ticks(pm, now) >> PM_TMR_OVF_SHIFT;

	if (ovf != pm->ovf_seen) {
		pm->regs.sts |= PM_TMROF;
		pm->ovf_seen = ovf;
	}
}

static void pm_update_sci(struct piix4_pm *pm)
{
	bool level = pm->regs.sts & pm->regs.en & PM_EN_MASK;

	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	irq_set(&pm->sci, level);
}

/* The host timer runs only while the guest wants the overflow SCI. */
static void pm_arm_ovf_timer(struct piix4_pm *pm, u64 now)
{
	u64 next;

	if (!(pm->regs.en & PM_TMROF)) {
		timer_cancel(&pm->ovf_timer);
		return;
	}
	next = ((pm_ticks(pm, now) >> PM_TMR_OVF_SHIFT) + 1)
	       << PM_TMR_OVF_SHIFT;
	/* +1 ns: the count has surely reached next when the timer runs. */
	timer_arm(&pm->ovf_timer,
		  pm->epoch_ns +
			  muldiv64(next, NSEC_PER_SEC, PIIX4_PM_TIMER_HZ) + 1);
}

static void pm_ovf_expired(void *opaque)
{
	struct piix4_pm *pm = opaque;
	u64 now = clock_guest_ns();

	pm_update_status(pm, now);
	pm_update_sci(pm);
	pm_arm_ovf_timer(pm, now);
}

static u32 piix4_pm_io_read(void *opaque, u16 offset, unsigned size)
{
	struct piix4_pm *pm = opaque;
	u8 view[PM_VIEW_SIZE] = {0};
	u64 now = clock_guest_ns();
	u32 value = 0;
	unsigned i;

	pm_update_status(pm, now);
	pm_update_sci(pm);
	put_le16(view + PIIX4_PM_PMSTS, pm->regs.sts);
	put_le16(view + PIIX4_PM_PMEN, pm->regs.en);
	put_le16(view + PIIX4_PM_PMCNTRL, pm->regs.cnt | PM_SCI_EN);
	put_le32(view + PIIX4_PM_PMTMR, (u32)pm_ticks(pm, now) & PM_TMR_MASK);
	put_le16(view + PIIX4_PM_GPEN, pm->regs.gpen);
	for (i = 0; i < size; i++)
		if (offset + i < PM_VIEW_SIZE)
			value |= (u32)view[offset + i] << (8 * i);
	return value;
}

/* Replace byte n (0 or 1) of *reg with v, changing only the bits in mask. */
static void pm_set_byte(u16 *reg, unsigned n, u8 v, u16 mask)
{
	u16 bits = (u16)((v << (8 * n)) & mask & (0xff << (8 * n)));

	*reg = (u16)((*reg & ~(mask & (0xff << (8 * n)))) | bits);
}

/* SUS_EN was written: enter the sleep state SUS_TYP names. */
static void pm_sleep(struct piix4_pm *pm)
{
	unsigned type = (pm->regs.cnt & PM_SUS_TYP_MASK) >> PM_SUS_TYP_SHIFT;

	if (type != PIIX4_PM_SUS_TYP_SOFF) {
		log_guest_once("piix4_pm", "sleep type %u is not supported",
			       type);
		return;
	}
	if (pm->power_off)
		pm->power_off(pm->opaque);
}

static void pm_write_byte(struct piix4_pm *pm, unsigned reg, u8 v)
{
	switch (reg) {
	case PIIX4_PM_PMSTS:
	case PIIX4_PM_PMSTS + 1:
		pm->regs.sts &= (u16) ~(v << (8 * (reg - PIIX4_PM_PMSTS)));
		break;
	case PIIX4_PM_PMEN:
	case PIIX4_PM_PMEN + 1:
		pm_set_byte(&pm->regs.en, reg - PIIX4_PM_PMEN, v, PM_EN_MASK);
		break;
	case PIIX4_PM_PMCNTRL:
		pm_set_byte(&pm->regs.cnt, 0, v, PM_CNT_STORED);
		break;
	case PIIX4_PM_PMCNTRL + 1:
		pm_set_byte(&pm->regs.cnt, 1, v, PM_CNT_STORED);
		if (v & (PM_SUS_EN >> 8))
			pm_sleep(pm);
		break;
	case PIIX4_PM_GPEN:
	case PIIX4_PM_GPEN + 1:
		pm_set_byte(&pm->regs.gpen, reg - PIIX4_PM_GPEN, v, 0xffff);
		break;
	default:
		break; /* read-only or unimplemented */
	}
}

static void piix4_pm_io_write(void *opaque, u16 offset, u32 value,
			      unsigned size)
{
	struct piix4_pm *pm = opaque;
	u64 now = clock_guest_ns();
	unsigned i;

	/* A write-1-to-clear must see every overflow up to now. */
	pm_update_status(pm, now);
	for (i = 0; i < size; i++)
		if (offset + i < PM_VIEW_SIZE)
			pm_write_byte(pm, offset + i, (u8)(value >> (8 * i)));
	pm_update_sci(pm);
	pm_arm_ovf_timer(pm, now);
}

static const struct pio_ops piix4_pm_pio_ops = {
	.name = "piix4-pm",
	.read = piix4_pm_io_read,
	.write = piix4_pm_io_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2 | PIO_SIZE4,
};

/* Map the I/O block at PMBA while PMIOSE is set (datasheet 3.4). */
static void piix4_pm_update_io(struct piix4_pm *pm)
{
	struct pci_function *f = &pm->fn;
	u16 base = get_le16(&f->config[PIIX4_PM_PMBA]) & PIIX4_PM_PMBA_MASK;
	bool want = (f->config[PIIX4_PM_PMREGMISC] & PIIX4_PM_PMIOSE) && base;

	if (pm->io_mapped && (!want || base != pm->io_base)) {
		pio_unregister(f->bus->pio, pm->io_base);
		pm->io_mapped = false;
	}
	if (!want || pm->io_mapped)
		return;
	if (pio_register(f->bus->pio, base, PIIX4_PM_IO_SIZE, &piix4_pm_pio_ops,
			 pm)) {
		log_guest_once("piix4_pm",
			       "PM I/O block at 0x%x overlaps another device",
			       base);
		return;
	}
	pm->io_base = base;
	pm->io_mapped = true;
}

static bool piix4_pm_touches(u8 addr, unsigned size, u8 reg, unsigned len)
{
	return addr < reg + len && addr + size > reg;
}

static void piix4_pm_config_written(struct pci_function *f, u8 addr,
				    unsigned size)
{
	struct piix4_pm *pm = f->opaque;

	if (piix4_pm_touches(addr, size, PIIX4_PM_PMBA, 4) ||
	    piix4_pm_touches(addr, size, PIIX4_PM_PMREGMISC, 1))
		piix4_pm_update_io(pm);
}

static const struct pci_function_ops piix4_pm_pci_ops = {
	.config_written = piix4_pm_config_written,
};

/* Power-on configuration space above the standard header. */
static void piix4_pm_init_config(struct piix4_pm *pm)
{
	struct pci_function *f = &pm->fn;

	memset(f->config + 0x40, 0, sizeof(f->config) - 0x40);
	memset(f->wmask + 0x40, 0, sizeof(f->wmask) - 0x40);
	put_le16(&f->config[PCI_COMMAND], 0);
	put_le16(&f->config[PCI_STATUS], PIIX4_PM_PCISTS_DEFAULT);
	f->config[PCI_INTERRUPT_LINE] = 0;
	f->config[PCI_INTERRUPT_PIN] = 1; /* INTA */
	put_le32(&f->config[PIIX4_PM_PMBA], PIIX4_PM_PMBA_IO);
	put_le16(&f->wmask[PIIX4_PM_PMBA], PIIX4_PM_PMBA_MASK);
	f->wmask[PIIX4_PM_PMREGMISC] = PIIX4_PM_PMIOSE;
}

/* Registers and timer from the current configuration and time. */
static void piix4_pm_restart(struct piix4_pm *pm, u64 now, u32 tmr)
{
	u64 tmr_ns =
		muldiv64(tmr & PM_TMR_MASK, NSEC_PER_SEC, PIIX4_PM_TIMER_HZ);

	pm->epoch_ns = now > tmr_ns ? now - tmr_ns : 0;
	pm->ovf_seen = pm_ticks(pm, now) >> PM_TMR_OVF_SHIFT;
	piix4_pm_update_io(pm);
	pm_update_sci(pm);
	pm_arm_ovf_timer(pm, now);
}

static void piix4_pm_reset(void *opaque)
{
	struct piix4_pm *pm = opaque;

	piix4_pm_init_config(pm);
	pm->regs = (struct piix4_pm_regs){0};
	piix4_pm_restart(pm, clock_guest_ns(), 0);
}

/* The saved form: configuration space, registers, timer value. */
struct piix4_pm_snap {
	u8 config[256];
	struct piix4_pm_regs regs;
	u32 tmr;
};

#define PIIX4_PM_SNAP_VERSION 1

static int piix4_pm_save(void *opaque, struct snap_writer *w)
{
	struct piix4_pm *pm = opaque;
	u64 now = clock_guest_ns();
	struct piix4_pm_snap s;

	pm_update_status(pm, now);
	memcpy(s.config, pm->fn.config, sizeof(s.config));
	s.regs = pm->regs;
	s.tmr = (u32)pm_ticks(pm, now) & PM_TMR_MASK;
	return snap_put(w, "piix4_pm", PIIX4_PM_SNAP_VERSION, &s, sizeof(s));
}

static int piix4_pm_load(void *opaque, const struct snap_reader *r)
{
	struct piix4_pm *pm = opaque;
	struct pci_function *f = &pm->fn;
	struct piix4_pm_snap s;
	unsigned i;
	int err = snap_get(r, "piix4_pm", PIIX4_PM_SNAP_VERSION, &s, sizeof(s));

	if (err)
		return err;
	/* Take only what the guest could have written. */
	piix4_pm_init_config(pm);
	for (i = 0; i < sizeof(s.config); i++)
		f->config[i] = (u8)((f->config[i] & ~f->wmask[i]) |
				    (s.config[i] & f->wmask[i]));
	/* Every status bit the device sets (a pending power button too). */
	pm->regs.sts = s.regs.sts & PM_EN_MASK;
	pm->regs.en = s.regs.en & PM_EN_MASK;
	pm->regs.cnt = s.regs.cnt & PM_CNT_STORED;
	pm->regs.gpen = s.regs.gpen;
	piix4_pm_restart(pm, clock_guest_ns(), s.tmr);
	pm_update_sci(pm);
	return 0;
}

/*
 * The power button was pressed (ACPI 6.x, 4.8.2.2.1.1, the fixed-feature
 * power button): PWRBTN_STS is set and, while PWRBTN_EN is set, the SCI
 * asserts; the OS clears the status by writing 1 and decides what to do.
 */
void piix4_pm_power_button(struct piix4_pm *pm)
{
	pm->regs.sts |= PM_PWRBTN;
	pm_update_sci(pm);
}

static void piix4_pm_destroy(void *opaque)
{
	struct piix4_pm *pm = opaque;
	struct pci_bus *bus = pm->fn.bus;

	timer_cancel(&pm->ovf_timer);
	if (pm->io_mapped)
		pio_unregister(bus->pio, pm->io_base);
	if (bus->fn[pm->fn.devfn] == &pm->fn)
		bus->fn[pm->fn.devfn] = NULL;
	free(pm);
}

static const struct device_ops piix4_pm_device_ops = {
	.name = "piix4_pm",
	.reset = piix4_pm_reset,
	.save = piix4_pm_save,
	.load = piix4_pm_load,
	.destroy = piix4_pm_destroy,
};

struct device piix4_pm_device(struct piix4_pm *pm)
{
	return (struct device){&piix4_pm_device_ops, pm};
}

struct piix4_pm *piix4_pm_create(struct pci_bus *pci, u8 devfn,
				 struct timer_list *timers, struct irq_line sci,
				 void (*power_off)(void *opaque), void *opaque)
{
	struct piix4_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->sci = sci;
	pm->power_off = power_off;
	pm->opaque = opaque;
	timer_init_guest(&pm->ovf_timer, timers, pm_ovf_expired, pm);
	pci_function_init(&pm->fn, PIIX4_PM_VENDOR, PIIX4_PM_DEVICE,
			  PIIX4_PM_CLASS, PIIX4_PM_REVISION);
	pm->fn.ops = &piix4_pm_pci_ops;
	pm->fn.opaque = pm;
	if (pci_bus_attach(pci, &pm->fn, devfn)) {
		free(pm);
		return NULL;
	}
	piix4_pm_reset(pm);
	return pm;
}

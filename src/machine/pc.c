// SPDX-License-Identifier: MIT
/*
 * Assembly of the i440FX-class PC (DESIGN.md, "The machine"): memory and
 * buses, the legacy ISA devices, the PCI functions, the firmware, and one
 * vCPU. Devices are wired to each other only here: interrupt lines, the A20
 * gate and the reset line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/aio.h"
#include "cpu/kvm/kvm.h"
#include "core/clock.h"
#include "core/log.h"
#include "hw/debugcon.h"
#include "hw/i440fx.h"
#include "hw/ide.h"
#include "hw/ioapic.h"
#include "hw/ne2000.h"
#include "hw/pic.h"
#include "hw/piix3.h"
#include "hw/piix4_pm.h"
#include "hw/pit.h"
#include "hw/port92.h"
#include "hw/uart16550.h"
#include "hw/vga.h"
#include "hw/vmmouse.h"
#include "ui/screen_dump.h"
#include "machine/control.h"
#include "machine/pc_internal.h"
#include "ui/terminal.h"
#include "ui/vnc.h"

#define PC_COM1_BASE 0x3f8
#define PC_COM1_IRQ 4
#define PC_DEVFN_ISA PCI_DEVFN(1, 0)
#define PC_DEVFN_IDE PCI_DEVFN(1, 1)
#define PC_DEVFN_PM PCI_DEVFN(1, 3)
#define PC_DEVFN_VGA PCI_DEVFN(2, 0)

/* Which PIC input a line drives: pins 0-15 ISA devices, 16-31 PIRQs. */
#define PC_PIRQ_PIN_BASE PC_ISA_IRQS

/* IOAPIC pin of ISA IRQ 0, as the MADT's interrupt source override says. */
#define PC_IOAPIC_PIN_IRQ0 2
/* IOAPIC index and data registers; index 0 is the ID register. */
#define PC_IOAPIC_REGSEL 0x00
#define PC_IOAPIC_WIN 0x10
/* Local APIC registers and values for virtual wire mode (SDM 10.5.1). */
#define PC_LAPIC_SVR 0x0f0
#define PC_LAPIC_LVT_LINT0 0x350
#define PC_LAPIC_LVT_LINT1 0x360
#define PC_LAPIC_SVR_ON 0x1ff	    /* APIC enabled, spurious vector 0xFF */
#define PC_LAPIC_LINT0_EXTINT 0x700 /* ExtINT, edge, unmasked */
#define PC_LAPIC_LINT1_NMI 0x8400   /* NMI, level, unmasked */

/* Machine-implemented MSRs (Intel SDM vol. 4, table 2-2). */
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0

/*
 * ISA IRQ n reaches the 8259 input n and IOAPIC pin n, except IRQ 0 (the
 * PIT), which is wired to pin 2, and IRQ 2, the cascade, which no ISA
 * device drives and no pin receives.
 */
static void pc_ioapic_set_isa_irq(struct pc *pc, unsigned irq, bool level)
{
	if (irq == 0)
		ioapic_set_irq(pc->ioapic, PC_IOAPIC_PIN_IRQ0, level);
	else if (irq != 2)
		ioapic_set_irq(pc->ioapic, irq, level);
}

static void pc_isa_irq_set(void *opaque, unsigned pin, bool level)
{
	struct pc *pc = opaque;
	u16 *levels = pin < PC_PIRQ_PIN_BASE ? &pc->isa_dev_level :
					       &pc->isa_pirq_level;
	unsigned irq = pin % PC_ISA_IRQS;
	bool before = (pc->isa_dev_level | pc->isa_pirq_level) & BIT(irq);
	bool after;

	if (level)
		*levels |= (u16)BIT(irq);
	else
		*levels &= (u16)~BIT(irq);
	after = (pc->isa_dev_level | pc->isa_pirq_level) & BIT(irq);
	if (before == after)
		return;
	pic_set_irq(pc->pic, irq, after);
	pc_ioapic_set_isa_irq(pc, irq, after);
}

static struct irq_line pc_isa_irq(struct pc *pc, unsigned irq)
{
	return (struct irq_line){pc_isa_irq_set, pc, irq};
}

/* The 8259's INTR output is the local APIC's LINT0 input. */
static void pc_pic_intr_changed(void *opaque, bool level)
{
	struct pc *pc = opaque;

	lapic_set_lint0(pc->lapic, level);
}

/* The local APIC drives the processor's interrupt input. */
static void pc_lapic_intr_changed(void *opaque, bool level)
{
	struct pc *pc = opaque;

	if (pc->vcpu)
		pc->engine->set_intr(pc->vcpu, level);
}

static int pc_lapic_extint_ack(void *opaque)
{
	struct pc *pc = opaque;

	return pic_intack(pc->pic);
}

/*
 * The guest TSC for the TSC-deadline timer. The soft engine's TSC runs at
 * 1 GHz from the host monotonic clock, so it is clock_now_ns() plus the
 * offset a WRMSR to IA32_TIME_STAMP_COUNTER set; the engine keeps that
 * offset to itself, so a guest that rewrites its TSC sees its deadlines
 * shifted by the difference.
 */
static u64 pc_lapic_tsc(void *opaque)
{
	return clock_guest_ns();
}

static int pc_intack(void *opaque)
{
	struct pc *pc = opaque;

	return lapic_intack(pc->lapic);
}

static bool pc_msr_read(void *opaque, u32 msr, u64 *value)
{
	struct pc *pc = opaque;

	switch (msr) {
	case MSR_IA32_APIC_BASE:
		*value = lapic_get_base(pc->lapic);
		return true;
	case MSR_IA32_TSC_DEADLINE:
		*value = lapic_get_tsc_deadline(pc->lapic);
		return true;
	default:
		return false;
	}
}

/* A write the APIC refuses (reserved bits) is a #GP, as on hardware. */
static bool pc_msr_write(void *opaque, u32 msr, u64 value)
{
	struct pc *pc = opaque;

	switch (msr) {
	case MSR_IA32_APIC_BASE:
		return lapic_set_base(pc->lapic, value) == 0;
	case MSR_IA32_TSC_DEADLINE:
		lapic_set_tsc_deadline(pc->lapic, value);
		return true;
	default:
		return false;
	}
}

/* ACPI soft off (S5 through the PIIX4 PM function): end the VM. */
static void pc_power_off(void *opaque)
{
	log_info("pc", "guest powered off");
	pc_request_quit(opaque, 0);
}

void pc_request_reset(struct pc *pc)
{
	pc->reset_requested = true;
	if (pc->vcpu)
		pc->engine->stop(pc->vcpu);
}

void pc_request_quit(struct pc *pc, int status)
{
	if (pc->quit_requested)
		return;
	pc->quit_requested = true;
	pc->exit_status = status;
	if (pc->vcpu)
		pc->engine->stop(pc->vcpu);
}

static void pc_reset_line(void *opaque)
{
	pc_request_reset(opaque);
}

static void pc_update_a20(struct pc *pc)
{
	if (pc->vcpu)
		pc->engine->set_a20(pc->vcpu, pc->a20_kbc || pc->a20_port92);
}

static void pc_kbc_set_a20(void *opaque, bool enabled)
{
	struct pc *pc = opaque;

	pc->a20_kbc = enabled;
	pc_update_a20(pc);
}

static void pc_port92_set_a20(void *opaque, bool enabled)
{
	struct pc *pc = opaque;

	pc->a20_port92 = enabled;
	pc_update_a20(pc);
}

/*
 * What a board's firmware does to the APICs before anything runs, and
 * SeaBIOS leaves to the machine:
 *  - The BSP's local APIC becomes a virtual wire (MP spec 1.4, A.3):
 *    LINT0 in ExtINT mode carries the 8259's INTR, LINT1 carries NMI.
 *    SeaBIOS programs this only when CPUID reports an APIC; without it
 *    the power-up state (every LVT masked, SDM 10.4.7.1) would keep every
 *    8259 interrupt from the processor.
 *  - The IOAPIC gets the ID the MADT announces (MP spec 3.6.5: APIC IDs
 *    are unique), through its ID register (82093AA datasheet 3.2.1).
 */
static void pc_apic_board_init(struct pc *pc)
{
	u64 lapic = LAPIC_DEFAULT_BASE;

	mem_write(&pc->mem, lapic + PC_LAPIC_SVR, PC_LAPIC_SVR_ON, 4);
	mem_write(&pc->mem, lapic + PC_LAPIC_LVT_LINT0, PC_LAPIC_LINT0_EXTINT,
		  4);
	mem_write(&pc->mem, lapic + PC_LAPIC_LVT_LINT1, PC_LAPIC_LINT1_NMI, 4);
	mem_write(&pc->mem, IOAPIC_DEFAULT_BASE + PC_IOAPIC_REGSEL, 0, 4);
	mem_write(&pc->mem, IOAPIC_DEFAULT_BASE + PC_IOAPIC_WIN,
		  (u32)PC_IOAPIC_ID << 24, 4);
}

void pc_reset(struct pc *pc)
{
	unsigned i;

	/* Power-on: the 8042 output port enables A20, port 0x92 does not. */
	pc->a20_kbc = true;
	pc->a20_port92 = false;
	for (i = 0; i < pc->nr_devices; i++)
		pc->devices[i].ops->reset(pc->devices[i].opaque);
	pc_apic_board_init(pc);
	pc_cmos_init(pc);
	pc->engine->reset(pc->vcpu);
	pc_update_a20(pc);
	pc->engine->set_intr(pc->vcpu, lapic_pending(pc->lapic));
	pc->reset_requested = false;
}

/* ret: -errno. */
static int pc_fail(char *err, size_t errlen, int ret, const char *what)
{
	snprintf(err, errlen, "cannot create the %s: %s", what, strerror(-ret));
	return ret;
}

/*
 * Keep a device for reset, save and destroy. dev.opaque is NULL when its
 * constructor failed.
 */
static int pc_adopt(struct pc *pc, struct device dev, const char *what,
		    char *err, size_t errlen)
{
	if (!dev.opaque)
		return pc_fail(err, errlen, -ENOMEM, what);
	if (pc->nr_devices == PC_MAX_DEVICES) {
		dev.ops->destroy(dev.opaque);
		return pc_fail(err, errlen, -ENOSPC, what);
	}
	pc->devices[pc->nr_devices++] = dev;
	return 0;
}

/* Two ISA cards must not share ports or an IRQ. */
static int pc_check_nics(const struct pc_config *cfg, char *err, size_t errlen)
{
	unsigned i, j;

	if (cfg->nr_nics > NET_MAX_CARDS) {
		snprintf(err, errlen, "at most %u network cards",
			 NET_MAX_CARDS);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_nics; i++)
		if (cfg->nics[i].card == NET_CARD_NE2K_PCI)
			break;
	if (cfg->boot == PC_BOOT_NET && i == cfg->nr_nics) {
		snprintf(err, errlen,
			 "--boot net needs a PCI network card (--net "
			 "ne2k-pci,...): the ISA card has no boot ROM");
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_nics; i++) {
		const struct net_config *a = &cfg->nics[i];

		for (j = 0; j < i; j++) {
			const struct net_config *b = &cfg->nics[j];

			if (a->card != NET_CARD_NE2K_ISA ||
			    b->card != NET_CARD_NE2K_ISA)
				continue;
			if (a->io == b->io || a->irq == b->irq) {
				snprintf(err, errlen,
					 "--net: ISA cards %u and %u share %s; "
					 "give each its own io= and irq=",
					 j + 1, i + 1,
					 a->io == b->io ? "an I/O base" :
							  "an IRQ");
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* For the machine's other files (pc_ports.c). */
struct irq_line pc_isa_irq_line(struct pc *pc, unsigned irq)
{
	return pc_isa_irq(pc, irq);
}

int pc_adopt_device(struct pc *pc, struct device dev, const char *what,
		    char *err, size_t errlen)
{
	return pc_adopt(pc, dev, what, err, errlen);
}

static int pc_check_config(const struct pc_config *cfg, char *err,
			   size_t errlen)
{
	if (cfg->ram_size < PC_MIN_RAM || cfg->ram_size > PC_MAX_RAM ||
	    cfg->ram_size % (64 << 10)) {
		snprintf(err, errlen,
			 "memory size %llu KiB out of range (2 MiB to 3 GiB, "
			 "in 64 KiB steps)",
			 (unsigned long long)(cfg->ram_size >> 10));
		return -EINVAL;
	}
	if (cfg->engine && !strcmp(cfg->engine, "hybrid")) {
		snprintf(err, errlen, "engine hybrid: not implemented yet");
		return -ENOTSUP;
	}
	if (cfg->engine && strcmp(cfg->engine, "soft") &&
	    strcmp(cfg->engine, "kvm") && strcmp(cfg->engine, "auto")) {
		snprintf(err, errlen,
			 "unknown engine '%s' (available: soft, kvm, auto)",
			 cfg->engine);
		return -EINVAL;
	}
	if (cfg->display == PC_DISPLAY_TERMINAL && cfg->serial_spec &&
	    !strcmp(cfg->serial_spec, "stdio")) {
		snprintf(err, errlen,
			 "--serial stdio and --display terminal both need the "
			 "terminal");
		return -EINVAL;
	}
	if (cfg->cdrom_path && cfg->disk[PC_CDROM_SLOT].path) {
		snprintf(err, errlen,
			 "the CD-ROM and --hdc both want the "
			 "secondary master");
		return -EINVAL;
	}
	return pc_check_nics(cfg, err, errlen);
}

/* Memory, buses and firmware: everything devices attach to. */
/* The event loop's wake hook: a device wants host events handled now. */
static void pc_wake_loop(void *opaque)
{
	struct pc *pc = opaque;

	if (pc->vcpu)
		pc->engine->stop(pc->vcpu);
}

static int pc_create_core(struct pc *pc, char *err, size_t errlen)
{
	const char *bios =
		pc->cfg.bios_path ? pc->cfg.bios_path : PC_DEFAULT_BIOS;
	int ret =
		pc_load_firmware(bios, &pc->bios, &pc->bios_size, err, errlen);

	if (ret)
		return ret;
	ret = evloop_init(&pc->loop);
	if (ret)
		return pc_fail(err, errlen, ret, "event loop");
	pc->loop.wake = pc_wake_loop;
	pc->loop.wake_opaque = pc;
	ret = aio_ctx_create(&pc->loop, &pc->aio);
	if (ret)
		return pc_fail(err, errlen, ret, "disk I/O threads");
	ret = mem_init(&pc->mem, pc->cfg.ram_size, pc->cfg.ram_size);
	if (ret) {
		snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
			 (unsigned long long)(pc->cfg.ram_size >> 20));
		return ret;
	}
	mem_set_bios(&pc->mem, pc->bios, pc->bios_size);
	pc->pio = pio_bus_new();
	if (!pc->pio)
		return pc_fail(err, errlen, -ENOMEM, "port I/O bus");
	ret = pci_bus_init(&pc->pci, pc->pio, &pc->mem);
	return ret ? pc_fail(err, errlen, ret, "PCI bus") : 0;
}

/*
 * The local APIC and the IOAPIC, first: every interrupt line ends there.
 * Level-triggered EOIs at the local APIC clear the IOAPIC's Remote IRR.
 */
static int pc_create_apic(struct pc *pc, char *err, size_t errlen)
{
	int ret;

	pc->lapic_host = (struct lapic_host){
		.intr_changed = pc_lapic_intr_changed,
		.extint_ack = pc_lapic_extint_ack,
		.tsc = pc_lapic_tsc,
		.opaque = pc,
	};
	pc->lapic = lapic_create(&pc->mem, &pc->loop.timers, &pc->lapic_host);
	ret = pc_adopt(pc, lapic_device(pc->lapic), "local APIC", err, errlen);
	if (ret)
		return ret;
	pc->ioapic = ioapic_create(&pc->mem, pc->lapic);
	ret = pc_adopt(pc, ioapic_device(pc->ioapic), "I/O APIC", err, errlen);
	if (ret)
		return ret;
	lapic_set_eoi_notify(pc->lapic, ioapic_eoi, pc->ioapic);
	return 0;
}

/* The motherboard's ISA devices: PIC, PIT, RTC, 8042, port 0x92. */
static int pc_create_isa(struct pc *pc, char *err, size_t errlen)
{
	struct timer_list *timers = &pc->loop.timers;
	struct port92 *p92;
	struct pit *pit;
	int ret;

	pc->pic = pic_create(pc->pio, pc_pic_intr_changed, pc);
	ret = pc_adopt(pc, pic_device(pc->pic), "interrupt controller", err,
		       errlen);
	if (ret)
		return ret;
	pit = pit_create(pc->pio, timers, pc_isa_irq(pc, 0));
	ret = pc_adopt(pc, pit_device(pit), "timer", err, errlen);
	if (ret)
		return ret;
	pc->rtc = rtc_create(pc->pio, timers, pc_isa_irq(pc, 8));
	ret = pc_adopt(pc, rtc_device(pc->rtc), "real-time clock", err, errlen);
	if (ret)
		return ret;
	pc->kbc_host = (struct i8042_host){pc_reset_line, pc_kbc_set_a20, pc};
	pc->kbc = i8042_create(pc->pio, pc_isa_irq(pc, 1), pc_isa_irq(pc, 12),
			       &pc->kbc_host);
	ret = pc_adopt(pc, i8042_device(pc->kbc), "keyboard controller", err,
		       errlen);
	if (ret)
		return ret;
	pc->port92_host =
		(struct i8042_host){pc_reset_line, pc_port92_set_a20, pc};
	pc->vmmouse = vmmouse_create(pc->pio, pc->kbc);
	ret = pc_adopt(pc, vmmouse_device(pc->vmmouse), "absolute pointer", err,
		       errlen);
	if (ret)
		return ret;
	p92 = port92_create(pc->pio, &pc->port92_host);
	return pc_adopt(pc, port92_device(p92), "port 0x92", err, errlen);
}

static int pc_open_debug_log(struct pc *pc, char *err, size_t errlen)
{
	struct debugcon *dc;
	const char *path = pc->cfg.debug_log_path;

	if (!path)
		return 0;
	pc->debug_fd =
		open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC,
		     0644);
	if (pc->debug_fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "%s: cannot open the debug log: %s", path,
			 strerror(-ret));
		return ret;
	}
	dc = debugcon_create(pc->pio, DEBUGCON_PORT, pc->debug_fd);
	return pc_adopt(pc, debugcon_device(dc), "debug console", err, errlen);
}

/* COM1, the firmware's debug port and fw_cfg. */
static int pc_create_host_io(struct pc *pc, char *err, size_t errlen)
{
	struct uart16550 *uart;
	const char *spec = pc->cfg.serial_spec;
	int ret;

	if (!spec)
		spec = pc->cfg.display == PC_DISPLAY_TERMINAL ? "none" :
								"stdio";
	ret = chardev_open(spec, &pc->loop, &pc->serial, err, errlen);
	if (ret)
		return ret;
	uart = uart16550_create(pc->pio, PC_COM1_BASE,
				pc_isa_irq(pc, PC_COM1_IRQ), &pc->loop.timers,
				pc->serial);
	ret = pc_adopt(pc, uart16550_device(uart), "serial port", err, errlen);
	ret = ret ?: pc_open_debug_log(pc, err, errlen);
	if (ret)
		return ret;
	pc->fw = fw_cfg_create(pc->pio, &pc->mem);
	ret = pc_adopt(pc, fw_cfg_device(pc->fw), "firmware configuration", err,
		       errlen);
	if (ret)
		return ret;
	ret = pc_fw_cfg_init(pc);
	return ret ? pc_fail(err, errlen, ret, "firmware configuration") : 0;
}

/* Where each --hdX sits: channel, then unit (0 master, 1 slave). */
static void pc_slot_position(enum pc_ide_slot slot, unsigned *channel,
			     unsigned *unit)
{
	*channel = slot / 2;
	*unit = slot % 2;
}

struct block_dev *pc_first_disk(const struct pc *pc)
{
	unsigned i;

	for (i = 0; i < PC_IDE_SLOTS; i++)
		if (pc->disk[i])
			return pc->disk[i];
	return NULL;
}

/* Images are writable by default, host devices only when asked. */
static unsigned pc_disk_open_flags(enum pc_disk_access access)
{
	switch (access) {
	case PC_DISK_RO:
		return BLOCK_OPEN_READ_ONLY;
	case PC_DISK_RW:
		return BLOCK_OPEN_DEVICE_WRITE;
	default:
		return 0;
	}
}

static int pc_open_drives(struct pc *pc, char *err, size_t errlen)
{
	char why[512];
	unsigned i;
	int ret = 0;

	if (pc->cfg.cdrom_path)
		ret = pc_open_cdrom(pc->cfg.cdrom_path, &pc->cdrom, err,
				    errlen);
	/* Raw, Parallels .hdd or host device, found by content or type. */
	for (i = 0; !ret && i < PC_IDE_SLOTS; i++) {
		const struct pc_disk_config *d = &pc->cfg.disk[i];

		if (!d->path)
			continue;
		ret = block_open(d->path, pc_disk_open_flags(d->access),
				 &pc->disk[i], why, sizeof(why));
		if (ret)
			snprintf(err, errlen, "--hd%c %s", 'a' + i, why);
	}
	return ret;
}

/* IDE: up to four drives; the CD on the secondary master (as QEMU). */
static int pc_create_ide(struct pc *pc, char *err, size_t errlen)
{
	unsigned i, channel, unit;
	int ret;

	pc->ide = ide_create(&pc->pci, PC_DEVFN_IDE, pc_isa_irq(pc, 14),
			     pc_isa_irq(pc, 15));
	ret = pc_adopt(pc, ide_device(pc->ide), "IDE controller", err, errlen);
	if (ret)
		return ret;
	ret = ide_set_aio(pc->ide, pc->aio);
	if (ret)
		return pc_fail(err, errlen, ret, "IDE controller");
	for (i = 0; !ret && i < PC_IDE_SLOTS; i++) {
		pc_slot_position(i, &channel, &unit);
		if (pc->disk[i])
			ret = ide_attach(pc->ide, channel, unit, IDE_DISK,
					 pc->disk[i]);
		else if (i == PC_CDROM_SLOT && pc->cfg.cdrom_path)
			ret = ide_attach(pc->ide, channel, unit, IDE_CDROM,
					 pc->cdrom);
	}
	return ret ? pc_fail(err, errlen, ret, "IDE drives") : 0;
}

/* The --control commands, on the machine thread between time slices. */

static int pc_cd_position(struct pc *pc, unsigned *channel, unsigned *unit,
			  char *msg, size_t len)
{
	if (!pc->cfg.cdrom_path) {
		snprintf(msg, len,
			 "this machine has no CD-ROM drive (start "
			 "it with --cdrom)");
		return -ENODEV;
	}
	pc_slot_position(PC_CDROM_SLOT, channel, unit);
	return 0;
}

static int pc_ctl_eject(void *opaque, bool force, char *msg, size_t len)
{
	struct pc *pc = opaque;
	unsigned channel, unit;
	int ret = pc_cd_position(pc, &channel, &unit, msg, len);

	if (ret)
		return ret;
	ret = ide_cd_eject(pc->ide, channel, unit, force);
	if (ret == -EBUSY) {
		snprintf(msg, len,
			 "the guest has locked the tray (eject "
			 "--force takes the disc anyway)");
		return ret;
	}
	if (ret) {
		snprintf(msg, len, "cannot eject: %s", strerror(-ret));
		return ret;
	}
	snprintf(msg, len, "ejected%s",
		 pc->cdrom ? "" :
			     " (the drive was "
			     "empty)");
	block_close(pc->cdrom);
	pc->cdrom = NULL;
	return 0;
}

static int pc_ctl_insert(void *opaque, const char *path, char *msg, size_t len)
{
	struct pc *pc = opaque;
	struct ide_cd_state st;
	struct block_dev *bd;
	unsigned channel, unit;
	int ret = pc_cd_position(pc, &channel, &unit, msg, len);

	if (ret)
		return ret;
	ide_cd_state(pc->ide, channel, unit, &st);
	if (st.medium && st.locked) {
		snprintf(msg, len, "the guest has locked the tray");
		return -EBUSY;
	}
	ret = pc_open_cdrom(path, &bd, msg, len);
	if (ret)
		return ret;
	if (!bd) {
		snprintf(msg, len, "%s: no disc in the host drive", path);
		return -ENOMEDIUM;
	}
	ret = ide_change_medium(pc->ide, channel, unit, bd);
	if (ret) {
		block_close(bd);
		snprintf(msg, len, "%s: cannot insert: %s", path,
			 strerror(-ret));
		return ret;
	}
	block_close(pc->cdrom);
	pc->cdrom = bd;
	snprintf(msg, len, "inserted %s", path);
	return 0;
}

static int pc_ctl_status(void *opaque, char *msg, size_t len)
{
	struct pc *pc = opaque;
	struct ide_cd_state st;
	unsigned channel, unit;
	int ret = pc_cd_position(pc, &channel, &unit, msg, len);

	if (ret)
		return ret;
	ide_cd_state(pc->ide, channel, unit, &st);
	snprintf(msg, len, "cdrom=%s tray=%s locked=%s",
		 pc->cdrom ? pc->cdrom->path : "empty",
		 st.tray_open ? "open" : "closed", st.locked ? "yes" : "no");
	return 0;
}

/* A fresh frame of whatever mode the adapter is in, as a PNG file. */
static int pc_ctl_screendump(void *opaque, const char *path, char *msg,
			     size_t len)
{
	struct pc *pc = opaque;
	struct display *d = vga_display(pc->vga);
	int ret;

	display_refresh(d);
	ret = screen_png_write(path, &d->surface);
	if (ret) {
		snprintf(msg, len, "%s: %s", path, strerror(-ret));
		return ret;
	}
	snprintf(msg, len, "%ux%u %s", d->surface.width, d->surface.height,
		 path);
	return 0;
}

static const struct control_ops pc_control_ops = {
	.eject = pc_ctl_eject,
	.insert = pc_ctl_insert,
	.status = pc_ctl_status,
	.screendump = pc_ctl_screendump,
	.machine = pc_ctl_machine,
};

static int pc_create_control(struct pc *pc, char *err, size_t errlen)
{
	if (!pc->cfg.control_path)
		return 0;
	return control_open(&pc->loop, pc->cfg.control_path, &pc_control_ops,
			    pc, &pc->control, err, errlen);
}

static int pc_create_vga(struct pc *pc, char *err, size_t errlen)
{
	const char *path = pc->cfg.vgabios_path ? pc->cfg.vgabios_path :
						  PC_DEFAULT_VGABIOS;
	u8 *rom;
	size_t rom_size;
	int ret = pc_load_option_rom(path, &rom, &rom_size, err, errlen);

	if (ret)
		return ret;
	pc->vga = vga_create(&pc->pci, PC_DEVFN_VGA, rom, rom_size,
			     pc->cfg.vram_size, &pc->loop.timers);
	free(rom);
	return pc_adopt(pc, vga_device(pc->vga), "VGA adapter", err, errlen);
}

/* PIIX4 power management at 00:01.3: ACPI's PM registers and the SCI. */
static int pc_create_pm(struct pc *pc, char *err, size_t errlen)
{
	struct piix4_pm *pm =
		piix4_pm_create(&pc->pci, PC_DEVFN_PM, &pc->loop.timers,
				pc_isa_irq(pc, PC_SCI_IRQ), pc_power_off, pc);

	pc->pm = pm;
	return pc_adopt(pc, piix4_pm_device(pm), "power management", err,
			errlen);
}

/* PCI functions: host bridge, ISA bridge, IDE, power management, VGA. */
static int pc_create_pci(struct pc *pc, char *err, size_t errlen)
{
	struct irq_line pirq_out[PC_ISA_IRQS];
	struct piix3 *piix;
	unsigned i;
	int ret;

	ret = pc_adopt(pc, i440fx_device(i440fx_create(&pc->pci, &pc->mem)),
		       "host bridge", err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < PC_ISA_IRQS; i++)
		pirq_out[i] = pc_isa_irq(pc, PC_PIRQ_PIN_BASE + i);
	piix = piix3_create(&pc->pci, PC_DEVFN_ISA, pirq_out, pc_reset_line,
			    pc);
	pc->piix3 = piix;
	ret = pc_adopt(pc, piix3_device(piix), "ISA bridge", err, errlen);
	ret = ret ?: pc_create_ide(pc, err, errlen);
	ret = ret ?: pc_create_pm(pc, err, errlen);
	return ret ?: pc_create_vga(pc, err, errlen);
}

/* The RTL8029AS's PCI IDs (its datasheet, PCI configuration space). */
#define PC_RTL8029_VENDOR 0x10ec
#define PC_RTL8029_DEVICE 0x8029

/*
 * Debian's iPXE ROM for the NE2000 family serves several cards, so its PCI
 * data structure (PCI Firmware Spec 3.0, 5.1.2: "PCIR" at the offset in
 * ROM bytes 0x18-0x19) names vendor and device 0, and SeaBIOS runs a ROM
 * only for the device it names. Give it the card's IDs and keep the
 * ROM's byte sum by adjusting iPXE's checksum byte at offset 6.
 */
static void pc_nic_rom_set_ids(u8 *rom, size_t size)
{
	static const u8 ids[4] = {
		PC_RTL8029_VENDOR & 0xff, PC_RTL8029_VENDOR >> 8,
		PC_RTL8029_DEVICE & 0xff, PC_RTL8029_DEVICE >> 8};
	size_t pcir, i;
	u8 delta = 0;

	if (size < 0x1a)
		return;
	pcir = (size_t)(rom[0x18] | rom[0x19] << 8);
	if (pcir < 8 || pcir + 8 > size || memcmp(rom + pcir, "PCIR", 4))
		return;
	for (i = 0; i < 4; i++) {
		delta = (u8)(delta + ids[i] - rom[pcir + 4 + i]);
		rom[pcir + 4 + i] = ids[i];
	}
	rom[6] = (u8)(rom[6] - delta);
}

/*
 * The PCI card's option ROM: rom=FILE, none with rom=none, and by default
 * Debian's iPXE for the card when the machine is to boot from the network
 * (--boot net or a bootfile=), none otherwise (no PXE delay at boot).
 */
static int pc_nic_rom(const struct pc *pc, const struct net_config *nc,
		      u8 **rom, size_t *size, char *err, size_t errlen)
{
	const char *path = nc->rom[0] ? nc->rom : NULL;
	int ret;

	*rom = NULL;
	*size = 0;
	if (nc->rom_none)
		return 0;
	if (!path && (pc->cfg.boot == PC_BOOT_NET || nc->bootfile[0]))
		path = NET_DEFAULT_PCI_ROM;
	if (!path)
		return 0;
	ret = pc_load_option_rom(path, rom, size, err, errlen);
	if (!ret)
		pc_nic_rom_set_ids(*rom, *size);
	if (ret && !nc->rom[0] && ret == -ENOENT)
		snprintf(err, errlen,
			 "%s: no network boot ROM (install Debian's "
			 "ipxe-qemu, or give rom=FILE)",
			 path);
	return ret;
}

static int pc_create_nic(struct pc *pc, unsigned i, unsigned pci_slot,
			 char *err, size_t errlen)
{
	const struct net_config *nc = &pc->cfg.nics[i];
	struct ne2000 *nic = NULL;
	struct irq_line intx;
	u8 *rom;
	size_t rom_size;
	u8 devfn = PCI_DEVFN(pci_slot, 0);
	int ret =
		net_config_open(nc, &pc->loop, &pc->net_ports[i], err, errlen);

	/*
	 * A back end that cannot start (no switch, no bridge, no privilege)
	 * is a cable that is not plugged in: say so, and run without it.
	 */
	if (ret) {
		fprintf(stderr,
			"twoostwo: network card %u: %s: network cable "
			"unplugged, the machine runs without it\n",
			i + 1, err);
		pc->net_ports[i] = NULL;
	}
	ret = net_config_open_capture(nc, pc->net_ports[i], err, errlen);
	if (ret)
		return ret;
	if (nc->card == NET_CARD_NE2K_ISA) {
		intx = pc_isa_irq(pc, nc->irq);
		ret = ne2000_isa_create(pc->pio, nc->io, &intx, nc->mac,
					pc->net_ports[i], &nic, err, errlen);
	} else {
		ret = pc_nic_rom(pc, nc, &rom, &rom_size, err, errlen);
		if (ret)
			return ret;
		intx = piix3_pci_irq(pc->piix3, devfn, 1);
		ret = rtl8029_create(&pc->pci, devfn, &intx, nc->mac,
				     pc->net_ports[i], rom, rom_size, &nic, err,
				     errlen);
		free(rom);
	}
	if (ret)
		return ret;
	return pc_adopt(pc, ne2000_device(nic), "network card", err, errlen);
}

/* The --net cards, PCI ones in slots 3, 4, ... in command-line order. */
static int pc_create_nics(struct pc *pc, char *err, size_t errlen)
{
	unsigned i, slot = PC_NIC_FIRST_SLOT;
	int ret;

	for (i = 0; i < pc->cfg.nr_nics; i++) {
		ret = pc_create_nic(pc, i, slot, err, errlen);
		if (ret)
			return ret;
		if (pc->cfg.nics[i].card == NET_CARD_NE2K_PCI)
			slot++;
	}
	return 0;
}

/*
 * --engine: soft unless asked; auto takes kvm only on hardware
 * virtualization (cpu/kvm/kvm_host.c) and says which it took and why.
 * TWOOSTWO_KVM_FORCE=1 lets --engine kvm run on a software KVM (kvm_pvm)
 * for experiments.
 */
static const struct engine_ops *pc_pick_engine(const char *want, char *err,
					       size_t errlen)
{
	enum kvm_host_kind kind;
	char why[256];

	if (!want || !strcmp(want, "soft"))
		return &soft_engine_ops;
	kind = kvm_host_probe(why, sizeof(why));
	if (!strcmp(want, "auto")) {
		fprintf(stderr, "twoostwo: engine auto: %s (%s)\n",
			kind == KVM_HOST_HARDWARE ? "kvm" : "soft", why);
		return kind == KVM_HOST_HARDWARE ? &kvm_engine_ops :
						   &soft_engine_ops;
	}
	if (kind == KVM_HOST_HARDWARE ||
	    (kind == KVM_HOST_SOFTWARE && getenv("TWOOSTWO_KVM_FORCE")))
		return &kvm_engine_ops;
	snprintf(err, errlen, "engine kvm: %s", why);
	return NULL;
}

static int pc_create_vcpu(struct pc *pc, char *err, size_t errlen)
{
	int ret;

	pc->engine = pc_pick_engine(pc->cfg.engine, err, errlen);
	if (!pc->engine)
		return -ENODEV;
	pc->env = (struct vcpu_env){
		.pio = pc->pio,
		.mem = &pc->mem,
		.intack = pc_intack,
		.msr_read = pc_msr_read,
		.msr_write = pc_msr_write,
		.opaque = pc,
		/* the P6 with long mode: CPUID offers lm to every guest */
		.model = CPU_MODEL_X86_64,
	};
	ret = pc->engine->create(&pc->env, &pc->vcpu);
	if (ret && pc->engine == &kvm_engine_ops && pc->cfg.engine &&
	    !strcmp(pc->cfg.engine, "auto")) {
		fprintf(stderr,
			"twoostwo: engine auto: kvm failed (%s), using soft\n",
			strerror(-ret));
		pc->engine = &soft_engine_ops;
		ret = pc->engine->create(&pc->env, &pc->vcpu);
	}
	if (ret) {
		pc->vcpu = NULL;
		return pc_fail(err, errlen, ret,
			       pc->engine == &kvm_engine_ops ?
				       "kvm virtual CPU" :
				       "virtual CPU");
	}
	return 0;
}

int pc_create(const struct pc_config *cfg, struct pc **out, char *err,
	      size_t errlen)
{
	struct pc *pc;
	int ret = pc_check_config(cfg, err, errlen);

	if (ret)
		return ret;
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return pc_fail(err, errlen, -ENOMEM, "machine");
	pc->cfg = *cfg;
	pc->debug_fd = -1;
	pc->signal_fd = -1;
	pc->loop.epfd = -1;
	pc->created_ns = clock_now_ns();
	ret = pc_create_core(pc, err, errlen);
	ret = ret ?: pc_open_drives(pc, err, errlen);
	ret = ret ?: pc_create_apic(pc, err, errlen);
	ret = ret ?: pc_create_isa(pc, err, errlen);
	ret = ret ?: pc_create_host_io(pc, err, errlen);
	ret = ret ?: pc_create_ports(pc, err, errlen);
	ret = ret ?: pc_create_pci(pc, err, errlen);
	ret = ret ?: pc_create_nics(pc, err, errlen);
	ret = ret ?: pc_create_vcpu(pc, err, errlen);
	ret = ret ?: pc_create_control(pc, err, errlen);
	ret = ret ?: pc_create_vnc(pc, err, errlen);
	if (ret) {
		pc_destroy(pc);
		return ret;
	}
	pc_reset(pc);
	*out = pc;
	return 0;
}

void pc_destroy(struct pc *pc)
{
	unsigned i;

	if (!pc)
		return;
	control_close(pc->control);
	vnc_destroy(pc->vnc);
	if (pc->ui)
		terminal_ui_destroy(pc->ui);
	if (pc->vcpu)
		pc->engine->destroy(pc->vcpu);
	for (i = pc->nr_devices; i-- > 0;)
		if (pc->devices[i].ops->destroy)
			pc->devices[i].ops->destroy(pc->devices[i].opaque);
	/* The cards are gone: their back ends have no receiver. */
	for (i = 0; i < NET_MAX_CARDS; i++)
		net_port_close(pc->net_ports[i]);
	/* The devices drained their requests; no worker touches a disk. */
	aio_ctx_destroy(pc->aio);
	if (pc->serial)
		chardev_close(pc->serial);
	pc_close_ports(pc);
	block_close(pc->cdrom);
	for (i = 0; i < PC_IDE_SLOTS; i++)
		block_close(pc->disk[i]);
	if (pc->debug_fd >= 0)
		close(pc->debug_fd);
	if (pc->pio)
		pio_bus_free(pc->pio);
	mem_destroy(&pc->mem);
	if (pc->loop.epfd >= 0)
		evloop_destroy(&pc->loop);
	free(pc->last_screen_text);
	free(pc->bios);
	free(pc);
}

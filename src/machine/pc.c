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

#include "hw/debugcon.h"
#include "hw/i440fx.h"
#include "hw/ide.h"
#include "hw/pic.h"
#include "hw/piix3.h"
#include "hw/pit.h"
#include "hw/port92.h"
#include "hw/uart16550.h"
#include "hw/vga.h"
#include "machine/pc_internal.h"
#include "ui/terminal.h"

#define PC_COM1_BASE 0x3f8
#define PC_COM1_IRQ 4
#define PC_DEVFN_ISA PCI_DEVFN(1, 0)
#define PC_DEVFN_IDE PCI_DEVFN(1, 1)
#define PC_DEVFN_VGA PCI_DEVFN(2, 0)

/* Which PIC input a line drives: pins 0-15 ISA devices, 16-31 PIRQs. */
#define PC_PIRQ_PIN_BASE PC_ISA_IRQS

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
	if (before != after)
		pic_set_irq(pc->pic, irq, after);
}

static struct irq_line pc_isa_irq(struct pc *pc, unsigned irq)
{
	return (struct irq_line){pc_isa_irq_set, pc, irq};
}

static void pc_intr_changed(void *opaque, bool level)
{
	struct pc *pc = opaque;

	if (pc->vcpu)
		pc->engine->set_intr(pc->vcpu, level);
}

static int pc_intack(void *opaque)
{
	struct pc *pc = opaque;

	return pic_intack(pc->pic);
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

void pc_reset(struct pc *pc)
{
	unsigned i;

	/* Power-on: the 8042 output port enables A20, port 0x92 does not. */
	pc->a20_kbc = true;
	pc->a20_port92 = false;
	for (i = 0; i < pc->nr_devices; i++)
		pc->devices[i].ops->reset(pc->devices[i].opaque);
	pc_cmos_init(pc);
	pc->engine->reset(pc->vcpu);
	pc_update_a20(pc);
	pc->engine->set_intr(pc->vcpu, pic_intr_pending(pc->pic));
	pc->reset_requested = false;
}

/* ret: -errno. */
static int pc_fail(char *err, size_t errlen, int ret, const char *what)
{
	snprintf(err, errlen, "cannot create the %s: %s", what,
		 strerror(-ret));
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
	if (cfg->engine && strcmp(cfg->engine, "soft")) {
		snprintf(err, errlen, "unknown engine '%s' (available: soft)",
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
	return 0;
}

/* Memory, buses and firmware: everything devices attach to. */
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

/* The motherboard's ISA devices: PIC, PIT, RTC, 8042, port 0x92. */
static int pc_create_isa(struct pc *pc, char *err, size_t errlen)
{
	struct timer_list *timers = &pc->loop.timers;
	struct port92 *p92;
	struct pit *pit;
	int ret;

	pc->pic = pic_create(pc->pio, pc_intr_changed, pc);
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

static int pc_open_drives(struct pc *pc, char *err, size_t errlen)
{
	int ret = 0;

	if (pc->cfg.cdrom_path)
		ret = pc_open_cdrom(pc->cfg.cdrom_path, &pc->cdrom, err,
				    errlen);
	if (!ret && pc->cfg.hda_path)
		ret = block_open_raw(pc->cfg.hda_path, 0, &pc->hda, err,
				     errlen);
	return ret;
}

/* IDE: disk on the primary master, CD on the secondary master (as QEMU). */
static int pc_create_ide(struct pc *pc, char *err, size_t errlen)
{
	int ret;

	pc->ide = ide_create(&pc->pci, PC_DEVFN_IDE, pc_isa_irq(pc, 14),
			     pc_isa_irq(pc, 15));
	ret = pc_adopt(pc, ide_device(pc->ide), "IDE controller", err, errlen);
	if (ret)
		return ret;
	if (pc->hda)
		ret = ide_attach(pc->ide, 0, 0, IDE_DISK, pc->hda);
	if (!ret && pc->cdrom)
		ret = ide_attach(pc->ide, 1, 0, IDE_CDROM, pc->cdrom);
	return ret ? pc_fail(err, errlen, ret, "IDE drives") : 0;
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
	pc->vga = vga_create(&pc->pci, PC_DEVFN_VGA, rom, rom_size);
	free(rom);
	return pc_adopt(pc, vga_device(pc->vga), "VGA adapter", err, errlen);
}

/* PCI functions: host bridge, ISA bridge, IDE, VGA. */
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
	ret = pc_adopt(pc, piix3_device(piix), "ISA bridge", err, errlen);
	ret = ret ?: pc_create_ide(pc, err, errlen);
	return ret ?: pc_create_vga(pc, err, errlen);
}

static int pc_create_vcpu(struct pc *pc, char *err, size_t errlen)
{
	int ret;

	pc->engine = &soft_engine_ops;
	pc->env = (struct vcpu_env){
		.pio = pc->pio,
		.mem = &pc->mem,
		.intack = pc_intack,
		.opaque = pc,
		.model = CPU_MODEL_P6,
	};
	ret = pc->engine->create(&pc->env, &pc->vcpu);
	if (ret) {
		pc->vcpu = NULL;
		return pc_fail(err, errlen, ret, "virtual CPU");
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
	ret = pc_create_core(pc, err, errlen);
	ret = ret ?: pc_open_drives(pc, err, errlen);
	ret = ret ?: pc_create_isa(pc, err, errlen);
	ret = ret ?: pc_create_host_io(pc, err, errlen);
	ret = ret ?: pc_create_pci(pc, err, errlen);
	ret = ret ?: pc_create_vcpu(pc, err, errlen);
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
	if (pc->ui)
		terminal_ui_destroy(pc->ui);
	if (pc->vcpu)
		pc->engine->destroy(pc->vcpu);
	for (i = pc->nr_devices; i-- > 0;)
		if (pc->devices[i].ops->destroy)
			pc->devices[i].ops->destroy(pc->devices[i].opaque);
	if (pc->serial)
		chardev_close(pc->serial);
	block_close(pc->cdrom);
	block_close(pc->hda);
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

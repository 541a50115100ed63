/* SPDX-License-Identifier: MIT */
/*
 * Inside the virtual PC: the machine's state shared by its assembly
 * (pc.c), its run loop (pc_run.c), its firmware tables (pc_cmos.c,
 * pc_fw_cfg.c) and its image checks (pc_images.c). Nothing outside
 * src/machine includes this.
 */
#ifndef TWOOSTWO_MACHINE_PC_INTERNAL_H
#define TWOOSTWO_MACHINE_PC_INTERNAL_H

#include <signal.h>

#include "block/block.h"
#include "bus/pci.h"
#include "chardev/chardev.h"
#include "core/evloop.h"
#include "cpu/engine.h"
#include "hw/device.h"
#include "hw/fw_cfg.h"
#include "hw/i8042.h"
#include "hw/lapic.h"
#include "hw/rtc.h"
#include "machine/control.h"
#include "machine/pc.h"
#include "ui/text_screen.h"

#define PC_MAX_DEVICES 40
#define PC_ISA_IRQS 16

/*
 * ACPI hardware: SeaBIOS puts the PIIX4 PM I/O block at 0x600 when
 * etc/table-loader exists, and the SCI is ISA IRQ 9 (the FADT says so).
 */
#define PC_ACPI_PM_BASE 0x600
#define PC_SCI_IRQ 9
/* PCI network cards take the slots after the VGA (slot 2). */
#define PC_NIC_FIRST_SLOT 3

/* APIC IDs: the processor's, and the IOAPIC's (unique on the APIC bus). */
#define PC_CPU_APIC_ID 0
#define PC_IOAPIC_ID 1

struct control;
struct vmmouse;
struct vnc;
struct piix4_pm;
struct ioapic;
struct pic;
struct piix3;
struct vga;
struct terminal_ui;

struct pc {
	struct pc_config cfg;
	struct evloop loop;
	struct phys_mem mem;
	struct pio_bus *pio;
	struct pci_bus pci;
	u8 *bios;
	u64 bios_size;

	/* ISA IRQ n: OR of the ISA device on it and the PIIX3 PIRQ router. */
	u16 isa_dev_level, isa_pirq_level;

	struct pic *pic;
	/* The CPU's interrupt input: PIC -> LINT0, IOAPIC -> local APIC. */
	struct lapic *lapic;
	struct lapic_host lapic_host;
	struct ioapic *ioapic;
	struct rtc *rtc;
	struct i8042 *kbc;
	struct vmmouse *vmmouse; /* absolute pointer on the backdoor port */
	struct vnc *vnc;	  /* --vnc, or NULL */
	/* Last absolute pointer position in pixels, for relative motion. */
	int pointer_x, pointer_y;
	struct fw_cfg *fw;
	struct vga *vga;
	struct ide_controller *ide;
	struct aio_ctx *aio; /* disk I/O workers */
	struct piix3 *piix3; /* routes the PCI cards' INTx */
	/* Back ends of the network cards, closed after the cards. */
	struct net_port *net_ports[NET_MAX_CARDS];
	struct device devices[PC_MAX_DEVICES];
	unsigned nr_devices;

	/* A20 is enabled while either the 8042 or port 0x92 enables it. */
	bool a20_kbc, a20_port92;
	struct i8042_host kbc_host, port92_host;

	/* Drives, owned here; the IDE controller only borrows them. */
	struct block_dev *cdrom, *disk[PC_IDE_SLOTS];
	struct control *control; /* --control socket, or NULL */
	struct chardev *serial;
	struct chardev *ports[5]; /* COM2..COM4, LPT1, LPT2 (pc_ports.c) */
	int debug_fd;
	struct terminal_ui *ui;

	const struct engine_ops *engine;
	struct vcpu_env env;
	struct vcpu *vcpu;

	/* Requests from devices and the host, acted on between slices. */
	bool reset_requested, quit_requested;
	/* Control socket "pause": the vCPU does not run, the loop does. */
	bool paused;
	u64 created_ns;
	struct piix4_pm *pm;
	int exit_status;

	/* Screen watch: dump file and --exit-when-screen. */
	struct timer screen_timer, timeout_timer;
	struct text_screen screen;
	char *last_screen_text;
	bool screen_dump_failed; /* warned once */
	int signal_fd;
	sigset_t saved_sigmask;
};

/* Ask the run loop to reset the machine or to stop with status. */
void pc_request_reset(struct pc *pc);
void pc_request_quit(struct pc *pc, int status);
/* An ISA IRQ input; keep a device (reset, save, destroy) or fail. */
struct irq_line pc_isa_irq_line(struct pc *pc, unsigned irq);
int pc_adopt_device(struct pc *pc, struct device dev, const char *what,
		    char *err, size_t errlen);

/* COM2..COM4 and LPT1/LPT2 as configured (machine/pc_ports.c). */
int pc_create_ports(struct pc *pc, char *err, size_t errlen);
void pc_close_ports(struct pc *pc);

/* The control socket's machine verbs (machine/pc_vm.c). */
int pc_ctl_machine(void *opaque, enum control_verb verb, char *msg, size_t len);

/* Power-on state of every device and the vCPU. */
void pc_reset(struct pc *pc);

/* The --vnc server and its input into the keyboard and mice. */
int pc_create_vnc(struct pc *pc, char *err, size_t errlen);

/* NVRAM contents SeaBIOS falls back on (memory, disks, boot order). */
void pc_cmos_init(struct pc *pc);
/*
 * fw_cfg items: RAM size, CPUs, the E820 map, the ACPI tables. Returns 0
 * or -errno.
 */
int pc_fw_cfg_init(struct pc *pc);

/*
 * Image checks and loading. On error each returns -errno with a one-line
 * reason naming the file in err.
 */
int pc_load_firmware(const char *path, u8 **out, u64 *size, char *err,
		     size_t errlen);
int pc_load_option_rom(const char *path, u8 **out, size_t *size, char *err,
		       size_t errlen);
/*
 * An ISO image, or a host CD reader; a reader without a disc gives 0 and
 * *out NULL (an empty drive).
 */
int pc_open_cdrom(const char *path, struct block_dev **out, char *err,
		  size_t errlen);
/* The first hard disk present (primary master first), or NULL. */
struct block_dev *pc_first_disk(const struct pc *pc);

#endif

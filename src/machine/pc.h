/* SPDX-License-Identifier: MIT */
/*
 * The virtual PC: builds the one i440FX-class machine from a configuration
 * and runs it. Everything the guest can see is assembled here; nothing
 * below this layer knows the whole machine.
 */
#ifndef TWOOSTWO_MACHINE_PC_H
#define TWOOSTWO_MACHINE_PC_H

#include "core/types.h"
#include "net/netdev.h"

enum pc_boot { PC_BOOT_DEFAULT, PC_BOOT_CDROM, PC_BOOT_DISK, PC_BOOT_NET };
enum pc_display { PC_DISPLAY_NONE, PC_DISPLAY_TERMINAL };

/*
 * The four IDE positions: primary master and slave, secondary master and
 * slave (--hda to --hdd). The CD-ROM takes the secondary master.
 */
enum pc_ide_slot { PC_HDA, PC_HDB, PC_HDC, PC_HDD, PC_IDE_SLOTS };
#define PC_CDROM_SLOT PC_HDC

/*
 * How a disk is opened: images read-write and host block devices
 * read-only unless the user says otherwise (",rw" or ",ro").
 */
enum pc_disk_access { PC_DISK_DEFAULT, PC_DISK_RO, PC_DISK_RW };

struct pc_disk_config {
	const char *path; /* image or host block device, or NULL */
	enum pc_disk_access access;
};

#define PC_MIN_RAM (2ull << 20)
/*
 * All RAM below 0xC0000000, where SeaBIOS starts the PCI window when RAM
 * is over 2 GiB: no RAM above 4 GiB (no PAE yet) and no remapping.
 */
#define PC_MAX_RAM (3072ull << 20)
#define PC_DEFAULT_RAM (128ull << 20)
#define PC_DEFAULT_BIOS "/usr/share/seabios/bios.bin"
#define PC_DEFAULT_VGABIOS "/usr/share/seabios/vgabios-stdvga.bin"

struct pc_config {
	u64 ram_size;
	const char *bios_path;	  /* default: Debian's SeaBIOS */
	const char *vgabios_path; /* default: Debian's vgabios-stdvga.bin */
	u32 vram_size;		  /* video memory; 0: 16 MiB */
	/* ISO image or host CD reader, or NULL; the secondary master. */
	const char *cdrom_path;
	struct pc_disk_config disk[PC_IDE_SLOTS];
	enum pc_boot boot;
	const char *serial_spec;    /* chardev spec for COM1 */
	const char *debug_log_path; /* port 0x402 log, or NULL */
	enum pc_display display;
	const char *screen_dump_path; /* or NULL */
	const char *engine;	      /* "soft" */
	u64 timeout_ns;		      /* stop after this long (0: never) */
	/* Stop with status 0 once the text screen shows this (or NULL). */
	const char *exit_when_screen;
	/* Stop with status 0 when the CPU halts with IF clear. */
	bool exit_when_halted;
	/* Unix socket for `twoostwo control` (CD change), or NULL. */
	const char *control_path;
	/*
	 * Network cards (--net), in command-line order: PCI cards take
	 * slots 3, 4... after the VGA; ISA cards their I/O base and IRQ.
	 */
	const struct net_config *nics;
	unsigned nr_nics;
	/* VNC server address (see ui/vnc.h), or NULL: none. */
	const char *vnc_listen;
	const char *vnc_password_file; /* or NULL */
	/* COM2..COM4 and LPT1, LPT2 back-end specs, or NULL (no port). */
	const char *com_spec[3];
	const char *lpt_spec[2];
	/* Where the control socket's "suspend" saves the machine, or NULL. */
	const char *state_path;
};

/* pc_run's status when cfg->timeout_ns ran out. */
#define PC_EXIT_TIMEOUT 3
#define PC_EXIT_SIGNAL 128

struct pc;

/* On error returns -errno with a one-line reason in err. */
int pc_create(const struct pc_config *cfg, struct pc **out, char *err,
	      size_t errlen);
/*
 * Run until the guest powers off or the user quits; the process status:
 * 0, PC_EXIT_TIMEOUT, or PC_EXIT_SIGNAL + n when signal n (SIGINT,
 * SIGTERM) stopped the machine.
 */
int pc_run(struct pc *pc);
void pc_destroy(struct pc *pc);
/*
 * Enter the process sandbox (core/sandbox.h) after pc_create: system-call
 * filter, no capabilities, only the VM's files. Returns 0 or -errno with a
 * one-line reason in err.
 */
int pc_enter_sandbox(struct pc *pc, char *err, size_t errlen);

/*
 * Save the whole machine to path (machine/pc_state.c, vm/statefile.h):
 * disks drained and flushed, the file replaced atomically. Load one into
 * a machine just created from the same configuration, before pc_run.
 * Both return -errno with one line in err.
 */
int pc_save_state(struct pc *pc, const char *path, char *err, size_t errlen);
int pc_load_state(struct pc *pc, const char *path, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * IDE: two ATA channels, each with a master and a slave drive, behind the
 * PIIX3 IDE function (PCI 8086:7010, 00:01.1) with legacy ports (primary
 * 0x1F0-0x1F7/0x3F6 IRQ 14, secondary 0x170-0x177/0x376 IRQ 15) and bus
 * master DMA (BAR4). Drives are ATA disks or ATAPI CD-ROMs (ATA/ATAPI-6,
 * MMC-3), backed by block devices.
 */
#ifndef TWOOSTWO_HW_IDE_H
#define TWOOSTWO_HW_IDE_H

#include "block/block.h"
#include "bus/irq.h"
#include "bus/pci.h"
#include "hw/device.h"

enum ide_drive_kind { IDE_NONE, IDE_DISK, IDE_CDROM };

struct ide_controller;
struct aio_ctx;

struct ide_controller *ide_create(struct pci_bus *pci, u8 devfn,
				  struct irq_line irq14,
				  struct irq_line irq15);
/*
 * Run disk DMA and FLUSH CACHE on the worker threads of aio (see
 * block/aio.h) instead of inside the vCPU's port access. Call before
 * attaching drives (-EBUSY otherwise); aio must outlive the controller.
 */
int ide_set_aio(struct ide_controller *ide, struct aio_ctx *aio);
/*
 * Attach a drive at channel (0, 1) and unit (0 master, 1 slave). A CD-ROM
 * may have no medium (bd NULL). Returns 0 or -errno.
 *
 * The controller never closes a block device: the caller keeps it open
 * while it is attached, and closes it after the controller is destroyed or
 * after ide_change_medium() replaced it.
 */
int ide_attach(struct ide_controller *ide, unsigned channel, unsigned unit,
	       enum ide_drive_kind kind, struct block_dev *bd);
/*
 * Change the medium of a CD-ROM at runtime (NULL: eject), as a user does:
 * the guest sees a media event and, for a new disc, a unit attention.
 */
int ide_change_medium(struct ide_controller *ide, unsigned channel,
		      unsigned unit, struct block_dev *bd);

/* What the user of a CD-ROM drive sees of it (ide_cd_state). */
struct ide_cd_state {
	bool medium;	/* a disc is in the drive */
	bool tray_open; /* the tray is out */
	bool locked;	/* the guest prevents medium removal */
};

/* -ENOTSUP when the drive is not a CD-ROM. */
int ide_cd_state(struct ide_controller *ide, unsigned channel, unsigned unit,
		 struct ide_cd_state *out);
/*
 * The user pushes the drive's eject button: the tray opens and the disc
 * is out (the caller may close its block device). While the guest
 * prevents removal the drive refuses with -EBUSY and tells the guest an
 * eject was requested (GET EVENT STATUS NOTIFICATION), unless force.
 */
int ide_cd_eject(struct ide_controller *ide, unsigned channel, unsigned unit,
		 bool force);
struct device ide_device(struct ide_controller *ide);

#endif

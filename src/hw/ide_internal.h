/* SPDX-License-Identifier: MIT */
/*
 * Private to the IDE model: shared by ide.c (channels, task file, ATA
 * commands, PIIX3 function and bus master DMA) and ide_atapi.c (MMC packet
 * commands of the CD-ROM).
 *
 * Every command runs to completion inside the port write that starts it (or
 * inside the bus master start for DMA), except the disk's DMA reads and
 * writes, FLUSH CACHE and DATA SET MANAGEMENT (TRIM): those go to a
 * worker thread (block/aio.h) and the drive shows BSY until their
 * completion runs on the machine thread.
 * A data phase moves bytes through the drive's buffer:
 * op says where they come from or go to, xfer_left how many remain in the
 * whole command, drq_left how many remain in the current PIO DRQ block.
 */
#ifndef TWOOSTWO_HW_IDE_INTERNAL_H
#define TWOOSTWO_HW_IDE_INTERNAL_H

#include "block/aio.h"
#include "hw/ide.h"

#define IDE_SECTOR_SIZE 512
#define CD_SECTOR_SIZE 2048
/*
 * The largest PIO block is an ATAPI byte count limit (0xFFFE); streaming a
 * CD read may leave up to one sector of a previous block in front of it.
 */
#define IDE_BUF_SIZE (72 * 1024)
#define ATAPI_MAX_BCL 0xfffe
#define ATAPI_CDB_SIZE 12

/* Status register (ATA/ATAPI-6, 7.15.6). */
#define ATA_SR_ERR 0x01
#define ATA_SR_DRQ 0x08
#define ATA_SR_DSC 0x10
#define ATA_SR_DRDY 0x40
#define ATA_SR_BSY 0x80
/* Error register (ATA/ATAPI-6, 7.11.6). */
#define ATA_ER_ABRT 0x04
#define ATA_ER_IDNF 0x10
#define ATA_ER_UNC 0x40
/* Interrupt reason, read in the sector count register (ATA/ATAPI-6, 8.21). */
#define ATAPI_IR_COD 0x01
#define ATAPI_IR_IO 0x02

/* Command flags of the dispatch table in ide.c. */
#define IDE_CMD_CD 0x01	     /* valid for a PACKET device too */
#define IDE_CMD_NO_DISK 0x02 /* not valid for an ATA disk */
#define IDE_CMD_LBA48 0x04
#define IDE_CMD_MULT 0x08
#define IDE_CMD_DMA 0x10
#define IDE_CMD_WRITE 0x20

enum ide_op {
	IDE_OP_NONE,
	IDE_OP_BUF_IN,	  /* to the host from buf: IDENTIFY, ATAPI replies */
	IDE_OP_ATA_READ,  /* to the host, disk sectors loaded as needed */
	IDE_OP_ATA_WRITE, /* from the host, stored one block at a time */
	IDE_OP_CDB,	  /* from the host: the 12-byte ATAPI packet */
	IDE_OP_CD_READ,	  /* to the host, CD sectors loaded as needed */
	IDE_OP_DSM,	  /* from the host by DMA: TRIM range entries */
	IDE_OP_COUNT
};

enum ide_addr_mode { IDE_ADDR_CHS, IDE_ADDR_LBA28, IDE_ADDR_LBA48 };

/*
 * The guest-visible state of one drive, saved as is. Flags are u8, not
 * bool, so that loading any bytes is defined behaviour.
 */
struct ide_drive_state {
	u8 kind; /* enum ide_drive_kind */
	/* Task file (ATA/ATAPI-6, 7): current and previous (HOB) bytes. */
	u8 feature, hob_feature;
	u8 nsector, hob_nsector;
	u8 sector, hob_sector;
	u8 lcyl, hob_lcyl;
	u8 hcyl, hob_hcyl;
	u8 status, error;
	/* Settings */
	u8 mult_sectors; /* SET MULTIPLE MODE, 0: disabled */
	u8 heads, spt;	 /* CHS translation, INITIALIZE DEVICE PARAMETERS */
	u8 xfer_mode;	 /* SET FEATURES 03h: selected DMA mode */
	u8 write_cache;
	/* Data phase */
	u8 op;	      /* enum ide_op */
	u8 dma;	      /* data moves through the bus master */
	u8 addr_mode; /* enum ide_addr_mode of the running command */
	u8 packet;    /* the data phase belongs to a PACKET command */
	u32 buf_pos, buf_len;
	u32 drq_left;
	u32 drq_size; /* bytes in a full DRQ block; ATAPI: byte count limit */
	u64 xfer_left;
	u64 lba;       /* reads: next sector to load; writes: next to store */
	u64 load_left; /* reads: sectors not loaded yet */
	/* PACKET device (MMC-3) */
	u8 sense_key, asc, ascq;
	u8 unit_attention;
	u8 media_event; /* GET EVENT STATUS NOTIFICATION media event code */
	u8 locked;
	u8 tray_open;
	u8 buf[IDE_BUF_SIZE];
};

struct ide_channel_state {
	u8 select; /* device/head register */
	u8 ctrl;   /* device control register */
	u8 irq_pending;
	u8 bm_cmd, bm_status;
	u32 bm_prd;
};

struct ide_channel;
struct ide_io;

struct ide_drive {
	struct ide_drive_state s;
	struct block_dev *bd; /* not owned */
	u64 sectors;	      /* of the medium, in this drive's sector size */
	struct ide_channel *chan;
	unsigned unit;
	/*
	 * A disk's asynchronous requests: the one the drive is busy with
	 * (NULL: none), and a generation that a reset bumps so that the
	 * completion of a request from before the reset is dropped.
	 */
	struct aio_dev *aio;
	struct ide_io *io;
	struct ide_io *spare; /* the last one, kept for its buffer */
	u32 io_gen;
};

struct ide_channel {
	struct ide_channel_state s;
	struct ide_drive drive[2];
	struct irq_line irq;
	struct ide_controller *ide;
	unsigned index;
};

struct ide_controller {
	struct pci_function pci;
	struct pci_bus *bus;
	struct ide_channel chan[2];
	struct aio_ctx *aio; /* NULL: disk I/O runs synchronously */
};

/* ide.c */
void ide_irq_raise(struct ide_drive *d);
void ide_cmd_abort(struct ide_drive *d);
void ide_end_transfer(struct ide_drive *d);
void ide_set_signature(struct ide_drive *d);
/* The words both IDENTIFY DEVICE and IDENTIFY PACKET DEVICE carry. */
void ide_identify_common(struct ide_drive *d, u8 *id, const char *model);
void ide_identify_finish(u8 *id);
/* Start the device-to-host data phase of bytes, from buf or the medium. */
void ide_data_in_start(struct ide_drive *d, enum ide_op op, u64 bytes);

/* ide_atapi.c */
void ide_atapi_cmd_packet(struct ide_drive *d, unsigned flags);
void ide_atapi_cmd_identify(struct ide_drive *d, unsigned flags);
/* The 12-byte packet has arrived in buf: run it. */
void ide_atapi_packet(struct ide_drive *d);
/* Load more CD sectors into buf; on failure the command has failed. */
int ide_atapi_load(struct ide_drive *d);
/* Status phase: success, or CHECK CONDITION with this sense. */
void ide_atapi_done(struct ide_drive *d);
void ide_atapi_fail(struct ide_drive *d, u8 key, u8 asc, u8 ascq);
void ide_atapi_set_medium(struct ide_drive *d, struct block_dev *bd);

#endif

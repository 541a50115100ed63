// SPDX-License-Identifier: MIT
/*
 * IDE: the PIIX3 IDE function (PIIX3 datasheet, 2.7 and 8) with its two
 * legacy ATA channels and bus master DMA (SFF-8038i), and the ATA disk
 * command set (ATA/ATAPI-6). The PACKET command set of the CD-ROM lives in
 * ide_atapi.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "hw/ide_internal.h"

#define IDE_PRI_CMD 0x1f0
#define IDE_PRI_CTL 0x3f6
#define IDE_SEC_CMD 0x170
#define IDE_SEC_CTL 0x376
#define IDE_CMD_PORTS 8

/* Command block register offsets (ATA/ATAPI-6, 7.1). */
#define ATA_REG_DATA 0
#define ATA_REG_FEATURE 1 /* error on reads */
#define ATA_REG_NSECTOR 2
#define ATA_REG_SECTOR 3
#define ATA_REG_LCYL 4
#define ATA_REG_HCYL 5
#define ATA_REG_SELECT 6
#define ATA_REG_CMD 7 /* status on reads */

#define ATA_SEL_DEV 0x10
#define ATA_SEL_LBA 0x40
/* Device control register (ATA/ATAPI-6, 7.9). */
#define ATA_CTL_NIEN 0x02
#define ATA_CTL_SRST 0x04
#define ATA_CTL_HOB 0x80

#define ATA_CMD_DIAGNOSTIC 0x90

/*
 * DATA SET MANAGEMENT (ACS-2, 7.10): feature bit 0 is TRIM; the data is
 * 512-byte blocks of 8-byte LBA range entries, each a 48-bit LBA and a
 * 16-bit sector count (0: the entry is unused).
 */
#define ATA_DSM_TRIM 0x01
#define ATA_DSM_ENTRY_SIZE 8
#define ATA_DSM_LBA_MASK 0xffffffffffffull
/*
 * IDENTIFY word 105: the blocks of entries one command may carry. Linux
 * sends one; eight bound the drive's work per command (512 ranges).
 */
#define IDE_DSM_MAX_BLOCKS 8

/* Bus master IDE registers, per channel (PIIX3 datasheet, 2.7). */
#define BM_CMD 0
#define BM_STATUS 2
#define BM_PRD 4
#define BM_CHANNEL_STRIDE 8
#define BM_SIZE 16
#define BM_CMD_START 0x01
#define BM_CMD_TO_MEM 0x08
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_IRQ 0x04
#define BM_ST_CAPABLE 0x60
#define PRD_EOT 0x80000000u
/* A PRD table may not cross a 64 KiB boundary (SFF-8038i, 2.1). */
#define PRD_MAX_ENTRIES (0x10000 / 8)

/* PIIX3 IDE configuration registers (PIIX3 datasheet, 2.7). */
#define PIIX_IDETIM 0x40 /* primary 0x40-0x41, secondary 0x42-0x43 */
#define PIIX_SIDETIM 0x44
#define PIIX_BMIBA_BAR 4

#define IDE_DEFAULT_HEADS 16
#define IDE_DEFAULT_SPT 63
#define IDE_MAX_CYLS 16383
#define IDE_MAX_MULT 16
#define IDE_LBA28_MAX 0x0fffffffull
#define IDE_SAVE_VER 1

struct ide_cmd {
	void (*fn)(struct ide_drive *d, unsigned flags);
	unsigned flags;
};

static struct ide_drive *ide_cur(struct ide_channel *ch)
{
	return &ch->drive[(ch->s.select & ATA_SEL_DEV) ? 1 : 0];
}

static bool ide_is_cd(const struct ide_drive *d)
{
	return d->s.kind == IDE_CDROM;
}

/* Interrupts */

static void ide_irq_update(struct ide_channel *ch)
{
	irq_set(&ch->irq, ch->s.irq_pending && !(ch->s.ctrl & ATA_CTL_NIEN));
}

void ide_irq_raise(struct ide_drive *d)
{
	struct ide_channel *ch = d->chan;

	ch->s.irq_pending = 1;
	/* The bus master latches every device interrupt (SFF-8038i, 2.1). */
	ch->s.bm_status |= BM_ST_IRQ;
	ide_irq_update(ch);
}

/* Command completion */

void ide_end_transfer(struct ide_drive *d)
{
	d->s.op = IDE_OP_NONE;
	d->s.packet = 0;
	d->s.drq_left = 0;
}

static void ide_cmd_ok(struct ide_drive *d, unsigned flags)
{
	ide_end_transfer(d);
	d->s.status = ATA_SR_DRDY | ATA_SR_DSC;
	ide_irq_raise(d);
}

static void ide_ata_fail(struct ide_drive *d, u8 error)
{
	ide_end_transfer(d);
	d->s.error = error;
	d->s.status = ATA_SR_DRDY | ATA_SR_ERR;
	ide_irq_raise(d);
}

void ide_cmd_abort(struct ide_drive *d)
{
	ide_ata_fail(d, ATA_ER_ABRT);
}

/* Fail the running command the way its drive reports errors. */
static void ide_fail_transfer(struct ide_drive *d)
{
	if (d->s.packet)
		ide_atapi_fail(d, 0x0b, 0x00, 0x00); /* ABORTED COMMAND */
	else
		ide_cmd_abort(d);
}

/* Signatures and reset (ATA/ATAPI-6, 9.12) */

void ide_set_signature(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;

	s->nsector = s->hob_nsector = 1;
	s->sector = s->hob_sector = 1;
	s->lcyl = s->hob_lcyl = ide_is_cd(d) ? 0x14 : 0;
	s->hcyl = s->hob_hcyl = ide_is_cd(d) ? 0xeb : 0;
}

/*
 * Forget the request the drive is busy with: it still runs (ordered before
 * any later one), but its completion finds a newer generation and only
 * frees it.
 */
static void ide_io_cancel(struct ide_drive *d)
{
	d->io = NULL;
	d->io_gen++;
}

/* What a drive shows after a reset: its signature, diagnostics passed. */
static void ide_drive_reset_regs(struct ide_drive *d)
{
	ide_io_cancel(d);
	ide_end_transfer(d);
	ide_set_signature(d);
	d->s.error = 0x01;
	/* PACKET devices leave DRDY clear after a reset (ATA/ATAPI-6, 9.1). */
	d->s.status = ide_is_cd(d) ? 0 : ATA_SR_DRDY | ATA_SR_DSC;
}

static void ide_drive_power_on(struct ide_drive *d)
{
	u8 kind = d->s.kind;

	memset(&d->s, 0, offsetof(struct ide_drive_state, buf));
	d->s.kind = kind;
	if (kind == IDE_NONE)
		return;
	d->s.heads = IDE_DEFAULT_HEADS;
	d->s.spt = IDE_DEFAULT_SPT;
	d->s.write_cache = 1;
	d->s.xfer_mode = 0x22; /* multiword DMA mode 2 */
	ide_drive_reset_regs(d);
}

/* IDENTIFY data (ATA/ATAPI-6, 8.15 and 8.16) */

static void ide_id_word(u8 *id, unsigned word, u16 value)
{
	put_le16(id + 2 * word, value);
}

/* ATA strings hold two characters per word, the first in the high byte. */
static void ide_id_string(u8 *id, unsigned word, unsigned len, const char *str)
{
	size_t n = strlen(str);
	unsigned i;

	for (i = 0; i < len; i++)
		id[2 * word + (i ^ 1)] = i < n ? (u8)str[i] : ' ';
}

/* Word 93: how the drives of this channel came out of reset. */
static u16 ide_id_reset_result(const struct ide_drive *d)
{
	const struct ide_channel *ch = d->chan;
	u16 w = 0x4000 | 0x2000; /* valid; 80-conductor cable (CBLID) */

	if (d->unit)
		return w | 0x0b00; /* set by jumper, PDIAG- asserted */
	w |= 0x000b;		   /* by jumper, diagnostics passed */
	if (ch->drive[1].s.kind != IDE_NONE)
		w |= 0x0030; /* saw device 1's PDIAG- and DASP- */
	return w;
}

void ide_identify_common(struct ide_drive *d, u8 *id, const char *model)
{
	char serial[21];
	u8 mode = d->s.xfer_mode;
	u16 mwdma = (mode & 0xf8) == 0x20 ? 0x100 << (mode & 7) : 0;
	u16 udma = (mode & 0xf8) == 0x40 ? 0x100 << (mode & 7) : 0;

	memset(id, 0, IDE_SECTOR_SIZE);
	snprintf(serial, sizeof(serial), "TWOOSTWO%04u",
		 d->chan->index * 2 + d->unit + 1);
	ide_id_string(id, 10, 20, serial);
	ide_id_string(id, 23, 8, "1.0");
	ide_id_string(id, 27, 40, model);
	/* IORDY, LBA and DMA supported. */
	ide_id_word(id, 49, 0x0b00);
	ide_id_word(id, 50, 0x4000);
	ide_id_word(id, 51, 0x0200);
	ide_id_word(id, 52, 0x0200);
	ide_id_word(id, 53, 0x0006);	     /* words 64-70 and 88 are valid */
	ide_id_word(id, 63, 0x0007 | mwdma); /* selected mode in 10:8 */
	ide_id_word(id, 64, 0x0003);	     /* PIO modes 3 and 4 */
	ide_id_word(id, 65, 120);
	ide_id_word(id, 66, 120);
	ide_id_word(id, 67, 120);
	ide_id_word(id, 68, 120);
	ide_id_word(id, 88, 0x003f | udma);
	ide_id_word(id, 93, ide_id_reset_result(d));
}

/* Word 255: signature A5h and a checksum making all bytes sum to zero. */
void ide_identify_finish(u8 *id)
{
	u8 sum = 0xa5;
	unsigned i;

	for (i = 0; i < IDE_SECTOR_SIZE - 2; i++)
		sum = (u8)(sum + id[i]);
	id[510] = 0xa5;
	id[511] = (u8)-sum;
}

static u32 ide_disk_cylinders(const struct ide_drive *d, unsigned heads,
			      unsigned spt)
{
	u64 cyls = d->sectors / (heads * spt);

	return (u32)MAX(1, MIN(cyls, IDE_MAX_CYLS));
}

/* TRIM is offered only when the back end can discard at all. */
static bool ide_disk_trims(const struct ide_drive *d)
{
	return d->bd && block_can_discard(d->bd);
}

/*
 * Word 169 bit 0: TRIM (ACS-2, 7.12.7.78); word 105: blocks per command.
 * Linux reads word 169 only from a drive that claims ATA/ATAPI-7 in word
 * 80, so the versions go up to 7 for such a disk.
 *
 * Word 69 bits 14 and 5 (deterministic data, zeros after TRIM) stay
 * clear: discard is advisory in the block layer. A host file system that
 * cannot punch holes, or a host drive that keeps its data, leaves the old
 * sectors in place, and promising zeros would turn every TRIM into a
 * write of zeros.
 */
static void ide_identify_trim(u8 *id)
{
	ide_id_word(id, 80, 0x00fe);
	ide_id_word(id, 105, IDE_DSM_MAX_BLOCKS);
	ide_id_word(id, 169, 0x0001);
}

static void ide_disk_identify(struct ide_drive *d, u8 *id)
{
	const struct ide_drive_state *s = &d->s;
	u64 lba28 = MIN(d->sectors, IDE_LBA28_MAX);
	u32 cyls, cur_cyls = 0, cur_cap = 0;

	ide_identify_common(d, id, "TWOOSTWO HARDDISK");
	ide_id_word(id, 0, 0x0040); /* fixed disk */
	cyls = ide_disk_cylinders(d, IDE_DEFAULT_HEADS, IDE_DEFAULT_SPT);
	ide_id_word(id, 1, (u16)cyls);
	ide_id_word(id, 3, IDE_DEFAULT_HEADS);
	ide_id_word(id, 6, IDE_DEFAULT_SPT);
	ide_id_word(id, 47, 0x8000 | IDE_MAX_MULT);
	ide_id_word(id, 48, 0x0001); /* 32-bit PIO */
	ide_id_word(id, 53, 0x0007);
	if (s->spt && s->heads) {
		cur_cyls = (u32)MIN(d->sectors / (s->heads * s->spt), 0xffff);
		cur_cap = cur_cyls * s->heads * s->spt;
	}
	ide_id_word(id, 54, (u16)cur_cyls);
	ide_id_word(id, 55, s->heads);
	ide_id_word(id, 56, s->spt);
	ide_id_word(id, 57, (u16)cur_cap);
	ide_id_word(id, 58, (u16)(cur_cap >> 16));
	if (s->mult_sectors)
		ide_id_word(id, 59, 0x0100 | s->mult_sectors);
	ide_id_word(id, 60, (u16)lba28);
	ide_id_word(id, 61, (u16)(lba28 >> 16));
	ide_id_word(id, 80, 0x007e); /* ATA-1 to ATA/ATAPI-6 */
	/* NOP, write cache; LBA48, FLUSH CACHE (EXT) */
	ide_id_word(id, 82, 0x4020);
	ide_id_word(id, 83, 0x7400);
	ide_id_word(id, 84, 0x4000);
	ide_id_word(id, 85, 0x4000 | (s->write_cache ? 0x0020 : 0));
	ide_id_word(id, 86, 0x3400);
	ide_id_word(id, 87, 0x4000);
	ide_id_word(id, 100, (u16)d->sectors);
	ide_id_word(id, 101, (u16)(d->sectors >> 16));
	ide_id_word(id, 102, (u16)(d->sectors >> 32));
	ide_id_word(id, 103, (u16)(d->sectors >> 48));
	if (ide_disk_trims(d))
		ide_identify_trim(id);
	ide_identify_finish(id);
}

/* Task file addressing (ATA/ATAPI-6, 6.2) */

/* Decode the address and count of a read/write command; false: IDNF. */
static bool ide_decode_addr(struct ide_drive *d, bool lba48, u64 *lba,
			    u32 *count)
{
	struct ide_drive_state *s = &d->s;
	u8 sel = d->chan->s.select;
	unsigned cyl, head;

	if (lba48) {
		s->addr_mode = IDE_ADDR_LBA48;
		*lba = (u64)s->hob_hcyl << 40 | (u64)s->hob_lcyl << 32 |
		       (u64)s->hob_sector << 24 | (u64)s->hcyl << 16 |
		       (u64)s->lcyl << 8 | s->sector;
		*count = (u32)(s->hob_nsector << 8 | s->nsector);
		if (!*count)
			*count = 0x10000;
		return true;
	}
	*count = s->nsector ? s->nsector : 0x100;
	if (sel & ATA_SEL_LBA) {
		s->addr_mode = IDE_ADDR_LBA28;
		*lba = (u64)(sel & 0xf) << 24 | (u64)s->hcyl << 16 |
		       (u64)s->lcyl << 8 | s->sector;
		return true;
	}
	s->addr_mode = IDE_ADDR_CHS;
	cyl = (unsigned)s->hcyl << 8 | s->lcyl;
	head = sel & 0xf;
	if (!s->sector || s->sector > s->spt || head >= s->heads)
		return false;
	*lba = ((u64)cyl * s->heads + head) * s->spt + s->sector - 1;
	return true;
}

/* Write an address back into the task file in the command's own form. */
static void ide_set_addr(struct ide_drive *d, u64 lba)
{
	struct ide_drive_state *s = &d->s;
	u8 *sel = &d->chan->s.select;
	u64 cyl;

	switch (s->addr_mode) {
	case IDE_ADDR_LBA48:
		s->hob_sector = (u8)(lba >> 24);
		s->hob_lcyl = (u8)(lba >> 32);
		s->hob_hcyl = (u8)(lba >> 40);
		break;
	case IDE_ADDR_LBA28:
		*sel = (u8)((*sel & 0xf0) | ((lba >> 24) & 0xf));
		break;
	default:
		if (!s->spt || !s->heads)
			return;
		cyl = lba / ((u64)s->heads * s->spt);
		*sel = (u8)((*sel & 0xf0) | ((lba / s->spt) % s->heads));
		s->sector = (u8)(lba % s->spt + 1);
		s->lcyl = (u8)cyl;
		s->hcyl = (u8)(cyl >> 8);
		return;
	}
	s->sector = (u8)lba;
	s->lcyl = (u8)(lba >> 8);
	s->hcyl = (u8)(lba >> 16);
}

/* Buffer management */

/*
 * Before the drive calls its block device directly (PIO), let a cancelled
 * request that still runs on a worker finish: the back ends are not
 * thread-safe, and the order of writes must hold.
 */
static void ide_disk_idle(struct ide_drive *d)
{
	if (d->aio)
		aio_dev_wait(d->aio);
}

/* Load more disk sectors behind buf_len; on failure the command failed. */
static int ide_ata_load(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;
	u64 n = MIN(s->load_left,
		    (IDE_BUF_SIZE - s->buf_len) / IDE_SECTOR_SIZE);
	int r;

	if (!n) {
		ide_cmd_abort(d);
		return -EIO;
	}
	ide_disk_idle(d);
	r = block_read(d->bd, s->lba * IDE_SECTOR_SIZE, s->buf + s->buf_len,
		       (size_t)n * IDE_SECTOR_SIZE);
	if (r) {
		log_guest_once("ide", "disk read failed: %s", strerror(-r));
		ide_set_addr(d, s->lba);
		ide_ata_fail(d, ATA_ER_UNC);
		return r;
	}
	s->buf_len += (u32)n * IDE_SECTOR_SIZE;
	s->lba += n;
	s->load_left -= n;
	return 0;
}

/* Make need bytes available at buf_pos; false: the command failed. */
static bool ide_buf_fill(struct ide_drive *d, u32 need)
{
	struct ide_drive_state *s = &d->s;
	int r;

	if (s->buf_len - s->buf_pos >= need)
		return true;
	memmove(s->buf, s->buf + s->buf_pos, s->buf_len - s->buf_pos);
	s->buf_len -= s->buf_pos;
	s->buf_pos = 0;
	while (s->buf_len < need) {
		if (s->op == IDE_OP_ATA_READ) {
			r = ide_ata_load(d);
		} else if (s->op == IDE_OP_CD_READ) {
			r = ide_atapi_load(d);
		} else {
			ide_fail_transfer(d);
			r = -EIO;
		}
		if (r)
			return false;
	}
	return true;
}

/* Store the received bytes of an ATA write; false: the command failed. */
static bool ide_ata_store(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;
	u32 len = s->buf_pos & ~(u32)(IDE_SECTOR_SIZE - 1);
	int r;

	if (!len) {
		ide_cmd_abort(d);
		return false;
	}
	ide_disk_idle(d);
	r = block_write(d->bd, s->lba * IDE_SECTOR_SIZE, s->buf, len);
	if (r) {
		log_guest_once("ide", "disk write failed: %s", strerror(-r));
		ide_set_addr(d, s->lba);
		ide_cmd_abort(d);
		return false;
	}
	s->lba += len / IDE_SECTOR_SIZE;
	s->xfer_left -= MIN(len, s->xfer_left);
	s->buf_pos = 0;
	return true;
}

static void ide_ata_write_done(struct ide_drive *d)
{
	/* Without a write cache the data must be on the medium now. */
	ide_disk_idle(d);
	if (!d->s.write_cache && block_flush(d->bd)) {
		ide_cmd_abort(d);
		return;
	}
	ide_set_addr(d, d->s.lba - 1);
	ide_cmd_ok(d, 0);
}

static void ide_data_in_done(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;
	bool was_read = s->op == IDE_OP_ATA_READ;

	if (s->packet) {
		ide_atapi_done(d);
		return;
	}
	ide_end_transfer(d);
	s->status = ATA_SR_DRDY | ATA_SR_DSC;
	if (was_read)
		ide_set_addr(d, s->lba - 1);
	/* PIO data-in commands interrupt per block, not at the end. */
	if (s->dma)
		ide_irq_raise(d);
}

/* PIO (ATA/ATAPI-6, 9.6-9.8 and 9.10) */

static void ide_pio_in_next(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;
	u32 block = (u32)MIN(s->xfer_left, s->drq_size);

	if (!ide_buf_fill(d, block))
		return;
	s->drq_left = block;
	s->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	if (s->packet) {
		s->nsector = ATAPI_IR_IO;
		s->lcyl = (u8)block;
		s->hcyl = (u8)(block >> 8);
	}
	ide_irq_raise(d);
}

static void ide_pio_out_next(struct ide_drive *d, bool irq)
{
	struct ide_drive_state *s = &d->s;

	s->buf_pos = 0;
	s->drq_left = (u32)MIN(s->xfer_left, s->drq_size);
	s->buf_len = s->drq_left;
	s->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	if (irq)
		ide_irq_raise(d);
}

static void ide_pio_block_done(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;

	switch (s->op) {
	case IDE_OP_CDB:
		ide_atapi_packet(d);
		break;
	case IDE_OP_ATA_WRITE:
		if (!ide_ata_store(d))
			break;
		if (s->xfer_left)
			ide_pio_out_next(d, true);
		else
			ide_ata_write_done(d);
		break;
	default:
		if (s->xfer_left)
			ide_pio_in_next(d);
		else
			ide_data_in_done(d);
		break;
	}
}

static bool ide_pio_in_active(const struct ide_drive_state *s)
{
	return (s->status & ATA_SR_DRQ) && !s->dma && s->drq_left &&
	       (s->op == IDE_OP_BUF_IN || s->op == IDE_OP_ATA_READ ||
		s->op == IDE_OP_CD_READ);
}

/* The ATAPI packet itself always goes by PIO, even for a DMA command. */
static bool ide_pio_out_active(const struct ide_drive_state *s)
{
	return (s->status & ATA_SR_DRQ) && s->drq_left &&
	       ((s->op == IDE_OP_ATA_WRITE && !s->dma) || s->op == IDE_OP_CDB);
}

static u8 ide_pio_pop(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;
	u8 v;

	if (!ide_pio_in_active(s))
		return 0;
	v = s->buf[s->buf_pos++];
	s->drq_left--;
	s->xfer_left--;
	if (!s->drq_left)
		ide_pio_block_done(d);
	return v;
}

static void ide_pio_push(struct ide_drive *d, u8 v)
{
	struct ide_drive_state *s = &d->s;

	if (!ide_pio_out_active(s))
		return;
	s->buf[s->buf_pos++] = v;
	s->drq_left--;
	if (!s->drq_left)
		ide_pio_block_done(d);
}

/* Bus master DMA (SFF-8038i, 2.1-2.3) */

struct prd_walk {
	struct phys_mem *mem;
	u32 next; /* address of the next table entry */
	u32 addr; /* of the current region */
	u32 left; /* bytes left in the current region */
	unsigned entries;
	bool eot;
};

/* Make the walk point at a region with bytes left; false: table ended. */
static bool prd_advance(struct prd_walk *w)
{
	u8 e[8];
	u32 count;

	while (!w->left) {
		if (w->eot || w->entries >= PRD_MAX_ENTRIES)
			return false;
		mem_dma_read(w->mem, w->next, e, sizeof(e));
		w->addr = get_le32(e) & ~1u;
		count = get_le32(e + 4);
		w->left = (count & 0xfffe) ? (count & 0xfffe) : 0x10000;
		w->eot = count & PRD_EOT;
		w->next += 8;
		w->entries++;
	}
	return true;
}

enum ide_dma_result { IDE_DMA_OK, IDE_DMA_SHORT, IDE_DMA_FAILED };

static enum ide_dma_result ide_dma_to_mem(struct ide_drive *d,
					  struct prd_walk *w)
{
	struct ide_drive_state *s = &d->s;
	u64 n;

	while (s->xfer_left) {
		if (s->buf_pos == s->buf_len && !ide_buf_fill(d, 1))
			return IDE_DMA_FAILED;
		if (!prd_advance(w))
			return IDE_DMA_SHORT;
		n = MIN(MIN(w->left, s->buf_len - s->buf_pos), s->xfer_left);
		mem_dma_write(w->mem, w->addr, s->buf + s->buf_pos, n);
		w->addr += (u32)n;
		w->left -= (u32)n;
		s->buf_pos += (u32)n;
		s->xfer_left -= n;
	}
	return IDE_DMA_OK;
}

/*
 * A disk request on a worker (block/aio.h), with its bounce buffer: the
 * worker only sees buf, the machine thread copies guest memory in before a
 * write and out after a read, through the DMA path that keeps the CPU's
 * decoded code coherent.
 */
struct ide_io {
	struct aio_req req;
	struct ide_drive *d;
	u32 gen;
	u32 sectors;
	bool table_done; /* a write's or TRIM's PRD table ended with its data */
	size_t cap;	 /* of buf */
	u8 buf[];
};

static void ide_io_done(struct aio_req *req);

/*
 * The drive keeps its last request for the next one: a fresh buffer of
 * many MiB costs a page fault per page, on the vCPU's time for a write.
 */
static struct ide_io *ide_io_alloc(struct ide_drive *d, size_t len)
{
	struct ide_io *io = d->spare;

	d->spare = NULL;
	if (io && io->cap >= len)
		return io;
	free(io);
	io = malloc(sizeof(*io) + len);
	if (io)
		io->cap = len;
	else
		log_warn("ide", "no memory for a %zu-byte disk request", len);
	return io;
}

static void ide_io_free(struct ide_drive *d, struct ide_io *io)
{
	if (d->spare && d->spare->cap >= io->cap) {
		free(io);
		return;
	}
	free(d->spare);
	d->spare = io;
}

/* A request of len bytes of buffer, at the drive's current LBA. */
static struct ide_io *ide_io_new_bytes(struct ide_drive *d, enum aio_op op,
				       size_t len)
{
	struct ide_io *io = ide_io_alloc(d, len);

	if (!io)
		return NULL;
	*io = (struct ide_io){
		.req = {.op = op,
			.offset = d->s.lba * IDE_SECTOR_SIZE,
			.buf = io->buf,
			.len = len,
			.done = ide_io_done,
			.opaque = io},
		.d = d,
		.gen = d->io_gen,
		.sectors = (u32)(len / IDE_SECTOR_SIZE),
		.cap = io->cap,
	};
	return io;
}

static struct ide_io *ide_io_new(struct ide_drive *d, enum aio_op op,
				 u32 sectors)
{
	return ide_io_new_bytes(d, op, (size_t)sectors * IDE_SECTOR_SIZE);
}

/*
 * Hand io to the worker; the drive is busy until its completion. In a
 * synchronous setup the completion has run when this returns.
 */
static void ide_io_submit(struct ide_drive *d, struct ide_io *io)
{
	d->s.status = ATA_SR_BSY;
	d->io = io;
	if (aio_submit(d->aio, &io->req)) {
		d->io = NULL;
		ide_io_free(d, io);
		ide_cmd_abort(d);
	}
}

/* Copy len bytes between buf and the PRD regions; false: table too short. */
static bool ide_dma_copy(struct prd_walk *w, u8 *buf, u64 len, bool to_mem)
{
	u64 done = 0;
	u32 n;

	while (done < len) {
		if (!prd_advance(w))
			return false;
		n = (u32)MIN(w->left, len - done);
		if (to_mem)
			mem_dma_write(w->mem, w->addr, buf + done, n);
		else
			mem_dma_read(w->mem, w->addr, buf + done, n);
		w->addr += n;
		w->left -= n;
		done += n;
	}
	return true;
}

/* The engine stops; the table ended before the drive's data did. */
static void ide_dma_short(struct ide_channel *ch, struct ide_drive *d)
{
	ch->s.bm_status &= (u8)~BM_ST_ACTIVE;
	ch->s.bm_status |= BM_ST_ERROR;
	ide_fail_transfer(d);
}

/* A table longer than the transfer leaves the engine active. */
static void ide_dma_end(struct ide_channel *ch, bool table_done)
{
	if (table_done)
		ch->s.bm_status &= (u8)~BM_ST_ACTIVE;
}

/* Host I/O errors logged; a guest that retries must not flood the log. */
#define IDE_IO_ERRORS_LOGGED 10

static void ide_io_log_error(const struct ide_drive *d, const struct ide_io *io)
{
	static unsigned logged;
	const char *err = strerror(-io->req.ret);

	if (logged >= IDE_IO_ERRORS_LOGGED)
		return;
	if (io->req.op == AIO_FLUSH)
		log_warn("ide", "disk flush failed: %s", err);
	else if (io->req.op == AIO_DISCARD)
		log_warn("ide", "disk discard (TRIM) failed: %s", err);
	else
		log_warn("ide",
			 "disk %s of %u sectors at sector %llu failed: %s",
			 io->req.op == AIO_READ ? "read" : "write", io->sectors,
			 (unsigned long long)d->s.lba, err);
	if (++logged == IDE_IO_ERRORS_LOGGED)
		log_warn("ide", "further disk errors are not logged");
}

/* The host's I/O failed: the guest sees an ATA error at the first sector. */
static void ide_io_failed(struct ide_drive *d, const struct ide_io *io,
			  u8 error)
{
	ide_io_log_error(d, io);
	d->chan->s.bm_status &= (u8)~BM_ST_ACTIVE;
	/* Neither names a sector that failed. */
	if (io->req.op == AIO_FLUSH || io->req.op == AIO_DISCARD) {
		ide_cmd_abort(d);
		return;
	}
	ide_set_addr(d, d->s.lba);
	ide_ata_fail(d, error);
}

static void ide_dma_read_done(struct ide_drive *d, struct ide_io *io)
{
	struct ide_channel *ch = d->chan;
	struct prd_walk w = {.mem = ch->ide->bus->mem, .next = ch->s.bm_prd};

	if (io->req.ret) {
		ide_io_failed(d, io, ATA_ER_UNC);
		return;
	}
	/* Stopped by the guest while the drive read: nowhere to go. */
	if (!(ch->s.bm_status & BM_ST_ACTIVE) ||
	    !pci_function_bus_master(&ch->ide->pci)) {
		ide_fail_transfer(d);
		return;
	}
	if (!ide_dma_copy(&w, io->buf, io->req.len, true)) {
		ide_dma_short(ch, d);
		return;
	}
	d->s.lba += io->sectors;
	d->s.load_left = 0;
	d->s.xfer_left = 0;
	ide_dma_end(ch, w.eot && !w.left);
	ide_data_in_done(d);
}

static void ide_dma_write_done(struct ide_drive *d, struct ide_io *io)
{
	if (io->req.ret) {
		ide_io_failed(d, io, ATA_ER_ABRT);
		return;
	}
	d->s.lba += io->sectors;
	d->s.xfer_left = 0;
	ide_dma_end(d->chan, io->table_done);
	ide_set_addr(d, d->s.lba - 1);
	ide_cmd_ok(d, 0);
}

static void ide_flush_done(struct ide_drive *d, struct ide_io *io)
{
	if (io->req.ret)
		ide_io_failed(d, io, ATA_ER_ABRT);
	else
		ide_cmd_ok(d, 0);
}

/*
 * TRIM is advisory: a host that cannot discard keeps the data, which the
 * guest was not promised would change (see ide_identify_trim).
 */
static void ide_dsm_done(struct ide_drive *d, struct ide_io *io)
{
	if (io->req.ret == -EOPNOTSUPP) {
		log_guest_once("ide",
			       "%s: the host cannot discard; TRIM leaves "
			       "the data in place",
			       d->bd->path);
		io->req.ret = 0;
	}
	if (io->req.ret) {
		ide_io_failed(d, io, ATA_ER_ABRT);
		return;
	}
	ide_dma_end(d->chan, io->table_done);
	ide_cmd_ok(d, 0);
}

/* Machine thread: finish the command, unless the drive was reset since. */
static void ide_io_done(struct aio_req *req)
{
	struct ide_io *io = req->opaque;
	struct ide_drive *d = io->d;

	if (io->gen == d->io_gen) {
		d->io = NULL;
		if (req->op == AIO_READ)
			ide_dma_read_done(d, io);
		else if (req->op == AIO_WRITE)
			ide_dma_write_done(d, io);
		else if (req->op == AIO_DISCARD)
			ide_dsm_done(d, io);
		else
			ide_flush_done(d, io);
	}
	ide_io_free(d, io);
}

/*
 * READ/WRITE DMA (EXT) of a disk: the whole command is one request of at
 * most 65536 sectors (AIO_MAX_LEN). A write gathers its data now, as the
 * engine would read it; a read scatters it when the data is there.
 */
static void ide_dma_disk_start(struct ide_channel *ch, struct ide_drive *d)
{
	struct prd_walk w = {.mem = ch->ide->bus->mem, .next = ch->s.bm_prd};
	bool write = d->s.op == IDE_OP_ATA_WRITE;
	u64 sectors = d->s.xfer_left / IDE_SECTOR_SIZE;
	struct ide_io *io;

	if (!sectors || sectors * IDE_SECTOR_SIZE > AIO_MAX_LEN) {
		ide_cmd_abort(d);
		return;
	}
	io = ide_io_new(d, write ? AIO_WRITE : AIO_READ, (u32)sectors);
	if (!io) {
		ch->s.bm_status &= (u8)~BM_ST_ACTIVE;
		ide_cmd_abort(d);
		return;
	}
	if (write) {
		if (!ide_dma_copy(&w, io->buf, io->req.len, false)) {
			ide_io_free(d, io);
			ide_dma_short(ch, d);
			return;
		}
		io->table_done = w.eot && !w.left;
		/* Without a write cache the data must be on the medium. */
		io->req.flush_after = !d->s.write_cache;
	}
	ide_io_submit(d, io);
}

/*
 * Turn the range entries in buf (len bytes) into byte ranges, merging
 * neighbours; unused entries (count 0) are skipped. false if an entry
 * reaches past the end of the disk: the command is then aborted before
 * anything is discarded.
 */
static bool ide_dsm_ranges(const struct ide_drive *d, const u8 *buf, size_t len,
			   struct aio_range *out, size_t *nr)
{
	size_t i, n = 0;

	for (i = 0; i + ATA_DSM_ENTRY_SIZE <= len; i += ATA_DSM_ENTRY_SIZE) {
		u64 e = get_le64(buf + i);
		u64 lba = e & ATA_DSM_LBA_MASK, count = e >> 48;

		if (!count)
			continue;
		if (lba > d->sectors || count > d->sectors - lba)
			return false;
		if (n && out[n - 1].offset + out[n - 1].len ==
				 lba * IDE_SECTOR_SIZE) {
			out[n - 1].len += count * IDE_SECTOR_SIZE;
			continue;
		}
		out[n].offset = lba * IDE_SECTOR_SIZE;
		out[n].len = count * IDE_SECTOR_SIZE;
		n++;
	}
	*nr = n;
	return true;
}

/*
 * DATA SET MANAGEMENT: the entries come into the drive's buffer by DMA now
 * (at most IDE_DSM_MAX_BLOCKS sectors); the discards run on a worker, as
 * punching holes in a large range can take the host a while.
 */
static void ide_dsm_start(struct ide_channel *ch, struct ide_drive *d)
{
	struct prd_walk w = {.mem = ch->ide->bus->mem, .next = ch->s.bm_prd};
	size_t len = (size_t)d->s.xfer_left, nr = 0;
	struct ide_io *io;

	if (!ide_dma_copy(&w, d->s.buf, len, false)) {
		ide_dma_short(ch, d);
		return;
	}
	d->s.xfer_left = 0;
	io = ide_io_new_bytes(d, AIO_DISCARD,
			      len / ATA_DSM_ENTRY_SIZE *
				      sizeof(struct aio_range));
	if (io && !ide_dsm_ranges(d, d->s.buf, len, io->req.buf, &nr)) {
		log_guest_once("ide", "TRIM range beyond the end of the disk");
		ide_io_free(d, io);
		io = NULL;
	}
	if (!io) {
		ide_dma_end(ch, w.eot && !w.left);
		ide_cmd_abort(d);
		return;
	}
	io->req.len = nr * sizeof(struct aio_range);
	io->table_done = w.eot && !w.left;
	ide_io_submit(d, io);
}

static void ide_dma_run(struct ide_channel *ch, struct ide_drive *d)
{
	struct prd_walk w = {.mem = ch->ide->bus->mem, .next = ch->s.bm_prd};
	enum ide_dma_result r;

	if (d->s.op == IDE_OP_ATA_READ || d->s.op == IDE_OP_ATA_WRITE) {
		ide_dma_disk_start(ch, d);
		return;
	}
	if (d->s.op == IDE_OP_DSM) {
		ide_dsm_start(ch, d);
		return;
	}
	/* ATAPI data: from the drive's buffer, as PIO would take it. */
	r = ide_dma_to_mem(d, &w);
	if (r == IDE_DMA_FAILED) {
		ch->s.bm_status &= (u8)~BM_ST_ACTIVE;
		return;
	}
	if (r == IDE_DMA_SHORT) {
		ide_dma_short(ch, d);
		return;
	}
	ide_dma_end(ch, w.eot && !w.left);
	ide_data_in_done(d);
}

static struct ide_drive *ide_dma_pending(struct ide_channel *ch)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct ide_drive *d = &ch->drive[i];

		if (d->s.op != IDE_OP_NONE && d->s.op != IDE_OP_CDB &&
		    d->s.dma && !d->io)
			return d;
	}
	return NULL;
}

/* Run a DMA transfer if a drive asked for one and the engine is started. */
static void ide_bm_kick(struct ide_channel *ch)
{
	struct ide_drive *d = ide_dma_pending(ch);

	if (!d || !(ch->s.bm_cmd & BM_CMD_START) ||
	    !(ch->s.bm_status & BM_ST_ACTIVE))
		return;
	if (!pci_function_bus_master(&ch->ide->pci) || !ch->ide->bus->mem) {
		log_guest_once("ide", "DMA started without bus mastering");
		return;
	}
	ide_dma_run(ch, d);
}

static void ide_dma_request(struct ide_drive *d)
{
	d->s.drq_left = 0;
	d->s.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	ide_bm_kick(d->chan);
}

void ide_data_in_start(struct ide_drive *d, enum ide_op op, u64 bytes)
{
	d->s.op = op;
	d->s.xfer_left = bytes;
	d->s.drq_left = 0;
	if (d->s.dma)
		ide_dma_request(d);
	else
		ide_pio_in_next(d);
}

/* ATA commands */

static void ide_cmd_identify(struct ide_drive *d, unsigned flags)
{
	struct ide_drive_state *s = &d->s;

	if (ide_is_cd(d)) {
		/* PACKET devices abort and show their signature (8.15). */
		ide_set_signature(d);
		ide_cmd_abort(d);
		return;
	}
	ide_disk_identify(d, s->buf);
	s->buf_pos = 0;
	s->buf_len = IDE_SECTOR_SIZE;
	s->drq_size = IDE_SECTOR_SIZE;
	s->dma = 0;
	ide_data_in_start(d, IDE_OP_BUF_IN, IDE_SECTOR_SIZE);
}

/* Decode and range-check the sectors of a command; false: it failed. */
static bool ide_cmd_range(struct ide_drive *d, unsigned flags, u64 *lba,
			  u32 *count)
{
	if (!ide_decode_addr(d, flags & IDE_CMD_LBA48, lba, count) ||
	    *lba > d->sectors || *count > d->sectors - *lba) {
		ide_ata_fail(d, ATA_ER_IDNF);
		return false;
	}
	return true;
}

static void ide_cmd_rw(struct ide_drive *d, unsigned flags)
{
	struct ide_drive_state *s = &d->s;
	u64 lba;
	u32 count, per_block = 1;

	if (flags & IDE_CMD_MULT) {
		if (!s->mult_sectors) {
			ide_cmd_abort(d);
			return;
		}
		per_block = s->mult_sectors;
	}
	if (!ide_cmd_range(d, flags, &lba, &count))
		return;
	s->lba = lba;
	s->load_left = count;
	s->xfer_left = (u64)count * IDE_SECTOR_SIZE;
	s->drq_size = per_block * IDE_SECTOR_SIZE;
	s->dma = (flags & IDE_CMD_DMA) ? 1 : 0;
	s->buf_pos = 0;
	s->buf_len = 0;
	if (!(flags & IDE_CMD_WRITE)) {
		ide_data_in_start(d, IDE_OP_ATA_READ, s->xfer_left);
		return;
	}
	if (d->bd->read_only) {
		log_guest_once("ide", "write to a read-only disk refused");
		ide_cmd_abort(d);
		return;
	}
	s->op = IDE_OP_ATA_WRITE;
	if (s->dma)
		ide_dma_request(d);
	else
		ide_pio_out_next(d, false);
}

static void ide_cmd_verify(struct ide_drive *d, unsigned flags)
{
	u64 lba;
	u32 count;

	if (!ide_cmd_range(d, flags, &lba, &count))
		return;
	ide_set_addr(d, lba + count - 1);
	ide_cmd_ok(d, flags);
}

/* A disk's flush waits on a worker; a CD has nothing to write back. */
static void ide_cmd_flush(struct ide_drive *d, unsigned flags)
{
	struct ide_io *io;

	if (ide_is_cd(d) || !d->aio) {
		if (d->bd && block_flush(d->bd)) {
			ide_cmd_abort(d);
			return;
		}
		ide_cmd_ok(d, flags);
		return;
	}
	io = ide_io_new(d, AIO_FLUSH, 0);
	if (!io) {
		ide_cmd_abort(d);
		return;
	}
	ide_io_submit(d, io);
}

/*
 * DATA SET MANAGEMENT (ACS-2, 7.10), a DMA data-out command. Only TRIM
 * exists; the count (0 is reserved) is bounded by IDENTIFY word 105, and
 * a drive that did not offer TRIM refuses it.
 */
static void ide_cmd_dsm(struct ide_drive *d, unsigned flags)
{
	struct ide_drive_state *s = &d->s;
	u32 blocks = (u32)s->hob_nsector << 8 | s->nsector;

	if (!(s->feature & ATA_DSM_TRIM) || !blocks ||
	    blocks > IDE_DSM_MAX_BLOCKS || !ide_disk_trims(d)) {
		ide_cmd_abort(d);
		return;
	}
	s->addr_mode = IDE_ADDR_LBA48;
	s->xfer_left = (u64)blocks * IDE_SECTOR_SIZE;
	s->drq_size = IDE_SECTOR_SIZE;
	s->dma = 1;
	s->buf_pos = 0;
	s->buf_len = 0;
	s->op = IDE_OP_DSM;
	ide_dma_request(d);
}

static void ide_cmd_set_multiple(struct ide_drive *d, unsigned flags)
{
	u8 n = d->s.nsector;

	/* Only powers of two up to the maximum of word 47 (8.39). */
	if (n > IDE_MAX_MULT || (n & (n - 1))) {
		ide_cmd_abort(d);
		return;
	}
	d->s.mult_sectors = n;
	ide_cmd_ok(d, flags);
}

static void ide_cmd_init_params(struct ide_drive *d, unsigned flags)
{
	d->s.heads = (u8)((d->chan->s.select & 0xf) + 1);
	d->s.spt = d->s.nsector;
	ide_cmd_ok(d, flags);
}

static bool ide_xfer_mode_valid(u8 mode)
{
	switch (mode & 0xf8) {
	case 0x00: /* PIO default */
		return mode <= 1;
	case 0x08: /* PIO flow control */
		return (mode & 7) <= 4;
	case 0x20: /* multiword DMA */
		return (mode & 7) <= 2;
	case 0x40: /* Ultra DMA */
		return (mode & 7) <= 5;
	default:
		return false;
	}
}

static void ide_cmd_set_features(struct ide_drive *d, unsigned flags)
{
	struct ide_drive_state *s = &d->s;

	switch (s->feature) {
	case 0x02:
	case 0x82:
		s->write_cache = s->feature == 0x02;
		break;
	case 0x03:
		if (!ide_xfer_mode_valid(s->nsector)) {
			ide_cmd_abort(d);
			return;
		}
		if (s->nsector >= 0x20)
			s->xfer_mode = s->nsector;
		break;
	default:
		/* Look-ahead, defaults on reset and the like: nothing to do. */
		break;
	}
	ide_cmd_ok(d, flags);
}

static void ide_cmd_check_power(struct ide_drive *d, unsigned flags)
{
	d->s.nsector = 0xff; /* active or idle */
	ide_cmd_ok(d, flags);
}

static void ide_cmd_native_max(struct ide_drive *d, unsigned flags)
{
	u64 max = d->sectors - 1;

	if (flags & IDE_CMD_LBA48) {
		d->s.addr_mode = IDE_ADDR_LBA48;
	} else {
		d->s.addr_mode = IDE_ADDR_LBA28;
		max = MIN(max, IDE_LBA28_MAX);
	}
	ide_set_addr(d, max);
	ide_cmd_ok(d, flags);
}

/* DEVICE RESET (8.10): no interrupt, just the signature. */
static void ide_cmd_device_reset(struct ide_drive *d, unsigned flags)
{
	ide_drive_reset_regs(d);
}

static const struct ide_cmd ide_cmds[256] = {
	[0x06] = {ide_cmd_dsm, IDE_CMD_LBA48 | IDE_CMD_DMA | IDE_CMD_WRITE},
	[0x08] = {ide_cmd_device_reset, IDE_CMD_CD | IDE_CMD_NO_DISK},
	[0x10 ... 0x1f] = {ide_cmd_ok, 0}, /* RECALIBRATE */
	[0x20] = {ide_cmd_rw, 0},
	[0x21] = {ide_cmd_rw, 0},
	[0x24] = {ide_cmd_rw, IDE_CMD_LBA48},
	[0x25] = {ide_cmd_rw, IDE_CMD_LBA48 | IDE_CMD_DMA},
	[0x27] = {ide_cmd_native_max, IDE_CMD_LBA48},
	[0x29] = {ide_cmd_rw, IDE_CMD_LBA48 | IDE_CMD_MULT},
	[0x30] = {ide_cmd_rw, IDE_CMD_WRITE},
	[0x31] = {ide_cmd_rw, IDE_CMD_WRITE},
	[0x34] = {ide_cmd_rw, IDE_CMD_WRITE | IDE_CMD_LBA48},
	[0x35] = {ide_cmd_rw, IDE_CMD_WRITE | IDE_CMD_LBA48 | IDE_CMD_DMA},
	[0x39] = {ide_cmd_rw, IDE_CMD_WRITE | IDE_CMD_LBA48 | IDE_CMD_MULT},
	[0x40] = {ide_cmd_verify, 0},
	[0x41] = {ide_cmd_verify, 0},
	[0x42] = {ide_cmd_verify, IDE_CMD_LBA48},
	[0x70 ... 0x7f] = {ide_cmd_ok, 0}, /* SEEK */
	[0x91] = {ide_cmd_init_params, 0},
	[0x94 ... 0x97] = {ide_cmd_ok, IDE_CMD_CD}, /* old power management */
	[0xa0] = {ide_atapi_cmd_packet, IDE_CMD_CD | IDE_CMD_NO_DISK},
	[0xa1] = {ide_atapi_cmd_identify, IDE_CMD_CD | IDE_CMD_NO_DISK},
	[0xc4] = {ide_cmd_rw, IDE_CMD_MULT},
	[0xc5] = {ide_cmd_rw, IDE_CMD_WRITE | IDE_CMD_MULT},
	[0xc6] = {ide_cmd_set_multiple, 0},
	[0xc8] = {ide_cmd_rw, IDE_CMD_DMA},
	[0xc9] = {ide_cmd_rw, IDE_CMD_DMA},
	[0xca] = {ide_cmd_rw, IDE_CMD_WRITE | IDE_CMD_DMA},
	[0xcb] = {ide_cmd_rw, IDE_CMD_WRITE | IDE_CMD_DMA},
	[0xe0 ... 0xe3] = {ide_cmd_ok, IDE_CMD_CD}, /* STANDBY, IDLE */
	[0xe5] = {ide_cmd_check_power, IDE_CMD_CD},
	[0xe7] = {ide_cmd_flush, IDE_CMD_CD},
	[0xea] = {ide_cmd_flush, 0},
	[0xec] = {ide_cmd_identify, IDE_CMD_CD},
	[0xef] = {ide_cmd_set_features, IDE_CMD_CD},
	[0xf8] = {ide_cmd_native_max, 0},
};

/* Whether this kind of drive implements the command. */
static bool ide_cmd_valid(const struct ide_drive *d, const struct ide_cmd *c)
{
	if (!c->fn)
		return false;
	if (ide_is_cd(d))
		return c->flags & IDE_CMD_CD;
	return !(c->flags & IDE_CMD_NO_DISK);
}

/* EXECUTE DEVICE DIAGNOSTIC runs on both devices of the channel (8.11). */
static void ide_cmd_diagnostic(struct ide_channel *ch)
{
	unsigned i;

	for (i = 0; i < 2; i++)
		if (ch->drive[i].s.kind != IDE_NONE)
			ide_drive_reset_regs(&ch->drive[i]);
	if (ide_cur(ch)->s.kind != IDE_NONE)
		ide_irq_raise(ide_cur(ch));
}

static void ide_exec(struct ide_channel *ch, u8 cmd)
{
	struct ide_drive *d = ide_cur(ch);
	const struct ide_cmd *c = &ide_cmds[cmd];

	if (ch->s.ctrl & ATA_CTL_SRST)
		return;
	/* The command register is written only while BSY is clear (7.4). */
	if (d->io) {
		log_guest_once("ide", "command %02x while busy ignored", cmd);
		return;
	}
	if (cmd == ATA_CMD_DIAGNOSTIC) {
		ide_cmd_diagnostic(ch);
		return;
	}
	if (d->s.kind == IDE_NONE)
		return;
	/* A new command ends whatever data phase was still open. */
	ide_end_transfer(d);
	d->s.error = 0;
	if (!ide_cmd_valid(d, c)) {
		log_debug("ide", "command %02x aborted", cmd);
		ide_cmd_abort(d);
		return;
	}
	c->fn(d, c->flags);
}

/* Legacy port handlers */

/* The previous value moves to the HOB byte for 48-bit commands (6.2.2). */
static void ide_tf_latch(u8 *cur, u8 *hob, u8 v)
{
	*hob = *cur;
	*cur = v;
}

static void ide_tf_write(struct ide_channel *ch, unsigned reg, u8 v)
{
	unsigned i;

	/* Any command block write clears HOB (ATA/ATAPI-6, 7.9.4). */
	ch->s.ctrl &= (u8)~ATA_CTL_HOB;
	if (reg == ATA_REG_SELECT) {
		ch->s.select = v;
		return;
	}
	if (reg == ATA_REG_CMD) {
		/* Writing a command negates INTRQ (ATA/ATAPI-6, 5.2.9). */
		ch->s.irq_pending = 0;
		ide_irq_update(ch);
		ide_exec(ch, v);
		return;
	}
	/* Both devices latch task file writes; the selected one answers. */
	for (i = 0; i < 2; i++) {
		struct ide_drive_state *s = &ch->drive[i].s;

		switch (reg) {
		case ATA_REG_FEATURE:
			ide_tf_latch(&s->feature, &s->hob_feature, v);
			break;
		case ATA_REG_NSECTOR:
			ide_tf_latch(&s->nsector, &s->hob_nsector, v);
			break;
		case ATA_REG_SECTOR:
			ide_tf_latch(&s->sector, &s->hob_sector, v);
			break;
		case ATA_REG_LCYL:
			ide_tf_latch(&s->lcyl, &s->hob_lcyl, v);
			break;
		default:
			ide_tf_latch(&s->hcyl, &s->hob_hcyl, v);
			break;
		}
	}
}

static u8 ide_tf_read(struct ide_channel *ch, unsigned reg)
{
	struct ide_drive_state *s = &ide_cur(ch)->s;
	bool hob = ch->s.ctrl & ATA_CTL_HOB;

	if (reg == ATA_REG_CMD) {
		/* Reading status acknowledges the interrupt (7.15). */
		ch->s.irq_pending = 0;
		ide_irq_update(ch);
	}
	if (reg == ATA_REG_SELECT)
		return ch->s.select;
	/* An absent device 1 does not drive the bus; neither does an
	 * empty channel. */
	if (s->kind == IDE_NONE)
		return 0;
	switch (reg) {
	case ATA_REG_FEATURE:
		return s->error;
	case ATA_REG_NSECTOR:
		return hob ? s->hob_nsector : s->nsector;
	case ATA_REG_SECTOR:
		return hob ? s->hob_sector : s->sector;
	case ATA_REG_LCYL:
		return hob ? s->hob_lcyl : s->lcyl;
	case ATA_REG_HCYL:
		return hob ? s->hob_hcyl : s->hcyl;
	default:
		return s->status;
	}
}

static u32 ide_cmd_read(void *opaque, u16 offset, unsigned size)
{
	struct ide_channel *ch = opaque;
	u32 v = 0;
	unsigned i;

	for (i = 0; i < size; i++) {
		u8 b = offset == ATA_REG_DATA ?
			       ide_pio_pop(ide_cur(ch)) :
			       ide_tf_read(ch, (offset + i) & 7);

		v |= (u32)b << (8 * i);
	}
	return v;
}

static void ide_cmd_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct ide_channel *ch = opaque;
	unsigned i;

	for (i = 0; i < size; i++) {
		u8 b = (u8)(value >> (8 * i));

		if (offset == ATA_REG_DATA)
			ide_pio_push(ide_cur(ch), b);
		else
			ide_tf_write(ch, (offset + i) & 7, b);
	}
}

static u32 ide_ctl_read(void *opaque, u16 offset, unsigned size)
{
	struct ide_channel *ch = opaque;
	const struct ide_drive_state *s = &ide_cur(ch)->s;

	/* Alternate status: the status without acknowledging anything. */
	return s->kind == IDE_NONE ? 0 : s->status;
}

static void ide_ctl_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct ide_channel *ch = opaque;
	u8 old = ch->s.ctrl, v = (u8)value;
	unsigned i;

	ch->s.ctrl = v;
	for (i = 0; i < 2; i++) {
		struct ide_drive *d = &ch->drive[i];

		if (d->s.kind == IDE_NONE)
			continue;
		/* Software reset (ATA/ATAPI-6, 9.2): busy while SRST is
		 * set, signature when it is cleared. */
		if ((v & ATA_CTL_SRST) && !(old & ATA_CTL_SRST)) {
			ide_io_cancel(d);
			ide_end_transfer(d);
			d->s.status = ATA_SR_BSY;
		} else if (!(v & ATA_CTL_SRST) && (old & ATA_CTL_SRST)) {
			ide_drive_reset_regs(d);
		}
	}
	if (v & ATA_CTL_SRST)
		ch->s.irq_pending = 0;
	ide_irq_update(ch);
}

static const struct pio_ops ide_cmd_ops = {
	.name = "ide",
	.read = ide_cmd_read,
	.write = ide_cmd_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2 | PIO_SIZE4,
};

static const struct pio_ops ide_ctl_ops = {
	.name = "ide-ctl",
	.read = ide_ctl_read,
	.write = ide_ctl_write,
};

/* Bus master registers (BAR4); the bus splits wider accesses into bytes. */

static u32 ide_bm_read(void *opaque, u16 offset, unsigned size)
{
	struct ide_controller *ide = opaque;
	const struct ide_channel_state *s =
		&ide->chan[(offset / BM_CHANNEL_STRIDE) & 1].s;
	unsigned reg = offset % BM_CHANNEL_STRIDE;

	switch (reg) {
	case BM_CMD:
		return s->bm_cmd;
	case BM_STATUS:
		return s->bm_status;
	case BM_PRD ... BM_PRD + 3:
		return (u8)(s->bm_prd >> (8 * (reg - BM_PRD)));
	default:
		return 0;
	}
}

static void ide_bm_write_cmd(struct ide_channel *ch, u8 v)
{
	u8 old = ch->s.bm_cmd;

	ch->s.bm_cmd = v & (BM_CMD_START | BM_CMD_TO_MEM);
	if (!(v & BM_CMD_START)) {
		/* Clearing start halts the engine (SFF-8038i, 2.1.1). */
		ch->s.bm_status &= (u8)~BM_ST_ACTIVE;
	} else if (!(old & BM_CMD_START)) {
		ch->s.bm_status |= BM_ST_ACTIVE;
		ide_bm_kick(ch);
	}
}

static void ide_bm_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct ide_controller *ide = opaque;
	struct ide_channel *ch = &ide->chan[(offset / BM_CHANNEL_STRIDE) & 1];
	unsigned reg = offset % BM_CHANNEL_STRIDE, shift;
	u8 v = (u8)value;

	switch (reg) {
	case BM_CMD:
		ide_bm_write_cmd(ch, v);
		break;
	case BM_STATUS:
		ch->s.bm_status &= (u8) ~(v & (BM_ST_ERROR | BM_ST_IRQ));
		ch->s.bm_status = (u8)((ch->s.bm_status & ~BM_ST_CAPABLE) |
				       (v & BM_ST_CAPABLE));
		break;
	case BM_PRD ... BM_PRD + 3:
		shift = 8 * (reg - BM_PRD);
		ch->s.bm_prd &= ~(0xffu << shift);
		ch->s.bm_prd |= (u32)v << shift;
		ch->s.bm_prd &= ~3u; /* dword aligned */
		break;
	default:
		break;
	}
}

static const struct pio_ops ide_bm_ops = {
	.name = "ide-bm",
	.read = ide_bm_read,
	.write = ide_bm_write,
};

/* PCI function */

static void ide_config_written(struct pci_function *f, u8 addr, unsigned size)
{
	struct ide_controller *ide = f->opaque;

	/* Turning bus mastering on lets a waiting transfer run. */
	if (addr <= PCI_COMMAND && addr + size > PCI_COMMAND) {
		ide_bm_kick(&ide->chan[0]);
		ide_bm_kick(&ide->chan[1]);
	}
}

static const struct pci_function_ops ide_pci_ops = {
	.config_written = ide_config_written,
};

static void ide_pci_reset(struct ide_controller *ide)
{
	u8 *cfg = ide->pci.config;

	put_le32(&cfg[PCI_BAR0 + 4 * PIIX_BMIBA_BAR], 1);
	memset(&cfg[PIIX_IDETIM], 0, PIIX_SIDETIM - PIIX_IDETIM + 1);
	put_le16(&cfg[PCI_STATUS], 0x0280); /* fast back-to-back, medium */
	/* Through the bus, so that the BAR is unmapped. */
	pci_config_write(ide->bus, ide->pci.devfn, PCI_COMMAND, 0, 2);
}

/* Device lifecycle */

static void ide_reset(void *opaque)
{
	struct ide_controller *ide = opaque;
	unsigned c, u;

	ide_pci_reset(ide);
	for (c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->chan[c];

		ch->s = (struct ide_channel_state){0};
		for (u = 0; u < 2; u++)
			ide_drive_power_on(&ch->drive[u]);
		ide_irq_update(ch);
	}
}

/*
 * Finish every request in flight, so that the state has no command
 * half-done on a worker (a loaded machine could not finish it).
 */
static void ide_drain(struct ide_controller *ide)
{
	unsigned c, u;

	for (c = 0; c < 2; c++)
		for (u = 0; u < 2; u++)
			if (ide->chan[c].drive[u].aio)
				aio_dev_drain(ide->chan[c].drive[u].aio);
}

static int ide_save(void *opaque, struct snap_writer *w)
{
	struct ide_controller *ide = opaque;
	char name[32];
	unsigned c, u;

	ide_drain(ide);
	snap_put(w, "ide.pci", IDE_SAVE_VER, ide->pci.config,
		 sizeof(ide->pci.config));
	for (c = 0; c < 2; c++) {
		snprintf(name, sizeof(name), "ide.ch%u", c);
		snap_put(w, name, IDE_SAVE_VER, &ide->chan[c].s,
			 sizeof(ide->chan[c].s));
		for (u = 0; u < 2; u++) {
			const struct ide_drive *d = &ide->chan[c].drive[u];

			if (d->s.kind == IDE_NONE)
				continue;
			snprintf(name, sizeof(name), "ide.ch%u.%u", c, u);
			snap_put(w, name, IDE_SAVE_VER, &d->s, sizeof(d->s));
		}
	}
	return w->error;
}

/* A loaded drive state must keep every buffer invariant the code relies on. */
static bool ide_drive_state_valid(const struct ide_drive_state *s, u8 kind)
{
	bool ata = s->op == IDE_OP_ATA_READ || s->op == IDE_OP_ATA_WRITE ||
		   s->op == IDE_OP_DSM;

	if (s->kind != kind || s->op >= IDE_OP_COUNT ||
	    s->buf_len > IDE_BUF_SIZE || s->buf_pos > IDE_BUF_SIZE ||
	    s->mult_sectors > IDE_MAX_MULT || s->heads > 16 ||
	    s->addr_mode > IDE_ADDR_LBA48)
		return false;
	if (s->op == IDE_OP_NONE)
		return true;
	/* Disk transfers on a disk, packet ones on a PACKET device. */
	if (ata && (kind != IDE_DISK || s->packet))
		return false;
	if (s->packet && kind != IDE_CDROM)
		return false;
	if ((s->op == IDE_OP_CDB || s->op == IDE_OP_CD_READ) && !s->packet)
		return false;
	/* The open DRQ block lies inside the valid part of buf. */
	if (s->buf_pos > s->buf_len || s->drq_left > s->buf_len - s->buf_pos)
		return false;
	if (!s->drq_size || s->drq_size > ATAPI_MAX_BCL ||
	    s->drq_left > s->xfer_left + ATAPI_CDB_SIZE)
		return false;
	if (ata && s->drq_size % IDE_SECTOR_SIZE)
		return false;
	/* The entries of a TRIM come by DMA and fit the drive's buffer. */
	if (s->op == IDE_OP_DSM &&
	    (!s->dma || s->xfer_left > IDE_DSM_MAX_BLOCKS * IDE_SECTOR_SIZE))
		return false;
	return (s->op != IDE_OP_ATA_WRITE && s->op != IDE_OP_DSM) ||
	       !(s->xfer_left % IDE_SECTOR_SIZE);
}

static int ide_load(void *opaque, const struct snap_reader *r)
{
	struct ide_controller *ide = opaque;
	struct ide_channel_state cs[2];
	struct ide_drive_state *ds;
	u8 config[256];
	char name[32];
	unsigned c, u;
	int err;

	ds = malloc(4 * sizeof(*ds));
	if (!ds)
		return -ENOMEM;
	err = snap_get(r, "ide.pci", IDE_SAVE_VER, config, sizeof(config));
	for (c = 0; c < 2 && !err; c++) {
		snprintf(name, sizeof(name), "ide.ch%u", c);
		err = snap_get(r, name, IDE_SAVE_VER, &cs[c], sizeof(cs[c]));
		for (u = 0; u < 2 && !err; u++) {
			struct ide_drive_state *s = &ds[c * 2 + u];
			u8 kind = ide->chan[c].drive[u].s.kind;

			snprintf(name, sizeof(name), "ide.ch%u.%u", c, u);
			err = snap_get(r, name, IDE_SAVE_VER, s, sizeof(*s));
			/* The drives must be the ones that were saved. */
			if (kind == IDE_NONE)
				err = err == -ENOENT ? 0 : -EINVAL;
			else if (!err && !ide_drive_state_valid(s, kind))
				err = -EINVAL;
			s->kind = kind;
		}
	}
	if (!err) {
		/* BAR4 (bus master DMA) mapped again, as the guest set it. */
		pci_function_restore_config(&ide->pci, config);
		for (c = 0; c < 2; c++) {
			ide->chan[c].s = cs[c];
			for (u = 0; u < 2; u++) {
				struct ide_drive *d = &ide->chan[c].drive[u];

				if (ds[c * 2 + u].kind == IDE_NONE)
					continue;
				ide_io_cancel(d);
				d->s = ds[c * 2 + u];
			}
			ide_irq_update(&ide->chan[c]);
		}
		/* Rewriting the command register remaps the BAR. */
		pci_config_write(ide->bus, ide->pci.devfn, PCI_COMMAND,
				 get_le16(&config[PCI_COMMAND]), 2);
	}
	free(ds);
	return err;
}

struct ide_port_range {
	u16 base, len;
	const struct pio_ops *ops;
	unsigned channel;
};

static const struct ide_port_range ide_legacy_ports[] = {
	{IDE_PRI_CMD, IDE_CMD_PORTS, &ide_cmd_ops, 0},
	{IDE_PRI_CTL, 1, &ide_ctl_ops, 0},
	{IDE_SEC_CMD, IDE_CMD_PORTS, &ide_cmd_ops, 1},
	{IDE_SEC_CTL, 1, &ide_ctl_ops, 1},
};

/* Release the first n legacy ranges, and the BAR if it is mapped. */
static void ide_unregister_ports(struct ide_controller *ide, unsigned n)
{
	struct pio_bus *pio = ide->bus->pio;
	struct pci_bar *bar = &ide->pci.bars[PIIX_BMIBA_BAR];
	unsigned i;

	for (i = 0; i < n; i++)
		pio_unregister(pio, ide_legacy_ports[i].base);
	if (bar->mapped_at != UINT64_MAX)
		pio_unregister(pio, (u16)bar->mapped_at);
	bar->mapped_at = UINT64_MAX;
}

static int ide_register_ports(struct ide_controller *ide)
{
	unsigned i;
	int r;

	for (i = 0; i < ARRAY_SIZE(ide_legacy_ports); i++) {
		const struct ide_port_range *p = &ide_legacy_ports[i];

		r = pio_register(ide->bus->pio, p->base, p->len, p->ops,
				 &ide->chan[p->channel]);
		if (r) {
			ide_unregister_ports(ide, i);
			return r;
		}
	}
	return 0;
}

static void ide_destroy(void *opaque)
{
	struct ide_controller *ide = opaque;
	unsigned c, u;

	if (!ide)
		return;
	/* Requests in flight still write the disk; their completions are
	 * dropped before the drives go away. */
	for (c = 0; c < 2; c++) {
		for (u = 0; u < 2; u++) {
			struct ide_drive *d = &ide->chan[c].drive[u];

			ide_io_cancel(d);
			aio_dev_destroy(d->aio);
			d->aio = NULL;
			free(d->spare);
			d->spare = NULL;
		}
	}
	ide_unregister_ports(ide, ARRAY_SIZE(ide_legacy_ports));
	if (ide->bus->fn[ide->pci.devfn] == &ide->pci)
		ide->bus->fn[ide->pci.devfn] = NULL;
	free(ide);
}

static const struct device_ops ide_device_ops = {
	.name = "ide",
	.reset = ide_reset,
	.save = ide_save,
	.load = ide_load,
	.destroy = ide_destroy,
};

struct device ide_device(struct ide_controller *ide)
{
	return (struct device){&ide_device_ops, ide};
}

struct ide_controller *ide_create(struct pci_bus *pci, u8 devfn,
				  struct irq_line irq14, struct irq_line irq15)
{
	struct ide_controller *ide = calloc(1, sizeof(*ide));
	unsigned c, u;

	if (!ide)
		return NULL;
	ide->bus = pci;
	for (c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->chan[c];

		ch->ide = ide;
		ch->index = c;
		ch->irq = c ? irq15 : irq14;
		for (u = 0; u < 2; u++) {
			ch->drive[u].chan = ch;
			ch->drive[u].unit = u;
		}
	}
	/* PIIX3 IDE: mass storage, IDE, legacy mode with bus mastering. */
	pci_function_init(&ide->pci, 0x8086, 0x7010, 0x010180, 0);
	ide->pci.ops = &ide_pci_ops;
	ide->pci.opaque = ide;
	/* IDETIM (bit 15 enables decode; Linux wants it) and SIDETIM. */
	memset(&ide->pci.wmask[PIIX_IDETIM], 0xff,
	       PIIX_SIDETIM - PIIX_IDETIM + 1);
	pci_function_set_bar(&ide->pci, PIIX_BMIBA_BAR, BM_SIZE, true,
			     &ide_bm_ops, ide);
	if (ide_register_ports(ide)) {
		free(ide);
		return NULL;
	}
	if (pci_bus_attach(pci, &ide->pci, devfn)) {
		ide_unregister_ports(ide, ARRAY_SIZE(ide_legacy_ports));
		free(ide);
		return NULL;
	}
	ide_reset(ide);
	return ide;
}

int ide_set_aio(struct ide_controller *ide, struct aio_ctx *aio)
{
	unsigned c, u;

	for (c = 0; c < 2; c++)
		for (u = 0; u < 2; u++)
			if (ide->chan[c].drive[u].aio)
				return -EBUSY;
	ide->aio = aio;
	return 0;
}

int ide_attach(struct ide_controller *ide, unsigned channel, unsigned unit,
	       enum ide_drive_kind kind, struct block_dev *bd)
{
	struct ide_drive *d;

	if (channel > 1 || unit > 1 || (kind != IDE_DISK && kind != IDE_CDROM))
		return -EINVAL;
	d = &ide->chan[channel].drive[unit];
	if (d->s.kind != IDE_NONE)
		return -EBUSY;
	if (kind == IDE_DISK && (!bd || bd->size < IDE_SECTOR_SIZE))
		return -EINVAL;
	if (kind == IDE_CDROM && bd && bd->size < CD_SECTOR_SIZE)
		return -EINVAL;
	/* Disks do their DMA and flushes through aio, even synchronously. */
	if (kind == IDE_DISK) {
		d->aio = aio_dev_create(ide->aio, bd);
		if (!d->aio)
			return -ENOMEM;
	}
	d->s.kind = (u8)kind;
	ide_drive_power_on(d);
	if (kind == IDE_DISK) {
		d->bd = bd;
		d->sectors = bd->size / IDE_SECTOR_SIZE;
	} else {
		d->bd = bd;
		d->sectors = bd ? bd->size / CD_SECTOR_SIZE : 0;
	}
	return 0;
}

int ide_change_medium(struct ide_controller *ide, unsigned channel,
		      unsigned unit, struct block_dev *bd)
{
	struct ide_drive *d;

	if (channel > 1 || unit > 1)
		return -EINVAL;
	d = &ide->chan[channel].drive[unit];
	if (d->s.kind != IDE_CDROM)
		return -ENOTSUP;
	if (bd && bd->size < CD_SECTOR_SIZE)
		return -EINVAL;
	ide_atapi_set_medium(d, bd);
	return 0;
}

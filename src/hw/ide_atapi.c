// SPDX-License-Identifier: MIT
/*
 * The IDE CD-ROM: ATAPI PACKET protocol (ATA/ATAPI-6, 9.10-9.11) and the
 * MMC-3 commands guests use to boot from, mount and poll a data CD. The
 * medium is a plain ISO image of 2048-byte sectors with one data track.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "hw/ide_internal.h"

/* Sense keys and additional sense codes (SPC-3, 4.5.6; MMC-3, annex F). */
#define SENSE_NONE 0x00
#define SENSE_NOT_READY 0x02
#define SENSE_MEDIUM_ERROR 0x03
#define SENSE_ILLEGAL_REQUEST 0x05
#define SENSE_UNIT_ATTENTION 0x06
#define SENSE_ABORTED_COMMAND 0x0b
#define ASC_READ_ERROR 0x11
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_NO_MEDIUM 0x3a
#define ASC_REMOVAL_PREVENTED 0x53
#define ASC_ILLEGAL_MODE 0x64

/* GET EVENT STATUS NOTIFICATION media events (MMC-3, 5.6.4). */
#define MEDIA_EVENT_NONE 0
#define MEDIA_EVENT_EJECT_REQUEST 1
#define MEDIA_EVENT_NEW 2
#define MEDIA_EVENT_REMOVED 3
#define GESN_CLASS_MEDIA 4

#define MMC_PROFILE_CDROM 0x0008
#define CD_FRAMES_PER_SECOND 75
#define CD_LEAD_IN_FRAMES 150 /* MSF 00:02:00 is LBA 0 */

#define OP_REQUEST_SENSE 0x03

/* Flags of the command table */
#define ATAPI_NEEDS_MEDIUM 0x01
#define ATAPI_NO_UA 0x02 /* unaffected by a pending unit attention */

struct atapi_cmd {
	void (*fn)(struct ide_drive *d, const u8 *cdb);
	unsigned flags;
};

static u16 atapi_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static bool atapi_medium_present(const struct ide_drive *d)
{
	return d->bd && !d->s.tray_open;
}

/* Status phase (ATA/ATAPI-6, 9.10, state HP4) */

void ide_atapi_done(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;

	ide_end_transfer(d);
	s->status = ATA_SR_DRDY | ATA_SR_DSC;
	s->error = 0;
	s->nsector = ATAPI_IR_IO | ATAPI_IR_COD;
	ide_irq_raise(d);
}

/* CHECK CONDITION: the error register carries the sense key (7.11.6). */
void ide_atapi_fail(struct ide_drive *d, u8 key, u8 asc, u8 ascq)
{
	struct ide_drive_state *s = &d->s;

	ide_end_transfer(d);
	s->sense_key = key;
	s->asc = asc;
	s->ascq = ascq;
	s->status = ATA_SR_DRDY | ATA_SR_ERR;
	s->error = (u8)(key << 4);
	s->nsector = ATAPI_IR_IO | ATAPI_IR_COD;
	ide_irq_raise(d);
}

static void atapi_invalid_field(struct ide_drive *d)
{
	ide_atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

/* Send len bytes prepared in buf, no more than the host allocated. */
static void atapi_reply(struct ide_drive *d, u32 len, u32 alloc)
{
	struct ide_drive_state *s = &d->s;
	u32 n = MIN(len, alloc);

	s->buf_pos = 0;
	s->buf_len = len;
	if (!n) {
		ide_atapi_done(d);
		return;
	}
	ide_data_in_start(d, IDE_OP_BUF_IN, n);
}

/* Start a read of n sectors from lba. */
static void atapi_read(struct ide_drive *d, u64 lba, u64 n)
{
	struct ide_drive_state *s = &d->s;

	if (lba > d->sectors || n > d->sectors - lba) {
		ide_atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
			       0);
		return;
	}
	if (!n) {
		ide_atapi_done(d);
		return;
	}
	s->lba = lba;
	s->load_left = n;
	s->buf_pos = 0;
	s->buf_len = 0;
	ide_data_in_start(d, IDE_OP_CD_READ, n * CD_SECTOR_SIZE);
}

int ide_atapi_load(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;
	u64 n = MIN(s->load_left, (IDE_BUF_SIZE - s->buf_len) / CD_SECTOR_SIZE);
	int r;

	if (!atapi_medium_present(d)) {
		ide_atapi_fail(d, SENSE_NOT_READY, ASC_NO_MEDIUM, 0);
		return -ENOMEDIUM;
	}
	if (!n) {
		ide_atapi_fail(d, SENSE_ABORTED_COMMAND, 0, 0);
		return -EIO;
	}
	r = block_read(d->bd, s->lba * CD_SECTOR_SIZE, s->buf + s->buf_len,
		       (size_t)n * CD_SECTOR_SIZE);
	if (r) {
		log_guest_once("ide", "CD read failed: %s", strerror(-r));
		ide_atapi_fail(d, SENSE_MEDIUM_ERROR, ASC_READ_ERROR, 0);
		return r;
	}
	s->buf_len += (u32)n * CD_SECTOR_SIZE;
	s->lba += n;
	s->load_left -= n;
	return 0;
}

/* Addresses: LBA, or minute/second/frame with the 2 s lead-in. */
static void atapi_put_msf(u8 *p, u64 lba)
{
	u64 f = lba + CD_LEAD_IN_FRAMES;

	p[0] = (u8)(f / (60 * CD_FRAMES_PER_SECOND));
	p[1] = (u8)(f / CD_FRAMES_PER_SECOND % 60);
	p[2] = (u8)(f % CD_FRAMES_PER_SECOND);
}

static void atapi_put_addr(u8 *p, u64 lba, bool msf)
{
	if (msf) {
		p[0] = 0;
		atapi_put_msf(p + 1, lba);
	} else {
		put_be32(p, (u32)lba);
	}
}

/* Commands (MMC-3, 6 and SPC-3) */

static void atapi_done_cmd(struct ide_drive *d, const u8 *cdb)
{
	ide_atapi_done(d);
}

static void atapi_request_sense(struct ide_drive *d, const u8 *cdb)
{
	struct ide_drive_state *s = &d->s;
	u8 *p = s->buf;

	if (s->unit_attention) {
		s->unit_attention = 0;
		s->sense_key = SENSE_UNIT_ATTENTION;
		s->asc = ASC_MEDIUM_CHANGED;
		s->ascq = 0;
	} else if (s->sense_key == SENSE_NONE && !atapi_medium_present(d)) {
		s->sense_key = SENSE_NOT_READY;
		s->asc = ASC_NO_MEDIUM;
		s->ascq = s->tray_open ? 2 : 1;
	}
	memset(p, 0, 18);
	p[0] = 0x70; /* current error, fixed format */
	p[2] = s->sense_key;
	p[7] = 10;
	p[12] = s->asc;
	p[13] = s->ascq;
	/* Reported sense is consumed. */
	s->sense_key = SENSE_NONE;
	s->asc = 0;
	s->ascq = 0;
	atapi_reply(d, 18, cdb[4]);
}

static void atapi_inquiry(struct ide_drive *d, const u8 *cdb)
{
	u8 *p = d->s.buf;

	/* No vital product data pages. */
	if ((cdb[1] & 1) || cdb[2]) {
		atapi_invalid_field(d);
		return;
	}
	memset(p, 0, 36);
	p[0] = 0x05; /* CD/DVD device */
	p[1] = 0x80; /* removable */
	p[3] = 0x21; /* ATAPI, response data format 1 */
	p[4] = 36 - 5;
	memcpy(p + 8, "TWOOSTWO", 8);
	memcpy(p + 16, "CD-ROM          ", 16);
	memcpy(p + 32, "1.0 ", 4);
	atapi_reply(d, 36, atapi_be16(cdb + 3));
}

/* One mode page into p; 0 if the page is not implemented. */
static u32 atapi_mode_page(struct ide_drive *d, u8 page, bool changeable, u8 *p)
{
	switch (page) {
	case 0x01: /* read error recovery (MMC-3, 5.5.4) */
		memset(p, 0, 8);
		p[0] = 0x01;
		p[1] = 0x06;
		if (!changeable)
			p[3] = 5; /* read retry count */
		return 8;
	case 0x2a: /* capabilities and mechanical status (MMC-3, 5.5.10) */
		memset(p, 0, 22);
		p[0] = 0x2a;
		p[1] = 0x14;
		if (changeable)
			return 22;
		p[2] = 0x03; /* reads CD-R and CD-RW */
		p[4] = 0x71; /* audio play, mode 2 forms 1/2, multi-session */
		/* Tray, eject, lock and whether it is locked. */
		p[6] = (u8)(0x29 | (d->s.locked ? 0x02 : 0));
		put_be16(p + 8, 5632); /* 32x, in kB/s */
		put_be16(p + 10, 256);
		put_be16(p + 12, 512);
		put_be16(p + 14, 5632);
		return 22;
	default:
		return 0;
	}
}

static void atapi_mode_sense(struct ide_drive *d, const u8 *cdb, bool ten)
{
	u8 pc = cdb[2] >> 6, page = cdb[2] & 0x3f, *p = d->s.buf;
	u32 len = ten ? 8 : 4, n;
	u32 alloc = ten ? atapi_be16(cdb + 7) : cdb[4];
	u8 type = atapi_medium_present(d) ? 0x01 : 0x70;

	if (pc == 3) {
		ide_atapi_fail(d, SENSE_ILLEGAL_REQUEST,
			       ASC_SAVING_NOT_SUPPORTED, 0);
		return;
	}
	memset(p, 0, len);
	if (page == 0x3f) {
		len += atapi_mode_page(d, 0x01, pc == 1, p + len);
		len += atapi_mode_page(d, 0x2a, pc == 1, p + len);
	} else {
		n = atapi_mode_page(d, page, pc == 1, p + len);
		if (!n) {
			atapi_invalid_field(d);
			return;
		}
		len += n;
	}
	if (ten) {
		put_be16(p, (u16)(len - 2));
		p[2] = type;
	} else {
		p[0] = (u8)(len - 1);
		p[1] = type;
	}
	atapi_reply(d, len, alloc);
}

static void atapi_mode_sense6(struct ide_drive *d, const u8 *cdb)
{
	atapi_mode_sense(d, cdb, false);
}

static void atapi_mode_sense10(struct ide_drive *d, const u8 *cdb)
{
	atapi_mode_sense(d, cdb, true);
}

static void atapi_start_stop(struct ide_drive *d, const u8 *cdb)
{
	struct ide_drive_state *s = &d->s;
	bool loej = cdb[4] & 2, start = cdb[4] & 1;

	if (loej && !start) {
		if (s->locked) {
			ide_atapi_fail(d, SENSE_ILLEGAL_REQUEST,
				       ASC_REMOVAL_PREVENTED, 2);
			return;
		}
		if (atapi_medium_present(d))
			s->media_event = MEDIA_EVENT_REMOVED;
		s->tray_open = 1;
	} else if (loej && s->tray_open) {
		s->tray_open = 0;
		if (d->bd) {
			s->media_event = MEDIA_EVENT_NEW;
			s->unit_attention = 1;
		}
	}
	ide_atapi_done(d);
}

static void atapi_prevent_allow(struct ide_drive *d, const u8 *cdb)
{
	d->s.locked = cdb[4] & 1;
	ide_atapi_done(d);
}

static void atapi_read_capacity(struct ide_drive *d, const u8 *cdb)
{
	u8 *p = d->s.buf;

	put_be32(p, (u32)MIN(d->sectors - 1, 0xffffffffull));
	put_be32(p + 4, CD_SECTOR_SIZE);
	atapi_reply(d, 8, 8);
}

static void atapi_read10(struct ide_drive *d, const u8 *cdb)
{
	atapi_read(d, get_be32(cdb + 2), atapi_be16(cdb + 7));
}

static void atapi_read12(struct ide_drive *d, const u8 *cdb)
{
	atapi_read(d, get_be32(cdb + 2), get_be32(cdb + 6));
}

/* READ CD (MMC-3, 6.1.15): user data of data sectors only. */
static void atapi_read_cd(struct ide_drive *d, const u8 *cdb)
{
	u8 type = (cdb[1] >> 2) & 7, fields = cdb[9];
	u32 n = (u32)cdb[6] << 16 | (u32)cdb[7] << 8 | cdb[8];

	if (type != 0 && type != 2) {
		ide_atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_MODE, 0);
		return;
	}
	if ((fields != 0 && fields != 0x10) || cdb[10]) {
		atapi_invalid_field(d);
		return;
	}
	atapi_read(d, get_be32(cdb + 2), fields ? n : 0);
}

static void atapi_seek(struct ide_drive *d, const u8 *cdb)
{
	if (get_be32(cdb + 2) >= d->sectors) {
		ide_atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
			       0);
		return;
	}
	ide_atapi_done(d);
}

/* TOC format 0: track 1 and the lead-out; 0 for a bad start track. */
static u32 atapi_toc_tracks(struct ide_drive *d, u8 *p, bool msf, u8 track)
{
	u8 *q = p + 4;

	if (track > 1 && track != 0xaa)
		return 0;
	if (track <= 1) {
		memset(q, 0, 8);
		q[1] = 0x14; /* Q sub-channel position, data track */
		q[2] = 1;
		atapi_put_addr(q + 4, 0, msf);
		q += 8;
	}
	memset(q, 0, 8);
	q[1] = 0x14;
	q[2] = 0xaa;
	atapi_put_addr(q + 4, d->sectors, msf);
	q += 8;
	put_be16(p, (u16)(q - p - 2));
	p[2] = 1;
	p[3] = 1;
	return (u32)(q - p);
}

/* TOC format 1: the one complete session. */
static u32 atapi_toc_session(u8 *p, bool msf)
{
	memset(p, 0, 12);
	put_be16(p, 10);
	p[2] = 1;
	p[3] = 1;
	p[5] = 0x14;
	p[6] = 1;
	atapi_put_addr(p + 8, 0, msf);
	return 12;
}

/* TOC format 2: raw Q sub-channel entries A0, A1, A2 and track 1. */
static u32 atapi_toc_raw(struct ide_drive *d, u8 *p)
{
	static const u8 points[] = {0xa0, 0xa1, 0xa2, 0x01};
	unsigned i;
	u8 *q;

	memset(p, 0, 4 + 11 * ARRAY_SIZE(points));
	put_be16(p, (u16)(2 + 11 * ARRAY_SIZE(points)));
	p[2] = 1;
	p[3] = 1;
	for (i = 0; i < ARRAY_SIZE(points); i++) {
		q = p + 4 + 11 * i;
		q[0] = 1; /* session */
		q[1] = 0x14;
		q[3] = points[i];
		if (points[i] == 0xa0 || points[i] == 0xa1)
			q[8] = 1; /* first, last track; disc type 0 */
		else if (points[i] == 0xa2)
			atapi_put_msf(q + 8, d->sectors);
		else
			atapi_put_msf(q + 8, 0);
	}
	return 4 + 11 * ARRAY_SIZE(points);
}

static void atapi_read_toc(struct ide_drive *d, const u8 *cdb)
{
	bool msf = cdb[1] & 2;
	u8 format = cdb[2] & 0x0f, *p = d->s.buf;
	u32 len;

	/* SFF-8020 drivers put the format in the top bits of byte 9. */
	if (!format)
		format = cdb[9] >> 6;
	switch (format) {
	case 0:
		len = atapi_toc_tracks(d, p, msf, cdb[6]);
		break;
	case 1:
		len = atapi_toc_session(p, msf);
		break;
	case 2:
		len = atapi_toc_raw(d, p);
		break;
	default:
		len = 0;
		break;
	}
	if (!len) {
		atapi_invalid_field(d);
		return;
	}
	atapi_reply(d, len, atapi_be16(cdb + 7));
}

struct atapi_feature {
	u16 code;
	u8 flags; /* version << 2 | persistent << 1 | current */
	u8 len;
	u8 data[8];
};

/* GET CONFIGURATION (MMC-3, 5.2 and 6.1.4) */
static void atapi_get_configuration(struct ide_drive *d, const u8 *cdb)
{
	bool med = atapi_medium_present(d);
	const struct atapi_feature features[] = {
		/* Profile list: CD-ROM, current with a medium. */
		{0x0000, 0x03, 4, {0x00, 0x08, med, 0}},
		/* Core: ATAPI physical interface. */
		{0x0001, 0x03, 4, {0, 0, 0, 2}},
		/* Morphing: reports operational changes through GESN. */
		{0x0002, 0x07, 4, {0x02}},
		/* Removable medium: tray, eject, lock. */
		{0x0003, 0x03, 4, {0x29}},
		/* Random readable: 2048-byte blocks, blocking 1. */
		{0x0010, med, 8, {0, 0, 0x08, 0, 0, 1}},
		{0x001e, med, 4, {0}}, /* CD read */
	};
	u8 rt = cdb[1] & 3, *p = d->s.buf;
	u16 start = atapi_be16(cdb + 2);
	u32 len = 8;
	unsigned i;

	if (rt == 3) {
		atapi_invalid_field(d);
		return;
	}
	memset(p, 0, len);
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		const struct atapi_feature *f = &features[i];

		if (rt == 2 ? f->code != start : f->code < start)
			continue;
		if (rt == 1 && !(f->flags & 1))
			continue;
		put_be16(p + len, f->code);
		p[len + 2] = f->flags;
		p[len + 3] = f->len;
		memcpy(p + len + 4, f->data, f->len);
		len += 4u + f->len;
	}
	put_be32(p, len - 4);
	put_be16(p + 6, med ? MMC_PROFILE_CDROM : 0);
	atapi_reply(d, len, atapi_be16(cdb + 7));
}

/* GET EVENT STATUS NOTIFICATION, polled, media class (MMC-3, 6.1.5) */
static void atapi_get_event_status(struct ide_drive *d, const u8 *cdb)
{
	struct ide_drive_state *s = &d->s;
	u8 *p = s->buf;

	if (!(cdb[1] & 1)) { /* asynchronous notification */
		atapi_invalid_field(d);
		return;
	}
	memset(p, 0, 8);
	p[3] = 1 << GESN_CLASS_MEDIA; /* supported classes */
	if (!(cdb[4] & (1 << GESN_CLASS_MEDIA))) {
		p[1] = 2;
		p[2] = 0x80; /* no event available */
		atapi_reply(d, 4, atapi_be16(cdb + 7));
		return;
	}
	p[1] = 6;
	p[2] = GESN_CLASS_MEDIA;
	p[4] = s->media_event;
	p[5] = (u8)((d->bd && !s->tray_open ? 0x02 : 0) |
		    (s->tray_open ? 0x01 : 0));
	s->media_event = MEDIA_EVENT_NONE;
	atapi_reply(d, 8, atapi_be16(cdb + 7));
}

static void atapi_read_disc_info(struct ide_drive *d, const u8 *cdb)
{
	u8 *p = d->s.buf;

	if (cdb[1] & 7) { /* only standard disc information */
		atapi_invalid_field(d);
		return;
	}
	memset(p, 0, 34);
	put_be16(p, 32);
	p[2] = 0x0e; /* last session complete, disc complete */
	p[3] = 1;    /* first track */
	p[4] = 1;    /* sessions */
	p[5] = 1;    /* first and last track of the last session */
	p[6] = 1;
	memset(p + 16, 0xff, 8); /* no further lead-in or lead-out */
	atapi_reply(d, 34, atapi_be16(cdb + 7));
}

static void atapi_mechanism_status(struct ide_drive *d, const u8 *cdb)
{
	u8 *p = d->s.buf;

	memset(p, 0, 8);
	p[1] = d->s.tray_open ? 0x10 : 0;
	atapi_reply(d, 8, atapi_be16(cdb + 8));
}

static const struct atapi_cmd atapi_cmds[256] = {
	[0x00] = {atapi_done_cmd, ATAPI_NEEDS_MEDIUM}, /* TEST UNIT READY */
	[OP_REQUEST_SENSE] = {atapi_request_sense, ATAPI_NO_UA},
	[0x12] = {atapi_inquiry, ATAPI_NO_UA},
	[0x1a] = {atapi_mode_sense6, 0},
	[0x1b] = {atapi_start_stop, 0},
	[0x1e] = {atapi_prevent_allow, 0},
	[0x25] = {atapi_read_capacity, ATAPI_NEEDS_MEDIUM},
	[0x28] = {atapi_read10, ATAPI_NEEDS_MEDIUM},
	[0x2b] = {atapi_seek, ATAPI_NEEDS_MEDIUM},
	[0x43] = {atapi_read_toc, ATAPI_NEEDS_MEDIUM},
	[0x46] = {atapi_get_configuration, ATAPI_NO_UA},
	[0x4a] = {atapi_get_event_status, ATAPI_NO_UA},
	[0x51] = {atapi_read_disc_info, ATAPI_NEEDS_MEDIUM},
	[0x5a] = {atapi_mode_sense10, 0},
	[0xa8] = {atapi_read12, ATAPI_NEEDS_MEDIUM},
	[0xbb] = {atapi_done_cmd, 0}, /* SET CD SPEED */
	[0xbd] = {atapi_mechanism_status, 0},
	[0xbe] = {atapi_read_cd, ATAPI_NEEDS_MEDIUM},
};

void ide_atapi_packet(struct ide_drive *d)
{
	struct ide_drive_state *s = &d->s;
	u8 cdb[ATAPI_CDB_SIZE];
	const struct atapi_cmd *c;

	memcpy(cdb, s->buf, sizeof(cdb));
	s->op = IDE_OP_NONE;
	c = &atapi_cmds[cdb[0]];
	if (!c->fn) {
		log_debug("ide", "ATAPI command %02x rejected", cdb[0]);
		ide_atapi_fail(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		return;
	}
	if (cdb[0] != OP_REQUEST_SENSE) {
		s->sense_key = SENSE_NONE;
		s->asc = 0;
		s->ascq = 0;
	}
	if (s->unit_attention && !(c->flags & ATAPI_NO_UA)) {
		s->unit_attention = 0;
		ide_atapi_fail(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
		return;
	}
	if ((c->flags & ATAPI_NEEDS_MEDIUM) && !atapi_medium_present(d)) {
		ide_atapi_fail(d, SENSE_NOT_READY, ASC_NO_MEDIUM,
			       s->tray_open ? 2 : 1);
		return;
	}
	c->fn(d, cdb);
}

/* ATA commands of the PACKET device */

void ide_atapi_cmd_packet(struct ide_drive *d, unsigned flags)
{
	struct ide_drive_state *s = &d->s;
	u32 bcl = (u32)(s->hcyl << 8 | s->lcyl) & ~1u;

	/* A zero limit is invalid; take the largest instead of hanging. */
	s->drq_size = bcl ? bcl : ATAPI_MAX_BCL;
	s->dma = s->feature & 1;
	s->packet = 1;
	s->op = IDE_OP_CDB;
	s->xfer_left = 0;
	s->buf_pos = 0;
	s->buf_len = ATAPI_CDB_SIZE;
	s->drq_left = ATAPI_CDB_SIZE;
	s->nsector = ATAPI_IR_COD;
	/* DRQ for the packet without an interrupt: word 0 bits 6:5 = 10b. */
	s->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
}

void ide_atapi_cmd_identify(struct ide_drive *d, unsigned flags)
{
	struct ide_drive_state *s = &d->s;
	u8 *id = s->buf;

	ide_identify_common(d, id, "TWOOSTWO CD-ROM");
	/* ATAPI, CD-ROM, removable, fast DRQ, 12-byte packets. */
	put_le16(id + 0, 0x85c0);
	put_le16(id + 2 * 80, 0x0070); /* ATA/ATAPI-4 to -6 */
	/* NOP, DEVICE RESET, PACKET */
	put_le16(id + 2 * 82, 0x4210);
	put_le16(id + 2 * 83, 0x4000);
	put_le16(id + 2 * 84, 0x4000);
	put_le16(id + 2 * 85, 0x4210);
	put_le16(id + 2 * 87, 0x4000);
	ide_identify_finish(id);
	s->buf_pos = 0;
	s->buf_len = IDE_SECTOR_SIZE;
	s->drq_size = IDE_SECTOR_SIZE;
	s->dma = 0;
	ide_data_in_start(d, IDE_OP_BUF_IN, IDE_SECTOR_SIZE);
}

void ide_atapi_set_medium(struct ide_drive *d, struct block_dev *bd)
{
	struct ide_drive_state *s = &d->s;

	d->bd = bd;
	d->sectors = bd ? bd->size / CD_SECTOR_SIZE : 0;
	/* A read in flight must not mix two discs. */
	if (s->op == IDE_OP_CD_READ)
		ide_atapi_fail(d, SENSE_NOT_READY, ASC_NO_MEDIUM, 0);
	s->tray_open = 0;
	if (bd) {
		s->media_event = MEDIA_EVENT_NEW;
		s->unit_attention = 1;
	} else {
		s->media_event = MEDIA_EVENT_REMOVED;
		s->unit_attention = 0;
	}
}

/* The user's side of the drive */

static struct ide_drive *ide_cd_drive(struct ide_controller *ide,
				      unsigned channel, unsigned unit)
{
	struct ide_drive *d;

	if (channel > 1 || unit > 1)
		return NULL;
	d = &ide->chan[channel].drive[unit];
	return d->s.kind == IDE_CDROM ? d : NULL;
}

int ide_cd_state(struct ide_controller *ide, unsigned channel, unsigned unit,
		 struct ide_cd_state *out)
{
	struct ide_drive *d = ide_cd_drive(ide, channel, unit);

	if (!d)
		return -ENOTSUP;
	out->medium = d->bd != NULL;
	out->tray_open = d->s.tray_open;
	out->locked = d->s.locked;
	return 0;
}

int ide_cd_eject(struct ide_controller *ide, unsigned channel, unsigned unit,
		 bool force)
{
	struct ide_drive *d = ide_cd_drive(ide, channel, unit);

	if (!d)
		return -ENOTSUP;
	if (d->s.locked && !force) {
		/* A pending media change says more than the request. */
		if (d->s.media_event == MEDIA_EVENT_NONE)
			d->s.media_event = MEDIA_EVENT_EJECT_REQUEST;
		return -EBUSY;
	}
	/*
	 * Forced, like the emergency eject hole: the disc goes, the guest's
	 * prevent state stays until it allows removal again.
	 */
	if (d->bd)
		ide_atapi_set_medium(d, NULL);
	d->s.tray_open = 1;
	return 0;
}

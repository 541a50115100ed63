// SPDX-License-Identifier: MIT
/*
 * IDE DATA SET MANAGEMENT (TRIM) through the port interface and the bus
 * master: IDENTIFY offers TRIM only over a back end that can discard; the
 * range entries arrive by DMA from a PRD table, zero-count entries are
 * skipped and neighbours merged, the discard runs on an aio worker while
 * the drive is BSY; entries past the end, bad counts and features, a short
 * PRD table and host errors abort; a host that cannot discard completes
 * the command (TRIM is advisory). The disk is an in-memory back end that
 * records its discards and can hold them at a gate.
 */
#include "ide_rig.h"

#define RAM_SIZE (4u << 20)
#define DISK_SECTORS 4096u
#define DISK_SIZE (DISK_SECTORS * 512u)
#define BUF 0x10000u

#define CMD_DSM 0x06

/* IDENTIFY DEVICE by PIO: the 256 words. */
static void identify(struct rig *r, u16 *id)
{
	unsigned i;

	outb(r, PRI + 6, 0);
	outb(r, PRI + 7, 0xec);
	for (i = 0; i < 256; i++)
		id[i] = (u16)pio_read(r->pio, PRI, 2);
}

static u64 entry(u64 lba, u16 count)
{
	return lba | (u64)count << 48;
}

/* Range entries at BUF (a block of 64), and a PRD table of bytes. */
static void put_entries(struct rig *r, const u64 *e, unsigned n, u32 bytes)
{
	u8 block[4096] = {0};
	u8 prd[8];
	unsigned i;

	for (i = 0; i < n; i++)
		put_le64(block + 8 * i, e[i]);
	mem_dma_write(&r->mem, BUF, block, sizeof(block));
	put_le32(prd, BUF);
	put_le32(prd + 4, bytes | 0x80000000u);
	mem_dma_write(&r->mem, PRD_TABLE, prd, sizeof(prd));
}

/* DATA SET MANAGEMENT with this feature and count, engine started. */
static void dsm_start(struct rig *r, u8 feature, u16 blocks)
{
	outb(r, PRI + 1, 0);
	outb(r, PRI + 1, feature);
	outb(r, PRI + 2, (u8)(blocks >> 8));
	outb(r, PRI + 2, (u8)blocks);
	outb(r, PRI + 6, 0x40);
	outb(r, PRI + 7, CMD_DSM);
	pio_write(r->pio, BM_BASE + 4, PRD_TABLE, 4);
	outb(r, BM_BASE + 2, BM_ERROR | BM_IRQ);
	outb(r, BM_BASE, 1); /* start, host to device */
}

/* Whether bytes [from, to) of the disk hold zeros or the pattern. */
static bool disk_is(struct rig *r, u64 from, u64 to, bool zeros)
{
	u64 i;

	for (i = from; i < to; i++)
		if (r->disk.data[i] != (zeros ? 0 : disk_byte(i)))
			return false;
	return true;
}

static void test_identify(void)
{
	struct rig r;
	u16 id[256];

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	identify(&r, id);
	CHECK_EQ(id[169] & 1, 1);
	CHECK_EQ(id[105], 8);
	/* Linux reads word 169 only from ATA/ATAPI-7 on. */
	CHECK(id[80] & 0x80);
	/* No promise of zeros after TRIM (word 69 bits 14 and 5). */
	CHECK_EQ(id[69] & 0x4020, 0);
	rig_free(&r);

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops_no_discard, false);
	identify(&r, id);
	CHECK_EQ(id[169], 0);
	CHECK_EQ(id[105], 0);
	CHECK_EQ(id[80], 0x7e);
	rig_free(&r);

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, true);
	identify(&r, id);
	CHECK_EQ(id[169], 0);
	rig_free(&r);
}

/*
 * Two blocks of entries: unused ones skipped, neighbours merged, the
 * second block read too. BSY while the worker holds the discard.
 */
static void test_trim(void)
{
	u64 e[72] = {0};
	struct rig r;

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	e[0] = entry(10, 8);
	e[1] = entry(0xffffffffffffull, 0); /* unused: never checked */
	e[2] = entry(18, 4);		    /* merges with the first */
	e[3] = entry(100, 1);
	e[70] = entry(DISK_SECTORS - 6, 6); /* second block, up to the end */
	put_entries(&r, e, ARRAY_SIZE(e), 1024);
	disk_set_gate(&r.disk, true);
	dsm_start(&r, 0x01, 2);
	CHECK(disk_wait_at_gate(&r.disk));
	CHECK_EQ(inb(&r, PRI_CTL), ST_BSY);
	CHECK_EQ(inb(&r, BM_BASE + 2) & (BM_ACTIVE | BM_IRQ), BM_ACTIVE);
	CHECK_EQ(r.irqs, 0);
	disk_set_gate(&r.disk, false);
	CHECK(wait_irq(&r, 1));
	CHECK_EQ(inb(&r, PRI + 7), ST_OK);
	CHECK_EQ(inb(&r, BM_BASE + 2) & (BM_ACTIVE | BM_IRQ | BM_ERROR),
		 BM_IRQ);
	CHECK_EQ(r.disk.nr_got, 3);
	CHECK_EQ(r.disk.got[0].offset, 10 * 512);
	CHECK_EQ(r.disk.got[0].len, 12 * 512);
	CHECK_EQ(r.disk.got[1].offset, 100 * 512);
	CHECK_EQ(r.disk.got[1].len, 512);
	CHECK_EQ(r.disk.got[2].offset, (DISK_SECTORS - 6) * 512);
	CHECK_EQ(r.disk.got[2].len, 6 * 512);
	CHECK(disk_is(&r, 0, 10 * 512, false));
	CHECK(disk_is(&r, 10 * 512, 22 * 512, true));
	CHECK(disk_is(&r, 22 * 512, 100 * 512, false));
	CHECK(disk_is(&r, 100 * 512, 101 * 512, true));
	CHECK(disk_is(&r, 101 * 512, (DISK_SECTORS - 6) * 512, false));
	outb(&r, BM_BASE, 0);

	/* Only unused entries: the command succeeds with nothing to do. */
	memset(e, 0, sizeof(e));
	put_entries(&r, e, 64, 512);
	dsm_start(&r, 0x01, 1);
	CHECK(wait_irq(&r, 2));
	CHECK_EQ(inb(&r, PRI + 7), ST_OK);
	CHECK_EQ(r.disk.nr_got, 3);
	outb(&r, BM_BASE, 0);
	rig_free(&r);
}

/*
 * Start a one-block TRIM of a good entry and then bad, and expect ABRT
 * with nothing discarded, not even the good range. A
 * command refused at once never asks for DMA: the engine stays active
 * until the guest stops it, as on hardware.
 */
static void expect_abort(struct rig *r, u64 bad, u8 feature, u16 blocks)
{
	u64 e[2] = {entry(40, 1), bad};
	bool refused_at_once = feature != 0x01 || blocks != 1 ||
			       !block_can_discard(&r->disk.bd);

	unsigned irqs = r->irqs, got = r->disk.nr_got;

	put_entries(r, e, 2, 512);
	dsm_start(r, feature, blocks);
	CHECK(wait_irq(r, irqs + 1));
	CHECK_EQ(inb(r, PRI + 7), 0x40 | ST_ERR);
	CHECK_EQ(inb(r, PRI + 1), ER_ABRT);
	CHECK_EQ(inb(r, BM_BASE + 2) & BM_ACTIVE, refused_at_once);
	CHECK_EQ(r->disk.nr_got, got);
	outb(r, BM_BASE, 0);
}

static void test_malformed(void)
{
	struct rig r;

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	/* Ranges past the end, including 48-bit LBAs that would wrap. */
	expect_abort(&r, entry(DISK_SECTORS - 2, 4), 0x01, 1);
	expect_abort(&r, entry(DISK_SECTORS, 1), 0x01, 1);
	expect_abort(&r, entry(0xffffffffffffull, 0xffff), 0x01, 1);
	/* Not TRIM; no blocks; more blocks than word 105 allows. */
	expect_abort(&r, entry(0, 1), 0x00, 1);
	expect_abort(&r, entry(0, 1), 0x01, 0);
	expect_abort(&r, entry(0, 1), 0x01, 9);
	CHECK(disk_is(&r, 0, DISK_SIZE, false));

	/* A PRD table shorter than the blocks: the engine reports it. */
	put_entries(&r, (u64[]){entry(0, 1)}, 1, 512);
	dsm_start(&r, 0x01, 2);
	CHECK(wait_irq(&r, 7));
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	CHECK_EQ(inb(&r, BM_BASE + 2) & (BM_ACTIVE | BM_ERROR), BM_ERROR);
	CHECK_EQ(r.disk.nr_got, 0);
	outb(&r, BM_BASE, 0);
	rig_free(&r);

	/* A drive that did not offer TRIM refuses it. */
	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops_no_discard, false);
	expect_abort(&r, entry(0, 1), 0x01, 1);
	rig_free(&r);
	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, true);
	expect_abort(&r, entry(0, 1), 0x01, 1);
	rig_free(&r);
}

/* A host that cannot discard completes the TRIM; a failing one aborts. */
static void test_host_errors(void)
{
	u64 e = entry(20, 2);
	struct rig r;

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	r.disk.fail = -EOPNOTSUPP;
	put_entries(&r, &e, 1, 512);
	dsm_start(&r, 0x01, 1);
	CHECK(wait_irq(&r, 1));
	CHECK_EQ(inb(&r, PRI + 7), ST_OK);
	CHECK_EQ(r.disk.nr_got, 1);
	CHECK(disk_is(&r, 0, DISK_SIZE, false));
	outb(&r, BM_BASE, 0);

	r.disk.fail = -EIO;
	dsm_start(&r, 0x01, 1);
	CHECK(wait_irq(&r, 2));
	CHECK_EQ(inb(&r, PRI + 7), 0x40 | ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), ER_ABRT);
	CHECK_EQ(inb(&r, BM_BASE + 2) & BM_ACTIVE, 0);
	outb(&r, BM_BASE, 0);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_identify);
	RUN_TEST(test_trim);
	RUN_TEST(test_malformed);
	RUN_TEST(test_host_errors);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * IDE disk DMA and FLUSH CACHE on the aio workers: the drive is BSY and
 * the bus master ACTIVE until the completion runs from the event loop;
 * guest memory is read at submit time and written only by the completion
 * (through mem_dma_write, on this thread); host errors become ATA errors;
 * a reset, SRST or destroy while a request is out drops its completion.
 * The disk is an in-memory back end whose requests can be held at a gate.
 */
#include "ide_rig.h"

#define RAM_SIZE (40u << 20)
#define DISK_SIZE (33u << 20)
#define BUF 0x100000u

static u16 inw_data(struct rig *r)
{
	return (u16)pio_read(r->pio, PRI, 2);
}

/* One region per 64 KiB of the transfer, all at BUF. */
static void prd_table(struct rig *r, u32 bytes)
{
	u32 off = 0;
	u8 e[8];

	while (off < bytes) {
		u32 n = MIN(bytes - off, 0x10000u);

		put_le32(e, BUF + off);
		put_le32(e + 4,
			 (n & 0xffff) | (off + n == bytes ? 0x80000000u : 0));
		mem_dma_write(&r->mem, PRD_TABLE + 8 * (off >> 16), e, 8);
		off += n;
	}
}

static void ata_lba48(struct rig *r, u8 cmd, u64 lba, u32 count)
{
	outb(r, PRI + 2, (u8)(count >> 8));
	outb(r, PRI + 3, (u8)(lba >> 24));
	outb(r, PRI + 4, 0);
	outb(r, PRI + 5, 0);
	outb(r, PRI + 2, (u8)count);
	outb(r, PRI + 3, (u8)lba);
	outb(r, PRI + 4, (u8)(lba >> 8));
	outb(r, PRI + 5, (u8)(lba >> 16));
	outb(r, PRI + 6, 0x40);
	outb(r, PRI + 7, cmd);
}

/* Start a DMA command of count sectors at lba with the engine running. */
static void dma_start(struct rig *r, bool read, u64 lba, u32 count)
{
	prd_table(r, count * 512);
	ata_lba48(r, read ? 0x25 : 0x35, lba, count);
	pio_write(r->pio, BM_BASE + 4, PRD_TABLE, 4);
	outb(r, BM_BASE + 2, BM_ERROR | BM_IRQ);
	outb(r, BM_BASE, (u8)((read ? 0x08 : 0) | 1));
}

/* Wait until the back end finished n reads; false on timeout. */
static bool wait_reads(struct rig *r, unsigned n)
{
	u64 deadline = clock_now_ns() + WAIT_NS;
	unsigned done;

	do {
		pthread_mutex_lock(&r->disk.lock);
		done = r->disk.nr_reads;
		pthread_mutex_unlock(&r->disk.lock);
		if (done < n)
			sched_yield();
	} while (done < n && clock_now_ns() < deadline);
	return done >= n;
}

static bool guest_matches(struct rig *r, u64 lba, u32 bytes)
{
	u8 *buf = malloc(bytes);
	bool same = true;
	u32 i;

	mem_dma_read(&r->mem, BUF, buf, bytes);
	for (i = 0; i < bytes && same; i++)
		same = buf[i] == disk_byte(lba * 512 + i);
	free(buf);
	return same;
}

/* A read: BSY and ACTIVE while held, memory untouched until completion. */
static void test_read_async(void)
{
	struct rig r;

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	disk_set_gate(&r.disk, true);
	dma_start(&r, true, 100, 16);
	CHECK(disk_wait_at_gate(&r.disk));
	CHECK_EQ(inb(&r, PRI_CTL), ST_BSY);
	CHECK_EQ(inb(&r, BM_BASE + 2) & (BM_ACTIVE | BM_IRQ), BM_ACTIVE);
	CHECK_EQ(r.irqs, 0);
	r.dma_writes = 0;
	evloop_run_once(&r.loop, 0);
	CHECK_EQ(r.dma_writes, 0);
	disk_set_gate(&r.disk, false);
	CHECK(wait_irq(&r, 1));
	CHECK(r.dma_writes > 0);
	CHECK(!r.dma_wrong_thread);
	CHECK_EQ(inb(&r, BM_BASE + 2) & (BM_ACTIVE | BM_IRQ | BM_ERROR),
		 BM_IRQ);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK(guest_matches(&r, 100, 16 * 512));
	/* The task file holds the last sector. */
	CHECK_EQ(inb(&r, PRI + 3), 115);
	outb(&r, BM_BASE, 0);
	rig_free(&r);
}

/*
 * A write takes guest memory as it is at the start; a flush afterwards
 * runs after it on the device.
 */
static void test_write_then_flush(void)
{
	static u8 data[64 << 10];
	struct rig r;
	unsigned i;

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i ^ 0xa5);
	mem_dma_write(&r.mem, BUF, data, sizeof(data));
	disk_set_gate(&r.disk, true);
	dma_start(&r, false, 2000, sizeof(data) / 512);
	CHECK(disk_wait_at_gate(&r.disk));
	CHECK_EQ(inb(&r, PRI + 7), ST_BSY);
	/* The guest scribbles over its buffer: the request has its copy. */
	memset(data + 100, 0, 100);
	mem_dma_write(&r.mem, BUF + 100, data + 100, 100);
	/* Commands to a busy drive are ignored. */
	outb(&r, PRI + 7, 0xe7);
	CHECK_EQ(inb(&r, PRI + 7), ST_BSY);
	disk_set_gate(&r.disk, false);
	CHECK(wait_irq(&r, 1));
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK_EQ(inb(&r, BM_BASE + 2) & (BM_ACTIVE | BM_ERROR), 0);
	for (i = 0; i < sizeof(data); i++)
		if (r.disk.data[2000 * 512 + i] != (u8)(i ^ 0xa5))
			break;
	CHECK_EQ(i, sizeof(data));
	CHECK_EQ(r.disk.flushes, 0);
	outb(&r, BM_BASE, 0);

	/* FLUSH CACHE EXT: busy until the back end flushed. */
	disk_set_gate(&r.disk, true);
	outb(&r, PRI + 6, 0x40);
	outb(&r, PRI + 7, 0xea);
	CHECK(disk_wait_at_gate(&r.disk));
	CHECK_EQ(inb(&r, PRI + 7), ST_BSY);
	CHECK_EQ(r.irqs, 1);
	disk_set_gate(&r.disk, false);
	CHECK(wait_irq(&r, 2));
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK_EQ(r.disk.flushes, 1);
	CHECK_EQ(r.disk.flush_saw_writes, 1);

	/* Write cache off: the write itself reaches the medium. */
	outb(&r, PRI + 1, 0x82);
	outb(&r, PRI + 7, 0xef);
	CHECK(wait_irq(&r, 3));
	dma_start(&r, false, 0, 8);
	CHECK(wait_irq(&r, 4));
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK_EQ(r.disk.flushes, 2);
	CHECK_EQ(r.disk.flush_saw_writes, 2);
	outb(&r, BM_BASE, 0);
	rig_free(&r);
}

/* Host errors: one log line each, an ATA error for the guest. */
static void test_host_errors(void)
{
	struct rig r;
	u8 before[512], after[512];

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	r.disk.fail = -ENOSPC;
	dma_start(&r, false, 10, 4);
	CHECK(wait_irq(&r, 1));
	CHECK_EQ(inb(&r, PRI + 7), 0x40 | ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), ER_ABRT);
	CHECK_EQ(inb(&r, PRI + 3), 10); /* the first failing sector */
	CHECK_EQ(inb(&r, BM_BASE + 2) & BM_ACTIVE, 0);
	outb(&r, BM_BASE, 0);

	r.disk.fail = -EIO;
	mem_dma_read(&r.mem, BUF, before, sizeof(before));
	dma_start(&r, true, 20, 1);
	CHECK(wait_irq(&r, 2));
	CHECK_EQ(inb(&r, PRI + 7), 0x40 | ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), ER_UNC);
	mem_dma_read(&r.mem, BUF, after, sizeof(after));
	CHECK(!memcmp(before, after, sizeof(before)));
	outb(&r, BM_BASE, 0);

	outb(&r, PRI + 7, 0xe7);
	CHECK(wait_irq(&r, 3));
	CHECK_EQ(inb(&r, PRI + 7), 0x40 | ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), ER_ABRT);
	rig_free(&r);
}

/*
 * A machine reset or SRST while a read is out: the completion arrives
 * later and changes nothing (no interrupt, no memory write, the reset
 * drive's registers stay); the next command works.
 */
static void test_reset_while_busy(void)
{
	struct device dev;
	struct rig r;
	unsigned i;

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	dev = ide_device(r.ide);
	for (i = 0; i < 2; i++) {
		disk_set_gate(&r.disk, true);
		dma_start(&r, true, 300, 8);
		CHECK(disk_wait_at_gate(&r.disk));
		if (i == 0) {
			dev.ops->reset(dev.opaque);
			pci_config_write(&r.pci, IDE_DEVFN, 0x20, BM_BASE, 4);
			pci_config_write(&r.pci, IDE_DEVFN, PCI_COMMAND,
					 PCI_COMMAND_IO | PCI_COMMAND_MASTER,
					 2);
		} else {
			outb(&r, PRI_CTL, 0x04);
			outb(&r, PRI_CTL, 0x00);
		}
		CHECK_EQ(inb(&r, PRI + 7), 0x50);
		r.irqs = 0;
		r.dma_writes = 0;
		pthread_mutex_lock(&r.disk.lock);
		r.disk.nr_reads = 0;
		pthread_mutex_unlock(&r.disk.lock);
		disk_set_gate(&r.disk, false);
		/* A PIO command must wait for the stale request to end. */
		outb(&r, PRI + 2, 1);
		outb(&r, PRI + 3, 0);
		outb(&r, PRI + 4, 0);
		outb(&r, PRI + 5, 0);
		outb(&r, PRI + 6, 0xe0);
		outb(&r, PRI + 7, 0x20);
		CHECK_EQ(inb(&r, PRI + 7) & ST_DRQ, ST_DRQ);
		CHECK_EQ(inw_data(&r), (u16)(disk_byte(0) | disk_byte(1) << 8));
		/* Let the stale completion arrive: it is dropped. */
		CHECK(wait_reads(&r, 2));
		evloop_run_once(&r.loop, clock_now_ns() + 50 * NSEC_PER_MSEC);
		CHECK_EQ(r.dma_writes, 0);
		/* The stale read went first: it was before in line. */
		CHECK_EQ(r.disk.reads[0], 300 * 512);
		CHECK_EQ(r.disk.reads[1], 0);
		outb(&r, BM_BASE, 0);
	}
	/* The drive works again by DMA. */
	dma_start(&r, true, 5, 2);
	CHECK(wait_irq(&r, r.irqs + 1));
	CHECK(guest_matches(&r, 5, 2 * 512));
	rig_free(&r);
}

/* Destroying the controller with a request out waits for it, then frees. */
static void test_destroy_while_busy(void)
{
	struct rig r;

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	disk_set_gate(&r.disk, true);
	dma_start(&r, false, 40, 128);
	CHECK(disk_wait_at_gate(&r.disk));
	disk_set_gate(&r.disk, false);
	rig_free(&r);
	CHECK_EQ(r.irqs, 0);
}

/* The largest command (65536 sectors, 32 MiB) in one request. */
static void test_largest_command(void)
{
	struct rig r;
	u8 e[8];

	rig_init(&r, RAM_SIZE, DISK_SIZE, &mem_disk_ops, false);
	dma_start(&r, true, 7, 0x10000);
	CHECK(wait_irq(&r, 1));
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK(guest_matches(&r, 7, 32u << 20));
	outb(&r, BM_BASE, 0);
	/* A table that ends early: error, nothing read into memory. */
	put_le32(e, BUF);
	put_le32(e + 4, 0x80000000u | 512);
	mem_dma_write(&r.mem, PRD_TABLE, e, 8);
	ata_lba48(&r, 0x35, 0, 2);
	outb(&r, BM_BASE + 2, BM_ERROR | BM_IRQ);
	outb(&r, BM_BASE, 1);
	CHECK(wait_irq(&r, 2));
	CHECK_EQ(inb(&r, BM_BASE + 2) & (BM_ACTIVE | BM_ERROR), BM_ERROR);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	CHECK_EQ(r.disk.writes, 0);
	outb(&r, BM_BASE, 0);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_read_async);
	RUN_TEST(test_write_then_flush);
	RUN_TEST(test_host_errors);
	RUN_TEST(test_reset_while_busy);
	RUN_TEST(test_destroy_while_busy);
	RUN_TEST(test_largest_command);
	return unit_summary();
}

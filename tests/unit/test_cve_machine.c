// SPDX-License-Identifier: MIT
/*
 * Known device bug classes of other PC emulators, replayed against the
 * whole machine (pc_create, as `twoostwo run` builds it) through port I/O
 * and guest RAM. Each test asserts the device answers as the hardware
 * would (an abort, a bounded transfer) and, under ASan (make check-asan),
 * that nothing reads or writes out of bounds. There is no floppy
 * controller, so VENOM (CVE-2015-3456) has no surface here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/aio.h"
#include "bus/memory.h"
#include "bus/pio.h"
#include "core/clock.h"
#include "core/timer.h"
#include "machine/pc_internal.h"
#include "unit.h"

#define RAM (16u << 20)
#define BM 0xc000
#define PRD 0x1000u
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_BSY 0x80
#define ER_ABRT 0x04

static char hda_path[64], iso_path[64];

static void memfd_path(const char *name, size_t size, char *path, size_t len,
		       int *fd_out)
{
	int fd = memfd_create(name, 0);

	if (fd < 0 || ftruncate(fd, (off_t)size))
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	*fd_out = fd;
}

static struct pc *make_pc(void)
{
	static const u8 pvd[] = {1, 'C', 'D', '0', '0', '1', 1};
	struct pc_config cfg = {0};
	struct pc *pc;
	char err[512];
	int fd;

	if (!hda_path[0]) {
		memfd_path("hda", 1u << 20, hda_path, sizeof(hda_path), &fd);
		memfd_path("iso", 64 * 2048, iso_path, sizeof(iso_path), &fd);
		if (pwrite(fd, pvd, sizeof(pvd), 16 * 2048) < 0)
			abort();
	}
	cfg.ram_size = RAM;
	cfg.engine = "soft";
	cfg.serial_spec = "none";
	cfg.display = PC_DISPLAY_NONE;
	cfg.cdrom_path = iso_path;
	cfg.disk[PC_HDA] = (struct pc_disk_config){hda_path, PC_DISK_RW};
	if (pc_create(&cfg, &pc, err, sizeof(err))) {
		fprintf(stderr, "pc_create: %s\n", err);
		abort();
	}
	return pc;
}

static void settle(struct pc *pc)
{
	u64 deadline = clock_now_ns() + 5 * NSEC_PER_SEC;

	evloop_run_once(&pc->loop, 0);
	while (aio_ctx_busy(pc->aio) && clock_now_ns() < deadline)
		evloop_run_once(&pc->loop, clock_now_ns() + NSEC_PER_MSEC);
}

static void outb(struct pc *pc, u16 port, u32 v)
{
	pio_write(pc->pio, port, v, 1);
}

static u8 inb(struct pc *pc, u16 port)
{
	return (u8)pio_read(pc->pio, port, 1);
}

static void pci_write(struct pc *pc, unsigned dev, unsigned fn, u8 reg, u32 v,
		      unsigned size)
{
	pio_write(pc->pio, 0xcf8, 0x80000000u | dev << 11 | fn << 8 | reg, 4);
	pio_write(pc->pio, (u16)(0xcfc + (reg & 3)), v, size);
}

/* The PIIX3 IDE function's bus master block at BM, I/O and BM enabled. */
static void enable_bus_master(struct pc *pc)
{
	pci_write(pc, 1, 1, 0x20, BM | 1, 4);
	pci_write(pc, 1, 1, 0x04, 0x5, 2);
}

static void put32(struct pc *pc, u32 addr, u32 v)
{
	mem_write(&pc->mem, addr, v, 4);
}

/* READ DMA of count sectors (0: 256) at LBA 0 of the primary master. */
static u8 read_dma(struct pc *pc, u32 prd, u8 count)
{
	outb(pc, 0x1f6, 0xe0);
	outb(pc, 0x1f2, count);
	outb(pc, 0x1f3, 0);
	outb(pc, 0x1f4, 0);
	outb(pc, 0x1f5, 0);
	pio_write(pc->pio, BM + 4, prd, 4);
	outb(pc, 0x1f7, 0xc8);
	outb(pc, BM, 0x09); /* start, write to memory */
	settle(pc);
	outb(pc, BM, 0x00);
	return inb(pc, BM + 2);
}

/* DMA past the end of RAM: the transfer stops at RAM's end, no write. */
static void test_prd_past_ram_end(void)
{
	struct pc *pc = make_pc();
	u8 bm;

	enable_bus_master(pc);
	put32(pc, PRD, RAM - 256);		/* last 256 bytes of RAM... */
	put32(pc, PRD + 4, 0x80000000u | 4096); /* ...and 3840 past it */
	bm = read_dma(pc, PRD, 8);
	CHECK(!(bm & 1)); /* not active any more */
	CHECK(!(inb(pc, 0x1f7) & ST_BSY));
	/* Into the BIOS ROM and the APIC MMIO window. */
	put32(pc, PRD, 0xfffff000u);
	put32(pc, PRD + 4, 0x80000000u | 4096);
	bm = read_dma(pc, PRD, 8);
	CHECK(!(bm & 1));
	pc_destroy(pc);
}

/*
 * A PRD table without EOT shorter than the transfer, and one that runs
 * off its 64 KiB page: the controller stops, it does not loop or walk
 * past the table (PIIX3 datasheet 2.7.3: the table must not cross 64K).
 */
static void test_prd_no_eot(void)
{
	struct pc *pc = make_pc();
	unsigned i;
	u8 bm;

	enable_bus_master(pc);
	for (i = 0; i < 8192; i++) {
		put32(pc, 0x10000 + 8 * i, 0x20000);
		put32(pc, 0x10000 + 8 * i + 4, 2); /* 2 bytes, no EOT */
	}
	bm = read_dma(pc, 0x10000, 0); /* 128 KiB wanted, 16 KiB given */
	CHECK(!(bm & 1));
	CHECK(!(inb(pc, 0x1f7) & ST_BSY));
	/* Last entry of a 64K page, no EOT. */
	put32(pc, 0x1fff8, 0x30000);
	put32(pc, 0x1fffc, 16);
	bm = read_dma(pc, 0x1fff8, 1);
	CHECK(!(bm & 1));
	/* Byte count 0 means 64 KiB: one entry covers the sector. */
	put32(pc, PRD, 0x40000);
	put32(pc, PRD + 4, 0x80000000u);
	bm = read_dma(pc, PRD, 1);
	CHECK(!(bm & 1));
	CHECK(bm & 4); /* interrupt: done */
	pc_destroy(pc);
}

/* CVE-2015-6855: READ NATIVE MAX ADDRESS to the CD drive aborts. */
static void test_read_native_max_on_atapi(void)
{
	struct pc *pc = make_pc();

	outb(pc, 0x176, 0xa0); /* secondary master: the CD */
	outb(pc, 0x177, 0xf8);
	CHECK(inb(pc, 0x177) & ST_ERR);
	CHECK(inb(pc, 0x171) & ER_ABRT);
	/* And to the absent secondary slave: nothing breaks. */
	outb(pc, 0x176, 0xb0);
	outb(pc, 0x177, 0xf8);
	(void)inb(pc, 0x177);
	pc_destroy(pc);
}

/*
 * CVE-2015-6855's divide by zero: INITIALIZE DEVICE PARAMETERS with 0
 * sectors and heads, then a CHS read. It must abort (no geometry), not
 * divide by zero.
 */
static void test_chs_zero_geometry(void)
{
	struct pc *pc = make_pc();

	outb(pc, 0x1f6, 0xa0); /* CHS, heads - 1 = 0 */
	outb(pc, 0x1f2, 0);    /* 0 sectors per track */
	outb(pc, 0x1f7, 0x91);
	outb(pc, 0x1f6, 0xa0);
	outb(pc, 0x1f2, 1);
	outb(pc, 0x1f3, 1);
	outb(pc, 0x1f4, 0);
	outb(pc, 0x1f5, 0);
	outb(pc, 0x1f7, 0x20); /* READ SECTORS, CHS */
	settle(pc);
	CHECK(!(inb(pc, 0x1f7) & ST_BSY));
	pc_destroy(pc);
}

/*
 * CVE-2015-5154: the ATAPI packet buffer. Write far more than a 12-byte
 * CDB through the data port, then read far more than any reply holds: the
 * drive takes 12 bytes, then ends the phase.
 */
static void test_atapi_packet_overflow(void)
{
	struct pc *pc = make_pc();
	unsigned i, drq_words = 0;

	outb(pc, 0x176, 0xa0);
	outb(pc, 0x171, 0);    /* PIO */
	outb(pc, 0x174, 0xfe); /* byte count limit 0xfffe */
	outb(pc, 0x175, 0xff);
	outb(pc, 0x177, 0xa0); /* PACKET */
	CHECK(inb(pc, 0x177) & ST_DRQ);
	/* REQUEST SENSE, allocation length 255, then junk. */
	pio_write(pc->pio, 0x170, 0x0003, 2);
	pio_write(pc->pio, 0x170, 0xff00, 2);
	for (i = 2; i < 0x10000; i++)
		pio_write(pc->pio, 0x170, 0xffff, 2);
	for (i = 0; i < 0x10000; i++) {
		if (inb(pc, 0x177) & ST_DRQ)
			drq_words++;
		(void)pio_read(pc->pio, 0x170, 2);
	}
	CHECK(drq_words <= 0x8000);
	CHECK(!(inb(pc, 0x177) & ST_DRQ));
	/* A READ(10) of 65535 sectors from a 64-sector disc: an error. */
	outb(pc, 0x177, 0xa0);
	pio_write(pc->pio, 0x170, 0x0028, 2);
	pio_write(pc->pio, 0x170, 0x0000, 2);
	pio_write(pc->pio, 0x170, 0x0000, 2);
	pio_write(pc->pio, 0x170, 0xff00, 2);
	pio_write(pc->pio, 0x170, 0x00ff, 2);
	pio_write(pc->pio, 0x170, 0x0000, 2);
	for (i = 0; i < 0x20000 && (inb(pc, 0x177) & ST_DRQ); i++)
		(void)pio_read(pc->pio, 0x170, 2);
	CHECK(i < 0x20000);
	pc_destroy(pc);
}

static void fw_cfg_dma(struct pc *pc, u32 desc)
{
	pio_write(pc->pio, 0x514, 0, 4);
	pio_write(pc->pio, 0x518, __builtin_bswap32(desc), 4);
}

static void put_be_desc(struct pc *pc, u32 at, u32 control, u32 len, u64 addr)
{
	put32(pc, at, __builtin_bswap32(control));
	put32(pc, at + 4, __builtin_bswap32(len));
	put32(pc, at + 8, __builtin_bswap32((u32)(addr >> 32)));
	put32(pc, at + 12, __builtin_bswap32((u32)addr));
}

/*
 * fw_cfg DMA: a 4 GiB read into the end of RAM, a descriptor past the end
 * of RAM, a write to a read-only item: bounded, and an error where the
 * spec has one (docs/specs/fw_cfg.rst, "DMA interface").
 */
static void test_fw_cfg_dma(void)
{
	struct pc *pc = make_pc();

	/* select key 0 (signature), read 0xffffffff bytes at RAM's end */
	put_be_desc(pc, 0x2000, 0x0000000a, 0xffffffffu, RAM - 16);
	fw_cfg_dma(pc, 0x2000);
	/* Refused as a whole: the control word reads just the error bit. */
	CHECK_EQ(__builtin_bswap32((u32)mem_read(&pc->mem, 0x2000, 4)), 1);
	/* A sane read that ends exactly at RAM's end works. */
	put_be_desc(pc, 0x2000, 0x0000000a, 4, RAM - 4);
	fw_cfg_dma(pc, 0x2000);
	CHECK_EQ(mem_read(&pc->mem, RAM - 4, 4), 0x554d4551); /* "QEMU" */
	/* Descriptor past RAM, and straddling its end. */
	fw_cfg_dma(pc, 0xfffffff8u);
	fw_cfg_dma(pc, RAM - 8);
	/* Write (bit 4) to the read-only signature: error bit 0. */
	put_be_desc(pc, 0x2000, 0x00000018, 4, 0x3000);
	fw_cfg_dma(pc, 0x2000);
	CHECK(__builtin_bswap32((u32)mem_read(&pc->mem, 0x2000, 4)) & 1);
	pc_destroy(pc);
}

/*
 * Found by fuzz_machine: fw_cfg DMA reads of 16 MiB into unmapped space
 * went byte by byte through the MMIO lookup (seconds per request under
 * ASan, the vCPU thread stalled). Now dropped a page at a time.
 */
static void test_fw_cfg_dma_big_unmapped(void)
{
	struct pc *pc = make_pc();
	u64 t0;
	unsigned i;

	t0 = clock_now_ns();
	for (i = 0; i < 4; i++) {
		put_be_desc(pc, 0x2000, 0x0000000a, 16u << 20, 0xf0000000u);
		fw_cfg_dma(pc, 0x2000);
		CHECK_EQ(__builtin_bswap32((u32)mem_read(&pc->mem, 0x2000, 4)),
			 0);
	}
	CHECK(clock_now_ns() - t0 < NSEC_PER_SEC);
	pc_destroy(pc);
}

/* UART loopback flood: the receive FIFO holds 16 bytes, no more. */
static void test_uart_loopback_flood(void)
{
	struct pc *pc = make_pc();
	unsigned i, got = 0;

	outb(pc, 0x3fb, 0x03);
	outb(pc, 0x3fa, 0x07); /* FIFOs on, cleared */
	outb(pc, 0x3fc, 0x10); /* loopback */
	for (i = 0; i < 100000; i++)
		outb(pc, 0x3f8, (u8)i);
	timers_run(&pc->loop.timers, clock_now_ns() + NSEC_PER_SEC);
	while ((inb(pc, 0x3fd) & 1) && got < 1000) {
		(void)inb(pc, 0x3f8);
		got++;
	}
	CHECK(got <= 16);
	pc_destroy(pc);
}

/* RTC: any index, any value; the status registers keep their bits. */
static void test_rtc_index(void)
{
	struct pc *pc = make_pc();
	unsigned i;

	for (i = 0; i < 256; i++) {
		outb(pc, 0x70, i);
		outb(pc, 0x71, 0xff);
		(void)inb(pc, 0x71);
	}
	outb(pc, 0x70, 0x0d);
	CHECK_EQ(inb(pc, 0x71) & 0x80, 0x80); /* VRT: battery good */
	pc_destroy(pc);
}

/*
 * PIT: counter 0 in mode 2 with count 1 (an 838 ns period) and a late
 * host (50 ms without the event loop): catching up must be bounded, not
 * one callback per missed period.
 */
static void test_pit_tiny_period(void)
{
	struct pc *pc = make_pc();
	u64 t0;

	outb(pc, 0x43, 0x34);
	outb(pc, 0x40, 1);
	outb(pc, 0x40, 0);
	usleep(50000);
	t0 = clock_now_ns();
	timers_run(&pc->loop.timers, t0);
	CHECK(clock_now_ns() - t0 < 10 * NSEC_PER_MSEC);
	(void)pc->env.intack(pc->env.opaque);
	pc_destroy(pc);
}

int main(void)
{
	RUN_TEST(test_prd_past_ram_end);
	RUN_TEST(test_prd_no_eot);
	RUN_TEST(test_read_native_max_on_atapi);
	RUN_TEST(test_chs_zero_geometry);
	RUN_TEST(test_atapi_packet_overflow);
	RUN_TEST(test_fw_cfg_dma);
	RUN_TEST(test_fw_cfg_dma_big_unmapped);
	RUN_TEST(test_uart_loopback_flood);
	RUN_TEST(test_rtc_index);
	RUN_TEST(test_pit_tiny_period);
	return unit_summary();
}

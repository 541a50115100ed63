// SPDX-License-Identifier: MIT
/*
 * Whole-machine fuzzer: the real PC, built by pc_create as `twoostwo run`
 * builds it (every device, SeaBIOS loaded but no guest code runs), driven
 * by guest actions decoded from the input. The input format is the bus
 * trace's (bus/io_trace.h), so recorded guest boots are seeds, plus
 * actions only a fuzzer makes:
 *
 *   0 | s<<4  port u16, value u32     port write of size 1, 2, 4
 *   1 | s<<4  port u16                port read
 *   2 | s<<4  address u32, value u32  memory write (MMIO, RAM, ROM)
 *   3 | s<<4  address u32             memory read
 *   4         where u16, len u8, data DMA-visible RAM write at where * 16
 *                                     (PRD tables, descriptors, buffers)
 *   5                                 interrupt acknowledge (INTA cycle)
 *   6         microseconds u16        time passes, timers fire
 *   7                                 event loop: disk completions
 *   8 | s<<4  region u8, off u16, v32 write near a device's MMIO base
 *   9 | s<<4  region u8, off u16      read near a device's MMIO base
 *  10         port u16, count u8, v8  the same byte written count*4 times
 *  11         port u16, count u8      count*4 reads (FIFO drains)
 *
 * Time is fake (TWOOSTWO_FAKE_CLOCK) and disk requests complete before the
 * next action, so a run is the same every time. The disks are in memory
 * (memfd): a writable raw primary master, a read-only primary slave
 * (writes fail: the error paths), and a small ISO in the CD drive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/aio.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/timer.h"
#include "machine/pc_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

u64 clock_fake_now_ns = NSEC_PER_SEC;

#define FUZZ_RAM (16u << 20)
/* DMA-visible writes land here, and it is cleared before each input. */
#define FUZZ_DMA_WINDOW (1u << 20)
#define FUZZ_HDA_SIZE (2u << 20)
#define FUZZ_HDB_SIZE (1u << 20)
#define FUZZ_ISO_SECTORS 64

static struct pc *fuzz_pc;
static char fuzz_hda[64], fuzz_hdb[64], fuzz_iso[64];

/* Where region ops aim: the devices' MMIO and the PCI window. */
static const u32 fuzz_regions[] = {
	0xa0000,    /* VGA window */
	0xb8000,    /* VGA text */
	0xfec00000, /* IOAPIC */
	0xfee00000, /* local APIC */
	0xfd000000, /* where SeaBIOS puts the VGA linear frame buffer */
	0xfebf0000, /* PCI window: I/O and small BARs */
	0xc0000,    /* option ROM shadow */
	0xe0000000, /* PCI window start */
};

struct fuzz_in {
	const u8 *p;
	size_t left;
};

static bool fuzz_take(struct fuzz_in *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static u32 fuzz_le(const u8 *b, unsigned n)
{
	u32 v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (u32)b[i] << (8 * i);
	return v;
}

static int fuzz_memfd(const char *name, size_t size, char *path, size_t len)
{
	int fd = memfd_create(name, 0);

	if (fd < 0 || ftruncate(fd, (off_t)size))
		return -1;
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

static void fuzz_make_disks(void)
{
	static const u8 pvd[] = {1, 'C', 'D', '0', '0', '1', 1};
	u8 sector[512];
	int fd;
	unsigned i;

	if (fuzz_memfd("hda", FUZZ_HDA_SIZE, fuzz_hda, sizeof(fuzz_hda)) < 0)
		abort();
	fd = fuzz_memfd("hdb", FUZZ_HDB_SIZE, fuzz_hdb, sizeof(fuzz_hdb));
	if (fd < 0)
		abort();
	for (i = 0; i < FUZZ_HDB_SIZE / sizeof(sector); i++) {
		memset(sector, (int)(i * 7), sizeof(sector));
		if (pwrite(fd, sector, sizeof(sector),
			   (off_t)i * sizeof(sector)) < 0)
			abort();
	}
	fd = fuzz_memfd("iso", FUZZ_ISO_SECTORS * 2048, fuzz_iso,
			sizeof(fuzz_iso));
	if (fd < 0 || pwrite(fd, pvd, sizeof(pvd), 16 * 2048) < 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pc_config cfg = {0};
	char err[512];

	log_set_level(LOG_ERROR);
	fuzz_make_disks();
	cfg.ram_size = FUZZ_RAM;
	cfg.engine = "soft";
	cfg.serial_spec = "none";
	cfg.display = PC_DISPLAY_NONE;
	cfg.cdrom_path = fuzz_iso;
	cfg.disk[PC_HDA] = (struct pc_disk_config){fuzz_hda, PC_DISK_RW};
	cfg.disk[PC_HDB] = (struct pc_disk_config){fuzz_hdb, PC_DISK_RO};
	if (pc_create(&cfg, &fuzz_pc, err, sizeof(err))) {
		fprintf(stderr, "fuzz_machine: %s\n", err);
		abort();
	}
	return 0;
}

/* Finish every disk request, so the next action sees the same state. */
static void fuzz_settle(struct pc *pc)
{
	/* Only disk completions come through the loop (no host fds here). */
	if (!aio_ctx_busy(pc->aio))
		return;
	while (aio_ctx_busy(pc->aio))
		evloop_run_once(&pc->loop, clock_now_ns() + NSEC_PER_MSEC);
}

static void fuzz_time(struct pc *pc, u32 us)
{
	clock_fake_now_ns += (u64)us * NSEC_PER_USEC;
	timers_run(&pc->loop.timers, clock_now_ns());
}

static unsigned fuzz_size(u8 op, bool mmio)
{
	static const unsigned sizes[4] = {1, 2, 4, 8};
	unsigned s = sizes[(op >> 4) & 3];

	return !mmio && s == 8 ? 4 : s;
}

static void fuzz_pio_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[6];
	unsigned size = fuzz_size(op, false);

	if ((op & 15) == 0) {
		if (fuzz_take(in, b, 6))
			pio_write(pc->pio, (u16)fuzz_le(b, 2),
				  fuzz_le(b + 2, 4), size);
		fuzz_settle(pc);
	} else if (fuzz_take(in, b, 2)) {
		(void)pio_read(pc->pio, (u16)fuzz_le(b, 2), size);
	}
}

static void fuzz_mem_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[8];
	unsigned size = fuzz_size(op, true);

	if ((op & 15) == 2) {
		if (fuzz_take(in, b, 8))
			mem_write(&pc->mem, fuzz_le(b, 4), fuzz_le(b + 4, 4),
				  size);
		fuzz_settle(pc);
	} else if (fuzz_take(in, b, 4)) {
		(void)mem_read(&pc->mem, fuzz_le(b, 4), size);
	}
}

static void fuzz_region_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[7];
	unsigned size = fuzz_size(op, true);
	bool write = (op & 15) == 8;
	u64 addr;

	if (!fuzz_take(in, b, write ? 7 : 3))
		return;
	addr = fuzz_regions[b[0] %
			    (sizeof(fuzz_regions) / sizeof(*fuzz_regions))] +
	       fuzz_le(b + 1, 2);
	if (write) {
		mem_write(&pc->mem, addr, fuzz_le(b + 3, 4), size);
		fuzz_settle(pc);
	} else {
		(void)mem_read(&pc->mem, addr, size);
	}
}

static void fuzz_dma_op(struct pc *pc, struct fuzz_in *in)
{
	u8 b[3];
	u32 addr, len;

	if (!fuzz_take(in, b, 3))
		return;
	addr = fuzz_le(b, 2) * 16;
	len = b[2];
	if (len > in->left)
		len = (u32)in->left;
	if (addr + len > FUZZ_DMA_WINDOW)
		len = FUZZ_DMA_WINDOW - addr;
	mem_dma_write(&pc->mem, addr, in->p, len);
	in->p += len;
	in->left -= len;
}

static void fuzz_repeat_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[4];
	u16 port;
	unsigned i, n;
	bool write = (op & 15) == 10;

	if (!fuzz_take(in, b, write ? 4 : 3))
		return;
	port = (u16)fuzz_le(b, 2);
	n = b[2] * 4u;
	for (i = 0; i < n; i++) {
		if (write)
			pio_write(pc->pio, port, b[3], 1);
		else
			(void)pio_read(pc->pio, port, 1);
	}
	fuzz_settle(pc);
}

static void fuzz_one_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[2];

	switch (op & 15) {
	case 0:
	case 1:
		fuzz_pio_op(pc, op, in);
		break;
	case 2:
	case 3:
		fuzz_mem_op(pc, op, in);
		break;
	case 4:
		fuzz_dma_op(pc, in);
		break;
	case 5:
		(void)pc->env.intack(pc->env.opaque);
		break;
	case 6:
		if (fuzz_take(in, b, 2))
			fuzz_time(pc, fuzz_le(b, 2));
		break;
	case 7:
		fuzz_settle(pc);
		break;
	case 8:
	case 9:
		fuzz_region_op(pc, op, in);
		break;
	case 10:
	case 11:
		fuzz_repeat_op(pc, op, in);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct pc *pc = fuzz_pc;
	struct fuzz_in in = {data, size};
	u8 op;

	pc_reset(pc);
	memset(pc->mem.ram, 0, FUZZ_DMA_WINDOW);
	while (fuzz_take(&in, &op, 1))
		fuzz_one_op(pc, op, &in);
	fuzz_settle(pc);
	return 0;
}

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
 *  12 | c<<4  len u16, frame          a frame off the wire for card c
 *                                     (0: NE2000 ISA, 1: RTL8029 PCI)
 *  13         what u8, err u8, n u8   the next n requests of a disk (or
 *                                     sends of a card) fail; n 0 heals
 *  14         sub u8, ...             a structured conversation (below)
 *  15 | s<<4  devfn u8, reg u8, v32   PCI configuration write
 *
 * Structured conversations (op 14), where random bytes cannot get far: the
 * firmware's PCI set-up (BARs, decode enables), an IDE bus-master transfer
 * with a PRD table, an ATAPI packet command, a VBE DISPI mode set, an
 * NE2000 remote-DMA transmit, receive-ring set-up and remote read, and a
 * render of the screen (as the VNC server and the screen watch ask).
 *
 * Time is fake (TWOOSTWO_FAKE_CLOCK) and disk requests complete before the
 * next action, so a run is the same every time. The disks are in memory
 * (memfd): a writable raw primary master, a read-only primary slave
 * (writes fail: the error paths), and a small ISO in the CD drive; their
 * requests fail with EIO, ENOSPC or EINVAL when the input says so (op 13:
 * the drives' block_ops are wrapped after pc_create). Two network cards,
 * as `--net ne2k-isa --net ne2k-pci` builds them, have a back end made
 * here (it replaces libslirp's net_slirp_open at link time, so the `nat`
 * back end of a spec is this one): it delivers the input's frames through
 * the real receive queue (net/net.c) and fails sends on demand (the
 * cable is pulled, as net_port_fail does).
 *
 * Between inputs the machine is reset (pc_reset) and only the RAM pages
 * written since the last input are cleared (a DMA listener and the
 * harness's own writes mark them), not all of RAM.
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
#include "hw/vga.h"
#include "machine/pc_internal.h"
#include "net/netdev.h"
#include "ui/display.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int net_slirp_open(struct evloop *loop, const struct net_slirp_options *opt,
		   struct net_port **out, char *err, size_t errlen);

u64 clock_fake_now_ns = NSEC_PER_SEC;

#define FUZZ_RAM (16u << 20)
#define FUZZ_PAGE 4096u
#define FUZZ_PAGES (FUZZ_RAM / FUZZ_PAGE)
/* Op 4's DMA-visible writes land below this. */
#define FUZZ_DMA_WINDOW (1u << 20)
#define FUZZ_HDA_SIZE (2u << 20)
#define FUZZ_HDB_SIZE (1u << 20)
#define FUZZ_ISO_SECTORS 64

/* Where the firmware set-up (op 14, 0) puts the PCI BARs. */
#define FUZZ_BM_BASE 0xc000
#define FUZZ_RTL_BASE 0xc100
#define FUZZ_ISA_NIC_BASE NET_ISA_DEFAULT_IO
#define FUZZ_LFB 0xfd000000u
#define FUZZ_VGA_MMIO 0xfebf0000u
/* Where structured ops put PRD tables and buffers. */
#define FUZZ_PRD_AT 0x1000u
#define FUZZ_BUF_AT 0x20000u

static struct pc *fuzz_pc;
static char fuzz_hda[64], fuzz_hdb[64], fuzz_iso[64];
/* RAM pages written since the last clear, by DMA or by the harness. */
static u64 fuzz_dirty[FUZZ_PAGES / 64];
static bool fuzz_pci_ready;

/* Where region ops aim: the devices' MMIO and the PCI window. */
static const u32 fuzz_regions[] = {
	0xa0000,    /* VGA window */
	0xb8000,    /* VGA text */
	0xfec00000, /* IOAPIC */
	0xfee00000, /* local APIC */
	FUZZ_LFB,   /* where SeaBIOS puts the VGA linear frame buffer */
	0xfebf0000, /* PCI window: I/O and small BARs (VGA MMIO BAR2) */
	0xc0000,    /* option ROM shadow */
	0xe0000000, /* PCI window start */
};

struct fuzz_in {
	const u8 *p;
	size_t left;
};

/*
 * Inlined: with a constant n the copy is a few moves, not a call through
 * ASan's memcpy interceptor (a tenth of an execution's time before).
 */
static inline __attribute__((always_inline)) bool fuzz_take(struct fuzz_in *in,
							    void *out, size_t n)
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

/* ---- RAM: clear only what the last input wrote ---- */

static void fuzz_mark(u64 paddr, u64 len)
{
	u64 p, end;

	if (!len || paddr >= FUZZ_RAM)
		return;
	end = MIN(paddr + len, (u64)FUZZ_RAM);
	for (p = paddr / FUZZ_PAGE; p <= (end - 1) / FUZZ_PAGE; p++)
		fuzz_dirty[p / 64] |= 1ull << (p % 64);
}

static void fuzz_dma_written(void *opaque, u64 paddr, u64 len)
{
	fuzz_mark(paddr, len);
}

static void fuzz_clear_ram(struct pc *pc)
{
	unsigned w, b;

	for (w = 0; w < FUZZ_PAGES / 64; w++) {
		while (fuzz_dirty[w]) {
			b = (unsigned)__builtin_ctzll(fuzz_dirty[w]);
			fuzz_dirty[w] &= fuzz_dirty[w] - 1;
			memset(pc->mem.ram + (w * 64 + b) * (u64)FUZZ_PAGE, 0,
			       FUZZ_PAGE);
		}
	}
}

/* A write the CPU would make: RAM pages it reaches are marked. */
static void fuzz_mem_write(struct pc *pc, u64 addr, u64 v, unsigned size)
{
	fuzz_mark(addr, size);
	mem_write(&pc->mem, addr, v, size);
}

static void fuzz_ram_write(struct pc *pc, u32 addr, const void *p, u32 len)
{
	fuzz_mark(addr, len);
	mem_dma_write(&pc->mem, addr, p, len);
}

/* ---- disks: in memory, failing on demand ---- */

enum { FUZZ_HDA, FUZZ_HDB, FUZZ_CD, FUZZ_DRIVES };

struct fuzz_drive {
	struct block_dev *bd;
	const struct block_ops *real;
	struct block_ops ops;
	int err;	/* -EIO, -ENOSPC, -EINVAL */
	unsigned fails; /* this many requests fail; atomic (I/O workers) */
};

static struct fuzz_drive fuzz_drives[FUZZ_DRIVES];

static struct fuzz_drive *fuzz_drive_of(struct block_dev *bd)
{
	unsigned i;

	for (i = 0; i < FUZZ_DRIVES; i++)
		if (fuzz_drives[i].bd == bd)
			return &fuzz_drives[i];
	abort();
}

/* 0, or the error this request fails with. */
static int fuzz_drive_fault(struct fuzz_drive *d)
{
	unsigned n = __atomic_load_n(&d->fails, __ATOMIC_ACQUIRE);

	while (n) {
		if (__atomic_compare_exchange_n(&d->fails, &n, n - 1, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return d->err;
	}
	return 0;
}

static int fuzz_bd_read(struct block_dev *bd, u64 off, void *buf, size_t len)
{
	struct fuzz_drive *d = fuzz_drive_of(bd);

	return fuzz_drive_fault(d) ?: d->real->read(bd, off, buf, len);
}

static int fuzz_bd_write(struct block_dev *bd, u64 off, const void *buf,
			 size_t len)
{
	struct fuzz_drive *d = fuzz_drive_of(bd);

	return fuzz_drive_fault(d) ?: d->real->write(bd, off, buf, len);
}

static int fuzz_bd_flush(struct block_dev *bd)
{
	struct fuzz_drive *d = fuzz_drive_of(bd);

	return fuzz_drive_fault(d) ?: d->real->flush(bd);
}

static int fuzz_bd_discard(struct block_dev *bd, u64 off, u64 len)
{
	struct fuzz_drive *d = fuzz_drive_of(bd);

	return fuzz_drive_fault(d) ?: d->real->discard(bd, off, len);
}

static void fuzz_wrap_drive(unsigned i, struct block_dev *bd)
{
	struct fuzz_drive *d = &fuzz_drives[i];

	if (!bd)
		abort();
	d->bd = bd;
	d->real = bd->ops;
	d->ops = *bd->ops;
	d->ops.read = d->real->read ? fuzz_bd_read : NULL;
	d->ops.write = d->real->write ? fuzz_bd_write : NULL;
	d->ops.flush = d->real->flush ? fuzz_bd_flush : NULL;
	d->ops.discard = d->real->discard ? fuzz_bd_discard : NULL;
	bd->ops = &d->ops;
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

/* ---- network: a back end whose wire is the input ---- */

struct fuzz_net {
	struct net_port port;
	struct net_rxq rxq;
	unsigned send_fails; /* this many sends pull the cable */
	u64 sent;
};

static struct fuzz_net fuzz_nets[2];
static unsigned fuzz_nr_nets;

static void fuzz_net_send(struct net_port *port, const u8 *frame, size_t len)
{
	struct fuzz_net *n = container_of(port, struct fuzz_net, port);

	n->sent += len;
	if (n->send_fails) {
		/* A failed write: the back end gives up, as tap.c does. */
		n->send_fails--;
		port->link_down = true;
	}
}

static void fuzz_net_accept_input(struct net_port *port)
{
	struct fuzz_net *n = container_of(port, struct fuzz_net, port);

	net_rxq_flush(port, &n->rxq);
}

static void fuzz_net_close(struct net_port *port)
{
	struct fuzz_net *n = container_of(port, struct fuzz_net, port);

	net_rxq_destroy(&n->rxq);
}

static const struct net_port_ops fuzz_net_ops = {
	.send = fuzz_net_send,
	.accept_input = fuzz_net_accept_input,
	.close = fuzz_net_close,
};

/* The `nat` back end of this program: the input's wire. */
int net_slirp_open(struct evloop *loop, const struct net_slirp_options *opt,
		   struct net_port **out, char *err, size_t errlen)
{
	struct fuzz_net *n;

	if (fuzz_nr_nets == sizeof(fuzz_nets) / sizeof(*fuzz_nets)) {
		snprintf(err, errlen, "fuzz: too many network cards");
		return -ENOSPC;
	}
	n = &fuzz_nets[fuzz_nr_nets++];
	n->port = (struct net_port){.ops = &fuzz_net_ops, .loop = loop};
	*out = &n->port;
	return 0;
}

static void fuzz_net_reset(void)
{
	unsigned i;

	for (i = 0; i < fuzz_nr_nets; i++) {
		struct fuzz_net *n = &fuzz_nets[i];

		n->port.link_down = false;
		n->send_fails = 0;
		n->rxq.count = 0;
		n->rxq.head = 0;
		net_rxq_destroy(&n->rxq);
	}
}

/* ---- the machine ---- */

static void fuzz_make_nics(struct pc_config *cfg)
{
	static struct net_config nics[2];
	static const char *const specs[2] = {
		"ne2k-isa,nat,mac=52:54:00:12:34:56",
		"ne2k-pci,nat,mac=52:54:00:12:34:57",
	};
	char err[256];
	unsigned i;

	for (i = 0; i < 2; i++) {
		if (net_config_parse(specs[i], i, NULL, &nics[i], err,
				     sizeof(err))) {
			fprintf(stderr, "fuzz_machine: %s\n", err);
			abort();
		}
	}
	cfg->nics = nics;
	cfg->nr_nics = 2;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pc_config cfg = {0};
	struct mem_listener l = {.dma_written = fuzz_dma_written};
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
	fuzz_make_nics(&cfg);
	if (pc_create(&cfg, &fuzz_pc, err, sizeof(err))) {
		fprintf(stderr, "fuzz_machine: %s\n", err);
		abort();
	}
	if (fuzz_nr_nets != 2 || mem_add_listener(&fuzz_pc->mem, &l))
		abort();
	fuzz_wrap_drive(FUZZ_HDA, fuzz_pc->disk[PC_HDA]);
	fuzz_wrap_drive(FUZZ_HDB, fuzz_pc->disk[PC_HDB]);
	fuzz_wrap_drive(FUZZ_CD, fuzz_pc->cdrom);
	/* pc_create wrote the APIC's registers, nothing in RAM. */
	memset(fuzz_pc->mem.ram, 0, FUZZ_RAM);
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

static void fuzz_out(struct pc *pc, u16 port, u32 v, unsigned size)
{
	pio_write(pc->pio, port, v, size);
}

static u32 fuzz_inp(struct pc *pc, u16 port, unsigned size)
{
	return pio_read(pc->pio, port, size);
}

static void fuzz_pio_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[6];
	unsigned size = fuzz_size(op, false);

	if ((op & 15) == 0) {
		if (fuzz_take(in, b, 6))
			fuzz_out(pc, (u16)fuzz_le(b, 2), fuzz_le(b + 2, 4),
				 size);
		fuzz_settle(pc);
	} else if (fuzz_take(in, b, 2)) {
		(void)fuzz_inp(pc, (u16)fuzz_le(b, 2), size);
	}
}

static void fuzz_mem_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[8];
	unsigned size = fuzz_size(op, true);

	if ((op & 15) == 2) {
		if (fuzz_take(in, b, 8))
			fuzz_mem_write(pc, fuzz_le(b, 4), fuzz_le(b + 4, 4),
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
		fuzz_mem_write(pc, addr, fuzz_le(b + 3, 4), size);
		fuzz_settle(pc);
	} else {
		(void)mem_read(&pc->mem, addr, size);
	}
}

/* Up to max bytes of the input as a payload (fewer when it runs out). */
static const u8 *fuzz_payload(struct fuzz_in *in, u32 *len, u32 max)
{
	const u8 *p = in->p;

	*len = MIN(MIN(*len, max), (u32)in->left);
	in->p += *len;
	in->left -= *len;
	return p;
}

static void fuzz_dma_op(struct pc *pc, struct fuzz_in *in)
{
	u8 b[3];
	u32 addr, len;
	const u8 *p;

	if (!fuzz_take(in, b, 3))
		return;
	addr = fuzz_le(b, 2) * 16;
	len = b[2];
	p = fuzz_payload(in, &len, FUZZ_DMA_WINDOW - addr);
	fuzz_ram_write(pc, addr, p, len);
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
			fuzz_out(pc, port, b[3], 1);
		else
			(void)fuzz_inp(pc, port, 1);
	}
	fuzz_settle(pc);
}

/* Op 12: a frame off the wire, through the back end's receive queue. */
static void fuzz_frame_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	struct fuzz_net *n = &fuzz_nets[(op >> 4) & 1];
	u8 b[2];
	u32 len;
	const u8 *p;

	if (!fuzz_take(in, b, 2))
		return;
	len = fuzz_le(b, 2);
	p = fuzz_payload(in, &len, NET_MAX_FRAME + 16);
	(void)net_rxq_push(&n->port, &n->rxq, p, len);
}

/* Op 13: the next n requests of a drive, or sends of a card, fail. */
static void fuzz_fault_op(struct fuzz_in *in)
{
	static const int errs[] = {-EIO, -ENOSPC, -EINVAL};
	struct fuzz_drive *d;
	struct fuzz_net *n;
	u8 b[3];

	if (!fuzz_take(in, b, 3))
		return;
	switch (b[0] % 5) {
	case 3:
	case 4:
		n = &fuzz_nets[b[0] % 5 - 3];
		n->send_fails = b[2];
		/* Healed: the back end is back (a switch restarted). */
		if (!b[2])
			n->port.link_down = false;
		break;
	default:
		d = &fuzz_drives[b[0] % 5];
		d->err = errs[b[1] % 3];
		__atomic_store_n(&d->fails, b[2], __ATOMIC_RELEASE);
		break;
	}
}

static void fuzz_pci_write(struct pc *pc, u8 devfn, u8 reg, u32 v,
			   unsigned size)
{
	fuzz_out(pc, 0xcf8, 0x80000000u | (u32)devfn << 8 | (reg & 0xfcu), 4);
	fuzz_out(pc, (u16)(0xcfc + (reg & 3)), v, size);
}

/* Op 15. */
static void fuzz_pci_op(struct pc *pc, u8 op, struct fuzz_in *in)
{
	u8 b[6];

	if (fuzz_take(in, b, 6))
		fuzz_pci_write(pc, b[0], b[1], fuzz_le(b + 2, 4),
			       fuzz_size(op, false));
	fuzz_settle(pc);
}

/* ---- structured conversations (op 14) ---- */

/*
 * What SeaBIOS does before any driver runs: I/O and memory BARs, decode
 * and bus-master enables, the IDE timing registers' decode bits.
 */
static void fuzz_pci_setup(struct pc *pc)
{
	const u8 ide = PCI_DEVFN(1, 1), vga = PCI_DEVFN(2, 0),
		 rtl = PCI_DEVFN(PC_NIC_FIRST_SLOT, 0);

	if (fuzz_pci_ready)
		return;
	fuzz_pci_ready = true;
	fuzz_pci_write(pc, ide, 0x20, FUZZ_BM_BASE | 1, 4);
	fuzz_pci_write(pc, ide, 0x40, 0x80008000u, 4); /* IDETIM decode */
	fuzz_pci_write(pc, ide, PCI_COMMAND, 5, 2);
	fuzz_pci_write(pc, vga, 0x10, FUZZ_LFB, 4);
	fuzz_pci_write(pc, vga, 0x18, FUZZ_VGA_MMIO, 4);
	fuzz_pci_write(pc, vga, PCI_COMMAND, 3, 2);
	fuzz_pci_write(pc, rtl, 0x10, FUZZ_RTL_BASE | 1, 4);
	fuzz_pci_write(pc, rtl, 0x3c, 11, 1);
	fuzz_pci_write(pc, rtl, PCI_COMMAND, 5, 2);
}

/* An ATA task file: device/head, count, LBA 0-23 (and 24-27 in dev). */
static void fuzz_taskfile(struct pc *pc, u16 base, u8 dev, u8 count, u32 lba)
{
	fuzz_out(pc, base + 6, dev | (lba >> 24 & 15), 1);
	fuzz_out(pc, base + 2, count, 1);
	fuzz_out(pc, base + 3, lba & 255, 1);
	fuzz_out(pc, base + 4, lba >> 8 & 255, 1);
	fuzz_out(pc, base + 5, lba >> 16 & 255, 1);
}

/* A PRD table of up to 4 entries from the input at FUZZ_PRD_AT + at. */
static u32 fuzz_prd_table(struct pc *pc, struct fuzz_in *in, u32 at, u8 n)
{
	u8 e[5], prd[8 * 4];
	unsigned i;

	n = (u8)(n % 4 + 1);
	for (i = 0; i < n && fuzz_take(in, e, 5); i++) {
		/* Buffers anywhere in RAM and a little past it (bit 1). */
		u32 addr = FUZZ_BUF_AT + fuzz_le(e, 2) * 256u +
			   (e[4] & 2 ? FUZZ_RAM - FUZZ_BUF_AT : 0);
		u32 count = fuzz_le(e + 2, 2) & ~1u;

		if (i == n - 1 || (e[4] & 1))
			count |= 0x80000000u; /* end of table */
		memcpy(prd + 8 * i, &addr, 4);
		memcpy(prd + 8 * i + 4, &count, 4);
	}
	fuzz_ram_write(pc, FUZZ_PRD_AT + at, prd, 8 * i);
	return FUZZ_PRD_AT + at;
}

/* ATA DMA commands: READ/WRITE DMA, their EXT forms, TRIM, VERIFY. */
static const u8 fuzz_dma_cmds[] = {0xc8, 0xca, 0x25, 0x35, 0x06, 0x40};

/* An IDE bus-master transfer: PRD table, task file, command, start. */
static void fuzz_ide_dma(struct pc *pc, struct fuzz_in *in)
{
	u8 b[5];
	bool sec, slave, to_mem;
	u16 base, bm;
	u8 cmd;
	u32 prd;

	if (!fuzz_take(in, b, 5))
		return;
	sec = b[0] & 1;
	slave = b[0] & 2;
	cmd = fuzz_dma_cmds[(b[0] >> 2) % sizeof(fuzz_dma_cmds)];
	base = sec ? 0x170 : 0x1f0;
	bm = (u16)(FUZZ_BM_BASE + (sec ? 8 : 0));
	prd = fuzz_prd_table(pc, in, sec ? 0x100 : 0, b[4]);
	if (cmd == 0x25 || cmd == 0x35) { /* LBA48: high bytes first */
		fuzz_out(pc, base + 2, 0, 1);
		fuzz_out(pc, base + 3, b[1] >> 4, 1);
		fuzz_out(pc, base + 4, 0, 1);
		fuzz_out(pc, base + 5, 0, 1);
	}
	if (cmd == 0x06)
		fuzz_out(pc, base + 1, 1, 1); /* DSM feature: TRIM */
	fuzz_taskfile(pc, base, (u8)(0xe0 | (slave ? 0x10 : 0)), b[2],
		      b[1] | (u32)(b[3] & 0x0f) << 8);
	fuzz_out(pc, bm + 4, prd, 4);
	fuzz_out(pc, base + 7, cmd, 1);
	to_mem = cmd == 0xc8 || cmd == 0x25;
	fuzz_out(pc, bm, (u32)(to_mem ? 0x09 : 0x01) ^ (b[3] >> 4 & 8), 1);
	fuzz_settle(pc);
	(void)fuzz_inp(pc, bm + 2, 1);
	fuzz_out(pc, bm + 2, 6, 1);
	fuzz_out(pc, bm, 0, 1);
	(void)fuzz_inp(pc, base + 7, 1);
}

/* An ATAPI packet command to the CD (secondary master), PIO or DMA. */
static void fuzz_atapi(struct pc *pc, struct fuzz_in *in)
{
	u8 b[4], cdb[12];
	unsigned i, reads;
	bool dma;

	if (!fuzz_take(in, b, 4) || !fuzz_take(in, cdb, sizeof(cdb)))
		return;
	dma = b[0] & 1;
	fuzz_out(pc, 0x176, b[0] & 0x10 ? 0xb0 : 0xa0, 1);
	fuzz_out(pc, 0x171, dma, 1);
	fuzz_out(pc, 0x174, b[1], 1);
	fuzz_out(pc, 0x175, b[2], 1);
	if (dma)
		fuzz_out(pc, FUZZ_BM_BASE + 8 + 4,
			 fuzz_prd_table(pc, in, 0x200, b[0] >> 1), 4);
	fuzz_out(pc, 0x177, 0xa0, 1);
	for (i = 0; i < sizeof(cdb); i += 2)
		fuzz_out(pc, 0x170, fuzz_le(cdb + i, 2), 2);
	fuzz_settle(pc);
	if (dma) {
		fuzz_out(pc, FUZZ_BM_BASE + 8, 0x09, 1);
		fuzz_settle(pc);
		(void)fuzz_inp(pc, FUZZ_BM_BASE + 8 + 2, 1);
		fuzz_out(pc, FUZZ_BM_BASE + 8, 0, 1);
	}
	reads = b[3] * 8u;
	for (i = 0; i < reads; i++) {
		(void)fuzz_inp(pc, 0x170, 2);
		if (!(i & 255))
			fuzz_settle(pc);
	}
	(void)fuzz_inp(pc, 0x177, 1);
	(void)fuzz_inp(pc, 0x172, 1);
}

static void fuzz_dispi_write(struct pc *pc, bool mmio, u16 idx, u16 val)
{
	if (mmio) {
		fuzz_mem_write(pc, FUZZ_VGA_MMIO + 0x500 + 2u * idx, val, 2);
	} else {
		fuzz_out(pc, 0x1ce, idx, 2);
		fuzz_out(pc, 0x1cf, val, 2);
	}
}

/*
 * A Bochs VBE DISPI mode set, through the ports or the MMIO BAR: disabled
 * first, as the VGA BIOS does, then the mode, ENABLE last.
 */
static void fuzz_dispi(struct pc *pc, struct fuzz_in *in)
{
	static const u8 bpps[] = {4, 8, 15, 16, 24, 32, 0, 7};
	/* XRES, YRES, BPP, VIRT_WIDTH/HEIGHT, X/Y_OFFSET, BANK */
	static const u8 order[] = {1, 2, 3, 6, 7, 8, 9, 5};
	u8 b[16];
	u16 v[10];
	unsigned i;
	bool mmio;

	if (!fuzz_take(in, b, sizeof(b)))
		return;
	mmio = b[15] & 1;
	v[1] = (u16)(fuzz_le(b, 2) & 0x7ff);
	v[2] = (u16)(fuzz_le(b + 2, 2) & 0x7ff);
	v[3] = bpps[b[4] & 7];
	v[4] = b[5];
	v[5] = b[6];
	v[6] = (u16)fuzz_le(b + 7, 2);
	v[7] = (u16)fuzz_le(b + 9, 2);
	v[8] = (u16)fuzz_le(b + 11, 2);
	v[9] = (u16)(fuzz_le(b + 13, 2) >> 1);
	if (mmio)
		fuzz_pci_setup(pc);
	fuzz_dispi_write(pc, mmio, 4, 0);
	for (i = 0; i < sizeof(order); i++)
		if (!(b[15] & 2) || i < 3) /* the mode alone, or all */
			fuzz_dispi_write(pc, mmio, order[i], v[order[i]]);
	fuzz_dispi_write(pc, mmio, 4, v[4]);
	if (b[15] & 2)
		for (i = 3; i < sizeof(order); i++)
			fuzz_dispi_write(pc, mmio, order[i], v[order[i]]);
	/* Read back what the adapter made of it. */
	for (i = 0; i < 10; i++) {
		fuzz_out(pc, 0x1ce, i, 2);
		(void)fuzz_inp(pc, 0x1cf, 2);
	}
}

static u16 fuzz_nic_base(struct pc *pc, u8 sel)
{
	if (!(sel & 1))
		return FUZZ_ISA_NIC_BASE;
	fuzz_pci_setup(pc);
	return FUZZ_RTL_BASE;
}

/* Remote DMA: count bytes at card address addr, direction in cr. */
static void fuzz_nic_rdma(struct pc *pc, u16 base, u16 addr, u16 count, u8 cr)
{
	fuzz_out(pc, base, 0x22, 1); /* page 0, start, abort DMA */
	fuzz_out(pc, base + 0x0a, count & 255, 1);
	fuzz_out(pc, base + 0x0b, count >> 8, 1);
	fuzz_out(pc, base + 0x08, addr & 255, 1);
	fuzz_out(pc, base + 0x09, addr >> 8, 1);
	fuzz_out(pc, base, cr, 1);
}

/* NE2000 transmit: remote-DMA write of the frame into the card, then TXP. */
static void fuzz_nic_tx(struct pc *pc, struct fuzz_in *in)
{
	u8 b[5];
	u16 base, addr;
	u32 len, i, step;
	const u8 *p;

	if (!fuzz_take(in, b, 5))
		return;
	base = fuzz_nic_base(pc, b[0]);
	fuzz_out(pc, base + 0x0e, b[1], 1);	     /* DCR: word mode bit 0 */
	fuzz_out(pc, base + 0x0d, b[0] >> 1 & 6, 1); /* TCR: loopback */
	fuzz_out(pc, base + 0x07, 0xff, 1);	     /* ISR: clear */
	fuzz_out(pc, base + 0x0f, 0x7f, 1);	     /* IMR */
	len = fuzz_le(b + 3, 2);
	addr = (u16)(b[2] << 8);
	p = fuzz_payload(in, &len, 2048);
	fuzz_nic_rdma(pc, base, addr, (u16)len, 0x12);
	step = b[1] & 1 ? 2 : 1;
	for (i = 0; i + step <= len; i += step)
		fuzz_out(pc, base + 0x10, fuzz_le(p + i, step), step);
	(void)fuzz_inp(pc, base + 0x07, 1);
	fuzz_out(pc, base + 0x04, b[2], 1);
	fuzz_out(pc, base + 0x05, len & 255, 1);
	fuzz_out(pc, base + 0x06, len >> 8, 1);
	fuzz_out(pc, base, 0x26, 1);
	(void)fuzz_inp(pc, base + 0x07, 1);
	(void)fuzz_inp(pc, base + 0x04, 1); /* TSR */
}

/* NE2000 receive ring: PSTART, PSTOP, BNRY, CURR, RCR, then start. */
static void fuzz_nic_rx_setup(struct pc *pc, struct fuzz_in *in)
{
	u8 b[7];
	u16 base;
	unsigned i;

	if (!fuzz_take(in, b, sizeof(b)))
		return;
	base = fuzz_nic_base(pc, b[0]);
	fuzz_out(pc, base, 0x21, 1); /* stop */
	fuzz_out(pc, base + 0x0e, b[6], 1);
	fuzz_out(pc, base + 0x01, b[1], 1);
	fuzz_out(pc, base + 0x02, b[2], 1);
	fuzz_out(pc, base + 0x03, b[3], 1);
	fuzz_out(pc, base + 0x0c, b[5], 1);
	fuzz_out(pc, base + 0x0f, 0x7f, 1);
	fuzz_out(pc, base + 0x07, 0xff, 1);
	fuzz_out(pc, base, 0x61, 1); /* page 1: PAR, CURR, MAR */
	for (i = 0; i < 6; i++)
		fuzz_out(pc, base + 1 + i, 0x52 + i, 1);
	fuzz_out(pc, base + 0x07, b[4], 1);
	for (i = 8; i < 16; i++)
		fuzz_out(pc, base + i, b[0] & 0x80 ? 0xff : 0, 1);
	fuzz_out(pc, base, 0x22, 1); /* page 0, start */
	fuzz_out(pc, base + 0x0d, 0, 1);
}

/* NE2000 remote read: count bytes from addr through the data port. */
static void fuzz_nic_read(struct pc *pc, struct fuzz_in *in)
{
	u8 b[5];
	u16 base, count;
	unsigned i, step;

	if (!fuzz_take(in, b, sizeof(b)))
		return;
	base = fuzz_nic_base(pc, b[0]);
	/* A full frame and its header; the ring is the card's business. */
	count = (u16)(fuzz_le(b + 3, 2) & 0x7ff);
	fuzz_nic_rdma(pc, base, (u16)fuzz_le(b + 1, 2), count, 0x0a);
	step = b[0] & 2 ? 2 : 1;
	for (i = 0; i < count + 4u; i += step)
		(void)fuzz_inp(pc, base + 0x10, step);
	(void)fuzz_inp(pc, base + 0x07, 1);
	fuzz_out(pc, base + 0x03, b[1], 1); /* BNRY: the frame was read */
}

/* What the VNC server and the screen watch ask of the adapter. */
static void fuzz_render(struct pc *pc)
{
	static struct text_screen screen;

	display_refresh(vga_display(pc->vga));
	vga_get_text_screen(pc->vga, &screen);
}

static void fuzz_structured_op(struct pc *pc, struct fuzz_in *in)
{
	u8 sub;

	if (!fuzz_take(in, &sub, 1))
		return;
	switch (sub % 8) {
	case 0:
		fuzz_pci_setup(pc);
		break;
	case 1:
		fuzz_pci_setup(pc);
		fuzz_ide_dma(pc, in);
		break;
	case 2:
		fuzz_pci_setup(pc);
		fuzz_atapi(pc, in);
		break;
	case 3:
		fuzz_dispi(pc, in);
		break;
	case 4:
		fuzz_nic_tx(pc, in);
		break;
	case 5:
		fuzz_nic_rx_setup(pc, in);
		break;
	case 6:
		fuzz_nic_read(pc, in);
		break;
	case 7:
		fuzz_render(pc);
		break;
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
	case 12:
		fuzz_frame_op(pc, op, in);
		break;
	case 13:
		fuzz_fault_op(in);
		break;
	case 14:
		fuzz_structured_op(pc, in);
		break;
	case 15:
		fuzz_pci_op(pc, op, in);
		break;
	}
}

static void fuzz_reset(struct pc *pc)
{
	unsigned i;

	pc_reset(pc);
	fuzz_clear_ram(pc);
	for (i = 0; i < FUZZ_DRIVES; i++)
		__atomic_store_n(&fuzz_drives[i].fails, 0, __ATOMIC_RELEASE);
	fuzz_net_reset();
	fuzz_pci_ready = false;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct pc *pc = fuzz_pc;
	struct fuzz_in in = {data, size};
	u8 op;

	fuzz_reset(pc);
	while (fuzz_take(&in, &op, 1))
		fuzz_one_op(pc, op, &in);
	fuzz_settle(pc);
	return 0;
}

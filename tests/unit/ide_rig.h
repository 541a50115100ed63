/* SPDX-License-Identifier: MIT */
/*
 * A test rig for the IDE controller with its disk I/O on the aio workers:
 * an event loop, an aio context, a PCI bus with the PIIX IDE function
 * (bus master at BM_BASE, enabled), guest RAM, and an in-memory disk on
 * the primary master whose requests can be held at a gate, so a test sees
 * the drive while a request is out. The disk records what it was asked:
 * reads (their offsets), writes, flushes and discards (their ranges).
 *
 * Each tests/unit/test_*.c is its own program, so everything here is
 * static inline.
 */
#ifndef TWOOSTWO_TESTS_IDE_RIG_H
#define TWOOSTWO_TESTS_IDE_RIG_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "block/aio.h"
#include "bus/pci.h"
#include "core/clock.h"
#include "hw/ide.h"
#include "unit.h"

#define PRI 0x1f0
#define PRI_CTL 0x3f6
#define BM_BASE 0xc000
#define IDE_DEVFN PCI_DEVFN(1, 1)
#define PRD_TABLE 0x1000u
#define WAIT_NS (5 * NSEC_PER_SEC)

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_OK 0x50
#define ST_BSY 0x80
#define ER_ABRT 0x04
#define ER_UNC 0x40
#define BM_ACTIVE 0x01
#define BM_ERROR 0x02
#define BM_IRQ 0x04

#define MEM_DISK_RANGES 16

struct mem_disk {
	struct block_dev bd;
	u8 *data;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool gated, at_gate;
	int fail; /* -errno for every op while set */
	unsigned writes, flushes;
	u64 reads[4]; /* byte offsets of the first reads, in order */
	unsigned nr_reads;
	unsigned flush_saw_writes; /* writes done when the last flush ran */
	struct aio_range got[MEM_DISK_RANGES]; /* the first discards */
	unsigned nr_got;
};

/*
 * Worker side, with m->lock held: wait while gated (bounded), then say
 * how the op ends.
 */
static inline int mem_disk_gate_locked(struct mem_disk *m)
{
	u64 deadline = clock_now_ns() + WAIT_NS;

	m->at_gate = true;
	while (m->gated && clock_now_ns() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		pthread_cond_timedwait(&m->cond, &m->lock, &ts);
	}
	m->at_gate = false;
	return m->fail;
}

static inline int mem_disk_gate(struct mem_disk *m)
{
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = mem_disk_gate_locked(m);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static inline int disk_read(struct block_dev *bd, u64 off, void *buf,
			    size_t len)
{
	struct mem_disk *m = bd->priv;
	int ret = mem_disk_gate(m);

	if (!ret)
		memcpy(buf, m->data + off, len);
	pthread_mutex_lock(&m->lock);
	if (m->nr_reads < ARRAY_SIZE(m->reads))
		m->reads[m->nr_reads] = off;
	m->nr_reads++;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static inline int disk_write(struct block_dev *bd, u64 off, const void *buf,
			     size_t len)
{
	struct mem_disk *m = bd->priv;
	int ret = mem_disk_gate(m);

	if (!ret) {
		memcpy(m->data + off, buf, len);
		m->writes++;
	}
	return ret;
}

static inline int disk_flush(struct block_dev *bd)
{
	struct mem_disk *m = bd->priv;
	int ret = mem_disk_gate(m);

	m->flushes++;
	m->flush_saw_writes = m->writes;
	return ret;
}

/* Records the range and zeroes it (when it succeeds). */
static inline int disk_discard(struct block_dev *bd, u64 off, u64 len)
{
	struct mem_disk *m = bd->priv;
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = mem_disk_gate_locked(m);
	if (!ret && m->nr_got < MEM_DISK_RANGES) {
		m->got[m->nr_got].offset = off;
		m->got[m->nr_got].len = len;
		memset(m->data + off, 0, len);
	}
	m->nr_got++;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static const struct block_ops mem_disk_ops __attribute__((unused)) = {
	.format = "memory",
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
	.discard = disk_discard,
};

/* The same disk without a discard op: IDENTIFY must not offer TRIM. */
static const struct block_ops mem_disk_ops_no_discard
	__attribute__((unused)) = {
		.format = "memory",
		.read = disk_read,
		.write = disk_write,
		.flush = disk_flush,
};

static inline void disk_set_gate(struct mem_disk *m, bool gated)
{
	pthread_mutex_lock(&m->lock);
	m->gated = gated;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* Whether a request reached the gate within WAIT_NS. */
static inline bool disk_wait_at_gate(struct mem_disk *m)
{
	u64 deadline = clock_now_ns() + WAIT_NS;
	bool at;

	pthread_mutex_lock(&m->lock);
	while (!m->at_gate && clock_now_ns() < deadline) {
		pthread_mutex_unlock(&m->lock);
		sched_yield();
		pthread_mutex_lock(&m->lock);
	}
	at = m->at_gate;
	pthread_mutex_unlock(&m->lock);
	return at;
}

/* The disk's initial content: a pattern that differs sector to sector. */
static inline u8 disk_byte(u64 pos)
{
	return (u8)(pos * 7 + (pos >> 9));
}

struct rig {
	struct evloop loop;
	struct aio_ctx *aio;
	struct pio_bus *pio;
	struct phys_mem mem;
	struct pci_bus pci;
	struct ide_controller *ide;
	struct mem_disk disk;
	unsigned irqs;
	bool level;
	/* DMA writes into guest memory seen by a listener, and where. */
	unsigned dma_writes;
	bool dma_wrong_thread;
	pthread_t thread;
};

static inline void irq_cb(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	if (level && !r->level)
		r->irqs++;
	r->level = level;
}

static inline void dma_written(void *opaque, u64 paddr, u64 len)
{
	struct rig *r = opaque;

	r->dma_writes++;
	if (!pthread_equal(pthread_self(), r->thread))
		r->dma_wrong_thread = true;
}

static inline void map_changed(void *opaque)
{
}

static inline void outb(struct rig *r, u16 port, u8 v)
{
	pio_write(r->pio, port, v, 1);
}

static inline u8 inb(struct rig *r, u16 port)
{
	return (u8)pio_read(r->pio, port, 1);
}

/*
 * ram_size of guest RAM and a disk of disk_size bytes holding disk_byte(),
 * served by ops, on the primary master.
 */
static inline void rig_init(struct rig *r, u32 ram_size, u32 disk_size,
			    const struct block_ops *ops, bool read_only)
{
	struct mem_listener l = {map_changed, dma_written, r};
	struct mem_disk *m = &r->disk;
	u64 i;

	memset(r, 0, sizeof(*r));
	r->thread = pthread_self();
	CHECK_EQ(evloop_init(&r->loop), 0);
	CHECK_EQ(aio_ctx_create(&r->loop, &r->aio), 0);
	r->pio = pio_bus_new();
	CHECK_EQ(mem_init(&r->mem, ram_size, ram_size), 0);
	CHECK_EQ(pci_bus_init(&r->pci, r->pio, &r->mem), 0);
	r->ide =
		ide_create(&r->pci, IDE_DEVFN, (struct irq_line){irq_cb, r, 14},
			   (struct irq_line){irq_cb, r, 15});
	CHECK(r->ide != NULL);
	CHECK_EQ(ide_set_aio(r->ide, r->aio), 0);
	m->data = malloc(disk_size);
	for (i = 0; i < disk_size; i++)
		m->data[i] = disk_byte(i);
	m->bd = (struct block_dev){.ops = ops,
				   .path = "mem.img",
				   .size = disk_size,
				   .read_only = read_only,
				   .fd = -1,
				   .priv = m};
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	CHECK_EQ(ide_attach(r->ide, 0, 0, IDE_DISK, &m->bd), 0);
	/* Drives attached: the controller's workers can no longer change. */
	CHECK_EQ(ide_set_aio(r->ide, r->aio), -EBUSY);
	pci_config_write(&r->pci, IDE_DEVFN, 0x20, BM_BASE, 4);
	pci_config_write(&r->pci, IDE_DEVFN, PCI_COMMAND,
			 PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	CHECK_EQ(mem_add_listener(&r->mem, &l), 0);
}

static inline void rig_free(struct rig *r)
{
	struct device dev = ide_device(r->ide);

	dev.ops->destroy(dev.opaque);
	aio_ctx_destroy(r->aio);
	evloop_destroy(&r->loop);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
	pthread_cond_destroy(&r->disk.cond);
	pthread_mutex_destroy(&r->disk.lock);
	free(r->disk.data);
}

/* Run the loop until the drive interrupts; false on timeout. */
static inline bool wait_irq(struct rig *r, unsigned irqs)
{
	u64 deadline = clock_now_ns() + WAIT_NS;

	while (r->irqs < irqs && clock_now_ns() < deadline)
		evloop_run_once(&r->loop, clock_now_ns() + 100 * NSEC_PER_MSEC);
	return r->irqs >= irqs;
}

#endif

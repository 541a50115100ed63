/* SPDX-License-Identifier: MIT */
/*
 * The guest physical address space of a PC.
 *
 *   0 .. 0x9FFFF          RAM
 *   0xA0000 .. 0xBFFFF    legacy VGA window: MMIO, or host-backed while the
 *                         VGA maps mode 0x13's window (the VGA registers it)
 *   0xC0000 .. 0xFFFFF    shadow area: sixteen 16 KiB segments, each routed to
 *                         RAM or to ROM for reads and writes as the chipset's
 *                         PAM registers say (i440FX datasheet, 3.2.18)
 *   1 MiB .. low_top      RAM
 *   low_top .. 4 GiB      PCI hole: MMIO ranges (BARs, IOAPIC, LAPIC), and the
 *                         firmware ROM in its last bytes
 *   4 GiB ..              RAM above the hole
 *
 * Devices add regions on top of that: MMIO ranges (a callback per access)
 * and host-backed regions such as a video card's linear framebuffer, which
 * the CPU maps like RAM while a dirty log records the pages it wrote.
 * mem_for_each_region() lists the whole map (RAM, ROM, host-backed, MMIO)
 * for an engine that must mirror it (KVM memory slots).
 *
 * The CPU engines get host pointers for whole 4 KiB pages of RAM through
 * mem_page_ptr() and cache them; everything else goes through mem_read() and
 * mem_write(). When routing changes (PAM writes, BAR moves) listeners are told
 * so they can drop cached pointers. Device DMA uses mem_dma_read() and
 * mem_dma_write(), which also tell listeners which RAM was written, so a CPU
 * can discard code it decoded from it.
 */
#ifndef TWOOSTWO_BUS_MEMORY_H
#define TWOOSTWO_BUS_MEMORY_H

#include "core/types.h"

#define MEM_PAGE_SHIFT 12
#define MEM_PAGE_SIZE 4096u
#define MEM_4G 0x100000000ull
#define MEM_SHADOW_BASE 0xc0000u
#define MEM_SHADOW_SEGS 16
#define MEM_SHADOW_SEG_SIZE 0x4000u
#define MEM_MAX_MMIO 64
#define MEM_MAX_LISTENERS 4

/* PAM attribute of a shadow segment (i440FX PAM register encoding). */
enum mem_shadow_mode {
	MEM_SHADOW_ROM = 0,	  /* reads from ROM, writes dropped */
	MEM_SHADOW_READ_RAM = 1,  /* reads RAM, writes dropped */
	MEM_SHADOW_WRITE_RAM = 2, /* reads ROM, writes RAM */
	MEM_SHADOW_RW_RAM = 3,
};

struct mmio_ops {
	const char *name;
	u64 (*read)(void *opaque, u64 offset, unsigned size);
	void (*write)(void *opaque, u64 offset, u64 value, unsigned size);
};

/*
 * One bit per 4 KiB page of a host-backed region, set when the page may
 * have been written. Handing out a write pointer (mem_page_ptr) sets the
 * page's bit and `direct_writers`; the owner reads and clears the bits and
 * then calls mem_dirty_log_rearm(), which makes the CPUs drop their cached
 * pointers, so the next write to a clean page is seen again.
 */
struct mem_dirty_log {
	u64 *bits;
	u64 pages;
	bool direct_writers;
};

enum mem_region_kind {
	MEM_REGION_RAM,
	MEM_REGION_ROM,
	MEM_REGION_HOST, /* device memory mapped like RAM, dirty-logged */
	MEM_REGION_MMIO,
};

struct mmio_range {
	u64 base;
	u64 len;
	const struct mmio_ops *ops;
	void *opaque;
	u8 *host; /* MEM_REGION_HOST: len bytes of host memory */
	struct mem_dirty_log *dirty;
};

/* A region as mem_for_each_region() reports it. */
struct mem_region {
	enum mem_region_kind kind;
	u64 base, len;
	u8 *host; /* RAM, ROM (read-only) and HOST regions; NULL for MMIO */
	struct mem_dirty_log *dirty;
};

struct mem_listener {
	/* Routing changed: drop every cached host pointer. */
	void (*map_changed)(void *opaque);
	/* RAM in [paddr, paddr + len) was written by DMA. */
	void (*dma_written)(void *opaque, u64 paddr, u64 len);
	void *opaque;
};

struct phys_mem {
	u8 *ram;
	u64 ram_size;
	u64 low_top;	/* RAM below 4 GiB ends here */
	const u8 *bios; /* firmware image, mapped at 4 GiB - bios_size */
	u64 bios_size;
	u8 shadow_mode[MEM_SHADOW_SEGS];
	/* No legacy hole: RAM everywhere below low_top (CPU test rigs). */
	bool flat;
	struct mmio_range mmio[MEM_MAX_MMIO];
	unsigned nr_mmio;
	/* Host-backed regions in 0xA0000-0xBFFFF (a mapped VGA window). */
	unsigned nr_legacy_host;
	struct mem_listener listeners[MEM_MAX_LISTENERS];
	unsigned nr_listeners;
};

/* ram_size bytes of zeroed RAM; low_top is where the PCI hole begins. */
int mem_init(struct phys_mem *mem, u64 ram_size, u64 low_top);
void mem_destroy(struct phys_mem *mem);
/* The firmware image (not copied: the caller keeps it alive). */
void mem_set_bios(struct phys_mem *mem, const u8 *bios, u64 size);

int mem_register_mmio(struct phys_mem *mem, u64 base, u64 len,
		      const struct mmio_ops *ops, void *opaque);
/*
 * Device memory the CPU reads and writes directly (len a multiple of 4 KiB,
 * host valid as long as it is registered); writes are logged in dirty.
 * Removed with mem_unregister_mmio(base).
 */
int mem_register_host(struct phys_mem *mem, u64 base, u64 len, u8 *host,
		      struct mem_dirty_log *dirty);
void mem_unregister_mmio(struct phys_mem *mem, u64 base);
/*
 * Every region of the map, in no particular order; stops on nonzero.
 * The PAM-routed shadow segments (0xC0000-0xFFFFF) are not listed: they
 * follow mem_set_shadow_mode(), which tells the listeners.
 */
int mem_for_each_region(struct phys_mem *mem,
			int (*fn)(void *opaque, const struct mem_region *r),
			void *opaque);

int mem_dirty_log_init(struct mem_dirty_log *log, u64 size);
void mem_dirty_log_free(struct mem_dirty_log *log);
void mem_dirty_log_mark(struct mem_dirty_log *log, u64 off, u64 len);
/* Any page of [off, off + len) dirty? (out of range counts as dirty) */
bool mem_dirty_log_test(const struct mem_dirty_log *log, u64 off, u64 len);
void mem_dirty_log_clear(struct mem_dirty_log *log);
/* After clearing: take back the write pointers handed out (see above). */
void mem_dirty_log_rearm(struct phys_mem *mem, struct mem_dirty_log *log);
int mem_add_listener(struct phys_mem *mem, const struct mem_listener *l);
/* Remove the listener registered with this opaque pointer. */
void mem_remove_listener(struct phys_mem *mem, void *opaque);

void mem_set_shadow_mode(struct phys_mem *mem, unsigned seg,
			 enum mem_shadow_mode mode);

/*
 * Host pointer to the 4 KiB page holding paddr for plain reads (write=false)
 * or writes (write=true), or NULL when that page is not plain RAM for that
 * kind of access.
 */
u8 *mem_page_ptr(struct phys_mem *mem, u64 paddr, bool write);

/* Is paddr in a host-backed device region (see mem_register_host)? */
bool mem_page_is_device(struct phys_mem *mem, u64 paddr);

/* Accesses of 1, 2, 4 or 8 bytes that may hit anything. */
u64 mem_read(struct phys_mem *mem, u64 paddr, unsigned size);
void mem_write(struct phys_mem *mem, u64 paddr, u64 value, unsigned size);

/* Device DMA: bytes to or from guest memory, any alignment. */
void mem_dma_read(struct phys_mem *mem, u64 paddr, void *buf, u64 len);
void mem_dma_write(struct phys_mem *mem, u64 paddr, const void *buf, u64 len);
/*
 * RAM in [paddr, paddr + len) was written behind the buses' back (a KVM
 * vCPU stores straight into it): tell the listeners as a DMA write does.
 */
void mem_notify_written(struct phys_mem *mem, u64 paddr, u64 len);

/* RAM offset of paddr, or UINT64_MAX when paddr is not RAM. */
u64 mem_ram_offset(const struct phys_mem *mem, u64 paddr);

#endif

// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bus/io_trace.h"
#include "bus/memory.h"

#define LEGACY_HOLE_START 0xa0000u
#define LEGACY_HOLE_END 0x100000u
#define BIOS_ALIAS_BASE 0xe0000u
#define BIOS_ALIAS_SIZE 0x20000u

int mem_init(struct phys_mem *mem, u64 ram_size, u64 low_top)
{
	*mem = (struct phys_mem){0};
	/* Anonymous mapping: untouched guest RAM costs no host memory. */
	mem->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem->ram == MAP_FAILED) {
		mem->ram = NULL;
		return -ENOMEM;
	}
	mem->ram_size = ram_size;
	mem->low_top = MIN(ram_size, low_top);
	return 0;
}

void mem_destroy(struct phys_mem *mem)
{
	if (mem->ram)
		munmap(mem->ram, mem->ram_size);
	mem->ram = NULL;
}

void mem_set_bios(struct phys_mem *mem, const u8 *bios, u64 size)
{
	mem->bios = bios;
	mem->bios_size = size;
}

static void mem_notify_map_changed(struct phys_mem *mem)
{
	unsigned i;

	for (i = 0; i < mem->nr_listeners; i++)
		if (mem->listeners[i].map_changed)
			mem->listeners[i].map_changed(mem->listeners[i].opaque);
}

int mem_add_listener(struct phys_mem *mem, const struct mem_listener *l)
{
	if (mem->nr_listeners == MEM_MAX_LISTENERS)
		return -ENOSPC;
	mem->listeners[mem->nr_listeners++] = *l;
	return 0;
}

void mem_remove_listener(struct phys_mem *mem, void *opaque)
{
	unsigned i;

	for (i = 0; i < mem->nr_listeners; i++) {
		if (mem->listeners[i].opaque == opaque) {
			mem->listeners[i] = mem->listeners[--mem->nr_listeners];
			return;
		}
	}
}

int mem_register_mmio(struct phys_mem *mem, u64 base, u64 len,
		      const struct mmio_ops *ops, void *opaque)
{
	unsigned i;

	if (!len || base + len < base)
		return -EINVAL;
	if (mem->nr_mmio == MEM_MAX_MMIO)
		return -ENOSPC;
	for (i = 0; i < mem->nr_mmio; i++) {
		const struct mmio_range *r = &mem->mmio[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EBUSY;
	}
	mem->mmio[mem->nr_mmio++] =
		(struct mmio_range){base, len, ops, opaque, NULL, NULL};
	mem_notify_map_changed(mem);
	return 0;
}

/*
 * Most of the time 0xA0000-0xBFFFF is MMIO only: counting the host
 * regions there lets mem_page_ptr() answer without a search.
 */
static bool mem_overlaps_legacy_window(u64 base, u64 len)
{
	return base < MEM_SHADOW_BASE && base + len > LEGACY_HOLE_START;
}

int mem_register_host(struct phys_mem *mem, u64 base, u64 len, u8 *host,
		      struct mem_dirty_log *dirty)
{
	int err;

	if (!host || (base | len) & (MEM_PAGE_SIZE - 1))
		return -EINVAL;
	err = mem_register_mmio(mem, base, len, NULL, NULL);
	if (err)
		return err;
	mem->mmio[mem->nr_mmio - 1].host = host;
	mem->mmio[mem->nr_mmio - 1].dirty = dirty;
	if (mem_overlaps_legacy_window(base, len))
		mem->nr_legacy_host++;
	return 0;
}

static int mem_report(int (*fn)(void *opaque, const struct mem_region *r),
		      void *opaque, enum mem_region_kind kind, u64 base,
		      u64 len, u8 *host)
{
	struct mem_region r = {kind, base, len, host, NULL};

	return len ? fn(opaque, &r) : 0;
}

int mem_for_each_region(struct phys_mem *mem,
			int (*fn)(void *opaque, const struct mem_region *r),
			void *opaque)
{
	u64 low =
		mem->flat ? mem->low_top : MIN(mem->low_top, LEGACY_HOLE_START);
	unsigned i;
	int ret;

	ret = mem_report(fn, opaque, MEM_REGION_RAM, 0, low, mem->ram);
	if (!ret && !mem->flat && mem->low_top > LEGACY_HOLE_END)
		ret = mem_report(fn, opaque, MEM_REGION_RAM, LEGACY_HOLE_END,
				 mem->low_top - LEGACY_HOLE_END,
				 mem->ram + LEGACY_HOLE_END);
	if (!ret)
		ret = mem_report(fn, opaque, MEM_REGION_RAM, MEM_4G,
				 mem->ram_size - mem->low_top,
				 mem->ram + mem->low_top);
	if (!ret && mem->bios)
		ret = mem_report(fn, opaque, MEM_REGION_ROM,
				 MEM_4G - mem->bios_size, mem->bios_size,
				 (u8 *)mem->bios);
	for (i = 0; !ret && i < mem->nr_mmio; i++) {
		const struct mmio_range *m = &mem->mmio[i];
		struct mem_region r = {m->host ? MEM_REGION_HOST :
						 MEM_REGION_MMIO,
				       m->base, m->len, m->host, m->dirty};

		ret = fn(opaque, &r);
	}
	return ret;
}

int mem_dirty_log_init(struct mem_dirty_log *log, u64 size)
{
	log->pages = (size + MEM_PAGE_SIZE - 1) >> MEM_PAGE_SHIFT;
	log->bits = calloc((log->pages + 63) / 64, sizeof(u64));
	log->direct_writers = false;
	return log->bits ? 0 : -ENOMEM;
}

void mem_dirty_log_free(struct mem_dirty_log *log)
{
	free(log->bits);
	log->bits = NULL;
	log->pages = 0;
}

void mem_dirty_log_mark(struct mem_dirty_log *log, u64 off, u64 len)
{
	u64 p, first = off >> MEM_PAGE_SHIFT, last;

	if (!len || first >= log->pages)
		return;
	last = MIN((off + len - 1) >> MEM_PAGE_SHIFT, log->pages - 1);
	for (p = first; p <= last; p++)
		log->bits[p / 64] |= 1ull << (p % 64);
}

bool mem_dirty_log_test(const struct mem_dirty_log *log, u64 off, u64 len)
{
	u64 p, first = off >> MEM_PAGE_SHIFT, last;

	if (!len)
		return false;
	last = (off + len - 1) >> MEM_PAGE_SHIFT;
	if (last >= log->pages || last < first)
		return true;
	for (p = first; p <= last; p++)
		if (log->bits[p / 64] & (1ull << (p % 64)))
			return true;
	return false;
}

void mem_dirty_log_clear(struct mem_dirty_log *log)
{
	memset(log->bits, 0, (log->pages + 63) / 64 * sizeof(u64));
}

void mem_dirty_log_rearm(struct phys_mem *mem, struct mem_dirty_log *log)
{
	if (!log->direct_writers)
		return;
	log->direct_writers = false;
	mem_notify_map_changed(mem);
}

void mem_unregister_mmio(struct phys_mem *mem, u64 base)
{
	unsigned i;

	for (i = 0; i < mem->nr_mmio; i++) {
		if (mem->mmio[i].base == base) {
			if (mem->mmio[i].host &&
			    mem_overlaps_legacy_window(base, mem->mmio[i].len))
				mem->nr_legacy_host--;
			mem->mmio[i] = mem->mmio[--mem->nr_mmio];
			mem_notify_map_changed(mem);
			return;
		}
	}
}

void mem_set_shadow_mode(struct phys_mem *mem, unsigned seg,
			 enum mem_shadow_mode mode)
{
	if (seg >= MEM_SHADOW_SEGS || mem->shadow_mode[seg] == mode)
		return;
	mem->shadow_mode[seg] = (u8)mode;
	mem_notify_map_changed(mem);
}

u64 mem_ram_offset(const struct phys_mem *mem, u64 paddr)
{
	if (paddr < mem->low_top)
		return paddr;
	if (paddr >= MEM_4G && paddr - MEM_4G < mem->ram_size - mem->low_top)
		return paddr - MEM_4G + mem->low_top;
	return UINT64_MAX;
}

static struct mmio_range *mem_find_mmio(struct phys_mem *mem, u64 paddr)
{
	unsigned i;

	for (i = 0; i < mem->nr_mmio; i++) {
		struct mmio_range *r = &mem->mmio[i];

		if (paddr - r->base < r->len)
			return r;
	}
	return NULL;
}

/* Where reads of a shadow segment come from when PAM routes them to ROM. */
static const u8 *mem_shadow_rom_ptr(const struct phys_mem *mem, u64 paddr)
{
	if (paddr >= BIOS_ALIAS_BASE && mem->bios &&
	    mem->bios_size >= BIOS_ALIAS_SIZE)
		return mem->bios + mem->bios_size - BIOS_ALIAS_SIZE +
		       (paddr - BIOS_ALIAS_BASE);
	return NULL;
}

static bool mem_shadow_reads_ram(const struct phys_mem *mem, u64 paddr)
{
	u8 mode = mem->shadow_mode[(paddr - MEM_SHADOW_BASE) /
				   MEM_SHADOW_SEG_SIZE];

	return mode == MEM_SHADOW_READ_RAM || mode == MEM_SHADOW_RW_RAM;
}

static bool mem_shadow_writes_ram(const struct phys_mem *mem, u64 paddr)
{
	u8 mode = mem->shadow_mode[(paddr - MEM_SHADOW_BASE) /
				   MEM_SHADOW_SEG_SIZE];

	return mode == MEM_SHADOW_WRITE_RAM || mode == MEM_SHADOW_RW_RAM;
}

static bool mem_in_shadow(u64 paddr)
{
	return paddr >= MEM_SHADOW_BASE && paddr < LEGACY_HOLE_END;
}

static bool mem_in_legacy_hole(u64 paddr)
{
	return paddr >= LEGACY_HOLE_START && paddr < LEGACY_HOLE_END;
}

static const u8 *mem_high_bios_ptr(const struct phys_mem *mem, u64 paddr)
{
	if (mem->bios && paddr < MEM_4G && paddr >= MEM_4G - mem->bios_size)
		return mem->bios + (paddr - (MEM_4G - mem->bios_size));
	return NULL;
}

/*
 * Firmware ROM is plain memory for reads: handing out read-only pointers
 * lets the CPU cache and run code from ROM at RAM speed. Writes never get
 * one, so they are dropped in mem_write_in_page() as on real hardware.
 */
static u8 *mem_rom_page_ptr(const struct phys_mem *mem, u64 page)
{
	const u8 *p = NULL;

	if (mem_in_shadow(page) && !mem->flat)
		p = mem_shadow_rom_ptr(mem, page);
	else if (page < MEM_4G && page >= mem->low_top)
		p = mem_high_bios_ptr(mem, page);
	return (u8 *)p;
}

/* A page of a host-backed region; a write pointer makes the page dirty. */
static u8 *mem_host_page_ptr(struct mmio_range *r, u64 page, bool write)
{
	u64 off = page - r->base;

	if (write && r->dirty) {
		mem_dirty_log_mark(r->dirty, off, MEM_PAGE_SIZE);
		r->dirty->direct_writers = true;
	}
	return r->host + off;
}

u8 *mem_page_ptr(struct phys_mem *mem, u64 paddr, bool write)
{
	u64 page = paddr & ~(u64)(MEM_PAGE_SIZE - 1);
	struct mmio_range *r;
	u64 off;

	if (mem_in_legacy_hole(page) && !mem->flat) {
		/* 0xA0000-0xBFFFF: a device's, memory only if host-backed. */
		if (!mem_in_shadow(page)) {
			if (!mem->nr_legacy_host)
				return NULL;
			r = mem_find_mmio(mem, page);
			return r && r->host ?
				       mem_host_page_ptr(r, page, write) :
				       NULL;
		}
		if (write ? !mem_shadow_writes_ram(mem, page) :
			    !mem_shadow_reads_ram(mem, page))
			return write ? NULL : mem_rom_page_ptr(mem, page);
		return mem->ram + page;
	}
	off = mem_ram_offset(mem, page);
	if ((r = mem_find_mmio(mem, page)))
		return r->host ? mem_host_page_ptr(r, page, write) : NULL;
	if (off == UINT64_MAX)
		return write ? NULL : mem_rom_page_ptr(mem, page);
	return mem->ram + off;
}

bool mem_page_is_device(struct phys_mem *mem, u64 paddr)
{
	struct mmio_range *r = mem_find_mmio(mem, paddr);

	return r && r->host;
}

static u64 load_le(const u8 *p, unsigned size)
{
	switch (size) {
	case 1:
		return *p;
	case 2:
		return get_le16(p);
	case 4:
		return get_le32(p);
	default:
		return get_le64(p);
	}
}

static void store_le(u8 *p, u64 value, unsigned size)
{
	switch (size) {
	case 1:
		*p = (u8)value;
		break;
	case 2:
		put_le16(p, (u16)value);
		break;
	case 4:
		put_le32(p, (u32)value);
		break;
	default:
		put_le64(p, value);
		break;
	}
}

/* Read that does not cross a page: RAM, ROM, MMIO or open bus. */
static u64 mem_read_in_page(struct phys_mem *mem, u64 paddr, unsigned size)
{
	struct mmio_range *r;
	const u8 *p = mem_page_ptr(mem, paddr, false);

	if (p)
		return load_le(p + (paddr & (MEM_PAGE_SIZE - 1)), size);
	r = mem_find_mmio(mem, paddr);
	if (r && io_trace_on)
		io_trace_mmio(false, paddr, 0, size);
	if (r && paddr + size - r->base <= r->len && r->ops)
		return r->ops->read ?
			       r->ops->read(r->opaque, paddr - r->base, size) :
			       ~0ull >> (64 - 8 * size);
	if (mem_in_shadow(paddr) && (p = mem_shadow_rom_ptr(mem, paddr)))
		return load_le(p, size);
	if ((p = mem_high_bios_ptr(mem, paddr)))
		return load_le(p, size);
	return ~0ull >> (64 - 8 * size);
}

static void mem_write_in_page(struct phys_mem *mem, u64 paddr, u64 value,
			      unsigned size)
{
	struct mmio_range *r;
	u8 *p = mem_page_ptr(mem, paddr, true);

	if (p) {
		store_le(p + (paddr & (MEM_PAGE_SIZE - 1)), value, size);
		return;
	}
	r = mem_find_mmio(mem, paddr);
	if (r && io_trace_on)
		io_trace_mmio(true, paddr, value, size);
	if (r && paddr + size - r->base <= r->len && r->ops && r->ops->write)
		r->ops->write(r->opaque, paddr - r->base, value, size);
}

static bool mem_crosses_page(u64 paddr, unsigned size)
{
	return ((paddr & (MEM_PAGE_SIZE - 1)) + size) > MEM_PAGE_SIZE;
}

u64 mem_read(struct phys_mem *mem, u64 paddr, unsigned size)
{
	u64 value = 0;
	unsigned i;

	if (!mem_crosses_page(paddr, size))
		return mem_read_in_page(mem, paddr, size);
	for (i = 0; i < size; i++)
		value |= mem_read_in_page(mem, paddr + i, 1) << (8 * i);
	return value;
}

void mem_write(struct phys_mem *mem, u64 paddr, u64 value, unsigned size)
{
	unsigned i;

	if (!mem_crosses_page(paddr, size)) {
		mem_write_in_page(mem, paddr, value, size);
		return;
	}
	for (i = 0; i < size; i++)
		mem_write_in_page(mem, paddr + i, (u8)(value >> (8 * i)), 1);
}

void mem_dma_read(struct phys_mem *mem, u64 paddr, void *buf, u64 len)
{
	u8 *out = buf;

	while (len) {
		u64 chunk =
			MIN(len, MEM_PAGE_SIZE - (paddr & (MEM_PAGE_SIZE - 1)));
		const u8 *p = mem_page_ptr(mem, paddr, false);
		u64 i;

		if (p) {
			memcpy(out, p + (paddr & (MEM_PAGE_SIZE - 1)), chunk);
		} else {
			for (i = 0; i < chunk; i++)
				out[i] =
					(u8)mem_read_in_page(mem, paddr + i, 1);
		}
		out += chunk;
		paddr += chunk;
		len -= chunk;
	}
}

/* Does any MMIO range overlap [paddr, paddr + len)? */
static bool mem_overlaps_mmio(const struct phys_mem *mem, u64 paddr, u64 len)
{
	unsigned i;

	for (i = 0; i < mem->nr_mmio; i++) {
		const struct mmio_range *r = &mem->mmio[i];

		if (paddr < r->base + r->len && r->base < paddr + len)
			return true;
	}
	return false;
}

void mem_dma_write(struct phys_mem *mem, u64 paddr, const void *buf, u64 len)
{
	const u8 *in = buf;
	u64 start = paddr, total = len;
	unsigned i;

	while (len) {
		u64 chunk =
			MIN(len, MEM_PAGE_SIZE - (paddr & (MEM_PAGE_SIZE - 1)));
		u8 *p = mem_page_ptr(mem, paddr, true);
		u64 j;

		if (p) {
			memcpy(p + (paddr & (MEM_PAGE_SIZE - 1)), in, chunk);
		} else if (mem_overlaps_mmio(mem, paddr, chunk)) {
			/*
			 * Byte by byte only where a device listens: a DMA
			 * of megabytes into ROM or unmapped space (found by
			 * fuzz_machine: 16 MiB fw_cfg reads) is dropped a
			 * page at a time, not a byte at a time.
			 */
			for (j = 0; j < chunk; j++)
				mem_write_in_page(mem, paddr + j, in[j], 1);
		}
		in += chunk;
		paddr += chunk;
		len -= chunk;
	}
	for (i = 0; i < mem->nr_listeners; i++)
		if (mem->listeners[i].dma_written)
			mem->listeners[i].dma_written(mem->listeners[i].opaque,
						      start, total);
}

void mem_notify_written(struct phys_mem *mem, u64 paddr, u64 len)
{
	unsigned i;

	for (i = 0; i < mem->nr_listeners; i++)
		if (mem->listeners[i].dma_written)
			mem->listeners[i].dma_written(mem->listeners[i].opaque,
						      paddr, len);
}

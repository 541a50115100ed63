// SPDX-License-Identifier: MIT
/*
 * QEMU firmware configuration device (QEMU docs/specs/fw_cfg.rst), the
 * channel through which SeaBIOS learns the machine's RAM layout, boot order
 * and tables.
 *
 * Traditional interface: a 16-bit write to 0x510 selects an item and
 * rewinds it; each byte read from 0x511 returns the next byte of the item
 * (0 past its end). DMA interface: the 64-bit big-endian register at
 * 0x514-0x51B takes the guest-physical address of a request
 * {be32 control, be32 length, be64 address}; writing its low half starts the
 * transfer, which completes before the write returns. Reading the register
 * gives the signature "QEMU CFG".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "hw/fw_cfg.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DMA 0x514
#define FW_CFG_DMA_LEN 8

/* Selector bits that are not part of the key (fw_cfg.rst, "Selector"). */
#define FW_CFG_KEY_MASK 0xbfff /* bit 14: the retired write channel */

/* Key 1 (ID): bit 0 traditional interface, bit 1 DMA interface. */
#define FW_CFG_ID_TRADITIONAL BIT(0)
#define FW_CFG_ID_DMA BIT(1)

/* DMA control word bits (fw_cfg.rst, "FWCfgDmaAccess"). */
#define FW_CFG_DMA_ERROR BIT(0)
#define FW_CFG_DMA_READ BIT(1)
#define FW_CFG_DMA_SKIP BIT(2)
#define FW_CFG_DMA_SELECT BIT(3)
#define FW_CFG_DMA_WRITE BIT(4)
#define FW_CFG_DMA_REQ_SIZE 16

#define FW_CFG_MAX_ITEMS 96
#define FW_CFG_MAX_FILES 64
#define FW_CFG_NAME_LEN 56
#define FW_CFG_DIR_ENTRY_SIZE 64
/*
 * Largest item and largest DMA read. Bounding reads keeps a hostile
 * request (length up to 4 GiB of zero fill) from stalling the machine.
 */
#define FW_CFG_MAX_ITEM_SIZE (16u << 20)

static const u8 fw_cfg_dma_signature[FW_CFG_DMA_LEN] = "QEMU CFG";

struct fw_cfg_item {
	u16 key;
	u32 len;
	u8 *data;
};

struct fw_cfg_file {
	char name[FW_CFG_NAME_LEN];
	u8 *data;
	u32 len;
};

/* Guest-visible state, saved and loaded as is. */
struct fw_cfg_regs {
	u32 offset; /* next byte of the item the data port returns */
	u16 key;    /* selected item */
	u8 reserved[2];
	u8 dma_addr[FW_CFG_DMA_LEN]; /* big-endian, as written */
};

struct fw_cfg {
	struct fw_cfg_regs regs;
	struct phys_mem *mem;
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	unsigned nr_items;
	struct fw_cfg_file files[FW_CFG_MAX_FILES]; /* sorted by name */
	unsigned nr_files;
};

static struct fw_cfg_item *fw_cfg_find(struct fw_cfg *fw, u16 key)
{
	unsigned i;

	for (i = 0; i < fw->nr_items; i++)
		if (fw->items[i].key == key)
			return &fw->items[i];
	return NULL;
}

/* Set item key to a copy of data, replacing an existing item. */
static int fw_cfg_set_item(struct fw_cfg *fw, u16 key, const void *data,
			   u32 len)
{
	struct fw_cfg_item *item = fw_cfg_find(fw, key);
	u8 *copy;

	if (len > FW_CFG_MAX_ITEM_SIZE)
		return -EFBIG;
	if (!item && fw->nr_items == FW_CFG_MAX_ITEMS)
		return -ENOSPC;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	if (!item) {
		item = &fw->items[fw->nr_items++];
		item->key = key;
	} else {
		free(item->data);
	}
	item->data = copy;
	item->len = len;
	return 0;
}

int fw_cfg_add_bytes(struct fw_cfg *fw, u16 key, const void *data, u32 len)
{
	return fw_cfg_set_item(fw, key & FW_CFG_KEY_MASK, data, len);
}

/* Numeric items are little-endian (fw_cfg.rst, "Legacy keys"). */
int fw_cfg_add_u16(struct fw_cfg *fw, u16 key, u16 value)
{
	u8 b[2];

	put_le16(b, value);
	return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *fw, u16 key, u32 value)
{
	u8 b[4];

	put_le32(b, value);
	return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

int fw_cfg_add_u64(struct fw_cfg *fw, u16 key, u64 value)
{
	u8 b[8];

	put_le64(b, value);
	return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

/*
 * Files are numbered from FW_CFG_FILE_FIRST in name order, and item 0x19
 * lists them: a big-endian count, then {be32 size, be16 select, u16 0,
 * name[56]} per file. Rebuilt whenever a file is added (before the guest
 * runs), so keys always follow the sorted order.
 */
static int fw_cfg_rebuild_files(struct fw_cfg *fw)
{
	u32 len = 4 + fw->nr_files * FW_CFG_DIR_ENTRY_SIZE;
	u8 *dir = calloc(1, len);
	unsigned i;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	put_be32(dir, fw->nr_files);
	for (i = 0; i < fw->nr_files && !err; i++) {
		const struct fw_cfg_file *f = &fw->files[i];
		u8 *e = dir + 4 + i * FW_CFG_DIR_ENTRY_SIZE;
		u16 key = (u16)(FW_CFG_FILE_FIRST + i);

		put_be32(e, f->len);
		put_be16(e + 4, key);
		memcpy(e + 8, f->name, FW_CFG_NAME_LEN);
		err = fw_cfg_set_item(fw, key, f->data, f->len);
	}
	if (!err)
		err = fw_cfg_set_item(fw, FW_CFG_FILE_DIR, dir, len);
	free(dir);
	return err;
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data,
		    u32 len)
{
	struct fw_cfg_file *f;
	unsigned pos;
	u8 *copy;

	if (strlen(name) >= FW_CFG_NAME_LEN)
		return -ENAMETOOLONG;
	if (len > FW_CFG_MAX_ITEM_SIZE)
		return -EFBIG;
	if (fw->nr_files == FW_CFG_MAX_FILES)
		return -ENOSPC;
	for (pos = 0; pos < fw->nr_files; pos++) {
		int cmp = strcmp(name, fw->files[pos].name);

		if (!cmp)
			return -EEXIST;
		if (cmp < 0)
			break;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	memmove(&fw->files[pos + 1], &fw->files[pos],
		(fw->nr_files - pos) * sizeof(fw->files[0]));
	f = &fw->files[pos];
	memset(f->name, 0, sizeof(f->name));
	strcpy(f->name, name);
	f->data = copy;
	f->len = len;
	fw->nr_files++;
	return fw_cfg_rebuild_files(fw);
}

static void fw_cfg_select(struct fw_cfg *fw, u16 key)
{
	fw->regs.key = key & FW_CFG_KEY_MASK;
	fw->regs.offset = 0;
}

/* Next byte of the selected item; 0 past its end or for missing items. */
static u8 fw_cfg_data_byte(struct fw_cfg *fw)
{
	const struct fw_cfg_item *item = fw_cfg_find(fw, fw->regs.key);

	if (!item || fw->regs.offset >= item->len)
		return 0;
	return item->data[fw->regs.offset++];
}

static u32 fw_cfg_port_read(void *opaque, u16 offset, unsigned size)
{
	struct fw_cfg *fw = opaque;

	/* The selector is write-only; only the data port returns bytes. */
	if (offset == 1 && size == 1)
		return fw_cfg_data_byte(fw);
	return 0;
}

static void fw_cfg_port_write(void *opaque, u16 offset, u32 value,
			      unsigned size)
{
	struct fw_cfg *fw = opaque;

	/* Writes to the data port have been ignored since QEMU 2.4. */
	if (offset == 0)
		fw_cfg_select(fw, (u16)value);
}

static const struct pio_ops fw_cfg_port_ops = {
	.name = "fw_cfg",
	.read = fw_cfg_port_read,
	.write = fw_cfg_port_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2,
};

/* Copy up to len bytes of the selected item to guest memory at addr. */
static void fw_cfg_dma_read_item(struct fw_cfg *fw, u64 addr, u32 len)
{
	static const u8 zeros[4096];
	const struct fw_cfg_item *item = fw_cfg_find(fw, fw->regs.key);
	u32 avail = 0, n;

	if (item && fw->regs.offset < item->len)
		avail = item->len - fw->regs.offset;
	n = MIN(avail, len);
	if (n) {
		mem_dma_write(fw->mem, addr, item->data + fw->regs.offset, n);
		fw->regs.offset += n;
	}
	/* Past the end of the item the device writes zeros (fw_cfg.rst). */
	for (addr += n, len -= n; len; addr += n, len -= n) {
		n = MIN(len, (u32)sizeof(zeros));
		mem_dma_write(fw->mem, addr, zeros, n);
	}
}

static void fw_cfg_skip(struct fw_cfg *fw, u32 len)
{
	const struct fw_cfg_item *item = fw_cfg_find(fw, fw->regs.key);
	u32 avail = 0;

	if (item && fw->regs.offset < item->len)
		avail = item->len - fw->regs.offset;
	fw->regs.offset += MIN(avail, len);
}

/* Carry out one request; returns the control word to write back. */
static u32 fw_cfg_dma_execute(struct fw_cfg *fw, u32 control, u32 len, u64 addr)
{
	if (control & FW_CFG_DMA_SELECT)
		fw_cfg_select(fw, (u16)(control >> 16));
	if (control & FW_CFG_DMA_READ) {
		if (len > FW_CFG_MAX_ITEM_SIZE) {
			log_guest_once("fw_cfg", "DMA read of %u bytes refused",
				       len);
			return FW_CFG_DMA_ERROR;
		}
		fw_cfg_dma_read_item(fw, addr, len);
	} else if (control & FW_CFG_DMA_WRITE) {
		/* Items are read-only, as on QEMU machines since 2.4. */
		return FW_CFG_DMA_ERROR;
	} else if (control & FW_CFG_DMA_SKIP) {
		fw_cfg_skip(fw, len);
	}
	return 0;
}

static void fw_cfg_dma_start(struct fw_cfg *fw)
{
	u64 req_addr = get_be64(fw->regs.dma_addr);
	u8 req[FW_CFG_DMA_REQ_SIZE], status[4];
	u32 control;

	memset(fw->regs.dma_addr, 0, sizeof(fw->regs.dma_addr));
	mem_dma_read(fw->mem, req_addr, req, sizeof(req));
	control = fw_cfg_dma_execute(fw, get_be32(req), get_be32(req + 4),
				     get_be64(req + 8));
	/* Completion: the control field reads 0, or just the error bit. */
	put_be32(status, control);
	mem_dma_write(fw->mem, req_addr, status, sizeof(status));
}

static u32 fw_cfg_dma_read(void *opaque, u16 offset, unsigned size)
{
	u32 value = 0;
	unsigned i;

	for (i = 0; i < size && offset + i < FW_CFG_DMA_LEN; i++)
		value |= (u32)fw_cfg_dma_signature[offset + i] << (8 * i);
	return value;
}

/*
 * Port byte k of the register is byte k of the big-endian address, so a
 * guest's outl(cpu_to_be32(low), 0x518) stores the low half in order. The
 * transfer starts once the last byte (0x51B) has been written.
 */
static void fw_cfg_dma_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct fw_cfg *fw = opaque;
	unsigned i;

	for (i = 0; i < size && offset + i < FW_CFG_DMA_LEN; i++)
		fw->regs.dma_addr[offset + i] = (u8)(value >> (8 * i));
	if (offset + size == FW_CFG_DMA_LEN)
		fw_cfg_dma_start(fw);
}

static const struct pio_ops fw_cfg_dma_ops = {
	.name = "fw_cfg-dma",
	.read = fw_cfg_dma_read,
	.write = fw_cfg_dma_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2 | PIO_SIZE4,
};

static void fw_cfg_reset(void *opaque)
{
	struct fw_cfg *fw = opaque;

	fw->regs = (struct fw_cfg_regs){0};
}

#define FW_CFG_SNAP_VERSION 1

static int fw_cfg_save(void *opaque, struct snap_writer *w)
{
	struct fw_cfg *fw = opaque;

	return snap_put(w, "fw_cfg", FW_CFG_SNAP_VERSION, &fw->regs,
			sizeof(fw->regs));
}

static int fw_cfg_load(void *opaque, const struct snap_reader *r)
{
	struct fw_cfg *fw = opaque;
	struct fw_cfg_regs regs;
	int err =
		snap_get(r, "fw_cfg", FW_CFG_SNAP_VERSION, &regs, sizeof(regs));

	if (err)
		return err;
	regs.key &= FW_CFG_KEY_MASK;
	fw->regs = regs;
	return 0;
}

static void fw_cfg_destroy(void *opaque)
{
	struct fw_cfg *fw = opaque;
	unsigned i;

	for (i = 0; i < fw->nr_items; i++)
		free(fw->items[i].data);
	for (i = 0; i < fw->nr_files; i++)
		free(fw->files[i].data);
	free(fw);
}

static const struct device_ops fw_cfg_device_ops = {
	.name = "fw_cfg",
	.reset = fw_cfg_reset,
	.save = fw_cfg_save,
	.load = fw_cfg_load,
	.destroy = fw_cfg_destroy,
};

struct device fw_cfg_device(struct fw_cfg *fw)
{
	return (struct device){&fw_cfg_device_ops, fw};
}

static int fw_cfg_add_identity(struct fw_cfg *fw)
{
	int err = fw_cfg_add_bytes(fw, FW_CFG_SIGNATURE, "QEMU", 4);

	if (!err)
		err = fw_cfg_add_u32(fw, FW_CFG_ID,
				     FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	if (!err)
		err = fw_cfg_rebuild_files(fw);
	return err;
}

struct fw_cfg *fw_cfg_create(struct pio_bus *pio, struct phys_mem *mem)
{
	struct fw_cfg *fw = calloc(1, sizeof(*fw));

	if (!fw)
		return NULL;
	fw->mem = mem;
	if (fw_cfg_add_identity(fw) ||
	    pio_register(pio, FW_CFG_PORT_SEL, 2, &fw_cfg_port_ops, fw)) {
		fw_cfg_destroy(fw);
		return NULL;
	}
	if (pio_register(pio, FW_CFG_PORT_DMA, FW_CFG_DMA_LEN, &fw_cfg_dma_ops,
			 fw)) {
		pio_unregister(pio, FW_CFG_PORT_SEL);
		fw_cfg_destroy(fw);
		return NULL;
	}
	return fw;
}

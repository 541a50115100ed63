// SPDX-License-Identifier: MIT
/*
 * fw_cfg driven through its ports as SeaBIOS drives it (QEMU
 * docs/specs/fw_cfg.rst).
 */
#include <stdlib.h>

#include "hw/fw_cfg.h"
#include "unit.h"

#define SEL 0x510
#define DATA 0x511
#define DMA_HI 0x514
#define DMA_LO 0x518
#define RAM (2u << 20)

#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10

struct rig {
	struct pio_bus *pio;
	struct phys_mem mem;
	struct fw_cfg *fw;
};

static void rig_init(struct rig *r)
{
	r->pio = pio_bus_new();
	CHECK(mem_init(&r->mem, RAM, RAM) == 0);
	r->fw = fw_cfg_create(r->pio, &r->mem);
	CHECK(r->fw != NULL);
}

static void rig_free(struct rig *r)
{
	struct device d = fw_cfg_device(r->fw);

	d.ops->destroy(d.opaque);
	mem_destroy(&r->mem);
	pio_bus_free(r->pio);
}

static void read_item(struct rig *r, u16 key, u8 *buf, unsigned len)
{
	unsigned i;

	pio_write(r->pio, SEL, key, 2);
	for (i = 0; i < len; i++)
		buf[i] = (u8)pio_read(r->pio, DATA, 1);
}

static u32 bswap(u32 v)
{
	return __builtin_bswap32(v);
}

/* Build a request at req and start it as SeaBIOS does (outl at 0x518). */
static u32 dma(struct rig *r, u32 req, u32 control, u32 len, u64 addr)
{
	u8 *p = r->mem.ram + req;

	put_be32(p, control);
	put_be32(p + 4, len);
	put_be32(p + 8, (u32)(addr >> 32));
	put_be32(p + 12, (u32)addr);
	pio_write(r->pio, DMA_LO, bswap(req), 4);
	return get_be32(p);
}

static void test_signature(void)
{
	struct rig r;
	u8 buf[6];
	u32 id;

	rig_init(&r);
	read_item(&r, 0, buf, 6);
	CHECK(!memcmp(buf, "QEMU\0\0", 6));
	read_item(&r, 1, buf, 4);
	id = get_le32(buf);
	CHECK_EQ(id, 3);
	/* DMA register reads "QEMU CFG", big-endian. */
	CHECK_EQ(bswap(pio_read(r.pio, DMA_HI, 4)), 0x51454d55);
	CHECK_EQ(bswap(pio_read(r.pio, DMA_LO, 4)), 0x20434647);
	CHECK_EQ(pio_read(r.pio, DMA_HI, 1), 'Q');
	rig_free(&r);
}

static void test_numbers(void)
{
	struct rig r;
	u8 buf[8];

	rig_init(&r);
	CHECK(fw_cfg_add_u64(r.fw, FW_CFG_RAM_SIZE, 0x123456789ull) == 0);
	CHECK(fw_cfg_add_u16(r.fw, FW_CFG_MAX_CPUS, 1) == 0);
	read_item(&r, FW_CFG_RAM_SIZE, buf, 8);
	CHECK_EQ(get_le64(buf), 0x123456789ull);
	read_item(&r, FW_CFG_MAX_CPUS, buf, 3);
	CHECK_EQ(get_le16(buf), 1);
	CHECK_EQ(buf[2], 0); /* past the end */
	/* Missing item reads as zeros. */
	read_item(&r, 0x8000, buf, 2);
	CHECK_EQ(get_le16(buf), 0);
	rig_free(&r);
}

static void test_directory(void)
{
	struct rig r;
	u8 buf[4 + 3 * 64];
	const u8 *e;

	rig_init(&r);
	CHECK(fw_cfg_add_file(r.fw, "etc/e820", "abcdefgh", 8) == 0);
	CHECK(fw_cfg_add_file(r.fw, "bootorder", "x", 1) == 0);
	CHECK(fw_cfg_add_file(r.fw, "etc/boot-fail-wait", "1234", 4) == 0);
	CHECK(fw_cfg_add_file(r.fw, "bootorder", "y", 1) < 0);
	read_item(&r, FW_CFG_FILE_DIR, buf, sizeof(buf));
	CHECK_EQ(get_be32(buf), 3);
	/* Sorted by name, keys from 0x20. */
	e = buf + 4;
	CHECK_EQ(get_be32(e), 1);
	CHECK_EQ(e[4] << 8 | e[5], 0x20);
	CHECK_STR((const char *)e + 8, "bootorder");
	e += 64;
	CHECK_EQ(get_be32(e), 4);
	CHECK_EQ(e[4] << 8 | e[5], 0x21);
	CHECK_STR((const char *)e + 8, "etc/boot-fail-wait");
	e += 64;
	CHECK_EQ(get_be32(e), 8);
	CHECK_EQ(e[4] << 8 | e[5], 0x22);
	CHECK_STR((const char *)e + 8, "etc/e820");
	read_item(&r, 0x22, buf, 8);
	CHECK(!memcmp(buf, "abcdefgh", 8));
	rig_free(&r);
}

static void test_dma_read(void)
{
	struct rig r;
	u8 data[300];
	unsigned i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 7 + 1);
	rig_init(&r);
	CHECK(fw_cfg_add_file(r.fw, "etc/table", data, sizeof(data)) == 0);
	memset(r.mem.ram + 0x2000, 0xaa, 400);
	CHECK_EQ(dma(&r, 0x1000, 0x20u << 16 | DMA_SELECT | DMA_READ, 310,
		     0x2000),
		 0);
	CHECK(!memcmp(r.mem.ram + 0x2000, data, sizeof(data)));
	/* Past the end of the item: zeros; beyond the request untouched. */
	for (i = 300; i < 310; i++)
		CHECK_EQ(r.mem.ram[0x2000 + i], 0);
	CHECK_EQ(r.mem.ram[0x2000 + 310], 0xaa);
	rig_free(&r);
}

static void test_dma_select_skip(void)
{
	struct rig r;
	u8 data[16] = "0123456789abcdef";

	rig_init(&r);
	CHECK(fw_cfg_add_bytes(r.fw, 0x8003, data, sizeof(data)) == 0);
	CHECK_EQ(dma(&r, 0x1000, 0x8003u << 16 | DMA_SELECT | DMA_SKIP, 5, 0),
		 0);
	CHECK_EQ(dma(&r, 0x1000, DMA_READ, 3, 0x3000), 0);
	CHECK(!memcmp(r.mem.ram + 0x3000, "567", 3));
	/* The traditional port continues from the same offset. */
	CHECK_EQ(pio_read(r.pio, DATA, 1), '8');
	/* Skipping past the end stops at the end. */
	CHECK_EQ(dma(&r, 0x1000, DMA_SKIP, 0xffffffffu, 0), 0);
	CHECK_EQ(pio_read(r.pio, DATA, 1), 0);
	/* Writes are not supported. */
	CHECK_EQ(dma(&r, 0x1000, 0x8003u << 16 | DMA_SELECT | DMA_WRITE, 4,
		     0x3000),
		 DMA_ERROR);
	/* Selecting through the port rewinds. */
	pio_write(r.pio, SEL, 0x8003, 2);
	CHECK_EQ(pio_read(r.pio, DATA, 1), '0');
	rig_free(&r);
}

static void test_dma_64bit_address(void)
{
	struct rig r;
	u8 *p;

	rig_init(&r);
	p = r.mem.ram + 0x4000;
	put_be32(p, 1u << 16 | DMA_SELECT | DMA_READ);
	put_be32(p + 4, 4);
	put_be32(p + 8, 0);
	put_be32(p + 12, 0x5000);
	/* High half first, then byte writes of the low half. */
	pio_write(r.pio, DMA_HI, 0, 4);
	pio_write(r.pio, DMA_LO, 0x00, 1);
	pio_write(r.pio, DMA_LO + 1, 0x00, 1);
	pio_write(r.pio, DMA_LO + 2, 0x40, 1);
	CHECK_EQ(get_be32(p), 1u << 16 | DMA_SELECT | DMA_READ);
	pio_write(r.pio, DMA_LO + 3, 0x00, 1);
	CHECK_EQ(get_be32(p), 0);
	CHECK_EQ(get_le32(r.mem.ram + 0x5000), 3);
	rig_free(&r);
}

static void test_dma_hostile(void)
{
	struct rig r;

	rig_init(&r);
	/* Request outside RAM: nothing to crash on. */
	pio_write(r.pio, DMA_HI, bswap(0xffffffffu), 4);
	pio_write(r.pio, DMA_LO, bswap(0xfffffff8u), 4);
	/* Destination outside RAM, wrapping the address space. */
	CHECK_EQ(dma(&r, 0x1000, DMA_SELECT | DMA_READ, 4096,
		     0xfffffffffffff800ull),
		 0);
	/* Huge reads are refused rather than zero-filling gigabytes. */
	CHECK_EQ(dma(&r, 0x1000, DMA_SELECT | DMA_READ, 0xffffffffu, 0x2000),
		 DMA_ERROR);
	/* Request straddling the end of RAM: its address reads as ones. */
	put_be32(r.mem.ram + RAM - 8, DMA_READ);
	put_be32(r.mem.ram + RAM - 4, 16);
	pio_write(r.pio, DMA_LO, bswap(RAM - 8), 4);
	CHECK_EQ(get_be32(r.mem.ram + RAM - 8), 0);
	rig_free(&r);
}

static void test_random_ports(void)
{
	struct rig r;
	unsigned i;

	rig_init(&r);
	fw_cfg_add_file(r.fw, "etc/e820", "abcdefgh", 8);
	srand(1);
	for (i = 0; i < 100000; i++) {
		u16 port = (u16)(SEL + rand() % 12);
		unsigned size = 1u << (rand() % 3);

		if (rand() & 1)
			pio_write(r.pio, port, (u32)rand(), size);
		else
			pio_read(r.pio, port, size);
	}
	rig_free(&r);
}

static void test_save_load(void)
{
	struct rig r;
	struct device d;
	struct snap_writer w;
	struct snap_reader rd;

	rig_init(&r);
	d = fw_cfg_device(r.fw);
	pio_write(r.pio, SEL, FW_CFG_SIGNATURE, 2);
	pio_read(r.pio, DATA, 1);
	pio_read(r.pio, DATA, 1);
	snap_writer_init(&w);
	CHECK(d.ops->save(d.opaque, &w) == 0);
	d.ops->reset(d.opaque);
	CHECK_EQ(pio_read(r.pio, DATA, 1), 'Q');
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(d.ops->load(d.opaque, &rd) == 0);
	CHECK_EQ(pio_read(r.pio, DATA, 1), 'M');
	snap_writer_free(&w);
	rig_free(&r);
}

static void test_add_limits(void)
{
	struct rig r;
	char name[80];

	rig_init(&r);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK(fw_cfg_add_file(r.fw, name, "", 0) < 0);
	name[55] = 0;
	CHECK(fw_cfg_add_file(r.fw, name, "", 0) == 0);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_signature);
	RUN_TEST(test_numbers);
	RUN_TEST(test_directory);
	RUN_TEST(test_dma_read);
	RUN_TEST(test_dma_select_skip);
	RUN_TEST(test_dma_64bit_address);
	RUN_TEST(test_dma_hostile);
	RUN_TEST(test_random_ports);
	RUN_TEST(test_save_load);
	RUN_TEST(test_add_limits);
	return unit_summary();
}

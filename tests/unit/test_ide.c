// SPDX-License-Identifier: MIT
/*
 * The IDE controller driven through its ports, PCI config space and guest
 * memory, as SeaBIOS and Linux drive it: PIO and DMA disk I/O, the ATAPI
 * CD-ROM, and hostile port traffic.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/block.h"
#include "bus/pci.h"
#include "core/snapshot.h"
#include "hw/ide.h"
#include "hw/ide_internal.h" /* snapshot layout, to corrupt it */
#include "unit.h"

#define PRI 0x1f0
#define PRI_CTL 0x3f6
#define SEC 0x170
#define SEC_CTL 0x376
#define BM_BASE 0xc000
#define IDE_DEVFN PCI_DEVFN(1, 1)
#define RAM_SIZE (2u << 20)
#define DISK_SECTORS 16384u /* 8 MiB */
#define CD_SECTORS 64u

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DRDY 0x40
#define ST_BSY 0x80

static char tmpdir[] = "/tmp/twoostwo-ide-XXXXXX";
static char disk_path[300], cd_path[300], cd2_path[300];

struct rig {
	struct pio_bus *pio;
	struct phys_mem mem;
	struct pci_bus pci;
	struct ide_controller *ide;
	struct block_dev *disk, *cd;
	bool level[16];
	unsigned edges[16];
};

static u8 disk_byte(u64 sector, unsigned off)
{
	return (u8)((sector * 13) ^ off ^ (off >> 8) ^ (sector >> 8));
}

static u8 cd_byte(u64 sector, unsigned off)
{
	return (u8)((sector * 29 + 5) ^ (off * 3) ^ (off >> 9));
}

static void make_image(const char *path, unsigned sectors, unsigned size,
		       u8 (*pattern)(u64, unsigned))
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	u8 buf[2048];
	unsigned s, i;

	for (s = 0; s < sectors; s++) {
		for (i = 0; i < size; i++)
			buf[i] = pattern(s, i);
		CHECK(write(fd, buf, size) == (ssize_t)size);
	}
	close(fd);
}

static void irq_cb(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	if (level && !r->level[pin])
		r->edges[pin]++;
	r->level[pin] = level;
}

static struct block_dev *open_image(const char *path, unsigned flags)
{
	struct block_dev *bd = NULL;
	char err[512];

	if (block_open_raw(path, flags, &bd, err, sizeof(err)))
		fprintf(stderr, "%s\n", err);
	return bd;
}

/* A controller with a disk on primary master (if disk) and a CD-ROM on
 * secondary master (with or without a medium). */
static void rig_init(struct rig *r, bool disk, bool cd, bool cd_medium)
{
	memset(r, 0, sizeof(*r));
	r->pio = pio_bus_new();
	CHECK_EQ(mem_init(&r->mem, RAM_SIZE, RAM_SIZE), 0);
	CHECK_EQ(pci_bus_init(&r->pci, r->pio, &r->mem), 0);
	r->ide =
		ide_create(&r->pci, IDE_DEVFN, (struct irq_line){irq_cb, r, 14},
			   (struct irq_line){irq_cb, r, 15});
	CHECK(r->ide != NULL);
	if (disk) {
		r->disk = open_image(disk_path, 0);
		CHECK_EQ(ide_attach(r->ide, 0, 0, IDE_DISK, r->disk), 0);
	}
	if (cd) {
		if (cd_medium)
			r->cd = open_image(cd_path, BLOCK_OPEN_READ_ONLY);
		CHECK_EQ(ide_attach(r->ide, 1, 0, IDE_CDROM, r->cd), 0);
	}
}

static void rig_free(struct rig *r)
{
	struct device dev = ide_device(r->ide);

	dev.ops->destroy(dev.opaque);
	block_close(r->disk);
	block_close(r->cd);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
}

static void outb(struct rig *r, u16 port, u8 v)
{
	pio_write(r->pio, port, v, 1);
}

static u8 inb(struct rig *r, u16 port)
{
	return (u8)pio_read(r->pio, port, 1);
}

static u16 inw(struct rig *r, u16 port)
{
	return (u16)pio_read(r->pio, port, 2);
}

static void outw(struct rig *r, u16 port, u16 v)
{
	pio_write(r->pio, port, v, 2);
}

static void read_words(struct rig *r, u16 base, u8 *buf, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i += 2)
		put_le16(buf + i, inw(r, base));
}

static void ata_lba28(struct rig *r, u16 base, u8 cmd, u32 lba, u8 count)
{
	outb(r, base + 2, count);
	outb(r, base + 3, (u8)lba);
	outb(r, base + 4, (u8)(lba >> 8));
	outb(r, base + 5, (u8)(lba >> 16));
	outb(r, base + 6, (u8)(0xe0 | ((lba >> 24) & 0xf)));
	outb(r, base + 7, cmd);
}

static void ata_lba48(struct rig *r, u16 base, u8 cmd, u64 lba, u16 count)
{
	outb(r, base + 2, (u8)(count >> 8));
	outb(r, base + 3, (u8)(lba >> 24));
	outb(r, base + 4, (u8)(lba >> 32));
	outb(r, base + 5, (u8)(lba >> 40));
	outb(r, base + 2, (u8)count);
	outb(r, base + 3, (u8)lba);
	outb(r, base + 4, (u8)(lba >> 8));
	outb(r, base + 5, (u8)(lba >> 16));
	outb(r, base + 6, 0x40);
	outb(r, base + 7, cmd);
}

static bool disk_matches(const u8 *buf, u64 lba, unsigned sectors)
{
	unsigned s, i;

	for (s = 0; s < sectors; s++)
		for (i = 0; i < 512; i++)
			if (buf[s * 512 + i] != disk_byte(lba + s, i))
				return false;
	return true;
}

static bool cd_matches(const u8 *buf, u64 lba, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		if (buf[i] != cd_byte(lba + i / 2048, i % 2048))
			return false;
	return true;
}

static void id_string(const u8 *id, unsigned word, unsigned len, char *out)
{
	unsigned i;

	for (i = 0; i < len; i++)
		out[i] = (char)id[2 * word + (i ^ 1)];
	out[len] = 0;
	while (len && out[len - 1] == ' ')
		out[--len] = 0;
}

static void test_identify_disk(void)
{
	struct rig r;
	u8 id[512], sum = 0;
	char model[41];
	unsigned i;

	rig_init(&r, true, false, false);
	outb(&r, PRI + 6, 0xa0);
	outb(&r, PRI + 7, 0xec);
	CHECK_EQ(inb(&r, PRI_CTL) & (ST_BSY | ST_DRQ | ST_ERR), ST_DRQ);
	CHECK(r.level[14]);
	CHECK_EQ(inb(&r, PRI + 7) & ST_DRQ, ST_DRQ);
	CHECK(!r.level[14]); /* reading status acknowledged it */
	read_words(&r, PRI, id, sizeof(id));
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK_EQ(get_le16(id), 0x0040);
	id_string(id, 27, 40, model);
	CHECK_STR(model, "TWOOSTWO HARDDISK");
	CHECK_EQ(get_le16(id + 2 * 3), 16);
	CHECK_EQ(get_le16(id + 2 * 6), 63);
	CHECK_EQ(get_le16(id + 2 * 1), DISK_SECTORS / (16 * 63));
	CHECK_EQ(get_le32(id + 2 * 60), DISK_SECTORS);
	CHECK(get_le16(id + 2 * 83) & BIT(10));
	CHECK(get_le16(id + 2 * 86) & BIT(10));
	CHECK_EQ(get_le64(id + 2 * 100), DISK_SECTORS);
	CHECK(get_le16(id + 2 * 49) & BIT(8));
	CHECK_EQ(get_le16(id + 2 * 63) & 7, 7);
	CHECK_EQ(get_le16(id + 2 * 88) & 0x3f, 0x3f);
	CHECK(get_le16(id + 2 * 93) & BIT(13));
	/* SeaBIOS: "device 0 answers for device 1" must not be claimed. */
	CHECK((get_le16(id + 2 * 93) & 0xdf61) != 0x4041);
	for (i = 0; i < 512; i++)
		sum = (u8)(sum + id[i]);
	CHECK_EQ(id[510], 0xa5);
	CHECK_EQ(sum, 0);

	/* SET FEATURES: select UDMA 2; IDENTIFY shows it. */
	outb(&r, PRI + 1, 0x03);
	outb(&r, PRI + 2, 0x42);
	outb(&r, PRI + 7, 0xef);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	outb(&r, PRI + 7, 0xec);
	read_words(&r, PRI, id, sizeof(id));
	CHECK_EQ(get_le16(id + 2 * 88), 0x043f);
	CHECK_EQ(get_le16(id + 2 * 63) & 0x0700, 0);
	/* Unsupported mode aborts. */
	outb(&r, PRI + 2, 0x47);
	outb(&r, PRI + 7, 0xef);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), 0x04);
	rig_free(&r);
}

static void srst(struct rig *r, u16 ctl)
{
	outb(r, ctl, 0x06);
	CHECK(inb(r, ctl) & ST_BSY);
	outb(r, ctl, 0x00);
}

static void test_signatures(void)
{
	struct rig r;

	rig_init(&r, true, true, true);
	srst(&r, PRI_CTL);
	srst(&r, SEC_CTL);
	outb(&r, PRI + 6, 0xa0);
	CHECK_EQ(inb(&r, PRI + 2), 1);
	CHECK_EQ(inb(&r, PRI + 3), 1);
	CHECK_EQ(inb(&r, PRI + 4), 0);
	CHECK_EQ(inb(&r, PRI + 5), 0);
	CHECK_EQ(inb(&r, PRI + 1), 1);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	outb(&r, SEC + 6, 0xa0);
	CHECK_EQ(inb(&r, SEC + 2), 1);
	CHECK_EQ(inb(&r, SEC + 3), 1);
	CHECK_EQ(inb(&r, SEC + 4), 0x14);
	CHECK_EQ(inb(&r, SEC + 5), 0xeb);
	CHECK_EQ(inb(&r, SEC + 7), 0);

	/* SeaBIOS echo test: works on a device, not on an absent slave. */
	outb(&r, PRI + 2, 0x55);
	outb(&r, PRI + 3, 0xaa);
	CHECK_EQ(inb(&r, PRI + 2), 0x55);
	CHECK_EQ(inb(&r, PRI + 3), 0xaa);
	outb(&r, PRI + 6, 0xb0);
	CHECK_EQ(inb(&r, PRI + 6), 0xb0);
	outb(&r, PRI + 2, 0x55);
	outb(&r, PRI + 3, 0xaa);
	CHECK_EQ(inb(&r, PRI + 2), 0);
	CHECK_EQ(inb(&r, PRI + 3), 0);
	CHECK_EQ(inb(&r, PRI + 7), 0);
	outb(&r, PRI + 7, 0xec); /* nobody answers */
	CHECK_EQ(inb(&r, PRI + 7), 0);
	CHECK(!r.level[14]);

	/* The CD aborts IDENTIFY and shows its signature again. */
	outb(&r, SEC + 4, 0);
	outb(&r, SEC + 5, 0);
	outb(&r, SEC + 7, 0xec);
	CHECK_EQ(inb(&r, SEC + 7) & (ST_ERR | ST_DRQ), ST_ERR);
	CHECK_EQ(inb(&r, SEC + 1) & 0x04, 0x04);
	CHECK_EQ(inb(&r, SEC + 4), 0x14);
	CHECK_EQ(inb(&r, SEC + 5), 0xeb);
	/* The disk aborts IDENTIFY PACKET with a non-zero status. */
	outb(&r, PRI + 6, 0xa0);
	outb(&r, PRI + 7, 0xa1);
	CHECK_EQ(inb(&r, PRI + 7), ST_DRDY | ST_ERR);
	/* NOP and unknown opcodes abort too. */
	outb(&r, PRI + 7, 0x00);
	CHECK_EQ(inb(&r, PRI + 1), 0x04);
	outb(&r, PRI + 7, 0xfe);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	/* EXECUTE DEVICE DIAGNOSTIC: signature, code 01h, interrupt. */
	outb(&r, PRI + 2, 0x77);
	outb(&r, PRI + 7, 0x90);
	CHECK_EQ(inb(&r, PRI + 1), 0x01);
	CHECK_EQ(inb(&r, PRI + 2), 0x01);
	CHECK(r.level[14]);
	rig_free(&r);
}

static void test_empty_channel(void)
{
	struct rig r;

	rig_init(&r, true, false, false);
	outb(&r, SEC + 6, 0xa0);
	outb(&r, SEC + 2, 0x55);
	CHECK_EQ(inb(&r, SEC + 2), 0);
	CHECK_EQ(inb(&r, SEC + 7), 0);
	CHECK_EQ(inb(&r, SEC_CTL), 0);
	outb(&r, SEC + 7, 0xec);
	CHECK_EQ(inb(&r, SEC + 7), 0);
	CHECK_EQ(inw(&r, SEC), 0);
	rig_free(&r);
}

static void test_pio_write_read(void)
{
	struct rig r;
	u8 buf[3 * 512], back[3 * 512];
	unsigned i;
	int fd;

	rig_init(&r, true, false, false);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 37 + 1);
	ata_lba28(&r, PRI, 0x30, 5, 3);
	/* The first block is requested without an interrupt. */
	CHECK_EQ(inb(&r, PRI_CTL), ST_DRDY | 0x10 | ST_DRQ);
	CHECK(!r.level[14]);
	for (i = 0; i < sizeof(buf); i += 2) {
		outw(&r, PRI, get_le16(buf + i));
		if (i == 510) {
			CHECK(r.level[14]);
			CHECK(inb(&r, PRI + 7) & ST_DRQ);
		}
	}
	CHECK(r.level[14]);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	/* Completion leaves the last sector's address in the task file. */
	CHECK_EQ(inb(&r, PRI + 3), 7);
	fd = open(disk_path, O_RDONLY);
	CHECK(pread(fd, back, sizeof(back), 5 * 512) == (ssize_t)sizeof(back));
	close(fd);
	CHECK(!memcmp(buf, back, sizeof(buf)));

	memset(back, 0, sizeof(back));
	r.edges[14] = 0;
	ata_lba28(&r, PRI, 0x20, 5, 3);
	for (i = 0; i < 3; i++) {
		CHECK(inb(&r, PRI + 7) & ST_DRQ);
		read_words(&r, PRI, back + i * 512, 512);
	}
	CHECK_EQ(r.edges[14], 3);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	/* Unchanged sectors around the write. */
	ata_lba28(&r, PRI, 0x20, 4, 1);
	read_words(&r, PRI, back, 512);
	CHECK(disk_matches(back, 4, 1));
	/* Restore the image for the other tests. */
	make_image(disk_path, DISK_SECTORS, 512, disk_byte);
	rig_free(&r);
}

static void test_pio32_and_multiple(void)
{
	struct rig r;
	u8 buf[8 * 512];
	unsigned i;

	rig_init(&r, true, false, false);
	/* READ MULTIPLE before SET MULTIPLE aborts. */
	ata_lba28(&r, PRI, 0xc4, 0, 8);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	outb(&r, PRI + 2, 3); /* not a power of two */
	outb(&r, PRI + 7, 0xc6);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	outb(&r, PRI + 2, 4);
	outb(&r, PRI + 7, 0xc6);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	r.edges[14] = 0;
	ata_lba28(&r, PRI, 0xc4, 100, 8);
	for (i = 0; i < sizeof(buf); i += 4) {
		if (i % 2048 == 0)
			CHECK(inb(&r, PRI + 7) & ST_DRQ);
		put_le32(buf + i, pio_read(r.pio, PRI, 4));
	}
	CHECK_EQ(r.edges[14], 2); /* one interrupt per 4-sector block */
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK(disk_matches(buf, 100, 8));
	rig_free(&r);
}

static void test_lba48(void)
{
	struct rig r;
	u8 buf[2 * 512];
	u64 lba = DISK_SECTORS - 2;

	rig_init(&r, true, false, false);
	ata_lba48(&r, PRI, 0x24, lba, 2);
	read_words(&r, PRI, buf, sizeof(buf));
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK(disk_matches(buf, lba, 2));
	/* HOB reads the high bytes of the last sector's address. */
	CHECK_EQ(inb(&r, PRI + 3), (u8)(lba + 1));
	CHECK_EQ(inb(&r, PRI + 4), (u8)((lba + 1) >> 8));
	outb(&r, PRI_CTL, 0x80);
	CHECK_EQ(inb(&r, PRI + 3), 0);
	CHECK_EQ(inb(&r, PRI + 2), 0);
	outb(&r, PRI_CTL, 0);

	/* READ NATIVE MAX ADDRESS EXT */
	outb(&r, PRI + 6, 0x40);
	outb(&r, PRI + 7, 0x27);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK_EQ(inb(&r, PRI + 3) | inb(&r, PRI + 4) << 8, DISK_SECTORS - 1);
	/* READ VERIFY EXT of the whole disk succeeds, one more fails. */
	ata_lba48(&r, PRI, 0x42, 0, (u16)DISK_SECTORS);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	ata_lba48(&r, PRI, 0x42, 1, (u16)DISK_SECTORS);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);
	rig_free(&r);
}

static void test_out_of_range(void)
{
	struct rig r;

	rig_init(&r, true, false, false);
	ata_lba28(&r, PRI, 0x20, DISK_SECTORS, 1);
	CHECK_EQ(inb(&r, PRI + 7), ST_DRDY | ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), 0x10); /* IDNF */
	CHECK_EQ(inw(&r, PRI), 0);
	ata_lba28(&r, PRI, 0x20, DISK_SECTORS - 1, 2);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);
	ata_lba28(&r, PRI, 0x30, 0x0fffffff, 0);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);
	ata_lba48(&r, PRI, 0x24, 0xffffffffffffull, 0);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);
	ata_lba48(&r, PRI, 0x35, 0xfffffffffff0ull, 0x20);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);
	ata_lba48(&r, PRI, 0x42, 0xffffffffffffull, 0xffff);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);
	CHECK_EQ(inb(&r, PRI + 7) & ST_DRQ, 0);
	rig_free(&r);
}

static void test_chs(void)
{
	struct rig r;
	u8 buf[512];

	rig_init(&r, true, false, false);
	/* Cylinder 1, head 2, sector 3 with 16 heads and 63 sectors. */
	outb(&r, PRI + 2, 1);
	outb(&r, PRI + 3, 3);
	outb(&r, PRI + 4, 1);
	outb(&r, PRI + 5, 0);
	outb(&r, PRI + 6, 0xa2);
	outb(&r, PRI + 7, 0x20);
	read_words(&r, PRI, buf, sizeof(buf));
	CHECK(disk_matches(buf, (1 * 16 + 2) * 63 + 2, 1));
	/* Sector 0 does not exist. */
	outb(&r, PRI + 3, 0);
	outb(&r, PRI + 7, 0x20);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);

	/* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors per track. */
	outb(&r, PRI + 2, 17);
	outb(&r, PRI + 6, 0xa3);
	outb(&r, PRI + 7, 0x91);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	outb(&r, PRI + 2, 1);
	outb(&r, PRI + 3, 17);
	outb(&r, PRI + 4, 2);
	outb(&r, PRI + 5, 0);
	outb(&r, PRI + 6, 0xa1);
	outb(&r, PRI + 7, 0x20);
	read_words(&r, PRI, buf, sizeof(buf));
	CHECK(disk_matches(buf, (2 * 4 + 1) * 17 + 16, 1));
	/* Head 5 is beyond the translation. */
	outb(&r, PRI + 6, 0xa5);
	outb(&r, PRI + 7, 0x20);
	CHECK_EQ(inb(&r, PRI + 1), 0x10);
	rig_free(&r);
}

static void test_misc_commands(void)
{
	static const u8 ok[] = {0x10, 0x70, 0xe0, 0xe1, 0xe2, 0xe3,
				0x94, 0x97, 0xe7, 0xea, 0x40};
	struct rig r;
	unsigned i;

	rig_init(&r, true, false, false);
	outb(&r, PRI + 6, 0xe0);
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		outb(&r, PRI + 2, 1);
		outb(&r, PRI + 7, ok[i]);
		CHECK_EQ(inb(&r, PRI + 7), 0x50);
	}
	outb(&r, PRI + 7, 0xe5);
	CHECK_EQ(inb(&r, PRI + 2), 0xff);
	outb(&r, PRI + 1, 0x82); /* write cache off */
	outb(&r, PRI + 7, 0xef);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	outb(&r, PRI + 6, 0xe0);
	outb(&r, PRI + 7, 0xf8);
	CHECK_EQ(inb(&r, PRI + 3) | inb(&r, PRI + 4) << 8 |
			 inb(&r, PRI + 5) << 16,
		 DISK_SECTORS - 1);
	CHECK_EQ(inb(&r, PRI + 6) & 0xf, 0);
	/* nIEN masks the line but status still reports completion. */
	r.edges[14] = 0;
	outb(&r, PRI_CTL, 0x02);
	outb(&r, PRI + 7, 0xe7);
	CHECK_EQ(r.edges[14], 0);
	outb(&r, PRI_CTL, 0x00);
	CHECK(r.level[14]);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	CHECK(!r.level[14]);
	/* Writing the next command also negates INTRQ. */
	outb(&r, PRI + 7, 0xe7);
	CHECK(r.level[14]);
	ata_lba28(&r, PRI, 0x30, 0, 1);
	CHECK(!r.level[14]);
	CHECK(inb(&r, PRI + 7) & ST_DRQ);
	srst(&r, PRI_CTL);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	rig_free(&r);
}

static void test_master_slave(void)
{
	struct block_dev *ro = open_image(cd_path, BLOCK_OPEN_READ_ONLY);
	struct rig r;
	u8 id[512], buf[512];

	rig_init(&r, true, false, false);
	CHECK_EQ(ide_attach(r.ide, 0, 0, IDE_DISK, ro), -EBUSY);
	CHECK_EQ(ide_attach(r.ide, 0, 2, IDE_DISK, ro), -EINVAL);
	CHECK_EQ(ide_attach(r.ide, 0, 1, IDE_NONE, ro), -EINVAL);
	CHECK_EQ(ide_attach(r.ide, 0, 1, IDE_DISK, NULL), -EINVAL);
	CHECK_EQ(ide_attach(r.ide, 0, 1, IDE_DISK, ro), 0);
	/* Device 0 reports that device 1 answered the reset. */
	outb(&r, PRI + 6, 0xa0);
	outb(&r, PRI + 7, 0xec);
	read_words(&r, PRI, id, sizeof(id));
	CHECK_EQ(get_le16(id + 2 * 93) & 0x1f3f, 0x003b);
	outb(&r, PRI + 6, 0xb0);
	outb(&r, PRI + 7, 0xec);
	read_words(&r, PRI, id, sizeof(id));
	CHECK_EQ(get_le16(id + 2 * 93) & 0x1fff, 0x0b00);
	CHECK_EQ(get_le32(id + 2 * 60), CD_SECTORS * 4);
	/* The slave reads its own image, and refuses writes to it. */
	outb(&r, PRI + 2, 1);
	outb(&r, PRI + 3, 4);
	outb(&r, PRI + 4, 0);
	outb(&r, PRI + 5, 0);
	outb(&r, PRI + 6, 0xf0);
	outb(&r, PRI + 7, 0x20);
	read_words(&r, PRI, buf, sizeof(buf));
	CHECK(cd_matches(buf, 1, sizeof(buf)));
	outb(&r, PRI + 7, 0x30);
	CHECK_EQ(inb(&r, PRI + 7), ST_DRDY | ST_ERR);
	CHECK_EQ(inb(&r, PRI + 1), 0x04);
	/* The master is untouched by the slave's commands. */
	outb(&r, PRI + 6, 0xe0);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	rig_free(&r);
	block_close(ro);
}

static const struct pio_ops dummy_ops = {.name = "dummy"};

static void test_create_conflict(void)
{
	struct pio_bus *pio = pio_bus_new();
	struct phys_mem mem;
	struct pci_bus pci;

	CHECK_EQ(mem_init(&mem, RAM_SIZE, RAM_SIZE), 0);
	CHECK_EQ(pci_bus_init(&pci, pio, &mem), 0);
	CHECK_EQ(pio_register(pio, SEC, 8, &dummy_ops, NULL), 0);
	CHECK(ide_create(&pci, IDE_DEVFN, (struct irq_line){0},
			 (struct irq_line){0}) == NULL);
	/* Nothing of the failed controller stays, the other owner does. */
	CHECK(pio->port_owner[PRI] == NULL);
	CHECK(pio->port_owner[PRI_CTL] == NULL);
	CHECK(pio->port_owner[SEC] != NULL);
	CHECK(pci.fn[IDE_DEVFN] == NULL);
	pio_bus_free(pio);
	mem_destroy(&mem);
}

/* ATAPI helpers */

static void atapi_send(struct rig *r, const u8 *cdb, u16 bcl, bool dma)
{
	unsigned i;

	outb(r, SEC + 6, 0xa0);
	outb(r, SEC + 1, dma);
	outb(r, SEC + 4, (u8)bcl);
	outb(r, SEC + 5, (u8)(bcl >> 8));
	outb(r, SEC + 7, 0xa0);
	CHECK_EQ(inb(r, SEC_CTL) & (ST_DRQ | ST_BSY), ST_DRQ);
	CHECK_EQ(inb(r, SEC + 2) & 3, 1); /* CoD: expecting the packet */
	for (i = 0; i < 12; i += 2)
		outw(r, SEC, (u16)(cdb[i] | cdb[i + 1] << 8));
}

/* Read the data phase into out; returns the bytes or -1 on a bad chunk. */
static int atapi_data(struct rig *r, u8 *out, unsigned max, u16 bcl,
		      unsigned *chunks)
{
	unsigned total = 0, n, i, guard;

	*chunks = 0;
	for (guard = 0; guard < 10000; guard++) {
		u8 st = inb(r, SEC + 7);

		if (!(st & ST_DRQ))
			break;
		if ((inb(r, SEC + 2) & 3) != 2)
			return -1;
		n = inb(r, SEC + 4) | inb(r, SEC + 5) << 8;
		if (!n || n > bcl || total + n > max)
			return -1;
		for (i = 0; i < n; i += 2) {
			u16 w = inw(r, SEC);

			out[total + i] = (u8)w;
			if (i + 1 < n)
				out[total + i + 1] = (u8)(w >> 8);
		}
		total += n;
		(*chunks)++;
	}
	return (int)total;
}

/* Run a PIO packet command; returns the status at the end. */
static u8 atapi_cmd(struct rig *r, const u8 *cdb, u8 *out, unsigned max,
		    int *len)
{
	unsigned chunks;
	int n;

	atapi_send(r, cdb, 0xfffe, false);
	n = atapi_data(r, out, max, 0xfffe, &chunks);
	if (len)
		*len = n;
	CHECK_EQ(inb(r, SEC + 2) & 3, 3); /* status phase */
	return inb(r, SEC + 7);
}

static void request_sense(struct rig *r, u8 *key, u8 *asc)
{
	u8 cdb[12] = {0x03, 0, 0, 0, 18}, sense[18];
	int len;

	CHECK_EQ(atapi_cmd(r, cdb, sense, sizeof(sense), &len), 0x50);
	CHECK_EQ(len, 18);
	*key = sense[2] & 0xf;
	*asc = sense[12];
}

static u8 test_unit_ready(struct rig *r)
{
	u8 cdb[12] = {0};

	return atapi_cmd(r, cdb, NULL, 0, NULL);
}

static void test_atapi_identify(void)
{
	struct rig r;
	u8 id[512];
	char model[41];

	rig_init(&r, false, true, true);
	outb(&r, SEC + 6, 0xa0);
	outb(&r, SEC + 7, 0xa1);
	CHECK(r.level[15]);
	CHECK_EQ(inb(&r, SEC + 7) & (ST_DRQ | ST_ERR), ST_DRQ);
	read_words(&r, SEC, id, sizeof(id));
	CHECK_EQ(inb(&r, SEC + 7) & (ST_DRQ | ST_ERR | ST_BSY), 0);
	CHECK_EQ(get_le16(id), 0x85c0);
	CHECK_EQ((get_le16(id) >> 8) & 0x1f, 5);
	id_string(id, 27, 40, model);
	CHECK_STR(model, "TWOOSTWO CD-ROM");
	CHECK(get_le16(id + 2 * 49) & BIT(8));
	CHECK_EQ(get_le16(id + 2 * 63) & 7, 7);
	rig_free(&r);
}

static void test_atapi_read10_pio(void)
{
	u8 cdb[12] = {0x28, 0, 0, 0, 0, 7, 0, 0, 3};
	u8 buf[3 * 2048];
	struct rig r;
	unsigned chunks;
	int n;

	rig_init(&r, false, true, true);
	CHECK_EQ(test_unit_ready(&r), 0x50);
	/* A 1000-byte limit cuts the 6144 bytes mid-sector. */
	r.edges[15] = 0;
	atapi_send(&r, cdb, 1000, false);
	n = atapi_data(&r, buf, sizeof(buf), 1000, &chunks);
	CHECK_EQ(n, (int)sizeof(buf));
	CHECK_EQ(chunks, 7);
	CHECK_EQ(r.edges[15], 8); /* each chunk and the status phase */
	CHECK_EQ(inb(&r, SEC + 7), 0x50);
	CHECK_EQ(inb(&r, SEC + 2), 3);
	CHECK(cd_matches(buf, 7, sizeof(buf)));
	/* Zero blocks: straight to the status phase. */
	cdb[8] = 0;
	CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
	CHECK_EQ(n, 0);
	cdb[8] = 3;
	/* SeaBIOS style: limit of one sector. */
	atapi_send(&r, cdb, 2048, false);
	n = atapi_data(&r, buf, sizeof(buf), 2048, &chunks);
	CHECK_EQ(n, (int)sizeof(buf));
	CHECK_EQ(chunks, 3);
	CHECK(cd_matches(buf, 7, sizeof(buf)));
	/* READ(12) of the last sector; one more is out of range. */
	{
		u8 c12[12] = {0xa8, 0, 0, 0, 0, CD_SECTORS - 1, 0, 0, 0, 1};
		u8 key, asc;

		CHECK_EQ(atapi_cmd(&r, c12, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 2048);
		CHECK(cd_matches(buf, CD_SECTORS - 1, 2048));
		c12[9] = 2;
		CHECK_EQ(atapi_cmd(&r, c12, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
		CHECK_EQ(inb(&r, SEC + 1) >> 4, 5);
		request_sense(&r, &key, &asc);
		CHECK_EQ(key, 5);
		CHECK_EQ(asc, 0x21);
	}
	/* READ CD, user data only. */
	{
		u8 rcd[12] = {0xbe, 0, 0, 0, 0, 2, 0, 0, 2, 0x10};

		CHECK_EQ(atapi_cmd(&r, rcd, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 4096);
		CHECK(cd_matches(buf, 2, 4096));
		rcd[9] = 0xf8; /* raw sectors: not offered */
		CHECK_EQ(atapi_cmd(&r, rcd, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
	}
	rig_free(&r);
}

static void test_atapi_info_commands(void)
{
	u8 buf[512], key, asc;
	struct rig r;
	int n;

	rig_init(&r, false, true, true);
	{
		u8 cdb[12] = {0x25};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 8);
		CHECK_EQ(get_be32(buf), CD_SECTORS - 1);
		CHECK_EQ(get_be32(buf + 4), 2048);
	}
	{
		u8 cdb[12] = {0x12, 0, 0, 0, 36};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 36);
		CHECK_EQ(buf[0], 5);
		CHECK_EQ(buf[1], 0x80);
		CHECK(!memcmp(buf + 8, "TWOOSTWO", 8));
		cdb[4] = 5; /* allocation length truncates */
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 5);
	}
	{
		u8 cdb[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 8 + 22);
		CHECK_EQ(buf[8], 0x2a);
		CHECK_EQ(buf[9], 0x14);
		cdb[2] = 0x3f;
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 8 + 8 + 22);
		CHECK_EQ((buf[0] << 8 | buf[1]) + 2, n);
		cdb[2] = 0x05; /* no such page */
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
	}
	{
		u8 cdb[12] = {0x1a, 0, 0x01, 0, 64};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 4 + 8);
		CHECK_EQ(buf[0], n - 1);
	}
	{
		u8 cdb[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 255};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 20);
		CHECK_EQ(buf[2], 1);
		CHECK_EQ(buf[3], 1);
		CHECK_EQ(buf[6], 1);
		CHECK_EQ(buf[14], 0xaa);
		CHECK_EQ(get_be32(buf + 16), CD_SECTORS);
		cdb[1] = 2; /* MSF: lead-out at 00:02:64 (64 + 150 frames) */
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(buf[17], 0);
		CHECK_EQ(buf[18], 2);
		CHECK_EQ(buf[19], 64);
		cdb[1] = 0;
		cdb[2] = 1;
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 12);
		cdb[2] = 2;
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 48);
		CHECK_EQ(buf[7], 0xa0);
		cdb[2] = 0;
		cdb[6] = 5; /* no track 5 */
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
	}
	{
		u8 cdb[12] = {0x46, 0, 0, 0, 0, 0, 0, 1, 0};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(get_be32(buf) + 4, (u32)n);
		CHECK_EQ(buf[6] << 8 | buf[7], 0x0008);
		CHECK_EQ(buf[8] << 8 | buf[9], 0x0000); /* profile list */
		CHECK_EQ(buf[12] << 8 | buf[13], 0x0008);
		CHECK_EQ(buf[14] & 1, 1);
		cdb[1] = 2; /* just the removable medium feature */
		cdb[3] = 3;
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 8 + 8);
		CHECK_EQ(buf[9], 3);
	}
	{
		u8 cdb[12] = {0x51, 0, 0, 0, 0, 0, 0, 0, 34};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 34);
		cdb[0] = 0xbd; /* MECHANISM STATUS */
		cdb[8] = 0;
		cdb[9] = 8;
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 8);
	}
	{
		u8 seek[12] = {0x2b, 0, 0, 0, 0, 10};
		u8 speed[12] = {0xbb, 0, 0xff, 0xff};

		CHECK_EQ(atapi_cmd(&r, seek, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(atapi_cmd(&r, speed, buf, sizeof(buf), &n), 0x50);
	}
	{
		u8 cdb[12] = {0xff};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
		CHECK_EQ(inb(&r, SEC + 1) >> 4, 5);
		request_sense(&r, &key, &asc);
		CHECK_EQ(key, 5);
		CHECK_EQ(asc, 0x20);
		/* Sense was consumed. */
		request_sense(&r, &key, &asc);
		CHECK_EQ(key, 0);
	}
	rig_free(&r);
}

static void test_atapi_no_medium(void)
{
	u8 buf[64], key, asc;
	struct rig r;
	int n;

	rig_init(&r, false, true, false);
	request_sense(&r, &key, &asc);
	CHECK_EQ(key, 2);
	CHECK_EQ(asc, 0x3a);
	CHECK_EQ(test_unit_ready(&r), ST_DRDY | ST_ERR);
	CHECK_EQ(inb(&r, SEC + 1) >> 4, 2);
	request_sense(&r, &key, &asc);
	CHECK_EQ(key, 2);
	CHECK_EQ(asc, 0x3a);
	{
		u8 cdb[12] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
		CHECK_EQ(n, 0);
	}
	{
		u8 cdb[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 64};

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(buf[6] << 8 | buf[7], 0); /* no current profile */
	}
	{
		u8 cdb[12] = {0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8};

		/* Only the media class is offered: no event for others. */
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(n, 4);
		CHECK_EQ(buf[2], 0x80);
		CHECK_EQ(buf[3], 0x10);
		cdb[1] = 0; /* asynchronous: not supported */
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
	}
	{
		u8 cdb[12] = {0x5a, 0, 0xea, 0, 0, 0, 0, 0, 64};

		/* Saved values are not supported; changeable ones are 0. */
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n) & ST_ERR,
			 ST_ERR);
		request_sense(&r, &key, &asc);
		CHECK_EQ(asc, 0x39);
		cdb[2] = 0x6a;
		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(buf[2], 0x70); /* no disc */
		CHECK_EQ(buf[8 + 6], 0);
	}
	rig_free(&r);
}

static u8 gesn_event(struct rig *r)
{
	u8 cdb[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8}, buf[8];
	int n;

	CHECK_EQ(atapi_cmd(r, cdb, buf, sizeof(buf), &n), 0x50);
	CHECK_EQ(n, 8);
	CHECK_EQ(buf[2], 4);
	return buf[4];
}

static void test_atapi_medium_change(void)
{
	struct block_dev *cd2 = open_image(cd2_path, BLOCK_OPEN_READ_ONLY);
	u8 key, asc;
	struct rig r;

	rig_init(&r, false, true, true);
	CHECK_EQ(test_unit_ready(&r), 0x50);
	CHECK_EQ(gesn_event(&r), 0);
	CHECK_EQ(ide_change_medium(r.ide, 1, 0, NULL), 0);
	CHECK_EQ(gesn_event(&r), 3); /* media removal */
	CHECK_EQ(gesn_event(&r), 0);
	CHECK_EQ(test_unit_ready(&r) & ST_ERR, ST_ERR);
	request_sense(&r, &key, &asc);
	CHECK_EQ(key, 2);
	CHECK_EQ(asc, 0x3a);
	CHECK_EQ(ide_change_medium(r.ide, 1, 0, cd2), 0);
	CHECK_EQ(gesn_event(&r), 2); /* new media */
	CHECK_EQ(test_unit_ready(&r) & ST_ERR, ST_ERR);
	CHECK_EQ(inb(&r, SEC + 1) >> 4, 6);
	request_sense(&r, &key, &asc);
	CHECK_EQ(key, 6);
	CHECK_EQ(asc, 0x28);
	CHECK_EQ(test_unit_ready(&r), 0x50);
	/* REQUEST SENSE reports a pending unit attention itself. */
	CHECK_EQ(ide_change_medium(r.ide, 1, 0, cd2), 0);
	request_sense(&r, &key, &asc);
	CHECK_EQ(key, 6);
	CHECK_EQ(asc, 0x28);
	CHECK_EQ(test_unit_ready(&r), 0x50);
	{
		u8 cdb[12] = {0x25}, buf[8];
		int n;

		CHECK_EQ(atapi_cmd(&r, cdb, buf, sizeof(buf), &n), 0x50);
		CHECK_EQ(get_be32(buf), 2 * CD_SECTORS - 1);
	}
	/* The guest locks the door: eject is refused; unlocked it works. */
	{
		u8 lock[12] = {0x1e, 0, 0, 0, 1};
		u8 eject[12] = {0x1b, 0, 0, 0, 2};
		u8 load[12] = {0x1b, 0, 0, 0, 3};

		CHECK_EQ(atapi_cmd(&r, lock, NULL, 0, NULL), 0x50);
		CHECK_EQ(atapi_cmd(&r, eject, NULL, 0, NULL) & ST_ERR, ST_ERR);
		request_sense(&r, &key, &asc);
		CHECK_EQ(asc, 0x53);
		lock[4] = 0;
		CHECK_EQ(atapi_cmd(&r, lock, NULL, 0, NULL), 0x50);
		CHECK_EQ(atapi_cmd(&r, eject, NULL, 0, NULL), 0x50);
		CHECK_EQ(gesn_event(&r), 3);
		CHECK_EQ(test_unit_ready(&r) & ST_ERR, ST_ERR);
		CHECK_EQ(atapi_cmd(&r, load, NULL, 0, NULL), 0x50);
		CHECK_EQ(gesn_event(&r), 2);
		CHECK_EQ(test_unit_ready(&r) & ST_ERR, ST_ERR); /* UA */
		CHECK_EQ(test_unit_ready(&r), 0x50);
	}
	/* Detach before closing: the controller does not own media. */
	CHECK_EQ(ide_change_medium(r.ide, 1, 0, NULL), 0);
	block_close(cd2);
	CHECK_EQ(ide_change_medium(r.ide, 0, 0, NULL), -ENOTSUP);
	CHECK_EQ(ide_change_medium(r.ide, 2, 0, NULL), -EINVAL);
	rig_free(&r);
}

/* PCI and bus master DMA */

static void pci_setup(struct rig *r, u16 command)
{
	pci_config_write(&r->pci, IDE_DEVFN, 0x20, BM_BASE, 4);
	pci_config_write(&r->pci, IDE_DEVFN, PCI_COMMAND, command, 2);
}

static void test_pci_config(void)
{
	struct rig r;

	rig_init(&r, true, false, false);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0, 4), 0x70108086);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x08, 4) >> 8, 0x010180);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x20, 4), 1);
	pci_config_write(&r.pci, IDE_DEVFN, 0x20, 0xffffffff, 4);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x20, 4), 0xfffffff1);
	/* SeaBIOS writes IDETIM as a word; Linux tests bit 7 of 41h/43h. */
	pci_config_write(&r.pci, IDE_DEVFN, 0x40, 0x8000, 2);
	pci_config_write(&r.pci, IDE_DEVFN, 0x42, 0x8000, 2);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x41, 1) & 0x80, 0x80);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x43, 1) & 0x80, 0x80);
	pci_config_write(&r.pci, IDE_DEVFN, 0x44, 0x35, 1);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x44, 1), 0x35);
	/* Legacy ports work before any PCI setup. */
	outb(&r, PRI + 2, 0x5a);
	CHECK_EQ(inb(&r, PRI + 2), 0x5a);
	/* BAR4 decodes once I/O is enabled. */
	CHECK_EQ(inb(&r, BM_BASE + 2), 0xff);
	pci_setup(&r, PCI_COMMAND_IO);
	outb(&r, BM_BASE + 2, 0x60);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x60);
	pio_write(r.pio, BM_BASE + 4, 0x12345677, 4);
	CHECK_EQ(pio_read(r.pio, BM_BASE + 4, 4), 0x12345674);
	/* A reset puts the function back to power-on state. */
	ide_device(r.ide).ops->reset(r.ide);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x41, 1), 0);
	CHECK_EQ(pci_config_read(&r.pci, IDE_DEVFN, 0x20, 4), 1);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0xff);
	rig_free(&r);
}

#define PRD_TABLE 0x1000u

static void prd_set(struct rig *r, unsigned i, u32 addr, u32 count, bool eot)
{
	u8 e[8];

	put_le32(e, addr);
	put_le32(e + 4, (count & 0xffff) | (eot ? 0x80000000u : 0));
	mem_dma_write(&r->mem, PRD_TABLE + 8 * i, e, sizeof(e));
}

static void bm_start(struct rig *r, u16 bm, bool to_mem)
{
	pio_write(r->pio, bm + 4, PRD_TABLE, 4);
	outb(r, bm + 2, 0x06); /* clear error and interrupt */
	outb(r, bm, (u8)((to_mem ? 0x08 : 0) | 1));
}

static void test_dma_read_write(void)
{
	struct rig r;
	u8 buf[4 * 512];
	unsigned i;

	rig_init(&r, true, false, false);
	pci_setup(&r, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	/* Command first, then the engine; two regions. */
	prd_set(&r, 0, 0x10000, 1024, false);
	prd_set(&r, 1, 0x20000, 1024, true);
	ata_lba28(&r, PRI, 0xc8, 40, 4);
	CHECK(!r.level[14]);
	CHECK(inb(&r, PRI_CTL) & ST_DRQ);
	bm_start(&r, BM_BASE, true);
	CHECK(r.level[14]);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x04); /* interrupt, not active */
	outb(&r, BM_BASE, 0x08);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	mem_dma_read(&r.mem, 0x10000, buf, 1024);
	mem_dma_read(&r.mem, 0x20000, buf + 1024, 1024);
	CHECK(disk_matches(buf, 40, 4));

	/* Engine first, then READ DMA EXT; one 64 KiB region is enough. */
	prd_set(&r, 0, 0x30000, 0, true);
	bm_start(&r, BM_BASE, true);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x01);
	ata_lba48(&r, PRI, 0x25, 1000, 128);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x04);
	outb(&r, BM_BASE, 0);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	{
		static u8 big[128 * 512];

		mem_dma_read(&r.mem, 0x30000, big, sizeof(big));
		CHECK(disk_matches(big, 1000, 128));
	}

	/* WRITE DMA from memory, checked against the file. */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i ^ 0x5c);
	mem_dma_write(&r.mem, 0x40000, buf, sizeof(buf));
	prd_set(&r, 0, 0x40000, 3 * 512, false);
	prd_set(&r, 1, 0x40000 + 3 * 512, 512, true);
	ata_lba28(&r, PRI, 0xca, 77, 4);
	bm_start(&r, BM_BASE, false);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x04);
	outb(&r, BM_BASE, 0);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	{
		u8 back[sizeof(buf)];
		int fd = open(disk_path, O_RDONLY);

		CHECK(pread(fd, back, sizeof(back), 77 * 512) ==
		      (ssize_t)sizeof(back));
		close(fd);
		CHECK(!memcmp(back, buf, sizeof(buf)));
	}
	make_image(disk_path, DISK_SECTORS, 512, disk_byte);
	rig_free(&r);
}

static void test_dma_errors(void)
{
	struct rig r;
	unsigned i;

	rig_init(&r, true, false, false);
	pci_setup(&r, PCI_COMMAND_IO);
	/* No bus mastering: the engine waits until it is allowed. */
	prd_set(&r, 0, 0x10000, 512, true);
	ata_lba28(&r, PRI, 0xc8, 3, 1);
	bm_start(&r, BM_BASE, true);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x01);
	CHECK(!r.level[14]);
	pci_config_write(&r.pci, IDE_DEVFN, PCI_COMMAND,
			 PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x04);
	CHECK(r.level[14]);
	outb(&r, BM_BASE, 0);

	/* A table shorter than the transfer: error bit, command aborted. */
	ata_lba28(&r, PRI, 0xc8, 3, 2);
	bm_start(&r, BM_BASE, true);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x06);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	outb(&r, BM_BASE, 0);
	outb(&r, BM_BASE + 2, 0x06);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x00);

	/* A table longer than the transfer: still active, interrupt. */
	prd_set(&r, 0, 0x10000, 4096, true);
	ata_lba28(&r, PRI, 0xc8, 3, 1);
	bm_start(&r, BM_BASE, true);
	CHECK_EQ(inb(&r, BM_BASE + 2), 0x05);
	CHECK_EQ(inb(&r, PRI + 7), 0x50);
	outb(&r, BM_BASE, 0);

	/* A full 64 KiB table of 2-byte regions without an end mark stops
	 * after 8192 entries. */
	for (i = 0; i < 8192; i++)
		prd_set(&r, i, 0x80000, 2, false);
	ata_lba28(&r, PRI, 0xc8, 0, 0);
	bm_start(&r, BM_BASE, true);
	CHECK_EQ(inb(&r, BM_BASE + 2) & 0x03, 0x02);
	CHECK_EQ(inb(&r, PRI + 7) & ST_ERR, ST_ERR);
	outb(&r, BM_BASE, 0);
	rig_free(&r);
}

static void test_atapi_dma(void)
{
	u8 cdb[12] = {0x28, 0, 0, 0, 0, 3, 0, 0, 2}, buf[4096];
	struct rig r;

	rig_init(&r, false, true, true);
	pci_setup(&r, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	prd_set(&r, 0, 0x50000, 4096, true);
	bm_start(&r, BM_BASE + 8, true);
	atapi_send(&r, cdb, 0, true);
	CHECK(r.level[15]);
	CHECK_EQ(inb(&r, BM_BASE + 10), 0x04);
	CHECK_EQ(inb(&r, SEC + 7), 0x50);
	CHECK_EQ(inb(&r, SEC + 2), 3);
	mem_dma_read(&r.mem, 0x50000, buf, sizeof(buf));
	CHECK(cd_matches(buf, 3, sizeof(buf)));
	outb(&r, BM_BASE + 8, 0);
	/* An INQUIRY by DMA, engine started after the packet. */
	{
		u8 inq[12] = {0x12, 0, 0, 0, 36};

		prd_set(&r, 0, 0x60000, 36, true);
		atapi_send(&r, inq, 0, true);
		CHECK(inb(&r, SEC + 7) & ST_DRQ);
		bm_start(&r, BM_BASE + 8, true);
		CHECK_EQ(inb(&r, SEC + 7), 0x50);
		mem_dma_read(&r.mem, 0x60000, buf, 36);
		CHECK(!memcmp(buf + 8, "TWOOSTWO", 8));
	}
	rig_free(&r);
}

static void test_snapshot(void)
{
	struct snap_writer w;
	struct snap_reader rd;
	struct rig r, r2;
	struct device dev;
	u8 buf[2 * 512];

	rig_init(&r, true, true, true);
	pci_setup(&r, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	pci_config_write(&r.pci, IDE_DEVFN, 0x40, 0x8000, 2);
	ata_lba28(&r, PRI, 0x20, 9, 2);
	read_words(&r, PRI, buf, 300);
	dev = ide_device(r.ide);
	snap_writer_init(&w);
	CHECK_EQ(dev.ops->save(dev.opaque, &w), 0);

	rig_init(&r2, true, true, true);
	snap_reader_init(&rd, w.buf, w.len);
	dev = ide_device(r2.ide);
	CHECK_EQ(dev.ops->load(dev.opaque, &rd), 0);
	CHECK_EQ(pci_config_read(&r2.pci, IDE_DEVFN, 0x41, 1), 0x80);
	/* BAR mapped again; it latched the PIO interrupt. */
	CHECK_EQ(inb(&r2, BM_BASE + 2), 0x04);
	read_words(&r2, PRI, buf + 300, sizeof(buf) - 300);
	CHECK_EQ(inb(&r2, PRI + 7), 0x50);
	CHECK(disk_matches(buf, 9, 2));
	rig_free(&r2);

	/* Other drives than were saved, or a broken buffer offset, are
	 * refused. */
	rig_init(&r2, true, false, false);
	dev = ide_device(r2.ide);
	CHECK_EQ(dev.ops->load(dev.opaque, &rd), -EINVAL);
	rig_free(&r2);
	{
		u8 *copy = malloc(w.len);
		size_t i, at;

		memcpy(copy, w.buf, w.len);
		for (i = 0; i + 9 < w.len; i++)
			if (!memcmp(copy + i, "ide.ch0.0", 9))
				break;
		/* name, u32 version, u32 length, then the state */
		at = i + 9 + 8 + offsetof(struct ide_drive_state, buf_pos);
		put_le32(copy + at, 0x7fffffff);
		rig_init(&r2, true, true, true);
		snap_reader_init(&rd, copy, w.len);
		dev = ide_device(r2.ide);
		CHECK_EQ(dev.ops->load(dev.opaque, &rd), -EINVAL);
		/* The refused state left the controller as it was. */
		CHECK_EQ(inb(&r2, PRI + 7), 0x50);
		free(copy);
		rig_free(&r2);
	}
	snap_writer_free(&w);
	rig_free(&r);
}

static u16 random_port(unsigned x)
{
	static const u16 bases[] = {PRI, SEC, BM_BASE, BM_BASE + 8};

	switch (x % 6) {
	case 4:
		return PRI_CTL;
	case 5:
		return SEC_CTL;
	default:
		return (u16)(bases[x % 4] + (x >> 8) % 8);
	}
}

static void test_hostile(void)
{
	struct rig r;
	unsigned i;
	char err[512];

	/* A scratch copy of the disk: the guest may write anywhere. */
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "cp %s %s/scratch.img", disk_path,
			 tmpdir);
		CHECK_EQ(system(cmd), 0);
	}
	rig_init(&r, false, true, true);
	{
		char path[400];

		snprintf(path, sizeof(path), "%s/scratch.img", tmpdir);
		CHECK_EQ(block_open_raw(path, 0, &r.disk, err, sizeof(err)), 0);
		CHECK_EQ(ide_attach(r.ide, 0, 0, IDE_DISK, r.disk), 0);
	}
	pci_setup(&r, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	srand(1234);
	for (i = 0; i < 200000; i++) {
		unsigned x = (unsigned)rand();
		u16 port = random_port(x);
		unsigned size = 1u << ((x >> 12) % 3);
		u32 v = (u32)rand();

		if (x & 0x40000)
			pio_write(r.pio, port, v, size);
		else
			(void)pio_read(r.pio, port, size);
		if ((x & 0xfff) == 0)
			pci_config_write(&r.pci, IDE_DEVFN,
					 (u8)(0x40 + (v >> 8) % 8), v, 1);
		if ((x & 0x3fff) == 1)
			ide_change_medium(r.ide, 1, 0, (v & 1) ? r.cd : NULL);
	}
	/* Still a working disk afterwards. */
	outb(&r, PRI_CTL, 0x04);
	outb(&r, PRI_CTL, 0x00);
	outb(&r, PRI + 1, 0);
	ata_lba28(&r, PRI, 0xec, 0, 1);
	CHECK(inb(&r, PRI + 7) & ST_DRQ);
	rig_free(&r);
	snprintf(err, sizeof(err), "%s/scratch.img", tmpdir);
	unlink(err);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(disk_path, sizeof(disk_path), "%s/disk.img", tmpdir);
	snprintf(cd_path, sizeof(cd_path), "%s/cd.iso", tmpdir);
	snprintf(cd2_path, sizeof(cd2_path), "%s/cd2.iso", tmpdir);
	make_image(disk_path, DISK_SECTORS, 512, disk_byte);
	make_image(cd_path, CD_SECTORS, 2048, cd_byte);
	make_image(cd2_path, 2 * CD_SECTORS, 2048, cd_byte);

	RUN_TEST(test_identify_disk);
	RUN_TEST(test_signatures);
	RUN_TEST(test_empty_channel);
	RUN_TEST(test_pio_write_read);
	RUN_TEST(test_pio32_and_multiple);
	RUN_TEST(test_lba48);
	RUN_TEST(test_out_of_range);
	RUN_TEST(test_chs);
	RUN_TEST(test_misc_commands);
	RUN_TEST(test_master_slave);
	RUN_TEST(test_create_conflict);
	RUN_TEST(test_atapi_identify);
	RUN_TEST(test_atapi_read10_pio);
	RUN_TEST(test_atapi_info_commands);
	RUN_TEST(test_atapi_no_medium);
	RUN_TEST(test_atapi_medium_change);
	RUN_TEST(test_pci_config);
	RUN_TEST(test_dma_read_write);
	RUN_TEST(test_dma_errors);
	RUN_TEST(test_atapi_dma);
	RUN_TEST(test_snapshot);
	RUN_TEST(test_hostile);

	unlink(disk_path);
	unlink(cd_path);
	unlink(cd2_path);
	rmdir(tmpdir);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * CVE-2014-0142 and its siblings in QEMU's Parallels driver (CVE-2014-0143
 * catalog size overflow, CVE-2014-0144 header checks): headers with a zero
 * cluster size (a division by zero), BAT sizes that overflow or exceed the
 * file, a disk size past what the BAT maps, and BAT entries pointing past
 * the end of the file. Each must be refused at open or read as an error,
 * never crash. The header fields (offsets): tracks 28 = cluster size in
 * sectors, bat_entries 32, nb_sectors 36, data_off 48.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/hdd.h"
#include "core/types.h"
#include "unit.h"

#define FILE_SIZE (1u << 20)

static void le32(u8 *p, u32 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
	p[2] = (u8)(v >> 16);
	p[3] = (u8)(v >> 24);
}

static void le64(u8 *p, u64 v)
{
	le32(p, (u32)v);
	le32(p + 4, (u32)(v >> 32));
}

/* A sound v2 header: 4 KiB clusters, 16 entries, 64 KiB disk. */
static void good_header(u8 *h)
{
	memset(h, 0, HDD_HEADER_SIZE);
	memcpy(h, HDD_MAGIC_V2, HDD_MAGIC_LEN);
	le32(h + 16, 2);
	le32(h + 20, 16);
	le32(h + 24, 1);
	le32(h + 28, 8);
	le32(h + 32, 16);
	le64(h + 36, 128);
	le32(h + 48, 8); /* data at the first cluster boundary */
}

static int parse(const u8 *h)
{
	struct hdd_geom g;
	char err[256];

	int ret = hdd_parse_header(h, FILE_SIZE, "t.hdd", &g, err, sizeof(err));

	if (ret && getenv("VERBOSE"))
		fprintf(stderr, "%s\n", err);
	return ret;
}

static void test_good_header_parses(void)
{
	u8 h[HDD_HEADER_SIZE];

	good_header(h);
	CHECK_EQ(parse(h), 0);
}

/* CVE-2014-0142: cluster size 0 (tracks) divides by zero in QEMU. */
static void test_zero_cluster_size(void)
{
	u8 h[HDD_HEADER_SIZE];

	good_header(h);
	le32(h + 28, 0);
	CHECK(parse(h) < 0);
	/* And a cluster far too large (offsets overflow u64 with big BATs). */
	le32(h + 28, 0xffffffffu);
	CHECK(parse(h) < 0);
}

/* CVE-2014-0143: catalog (BAT) size overflows or exceeds the file. */
static void test_catalog_size(void)
{
	u8 h[HDD_HEADER_SIZE];

	good_header(h);
	le32(h + 32, 0xffffffffu);
	CHECK(parse(h) < 0);
	le32(h + 32, 0x40000000u); /* 4 GiB of BAT */
	CHECK(parse(h) < 0);
	/* A disk larger than the BAT maps. */
	good_header(h);
	le64(h + 36, 0xffffffffffffffffull);
	CHECK(parse(h) < 0);
	/* Data offset past the file. */
	good_header(h);
	le32(h + 48, 0xffffffffu);
	CHECK(parse(h) < 0);
}

/* A BAT entry pointing past the end of the file reads as an error. */
static void test_bat_entry_past_end(void)
{
	char path[] = "/tmp/twoostwo-cve-parallels-XXXXXX";
	struct block_dev *bd;
	u8 h[HDD_HEADER_SIZE + 64] = {0}, buf[512];
	char err[256];
	int fd = mkstemp(path);
	int ret;

	CHECK(fd >= 0);
	good_header(h);
	le32(h + HDD_HEADER_SIZE, 0x7fffffffu); /* entry 0: far away */
	CHECK(pwrite(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h));
	CHECK(ftruncate(fd, 4096) == 0);
	close(fd);
	ret = block_open(path, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err));
	if (!ret) {
		CHECK(block_read(bd, 0, buf, sizeof(buf)) < 0);
		block_close(bd);
	} else {
		CHECK(ret < 0); /* refused at open: also fine */
	}
	unlink(path);
}

/*
 * Resource limit: a .hdd grows only to its virtual size. Write every
 * cluster twice and past the end: the file ends at data_off + all
 * clusters, and the writes past the end fail.
 */
static void test_hdd_growth_bounded(void)
{
	char path[] = "/tmp/twoostwo-cve-grow-XXXXXX";
	const u64 disk = 256u << 10, cl = 4096;
	struct block_dev *bd;
	static u8 buf[4096];
	char err[256];
	struct stat st;
	int fd = mkstemp(path);
	u64 off;
	unsigned pass;

	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(hdd_create(path, disk, cl, true, err, sizeof(err)), 0);
	CHECK_EQ(block_open(path, 0, &bd, err, sizeof(err)), 0);
	memset(buf, 0xa5, sizeof(buf));
	for (pass = 0; pass < 2; pass++)
		for (off = 0; off < disk; off += cl)
			CHECK_EQ(block_write(bd, off, buf, cl), 0);
	CHECK(block_write(bd, disk, buf, cl) < 0);
	CHECK(block_write(bd, disk - 512, buf, 1024) < 0);
	CHECK(block_write(bd, ~0ull - 511, buf, 512) < 0);
	block_close(bd);
	CHECK(stat(path, &st) == 0);
	/* header + BAT (64 entries) in one cluster, then 64 clusters */
	CHECK((u64)st.st_size <= cl + disk);
	unlink(path);
}

int main(void)
{
	RUN_TEST(test_good_header_parses);
	RUN_TEST(test_zero_cluster_size);
	RUN_TEST(test_catalog_size);
	RUN_TEST(test_bat_entry_past_end);
	RUN_TEST(test_hdd_growth_bounded);
	return unit_summary();
}

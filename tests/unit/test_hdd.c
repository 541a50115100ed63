// SPDX-License-Identifier: MIT
/*
 * Parallels .hdd images through the block layer: create, read, allocate on
 * write, v1 headers, every malformed header refused with one line, the
 * in-use flag, locking, check/repair and resize (HARDWARE.md section 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/hdd.h"
#include "unit.h"

#define CL 4096u /* cluster size of the test images */

static char tmpdir[] = "/tmp/twoostwo-hdd-XXXXXX";
static char path[300];

static const char *tmp(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static u32 file_le32(const char *p, u64 off)
{
	u8 b[4] = {0};
	int fd = open(p, O_RDONLY);

	CHECK(pread(fd, b, 4, (off_t)off) == 4);
	close(fd);
	return get_le32(b);
}

static void file_put_le32(const char *p, u64 off, u32 v)
{
	u8 b[4];
	int fd = open(p, O_RDWR);

	put_le32(b, v);
	CHECK(pwrite(fd, b, 4, (off_t)off) == 4);
	close(fd);
}

static u64 file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) ? 0 : (u64)st.st_size;
}

static void test_create_layout(void)
{
	char err[512] = "";
	const char *p = tmp("layout.hdd");

	/* HARDWARE.md: 100M/4k gives 25600 entries, data_off 208. */
	CHECK_EQ(hdd_create(p, 100u << 20, 4096, false, err, sizeof(err)), 0);
	CHECK_EQ(file_le32(p, 32), 25600);
	CHECK_EQ(file_le32(p, 48), 208);
	CHECK_EQ(file_le32(p, 28), 8);
	CHECK_EQ(file_le32(p, 20), 16);
	CHECK_EQ(file_le32(p, 24), (100u << 20) / 512 / 16 / 32);
	CHECK_EQ(file_size(p), 208 * 512);
	CHECK(hdd_create(p, 1 << 20, 4096, false, err, sizeof(err)) == -EEXIST);
	CHECK_EQ(hdd_create(p, 1 << 20, 4096, true, err, sizeof(err)), 0);
	unlink(p);
}

static void test_read_write(void)
{
	struct block_dev *bd;
	char err[512] = "";
	const char *p = tmp("rw.hdd");
	u8 buf[3 * CL], back[3 * CL];
	struct hdd_stats st;
	u32 data_off;

	CHECK_EQ(hdd_create(p, 64 * CL, CL, false, err, sizeof(err)), 0);
	data_off = file_le32(p, 48);
	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	CHECK_STR(bd->ops->format, "hdd");
	CHECK_EQ(bd->size, 64 * CL);
	memset(back, 0xee, sizeof(back));
	CHECK_EQ(block_read(bd, 0, back, sizeof(back)), 0);
	memset(buf, 0, sizeof(buf));
	CHECK(!memcmp(back, buf, sizeof(back)));
	/* Allocation follows write order, at the end of the file. */
	memset(buf, 0x5a, 100);
	CHECK_EQ(block_write(bd, 10 * CL + 200, buf, 100), 0);
	CHECK_EQ(block_write(bd, 0, buf, 100), 0);
	CHECK_EQ(file_le32(p, 64 + 4 * 10), data_off / 8);
	CHECK_EQ(file_le32(p, 64), data_off / 8 + 1);
	/* A write spanning clusters, and partial clusters stay zero. */
	memset(buf, 0xc3, sizeof(buf));
	CHECK_EQ(block_write(bd, 20 * CL + 512, buf, 2 * CL), 0);
	CHECK_EQ(block_read(bd, 20 * CL, back, 3 * CL), 0);
	CHECK_EQ(back[0], 0);
	CHECK_EQ(back[511], 0);
	CHECK_EQ(back[512], 0xc3);
	CHECK_EQ(back[2 * CL + 511], 0xc3);
	CHECK_EQ(back[2 * CL + 512], 0);
	CHECK_EQ(back[3 * CL - 1], 0);
	CHECK_EQ(hdd_stats(bd, &st), 0);
	CHECK_EQ(st.allocated, 5);
	CHECK_EQ(st.cluster, CL);
	CHECK_EQ(block_flush(bd), 0);
	CHECK_EQ(block_read(bd, 64 * CL - 1, back, 2), -EINVAL);
	block_close(bd);
	CHECK_EQ(file_size(p), (u64)data_off * 512 + 5 * CL);

	CHECK_EQ(block_open(p, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), 0);
	CHECK_EQ(block_read(bd, 10 * CL + 200, back, 100), 0);
	CHECK_EQ(back[0], 0x5a);
	CHECK_EQ(back[99], 0x5a);
	CHECK_EQ(block_read(bd, 21 * CL, back, 4), 0);
	CHECK_EQ(back[3], 0xc3);
	CHECK_EQ(block_write(bd, 0, buf, 1), -EROFS);
	block_close(bd);
	unlink(p);
}

/* A v1 image by hand: entries in sectors, data_off 0 = end of the BAT. */
static void test_v1_header(void)
{
	u8 hdr[64] = {0}, sec[512], back[512];
	struct block_dev *bd;
	char err[512] = "";
	const char *p = tmp("v1.hdd");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);

	memcpy(hdr, HDD_MAGIC_V1, 16);
	put_le32(hdr + 16, 2);
	put_le32(hdr + 28, 2);	    /* 1 KiB clusters */
	put_le32(hdr + 32, 4);	    /* 4 entries */
	put_le32(hdr + 36, 7);	    /* 7 sectors: the last cluster is half */
	put_le32(hdr + 40, 0xffff); /* v1: the high half is not size */
	CHECK(pwrite(fd, hdr, 64, 0) == 64);
	put_le32(sec, 1 + 2 * 1); /* entry 1 -> sector 3 (data_off 1) */
	CHECK(pwrite(fd, sec, 4, 64 + 4) == 4);
	memset(sec, 0x77, sizeof(sec));
	CHECK(pwrite(fd, sec, 512, 3 * 512 + 512) == 512);
	close(fd);
	CHECK_EQ(block_open(p, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK_EQ(bd->size, 7 * 512);
	CHECK_EQ(block_read(bd, 3 * 512, back, 512), 0);
	CHECK(!memcmp(back, sec, 512));
	CHECK_EQ(block_read(bd, 2 * 512, back, 512), 0);
	CHECK_EQ(back[0], 0);
	block_close(bd);
	unlink(p);
}

struct bad_case {
	const char *name;
	u32 off; /* header/BAT field to corrupt */
	u32 value;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{"bad magic", 0, 0x656e6f4e, "bad magic"},
	{"bad version", 16, 3, "unsupported Parallels version 3"},
	{"tracks 0", 28, 0, "cluster size (tracks) is 0"},
	{"huge cluster", 28, 0x80000000u, "over 256 MiB"},
	{"huge bat_entries", 32, 0xffffffffu, "BAT extends beyond"},
	{"too few entries", 32, 15,
	 "BAT has 15 entries, the disk size needs 16"},
	{"size 0", 36, 0, "disk size is 0"},
	/* v1 data_off 0 means "after the BAT": entry 0 is then misaligned. */
	{"data_off 0", 48, 0, "BAT entry 0 is not cluster-aligned"},
	{"data_off beyond file", 48, 0x1000, "beyond the end of the file"},
	{"data_off misaligned", 48, 7, "BAT entry 0 is not cluster-aligned"},
	{"entry beyond file", 64, 1000, "points beyond the end of the file"},
	{"entry below data", 64, 0, "points below the data area"},
	{"entry misaligned", 68, 0, "is not cluster-aligned"},
	{"duplicate entry", 72, 0, "names a cluster already in use"},
};

/*
 * A 16-cluster v1 image (so entries are in sectors and can be misaligned)
 * with data_off 8 and clusters 0 and 1 allocated, then corrupted.
 */
static void make_victim(const char *p)
{
	u8 hdr[64] = {0}, zero[CL] = {0};
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);

	memcpy(hdr, HDD_MAGIC_V1, 16);
	put_le32(hdr + 16, 2);
	put_le32(hdr + 28, CL / 512);
	put_le32(hdr + 32, 16);
	put_le32(hdr + 36, 16 * CL / 512);
	put_le32(hdr + 48, 8);
	CHECK(pwrite(fd, zero, CL, 0) == CL);
	CHECK(pwrite(fd, zero, CL, CL) == CL);
	CHECK(pwrite(fd, zero, CL, 2 * CL) == CL);
	CHECK(pwrite(fd, hdr, 64, 0) == 64);
	close(fd);
	file_put_le32(p, 64, 8);
	file_put_le32(p, 68, 16);
}

static void test_malformed(void)
{
	const char *p = tmp("bad.hdd");
	struct block_dev *bd;
	char err[512];
	size_t i;

	make_victim(p);
	CHECK_EQ(block_open(p, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), 0);
	block_close(bd);
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		int r;

		make_victim(p);
		if (!strcmp(c->name, "entry below data"))
			file_put_le32(p, 64, 4);
		else if (!strcmp(c->name, "entry misaligned"))
			file_put_le32(p, 68, 17);
		else if (!strcmp(c->name, "duplicate entry"))
			file_put_le32(p, 72, 16);
		else
			file_put_le32(p, c->off, c->value);
		err[0] = 0;
		bd = (void *)1;
		r = !strcmp(c->name, "bad magic") ?
			    block_open_hdd(p, BLOCK_OPEN_READ_ONLY, &bd, err,
					   sizeof(err)) :
			    block_open(p, BLOCK_OPEN_READ_ONLY, &bd, err,
				       sizeof(err));
		if (r >= 0 || !strstr(err, c->msg) || strchr(err, '\n') || bd) {
			fprintf(stderr, "case '%s': r=%d err='%s'\n", c->name,
				r, err);
			CHECK(0);
		}
	}
	unlink(p);
}

static void test_inuse_and_lock(void)
{
	struct block_dev *bd, *bd2;
	char err[512] = "";
	const char *p = tmp("lock.hdd");
	char saved[300];

	CHECK_EQ(hdd_create(p, 16 * CL, CL, false, err, sizeof(err)), 0);
	snprintf(saved, sizeof(saved), "%s", p);
	CHECK_EQ(block_open(saved, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(file_le32(saved, 44), HDD_INUSE_MAGIC);
	CHECK_EQ(block_open(saved, 0, &bd2, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "in use by another process") != NULL);
	CHECK(!strncmp(err, saved, strlen(saved)));
	/* A reader does not need the lock and sees a dirty image. */
	CHECK_EQ(
		block_open(saved, BLOCK_OPEN_READ_ONLY, &bd2, err, sizeof(err)),
		0);
	block_close(bd2);
	block_close(bd);
	CHECK_EQ(file_le32(saved, 44), 0);

	/* A crash leaves "Ynot": both proceed; a clean close clears it. */
	file_put_le32(saved, 44, HDD_INUSE_MAGIC);
	CHECK_EQ(block_open(saved, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(file_le32(saved, 44), HDD_INUSE_MAGIC);
	block_close(bd);
	CHECK_EQ(file_le32(saved, 44), 0);
	file_put_le32(saved, 44, HDD_INUSE_MAGIC);
	CHECK_EQ(block_open(saved, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
		 0);
	block_close(bd);
	CHECK_EQ(file_le32(saved, 44), HDD_INUSE_MAGIC);
	unlink(saved);
}

static void test_raw_lock_and_probe_guard(void)
{
	struct block_dev *bd, *bd2;
	char err[512] = "";
	const char *p = tmp("raw.img");
	char saved[300];
	u8 buf[512] = {0};
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);

	CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf));
	close(fd);
	snprintf(saved, sizeof(saved), "%s", p);
	CHECK_EQ(block_open(saved, 0, &bd, err, sizeof(err)), 0);
	CHECK_STR(bd->ops->format, "raw");
	CHECK_EQ(block_open(saved, 0, &bd2, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "in use by another process") != NULL);
	/* A guest may not turn its guessed-raw disk into a Parallels one. */
	memcpy(buf, HDD_MAGIC_V2, 16);
	CHECK_EQ(block_write(bd, 0, buf, sizeof(buf)), -EPERM);
	CHECK_EQ(block_write(bd, 8, buf + 8, 8), 0);
	CHECK_EQ(block_write(bd, 0, buf, 8), -EPERM);
	buf[0] = 'X';
	CHECK_EQ(block_write(bd, 0, buf, sizeof(buf)), 0);
	block_close(bd);
	unlink(saved);
}

static void test_check_repair(void)
{
	struct hdd_check_result res;
	struct block_dev *bd;
	char err[512] = "";
	const char *p = tmp("check.hdd");
	char saved[300];
	u8 buf[CL];
	u64 size;
	FILE *out = fopen("/dev/null", "w");

	CHECK_EQ(hdd_create(p, 16 * CL, CL, false, err, sizeof(err)), 0);
	snprintf(saved, sizeof(saved), "%s", p);
	CHECK_EQ(block_open(saved, 0, &bd, err, sizeof(err)), 0);
	memset(buf, 0x11, sizeof(buf));
	CHECK_EQ(block_write(bd, 0, buf, CL), 0);
	CHECK_EQ(block_write(bd, 5 * CL, buf, CL), 0);
	block_close(bd);
	CHECK_EQ(hdd_check(saved, false, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.corruptions + res.leaks, 0);
	size = file_size(saved);
	/* A leaked cluster: the tail a crash leaves before the BAT write. */
	CHECK_EQ(truncate(saved, (off_t)(size + CL)), 0);
	CHECK_EQ(hdd_check(saved, false, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.leaks, 1);
	CHECK_EQ(res.corruptions, 0);
	CHECK_EQ(hdd_check(saved, true, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.remaining, 0);
	CHECK_EQ(file_size(saved), size);
	/* Dirty flag plus a duplicate entry: repaired by copying. */
	file_put_le32(saved, 44, HDD_INUSE_MAGIC);
	file_put_le32(saved, 64 + 4 * 7, file_le32(saved, 64 + 4 * 5));
	CHECK_EQ(hdd_check(saved, false, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.corruptions, 1);
	CHECK_EQ(res.unclean, 1);
	CHECK_EQ(hdd_check(saved, true, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.remaining, 0);
	CHECK_EQ(hdd_check(saved, false, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.corruptions + res.leaks, 0);
	CHECK_EQ(block_open(saved, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(block_read(bd, 7 * CL, buf, CL), 0);
	CHECK_EQ(buf[CL - 1], 0x11);
	/* The copy is private: writing one leaves the other alone. */
	buf[0] = 0x22;
	CHECK_EQ(block_write(bd, 7 * CL, buf, 1), 0);
	CHECK_EQ(block_read(bd, 5 * CL, buf, 1), 0);
	CHECK_EQ(buf[0], 0x11);
	block_close(bd);
	/* An entry beyond the end of the file is zeroed. */
	file_put_le32(saved, 64 + 4 * 3, 100000);
	CHECK_EQ(hdd_check(saved, true, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.corruptions, 1);
	CHECK_EQ(file_le32(saved, 64 + 4 * 3), 0);
	/* A Format Extension cluster at the end is not a leak. */
	size = file_size(saved);
	CHECK_EQ(truncate(saved, (off_t)(size + CL)), 0);
	file_put_le32(saved, 56, (u32)(size / 512));
	CHECK_EQ(hdd_check(saved, true, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.leaks, 0);
	CHECK_EQ(file_size(saved), size + CL);
	fclose(out);
	unlink(saved);
}

static void test_resize(void)
{
	struct block_dev *bd;
	char err[512] = "";
	const char *p = tmp("resize.hdd");
	char saved[300];
	u8 b = 0x44;

	/* 16 clusters of 4K: the BAT cluster has room for 1008 entries. */
	CHECK_EQ(hdd_create(p, 16 * CL, CL, false, err, sizeof(err)), 0);
	snprintf(saved, sizeof(saved), "%s", p);
	CHECK_EQ(hdd_resize(saved, 100 * CL, err, sizeof(err)), 0);
	CHECK_EQ(hdd_resize(saved, 50 * CL, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "shrinking") != NULL);
	CHECK_EQ(hdd_resize(saved, 2000 * CL, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "no room") != NULL);
	CHECK_EQ(block_open(saved, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bd->size, 100 * CL);
	CHECK_EQ(block_write(bd, 99 * CL, &b, 1), 0);
	block_close(bd);
	unlink(saved);
}

/*
 * Hostile images: random bytes over the header and BAT must give an error
 * or a working device, never a crash or an access outside the image.
 */
static void test_fuzz(void)
{
	const char *p = tmp("fuzz.hdd");
	struct hdd_check_result res;
	char saved[300], err[512];
	u8 junk[256], buf[CL];
	struct block_dev *bd;
	FILE *out = fopen("/dev/null", "w");
	unsigned i, j, opened = 0;
	int fd;

	snprintf(saved, sizeof(saved), "%s", p);
	srand(1);
	for (i = 0; i < 3000; i++) {
		make_victim(saved);
		fd = open(saved, O_RDWR);
		for (j = 0; j < sizeof(junk); j++)
			junk[j] = (u8)rand();
		/* Keep the magic mostly, so the deeper checks run. */
		j = i % 4 ? 16 + (unsigned)rand() % 60 : (unsigned)rand() % 16;
		CHECK(pwrite(fd, junk, 1 + (unsigned)rand() % 8, j) > 0);
		close(fd);
		if (!block_open(saved, 0, &bd, err, sizeof(err))) {
			opened++;
			for (j = 0; j < bd->size / CL; j++)
				CHECK_EQ(block_read(bd, (u64)j * CL, buf, CL),
					 0);
			CHECK_EQ(block_write(bd, bd->size - 1, buf, 1), 0);
			block_close(bd);
		}
		CHECK_EQ(hdd_check(saved, true, out, &res, err, sizeof(err)) <=
				 0,
			 1);
	}
	CHECK(opened > 0);
	fclose(out);
	unlink(saved);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN_TEST(test_create_layout);
	RUN_TEST(test_read_write);
	RUN_TEST(test_v1_header);
	RUN_TEST(test_malformed);
	RUN_TEST(test_inuse_and_lock);
	RUN_TEST(test_raw_lock_and_probe_guard);
	RUN_TEST(test_check_repair);
	RUN_TEST(test_resize);
	RUN_TEST(test_fuzz);
	rmdir(tmpdir);
	return unit_summary();
}

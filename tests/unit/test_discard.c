// SPDX-License-Identifier: MIT
/*
 * block_discard on every image back end: raw images and .hdd clusters get
 * holes punched (fewer blocks on the host, zeros read back, neighbours
 * intact), a discarded .hdd keeps its BAT and checks clean, a bundle
 * discards in its top image; unaligned, out-of-range and read-only
 * requests are refused; AIO_DISCARD runs a list of ranges. Host devices
 * are covered in test_hostdev.c (they need a loop device). A host file
 * system without hole punching prints "skip NAME: reason".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/aio.h"
#include "block/block.h"
#include "block/bundle.h"
#include "block/hdd.h"
#include "unit.h"

#define RAW_SIZE (4u << 20)
#define CL (64u << 10)
#define HDD_SIZE (1u << 20)

static char tmpdir[] = "/tmp/twoostwo-discard-XXXXXX";

static const char *tmp(const char *name)
{
	static char path[400];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static u8 pattern(u64 off)
{
	return (u8)(off * 13 + (off >> 9) + 1);
}

static void fill(u8 *buf, u64 off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i);
}

/* Whether len bytes of bd at off hold the pattern (or zeros). */
static bool reads_back(struct block_dev *bd, u64 off, size_t len, bool zeros)
{
	u8 *buf = malloc(len);
	bool same = buf && !block_read(bd, off, buf, len);
	size_t i;

	for (i = 0; same && i < len; i++)
		same = buf[i] == (zeros ? 0 : pattern(off + i));
	free(buf);
	return same;
}

/* 512-byte blocks the host file system holds for path. */
static long long host_blocks(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	return (long long)st.st_blocks;
}

static bool skip_unsupported(const char *name, int r)
{
	if (r != -EOPNOTSUPP)
		return false;
	printf("skip %s: the file system of %s cannot punch holes\n", name,
	       tmpdir);
	fflush(stdout);
	return true;
}

/* A fully written raw image of RAW_SIZE bytes. */
static void make_raw(const char *path)
{
	static u8 buf[RAW_SIZE];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	fill(buf, 0, sizeof(buf));
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, buf, sizeof(buf)), sizeof(buf));
	CHECK_EQ(fsync(fd), 0);
	close(fd);
}

static void test_raw_punches_holes(void)
{
	const char *p = tmp("raw.img");
	struct block_dev *bd = NULL;
	long long before, after;
	char err[256];
	int r;

	make_raw(p);
	before = host_blocks(p);
	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK(block_can_discard(bd));
	r = block_discard(bd, 1 << 20, 1 << 20);
	if (skip_unsupported("test_raw_punches_holes", r)) {
		block_close(bd);
		return;
	}
	CHECK_EQ(r, 0);
	/* Sector granularity: the host zeroes what is not a whole block. */
	CHECK_EQ(block_discard(bd, 3 * 512, 512), 0);
	after = host_blocks(p);
	CHECK(after >= 0 && before - after >= (1 << 20) / 512);
	CHECK(reads_back(bd, 1 << 20, 1 << 20, true));
	CHECK(reads_back(bd, 3 * 512, 512, true));
	CHECK(reads_back(bd, 0, 3 * 512, false));
	CHECK(reads_back(bd, 4 * 512, (1 << 20) - 4 * 512, false));
	CHECK(reads_back(bd, 2 << 20, 2 << 20, false));
	CHECK_EQ(bd->size, RAW_SIZE);
	block_close(bd);
}

/* Alignment, bounds, overflow, read-only; nothing happens on refusal. */
static void test_refusals(void)
{
	const char *p = tmp("bounds.img");
	struct block_dev *bd = NULL;
	char err[256];

	make_raw(p);
	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK_EQ(block_discard(bd, 100, 512), (unsigned long long)-EINVAL);
	CHECK_EQ(block_discard(bd, 512, 100), (unsigned long long)-EINVAL);
	CHECK_EQ(block_discard(bd, RAW_SIZE - 512, 1024),
		 (unsigned long long)-EINVAL);
	CHECK_EQ(block_discard(bd, RAW_SIZE + 512, 0),
		 (unsigned long long)-EINVAL);
	CHECK_EQ(block_discard(bd, 512, UINT64_MAX - 511),
		 (unsigned long long)-EINVAL);
	CHECK_EQ(block_discard(bd, RAW_SIZE, 0), 0);
	CHECK(reads_back(bd, 0, RAW_SIZE, false));
	block_close(bd);

	CHECK_EQ(block_open(p, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK(!block_can_discard(bd));
	CHECK_EQ(block_discard(bd, 0, 512), (unsigned long long)-EROFS);
	block_close(bd);
	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	CHECK(bd && reads_back(bd, 0, RAW_SIZE, false));
	block_close(bd);
}

/* An .hdd with clusters 0-3 written with the pattern. */
static struct block_dev *make_hdd(const char *p)
{
	static u8 buf[4 * CL];
	struct block_dev *bd = NULL;
	char err[256];

	CHECK_EQ(hdd_create(p, HDD_SIZE, CL, true, err, sizeof(err)), 0);
	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return NULL;
	fill(buf, 0, sizeof(buf));
	CHECK_EQ(block_write(bd, 0, buf, sizeof(buf)), 0);
	CHECK_EQ(block_flush(bd), 0);
	return bd;
}

static void check_hdd_clean(const char *p)
{
	struct hdd_check_result res;
	char err[256];
	FILE *out = fopen("/dev/null", "w");

	CHECK_EQ(hdd_check(p, false, out, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.corruptions, 0);
	CHECK_EQ(res.leaks, 0);
	CHECK_EQ(res.unclean, 0);
	fclose(out);
}

/*
 * Whole and partial clusters are punched; every BAT entry stays, so the
 * image checks clean and a later write lands in the old cluster.
 */
static void test_hdd_discard(void)
{
	const char *p = tmp("disk.hdd");
	struct block_dev *bd = make_hdd(p);
	struct hdd_stats st;
	long long before, after;
	char err[256];
	u8 buf[512];
	int r;

	if (!bd)
		return;
	before = host_blocks(p);
	r = block_discard(bd, CL, CL + CL / 2);
	if (skip_unsupported("test_hdd_discard", r)) {
		block_close(bd);
		return;
	}
	CHECK_EQ(r, 0);
	/* Unallocated clusters: nothing to do, and nothing allocated. */
	CHECK_EQ(block_discard(bd, 8 * CL, 2 * CL), 0);
	CHECK(!hdd_cluster_allocated(bd, 8 * CL));
	after = host_blocks(p);
	CHECK(before - after >= CL / 512);
	CHECK_EQ(hdd_stats(bd, &st), 0);
	CHECK_EQ(st.allocated, 4);
	block_close(bd);
	check_hdd_clean(p);

	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK(reads_back(bd, 0, CL, false));
	CHECK(reads_back(bd, CL, CL + CL / 2, true));
	CHECK(reads_back(bd, 2 * CL + CL / 2, CL / 2 + CL, false));
	CHECK(reads_back(bd, 8 * CL, 2 * CL, true));
	/* A write into the punched cluster needs no new allocation. */
	fill(buf, CL + 512, sizeof(buf));
	CHECK_EQ(block_write(bd, CL + 512, buf, sizeof(buf)), 0);
	CHECK(reads_back(bd, CL + 512, 512, false));
	CHECK(reads_back(bd, CL, 512, true));
	CHECK_EQ(hdd_stats(bd, &st), 0);
	CHECK_EQ(st.allocated, 4);
	block_close(bd);
	check_hdd_clean(p);
}

/* The top image of a bundle is discarded; a read-only bundle refuses. */
static void test_bundle_discard(void)
{
	const char *dir = tmp("b.hdd");
	struct block_dev *bd = NULL;
	static u8 buf[2 * CL];
	char err[256];
	int r;

	CHECK_EQ(bundle_create(dir, HDD_SIZE, CL, false, err, sizeof(err)), 0);
	CHECK_EQ(block_open(dir, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	fill(buf, 0, sizeof(buf));
	CHECK_EQ(block_write(bd, 0, buf, sizeof(buf)), 0);
	CHECK(block_can_discard(bd));
	r = block_discard(bd, CL, CL);
	if (!skip_unsupported("test_bundle_discard", r)) {
		CHECK_EQ(r, 0);
		CHECK(reads_back(bd, 0, CL, false));
		CHECK(reads_back(bd, CL, CL, true));
	}
	block_close(bd);
	CHECK_EQ(block_open(dir, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
		 0);
	if (!bd)
		return;
	CHECK(!block_can_discard(bd));
	CHECK_EQ(block_discard(bd, 0, CL), (unsigned long long)-EROFS);
	CHECK(reads_back(bd, 0, CL, false));
	block_close(bd);
}

static void aio_done(struct aio_req *req)
{
	(*(unsigned *)req->opaque)++;
}

/* AIO_DISCARD: every range in order; the first bad one ends it. */
static void test_aio_discard(void)
{
	const char *p = tmp("aio.img");
	struct aio_range ranges[3] = {{0, 512}, {8192, 4096}, {RAW_SIZE, 512}};
	struct block_dev *bd = NULL;
	struct aio_dev *dev;
	struct aio_req req;
	unsigned done = 0;
	char err[256];

	make_raw(p);
	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	dev = aio_dev_create(NULL, bd);
	CHECK(dev != NULL);
	req = (struct aio_req){.op = AIO_DISCARD,
			       .buf = ranges,
			       .len = sizeof(ranges) - 1,
			       .done = aio_done,
			       .opaque = &done};
	CHECK_EQ(aio_submit(dev, &req), (unsigned long long)-EINVAL);
	req.len = 2 * sizeof(ranges[0]);
	CHECK_EQ(aio_submit(dev, &req), 0);
	CHECK_EQ(done, 1);
	if (!skip_unsupported("test_aio_discard", req.ret)) {
		CHECK_EQ(req.ret, 0);
		CHECK(reads_back(bd, 0, 512, true));
		CHECK(reads_back(bd, 512, 8192 - 512, false));
		CHECK(reads_back(bd, 8192, 4096, true));
		/* The third range is past the end: -EINVAL at the worker. */
		req.len = sizeof(ranges);
		CHECK_EQ(aio_submit(dev, &req), 0);
		CHECK_EQ(done, 2);
		CHECK_EQ(req.ret, (unsigned long long)-EINVAL);
	}
	aio_dev_destroy(dev);
	block_close(bd);
}

int main(void)
{
	char cmd[400];

	CHECK(mkdtemp(tmpdir) != NULL);
	RUN_TEST(test_raw_punches_holes);
	RUN_TEST(test_refusals);
	RUN_TEST(test_hdd_discard);
	RUN_TEST(test_bundle_discard);
	RUN_TEST(test_aio_discard);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		perror("rm");
	return unit_summary();
}

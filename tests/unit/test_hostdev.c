// SPDX-License-Identifier: MIT
/*
 * Host block devices through block_open, on a loop device this test sets
 * up over a temporary file: size and content, read-only unless asked, the
 * exclusive read-write open and the locks. Without losetup (not root, no
 * loop driver) the device checks print "skip NAME: reason".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/hostdev.h"
#include "unit.h"

#define LOOP_SIZE (1u << 20)

static char tmpdir[] = "/tmp/twoostwo-hostdev-XXXXXX";
static char backing[300];
static char loopdev[64];
static char skip_reason[768];

static u8 pattern(u64 off)
{
	return (u8)(off * 7 + (off >> 9) + 3);
}

static void make_backing(void)
{
	static u8 buf[LOOP_SIZE];
	unsigned i;
	int fd;

	for (i = 0; i < LOOP_SIZE; i++)
		buf[i] = pattern(i);
	fd = open(backing, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, buf, LOOP_SIZE), LOOP_SIZE);
	close(fd);
}

/* losetup's first output line into out; false with the reason noted. */
static bool run_losetup(const char *args, char *out, size_t len)
{
	char cmd[512];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "losetup %s 2>&1", args);
	p = popen(cmd, "r");
	if (!p) {
		snprintf(skip_reason, sizeof(skip_reason), "popen: %s",
			 strerror(errno));
		return false;
	}
	out[0] = '\0';
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	st = pclose(p);
	out[strcspn(out, "\n")] = '\0';
	if (st) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "'losetup %s' failed: %s", args, out);
		return false;
	}
	return true;
}

static bool loop_attach(const char *extra)
{
	char args[400], out[256];

	snprintf(args, sizeof(args), "%s-f --show %s", extra, backing);
	loopdev[0] = '\0';
	if (!run_losetup(args, out, sizeof(out)))
		return false;
	if (strncmp(out, "/dev/", 5) || strlen(out) >= sizeof(loopdev)) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "losetup printed '%.200s', not a device", out);
		return false;
	}
	strcpy(loopdev, out);
	return true;
}

static void loop_detach(void)
{
	char args[100], out[256];

	if (!loopdev[0])
		return;
	snprintf(args, sizeof(args), "-d %s", loopdev);
	run_losetup(args, out, sizeof(out));
	loopdev[0] = '\0';
}

static bool loop_skip(const char *name)
{
	if (loopdev[0])
		return false;
	printf("skip %s: %s\n", name, skip_reason);
	fflush(stdout);
	return true;
}

static void test_probe(void)
{
	CHECK(hostdev_probe("/dev/null") == false); /* a character device */
	CHECK(hostdev_probe(backing) == false);
	CHECK(hostdev_probe("/nonexistent/dev") == false);
	if (loop_skip("test_probe_loop"))
		return;
	CHECK(hostdev_probe(loopdev));
}

static void test_read_only_default(void)
{
	struct block_dev *bd = NULL;
	u8 buf[4096];
	char err[512];
	unsigned i;
	bool same = true;

	if (loop_skip("test_read_only_default"))
		return;
	CHECK_EQ(block_open(loopdev, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK_STR(bd->ops->format, "host device");
	CHECK(bd->read_only);
	CHECK_EQ(bd->size, LOOP_SIZE);
	CHECK_EQ(block_read(bd, 123 * 512, buf, sizeof(buf)), 0);
	for (i = 0; i < sizeof(buf); i++)
		same &= buf[i] == pattern(123 * 512 + i);
	CHECK(same);
	CHECK_EQ(block_write(bd, 0, buf, 512), (unsigned long long)-EROFS);
	block_close(bd);
	/* ,ro wins over ,rw. */
	CHECK_EQ(block_open(loopdev,
			    BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_DEVICE_WRITE, &bd,
			    err, sizeof(err)),
		 0);
	CHECK(bd && bd->read_only);
	block_close(bd);
}

static void test_read_write(void)
{
	struct block_dev *bd = NULL, *other = NULL, *reader = NULL;
	u8 buf[1024], back[1024];
	char err[512];
	unsigned i;
	int fd;

	if (loop_skip("test_read_write"))
		return;
	CHECK_EQ(block_open(loopdev, BLOCK_OPEN_DEVICE_WRITE, &bd, err,
			    sizeof(err)),
		 0);
	if (!bd)
		return;
	CHECK(!bd->read_only);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)~pattern(i);
	CHECK_EQ(block_write(bd, 4096, buf, sizeof(buf)), 0);
	CHECK_EQ(block_flush(bd), 0);
	/* A second writer: O_EXCL refuses it with a reason. */
	CHECK_EQ(block_open(loopdev, BLOCK_OPEN_DEVICE_WRITE, &other, err,
			    sizeof(err)),
		 (unsigned long long)-EBUSY);
	CHECK(strstr(err, loopdev) && strstr(err, "busy"));
	/* A reader while it writes: the lock refuses it. */
	CHECK_EQ(block_open(loopdev, 0, &reader, err, sizeof(err)),
		 (unsigned long long)-EBUSY);
	CHECK(strstr(err, "in use by another process") != NULL);
	block_close(bd);
	/* The write reached the file behind the device. */
	fd = open(backing, O_RDONLY);
	CHECK_EQ(pread(fd, back, sizeof(back), 4096), sizeof(back));
	close(fd);
	CHECK(!memcmp(buf, back, sizeof(back)));
	/* Two readers share. */
	CHECK_EQ(block_open(loopdev, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(block_open(loopdev, 0, &reader, err, sizeof(err)), 0);
	block_close(bd);
	block_close(reader);
}

/* Whether len bytes of bd at off read as zeros, or as the pattern. */
static bool dev_reads(struct block_dev *bd, u64 off, size_t len, bool zeros)
{
	u8 buf[16384];
	size_t i;

	if (len > sizeof(buf) || block_read(bd, off, buf, len))
		return false;
	for (i = 0; i < len; i++)
		if (buf[i] != (zeros ? 0 : pattern(off + i)))
			return false;
	return true;
}

/*
 * BLKDISCARD on a writable device (a loop device punches its file, so the
 * range reads as zeros); a read-only one refuses. off must hold the
 * pattern; the device's logical blocks are ssz bytes, and a range that
 * covers them only in part shrinks to the whole ones.
 */
static void check_device_discard(const char *name, u64 off, unsigned ssz)
{
	struct block_dev *bd = NULL;
	char err[512];
	int r;

	if (loop_skip(name))
		return;
	CHECK_EQ(block_open(loopdev, 0, &bd, err, sizeof(err)), 0);
	CHECK(bd && !block_can_discard(bd));
	if (bd)
		CHECK_EQ(block_discard(bd, off, ssz),
			 (unsigned long long)-EROFS);
	block_close(bd);
	CHECK_EQ(block_open(loopdev, BLOCK_OPEN_DEVICE_WRITE, &bd, err,
			    sizeof(err)),
		 0);
	if (!bd)
		return;
	CHECK(block_can_discard(bd));
	r = block_discard(bd, off + 512, 3 * ssz - 512);
	if (r == -EOPNOTSUPP) {
		printf("skip %s: the loop device cannot discard\n", name);
		block_close(bd);
		return;
	}
	CHECK_EQ(r, 0);
	CHECK(dev_reads(bd, off, ssz, false));
	CHECK(dev_reads(bd, off + ssz, 2 * ssz, true));
	CHECK(dev_reads(bd, off + 3 * ssz, ssz, false));
	block_close(bd);
}

static void test_discard(void)
{
	check_device_discard("test_discard", 256 << 10, 512);
}

/* O_EXCL is what the kernel gives a mounted device's other openers. */
static void test_busy_device(void)
{
	struct block_dev *bd = NULL;
	char err[512];
	int fd;

	if (loop_skip("test_busy_device"))
		return;
	fd = open(loopdev, O_RDONLY | O_EXCL);
	CHECK(fd >= 0);
	CHECK_EQ(block_open(loopdev, BLOCK_OPEN_DEVICE_WRITE, &bd, err,
			    sizeof(err)),
		 (unsigned long long)-EBUSY);
	CHECK(strstr(err, "mounted by the host") != NULL);
	/* Reading stays possible, as for any program. */
	CHECK_EQ(block_open(loopdev, 0, &bd, err, sizeof(err)), 0);
	block_close(bd);
	close(fd);
}

/* A 4096-byte logical sector is a whole number of 512-byte ones. */
static void test_large_sectors(void)
{
	struct block_dev *bd = NULL;
	char err[512];
	u8 buf[512];

	loop_detach();
	if (!loop_attach("-b 4096 ")) {
		printf("skip test_large_sectors: %s\n", skip_reason);
		return;
	}
	CHECK_EQ(block_open(loopdev, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK_EQ(bd->size, LOOP_SIZE);
	/* A 512-byte read off a 4096-byte boundary, as the guest does. */
	CHECK_EQ(block_read(bd, 3 * 512, buf, sizeof(buf)), 0);
	CHECK_EQ(buf[0], pattern(3 * 512));
	block_close(bd);
	check_device_discard("test_large_sectors_discard", 512 << 10, 4096);
}

int main(void)
{
	int ret;

	CHECK(mkdtemp(tmpdir) != NULL);
	snprintf(backing, sizeof(backing), "%s/backing.img", tmpdir);
	make_backing();
	if (!loop_attach(""))
		printf("skip loop device checks: %s\n", skip_reason);
	RUN_TEST(test_probe);
	RUN_TEST(test_read_only_default);
	RUN_TEST(test_read_write);
	RUN_TEST(test_discard);
	RUN_TEST(test_busy_device);
	RUN_TEST(test_large_sectors);
	loop_detach();
	unlink(backing);
	rmdir(tmpdir);
	ret = unit_summary();
	return ret;
}

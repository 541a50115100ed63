// SPDX-License-Identifier: MIT
/* The raw block backend: opening, refusing bad paths, bounded I/O. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "unit.h"

static char tmpdir[] = "/tmp/twoostwo-block-XXXXXX";

static void tmp_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static void make_file(const char *path, size_t size, u8 fill)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	u8 buf[512];
	size_t done;

	memset(buf, fill, sizeof(buf));
	for (done = 0; done < size; done += sizeof(buf))
		CHECK(write(fd, buf, MIN(sizeof(buf), size - done)) > 0);
	close(fd);
}

static void test_missing_file(void)
{
	struct block_dev *bd = (void *)1;
	char path[256], err[512] = "", want[300];

	tmp_path(path, sizeof(path), "nope.img");
	CHECK_EQ(block_open_raw(path, 0, &bd, err, sizeof(err)), -ENOENT);
	CHECK(bd == NULL);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	CHECK_STR(err, want);
}

static void test_empty_file(void)
{
	struct block_dev *bd;
	char path[256], err[512] = "", want[300];

	tmp_path(path, sizeof(path), "empty.img");
	make_file(path, 0, 0);
	CHECK(block_open_raw(path, 0, &bd, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "%s: image is empty", path);
	CHECK_STR(err, want);
}

static void test_directory(void)
{
	struct block_dev *bd;
	char err[512] = "";

	CHECK_EQ(block_open_raw(tmpdir, 0, &bd, err, sizeof(err)), -EISDIR);
	CHECK(strstr(err, "is a directory") != NULL);
	CHECK_EQ(block_open_raw(tmpdir, BLOCK_OPEN_READ_ONLY, &bd, err,
				sizeof(err)),
		 -EISDIR);
}

static void test_read_write(void)
{
	struct block_dev *bd;
	char path[256], err[512];
	u8 buf[1024], back[1024];
	unsigned i;

	tmp_path(path, sizeof(path), "disk.img");
	make_file(path, 64 * 1024, 0xa5);
	CHECK_EQ(block_open_raw(path, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bd->size, 64 * 1024);
	CHECK(!bd->read_only);
	CHECK_STR(bd->ops->format, "raw");
	CHECK_EQ(block_read(bd, 0, buf, sizeof(buf)), 0);
	CHECK_EQ(buf[0], 0xa5);
	CHECK_EQ(buf[1023], 0xa5);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7);
	CHECK_EQ(block_write(bd, 3000, buf, sizeof(buf)), 0);
	CHECK_EQ(block_flush(bd), 0);
	memset(back, 0, sizeof(back));
	CHECK_EQ(block_read(bd, 3000, back, sizeof(back)), 0);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	/* The last byte is reachable, one more is not. */
	CHECK_EQ(block_read(bd, 64 * 1024 - 1, back, 1), 0);
	CHECK_EQ(block_read(bd, 64 * 1024 - 1, back, 2), -EINVAL);
	CHECK_EQ(block_write(bd, 64 * 1024, buf, 1), -EINVAL);
	CHECK_EQ(block_read(bd, UINT64_MAX, back, 2), -EINVAL);
	CHECK_EQ(block_read(bd, 512, back, SIZE_MAX), -EINVAL);
	block_close(bd);

	/* The data reached the file. */
	{
		int fd = open(path, O_RDONLY);

		CHECK(pread(fd, back, sizeof(back), 3000) ==
		      (ssize_t)sizeof(back));
		CHECK(!memcmp(buf, back, sizeof(back)));
		close(fd);
	}
}

static void test_read_only(void)
{
	struct block_dev *bd;
	char path[256], err[512];
	u8 buf[512] = {1};

	tmp_path(path, sizeof(path), "ro.img");
	make_file(path, 4096, 0x11);
	CHECK_EQ(block_open_raw(path, BLOCK_OPEN_READ_ONLY, &bd, err,
				sizeof(err)),
		 0);
	CHECK(bd->read_only);
	CHECK_EQ(block_write(bd, 0, buf, sizeof(buf)), -EROFS);
	CHECK_EQ(block_read(bd, 0, buf, sizeof(buf)), 0);
	CHECK_EQ(buf[0], 0x11);
	CHECK_EQ(block_flush(bd), 0);
	block_close(bd);
	block_close(NULL);
}

static void test_odd_size(void)
{
	struct block_dev *bd;
	char path[256], err[512];
	u8 buf[8];

	tmp_path(path, sizeof(path), "odd.img");
	make_file(path, 1000, 0x22);
	CHECK_EQ(block_open_raw(path, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bd->size, 1000);
	CHECK_EQ(block_read(bd, 992, buf, 8), 0);
	CHECK_EQ(block_read(bd, 993, buf, 8), -EINVAL);
	block_close(bd);
}

static void remove_tmpdir(void)
{
	static const char *const names[] = {"empty.img", "disk.img", "ro.img",
					    "odd.img"};
	char path[256];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		tmp_path(path, sizeof(path), names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN_TEST(test_missing_file);
	RUN_TEST(test_empty_file);
	RUN_TEST(test_directory);
	RUN_TEST(test_read_write);
	RUN_TEST(test_read_only);
	RUN_TEST(test_odd_size);
	remove_tmpdir();
	return unit_summary();
}

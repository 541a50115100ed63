// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the image parsers behind block_open(): the input
 * is a whole image file. It is opened read-only, and read-write on a
 * separate copy, through a memfd (its /proc/self/fd path), so no file
 * lands on disk and a sparse cluster allocation costs no memory. Every
 * outcome must be an error return or success; ASan and UBSan turn a
 * crash, leak or undefined behaviour into a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/block.h"
#include "core/log.h"

#define FUZZ_SECTOR 512u

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding the input; its path goes into path. -1 on failure. */
static int fuzz_memfd(const uint8_t *data, size_t size, char *path,
		      size_t pathlen)
{
	int fd = memfd_create("fuzz_hdd", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* The first, middle and last sectors, and one read across the end. */
static void fuzz_reads(struct block_dev *bd)
{
	u8 buf[2 * FUZZ_SECTOR];
	u64 last = bd->size >= FUZZ_SECTOR ? bd->size - FUZZ_SECTOR : 0;

	block_read(bd, 0, buf, FUZZ_SECTOR);
	block_read(bd, bd->size / 2 / FUZZ_SECTOR * FUZZ_SECTOR, buf,
		   FUZZ_SECTOR);
	block_read(bd, last, buf, FUZZ_SECTOR);
	block_read(bd, last, buf, sizeof(buf));
	block_read(bd, 0, buf, sizeof(buf));
}

/* One sector in the middle of the disk: allocates a cluster if sparse. */
static void fuzz_write(struct block_dev *bd)
{
	u8 buf[FUZZ_SECTOR];

	memset(buf, 0xa5, sizeof(buf));
	block_write(bd, bd->size / 2 / FUZZ_SECTOR * FUZZ_SECTOR, buf,
		    sizeof(buf));
	block_read(bd, bd->size / 2 / FUZZ_SECTOR * FUZZ_SECTOR, buf,
		   sizeof(buf));
	block_flush(bd);
}

static void fuzz_open(const uint8_t *data, size_t size, bool writable)
{
	char path[64], err[256];
	struct block_dev *bd = NULL;
	int fd = fuzz_memfd(data, size, path, sizeof(path));

	if (fd < 0)
		return;
	if (!block_open(path, writable ? 0 : BLOCK_OPEN_READ_ONLY, &bd, err,
			sizeof(err))) {
		fuzz_reads(bd);
		if (writable)
			fuzz_write(bd);
		block_close(bd);
	}
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A warning per rejected image would drown the fuzzer's output. */
	log_set_level(LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_open(data, size, false);
	fuzz_open(data, size, true);
	return 0;
}

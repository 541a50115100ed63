// SPDX-License-Identifier: MIT
/*
 * diskbench: the disk benchmark that runs inside the Linux guest (and, built
 * the same way, on the host as the physical limit). bench/disk.sh drives it.
 *
 *   diskbench [-b] [-s SEED] [-t SECONDS] FILE REGION_MIB OPS_4K
 *
 * All I/O is O_DIRECT, so the page cache of the system it runs on does not
 * answer it; -b (buffered) leaves O_DIRECT out, for the host's own
 * throughput through its page cache, which is what an emulator that opens
 * its images without O_DIRECT can reach at most. Phases, in this order,
 * within the first REGION_MIB MiB of FILE:
 *
 *   seqwrite-1M  the whole region in 1 MiB writes, then fdatasync
 *   seqread-1M   the whole region in 1 MiB reads
 *   seqwrite-4K  OPS_4K 4 KiB writes from offset 0 (wrapping at the end of
 *                the region), then fdatasync
 *   seqread-4K   OPS_4K 4 KiB reads the same way
 *   randwrite-4K OPS_4K 4 KiB writes at random 4 KiB-aligned offsets, then
 *                fdatasync
 *   randread-4K  OPS_4K 4 KiB reads at random 4 KiB-aligned offsets
 *
 * The first phase writes every byte of the region, so a sparse or expanding
 * image has it all allocated before the others run. Offsets come from a
 * xorshift32 generator seeded with SEED (default 1): every run, in any
 * emulator, touches the same blocks. A phase stops early after SECONDS
 * (default 120) and reports what it did.
 *
 * One line per phase, for a program to read:
 *
 *   diskbench NAME ops=N bytes=N ns=N
 *
 * then "diskbench done" (or "diskbench error: ..." and exit status 1).
 * The guest image has it compiled static for i386 (gcc -m32 -static), so
 * its initramfs needs no libc; bench/disk.py compiles it for the host.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KIB 1024u
#define MIB (1024u * 1024u)
#define SMALL (4 * KIB)
#define BIG MIB
/* O_DIRECT wants buffers aligned to the logical block size, at most 4 KiB
 * on any disk this runs on. */
#define ALIGN 4096u

struct bench {
	int fd;
	uint64_t region;    /* bytes */
	uint32_t ops_small; /* 4 KiB operations per 4 KiB phase */
	uint32_t rng;
	uint64_t limit_ns;
	unsigned char *buf; /* BIG bytes, aligned */
};

struct result {
	uint64_t ops;
	uint64_t bytes;
	uint64_t ns;
};

static void die(const char *what)
{
	printf("diskbench error: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift32 (Marsaglia, 2003): never 0 from a non-zero state. */
static uint32_t next_random(struct bench *b)
{
	uint32_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	b->rng = x;
	return x;
}

static uint64_t random_offset(struct bench *b)
{
	uint64_t blocks = b->region / SMALL;
	uint64_t r = ((uint64_t)next_random(b) << 32) | next_random(b);

	return (r % blocks) * SMALL;
}

static void io_at(struct bench *b, int write, uint64_t off, size_t len)
{
	ssize_t n;

	if (write)
		n = pwrite(b->fd, b->buf, len, (off_t)off);
	else
		n = pread(b->fd, b->buf, len, (off_t)off);
	if (n < 0)
		die(write ? "pwrite" : "pread");
	if ((size_t)n != len) {
		errno = EIO;
		die(write ? "short pwrite" : "short pread");
	}
}

/*
 * One phase: ops transfers of len bytes, sequential from 0 or at random
 * offsets, stopping early after the time limit; writes end with fdatasync,
 * inside the time, so that what was written has reached the disk.
 */
static struct result run_phase(struct bench *b, int write, int random,
			       size_t len, uint64_t ops)
{
	struct result r = {0, 0, 0};
	uint64_t start = now_ns();
	uint64_t off;

	while (r.ops < ops) {
		off = random ? random_offset(b) : r.ops * len % b->region;
		io_at(b, write, off, len);
		r.ops++;
		r.bytes += len;
		if ((r.ops & 15) == 0 && now_ns() - start > b->limit_ns)
			break;
	}
	if (write && fdatasync(b->fd))
		die("fdatasync");
	r.ns = now_ns() - start;
	return r;
}

static void report(const char *name, struct result r)
{
	printf("diskbench %s ops=%llu bytes=%llu ns=%llu\n", name,
	       (unsigned long long)r.ops, (unsigned long long)r.bytes,
	       (unsigned long long)r.ns);
	fflush(stdout);
}

static void run_all(struct bench *b)
{
	uint64_t big_ops = b->region / BIG;
	uint64_t small_ops = b->ops_small;

	report("seqwrite-1M", run_phase(b, 1, 0, BIG, big_ops));
	report("seqread-1M", run_phase(b, 0, 0, BIG, big_ops));
	report("seqwrite-4K", run_phase(b, 1, 0, SMALL, small_ops));
	report("seqread-4K", run_phase(b, 0, 0, SMALL, small_ops));
	report("randwrite-4K", run_phase(b, 1, 1, SMALL, small_ops));
	report("randread-4K", run_phase(b, 0, 1, SMALL, small_ops));
}

static void usage(void)
{
	fprintf(stderr, "usage: diskbench [-b] [-s SEED] [-t SECONDS] FILE "
			"REGION_MIB OPS_4K\n");
	exit(2);
}

/* A positive whole number no larger than max, or usage. */
static unsigned long parse_count(const char *text, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v == 0 || v > max) {
		fprintf(stderr, "diskbench: not a count from 1 to %lu: %s\n",
			max, text);
		exit(2);
	}
	return v;
}

static void fill_buffer(struct bench *b)
{
	uint32_t *w = (uint32_t *)b->buf;
	size_t i;

	/* Not zeros, so no layer can take a write for a hole. */
	for (i = 0; i < BIG / sizeof(*w); i++)
		w[i] = next_random(b);
}

int main(int argc, char **argv)
{
	struct bench b = {.rng = 1, .limit_ns = 120ull * 1000000000u};
	void *buf;
	int flags = O_RDWR | O_DIRECT;
	int opt;

	while ((opt = getopt(argc, argv, "bs:t:")) != -1) {
		switch (opt) {
		case 'b':
			flags &= ~O_DIRECT;
			break;
		case 's':
			b.rng = (uint32_t)parse_count(optarg, 0xffffffffu);
			break;
		case 't':
			b.limit_ns = parse_count(optarg, 86400) * 1000000000ull;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3)
		usage();
	b.region = (uint64_t)parse_count(argv[optind + 1], 1u << 20) * MIB;
	b.ops_small = (uint32_t)parse_count(argv[optind + 2], 1u << 24);
	if (posix_memalign(&buf, ALIGN, BIG))
		die("posix_memalign");
	b.buf = buf;
	fill_buffer(&b);
	b.fd = open(argv[optind], flags);
	if (b.fd < 0)
		die(argv[optind]);
	run_all(&b);
	close(b.fd);
	printf("diskbench done\n");
	return 0;
}

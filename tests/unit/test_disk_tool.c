// SPDX-License-Identifier: MIT
/*
 * `twoostwo disk`: create/convert/check/resize through cli_cmd_disk(), a
 * raw -> hdd -> raw and a raw -> bundle -> raw round trip that stay
 * sparse, the progress bar (on a terminal only), the lock naming its
 * holder, bad input, and interoperability with QEMU's qemu-img/qemu-io
 * when they are installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/bundle.h"
#include "block/hdd.h"
#include "cli/cli.h"
#include "unit.h"

static char tmpdir[] = "/tmp/twoostwo-disk-XXXXXX";

static char *tmp(char *buf, const char *name)
{
	snprintf(buf, 300, "%s/%s", tmpdir, name);
	return buf;
}

/* Run `twoostwo disk ARGS...` in-process. */
static int disk6(const char *a0, const char *a1, const char *a2, const char *a3,
		 const char *a4, const char *a5)
{
	char *argv[8] = {"disk",     (char *)a0, (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, (char *)a5, NULL};
	int argc = 1;

	while (argv[argc])
		argc++;
	fflush(stdout);
	return cli_cmd_disk(argc, argv);
}

static int disk(const char *a0, const char *a1, const char *a2, const char *a3,
		const char *a4)
{
	return disk6(a0, a1, a2, a3, a4, NULL);
}

static bool same_files(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	bool same = fa && fb;
	int ca, cb;

	while (same) {
		ca = fgetc(fa);
		cb = fgetc(fb);
		same = ca == cb;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/* 8 MiB raw source: random data in clusters 0-2 and a few bytes in 6. */
static void make_source(const char *p)
{
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	u8 buf[4096];
	unsigned i, j;

	srand(42);
	for (i = 0; i < 3 * 256; i++) {
		for (j = 0; j < sizeof(buf); j++)
			buf[j] = (u8)rand();
		CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf));
	}
	CHECK(pwrite(fd, "hello", 5, 6 * 1048576 + 12345) == 5);
	CHECK(ftruncate(fd, 8 << 20) == 0);
	close(fd);
}

static void test_round_trip(void)
{
	char src[300], hdd[300], back[300], err[300];
	struct hdd_stats st;
	struct block_dev *bd;
	struct stat sb;

	make_source(tmp(src, "src.raw"));
	CHECK_EQ(disk("convert", src, tmp(hdd, "out.hdd"), NULL, NULL), 0);
	CHECK_EQ(block_open(hdd, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
		 0);
	CHECK_EQ(hdd_stats(bd, &st), 0);
	CHECK_EQ(st.allocated, 4); /* the non-zero clusters only */
	CHECK(!hdd_cluster_allocated(bd, 4 << 20));
	block_close(bd);
	CHECK_EQ(disk("convert", hdd, tmp(back, "back.raw"), NULL, NULL), 0);
	CHECK(same_files(src, back));
	CHECK_EQ(stat(back, &sb), 0);
	CHECK((u64)sb.st_blocks * 512 < (5u << 20)); /* stayed sparse */
	/* An existing destination needs --force. */
	CHECK_EQ(disk("convert", hdd, back, NULL, NULL), CLI_EXIT_ERROR);
	CHECK_EQ(disk("convert", "--force", hdd, back, NULL), 0);
	CHECK(same_files(src, back));
}

static void test_create_info_check_resize(void)
{
	char p[300], r[300], err[300];
	struct block_dev *bd;
	int fd;

	CHECK_EQ(disk("create", "--cluster-size", "64K", tmp(p, "c.hdd"), "4M"),
		 0);
	CHECK_EQ(disk("info", p, NULL, NULL, NULL), 0);
	CHECK_EQ(disk("check", p, NULL, NULL, NULL), 0);
	CHECK_EQ(disk("create", p, "4M", NULL, NULL), CLI_EXIT_ERROR);
	CHECK_EQ(disk("create", "--force", p, "4M", NULL), 0);
	/* A leaked cluster: status 3, then repaired. */
	fd = open(p, O_RDWR);
	CHECK(ftruncate(fd, 3 << 20) == 0);
	close(fd);
	CHECK_EQ(disk("check", p, NULL, NULL, NULL), 3);
	CHECK_EQ(disk("check", "--repair", p, NULL, NULL), 0);
	CHECK_EQ(disk("check", p, NULL, NULL, NULL), 0);
	/* The in-use flag left by a crash is no corruption: status 3. */
	fd = open(p, O_RDWR);
	CHECK(pwrite(fd, "Ynot", 4, 44) == 4);
	close(fd);
	CHECK_EQ(disk("check", p, NULL, NULL, NULL), 3);
	CHECK_EQ(disk("resize", p, "8M", NULL, NULL), CLI_EXIT_ERROR);
	CHECK_EQ(disk("check", "--repair", p, NULL, NULL), 0);
	CHECK_EQ(disk("resize", p, "8M", NULL, NULL), 0);
	CHECK_EQ(block_open(p, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bd->size, 8 << 20);
	block_close(bd);
	CHECK_EQ(disk("create", "--format", "raw", tmp(r, "r.img"), "1M"), 0);
	CHECK_EQ(disk("resize", r, "2M", NULL, NULL), 0);
	CHECK_EQ(disk("resize", r, "1M", NULL, NULL), CLI_EXIT_ERROR);
	CHECK_EQ(disk("info", r, NULL, NULL, NULL), 0);
	CHECK_EQ(disk("check", r, NULL, NULL, NULL), 0);
}

/* Does the image at path read exactly like the file ref? */
static bool reads_like(const char *path, const char *ref)
{
	struct block_dev *bd;
	char err[300];
	u8 a[65536], b[65536];
	bool same;
	u64 off;
	int fd = open(ref, O_RDONLY);
	struct stat sb;

	CHECK(fd >= 0);
	CHECK_EQ(fstat(fd, &sb), 0);
	CHECK_EQ(block_open(path, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
		 0);
	same = bd->size == (u64)sb.st_size;
	for (off = 0; same && off < bd->size; off += sizeof(a)) {
		size_t n = (size_t)MIN((u64)sizeof(a), bd->size - off);

		same = !block_read(bd, off, a, n) &&
		       pread(fd, b, n, (off_t)off) == (ssize_t)n &&
		       !memcmp(a, b, n);
	}
	block_close(bd);
	close(fd);
	return same;
}

static void test_bundle(void)
{
	char src[300], b[300], back[300], hds[400], err[300];
	struct bundle_stats st;
	struct block_dev *bd;
	struct stat sb;

	make_source(tmp(src, "bsrc.raw"));
	CHECK_EQ(disk("convert", "-O", "bundle", src, tmp(b, "bout.hdd")), 0);
	CHECK(bundle_probe(b));
	/* It opens back identically, and only non-zero clusters are used. */
	CHECK(reads_like(b, src));
	CHECK_EQ(block_open(b, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bundle_stats(bd, &st), 0);
	CHECK_EQ(st.images, 1);
	CHECK(!st.plain);
	CHECK_EQ(st.top_hdd.allocated, 4);
	snprintf(hds, sizeof(hds), "%s", st.top);
	block_close(bd);
	CHECK_EQ(disk("info", b, NULL, NULL, NULL), 0);
	CHECK_EQ(disk("check", b, NULL, NULL, NULL), 0);
	CHECK_EQ(disk("convert", b, tmp(back, "bback.raw"), NULL, NULL), 0);
	CHECK(same_files(src, back));
	CHECK_EQ(stat(back, &sb), 0);
	CHECK((u64)sb.st_blocks * 512 < (5u << 20)); /* stayed sparse */
	/* The in-use flag of a crash inside a bundle: status 3, repaired. */
	{
		int fd = open(hds, O_RDWR);

		CHECK(pwrite(fd, "Ynot", 4, 44) == 4);
		close(fd);
	}
	CHECK_EQ(disk("check", b, NULL, NULL, NULL), 3);
	CHECK_EQ(disk("check", "--repair", b, NULL, NULL), 0);
	CHECK_EQ(disk("check", b, NULL, NULL, NULL), 0);
	/* create: an empty bundle, never over an existing one unasked. */
	CHECK_EQ(disk("create", "--format", "bundle", tmp(b, "new.hdd"), "3M"),
		 0);
	CHECK_EQ(disk("create", "--format", "bundle", b, "3M"), CLI_EXIT_ERROR);
	CHECK_EQ(disk6("create", "--force", "-O", "bundle", b, "5M"), 0);
	CHECK_EQ(block_open(b, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bd->size, 5 << 20);
	block_close(bd);
	CHECK_EQ(disk("resize", b, "8M", NULL, NULL), CLI_EXIT_ERROR);
	/* A size that is no multiple of 16 x 32 sectors still opens. */
	CHECK_EQ(disk("create", "--format", "bundle", tmp(b, "odd.hdd"),
		      "1001K"),
		 0);
	CHECK_EQ(block_open(b, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bd->size, 1001 * 1024);
	block_close(bd);
}

/* Run convert with stderr on fd; restores stderr. */
static int convert_with_stderr(int fd, const char *src, const char *dst)
{
	int saved = dup(STDERR_FILENO), r;

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	r = disk("convert", "--force", src, dst, NULL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return r;
}

static void test_progress(void)
{
	char src[300], dst[300], out[300], buf[4096];
	struct pollfd pfd;
	size_t got = 0;
	struct stat sb;
	int fd, m, sl;

	make_source(tmp(src, "psrc.raw"));
	/* Not a terminal: nothing at all on stderr. */
	fd = open(tmp(out, "stderr.txt"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(convert_with_stderr(fd, src, tmp(dst, "p.hdd")), 0);
	CHECK_EQ(fstat(fd, &sb), 0);
	CHECK_EQ(sb.st_size, 0);
	close(fd);
	/* A terminal: the bar reaches 100%. */
	m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0 && !grantpt(m) && !unlockpt(m));
	sl = open(ptsname(m), O_RDWR | O_NOCTTY);
	CHECK(sl >= 0);
	CHECK_EQ(convert_with_stderr(sl, src, dst), 0);
	pfd.fd = m;
	pfd.events = POLLIN;
	while (got < sizeof(buf) - 1 && poll(&pfd, 1, 200) == 1) {
		ssize_t n = read(m, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	CHECK(strstr(buf, "100/100%") != NULL);
	close(sl);
	close(m);
}

/* A second writer is refused with the holder's pid in the message. */
static void test_lock_names_holder(void)
{
	char p[300], err[300], want[64];
	struct block_dev *bd, *bd2 = NULL;

	CHECK_EQ(disk("create", tmp(p, "lock.hdd"), "1M", NULL, NULL), 0);
	CHECK_EQ(block_open(p, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(block_open(p, 0, &bd2, err, sizeof(err)), -EBUSY);
	snprintf(want, sizeof(want), "in use by another process (pid %ld)",
		 (long)getpid());
	CHECK(strstr(err, want) != NULL);
	CHECK(!strchr(err, '\n'));
	block_close(bd);
	CHECK_EQ(block_open(p, 0, &bd2, err, sizeof(err)), 0);
	block_close(bd2);
}

static void test_bad_input(void)
{
	char p[300];

	CHECK_EQ(disk("info", tmp(p, "missing.hdd"), NULL, NULL, NULL),
		 CLI_EXIT_ERROR);
	CHECK_EQ(disk("check", p, NULL, NULL, NULL), CLI_EXIT_ERROR);
	CHECK_EQ(disk("create", p, "12X", NULL, NULL), CLI_EXIT_USAGE);
	CHECK_EQ(disk("create", p, NULL, NULL, NULL), CLI_EXIT_USAGE);
	CHECK_EQ(disk("create", "--cluster-size", "1000", p, "1M"),
		 CLI_EXIT_USAGE);
	CHECK_EQ(disk("convert", "-O", "qcow2", p, p), CLI_EXIT_USAGE);
	CHECK_EQ(disk("frobnicate", NULL, NULL, NULL, NULL), CLI_EXIT_USAGE);
	CHECK_EQ(disk("info", "--bogus", p, NULL, NULL), CLI_EXIT_USAGE);
	CHECK(access(p, F_OK) != 0);
}

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

/* Images made by QEMU read the same here, and ours pass qemu-img check. */
static void test_qemu_interop(void)
{
	char q[300], qraw[300], ours[300], src[300];

	if (system("command -v qemu-img >/dev/null && "
		   "command -v qemu-io >/dev/null")) {
		printf("SKIPPED: qemu-img not installed\n");
		return;
	}
	tmp(q, "q.hdd");
	CHECK_EQ(sh("qemu-img create -q -f parallels %s 16M", q, NULL), 0);
	CHECK_EQ(sh("qemu-io -f parallels -c 'write -P 0xab 0 1M' -c "
		    "'write -P 0xcd 9M 4k' %s >/dev/null",
		    q, NULL),
		 0);
	CHECK_EQ(sh("qemu-img convert -f parallels -O raw %s %s", q,
		    tmp(qraw, "q.raw")),
		 0);
	CHECK_EQ(disk("convert", q, tmp(ours, "q2.raw"), NULL, NULL), 0);
	CHECK(same_files(qraw, ours));
	CHECK_EQ(disk("check", q, NULL, NULL, NULL), 0);

	make_source(tmp(src, "isrc.raw"));
	CHECK_EQ(disk("convert", src, tmp(ours, "ours.hdd"), NULL, NULL), 0);
	CHECK_EQ(sh("qemu-img check -q -f parallels %s", ours, NULL), 0);
	CHECK_EQ(sh("qemu-img compare -q -f raw -F parallels %s %s", src, ours),
		 0);
	/* QEMU reads a bundle's .hds (not the bundle itself). */
	CHECK_EQ(disk("convert", "-O", "bundle", src, tmp(ours, "qb.hdd")), 0);
	CHECK_EQ(sh("qemu-img check -q -f parallels "
		    "%s/qb.hdd.0.'" BUNDLE_DEFAULT_TOP "'.hds",
		    ours, NULL),
		 0);
	CHECK_EQ(sh("qemu-img compare -q -f raw -F parallels %s "
		    "%s/qb.hdd.0.'" BUNDLE_DEFAULT_TOP "'.hds",
		    src, ours),
		 0);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN_TEST(test_round_trip);
	RUN_TEST(test_create_info_check_resize);
	RUN_TEST(test_bundle);
	RUN_TEST(test_progress);
	RUN_TEST(test_lock_names_holder);
	RUN_TEST(test_bad_input);
	RUN_TEST(test_qemu_interop);
	sh("rm -rf %s", tmpdir, NULL);
	return unit_summary();
}

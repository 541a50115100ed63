// SPDX-License-Identifier: MIT
/*
 * `twoostwo disk`: create, inspect, check, convert and grow disk images
 * (raw, Parallels .hdd and Parallels bundle directories). Every error is
 * one line on stderr and a non-zero status; `check` uses qemu-img's
 * statuses (see disk_usage).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/bundle.h"
#include "block/hdd.h"
#include "cli/cli.h"

#define DISK_CHECK_CORRUPT 2
#define DISK_CHECK_LEAKS 3
#define DISK_RAW_BLOCK 4096u

struct disk_args {
	const char *format; /* --format / -O, NULL: by file name */
	u64 cluster;
	bool force;
	bool repair;
	bool help;
	const char *pos[2];
	int npos;
};

static void disk_usage(FILE *out)
{
	fputs("usage: twoostwo disk create [--format raw|hdd|bundle] "
	      "[--cluster-size SIZE] [--force] FILE SIZE\n"
	      "       twoostwo disk info FILE\n"
	      "       twoostwo disk check [--repair] FILE\n"
	      "       twoostwo disk convert [-O raw|hdd|bundle] "
	      "[--cluster-size SIZE] [--force] SRC DST\n"
	      "       twoostwo disk resize FILE SIZE\n"
	      "\n"
	      "SIZE is a number with a K, M or G suffix; a bare number is "
	      "MiB.\n"
	      "The format defaults to hdd for names ending in .hdd or .hds, "
	      "else raw.\n"
	      "Parallels images are made as QEMU makes them (v2 header, 1M "
	      "clusters).\n"
	      "A bundle is a directory FILE holding DiskDescriptor.xml and "
	      "one\nexpanding .hds image; info, check and convert read "
	      "bundles too.\n"
	      "Progress is shown on stderr when it is a terminal.\n"
	      "Existing files are never overwritten without --force.\n"
	      "resize only grows an image.\n"
	      "\n"
	      "check exits 0 if the image is clean, 1 if it cannot be "
	      "checked,\n"
	      "2 if corruptions remain (bad or duplicated BAT entries),\n"
	      "3 if only leaked clusters or the in-use flag of a crash "
	      "remain.\n"
	      "--repair fixes what it reports.\n",
	      out);
}

static int disk_fail(const char *msg)
{
	fprintf(stderr, "twoostwo: %s\n", msg);
	return CLI_EXIT_ERROR;
}

static int disk_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "twoostwo: disk: %s%s%s (try 'twoostwo disk --help')\n",
		what, arg ? " " : "", arg ? arg : "");
	return CLI_EXIT_USAGE;
}

static int disk_parse_option(int argc, char **argv, int *i, struct disk_args *a)
{
	const char *o = argv[*i];

	if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
		a->help = true;
	} else if (!strcmp(o, "--force") || !strcmp(o, "-f")) {
		a->force = true;
	} else if (!strcmp(o, "--repair")) {
		a->repair = true;
	} else if (!strcmp(o, "--format") || !strcmp(o, "-O")) {
		if (++*i >= argc)
			return disk_usage_error("missing value for", o);
		a->format = argv[*i];
		if (strcmp(a->format, "raw") && strcmp(a->format, "hdd") &&
		    strcmp(a->format, "bundle"))
			return disk_usage_error("unknown format", a->format);
	} else if (!strcmp(o, "--cluster-size")) {
		if (++*i >= argc)
			return disk_usage_error("missing value for", o);
		if (cli_parse_size(argv[*i], &a->cluster) || !a->cluster ||
		    a->cluster % HDD_SECTOR || a->cluster > HDD_MAX_CLUSTER)
			return disk_usage_error("bad cluster size (a multiple "
						"of 512 up to 256M):",
						argv[*i]);
	} else {
		return disk_usage_error("unknown option", o);
	}
	return 0;
}

/* argv[0] is the subcommand; want is how many operands it takes. */
static int disk_parse(int argc, char **argv, int want, struct disk_args *a)
{
	int i, r;

	memset(a, 0, sizeof(*a));
	a->cluster = HDD_DEFAULT_CLUSTER;
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			r = disk_parse_option(argc, argv, &i, a);
			if (r)
				return r;
			continue;
		}
		if (a->npos >= want)
			return disk_usage_error("unexpected argument", argv[i]);
		a->pos[a->npos++] = argv[i];
	}
	if (!a->help && a->npos < want)
		return disk_usage_error("missing operand", NULL);
	return 0;
}

static const char *disk_format_for(const struct disk_args *a, const char *path)
{
	size_t n = strlen(path);

	if (a->format)
		return a->format;
	if (n > 4 &&
	    (!strcmp(path + n - 4, ".hdd") || !strcmp(path + n - 4, ".hds")))
		return "hdd";
	return "raw";
}

static int disk_size_arg(const char *s, u64 *size)
{
	if (cli_parse_size(s, size) || !*size)
		return disk_usage_error("bad size", s);
	return 0;
}

/* A new raw file of size bytes, sparse; its fd or -1 after a message. */
static int disk_create_raw(const char *path, u64 size, bool force)
{
	int fd = open(path,
		      O_RDWR | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL),
		      0644);
	char err[600];

	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		snprintf(err, sizeof(err), "%s: %s%s", path, strerror(errno),
			 errno == EEXIST ? " (use --force to overwrite)" : "");
		disk_fail(err);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int disk_create(int argc, char **argv)
{
	struct disk_args a;
	char err[600];
	u64 size;
	int r = disk_parse(argc, argv, 2, &a), fd;

	if (r || a.help) {
		if (a.help)
			disk_usage(stdout);
		return r;
	}
	if (disk_size_arg(a.pos[1], &size))
		return CLI_EXIT_USAGE;
	if (!strcmp(disk_format_for(&a, a.pos[0]), "raw")) {
		fd = disk_create_raw(a.pos[0], size, a.force);
		if (fd < 0)
			return CLI_EXIT_ERROR;
		close(fd);
		return 0;
	}
	if (!strcmp(disk_format_for(&a, a.pos[0]), "bundle"))
		r = bundle_create(a.pos[0], size, a.cluster, a.force, err,
				  sizeof(err));
	else
		r = hdd_create(a.pos[0], size, a.cluster, a.force, err,
			       sizeof(err));
	if (r == -EEXIST)
		strncat(err, " (use --force to overwrite)",
			sizeof(err) - strlen(err) - 1);
	return r ? disk_fail(err) : 0;
}

static void disk_print_hdd_stats(const struct hdd_stats *st)
{
	printf("allocated size: %llu bytes (%llu clusters)\n",
	       (unsigned long long)(st->allocated * st->cluster),
	       (unsigned long long)st->allocated);
	printf("cluster size: %llu bytes\n", (unsigned long long)st->cluster);
	printf("dirty: %s\n", st->dirty ? "yes (not closed cleanly)" : "no");
}

static int disk_info_hdd(struct block_dev *bd)
{
	struct hdd_stats st;

	if (hdd_stats(bd, &st))
		return disk_fail("internal error: not a Parallels image");
	printf("format: hdd (Parallels v%d)\n", st.version);
	printf("virtual size: %llu bytes\n", (unsigned long long)bd->size);
	disk_print_hdd_stats(&st);
	return 0;
}

static int disk_info_bundle(struct block_dev *bd)
{
	struct bundle_stats st;
	struct stat sb;

	if (bundle_stats(bd, &st))
		return disk_fail("internal error: not a Parallels bundle");
	printf("format: bundle (Parallels, %u image%s in the snapshot "
	       "chain)\n",
	       st.images, st.images == 1 ? "" : "s");
	printf("top image: %s (%s)\n", st.top,
	       st.plain ? "Plain" : "Compressed");
	printf("virtual size: %llu bytes\n", (unsigned long long)bd->size);
	if (!st.plain) {
		disk_print_hdd_stats(&st.top_hdd);
	} else if (!stat(st.top, &sb)) {
		printf("allocated size: %llu bytes\n",
		       (unsigned long long)sb.st_blocks * 512);
	}
	return 0;
}

static int disk_info(int argc, char **argv)
{
	struct disk_args a;
	struct block_dev *bd;
	struct stat st;
	char err[600];
	int r = disk_parse(argc, argv, 1, &a);

	if (r || a.help) {
		if (a.help)
			disk_usage(stdout);
		return r;
	}
	if (block_open(a.pos[0], BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)))
		return disk_fail(err);
	printf("image: %s\n", a.pos[0]);
	if (!strcmp(bd->ops->format, "hdd")) {
		r = disk_info_hdd(bd);
	} else if (!strcmp(bd->ops->format, "parallels-bundle")) {
		r = disk_info_bundle(bd);
	} else {
		printf("format: raw\n");
		printf("virtual size: %llu bytes\n",
		       (unsigned long long)bd->size);
		if (!fstat(bd->fd, &st))
			printf("allocated size: %llu bytes\n",
			       (unsigned long long)st.st_blocks * 512);
	}
	block_close(bd);
	return r;
}

/* Add the findings of one image of a bundle to the bundle's. */
static void disk_check_add(struct hdd_check_result *sum,
			   const struct hdd_check_result *one)
{
	sum->corruptions += one->corruptions;
	sum->leaks += one->leaks;
	sum->unclean += one->unclean;
	sum->repaired += one->repaired;
	sum->remaining += one->remaining;
}

/* Check every Parallels image of a bundle's chain; raw ones have nothing. */
static int disk_check_bundle(const char *dir, bool repair,
			     struct hdd_check_result *res, char *err,
			     size_t errlen)
{
	struct hdd_check_result one;
	struct bundle_files f;
	unsigned i;
	int r = bundle_files(dir, &f, err, errlen);

	memset(res, 0, sizeof(*res));
	for (i = 0; !r && i < f.n; i++) {
		if (f.plain[i]) {
			printf("%s: raw image, nothing to check\n", f.path[i]);
			continue;
		}
		printf("%s:\n", f.path[i]);
		r = hdd_check(f.path[i], repair, stdout, &one, err, errlen);
		if (!r)
			disk_check_add(res, &one);
	}
	bundle_files_free(&f);
	return r;
}

static int disk_check(int argc, char **argv)
{
	struct hdd_check_result res;
	struct disk_args a;
	struct block_dev *bd;
	char err[600];
	int r = disk_parse(argc, argv, 1, &a);

	if (r || a.help) {
		if (a.help)
			disk_usage(stdout);
		return r;
	}
	if (bundle_probe(a.pos[0])) {
		if (disk_check_bundle(a.pos[0], a.repair, &res, err,
				      sizeof(err)))
			return disk_fail(err);
	} else if (!block_file_is_hdd(a.pos[0])) {
		/* Only the magic is read here: a broken header is check's. */
		if (block_open_raw(a.pos[0], BLOCK_OPEN_READ_ONLY, &bd, err,
				   sizeof(err)))
			return disk_fail(err);
		block_close(bd);
		printf("%s: raw image, nothing to check\n", a.pos[0]);
		return 0;
	} else if (hdd_check(a.pos[0], a.repair, stdout, &res, err,
			     sizeof(err))) {
		return disk_fail(err);
	}
	if (!res.corruptions && !res.leaks && !res.unclean) {
		printf("No errors were found on the image.\n");
		return 0;
	}
	printf("%u corruption(s), %u leaked cluster(s), %s, %u repaired\n",
	       res.corruptions, res.leaks,
	       res.unclean ? "not closed cleanly" : "closed cleanly",
	       res.repaired);
	if (!res.remaining)
		return 0;
	return res.corruptions ? DISK_CHECK_CORRUPT : DISK_CHECK_LEAKS;
}

static bool disk_is_zero(const u8 *p, size_t n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

static void disk_progress(u64 done, u64 total, int *last)
{
	int pct = (int)(done * 100 / total);

	if (pct == *last)
		return;
	*last = pct;
	fprintf(stderr, "\r    (%3d/100%%)", pct);
	if (pct == 100)
		fputc('\n', stderr);
}

/* Where convert writes: a raw fd or an open Parallels image or bundle. */
struct disk_sink {
	int fd;
	struct block_dev *img;
};

static int disk_sink_write(struct disk_sink *s, u64 off, const u8 *buf,
			   size_t n)
{
	size_t i, k;

	if (s->img)
		return disk_is_zero(buf, n) ? 0 :
					      block_write(s->img, off, buf, n);
	for (i = 0; i < n; i += k) {
		k = MIN(n - i, (size_t)DISK_RAW_BLOCK);
		if (!disk_is_zero(buf + i, k) &&
		    pwrite(s->fd, buf + i, k, (off_t)(off + i)) != (ssize_t)k)
			return errno ? -errno : -EIO;
	}
	return 0;
}

static int disk_copy(struct block_dev *src, struct disk_sink *s, u64 chunk)
{
	u8 *buf = malloc(chunk);
	bool tty = isatty(STDERR_FILENO);
	int last = -1, r = buf ? 0 : -ENOMEM;
	u64 off;

	for (off = 0; !r && off < src->size; off += chunk) {
		size_t n = (size_t)MIN(chunk, src->size - off);

		r = block_read(src, off, buf, n);
		if (!r)
			r = disk_sink_write(s, off, buf, n);
		if (tty)
			disk_progress(off + n, src->size, &last);
	}
	free(buf);
	return r;
}

static int disk_open_sink(const struct disk_args *a, u64 size,
			  struct disk_sink *s)
{
	const char *dst = a->pos[1];
	char err[600];
	int r;

	s->img = NULL;
	s->fd = -1;
	if (!strcmp(disk_format_for(a, dst), "raw")) {
		s->fd = disk_create_raw(dst, size, a->force);
		return s->fd < 0 ? -1 : 0;
	}
	if (!strcmp(disk_format_for(a, dst), "bundle"))
		r = bundle_create(dst, size, a->cluster, a->force, err,
				  sizeof(err));
	else
		r = hdd_create(dst, size, a->cluster, a->force, err,
			       sizeof(err));
	if (r == -EEXIST)
		strncat(err, " (use --force to overwrite)",
			sizeof(err) - strlen(err) - 1);
	if (!r)
		r = block_open(dst, 0, &s->img, err, sizeof(err));
	if (r)
		disk_fail(err);
	return r;
}

static int disk_close_sink(struct disk_sink *s)
{
	int r = 0;

	if (s->img) {
		r = block_flush(s->img);
		block_close(s->img);
	} else if (s->fd >= 0) {
		r = fdatasync(s->fd) ? -errno : 0;
		close(s->fd);
	}
	return r;
}

static int disk_convert(int argc, char **argv)
{
	struct disk_args a;
	struct disk_sink sink;
	struct block_dev *src;
	char err[600];
	int r = disk_parse(argc, argv, 2, &a), w;

	if (r || a.help) {
		if (a.help)
			disk_usage(stdout);
		return r;
	}
	if (block_open(a.pos[0], BLOCK_OPEN_READ_ONLY, &src, err, sizeof(err)))
		return disk_fail(err);
	if (disk_open_sink(&a, src->size, &sink)) {
		block_close(src);
		return CLI_EXIT_ERROR;
	}
	r = disk_copy(src, &sink, sink.img ? a.cluster : HDD_DEFAULT_CLUSTER);
	w = disk_close_sink(&sink);
	block_close(src);
	if (r || w) {
		snprintf(err, sizeof(err), "%s: convert failed: %s", a.pos[1],
			 strerror(-(r ? r : w)));
		return disk_fail(err);
	}
	return 0;
}

static int disk_resize_raw(const char *path, u64 size)
{
	struct block_dev *bd;
	char err[600];
	int r;

	if (block_open(path, 0, &bd, err, sizeof(err)))
		return disk_fail(err);
	if (size < bd->size)
		r = snprintf(err, sizeof(err),
			     "%s: shrinking an image is not supported", path);
	else if (ftruncate(bd->fd, (off_t)size))
		r = snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
	else
		r = 0;
	block_close(bd);
	return r ? disk_fail(err) : 0;
}

static int disk_resize(int argc, char **argv)
{
	struct disk_args a;
	struct block_dev *bd;
	char err[600];
	u64 size;
	bool hdd, bundle;
	int r = disk_parse(argc, argv, 2, &a);

	if (r || a.help) {
		if (a.help)
			disk_usage(stdout);
		return r;
	}
	if (disk_size_arg(a.pos[1], &size))
		return CLI_EXIT_USAGE;
	if (block_open(a.pos[0], BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)))
		return disk_fail(err);
	hdd = !strcmp(bd->ops->format, "hdd");
	bundle = !strcmp(bd->ops->format, "parallels-bundle");
	block_close(bd);
	if (bundle) {
		snprintf(err, sizeof(err),
			 "%s: resizing a bundle is not supported", a.pos[0]);
		return disk_fail(err);
	}
	if (!hdd)
		return disk_resize_raw(a.pos[0], size);
	return hdd_resize(a.pos[0], size, err, sizeof(err)) ? disk_fail(err) :
							      0;
}

static const struct cli_command disk_commands[] = {
	{"create", disk_create, "make a new empty image"},
	{"info", disk_info, "show format, sizes and state"},
	{"check", disk_check, "check (and --repair) a Parallels image"},
	{"convert", disk_convert, "copy an image into another format"},
	{"resize", disk_resize, "grow an image"},
};

int cli_cmd_disk(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		disk_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		disk_usage(stdout);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(disk_commands); i++)
		if (!strcmp(argv[1], disk_commands[i].name))
			return disk_commands[i].run(argc - 1, argv + 1);
	return disk_usage_error("unknown subcommand", argv[1]);
}

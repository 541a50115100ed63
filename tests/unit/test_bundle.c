// SPDX-License-Identifier: MIT
/*
 * Parallels bundles (HARDWARE.md section 1): a DiskDescriptor.xml and its
 * .hds images opened through block_open, snapshot chains falling through
 * to the parent, and every malformed descriptor refused with one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/bundle.h"
#include "block/hdd.h"
#include "unit.h"

#define SECTORS 2048u /* 4 cylinders x 16 heads x 32 sectors */
#define SIZE ((u64)SECTORS * 512)
#define CL 4096u
#define G1 "{11111111-2222-3333-4444-555555555555}"
#define G2 "{5fbaabe3-6958-40ff-92a7-860e329aab41}"

static char tmpdir[] = "/tmp/twoostwo-bundle-XXXXXX";
static char dir[300];

static const char *in_dir(const char *name)
{
	static char p[400];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void new_bundle(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	CHECK(!mkdir(dir, 0700));
}

static void write_desc(const char *xml)
{
	FILE *f = fopen(in_dir(BUNDLE_DESCRIPTOR), "w");

	CHECK(f != NULL);
	fputs(xml, f);
	fclose(f);
}

/* A descriptor with standard parameters and the given Image/Shot parts. */
static void write_std(const char *images, const char *snaps)
{
	char xml[4096];

	snprintf(xml, sizeof(xml),
		 "<?xml version='1.0' encoding='UTF-8'?>\n"
		 "<Parallels_disk_image Version=\"1.0\">\n"
		 " <Disk_Parameters><Disk_size>%u</Disk_size>"
		 "<Cylinders>4</Cylinders><Heads>16</Heads>"
		 "<Sectors>32</Sectors><Padding>0</Padding>"
		 "</Disk_Parameters>\n"
		 " <StorageData><Storage><Start>0</Start><End>%u</End>"
		 "<Blocksize>8</Blocksize>%s</Storage></StorageData>\n"
		 " <Snapshots>%s</Snapshots>\n"
		 "</Parallels_disk_image>\n",
		 SECTORS, SECTORS, images, snaps);
	write_desc(xml);
}

static void make_hds(const char *name)
{
	char err[200];

	CHECK_EQ(hdd_create(in_dir(name), SIZE, CL, false, err, sizeof(err)),
		 0);
}

static void fill(const char *name, u64 off, u8 v, size_t len)
{
	struct block_dev *bd;
	char err[200];
	u8 *buf = malloc(len);

	memset(buf, v, len);
	CHECK_EQ(block_open(in_dir(name), 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(block_write(bd, off, buf, len), 0);
	block_close(bd);
	free(buf);
}

static bool all_is(const u8 *b, size_t len, u8 v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != v)
			return false;
	return true;
}

static void test_single_compressed(void)
{
	struct block_dev *bd;
	char err[200];
	u8 buf[1024];

	new_bundle("one.hdd");
	make_hds("a.hds");
	write_std("<Image><GUID>" G2 "</GUID><Type>Compressed</Type>"
		  "<File>a.hds</File></Image>",
		  "<Shot><GUID>" G2 "</GUID><ParentGUID>" BUNDLE_ROOT_PARENT
		  "</ParentGUID></Shot>");
	CHECK_EQ(block_open(dir, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	CHECK_EQ(bd->size, SIZE);
	CHECK_STR(bd->ops->format, "parallels-bundle");
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(block_write(bd, 1000, buf, sizeof(buf)), 0);
	block_close(bd);
	CHECK_EQ(block_open(dir, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
		 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(block_read(bd, 1000, buf, sizeof(buf)), 0);
	CHECK(all_is(buf, sizeof(buf), 0x5a));
	CHECK_EQ(block_write(bd, 0, buf, 512), -EROFS);
	block_close(bd);
}

/* bundle_create makes what block_open_bundle reads; its files are listed. */
static void test_create(void)
{
	struct bundle_files f;
	struct block_dev *bd;
	char err[300], xml[4096];
	u8 buf[512];
	size_t n;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/made.hdd", tmpdir);
	CHECK_EQ(bundle_create(dir, SIZE, CL, false, err, sizeof(err)), 0);
	CHECK(bundle_probe(dir));
	CHECK_EQ(bundle_create(dir, SIZE, CL, false, err, sizeof(err)),
		 -EEXIST);
	CHECK(!strchr(err, '\n'));
	CHECK_EQ(block_open(dir, 0, &bd, err, sizeof(err)), 0);
	CHECK_EQ(bd->size, SIZE);
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(block_write(bd, SIZE - 512, buf, sizeof(buf)), 0);
	block_close(bd);
	CHECK_EQ(bundle_files(dir, &f, err, sizeof(err)), 0);
	CHECK_EQ(f.n, 1);
	CHECK(!f.plain[0]);
	CHECK(strstr(f.path[0], "made.hdd.0." BUNDLE_DEFAULT_TOP ".hds") !=
	      NULL);
	bundle_files_free(&f);
	CHECK_EQ(block_open(dir, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
		 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(block_read(bd, SIZE - 512, buf, sizeof(buf)), 0);
	CHECK(all_is(buf, sizeof(buf), 0x5a));
	block_close(bd);
	/* The descriptor alone, as the fuzzer feeds it. */
	fp = fopen(in_dir(BUNDLE_DESCRIPTOR), "r");
	CHECK(fp != NULL);
	n = fread(xml, 1, sizeof(xml), fp);
	fclose(fp);
	CHECK_EQ(bundle_check_descriptor(xml, n, dir, err, sizeof(err)), 0);
	/* The fuzzer's first finding: a GUID with a line break in a message. */
	{
		static const char nl[] =
			"<Parallels_disk_image "
			"Version=\"1.0\"><Disk_Parameters>"
			"<Disk_size>2048</Disk_size><Cylinders>4</Cylinders>"
			"<Heads>16</Heads><Sectors>32</Sectors>"
			"</Disk_Parameters><StorageData><Storage><Start>0"
			"</Start><End>2048</End><Blocksize>8</Blocksize>"
			"<Image><GUID>" G2 "</GUID><Type>Compressed</Type>"
			"<File>a.hds</File></Image></Storage></StorageData>"
			"<Snapshots><TopGUID>{000\n\n}</TopGUID></Snapshots>"
			"</Parallels_disk_image>";

		CHECK_EQ(bundle_check_descriptor(nl, sizeof(nl) - 1, dir, err,
						 sizeof(err)),
			 -EINVAL);
		CHECK(err[0] && !strchr(err, '\n'));
	}
}

static void test_plain(void)
{
	struct block_dev *bd;
	char err[200];
	u8 buf[512];
	int fd;

	new_bundle("plain.hdd");
	fd = open(in_dir("p.hds"), O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	CHECK(!ftruncate(fd, (off_t)SIZE));
	memset(buf, 0x77, sizeof(buf));
	CHECK(pwrite(fd, buf, sizeof(buf), 512 * 7) == 512);
	close(fd);
	write_std("<Image><GUID>" G1 "</GUID><Type>Plain</Type>"
		  "<File>p.hds</File></Image>",
		  "<TopGUID>" G1 "</TopGUID><Shot><GUID>" G1 "</GUID>"
		  "<ParentGUID>" BUNDLE_ROOT_PARENT "</ParentGUID></Shot>");
	CHECK_EQ(block_open(dir, 0, &bd, err, sizeof(err)), 0);
	if (!bd)
		return;
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(block_read(bd, 512 * 7, buf, sizeof(buf)), 0);
	CHECK(all_is(buf, sizeof(buf), 0x77));
	block_close(bd);
}

/* Parent: 0x11 over the first 3 clusters; top overrides 1000..1999. */
static void test_chain(void)
{
	struct block_dev *bd;
	char err[200];
	u8 *buf = malloc(4 * CL);

	new_bundle("chain.hdd");
	make_hds("base.hds");
	make_hds("top.hds");
	fill("base.hds", 0, 0x11, 3 * CL);
	write_std("<Image><GUID>" G1 "</GUID><Type>Compressed</Type>"
		  "<File>base.hds</File></Image>"
		  "<Image><GUID>" G2 "</GUID><Type>Compressed</Type>"
		  "<File>top.hds</File></Image>",
		  "<Shot><GUID>" G1 "</GUID><ParentGUID>" BUNDLE_ROOT_PARENT
		  "</ParentGUID></Shot>"
		  "<Shot><GUID>" G2 "</GUID><ParentGUID>" G1
		  "</ParentGUID></Shot>");
	CHECK_EQ(block_open(dir, 0, &bd, err, sizeof(err)), 0);
	if (!bd) {
		free(buf);
		return;
	}
	memset(buf, 0x22, 1000);
	CHECK_EQ(block_write(bd, 1000, buf, 1000), 0);
	CHECK_EQ(block_read(bd, 0, buf, 4 * CL), 0);
	CHECK(all_is(buf, 1000, 0x11));
	CHECK(all_is(buf + 1000, 1000, 0x22));
	CHECK(all_is(buf + 2000, 3 * CL - 2000, 0x11));
	CHECK(all_is(buf + 3 * CL, CL, 0));
	/* Across a cluster boundary, then read back after a reopen. */
	memset(buf, 0x33, 200);
	CHECK_EQ(block_write(bd, 3 * CL - 100, buf, 200), 0);
	block_close(bd);
	CHECK_EQ(block_open(dir, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)),
		 0);
	CHECK_EQ(block_read(bd, 0, buf, 4 * CL), 0);
	CHECK(all_is(buf, 1000, 0x11));
	CHECK(all_is(buf + 1000, 1000, 0x22));
	CHECK(all_is(buf + 2000, 3 * CL - 2100, 0x11));
	CHECK(all_is(buf + 3 * CL - 100, 200, 0x33));
	CHECK(all_is(buf + 3 * CL + 100, CL - 100, 0));
	block_close(bd);
	/* The parent was opened read-only: its data is untouched. */
	CHECK_EQ(block_open(in_dir("base.hds"), BLOCK_OPEN_READ_ONLY, &bd, err,
			    sizeof(err)),
		 0);
	CHECK_EQ(block_read(bd, 0, buf, 3 * CL), 0);
	CHECK(all_is(buf, 3 * CL, 0x11));
	block_close(bd);
	free(buf);
}

#define IMG(g, f)                                                              \
	"<Image><GUID>" g "</GUID><Type>Compressed</Type>"                     \
	"<File>" f "</File></Image>"
#define SHOT(g, p)                                                             \
	"<Shot><GUID>" g "</GUID><ParentGUID>" p "</ParentGUID></Shot>"
#define ROOTSHOT SHOT(G2, BUNDLE_ROOT_PARENT)

static const char *const bad_descs[] = {
	"",
	"<Parallels_disk_image Version=\"1.0\">",
	"<Parallels_disk_image Version=\"2.0\"></Parallels_disk_image>",
	"<Other Version=\"1.0\"></Other>",
	"<Parallels_disk_image Version=\"1.0\"><StorageData/>"
	"</Parallels_disk_image>",
	"<!DOCTYPE x [<!ENTITY a 'b'>]><Parallels_disk_image/>",
};

struct bad_std {
	const char *images;
	const char *snaps;
};

static const struct bad_std bad_std[] = {
	{"", ROOTSHOT},
	{IMG(G2, "/etc/passwd"), ROOTSHOT},
	{IMG(G2, "../a.hds"), ROOTSHOT},
	{IMG(G2, "sub/../../a.hds"), ROOTSHOT},
	{IMG(G2, "missing.hds"), ROOTSHOT},
	{IMG("{nope}", "a.hds"), ROOTSHOT},
	{IMG(G2, "a.hds") IMG(G2, "a.hds"), ROOTSHOT},
	{IMG(G2, "a.hds"), ""},
	{IMG(G2, "a.hds"), SHOT(G2, G1)},
	{IMG(G2, "a.hds") IMG(G1, "a.hds"), SHOT(G2, G1) SHOT(G1, G2)},
	{IMG(G2, "a.hds"), SHOT(G2, G2)},
	{IMG(G1, "a.hds"), ROOTSHOT},
	{IMG(G2, "a.hds"), "<TopGUID>" G1 "</TopGUID>" ROOTSHOT},
	{IMG(G2, "small.hds"), ROOTSHOT},
	{"<Image><GUID>" G2 "</GUID><Type>Zip</Type><File>a.hds</File>"
	 "</Image>",
	 ROOTSHOT},
	{"<Image><GUID>" G2 "</GUID><File>a.hds</File></Image>", ROOTSHOT},
	{"</Storage><Storage><Start>0</Start><End>2048</End>"
	 "<Blocksize>8</Blocksize>" IMG(G2, "a.hds"),
	 ROOTSHOT},
};

static const char *const bad_params[] = {
	"<Disk_size>2048</Disk_size><Cylinders>5</Cylinders><Heads>16</Heads>"
	"<Sectors>32</Sectors>",
	"<Disk_size>x</Disk_size><Cylinders>4</Cylinders><Heads>16</Heads>"
	"<Sectors>32</Sectors>",
	"<Disk_size>-2048</Disk_size><Cylinders>4</Cylinders><Heads>16</Heads>"
	"<Sectors>32</Sectors>",
	"<Disk_size>99999999999999999999999</Disk_size>",
	"<Cylinders>4</Cylinders><Heads>16</Heads><Sectors>32</Sectors>",
	"<Disk_size>2048</Disk_size><Cylinders>4</Cylinders><Heads>16</Heads>"
	"<Sectors>32</Sectors><Padding>1</Padding>",
	"<Disk_size>2048</Disk_size><Cylinders>4294967297</Cylinders>"
	"<Heads>16</Heads><Sectors>32</Sectors>",
};

static void expect_fail(const char *what)
{
	struct block_dev *bd = NULL;
	char err[300] = "";
	int r = block_open(dir, 0, &bd, err, sizeof(err));

	if (r == 0) {
		fprintf(stderr, "accepted: %s\n", what);
		block_close(bd);
	}
	CHECK(r < 0);
	CHECK(bd == NULL);
	CHECK(err[0] != '\0' && !strchr(err, '\n'));
}

static void test_malformed(void)
{
	char xml[4096], *big;
	size_t i, len;
	int d;

	new_bundle("bad.hdd");
	make_hds("a.hds");
	CHECK_EQ(hdd_create(in_dir("small.hds"), SIZE / 2, CL, false, xml,
			    sizeof(xml)),
		 0);
	for (i = 0; i < sizeof(bad_descs) / sizeof(bad_descs[0]); i++) {
		write_desc(bad_descs[i]);
		expect_fail(bad_descs[i]);
	}
	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
		write_std(bad_std[i].images, bad_std[i].snaps);
		expect_fail(bad_std[i].images);
	}
	for (i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++) {
		snprintf(xml, sizeof(xml),
			 "<Parallels_disk_image Version=\"1.0\">"
			 "<Disk_Parameters>%s</Disk_Parameters><StorageData>"
			 "<Storage><Start>0</Start><End>2048</End>"
			 "<Blocksize>8</Blocksize>" IMG(
				 G2,
				 "a.hds") "</Storage></"
					  "StorageData><Snapshots>" ROOTSHOT
					  "</Snapshots></Parallels_disk_image>",
			 bad_params[i]);
		write_desc(xml);
		expect_fail(bad_params[i]);
	}
	/* A symbolic link inside the bundle must not lead outside it. */
	CHECK(!symlink("/etc/passwd", in_dir("link.hds")));
	write_std(IMG(G2, "link.hds"), ROOTSHOT);
	expect_fail("symlink");
	/* Deep nesting and a huge attribute. */
	big = malloc(1 << 20);
	strcpy(big, "<Parallels_disk_image Version=\"1.0\">");
	for (d = 0; d < 5000; d++)
		memcpy(big + 36 + 3 * d, "<a>", 4);
	write_desc(big);
	expect_fail("deep");
	len = (size_t)sprintf(big, "<Parallels_disk_image Version=\"");
	memset(big + len, '1', 100000);
	strcpy(big + len + 100000, "\"/>");
	write_desc(big);
	expect_fail("huge attribute");
	free(big);
	/* Truncated copies of a valid descriptor. */
	write_std(IMG(G2, "a.hds"), ROOTSHOT);
	{
		FILE *f = fopen(in_dir(BUNDLE_DESCRIPTOR), "r");
		size_t n = fread(xml, 1, sizeof(xml) - 1, f);

		fclose(f);
		for (i = 0; i + 1 < n; i += 7) {
			char cut[4096];

			memcpy(cut, xml, i);
			cut[i] = '\0';
			write_desc(cut);
			expect_fail("truncated");
		}
	}
}

/* Random mutations of a valid two-image descriptor: open or refuse. */
static void test_mutations(void)
{
	char xml[4096], mut[4200];
	struct block_dev *bd;
	char err[300];
	size_t n, len;
	FILE *f;
	int i, k;

	new_bundle("mut.hdd");
	make_hds("base.hds");
	make_hds("top.hds");
	write_std(IMG(G1, "base.hds") IMG(G2, "top.hds"),
		  SHOT(G1, BUNDLE_ROOT_PARENT) SHOT(G2, G1));
	f = fopen(in_dir(BUNDLE_DESCRIPTOR), "r");
	len = fread(xml, 1, sizeof(xml), f);
	fclose(f);
	srand(99);
	for (i = 0; i < 300; i++) {
		memcpy(mut, xml, len);
		n = len;
		for (k = 0; k < 1 + rand() % 3; k++) {
			size_t at = (size_t)rand() % n;

			if (rand() % 2)
				mut[at] = "<>/{}-0123456789.&"[rand() % 18];
			else
				memmove(mut + at, mut + at + 1, --n - at);
		}
		mut[n] = '\0';
		write_desc(mut);
		bd = NULL;
		if (!block_open(dir, BLOCK_OPEN_READ_ONLY, &bd, err,
				sizeof(err))) {
			CHECK_EQ(block_read(bd, 0, mut, 512), 0);
			block_close(bd);
		}
	}
}

int main(void)
{
	char cmd[400];

	CHECK(mkdtemp(tmpdir) != NULL);
	RUN_TEST(test_single_compressed);
	RUN_TEST(test_plain);
	RUN_TEST(test_create);
	RUN_TEST(test_chain);
	RUN_TEST(test_malformed);
	RUN_TEST(test_mutations);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	CHECK(system(cmd) == 0);
	return unit_summary();
}

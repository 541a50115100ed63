// SPDX-License-Identifier: MIT
/*
 * Snapshot chains across bundles (block/bundle_edit.c): a snapshot freezes
 * the old top, a linked clone's chain continues in the source's bundle by
 * a relative path, the two sides never see each other's writes, the pair
 * moves together, a missing parent is one line naming it, a copied clone
 * is re-pointed, and outside parents that could reach host files are
 * refused.
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

#define SIZE (1u << 20)
#define CL 4096u

static char tmpdir[] = "/tmp/twoostwo-linked-XXXXXX";

static const char *at(const char *rel)
{
	static char p[4][400];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, rel);
	return p[k];
}

static void put(const char *bundle, u64 off, u8 v)
{
	struct block_dev *bd = NULL;
	char err[300] = "";
	u8 buf[512];

	memset(buf, v, sizeof(buf));
	CHECK_EQ(block_open(bundle, 0, &bd, err, sizeof(err)), 0);
	if (!bd) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_EQ(block_write(bd, off, buf, sizeof(buf)), 0);
	block_close(bd);
}

/* The byte at off, or -1 if the bundle does not open. */
static int get(const char *bundle, u64 off)
{
	struct block_dev *bd = NULL;
	char err[300];
	u8 buf[512];
	int v;

	if (block_open(bundle, BLOCK_OPEN_READ_ONLY, &bd, err, sizeof(err)))
		return -1;
	v = block_read(bd, off, buf, sizeof(buf)) ? -2 : buf[0];
	block_close(bd);
	return v;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void sh(const char *fmt, const char *a, const char *b)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	CHECK_EQ(system(cmd), 0);
}

static void test_relpath(void)
{
	static const char *const cases[][3] = {
		{"/a/b", "/a/b/x", "x"},
		{"/a/b", "/a/c/x", "../c/x"},
		{"/a/bc", "/a/b/x", "../b/x"},
		{"/v/B/hda.hdd", "/v/A/hda.hdd/f.hds", "../../A/hda.hdd/f.hds"},
		{"/x/y/z", "/q", "../../../q"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *r = bundle_relpath(cases[i][0], cases[i][1]);

		CHECK_STR(r, cases[i][2]);
		free(r);
	}
}

static void test_snapshot_and_clone(void)
{
	struct bundle_files f;
	char err[300], frozen[40];
	struct stat before, after;

	CHECK(!mkdir(at("vms"), 0755) && !mkdir(at("vms/A"), 0755) &&
	      !mkdir(at("vms/B"), 0755));
	CHECK_EQ(bundle_create(at("vms/A/hda.hdd"), SIZE, CL, false, err,
			       sizeof(err)),
		 0);
	put(at("vms/A/hda.hdd"), 0, 0xaa);
	put(at("vms/A/hda.hdd"), CL, 0xab);

	CHECK_EQ(bundle_snapshot(at("vms/A/hda.hdd"), frozen, err, sizeof(err)),
		 0);
	CHECK_STR(frozen, BUNDLE_DEFAULT_TOP);
	CHECK_EQ(bundle_files(at("vms/A/hda.hdd"), &f, err, sizeof(err)), 0);
	CHECK_EQ(f.n, 2);
	CHECK(f.n == 2 && strstr(f.path[1], BUNDLE_DEFAULT_TOP));
	CHECK(f.n == 2 && stat(f.path[1], &before) == 0);
	CHECK_EQ(bundle_create_linked(at("vms/B/hda.hdd"), at("vms/A/hda.hdd"),
				      frozen, err, sizeof(err)),
		 0);
	CHECK(strstr(slurp(at("vms/B/hda.hdd/DiskDescriptor.xml")),
		     "<File>../../A/hda.hdd/hda.hdd.0." BUNDLE_DEFAULT_TOP
		     ".hds</File>"));

	/* The clone sees the source's data; then each side writes. */
	CHECK_EQ(get(at("vms/B/hda.hdd"), 0), 0xaa);
	put(at("vms/B/hda.hdd"), 0, 0xbb);
	put(at("vms/A/hda.hdd"), CL, 0xcc);
	CHECK_EQ(get(at("vms/A/hda.hdd"), 0), 0xaa);
	CHECK_EQ(get(at("vms/A/hda.hdd"), CL), 0xcc);
	CHECK_EQ(get(at("vms/B/hda.hdd"), 0), 0xbb);
	CHECK_EQ(get(at("vms/B/hda.hdd"), CL), 0xab);
	/* Neither wrote into the shared base. */
	CHECK(f.n == 2 && stat(f.path[1], &after) == 0);
	CHECK_EQ(after.st_size, before.st_size);
	CHECK_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	bundle_files_free(&f);

	/* A clone of a clone: its chain has three images in two folders. */
	CHECK_EQ(bundle_snapshot(at("vms/B/hda.hdd"), frozen, err, sizeof(err)),
		 0);
	CHECK(!mkdir(at("vms/C"), 0755));
	CHECK_EQ(bundle_create_linked(at("vms/C/hda.hdd"), at("vms/B/hda.hdd"),
				      frozen, err, sizeof(err)),
		 0);
	CHECK_EQ(bundle_files(at("vms/C/hda.hdd"), &f, err, sizeof(err)), 0);
	CHECK_EQ(f.n, 3);
	bundle_files_free(&f);
	CHECK_EQ(get(at("vms/C/hda.hdd"), 0), 0xbb);
	CHECK_EQ(get(at("vms/C/hda.hdd"), CL), 0xab);

	/* The writable top of the source cannot be a base. */
	CHECK(!mkdir(at("vms/D"), 0755));
	CHECK(bundle_create_linked(at("vms/D/hda.hdd"), at("vms/A/hda.hdd"),
				   "{00000000-1111-2222-3333-444444444444}",
				   err, sizeof(err)) < 0);
}

/* Moved together the folders still work; the clone alone says why not. */
static void test_move(void)
{
	struct block_dev *bd = NULL;
	char err[400] = "";

	CHECK(!mkdir(at("moved"), 0755));
	CHECK(!rename(at("vms"), at("moved/vms")));
	CHECK_EQ(get(at("moved/vms/B/hda.hdd"), 0), 0xbb);
	CHECK_EQ(get(at("moved/vms/C/hda.hdd"), CL), 0xab);
	CHECK(!rename(at("moved/vms/B"), at("B-alone")));
	CHECK(block_open(at("B-alone/hda.hdd"), 0, &bd, err, sizeof(err)) < 0);
	CHECK(strstr(err, "parent image ../../A/hda.hdd/") != NULL);
	CHECK(strstr(err, "is missing") != NULL);
	CHECK(!strchr(err, '\n'));
	CHECK(!rename(at("B-alone"), at("moved/vms/B")));
}

/* A copy of a clone elsewhere is re-pointed at the same parents. */
static void test_relocate(void)
{
	char err[300];

	CHECK(!mkdir(at("deep"), 0755) && !mkdir(at("deep/er"), 0755));
	sh("cp -a '%s' '%s'", at("moved/vms/C"), at("deep/er/C2"));
	CHECK_EQ(get(at("deep/er/C2/hda.hdd"), 0), -1);
	CHECK_EQ(bundle_relocate(at("deep/er/C2/hda.hdd"),
				 at("moved/vms/C/hda.hdd"), err, sizeof(err)),
		 0);
	CHECK_EQ(get(at("deep/er/C2/hda.hdd"), 0), 0xbb);
	CHECK(strstr(slurp(at("deep/er/C2/hda.hdd/DiskDescriptor.xml")),
		     "../../../moved/vms/A/hda.hdd/"));
	/* A bundle without outside parents is left alone. */
	CHECK_EQ(bundle_relocate(at("moved/vms/A/hda.hdd"), "/nonexistent", err,
				 sizeof(err)),
		 0);
}

/* Outside parents must not turn host files into disks. */
static void test_outside_refused(void)
{
	char *xml = strdup(slurp(at("moved/vms/C/hda.hdd/DiskDescriptor.xml")));
	char path[400], *p, err[300];
	struct block_dev *bd = NULL;
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "%s",
		 at("moved/vms/C/hda.hdd/DiskDescriptor.xml"));
	/* The last Compressed image (A's base) becomes Plain. */
	p = strstr(xml, "</GUID>\n        <Type>Compressed</Type>\n        "
			"<File>../../A");
	CHECK(p != NULL);
	if (p) {
		fp = fopen(path, "w");
		fprintf(fp, "%.*s</GUID>\n        <Type>Plain</Type>%s",
			(int)(p - xml), xml,
			p + strlen("</GUID>\n        <Type>Compressed</Type>"));
		fclose(fp);
		CHECK(block_open(at("moved/vms/C/hda.hdd"), 0, &bd, err,
				 sizeof(err)) < 0);
		CHECK(strstr(err, "must be Compressed") != NULL);
	}
	/* A Compressed "parent" that is no Parallels image. */
	fd = open(at("moved/vms/fake.hds"), O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0 && ftruncate(fd, SIZE) == 0);
	close(fd);
	p = strstr(xml, "<File>../../A/hda.hdd/hda.hdd.0.");
	if (p) {
		char *end = strstr(p, "</File>");

		fp = fopen(path, "w");
		fprintf(fp, "%.*s<File>../../fake.hds%s", (int)(p - xml), xml,
			end);
		fclose(fp);
		CHECK(block_open(at("moved/vms/C/hda.hdd"), 0, &bd, err,
				 sizeof(err)) < 0);
	}
	/* The top itself outside the bundle. */
	p = strstr(xml, "<File>hda.hdd.0.");
	if (p) {
		fp = fopen(path, "w");
		fprintf(fp, "%.*s<File>../C/hda.hdd/%s", (int)(p - xml), xml,
			p + 6);
		fclose(fp);
		CHECK(block_open(at("moved/vms/C/hda.hdd"), 0, &bd, err,
				 sizeof(err)) < 0);
		CHECK(strstr(err, "top image") != NULL);
	}
	fp = fopen(path, "w");
	fputs(xml, fp);
	fclose(fp);
	CHECK_EQ(get(at("moved/vms/C/hda.hdd"), 0), 0xbb);
	free(xml);
}

int main(void)
{
	char cmd[400];

	CHECK(mkdtemp(tmpdir) != NULL);
	RUN_TEST(test_relpath);
	RUN_TEST(test_snapshot_and_clone);
	RUN_TEST(test_move);
	RUN_TEST(test_relocate);
	RUN_TEST(test_outside_refused);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	CHECK(system(cmd) == 0);
	return unit_summary();
}

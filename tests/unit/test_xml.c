// SPDX-License-Identifier: MIT
/*
 * The DiskDescriptor.xml reader: the subset it accepts, everything it must
 * refuse (DTDs, unknown entities, broken nesting, limits), and random
 * mutations of a valid descriptor that must never crash it.
 */
#include <errno.h>
#include <stdlib.h>

#include "block/xml.h"
#include "unit.h"

static const char good[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<!-- made by hand -->\n"
	"<Parallels_disk_image Version=\"1.0\">\n"
	" <Disk_Parameters>\n"
	"  <Disk_size> 2048 </Disk_size>\n"
	"  <Cylinders>4</Cylinders>\n"
	" </Disk_Parameters>\n"
	" <StorageData><Storage>\n"
	"  <Image><GUID>{a}</GUID><File>a &amp; b&lt;&gt;&quot;&apos;</File>"
	"</Image>\n"
	"  <Image><GUID>{b}</GUID><Empty a='x' b=\"y\"/></Image>\n"
	" </Storage></StorageData>\n"
	"</Parallels_disk_image>\n";

static int parse(const char *s, struct xml_node **root)
{
	char err[200] = "";
	int r = xml_parse(s, strlen(s), root, err, sizeof(err));

	if (r) {
		CHECK(err[0] != '\0');
		CHECK(*root == NULL);
	}
	return r;
}

static void test_good(void)
{
	const struct xml_node *dp, *st, *im, *e;
	struct xml_node *root;

	CHECK_EQ(parse(good, &root), 0);
	if (!root)
		return;
	CHECK_STR(root->name, "Parallels_disk_image");
	CHECK_STR(xml_attr(root, "Version"), "1.0");
	CHECK(xml_attr(root, "version") == NULL);
	dp = xml_child(root, "Disk_Parameters");
	CHECK_STR(xml_child(dp, "Disk_size")->text, "2048");
	st = xml_child(xml_child(root, "StorageData"), "Storage");
	im = xml_child(st, "Image");
	CHECK_STR(xml_child(im, "File")->text, "a & b<>\"'");
	im = xml_next(im, "Image");
	CHECK_STR(xml_child(im, "GUID")->text, "{b}");
	e = xml_child(im, "Empty");
	CHECK_STR(xml_attr(e, "a"), "x");
	CHECK_STR(xml_attr(e, "b"), "y");
	CHECK(e->text == NULL && e->child == NULL);
	CHECK(xml_next(im, "Image") == NULL);
	xml_free(root);
}

static const char *const bad[] = {
	"",
	"   ",
	"text",
	"<a>",
	"<a></b>",
	"<a><b></a></b>",
	"<a/><b/>",
	"<a/>junk",
	"<a x=1/>",
	"<a x='1' x='2'/>",
	"<a x='1'y='2'/>",
	"<a x='1/>",
	"<a>&nbsp;</a>",
	"<a>&#65;</a>",
	"<a>& </a>",
	"<a><![CDATA[x]]></a>",
	"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>",
	"<a><!DOCTYPE a></a>",
	"<a><?pi?></a>",
	"<a><!-- unterminated</a>",
	"<1a/>",
	"< a/>",
	"<a x='<'/>",
	"<?xml",
	"<a></a",
	"<a></ a>",
};

static void test_bad(void)
{
	struct xml_node *root;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		root = (struct xml_node *)1;
		if (parse(bad[i], &root) != -EINVAL)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(root == NULL);
	}
}

static void test_limits(void)
{
	struct xml_node *root;
	char *s = malloc(XML_MAX_SIZE + 64);
	size_t i, n = 0;
	char err[100];

	for (i = 0; i < XML_MAX_DEPTH; i++)
		n += (size_t)sprintf(s + n, "<a>");
	CHECK_EQ(parse(s, &root), -EINVAL); /* truncated, and too deep */
	n = 0;
	for (i = 0; i < XML_MAX_DEPTH - 1; i++)
		n += (size_t)sprintf(s + n, "<a>");
	for (i = 0; i < XML_MAX_DEPTH - 1; i++)
		n += (size_t)sprintf(s + n, "</a>");
	CHECK_EQ(parse(s, &root), 0);
	xml_free(root);
	n = (size_t)sprintf(s, "<a>");
	for (i = 0; i < XML_MAX_NODES; i++)
		n += (size_t)sprintf(s + n, "<b/>");
	sprintf(s + n, "</a>");
	CHECK_EQ(parse(s, &root), -EINVAL);
	n = (size_t)sprintf(s, "<a x='");
	memset(s + n, 'v', XML_MAX_VALUE + 1);
	strcpy(s + n + XML_MAX_VALUE + 1, "'/>");
	CHECK_EQ(parse(s, &root), -EINVAL);
	n = (size_t)sprintf(s, "<");
	memset(s + n, 'n', XML_MAX_NAME + 1);
	strcpy(s + n + XML_MAX_NAME + 1, "/>");
	CHECK_EQ(parse(s, &root), -EINVAL);
	memset(s, ' ', XML_MAX_SIZE + 1);
	memcpy(s, "<a/>", 4);
	CHECK_EQ(xml_parse(s, XML_MAX_SIZE + 1, &root, err, sizeof(err)),
		 -EINVAL);
	/* An embedded NUL ends nothing: it is refused. */
	CHECK_EQ(xml_parse("<a>x\0y</a>", 9, &root, err, sizeof(err)), -EINVAL);
	free(s);
}

/* Random byte flips, deletions and insertions must never crash. */
static void test_mutations(void)
{
	size_t len = sizeof(good) - 1;
	char *buf = malloc(len + 64);
	unsigned i, k, ok = 0;
	char err[200];

	srand(1234);
	for (i = 0; i < 1000; i++) {
		struct xml_node *root;
		size_t n = len;

		memcpy(buf, good, len);
		for (k = 0; k < 1 + (unsigned)rand() % 4; k++) {
			size_t at = (size_t)rand() % n;
			static const char set[] = "<>/&;='\"!?- a\0";

			switch (rand() % 3) {
			case 0:
				buf[at] = set[rand() % (sizeof(set) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default:
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = (char)rand();
				n++;
			}
		}
		if (!xml_parse(buf, n, &root, err, sizeof(err))) {
			ok++;
			xml_free(root);
		}
	}
	CHECK(ok < 1000);
	free(buf);
}

int main(void)
{
	RUN_TEST(test_good);
	RUN_TEST(test_bad);
	RUN_TEST(test_limits);
	RUN_TEST(test_mutations);
	return unit_summary();
}

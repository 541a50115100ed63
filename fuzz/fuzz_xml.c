// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the bundle descriptor: the input is a whole
 * DiskDescriptor.xml. It goes through the XML reader (xml.c) and the
 * interpretation of a Parallels bundle (bundle.c: parameters, storage,
 * images, snapshot chain) without touching the file system. Every input
 * must be accepted or refused with exactly one non-empty line; a refusal
 * without a reason, or a reason with a line break, aborts as a finding.
 * The parsed tree is also walked through the accessors, so a broken link
 * in it shows up under ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "block/bundle.h"
#include "block/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every node, attribute and text once; returns a checksum. */
static size_t fuzz_walk(const struct xml_node *n, unsigned depth)
{
	size_t sum = 0;
	unsigned i;

	if (depth > XML_MAX_DEPTH + 1)
		abort();
	for (; n; n = n->next) {
		sum += strlen(n->name) + (n->text ? strlen(n->text) : 0);
		for (i = 0; i < n->nattrs; i++)
			sum += strlen(n->attrs[i].name) +
			       strlen(n->attrs[i].value);
		if (n->nattrs &&
		    xml_attr(n, n->attrs[0].name) != n->attrs[0].value)
			abort();
		if (n->child && !xml_child(n, n->child->name))
			abort();
		sum += fuzz_walk(n->child, depth + 1);
	}
	return sum;
}

static void fuzz_one_line(int r, const char *err)
{
	if (r >= 0)
		return;
	if (!err[0] || strchr(err, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct xml_node *root = NULL;
	char err[256];
	int r;

	err[0] = '\0';
	r = xml_parse(buf, size, &root, err, sizeof(err));
	fuzz_one_line(r, err);
	if (!r)
		fuzz_walk(root, 1);
	else if (root)
		abort(); /* a failed parse must not hand out a tree */
	xml_free(root);

	err[0] = '\0';
	r = bundle_check_descriptor(buf, size, "fuzz.hdd", err, sizeof(err));
	fuzz_one_line(r, err);
	return 0;
}

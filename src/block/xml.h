/* SPDX-License-Identifier: MIT */
/*
 * A small, strict XML reader for DiskDescriptor.xml (HARDWARE.md section
 * 1): elements, attributes and text only. No DTD, no CDATA, no entities
 * beyond the five predefined ones; input size, nesting depth, name and
 * value lengths and the node count are bounded, because the descriptor
 * comes from a VM folder that may have been copied from anywhere. Every
 * malformed input yields -EINVAL and one line in err.
 */
#ifndef TWOOSTWO_BLOCK_XML_H
#define TWOOSTWO_BLOCK_XML_H

#include "core/types.h"

#define XML_MAX_SIZE (1u << 20)
#define XML_MAX_DEPTH 32
#define XML_MAX_NAME 64
#define XML_MAX_VALUE 4096
#define XML_MAX_NODES 4096
#define XML_MAX_ATTRS 16

struct xml_attr {
	char *name;
	char *value;
};

struct xml_node {
	char *name;
	char *text; /* character data with surrounding whitespace trimmed */
	struct xml_attr attrs[XML_MAX_ATTRS];
	unsigned nattrs;
	struct xml_node *child; /* first child */
	struct xml_node *next;	/* next sibling */
};

/* Parse one document of len bytes; *root gets its single root element. */
int xml_parse(const char *buf, size_t len, struct xml_node **root, char *err,
	      size_t errlen);
void xml_free(struct xml_node *n);

/* The first child of n named name; the next sibling of n named name. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
const struct xml_node *xml_next(const struct xml_node *n, const char *name);
/* An attribute's value, or NULL. */
const char *xml_attr(const struct xml_node *n, const char *name);

#endif

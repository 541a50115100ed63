/* SPDX-License-Identifier: MIT */
/*
 * Shared between bundle.c (reading a bundle) and bundle_edit.c (snapshots,
 * linked clones): the decoded descriptor. Not for other callers.
 */
#ifndef TWOOSTWO_BLOCK_BUNDLE_INTERNAL_H
#define TWOOSTWO_BLOCK_BUNDLE_INTERNAL_H

#include "block/bundle.h"
#include "block/xml.h"

struct bundle_image {
	const char *guid;
	const char *file;
	bool plain;
	bool outside; /* File has a ".." component: a linked clone's base */
};

struct bundle_desc {
	u64 sectors;
	u64 blocksize; /* sectors */
	struct bundle_image img[BUNDLE_MAX_IMAGES];
	unsigned nimg;
	const char *chain[BUNDLE_MAX_IMAGES]; /* GUIDs, top first */
	unsigned nchain;
};

/* Read and check dir's descriptor; d points into *root (xml_free it). */
int bundle_load(const char *dir, struct bundle_desc *d, struct xml_node **root,
		char *err, size_t errlen);
const struct bundle_image *bundle_image_of(const struct bundle_desc *d,
					   const char *guid);
/* Cylinders x Heads x Sectors for a disk of sectors; -EINVAL if none. */
int bundle_geometry(u64 sectors, u64 *c, u64 *h, u64 *s);

#endif

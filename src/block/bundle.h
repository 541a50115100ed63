/* SPDX-License-Identifier: MIT */
/*
 * Parallels bundles (HARDWARE.md section 1): a directory X.hdd/ holding
 * DiskDescriptor.xml and the .hds images of a snapshot chain. The top image
 * is opened read-write (unless BLOCK_OPEN_READ_ONLY), its ancestors
 * read-only; a read of a cluster the top has not allocated falls through
 * to the parents. Exactly one Storage element is supported.
 */
#ifndef TWOOSTWO_BLOCK_BUNDLE_H
#define TWOOSTWO_BLOCK_BUNDLE_H

#include "block/block.h"

#define BUNDLE_DESCRIPTOR "DiskDescriptor.xml"
#define BUNDLE_MAX_IMAGES 16
#define BUNDLE_DEFAULT_TOP "{5fbaabe3-6958-40ff-92a7-860e329aab41}"
#define BUNDLE_ROOT_PARENT "{00000000-0000-0000-0000-000000000000}"

/* Is path a directory holding a DiskDescriptor.xml? */
bool bundle_probe(const char *path);

/* Open the bundle directory dir; -errno with one line in err on failure. */
int block_open_bundle(const char *dir, unsigned flags, struct block_dev **out,
		      char *err, size_t errlen);

#endif

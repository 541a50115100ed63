/* SPDX-License-Identifier: MIT */
/*
 * Device state for suspend/resume: every device saves its state as named
 * sections and loads them back. Sections carry a version so a device can
 * refuse state written by an incompatible build, with a clear message.
 */
#ifndef TWOOSTWO_CORE_SNAPSHOT_H
#define TWOOSTWO_CORE_SNAPSHOT_H

#include "core/types.h"

struct snap_writer {
	u8 *buf;
	size_t len;
	size_t cap;
	int error;
};

struct snap_reader {
	const u8 *buf;
	size_t len;
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
/* Append section name (version) with len bytes of data. */
int snap_put(struct snap_writer *w, const char *name, u32 version,
	     const void *data, size_t len);

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len);
/*
 * Copy section name into data. Returns 0, -ENOENT when absent, -EINVAL when
 * its version or length differs from what the caller expects.
 */
int snap_get(const struct snap_reader *r, const char *name, u32 version,
	     void *data, size_t len);

#endif

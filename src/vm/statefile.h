/* SPDX-License-Identifier: MIT */
/*
 * The saved-state file of a suspended machine (docs/ARCHITECTURE.md,
 * "Suspend and resume"). Self-describing and versioned:
 *
 *   header   "TWOOSTWO-STATE\n\0" (16 bytes), u32 format version,
 *            u32 section count
 *   section  u16 name length, name, u64 data length, data   (repeated)
 *   trailer  "END\0", u32 CRC-32 (IEEE 802.3) of every byte before it
 *
 * All little-endian. A reader finds sections by name, so a newer build
 * that adds sections still reads older files; a file whose format version
 * is newer than this build's is refused with a clear message. The file is
 * written to NAME.tmp, fsynced and renamed over NAME (then the directory is
 * fsynced), so a crash at any point leaves either the old file or the new.
 */
#ifndef TWOOSTWO_VM_STATEFILE_H
#define TWOOSTWO_VM_STATEFILE_H

#include <stddef.h>

#include "core/types.h"

#define STATEFILE_MAGIC "TWOOSTWO-STATE\n"
#define STATEFILE_MAGIC_LEN 16
#define STATEFILE_VERSION 1
#define STATEFILE_MAX_SECTIONS 4096

struct statefile_section {
	char *name;
	u8 *data;
	u64 len;
};

struct statefile {
	struct statefile_section *sec;
	unsigned count;
	unsigned cap;
	u32 version; /* of a file read; STATEFILE_VERSION when writing */
};

void statefile_init(struct statefile *sf);
void statefile_free(struct statefile *sf);
/* Add a section; data is copied. Returns 0 or -ENOMEM/-EINVAL. */
int statefile_add(struct statefile *sf, const char *name, const void *data,
		  u64 len);
/* Take ownership of a malloc'ed buffer instead of copying it. */
int statefile_add_owned(struct statefile *sf, const char *name, u8 *data,
			u64 len);
const struct statefile_section *statefile_find(const struct statefile *sf,
					       const char *name);

/* Serialise to a buffer (malloc'ed) / parse one. -errno, reason in err. */
int statefile_encode(const struct statefile *sf, u8 **out, size_t *outlen);
int statefile_decode(struct statefile *sf, const u8 *buf, size_t len, char *err,
		     size_t errlen);

/* Atomic write (tmp + fsync + rename + dir fsync) and read of PATH. */
int statefile_write(const struct statefile *sf, const char *path, char *err,
		    size_t errlen);
int statefile_read(struct statefile *sf, const char *path, char *err,
		   size_t errlen);

u32 statefile_crc32(u32 crc, const u8 *p, size_t len);

/*
 * Field lists: a section of named scalar fields, each "u8 name length,
 * name, u8 byte count, value (little-endian)". Readers look fields up by
 * name, so fields can be added or widened without a new format.
 */
struct fieldlist {
	u8 *buf;
	size_t len, cap;
	int error;
};

void fieldlist_put(struct fieldlist *fl, const char *name, u64 value);
void fieldlist_put_bytes(struct fieldlist *fl, const char *name, const void *p,
			 size_t n);
/* 0, -ENOENT when absent, -EINVAL when malformed. */
int fieldlist_get(const u8 *buf, size_t len, const char *name, u64 *value);
int fieldlist_get_bytes(const u8 *buf, size_t len, const char *name, void *p,
			size_t n);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Parallels "plain" disk images (.hdd/.hds): a 64-byte header, a block
 * allocation table (BAT) of u32 entries, then clusters allocated on first
 * write (HARDWARE.md section 1). Both headers are read: "WithoutFreeSpace"
 * (v1, BAT entries in sectors) and "WithouFreSpacExt" (v2, BAT entries in
 * clusters, 64-bit size); new images are always v2, as QEMU makes them.
 *
 * Every header field and BAT entry is checked before use: the file is
 * untrusted input. The Format Extension (ext_off: dirty bitmaps) is not
 * read, but check keeps its cluster.
 */
#ifndef TWOOSTWO_BLOCK_HDD_H
#define TWOOSTWO_BLOCK_HDD_H

#include <stdio.h>

#include "block/block.h"

#define HDD_SECTOR 512u
#define HDD_HEADER_SIZE 64u
#define HDD_MAGIC_LEN 16u
#define HDD_MAGIC_V1 "WithoutFreeSpace"
#define HDD_MAGIC_V2 "WithouFreSpacExt"
#define HDD_INUSE_MAGIC 0x746F6E59u /* "Ynot": open read-write */
#define HDD_DEFAULT_CLUSTER (1u << 20)
/* Bounds offsets (entry x cluster) well inside u64; QEMU's default is 1M. */
#define HDD_MAX_CLUSTER (256u << 20)

/* The header, decoded and validated against the file's size. */
struct hdd_geom {
	int version; /* 1 or 2: which magic */
	u32 heads;
	u32 cylinders;
	u32 tracks; /* cluster size in sectors, never 0 */
	u32 bat_entries;
	u64 nb_sectors; /* disk size */
	u32 inuse;
	u32 data_off;  /* sectors, never 0 after decoding (v1 default) */
	u64 cluster;   /* bytes */
	u64 file_size; /* bytes */
	u64 ext_off;   /* Format Extension, sectors; 0 if none; unchecked */
};

/* Does buf (at least 16 bytes of a file's start) hold a Parallels magic? */
bool hdd_probe(const void *buf, size_t len);

/*
 * Decode and validate a 64-byte header. Returns 0, or -EINVAL with one line
 * "PATH: reason" in err.
 */
int hdd_parse_header(const u8 *hdr, u64 file_size, const char *path,
		     struct hdd_geom *g, char *err, size_t errlen);

/* Byte offset in the file that a non-zero BAT entry names. */
u64 hdd_entry_offset(const struct hdd_geom *g, u32 entry);

/*
 * Open a Parallels image. Read-write opens take an exclusive lock and set
 * the in-use flag until block_close(); opening an image whose flag is
 * already set (a crash) warns and proceeds: the write order leaves at
 * worst leaked clusters, which new allocations never reuse.
 */
int block_open_hdd(const char *path, unsigned flags, struct block_dev **out,
		   char *err, size_t errlen);

/*
 * Write a new empty v2 image of size bytes (rounded up to a sector) over
 * path, which must not exist unless overwrite is set.
 */
int hdd_create(const char *path, u64 size, u64 cluster, bool overwrite,
	       char *err, size_t errlen);

struct hdd_stats {
	int version;
	u64 cluster;   /* bytes */
	u64 allocated; /* clusters with a BAT entry */
	bool dirty;    /* in-use flag was set when opened */
};

/* Statistics of an open image; -EINVAL if bd is not a Parallels image. */
int hdd_stats(struct block_dev *bd, struct hdd_stats *st);

/* Is the cluster holding byte offset allocated? false for other formats. */
bool hdd_cluster_allocated(struct block_dev *bd, u64 offset);

struct hdd_check_result {
	unsigned corruptions; /* bad or duplicated BAT entries */
	unsigned leaks;	      /* clusters after the last referenced one */
	/*
	 * The in-use flag a crash leaves. Not a corruption: writes are
	 * ordered so that a crash loses at most unreferenced space.
	 */
	unsigned unclean;
	unsigned repaired;
	unsigned remaining; /* problems left after --repair */
};

/*
 * Check (and with repair, fix) an image, describing each problem as one
 * line on out. Returns 0 once the header could be read, else -errno with
 * the reason in err.
 */
int hdd_check(const char *path, bool repair, FILE *out,
	      struct hdd_check_result *res, char *err, size_t errlen);

/* Grow an image to size bytes if its BAT has room before data_off. */
int hdd_resize(const char *path, u64 size, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Parallels bundles (HARDWARE.md section 1): a directory X.hdd/ holding
 * DiskDescriptor.xml and the .hds images of a snapshot chain. The top image
 * is opened read-write (unless BLOCK_OPEN_READ_ONLY), its ancestors
 * read-only; a read of a cluster the top has not allocated falls through
 * to the parents. Exactly one Storage element is supported. A parent may
 * lie outside the bundle (a relative path with ".."): a linked clone's
 * base in its source VM's folder.
 */
#ifndef TWOOSTWO_BLOCK_BUNDLE_H
#define TWOOSTWO_BLOCK_BUNDLE_H

#include "block/block.h"
#include "block/hdd.h"

#define BUNDLE_DESCRIPTOR "DiskDescriptor.xml"
#define BUNDLE_MAX_IMAGES 16
#define BUNDLE_DEFAULT_TOP "{5fbaabe3-6958-40ff-92a7-860e329aab41}"
#define BUNDLE_ROOT_PARENT "{00000000-0000-0000-0000-000000000000}"

/* Is path a directory holding a DiskDescriptor.xml? */
bool bundle_probe(const char *path);

/* Open the bundle directory dir; -errno with one line in err on failure. */
int block_open_bundle(const char *dir, unsigned flags, struct block_dev **out,
		      char *err, size_t errlen);

/*
 * Parse and interpret a descriptor held in memory (the fuzzer's entry):
 * 0 if block_open_bundle would accept it, else -errno and one line in err
 * naming dir.
 */
int bundle_check_descriptor(const char *buf, size_t len, const char *dir,
			    char *err, size_t errlen);

/* The image files of a bundle's snapshot chain, top first. */
struct bundle_files {
	char *path[BUNDLE_MAX_IMAGES];
	bool plain[BUNDLE_MAX_IMAGES]; /* raw, not a Parallels image */
	unsigned n;
};

int bundle_files(const char *dir, struct bundle_files *f, char *err,
		 size_t errlen);
void bundle_files_free(struct bundle_files *f);

struct bundle_stats {
	unsigned images;	  /* in the snapshot chain */
	const char *top;	  /* path of the writable image */
	bool plain;		  /* the top image is raw */
	struct hdd_stats top_hdd; /* of the top image unless plain */
};

/* Statistics of an open bundle; -EINVAL if bd is not one. */
int bundle_stats(struct block_dev *bd, struct bundle_stats *st);

/*
 * Make a new bundle directory dir holding one empty expanding image
 * ("Compressed", a v2 Parallels image of cluster bytes per cluster) and its
 * DiskDescriptor.xml. dir must not exist unless overwrite is set and it is
 * a bundle already.
 */
int bundle_create(const char *dir, u64 size, u64 cluster, bool overwrite,
		  char *err, size_t errlen);

/* A new random GUID "{xxxxxxxx-...}" (RFC 4122 version 4). */
int bundle_new_guid(char out[40]);

/*
 * The path of to relative to the directory from_dir; both absolute and
 * resolved (realpath). NULL without memory.
 */
char *bundle_relpath(const char *from_dir, const char *to);

/*
 * Snapshot: a new empty image becomes dir's top and the old top, whose
 * GUID goes to frozen, is read-only from now on (a linked clone's base).
 * Refuses a descriptor holding images outside its chain (a tree).
 */
int bundle_snapshot(const char *dir, char frozen[40], char *err, size_t errlen);

/*
 * A linked clone: make the new bundle directory dir holding one empty
 * image whose parent is the image base_guid of the bundle base (and its
 * ancestors). The parents stay where they are; dir's descriptor names them
 * by paths relative to dir. base_guid must not be base's writable top:
 * take a bundle_snapshot of base first.
 */
int bundle_create_linked(const char *dir, const char *base,
			 const char *base_guid, char *err, size_t errlen);

/*
 * dir is a copy of the bundle old_dir: re-point the parents outside the
 * bundle (relative paths) so they name the same files from dir. Nothing to
 * do for a bundle without outside parents.
 */
int bundle_relocate(const char *dir, const char *old_dir, char *err,
		    size_t errlen);

#endif

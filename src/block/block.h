/* SPDX-License-Identifier: MIT */
/*
 * The block layer: one interface in front of every disk image format and
 * host drive. Devices see sectors of their own size only; a backend hides
 * its format (raw file, ISO, Parallels .hdd, host block device).
 */
#ifndef TWOOSTWO_BLOCK_BLOCK_H
#define TWOOSTWO_BLOCK_BLOCK_H

#include "core/types.h"

struct block_dev;

/* The unit of block_discard's alignment: the guest's smallest sector. */
#define BLOCK_SECTOR 512u

struct block_ops {
	const char *format;
	int (*read)(struct block_dev *bd, u64 offset, void *buf, size_t len);
	int (*write)(struct block_dev *bd, u64 offset, const void *buf,
		     size_t len);
	int (*flush)(struct block_dev *bd);
	/*
	 * Tell the back end that the guest no longer needs these bytes
	 * (ATA TRIM). Advisory: afterwards the range reads as zeros or as
	 * its old data, whichever the format and host give; callers promise
	 * nothing more to the guest. -EOPNOTSUPP when the host cannot do it
	 * (a file system without hole punching); NULL when the format
	 * never can.
	 */
	int (*discard)(struct block_dev *bd, u64 offset, u64 len);
	void (*close)(struct block_dev *bd);
};

struct block_dev {
	const struct block_ops *ops;
	char *path;
	u64 size; /* bytes */
	bool read_only;
	int fd;
	void *priv;
};

#define BLOCK_OPEN_READ_ONLY BIT(0)
/*
 * The format was guessed from the content (block_open): a raw image then
 * refuses writes that would make its first sector look like another
 * format, so a guest cannot turn its disk into an image that points at
 * host files on the next start.
 */
#define BLOCK_OPEN_PROBED BIT(1)
/*
 * A host block device may be opened read-write. Without this flag
 * block_open() opens host devices read-only, whatever else is asked: a
 * mistyped /dev path must not become a guest's writable disk.
 */
#define BLOCK_OPEN_DEVICE_WRITE BIT(2)

/*
 * Open an image. Returns 0 or -errno, writing a one-line reason ("PATH: is
 * empty") into err.
 */
int block_open_raw(const char *path, unsigned flags, struct block_dev **out,
		   char *err, size_t errlen);
/*
 * Open an image of any known format: a host block device (hostdev.h), a
 * Parallels bundle directory (with DiskDescriptor.xml), a Parallels image
 * by its magic, else raw.
 * Read-write opens are locked (block_lock), raw ones included; a bare
 * block_open_raw() takes no lock.
 */
int block_open(const char *path, unsigned flags, struct block_dev **out,
	       char *err, size_t errlen);
/*
 * Take an exclusive OFD lock on a file opened read-write, so a second
 * writer fails with "PATH: in use by another process (pid N)".
 */
int block_lock(int fd, const char *path, char *err, size_t errlen);
/* A shared OFD lock for readers: fails while another process writes. */
int block_lock_read(int fd, const char *path, char *err, size_t errlen);
/* Reads and writes must stay inside the device; -EINVAL otherwise. */
int block_read(struct block_dev *bd, u64 offset, void *buf, size_t len);
/* pwrite all of buf at off, retrying short writes and EINTR; 0 or -errno. */
int block_pwrite_all(int fd, const void *buf, size_t len, u64 off);
/* pread all of buf from off; end of file is -EIO. 0 or -errno. */
int block_pread_all(int fd, void *buf, size_t len, u64 off);
/*
 * Deallocate len bytes of the file at off, keeping its size: the range
 * then reads as zeros. 0, -EOPNOTSUPP if the file system cannot punch
 * holes, or -errno.
 */
int block_punch_hole(int fd, u64 off, u64 len);
/* Whether the file at path starts with a Parallels image header. */
bool block_file_is_hdd(const char *path);
int block_write(struct block_dev *bd, u64 offset, const void *buf, size_t len);
int block_flush(struct block_dev *bd);
/*
 * Discard sectors (see block_ops.discard): offset and len must be
 * multiples of BLOCK_SECTOR inside the device (-EINVAL); -EROFS on a
 * read-only device; -EOPNOTSUPP if the back end cannot discard.
 */
int block_discard(struct block_dev *bd, u64 offset, u64 len);
/* Whether block_discard can succeed on bd: writable, with a discard op. */
bool block_can_discard(const struct block_dev *bd);
void block_close(struct block_dev *bd);

#endif

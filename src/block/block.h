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

struct block_ops {
	const char *format;
	int (*read)(struct block_dev *bd, u64 offset, void *buf, size_t len);
	int (*write)(struct block_dev *bd, u64 offset, const void *buf,
		     size_t len);
	int (*flush)(struct block_dev *bd);
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
 * Open an image. Returns 0 or -errno, writing a one-line reason ("PATH: is
 * empty") into err.
 */
int block_open_raw(const char *path, unsigned flags, struct block_dev **out,
		   char *err, size_t errlen);
/* Reads and writes must stay inside the device; -EINVAL otherwise. */
int block_read(struct block_dev *bd, u64 offset, void *buf, size_t len);
int block_write(struct block_dev *bd, u64 offset, const void *buf, size_t len);
int block_flush(struct block_dev *bd);
void block_close(struct block_dev *bd);

#endif

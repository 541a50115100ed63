// SPDX-License-Identifier: MIT
/*
 * Raw images and host block devices: byte n of the device is byte n of the
 * file. I/O is synchronous pread/pwrite; short transfers (signals, NFS,
 * pipes to FUSE) are continued until the whole request is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/hdd.h"
#include "core/log.h"

static int raw_read(struct block_dev *bd, u64 offset, void *buf, size_t len)
{
	return block_pread_all(bd->fd, buf, len, offset);
}

static int raw_write(struct block_dev *bd, u64 offset, const void *buf,
		     size_t len)
{
	return block_pwrite_all(bd->fd, buf, len, offset);
}

/*
 * A guessed-raw image must keep guessing raw: refuse a write that would
 * put another format's magic at its start (see BLOCK_OPEN_PROBED).
 */
static int raw_probed_write(struct block_dev *bd, u64 offset, const void *buf,
			    size_t len)
{
	u8 head[HDD_MAGIC_LEN] = {0};
	int r;

	if (offset < sizeof(head) && bd->size >= sizeof(head)) {
		r = raw_read(bd, 0, head, sizeof(head));
		if (r)
			return r;
		memcpy(head + offset, buf,
		       MIN(len, sizeof(head) - (size_t)offset));
		if (hdd_probe(head, sizeof(head))) {
			log_guest_once("block",
				       "%s: refused a write that would make "
				       "this raw image look like a Parallels "
				       "image",
				       bd->path);
			return -EPERM;
		}
	}
	return raw_write(bd, offset, buf, len);
}

static int raw_flush(struct block_dev *bd)
{
	return fdatasync(bd->fd) ? -errno : 0;
}

/*
 * A hole reads as zeros. A block device opened as a raw image (a bare
 * block_open_raw) gets the same call: the kernel turns it into a discard
 * or a zero-out of the device.
 */
static int raw_discard(struct block_dev *bd, u64 offset, u64 len)
{
	return block_punch_hole(bd->fd, offset, len);
}

static void raw_close(struct block_dev *bd)
{
	if (bd->fd >= 0)
		close(bd->fd);
	bd->fd = -1;
}

static const struct block_ops raw_ops = {
	.format = "raw",
	.read = raw_read,
	.write = raw_write,
	.flush = raw_flush,
	.discard = raw_discard,
	.close = raw_close,
};

static const struct block_ops raw_probed_ops = {
	.format = "raw",
	.read = raw_read,
	.write = raw_probed_write,
	.flush = raw_flush,
	.discard = raw_discard,
	.close = raw_close,
};

static int raw_open_fd(const char *path, bool read_only, char *err,
		       size_t errlen)
{
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	int e = errno;

	if (fd >= 0)
		return fd;
	if (!read_only && (e == EACCES || e == EROFS))
		snprintf(err, errlen,
			 "%s: cannot open for writing (%s); use it read-only",
			 path, strerror(e));
	else if (e == EISDIR)
		snprintf(err, errlen, "%s: is a directory", path);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	return -e;
}

/* Size in bytes of what fd refers to, or -errno with a reason in err. */
static int raw_size(int fd, const char *path, u64 *size, char *err,
		    size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st)) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (u64)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size)) {
			int e = errno;

			snprintf(err, errlen, "%s: cannot get size: %s", path,
				 strerror(e));
			return -e;
		}
	} else {
		snprintf(err, errlen, "%s: not a regular file or block device",
			 path);
		return -EINVAL;
	}
	if (!*size) {
		snprintf(err, errlen, "%s: image is empty", path);
		return -EINVAL;
	}
	return 0;
}

int block_open_raw(const char *path, unsigned flags, struct block_dev **out,
		   char *err, size_t errlen)
{
	bool read_only = flags & BLOCK_OPEN_READ_ONLY;
	struct block_dev *bd;
	u64 size = 0;
	int fd, r;

	*out = NULL;
	fd = raw_open_fd(path, read_only, err, errlen);
	if (fd < 0)
		return fd;
	r = raw_size(fd, path, &size, err, errlen);
	if (r) {
		close(fd);
		return r;
	}
	bd = calloc(1, sizeof(*bd));
	if (bd)
		bd->path = strdup(path);
	if (!bd || !bd->path) {
		free(bd);
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	bd->ops = flags & BLOCK_OPEN_PROBED ? &raw_probed_ops : &raw_ops;
	bd->size = size;
	bd->read_only = read_only;
	bd->fd = fd;
	*out = bd;
	return 0;
}

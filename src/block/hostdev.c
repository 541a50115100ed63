// SPDX-License-Identifier: MIT
/*
 * Host block devices (see hostdev.h). I/O goes through the host's page
 * cache, as for an image file, so the device's logical sector size only
 * has to be a whole number of the guest's 512-byte sectors.
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

#include "block/hostdev.h"

#define HOSTDEV_SECTOR 512u

bool hostdev_probe(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISBLK(st.st_mode);
}

static int hostdev_read(struct block_dev *bd, u64 offset, void *buf, size_t len)
{
	return block_pread_all(bd->fd, buf, len, offset);
}

static int hostdev_write(struct block_dev *bd, u64 offset, const void *buf,
			 size_t len)
{
	return block_pwrite_all(bd->fd, buf, len, offset);
}

/* fdatasync on a block device also flushes the drive's write cache. */
static int hostdev_flush(struct block_dev *bd)
{
	return fdatasync(bd->fd) ? -errno : 0;
}

/*
 * BLKDISCARD, as the guest would issue it to this drive on bare metal. The
 * device only takes whole logical blocks, so the range shrinks to the
 * blocks it covers entirely (a discard may do less than asked). Only
 * writable devices get here (block_discard refuses read-only ones): the
 * ioctl needs a writable fd, and a read-only pass-through must never lose
 * data. Drives without discard answer -EOPNOTSUPP.
 */
static int hostdev_discard(struct block_dev *bd, u64 offset, u64 len)
{
	u64 range[2], end = offset + len;
	int ssz = 0;

	if (ioctl(bd->fd, BLKSSZGET, &ssz))
		return -errno;
	if (ssz <= 0)
		return -EIO;
	range[0] = (offset + (u64)ssz - 1) / (u64)ssz * (u64)ssz;
	end -= end % (u64)ssz;
	if (end <= range[0])
		return 0;
	range[1] = end - range[0];
	return ioctl(bd->fd, BLKDISCARD, range) ? -errno : 0;
}

static void hostdev_close(struct block_dev *bd)
{
	if (bd->fd >= 0)
		close(bd->fd);
	bd->fd = -1;
}

static const struct block_ops hostdev_ops = {
	.format = "host device",
	.read = hostdev_read,
	.write = hostdev_write,
	.flush = hostdev_flush,
	.discard = hostdev_discard,
	.close = hostdev_close,
};

static int hostdev_open_error(const char *path, bool writable, int e, char *err,
			      size_t errlen)
{
	switch (e) {
	case ENOMEDIUM:
		snprintf(err, errlen, "%s: no medium in the drive (size 0)",
			 path);
		break;
	case EBUSY:
		snprintf(err, errlen,
			 "%s: busy: mounted by the host or held exclusively "
			 "by another program; unmount it first",
			 path);
		break;
	case EACCES:
	case EPERM:
		snprintf(err, errlen,
			 "%s: permission denied for %s (the 'disk' or 'cdrom' "
			 "group may have access)",
			 path, writable ? "writing" : "reading");
		break;
	case EROFS:
		snprintf(err, errlen,
			 "%s: the device is read-only; attach it with ,ro",
			 path);
		break;
	default:
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	}
	return -e;
}

/*
 * Read-write: O_EXCL, which for a block device means "not mounted and not
 * opened exclusively by anyone else" (open(2)). Read-only opens leave the
 * host free to use the device too.
 */
static int hostdev_open_fd(const char *path, bool writable, char *err,
			   size_t errlen)
{
	int flags = writable ? O_RDWR | O_EXCL : O_RDONLY;
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return hostdev_open_error(path, writable, errno, err, errlen);
	return fd;
}

/* Size and logical sector size; both must be whole 512-byte sectors. */
static int hostdev_geometry(int fd, const char *path, u64 *size, char *err,
			    size_t errlen)
{
	int ssz = 0;

	if (ioctl(fd, BLKGETSIZE64, size) || ioctl(fd, BLKSSZGET, &ssz)) {
		int e = errno;

		if (e == ENOMEDIUM)
			return hostdev_open_error(path, false, e, err, errlen);
		snprintf(err, errlen, "%s: cannot get the device's size: %s",
			 path, strerror(e));
		return -e;
	}
	if (ssz <= 0 || ssz % HOSTDEV_SECTOR) {
		snprintf(err, errlen,
			 "%s: logical sector size %d is not a multiple of 512",
			 path, ssz);
		return -EINVAL;
	}
	if (!*size) {
		/* A CD reader without a disc may open and report 0 bytes. */
		return hostdev_open_error(path, false, ENOMEDIUM, err, errlen);
	}
	if (*size % HOSTDEV_SECTOR) {
		snprintf(err, errlen,
			 "%s: size %llu is not a multiple of 512 bytes", path,
			 (unsigned long long)*size);
		return -EINVAL;
	}
	return 0;
}

static int hostdev_new(const char *path, int fd, u64 size, bool read_only,
		       struct block_dev **out, char *err, size_t errlen)
{
	struct block_dev *bd = calloc(1, sizeof(*bd));

	if (bd)
		bd->path = strdup(path);
	if (!bd || !bd->path) {
		free(bd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	bd->ops = &hostdev_ops;
	bd->size = size;
	bd->read_only = read_only;
	bd->fd = fd;
	*out = bd;
	return 0;
}

int block_open_hostdev(const char *path, unsigned flags, struct block_dev **out,
		       char *err, size_t errlen)
{
	bool writable = (flags & BLOCK_OPEN_DEVICE_WRITE) &&
			!(flags & BLOCK_OPEN_READ_ONLY);
	u64 size = 0;
	int fd, r;

	*out = NULL;
	fd = hostdev_open_fd(path, writable, err, errlen);
	if (fd < 0)
		return fd;
	r = hostdev_geometry(fd, path, &size, err, errlen);
	if (!r)
		r = writable ? block_lock(fd, path, err, errlen) :
			       block_lock_read(fd, path, err, errlen);
	if (!r)
		r = hostdev_new(path, fd, size, !writable, out, err, errlen);
	if (r)
		close(fd);
	return r;
}

// SPDX-License-Identifier: MIT
/*
 * Format-independent half of the block layer: every access is checked
 * against the device size here, once, so no backend ever sees an offset
 * outside its image.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "block/bundle.h"
#include "block/hdd.h"
#include "block/hostdev.h"

static bool block_in_range(const struct block_dev *bd, u64 offset, size_t len)
{
	return offset <= bd->size && len <= bd->size - offset;
}

int block_read(struct block_dev *bd, u64 offset, void *buf, size_t len)
{
	if (!block_in_range(bd, offset, len))
		return -EINVAL;
	if (!len)
		return 0;
	return bd->ops->read(bd, offset, buf, len);
}

int block_write(struct block_dev *bd, u64 offset, const void *buf, size_t len)
{
	if (!block_in_range(bd, offset, len))
		return -EINVAL;
	if (bd->read_only)
		return -EROFS;
	if (!len)
		return 0;
	return bd->ops->write(bd, offset, buf, len);
}

int block_flush(struct block_dev *bd)
{
	if (bd->read_only || !bd->ops->flush)
		return 0;
	return bd->ops->flush(bd);
}

int block_discard(struct block_dev *bd, u64 offset, u64 len)
{
	if (offset % BLOCK_SECTOR || len % BLOCK_SECTOR || offset > bd->size ||
	    len > bd->size - offset)
		return -EINVAL;
	if (bd->read_only)
		return -EROFS;
	if (!bd->ops->discard)
		return -EOPNOTSUPP;
	if (!len)
		return 0;
	return bd->ops->discard(bd, offset, len);
}

bool block_can_discard(const struct block_dev *bd)
{
	return !bd->read_only && bd->ops->discard;
}

void block_close(struct block_dev *bd)
{
	if (!bd)
		return;
	if (bd->ops->close)
		bd->ops->close(bd);
	free(bd->path);
	free(bd);
}

/*
 * OFD locks have no owner pid (F_OFD_GETLK reports -1), so the holder also
 * locks one byte at BLOCK_LOCK_PID_BASE + its pid, far beyond any image's
 * end; a refused opener finds that byte and so the pid. The image lock
 * itself covers everything below BLOCK_LOCK_PID_BASE.
 */
#define BLOCK_LOCK_PID_BASE (1ll << 62)
#define BLOCK_LOCK_PID_SPAN (1ll << 32)

static int block_ofd_lock(int fd, int cmd, short type, off_t start,
			  off_t len, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	return fcntl(fd, cmd, fl);
}

/* The pid holding a conflicting lock, or 0 when it cannot be found. */
static pid_t block_lock_holder(int fd)
{
	struct flock fl;

	if (!block_ofd_lock(fd, F_OFD_GETLK, F_WRLCK, BLOCK_LOCK_PID_BASE,
			    BLOCK_LOCK_PID_SPAN, &fl) &&
	    fl.l_type != F_UNLCK && fl.l_start > BLOCK_LOCK_PID_BASE)
		return (pid_t)(fl.l_start - BLOCK_LOCK_PID_BASE);
	return 0;
}

static int block_lock_type(int fd, short type, const char *path, char *err,
			   size_t errlen)
{
	struct flock fl;
	pid_t pid;
	int e;

	if (!block_ofd_lock(fd, F_OFD_SETLK, type, 0, BLOCK_LOCK_PID_BASE,
			    &fl)) {
		/* It only names the holder: failing loses just the pid. */
		block_ofd_lock(fd, F_OFD_SETLK, type,
			       BLOCK_LOCK_PID_BASE + getpid(), 1, &fl);
		return 0;
	}
	e = errno;
	if (e != EAGAIN && e != EACCES) {
		snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(e));
		return -e;
	}
	pid = block_lock_holder(fd);
	if (pid)
		snprintf(err, errlen, "%s: in use by another process (pid %ld)",
			 path, (long)pid);
	else
		snprintf(err, errlen, "%s: in use by another process", path);
	return -EBUSY;
}

int block_lock(int fd, const char *path, char *err, size_t errlen)
{
	return block_lock_type(fd, F_WRLCK, path, err, errlen);
}

int block_lock_read(int fd, const char *path, char *err, size_t errlen)
{
	return block_lock_type(fd, F_RDLCK, path, err, errlen);
}

int block_pwrite_all(int fd, const void *buf, size_t len, u64 off)
{
	const u8 *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += (u64)n;
		len -= (size_t)n;
	}
	return 0;
}

int block_pread_all(int fd, void *buf, size_t len, u64 off)
{
	u8 *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) /* past the end: the file or device shrank */
			return -EIO;
		p += n;
		off += (u64)n;
		len -= (size_t)n;
	}
	return 0;
}

int block_punch_hole(int fd, u64 off, u64 len)
{
	int r;

	do {
		r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len);
	} while (r && errno == EINTR);
	if (!r)
		return 0;
	return errno == ENOSYS ? -EOPNOTSUPP : -errno;
}

/* Read the first bytes of path to pick its format; false if unreadable. */
bool block_file_is_hdd(const char *path)
{
	u8 magic[HDD_MAGIC_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, magic, sizeof(magic), 0);
	close(fd);
	return n == (ssize_t)sizeof(magic) && hdd_probe(magic, sizeof(magic));
}

int block_open(const char *path, unsigned flags, struct block_dev **out,
	       char *err, size_t errlen)
{
	int r;

	if (hostdev_probe(path))
		return block_open_hostdev(path, flags, out, err, errlen);
	if (bundle_probe(path))
		return block_open_bundle(path, flags, out, err, errlen);
	if (block_file_is_hdd(path))
		return block_open_hdd(path, flags, out, err, errlen);
	r = block_open_raw(path, flags | BLOCK_OPEN_PROBED, out, err, errlen);
	if (r || (*out)->read_only)
		return r;
	r = block_lock((*out)->fd, path, err, errlen);
	if (r) {
		block_close(*out);
		*out = NULL;
	}
	return r;
}

// SPDX-License-Identifier: MIT
/*
 * The "file:PATH" backend: everything the device sends is written to PATH
 * (created or truncated when the backend opens). It never has input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "core/log.h"

static size_t chardev_file_write(struct chardev *cd, const u8 *buf, size_t len)
{
	size_t n = chardev_limit_take(&cd->file_written, len, &cd->file_full);
	int ret = n ? chardev_fd_write_all(cd->out_fd, buf, n) : 0;

	/* A full disk must not stop the guest: drop, say so once. */
	if (ret < 0)
		log_guest_once("chardev", "file output lost: %s",
			       strerror(-ret));
	return len;
}

static void chardev_file_close(struct chardev *cd)
{
	if (cd->owns_fds)
		close(cd->out_fd);
	free(cd);
}

static const struct chardev_ops chardev_file_ops = {
	.write = chardev_file_write,
	.close = chardev_file_close,
};

int chardev_file_open(const char *path, struct chardev **out, char *err,
		      size_t errlen)
{
	struct chardev *cd;
	int fd;

	if (!*path) {
		snprintf(err, errlen, "file: needs a path (file:PATH)");
		return -EINVAL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "file:%s: %s", path, strerror(e));
		return -e;
	}
	cd = calloc(1, sizeof(*cd));
	if (!cd) {
		close(fd);
		snprintf(err, errlen, "file:%s: out of memory", path);
		return -ENOMEM;
	}
	cd->ops = &chardev_file_ops;
	cd->in_fd = -1;
	cd->out_fd = fd;
	cd->owns_fds = true;
	*out = cd;
	return 0;
}

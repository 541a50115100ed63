// SPDX-License-Identifier: MIT
/*
 * Character backend front end: turns a specification into a backend and
 * forwards the device's calls to it. The "none" backend lives here; the
 * terminal and file backends have their own files.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "core/log.h"

#define CHARDEV_FILE_PREFIX "file:"

static u64 chardev_file_limit(void)
{
	const char *v = getenv("TWOOSTWO_LOG_LIMIT");

	return v && *v ? strtoull(v, NULL, 0) : CHARDEV_FILE_LIMIT;
}

size_t chardev_limit_take(u64 *written, size_t len, bool *warned)
{
	u64 limit = chardev_file_limit();
	u64 room = *written < limit ? limit - *written : 0;

	if (len > room)
		len = (size_t)room;
	*written += len;
	if (!len && !*warned) {
		*warned = true;
		log_warn("chardev",
			 "guest output reached the %llu-byte limit; "
			 "the rest is dropped",
			 (unsigned long long)limit);
	}
	return len;
}

int chardev_fd_write_all(int fd, const u8 *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			/* Someone made the fd non-blocking: wait for room. */
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static size_t chardev_none_write(struct chardev *cd, const u8 *buf, size_t len)
{
	return len;
}

static void chardev_none_close(struct chardev *cd)
{
	free(cd);
}

static const struct chardev_ops chardev_none_ops = {
	.write = chardev_none_write,
	.close = chardev_none_close,
};

static int chardev_none_open(struct chardev **out, char *err, size_t errlen)
{
	struct chardev *cd = calloc(1, sizeof(*cd));

	if (!cd) {
		snprintf(err, errlen, "none: out of memory");
		return -ENOMEM;
	}
	cd->ops = &chardev_none_ops;
	cd->in_fd = -1;
	cd->out_fd = -1;
	*out = cd;
	return 0;
}

int chardev_open(const char *spec, struct evloop *loop, struct chardev **out,
		 char *err, size_t errlen)
{
	size_t prefix = strlen(CHARDEV_FILE_PREFIX);

	*out = NULL;
	if (!strcmp(spec, "stdio"))
		return chardev_stdio_open(loop, out, err, errlen);
	if (!strncmp(spec, CHARDEV_FILE_PREFIX, prefix))
		return chardev_file_open(spec + prefix, out, err, errlen);
	if (!strcmp(spec, "none"))
		return chardev_none_open(out, err, errlen);
	if (!strncmp(spec, "tty:", 4) || !strcmp(spec, "pty"))
		return chardev_tty_open(spec, loop, out, err, errlen);
	if (!strncmp(spec, "unix:", 5) || !strncmp(spec, "tcp:", 4))
		return chardev_socket_open(spec, loop, out, err, errlen);
	snprintf(err, errlen,
		 "serial backend '%s' unknown (use stdio, file:PATH, "
		 "unix:PATH[,server], tcp:HOST:PORT[,server], tty:DEVICE, "
		 "pty or none)",
		 spec);
	return -EINVAL;
}

void chardev_set_receiver(struct chardev *cd, const struct chardev_receiver *rx)
{
	if (!cd)
		return;
	if (rx)
		cd->rx = *rx;
	else
		cd->rx = (struct chardev_receiver){0};
	chardev_accept_input(cd);
}

size_t chardev_write(struct chardev *cd, const u8 *buf, size_t len)
{
	if (!cd || !len)
		return len;
	return cd->ops->write(cd, buf, len);
}

void chardev_accept_input(struct chardev *cd)
{
	if (cd && cd->ops->accept_input)
		cd->ops->accept_input(cd);
}

void chardev_set_line(struct chardev *cd, const struct chardev_line *l)
{
	if (cd && cd->ops->set_line)
		cd->ops->set_line(cd, l);
}

void chardev_set_modem(struct chardev *cd, unsigned outputs)
{
	if (cd && cd->ops->set_modem)
		cd->ops->set_modem(cd, outputs);
}

int chardev_get_modem(struct chardev *cd)
{
	if (cd && cd->ops->get_modem)
		return cd->ops->get_modem(cd);
	return -ENOTSUP;
}

void chardev_close(struct chardev *cd)
{
	if (cd)
		cd->ops->close(cd);
}

// SPDX-License-Identifier: MIT
/*
 * The "stdio" backend: the device talks to the user's terminal (or to
 * whatever pipes stdin and stdout are).
 *
 * A terminal on stdin is put into raw mode so every key reaches the guest
 * as typed, and put back at close and at exit. Input is read only while
 * the device has room for it: when it is full, stdin leaves the event loop
 * until the device calls chardev_accept_input, so the bytes wait in the
 * kernel's buffer instead of being dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "core/log.h"

#define STDIO_READ_CHUNK 256

struct chardev_stdio {
	struct chardev cd;
	bool watching; /* stdin is in the event loop */
	bool eof;      /* stdin ended or cannot be watched */
};

/* The terminal is process-wide, hence one stdio backend at a time. */
static bool stdio_in_use;
static bool stdio_tty_saved;
static struct termios stdio_saved_tty;

static void stdio_restore_tty(void)
{
	if (!stdio_tty_saved)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &stdio_saved_tty);
	stdio_tty_saved = false;
}

/*
 * Raw input, but ISIG stays on so Ctrl-C still stops the machine (the serial
 * console has no escape key of its own) and OPOST stays on so the host's
 * log lines on the same terminal keep their line starts.
 */
static void stdio_make_raw(void)
{
	static bool atexit_done;
	struct termios raw;

	if (!isatty(STDIN_FILENO) ||
	    tcgetattr(STDIN_FILENO, &stdio_saved_tty) < 0)
		return;
	raw = stdio_saved_tty;
	raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				   IGNCR | ICRNL | IXON);
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (!atexit_done) {
		atexit(stdio_restore_tty);
		atexit_done = true;
	}
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		stdio_tty_saved = true;
}

static size_t stdio_room(const struct chardev_stdio *s)
{
	const struct chardev_receiver *rx = &s->cd.rx;

	return rx->can_receive ? rx->can_receive(rx->opaque) : 0;
}

static void stdio_readable(void *opaque, int fd, u32 events);

static void stdio_watch(struct chardev_stdio *s, bool on)
{
	int ret;

	if (on == s->watching || !s->cd.loop)
		return;
	if (!on) {
		evloop_del_fd(s->cd.loop, s->cd.in_fd);
		s->watching = false;
		return;
	}
	ret = evloop_add_fd(s->cd.loop, s->cd.in_fd, EPOLLIN, stdio_readable,
			    s);
	if (ret < 0) {
		/* epoll refuses regular files: no input, say why once. */
		log_warn("chardev", "stdin cannot be watched (%s): no input",
			 strerror(-ret));
		s->eof = true;
		return;
	}
	s->watching = true;
}

static void stdio_readable(void *opaque, int fd, u32 events)
{
	struct chardev_stdio *s = opaque;
	u8 buf[STDIO_READ_CHUNK];
	size_t room = stdio_room(s);
	ssize_t n;

	if (!room) {
		stdio_watch(s, false);
		return;
	}
	n = read(fd, buf, MIN(room, sizeof(buf)));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		stdio_watch(s, false);
		s->eof = true;
		return;
	}
	s->cd.rx.receive(s->cd.rx.opaque, buf, (size_t)n);
	if (!stdio_room(s))
		stdio_watch(s, false);
}

static void stdio_accept_input(struct chardev *cd)
{
	struct chardev_stdio *s = container_of(cd, struct chardev_stdio, cd);

	if (s->eof)
		return;
	stdio_watch(s, stdio_room(s) > 0);
}

static size_t stdio_write(struct chardev *cd, const u8 *buf, size_t len)
{
	int ret = chardev_fd_write_all(cd->out_fd, buf, len);

	if (ret < 0)
		log_guest_once("chardev", "stdout output lost: %s",
			       strerror(-ret));
	return len;
}

static void stdio_close(struct chardev *cd)
{
	struct chardev_stdio *s = container_of(cd, struct chardev_stdio, cd);

	stdio_watch(s, false);
	stdio_restore_tty();
	stdio_in_use = false;
	free(s);
}

static const struct chardev_ops stdio_ops = {
	.write = stdio_write,
	.close = stdio_close,
	.accept_input = stdio_accept_input,
};

int chardev_stdio_open(struct evloop *loop, struct chardev **out, char *err,
		       size_t errlen)
{
	struct chardev_stdio *s;

	if (stdio_in_use) {
		snprintf(err, errlen, "stdio: already used by another device");
		return -EBUSY;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "stdio: out of memory");
		return -ENOMEM;
	}
	s->cd.ops = &stdio_ops;
	s->cd.loop = loop;
	s->cd.in_fd = STDIN_FILENO;
	s->cd.out_fd = STDOUT_FILENO;
	s->cd.owns_fds = false;
	stdio_in_use = true;
	stdio_make_raw();
	*out = &s->cd;
	return 0;
}

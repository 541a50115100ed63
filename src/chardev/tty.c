// SPDX-License-Identifier: MIT
/*
 * Host serial lines behind a guest UART:
 *
 *   tty:DEVICE   a host serial port (/dev/ttyS0, /dev/ttyUSB0, or a pty
 *                end made by socat): the guest's baud rate, word length,
 *                parity, stop bits and break are applied with termios,
 *                DTR/RTS are set and CTS/DSR/DCD/RI read with
 *                TIOCMSET/TIOCMGET
 *   pty          a new pseudo-terminal; its path is printed on stderr
 *
 * Bytes flow through the stream back end (chardev/socket.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/chardev.h"

/* termios speeds, ascending; the guest's rate maps to the nearest. */
static const struct {
	unsigned baud;
	speed_t speed;
} tty_speeds[] = {
	{50, B50},	   {75, B75},	    {110, B110},     {134, B134},
	{150, B150},	   {200, B200},	    {300, B300},     {600, B600},
	{1200, B1200},	   {1800, B1800},   {2400, B2400},   {4800, B4800},
	{9600, B9600},	   {19200, B19200}, {38400, B38400}, {57600, B57600},
	{115200, B115200},
};

static speed_t tty_speed(unsigned baud)
{
	size_t i;

	for (i = 0; i + 1 < ARRAY_SIZE(tty_speeds); i++)
		if (baud < (tty_speeds[i].baud + tty_speeds[i + 1].baud) / 2)
			return tty_speeds[i].speed;
	return B115200;
}

static void tty_set_line(struct chardev *cd, const struct chardev_line *l)
{
	static const tcflag_t sizes[] = {CS5, CS6, CS7, CS8};
	struct termios t;

	if (tcgetattr(cd->out_fd, &t) < 0)
		return;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB);
	t.c_cflag |= sizes[(l->data_bits - 5) & 3];
	if (l->parity != 'n')
		t.c_cflag |= PARENB;
	if (l->parity == 'o' || l->parity == 'm')
		t.c_cflag |= PARODD;
	if (l->parity == 'm' || l->parity == 's')
		t.c_cflag |= CMSPAR;
	if (l->stop_bits == 2)
		t.c_cflag |= CSTOPB;
	cfsetspeed(&t, tty_speed(l->baud));
	tcsetattr(cd->out_fd, TCSANOW, &t);
	ioctl(cd->out_fd, l->brk ? TIOCSBRK : TIOCCBRK);
}

static void tty_set_modem(struct chardev *cd, unsigned outputs)
{
	int on = (outputs & CHARDEV_DTR ? TIOCM_DTR : 0) |
		 (outputs & CHARDEV_RTS ? TIOCM_RTS : 0);
	int off = (TIOCM_DTR | TIOCM_RTS) & ~on;

	ioctl(cd->out_fd, TIOCMBIS, &on);
	ioctl(cd->out_fd, TIOCMBIC, &off);
}

static int tty_get_modem(struct chardev *cd)
{
	int m;

	if (ioctl(cd->out_fd, TIOCMGET, &m) < 0)
		return -errno;
	return (m & TIOCM_CTS ? CHARDEV_CTS : 0) |
	       (m & TIOCM_DSR ? CHARDEV_DSR : 0) |
	       (m & TIOCM_RI ? CHARDEV_RI : 0) |
	       (m & TIOCM_CD ? CHARDEV_DCD : 0);
}

static const struct chardev_ops tty_ops = {
	.write = chardev_stream_write,
	.close = chardev_stream_close,
	.accept_input = chardev_stream_accept_input,
	.set_line = tty_set_line,
	.set_modem = tty_set_modem,
	.get_modem = tty_get_modem,
};

/* A pty master: its slave's termios is what the guest set. */
static const struct chardev_ops pty_ops = {
	.write = chardev_stream_write,
	.close = chardev_stream_close,
	.accept_input = chardev_stream_accept_input,
	.set_line = tty_set_line,
};

static int tty_open_pty(struct evloop *loop, struct chardev **out, char *err,
			size_t errlen)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct termios t;
	char *name;

	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 ||
	    !(name = ptsname(fd))) {
		snprintf(err, errlen, "pty: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	/* Raw, so the bytes pass unchanged whoever opens the slave. */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	fprintf(stderr, "twoostwo: serial port on pty %s\n", name);
	return chardev_stream_open(fd, loop, &pty_ops, out);
}

int chardev_tty_open(const char *spec, struct evloop *loop,
		     struct chardev **out, char *err, size_t errlen)
{
	const char *path = spec + 4;
	struct termios t;
	int fd, ret;

	if (!strcmp(spec, "pty"))
		return tty_open_pty(loop, out, err, errlen);
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!isatty(fd) || tcgetattr(fd, &t) < 0) {
		snprintf(err, errlen, "%s: not a serial line (tty)", path);
		close(fd);
		return -ENOTTY;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	tcsetattr(fd, TCSANOW, &t);
	ret = chardev_stream_open(fd, loop, &tty_ops, out);
	if (ret)
		snprintf(err, errlen, "%s: out of memory", path);
	return ret;
}

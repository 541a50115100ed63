// SPDX-License-Identifier: MIT
/*
 * ppdev back end of the parallel port (see ppdev.h). The control register
 * goes through without the direction (PPDATADIR) and IRQ-enable bits,
 * which ppdev handles by its own calls or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/parport.h>
#include <linux/ppdev.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "chardev/ppdev.h"

int ppdev_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), ret;

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (ioctl(fd, PPCLAIM) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot claim the port: %s", path,
			 strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

void ppdev_close(int fd)
{
	ioctl(fd, PPRELEASE);
	close(fd);
}

void ppdev_write_data(int fd, u8 v)
{
	unsigned char b = v;

	ioctl(fd, PPWDATA, &b);
}

u8 ppdev_read_data(int fd)
{
	unsigned char b = 0xff;

	ioctl(fd, PPRDATA, &b);
	return b;
}

u8 ppdev_read_status(int fd)
{
	unsigned char b = 0;

	ioctl(fd, PPRSTATUS, &b);
	return b;
}

void ppdev_write_control(int fd, u8 v)
{
	/* STROBE, AUTOFD, nINIT, SELECTIN: the four wire lines. */
	unsigned char b = v & 0x0f;

	ioctl(fd, PPWCONTROL, &b);
}

void ppdev_set_direction(int fd, bool input)
{
	int dir = input;

	ioctl(fd, PPDATADIR, &dir);
}

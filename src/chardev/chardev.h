/* SPDX-License-Identifier: MIT */
/*
 * Character backends: what is behind a serial or parallel port (the user's
 * terminal, a file, nothing). A device writes bytes; bytes from the host
 * arrive through the receiver the device installed, which says how much it
 * can take so that nothing is dropped while the guest is slow.
 */
#ifndef TWOOSTWO_CHARDEV_CHARDEV_H
#define TWOOSTWO_CHARDEV_CHARDEV_H

#include "core/evloop.h"

struct chardev;

struct chardev_receiver {
	/* How many bytes the device can take now. */
	size_t (*can_receive)(void *opaque);
	void (*receive)(void *opaque, const u8 *buf, size_t len);
	void *opaque;
};

struct chardev_ops {
	/* Returns bytes accepted (all of them for files and terminals). */
	size_t (*write)(struct chardev *cd, const u8 *buf, size_t len);
	void (*close)(struct chardev *cd);
	/* The receiver can take more bytes again: resume reading the host. */
	void (*accept_input)(struct chardev *cd);
};

struct chardev {
	const struct chardev_ops *ops;
	struct chardev_receiver rx;
	struct evloop *loop;
	int in_fd; /* -1 when the backend has no input */
	int out_fd;
	bool owns_fds;
	/* file:PATH output so far, capped (chardev_limit_take) */
	u64 file_written;
	bool file_full;
};

/*
 * Parse a backend specification: "stdio", "file:PATH", "none".
 * On error returns -errno and writes a one-line reason into err.
 */
int chardev_open(const char *spec, struct evloop *loop, struct chardev **out,
		 char *err, size_t errlen);
/* Install the device's receiver (NULL: detach it, e.g. when it goes away). */
void chardev_set_receiver(struct chardev *cd,
			  const struct chardev_receiver *rx);
size_t chardev_write(struct chardev *cd, const u8 *buf, size_t len);
void chardev_accept_input(struct chardev *cd);
void chardev_close(struct chardev *cd);

/*
 * Write all of buf to fd, waiting while a non-blocking fd is full.
 * Returns 0 or -errno. Shared by the backends and the debug console.
 */
int chardev_fd_write_all(int fd, const u8 *buf, size_t len);

/*
 * Guest output to a host file (file:PATH serial, the port 0x402 debug log)
 * stops at this many bytes, so a guest cannot fill the host's disk
 * (docs/SECURITY.md, resource limits). TWOOSTWO_LOG_LIMIT=BYTES in the
 * environment changes it.
 */
#define CHARDEV_FILE_LIMIT (64ull << 20)
/*
 * How much of len bytes may still go to a capped file that holds
 * *written; counts them. At the limit: 0, and the warning, once per file.
 */
size_t chardev_limit_take(u64 *written, size_t len, bool *warned);

/* The backends chardev_open chooses from (chardev/stdio.c, file.c). */
int chardev_stdio_open(struct evloop *loop, struct chardev **out, char *err,
		       size_t errlen);
int chardev_file_open(const char *path, struct chardev **out, char *err,
		      size_t errlen);

#endif

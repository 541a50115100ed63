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

/* A UART's line settings, for back ends that are real serial lines. */
struct chardev_line {
	unsigned baud; /* 115200 / divisor */
	u8 data_bits;  /* 5..8 */
	char parity;   /* 'n', 'o', 'e', 'm' (mark), 's' (space) */
	u8 stop_bits;  /* 1 or 2 (1.5 for 5-bit words counts as 2) */
	bool brk;      /* LCR bit 6: the line is held in break */
};

/* Modem lines: outputs the UART drives, inputs it reads. */
#define CHARDEV_DTR BIT(0)
#define CHARDEV_RTS BIT(1)
#define CHARDEV_CTS BIT(4)
#define CHARDEV_DSR BIT(5)
#define CHARDEV_RI BIT(6)
#define CHARDEV_DCD BIT(7)

struct chardev_ops {
	/* Returns bytes accepted (all of them for files and terminals). */
	size_t (*write)(struct chardev *cd, const u8 *buf, size_t len);
	void (*close)(struct chardev *cd);
	/* The receiver can take more bytes again: resume reading the host. */
	void (*accept_input)(struct chardev *cd);
	/* Host serial lines only (chardev/tty.c); NULL elsewhere. */
	void (*set_line)(struct chardev *cd, const struct chardev_line *l);
	void (*set_modem)(struct chardev *cd, unsigned outputs);
	/* CHARDEV_CTS | ...: the inputs now, or -errno when unknown. */
	int (*get_modem)(struct chardev *cd);
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
void chardev_set_line(struct chardev *cd, const struct chardev_line *l);
void chardev_set_modem(struct chardev *cd, unsigned outputs);
/* The modem inputs, or -ENOTSUP: then a UART shows a ready terminal. */
int chardev_get_modem(struct chardev *cd);
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
/* "unix:PATH[,server]" or "tcp:HOST:PORT[,server]" (chardev/socket.c). */
int chardev_socket_open(const char *spec, struct evloop *loop,
			struct chardev **out, char *err, size_t errlen);
/*
 * A back end on a connected stream fd (socket, tty, pty master), with
 * ops' write/close/accept_input left NULL filled from the stream's own.
 * Takes the fd. For chardev/tty.c.
 */
int chardev_stream_open(int fd, struct evloop *loop,
			const struct chardev_ops *ops, struct chardev **out);
void chardev_stream_close(struct chardev *cd);
size_t chardev_stream_write(struct chardev *cd, const u8 *buf, size_t len);
void chardev_stream_accept_input(struct chardev *cd);
/* "tty:DEVICE" (a host serial line) and "pty" (chardev/tty.c). */
int chardev_tty_open(const char *spec, struct evloop *loop,
		     struct chardev **out, char *err, size_t errlen);

#endif

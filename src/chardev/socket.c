// SPDX-License-Identifier: MIT
/*
 * Socket back ends for a serial port:
 *
 *   unix:PATH,server      listen on a Unix socket; one client at a time
 *   unix:PATH             connect to a listening Unix socket
 *   tcp:HOST:PORT,server  listen on TCP (HOST may be empty: all)
 *   tcp:HOST:PORT         connect to a TCP server
 *
 * A server serves one client; a new one takes over from it. While no
 * client is connected, what the guest sends is dropped (like a serial
 * cable with nobody at the other end). Output never blocks the machine: a
 * client that does not read loses the bytes its socket cannot hold.
 * Input is read only while the device has room (see chardev.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev/chardev.h"

#define SOCK_READ_CHUNK 256
#define SOCK_SPEC_MAX 4096

struct chardev_socket {
	struct chardev cd;
	int listen_fd; /* server: the listening socket, else -1 */
	int fd;	       /* the connection, or -1 */
	bool watching;
	char *unlink_path; /* server Unix socket to remove at close */
};

static size_t sock_room(const struct chardev_socket *s)
{
	const struct chardev_receiver *rx = &s->cd.rx;

	return rx->can_receive ? rx->can_receive(rx->opaque) : 0;
}

static void sock_readable(void *opaque, int fd, u32 events);

static void sock_watch(struct chardev_socket *s, bool on)
{
	if (s->fd < 0 || on == s->watching)
		return;
	if (on &&
	    evloop_add_fd(s->cd.loop, s->fd, EPOLLIN, sock_readable, s) < 0)
		return;
	if (!on)
		evloop_del_fd(s->cd.loop, s->fd);
	s->watching = on;
}

static void sock_hangup(struct chardev_socket *s)
{
	sock_watch(s, false);
	close(s->fd);
	s->fd = -1;
	s->cd.in_fd = s->cd.out_fd = -1;
}

static void sock_readable(void *opaque, int fd, u32 events)
{
	struct chardev_socket *s = opaque;
	u8 buf[SOCK_READ_CHUNK];
	size_t room = sock_room(s);
	ssize_t n;

	if (!room) {
		sock_watch(s, false);
		return;
	}
	/* read(), not recv(): the same code serves ttys (chardev/tty.c). */
	n = read(fd, buf, MIN(room, sizeof(buf)));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		sock_hangup(s);
		return;
	}
	s->cd.rx.receive(s->cd.rx.opaque, buf, (size_t)n);
	if (!sock_room(s))
		sock_watch(s, false);
}

static void sock_accept(void *opaque, int lfd, u32 events)
{
	struct chardev_socket *s = opaque;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	/*
	 * One client at a time, and the newcomer takes over: the old one may
	 * be gone unnoticed (its hangup is seen only when we read, and we do
	 * not read while the guest has no room).
	 */
	if (s->fd >= 0)
		sock_hangup(s);
	s->fd = s->cd.in_fd = s->cd.out_fd = fd;
	sock_watch(s, sock_room(s) > 0);
}

void chardev_stream_accept_input(struct chardev *cd)
{
	struct chardev_socket *s = container_of(cd, struct chardev_socket, cd);

	sock_watch(s, sock_room(s) > 0);
}

size_t chardev_stream_write(struct chardev *cd, const u8 *buf, size_t len)
{
	struct chardev_socket *s = container_of(cd, struct chardev_socket, cd);
	ssize_t n;

	if (s->fd < 0)
		return len;
	n = write(s->fd, buf, len); /* non-blocking fd; SIGPIPE ignored */
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		sock_hangup(s);
	return len;
}

void chardev_stream_close(struct chardev *cd)
{
	struct chardev_socket *s = container_of(cd, struct chardev_socket, cd);

	if (s->fd >= 0)
		sock_hangup(s);
	if (s->listen_fd >= 0) {
		evloop_del_fd(cd->loop, s->listen_fd);
		close(s->listen_fd);
	}
	if (s->unlink_path)
		unlink(s->unlink_path);
	free(s->unlink_path);
	free(s);
}

static const struct chardev_ops sock_ops = {
	.write = chardev_stream_write,
	.close = chardev_stream_close,
	.accept_input = chardev_stream_accept_input,
};

int chardev_stream_open(int fd, struct evloop *loop,
			const struct chardev_ops *ops, struct chardev **out)
{
	struct chardev_socket *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->cd.ops = ops;
	s->cd.loop = loop;
	s->listen_fd = -1;
	s->fd = s->cd.in_fd = s->cd.out_fd = fd;
	*out = &s->cd;
	return 0;
}

/* A Unix socket address; a stale socket file is replaced for servers. */
static int sock_unix_addr(const char *path, struct sockaddr_un *a)
{
	*a = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

static int sock_open_unix(struct chardev_socket *s, const char *path,
			  bool server)
{
	struct sockaddr_un a;
	struct stat st;
	int fd, ret = sock_unix_addr(path, &a);

	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (!server) {
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			goto fail;
		s->fd = fd;
		return 0;
	}
	/* Only a socket left by a dead process may be replaced. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && connect(probe, (struct sockaddr *)&a,
						  sizeof(a)) == 0;

		if (probe >= 0)
			close(probe);
		if (live) {
			close(fd);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
		goto fail;
	s->listen_fd = fd;
	s->unlink_path = strdup(path);
	return 0;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

static int sock_open_tcp(struct chardev_socket *s, const char *hostport,
			 bool server)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	int fd = -1, ret, one = 1;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host) || !colon[1])
		return -EINVAL;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	if (server)
		hints.ai_flags = AI_PASSIVE;
	ret = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
	if (ret)
		return -EHOSTUNREACH;
	ret = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (server ? bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
				     listen(fd, 1) == 0 :
			     connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ret;
	if (server) {
		s->listen_fd = fd;
	} else {
		s->fd = fd;
		setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one,
			   sizeof(one));
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	return 0;
}

int chardev_socket_open(const char *spec, struct evloop *loop,
			struct chardev **out, char *err, size_t errlen)
{
	struct chardev_socket *s;
	char addr[SOCK_SPEC_MAX];
	bool unix_sock = !strncmp(spec, "unix:", 5);
	bool server = false;
	size_t n;
	int ret;

	n = strlen(spec + (unix_sock ? 5 : 4));
	if (n >= sizeof(addr)) {
		snprintf(err, errlen, "%s: address too long", spec);
		return -ENAMETOOLONG;
	}
	memcpy(addr, spec + (unix_sock ? 5 : 4), n + 1);
	if (n > 7 && !strcmp(addr + n - 7, ",server")) {
		addr[n - 7] = '\0';
		server = true;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", spec);
		return -ENOMEM;
	}
	s->cd.ops = &sock_ops;
	s->cd.loop = loop;
	s->listen_fd = s->fd = -1;
	ret = unix_sock ? sock_open_unix(s, addr, server) :
			  sock_open_tcp(s, addr, server);
	if (!ret && s->listen_fd >= 0)
		ret = evloop_add_fd(loop, s->listen_fd, EPOLLIN, sock_accept,
				    s);
	if (ret) {
		snprintf(err, errlen, "serial back end %s: %s", spec,
			 ret == -EINVAL ? "use tcp:HOST:PORT[,server]" :
					  strerror(-ret));
		chardev_stream_close(&s->cd);
		return ret;
	}
	s->cd.in_fd = s->cd.out_fd = s->fd;
	*out = &s->cd;
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * The control socket (see control.h): parsing, per-client line buffers and
 * the listening socket, all on the machine thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "machine/control.h"

/* The listening socket's backlog: clients are few and short-lived. */
#define CONTROL_BACKLOG 4

struct control_client {
	struct control *ctl;
	int fd;
	size_t len;    /* bytes of the current line in buf */
	bool overlong; /* the current line outgrew buf: skip to '\n' */
	char buf[CONTROL_LINE_MAX];
};

struct control {
	struct evloop *loop;
	const struct control_ops *ops;
	void *opaque;
	char *path;
	int listen_fd;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
};

/* Parsing */

static bool control_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next word of *p, NUL-terminated in place; NULL at the end. */
static char *control_word(char **p)
{
	char *s = *p, *w;

	while (control_is_space(*s))
		s++;
	if (!*s)
		return NULL;
	w = s;
	while (*s && !control_is_space(*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return w;
}

/* Control characters (NUL included) never belong in a command. */
static bool control_line_printable(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int control_parse_eject(char *rest, struct control_request *req,
			       char *err, size_t errlen)
{
	char *w;

	req->verb = CONTROL_EJECT;
	while ((w = control_word(&rest))) {
		if (strcmp(w, "--force") || req->force) {
			snprintf(err, errlen,
				 "usage: eject [--force] (unexpected '%.64s')",
				 w);
			return -EINVAL;
		}
		req->force = true;
	}
	return 0;
}

/* The path is the rest of the line, so it may hold spaces. */
static int control_parse_path(char *rest, struct control_request *req,
			      enum control_verb verb, char *err, size_t errlen)
{
	size_t n;

	while (control_is_space(*rest))
		rest++;
	n = strlen(rest);
	while (n && control_is_space(rest[n - 1]))
		rest[--n] = '\0';
	if (!n) {
		snprintf(err, errlen, "usage: %s PATH",
			 verb == CONTROL_INSERT ? "insert" : "screendump");
		return -EINVAL;
	}
	req->verb = verb;
	req->path = rest;
	return 0;
}

/* Verbs without arguments. */
static const struct {
	const char *name;
	enum control_verb verb;
} control_plain_verbs[] = {
	{"status", CONTROL_STATUS},   {"state", CONTROL_STATE},
	{"stop", CONTROL_STOP},	      {"quit", CONTROL_QUIT},
	{"reset", CONTROL_RESET},     {"pause", CONTROL_PAUSE},
	{"unpause", CONTROL_UNPAUSE}, {"suspend", CONTROL_SUSPEND},
};

int control_parse(char *line, size_t len, struct control_request *req,
		  char *err, size_t errlen)
{
	char *rest = line, *verb;
	size_t i;

	*req = (struct control_request){0};
	if (len && line[len - 1] == '\r') /* telnet and friends */
		len--;
	if (!control_line_printable(line, len)) {
		snprintf(err, errlen, "control characters in the command");
		return -EINVAL;
	}
	line[len] = '\0';
	verb = control_word(&rest);
	if (!verb) {
		snprintf(err, errlen,
			 "empty command (eject, insert, status, screendump)");
		return -EINVAL;
	}
	if (!strcmp(verb, "eject"))
		return control_parse_eject(rest, req, err, errlen);
	if (!strcmp(verb, "insert"))
		return control_parse_path(rest, req, CONTROL_INSERT, err,
					  errlen);
	if (!strcmp(verb, "screendump"))
		return control_parse_path(rest, req, CONTROL_SCREENDUMP, err,
					  errlen);
	for (i = 0; i < ARRAY_SIZE(control_plain_verbs); i++) {
		if (strcmp(verb, control_plain_verbs[i].name))
			continue;
		if (control_word(&rest)) {
			snprintf(err, errlen, "usage: %s (no arguments)",
				 control_plain_verbs[i].name);
			return -EINVAL;
		}
		req->verb = control_plain_verbs[i].verb;
		return 0;
	}
	snprintf(err, errlen,
		 "unknown command '%.64s' (eject, insert, status, screendump, "
		 "state, stop, quit, reset, pause, unpause, suspend)",
		 verb);
	return -EINVAL;
}

void control_handle_line(const struct control_ops *ops, void *opaque,
			 char *line, size_t len, char *reply, size_t replylen)
{
	struct control_request req;
	char msg[CONTROL_REPLY_MAX - 16] = "";
	int r = control_parse(line, len, &req, msg, sizeof(msg));

	if (!r) {
		switch (req.verb) {
		case CONTROL_EJECT:
			r = ops->eject(opaque, req.force, msg, sizeof(msg));
			break;
		case CONTROL_INSERT:
			r = ops->insert(opaque, req.path, msg, sizeof(msg));
			break;
		case CONTROL_STATUS:
			r = ops->status(opaque, msg, sizeof(msg));
			break;
		case CONTROL_SCREENDUMP:
			r = ops->screendump ?
				    ops->screendump(opaque, req.path, msg,
						    sizeof(msg)) :
				    -ENOTSUP;
			if (r == -ENOTSUP && !*msg)
				snprintf(msg, sizeof(msg), "no screen");
			break;
		default:
			if (ops->machine) {
				r = ops->machine(opaque, req.verb, msg,
						 sizeof(msg));
			} else {
				snprintf(msg, sizeof(msg),
					 "not offered by this machine");
				r = -ENOTSUP;
			}
			break;
		}
	}
	if (r)
		snprintf(reply, replylen, "error: %s\n", msg);
	else
		snprintf(reply, replylen, "ok%s%s\n", *msg ? " " : "", msg);
}

/* Clients */

static void control_drop(struct control_client *cl)
{
	struct control *ctl = cl->ctl;
	unsigned i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i] == cl)
			ctl->clients[i] = NULL;
	evloop_del_fd(ctl->loop, cl->fd);
	close(cl->fd);
	free(cl);
}

/*
 * Answers are short and one per line; a client whose socket buffer is
 * full has stopped reading them, and is dropped rather than waited for.
 */
static bool control_send(struct control_client *cl, const char *s)
{
	size_t len = strlen(s);
	ssize_t n = send(cl->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	return n == (ssize_t)len;
}

static bool control_line_done(struct control_client *cl)
{
	char reply[CONTROL_REPLY_MAX];

	if (cl->overlong)
		snprintf(reply, sizeof(reply),
			 "error: line longer than %d bytes\n",
			 CONTROL_LINE_MAX - 1);
	else
		control_handle_line(cl->ctl->ops, cl->ctl->opaque, cl->buf,
				    cl->len, reply, sizeof(reply));
	cl->len = 0;
	cl->overlong = false;
	return control_send(cl, reply);
}

/* Take in bytes; false once the client must be dropped. */
static bool control_feed(struct control_client *cl, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (!cl->overlong && take < sizeof(cl->buf) - cl->len) {
			memcpy(cl->buf + cl->len, p, take);
			cl->len += take;
		} else {
			cl->overlong = true; /* keep one byte for the NUL */
		}
		if (!nl)
			return true;
		if (!control_line_done(cl))
			return false;
		p = nl + 1;
		n -= take + 1;
	}
	return true;
}

static void control_client_ready(void *opaque, int fd, u32 events)
{
	struct control_client *cl = opaque;
	char chunk[1024];
	ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* End of file or error: a line without its '\n' is not run. */
	if (n <= 0 || !control_feed(cl, chunk, (size_t)n))
		control_drop(cl);
}

static void control_accept(void *opaque, int fd, u32 events)
{
	struct control *ctl = opaque;
	struct control_client *cl;
	unsigned i;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS && ctl->clients[i]; i++)
		;
	cl = i < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
	if (!cl) {
		static const char busy[] = "error: too many clients\n";

		/* The refusal is best effort. */
		send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	cl->ctl = ctl;
	cl->fd = cfd;
	if (evloop_add_fd(ctl->loop, cfd, EPOLLIN, control_client_ready, cl)) {
		close(cfd);
		free(cl);
		return;
	}
	ctl->clients[i] = cl;
}

/* The socket file */

/* A socket at path that nobody accepts on is left by a dead process. */
static bool control_socket_stale(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool stale;

	if (fd < 0)
		return false;
	stale = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) &&
		errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int control_clear_path(const struct sockaddr_un *addr, char *err,
			      size_t errlen)
{
	const char *path = addr->sun_path;
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -EEXIST;
	}
	if (!control_socket_stale(addr)) {
		snprintf(err, errlen,
			 "%s: another machine is listening on this socket",
			 path);
		return -EADDRINUSE;
	}
	if (unlink(path)) {
		snprintf(err, errlen, "%s: cannot remove the stale socket: %s",
			 path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd, r;

	if (!*path || strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen,
			 "%s: a socket path must be 1 to %zu bytes long", path,
			 sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	r = control_clear_path(&addr, err, errlen);
	if (r)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, CONTROL_BACKLOG)) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot listen: %s", path,
			 strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

int control_open(struct evloop *loop, const char *path,
		 const struct control_ops *ops, void *opaque,
		 struct control **out, char *err, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int r;

	*out = NULL;
	if (ctl)
		ctl->path = strdup(path);
	if (!ctl || !ctl->path) {
		free(ctl);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	ctl->loop = loop;
	ctl->ops = ops;
	ctl->opaque = opaque;
	ctl->listen_fd = control_listen(path, err, errlen);
	if (ctl->listen_fd < 0) {
		r = ctl->listen_fd;
		free(ctl->path);
		free(ctl);
		return r;
	}
	r = evloop_add_fd(loop, ctl->listen_fd, EPOLLIN, control_accept, ctl);
	if (r) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		control_close(ctl);
		return r;
	}
	*out = ctl;
	return 0;
}

void control_close(struct control *ctl)
{
	unsigned i;

	if (!ctl)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i])
			control_drop(ctl->clients[i]);
	evloop_del_fd(ctl->loop, ctl->listen_fd);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

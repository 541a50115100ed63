// SPDX-License-Identifier: MIT
/*
 * A static file server for the web console (RFC 1945, HTTP/1.0: GET and
 * HEAD, one request per connection). Browsers load noVNC's modules over
 * several connections at once, so each connection has its own state;
 * reads and writes never block, a connection that is not done within
 * WEB_DEADLINE_NS is dropped, and at most WEB_MAX_CONNS are open.
 *
 * Only regular files under the directory are served: the path may not
 * contain "..", "%" (no decoding) or a backslash, and the file is opened
 * relative to the directory's descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "ui/web_console.h"

#define WEB_MAX_CONNS 32
#define WEB_REQUEST_MAX 4096
#define WEB_FILE_MAX (8u << 20)
#define WEB_DEADLINE_NS (10 * NSEC_PER_SEC)
#define WEB_SWEEP_NS NSEC_PER_SEC
#define WEB_INDEX "vnc_lite.html"

struct web_conn {
	struct web_console *wc;
	int fd;
	u64 deadline;
	char req[WEB_REQUEST_MAX + 1];
	size_t req_len;
	char *out; /* the whole response */
	size_t out_len, out_sent;
};

struct web_console {
	struct evloop *loop;
	int listen_fd;
	int dir_fd;
	struct timer sweep;
	struct web_conn *conns[WEB_MAX_CONNS];
};

static const struct {
	const char *ext, *type;
} web_types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript"},
	{".css", "text/css"},
	{".json", "application/json"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".woff", "font/woff"},
	{".ttf", "font/ttf"},
	{".mp3", "audio/mpeg"},
	{".oga", "audio/ogg"},
};

static const char *web_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < ARRAY_SIZE(web_types); i++)
		if (!strcmp(dot, web_types[i].ext))
			return web_types[i].type;
	return "application/octet-stream";
}

static void web_close(struct web_conn *c)
{
	struct web_console *wc = c->wc;
	unsigned i;

	for (i = 0; i < WEB_MAX_CONNS; i++)
		if (wc->conns[i] == c)
			wc->conns[i] = NULL;
	evloop_del_fd(wc->loop, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static int web_respond(struct web_conn *c, const char *status, const char *type,
		       const void *body, size_t len, bool head)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nCache-Control: no-cache\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	if (head)
		len = 0;
	c->out = malloc((size_t)n + len);
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, hdr, (size_t)n);
	if (len)
		memcpy(c->out + n, body, len);
	c->out_len = (size_t)n + len;
	c->out_sent = 0;
	return evloop_mod_fd(c->wc->loop, c->fd, EPOLLOUT);
}

static int web_error(struct web_conn *c, const char *status)
{
	return web_respond(c, status, "text/plain", status, strlen(status),
			   false);
}

/* Whether path (after the leading '/') may name a file to serve. */
static bool web_path_ok(const char *path)
{
	if (!*path || strstr(path, "..") || strpbrk(path, "%\\") ||
	    path[0] == '/' || strstr(path, "//"))
		return false;
	return true;
}

/* The file's contents, or NULL with *status saying why not. */
static char *web_read_file(int dir_fd, const char *path, size_t *len,
			   const char **status)
{
	struct stat st;
	char *buf;
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t got;

	*status = "404 Not Found";
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (u64)st.st_size > WEB_FILE_MAX) {
		close(fd);
		return NULL;
	}
	*status = "500 Internal Server Error";
	buf = malloc((size_t)st.st_size + 1);
	got = buf ? pread(fd, buf, (size_t)st.st_size, 0) : -1;
	close(fd);
	if (got != (ssize_t)st.st_size) {
		free(buf);
		return NULL;
	}
	*len = (size_t)got;
	return buf;
}

static int web_handle(struct web_conn *c)
{
	char method[8], target[1024];
	const char *status;
	char *path, *body;
	size_t len;
	bool head;
	int ret;

	if (sscanf(c->req, "%7s %1023s HTTP/1.%*c", method, target) != 2)
		return web_error(c, "400 Bad Request");
	head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET"))
		return web_error(c, "501 Not Implemented");
	if (target[0] != '/')
		return web_error(c, "400 Bad Request");
	target[strcspn(target, "?#")] = 0;
	path = target + 1;
	if (!*path)
		path = WEB_INDEX;
	if (!web_path_ok(path))
		return web_error(c, "404 Not Found");
	body = web_read_file(c->wc->dir_fd, path, &len, &status);
	if (!body)
		return web_error(c, status);
	ret = web_respond(c, "200 OK", web_type(path), body, len, head);
	free(body);
	return ret;
}

static void web_conn_ready(void *opaque, int fd, u32 events)
{
	struct web_conn *c = opaque;
	ssize_t n;

	if (c->out) {
		n = write(fd, c->out + c->out_sent, c->out_len - c->out_sent);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (c->out_sent += (size_t)n) == c->out_len)
			web_close(c);
		return;
	}
	n = read(fd, c->req + c->req_len, WEB_REQUEST_MAX - c->req_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		web_close(c);
		return;
	}
	c->req_len += (size_t)n;
	c->req[c->req_len] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
		if (web_handle(c) < 0)
			web_close(c);
	} else if (c->req_len == WEB_REQUEST_MAX) {
		if (web_error(c, "431 Request Header Fields Too Large") < 0)
			web_close(c);
	}
}

/* Drop connections past their deadline; runs while any are open. */
static void web_sweep(void *opaque)
{
	struct web_console *wc = opaque;
	u64 now = clock_now_ns();
	bool any = false;
	unsigned i;

	for (i = 0; i < WEB_MAX_CONNS; i++) {
		if (!wc->conns[i])
			continue;
		if (wc->conns[i]->deadline <= now)
			web_close(wc->conns[i]);
		else
			any = true;
	}
	if (any)
		timer_arm(&wc->sweep, now + WEB_SWEEP_NS);
}

static void web_accept(void *opaque, int fd, u32 events)
{
	struct web_console *wc = opaque;
	struct web_conn *c;
	unsigned i;
	int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (s < 0)
		return;
	for (i = 0; i < WEB_MAX_CONNS && wc->conns[i]; i++)
		;
	c = i < WEB_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		close(s);
		return;
	}
	c->wc = wc;
	c->fd = s;
	c->deadline = clock_now_ns() + WEB_DEADLINE_NS;
	if (evloop_add_fd(wc->loop, s, EPOLLIN, web_conn_ready, c) < 0) {
		close(s);
		free(c);
		return;
	}
	wc->conns[i] = c;
	timer_arm(&wc->sweep, clock_now_ns() + WEB_SWEEP_NS);
}

int web_console_create(struct evloop *loop, const struct sockaddr *addr,
		       socklen_t addrlen, const char *dir,
		       struct web_console **out, char *err, size_t errlen)
{
	struct web_console *wc = calloc(1, sizeof(*wc));
	int one = 1, ret;

	*out = NULL;
	if (!wc)
		return -ENOMEM;
	wc->loop = loop;
	wc->listen_fd = -1;
	timer_init(&wc->sweep, &loop->timers, web_sweep, wc);
	wc->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wc->dir_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "web console: %s: %s", dir,
			 strerror(errno));
		goto fail;
	}
	wc->listen_fd = socket(addr->sa_family,
			       SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (wc->listen_fd < 0)
		goto fail_errno;
	setsockopt(wc->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(wc->listen_fd, addr, addrlen) < 0 ||
	    listen(wc->listen_fd, 16) < 0)
		goto fail_errno;
	ret = evloop_add_fd(loop, wc->listen_fd, EPOLLIN, web_accept, wc);
	if (ret < 0) {
		snprintf(err, errlen, "web console: %s", strerror(-ret));
		goto fail;
	}
	*out = wc;
	return 0;
fail_errno:
	ret = -errno;
	snprintf(err, errlen, "web console: cannot listen: %s",
		 strerror(errno));
fail:
	web_console_destroy(wc);
	return ret;
}

void web_console_destroy(struct web_console *wc)
{
	unsigned i;

	if (!wc)
		return;
	for (i = 0; i < WEB_MAX_CONNS; i++)
		if (wc->conns[i])
			web_close(wc->conns[i]);
	timer_cancel(&wc->sweep);
	if (wc->listen_fd >= 0) {
		evloop_del_fd(wc->loop, wc->listen_fd);
		close(wc->listen_fd);
	}
	if (wc->dir_fd >= 0)
		close(wc->dir_fd);
	free(wc);
}

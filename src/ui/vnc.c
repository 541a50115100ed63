// SPDX-License-Identifier: MIT
/*
 * VNC server on libvncserver (RFC 6143), fed from the display surface.
 *
 * Threads: none. libvncserver runs in our event loop: its sockets are
 * watched with epoll, and when one is ready (or the screen changed) a
 * timer runs rfbProcessEvents() with no wait, which reads client
 * messages, calls our key and pointer handlers and sends the updates.
 * The fd callbacks only arm that timer: rfbProcessEvents closes sockets,
 * and the event loop must not lose an fd in the middle of its dispatch.
 *
 * We listen ourselves (TCP on one address, or a Unix socket, which
 * libvncserver 0.9.14 cannot) and hand accepted sockets to
 * rfbNewClient(); libvncserver tells WebSocket clients (noVNC) from RFB
 * ones by their first bytes. The web console's pages come from our own
 * file server (web_console.c): libvncserver 0.9.14's HTTP server serves
 * one connection at a time, closing the previous one, which loses the
 * modules a browser loads in parallel.
 *
 * Blocking: libvncserver reads a started message to its end, waiting up
 * to rfbMaxClientWait; we cut that to VNC_CLIENT_WAIT_MS so a client
 * that stalls mid-message cannot hold the machine long. A new connection
 * costs up to 100 ms (libvncserver waits that long for a WebSocket
 * request before it speaks RFB).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include "core/clock.h"
#include "core/log.h"
#include "ui/keysym.h"
#include "ui/vnc.h"
#include "ui/web_console.h"

#define VNC_CLIENT_WAIT_MS 500
#define VNC_MAX_CLIENTS 16
#define VNC_MAX_FDS (VNC_MAX_CLIENTS + 8)
/* While viewers are connected, look at their sockets at least this often. */
#define VNC_POLL_NS (50 * NSEC_PER_MSEC)
#define VNC_PASSWORD_MAX 64
#define VNC_WEB_PORT_OFFSET 100

/* RFB pointer button mask (RFC 6143 7.5.5): 1 left, 2 middle, 4 right,
 * 8 and 16 the wheel up and down. */
#define RFB_LEFT 0x01
#define RFB_MIDDLE 0x02
#define RFB_RIGHT 0x04
#define RFB_WHEEL_UP 0x08
#define RFB_WHEEL_DOWN 0x10

struct vnc {
	struct evloop *loop;
	struct display *display;
	struct display_input input;
	struct display_listener listener;
	rfbScreenInfoPtr screen;
	u32 *fb;
	unsigned width, height;

	int listen_fd;
	int port;	 /* TCP port, or 0 for a Unix socket */
	char *unix_path; /* to unlink at the end */
	char *password;
	char *passwords[2]; /* the list libvncserver checks against */
	char web_url[128];
	struct web_console *web;

	struct timer pump_timer;
	int fds[VNC_MAX_FDS]; /* libvncserver's sockets in the event loop */
	unsigned nr_fds;
	unsigned nr_clients;
};

/* libvncserver's log lines go to our log at debug level. */
static void vnc_rfb_log(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	line[strcspn(line, "\n")] = 0;
	log_debug("vnc", "%s", line);
}

static void vnc_schedule(struct vnc *vnc, u64 when)
{
	timer_arm(&vnc->pump_timer, when);
}

static void vnc_fd_ready(void *opaque, int fd, u32 events)
{
	struct vnc *vnc = opaque;

	vnc_schedule(vnc, clock_now_ns());
}

static bool vnc_fd_wanted(const int *want, unsigned n, int fd)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (want[i] == fd)
			return true;
	return false;
}

/* The sockets libvncserver owns now: every client's. */
static unsigned vnc_collect_fds(struct vnc *vnc, int *want)
{
	rfbScreenInfoPtr s = vnc->screen;
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	unsigned n = 0, clients = 0;

	it = rfbGetClientIterator(s);
	while ((cl = rfbClientIteratorNext(it))) {
		if (cl->sock == RFB_INVALID_SOCKET)
			continue;
		clients++;
		if (n < VNC_MAX_FDS)
			want[n++] = cl->sock;
	}
	rfbReleaseClientIterator(it);
	vnc->nr_clients = clients;
	return n;
}

/*
 * Bring the event loop's set in line with libvncserver's sockets. A
 * socket closed and reopened under the same number lost its epoll
 * registration: the MOD fails and it is added again.
 */
static void vnc_sync_fds(struct vnc *vnc)
{
	int want[VNC_MAX_FDS];
	unsigned n = vnc_collect_fds(vnc, want), i, kept = 0;

	for (i = 0; i < vnc->nr_fds; i++) {
		int fd = vnc->fds[i];

		if (!vnc_fd_wanted(want, n, fd)) {
			evloop_del_fd(vnc->loop, fd);
			continue;
		}
		if (evloop_mod_fd(vnc->loop, fd, EPOLLIN) < 0) {
			evloop_del_fd(vnc->loop, fd);
			continue;
		}
		vnc->fds[kept++] = fd;
	}
	vnc->nr_fds = kept;
	for (i = 0; i < n; i++) {
		if (vnc_fd_wanted(vnc->fds, vnc->nr_fds, want[i]))
			continue;
		if (evloop_add_fd(vnc->loop, want[i], EPOLLIN, vnc_fd_ready,
				  vnc) == 0)
			vnc->fds[vnc->nr_fds++] = want[i];
	}
}

/* Let libvncserver read, answer and send updates, without waiting. */
static void vnc_pump(void *opaque)
{
	struct vnc *vnc = opaque;

	rfbProcessEvents(vnc->screen, 0);
	vnc_sync_fds(vnc);
	if (vnc->nr_clients)
		vnc_schedule(vnc, clock_now_ns() + VNC_POLL_NS);
}

static void vnc_accept(void *opaque, int fd, u32 events)
{
	struct vnc *vnc = opaque;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (c < 0)
		return;
	/* libvncserver watches its sockets with select(). */
	if (c >= FD_SETSIZE || vnc->nr_clients >= VNC_MAX_CLIENTS) {
		log_warn("vnc", "refusing a viewer: too many connections");
		close(c);
		return;
	}
	if (!rfbNewClient(vnc->screen, c)) {
		/* libvncserver closed it (a bad WebSocket request...). */
		return;
	}
	vnc->nr_clients++;
	vnc_schedule(vnc, clock_now_ns());
}

/* 0x00RRGGBB to libvncserver's default 32-bit format (red lowest). */
static inline u32 vnc_pixel(u32 rgb)
{
	return ((rgb >> 16) & 0xff) | (rgb & 0xff00) | ((rgb & 0xff) << 16);
}

static void vnc_copy(struct vnc *vnc, const struct display_surface *s,
		     unsigned x, unsigned y, unsigned w, unsigned h)
{
	unsigned row, col;

	if (x >= vnc->width || y >= vnc->height || s->width != vnc->width ||
	    s->height != vnc->height)
		return;
	w = MIN(w, vnc->width - x);
	h = MIN(h, vnc->height - y);
	for (row = y; row < y + h; row++) {
		const u32 *src =
			(const u32 *)((const u8 *)s->pixels + row * s->stride) +
			x;
		u32 *dst = vnc->fb + (size_t)row * vnc->width + x;

		for (col = 0; col < w; col++)
			dst[col] = vnc_pixel(src[col]);
	}
	rfbMarkRectAsModified(vnc->screen, (int)x, (int)y, (int)(x + w),
			      (int)(y + h));
	vnc_schedule(vnc, clock_now_ns());
}

/* A new mode: a new framebuffer, announced to viewers (DesktopSize). */
static void vnc_resize(void *opaque, const struct display_surface *s)
{
	struct vnc *vnc = opaque;
	u32 *fb, *old = vnc->fb;

	if (!s->pixels || !s->width || !s->height)
		return;
	fb = calloc((size_t)s->width * s->height, sizeof(u32));
	if (!fb) {
		log_warn("vnc", "no memory for a %ux%u screen", s->width,
			 s->height);
		return;
	}
	vnc->fb = fb;
	vnc->width = s->width;
	vnc->height = s->height;
	rfbNewFramebuffer(vnc->screen, (char *)fb, (int)s->width,
			  (int)s->height, 8, 3, 4);
	free(old);
	vnc_copy(vnc, s, 0, 0, s->width, s->height);
}

static void vnc_update(void *opaque, const struct display_surface *s,
		       unsigned x, unsigned y, unsigned w, unsigned h)
{
	vnc_copy(opaque, s, x, y, w, h);
}

static void vnc_key(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
	struct vnc *vnc = cl->screen->screenData;
	u16 code = keysym_to_set1(sym);

	if (!code) {
		log_debug("vnc", "no PC key for key symbol 0x%x",
			  (unsigned)sym);
		return;
	}
	if (vnc->input.key)
		vnc->input.key(vnc->input.opaque, code, down);
}

/* A pixel position to 0..0xFFFF across the screen. */
static u16 vnc_scale(int pos, unsigned size)
{
	if (pos <= 0 || size < 2)
		return 0;
	if ((unsigned)pos >= size - 1)
		return 0xffff;
	return (u16)(((u32)pos * 0xffffu) / (size - 1));
}

static void vnc_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc *vnc = cl->screen->screenData;
	u8 buttons = (mask & RFB_LEFT ? 1 : 0) | (mask & RFB_RIGHT ? 2 : 0) |
		     (mask & RFB_MIDDLE ? 4 : 0);
	int dz =
		(mask & RFB_WHEEL_DOWN ? 1 : 0) - (mask & RFB_WHEEL_UP ? 1 : 0);

	if (vnc->input.mouse_abs)
		vnc->input.mouse_abs(vnc->input.opaque,
				     vnc_scale(x, vnc->width),
				     vnc_scale(y, vnc->height), dz, buttons);
}

static void vnc_client_gone(rfbClientPtr cl)
{
	struct vnc *vnc = cl->screen->screenData;

	vnc_schedule(vnc, clock_now_ns());
}

static enum rfbNewClientAction vnc_new_client(rfbClientPtr cl)
{
	cl->clientGoneHook = vnc_client_gone;
	return RFB_CLIENT_ACCEPT;
}

static int vnc_read_password(struct vnc *vnc, const char *path, char *err,
			     size_t errlen)
{
	char line[VNC_PASSWORD_MAX + 2];
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	if (!line[0]) {
		snprintf(err, errlen,
			 "%s: the first line (the password) is "
			 "empty",
			 path);
		return -EINVAL;
	}
	vnc->password = strdup(line);
	if (!vnc->password)
		return -ENOMEM;
	vnc->passwords[0] = vnc->password;
	vnc->passwords[1] = NULL;
	return 0;
}

struct vnc_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback;
	bool is_unix;
};

static int vnc_parse_port(const char *s, int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

static int vnc_parse_unix(const char *path, struct vnc_addr *a)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;

	if (!*path || strlen(path) >= sizeof(un->sun_path))
		return -ENAMETOOLONG;
	un->sun_family = AF_UNIX;
	strcpy(un->sun_path, path);
	a->len = sizeof(*un);
	a->is_unix = true;
	a->loopback = true; /* file permissions guard it */
	return 0;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT", "PORT" or "unix:PATH". */
static int vnc_parse_addr(const char *spec, struct vnc_addr *a)
{
	char host[64] = "127.0.0.1";
	const char *colon, *port_s = spec;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	int port;

	memset(a, 0, sizeof(*a));
	if (!strncmp(spec, "unix:", 5))
		return vnc_parse_unix(spec + 5, a);
	if (spec[0] == '[') {
		const char *close_br = strchr(spec, ']');

		if (!close_br || close_br[1] != ':' ||
		    (size_t)(close_br - spec - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec + 1, close_br - spec - 1);
		host[close_br - spec - 1] = 0;
		port_s = close_br + 2;
	} else if ((colon = strrchr(spec, ':'))) {
		if ((size_t)(colon - spec) >= sizeof(host))
			return -EINVAL;
		if (colon != spec) {
			memcpy(host, spec, colon - spec);
			host[colon - spec] = 0;
		}
		port_s = colon + 1;
	}
	if (vnc_parse_port(port_s, &port) < 0)
		return -EINVAL;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((u16)port);
		a->len = sizeof(*in4);
		a->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((u16)port);
		a->len = sizeof(*in6);
		a->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return 0;
	}
	return -EINVAL;
}

/* A stale socket file from an earlier run is replaced; nothing else. */
static int vnc_unlink_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) < 0 ? -errno : 0;
}

static int vnc_listen(struct vnc *vnc, struct vnc_addr *a, char *err,
		      size_t errlen)
{
	int one = 1, fd, ret;

	if (a->is_unix) {
		const char *path = ((struct sockaddr_un *)&a->ss)->sun_path;

		ret = vnc_unlink_stale(path);
		if (ret < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			return ret;
		}
		vnc->unix_path = strdup(path);
	}
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		goto fail;
	if (!a->is_unix)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a->ss, a->len) < 0 ||
	    listen(fd, 8) < 0)
		goto fail;
	if (!a->is_unix) {
		struct sockaddr_storage got;
		socklen_t len = sizeof(got);

		if (getsockname(fd, (struct sockaddr *)&got, &len) < 0)
			goto fail;
		vnc->port =
			ntohs(got.ss_family == AF_INET ?
				      ((struct sockaddr_in *)&got)->sin_port :
				      ((struct sockaddr_in6 *)&got)->sin6_port);
	}
	vnc->listen_fd = fd;
	return evloop_add_fd(vnc->loop, fd, EPOLLIN, vnc_accept, vnc);
fail:
	ret = -errno;
	snprintf(err, errlen, "cannot listen for VNC viewers: %s",
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * The web console: noVNC's pages from our file server on the same
 * address, port web_port; the page's WebSocket goes to the VNC port.
 */
static void vnc_setup_web(struct vnc *vnc, const struct vnc_config *cfg,
			  const struct vnc_addr *a)
{
	struct sockaddr_storage ss = a->ss;
	char host[INET6_ADDRSTRLEN], err[160];
	int web_port = cfg->web_port;
	bool v6 = ss.ss_family == AF_INET6;

	if (!cfg->web_dir || a->is_unix)
		return;
	if (!web_port && vnc->port > 1024 + VNC_WEB_PORT_OFFSET)
		web_port = vnc->port - VNC_WEB_PORT_OFFSET;
	if (web_port <= 0 || web_port > 65535)
		return;
	if (v6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_port = htons((u16)web_port);
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;

		in4->sin_port = htons((u16)web_port);
		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
	}
	if (web_console_create(vnc->loop, (struct sockaddr *)&ss, a->len,
			       cfg->web_dir, &vnc->web, err, sizeof(err)) < 0) {
		log_warn("vnc", "no web console on port %d: %s", web_port, err);
		return;
	}
	snprintf(vnc->web_url, sizeof(vnc->web_url),
		 "http://%s%s%s:%d/vnc_lite.html?port=%d", v6 ? "[" : "", host,
		 v6 ? "]" : "", web_port, vnc->port);
}

static int vnc_setup_screen(struct vnc *vnc, const struct vnc_config *cfg,
			    const struct vnc_addr *a)
{
	int argc = 0;
	rfbScreenInfoPtr s;

	rfbLog = vnc_rfb_log;
	rfbErr = vnc_rfb_log;
	rfbMaxClientWait = VNC_CLIENT_WAIT_MS;
	/* A 1x1 screen until the display says how big it is. */
	vnc->width = 1;
	vnc->height = 1;
	vnc->fb = calloc(1, sizeof(u32));
	s = rfbGetScreen(&argc, NULL, 1, 1, 8, 3, 4);
	if (!vnc->fb || !s)
		return -ENOMEM;
	vnc->screen = s;
	s->frameBuffer = (char *)vnc->fb;
	s->desktopName = "twoostwo";
	s->screenData = vnc;
	s->port = 0; /* we listen ourselves */
	s->ipv6port = 0;
	s->autoPort = FALSE;
	s->alwaysShared = TRUE; /* a second viewer joins, nobody is kicked */
	s->deferUpdateTime = 0;
	s->kbdAddEvent = vnc_key;
	s->ptrAddEvent = vnc_pointer;
	s->newClientHook = vnc_new_client;
	/* The guest draws its own pointer; none from the server on top. */
	s->cursor = NULL; /* the default is a static: nothing to free */
	if (vnc->password) {
		s->authPasswdData = vnc->passwords;
		s->passwordCheck = rfbCheckPasswordByList;
	}
	vnc_setup_web(vnc, cfg, a);
	rfbInitServer(s);
	return 0;
}

int vnc_create(struct evloop *loop, struct display *display,
	       const struct display_input *input, const struct vnc_config *cfg,
	       struct vnc **out, char *err, size_t errlen)
{
	struct vnc *vnc = calloc(1, sizeof(*vnc));
	struct vnc_addr a;
	int ret;

	*out = NULL;
	if (!vnc)
		return -ENOMEM;
	vnc->loop = loop;
	vnc->display = display;
	vnc->listen_fd = -1;
	if (input)
		vnc->input = *input;
	timer_init(&vnc->pump_timer, &loop->timers, vnc_pump, vnc);
	if (vnc_parse_addr(cfg->listen, &a) < 0) {
		snprintf(err, errlen,
			 "--vnc %s: expected HOST:PORT, [IPv6]:PORT, :PORT "
			 "or unix:PATH",
			 cfg->listen);
		ret = -EINVAL;
		goto fail;
	}
	if (!a.loopback && !cfg->password_file) {
		snprintf(err, errlen,
			 "--vnc %s is reachable from other machines: give "
			 "--vnc-password FILE (or listen on 127.0.0.1)",
			 cfg->listen);
		ret = -EPERM;
		goto fail;
	}
	if (cfg->password_file) {
		ret = vnc_read_password(vnc, cfg->password_file, err, errlen);
		if (ret < 0)
			goto fail;
	}
	ret = vnc_listen(vnc, &a, err, errlen);
	if (ret < 0)
		goto fail;
	ret = vnc_setup_screen(vnc, cfg, &a);
	if (ret < 0) {
		snprintf(err, errlen, "cannot start the VNC server: %s",
			 strerror(-ret));
		goto fail;
	}
	vnc->listener = (struct display_listener){
		.resize = vnc_resize, .update = vnc_update, .opaque = vnc};
	display_add_listener(display, &vnc->listener);
	vnc_sync_fds(vnc);
	*out = vnc;
	return 0;
fail:
	vnc_destroy(vnc);
	return ret;
}

void vnc_destroy(struct vnc *vnc)
{
	unsigned i;

	if (!vnc)
		return;
	if (vnc->display && vnc->screen)
		display_remove_listener(vnc->display, &vnc->listener);
	for (i = 0; i < vnc->nr_fds; i++)
		evloop_del_fd(vnc->loop, vnc->fds[i]);
	if (vnc->listen_fd >= 0) {
		evloop_del_fd(vnc->loop, vnc->listen_fd);
		close(vnc->listen_fd);
	}
	if (vnc->screen) {
		rfbShutdownServer(vnc->screen, TRUE);
		rfbScreenCleanup(vnc->screen);
	}
	/* Closing the viewers above arms the pump once more. */
	timer_cancel(&vnc->pump_timer);
	web_console_destroy(vnc->web);
	if (vnc->unix_path) {
		unlink(vnc->unix_path);
		free(vnc->unix_path);
	}
	free(vnc->password);
	free(vnc->fb);
	free(vnc);
}

int vnc_port(const struct vnc *vnc)
{
	return vnc->port;
}

const char *vnc_web_url(const struct vnc *vnc)
{
	return vnc->web ? vnc->web_url : NULL;
}

unsigned vnc_clients(const struct vnc *vnc)
{
	return vnc->nr_clients;
}

// SPDX-License-Identifier: MIT
/*
 * The VNC server (ui/vnc.c) against a real client library, libvncclient:
 * a client connects, receives the display surface pixel for pixel, sees
 * a resolution change (DesktopSize) and later updates, and its keys and
 * pointer arrive as set-1 scan codes and absolute positions. A second
 * client at the same time works too; garbage and a client that leaves in
 * the middle of an update do not stop the server.
 *
 * The server runs on this thread's event loop, as in the machine; the
 * clients run on a second thread and only talk over the socket. The two
 * threads meet through the atomic `phase`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "core/clock.h"
#include "hw/i8042.h"
#include "ui/keysym.h"
#include "ui/vnc.h"
#include "unit.h"

#define MAX_EVENTS 64

struct key_ev {
	u16 code;
	bool down;
};

struct ptr_ev {
	u16 x, y;
	int dz;
	u8 buttons;
};

struct world {
	struct evloop loop;
	struct display display;
	struct vnc *vnc;
	int port;
	/* Server side, written on the main thread only. */
	struct key_ev keys[MAX_EVENTS];
	unsigned nkeys;
	struct ptr_ev ptrs[MAX_EVENTS];
	unsigned nptrs;
	/* Client thread results. */
	atomic_int phase;
	atomic_int client_failed;
	char why[128];
};

static void on_key(void *opaque, u16 code, bool down)
{
	struct world *w = opaque;

	if (w->nkeys < MAX_EVENTS)
		w->keys[w->nkeys++] = (struct key_ev){code, down};
}

static void on_abs(void *opaque, u16 x, u16 y, int dz, u8 buttons)
{
	struct world *w = opaque;

	if (w->nptrs < MAX_EVENTS)
		w->ptrs[w->nptrs++] = (struct ptr_ev){x, y, dz, buttons};
}

/* The test picture: a colour from the position and a seed. */
static u32 pattern(unsigned x, unsigned y, unsigned seed)
{
	return ((x * 7 + seed) & 0xff) << 16 | ((y * 5) & 0xff) << 8 |
	       ((x ^ y ^ seed) & 0xff);
}

static void paint(struct display *d, unsigned seed)
{
	const struct display_surface *s = &d->surface;
	unsigned x, y;

	for (y = 0; y < s->height; y++)
		for (x = 0; x < s->width; x++)
			s->pixels[y * (s->stride / 4) + x] =
				pattern(x, y, seed);
	display_update(d, 0, 0, s->width, s->height);
}

static void quiet(const char *fmt, ...)
{
}

static void fail(struct world *w, const char *why)
{
	if (!atomic_load(&w->client_failed))
		snprintf(w->why, sizeof(w->why), "%s", why);
	atomic_store(&w->client_failed, 1);
}

static rfbClient *connect_client(struct world *w)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	if (!c)
		return NULL;
	free(c->serverHost);
	c->serverHost = strdup("127.0.0.1");
	c->serverPort = w->port;
	c->canHandleNewFBSize = TRUE;
	/* Lossless encodings: the test compares pixels exactly. */
	c->appData.encodingsString = "zrle hextile raw";
	c->appData.enableJPEG = FALSE;
	if (!rfbInitClient(c, NULL, NULL))
		return NULL; /* rfbInitClient freed it */
	return c;
}

/* Handle server messages for up to ms or until done(c) holds. */
static bool pump_client(rfbClient *c, unsigned ms,
			bool (*done)(rfbClient *c, void *arg), void *arg)
{
	u64 end = clock_now_ns() + (u64)ms * NSEC_PER_MSEC;

	while (clock_now_ns() < end) {
		int n = WaitForMessage(c, 20000);

		if (n < 0)
			return false;
		if (n > 0 && !HandleRFBServerMessage(c))
			return false;
		if (done && done(c, arg))
			return true;
	}
	return done == NULL;
}

static bool frame_matches(rfbClient *c, void *arg)
{
	unsigned seed = *(unsigned *)arg, x, y;
	const u32 *fb = (const u32 *)c->frameBuffer;

	if (!fb)
		return false;
	for (y = 0; y < (unsigned)c->height; y++) {
		for (x = 0; x < (unsigned)c->width; x++) {
			u32 want = pattern(x, y, seed);
			u32 r = (want >> 16) & 0xff, g = (want >> 8) & 0xff,
			    b = want & 0xff;
			u32 px = r << c->format.redShift |
				 g << c->format.greenShift |
				 b << c->format.blueShift;

			if ((fb[y * c->width + x] & 0xffffff) != px) {
				if (getenv("VNC_TEST_DEBUG"))
					fprintf(stderr,
						"(%u,%u) 0x%08x want 0x%08x "
						"shifts %d %d %d\n",
						x, y, fb[y * c->width + x], px,

						c->format.redShift,
						c->format.greenShift,
						c->format.blueShift);
				return false;
			}
		}
	}
	return true;
}

static void wait_phase(struct world *w, int phase)
{
	u64 end = clock_now_ns() + 10 * NSEC_PER_SEC;

	while (atomic_load(&w->phase) < phase && clock_now_ns() < end)
		usleep(1000);
}

/* Garbage, then a client that asks for a big update and leaves. */
static void rude_clients(struct world *w)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((u16)w->port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static const u8 garbage[] = "\x00\xff\x13\x37GET /\r\n\r\n\x80\x81"
				    "RFB 999.999\n\x03\x00\x00\x00\xff\xff";
	u8 buf[64];
	int s = socket(AF_INET, SOCK_STREAM, 0), i;

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		(void)!write(s, garbage, sizeof(garbage));
	close(s);
	/* A protocol-correct start, a full update request, then gone. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
		static const u8 req[] = {3, 0,	  0,	0,    0,
					 0, 0xff, 0xff, 0xff, 0xff};
		(void)!read(s, buf, 12);
		(void)!write(s, "RFB 003.008\n", 12);
		(void)!read(s, buf, 2);
		(void)!write(s, "\x01", 1);
		(void)!read(s, buf, 4);
		(void)!write(s, "\x01", 1);
		(void)!read(s, buf, sizeof(buf));
		/* Wrong lengths and a huge rectangle, then leave. */
		for (i = 0; i < 3; i++)
			(void)!write(s, req, sizeof(req));
		(void)!write(s, "\x02\x00\xff\xff", 4); /* 65535 encodings */
	}
	close(s);
}

/* rfbClientCleanup() leaves the framebuffer to its owner. */
static void client_free(rfbClient *c)
{
	free(c->frameBuffer);
	rfbClientCleanup(c);
}

static void *client_thread(void *opaque)
{
	struct world *w = opaque;
	rfbClient *c, *c2;
	unsigned seed = 1;

	rfbClientLog = quiet;
	rfbClientErr = quiet;
	c = connect_client(w);
	if (!c) {
		fail(w, "first client cannot connect");
		atomic_store(&w->phase, 100);
		return NULL;
	}
	if (c->width != 64 || c->height != 48)
		fail(w, "first client: wrong size");
	if (!pump_client(c, 3000, frame_matches, &seed))
		fail(w, "first client: picture differs");
	atomic_store(&w->phase, 1);
	/* The server resizes to 80x40 and paints seed 2. */
	seed = 2;
	if (!pump_client(c, 3000, frame_matches, &seed) || c->width != 80 ||
	    c->height != 40)
		fail(w, "first client: no resize or new picture");
	/* A second client at the same time sees the same. */
	c2 = connect_client(w);
	if (!c2 || !pump_client(c2, 3000, frame_matches, &seed))
		fail(w, "second client");
	SendKeyEvent(c, XK_Shift_L, TRUE);
	SendKeyEvent(c, XK_A, TRUE);
	SendKeyEvent(c, XK_A, FALSE);
	SendKeyEvent(c, XK_Shift_L, FALSE);
	SendKeyEvent(c2, XK_Up, TRUE);
	SendKeyEvent(c2, XK_Up, FALSE);
	SendPointerEvent(c, 79, 0, 1);
	SendPointerEvent(c, 40, 20, 8 | 4);
	atomic_store(&w->phase, 2);
	wait_phase(w, 3);
	seed = 3;
	if (!pump_client(c, 3000, frame_matches, &seed))
		fail(w, "first client: no update after rude clients");
	if (c2)
		client_free(c2);
	rude_clients(w);
	/* After all that, a fresh client still gets the picture. */
	c2 = connect_client(w);
	if (!c2 || !pump_client(c2, 3000, frame_matches, &seed))
		fail(w, "client after garbage");
	if (c2)
		client_free(c2);
	client_free(c);
	atomic_store(&w->phase, 100);
	return NULL;
}

/* Run the server's loop until the client thread reaches phase. */
static void serve_until(struct world *w, int phase)
{
	u64 end = clock_now_ns() + 15 * NSEC_PER_SEC;

	while (atomic_load(&w->phase) < phase && clock_now_ns() < end)
		evloop_run_once(&w->loop, clock_now_ns() + 5 * NSEC_PER_MSEC);
}

static void test_client_sees_screen_and_sends_input(void)
{
	static struct world w;
	const struct display_input input = {
		.key = on_key, .mouse_abs = on_abs, .opaque = &w};
	const struct vnc_config cfg = {.listen = "127.0.0.1:0"};
	char err[200];
	pthread_t t;

	memset(&w, 0, sizeof(w));
	CHECK_EQ(evloop_init(&w.loop), 0);
	display_init(&w.display, NULL, NULL);
	CHECK_EQ(display_resize(&w.display, 64, 48), 0);
	paint(&w.display, 1);
	CHECK_EQ(vnc_create(&w.loop, &w.display, &input, &cfg, &w.vnc, err,
			    sizeof(err)),
		 0);
	w.port = vnc_port(w.vnc);
	CHECK(w.port > 0);
	CHECK(vnc_web_url(w.vnc) == NULL);
	CHECK_EQ(pthread_create(&t, NULL, client_thread, &w), 0);
	serve_until(&w, 1);
	CHECK_EQ(display_resize(&w.display, 80, 40), 0);
	paint(&w.display, 2);
	serve_until(&w, 2);
	/* Let the input messages arrive. */
	{
		u64 end = clock_now_ns() + 2 * NSEC_PER_SEC;

		while ((w.nkeys < 6 || w.nptrs < 2) && clock_now_ns() < end)
			evloop_run_once(&w.loop,
					clock_now_ns() + 5 * NSEC_PER_MSEC);
	}
	paint(&w.display, 3);
	atomic_store(&w.phase, 3);
	serve_until(&w, 100);
	pthread_join(t, NULL);
	if (atomic_load(&w.client_failed))
		fprintf(stderr, "client: %s\n", w.why);
	CHECK(!atomic_load(&w.client_failed));
	/*
	 * Shift, A, A up, Shift up from one client, Up from the other: each
	 * client's keys in order, the two clients in either order.
	 */
	CHECK_EQ(w.nkeys, 6);
	{
		static const struct key_ev want1[] = {{0x2a, true},
						      {0x1e, true},
						      {0x1e, false},
						      {0x2a, false}};
		static const struct key_ev want2[] = {{0xe048, true},
						      {0xe048, false}};
		unsigned i, n1 = 0, n2 = 0;

		for (i = 0; i < w.nkeys; i++) {
			const struct key_ev *k = &w.keys[i];

			if (k->code == 0xe048) {
				CHECK(n2 < 2 && k->down == want2[n2].down);
				n2++;
			} else {
				CHECK(n1 < 4 && k->code == want1[n1].code &&
				      k->down == want1[n1].down);
				n1++;
			}
		}
		CHECK_EQ(n1, 4);
		CHECK_EQ(n2, 2);
	}
	CHECK(w.nptrs >= 2);
	if (w.nptrs >= 2) {
		/* Right edge, top, left button. */
		CHECK_EQ(w.ptrs[0].x, 0xffff);
		CHECK_EQ(w.ptrs[0].y, 0);
		CHECK_EQ(w.ptrs[0].buttons, 1);
		/* Middle of the screen, right button, wheel up. */
		CHECK(w.ptrs[1].x > 0x7f00 && w.ptrs[1].x < 0x8200);
		CHECK(w.ptrs[1].y > 0x8000 && w.ptrs[1].y < 0x8400);
		CHECK_EQ(w.ptrs[1].buttons, 2);
		CHECK_EQ(w.ptrs[1].dz, -1);
	}
	vnc_destroy(w.vnc);
	display_destroy(&w.display);
	evloop_destroy(&w.loop);
}

static void test_refuses_open_address_without_password(void)
{
	struct evloop loop;
	struct display d;
	struct vnc *vnc;
	char err[200] = "";
	const struct vnc_config open_cfg = {.listen = "0.0.0.0:0"};
	const struct vnc_config bad = {.listen = "127.0.0.1:99999"};
	const struct vnc_config no_file = {.listen = "0.0.0.0:0",
					   .password_file = "/nonexistent/pw"};

	CHECK_EQ(evloop_init(&loop), 0);
	display_init(&d, NULL, NULL);
	CHECK_EQ(vnc_create(&loop, &d, NULL, &open_cfg, &vnc, err, sizeof(err)),
		 -EPERM);
	CHECK(vnc == NULL);
	CHECK(strstr(err, "--vnc-password") != NULL);
	CHECK_EQ(vnc_create(&loop, &d, NULL, &bad, &vnc, err, sizeof(err)),
		 -EINVAL);
	CHECK(vnc_create(&loop, &d, NULL, &no_file, &vnc, err, sizeof(err)) <
	      0);
	display_destroy(&d);
	evloop_destroy(&loop);
}

static void test_unix_socket(void)
{
	struct evloop loop;
	struct display d;
	struct vnc *vnc;
	char err[200], path[64], spec[80], buf[12];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s;
	u64 end;
	ssize_t got = 0;

	snprintf(path, sizeof(path), "/tmp/twoostwo-vnc-test-%d", getpid());
	snprintf(spec, sizeof(spec), "unix:%s", path);
	CHECK_EQ(evloop_init(&loop), 0);
	display_init(&d, NULL, NULL);
	CHECK_EQ(display_resize(&d, 16, 16), 0);
	{
		const struct vnc_config cfg = {.listen = spec};

		CHECK_EQ(vnc_create(&loop, &d, NULL, &cfg, &vnc, err,
				    sizeof(err)),
			 0);
	}
	CHECK_EQ(vnc_port(vnc), 0);
	strcpy(a.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	/* The server speaks first: its version string. */
	end = clock_now_ns() + 3 * NSEC_PER_SEC;
	while (got < 12 && clock_now_ns() < end) {
		ssize_t n;

		evloop_run_once(&loop, clock_now_ns() + 5 * NSEC_PER_MSEC);
		n = read(s, buf + got, sizeof(buf) - (size_t)got);
		if (n > 0)
			got += n;
	}
	CHECK_EQ(got, 12);
	CHECK(!memcmp(buf, "RFB 003.008\n", 12));
	close(s);
	vnc_destroy(vnc);
	CHECK(access(path, F_OK) != 0); /* the socket file is gone */
	display_destroy(&d);
	evloop_destroy(&loop);
}

/* Send req on a fresh connection; the reply once the server closes. */
static int web_open(int port, const char *req)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((u16)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	return s;
}

struct web_req {
	int fd;
	const char *req;
	size_t sent;
	char reply[512];
	size_t got;
	bool done;
};

/* Drive all requests and the server's loop until every one is done. */
static void web_drive(struct evloop *loop, struct web_req *r, unsigned n)
{
	u64 end = clock_now_ns() + 5 * NSEC_PER_SEC;
	unsigned i, left = n;

	while (left && clock_now_ns() < end) {
		evloop_run_once(loop, clock_now_ns() + 2 * NSEC_PER_MSEC);
		for (i = 0; i < n; i++) {
			ssize_t k;

			if (r[i].done)
				continue;
			if (r[i].sent < strlen(r[i].req)) {
				k = write(r[i].fd, r[i].req + r[i].sent,
					  strlen(r[i].req) - r[i].sent);
				if (k > 0)
					r[i].sent += (size_t)k;
			}
			k = read(r[i].fd, r[i].reply + r[i].got,
				 sizeof(r[i].reply) - 1 - r[i].got);
			if (k > 0)
				r[i].got += (size_t)k;
			if (k == 0 || r[i].got == sizeof(r[i].reply) - 1) {
				r[i].reply[r[i].got] = 0;
				r[i].done = true;
				left--;
			}
		}
	}
}

static void test_web_console_pages(void)
{
	struct evloop loop;
	struct display d;
	struct vnc *vnc;
	char dir[64], file[96], secret[96], spec[32], err[200], up[128];
	struct web_req r[5] = {
		{.req = "GET /app.js?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"},
		{.req = up},
		{.req = "GET /%2e%2e/secret HTTP/1.0\r\n\r\n"},
		{.req = "POST /app.js HTTP/1.0\r\n\r\n"},
		{.req = "GET /nothere.html HTTP/1.0\r\n\r\n"},
	};
	int slow, port, i;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/twoostwo-web-%d", getpid());
	CHECK_EQ(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/app.js", dir);
	/* A file beside the directory, which no request may reach. */
	snprintf(secret, sizeof(secret), "%s.secret", dir);
	snprintf(up, sizeof(up),
		 "GET /../twoostwo-web-%d.secret HTTP/1.0\r\n\r\n", getpid());
	f = fopen(secret, "w");
	fputs("top secret\n", f);
	fclose(f);
	f = fopen(file, "w");
	fputs("export const hello = 42;\n", f);
	fclose(f);
	CHECK_EQ(evloop_init(&loop), 0);
	display_init(&d, NULL, NULL);
	CHECK_EQ(display_resize(&d, 8, 8), 0);
	/* A VNC port above 1124 gets its console 100 below. */
	port = 0;
	for (i = 0; i < 20 && !port; i++) {
		int p = 20000 + (getpid() * 7 + i * 131) % 20000;
		const struct vnc_config cfg = {.listen = spec, .web_dir = dir};

		snprintf(spec, sizeof(spec), "127.0.0.1:%d", p);
		if (vnc_create(&loop, &d, NULL, &cfg, &vnc, err, sizeof(err)) ==
			    0 &&
		    vnc_web_url(vnc))
			port = p;
		else if (vnc)
			vnc_destroy(vnc);
	}
	CHECK(port != 0);
	if (!port)
		goto out;
	CHECK(strstr(vnc_web_url(vnc), "/vnc_lite.html?port=") != NULL);
	/* A client that never finishes its request must not hold others. */
	slow = web_open(port - 100, NULL);
	(void)!write(slow, "GET /app", 8);
	for (i = 0; i < 5; i++)
		r[i].fd = web_open(port - 100, NULL);
	web_drive(&loop, r, 5);
	CHECK(r[0].done && strstr(r[0].reply, "HTTP/1.0 200 OK"));
	CHECK(strstr(r[0].reply, "Content-Type: text/javascript") != NULL);
	CHECK(strstr(r[0].reply, "hello = 42") != NULL);
	CHECK(strstr(r[1].reply, " 404 ") != NULL);
	CHECK(strstr(r[1].reply, "top secret") == NULL);
	CHECK(strstr(r[2].reply, " 404 ") != NULL);
	CHECK(strstr(r[3].reply, " 501 ") != NULL);
	CHECK(strstr(r[4].reply, " 404 ") != NULL);
	for (i = 0; i < 5; i++)
		close(r[i].fd);
	close(slow);
	vnc_destroy(vnc);
out:
	unlink(file);
	unlink(secret);
	rmdir(dir);
	display_destroy(&d);
	evloop_destroy(&loop);
}

/* The US layout: every printable character and the named keys. */
static void test_keysym_table(void)
{
	static const struct {
		u32 sym;
		u16 code;
	} known[] = {
		{'a', 0x1e},
		{'A', 0x1e},
		{'z', 0x2c},
		{'1', 0x02},
		{'!', 0x02},
		{'0', 0x0b},
		{' ', 0x39},
		{'\\', 0x2b},
		{'`', 0x29},
		{'/', 0x35},
		{0xff0d, 0x1c},
		{0xff08, 0x0e},
		{0xff1b, 0x01},
		{0xffbe, 0x3b},
		{0xffc9, 0x58},
		{0xffe1, 0x2a},
		{0xffe4, 0xe01d},
		{0xffea, 0xe038},
		{0xff52, 0xe048},
		{0xffff, 0xe053},
		{0xff8d, 0xe01c},
		{0xffaf, 0xe035},
		{0xffb7, 0x47},
		{0xff13, I8042_KEY_PAUSE},
		{0xff61, I8042_KEY_PRINT_SCREEN},
		{0xffeb, 0xe05b},
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		CHECK_EQ(keysym_to_set1(known[i].sym), known[i].code);
	for (i = 0x20; i < 0x7f; i++)
		CHECK(keysym_to_set1(i) != 0);
	/* No PC key: nothing is sent. */
	CHECK_EQ(keysym_to_set1(0xe9), 0);	/* eacute */
	CHECK_EQ(keysym_to_set1(0x1000000), 0); /* a Unicode symbol */
	CHECK_EQ(keysym_to_set1(0xffffffff), 0);
}

int main(void)
{
	RUN_TEST(test_client_sees_screen_and_sends_input);
	RUN_TEST(test_refuses_open_address_without_password);
	RUN_TEST(test_unix_socket);
	RUN_TEST(test_keysym_table);
	RUN_TEST(test_web_console_pages);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * A small VNC viewer for the guest tests, on libvncclient (a real client
 * library, not ours): connects, takes the screen, types, moves the
 * pointer, and saves what it saw.
 *
 *   vncclient HOST:PORT [ACTION]...
 *     --type TEXT        type TEXT (US layout; \n is Return)
 *     --key KEYSYM       press and release a key symbol (hex)
 *     --pointer X,Y,MASK a pointer event (RFB button mask)
 *     --hold SECONDS     keep receiving updates this long
 *     --snapshot FILE    save the screen now as a binary PPM
 *     --measure SECONDS  receive this long, then print "measure SECONDS
 *                        frames F bytes B": complete updates and bytes
 *                        the socket received meanwhile (bench/vnc.py)
 *     --latency N        N times: press and release 'a', wait until the
 *                        screen's last pixel changes colour; prints
 *                        "latency_ms T..." (the guest of bench/vnc.py
 *                        repaints the screen on each key)
 *
 * Prints "size W H" once connected, and at the end "updates N" (changed
 * rectangles) and "frames N" (complete FramebufferUpdate messages); exits
 * 1 if the connection fails or breaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/tcp.h>
#include <sys/socket.h>

#include <rfb/rfbclient.h>

static unsigned updates, frames;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void quiet(const char *fmt, ...)
{
}

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	updates++;
}

static void got_frame(rfbClient *c)
{
	frames++;
}

/* Receive for seconds; false if the connection broke. */
static int pump(rfbClient *c, double seconds)
{
	double end = now_s() + seconds;

	while (now_s() < end) {
		int n = WaitForMessage(c, 20000);

		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c)))
			return 0;
	}
	return 1;
}

/* Whether typing ch on a US keyboard needs Shift. */
static int needs_shift(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || strchr("~!@#$%^&*()_+{}|:\"<>?", ch);
}

static int type_text(rfbClient *c, const char *text)
{
	for (; *text; text++) {
		int ch = (unsigned char)*text;
		unsigned sym = ch == '\n' ? 0xff0d : (unsigned)ch;
		int shift = needs_shift(ch);

		if (shift)
			SendKeyEvent(c, 0xffe1, TRUE);
		SendKeyEvent(c, sym, TRUE);
		SendKeyEvent(c, sym, FALSE);
		if (shift)
			SendKeyEvent(c, 0xffe1, FALSE);
		if (!pump(c, 0.05))
			return 0;
	}
	return 1;
}

static int snapshot(rfbClient *c, const char *path)
{
	FILE *f = fopen(path, "wb");
	const unsigned char *fb = c->frameBuffer;
	int i, n = c->width * c->height;

	if (!f)
		return 0;
	fprintf(f, "P6\n%d %d\n255\n", c->width, c->height);
	for (i = 0; i < n; i++) {
		unsigned px;
		unsigned char rgb[3];

		memcpy(&px, fb + 4 * i, 4);
		rgb[0] = (unsigned char)(px >> c->format.redShift);
		rgb[1] = (unsigned char)(px >> c->format.greenShift);
		rgb[2] = (unsigned char)(px >> c->format.blueShift);
		fwrite(rgb, 1, 3, f);
	}
	return fclose(f) == 0;
}

/* Bytes the client's socket has received so far (TCP_INFO). */
static unsigned long long socket_bytes(rfbClient *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(c->sock, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_bytes_received;
}

static int measure(rfbClient *c, double seconds)
{
	unsigned long long bytes = socket_bytes(c);
	unsigned first = frames;
	double start = now_s();

	if (!pump(c, seconds))
		return 0;
	printf("measure %.3f frames %u bytes %llu\n", now_s() - start,
	       frames - first, socket_bytes(c) - bytes);
	return 1;
}

static unsigned last_pixel(rfbClient *c)
{
	unsigned px;

	memcpy(&px, c->frameBuffer + 4 * (c->width * c->height - 1), 4);
	return px;
}

/* Key to changed picture, n times; the times in milliseconds. */
static int latency(rfbClient *c, int n)
{
	int i;

	printf("latency_ms");
	for (i = 0; i < n; i++) {
		unsigned before = last_pixel(c);
		double start = now_s(), limit = start + 10;

		SendKeyEvent(c, 'a', TRUE);
		SendKeyEvent(c, 'a', FALSE);
		while (last_pixel(c) == before) {
			int got = WaitForMessage(c, 1000);

			if (got < 0 ||
			    (got > 0 && !HandleRFBServerMessage(c)) ||
			    now_s() > limit) {
				printf("\n");
				return 0;
			}
		}
		printf(" %.1f", (now_s() - start) * 1000);
		/* Let the guest finish its fill before the next key. */
		if (!pump(c, 0.2))
			return 0;
	}
	printf("\n");
	return 1;
}

static int act(rfbClient *c, const char *opt, const char *v)
{
	int x, y, mask;

	if (!strcmp(opt, "--type"))
		return type_text(c, v);
	if (!strcmp(opt, "--key")) {
		unsigned sym = (unsigned)strtoul(v, NULL, 16);

		SendKeyEvent(c, sym, TRUE);
		SendKeyEvent(c, sym, FALSE);
		return pump(c, 0.05);
	}
	if (!strcmp(opt, "--pointer")) {
		if (sscanf(v, "%d,%d,%d", &x, &y, &mask) != 3)
			return 0;
		SendPointerEvent(c, x, y, mask);
		return pump(c, 0.05);
	}
	if (!strcmp(opt, "--hold"))
		return pump(c, atof(v));
	if (!strcmp(opt, "--snapshot"))
		return pump(c, 0.3) && snapshot(c, v);
	if (!strcmp(opt, "--measure"))
		return measure(c, atof(v));
	if (!strcmp(opt, "--latency"))
		return latency(c, atoi(v));
	fprintf(stderr, "vncclient: unknown action %s\n", opt);
	return 0;
}

/* rfbClientCleanup() leaves the framebuffer to its owner (LeakSanitizer). */
static void client_close(rfbClient *c)
{
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

int main(int argc, char **argv)
{
	rfbClient *c;
	char *colon;
	int i;

	if (argc < 2 || !(colon = strrchr(argv[1], ':'))) {
		fprintf(stderr, "usage: vncclient HOST:PORT [ACTION]...\n");
		return 2;
	}
	if (!getenv("VNCCLIENT_LOG"))
		rfbClientLog = quiet; /* errors still go to stderr */
	c = rfbGetClient(8, 3, 4);
	*colon = 0;
	free(c->serverHost);
	c->serverHost = strdup(argv[1]);
	c->serverPort = atoi(colon + 1);
	c->canHandleNewFBSize = TRUE;
	c->appData.encodingsString = "zrle hextile raw";
	c->appData.enableJPEG = FALSE;
	c->GotFrameBufferUpdate = got_update;
	c->FinishedFrameBufferUpdate = got_frame;
	if (!rfbInitClient(c, NULL, NULL)) {
		fprintf(stderr, "vncclient: cannot connect\n");
		return 1;
	}
	/* The first picture. */
	for (i = 0; i < 100 && !updates; i++)
		if (!pump(c, 0.05))
			break;
	printf("size %d %d\n", c->width, c->height);
	fflush(stdout);
	for (i = 2; i + 1 < argc; i += 2) {
		if (!act(c, argv[i], argv[i + 1])) {
			fprintf(stderr, "vncclient: %s failed\n", argv[i]);
			printf("updates %u\nframes %u\n", updates, frames);
			client_close(c);
			return 1;
		}
	}
	printf("updates %u\nframes %u\n", updates, frames);
	client_close(c);
	return updates ? 0 : 1;
}

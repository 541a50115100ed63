/* SPDX-License-Identifier: MIT */
/*
 * The VNC (RFB) server, with libvncserver, and its web console (noVNC
 * over WebSocket on the same port, its pages from ui/web_console.c on
 * port - 100). Runs on the machine's event loop: no thread of its own.
 */
#ifndef TWOOSTWO_UI_VNC_H
#define TWOOSTWO_UI_VNC_H

#include "core/evloop.h"
#include "ui/display.h"

#define VNC_DEFAULT_WEB_DIR "/usr/share/novnc"

struct vnc_config {
	/*
	 * Where to listen: "HOST:PORT" (IPv4 address or localhost),
	 * "[IPv6]:PORT", ":PORT" or "PORT" (127.0.0.1), or "unix:PATH".
	 * PORT 0 picks a free port (vnc_port() tells which).
	 */
	const char *listen;
	/* First line is the VNC password; required beyond loopback. */
	const char *password_file;
	/* noVNC's files, or NULL: no web console. */
	const char *web_dir;
	/* The web console's HTTP port (0: VNC port - 100, none below 1124). */
	int web_port;
};

struct vnc;

/* On error returns -errno with a one-line reason in err. */
int vnc_create(struct evloop *loop, struct display *display,
	       const struct display_input *input, const struct vnc_config *cfg,
	       struct vnc **out, char *err, size_t errlen);
void vnc_destroy(struct vnc *vnc);
/* The TCP port listened on, or 0 for a Unix socket. */
int vnc_port(const struct vnc *vnc);
/* The web console's address (http://...), or NULL when there is none. */
const char *vnc_web_url(const struct vnc *vnc);
/* How many viewers are connected. */
unsigned vnc_clients(const struct vnc *vnc);

#endif

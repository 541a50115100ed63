/* SPDX-License-Identifier: MIT */
/*
 * The web console's pages: a small static HTTP/1.0 file server for
 * noVNC's directory, on the machine's event loop. The page then opens a
 * WebSocket to the VNC port, where libvncserver speaks RFB over it.
 */
#ifndef TWOOSTWO_UI_WEB_CONSOLE_H
#define TWOOSTWO_UI_WEB_CONSOLE_H

#include <sys/socket.h>

#include "core/evloop.h"

struct web_console;

/* On error returns -errno with a one-line reason in err. */
int web_console_create(struct evloop *loop, const struct sockaddr *addr,
		       socklen_t addrlen, const char *dir,
		       struct web_console **out, char *err, size_t errlen);
void web_console_destroy(struct web_console *wc);

#endif

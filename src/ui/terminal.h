/* SPDX-License-Identifier: MIT */
/*
 * The terminal display: draws the guest's text screen in the user's
 * terminal (ANSI escape sequences, UTF-8 for code page 437) and turns keys
 * typed there into PS/2 key presses. Ctrl-] quits (the escape key is
 * printed when the display starts).
 */
#ifndef TWOOSTWO_UI_TERMINAL_H
#define TWOOSTWO_UI_TERMINAL_H

#include "core/evloop.h"
#include "ui/text_screen.h"

#define TERMINAL_ESCAPE_KEY 0x1d /* Ctrl-] */

struct terminal_ui;

struct terminal_ui_host {
	/* Current screen contents. */
	void (*get_screen)(void *opaque, struct text_screen *out);
	/* A key (set 1 scan code, 0xE0xx for extended keys) went down/up. */
	void (*key)(void *opaque, u16 keycode, bool down);
	/* The user pressed the escape key. */
	void (*quit)(void *opaque);
	void *opaque;
	/*
	 * Optional: whether the keyboard can take another key now. Keys come
	 * one every few milliseconds at most, and while this says no they
	 * wait, so a paste does not overrun the keyboard's small buffer.
	 */
	bool (*key_ready)(void *opaque);
};

/*
 * Take over the terminal on in_fd/out_fd (raw mode, alternate screen) and
 * redraw every refresh_ms. Restores the terminal on destroy and on exit.
 */
int terminal_ui_create(struct evloop *loop, int in_fd, int out_fd,
		       const struct terminal_ui_host *host,
		       struct terminal_ui **out);
void terminal_ui_destroy(struct terminal_ui *ui);

/*
 * Translate one byte (or escape sequence) typed on a terminal to key
 * events; exposed for tests. Returns bytes consumed (0: need more).
 */
size_t terminal_decode_keys(const u8 *buf, size_t len,
			    void (*key)(void *opaque, u16 keycode, bool down),
			    void *opaque);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The display surface: what the video adapter shows, as pixels, with the
 * rectangles that changed since the consumers last looked. The VGA model
 * renders into it (text modes too, with its fonts); the VNC server, the
 * PNG screen dump and any other viewer read it. Everything runs on the
 * machine thread.
 *
 * Pixels are 32-bit 0x00RRGGBB, row after row, `stride` bytes apart.
 * A mode change (new width/height) is announced through resize() before
 * the first update of the new size; update() names a changed rectangle
 * already clipped to the surface.
 *
 * The producer (hw/vga.c) owns a struct display: it calls display_resize()
 * and display_update(); consumers call display_add_listener() (which
 * announces the current size at once) and may ask for a fresh frame with
 * display_refresh() (a screen dump does, so it never shows a stale frame).
 */
#ifndef TWOOSTWO_UI_DISPLAY_H
#define TWOOSTWO_UI_DISPLAY_H

#include "core/types.h"

#define DISPLAY_MAX_WIDTH 2560
#define DISPLAY_MAX_HEIGHT 1600

struct display_surface {
	unsigned width, height;
	size_t stride; /* bytes per row */
	u32 *pixels;   /* owned by the producer; valid until the next resize */
};

struct display_listener {
	void (*resize)(void *opaque, const struct display_surface *s);
	void (*update)(void *opaque, const struct display_surface *s,
		       unsigned x, unsigned y, unsigned w, unsigned h);
	void *opaque;
	struct display_listener *next;
};

/* Input from a viewer back to the machine (keyboard, pointer). */
struct display_input {
	/* A key as a PC/AT set-1 scancode sequence, make or break. */
	void (*key)(void *opaque, u16 scancode, bool down);
	/* Relative motion and buttons (bit 0 left, 1 right, 2 middle). */
	void (*mouse_rel)(void *opaque, int dx, int dy, int dz, u8 buttons);
	/* Absolute position scaled to 0..0xFFFF in both axes. */
	void (*mouse_abs)(void *opaque, u16 x, u16 y, int dz, u8 buttons);
	void *opaque;
};

struct display {
	struct display_surface surface;
	struct display_listener *listeners;
	/* Set by the producer: render what changed now. */
	void (*refresh)(void *opaque);
	void *producer;
};

void display_init(struct display *d, void (*refresh)(void *opaque),
		  void *producer);
void display_destroy(struct display *d);

/* Producer side. Sizes are clamped to 1..DISPLAY_MAX_*; -ENOMEM leaves
 * the old surface in place. The new surface starts black. */
int display_resize(struct display *d, unsigned width, unsigned height);
/* Tell the listeners about a changed rectangle (clipped here). */
void display_update(struct display *d, unsigned x, unsigned y, unsigned w,
		    unsigned h);

/* Consumer side. */
void display_add_listener(struct display *d, struct display_listener *l);
void display_remove_listener(struct display *d, struct display_listener *l);
/* Bring the surface up to date with the adapter (listeners hear of it). */
void display_refresh(struct display *d);

#endif

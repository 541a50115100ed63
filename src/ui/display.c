// SPDX-License-Identifier: MIT
/*
 * The display surface shared by the video adapter (producer) and the
 * viewers (VNC, screen dumps). See ui/display.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ui/display.h"

void display_init(struct display *d, void (*refresh)(void *opaque),
		  void *producer)
{
	memset(d, 0, sizeof(*d));
	d->refresh = refresh;
	d->producer = producer;
}

void display_destroy(struct display *d)
{
	free(d->surface.pixels);
	d->surface = (struct display_surface){0};
	d->listeners = NULL;
}

int display_resize(struct display *d, unsigned width, unsigned height)
{
	struct display_surface *s = &d->surface;
	struct display_listener *l;
	u32 *pixels;

	width = MIN(MAX(width, 1u), (unsigned)DISPLAY_MAX_WIDTH);
	height = MIN(MAX(height, 1u), (unsigned)DISPLAY_MAX_HEIGHT);
	if (s->pixels && s->width == width && s->height == height)
		return 0;
	pixels = calloc((size_t)width * height, sizeof(u32));
	if (!pixels)
		return -ENOMEM;
	free(s->pixels);
	s->pixels = pixels;
	s->width = width;
	s->height = height;
	s->stride = (size_t)width * sizeof(u32);
	for (l = d->listeners; l; l = l->next)
		if (l->resize)
			l->resize(l->opaque, s);
	return 0;
}

void display_update(struct display *d, unsigned x, unsigned y, unsigned w,
		    unsigned h)
{
	const struct display_surface *s = &d->surface;
	struct display_listener *l;

	if (x >= s->width || y >= s->height || !w || !h)
		return;
	w = MIN(w, s->width - x);
	h = MIN(h, s->height - y);
	for (l = d->listeners; l; l = l->next)
		if (l->update)
			l->update(l->opaque, s, x, y, w, h);
}

void display_add_listener(struct display *d, struct display_listener *l)
{
	l->next = d->listeners;
	d->listeners = l;
	if (d->surface.pixels && l->resize)
		l->resize(l->opaque, &d->surface);
}

void display_remove_listener(struct display *d, struct display_listener *l)
{
	struct display_listener **p;

	for (p = &d->listeners; *p; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			l->next = NULL;
			return;
		}
	}
}

void display_refresh(struct display *d)
{
	if (d->refresh)
		d->refresh(d->producer);
}

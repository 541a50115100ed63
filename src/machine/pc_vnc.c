// SPDX-License-Identifier: MIT
/*
 * The PC's remote display: the VNC server (ui/vnc.c) reads the VGA
 * adapter's display surface, and its keys and pointer go into the 8042's
 * keyboard and mouse. The pointer is absolute: the vmmouse takes it when
 * the guest's driver asked for absolute packets; otherwise it becomes
 * relative PS/2 motion, the distance in pixels since the last position.
 */
#include <stdio.h>

#include "hw/i8042.h"
#include "hw/vga.h"
#include "hw/vmmouse.h"
#include "machine/pc_internal.h"
#include "ui/vnc.h"

static void pc_vnc_key(void *opaque, u16 scancode, bool down)
{
	struct pc *pc = opaque;

	i8042_key_event(pc->kbc, scancode, down);
}

static void pc_vnc_mouse_rel(void *opaque, int dx, int dy, int dz, u8 buttons)
{
	struct pc *pc = opaque;

	i8042_mouse_event(pc->kbc, dx, dy, dz, buttons);
}

/* 0..0xFFFF across a screen of size pixels. */
static int pc_vnc_pixel(u16 pos, unsigned size)
{
	return (int)(((u32)pos * size) >> 16);
}

static void pc_vnc_mouse_abs(void *opaque, u16 x, u16 y, int dz, u8 buttons)
{
	struct pc *pc = opaque;
	const struct display_surface *s = &vga_display(pc->vga)->surface;
	int px = pc_vnc_pixel(x, s->width), py = pc_vnc_pixel(y, s->height);
	int dx = px - pc->pointer_x, dy = py - pc->pointer_y;

	pc->pointer_x = px;
	pc->pointer_y = py;
	if (vmmouse_event(pc->vmmouse, x, y, dz, buttons))
		return;
	i8042_mouse_event(pc->kbc, dx, dy, dz, buttons);
}

int pc_create_vnc(struct pc *pc, char *err, size_t errlen)
{
	const struct display_input input = {
		.key = pc_vnc_key,
		.mouse_rel = pc_vnc_mouse_rel,
		.mouse_abs = pc_vnc_mouse_abs,
		.opaque = pc,
	};
	const struct vnc_config cfg = {
		.listen = pc->cfg.vnc_listen,
		.password_file = pc->cfg.vnc_password_file,
		.web_dir = VNC_DEFAULT_WEB_DIR,
	};
	const char *url;
	int ret;

	if (!pc->cfg.vnc_listen)
		return 0;
	ret = vnc_create(&pc->loop, vga_display(pc->vga), &input, &cfg,
			 &pc->vnc, err, errlen);
	if (ret)
		return ret;
	if (vnc_port(pc->vnc))
		fprintf(stderr, "twoostwo: VNC server on port %d\n",
			vnc_port(pc->vnc));
	else
		fprintf(stderr, "twoostwo: VNC server on %s\n",
			pc->cfg.vnc_listen);
	url = vnc_web_url(pc->vnc);
	if (url)
		fprintf(stderr, "twoostwo: web console: %s\n", url);
	return 0;
}

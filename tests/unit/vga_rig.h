/* SPDX-License-Identifier: MIT */
/*
 * A VGA adapter on its own buses for the VGA unit tests: port and memory
 * accesses as a guest makes them, the register sets of the standard modes
 * as a VGA BIOS programs them (IBM VGA Technical Reference, BIOS mode
 * tables), and a display listener that records the updates.
 */
#ifndef TWOOSTWO_TESTS_VGA_RIG_H
#define TWOOSTWO_TESTS_VGA_RIG_H

#include "bus/memory.h"
#include "bus/pci.h"
#include "bus/pio.h"
#include "hw/vga.h"
#include "ui/display.h"
#include "unit.h"

#define VGA_DEVFN PCI_DEVFN(2, 0)
#define LFB_ADDR 0xe0000000u
#define MMIO_ADDR 0xfebf0000u

struct rig {
	struct pio_bus *pio;
	struct phys_mem mem;
	struct pci_bus pci;
	struct vga *vga;
	struct display *d;
	struct display_listener l;
	unsigned resizes, updates;
	unsigned upd_y0, upd_y1; /* rows covered by the updates */
	unsigned map_changes;
};

static void rig_resize(void *opaque, const struct display_surface *s)
{
	((struct rig *)opaque)->resizes++;
}

static void rig_update(void *opaque, const struct display_surface *s,
		       unsigned x, unsigned y, unsigned w, unsigned h)
{
	struct rig *r = opaque;

	CHECK(x + w <= s->width && y + h <= s->height && w && h);
	if (!r->updates || y < r->upd_y0)
		r->upd_y0 = y;
	if (!r->updates || y + h > r->upd_y1)
		r->upd_y1 = y + h;
	r->updates++;
}

static void rig_map_changed(void *opaque)
{
	((struct rig *)opaque)->map_changes++;
}

static void rig_init_vram(struct rig *r, u32 vram)
{
	static const u8 rom[100] = {0x55, 0xaa, 0x01};
	struct mem_listener ml = {rig_map_changed, NULL, r};

	memset(r, 0, sizeof(*r));
	r->pio = pio_bus_new();
	CHECK(mem_init(&r->mem, 1 << 20, 1 << 20) == 0);
	CHECK(pci_bus_init(&r->pci, r->pio, &r->mem) == 0);
	r->vga = vga_create(&r->pci, VGA_DEVFN, rom, sizeof(rom), vram, NULL);
	CHECK(r->vga != NULL);
	r->d = vga_display(r->vga);
	r->l = (struct display_listener){rig_resize, rig_update, r, NULL};
	display_add_listener(r->d, &r->l);
	mem_add_listener(&r->mem, &ml);
}

static void rig_init(struct rig *r)
{
	rig_init_vram(r, 0);
}

static void rig_free(struct rig *r)
{
	struct device d = vga_device(r->vga);

	d.ops->destroy(d.opaque);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
}

/* Render now; forget the updates seen before. */
static void rig_render(struct rig *r)
{
	r->updates = 0;
	display_refresh(r->d);
}

static u32 rig_pixel(struct rig *r, unsigned x, unsigned y)
{
	const struct display_surface *s = &r->d->surface;

	if (x >= s->width || y >= s->height)
		return 0xdeadbeef;
	return s->pixels[y * (s->stride / 4) + x];
}

static void outb(struct rig *r, u16 port, u8 v)
{
	pio_write(r->pio, port, v, 1);
}

static u8 inb(struct rig *r, u16 port)
{
	return (u8)pio_read(r->pio, port, 1);
}

static void seq_write(struct rig *r, u8 idx, u8 v)
{
	outb(r, 0x3c4, idx);
	outb(r, 0x3c5, v);
}

static void gc_write(struct rig *r, u8 idx, u8 v)
{
	outb(r, 0x3ce, idx);
	outb(r, 0x3cf, v);
}

static void crtc_write(struct rig *r, u8 idx, u8 v)
{
	outb(r, 0x3d4, idx);
	outb(r, 0x3d5, v);
}

static void ac_write(struct rig *r, u8 idx, u8 v)
{
	inb(r, 0x3da); /* flip-flop to index */
	outb(r, 0x3c0, idx);
	outb(r, 0x3c0, v);
	inb(r, 0x3da);
	outb(r, 0x3c0, 0x20); /* palette address source: display on */
}

static void dac_write(struct rig *r, u8 idx, u8 red, u8 green, u8 blue)
{
	outb(r, 0x3c8, idx);
	outb(r, 0x3c9, red);
	outb(r, 0x3c9, green);
	outb(r, 0x3c9, blue);
}

static void cfg_write(struct rig *r, u8 reg, u32 v)
{
	pio_write(r->pio, 0xcf8, 0x80000000u | VGA_DEVFN << 8 | reg, 4);
	pio_write(r->pio, 0xcfc, v, 4);
}

static void dispi_write(struct rig *r, u16 idx, u16 v)
{
	pio_write(r->pio, 0x1ce, idx, 2);
	pio_write(r->pio, 0x1cf, v, 2);
}

static u16 dispi_read(struct rig *r, u16 idx)
{
	pio_write(r->pio, 0x1ce, idx, 2);
	return (u16)pio_read(r->pio, 0x1cf, 2);
}

/* BAR0 (LFB) and BAR2 (MMIO) mapped, decoding on. */
static void rig_map_bars(struct rig *r)
{
	cfg_write(r, 0x10, LFB_ADDR);
	cfg_write(r, 0x18, MMIO_ADDR);
	cfg_write(r, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
}

struct vga_mode_regs {
	u8 misc;
	u8 seq[5];
	u8 crtc[25];
	u8 gc[9];
	u8 ac[21];
};

static void rig_set_regs(struct rig *r, const struct vga_mode_regs *m)
{
	unsigned i;

	outb(r, 0x3c2, m->misc);
	for (i = 0; i < 5; i++)
		seq_write(r, (u8)i, m->seq[i]);
	crtc_write(r, 0x11, 0x0e); /* unlock CRTC 0-7 */
	for (i = 0; i < 25; i++)
		crtc_write(r, (u8)i, m->crtc[i]);
	for (i = 0; i < 9; i++)
		gc_write(r, (u8)i, m->gc[i]);
	for (i = 0; i < 21; i++)
		ac_write(r, (u8)i, m->ac[i]);
}

/* Mode 3: 80x25 text, 9x16 cells, 720x400. */
static const struct vga_mode_regs vga_mode3 = {
	0x67,
	{0x03, 0x00, 0x03, 0x00, 0x02},
	{0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00,
	 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
	 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff},
	{0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff},
	{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00},
};

/* Mode 4: 320x200 CGA 4 colours, banks of even and odd lines. */
static const struct vga_mode_regs vga_mode4 = {
	0x63,
	{0x03, 0x09, 0x03, 0x00, 0x02},
	{0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00,
	 0xc1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
	 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff},
	{0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x0f, 0xff},
	{0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12,
	 0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00},
};

/* Mode 0x12: 640x480 16 colours, planar. */
static const struct vga_mode_regs vga_mode12 = {
	0xe3,
	{0x03, 0x01, 0x0f, 0x00, 0x06},
	{0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00,
	 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c,
	 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff},
	{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff},
	{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00},
};

/* Mode 0x13: 320x200 256 colours, chain-4. */
static const struct vga_mode_regs vga_mode13 = {
	0x63,
	{0x03, 0x01, 0x0f, 0x00, 0x0e},
	{0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00,
	 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
	 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff},
	{0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff},
	{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00},
};

/* 6-bit DAC value as the renderer shows it. */
static u32 rig_rgb6(u8 red, u8 green, u8 blue)
{
	return (u32)((red << 2) | (red >> 4)) << 16 |
	       (u32)((green << 2) | (green >> 4)) << 8 |
	       (u32)((blue << 2) | (blue >> 4));
}

#endif

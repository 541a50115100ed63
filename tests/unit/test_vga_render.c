// SPDX-License-Identifier: MIT
/*
 * What the VGA shows: every kind of mode rendered into the display
 * surface and checked pixel by pixel against what the registers and
 * memory say it must be (IBM VGA Technical Reference data flow), the
 * dirty rectangles, and the Bochs DISPI modes with hostile values
 * (CVE-2016-3712 and the bank, stride and divide-by-zero bugs other
 * emulators had).
 */
#include <stdlib.h>

#include "vga_rig.h"

/* Font 0 of plane 2: character ch, glyph row row. */
static void put_glyph_row(struct rig *r, u8 ch, unsigned row, u8 bits)
{
	/* Plane 2 alone, linear addressing, as a BIOS loads a font. */
	outb(r, 0x3c2, 0x63);
	seq_write(r, 2, 0x04);
	seq_write(r, 4, 0x06);
	gc_write(r, 5, 0x00);
	gc_write(r, 6, 0x04);
	gc_write(r, 8, 0xff);
	mem_write(&r->mem, 0xa0000 + ch * 32u + row, bits, 1);
}

/* Where the 16 MiB rigs' LFB shows byte off of plane p. */
static u32 lfb_plane_index(u32 off, unsigned p)
{
	return (off & 3) * (4u << 20) + (off >> 2) * 4 + p;
}

static void test_text(void)
{
	static const u8 glyph[16] = {0xff, 0x81, 0x81, 0x81, 0x81, 0x81,
				     0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
				     0x81, 0x81, 0x81, 0xff};
	struct rig r;
	unsigned row, x;

	rig_init(&r);
	for (row = 0; row < 16; row++) {
		put_glyph_row(&r, 'A', row, glyph[row]);
		put_glyph_row(&r, 0xc4, row, row == 8 ? 0xff : 0x00);
	}
	rig_set_regs(&r, &vga_mode3);
	crtc_write(&r, 0x0a, 0x20); /* cursor off: no blinking here */
	dac_write(&r, 0x01, 0, 0, 42);
	dac_write(&r, 0x3e, 63, 63, 21);
	mem_write(&r.mem, 0xb8000, 'A' | 0x1e << 8, 2);
	mem_write(&r.mem, 0xb8002, 0xc4 | 0x1e << 8, 2);
	rig_render(&r);
	CHECK_EQ(r.d->surface.width, 720);
	CHECK_EQ(r.d->surface.height, 400);
	CHECK(r.resizes >= 1);
	/* Row 0 all foreground, then the sides; column 9 is background. */
	for (x = 0; x < 8; x++)
		CHECK_EQ(rig_pixel(&r, x, 0), rig_rgb6(63, 63, 21));
	CHECK_EQ(rig_pixel(&r, 8, 0), rig_rgb6(0, 0, 42));
	CHECK_EQ(rig_pixel(&r, 0, 5), rig_rgb6(63, 63, 21));
	CHECK_EQ(rig_pixel(&r, 3, 5), rig_rgb6(0, 0, 42));
	CHECK_EQ(rig_pixel(&r, 7, 5), rig_rgb6(63, 63, 21));
	/* Line graphics (0xC0-0xDF) repeat the eighth column in the ninth. */
	CHECK_EQ(rig_pixel(&r, 9 + 8, 8), rig_rgb6(63, 63, 21));
	CHECK_EQ(rig_pixel(&r, 9 + 8, 7), rig_rgb6(0, 0, 42));
	/* 8-dot characters: 640 wide. */
	seq_write(&r, 1, 0x01);
	rig_render(&r);
	CHECK_EQ(r.d->surface.width, 640);
	CHECK_EQ(rig_pixel(&r, 7, 5), rig_rgb6(63, 63, 21));
	CHECK_EQ(rig_pixel(&r, 8, 5), rig_rgb6(0, 0, 42));
	CHECK_EQ(rig_pixel(&r, 8, 8), rig_rgb6(63, 63, 21));
	rig_free(&r);
}

/* The second font (map select, attribute bit 3). */
static void test_text_font_select(void)
{
	struct rig r;

	rig_init(&r);
	put_glyph_row(&r, 'B', 0, 0xf0);
	/* Font 1 lives 16 KiB up in plane 2. */
	seq_write(&r, 2, 0x04);
	seq_write(&r, 4, 0x06);
	gc_write(&r, 6, 0x04);
	outb(&r, 0x3c2, 0x63);
	mem_write(&r.mem, 0xa4000 + 'B' * 32u, 0x0f, 1);
	rig_set_regs(&r, &vga_mode3);
	seq_write(&r, 3, 0x04); /* map A (attr bit 3 set) = 1, map B = 0 */
	crtc_write(&r, 0x0a, 0x20);
	dac_write(&r, 0x00, 0, 0, 0);
	dac_write(&r, 0x07, 42, 42, 42);
	dac_write(&r, 0x3f, 63, 63, 63);
	mem_write(&r.mem, 0xb8000, 'B' | 0x07 << 8, 2);
	mem_write(&r.mem, 0xb8002, 'B' | 0x0f << 8, 2);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 0, 0), rig_rgb6(42, 42, 42));
	CHECK_EQ(rig_pixel(&r, 4, 0), 0);
	CHECK_EQ(rig_pixel(&r, 9, 0), 0);
	CHECK_EQ(rig_pixel(&r, 9 + 4, 0), rig_rgb6(63, 63, 63));
	rig_free(&r);
}

static void test_planar_palette(void)
{
	struct rig r;

	rig_init(&r);
	rig_set_regs(&r, &vga_mode12);
	dac_write(&r, 0x05, 10, 20, 30);
	dac_write(&r, 0x3f, 63, 0, 0);
	dac_write(&r, 0x25, 1, 2, 3);
	/* Write mode 2: byte 1 of row 2 in colour 5, bit mask 0xF0. */
	gc_write(&r, 5, 0x02);
	gc_write(&r, 8, 0xf0);
	mem_read(&r.mem, 0xa0000 + 2 * 80 + 1, 1);
	mem_write(&r.mem, 0xa0000 + 2 * 80 + 1, 0x05, 1);
	gc_write(&r, 8, 0xff);
	mem_write(&r.mem, 0xa0000 + 479 * 80 + 79, 0x0f, 1);
	rig_render(&r);
	CHECK_EQ(r.d->surface.width, 640);
	CHECK_EQ(r.d->surface.height, 480);
	CHECK_EQ(rig_pixel(&r, 8, 2), rig_rgb6(10, 20, 30));
	CHECK_EQ(rig_pixel(&r, 11, 2), rig_rgb6(10, 20, 30));
	CHECK_EQ(rig_pixel(&r, 12, 2), 0);
	CHECK_EQ(rig_pixel(&r, 639, 479), rig_rgb6(63, 0, 0));
	/* P54S: colour select bits 1:0 replace palette bits 5:4. */
	ac_write(&r, 0x10, 0x81);
	ac_write(&r, 0x14, 0x02);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 8, 2), rig_rgb6(1, 2, 3));
	CHECK(r.updates > 0);
	/* The PEL mask ANDs every DAC index: 0x25 & 0x0f = 5. */
	outb(&r, 0x3c6, 0x0f);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 8, 2), rig_rgb6(10, 20, 30));
	/* Colour plane enable: plane 0 only makes colour 5 into 1. */
	ac_write(&r, 0x10, 0x01);
	ac_write(&r, 0x14, 0x00);
	outb(&r, 0x3c6, 0xff);
	dac_write(&r, 0x01, 0, 63, 0);
	ac_write(&r, 0x12, 0x01);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 8, 2), rig_rgb6(0, 63, 0));
	/* Pixel panning by 3 moves the picture left. */
	ac_write(&r, 0x12, 0x0f);
	ac_write(&r, 0x13, 0x03);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 5, 2), rig_rgb6(10, 20, 30));
	CHECK_EQ(rig_pixel(&r, 9, 2), 0);
	/* Screen off (clocking mode bit 5): black. */
	seq_write(&r, 1, 0x21);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 5, 2), 0);
	rig_free(&r);
}

static void test_cga4(void)
{
	struct rig r;

	rig_init(&r);
	rig_set_regs(&r, &vga_mode4);
	dac_write(&r, 0x00, 0, 0, 0);
	dac_write(&r, 0x13, 0, 63, 63);
	dac_write(&r, 0x15, 63, 0, 63);
	dac_write(&r, 0x17, 63, 63, 63);
	/* Even lines at B8000, odd lines at BA000; 2 bits per pixel. */
	mem_write(&r.mem, 0xb8000, 0x1b, 1);
	mem_write(&r.mem, 0xb8001, 0xc0, 1);
	mem_write(&r.mem, 0xba000, 0x80, 1);
	rig_render(&r);
	CHECK_EQ(r.d->surface.width, 320);
	CHECK_EQ(r.d->surface.height, 200);
	CHECK_EQ(rig_pixel(&r, 0, 0), 0);
	CHECK_EQ(rig_pixel(&r, 1, 0), rig_rgb6(0, 63, 63));
	CHECK_EQ(rig_pixel(&r, 2, 0), rig_rgb6(63, 0, 63));
	CHECK_EQ(rig_pixel(&r, 3, 0), rig_rgb6(63, 63, 63));
	CHECK_EQ(rig_pixel(&r, 4, 0), rig_rgb6(63, 63, 63));
	CHECK_EQ(rig_pixel(&r, 5, 0), 0);
	CHECK_EQ(rig_pixel(&r, 0, 1), rig_rgb6(63, 0, 63));
	CHECK_EQ(rig_pixel(&r, 0, 2), 0);
	rig_free(&r);
}

static void put13(struct rig *r, unsigned x, unsigned y, u8 c)
{
	mem_write(&r->mem, 0xa0000 + y * 320 + x, c, 1);
}

static void test_mode13_start_line_compare(void)
{
	struct rig r;
	unsigned y;

	rig_init(&r);
	rig_set_regs(&r, &vga_mode13);
	dac_write(&r, 1, 63, 0, 0);
	dac_write(&r, 2, 0, 63, 0);
	dac_write(&r, 3, 0, 0, 63);
	for (y = 0; y < 200; y++)
		put13(&r, 7, y, (u8)(1 + y % 3));
	rig_render(&r);
	CHECK_EQ(r.d->surface.width, 320);
	CHECK_EQ(r.d->surface.height, 200);
	CHECK_EQ(rig_pixel(&r, 7, 0), rig_rgb6(63, 0, 0));
	CHECK_EQ(rig_pixel(&r, 7, 1), rig_rgb6(0, 63, 0));
	CHECK_EQ(rig_pixel(&r, 6, 1), 0);
	/* Start address 80 (doublewords): the picture moves up a line. */
	crtc_write(&r, 0x0c, 0);
	crtc_write(&r, 0x0d, 80);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 7, 0), rig_rgb6(0, 63, 0));
	/*
	 * Line compare 199 (bit 8 in overflow bit 4, bit 9 in max scan
	 * bit 6): scan lines from 200 (line 100) show address 0.
	 */
	crtc_write(&r, 0x18, 199);
	crtc_write(&r, 0x07, 0x0f);
	crtc_write(&r, 0x09, 0x01);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 7, 99), rig_rgb6(0, 63, 0));  /* source 100 */
	CHECK_EQ(rig_pixel(&r, 7, 100), rig_rgb6(63, 0, 0)); /* source 0 */
	CHECK_EQ(rig_pixel(&r, 7, 101), rig_rgb6(0, 63, 0));
	rig_free(&r);
}

/* Mode X: chain-4 off, byte mode; pixel x is plane x & 3, byte x / 4. */
static void test_modex(void)
{
	struct rig r;

	rig_init(&r);
	rig_set_regs(&r, &vga_mode13);
	seq_write(&r, 4, 0x06);
	crtc_write(&r, 0x14, 0x00);
	crtc_write(&r, 0x17, 0xe3);
	dac_write(&r, 9, 33, 44, 55);
	seq_write(&r, 2, 0x04);
	mem_write(&r.mem, 0xa0000 + 3 * 80 + 5, 9, 1);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 5 * 4 + 2, 3), rig_rgb6(33, 44, 55));
	CHECK_EQ(rig_pixel(&r, 5 * 4 + 1, 3), 0);
	/* A second page at 16000 bytes per plane, by the start address. */
	mem_write(&r.mem, 0xa0000 + 16000 + 5, 9, 1);
	crtc_write(&r, 0x0c, 16000 >> 8);
	crtc_write(&r, 0x0d, 16000 & 0xff);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 5 * 4 + 2, 0), rig_rgb6(33, 44, 55));
	rig_free(&r);
}

static int find_window_region(void *opaque, const struct mem_region *m)
{
	struct mem_region *out = opaque;

	if (m->base == 0xa0000) {
		*out = *m;
		return 1;
	}
	return 0;
}

/*
 * Mode 0x13's window is memory: the CPU stores through the host pointer
 * mem_page_ptr() gives it (as its TLB does), the dirty log tells the
 * renderer which rows changed, and the bytes are the planes' (chain-4:
 * plane a & 3 at offset a & ~3), so mode X (unchained, MMIO) sees them
 * and what mode X writes shows when chain-4 maps the window again.
 */
static void test_mode13_mapped(void)
{
	struct mem_region m = {0};
	struct rig r;
	u8 *page;
	u32 a = 150 * 320 + 77;

	rig_init(&r);
	rig_set_regs(&r, &vga_mode13);
	dac_write(&r, 0x21, 63, 0, 0);
	dac_write(&r, 0x2a, 0, 0, 63);
	CHECK(mem_page_is_device(&r.mem, 0xa0000));
	CHECK(mem_page_is_device(&r.mem, 0xaf000));
	CHECK(!mem_page_is_device(&r.mem, 0xb0000));
	CHECK_EQ(mem_for_each_region(&r.mem, find_window_region, &m), 1);
	CHECK_EQ(m.kind, MEM_REGION_HOST);
	CHECK_EQ(m.len, 0x10000);
	CHECK(m.dirty != NULL);
	rig_render(&r);
	rig_render(&r);
	CHECK_EQ(r.updates, 0);
	/* A store through the TLB's pointer: one row redrawn. */
	page = mem_page_ptr(&r.mem, 0xa0000 + a, true);
	CHECK(page != NULL);
	if (!page)
		goto out;
	page[a & 0xfff] = 0x21;
	CHECK(mem_dirty_log_test(m.dirty, a & ~0xfffu, 1));
	rig_render(&r);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(r.upd_y0, 150);
	CHECK_EQ(r.upd_y1, 151);
	CHECK_EQ(rig_pixel(&r, 77, 150), rig_rgb6(63, 0, 0));
	CHECK_EQ(rig_pixel(&r, 78, 150), 0);
	CHECK(!mem_dirty_log_test(m.dirty, a & ~0xfffu, 1));
	CHECK_EQ(mem_read(&r.mem, 0xa0000 + a, 1), 0x21);
	/* Anything but the plain state is MMIO again: a partial bit mask. */
	gc_write(&r, 8, 0x0f);
	CHECK(!mem_page_is_device(&r.mem, 0xa0000));
	gc_write(&r, 8, 0xff);
	CHECK(mem_page_is_device(&r.mem, 0xa0000));
	/* Mode X: the byte is plane a & 3 at offset a & ~3. */
	seq_write(&r, 4, 0x06);
	crtc_write(&r, 0x14, 0x00);
	crtc_write(&r, 0x17, 0xe3);
	CHECK(!mem_page_is_device(&r.mem, 0xa0000));
	gc_write(&r, 4, (u8)(a & 3));
	CHECK_EQ(mem_read(&r.mem, 0xa0000 + (a & ~3u), 1), 0x21);
	gc_write(&r, 4, (u8)((a + 1) & 3));
	CHECK_EQ(mem_read(&r.mem, 0xa0000 + (a & ~3u), 1), 0x00);
	/* Mode X writes plane 1 at offset 100; chain-4 shows it at 101. */
	seq_write(&r, 2, 0x02);
	mem_write(&r.mem, 0xa0000 + 100, 0x2a, 1);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 100 % 80 * 4 + 1, 100 / 80), rig_rgb6(0, 0, 63));
	rig_set_regs(&r, &vga_mode13);
	CHECK(mem_page_is_device(&r.mem, 0xa0000));
	page = mem_page_ptr(&r.mem, 0xa0000, false);
	CHECK(page != NULL);
	if (page)
		CHECK_EQ(page[101], 0x2a);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 101, 0), rig_rgb6(0, 0, 63));
	CHECK_EQ(rig_pixel(&r, 77, 150), rig_rgb6(63, 0, 0));
	CHECK_EQ(rig_pixel(&r, 100, 0), 0);
out:
	rig_free(&r);
}

/* Only changed rows are reported; nothing changed, nothing reported. */
static void test_dirty_rects(void)
{
	struct rig r;

	rig_init(&r);
	rig_set_regs(&r, &vga_mode13);
	dac_write(&r, 1, 63, 0, 0);
	rig_render(&r);
	rig_render(&r);
	CHECK_EQ(r.updates, 0);
	put13(&r, 100, 50, 1);
	rig_render(&r);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(r.upd_y0, 50);
	CHECK_EQ(r.upd_y1, 51);
	/* Writing the same value again: memory dirty, picture unchanged. */
	put13(&r, 100, 50, 1);
	rig_render(&r);
	CHECK_EQ(r.updates, 0);
	/* A palette change redraws; colour 0 is everywhere. */
	dac_write(&r, 0, 0, 0, 9);
	rig_render(&r);
	CHECK_EQ(r.upd_y0, 0);
	CHECK_EQ(r.upd_y1, 200);
	rig_free(&r);
}

static void vbe_mode(struct rig *r, u16 x, u16 y, u16 bpp, u16 flags)
{
	dispi_write(r, 4, 0);
	dispi_write(r, 1, x);
	dispi_write(r, 2, y);
	dispi_write(r, 3, bpp);
	dispi_write(r, 4, 0x01 | flags);
}

static void test_vbe_formats(void)
{
	struct rig r;

	rig_init(&r);
	rig_map_bars(&r);
	vbe_mode(&r, 64, 4, 32, 0x40);
	mem_write(&r.mem, LFB_ADDR + 4 * (64 + 3), 0xff123456, 4);
	rig_render(&r);
	CHECK_EQ(r.d->surface.width, 64);
	CHECK_EQ(r.d->surface.height, 4);
	CHECK_EQ(rig_pixel(&r, 3, 1), 0x123456);
	vbe_mode(&r, 64, 4, 24, 0x40);
	mem_write(&r.mem, LFB_ADDR + 3 * 2, 0x0a0b0c, 3 - 1);
	mem_write(&r.mem, LFB_ADDR + 3 * 2 + 2, 0x0a, 1);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 2, 0), 0x0a0b0c);
	vbe_mode(&r, 64, 4, 16, 0x40);
	mem_write(&r.mem, LFB_ADDR, 0xf800 | 0x07e0, 2);
	mem_write(&r.mem, LFB_ADDR + 2, 0x001f, 2);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 0, 0), 0xffff00);
	CHECK_EQ(rig_pixel(&r, 1, 0), 0x0000ff);
	vbe_mode(&r, 64, 4, 15, 0x40);
	mem_write(&r.mem, LFB_ADDR, 0x7c00, 2);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 0, 0), 0xff0000);
	vbe_mode(&r, 64, 4, 8, 0x40);
	dac_write(&r, 7, 63, 32, 0);
	mem_write(&r.mem, LFB_ADDR + 64 + 1, 7, 1);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 1, 1), rig_rgb6(63, 32, 0));
	/* 8-bit DAC: values as written. */
	vbe_mode(&r, 64, 4, 8, 0x40 | 0x20 | 0x80);
	dac_write(&r, 7, 200, 100, 50);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 1, 1), 0xc86432);
	/* Panning through X/Y offset inside a wider virtual screen. */
	vbe_mode(&r, 64, 4, 32, 0x40);
	dispi_write(&r, 6, 128);
	CHECK_EQ(dispi_read(&r, 6), 128);
	mem_write(&r.mem, LFB_ADDR + 4 * (128 * 2 + 10), 0xabcdef, 4);
	dispi_write(&r, 8, 10);
	dispi_write(&r, 9, 2);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 0, 0), 0xabcdef);
	/* Banked window: bank 1 at 0xA0000 is VRAM 64 KiB up. */
	dispi_write(&r, 5, 1);
	mem_write(&r.mem, 0xa0010, 0x5a, 1);
	CHECK_EQ(mem_read(&r.mem, LFB_ADDR + 0x10010, 1), 0x5a);
	rig_free(&r);
}

/* Plane offset of 4 bpp pixel (x, y) at 1024 pixels a line. */
static u32 planar4_offset(unsigned x, unsigned y)
{
	return y * (1024 / 8) + x / 8;
}

/* Write mode 2 through the 0xA0000 window, banked: colour at pixels of
 * the byte that bit mask selects. */
static void planar4_put(struct rig *r, u32 off, u8 mask, u8 colour)
{
	dispi_write(r, 5, (u16)(off >> 16));
	gc_write(r, 8, mask);
	mem_read(&r->mem, 0xa0000 + (off & 0xffff), 1); /* load the latches */
	mem_write(&r->mem, 0xa0000 + (off & 0xffff), colour, 1);
}

/*
 * A 4 bpp DISPI mode as SeaBIOS's VBE sets modes 0x102/0x104/0x106: VGA
 * planar registers (mode 0x6A, here 0x12's), then DISPI 1024x768x4. The
 * window writes planes through the graphics controller, banks reach past
 * 64 KiB per plane, the picture goes through the attribute palette, and
 * the DISPI offsets pan it to the pixel.
 */
static void test_vbe_planar4(void)
{
	struct rig r;
	unsigned i;

	rig_init(&r);
	rig_map_bars(&r);
	rig_set_regs(&r, &vga_mode12);
	for (i = 0; i < 16; i++) {
		ac_write(&r, (u8)i, (u8)i);
		dac_write(&r, (u8)i, (u8)(4 * i), (u8)(63 - 4 * i),
			  (u8)(7 * i & 63));
	}
	vbe_mode(&r, 1024, 768, 4, 0);
	gc_write(&r, 5, 0x02); /* write mode 2 */
	seq_write(&r, 2, 0x0f);
	/* Row 700 is at plane offset 89600: bank 1. */
	planar4_put(&r, planar4_offset(16, 700), 0xff, 5);
	planar4_put(&r, planar4_offset(0, 0), 0x80, 9);
	planar4_put(&r, planar4_offset(1023, 767), 0x01, 15);
	rig_render(&r);
	CHECK_EQ(r.d->surface.width, 1024);
	CHECK_EQ(r.d->surface.height, 768);
	CHECK_EQ(rig_pixel(&r, 15, 700), rig_rgb6(0, 63, 0));
	for (i = 16; i < 24; i++)
		CHECK_EQ(rig_pixel(&r, i, 700), rig_rgb6(20, 43, 35));
	CHECK_EQ(rig_pixel(&r, 24, 700), rig_rgb6(0, 63, 0));
	CHECK_EQ(rig_pixel(&r, 0, 0), rig_rgb6(36, 27, 63 & 63));
	CHECK_EQ(rig_pixel(&r, 1, 0), rig_rgb6(0, 63, 0));
	CHECK_EQ(rig_pixel(&r, 1023, 767), rig_rgb6(60, 3, 105 & 63));
	/* Read mode 0 through the bank: plane 0 of colour 5 is set, plane 1
	 * is not; the LFB shows plane p of offset n at (n & 3) * (VRAM / 4)
	 * + (n >> 2) * 4 + p (vga_internal.h). */
	dispi_write(&r, 5, 1);
	gc_write(&r, 4, 0);
	CHECK_EQ(mem_read(&r.mem, 0xa0000 + (planar4_offset(16, 700) & 0xffff),
			  1),
		 0xff);
	gc_write(&r, 4, 1);
	CHECK_EQ(mem_read(&r.mem, 0xa0000 + (planar4_offset(16, 700) & 0xffff),
			  1),
		 0x00);
	CHECK_EQ(
		mem_read(&r.mem,
			 LFB_ADDR + lfb_plane_index(planar4_offset(16, 700), 2),
			 1),
		0xff);
	/* Only the rows written since are redrawn. */
	rig_render(&r);
	planar4_put(&r, planar4_offset(40, 500), 0xff, 3);
	rig_render(&r);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(r.upd_y0, 500);
	CHECK_EQ(r.upd_y1, 501);
	/* X offset 3 pans by three pixels. */
	dispi_write(&r, 8, 3);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 13, 700), rig_rgb6(20, 43, 35));
	CHECK_EQ(rig_pixel(&r, 12, 700), rig_rgb6(0, 63, 0));
	CHECK_EQ(rig_pixel(&r, 20, 700), rig_rgb6(20, 43, 35));
	CHECK_EQ(rig_pixel(&r, 21, 700), rig_rgb6(0, 63, 0));
	/* Banks past the planes' end (16 MiB / 4 = 64 banks) go nowhere. */
	dispi_write(&r, 5, 64);
	CHECK_EQ(dispi_read(&r, 5), 64);
	mem_write(&r.mem, 0xa0000, 0x0f, 1);
	CHECK_EQ(mem_read(&r.mem, 0xa0000, 1), 0xff);
	/* Colour plane enable applies as in VGA planar modes. */
	ac_write(&r, 0x12, 0x01);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 13, 700), rig_rgb6(4, 59, 7));
	rig_free(&r);
}

/* The CPU gets LFB pages as memory; writes land in the dirty log. */
static void test_lfb_host_mapped(void)
{
	struct rig r;
	u8 *p;

	rig_init(&r);
	rig_map_bars(&r);
	vbe_mode(&r, 640, 480, 32, 0x40);
	rig_render(&r);
	CHECK(mem_page_is_device(&r.mem, LFB_ADDR + 0x5000));
	CHECK(!mem_page_is_device(&r.mem, 0x5000));
	p = mem_page_ptr(&r.mem, LFB_ADDR + 0x5000, false);
	CHECK(p != NULL);
	r.map_changes = 0;
	/* A read pointer does not make the page dirty: no redraw. */
	rig_render(&r);
	CHECK_EQ(r.updates, 0);
	CHECK_EQ(r.map_changes, 0);
	p = mem_page_ptr(&r.mem, LFB_ADDR + 0x5000, true);
	CHECK(p != NULL);
	/* Pixel 0x5000 / 4 = 5120: row 8, column 0. */
	p[0] = 0x77;
	rig_render(&r);
	CHECK_EQ(r.updates, 1);
	CHECK_EQ(r.upd_y0, 8);
	CHECK_EQ(rig_pixel(&r, 0, 8), 0x77);
	/* The write pointers were taken back (the CPUs drop their TLBs). */
	CHECK_EQ(r.map_changes, 1);
	rig_render(&r);
	CHECK_EQ(r.map_changes, 1);
	rig_free(&r);
}

/*
 * CVE-2016-3712: QEMU's VBE let a guest make the visible area overflow
 * the VRAM (large virtual width and offsets, VGA registers changed under
 * a VBE mode) and read past it. Every combination here must render
 * without reading outside VRAM (ASan runs this) and keep the registers
 * sane.
 */
static void test_vbe_hostile(void)
{
	struct rig r;

	rig_init_vram(&r, 1u << 20);
	rig_map_bars(&r);
	CHECK_EQ(dispi_read(&r, 0xa), 16); /* 1 MiB in 64 KiB units */
	/* A mode bigger than video memory is refused. */
	vbe_mode(&r, 1024, 768, 32, 0x40);
	CHECK_EQ(dispi_read(&r, 4) & 1, 0);
	vbe_mode(&r, 1024, 768, 8, 0x40);
	CHECK_EQ(dispi_read(&r, 4) & 1, 1);
	/* Bochs divide by zero: virtual width 0; and widths past VRAM. */
	dispi_write(&r, 6, 0);
	dispi_write(&r, 6, 0xffff);
	CHECK_EQ(dispi_read(&r, 6), 1024);
	dispi_write(&r, 6, 1300);
	CHECK_EQ(dispi_read(&r, 6), 1300);
	CHECK_EQ(dispi_read(&r, 7), (1u << 20) / 1300);
	/* Offsets at the very end: the visible part runs past VRAM. */
	dispi_write(&r, 8, 1299);
	dispi_write(&r, 9, dispi_read(&r, 7) - 1);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 0, 767), 0);
	/* Depth and size cannot change under an enabled mode. */
	dispi_write(&r, 3, 32);
	CHECK_EQ(dispi_read(&r, 3), 8);
	dispi_write(&r, 1, 2560);
	CHECK_EQ(dispi_read(&r, 1), 1024);
	/* VGA registers scribbled while VBE is on change nothing unsafe. */
	crtc_write(&r, 0x13, 0xff);
	crtc_write(&r, 0x0c, 0xff);
	crtc_write(&r, 0x0d, 0xff);
	rig_render(&r);
	/* Bank past the end is ignored; the last bank is the last 64 KiB. */
	dispi_write(&r, 5, 16);
	CHECK_EQ(dispi_read(&r, 5), 0);
	dispi_write(&r, 5, 15);
	mem_write(&r.mem, 0xaffff, 0x42, 1);
	CHECK_EQ(mem_read(&r.mem, LFB_ADDR + 0xfffff, 1), 0x42);
	mem_write(&r.mem, 0xb0000, 0x43, 1); /* outside the 64 KiB window */
	/* The same with 4 bpp (Bochs #767: planar bank overflow). */
	vbe_mode(&r, 640, 480, 4, 0);
	dispi_write(&r, 5, 15);
	mem_write(&r.mem, 0xaffff, 0x44, 1);
	rig_render(&r);
	/* 4 bpp: the widest virtual screen, offsets at its very end; the
	 * last bank of planes (1 MiB / 4 = 4 banks) is the last one written. */
	dispi_write(&r, 6, 0xffff);
	dispi_write(&r, 8, dispi_read(&r, 6) - 1);
	dispi_write(&r, 9, dispi_read(&r, 7) - 1);
	rig_render(&r);
	CHECK_EQ(rig_pixel(&r, 639, 479), 0);
	seq_write(&r, 2, 0x0f);
	seq_write(&r, 4, 0x06);
	gc_write(&r, 1, 0x00);
	gc_write(&r, 3, 0x00);
	gc_write(&r, 4, 0x00);
	gc_write(&r, 5, 0x00);
	gc_write(&r, 8, 0xff);
	dispi_write(&r, 5, 3);
	mem_write(&r.mem, 0xaffff, 0x45, 1);
	CHECK_EQ(mem_read(&r.mem, 0xaffff, 1), 0x45);
	/* LFB accesses past the BAR's end go nowhere. */
	mem_write(&r.mem, LFB_ADDR + (1u << 20) - 2, 0x11223344, 4);
	rig_render(&r);
	rig_free(&r);
}

/* The EDID at BAR2 offset 0: header, checksum, 1024x768 preferred. */
static void test_edid(void)
{
	u8 e[128];
	unsigned i, sum = 0;
	struct rig r;

	rig_init(&r);
	rig_map_bars(&r);
	for (i = 0; i < 128; i++)
		e[i] = (u8)mem_read(&r.mem, MMIO_ADDR + i, 1);
	CHECK_EQ(get_le32(e), 0xffffff00);
	CHECK_EQ(get_le32(e + 4), 0x00ffffff);
	for (i = 0; i < 128; i++)
		sum += e[i];
	CHECK_EQ(sum % 256, 0);
	CHECK_EQ(e[18], 1);
	CHECK_EQ(e[19], 4);
	/* Detailed timing 1: horizontal and vertical active pixels. */
	CHECK_EQ(e[56] | (e[58] >> 4) << 8, 1024);
	CHECK_EQ(e[59] | (e[61] >> 4) << 8, 768);
	CHECK(!memcmp(e + 72 + 5, "twoostwo\n", 9));
	rig_free(&r);
}

struct region_seen {
	unsigned ram, rom, host, mmio;
	u64 host_base, host_len;
};

static int note_region(void *opaque, const struct mem_region *reg)
{
	struct region_seen *seen = opaque;

	switch (reg->kind) {
	case MEM_REGION_RAM:
		seen->ram++;
		break;
	case MEM_REGION_ROM:
		seen->rom++;
		break;
	case MEM_REGION_HOST:
		seen->host++;
		seen->host_base = reg->base;
		seen->host_len = reg->len;
		CHECK(reg->host && reg->dirty);
		break;
	case MEM_REGION_MMIO:
		seen->mmio++;
		break;
	}
	return 0;
}

/* The memory map as a list of regions: the LFB is host memory. */
static void test_memory_regions(void)
{
	struct region_seen seen = {0};
	struct rig r;

	rig_init(&r);
	rig_map_bars(&r);
	CHECK_EQ(mem_for_each_region(&r.mem, note_region, &seen), 0);
	CHECK(seen.ram >= 1);
	CHECK_EQ(seen.host, 1);
	CHECK_EQ(seen.host_base, LFB_ADDR);
	CHECK_EQ(seen.host_len, VGA_VRAM_SIZE);
	CHECK(seen.mmio >= 2); /* the 0xA0000 window and BAR2 */
	/* Moving the BAR tells the listeners and moves the region. */
	r.map_changes = 0;
	cfg_write(&r, 0x10, LFB_ADDR + 0x1000000);
	CHECK(r.map_changes > 0);
	CHECK(mem_page_ptr(&r.mem, LFB_ADDR, true) == NULL);
	CHECK(mem_page_ptr(&r.mem, LFB_ADDR + 0x1000000, true) != NULL);
	rig_free(&r);
}

static u32 rng_state = 0x2468ace1;

static u32 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Random register and memory traffic, rendering all along. */
static void test_render_hostile(void)
{
	const struct vga_mode_regs *modes[] = {&vga_mode3, &vga_mode4,
					       &vga_mode12, &vga_mode13};
	struct rig r;
	unsigned i;

	rig_init_vram(&r, 1u << 20);
	rig_map_bars(&r);
	for (i = 0; i < 20000; i++) {
		switch (rng() % 6) {
		case 0:
			outb(&r, (u16)(0x3c0 + rng() % 0x20), (u8)rng());
			break;
		case 1:
			pio_write(r.pio, 0x1ce, rng() % 12, 2);
			pio_write(r.pio, 0x1cf, rng() & 0xfff, 2);
			break;
		case 2:
			mem_write(&r.mem, 0xa0000 + rng() % 0x20000, rng(), 4);
			break;
		case 3:
			mem_write(&r.mem, LFB_ADDR + rng() % (1u << 20), rng(),
				  1);
			break;
		case 4:
			if (rng() % 50 == 0)
				rig_set_regs(&r, modes[rng() % 4]);
			break;
		default:
			if (rng() % 20 == 0)
				rig_render(&r);
			break;
		}
	}
	rig_render(&r);
	CHECK(r.d->surface.width >= 1 &&
	      r.d->surface.width <= DISPLAY_MAX_WIDTH);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_text);
	RUN_TEST(test_text_font_select);
	RUN_TEST(test_planar_palette);
	RUN_TEST(test_cga4);
	RUN_TEST(test_mode13_start_line_compare);
	RUN_TEST(test_modex);
	RUN_TEST(test_dirty_rects);
	RUN_TEST(test_mode13_mapped);
	RUN_TEST(test_vbe_formats);
	RUN_TEST(test_vbe_planar4);
	RUN_TEST(test_lfb_host_mapped);
	RUN_TEST(test_vbe_hostile);
	RUN_TEST(test_memory_regions);
	RUN_TEST(test_edid);
	RUN_TEST(test_render_hostile);
	return unit_summary();
}

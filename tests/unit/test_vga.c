// SPDX-License-Identifier: MIT
/*
 * The VGA adapter driven as a guest would: port writes that program the
 * registers the way a VGA BIOS sets mode 3, memory accesses through the
 * 0xA0000 window, PCI configuration through 0xCF8/0xCFC.
 */
#include <stdlib.h>

#include "bus/memory.h"
#include "bus/pci.h"
#include "bus/pio.h"
#include "core/clock.h"
#include "hw/vga.h"
#include "hw/vga_internal.h"
#include "unit.h"

#define VGA_DEVFN PCI_DEVFN(2, 0)
#define LFB_ADDR 0xe0000000u
#define MMIO_ADDR 0xfebf0000u
#define ROM_ADDR 0xfeb00000u

struct rig {
	struct pio_bus *pio;
	struct phys_mem mem;
	struct pci_bus pci;
	struct vga *vga;
};

static void rig_init(struct rig *r)
{
	static const u8 rom[100] = {0x55, 0xaa, 0x01};

	r->pio = pio_bus_new();
	CHECK(mem_init(&r->mem, 1 << 20, 1 << 20) == 0);
	CHECK(pci_bus_init(&r->pci, r->pio, &r->mem) == 0);
	r->vga = vga_create(&r->pci, VGA_DEVFN, rom, sizeof(rom), 0, NULL);
	CHECK(r->vga != NULL);
}

static void rig_free(struct rig *r)
{
	struct device d = vga_device(r->vga);

	d.ops->destroy(d.opaque);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
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

static u8 crtc_read(struct rig *r, u8 idx)
{
	outb(r, 0x3d4, idx);
	return inb(r, 0x3d5);
}

static void ac_write(struct rig *r, u8 idx, u8 v)
{
	inb(r, 0x3da); /* flip-flop to index */
	outb(r, 0x3c0, idx);
	outb(r, 0x3c0, v);
}

static u32 cfg_read(struct rig *r, u8 reg)
{
	pio_write(r->pio, 0xcf8, 0x80000000u | VGA_DEVFN << 8 | reg, 4);
	return pio_read(r->pio, 0xcfc, 4);
}

static void cfg_write(struct rig *r, u8 reg, u32 v)
{
	pio_write(r->pio, 0xcf8, 0x80000000u | VGA_DEVFN << 8 | reg, 4);
	pio_write(r->pio, 0xcfc, v, 4);
}

/* Mode 3 (80x25 color text) register values, as a VGA BIOS loads them. */
static void set_mode3(struct rig *r)
{
	static const u8 seq[5] = {0x03, 0x00, 0x03, 0x00, 0x02};
	static const u8 crtc[25] = {0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf,
				    0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00,
				    0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f,
				    0x96, 0xb9, 0xa3, 0xff};
	static const u8 gc[9] = {0x00, 0x00, 0x00, 0x00, 0x00,
				 0x10, 0x0e, 0x0f, 0xff};
	static const u8 ac[21] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14,
				  0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
				  0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00};
	unsigned i;

	outb(r, 0x3c2, 0x67);
	for (i = 0; i < 5; i++)
		seq_write(r, (u8)i, seq[i]);
	crtc_write(r, 0x11, 0x0e); /* unlock CRTC 0-7 */
	for (i = 0; i < 25; i++)
		crtc_write(r, (u8)i, crtc[i]);
	for (i = 0; i < 9; i++)
		gc_write(r, (u8)i, gc[i]);
	for (i = 0; i < 21; i++)
		ac_write(r, (u8)i, ac[i]);
	inb(r, 0x3da);
	outb(r, 0x3c0, 0x20); /* palette address source: display on */
}

/* 640x480x16 planar graphics (mode 12h) memory configuration. */
static void set_planar(struct rig *r)
{
	outb(r, 0x3c2, 0xe3);
	seq_write(r, 2, 0x0f);
	seq_write(r, 4, 0x06);
	gc_write(r, 5, 0x00);
	gc_write(r, 6, 0x05);
	gc_write(r, 3, 0x00);
	gc_write(r, 1, 0x00);
	gc_write(r, 8, 0xff);
	ac_write(r, 0x10, 0x01);
}

static u8 read_plane(struct rig *r, unsigned plane, u32 off)
{
	gc_write(r, 4, (u8)plane);
	return (u8)mem_read(&r->mem, 0xa0000 + off, 1);
}

static void put_text(struct rig *r, unsigned row, unsigned col, const char *s,
		     u8 attr)
{
	u32 addr = 0xb8000 + (row * 80 + col) * 2;

	for (; *s; s++, addr += 2)
		mem_write(&r->mem, addr, (u8)*s | (u32)attr << 8, 2);
}

static void test_text_mode(void)
{
	static struct text_screen ts;
	struct rig r;

	rig_init(&r);
	set_mode3(&r);
	put_text(&r, 0, 0, "Hello", 0x1f);
	put_text(&r, 24, 75, "World", 0x07);
	vga_get_text_screen(r.vga, &ts);
	CHECK(!ts.graphics);
	CHECK_EQ(ts.cols, 80);
	CHECK_EQ(ts.rows, 25);
	CHECK_EQ(ts.cell[0][0].ch, 'H');
	CHECK_EQ(ts.cell[0][0].attr, 0x1f);
	CHECK_EQ(ts.cell[0][4].ch, 'o');
	CHECK_EQ(ts.cell[24][79].ch, 'd');
	CHECK_EQ(ts.cell[24][79].attr, 0x07);
	/* Text reads back through the window. */
	CHECK_EQ(mem_read(&r.mem, 0xb8000, 2), 0x1f00 | 'H');
	CHECK_EQ(mem_read(&r.mem, 0xb8002, 1), 'e');
	/* B8000 is the only window in this memory map. */
	CHECK_EQ(mem_read(&r.mem, 0xa0000, 1), 0xff);
	CHECK_EQ(mem_read(&r.mem, 0xb0000, 1), 0xff);

	/* As on real VGA: characters at even offsets of plane 0, attributes
	 * at the same offsets of plane 1. */
	seq_write(&r, 4, 0x06);
	gc_write(&r, 5, 0x00);
	gc_write(&r, 6, 0x04);
	CHECK_EQ(read_plane(&r, 0, 0), 'H');
	CHECK_EQ(read_plane(&r, 0, 2), 'e');
	CHECK_EQ(read_plane(&r, 1, 0), 0x1f);
	CHECK_EQ(read_plane(&r, 1, 1), 0x00);
	rig_free(&r);
}

static void test_text_start_and_cursor(void)
{
	static struct text_screen ts;
	struct rig r;

	rig_init(&r);
	set_mode3(&r);
	put_text(&r, 1, 0, "second", 0x07);
	crtc_write(&r, 0x0e, 0x00);
	crtc_write(&r, 0x0f, 85); /* row 1, column 5 */
	vga_get_text_screen(r.vga, &ts);
	CHECK(ts.cursor_visible);
	CHECK_EQ(ts.cursor_row, 1);
	CHECK_EQ(ts.cursor_col, 5);

	/* Scroll the display start one row down. */
	crtc_write(&r, 0x0c, 0);
	crtc_write(&r, 0x0d, 80);
	vga_get_text_screen(r.vga, &ts);
	CHECK_EQ(ts.cell[0][0].ch, 's');
	CHECK_EQ(ts.cursor_row, 0);
	CHECK_EQ(ts.cursor_col, 5);

	/* Cursor start bit 5 hides the cursor. */
	crtc_write(&r, 0x0a, 0x2d);
	vga_get_text_screen(r.vga, &ts);
	CHECK(!ts.cursor_visible);

	/* 80x50: 8-line characters. */
	crtc_write(&r, 0x0a, 0x06);
	crtc_write(&r, 0x0b, 0x07);
	crtc_write(&r, 0x09, 0x47);
	vga_get_text_screen(r.vga, &ts);
	CHECK_EQ(ts.rows, 50);
	CHECK(ts.cursor_visible);

	/* Graphics per the attribute controller. */
	ac_write(&r, 0x10, 0x01);
	vga_get_text_screen(r.vga, &ts);
	CHECK(ts.graphics);
	CHECK_EQ(ts.rows, 0);
	CHECK_EQ(ts.cols, 0);
	rig_free(&r);
}

static void test_write_modes(void)
{
	struct rig r;

	rig_init(&r);
	set_planar(&r);

	/* Mode 0 with set/reset on all planes. */
	gc_write(&r, 0, 0x05);
	gc_write(&r, 1, 0x0f);
	mem_write(&r.mem, 0xa0000, 0x12, 1);
	CHECK_EQ(read_plane(&r, 0, 0), 0xff);
	CHECK_EQ(read_plane(&r, 1, 0), 0x00);
	CHECK_EQ(read_plane(&r, 2, 0), 0xff);
	CHECK_EQ(read_plane(&r, 3, 0), 0x00);

	/* Bit mask keeps latched bits. */
	gc_write(&r, 1, 0x00);
	gc_write(&r, 8, 0x0f);
	mem_read(&r.mem, 0xa0000, 1);
	mem_write(&r.mem, 0xa0000, 0x00, 1);
	CHECK_EQ(read_plane(&r, 0, 0), 0xf0);
	CHECK_EQ(read_plane(&r, 1, 0), 0x00);

	/* Rotate, then XOR with the latches. */
	gc_write(&r, 8, 0xff);
	gc_write(&r, 3, 0x01);
	mem_write(&r.mem, 0xa0001, 0x01, 1);
	CHECK_EQ(read_plane(&r, 3, 1), 0x80);
	gc_write(&r, 3, 0x18);
	mem_read(&r.mem, 0xa0001, 1);
	mem_write(&r.mem, 0xa0001, 0xff, 1);
	CHECK_EQ(read_plane(&r, 3, 1), 0x7f);
	gc_write(&r, 3, 0x00);

	/* Map mask limits the planes written. */
	seq_write(&r, 2, 0x02);
	mem_write(&r.mem, 0xa0002, 0x5a, 1);
	CHECK_EQ(read_plane(&r, 1, 2), 0x5a);
	CHECK_EQ(read_plane(&r, 0, 2), 0x00);
	seq_write(&r, 2, 0x0f);

	/* Mode 1 copies the latches (all four planes) elsewhere. */
	gc_write(&r, 5, 0x01);
	mem_read(&r.mem, 0xa0000, 1);
	mem_write(&r.mem, 0xa0010, 0x00, 1);
	gc_write(&r, 5, 0x00);
	CHECK_EQ(read_plane(&r, 0, 0x10), 0xf0);
	CHECK_EQ(read_plane(&r, 2, 0x10), 0xf0);
	CHECK_EQ(read_plane(&r, 1, 0x10), 0x00);

	/* Mode 2: the data's low bits are the colour. */
	gc_write(&r, 5, 0x02);
	mem_write(&r.mem, 0xa0020, 0x0a, 1);
	gc_write(&r, 5, 0x00);
	CHECK_EQ(read_plane(&r, 0, 0x20), 0x00);
	CHECK_EQ(read_plane(&r, 1, 0x20), 0xff);
	CHECK_EQ(read_plane(&r, 3, 0x20), 0xff);

	/* Mode 3: set/reset colour, rotated data ANDed into the bit mask. */
	gc_write(&r, 5, 0x03);
	gc_write(&r, 0, 0x0c);
	gc_write(&r, 8, 0xf0);
	mem_read(&r.mem, 0xa0020, 1);
	mem_write(&r.mem, 0xa0020, 0x3c, 1);
	gc_write(&r, 5, 0x00);
	CHECK_EQ(read_plane(&r, 0, 0x20), 0x00);
	CHECK_EQ(read_plane(&r, 1, 0x20), 0xcf);
	CHECK_EQ(read_plane(&r, 2, 0x20), 0x30);
	CHECK_EQ(read_plane(&r, 3, 0x20), 0xff);

	/* Read mode 1: colour compare of planes 0 and 2 = 1, 1. */
	gc_write(&r, 2, 0x05);
	gc_write(&r, 7, 0x05);
	gc_write(&r, 5, 0x08);
	CHECK_EQ(mem_read(&r.mem, 0xa0000, 1), 0xf0);
	gc_write(&r, 7, 0x00); /* nothing cared for: all match */
	CHECK_EQ(mem_read(&r.mem, 0xa0000, 1), 0xff);
	gc_write(&r, 5, 0x00);
	rig_free(&r);
}

static void test_chain4(void)
{
	struct rig r;

	rig_init(&r);
	set_planar(&r);
	seq_write(&r, 4, 0x0e);
	gc_write(&r, 5, 0x40);
	mem_write(&r.mem, 0xa0005, 0x77, 1);
	mem_write(&r.mem, 0xa0006, 0x66, 1);
	CHECK_EQ(mem_read(&r.mem, 0xa0005, 2), 0x6677);
	/* Address bits 1:0 chose the plane. */
	seq_write(&r, 4, 0x06);
	gc_write(&r, 5, 0x00);
	CHECK_EQ(read_plane(&r, 1, 4), 0x77);
	CHECK_EQ(read_plane(&r, 2, 4), 0x66);
	CHECK_EQ(read_plane(&r, 0, 4), 0x00);
	rig_free(&r);
}

static void test_registers(void)
{
	struct rig r;
	u64 start;
	bool saw_retrace = false, saw_active = false;

	rig_init(&r);
	set_mode3(&r);
	/* CRTC write protect covers 0-7 but not line compare bit 8. */
	crtc_write(&r, 0x11, 0x8e);
	crtc_write(&r, 0x00, 0x12);
	CHECK_EQ(crtc_read(&r, 0x00), 0x5f);
	crtc_write(&r, 0x07, 0x00);
	CHECK_EQ(crtc_read(&r, 0x07), 0x0f);

	/* Mono addresses are dead while MISC selects color. */
	outb(&r, 0x3b4, 0x0c);
	CHECK_EQ(inb(&r, 0x3b4), 0xff);
	outb(&r, 0x3c2, 0x66);
	CHECK_EQ(inb(&r, 0x3cc), 0x66);
	outb(&r, 0x3b4, 0x0c);
	CHECK_EQ(inb(&r, 0x3b5), 0x00);
	CHECK_EQ(inb(&r, 0x3d5), 0xff);
	outb(&r, 0x3c2, 0x67);

	/* DAC: 6-bit components, auto-increment. */
	outb(&r, 0x3c8, 5);
	outb(&r, 0x3c9, 0xff);
	outb(&r, 0x3c9, 0x20);
	outb(&r, 0x3c9, 0x01);
	outb(&r, 0x3c9, 0x02);
	CHECK_EQ(inb(&r, 0x3c8), 6);
	outb(&r, 0x3c7, 5);
	CHECK_EQ(inb(&r, 0x3c7), 3);
	CHECK_EQ(inb(&r, 0x3c9), 0x3f);
	CHECK_EQ(inb(&r, 0x3c9), 0x20);
	CHECK_EQ(inb(&r, 0x3c9), 0x01);

	/* Attribute flip-flop and palette address source. */
	inb(&r, 0x3da);
	outb(&r, 0x3c0, 0x12);
	CHECK_EQ(inb(&r, 0x3c0), 0x12);
	inb(&r, 0x3da); /* back to index without a data write */
	outb(&r, 0x3c0, 0x10);
	CHECK_EQ(inb(&r, 0x3c0), 0x10);
	CHECK_EQ(inb(&r, 0x3c1), 0x0c);
	inb(&r, 0x3da);
	outb(&r, 0x3c0, 0x21); /* palette 1, PAS set: write ignored */
	outb(&r, 0x3c0, 0x3f);
	outb(&r, 0x3c0, 0x01);
	CHECK_EQ(inb(&r, 0x3c1), 0x01);

	/* Word writes reach index and data. */
	pio_write(r.pio, 0x3ce, 0x0805, 2);
	outb(&r, 0x3ce, 0x05);
	CHECK_EQ(inb(&r, 0x3cf), 0x08);

	/* Input status 1 shows retrace within a couple of frames. */
	start = clock_now_ns();
	while ((!saw_retrace || !saw_active) &&
	       clock_now_ns() - start < 200 * NSEC_PER_MSEC) {
		u8 st = inb(&r, 0x3da);

		if (st & 0x08)
			saw_retrace = true;
		else
			saw_active = true;
	}
	CHECK(saw_retrace);
	CHECK(saw_active);
	rig_free(&r);
}

static u16 dispi_read(struct rig *r, u16 idx)
{
	pio_write(r->pio, 0x1ce, idx, 2);
	return (u16)pio_read(r->pio, 0x1cf, 2);
}

static void dispi_write(struct rig *r, u16 idx, u16 v)
{
	pio_write(r->pio, 0x1ce, idx, 2);
	pio_write(r->pio, 0x1cf, v, 2);
}

static void test_pci(void)
{
	struct rig r;

	rig_init(&r);
	CHECK_EQ(cfg_read(&r, 0x00), 0x11111234);
	CHECK_EQ(cfg_read(&r, 0x08) >> 8, 0x030000);
	CHECK_EQ(cfg_read(&r, 0x2c), 0x11001af4);
	/* BAR sizing: 16 MiB prefetchable, 4 KiB, 64 KiB ROM. */
	cfg_write(&r, 0x10, 0xffffffff);
	CHECK_EQ(cfg_read(&r, 0x10), 0xff000008);
	cfg_write(&r, 0x18, 0xffffffff);
	CHECK_EQ(cfg_read(&r, 0x18), 0xfffff000);
	cfg_write(&r, 0x30, 0xffffffff);
	CHECK_EQ(cfg_read(&r, 0x30), 0xffff0001);

	cfg_write(&r, 0x10, LFB_ADDR);
	cfg_write(&r, 0x18, MMIO_ADDR);
	cfg_write(&r, 0x30, ROM_ADDR | 1);
	cfg_write(&r, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	CHECK_EQ(mem_read(&r.mem, ROM_ADDR, 2), 0xaa55);
	CHECK_EQ(mem_read(&r.mem, ROM_ADDR + 0x8000, 1), 0);

	/* BAR2: DISPI registers at 0x500 + 2 * index. */
	CHECK_EQ(mem_read(&r.mem, MMIO_ADDR + 0x500, 2), 0xb0c5);
	CHECK_EQ(mem_read(&r.mem, MMIO_ADDR + 0x514, 2), 256);
	mem_write(&r.mem, MMIO_ADDR + 0x502, 800, 2);
	CHECK_EQ(dispi_read(&r, 1), 800);
	/* BAR2: VGA ports at 0x400 + port - 0x3C0. */
	mem_write(&r.mem, MMIO_ADDR + 0x404, 0x0302, 2);
	outb(&r, 0x3c4, 0x02);
	CHECK_EQ(inb(&r, 0x3c5), 0x03);

	/* BAR0 is the VRAM. */
	mem_write(&r.mem, LFB_ADDR + 0x123456, 0xdeadbeef, 4);
	CHECK_EQ(mem_read(&r.mem, LFB_ADDR + 0x123456, 4), 0xdeadbeef);
	rig_free(&r);
}

static void test_dispi(void)
{
	static struct text_screen ts;
	struct rig r;

	rig_init(&r);
	dispi_write(&r, 0, 0xb0c0);
	CHECK_EQ(dispi_read(&r, 0), 0xb0c0);
	dispi_write(&r, 0, 0xb0c5);
	CHECK_EQ(dispi_read(&r, 0), 0xb0c5);
	dispi_write(&r, 0, 0x1234);
	CHECK_EQ(dispi_read(&r, 0), 0xb0c5);
	CHECK_EQ(dispi_read(&r, 0xa), VGA_VRAM_SIZE >> 16);

	dispi_write(&r, 4, 0x02);
	CHECK_EQ(dispi_read(&r, 1), 2560);
	CHECK_EQ(dispi_read(&r, 2), 1600);
	CHECK_EQ(dispi_read(&r, 3), 32);
	dispi_write(&r, 4, 0x00);

	dispi_write(&r, 1, 1024);
	dispi_write(&r, 2, 768);
	dispi_write(&r, 3, 32);
	dispi_write(&r, 1, 4000); /* beyond the maximum: ignored */
	CHECK_EQ(dispi_read(&r, 1), 1024);
	dispi_write(&r, 4, 0x41);
	CHECK_EQ(dispi_read(&r, 4), 0x41);
	CHECK_EQ(dispi_read(&r, 6), 1024);
	CHECK_EQ(dispi_read(&r, 7), VGA_VRAM_SIZE / 4096);
	dispi_write(&r, 1, 640); /* no resolution change while on */
	CHECK_EQ(dispi_read(&r, 1), 1024);
	vga_get_text_screen(r.vga, &ts);
	CHECK(ts.graphics);

	/* Bank 3 through the A0000 window equals LFB offset 3 * 64 KiB. */
	cfg_write(&r, 0x10, LFB_ADDR);
	cfg_write(&r, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	dispi_write(&r, 5, 3);
	mem_write(&r.mem, 0xa0010, 0xa5, 1);
	CHECK_EQ(mem_read(&r.mem, LFB_ADDR + 3 * 0x10000 + 0x10, 1), 0xa5);
	dispi_write(&r, 5, 0x1000); /* no such bank */
	CHECK_EQ(dispi_read(&r, 5), 3);
	dispi_write(&r, 4, 0x00);
	CHECK_EQ(dispi_read(&r, 4), 0x00);
	rig_free(&r);
}

static void test_save_load(void)
{
	static struct text_screen a, b;
	struct snap_writer w;
	struct snap_reader rd;
	struct device d;
	struct rig r;

	rig_init(&r);
	set_mode3(&r);
	put_text(&r, 3, 7, "saved", 0x4e);
	crtc_write(&r, 0x0f, 10);
	vga_get_text_screen(r.vga, &a);
	d = vga_device(r.vga);
	snap_writer_init(&w);
	CHECK_EQ(d.ops->save(d.opaque, &w), 0);
	CHECK_EQ(w.error, 0);

	d.ops->reset(d.opaque);
	put_text(&r, 3, 7, "XXXXX", 0x11);
	vga_get_text_screen(r.vga, &b);
	CHECK(b.rows != 25 || b.cell[3][7].ch != 's');

	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(d.ops->load(d.opaque, &rd), 0);
	vga_get_text_screen(r.vga, &b);
	CHECK_EQ(b.rows, 25);
	CHECK_EQ(b.cell[3][7].ch, 's');
	CHECK_EQ(b.cell[3][7].attr, 0x4e);
	CHECK_EQ(b.cursor_col, 10);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	snap_writer_free(&w);
	rig_free(&r);
}

/*
 * A file from before the chain-4 layout: section "vga-vram" version 1
 * kept byte o of plane p at 4o + p. Loading it moves the planes into
 * today's layout (vga_vram_index), so the text comes back.
 */
static void test_load_v1_vram(void)
{
	static struct text_screen b;
	struct snap_writer w;
	struct snap_reader rd;
	struct device d;
	struct rig r;
	u32 q, o;
	unsigned p;
	u8 *old;

	rig_init(&r);
	set_mode3(&r);
	put_text(&r, 3, 7, "older", 0x4e);
	q = r.vga->vram_size / 4;
	old = calloc(1, r.vga->vram_size);
	CHECK(old != NULL);
	if (!old)
		goto out;
	for (o = 0; o < q; o++)
		for (p = 0; p < 4; p++)
			old[o * 4 + p] =
				r.vga->vram[vga_vram_index(r.vga, p, o)];
	snap_writer_init(&w);
	CHECK_EQ(snap_put(&w, "vga", 1, &r.vga->r, sizeof(r.vga->r)), 0);
	CHECK_EQ(snap_put(&w, "vga-vram", 1, old, r.vga->vram_size), 0);
	d = vga_device(r.vga);
	d.ops->reset(d.opaque);
	put_text(&r, 3, 7, "XXXXX", 0x11);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(d.ops->load(d.opaque, &rd), 0);
	vga_get_text_screen(r.vga, &b);
	CHECK_EQ(b.rows, 25);
	CHECK_EQ(b.cell[3][7].ch, 'o');
	CHECK_EQ(b.cell[3][11].ch, 'r');
	CHECK_EQ(b.cell[3][7].attr, 0x4e);
	snap_writer_free(&w);
	free(old);
out:
	rig_free(&r);
}

static u32 rng_state = 0x12345678;

static u32 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void hostile_step(struct rig *r, struct text_screen *ts)
{
	static const unsigned sizes[4] = {1, 2, 4, 8};
	unsigned size = sizes[rng() % 4];

	switch (rng() % 8) {
	case 0:
	case 1:
	case 2:
		pio_write(r->pio, (u16)(0x3b0 + rng() % 0x30), rng(), 1);
		break;
	case 3:
		pio_read(r->pio, (u16)(0x3b0 + rng() % 0x30), 1 << (rng() % 3));
		break;
	case 4:
		pio_write(r->pio, (u16)(0x1ce + rng() % 2), rng() % 16, 2);
		pio_write(r->pio, 0x1cf, rng(), 1 + rng() % 2);
		break;
	case 5:
		mem_write(&r->mem, 0xa0000 + rng() % 0x20000, rng(), size);
		break;
	case 6:
		mem_read(&r->mem, 0xa0000 + rng() % 0x20000, size);
		break;
	default:
		mem_write(&r->mem, MMIO_ADDR + rng() % 0x1000, rng(), size);
		mem_read(&r->mem, MMIO_ADDR + rng() % 0x1000, size);
		vga_get_text_screen(r->vga, ts);
		CHECK(ts->rows <= TEXT_SCREEN_MAX_ROWS);
		CHECK(ts->cols <= TEXT_SCREEN_MAX_COLS);
		break;
	}
}

static void test_hostile(void)
{
	static struct text_screen ts;
	struct rig r;
	unsigned i;

	rig_init(&r);
	cfg_write(&r, 0x18, MMIO_ADDR);
	cfg_write(&r, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	for (i = 0; i < 100000; i++) {
		hostile_step(&r, &ts);
		/* Now and then the memory path in text and planar modes. */
		if (i % 10000 == 0)
			set_mode3(&r);
		else if (i % 10000 == 5000)
			set_planar(&r);
	}
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_text_mode);
	RUN_TEST(test_text_start_and_cursor);
	RUN_TEST(test_write_modes);
	RUN_TEST(test_chain4);
	RUN_TEST(test_registers);
	RUN_TEST(test_pci);
	RUN_TEST(test_dispi);
	RUN_TEST(test_save_load);
	RUN_TEST(test_load_v1_vram);
	RUN_TEST(test_hostile);
	return unit_summary();
}

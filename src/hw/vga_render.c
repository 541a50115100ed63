// SPDX-License-Identifier: MIT
/*
 * The VGA's display side: what the CRT controller, the attribute
 * controller and the DAC make of video memory (IBM VGA Technical
 * Reference: CRT Controller Registers, Attribute Controller Registers,
 * "Video Subsystem" data flow), and the Bochs DISPI linear modes, drawn
 * into the display surface (ui/display.h).
 *
 * The CRT controller walks a character-clock counter: it starts each frame
 * at the start address, advances by the offset register times two each
 * character row, and restarts at 0 below the line compare scan line. The
 * counter becomes a plane offset through byte, word (bit 13 or 15 into
 * bit 0) or doubleword (bits 15:14 into 1:0) addressing, and in CGA
 * compatibility the row scan counter replaces address bits 13 and 14.
 * Each character clock fetches one byte from each of the four planes:
 * eight 16-colour pixels (planar), eight CGA pixels from two planes
 * (shift register interleave), four 256-colour pixels (one per plane),
 * or, in text modes, a character, its attribute and a glyph row from
 * plane 2.
 *
 * Only what changed is drawn: lines whose video memory pages are clean in
 * the dirty log are skipped unless a display register changed (text modes
 * are always redrawn for blinking), and only rows that differ from the
 * surface are reported to the listeners.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "hw/vga_internal.h"

#define VGA_REFRESH_NS (NSEC_PER_SEC / 30)
/* Cursor: 16 frames per blink cycle, characters 32 (at 60 Hz). */
#define VGA_CURSOR_BLINK_NS (NSEC_PER_SEC * 8 / 60)
#define VGA_CHAR_BLINK_NS (NSEC_PER_SEC * 16 / 60)
#define VGA_LINE_MAX (DISPLAY_MAX_WIDTH + 16)

#define VGA_SEQ_CLOCKING 0x01
#define VGA_SEQ_CLK_8DOT 0x01
#define VGA_SEQ_CLK_SCREEN_OFF 0x20
#define VGA_SEQ_CHAR_MAP 0x03
#define VGA_CRTC_PRESET_ROW 0x08
#define VGA_CRTC_LINE_COMPARE 0x18
#define VGA_GC_MODE_INTERLEAVE 0x20
#define VGA_GC_MODE_256 0x40
#define VGA_AC_MODE_LINE_GRAPHICS 0x04
#define VGA_AC_MODE_BLINK 0x08
#define VGA_AC_MODE_PAN_COMPAT 0x20
#define VGA_AC_MODE_8BIT 0x40
#define VGA_AC_MODE_P54S 0x80
#define VGA_AC_PLANE_ENABLE 0x12
#define VGA_AC_PANNING 0x13
#define VGA_AC_COLOR_SELECT 0x14

enum vga_kind { VGA_TEXT, VGA_PLANAR, VGA_CGA4, VGA_256, VGA_VBE };

/* One frame's layout, decoded from the registers. */
struct vga_frame {
	enum vga_kind kind;
	unsigned width, height;
	unsigned chars;	     /* character clocks per line */
	unsigned char_width; /* text: 8 or 9 */
	unsigned char_height;
	unsigned vrep;	  /* scan lines per surface line */
	u32 start;	  /* CRTC start address (character clocks) */
	u32 pitch;	  /* counter advance per character row */
	u32 line_compare; /* scan line after which the counter restarts */
	unsigned pan;
	/* VBE: start and stride in bytes, or in pixels at 4 bpp (planar) */
	unsigned bpp;
	u64 vbe_start, vbe_stride;
	u32 palette[256]; /* DAC colours */
	u32 ac_color[16]; /* attribute palette through the DAC */
};

/* 6-bit DAC values scale to 8 bits; in 8-bit DAC mode they are as is. */
static u32 vga_dac_color(const struct vga *vga, u8 index)
{
	const u8 *c = vga->r.dac[index];

	if (vga->r.dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)
		return (u32)c[0] << 16 | (u32)c[1] << 8 | c[2];
	return (u32)((c[0] & 0x3f) << 2 | (c[0] & 0x3f) >> 4) << 16 |
	       (u32)((c[1] & 0x3f) << 2 | (c[1] & 0x3f) >> 4) << 8 |
	       (u32)((c[2] & 0x3f) << 2 | (c[2] & 0x3f) >> 4);
}

/*
 * A 4-bit attribute becomes a DAC index through the palette registers;
 * colour select supplies bits 7:6, and bits 5:4 too when P54S is set.
 */
static u8 vga_ac_dac_index(const struct vga_regs *r, unsigned pix)
{
	u8 csel = r->ac[VGA_AC_COLOR_SELECT];
	u8 v = r->ac[pix & 15] & 0x3f;

	if (r->ac[VGA_AC_MODE] & VGA_AC_MODE_P54S)
		v = (u8)((v & 0x0f) | (csel & 3) << 4);
	return (u8)(v | (csel & 0x0c) << 4);
}

static void vga_frame_colors(const struct vga *vga, struct vga_frame *f)
{
	unsigned i;

	for (i = 0; i < 256; i++)
		f->palette[i] = vga_dac_color(vga, (u8)(i & vga->r.dac_mask));
	for (i = 0; i < 16; i++)
		f->ac_color[i] = f->palette[vga_ac_dac_index(&vga->r, i)];
}

static unsigned vga_vbe_bytes_pp(unsigned bpp)
{
	return bpp == 15 ? 2 : bpp / 8;
}

static bool vga_frame_vbe(const struct vga *vga, struct vga_frame *f)
{
	const u16 *d = vga->r.dispi;
	unsigned bpp = d[VBE_DISPI_INDEX_BPP];
	unsigned bytes = vga_vbe_bytes_pp(bpp);

	if (bpp != 4 && bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 &&
	    bpp != 32)
		return false;
	if (bpp == 4)
		bytes = 1; /* counted in pixels: bits of a plane byte */
	f->kind = VGA_VBE;
	f->bpp = bpp;
	f->width = d[VBE_DISPI_INDEX_XRES];
	f->height = d[VBE_DISPI_INDEX_YRES];
	f->vbe_stride = (u64)d[VBE_DISPI_INDEX_VIRT_WIDTH] * bytes;
	f->vbe_start = (u64)d[VBE_DISPI_INDEX_Y_OFFSET] * f->vbe_stride +
		       (u64)d[VBE_DISPI_INDEX_X_OFFSET] * bytes;
	f->vrep = 1;
	return f->width && f->height;
}

/* Vertical display end and line compare are 10 bits spread over 3 regs. */
static u32 vga_vdisp_end(const u8 *crtc)
{
	u8 ovf = crtc[VGA_CRTC_OVERFLOW];

	return crtc[VGA_CRTC_V_DISP_END] | (ovf & 0x02) << 7 |
	       (ovf & 0x40) << 3;
}

static u32 vga_line_compare(const u8 *crtc)
{
	return crtc[VGA_CRTC_LINE_COMPARE] |
	       (crtc[VGA_CRTC_OVERFLOW] & 0x10) << 4 |
	       (crtc[VGA_CRTC_MAX_SCAN] & 0x40) << 3;
}

static void vga_frame_crtc(const struct vga *vga, struct vga_frame *f)
{
	const struct vga_regs *r = &vga->r;
	const u8 *crtc = r->crtc;
	bool graphics = (r->gc[VGA_GC_MISC] & VGA_GC_MISC_GRAPHICS) ||
			(r->ac[VGA_AC_MODE] & VGA_AC_MODE_GRAPHICS);
	unsigned lines = vga_vdisp_end(crtc) + 1;
	unsigned double_scan = (crtc[VGA_CRTC_MAX_SCAN] & 0x80) ? 2 : 1;
	unsigned pan = r->ac[VGA_AC_PANNING] & 0x0f;

	f->chars = crtc[VGA_CRTC_H_DISP_END] + 1u;
	f->char_height = (crtc[VGA_CRTC_MAX_SCAN] & 0x1f) + 1u;
	f->start = (u32)crtc[VGA_CRTC_START_HI] << 8 | crtc[VGA_CRTC_START_LO];
	f->pitch = crtc[VGA_CRTC_OFFSET] * 2u;
	f->line_compare = vga_line_compare(crtc);
	if (!graphics) {
		f->kind = VGA_TEXT;
		f->char_width =
			(r->seq[VGA_SEQ_CLOCKING] & VGA_SEQ_CLK_8DOT) ? 8 : 9;
		f->width = f->chars * f->char_width;
		f->vrep = double_scan;
		f->pan = f->char_width == 9 ? (pan + 1) % 9 : pan & 7;
	} else {
		/*
		 * Without CGA addressing (CRTC mode bits 1:0 both set) every
		 * scan line of a character row shows the same memory: the
		 * rows are pixel replication, not new lines.
		 */
		f->vrep = double_scan;
		if ((crtc[VGA_CRTC_MODE] & 3) == 3)
			f->vrep *= f->char_height;
		if (r->gc[VGA_GC_MODE] & VGA_GC_MODE_256) {
			f->kind = VGA_256;
			f->width = f->chars * 4;
			f->pan = (pan >> 1) & 3;
		} else {
			f->kind =
				(r->gc[VGA_GC_MODE] & VGA_GC_MODE_INTERLEAVE) ?
					VGA_CGA4 :
					VGA_PLANAR;
			f->width = f->chars * 8;
			f->pan = pan & 7;
		}
	}
	f->height = lines / f->vrep;
	if (!f->height)
		f->height = 1;
}

static void vga_frame_decode(const struct vga *vga, struct vga_frame *f)
{
	memset(f, 0, offsetof(struct vga_frame, palette));
	if (!vga_dispi_enabled(vga) || !vga_frame_vbe(vga, f))
		vga_frame_crtc(vga, f);
	f->width = MIN(MAX(f->width, 1u), (unsigned)DISPLAY_MAX_WIDTH);
	f->height = MIN(MAX(f->height, 1u), (unsigned)DISPLAY_MAX_HEIGHT);
	vga_frame_colors(vga, f);
}

/* Character clock counter -> plane offset (byte/word/doubleword mode). */
static u32 vga_crtc_address(const u8 *crtc, u32 c)
{
	if (crtc[VGA_CRTC_UNDERLINE] & 0x40)
		return (c << 2) | ((c >> 14) & 3);
	if (!(crtc[VGA_CRTC_MODE] & 0x40))
		return (c << 1) |
		       ((c >> ((crtc[VGA_CRTC_MODE] & 0x20) ? 15 : 13)) & 1);
	return c;
}

/* CGA compatibility: row scan bits 0/1 replace address bits 13/14. */
static u32 vga_row_scan_address(const u8 *crtc, u32 addr, unsigned rsc)
{
	if (!(crtc[VGA_CRTC_MODE] & 1))
		addr = (addr & ~0x2000u) | (rsc & 1) << 13;
	if (!(crtc[VGA_CRTC_MODE] & 2))
		addr = (addr & ~0x4000u) | (rsc & 2) << 13;
	return addr & (VGA_PLANE_SIZE - 1);
}

/* Where a surface line's data starts: counter and row scan. */
struct vga_line_src {
	u32 counter;
	unsigned rsc;
};

static struct vga_line_src
vga_line_source(const struct vga *vga, const struct vga_frame *f, unsigned y)
{
	const u8 *crtc = vga->r.crtc;
	unsigned dbl = (crtc[VGA_CRTC_MAX_SCAN] & 0x80) ? 2 : 1;
	u32 scan = y * f->vrep, base = f->start, line, row;
	struct vga_line_src src;

	if (scan > f->line_compare) {
		scan -= f->line_compare + 1;
		base = 0;
	} else if (f->kind == VGA_TEXT) {
		scan += crtc[VGA_CRTC_PRESET_ROW] & 0x1f;
	}
	line = scan / dbl;
	row = line / f->char_height;
	src.rsc = line % f->char_height;
	src.counter = base + row * f->pitch;
	return src;
}

static u8 vga_plane(const struct vga *vga, unsigned p, u32 off)
{
	return vga->vram[vga_vram_index(vga, p, off & (VGA_PLANE_SIZE - 1))];
}

static u32 vga_fetch_addr(const struct vga *vga, const struct vga_line_src *s,
			  u32 i)
{
	const u8 *crtc = vga->r.crtc;

	return vga_row_scan_address(
		crtc, vga_crtc_address(crtc, s->counter + i), s->rsc);
}

static void vga_line_planar(const struct vga *vga, const struct vga_frame *f,
			    const struct vga_line_src *s, u32 *out,
			    unsigned chars)
{
	u8 enable = vga->r.ac[VGA_AC_PLANE_ENABLE] & 0x0f;
	unsigned i, b;

	for (i = 0; i < chars; i++) {
		u32 a = vga_fetch_addr(vga, s, i);
		u8 p0 = vga_plane(vga, 0, a), p1 = vga_plane(vga, 1, a);
		u8 p2 = vga_plane(vga, 2, a), p3 = vga_plane(vga, 3, a);

		for (b = 0; b < 8; b++) {
			unsigned sh = 7 - b;
			unsigned pix =
				((p0 >> sh) & 1) | ((p1 >> sh) & 1) << 1 |
				((p2 >> sh) & 1) << 2 | ((p3 >> sh) & 1) << 3;

			*out++ = f->ac_color[pix & enable];
		}
	}
}

/* Shift register interleave: 2-bit pixels, plane 0 then plane 1 bytes. */
static void vga_line_cga4(const struct vga *vga, const struct vga_frame *f,
			  const struct vga_line_src *s, u32 *out,
			  unsigned chars)
{
	u8 enable = vga->r.ac[VGA_AC_PLANE_ENABLE] & 0x0f;
	unsigned i, b;

	for (i = 0; i < chars; i++) {
		u32 a = vga_fetch_addr(vga, s, i);
		u8 lo[2] = {vga_plane(vga, 0, a), vga_plane(vga, 1, a)};
		u8 hi[2] = {vga_plane(vga, 2, a), vga_plane(vga, 3, a)};

		for (b = 0; b < 8; b++) {
			unsigned sh = 6 - 2 * (b & 3);
			unsigned pix = (lo[b >> 2] >> sh) & 3;

			pix |= ((hi[b >> 2] >> sh) & 3) << 2;
			*out++ = f->ac_color[pix & enable];
		}
	}
}

/* 256 colours: each plane's byte is a DAC index, planes 0..3 in order. */
static void vga_line_256(const struct vga *vga, const struct vga_frame *f,
			 const struct vga_line_src *s, u32 *out, unsigned chars)
{
	unsigned i, p;

	for (i = 0; i < chars; i++) {
		u32 a = vga_fetch_addr(vga, s, i);

		for (p = 0; p < VGA_PLANES; p++)
			*out++ = f->palette[vga_plane(vga, p, a)];
	}
}

/* Plane 2 offset of the font a character's attribute selects. */
static u32 vga_font_base(const struct vga *vga, u8 attr)
{
	u8 sel = vga->r.seq[VGA_SEQ_CHAR_MAP];
	unsigned map_a = ((sel >> 5) & 1) << 2 | ((sel >> 2) & 3);
	unsigned map_b = ((sel >> 4) & 1) << 2 | (sel & 3);
	unsigned map = (attr & 0x08) ? map_a : map_b;

	/* Maps 0-3 at 16 KiB steps, 4-7 in the 8 KiB gaps between them. */
	return (map & 3) * 0x4000u + (map & 4) * 0x800u;
}

static bool vga_cursor_on_line(const struct vga *vga, const struct vga_frame *f,
			       unsigned rsc)
{
	const u8 *crtc = vga->r.crtc;
	u8 cs = crtc[VGA_CRTC_CURSOR_START], ce = crtc[VGA_CRTC_CURSOR_END];

	if ((cs & 0x20) || !vga->rs.cursor_on)
		return false;
	return rsc >= (cs & 0x1fu) && rsc <= (ce & 0x1fu);
}

static void vga_line_text(const struct vga *vga, const struct vga_frame *f,
			  const struct vga_line_src *s, u32 *out,
			  unsigned chars)
{
	const u8 *crtc = vga->r.crtc;
	u8 mode = vga->r.ac[VGA_AC_MODE];
	u32 cursor =
		(u32)crtc[VGA_CRTC_CURSOR_HI] << 8 | crtc[VGA_CRTC_CURSOR_LO];
	bool cursor_line = vga_cursor_on_line(vga, f, s->rsc);
	unsigned i, b;

	for (i = 0; i < chars; i++) {
		u32 c = s->counter + i;
		u32 a = vga_crtc_address(crtc, c) & (VGA_PLANE_SIZE - 1);
		u8 ch = vga_plane(vga, 0, a), attr = vga_plane(vga, 1, a);
		u8 glyph = vga_plane(vga, 2,
				     vga_font_base(vga, attr) + ch * 32u +
					     (s->rsc & 31));
		unsigned fg = attr & 15, bg = attr >> 4;
		bool ninth;

		if (mode & VGA_AC_MODE_BLINK) {
			bg &= 7;
			if ((attr & 0x80) && !vga->rs.blink_on)
				fg = bg;
		}
		if (cursor_line && (c & 0xffff) == cursor)
			glyph = 0xff;
		ninth = (mode & VGA_AC_MODE_LINE_GRAPHICS) && ch >= 0xc0 &&
			ch <= 0xdf && (glyph & 1);
		if (cursor_line && (c & 0xffff) == cursor)
			ninth = true;
		for (b = 0; b < 8; b++)
			*out++ = f->ac_color[(glyph & (0x80 >> b)) ? fg : bg];
		if (f->char_width == 9)
			*out++ = f->ac_color[ninth ? fg : bg];
	}
}

/* The VRAM bytes a DISPI mode's surface line y shows. */
static void vga_vbe_line_span(const struct vga_frame *f, unsigned y, u64 *off,
			      u64 *len)
{
	u64 first = f->vbe_start + (u64)y * f->vbe_stride;

	if (f->bpp == 4) {
		/*
		 * Pixels first .. first + width - 1, 8 to a plane byte: plane
		 * offsets off / 4 .. (off + len) / 4 - 1, four bytes each
		 * (vga_vram_index places them; vga_planes_dirty tests them).
		 */
		*off = first / 8 * VGA_PLANES;
		*len = ((first + f->width - 1) / 8 - first / 8 + 1) *
		       VGA_PLANES;
		return;
	}
	*off = first;
	*len = (u64)f->width * vga_vbe_bytes_pp(f->bpp);
}

/*
 * 4 bpp: the planes as in VGA planar modes (bit 7 of a byte is the
 * leftmost pixel, plane n gives colour bit n), through the attribute
 * palette and colour plane enable; the DISPI registers, not the CRT
 * controller, give start, stride and size, to the pixel.
 */
static void vga_line_vbe4(const struct vga *vga, const struct vga_frame *f,
			  unsigned y, u32 *out)
{
	u64 pix = f->vbe_start + (u64)y * f->vbe_stride;
	u8 enable = vga->r.ac[VGA_AC_PLANE_ENABLE] & 0x0f;
	unsigned x;

	for (x = 0; x < f->width; x++, pix++) {
		const u8 *p =
			vga->vram + vga_vram_index(vga, 0, (u32)(pix / 8));
		unsigned sh = 7 - (unsigned)(pix & 7);
		unsigned c = ((p[0] >> sh) & 1) | ((p[1] >> sh) & 1) << 1 |
			     ((p[2] >> sh) & 1) << 2 | ((p[3] >> sh) & 1) << 3;

		out[x] = f->ac_color[c & enable];
	}
}

/* One line of a Bochs DISPI mode; outside VRAM shows black. */
static void vga_line_vbe(const struct vga *vga, const struct vga_frame *f,
			 unsigned y, u32 *out)
{
	unsigned bytes = vga_vbe_bytes_pp(f->bpp), x;
	const u8 *p;
	u64 off, len;

	vga_vbe_line_span(f, y, &off, &len);
	if (off > vga->vram_size || vga->vram_size - off < len) {
		memset(out, 0, f->width * sizeof(u32));
		return;
	}
	if (f->bpp == 4) {
		vga_line_vbe4(vga, f, y, out);
		return;
	}
	p = vga->vram + off;
	for (x = 0; x < f->width; x++, p += bytes) {
		u32 v;

		switch (f->bpp) {
		case 8:
			v = f->palette[*p];
			break;
		case 15:
			v = get_le16(p);
			v = ((v >> 10) & 31) * 255 / 31 << 16 |
			    ((v >> 5) & 31) * 255 / 31 << 8 |
			    (v & 31) * 255 / 31;
			break;
		case 16:
			v = get_le16(p);
			v = ((v >> 11) & 31) * 255 / 31 << 16 |
			    ((v >> 5) & 63) * 255 / 63 << 8 |
			    (v & 31) * 255 / 31;
			break;
		case 24:
			v = (u32)p[2] << 16 | (u32)p[1] << 8 | p[0];
			break;
		default:
			v = get_le32(p) & 0xffffff;
			break;
		}
		out[x] = v;
	}
}

/* Could the memory behind a surface line have changed since last frame? */
static bool vga_line_dirty(const struct vga *vga, const struct vga_frame *f,
			   unsigned y)
{
	struct vga_line_src s;
	u32 lo, hi;

	if (f->kind == VGA_TEXT)
		return true;
	if (f->kind == VGA_VBE) {
		u64 off, len;

		vga_vbe_line_span(f, y, &off, &len);
		if (f->bpp == 4)
			return off + len > vga->vram_size ||
			       vga_planes_dirty(
				       vga, (u32)(off / VGA_PLANES),
				       (u32)((off + len) / VGA_PLANES - 1));
		return mem_dirty_log_test(&vga->dirty, off, len);
	}
	s = vga_line_source(vga, f, y);
	lo = vga_fetch_addr(vga, &s, 0);
	hi = vga_fetch_addr(vga, &s, f->chars);
	if (hi < lo || hi >= VGA_PLANE_SIZE)
		return true;
	return vga_planes_dirty(vga, lo, hi);
}

static void vga_render_line(const struct vga *vga, const struct vga_frame *f,
			    unsigned y, u32 *line)
{
	struct vga_line_src s;
	unsigned chars;

	if (vga->r.seq[VGA_SEQ_CLOCKING] & VGA_SEQ_CLK_SCREEN_OFF) {
		memset(line, 0, f->width * sizeof(u32));
		return;
	}
	if (f->kind == VGA_VBE) {
		vga_line_vbe(vga, f, y, line);
		return;
	}
	s = vga_line_source(vga, f, y);
	/* One more character clock feeds the pixels panning shifts in. */
	chars = f->chars + 1;
	if (f->kind == VGA_TEXT)
		vga_line_text(vga, f, &s, line, chars);
	else if (f->kind == VGA_PLANAR)
		vga_line_planar(vga, f, &s, line, chars);
	else if (f->kind == VGA_CGA4)
		vga_line_cga4(vga, f, &s, line, chars);
	else
		vga_line_256(vga, f, &s, line, chars);
	/* Below a split screen, panning may be off (AC mode bit 5). */
	if (f->pan && !(y * f->vrep > f->line_compare &&
			(vga->r.ac[VGA_AC_MODE] & VGA_AC_MODE_PAN_COMPAT)))
		memmove(line, line + f->pan, f->width * sizeof(u32));
}

/* The registers that change the picture; counters and latches do not. */
static void vga_display_regs(const struct vga *vga, struct vga_regs *out)
{
	*out = vga->r;
	out->seq_index = out->crtc_index = out->gc_index = 0;
	out->ac_data_next = out->dac_read_index = out->dac_write_index = 0;
	out->dac_reading = out->dac_component = 0;
	out->ac_index &= 0x20;
	memset(out->dac_pending, 0, sizeof(out->dac_pending));
	memset(out->latch, 0, sizeof(out->latch));
	out->dispi_index = 0;
	out->gc[VGA_GC_SET_RESET] = out->gc[VGA_GC_ENABLE_SET_RESET] = 0;
	out->gc[VGA_GC_COLOR_COMPARE] = out->gc[VGA_GC_DATA_ROTATE] = 0;
	out->gc[VGA_GC_READ_MAP] = out->gc[VGA_GC_COLOR_DONT_CARE] = 0;
	out->gc[VGA_GC_BIT_MASK] = 0;
	out->seq[VGA_SEQ_MAP_MASK] = 0;
	out->dispi[VBE_DISPI_INDEX_BANK] = 0;
}

static int vga_ensure_line(struct vga *vga)
{
	if (!vga->rs.line) {
		vga->rs.line = calloc(VGA_LINE_MAX, sizeof(u32));
		if (!vga->rs.line)
			return -1;
	}
	return 0;
}

static void vga_render_blink(struct vga *vga)
{
	u64 now = clock_now_ns();

	vga->rs.cursor_on = (now / VGA_CURSOR_BLINK_NS) & 1;
	vga->rs.blink_on = (now / VGA_CHAR_BLINK_NS) & 1;
}

/* Draw into the surface and report the changed bands of rows. */
static void vga_render_lines(struct vga *vga, const struct vga_frame *f,
			     bool full)
{
	struct display_surface *s = &vga->display.surface;
	unsigned y, band = 0;
	bool in_band = false;

	for (y = 0; y < f->height; y++) {
		u32 *row = (u32 *)((u8 *)s->pixels + y * s->stride);
		bool changed = false;

		if (full || vga_line_dirty(vga, f, y)) {
			vga_render_line(vga, f, y, vga->rs.line);
			if (memcmp(row, vga->rs.line, f->width * sizeof(u32))) {
				memcpy(row, vga->rs.line,
				       f->width * sizeof(u32));
				changed = true;
			}
		}
		if (changed && !in_band) {
			band = y;
			in_band = true;
		} else if (!changed && in_band) {
			display_update(&vga->display, 0, band, f->width,
				       y - band);
			in_band = false;
		}
	}
	if (in_band)
		display_update(&vga->display, 0, band, f->width, y - band);
}

void vga_render(struct vga *vga)
{
	struct vga_regs regs;
	struct vga_frame frame, *f = &frame;
	bool full;

	if (vga_ensure_line(vga))
		return;
	vga_frame_decode(vga, f);
	vga_render_blink(vga);
	vga_display_regs(vga, &regs);
	full = !vga->rs.drawn_valid ||
	       memcmp(&regs, &vga->rs.drawn_regs, sizeof(regs));
	if (vga->display.surface.width != f->width ||
	    vga->display.surface.height != f->height) {
		if (display_resize(&vga->display, f->width, f->height))
			return;
		full = true;
	}
	vga_render_lines(vga, f, full);
	vga->rs.drawn_regs = regs;
	vga->rs.drawn_valid = true;
	mem_dirty_log_clear(&vga->dirty);
	mem_dirty_log_rearm(vga->bus->mem, &vga->dirty);
}

void vga_display_size(const struct vga *vga, unsigned *w, unsigned *h)
{
	struct vga_frame f;

	vga_frame_decode(vga, &f);
	*w = f.width;
	*h = f.height;
}

void vga_mark_dirty(struct vga *vga, u32 vram_off, u32 len)
{
	mem_dirty_log_mark(&vga->dirty, vram_off, len);
}

/* Redraw only when someone is looking. */
void vga_refresh_tick(void *opaque)
{
	struct vga *vga = opaque;

	timer_arm(&vga->refresh_timer, clock_now_ns() + VGA_REFRESH_NS);
	if (vga->display.listeners)
		vga_render(vga);
}

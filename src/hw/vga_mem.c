// SPDX-License-Identifier: MIT
/*
 * VGA memory as the CPU and the CRT controller see it: the 0xA0000-0xBFFFF
 * window onto the four planes (IBM VGA Technical Reference, Graphics
 * Controller and Sequencer chapters), and the text screen decoded from
 * planes 0 and 1.
 *
 * Addressing follows the hardware: in odd/even mode (text) CPU address bit 0
 * picks plane 0 or 1 and the byte lands at the even plane offset, so
 * character i of a text page is at offset 2 * i of plane 0 and its
 * attribute at the same offset of plane 1, where the CRT controller's word
 * mode fetches them; in chain-4 mode (mode 13h) address bits 1:0 pick the
 * plane.
 */
#include "core/log.h"
#include "hw/vga_internal.h"

/* Where each Graphics Misc memory map setting (bits 3:2) opens the window. */
static const u32 vga_map_base[4] = {0x00000, 0x00000, 0x10000, 0x18000};
static const u32 vga_map_size[4] = {0x20000, 0x10000, 0x08000, 0x08000};

static inline u8 *vga_plane_ptr(struct vga *vga, unsigned plane, u32 off)
{
	return &vga->vram[vga_vram_index(vga, plane,
					 off & vga_plane_mask(vga))];
}

/*
 * Offset inside the window for a window offset, or false when the
 * current memory map does not decode it (reads float, writes are lost).
 */
static bool vga_window_decode(const struct vga *vga, u64 off, u32 *addr)
{
	unsigned map = (vga->r.gc[VGA_GC_MISC] >> 2) & 3;

	if (!(vga->r.misc & VGA_MISC_RAM_ENABLE))
		return false;
	if (off < vga_map_base[map] ||
	    off - vga_map_base[map] >= vga_map_size[map])
		return false;
	*addr = (u32)(off - vga_map_base[map]);
	return true;
}

/*
 * Chain odd/even replaces address bit 0 with a higher-order bit (Graphics
 * Misc bit 1), so both bytes of a character cell share one plane offset.
 */
static u32 vga_odd_even_offset(const struct vga *vga, u32 addr)
{
	if (vga->r.gc[VGA_GC_MISC] & VGA_GC_MISC_CHAIN_ODD_EVEN)
		return (addr & ~1u) | ((addr >> 16) & 1);
	return addr;
}

static bool vga_chain4(const struct vga *vga)
{
	return vga->r.seq[VGA_SEQ_MEMORY_MODE] & VGA_SEQ_MM_CHAIN4;
}

static void vga_load_latches(struct vga *vga, u32 off)
{
	unsigned p;

	for (p = 0; p < VGA_PLANES; p++)
		vga->r.latch[p] = *vga_plane_ptr(vga, p, off);
}

/* Read mode 1: a bit is set where every cared-for plane matches. */
static u8 vga_color_compare(const struct vga *vga)
{
	u8 care = vga->r.gc[VGA_GC_COLOR_DONT_CARE];
	u8 color = vga->r.gc[VGA_GC_COLOR_COMPARE];
	u8 result = 0xff;
	unsigned p;

	for (p = 0; p < VGA_PLANES; p++) {
		u8 want = (color & BIT(p)) ? 0xff : 0x00;

		if (care & BIT(p))
			result &= (u8) ~(vga->r.latch[p] ^ want);
	}
	return result;
}

static u8 vga_planar_read(struct vga *vga, u32 addr)
{
	const struct vga_regs *r = &vga->r;
	unsigned plane;
	u32 off;

	if (vga_chain4(vga)) {
		off = addr & ~3u;
		plane = addr & 3;
	} else if (r->gc[VGA_GC_MODE] & VGA_GC_MODE_ODD_EVEN) {
		off = vga_odd_even_offset(vga, addr);
		plane = (r->gc[VGA_GC_READ_MAP] & 2) | (addr & 1);
	} else {
		off = addr;
		plane = r->gc[VGA_GC_READ_MAP] & 3;
	}
	vga_load_latches(vga, off);
	if (r->gc[VGA_GC_MODE] & VGA_GC_MODE_READ1)
		return vga_color_compare(vga);
	return vga->r.latch[plane];
}

static u8 vga_rotate(u8 v, unsigned count)
{
	count &= 7;
	return count ? (u8)((v >> count) | (v << (8 - count))) : v;
}

static u8 vga_alu(u8 data, u8 latch, unsigned function)
{
	switch (function & 3) {
	case 1:
		return data & latch;
	case 2:
		return data | latch;
	case 3:
		return data ^ latch;
	default:
		return data;
	}
}

/*
 * The write data path for one plane (write modes 0-3): source data, then
 * the logical function against the latch, then the bit mask choosing
 * between that result and the latch.
 */
static u8 vga_write_plane_value(const struct vga *vga, unsigned p, u8 v)
{
	const u8 *gc = vga->r.gc;
	u8 latch = vga->r.latch[p];
	u8 rotated = vga_rotate(v, gc[VGA_GC_DATA_ROTATE]);
	u8 set_reset = (gc[VGA_GC_SET_RESET] & BIT(p)) ? 0xff : 0x00;
	u8 mask = gc[VGA_GC_BIT_MASK];
	u8 data;

	switch (gc[VGA_GC_MODE] & 3) {
	case 0:
		data = (gc[VGA_GC_ENABLE_SET_RESET] & BIT(p)) ? set_reset :
								rotated;
		break;
	case 1:
		return latch;
	case 2:
		data = (v & BIT(p)) ? 0xff : 0x00;
		break;
	default:
		data = set_reset;
		mask &= rotated;
		break;
	}
	data = vga_alu(data, latch, gc[VGA_GC_DATA_ROTATE] >> 3);
	return (u8)((data & mask) | (latch & ~mask));
}

static void vga_planar_write(struct vga *vga, u32 addr, u8 v)
{
	unsigned planes = vga->r.seq[VGA_SEQ_MAP_MASK] & 0xf;
	unsigned p;
	u32 off;

	if (vga_chain4(vga)) {
		off = addr & ~3u;
		planes &= BIT(addr & 3);
	} else if (!(vga->r.seq[VGA_SEQ_MEMORY_MODE] &
		     VGA_SEQ_MM_ODD_EVEN_DISABLE)) {
		off = vga_odd_even_offset(vga, addr);
		planes &= (addr & 1) ? 0xa : 0x5;
	} else {
		off = addr;
	}
	for (p = 0; p < VGA_PLANES; p++)
		if (planes & BIT(p))
			*vga_plane_ptr(vga, p, off) =
				vga_write_plane_value(vga, p, v);
	vga_mark_dirty(vga, vga_vram_index(vga, 0, off & vga_plane_mask(vga)),
		       VGA_PLANES);
}

/*
 * The window in a planar DISPI mode: bank n shows plane offsets from
 * n * 64 KiB; false for a bank past the planes' end (reads float, writes
 * are lost).
 */
static bool vga_planar_bank_addr(const struct vga *vga, u64 off, u32 *addr)
{
	u32 bank = vga->r.dispi[VBE_DISPI_INDEX_BANK];

	if (off >= VBE_BANK_SIZE ||
	    bank >= vga->vram_size / VGA_PLANES / VBE_BANK_SIZE)
		return false;
	*addr = bank * VBE_BANK_SIZE + (u32)off;
	return true;
}

/* In a DISPI mode the first 64 KiB of the window show one VRAM bank. */
static u8 *vga_bank_ptr(struct vga *vga, u64 off)
{
	u32 bank = vga->r.dispi[VBE_DISPI_INDEX_BANK];

	if (off >= VBE_BANK_SIZE || bank >= vga_banks(vga))
		return NULL;
	return &vga->vram[bank * VBE_BANK_SIZE + off];
}

static u8 vga_window_read_byte(struct vga *vga, u64 off)
{
	u32 addr;

	if (vga_dispi_planar(vga))
		return vga_planar_bank_addr(vga, off, &addr) ?
			       vga_planar_read(vga, addr) :
			       0xff;
	if (vga_dispi_enabled(vga)) {
		u8 *p = vga_bank_ptr(vga, off);

		return p ? *p : 0xff;
	}
	if (!vga_window_decode(vga, off, &addr))
		return 0xff;
	return vga_planar_read(vga, addr);
}

static void vga_window_write_byte(struct vga *vga, u64 off, u8 v)
{
	u32 addr;

	if (vga_dispi_planar(vga)) {
		if (vga_planar_bank_addr(vga, off, &addr))
			vga_planar_write(vga, addr, v);
		return;
	}
	if (vga_dispi_enabled(vga)) {
		u8 *p = vga_bank_ptr(vga, off);

		if (p) {
			*p = v;
			vga_mark_dirty(vga, (u32)(p - vga->vram), 1);
		}
		return;
	}
	if (vga_window_decode(vga, off, &addr))
		vga_planar_write(vga, addr, v);
}

/* Wider accesses are byte accesses in ascending address order. */
static u64 vga_window_read(void *opaque, u64 offset, unsigned size)
{
	u64 value = 0;
	unsigned i;

	for (i = 0; i < size && i < 8; i++)
		value |= (u64)vga_window_read_byte(opaque, offset + i)
			 << (8 * i);
	return value;
}

static void vga_window_write(void *opaque, u64 offset, u64 value, unsigned size)
{
	unsigned i;

	for (i = 0; i < size && i < 8; i++)
		vga_window_write_byte(opaque, offset + i,
				      (u8)(value >> (8 * i)));
}

const struct mmio_ops vga_window_ops = {
	.name = "vga-window",
	.read = vga_window_read,
	.write = vga_window_write,
};

/* 0xB0000-0xBFFFF while 0xA0000-0xAFFFF is mapped as memory. */
static u64 vga_window_hi_read(void *opaque, u64 offset, unsigned size)
{
	return vga_window_read(opaque, offset + VGA_WINDOW_LINEAR_SIZE, size);
}

static void vga_window_hi_write(void *opaque, u64 offset, u64 value,
				unsigned size)
{
	vga_window_write(opaque, offset + VGA_WINDOW_LINEAR_SIZE, value, size);
}

static const struct mmio_ops vga_window_hi_ops = {
	.name = "vga-window-hi",
	.read = vga_window_hi_read,
	.write = vga_window_hi_write,
};

/*
 * Is every window access a plain byte load or store of vram[a]? With
 * chain-4 the plane is a & 3 at offset a & ~3, which vga_vram_index puts
 * at a; then the write path must pass the CPU byte unchanged to that one
 * plane: write mode 0, no set/reset, no rotate, function "replace", bit
 * mask 0xFF, map mask 0xF; reads must be read mode 0; the map must be
 * 0xA0000 64K (what mode 0x13 programs) and DISPI off. Odd/even does not
 * matter under chain-4 (it takes precedence, vga_planar_read/_write).
 *
 * The one difference: a direct read does not load the latches. The
 * latches only feed writes that this state excludes (write mode 1, a
 * partial bit mask, the logical functions) and read mode 1; a program
 * that leaves the state reads once more before such a write (every
 * latch copy does: read, then write mode 1), which reloads them through
 * MMIO. Until that read they hold the value of the last MMIO access.
 */
static bool vga_window_can_map(const struct vga *vga)
{
	const struct vga_regs *r = &vga->r;

	return !vga_dispi_enabled(vga) && (r->misc & VGA_MISC_RAM_ENABLE) &&
	       (r->seq[VGA_SEQ_MEMORY_MODE] & VGA_SEQ_MM_CHAIN4) &&
	       (r->seq[VGA_SEQ_MAP_MASK] & 0xf) == 0xf &&
	       ((r->gc[VGA_GC_MISC] >> 2) & 3) == 1 &&
	       !(r->gc[VGA_GC_MODE] & (VGA_GC_MODE_READ1 | 3)) &&
	       !(r->gc[VGA_GC_ENABLE_SET_RESET] & 0xf) &&
	       !(r->gc[VGA_GC_DATA_ROTATE] & 0x1f) &&
	       r->gc[VGA_GC_BIT_MASK] == 0xff;
}

static int vga_window_map(struct vga *vga, bool linear)
{
	struct phys_mem *mem = vga->bus->mem;
	int err;

	mem_unregister_mmio(mem, VGA_WINDOW_BASE);
	mem_unregister_mmio(mem, VGA_WINDOW_BASE + VGA_WINDOW_LINEAR_SIZE);
	vga->window_linear = false;
	if (!linear)
		return mem_register_mmio(mem, VGA_WINDOW_BASE, VGA_WINDOW_SIZE,
					 &vga_window_ops, vga);
	err = mem_register_host(mem, VGA_WINDOW_BASE, VGA_WINDOW_LINEAR_SIZE,
				vga->vram, &vga->dirty);
	if (!err)
		err = mem_register_mmio(
			mem, VGA_WINDOW_BASE + VGA_WINDOW_LINEAR_SIZE,
			VGA_WINDOW_SIZE - VGA_WINDOW_LINEAR_SIZE,
			&vga_window_hi_ops, vga);
	if (!err)
		vga->window_linear = true;
	return err;
}

/*
 * Called after every register write: switches the window between MMIO
 * and memory when vga_window_can_map() changes (a mode set, not the
 * per-pixel traffic, so the TLB flush this costs is rare). Both views
 * reach the same bytes, so nothing is copied.
 */
void vga_window_update(struct vga *vga)
{
	bool want;

	if (!(vga->registered & VGA_REG_WINDOW))
		return;
	want = vga_window_can_map(vga);
	if (want == vga->window_linear)
		return;
	if (vga_window_map(vga, want) && (!want || vga_window_map(vga, false)))
		log_error("vga", "cannot map the 0xA0000 window");
}

static bool vga_in_text_mode(const struct vga *vga)
{
	return !vga_dispi_enabled(vga) &&
	       !(vga->r.ac[VGA_AC_MODE] & VGA_AC_MODE_GRAPHICS) &&
	       !(vga->r.gc[VGA_GC_MISC] & VGA_GC_MISC_GRAPHICS);
}

/* Vertical display end is 10 bits: CRTC 0x12 plus overflow bits 1 and 6. */
static unsigned vga_text_rows(const struct vga *vga)
{
	const u8 *crtc = vga->r.crtc;
	u8 ovf = crtc[VGA_CRTC_OVERFLOW];
	unsigned lines = crtc[VGA_CRTC_V_DISP_END] | (ovf & 0x02) << 7 |
			 (ovf & 0x40) << 3;
	unsigned height = (crtc[VGA_CRTC_MAX_SCAN] & 0x1f) + 1;

	/* Max scan line bit 7 doubles every scan line. */
	if (crtc[VGA_CRTC_MAX_SCAN] & 0x80)
		height *= 2;
	return MIN((lines + 1) / height, TEXT_SCREEN_MAX_ROWS);
}

/*
 * How the CRT controller turns its character counter into a plane offset:
 * doubleword mode (underline bit 6) shifts by two, word mode (CRTC mode
 * bit 6 clear) by one, byte mode not at all.
 */
static unsigned vga_address_shift(const struct vga *vga)
{
	if (vga->r.crtc[VGA_CRTC_UNDERLINE] & 0x40)
		return 2;
	return (vga->r.crtc[VGA_CRTC_MODE] & 0x40) ? 0 : 1;
}

static void vga_text_cursor(const struct vga *vga, u32 start, u32 pitch,
			    struct text_screen *out)
{
	const u8 *crtc = vga->r.crtc;
	u32 loc = (u32)crtc[VGA_CRTC_CURSOR_HI] << 8 | crtc[VGA_CRTC_CURSOR_LO];
	u32 rel = (loc - start) & 0xffff;
	u8 cstart = crtc[VGA_CRTC_CURSOR_START];
	u8 cend = crtc[VGA_CRTC_CURSOR_END];

	out->cursor_visible = false;
	if (!pitch)
		return;
	out->cursor_row = rel / pitch;
	out->cursor_col = rel % pitch;
	/* Cursor start bit 5 turns it off; so does start below end. */
	if ((cstart & 0x20) || (cstart & 0x1f) > (cend & 0x1f))
		return;
	out->cursor_visible =
		out->cursor_row < out->rows && out->cursor_col < out->cols;
}

void vga_get_text_screen(struct vga *vga, struct text_screen *out)
{
	const u8 *crtc = vga->r.crtc;
	u32 start, pitch;
	unsigned r, c, shift;

	out->rows = out->cols = 0;
	out->cursor_visible = false;
	out->cursor_row = out->cursor_col = 0;
	out->graphics = !vga_in_text_mode(vga);
	out->gfx_width = out->gfx_height = 0;
	if (out->graphics) {
		vga_display_size(vga, &out->gfx_width, &out->gfx_height);
		return;
	}
	out->cols = MIN(crtc[VGA_CRTC_H_DISP_END] + 1u, TEXT_SCREEN_MAX_COLS);
	out->rows = vga_text_rows(vga);
	start = (u32)crtc[VGA_CRTC_START_HI] << 8 | crtc[VGA_CRTC_START_LO];
	pitch = crtc[VGA_CRTC_OFFSET] * 2u;
	shift = vga_address_shift(vga);
	for (r = 0; r < out->rows; r++) {
		for (c = 0; c < out->cols; c++) {
			u32 off = (start + r * pitch + c) << shift;

			out->cell[r][c].ch = *vga_plane_ptr(vga, 0, off);
			out->cell[r][c].attr = *vga_plane_ptr(vga, 1, off);
		}
	}
	vga_text_cursor(vga, start, pitch, out);
}

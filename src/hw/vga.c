// SPDX-License-Identifier: MIT
/*
 * VGA registers (IBM VGA Technical Reference: Sequencer, CRT Controller,
 * Graphics Controller, Attribute Controller, DAC and the general
 * registers), the PCI function with the Bochs standard VGA layout (QEMU
 * docs/specs/standard-vga.rst: BAR0 framebuffer, BAR2 MMIO with the VGA
 * ports at 0x400 and the DISPI registers at 0x500), and the Bochs VBE
 * DISPI interface at ports 0x1CE/0x1CF.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "hw/vga_internal.h"

#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_PCI_CLASS 0x030000
#define VGA_PCI_SUBSYS_VENDOR 0x1af4
#define VGA_PCI_SUBSYS_ID 0x1100
#define VGA_PCI_BAR_PREFETCH 0x08
#define VGA_MMIO_BAR 2
#define VGA_MMIO_SIZE 0x1000u
#define VGA_MMIO_PORTS 0x400u
#define VGA_MMIO_PORTS_END 0x420u
#define VGA_MMIO_DISPI 0x500u
#define VGA_MMIO_DISPI_END (VGA_MMIO_DISPI + 2 * VBE_DISPI_REGS)
#define VGA_ROM_MIN (64u << 10)
#define VGA_ROM_MAX (1u << 20)

/*
 * Index at 0x1CE, data at 0x1CF; a 16-bit access to the data port also
 * covers 0x1D0, which Bochs decodes as a second data port.
 */
#define VBE_DISPI_PORT 0x1ce
#define VBE_DISPI_PORTS 3

#define VBE_DISPI_ID0 0xb0c0
#define VBE_DISPI_ID5 0xb0c5
#define VBE_DISPI_MAX_XRES 2560
#define VBE_DISPI_MAX_YRES 1600
#define VBE_DISPI_MAX_BPP 32

/*
 * Retrace timing for input status 1: a 60 Hz frame of 31.469 kHz lines
 * (the 640x480/720x400 VGA timings), the first millisecond of each frame
 * in vertical retrace and the last fifth of each line in horizontal
 * blanking, so both kinds of retrace polling loop see the bits change.
 */
#define VGA_FRAME_NS 16683333ull
#define VGA_VRETRACE_NS (1 * NSEC_PER_MSEC)
#define VGA_LINE_NS 31778ull
#define VGA_LINE_ACTIVE_NS 25422ull
#define VGA_IS1_DISPLAY_OFF 0x01
#define VGA_IS1_VRETRACE 0x08

#define VGA_SNAP_VERSION 1
/* "vga-vram" 2: vga_vram_index's layout (1: byte o of plane p at 4o + p). */
#define VGA_VRAM_SNAP_VERSION 2
#define VGA_VRAM_SNAP_VERSION_V1 1

/* The legacy port ranges; opaque for each is its vga_pio_window. */
static const struct {
	u16 base, len;
} vga_pio_layout[VGA_PIO_WINDOWS] = {
	{0x3b4, 2}, {0x3ba, 1}, {0x3c0, 16}, {0x3d4, 2}, {0x3da, 1},
};

/* Mono ports answer when MISC bit 0 is clear, color ports when set. */
static bool vga_port_decoded(const struct vga *vga, u16 port)
{
	bool color = vga->r.misc & VGA_MISC_COLOR_IO;

	if (port >= 0x3b0 && port < 0x3c0)
		return !color;
	if (port >= 0x3d0 && port < 0x3e0)
		return color;
	return true;
}

static u8 vga_input_status1(struct vga *vga)
{
	u64 now = clock_now_ns();
	u8 v = 0;

	/* Reading input status 1 resets the attribute flip-flop to index. */
	vga->r.ac_data_next = 0;
	if (now % VGA_FRAME_NS < VGA_VRETRACE_NS)
		v |= VGA_IS1_VRETRACE | VGA_IS1_DISPLAY_OFF;
	else if (now % VGA_LINE_NS >= VGA_LINE_ACTIVE_NS)
		v |= VGA_IS1_DISPLAY_OFF;
	return v;
}

static u8 vga_ac_read(const struct vga *vga)
{
	unsigned idx = vga->r.ac_index & 0x1f;

	return idx < VGA_AC_REGS ? vga->r.ac[idx] : 0;
}

/*
 * 0x3C0 alternates between index and data. While the palette address
 * source bit (index bit 5) is set the palette drives the display and the
 * palette registers cannot be written.
 */
static void vga_ac_write(struct vga *vga, u8 v)
{
	struct vga_regs *r = &vga->r;
	unsigned idx = r->ac_index & 0x1f;

	if (!r->ac_data_next) {
		r->ac_index = v & 0x3f;
		r->ac_data_next = 1;
		return;
	}
	r->ac_data_next = 0;
	if (idx >= VGA_AC_REGS)
		return;
	if (idx < 16) {
		if (!(r->ac_index & 0x20))
			r->ac[idx] = v & 0x3f;
		return;
	}
	r->ac[idx] = v;
}

/* CRTC 0x11 bit 7 protects registers 0-7, except line compare bit 8. */
static void vga_crtc_write(struct vga *vga, u8 v)
{
	struct vga_regs *r = &vga->r;
	unsigned idx = r->crtc_index;

	if (idx >= VGA_CRTC_REGS)
		return;
	if (idx <= VGA_CRTC_OVERFLOW &&
	    (r->crtc[VGA_CRTC_V_RETRACE_END] & 0x80)) {
		if (idx == VGA_CRTC_OVERFLOW)
			r->crtc[idx] =
				(u8)((r->crtc[idx] & ~0x10) | (v & 0x10));
		return;
	}
	r->crtc[idx] = v;
}

static u8 vga_dac_component_mask(const struct vga *vga)
{
	return (vga->r.dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) ?
		       0xff :
		       0x3f;
}

/* Three reads of 0x3C9 return red, green, blue, then the index advances. */
static u8 vga_dac_read(struct vga *vga)
{
	struct vga_regs *r = &vga->r;
	u8 v;

	if (r->dac_component > 2)
		r->dac_component = 0;
	v = r->dac[r->dac_read_index][r->dac_component];
	if (++r->dac_component == 3) {
		r->dac_component = 0;
		r->dac_read_index++;
	}
	return v;
}

/* The entry changes once all three components have been written. */
static void vga_dac_write(struct vga *vga, u8 v)
{
	struct vga_regs *r = &vga->r;

	if (r->dac_component > 2)
		r->dac_component = 0;
	r->dac_pending[r->dac_component] = v & vga_dac_component_mask(vga);
	if (++r->dac_component == 3) {
		memcpy(r->dac[r->dac_write_index], r->dac_pending, 3);
		r->dac_component = 0;
		r->dac_write_index++;
	}
}

static u8 vga_port_read(struct vga *vga, u16 port)
{
	const struct vga_regs *r = &vga->r;

	if (!vga_port_decoded(vga, port))
		return 0xff;
	switch (port) {
	case 0x3c0:
		return r->ac_index;
	case 0x3c1:
		return vga_ac_read(vga);
	case 0x3c2: /* input status 0: no switch sense, no interrupt */
		return 0;
	case 0x3c3:
		return r->subsys_enable;
	case 0x3c4:
		return r->seq_index;
	case 0x3c5:
		return r->seq_index < VGA_SEQ_REGS ? r->seq[r->seq_index] : 0;
	case 0x3c6:
		return r->dac_mask;
	case 0x3c7: /* DAC state: 3 after a read index write, 0 after write */
		return r->dac_reading ? 3 : 0;
	case 0x3c8:
		return r->dac_write_index;
	case 0x3c9:
		return vga_dac_read(vga);
	case 0x3ca:
		return r->feature;
	case 0x3cc:
		return r->misc;
	case 0x3ce:
		return r->gc_index;
	case 0x3cf:
		return r->gc_index < VGA_GC_REGS ? r->gc[r->gc_index] : 0;
	case 0x3b4:
	case 0x3d4:
		return r->crtc_index;
	case 0x3b5:
	case 0x3d5:
		return r->crtc_index < VGA_CRTC_REGS ? r->crtc[r->crtc_index] :
						       0;
	case 0x3ba:
	case 0x3da:
		return vga_input_status1(vga);
	default:
		return 0xff;
	}
}

static void vga_port_write(struct vga *vga, u16 port, u8 v)
{
	struct vga_regs *r = &vga->r;

	if (!vga_port_decoded(vga, port))
		return;
	switch (port) {
	case 0x3c0:
		vga_ac_write(vga, v);
		break;
	case 0x3c2:
		r->misc = v;
		break;
	case 0x3c3:
		r->subsys_enable = v & 1;
		break;
	case 0x3c4:
		r->seq_index = v;
		break;
	case 0x3c5:
		if (r->seq_index < VGA_SEQ_REGS)
			r->seq[r->seq_index] = v;
		break;
	case 0x3c6:
		r->dac_mask = v;
		break;
	case 0x3c7:
		r->dac_read_index = v;
		r->dac_reading = 1;
		r->dac_component = 0;
		break;
	case 0x3c8:
		r->dac_write_index = v;
		r->dac_reading = 0;
		r->dac_component = 0;
		break;
	case 0x3c9:
		vga_dac_write(vga, v);
		break;
	case 0x3ce:
		r->gc_index = v;
		break;
	case 0x3cf:
		if (r->gc_index < VGA_GC_REGS)
			r->gc[r->gc_index] = v;
		break;
	case 0x3b4:
	case 0x3d4:
		r->crtc_index = v;
		break;
	case 0x3b5:
	case 0x3d5:
		vga_crtc_write(vga, v);
		break;
	case 0x3ba:
	case 0x3da:
		r->feature = v;
		break;
	default:
		break;
	}
	vga_window_update(vga);
}

static u32 vga_pio_read(void *opaque, u16 offset, unsigned size)
{
	struct vga_pio_window *w = opaque;

	return vga_port_read(w->vga, (u16)(w->base + offset));
}

static void vga_pio_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct vga_pio_window *w = opaque;

	vga_port_write(w->vga, (u16)(w->base + offset), (u8)value);
}

static const struct pio_ops vga_pio_ops = {
	.name = "vga",
	.read = vga_pio_read,
	.write = vga_pio_write,
};

static u16 vga_dispi_read(const struct vga *vga, u16 index)
{
	const u16 *d = vga->r.dispi;

	if (index >= VBE_DISPI_REGS)
		return 0;
	if (d[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
		if (index == VBE_DISPI_INDEX_XRES)
			return VBE_DISPI_MAX_XRES;
		if (index == VBE_DISPI_INDEX_YRES)
			return VBE_DISPI_MAX_YRES;
		if (index == VBE_DISPI_INDEX_BPP)
			return VBE_DISPI_MAX_BPP;
	}
	if (index == VBE_DISPI_INDEX_VIDEO_MEMORY_64K)
		return (u16)MIN(vga_banks(vga), 0xffffu);
	return d[index];
}

/* Bytes per scan line of a virtual width at the current depth. */
static u32 vga_dispi_line_bytes(const struct vga *vga, u32 width)
{
	u32 bpp = vga->r.dispi[VBE_DISPI_INDEX_BPP];

	if (bpp == 15)
		bpp = 16;
	return (width * bpp + 7) / 8;
}

/*
 * Clear the first len bytes a new mode shows (len <= vram_size). A
 * planar (4 bpp) mode shows plane offsets below len / 4, which
 * vga_vram_index spreads over the four quarters of VRAM.
 */
static void vga_dispi_clear(struct vga *vga, u32 len)
{
	u32 q = vga->vram_size / VGA_PLANES, j;

	if (vga->r.dispi[VBE_DISPI_INDEX_BPP] != 4) {
		memset(vga->vram, 0, len);
		return;
	}
	for (j = 0; j < VGA_PLANES; j++)
		memset(vga->vram + j * q, 0,
		       MIN(len / VGA_PLANES + VGA_PLANES, q));
}

/* As many lines of that width as VRAM holds. */
static u16 vga_dispi_virt_height(const struct vga *vga, u32 width)
{
	u32 line = vga_dispi_line_bytes(vga, width);

	return line ? (u16)MIN(vga->vram_size / line, 0xffffu) : 0;
}

static bool vga_dispi_bpp_valid(u16 bpp)
{
	return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 ||
	       bpp == 32;
}

/* Resolution and depth change only while the mode is off. */
static void vga_dispi_set_mode_reg(struct vga *vga, u16 index, u16 v)
{
	u16 *d = vga->r.dispi;

	if (vga_dispi_enabled(vga))
		return;
	if (index == VBE_DISPI_INDEX_XRES && v <= VBE_DISPI_MAX_XRES)
		d[index] = v;
	else if (index == VBE_DISPI_INDEX_YRES && v <= VBE_DISPI_MAX_YRES)
		d[index] = v;
	else if (index == VBE_DISPI_INDEX_BPP && (!v || vga_dispi_bpp_valid(v)))
		d[index] = v ? v : 8;
}

static void vga_dispi_enable(struct vga *vga, u16 v)
{
	u16 *d = vga->r.dispi;
	bool was_on = vga_dispi_enabled(vga);

	v &= VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC |
	     VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM;
	if ((v & VBE_DISPI_ENABLED) && !was_on) {
		u32 xres = d[VBE_DISPI_INDEX_XRES],
		    yres = d[VBE_DISPI_INDEX_YRES];

		if (!xres || !yres ||
		    !vga_dispi_bpp_valid(d[VBE_DISPI_INDEX_BPP])) {
			log_guest_once("vga",
				       "DISPI enabled without a valid mode");
			v &= (u16)~VBE_DISPI_ENABLED;
		} else if ((u64)vga_dispi_line_bytes(vga, xres) * yres >
			   vga->vram_size) {
			log_guest_once("vga", "DISPI mode larger than VRAM");
			v &= (u16)~VBE_DISPI_ENABLED;
		} else {
			d[VBE_DISPI_INDEX_VIRT_WIDTH] = (u16)xres;
			d[VBE_DISPI_INDEX_VIRT_HEIGHT] =
				vga_dispi_virt_height(vga, xres);
			d[VBE_DISPI_INDEX_X_OFFSET] = 0;
			d[VBE_DISPI_INDEX_Y_OFFSET] = 0;
			d[VBE_DISPI_INDEX_BANK] = 0;
			/* Checked above: the mode fits in VRAM. */
			if (!(v & VBE_DISPI_NOCLEARMEM))
				vga_dispi_clear(
					vga,
					vga_dispi_line_bytes(vga, xres) * yres);
		}
	}
	d[VBE_DISPI_INDEX_ENABLE] = v;
}

static void vga_dispi_set_virt_width(struct vga *vga, u16 v)
{
	u16 *d = vga->r.dispi;
	u16 height = vga_dispi_virt_height(vga, v);

	if (v < d[VBE_DISPI_INDEX_XRES] || height < d[VBE_DISPI_INDEX_YRES] ||
	    !height)
		return;
	d[VBE_DISPI_INDEX_VIRT_WIDTH] = v;
	d[VBE_DISPI_INDEX_VIRT_HEIGHT] = height;
}

static void vga_dispi_write(struct vga *vga, u16 index, u16 v)
{
	u16 *d = vga->r.dispi;

	switch (index) {
	case VBE_DISPI_INDEX_ID:
		if (v >= VBE_DISPI_ID0 && v <= VBE_DISPI_ID5)
			d[index] = v;
		break;
	case VBE_DISPI_INDEX_XRES:
	case VBE_DISPI_INDEX_YRES:
	case VBE_DISPI_INDEX_BPP:
		vga_dispi_set_mode_reg(vga, index, v);
		break;
	case VBE_DISPI_INDEX_ENABLE:
		vga_dispi_enable(vga, v);
		break;
	case VBE_DISPI_INDEX_BANK:
		if (v < vga_banks(vga))
			d[index] = v;
		break;
	case VBE_DISPI_INDEX_VIRT_WIDTH:
		vga_dispi_set_virt_width(vga, v);
		break;
	case VBE_DISPI_INDEX_X_OFFSET:
		if (v < d[VBE_DISPI_INDEX_VIRT_WIDTH])
			d[index] = v;
		break;
	case VBE_DISPI_INDEX_Y_OFFSET:
		if (v < d[VBE_DISPI_INDEX_VIRT_HEIGHT])
			d[index] = v;
		break;
	default: /* virtual height and memory size are read-only */
		break;
	}
	vga_window_update(vga);
}

static u32 vga_dispi_pio_read(void *opaque, u16 offset, unsigned size)
{
	struct vga *vga = opaque;

	if (offset == 0)
		return vga->r.dispi_index;
	return vga_dispi_read(vga, vga->r.dispi_index);
}

static void vga_dispi_pio_write(void *opaque, u16 offset, u32 value,
				unsigned size)
{
	struct vga *vga = opaque;

	if (offset == 0)
		vga->r.dispi_index = (u16)value;
	else
		vga_dispi_write(vga, vga->r.dispi_index, (u16)value);
}

static const struct pio_ops vga_dispi_pio_ops = {
	.name = "vga-dispi",
	.read = vga_dispi_pio_read,
	.write = vga_dispi_pio_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2,
};

static u64 vga_ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* BAR0: the linear framebuffer, plain memory. */
static u64 vga_vram_read(void *opaque, u64 offset, unsigned size)
{
	struct vga *vga = opaque;
	u64 v = 0;
	unsigned i;

	if (size > 8 || offset >= vga->vram_size ||
	    vga->vram_size - offset < size)
		return vga_ones(size);
	for (i = 0; i < size; i++)
		v |= (u64)vga->vram[offset + i] << (8 * i);
	return v;
}

static void vga_vram_write(void *opaque, u64 offset, u64 value, unsigned size)
{
	struct vga *vga = opaque;
	unsigned i;

	if (size > 8 || offset >= vga->vram_size ||
	    vga->vram_size - offset < size)
		return;
	for (i = 0; i < size; i++)
		vga->vram[offset + i] = (u8)(value >> (8 * i));
	vga_mark_dirty(vga, (u32)offset, size);
}

static const struct mmio_ops vga_vram_ops = {
	.name = "vga-vram",
	.read = vga_vram_read,
	.write = vga_vram_write,
};

/*
 * BAR2 byte by byte: VGA ports 0x3C0-0x3DF at 0x400, DISPI register i at
 * 0x500 + 2 * i (little endian), the EDID at 0.
 */
static u8 vga_mmio_read_byte(struct vga *vga, u32 off)
{
	if (off < VGA_EDID_SIZE)
		return vga->edid[off];
	if (off >= VGA_MMIO_PORTS && off < VGA_MMIO_PORTS_END)
		return vga_port_read(vga, (u16)(0x3c0 + off - VGA_MMIO_PORTS));
	if (off >= VGA_MMIO_DISPI && off < VGA_MMIO_DISPI_END) {
		u16 index = (u16)((off - VGA_MMIO_DISPI) / 2);

		return (u8)(vga_dispi_read(vga, index) >> (8 * (off & 1)));
	}
	return 0;
}

static u64 vga_mmio_read(void *opaque, u64 offset, unsigned size)
{
	u64 v = 0;
	unsigned i;

	for (i = 0; i < size && i < 8; i++)
		if (offset + i < VGA_MMIO_SIZE)
			v |= (u64)vga_mmio_read_byte(opaque, (u32)(offset + i))
			     << (8 * i);
	return v;
}

static void vga_mmio_dispi_write(struct vga *vga, u32 off, u64 value,
				 unsigned size)
{
	unsigned i = 0;

	while (i < size && off + i < VGA_MMIO_DISPI_END) {
		u32 a = off + i - VGA_MMIO_DISPI;
		u16 index = (u16)(a / 2);
		u16 v;

		if (!(a & 1) && size - i >= 2) {
			v = (u16)(value >> (8 * i));
			i += 2;
		} else {
			unsigned shift = 8 * (a & 1);

			/* A byte write changes one half of the register. */
			v = vga->r.dispi[index];
			v = (u16)((v & ~(0xff << shift)) |
				  ((u8)(value >> (8 * i)) << shift));
			i++;
		}
		vga_dispi_write(vga, index, v);
	}
}

static void vga_mmio_write(void *opaque, u64 offset, u64 value, unsigned size)
{
	struct vga *vga = opaque;
	unsigned i;

	if (size > 8 || offset >= VGA_MMIO_SIZE)
		return;
	if (offset >= VGA_MMIO_DISPI && offset < VGA_MMIO_DISPI_END) {
		vga_mmio_dispi_write(vga, (u32)offset, value, size);
		return;
	}
	for (i = 0; i < size; i++) {
		u64 off = offset + i;

		if (off >= VGA_MMIO_PORTS && off < VGA_MMIO_PORTS_END)
			vga_port_write(vga, (u16)(0x3c0 + off - VGA_MMIO_PORTS),
				       (u8)(value >> (8 * i)));
	}
}

static const struct mmio_ops vga_mmio_ops = {
	.name = "vga-mmio",
	.read = vga_mmio_read,
	.write = vga_mmio_write,
};

static u64 vga_rom_read(void *opaque, u64 offset, unsigned size)
{
	struct vga *vga = opaque;
	u64 v = 0;
	unsigned i;

	for (i = 0; i < size && i < 8; i++)
		if (offset + i < vga->rom_size)
			v |= (u64)vga->rom[offset + i] << (8 * i);
	return v;
}

static const struct mmio_ops vga_rom_ops = {
	.name = "vga-rom",
	.read = vga_rom_read,
};

/*
 * Power-on state: registers cleared (the VGA BIOS programs every one of
 * them), DISPI off. VRAM keeps its contents, as the memory chips do.
 */
static void vga_reset(void *opaque)
{
	struct vga *vga = opaque;

	memset(&vga->r, 0, sizeof(vga->r));
	vga->rs.drawn_valid = false;
	vga->r.dac_mask = 0xff;
	vga->r.dispi[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
	vga->r.dispi[VBE_DISPI_INDEX_BPP] = 8;
	vga_window_update(vga);
}

static int vga_save(void *opaque, struct snap_writer *w)
{
	struct vga *vga = opaque;
	int err;

	err = snap_put(w, "vga", VGA_SNAP_VERSION, &vga->r, sizeof(vga->r));
	if (!err)
		err = snap_put(w, "vga-vram", VGA_VRAM_SNAP_VERSION, vga->vram,
			       vga->vram_size);
	/* BAR0 (the linear framebuffer) and the command register. */
	if (!err && vga->pci.bus)
		err = snap_put(w, "vga-pci", VGA_SNAP_VERSION, vga->pci.config,
			       sizeof(vga->pci.config));
	return err;
}

/*
 * Version 1 files kept byte o of plane p at vram[4o + p]. Where the
 * registers say VRAM holds planes (not a linear DISPI mode), move them to
 * vga_vram_index's layout; linear DISPI pixels stay where they are.
 */
static int vga_load_vram_v1(struct vga *vga, const struct snap_reader *rd)
{
	u32 q = vga->vram_size / VGA_PLANES, o;
	unsigned p;
	u8 *old = malloc(vga->vram_size);
	int err;

	if (!old)
		return -ENOMEM;
	err = snap_get(rd, "vga-vram", VGA_VRAM_SNAP_VERSION_V1, old,
		       vga->vram_size);
	if (!err && vga_dispi_enabled(vga) && !vga_dispi_planar(vga))
		memcpy(vga->vram, old, vga->vram_size);
	else if (!err)
		for (o = 0; o < q; o++)
			for (p = 0; p < VGA_PLANES; p++)
				vga->vram[vga_vram_index(vga, p, o)] =
					old[o * VGA_PLANES + p];
	free(old);
	return err;
}

static int vga_load(void *opaque, const struct snap_reader *rd)
{
	struct vga *vga = opaque;
	struct vga_regs r, before = vga->r;
	u8 config[256];
	int err;

	err = snap_get(rd, "vga", VGA_SNAP_VERSION, &r, sizeof(r));
	if (err)
		return err;
	vga->r = r; /* the v1 conversion asks the registers */
	err = snap_get(rd, "vga-vram", VGA_VRAM_SNAP_VERSION, vga->vram,
		       vga->vram_size);
	if (err == -EINVAL)
		err = vga_load_vram_v1(vga, rd);
	if (err) {
		vga->r = before;
		return err;
	}
	vga_window_update(vga);
	vga->rs.drawn_valid = false;
	mem_dirty_log_mark(&vga->dirty, 0, vga->vram_size);
	/* Absent in files from before it was saved: keep the reset space. */
	if (vga->pci.bus &&
	    !snap_get(rd, "vga-pci", VGA_SNAP_VERSION, config, sizeof(config)))
		pci_function_restore_config(&vga->pci, config);
	return 0;
}

static void vga_unmap_bars(struct vga *vga)
{
	unsigned n;

	for (n = 0; n <= PCI_NUM_BARS; n++) {
		struct pci_bar *bar = &vga->pci.bars[n];

		if (bar->mapped_at != UINT64_MAX && !bar->io)
			mem_unregister_mmio(vga->bus->mem, bar->mapped_at);
		bar->mapped_at = UINT64_MAX;
	}
	if (vga->bus->fn[vga->pci.devfn] == &vga->pci)
		vga->bus->fn[vga->pci.devfn] = NULL;
}

/* Releases whatever vga_register() got, then the memory. */
static void vga_free(struct vga *vga)
{
	unsigned i;

	for (i = 0; i < VGA_PIO_WINDOWS; i++)
		if (vga->registered & BIT(i))
			pio_unregister(vga->bus->pio, vga_pio_layout[i].base);
	if (vga->registered & VGA_REG_DISPI)
		pio_unregister(vga->bus->pio, VBE_DISPI_PORT);
	if (vga->registered & VGA_REG_WINDOW) {
		mem_unregister_mmio(vga->bus->mem, VGA_WINDOW_BASE);
		if (vga->window_linear)
			mem_unregister_mmio(vga->bus->mem,
					    VGA_WINDOW_BASE +
						    VGA_WINDOW_LINEAR_SIZE);
	}
	if (vga->pci.bus)
		vga_unmap_bars(vga);
	if (vga->has_timer)
		timer_cancel(&vga->refresh_timer);
	display_destroy(&vga->display);
	mem_dirty_log_free(&vga->dirty);
	free(vga->rs.line);
	free(vga->rom);
	free(vga->vram);
	free(vga);
}

static void vga_destroy(void *opaque)
{
	vga_free(opaque);
}

static const struct device_ops vga_device_ops = {
	.name = "vga",
	.reset = vga_reset,
	.save = vga_save,
	.load = vga_load,
	.destroy = vga_destroy,
};

struct device vga_device(struct vga *vga)
{
	return (struct device){.ops = &vga_device_ops, .opaque = vga};
}

/* The ROM BAR is a power of two of at least 64 KiB, zero padded. */
static int vga_copy_rom(struct vga *vga, const u8 *rom, size_t rom_size)
{
	u32 size = VGA_ROM_MIN;

	if (!rom || !rom_size)
		return 0;
	if (rom_size > VGA_ROM_MAX) {
		log_error("vga", "VGA BIOS of %zu bytes is too large",
			  rom_size);
		return -EFBIG;
	}
	while (size < rom_size)
		size <<= 1;
	vga->rom = calloc(1, size);
	if (!vga->rom)
		return -ENOMEM;
	memcpy(vga->rom, rom, rom_size);
	vga->rom_size = size;
	return 0;
}

static void vga_pci_init(struct vga *vga)
{
	struct pci_function *f = &vga->pci;

	pci_function_init(f, VGA_PCI_VENDOR, VGA_PCI_DEVICE, VGA_PCI_CLASS, 0);
	put_le16(&f->config[PCI_SUBSYSTEM_VENDOR_ID], VGA_PCI_SUBSYS_VENDOR);
	put_le16(&f->config[PCI_SUBSYSTEM_ID], VGA_PCI_SUBSYS_ID);
	/* The framebuffer is memory to the CPU: mapped, dirty-logged. */
	pci_function_set_bar(f, 0, vga->vram_size, false, &vga_vram_ops, vga);
	f->bars[0].host = vga->vram;
	f->bars[0].dirty = &vga->dirty;
	f->config[PCI_BAR0] |= VGA_PCI_BAR_PREFETCH;
	pci_function_set_bar(f, VGA_MMIO_BAR, VGA_MMIO_SIZE, false,
			     &vga_mmio_ops, vga);
	if (vga->rom)
		pci_function_set_bar(f, PCI_ROM_SLOT, vga->rom_size, false,
				     &vga_rom_ops, vga);
	f->opaque = vga;
}

/* The legacy ports and memory window, decoded whatever the PCI command. */
static int vga_register(struct vga *vga)
{
	struct pci_bus *bus = vga->bus;
	unsigned i;
	int err;

	for (i = 0; i < VGA_PIO_WINDOWS; i++) {
		vga->pio[i] =
			(struct vga_pio_window){vga, vga_pio_layout[i].base};
		err = pio_register(bus->pio, vga_pio_layout[i].base,
				   vga_pio_layout[i].len, &vga_pio_ops,
				   &vga->pio[i]);
		if (err)
			return err;
		vga->registered |= BIT(i);
	}
	err = pio_register(bus->pio, VBE_DISPI_PORT, VBE_DISPI_PORTS,
			   &vga_dispi_pio_ops, vga);
	if (err)
		return err;
	vga->registered |= VGA_REG_DISPI;
	err = mem_register_mmio(bus->mem, VGA_WINDOW_BASE, VGA_WINDOW_SIZE,
				&vga_window_ops, vga);
	if (err)
		return err;
	vga->registered |= VGA_REG_WINDOW;
	return 0;
}

bool vga_vram_size_valid(u64 vram_size)
{
	return vram_size >= VGA_VRAM_MIN && vram_size <= VGA_VRAM_MAX &&
	       !(vram_size & (vram_size - 1));
}

static void vga_display_refresh(void *opaque)
{
	vga_render(opaque);
}

struct display *vga_display(struct vga *vga)
{
	return &vga->display;
}

struct vga *vga_create(struct pci_bus *pci, u8 devfn, const u8 *rom,
		       size_t rom_size, u32 vram_size,
		       struct timer_list *timers)
{
	struct vga *vga;
	int err;

	if (!vram_size)
		vram_size = VGA_VRAM_SIZE;
	if (!vga_vram_size_valid(vram_size)) {
		log_error("vga",
			  "video memory of %u bytes: not a power of two in "
			  "1-256 MiB",
			  vram_size);
		return NULL;
	}
	vga = calloc(1, sizeof(*vga));
	if (!vga)
		return NULL;
	vga->bus = pci;
	vga->vram_size = vram_size;
	vga_edid_build(vga->edid);
	display_init(&vga->display, vga_display_refresh, vga);
	vga->vram = calloc(1, vram_size);
	err = vga->vram ? mem_dirty_log_init(&vga->dirty, vram_size) : -ENOMEM;
	err = err ?: vga_copy_rom(vga, rom, rom_size);
	if (!err) {
		vga_pci_init(vga);
		err = pci_bus_attach(pci, &vga->pci, devfn);
	}
	if (!err)
		err = vga_register(vga);
	if (err) {
		log_error("vga", "cannot create the VGA adapter: %s",
			  strerror(-err));
		vga_free(vga);
		return NULL;
	}
	vga_reset(vga);
	if (timers) {
		timer_init(&vga->refresh_timer, timers, vga_refresh_tick, vga);
		timer_arm(&vga->refresh_timer, clock_now_ns());
		vga->has_timer = true;
	}
	return vga;
}

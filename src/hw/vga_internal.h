/* SPDX-License-Identifier: MIT */
/*
 * What vga.c (registers, PCI function, Bochs DISPI) and vga_mem.c (the
 * 0xA0000 window onto planar memory, text decoding) share.
 *
 * Planar memory: the four planes share VRAM, a quarter (Q bytes) for each
 * plane offset class: byte o of plane p is vram[(o & 3) * Q + (o >> 2) * 4
 * + p] (vga_vram_index). The bytes of one offset are four in a row, and
 * the offsets a chain-4 window reaches (o & 3 == 0, plane a & 3 at offset
 * a & ~3) make up vram[0 .. 64 KiB) in window order, so mode 0x13's window
 * can be mapped as memory (vga_window_update). Plane offsets are 16 bits
 * in VGA modes and below Q in planar DISPI modes, so every plane access
 * stays inside VRAM.
 */
#ifndef TWOOSTWO_HW_VGA_INTERNAL_H
#define TWOOSTWO_HW_VGA_INTERNAL_H

#include "core/timer.h"
#include "hw/vga.h"
#include "ui/display.h"

#define VGA_PLANES 4
#define VGA_PLANE_SIZE 0x10000u
#define VGA_WINDOW_BASE 0xa0000u
#define VGA_WINDOW_SIZE 0x20000u
/* The chain-4 window mapped as memory: 0xA0000-0xAFFFF. */
#define VGA_WINDOW_LINEAR_SIZE 0x10000u

#define VGA_SEQ_REGS 5
#define VGA_CRTC_REGS 25
#define VGA_GC_REGS 9
#define VGA_AC_REGS 21
#define VGA_DAC_ENTRIES 256

/* Sequencer (IBM VGA Technical Reference, Sequencer Registers). */
#define VGA_SEQ_MAP_MASK 0x02
#define VGA_SEQ_MEMORY_MODE 0x04
#define VGA_SEQ_MM_ODD_EVEN_DISABLE 0x04
#define VGA_SEQ_MM_CHAIN4 0x08

/* CRT controller. */
#define VGA_CRTC_H_DISP_END 0x01
#define VGA_CRTC_OVERFLOW 0x07
#define VGA_CRTC_MAX_SCAN 0x09
#define VGA_CRTC_CURSOR_START 0x0a
#define VGA_CRTC_CURSOR_END 0x0b
#define VGA_CRTC_START_HI 0x0c
#define VGA_CRTC_START_LO 0x0d
#define VGA_CRTC_CURSOR_HI 0x0e
#define VGA_CRTC_CURSOR_LO 0x0f
#define VGA_CRTC_V_RETRACE_END 0x11
#define VGA_CRTC_V_DISP_END 0x12
#define VGA_CRTC_OFFSET 0x13
#define VGA_CRTC_UNDERLINE 0x14
#define VGA_CRTC_MODE 0x17

/* Graphics controller. */
#define VGA_GC_SET_RESET 0x00
#define VGA_GC_ENABLE_SET_RESET 0x01
#define VGA_GC_COLOR_COMPARE 0x02
#define VGA_GC_DATA_ROTATE 0x03
#define VGA_GC_READ_MAP 0x04
#define VGA_GC_MODE 0x05
#define VGA_GC_MISC 0x06
#define VGA_GC_COLOR_DONT_CARE 0x07
#define VGA_GC_BIT_MASK 0x08
#define VGA_GC_MODE_READ1 0x08
#define VGA_GC_MODE_ODD_EVEN 0x10
#define VGA_GC_MISC_GRAPHICS 0x01
#define VGA_GC_MISC_CHAIN_ODD_EVEN 0x02

/* Attribute controller. */
#define VGA_AC_MODE 0x10
#define VGA_AC_MODE_GRAPHICS 0x01

/* Miscellaneous output register. */
#define VGA_MISC_COLOR_IO 0x01
#define VGA_MISC_RAM_ENABLE 0x02

/* Bochs VBE DISPI registers. */
#define VBE_DISPI_INDEX_ID 0x0
#define VBE_DISPI_INDEX_XRES 0x1
#define VBE_DISPI_INDEX_YRES 0x2
#define VBE_DISPI_INDEX_BPP 0x3
#define VBE_DISPI_INDEX_ENABLE 0x4
#define VBE_DISPI_INDEX_BANK 0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH 0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET 0x8
#define VBE_DISPI_INDEX_Y_OFFSET 0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_REGS 11
#define VBE_DISPI_ENABLED 0x01
#define VBE_DISPI_GETCAPS 0x02
#define VBE_DISPI_8BIT_DAC 0x20
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM 0x80
#define VBE_BANK_SIZE 0x10000u

/*
 * The guest-visible state, saved as is. Indices are stored as written and
 * checked wherever they are used, so no value in here (from the guest or
 * from a snapshot file) can reach outside the arrays.
 */
struct vga_regs {
	u8 misc;
	u8 feature;
	u8 subsys_enable;
	u8 seq_index;
	u8 seq[VGA_SEQ_REGS];
	u8 crtc_index;
	u8 crtc[VGA_CRTC_REGS];
	u8 gc_index;
	u8 gc[VGA_GC_REGS];
	u8 ac_index;	 /* includes the palette address source bit */
	u8 ac_data_next; /* flip-flop: next 0x3C0 write is data */
	u8 ac[VGA_AC_REGS];
	u8 dac_mask;
	u8 dac_read_index;
	u8 dac_write_index;
	u8 dac_reading;	  /* last index write went to 0x3C7 */
	u8 dac_component; /* 0..2: red, green, blue */
	u8 dac_pending[3];
	u8 dac[VGA_DAC_ENTRIES][3];
	u8 latch[VGA_PLANES];
	u16 dispi_index;
	u16 dispi[VBE_DISPI_REGS];
};

struct vga_pio_window {
	struct vga *vga;
	u16 base;
};

#define VGA_EDID_SIZE 128
#define VGA_PIO_WINDOWS 5
/* Bits of vga.registered: BIT(i) for pio window i, then these. */
#define VGA_REG_DISPI BIT(VGA_PIO_WINDOWS)
#define VGA_REG_WINDOW BIT(VGA_PIO_WINDOWS + 1)

/*
 * What the renderer remembers between frames: the registers it drew
 * with (any change redraws everything) and which 4 KiB VRAM pages were
 * written since (vram_dirty; the CPU's direct LFB writes land in it
 * through the memory map's dirty log, window writes set it here).
 */
struct vga_render_state {
	struct vga_regs drawn_regs;
	bool drawn_valid;
	bool blink_on;
	bool cursor_on;
	u32 *line; /* one rendered scan line */
};

struct vga {
	struct vga_regs r;
	u8 *vram;      /* vram_size bytes */
	u32 vram_size; /* a power of two, at least 256 KiB */
	struct mem_dirty_log dirty;
	struct display display;
	struct vga_render_state rs;
	struct timer refresh_timer;
	bool has_timer;
	u8 *rom;
	u32 rom_size; /* ROM BAR size: a power of two */
	struct pci_function pci;
	struct pci_bus *bus;
	struct vga_pio_window pio[VGA_PIO_WINDOWS];
	u32 registered; /* what vga_create() registered on the buses */
	u8 edid[VGA_EDID_SIZE];
	/* 0xA0000-0xAFFFF is mapped onto vram[0 .. 64 KiB) (not saved). */
	bool window_linear;
};

/* The 0xA0000-0xBFFFF window (vga_mem.c). */
extern const struct mmio_ops vga_window_ops;
/* Map or unmap the window as memory after a register change. */
void vga_window_update(struct vga *vga);

/* vga_edid.c: the EDID block at BAR2 offset 0 */
void vga_edid_build(u8 e[VGA_EDID_SIZE]);

/* vga_render.c */
void vga_render(struct vga *vga);
void vga_refresh_tick(void *opaque);
void vga_mark_dirty(struct vga *vga, u32 vram_off, u32 len);
/* The size the current mode shows, in pixels. */
void vga_display_size(const struct vga *vga, unsigned *w, unsigned *h);

static inline u32 vga_banks(const struct vga *vga)
{
	return vga->vram_size / VBE_BANK_SIZE;
}

static inline bool vga_dispi_enabled(const struct vga *vga)
{
	return vga->r.dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

/*
 * A 4 bpp DISPI mode is planar (the VBE BIOS sets it over VGA mode 0x6A):
 * the window reaches the planes through the sequencer and graphics
 * controller, and the planes are all of VRAM, a quarter each, in the same
 * interleaved layout, so banks of 64 KiB plane offsets reach past the
 * VGA's 64 KiB per plane.
 */
static inline bool vga_dispi_planar(const struct vga *vga)
{
	return vga_dispi_enabled(vga) && vga->r.dispi[VBE_DISPI_INDEX_BPP] == 4;
}

/* Plane offsets wrap at this mask: 64 KiB, or VRAM / 4 when planar DISPI. */
static inline u32 vga_plane_mask(const struct vga *vga)
{
	return vga_dispi_planar(vga) ? vga->vram_size / VGA_PLANES - 1 :
				       VGA_PLANE_SIZE - 1;
}

/* Where byte off (below vram_size / 4) of plane p lives (see the top). */
static inline u32 vga_vram_index(const struct vga *vga, unsigned p, u32 off)
{
	return (off & 3) * (vga->vram_size / VGA_PLANES) +
	       (off >> 2) * VGA_PLANES + (p & (VGA_PLANES - 1));
}

/* Could plane offsets lo..hi (inclusive, below vram_size / 4) be dirty? */
static inline bool vga_planes_dirty(const struct vga *vga, u32 lo, u32 hi)
{
	u32 q = vga->vram_size / VGA_PLANES, j;
	u32 len = ((hi >> 2) - (lo >> 2) + 1) * VGA_PLANES;

	for (j = 0; j < VGA_PLANES; j++)
		if (mem_dirty_log_test(&vga->dirty,
				       j * q + (lo >> 2) * VGA_PLANES, len))
			return true;
	return false;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * VGA adapter: the IBM VGA register set (0x3B0-0x3DF), the 0xA0000-0xBFFFF
 * window and 256 KiB of planar memory, as a PCI function with the Bochs
 * "standard VGA" identity (1234:1111) so Debian's vgabios-stdvga.bin drives
 * it: BAR0 linear framebuffer, BAR2 MMIO registers, expansion ROM, and the
 * Bochs VBE DISPI interface at 0x1CE/0x1CF.
 */
#ifndef TWOOSTWO_HW_VGA_H
#define TWOOSTWO_HW_VGA_H

#include "bus/pci.h"
#include "hw/device.h"
#include "ui/text_screen.h"

#include "core/timer.h"
#include "ui/display.h"

#define VGA_VRAM_SIZE (16u << 20) /* default */
#define VGA_VRAM_MIN (1u << 20)
#define VGA_VRAM_MAX (256u << 20)

struct vga;

/*
 * rom: the VGA BIOS image (copied), exposed through the PCI ROM BAR.
 * vram_size: a power of two in VGA_VRAM_MIN..VGA_VRAM_MAX (0: default).
 * timers: where the display refresh timer runs (NULL: only on demand).
 */
struct vga *vga_create(struct pci_bus *pci, u8 devfn, const u8 *rom,
		       size_t rom_size, u32 vram_size,
		       struct timer_list *timers);
/* The surface the adapter draws into (see ui/display.h). */
struct display *vga_display(struct vga *vga);
/* Is vram_size acceptable to vga_create()? */
bool vga_vram_size_valid(u64 vram_size);
/* What the screen shows now, when in a text mode. */
void vga_get_text_screen(struct vga *vga, struct text_screen *out);
struct device vga_device(struct vga *vga);

#endif

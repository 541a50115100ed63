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

#define VGA_VRAM_SIZE (16u << 20)

struct vga;

/* rom: the VGA BIOS image (copied), exposed through the PCI ROM BAR. */
struct vga *vga_create(struct pci_bus *pci, u8 devfn, const u8 *rom,
		       size_t rom_size);
/* What the screen shows now, when in a text mode. */
void vga_get_text_screen(struct vga *vga, struct text_screen *out);
struct device vga_device(struct vga *vga);

#endif

// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the VGA adapter: the input is a program of
 * guest accesses (VGA and DISPI ports, the 0xA0000 window, the linear
 * framebuffer, the BAR2 registers) interleaved with renders of the
 * display surface, against 1 MiB of video memory so that anything
 * reaching past it lands outside the allocation where ASan sees it.
 *
 * Each step is 4 bytes: op, then three argument bytes a, b, c.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bus/memory.h"
#include "bus/pci.h"
#include "bus/pio.h"
#include "core/log.h"
#include "hw/vga_internal.h"
#include "ui/display.h"

#define FUZZ_DEVFN PCI_DEVFN(2, 0)
#define FUZZ_LFB 0xe0000000u
#define FUZZ_MMIO 0xfebf0000u
#define FUZZ_VRAM (1u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERROR);
	return 0;
}

static void fuzz_cfg(struct pio_bus *pio, u8 reg, u32 v)
{
	pio_write(pio, 0xcf8, 0x80000000u | FUZZ_DEVFN << 8 | reg, 4);
	pio_write(pio, 0xcfc, v, 4);
}

/* Renders are costly: a few per input cover the mode changes. */
#define FUZZ_MAX_RENDERS 6

static unsigned fuzz_renders;

static void fuzz_step(struct pio_bus *pio, struct phys_mem *mem,
		      struct display *d, const u8 *s)
{
	u32 a = s[1], b = s[2], c = s[3];
	u32 ab = a | b << 8, abc = ab | c << 16;

	switch (s[0] % 12) {
	case 0: /* a VGA register: index port then data */
		pio_write(pio, (u16)(0x3c0 + (a & 0x1f)), b, 1);
		pio_write(pio, (u16)(0x3c0 + (a & 0x1f) + 1), c, 1);
		break;
	case 1:
		pio_write(pio, (u16)(0x3b0 + a % 0x30), b, 1);
		break;
	case 2:
		pio_read(pio, (u16)(0x3b0 + a % 0x30), 1);
		break;
	case 3: /* DISPI: index a, value b | c << 8 */
		pio_write(pio, 0x1ce, a & 0x0f, 2);
		pio_write(pio, 0x1cf, b | c << 8, 2);
		break;
	case 4:
		pio_write(pio, 0x1ce, a & 0x0f, 2);
		pio_read(pio, 0x1cf, 2);
		break;
	case 5:
		mem_write(mem, 0xa0000 + (abc & 0x1ffff), c, 1 << (a & 3));
		break;
	case 6:
		mem_read(mem, 0xa0000 + (abc & 0x1ffff), 1 << (b & 3));
		break;
	case 7:
		mem_write(mem, FUZZ_LFB + (abc << 4) % (FUZZ_VRAM + 64), abc,
			  1 << (a & 3));
		break;
	case 8:
		mem_write(mem, FUZZ_MMIO + (ab & 0xfff), c, 1 << (b & 3));
		break;
	case 9:
		mem_read(mem, FUZZ_MMIO + (ab & 0xfff), 1 << (c & 3));
		break;
	case 10: /* a write pointer, as the CPU's TLB takes one */
	{
		u8 *p = mem_page_ptr(mem, FUZZ_LFB + (abc << 12) % FUZZ_VRAM,
				     true);

		if (p)
			p[ab & 0xfff] = (u8)c;
	} break;
	default:
		if (fuzz_renders++ < FUZZ_MAX_RENDERS)
			display_refresh(d);
		break;
	}
}

/*
 * One machine for the whole run (building it costs more than most
 * inputs): each input starts from a reset adapter with zeroed video
 * memory, so it behaves the same whenever it runs.
 */
static struct pio_bus *fuzz_pio;
static struct phys_mem fuzz_mem;
static struct pci_bus fuzz_pci;
static struct vga *fuzz_vga;

static void fuzz_setup(void)
{
	static const u8 rom[64] = {0x55, 0xaa};

	fuzz_pio = pio_bus_new();
	if (!fuzz_pio || mem_init(&fuzz_mem, 1 << 20, 1 << 20) ||
	    pci_bus_init(&fuzz_pci, fuzz_pio, &fuzz_mem))
		__builtin_trap();
	fuzz_vga = vga_create(&fuzz_pci, FUZZ_DEVFN, rom, sizeof(rom),
			      FUZZ_VRAM, NULL);
	if (!fuzz_vga)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device dev;
	size_t i;

	if (!fuzz_vga)
		fuzz_setup();
	dev = vga_device(fuzz_vga);
	dev.ops->reset(dev.opaque);
	memset(fuzz_vga->vram, 0, fuzz_vga->vram_size);
	fuzz_cfg(fuzz_pio, 0x10, FUZZ_LFB);
	fuzz_cfg(fuzz_pio, 0x18, FUZZ_MMIO);
	fuzz_cfg(fuzz_pio, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	fuzz_renders = 0;
	for (i = 0; i + 4 <= size; i += 4)
		fuzz_step(fuzz_pio, &fuzz_mem, vga_display(fuzz_vga), data + i);
	display_refresh(vga_display(fuzz_vga));
	return 0;
}

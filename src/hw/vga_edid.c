// SPDX-License-Identifier: MIT
/*
 * The display's EDID (VESA Enhanced EDID Standard, release A rev. 2:
 * EDID structure version 1.4), which the Bochs VGA exposes at the start
 * of BAR2 and Linux's bochs-drm reads for its mode list: a digital
 * 8-bit-per-colour panel named "twoostwo" whose preferred mode is
 * 1024x768 at 60 Hz (VESA DMT timing), with the established and standard
 * timings up to 1920x1080 that the Bochs DISPI interface can show.
 */
#include <string.h>

#include "hw/vga_internal.h"

#define EDID_DESC 54
#define EDID_DESC_LEN 18

/* Chromaticity coordinates as 10-bit binary fractions (sRGB, D65). */
static const u16 edid_chroma[8] = {
	655, 338, /* red x, y: 0.640, 0.330 */
	307, 614, /* green: 0.300, 0.600 */
	154, 61,  /* blue: 0.150, 0.060 */
	320, 337, /* white: 0.3127, 0.3290 */
};

static void edid_chromaticity(u8 *e)
{
	unsigned i;

	/* Bytes 25-26 hold the two low bits of each, 27-34 the high 8. */
	e[25] = (u8)((edid_chroma[0] & 3) << 6 | (edid_chroma[1] & 3) << 4 |
		     (edid_chroma[2] & 3) << 2 | (edid_chroma[3] & 3));
	e[26] = (u8)((edid_chroma[4] & 3) << 6 | (edid_chroma[5] & 3) << 4 |
		     (edid_chroma[6] & 3) << 2 | (edid_chroma[7] & 3));
	for (i = 0; i < 8; i++)
		e[27 + i] = (u8)(edid_chroma[i] >> 2);
}

/* Standard timing: (width / 8 - 31), aspect in bits 7:6, refresh - 60. */
static void edid_standard(u8 *p, unsigned width, unsigned aspect)
{
	p[0] = (u8)(width / 8 - 31);
	p[1] = (u8)(aspect << 6);
}

/* Detailed timing descriptor: 1024x768 at 60 Hz, 65 MHz (VESA DMT). */
static void edid_preferred(u8 *d)
{
	static const u8 dmt_1024x768[EDID_DESC_LEN] = {
		0x64, 0x19,	  /* pixel clock 65.00 MHz in 10 kHz units */
		0x00, 0x40, 0x41, /* 1024 active, 320 blanking */
		0x00, 0x26, 0x30, /* 768 active, 38 blanking */
		0x18, 0x88,	  /* h sync offset 24, width 136 */
		0x36, 0x00,	  /* v sync offset 3, width 6 */
		0x90, 0x2c, 0x11, /* image 400 x 300 mm */
		0x00, 0x00,	  /* no border */
		0x18,		  /* digital separate sync, both negative */
	};

	memcpy(d, dmt_1024x768, sizeof(dmt_1024x768));
}

static void edid_text(u8 *d, u8 tag, const char *s)
{
	size_t n = strlen(s);

	d[3] = tag;
	memset(d + 5, ' ', 13);
	memcpy(d + 5, s, n);
	d[5 + n] = '\n';
}

/* Range limits: 50-75 Hz, 30-160 kHz, 330 MHz, no timing formula. */
static void edid_range(u8 *d)
{
	static const u8 range[] = {50, 75, 30, 160, 33, 0x01, '\n'};

	d[3] = 0xfd;
	memcpy(d + 5, range, sizeof(range));
	memset(d + 5 + sizeof(range), ' ', 13 - sizeof(range));
}

void vga_edid_build(u8 e[VGA_EDID_SIZE])
{
	static const u8 header[8] = {0x00, 0xff, 0xff, 0xff,
				     0xff, 0xff, 0xff, 0x00};
	unsigned i, sum = 0;

	memset(e, 0, VGA_EDID_SIZE);
	memcpy(e, header, sizeof(header));
	/* Manufacturer "TWO": three 5-bit letters, big endian. */
	e[8] = (u8)(('T' - '@') << 2 | ('W' - '@') >> 3);
	e[9] = (u8)(('W' - '@') << 5 | ('O' - '@'));
	e[10] = 0x01; /* product code 1 */
	e[17] = 2024 - 1990;
	e[18] = 1;
	e[19] = 4;
	e[20] = 0xa0; /* digital, 8 bits per primary */
	e[21] = 40;   /* 40 x 30 cm */
	e[22] = 30;
	e[23] = 120;  /* gamma 2.2 */
	e[24] = 0x06; /* sRGB; the preferred timing is the native one */
	edid_chromaticity(e);
	e[35] = 0x21; /* 640x480@60, 800x600@60 */
	e[36] = 0x08; /* 1024x768@60 */
	for (i = 0; i < 8; i++)
		e[38 + 2 * i] = e[39 + 2 * i] = 0x01; /* unused */
	edid_standard(&e[38], 1280, 2);		      /* 1280x1024, 5:4 */
	edid_standard(&e[40], 1600, 1);		      /* 1600x1200, 4:3 */
	edid_standard(&e[42], 1920, 3);		      /* 1920x1080, 16:9 */
	edid_standard(&e[44], 1280, 3);		      /* 1280x720, 16:9 */
	edid_preferred(&e[EDID_DESC]);
	edid_text(&e[EDID_DESC + EDID_DESC_LEN], 0xfc, "twoostwo");
	edid_range(&e[EDID_DESC + 2 * EDID_DESC_LEN]);
	e[EDID_DESC + 3 * EDID_DESC_LEN + 3] = 0x10; /* dummy descriptor */
	for (i = 0; i < VGA_EDID_SIZE - 1; i++)
		sum += e[i];
	e[VGA_EDID_SIZE - 1] = (u8)(256 - sum % 256);
}

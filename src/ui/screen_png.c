// SPDX-License-Identifier: MIT
/*
 * The display surface as a PNG file (libpng): 8-bit RGB, no interlace.
 * Written to PATH.tmp and renamed, so a reader never sees half a file.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/screen_dump.h"

/* libpng reports errors by longjmp; everything it touches is volatile. */
static int screen_png_encode(FILE *f, const struct display_surface *s, u8 *row)
{
	png_structp png;
	png_infop info;
	unsigned x, y;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (!png)
		return -ENOMEM;
	info = png_create_info_struct(png);
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -EIO;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 3);
	png_write_info(png, info);
	for (y = 0; y < s->height; y++) {
		const u32 *px =
			(const u32 *)((const u8 *)s->pixels + y * s->stride);

		for (x = 0; x < s->width; x++) {
			row[3 * x] = (u8)(px[x] >> 16);
			row[3 * x + 1] = (u8)(px[x] >> 8);
			row[3 * x + 2] = (u8)px[x];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int screen_png_write(const char *path, const struct display_surface *s)
{
	char tmp[4096];
	FILE *f;
	u8 *row;
	int ret;

	if (!s->pixels || !s->width || !s->height)
		return -ENODATA;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	row = malloc((size_t)s->width * 3);
	if (!row)
		return -ENOMEM;
	f = fopen(tmp, "wbe");
	if (!f) {
		ret = -errno;
		free(row);
		return ret;
	}
	ret = screen_png_encode(f, s, row);
	free(row);
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

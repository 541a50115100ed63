/* SPDX-License-Identifier: MIT */
/*
 * Screen dump: the text screen written to a file as rows of UTF-8 text
 * (trailing blanks trimmed), replaced atomically (write to PATH.tmp, then
 * rename), so a script reading PATH always sees one whole screen.
 */
#ifndef TWOOSTWO_UI_SCREEN_DUMP_H
#define TWOOSTWO_UI_SCREEN_DUMP_H

#include "ui/display.h"
#include "ui/text_screen.h"

int screen_dump_write(const char *path, const struct text_screen *screen);
/* The text of a screen, rows separated by '\n'; caller frees. */
char *text_screen_to_utf8(const struct text_screen *screen);

/* The surface as a PNG image (libpng), replaced atomically too. */
int screen_png_write(const char *path, const struct display_surface *s);

#endif

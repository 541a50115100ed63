/* SPDX-License-Identifier: MIT */
/*
 * A snapshot of a text-mode screen: what a person would read. The VGA model
 * produces it; the terminal display and the screen dump consume it.
 */
#ifndef TWOOSTWO_UI_TEXT_SCREEN_H
#define TWOOSTWO_UI_TEXT_SCREEN_H

#include "core/types.h"

#define TEXT_SCREEN_MAX_COLS 132
#define TEXT_SCREEN_MAX_ROWS 60

struct text_cell {
	u8 ch;	 /* code page 437 character */
	u8 attr; /* VGA attribute: fg in 3:0, bg in 6:4, blink/bright bg in 7 */
};

struct text_screen {
	unsigned cols, rows;
	bool graphics; /* the adapter is in a graphics mode: no text to show */
	unsigned gfx_width, gfx_height; /* that mode's size in pixels */
	bool cursor_visible;
	unsigned cursor_col, cursor_row;
	struct text_cell cell[TEXT_SCREEN_MAX_ROWS][TEXT_SCREEN_MAX_COLS];
};

/* UTF-8 form of a code page 437 character (at most 4 bytes + NUL). */
const char *cp437_to_utf8(u8 ch);

#endif

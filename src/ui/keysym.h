/* SPDX-License-Identifier: MIT */
/*
 * X11 key symbols (as RFB sends them, RFC 6143 section 7.5.4) to PC/AT
 * scan code set 1 (0xE0-prefixed keys as 0xE000 | code; Pause and Print
 * Screen as hw/i8042.h names them).
 */
#ifndef TWOOSTWO_UI_KEYSYM_H
#define TWOOSTWO_UI_KEYSYM_H

#include "core/types.h"

/* The key's set-1 code, or 0 when no PC key makes this symbol. */
u16 keysym_to_set1(u32 keysym);

#endif

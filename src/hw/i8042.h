/* SPDX-License-Identifier: MIT */
/*
 * Intel 8042 keyboard controller at 0x60/0x64 with a PS/2 keyboard on its
 * first port (IRQ 1) and a PS/2 mouse on its auxiliary port (IRQ 12).
 * Output port bit 0 is the CPU reset line and bit 1 the A20 gate.
 */
#ifndef TWOOSTWO_HW_I8042_H
#define TWOOSTWO_HW_I8042_H

#include "bus/irq.h"
#include "bus/pio.h"
#include "hw/device.h"

struct i8042;

struct i8042_host {
	void (*reset)(void *opaque); /* pulse of the reset line */
	void (*set_a20)(void *opaque, bool enabled);
	void *opaque;
};

struct i8042 *i8042_create(struct pio_bus *pio, struct irq_line irq1,
			   struct irq_line irq12,
			   const struct i8042_host *host);
/*
 * A key went down or up. keycode is the key's scan code in set 1 (XT),
 * with 0xE0-prefixed keys as 0xE000 | code (e.g. 0xE048 for Up); the
 * keyboard converts to the set the guest selected.
 */
void i8042_key_event(struct i8042 *kbc, u16 keycode, bool down);
/*
 * Keys whose set-1 codes are longer sequences: Pause (E1 1D 45 E1 9D C5,
 * sent on press only) is passed as I8042_KEY_PAUSE; Print Screen is 0xE037
 * and produces its E0 2A E0 37 sequence.
 */
#define I8042_KEY_PAUSE 0xE11D
#define I8042_KEY_PRINT_SCREEN 0xE037
/*
 * Relative pointer motion from the host: dx right, dy down, dz wheel
 * (positive: towards the user), buttons bit 0 left, 1 right, 2 middle.
 * Streamed as PS/2 packets (IRQ 12) when the guest enabled reporting,
 * kept for a Read Data command in remote mode, dropped otherwise.
 */
void i8042_mouse_event(struct i8042 *kbc, int dx, int dy, int dz, u8 buttons);
/*
 * Send one packet with no motion, so a driver that fetches its data
 * elsewhere on the mouse interrupt (vmmouse) looks. false if the mouse is
 * not streaming or its queue is full.
 */
bool i8042_mouse_kick(struct i8042 *kbc);
/* Whether the guest enabled stream reporting on the mouse. */
bool i8042_mouse_reporting(const struct i8042 *kbc);
/* Whether the keyboard's queue is empty (scripts type at its pace). */
bool i8042_kbd_queue_empty(const struct i8042 *kbc);
struct device i8042_device(struct i8042 *kbc);

#endif

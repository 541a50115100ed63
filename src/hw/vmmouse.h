/* SPDX-License-Identifier: MIT */
/*
 * VMware's absolute pointer ("vmmouse"), reached through the VMware
 * backdoor port 0x5658: the guest loads the magic 0x564D5868 into EAX and
 * a command into ECX and executes IN EAX,DX; results come back in EAX-EDX.
 * Linux's psmouse (vmmouse protocol), Xorg's vmmouse driver and Windows
 * guest tools use it. Packets are fetched on the PS/2 mouse's interrupt,
 * so new data is announced with an empty PS/2 packet (IRQ 12).
 */
#ifndef TWOOSTWO_HW_VMMOUSE_H
#define TWOOSTWO_HW_VMMOUSE_H

#include "bus/pio.h"
#include "hw/device.h"
#include "hw/i8042.h"

#define VMMOUSE_PORT 0x5658
#define VMMOUSE_MAGIC 0x564d5868u
/* Buttons as the host passes them: bit 0 left, 1 right, 2 middle. */

struct vmmouse;

/* Registers the backdoor port on pio; kbc carries the interrupts. */
struct vmmouse *vmmouse_create(struct pio_bus *pio, struct i8042 *kbc);
/* Whether the guest driver asked for absolute packets. */
bool vmmouse_absolute(const struct vmmouse *vm);
/*
 * Absolute position 0..0xFFFF on both axes, wheel dz (positive towards
 * the user), buttons. Returns false (and does nothing) when the guest
 * has not enabled absolute mode: the caller then moves the PS/2 mouse.
 */
bool vmmouse_event(struct vmmouse *vm, u16 x, u16 y, int dz, u8 buttons);
struct device vmmouse_device(struct vmmouse *vm);

#endif

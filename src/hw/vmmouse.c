// SPDX-License-Identifier: MIT
/*
 * VMware's absolute pointer behind the backdoor port.
 *
 * Protocol facts (Linux drivers/input/mouse/vmmouse.c, open-vm-tools'
 * backdoor_def.h and vmmouse_proto.h; no code from them): commands are in
 * the low 16 bits of ECX, the argument in EBX.
 *   10 GETVERSION: EAX = version, EBX = the magic (presence check).
 *   39 ABSPOINTER_DATA: EBX = n (1..4) words to read from the FIFO into
 *      EAX, EBX, ECX, EDX.
 *   40 ABSPOINTER_STATUS: EAX = words in the FIFO (low 16 bits), or
 *      0xFFFF0000 when the device is disabled.
 *   41 ABSPOINTER_COMMAND: EBX = ENABLE ("READ_ID": the FIFO then holds
 *      the version id 0x3442554A), DISABLE (0xF5), REQUEST_RELATIVE,
 *      REQUEST_ABSOLUTE.
 *   86 ABSPOINTER_RESTRICT: who may use the port (accepted, not enforced:
 *      our port obeys the normal I/O permission checks).
 * A packet is four words: flags and buttons (left 0x20, right 0x10,
 * middle 0x08; 0x10000 marks relative motion), X, Y (0..0xFFFF) and the
 * wheel as a signed byte (positive: towards the user). Drivers read the
 * FIFO when the PS/2 mouse interrupts, so each new packet is followed by
 * an empty PS/2 packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "cpu/x86_state.h"
#include "hw/vmmouse.h"

#define VMMOUSE_SNAP_VERSION 1
#define VMMOUSE_VERSION 6 /* any value but all ones */

enum vmmouse_cmd {
	CMD_GETVERSION = 10,
	CMD_ABSPOINTER_DATA = 39,
	CMD_ABSPOINTER_STATUS = 40,
	CMD_ABSPOINTER_COMMAND = 41,
	CMD_ABSPOINTER_RESTRICT = 86,
};

#define SUB_ENABLE 0x45414552u
#define SUB_DISABLE 0x000000f5u
#define SUB_REQUEST_RELATIVE 0x4c455252u
#define SUB_REQUEST_ABSOLUTE 0x53424152u

#define VMMOUSE_ERROR 0xffff0000u
#define VMMOUSE_VERSION_ID 0x3442554au
#define VMMOUSE_LEFT 0x20u
#define VMMOUSE_RIGHT 0x10u
#define VMMOUSE_MIDDLE 0x08u

#define PACKET_WORDS 4
/* The FIFO, in words: 16 packets. When full, the newest packet replaces
 * the last one (absolute positions supersede each other). */
#define FIFO_WORDS 64

struct vmmouse_state {
	u32 fifo[FIFO_WORDS];
	u8 head;
	u8 count;
	bool enabled;
	bool absolute;
};

struct vmmouse {
	struct vmmouse_state s;
	struct i8042 *kbc;
};

static void fifo_push(struct vmmouse_state *s, u32 v)
{
	if (s->count >= FIFO_WORDS)
		return;
	s->fifo[(s->head + s->count) % FIFO_WORDS] = v;
	s->count++;
}

static u32 fifo_pop(struct vmmouse_state *s)
{
	u32 v;

	if (!s->count)
		return 0;
	v = s->fifo[s->head];
	s->head = (s->head + 1) % FIFO_WORDS;
	s->count--;
	return v;
}

static void fifo_clear(struct vmmouse_state *s)
{
	s->head = 0;
	s->count = 0;
}

/* ABSPOINTER_DATA: n words into EAX, EBX, ECX, EDX, n bounded to 1..4. */
static void vmmouse_read_data(struct vmmouse_state *s, u32 gpr[8])
{
	static const enum x86_reg out[PACKET_WORDS] = {R_EAX, R_EBX, R_ECX,
						       R_EDX};
	u32 n = gpr[R_EBX], i;

	if (n < 1 || n > PACKET_WORDS || n > s->count) {
		log_guest_once("vmmouse", "read of %u words with %u queued",
			       (unsigned)n, (unsigned)s->count);
		gpr[R_EAX] = VMMOUSE_ERROR;
		return;
	}
	for (i = 0; i < n; i++)
		gpr[out[i]] = fifo_pop(s);
}

static void vmmouse_command(struct vmmouse_state *s, u32 sub)
{
	switch (sub) {
	case SUB_ENABLE:
		fifo_clear(s);
		s->enabled = true;
		fifo_push(s, VMMOUSE_VERSION_ID);
		break;
	case SUB_DISABLE:
		fifo_clear(s);
		s->enabled = false;
		s->absolute = false;
		break;
	case SUB_REQUEST_ABSOLUTE:
	case SUB_REQUEST_RELATIVE:
		s->absolute = sub == SUB_REQUEST_ABSOLUTE;
		break;
	default:
		log_guest_once("vmmouse", "unknown command 0x%x", sub);
		break;
	}
}

/* IN EAX,DX on the backdoor port. */
static void vmmouse_backdoor(void *opaque, u32 gpr[8])
{
	struct vmmouse *vm = opaque;
	struct vmmouse_state *s = &vm->s;

	if (gpr[R_EAX] != VMMOUSE_MAGIC) {
		/* No backdoor without the magic: an empty port. */
		gpr[R_EAX] = 0xffffffffu;
		return;
	}
	switch (gpr[R_ECX] & 0xffff) {
	case CMD_GETVERSION:
		gpr[R_EAX] = VMMOUSE_VERSION;
		gpr[R_EBX] = VMMOUSE_MAGIC;
		break;
	case CMD_ABSPOINTER_DATA:
		if (s->enabled)
			vmmouse_read_data(s, gpr);
		else
			gpr[R_EAX] = VMMOUSE_ERROR;
		break;
	case CMD_ABSPOINTER_STATUS:
		gpr[R_EAX] = s->enabled ? s->count : VMMOUSE_ERROR;
		break;
	case CMD_ABSPOINTER_COMMAND:
		vmmouse_command(s, gpr[R_EBX]);
		break;
	case CMD_ABSPOINTER_RESTRICT:
		break;
	default:
		/* Other backdoor commands (time, RPC...) are not offered. */
		log_guest_once("vmmouse", "backdoor command %u not offered",
			       (unsigned)(gpr[R_ECX] & 0xffff));
		gpr[R_EAX] = 0xffffffffu;
		break;
	}
}

bool vmmouse_absolute(const struct vmmouse *vm)
{
	return vm->s.enabled && vm->s.absolute;
}

static u32 vmmouse_buttons(u8 buttons)
{
	return (buttons & 1 ? VMMOUSE_LEFT : 0) |
	       (buttons & 2 ? VMMOUSE_RIGHT : 0) |
	       (buttons & 4 ? VMMOUSE_MIDDLE : 0);
}

bool vmmouse_event(struct vmmouse *vm, u16 x, u16 y, int dz, u8 buttons)
{
	struct vmmouse_state *s = &vm->s;

	if (!vmmouse_absolute(vm))
		return false;
	dz = dz < -128 ? -128 : dz > 127 ? 127 : dz;
	if (s->count + PACKET_WORDS > FIFO_WORDS) {
		/* Full: the newest position replaces the last packet. */
		s->count -= PACKET_WORDS;
	}
	fifo_push(s, vmmouse_buttons(buttons));
	fifo_push(s, x);
	fifo_push(s, y);
	fifo_push(s, (u32)(u8)(s8)dz);
	i8042_mouse_kick(vm->kbc);
	return true;
}

static void vmmouse_reset(void *opaque)
{
	struct vmmouse *vm = opaque;

	memset(&vm->s, 0, sizeof(vm->s));
}

static int vmmouse_save(void *opaque, struct snap_writer *w)
{
	struct vmmouse *vm = opaque;

	return snap_put(w, "vmmouse", VMMOUSE_SNAP_VERSION, &vm->s,
			sizeof(vm->s));
}

static int vmmouse_load(void *opaque, const struct snap_reader *r)
{
	struct vmmouse *vm = opaque;
	struct vmmouse_state s;
	int ret = snap_get(r, "vmmouse", VMMOUSE_SNAP_VERSION, &s, sizeof(s));

	if (ret < 0)
		return ret;
	if (s.head >= FIFO_WORDS || s.count > FIFO_WORDS)
		return -EINVAL;
	vm->s = s;
	return 0;
}

static void vmmouse_destroy(void *opaque)
{
	free(opaque);
}

static const struct device_ops vmmouse_device_ops = {
	.name = "vmmouse",
	.reset = vmmouse_reset,
	.save = vmmouse_save,
	.load = vmmouse_load,
	.destroy = vmmouse_destroy,
};

struct device vmmouse_device(struct vmmouse *vm)
{
	return (struct device){&vmmouse_device_ops, vm};
}

struct vmmouse *vmmouse_create(struct pio_bus *pio, struct i8042 *kbc)
{
	struct vmmouse *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->kbc = kbc;
	if (pio_register_regs_port(pio, VMMOUSE_PORT, vmmouse_backdoor, vm) <
	    0) {
		log_error("vmmouse", "the backdoor port is already taken");
		free(vm);
		return NULL;
	}
	return vm;
}

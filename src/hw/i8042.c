// SPDX-License-Identifier: MIT
/*
 * Intel 8042 keyboard controller with a PS/2 keyboard and a PS/2 mouse.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, chapters
 * "Keyboard/Auxiliary Device Controller" (status register, command byte,
 * controller commands, output port, scan code translation), "Keyboards
 * (101- and 102-Key)" (keyboard commands, scan code sets) and "Pointing
 * Device" (mouse commands); IBM PC AT Technical Reference (system flag).
 *
 * The controller has one output buffer. Its bytes come from the controller
 * itself (command replies, the 0xD2/0xD3 loop-backs), from the keyboard or
 * from the mouse. Each source has its own queue, and the controller moves
 * one byte at a time into the buffer, its own replies first. Keyboard bytes
 * are translated from set 2 to set 1 on the way when the command byte asks
 * for it, as the 8042 firmware does. Devices answer at once: the PS/2
 * serial lines take no time here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "hw/i8042.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_SNAP_VERSION 2
#define I8042_RAM_SIZE 32

#define I8042_QUEUE_SIZE 64
/* Controller queue: the byte goes out as auxiliary (mouse) data. */
#define Q_AUX 0x100
/* Mouse queue: the byte belongs to a streamed movement packet. */
#define Q_PACKET 0x200
/*
 * Key presses may fill this much of the keyboard's queue (a real keyboard
 * buffers 16 bytes); the rest is kept for command replies.
 */
#define KBD_KEY_QUEUE 16
#define KBD_MAX_SEQ 8 /* Pause is the longest key sequence */

/* Status register */
#define STS_OBF BIT(0)
#define STS_SYS BIT(2)
#define STS_A2 BIT(3)	    /* the last write was to the command port */
#define STS_UNLOCKED BIT(4) /* keyboard not inhibited by the key lock */
#define STS_AUXB BIT(5)	    /* the output buffer holds mouse data */

/* Command byte (controller RAM byte 0) */
#define CB_INT BIT(0)
#define CB_INT2 BIT(1)
#define CB_SYS BIT(2)
#define CB_KBD_DISABLE BIT(4)
#define CB_AUX_DISABLE BIT(5)
#define CB_XLATE BIT(6)
#define CB_POWER_ON (CB_INT | CB_AUX_DISABLE | CB_XLATE)

/* Output port */
#define OUT_RESET BIT(0) /* 0 holds the CPU in reset */
#define OUT_A20 BIT(1)
#define OUT_KBD_OBF BIT(4)
#define OUT_AUX_OBF BIT(5)
/* Reset released, A20 on, idle clock and data lines high. */
#define OUT_POWER_ON 0xcf

/* Input port: keyboard not inhibited, no manufacturing jumper. */
#define IN_PORT_VALUE 0xa0

enum i8042_ctl_cmd {
	CTL_READ_RAM = 0x20, /* 0x20-0x3f */
	CTL_READ_RAM_LAST = 0x3f,
	CTL_WRITE_RAM = 0x60, /* 0x60-0x7f */
	CTL_WRITE_RAM_LAST = 0x7f,
	CTL_PASSWORD_TEST = 0xa4,
	CTL_AUX_DISABLE = 0xa7,
	CTL_AUX_ENABLE = 0xa8,
	CTL_AUX_TEST = 0xa9,
	CTL_SELF_TEST = 0xaa,
	CTL_KBD_TEST = 0xab,
	CTL_KBD_DISABLE = 0xad,
	CTL_KBD_ENABLE = 0xae,
	CTL_READ_INPUT = 0xc0,
	CTL_READ_OUTPUT = 0xd0,
	CTL_WRITE_OUTPUT = 0xd1,
	CTL_WRITE_KBD_OBUF = 0xd2,
	CTL_WRITE_AUX_OBUF = 0xd3,
	CTL_WRITE_AUX = 0xd4,
	CTL_A20_OFF = 0xdd,
	CTL_A20_ON = 0xdf,
	CTL_PULSE = 0xf0, /* 0xf0-0xff: clear bits pulse output lines 0-3 */
};

#define CTL_SELF_TEST_OK 0x55
#define CTL_INTERFACE_OK 0x00
#define CTL_NO_PASSWORD 0xf1

/* Bytes both PS/2 devices send */
#define PS2_ACK 0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa

enum kbd_cmd {
	KBD_SET_LEDS = 0xed,
	KBD_ECHO = 0xee,
	KBD_SCAN_SET = 0xf0,
	KBD_IDENTIFY = 0xf2,
	KBD_TYPEMATIC = 0xf3,
	KBD_ENABLE = 0xf4,
	KBD_DEFAULT_DISABLE = 0xf5,
	KBD_SET_DEFAULT = 0xf6,
	KBD_SET3_ALL_FIRST = 0xf7, /* 0xf7-0xfa: set 3 key types */
	KBD_SET3_ALL_LAST = 0xfa,
	KBD_RESEND = 0xfe,
	KBD_RESET = 0xff,
};

#define KBD_ID1 0xab
#define KBD_ID2 0x83
#define KBD_TYPEMATIC_DEFAULT 0x2b /* 10.9 characters/s after 500 ms */
#define SET2_BREAK 0xf0
#define SET2_OVERRUN 0x00
#define SET1_OVERRUN 0xff

enum mouse_cmd {
	MOUSE_SCALING_1_1 = 0xe6,
	MOUSE_SCALING_2_1 = 0xe7,
	MOUSE_SET_RESOLUTION = 0xe8,
	MOUSE_STATUS = 0xe9,
	MOUSE_STREAM_MODE = 0xea,
	MOUSE_READ_DATA = 0xeb,
	MOUSE_RESET_WRAP = 0xec,
	MOUSE_WRAP = 0xee,
	MOUSE_REMOTE_MODE = 0xf0,
	MOUSE_GET_ID = 0xf2,
	MOUSE_SAMPLE_RATE = 0xf3,
	MOUSE_ENABLE = 0xf4,
	MOUSE_DISABLE = 0xf5,
	MOUSE_SET_DEFAULT = 0xf6,
	MOUSE_RESEND = 0xfe,
	MOUSE_RESET = 0xff,
};

#define MOUSE_ID_STANDARD 0x00
#define MOUSE_ID_WHEEL 0x03 /* IntelliMouse: 4-byte packets with a wheel */
/* Movement packet, first byte: buttons, always-one bit, signs, overflows */
#define MOUSE_PACKET_SYNC 0x08
#define MOUSE_PACKET_XSIGN BIT(4)
#define MOUSE_PACKET_YSIGN BIT(5)
#define MOUSE_PACKET_XOVF BIT(6)
#define MOUSE_PACKET_YOVF BIT(7)
#define MOUSE_BUTTONS 0x07 /* left, right, middle */
/* Counters are 9-bit two's complement; the wheel byte is clamped to this. */
#define MOUSE_MOVE_MAX 255
#define MOUSE_MOVE_MIN (-256)
#define MOUSE_WHEEL_MAX 7
#define MOUSE_WHEEL_MIN (-8)
/* Host motion waiting for the guest is capped so it cannot grow forever. */
#define MOUSE_ACCUM_MAX 0x10000
/* The IntelliMouse knock: these sample rates in a row select id 3. */
#define MOUSE_KNOCK_1 200
#define MOUSE_KNOCK_2 100
#define MOUSE_KNOCK_3 80
#define MOUSE_STATUS_REMOTE BIT(6)
#define MOUSE_STATUS_ENABLED BIT(5)
#define MOUSE_STATUS_SCALING BIT(4)
#define MOUSE_DEFAULT_RATE 100
#define MOUSE_DEFAULT_RESOLUTION 2 /* 4 counts per mm */

struct i8042_queue {
	u16 buf[I8042_QUEUE_SIZE];
	u8 head;
	u8 count;
};

struct kbd_state {
	struct i8042_queue q;
	u8 scan_set;	/* 1, 2 or 3 as the guest selected */
	u8 pending_cmd; /* command waiting for its parameter, or 0 */
	u8 leds;
	u8 typematic;
	u8 last_sent; /* for the resend command */
	bool scanning;
};

struct mouse_state {
	struct i8042_queue q;
	u8 pending_cmd;
	u8 sample_rate;
	u8 resolution;
	u8 last_sent;
	bool reporting;
	bool remote;
	bool wrap;
	bool scaling_2_1;
	u8 id;		 /* MOUSE_ID_STANDARD or MOUSE_ID_WHEEL */
	u8 rates[3];	 /* the last three sample rates set, newest last */
	u8 buttons;	 /* as the host reports them */
	u8 sent_buttons; /* as the last packet told the guest */
	s32 dx, dy, dz;	 /* motion not yet in a packet (y up, z wheel down) */
};

/* Guest-visible state, saved as is. */
struct i8042_state {
	u8 ram[I8042_RAM_SIZE]; /* byte 0 is the command byte */
	u8 outport;
	u8 pending_cmd; /* controller command waiting for its data byte */
	u8 obf_data;
	bool obf;
	bool obf_aux;
	bool a2;
	bool xlate_break; /* translation saw 0xF0 */
	struct i8042_queue ctl;
	struct kbd_state kbd;
	struct mouse_state mouse;
};

struct i8042 {
	struct i8042_state s;
	struct irq_line irq1, irq12;
	bool irq1_level, irq12_level;
	struct i8042_host host;
};

/*
 * The 8042's set 2 to set 1 translation of codes 0x00-0x7f: a permutation
 * of 0x01-0x7f, with 0x00 (keyboard overrun) becoming 0xff.
 */
static const u8 xlate_set2[128] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, /* 0x00 */
	0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, /* 0x10 */
	0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, /* 0x20 */
	0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, /* 0x30 */
	0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, /* 0x40 */
	0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, /* 0x50 */
	0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, /* 0x60 */
	0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, /* 0x70 */
	0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

/* Set-2 codes above 0x7f that translate: F7 and Alt+Print Screen. */
#define SET2_F7 0x83
#define SET2_SYSRQ 0x84
#define SET1_F7 0x41
#define SET1_SYSRQ 0x54

static u8 xlate_code(u8 code)
{
	if (code < ARRAY_SIZE(xlate_set2))
		return xlate_set2[code];
	if (code == SET2_F7)
		return SET1_F7;
	if (code == SET2_SYSRQ)
		return SET1_SYSRQ;
	return code;
}

/*
 * Feed one set-2 byte to the translator. A break prefix is swallowed and
 * sets bit 7 of the next code; returns whether a set-1 byte came out.
 */
static bool xlate_feed(bool *brk, u8 in, u8 *out)
{
	if (in == SET2_BREAK) {
		*brk = true;
		return false;
	}
	*out = xlate_code(in) | (*brk ? 0x80 : 0);
	*brk = false;
	return true;
}

/* The set-2 code of a set-1 make code, or 0 if there is none. */
static u8 set1_to_set2(u8 code)
{
	u8 s;

	/* The table also maps 0x02 and 0x7f there; the keys are these. */
	if (code == SET1_F7)
		return SET2_F7;
	if (code == SET1_SYSRQ)
		return SET2_SYSRQ;
	for (s = 1; s < ARRAY_SIZE(xlate_set2); s++)
		if (xlate_set2[s] == code)
			return s;
	return 0;
}

/* A key's set-2 sequence; returns its length (0: nothing to send). */
static size_t kbd_encode_set2(u16 keycode, bool down, u8 *seq)
{
	static const u8 pause[] = {0xe1, 0x14, 0x77, 0xe1,
				   0xf0, 0x14, 0xf0, 0x77};
	static const u8 prtsc_make[] = {0xe0, 0x12, 0xe0, 0x7c};
	static const u8 prtsc_break[] = {0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12};
	u8 prefix = keycode >> 8, code = keycode & 0xff, s2;
	size_t n = 0;

	if (keycode == I8042_KEY_PAUSE) {
		/* Pause has no break code. */
		if (!down)
			return 0;
		memcpy(seq, pause, sizeof(pause));
		return sizeof(pause);
	}
	if (keycode == I8042_KEY_PRINT_SCREEN) {
		memcpy(seq, down ? prtsc_make : prtsc_break,
		       down ? sizeof(prtsc_make) : sizeof(prtsc_break));
		return down ? sizeof(prtsc_make) : sizeof(prtsc_break);
	}
	if ((prefix && prefix != 0xe0) || code >= 0x80)
		return 0;
	s2 = set1_to_set2(code);
	if (!s2)
		return 0;
	if (prefix)
		seq[n++] = prefix;
	if (!down)
		seq[n++] = SET2_BREAK;
	seq[n++] = s2;
	return n;
}

/*
 * The keyboard's bytes for a key in the scan code set the guest chose.
 * Set 1 is set 2 run through the translator; set 3 is sent as set 2.
 */
static size_t kbd_encode(u8 scan_set, u16 keycode, bool down, u8 *seq)
{
	u8 set2[KBD_MAX_SEQ];
	size_t n = kbd_encode_set2(keycode, down, set2), i, len = 0;
	bool brk = false;

	if (scan_set != 1) {
		memcpy(seq, set2, n);
		return n;
	}
	for (i = 0; i < n; i++)
		if (xlate_feed(&brk, set2[i], &seq[len]))
			len++;
	return len;
}

static void queue_clear(struct i8042_queue *q)
{
	q->head = 0;
	q->count = 0;
}

static unsigned queue_room(const struct i8042_queue *q)
{
	return I8042_QUEUE_SIZE - q->count;
}

/* A full queue drops the byte, as a device whose buffer is full would. */
static void queue_push(struct i8042_queue *q, u16 v)
{
	if (!queue_room(q))
		return;
	q->buf[(q->head + q->count) % I8042_QUEUE_SIZE] = v;
	q->count++;
}

static bool queue_pop(struct i8042_queue *q, u16 *v)
{
	if (!q->count)
		return false;
	*v = q->buf[q->head];
	q->head = (q->head + 1) % I8042_QUEUE_SIZE;
	q->count--;
	return true;
}

/* Remove the entries carrying tag, keeping the others in order. */
static void queue_drop_tagged(struct i8042_queue *q, u16 tag)
{
	struct i8042_queue keep = {0};
	u16 v;

	while (queue_pop(q, &v))
		if (!(v & tag))
			queue_push(&keep, v);
	*q = keep;
}

static bool queue_valid(const struct i8042_queue *q)
{
	return q->head < I8042_QUEUE_SIZE && q->count <= I8042_QUEUE_SIZE;
}

static void i8042_set_line(const struct irq_line *line, bool *cur, bool level)
{
	if (*cur == level)
		return;
	*cur = level;
	irq_set(line, level);
}

/* IRQ 1 follows keyboard data in the buffer, IRQ 12 mouse data. */
static bool i8042_irq_wanted(const struct i8042_state *s, bool aux)
{
	u8 enable = aux ? CB_INT2 : CB_INT;

	return s->obf && s->obf_aux == aux && (s->ram[0] & enable);
}

static void i8042_update_irqs(struct i8042 *k)
{
	i8042_set_line(&k->irq1, &k->irq1_level,
		       i8042_irq_wanted(&k->s, false));
	i8042_set_line(&k->irq12, &k->irq12_level,
		       i8042_irq_wanted(&k->s, true));
}

/* The next byte for the output buffer, from the first source that has one. */
static bool i8042_next_byte(struct i8042 *k, u8 *data, bool *aux)
{
	struct i8042_state *s = &k->s;
	u8 cb = s->ram[0];
	u16 v;

	if (queue_pop(&s->ctl, &v)) {
		*data = (u8)v;
		*aux = v & Q_AUX;
		return true;
	}
	*aux = false;
	while (!(cb & CB_KBD_DISABLE) && queue_pop(&s->kbd.q, &v)) {
		if (!(cb & CB_XLATE)) {
			*data = (u8)v;
			return true;
		}
		if (xlate_feed(&s->xlate_break, (u8)v, data))
			return true;
	}
	if (!(cb & CB_AUX_DISABLE) && queue_pop(&s->mouse.q, &v)) {
		*data = (u8)v;
		*aux = true;
		return true;
	}
	return false;
}

/* Refill the output buffer if it is empty and drive the IRQ lines. */
static void i8042_sync(struct i8042 *k)
{
	struct i8042_state *s = &k->s;

	if (!s->obf && i8042_next_byte(k, &s->obf_data, &s->obf_aux))
		s->obf = true;
	i8042_update_irqs(k);
}

static void i8042_reply(struct i8042 *k, u16 v)
{
	queue_push(&k->s.ctl, v);
}

static void i8042_pulse_reset(struct i8042 *k)
{
	if (k->host.reset)
		k->host.reset(k->host.opaque);
}

/* Output port bit 1 drives A20; bit 0 low resets the CPU. */
static void i8042_write_outport(struct i8042 *k, u8 value)
{
	/* State first: the reset may reset this device too. */
	k->s.outport = value;
	if (k->host.set_a20)
		k->host.set_a20(k->host.opaque, value & OUT_A20);
	if (!(value & OUT_RESET))
		i8042_pulse_reset(k);
}

static u8 i8042_read_outport(const struct i8042 *k)
{
	const struct i8042_state *s = &k->s;
	u8 v = s->outport & ~(OUT_KBD_OBF | OUT_AUX_OBF);

	if (s->obf)
		v |= s->obf_aux ? OUT_AUX_OBF : OUT_KBD_OBF;
	return v;
}

static void kbd_send(struct i8042 *k, u8 byte)
{
	queue_push(&k->s.kbd.q, byte);
	k->s.kbd.last_sent = byte;
}

static void kbd_set_defaults(struct kbd_state *kb)
{
	kb->scan_set = 2;
	kb->typematic = KBD_TYPEMATIC_DEFAULT;
	kb->pending_cmd = 0;
}

static void kbd_param(struct i8042 *k, u8 v)
{
	struct kbd_state *kb = &k->s.kbd;
	u8 cmd = kb->pending_cmd;

	kb->pending_cmd = 0;
	switch (cmd) {
	case KBD_SET_LEDS:
		kb->leds = v & 0x07;
		kbd_send(k, PS2_ACK);
		break;
	case KBD_TYPEMATIC:
		kb->typematic = v & 0x7f;
		kbd_send(k, PS2_ACK);
		break;
	case KBD_SCAN_SET:
		if (v > 3) {
			kbd_send(k, PS2_RESEND);
			break;
		}
		kbd_send(k, PS2_ACK);
		if (v)
			kb->scan_set = v;
		else
			kbd_send(k, kb->scan_set);
		break;
	}
}

static void kbd_command(struct i8042 *k, u8 cmd)
{
	struct kbd_state *kb = &k->s.kbd;

	switch (cmd) {
	case KBD_SET_LEDS:
	case KBD_TYPEMATIC:
	case KBD_SCAN_SET:
		kb->pending_cmd = cmd;
		kbd_send(k, PS2_ACK);
		break;
	case KBD_ECHO:
		kbd_send(k, KBD_ECHO);
		break;
	case KBD_IDENTIFY:
		kbd_send(k, PS2_ACK);
		kbd_send(k, KBD_ID1);
		kbd_send(k, KBD_ID2);
		break;
	case KBD_ENABLE:
		queue_clear(&kb->q);
		kb->scanning = true;
		kbd_send(k, PS2_ACK);
		break;
	case KBD_DEFAULT_DISABLE:
	case KBD_SET_DEFAULT:
		/* Both restore the power-on settings; F5 also stops keys. */
		queue_clear(&kb->q);
		kbd_set_defaults(kb);
		if (cmd == KBD_DEFAULT_DISABLE)
			kb->scanning = false;
		kbd_send(k, PS2_ACK);
		break;
	case KBD_SET3_ALL_FIRST ... KBD_SET3_ALL_LAST:
		/* Key types matter only to set 3, which we send as set 2. */
		kbd_send(k, PS2_ACK);
		break;
	case KBD_RESEND:
		kbd_send(k, kb->last_sent);
		break;
	case KBD_RESET:
		queue_clear(&kb->q);
		kbd_set_defaults(kb);
		kb->leds = 0;
		kb->scanning = true;
		kbd_send(k, PS2_ACK);
		kbd_send(k, PS2_BAT_OK);
		break;
	default:
		kbd_send(k, PS2_RESEND);
		break;
	}
}

/*
 * A byte for the keyboard. After a command that takes a parameter the
 * next byte is that parameter, unless it is a command itself: then the
 * keyboard drops the first command and runs the new one.
 */
static void kbd_write(struct i8042 *k, u8 v)
{
	if (k->s.kbd.pending_cmd && v < KBD_SET_LEDS) {
		kbd_param(k, v);
		return;
	}
	k->s.kbd.pending_cmd = 0;
	kbd_command(k, v);
}

/* A byte from the mouse; tag marks streamed packets (Q_PACKET). */
static void mouse_send(struct i8042 *k, u16 byte)
{
	queue_push(&k->s.mouse.q, byte);
	k->s.mouse.last_sent = (u8)byte;
}

/*
 * Drop streamed packets still queued in the mouse: the guest is sending
 * a command, and its answer must not come after stale motion (the host
 * taking the clock line aborts a packet on a real mouse). Replies to
 * earlier commands stay.
 */
static void mouse_drop_packets(struct i8042 *k)
{
	queue_drop_tagged(&k->s.mouse.q, Q_PACKET);
}

static void mouse_clear_motion(struct mouse_state *m)
{
	m->dx = 0;
	m->dy = 0;
	m->dz = 0;
	m->sent_buttons = m->buttons;
}

static void mouse_set_defaults(struct mouse_state *m)
{
	m->sample_rate = MOUSE_DEFAULT_RATE;
	m->resolution = MOUSE_DEFAULT_RESOLUTION;
	m->scaling_2_1 = false;
	m->reporting = false;
	m->pending_cmd = 0;
	mouse_clear_motion(m);
}

static int mouse_clamp(s32 v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

/*
 * 2:1 scaling (stream mode only): small counts follow the PS/2
 * reference's table, larger ones are doubled.
 */
static int mouse_scale(int v)
{
	static const int small[] = {0, 1, 1, 3, 6, 9};
	int mag = v < 0 ? -v : v;

	mag = mag < (int)ARRAY_SIZE(small) ? small[mag] : 2 * mag;
	return v < 0 ? -mag : mag;
}

static unsigned mouse_packet_size(const struct mouse_state *m)
{
	return m->id == MOUSE_ID_WHEEL ? 4 : 3;
}

/*
 * Take up to one packet's worth of the pending motion and queue the
 * packet; whatever did not fit in the 9-bit counters stays for the next.
 */
static void mouse_send_packet(struct i8042 *k, bool scale, u16 tag)
{
	struct mouse_state *m = &k->s.mouse;
	int x = mouse_clamp(m->dx, MOUSE_MOVE_MIN, MOUSE_MOVE_MAX);
	int y = mouse_clamp(m->dy, MOUSE_MOVE_MIN, MOUSE_MOVE_MAX);
	int z = mouse_clamp(m->dz, MOUSE_WHEEL_MIN, MOUSE_WHEEL_MAX);
	u8 b0 = MOUSE_PACKET_SYNC | (m->buttons & MOUSE_BUTTONS);

	m->dx -= x;
	m->dy -= y;
	if (m->id == MOUSE_ID_WHEEL)
		m->dz -= z;
	else
		m->dz = 0; /* a standard mouse has no wheel to report */
	m->sent_buttons = m->buttons;
	if (scale) {
		x = mouse_clamp(mouse_scale(x), MOUSE_MOVE_MIN, MOUSE_MOVE_MAX);
		y = mouse_clamp(mouse_scale(y), MOUSE_MOVE_MIN, MOUSE_MOVE_MAX);
	}
	if (x < 0)
		b0 |= MOUSE_PACKET_XSIGN;
	if (y < 0)
		b0 |= MOUSE_PACKET_YSIGN;
	mouse_send(k, b0 | tag);
	mouse_send(k, (u8)x | tag);
	mouse_send(k, (u8)y | tag);
	if (m->id == MOUSE_ID_WHEEL)
		mouse_send(k, (u8)z | tag);
}

static bool mouse_has_news(const struct mouse_state *m)
{
	return m->dx || m->dy || m->dz || m->buttons != m->sent_buttons;
}

/*
 * Stream mode: turn pending motion into packets while the queue has room
 * for whole packets. Called on host input and whenever the guest reads.
 */
static void mouse_stream(struct i8042 *k)
{
	struct mouse_state *m = &k->s.mouse;

	if (!m->reporting || m->remote || m->wrap || m->pending_cmd)
		return;
	while (mouse_has_news(m) && queue_room(&m->q) >= mouse_packet_size(m))
		mouse_send_packet(k, m->scaling_2_1, Q_PACKET);
}

/* The IntelliMouse knock: sample rates 200, 100, 80 in a row. */
static void mouse_note_rate(struct mouse_state *m, u8 rate)
{
	m->rates[0] = m->rates[1];
	m->rates[1] = m->rates[2];
	m->rates[2] = rate;
	if (m->rates[0] == MOUSE_KNOCK_1 && m->rates[1] == MOUSE_KNOCK_2 &&
	    m->rates[2] == MOUSE_KNOCK_3)
		m->id = MOUSE_ID_WHEEL;
}

static void mouse_send_status(struct i8042 *k)
{
	const struct mouse_state *m = &k->s.mouse;
	u8 status = 0;

	if (m->remote)
		status |= MOUSE_STATUS_REMOTE;
	if (m->reporting)
		status |= MOUSE_STATUS_ENABLED;
	if (m->scaling_2_1)
		status |= MOUSE_STATUS_SCALING;
	mouse_send(k, PS2_ACK);
	mouse_send(k, status);
	mouse_send(k, m->resolution);
	mouse_send(k, m->sample_rate);
}

static void mouse_param(struct i8042 *k, u8 v)
{
	struct mouse_state *m = &k->s.mouse;

	if (m->pending_cmd == MOUSE_SET_RESOLUTION) {
		m->resolution = v & 0x03;
	} else {
		m->sample_rate = v;
		mouse_note_rate(m, v);
	}
	m->pending_cmd = 0;
	mouse_send(k, PS2_ACK);
}

/* Mode and setting commands: each is acknowledged and changes a flag. */
static bool mouse_simple_command(struct mouse_state *m, u8 cmd)
{
	switch (cmd) {
	case MOUSE_SCALING_1_1:
	case MOUSE_SCALING_2_1:
		m->scaling_2_1 = cmd == MOUSE_SCALING_2_1;
		return true;
	case MOUSE_STREAM_MODE:
	case MOUSE_REMOTE_MODE:
		/* Both reset the movement counters. */
		m->remote = cmd == MOUSE_REMOTE_MODE;
		mouse_clear_motion(m);
		return true;
	case MOUSE_RESET_WRAP:
	case MOUSE_WRAP:
		m->wrap = cmd == MOUSE_WRAP;
		mouse_clear_motion(m);
		return true;
	case MOUSE_ENABLE:
	case MOUSE_DISABLE:
		m->reporting = cmd == MOUSE_ENABLE;
		mouse_clear_motion(m);
		return true;
	case MOUSE_SET_DEFAULT:
		mouse_set_defaults(m);
		return true;
	}
	return false;
}

static void mouse_command(struct i8042 *k, u8 cmd)
{
	struct mouse_state *m = &k->s.mouse;

	if (mouse_simple_command(m, cmd)) {
		mouse_send(k, PS2_ACK);
		return;
	}
	switch (cmd) {
	case MOUSE_SET_RESOLUTION:
	case MOUSE_SAMPLE_RATE:
		m->pending_cmd = cmd;
		mouse_send(k, PS2_ACK);
		break;
	case MOUSE_STATUS:
		mouse_send_status(k);
		break;
	case MOUSE_READ_DATA:
		/* One packet of what moved since the last, in any mode. */
		mouse_send(k, PS2_ACK);
		mouse_send_packet(k, false, 0);
		break;
	case MOUSE_GET_ID:
		mouse_send(k, PS2_ACK);
		mouse_send(k, m->id);
		break;
	case MOUSE_RESEND:
		mouse_send(k, m->last_sent);
		break;
	case MOUSE_RESET:
		queue_clear(&m->q);
		mouse_set_defaults(m);
		m->remote = false;
		m->wrap = false;
		m->id = MOUSE_ID_STANDARD;
		memset(m->rates, 0, sizeof(m->rates));
		mouse_send(k, PS2_ACK);
		mouse_send(k, PS2_BAT_OK);
		mouse_send(k, MOUSE_ID_STANDARD);
		break;
	default:
		mouse_send(k, PS2_RESEND);
		break;
	}
}

/*
 * In wrap mode the mouse echoes every byte but reset and reset-wrap.
 * A byte from the host drops movement packets not yet sent.
 */
static void mouse_write(struct i8042 *k, u8 v)
{
	struct mouse_state *m = &k->s.mouse;

	if (!m->wrap)
		mouse_drop_packets(k);
	if (m->pending_cmd)
		mouse_param(k, v);
	else if (m->wrap && v != MOUSE_RESET_WRAP && v != MOUSE_RESET)
		mouse_send(k, v);
	else
		mouse_command(k, v);
}

/* Commands with a data byte, written to port 0x60 after the command. */
static void i8042_command_data(struct i8042 *k, u8 cmd, u8 v)
{
	struct i8042_state *s = &k->s;

	if (cmd >= CTL_WRITE_RAM && cmd <= CTL_WRITE_RAM_LAST) {
		s->ram[cmd % I8042_RAM_SIZE] = v;
		return;
	}
	switch (cmd) {
	case CTL_WRITE_OUTPUT:
		i8042_write_outport(k, v);
		break;
	case CTL_WRITE_KBD_OBUF:
		i8042_reply(k, v);
		break;
	case CTL_WRITE_AUX_OBUF:
		i8042_reply(k, v | Q_AUX);
		break;
	case CTL_WRITE_AUX:
		/*
		 * The mouse can only answer with its clock line running, and
		 * a guest that sends waits for that answer: enable the port.
		 */
		s->ram[0] &= ~CB_AUX_DISABLE;
		mouse_write(k, v);
		break;
	}
}

static bool i8042_takes_data(u8 cmd)
{
	return (cmd >= CTL_WRITE_RAM && cmd <= CTL_WRITE_RAM_LAST) ||
	       (cmd >= CTL_WRITE_OUTPUT && cmd <= CTL_WRITE_AUX);
}

/* Self test: the controller restarts with its power-on command byte. */
static void i8042_self_test(struct i8042 *k)
{
	k->s.ram[0] = CB_POWER_ON | CB_SYS;
	k->s.xlate_break = false;
	i8042_reply(k, CTL_SELF_TEST_OK);
}

static void i8042_command(struct i8042 *k, u8 cmd)
{
	struct i8042_state *s = &k->s;

	if (cmd >= CTL_READ_RAM && cmd <= CTL_READ_RAM_LAST) {
		i8042_reply(k, s->ram[cmd % I8042_RAM_SIZE]);
		return;
	}
	if (i8042_takes_data(cmd)) {
		s->pending_cmd = cmd;
		return;
	}
	if (cmd >= CTL_PULSE) {
		if (!(cmd & OUT_RESET))
			i8042_pulse_reset(k);
		return;
	}
	switch (cmd) {
	case CTL_PASSWORD_TEST:
		i8042_reply(k, CTL_NO_PASSWORD);
		break;
	case CTL_AUX_DISABLE:
		s->ram[0] |= CB_AUX_DISABLE;
		break;
	case CTL_AUX_ENABLE:
		s->ram[0] &= ~CB_AUX_DISABLE;
		break;
	case CTL_AUX_TEST:
	case CTL_KBD_TEST:
		i8042_reply(k, CTL_INTERFACE_OK);
		break;
	case CTL_SELF_TEST:
		i8042_self_test(k);
		break;
	case CTL_KBD_DISABLE:
		s->ram[0] |= CB_KBD_DISABLE;
		break;
	case CTL_KBD_ENABLE:
		s->ram[0] &= ~CB_KBD_DISABLE;
		break;
	case CTL_READ_INPUT:
		i8042_reply(k, IN_PORT_VALUE);
		break;
	case CTL_READ_OUTPUT:
		i8042_reply(k, i8042_read_outport(k));
		break;
	case CTL_A20_OFF:
		i8042_write_outport(k, s->outport & ~OUT_A20);
		break;
	case CTL_A20_ON:
		i8042_write_outport(k, s->outport | OUT_A20);
		break;
	default:
		log_guest_once("i8042", "unknown controller command 0x%02x",
			       cmd);
		break;
	}
}

static u32 i8042_data_read(void *opaque, u16 offset, unsigned size)
{
	struct i8042 *k = opaque;
	u8 v = k->s.obf_data;

	k->s.obf = false;
	/* Lower the line before refilling, so the next byte is a new edge. */
	i8042_update_irqs(k);
	mouse_stream(k);
	i8042_sync(k);
	return v;
}

static void i8042_data_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct i8042 *k = opaque;
	u8 cmd = k->s.pending_cmd;

	k->s.a2 = false;
	k->s.pending_cmd = 0;
	if (cmd) {
		i8042_command_data(k, cmd, (u8)value);
	} else {
		/* As for the mouse (0xD4): the keyboard must answer. */
		k->s.ram[0] &= ~CB_KBD_DISABLE;
		kbd_write(k, (u8)value);
	}
	i8042_sync(k);
}

static u32 i8042_status_read(void *opaque, u16 offset, unsigned size)
{
	const struct i8042_state *s = &((struct i8042 *)opaque)->s;
	u8 status = STS_UNLOCKED;

	if (s->obf)
		status |= s->obf_aux ? STS_OBF | STS_AUXB : STS_OBF;
	if (s->ram[0] & CB_SYS)
		status |= STS_SYS;
	if (s->a2)
		status |= STS_A2;
	return status;
}

static void i8042_command_write(void *opaque, u16 offset, u32 value,
				unsigned size)
{
	struct i8042 *k = opaque;

	k->s.a2 = true;
	k->s.pending_cmd = 0;
	i8042_command(k, (u8)value);
	i8042_sync(k);
}

static const struct pio_ops i8042_data_ops = {
	.name = "i8042 data",
	.read = i8042_data_read,
	.write = i8042_data_write,
};

static const struct pio_ops i8042_command_ops = {
	.name = "i8042 status/command",
	.read = i8042_status_read,
	.write = i8042_command_write,
};

void i8042_key_event(struct i8042 *kbc, u16 keycode, bool down)
{
	struct kbd_state *kb = &kbc->s.kbd;
	u8 seq[KBD_MAX_SEQ];
	size_t n, i;

	if (!kb->scanning)
		return;
	n = kbd_encode(kb->scan_set, keycode, down, seq);
	if (!n)
		return;
	if (kb->q.count + n > KBD_KEY_QUEUE) {
		/* Buffer full: the key is lost, an overrun code says so. */
		if (kb->q.count < KBD_KEY_QUEUE)
			kbd_send(kbc, kb->scan_set == 1 ? SET1_OVERRUN :
							  SET2_OVERRUN);
	} else {
		for (i = 0; i < n; i++)
			kbd_send(kbc, seq[i]);
	}
	i8042_sync(kbc);
}

void i8042_mouse_event(struct i8042 *kbc, int dx, int dy, int dz, u8 buttons)
{
	struct mouse_state *m = &kbc->s.mouse;

	if (m->wrap || (!m->reporting && !m->remote))
		return;
	/* The PS/2 Y axis points up, the host's down. */
	m->dx = mouse_clamp(
		(s32)m->dx + mouse_clamp(dx, -MOUSE_ACCUM_MAX, MOUSE_ACCUM_MAX),
		-MOUSE_ACCUM_MAX, MOUSE_ACCUM_MAX);
	m->dy = mouse_clamp(
		(s32)m->dy - mouse_clamp(dy, -MOUSE_ACCUM_MAX, MOUSE_ACCUM_MAX),
		-MOUSE_ACCUM_MAX, MOUSE_ACCUM_MAX);
	m->dz = mouse_clamp(
		(s32)m->dz + mouse_clamp(dz, -MOUSE_ACCUM_MAX, MOUSE_ACCUM_MAX),
		-MOUSE_ACCUM_MAX, MOUSE_ACCUM_MAX);
	m->buttons = buttons & MOUSE_BUTTONS;
	mouse_stream(kbc);
	i8042_sync(kbc);
}

bool i8042_mouse_kick(struct i8042 *kbc)
{
	struct mouse_state *m = &kbc->s.mouse;

	if (!m->reporting || m->remote || m->wrap ||
	    queue_room(&m->q) < mouse_packet_size(m))
		return false;
	mouse_send_packet(kbc, false, Q_PACKET);
	i8042_sync(kbc);
	return true;
}

bool i8042_mouse_reporting(const struct i8042 *kbc)
{
	const struct mouse_state *m = &kbc->s.mouse;

	return m->reporting && !m->remote && !m->wrap;
}

bool i8042_kbd_queue_empty(const struct i8042 *kbc)
{
	const struct i8042_state *s = &kbc->s;

	return !s->kbd.q.count && !(s->obf && !s->obf_aux);
}

static void i8042_reset(void *opaque)
{
	struct i8042 *k = opaque;
	struct i8042_state *s = &k->s;

	memset(s, 0, sizeof(*s));
	s->ram[0] = CB_POWER_ON;
	s->outport = OUT_POWER_ON;
	kbd_set_defaults(&s->kbd);
	s->kbd.scanning = true;
	mouse_set_defaults(&s->mouse);
	i8042_update_irqs(k);
}

static int i8042_save(void *opaque, struct snap_writer *w)
{
	struct i8042 *k = opaque;

	return snap_put(w, "i8042", I8042_SNAP_VERSION, &k->s, sizeof(k->s));
}

static int i8042_load(void *opaque, const struct snap_reader *r)
{
	struct i8042 *k = opaque;
	struct i8042_state s;
	int ret = snap_get(r, "i8042", I8042_SNAP_VERSION, &s, sizeof(s));

	if (ret < 0)
		return ret;
	if (!queue_valid(&s.ctl) || !queue_valid(&s.kbd.q) ||
	    !queue_valid(&s.mouse.q) || s.kbd.scan_set < 1 ||
	    s.kbd.scan_set > 3 ||
	    (s.mouse.id != MOUSE_ID_STANDARD && s.mouse.id != MOUSE_ID_WHEEL))
		return -EINVAL;
	k->s = s;
	k->irq1_level = i8042_irq_wanted(&k->s, false);
	k->irq12_level = i8042_irq_wanted(&k->s, true);
	irq_set(&k->irq1, k->irq1_level);
	irq_set(&k->irq12, k->irq12_level);
	return 0;
}

static void i8042_destroy(void *opaque)
{
	free(opaque);
}

static const struct device_ops i8042_device_ops = {
	.name = "i8042",
	.reset = i8042_reset,
	.save = i8042_save,
	.load = i8042_load,
	.destroy = i8042_destroy,
};

struct device i8042_device(struct i8042 *kbc)
{
	return (struct device){&i8042_device_ops, kbc};
}

struct i8042 *i8042_create(struct pio_bus *pio, struct irq_line irq1,
			   struct irq_line irq12, const struct i8042_host *host)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->irq1 = irq1;
	k->irq12 = irq12;
	if (host)
		k->host = *host;
	if (pio_register(pio, I8042_DATA_PORT, 1, &i8042_data_ops, k) < 0)
		goto busy;
	if (pio_register(pio, I8042_CMD_PORT, 1, &i8042_command_ops, k) < 0) {
		pio_unregister(pio, I8042_DATA_PORT);
		goto busy;
	}
	i8042_reset(k);
	return k;
busy:
	log_error("i8042", "ports 0x60/0x64 are already taken");
	free(k);
	return NULL;
}

// SPDX-License-Identifier: MIT
/*
 * The 8042 keyboard controller, its PS/2 keyboard and mouse, and port 0x92,
 * driven through their ports as SeaBIOS and Linux's i8042/atkbd/psmouse
 * drivers drive them. Expected bytes come from the IBM PS/2 technical
 * reference (controller commands, keyboard and mouse command replies,
 * scan code sets 1 and 2).
 */
#include <stdlib.h>

#include "hw/i8042.h"
#include "hw/port92.h"
#include "unit.h"

#define DATA 0x60
#define CMD 0x64
#define STATUS 0x64

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_A2 0x08
#define STS_AUXB 0x20

#define CB_INT 0x01
#define CB_INT2 0x02
#define CB_SYS 0x04
#define CB_KBD_DISABLE 0x10
#define CB_AUX_DISABLE 0x20
#define CB_XLATE 0x40

struct rig {
	struct pio_bus *pio;
	struct i8042 *kbc;
	struct device dev;
	bool irq[13];
	unsigned raises[13];
	unsigned resets;
	int a20; /* -1: never set */
	unsigned a20_calls;
	struct i8042_host host;
};

static void rig_irq(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	CHECK(pin == 1 || pin == 12);
	if (pin >= ARRAY_SIZE(r->irq))
		return;
	if (level && !r->irq[pin])
		r->raises[pin]++;
	r->irq[pin] = level;
}

static void rig_reset(void *opaque)
{
	((struct rig *)opaque)->resets++;
}

static void rig_set_a20(void *opaque, bool enabled)
{
	struct rig *r = opaque;

	r->a20 = enabled;
	r->a20_calls++;
}

static void rig_init(struct rig *r)
{
	struct irq_line irq1 = {rig_irq, r, 1}, irq12 = {rig_irq, r, 12};

	memset(r, 0, sizeof(*r));
	r->a20 = -1;
	r->host = (struct i8042_host){rig_reset, rig_set_a20, r};
	r->pio = pio_bus_new();
	r->kbc = i8042_create(r->pio, irq1, irq12, &r->host);
	CHECK(r->kbc != NULL);
	r->dev = i8042_device(r->kbc);
}

static void rig_free(struct rig *r)
{
	r->dev.ops->destroy(r->dev.opaque);
	pio_bus_free(r->pio);
}

static u8 status(struct rig *r)
{
	return (u8)pio_read(r->pio, STATUS, 1);
}

static void cmd(struct rig *r, u8 c)
{
	pio_write(r->pio, CMD, c, 1);
}

static void put(struct rig *r, u8 v)
{
	pio_write(r->pio, DATA, v, 1);
}

static void cmd_data(struct rig *r, u8 c, u8 v)
{
	cmd(r, c);
	put(r, v);
}

/* Read one byte as a driver does: only once OBF says there is one. */
static int get(struct rig *r)
{
	if (!(status(r) & STS_OBF))
		return -1;
	return (int)pio_read(r->pio, DATA, 1);
}

static bool empty(struct rig *r)
{
	return !(status(r) & STS_OBF);
}

/* The next bytes in the output buffer must be exactly these. */
static void expect(struct rig *r, const u8 *bytes, size_t n, int line)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int b = get(r);

		if (b != bytes[i]) {
			fprintf(stderr,
				"line %d: byte %zu is %d, expected 0x%02x\n",
				line, i, b, bytes[i]);
			unit_current_failed = 1;
		}
	}
	if (!empty(r)) {
		fprintf(stderr, "line %d: unexpected extra byte\n", line);
		unit_current_failed = 1;
	}
}

#define EXPECT(r, ...)                                                         \
	do {                                                                   \
		static const u8 bytes_[] = {__VA_ARGS__};                      \
		expect(r, bytes_, sizeof(bytes_), __LINE__);                   \
	} while (0)

static void key(struct rig *r, u16 code, bool down)
{
	i8042_key_event(r->kbc, code, down);
}

static void set_cb(struct rig *r, u8 cb)
{
	cmd_data(r, 0x60, cb);
}

static void test_self_test(void)
{
	struct rig r;

	rig_init(&r);
	/* A cold boot: the system flag is clear until the self test. */
	CHECK_EQ(status(&r) & STS_SYS, 0);
	cmd(&r, 0xaa);
	EXPECT(&r, 0x55);
	CHECK(status(&r) & STS_SYS);
	/* The command byte is back to its power-on value, with SYS set. */
	cmd(&r, 0x20);
	EXPECT(&r, CB_INT | CB_SYS | CB_AUX_DISABLE | CB_XLATE);
	cmd(&r, 0xab);
	EXPECT(&r, 0x00);
	cmd(&r, 0xa9);
	EXPECT(&r, 0x00);
	cmd(&r, 0xa4);
	EXPECT(&r, 0xf1);
	cmd(&r, 0xc0);
	CHECK(get(&r) & 0x80); /* keyboard not inhibited */
	rig_free(&r);
}

static void test_command_byte(void)
{
	struct rig r;

	rig_init(&r);
	cmd(&r, 0x60);
	CHECK(status(&r) & STS_A2);
	put(&r, 0x47);
	CHECK_EQ(status(&r) & STS_A2, 0);
	cmd(&r, 0x20);
	EXPECT(&r, 0x47);
	CHECK(status(&r) & STS_SYS);
	set_cb(&r, 0x00);
	CHECK_EQ(status(&r) & STS_SYS, 0);
	/* Disable/enable commands flip command byte bits 4 and 5. */
	cmd(&r, 0xad);
	cmd(&r, 0xa7);
	cmd(&r, 0x20);
	EXPECT(&r, CB_KBD_DISABLE | CB_AUX_DISABLE);
	cmd(&r, 0xae);
	cmd(&r, 0xa8);
	cmd(&r, 0x20);
	EXPECT(&r, 0x00);
	/* Controller RAM beyond the command byte. */
	cmd_data(&r, 0x65, 0x99);
	cmd(&r, 0x25);
	EXPECT(&r, 0x99);
	rig_free(&r);
}

static void test_key_translated(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_SYS | CB_XLATE);
	key(&r, 0x1e, true);
	EXPECT(&r, 0x1e);
	key(&r, 0x1e, false);
	EXPECT(&r, 0x9e);
	key(&r, 0xe048, true);
	EXPECT(&r, 0xe0, 0x48);
	key(&r, 0xe048, false);
	EXPECT(&r, 0xe0, 0xc8);
	key(&r, 0x41, true); /* F7: set 2 code 0x83 */
	EXPECT(&r, 0x41);
	key(&r, 0x41, false);
	EXPECT(&r, 0xc1);
	key(&r, I8042_KEY_PAUSE, true);
	EXPECT(&r, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	key(&r, I8042_KEY_PAUSE, false);
	CHECK(empty(&r));
	key(&r, I8042_KEY_PRINT_SCREEN, true);
	EXPECT(&r, 0xe0, 0x2a, 0xe0, 0x37);
	key(&r, I8042_KEY_PRINT_SCREEN, false);
	EXPECT(&r, 0xe0, 0xb7, 0xe0, 0xaa);
	rig_free(&r);
}

/* Every set-1 code survives set 2 and the controller's translation. */
static void test_every_key_round_trips(void)
{
	struct rig r;
	unsigned code;

	rig_init(&r);
	set_cb(&r, CB_XLATE);
	for (code = 0x01; code < 0x80; code++) {
		key(&r, (u16)code, true);
		CHECK_EQ(get(&r), code);
		CHECK(empty(&r));
		/* Extended releases, but 0xE037 is Print Screen's sequence. */
		if (code != 0x37) {
			key(&r, (u16)(0xe000 | code), false);
			CHECK_EQ(get(&r), 0xe0);
		} else {
			key(&r, (u16)code, false);
		}
		CHECK_EQ(get(&r), code | 0x80);
		CHECK(empty(&r));
	}
	/* Not keys: break codes, unknown prefixes. */
	key(&r, 0x9e, true);
	key(&r, 0xe11e, true);
	key(&r, 0x00, true);
	CHECK(empty(&r));
	rig_free(&r);
}

static void test_key_untranslated(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_SYS);
	key(&r, 0x1e, true);
	EXPECT(&r, 0x1c);
	key(&r, 0x1e, false);
	EXPECT(&r, 0xf0, 0x1c);
	key(&r, 0xe048, true);
	EXPECT(&r, 0xe0, 0x75);
	key(&r, 0xe048, false);
	EXPECT(&r, 0xe0, 0xf0, 0x75);
	key(&r, 0x41, true);
	EXPECT(&r, 0x83);
	key(&r, I8042_KEY_PAUSE, true);
	EXPECT(&r, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	key(&r, I8042_KEY_PRINT_SCREEN, false);
	EXPECT(&r, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
	rig_free(&r);
}

static void test_scan_code_sets(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_SYS);
	put(&r, 0xf0);
	put(&r, 0x00);
	EXPECT(&r, 0xfa, 0xfa, 0x02);
	put(&r, 0xf0);
	put(&r, 0x01);
	EXPECT(&r, 0xfa, 0xfa);
	key(&r, 0x1e, true);
	key(&r, 0x1e, false);
	key(&r, I8042_KEY_PAUSE, true);
	EXPECT(&r, 0x1e, 0x9e, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	put(&r, 0xf0);
	put(&r, 0x00);
	EXPECT(&r, 0xfa, 0xfa, 0x01);
	put(&r, 0xf0);
	put(&r, 0x03);
	put(&r, 0xf0);
	put(&r, 0x00);
	EXPECT(&r, 0xfa, 0xfa, 0xfa, 0xfa, 0x03);
	put(&r, 0xf0);
	put(&r, 0x04);
	EXPECT(&r, 0xfa, 0xfe);
	/* Through the translator, the set number reads 0x43/0x41/0x3f. */
	set_cb(&r, CB_SYS | CB_XLATE);
	put(&r, 0xf0);
	put(&r, 0x02);
	put(&r, 0xf0);
	put(&r, 0x00);
	EXPECT(&r, 0xfa, 0xfa, 0xfa, 0xfa, 0x41);
	rig_free(&r);
}

static void test_keyboard_commands(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_SYS | CB_XLATE);
	put(&r, 0xff);
	EXPECT(&r, 0xfa, 0xaa);
	put(&r, 0xf2);
	EXPECT(&r, 0xfa, 0xab, 0x41); /* 0x83 as translated */
	set_cb(&r, CB_SYS);
	put(&r, 0xf2);
	EXPECT(&r, 0xfa, 0xab, 0x83);
	put(&r, 0xee);
	EXPECT(&r, 0xee);
	put(&r, 0xed);
	put(&r, 0x07);
	EXPECT(&r, 0xfa, 0xfa);
	put(&r, 0xf3);
	put(&r, 0x20);
	EXPECT(&r, 0xfa, 0xfa);
	/* A command where a parameter was expected is run as a command. */
	put(&r, 0xed);
	put(&r, 0xee);
	EXPECT(&r, 0xfa, 0xee);
	put(&r, 0xfe);
	EXPECT(&r, 0xee);
	put(&r, 0x01);
	EXPECT(&r, 0xfe);
	put(&r, 0xf6);
	EXPECT(&r, 0xfa);
	rig_free(&r);
}

static void test_keyboard_disable_enable(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_SYS | CB_XLATE);
	CHECK(i8042_kbd_queue_empty(r.kbc));
	put(&r, 0xf5);
	EXPECT(&r, 0xfa);
	key(&r, 0x1e, true);
	CHECK(empty(&r));
	CHECK(i8042_kbd_queue_empty(r.kbc));
	put(&r, 0xf4);
	EXPECT(&r, 0xfa);
	key(&r, 0x1e, true);
	EXPECT(&r, 0x1e);

	/* The controller holds keys back while its keyboard port is off. */
	cmd(&r, 0xad);
	key(&r, 0x30, true);
	key(&r, 0x30, false);
	CHECK(empty(&r));
	CHECK(!i8042_kbd_queue_empty(r.kbc));
	cmd(&r, 0xae);
	CHECK(!i8042_kbd_queue_empty(r.kbc));
	EXPECT(&r, 0x30, 0xb0);
	CHECK(i8042_kbd_queue_empty(r.kbc));
	rig_free(&r);
}

static void test_key_queue_overrun(void)
{
	struct rig r;
	unsigned i;

	rig_init(&r);
	set_cb(&r, CB_SYS | CB_XLATE);
	cmd(&r, 0xad);
	for (i = 0; i < 20; i++)
		key(&r, 0xe048, true);
	cmd(&r, 0xae);
	/* 16 bytes of keys, then the set-1 overrun code (0x00 -> 0xff). */
	for (i = 0; i < 8; i++) {
		CHECK_EQ(get(&r), 0xe0);
		CHECK_EQ(get(&r), 0x48);
	}
	CHECK(empty(&r));
	cmd(&r, 0xad);
	key(&r, 0x1e, true);
	for (i = 0; i < 20; i++)
		key(&r, 0xe048, true);
	cmd(&r, 0xae);
	CHECK_EQ(get(&r), 0x1e);
	for (i = 0; i < 7; i++) {
		CHECK_EQ(get(&r), 0xe0);
		CHECK_EQ(get(&r), 0x48);
	}
	CHECK_EQ(get(&r), 0xff);
	CHECK(empty(&r));
	rig_free(&r);
}

static void test_irq1(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_SYS | CB_XLATE);
	key(&r, 0x1e, true);
	CHECK(!r.irq[1]); /* INT clear: polled */
	set_cb(&r, CB_INT | CB_SYS | CB_XLATE);
	CHECK(r.irq[1]);
	get(&r);
	CHECK(!r.irq[1]);
	key(&r, 0xe048, true);
	CHECK(r.irq[1]);
	CHECK_EQ(r.raises[1], 2);
	CHECK_EQ(get(&r), 0xe0);
	/* The next byte is a new edge for an edge-triggered PIC. */
	CHECK(r.irq[1]);
	CHECK_EQ(r.raises[1], 3);
	CHECK_EQ(get(&r), 0x48);
	CHECK(!r.irq[1]);
	CHECK(!r.irq[12]);
	/* Command replies interrupt too, like keyboard data. */
	cmd(&r, 0x20);
	CHECK(r.irq[1]);
	get(&r);
	CHECK(!r.irq[1]);
	rig_free(&r);
}

static void test_output_port(void)
{
	struct rig r;

	rig_init(&r);
	cmd(&r, 0xd0);
	CHECK_EQ(get(&r) & 0x03, 0x03); /* reset released, A20 on */
	cmd_data(&r, 0xd1, 0xdd);
	CHECK_EQ(r.a20, 0);
	CHECK_EQ(r.resets, 0);
	cmd(&r, 0xd0);
	CHECK_EQ(get(&r) & 0x03, 0x01);
	cmd_data(&r, 0xd1, 0xdf);
	CHECK_EQ(r.a20, 1);
	CHECK_EQ(r.resets, 0);
	/* Bit 0 low is the reset line. */
	cmd_data(&r, 0xd1, 0xde);
	CHECK_EQ(r.resets, 1);
	rig_free(&r);
}

static void test_a20_and_pulse_commands(void)
{
	struct rig r;
	unsigned c;

	rig_init(&r);
	cmd(&r, 0xdd);
	CHECK_EQ(r.a20, 0);
	cmd(&r, 0xdf);
	CHECK_EQ(r.a20, 1);
	CHECK_EQ(r.resets, 0);
	cmd(&r, 0xfe);
	CHECK_EQ(r.resets, 1);
	cmd(&r, 0xff); /* pulses nothing */
	CHECK_EQ(r.resets, 1);
	for (c = 0xf0; c <= 0xff; c++)
		cmd(&r, (u8)c);
	CHECK_EQ(r.resets, 9); /* the eight with bit 0 clear */
	rig_free(&r);
}

static void test_write_output_buffers(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS);
	cmd_data(&r, 0xd2, 0x42);
	CHECK_EQ(status(&r) & (STS_OBF | STS_AUXB), STS_OBF);
	CHECK(r.irq[1] && !r.irq[12]);
	EXPECT(&r, 0x42);
	/* Linux's AUX loop test: the byte must come back as mouse data. */
	cmd_data(&r, 0xd3, 0x5a);
	CHECK_EQ(status(&r) & (STS_OBF | STS_AUXB), STS_OBF | STS_AUXB);
	CHECK(r.irq[12] && !r.irq[1]);
	EXPECT(&r, 0x5a);
	CHECK(!r.irq[12]);
	rig_free(&r);
}

static void aux(struct rig *r, u8 v)
{
	cmd_data(r, 0xd4, v);
}

static void test_mouse(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE | CB_AUX_DISABLE);
	aux(&r, 0xff);
	CHECK(r.irq[12]);
	CHECK(status(&r) & STS_AUXB);
	EXPECT(&r, 0xfa, 0xaa, 0x00);
	CHECK(!r.irq[12]);
	/* Sending to the mouse enabled the aux port. */
	cmd(&r, 0x20);
	CHECK_EQ(get(&r) & CB_AUX_DISABLE, 0);
	aux(&r, 0xf2);
	EXPECT(&r, 0xfa, 0x00);
	aux(&r, 0xe9);
	EXPECT(&r, 0xfa, 0x00, 0x02, 100);
	/* psmouse's IntelliMouse knock: the mouse becomes id 3. */
	aux(&r, 0xf3);
	aux(&r, 200);
	aux(&r, 0xf3);
	aux(&r, 100);
	aux(&r, 0xf3);
	aux(&r, 80);
	aux(&r, 0xf2);
	EXPECT(&r, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x03);
	aux(&r, 0xe8);
	aux(&r, 0x03);
	aux(&r, 0xe7);
	aux(&r, 0xf4);
	aux(&r, 0xe9);
	EXPECT(&r, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x30, 0x03, 80);
	aux(&r, 0xf6);
	aux(&r, 0xe9);
	EXPECT(&r, 0xfa, 0xfa, 0x00, 0x02, 100);
	/* An IntelliMouse packet has a fourth byte, the wheel. */
	aux(&r, 0xeb);
	EXPECT(&r, 0xfa, 0x08, 0x00, 0x00, 0x00);
	aux(&r, 0x00);
	EXPECT(&r, 0xfe);
	aux(&r, 0xee);
	aux(&r, 0x12);
	aux(&r, 0xec);
	EXPECT(&r, 0xfa, 0x12, 0xfa);
	CHECK(!r.irq[1]);
	rig_free(&r);
}

static void test_mouse_and_keyboard_interleave(void)
{
	struct rig r;
	int got[3];
	int i;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	aux(&r, 0xf2);
	key(&r, 0x1e, true);
	/* Each byte carries its source in AUXB and on its IRQ line. */
	for (i = 0; i < 3; i++) {
		bool from_aux = status(&r) & STS_AUXB;

		CHECK(from_aux ? r.irq[12] && !r.irq[1] :
				 r.irq[1] && !r.irq[12]);
		got[i] = get(&r) | (from_aux ? 0x100 : 0);
	}
	CHECK(empty(&r));
	CHECK_EQ(got[0], 0x1fa);
	CHECK_EQ(got[1], 0x1e);
	CHECK_EQ(got[2], 0x100);
	rig_free(&r);
}

static void test_save_load(void)
{
	struct rig a, b;
	struct snap_writer w;
	struct snap_reader rd;

	rig_init(&a);
	set_cb(&a, CB_INT | CB_SYS);
	put(&a, 0xf0);
	put(&a, 0x01);
	EXPECT(&a, 0xfa, 0xfa);
	key(&a, 0xe048, true);
	aux(&a, 0xf2);
	cmd(&a, 0xd1); /* a command waiting for its data byte */
	CHECK(a.irq[1]);
	snap_writer_init(&w);
	CHECK_EQ(a.dev.ops->save(a.dev.opaque, &w), 0);

	rig_init(&b);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(b.dev.ops->load(b.dev.opaque, &rd), 0);
	CHECK(b.irq[1]);
	put(&b, 0xdd);
	CHECK_EQ(b.a20, 0);
	EXPECT(&b, 0xe0, 0x48, 0xfa, 0x00);
	key(&b, 0x1e, false);
	EXPECT(&b, 0x9e); /* set 1, untranslated */
	cmd(&b, 0x20);
	EXPECT(&b, CB_INT | CB_SYS);
	snap_writer_free(&w);
	rig_free(&a);
	rig_free(&b);
}

static void test_reset(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_SYS);
	key(&r, 0x1e, true);
	CHECK(r.irq[1]);
	r.dev.ops->reset(r.dev.opaque);
	CHECK(!r.irq[1]);
	CHECK(empty(&r));
	CHECK_EQ(status(&r) & STS_SYS, 0);
	cmd(&r, 0x20);
	EXPECT(&r, CB_INT | CB_AUX_DISABLE | CB_XLATE);
	rig_free(&r);
}

static void test_hostile_accesses(void)
{
	struct rig r;
	unsigned i;

	rig_init(&r);
	srand(8042);
	for (i = 0; i < 100000; i++) {
		unsigned op = (unsigned)rand() % 8;

		if (op < 2)
			cmd(&r, (u8)rand());
		else if (op < 4)
			put(&r, (u8)rand());
		else if (op < 6)
			pio_read(r.pio, DATA, 1);
		else if (op < 7)
			status(&r);
		else
			key(&r, (u16)rand(), rand() & 1);
	}
	r.dev.ops->reset(r.dev.opaque);
	cmd(&r, 0xaa);
	EXPECT(&r, 0x55);
	rig_free(&r);
}

static void test_port92(void)
{
	struct rig r;
	struct port92 *p;
	struct device dev;
	struct snap_writer w;
	struct snap_reader rd;

	rig_init(&r);
	p = port92_create(r.pio, &r.host);
	CHECK(p != NULL);
	dev = port92_device(p);
	CHECK_EQ(pio_read(r.pio, 0x92, 1), 0x00);
	pio_write(r.pio, 0x92, 0x02, 1);
	CHECK_EQ(r.a20, 1);
	CHECK_EQ(pio_read(r.pio, 0x92, 1), 0x02);
	CHECK_EQ(r.resets, 0);
	/* Bit 0: only a 0->1 transition resets. */
	pio_write(r.pio, 0x92, 0x03, 1);
	CHECK_EQ(r.resets, 1);
	pio_write(r.pio, 0x92, 0x03, 1);
	CHECK_EQ(r.resets, 1);
	pio_write(r.pio, 0x92, 0x00, 1);
	CHECK_EQ(r.a20, 0);
	pio_write(r.pio, 0x92, 0x01, 1);
	CHECK_EQ(r.resets, 2);

	snap_writer_init(&w);
	CHECK_EQ(dev.ops->save(dev.opaque, &w), 0);
	dev.ops->reset(dev.opaque);
	CHECK_EQ(pio_read(r.pio, 0x92, 1), 0x00);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(dev.ops->load(dev.opaque, &rd), 0);
	CHECK_EQ(pio_read(r.pio, 0x92, 1), 0x01);
	snap_writer_free(&w);
	dev.ops->destroy(dev.opaque);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_self_test);
	RUN_TEST(test_command_byte);
	RUN_TEST(test_key_translated);
	RUN_TEST(test_every_key_round_trips);
	RUN_TEST(test_key_untranslated);
	RUN_TEST(test_scan_code_sets);
	RUN_TEST(test_keyboard_commands);
	RUN_TEST(test_keyboard_disable_enable);
	RUN_TEST(test_key_queue_overrun);
	RUN_TEST(test_irq1);
	RUN_TEST(test_output_port);
	RUN_TEST(test_a20_and_pulse_commands);
	RUN_TEST(test_write_output_buffers);
	RUN_TEST(test_mouse);
	RUN_TEST(test_mouse_and_keyboard_interleave);
	RUN_TEST(test_save_load);
	RUN_TEST(test_reset);
	RUN_TEST(test_hostile_accesses);
	RUN_TEST(test_port92);
	return unit_summary();
}

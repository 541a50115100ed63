// SPDX-License-Identifier: MIT
/*
 * The PS/2 mouse behind the 8042's auxiliary port, driven as Linux's
 * i8042 and psmouse drivers and DOS mouse drivers drive it: the reset and
 * identification sequence, the IntelliMouse knock, stream and remote
 * modes, movement packets (IBM PS/2 reference, "Pointing Device": first
 * byte YO XO YS XS 1 M R L, then X and Y; IntelliMouse adds the wheel
 * byte), IRQ 12 and the command byte's auxiliary bits.
 */
#include <stdlib.h>

#include "hw/i8042.h"
#include "unit.h"

#define DATA 0x60
#define CMD 0x64
#define STATUS 0x64
#define STS_OBF 0x01
#define STS_AUXB 0x20
#define CB_INT 0x01
#define CB_INT2 0x02
#define CB_SYS 0x04
#define CB_AUX_DISABLE 0x20
#define CB_XLATE 0x40
#define ACK 0xfa

struct rig {
	struct pio_bus *pio;
	struct i8042 *kbc;
	struct device dev;
	bool irq[13];
	unsigned raises[13];
};

static void rig_irq(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	if (pin >= ARRAY_SIZE(r->irq))
		return;
	if (level && !r->irq[pin])
		r->raises[pin]++;
	r->irq[pin] = level;
}

static void rig_init(struct rig *r)
{
	struct irq_line irq1 = {rig_irq, r, 1}, irq12 = {rig_irq, r, 12};

	memset(r, 0, sizeof(*r));
	r->pio = pio_bus_new();
	r->kbc = i8042_create(r->pio, irq1, irq12, NULL);
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

static int get(struct rig *r)
{
	if (!(status(r) & STS_OBF))
		return -1;
	return (int)pio_read(r->pio, DATA, 1);
}

/* Read a mouse byte: it must be flagged as auxiliary data. */
static int get_aux(struct rig *r)
{
	u8 st = status(r);

	if (!(st & STS_OBF))
		return -1;
	CHECK(st & STS_AUXB);
	return (int)pio_read(r->pio, DATA, 1);
}

static void set_cb(struct rig *r, u8 cb)
{
	cmd(r, 0x60);
	pio_write(r->pio, DATA, cb, 1);
}

/* Send a byte to the mouse (0xD4) and check its reply bytes. */
static void aux_expect(struct rig *r, u8 v, const int *reply, size_t n,
		       int line)
{
	size_t i;

	cmd(r, 0xd4);
	pio_write(r->pio, DATA, v, 1);
	for (i = 0; i < n; i++) {
		int b = get_aux(r);

		if (b != reply[i]) {
			fprintf(stderr,
				"line %d: 0x%02x reply byte %zu is %d, "
				"expected 0x%02x\n",
				line, v, i, b, reply[i]);
			unit_current_failed = 1;
		}
	}
}

#define AUX(r, v, ...)                                                         \
	do {                                                                   \
		const int reply_[] = {__VA_ARGS__};                            \
		aux_expect(r, v, reply_, ARRAY_SIZE(reply_), __LINE__);        \
	} while (0)

/* The next n mouse bytes. */
static void packet(struct rig *r, int *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = get_aux(r);
}

/* What psmouse does after the i8042 driver found the aux port. */
static void linux_psmouse_init(struct rig *r)
{
	set_cb(r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	AUX(r, 0xff, ACK, 0xaa, 0x00); /* reset: BAT passed, id 0 */
	AUX(r, 0xf2, ACK, 0x00);       /* standard mouse */
	AUX(r, 0xf5, ACK);	       /* quiet while probing */
	/* IntelliMouse: sample rates 200, 100, 80 then get id. */
	AUX(r, 0xf3, ACK);
	AUX(r, 200, ACK);
	AUX(r, 0xf3, ACK);
	AUX(r, 100, ACK);
	AUX(r, 0xf3, ACK);
	AUX(r, 80, ACK);
	AUX(r, 0xf2, ACK, 0x03);
	/* IntelliMouse Explorer (200, 200, 80): not offered, still id 3. */
	AUX(r, 0xf3, ACK);
	AUX(r, 200, ACK);
	AUX(r, 0xf3, ACK);
	AUX(r, 200, ACK);
	AUX(r, 0xf3, ACK);
	AUX(r, 80, ACK);
	AUX(r, 0xf2, ACK, 0x03);
	AUX(r, 0xf3, ACK);
	AUX(r, 100, ACK);
	AUX(r, 0xe8, ACK);
	AUX(r, 0x03, ACK);
	AUX(r, 0xe6, ACK);
	AUX(r, 0xf4, ACK); /* stream reporting on */
	CHECK_EQ(get(r), -1);
}

static void test_linux_init_and_wheel_packets(void)
{
	struct rig r;
	int p[4];

	rig_init(&r);
	linux_psmouse_init(&r);
	/* Right 5, down 3 (PS/2 Y points up), wheel towards the user. */
	i8042_mouse_event(r.kbc, 5, 3, 1, 0x01);
	CHECK(r.irq[12]);
	CHECK(!r.irq[1]);
	packet(&r, p, 4);
	CHECK_EQ(p[0], 0x08 | 0x01 | 0x20); /* left, sync, Y negative */
	CHECK_EQ(p[1], 5);
	CHECK_EQ(p[2], 0xfd);
	CHECK_EQ(p[3], 0x01);
	CHECK_EQ(get(&r), -1);
	CHECK(!r.irq[12]);
	/* Left and up, wheel away, right and middle buttons. */
	i8042_mouse_event(r.kbc, -2, -7, -1, 0x06);
	packet(&r, p, 4);
	CHECK_EQ(p[0], 0x08 | 0x06 | 0x10);
	CHECK_EQ(p[1], 0xfe);
	CHECK_EQ(p[2], 7);
	CHECK_EQ(p[3], 0xff);
	/* A button release alone is a packet too. */
	i8042_mouse_event(r.kbc, 0, 0, 0, 0);
	packet(&r, p, 4);
	CHECK_EQ(p[0], 0x08);
	CHECK_EQ(p[1] | p[2] | p[3], 0);
	/* Nothing new: no packet. */
	i8042_mouse_event(r.kbc, 0, 0, 0, 0);
	CHECK_EQ(get(&r), -1);
	rig_free(&r);
}

static void test_standard_packets_split_large_moves(void)
{
	struct rig r;
	int p[3], sum = 0, n = 0;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	AUX(&r, 0xff, ACK, 0xaa, 0x00);
	AUX(&r, 0xf4, ACK);
	/* 600 counts do not fit in 9 bits: several 3-byte packets. */
	i8042_mouse_event(r.kbc, 600, 0, 3, 0);
	while (status(&r) & STS_OBF) {
		packet(&r, p, 3);
		CHECK(p[0] & 0x08);
		CHECK(!(p[0] & 0x10));
		sum += p[1];
		n++;
	}
	CHECK_EQ(sum, 600);
	CHECK_EQ(n, 3);
	/* Large negative motion keeps its sign bit in every packet. */
	i8042_mouse_event(r.kbc, -300, 0, 0, 0);
	packet(&r, p, 3);
	CHECK_EQ(p[0] & 0x10, 0x10);
	CHECK_EQ(p[1], 0x00); /* -256 */
	packet(&r, p, 3);
	CHECK_EQ(p[0] & 0x10, 0x10);
	CHECK_EQ(p[1], 256 - 44);
	rig_free(&r);
}

static void test_irq12_and_aux_port_bits(void)
{
	struct rig r;
	unsigned kbd_irqs;

	rig_init(&r);
	/* Linux's i8042 probe: 0xA9 test, 0xA7 / 0xA8 in the command byte. */
	cmd(&r, 0xa9);
	CHECK_EQ(get(&r), 0x00);
	set_cb(&r, CB_INT | CB_SYS | CB_XLATE);
	AUX(&r, 0xf4, ACK);
	cmd(&r, 0xa7);
	cmd(&r, 0x20);
	CHECK(get(&r) & CB_AUX_DISABLE);
	i8042_mouse_event(r.kbc, 1, 0, 0, 0);
	/* Port disabled: the packet waits in the mouse. */
	CHECK_EQ(get(&r), -1);
	CHECK(!r.irq[12]);
	kbd_irqs = r.raises[1];
	cmd(&r, 0xa8);
	/* Enabled, but the command byte has no IRQ 12: polled only. */
	CHECK(status(&r) & STS_AUXB);
	CHECK(!r.irq[12]);
	CHECK_EQ(get_aux(&r), 0x08);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	CHECK(r.irq[12]);
	CHECK_EQ(get_aux(&r), 1);
	CHECK_EQ(get_aux(&r), 0);
	CHECK(!r.irq[12]);
	CHECK_EQ(r.raises[1], kbd_irqs); /* mouse bytes never on IRQ 1 */
	rig_free(&r);
}

static void test_remote_mode_read_data(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	AUX(&r, 0xf0, ACK); /* remote mode */
	i8042_mouse_event(r.kbc, 10, -4, 0, 0x02);
	i8042_mouse_event(r.kbc, 5, 0, 0, 0x02);
	CHECK_EQ(get(&r), -1); /* nothing streams */
	AUX(&r, 0xe9, ACK, 0x40, 0x02, 100);
	AUX(&r, 0xeb, ACK, 0x0a, 15, 4);
	/* The counters were reset by the read. */
	AUX(&r, 0xeb, ACK, 0x0a, 0, 0);
	AUX(&r, 0xea, ACK); /* back to stream mode, reporting still off */
	i8042_mouse_event(r.kbc, 10, 0, 0, 0);
	CHECK_EQ(get(&r), -1);
	rig_free(&r);
}

static void test_wrap_mode_and_scaling(void)
{
	struct rig r;
	int p[3];

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	AUX(&r, 0xee, ACK);
	AUX(&r, 0x55, 0x55);
	AUX(&r, 0xf4, 0xf4); /* echoed, not obeyed */
	AUX(&r, 0xec, ACK);
	AUX(&r, 0xe9, ACK, 0x00, 0x02, 100);
	AUX(&r, 0xe7, ACK);
	AUX(&r, 0xf4, ACK);
	AUX(&r, 0xe9, ACK, 0x30, 0x02, 100);
	/* 2:1 scaling: 4 counts are reported as 6, 10 as 20. */
	i8042_mouse_event(r.kbc, 4, -10, 0, 0);
	packet(&r, p, 3);
	CHECK_EQ(p[1], 6);
	CHECK_EQ(p[2], 20);
	rig_free(&r);
}

static void test_command_drops_queued_packets(void)
{
	struct rig r;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	AUX(&r, 0xf4, ACK);
	i8042_mouse_event(r.kbc, 1, 0, 0, 0);
	i8042_mouse_event(r.kbc, 2, 0, 0, 0);
	/* One byte is in the output buffer; the guest disables reporting. */
	CHECK_EQ(get_aux(&r), 0x08);
	cmd(&r, 0xd4);
	pio_write(r.pio, DATA, 0xf5, 1);
	/* The byte already in the output buffer stays; the rest of the
	 * old packets are gone: the ACK comes next. */
	CHECK_EQ(get_aux(&r), 0x01);
	CHECK_EQ(get_aux(&r), ACK);
	CHECK_EQ(get(&r), -1);
	i8042_mouse_event(r.kbc, 9, 9, 0, 1);
	CHECK_EQ(get(&r), -1); /* disabled: motion is dropped */
	rig_free(&r);
}

static void test_bounded_queue(void)
{
	struct rig r;
	int p[3], i;
	long sum = 0;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	AUX(&r, 0xf4, ACK);
	/* A flood the guest does not read: the queue keeps whole packets
	 * and the rest of the motion waits, capped. */
	for (i = 0; i < 100000; i++)
		i8042_mouse_event(r.kbc, 100, 0, 0, 0);
	i8042_mouse_event(r.kbc, 0x7fffffff, -0x7fffffff, 1000, 0);
	for (i = 0; i < 2000 && (status(&r) & STS_OBF); i++) {
		packet(&r, p, 3);
		CHECK(p[0] & 0x08);
		sum += (p[0] & 0x10) ? p[1] - 256 : p[1];
	}
	CHECK_EQ(get(&r), -1);
	/* The capped motion plus the packets that were already queued. */
	CHECK(sum >= 0x10000 && sum <= 0x10000 + (64 / 3) * 255);
	rig_free(&r);
}

static void test_reset_forgets_wheel(void)
{
	struct rig r;
	struct snap_writer w;
	struct snap_reader rd;

	rig_init(&r);
	set_cb(&r, CB_INT | CB_INT2 | CB_SYS | CB_XLATE);
	AUX(&r, 0xf3, ACK);
	AUX(&r, 200, ACK);
	AUX(&r, 0xf3, ACK);
	AUX(&r, 100, ACK);
	AUX(&r, 0xf3, ACK);
	AUX(&r, 80, ACK);
	AUX(&r, 0xf6, ACK); /* defaults keep the id */
	AUX(&r, 0xf2, ACK, 0x03);
	/* The id survives a snapshot. */
	snap_writer_init(&w);
	CHECK_EQ(r.dev.ops->save(r.dev.opaque, &w), 0);
	AUX(&r, 0xff, ACK, 0xaa, 0x00);
	AUX(&r, 0xf2, ACK, 0x00);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(r.dev.ops->load(r.dev.opaque, &rd), 0);
	AUX(&r, 0xf2, ACK, 0x03);
	snap_writer_free(&w);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_linux_init_and_wheel_packets);
	RUN_TEST(test_standard_packets_split_large_moves);
	RUN_TEST(test_irq12_and_aux_port_bits);
	RUN_TEST(test_remote_mode_read_data);
	RUN_TEST(test_wrap_mode_and_scaling);
	RUN_TEST(test_command_drops_queued_packets);
	RUN_TEST(test_bounded_queue);
	RUN_TEST(test_reset_forgets_wheel);
	return unit_summary();
}

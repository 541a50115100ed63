// SPDX-License-Identifier: MIT
/*
 * The 16550 driven through its ports as Linux's 8250 driver drives it,
 * with expectations from the PC16550D datasheet: register reset values,
 * divisor latch, loopback probe, FIFO trigger levels, character timeout,
 * interrupt priorities (Table IV), THRE interrupt rules, OUT2 gating,
 * reception through a fake backend, save/load and hostile accesses.
 */
#include <stdlib.h>

#include "core/clock.h"
#include "hw/uart16550.h"
#include "unit.h"

#define BASE 0x3f8
#define RBR (BASE + 0)
#define THR (BASE + 0)
#define DLL (BASE + 0)
#define IER (BASE + 1)
#define DLM (BASE + 1)
#define IIR (BASE + 2)
#define FCR (BASE + 2)
#define LCR (BASE + 3)
#define MCR (BASE + 4)
#define LSR (BASE + 5)
#define MSR (BASE + 6)
#define SCR (BASE + 7)

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

struct fake_backend {
	struct chardev cd;
	u8 out[256];
	size_t out_len;
	unsigned accept_calls;
};

static size_t fake_write(struct chardev *cd, const u8 *buf, size_t len)
{
	struct fake_backend *f = container_of(cd, struct fake_backend, cd);
	size_t n = MIN(len, sizeof(f->out) - f->out_len);

	memcpy(f->out + f->out_len, buf, n);
	f->out_len += n;
	return len;
}

static void fake_accept_input(struct chardev *cd)
{
	container_of(cd, struct fake_backend, cd)->accept_calls++;
}

static void fake_close(struct chardev *cd)
{
}

static const struct chardev_ops fake_ops = {
	.write = fake_write,
	.close = fake_close,
	.accept_input = fake_accept_input,
};

struct rig {
	struct pio_bus *pio;
	struct timer_list timers;
	struct fake_backend be;
	struct uart16550 *uart;
	struct device dev;
	bool irq;
	unsigned irq_raises;
};

static void rig_irq(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	CHECK_EQ(pin, 4);
	if (level && !r->irq)
		r->irq_raises++;
	r->irq = level;
}

static void rig_init(struct rig *r)
{
	struct irq_line irq = {rig_irq, r, 4};

	memset(r, 0, sizeof(*r));
	r->pio = pio_bus_new();
	r->be.cd.ops = &fake_ops;
	r->be.cd.in_fd = -1;
	r->be.cd.out_fd = -1;
	r->uart = uart16550_create(r->pio, BASE, irq, &r->timers, &r->be.cd);
	CHECK(r->uart != NULL);
	r->dev = uart16550_device(r->uart);
}

static void rig_free(struct rig *r)
{
	r->dev.ops->destroy(r->dev.opaque);
	/* Destroy detaches the device from its backend. */
	CHECK(r->be.cd.rx.receive == NULL);
	/* pio_bus_free reads multi-port ranges after freeing them. */
	pio_unregister(r->pio, BASE);
	pio_bus_free(r->pio);
}

static u8 in(struct rig *r, u16 port)
{
	return (u8)pio_read(r->pio, port, 1);
}

static void out(struct rig *r, u16 port, u8 value)
{
	pio_write(r->pio, port, value, 1);
}

static size_t room(struct rig *r)
{
	return r->be.cd.rx.can_receive(r->be.cd.rx.opaque);
}

/* The backend delivers bytes the way a real one does: within room. */
static void feed(struct rig *r, const char *bytes, size_t len)
{
	CHECK(len <= room(r));
	r->be.cd.rx.receive(r->be.cd.rx.opaque, (const u8 *)bytes, len);
}

static void run_timers_after(struct rig *r, u64 ns)
{
	timers_run(&r->timers, clock_now_ns() + ns);
}

static void test_reset_values(void)
{
	struct rig r;

	rig_init(&r);
	CHECK_EQ(in(&r, IER), 0x00);
	CHECK_EQ(in(&r, IIR), 0x01);
	CHECK_EQ(in(&r, LCR), 0x00);
	CHECK_EQ(in(&r, MCR), 0x00);
	CHECK_EQ(in(&r, LSR), 0x60);
	/* Not in loopback: a terminal with DCD, DSR and CTS up. */
	CHECK_EQ(in(&r, MSR), 0xb0);
	CHECK(!r.irq);
	rig_free(&r);
}

static void test_divisor_latch(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, LCR, 0x80);
	out(&r, DLL, 0x01);
	out(&r, DLM, 0x02);
	CHECK_EQ(in(&r, DLL), 0x01);
	CHECK_EQ(in(&r, DLM), 0x02);
	CHECK_EQ(r.be.out_len, 0);
	out(&r, LCR, 0x03);
	/* Without DLAB the same offsets are RBR/THR and IER again. */
	CHECK_EQ(in(&r, IER), 0x00);
	out(&r, THR, 'x');
	CHECK_EQ(r.be.out_len, 1);
	out(&r, LCR, 0x83);
	CHECK_EQ(in(&r, DLL), 0x01);
	CHECK_EQ(in(&r, DLM), 0x02);
	rig_free(&r);
}

/* What Linux's 8250 autoconfig does to find and identify the port. */
static void test_linux_probe(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, IER, 0x00);
	CHECK_EQ(in(&r, IER) & 0x0f, 0x00);
	out(&r, IER, 0x0f);
	CHECK_EQ(in(&r, IER) & 0x0f, 0x0f);
	/* Bit 6 (XScale UUE) must not stick on a real 16550A. */
	out(&r, IER, 0x4f);
	CHECK_EQ(in(&r, IER), 0x0f);
	out(&r, IER, 0x00);

	out(&r, MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
	CHECK_EQ(in(&r, MSR) & 0xf0, 0x90);
	out(&r, MCR, 0x00);

	out(&r, FCR, 0x01);
	CHECK_EQ(in(&r, IIR) >> 6, 3);
	/* No EFR: with LCR 0xBF, offset 2 is still IIR and reads non-zero. */
	out(&r, LCR, 0xbf);
	CHECK(in(&r, IIR) != 0);
	out(&r, LCR, 0x03);
	/* No 64-byte FIFO (16750): IIR bit 5 stays clear. */
	out(&r, FCR, 0x21);
	CHECK_EQ(in(&r, IIR) & 0x20, 0);
	rig_free(&r);
}

static void test_loopback_data(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, IER, 0x0f);
	out(&r, MCR, MCR_LOOP | MCR_OUT2);
	CHECK_EQ(room(&r), 0); /* the serial input is disconnected */
	out(&r, THR, 0x55);
	CHECK_EQ(r.be.out_len, 0);
	CHECK_EQ(in(&r, LSR) & 0x01, 0x01);
	/* Interrupts work internally, but OUT2 is forced off on the pin. */
	CHECK_EQ(in(&r, IIR) & 0x0f, 0x04);
	CHECK(!r.irq);
	CHECK_EQ(in(&r, RBR), 0x55);
	CHECK_EQ(in(&r, LSR) & 0x01, 0x00);
	rig_free(&r);
}

static void test_loopback_modem_lines(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, MCR, MCR_LOOP);
	/* DCD, DSR, CTS fell when loopback disconnected the inputs. */
	CHECK_EQ(in(&r, MSR), 0x0b);
	CHECK_EQ(in(&r, MSR), 0x00);
	out(&r, MCR, MCR_LOOP | MCR_DTR);
	CHECK_EQ(in(&r, MSR), 0x22);
	out(&r, MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
	CHECK_EQ(in(&r, MSR), 0x31);
	out(&r, MCR, MCR_LOOP | MCR_OUT1);
	CHECK_EQ(in(&r, MSR), 0x43);
	/* RI: only its trailing edge sets TERI. */
	out(&r, MCR, MCR_LOOP | MCR_OUT2);
	CHECK_EQ(in(&r, MSR), 0x8c);
	out(&r, MCR, MCR_OUT2);
	CHECK_EQ(in(&r, MSR), 0xb3);
	rig_free(&r);
}

static void test_transmit(void)
{
	struct rig r;
	const char *msg = "Linux version";
	size_t i;

	rig_init(&r);
	out(&r, LCR, 0x03);
	for (i = 0; msg[i]; i++) {
		CHECK_EQ(in(&r, LSR) & 0x60, 0x60);
		out(&r, THR, (u8)msg[i]);
	}
	CHECK_EQ(r.be.out_len, strlen(msg));
	CHECK(!memcmp(r.be.out, msg, strlen(msg)));
	rig_free(&r);
}

static void test_no_backend(void)
{
	struct pio_bus *pio = pio_bus_new();
	struct timer_list timers = {0};
	struct irq_line irq = {0};
	struct uart16550 *u = uart16550_create(pio, BASE, irq, &timers, NULL);
	struct device dev = uart16550_device(u);

	CHECK(u != NULL);
	pio_write(pio, THR, 'a', 1);
	CHECK_EQ(pio_read(pio, LSR, 1), 0x60);
	dev.ops->destroy(dev.opaque);
	pio_unregister(pio, BASE);
	pio_bus_free(pio);
}

static void test_thre_interrupt(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, MCR, MCR_OUT2);
	CHECK(!r.irq);
	/* Enabling ETBEI while THR is empty raises the interrupt. */
	out(&r, IER, 0x02);
	CHECK(r.irq);
	CHECK_EQ(in(&r, IIR), 0x02);
	/* Reading IIR while THRE is the source clears it. */
	CHECK(!r.irq);
	CHECK_EQ(in(&r, IIR), 0x01);
	/* Linux's THRE test: disable, re-enable, and it must come back. */
	out(&r, IER, 0x00);
	out(&r, IER, 0x02);
	CHECK(r.irq);
	CHECK_EQ(in(&r, IIR), 0x02);
	/* Rewriting ETBEI as 1 is no transition. */
	out(&r, IER, 0x02);
	CHECK_EQ(in(&r, IIR), 0x01);
	/* Each byte sent leaves THR empty again: another interrupt. */
	out(&r, THR, 'a');
	CHECK(r.irq);
	CHECK_EQ(r.irq_raises, 3);
	out(&r, IER, 0x00);
	CHECK(!r.irq);
	rig_free(&r);
}

static void test_out2_gates_irq(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, IER, 0x02);
	CHECK(!r.irq);
	CHECK_EQ(in(&r, IIR), 0x02);
	out(&r, IER, 0x00);
	out(&r, IER, 0x02);
	out(&r, MCR, MCR_OUT2);
	CHECK(r.irq);
	out(&r, MCR, MCR_DTR | MCR_RTS);
	CHECK(!r.irq);
	rig_free(&r);
}

static void test_rx_fifo_trigger(void)
{
	struct rig r;
	unsigned accepted;
	int i;

	rig_init(&r);
	out(&r, FCR, 0x87); /* enable, clear both, trigger level 8 */
	out(&r, IER, 0x01);
	out(&r, MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	CHECK_EQ(room(&r), 16);
	feed(&r, "abcdefg", 7);
	CHECK_EQ(room(&r), 9);
	CHECK_EQ(in(&r, LSR) & 0x01, 0x01);
	CHECK_EQ(in(&r, IIR), 0xc1);
	CHECK(!r.irq);
	feed(&r, "h", 1);
	CHECK(r.irq);
	CHECK_EQ(in(&r, IIR), 0xc4);
	accepted = r.be.accept_calls;
	CHECK_EQ(in(&r, RBR), 'a');
	/* Below the trigger level again; the backend may send more. */
	CHECK(!r.irq);
	CHECK(r.be.accept_calls > accepted);
	for (i = 1; i < 8; i++)
		CHECK_EQ(in(&r, RBR), 'a' + i);
	CHECK_EQ(in(&r, LSR) & 0x01, 0x00);
	CHECK_EQ(room(&r), 16);
	rig_free(&r);
}

static void test_trigger_levels(void)
{
	static const u8 fcr[4] = {0x01, 0x41, 0x81, 0xc1};
	static const unsigned level[4] = {1, 4, 8, 14};
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct rig r;
		char bytes[16] = "0123456789abcdef";

		rig_init(&r);
		out(&r, FCR, fcr[i]);
		out(&r, IER, 0x01);
		out(&r, MCR, MCR_OUT2);
		feed(&r, bytes, level[i] - 1);
		CHECK(!r.irq);
		feed(&r, bytes, 1);
		CHECK(r.irq);
		rig_free(&r);
	}
}

static void test_non_fifo_mode(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, IER, 0x01);
	out(&r, MCR, MCR_OUT2);
	CHECK_EQ(room(&r), 1);
	feed(&r, "x", 1);
	CHECK_EQ(room(&r), 0);
	CHECK(r.irq);
	CHECK_EQ(in(&r, IIR), 0x04);
	CHECK_EQ(in(&r, RBR), 'x');
	CHECK(!r.irq);
	CHECK_EQ(room(&r), 1);
	rig_free(&r);
}

static void test_char_timeout(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, LCR, 0x80);
	out(&r, DLL, 1); /* 115200 baud: a character is about 87 us */
	out(&r, DLM, 0);
	out(&r, LCR, 0x03);
	out(&r, FCR, 0xc1); /* trigger level 14 */
	out(&r, IER, 0x01);
	out(&r, MCR, MCR_OUT2);
	feed(&r, "abc", 3);
	CHECK(!r.irq);
	run_timers_after(&r, 10 * NSEC_PER_USEC);
	CHECK(!r.irq);
	run_timers_after(&r, NSEC_PER_SEC);
	CHECK(r.irq);
	CHECK_EQ(in(&r, IIR), 0xcc);
	/* Reading a character clears the timeout and restarts the timer. */
	CHECK_EQ(in(&r, RBR), 'a');
	CHECK(!r.irq);
	CHECK_EQ(in(&r, IIR), 0xc1);
	run_timers_after(&r, NSEC_PER_SEC);
	CHECK_EQ(in(&r, IIR), 0xcc);
	CHECK_EQ(in(&r, RBR), 'b');
	CHECK_EQ(in(&r, RBR), 'c');
	run_timers_after(&r, NSEC_PER_SEC);
	/* An empty FIFO never times out. */
	CHECK_EQ(in(&r, IIR), 0xc1);
	CHECK(!r.irq);
	rig_free(&r);
}

/* Table IV: line status > received data > timeout > THRE > modem. */
static void test_iir_priorities(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, IER, 0x0f);
	CHECK_EQ(in(&r, IIR), 0x02);
	/* FIFOs off, loopback: a second byte overruns the first. */
	out(&r, MCR, MCR_LOOP | MCR_DTR);
	out(&r, THR, 1);
	out(&r, THR, 2);
	CHECK_EQ(in(&r, IIR), 0x06);
	CHECK_EQ(in(&r, LSR), 0x63); /* THRE, TEMT, OE, DR */
	CHECK_EQ(in(&r, IIR), 0x04);
	CHECK_EQ(in(&r, RBR), 2);
	CHECK_EQ(in(&r, IIR), 0x02);
	CHECK_EQ(in(&r, IIR), 0x00);
	CHECK_EQ(in(&r, MSR), 0x29); /* DSR held by DTR; CTS, DCD fell */
	CHECK_EQ(in(&r, IIR), 0x01);
	rig_free(&r);
}

static void test_fifo_overrun_and_clear(void)
{
	struct rig r;
	int i;

	rig_init(&r);
	out(&r, FCR, 0x01);
	out(&r, MCR, MCR_LOOP);
	for (i = 0; i < 17; i++)
		out(&r, THR, (u8)i);
	CHECK_EQ(in(&r, LSR), 0x63);
	CHECK_EQ(in(&r, LSR), 0x61); /* OE clears when read */
	for (i = 0; i < 16; i++)
		CHECK_EQ(in(&r, RBR), i);
	CHECK_EQ(in(&r, LSR), 0x60);
	out(&r, THR, 0xaa);
	out(&r, FCR, 0x03); /* clear the receiver FIFO */
	CHECK_EQ(in(&r, LSR), 0x60);
	out(&r, THR, 0xbb);
	out(&r, FCR, 0x00); /* leaving FIFO mode empties it too */
	CHECK_EQ(in(&r, LSR), 0x60);
	CHECK_EQ(in(&r, IIR), 0x01);
	rig_free(&r);
}

static void test_save_load(void)
{
	struct rig a, b;
	struct snap_writer w;
	struct snap_reader rd;

	rig_init(&a);
	out(&a, LCR, 0x80);
	out(&a, DLL, 3);
	out(&a, LCR, 0x1b);
	out(&a, FCR, 0x81);
	out(&a, IER, 0x05);
	out(&a, MCR, MCR_OUT2 | MCR_DTR);
	out(&a, SCR, 0x5a);
	feed(&a, "hello", 5);
	snap_writer_init(&w);
	CHECK_EQ(a.dev.ops->save(a.dev.opaque, &w), 0);

	rig_init(&b);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(b.dev.ops->load(b.dev.opaque, &rd), 0);
	CHECK_EQ(in(&b, LCR), 0x1b);
	CHECK_EQ(in(&b, IER), 0x05);
	CHECK_EQ(in(&b, MCR), MCR_OUT2 | MCR_DTR);
	CHECK_EQ(in(&b, SCR), 0x5a);
	CHECK_EQ(in(&b, IIR), 0xc1);
	CHECK_EQ(room(&b), 11);
	CHECK_EQ(in(&b, RBR), 'h');
	CHECK_EQ(in(&b, RBR), 'e');
	out(&b, LCR, 0x9b);
	CHECK_EQ(in(&b, DLL), 3);
	snap_writer_free(&w);

	/* A corrupt snapshot (FIFO count out of range) is refused. */
	snap_writer_init(&w);
	CHECK_EQ(a.dev.ops->save(a.dev.opaque, &w), 0);
	/* The state ends with rx_count, rx_fifo[16] and two flags. */
	w.buf[w.len - 2 - 16 - 1] = 0xff;
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(b.dev.ops->load(b.dev.opaque, &rd) < 0);
	snap_writer_free(&w);
	rig_free(&a);
	rig_free(&b);
}

static void test_reset(void)
{
	struct rig r;

	rig_init(&r);
	out(&r, IER, 0x0f);
	out(&r, MCR, MCR_OUT2);
	out(&r, FCR, 0x01);
	feed(&r, "xy", 2);
	CHECK(r.irq);
	r.dev.ops->reset(r.dev.opaque);
	CHECK(!r.irq);
	CHECK_EQ(in(&r, LSR), 0x60);
	CHECK_EQ(in(&r, IIR), 0x01);
	CHECK_EQ(room(&r), 1);
	rig_free(&r);
}

static void test_hostile_accesses(void)
{
	struct rig r;
	unsigned i;

	rig_init(&r);
	srand(1234);
	for (i = 0; i < 100000; i++) {
		u16 port = (u16)(BASE + (unsigned)rand() % 8);
		unsigned op = (unsigned)rand() % 8;

		if (op < 4) {
			out(&r, port, (u8)rand());
		} else if (op < 7) {
			in(&r, port);
		} else if (room(&r)) {
			char b = (char)rand();

			CHECK(room(&r) <= 16);
			feed(&r, &b, 1);
		}
		if (!(i % 1000))
			run_timers_after(&r, NSEC_PER_SEC * 60);
	}
	r.dev.ops->reset(r.dev.opaque);
	CHECK_EQ(in(&r, LSR), 0x60);
	rig_free(&r);
}

/* A host serial line behind the UART: line settings and modem lines. */
static struct chardev_line line_seen;
static unsigned modem_out, line_calls;
static int modem_in;

static void line_set(struct chardev *cd, const struct chardev_line *l)
{
	line_seen = *l;
	line_calls++;
}

static void line_modem(struct chardev *cd, unsigned out)
{
	modem_out = out;
}

static int line_get_modem(struct chardev *cd)
{
	return modem_in;
}

static const struct chardev_ops line_ops = {
	.write = fake_write,
	.close = fake_close,
	.accept_input = fake_accept_input,
	.set_line = line_set,
	.set_modem = line_modem,
	.get_modem = line_get_modem,
};

static void test_host_line(void)
{
	struct rig r;

	modem_in = CHARDEV_CTS | CHARDEV_DSR;
	rig_init(&r);
	r.dev.ops->destroy(r.dev.opaque);
	pio_unregister(r.pio, BASE);
	r.be.cd.ops = &line_ops;
	r.uart =
		uart16550_create(r.pio, BASE, (struct irq_line){rig_irq, &r, 4},
				 &r.timers, &r.be.cd);
	r.dev = uart16550_device(r.uart);
	/* 9600 baud (divisor 12), 7 data bits, odd parity, 2 stop bits. */
	pio_write(r.pio, BASE + 3, 0x80, 1);
	pio_write(r.pio, BASE + 0, 12, 1);
	pio_write(r.pio, BASE + 1, 0, 1);
	pio_write(r.pio, BASE + 3, 0x0e, 1);
	CHECK_EQ(line_seen.baud, 9600);
	CHECK_EQ(line_seen.data_bits, 7);
	CHECK_EQ(line_seen.parity, 'o');
	CHECK_EQ(line_seen.stop_bits, 2);
	CHECK(!line_seen.brk);
	pio_write(r.pio, BASE + 3, 0x7b, 1); /* 8 bits, stick even: space */
	CHECK_EQ(line_seen.parity, 's');
	CHECK(line_seen.brk);
	/* DTR and RTS reach the host; the host's CTS/DSR reach MSR. */
	pio_write(r.pio, BASE + 4, 0x0b, 1);
	CHECK_EQ(modem_out, CHARDEV_DTR | CHARDEV_RTS);
	CHECK_EQ(pio_read(r.pio, BASE + 6, 1), 0x30);
	modem_in = CHARDEV_CTS | CHARDEV_DCD;
	/* DSR fell, DCD rose: delta bits DDSR and DDCD. */
	CHECK_EQ(pio_read(r.pio, BASE + 6, 1), 0x90 | 0x02 | 0x08);
	CHECK_EQ(pio_read(r.pio, BASE + 6, 1), 0x90);
	CHECK(line_calls >= 4);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_reset_values);
	RUN_TEST(test_divisor_latch);
	RUN_TEST(test_linux_probe);
	RUN_TEST(test_loopback_data);
	RUN_TEST(test_loopback_modem_lines);
	RUN_TEST(test_transmit);
	RUN_TEST(test_no_backend);
	RUN_TEST(test_thre_interrupt);
	RUN_TEST(test_out2_gates_irq);
	RUN_TEST(test_rx_fifo_trigger);
	RUN_TEST(test_trigger_levels);
	RUN_TEST(test_non_fifo_mode);
	RUN_TEST(test_char_timeout);
	RUN_TEST(test_iir_priorities);
	RUN_TEST(test_fifo_overrun_and_clear);
	RUN_TEST(test_save_load);
	RUN_TEST(test_reset);
	RUN_TEST(test_hostile_accesses);
	RUN_TEST(test_host_line);
	return unit_summary();
}

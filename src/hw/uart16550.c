// SPDX-License-Identifier: MIT
/*
 * National Semiconductor PC16550D UART. Section and table numbers refer to
 * the PC16550D datasheet (June 1995): 8.4 FCR, 8.5 LCR, 8.6 IIR and
 * Table IV (interrupt priorities), 8.7 IER, 8.8 MCR (loopback), 8.9 LSR,
 * 8.10 MSR.
 *
 * Transmission takes no time: a byte written to THR goes to the backend at
 * once, so THR and the shift register are empty again by the next guest
 * access. THRE and TEMT therefore always read 1, and every THR write ends
 * with a THR-empty interrupt condition, exactly as a real UART that has
 * finished sending. Reception is paced by the backend, which offers bytes
 * only while the receiver FIFO has room for them.
 *
 * On PCs the OUT2 output gates the UART's interrupt onto the ISA bus, so
 * the IRQ line is driven only while MCR.OUT2 is set and loopback is off
 * (loopback forces the outputs inactive, 8.8 bit 4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "hw/uart16550.h"

#define UART_NPORTS 8
#define UART_FIFO_SIZE 16
#define UART_SNAP_VERSION 1
/* 1.8432 MHz crystal, 16 clocks per bit: divisor 1 is 115200 baud. */
#define UART_BASE_BAUD 115200
#define UART_TIMEOUT_CHARS 4 /* 8.6: character timeout */

enum uart_reg {
	UART_RBR = 0, /* THR on write, DLL with DLAB */
	UART_IER = 1, /* DLM with DLAB */
	UART_IIR = 2, /* FCR on write */
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_ERBFI BIT(0) /* received data available */
#define IER_ETBEI BIT(1) /* THR empty */
#define IER_ELSI BIT(2)	 /* receiver line status */
#define IER_EDSSI BIT(3) /* modem status */
#define IER_MASK 0x0f

#define IIR_NONE 0x01
#define IIR_MODEM 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_LINE 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE BIT(0)
#define FCR_CLEAR_RX BIT(1)
#define FCR_DMA BIT(3)
#define FCR_TRIGGER 0xc0

#define LCR_WORD_LEN 0x03
#define LCR_STOP_BITS BIT(2)
#define LCR_PARITY BIT(3)
#define LCR_DLAB BIT(7)

#define MCR_DTR BIT(0)
#define MCR_RTS BIT(1)
#define MCR_OUT1 BIT(2)
#define MCR_OUT2 BIT(3)
#define MCR_LOOP BIT(4)
#define MCR_MASK 0x1f

#define LSR_DR BIT(0)
#define LSR_OE BIT(1)
#define LSR_ERRORS 0x1e /* OE, PE, FE, BI */
#define LSR_THRE BIT(5)
#define LSR_TEMT BIT(6)

#define MSR_DCTS BIT(0)
#define MSR_DDSR BIT(1)
#define MSR_TERI BIT(2)
#define MSR_DDCD BIT(3)
#define MSR_DELTAS 0x0f
#define MSR_CTS BIT(4)
#define MSR_DSR BIT(5)
#define MSR_RI BIT(6)
#define MSR_DCD BIT(7)

/* Guest-visible state, saved as is. */
struct uart_state {
	u8 ier, lcr, mcr, fcr, scr;
	u8 dll, dlm;
	u8 lsr_errors; /* LSR bits 1-4, cleared by reading LSR */
	u8 msr_deltas; /* MSR bits 0-3, cleared by reading MSR */
	u8 rbr; /* last byte read: what RBR shows when the FIFO is empty */
	u8 rx_head, rx_count;
	u8 rx_fifo[UART_FIFO_SIZE];
	bool thre_pending;    /* THR-empty interrupt condition (8.6) */
	bool timeout_pending; /* character timeout indication (8.6) */
};

struct uart16550 {
	struct uart_state s;
	struct irq_line irq;
	bool irq_level;
	struct chardev *backend;
	struct timer rx_timer;
	char snap_name[16];
	/* A host serial line's modem inputs as last seen (MSR deltas). */
	int host_inputs;
};

static bool uart_fifo_on(const struct uart16550 *u)
{
	return u->s.fcr & FCR_ENABLE;
}

static unsigned uart_rx_trigger(const struct uart16550 *u)
{
	static const u8 levels[4] = {1, 4, 8, 14};

	return uart_fifo_on(u) ? levels[u->s.fcr >> 6] : 1;
}

static unsigned uart_rx_capacity(const struct uart16550 *u)
{
	return uart_fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* 8.8: in loopback the modem inputs are wired to the modem outputs. */
static u8 uart_modem_inputs(const struct uart16550 *u)
{
	u8 mcr = u->s.mcr;
	u8 in = 0;

	/*
	 * Outside loopback: a host serial line's inputs (CHARDEV_CTS.. are
	 * MSR bits 4-7), else a terminal that is connected and ready.
	 */
	if (!(mcr & MCR_LOOP))
		return u->host_inputs >= 0 ? (u8)u->host_inputs :
					     MSR_DCD | MSR_DSR | MSR_CTS;
	if (mcr & MCR_RTS)
		in |= MSR_CTS;
	if (mcr & MCR_DTR)
		in |= MSR_DSR;
	if (mcr & MCR_OUT1)
		in |= MSR_RI;
	if (mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

/* Table IV: the highest-priority pending interrupt, as IIR shows it. */
static u8 uart_interrupt_id(const struct uart16550 *u)
{
	const struct uart_state *s = &u->s;

	if ((s->ier & IER_ELSI) && s->lsr_errors)
		return IIR_LINE;
	if ((s->ier & IER_ERBFI) && s->rx_count >= uart_rx_trigger(u))
		return IIR_RDA;
	if ((s->ier & IER_ERBFI) && s->timeout_pending)
		return IIR_TIMEOUT;
	if ((s->ier & IER_ETBEI) && s->thre_pending)
		return IIR_THRE;
	if ((s->ier & IER_EDSSI) && s->msr_deltas)
		return IIR_MODEM;
	return IIR_NONE;
}

static bool uart_irq_wanted(const struct uart16550 *u)
{
	bool gate = (u->s.mcr & MCR_OUT2) && !(u->s.mcr & MCR_LOOP);

	return gate && uart_interrupt_id(u) != IIR_NONE;
}

static void uart_update_irq(struct uart16550 *u)
{
	bool level = uart_irq_wanted(u);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	irq_set(&u->irq, level);
}

static u64 uart_char_time_ns(const struct uart16550 *u)
{
	u8 lcr = u->s.lcr;
	unsigned divisor = u->s.dll | u->s.dlm << 8;
	/* Start bit, 5-8 data bits, parity, 1 or 2 stop bits. */
	unsigned bits = 1 + 5 + (lcr & LCR_WORD_LEN) + !!(lcr & LCR_PARITY) +
			1 + !!(lcr & LCR_STOP_BITS);

	if (!divisor)
		divisor = 1;
	return muldiv64((u64)bits * divisor, NSEC_PER_SEC, UART_BASE_BAUD);
}

/*
 * 8.6: the timeout fires when characters have sat in the receiver FIFO
 * for four character times with no character received or read.
 */
static void uart_rx_timer_restart(struct uart16550 *u)
{
	if (!uart_fifo_on(u) || !u->s.rx_count) {
		timer_cancel(&u->rx_timer);
		return;
	}
	timer_arm(&u->rx_timer,
		  clock_guest_ns() + UART_TIMEOUT_CHARS * uart_char_time_ns(u));
}

static void uart_rx_timeout(void *opaque)
{
	struct uart16550 *u = opaque;

	if (uart_fifo_on(u) && u->s.rx_count) {
		u->s.timeout_pending = true;
		uart_update_irq(u);
	}
}

static void uart_rx_clear(struct uart16550 *u)
{
	u->s.rx_head = 0;
	u->s.rx_count = 0;
	u->s.timeout_pending = false;
	timer_cancel(&u->rx_timer);
}

/* One character arrives in the receiver (8.9 LSR bit 1 on overrun). */
static void uart_rx_push(struct uart16550 *u, u8 byte)
{
	struct uart_state *s = &u->s;

	if (!uart_fifo_on(u) && s->rx_count) {
		/* 16450 mode: the new character overwrites the unread one. */
		s->rx_fifo[s->rx_head] = byte;
		s->lsr_errors |= LSR_OE;
	} else if (s->rx_count == UART_FIFO_SIZE) {
		/* FIFO full: the character in the shift register is lost. */
		s->lsr_errors |= LSR_OE;
	} else {
		s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = byte;
		s->rx_count++;
	}
	if (!s->timeout_pending)
		uart_rx_timer_restart(u);
}

static size_t uart_can_receive(void *opaque)
{
	struct uart16550 *u = opaque;

	/* 8.8: loopback disconnects the serial input. */
	if (u->s.mcr & MCR_LOOP)
		return 0;
	return uart_rx_capacity(u) - MIN(u->s.rx_count, uart_rx_capacity(u));
}

static void uart_receive(void *opaque, const u8 *buf, size_t len)
{
	struct uart16550 *u = opaque;
	size_t i;

	if (u->s.mcr & MCR_LOOP)
		return;
	for (i = 0; i < len; i++)
		uart_rx_push(u, buf[i]);
	uart_update_irq(u);
}

static u8 uart_read_rbr(struct uart16550 *u)
{
	struct uart_state *s = &u->s;

	if (s->rx_count) {
		s->rbr = s->rx_fifo[s->rx_head];
		s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
		s->rx_count--;
	}
	s->timeout_pending = false;
	uart_rx_timer_restart(u);
	uart_update_irq(u);
	chardev_accept_input(u->backend);
	return s->rbr;
}

static u8 uart_read_iir(struct uart16550 *u)
{
	u8 id = uart_interrupt_id(u);

	/* 8.6: reading IIR clears a THRE interrupt it reports. */
	if (id == IIR_THRE) {
		u->s.thre_pending = false;
		uart_update_irq(u);
	}
	return id | (uart_fifo_on(u) ? IIR_FIFO_ON : 0);
}

static u8 uart_read_lsr(struct uart16550 *u)
{
	u8 lsr = u->s.lsr_errors | LSR_THRE | LSR_TEMT;

	if (u->s.rx_count)
		lsr |= LSR_DR;
	u->s.lsr_errors = 0;
	uart_update_irq(u);
	return lsr;
}

/* Poll a host line's modem inputs; changes set the delta bits (8.10). */
static void uart_poll_host_inputs(struct uart16550 *u)
{
	int now = chardev_get_modem(u->backend), changed;

	if (now < 0 || u->host_inputs < 0 || (u->s.mcr & MCR_LOOP)) {
		u->host_inputs = now;
		return;
	}
	changed = now ^ u->host_inputs;
	if (changed & MSR_CTS)
		u->s.msr_deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->s.msr_deltas |= MSR_DDSR;
	if ((u->host_inputs & MSR_RI) && !(now & MSR_RI))
		u->s.msr_deltas |= MSR_TERI;
	if (changed & MSR_DCD)
		u->s.msr_deltas |= MSR_DDCD;
	u->host_inputs = now;
}

/* The guest changed the divisor or LCR: a host serial line follows. */
static void uart_line_changed(struct uart16550 *u)
{
	static const char parities[8] = {'n', 'o', 'n', 'e',
					 'n', 'm', 'n', 's'};
	unsigned divisor = u->s.dll | u->s.dlm << 8;
	struct chardev_line l;

	if (!divisor)
		return;
	l.baud = 115200 / divisor;
	l.data_bits = (u8)(5 + (u->s.lcr & LCR_WORD_LEN));
	/* LCR bits 5:3: parity enable, even, stick (table 1). */
	l.parity = parities[(u->s.lcr >> 3) & 7];
	l.stop_bits = u->s.lcr & LCR_STOP_BITS ? 2 : 1;
	l.brk = u->s.lcr & 0x40;
	chardev_set_line(u->backend, &l);
}

static u8 uart_read_msr(struct uart16550 *u)
{
	u8 msr;

	uart_poll_host_inputs(u);
	msr = u->s.msr_deltas | uart_modem_inputs(u);
	u->s.msr_deltas = 0;
	uart_update_irq(u);
	return msr;
}

static u32 uart_read(void *opaque, u16 offset, unsigned size)
{
	struct uart16550 *u = opaque;
	bool dlab = u->s.lcr & LCR_DLAB;

	switch (offset) {
	case UART_RBR:
		return dlab ? u->s.dll : uart_read_rbr(u);
	case UART_IER:
		return dlab ? u->s.dlm : u->s.ier;
	case UART_IIR:
		return uart_read_iir(u);
	case UART_LCR:
		return u->s.lcr;
	case UART_MCR:
		return u->s.mcr;
	case UART_LSR:
		return uart_read_lsr(u);
	case UART_MSR:
		return uart_read_msr(u);
	case UART_SCR:
		return u->s.scr;
	}
	return 0xff;
}

static void uart_write_thr(struct uart16550 *u, u8 byte)
{
	if (u->s.mcr & MCR_LOOP)
		uart_rx_push(u, byte);
	else if (u->backend)
		chardev_write(u->backend, &byte, 1);
	/* Sent at once: THR is empty again (8.6, THRE source). */
	u->s.thre_pending = true;
	uart_update_irq(u);
}

static void uart_write_ier(struct uart16550 *u, u8 value)
{
	bool etbei_rises = !(u->s.ier & IER_ETBEI) && (value & IER_ETBEI);

	u->s.ier = value & IER_MASK;
	/* Enabling the THRE interrupt while THR is empty raises it. */
	if (etbei_rises)
		u->s.thre_pending = true;
	uart_update_irq(u);
}

/*
 * 8.4: FCR bit 0 enables the FIFOs; switching it either way empties them,
 * and the other bits are taken only when bit 0 is written as 1. The
 * transmitter FIFO is always empty here, so its reset bit has no effect.
 */
static void uart_write_fcr(struct uart16550 *u, u8 value)
{
	bool was_on = uart_fifo_on(u);
	bool on = value & FCR_ENABLE;

	if (was_on != on || (on && (value & FCR_CLEAR_RX)))
		uart_rx_clear(u);
	u->s.fcr = on ? value & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER) : 0;
	uart_update_irq(u);
	chardev_accept_input(u->backend);
}

/* 8.10: delta bits record changes of the modem inputs since MSR was read. */
static void uart_write_mcr(struct uart16550 *u, u8 value)
{
	u8 before = uart_modem_inputs(u), after, changed;

	u->s.mcr = value & MCR_MASK;
	after = uart_modem_inputs(u);
	changed = before ^ after;
	if (changed & MSR_CTS)
		u->s.msr_deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->s.msr_deltas |= MSR_DDSR;
	if ((before & MSR_RI) && !(after & MSR_RI))
		u->s.msr_deltas |= MSR_TERI;
	if (changed & MSR_DCD)
		u->s.msr_deltas |= MSR_DDCD;
	if (!(u->s.mcr & MCR_LOOP))
		chardev_set_modem(u->backend,
				  (value & MCR_DTR ? CHARDEV_DTR : 0) |
					  (value & MCR_RTS ? CHARDEV_RTS : 0));
	uart_update_irq(u);
	chardev_accept_input(u->backend);
}

static void uart_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct uart16550 *u = opaque;
	bool dlab = u->s.lcr & LCR_DLAB;
	u8 v = (u8)value;

	switch (offset) {
	case UART_RBR:
		if (dlab) {
			u->s.dll = v;
			uart_line_changed(u);
		} else
			uart_write_thr(u, v);
		break;
	case UART_IER:
		if (dlab) {
			u->s.dlm = v;
			uart_line_changed(u);
		} else
			uart_write_ier(u, v);
		break;
	case UART_IIR:
		uart_write_fcr(u, v);
		break;
	case UART_LCR:
		u->s.lcr = v;
		uart_line_changed(u);
		break;
	case UART_MCR:
		uart_write_mcr(u, v);
		break;
	case UART_SCR:
		u->s.scr = v;
		break;
	default:
		/* LSR and MSR writes are for factory testing only. */
		log_guest_once("uart16550", "write 0x%02x to read-only reg %u",
			       v, offset);
		break;
	}
}

static const struct pio_ops uart_pio_ops = {
	.name = "uart16550",
	.read = uart_read,
	.write = uart_write,
};

/* Master reset values, datasheet Table V; divisor 12 is 9600 baud. */
static void uart_reset(void *opaque)
{
	struct uart16550 *u = opaque;

	timer_cancel(&u->rx_timer);
	memset(&u->s, 0, sizeof(u->s));
	u->s.dll = 12;
	uart_update_irq(u);
	chardev_accept_input(u->backend);
}

static int uart_save(void *opaque, struct snap_writer *w)
{
	struct uart16550 *u = opaque;

	return snap_put(w, u->snap_name, UART_SNAP_VERSION, &u->s,
			sizeof(u->s));
}

static int uart_load(void *opaque, const struct snap_reader *r)
{
	struct uart16550 *u = opaque;
	struct uart_state s;
	int ret = snap_get(r, u->snap_name, UART_SNAP_VERSION, &s, sizeof(s));

	if (ret < 0)
		return ret;
	if (s.rx_head >= UART_FIFO_SIZE || s.rx_count > UART_FIFO_SIZE ||
	    (!(s.fcr & FCR_ENABLE) && s.rx_count > 1))
		return -EINVAL;
	s.ier &= IER_MASK;
	s.mcr &= MCR_MASK;
	u->s = s;
	uart_rx_timer_restart(u);
	u->irq_level = uart_irq_wanted(u);
	irq_set(&u->irq, u->irq_level);
	chardev_accept_input(u->backend);
	return 0;
}

static void uart_destroy(void *opaque)
{
	struct uart16550 *u = opaque;

	timer_cancel(&u->rx_timer);
	chardev_set_receiver(u->backend, NULL);
	free(u);
}

static const struct device_ops uart_device_ops = {
	.name = "uart16550",
	.reset = uart_reset,
	.save = uart_save,
	.load = uart_load,
	.destroy = uart_destroy,
};

struct device uart16550_device(struct uart16550 *uart)
{
	return (struct device){&uart_device_ops, uart};
}

struct uart16550 *uart16550_create(struct pio_bus *pio, u16 base,
				   struct irq_line irq,
				   struct timer_list *timers,
				   struct chardev *backend)
{
	struct uart16550 *u = calloc(1, sizeof(*u));
	struct chardev_receiver rx = {uart_can_receive, uart_receive, u};

	if (!u)
		return NULL;
	u->irq = irq;
	u->backend = backend;
	snprintf(u->snap_name, sizeof(u->snap_name), "uart@%x", base);
	u->host_inputs = chardev_get_modem(backend);
	timer_init_guest(&u->rx_timer, timers, uart_rx_timeout, u);
	if (pio_register(pio, base, UART_NPORTS, &uart_pio_ops, u) < 0) {
		log_error("uart16550", "ports 0x%x-0x%x are already taken",
			  base, base + UART_NPORTS - 1);
		free(u);
		return NULL;
	}
	uart_reset(u);
	chardev_set_receiver(backend, &rx);
	return u;
}

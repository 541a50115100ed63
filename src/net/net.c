// SPDX-License-Identifier: MIT
/*
 * The card side of a net port (net/net.h): thin wrappers that keep the
 * rules in one place. A port whose back end failed is a cable pulled out:
 * frames are dropped both ways and nothing else happens. A capture on the
 * port sees every frame the card sends and every frame the card takes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "net/net.h"
#include "net/pcap.h"

void net_port_set_receiver(struct net_port *port, const struct net_receiver *rx)
{
	if (rx)
		port->rx = *rx;
	else
		port->rx = (struct net_receiver){0};
}

void net_port_send(struct net_port *port, const u8 *frame, size_t len)
{
	if (!port || port->link_down || len == 0 || len > NET_MAX_FRAME)
		return;
	if (port->capture)
		pcap_write(port->capture, frame, len);
	port->ops->send(port, frame, len);
	/*
	 * The reply (an ACK, the next segment, a timer the back end just
	 * armed) comes through the event loop: end the slice to let it run,
	 * and keep slices short while traffic flows.
	 */
	evloop_busy(port->loop, clock_now_ns() + NET_BUSY_NS);
	evloop_wake(port->loop);
}

void net_port_accept_input(struct net_port *port)
{
	if (port && port->ops->accept_input)
		port->ops->accept_input(port);
}

void net_port_close(struct net_port *port)
{
	struct pcap_writer *capture;

	if (!port)
		return;
	capture = port->capture;
	port->ops->close(port);
	pcap_close(capture);
}

bool net_port_deliver(struct net_port *port, const u8 *frame, size_t len)
{
	u8 padded[NET_MIN_FRAME];

	if (port->link_down || !port->rx.receive || len > NET_MAX_FRAME)
		return false;
	/*
	 * A wire carries no frame shorter than 64 bytes with its FCS; libslirp
	 * builds ARP replies of 42. Pad them, as the sender's MAC would.
	 */
	if (len < NET_MIN_FRAME) {
		memset(padded, 0, sizeof(padded));
		memcpy(padded, frame, len);
		frame = padded;
		len = NET_MIN_FRAME;
	}
	if (port->rx.can_receive && !port->rx.can_receive(port->rx.opaque, len))
		return false;
	if (port->capture)
		pcap_write(port->capture, frame, len);
	port->rx.receive(port->rx.opaque, frame, len);
	evloop_busy(port->loop, clock_now_ns() + NET_BUSY_NS);
	return true;
}

/* The card's own receiver, past can_receive: a frame off the wire. */
static void net_port_force(struct net_port *port, const u8 *frame, size_t len)
{
	u8 padded[NET_MIN_FRAME];

	if (len < NET_MIN_FRAME) {
		memset(padded, 0, sizeof(padded));
		memcpy(padded, frame, len);
		frame = padded;
		len = NET_MIN_FRAME;
	}
	if (port->capture)
		pcap_write(port->capture, frame, len);
	port->rx.receive(port->rx.opaque, frame, len);
}

static void net_rxq_stall_due(void *opaque)
{
	struct net_rxq *q = opaque;

	/* Through the back end: it may resume reading its fd as well. */
	net_port_accept_input(q->port);
}

static void net_rxq_arm(struct net_port *port, struct net_rxq *q)
{
	if (!port->loop)
		return;
	if (q->port != port) {
		q->port = port;
		timer_init(&q->stall, &port->loop->timers, net_rxq_stall_due,
			   q);
	}
	timer_arm(&q->stall, q->refused_since + NET_RXQ_STALL_NS);
}

bool net_rxq_push(struct net_port *port, struct net_rxq *q, const u8 *frame,
		  size_t len)
{
	unsigned tail;

	if (len > NET_MAX_FRAME || port->link_down)
		return false;
	if (q->count)
		net_rxq_flush(port, q);
	if (!q->count && net_port_deliver(port, frame, len))
		return true;
	/* No receiver at all (no card yet, or a card without a cable). */
	if (!port->rx.receive || net_rxq_full(q)) {
		q->dropped++;
		return false;
	}
	if (!q->count) {
		q->refused_since = clock_now_ns();
		net_rxq_arm(port, q);
	}
	tail = (q->head + q->count) % NET_RXQ_FRAMES;
	q->slot[tail].len = (u16)len;
	memcpy(q->slot[tail].data, frame, len);
	q->count++;
	return true;
}

static void net_rxq_pop(struct net_rxq *q)
{
	q->head = (q->head + 1) % NET_RXQ_FRAMES;
	q->count--;
	q->refused_since = clock_now_ns();
}

unsigned net_rxq_flush(struct net_port *port, struct net_rxq *q)
{
	while (q->count) {
		if (port->link_down || !port->rx.receive) {
			q->dropped += q->count;
			q->count = 0;
			break;
		}
		if (net_port_deliver(port, q->slot[q->head].data,
				     q->slot[q->head].len)) {
			net_rxq_pop(q);
			continue;
		}
		if (port->rx.rx_pending && port->rx.rx_pending(port->rx.opaque))
			q->refused_since = clock_now_ns();
		if (clock_now_ns() - q->refused_since < NET_RXQ_STALL_NS) {
			net_rxq_arm(port, q);
			break;
		}
		net_port_force(port, q->slot[q->head].data,
			       q->slot[q->head].len);
		net_rxq_pop(q);
	}
	if (!q->count && q->port)
		timer_cancel(&q->stall);
	return q->count;
}

/* A back end's close: the queue's timer must not outlive it. */
void net_rxq_destroy(struct net_rxq *q)
{
	if (q->port)
		timer_cancel(&q->stall);
}

void net_port_fail(struct net_port *port, const char *fmt, ...)
{
	va_list ap;

	if (port->link_down)
		return;
	port->link_down = true;
	fputs("twoostwo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(": network cable unplugged, the machine keeps running\n", stderr);
}

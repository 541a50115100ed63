/* SPDX-License-Identifier: MIT */
/*
 * Network back ends: what is behind a network card's cable (libslirp's
 * user-mode NAT, a host TAP device, a VDE switch). A card and its back end
 * meet at a net_port: the card sends whole Ethernet frames (no FCS) with
 * net_port_send(); the back end delivers received frames to the card's
 * receiver, asking first whether the card can take one, so a guest that
 * drains its ring slowly gets back-pressure instead of silent drops at the
 * back end. No card knows which back end it has; no back end knows which
 * card uses it. Everything runs on the machine thread (the event loop).
 *
 * A packet capture (pcap) sits on a port as a tap: every frame that crosses
 * the port, either way, is also written to the capture file.
 */
#ifndef TWOOSTWO_NET_NET_H
#define TWOOSTWO_NET_NET_H

#include "core/evloop.h"

/* Largest frame a port carries: 1514 bytes + a VLAN tag, no FCS. */
#define NET_MAX_FRAME 1518
#define NET_MIN_FRAME 60 /* without FCS; shorter frames are padded by cards */
#define NET_MAC_LEN 6

/* After a frame crosses a port, the machine polls often for this long. */
#define NET_BUSY_NS (50 * 1000 * 1000ull)

struct net_port;

struct net_receiver {
	/* Can the card take a frame of len bytes now? */
	bool (*can_receive)(void *opaque, size_t len);
	/* Deliver one frame; the card copies what it keeps. */
	void (*receive)(void *opaque, const u8 *frame, size_t len);
	void *opaque;
	/*
	 * Optional: the card has signalled received frames the guest has not
	 * looked at yet (its interrupt is up), so a refusal is temporary and
	 * the guest's acknowledgement will call accept_input.
	 */
	bool (*rx_pending)(void *opaque);
};

struct net_port_ops {
	/* Send one frame from the card to the wire; drops are fine. */
	void (*send)(struct net_port *port, const u8 *frame, size_t len);
	/* The card can receive again: resume delivering queued frames. */
	void (*accept_input)(struct net_port *port);
	void (*close)(struct net_port *port);
};

struct net_port {
	const struct net_port_ops *ops;
	struct net_receiver rx;
	struct evloop *loop;
	/* Optional capture of both directions (net/pcap.c), or NULL. */
	struct pcap_writer *capture;
	/* The back end failed (switch gone, TAP removed): cable unplugged. */
	bool link_down;
};

/* Card side. */
void net_port_set_receiver(struct net_port *port,
			   const struct net_receiver *rx);
void net_port_send(struct net_port *port, const u8 *frame, size_t len);
void net_port_accept_input(struct net_port *port);
void net_port_close(struct net_port *port);

/* Back-end side: hand a received frame to the card (drops if it can't). */
bool net_port_deliver(struct net_port *port, const u8 *frame, size_t len);

/*
 * A back end's bounded receive queue: frames the card could not take yet
 * wait here, in order, until the card's accept_input. Back ends that read
 * a file descriptor stop reading while it is full (back-pressure reaches
 * the host socket); libslirp cannot be stopped, so its overflow is dropped
 * (TCP retransmits at its own pace).
 *
 * A wire does not wait for ever, though: a frame the card has refused
 * for NET_RXQ_STALL_NS is handed to it regardless, and the card does what
 * the chip does with a frame for a full ring (drops it, counts it, raises
 * its overflow interrupt). Not while the card's rx_pending says the guest
 * has yet to look at what it got (a host that starves the process of CPU
 * delays the guest, not the wire's patience): the wait starts again then.
 * Without that, a driver that acknowledged its receive interrupt with frames
 * still in a full ring (Linux's 8390 core stops after 10 frames per interrupt)
 * would wait for an interrupt that never comes.
 */
#define NET_RXQ_FRAMES 128
#define NET_RXQ_STALL_NS (20 * 1000 * 1000ull)

struct net_rxq {
	struct {
		u16 len;
		u8 data[NET_MAX_FRAME];
	} slot[NET_RXQ_FRAMES];
	unsigned head, count;
	u64 dropped;
	u64 refused_since; /* when the head frame was first refused */
	struct net_port *port;
	struct timer stall; /* hands the head frame over when due */
};

/* Deliver now, or queue behind earlier frames; false: queue full, dropped. */
bool net_rxq_push(struct net_port *port, struct net_rxq *q, const u8 *frame,
		  size_t len);
/* Deliver queued frames while the card takes them; returns how many wait. */
unsigned net_rxq_flush(struct net_port *port, struct net_rxq *q);
/* Cancel the queue's timer (a back end's close). */
void net_rxq_destroy(struct net_rxq *q);
static inline bool net_rxq_full(const struct net_rxq *q)
{
	return q->count == NET_RXQ_FRAMES;
}

/*
 * A back end failed at run time: print one line naming it and what
 * happened, and pull the cable (frames are dropped both ways from now on).
 */
void net_port_fail(struct net_port *port, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

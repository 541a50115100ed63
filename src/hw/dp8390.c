// SPDX-License-Identifier: MIT
/*
 * National Semiconductor DP8390D NIC core of the NE2000 family. Facts
 * from the DP8390D datasheet (register map, ISR/RSR/TSR bits, the receive
 * buffer ring and its 4-byte packet header, remote DMA), the RTL8029AS
 * datasheet (same core, ID bytes) and from how Linux's 8390/ne/ne2k-pci
 * and iPXE's ns8390 drivers program the chip (../shared/specs/HARDWARE.md
 * section 2).
 *
 * Timing is not modelled: a transmit completes when TXP is written, a
 * received frame is in the ring when the back end hands it over, a
 * remote DMA moves bytes as fast as the data port is accessed.
 *
 * Every guest-programmed pointer (PSTART, PSTOP, BNRY, CURR, RSAR, RBCR,
 * TPSR, TBCR) is used only through card_read()/card_write() or the ring
 * helpers, which map card addresses onto the PROM and RAM with bounds
 * checks; every loop runs a host-bounded number of times.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/log.h"
#include "hw/dp8390.h"
#include "hw/ne2000.h"

#define DP_SNAP_VERSION 1
#define DP_PAGE 256u
#define DP_HDR_LEN 4 /* receive status, next page, byte count */
#define DP_FCS_LEN 4
/* Tally counters stop at 192 (0xC0); ISR.CNT when a counter's MSB sets. */
#define DP_CNTR_MAX 0xc0
#define DP_CNTR_MISSED 2
/* Frames the wire puts in the ring at one instant (rx_burst_allowed). */
#define DP_RX_BURST 8

static u8 dp_page(const struct dp8390 *dp)
{
	return dp->r.cr >> DP_CR_PS_SHIFT;
}

static bool dp_started(const struct dp8390 *dp)
{
	return (dp->r.cr & (DP_CR_STA | DP_CR_STP)) == DP_CR_STA;
}

static void dp_update_irq(struct dp8390 *dp)
{
	bool level = (dp->r.isr & dp->r.imr & 0x7f) != 0;

	if (level == dp->irq_level)
		return;
	dp->irq_level = level;
	if (dp->ops->irq)
		dp->ops->irq(dp->opaque, level);
}

/* --- card memory ---------------------------------------------------- */

/* The PROM answers below 0x20, the RAM at 0x4000-0xBFFF; else 0xFF. */
static u8 card_read(const struct dp8390 *dp, u16 addr)
{
	if (addr < DP8390_PROM_SIZE)
		return dp->prom[addr];
	if (addr >= DP8390_RAM_START && addr < DP8390_RAM_END)
		return dp->ram[addr - DP8390_RAM_START];
	return 0xff;
}

static void card_write(struct dp8390 *dp, u16 addr, u8 v)
{
	if (addr >= DP8390_RAM_START && addr < DP8390_RAM_END)
		dp->ram[addr - DP8390_RAM_START] = v;
}

/* The RAM behind a whole 256-byte page, or NULL. */
static u8 *card_page(struct dp8390 *dp, u8 page)
{
	u32 addr = (u32)page * DP_PAGE;

	if (addr < DP8390_RAM_START || addr >= DP8390_RAM_END)
		return NULL;
	return dp->ram + (addr - DP8390_RAM_START);
}

/* --- interrupts, counters ---------------------------------------------- */

static void dp_raise(struct dp8390 *dp, u8 bits)
{
	dp->r.isr |= bits;
	dp_update_irq(dp);
}

static void dp_count(struct dp8390 *dp, unsigned which)
{
	u8 *c = &dp->r.cntr[which];

	if (*c < DP_CNTR_MAX)
		(*c)++;
	if (*c & 0x80)
		dp_raise(dp, DP_ISR_CNT);
}

/* --- remote DMA -------------------------------------------------------- */

/*
 * One byte moved: the address wraps from PSTOP back to PSTART (so a
 * driver can read a packet across the end of the ring), the byte count
 * runs down to 0 and then raises RDC.
 */
static void dma_step(struct dp8390 *dp)
{
	dp->r.crda++;
	if (dp->r.pstart < dp->r.pstop &&
	    dp->r.crda == (u16)(dp->r.pstop * DP_PAGE))
		dp->r.crda = (u16)(dp->r.pstart * DP_PAGE);
	if (dp->r.remaining && --dp->r.remaining == 0)
		dp->r.isr |= DP_ISR_RDC;
}

/* Bytes one data-port access moves: words in WTS mode, else its size. */
static unsigned dma_width(const struct dp8390 *dp, unsigned size)
{
	if ((dp->r.dcr & DP_DCR_WTS) && size < 2)
		return 2;
	return size;
}

static bool dma_sending(const struct dp8390 *dp)
{
	return (dp->r.cr & DP_CR_RD_MASK) == DP_CR_RD_SEND && dp->r.remaining;
}

/*
 * The end of a "send packet" read (DP8390D, Send Packet Command): the
 * packet's buffers are free again, BNRY moves to the next packet and the
 * DMA address waits there for the next command.
 */
static void dma_send_done(struct dp8390 *dp)
{
	dp->r.bnry = dp->r.send_next;
	dp->r.crda = (u16)(dp->r.send_next * DP_PAGE);
	net_port_accept_input(dp->port);
}

static u32 dma_read(struct dp8390 *dp, unsigned size)
{
	unsigned n = dma_width(dp, size), i;
	bool sending = dma_sending(dp);
	u32 v = 0;

	for (i = 0; i < n; i++) {
		v |= (u32)card_read(dp, dp->r.crda) << (8 * i);
		dma_step(dp);
	}
	if (sending && !dp->r.remaining)
		dma_send_done(dp);
	dp_update_irq(dp);
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void dma_write(struct dp8390 *dp, u32 v, unsigned size)
{
	unsigned n = dma_width(dp, size), i;

	for (i = 0; i < n; i++) {
		card_write(dp, dp->r.crda, (u8)(v >> (8 * i)));
		dma_step(dp);
	}
	dp_update_irq(dp);
}

/*
 * CR.RD: read or write start at CRDA for RBCR bytes (a count of 0 is
 * complete at once: Linux's IRQ autoprobe relies on it); "send packet"
 * points the DMA at the packet under BNRY, takes its byte count from the
 * packet header and, once that many bytes are read, advances BNRY to the
 * header's next-packet pointer (dma_send_done).
 */
static void dma_command(struct dp8390 *dp, u8 rd)
{
	switch (rd) {
	case DP_CR_RD_SEND: {
		u16 hdr = (u16)(dp->r.bnry * DP_PAGE);

		dp->r.crda = hdr;
		dp->r.remaining = (u16)(card_read(dp, (u16)(hdr + 2)) |
					card_read(dp, (u16)(hdr + 3)) << 8);
		dp->r.send_next = card_read(dp, (u16)(hdr + 1));
	}
		/* fall through */
	case DP_CR_RD_READ:
	case DP_CR_RD_WRITE:
		if (!dp->r.remaining)
			dp_raise(dp, DP_ISR_RDC);
		break;
	default:
		break;
	}
}

/* --- receive ----------------------------------------------------------- */

/*
 * The CRC the DP8390's address hash uses: CRC-32 over the destination,
 * shifted most-significant bit first with each byte fed LSB first, no
 * final inversion (Linux's ether_crc). Its top 6 bits index MAR0-7.
 */
static u32 dp_hash_crc(const u8 *addr)
{
	u32 crc = 0xffffffffu;
	unsigned i, b;

	for (i = 0; i < NET_MAC_LEN; i++) {
		u8 byte = addr[i];

		for (b = 0; b < 8; b++, byte >>= 1) {
			bool in = ((crc >> 31) ^ byte) & 1;

			crc <<= 1;
			if (in)
				crc ^= 0x04c11db7u;
		}
	}
	return crc;
}

/* RCR rules: PAR match or PRO; broadcast with AB; multicast with AM. */
static bool dp_accepts(const struct dp8390 *dp, const u8 *dest)
{
	static const u8 bcast[NET_MAC_LEN] = {0xff, 0xff, 0xff,
					      0xff, 0xff, 0xff};
	unsigned idx;

	if (!(dest[0] & 1))
		return (dp->r.rcr & DP_RCR_PRO) ||
		       !memcmp(dest, dp->r.par, NET_MAC_LEN);
	if (!memcmp(dest, bcast, NET_MAC_LEN))
		return dp->r.rcr & DP_RCR_AB;
	if (!(dp->r.rcr & DP_RCR_AM))
		return false;
	idx = dp_hash_crc(dest) >> 26;
	return dp->r.mar[idx >> 3] & BIT(idx & 7);
}

/*
 * PSTART < PSTOP and both pointers inside: otherwise nothing is stored.
 * BNRY may also be PSTART - 1: Linux's 8390 core writes "next frame - 1"
 * after reading the frame that ends at PSTOP, and the chip only compares
 * BNRY with the next page, so that value is the page before PSTART,
 * PSTOP - 1.
 */
static u8 ring_boundary(const struct dp8390 *dp)
{
	const struct dp8390_regs *r = &dp->r;

	return r->bnry == (u8)(r->pstart - 1) ? (u8)(r->pstop - 1) : r->bnry;
}

static bool ring_valid(const struct dp8390 *dp)
{
	const struct dp8390_regs *r = &dp->r;
	u8 bnry = ring_boundary(dp);

	return r->pstart < r->pstop && r->curr >= r->pstart &&
	       r->curr < r->pstop && bnry >= r->pstart && bnry < r->pstop;
}

/*
 * Pages a packet may use from CURR without CURR ever landing on BNRY
 * (that is the ring-full state the chip refuses to reach, so CURR == BNRY
 * always means an empty ring).
 */
static unsigned ring_free_pages(const struct dp8390 *dp)
{
	unsigned size = dp->r.pstop - dp->r.pstart;
	unsigned d = (ring_boundary(dp) + size - dp->r.curr) % size;

	return (d ? d : size) - 1;
}

/* Ring pages a frame of len bytes takes: header, frame, FCS. */
static unsigned ring_pages(size_t len)
{
	return (unsigned)((DP_HDR_LEN + len + DP_FCS_LEN + DP_PAGE - 1) /
			  DP_PAGE);
}

static u8 ring_next(const struct dp8390 *dp, u8 page)
{
	page++;
	return page == dp->r.pstop ? dp->r.pstart : page;
}

/* Copy n bytes into the ring at (page, off), page by page; returns page. */
static u8 ring_copy(struct dp8390 *dp, u8 page, unsigned *off, const u8 *src,
		    size_t n)
{
	while (n) {
		size_t chunk = MIN(n, DP_PAGE - *off);
		u8 *dst = card_page(dp, page);

		if (dst)
			memcpy(dst + *off, src, chunk);
		src += chunk;
		n -= chunk;
		*off += (unsigned)chunk;
		if (*off == DP_PAGE) {
			*off = 0;
			page = ring_next(dp, page);
		}
	}
	return page;
}

/* No complete packet left unread (BNRY + 1 == CURR, or BNRY == CURR). */
static bool ring_drained(const struct dp8390 *dp)
{
	return ring_free_pages(dp) + 2 >=
	       (unsigned)(dp->r.pstop - dp->r.pstart);
}

/*
 * When the wire may put a frame in the ring (pacing, not chip state).
 * A real wire spaces frames (1.2 ms for a full one at 10 Mbit/s), so a
 * driver's receive handler always finds a few frames at most; a back end
 * can hand over a whole TCP window at once. Linux's 8390 core reads at
 * most 9 frames per call and then acknowledges ISR.PRX: frames that
 * landed behind those wait, with PRX clear, for an interrupt that only
 * the next arriving frame would raise; in a TCP transfer that next frame
 * waits for an ACK of the stranded ones (a stall until a retransmit).
 *
 * So frames arrive in bursts of at most DP_RX_BURST, all at one instant:
 * a burst starts only when the guest has acknowledged the last reception
 * (PRX clear) or, for a driver that polls with PRX masked (iPXE), has
 * emptied the ring; it ends at the guest's next access to the card.
 * Everything a frame does once it is in the ring is the chip's own.
 */
static bool rx_burst_allowed(const struct dp8390 *dp)
{
	if (dp->rx_burst_open)
		return dp->rx_burst < DP_RX_BURST;
	if (!(dp->r.isr & DP_ISR_PRX))
		return true;
	return !(dp->r.imr & DP_ISR_PRX) && ring_drained(dp);
}

static void rx_burst_count(struct dp8390 *dp)
{
	if (!dp->rx_burst_open) {
		dp->rx_burst_open = true;
		dp->rx_burst = 0;
	}
	if (dp->rx_burst < 0xff)
		dp->rx_burst++;
}

/* The guest looked at the card: the frames it may see are in. */
static void rx_burst_end(struct dp8390 *dp)
{
	dp->rx_burst_open = false;
}

/* A frame the chip could not store: OVW (and RST), missed-packet tally. */
static void dp_missed(struct dp8390 *dp, bool overflow)
{
	dp->r.rsr = DP_RSR_MPA;
	dp_count(dp, DP_CNTR_MISSED);
	if (overflow)
		dp_raise(dp, DP_ISR_OVW | DP_ISR_RST);
}

static void ring_store(struct dp8390 *dp, const u8 *frame, size_t len,
		       u8 status)
{
	u8 hdr[DP_HDR_LEN], fcs[DP_FCS_LEN];
	unsigned pages = ring_pages(len), off = 0;
	u8 page = dp->r.curr, next = dp->r.curr;
	u16 count = (u16)(len + DP_FCS_LEN);
	unsigned i;

	for (i = 0; i < pages; i++)
		next = ring_next(dp, next);
	hdr[0] = status;
	hdr[1] = next;
	put_le16(&hdr[2], count);
	put_le32(fcs, (u32)crc32(0, frame, (uInt)len));
	page = ring_copy(dp, page, &off, hdr, sizeof(hdr));
	page = ring_copy(dp, page, &off, frame, len);
	ring_copy(dp, page, &off, fcs, sizeof(fcs));
	dp->r.curr = next;
	dp->r.clda = (u16)(next * DP_PAGE);
	dp->r.rsr = status;
	rx_burst_count(dp);
	dp_raise(dp, DP_ISR_PRX);
}

bool dp8390_can_receive(struct dp8390 *dp, size_t len)
{
	/* A stopped, looped-back or misprogrammed chip drops frames. */
	if (!dp_started(dp) || (dp->r.tcr & DP_TCR_LB_MASK) ||
	    (dp->r.rcr & DP_RCR_MON) || !ring_valid(dp))
		return true;
	len = MAX(len, (size_t)NET_MIN_FRAME);
	return len > NET_MAX_FRAME || ring_pages(len) <= ring_free_pages(dp);
}

bool dp8390_wire_ready(struct dp8390 *dp, size_t len)
{
	if (!dp8390_can_receive(dp, len))
		return false;
	/* Frames the chip drops anyway need no pacing. */
	if (!dp_started(dp) || (dp->r.tcr & DP_TCR_LB_MASK) ||
	    (dp->r.rcr & DP_RCR_MON) || !ring_valid(dp))
		return true;
	return rx_burst_allowed(dp);
}

void dp8390_receive(struct dp8390 *dp, const u8 *frame, size_t len)
{
	u8 padded[NET_MIN_FRAME];
	u8 status = DP_RSR_PRX;

	if (!dp_started(dp) || (dp->r.tcr & DP_TCR_LB_MASK))
		return;
	if (len > NET_MAX_FRAME) {
		dp_missed(dp, false);
		return;
	}
	/* Runts are padded to the 60-byte minimum, as on the wire. */
	if (len < NET_MIN_FRAME) {
		memset(padded, 0, sizeof(padded));
		if (len)
			memcpy(padded, frame, len);
		frame = padded;
		len = NET_MIN_FRAME;
	}
	if (!dp_accepts(dp, frame))
		return;
	if (frame[0] & 1)
		status |= DP_RSR_PHY;
	/* Monitor mode checks addresses but buffers nothing (missed). */
	if ((dp->r.rcr & DP_RCR_MON) || !ring_valid(dp)) {
		dp_missed(dp, false);
		return;
	}
	if (ring_pages(len) > ring_free_pages(dp)) {
		dp_missed(dp, true);
		return;
	}
	ring_store(dp, frame, len, status);
}

/* --- transmit ---------------------------------------------------------- */

/*
 * TXP: TBCR bytes from page TPSR. A frame the wire cannot carry (0 bytes
 * or more than NET_MAX_FRAME) is not sent but the transmit completes; in
 * loopback (TCR.LB) nothing reaches the wire and the FIFO keeps the last
 * bytes, which is all drivers use loopback for (transmitter off).
 */
static void dp_transmit(struct dp8390 *dp)
{
	u8 frame[NET_MAX_FRAME];
	u16 addr = (u16)(dp->r.tpsr * DP_PAGE);
	size_t len = dp->r.tbcr, i;

	if (len <= NET_MAX_FRAME) {
		for (i = 0; i < len; i++)
			frame[i] = card_read(dp, (u16)(addr + i));
		if (dp->r.tcr & DP_TCR_LB_MASK) {
			for (i = 0; i < sizeof(dp->r.fifo); i++)
				dp->r.fifo[i] =
					i < len ? frame[len - 1 - i] : 0;
			dp->r.fifo_pos = 0;
		} else if (len) {
			net_port_send(dp->port, frame, len);
		}
	}
	dp->r.tsr = DP_TSR_PTX;
	dp->r.cr &= (u8)~DP_CR_TXP;
	dp_raise(dp, DP_ISR_PTX);
}

/* --- registers --------------------------------------------------------- */

static void dp_write_cr(struct dp8390 *dp, u8 v)
{
	bool was_started = dp_started(dp);
	u8 old = dp->r.cr;

	/* A write with neither STA nor STP (a page switch) keeps the state. */
	dp->r.cr = (u8)(v & ~DP_CR_TXP);
	if (!(v & (DP_CR_STA | DP_CR_STP)))
		dp->r.cr |= old & (DP_CR_STA | DP_CR_STP);
	if (v & DP_CR_STP) {
		dp->r.cr &= (u8)~DP_CR_STA;
		dp->r.isr |= DP_ISR_RST;
	} else if (v & DP_CR_STA) {
		dp->r.isr &= (u8)~DP_ISR_RST;
	}
	dma_command(dp, v & DP_CR_RD_MASK);
	if ((v & DP_CR_TXP) && dp_started(dp))
		dp_transmit(dp);
	dp_update_irq(dp);
	if (!was_started && dp_started(dp))
		net_port_accept_input(dp->port);
}

static u8 dp_read_counter(struct dp8390 *dp, unsigned which)
{
	u8 v = dp->r.cntr[which];

	dp->r.cntr[which] = 0; /* tally counters clear when read */
	return v;
}

static u8 dp_read_page0(struct dp8390 *dp, u8 reg)
{
	struct dp8390_regs *r = &dp->r;

	switch (reg) {
	case 0x01:
		return (u8)r->clda;
	case 0x02:
		return (u8)(r->clda >> 8);
	case 0x03:
		return r->bnry;
	case 0x04:
		return r->tsr;
	case 0x05:
		return 0; /* NCR: no collisions on a virtual wire */
	case 0x06:
		return r->fifo[r->fifo_pos++ & 7];
	case 0x07:
		return r->isr;
	case 0x08:
		return (u8)r->crda;
	case 0x09:
		return (u8)(r->crda >> 8);
	case 0x0a:
		return dp->ops->rtl8029_id ? 'P' : 0xff;
	case 0x0b:
		return dp->ops->rtl8029_id ? 'C' : 0xff;
	case 0x0c:
		return r->rsr;
	default: /* 0x0D-0x0F: CNTR0-2 */
		return dp_read_counter(dp, reg - 0x0d);
	}
}

static u8 dp_read_page2(struct dp8390 *dp, u8 reg)
{
	struct dp8390_regs *r = &dp->r;

	switch (reg) {
	case 0x01:
		return r->pstart;
	case 0x02:
		return r->pstop;
	case 0x03:
		return r->rnpp;
	case 0x04:
		return r->tpsr;
	case 0x05:
		return r->lnpp;
	case 0x06:
		return (u8)(r->ac >> 8);
	case 0x07:
		return (u8)r->ac;
	case 0x0c:
		return r->rcr;
	case 0x0d:
		return r->tcr;
	case 0x0e:
		return r->dcr;
	case 0x0f:
		return r->imr;
	default:
		return 0xff;
	}
}

static u8 dp_read_reg(struct dp8390 *dp, u8 reg)
{
	if (reg == 0)
		return dp->r.cr;
	switch (dp_page(dp)) {
	case 0:
		return dp_read_page0(dp, reg);
	case 1:
		if (reg <= 6)
			return dp->r.par[reg - 1];
		if (reg == 7)
			return dp->r.curr;
		return dp->r.mar[reg - 8];
	case 2:
		return dp_read_page2(dp, reg);
	default:
		return dp->ops->page3_read ?
			       dp->ops->page3_read(dp->opaque, reg) :
			       0xff;
	}
}

static void dp_write_boundary(struct dp8390 *dp, u8 v)
{
	dp->r.bnry = v;
	/* Packets removed: the overflow state ends, the wire may deliver. */
	dp->r.isr &= (u8) ~(dp_started(dp) ? DP_ISR_RST : 0);
	net_port_accept_input(dp->port);
}

static void dp_write_page0(struct dp8390 *dp, u8 reg, u8 v)
{
	struct dp8390_regs *r = &dp->r;

	switch (reg) {
	case 0x01:
		r->pstart = v;
		break;
	case 0x02:
		r->pstop = v;
		break;
	case 0x03:
		dp_write_boundary(dp, v);
		break;
	case 0x04:
		r->tpsr = v;
		break;
	case 0x05:
		r->tbcr = (u16)((r->tbcr & 0xff00) | v);
		break;
	case 0x06:
		r->tbcr = (u16)((r->tbcr & 0x00ff) | v << 8);
		break;
	case 0x07: /* write 1 to clear; RST is status only */
		r->isr &= (u8) ~(v & 0x7f);
		/* Reception acknowledged: the next burst may come. */
		if (v & DP_ISR_PRX)
			net_port_accept_input(dp->port);
		break;
	case 0x08:
		r->rsar = (u16)((r->rsar & 0xff00) | v);
		r->crda = r->rsar;
		break;
	case 0x09:
		r->rsar = (u16)((r->rsar & 0x00ff) | v << 8);
		r->crda = r->rsar;
		break;
	case 0x0a:
		r->rbcr = (u16)((r->rbcr & 0xff00) | v);
		r->remaining = r->rbcr;
		break;
	case 0x0b:
		r->rbcr = (u16)((r->rbcr & 0x00ff) | v << 8);
		r->remaining = r->rbcr;
		break;
	case 0x0c:
		r->rcr = v & 0x3f;
		break;
	case 0x0d:
		r->tcr = v & 0x1f;
		net_port_accept_input(dp->port);
		break;
	case 0x0e:
		r->dcr = v & 0x7f;
		break;
	case 0x0f:
		r->imr = v & 0x7f;
		break;
	}
	dp_update_irq(dp);
}

static void dp_write_page2(struct dp8390 *dp, u8 reg, u8 v)
{
	struct dp8390_regs *r = &dp->r;

	switch (reg) {
	case 0x01:
		r->clda = (u16)((r->clda & 0xff00) | v);
		break;
	case 0x02:
		r->clda = (u16)((r->clda & 0x00ff) | v << 8);
		break;
	case 0x03:
		r->rnpp = v;
		break;
	case 0x05:
		r->lnpp = v;
		break;
	case 0x06:
		r->ac = (u16)((r->ac & 0x00ff) | v << 8);
		break;
	case 0x07:
		r->ac = (u16)((r->ac & 0xff00) | v);
		break;
	default:
		break;
	}
}

static void dp_write_reg(struct dp8390 *dp, u8 reg, u8 v)
{
	if (reg == 0) {
		dp_write_cr(dp, v);
		return;
	}
	switch (dp_page(dp)) {
	case 0:
		dp_write_page0(dp, reg, v);
		break;
	case 1:
		if (reg <= 6)
			dp->r.par[reg - 1] = v;
		else if (reg == 7) {
			dp->r.curr = v;
			net_port_accept_input(dp->port);
		} else
			dp->r.mar[reg - 8] = v;
		break;
	case 2:
		dp_write_page2(dp, reg, v);
		break;
	default:
		if (dp->ops->page3_write)
			dp->ops->page3_write(dp->opaque, reg, v);
		break;
	}
}

/* --- the board's ports ------------------------------------------------- */

u32 dp8390_io_read(struct dp8390 *dp, u16 offset, unsigned size)
{
	u32 v = 0;
	unsigned i;

	offset &= NE2000_IO_SIZE - 1;
	rx_burst_end(dp);
	if (offset >= NE2000_DATA_PORT && offset < NE2000_DATA_PORT + 8)
		return dma_read(dp, size);
	if (offset >= NE2000_DATA_PORT + 8) {
		/* Reading the reset port pulses the board's reset line. */
		dp8390_reset(dp);
		return 0;
	}
	for (i = 0; i < size && offset + i < NE2000_DATA_PORT; i++)
		v |= (u32)dp_read_reg(dp, (u8)(offset + i)) << (8 * i);
	return v;
}

void dp8390_io_write(struct dp8390 *dp, u16 offset, u32 value, unsigned size)
{
	unsigned i;

	offset &= NE2000_IO_SIZE - 1;
	rx_burst_end(dp);
	if (offset >= NE2000_DATA_PORT && offset < NE2000_DATA_PORT + 8) {
		dma_write(dp, value, size);
		return;
	}
	if (offset >= NE2000_DATA_PORT + 8)
		return; /* writing the reset port does nothing */
	for (i = 0; i < size && offset + i < NE2000_DATA_PORT; i++)
		dp_write_reg(dp, (u8)(offset + i), (u8)(value >> (8 * i)));
}

/* --- lifecycle ----------------------------------------------------------- */

/*
 * The board reset: the chip stops with remote DMA aborted, ISR.RST set
 * and interrupts masked; the rest is left for the driver to program (the
 * datasheet's initialization sequence sets every register).
 */
void dp8390_reset(struct dp8390 *dp)
{
	dp->r.cr = DP_CR_STP | DP_CR_RD_ABORT;
	dp->r.isr = DP_ISR_RST;
	dp->r.imr = 0;
	dp->r.remaining = 0;
	dp_update_irq(dp);
}

void dp8390_power_on(struct dp8390 *dp)
{
	memset(&dp->r, 0, sizeof(dp->r));
	memset(dp->ram, 0, sizeof(dp->ram));
	dp8390_reset(dp);
	net_port_accept_input(dp->port);
}

static bool rx_can_receive(void *opaque, size_t len)
{
	return dp8390_wire_ready(opaque, len);
}

static void rx_receive(void *opaque, const u8 *frame, size_t len)
{
	dp8390_receive(opaque, frame, len);
}

/* A reception the guest will acknowledge: its interrupt is asserted. */
static bool rx_pending(void *opaque)
{
	struct dp8390 *dp = opaque;

	return dp_started(dp) && (dp->r.isr & dp->r.imr & DP_ISR_PRX);
}

/*
 * The PROM as the board wires it to a 16-bit bus: 16 bytes (MAC, then
 * 0x57 0x57 'W' at 14-15, the NE2000 signature Linux's ne.c requires),
 * each byte stored twice so word and byte reads both see it.
 */
static void dp_fill_prom(struct dp8390 *dp, const u8 mac[6])
{
	u8 prom[DP8390_PROM_SIZE / 2] = {0};
	unsigned i;

	memcpy(prom, mac, NET_MAC_LEN);
	prom[14] = 0x57;
	prom[15] = 0x57;
	for (i = 0; i < sizeof(prom); i++) {
		dp->prom[2 * i] = prom[i];
		dp->prom[2 * i + 1] = prom[i];
	}
}

void dp8390_init(struct dp8390 *dp, const u8 mac[6], struct net_port *port,
		 const struct dp8390_ops *ops, void *opaque)
{
	/* Locally administered, for callers without a configured address. */
	static const u8 default_mac[NET_MAC_LEN] = {0x52, 0x54, 0x00,
						    0x12, 0x34, 0x56};

	if (!mac)
		mac = default_mac;
	memset(dp, 0, sizeof(*dp));
	dp->ops = ops;
	dp->opaque = opaque;
	dp->port = port;
	dp_fill_prom(dp, mac);
	dp8390_power_on(dp);
	if (port) {
		struct net_receiver rx = {rx_can_receive, rx_receive, dp,
					  rx_pending};

		net_port_set_receiver(port, &rx);
	}
}

void dp8390_detach(struct dp8390 *dp)
{
	if (dp->port)
		net_port_set_receiver(dp->port, NULL);
	dp->port = NULL;
}

int dp8390_save(struct dp8390 *dp, struct snap_writer *w, const char *name)
{
	char ram_name[64];
	int err;

	snprintf(ram_name, sizeof(ram_name), "%s-ram", name);
	err = snap_put(w, name, DP_SNAP_VERSION, &dp->r, sizeof(dp->r));
	if (!err)
		err = snap_put(w, ram_name, DP_SNAP_VERSION, dp->ram,
			       sizeof(dp->ram));
	return err;
}

/* Every register value is safe to use, so a loaded state needs no checks. */
int dp8390_load(struct dp8390 *dp, const struct snap_reader *r,
		const char *name)
{
	char ram_name[64];
	struct dp8390_regs regs;
	int err;

	snprintf(ram_name, sizeof(ram_name), "%s-ram", name);
	err = snap_get(r, name, DP_SNAP_VERSION, &regs, sizeof(regs));
	if (!err)
		err = snap_get(r, ram_name, DP_SNAP_VERSION, dp->ram,
			       sizeof(dp->ram));
	if (err)
		return err;
	dp->r = regs;
	dp->r.cr &= (u8)~DP_CR_TXP;
	dp->irq_level = (dp->r.isr & dp->r.imr & 0x7f) != 0;
	if (dp->ops->irq)
		dp->ops->irq(dp->opaque, dp->irq_level);
	net_port_accept_input(dp->port);
	return 0;
}

struct device ne2000_device(struct ne2000 *nic)
{
	return (struct device){.ops = nic->device_ops, .opaque = nic};
}

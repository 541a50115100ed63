/* SPDX-License-Identifier: MIT */
/*
 * The National Semiconductor DP8390 network interface controller as the
 * NE2000 family wires it: the chip's 16 registers (four pages banked by
 * CR.PS) at offsets 0x00-0x0F, the board's remote-DMA data port at
 * 0x10-0x17 and its reset port at 0x18-0x1F, a 32-byte address PROM at
 * card address 0x0000 and 32 KiB of buffer RAM at 0x4000-0xBFFF.
 *
 * Both NE2000 front ends (hw/ne2000_isa.c, hw/rtl8029.c) embed one of
 * these and forward their 0x20 ports to it; the front end supplies the
 * interrupt wiring and, for the RTL8029AS, the extra page-3 registers.
 */
#ifndef TWOOSTWO_HW_DP8390_H
#define TWOOSTWO_HW_DP8390_H

#include "core/snapshot.h"
#include "hw/device.h"
#include "net/net.h"

#define NE2000_IO_SIZE 0x20
#define NE2000_DATA_PORT 0x10  /* 0x10-0x17 */
#define NE2000_RESET_PORT 0x1f /* any of 0x18-0x1F */

#define DP8390_PROM_SIZE 32
#define DP8390_RAM_START 0x4000
#define DP8390_RAM_SIZE 0x8000
#define DP8390_RAM_END (DP8390_RAM_START + DP8390_RAM_SIZE)

/* Command register (CR, every page). */
#define DP_CR_STP 0x01
#define DP_CR_STA 0x02
#define DP_CR_TXP 0x04
#define DP_CR_RD_MASK 0x38
#define DP_CR_RD_READ 0x08
#define DP_CR_RD_WRITE 0x10
#define DP_CR_RD_SEND 0x18
#define DP_CR_RD_ABORT 0x20
#define DP_CR_PS_SHIFT 6

/* ISR and IMR. */
#define DP_ISR_PRX 0x01
#define DP_ISR_PTX 0x02
#define DP_ISR_RXE 0x04
#define DP_ISR_TXE 0x08
#define DP_ISR_OVW 0x10
#define DP_ISR_CNT 0x20
#define DP_ISR_RDC 0x40
#define DP_ISR_RST 0x80

/* RCR, RSR, TCR, TSR, DCR. */
#define DP_RCR_SEP 0x01
#define DP_RCR_AR 0x02
#define DP_RCR_AB 0x04
#define DP_RCR_AM 0x08
#define DP_RCR_PRO 0x10
#define DP_RCR_MON 0x20
#define DP_RSR_PRX 0x01
#define DP_RSR_MPA 0x10
#define DP_RSR_PHY 0x20 /* multicast or broadcast destination */
#define DP_RSR_DIS 0x40
#define DP_TCR_CRC 0x01 /* inhibit CRC */
#define DP_TCR_LB_MASK 0x06
#define DP_TSR_PTX 0x01
#define DP_DCR_WTS 0x01

/*
 * Everything a snapshot needs besides the memories. Only u8/u16 fields,
 * zeroed as a whole on reset so the saved bytes hold no padding garbage.
 */
struct dp8390_regs {
	u8 cr, isr, imr, dcr, tcr, rcr, rsr, tsr;
	u8 pstart, pstop, bnry, curr, tpsr, rnpp, lnpp, fifo_pos;
	u8 par[6];
	u8 mar[8];
	u8 cntr[3];   /* frame alignment, CRC, missed packet tally */
	u8 fifo[8];   /* the last bytes of a looped-back frame */
	u8 send_next; /* "send packet": the page BNRY moves to at its end */
	u16 tbcr, rsar, rbcr;
	u16 crda;      /* current remote DMA address */
	u16 remaining; /* remote DMA bytes left */
	u16 clda;      /* current local DMA address */
	u16 ac;	       /* page 2 address counter (diagnostic) */
};

struct dp8390_ops {
	/* The chip's INT output changed. */
	void (*irq)(void *opaque, bool level);
	/* Page 3 (RTL8029AS configuration); NULL: reads 0xFF, writes lost. */
	u8 (*page3_read)(void *opaque, u8 reg);
	void (*page3_write)(void *opaque, u8 reg, u8 value);
	/* Page 0 0x0A/0x0B read as the RTL8029AS ID 'P' 'C'. */
	bool rtl8029_id;
};

struct dp8390 {
	struct dp8390_regs r;
	u8 prom[DP8390_PROM_SIZE];
	u8 ram[DP8390_RAM_SIZE];
	bool irq_level;
	/*
	 * Receive pacing (dp8390_can_receive): frames the wire put in the
	 * ring since the guest last touched the card, and whether such a
	 * burst is open. Not chip state: not saved.
	 */
	bool rx_burst_open;
	u8 rx_burst;
	const struct dp8390_ops *ops;
	void *opaque;
	struct net_port *port; /* NULL: no cable */
};

/*
 * The handle hw/ne2000.h gives out: the chip plus the front end's device
 * hooks, so ne2000_device() works for either card.
 */
struct ne2000 {
	struct dp8390 chip;
	const struct device_ops *device_ops;
};

void dp8390_init(struct dp8390 *dp, const u8 mac[6], struct net_port *port,
		 const struct dp8390_ops *ops, void *opaque);
/* Power-on state: registers and RAM cleared, PROM kept. */
void dp8390_power_on(struct dp8390 *dp);
/* The board's reset line (reset port): the chip stops, ISR.RST. */
void dp8390_reset(struct dp8390 *dp);
/* Stop receiving from the port (before the chip is freed). */
void dp8390_detach(struct dp8390 *dp);

/* Accesses to the board's 0x20 ports; offset < NE2000_IO_SIZE. */
u32 dp8390_io_read(struct dp8390 *dp, u16 offset, unsigned size);
void dp8390_io_write(struct dp8390 *dp, u16 offset, u32 value, unsigned size);

/* The receive side of the cable (also the net_receiver callbacks). */
/* Room in the ring for a frame of len bytes (or the chip drops it). */
bool dp8390_can_receive(struct dp8390 *dp, size_t len);
/* The above, and the wire's pacing lets a frame arrive now. */
bool dp8390_wire_ready(struct dp8390 *dp, size_t len);
void dp8390_receive(struct dp8390 *dp, const u8 *frame, size_t len);

/* Sections name and name-ram. */
int dp8390_save(struct dp8390 *dp, struct snap_writer *w, const char *name);
int dp8390_load(struct dp8390 *dp, const struct snap_reader *r,
		const char *name);

#endif

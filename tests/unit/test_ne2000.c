// SPDX-License-Identifier: MIT
/*
 * The NE2000 (ISA) and RTL8029AS (PCI) cards driven through their ports
 * and PCI configuration space as Linux's ne, ne2k-pci and 8390 drivers
 * and iPXE's ns8390 drive them (../shared/specs/HARDWARE.md section 2),
 * with a recording net_port as the wire: probes, PROM, transmit, the
 * receive ring with wrap and overflow, address filters, remote DMA,
 * interrupts, save/load, and the guest nonsense behind the NE2000 CVEs of
 * other emulators.
 */
#include <stdlib.h>
#include <zlib.h>

#include "bus/pci.h"
#include "core/snapshot.h"
#include "hw/dp8390.h"
#include "hw/ne2000.h"
#include "unit.h"

#define ISA_BASE 0x300
#define ISA_IRQ 10
#define PCI_IO 0xc100
#define PCI_IRQ 11
#define RTL_DEVFN PCI_DEVFN(3, 0)
#define RAM_SIZE (1u << 20)

/* Register offsets (Linux 8390.h names). */
#define CMD 0x00
#define EN0_STARTPG 0x01
#define EN0_STOPPG 0x02
#define EN0_BOUNDARY 0x03
#define EN0_TPSR 0x04
#define EN0_TSR 0x04
#define EN0_TCNTLO 0x05
#define EN0_TCNTHI 0x06
#define EN0_ISR 0x07
#define EN0_RSARLO 0x08
#define EN0_RSARHI 0x09
#define EN0_RCNTLO 0x0a
#define EN0_RCNTHI 0x0b
#define EN0_RXCR 0x0c
#define EN0_RSR 0x0c
#define EN0_TXCR 0x0d
#define EN0_COUNTER0 0x0d
#define EN0_DCFG 0x0e
#define EN0_COUNTER2 0x0f
#define EN0_IMR 0x0f
#define EN1_PHYS 0x01
#define EN1_CURPAG 0x07
#define EN1_MULT 0x08
#define DATAPORT 0x10
#define RESET 0x1f

#define E8390_STOP 0x01
#define E8390_START 0x02
#define E8390_TRANS 0x04
#define E8390_RREAD 0x08
#define E8390_RWRITE 0x10
#define E8390_NODMA 0x20
#define E8390_PAGE0 0x00
#define E8390_PAGE1 0x40
#define E8390_PAGE2 0x80
#define E8390_PAGE3 0xc0

#define ENISR_RX 0x01
#define ENISR_TX 0x02
#define ENISR_OVER 0x10
#define ENISR_COUNTERS 0x20
#define ENISR_RDC 0x40
#define ENISR_RESET 0x80
#define ENISR_ALL 0x3f

/* Linux's ne/ne2k-pci layout: 12 transmit pages at 0x40, ring to 0x80. */
#define TX_START 0x40
#define RX_START 0x4c
#define RX_STOP 0x80

struct wire {
	struct net_port port;
	u8 frames[8][2048];
	size_t lens[8];
	unsigned sent;
	unsigned accepts;
	struct net_rxq *q; /* a back end's queue behind the wire, or NULL */
};

struct rig {
	struct pio_bus *pio;
	struct phys_mem mem;
	struct pci_bus pci;
	struct ne2000 *isa, *rtl;
	struct wire isa_wire, rtl_wire;
	bool level[16];
	unsigned edges[16];
};

static const u8 isa_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01};
static const u8 rtl_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02};

static void wire_send(struct net_port *port, const u8 *frame, size_t len)
{
	struct wire *w = container_of(port, struct wire, port);

	if (w->sent < ARRAY_SIZE(w->frames) && len <= sizeof(w->frames[0])) {
		memcpy(w->frames[w->sent], frame, len);
		w->lens[w->sent] = len;
	}
	w->sent++;
}

static void wire_accept(struct net_port *port)
{
	struct wire *w = container_of(port, struct wire, port);

	w->accepts++;
	if (w->q)
		net_rxq_flush(port, w->q);
}

static void wire_close(struct net_port *port)
{
}

static const struct net_port_ops wire_ops = {wire_send, wire_accept,
					     wire_close};

static void irq_cb(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	if (level && !r->level[pin])
		r->edges[pin]++;
	r->level[pin] = level;
}

static void rig_init(struct rig *r)
{
	struct irq_line isa_irq = {irq_cb, r, ISA_IRQ};
	struct irq_line pci_irq = {irq_cb, r, PCI_IRQ};
	char err[128];

	memset(r, 0, sizeof(*r));
	r->pio = pio_bus_new();
	CHECK_EQ(mem_init(&r->mem, RAM_SIZE, RAM_SIZE), 0);
	CHECK_EQ(pci_bus_init(&r->pci, r->pio, &r->mem), 0);
	r->isa_wire.port.ops = &wire_ops;
	r->rtl_wire.port.ops = &wire_ops;
	CHECK_EQ(ne2000_isa_create(r->pio, ISA_BASE, &isa_irq, isa_mac,
				   &r->isa_wire.port, &r->isa, err,
				   sizeof(err)),
		 0);
	CHECK_EQ(rtl8029_create(&r->pci, RTL_DEVFN, &pci_irq, rtl_mac,
				&r->rtl_wire.port, NULL, 0, &r->rtl, err,
				sizeof(err)),
		 0);
	/* What SeaBIOS does: BAR0, I/O and bus master on. */
	pci_config_write(&r->pci, RTL_DEVFN, PCI_BAR0, PCI_IO, 4);
	pci_config_write(&r->pci, RTL_DEVFN, PCI_COMMAND,
			 PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

static void rig_free(struct rig *r)
{
	struct device d = ne2000_device(r->isa);

	d.ops->destroy(d.opaque);
	d = ne2000_device(r->rtl);
	d.ops->destroy(d.opaque);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
}

static void out8(struct rig *r, u16 base, u16 reg, u8 v)
{
	pio_write(r->pio, (u16)(base + reg), v, 1);
}

static u8 in8(struct rig *r, u16 base, u16 reg)
{
	return (u8)pio_read(r->pio, (u16)(base + reg), 1);
}

static struct dp8390 *chip_of(struct ne2000 *nic)
{
	return &nic->chip;
}

/* --- what the drivers do ------------------------------------------------ */

/* ne.c / ne2k-pci: "preliminary verification that we have a 8390". */
static bool linux_verify_8390(struct rig *r, u16 base)
{
	u8 reg0 = in8(r, base, CMD);

	if (reg0 == 0xff)
		return false;
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE1 + E8390_STOP);
	(void)in8(r, base, 0x0d);
	out8(r, base, 0x0d, 0xff);
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE0);
	(void)in8(r, base, EN0_COUNTER0);
	return in8(r, base, EN0_COUNTER0) == 0;
}

/* outb(inb(NE_RESET), NE_RESET), then ISR.RST must show. */
static bool linux_reset(struct rig *r, u16 base)
{
	bool ack;

	out8(r, base, RESET, in8(r, base, RESET));
	ack = in8(r, base, EN0_ISR) & ENISR_RESET;
	out8(r, base, EN0_ISR, 0xff);
	return ack;
}

/* The program_seq both drivers write before reading the PROM. */
static void linux_prom_setup(struct rig *r, u16 base, u8 dcr)
{
	static const u8 seq[][2] = {
		{E8390_NODMA + E8390_PAGE0 + E8390_STOP, CMD},
		{0, EN0_DCFG},
		{0x00, EN0_RCNTLO},
		{0x00, EN0_RCNTHI},
		{0x00, EN0_IMR},
		{0xff, EN0_ISR},
		{0x20, EN0_RXCR},
		{0x02, EN0_TXCR},
		{32, EN0_RCNTLO},
		{0x00, EN0_RCNTHI},
		{0x00, EN0_RSARLO},
		{0x00, EN0_RSARHI},
		{E8390_RREAD + E8390_START, CMD},
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(seq); i++)
		out8(r, base, seq[i][1],
		     seq[i][1] == EN0_DCFG ? dcr : seq[i][0]);
}

/* NS8390_init(dev, 1) + ei_open as lib8390.c does it (word mode). */
static void linux_init(struct rig *r, u16 base, const u8 *mac)
{
	unsigned i;

	out8(r, base, CMD, E8390_NODMA + E8390_PAGE0 + E8390_STOP);
	out8(r, base, EN0_DCFG, 0x49);
	out8(r, base, EN0_RCNTLO, 0);
	out8(r, base, EN0_RCNTHI, 0);
	out8(r, base, EN0_RXCR, 0x20);
	out8(r, base, EN0_TXCR, 0x02);
	out8(r, base, EN0_TPSR, TX_START);
	out8(r, base, EN0_STARTPG, RX_START);
	out8(r, base, EN0_BOUNDARY, RX_STOP - 1);
	out8(r, base, EN0_STOPPG, RX_STOP);
	out8(r, base, EN0_ISR, 0xff);
	out8(r, base, EN0_IMR, 0);
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE1 + E8390_STOP);
	for (i = 0; i < 6; i++)
		out8(r, base, EN1_PHYS + i, mac[i]);
	for (i = 0; i < 8; i++)
		out8(r, base, EN1_MULT + i, 0);
	out8(r, base, EN1_CURPAG, RX_START);
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE0 + E8390_STOP);
	out8(r, base, EN0_ISR, 0xff);
	out8(r, base, EN0_IMR, ENISR_ALL);
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE0 + E8390_START);
	out8(r, base, EN0_TXCR, 0x00);
	out8(r, base, EN0_RXCR, 0x04); /* E8390_RXCONFIG: broadcasts */
}

static void remote_setup(struct rig *r, u16 base, u16 addr, u16 count, u8 cmd)
{
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE0 + E8390_START);
	out8(r, base, EN0_RCNTLO, (u8)count);
	out8(r, base, EN0_RCNTHI, (u8)(count >> 8));
	out8(r, base, EN0_RSARLO, (u8)addr);
	out8(r, base, EN0_RSARHI, (u8)(addr >> 8));
	out8(r, base, CMD, cmd + E8390_START);
}

/* ne_block_output in word mode (outsw), then wait for RDC. */
static void block_output(struct rig *r, u16 base, const u8 *buf, u16 count,
			 u8 page, unsigned width)
{
	unsigned i;

	if (count & 1)
		count++;
	out8(r, base, EN0_ISR, ENISR_RDC);
	remote_setup(r, base, (u16)(page << 8), count, E8390_RWRITE);
	for (i = 0; i + width <= count; i += width)
		pio_write(r->pio, (u16)(base + DATAPORT),
			  width == 4 ? get_le32(buf + i) : get_le16(buf + i),
			  width);
	if (i < count)
		pio_write(r->pio, (u16)(base + DATAPORT), get_le16(buf + i), 2);
	CHECK(in8(r, base, EN0_ISR) & ENISR_RDC);
	out8(r, base, EN0_ISR, ENISR_RDC);
}

/* ne2k_pci_block_input: insl, then inw/inb for the tail. */
static void block_input(struct rig *r, u16 base, u8 *buf, u16 count, u16 addr)
{
	unsigned i;

	remote_setup(r, base, addr, count, E8390_RREAD);
	for (i = 0; i + 4 <= count; i += 4)
		put_le32(buf + i, pio_read(r->pio, (u16)(base + DATAPORT), 4));
	if (count & 2) {
		put_le16(buf + i,
			 (u16)pio_read(r->pio, (u16)(base + DATAPORT), 2));
		i += 2;
	}
	if (count & 1)
		buf[i] = (u8)pio_read(r->pio, (u16)(base + DATAPORT), 1);
	out8(r, base, EN0_ISR, ENISR_RDC);
}

/* ne2k_pci_get_8390_hdr: one inl at the start of the page. */
static void get_hdr(struct rig *r, u16 base, u8 page, u8 hdr[4])
{
	remote_setup(r, base, (u16)(page << 8), 4, E8390_RREAD);
	put_le32(hdr, pio_read(r->pio, (u16)(base + DATAPORT), 4));
	out8(r, base, EN0_ISR, ENISR_RDC);
}

static u8 read_curr(struct rig *r, u16 base)
{
	u8 curr;

	out8(r, base, CMD, E8390_NODMA + E8390_PAGE1);
	curr = in8(r, base, EN1_CURPAG);
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE0);
	return curr;
}

/*
 * One pass of lib8390's ei_receive: the packet after BNRY, read with the
 * driver's wrap split; returns its length (without FCS) or 0 if none.
 */
static size_t linux_receive_one(struct rig *r, u16 base, u8 *frame)
{
	u8 hdr[4], this_frame = in8(r, base, EN0_BOUNDARY) + 1;
	u16 count, offset;
	size_t len, first;

	if (this_frame >= RX_STOP)
		this_frame = RX_START;
	if (this_frame == read_curr(r, base))
		return 0;
	get_hdr(r, base, this_frame, hdr);
	count = get_le16(hdr + 2);
	CHECK(hdr[0] & 0x01);
	len = count - 4;
	CHECK(len >= 60 && len <= 1518);
	offset = (u16)((this_frame << 8) + 4);
	first = MIN(len, (size_t)(RX_STOP * 256 - offset));
	block_input(r, base, frame, (u16)first, offset);
	if (first < len)
		block_input(r, base, frame + first, (u16)(len - first),
			    RX_START << 8);
	out8(r, base, EN0_BOUNDARY,
	     hdr[1] - 1 < RX_START ? RX_STOP - 1 : hdr[1] - 1);
	return len;
}

static void make_frame(u8 *f, size_t len, const u8 *dest, unsigned seed)
{
	size_t i;

	memcpy(f, dest, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x09", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (i = 14; i < len; i++)
		f[i] = (u8)(i * 7 + seed);
}

/* --- tests --------------------------------------------------------------- */

static void test_isa_linux_probe(void)
{
	struct rig r;
	u8 prom[32];
	unsigned i;
	bool words = true;

	rig_init(&r);
	CHECK(linux_verify_8390(&r, ISA_BASE));
	CHECK(linux_reset(&r, ISA_BASE));
	linux_prom_setup(&r, ISA_BASE, 0x48);
	for (i = 0; i < 32; i += 2) {
		prom[i] = in8(&r, ISA_BASE, DATAPORT);
		prom[i + 1] = in8(&r, ISA_BASE, DATAPORT);
		if (prom[i] != prom[i + 1])
			words = false;
	}
	CHECK(words); /* a 16-bit NE2000, not an NE1000 */
	for (i = 0; i < 16; i++)
		prom[i] = prom[i + i];
	CHECK(!memcmp(prom, isa_mac, 6));
	CHECK_EQ(prom[14], 0x57);
	CHECK_EQ(prom[15], 0x57);
	/* RBCR = 32 bytes were read: remote DMA complete. */
	CHECK(in8(&r, ISA_BASE, EN0_ISR) & ENISR_RDC);
	/* The IRQ autoprobe: IMR = 0x50, a 0-byte read, CR = 0x0A. */
	out8(&r, ISA_BASE, EN0_ISR, 0xff);
	CHECK(!r.level[ISA_IRQ]);
	out8(&r, ISA_BASE, EN0_IMR, 0x50);
	out8(&r, ISA_BASE, EN0_RCNTLO, 0);
	out8(&r, ISA_BASE, EN0_RCNTHI, 0);
	out8(&r, ISA_BASE, CMD, E8390_RREAD + E8390_START);
	CHECK(r.level[ISA_IRQ]);
	out8(&r, ISA_BASE, EN0_IMR, 0);
	CHECK(!r.level[ISA_IRQ]);
	/* Ports outside the card stay unowned. */
	CHECK_EQ(pio_read(r.pio, ISA_BASE + 0x20, 1), 0xff);
	/* A taken or misaligned base is refused with a reason. */
	{
		struct irq_line none = {0};
		struct ne2000 *nic = NULL;
		char err[128];

		CHECK(ne2000_isa_create(r.pio, ISA_BASE, &none, isa_mac, NULL,
					&nic, err, sizeof(err)) < 0);
		CHECK(strstr(err, "taken") != NULL);
		CHECK(ne2000_isa_create(r.pio, 0x310, &none, isa_mac, NULL,
					&nic, err, sizeof(err)) < 0);
		CHECK(ne2000_isa_create(r.pio, 0xffe0, &none, isa_mac, NULL,
					&nic, err, sizeof(err)) == 0);
		CHECK_EQ(in8(&r, 0xffe0, CMD), 0x21);
		ne2000_device(nic).ops->destroy(nic);
		CHECK_EQ(in8(&r, 0xffe0, CMD), 0xff);
	}
	rig_free(&r);
}

static void test_pci_config(void)
{
	struct rig r;

	rig_init(&r);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_VENDOR_ID, 4),
		 0x802910ec);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_REVISION_ID, 4) >> 8,
		 0x020000);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_SUBSYSTEM_VENDOR_ID, 4),
		 0x802910ec);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR0: 32 bytes of I/O. */
	pci_config_write(&r.pci, RTL_DEVFN, PCI_BAR0, 0xffffffff, 4);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_BAR0, 4), 0xffffffe1);
	pci_config_write(&r.pci, RTL_DEVFN, PCI_BAR0, PCI_IO, 4);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_BAR0, 4), PCI_IO | 1);
	/* No ROM given: the ROM BAR is not implemented. */
	pci_config_write(&r.pci, RTL_DEVFN, PCI_ROM_ADDRESS, 0xfffff800, 4);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_ROM_ADDRESS, 4), 0);
	/* I/O decoding off: the ports float. */
	pci_config_write(&r.pci, RTL_DEVFN, PCI_COMMAND, 0, 2);
	CHECK_EQ(in8(&r, PCI_IO, CMD), 0xff);
	pci_config_write(&r.pci, RTL_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
	CHECK_EQ(in8(&r, PCI_IO, CMD), 0x21);
	rig_free(&r);
}

static void test_pci_rom(void)
{
	struct rig r;
	struct irq_line none = {0};
	struct ne2000 *nic;
	u8 rom[3000];
	char err[128];
	unsigned i;

	rig_init(&r);
	for (i = 0; i < sizeof(rom); i++)
		rom[i] = (u8)(i * 3);
	rom[0] = 0x55;
	rom[1] = 0xaa;
	CHECK_EQ(rtl8029_create(&r.pci, PCI_DEVFN(4, 0), &none, rtl_mac, NULL,
				rom, sizeof(rom), &nic, err, sizeof(err)),
		 0);
	/* 3000 bytes: a 4 KiB ROM BAR. */
	pci_config_write(&r.pci, PCI_DEVFN(4, 0), PCI_ROM_ADDRESS, 0xffffffff,
			 4);
	CHECK_EQ(pci_config_read(&r.pci, PCI_DEVFN(4, 0), PCI_ROM_ADDRESS, 4),
		 0xfffff001);
	pci_config_write(&r.pci, PCI_DEVFN(4, 0), PCI_ROM_ADDRESS,
			 0xfebf0000 | 1, 4);
	pci_config_write(&r.pci, PCI_DEVFN(4, 0), PCI_COMMAND,
			 PCI_COMMAND_MEMORY, 2);
	CHECK_EQ(mem_read(&r.mem, 0xfebf0000, 2), 0xaa55);
	CHECK_EQ(mem_read(&r.mem, 0xfebf0000 + 2999, 1), (u8)(2999 * 3));
	CHECK_EQ(mem_read(&r.mem, 0xfebf0000 + 3000, 1), 0);
	/* A slot that is taken and a ROM that is too large are errors. */
	CHECK(rtl8029_create(&r.pci, PCI_DEVFN(4, 0), &none, rtl_mac, NULL,
			     NULL, 0, &nic, err, sizeof(err)) < 0);
	CHECK(strstr(err, "taken") != NULL);
	CHECK(rtl8029_create(&r.pci, PCI_DEVFN(5, 0), &none, rtl_mac, NULL, rom,
			     (2u << 20), &nic, err, sizeof(err)) < 0);
	ne2000_device(nic).ops->destroy(nic);
	rig_free(&r);
}

static void test_pci_linux_init(void)
{
	struct rig r;
	u8 prom[32];
	unsigned i;

	rig_init(&r);
	CHECK(linux_verify_8390(&r, PCI_IO));
	CHECK(linux_reset(&r, PCI_IO));
	linux_prom_setup(&r, PCI_IO, 0x49);
	/* Word mode: each inb takes a whole word; the MAC is the first 6. */
	for (i = 0; i < 32; i++)
		prom[i] = in8(&r, PCI_IO, DATAPORT);
	CHECK(!memcmp(prom, rtl_mac, 6));
	CHECK_EQ(prom[14], 0x57);
	CHECK_EQ(prom[15], 0x57);
	/* The RTL8029AS ID on page 0 and page 3. */
	CHECK_EQ(in8(&r, PCI_IO, 0x0a), 'P');
	CHECK_EQ(in8(&r, PCI_IO, 0x0b), 'C');
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_PAGE3);
	CHECK_EQ(in8(&r, PCI_IO, 0x0e), 0x29);
	CHECK_EQ(in8(&r, PCI_IO, 0x0f), 0x80);
	CHECK_EQ(in8(&r, PCI_IO, 0x05), 0x40); /* CONFIG2: 10BaseT */
	CHECK_EQ(in8(&r, PCI_IO, 0x06), 0x00); /* CONFIG3: half duplex */
	/* CONFIG3 is locked until 9346CR enables config writes. */
	out8(&r, PCI_IO, 0x06, 0x40);
	CHECK_EQ(in8(&r, PCI_IO, 0x06), 0x00);
	/* set_realtek_fdx() */
	out8(&r, PCI_IO, CMD, 0xc0 + E8390_NODMA);
	out8(&r, PCI_IO, 0x01, 0xc0);
	out8(&r, PCI_IO, 0x06, 0x40);
	out8(&r, PCI_IO, 0x01, 0x00);
	out8(&r, PCI_IO, CMD, E8390_PAGE0 + E8390_NODMA);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_PAGE3);
	CHECK_EQ(in8(&r, PCI_IO, 0x06), 0x40);
	CHECK_EQ(in8(&r, PCI_IO, 0x01), 0x00);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_PAGE0);
	/* The ISA card has no 8029 ID. */
	CHECK(in8(&r, ISA_BASE, 0x0a) != 'P');
	rig_free(&r);
}

/* Transmit through both cards with 16- and 32-bit data-port writes. */
static void test_transmit(void)
{
	static const u8 bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct rig r;
	u8 frame[1514];

	rig_init(&r);
	linux_init(&r, ISA_BASE, isa_mac);
	linux_init(&r, PCI_IO, rtl_mac);
	make_frame(frame, sizeof(frame), bcast, 1);
	block_output(&r, ISA_BASE, frame, 61, TX_START, 2);
	out8(&r, ISA_BASE, EN0_TPSR, TX_START);
	out8(&r, ISA_BASE, EN0_TCNTLO, 61);
	out8(&r, ISA_BASE, EN0_TCNTHI, 0);
	CHECK(!r.level[ISA_IRQ]);
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_TRANS + E8390_START);
	CHECK_EQ(r.isa_wire.sent, 1);
	CHECK_EQ(r.isa_wire.lens[0], 61);
	CHECK(!memcmp(r.isa_wire.frames[0], frame, 61));
	CHECK_EQ(in8(&r, ISA_BASE, CMD) & E8390_TRANS, 0);
	CHECK_EQ(in8(&r, ISA_BASE, EN0_TSR) & 0x01, 0x01);
	CHECK(in8(&r, ISA_BASE, EN0_ISR) & ENISR_TX);
	CHECK(r.level[ISA_IRQ]);
	out8(&r, ISA_BASE, EN0_ISR, ENISR_TX);
	CHECK(!r.level[ISA_IRQ]);

	block_output(&r, PCI_IO, frame, sizeof(frame), TX_START, 4);
	out8(&r, PCI_IO, EN0_TPSR, TX_START);
	out8(&r, PCI_IO, EN0_TCNTLO, (u8)sizeof(frame));
	out8(&r, PCI_IO, EN0_TCNTHI, sizeof(frame) >> 8);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_TRANS + E8390_START);
	CHECK_EQ(r.rtl_wire.sent, 1);
	CHECK_EQ(r.rtl_wire.lens[0], sizeof(frame));
	CHECK(!memcmp(r.rtl_wire.frames[0], frame, sizeof(frame)));
	CHECK(r.level[PCI_IRQ]);
	CHECK_EQ(r.isa_wire.sent, 1);
	/* INTx disable masks the line but not the status bit. */
	pci_config_write(&r.pci, RTL_DEVFN, PCI_COMMAND,
			 PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE, 2);
	CHECK(!r.level[PCI_IRQ]);
	CHECK(pci_config_read(&r.pci, RTL_DEVFN, PCI_STATUS, 2) & 0x08);
	pci_config_write(&r.pci, RTL_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
	CHECK(r.level[PCI_IRQ]);
	out8(&r, PCI_IO, EN0_ISR, 0xff);
	CHECK(!r.level[PCI_IRQ]);
	CHECK_EQ(pci_config_read(&r.pci, RTL_DEVFN, PCI_STATUS, 2) & 0x08, 0);
	/* Transmitter in loopback (TCR = 2): nothing reaches the wire. */
	out8(&r, PCI_IO, EN0_TXCR, 0x02);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_TRANS + E8390_START);
	CHECK_EQ(r.rtl_wire.sent, 1);
	CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_TX);
	/* A stopped chip does not transmit. */
	out8(&r, PCI_IO, EN0_TXCR, 0x00);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_STOP);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_TRANS);
	CHECK_EQ(r.rtl_wire.sent, 1);
	rig_free(&r);
}

/* Frames of many sizes through a ring that wraps many times. */
static void test_receive_ring_wrap(void)
{
	struct rig r;
	struct dp8390 *dp;
	u8 frame[1518], got[1600];
	unsigned n, wraps = 0;
	u8 last_curr = RX_START;

	rig_init(&r);
	dp = chip_of(r.rtl);
	linux_init(&r, PCI_IO, rtl_mac);
	for (n = 0; n < 300; n++) {
		size_t len = 60 + (n * 397) % (1514 - 60 + 1), got_len;
		u8 curr;

		make_frame(frame, len, rtl_mac, n);
		CHECK(dp8390_can_receive(dp, len));
		net_port_deliver(&r.rtl_wire.port, frame, len);
		CHECK(r.level[PCI_IRQ]);
		CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_RX);
		CHECK_EQ(in8(&r, PCI_IO, EN0_RSR), 0x01);
		curr = read_curr(&r, PCI_IO);
		if (curr < last_curr)
			wraps++;
		last_curr = curr;
		got_len = linux_receive_one(&r, PCI_IO, got);
		CHECK_EQ(got_len, len);
		CHECK(!memcmp(got, frame, len));
		CHECK_EQ(linux_receive_one(&r, PCI_IO, got), 0);
		out8(&r, PCI_IO, EN0_ISR, ENISR_RX);
	}
	CHECK(wraps > 5);
	/* A runt is padded to 60 bytes of zeros. */
	make_frame(frame, 20, rtl_mac, 0);
	net_port_deliver(&r.rtl_wire.port, frame, 20);
	CHECK_EQ(linux_receive_one(&r, PCI_IO, got), 60);
	CHECK(!memcmp(got, frame, 20));
	for (n = 20; n < 60; n++)
		CHECK_EQ(got[n], 0);
	rig_free(&r);
}

/*
 * One packet read in a single remote DMA across PSTOP: the address wraps
 * to PSTART by itself. The header also carries the FCS length.
 */
static void test_remote_dma_wrap(void)
{
	struct rig r;
	struct dp8390 *dp;
	u8 frame[1000], got[1008], hdr[4];
	u8 page = RX_STOP - 2;

	rig_init(&r);
	dp = chip_of(r.isa);
	linux_init(&r, ISA_BASE, isa_mac);
	/* Move CURR near the end of the ring, empty ring. */
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE1);
	out8(&r, ISA_BASE, EN1_CURPAG, page);
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE0);
	out8(&r, ISA_BASE, EN0_BOUNDARY, page - 1);
	make_frame(frame, sizeof(frame), isa_mac, 3);
	dp8390_receive(dp, frame, sizeof(frame));
	get_hdr(&r, ISA_BASE, page, hdr);
	CHECK_EQ(hdr[0], 0x01);
	/* 4 + 1000 + 4 bytes: 4 pages, wrapping after 2. */
	CHECK_EQ(hdr[1], RX_START + 2);
	CHECK_EQ(get_le16(hdr + 2), 1004);
	CHECK_EQ(read_curr(&r, ISA_BASE), RX_START + 2);
	remote_setup(&r, ISA_BASE, (u16)((page << 8) + 4), 1004, E8390_RREAD);
	for (unsigned i = 0; i < 1004; i += 2)
		put_le16(got + i, (u16)pio_read(r.pio, ISA_BASE + DATAPORT, 2));
	CHECK(!memcmp(got, frame, sizeof(frame)));
	CHECK_EQ(get_le32(got + 1000), (u32)crc32(0, frame, sizeof(frame)));
	CHECK(in8(&r, ISA_BASE, EN0_ISR) & ENISR_RDC);
	/* CRDA (read back as RSAR) is where the DMA stopped, past the wrap. */
	CHECK_EQ(in8(&r, ISA_BASE, EN0_RSARHI), RX_START + 1);
	rig_free(&r);
}

static void test_overflow(void)
{
	struct rig r;
	struct dp8390 *dp;
	u8 frame[1514], got[1600];
	unsigned stored = 0, i;
	u8 curr;

	rig_init(&r);
	dp = chip_of(r.rtl);
	linux_init(&r, PCI_IO, rtl_mac);
	make_frame(frame, sizeof(frame), rtl_mac, 9);
	/* 52 ring pages, 6 per full frame: 8 fit before CURR would hit BNRY. */
	while (dp8390_can_receive(dp, sizeof(frame)) && stored < 100) {
		CHECK(net_port_deliver(&r.rtl_wire.port, frame, sizeof(frame)));
		stored++;
	}
	CHECK_EQ(stored, 8);
	CHECK(!net_port_deliver(&r.rtl_wire.port, frame, sizeof(frame)));
	CHECK_EQ(in8(&r, PCI_IO, EN0_ISR) & ENISR_OVER, 0);
	/* A frame forced in anyway is dropped and counted. */
	curr = read_curr(&r, PCI_IO);
	for (i = 0; i < 3; i++)
		dp8390_receive(dp, frame, sizeof(frame));
	CHECK_EQ(read_curr(&r, PCI_IO), curr);
	CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_OVER);
	CHECK(in8(&r, PCI_IO, EN0_RSR) & 0x10); /* MPA */
	CHECK_EQ(in8(&r, PCI_IO, EN0_COUNTER2), 3);
	CHECK_EQ(in8(&r, PCI_IO, EN0_COUNTER2), 0); /* cleared by reading */
	/* Small frames still fit in what is left. */
	CHECK(dp8390_can_receive(dp, 60));
	/* Draining one packet makes room and calls the back end. */
	r.rtl_wire.accepts = 0;
	CHECK_EQ(linux_receive_one(&r, PCI_IO, got), sizeof(frame));
	CHECK(r.rtl_wire.accepts > 0);
	CHECK(dp8390_can_receive(dp, sizeof(frame)));
	/* The 8 stored frames all come out intact. */
	for (i = 1; i < stored; i++) {
		CHECK_EQ(linux_receive_one(&r, PCI_IO, got), sizeof(frame));
		CHECK(!memcmp(got, frame, sizeof(frame)));
	}
	CHECK_EQ(linux_receive_one(&r, PCI_IO, got), 0);
	/* 128 missed packets set ISR.CNT; the counter stops at 192. */
	out8(&r, PCI_IO, EN0_ISR, 0xff);
	out8(&r, PCI_IO, EN0_RXCR, 0x20); /* monitor: nothing is stored */
	for (i = 0; i < 127; i++)
		dp8390_receive(dp, frame, 60);
	CHECK_EQ(in8(&r, PCI_IO, EN0_ISR) & ENISR_COUNTERS, 0);
	dp8390_receive(dp, frame, 60);
	CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_COUNTERS);
	for (i = 0; i < 200; i++)
		dp8390_receive(dp, frame, 60);
	CHECK_EQ(in8(&r, PCI_IO, EN0_COUNTER2), 0xc0);
	rig_free(&r);
}

/* bitrev(~crc32) is the MSB-first CRC the DP8390 hashes with. */
static unsigned mc_index(const u8 *addr)
{
	u32 c = ~(u32)crc32(0, addr, 6), rev = 0;
	unsigned i;

	for (i = 0; i < 32; i++)
		if (c & BIT(i))
			rev |= BIT(31 - i);
	return rev >> 26;
}

static bool delivered(struct rig *r, const u8 *dest)
{
	u8 frame[64], got[1600];

	size_t len;

	make_frame(frame, sizeof(frame), dest, 5);
	net_port_deliver(&r->isa_wire.port, frame, sizeof(frame));
	len = linux_receive_one(r, ISA_BASE, got);
	/* As Linux's ei_receive ends: the next frame may come. */
	out8(r, ISA_BASE, EN0_ISR, ENISR_RX);
	return len == sizeof(frame);
}

static void test_filters(void)
{
	static const u8 bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const u8 other[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x77};
	static const u8 mc1[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	u8 mc2[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x02};
	unsigned idx = mc_index(mc1), n;
	struct rig r;

	rig_init(&r);
	linux_init(&r, ISA_BASE, isa_mac);
	CHECK(delivered(&r, isa_mac));
	CHECK(!delivered(&r, other));
	CHECK(delivered(&r, bcast));
	/* Multicast: only with AM and the address's MAR bit. */
	for (n = 2; mc_index(mc2) == idx; n++)
		mc2[5] = (u8)n;
	CHECK(!delivered(&r, mc1));
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE1);
	out8(&r, ISA_BASE, EN1_MULT + (idx >> 3), (u8)BIT(idx & 7));
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE0);
	CHECK(!delivered(&r, mc1));
	out8(&r, ISA_BASE, EN0_RXCR, 0x0c);
	CHECK(delivered(&r, mc1));
	CHECK_EQ(in8(&r, ISA_BASE, EN0_RSR), 0x21); /* PRX, PHY */
	CHECK(!delivered(&r, mc2));
	/* Without AB, broadcasts are dropped. */
	out8(&r, ISA_BASE, EN0_RXCR, 0x08);
	CHECK(!delivered(&r, bcast));
	/* Promiscuous: every physical address. */
	out8(&r, ISA_BASE, EN0_RXCR, 0x14);
	CHECK(delivered(&r, other));
	CHECK(delivered(&r, bcast));
	/* PAR, not the PROM, is the station address. */
	out8(&r, ISA_BASE, EN0_RXCR, 0x04);
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE1);
	for (n = 0; n < 6; n++)
		out8(&r, ISA_BASE, EN1_PHYS + n, other[n]);
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE0);
	CHECK(delivered(&r, other));
	CHECK(!delivered(&r, isa_mac));
	rig_free(&r);
}

static void test_rdc_and_imr(void)
{
	struct rig r;

	rig_init(&r);
	linux_init(&r, ISA_BASE, isa_mac);
	out8(&r, ISA_BASE, EN0_IMR, 0);
	/* RBCR = 0: RDC at once, for reads and writes. */
	remote_setup(&r, ISA_BASE, 0x4000, 0, E8390_RREAD);
	CHECK(in8(&r, ISA_BASE, EN0_ISR) & ENISR_RDC);
	CHECK(!r.level[ISA_IRQ]);
	out8(&r, ISA_BASE, EN0_IMR, ENISR_RDC);
	CHECK(r.level[ISA_IRQ]);
	out8(&r, ISA_BASE, EN0_ISR, ENISR_RDC);
	CHECK(!r.level[ISA_IRQ]);
	remote_setup(&r, ISA_BASE, 0x4000, 0, E8390_RWRITE);
	CHECK(r.level[ISA_IRQ]);
	out8(&r, ISA_BASE, EN0_ISR, ENISR_RDC);
	/* An odd count with word transfers still completes (iPXE). */
	remote_setup(&r, ISA_BASE, 0x4000, 3, E8390_RWRITE);
	pio_write(r.pio, ISA_BASE + DATAPORT, 0x1234, 2);
	CHECK(!r.level[ISA_IRQ]);
	pio_write(r.pio, ISA_BASE + DATAPORT, 0x5678, 2);
	CHECK(r.level[ISA_IRQ]);
	/* The RST bit never interrupts. */
	out8(&r, ISA_BASE, EN0_ISR, 0xff);
	out8(&r, ISA_BASE, EN0_IMR, 0xff);
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_STOP);
	CHECK(in8(&r, ISA_BASE, EN0_ISR) & ENISR_RESET);
	CHECK(!r.level[ISA_IRQ]);
	CHECK_EQ(in8(&r, ISA_BASE, CMD) & 0x03, E8390_STOP);
	/* Page 2 reads back the configuration. */
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE2);
	CHECK_EQ(in8(&r, ISA_BASE, 0x01), RX_START);
	CHECK_EQ(in8(&r, ISA_BASE, 0x02), RX_STOP);
	CHECK_EQ(in8(&r, ISA_BASE, 0x0e), 0x49);
	CHECK_EQ(in8(&r, ISA_BASE, 0x0f), 0x7f);
	rig_free(&r);
}

/* iPXE's ns8390 probe: a test pattern in byte mode, then word mode. */
static void test_ipxe_probe(void)
{
	static const u8 test[] = "NE*000 memory";
	struct rig r;
	u8 buf[sizeof(test)];
	unsigned i;

	rig_init(&r);
	out8(&r, PCI_IO, RESET, in8(&r, PCI_IO, RESET));
	out8(&r, PCI_IO, CMD, E8390_STOP | E8390_NODMA);
	out8(&r, PCI_IO, EN0_RXCR, 0x20);
	out8(&r, PCI_IO, EN0_DCFG, 0x48);
	out8(&r, PCI_IO, EN0_STARTPG, 0x20);
	out8(&r, PCI_IO, EN0_STOPPG, 0x40);
	/* 0x2000 is no memory on a 16-bit card: the pattern is not kept. */
	out8(&r, PCI_IO, EN0_ISR, ENISR_RDC);
	remote_setup(&r, PCI_IO, 0x2000, sizeof(test), E8390_RWRITE);
	for (i = 0; i < sizeof(test); i++)
		out8(&r, PCI_IO, DATAPORT, test[i]);
	CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_RDC);
	remote_setup(&r, PCI_IO, 0x2000, sizeof(test), E8390_RREAD);
	for (i = 0; i < sizeof(test); i++)
		buf[i] = in8(&r, PCI_IO, DATAPORT);
	CHECK(memcmp(buf, test, sizeof(test)) != 0);
	/* 16-bit at 0x4000: it is. */
	out8(&r, PCI_IO, EN0_DCFG, 0x49);
	out8(&r, PCI_IO, EN0_STARTPG, 0x40);
	out8(&r, PCI_IO, EN0_STOPPG, 0x80);
	out8(&r, PCI_IO, EN0_ISR, ENISR_RDC);
	remote_setup(&r, PCI_IO, 0x4000, sizeof(test), E8390_RWRITE);
	for (i = 0; i < (sizeof(test) + 1) / 2; i++)
		pio_write(r.pio, PCI_IO + DATAPORT,
			  test[2 * i] | (2 * i + 1 < sizeof(test) ?
						 test[2 * i + 1] << 8 :
						 0),
			  2);
	CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_RDC);
	remote_setup(&r, PCI_IO, 0x4000, sizeof(test), E8390_RREAD);
	for (i = 0; i < sizeof(test); i += 2) {
		u16 w = (u16)pio_read(r.pio, PCI_IO + DATAPORT, 2);

		buf[i] = (u8)w;
		if (i + 1 < sizeof(test))
			buf[i + 1] = (u8)(w >> 8);
	}
	CHECK(!memcmp(buf, test, sizeof(test)));
	rig_free(&r);
}

static void test_save_load(void)
{
	struct rig r;
	struct snap_writer w;
	struct snap_reader rd;
	struct device d;
	u8 frame[300], got[1600];

	rig_init(&r);
	linux_init(&r, PCI_IO, rtl_mac);
	make_frame(frame, sizeof(frame), rtl_mac, 4);
	net_port_deliver(&r.rtl_wire.port, frame, sizeof(frame));
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_PAGE3);
	out8(&r, PCI_IO, 0x01, 0xc0);
	out8(&r, PCI_IO, 0x06, 0x40);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_PAGE0);
	d = ne2000_device(r.rtl);
	snap_writer_init(&w);
	CHECK_EQ(d.ops->save(d.opaque, &w), 0);
	d.ops->reset(d.opaque);
	CHECK(!r.level[PCI_IRQ]);
	CHECK_EQ(read_curr(&r, PCI_IO), 0);
	/* A new process resumes into a card whose BAR0 is not mapped yet. */
	pci_config_write(&r.pci, RTL_DEVFN, PCI_COMMAND, 0, 2);
	pci_config_write(&r.pci, RTL_DEVFN, PCI_BAR0, 0, 4);
	CHECK_EQ(in8(&r, PCI_IO, EN0_ISR), 0xff);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK_EQ(d.ops->load(d.opaque, &rd), 0);
	CHECK(r.level[PCI_IRQ]);
	CHECK_EQ(linux_receive_one(&r, PCI_IO, got), sizeof(frame));
	CHECK(!memcmp(got, frame, sizeof(frame)));
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_PAGE3);
	CHECK_EQ(in8(&r, PCI_IO, 0x06), 0x40);
	out8(&r, PCI_IO, CMD, E8390_NODMA + E8390_PAGE0);
	/* The ISA card's sections are separate; loading it finds none. */
	d = ne2000_device(r.isa);
	CHECK(d.ops->load(d.opaque, &rd) < 0);
	snap_writer_free(&w);
	rig_free(&r);
}

/*
 * A back end with a TCP window's worth of frames queued: what lib8390's
 * ei_interrupt does (ei_receive reads at most 9 frames, then acknowledges
 * PRX; the handler loops while ISR shows something). Every frame must
 * come out, in order, with no overflow and none left in the ring once
 * the interrupt line drops: a stranded frame would wait for a retransmit.
 */
static unsigned linux_interrupt(struct rig *r, u16 base, unsigned *next_seed,
				size_t len)
{
	u8 got[1600], want[1600];
	unsigned serviced = 0, n, got_frames = 0;
	size_t l;

	while ((in8(r, base, EN0_ISR) & ENISR_ALL) && ++serviced < 12) {
		CHECK_EQ(in8(r, base, EN0_ISR) & ENISR_OVER, 0);
		for (n = 1; n < 10; n++) {
			l = linux_receive_one(r, base, got);
			if (!l)
				break;
			make_frame(want, len, rtl_mac, (*next_seed)++);
			CHECK_EQ(l, len);
			CHECK(!memcmp(got, want, len));
			got_frames++;
		}
		out8(r, base, EN0_ISR, ENISR_RX | 0x04);
	}
	return got_frames;
}

static void check_linux_drains(size_t len, unsigned frames)
{
	struct rig r;
	struct net_rxq *q = calloc(1, sizeof(*q));
	u8 frame[1514];
	unsigned i, seed = 0, got = 0, rounds = 0;

	rig_init(&r);
	r.rtl_wire.q = q;
	linux_init(&r, PCI_IO, rtl_mac);
	for (i = 0; i < frames; i++) {
		make_frame(frame, len, rtl_mac, i);
		CHECK(net_rxq_push(&r.rtl_wire.port, q, frame, len));
	}
	while (r.level[PCI_IRQ] && rounds++ < 1000)
		got += linux_interrupt(&r, PCI_IO, &seed, len);
	CHECK_EQ(got, frames);
	CHECK_EQ(q->count, 0);
	CHECK(!r.level[PCI_IRQ]);
	CHECK_EQ(in8(&r, PCI_IO, EN0_COUNTER2), 0);
	CHECK_EQ(linux_receive_one(&r, PCI_IO, frame), 0);
	free(q);
	rig_free(&r);
}

static void test_burst_linux(void)
{
	check_linux_drains(1514, 90); /* a 128 KiB window of full frames */
	check_linux_drains(60, 120);  /* ACKs: 51 would fit in the ring */
	check_linux_drains(700, 100);
}

/* iPXE polls with IMR = 0 and never acknowledges PRX. */
static void test_burst_ipxe_poll(void)
{
	struct rig r;
	struct net_rxq *q = calloc(1, sizeof(*q));
	u8 frame[1514], got[1600];
	unsigned i, n = 0, polls = 0;

	rig_init(&r);
	r.rtl_wire.q = q;
	linux_init(&r, PCI_IO, rtl_mac);
	out8(&r, PCI_IO, EN0_IMR, 0);
	for (i = 0; i < 60; i++) {
		make_frame(frame, 1514, rtl_mac, i);
		CHECK(net_rxq_push(&r.rtl_wire.port, q, frame, 1514));
	}
	while (n < 60 && polls++ < 1000) {
		if (!(in8(&r, PCI_IO, EN0_RSR) & 0x01))
			continue;
		if (!linux_receive_one(&r, PCI_IO, got))
			continue;
		make_frame(frame, 1514, rtl_mac, n++);
		CHECK(!memcmp(got, frame, 1514));
	}
	CHECK_EQ(n, 60);
	CHECK_EQ(q->count, 0);
	CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_RX);
	free(q);
	rig_free(&r);
}

/*
 * CR.RD = 011, "send packet": the DMA reads the packet under BNRY, header
 * first, for the header's byte count; then BNRY moves to the next packet.
 */
static void test_send_packet(void)
{
	struct rig r;
	u8 frame[2][700], got[800];
	unsigned i, k;

	rig_init(&r);
	linux_init(&r, PCI_IO, rtl_mac);
	/* BNRY on the first packet's page, as this command wants it. */
	out8(&r, PCI_IO, EN0_BOUNDARY, RX_START);
	for (k = 0; k < 2; k++) {
		make_frame(frame[k], sizeof(frame[k]), rtl_mac, 20 + k);
		CHECK(net_port_deliver(&r.rtl_wire.port, frame[k],
				       sizeof(frame[k])));
		out8(&r, PCI_IO, EN0_ISR, ENISR_RX);
	}
	for (k = 0; k < 2; k++) {
		u8 bnry = in8(&r, PCI_IO, EN0_BOUNDARY);

		out8(&r, PCI_IO, EN0_ISR, ENISR_RDC);
		out8(&r, PCI_IO, CMD, 0x18 + E8390_START);
		/* 4 header bytes, the frame, its FCS: 708 bytes. */
		for (i = 0; i < 708; i += 4)
			put_le32(got + i,
				 pio_read(r.pio, PCI_IO + DATAPORT, 4));
		CHECK_EQ(got[0], 0x01);
		CHECK_EQ(get_le16(got + 2), 704);
		CHECK(!memcmp(got + 4, frame[k], sizeof(frame[k])));
		CHECK(in8(&r, PCI_IO, EN0_ISR) & ENISR_RDC);
		CHECK_EQ(in8(&r, PCI_IO, EN0_BOUNDARY), got[1]);
		CHECK_EQ(got[1], bnry + 3);
	}
	CHECK_EQ(in8(&r, PCI_IO, EN0_BOUNDARY), read_curr(&r, PCI_IO));
	rig_free(&r);
}

/* --- guest nonsense: the CVEs of other NE2000 models ---------------------- */

static u32 ram_sum(const struct dp8390 *dp)
{
	return (u32)crc32(0, dp->ram, sizeof(dp->ram));
}

static void set_ring(struct rig *r, u16 base, u8 pstart, u8 pstop, u8 bnry,
		     u8 curr)
{
	out8(r, base, EN0_STARTPG, pstart);
	out8(r, base, EN0_STOPPG, pstop);
	out8(r, base, EN0_BOUNDARY, bnry);
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE1 + E8390_START);
	out8(r, base, EN1_CURPAG, curr);
	out8(r, base, CMD, E8390_NODMA + E8390_PAGE0 + E8390_START);
}

/*
 * CVE-2015-5278 (and CVE-2016-2841): QEMU's ne2000_receive looped for
 * ever when the ring pointers were nonsense (PSTART >= PSTOP, CURR past
 * PSTOP). Here every such ring drops the frame, counts it, and returns.
 */
static void test_cve_2015_5278_ring_nonsense(void)
{
	static const u8 rings[][4] = {
		/* pstart, pstop, bnry, curr */
		{0x60, 0x60, 0x60, 0x60}, {0x80, 0x40, 0x50, 0x50},
		{0x4c, 0x80, 0x4c, 0x90}, {0x4c, 0x80, 0x20, 0x4d},
		{0x00, 0x00, 0x00, 0x00}, {0xff, 0xff, 0xff, 0xff},
		{0x4c, 0x80, 0x4c, 0x80}, {0x00, 0x01, 0x00, 0x00},
	};
	struct rig r;
	struct dp8390 *dp;
	u8 frame[1514];
	unsigned i;

	rig_init(&r);
	dp = chip_of(r.isa);
	linux_init(&r, ISA_BASE, isa_mac);
	make_frame(frame, sizeof(frame), isa_mac, 2);
	for (i = 0; i < ARRAY_SIZE(rings); i++) {
		u32 before = ram_sum(dp);

		set_ring(&r, ISA_BASE, rings[i][0], rings[i][1], rings[i][2],
			 rings[i][3]);
		(void)in8(&r, ISA_BASE, EN0_COUNTER2);
		/* The last ring is valid but one page: no room, ever. */
		CHECK_EQ(dp8390_can_receive(dp, sizeof(frame)), i != 7);
		dp8390_receive(dp, frame, sizeof(frame));
		CHECK_EQ(ram_sum(dp), before);
		CHECK_EQ(in8(&r, ISA_BASE, EN0_COUNTER2), 1);
	}
	rig_free(&r);
}

/*
 * CVE-2015-5279: QEMU's ne2000_receive wrote past its memory array when
 * the ring sat at the top of the card's address space. Rings outside or
 * straddling the RAM write only the RAM pages they cover.
 */
static void test_cve_2015_5279_ring_outside_ram(void)
{
	struct rig r;
	struct dp8390 *dp;
	u8 frame[1514], hdr[4];

	rig_init(&r);
	dp = chip_of(r.isa);
	linux_init(&r, ISA_BASE, isa_mac);
	make_frame(frame, sizeof(frame), isa_mac, 6);
	/* Ring at 0xF0-0xFF: no RAM there, the frame vanishes. */
	set_ring(&r, ISA_BASE, 0xf0, 0xff, 0xfe, 0xf0);
	dp8390_receive(dp, frame, sizeof(frame));
	CHECK_EQ(read_curr(&r, ISA_BASE), 0xf6);
	/* Ring straddling the end of RAM (0xBC-0xC8). */
	memset(dp->ram, 0, sizeof(dp->ram));
	set_ring(&r, ISA_BASE, 0xbc, 0xc8, 0xbc, 0xbe);
	dp8390_receive(dp, frame, sizeof(frame));
	get_hdr(&r, ISA_BASE, 0xbe, hdr);
	CHECK_EQ(hdr[0], 0x01);
	CHECK_EQ(hdr[1], 0xc4);
	CHECK(!memcmp(dp->ram + 0xbe04 - 0x4000, frame, 0xc000 - 0xbe04));
	/* Ring straddling the start of RAM (0x3E-0x46), wrapping. */
	set_ring(&r, ISA_BASE, 0x3e, 0x46, 0x43, 0x44);
	dp8390_receive(dp, frame, sizeof(frame));
	CHECK_EQ(read_curr(&r, ISA_BASE), 0x42);
	CHECK(!memcmp(dp->ram + 0x404, frame, 0x1fc));
	CHECK(!memcmp(dp->ram, frame + 1020, 0x100));
	rig_free(&r);
}

/*
 * CVE-2018-10839: QEMU's ne2000_receive turned a huge frame size into a
 * negative int and copied out of bounds. Lengths the card cannot hold
 * are refused before a byte is read (the buffer here is only 64 bytes).
 */
static void test_cve_2018_10839_oversized_frames(void)
{
	static const size_t lens[] = {1519, 65536, (size_t)0x7fffffff + 1,
				      (size_t)0xffffffff, SIZE_MAX};
	struct rig r;
	struct dp8390 *dp;
	u8 *small = malloc(64);
	unsigned i;

	rig_init(&r);
	dp = chip_of(r.isa);
	linux_init(&r, ISA_BASE, isa_mac);
	memcpy(small, isa_mac, 6);
	memset(small + 6, 0x5a, 58);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		CHECK(dp8390_can_receive(dp, lens[i]));
		dp8390_receive(dp, small, lens[i]);
		CHECK_EQ(read_curr(&r, ISA_BASE), RX_START);
	}
	CHECK_EQ(in8(&r, ISA_BASE, EN0_COUNTER2), ARRAY_SIZE(lens));
	/* A frame larger than a whole (tiny) ring overflows. */
	set_ring(&r, ISA_BASE, 0x50, 0x52, 0x51, 0x50);
	dp8390_receive(dp, small, 64);
	CHECK_EQ(read_curr(&r, ISA_BASE), 0x50);
	CHECK(in8(&r, ISA_BASE, EN0_ISR) & ENISR_OVER);
	free(small);
	rig_free(&r);
}

/* Transmits of 0 and 65535 bytes, and from pages without RAM. */
static void test_transmit_nonsense(void)
{
	static const u16 counts[] = {0, 1, 1519, 0xffff};
	struct rig r;
	unsigned i;

	rig_init(&r);
	linux_init(&r, ISA_BASE, isa_mac);
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		out8(&r, ISA_BASE, EN0_ISR, 0xff);
		out8(&r, ISA_BASE, EN0_TPSR, 0xff);
		out8(&r, ISA_BASE, EN0_TCNTLO, (u8)counts[i]);
		out8(&r, ISA_BASE, EN0_TCNTHI, (u8)(counts[i] >> 8));
		out8(&r, ISA_BASE, CMD,
		     E8390_NODMA + E8390_TRANS + E8390_START);
		CHECK(in8(&r, ISA_BASE, EN0_ISR) & ENISR_TX);
	}
	/* Only the 1-byte frame was a frame at all. */
	CHECK_EQ(r.isa_wire.sent, 1);
	CHECK_EQ(r.isa_wire.lens[0], 1);
	CHECK_EQ(r.isa_wire.frames[0][0], 0xff);
	/* 1514 bytes from page 0xBF: RAM, then 0xFF past its end. */
	memset(chip_of(r.isa)->ram + 0x7f00, 0xab, 0x100);
	out8(&r, ISA_BASE, EN0_TPSR, 0xbf);
	out8(&r, ISA_BASE, EN0_TCNTLO, 1514 & 0xff);
	out8(&r, ISA_BASE, EN0_TCNTHI, 1514 >> 8);
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_TRANS + E8390_START);
	CHECK_EQ(r.isa_wire.sent, 2);
	CHECK_EQ(r.isa_wire.frames[1][0xff], 0xab);
	CHECK_EQ(r.isa_wire.frames[1][0x100], 0xff);
	rig_free(&r);
}

/* Remote DMA past the card's memory and across 0xFFFF, every width. */
static void test_remote_dma_nonsense(void)
{
	struct rig r;
	struct dp8390 *dp;
	unsigned i;

	rig_init(&r);
	dp = chip_of(r.isa);
	linux_init(&r, ISA_BASE, isa_mac);
	remote_setup(&r, ISA_BASE, 0xbffe, 64, E8390_RWRITE);
	for (i = 0; i < 16; i++)
		pio_write(r.pio, ISA_BASE + DATAPORT, 0xdeadbeef, 4);
	CHECK_EQ(dp->ram[0x7ffe], 0xef);
	CHECK_EQ(dp->ram[0x7fff], 0xbe);
	/* Reads beyond the RAM give 0xFF; across 0xFFFF the PROM. */
	remote_setup(&r, ISA_BASE, 0xfffe, 8, E8390_RREAD);
	CHECK_EQ(pio_read(r.pio, ISA_BASE + DATAPORT, 2), 0xffff);
	CHECK_EQ(pio_read(r.pio, ISA_BASE + DATAPORT, 2),
		 isa_mac[0] | isa_mac[0] << 8);
	/* The PROM is read only. */
	remote_setup(&r, ISA_BASE, 0x0000, 2, E8390_RWRITE);
	pio_write(r.pio, ISA_BASE + DATAPORT, 0, 2);
	remote_setup(&r, ISA_BASE, 0x0000, 2, E8390_RREAD);
	CHECK_EQ(pio_read(r.pio, ISA_BASE + DATAPORT, 1), isa_mac[0]);
	/* A 64 KiB count with a "send packet" on a garbage header. */
	set_ring(&r, ISA_BASE, 0xff, 0x01, 0xff, 0x00);
	out8(&r, ISA_BASE, CMD, 0x18 + E8390_START);
	for (i = 0; i < 0x20000; i++)
		(void)pio_read(r.pio, ISA_BASE + DATAPORT, 4);
	/* Wide accesses to the registers are split into bytes. */
	out8(&r, ISA_BASE, CMD, E8390_NODMA + E8390_PAGE2);
	CHECK_EQ(pio_read(r.pio, ISA_BASE + 0x0e, 2) & 0xff, 0x49);
	CHECK_EQ(pio_read(r.pio, ISA_BASE + 0x0c, 4) >> 24, ENISR_ALL);
	rig_free(&r);
}

int main(void)
{
	RUN_TEST(test_isa_linux_probe);
	RUN_TEST(test_pci_config);
	RUN_TEST(test_pci_rom);
	RUN_TEST(test_pci_linux_init);
	RUN_TEST(test_transmit);
	RUN_TEST(test_receive_ring_wrap);
	RUN_TEST(test_remote_dma_wrap);
	RUN_TEST(test_overflow);
	RUN_TEST(test_filters);
	RUN_TEST(test_rdc_and_imr);
	RUN_TEST(test_ipxe_probe);
	RUN_TEST(test_save_load);
	RUN_TEST(test_burst_linux);
	RUN_TEST(test_burst_ipxe_poll);
	RUN_TEST(test_send_packet);
	RUN_TEST(test_cve_2015_5278_ring_nonsense);
	RUN_TEST(test_cve_2015_5279_ring_outside_ram);
	RUN_TEST(test_cve_2018_10839_oversized_frames);
	RUN_TEST(test_transmit_nonsense);
	RUN_TEST(test_remote_dma_nonsense);
	return unit_summary();
}

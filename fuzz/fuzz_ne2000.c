// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the NE2000 cards (hw/dp8390.c behind
 * hw/ne2000_isa.c and hw/rtl8029.c): the input is a program of port
 * reads and writes of every size on both cards, PCI configuration writes,
 * frames pushed into the receive path (including lengths the card must
 * refuse without reading), save/load round trips and resets. The cards
 * and buses live for the whole run; every input starts from power-on.
 * ASan and UBSan turn an out-of-bounds access, a leak or undefined
 * behaviour into a finding; libFuzzer's timeout turns a loop into one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "hw/dp8390.h"
#include "hw/ne2000.h"

#define ISA_BASE 0x300
#define PCI_IO 0xc100
#define RTL_DEVFN PCI_DEVFN(3, 0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Resets and snapshots copy 32 KiB each: a few per input are plenty. */
#define FUZZ_MAX_HEAVY 4

struct input {
	const uint8_t *p;
	size_t left;
};

static struct pio_bus *pio;
static struct phys_mem mem;
static struct pci_bus pci;
static struct net_port isa_port, rtl_port;
static struct ne2000 *nics[2];
static unsigned irq_changes;
static u32 sent_sum;

static u8 take8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static u32 take32(struct input *in)
{
	u32 v = take8(in);

	v |= (u32)take8(in) << 8;
	v |= (u32)take8(in) << 16;
	return v | (u32)take8(in) << 24;
}

/* The wire: reads every byte it is given, so ASan checks the length. */
static void wire_send(struct net_port *port, const u8 *frame, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		sent_sum += frame[i];
}

static void wire_accept(struct net_port *port)
{
}

static void wire_close(struct net_port *port)
{
}

static const struct net_port_ops wire_ops = {wire_send, wire_accept,
					     wire_close};

static void irq_cb(void *opaque, unsigned pin, bool level)
{
	irq_changes++;
}

static void do_io(struct input *in, bool write)
{
	static const unsigned sizes[4] = {1, 2, 4, 1};
	u8 sel = take8(in);
	u16 base = sel & 0x80 ? PCI_IO : ISA_BASE;
	u16 port = (u16)(base + (sel & 0x1f));
	unsigned size = sizes[(sel >> 5) & 3];

	if (write)
		pio_write(pio, port, take32(in), size);
	else
		(void)pio_read(pio, port, size);
}

/* A frame from the input; some lengths lie about the buffer's size. */
static void do_receive(struct input *in)
{
	u8 frame[NET_MAX_FRAME + 64];
	u8 sel = take8(in);
	size_t len = take8(in) | (size_t)take8(in) << 8;
	struct dp8390 *dp = &nics[sel & 1]->chip;
	size_t n;

	len %= sizeof(frame) + 1;
	n = MIN(in->left, len);
	memset(frame, 0, sizeof(frame));
	memcpy(frame, in->p, n);
	in->p += n;
	in->left -= n;
	if (sel & 2)
		memset(frame, 0xff, 6); /* broadcast */
	else if (sel & 4)
		memcpy(frame, dp->r.par, 6);
	if (sel & 0x80) {
		/* Oversized: refused before the buffer is read. */
		len = (size_t)1 << (20 + (sel & 0x1f));
		(void)dp8390_can_receive(dp, len);
		dp8390_receive(dp, frame, len);
		return;
	}
	if (sel & 0x40) {
		/* As the wire paces it (dp8390_wire_ready). */
		if (dp8390_wire_ready(dp, len))
			dp8390_receive(dp, frame, len);
		return;
	}
	if (!(sel & 8) || dp8390_can_receive(dp, len))
		dp8390_receive(dp, frame, len);
}

static void do_config(struct input *in)
{
	static const u8 regs[4] = {PCI_COMMAND, PCI_BAR0, PCI_ROM_ADDRESS,
				   PCI_INTERRUPT_LINE};
	u8 sel = take8(in);
	u32 v = take32(in);

	/* Keep BAR0 on the harness's port or off, never on the ISA card. */
	if (regs[sel & 3] == PCI_BAR0)
		v = v & 1 ? PCI_IO : 0;
	pci_config_write(&pci, RTL_DEVFN, regs[sel & 3], v, 4);
}

static void do_snapshot(u8 sel)
{
	struct device d = ne2000_device(nics[sel & 1]);
	struct snap_writer w;
	struct snap_reader r;

	snap_writer_init(&w);
	if (!d.ops->save(d.opaque, &w)) {
		if (sel & 2)
			d.ops->reset(d.opaque);
		snap_reader_init(&r, w.buf, w.len);
		(void)d.ops->load(d.opaque, &r);
	}
	snap_writer_free(&w);
}

static void run(struct input *in)
{
	unsigned steps = 0, heavy = 0;

	while (in->left && steps++ < 4096) {
		u8 op = take8(in);

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
			do_io(in, true);
			break;
		case 3:
		case 4:
			do_io(in, false);
			break;
		case 5:
			do_receive(in);
			break;
		case 6:
			do_config(in);
			break;
		default:
			if (heavy++ >= FUZZ_MAX_HEAVY)
				break;
			if (op & 0x80) {
				struct device d = ne2000_device(nics[op & 1]);

				d.ops->reset(d.opaque);
			} else {
				do_snapshot(op >> 3);
			}
			break;
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const u8 mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const u8 rom[] = {0x55, 0xaa, 0x01, 0xcb};
	struct irq_line isa_irq = {irq_cb, NULL, 10};
	struct irq_line pci_irq = {irq_cb, NULL, 11};
	char err[128];

	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	pio = pio_bus_new();
	if (!pio || mem_init(&mem, 1u << 20, 1u << 20) ||
	    pci_bus_init(&pci, pio, &mem))
		abort();
	isa_port.ops = &wire_ops;
	rtl_port.ops = &wire_ops;
	if (ne2000_isa_create(pio, ISA_BASE, &isa_irq, mac, &isa_port, &nics[0],
			      err, sizeof(err)) ||
	    rtl8029_create(&pci, RTL_DEVFN, &pci_irq, mac, &rtl_port, rom,
			   sizeof(rom), &nics[1], err, sizeof(err)))
		abort();
	return 0;
}

/*
 * Every input starts from power-on: both cards reset, the PCI registers
 * the harness lets the input write put back.
 */
static void power_on(void)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct device d = ne2000_device(nics[i]);

		d.ops->reset(d.opaque);
	}
	pci_config_write(&pci, RTL_DEVFN, PCI_COMMAND, 0, 2);
	pci_config_write(&pci, RTL_DEVFN, PCI_ROM_ADDRESS, 0, 4);
	pci_config_write(&pci, RTL_DEVFN, PCI_INTERRUPT_LINE, 0, 1);
	pci_config_write(&pci, RTL_DEVFN, PCI_BAR0, PCI_IO, 4);
	pci_config_write(&pci, RTL_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};

	power_on();
	run(&in);
	/* A frame the back end would deliver goes through the port. */
	(void)net_port_deliver(&rtl_port, data, MIN(size, (size_t)1514));
	return 0;
}

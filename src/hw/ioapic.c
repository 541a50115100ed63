// SPDX-License-Identifier: MIT
/*
 * Intel 82093AA I/O APIC: 24 input pins, each with a redirection entry
 * that turns its level or edge into a message for the local APIC. The
 * registers sit behind an index (IOREGSEL) and a data window (IOWIN).
 * 82093AA datasheet, 3.0 and 3.2.
 *
 * There is one processor: a message goes to it when the destination
 * names it (lapic_is_destination(): its physical APIC ID, a logical
 * destination matching its LDR, or the broadcast 0xFF) and is otherwise
 * dropped, as no local APIC would take it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "hw/ioapic.h"

#define IOAPIC_SAVE_VERSION 1
#define IOAPIC_MMIO_SIZE 0x1000u

/* Memory-mapped registers, datasheet 3.1 */
#define IOREGSEL 0x00
#define IOWIN 0x10

/* Indirect registers, datasheet 3.2 */
#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARB 0x02
#define REG_REDIR 0x10
#define REG_REDIR_END (REG_REDIR + 2 * IOAPIC_PINS)

/* Version 0x11, highest redirection entry 23 (datasheet 3.2.2). */
#define IOAPIC_VERSION 0x00170011u
#define ID_MASK 0x0f000000u

/* Redirection entry, datasheet 3.2.4; 64-bit, so ~RTE_x keeps bits 63:32 */
#define RTE_BIT(n) (1ull << (n))
#define RTE_VECTOR(e) ((u8)(e))
#define RTE_MODE(e) (((e) >> 8) & 7)
#define RTE_LOGICAL RTE_BIT(11)
#define RTE_POLARITY_LOW RTE_BIT(13)
#define RTE_REMOTE_IRR RTE_BIT(14)
#define RTE_LEVEL RTE_BIT(15)
#define RTE_MASKED RTE_BIT(16)
#define RTE_DEST(e) ((u8)((e) >> 56))
#define RTE_LO_WRITABLE 0x0001afffu
#define RTE_HI_WRITABLE 0xff000000u

#define RTE_MODE_FIXED 0
#define RTE_MODE_LOWEST 1

/* What the guest can see; plain old data, saved as it is. */
struct ioapic_regs {
	u64 redir[IOAPIC_PINS];
	u32 id;
	u32 pin_levels; /* input pins, bit per pin, as the devices drive them */
	u8 ioregsel;
	u8 pad[7];
};

struct ioapic {
	struct ioapic_regs s;
	struct phys_mem *mem;
	struct lapic *apic;
};

static bool ioapic_asserted(const struct ioapic *io, unsigned pin)
{
	bool high = io->s.pin_levels & BIT(pin);

	return high != !!(io->s.redir[pin] & RTE_POLARITY_LOW);
}

/*
 * Send pin's message if its entry lets it through. A level-triggered
 * entry sends while asserted and Remote IRR is clear, and sets Remote IRR
 * when the local APIC takes it; the EOI clears it again (3.2.4).
 */
static void ioapic_send(struct ioapic *io, unsigned pin)
{
	u64 *e = &io->s.redir[pin];
	bool level = *e & RTE_LEVEL;
	unsigned mode = RTE_MODE(*e);

	if ((*e & RTE_MASKED) || (level && (*e & RTE_REMOTE_IRR)))
		return;
	if (mode != RTE_MODE_FIXED && mode != RTE_MODE_LOWEST) {
		log_guest_once("ioapic", "delivery mode %u ignored", mode);
		return;
	}
	if (!lapic_is_destination(io->apic, RTE_DEST(*e), *e & RTE_LOGICAL))
		return;
	if (level)
		*e |= RTE_REMOTE_IRR;
	lapic_deliver(io->apic, RTE_VECTOR(*e), level);
}

void ioapic_set_irq(void *opaque, unsigned pin, bool level)
{
	struct ioapic *io = opaque;
	bool was;

	if (pin >= IOAPIC_PINS) {
		log_guest_once("ioapic", "no input pin %u", pin);
		return;
	}
	was = ioapic_asserted(io, pin);
	if (level)
		io->s.pin_levels |= BIT(pin);
	else
		io->s.pin_levels &= ~BIT(pin);
	if (!ioapic_asserted(io, pin))
		return;
	/* edge-triggered entries take the asserting edge only */
	if ((io->s.redir[pin] & RTE_LEVEL) || !was)
		ioapic_send(io, pin);
}

void ioapic_eoi(void *opaque, u8 vector)
{
	struct ioapic *io = opaque;
	unsigned pin;

	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		u64 *e = &io->s.redir[pin];

		if (RTE_VECTOR(*e) != vector || !(*e & RTE_REMOTE_IRR))
			continue;
		*e &= ~RTE_REMOTE_IRR;
		/* a line still asserted interrupts again */
		if ((*e & RTE_LEVEL) && ioapic_asserted(io, pin))
			ioapic_send(io, pin);
	}
}

/*
 * Remote IRR and delivery status are read-only. Remote IRR means nothing
 * for an edge-triggered entry: switching an entry to edge clears it, which
 * is how software recovers a level entry whose EOI never came.
 */
static void ioapic_write_redir(struct ioapic *io, unsigned index, u32 value)
{
	unsigned pin = (index - REG_REDIR) / 2;
	u64 *e = &io->s.redir[pin];

	if (index & 1) {
		*e = (*e & 0xffffffffu) | (u64)(value & RTE_HI_WRITABLE) << 32;
		return;
	}
	*e = (*e & ~0xffffffffull) | (*e & RTE_REMOTE_IRR) |
	     (value & RTE_LO_WRITABLE);
	if (!(*e & RTE_LEVEL))
		*e &= ~RTE_REMOTE_IRR;
	else if (ioapic_asserted(io, pin))
		ioapic_send(io, pin);
}

static u32 ioapic_reg_read(const struct ioapic *io, u8 index)
{
	u64 e;

	switch (index) {
	case REG_ID:
		return io->s.id;
	case REG_VERSION:
		return IOAPIC_VERSION;
	case REG_ARB:
		return io->s.id; /* the arbitration ID follows the ID */
	default:
		if (index < REG_REDIR || index >= REG_REDIR_END)
			return 0;
		e = io->s.redir[(index - REG_REDIR) / 2];
		return (u32)(index & 1 ? e >> 32 : e);
	}
}

static void ioapic_reg_write(struct ioapic *io, u8 index, u32 value)
{
	if (index == REG_ID)
		io->s.id = value & ID_MASK;
	else if (index >= REG_REDIR && index < REG_REDIR_END)
		ioapic_write_redir(io, index, value);
	else if (index != REG_VERSION && index != REG_ARB)
		log_guest_once("ioapic", "write to register 0x%x", index);
}

static u64 ioapic_mmio_read(void *opaque, u64 offset, unsigned size)
{
	struct ioapic *io = opaque;

	if (offset == IOREGSEL)
		return io->s.ioregsel;
	if (offset == IOWIN && size == 4)
		return ioapic_reg_read(io, io->s.ioregsel);
	log_guest_once("ioapic", "read of %u bytes at 0x%llx", size,
		       (unsigned long long)offset);
	return 0;
}

/* IOWIN takes whole 32-bit writes only (datasheet 3.1). */
static void ioapic_mmio_write(void *opaque, u64 offset, u64 value,
			      unsigned size)
{
	struct ioapic *io = opaque;

	if (offset == IOREGSEL)
		io->s.ioregsel = (u8)value;
	else if (offset == IOWIN && size == 4)
		ioapic_reg_write(io, io->s.ioregsel, (u32)value);
	else
		log_guest_once("ioapic", "write of %u bytes at 0x%llx", size,
			       (unsigned long long)offset);
}

static const struct mmio_ops ioapic_mmio_ops = {
	.name = "ioapic",
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

/* Every entry masked after reset (3.2.4); the input pins keep their level. */
static void ioapic_reset(void *opaque)
{
	struct ioapic *io = opaque;
	u32 levels = io->s.pin_levels;
	unsigned pin;

	io->s = (struct ioapic_regs){.pin_levels = levels};
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		io->s.redir[pin] = RTE_MASKED;
}

static int ioapic_save(void *opaque, struct snap_writer *w)
{
	struct ioapic *io = opaque;

	return snap_put(w, "ioapic", IOAPIC_SAVE_VERSION, &io->s,
			sizeof(io->s));
}

static bool ioapic_regs_valid(const struct ioapic_regs *s)
{
	u64 writable =
		(u64)RTE_HI_WRITABLE << 32 | RTE_LO_WRITABLE | RTE_REMOTE_IRR;
	unsigned pin;

	for (pin = 0; pin < IOAPIC_PINS; pin++)
		if (s->redir[pin] & ~writable)
			return false;
	return !(s->id & ~ID_MASK) && s->pin_levels < BIT(IOAPIC_PINS);
}

/* Messages in flight are the local APIC's business: nothing is resent. */
static int ioapic_load(void *opaque, const struct snap_reader *r)
{
	struct ioapic *io = opaque;
	struct ioapic_regs s;
	int ret;

	ret = snap_get(r, "ioapic", IOAPIC_SAVE_VERSION, &s, sizeof(s));
	if (ret)
		return ret;
	if (!ioapic_regs_valid(&s))
		return -EINVAL;
	io->s = s;
	return 0;
}

static void ioapic_destroy(void *opaque)
{
	struct ioapic *io = opaque;

	mem_unregister_mmio(io->mem, IOAPIC_DEFAULT_BASE);
	free(io);
}

static const struct device_ops ioapic_device_ops = {
	.name = "ioapic",
	.reset = ioapic_reset,
	.save = ioapic_save,
	.load = ioapic_load,
	.destroy = ioapic_destroy,
};

struct device ioapic_device(struct ioapic *io)
{
	return (struct device){.ops = &ioapic_device_ops, .opaque = io};
}

struct ioapic *ioapic_create(struct phys_mem *mem, struct lapic *apic)
{
	struct ioapic *io;

	if (!apic)
		return NULL;
	io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	io->mem = mem;
	io->apic = apic;
	ioapic_reset(io);
	if (mem_register_mmio(mem, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE,
			      &ioapic_mmio_ops, io)) {
		free(io);
		return NULL;
	}
	return io;
}

/* SPDX-License-Identifier: MIT */
/*
 * The port I/O bus: 64 Ki ports, each owned by at most one device range.
 *
 * A device registers a range once; the bus looks up the owner of a port in
 * a flat table (one pointer per port), so an access costs one load and one
 * indirect call. Handlers receive the offset inside their range, never the
 * absolute port. Accesses wider than a device accepts are split into byte
 * accesses; ports nobody owns read as all ones and ignore writes, as on an
 * ISA bus with nothing driving the lines.
 */
#ifndef TWOOSTWO_BUS_PIO_H
#define TWOOSTWO_BUS_PIO_H

#include "core/types.h"

#define PIO_PORTS 0x10000

typedef u32 (*pio_read_fn)(void *opaque, u16 offset, unsigned size);
typedef void (*pio_write_fn)(void *opaque, u16 offset, u32 value,
			     unsigned size);

/* Bit n set in sizes: the device handles n-byte accesses itself. */
#define PIO_SIZE1 BIT(1)
#define PIO_SIZE2 BIT(2)
#define PIO_SIZE4 BIT(4)

struct pio_ops {
	const char *name;
	pio_read_fn read;
	pio_write_fn write;
	unsigned sizes; /* 0 means bytes only */
};

struct pio_range {
	u16 base;
	u16 len;
	const struct pio_ops *ops;
	void *opaque;
};

/*
 * A port whose 32-bit reads see the CPU's general registers, indexed in
 * the x86 encoding order (EAX ECX EDX EBX ESP EBP ESI EDI), and may change
 * them: VMware's backdoor (hw/vmmouse.c) passes its command in ECX and its
 * arguments and results in EAX-EDX. Only an engine can offer this; the
 * soft engine's IN EAX,DX does (exec_io). At most one such port.
 */
typedef void (*pio_regs_fn)(void *opaque, u32 gpr[8]);

struct pio_bus {
	struct pio_range *port_owner[PIO_PORTS];
	pio_regs_fn regs_fn;
	void *regs_opaque;
	u16 regs_port;
};

struct pio_bus *pio_bus_new(void);
void pio_bus_free(struct pio_bus *bus);

/* Returns 0, or -EBUSY if a port is already owned. */
int pio_register(struct pio_bus *bus, u16 base, u16 len,
		 const struct pio_ops *ops, void *opaque);
/* Releases a range registered at exactly base (PCI BAR moves). */
void pio_unregister(struct pio_bus *bus, u16 base);

/* Returns 0, or -EBUSY if a register port is already set. */
int pio_register_regs_port(struct pio_bus *bus, u16 port, pio_regs_fn fn,
			   void *opaque);
/* Whether a 32-bit read of port goes to the register port instead. */
static inline bool pio_is_regs_port(const struct pio_bus *bus, u16 port,
				    unsigned size)
{
	return bus->regs_fn && port == bus->regs_port && size == 4;
}

u32 pio_read(struct pio_bus *bus, u16 port, unsigned size);
void pio_write(struct pio_bus *bus, u16 port, u32 value, unsigned size);

#endif

// SPDX-License-Identifier: MIT
/*
 * The i440FX host bridge and the PIIX3 ISA bridge, driven through PCI
 * configuration mechanism #1 (0xCF8/0xCFC) and port 0xCF9.
 */
#include <stdlib.h>

#include "hw/i440fx.h"
#include "hw/piix3.h"
#include "unit.h"

#define RAM (2u << 20)
#define BIOS_SIZE (128u << 10)
#define HB PCI_DEVFN(0, 0)
#define ISA PCI_DEVFN(1, 0)

struct rig {
	struct pio_bus *pio;
	struct phys_mem mem;
	struct pci_bus pci;
	struct i440fx *hb;
	struct piix3 *piix;
	u8 bios[BIOS_SIZE];
	bool isa_level[16];
	unsigned isa_changes;
	unsigned resets;
};

static void sink_set(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	CHECK(pin < 16);
	r->isa_level[pin] = level;
	r->isa_changes++;
}

static void count_reset(void *opaque)
{
	struct rig *r = opaque;

	r->resets++;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct irq_line isa[16];
	unsigned i;

	for (i = 0; i < BIOS_SIZE; i++)
		r->bios[i] = (u8)(i ^ i >> 8);
	r->pio = pio_bus_new();
	CHECK(mem_init(&r->mem, RAM, RAM) == 0);
	mem_set_bios(&r->mem, r->bios, BIOS_SIZE);
	CHECK(pci_bus_init(&r->pci, r->pio, &r->mem) == 0);
	for (i = 0; i < 16; i++)
		isa[i] = (struct irq_line){sink_set, r, i};
	r->hb = i440fx_create(&r->pci, &r->mem);
	r->piix = piix3_create(&r->pci, ISA, isa, count_reset, r);
	CHECK(r->hb && r->piix);
	return r;
}

static void rig_free(struct rig *r)
{
	struct device d = i440fx_device(r->hb);

	d.ops->destroy(d.opaque);
	d = piix3_device(r->piix);
	d.ops->destroy(d.opaque);
	mem_destroy(&r->mem);
	pio_bus_free(r->pio);
	free(r);
}

static u32 cfg_read(struct rig *r, u8 devfn, u8 reg, unsigned size)
{
	pio_write(r->pio, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc), 4);
	return pio_read(r->pio, (u16)(0xcfc + (reg & 3)), size);
}

static void cfg_write(struct rig *r, u8 devfn, u8 reg, u32 v, unsigned size)
{
	pio_write(r->pio, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc), 4);
	pio_write(r->pio, (u16)(0xcfc + (reg & 3)), v, size);
}

static void test_i440fx_identity(void)
{
	struct rig *r = rig_new();

	CHECK_EQ(cfg_read(r, HB, 0x00, 4), 0x12378086);
	CHECK_EQ(cfg_read(r, HB, 0x08, 4), 0x06000002);
	CHECK_EQ(cfg_read(r, HB, 0x2c, 4), 0x11001af4);
	/* Host probe: the address register reads back. */
	pio_write(r->pio, 0xcf8, 0x80000000u, 4);
	CHECK_EQ(pio_read(r->pio, 0xcf8, 4), 0x80000000u);
	rig_free(r);
}

/* Reads of addr come from shadow RAM (not from ROM or nothing). */
static bool readable(struct rig *r, u64 addr)
{
	return mem_page_ptr(&r->mem, addr, false) == r->mem.ram + addr;
}

/* Writes to addr land in shadow RAM. */
static bool writable(struct rig *r, u64 addr)
{
	return mem_page_ptr(&r->mem, addr, true) == r->mem.ram + addr;
}

static void test_i440fx_pam(void)
{
	struct rig *r = rig_new();
	unsigned seg;

	/* Power-on: the whole shadow area is ROM. */
	for (seg = 0; seg < 16; seg++) {
		CHECK(!readable(r, 0xc0000 + seg * 0x4000));
		CHECK(!writable(r, 0xc0000 + seg * 0x4000));
	}
	CHECK_EQ(mem_read(&r->mem, 0xffff0, 1), r->bios[BIOS_SIZE - 16]);
	/* SeaBIOS's unlock: PAM0 = 0x30, PAM1-6 = 0x33. */
	cfg_write(r, HB, 0x59, 0x30, 1);
	for (seg = 12; seg < 16; seg++) {
		CHECK(readable(r, 0xc0000 + seg * 0x4000));
		CHECK(writable(r, 0xc0000 + seg * 0x4000));
	}
	CHECK(!readable(r, 0xec000));
	/* Reserved bits stay 0. */
	cfg_write(r, HB, 0x59, 0xff, 1);
	CHECK_EQ(cfg_read(r, HB, 0x59, 1), 0x30);
	/* PAM1: low nibble 0xC0000, high nibble 0xC4000. */
	cfg_write(r, HB, 0x5a, 0x13, 1);
	CHECK(readable(r, 0xc0000) && writable(r, 0xc0000));
	CHECK(readable(r, 0xc4000) && !writable(r, 0xc4000));
	/* PAM6 high nibble: 0xEC000, write-only. */
	cfg_write(r, HB, 0x5f, 0x20, 1);
	CHECK(!readable(r, 0xec000) && writable(r, 0xec000));
	CHECK(!readable(r, 0xe8000) && !writable(r, 0xe8000));
	/* A dword write covers PAM3-PAM6 at once. */
	cfg_write(r, HB, 0x5c, 0x33333333, 4);
	for (seg = 4; seg < 12; seg++)
		CHECK(writable(r, 0xc0000 + seg * 0x4000));
	/* Shadowed BIOS: copy, lock read-only, still reads the copy. */
	r->mem.ram[0xffff0] = 0xea;
	cfg_write(r, HB, 0x59, 0x10, 1);
	CHECK_EQ(mem_read(&r->mem, 0xffff0, 1), 0xea);
	mem_write(&r->mem, 0xffff0, 0x90, 1);
	CHECK_EQ(mem_read(&r->mem, 0xffff0, 1), 0xea);
	/* Reset: ROM again. */
	i440fx_device(r->hb).ops->reset(r->hb);
	CHECK(!readable(r, 0xf0000) && !readable(r, 0xc0000));
	CHECK_EQ(cfg_read(r, HB, 0x58, 4) >> 8, 0);
	CHECK_EQ(cfg_read(r, HB, 0x5c, 4), 0);
	rig_free(r);
}

static void test_i440fx_save_load(void)
{
	struct rig *r = rig_new();
	struct device d = i440fx_device(r->hb);
	struct snap_writer w;
	struct snap_reader rd;

	cfg_write(r, HB, 0x59, 0x30, 1);
	cfg_write(r, HB, 0x5b, 0x01, 1);
	snap_writer_init(&w);
	CHECK(d.ops->save(d.opaque, &w) == 0);
	d.ops->reset(d.opaque);
	CHECK(!readable(r, 0xf0000));
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(d.ops->load(d.opaque, &rd) == 0);
	CHECK(readable(r, 0xf0000) && writable(r, 0xf0000));
	CHECK(readable(r, 0xc8000) && !writable(r, 0xc8000));
	CHECK_EQ(cfg_read(r, HB, 0x00, 4), 0x12378086);
	snap_writer_free(&w);
	rig_free(r);
}

static void test_piix3_identity(void)
{
	struct rig *r = rig_new();

	CHECK_EQ(cfg_read(r, ISA, 0x00, 4), 0x70008086);
	CHECK_EQ(cfg_read(r, ISA, 0x0a, 2), 0x0601);
	CHECK_EQ(cfg_read(r, ISA, 0x0e, 1) & 0x80, 0x80);
	CHECK_EQ(cfg_read(r, ISA, 0x60, 4), 0x80808080);
	cfg_write(r, ISA, 0x69, 0x12, 1);
	CHECK_EQ(cfg_read(r, ISA, 0x69, 1), 0x12);
	rig_free(r);
}

static void test_piix3_routing(void)
{
	struct rig *r = rig_new();
	/* Device 3 pin A and device 4 pin D both use PIRQC. */
	struct irq_line a = piix3_pci_irq(r->piix, PCI_DEVFN(3, 0), 1);
	struct irq_line b = piix3_pci_irq(r->piix, PCI_DEVFN(4, 0), 4);
	/* Device 3 pin B uses PIRQD. */
	struct irq_line c = piix3_pci_irq(r->piix, PCI_DEVFN(3, 0), 2);
	unsigned i;

	/* Disabled at power-on: nothing reaches the ISA side. */
	irq_raise(&a);
	for (i = 0; i < 16; i++)
		CHECK(!r->isa_level[i]);
	/* Routing an asserted PIRQ moves the level at once. */
	cfg_write(r, ISA, 0x62, 11, 1);
	CHECK(r->isa_level[11]);
	cfg_write(r, ISA, 0x62, 10, 1);
	CHECK(!r->isa_level[11] && r->isa_level[10]);
	/* Wired-OR: the line stays up until every sharer is low. */
	irq_raise(&b);
	irq_lower(&a);
	CHECK(r->isa_level[10]);
	irq_lower(&b);
	CHECK(!r->isa_level[10]);
	/* Two PIRQs steered to one IRQ. */
	cfg_write(r, ISA, 0x63, 10, 1);
	irq_raise(&a);
	irq_raise(&c);
	irq_lower(&a);
	CHECK(r->isa_level[10]);
	/* Disabling moves the level away. */
	cfg_write(r, ISA, 0x63, 0x8a, 1);
	CHECK(!r->isa_level[10]);
	/* Reserved targets (IRQ 0, 2, 8, 13) route nowhere. */
	cfg_write(r, ISA, 0x63, 2, 1);
	CHECK(!r->isa_level[2]);
	cfg_write(r, ISA, 0x63, 13, 1);
	CHECK(!r->isa_level[13]);
	/* Raising twice counts once. */
	i = r->isa_changes;
	cfg_write(r, ISA, 0x62, 5, 1);
	irq_raise(&a);
	irq_raise(&a);
	irq_lower(&a);
	CHECK(!r->isa_level[5]);
	CHECK_EQ(r->isa_changes, i + 2);
	rig_free(r);
}

static void test_piix3_rcr(void)
{
	struct rig *r = rig_new();

	/* SeaBIOS and Linux: 0x02, then 0x06. */
	pio_write(r->pio, 0xcf9, 0x02, 1);
	CHECK_EQ(r->resets, 0);
	CHECK_EQ(pio_read(r->pio, 0xcf9, 1), 0x02);
	pio_write(r->pio, 0xcf9, 0x06, 1);
	CHECK_EQ(r->resets, 1);
	/* Only a rising edge of bit 2 resets. */
	pio_write(r->pio, 0xcf9, 0x0e, 1);
	CHECK_EQ(r->resets, 1);
	CHECK_EQ(pio_read(r->pio, 0xcf9, 1), 0x0a);
	pio_write(r->pio, 0xcf9, 0x00, 1);
	pio_write(r->pio, 0xcf9, 0x04, 1);
	CHECK_EQ(r->resets, 2);
	piix3_device(r->piix).ops->reset(r->piix);
	CHECK_EQ(pio_read(r->pio, 0xcf9, 1), 0);
	/* The config address register is not disturbed by 0xCF9. */
	pio_write(r->pio, 0xcf8, 0x80000800u, 4);
	pio_write(r->pio, 0xcf9, 0x00, 1);
	CHECK_EQ(pio_read(r->pio, 0xcf8, 4), 0x80000800u);
	rig_free(r);
}

static void test_piix3_save_load(void)
{
	struct rig *r = rig_new();
	struct device d = piix3_device(r->piix);
	struct irq_line a = piix3_pci_irq(r->piix, PCI_DEVFN(3, 0), 1);
	struct snap_writer w;
	struct snap_reader rd;

	cfg_write(r, ISA, 0x62, 11, 1);
	irq_raise(&a);
	snap_writer_init(&w);
	CHECK(d.ops->save(d.opaque, &w) == 0);
	irq_lower(&a);
	d.ops->reset(d.opaque);
	CHECK(!r->isa_level[11]);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(d.ops->load(d.opaque, &rd) == 0);
	CHECK_EQ(cfg_read(r, ISA, 0x62, 1), 11);
	CHECK(r->isa_level[11]);
	/* The restored source level is lowered normally. */
	irq_lower(&a);
	CHECK(!r->isa_level[11]);
	snap_writer_free(&w);
	rig_free(r);
}

static void test_random_config(void)
{
	struct rig *r = rig_new();
	struct irq_line lines[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		lines[i] = piix3_pci_irq(r->piix, (u8)(i * 8), (u8)(i % 4 + 1));
	srand(7);
	for (i = 0; i < 100000; i++) {
		u8 devfn = rand() & 1 ? HB : ISA;
		u8 reg = (u8)rand();
		unsigned size = 1u << (rand() % 3);

		switch (rand() % 4) {
		case 0:
			cfg_write(r, devfn, reg, (u32)rand(), size);
			break;
		case 1:
			cfg_read(r, devfn, reg, size);
			break;
		case 2:
			pio_write(r->pio, (u16)(0xcf8 + rand() % 8),
				  (u32)rand(), size);
			break;
		default:
			irq_set(&lines[rand() % 8], rand() & 1);
			break;
		}
	}
	/* Whatever happened, the IDs are intact. */
	CHECK_EQ(cfg_read(r, HB, 0x00, 4), 0x12378086);
	CHECK_EQ(cfg_read(r, ISA, 0x00, 4), 0x70008086);
	rig_free(r);
}

int main(void)
{
	RUN_TEST(test_i440fx_identity);
	RUN_TEST(test_i440fx_pam);
	RUN_TEST(test_i440fx_save_load);
	RUN_TEST(test_piix3_identity);
	RUN_TEST(test_piix3_routing);
	RUN_TEST(test_piix3_rcr);
	RUN_TEST(test_piix3_save_load);
	RUN_TEST(test_random_config);
	return unit_summary();
}

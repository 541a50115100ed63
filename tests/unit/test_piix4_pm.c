// SPDX-License-Identifier: MIT
/*
 * PIIX4 power management function, driven as a guest would: configuration
 * through 0xCF8/0xCFC, registers through the PM I/O block. Expected values
 * from the PIIX4 datasheet (3.4, 7.2) and the ACPI fixed hardware model.
 */
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/snapshot.h"
#include "hw/piix4_pm.h"
#include "unit.h"

#define DEVFN PCI_DEVFN(1, 3)
#define PM_BASE 0x600
#define PMSTS (PM_BASE + PIIX4_PM_PMSTS)
#define PMEN (PM_BASE + PIIX4_PM_PMEN)
#define PMCNTRL (PM_BASE + PIIX4_PM_PMCNTRL)
#define PMTMR (PM_BASE + PIIX4_PM_PMTMR)
#define GPEN (PM_BASE + PIIX4_PM_GPEN)
#define TMROF BIT(0)
#define SCI_EN BIT(0)
#define SUS_EN BIT(13)
#define SUS_TYP(t) ((t) << 10)

struct rig {
	struct pio_bus *pio;
	struct pci_bus pci;
	struct timer_list timers;
	struct piix4_pm *pm;
	bool sci;
	unsigned sci_rises;
	unsigned power_offs;
};

static void rig_sci(void *opaque, unsigned pin, bool level)
{
	struct rig *r = opaque;

	if (level && !r->sci)
		r->sci_rises++;
	r->sci = level;
}

static void rig_power_off(void *opaque)
{
	struct rig *r = opaque;

	r->power_offs++;
}

static void rig_open(struct rig *r)
{
	*r = (struct rig){0};
	r->pio = pio_bus_new();
	CHECK(pci_bus_init(&r->pci, r->pio, NULL) == 0);
	r->pm = piix4_pm_create(&r->pci, DEVFN, &r->timers,
				(struct irq_line){rig_sci, r, 9}, rig_power_off,
				r);
	CHECK(r->pm != NULL);
}

static void rig_close(struct rig *r)
{
	struct device d = piix4_pm_device(r->pm);

	d.ops->destroy(d.opaque);
	CHECK(!r->timers.head);
	pio_bus_free(r->pio);
}

static u32 cfg_read(struct rig *r, u8 reg, unsigned size)
{
	pio_write(r->pio, 0xcf8, 0x80000000u | DEVFN << 8 | (reg & 0xfc), 4);
	return pio_read(r->pio, (u16)(0xcfc + (reg & 3)), size);
}

static void cfg_write(struct rig *r, u8 reg, u32 v, unsigned size)
{
	pio_write(r->pio, 0xcf8, 0x80000000u | DEVFN << 8 | (reg & 0xfc), 4);
	pio_write(r->pio, (u16)(0xcfc + (reg & 3)), v, size);
}

/* What SeaBIOS does: PMBA, then PMIOSE. */
static void rig_enable(struct rig *r, u16 base)
{
	cfg_write(r, 0x40, base | 1u, 4);
	cfg_write(r, 0x80, 1, 1);
}

static void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Run the timer loop until cond holds or ms pass; returns cond. */
static bool run_until(struct rig *r, bool *cond, unsigned ms)
{
	u64 end = clock_now_ns() + ms * NSEC_PER_MSEC;

	while (!*cond && clock_now_ns() < end) {
		timers_run(&r->timers, clock_now_ns());
		sleep_us(500);
	}
	return *cond;
}

static void test_identity(void)
{
	struct rig r;

	rig_open(&r);
	CHECK_EQ(cfg_read(&r, 0x00, 4), 0x71138086);
	CHECK_EQ(cfg_read(&r, 0x08, 4), 0x06800003);
	CHECK_EQ(cfg_read(&r, 0x3d, 1), 1);
	/* PMBA: an I/O base, bit 0 reads 1 */
	CHECK_EQ(cfg_read(&r, 0x40, 4), 1);
	CHECK_EQ(cfg_read(&r, 0x80, 1), 0);
	rig_close(&r);
}

static void test_io_enable(void)
{
	struct rig r;

	rig_open(&r);
	/* nothing decodes before PMIOSE */
	cfg_write(&r, 0x40, PM_BASE | 1, 4);
	CHECK_EQ(pio_read(r.pio, PMCNTRL, 2), 0xffff);
	CHECK_EQ(cfg_read(&r, 0x40, 4), PM_BASE | 1);
	cfg_write(&r, 0x80, 1, 1);
	CHECK_EQ(pio_read(r.pio, PMCNTRL, 2), SCI_EN);
	/* PMBA is 64-byte aligned and bit 0 is read-only */
	cfg_write(&r, 0x40, 0xb03e, 4);
	CHECK_EQ(cfg_read(&r, 0x40, 4), 0xb001);
	CHECK_EQ(pio_read(r.pio, PMCNTRL, 2), 0xffff);
	CHECK_EQ(pio_read(r.pio, 0xb004, 2), SCI_EN);
	/* clearing PMIOSE unmaps the block */
	cfg_write(&r, 0x80, 0, 1);
	CHECK_EQ(pio_read(r.pio, 0xb004, 2), 0xffff);
	/* only bit 0 of PMREGMISC is writable */
	cfg_write(&r, 0x80, 0xff, 1);
	CHECK_EQ(cfg_read(&r, 0x80, 1), 1);
	CHECK_EQ(pio_read(r.pio, 0xb004, 2), SCI_EN);
	/* a base over another device's ports is refused, not shared */
	cfg_write(&r, 0x40, 0x0cc0 | 1, 4);
	CHECK_EQ(pio_read(r.pio, 0xb004, 2), 0xffff);
	rig_close(&r);
}

static void test_registers(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r, PM_BASE);
	/* enables: TMROF, GBL, PWRBTN, RTC */
	pio_write(r.pio, PMEN, 0xffff, 2);
	CHECK_EQ(pio_read(r.pio, PMEN, 2), 0x0521);
	/* control: SCI_EN reads 1, SUS_EN and GBL_RLS are write-only */
	pio_write(r.pio, PMCNTRL, SUS_TYP(5) | 0x0006, 2);
	CHECK_EQ(pio_read(r.pio, PMCNTRL, 2), SUS_TYP(5) | 0x0003);
	/* GPE0: no source, enables are storage */
	pio_write(r.pio, GPEN, 0x1234, 2);
	CHECK_EQ(pio_read(r.pio, GPEN, 2), 0x1234);
	CHECK_EQ(pio_read(r.pio, PM_BASE + PIIX4_PM_GPSTS, 2), 0);
	/* byte and dword accesses see the same registers */
	CHECK_EQ(pio_read(r.pio, PMEN + 1, 1), 0x05);
	CHECK_EQ(pio_read(r.pio, PMSTS, 4) >> 16, 0x0521);
	/* the rest of the block reads 0 */
	CHECK_EQ(pio_read(r.pio, PM_BASE + 0x3c, 4), 0);
	pio_write(r.pio, PMEN, 0, 2);
	rig_close(&r);
}

/* The count in 24 bits advances at 3.579545 MHz. */
static void test_timer_rate(void)
{
	struct rig r;
	u64 a0, a1, b0, b1, lo, hi;
	u32 t1, t2, diff;

	rig_open(&r);
	rig_enable(&r, PM_BASE);
	a0 = clock_now_ns();
	t1 = pio_read(r.pio, PMTMR, 4);
	a1 = clock_now_ns();
	sleep_us(50000);
	b0 = clock_now_ns();
	t2 = pio_read(r.pio, PMTMR, 4);
	b1 = clock_now_ns();
	CHECK_EQ(t1 >> 24, 0);
	CHECK_EQ(t2 >> 24, 0);
	diff = (t2 - t1) & 0xffffff;
	lo = muldiv64(b0 - a1, PIIX4_PM_TIMER_HZ, NSEC_PER_SEC);
	hi = muldiv64(b1 - a0, PIIX4_PM_TIMER_HZ, NSEC_PER_SEC) + 1;
	CHECK(diff >= lo && diff <= hi);
	CHECK(diff > 170000);
	/* no host timer unless the overflow SCI is enabled */
	CHECK(!r.timers.head);
	rig_close(&r);
}

static void test_power_off(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r, PM_BASE);
	/* a sleep type alone does nothing */
	pio_write(r.pio, PMCNTRL, SUS_TYP(0), 2);
	CHECK_EQ(r.power_offs, 0);
	/* S1-S4 encodings are not supported: ignored */
	pio_write(r.pio, PMCNTRL, SUS_TYP(1) | SUS_EN, 2);
	CHECK_EQ(r.power_offs, 0);
	/* SUS_EN with SUS_TYP 0 (soft off), as ACPI's \_S5 entry does */
	pio_write(r.pio, PMCNTRL, SUS_TYP(0) | SUS_EN, 2);
	CHECK_EQ(r.power_offs, 1);
	CHECK_EQ(pio_read(r.pio, PMCNTRL, 2) & SUS_EN, 0);
	/* the same through a byte write of the high half */
	pio_write(r.pio, PMCNTRL + 1, SUS_EN >> 8, 1);
	CHECK_EQ(r.power_offs, 2);
	rig_close(&r);
}

/*
 * TMROF_STS is set when bit 23 changes (every 2.34 s), enabled or not; the
 * SCI follows status AND enable. Takes two periods of real time.
 */
static void test_overflow_sci(void)
{
	struct rig r;

	u64 end = clock_now_ns() + 3 * NSEC_PER_SEC;

	rig_open(&r);
	rig_enable(&r, PM_BASE);
	CHECK_EQ(pio_read(r.pio, PMSTS, 2) & TMROF, 0);
	while (!(pio_read(r.pio, PMTMR, 4) & 0x800000) && clock_now_ns() < end)
		sleep_us(2000);
	CHECK(pio_read(r.pio, PMSTS, 2) & TMROF);
	CHECK(!r.sci);
	/* enabling a pending status raises the SCI at once */
	pio_write(r.pio, PMEN, TMROF, 2);
	CHECK(r.sci);
	/* write 1 to clear; writing 0 changes nothing */
	pio_write(r.pio, PMSTS, 0xfffe, 2);
	CHECK(r.sci);
	pio_write(r.pio, PMSTS, TMROF, 2);
	CHECK(!r.sci);
	CHECK_EQ(pio_read(r.pio, PMSTS, 2), 0);
	/* the next change of bit 23 raises it through the host timer */
	CHECK(r.timers.head != NULL);
	CHECK(run_until(&r, &r.sci, 3000));
	CHECK(pio_read(r.pio, PMTMR, 4) < 0x40000);
	CHECK_EQ(r.sci_rises, 2);
	/* disabling drops the line and stops the host timer */
	pio_write(r.pio, PMEN, 0, 2);
	CHECK(!r.sci);
	CHECK(!r.timers.head);
	rig_close(&r);
}

static void test_reset(void)
{
	struct rig r;
	struct device d;

	rig_open(&r);
	d = piix4_pm_device(r.pm);
	rig_enable(&r, PM_BASE);
	pio_write(r.pio, PMEN, 0x0121, 2);
	d.ops->reset(d.opaque);
	CHECK_EQ(pio_read(r.pio, PMCNTRL, 2), 0xffff);
	CHECK_EQ(cfg_read(&r, 0x40, 4), 1);
	CHECK_EQ(cfg_read(&r, 0x80, 1), 0);
	rig_enable(&r, PM_BASE);
	CHECK_EQ(pio_read(r.pio, PMEN, 2), 0);
	CHECK(pio_read(r.pio, PMTMR, 4) < 0x100000);
	CHECK(!r.timers.head);
	rig_close(&r);
}

static void test_save_load(void)
{
	struct rig a, b;
	struct device da, db;
	struct snap_writer w;
	struct snap_reader rd;
	u32 ta, tb;

	rig_open(&a);
	rig_open(&b);
	da = piix4_pm_device(a.pm);
	db = piix4_pm_device(b.pm);
	rig_enable(&a, 0xb000);
	pio_write(a.pio, 0xb000 + PIIX4_PM_PMEN, 0x0120, 2);
	pio_write(a.pio, 0xb000 + PIIX4_PM_PMCNTRL, SUS_TYP(3) | 2, 2);
	pio_write(a.pio, 0xb000 + PIIX4_PM_GPEN, 0x0f0f, 2);
	sleep_us(20000);
	snap_writer_init(&w);
	CHECK(da.ops->save(da.opaque, &w) == 0);
	ta = pio_read(a.pio, 0xb000 + PIIX4_PM_PMTMR, 4);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(db.ops->load(db.opaque, &rd) == 0);
	tb = pio_read(b.pio, 0xb000 + PIIX4_PM_PMTMR, 4);
	CHECK_EQ(cfg_read(&b, 0x40, 4), 0xb001);
	CHECK_EQ(pio_read(b.pio, 0xb000 + PIIX4_PM_PMEN, 2), 0x0120);
	CHECK_EQ(pio_read(b.pio, 0xb000 + PIIX4_PM_PMCNTRL, 2), SUS_TYP(3) | 3);
	CHECK_EQ(pio_read(b.pio, 0xb000 + PIIX4_PM_GPEN, 2), 0x0f0f);
	/* the timer goes on from where it was saved (allow 20 ms) */
	CHECK(((tb - ta) & 0xffffff) < 71600 || ((ta - tb) & 0xffffff) < 71600);
	snap_writer_free(&w);
	/* a section of the wrong size is refused */
	snap_writer_init(&w);
	snap_put(&w, "piix4_pm", 1, "x", 1);
	snap_reader_init(&rd, w.buf, w.len);
	CHECK(db.ops->load(db.opaque, &rd) < 0);
	snap_writer_free(&w);
	rig_close(&a);
	rig_close(&b);
}

/* Random configuration and register writes never crash or hang. */
static void test_hostile(void)
{
	struct rig r;
	struct device d;
	unsigned i;

	rig_open(&r);
	d = piix4_pm_device(r.pm);
	srand(12345);
	for (i = 0; i < 100000; i++) {
		unsigned size = 1u << (rand() % 3);
		u32 v = (u32)rand() << 16 ^ (u32)rand();
		u16 port = (u16)(PM_BASE + rand() % 80 - 8);

		switch (rand() % 8) {
		case 0:
			cfg_write(&r, (u8)rand(), v, size);
			break;
		case 1:
			cfg_write(&r, 0x40, (u32)rand() & 0xffff, 4);
			cfg_write(&r, 0x80, 1, 1);
			break;
		case 2:
			pio_read(r.pio, port, size);
			break;
		case 3:
			d.ops->reset(d.opaque);
			rig_enable(&r, PM_BASE);
			break;
		default:
			pio_write(r.pio, port, v, size);
			break;
		}
		timers_run(&r.timers, clock_now_ns());
	}
	d.ops->reset(d.opaque);
	CHECK(!r.sci);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_identity);
	RUN_TEST(test_io_enable);
	RUN_TEST(test_registers);
	RUN_TEST(test_timer_rate);
	RUN_TEST(test_power_off);
	RUN_TEST(test_overflow_sci);
	RUN_TEST(test_reset);
	RUN_TEST(test_save_load);
	RUN_TEST(test_hostile);
	return unit_summary();
}

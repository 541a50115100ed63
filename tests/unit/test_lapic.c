// SPDX-License-Identifier: MIT
/*
 * The local APIC driven through its MMIO window, as a guest would, with a
 * fake processor on the other side (the INTR level it is told, an 8259
 * for ExtINT, a TSC). Expected behaviour from the Intel SDM vol. 3,
 * chapter 10. Timer tests run against real time for a few milliseconds
 * and allow for a loaded host in their bounds.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/snapshot.h"
#include "hw/lapic.h"
#include "unit.h"

#define BASE LAPIC_DEFAULT_BASE
#define MSR_BSP 0x100u
#define MSR_EN 0x800u

#define ID 0x020
#define VERSION 0x030
#define TPR 0x080
#define APR 0x090
#define PPR 0x0a0
#define EOI 0x0b0
#define LDR 0x0d0
#define DFR 0x0e0
#define SVR 0x0f0
#define ISR 0x100
#define TMR 0x180
#define IRR 0x200
#define ESR 0x280
#define ICR_LO 0x300
#define ICR_HI 0x310
#define LVT_TIMER 0x320
#define LVT_THERMAL 0x330
#define LVT_PERF 0x340
#define LVT_LINT0 0x350
#define LVT_LINT1 0x360
#define LVT_ERROR 0x370
#define TMICT 0x380
#define TMCCT 0x390
#define TDCR 0x3e0

#define MASKED 0x10000u
#define EXTINT 0x700u
#define LEVEL 0x8000u
#define REMOTE_IRR 0x4000u
#define PERIODIC 0x20000u
#define TSC_DEADLINE 0x40000u
#define DIV_1 0xbu

struct rig {
	struct phys_mem mem;
	struct timer_list timers;
	struct lapic *apic;
	bool level; /* what the APIC says INTR is */
	unsigned changes;
	int pic_vector;
	unsigned extint_acks;
	u64 tsc_offset;
	int eoi_vector;
	unsigned eois;
};

static void fake_intr(void *opaque, bool level)
{
	struct rig *r = opaque;

	r->level = level;
	r->changes++;
}

static int fake_extint(void *opaque)
{
	struct rig *r = opaque;

	r->extint_acks++;
	return r->pic_vector;
}

static u64 fake_tsc(void *opaque)
{
	struct rig *r = opaque;

	return clock_now_ns() + r->tsc_offset;
}

static void fake_eoi(void *opaque, u8 vector)
{
	struct rig *r = opaque;

	r->eoi_vector = vector;
	r->eois++;
}

static void rig_open(struct rig *r)
{
	struct lapic_host host = {
		.intr_changed = fake_intr,
		.extint_ack = fake_extint,
		.tsc = fake_tsc,
		.opaque = r,
	};

	*r = (struct rig){.pic_vector = 0x08, .eoi_vector = -1};
	CHECK(mem_init(&r->mem, 1 << 20, 1 << 20) == 0);
	r->apic = lapic_create(&r->mem, &r->timers, &host);
	CHECK(r->apic != NULL);
	lapic_set_eoi_notify(r->apic, fake_eoi, r);
}

static void rig_close(struct rig *r)
{
	struct device d = lapic_device(r->apic);

	d.ops->destroy(d.opaque);
	CHECK(!r->timers.head);
	CHECK_EQ(r->mem.nr_mmio, 0);
	mem_destroy(&r->mem);
}

static u32 rd(struct rig *r, u32 off)
{
	return (u32)mem_read(&r->mem, BASE + off, 4);
}

static void wr(struct rig *r, u32 off, u32 v)
{
	mem_write(&r->mem, BASE + off, v, 4);
}

/* Software-enable with spurious vector 0xff. */
static void rig_enable(struct rig *r)
{
	wr(r, SVR, 0x1ff);
}

static bool irr_has(struct rig *r, u8 v)
{
	return rd(r, IRR + (v >> 5) * 0x10) & (1u << (v & 31));
}

static bool isr_has(struct rig *r, u8 v)
{
	return rd(r, ISR + (v >> 5) * 0x10) & (1u << (v & 31));
}

static bool tmr_has(struct rig *r, u8 v)
{
	return rd(r, TMR + (v >> 5) * 0x10) & (1u << (v & 31));
}

static u32 esr_read(struct rig *r)
{
	wr(r, ESR, 0);
	return rd(r, ESR);
}

static void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Run the timers as the event loop would until vector is in IRR. */
static bool run_until_irr(struct rig *r, u8 vector, unsigned ms)
{
	u64 end = clock_now_ns() + ms * NSEC_PER_MSEC;

	while (clock_now_ns() < end) {
		timers_run(&r->timers, clock_now_ns());
		if (irr_has(r, vector))
			return true;
		sleep_us(50);
	}
	return false;
}

static void test_power_up_state(void)
{
	struct rig r;
	int i;

	rig_open(&r);
	CHECK_EQ(lapic_get_base(r.apic), BASE | MSR_BSP | MSR_EN);
	CHECK_EQ(rd(&r, ID), 0);
	CHECK_EQ(rd(&r, VERSION), 0x00050014);
	CHECK_EQ(rd(&r, TPR), 0);
	CHECK_EQ(rd(&r, PPR), 0);
	CHECK_EQ(rd(&r, LDR), 0);
	CHECK_EQ(rd(&r, DFR), 0xffffffff);
	CHECK_EQ(rd(&r, SVR), 0xff);
	for (i = 0; i < 6; i++)
		CHECK_EQ(rd(&r, LVT_TIMER + i * 0x10), MASKED);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(rd(&r, ISR + i * 0x10), 0);
		CHECK_EQ(rd(&r, IRR + i * 0x10), 0);
	}
	CHECK_EQ(rd(&r, TMICT), 0);
	CHECK_EQ(rd(&r, TMCCT), 0);
	CHECK_EQ(rd(&r, TDCR), 0);
	CHECK(!lapic_pending(r.apic));
	rig_close(&r);
}

static void test_register_masks(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	wr(&r, TPR, 0xffffffff);
	CHECK_EQ(rd(&r, TPR), 0xff);
	wr(&r, TPR, 0);
	wr(&r, LDR, 0xffffffff);
	CHECK_EQ(rd(&r, LDR), 0xff000000);
	wr(&r, DFR, 0);
	CHECK_EQ(rd(&r, DFR), 0x0fffffff);
	wr(&r, SVR, 0xffffffff);
	CHECK_EQ(rd(&r, SVR), 0x3ff);
	wr(&r, LVT_TIMER, 0xffffffff);
	CHECK_EQ(rd(&r, LVT_TIMER), 0x700ff);
	wr(&r, LVT_THERMAL, 0xffffffff);
	CHECK_EQ(rd(&r, LVT_THERMAL), 0x107ff);
	wr(&r, LVT_PERF, 0xffffffff);
	CHECK_EQ(rd(&r, LVT_PERF), 0x107ff);
	/* delivery status and Remote IRR are read-only */
	wr(&r, LVT_LINT0, 0xffffffff);
	CHECK_EQ(rd(&r, LVT_LINT0), 0x1a7ff);
	wr(&r, LVT_LINT1, 0xffffffff);
	CHECK_EQ(rd(&r, LVT_LINT1), 0x1a7ff);
	wr(&r, LVT_ERROR, 0xffffffff);
	CHECK_EQ(rd(&r, LVT_ERROR), 0x100ff);
	wr(&r, TDCR, 0xffffffff);
	CHECK_EQ(rd(&r, TDCR), 0xb);
	wr(&r, ICR_HI, 0xffffffff);
	CHECK_EQ(rd(&r, ICR_HI), 0xff000000);
	/* read-only registers ignore writes */
	wr(&r, VERSION, 0);
	CHECK_EQ(rd(&r, VERSION), 0x00050014);
	wr(&r, PPR, 0xff);
	CHECK_EQ(rd(&r, PPR), 0);
	wr(&r, IRR, 0xffffffff);
	CHECK_EQ(rd(&r, IRR), 0);
	CHECK_EQ(esr_read(&r), 0);
	rig_close(&r);
}

/* SDM 10.4.7.2: software disable sets every LVT mask and keeps it set. */
static void test_software_disable_masks_lvts(void)
{
	struct rig r;

	rig_open(&r);
	wr(&r, LVT_LINT0, EXTINT);
	CHECK_EQ(rd(&r, LVT_LINT0), EXTINT | MASKED);
	rig_enable(&r);
	wr(&r, LVT_LINT0, EXTINT);
	wr(&r, LVT_ERROR, 0xfe);
	CHECK_EQ(rd(&r, LVT_LINT0), EXTINT);
	wr(&r, SVR, 0xff);
	CHECK_EQ(rd(&r, LVT_LINT0), EXTINT | MASKED);
	CHECK_EQ(rd(&r, LVT_ERROR), 0xfe | MASKED);
	/* and messages are no longer accepted */
	lapic_deliver(r.apic, 0x40, false);
	CHECK(!irr_has(&r, 0x40));
	rig_close(&r);
}

static void test_tpr_ppr(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	wr(&r, TPR, 0x20);
	CHECK_EQ(rd(&r, PPR), 0x20);
	lapic_deliver(r.apic, 0x51, false);
	CHECK_EQ(lapic_intack(r.apic), 0x51);
	/* ISR class above TPR class: PPR is the ISR class */
	CHECK_EQ(rd(&r, PPR), 0x50);
	wr(&r, TPR, 0x5f);
	CHECK_EQ(rd(&r, PPR), 0x5f);
	wr(&r, TPR, 0x70);
	CHECK_EQ(rd(&r, PPR), 0x70);
	wr(&r, EOI, 0);
	wr(&r, TPR, 0x20);
	CHECK_EQ(rd(&r, PPR), 0x20);
	/* a TPR at the IRR class blocks, one below lets through */
	wr(&r, TPR, 0x80);
	lapic_deliver(r.apic, 0x81, false);
	CHECK(!lapic_pending(r.apic));
	CHECK(!r.level);
	CHECK_EQ(rd(&r, APR), 0x80);
	wr(&r, TPR, 0x7f);
	CHECK(lapic_pending(r.apic));
	CHECK(r.level);
	CHECK_EQ(lapic_intack(r.apic), 0x81);
	rig_close(&r);
}

static void test_priority_order(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	lapic_deliver(r.apic, 0x31, false);
	lapic_deliver(r.apic, 0x81, false);
	lapic_deliver(r.apic, 0x45, false);
	CHECK(r.level);
	CHECK(irr_has(&r, 0x31) && irr_has(&r, 0x81) && irr_has(&r, 0x45));
	CHECK_EQ(lapic_intack(r.apic), 0x81);
	CHECK(!irr_has(&r, 0x81));
	CHECK(isr_has(&r, 0x81));
	/* lower classes wait for the EOI */
	CHECK(!r.level);
	CHECK_EQ(lapic_intack(r.apic), 0xff);
	wr(&r, EOI, 0);
	CHECK(!isr_has(&r, 0x81));
	CHECK(r.level);
	CHECK_EQ(lapic_intack(r.apic), 0x45);
	wr(&r, EOI, 0);
	CHECK_EQ(lapic_intack(r.apic), 0x31);
	wr(&r, EOI, 0);
	CHECK(!r.level);
	CHECK_EQ(rd(&r, ISR + 0x10), 0);
	/* an EOI with nothing in service does nothing */
	wr(&r, EOI, 0);
	CHECK_EQ(r.eois, 0);
	rig_close(&r);
}

static void test_isr_nesting(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	lapic_deliver(r.apic, 0x40, false);
	CHECK_EQ(lapic_intack(r.apic), 0x40);
	/* the same class cannot interrupt its own handler */
	lapic_deliver(r.apic, 0x4f, false);
	CHECK(!lapic_pending(r.apic));
	lapic_deliver(r.apic, 0x90, false);
	CHECK(lapic_pending(r.apic));
	CHECK_EQ(lapic_intack(r.apic), 0x90);
	CHECK(isr_has(&r, 0x40) && isr_has(&r, 0x90));
	CHECK_EQ(rd(&r, PPR), 0x90);
	wr(&r, EOI, 0);
	CHECK(!isr_has(&r, 0x90));
	CHECK(isr_has(&r, 0x40));
	CHECK(!lapic_pending(r.apic));
	wr(&r, EOI, 0);
	CHECK(!isr_has(&r, 0x40));
	CHECK_EQ(lapic_intack(r.apic), 0x4f);
	rig_close(&r);
}

static void test_spurious_vector(void)
{
	struct rig r;

	rig_open(&r);
	wr(&r, SVR, 0x1cf);
	CHECK_EQ(lapic_intack(r.apic), 0xcf);
	CHECK_EQ(rd(&r, ISR + 0x60), 0);
	/* masked by TPR at the INTA cycle: spurious too (10.9) */
	lapic_deliver(r.apic, 0x61, false);
	wr(&r, TPR, 0xf0);
	CHECK_EQ(lapic_intack(r.apic), 0xcf);
	CHECK(irr_has(&r, 0x61));
	rig_close(&r);
}

static void test_level_eoi_notifies(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	lapic_deliver(r.apic, 0x60, true);
	CHECK(tmr_has(&r, 0x60));
	CHECK_EQ(lapic_intack(r.apic), 0x60);
	wr(&r, EOI, 0);
	CHECK_EQ(r.eois, 1);
	CHECK_EQ(r.eoi_vector, 0x60);
	lapic_deliver(r.apic, 0x61, false);
	CHECK(!tmr_has(&r, 0x61));
	CHECK_EQ(lapic_intack(r.apic), 0x61);
	wr(&r, EOI, 0);
	CHECK_EQ(r.eois, 1);
	rig_close(&r);
}

static void test_self_ipi(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	/* "self" shorthand, fixed */
	wr(&r, ICR_LO, 0x40000 | 0x55);
	CHECK(irr_has(&r, 0x55));
	CHECK_EQ(rd(&r, ICR_LO) & 0x1000, 0); /* delivery status idle */
	/* no shorthand, physical destination 0: this APIC */
	wr(&r, ICR_HI, 0);
	wr(&r, ICR_LO, 0x56);
	CHECK(irr_has(&r, 0x56));
	/* physical destination 1: nobody */
	wr(&r, ICR_HI, 0x01000000);
	wr(&r, ICR_LO, 0x57);
	CHECK(!irr_has(&r, 0x57));
	/* logical flat destination matching the LDR */
	wr(&r, LDR, 0x01000000);
	wr(&r, ICR_LO, 0x800 | 0x58);
	CHECK(irr_has(&r, 0x58));
	/* all including self, and all excluding self */
	wr(&r, ICR_LO, 0x80000 | 0x59);
	CHECK(irr_has(&r, 0x59));
	wr(&r, ICR_LO, 0xc0000 | 0x5a);
	CHECK(!irr_has(&r, 0x5a));
	/* INIT to self is ignored */
	wr(&r, ICR_LO, 0x40500);
	CHECK_EQ(lapic_intack(r.apic), 0x59);
	/* an illegal vector is a send error */
	wr(&r, ICR_LO, 0x40000 | 0x05);
	CHECK_EQ(esr_read(&r), 0x20);
	CHECK_EQ(esr_read(&r), 0);
	rig_close(&r);
}

static void test_errors(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	wr(&r, LVT_ERROR, 0xe0);
	/* an unimplemented register: illegal register address */
	CHECK_EQ(rd(&r, 0x040), 0);
	CHECK(irr_has(&r, 0xe0));
	/* errors show in ESR after the next write (10.5.3) */
	CHECK_EQ(rd(&r, ESR), 0);
	wr(&r, ESR, 0);
	CHECK_EQ(rd(&r, ESR), 0x80);
	/* an illegal vector received */
	lapic_deliver(r.apic, 0x0e, false);
	CHECK_EQ(esr_read(&r), 0x40);
	/* unaligned and narrow accesses are ignored */
	mem_write(&r.mem, BASE + TPR + 1, 0x30, 1);
	mem_write(&r.mem, BASE + TPR, 0x30, 2);
	CHECK_EQ(rd(&r, TPR), 0);
	CHECK_EQ(mem_read(&r.mem, BASE + VERSION, 2), 0);
	/* an error LVT with an illegal vector does not loop */
	wr(&r, LVT_ERROR, 0x02);
	wr(&r, 0x050, 1);
	CHECK_EQ(esr_read(&r), 0x80);
	rig_close(&r);
}

static void test_extint_passthrough(void)
{
	struct rig r;

	rig_open(&r);
	r.pic_vector = 0x09;
	rig_enable(&r);
	/* LINT0 masked: the 8259 is not heard */
	lapic_set_lint0(r.apic, true);
	CHECK(!r.level);
	lapic_set_lint0(r.apic, false);
	wr(&r, LVT_LINT0, EXTINT);
	lapic_set_lint0(r.apic, true);
	CHECK(r.level);
	CHECK_EQ(lapic_intack(r.apic), 0x09);
	CHECK_EQ(r.extint_acks, 1);
	CHECK_EQ(rd(&r, ISR + 0x00), 0);
	lapic_set_lint0(r.apic, false);
	CHECK(!r.level);
	/* APIC interrupts and ExtINT together */
	lapic_deliver(r.apic, 0x30, false);
	lapic_set_lint0(r.apic, true);
	CHECK_EQ(lapic_intack(r.apic), 0x30);
	CHECK_EQ(lapic_intack(r.apic), 0x09);
	lapic_set_lint0(r.apic, false);
	wr(&r, EOI, 0);
	CHECK(!r.level);
	rig_close(&r);
}

static void test_lint0_fixed(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	/* level-triggered: Remote IRR until the EOI */
	wr(&r, LVT_LINT0, LEVEL | 0x70);
	lapic_set_lint0(r.apic, true);
	CHECK(irr_has(&r, 0x70));
	CHECK(rd(&r, LVT_LINT0) & REMOTE_IRR);
	CHECK_EQ(lapic_intack(r.apic), 0x70);
	wr(&r, EOI, 0);
	/* still asserted: taken again */
	CHECK(irr_has(&r, 0x70));
	CHECK_EQ(lapic_intack(r.apic), 0x70);
	lapic_set_lint0(r.apic, false);
	wr(&r, EOI, 0);
	CHECK(!(rd(&r, LVT_LINT0) & REMOTE_IRR));
	CHECK(!irr_has(&r, 0x70));
	/* edge-triggered: rising edges only */
	wr(&r, LVT_LINT0, 0x71);
	lapic_set_lint0(r.apic, true);
	CHECK_EQ(lapic_intack(r.apic), 0x71);
	wr(&r, EOI, 0);
	lapic_set_lint0(r.apic, true);
	CHECK(!irr_has(&r, 0x71));
	lapic_set_lint0(r.apic, false);
	lapic_set_lint0(r.apic, true);
	CHECK(irr_has(&r, 0x71));
	rig_close(&r);
}

static void test_global_disable(void)
{
	struct rig r;

	rig_open(&r);
	r.pic_vector = 0x0a;
	rig_enable(&r);
	wr(&r, TPR, 0x40);
	CHECK_EQ(lapic_set_base(r.apic, BASE), 0);
	CHECK_EQ(lapic_get_base(r.apic), BASE | MSR_BSP);
	/* the window is gone: open bus */
	CHECK_EQ(rd(&r, VERSION), 0xffffffff);
	/* and the 8259 reaches INTR directly */
	lapic_set_lint0(r.apic, true);
	CHECK(r.level);
	CHECK_EQ(lapic_intack(r.apic), 0x0a);
	lapic_set_lint0(r.apic, false);
	CHECK(!r.level);
	lapic_deliver(r.apic, 0x40, false);
	CHECK(!lapic_pending(r.apic));
	/* back on: power-up state */
	CHECK_EQ(lapic_set_base(r.apic, BASE | MSR_EN), 0);
	CHECK_EQ(rd(&r, VERSION), 0x00050014);
	CHECK_EQ(rd(&r, SVR), 0xff);
	CHECK_EQ(rd(&r, TPR), 0);
	CHECK_EQ(rd(&r, IRR + 0x20), 0);
	rig_close(&r);
}

static const struct mmio_ops dummy_ops = {.name = "dummy"};

static void test_base_relocation(void)
{
	struct rig r;
	u64 nb = 0xfed00000;

	rig_open(&r);
	CHECK_EQ(lapic_set_base(r.apic, nb | MSR_EN), 0);
	CHECK_EQ(lapic_get_base(r.apic), nb | MSR_EN | MSR_BSP);
	CHECK_EQ(mem_read(&r.mem, nb + VERSION, 4), 0x00050014);
	CHECK_EQ(rd(&r, VERSION), 0xffffffff);
	mem_write(&r.mem, nb + TPR, 0x33, 4);
	CHECK_EQ(mem_read(&r.mem, nb + TPR, 4), 0x33);
	/* reserved bits: #GP for the guest, nothing changes */
	CHECK_EQ(lapic_set_base(r.apic, BASE | MSR_EN | 1), -EINVAL);
	CHECK_EQ(lapic_set_base(r.apic, BASE | MSR_EN | 0x400), -EINVAL);
	CHECK_EQ(lapic_set_base(r.apic, 1ull << 36 | MSR_EN), -EINVAL);
	CHECK_EQ(lapic_get_base(r.apic), nb | MSR_EN | MSR_BSP);
	/* over another device's window: refused, still where it was */
	CHECK_EQ(mem_register_mmio(&r.mem, BASE, 0x1000, &dummy_ops, NULL), 0);
	CHECK_EQ(lapic_set_base(r.apic, BASE | MSR_EN), -EBUSY);
	CHECK_EQ(lapic_get_base(r.apic), nb | MSR_EN | MSR_BSP);
	CHECK_EQ(mem_read(&r.mem, nb + TPR, 4), 0x33);
	mem_unregister_mmio(&r.mem, BASE);
	/* BSP is read-only */
	CHECK_EQ(lapic_set_base(r.apic, BASE | MSR_EN), 0);
	CHECK_EQ(lapic_get_base(r.apic), BASE | MSR_EN | MSR_BSP);
	CHECK_EQ(rd(&r, TPR), 0x33);
	/* reset brings it home */
	mem_write(&r.mem, BASE + TPR, 0x10, 4);
	CHECK_EQ(lapic_set_base(r.apic, nb | MSR_EN), 0);
	lapic_device(r.apic).ops->reset(r.apic);
	CHECK_EQ(lapic_get_base(r.apic), BASE | MSR_EN | MSR_BSP);
	CHECK_EQ(rd(&r, VERSION), 0x00050014);
	CHECK_EQ(rd(&r, TPR), 0);
	rig_close(&r);
}

static void test_timer_one_shot(void)
{
	struct rig r;
	u32 c1, c2;
	u64 start;

	rig_open(&r);
	rig_enable(&r);
	wr(&r, TDCR, DIV_1);
	wr(&r, LVT_TIMER, 0x20);
	start = clock_now_ns();
	wr(&r, TMICT, 3000000); /* 3 ms at 1 GHz */
	CHECK_EQ(rd(&r, TMICT), 3000000);
	c1 = rd(&r, TMCCT);
	sleep_us(200);
	c2 = rd(&r, TMCCT);
	CHECK(c1 <= 3000000 && c1 > 0);
	CHECK(c2 < c1);
	CHECK(c1 - c2 >= 150000);
	CHECK(run_until_irr(&r, 0x20, 500));
	CHECK(clock_now_ns() - start >= 3000000);
	CHECK_EQ(rd(&r, TMCCT), 0);
	CHECK_EQ(lapic_intack(r.apic), 0x20);
	wr(&r, EOI, 0);
	/* one shot only */
	CHECK(!run_until_irr(&r, 0x20, 8));
	/* a write of 0 stops a running count */
	wr(&r, TMICT, 2000000);
	wr(&r, TMICT, 0);
	CHECK_EQ(rd(&r, TMCCT), 0);
	CHECK(!r.timers.head);
	rig_close(&r);
}

static void test_timer_masked_still_counts(void)
{
	struct rig r;

	rig_open(&r);
	rig_enable(&r);
	wr(&r, TDCR, DIV_1);
	wr(&r, LVT_TIMER, MASKED | 0x21);
	wr(&r, TMICT, 1000000);
	CHECK(rd(&r, TMCCT) > 0);
	CHECK(!run_until_irr(&r, 0x21, 5));
	CHECK_EQ(rd(&r, TMCCT), 0);
	rig_close(&r);
}

static void test_timer_periodic(void)
{
	struct rig r;
	unsigned fired = 0;
	u64 end;
	u32 c;

	rig_open(&r);
	rig_enable(&r);
	wr(&r, TDCR, DIV_1);
	wr(&r, LVT_TIMER, PERIODIC | 0x22);
	wr(&r, TMICT, 1000000); /* 1 ms */
	end = clock_now_ns() + 30 * NSEC_PER_MSEC;
	while (clock_now_ns() < end) {
		timers_run(&r.timers, clock_now_ns());
		c = rd(&r, TMCCT);
		CHECK(c > 0 && c <= 1000000);
		if (lapic_pending(r.apic)) {
			CHECK_EQ(lapic_intack(r.apic), 0x22);
			wr(&r, EOI, 0);
			fired++;
		}
		sleep_us(100);
	}
	CHECK(fired >= 5);
	CHECK(fired <= 31);
	rig_close(&r);
}

/* The divider changes the rate, and a new divider keeps the count. */
static void test_timer_divider(void)
{
	struct rig r;
	u64 t0, t1;
	u32 c0, c1, c2;

	rig_open(&r);
	rig_enable(&r);
	wr(&r, LVT_TIMER, MASKED);
	wr(&r, TDCR, 0xa); /* divide by 128 */
	t0 = clock_now_ns();
	wr(&r, TMICT, 0xffffffff);
	sleep_us(2000);
	c0 = rd(&r, TMCCT);
	t1 = clock_now_ns();
	/* about (t1 - t0) / 128 ticks gone */
	CHECK(0xffffffffu - c0 <= (t1 - t0) / 128 + 1);
	CHECK(0xffffffffu - c0 >= 1500000 / 128);
	wr(&r, TDCR, 0x0); /* divide by 2 */
	c1 = rd(&r, TMCCT);
	CHECK(c0 - c1 < 1000000);
	sleep_us(2000);
	c2 = rd(&r, TMCCT);
	CHECK(c1 - c2 >= 1500000 / 2);
	rig_close(&r);
}

static void test_tsc_deadline(void)
{
	struct rig r;
	u64 deadline;

	rig_open(&r);
	r.tsc_offset = 5 * NSEC_PER_SEC;
	rig_enable(&r);
	/* outside TSC-deadline mode the MSR reads 0, ignores writes */
	lapic_set_tsc_deadline(r.apic, 123);
	CHECK_EQ(lapic_get_tsc_deadline(r.apic), 0);
	wr(&r, LVT_TIMER, TSC_DEADLINE | 0x23);
	deadline = fake_tsc(&r) + 3 * NSEC_PER_MSEC;
	lapic_set_tsc_deadline(r.apic, deadline);
	CHECK_EQ(lapic_get_tsc_deadline(r.apic), deadline);
	/* the initial count is ignored; the current count reads 0 */
	wr(&r, TMICT, 1000);
	CHECK_EQ(rd(&r, TMICT), 0);
	CHECK_EQ(rd(&r, TMCCT), 0);
	CHECK(run_until_irr(&r, 0x23, 500));
	CHECK(fake_tsc(&r) >= deadline);
	/* it fired: the MSR is cleared and the timer disarmed */
	CHECK_EQ(lapic_get_tsc_deadline(r.apic), 0);
	CHECK(!r.timers.head);
	CHECK_EQ(lapic_intack(r.apic), 0x23);
	wr(&r, EOI, 0);
	/* a deadline in the past fires at once */
	lapic_set_tsc_deadline(r.apic, 1);
	timers_run(&r.timers, clock_now_ns());
	CHECK(irr_has(&r, 0x23));
	CHECK_EQ(lapic_intack(r.apic), 0x23);
	wr(&r, EOI, 0);
	/* writing 0 disarms */
	lapic_set_tsc_deadline(r.apic, fake_tsc(&r) + NSEC_PER_MSEC);
	lapic_set_tsc_deadline(r.apic, 0);
	CHECK(!r.timers.head);
	/* a mode change disarms and clears the deadline */
	lapic_set_tsc_deadline(r.apic, fake_tsc(&r) + NSEC_PER_MSEC);
	wr(&r, LVT_TIMER, 0x23);
	CHECK(!r.timers.head);
	wr(&r, LVT_TIMER, TSC_DEADLINE | 0x23);
	CHECK_EQ(lapic_get_tsc_deadline(r.apic), 0);
	/* a far deadline does not overflow into a near one */
	lapic_set_tsc_deadline(r.apic, ~0ull);
	timers_run(&r.timers, clock_now_ns());
	CHECK(!irr_has(&r, 0x23));
	rig_close(&r);
}

static void test_save_load(void)
{
	struct rig r, r2;
	struct snap_writer w;
	struct snap_reader rd_;
	struct device d, d2;
	u32 count;

	rig_open(&r);
	rig_open(&r2);
	rig_enable(&r);
	wr(&r, TPR, 0x10);
	wr(&r, LDR, 0x01000000);
	wr(&r, DFR, 0x0fffffff);
	wr(&r, LVT_LINT0, EXTINT);
	wr(&r, LVT_ERROR, 0xee);
	wr(&r, ICR_HI, 0x05000000);
	wr(&r, TDCR, DIV_1);
	wr(&r, LVT_TIMER, PERIODIC | MASKED | 0x30);
	wr(&r, TMICT, 50000000);
	lapic_deliver(r.apic, 0x90, true);
	lapic_deliver(r.apic, 0x41, false);
	CHECK_EQ(lapic_intack(r.apic), 0x90);
	CHECK_EQ(lapic_set_base(r2.apic, 0xfed00000 | MSR_EN), 0);

	d = lapic_device(r.apic);
	d2 = lapic_device(r2.apic);
	snap_writer_init(&w);
	CHECK_EQ(d.ops->save(d.opaque, &w), 0);
	snap_reader_init(&rd_, w.buf, w.len);
	CHECK_EQ(d2.ops->load(d2.opaque, &rd_), 0);
	snap_writer_free(&w);

	CHECK_EQ(lapic_get_base(r2.apic), BASE | MSR_EN | MSR_BSP);
	CHECK_EQ(rd(&r2, TPR), 0x10);
	CHECK_EQ(rd(&r2, LDR), 0x01000000);
	CHECK_EQ(rd(&r2, DFR), 0x0fffffff);
	CHECK_EQ(rd(&r2, SVR), 0x1ff);
	CHECK_EQ(rd(&r2, LVT_LINT0), EXTINT);
	CHECK_EQ(rd(&r2, LVT_ERROR), 0xee);
	CHECK_EQ(rd(&r2, ICR_HI), 0x05000000);
	CHECK_EQ(rd(&r2, LVT_TIMER), PERIODIC | MASKED | 0x30);
	CHECK_EQ(rd(&r2, TMICT), 50000000);
	count = rd(&r2, TMCCT);
	CHECK(count > 0 && count <= 50000000);
	CHECK(r2.timers.head != NULL);
	CHECK(isr_has(&r2, 0x90) && tmr_has(&r2, 0x90));
	CHECK(irr_has(&r2, 0x41));
	CHECK(!r2.level);
	wr(&r2, EOI, 0);
	CHECK_EQ(r2.eois, 1);
	CHECK(r2.level);
	CHECK_EQ(lapic_intack(r2.apic), 0x41);
	rig_close(&r);
	rig_close(&r2);
}

/* Garbage of every length is refused and changes nothing. */
static void test_load_rejects_garbage(void)
{
	static u8 junk[1024];
	struct rig r;
	struct snap_writer w;
	struct snap_reader rd_;
	struct device d;
	size_t len;

	rig_open(&r);
	d = lapic_device(r.apic);
	memset(junk, 0xff, sizeof(junk));
	for (len = 0; len < sizeof(junk); len++) {
		snap_writer_init(&w);
		snap_put(&w, "lapic", 1, junk, len);
		snap_reader_init(&rd_, w.buf, w.len);
		CHECK(d.ops->load(d.opaque, &rd_) != 0);
		snap_writer_free(&w);
	}
	CHECK_EQ(lapic_get_base(r.apic), BASE | MSR_EN | MSR_BSP);
	CHECK_EQ(rd(&r, VERSION), 0x00050014);
	rig_close(&r);
}

/* A hostile guest: random accesses anywhere in the window. */
static void test_random_mmio(void)
{
	static const unsigned sizes[] = {1, 2, 4, 8};
	struct rig r;
	unsigned i;

	rig_open(&r);
	srand(1234);
	for (i = 0; i < 100000; i++) {
		u64 off = (u64)rand() % 0x1000;
		unsigned size = sizes[rand() % 4];
		u32 v = (u32)rand() << 1 ^ (u32)rand();

		/* mostly real registers, aligned */
		if (rand() % 4)
			off &= 0x3f0, size = 4;
		if (rand() % 2)
			mem_write(&r.mem, BASE + off, v, size);
		else
			mem_read(&r.mem, BASE + off, size);
		if (!(i % 64)) {
			lapic_deliver(r.apic, (u8)rand(), rand() % 2);
			lapic_set_lint0(r.apic, rand() % 2);
			lapic_set_tsc_deadline(r.apic, fake_tsc(&r) + rand());
			timers_run(&r.timers, clock_now_ns());
		}
		if (lapic_pending(r.apic))
			lapic_intack(r.apic);
	}
	CHECK_EQ(lapic_get_base(r.apic) & ~0xfffull, BASE);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_power_up_state);
	RUN_TEST(test_register_masks);
	RUN_TEST(test_software_disable_masks_lvts);
	RUN_TEST(test_tpr_ppr);
	RUN_TEST(test_priority_order);
	RUN_TEST(test_isr_nesting);
	RUN_TEST(test_spurious_vector);
	RUN_TEST(test_level_eoi_notifies);
	RUN_TEST(test_self_ipi);
	RUN_TEST(test_errors);
	RUN_TEST(test_extint_passthrough);
	RUN_TEST(test_lint0_fixed);
	RUN_TEST(test_global_disable);
	RUN_TEST(test_base_relocation);
	RUN_TEST(test_timer_one_shot);
	RUN_TEST(test_timer_masked_still_counts);
	RUN_TEST(test_timer_periodic);
	RUN_TEST(test_timer_divider);
	RUN_TEST(test_tsc_deadline);
	RUN_TEST(test_save_load);
	RUN_TEST(test_load_rejects_garbage);
	RUN_TEST(test_random_mmio);
	return unit_summary();
}

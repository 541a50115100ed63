// SPDX-License-Identifier: MIT
/*
 * Local APIC, xAPIC mode, one processor (APIC ID 0, the BSP). Intel SDM
 * vol. 3, chapter 10.
 *
 * Interrupts wait in IRR, are moved to ISR by lapic_intack() and leave ISR
 * on an EOI write; PPR decides what may be delivered (10.8.3). The timer
 * does not tick: it remembers when its count was loaded and derives the
 * current count from the host clock, arming one timer for the moment the
 * count reaches zero (or the TSC reaches the deadline).
 *
 * Global disable (IA32_APIC_BASE bit 11 clear) makes the processor one
 * without an APIC (10.4.3): the MMIO window leaves the address space, the
 * registers return to their power-up state and the 8259's INTR reaches
 * the CPU directly, which lapic_pending()/lapic_intack() pass through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "hw/lapic.h"

#define LAPIC_SAVE_VERSION 1
#define LAPIC_MMIO_SIZE 0x1000u

/* IA32_APIC_BASE, SDM 10.4.4: MAXPHYADDR is 36 on this CPU. */
#define BASE_BSP BIT(8)
#define BASE_ENABLE BIT(11)
#define BASE_ADDR_MASK 0x0000000ffffff000ull
#define BASE_WRITABLE (BASE_ADDR_MASK | BASE_ENABLE)
#define BASE_RESERVED (~(BASE_WRITABLE | BASE_BSP))

/* Register offsets, SDM Table 10-1. */
#define REG_ID 0x020
#define REG_VERSION 0x030
#define REG_TPR 0x080
#define REG_APR 0x090
#define REG_PPR 0x0a0
#define REG_EOI 0x0b0
#define REG_LDR 0x0d0
#define REG_DFR 0x0e0
#define REG_SVR 0x0f0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_ESR 0x280
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT 0x320
#define REG_TMICT 0x380
#define REG_TMCCT 0x390
#define REG_TDCR 0x3e0

/*
 * Version 0x14 (integrated APIC); bits 23:16 hold the highest LVT index:
 * six entries (timer, thermal, perf, LINT0, LINT1, error) make it 5.
 * Bit 24 (EOI broadcast suppression) is clear: not supported.
 */
#define LAPIC_VERSION 0x00050014u

/* LVT entries in register order from 0x320, SDM Figure 10-8. */
enum {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	LVT_COUNT,
};

#define LVT_VECTOR(v) ((u8)(v))
#define LVT_MODE(v) (((v) >> 8) & 7)
#define LVT_POLARITY_LOW BIT(13)
#define LVT_REMOTE_IRR BIT(14)
#define LVT_LEVEL BIT(15)
#define LVT_MASKED BIT(16)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)

#define LVT_MODE_FIXED 0
#define LVT_MODE_NMI 4
#define LVT_MODE_EXTINT 7

#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2

/* SVR, SDM Figure 10-23: vector, software enable, focus checking. */
#define SVR_ENABLE BIT(8)
#define SVR_WRITABLE 0x3ffu

/* ESR bits, SDM Figure 10-9. */
#define ESR_SEND_ILLEGAL BIT(5)
#define ESR_RECV_ILLEGAL BIT(6)
#define ESR_ILLEGAL_REG BIT(7)
#define ESR_KNOWN 0xffu

/* ICR, SDM Figure 10-12. */
#define ICR_MODE(v) (((v) >> 8) & 7)
#define ICR_LOGICAL BIT(11)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3)
#define ICR_LO_WRITABLE 0x000ccfffu
#define ICR_MODE_FIXED 0
#define ICR_MODE_LOWEST 1
#define SHORTHAND_NONE 0
#define SHORTHAND_SELF 1
#define SHORTHAND_ALL 2

#define DFR_FLAT 0xf
#define DFR_LOW_ONES 0x0fffffffu

#define HI_BYTE 0xff000000u
#define TDCR_WRITABLE 0xbu
#define VECTOR_FIRST_LEGAL 16
#define BROADCAST 0xff

/*
 * Periodic interrupts come at most this often, so a guest programming a
 * period of a few ns cannot keep the event loop from running anything
 * else. The current count stays exact; only interrupts are spaced.
 */
#define LAPIC_MIN_PERIOD_NS (50 * NSEC_PER_USEC)

/* What the guest can see; plain old data, saved as it is. */
struct lapic_regs {
	u64 base_msr;
	u64 tsc_deadline;
	u64 timer_start_ns; /* the current count was loaded (host time) */
	u32 irr[8], isr[8], tmr[8];
	u32 id, tpr, ldr, dfr, svr;
	u32 esr;	 /* what the guest reads */
	u32 esr_pending; /* errors since the last ESR write */
	u32 icr_lo, icr_hi;
	u32 lvt[LVT_COUNT];
	u32 initial_count, tdcr;
	u8 timer_running; /* one-shot/periodic count not yet stopped */
	u8 lint0_level;	  /* the LINT0 pin, as the 8259 drives it */
	u8 pad[6];
};

struct lapic {
	struct lapic_regs s;
	struct phys_mem *mem;
	struct timer timer;
	struct lapic_host host;
	void (*eoi)(void *opaque, u8 vector);
	void *eoi_opaque;
	u64 mapped_base;
	bool mapped;
	bool out_level; /* what intr_changed last reported */
};

/* Writable LVT bits, SDM Figure 10-8. */
static const u32 lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x000700ff,   /* vector, mask, timer mode */
	[LVT_THERMAL] = 0x000107ff, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x000107ff,
	[LVT_LINT0] = 0x0001a7ff, /* and polarity, trigger mode */
	[LVT_LINT1] = 0x0001a7ff,
	[LVT_ERROR] = 0x000100ff, /* vector, mask */
};

static bool lapic_global_enabled(const struct lapic *apic)
{
	return apic->s.base_msr & BASE_ENABLE;
}

static bool lapic_sw_enabled(const struct lapic *apic)
{
	return apic->s.svr & SVR_ENABLE;
}

/* --- 256-bit vector sets ------------------------------------------------ */

static bool vec_test(const u32 *set, u8 v)
{
	return set[v >> 5] & BIT(v & 31);
}

static void vec_set(u32 *set, u8 v)
{
	set[v >> 5] |= BIT(v & 31);
}

static void vec_clear(u32 *set, u8 v)
{
	set[v >> 5] &= ~BIT(v & 31);
}

/* The highest vector in the set, or -1 when it is empty. */
static int vec_highest(const u32 *set)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (set[i])
			return i * 32 + 31 - __builtin_clz(set[i]);
	return -1;
}

/* --- priorities, SDM 10.8.3 ------------------------------------------- */

static u32 lapic_class(int vector)
{
	return vector < 0 ? 0 : (u32)vector >> 4;
}

static u32 lapic_ppr(const struct lapic *apic)
{
	u32 isrv = lapic_class(vec_highest(apic->s.isr));

	if ((apic->s.tpr >> 4) >= isrv)
		return apic->s.tpr & 0xff;
	return isrv << 4;
}

/* SDM 10.8.3.1 (Figure 10-15's arbitration priority). */
static u32 lapic_apr(const struct lapic *apic)
{
	u32 tpr = apic->s.tpr >> 4;
	u32 isrv = lapic_class(vec_highest(apic->s.isr));
	u32 irrv = lapic_class(vec_highest(apic->s.irr));

	if (tpr >= irrv && tpr > isrv)
		return apic->s.tpr & 0xff;
	return MAX(tpr, MAX(isrv, irrv)) << 4;
}

/* The IRR vector the processor may take now, or -1. */
static int lapic_deliverable(const struct lapic *apic)
{
	int v = vec_highest(apic->s.irr);

	if (v < 0 || lapic_class(v) <= lapic_ppr(apic) >> 4)
		return -1;
	return v;
}

static bool lapic_lint0_asserted(const struct lapic *apic)
{
	bool low = apic->s.lvt[LVT_LINT0] & LVT_POLARITY_LOW;

	return apic->s.lint0_level != low;
}

static bool lapic_extint_pending(const struct lapic *apic)
{
	u32 lvt = apic->s.lvt[LVT_LINT0];

	return !(lvt & LVT_MASKED) && LVT_MODE(lvt) == LVT_MODE_EXTINT &&
	       lapic_lint0_asserted(apic);
}

bool lapic_pending(const struct lapic *apic)
{
	if (!lapic_global_enabled(apic))
		return apic->s.lint0_level;
	return lapic_deliverable(apic) >= 0 || lapic_extint_pending(apic);
}

static void lapic_update_output(struct lapic *apic)
{
	bool level = lapic_pending(apic);

	if (level == apic->out_level)
		return;
	apic->out_level = level;
	if (apic->host.intr_changed)
		apic->host.intr_changed(apic->host.opaque, level);
}

/* --- accepting interrupts, SDM 10.8.1 --------------------------------- */

static void lapic_error(struct lapic *apic, u32 bits);

/*
 * Latch vector in IRR; TMR records its trigger mode. Vectors 0-15 are
 * illegal (10.5.2) and only raise an error, except on the error LVT
 * itself, which would otherwise report its own illegal vector forever.
 */
static void lapic_accept(struct lapic *apic, u8 vector, bool level,
			 bool is_error)
{
	if (vector < VECTOR_FIRST_LEGAL) {
		if (!is_error)
			lapic_error(apic, ESR_RECV_ILLEGAL);
		return;
	}
	vec_set(apic->s.irr, vector);
	if (level)
		vec_set(apic->s.tmr, vector);
	else
		vec_clear(apic->s.tmr, vector);
	lapic_update_output(apic);
}

/* A local interrupt through an LVT entry in fixed mode (10.5.1). */
static void lapic_lvt_fire(struct lapic *apic, unsigned lvt_index)
{
	u32 lvt = apic->s.lvt[lvt_index];

	if (lvt & LVT_MASKED)
		return;
	lapic_accept(apic, LVT_VECTOR(lvt), false, lvt_index == LVT_ERROR);
}

static void lapic_error(struct lapic *apic, u32 bits)
{
	apic->s.esr_pending |= bits;
	lapic_lvt_fire(apic, LVT_ERROR);
}

bool lapic_is_destination(const struct lapic *apic, u8 dest, bool logical)
{
	u8 ldr = (u8)(apic->s.ldr >> 24);

	if (!lapic_global_enabled(apic))
		return false;
	if (dest == BROADCAST)
		return true;
	if (!logical)
		return dest == (u8)(apic->s.id >> 24);
	if (apic->s.dfr >> 28 == DFR_FLAT)
		return dest & ldr;
	/* cluster model: cluster in bits 7:4, members in 3:0 */
	return (dest >> 4 == ldr >> 4 || dest >> 4 == 0xf) &&
	       (dest & ldr & 0xf);
}

/*
 * A software-disabled APIC keeps what its IRR holds but accepts nothing
 * new (SDM 10.4.7.2).
 */
void lapic_deliver(struct lapic *apic, u8 vector, bool level_triggered)
{
	if (!lapic_global_enabled(apic) || !lapic_sw_enabled(apic))
		return;
	lapic_accept(apic, vector, level_triggered, false);
}

/* --- LINT0 ------------------------------------------------------------- */

/*
 * LINT0 in fixed mode: an edge-triggered entry takes the rising edge of
 * the asserted level (an edge while masked is lost), a level-triggered
 * one takes the level while its Remote IRR is clear and sets Remote IRR
 * until the EOI (10.5.1).
 */
static void lapic_lint0_service(struct lapic *apic, bool rising)
{
	u32 *lvt = &apic->s.lvt[LVT_LINT0];

	if (*lvt & LVT_MASKED)
		return;
	switch (LVT_MODE(*lvt)) {
	case LVT_MODE_FIXED:
		if (*lvt & LVT_LEVEL) {
			if (!lapic_lint0_asserted(apic) ||
			    (*lvt & LVT_REMOTE_IRR))
				return;
			*lvt |= LVT_REMOTE_IRR;
			lapic_accept(apic, LVT_VECTOR(*lvt), true, false);
		} else if (rising) {
			lapic_accept(apic, LVT_VECTOR(*lvt), false, false);
		}
		break;
	case LVT_MODE_EXTINT:
		break; /* lapic_pending() looks at the pin itself */
	default:
		if (rising)
			log_guest_once("lapic",
				       "LINT0 delivery mode %u ignored",
				       LVT_MODE(*lvt));
		break;
	}
}

void lapic_set_lint0(struct lapic *apic, bool level)
{
	bool was = lapic_lint0_asserted(apic);

	apic->s.lint0_level = level;
	if (lapic_global_enabled(apic))
		lapic_lint0_service(apic, !was && lapic_lint0_asserted(apic));
	lapic_update_output(apic);
}

/* --- acknowledge and EOI ----------------------------------------------- */

static int lapic_extint_ack(struct lapic *apic)
{
	int vector = 0xff; /* no 8259: the open bus */

	if (apic->host.extint_ack)
		vector = apic->host.extint_ack(apic->host.opaque);
	lapic_update_output(apic);
	return vector;
}

/*
 * INTA: the highest deliverable IRR vector moves to ISR. ExtINT comes
 * from the 8259 and touches neither IRR nor ISR. With nothing left the
 * processor gets the spurious vector, which needs no EOI (10.9).
 */
int lapic_intack(struct lapic *apic)
{
	int v;

	if (!lapic_global_enabled(apic))
		return lapic_extint_ack(apic);
	v = lapic_deliverable(apic);
	if (v >= 0) {
		vec_clear(apic->s.irr, (u8)v);
		vec_set(apic->s.isr, (u8)v);
		lapic_update_output(apic);
		return v;
	}
	if (lapic_extint_pending(apic))
		return lapic_extint_ack(apic);
	return apic->s.svr & 0xff;
}

/*
 * EOI retires the highest ISR vector (10.8.5). A level-triggered one
 * (TMR set) is also reported to the IOAPIC, and clears LINT0's Remote IRR
 * when it was LINT0's vector.
 */
static void lapic_eoi(struct lapic *apic)
{
	int v = vec_highest(apic->s.isr);
	u32 *lint0 = &apic->s.lvt[LVT_LINT0];

	if (v < 0)
		return;
	vec_clear(apic->s.isr, (u8)v);
	if (vec_test(apic->s.tmr, (u8)v)) {
		if ((*lint0 & LVT_REMOTE_IRR) && LVT_VECTOR(*lint0) == v) {
			*lint0 &= ~LVT_REMOTE_IRR;
			lapic_lint0_service(apic, false);
		}
		if (apic->eoi)
			apic->eoi(apic->eoi_opaque, (u8)v);
	}
	lapic_update_output(apic);
}

void lapic_set_eoi_notify(struct lapic *apic,
			  void (*eoi)(void *opaque, u8 vector), void *opaque)
{
	apic->eoi = eoi;
	apic->eoi_opaque = opaque;
}

/* --- timer, SDM 10.5.4 ------------------------------------------------- */

static u64 lapic_guest_tsc(const struct lapic *apic)
{
	if (apic->host.tsc)
		return apic->host.tsc(apic->host.opaque);
	return clock_guest_ns();
}

/* SDM Figure 10-10: bits 3, 1:0 select 2, 4, ... 128, and 1 for 111b. */
static u64 lapic_tick_ns(const struct lapic *apic)
{
	u32 code = (apic->s.tdcr & 3) | (apic->s.tdcr & 8) >> 1;
	u64 divisor = code == 7 ? 1 : 2u << code;

	return divisor * NSEC_PER_SEC / LAPIC_BUS_HZ;
}

static unsigned lapic_timer_mode(const struct lapic *apic)
{
	return LVT_TIMER_MODE(apic->s.lvt[LVT_TIMER]);
}

/* The reserved timer mode 11b counts as one-shot. */
static bool lapic_periodic(const struct lapic *apic)
{
	return lapic_timer_mode(apic) == TIMER_PERIODIC;
}

static u64 lapic_timer_ticks(const struct lapic *apic, u64 now)
{
	if (now <= apic->s.timer_start_ns)
		return 0;
	return (now - apic->s.timer_start_ns) / lapic_tick_ns(apic);
}

static u32 lapic_current_count(const struct lapic *apic, u64 now)
{
	u64 ticks, n = apic->s.initial_count;

	if (!apic->s.timer_running || !n)
		return 0;
	ticks = lapic_timer_ticks(apic, now);
	if (lapic_periodic(apic))
		return (u32)(n - ticks % n);
	return ticks >= n ? 0 : (u32)(n - ticks);
}

static u64 lapic_add_sat(u64 a, u64 b)
{
	return a + b < a ? TIMER_NEVER : a + b;
}

/* The host time of the next zero count (after now, when periodic). */
static u64 lapic_count_deadline(const struct lapic *apic, u64 now)
{
	u64 period = apic->s.initial_count * lapic_tick_ns(apic);
	u64 next;

	if (!lapic_periodic(apic))
		return apic->s.timer_start_ns + period;
	next = apic->s.timer_start_ns +
	       (lapic_timer_ticks(apic, now) / apic->s.initial_count + 1) *
		       period;
	return MAX(next, now + LAPIC_MIN_PERIOD_NS);
}

static u64 lapic_tsc_deadline_ns(const struct lapic *apic, u64 now)
{
	u64 tsc = lapic_guest_tsc(apic);

	/* the guest TSC runs at 1 GHz: one tick per ns */
	if (apic->s.tsc_deadline <= tsc)
		return now;
	return lapic_add_sat(now, apic->s.tsc_deadline - tsc);
}

static void lapic_timer_arm(struct lapic *apic, u64 now)
{
	if (lapic_timer_mode(apic) == TIMER_TSC_DEADLINE) {
		if (apic->s.tsc_deadline)
			timer_arm(&apic->timer,
				  lapic_tsc_deadline_ns(apic, now));
		else
			timer_cancel(&apic->timer);
	} else if (apic->s.timer_running && apic->s.initial_count) {
		timer_arm(&apic->timer, lapic_count_deadline(apic, now));
	} else {
		timer_cancel(&apic->timer);
	}
}

static void lapic_timer_fire(void *opaque)
{
	struct lapic *apic = opaque;
	u64 now = clock_guest_ns();

	if (lapic_timer_mode(apic) == TIMER_TSC_DEADLINE) {
		/* the guest may have moved its TSC back since arming */
		if (lapic_guest_tsc(apic) < apic->s.tsc_deadline) {
			lapic_timer_arm(apic, now);
			return;
		}
		apic->s.tsc_deadline = 0;
	} else if (!lapic_periodic(apic)) {
		apic->s.timer_running = 0;
	}
	lapic_lvt_fire(apic, LVT_TIMER);
	lapic_timer_arm(apic, now);
}

static void lapic_write_initial_count(struct lapic *apic, u32 value)
{
	u64 now = clock_guest_ns();

	/* ignored in TSC-deadline mode (10.5.4.1) */
	if (lapic_timer_mode(apic) == TIMER_TSC_DEADLINE)
		return;
	apic->s.initial_count = value;
	apic->s.timer_start_ns = now;
	apic->s.timer_running = value != 0;
	lapic_timer_arm(apic, now);
}

/* A new divider keeps the current count where it is. */
static void lapic_write_tdcr(struct lapic *apic, u32 value)
{
	u64 now = clock_guest_ns();
	u32 count = lapic_current_count(apic, now);

	apic->s.tdcr = value & TDCR_WRITABLE;
	if (!apic->s.timer_running || !count)
		return;
	apic->s.timer_start_ns = now - (u64)(apic->s.initial_count - count) *
					       lapic_tick_ns(apic);
	lapic_timer_arm(apic, now);
}

u64 lapic_get_tsc_deadline(const struct lapic *apic)
{
	if (lapic_timer_mode(apic) != TIMER_TSC_DEADLINE)
		return 0;
	return apic->s.tsc_deadline;
}

/*
 * Outside TSC-deadline mode the MSR reads 0 and ignores writes; writing 0
 * disarms, a deadline already past fires at once (10.5.4.1).
 */
void lapic_set_tsc_deadline(struct lapic *apic, u64 deadline)
{
	if (lapic_timer_mode(apic) != TIMER_TSC_DEADLINE)
		return;
	apic->s.tsc_deadline = deadline;
	lapic_timer_arm(apic, clock_guest_ns());
}

/* --- register writes -------------------------------------------------- */

/*
 * LVT writes keep Remote IRR (read-only); a software-disabled APIC keeps
 * every mask bit set (10.4.7.2). Changing the timer mode disarms the
 * timer (10.5.4.1).
 */
static void lapic_write_lvt(struct lapic *apic, unsigned i, u32 value)
{
	u32 *lvt = &apic->s.lvt[i];
	u32 old = *lvt;

	value &= lvt_writable[i];
	if (!lapic_sw_enabled(apic))
		value |= LVT_MASKED;
	*lvt = value | (old & LVT_REMOTE_IRR);
	if (i == LVT_LINT0) {
		lapic_lint0_service(apic, false);
	} else if (i == LVT_TIMER &&
		   LVT_TIMER_MODE(old) != LVT_TIMER_MODE(value)) {
		apic->s.timer_running = 0;
		apic->s.tsc_deadline = 0;
		timer_cancel(&apic->timer);
	}
	lapic_update_output(apic);
}

static void lapic_write_svr(struct lapic *apic, u32 value)
{
	unsigned i;

	apic->s.svr = value & SVR_WRITABLE;
	if (!lapic_sw_enabled(apic))
		for (i = 0; i < LVT_COUNT; i++)
			apic->s.lvt[i] |= LVT_MASKED;
	lapic_update_output(apic);
}

/* Only fixed and lowest-priority IPIs, to this APIC (10.6). */
static void lapic_send_ipi(struct lapic *apic)
{
	u32 lo = apic->s.icr_lo;
	unsigned mode = ICR_MODE(lo);
	bool to_self;

	switch (ICR_SHORTHAND(lo)) {
	case SHORTHAND_NONE:
		to_self = lapic_is_destination(apic, (u8)(apic->s.icr_hi >> 24),
					       lo & ICR_LOGICAL);
		break;
	case SHORTHAND_SELF:
	case SHORTHAND_ALL:
		to_self = true;
		break;
	default:
		return; /* all but self: there is no other processor */
	}
	if (mode != ICR_MODE_FIXED && mode != ICR_MODE_LOWEST) {
		log_guest_once("lapic", "IPI delivery mode %u ignored", mode);
		return;
	}
	if (LVT_VECTOR(lo) < VECTOR_FIRST_LEGAL) {
		lapic_error(apic, ESR_SEND_ILLEGAL);
		return;
	}
	if (to_self)
		lapic_deliver(apic, LVT_VECTOR(lo), false);
}

static void lapic_write_esr(struct lapic *apic)
{
	apic->s.esr = apic->s.esr_pending;
	apic->s.esr_pending = 0;
}

static bool lapic_is_lvt(u32 off)
{
	return off >= REG_LVT && off < REG_LVT + 0x10 * LVT_COUNT;
}

static void lapic_reg_write(struct lapic *apic, u32 off, u32 value)
{
	if (lapic_is_lvt(off)) {
		lapic_write_lvt(apic, (off - REG_LVT) >> 4, value);
		return;
	}
	switch (off) {
	case REG_ID:
		apic->s.id = value & HI_BYTE;
		break;
	case REG_TPR:
		apic->s.tpr = value & 0xff;
		lapic_update_output(apic);
		break;
	case REG_EOI:
		lapic_eoi(apic);
		break;
	case REG_LDR:
		apic->s.ldr = value & HI_BYTE;
		break;
	case REG_DFR:
		apic->s.dfr = (value & ~DFR_LOW_ONES) | DFR_LOW_ONES;
		break;
	case REG_SVR:
		lapic_write_svr(apic, value);
		break;
	case REG_ESR:
		lapic_write_esr(apic);
		break;
	case REG_ICR_LO:
		apic->s.icr_lo = value & ICR_LO_WRITABLE;
		lapic_send_ipi(apic);
		break;
	case REG_ICR_HI:
		apic->s.icr_hi = value & HI_BYTE;
		break;
	case REG_TMICT:
		lapic_write_initial_count(apic, value);
		break;
	case REG_TDCR:
		lapic_write_tdcr(apic, value);
		break;
	case REG_VERSION:
	case REG_APR:
	case REG_PPR:
	case REG_TMCCT:
		break; /* read-only */
	default:
		if (off >= REG_ISR && off < REG_ESR)
			break; /* ISR, TMR, IRR: read-only */
		lapic_error(apic, ESR_ILLEGAL_REG);
		break;
	}
}

/* --- register reads --------------------------------------------------- */

/* ISR, TMR and IRR: eight registers of 32 vectors each. */
static bool lapic_read_vec_set(const struct lapic *apic, u32 off, u32 *value)
{
	const u32 *set;

	if (off >= REG_ISR && off < REG_TMR)
		set = apic->s.isr;
	else if (off >= REG_TMR && off < REG_IRR)
		set = apic->s.tmr;
	else if (off >= REG_IRR && off < REG_ESR)
		set = apic->s.irr;
	else
		return false;
	*value = set[(off >> 4) & 7];
	return true;
}

static bool lapic_reg_read(struct lapic *apic, u32 off, u32 *value)
{
	if (lapic_is_lvt(off)) {
		*value = apic->s.lvt[(off - REG_LVT) >> 4];
		return true;
	}
	switch (off) {
	case REG_ID:
		*value = apic->s.id;
		return true;
	case REG_VERSION:
		*value = LAPIC_VERSION;
		return true;
	case REG_TPR:
		*value = apic->s.tpr;
		return true;
	case REG_APR:
		*value = lapic_apr(apic);
		return true;
	case REG_PPR:
		*value = lapic_ppr(apic);
		return true;
	case REG_EOI:
		*value = 0; /* write-only */
		return true;
	case REG_LDR:
		*value = apic->s.ldr;
		return true;
	case REG_DFR:
		*value = apic->s.dfr;
		return true;
	case REG_SVR:
		*value = apic->s.svr;
		return true;
	case REG_ESR:
		*value = apic->s.esr;
		return true;
	case REG_ICR_LO:
		*value = apic->s.icr_lo; /* delivery status: always idle */
		return true;
	case REG_ICR_HI:
		*value = apic->s.icr_hi;
		return true;
	case REG_TMICT:
		*value = apic->s.initial_count;
		return true;
	case REG_TMCCT:
		*value = lapic_current_count(apic, clock_guest_ns());
		return true;
	case REG_TDCR:
		*value = apic->s.tdcr;
		return true;
	default:
		return lapic_read_vec_set(apic, off, value);
	}
}

/*
 * Registers are 32 bits wide on 16-byte boundaries and are accessed with
 * aligned 32-bit loads and stores (10.4.1); anything else is ignored.
 */
static bool lapic_access_ok(u64 offset, unsigned size)
{
	if (size == 4 && !(offset & 0xf))
		return true;
	log_guest_once("lapic", "unaligned or non-32-bit access at 0x%llx",
		       (unsigned long long)offset);
	return false;
}

static u64 lapic_mmio_read(void *opaque, u64 offset, unsigned size)
{
	struct lapic *apic = opaque;
	u32 value = 0;

	if (!lapic_access_ok(offset, size))
		return 0;
	if (!lapic_reg_read(apic, (u32)offset, &value))
		lapic_error(apic, ESR_ILLEGAL_REG);
	return value;
}

static void lapic_mmio_write(void *opaque, u64 offset, u64 value, unsigned size)
{
	struct lapic *apic = opaque;

	if (lapic_access_ok(offset, size))
		lapic_reg_write(apic, (u32)offset, (u32)value);
}

static const struct mmio_ops lapic_mmio_ops = {
	.name = "lapic",
	.read = lapic_mmio_read,
	.write = lapic_mmio_write,
};

/* --- base address and global enable ------------------------------------ */

/* Put the window at base (or nowhere when disabled). */
static int lapic_map(struct lapic *apic, u64 base, bool enabled)
{
	int ret;

	if (apic->mapped)
		mem_unregister_mmio(apic->mem, apic->mapped_base);
	apic->mapped = false;
	if (!enabled)
		return 0;
	ret = mem_register_mmio(apic->mem, base, LAPIC_MMIO_SIZE,
				&lapic_mmio_ops, apic);
	if (ret)
		return ret;
	apic->mapped = true;
	apic->mapped_base = base;
	return 0;
}

/* Register state after power-up or RESET, SDM 10.4.7.1. */
static void lapic_power_up_regs(struct lapic *apic, u64 base_msr)
{
	u8 lint0 = apic->s.lint0_level;
	unsigned i;

	apic->s = (struct lapic_regs){
		.base_msr = base_msr,
		.dfr = 0xffffffffu,
		.svr = 0xff,
		.lint0_level = lint0,
	};
	for (i = 0; i < LVT_COUNT; i++)
		apic->s.lvt[i] = LVT_MASKED;
	timer_cancel(&apic->timer);
}

u64 lapic_get_base(const struct lapic *apic)
{
	return apic->s.base_msr;
}

int lapic_set_base(struct lapic *apic, u64 value)
{
	u64 old = apic->s.base_msr;
	bool enable = value & BASE_ENABLE;
	int ret;

	if (value & BASE_RESERVED)
		return -EINVAL;
	value = (value & BASE_WRITABLE) | BASE_BSP;
	if (value == old)
		return 0;
	ret = lapic_map(apic, value & BASE_ADDR_MASK, enable);
	if (ret) {
		lapic_map(apic, old & BASE_ADDR_MASK, old & BASE_ENABLE);
		return ret;
	}
	/* disabling loses the APIC's programming (10.4.3) */
	if (!enable && (old & BASE_ENABLE))
		lapic_power_up_regs(apic, value);
	apic->s.base_msr = value;
	lapic_update_output(apic);
	return 0;
}

/* --- device ------------------------------------------------------------ */

static void lapic_reset(void *opaque)
{
	struct lapic *apic = opaque;
	u64 base = LAPIC_DEFAULT_BASE | BASE_BSP | BASE_ENABLE;

	lapic_power_up_regs(apic, base);
	if (lapic_map(apic, LAPIC_DEFAULT_BASE, true))
		log_error("lapic", "cannot map the local APIC at 0x%x",
			  LAPIC_DEFAULT_BASE);
	lapic_update_output(apic);
}

/* Host times travel as offsets from the moment of the save. */
static u64 lapic_rel_to_time(u64 rel, u64 now)
{
	/* a count cannot have started in the future */
	if ((s64)rel > 0)
		return now;
	return now + rel > now ? 0 : now + rel;
}

static int lapic_save(void *opaque, struct snap_writer *w)
{
	struct lapic *apic = opaque;
	struct lapic_regs s = apic->s;

	s.timer_start_ns -= clock_guest_ns();
	return snap_put(w, "lapic", LAPIC_SAVE_VERSION, &s, sizeof(s));
}

static bool lapic_lvts_valid(const struct lapic_regs *s)
{
	unsigned i;
	u32 extra;

	for (i = 0; i < LVT_COUNT; i++) {
		extra = i == LVT_LINT0 || i == LVT_LINT1 ? LVT_REMOTE_IRR : 0;
		if (s->lvt[i] & ~(lvt_writable[i] | extra))
			return false;
		if (!(s->svr & SVR_ENABLE) && !(s->lvt[i] & LVT_MASKED))
			return false;
	}
	return true;
}

/* Every field holds only bits the guest could have put there. */
static bool lapic_regs_valid(const struct lapic_regs *s)
{
	return !(s->base_msr & BASE_RESERVED) && (s->base_msr & BASE_BSP) &&
	       !(s->id & ~HI_BYTE) && s->tpr <= 0xff && !(s->ldr & ~HI_BYTE) &&
	       (s->dfr & DFR_LOW_ONES) == DFR_LOW_ONES &&
	       !(s->svr & ~SVR_WRITABLE) &&
	       !((s->esr | s->esr_pending) & ~ESR_KNOWN) &&
	       !(s->icr_lo & ~ICR_LO_WRITABLE) && !(s->icr_hi & ~HI_BYTE) &&
	       !(s->tdcr & ~TDCR_WRITABLE) && s->timer_running <= 1 &&
	       s->lint0_level <= 1 && !(s->irr[0] & 0xffff) &&
	       !(s->isr[0] & 0xffff) && lapic_lvts_valid(s);
}

static int lapic_load(void *opaque, const struct snap_reader *r)
{
	struct lapic *apic = opaque;
	struct lapic_regs s;
	u64 now = clock_guest_ns();
	int ret;

	ret = snap_get(r, "lapic", LAPIC_SAVE_VERSION, &s, sizeof(s));
	if (ret)
		return ret;
	if (!lapic_regs_valid(&s))
		return -EINVAL;
	ret = lapic_map(apic, s.base_msr & BASE_ADDR_MASK,
			s.base_msr & BASE_ENABLE);
	if (ret) {
		lapic_map(apic, apic->s.base_msr & BASE_ADDR_MASK,
			  apic->s.base_msr & BASE_ENABLE);
		return ret;
	}
	s.timer_start_ns = lapic_rel_to_time(s.timer_start_ns, now);
	apic->s = s;
	lapic_timer_arm(apic, now);
	/* report the level afresh: the CPU's own state was loaded too */
	apic->out_level = !lapic_pending(apic);
	lapic_update_output(apic);
	return 0;
}

static void lapic_destroy(void *opaque)
{
	struct lapic *apic = opaque;

	timer_cancel(&apic->timer);
	lapic_map(apic, 0, false);
	free(apic);
}

static const struct device_ops lapic_device_ops = {
	.name = "lapic",
	.reset = lapic_reset,
	.save = lapic_save,
	.load = lapic_load,
	.destroy = lapic_destroy,
};

struct device lapic_device(struct lapic *apic)
{
	return (struct device){.ops = &lapic_device_ops, .opaque = apic};
}

struct lapic *lapic_create(struct phys_mem *mem, struct timer_list *timers,
			   const struct lapic_host *host)
{
	struct lapic *apic = calloc(1, sizeof(*apic));

	if (!apic)
		return NULL;
	apic->mem = mem;
	if (host)
		apic->host = *host;
	timer_init_guest(&apic->timer, timers, lapic_timer_fire, apic);
	lapic_power_up_regs(apic, LAPIC_DEFAULT_BASE | BASE_BSP | BASE_ENABLE);
	if (lapic_map(apic, LAPIC_DEFAULT_BASE, true)) {
		free(apic);
		return NULL;
	}
	return apic;
}

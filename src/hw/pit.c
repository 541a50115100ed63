// SPDX-License-Identifier: MIT
/*
 * Intel 8254 PIT and port 0x61.
 *
 * Nothing ticks: each counter remembers when its current counting phase
 * started and derives its count and OUT level from the host monotonic clock
 * at 1.193182 MHz whenever the guest looks. Channel 0 arms one timer for the
 * next rising edge of OUT0, which is when the PIC must see IRQ 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "hw/pit.h"

#define PIT_PORT 0x40
#define PIT_PORT61 0x61
#define PIT_CHANNELS 3
#define PIT_SAVE_VERSION 1

/* 8254 datasheet, "Control Word Format" */
#define PIT_CW_BCD BIT(0)
#define PIT_CW_MODE(cw) (((cw) >> 1) & 7)
#define PIT_CW_RW(cw) (((cw) >> 4) & 3)
#define PIT_CW_SC(cw) ((cw) >> 6)
#define PIT_SC_READBACK 3
#define PIT_RW_LATCH 0
#define PIT_RW_LSB 1
#define PIT_RW_MSB 2
#define PIT_RW_WORD 3
/* Read-back command: bits 5 and 4 are active low */
#define PIT_RB_NO_COUNT BIT(5)
#define PIT_RB_NO_STATUS BIT(4)
/* Status byte */
#define PIT_ST_OUT BIT(7)
#define PIT_ST_NULL BIT(6)

/* Port 0x61 (PC/AT system control port B) */
#define P61_GATE2 BIT(0)
#define P61_WRITABLE 0x0f
#define P61_REFRESH BIT(4)
#define P61_OUT2 BIT(5)
/* DRAM refresh request toggles once per refresh cycle, 15.085 us on an AT */
#define P61_REFRESH_NS 15085

#define PIT_NEVER UINT64_MAX

/*
 * One counter; plain old data. Times are host monotonic ns. The count in
 * use is "count" (the CE reload value); "pending" holds a count written to
 * CR that waits for the end of the period (modes 2, 3) or the next trigger
 * (modes 1, 5).
 */
struct pit_channel {
	u64 start_ns;  /* the current counting phase began */
	u64 switch_ns; /* modes 2/3: pending takes over here */
	u64 frozen;    /* ticks counted before a gate-low pause */
	u32 count;     /* 1..65536 (binary) or 1..10000 (BCD) */
	u32 pending;   /* 0: none */
	u16 latch;
	u8 ctrl; /* control word bits 5:0 */
	u8 mode;
	u8 gate;
	u8 has_count; /* a count was written after the control word */
	u8 triggered; /* modes 1/5: a gate edge started the count */
	u8 null_count;
	u8 latch_bytes; /* latched count bytes left to read */
	u8 status;
	u8 status_latched;
	u8 read_msb;  /* word access: the next read returns the MSB */
	u8 write_msb; /* word access: the next write is the MSB */
	u8 write_lsb; /* the LSB written first */
	u8 pad[4];
};

struct pit_state {
	struct pit_channel ch[PIT_CHANNELS];
	u8 port61;
	u8 irq_high; /* the level IRQ 0 is driven at now */
	u8 pad[6];
};

struct pit {
	struct pit_state s;
	struct timer irq_timer;
	struct pio_bus *pio;
	struct irq_line irq0;
};

static u32 pit_modulus(const struct pit_channel *c)
{
	return (c->ctrl & PIT_CW_BCD) ? 10000 : 0x10000;
}

static u64 pit_ns_to_ticks(u64 ns)
{
	return muldiv64(ns, PIT_FREQ_HZ, NSEC_PER_SEC);
}

/* The first time at which pit_ns_to_ticks() reaches ticks. */
static u64 pit_ticks_to_ns(u64 ticks)
{
	unsigned __int128 ns = (unsigned __int128)ticks * NSEC_PER_SEC;

	return (u64)((ns + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

static bool pit_is_hw_triggered(const struct pit_channel *c)
{
	return c->mode == 1 || c->mode == 5;
}

/* Whether CE is decrementing (8254 datasheet, "Gate" table). */
static bool pit_counting(const struct pit_channel *c)
{
	if (!c->has_count)
		return false;
	return pit_is_hw_triggered(c) ? c->triggered : c->gate;
}

/* Ticks elapsed in the current counting phase. */
static u64 pit_ticks(const struct pit_channel *c, u64 now)
{
	u64 d = c->frozen;

	if (pit_counting(c) && now > c->start_ns)
		d += pit_ns_to_ticks(now - c->start_ns);
	return d;
}

/* Modes 2/3: a count written while counting is used from the next period. */
static void pit_settle(struct pit_channel *c, u64 now)
{
	if (!c->pending || pit_is_hw_triggered(c) || !pit_counting(c) ||
	    now < c->switch_ns)
		return;
	c->count = c->pending;
	c->pending = 0;
	c->null_count = 0;
	c->start_ns = c->switch_ns;
	c->frozen = 0;
}

/* Mode 3 halves: OUT high for ceil(N/2), low for floor(N/2), counting by 2. */
static u32 pit_square_value(u32 n, u32 phase)
{
	u32 high = (n + 1) / 2;
	u32 even = n & ~1u;

	if (phase >= high)
		phase -= high;
	return MAX(even - MIN(2 * phase, even), 2u);
}

/* The current CE contents, 0..modulus-1 (0 standing for the modulus). */
static u32 pit_value(const struct pit_channel *c, u64 now)
{
	u32 n = c->count, m = pit_modulus(c);
	u64 d;

	if (!c->has_count || (pit_is_hw_triggered(c) && !c->triggered))
		return n % m;
	d = pit_ticks(c, now);
	switch (c->mode) {
	case 2:
		return (n - (u32)(d % n)) % m;
	case 3:
		return pit_square_value(n, (u32)(d % n)) % m;
	default:
		/* modes 0, 1, 4, 5 keep counting down past zero */
		return (u32)((n % m + m - d % m) % m);
	}
}

/* OUT level (8254 datasheet, "Mode Definitions"). */
static bool pit_out(const struct pit_channel *c, u64 now)
{
	u32 n = c->count;
	u64 d;

	if (!c->has_count)
		return c->mode != 0;
	d = pit_ticks(c, now);
	switch (c->mode) {
	case 0:
		return d >= n;
	case 1:
		return !c->triggered || d >= n;
	case 2:
		return !c->gate || d % n != n - 1;
	case 3:
		return !c->gate || d % n < (n + 1) / 2;
	case 4:
		return d != n;
	default:
		return !c->triggered || d != n;
	}
}

/* The tick of the phase at which OUT next rises after tick d. */
static u64 pit_next_rise(const struct pit_channel *c, u64 d)
{
	u64 n = c->count;

	if (!pit_counting(c))
		return PIT_NEVER;
	switch (c->mode) {
	case 0:
	case 1:
		return d < n ? n : PIT_NEVER;
	case 2:
	case 3:
		return (d / n + 1) * n;
	default:
		return d <= n ? n + 1 : PIT_NEVER;
	}
}

static u64 pit_tick_time(const struct pit_channel *c, u64 tick)
{
	return c->start_ns + pit_ticks_to_ns(tick - c->frozen);
}

static void pit_irq_set(struct pit *pit, bool level)
{
	if (pit->s.irq_high == level)
		return;
	pit->s.irq_high = level;
	irq_set(&pit->irq0, level);
}

static void pit_arm_irq(struct pit *pit, u64 now)
{
	struct pit_channel *c = &pit->s.ch[0];
	u64 rise = pit_next_rise(c, pit_ticks(c, now));

	if (rise == PIT_NEVER)
		timer_cancel(&pit->irq_timer);
	else
		timer_arm(&pit->irq_timer, pit_tick_time(c, rise));
}

/*
 * OUT0 rose. Modes 0 and 1 hold it high until reprogrammed; the periodic
 * and strobe modes give the PIC one edge. A late host skips missed
 * periods: the next edge is computed from the time now.
 */
static void pit_irq_fire(void *opaque)
{
	struct pit *pit = opaque;
	struct pit_channel *c = &pit->s.ch[0];
	u64 now = clock_guest_ns();

	pit_settle(c, now);
	if (c->mode == 0 || c->mode == 1) {
		pit_irq_set(pit, true);
	} else {
		pit_irq_set(pit, true);
		pit_irq_set(pit, false);
	}
	pit_arm_irq(pit, now);
}

/*
 * After the guest reprogrammed channel 0. The line is held high only by a
 * mode 0/1 OUT0 that reached terminal count; in every other case it rests
 * low so that the next pulse is an edge.
 */
static void pit_channel0_changed(struct pit *pit, u64 now)
{
	struct pit_channel *c = &pit->s.ch[0];

	if (!((c->mode == 0 || c->mode == 1) && pit_out(c, now)))
		pit_irq_set(pit, false);
	pit_arm_irq(pit, now);
}

static u32 pit_from_bcd(u32 v)
{
	return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 +
	       ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

static u16 pit_to_bcd(u32 v)
{
	return (u16)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 |
		     (v / 10 % 10) << 4 | v % 10);
}

/* A count as the guest sees it (binary or BCD). */
static u16 pit_encode(const struct pit_channel *c, u32 value)
{
	return (c->ctrl & PIT_CW_BCD) ? pit_to_bcd(value) : (u16)value;
}

/* A count written as raw 16 bits; 0 is the largest count. */
static u32 pit_decode(const struct pit_channel *c, u16 raw)
{
	u32 m = pit_modulus(c);
	u32 n = (c->ctrl & PIT_CW_BCD) ? pit_from_bcd(raw) % m : raw;

	return n ? n : m;
}

static void pit_restart(struct pit_channel *c, u64 now)
{
	c->frozen = 0;
	c->start_ns = now;
}

/* A complete count arrived in CR (8254 datasheet, mode definitions). */
static void pit_load(struct pit_channel *c, u16 raw, u64 now)
{
	u32 n = pit_decode(c, raw);
	u64 d;

	c->null_count = 1;
	if (pit_is_hw_triggered(c)) {
		if (c->triggered)
			c->pending = n;
		else
			c->count = n;
		c->has_count = 1;
		return;
	}
	if ((c->mode == 2 || c->mode == 3) && pit_counting(c)) {
		pit_settle(c, now);
		d = pit_ticks(c, now);
		c->pending = n;
		c->switch_ns = pit_tick_time(c, (d / c->count + 1) * c->count);
		return;
	}
	c->count = n;
	c->pending = 0;
	c->has_count = 1;
	c->null_count = 0;
	pit_restart(c, now);
}

static void pit_write_count(struct pit_channel *c, u8 v, u64 now)
{
	switch (PIT_CW_RW(c->ctrl)) {
	case PIT_RW_LSB:
		pit_load(c, v, now);
		break;
	case PIT_RW_MSB:
		pit_load(c, (u16)(v << 8), now);
		break;
	default:
		if (c->write_msb) {
			c->write_msb = 0;
			pit_load(c, (u16)(c->write_lsb | v << 8), now);
			break;
		}
		c->write_lsb = v;
		c->write_msb = 1;
		/* Mode 0: writing the first byte stops the count, OUT low. */
		if (c->mode == 0) {
			c->has_count = 0;
			c->pending = 0;
		}
		break;
	}
}

static void pit_latch_count(struct pit_channel *c, u64 now)
{
	/* A second latch before the first is read is ignored. */
	if (c->latch_bytes)
		return;
	pit_settle(c, now);
	c->latch = pit_encode(c, pit_value(c, now));
	c->latch_bytes = PIT_CW_RW(c->ctrl) == PIT_RW_WORD ? 2 : 1;
}

static void pit_latch_status(struct pit_channel *c, u64 now)
{
	if (c->status_latched)
		return;
	pit_settle(c, now);
	c->status = (u8)((pit_out(c, now) ? PIT_ST_OUT : 0) |
			 (c->null_count ? PIT_ST_NULL : 0) | c->ctrl);
	c->status_latched = 1;
}

static void pit_readback(struct pit *pit, u8 v, u64 now)
{
	unsigned i;

	for (i = 0; i < PIT_CHANNELS; i++) {
		if (!(v & BIT(i + 1)))
			continue;
		if (!(v & PIT_RB_NO_COUNT))
			pit_latch_count(&pit->s.ch[i], now);
		if (!(v & PIT_RB_NO_STATUS))
			pit_latch_status(&pit->s.ch[i], now);
	}
}

static void pit_write_control(struct pit *pit, u8 v, u64 now)
{
	struct pit_channel *c;
	unsigned mode;

	if (PIT_CW_SC(v) == PIT_SC_READBACK) {
		pit_readback(pit, v, now);
		return;
	}
	c = &pit->s.ch[PIT_CW_SC(v)];
	if (PIT_CW_RW(v) == PIT_RW_LATCH) {
		pit_latch_count(c, now);
		return;
	}
	/* A control word resets the counter's logic; it waits for a count. */
	mode = PIT_CW_MODE(v);
	c->ctrl = v & 0x3f;
	c->mode = (u8)(mode > 5 ? mode - 4 : mode);
	c->has_count = 0;
	c->triggered = 0;
	c->pending = 0;
	c->count = MIN(c->count, pit_modulus(c));
	c->frozen = 0;
	c->null_count = 1;
	c->latch_bytes = 0;
	c->status_latched = 0;
	c->read_msb = 0;
	c->write_msb = 0;
}

static u8 pit_read_latched(struct pit_channel *c)
{
	switch (PIT_CW_RW(c->ctrl)) {
	case PIT_RW_LSB:
		c->latch_bytes = 0;
		return (u8)c->latch;
	case PIT_RW_MSB:
		c->latch_bytes = 0;
		return (u8)(c->latch >> 8);
	default:
		return (u8)(c->latch >> (--c->latch_bytes ? 0 : 8));
	}
}

static u8 pit_read_counter(struct pit_channel *c, u64 now)
{
	u16 v;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->latch_bytes)
		return pit_read_latched(c);
	pit_settle(c, now);
	v = pit_encode(c, pit_value(c, now));
	switch (PIT_CW_RW(c->ctrl)) {
	case PIT_RW_LSB:
		return (u8)v;
	case PIT_RW_MSB:
		return (u8)(v >> 8);
	default:
		c->read_msb ^= 1;
		return (u8)(c->read_msb ? v : v >> 8);
	}
}

static u32 pit_io_read(void *opaque, u16 offset, unsigned size)
{
	struct pit *pit = opaque;

	if (offset >= PIT_CHANNELS)
		return 0xff; /* the control word register is write-only */
	return pit_read_counter(&pit->s.ch[offset], clock_guest_ns());
}

static void pit_io_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct pit *pit = opaque;
	u64 now = clock_guest_ns();

	if (offset >= PIT_CHANNELS)
		pit_write_control(pit, (u8)value, now);
	else
		pit_write_count(&pit->s.ch[offset], (u8)value, now);
	pit_channel0_changed(pit, now);
}

/* Gate input (8254 datasheet, "Gate" table): only counter 2's can move. */
static void pit_set_gate(struct pit_channel *c, bool gate, u64 now)
{
	if (gate == c->gate)
		return;
	pit_settle(c, now);
	if (!gate) {
		if (!pit_is_hw_triggered(c))
			c->frozen = pit_ticks(c, now);
		c->gate = 0;
		return;
	}
	c->gate = 1;
	if (c->mode == 0 || c->mode == 4) {
		c->start_ns = now; /* resume where counting stopped */
		return;
	}
	/* Rising edge: modes 1, 2, 3, 5 reload CE from CR and start over. */
	if (c->pending) {
		c->count = c->pending;
		c->pending = 0;
	}
	if (c->has_count) {
		c->null_count = 0;
		c->triggered = pit_is_hw_triggered(c);
	}
	pit_restart(c, now);
}

static u32 pit_port61_read(void *opaque, u16 offset, unsigned size)
{
	struct pit *pit = opaque;
	u64 now = clock_guest_ns();
	struct pit_channel *c = &pit->s.ch[2];
	u8 v = pit->s.port61 & P61_WRITABLE;

	if ((now / P61_REFRESH_NS) & 1)
		v |= P61_REFRESH;
	pit_settle(c, now);
	if (pit_out(c, now))
		v |= P61_OUT2;
	return v;
}

static void pit_port61_write(void *opaque, u16 offset, u32 value, unsigned size)
{
	struct pit *pit = opaque;

	pit->s.port61 = (u8)value & P61_WRITABLE;
	pit_set_gate(&pit->s.ch[2], value & P61_GATE2, clock_guest_ns());
}

static const struct pio_ops pit_ops = {
	.name = "pit",
	.read = pit_io_read,
	.write = pit_io_write,
};

static const struct pio_ops pit_port61_ops = {
	.name = "port61",
	.read = pit_port61_read,
	.write = pit_port61_write,
};

static void pit_reset(void *opaque)
{
	struct pit *pit = opaque;
	unsigned i;

	/* Every counter waits for a control word and count; nothing runs. */
	for (i = 0; i < PIT_CHANNELS; i++) {
		pit->s.ch[i] = (struct pit_channel){
			.ctrl = PIT_RW_WORD << 4,
			.count = 0x10000,
			.gate = i != 2,
			.null_count = 1,
		};
	}
	pit->s.port61 = 0;
	pit_irq_set(pit, false);
	timer_cancel(&pit->irq_timer);
}

/* Host monotonic times travel as offsets from the moment of the save. */
static u64 pit_time_to_rel(u64 t, u64 now)
{
	return t - now;
}

static u64 pit_rel_to_time(u64 rel, u64 now)
{
	/* a negative offset larger than now would wrap around */
	if ((s64)rel < 0 && now + rel > now)
		return 0;
	return now + rel;
}

static int pit_save(void *opaque, struct snap_writer *w)
{
	struct pit *pit = opaque;
	struct pit_state s = pit->s;
	u64 now = clock_guest_ns();
	unsigned i;

	for (i = 0; i < PIT_CHANNELS; i++) {
		s.ch[i].start_ns = pit_time_to_rel(s.ch[i].start_ns, now);
		s.ch[i].switch_ns = pit_time_to_rel(s.ch[i].switch_ns, now);
	}
	return snap_put(w, "pit", PIT_SAVE_VERSION, &s, sizeof(s));
}

static bool pit_channel_valid(const struct pit_channel *c)
{
	u32 m = pit_modulus(c);

	return c->mode <= 5 && PIT_CW_RW(c->ctrl) != PIT_RW_LATCH &&
	       c->ctrl <= 0x3f && c->count >= 1 && c->count <= m &&
	       c->pending <= m && c->latch_bytes <= 2;
}

static int pit_load_state(void *opaque, const struct snap_reader *r)
{
	struct pit *pit = opaque;
	struct pit_state s;
	u64 now = clock_guest_ns();
	unsigned i;
	int ret;

	ret = snap_get(r, "pit", PIT_SAVE_VERSION, &s, sizeof(s));
	if (ret)
		return ret;
	for (i = 0; i < PIT_CHANNELS; i++) {
		if (!pit_channel_valid(&s.ch[i]))
			return -EINVAL;
		s.ch[i].start_ns = pit_rel_to_time(s.ch[i].start_ns, now);
		s.ch[i].switch_ns = pit_rel_to_time(s.ch[i].switch_ns, now);
	}
	s.port61 &= P61_WRITABLE;
	s.ch[0].gate = s.ch[1].gate = 1;
	s.ch[2].gate = s.port61 & P61_GATE2;
	/* irq_high is what the line should be; drive it from scratch */
	irq_set(&pit->irq0, s.irq_high);
	pit->s = s;
	pit_arm_irq(pit, now);
	return 0;
}

static void pit_destroy(void *opaque)
{
	struct pit *pit = opaque;

	timer_cancel(&pit->irq_timer);
	pio_unregister(pit->pio, PIT_PORT);
	pio_unregister(pit->pio, PIT_PORT61);
	free(pit);
}

static const struct device_ops pit_device_ops = {
	.name = "pit",
	.reset = pit_reset,
	.save = pit_save,
	.load = pit_load_state,
	.destroy = pit_destroy,
};

struct device pit_device(struct pit *pit)
{
	return (struct device){.ops = &pit_device_ops, .opaque = pit};
}

struct pit *pit_create(struct pio_bus *pio, struct timer_list *timers,
		       struct irq_line irq0)
{
	struct pit *pit = calloc(1, sizeof(*pit));

	if (!pit)
		return NULL;
	pit->pio = pio;
	pit->irq0 = irq0;
	timer_init_guest(&pit->irq_timer, timers, pit_irq_fire, pit);
	if (pio_register(pio, PIT_PORT, 4, &pit_ops, pit)) {
		free(pit);
		return NULL;
	}
	if (pio_register(pio, PIT_PORT61, 1, &pit_port61_ops, pit)) {
		pio_unregister(pio, PIT_PORT);
		free(pit);
		return NULL;
	}
	pit_reset(pit);
	return pit;
}

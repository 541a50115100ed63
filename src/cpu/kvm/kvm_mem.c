// SPDX-License-Identifier: MIT
/*
 * The KVM memory-slot plan: the guest physical map of bus/memory.h as a
 * list of non-overlapping slots. KVM maps a slot's pages straight into the
 * guest; everything outside any slot exits as KVM_EXIT_MMIO and goes to
 * mem_read()/mem_write(), which know every MMIO device, open bus and the
 * PAM write routing. So a slot is planned only where the bus would hand
 * the soft engine a plain host pointer for both reads and writes (RAM,
 * host-backed device memory), or for reads only (ROM, write-protected
 * shadow RAM: KVM_MEM_READONLY, writes exit and the bus drops them or,
 * in PAM's "read ROM, write RAM" mode, stores them in the shadow RAM).
 */
#include <errno.h>
#include <stdlib.h>

#include "cpu/kvm/kvm.h"

#define SHADOW_END 0x100000u

struct kvm_plan {
	struct phys_mem *mem;
	const u8 *rom_copy;
	struct kvm_slot_plan *out;
	unsigned n, max;
	/* MMIO and host-backed ranges: cut out of RAM and ROM. */
	struct {
		u64 base, len;
	} holes[MEM_MAX_MMIO];
	unsigned nr_holes;
	struct kvm_slot_plan devs[MEM_MAX_MMIO];
	unsigned nr_devs;
	int err;
};

static void kvm_plan_append(struct kvm_plan *p, const struct kvm_slot_plan *s)
{
	if (!s->size)
		return;
	if (p->n == p->max) {
		p->err = -ENOSPC;
		return;
	}
	p->out[p->n++] = *s;
}

/* Add s minus every hole, splitting it around them. */
static void kvm_plan_add(struct kvm_plan *p, const struct kvm_slot_plan *s,
			 unsigned first_hole)
{
	unsigned i;

	for (i = first_hole; i < p->nr_holes; i++) {
		u64 hb = p->holes[i].base, he = hb + p->holes[i].len;
		struct kvm_slot_plan left = *s, right = *s;

		if (he <= s->gpa || hb >= s->gpa + s->size)
			continue;
		left.size = hb > s->gpa ? hb - s->gpa : 0;
		if (he < s->gpa + s->size) {
			right.gpa = he;
			right.size = s->gpa + s->size - he;
			right.host = s->host + (he - s->gpa);
			right.dirty_off = s->dirty_off + (he - s->gpa);
		} else {
			right.size = 0;
		}
		if (left.size)
			kvm_plan_add(p, &left, i + 1);
		if (right.size)
			kvm_plan_add(p, &right, i + 1);
		return;
	}
	kvm_plan_append(p, s);
}

/* First pass: remember the holes and the device memory. */
static int kvm_plan_collect(void *opaque, const struct mem_region *r)
{
	struct kvm_plan *p = opaque;

	if (r->kind != MEM_REGION_MMIO && r->kind != MEM_REGION_HOST)
		return 0;
	if (p->nr_holes == MEM_MAX_MMIO)
		return -ENOSPC;
	p->holes[p->nr_holes].base = r->base;
	p->holes[p->nr_holes++].len = r->len;
	/*
	 * KVM maps whole host pages: device memory that is not page-aligned
	 * in our address space (a calloc'ed buffer) stays a hole, so its
	 * accesses exit and go through the bus; correct, only slower.
	 */
	if (r->kind == MEM_REGION_HOST &&
	    !((uintptr_t)r->host & (MEM_PAGE_SIZE - 1)))
		p->devs[p->nr_devs++] = (struct kvm_slot_plan){
			r->base, r->len, r->host, false, r->dirty, 0};
	return 0;
}

/* Second pass: RAM and ROM around the holes. */
static int kvm_plan_memory(void *opaque, const struct mem_region *r)
{
	struct kvm_plan *p = opaque;
	struct kvm_slot_plan s = {r->base, r->len, r->host, false, NULL, 0};

	if (r->kind == MEM_REGION_ROM) {
		s.host = (u8 *)p->rom_copy + (r->host - p->mem->bios);
		s.readonly = true;
	} else if (r->kind != MEM_REGION_RAM) {
		return 0;
	}
	kvm_plan_add(p, &s, 0);
	return p->err;
}

/* The sixteen PAM-routed 16 KiB segments at 0xC0000 (i440FX 3.2.18). */
static void kvm_plan_shadow(struct kvm_plan *p)
{
	struct phys_mem *mem = p->mem;
	unsigned seg;

	for (seg = 0; seg < MEM_SHADOW_SEGS; seg++) {
		u64 gpa = MEM_SHADOW_BASE + (u64)seg * MEM_SHADOW_SEG_SIZE;
		struct kvm_slot_plan s = {
			gpa, MEM_SHADOW_SEG_SIZE, NULL, true, NULL, 0};
		u8 *rd;

		switch (mem->shadow_mode[seg]) {
		case MEM_SHADOW_RW_RAM:
			s.readonly = false;
			/* fall through */
		case MEM_SHADOW_READ_RAM:
			s.host = mem->ram + gpa;
			break;
		case MEM_SHADOW_ROM:
		case MEM_SHADOW_WRITE_RAM:
			/*
			 * The firmware's alias, if this segment has one,
			 * read-only: writes exit and mem_write() sends them
			 * to the shadow RAM or drops them, as PAM says.
			 */
			rd = mem_page_ptr(mem, gpa, false);
			if (rd && mem->bios && rd >= mem->bios &&
			    rd + MEM_SHADOW_SEG_SIZE <=
				    mem->bios + mem->bios_size)
				s.host = (u8 *)p->rom_copy + (rd - mem->bios);
			break;
		}
		if (s.host)
			kvm_plan_add(p, &s, 0);
	}
}

static bool kvm_plan_joins(const struct kvm_slot_plan *a,
			   const struct kvm_slot_plan *b)
{
	return !a->dirty && !b->dirty && a->readonly == b->readonly &&
	       a->gpa + a->size == b->gpa && a->host + a->size == b->host;
}

/* Sort by address and merge neighbours that KVM can map as one slot. */
static unsigned kvm_plan_tidy(struct kvm_slot_plan *s, unsigned n)
{
	unsigned i, j, out = 0;

	for (i = 1; i < n; i++) {
		struct kvm_slot_plan t = s[i];

		for (j = i; j > 0 && s[j - 1].gpa > t.gpa; j--)
			s[j] = s[j - 1];
		s[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (out && kvm_plan_joins(&s[out - 1], &s[i]))
			s[out - 1].size += s[i].size;
		else
			s[out++] = s[i];
	}
	return out;
}

int kvm_plan_slots(struct phys_mem *mem, const u8 *rom_copy,
		   struct kvm_slot_plan *out, unsigned max)
{
	struct kvm_plan *p = calloc(1, sizeof(*p));
	unsigned i;
	int ret;

	if (!p)
		return -ENOMEM;
	p->mem = mem;
	p->rom_copy = rom_copy;
	p->out = out;
	p->max = max;
	ret = mem_for_each_region(mem, kvm_plan_collect, p);
	if (!ret)
		ret = mem_for_each_region(mem, kvm_plan_memory, p);
	if (!ret && !mem->flat)
		kvm_plan_shadow(p);
	for (i = 0; !ret && i < p->nr_devs; i++)
		kvm_plan_append(p, &p->devs[i]);
	ret = ret ?: p->err;
	if (!ret)
		ret = (int)kvm_plan_tidy(out, p->n);
	free(p);
	return ret;
}

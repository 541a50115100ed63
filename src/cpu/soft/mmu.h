/* SPDX-License-Identifier: MIT */
/*
 * The fast paths of guest memory access, inlined into the executors: a
 * segment check, one TLB probe and a host load or store. Misses, page
 * walks, MMIO and faults are in mmu.c.
 */
#ifndef TWOOSTWO_CPU_SOFT_MMU_H
#define TWOOSTWO_CPU_SOFT_MMU_H

/* Included at the end of cpu.h: struct soft_cpu is complete here. */

static inline struct tlb_entry *tlb_entry_for(struct soft_cpu *cpu, u64 lin,
				       bool user)
{
	return &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
}

static inline u8 *tlb_read_ptr(struct soft_cpu *cpu, u64 lin, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->read_tag == (lin & ~(u64)0xfff)))
		return (u8 *)(e->addend + lin);
	return NULL;
}

static inline u8 *tlb_write_ptr(struct soft_cpu *cpu, u64 lin, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->write_tag == (lin & ~(u64)0xfff)))
		return (u8 *)(e->addend + lin);
	return NULL;
}

static inline u8 lin_read8(struct soft_cpu *cpu, u64 lin, bool user)
{
	u8 *p = tlb_read_ptr(cpu, lin, user);

	return p ? *p : (u8)lin_read_slow(cpu, lin, 1, user);
}

/* The tag compare also rejects an access that crosses into the next page. */
static inline u16 lin_read16(struct soft_cpu *cpu, u64 lin, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->read_tag == (lin & ~(u64)0xfff) && (lin & 0xfff) <= 0xffe))
		return get_le16((u8 *)(e->addend + lin));
	return (u16)lin_read_slow(cpu, lin, 2, user);
}

static inline u64 lin_read32(struct soft_cpu *cpu, u64 lin, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->read_tag == (lin & ~(u64)0xfff) && (lin & 0xfff) <= 0xffc))
		return get_le32((u8 *)(e->addend + lin));
	return lin_read_slow(cpu, lin, 4, user);
}

static inline u64 lin_read64(struct soft_cpu *cpu, u64 lin, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->read_tag == (lin & ~(u64)0xfff) && (lin & 0xfff) <= 0xff8))
		return get_le64((u8 *)(e->addend + lin));
	return lin_read_slow(cpu, lin, 8, user);
}

static inline void lin_write8(struct soft_cpu *cpu, u64 lin, u8 v, bool user)
{
	u8 *p = tlb_write_ptr(cpu, lin, user);

	if (p)
		*p = v;
	else
		lin_write_slow(cpu, lin, v, 1, user);
}

static inline void lin_write16(struct soft_cpu *cpu, u64 lin, u16 v, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->write_tag == (lin & ~(u64)0xfff) && (lin & 0xfff) <= 0xffe))
		put_le16((u8 *)(e->addend + lin), v);
	else
		lin_write_slow(cpu, lin, v, 2, user);
}

static inline void lin_write32(struct soft_cpu *cpu, u64 lin, u32 v, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->write_tag == (lin & ~(u64)0xfff) && (lin & 0xfff) <= 0xffc))
		put_le32((u8 *)(e->addend + lin), v);
	else
		lin_write_slow(cpu, lin, v, 4, user);
}

static inline void lin_write64(struct soft_cpu *cpu, u64 lin, u64 v, bool user)
{
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);

	if (likely(e->write_tag == (lin & ~(u64)0xfff) && (lin & 0xfff) <= 0xff8))
		put_le64((u8 *)(e->addend + lin), v);
	else
		lin_write_slow(cpu, lin, v, 8, user);
}

static inline bool seg_within_limit(const struct x86_segment *sg, u32 off,
			     unsigned size)
{
	u32 last = off + size - 1;
	bool expand_down = (sg->attr & (SEG_ATTR_S | 0xc)) ==
			   (SEG_ATTR_S | 0x4);

	if (last < off) /* wraps around 4 GiB */
		return false;
	if (expand_down) {
		u32 upper = sg->attr & SEG_ATTR_DB ? 0xffffffffu : 0xffffu;

		return off > sg->limit && last <= upper;
	}
	return last <= sg->limit;
}

/*
 * A present, expand-up, writable data segment: whatever the mode, an
 * access within its limit needs no other check (SDM vol. 3, 5.3-5.5).
 * Flat protected-mode data segments are such, and so is real mode's data.
 */
#define SEG_FAST_MASK (SEG_ATTR_P | SEG_ATTR_S | 0xe) /* code, E, W */
#define SEG_FAST_RW (SEG_ATTR_P | SEG_ATTR_S | 0x2)

/*
 * 64-bit mode (SDM vol. 3, 3.2.4; AMD APM vol. 2, 4.8): no limit or type
 * checks, only FS and GS have a base, and the address must be canonical:
 * #SS(0) for stack references, #GP(0) otherwise (SDM vol. 3, 6.15).
 */
__attribute__((noinline)) u64 seg_linear64(struct soft_cpu *cpu, int seg,
					   u64 off, unsigned size);

/* seg_linear_legacy() past the flat read/write data segment case. */
__attribute__((noinline)) u64 seg_linear_slow(struct soft_cpu *cpu, int seg,
					      u32 off, unsigned size,
					      bool write);

/*
 * seg_linear() outside 64-bit mode. The fast paths decoded for 16- and
 * 32-bit code call it directly: they know the mode at decode time. Only
 * the common case (a present read/write data segment, within its limit) is
 * inline.
 */
static inline __attribute__((always_inline)) u64
seg_linear_legacy(struct soft_cpu *cpu, int seg, u64 off, unsigned size,
		  bool write)
{
	const struct x86_segment *sg = &cpu->s.seg[seg];

	off = (u32)off;
	if (likely((sg->attr & SEG_FAST_MASK) == SEG_FAST_RW &&
		   off + size - 1 <= sg->limit))
		return (u32)(sg->base + off);
	return seg_linear_slow(cpu, seg, (u32)off, size, write);
}

static inline u64 seg_linear(struct soft_cpu *cpu, int seg, u64 off,
			     unsigned size, bool write)
{
	if (unlikely(cpu->code64))
		return seg_linear64(cpu, seg, off, size);
	return seg_linear_legacy(cpu, seg, off, size, write);
}

/* The linear address of seg:off without access checks (INVLPG). */
static inline u64 seg_linear_noaccess(const struct soft_cpu *cpu, int seg,
				      u64 off)
{
	if (cpu->code64)
		return off + (seg == S_FS || seg == S_GS ? cpu->s.seg[seg].base
							 : 0);
	return (u32)(cpu->s.seg[seg].base + off);
}

static inline bool user_access(const struct soft_cpu *cpu)
{
	return cpu->cpl == 3;
}

/*
 * The 8086 has no segment limits: a word at offset 0xFFFF takes its high
 * byte from offset 0 of the same segment.
 */
static inline bool wraps_8086(const struct soft_cpu *cpu, u64 off, unsigned size)
{
	return is_8086(cpu) && off + size - 1 > 0xffff;
}

static inline u8 mem_read8(struct soft_cpu *cpu, int seg, u64 off)
{
	return lin_read8(cpu, seg_linear(cpu, seg, off, 1, false),
			 user_access(cpu));
}

static inline u16 mem_read16(struct soft_cpu *cpu, int seg, u64 off)
{
	if (wraps_8086(cpu, off, 2))
		return (u16)(mem_read8(cpu, seg, off) |
			     mem_read8(cpu, seg, (off + 1) & 0xffff) << 8);
	return lin_read16(cpu, seg_linear(cpu, seg, off, 2, false),
			  user_access(cpu));
}

static inline u32 mem_read32(struct soft_cpu *cpu, int seg, u64 off)
{
	return lin_read32(cpu, seg_linear(cpu, seg, off, 4, false),
			  user_access(cpu));
}

static inline void mem_write8(struct soft_cpu *cpu, int seg, u64 off, u8 v)
{
	lin_write8(cpu, seg_linear(cpu, seg, off, 1, true), v,
		   user_access(cpu));
}

static inline void mem_write16(struct soft_cpu *cpu, int seg, u64 off, u16 v)
{
	if (wraps_8086(cpu, off, 2)) {
		mem_write8(cpu, seg, off, (u8)v);
		mem_write8(cpu, seg, (off + 1) & 0xffff, (u8)(v >> 8));
		return;
	}
	lin_write16(cpu, seg_linear(cpu, seg, off, 2, true), v,
		    user_access(cpu));
}

static inline void mem_write32(struct soft_cpu *cpu, int seg, u64 off, u32 v)
{
	lin_write32(cpu, seg_linear(cpu, seg, off, 4, true), v,
		    user_access(cpu));
}

static inline u64 mem_read64(struct soft_cpu *cpu, int seg, u64 off)
{
	return lin_read64(cpu, seg_linear(cpu, seg, off, 8, false),
			  user_access(cpu));
}

static inline void mem_write64(struct soft_cpu *cpu, int seg, u64 off, u64 v)
{
	lin_write64(cpu, seg_linear(cpu, seg, off, 8, true), v,
		    user_access(cpu));
}

static inline u64 mem_read_sz(struct soft_cpu *cpu, int seg, u64 off,
			      unsigned size)
{
	if (size == 8)
		return mem_read64(cpu, seg, off);
	if (size == 1)
		return mem_read8(cpu, seg, off);
	if (size == 2)
		return mem_read16(cpu, seg, off);
	return mem_read32(cpu, seg, off);
}

static inline void mem_write_sz(struct soft_cpu *cpu, int seg, u64 off,
				u64 v, unsigned size)
{
	if (size == 8) {
		mem_write64(cpu, seg, off, v);
		return;
	}
	if (size == 1)
		mem_write8(cpu, seg, off, (u8)v);
	else if (size == 2)
		mem_write16(cpu, seg, off, (u16)v);
	else
		mem_write32(cpu, seg, off, (u32)v);
}

#endif

// SPDX-License-Identifier: MIT
/*
 * Linear-to-physical translation (Intel SDM vol. 3, chapter 4: 32-bit and
 * PAE paging), the software TLB, and segment-relative accesses with the
 * limit and rights checks of SDM vol. 3, 5.3-5.6.
 *
 * The TLB maps a linear page to a host pointer for plain RAM only. Pages
 * whose first write must set a dirty bit, MMIO and ROM never enter the
 * write set, so those accesses take the slow path every time.
 */
#include "cpu/soft/cpu.h"

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_NX (1ull << 63)
#define PAE_ADDR_MASK 0x000ffffffffff000ull

#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_U BIT(2)
#define PF_RSVD BIT(3)
#define PF_I BIT(4)

void cpu_tlb_flush(struct soft_cpu *cpu)
{
	unsigned u, i;

	cpu->fetch_page = TLB_INVALID;
	for (u = 0; u < 2; u++)
		for (i = 0; i < TLB_SIZE; i++)
			cpu->tlb[u][i] = (struct tlb_entry){
				.read_tag = TLB_INVALID,
				.write_tag = TLB_INVALID,
				.exec_tag = TLB_INVALID,
			};
}

void mmu_invlpg(struct soft_cpu *cpu, u64 lin)
{
	unsigned i = (lin >> 12) & (TLB_SIZE - 1);

	cpu->fetch_page = TLB_INVALID;
	/* A 4 MiB page may be cached under any index: be simple and safe. */
	if (cpu->s.cr4 & CR4_PSE || cpu->s.cr4 & CR4_PAE) {
		cpu_tlb_flush(cpu);
		return;
	}
	cpu->tlb[0][i] = (struct tlb_entry){.read_tag = TLB_INVALID,
					    .write_tag = TLB_INVALID,
					    .exec_tag = TLB_INVALID};
	cpu->tlb[1][i] = cpu->tlb[0][i];
}

static u64 phys_read64(struct soft_cpu *cpu, u64 pa)
{
	return mem_read(cpu->env.mem, pa & cpu->addr_mask, 8);
}

static u32 phys_read32(struct soft_cpu *cpu, u64 pa)
{
	return (u32)mem_read(cpu->env.mem, pa & cpu->addr_mask, 4);
}

__attribute__((noreturn)) static void page_fault(struct soft_cpu *cpu, u64 lin,
						 u32 err)
{
	cpu->s.cr2 = lin;
	cpu_fault(cpu, EXC_PF, err);
}

static u32 pf_code(unsigned acc, bool present)
{
	u32 err = present ? PF_P : 0;

	if (acc & ACC_WRITE)
		err |= PF_W;
	if (acc & ACC_USER)
		err |= PF_U;
	return err;
}

/* Rights of a translation: the AND of W and U over all levels. */
static void check_rights(struct soft_cpu *cpu, u64 lin, unsigned acc,
			 bool writable, bool user, bool nx)
{
	u32 err = pf_code(acc, true);

	if ((acc & ACC_USER) && !user)
		page_fault(cpu, lin, err);
	if ((acc & ACC_WRITE) && !writable &&
	    ((acc & ACC_USER) || (cpu->s.cr0 & CR0_WP)))
		page_fault(cpu, lin, err);
	if ((acc & ACC_EXEC) && nx)
		page_fault(cpu, lin, err | PF_I);
}

static void set_ad32(struct soft_cpu *cpu, u64 pa, u32 entry, u32 bits)
{
	if ((entry & bits) != bits)
		mem_write(cpu->env.mem, pa & cpu->addr_mask, entry | bits, 4);
}

static void set_ad64(struct soft_cpu *cpu, u64 pa, u64 entry, u64 bits)
{
	if ((entry & bits) != bits)
		mem_write(cpu->env.mem, pa & cpu->addr_mask, entry | bits, 8);
}

static u64 walk32(struct soft_cpu *cpu, u64 lin, unsigned acc)
{
	u64 pde_pa = (cpu->s.cr3 & 0xfffff000u) + ((lin >> 22) << 2);
	u32 pde = phys_read32(cpu, pde_pa), pte;
	u64 pte_pa;
	u32 dirty = acc & ACC_WRITE ? PTE_D : 0;

	if (!(pde & PTE_P))
		page_fault(cpu, lin, pf_code(acc, false));
	if ((pde & PTE_PS) && (cpu->s.cr4 & CR4_PSE)) {
		check_rights(cpu, lin, acc, pde & PTE_W, pde & PTE_U, false);
		set_ad32(cpu, pde_pa, pde, PTE_A | dirty);
		/* PSE-36: PDE bits 16:13 are physical address bits 35:32. */
		return (pde & 0xffc00000u) | ((u64)(pde >> 13 & 0xf) << 32) |
		       (lin & 0x3fffff);
	}
	pte_pa = (pde & 0xfffff000u) + (((lin >> 12) & 0x3ff) << 2);
	pte = phys_read32(cpu, pte_pa);
	if (!(pte & PTE_P))
		page_fault(cpu, lin, pf_code(acc, false));
	check_rights(cpu, lin, acc, pde & pte & PTE_W, pde & pte & PTE_U,
		     false);
	set_ad32(cpu, pde_pa, pde, PTE_A);
	set_ad32(cpu, pte_pa, pte, PTE_A | dirty);
	return (pte & 0xfffff000u) | (lin & 0xfff);
}

static u64 pae_reserved(struct soft_cpu *cpu, bool leaf_large)
{
	u64 rsvd = ~((1ull << 36) - 1) & ~PTE_NX; /* MAXPHYADDR 36 */

	if (!(cpu->s.efer & EFER_NXE))
		rsvd |= PTE_NX;
	if (leaf_large)
		rsvd |= 0x1fe000ull; /* 2 MiB page: bits 20:13 */
	return rsvd;
}

static void pae_check_entry(struct soft_cpu *cpu, u64 lin, unsigned acc, u64 e,
			    bool leaf_large)
{
	if (!(e & PTE_P))
		page_fault(cpu, lin, pf_code(acc, false));
	if (e & pae_reserved(cpu, leaf_large))
		page_fault(cpu, lin, pf_code(acc, true) | PF_RSVD);
}

static u64 walk_pae(struct soft_cpu *cpu, u64 lin, unsigned acc)
{
	u64 pdpte = phys_read64(cpu, (cpu->s.cr3 & 0xffffffe0u) +
					     ((lin >> 30) << 3));
	u64 pde_pa, pde, pte_pa, pte;
	bool nx;
	u64 dirty = acc & ACC_WRITE ? PTE_D : 0;

	if (!(pdpte & PTE_P))
		page_fault(cpu, lin, pf_code(acc, false));
	pde_pa = (pdpte & PAE_ADDR_MASK) + (((lin >> 21) & 0x1ff) << 3);
	pde = phys_read64(cpu, pde_pa);
	pae_check_entry(cpu, lin, acc, pde, pde & PTE_PS);
	if (pde & PTE_PS) {
		nx = (cpu->s.efer & EFER_NXE) && (pde & PTE_NX);
		check_rights(cpu, lin, acc, pde & PTE_W, pde & PTE_U, nx);
		set_ad64(cpu, pde_pa, pde, PTE_A | dirty);
		return (pde & 0xfffe00000ull) | (lin & 0x1fffff);
	}
	pte_pa = (pde & PAE_ADDR_MASK) + (((lin >> 12) & 0x1ff) << 3);
	pte = phys_read64(cpu, pte_pa);
	pae_check_entry(cpu, lin, acc, pte, false);
	nx = (cpu->s.efer & EFER_NXE) && ((pde | pte) & PTE_NX);
	check_rights(cpu, lin, acc, pde & pte & PTE_W, pde & pte & PTE_U, nx);
	set_ad64(cpu, pde_pa, pde, PTE_A);
	set_ad64(cpu, pte_pa, pte, PTE_A | dirty);
	return (pte & PAE_ADDR_MASK) | (lin & 0xfff);
}

/*
 * 4-level paging, used while EFER.LMA is set (SDM vol. 3, 4.5; AMD APM
 * vol. 2, 5.3). PML4 entries have no PS bit, and this CPU does not offer
 * 1 GiB pages (CPUID 80000001h EDX bit 26 clear): PS is a reserved bit in
 * both. Rights are the AND of R/W and U/S over the four levels, NX the OR;
 * accessed bits are set at every level, dirty in the leaf only.
 */
static u64 walk_long(struct soft_cpu *cpu, u64 lin, unsigned acc)
{
	u64 table = cpu->s.cr3 & PAE_ADDR_MASK;
	u64 pa[4], e[4], all = PTE_W | PTE_U, any_nx = 0;
	u64 dirty = acc & ACC_WRITE ? PTE_D : 0;
	int level, last = 3;

	for (level = 0; level < 4; level++) {
		unsigned shift = 39 - 9 * level;
		bool large;

		pa[level] = table + (((lin >> shift) & 0x1ff) << 3);
		e[level] = phys_read64(cpu, pa[level]);
		large = level == 2 && (e[level] & PTE_PS);
		if (!(e[level] & PTE_P))
			page_fault(cpu, lin, pf_code(acc, false));
		if ((e[level] & pae_reserved(cpu, large)) ||
		    (level < 2 && (e[level] & PTE_PS)))
			page_fault(cpu, lin,
				   pf_code(acc, true) | PF_RSVD);
		all &= e[level];
		any_nx |= e[level] & PTE_NX;
		if (large) {
			last = 2;
			break;
		}
		table = e[level] & PAE_ADDR_MASK;
	}
	check_rights(cpu, lin, acc, all & PTE_W, all & PTE_U,
		     (cpu->s.efer & EFER_NXE) && any_nx);
	for (level = 0; level < last; level++)
		set_ad64(cpu, pa[level], e[level], PTE_A);
	set_ad64(cpu, pa[last], e[last], PTE_A | dirty);
	if (last == 2)
		return (e[2] & PAE_ADDR_MASK & ~0x1fffffull) | (lin & 0x1fffff);
	return (e[3] & PAE_ADDR_MASK) | (lin & 0xfff);
}

u64 mmu_translate(struct soft_cpu *cpu, u64 lin, unsigned acc)
{
	u64 pa;

	if (!(cpu->s.cr0 & CR0_PG))
		pa = (u32)lin;
	else if (long_mode_active(cpu))
		pa = walk_long(cpu, lin, acc);
	else if (cpu->s.cr4 & CR4_PAE)
		pa = walk_pae(cpu, (u32)lin, acc);
	else
		pa = walk32(cpu, (u32)lin, acc);
	return pa & cpu->addr_mask;
}

/*
 * Translate and, when the page is RAM, cache it. With paging on, a page
 * enters the write set only when the walk has already set its dirty bit
 * (the walk for a write does that), so later writes need no walk.
 */
static u64 tlb_fill(struct soft_cpu *cpu, u64 lin, unsigned acc)
{
	u64 pa = mmu_translate(cpu, lin, acc);
	bool user = acc & ACC_USER;
	struct tlb_entry *e = tlb_entry_for(cpu, lin, user);
	u64 tag = lin & ~(u64)0xfff;
	bool write = acc & ACC_WRITE;
	u8 *host = mem_page_ptr(cpu->env.mem, pa, write);

	if (!host)
		return pa;
	if (e->addend != (uintptr_t)host - tag) {
		*e = (struct tlb_entry){.read_tag = TLB_INVALID,
					.write_tag = TLB_INVALID,
					.exec_tag = TLB_INVALID,
					.addend = (uintptr_t)host - tag};
	}
	if (write) {
		/* Stores into cached code must reach icache_note_write(). */
		e->write_tag =
			icache_is_code_page(cpu, host) ? tag | TLB_CODE : tag;
	} else if (acc & ACC_EXEC) {
		/*
		 * Device memory (a framebuffer) is written behind the
		 * icache's back: code there is never cached.
		 */
		if (!mem_page_is_device(cpu->env.mem, pa))
			e->exec_tag = tag;
	} else {
		e->read_tag = tag;
	}
	/*
	 * A writable RAM page is readable too, unless a read would map
	 * somewhere else (shadow RAM set write-only): check separately.
	 */
	if (write && mem_page_ptr(cpu->env.mem, pa, false) == host)
		e->read_tag = tag;
	return pa;
}

/*
 * The linear address n bytes after lin: outside 64-bit mode linear
 * addresses wrap at 4 GiB.
 */
static u64 lin_next(const struct soft_cpu *cpu, u64 lin, unsigned n)
{
	return cpu->code64 ? lin + n : (u32)(lin + n);
}

u64 lin_read_slow(struct soft_cpu *cpu, u64 lin, unsigned size, bool user)
{
	u64 v = 0;
	unsigned i;

	if (((lin & 0xfff) + size) > 0x1000) {
		for (i = 0; i < size; i++)
			v |= (u64)lin_read8(cpu, lin_next(cpu, lin, i), user)
			     << (8 * i);
		return v;
	}
	return mem_read(cpu->env.mem,
			     tlb_fill(cpu, lin, user ? ACC_USER : 0), size);
}

void lin_write_slow(struct soft_cpu *cpu, u64 lin, u64 v, unsigned size,
		    bool user)
{
	struct tlb_entry *e;
	unsigned i;
	u64 pa;
	u8 *host;

	if (((lin & 0xfff) + size) > 0x1000) {
		/* Both pages must be writable before any byte is stored. */
		mmu_translate(cpu, lin, ACC_WRITE | (user ? ACC_USER : 0));
		mmu_translate(cpu, lin_next(cpu, lin, size - 1),
			      ACC_WRITE | (user ? ACC_USER : 0));
		for (i = 0; i < size; i++)
			lin_write8(cpu, lin_next(cpu, lin, i), (u8)(v >> (8 * i)),
				   user);
		return;
	}
	e = tlb_entry_for(cpu, lin, user);
	if (e->write_tag != ((lin & ~(u64)0xfff) | TLB_CODE)) {
		pa = tlb_fill(cpu, lin, ACC_WRITE | (user ? ACC_USER : 0));
		if (e->write_tag != ((lin & ~(u64)0xfff) | TLB_CODE)) {
			/* Not cached code: MMIO, ROM, or a first write. */
			mem_write(cpu->env.mem, pa, v, size);
			return;
		}
	}
	/* RAM holding cached code: invalidate the lines, then store. */
	host = (u8 *)(e->addend + lin);
	icache_note_write(cpu, host, size);
	if (size == 1)
		*host = (u8)v;
	else if (size == 2)
		put_le16(host, (u16)v);
	else if (size == 4)
		put_le32(host, (u32)v);
	else
		put_le64(host, v);
}

u8 sys_read8(struct soft_cpu *cpu, u64 lin)
{
	return lin_read8(cpu, lin, false);
}

u16 sys_read16(struct soft_cpu *cpu, u64 lin)
{
	return lin_read16(cpu, lin, false);
}

u64 sys_read64(struct soft_cpu *cpu, u64 lin)
{
	return lin_read64(cpu, lin, false);
}

void sys_write64(struct soft_cpu *cpu, u64 lin, u64 v)
{
	lin_write64(cpu, lin, v, false);
}

u32 sys_read32(struct soft_cpu *cpu, u64 lin)
{
	return lin_read32(cpu, lin, false);
}

void sys_write8(struct soft_cpu *cpu, u64 lin, u8 v)
{
	lin_write8(cpu, lin, v, false);
}

void sys_write16(struct soft_cpu *cpu, u64 lin, u16 v)
{
	lin_write16(cpu, lin, v, false);
}

void sys_write32(struct soft_cpu *cpu, u64 lin, u32 v)
{
	lin_write32(cpu, lin, v, false);
}

u8 fetch8(struct soft_cpu *cpu, u64 eip)
{
	const struct x86_segment *cs = &cpu->s.seg[S_CS];
	bool user = cpu->cpl == 3;
	u64 lin;
	struct tlb_entry *e;

	if (cpu->code64) {
		/* 64-bit code: CS has no base or limit (SDM vol. 3, 3.4.4) */
		if (!is_canonical(eip))
			cpu_fault(cpu, EXC_GP, 0);
		lin = eip;
	} else {
		if (!is_8086(cpu) && (u32)eip > cs->limit)
			cpu_fault(cpu, EXC_GP, 0);
		lin = (u32)(cs->base + (u32)eip);
	}
	e = tlb_entry_for(cpu, lin, user);
	if (likely(e->exec_tag == (lin & ~(u64)0xfff)))
		return *(u8 *)(e->addend + lin);
	return (u8)mem_read(
		cpu->env.mem,
		tlb_fill(cpu, lin, ACC_EXEC | (user ? ACC_USER : 0)), 1);
}

u64 seg_linear_slow(struct soft_cpu *cpu, int seg, u32 off, unsigned size,
		    bool write)
{
	const struct x86_segment *sg = &cpu->s.seg[seg];

	if (is_8086(cpu))
		return (u32)(sg->base + off);
	if (cpu->pe && !cpu->vm86) {
		u16 type = sg->attr & SEG_ATTR_TYPE;

		if (!(sg->attr & SEG_ATTR_P))
			seg_fault(cpu, seg);
		if (write && (type & 0x8 || !(type & 0x2)))
			seg_fault(cpu, seg);
		if (!write && (type & 0xa) == 0x8)
			seg_fault(cpu, seg);
	}
	if (!seg_within_limit(sg, off, size))
		seg_fault(cpu, seg);
	return (u32)(sg->base + off);
}

u64 seg_linear64(struct soft_cpu *cpu, int seg, u64 off, unsigned size)
{
	u64 lin = off;

	if (seg == S_FS || seg == S_GS)
		lin += cpu->s.seg[seg].base;
	if (unlikely(!is_canonical(lin) || !is_canonical(lin + size - 1)))
		cpu_fault(cpu, seg == S_SS ? EXC_SS : EXC_GP, 0);
	return lin;
}

/* #GP(0), or #SS(0) for the stack segment (SDM vol. 3, 6.15). */
__attribute__((noreturn)) void seg_fault(struct soft_cpu *cpu, int seg)
{
	/* The real-mode 286 reports every limit violation as #GP. */
	bool stack = seg == S_SS && !(cpu->model == CPU_MODEL_286 && !cpu->pe);

	cpu_fault(cpu, stack ? EXC_SS : EXC_GP, 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * A test rig for the soft CPU in protected mode: a guest machine with
 * 16 MiB of flat RAM, a GDT, an IDT, a TSS, exception stubs and a result
 * port, and helpers to hand-assemble code, build descriptors, gates, TSSes
 * and page tables in guest RAM, set the processor state directly and run
 * until the guest halts.
 *
 * Each tests/unit/test_*.c is its own program, so everything here is
 * static inline.
 *
 * Exceptions: every IDT entry starts as a 32-bit ring-0 interrupt gate to
 * a stub of its own (STUBS + 16 * vector) that only halts. After the run,
 * rig_vector() tells from EIP which vector was delivered, the frame is on
 * the stack at SS:ESP of the halted state (rig_frame()), and CR2 is in the
 * state: nothing in the stub depends on the registers of the code that
 * faulted.
 *
 * Results: guest code writes values to port RIG_PORT (0xE0); they are
 * logged in r->out[] in order. The port is open in the TSS I/O bitmap, so
 * ring-3 and virtual-8086 code can report too.
 *
 * Memory map (physical = linear unless a test pages it otherwise):
 *   0x01000 GDT (128 entries)      0x02000 IDT (256 gates)
 *   0x03000 TSS of the first task, I/O bitmap at 0x03068..0x05068
 *   0x06000 exception stubs        0x07000 more TSSes, 0x100 apart
 *   0x10000 code (CODE, CODE2, ...) 0x20000 data
 *   0x30000 ring-0 stack top       0x38000 ring-0 stack from the TSS
 *   0x40000 ring-3 stack top       0x100000 page-table pool
 */
#ifndef TWOOSTWO_TESTS_CPU_RIG_H
#define TWOOSTWO_TESTS_CPU_RIG_H

#include "core/clock.h"
#include "cpu/engine.h"
#include "unit.h"

#define RIG_RAM (16u << 20)
#define GDT 0x1000u
#define GDT_LIMIT 0x3ffu
#define IDT 0x2000u
#define IDT_LIMIT 0x7ffu
#define TSS0 0x3000u
#define IOMAP (TSS0 + 0x68)
#define TSS0_LIMIT (0x68u + 0x2000u) /* bitmap plus its 0xFF end byte */
#define STUBS 0x6000u
#define TSS1 0x7000u
#define TSS2 0x7100u
#define TSS3 0x7200u
#define CODE 0x10000u
#define CODE2 0x11000u
#define CODE3 0x12000u
#define CODE4 0x13000u
#define DATA 0x20000u
#define STACK0 0x30000u
#define ESP0 0x38000u
#define STACK3 0x40000u
#define PT_POOL 0x100000u
#define PT_POOL_END 0x200000u

/* Selectors of the fixed GDT entries. */
#define SEL_CODE0 0x08 /* 32-bit ring-0 code, base 0, 4 GiB */
#define SEL_DATA0 0x10 /* 32-bit ring-0 data */
#define SEL_CODE3 0x1b /* 32-bit ring-3 code (RPL 3) */
#define SEL_DATA3 0x23 /* 32-bit ring-3 data (RPL 3) */
#define SEL_TSS0 0x28
#define SEL_CODE16 0x30 /* 16-bit ring-0 code, base 0, 64 KiB */
#define SEL_DATA16 0x38 /* 16-bit ring-0 data, base 0, 64 KiB */
#define SEL_FREE 0x40 /* first entry a test may define */

/* Result port, and ports that raise the INTR line (see rig_pio_write). */
#define RIG_PORT 0xe0
#define RIG_PORT_IRQ 0xe8 /* any write: raise INTR now */
#define RIG_PORT_COUNT 0xe9 /* raise INTR at the irq_after-th write */
#define RIG_PORT_NMI 0xea /* any write: raise NMI */
#define RIG_OUT_MAX 256
/* MMIO whose reads return the low byte of the address (see rig_mmio_read) */
#define RIG_MMIO 0xf0000000u
#define RIG_MMIO_LEN 0x10000u
/* Vector of a DPL-3 gate to its halting stub: how ring-3 code ends. */
#define V_EXIT3 0x30

/* Descriptor attributes, as struct x86_segment.attr (x86_state.h). */
#define A_P SEG_ATTR_P
#define A_S SEG_ATTR_S
#define A_DPL(n) ((n) << SEG_ATTR_DPL_SHIFT)
#define A_DB SEG_ATTR_DB
#define A_G SEG_ATTR_G
#define A_CODE (A_P | A_S | 0xa) /* execute/read */
#define A_DATA (A_P | A_S | 0x2) /* read/write */
#define A_CODE32 (A_CODE | A_DB | A_G)
#define A_DATA32 (A_DATA | A_DB | A_G)
#define A_TSS32 (A_P | 0x9) /* available 32-bit TSS */
#define A_TSS32_BUSY (A_P | 0xb)
#define FLAT 0xffffffffu

/* Gate types (SDM vol. 3, table 3-2). */
#define GATE_TASK 0x5
#define GATE_CALL32 0xc
#define GATE_INT32 0xe
#define GATE_TRAP32 0xf

/* Page-table entry bits (SDM vol. 3, 4.3 and 4.4). */
#define PG_P 0x001u
#define PG_W 0x002u
#define PG_U 0x004u
#define PG_A 0x020u
#define PG_D 0x040u
#define PG_PS 0x080u
#define PG_NX (1ull << 63)

/* #PF error code bits (SDM vol. 3, figure 4-12). */
#define PFE_P 1u
#define PFE_W 2u
#define PFE_U 4u
#define PFE_RSVD 8u
#define PFE_I 16u

/* An error code naming an IDT entry: index * 8 + IDT bit (+ EXT). */
#define IDT_ERR(v) ((u32)(v) * 8 + 2)

/*
 * Hand assembly. Programs are lists of bytes, one instruction per line
 * with its assembly in a comment; these helpers spell the common ones.
 */
#define D16(v) (u8)(v), (u8)((v) >> 8)
#define D32(v) (u8)(v), (u8)((v) >> 8), (u8)((v) >> 16), (u8)((v) >> 24)
#define MODRM(mod, reg, rm) (u8)((mod) << 6 | (reg) << 3 | (rm))
#define SIB(scale, index, base) (u8)((scale) << 6 | (index) << 3 | (base))
/* mov r32, imm32 */
#define MOV_RI(r, v) (u8)(0xb8 + (r)), D32(v)
/* mov dst, src (32-bit registers) */
#define MOV_RR(dst, src) 0x89, MODRM(3, src, dst)
/* mov r32, [abs32] / mov [abs32], r32 */
#define LOAD(r, a) 0x8b, MODRM(0, r, 5), D32(a)
#define STORE(a, r) 0x89, MODRM(0, r, 5), D32(a)
/* mov dword [abs32], imm32 */
#define STORE_I(a, v) 0xc7, MODRM(0, 0, 5), D32(a), D32(v)
/* mov sreg, r32 / mov r32, sreg */
#define MOV_SR(sreg, r) 0x8e, MODRM(3, sreg, r)
#define MOV_RS(r, sreg) 0x8c, MODRM(3, sreg, r)
/* mov eax, r; out RIG_PORT, eax: report a register (clobbers EAX) */
#define LOG(r) MOV_RR(R_EAX, r), 0xe7, RIG_PORT
/* out RIG_PORT, eax */
#define LOG_EAX 0xe7, RIG_PORT
/* pushfd; pop eax; out RIG_PORT, eax */
#define LOG_FLAGS 0x9c, 0x58, 0xe7, RIG_PORT
/* mov eax, crN; out RIG_PORT, eax */
#define LOG_CR(n) 0x0f, 0x20, MODRM(3, n, R_EAX), 0xe7, RIG_PORT
/* mov crN, r32 */
#define MOV_CR_R(n, r) 0x0f, 0x22, MODRM(3, n, r)
#define PUSH_R(r) (u8)(0x50 + (r))
#define POP_R(r) (u8)(0x58 + (r))
#define PUSH_I(v) 0x68, D32(v)
#define PUSHFD 0x9c
#define POPFD 0x9d
#define HLT 0xf4
#define CLI 0xfa
#define STI 0xfb
#define IRETD 0xcf
#define RETF 0xcb
#define INT(n) 0xcd, (u8)(n)
#define JMP_FAR(sel, off) 0xea, D32(off), D16(sel)
#define CALL_FAR(sel, off) 0x9a, D32(off), D16(sel)
#define WRMSR 0x0f, 0x30
#define RDMSR 0x0f, 0x32
#define CPUID 0x0f, 0xa2
#define RDTSC 0x0f, 0x31
/* invlpg [abs32] */
#define INVLPG(a) 0x0f, 0x01, MODRM(0, 7, 5), D32(a)

/* Exception vectors (SDM vol. 3, table 6-1). */
enum {
	V_DE = 0, V_DB = 1, V_BP = 3, V_UD = 6, V_NM = 7, V_DF = 8,
	V_TS = 10, V_NP = 11, V_SS = 12, V_GP = 13, V_PF = 14,
};

struct rig {
	struct phys_mem mem;
	struct pio_bus *pio;
	struct vcpu *vcpu;
	struct x86_state st; /* the state after the last run */
	enum vcpu_exit exit;
	u32 out[RIG_OUT_MAX]; /* values written to RIG_PORT */
	unsigned nout;
	u32 pc; /* where rig_emit() puts the next bytes */
	u32 pt_next; /* next free page in the page-table pool */
	int irq_vector; /* what the interrupt acknowledge returns */
	unsigned intacks;
	unsigned irq_after; /* RIG_PORT_COUNT writes before INTR rises */
	unsigned count_writes;
	unsigned mmio_irq_after; /* RIG_MMIO reads before INTR rises */
	unsigned mmio_reads;
};

static inline int rig_intack(void *opaque)
{
	struct rig *r = opaque;

	/* Edge-like: one acknowledge per raise of the line. */
	soft_engine_ops.set_intr(r->vcpu, false);
	r->intacks++;
	return r->irq_vector;
}

static inline u32 rig_pio_read(void *opaque, u16 offset, unsigned size)
{
	(void)opaque;
	(void)size;
	return 0x5a5a5a00u | offset;
}

static inline void rig_pio_write(void *opaque, u16 offset, u32 value,
				 unsigned size)
{
	struct rig *r = opaque;

	(void)size;
	if (offset == 0 && r->nout < RIG_OUT_MAX)
		r->out[r->nout++] = value;
	if (offset == RIG_PORT_IRQ - RIG_PORT)
		soft_engine_ops.set_intr(r->vcpu, true);
	if (offset == RIG_PORT_NMI - RIG_PORT)
		soft_engine_ops.raise_nmi(r->vcpu);
	if (offset == RIG_PORT_COUNT - RIG_PORT &&
	    ++r->count_writes == r->irq_after)
		soft_engine_ops.set_intr(r->vcpu, true);
}

static const struct pio_ops rig_pio_ops = {
	.name = "cpu-rig",
	.read = rig_pio_read,
	.write = rig_pio_write,
	.sizes = PIO_SIZE1 | PIO_SIZE2 | PIO_SIZE4,
};

/*
 * Each byte reads as the low byte of its address; the mmio_irq_after-th
 * read raises INTR, to interrupt a string instruction in the middle.
 */
static inline u64 rig_mmio_read(void *opaque, u64 offset, unsigned size)
{
	struct rig *r = opaque;
	u64 v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (u64)(u8)(offset + i) << (8 * i);
	if (++r->mmio_reads == r->mmio_irq_after)
		soft_engine_ops.set_intr(r->vcpu, true);
	return v;
}

static inline void rig_mmio_write(void *opaque, u64 offset, u64 value,
				  unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)value;
	(void)size;
}

static const struct mmio_ops rig_mmio_ops = {
	.name = "cpu-rig",
	.read = rig_mmio_read,
	.write = rig_mmio_write,
};

/* Guest RAM access from the host, seen by the CPU's code cache. */
static inline void rig_write(struct rig *r, u32 addr, const void *p, u32 len)
{
	CHECK(addr < RIG_RAM && len <= RIG_RAM - addr);
	if (addr < RIG_RAM && len <= RIG_RAM - addr)
		mem_dma_write(&r->mem, addr, p, len);
}

static inline void rig_wr8(struct rig *r, u32 addr, u8 v)
{
	rig_write(r, addr, &v, 1);
}

static inline void rig_wr16(struct rig *r, u32 addr, u16 v)
{
	u8 b[2];

	put_le16(b, v);
	rig_write(r, addr, b, 2);
}

static inline void rig_wr32(struct rig *r, u32 addr, u32 v)
{
	u8 b[4];

	put_le32(b, v);
	rig_write(r, addr, b, 4);
}

static inline void rig_wr64(struct rig *r, u32 addr, u64 v)
{
	u8 b[8];

	put_le64(b, v);
	rig_write(r, addr, b, 8);
}

static inline u8 rig_rd8(struct rig *r, u32 addr)
{
	return addr < RIG_RAM ? r->mem.ram[addr] : 0;
}

static inline u16 rig_rd16(struct rig *r, u32 addr)
{
	return addr <= RIG_RAM - 2 ? get_le16(r->mem.ram + addr) : 0;
}

static inline u32 rig_rd32(struct rig *r, u32 addr)
{
	return addr <= RIG_RAM - 4 ? get_le32(r->mem.ram + addr) : 0;
}

static inline u64 rig_rd64(struct rig *r, u32 addr)
{
	return addr <= RIG_RAM - 8 ? get_le64(r->mem.ram + addr) : 0;
}

/* Code emission at r->pc. */
static inline void rig_org(struct rig *r, u32 addr)
{
	r->pc = addr;
}

static inline u32 rig_emit(struct rig *r, const u8 *p, u32 len)
{
	rig_write(r, r->pc, p, len);
	r->pc += len;
	return r->pc;
}

#define EMIT(r, ...)                                                        \
	rig_emit(r, (const u8[]){ __VA_ARGS__ },                            \
		 sizeof((const u8[]){ __VA_ARGS__ }))

/* jmp rel32 / call rel32 to an absolute target (same CS base 0). */
static inline void rig_jmp(struct rig *r, u32 target)
{
	EMIT(r, 0xe9, D32(target - (r->pc + 5)));
}

static inline void rig_call(struct rig *r, u32 target)
{
	EMIT(r, 0xe8, D32(target - (r->pc + 5)));
}

/* An 8-byte descriptor from base, byte-granular limit and attributes. */
static inline u64 rig_desc_bits(u32 base, u32 limit, u16 attr)
{
	u32 raw = attr & A_G ? limit >> 12 : limit;
	u32 lo = (raw & 0xffff) | base << 16;
	u32 hi = (base >> 16 & 0xff) | (u32)(attr & 0xf0ff) << 8 |
		 (raw & 0xf0000) | (base & 0xff000000u);

	return (u64)hi << 32 | lo;
}

static inline void rig_desc(struct rig *r, u16 sel, u32 base, u32 limit,
			    u16 attr)
{
	rig_wr64(r, GDT + (sel & ~7u), rig_desc_bits(base, limit, attr));
}

/* The segment-register form of the same descriptor, for set_state. */
static inline struct x86_segment rig_seg(u16 sel, u32 base, u32 limit,
					 u16 attr)
{
	return (struct x86_segment){ sel, base, limit, attr };
}

/* A gate in the GDT (call or task gate) or in the IDT. */
static inline u64 rig_gate_bits(u16 sel, u32 off, unsigned type, unsigned dpl,
				unsigned params, bool present)
{
	u32 lo = (off & 0xffff) | (u32)sel << 16;
	u32 hi = (off & 0xffff0000u) | (present ? 0x8000u : 0) | dpl << 13 |
		 type << 8 | (params & 0x1f);

	return (u64)hi << 32 | lo;
}

static inline void rig_idt(struct rig *r, unsigned vector, u16 sel, u32 off,
			   unsigned type, unsigned dpl)
{
	rig_wr64(r, IDT + 8 * vector,
		 rig_gate_bits(sel, off, type, dpl, 0, true));
}

static inline void rig_idt_not_present(struct rig *r, unsigned vector)
{
	rig_wr64(r, IDT + 8 * vector,
		 rig_gate_bits(SEL_CODE0, STUBS + 16 * vector, GATE_INT32, 0,
			       0, false));
}

static inline void rig_call_gate(struct rig *r, u16 sel, u16 target_sel,
				 u32 off, unsigned dpl, unsigned params)
{
	rig_wr64(r, GDT + (sel & ~7u),
		 rig_gate_bits(target_sel, off, GATE_CALL32, dpl, params,
			       true));
}

/* A 32-bit TSS (SDM vol. 3, figure 7-2) for a task starting at eip. */
struct rig_task {
	u32 eip, esp, eflags, cr3;
	u16 cs, ss, ds;
	u32 esp0;
};

static inline void rig_tss(struct rig *r, u32 base, const struct rig_task *t)
{
	u8 z[0x68] = { 0 };
	unsigned i;

	rig_write(r, base, z, sizeof(z));
	rig_wr32(r, base + 0x04, t->esp0);
	rig_wr16(r, base + 0x08, SEL_DATA0);
	rig_wr32(r, base + 0x1c, t->cr3);
	rig_wr32(r, base + 0x20, t->eip);
	rig_wr32(r, base + 0x24, t->eflags | 2);
	rig_wr32(r, base + 0x38, t->esp);
	rig_wr16(r, base + 0x4c, t->cs);
	rig_wr16(r, base + 0x50, t->ss);
	for (i = 0; i < 6; i++)
		if (i != S_CS && i != S_SS)
			rig_wr16(r, base + 0x48 + 4 * i, t->ds);
	rig_wr16(r, base + 0x66, 0x68); /* no bitmap: offset at the limit */
}

/* Allow (true) or deny an I/O port in the first task's bitmap. */
static inline void rig_io_allow(struct rig *r, u16 port, bool allow)
{
	u8 b = rig_rd8(r, IOMAP + port / 8);

	b = allow ? (u8)(b & ~(1u << (port & 7))) : (u8)(b | 1u << (port & 7));
	rig_wr8(r, IOMAP + port / 8, b);
}

/* Page tables: 4 KiB pages from a pool (SDM vol. 3, 4.3 and 4.4). */
static inline u32 rig_page_new(struct rig *r)
{
	u8 z[4096] = { 0 };
	u32 p = r->pt_next;

	CHECK(p < PT_POOL_END);
	r->pt_next += 4096;
	rig_write(r, p, z, sizeof(z));
	return p;
}

/* 32-bit paging: map the 4 KiB page at lin; PDEs get P, W and U. */
static inline void rig_map(struct rig *r, u32 cr3, u32 lin, u32 phys,
			   u32 flags)
{
	u32 pde_pa = cr3 + (lin >> 22) * 4, pde = rig_rd32(r, pde_pa);

	if (!(pde & PG_P) || (pde & PG_PS)) {
		pde = rig_page_new(r) | PG_P | PG_W | PG_U;
		rig_wr32(r, pde_pa, pde);
	}
	rig_wr32(r, (pde & ~0xfffu) + (lin >> 12 & 0x3ff) * 4,
		 (phys & ~0xfffu) | flags);
}

static inline u32 rig_pte_addr(struct rig *r, u32 cr3, u32 lin)
{
	u32 pde = rig_rd32(r, cr3 + (lin >> 22) * 4);

	return (pde & ~0xfffu) + (lin >> 12 & 0x3ff) * 4;
}

/* A 4 MiB page (CR4.PSE): the PDE itself maps it. */
static inline void rig_map_4m(struct rig *r, u32 cr3, u32 lin, u32 phys,
			      u32 flags)
{
	rig_wr32(r, cr3 + (lin >> 22) * 4,
		 (phys & 0xffc00000u) | flags | PG_PS);
}

/* Identity-map [start, end) with 4 KiB pages. */
static inline void rig_identity(struct rig *r, u32 cr3, u32 start, u32 end,
				u32 flags)
{
	u32 a;

	for (a = start & ~0xfffu; a < end; a += 4096)
		rig_map(r, cr3, a, a, flags);
}

/* A page directory mapping the rig's first 2 MiB, supervisor, writable. */
static inline u32 rig_paging32(struct rig *r)
{
	u32 cr3 = rig_page_new(r);

	rig_identity(r, cr3, 0, PT_POOL_END, PG_P | PG_W);
	return cr3;
}

/* PAE: PDPT (4 entries) -> page directory -> page table, 64-bit entries. */
static inline u32 rig_pae_table(struct rig *r, u32 entry_pa, u64 flags)
{
	u64 e = rig_rd64(r, entry_pa);

	if (!(e & PG_P)) {
		e = rig_page_new(r) | flags;
		rig_wr64(r, entry_pa, e);
	}
	return (u32)(e & 0xfffff000u);
}

static inline void rig_map_pae(struct rig *r, u32 cr3, u32 lin, u32 phys,
			       u64 flags)
{
	u32 pd = rig_pae_table(r, cr3 + (lin >> 30) * 8, PG_P);
	u32 pt = rig_pae_table(r, pd + (lin >> 21 & 0x1ff) * 8,
			       PG_P | PG_W | PG_U);

	rig_wr64(r, pt + (lin >> 12 & 0x1ff) * 8, (phys & ~0xfffu) | flags);
}

static inline u32 rig_pte_pae_addr(struct rig *r, u32 cr3, u32 lin)
{
	u32 pd = (u32)rig_rd64(r, cr3 + (lin >> 30) * 8) & 0xfffff000u;
	u32 pt = (u32)rig_rd64(r, pd + (lin >> 21 & 0x1ff) * 8) & 0xfffff000u;

	return pt + (lin >> 12 & 0x1ff) * 8;
}

/* A 2 MiB page: the PDE maps it. */
static inline void rig_map_pae_2m(struct rig *r, u32 cr3, u32 lin, u32 phys,
				  u64 flags)
{
	u32 pd = rig_pae_table(r, cr3 + (lin >> 30) * 8, PG_P);

	rig_wr64(r, pd + (lin >> 21 & 0x1ff) * 8,
		 (phys & 0xffe00000u) | flags | PG_PS);
}

static inline u32 rig_paging_pae(struct rig *r)
{
	u32 cr3 = rig_page_new(r), a;

	for (a = 0; a < PT_POOL_END; a += 4096)
		rig_map_pae(r, cr3, a, a, PG_P | PG_W);
	return cr3;
}

/* GDT, IDT, stubs and the first TSS as described at the top. */
static inline void rig_tables(struct rig *r)
{
	u8 stub[16] = { 0xf4, 0xeb, 0xfd }; /* hlt; jmp $-1 */
	struct rig_task t = { .esp0 = ESP0 };
	u8 ones[0x2001];
	unsigned v;

	rig_desc(r, SEL_CODE0, 0, FLAT, A_CODE32);
	rig_desc(r, SEL_DATA0, 0, FLAT, A_DATA32);
	rig_desc(r, SEL_CODE3, 0, FLAT, A_CODE32 | A_DPL(3));
	rig_desc(r, SEL_DATA3, 0, FLAT, A_DATA32 | A_DPL(3));
	rig_desc(r, SEL_TSS0, TSS0, TSS0_LIMIT, A_TSS32_BUSY);
	rig_desc(r, SEL_CODE16, 0, 0xffff, A_CODE);
	rig_desc(r, SEL_DATA16, 0, 0xffff, A_DATA);
	for (v = 0; v < 256; v++) {
		rig_write(r, STUBS + 16 * v, stub, sizeof(stub));
		rig_idt(r, v, SEL_CODE0, STUBS + 16 * v, GATE_INT32, 0);
	}
	rig_tss(r, TSS0, &t);
	rig_wr16(r, TSS0 + 0x66, 0x68);
	memset(ones, 0xff, sizeof(ones));
	rig_write(r, IOMAP, ones, sizeof(ones));
	for (v = RIG_PORT; v < RIG_PORT + 16; v++)
		rig_io_allow(r, (u16)v, true);
}

/* The rig with a CPU of the given model (rig_open: the P6). */
static inline void rig_open_model(struct rig *r, enum cpu_model model)
{
	struct vcpu_env env;

	*r = (struct rig){ 0 };
	r->pt_next = PT_POOL;
	r->irq_vector = -1;
	CHECK_EQ(mem_init(&r->mem, RIG_RAM, RIG_RAM), 0);
	r->mem.flat = true;
	r->pio = pio_bus_new();
	CHECK(r->pio != NULL);
	CHECK_EQ(pio_register(r->pio, RIG_PORT, 16, &rig_pio_ops, r), 0);
	CHECK_EQ(mem_register_mmio(&r->mem, RIG_MMIO, RIG_MMIO_LEN,
				   &rig_mmio_ops, r),
		 0);
	env = (struct vcpu_env){ .pio = r->pio, .mem = &r->mem,
				 .intack = rig_intack, .opaque = r,
				 .model = model };
	CHECK_EQ(soft_engine_ops.create(&env, &r->vcpu), 0);
	rig_tables(r);
	rig_idt(r, V_EXIT3, SEL_CODE0, STUBS + 16 * V_EXIT3, GATE_INT32, 3);
	rig_org(r, CODE);
}

static inline void rig_open(struct rig *r)
{
	rig_open_model(r, CPU_MODEL_P6);
}

static inline void rig_close(struct rig *r)
{
	soft_engine_ops.destroy(r->vcpu);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
}

/*
 * Flat 32-bit protected mode at CPL 0, as a loader leaves it: CS 0x08,
 * the data registers 0x10, TR the first TSS, EIP at CODE, paging off.
 */
static inline void rig_pm_state(struct rig *r, struct x86_state *s)
{
	unsigned i;

	soft_engine_ops.get_state(r->vcpu, s);
	for (i = 0; i < 6; i++)
		s->seg[i] = rig_seg(SEL_DATA0, 0, FLAT, A_DATA32 | 1);
	s->seg[S_CS] = rig_seg(SEL_CODE0, 0, FLAT, A_CODE32 | 1);
	s->tr = rig_seg(SEL_TSS0, TSS0, TSS0_LIMIT, A_TSS32_BUSY);
	s->ldtr = rig_seg(0, 0, 0, 0);
	s->gdtr = (struct x86_dtable){ GDT, GDT_LIMIT };
	s->idtr = (struct x86_dtable){ IDT, IDT_LIMIT };
	s->cr0 = CR0_PE | CR0_ET | CR0_NE;
	s->cr2 = s->cr3 = s->cr4 = 0;
	s->efer = 0;
	s->eip = CODE;
	s->gpr[R_ESP] = STACK0;
	s->eflags = 2;
	s->halted = false;
}

/* The same at CPL 3: ring-3 code and data selectors, ESP at STACK3. */
static inline void rig_ring3_state(struct rig *r, struct x86_state *s,
				   u32 eip)
{
	unsigned i;

	rig_pm_state(r, s);
	for (i = 0; i < 6; i++)
		s->seg[i] = rig_seg(SEL_DATA3, 0, FLAT,
				    A_DATA32 | A_DPL(3) | 1);
	s->seg[S_CS] = rig_seg(SEL_CODE3, 0, FLAT, A_CODE32 | A_DPL(3) | 1);
	s->gpr[R_ESP] = STACK3;
	s->eip = eip;
}

/* Real mode with every segment at 0 and IP at 0x7C00. */
static inline void rig_real_state(struct rig *r, struct x86_state *s)
{
	unsigned i;

	soft_engine_ops.get_state(r->vcpu, s);
	for (i = 0; i < 6; i++)
		s->seg[i] = rig_seg(0, 0, 0xffff, A_DATA | 1);
	s->seg[S_CS] = rig_seg(0, 0, 0xffff, A_CODE | 1);
	s->gdtr = (struct x86_dtable){ 0, 0xffff };
	s->idtr = (struct x86_dtable){ 0, 0x3ff };
	s->cr0 = CR0_ET;
	s->eip = 0x7c00;
	s->gpr[R_ESP] = 0x7000;
	s->eflags = 2;
	s->halted = false;
}

/* Run from state s until the guest halts (or shuts down), 2 s at most. */
static inline enum vcpu_exit rig_run_state(struct rig *r,
					   const struct x86_state *s)
{
	unsigned i;

	soft_engine_ops.set_state(r->vcpu, s);
	for (i = 0; i < 20; i++) {
		r->exit = soft_engine_ops.run(r->vcpu, clock_now_ns() +
							       100 *
							       NSEC_PER_MSEC);
		if (r->exit != VCPU_EXIT_DEADLINE)
			break;
	}
	soft_engine_ops.get_state(r->vcpu, &r->st);
	return r->exit;
}

/* Run flat ring-0 protected-mode code at CODE. */
static inline enum vcpu_exit rig_run_pm(struct rig *r)
{
	struct x86_state s;

	rig_pm_state(r, &s);
	return rig_run_state(r, &s);
}

/* Continue from where the last run stopped (after a HLT, say). */
static inline enum vcpu_exit rig_resume(struct rig *r)
{
	r->st.halted = false;
	return rig_run_state(r, &r->st);
}

/* Which stub halted: the vector delivered, or -1 (no exception). */
static inline int rig_vector(const struct rig *r)
{
	u32 lin = r->st.seg[S_CS].base + r->st.eip - 1;

	if (r->exit != VCPU_EXIT_HALT || lin < STUBS ||
	    lin >= STUBS + 16 * 256 || (lin - STUBS) % 16)
		return -1;
	return (int)((lin - STUBS) / 16);
}

/* Dword n of the stack the last run halted with (the handler frame). */
static inline u32 rig_frame(struct rig *r, unsigned n)
{
	return rig_rd32(r, r->st.seg[S_SS].base + r->st.gpr[R_ESP] + 4 * n);
}

/* The run halted in the stub of vector v with error code err. */
#define CHECK_FAULT(r, v, err)                                              \
	do {                                                                \
		CHECK_EQ(rig_vector(r), v);                                 \
		CHECK_EQ(rig_frame(r, 0), err);                             \
	} while (0)

/* The run ended at a HLT in test code, not in an exception stub. */
#define CHECK_DONE(r)                                                       \
	do {                                                                \
		CHECK_EQ((r)->exit, VCPU_EXIT_HALT);                        \
		CHECK_EQ(rig_vector(r), -1);                                \
	} while (0)

/* The values written to RIG_PORT, in order, are exactly expect[0..n). */
static inline void check_outs(struct rig *r, const u32 *expect, unsigned n)
{
	unsigned i;

	CHECK_EQ(r->nout, n);
	for (i = 0; i < n && i < r->nout; i++)
		if (r->out[i] != expect[i]) {
			fprintf(stderr, "  out[%u] = 0x%x, expected 0x%x\n", i,
				r->out[i], expect[i]);
			unit_current_failed = 1;
		}
}

#define CHECK_OUTS(r, ...)                                                  \
	check_outs(r, (const u32[]){ __VA_ARGS__ },                         \
		   sizeof((const u32[]){ __VA_ARGS__ }) / sizeof(u32))

#endif

// SPDX-License-Identifier: MIT
/*
 * The kvm engine (src/cpu/kvm/).
 *
 * Everywhere: the host classification, the memory-slot plan from the region
 * map (PAM modes, ROM, MMIO holes, a moving dirty-logged framebuffer) and
 * the x86_state <-> KVM structure conversion.
 *
 * Where /dev/kvm opens (hardware KVM, or the kvm_pvm module, which runs
 * 64-bit user code natively and emulates the rest): a 64-bit guest built
 * here and put into long mode through set_state (4-level page tables, a
 * GDT with 64-bit and compatibility user code, a 64-bit TSS and IDT whose
 * stubs report the vector on port 0xE1 and halt). It checks port I/O and
 * MMIO exits, interrupt injection, the deadline kick, the emulation
 * fallback through the soft engine, state transfer both ways, that user
 * code gets the architectural fault for privileged instructions, and
 * measures exit cost and what KVM does when a page table changes behind
 * its back. Without /dev/kvm each of these prints a loud SKIPPED line.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "cpu/kvm/kvm.h"
#include "unit.h"

#define RAM_SIZE (4u << 20)
#define PML4 0x1000u
#define PDPT 0x2000u
#define PD 0x3000u
#define PT 0x4000u
#define GDT 0x5000u
#define TSS 0x6000u
#define IDT 0x7000u
#define KSTACK_PAGE 0x8000u /* supervisor-only */
#define RSP0 0x9000u
#define STUBS 0x10000u
#define UCODE 0x20000u
#define UDATA 0x30000u
#define USTACK 0x40000u
#define PT_OLD 0x50000u /* the page-table experiment's two pages */
#define PT_NEW 0x51000u
#define MMIO_BASE 0x800000u
#define MMIO_LEN 0x1000u

#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE32_3 0x1b
#define SEL_DATA3 0x23
#define SEL_CODE64_3 0x2b
#define SEL_TSS 0x30

#define ATTR_CODE64_0 0xa09b
#define ATTR_DATA_0 0xc093
#define ATTR_CODE32_3 0xc0fb
#define ATTR_DATA_3 0xc0f3
#define ATTR_CODE64_3 0xa0fb

#define PORT_OUT 0xe0 /* user code's results */
#define PORT_VEC 0xe1 /* the stubs' vector reports */
#define PORT_IN 0xe2  /* reads 0x5a */
#define PORT_PTE 0xe3 /* read: the host rewrites a PTE (experiment) */
#define IRQ_VECTOR 0x40

struct guest {
	const struct engine_ops *ops;
	struct phys_mem mem;
	struct pio_bus *pio;
	struct vcpu *vcpu;
	struct vcpu_env env;
	u8 out[256];
	unsigned nr_out;
	int vec[16];
	unsigned nr_vec;
	u64 mmio_written;
	unsigned mmio_writes;
};

static u32 g_pio_read(void *opaque, u16 off, unsigned size)
{
	struct guest *g = opaque;

	if (off + PORT_OUT == PORT_PTE) {
		/* Map PT_OLD's linear page to PT_NEW behind KVM's back. */
		put_le64(g->mem.ram + PT + (PT_OLD >> 12) * 8, PT_NEW | 7);
	}
	return 0x5a;
}

static void g_pio_write(void *opaque, u16 off, u32 value, unsigned size)
{
	struct guest *g = opaque;

	if (off + PORT_OUT == PORT_OUT && g->nr_out < sizeof(g->out))
		g->out[g->nr_out++] = (u8)value;
	if (off + PORT_OUT == PORT_VEC && g->nr_vec < ARRAY_SIZE(g->vec))
		g->vec[g->nr_vec++] = (int)(value & 0xff);
}

static const struct pio_ops g_pio_ops = {"test", g_pio_read, g_pio_write, 0};

/* Byte k of the MMIO page reads as 0x10 + k, whatever the access size. */
static u64 g_mmio_read(void *opaque, u64 off, unsigned size)
{
	u64 v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (u64)(u8)(0x10 + off + i) << (8 * i);
	return v;
}

static void g_mmio_write(void *opaque, u64 off, u64 value, unsigned size)
{
	struct guest *g = opaque;

	g->mmio_written = value;
	g->mmio_writes++;
}

static const struct mmio_ops g_mmio_ops = {"test", g_mmio_read, g_mmio_write};

static int g_intack(void *opaque)
{
	struct guest *g = opaque;

	g->ops->set_intr(g->vcpu, false);
	return IRQ_VECTOR;
}

static void put_desc(u8 *ram, unsigned sel, u32 base, u32 limit, u16 attr)
{
	u32 lo = (limit & 0xffff) | (base << 16);
	u32 hi = ((base >> 16) & 0xff) | ((u32)(attr & 0xf0ff) << 8) |
		 (limit & 0xf0000) | (base & 0xff000000u);

	put_le32(ram + GDT + sel, lo);
	put_le32(ram + GDT + sel + 4, hi);
}

static void put_gate(u8 *ram, unsigned vec, u64 target)
{
	u8 *e = ram + IDT + vec * 16;

	put_le32(e, (u32)(target & 0xffff) | (SEL_CODE0 << 16));
	put_le32(e + 4, (u32)(target & 0xffff0000u) | 0x8e00);
	put_le32(e + 8, (u32)(target >> 32));
	put_le32(e + 12, 0);
}

/* Page tables, GDT, TSS, IDT and stubs: the guest's fixed part. */
static void build_guest(u8 *ram)
{
	unsigned i;

	put_le64(ram + PML4, PDPT | 7);
	put_le64(ram + PDPT, PD | 7);
	put_le64(ram + PD, PT | 7);
	for (i = 1; i < 8; i++)
		put_le64(ram + PD + i * 8, ((u64)i << 21) | 0x87);
	for (i = 0; i < 512; i++)
		put_le64(ram + PT + i * 8, ((u64)i << 12) | 7);
	put_le64(ram + PT + (KSTACK_PAGE >> 12) * 8, KSTACK_PAGE | 3);
	put_desc(ram, SEL_CODE0, 0, 0xfffff, ATTR_CODE64_0);
	put_desc(ram, SEL_DATA0, 0, 0xfffff, ATTR_DATA_0);
	put_desc(ram, SEL_CODE32_3 & ~3, 0, 0xfffff, ATTR_CODE32_3);
	put_desc(ram, SEL_DATA3 & ~3, 0, 0xfffff, ATTR_DATA_3);
	put_desc(ram, SEL_CODE64_3 & ~3, 0, 0xfffff, ATTR_CODE64_3);
	put_desc(ram, SEL_TSS, TSS, 0x67, 0x0089);
	put_le64(ram + TSS + 4, RSP0);	  /* RSP0 */
	put_le16(ram + TSS + 0x66, 0x68); /* no I/O bitmap */
	for (i = 0; i < 256; i++) {
		u8 *s = ram + STUBS + i * 16;
		const u8 stub[] = {0xb0, (u8)i, 0xe6, PORT_VEC,
				   0xf4, 0xeb,	0xfd};

		memcpy(s, stub, sizeof(stub));
		put_gate(ram, i, STUBS + i * 16);
	}
	memcpy(ram + PT_OLD, "\xaa", 1);
	memcpy(ram + PT_NEW, "\xbb", 1);
}

static struct x86_segment seg(u16 sel, u32 limit, u16 attr, u64 base)
{
	return (struct x86_segment){sel, base, limit, attr};
}

/* Long mode, CPL3 at rip: 64-bit code or compatibility mode. */
static void user_state(struct x86_state *s, u64 rip, bool compat, unsigned iopl,
		       bool intr)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->rip = rip;
	s->gpr[R_ESP] = USTACK;
	s->eflags = 2 | (iopl << 12) | (intr ? FL_IF : 0);
	s->seg[S_CS] = compat ?
			       seg(SEL_CODE32_3, 0xffffffff, ATTR_CODE32_3, 0) :
			       seg(SEL_CODE64_3, 0xffffffff, ATTR_CODE64_3, 0);
	for (i = 0; i < 6; i++)
		if (i != S_CS)
			s->seg[i] = seg(SEL_DATA3, 0xffffffff, ATTR_DATA_3, 0);
	s->tr = seg(SEL_TSS, 0x67, 0x008b, TSS);
	s->ldtr = seg(0, 0xffff, 0x0082, 0);
	s->ldtr.attr &= (u16)~SEG_ATTR_P; /* no LDT */
	s->gdtr = (struct x86_dtable){GDT, 0x3f};
	s->idtr = (struct x86_dtable){IDT, 0xfff};
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = PML4;
	s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	s->efer = EFER_LME | EFER_LMA | EFER_SCE;
	s->dr[6] = 0xffff0ff0u;
	s->dr[7] = 0x400;
	s->pat = 0x0007040600070406ull;
	s->apic_base = 0xfee00900ull;
	s->fpu.fcw = 0x37f;
	s->fpu.ftw = 0xffff;
	s->fpu.mxcsr = 0x1f80;
}

static const char *kvm_skip_reason(void)
{
	static char why[320];
	static int kind = -1;

	if (kind < 0)
		kind = kvm_host_probe(why, sizeof(why));
	return kind == KVM_HOST_NONE ? why : NULL;
}

static bool skip_without_kvm(const char *test)
{
	const char *why = kvm_skip_reason();

	if (why)
		printf("SKIPPED: %s: %s\n", test, why);
	return why != NULL;
}

static int guest_open_with(struct guest *g, const struct engine_ops *ops)
{
	int ret;

	memset(g, 0, sizeof(*g));
	g->ops = ops;
	CHECK_EQ(mem_init(&g->mem, RAM_SIZE, RAM_SIZE), 0);
	g->mem.flat = true;
	g->pio = pio_bus_new();
	CHECK(g->pio != NULL);
	CHECK_EQ(pio_register(g->pio, PORT_OUT, 4, &g_pio_ops, g), 0);
	CHECK_EQ(
		mem_register_mmio(&g->mem, MMIO_BASE, MMIO_LEN, &g_mmio_ops, g),
		0);
	build_guest(g->mem.ram);
	g->env = (struct vcpu_env){.pio = g->pio,
				   .mem = &g->mem,
				   .intack = g_intack,
				   .opaque = g,
				   .model = CPU_MODEL_X86_64};
	ret = ops->create(&g->env, &g->vcpu);
	if (ret) {
		printf("SKIPPED: %s vcpu: %s\n", ops->name, strerror(-ret));
		g->vcpu = NULL;
		pio_bus_free(g->pio);
		mem_destroy(&g->mem);
	}
	return ret;
}

static int guest_open(struct guest *g, enum cpu_model model)
{
	return guest_open_with(g, &kvm_engine_ops);
}

static void guest_close(struct guest *g)
{
	if (g->vcpu)
		g->ops->destroy(g->vcpu);
	pio_bus_free(g->pio);
	mem_destroy(&g->mem);
}

static enum vcpu_exit guest_run(struct guest *g, u64 ms)
{
	return g->ops->run(g->vcpu, clock_now_ns() + ms * NSEC_PER_MSEC);
}

/* Code written behind the engines' back: drop the soft engine's decodes. */
static void put_code(struct guest *g, u64 at, const u8 *code, size_t len)
{
	memcpy(g->mem.ram + at, code, len);
	mem_notify_written(&g->mem, at, len);
}

/* ---- runs everywhere ---- */

static void test_host_classify(void)
{
	struct kvm_host_facts f = {.dev_errno = ENOENT, .pvm_module = true};
	char why[320];

	CHECK_EQ(kvm_host_classify(&f, why, sizeof(why)), KVM_HOST_NONE);
	CHECK(strstr(why, "/dev/kvm") && strstr(why, "kvm_pvm"));
	f = (struct kvm_host_facts){.api_version = 12, .pvm_module = true};
	CHECK_EQ(kvm_host_classify(&f, why, sizeof(why)), KVM_HOST_SOFTWARE);
	CHECK(strstr(why, "kvm_pvm") != NULL);
	f = (struct kvm_host_facts){
		.api_version = 12, .hw_module = true, .cpu_virt = true};
	CHECK_EQ(kvm_host_classify(&f, why, sizeof(why)), KVM_HOST_HARDWARE);
	/* A vendor module without vmx/svm in the flags is not hardware. */
	f.cpu_virt = false;
	CHECK_EQ(kvm_host_classify(&f, why, sizeof(why)), KVM_HOST_SOFTWARE);
	f = (struct kvm_host_facts){.dev_errno = EPROTO, .api_version = 11};
	CHECK_EQ(kvm_host_classify(&f, why, sizeof(why)), KVM_HOST_NONE);
	CHECK(strstr(why, "version 11") != NULL);
}

static void test_host_probe_here(void)
{
	struct stat st;
	char why[320];
	enum kvm_host_kind k = kvm_host_probe(why, sizeof(why));

	printf("     this host: %s: %s\n",
	       k == KVM_HOST_HARDWARE ? "hardware KVM" :
	       k == KVM_HOST_SOFTWARE ? "software KVM" :
					"no KVM",
	       why);
	if (stat("/dev/kvm", &st))
		CHECK_EQ(k, KVM_HOST_NONE);
}

static const struct kvm_slot_plan *find_slot(const struct kvm_slot_plan *p,
					     int n, u64 gpa)
{
	int i;

	for (i = 0; i < n; i++)
		if (gpa >= p[i].gpa && gpa - p[i].gpa < p[i].size)
			return &p[i];
	return NULL;
}

static bool overlapping(const struct kvm_slot_plan *p, int n)
{
	int i;

	for (i = 1; i < n; i++)
		if (p[i - 1].gpa + p[i - 1].size > p[i].gpa)
			return true;
	return false;
}

static void test_slot_plan(void)
{
	static u8 bios[256 << 10];
	struct kvm_slot_plan p[KVM_MAX_PLANNED_SLOTS];
	const struct kvm_slot_plan *s;
	struct mem_dirty_log log;
	struct phys_mem mem;
	u8 *lfb = aligned_alloc(4096, 1 << 20);
	u8 *rom = aligned_alloc(4096, sizeof(bios));
	unsigned i;
	int n;

	CHECK_EQ(mem_init(&mem, 64 << 20, 64 << 20), 0);
	mem_set_bios(&mem, bios, sizeof(bios));
	CHECK_EQ(mem_dirty_log_init(&log, 1 << 20), 0);
	CHECK_EQ(mem_register_mmio(&mem, 0xa0000, 0x20000, &g_mmio_ops, NULL),
		 0);
	CHECK_EQ(
		mem_register_mmio(&mem, 0xfec00000u, 0x1000, &g_mmio_ops, NULL),
		0);
	CHECK_EQ(mem_register_host(&mem, 0xe0000000u, 1 << 20, lfb, &log), 0);
	n = kvm_plan_slots(&mem, rom, p, ARRAY_SIZE(p));
	CHECK(n > 0);
	CHECK(!overlapping(p, n));
	s = find_slot(p, n, 0);
	CHECK(s && s->size == 0xa0000 && !s->readonly && s->host == mem.ram);
	CHECK(!find_slot(p, n, 0xa0000)); /* VGA window: exits */
	CHECK(!find_slot(p, n, 0xc0000)); /* PAM ROM, no ROM there */
	s = find_slot(p, n, 0xf0000);	  /* the BIOS alias, read-only */
	CHECK(s && s->readonly &&
	      s->host + (0xf0000 - s->gpa) == rom + sizeof(bios) - 0x10000);
	s = find_slot(p, n, 0x100000);
	CHECK(s && s->gpa == 0x100000 && s->size == (64 << 20) - 0x100000);
	s = find_slot(p, n, 0xfffffff0u);
	CHECK(s && s->readonly && s->host == rom);
	CHECK(!find_slot(p, n, 0xfec00000u));
	s = find_slot(p, n, 0xe0000000u);
	CHECK(s && s->dirty == &log && s->host == lfb && !s->readonly);

	/* PAM: all read/write RAM joins 0xC0000 up to the top of RAM. */
	for (i = 0; i < MEM_SHADOW_SEGS; i++)
		mem_set_shadow_mode(&mem, i, MEM_SHADOW_RW_RAM);
	n = kvm_plan_slots(&mem, rom, p, ARRAY_SIZE(p));
	s = find_slot(p, n, 0xc0000);
	CHECK(s && s->gpa == 0xc0000 && s->size == (64 << 20) - 0xc0000 &&
	      s->host == mem.ram + 0xc0000 && !s->readonly);
	/*
	 * Reads ROM, writes RAM: the ROM read-only (writes exit to the bus,
	 * which stores them in RAM); write-protected RAM: read-only RAM.
	 */
	mem_set_shadow_mode(&mem, 12, MEM_SHADOW_WRITE_RAM);
	mem_set_shadow_mode(&mem, 13, MEM_SHADOW_READ_RAM);
	mem_set_shadow_mode(&mem, 1, MEM_SHADOW_WRITE_RAM);
	n = kvm_plan_slots(&mem, rom, p, ARRAY_SIZE(p));
	s = find_slot(p, n, 0xf0000);
	CHECK(s && s->readonly && s->size == 0x4000 &&
	      s->host == rom + sizeof(bios) - 0x10000);
	CHECK(!find_slot(p, n, 0xc4000)); /* no ROM there: open bus */
	s = find_slot(p, n, 0xf4000);
	CHECK(s && s->readonly && s->host == mem.ram + 0xf4000);
	CHECK(!overlapping(p, n));

	/* The framebuffer BAR moves; an MMIO range over RAM cuts a hole. */
	mem_unregister_mmio(&mem, 0xe0000000u);
	CHECK_EQ(mem_register_host(&mem, 0xd0000000u, 1 << 20, lfb, &log), 0);
	CHECK_EQ(mem_register_mmio(&mem, 0x200000, 0x1000, &g_mmio_ops, NULL),
		 0);
	n = kvm_plan_slots(&mem, rom, p, ARRAY_SIZE(p));
	CHECK(!find_slot(p, n, 0xe0000000u));
	s = find_slot(p, n, 0xd0000000u);
	CHECK(s && s->dirty == &log);
	CHECK(!find_slot(p, n, 0x200000));
	s = find_slot(p, n, 0x201000);
	CHECK(s && s->host == mem.ram + s->gpa && s->gpa == 0x201000);
	CHECK(!overlapping(p, n));
	/* Device memory KVM cannot map (not page-aligned here): a hole. */
	mem_unregister_mmio(&mem, 0xd0000000u);
	CHECK_EQ(mem_register_host(&mem, 0xd0000000u, 0x1000, lfb + 16, &log),
		 0);
	n = kvm_plan_slots(&mem, rom, p, ARRAY_SIZE(p));
	CHECK(!find_slot(p, n, 0xd0000000u));
	mem_dirty_log_free(&log);
	mem_destroy(&mem);
	free(lfb);
	free(rom);
}

static void fill_random_state(struct x86_state *s, unsigned seed)
{
	unsigned i, j;

	srand(seed);
	user_state(s, 0x123456789aull, false, 3, true);
	for (i = 0; i < X86_NR_GPRS; i++)
		s->gpr[i] = ((u64)rand() << 33) ^ (u64)rand();
	s->eflags |= FL_CF | FL_ZF | FL_OF | FL_AF | FL_DF;
	s->seg[S_FS].base = 0x7fff12345000ull;
	s->seg[S_GS].base = 0xffff800000001000ull;
	s->kernel_gs_base = 0xffff800000002000ull;
	s->star = 0x0023001000000000ull;
	s->lstar = 0xffffffff81000000ull;
	s->cstar = 0xffffffff81000100ull;
	s->sfmask = 0x47700;
	s->sysenter_cs = 0x10;
	s->sysenter_esp = 0x1234;
	s->sysenter_eip = 0x5678;
	s->tsc_aux = 3;
	s->cr2 = 0xdead000;
	s->cr8 = 5;
	s->dr[0] = 0x1000;
	s->dr[7] = 0x401;
	s->tsc = 0x1000000;
	s->nmi_blocked = true;
	for (i = 0; i < X86_NR_XMM; i++)
		for (j = 0; j < 16; j++)
			s->fpu.xmm[i][j] = (u8)rand();
	/* x87: TOP 5, ST0 = 1.0 (valid), ST1 = +0 (zero), the rest empty. */
	s->fpu.fsw = 5 << 11;
	memset(s->fpu.st, 0, sizeof(s->fpu.st));
	put_le64(s->fpu.st[5], 1ull << 63);
	put_le16(s->fpu.st[5] + 8, 0x3fff);
	s->fpu.ftw = 0xffff & ~(3u << 10) & ~(3u << 12);
	s->fpu.ftw |= 1u << 12; /* R6 zero */
	s->fpu.fop = 0x1d9;
	s->fpu.fip = 0x20010;
	s->fpu.fdp = 0x30020;
	s->fpu.mxcsr = 0x1fa0;
}

static void check_same_state(const struct x86_state *a,
			     const struct x86_state *b, bool with_tsc)
{
	unsigned i;

	for (i = 0; i < X86_NR_GPRS; i++)
		CHECK_EQ(a->gpr[i], b->gpr[i]);
	CHECK_EQ(a->rip, b->rip);
	CHECK_EQ(a->eflags | 2, b->eflags | 2);
	for (i = 0; i < 6; i++) {
		CHECK_EQ(a->seg[i].selector, b->seg[i].selector);
		CHECK_EQ(a->seg[i].base, b->seg[i].base);
		CHECK_EQ(a->seg[i].limit, b->seg[i].limit);
		CHECK_EQ(a->seg[i].attr & 0xf0ff, b->seg[i].attr & 0xf0ff);
	}
	CHECK_EQ(a->tr.base, b->tr.base);
	CHECK_EQ(a->tr.attr & 0xf0ff, b->tr.attr & 0xf0ff);
	CHECK_EQ(a->gdtr.base, b->gdtr.base);
	CHECK_EQ(a->idtr.limit, b->idtr.limit);
	CHECK_EQ(a->cr0, b->cr0);
	CHECK_EQ(a->cr2, b->cr2);
	CHECK_EQ(a->cr3, b->cr3);
	CHECK_EQ(a->cr4, b->cr4);
	CHECK_EQ(a->cr8, b->cr8);
	CHECK_EQ(a->efer, b->efer);
	CHECK_EQ(a->star, b->star);
	CHECK_EQ(a->lstar, b->lstar);
	CHECK_EQ(a->cstar, b->cstar);
	CHECK_EQ(a->sfmask, b->sfmask);
	CHECK_EQ(a->kernel_gs_base, b->kernel_gs_base);
	CHECK_EQ(a->sysenter_eip, b->sysenter_eip);
	CHECK_EQ(a->dr[0], b->dr[0]);
	CHECK_EQ(a->dr[7], b->dr[7]);
	CHECK_EQ(a->nmi_blocked, b->nmi_blocked);
	CHECK_EQ(a->fpu.fcw, b->fpu.fcw);
	CHECK_EQ(a->fpu.fsw, b->fpu.fsw);
	CHECK_EQ(a->fpu.ftw, b->fpu.ftw);
	CHECK_EQ(a->fpu.mxcsr, b->fpu.mxcsr);
	CHECK(!memcmp(a->fpu.st, b->fpu.st, sizeof(a->fpu.st)));
	CHECK(!memcmp(a->fpu.xmm, b->fpu.xmm, sizeof(a->fpu.xmm)));
	if (with_tsc) /* re-based on the clock: within a second */
		CHECK(b->tsc - a->tsc + NSEC_PER_SEC < 2 * NSEC_PER_SEC);
}

static void test_state_conversion(void)
{
	struct x86_state a, b;
	struct kvm_cpu_image img;

	fill_random_state(&a, 1);
	kvm_state_to_image(&a, 5000, &img);
	CHECK_EQ(img.regs.rip, a.rip);
	CHECK_EQ(img.sregs.cs.l, 1);
	CHECK_EQ(img.sregs.cs.dpl, 3);
	CHECK_EQ(img.sregs.ldt.unusable, 1);
	CHECK_EQ(img.fpu.ftwx, 0x60);			 /* R5 and R6 in use */
	CHECK(!memcmp(img.fpu.fpr[0], a.fpu.st[5], 10)); /* ST0 = R[TOP] */
	CHECK_EQ(img.msr_value[0], 5000 + a.tsc);
	memset(&b, 0x55, sizeof(b));
	b.fpu.fcs = 7; /* KVM does not keep it: stays */
	kvm_state_from_image(&img, 5000, &b);
	check_same_state(&a, &b, true);
	CHECK_EQ(b.tsc, a.tsc);
	CHECK_EQ(b.fpu.fcs, 7);
	CHECK_EQ(kvm_fpu_tag(a.fpu.st[5]), 0);
	CHECK_EQ(kvm_fpu_tag(a.fpu.st[6]), 1);
}

/* The CPUID the kvm engine hands to KVM_SET_CPUID2 is the soft engine's. */
static void test_cpuid_query(void)
{
	struct guest g = {0};
	struct vcpu *soft;
	struct x86_state s;
	u32 r[4];

	CHECK_EQ(mem_init(&g.mem, RAM_SIZE, RAM_SIZE), 0);
	g.pio = pio_bus_new();
	g.env = (struct vcpu_env){
		.pio = g.pio, .mem = &g.mem, .model = CPU_MODEL_P6};
	CHECK_EQ(soft_engine_ops.create(&g.env, &soft), 0);
	soft_engine_ops.get_state(soft, &s);
	soft_cpuid_query(soft, 0, 0, r);
	CHECK(r[0] >= 1);
	CHECK(!memcmp(&r[1], "Genu", 4) && !memcmp(&r[3], "ineI", 4));
	soft_cpuid_query(soft, 1, 0, r);
	CHECK(r[3] & BIT(25)); /* SSE */
	{
		struct x86_state after;

		soft_engine_ops.get_state(soft, &after);
		CHECK_EQ(after.gpr[R_EAX], s.gpr[R_EAX]);
		CHECK_EQ(after.gpr[R_EDX], s.gpr[R_EDX]);
	}
	soft_engine_ops.destroy(soft);
	pio_bus_free(g.pio);
	mem_destroy(&g.mem);
}

/* Without /dev/kvm, create fails with open()'s error and frees all. */
static void test_create_without_kvm(void)
{
	struct guest g = {0};
	struct vcpu *v = NULL;
	struct stat st;

	if (!stat("/dev/kvm", &st)) {
		printf("SKIPPED: test_create_without_kvm: /dev/kvm exists\n");
		return;
	}
	CHECK_EQ(mem_init(&g.mem, RAM_SIZE, RAM_SIZE), 0);
	g.pio = pio_bus_new();
	g.env = (struct vcpu_env){
		.pio = g.pio, .mem = &g.mem, .model = CPU_MODEL_P6};
	CHECK_EQ(kvm_engine_ops.create(&g.env, &v), -ENOENT);
	CHECK(v == NULL);
	CHECK_EQ(g.mem.nr_listeners, 0); /* the soft helper's is gone too */
	pio_bus_free(g.pio);
	mem_destroy(&g.mem);
}

/* ---- needs /dev/kvm ---- */

/* User code: OUT, MMIO read and write, IN, then HLT (#GP at CPL3). */
static void test_io_and_mmio_exits(void)
{
	static const u8 code[] = {
		0xb0, 0x11,		    /* mov al, 0x11 */
		0xe6, PORT_OUT,		    /* out 0xe0, al */
		0x48, 0x8b,	0x03,	    /* mov rax, [rbx] (MMIO) */
		0x48, 0x89,	0x43, 0x08, /* mov [rbx+8], rax (MMIO) */
		0xe4, PORT_IN,		    /* in al, 0xe2 */
		0xe6, PORT_OUT,		    /* out 0xe0, al */
		0xf4,			    /* hlt: #GP at CPL3 */
	};
	struct kvm_engine_stats st;
	struct x86_state s;
	struct guest g;

	if (skip_without_kvm("test_io_and_mmio_exits") ||
	    guest_open(&g, CPU_MODEL_X86_64))
		return;
	put_code(&g, UCODE, code, sizeof(code));
	user_state(&s, UCODE, false, 3, false);
	s.gpr[R_EBX] = MMIO_BASE + 0x100;
	kvm_engine_ops.set_state(g.vcpu, &s);
	CHECK_EQ(guest_run(&g, 2000), VCPU_EXIT_HALT);
	CHECK_EQ(g.nr_out, 2);
	CHECK_EQ(g.out[0], 0x11);
	CHECK_EQ(g.out[1], 0x5a);
	CHECK_EQ(g.mmio_writes, 1);
	CHECK_EQ(g.mmio_written, 0x1716151413121110ull);
	CHECK_EQ(g.nr_vec, 1);
	CHECK_EQ(g.vec[0], 13);
	kvm_engine_ops.get_state(g.vcpu, &s);
	CHECK_EQ(s.seg[S_CS].selector, SEL_CODE0);
	CHECK_EQ(get_le64(g.mem.ram + s.gpr[R_ESP] + 8), UCODE + 15);
	kvm_engine_stats(g.vcpu, &st);
	CHECK(st.io_exits >= 3 && st.mmio_exits >= 2);
	guest_close(&g);
}

/* INTR with IF set: the vector from intack reaches the guest's IDT. */
static void test_interrupt_injection(void)
{
	static const u8 spin[] = {0xeb, 0xfe}; /* jmp $ */
	struct kvm_engine_stats st;
	struct x86_state s;
	struct guest g;

	if (skip_without_kvm("test_interrupt_injection") ||
	    guest_open(&g, CPU_MODEL_X86_64))
		return;
	put_code(&g, UCODE, spin, sizeof(spin));
	user_state(&s, UCODE, false, 0, true);
	kvm_engine_ops.set_state(g.vcpu, &s);
	/* No interrupt: the deadline kick ends the native spin. */
	{
		u64 t0 = clock_now_ns();

		CHECK_EQ(guest_run(&g, 50), VCPU_EXIT_DEADLINE);
		CHECK(clock_now_ns() - t0 < 500 * NSEC_PER_MSEC);
		CHECK_EQ(g.nr_vec, 0);
	}
	kvm_engine_ops.set_intr(g.vcpu, true);
	CHECK_EQ(guest_run(&g, 2000), VCPU_EXIT_HALT);
	CHECK_EQ(g.nr_vec, 1);
	CHECK_EQ(g.vec[0], IRQ_VECTOR);
	kvm_engine_stats(g.vcpu, &st);
	CHECK_EQ(st.injected, 1);
	kvm_engine_ops.get_state(g.vcpu, &s);
	CHECK_EQ(get_le64(g.mem.ram + s.gpr[R_ESP]), UCODE); /* frame RIP */
	CHECK(s.halted);
	guest_close(&g);
}

/* Does the soft engine run 64-bit code yet (REX.W XOR RAX,RAX)? */
static bool soft_has_long_mode(struct guest *g)
{
	static const u8 code[] = {0x48, 0x31, 0xc0};
	struct vcpu *soft;
	struct x86_state s;
	bool ok;

	put_code(g, UCODE + 0x800, code, sizeof(code));
	if (soft_engine_ops.create(&g->env, &soft))
		return false;
	user_state(&s, UCODE + 0x800, false, 3, false);
	s.gpr[R_EAX] = ~0ull;
	soft_engine_ops.set_state(soft, &s);
	soft_engine_ops.step(soft);
	soft_engine_ops.get_state(soft, &s);
	ok = s.gpr[R_EAX] == 0 && s.rip == UCODE + 0x803;
	soft_engine_ops.destroy(soft);
	return ok;
}

/*
 * PADDD with a memory operand in MMIO: KVM's instruction emulator has no
 * SSE arithmetic, so the access fails to emulate and the soft engine runs
 * that one instruction. Compatibility mode (32-bit user code in long mode)
 * works with today's soft engine; the 64-bit variant needs its 64-bit mode.
 */
static void run_fallback(bool compat)
{
	static const u8 code[] = {
		0x66, 0x0f,	0xfe, 0x03, /* paddd xmm0, [rbx] (MMIO) */
		0xb0, 0x22,		    /* mov al, 0x22 */
		0xe6, PORT_OUT,		    /* out 0xe0, al: back in KVM */
		0xf4,			    /* hlt: #GP */
	};
	struct kvm_engine_stats st;
	struct x86_state s;
	struct guest g;
	unsigned i;

	if (guest_open(&g, CPU_MODEL_X86_64))
		return;
	if (!compat && !soft_has_long_mode(&g)) {
		printf("SKIPPED: test_emulation_fallback (64-bit): the soft "
		       "engine has no 64-bit mode yet\n");
		guest_close(&g);
		return;
	}
	put_code(&g, UCODE, code, sizeof(code));
	user_state(&s, UCODE, compat, 3, false);
	s.gpr[R_EBX] = MMIO_BASE + 0x40;
	for (i = 0; i < 4; i++)
		put_le32(s.fpu.xmm[0] + 4 * i, 0x01000000u * (i + 1));
	kvm_engine_ops.set_state(g.vcpu, &s);
	CHECK_EQ(guest_run(&g, 5000), VCPU_EXIT_HALT);
	kvm_engine_ops.get_state(g.vcpu, &s);
	for (i = 0; i < 4; i++) {
		u32 b = 0x50 + 4 * i; /* MMIO byte at 0x40 + 4i is 0x10 + it */
		u32 want = 0x01000000u * (i + 1) +
			   (b | (b + 1) << 8 | (b + 2) << 16 | (b + 3) << 24);

		CHECK_EQ(get_le32(s.fpu.xmm[0] + 4 * i), want);
	}
	CHECK_EQ(g.nr_out, 1);
	CHECK_EQ(g.out[0], 0x22);
	CHECK_EQ(g.nr_vec, 1);
	CHECK_EQ(g.vec[0], 13);
	kvm_engine_stats(g.vcpu, &st);
	printf("     fallback (%s): %llu instruction(s) run by the soft "
	       "engine\n",
	       compat ? "compatibility mode" : "64-bit",
	       (unsigned long long)st.fallbacks);
	CHECK(st.fallbacks >= 1);
	guest_close(&g);
}

static void test_emulation_fallback(void)
{
	if (skip_without_kvm("test_emulation_fallback"))
		return;
	run_fallback(true);
	run_fallback(false);
}

/* soft -> kvm -> soft, and a KVM run's result handed to the soft engine. */
static void test_state_transfer(void)
{
	static const u8 code[] = {
		0x48, 0x01, 0xd8,	/* add rax, rbx */
		0x48, 0x89, 0x07,	/* mov [rdi], rax */
		0x66, 0x0f, 0xfe, 0xc1, /* paddd xmm0, xmm1 */
		0xf4,			/* hlt: #GP */
	};
	struct x86_state a, b, c;
	struct vcpu *soft;
	struct guest g;

	if (skip_without_kvm("test_state_transfer") ||
	    guest_open(&g, CPU_MODEL_X86_64))
		return;
	CHECK_EQ(soft_engine_ops.create(&g.env, &soft), 0);
	fill_random_state(&a, 7);
	a.rip = UCODE;
	a.gpr[R_ESP] = USTACK;
	a.gpr[R_EDI] = UDATA;
	a.eflags = 2 | FL_CF | FL_ZF | FL_DF;
	soft_engine_ops.set_state(soft, &a);
	soft_engine_ops.get_state(soft, &a);
	kvm_engine_ops.set_state(g.vcpu, &a);
	kvm_engine_ops.get_state(g.vcpu, &b);
	soft_engine_ops.set_state(soft, &b);
	soft_engine_ops.get_state(soft, &c);
	check_same_state(&a, &c, true);

	put_code(&g, UCODE, code, sizeof(code));
	CHECK_EQ(guest_run(&g, 2000), VCPU_EXIT_HALT);
	kvm_engine_ops.get_state(g.vcpu, &b);
	/* The #GP stub reported its vector through AL. */
	CHECK_EQ(b.gpr[R_EAX] & ~0xffull,
		 (a.gpr[R_EAX] + a.gpr[R_EBX]) & ~0xffull);
	CHECK_EQ(get_le64(g.mem.ram + UDATA), b.gpr[R_EAX]);
	CHECK_EQ(get_le32(b.fpu.xmm[0]),
		 get_le32(a.fpu.xmm[0]) + get_le32(a.fpu.xmm[1]));
	soft_engine_ops.set_state(soft, &b);
	soft_engine_ops.get_state(soft, &c);
	check_same_state(&b, &c, true);
	soft_engine_ops.destroy(soft);
	guest_close(&g);
}

struct priv_case {
	const char *what;
	u8 code[8];
	unsigned len;
	unsigned vector;
	u64 error;
};

/* User code that touches what it must not gets the SDM's fault. */
static void run_privileged_faults(struct guest *g, bool compat)
{
	static const struct priv_case cases[] = {
		{"hlt", {0xf4}, 1, 13, 0},
		{"mov cr3, rax", {0x0f, 0x22, 0xd8}, 3, 13, 0},
		{"wrmsr", {0x0f, 0x30}, 2, 13, 0},
		{"cli (IOPL 0)", {0xfa}, 1, 13, 0},
		{"out (IOPL 0, no bitmap)", {0xe6, PORT_OUT}, 2, 13, 0},
		{"lgdt", {0x0f, 0x01, 0x10}, 3, 13, 0},
		{"int 0x40 (DPL 0 gate)", {0xcd, 0x40}, 2, 13, 0x40 * 8 + 2},
		{"mov ds, TSS selector", {0x8e, 0xda}, 2, 13, SEL_TSS},
		{"read a supervisor page", {0x48, 0x8b, 0x06}, 3, 14, 5},
		{"write a supervisor page", {0x48, 0x89, 0x06}, 3, 14, 7},
	};
	struct x86_state s;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct priv_case *c = &cases[i];
		u64 frame;

		/* In compatibility mode a REX byte is DEC EAX, run first. */
		u64 rip = UCODE + (compat && c->code[0] == 0x48);

		memset(g->mem.ram + UCODE, 0x90, 16);
		put_code(g, UCODE, c->code, c->len);
		user_state(&s, UCODE, compat, 0, false);
		s.gpr[R_EAX] = 0;
		s.gpr[R_EDX] = SEL_TSS;
		s.gpr[R_ESI] = KSTACK_PAGE; /* the supervisor-only page */
		g->nr_vec = 0;
		g->ops->set_state(g->vcpu, &s);
		if (g->ops == &soft_engine_ops) {
			/*
			 * The stubs are 64-bit code: the soft engine stops
			 * at the stub the fault was delivered to.
			 */
			unsigned n = 0;

			do { /* compat mode: a REX byte is a DEC first */
				g->ops->step(g->vcpu);
				g->ops->get_state(g->vcpu, &s);
			} while ((s.seg[S_CS].selector & 3) && ++n < 4);
			if (s.rip >= STUBS && s.rip < STUBS + 256 * 16 &&
			    s.seg[S_CS].selector == SEL_CODE0)
				g->vec[g->nr_vec++] = (int)(s.rip - STUBS) / 16;
		} else {
			CHECK_EQ(guest_run(g, 2000), VCPU_EXIT_HALT);
			g->ops->get_state(g->vcpu, &s);
		}
		frame = s.gpr[R_ESP];
		if (g->nr_vec != 1 || (unsigned)g->vec[0] != c->vector ||
		    get_le64(g->mem.ram + frame) != c->error ||
		    get_le64(g->mem.ram + frame + 8) != rip)
			printf("     %s %s: vector %d error 0x%llx rip "
			       "0x%llx\n",
			       g->ops->name, c->what,
			       g->nr_vec ? g->vec[0] : -1,
			       (unsigned long long)get_le64(g->mem.ram + frame),
			       (unsigned long long)get_le64(g->mem.ram + frame +
							    8));
		CHECK_EQ(g->nr_vec, 1);
		CHECK_EQ(g->vec[0], c->vector);
		CHECK_EQ(get_le64(g->mem.ram + frame), c->error);
		CHECK_EQ(get_le64(g->mem.ram + frame + 8), rip);
		if (c->vector == 14)
			CHECK_EQ(s.cr2, KSTACK_PAGE);
	}
}

static void test_privileged_faults(void)
{
	struct guest g;

	if (skip_without_kvm("test_privileged_faults") ||
	    guest_open(&g, CPU_MODEL_X86_64))
		return;
	run_privileged_faults(&g, false);
	run_privileged_faults(&g, true);
	guest_close(&g);
}

/*
 * The same guest on the soft engine, in compatibility mode (the soft
 * engine has no 64-bit mode yet): the reference for the kvm results, and
 * a check of the test guest itself (page tables, GDT, TSS, 16-byte IDT
 * gates, stubs) on hosts without /dev/kvm.
 */
static void test_privileged_faults_soft(void)
{
	struct guest g;

	if (guest_open_with(&g, &soft_engine_ops))
		return;
	run_privileged_faults(&g, true);
	guest_close(&g);
}

/* Exits per second and the cost of a state read (6 ioctls). */
static void test_measure_exits(void)
{
	static const u8 code[] = {
		0xe6, PORT_OUT, /* 1: out 0xe0, al */
		0xff, 0xc9,	/* dec ecx */
		0x75, 0xfa,	/* jnz 1b */
		0xf4,		/* hlt: #GP */
	};
	struct x86_state s;
	struct guest g;
	u64 t0, t1, n = 100000;
	unsigned i;

	if (skip_without_kvm("test_measure_exits") ||
	    guest_open(&g, CPU_MODEL_X86_64))
		return;
	put_code(&g, UCODE, code, sizeof(code));
	user_state(&s, UCODE, false, 3, false);
	s.gpr[R_ECX] = n;
	kvm_engine_ops.set_state(g.vcpu, &s);
	t0 = clock_now_ns();
	while (guest_run(&g, 10) == VCPU_EXIT_DEADLINE &&
	       clock_now_ns() - t0 < 60 * NSEC_PER_SEC)
		;
	t1 = clock_now_ns();
	CHECK_EQ(g.nr_vec, 1);
	printf("     %llu port exits in %.3f s: %.0f exits/s, %.2f us each\n",
	       (unsigned long long)n, (double)(t1 - t0) / 1e9,
	       (double)n * 1e9 / (double)(t1 - t0),
	       (double)(t1 - t0) / 1e3 / (double)n);
	t0 = clock_now_ns();
	for (i = 0; i < 1000; i++)
		kvm_engine_ops.get_state(g.vcpu, &s);
	t1 = clock_now_ns();
	printf("     get_state (KVM_GET_REGS/SREGS/FPU/DEBUGREGS/"
	       "VCPU_EVENTS/MSRS): %.2f us\n",
	       (double)(t1 - t0) / 1e3 / 1000);
	guest_close(&g);
}

/*
 * The page-table experiment: user code reads a page, the host rewrites its
 * PTE during the next port exit (no guest TLB flush), the code reads again.
 * Architecturally both values are allowed (the old translation may stay in
 * the TLB); what KVM does decides how the hybrid engine must flush.
 */
static void test_page_table_behind_kvm(void)
{
	static const u8 code[] = {
		0x8a, 0x04,	0x25, 0x00,
		0x00, 0x05,	0x00, /* mov al, [PT_OLD] */
		0xe6, PORT_OUT,	      /* out 0xe0, al */
		0xe4, PORT_PTE,	      /* in al, 0xe3: the host remaps */
		0x8a, 0x04,	0x25, 0x00,
		0x00, 0x05,	0x00, /* mov al, [PT_OLD] */
		0xe6, PORT_OUT,	      /* out 0xe0, al */
		0xf4,		      /* hlt: #GP */
	};
	struct x86_state s;
	struct guest g;

	if (skip_without_kvm("test_page_table_behind_kvm") ||
	    guest_open(&g, CPU_MODEL_X86_64))
		return;
	put_code(&g, UCODE, code, sizeof(code));
	user_state(&s, UCODE, false, 3, false);
	kvm_engine_ops.set_state(g.vcpu, &s);
	CHECK_EQ(guest_run(&g, 2000), VCPU_EXIT_HALT);
	CHECK_EQ(g.nr_out, 2);
	CHECK_EQ(g.out[0], 0xaa);
	CHECK(g.out[1] == 0xaa || g.out[1] == 0xbb);
	printf("     PTE rewritten behind KVM, no guest flush: the guest "
	       "reads the %s page\n",
	       g.out[1] == 0xbb ? "NEW" : "OLD (stale translation)");
	/*
	 * set_state promises a fresh processor: the engine makes KVM reset
	 * its MMU and flush the guest TLB (a CR3 change), so the new mapping
	 * must show.
	 */
	kvm_engine_ops.set_state(g.vcpu, &s);
	g.nr_out = 0;
	CHECK_EQ(guest_run(&g, 2000), VCPU_EXIT_HALT);
	CHECK_EQ(g.out[0], 0xbb);
	printf("     after set_state (SET_SREGS via another CR3): the guest "
	       "reads "
	       "the %s page\n",
	       g.out[0] == 0xbb ? "NEW" : "OLD");
	guest_close(&g);
}

int main(void)
{
	RUN_TEST(test_host_classify);
	RUN_TEST(test_host_probe_here);
	RUN_TEST(test_slot_plan);
	RUN_TEST(test_state_conversion);
	RUN_TEST(test_cpuid_query);
	RUN_TEST(test_create_without_kvm);
	RUN_TEST(test_io_and_mmio_exits);
	RUN_TEST(test_interrupt_injection);
	RUN_TEST(test_emulation_fallback);
	RUN_TEST(test_state_transfer);
	RUN_TEST(test_privileged_faults_soft);
	RUN_TEST(test_privileged_faults);
	RUN_TEST(test_measure_exits);
	RUN_TEST(test_page_table_behind_kvm);
	return unit_summary();
}

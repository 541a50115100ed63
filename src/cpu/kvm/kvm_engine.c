// SPDX-License-Identifier: MIT
/*
 * The kvm engine (cpu/kvm/kvm.h): the VM and vCPU file descriptors, the
 * CPUID model, the MSRs routed to the machine, memory slots that follow the
 * region map, and the state transfer. The run loop is in kvm_run.c.
 *
 * No in-kernel irqchip: the PIC, IOAPIC and local APIC stay our device
 * models (docs/ARCHITECTURE.md, "The kvm engine", says why), so the local
 * APIC's MMIO page exits like any device and interrupts are injected with
 * KVM_INTERRUPT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "cpu/kvm/kvm_vcpu.h"

#define MSR_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE 0x6e0u
/* Below the firmware at 4 GiB - 256 KiB: VMX's real-mode helpers. */
#define KVM_TSS_ADDR 0xfffbd000u
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000u
#define KVM_GUEST_TSC_KHZ 1000000u /* the soft engine's 1 GHz TSC */
#define KVM_MAX_CPUID 64

/* The ioctls the engine issues after the sandbox is on (pc_sandbox.c). */
const unsigned long kvm_sandbox_ioctls[] = {
	KVM_RUN,
	KVM_GET_REGS,
	KVM_SET_REGS,
	KVM_GET_SREGS,
	KVM_SET_SREGS,
	KVM_GET_FPU,
	KVM_SET_FPU,
	KVM_GET_MSRS,
	KVM_SET_MSRS,
	KVM_GET_DEBUGREGS,
	KVM_SET_DEBUGREGS,
	KVM_GET_VCPU_EVENTS,
	KVM_SET_VCPU_EVENTS,
	KVM_INTERRUPT,
	KVM_NMI,
	KVM_SET_USER_MEMORY_REGION,
	KVM_GET_DIRTY_LOG,
	KVM_TRANSLATE,
	KVM_SET_GUEST_DEBUG,
};
const unsigned kvm_sandbox_nr_ioctls = ARRAY_SIZE(kvm_sandbox_ioctls);

static int kvm_ioctl_err(int ret)
{
	return ret < 0 ? -errno : ret;
}

static bool kvm_has_cap(struct vcpu *v, long cap)
{
	return ioctl(v->vm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

/* Leaves whose ECX input selects a sub-leaf (SDM vol. 2, CPUID). */
static bool kvm_cpuid_indexed(u32 leaf)
{
	return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd ||
	       leaf == 0x14;
}

static void kvm_cpuid_add(struct vcpu *v, struct kvm_cpuid2 *c, u32 leaf)
{
	u32 sub, nr_sub = kvm_cpuid_indexed(leaf) ? 4 : 1, r[4];

	for (sub = 0; sub < nr_sub && c->nent < KVM_MAX_CPUID; sub++) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		soft_cpuid_query(v->soft, leaf, sub, r);
		*e = (struct kvm_cpuid_entry2){
			.function = leaf,
			.index = sub,
			.flags = nr_sub > 1 ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX :
					      0,
			.eax = r[0],
			.ebx = r[1],
			.ecx = r[2],
			.edx = r[3],
		};
	}
}

/* The soft engine's CPUID, leaf for leaf: one processor model. */
static int kvm_set_cpuid(struct vcpu *v)
{
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + KVM_MAX_CPUID * sizeof(c->entries[0]));
	u32 r[4], leaf, max;
	int ret;

	if (!c)
		return -ENOMEM;
	soft_cpuid_query(v->soft, 0, 0, r);
	max = MIN(r[0], 0x1fu);
	for (leaf = 0; leaf <= max; leaf++)
		kvm_cpuid_add(v, c, leaf);
	soft_cpuid_query(v->soft, 0x80000000u, 0, r);
	max = MIN(r[0], 0x8000001fu);
	for (leaf = 0x80000000u; leaf <= max; leaf++)
		kvm_cpuid_add(v, c, leaf);
	ret = kvm_ioctl_err(ioctl(v->fd, KVM_SET_CPUID2, c));
	free(c);
	return ret;
}

/*
 * MSRs the machine implements (IA32_APIC_BASE, the TSC deadline) exit to
 * us through a deny filter; MSRs KVM does not know exit too, so the
 * machine's hooks see everything the soft engine's would.
 */
static void kvm_route_msrs(struct vcpu *v)
{
	static u8 deny[1]; /* one bit, 0: exit to user space */
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args = {KVM_MSR_EXIT_REASON_FILTER |
			 KVM_MSR_EXIT_REASON_UNKNOWN},
	};
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = {{KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, 1,
			    MSR_APIC_BASE, deny},
			   {KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, 1,
			    MSR_TSC_DEADLINE, deny}},
	};

	if (!kvm_has_cap(v, KVM_CAP_X86_USER_SPACE_MSR) ||
	    ioctl(v->vm_fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    ioctl(v->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0) {
		log_warn("kvm", "no user-space MSR exits: KVM keeps "
				"IA32_APIC_BASE and the TSC deadline itself");
		return;
	}
	v->has_user_msrs = true;
}

/*
 * Without this KVM answers an instruction its emulator cannot run with #UD
 * in the guest when the guest is at CPL > 0 (handle_emulation_failure);
 * we want the exit, and the soft engine runs the instruction.
 */
static void kvm_exit_on_emulation_failure(struct vcpu *v)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE,
		.args = {1},
	};

	if (!kvm_has_cap(v, KVM_CAP_EXIT_ON_EMULATION_FAILURE) ||
	    ioctl(v->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		log_warn("kvm", "no exit on emulation failure: instructions "
				"KVM cannot emulate in user mode raise #UD");
}

static void kvm_map_changed(void *opaque)
{
	struct vcpu *v = opaque;

	v->map_dirty = true;
}

/* A page-aligned copy of the firmware, redone when the image changes. */
static int kvm_copy_rom(struct vcpu *v)
{
	struct phys_mem *mem = v->env.mem;
	size_t size = (mem->bios_size + MEM_PAGE_SIZE - 1) &
		      ~(size_t)(MEM_PAGE_SIZE - 1);

	if (v->rom_src == mem->bios && v->rom_src_size == mem->bios_size)
		return 0;
	if (v->rom_copy)
		munmap(v->rom_copy, v->rom_map_size);
	v->rom_copy = NULL;
	v->rom_src = mem->bios;
	v->rom_src_size = mem->bios_size;
	if (!size)
		return 0;
	v->rom_copy = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->rom_copy == MAP_FAILED) {
		v->rom_copy = NULL;
		return -ENOMEM;
	}
	memcpy(v->rom_copy, mem->bios, mem->bios_size);
	v->rom_map_size = size;
	return 0;
}

static int kvm_set_slot(struct vcpu *v, unsigned id,
			const struct kvm_slot_plan *p, bool remove)
{
	struct kvm_userspace_memory_region r = {
		.slot = id,
		.flags = (p->readonly ? KVM_MEM_READONLY : 0) |
			 (p->dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0),
		.guest_phys_addr = p->gpa,
		.memory_size = remove ? 0 : p->size,
		.userspace_addr = (uintptr_t)p->host,
	};

	return kvm_ioctl_err(ioctl(v->vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
}

static bool kvm_slot_same(const struct kvm_slot_plan *a,
			  const struct kvm_slot_plan *b)
{
	return a->gpa == b->gpa && a->size == b->size && a->host == b->host &&
	       a->readonly == b->readonly && a->dirty == b->dirty &&
	       a->dirty_off == b->dirty_off;
}

static int kvm_find_slot(struct vcpu *v, const struct kvm_slot_plan *p)
{
	unsigned i;

	for (i = 0; i < KVM_MAX_PLANNED_SLOTS; i++)
		if (v->slot_used[i] && kvm_slot_same(&v->slots[i], p))
			return (int)i;
	return -1;
}

static bool kvm_planned(const struct kvm_slot_plan *plan, int n,
			const struct kvm_slot_plan *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (kvm_slot_same(&plan[i], s))
			return true;
	return false;
}

/* Drop slots that left the plan, then add the new ones (no overlaps). */
static int kvm_apply_plan(struct vcpu *v, const struct kvm_slot_plan *plan,
			  int n)
{
	unsigned id;
	int i, ret;

	for (id = 0; id < KVM_MAX_PLANNED_SLOTS; id++) {
		if (!v->slot_used[id] || kvm_planned(plan, n, &v->slots[id]))
			continue;
		if (v->slots[id].dirty)
			kvm_sync_dirty_logs(v); /* keep its last writes */
		ret = kvm_set_slot(v, id, &v->slots[id], true);
		if (ret)
			return ret;
		v->slot_used[id] = false;
	}
	for (i = 0; i < n; i++) {
		if (kvm_find_slot(v, &plan[i]) >= 0)
			continue;
		if (plan[i].readonly && !v->has_readonly_mem)
			continue; /* unmapped: reads and writes exit */
		for (id = 0; id < KVM_MAX_PLANNED_SLOTS && v->slot_used[id];
		     id++)
			;
		if (id == KVM_MAX_PLANNED_SLOTS)
			return -ENOSPC;
		ret = kvm_set_slot(v, id, &plan[i], false);
		if (ret)
			return ret;
		v->slots[id] = plan[i];
		v->slot_used[id] = true;
	}
	return 0;
}

int kvm_sync_slots(struct vcpu *v)
{
	struct kvm_slot_plan plan[KVM_MAX_PLANNED_SLOTS];
	int n, ret = kvm_copy_rom(v);

	v->map_dirty = false;
	if (ret)
		return ret;
	n = kvm_plan_slots(v->env.mem, v->rom_copy, plan, ARRAY_SIZE(plan));
	if (n < 0)
		return n;
	ret = kvm_apply_plan(v, plan, n);
	if (ret)
		log_error("kvm", "memory slots: %s", strerror(-ret));
	return ret;
}

/*
 * Pages KVM saw written in host-backed device memory (the framebuffer)
 * go into the region's own dirty log, as the soft engine's write pointers
 * do, so the display redraws them.
 */
void kvm_sync_dirty_logs(struct vcpu *v)
{
	unsigned id;

	for (id = 0; id < KVM_MAX_PLANNED_SLOTS; id++) {
		const struct kvm_slot_plan *s = &v->slots[id];
		u64 pages = s->size >> MEM_PAGE_SHIFT, p;
		size_t bytes = (pages + 63) / 64 * 8;
		struct kvm_dirty_log log = {.slot = id};

		if (!v->slot_used[id] || !s->dirty)
			continue;
		if (bytes > v->dirty_bits_size) {
			u64 *bits = realloc(v->dirty_bits, bytes);

			if (!bits) {
				mem_dirty_log_mark(s->dirty, s->dirty_off,
						   s->size);
				continue;
			}
			v->dirty_bits = bits;
			v->dirty_bits_size = bytes;
		}
		memset(v->dirty_bits, 0, bytes);
		log.dirty_bitmap = v->dirty_bits;
		if (ioctl(v->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
			mem_dirty_log_mark(s->dirty, s->dirty_off, s->size);
			s->dirty->direct_writers = true;
			continue;
		}
		for (p = 0; p < pages; p++) {
			if (!(v->dirty_bits[p / 64] & (1ull << (p % 64))))
				continue;
			mem_dirty_log_mark(s->dirty,
					   s->dirty_off + (p << MEM_PAGE_SHIFT),
					   MEM_PAGE_SIZE);
			s->dirty->direct_writers = true;
		}
	}
}

static int kvm_open_vm(struct vcpu *v)
{
	v->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->sys_fd < 0)
		return -errno;
	if (ioctl(v->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return -EPROTO;
	v->vm_fd = ioctl(v->sys_fd, KVM_CREATE_VM, 0);
	if (v->vm_fd < 0)
		return -errno;
	fcntl(v->vm_fd, F_SETFD, FD_CLOEXEC);
	if (!kvm_has_cap(v, KVM_CAP_IMMEDIATE_EXIT) ||
	    !kvm_has_cap(v, KVM_CAP_USER_MEMORY))
		return -ENOTSUP;
	v->has_readonly_mem = kvm_has_cap(v, KVM_CAP_READONLY_MEM);
	/* VT-x without unrestricted guest needs these; others ignore them. */
	ioctl(v->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
	{
		u64 idmap = KVM_IDENTITY_MAP_ADDR;

		ioctl(v->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	}
	kvm_route_msrs(v);
	kvm_exit_on_emulation_failure(v);
	return 0;
}

static int kvm_open_vcpu(struct vcpu *v)
{
	int size;

	v->fd = ioctl(v->vm_fd, KVM_CREATE_VCPU, 0);
	if (v->fd < 0)
		return -errno;
	fcntl(v->fd, F_SETFD, FD_CLOEXEC);
	size = ioctl(v->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return -EPROTO;
	v->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	v->run_size = (size_t)size;
	/*
	 * The guest TSC at the soft engine's 1 GHz: the local APIC's TSC
	 * deadline and a resumed soft engine count the same ticks. Without
	 * TSC scaling it runs at the host's rate (the guest calibrates it
	 * against the PIT, but TSC-deadline arithmetic is off).
	 */
	if (!kvm_has_cap(v, KVM_CAP_TSC_CONTROL) ||
	    ioctl(v->fd, KVM_SET_TSC_KHZ, KVM_GUEST_TSC_KHZ) < 0)
		log_warn("kvm", "no TSC scaling: the guest TSC runs at the "
				"host's rate");
	return kvm_set_cpuid(v);
}

static void kvm_destroy(struct vcpu *v);

static int kvm_create(const struct vcpu_env *env, struct vcpu **out)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	struct mem_listener l = {kvm_map_changed, NULL, NULL};
	int ret;

	if (!v)
		return -ENOMEM;
	v->env = *env;
	v->sys_fd = v->vm_fd = v->fd = -1;
	l.opaque = v;
	ret = soft_engine_ops.create(env, &v->soft);
	if (ret) {
		v->soft = NULL;
		kvm_destroy(v);
		return ret;
	}
	ret = kvm_open_vm(v);
	ret = ret ?: kvm_open_vcpu(v);
	ret = ret ?: kvm_kick_init(v);
	ret = ret ?: kvm_sync_slots(v);
	ret = ret ?: mem_add_listener(env->mem, &l);
	if (ret) {
		kvm_destroy(v);
		return ret;
	}
	soft_engine_ops.get_state(v->soft, &v->keep);
	kvm_vcpu_set_state(v, &v->keep);
	*out = v;
	return 0;
}

static void kvm_destroy(struct vcpu *v)
{
	if (!v)
		return;
	mem_remove_listener(v->env.mem, v);
	kvm_kick_destroy(v);
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	if (v->vm_fd >= 0)
		close(v->vm_fd);
	if (v->sys_fd >= 0)
		close(v->sys_fd);
	if (v->rom_copy)
		munmap(v->rom_copy, v->rom_map_size);
	if (v->soft)
		soft_engine_ops.destroy(v->soft);
	free(v->dirty_bits);
	free(v);
}

/* Power-on state: the soft engine's (SDM vol. 3, 9.1.1), one definition. */
static void kvm_reset(struct vcpu *v)
{
	struct x86_state s;

	soft_engine_ops.reset(v->soft);
	soft_engine_ops.get_state(v->soft, &s);
	s.a20_masked = v->a20_masked;
	kvm_vcpu_set_state(v, &s);
}

#define KVM_MSR_BUF_ENTRIES 16

/* KVM_GET_MSRS / KVM_SET_MSRS of kvm_state_msrs[]: how many it did. */
static int kvm_get_msrs(struct vcpu *v, u64 *values, bool set)
{
	u64 buf[(sizeof(struct kvm_msrs) +
		 KVM_MSR_BUF_ENTRIES * sizeof(struct kvm_msr_entry)) /
		sizeof(u64)] = {0};
	struct kvm_msrs *m = (struct kvm_msrs *)buf;
	unsigned i, n = MIN(kvm_state_nr_msrs, KVM_MSR_BUF_ENTRIES);
	int ret;

	m->nmsrs = n;
	for (i = 0; i < n; i++) {
		m->entries[i].index = kvm_state_msrs[i];
		m->entries[i].data = set ? values[i] : 0;
	}
	ret = ioctl(v->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, m);
	for (i = 0; !set && ret > 0 && i < (unsigned)ret; i++)
		values[i] = m->entries[i].data;
	return ret;
}

void kvm_vcpu_get_state(struct vcpu *v, struct x86_state *s)
{
	struct kvm_cpu_image img = {0};

	kvm_complete_io(v);
	ioctl(v->fd, KVM_GET_REGS, &img.regs);
	ioctl(v->fd, KVM_GET_SREGS, &img.sregs);
	ioctl(v->fd, KVM_GET_FPU, &img.fpu);
	ioctl(v->fd, KVM_GET_DEBUGREGS, &img.debug);
	ioctl(v->fd, KVM_GET_VCPU_EVENTS, &img.events);
	kvm_get_msrs(v, img.msr_value, false);
	*s = v->keep;
	kvm_state_from_image(&img, clock_now_ns(), s);
	s->halted = v->halted;
	s->nmi_pending = s->nmi_pending || v->nmi_pending;
	s->a20_masked = v->a20_masked;
}

/*
 * set_state is a fresh processor, no stale translations (the soft engine
 * flushes its TLB). KVM resets its MMU and flushes the guest's TLB only
 * when SET_SREGS changes CR0, CR3, CR4 or EFER, and a page table the soft
 * engine or the host edited is not seen otherwise (docs/ARCHITECTURE.md,
 * "Page tables changed behind KVM's back"): so CR3 is set to a neighbour
 * first, then to its value.
 */
static void kvm_set_sregs_flushed(struct vcpu *v, const struct kvm_sregs *sr)
{
	struct kvm_sregs other = *sr;

	other.cr3 ^= MEM_PAGE_SIZE;
	ioctl(v->fd, KVM_SET_SREGS, &other);
	if (ioctl(v->fd, KVM_SET_SREGS, sr) < 0)
		log_warn("kvm", "KVM_SET_SREGS: %s", strerror(errno));
}

void kvm_vcpu_set_state(struct vcpu *v, const struct x86_state *s)
{
	struct kvm_cpu_image img;
	u64 apic_base;

	kvm_complete_io(v);
	v->keep = *s;
	kvm_state_to_image(s, clock_now_ns(), &img);
	/* KVM tracks CPUID.1:EDX.APIC from its copy of the APIC base. */
	if (v->env.msr_read &&
	    v->env.msr_read(v->env.opaque, MSR_APIC_BASE, &apic_base))
		img.sregs.apic_base = apic_base;
	kvm_set_sregs_flushed(v, &img.sregs);
	if (ioctl(v->fd, KVM_SET_REGS, &img.regs) < 0)
		log_warn("kvm", "KVM_SET_REGS: %s", strerror(errno));
	ioctl(v->fd, KVM_SET_FPU, &img.fpu);
	ioctl(v->fd, KVM_SET_DEBUGREGS, &img.debug);
	ioctl(v->fd, KVM_SET_VCPU_EVENTS, &img.events);
	/* The last two MSRs are optional (see kvm_state.c). */
	if (kvm_get_msrs(v, img.msr_value, true) < (int)kvm_state_nr_msrs - 2)
		log_warn("kvm", "KVM_SET_MSRS refused some MSRs");
	/*
	 * Without an in-kernel local APIC, every KVM_RUN loads CR8 from
	 * kvm_run.cr8 (which holds the value of the last exit).
	 */
	v->run->cr8 = s->cr8;
	v->halted = s->halted;
	v->if_flag = !!(s->eflags & FL_IF);
	v->nmi_pending = false;
	v->a20_masked = s->a20_masked;
}

static void kvm_get_state_op(struct vcpu *v, struct x86_state *s)
{
	kvm_vcpu_get_state(v, s);
}

static void kvm_set_state_op(struct vcpu *v, const struct x86_state *s)
{
	kvm_vcpu_set_state(v, s);
}

static void kvm_set_intr(struct vcpu *v, bool level)
{
	v->intr_line = level;
}

static void kvm_raise_nmi(struct vcpu *v)
{
	v->nmi_pending = true;
}

/*
 * From the machine thread (a device handler inside an exit, the event
 * loop's wake hook): the next KVM_RUN returns at once, after completing
 * the I/O in flight.
 */
static void kvm_stop(struct vcpu *v)
{
	v->stop_requested = true;
	if (v->run)
		v->run->immediate_exit = 1;
}

/*
 * KVM has no A20 gate: guests that run with A20 masked (real-mode code
 * relying on the 1 MiB wrap) need the soft engine. Recorded for the state.
 */
static void kvm_set_a20(struct vcpu *v, bool enabled)
{
	if (!enabled && !v->a20_masked)
		log_debug("kvm", "A20 masked: not emulated under kvm");
	v->a20_masked = !enabled;
}

/* KVM does not count retired instructions. */
static u64 kvm_instructions(struct vcpu *v)
{
	return 0;
}

void kvm_engine_stats(struct vcpu *v, struct kvm_engine_stats *out)
{
	*out = (struct kvm_engine_stats){v->exits, v->io_exits, v->mmio_exits,
					 v->fallbacks, v->injected};
}

const struct engine_ops kvm_engine_ops = {
	.name = "kvm",
	.create = kvm_create,
	.destroy = kvm_destroy,
	.reset = kvm_reset,
	.run = kvm_vcpu_run,
	.step = kvm_vcpu_step,
	.get_state = kvm_get_state_op,
	.set_state = kvm_set_state_op,
	.set_intr = kvm_set_intr,
	.raise_nmi = kvm_raise_nmi,
	.stop = kvm_stop,
	.set_a20 = kvm_set_a20,
	.instructions = kvm_instructions,
};

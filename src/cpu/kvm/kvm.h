/* SPDX-License-Identifier: MIT */
/*
 * The kvm engine: guest code runs directly on the host processor through
 * /dev/kvm (Linux KVM API, Documentation/virt/kvm/api.rst). Only exits reach
 * us: port I/O and MMIO go to the same buses the soft engine uses, HLT and
 * interrupt windows to the machine's PIC/APIC models, and an instruction KVM
 * cannot emulate is executed by a private soft-engine vcpu.
 *
 * The pieces that need no /dev/kvm are separate and unit-tested on any host:
 * which kind of /dev/kvm the host has (kvm_host.c), the memory-slot plan
 * from the region map (kvm_mem.c) and the x86_state <-> KVM structure
 * conversion (kvm_state.c).
 */
#ifndef TWOOSTWO_CPU_KVM_KVM_H
#define TWOOSTWO_CPU_KVM_KVM_H

#include <linux/kvm.h>
#include <stddef.h>

#include "cpu/engine.h"

/* What the host's /dev/kvm is. */
enum kvm_host_kind {
	KVM_HOST_NONE,	   /* no usable /dev/kvm */
	KVM_HOST_HARDWARE, /* KVM on VT-x or AMD-V: every mode runs natively */
	/*
	 * A software KVM such as the kvm_pvm module: only 64-bit user code
	 * runs natively, kernel and real-mode code are emulated by the
	 * module, legacy 32-bit paging is refused.
	 */
	KVM_HOST_SOFTWARE,
};

/* Facts about the host, gathered by kvm_host_facts(). */
struct kvm_host_facts {
	int dev_errno;	 /* 0: /dev/kvm opened, answered API version 12 */
	int api_version; /* KVM_GET_API_VERSION, or -1 */
	bool pvm_module; /* /sys/module/kvm_pvm */
	bool hw_module;	 /* /sys/module/kvm_intel or kvm_amd */
	bool cpu_virt;	 /* vmx or svm in /proc/cpuinfo flags */
};

void kvm_host_facts(struct kvm_host_facts *f);
/* The kind, and a one-line reason (for `--engine auto` and errors). */
enum kvm_host_kind kvm_host_classify(const struct kvm_host_facts *f, char *why,
				     size_t len);
/* Both of the above. */
enum kvm_host_kind kvm_host_probe(char *why, size_t len);

/* One KVM memory slot as planned from the region map. */
struct kvm_slot_plan {
	u64 gpa, size;
	u8 *host;
	bool readonly; /* ROM or write-protected shadow RAM: writes exit */
	/* A host-backed device region: KVM logs writes into its log. */
	struct mem_dirty_log *dirty;
	u64 dirty_off; /* offset of gpa inside the dirty-logged region */
};

#define KVM_MAX_PLANNED_SLOTS 64

/*
 * The slots that mirror mem: RAM, ROM (from rom_copy, a page-aligned copy of
 * mem->bios) and host-backed regions, with MMIO ranges left out so accesses
 * there exit; the PAM-routed shadow segments follow their mode (read/write
 * RAM, read-only RAM, or the ROM read-only also when writes go to RAM:
 * KVM_MEM_READONLY writes exit to the bus). Returns the number of slots
 * or -ENOSPC.
 */
int kvm_plan_slots(struct phys_mem *mem, const u8 *rom_copy,
		   struct kvm_slot_plan *out, unsigned max);

/* Everything KVM keeps of a vCPU's architectural state. */
struct kvm_cpu_image {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_debugregs debug;
	struct kvm_vcpu_events events;
	u64 msr_value[64];
	unsigned nr_msrs;
};

/* The MSRs kvm_state.c transfers, in the order of msr_value[]. */
extern const u32 kvm_state_msrs[];
extern const unsigned kvm_state_nr_msrs;

/*
 * x86_state <-> KVM's structures. TSC: x86_state.tsc is the offset from
 * the host monotonic clock in ns (the soft engine's 1 GHz TSC); now_ns is
 * that clock at the moment of the conversion.
 */
void kvm_state_to_image(const struct x86_state *s, u64 now_ns,
			struct kvm_cpu_image *img);
void kvm_state_from_image(const struct kvm_cpu_image *img, u64 now_ns,
			  struct x86_state *s);

/* Exit counters of a kvm vcpu (tests, benchmarks). */
struct kvm_engine_stats {
	u64 exits, io_exits, mmio_exits, fallbacks, injected;
};
void kvm_engine_stats(struct vcpu *v, struct kvm_engine_stats *out);

/* The ioctls a running kvm vcpu issues: for the sandbox's allow-list. */
extern const unsigned long kvm_sandbox_ioctls[];
extern const unsigned kvm_sandbox_nr_ioctls;

/* 2-bit x87 tag of one 80-bit register (SDM vol. 1, 8.1.7). */
unsigned kvm_fpu_tag(const u8 reg[10]);

#endif

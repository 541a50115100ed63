/* SPDX-License-Identifier: MIT */
/* The kvm engine's vcpu, shared by kvm_engine.c and kvm_run.c. */
#ifndef TWOOSTWO_CPU_KVM_KVM_VCPU_H
#define TWOOSTWO_CPU_KVM_KVM_VCPU_H

#include <time.h>

#include "cpu/kvm/kvm.h"

struct vcpu {
	struct vcpu_env env;
	int sys_fd, vm_fd, fd;
	struct kvm_run *run;
	size_t run_size;
	/* A soft-engine vcpu: CPUID answers and the emulation fallback. */
	struct vcpu *soft;
	/* Page-aligned copy of the firmware (KVM maps whole host pages). */
	u8 *rom_copy;
	size_t rom_map_size;
	const u8 *rom_src;
	u64 rom_src_size;
	/* Slot id i holds slots[i] when slot_used[i]. */
	struct kvm_slot_plan slots[KVM_MAX_PLANNED_SLOTS];
	bool slot_used[KVM_MAX_PLANNED_SLOTS];
	u64 *dirty_bits;
	size_t dirty_bits_size;
	bool map_dirty; /* the region map changed: replan before KVM_RUN */
	bool has_readonly_mem;
	bool has_user_msrs;
	/* Inputs from the machine. */
	bool intr_line;
	bool nmi_pending; /* raise_nmi() not yet handed to KVM_NMI */
	bool halted;
	bool if_flag; /* EFLAGS.IF as of the last exit or set_state */
	bool stop_requested;
	/* The last exit was I/O or MMIO: the next KVM_RUN completes it. */
	bool io_pending;
	bool a20_masked;
	/* Fields of x86_state KVM does not keep (see kvm_state.c). */
	struct x86_state keep;
	/* The deadline kick: a per-thread timer signal (kvm_run.c). */
	timer_t timer;
	bool has_timer;
	u64 armed_ns;
	/* Counters for tests and benchmarks. */
	u64 exits, io_exits, mmio_exits, fallbacks, injected;
};

void kvm_complete_io(struct vcpu *v);
int kvm_sync_slots(struct vcpu *v);
void kvm_sync_dirty_logs(struct vcpu *v);
enum vcpu_exit kvm_vcpu_run(struct vcpu *v, u64 deadline_ns);
enum vcpu_exit kvm_vcpu_step(struct vcpu *v);
int kvm_kick_init(struct vcpu *v);
void kvm_kick_destroy(struct vcpu *v);
void kvm_vcpu_get_state(struct vcpu *v, struct x86_state *s);
void kvm_vcpu_set_state(struct vcpu *v, const struct x86_state *s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The execution-engine interface. A machine creates one vcpu per virtual
 * processor through an engine ("soft", later "kvm" and "hybrid") and drives
 * it in time slices: run until the slice ends or something needs the
 * machine (HLT, shutdown, reset). Devices never see the engine; the engine
 * reaches devices only through the buses and callbacks in vcpu_env.
 */
#ifndef TWOOSTWO_CPU_ENGINE_H
#define TWOOSTWO_CPU_ENGINE_H

#include "bus/memory.h"
#include "bus/pio.h"
#include "cpu/x86_state.h"

/* Which processor the engine models; the PC always uses CPU_MODEL_P6. */
enum cpu_model {
	CPU_MODEL_8086, /* for the 8086 single-step test suite */
	CPU_MODEL_286, /* for the 80286 single-step test suite */
	CPU_MODEL_P6, /* the twoostwo virtual CPU (see cpu/cpuid.c) */
	/*
	 * P6 plus the parts of long mode built so far (EFER.LME/LMA, 4-level
	 * paging): for unit tests until 64-bit mode is complete; the PC and
	 * CPUID do not offer it yet.
	 */
	CPU_MODEL_X86_64,
};

enum vcpu_exit {
	VCPU_EXIT_DEADLINE, /* the time slice ended */
	VCPU_EXIT_HALT, /* HLT with nothing to deliver: wait for an interrupt */
	VCPU_EXIT_SHUTDOWN, /* triple fault or shutdown cycle */
	VCPU_EXIT_STOP, /* vcpu_stop() was called (reset, quit, ...) */
};

/* What the engine needs from the machine around it. */
struct vcpu_env {
	struct pio_bus *pio;
	struct phys_mem *mem;
	/*
	 * Interrupt acknowledge cycle: the vector of the highest-priority
	 * pending external interrupt (PIC or local APIC), called only after
	 * the engine saw the INTR line high and interrupts enabled.
	 */
	int (*intack)(void *opaque);
	/*
	 * MSRs the machine implements (IA32_APIC_BASE, TSC deadline...):
	 * return false for an MSR it does not know (the guest gets #GP).
	 * Either may be NULL.
	 */
	bool (*msr_read)(void *opaque, u32 msr, u64 *value);
	bool (*msr_write)(void *opaque, u32 msr, u64 value);
	void *opaque;
	enum cpu_model model;
};

struct vcpu;

struct engine_ops {
	const char *name;
	int (*create)(const struct vcpu_env *env, struct vcpu **out);
	void (*destroy)(struct vcpu *vcpu);
	/* Power-on/reset state (Intel SDM vol. 3, 9.1.1). */
	void (*reset)(struct vcpu *vcpu);
	/* Run until deadline_ns on the host monotonic clock, or an exit. */
	enum vcpu_exit (*run)(struct vcpu *vcpu, u64 deadline_ns);
	void (*get_state)(struct vcpu *vcpu, struct x86_state *state);
	void (*set_state)(struct vcpu *vcpu, const struct x86_state *state);
	/*
	 * Execute exactly one instruction (delivering any fault it raises),
	 * ignoring interrupts: for single-instruction test suites.
	 */
	enum vcpu_exit (*step)(struct vcpu *vcpu);
	/* Level of the INTR pin (PIC output or APIC). */
	void (*set_intr)(struct vcpu *vcpu, bool level);
	void (*raise_nmi)(struct vcpu *vcpu);
	/* Make run() return VCPU_EXIT_STOP at the next instruction boundary. */
	void (*stop)(struct vcpu *vcpu);
	/* Force or release address line 20 (port 0x92, i8042 output port). */
	void (*set_a20)(struct vcpu *vcpu, bool enabled);
	/* Instructions retired since creation (for benchmarks). */
	u64 (*instructions)(struct vcpu *vcpu);
};

extern const struct engine_ops soft_engine_ops;
/* Direct execution through /dev/kvm (cpu/kvm/kvm.h). */
extern const struct engine_ops kvm_engine_ops;

/*
 * CPUID leaf/subleaf as a soft-engine vcpu answers it (the one CPUID model;
 * the kvm engine passes it to KVM_SET_CPUID2).
 */
void soft_cpuid_query(struct vcpu *soft_vcpu, u32 leaf, u32 subleaf,
		      u32 out[4]);

#endif

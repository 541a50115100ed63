// SPDX-License-Identifier: MIT
/*
 * Long-mode machine state the soft CPU keeps outside the instruction
 * executors: the MSRs that only exist on a CPU with long mode (Intel SDM
 * vol. 4, table 2-2; AMD APM vol. 2, appendix A.2), on CPU_MODEL_X86_64.
 *
 * FS_BASE and GS_BASE are the hidden bases of FS and GS; KERNEL_GS_BASE is
 * what SWAPGS exchanges with GS_BASE. Writing a non-canonical address to
 * any MSR that holds a linear address is #GP(0) (SDM vol. 4, notes of
 * table 2-2).
 */
#include "cpu/soft/cpu.h"

#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX 0xc0000103u

/* 48-bit linear addresses: bits 63:47 all equal (SDM vol. 1, 3.3.7.1). */
bool is_canonical(u64 lin)
{
	return (u64)((s64)(lin << 16) >> 16) == lin;
}

/* The MSR's storage, or NULL when it is not a long-mode MSR. */
static u64 *long_msr(struct soft_cpu *cpu, u32 msr)
{
	switch (msr) {
	case MSR_STAR:
		return &cpu->s.star;
	case MSR_LSTAR:
		return &cpu->s.lstar;
	case MSR_CSTAR:
		return &cpu->s.cstar;
	case MSR_SFMASK:
		return &cpu->s.sfmask;
	case MSR_FS_BASE:
		return &cpu->s.seg[S_FS].base;
	case MSR_GS_BASE:
		return &cpu->s.seg[S_GS].base;
	case MSR_KERNEL_GS_BASE:
		return &cpu->s.kernel_gs_base;
	case MSR_TSC_AUX:
		return &cpu->s.tsc_aux;
	default:
		return NULL;
	}
}

bool long_msr_read(struct soft_cpu *cpu, u32 msr, u64 *v)
{
	u64 *p = long_mode_capable(cpu) ? long_msr(cpu, msr) : NULL;

	if (!p)
		return false;
	*v = *p;
	return true;
}

/* False (#GP) for an unknown MSR or a value the MSR cannot hold. */
bool long_msr_write(struct soft_cpu *cpu, u32 msr, u64 v)
{
	u64 *p = long_mode_capable(cpu) ? long_msr(cpu, msr) : NULL;

	if (!p)
		return false;
	switch (msr) {
	case MSR_STAR:
		break;
	case MSR_SFMASK:
		v &= 0xffffffffu; /* bits 63:32 reserved, read as 0 */
		break;
	case MSR_TSC_AUX:
		if (v >> 32) /* bits 63:32 reserved */
			return false;
		break;
	default: /* linear addresses */
		if (!is_canonical(v))
			return false;
	}
	*p = v;
	return true;
}

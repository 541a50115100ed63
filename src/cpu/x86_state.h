/* SPDX-License-Identifier: MIT */
/*
 * The complete architectural state of one x86 processor, independent of the
 * engine that runs it. Engines convert to and from this form for
 * save/restore and for handing a vCPU from one engine to another.
 */
#ifndef TWOOSTWO_CPU_X86_STATE_H
#define TWOOSTWO_CPU_X86_STATE_H

#include "core/types.h"

enum x86_reg {
	R_EAX,
	R_ECX,
	R_EDX,
	R_EBX,
	R_ESP,
	R_EBP,
	R_ESI,
	R_EDI,
	R_R8,
	R_R9,
	R_R10,
	R_R11,
	R_R12,
	R_R13,
	R_R14,
	R_R15,
};
#define X86_NR_GPRS 16
#define X86_NR_XMM 16
enum x86_sreg { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = 7 };

/* EFLAGS bits (Intel SDM vol. 1, 3.4.3). */
#define FL_CF BIT(0)
#define FL_PF BIT(2)
#define FL_AF BIT(4)
#define FL_ZF BIT(6)
#define FL_SF BIT(7)
#define FL_TF BIT(8)
#define FL_IF BIT(9)
#define FL_DF BIT(10)
#define FL_OF BIT(11)
#define FL_IOPL (3u << 12)
#define FL_NT BIT(14)
#define FL_RF BIT(16)
#define FL_VM BIT(17)
#define FL_AC BIT(18)
#define FL_VIF BIT(19)
#define FL_VIP BIT(20)
#define FL_ID BIT(21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)

#define CR4_VME BIT(0)
#define CR4_PVI BIT(1)
#define CR4_TSD BIT(2)
#define CR4_DE BIT(3)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_PCE BIT(8)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)

#define CR4_FSGSBASE BIT(16)

/* IA32_EFER (SDM vol. 3, 2.2.1; AMD APM vol. 2, 3.1.7). */
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

/*
 * Descriptor attributes as in bits 8..23 of a descriptor's high dword:
 * type (4), S, DPL (2), P, limit 19:16 (ignored here), AVL, L, D/B, G.
 */
#define SEG_ATTR_TYPE 0x000f
#define SEG_ATTR_S 0x0010
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_DPL 0x0060
#define SEG_ATTR_P 0x0080
#define SEG_ATTR_L 0x2000 /* 64-bit code segment (long mode) */
#define SEG_ATTR_DB 0x4000
#define SEG_ATTR_G 0x8000

/*
 * Bases are 64-bit: FS and GS bases (the IA32_FS_BASE/GS_BASE MSRs), the
 * LDT and TSS bases from 16-byte long-mode descriptors. Outside long mode
 * the upper half is zero.
 */
struct x86_segment {
	u16 selector;
	u64 base;
	u32 limit; /* byte granular, already expanded */
	u16 attr;
};

struct x86_dtable {
	u64 base;
	u16 limit;
};

/* x87 FPU and SSE state in FXSAVE layout terms, registers as 80-bit values. */
struct x86_fpu_state {
	u16 fcw;
	u16 fsw; /* TOP in bits 13:11 */
	u16 ftw; /* full 2-bit tag word */
	u16 fop;
	u32 fip;
	u16 fcs;
	u32 fdp;
	u16 fds;
	u8 st[8][10]; /* physical registers R0..R7, 80-bit little-endian */
	u32 mxcsr;
	u8 xmm[X86_NR_XMM][16]; /* XMM8-15 exist in 64-bit mode only */
};

/*
 * The architectural state of one processor, engine-neutral: what every
 * engine (soft, later a JIT or KVM) saves and restores, 64-bit wide so
 * that long mode fits (SDM vol. 1, 3.2.1). Outside 64-bit mode the upper
 * halves of GPRs and RIP are kept as the SDM says (undefined across mode
 * switches; an engine may keep them).
 */
struct x86_state {
	u64 gpr[X86_NR_GPRS];
	union {
		u64 rip;
		u32 eip; /* the low half (little-endian host) */
	};
	u32 eflags;
	struct x86_segment seg[6];
	struct x86_segment ldtr;
	struct x86_segment tr;
	struct x86_dtable gdtr;
	struct x86_dtable idtr;
	u64 cr0, cr2, cr3, cr4, cr8;
	u64 dr[8];
	u64 efer;
	u64 tsc;
	u64 tsc_aux; /* IA32_TSC_AUX (RDTSCP) */
	u32 sysenter_cs;
	u64 sysenter_esp, sysenter_eip;
	/* SYSCALL/SYSRET (SDM vol. 3, 5.8.8; AMD APM vol. 2, 6.1.1). */
	u64 star, lstar, cstar, sfmask;
	u64 kernel_gs_base; /* swapped with GS.base by SWAPGS */
	u64 apic_base;
	u64 pat;
	u64 mtrr_def_type;
	u64 mtrr_fixed[11];
	u64 mtrr_var[16]; /* base/mask pairs for 8 ranges */
	bool halted;
	bool nmi_pending;
	bool nmi_blocked; /* an NMI handler runs: the next NMI waits for IRET */
	bool a20_masked;  /* true: address bit 20 forced to 0 */
	struct x86_fpu_state fpu;
};

#endif

// SPDX-License-Identifier: MIT
/*
 * x86_state <-> the structures of KVM_GET/SET_REGS, _SREGS, _FPU,
 * _DEBUGREGS, _VCPU_EVENTS and _MSRS. Pure conversions (no ioctl), so the
 * round trip is tested on hosts without /dev/kvm.
 *
 * Fields x86_state has and KVM does not keep (the A20 gate, the MTRR
 * arrays, FCS/FDS of the x87 state, which KVM_GET_FPU's 64-bit FIP/FDP
 * layout drops) are left untouched by kvm_state_from_image(): the engine
 * keeps them from the last set_state.
 */
#include <string.h>

#include "cpu/kvm/kvm.h"

#define MSR_TSC 0x10u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_PAT 0x277u
#define MSR_MTRR_DEF_TYPE 0x2ffu
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX 0xc0000103u

/*
 * The MSRs of x86_state. KVM_SET_MSRS stops at the first MSR it refuses,
 * so the ones a KVM may lack with our CPUID (TSC_AUX without RDTSCP,
 * MTRRdefType without MTRR) come last and their failure is tolerated.
 */
const u32 kvm_state_msrs[] = {
	MSR_TSC,	  MSR_SYSENTER_CS, MSR_SYSENTER_ESP,
	MSR_SYSENTER_EIP, MSR_STAR,	   MSR_LSTAR,
	MSR_CSTAR,	  MSR_SFMASK,	   MSR_KERNEL_GS_BASE,
	MSR_PAT,	  MSR_TSC_AUX,	   MSR_MTRR_DEF_TYPE,
};
const unsigned kvm_state_nr_msrs = ARRAY_SIZE(kvm_state_msrs);

static void kvm_seg_to(const struct x86_segment *x, struct kvm_segment *k)
{
	*k = (struct kvm_segment){
		.base = x->base,
		.limit = x->limit,
		.selector = x->selector,
		.type = x->attr & SEG_ATTR_TYPE,
		.present = !!(x->attr & SEG_ATTR_P),
		.dpl = (x->attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT,
		.db = !!(x->attr & SEG_ATTR_DB),
		.s = !!(x->attr & SEG_ATTR_S),
		.l = !!(x->attr & SEG_ATTR_L),
		.g = !!(x->attr & SEG_ATTR_G),
		.avl = !!(x->attr & BIT(12)),
		/* VMX: a usable segment is present; so unusable = !P. */
		.unusable = !(x->attr & SEG_ATTR_P),
	};
}

static void kvm_seg_from(const struct kvm_segment *k, struct x86_segment *x)
{
	x->base = k->base;
	x->limit = k->limit;
	x->selector = k->selector;
	x->attr = (u16)((k->type & SEG_ATTR_TYPE) | (k->s ? SEG_ATTR_S : 0) |
			((k->dpl & 3) << SEG_ATTR_DPL_SHIFT) |
			(k->present && !k->unusable ? SEG_ATTR_P : 0) |
			(k->avl ? BIT(12) : 0) | (k->l ? SEG_ATTR_L : 0) |
			(k->db ? SEG_ATTR_DB : 0) | (k->g ? SEG_ATTR_G : 0));
}

unsigned kvm_fpu_tag(const u8 reg[10])
{
	u16 exp = get_le16(reg + 8) & 0x7fff;
	u64 mant = get_le64(reg);

	if (exp == 0x7fff)
		return 2; /* special: NaN, infinity */
	if (exp == 0)
		return mant ? 2 : 1; /* denormal : zero */
	return mant >> 63 ? 0 : 2;   /* valid : unnormal */
}

/* FXSAVE-style: fpr[] in stack order ST(i), one tag bit per physical Ri. */
static void kvm_fpu_to(const struct x86_fpu_state *f, struct kvm_fpu *k)
{
	unsigned top = (f->fsw >> 11) & 7, i;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < 8; i++) {
		memcpy(k->fpr[i], f->st[(top + i) & 7], 10);
		if (((f->ftw >> (2 * i)) & 3) != 3)
			k->ftwx |= (u8)BIT(i);
	}
	k->fcw = f->fcw;
	k->fsw = f->fsw;
	k->last_opcode = f->fop;
	k->last_ip = f->fip;
	k->last_dp = f->fdp;
	memcpy(k->xmm, f->xmm, sizeof(k->xmm));
	k->mxcsr = f->mxcsr;
}

static void kvm_fpu_from(const struct kvm_fpu *k, struct x86_fpu_state *f)
{
	unsigned top = (k->fsw >> 11) & 7, i;

	f->fcw = k->fcw;
	f->fsw = k->fsw;
	f->ftw = 0;
	for (i = 0; i < 8; i++)
		memcpy(f->st[(top + i) & 7], k->fpr[i], 10);
	for (i = 0; i < 8; i++) {
		unsigned tag = k->ftwx & BIT(i) ? kvm_fpu_tag(f->st[i]) : 3;

		f->ftw |= (u16)(tag << (2 * i));
	}
	f->fop = k->last_opcode;
	f->fip = (u32)k->last_ip;
	f->fdp = (u32)k->last_dp;
	memcpy(f->xmm, k->xmm, sizeof(f->xmm));
	f->mxcsr = k->mxcsr;
}

/* The MSR values in kvm_state_msrs[] order. */
static void kvm_msrs_to(const struct x86_state *s, u64 now_ns, u64 *v)
{
	const u64 val[] = {
		now_ns + s->tsc, s->sysenter_cs, s->sysenter_esp,
		s->sysenter_eip, s->star,	 s->lstar,
		s->cstar,	 s->sfmask,	 s->kernel_gs_base,
		s->pat,		 s->tsc_aux,	 s->mtrr_def_type,
	};

	memcpy(v, val, sizeof(val));
}

static void kvm_msrs_from(const u64 *v, u64 now_ns, struct x86_state *s)
{
	s->tsc = v[0] - now_ns;
	s->sysenter_cs = (u32)v[1];
	s->sysenter_esp = v[2];
	s->sysenter_eip = v[3];
	s->star = v[4];
	s->lstar = v[5];
	s->cstar = v[6];
	s->sfmask = v[7];
	s->kernel_gs_base = v[8];
	s->pat = v[9];
	s->tsc_aux = v[10];
	s->mtrr_def_type = v[11];
}

void kvm_state_to_image(const struct x86_state *s, u64 now_ns,
			struct kvm_cpu_image *img)
{
	struct kvm_sregs *sr = &img->sregs;
	unsigned i;

	memset(img, 0, sizeof(*img));
	img->regs = (struct kvm_regs){
		.rax = s->gpr[R_EAX],
		.rbx = s->gpr[R_EBX],
		.rcx = s->gpr[R_ECX],
		.rdx = s->gpr[R_EDX],
		.rsi = s->gpr[R_ESI],
		.rdi = s->gpr[R_EDI],
		.rsp = s->gpr[R_ESP],
		.rbp = s->gpr[R_EBP],
		.r8 = s->gpr[R_R8],
		.r9 = s->gpr[R_R9],
		.r10 = s->gpr[R_R10],
		.r11 = s->gpr[R_R11],
		.r12 = s->gpr[R_R12],
		.r13 = s->gpr[R_R13],
		.r14 = s->gpr[R_R14],
		.r15 = s->gpr[R_R15],
		.rip = s->rip,
		.rflags = s->eflags | BIT(1),
	};
	kvm_seg_to(&s->seg[S_CS], &sr->cs);
	kvm_seg_to(&s->seg[S_DS], &sr->ds);
	kvm_seg_to(&s->seg[S_ES], &sr->es);
	kvm_seg_to(&s->seg[S_FS], &sr->fs);
	kvm_seg_to(&s->seg[S_GS], &sr->gs);
	kvm_seg_to(&s->seg[S_SS], &sr->ss);
	kvm_seg_to(&s->tr, &sr->tr);
	kvm_seg_to(&s->ldtr, &sr->ldt);
	sr->gdt.base = s->gdtr.base;
	sr->gdt.limit = s->gdtr.limit;
	sr->idt.base = s->idtr.base;
	sr->idt.limit = s->idtr.limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->cr8 = s->cr8;
	sr->efer = s->efer;
	sr->apic_base = s->apic_base;
	kvm_fpu_to(&s->fpu, &img->fpu);
	for (i = 0; i < 4; i++)
		img->debug.db[i] = s->dr[i];
	img->debug.dr6 = s->dr[6];
	img->debug.dr7 = s->dr[7];
	img->events.nmi.pending = s->nmi_pending;
	img->events.nmi.masked = s->nmi_blocked;
	img->events.flags =
		KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	kvm_msrs_to(s, now_ns, img->msr_value);
	img->nr_msrs = kvm_state_nr_msrs;
}

void kvm_state_from_image(const struct kvm_cpu_image *img, u64 now_ns,
			  struct x86_state *s)
{
	const struct kvm_regs *r = &img->regs;
	const struct kvm_sregs *sr = &img->sregs;
	unsigned i;

	s->gpr[R_EAX] = r->rax;
	s->gpr[R_EBX] = r->rbx;
	s->gpr[R_ECX] = r->rcx;
	s->gpr[R_EDX] = r->rdx;
	s->gpr[R_ESI] = r->rsi;
	s->gpr[R_EDI] = r->rdi;
	s->gpr[R_ESP] = r->rsp;
	s->gpr[R_EBP] = r->rbp;
	s->gpr[R_R8] = r->r8;
	s->gpr[R_R9] = r->r9;
	s->gpr[R_R10] = r->r10;
	s->gpr[R_R11] = r->r11;
	s->gpr[R_R12] = r->r12;
	s->gpr[R_R13] = r->r13;
	s->gpr[R_R14] = r->r14;
	s->gpr[R_R15] = r->r15;
	s->rip = r->rip;
	s->eflags = (u32)r->rflags;
	kvm_seg_from(&sr->cs, &s->seg[S_CS]);
	kvm_seg_from(&sr->ds, &s->seg[S_DS]);
	kvm_seg_from(&sr->es, &s->seg[S_ES]);
	kvm_seg_from(&sr->fs, &s->seg[S_FS]);
	kvm_seg_from(&sr->gs, &s->seg[S_GS]);
	kvm_seg_from(&sr->ss, &s->seg[S_SS]);
	kvm_seg_from(&sr->tr, &s->tr);
	kvm_seg_from(&sr->ldt, &s->ldtr);
	s->gdtr.base = sr->gdt.base;
	s->gdtr.limit = sr->gdt.limit;
	s->idtr.base = sr->idt.base;
	s->idtr.limit = sr->idt.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->cr8 = sr->cr8;
	s->efer = sr->efer;
	s->apic_base = sr->apic_base;
	kvm_fpu_from(&img->fpu, &s->fpu);
	for (i = 0; i < 4; i++)
		s->dr[i] = img->debug.db[i];
	s->dr[6] = img->debug.dr6;
	s->dr[7] = img->debug.dr7;
	s->nmi_pending = img->events.nmi.pending;
	s->nmi_blocked = img->events.nmi.masked;
	kvm_msrs_from(img->msr_value, now_ns, s);
}

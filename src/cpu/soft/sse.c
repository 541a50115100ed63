// SPDX-License-Identifier: MIT
/*
 * MMX/SSE dispatch: mandatory prefixes (none, 66, F3, F2; F2/F3 win over
 * 66, SDM vol. 2, 2.1.2), the 0F, 0F 38 and 0F 3A maps (vol. 2, tables
 * ), CR0/CR4 gating, alignment, operand moves, and the
 * instructions that only move or rearrange bits. Arithmetic is in
 * sse_int.c and sse_fp.c.
 *
 * Gating (SDM vol. 3, table 2-2 and 13.1): MMX: CR0.EM -> #UD, CR0.TS ->
 * #NM, then a pending x87 exception -> #MF. SSE: CR0.EM or CR4.OSFXSR
 * clear -> #UD, CR0.TS -> #NM. Legacy-encoded 128-bit memory operands
 * must be 16-byte aligned (#GP(0)) except for the explicitly unaligned
 * forms (MOVUPS/PD, MOVDQU, LDDQU) and PCMPxSTRx (vol. 1, 11.4.3).
 */
#include "cpu/soft/sse.h"

#include "cpu/soft/exec.h"
#include "cpu/soft/fpu_float80.h"

static unsigned mandatory_prefix(const struct soft_cpu *cpu,
				 const struct insn *in)
{
	if (in->rep == 0xf3)
		return PFX_F3;
	if (in->rep == 0xf2)
		return PFX_F2;
	/* 66 toggled the operand size away from the mode's default */
	return in->opsize_prefix ? PFX_66 : PFX_NONE;
}

static void mmx_check(struct soft_cpu *cpu)
{
	if (cpu->s.cr0 & CR0_EM)
		undefined_opcode(cpu);
	if (cpu->s.cr0 & CR0_TS)
		cpu_fault_noerr(cpu, EXC_NM);
	if ((cpu->s.fpu.fsw & FSW_ES) && (cpu->s.cr0 & CR0_NE))
		cpu_fault_noerr(cpu, EXC_MF);
}

void sse_check(struct soft_cpu *cpu)
{
	if ((cpu->s.cr0 & CR0_EM) || !(cpu->s.cr4 & CR4_OSFXSR))
		undefined_opcode(cpu);
	if (cpu->s.cr0 & CR0_TS)
		cpu_fault_noerr(cpu, EXC_NM);
}

/* An MMX instruction: TOP = 0, every tag valid (SDM vol. 1, 9.5.1). */
static void mmx_enter(struct soft_cpu *cpu)
{
	cpu->s.fpu.fsw &= (u16)~FSW_TOP;
	cpu->s.fpu.ftw = 0;
}

static union xmm mm_get(const struct soft_cpu *cpu, unsigned n)
{
	union xmm v = {0};

	memcpy(v.ub, cpu->s.fpu.st[n & 7], 8);
	return v;
}

/* Writing MMn sets the exponent field of Rn to all ones (9.5.1). */
static void mm_set(struct soft_cpu *cpu, unsigned n, const union xmm *v)
{
	mmx_enter(cpu);
	memcpy(cpu->s.fpu.st[n & 7], v->ub, 8);
	cpu->s.fpu.st[n & 7][8] = 0xff;
	cpu->s.fpu.st[n & 7][9] = 0xff;
}

union xmm xmm_get(const struct soft_cpu *cpu, unsigned n)
{
	union xmm v;

	memcpy(v.ub, cpu->s.fpu.xmm[n % ARRAY_SIZE(cpu->s.fpu.xmm)], 16);
	return v;
}

void xmm_set(struct soft_cpu *cpu, unsigned n, const union xmm *v)
{
	memcpy(cpu->s.fpu.xmm[n % ARRAY_SIZE(cpu->s.fpu.xmm)], v->ub, 16);
}

static void check_align(struct soft_cpu *cpu, const struct insn *in,
			unsigned len, bool aligned)
{
	if (aligned && len == 16 && ((cpu->s.seg[in->seg].base + cpu->ea) & 15))
		cpu_fault(cpu, EXC_GP, 0);
}

static union xmm mem_load(struct soft_cpu *cpu, const struct insn *in,
			  unsigned len, bool aligned)
{
	union xmm v = {0};
	unsigned i;

	check_align(cpu, in, len, aligned);
	if (len == 1) {
		v.ub[0] = mem_read8(cpu, in->seg, cpu->ea);
	} else if (len == 2) {
		v.uw[0] = mem_read16(cpu, in->seg, cpu->ea);
	} else {
		for (i = 0; i < len / 4; i++)
			v.ud[i] = mem_read32(cpu, in->seg, cpu->ea + 4 * i);
	}
	return v;
}

union xmm sse_rm(struct soft_cpu *cpu, const struct insn *in, unsigned len,
		 bool aligned)
{
	if (in->mod == 3)
		return xmm_get(cpu, in->rm);
	return mem_load(cpu, in, len, aligned);
}

static union xmm mmx_rm(struct soft_cpu *cpu, const struct insn *in)
{
	if (in->mod == 3)
		return mm_get(cpu, in->rm);
	return mem_load(cpu, in, 8, false);
}

/*
 * A store of len bytes to memory: both ends are probed first, so that a
 * fault on either page leaves memory unchanged.
 */
static void mem_store(struct soft_cpu *cpu, const struct insn *in,
		      const union xmm *v, unsigned len, bool aligned)
{
	unsigned i;
	u64 last = cpu->ea + len - 1;

	check_align(cpu, in, len, aligned);
	if (len > 4) {
		mem_write8(cpu, in->seg, last, mem_read8(cpu, in->seg, last));
		for (i = 0; i < len / 4; i++)
			mem_write32(cpu, in->seg, cpu->ea + 4 * i, v->ud[i]);
	} else {
		mem_write_sz(cpu, in->seg, cpu->ea, v->ud[0], len);
	}
}

void sse_store(struct soft_cpu *cpu, const struct insn *in, const union xmm *v,
	       unsigned len, bool aligned)
{
	if (in->mod == 3)
		xmm_set(cpu, in->rm, v);
	else
		mem_store(cpu, in, v, len, aligned);
}

bool sse_mxcsr_update(struct soft_cpu *cpu, u32 raised)
{
	u32 *mx = &cpu->s.fpu.mxcsr;
	u32 unmasked = raised & ~(*mx >> MXCSR_MASKS_SHIFT) & MXCSR_FLAGS;

	*mx |= raised & MXCSR_FLAGS;
	if (!unmasked)
		return true;
	/* SDM vol. 3, 6.15 interrupt 19: #UD when OSXMMEXCPT is clear */
	if (!(cpu->s.cr4 & CR4_OSXMMEXCPT))
		undefined_opcode(cpu);
	cpu_fault_noerr(cpu, EXC_XM);
}

static void set_arith_flags(struct soft_cpu *cpu, u32 flags)
{
	flags_sync(cpu);
	cpu->s.eflags = (cpu->s.eflags & ~FL_ARITH) | (flags & FL_ARITH);
}

/* --- the integer forms --- */

static void simd_binary(struct soft_cpu *cpu, struct insn *in, simd_fn fn,
			bool xmm)
{
	union xmm d, s;

	if (xmm) {
		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 16, true);
		fn(&d, &s, 16);
		xmm_set(cpu, in->reg, &d);
	} else {
		mmx_check(cpu);
		d = mm_get(cpu, in->reg);
		s = mmx_rm(cpu, in);
		fn(&d, &s, 8);
		mm_set(cpu, in->reg, &d);
	}
}

/* Shift by register or memory count: D1-D3, E1-E2, F1-F3. */
static bool simd_shift_reg(struct soft_cpu *cpu, struct insn *in, bool xmm)
{
	static const u8 kind[3] = {0, 1, 2}; /* row D, E, F */
	unsigned row = ((in->op & 0xf0) >> 4) - 0xd, col = in->op & 0xf;
	unsigned esize = 1u << col; /* 1: word, 2: dword, 3: qword */
	union xmm d, s;

	if (col < 1 || col > 3 || (row == 1 && col == 3))
		return false;
	if (xmm) {
		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 16, true);
		psimd_shift(&d, kind[row], esize, s.uq[0], 16);
		xmm_set(cpu, in->reg, &d);
	} else {
		mmx_check(cpu);
		d = mm_get(cpu, in->reg);
		s = mmx_rm(cpu, in);
		psimd_shift(&d, kind[row], esize, s.uq[0], 8);
		mm_set(cpu, in->reg, &d);
	}
	return true;
}

/* 0F 71-73 /r ib: shift the r/m register by an immediate. */
static void simd_shift_imm(struct soft_cpu *cpu, struct insn *in, bool xmm)
{
	unsigned esize, kind;
	union xmm d;

	/* 71: words, 72: dwords, 73: qwords */
	esize = (in->op & 0xff) == 0x71 ? 2 : (in->op & 0xff) == 0x72 ? 4 : 8;
	if (in->mod != 3)
		undefined_opcode(cpu);
	switch (in->reg) {
	case 2:
		kind = 0;
		break;
	case 4:
		if (esize == 8)
			undefined_opcode(cpu);
		kind = 1;
		break;
	case 6:
		kind = 2;
		break;
	case 3: /* PSRLDQ */
	case 7: /* PSLLDQ */
		if (esize != 8 || !xmm)
			undefined_opcode(cpu);
		kind = in->reg == 3 ? 0 : 2;
		esize = 16;
		break;
	default:
		undefined_opcode(cpu);
	}
	if (xmm) {
		sse_check(cpu);
		d = xmm_get(cpu, in->rm);
		psimd_shift(&d, kind, esize, (u8)in->imm, 16);
		xmm_set(cpu, in->rm, &d);
	} else {
		mmx_check(cpu);
		d = mm_get(cpu, in->rm);
		psimd_shift(&d, kind, esize, (u8)in->imm, 8);
		mm_set(cpu, in->rm, &d);
	}
}

static u32 byte_signs(const union xmm *v, unsigned n)
{
	u32 m = 0;

	for (unsigned i = 0; i < n; i++)
		m |= (u32)(v->ub[i] >> 7) << i;
	return m;
}

static void exec_pshuf(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 imm = (u8)in->imm;
	union xmm s, d;
	unsigned i;

	if (pfx == PFX_NONE) { /* PSHUFW */
		mmx_check(cpu);
		s = mmx_rm(cpu, in);
		for (i = 0; i < 4; i++)
			d.uw[i] = s.uw[(imm >> (2 * i)) & 3];
		mm_set(cpu, in->reg, &d);
		return;
	}
	sse_check(cpu);
	s = sse_rm(cpu, in, 16, true);
	d = s;
	for (i = 0; i < 4; i++) {
		unsigned sel = (imm >> (2 * i)) & 3;

		if (pfx == PFX_66)
			d.ud[i] = s.ud[sel];
		else if (pfx == PFX_F3)
			d.uw[4 + i] = s.uw[4 + sel];
		else
			d.uw[i] = s.uw[sel];
	}
	xmm_set(cpu, in->reg, &d);
}

static void exec_maskmov(struct soft_cpu *cpu, struct insn *in, bool xmm)
{
	unsigned len = xmm ? 16 : 8, i;
	union xmm v, m;
	u64 edi = cpu->s.gpr[R_EDI] & size_mask(in->asize);

	if (in->mod != 3)
		undefined_opcode(cpu);
	if (xmm) {
		sse_check(cpu);
		v = xmm_get(cpu, in->reg);
		m = xmm_get(cpu, in->rm);
	} else {
		mmx_check(cpu);
		v = mm_get(cpu, in->reg);
		m = mm_get(cpu, in->rm);
		mmx_enter(cpu);
	}
	for (i = 0; i < len; i++)
		if (m.ub[i] & 0x80)
			mem_write8(cpu, in->seg, edi + i, v.ub[i]);
}

/* 0F 6E/7E/6F/7F/D6/E7 and friends: the MMX/SSE2 integer moves. */
static bool exec_int_move(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op;
	union xmm v = {0};

	switch (op << 2 | pfx) {
	case 0x6e << 2 | PFX_NONE: /* MOVD mm, r/m32; REX.W: MOVQ r/m64 */
		mmx_check(cpu);
		v.uq[0] = rm_read(cpu, in, in->osize == 8 ? 8 : 4);
		mm_set(cpu, in->reg, &v);
		break;
	case 0x6e << 2 | PFX_66: /* MOVD xmm, r/m32; REX.W: MOVQ r/m64 */
		sse_check(cpu);
		v.uq[0] = rm_read(cpu, in, in->osize == 8 ? 8 : 4);
		xmm_set(cpu, in->reg, &v);
		break;
	case 0x7e << 2 | PFX_NONE: /* MOVD r/m32, mm */
		mmx_check(cpu);
		v = mm_get(cpu, in->reg);
		if (in->osize == 8)
			rm_write(cpu, in, v.uq[0], 8);
		else
			rm_write(cpu, in, v.ud[0], 4);
		mmx_enter(cpu);
		break;
	case 0x7e << 2 | PFX_66: /* MOVD r/m32, xmm */
		sse_check(cpu);
		if (in->osize == 8)
			rm_write(cpu, in, xmm_get(cpu, in->reg).uq[0], 8);
		else
			rm_write(cpu, in, xmm_get(cpu, in->reg).ud[0], 4);
		break;
	case 0x7e << 2 | PFX_F3: /* MOVQ xmm, xmm/m64 */
		sse_check(cpu);
		v.uq[0] = sse_rm(cpu, in, 8, false).uq[0];
		xmm_set(cpu, in->reg, &v);
		break;
	case 0x6f << 2 | PFX_NONE: /* MOVQ mm, mm/m64 */
		mmx_check(cpu);
		v = mmx_rm(cpu, in);
		mm_set(cpu, in->reg, &v);
		break;
	case 0x6f << 2 | PFX_66: /* MOVDQA */
	case 0x6f << 2 | PFX_F3: /* MOVDQU */
		sse_check(cpu);
		v = sse_rm(cpu, in, 16, pfx == PFX_66);
		xmm_set(cpu, in->reg, &v);
		break;
	case 0x7f << 2 | PFX_NONE: /* MOVQ mm/m64, mm */
	case 0xe7 << 2 | PFX_NONE: /* MOVNTQ */
		mmx_check(cpu);
		if (op == 0xe7 && in->mod == 3)
			undefined_opcode(cpu);
		v = mm_get(cpu, in->reg);
		if (in->mod == 3)
			mm_set(cpu, in->rm, &v);
		else
			mem_store(cpu, in, &v, 8, false);
		mmx_enter(cpu);
		break;
	case 0x7f << 2 | PFX_66:
	case 0x7f << 2 | PFX_F3:
	case 0xe7 << 2 | PFX_66: /* MOVNTDQ */
		sse_check(cpu);
		if (op == 0xe7 && in->mod == 3)
			undefined_opcode(cpu);
		v = xmm_get(cpu, in->reg);
		sse_store(cpu, in, &v, 16, pfx == PFX_66);
		break;
	case 0xd6 << 2 | PFX_66: /* MOVQ xmm/m64, xmm */
		sse_check(cpu);
		v.uq[0] = xmm_get(cpu, in->reg).uq[0];
		sse_store(cpu, in, &v, 8, false);
		break;
	case 0xd6 << 2 | PFX_F3: /* MOVQ2DQ xmm, mm */
		if (in->mod != 3)
			undefined_opcode(cpu);
		sse_check(cpu);
		mmx_check(cpu);
		v.uq[0] = mm_get(cpu, in->rm).uq[0];
		xmm_set(cpu, in->reg, &v);
		mmx_enter(cpu);
		break;
	case 0xd6 << 2 | PFX_F2: /* MOVDQ2Q mm, xmm */
		if (in->mod != 3)
			undefined_opcode(cpu);
		sse_check(cpu);
		mmx_check(cpu);
		v.uq[0] = xmm_get(cpu, in->rm).uq[0];
		mm_set(cpu, in->reg, &v);
		break;
	case 0xf0 << 2 | PFX_F2: /* LDDQU */
		if (in->mod == 3)
			undefined_opcode(cpu);
		sse_check(cpu);
		v = mem_load(cpu, in, 16, false);
		xmm_set(cpu, in->reg, &v);
		break;
	default:
		return false;
	}
	return true;
}

static void exec_pinsr_pextr_w(struct soft_cpu *cpu, struct insn *in, bool xmm)
{
	unsigned n = xmm ? 8 : 4, sel = (u8)in->imm & (n - 1);
	union xmm v;

	if ((in->op & 0xff) == 0xc5) { /* PEXTRW r32, mm/xmm, ib */
		if (in->mod != 3)
			undefined_opcode(cpu);
		xmm ? sse_check(cpu) : mmx_check(cpu);
		v = xmm ? xmm_get(cpu, in->rm) : mm_get(cpu, in->rm);
		if (!xmm)
			mmx_enter(cpu);
		cpu->s.gpr[in->reg] = v.uw[sel];
		return;
	}
	/* PINSRW mm/xmm, r32/m16, ib */
	xmm ? sse_check(cpu) : mmx_check(cpu);
	v = xmm ? xmm_get(cpu, in->reg) : mm_get(cpu, in->reg);
	v.uw[sel] = (u16)rm_read(cpu, in, 2);
	if (xmm)
		xmm_set(cpu, in->reg, &v);
	else
		mm_set(cpu, in->reg, &v);
}

/* 0F 10-17, 28, 29, 2B, 50, 54-57, C6, D7: SSE moves and bit logic. */
static bool exec_sse_move(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op;
	union xmm d, s;
	bool reg = in->mod == 3;

	switch (op << 2 | pfx) {
	case 0x10 << 2 | PFX_NONE: /* MOVUPS, MOVUPD */
	case 0x10 << 2 | PFX_66:
	case 0x28 << 2 | PFX_NONE: /* MOVAPS, MOVAPD */
	case 0x28 << 2 | PFX_66:
		sse_check(cpu);
		d = sse_rm(cpu, in, 16, op == 0x28);
		xmm_set(cpu, in->reg, &d);
		break;
	case 0x11 << 2 | PFX_NONE:
	case 0x11 << 2 | PFX_66:
	case 0x29 << 2 | PFX_NONE:
	case 0x29 << 2 | PFX_66:
	case 0x2b << 2 | PFX_NONE: /* MOVNTPS, MOVNTPD */
	case 0x2b << 2 | PFX_66:
		if (op == 0x2b && reg)
			undefined_opcode(cpu);
		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		sse_store(cpu, in, &d, 16, op != 0x11);
		break;
	case 0x10 << 2 | PFX_F3: /* MOVSS, MOVSD */
	case 0x10 << 2 | PFX_F2:
		sse_check(cpu);
		d = reg ? xmm_get(cpu, in->reg) : (union xmm){0};
		s = sse_rm(cpu, in, pfx == PFX_F3 ? 4 : 8, false);
		memcpy(d.ub, s.ub, pfx == PFX_F3 ? 4 : 8);
		xmm_set(cpu, in->reg, &d);
		break;
	case 0x11 << 2 | PFX_F3:
	case 0x11 << 2 | PFX_F2:
		sse_check(cpu);
		s = xmm_get(cpu, in->reg);
		if (reg) {
			d = xmm_get(cpu, in->rm);
			memcpy(d.ub, s.ub, pfx == PFX_F3 ? 4 : 8);
			xmm_set(cpu, in->rm, &d);
		} else {
			mem_store(cpu, in, &s, pfx == PFX_F3 ? 4 : 8, false);
		}
		break;
	case 0x12 << 2 | PFX_NONE: /* MOVHLPS / MOVLPS xmm, m64 */
	case 0x12 << 2 | PFX_66:   /* MOVLPD */
	case 0x16 << 2 | PFX_NONE: /* MOVLHPS / MOVHPS xmm, m64 */
	case 0x16 << 2 | PFX_66:   /* MOVHPD */
		if (pfx == PFX_66 && reg)
			undefined_opcode(cpu);
		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 8, false);
		if (op == 0x12)
			d.uq[0] = reg ? s.uq[1] : s.uq[0];
		else
			d.uq[1] = s.uq[0];
		xmm_set(cpu, in->reg, &d);
		break;
	case 0x13 << 2 | PFX_NONE: /* MOVLPS/MOVLPD m64, xmm */
	case 0x13 << 2 | PFX_66:
	case 0x17 << 2 | PFX_NONE: /* MOVHPS/MOVHPD m64, xmm */
	case 0x17 << 2 | PFX_66:
		if (reg)
			undefined_opcode(cpu);
		sse_check(cpu);
		s = xmm_get(cpu, in->reg);
		d.uq[0] = s.uq[op == 0x17];
		mem_store(cpu, in, &d, 8, false);
		break;
	case 0x12 << 2 | PFX_F3: /* MOVSLDUP */
	case 0x16 << 2 | PFX_F3: /* MOVSHDUP */
		sse_check(cpu);
		s = sse_rm(cpu, in, 16, true);
		for (unsigned i = 0; i < 4; i++)
			d.ud[i] = s.ud[(i & ~1u) + (op == 0x16)];
		xmm_set(cpu, in->reg, &d);
		break;
	case 0x12 << 2 | PFX_F2: /* MOVDDUP */
		sse_check(cpu);
		s = sse_rm(cpu, in, 8, false);
		d.uq[0] = d.uq[1] = s.uq[0];
		xmm_set(cpu, in->reg, &d);
		break;
	case 0x14 << 2 | PFX_NONE: /* UNPCKLPS, UNPCKHPS, ...PD */
	case 0x15 << 2 | PFX_NONE:
	case 0x14 << 2 | PFX_66:
	case 0x15 << 2 | PFX_66:
		simd_binary(cpu, in,
			    sse_int_op(pfx == PFX_66 ?
					       (op == 0x14 ? 0x16c : 0x16d) :
					       (op == 0x14 ? 0x162 : 0x16a),
				       true),
			    true);
		break;
	case 0x50 << 2 | PFX_NONE: /* MOVMSKPS, MOVMSKPD */
	case 0x50 << 2 | PFX_66:
		if (!reg)
			undefined_opcode(cpu);
		sse_check(cpu);
		s = xmm_get(cpu, in->rm);
		cpu->s.gpr[in->reg] =
			pfx == PFX_66 ?
				(u32)(s.uq[0] >> 63 | s.uq[1] >> 63 << 1) :
				(s.ud[0] >> 31 | s.ud[1] >> 31 << 1 |
				 s.ud[2] >> 31 << 2 | s.ud[3] >> 31 << 3);
		break;
	case 0x54 << 2 | PFX_NONE: /* ANDPS ANDNPS ORPS XORPS and PD */
	case 0x55 << 2 | PFX_NONE:
	case 0x56 << 2 | PFX_NONE:
	case 0x57 << 2 | PFX_NONE:
	case 0x54 << 2 | PFX_66:
	case 0x55 << 2 | PFX_66:
	case 0x56 << 2 | PFX_66:
	case 0x57 << 2 | PFX_66: {
		static const u16 as_int[4] = {0x1db, 0x1df, 0x1eb, 0x1ef};

		simd_binary(cpu, in, sse_int_op(as_int[op - 0x54], true), true);
		break;
	}
	case 0xc6 << 2 | PFX_NONE: { /* SHUFPS */
		u8 imm = (u8)in->imm;

		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 16, true);
		d = (union xmm){.ud = {d.ud[imm & 3], d.ud[imm >> 2 & 3],
				       s.ud[imm >> 4 & 3], s.ud[imm >> 6]}};
		xmm_set(cpu, in->reg, &d);
		break;
	}
	case 0xc6 << 2 | PFX_66: { /* SHUFPD */
		u8 imm = (u8)in->imm;

		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 16, true);
		d = (union xmm){.uq = {d.uq[imm & 1], s.uq[imm >> 1 & 1]}};
		xmm_set(cpu, in->reg, &d);
		break;
	}
	case 0xd7 << 2 | PFX_NONE: /* PMOVMSKB */
	case 0xd7 << 2 | PFX_66:
		if (!reg)
			undefined_opcode(cpu);
		if (pfx == PFX_66) {
			sse_check(cpu);
			s = xmm_get(cpu, in->rm);
		} else {
			mmx_check(cpu);
			s = mm_get(cpu, in->rm);
			mmx_enter(cpu);
		}
		cpu->s.gpr[in->reg] = byte_signs(&s, pfx == PFX_66 ? 16 : 8);
		break;
	default:
		return false;
	}
	return true;
}

static void exec_popcnt(struct soft_cpu *cpu, struct insn *in)
{
	u64 v = rm_read(cpu, in, in->osize);

	reg_write(cpu, in->reg, (u64)__builtin_popcountll(v), in->osize);
	set_arith_flags(cpu, v ? 0 : FL_ZF);
}

static void exec_crc32(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = (in->op & 1) ? in->osize : 1;
	u64 v = rm_read(cpu, in, size);

	cpu->s.gpr[in->reg] = crc32c((u32)cpu->s.gpr[in->reg], v, size);
}

/* --- 0F 38 --- */

static bool exec_0f38(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op;
	union xmm d, s, m;
	unsigned i;

	if ((op == 0xf0 || op == 0xf1) && pfx == PFX_F2) {
		exec_crc32(cpu, in);
		return true;
	}
	if (pfx == PFX_NONE || pfx == PFX_66) {
		simd_fn fn = sse_int_op(0x200 | op, pfx == PFX_66);

		if (fn) {
			simd_binary(cpu, in, fn, pfx == PFX_66);
			return true;
		}
	}
	if (pfx != PFX_66)
		return false;
	switch (op) {
	case 0x10: /* PBLENDVB, BLENDVPS, BLENDVPD: mask in XMM0 */
	case 0x14:
	case 0x15: {
		unsigned es = op == 0x10 ? 1 : op == 0x14 ? 4 : 8;

		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 16, true);
		m = xmm_get(cpu, 0);
		for (i = 0; i < 16; i += es)
			if (m.ub[i + es - 1] & 0x80)
				memcpy(d.ub + i, s.ub + i, es);
		xmm_set(cpu, in->reg, &d);
		return true;
	}
	case 0x17: /* PTEST */
		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 16, true);
		set_arith_flags(cpu,
				(!((d.uq[0] & s.uq[0]) | (d.uq[1] & s.uq[1])) ?
					 FL_ZF :
					 0) |
					(!((~d.uq[0] & s.uq[0]) |
					   (~d.uq[1] & s.uq[1])) ?
						 FL_CF :
						 0));
		return true;
	case 0x20 ... 0x25:
	case 0x30 ... 0x35: {
		static const u8 src_len[6] = {8, 4, 2, 8, 4, 8};

		sse_check(cpu);
		s = sse_rm(cpu, in, src_len[op & 0xf], false);
		pmovx(&d, &s, op);
		xmm_set(cpu, in->reg, &d);
		return true;
	}
	case 0x2a: /* MOVNTDQA */
		if (in->mod == 3)
			undefined_opcode(cpu);
		sse_check(cpu);
		d = mem_load(cpu, in, 16, true);
		xmm_set(cpu, in->reg, &d);
		return true;
	case 0x41:
		sse_check(cpu);
		s = sse_rm(cpu, in, 16, true);
		phminposuw(&d, &s);
		xmm_set(cpu, in->reg, &d);
		return true;
	default:
		return false;
	}
}

/* --- 0F 3A --- */

static void exec_pextr(struct soft_cpu *cpu, struct insn *in)
{
	static const u8 size[4] = {1, 2, 4, 4};
	u8 op = (u8)in->op, imm = (u8)in->imm;
	unsigned n = (op & 3) == 2 && in->osize == 8 ? 8 : size[op & 3];
	union xmm s;
	u64 v = 0; /* PEXTRQ with REX.W */

	sse_check(cpu);
	s = xmm_get(cpu, in->reg);
	memcpy(&v, s.ub + (imm & (16 / n - 1)) * n, n);
	if (in->mod == 3)
		cpu->s.gpr[in->rm] = v;
	else
		mem_write_sz(cpu, in->seg, cpu->ea, v, n);
}

static void exec_pinsr(struct soft_cpu *cpu, struct insn *in)
{
	u8 op = (u8)in->op, imm = (u8)in->imm;
	union xmm d, s;

	sse_check(cpu);
	d = xmm_get(cpu, in->reg);
	if (op == 0x21) { /* INSERTPS */
		u32 v = in->mod == 3 ? xmm_get(cpu, in->rm).ud[imm >> 6] :
				       mem_read32(cpu, in->seg, cpu->ea);

		d.ud[imm >> 4 & 3] = v;
		for (unsigned i = 0; i < 4; i++)
			if (imm & BIT(i))
				d.ud[i] = 0;
	} else if (op == 0x20) { /* PINSRB */
		/* a register source is r32 (its low byte), not AH-BH */
		d.ub[imm & 15] = in->mod == 3 ?
					 (u8)cpu->s.gpr[in->rm] :
					 mem_read8(cpu, in->seg, cpu->ea);
	} else if (in->osize == 8) { /* PINSRQ */
		d.uq[imm & 1] = rm_read(cpu, in, 8);
	} else { /* PINSRD */
		s.ud[0] = rm_read(cpu, in, 4);
		d.ud[imm & 3] = s.ud[0];
	}
	xmm_set(cpu, in->reg, &d);
}

/*
 * An explicit length of PCMPESTRI/M: EAX/EDX, or RAX/RDX with REX.W
 * (SDM vol. 2, 4.1.7); clamped to +-16, which pcmpstr() saturates the
 * same way as the full value.
 */
static s32 pcmpstr_len(const struct soft_cpu *cpu, const struct insn *in,
		       int reg)
{
	s64 v = in->osize == 8 ? (s64)cpu->s.gpr[reg] : (s32)cpu->s.gpr[reg];

	return v > 16 ? 16 : v < -16 ? -16 : (s32)v;
}

static void exec_pcmpstr(struct soft_cpu *cpu, struct insn *in)
{
	u8 op = (u8)in->op, imm = (u8)in->imm;
	bool expl = !(op & 2), mask = !(op & 1);
	union xmm a, b, m;
	u32 index = 0, flags;

	sse_check(cpu);
	a = xmm_get(cpu, in->reg);
	b = sse_rm(cpu, in, 16, false);
	flags = pcmpstr(&a, &b, imm, expl, pcmpstr_len(cpu, in, R_EAX),
			pcmpstr_len(cpu, in, R_EDX), mask, &m, &index);
	if (mask)
		xmm_set(cpu, 0, &m);
	else
		cpu->s.gpr[R_ECX] = index;
	set_arith_flags(cpu, flags);
}

static bool exec_0f3a(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op, imm = (u8)in->imm;
	union xmm d, s;
	unsigned i;

	if (op == 0x0f && pfx == PFX_NONE) { /* PALIGNR mm */
		mmx_check(cpu);
		d = mm_get(cpu, in->reg);
		s = mmx_rm(cpu, in);
		palignr(&d, &s, 8, imm);
		mm_set(cpu, in->reg, &d);
		return true;
	}
	if (pfx != PFX_66)
		return false;
	switch (op) {
	case 0x0c: /* BLENDPS, BLENDPD, PBLENDW, PALIGNR, MPSADBW */
	case 0x0d:
	case 0x0e:
	case 0x0f:
	case 0x42:
		sse_check(cpu);
		d = xmm_get(cpu, in->reg);
		s = sse_rm(cpu, in, 16, true);
		if (op == 0x0c) {
			for (i = 0; i < 4; i++)
				if (imm & BIT(i))
					d.ud[i] = s.ud[i];
		} else if (op == 0x0d) {
			for (i = 0; i < 2; i++)
				if (imm & BIT(i))
					d.uq[i] = s.uq[i];
		} else if (op == 0x0e) {
			pblendw(&d, &s, imm);
		} else if (op == 0x0f) {
			palignr(&d, &s, 16, imm);
		} else {
			mpsadbw(&d, &s, imm);
		}
		xmm_set(cpu, in->reg, &d);
		return true;
	case 0x14 ... 0x17:
		exec_pextr(cpu, in);
		return true;
	case 0x20 ... 0x22:
		exec_pinsr(cpu, in);
		return true;
	case 0x60 ... 0x63:
		exec_pcmpstr(cpu, in);
		return true;
	default:
		return false;
	}
}

/* --- the 0F map --- */

static bool exec_0f_simd(struct soft_cpu *cpu, struct insn *in, unsigned pfx)
{
	u8 op = (u8)in->op;
	simd_fn fn;

	if (pfx == PFX_NONE || pfx == PFX_66) {
		fn = sse_int_op(in->op, pfx == PFX_66);
		if (fn) {
			simd_binary(cpu, in, fn, pfx == PFX_66);
			return true;
		}
		if ((op >= 0xd1 && op <= 0xd3) || (op >= 0xe1 && op <= 0xe2) ||
		    (op >= 0xf1 && op <= 0xf3))
			return simd_shift_reg(cpu, in, pfx == PFX_66);
	}
	if (exec_sse_move(cpu, in, pfx) || exec_int_move(cpu, in, pfx))
		return true;
	switch (op << 2 | pfx) {
	case 0x70 << 2 | PFX_NONE:
	case 0x70 << 2 | PFX_66:
	case 0x70 << 2 | PFX_F3:
	case 0x70 << 2 | PFX_F2:
		exec_pshuf(cpu, in, pfx);
		return true;
	case 0x71 << 2 | PFX_NONE:
	case 0x72 << 2 | PFX_NONE:
	case 0x73 << 2 | PFX_NONE:
	case 0x71 << 2 | PFX_66:
	case 0x72 << 2 | PFX_66:
	case 0x73 << 2 | PFX_66:
		simd_shift_imm(cpu, in, pfx == PFX_66);
		return true;
	case 0x77 << 2 | PFX_NONE: /* EMMS: every tag empty, TOP 0 */
		mmx_check(cpu);
		mmx_enter(cpu); /* SDM vol. 1, table 9-3: TOP = 0 here too */
		cpu->s.fpu.ftw = 0xffff;
		return true;
	case 0xb8 << 2 | PFX_F3:
		exec_popcnt(cpu, in);
		return true;
	case 0xc3 << 2 | PFX_NONE: /* MOVNTI */
		if (in->mod == 3)
			undefined_opcode(cpu);
		if (in->osize == 8) /* REX.W: MOVNTI m64, r64 */
			mem_write64(cpu, in->seg, cpu->ea, cpu->s.gpr[in->reg]);
		else
			mem_write32(cpu, in->seg, cpu->ea,
				    (u32)cpu->s.gpr[in->reg]);
		return true;
	case 0xc4 << 2 | PFX_NONE:
	case 0xc5 << 2 | PFX_NONE:
	case 0xc4 << 2 | PFX_66:
	case 0xc5 << 2 | PFX_66:
		exec_pinsr_pextr_w(cpu, in, pfx == PFX_66);
		return true;
	case 0xf7 << 2 | PFX_NONE:
	case 0xf7 << 2 | PFX_66:
		exec_maskmov(cpu, in, pfx == PFX_66);
		return true;
	default:
		return sse_fp_exec(cpu, in, 1, pfx);
	}
}

/* Opcodes of the 0F map that belong to MMX/SSE (with any prefix). */
static bool is_simd_0f(u8 op)
{
	switch (op) {
	case 0x10 ... 0x17:
	case 0x28 ... 0x2f:
	case 0x50 ... 0x77:
	case 0x7c ... 0x7f:
	case 0xb8:
	case 0xc2 ... 0xc6:
	case 0xd0 ... 0xff:
		return true;
	default:
		return false;
	}
}

bool sse_exec(struct soft_cpu *cpu, struct insn *in)
{
	unsigned map = in->op >> 8, pfx = mandatory_prefix(cpu, in);
	bool done;

	if (map == 1) {
		if (!is_simd_0f((u8)in->op))
			return false;
		if ((u8)in->op == 0xb8 && pfx != PFX_F3)
			return false; /* JMPE: #UD in exec_0f */
		done = exec_0f_simd(cpu, in, pfx);
	} else if (map == 2) {
		done = exec_0f38(cpu, in, pfx);
	} else {
		done = exec_0f3a(cpu, in, pfx) || sse_fp_exec(cpu, in, 3, pfx);
	}
	if (!done)
		undefined_opcode(cpu);
	return true;
}

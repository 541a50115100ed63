// SPDX-License-Identifier: MIT
/*
 * Instruction decoder: prefixes, opcode, ModR/M, SIB, displacement and
 * immediates into struct insn (Intel SDM vol. 2, chapter 2 and appendix A
 * opcode maps). Effective addresses are computed at execution time from
 * the decoded base/index/scale/displacement, so a decoded instruction can
 * be executed again with other register values.
 */
#include "cpu/soft/cpu.h"

enum {
	D_MODRM = BIT(0),
	D_IB = BIT(1), /* 8-bit immediate */
	D_IV = BIT(2), /* 16/32-bit immediate per operand size */
	D_IW = BIT(3), /* 16-bit immediate */
	D_PTR = BIT(4), /* far pointer: offset (osize) then selector */
	D_MOFFS = BIT(5), /* offset of address size, no ModR/M */
	D_GRP3 = BIT(6), /* F6/F7: immediate only for /0 and /1 */
};

#define M D_MODRM
static const u8 one_byte[256] = {
	/* 00 */ M, M, M, M, D_IB, D_IV, 0, 0, M, M, M, M, D_IB, D_IV, 0, 0,
	/* 10 */ M, M, M, M, D_IB, D_IV, 0, 0, M, M, M, M, D_IB, D_IV, 0, 0,
	/* 20 */ M, M, M, M, D_IB, D_IV, 0, 0, M, M, M, M, D_IB, D_IV, 0, 0,
	/* 30 */ M, M, M, M, D_IB, D_IV, 0, 0, M, M, M, M, D_IB, D_IV, 0, 0,
	/* 40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 60 */ 0, 0, M, M, 0, 0, 0, 0, D_IV, M | D_IV, D_IB, M | D_IB,
	0, 0, 0, 0,
	/* 70 */ D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB,
	D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB,
	/* 80 */ M | D_IB, M | D_IV, M | D_IB, M | D_IB, M, M, M, M,
	M, M, M, M, M, M, M, M,
	/* 90 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_PTR, 0, 0, 0, 0, 0,
	/* A0 */ D_MOFFS, D_MOFFS, D_MOFFS, D_MOFFS, 0, 0, 0, 0,
	D_IB, D_IV, 0, 0, 0, 0, 0, 0,
	/* B0 */ D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB,
	D_IV, D_IV, D_IV, D_IV, D_IV, D_IV, D_IV, D_IV,
	/* C0 */ M | D_IB, M | D_IB, D_IW, 0, M, M, M | D_IB, M | D_IV,
	D_IW | D_IB, 0, D_IW, 0, 0, D_IB, 0, 0,
	/* D0 */ M, M, M, M, D_IB, D_IB, 0, 0, M, M, M, M, M, M, M, M,
	/* E0 */ D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB, D_IB,
	D_IV, D_IV, D_PTR, D_IB, 0, 0, 0, 0,
	/* F0 */ 0, 0, 0, 0, 0, 0, M | D_GRP3, M | D_GRP3,
	0, 0, 0, 0, 0, 0, M, M,
};

/* Two-byte map (0F xx): which opcodes take ModR/M and immediates. */
static u8 two_byte_flags(u8 op)
{
	switch (op) {
	case 0x00 ... 0x03:
	case 0x0d:
	case 0x10 ... 0x17:
	case 0x18 ... 0x1f:
	case 0x20 ... 0x23:
	case 0x28 ... 0x2f:
	case 0x40 ... 0x4f:
	case 0x50 ... 0x6f:
	case 0x74 ... 0x76:
	case 0x78 ... 0x7f: /* 0F 77 EMMS takes no ModR/M */
	case 0x90 ... 0x9f:
	case 0xa3:
	case 0xa5:
	case 0xab:
	case 0xad ... 0xaf:
	case 0xb0 ... 0xb9:
	case 0xbb ... 0xc1:
	case 0xc3:
	case 0xc7:
	case 0xd0 ... 0xff:
		return M;
	case 0x70 ... 0x73:
	case 0xa4:
	case 0xac:
	case 0xba:
	case 0xc2:
	case 0xc4 ... 0xc6:
		return M | D_IB;
	case 0x80 ... 0x8f:
		return D_IV;
	default:
		return 0;
	}
}
#undef M

struct fetcher {
	struct soft_cpu *cpu;
	u64 start;
	u64 mask; /* 0xFFFF: IP wraps in 16-bit code */
	unsigned n;
};

static u8 next8(struct fetcher *f)
{
	u8 b;

	/*
	 * SDM vol. 2, 2.3.11: instructions longer than 15 bytes fault; the
	 * 286 allows 10 (80286 PRM, 2.4); the 8086 has no limit.
	 */
	if (f->n >= (is_286_or_older(f->cpu) ? 10u : 15u) && !is_8086(f->cpu))
		cpu_fault(f->cpu, EXC_GP, 0);
	b = fetch8(f->cpu, (f->start + f->n) & f->mask);
	f->n++;
	return b;
}

static u16 next16(struct fetcher *f)
{
	u16 lo = next8(f);

	return (u16)(lo | next8(f) << 8);
}

static u32 next32(struct fetcher *f)
{
	u32 lo = next16(f);

	return lo | (u32)next16(f) << 16;
}

static u64 next64(struct fetcher *f)
{
	u64 lo = next32(f);

	return lo | (u64)next32(f) << 32;
}

/* An immediate of the operand size; 64-bit operands take a sign-extended
 * imm32 (SDM vol. 2, 2.2.1.5). */
static u64 next_sz(struct fetcher *f, unsigned size)
{
	if (size == 8)
		return (u64)(s64)(s32)next32(f);
	return size == 4 ? next32(f) : size == 2 ? next16(f) : next8(f);
}

/* 16-bit ModR/M (SDM vol. 2, table 2-1). */
static void decode_modrm16(struct fetcher *f, struct insn *in)
{
	static const s8 base[8] = { R_EBX, R_EBX, R_EBP, R_EBP,
				    R_ESI, R_EDI, R_EBP, R_EBX };
	static const s8 index[8] = { R_ESI, R_EDI, R_ESI, R_EDI,
				     -1, -1, -1, -1 };

	in->base = base[in->rm];
	in->index = index[in->rm];
	in->scale = 0;
	if (in->mod == 0 && in->rm == 6) {
		in->base = -1;
		in->disp = next16(f);
	} else if (in->mod == 1) {
		in->disp = (u32)(s32)(s8)next8(f);
	} else if (in->mod == 2) {
		in->disp = next16(f);
	}
	if (!in->seg_override && in->base == R_EBP)
		in->seg = S_SS;
}

/*
 * 32- and 64-bit ModR/M with SIB (SDM vol. 2, tables 2-2 and 2-3, and
 * 2.2.1: REX.B extends the base, REX.X the index; the special encodings
 * look at the low three bits only, and in 64-bit mode mod 00 r/m 101 is
 * RIP-relative).
 */
static void decode_modrm32(struct fetcher *f, struct insn *in, bool code64)
{
	unsigned rex_b = (in->rex & 1) << 3, rex_x = (in->rex & 2) << 2;

	in->base = (s8)(in->rm | rex_b);
	in->index = -1;
	in->scale = 0;
	if (in->rm == 4) {
		u8 sib = next8(f);
		u8 idx = ((sib >> 3) & 7) | rex_x;

		in->scale = sib >> 6;
		in->index = idx == 4 ? -1 : (s8)idx;
		in->base = (s8)((sib & 7) | rex_b);
		if ((sib & 7) == R_EBP && in->mod == 0) {
			in->base = -1;
			in->disp = next32(f);
		}
	} else if (in->mod == 0 && in->rm == 5) {
		in->base = code64 ? BASE_RIP : -1;
		in->disp = next32(f);
	}
	if (in->mod == 1)
		in->disp = (u32)(s32)(s8)next8(f);
	else if (in->mod == 2)
		in->disp = next32(f);
	if (!in->seg_override && (in->base == R_ESP || in->base == R_EBP))
		in->seg = S_SS;
}

static void decode_modrm(struct fetcher *f, struct insn *in, bool code64)
{
	u8 modrm = next8(f);

	in->has_modrm = true;
	in->mod = modrm >> 6;
	in->reg = ((modrm >> 3) & 7) | (in->rex & 4) << 1;
	in->rm = modrm & 7;
	in->disp = 0;
	if (in->mod == 3) {
		in->rm |= (in->rex & 1) << 3;
		return;
	}
	if (in->asize == 2)
		decode_modrm16(f, in);
	else
		decode_modrm32(f, in, code64);
}

/* Returns true when b was a prefix (and records it). */
static bool decode_prefix(struct soft_cpu *cpu, struct insn *in, u8 b)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
		in->seg = (b >> 3) & 3;
		in->seg_override = true;
		return true;
	case 0x64:
	case 0x65:
		if (is_286_or_older(cpu))
			return false;
		in->seg = b == 0x64 ? S_FS : S_GS;
		in->seg_override = true;
		return true;
	case 0x66:
		if (is_286_or_older(cpu))
			return false;
		in->osize = cpu->code32 ? 2 : 4;
		in->opsize_prefix = true;
		return true;
	case 0x67:
		if (is_286_or_older(cpu))
			return false;
		in->asize = cpu->code64 ? 4 : cpu->code32 ? 2 : 4;
		return true;
	case 0xf0:
		in->lock = true;
		return true;
	case 0xf1: /* the 8086 and 286 decode F1 as another LOCK */
		if (!is_286_or_older(cpu))
			return false;
		in->lock = true;
		return true;
	case 0xf2:
	case 0xf3:
		in->rep = b;
		return true;
	default:
		return false;
	}
}

/* The 8086 decodes some opcodes of later processors as older ones. */
static u8 alias_8086(u8 op)
{
	if (op >= 0x60 && op <= 0x6f)
		return op + 0x10; /* Jcc */
	switch (op) {
	case 0xc0:
		return 0xc2;
	case 0xc1:
		return 0xc3;
	case 0xc8:
		return 0xca;
	case 0xc9:
		return 0xcb;
	default:
		return op;
	}
}

/*
 * 64-bit mode: opcodes whose operand size defaults to 64 bits (SDM vol.
 * 1, 3.6.1 and vol. 2, table B-1 notes): near branches, stack operations.
 */
static bool default64(const struct insn *in)
{
	switch (in->op) {
	case 0x50 ... 0x5f: /* PUSH, POP reg */
	case 0x68:
	case 0x6a:
	case 0x8f: /* POP r/m */
	case 0x9c:
	case 0x9d:
	case 0xc8:
	case 0xc9:
	case 0x1a0: /* PUSH FS, POP FS, PUSH GS, POP GS */
	case 0x1a1:
	case 0x1a8:
	case 0x1a9:
		return true;
	case 0xff: /* CALL, JMP, PUSH r/m */
		return in->reg == 2 || in->reg == 4 || in->reg == 6;
	default:
		return false;
	}
}

/* Near branches: 64-bit whatever 66h says (as Intel processors do). */
static bool branch64(const struct insn *in)
{
	switch (in->op) {
	case 0x70 ... 0x7f:
	case 0xc2:
	case 0xc3:
	case 0xe0 ... 0xe3:
	case 0xe8:
	case 0xe9:
	case 0xeb:
	case 0x180 ... 0x18f:
		return true;
	case 0xff:
		return in->reg == 2 || in->reg == 4;
	default:
		return false;
	}
}

/* ModR/M reg is an opcode extension (or a segment register): no REX.R. */
static bool reg_is_opcode(u16 op)
{
	switch (op) {
	case 0x80 ... 0x83:
	case 0x8c:
	case 0x8e:
	case 0x8f:
	case 0xc0:
	case 0xc1:
	case 0xc6:
	case 0xc7:
	case 0xd0 ... 0xdf:
	case 0xf6:
	case 0xf7:
	case 0xfe:
	case 0xff:
	case 0x100:
	case 0x101:
	case 0x118 ... 0x11f:
	case 0x171 ... 0x173:
	case 0x1ae:
	case 0x1ba:
	case 0x1c7:
		return true;
	default:
		return false;
	}
}

void decode(struct soft_cpu *cpu, struct insn *in)
{
	const bool code64 = cpu->code64;
	struct fetcher f = { cpu, cpu->s.rip,
			     code64	  ? ~0ull :
			     cpu->code32 ? 0xffffffffu :
					   0xffffu,
			     0 };
	u8 b, flags;

	in->osize = cpu->code32 ? 4 : 2;
	in->asize = code64 ? 8 : cpu->code32 ? 4 : 2;
	in->rex = 0;
	in->seg = S_DS;
	in->seg_override = false;
	in->rep = 0;
	in->lock = false;
	in->opsize_prefix = false;
	in->has_modrm = false;
	in->imm = in->imm2 = 0;
	in->base = in->index = -1;
	in->disp = 0;
	in->mod = in->reg = in->rm = 0;

	if (code64) {
		/*
		 * 40h-4Fh are REX prefixes; one counts only right before the
		 * opcode (SDM vol. 2, 2.2.1): a later prefix cancels it.
		 */
		for (;;) {
			b = next8(&f);
			if ((b & 0xf0) == 0x40) {
				in->rex = b;
				continue;
			}
			if (!decode_prefix(cpu, in, b))
				break;
			in->rex = 0;
		}
	} else {
		while (decode_prefix(cpu, in, b = next8(&f)))
			;
	}
	if (is_8086(cpu))
		b = alias_8086(b);
	if (b == 0x0f && !is_8086(cpu)) {
		b = next8(&f);
		in->op = 0x100 | b;
		flags = two_byte_flags(b);
		/* three-byte maps 0F 38 and 0F 3A (SDM vol. 2, A.3) */
		if ((b == 0x38 || b == 0x3a) && !is_286_or_older(cpu)) {
			in->op = (b == 0x38 ? 0x200 : 0x300) | next8(&f);
			flags = b == 0x38 ? D_MODRM : D_MODRM | D_IB;
		}
	} else {
		in->op = b;
		flags = one_byte[b];
	}
	if (in->rex & 8)
		in->osize = 8;
	if (flags & D_MODRM) {
		decode_modrm(&f, in, code64);
		if (in->rex && reg_is_opcode(in->op)) {
			in->reg &= 7;
			if (in->op >= 0xd8 && in->op <= 0xdf)
				in->rm &= 7; /* x87 ST(i) */
		}
	}
	if (code64 && ((in->osize == 4 && default64(in)) || branch64(in)))
		in->osize = 8;
	if (flags & D_GRP3 && in->reg < 2)
		flags |= in->op == 0xf6 ? D_IB : D_IV;
	if (flags & D_IW)
		in->imm = next16(&f);
	if (flags & D_IV) {
		/* MOV r64, imm64 is the one full 64-bit immediate */
		if (in->osize == 8 && in->op >= 0xb8 && in->op <= 0xbf)
			in->imm = next64(&f);
		else
			in->imm = next_sz(&f, in->osize == 8 ? 8 :
					  in->osize);
	}
	if (flags & D_PTR) {
		in->imm = next_sz(&f, in->osize == 8 ? 4 : in->osize);
		in->imm2 = next16(&f);
	}
	if (flags & D_MOFFS)
		in->disp = in->asize == 8 ? next64(&f) : next_sz(&f, in->asize);
	if (flags & D_IB) {
		if (flags & D_IW)
			in->imm2 = next8(&f);
		else
			in->imm = next8(&f);
	}
	in->len = (u8)f.n;
	in->fn = fast_handler(cpu, in);
}

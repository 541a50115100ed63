// SPDX-License-Identifier: MIT
/*
 * Block translator: one decoded block (soft/block.c) into one x86-64 host
 * function  unsigned f(struct soft_cpu *cpu, struct tlb_entry *tlb)
 * that runs the block's instructions in order and returns how many it
 * completed.
 *
 * Technique: templates over the interpreter's own state. Guest registers,
 * EIP and the lazy flags stay in struct soft_cpu (RBX points at it), so an
 * instruction the translator does not know is simply a direct call to its
 * executor (insn->fn, the interpreter's semantic reference), with the same
 * bookkeeping the interpreter loop does (insn_eip, insn_esp, cpu->in, EIP
 * of the next instruction). The hot integer subset is emitted natively:
 * register moves and ALU operations, LEA, MOVZX, loads and stores with the
 * segment check and the TLB probe inline (the same checks as
 * seg_linear() and lin_read32(): a miss of any kind calls the interpreter's
 * memory helpers, which fault or refill exactly as they do for it), PUSH
 * and POP, and the conditional branch that ends a block, taken straight
 * from the host flags when the guest's flag producer precedes it.
 *
 * Flags are kept in the interpreter's lazy form (struct lazy_flags), so a
 * fallback call, a fault or the end of the block sees what the
 * interpreter would. A native ALU operation skips recording them when the
 * next flag-touching instruction of the block is another native ALU
 * operation and nothing in between can fault or read them.
 *
 * Precision: native code never faults; only the slow path of a memory
 * access can, and it stores insn_eip, insn_esp, cpu->in and the next EIP
 * before calling the helper, so the unwinding in engine.c rewinds to the
 * faulting instruction with the registers of the instructions before it
 * already in memory.
 *
 * Register use in generated code: RBX cpu, R12D the code epoch at entry,
 * R13 the TLB half of the current privilege, EBP a memory operand's
 * offset, R14D a loaded or stored value; RAX, RCX, RDX scratch.
 */
#include <stddef.h>
#include <string.h>

#include "cpu/jit/emit.h"
#include "cpu/jit/translate.h"
#include "cpu/soft/alu.h"
#include "cpu/soft/block.h"

#define OFF(field) ((s32)offsetof(struct soft_cpu, field))
#define OFF_GPR(r) (OFF(s.gpr) + 8 * (s32)(r))
#define OFF_SEG(sg, f)                                                         \
	(OFF(s.seg) + (s32)(sizeof(struct x86_segment) * (sg)) +               \
	 (s32)offsetof(struct x86_segment, f))

_Static_assert(sizeof(struct tlb_entry) == 32, "TLB index is a shift by 5");
_Static_assert(sizeof(struct jit_ind) == 32, "jit_ind index is a shift by 5");
_Static_assert(BLOCK_LINES_MAX == BLOCK_MAX_LINES,
	       "jit_tc holds a block's lines");
_Static_assert(offsetof(struct lazy_flags, op) + 1 ==
		       offsetof(struct lazy_flags, size),
	       "op and size are stored as one word");

/* What the translator does with one instruction. */
enum nkind {
	NK_CALL, /* the executor, by a direct call */
	NK_MOV_RR,
	NK_MOV_RI,
	NK_MOVZX_R,
	NK_LEA,
	NK_ALU_RR, /* ALU/TEST register with register or immediate */
	NK_ALU_M,  /* the same with one operand in memory (read only) */
	NK_INCDEC, /* INC/DEC r32: CF kept, from the host flags or a helper */
	NK_SHIFT,  /* SHL/SHR/SAR r32 by a constant count, not 0 */
	NK_IMUL,   /* IMUL r32, r32 */
	NK_LOAD16, /* MOV r16, [m] and MOV [m], r16 */
	NK_STORE16,
	NK_LOAD,
	NK_STORE,
	NK_PUSH,
	NK_POP,
	NK_JCC,
};

struct tx {
	struct emit e;
	struct soft_cpu *cpu;
	struct jit *j;
	size_t base; /* of buf in the cache: slot offsets are the cache's */
	struct block *b;
	/*
	 * The translation's own copy of the block's instructions, which the
	 * executors and cpu->in are given: the block cache may reuse b while
	 * code linked to this translation still runs it.
	 */
	struct insn *insns;
	u32 eip[BLOCK_MAX_INSNS + 1]; /* of each insn, and the end */
	u8 kind[BLOCK_MAX_INSNS];
	size_t epilogue;
	/* Exits after instruction i when a store hit cached code. */
	struct {
		size_t site;
		unsigned i;
	} exits[BLOCK_MAX_INSNS];
	unsigned n_exits;
};

/* ALU operation (enum alu_op, the /reg of 80-83) of a native candidate. */
static int alu_op_of(const struct insn *in)
{
	if (in->op < 0x40)
		return in->op >> 3;
	if (in->op == 0x81 || in->op == 0x83)
		return in->reg;
	return ALU_AND; /* TEST */
}

static bool alu_native_op(int op)
{
	return op != ALU_ADC && op != ALU_SBB;
}

/* The ALU forms with 32-bit operands the translator emits. */
static enum nkind classify_alu(const struct insn *in)
{
	bool reg = in->mod == 3;

	switch (in->op) {
	case 0x01:
	case 0x09:
	case 0x21:
	case 0x29:
	case 0x31:
		return reg ? NK_ALU_RR :
			     NK_CALL; /* memory: read-modify-write */
	case 0x39:
	case 0x03:
	case 0x0b:
	case 0x23:
	case 0x2b:
	case 0x33:
	case 0x3b:
		return reg ? NK_ALU_RR : NK_ALU_M;
	case 0x05:
	case 0x0d:
	case 0x25:
	case 0x2d:
	case 0x35:
	case 0x3d:
	case 0xa9:
		return NK_ALU_RR;
	case 0x81:
	case 0x83:
		if (!alu_native_op(in->reg))
			return NK_CALL;
		/* memory forms other than CMP would write memory */
		return reg		  ? NK_ALU_RR :
		       in->reg == ALU_CMP ? NK_ALU_M :
					    NK_CALL;
	case 0x85:
		return reg ? NK_ALU_RR : NK_ALU_M;
	default:
		return NK_CALL;
	}
}

/* The count of SHL/SHR/SAR r32, imm8 or 1, as the executor masks it. */
static unsigned shift_count(const struct insn *in)
{
	return (in->op == 0xd1 ? 1 : in->imm) & 0x1f;
}

static enum nkind classify(const struct tx *t, const struct insn *in)
{
	bool reg = in->mod == 3;

	if (in->lock || in->rep)
		return NK_CALL;
	switch (in->op) {
	case 0x88:
		return reg ? NK_CALL : NK_STORE;
	case 0x8a:
		return reg ? NK_CALL : NK_LOAD;
	case 0x70 ... 0x7f:
	case 0x180 ... 0x18f:
		return NK_JCC;
	default:
		break;
	}
	if (in->osize == 2 && !reg && (in->op == 0x89 || in->op == 0x8b))
		return in->op == 0x89 ? NK_STORE16 : NK_LOAD16;
	if (in->osize != 4)
		return NK_CALL;
	switch (in->op) {
	case 0xc1:
	case 0xd1:
		return reg && in->reg >= 4 && shift_count(in) ? NK_SHIFT :
								NK_CALL;
	case 0x1af:
		return reg ? NK_IMUL : NK_CALL;
	case 0x89:
		return reg ? NK_MOV_RR : NK_STORE;
	case 0x8b:
		return reg ? NK_MOV_RR : NK_LOAD;
	case 0xb8 ... 0xbf:
		return NK_MOV_RI;
	case 0xc7:
		return !reg && in->reg == 0 ? NK_STORE : NK_CALL;
	case 0x8d:
		return reg ? NK_CALL : NK_LEA;
	case 0x1b6:
	case 0x1b7:
		return reg ? NK_MOVZX_R : NK_LOAD;
	case 0x40 ... 0x4f:
		return NK_INCDEC;
	case 0x50 ... 0x57:
		return t->cpu->stack32 ? NK_PUSH : NK_CALL;
	case 0x58 ... 0x5f:
		return t->cpu->stack32 ? NK_POP : NK_CALL;
	default:
		return classify_alu(in);
	}
}

/* Native, cannot fault, leaves guest flags and host flags alone. */
static bool kind_transparent(enum nkind k)
{
	return k == NK_MOV_RR || k == NK_MOV_RI || k == NK_MOVZX_R ||
	       k == NK_LEA;
}

/* Whether the host flags after instruction i survive until j. */
static bool host_flags_kept(const struct tx *t, unsigned i, unsigned j)
{
	unsigned k;

	if (t->kind[i] != NK_ALU_RR && t->kind[i] != NK_ALU_M &&
	    t->kind[i] != NK_INCDEC)
		return false;
	for (k = i + 1; k < j; k++)
		if (t->kind[k] != NK_MOV_RR && t->kind[k] != NK_MOV_RI &&
		    t->kind[k] != NK_MOVZX_R)
			return false;
	return true;
}

/* Whether the flags instruction i records are read before overwritten. */
static bool flags_live_after(const struct tx *t, unsigned i)
{
	unsigned j;

	for (j = i + 1; j < t->b->n; j++) {
		if (t->kind[j] == NK_ALU_RR || t->kind[j] == NK_SHIFT ||
		    t->kind[j] == NK_IMUL)
			return false;
		/* INC/DEC overwrite the record, taking CF from the host */
		if (t->kind[j] == NK_INCDEC && t->kind[i] != NK_CALL &&
		    host_flags_kept(t, i, j))
			return false;
		if (!kind_transparent(t->kind[j]))
			return true;
	}
	return true; /* the block's exit */
}

/* Byte offset of an 8-bit register (AL..BH) in the state. */
static s32 off_gpr8(unsigned r)
{
	return r < 4 ? OFF_GPR(r) : OFF_GPR(r - 4) + 1;
}

static void emit_op2_mem(struct emit *e, u8 op2, unsigned reg, s32 disp)
{
	emit_rex(e, false, reg, 0, H_RBX);
	emit8(e, 0x0f);
	emit8(e, op2);
	emit8(e, (u8)(0x80 | (reg & 7) << 3 | H_RBX));
	emit32(e, (u32)disp);
}

/* r32 = guest register (32-bit), and guest register = r64 (zero-extended) */
static void load_gpr(struct emit *e, unsigned h, unsigned r)
{
	emit_op_mem(e, false, 0x8b, h, H_RBX, OFF_GPR(r));
}

static void store_gpr(struct emit *e, unsigned r, unsigned h)
{
	emit_op_mem(e, true, 0x89, h, H_RBX, OFF_GPR(r));
}

/* What the interpreter loop stores before running instruction i. */
static void emit_insn_context(struct tx *t, unsigned i)
{
	struct emit *e = &t->e;

	emit_store_imm32(e, H_RBX, OFF(insn_eip), t->eip[i]);
	load_gpr(e, H_RAX, R_ESP);
	emit_op_mem(e, false, 0x89, H_RAX, H_RBX, OFF(insn_esp));
	emit_mov_ri64(e, H_RAX, (u64)(uintptr_t)&t->insns[i]);
	emit_op_mem(e, true, 0x89, H_RAX, H_RBX, OFF(in));
	emit_store_imm32(e, H_RBX, OFF(s.eip), t->eip[i + 1]);
}

static void emit_return(struct tx *t, unsigned count)
{
	emit_mov_ri(&t->e, H_RAX, count);
	emit_jmp_back(&t->e, t->epilogue);
}

/* After instruction i may have stored into cached code: leave if so. */
static void emit_epoch_check(struct tx *t, unsigned i)
{
	struct emit *e = &t->e;

	if (i + 1 >= t->b->n)
		return;
	emit_op_mem(e, false, 0x39, H_R12, H_RBX, OFF(icache.code_epoch));
	t->exits[t->n_exits].site = emit_jcc_fwd(e, CC_NE);
	t->exits[t->n_exits].i = i;
	t->n_exits++;
}

static void emit_fallback(struct tx *t, unsigned i)
{
	struct emit *e = &t->e;

	emit_insn_context(t, i);
	emit_op_rr(e, true, 0x89, H_RBX, H_RDI);
	emit_op_rr(e, true, 0x89, H_RAX, H_RSI);
	emit_call_abs(e, (const void *)t->b->insns[i].fn);
	emit_epoch_check(t, i);
}

/* EBP = offset of the memory operand (ea_compute()). */
static void emit_ea(struct emit *e, const struct insn *in)
{
	emit_mov_ri(e, H_RBP, in->disp);
	if (in->base >= 0)
		emit_op_mem(e, false, 0x03, H_RBP, H_RBX, OFF_GPR(in->base));
	if (in->index >= 0) {
		load_gpr(e, H_RAX, (unsigned)in->index);
		if (in->scale)
			emit_shift_ri(e, 4, H_RAX, in->scale);
		emit_op_rr(e, false, 0x01, H_RAX, H_RBP);
	}
	if (in->asize == 2) { /* movzx ebp, bp */
		emit8(e, 0x0f);
		emit8(e, 0xb7);
		emit8(e, 0xed);
	}
}

/*
 * The inline part of a memory access at seg:EBP of size bytes: the
 * checks of seg_linear()'s fast case and of the TLB probe. Leaves the
 * linear address in RAX and the TLB addend in RCX; the three jumps to the
 * slow path are returned in slow[].
 */
static void emit_probe(struct emit *e, unsigned seg, unsigned size, bool write,
		       size_t slow[3])
{
	s32 tag = write ? (s32)offsetof(struct tlb_entry, write_tag) :
			  (s32)offsetof(struct tlb_entry, read_tag);

	/* a present, expand-up, writable data segment, offset in limit */
	emit_op2_mem(e, 0xb7, H_RCX, OFF_SEG(seg, attr));
	emit_alu_ri(e, false, 4, H_RCX, SEG_FAST_MASK);
	emit_alu_ri(e, false, 7, H_RCX, SEG_FAST_RW);
	slow[0] = emit_jcc_fwd(e, CC_NE);
	emit_op_rr(e, false, 0x89, H_RBP, H_RCX);
	if (size > 1) { /* add rcx, size - 1 (64-bit: no wrap) */
		emit_op_rr(e, true, 0x83, 0, H_RCX);
		emit8(e, (u8)(size - 1));
	}
	emit_op_mem(e, false, 0x8b, H_RDX, H_RBX, OFF_SEG(seg, limit));
	emit_op_rr(e, true, 0x39, H_RDX, H_RCX);
	slow[1] = emit_jcc_fwd(e, CC_A);
	emit_op_rr(e, false, 0x89, H_RBP, H_RAX);
	emit_op_mem(e, false, 0x03, H_RAX, H_RBX, OFF_SEG(seg, base));
	/* the TLB set of the page; its tag must be the page of the last
	 * byte too (a page crossing misses: tags live at their own index) */
	emit_op_rr(e, false, 0x89, H_RAX, H_RCX);
	emit_shift_ri(e, 5, H_RCX, 12);
	emit_alu_ri(e, false, 4, H_RCX, TLB_SIZE - 1);
	emit_shift_ri(e, 4, H_RCX, 5);
	emit_op_rr(e, true, 0x01, H_R13, H_RCX);
	emit_op_rr(e, false, 0x89, H_RAX, H_RDX);
	if (size > 1) {
		emit_op_rr(e, false, 0x83, 0, H_RDX);
		emit8(e, (u8)(size - 1));
	}
	emit_alu_ri(e, false, 4, H_RDX, ~0xfffu);
	emit8(e, 0x48); /* cmp rdx, [rcx + tag]: tags are 64-bit */
	emit8(e, 0x3b);
	emit8(e, 0x51);
	emit8(e, (u8)tag);
	slow[2] = emit_jcc_fwd(e, CC_NE);
	emit8(e, 0x48); /* mov rcx, [rcx + addend] */
	emit8(e, 0x8b);
	emit8(e, 0x49);
	emit8(e, (u8)offsetof(struct tlb_entry, addend));
}

/* R14D = size bytes at seg:EBP, zero-extended. */
static void emit_load(struct tx *t, unsigned i, unsigned seg, unsigned size)
{
	struct emit *e = &t->e;
	size_t slow[3], done;
	unsigned k;

	emit_probe(e, seg, size, false, slow);
	emit8(e, 0x44); /* REX.R: r14 */
	if (size < 4)
		emit8(e, 0x0f);
	emit8(e, size == 4 ? 0x8b : size == 2 ? 0xb7 : 0xb6);
	emit8(e, 0x34); /* [rcx + rax] */
	emit8(e, 0x01);
	done = emit_jmp_fwd(e);
	for (k = 0; k < 3; k++)
		emit_bind(e, slow[k]);
	emit_insn_context(t, i);
	emit_op_rr(e, true, 0x89, H_RBX, H_RDI);
	emit_mov_ri(e, H_RSI, seg);
	emit_op_rr(e, false, 0x89, H_RBP, H_RDX);
	emit_mov_ri(e, H_RCX, size);
	emit_call_abs(e, (const void *)jit_load);
	emit_op_rr(e, false, 0x89, H_RAX, H_R14);
	emit_bind(e, done);
}

/* size bytes of R14D to seg:EBP. */
static void emit_store(struct tx *t, unsigned i, unsigned seg, unsigned size)
{
	struct emit *e = &t->e;
	size_t slow[3], done;
	unsigned k;

	emit_probe(e, seg, size, true, slow);
	if (size == 2)
		emit8(e, 0x66);
	emit8(e, 0x44);
	emit8(e, size == 1 ? 0x88 : 0x89);
	emit8(e, 0x34);
	emit8(e, 0x01);
	done = emit_jmp_fwd(e);
	for (k = 0; k < 3; k++)
		emit_bind(e, slow[k]);
	emit_insn_context(t, i);
	emit_op_rr(e, true, 0x89, H_RBX, H_RDI);
	emit_mov_ri(e, H_RSI, seg);
	emit_op_rr(e, false, 0x89, H_RBP, H_RDX);
	emit_op_rr(e, false, 0x89, H_R14, H_RCX);
	emit_mov_ri(e, H_R8, size);
	emit_call_abs(e, (const void *)jit_store);
	emit_bind(e, done);
}

/*
 * EAX op= ECX with the guest's flags in the host flags, recorded lazily
 * as lazy_record() does when live; the result is stored unless CMP/TEST.
 */
static void emit_alu(struct tx *t, unsigned i, int op, bool test, int dst)
{
	/* CMP and TEST as SUB and AND: the lazy record keeps the result */
	static const u8 host_op[8] = {0x01, 0x09, 0, 0, 0x21, 0x29, 0x31, 0x29};
	struct emit *e = &t->e;
	bool live = flags_live_after(t, i);
	bool logic = op == ALU_AND || op == ALU_OR || op == ALU_XOR;
	u8 lazy = op == ALU_ADD ? LAZY_ADD : logic ? LAZY_LOGIC : LAZY_SUB;

	if (live && !logic) {
		emit_op_mem(e, false, 0x89, H_RAX, H_RBX, OFF(lazy.a));
		emit_op_mem(e, false, 0x89, H_RCX, H_RBX, OFF(lazy.b));
	}
	emit_op_rr(e, false, test ? 0x21 : host_op[op], H_RCX, H_RAX);
	if (live) {
		if (logic) { /* mov qword [lazy.a], 0: a and b */
			emit_op_mem(e, true, 0xc7, 0, H_RBX, OFF(lazy.a));
			emit32(e, 0);
		}
		emit_op_mem(e, false, 0x89, H_RAX, H_RBX, OFF(lazy.res));
		emit_store_imm32(e, H_RBX, OFF(lazy.carry), 0);
		emit8(e, 0x66); /* mov word [lazy.op], size << 8 | op */
		emit_op_mem(e, false, 0xc7, 0, H_RBX, OFF(lazy.op));
		emit8(e, lazy);
		emit8(e, 4);
	}
	if (!test && op != ALU_CMP && dst >= 0)
		store_gpr(e, (unsigned)dst, H_RAX);
}

static u32 alu_imm(const struct insn *in)
{
	return in->op == 0x83 ? (u32)(s32)(s8)in->imm : in->imm;
}

static void emit_alu_rr(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;
	int op = alu_op_of(in);
	bool test = in->op == 0x85 || in->op == 0xa9;
	int dst;

	if (in->op == 0x81 || in->op == 0x83) {
		dst = in->rm;
		load_gpr(e, H_RAX, in->rm);
		emit_mov_ri(e, H_RCX, alu_imm(in));
	} else if (!in->has_modrm) { /* eAX, imm32 */
		dst = R_EAX;
		load_gpr(e, H_RAX, R_EAX);
		emit_mov_ri(e, H_RCX, in->imm);
	} else if (in->op == 0x85 || (in->op & 2) == 0) { /* r/m, r */
		dst = in->rm;
		load_gpr(e, H_RAX, in->rm);
		load_gpr(e, H_RCX, in->reg);
	} else { /* r, r/m */
		dst = in->reg;
		load_gpr(e, H_RAX, in->reg);
		load_gpr(e, H_RCX, in->rm);
	}
	emit_alu(t, i, op, test, dst);
}

/* ALU with a memory operand, read only: r, [m]; CMP/TEST [m], r; CMP [m], imm
 */
static void emit_alu_m(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;
	int op = alu_op_of(in);
	bool test = in->op == 0x85;

	emit_ea(e, in);
	emit_load(t, i, in->seg, 4);
	if (in->op == 0x81 || in->op == 0x83) {
		emit_op_rr(e, false, 0x89, H_R14, H_RAX);
		emit_mov_ri(e, H_RCX, alu_imm(in));
		emit_alu(t, i, op, false, -1);
	} else if (test || (in->op & 2) == 0) { /* CMP/TEST [m], r */
		emit_op_rr(e, false, 0x89, H_R14, H_RAX);
		load_gpr(e, H_RCX, in->reg);
		emit_alu(t, i, op, test, -1);
	} else {
		load_gpr(e, H_RAX, in->reg);
		emit_op_rr(e, false, 0x89, H_R14, H_RCX);
		emit_alu(t, i, op, false, in->reg);
	}
}

static void emit_load_insn(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;
	unsigned size = in->op == 0x8a || in->op == 0x1b6 ? 1 :
			in->op == 0x1b7			  ? 2 :
							    4;

	emit_ea(e, in);
	emit_load(t, i, in->seg, size);
	if (in->op == 0x8a)
		emit_op_mem(e, false, 0x88, H_R14, H_RBX, off_gpr8(in->reg));
	else
		store_gpr(e, in->reg, H_R14);
}

static void emit_store_insn(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;
	unsigned size = 4;

	if (in->op == 0x88) {
		size = 1;
		emit_op2_mem(e, 0xb6, H_R14, off_gpr8(in->reg));
	} else if (in->op == 0xc7) {
		emit_mov_ri(e, H_R14, in->imm);
	} else {
		load_gpr(e, H_R14, in->reg);
	}
	emit_ea(e, in);
	emit_store(t, i, in->seg, size);
	emit_epoch_check(t, i);
}

static void emit_push(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;

	load_gpr(e, H_R14, in->op & 7u);
	load_gpr(e, H_RBP, R_ESP);
	emit_op_rr(e, false, 0x83, 5, H_RBP); /* sub ebp, 4 */
	emit8(e, 4);
	emit_store(t, i, S_SS, 4);
	store_gpr(e, R_ESP, H_RBP);
	emit_epoch_check(t, i);
}

static void emit_pop(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;

	load_gpr(e, H_RBP, R_ESP);
	emit_load(t, i, S_SS, 4);
	emit_op_rr(e, false, 0x83, 0, H_RBP); /* add ebp, 4 */
	emit8(e, 4);
	store_gpr(e, R_ESP, H_RBP);
	store_gpr(e, in->op & 7u, H_R14);
}

/*
 * Leave the block for target, count instructions done: straight into the
 * target's translation when the exit is linked and nothing the engine
 * loop would look at between blocks has happened (the chain budget, a
 * stop request, an interrupt or NMI raised, a store into code, the
 * target's page mapped elsewhere, a shorter CS limit); else return to
 * the loop, naming the exit so that it can be linked (struct jit_slot).
 */
/*
 * The host address of target when it lies in the page the block starts
 * in, else NULL. The block is entered only where its first byte maps to
 * b->key, and nothing in a block changes the mapping (CR3 writes, INVLPG
 * and far jumps end blocks through their executors, which exit to the
 * loop), so within that page host and linear addresses move together.
 */
static const u8 *same_page_host(const struct tx *t, u32 target)
{
	s64 in_page = (s64)((uintptr_t)t->b->key & 0xfff) +
		      (s64)(s32)(target - t->eip[0]);

	if (in_page < 0 || in_page >= MEM_PAGE_SIZE)
		return NULL;
	return t->b->key - ((uintptr_t)t->b->key & 0xfff) + in_page;
}

static void emit_chain_exit(struct tx *t, u32 target, unsigned count)
{
	struct emit *e = &t->e;
	struct jit_slot *slot;
	size_t nocount, unlinked[5];
	unsigned k;

	emit_store_imm32(e, H_RBX, OFF(s.eip), target);
	if (t->j->n_slots >= JIT_MAX_SLOTS) {
		e->full = true;
		return;
	}
	slot = &t->j->slots[t->j->n_slots];
	slot->target_eip = target;
	emit_mov_ri64(e, H_RAX, (u64)(uintptr_t)&t->j->budget);
	emit8(e, 0x81); /* sub dword [rax], count */
	emit8(e, 0x28);
	emit32(e, count);
	nocount = emit_jcc_fwd(e, 0xe /* LE */);
	emit_op_mem(e, true, 0x81, 0, H_RBX, OFF(icount));
	emit32(e, count);
	emit_op_mem(e, false, 0x8a, H_RAX, H_RBX, OFF(stop_requested));
	emit_op_mem(e, false, 0x0a, H_RAX, H_RBX, OFF(intr_line));
	emit_op_mem(e, false, 0x0a, H_RAX, H_RBX, OFF(s.nmi_pending));
	unlinked[0] = emit_jcc_fwd(e, CC_NE);
	emit_op_mem(e, false, 0x81, 7, H_RBX, OFF(icache.code_epoch));
	slot->off_epoch = (u32)(t->base + e->pos);
	emit32(e, 0);
	unlinked[1] = emit_jcc_fwd(e, CC_NE);
	emit_op_mem(e, false, 0x81, 7, H_RBX, OFF_SEG(S_CS, limit));
	slot->off_limit = (u32)(t->base + e->pos);
	emit32(e, 0);
	unlinked[2] = emit_jcc_fwd(e, 2 /* B */);
	slot->same_page_host = same_page_host(t, target);
	slot->off_host = 0;
	if (slot->same_page_host) {
		/* the mapping the block was entered by holds the target too */
		unlinked[3] = unlinked[4] = unlinked[2];
		goto jump;
	}
	/* host address of CS:target through the TLB, as the fetch finds it */
	emit_op_mem(e, false, 0x8b, H_RAX, H_RBX, OFF_SEG(S_CS, base));
	emit_alu_ri(e, false, 0, H_RAX, target);
	emit_op_rr(e, false, 0x89, H_RAX, H_RCX);
	emit_shift_ri(e, 5, H_RCX, 12);
	emit_alu_ri(e, false, 4, H_RCX, TLB_SIZE - 1);
	emit_shift_ri(e, 4, H_RCX, 5);
	emit_op_rr(e, true, 0x01, H_R13, H_RCX);
	emit_op_rr(e, false, 0x89, H_RAX, H_RDX);
	emit_alu_ri(e, false, 4, H_RDX, ~0xfffu);
	emit8(e, 0x48); /* cmp rdx, [rcx + exec_tag]: tags are 64-bit */
	emit8(e, 0x3b);
	emit8(e, 0x51);
	emit8(e, (u8)offsetof(struct tlb_entry, exec_tag));
	unlinked[3] = emit_jcc_fwd(e, CC_NE);
	emit8(e, 0x48); /* add rax, [rcx + addend] */
	emit8(e, 0x03);
	emit8(e, 0x41);
	emit8(e, (u8)offsetof(struct tlb_entry, addend));
	slot->off_host = (u32)(t->base + e->pos + 2);
	emit_mov_ri64(e, H_RDX, 0);
	emit_op_rr(e, true, 0x39, H_RDX, H_RAX);
	unlinked[4] = emit_jcc_fwd(e, CC_NE);
jump:
	emit8(e, 0xe9);
	slot->off_jump = (u32)(t->base + e->pos);
	emit32(e, 0); /* unlinked: the next instruction */
	for (k = 0; k < 5; k++)
		emit_bind(e, unlinked[k]);
	emit_op_mem(e, true, 0x81, 5, H_RBX, OFF(icount));
	emit32(e, count);
	emit_bind(e, nocount);
	emit_mov_ri64(e, H_RAX, (u64)(uintptr_t)&t->j->pending);
	emit8(e, 0xc7); /* mov dword [rax], slot + 1 */
	emit8(e, 0x00);
	emit32(e, t->j->n_slots + 1);
	emit_return(t, count);
	t->j->n_slots++;
}

/*
 * RAX = host address of CS:EAX's byte through the TLB's exec entry, as
 * the fetch finds it; the jump taken when the TLB does not map it.
 */
static size_t emit_fetch_host(struct emit *e)
{
	size_t miss;

	emit_op_rr(e, false, 0x89, H_RAX, H_RCX);
	emit_shift_ri(e, 5, H_RCX, 12);
	emit_alu_ri(e, false, 4, H_RCX, TLB_SIZE - 1);
	emit_shift_ri(e, 4, H_RCX, 5);
	emit_op_rr(e, true, 0x01, H_R13, H_RCX);
	emit_op_rr(e, false, 0x89, H_RAX, H_RDX);
	emit_alu_ri(e, false, 4, H_RDX, ~0xfffu);
	emit8(e, 0x48); /* cmp rdx, [rcx + exec_tag]: tags are 64-bit */
	emit8(e, 0x3b);
	emit8(e, 0x51);
	emit8(e, (u8)offsetof(struct tlb_entry, exec_tag));
	miss = emit_jcc_fwd(e, CC_NE);
	emit8(e, 0x48); /* add rax, [rcx + addend] */
	emit8(e, 0x03);
	emit8(e, 0x41);
	emit8(e, (u8)offsetof(struct tlb_entry, addend));
	return miss;
}

/* cmp r32 (or r8), [rcx + field of jit_ind] */
static void emit_cmp_ind(struct emit *e, u8 op, size_t field)
{
	emit8(e, op);
	emit8(e, 0x51); /* edx / dl, [rcx + d8] */
	emit8(e, (u8)field);
}

/*
 * After an executor jumped somewhere only known at run time (RET, JMP or
 * CALL through a register or memory): find the translation for CS:EIP in
 * the table of indirect targets (struct jit_ind) and jump into it, under
 * the same checks as a linked exit; else return to the loop, asking it to
 * remember where this went.
 */
static void emit_indirect_exit(struct tx *t, unsigned count)
{
	struct emit *e = &t->e;
	size_t nocount, miss[9];
	unsigned k;

	emit_mov_ri64(e, H_RAX, (u64)(uintptr_t)&t->j->budget);
	emit8(e, 0x81); /* sub dword [rax], count */
	emit8(e, 0x28);
	emit32(e, count);
	nocount = emit_jcc_fwd(e, 0xe /* LE */);
	emit_op_mem(e, false, 0x8a, H_RAX, H_RBX, OFF(stop_requested));
	emit_op_mem(e, false, 0x0a, H_RAX, H_RBX, OFF(intr_line));
	emit_op_mem(e, false, 0x0a, H_RAX, H_RBX, OFF(s.nmi_pending));
	miss[0] = emit_jcc_fwd(e, CC_NE);
	emit_op_mem(e, false, 0x8b, H_RAX, H_RBX, OFF_SEG(S_CS, base));
	emit_op_mem(e, false, 0x03, H_RAX, H_RBX, OFF(s.eip));
	miss[1] = emit_fetch_host(e);
	emit_op_rr(e, true, 0x89, H_RAX, H_RDX);
	emit8(e, 0x48); /* shr rdx, 12 */
	emit8(e, 0xc1);
	emit8(e, 0xea);
	emit8(e, 12);
	emit_op_rr(e, true, 0x31, H_RAX, H_RDX);
	emit_alu_ri(e, false, 4, H_RDX, JIT_IND_SIZE - 1);
	emit_shift_ri(e, 4, H_RDX, 5);
	emit_mov_ri64(e, H_RCX, (u64)(uintptr_t)t->j->ind);
	emit_op_rr(e, true, 0x01, H_RDX, H_RCX);
	emit8(e, 0x48); /* cmp rax, [rcx + host] */
	emit8(e, 0x3b);
	emit8(e, 0x41);
	emit8(e, (u8)offsetof(struct jit_ind, host));
	miss[2] = emit_jcc_fwd(e, CC_NE);
	emit_op_mem(e, false, 0x8b, H_RDX, H_RBX, OFF(s.eip));
	emit_cmp_ind(e, 0x3b, offsetof(struct jit_ind, eip));
	miss[3] = emit_jcc_fwd(e, CC_NE);
	emit_op_mem(e, false, 0x8b, H_RDX, H_RBX, OFF(icache.code_epoch));
	emit_cmp_ind(e, 0x3b, offsetof(struct jit_ind, epoch));
	miss[4] = emit_jcc_fwd(e, CC_NE);
	emit8(e, 0x8b); /* mov edx, [rcx + need] */
	emit8(e, 0x51);
	emit8(e, (u8)offsetof(struct jit_ind, need));
	emit_op_mem(e, false, 0x3b, H_RDX, H_RBX, OFF_SEG(S_CS, limit));
	miss[5] = emit_jcc_fwd(e, CC_A);
	emit_op_mem(e, false, 0x8a, H_RDX, H_RBX, OFF(stack32));
	emit_cmp_ind(e, 0x3a, offsetof(struct jit_ind, stack32));
	miss[6] = emit_jcc_fwd(e, CC_NE);
	emit_op_mem(e, false, 0x8a, H_RDX, H_RBX, OFF(code32));
	emit_cmp_ind(e, 0x3a, offsetof(struct jit_ind, code32));
	miss[7] = emit_jcc_fwd(e, CC_NE);
	emit_op_mem(e, true, 0x81, 0, H_RBX, OFF(icount));
	emit32(e, count);
	emit8(e, 0xff); /* jmp [rcx + chain] */
	emit8(e, 0x61);
	emit8(e, (u8)offsetof(struct jit_ind, chain));
	for (k = 0; k < 8; k++)
		emit_bind(e, miss[k]);
	emit_mov_ri64(e, H_RAX, (u64)(uintptr_t)&t->j->ind_pending);
	emit8(e, 0xc7); /* mov dword [rax], 1 */
	emit8(e, 0x00);
	emit32(e, 1);
	emit_bind(e, nocount);
	emit_return(t, count);
}

/* An executor that jumps to a target known only at run time. */
static bool indirect_jump(const struct insn *in)
{
	return in->op == 0xc3 || in->op == 0xc2 ||
	       (in->op == 0xff && (in->reg == 2 || in->reg == 4));
}

/* Where jump_near() goes: 16-bit operands wrap IP at 64 KiB. */
static u32 jump_target(const struct insn *in, u32 target)
{
	return in->osize == 2 ? target & 0xffff : target;
}

/* The block's last instruction: a Jcc. */
static void emit_jcc(struct tx *t, unsigned i, const struct insn *in,
		     bool host_flags)
{
	struct emit *e = &t->e;
	unsigned cc = in->op & 0xf;
	u32 rel = in->op < 0x100 ? (u32)(s32)(s8)in->imm : in->imm;
	u32 target = jump_target(in, t->eip[i + 1] + rel);
	size_t taken, far;

	if (host_flags) {
		taken = emit_jcc_fwd(e, cc);
	} else {
		emit_op_rr(e, true, 0x89, H_RBX, H_RDI);
		emit_mov_ri(e, H_RSI, cc);
		emit_call_abs(e, (const void *)jit_cond);
		emit8(e, 0x84); /* test al, al */
		emit8(e, 0xc0);
		taken = emit_jcc_fwd(e, CC_NE);
	}
	emit_chain_exit(t, t->eip[i + 1], i + 1);
	emit_bind(e, taken);
	/* jump_near(): a target beyond the CS limit is #GP */
	emit_op_mem(e, false, 0x81, 7, H_RBX, OFF_SEG(S_CS, limit));
	emit32(e, target);
	far = emit_jcc_fwd(e, 2 /* B: limit < target */);
	emit_chain_exit(t, target, i + 1);
	emit_bind(e, far);
	emit_fallback(t, i); /* raises the #GP */
	emit_return(t, i + 1);
}

/*
 * INC/DEC r32 (alu_inc()): the lazy record keeps the CF found. With the
 * host flags valid, host CF is the guest's; otherwise the helper gives it
 * and BT puts it in host CF, which INC/DEC leave alone.
 */
static void emit_incdec(struct tx *t, unsigned i, const struct insn *in,
			bool host_flags)
{
	struct emit *e = &t->e;
	bool dec = in->op >= 0x48, live = flags_live_after(t, i);
	unsigned r = in->op & 7u;

	if (host_flags) {
		emit8(e, 0x0f); /* setc dl; movzx edx, dl */
		emit8(e, 0x92);
		emit8(e, 0xc2);
		emit8(e, 0x0f);
		emit8(e, 0xb6);
		emit8(e, 0xd2);
	} else {
		emit_op_rr(e, true, 0x89, H_RBX, H_RDI);
		emit_call_abs(e, (const void *)jit_carry);
		emit_op_rr(e, false, 0x89, H_RAX, H_RDX);
		emit8(e, 0x0f); /* bt edx, 0 */
		emit8(e, 0xba);
		emit8(e, 0xe2);
		emit8(e, 0x00);
	}
	load_gpr(e, H_RAX, r);
	if (live) {
		emit_op_mem(e, false, 0x89, H_RAX, H_RBX, OFF(lazy.a));
		emit_store_imm32(e, H_RBX, OFF(lazy.b), 1);
		emit_op_mem(e, false, 0x89, H_RDX, H_RBX, OFF(lazy.carry));
	}
	emit8(e, 0xff); /* inc/dec eax */
	emit8(e, dec ? 0xc8 : 0xc0);
	if (live) {
		emit_op_mem(e, false, 0x89, H_RAX, H_RBX, OFF(lazy.res));
		emit8(e, 0x66);
		emit_op_mem(e, false, 0xc7, 0, H_RBX, OFF(lazy.op));
		emit8(e, dec ? LAZY_DEC : LAZY_INC);
		emit8(e, 4);
	}
	store_gpr(e, r, H_RAX);
}

/* Store the lazy record of a shift or IMUL: a = 0, b = ECX, carry = EDX. */
static void emit_lazy_shift(struct emit *e)
{
	emit_store_imm32(e, H_RBX, OFF(lazy.a), 0);
	emit_op_mem(e, false, 0x89, H_RCX, H_RBX, OFF(lazy.b));
	emit_op_mem(e, false, 0x89, H_RDX, H_RBX, OFF(lazy.carry));
	emit_op_mem(e, false, 0x89, H_RAX, H_RBX, OFF(lazy.res));
	emit8(e, 0x66);
	emit_op_mem(e, false, 0xc7, 0, H_RBX, OFF(lazy.op));
	emit8(e, LAZY_SHIFT);
	emit8(e, 4);
}

/*
 * SHL/SHR/SAR r32 by a constant count (alu_shift_lazy()): CF is the last
 * bit shifted out (the host's CF); OF is the last one-bit step's: for SHL
 * MSB(result) ^ CF, for SHR the operand's MSB when the count is 1, else
 * 0, for SAR 0.
 */
static void emit_shift(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;
	unsigned c = shift_count(in), op = in->reg;
	bool live = flags_live_after(t, i);

	load_gpr(e, H_RAX, in->rm);
	if (live) {
		emit_mov_ri(e, H_RCX, 0);
		if (op == SH_SHR && c == 1) {
			emit_op_rr(e, false, 0x89, H_RAX, H_RCX);
			emit_shift_ri(e, 5, H_RCX, 31);
		}
	}
	emit_shift_ri(e, op == SH_SHR ? 5 : op == SH_SAR ? 7 : 4, H_RAX, (u8)c);
	if (live) {
		emit8(e, 0x0f); /* setc dl; movzx edx, dl */
		emit8(e, 0x92);
		emit8(e, 0xc2);
		emit8(e, 0x0f);
		emit8(e, 0xb6);
		emit8(e, 0xd2);
		if (op != SH_SHR && op != SH_SAR) {
			emit_op_rr(e, false, 0x89, H_RAX, H_RCX);
			emit_shift_ri(e, 5, H_RCX, 31);
			emit_op_rr(e, false, 0x31, H_RDX, H_RCX);
		}
		emit_lazy_shift(e);
	}
	store_gpr(e, in->rm, H_RAX);
}

/* IMUL r32, r32 (alu_imul2()): CF = OF = the product did not fit. */
static void emit_imul(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;

	load_gpr(e, H_RAX, in->reg);
	emit8(e, 0x0f); /* imul eax, [rbx + gpr(rm)] */
	emit_op_mem(e, false, 0xaf, H_RAX, H_RBX, OFF_GPR(in->rm));
	if (flags_live_after(t, i)) {
		emit8(e, 0x0f); /* setc dl; movzx edx, dl; mov ecx, edx */
		emit8(e, 0x92);
		emit8(e, 0xc2);
		emit8(e, 0x0f);
		emit8(e, 0xb6);
		emit8(e, 0xd2);
		emit_op_rr(e, false, 0x89, H_RDX, H_RCX);
		emit_lazy_shift(e);
	}
	store_gpr(e, in->reg, H_RAX);
}

/* 16-bit MOV to or from memory: the register's low word only. */
static void emit_mov16_mem(struct tx *t, unsigned i, const struct insn *in)
{
	struct emit *e = &t->e;

	if (in->op == 0x89)
		load_gpr(e, H_R14, in->reg);
	emit_ea(e, in);
	if (in->op == 0x89) {
		emit_store(t, i, in->seg, 2);
		emit_epoch_check(t, i);
		return;
	}
	emit_load(t, i, in->seg, 2);
	emit8(e, 0x66); /* mov [gpr(reg)], r14w */
	emit_op_mem(e, false, 0x89, H_R14, H_RBX, OFF_GPR(in->reg));
}

static void emit_mov_rr(struct tx *t, const struct insn *in)
{
	unsigned dst = in->op == 0x89 ? in->rm : in->reg;
	unsigned src = in->op == 0x89 ? in->reg : in->rm;

	load_gpr(&t->e, H_RAX, src);
	store_gpr(&t->e, dst, H_RAX);
}

static void emit_movzx_r(struct tx *t, const struct insn *in)
{
	struct emit *e = &t->e;

	if (in->op == 0x1b6)
		emit_op2_mem(e, 0xb6, H_RAX, off_gpr8(in->rm));
	else
		emit_op2_mem(e, 0xb7, H_RAX, OFF_GPR(in->rm));
	store_gpr(e, in->reg, H_RAX);
}

static void emit_prologue(struct tx *t, u32 *chain_entry)
{
	struct emit *e = &t->e;
	static const u8 pro[] = {
		0x53,		  /* push rbx */
		0x55,		  /* push rbp */
		0x41, 0x54,	  /* push r12 */
		0x41, 0x55,	  /* push r13 */
		0x41, 0x56,	  /* push r14 */
		0x48, 0x89, 0xfb, /* mov rbx, rdi */
		0x49, 0x89, 0xf5, /* mov r13, rsi */
	};
	unsigned k;

	for (k = 0; k < sizeof(pro); k++)
		emit8(e, pro[k]);
	/* chained blocks enter here, with the registers above set */
	*chain_entry = (u32)e->pos;
	emit_mov_ri64(e, H_RAX, (u64)(uintptr_t)t->insns);
	emit_op_mem(e, true, 0x89, H_RAX, H_RBX, OFF(block_insns));
	emit_op_mem(e, false, 0x8b, H_R12, H_RBX, OFF(icache.code_epoch));
}

static void emit_epilogue(struct emit *e)
{
	static const u8 epi[] = {
		0x41, 0x5e, /* pop r14 */
		0x41, 0x5d, /* pop r13 */
		0x41, 0x5c, /* pop r12 */
		0x5d,	    /* pop rbp */
		0x5b,	    /* pop rbx */
		0xc3,	    /* ret */
	};
	unsigned k;

	for (k = 0; k < sizeof(epi); k++)
		emit8(e, epi[k]);
}

static void emit_insn(struct tx *t, unsigned i, bool *host_flags)
{
	const struct insn *in = &t->b->insns[i];
	struct emit *e = &t->e;
	bool hf = *host_flags;

	*host_flags = false;
	switch (t->kind[i]) {
	case NK_MOV_RR:
		emit_mov_rr(t, in);
		*host_flags = hf;
		break;
	case NK_MOV_RI:
		emit_mov_ri(e, H_RAX, in->imm);
		store_gpr(e, in->op & 7u, H_RAX);
		*host_flags = hf;
		break;
	case NK_MOVZX_R:
		emit_movzx_r(t, in);
		*host_flags = hf;
		break;
	case NK_LEA:
		emit_ea(e, in);
		store_gpr(e, in->reg, H_RBP);
		break;
	case NK_ALU_RR:
		emit_alu_rr(t, i, in);
		*host_flags = true;
		break;
	case NK_ALU_M:
		emit_alu_m(t, i, in);
		*host_flags = true;
		break;
	case NK_INCDEC:
		emit_incdec(t, i, in, hf);
		*host_flags = true;
		break;
	case NK_SHIFT:
		emit_shift(t, i, in);
		break;
	case NK_IMUL:
		emit_imul(t, i, in);
		break;
	case NK_LOAD16:
	case NK_STORE16:
		emit_mov16_mem(t, i, in);
		break;
	case NK_LOAD:
		emit_load_insn(t, i, in);
		break;
	case NK_STORE:
		emit_store_insn(t, i, in);
		break;
	case NK_PUSH:
		emit_push(t, i, in);
		break;
	case NK_POP:
		emit_pop(t, i, in);
		break;
	case NK_JCC:
		emit_jcc(t, i, in, hf);
		break;
	default:
		emit_fallback(t, i);
		break;
	}
}

/* A direct JMP or CALL handed to its executor: where it goes. */
static bool static_target(const struct tx *t, unsigned i, u32 *target)
{
	const struct insn *in = &t->b->insns[i];

	if (in->lock || in->rep)
		return false;
	if (in->op == 0xeb)
		*target = t->eip[i + 1] + (u32)(s32)(s8)in->imm;
	else if (in->op == 0xe8 || in->op == 0xe9)
		*target = t->eip[i + 1] + in->imm;
	else
		return false;
	*target = jump_target(in, *target);
	return true;
}

size_t jit_translate(struct soft_cpu *cpu, struct jit *j, struct block *b,
		     u8 *buf, size_t cap, u32 *chain_entry)
{
	struct tx t = {.e = {buf, 0, cap, false},
		       .cpu = cpu,
		       .j = j,
		       .base = (size_t)(buf - j->rw),
		       .b = b};
	unsigned last = b->n - 1;
	u32 target;
	const u32 ip_mask = b->code32 ? 0xffffffffu : 0xffffu;
	bool host_flags = false;
	unsigned i;

	if (j->n_insns + b->n > JIT_MAX_INSNS)
		return 0;
	t.insns = &j->insns[j->n_insns];
	memcpy(t.insns, b->insns, b->n * sizeof(*t.insns));
	t.eip[0] = cpu->s.eip;
	for (i = 0; i < b->n; i++) {
		t.eip[i + 1] = (t.eip[i] + b->insns[i].len) & ip_mask;
		t.kind[i] = (u8)classify(&t, &b->insns[i]);
		/* a branch is native only as the block's end */
		if (t.kind[i] == NK_JCC && i + 1 != b->n)
			t.kind[i] = NK_CALL;
	}
	/* the epilogue first: every exit jumps back to it */
	emit_jmp_fwd(&t.e);
	t.epilogue = t.e.pos;
	emit_epilogue(&t.e);
	emit_bind(&t.e, 1); /* the entry at 0 jumps over the epilogue */
	emit_prologue(&t, chain_entry);
	for (i = 0; i < b->n; i++)
		emit_insn(&t, i, &host_flags);
	if (t.kind[last] == NK_CALL && static_target(&t, last, &target))
		emit_chain_exit(&t, target, b->n); /* the executor jumped */
	else if (t.kind[last] == NK_CALL && indirect_jump(&b->insns[last]))
		emit_indirect_exit(&t, b->n);
	else if (t.kind[last] == NK_CALL)
		emit_return(&t, b->n); /* EIP is the executor's */
	else if (t.kind[last] != NK_JCC)
		emit_chain_exit(&t, t.eip[b->n], b->n);
	for (i = 0; i < t.n_exits; i++) {
		emit_bind(&t.e, t.exits[i].site);
		emit_store_imm32(&t.e, H_RBX, OFF(s.eip),
				 t.eip[t.exits[i].i + 1]);
		emit_return(&t, t.exits[i].i + 1);
	}
	if (t.e.full)
		return 0;
	j->n_insns += b->n;
	return t.e.pos;
}

// SPDX-License-Identifier: MIT
/*
 * Fast paths for the instructions that dominate 32-bit protected-mode
 * code (compilers' output: MOV, ALU, LEA, PUSH/POP, Jcc, CALL/RET).
 *
 * The decoder picks an executor once per decoded instruction
 * (fast_handler()), and the cached instruction keeps it, so executing
 * MOV EAX,[EBX+8] again is one indirect call to a function that does just
 * that, instead of exec()'s general dispatch on opcode, operand size and
 * operand kind. Each fast path has exactly the semantics of its exec()
 * case (same memory helpers, same fault order); anything less common —
 * 16-bit operands, 8086/286 models, LOCK, segment or string
 * instructions — keeps exec().
 */
#include "cpu/soft/exec.h"

/* 32-bit ALU operation with lazily recorded flags; op is a constant. */
static inline __attribute__((always_inline)) u32
fast_alu32(struct soft_cpu *cpu, int op, u32 a, u32 b)
{
	switch (op) {
	case ALU_ADD:
		return lazy_record(cpu, LAZY_ADD, a, b, 0, a + b, 4);
	case ALU_SUB:
	case ALU_CMP:
		return lazy_record(cpu, LAZY_SUB, a, b, 0, a - b, 4);
	case ALU_AND:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a & b, 4);
	case ALU_OR:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a | b, 4);
	case ALU_XOR:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a ^ b, 4);
	default: /* ADC, SBB: they read CF */
		return alu(cpu, op, a, b, 4);
	}
}

static inline u32 fast_ea(struct soft_cpu *cpu, const struct insn *in)
{
	return ea_compute(cpu, in);
}

static inline u64 *gpr(struct soft_cpu *cpu, unsigned r)
{
	return &cpu->s.gpr[r];
}

/*
 * ALU r/m32, r32 (op 01, 09, ... 39), r32, r/m32 (03, 0B, ... 3B) and
 * r/m32, imm (81, 83: the decoder left imm as read; 83 sign-extends).
 */
#define DEFINE_ALU(name, OP)                                                   \
	static void name##_rm_r_reg(struct soft_cpu *cpu, struct insn *in)     \
	{                                                                      \
		u32 r = fast_alu32(cpu, OP, *gpr(cpu, in->rm),                 \
				   *gpr(cpu, in->reg));                        \
		if (OP != ALU_CMP)                                             \
			*gpr(cpu, in->rm) = r;                                 \
	}                                                                      \
	static void name##_rm_r_mem(struct soft_cpu *cpu, struct insn *in)     \
	{                                                                      \
		u32 ea = fast_ea(cpu, in);                                     \
		u32 r = fast_alu32(cpu, OP, mem_read32(cpu, in->seg, ea),      \
				   *gpr(cpu, in->reg));                        \
		if (OP != ALU_CMP)                                             \
			mem_write32(cpu, in->seg, ea, r);                      \
	}                                                                      \
	static void name##_r_rm_reg(struct soft_cpu *cpu, struct insn *in)     \
	{                                                                      \
		u32 r = fast_alu32(cpu, OP, *gpr(cpu, in->reg),                \
				   *gpr(cpu, in->rm));                         \
		if (OP != ALU_CMP)                                             \
			*gpr(cpu, in->reg) = r;                                \
	}                                                                      \
	static void name##_r_rm_mem(struct soft_cpu *cpu, struct insn *in)     \
	{                                                                      \
		u32 v = mem_read32(cpu, in->seg, fast_ea(cpu, in));            \
		u32 r = fast_alu32(cpu, OP, *gpr(cpu, in->reg), v);            \
		if (OP != ALU_CMP)                                             \
			*gpr(cpu, in->reg) = r;                                \
	}                                                                      \
	static void name##_rm_i_reg(struct soft_cpu *cpu, struct insn *in)     \
	{                                                                      \
		u32 imm = in->op == 0x83 ? (u32)(s32)(s8)in->imm : in->imm;    \
		u32 r = fast_alu32(cpu, OP, *gpr(cpu, in->rm), imm);           \
		if (OP != ALU_CMP)                                             \
			*gpr(cpu, in->rm) = r;                                 \
	}                                                                      \
	static void name##_rm_i_mem(struct soft_cpu *cpu, struct insn *in)     \
	{                                                                      \
		u32 imm = in->op == 0x83 ? (u32)(s32)(s8)in->imm : in->imm;    \
		u32 ea = fast_ea(cpu, in);                                     \
		u32 r = fast_alu32(cpu, OP, mem_read32(cpu, in->seg, ea),      \
				   imm);                                       \
		if (OP != ALU_CMP)                                             \
			mem_write32(cpu, in->seg, ea, r);                      \
	}

DEFINE_ALU(add, ALU_ADD)
DEFINE_ALU(or, ALU_OR)
DEFINE_ALU(adc, ALU_ADC)
DEFINE_ALU(sbb, ALU_SBB)
DEFINE_ALU(and, ALU_AND)
DEFINE_ALU(sub, ALU_SUB)
DEFINE_ALU(xor, ALU_XOR)
DEFINE_ALU(cmp, ALU_CMP)

/* The six forms of each ALU operation, in enum alu_op order. */
static const insn_fn alu_forms[8][6] = {
#define ALU_ROW(name)                                                          \
	{                                                                      \
		name##_rm_r_reg, name##_rm_r_mem, name##_r_rm_reg,             \
			name##_r_rm_mem, name##_rm_i_reg, name##_rm_i_mem      \
	}
	ALU_ROW(add), ALU_ROW(or),  ALU_ROW(adc), ALU_ROW(sbb),
	ALU_ROW(and), ALU_ROW(sub), ALU_ROW(xor), ALU_ROW(cmp),
#undef ALU_ROW
};

enum { FORM_RM_R, FORM_R_RM = 2, FORM_RM_I = 4 };

static insn_fn alu_form(int op, int form, const struct insn *in)
{
	return alu_forms[op][form + (in->mod != 3)];
}

static void test_reg(struct soft_cpu *cpu, struct insn *in)
{
	fast_alu32(cpu, ALU_AND, *gpr(cpu, in->rm), *gpr(cpu, in->reg));
}

static void test_mem(struct soft_cpu *cpu, struct insn *in)
{
	fast_alu32(cpu, ALU_AND, mem_read32(cpu, in->seg, fast_ea(cpu, in)),
		   *gpr(cpu, in->reg));
}

/* MOV r/m32, r32 (89) and MOV r32, r/m32 (8B). */
static void mov_rm_r_reg(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->rm) = *gpr(cpu, in->reg);
}

static void mov_rm_r_mem(struct soft_cpu *cpu, struct insn *in)
{
	mem_write32(cpu, in->seg, fast_ea(cpu, in), *gpr(cpu, in->reg));
}

static void mov_r_rm_reg(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->reg) = *gpr(cpu, in->rm);
}

static void mov_r_rm_mem(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->reg) = mem_read32(cpu, in->seg, fast_ea(cpu, in));
}

/* MOV r/m8, r8 (88) and MOV r8, r/m8 (8A): memory forms only. */
static void mov8_rm_r_mem(struct soft_cpu *cpu, struct insn *in)
{
	mem_write8(cpu, in->seg, fast_ea(cpu, in), reg8_read(cpu, in->reg));
}

static void mov8_r_rm_mem(struct soft_cpu *cpu, struct insn *in)
{
	reg8_write(cpu, in->reg, mem_read8(cpu, in->seg, fast_ea(cpu, in)));
}

/* MOV r32, imm32 (B8+r) and MOV r/m32, imm32 (C7 /0). */
static void mov_r_imm(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->op & 7) = in->imm;
}

static void mov_rm_imm_mem(struct soft_cpu *cpu, struct insn *in)
{
	mem_write32(cpu, in->seg, fast_ea(cpu, in), in->imm);
}

static void lea(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->reg) = fast_ea(cpu, in);
}

/* MOVZX r32, r/m8 (0F B6) and r/m16 (0F B7). */
static void movzx8_mem(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->reg) = mem_read8(cpu, in->seg, fast_ea(cpu, in));
}

static void movzx16_mem(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->reg) = mem_read16(cpu, in->seg, fast_ea(cpu, in));
}

static void inc_r(struct soft_cpu *cpu, struct insn *in)
{
	u64 *r = gpr(cpu, in->op & 7);

	*r = alu_inc(cpu, *r, 4);
}

static void dec_r(struct soft_cpu *cpu, struct insn *in)
{
	u64 *r = gpr(cpu, in->op & 7);

	*r = alu_dec(cpu, *r, 4);
}

static void push_r(struct soft_cpu *cpu, struct insn *in)
{
	push_sz(cpu, *gpr(cpu, in->op & 7), 4);
}

static void pop_r(struct soft_cpu *cpu, struct insn *in)
{
	u32 v = pop_sz(cpu, 4);

	*gpr(cpu, in->op & 7) = v;
}

/* Jcc rel8 (70+cc) and rel32 (0F 80+cc); imm is sign-extended here. */
static void jcc_short(struct soft_cpu *cpu, struct insn *in)
{
	if (cond_true(cpu, in->op & 0xf))
		jump_near(cpu, cpu->s.eip + (u32)(s32)(s8)in->imm, 4);
}

static void jcc_near(struct soft_cpu *cpu, struct insn *in)
{
	if (cond_true(cpu, in->op & 0xf))
		jump_near(cpu, cpu->s.eip + in->imm, 4);
}

static void jmp_short(struct soft_cpu *cpu, struct insn *in)
{
	jump_near(cpu, cpu->s.eip + (u32)(s32)(s8)in->imm, 4);
}

static void jmp_near(struct soft_cpu *cpu, struct insn *in)
{
	jump_near(cpu, cpu->s.eip + in->imm, 4);
}

static void call_near(struct soft_cpu *cpu, struct insn *in)
{
	push_sz(cpu, cpu->s.eip, 4);
	jump_near(cpu, cpu->s.eip + in->imm, 4);
}

static void ret_near(struct soft_cpu *cpu, struct insn *in)
{
	jump_near(cpu, pop_sz(cpu, 4), 4);
}

/*
 * SHL/SHR/SAR r32 by a count (C1 imm8, D1 one, D3 CL), flags recorded
 * lazily exactly as alu_shift() records them; rotates use alu_shift().
 */
/* SHL/SHR/SAR r32 inline; rotates in alu_shift(). */
static inline u32 fast_shift32(struct soft_cpu *cpu, unsigned op, u32 v,
			       unsigned count)
{
	count &= 0x1f;
	if (!count)
		return v;
	if (op < SH_SHL)
		return alu_shift(cpu, (int)op, v, count, 4);
	return alu_shift_lazy(cpu, (int)op, v, count, 4);
}

static unsigned shift_count(const struct soft_cpu *cpu, const struct insn *in)
{
	switch (in->op) {
	case 0xd1:
		return 1;
	case 0xd3:
		return (u8)cpu->s.gpr[R_ECX];
	default:
		return (u8)in->imm;
	}
}

static void shift_reg(struct soft_cpu *cpu, struct insn *in)
{
	u64 *r = gpr(cpu, in->rm);

	*r = fast_shift32(cpu, in->reg, *r, shift_count(cpu, in));
}

/* IMUL r32, r/m32 (0F AF). */
static void imul_reg(struct soft_cpu *cpu, struct insn *in)
{
	u64 *r = gpr(cpu, in->reg);

	*r = alu_imul2(cpu, *r, *gpr(cpu, in->rm), 4);
}

static void imul_mem(struct soft_cpu *cpu, struct insn *in)
{
	u32 v = mem_read32(cpu, in->seg, fast_ea(cpu, in));
	u64 *r = gpr(cpu, in->reg);

	*r = alu_imul2(cpu, *r, v, 4);
}

/* MOVZX r32, r8 / r16: register forms. */
static void movzx8_reg(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->reg) = reg8_read(cpu, in->rm);
}

static void movzx16_reg(struct soft_cpu *cpu, struct insn *in)
{
	*gpr(cpu, in->reg) = (u16)*gpr(cpu, in->rm);
}

/* 16-bit MOV to and from memory in 32-bit code (66 89, 66 8B). */
static void mov16_rm_r_mem(struct soft_cpu *cpu, struct insn *in)
{
	mem_write16(cpu, in->seg, fast_ea(cpu, in), (u16)*gpr(cpu, in->reg));
}

static void mov16_r_rm_mem(struct soft_cpu *cpu, struct insn *in)
{
	u16 v = mem_read16(cpu, in->seg, fast_ea(cpu, in));
	u64 *r = gpr(cpu, in->reg);

	*r = (*r & ~0xffffu) | v;
}

/*
 * 8-bit ALU forms (00, 02 ... 3A, 04 ... 3C): exec()'s own executor,
 * without exec()'s dispatch; memory forms compute the address it reads.
 */
static void alu8_mem(struct soft_cpu *cpu, struct insn *in)
{
	cpu->ea = fast_ea(cpu, in);
	exec_alu_rm(cpu, in);
}

/* TEST r/m8, r8 (84). */
static void test8(struct soft_cpu *cpu, struct insn *in)
{
	alu(cpu, ALU_AND, rm_read(cpu, in, 1), reg8_read(cpu, in->reg), 1);
}

static void test8_mem(struct soft_cpu *cpu, struct insn *in)
{
	cpu->ea = fast_ea(cpu, in);
	test8(cpu, in);
}

/* SETcc r/m8 (0F 90+cc) and CMOVcc r32, r/m32 (0F 40+cc). */
static void setcc_reg(struct soft_cpu *cpu, struct insn *in)
{
	reg8_write(cpu, in->rm, cond_true(cpu, in->op & 0xf));
}

static void setcc_mem(struct soft_cpu *cpu, struct insn *in)
{
	mem_write8(cpu, in->seg, fast_ea(cpu, in),
		   cond_true(cpu, in->op & 0xf));
}

static void cmov_reg(struct soft_cpu *cpu, struct insn *in)
{
	if (cond_true(cpu, in->op & 0xf))
		*gpr(cpu, in->reg) = *gpr(cpu, in->rm);
}

static void cmov_mem(struct soft_cpu *cpu, struct insn *in)
{
	/* The load happens (and may fault) whatever the condition. */
	u32 v = mem_read32(cpu, in->seg, fast_ea(cpu, in));

	if (cond_true(cpu, in->op & 0xf))
		*gpr(cpu, in->reg) = v;
}

/* FF /2 CALL r/m32 and FF /4 JMP r/m32, memory forms. */
static void call_indirect_mem(struct soft_cpu *cpu, struct insn *in)
{
	u32 target = mem_read32(cpu, in->seg, fast_ea(cpu, in));

	push_sz(cpu, cpu->s.eip, 4);
	jump_near(cpu, target, 4);
}

static void jmp_indirect_mem(struct soft_cpu *cpu, struct insn *in)
{
	jump_near(cpu, mem_read32(cpu, in->seg, fast_ea(cpu, in)), 4);
}

static void call_indirect_reg(struct soft_cpu *cpu, struct insn *in)
{
	u32 target = *gpr(cpu, in->rm);

	push_sz(cpu, cpu->s.eip, 4);
	jump_near(cpu, target, 4);
}

static void jmp_indirect_reg(struct soft_cpu *cpu, struct insn *in)
{
	jump_near(cpu, *gpr(cpu, in->rm), 4);
}

static void incdec_mem(struct soft_cpu *cpu, struct insn *in)
{
	u32 ea = fast_ea(cpu, in);
	u32 v = mem_read32(cpu, in->seg, ea);

	v = in->reg ? alu_dec(cpu, v, 4) : alu_inc(cpu, v, 4);
	mem_write32(cpu, in->seg, ea, v);
}

static void push_mem(struct soft_cpu *cpu, struct insn *in)
{
	push_sz(cpu, mem_read32(cpu, in->seg, fast_ea(cpu, in)), 4);
}

static insn_fn fast_group5(const struct insn *in)
{
	bool reg_form = in->mod == 3;

	switch (in->reg) {
	case 0:
	case 1:
		return reg_form ? NULL : incdec_mem;
	case 2:
		return reg_form ? call_indirect_reg : call_indirect_mem;
	case 4:
		return reg_form ? jmp_indirect_reg : jmp_indirect_mem;
	case 6:
		return reg_form ? NULL : push_mem;
	default:
		return NULL;
	}
}

/*
 * Instructions with 16-bit operands in 32-bit code that are common
 * enough to deserve a fast path; their 8-bit forms have no operand size.
 */
static insn_fn fast_any_size(const struct insn *in)
{
	insn_fn fn = NULL;

	if (in->op < 0x40 && (in->op & 7) <= 4 && !(in->op & 1))
		fn = in->has_modrm && in->mod != 3 ? alu8_mem : exec_alu_rm;
	else if (in->op == 0x84)
		fn = in->mod == 3 ? test8 : test8_mem;
	else if (in->osize == 2 && in->mod != 3 && in->op == 0x89)
		fn = mov16_rm_r_mem;
	else if (in->osize == 2 && in->mod != 3 && in->op == 0x8b)
		fn = mov16_r_rm_mem;
	return fn;
}

/* One-byte opcodes with 32-bit operands. */
static insn_fn fast_one_byte(const struct insn *in)
{
	u16 op = in->op;
	bool reg_form = in->mod == 3;

	if (op < 0x40 && (op & 7) == 1)
		return alu_form(op >> 3, FORM_RM_R, in);
	if (op < 0x40 && (op & 7) == 3)
		return alu_form(op >> 3, FORM_R_RM, in);
	switch (op) {
	case 0x40 ... 0x47:
		return inc_r;
	case 0x48 ... 0x4f:
		return dec_r;
	case 0x50 ... 0x57:
		return push_r;
	case 0x58 ... 0x5f:
		return pop_r;
	case 0x70 ... 0x7f:
		return jcc_short;
	case 0x81:
	case 0x83:
		return alu_form(in->reg, FORM_RM_I, in);
	case 0x85:
		return reg_form ? test_reg : test_mem;
	case 0x88:
		return reg_form ? NULL : mov8_rm_r_mem;
	case 0x89:
		return reg_form ? mov_rm_r_reg : mov_rm_r_mem;
	case 0x8a:
		return reg_form ? NULL : mov8_r_rm_mem;
	case 0x8b:
		return reg_form ? mov_r_rm_reg : mov_r_rm_mem;
	case 0x8d:
		return reg_form ? NULL : lea;
	case 0xb8 ... 0xbf:
		return mov_r_imm;
	case 0xc1:
	case 0xd1:
	case 0xd3:
		return reg_form ? shift_reg : NULL;
	case 0xc3:
		return ret_near;
	case 0xc7:
		return reg_form || in->reg ? NULL : mov_rm_imm_mem;
	case 0xe8:
		return call_near;
	case 0xe9:
		return jmp_near;
	case 0xeb:
		return jmp_short;
	case 0xff:
		return fast_group5(in);
	default:
		return NULL;
	}
}

static insn_fn fast_two_byte(const struct insn *in)
{
	switch (in->op) {
	case 0x140 ... 0x14f:
		return in->mod == 3 ? cmov_reg : cmov_mem;
	case 0x180 ... 0x18f:
		return jcc_near;
	case 0x190 ... 0x19f:
		return in->mod == 3 ? setcc_reg : setcc_mem;
	case 0x1af:
		return in->mod == 3 ? imul_reg : imul_mem;
	case 0x1b6:
		return in->mod == 3 ? movzx8_reg : movzx8_mem;
	case 0x1b7:
		return in->mod == 3 ? movzx16_reg : movzx16_mem;
	default:
		return NULL;
	}
}

bool soft_fast_paths = true;

insn_fn fast_handler(const struct soft_cpu *cpu, const struct insn *in)
{
	insn_fn fn;

	if (!soft_fast_paths)
		return exec;
	/*
	 * The older models' quirks and LOCK stay in exec(), and so does
	 * 64-bit code for now (REX registers, 64-bit addresses).
	 */
	if (is_286_or_older(cpu) || in->lock || cpu->code64)
		return exec;
	fn = in->op < 0x100 ? fast_any_size(in) : NULL;
	if (!fn && in->osize == 4)
		fn = in->op < 0x100 ? fast_one_byte(in) : fast_two_byte(in);
	return fn ? fn : exec;
}

// SPDX-License-Identifier: MIT
/*
 * Fast paths for the instructions that dominate compiled protected-mode
 * and 64-bit code (MOV, ALU, LEA, PUSH/POP, Jcc, CALL/RET, shifts).
 *
 * The decoder picks an executor once per decoded instruction
 * (fast_handler()), and the cached instruction keeps it, so executing
 * MOV EAX,[EBX+8] again is one indirect call to a function that does just
 * that, instead of exec()'s general dispatch on opcode, operand size and
 * operand kind. Each fast path has exactly the semantics of its exec()
 * case (same memory helpers, same fault order); anything less common —
 * 16-bit operands, 8086/286 models, LOCK, segment or string
 * instructions — keeps exec().
 *
 * Every executor exists in three variants, fixed at decode time: 32-bit
 * operands in legacy code (V32: no 64-bit-mode test anywhere on its path,
 * 32-bit addresses), and 32-bit (V64D) or 64-bit (V64Q) operands in 64-bit
 * code (64-bit addresses with RIP-relative operands, flat segments but FS
 * and GS, canonical checks, RSP-based 64-bit stack). The decode cache is
 * keyed by the code mode, so an executor never runs in another mode.
 */
#include "cpu/soft/exec.h"

#define AI inline __attribute__((always_inline))

enum { V32, V64D, V64Q, NVARIANTS };

static AI bool v64(int v)
{
	return v != V32;
}

static AI unsigned vsize(int v)
{
	return v == V64Q ? 8 : 4;
}

static AI u64 greg(struct soft_cpu *cpu, unsigned r, unsigned size)
{
	return size == 8 ? cpu->s.gpr[r] : (u32)cpu->s.gpr[r];
}

/* A 32-bit result zero-extends into the 64-bit register. */
static AI void sreg(struct soft_cpu *cpu, unsigned r, u64 v, unsigned size)
{
	cpu->s.gpr[r] = size == 8 ? v : (u32)v;
}

static AI bool canonical(u64 lin)
{
	return (u64)((s64)(lin << 16) >> 16) == lin;
}

/*
 * seg:off to linear. 64-bit mode: only FS and GS have a base, and the
 * first and last byte must be canonical, else #GP(0) or #SS(0) (SDM vol. 3,
 * 3.3.7.1), as seg_linear64() checks.
 */
static AI u64 f_lin(struct soft_cpu *cpu, int v, int seg, u64 off,
		    unsigned size, bool write)
{
	u64 lin = off;

	if (!v64(v))
		return seg_linear_legacy(cpu, seg, off, size, write);
	if (seg == S_FS || seg == S_GS)
		lin += cpu->s.seg[seg].base;
	if (unlikely(!canonical(lin) || !canonical(lin + size - 1)))
		cpu_fault(cpu, seg == S_SS ? EXC_SS : EXC_GP, 0);
	return lin;
}

static AI u64 f_read(struct soft_cpu *cpu, int v, int seg, u64 off,
		     unsigned size)
{
	u64 lin = f_lin(cpu, v, seg, off, size, false);
	bool user = user_access(cpu);

	switch (size) {
	case 1:
		return lin_read8(cpu, lin, user);
	case 2:
		return lin_read16(cpu, lin, user);
	case 4:
		return (u32)lin_read32(cpu, lin, user);
	default:
		return lin_read64(cpu, lin, user);
	}
}

static AI void f_write(struct soft_cpu *cpu, int v, int seg, u64 off, u64 val,
		       unsigned size)
{
	u64 lin = f_lin(cpu, v, seg, off, size, true);
	bool user = user_access(cpu);

	switch (size) {
	case 1:
		lin_write8(cpu, lin, (u8)val, user);
		break;
	case 2:
		lin_write16(cpu, lin, (u16)val, user);
		break;
	case 4:
		lin_write32(cpu, lin, (u32)val, user);
		break;
	default:
		lin_write64(cpu, lin, val, user);
		break;
	}
}

/*
 * The effective address. The decoder gives V32 executors only 32-bit
 * addresses and V64 ones only 64-bit addresses (67h keeps exec()).
 */
static AI u64 f_ea(const struct soft_cpu *cpu, int v, const struct insn *in)
{
	u64 ea;

	if (!v64(v)) {
		u32 ea32 = (u32)in->disp;

		if (in->base >= 0)
			ea32 += (u32)cpu->s.gpr[in->base];
		if (in->index >= 0)
			ea32 += (u32)cpu->s.gpr[in->index] << in->scale;
		return ea32;
	}
	ea = (u64)(s64)(s32)in->disp;
	if (in->base == BASE_RIP)
		ea += cpu->s.rip;
	else if (in->base >= 0)
		ea += cpu->s.gpr[in->base];
	if (in->index >= 0)
		ea += cpu->s.gpr[in->index] << in->scale;
	return ea;
}

/* A byte register with REX semantics (SPL..DIL) for 64-bit code. */
static AI void f_rex_bytes(struct soft_cpu *cpu, int v, const struct insn *in)
{
	if (v64(v))
		cpu->rex_byte = in->rex != 0;
}

static AI void f_jump(struct soft_cpu *cpu, int v, u64 target)
{
	if (v64(v)) {
		if (unlikely(!canonical(target)))
			cpu_fault(cpu, EXC_GP, 0);
		cpu->s.rip = target;
		return;
	}
	/* jump_near(cpu, target, 4) inline: never the 8086 here */
	target = (u32)target;
	if (unlikely(target > cpu->s.seg[S_CS].limit))
		cpu_fault(cpu, EXC_GP, 0);
	cpu->s.rip = target;
}

/* PUSH and POP of the variant's stack width (V64D: the 64-bit stack). */
static AI void f_push(struct soft_cpu *cpu, int v, u64 val)
{
	u64 sp;

	if (v64(v)) {
		sp = cpu->s.gpr[R_ESP] - 8;
		f_write(cpu, v, S_SS, sp, val, 8);
		cpu->s.gpr[R_ESP] = sp;
		return;
	}
	if (unlikely(!cpu->stack32)) {
		push_sz(cpu, val, 4);
		return;
	}
	sp = (u32)(cpu->s.gpr[R_ESP] - 4);
	f_write(cpu, v, S_SS, sp, val, 4);
	cpu->s.gpr[R_ESP] = sp;
}

static AI u64 f_pop(struct soft_cpu *cpu, int v)
{
	u64 sp = cpu->s.gpr[R_ESP], val;

	if (v64(v)) {
		val = f_read(cpu, v, S_SS, sp, 8);
		cpu->s.gpr[R_ESP] = sp + 8;
		return val;
	}
	if (unlikely(!cpu->stack32))
		return pop_sz(cpu, 4);
	val = f_read(cpu, v, S_SS, (u32)sp, 4);
	cpu->s.gpr[R_ESP] = (u32)(sp + 4);
	return val;
}

/* The ALU operation with lazily recorded flags; op and size constant. */
static AI u64 fast_alu(struct soft_cpu *cpu, int op, u64 a, u64 b,
		       unsigned size)
{
	u64 m = size_mask(size);

	switch (op) {
	case ALU_ADD:
		return lazy_record(cpu, LAZY_ADD, a, b, 0, (a + b) & m, size);
	case ALU_SUB:
	case ALU_CMP:
		return lazy_record(cpu, LAZY_SUB, a, b, 0, (a - b) & m, size);
	case ALU_AND:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a & b, size);
	case ALU_OR:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a | b, size);
	case ALU_XOR:
		return lazy_record(cpu, LAZY_LOGIC, 0, 0, 0, a ^ b, size);
	default: /* ADC, SBB: they read CF */
		return alu(cpu, op, a, b, size);
	}
}

/* The immediate of 81 (as decoded) or 83 (imm8, sign-extended). */
static AI u64 alu_imm(const struct insn *in, unsigned size)
{
	if (in->op == 0x83)
		return (u64)(s64)(s8)in->imm & size_mask(size);
	return in->imm & size_mask(size);
}

/*
 * ALU r/m, r (op 01, 09, ... 39), r, r/m (03, 0B, ... 3B) and r/m, imm
 * (81, 83), for each variant.
 */
#define DEFINE_ALU_V(name, OP, V)                                              \
	static void name##_rm_r_reg_##V(struct soft_cpu *cpu, struct insn *in) \
	{                                                                      \
		const unsigned sz = vsize(V);                                  \
		u64 r = fast_alu(cpu, OP, greg(cpu, in->rm, sz),               \
				 greg(cpu, in->reg, sz), sz);                  \
		if (OP != ALU_CMP)                                             \
			sreg(cpu, in->rm, r, sz);                              \
	}                                                                      \
	static void name##_rm_r_mem_##V(struct soft_cpu *cpu, struct insn *in) \
	{                                                                      \
		const unsigned sz = vsize(V);                                  \
		u64 ea = f_ea(cpu, V, in);                                     \
		u64 r = fast_alu(cpu, OP, f_read(cpu, V, in->seg, ea, sz),     \
				 greg(cpu, in->reg, sz), sz);                  \
		if (OP != ALU_CMP)                                             \
			f_write(cpu, V, in->seg, ea, r, sz);                   \
	}                                                                      \
	static void name##_r_rm_reg_##V(struct soft_cpu *cpu, struct insn *in) \
	{                                                                      \
		const unsigned sz = vsize(V);                                  \
		u64 r = fast_alu(cpu, OP, greg(cpu, in->reg, sz),              \
				 greg(cpu, in->rm, sz), sz);                   \
		if (OP != ALU_CMP)                                             \
			sreg(cpu, in->reg, r, sz);                             \
	}                                                                      \
	static void name##_r_rm_mem_##V(struct soft_cpu *cpu, struct insn *in) \
	{                                                                      \
		const unsigned sz = vsize(V);                                  \
		u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), sz);         \
		u64 r = fast_alu(cpu, OP, greg(cpu, in->reg, sz), m, sz);      \
		if (OP != ALU_CMP)                                             \
			sreg(cpu, in->reg, r, sz);                             \
	}                                                                      \
	static void name##_rm_i_reg_##V(struct soft_cpu *cpu, struct insn *in) \
	{                                                                      \
		const unsigned sz = vsize(V);                                  \
		u64 r = fast_alu(cpu, OP, greg(cpu, in->rm, sz),               \
				 alu_imm(in, sz), sz);                         \
		if (OP != ALU_CMP)                                             \
			sreg(cpu, in->rm, r, sz);                              \
	}                                                                      \
	static void name##_rm_i_mem_##V(struct soft_cpu *cpu, struct insn *in) \
	{                                                                      \
		const unsigned sz = vsize(V);                                  \
		u64 ea = f_ea(cpu, V, in);                                     \
		u64 r = fast_alu(cpu, OP, f_read(cpu, V, in->seg, ea, sz),     \
				 alu_imm(in, sz), sz);                         \
		if (OP != ALU_CMP)                                             \
			f_write(cpu, V, in->seg, ea, r, sz);                   \
	}

/* Each executor below, for each variant: name##_V32, _V64D, _V64Q. */
#define FOR_VARIANTS(DEF, ...)                                                 \
	DEF(__VA_ARGS__, V32) DEF(__VA_ARGS__, V64D) DEF(__VA_ARGS__, V64Q)

FOR_VARIANTS(DEFINE_ALU_V, add, ALU_ADD)
FOR_VARIANTS(DEFINE_ALU_V, or, ALU_OR)
FOR_VARIANTS(DEFINE_ALU_V, adc, ALU_ADC)
FOR_VARIANTS(DEFINE_ALU_V, sbb, ALU_SBB)
FOR_VARIANTS(DEFINE_ALU_V, and, ALU_AND)
FOR_VARIANTS(DEFINE_ALU_V, sub, ALU_SUB)
FOR_VARIANTS(DEFINE_ALU_V, xor, ALU_XOR)
FOR_VARIANTS(DEFINE_ALU_V, cmp, ALU_CMP)

/* The six forms of each ALU operation, in enum alu_op order. */
#define ALU_ROW(name, V)                                                       \
	{                                                                      \
		name##_rm_r_reg_##V, name##_rm_r_mem_##V, name##_r_rm_reg_##V, \
			name##_r_rm_mem_##V, name##_rm_i_reg_##V,              \
			name##_rm_i_mem_##V                                    \
	}
#define ALU_TABLE(V)                                                           \
	{                                                                      \
		ALU_ROW(add, V), ALU_ROW(or, V), ALU_ROW(adc, V),              \
			ALU_ROW(sbb, V), ALU_ROW(and, V), ALU_ROW(sub, V),     \
			ALU_ROW(xor, V), ALU_ROW(cmp, V)                       \
	}
static const insn_fn alu_forms[NVARIANTS][8][6] = {
	ALU_TABLE(V32), ALU_TABLE(V64D), ALU_TABLE(V64Q)};
#undef ALU_TABLE
#undef ALU_ROW

enum { FORM_RM_R, FORM_R_RM = 2, FORM_RM_I = 4 };

static insn_fn alu_form(int v, int op, int form, const struct insn *in)
{
	return alu_forms[v][op][form + (in->mod != 3)];
}

/*
 * The remaining executors, each given once as an always-inline body with
 * the variant as parameter, then instantiated per variant.
 */
#define BODY(name)                                                             \
	static AI void name##_body(struct soft_cpu *cpu, struct insn *in,      \
				   const int V)

#define INSTANCE(name, V)                                                      \
	static void name##_##V(struct soft_cpu *cpu, struct insn *in)          \
	{                                                                      \
		name##_body(cpu, in, V);                                       \
	}
#define INSTANCES(name) FOR_VARIANTS(INSTANCE, name)
#define PICK(name, v)                                                          \
	((v) == V32 ? name##_V32 : (v) == V64D ? name##_V64D : name##_V64Q)

BODY(test_reg)
{
	const unsigned sz = vsize(V);

	fast_alu(cpu, ALU_AND, greg(cpu, in->rm, sz), greg(cpu, in->reg, sz),
		 sz);
}
INSTANCES(test_reg)

BODY(test_mem)
{
	const unsigned sz = vsize(V);
	u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), sz);

	fast_alu(cpu, ALU_AND, m, greg(cpu, in->reg, sz), sz);
}
INSTANCES(test_mem)

/* MOV r/m, r (89) and MOV r, r/m (8B). */
BODY(mov_rm_r_reg)
{
	sreg(cpu, in->rm, greg(cpu, in->reg, vsize(V)), vsize(V));
}
INSTANCES(mov_rm_r_reg)

BODY(mov_rm_r_mem)
{
	f_write(cpu, V, in->seg, f_ea(cpu, V, in), greg(cpu, in->reg, vsize(V)),
		vsize(V));
}
INSTANCES(mov_rm_r_mem)

BODY(mov_r_rm_reg)
{
	sreg(cpu, in->reg, greg(cpu, in->rm, vsize(V)), vsize(V));
}
INSTANCES(mov_r_rm_reg)

BODY(mov_r_rm_mem)
{
	sreg(cpu, in->reg, f_read(cpu, V, in->seg, f_ea(cpu, V, in), vsize(V)),
	     vsize(V));
}
INSTANCES(mov_r_rm_mem)

/* MOV r/m8, r8 (88) and MOV r8, r/m8 (8A): memory forms only. */
BODY(mov8_rm_r_mem)
{
	f_rex_bytes(cpu, V, in);
	f_write(cpu, V, in->seg, f_ea(cpu, V, in), reg8_read(cpu, in->reg), 1);
}
INSTANCES(mov8_rm_r_mem)

BODY(mov8_r_rm_mem)
{
	u8 m = (u8)f_read(cpu, V, in->seg, f_ea(cpu, V, in), 1);

	f_rex_bytes(cpu, V, in);
	reg8_write(cpu, in->reg, m);
}
INSTANCES(mov8_r_rm_mem)

/* MOV r, imm (B8+r: imm64 with REX.W) and MOV r/m, imm (C7 /0). */
BODY(mov_r_imm)
{
	sreg(cpu, v64(V) ? opcode_reg(in) : in->op & 7u, in->imm, vsize(V));
}
INSTANCES(mov_r_imm)

BODY(mov_rm_imm_reg)
{
	sreg(cpu, in->rm, in->imm, vsize(V));
}
INSTANCES(mov_rm_imm_reg)

BODY(mov_rm_imm_mem)
{
	f_write(cpu, V, in->seg, f_ea(cpu, V, in), in->imm, vsize(V));
}
INSTANCES(mov_rm_imm_mem)

BODY(lea)
{
	sreg(cpu, in->reg, f_ea(cpu, V, in), vsize(V));
}
INSTANCES(lea)

/* MOVZX/MOVSX r, r/m8 (0F B6, 0F BE) and r/m16 (0F B7, 0F BF). */
static AI u64 movx_value(const struct insn *in, u64 src, unsigned sz)
{
	switch (in->op) {
	case 0x1b6:
		return (u8)src;
	case 0x1b7:
		return (u16)src;
	case 0x1be:
		return (u64)(s64)(s8)src & size_mask(sz);
	default:
		return (u64)(s64)(s16)src & size_mask(sz);
	}
}

BODY(movx8_reg)
{
	f_rex_bytes(cpu, V, in);
	sreg(cpu, in->reg, movx_value(in, reg8_read(cpu, in->rm), vsize(V)),
	     vsize(V));
}
INSTANCES(movx8_reg)

BODY(movx16_reg)
{
	sreg(cpu, in->reg, movx_value(in, cpu->s.gpr[in->rm], vsize(V)),
	     vsize(V));
}
INSTANCES(movx16_reg)

BODY(movx8_mem)
{
	u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), 1);

	sreg(cpu, in->reg, movx_value(in, m, vsize(V)), vsize(V));
}
INSTANCES(movx8_mem)

BODY(movx16_mem)
{
	u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), 2);

	sreg(cpu, in->reg, movx_value(in, m, vsize(V)), vsize(V));
}
INSTANCES(movx16_mem)

/* MOVSXD r64, r/m32 (REX.W 63), 64-bit mode only. */
static void movsxd_reg(struct soft_cpu *cpu, struct insn *in)
{
	cpu->s.gpr[in->reg] = (u64)(s64)(s32)cpu->s.gpr[in->rm];
}

static void movsxd_mem(struct soft_cpu *cpu, struct insn *in)
{
	u64 m = f_read(cpu, V64Q, in->seg, f_ea(cpu, V64Q, in), 4);

	cpu->s.gpr[in->reg] = (u64)(s64)(s32)m;
}

/* INC/DEC r32 (40+r, 48+r: REX prefixes in 64-bit mode). */
static void inc_r(struct soft_cpu *cpu, struct insn *in)
{
	u64 *r = &cpu->s.gpr[in->op & 7];

	*r = (u32)alu_inc(cpu, (u32)*r, 4);
}

static void dec_r(struct soft_cpu *cpu, struct insn *in)
{
	u64 *r = &cpu->s.gpr[in->op & 7];

	*r = (u32)alu_dec(cpu, (u32)*r, 4);
}

/* PUSH r (50+r), POP r (58+r): 64-bit in 64-bit mode. */
BODY(push_r)
{
	unsigned r = v64(V) ? opcode_reg(in) : in->op & 7u;

	f_push(cpu, V, greg(cpu, r, v64(V) ? 8 : 4));
}
INSTANCES(push_r)

BODY(pop_r)
{
	u64 val = f_pop(cpu, V);

	sreg(cpu, v64(V) ? opcode_reg(in) : in->op & 7u, val, v64(V) ? 8 : 4);
}
INSTANCES(pop_r)

/*
 * Jcc rel8 (70+cc) and rel32 (0F 80+cc). The decoder leaves rel8 as read
 * and rel32 sign-extended to 64 bits in 64-bit code; the 32-bit IP wraps.
 */
static AI u64 rel_target(const struct soft_cpu *cpu, int V, s64 rel)
{
	u64 t = cpu->s.rip + (u64)rel;

	return v64(V) ? t : (u32)t;
}

BODY(jcc_short)
{
	if (cond_true(cpu, in->op & 0xf))
		f_jump(cpu, V, rel_target(cpu, V, (s8)in->imm));
}
INSTANCES(jcc_short)

BODY(jcc_near)
{
	if (cond_true(cpu, in->op & 0xf))
		f_jump(cpu, V, rel_target(cpu, V, (s64)(s32)in->imm));
}
INSTANCES(jcc_near)

BODY(jmp_short)
{
	f_jump(cpu, V, rel_target(cpu, V, (s8)in->imm));
}
INSTANCES(jmp_short)

BODY(jmp_near)
{
	f_jump(cpu, V, rel_target(cpu, V, (s64)(s32)in->imm));
}
INSTANCES(jmp_near)

BODY(call_near)
{
	f_push(cpu, V, cpu->s.rip);
	f_jump(cpu, V, rel_target(cpu, V, (s64)(s32)in->imm));
}
INSTANCES(call_near)

BODY(ret_near)
{
	f_jump(cpu, V, f_pop(cpu, V));
}
INSTANCES(ret_near)

/*
 * SHL/SHR/SAR r by a count (C1 imm8, D1 one, D3 CL), flags recorded
 * lazily exactly as alu_shift() records them; rotates use alu_shift().
 */
static AI unsigned shift_count(const struct soft_cpu *cpu,
			       const struct insn *in)
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

BODY(shift_reg)
{
	const unsigned sz = vsize(V);
	unsigned count = shift_count(cpu, in) & (sz == 8 ? 0x3f : 0x1f);
	u64 val = greg(cpu, in->rm, sz);

	if (count) {
		if (in->reg < SH_SHL)
			val = alu_shift(cpu, in->reg, val, count, sz);
		else
			val = alu_shift_lazy(cpu, in->reg, val, count, sz);
	}
	sreg(cpu, in->rm, val, sz);
}
INSTANCES(shift_reg)

/* IMUL r, r/m (0F AF). */
BODY(imul_reg)
{
	const unsigned sz = vsize(V);

	sreg(cpu, in->reg,
	     alu_imul2(cpu, greg(cpu, in->reg, sz), greg(cpu, in->rm, sz), sz),
	     sz);
}
INSTANCES(imul_reg)

BODY(imul_mem)
{
	const unsigned sz = vsize(V);
	u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), sz);

	sreg(cpu, in->reg, alu_imul2(cpu, greg(cpu, in->reg, sz), m, sz), sz);
}
INSTANCES(imul_mem)

/* 16-bit MOV to and from memory in 32-bit code (66 89, 66 8B). */
BODY(mov16_rm_r_mem)
{
	f_write(cpu, V, in->seg, f_ea(cpu, V, in), (u16)cpu->s.gpr[in->reg], 2);
}
INSTANCES(mov16_rm_r_mem)

BODY(mov16_r_rm_mem)
{
	u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), 2);
	u64 *r = &cpu->s.gpr[in->reg];

	*r = (*r & ~(u64)0xffff) | m;
}
INSTANCES(mov16_r_rm_mem)

/*
 * 8-bit ALU forms (00, 02 ... 3A, 04 ... 3C): exec()'s own executor,
 * without exec()'s dispatch; memory forms compute the address it reads.
 */
BODY(alu8)
{
	f_rex_bytes(cpu, V, in);
	exec_alu_rm(cpu, in);
}
INSTANCES(alu8)

BODY(alu8_mem)
{
	f_rex_bytes(cpu, V, in);
	cpu->ea = f_ea(cpu, V, in);
	exec_alu_rm(cpu, in);
}
INSTANCES(alu8_mem)

/* TEST r/m8, r8 (84). */
BODY(test8)
{
	f_rex_bytes(cpu, V, in);
	alu(cpu, ALU_AND, reg8_read(cpu, in->rm), reg8_read(cpu, in->reg), 1);
}
INSTANCES(test8)

BODY(test8_mem)
{
	u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), 1);

	f_rex_bytes(cpu, V, in);
	alu(cpu, ALU_AND, m, reg8_read(cpu, in->reg), 1);
}
INSTANCES(test8_mem)

/* SETcc r/m8 (0F 90+cc) and CMOVcc r, r/m (0F 40+cc). */
BODY(setcc_reg)
{
	f_rex_bytes(cpu, V, in);
	reg8_write(cpu, in->rm, cond_true(cpu, in->op & 0xf));
}
INSTANCES(setcc_reg)

BODY(setcc_mem)
{
	f_write(cpu, V, in->seg, f_ea(cpu, V, in), cond_true(cpu, in->op & 0xf),
		1);
}
INSTANCES(setcc_mem)

BODY(cmov_reg)
{
	/* A 32-bit CMOV zero-extends its destination whatever cc says. */
	const unsigned sz = vsize(V);

	if (cond_true(cpu, in->op & 0xf))
		sreg(cpu, in->reg, greg(cpu, in->rm, sz), sz);
	else
		sreg(cpu, in->reg, greg(cpu, in->reg, sz), sz);
}
INSTANCES(cmov_reg)

BODY(cmov_mem)
{
	/* The load happens (and may fault) whatever the condition. */
	const unsigned sz = vsize(V);
	u64 m = f_read(cpu, V, in->seg, f_ea(cpu, V, in), sz);

	if (cond_true(cpu, in->op & 0xf))
		sreg(cpu, in->reg, m, sz);
	else
		sreg(cpu, in->reg, greg(cpu, in->reg, sz), sz);
}
INSTANCES(cmov_mem)

/* FF /0 /1 INC/DEC, /2 CALL, /4 JMP, /6 PUSH r/m. */
BODY(incdec_reg)
{
	const unsigned sz = vsize(V);
	u64 val = greg(cpu, in->rm, sz);

	val = in->reg ? alu_dec(cpu, val, sz) : alu_inc(cpu, val, sz);
	sreg(cpu, in->rm, val, sz);
}
INSTANCES(incdec_reg)

BODY(incdec_mem)
{
	const unsigned sz = vsize(V);
	u64 ea = f_ea(cpu, V, in);
	u64 val = f_read(cpu, V, in->seg, ea, sz);

	val = in->reg ? alu_dec(cpu, val, sz) : alu_inc(cpu, val, sz);
	f_write(cpu, V, in->seg, ea, val, sz);
}
INSTANCES(incdec_mem)

BODY(call_indirect_reg)
{
	u64 target = greg(cpu, in->rm, v64(V) ? 8 : 4);

	f_push(cpu, V, cpu->s.rip);
	f_jump(cpu, V, target);
}
INSTANCES(call_indirect_reg)

BODY(call_indirect_mem)
{
	u64 target = f_read(cpu, V, in->seg, f_ea(cpu, V, in), v64(V) ? 8 : 4);

	f_push(cpu, V, cpu->s.rip);
	f_jump(cpu, V, target);
}
INSTANCES(call_indirect_mem)

BODY(jmp_indirect_reg)
{
	f_jump(cpu, V, greg(cpu, in->rm, v64(V) ? 8 : 4));
}
INSTANCES(jmp_indirect_reg)

BODY(jmp_indirect_mem)
{
	f_jump(cpu, V,
	       f_read(cpu, V, in->seg, f_ea(cpu, V, in), v64(V) ? 8 : 4));
}
INSTANCES(jmp_indirect_mem)

BODY(push_mem)
{
	f_push(cpu, V,
	       f_read(cpu, V, in->seg, f_ea(cpu, V, in), v64(V) ? 8 : 4));
}
INSTANCES(push_mem)

static insn_fn fast_group5(int v, const struct insn *in)
{
	bool reg_form = in->mod == 3;

	switch (in->reg) {
	case 0:
	case 1:
		return reg_form ? PICK(incdec_reg, v) : PICK(incdec_mem, v);
	case 2:
		return reg_form ? PICK(call_indirect_reg, v) :
				  PICK(call_indirect_mem, v);
	case 4:
		return reg_form ? PICK(jmp_indirect_reg, v) :
				  PICK(jmp_indirect_mem, v);
	case 6:
		return reg_form ? NULL : PICK(push_mem, v);
	default:
		return NULL;
	}
}

/*
 * Byte-sized instructions, and 16-bit MOV, common enough to deserve a
 * fast path whatever the operand size.
 */
static insn_fn fast_any_size(int v, const struct insn *in)
{
	u16 op = in->op;
	bool mem = in->has_modrm && in->mod != 3;

	if (op < 0x40 && (op & 7) <= 4 && !(op & 1))
		return mem ? PICK(alu8_mem, v) : PICK(alu8, v);
	if (op == 0x84)
		return mem ? PICK(test8_mem, v) : PICK(test8, v);
	if (in->osize == 2 && mem && op == 0x89)
		return PICK(mov16_rm_r_mem, v);
	if (in->osize == 2 && mem && op == 0x8b)
		return PICK(mov16_r_rm_mem, v);
	return NULL;
}

/* One-byte opcodes with the variant's operand size. */
static insn_fn fast_one_byte(int v, const struct insn *in)
{
	u16 op = in->op;
	bool reg_form = in->mod == 3;

	if (op < 0x40 && (op & 7) == 1)
		return alu_form(v, op >> 3, FORM_RM_R, in);
	if (op < 0x40 && (op & 7) == 3)
		return alu_form(v, op >> 3, FORM_R_RM, in);
	switch (op) {
	case 0x40 ... 0x47: /* REX in 64-bit mode */
		return inc_r;
	case 0x48 ... 0x4f:
		return dec_r;
	case 0x63:
		if (v != V64Q)
			return NULL; /* ARPL, or MOVSXD r32 */
		return reg_form ? movsxd_reg : movsxd_mem;
	case 0x70 ... 0x7f:
		return PICK(jcc_short, v);
	case 0x81:
	case 0x83:
		return alu_form(v, in->reg, FORM_RM_I, in);
	case 0x85:
		return reg_form ? PICK(test_reg, v) : PICK(test_mem, v);
	case 0x88:
		return reg_form ? NULL : PICK(mov8_rm_r_mem, v);
	case 0x89:
		return reg_form ? PICK(mov_rm_r_reg, v) : PICK(mov_rm_r_mem, v);
	case 0x8a:
		return reg_form ? NULL : PICK(mov8_r_rm_mem, v);
	case 0x8b:
		return reg_form ? PICK(mov_r_rm_reg, v) : PICK(mov_r_rm_mem, v);
	case 0x8d:
		return reg_form ? NULL : PICK(lea, v);
	case 0xb8 ... 0xbf:
		return PICK(mov_r_imm, v);
	case 0xc1:
	case 0xd1:
	case 0xd3:
		return reg_form ? PICK(shift_reg, v) : NULL;
	case 0xc7:
		if (in->reg)
			return NULL;
		return reg_form ? PICK(mov_rm_imm_reg, v) :
				  PICK(mov_rm_imm_mem, v);
	case 0xff:
		return fast_group5(v, in);
	default:
		return NULL;
	}
}

/* Near branches and stack operations: 64-bit operands in 64-bit mode. */
static insn_fn fast_branch_stack(int v, const struct insn *in)
{
	switch (in->op) {
	case 0x50 ... 0x57:
		return PICK(push_r, v);
	case 0x58 ... 0x5f:
		return PICK(pop_r, v);
	case 0x70 ... 0x7f:
		return PICK(jcc_short, v);
	case 0xc3:
		return PICK(ret_near, v);
	case 0xe8:
		return PICK(call_near, v);
	case 0xe9:
		return PICK(jmp_near, v);
	case 0xeb:
		return PICK(jmp_short, v);
	case 0xff:
		return in->reg == 2 || in->reg == 4 || in->reg == 6 ?
			       fast_group5(v, in) :
			       NULL;
	case 0x180 ... 0x18f:
		return PICK(jcc_near, v);
	default:
		return NULL;
	}
}

static insn_fn fast_two_byte(int v, const struct insn *in)
{
	bool reg_form = in->mod == 3;

	switch (in->op) {
	case 0x140 ... 0x14f:
		return reg_form ? PICK(cmov_reg, v) : PICK(cmov_mem, v);
	case 0x180 ... 0x18f:
		return PICK(jcc_near, v);
	case 0x190 ... 0x19f:
		return reg_form ? PICK(setcc_reg, v) : PICK(setcc_mem, v);
	case 0x1af:
		return reg_form ? PICK(imul_reg, v) : PICK(imul_mem, v);
	case 0x1b6:
	case 0x1be:
		return reg_form ? PICK(movx8_reg, v) : PICK(movx8_mem, v);
	case 0x1b7:
	case 0x1bf:
		return reg_form ? PICK(movx16_reg, v) : PICK(movx16_mem, v);
	default:
		return NULL;
	}
}

/* The executors for 64-bit code: 32- or 64-bit operands, 64-bit stack. */
static insn_fn fast_handler64(const struct insn *in)
{
	insn_fn fn = NULL;

	if (in->osize == 8) {
		fn = fast_branch_stack(V64D, in);
		if (fn)
			return fn;
	} else if (in->osize == 2) {
		return in->op < 0x100 ? fast_any_size(V64D, in) : NULL;
	}
	if (in->op < 0x100)
		fn = fast_any_size(V64D, in);
	if (fn || in->osize == 2)
		return fn;
	if (in->op < 0x100) {
		/* 40-4F are REX; the branches and stack forms are above */
		if ((in->op & 0xf0) == 0x40 || (in->op & 0xf0) == 0x50 ||
		    (in->op & 0xf0) == 0x70)
			return NULL;
		return fast_one_byte(in->osize == 8 ? V64Q : V64D, in);
	}
	if (in->op >= 0x180 && in->op <= 0x18f)
		return NULL;
	return fast_two_byte(in->osize == 8 ? V64Q : V64D, in);
}

/* The executors for 16- and 32-bit code. */
static insn_fn fast_handler32(const struct insn *in)
{
	insn_fn fn = in->op < 0x100 ? fast_any_size(V32, in) : NULL;

	if (!fn && in->osize == 4) {
		fn = fast_branch_stack(V32, in);
		if (!fn)
			fn = in->op < 0x100 ? fast_one_byte(V32, in) :
					      fast_two_byte(V32, in);
	}
	return fn;
}

bool soft_fast_paths = true;

insn_fn fast_handler(const struct soft_cpu *cpu, const struct insn *in)
{
	insn_fn fn;
	bool mem = in->has_modrm && in->mod != 3;

	if (!soft_fast_paths)
		return exec;
	/* The older models' quirks and LOCK stay in exec(). */
	if (is_286_or_older(cpu) || in->lock)
		return exec;
	/*
	 * The executors compute addresses of one width: 32-bit in legacy
	 * code, 64-bit in 64-bit code (16-bit addressing and 67h: exec()).
	 */
	if (cpu->code64) {
		if (mem && in->asize != 8)
			return exec;
		fn = fast_handler64(in);
	} else {
		if (mem && in->asize != 4)
			return exec;
		fn = fast_handler32(in);
	}
	return fn ? fn : exec;
}

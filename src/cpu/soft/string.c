// SPDX-License-Identifier: MIT
/*
 * String instructions with REP/REPE/REPNE (SDM vol. 2, MOVS..STOS, REP).
 * A repeated instruction runs in bounded batches: after each batch, or
 * when an interrupt is waiting, EIP is left on the instruction so it
 * resumes where it stopped, exactly as the hardware interrupts a REP.
 */
#include <string.h>

#include "cpu/soft/exec.h"

#define REP_BATCH 4096

struct str_regs {
	u64 amask; /* SI/DI/CX width */
	int delta;
};

static u64 index_reg(const struct soft_cpu *cpu, int r, u64 amask)
{
	return cpu->s.gpr[r] & amask;
}

/* A 16-bit index keeps the upper bits; a 32-bit one zero-extends. */
static void index_set(struct soft_cpu *cpu, int r, u64 v, u64 amask)
{
	if (amask == 0xffff)
		cpu->s.gpr[r] = (cpu->s.gpr[r] & ~amask) | (v & amask);
	else
		cpu->s.gpr[r] = v & amask;
}

static void index_step(struct soft_cpu *cpu, int r, const struct str_regs *sr)
{
	index_set(cpu, r, cpu->s.gpr[r] + (u64)(s64)sr->delta, sr->amask);
}

/*
 * The 286 steps SI or DI before it checks the limit of a word at offset
 * 0xFFFF, so the #GP leaves that register advanced (recorded on silicon
 * by the SingleStepTests 80286 suite).
 */
static void check_286_word_wrap(struct soft_cpu *cpu, int reg, u64 off,
				unsigned size, const struct str_regs *sr)
{
	if (cpu->model == CPU_MODEL_286 && !cpu->pe && size == 2 &&
	    off == 0xffff) {
		index_step(cpu, reg, sr);
		if (cpu->in->rep) /* ... and has counted the iteration */
			cpu->s.gpr[R_ECX] = (cpu->s.gpr[R_ECX] & ~(u64)0xffff) |
					    (u16)(cpu->s.gpr[R_ECX] - 1);
		cpu_fault(cpu, EXC_GP, 0);
	}
}

/* One iteration; returns false when a REPE/REPNE condition ends it. */
static bool string_step(struct soft_cpu *cpu, struct insn *in, unsigned size,
			const struct str_regs *sr)
{
	u64 si = index_reg(cpu, R_ESI, sr->amask);
	u64 di = index_reg(cpu, R_EDI, sr->amask);
	u64 a, b;
	u16 port = (u16)cpu->s.gpr[R_EDX];

	if (in->op != 0x6c && in->op != 0x6d && in->op != 0xaa &&
	    in->op != 0xab && in->op != 0xae && in->op != 0xaf)
		check_286_word_wrap(cpu, R_ESI, si, size, sr);
	if (in->op != 0xac && in->op != 0xad && in->op != 0x6e &&
	    in->op != 0x6f)
		check_286_word_wrap(cpu, R_EDI, di, size, sr);
	switch (in->op) {
	case 0xa4:
	case 0xa5:
		mem_write_sz(cpu, S_ES, di, mem_read_sz(cpu, in->seg, si, size),
			     size);
		index_step(cpu, R_ESI, sr);
		index_step(cpu, R_EDI, sr);
		return true;
	case 0xa6:
	case 0xa7:
		a = mem_read_sz(cpu, in->seg, si, size);
		b = mem_read_sz(cpu, S_ES, di, size);
		alu(cpu, ALU_CMP, a, b, size);
		index_step(cpu, R_ESI, sr);
		index_step(cpu, R_EDI, sr);
		return false;
	case 0xaa:
	case 0xab:
		mem_write_sz(cpu, S_ES, di, reg_read(cpu, R_EAX, size), size);
		index_step(cpu, R_EDI, sr);
		return true;
	case 0xac:
	case 0xad:
		reg_write(cpu, R_EAX, mem_read_sz(cpu, in->seg, si, size),
			  size);
		index_step(cpu, R_ESI, sr);
		return true;
	case 0xae:
	case 0xaf:
		b = mem_read_sz(cpu, S_ES, di, size);
		alu(cpu, ALU_CMP, reg_read(cpu, R_EAX, size), b, size);
		index_step(cpu, R_EDI, sr);
		return false;
	case 0x6c:
	case 0x6d:
		/* Probe the destination before the port read has effects. */
		seg_linear(cpu, S_ES, di, size, true);
		mem_write_sz(cpu, S_ES, di, pio_read(cpu->env.pio, port, size),
			     size);
		index_step(cpu, R_EDI, sr);
		return true;
	default: /* 0x6e, 0x6f OUTS */
		pio_write(cpu->env.pio, port,
			  mem_read_sz(cpu, in->seg, si, size), size);
		index_step(cpu, R_ESI, sr);
		return true;
	}
}

/*
 * Fast runs of REP STOS and REP MOVS (forward): the elements up to the
 * next page boundary, when every one of them is plainly allowed (a
 * present expand-up writable data segment with the run inside its limit,
 * no 16-bit index wrap) and the TLB holds the page for the access (RAM
 * or a framebuffer; not cached code, whose stores must reach the icache,
 * and not MMIO). Anything else, faults included, takes the element path,
 * which then finds exactly the state the element path would have left.
 */
static u64 str_linear(const struct soft_cpu *cpu, int seg, u64 off)
{
	return seg_linear_noaccess(cpu, seg, off);
}

static u32 run_length(const struct soft_cpu *cpu, int seg, u64 off,
		      unsigned size, const struct str_regs *sr, u32 n)
{
	const struct x86_segment *sg = &cpu->s.seg[seg];
	u64 lin = str_linear(cpu, seg, off);

	if (cpu->code64) /* no limits; the TLB probe rejects the rest */
		return MIN(n, (0x1000 - (lin & 0xfff)) / size);
	if ((sg->attr & SEG_FAST_MASK) != SEG_FAST_RW || off > sg->limit)
		return 0;
	n = MIN(n, (0x1000 - (lin & 0xfff)) / size);
	n = MIN(n, (u32)(((u64)sg->limit - off + 1) / size));
	if (sr->amask == 0xffffu)
		n = MIN(n, (0x10000 - off) / size);
	return n;
}

static u32 stos_run(struct soft_cpu *cpu, unsigned size,
		    const struct str_regs *sr, u32 count)
{
	u64 di = cpu->s.gpr[R_EDI] & sr->amask, v = cpu->s.gpr[R_EAX];
	u32 i, n = run_length(cpu, S_ES, di, size, sr, count);
	u8 *p;

	if (!n)
		return 0;
	p = tlb_write_ptr(cpu, str_linear(cpu, S_ES, di), user_access(cpu));
	if (!p)
		return 0;
	if (size == 1)
		memset(p, (u8)v, n);
	else if (size == 2)
		for (i = 0; i < n; i++)
			put_le16(p + 2 * i, (u16)v);
	else if (size == 4)
		for (i = 0; i < n; i++)
			put_le32(p + 4 * i, (u32)v);
	else
		for (i = 0; i < n; i++)
			put_le64(p + 8 * i, v);
	index_set(cpu, R_EDI, di + (u64)n * size, sr->amask);
	return n;
}

static u32 movs_run(struct soft_cpu *cpu, int src_seg, unsigned size,
		    const struct str_regs *sr, u32 count)
{
	u64 si = cpu->s.gpr[R_ESI] & sr->amask;
	u64 di = cpu->s.gpr[R_EDI] & sr->amask;
	u32 i, len, n = run_length(cpu, S_ES, di, size, sr, count);
	const u8 *src;
	u8 *dst;

	n = run_length(cpu, src_seg, si, size, sr, n);
	if (!n)
		return 0;
	src = tlb_read_ptr(cpu, str_linear(cpu, src_seg, si), user_access(cpu));
	dst = tlb_write_ptr(cpu, str_linear(cpu, S_ES, di), user_access(cpu));
	if (!src || !dst)
		return 0;
	len = n * size;
	/* Inside one element the overlap is the element path's business. */
	if (dst > src && dst < src + size)
		return 0;
	/* A destination just above the source repeats what it copies. */
	if (dst > src && dst < src + len)
		for (i = 0; i < len; i++)
			dst[i] = src[i];
	else
		memmove(dst, src, len);
	index_set(cpu, R_ESI, si + len, sr->amask);
	index_set(cpu, R_EDI, di + len, sr->amask);
	return n;
}

/* Whole runs first; returns true when the instruction is done. */
static bool rep_runs(struct soft_cpu *cpu, struct insn *in, unsigned size,
		     const struct str_regs *sr)
{
	u32 budget = REP_BATCH * 16;
	bool primed = false;

	if (sr->delta < 0 || is_8086(cpu))
		return false;
	while (budget) {
		u64 left = cpu->s.gpr[R_ECX] & sr->amask;
		u32 count, done;

		if (!left)
			return true;
		count = (u32)MIN(left, (u64)budget);
		if (in->op == 0xaa || in->op == 0xab)
			done = stos_run(cpu, size, sr, count);
		else
			done = movs_run(cpu, in->seg, size, sr, count);
		if (!done && primed)
			return false;
		if (!done) {
			/*
			 * A page the TLB has not seen yet: one element the
			 * slow way fills it (or faults, exactly as it must).
			 */
			string_step(cpu, in, size, sr);
			done = 1;
			primed = true;
		} else {
			primed = false;
		}
		index_set(cpu, R_ECX, cpu->s.gpr[R_ECX] - done, sr->amask);
		budget -= done;
		if (cpu->intr_line && get_flag(cpu, FL_IF))
			break;
	}
	if (cpu->s.gpr[R_ECX] & sr->amask) {
		cpu->s.rip = cpu->insn_eip; /* resume here */
		return true;
	}
	return true;
}

static bool is_compare(u16 op)
{
	return (op >= 0xa6 && op <= 0xa7) || (op >= 0xae && op <= 0xaf);
}

void exec_string(struct soft_cpu *cpu, struct insn *in)
{
	unsigned size = in->op & 1 ? in->osize : 1;
	struct str_regs sr = {
		.amask = size_mask(in->asize),
		.delta = get_flag(cpu, FL_DF) ? -(int)size : (int)size,
	};
	unsigned n;

	if (in->op >= 0x6c && in->op <= 0x6f)
		io_check(cpu, (u16)cpu->s.gpr[R_EDX], size);
	if (!in->rep) {
		string_step(cpu, in, size, &sr);
		return;
	}
	if (in->op >= 0xa4 && in->op <= 0xab && in->op != 0xa6 &&
	    in->op != 0xa7 && in->op != 0xa8 && in->op != 0xa9 &&
	    rep_runs(cpu, in, size, &sr))
		return;
	for (n = 0; n < REP_BATCH; n++) {
		u64 count = cpu->s.gpr[R_ECX] & sr.amask;

		if (!count)
			return;
		string_step(cpu, in, size, &sr);
		index_set(cpu, R_ECX, count - 1, sr.amask);
		if (is_compare(in->op) &&
		    get_flag(cpu, FL_ZF) != (in->rep == 0xf3))
			return;
		if (cpu->intr_line && get_flag(cpu, FL_IF))
			break;
	}
	if (cpu->s.gpr[R_ECX] & sr.amask)
		cpu->s.rip = cpu->insn_eip; /* resume here */
}

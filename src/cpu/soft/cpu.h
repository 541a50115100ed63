/* SPDX-License-Identifier: MIT */
/*
 * The soft engine's private view of a processor: architectural state plus
 * what the interpreter derives from it (current privilege, address masks,
 * the software TLB) and the per-instruction scratch the executor uses.
 *
 * Faults unwind with longjmp to the instruction loop in engine.c, which
 * restores EIP/ESP to the faulting instruction and delivers the exception;
 * so instruction handlers are written straight-line, with every memory
 * access that can fault done before the first architectural write where
 * the SDM requires all-or-nothing behaviour.
 */
#ifndef TWOOSTWO_CPU_SOFT_CPU_H
#define TWOOSTWO_CPU_SOFT_CPU_H

#include <setjmp.h>

#include "cpu/engine.h"

/* Exception vectors (Intel SDM vol. 3, table 6-1). */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4,
	EXC_BR = 5, EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10,
	EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16,
	EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID 1ull /* tags are page-aligned, so bit 0 marks empty */
/*
 * In a write tag: the page holds cached code. Stores miss the inline fast
 * path and take lin_write_slow(), which tells the decode cache and then
 * stores through the same host pointer without a refill.
 */
#define TLB_CODE 2ull

/* One direct-mapped TLB set: host pointer = lin + addend. */
struct tlb_entry {
	u64 read_tag;
	u64 write_tag;
	u64 exec_tag;
	uintptr_t addend;
} __attribute__((aligned(32))); /* a power of two: indexed by a shift */

/* Kinds of access, for paging checks and #PF error codes. */
#define ACC_WRITE BIT(1)
#define ACC_USER BIT(2)
#define ACC_EXEC BIT(4)

/* Decoded instruction (see decode.c). */
struct soft_cpu;
struct insn;
/* Executes one decoded instruction: exec(), or a specialised fast path. */
typedef void (*insn_fn)(struct soft_cpu *cpu, struct insn *in);

struct insn {
	insn_fn fn; /* chosen by the decoder (fast_handler()) */
	u16 op; /* 0x0xx one-byte, 0x1xx 0F xx, 0x2xx 0F 38 xx, 0x3xx 0F 3A xx */
	u8 len;
	u8 osize; /* operand size in bytes: 2, 4 or 8 (REX.W) */
	u8 asize; /* address size: 2, 4 or 8 (64-bit mode) */
	u8 rex; /* 64-bit mode: the REX prefix (0x40-0x4F), or 0 */
	u8 seg; /* segment of the memory operand (enum x86_sreg) */
	u8 rep; /* 0, 0xF2 or 0xF3 */
	bool lock;
	bool opsize_prefix; /* 66h seen (a mandatory prefix for SSE) */
	bool seg_override;
	bool has_modrm;
	u8 mod, reg, rm;
	s8 base, index; /* -1: none; base BASE_RIP: RIP-relative */
	u8 scale;
	u64 disp; /* 64-bit mode: sign-extended; moffs64 in full */
	u64 imm; /* 64-bit operands: sign-extended imm32, or imm64 (B8+r) */
	u32 imm2; /* second immediate: ENTER level, far pointer selector */
};

/* insn.base of a RIP-relative operand (64-bit mode, mod 00 r/m 101). */
#define BASE_RIP 16

/*
 * Decoded-instruction cache: decode once, execute many times. Entries are
 * keyed by the host address of the instruction's first byte (unique per
 * guest physical byte of RAM or ROM) and the default operand size. Guest
 * RAM is divided into lines of ICACHE_LINE bytes with a write generation
 * each; an entry is valid while its line's generation is unchanged, so a
 * store into code (self-modifying code, a loader, DMA) invalidates exactly
 * the instructions decoded from that line.
 */
#define ICACHE_BITS 16
#define ICACHE_SIZE (1u << ICACHE_BITS)
#define ICACHE_LINE_SHIFT 7
#define ICACHE_LINE (1u << ICACHE_LINE_SHIFT)

struct icache_entry {
	const u8 *key;
	u32 gen;
	u8 code32; /* the code_mode it was decoded in */
	struct insn in;
};

struct block;
struct jit;

struct icache {
	struct icache_entry *entries;
	struct block *blocks; /* decoded basic blocks (block.c) */
	u8 *ram; /* guest RAM: the range line generations cover */
	u64 ram_size;
	u32 *line_gen; /* one per ICACHE_LINE bytes of RAM */
	u32 code_epoch; /* bumped whenever a store hits cached code */
	u8 *code_page; /* per 4 KiB RAM page: instructions were cached */
};

/*
 * Lazy arithmetic flags: ADD/SUB/logic/INC/DEC record their operands and
 * the six arithmetic flags are computed only when something reads them
 * (flags_materialize()). Most results are overwritten unread (add; xor;
 * dec; jnz), so this saves the bulk of flag work. Invariant: while op is
 * not LAZY_NONE, the arithmetic bits in s.eflags are stale; any code that
 * reads or writes them goes through get_flag/set_flag, read_eflags,
 * load_eflags or flags_materialize.
 */
enum lazy_op {
	LAZY_NONE,
	LAZY_ADD,
	LAZY_SUB,
	LAZY_LOGIC,
	LAZY_INC,
	LAZY_DEC,
	LAZY_SHIFT, /* SHL/SHR/SAR, IMUL r,r/m: carry is CF, b is OF */
};

struct lazy_flags {
	u64 a, b; /* operands */
	u64 res;
	u64 carry; /* carry/borrow in (ADC/SBB), kept CF (INC/DEC), CF (shift) */
	u8 op;
	u8 size;
};

struct soft_cpu {
	struct x86_state s;
	struct lazy_flags lazy;
	struct vcpu_env env;
	enum cpu_model model;

	/* Derived from s; refreshed by cpu_update_mode(). */
	u8 cpl;
	bool pe; /* protected mode, including virtual-8086 */
	bool vm86;
	bool code32; /* CS.D (or 64-bit mode) */
	bool stack32; /* SS.B (or 64-bit mode) */
	bool code64; /* 64-bit mode: EFER.LMA and CS.L */
	u8 code_mode; /* 0: 16-bit, 1: 32-bit, 2: 64-bit code (cache keys) */
	bool rex_byte; /* exec(): the instruction had REX (SPL..DIL) */
	u64 addr_mask; /* physical address lines: 20, 24 or 32 bits (A20) */

	struct tlb_entry tlb[2][TLB_SIZE]; /* [user][index] */
	struct icache icache;
	struct jit *jit; /* translated blocks (cpu/jit), NULL: interpret */
	/*
	 * The code page of the last fetch, so that consecutive instructions
	 * skip the TLB probe: its linear base (TLB_INVALID: none), host
	 * address, and line generations (NULL for ROM). Dropped whenever
	 * the TLB is, and when the CPL changes.
	 */
	u64 fetch_page;
	const u8 *fetch_host;
	const u32 *fetch_gen;

	/* Per-instruction scratch. */
	struct insn *in;
	u64 insn_eip; /* where the current instruction started (RIP) */
	u64 insn_esp; /* RSP before it, restored on faults */
	struct insn *block_insns; /* the block being run (for icount) */
	u64 ea; /* effective offset of the memory operand */
	bool ea_valid;

	/* Exception unwinding and nesting (double and triple faults). */
	jmp_buf unwind;
	int fault_vector; /* set by cpu_fault() before unwinding */
	bool fault_has_error;
	u32 fault_error;
	int delivering; /* vector being delivered, or -1 */
	bool shutdown;

	/* Interrupt inputs and run-loop control. */
	bool intr_line;
	bool stop_requested;
	bool inhibit_irq; /* one-instruction shadow after STI / MOV SS */
	u64 icount;
};

/* long.c */
bool is_canonical(u64 lin);
bool long_msr_read(struct soft_cpu *cpu, u32 msr, u64 *v);
bool long_msr_write(struct soft_cpu *cpu, u32 msr, u64 v);
void exec_syscall(struct soft_cpu *cpu);
void exec_sysret(struct soft_cpu *cpu, unsigned osize);
void exec_swapgs(struct soft_cpu *cpu);
void deliver_long(struct soft_cpu *cpu, int vector, bool software,
		  bool has_error, u32 error_code, u64 return_eip);

/* engine.c */
void cpu_update_mode(struct soft_cpu *cpu);
void cpu_tlb_flush(struct soft_cpu *cpu);
void cpu_reset(struct soft_cpu *cpu);

/* fault.c: exceptions and interrupt delivery */
__attribute__((noreturn)) void cpu_fault(struct soft_cpu *cpu, int vector,
					 u32 error_code);
__attribute__((noreturn)) void cpu_fault_noerr(struct soft_cpu *cpu,
					       int vector);
void cpu_deliver_interrupt(struct soft_cpu *cpu, int vector, bool software,
			   bool has_error, u32 error_code, u64 return_eip);
/* Deliver the fault cpu_fault() recorded, escalating to #DF/shutdown. */
void cpu_deliver_fault(struct soft_cpu *cpu);

/* trace.c: TWOOSTWO_TRACE_FAULTS, a debugging aid */
void cpu_trace_fault(const struct soft_cpu *cpu, int vector, bool has_error,
		     u32 error);
void cpu_trace_shutdown(const struct soft_cpu *cpu);

/* mmu.c: translation, TLB refills and the slow paths of mmu.h */
u64 lin_read_slow(struct soft_cpu *cpu, u64 lin, unsigned size, bool user);
void lin_write_slow(struct soft_cpu *cpu, u64 lin, u64 v, unsigned size,
		    bool user);
__attribute__((noreturn)) void seg_fault(struct soft_cpu *cpu, int seg);
/* System-structure access (GDT, IDT, TSS): supervisor, no CPL check. */
u64 sys_read64(struct soft_cpu *cpu, u64 lin);
u32 sys_read32(struct soft_cpu *cpu, u64 lin);
u16 sys_read16(struct soft_cpu *cpu, u64 lin);
u8 sys_read8(struct soft_cpu *cpu, u64 lin);
void sys_write64(struct soft_cpu *cpu, u64 lin, u64 v);
void sys_write32(struct soft_cpu *cpu, u64 lin, u32 v);
void sys_write16(struct soft_cpu *cpu, u64 lin, u16 v);
void sys_write8(struct soft_cpu *cpu, u64 lin, u8 v);
u64 mmu_translate(struct soft_cpu *cpu, u64 lin, unsigned acc);
void mmu_invlpg(struct soft_cpu *cpu, u64 lin);
/* Instruction fetch at CS:RIP + n. */
u8 fetch8(struct soft_cpu *cpu, u64 eip);

/* seg.c: segment registers and descriptors */
void seg_load_real(struct soft_cpu *cpu, int seg, u16 sel);
void seg_load(struct soft_cpu *cpu, int seg, u16 sel);
bool desc_fetch(struct soft_cpu *cpu, u16 sel, u32 *lo, u32 *hi);
void desc_to_segment(u32 lo, u32 hi, u16 sel, struct x86_segment *out);
void desc_set_accessed(struct soft_cpu *cpu, u16 sel, u32 hi);
void seg_validate_on_cpl_change(struct soft_cpu *cpu);

/* stack.c */
void push16(struct soft_cpu *cpu, u16 v);
void push32(struct soft_cpu *cpu, u32 v);
void push_sz(struct soft_cpu *cpu, u64 v, unsigned size);
u16 pop16(struct soft_cpu *cpu);
u32 pop32(struct soft_cpu *cpu);
u64 pop_sz(struct soft_cpu *cpu, unsigned size);
u64 stack_sp(struct soft_cpu *cpu);
void stack_set_sp(struct soft_cpu *cpu, u64 sp);

/* icache.c */
int icache_init(struct soft_cpu *cpu);
void icache_free(struct soft_cpu *cpu);
struct insn *icache_fetch_slow(struct soft_cpu *cpu);
/* Aim fetch_page/host/gen at CS:EIP's page if the TLB maps it for exec. */
bool icache_map_fetch_page(struct soft_cpu *cpu);
/* Instructions were decoded from host (RAM): stores there must notify. */
void icache_mark_code(struct soft_cpu *cpu, const u8 *host);
/* RAM at host address p, len bytes, is about to be written. */
void icache_note_write(struct soft_cpu *cpu, const u8 *p, u64 len);
bool icache_is_code_page(const struct soft_cpu *cpu, const u8 *host_page);

/* decode.c */
void decode(struct soft_cpu *cpu, struct insn *in);

/* exec*.c */
void exec(struct soft_cpu *cpu, struct insn *in);
/* The executor for a decoded instruction: a fast path, or exec. */
insn_fn fast_handler(const struct soft_cpu *cpu, const struct insn *in);
/*
 * Whether the decoder may pick fast paths (true). Tests clear it to run the
 * same code through exec() alone and compare; it is read at decode time.
 */
extern bool soft_fast_paths;
void exec_0f(struct soft_cpu *cpu, struct insn *in);
void exec_string(struct soft_cpu *cpu, struct insn *in);

/* control.c: far transfers, IRET, task switch */
void far_jump(struct soft_cpu *cpu, u16 sel, u32 eip, unsigned osize);
void far_call(struct soft_cpu *cpu, u16 sel, u32 eip, unsigned osize,
	      u64 return_eip);
void far_return(struct soft_cpu *cpu, unsigned osize, u16 pop_bytes);
void iret(struct soft_cpu *cpu, unsigned osize);
void task_switch(struct soft_cpu *cpu, u16 sel, u32 lo, u32 hi, int reason,
		 u64 return_eip);
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };

/* system.c */
void cpuid(struct soft_cpu *cpu);
void rdmsr(struct soft_cpu *cpu);
void wrmsr(struct soft_cpu *cpu);
void write_cr(struct soft_cpu *cpu, int n, u32 v);
void write_cr64(struct soft_cpu *cpu, int n, u64 v);
void load_eflags(struct soft_cpu *cpu, u32 v, u32 mask);
u32 read_eflags(struct soft_cpu *cpu);
u64 cpu_tsc(struct soft_cpu *cpu);

/* vme.c: virtual-8086 mode extensions and protected-mode virtual IF */
bool vme_active(const struct soft_cpu *cpu);
bool vme_cli_sti(struct soft_cpu *cpu, bool set);
void vme_pushf(struct soft_cpu *cpu, unsigned osize);
void vme_popf(struct soft_cpu *cpu, unsigned osize);
void vme_iret(struct soft_cpu *cpu, unsigned osize);
bool vme_int_redirect(struct soft_cpu *cpu, int vector);

/* fpu.c */
void fpu_reset(struct soft_cpu *cpu);
void fpu_exec(struct soft_cpu *cpu, struct insn *in);
void fpu_fwait(struct soft_cpu *cpu);
void fpu_fxsave(struct soft_cpu *cpu, int seg, u64 off);
void fpu_fxrstor(struct soft_cpu *cpu, int seg, u64 off);

/*
 * Register access helpers. Byte registers 4-7 are AH, CH, DH, BH, or SPL,
 * BPL, SIL, DIL when the instruction has a REX prefix (SDM vol. 1,
 * 3.4.1.1); 8-15 are R8B-R15B. A 32-bit write zero-extends to 64 bits.
 */
static inline u8 reg8_read(const struct soft_cpu *cpu, unsigned r)
{
	if (r < 4 || r >= 8 || cpu->rex_byte)
		return (u8)cpu->s.gpr[r];
	return (u8)(cpu->s.gpr[r - 4] >> 8);
}

static inline void reg8_write(struct soft_cpu *cpu, unsigned r, u8 v)
{
	if (r < 4 || r >= 8 || cpu->rex_byte)
		cpu->s.gpr[r] = (cpu->s.gpr[r] & ~(u64)0xff) | v;
	else
		cpu->s.gpr[r - 4] = (cpu->s.gpr[r - 4] & ~(u64)0xff00) |
				    (u64)v << 8;
}

static inline u64 reg_read(const struct soft_cpu *cpu, unsigned r,
			   unsigned size)
{
	if (size == 1)
		return reg8_read(cpu, r);
	if (size == 2)
		return (u16)cpu->s.gpr[r];
	if (size == 4)
		return (u32)cpu->s.gpr[r];
	return cpu->s.gpr[r];
}

static inline void reg_write(struct soft_cpu *cpu, unsigned r, u64 v,
			     unsigned size)
{
	if (size == 1)
		reg8_write(cpu, r, (u8)v);
	else if (size == 2)
		cpu->s.gpr[r] = (cpu->s.gpr[r] & ~(u64)0xffff) | (u16)v;
	else if (size == 4)
		cpu->s.gpr[r] = (u32)v;
	else
		cpu->s.gpr[r] = v;
}

static inline u64 size_mask(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static inline u64 sign_bit(unsigned size)
{
	return 1ull << (8 * size - 1);
}

static inline bool is_8086(const struct soft_cpu *cpu)
{
	return cpu->model == CPU_MODEL_8086;
}

static inline bool is_286_or_older(const struct soft_cpu *cpu)
{
	return cpu->model < CPU_MODEL_P6;
}

static inline bool long_mode_capable(const struct soft_cpu *cpu)
{
	return cpu->model == CPU_MODEL_X86_64;
}

/* IA-32e mode is active (EFER.LMA): 4-level paging, 64-bit IDT. */
static inline bool long_mode_active(const struct soft_cpu *cpu)
{
	return cpu->s.efer & EFER_LMA;
}

/* The linear address of CS:RIP (64-bit mode: CS has no base). */
static inline u64 code_linear(const struct soft_cpu *cpu)
{
	if (cpu->code64)
		return cpu->s.rip;
	return (u32)(cpu->s.seg[S_CS].base + cpu->s.eip);
}

static inline unsigned iopl(const struct soft_cpu *cpu)
{
	return (cpu->s.eflags >> 12) & 3;
}

void flags_materialize(struct soft_cpu *cpu);

static inline void flags_sync(struct soft_cpu *cpu)
{
	if (cpu->lazy.op != LAZY_NONE)
		flags_materialize(cpu);
}

static inline void set_flag(struct soft_cpu *cpu, u32 flag, bool on)
{
	if (flag & FL_ARITH)
		flags_sync(cpu);
	if (on)
		cpu->s.eflags |= flag;
	else
		cpu->s.eflags &= ~flag;
}

static inline bool get_flag(struct soft_cpu *cpu, u32 flag)
{
	if (flag & FL_ARITH)
		flags_sync(cpu);
	return cpu->s.eflags & flag;
}

#include "cpu/soft/mmu.h"

#endif

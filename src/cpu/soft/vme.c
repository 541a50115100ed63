// SPDX-License-Identifier: MIT
/*
 * Virtual-8086 mode extensions (CR4.VME) and protected-mode virtual
 * interrupts (CR4.PVI), Intel SDM vol. 3, 20.3 and 20.4: with IOPL < 3,
 * CLI/STI, PUSHF/POPF and IRET work on the virtual interrupt flag (VIF)
 * instead of faulting, and INT n is redirected to the virtual-8086 IVT when
 * the TSS's interrupt redirection bitmap says so.
 */
#include "cpu/soft/cpu.h"

bool vme_active(const struct soft_cpu *cpu)
{
	return cpu->vm86 && iopl(cpu) < 3 && (cpu->s.cr4 & CR4_VME);
}

static bool pvi_active(const struct soft_cpu *cpu)
{
	return cpu->pe && !cpu->vm86 && cpu->cpl == 3 && iopl(cpu) < 3 &&
	       (cpu->s.cr4 & CR4_PVI);
}

/* CLI/STI that would fault on IOPL: true when handled through VIF. */
bool vme_cli_sti(struct soft_cpu *cpu, bool set)
{
	if (!vme_active(cpu) && !pvi_active(cpu))
		return false;
	if (set && (cpu->s.eflags & FL_VIP))
		cpu_fault(cpu, EXC_GP, 0);
	set_flag(cpu, FL_VIF, set);
	return true;
}

/* The FLAGS image a VME task sees: IF from VIF, IOPL reads as 3. */
static u16 vme_flags_image(struct soft_cpu *cpu)
{
	u16 f = (u16)read_eflags(cpu);

	f = (u16)((f & ~FL_IF) | FL_IOPL);
	if (cpu->s.eflags & FL_VIF)
		f |= FL_IF;
	return f;
}

void vme_pushf(struct soft_cpu *cpu, unsigned osize)
{
	if (osize == 4)
		cpu_fault(cpu, EXC_GP, 0);
	push16(cpu, vme_flags_image(cpu));
}

/* Load a 16-bit FLAGS image popped by POPF or IRET under VME. */
static void vme_load_flags(struct soft_cpu *cpu, u16 v)
{
	if ((v & FL_TF) || ((v & FL_IF) && (cpu->s.eflags & FL_VIP)))
		cpu_fault(cpu, EXC_GP, 0);
	load_eflags(cpu, v, FL_ARITH | FL_DF | FL_NT);
	set_flag(cpu, FL_VIF, v & FL_IF);
}

void vme_popf(struct soft_cpu *cpu, unsigned osize)
{
	u32 sp = stack_sp(cpu);
	u16 v;

	if (osize == 4)
		cpu_fault(cpu, EXC_GP, 0);
	v = mem_read16(cpu, S_SS, sp);
	vme_load_flags(cpu, v);
	stack_set_sp(cpu, sp + 2);
}

void vme_iret(struct soft_cpu *cpu, unsigned osize)
{
	u32 sp = stack_sp(cpu);
	u16 ip, cs, flags;

	if (osize == 4)
		cpu_fault(cpu, EXC_GP, 0);
	ip = mem_read16(cpu, S_SS, sp);
	cs = mem_read16(cpu, S_SS, (sp + 2) & 0xffff);
	flags = mem_read16(cpu, S_SS, (sp + 4) & 0xffff);
	vme_load_flags(cpu, flags);
	stack_set_sp(cpu, sp + 6);
	seg_load_real(cpu, S_CS, cs);
	cpu->s.eip = ip;
}

/*
 * INT n in virtual-8086 mode with CR4.VME: bit n of the redirection
 * bitmap (the 32 bytes below the I/O bitmap) clear means "run the V86
 * task's own handler from its IVT" (SDM vol. 3, table 20-2, methods 5/6).
 * Returns true when the interrupt was delivered that way.
 */
bool vme_int_redirect(struct soft_cpu *cpu, int vector)
{
	const struct x86_segment *tr = &cpu->s.tr;
	u32 base, byte;
	u16 ip, cs, image;

	if (!cpu->vm86 || !(cpu->s.cr4 & CR4_VME))
		return false;
	if ((tr->attr & 0xf) != 0xb || tr->limit < 0x67)
		cpu_fault(cpu, EXC_GP, 0);
	base = sys_read16(cpu, tr->base + 0x66);
	byte = base - 32 + (u32)vector / 8;
	if (base < 32 || byte > tr->limit)
		cpu_fault(cpu, EXC_GP, 0);
	if (sys_read8(cpu, tr->base + byte) & BIT(vector & 7))
		return false; /* protected-mode handler (or #GP if IOPL < 3) */
	ip = lin_read16(cpu, (u32)vector * 4, true);
	cs = lin_read16(cpu, (u32)vector * 4 + 2, true);
	image = iopl(cpu) == 3 ? (u16)read_eflags(cpu) : vme_flags_image(cpu);
	push16(cpu, image);
	push16(cpu, cpu->s.seg[S_CS].selector);
	push16(cpu, (u16)cpu->s.eip);
	if (iopl(cpu) == 3)
		cpu->s.eflags &= ~FL_IF;
	else
		cpu->s.eflags &= ~FL_VIF;
	cpu->s.eflags &= ~(FL_TF | FL_RF);
	seg_load_real(cpu, S_CS, cs);
	cpu->s.eip = ip;
	return true;
}

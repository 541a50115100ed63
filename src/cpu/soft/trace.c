// SPDX-License-Identifier: MIT
/*
 * A debugging aid: TWOOSTWO_TRACE_FAULTS=N in the environment prints the
 * first N exceptions the soft CPU raises (vector, error code, CS:RIP, CR2
 * for #PF, the mode) and every triple-fault shutdown to stderr. A guest
 * that goes wrong usually shows it first as an exception nobody expected
 * (a #UD of an unimplemented opcode, a #GP of a missing MSR), long before
 * it hangs or resets. Unset or 0: nothing is printed and nothing costs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cpu/soft/cpu.h"

static const char *const exception_names[] = {
	"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "MF09",
	"TS", "NP", "SS",  "GP", "PF", "15", "MF", "AC", "MC", "XM",
};

/* How many more faults to print; -1 until the environment is read. */
static long trace_budget = -1;

static bool trace_wanted(void)
{
	if (trace_budget < 0) {
		const char *v = getenv("TWOOSTWO_TRACE_FAULTS");

		trace_budget = v ? strtol(v, NULL, 0) : 0;
		if (trace_budget < 0)
			trace_budget = 0;
	}
	return trace_budget > 0;
}

static const char *cpu_mode_name(const struct soft_cpu *cpu)
{
	if (!cpu->pe)
		return "real";
	if (cpu->s.efer & EFER_LMA)
		return cpu->s.seg[S_CS].attr & SEG_ATTR_L ? "64-bit" : "compat";
	return cpu->code32 ? "prot32" : "prot16";
}

void cpu_trace_fault(const struct soft_cpu *cpu, int vector, bool has_error,
		     u32 error)
{
	char name[8];

	if (!trace_wanted())
		return;
	trace_budget--;
	if (vector >= 0 && vector < (int)ARRAY_SIZE(exception_names))
		snprintf(name, sizeof(name), "#%s", exception_names[vector]);
	else
		snprintf(name, sizeof(name), "#%d", vector);
	fprintf(stderr, "twoostwo: trace: %s", name);
	if (has_error)
		fprintf(stderr, " error %#x", error);
	fprintf(stderr, " at %04x:%016llx (%s, cpl %u, rsp %016llx)",
		cpu->s.seg[S_CS].selector, (unsigned long long)cpu->insn_eip,
		cpu_mode_name(cpu), cpu->cpl,
		(unsigned long long)cpu->insn_esp);
	if (vector == EXC_PF)
		fprintf(stderr, " cr2 %016llx", (unsigned long long)cpu->s.cr2);
	fprintf(stderr, "\n");
}

void cpu_trace_shutdown(const struct soft_cpu *cpu)
{
	if (!trace_wanted())
		return;
	fprintf(stderr, "twoostwo: trace: triple fault at %04x:%016llx\n",
		cpu->s.seg[S_CS].selector, (unsigned long long)cpu->insn_eip);
}

// SPDX-License-Identifier: MIT
/*
 * The soft engine's run loop: it must always give control back to the
 * machine (a guest faulting in a loop cannot hang the VMM), and it holds
 * a second NMI until the first handler's IRET (Intel SDM vol. 3, 6.7.1).
 */
#include <signal.h>
#include <unistd.h>

#include "cpu_rig.h"

/* clang-format off */

/* mov eax, v; out RIG_PORT, eax */
#define LOG_I(v) MOV_RI(R_EAX, v), 0xe7, RIG_PORT

/* clang-format on */

static void on_alarm(int sig)
{
	static const char msg[] = "test_cpu_engine: run() never returned\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/*
 * Real mode, #UD whose handler is another UD2: every instruction faults.
 * run() must still return at its deadline (checked with an alarm, so a
 * regression fails the test instead of hanging the suite).
 */
static void test_fault_storm_yields(void)
{
	struct rig r;
	struct x86_state s;
	u64 start;
	enum vcpu_exit e;

	rig_open(&r);
	rig_wr16(&r, 6 * 4, 0x7d00); /* IVT[6] = 0000:7D00 */
	rig_wr16(&r, 6 * 4 + 2, 0);
	rig_org(&r, 0x7c00);
	EMIT(&r, 0x0f, 0x0b); /* ud2 */
	rig_org(&r, 0x7d00);
	EMIT(&r, 0x0f, 0x0b);
	rig_real_state(&r, &s);
	s.seg[S_SS] = rig_seg(0x2000, 0x20000, 0xffff, A_DATA | 1);
	soft_engine_ops.set_state(r.vcpu, &s);
	signal(SIGALRM, on_alarm);
	alarm(5);
	start = clock_now_ns();
	e = soft_engine_ops.run(r.vcpu, start + 10 * NSEC_PER_MSEC);
	alarm(0);
	CHECK_EQ(e, VCPU_EXIT_DEADLINE);
	CHECK(clock_now_ns() - start < NSEC_PER_SEC);
	rig_close(&r);
}

/* An NMI raised inside the NMI handler is taken after its IRET. */
static void test_nmi_blocked_until_iret(void)
{
	struct rig r;

	rig_open(&r);
	rig_idt(&r, 2, SEL_CODE0, CODE2, GATE_INT32, 0);
	EMIT(&r, 0xe6, RIG_PORT_NMI, /* out 0xea, al: raise NMI */
	     LOG_I(0xc), HLT);
	rig_org(&r, CODE2);
	EMIT(&r, LOG_I(0xa),
	     0xff, 0x05, D32(DATA), /* inc dword [DATA] */
	     0x83, 0x3d, D32(DATA), 1, /* cmp dword [DATA], 1 */
	     0x75, 0x02, /* jne +2 */
	     0xe6, RIG_PORT_NMI, /* first time only: NMI again */
	     LOG_I(0xb), IRETD);
	rig_run_pm(&r);
	CHECK_DONE(&r);
	CHECK_OUTS(&r, 0xa, 0xb, 0xa, 0xb, 0xc);
	rig_close(&r);
}

int main(void)
{
	RUN_TEST(test_fault_storm_yields);
	RUN_TEST(test_nmi_blocked_until_iret);
	return unit_summary();
}

// SPDX-License-Identifier: MIT
/*
 * The kvm engine's run loop: KVM_RUN until the slice's deadline, handing
 * every exit to the machine (port I/O and MMIO to the same buses the soft
 * engine uses, MSRs to the machine's hooks, HLT), injecting the PIC/APIC's
 * interrupts when KVM says the guest can take one, and executing what KVM
 * cannot emulate in the soft engine, one instruction at a time.
 *
 * The slice ends by a per-thread POSIX timer whose signal sets
 * kvm_run.immediate_exit (Documentation/virt/kvm/api.rst: the race-free way
 * to kick a vCPU): a guest spinning natively with no exit still gives the
 * machine its event loop on time. run() must be called on the thread that
 * created the vcpu (the machine thread).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "cpu/kvm/kvm_vcpu.h"

/* Real-time signal for the deadline kick (glibc keeps the first few). */
#define KVM_KICK_SIGNAL (SIGRTMIN + 6)
#define KVM_CONTINUE (-1)

static __thread struct kvm_run *kvm_kick_target;

static void kvm_kick_handler(int sig)
{
	struct kvm_run *r = kvm_kick_target;

	if (r)
		r->immediate_exit = 1;
}

int kvm_kick_init(struct vcpu *v)
{
	struct sigaction sa = {.sa_handler = kvm_kick_handler,
			       .sa_flags = SA_RESTART};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID,
			       .sigev_signo = KVM_KICK_SIGNAL};
	sigset_t set;

	sev._sigev_un._tid = gettid();
	sigemptyset(&sa.sa_mask);
	if (sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &v->timer) < 0)
		return -errno;
	v->has_timer = true;
	return 0;
}

void kvm_kick_destroy(struct vcpu *v)
{
	if (v->has_timer)
		timer_delete(v->timer);
	v->has_timer = false;
	if (kvm_kick_target == v->run)
		kvm_kick_target = NULL;
}

static void kvm_arm(struct vcpu *v, u64 deadline_ns)
{
	struct itimerspec its = {
		.it_value = {.tv_sec = (time_t)(deadline_ns / NSEC_PER_SEC),
			     .tv_nsec = (long)(deadline_ns % NSEC_PER_SEC)},
	};

	if (deadline_ns == v->armed_ns)
		return;
	timer_settime(v->timer, TIMER_ABSTIME, &its, NULL);
	v->armed_ns = deadline_ns;
}

/* IN/OUT, INS/OUTS: count accesses of size bytes in the shared page. */
static void kvm_exit_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	u64 len = (u64)r->io.size * r->io.count;
	u8 *data = (u8 *)r + r->io.data_offset;
	u32 i;

	v->io_exits++;
	if (r->io.data_offset > v->run_size ||
	    len > v->run_size - r->io.data_offset ||
	    (r->io.size != 1 && r->io.size != 2 && r->io.size != 4))
		return;
	for (i = 0; i < r->io.count; i++, data += r->io.size) {
		if (r->io.direction == KVM_EXIT_IO_OUT) {
			u32 val = r->io.size == 1 ? *data :
				  r->io.size == 2 ? get_le16(data) :
						    get_le32(data);

			pio_write(v->env.pio, r->io.port, val, r->io.size);
			continue;
		}
		u32 val = pio_read(v->env.pio, r->io.port, r->io.size);

		if (r->io.size == 1)
			*data = (u8)val;
		else if (r->io.size == 2)
			put_le16(data, (u16)val);
		else
			put_le32(data, val);
	}
}

/*
 * The register port (VMware backdoor, bus/pio.h): the device reads and
 * sets the eight 32-bit registers. The IN completes first (it writes EAX
 * and moves RIP), then the other registers are set.
 */
static void kvm_exit_regs_port(struct vcpu *v)
{
	struct kvm_regs kr;
	u32 g[8];

	v->io_exits++;
	if (ioctl(v->fd, KVM_GET_REGS, &kr) < 0)
		return;
	g[R_EAX] = (u32)kr.rax;
	g[R_ECX] = (u32)kr.rcx;
	g[R_EDX] = (u32)kr.rdx;
	g[R_EBX] = (u32)kr.rbx;
	g[R_ESP] = (u32)kr.rsp;
	g[R_EBP] = (u32)kr.rbp;
	g[R_ESI] = (u32)kr.rsi;
	g[R_EDI] = (u32)kr.rdi;
	v->env.pio->regs_fn(v->env.pio->regs_opaque, g);
	put_le32((u8 *)v->run + v->run->io.data_offset, g[R_EAX]);
	v->io_pending = true;
	kvm_complete_io(v);
	if (ioctl(v->fd, KVM_GET_REGS, &kr) < 0)
		return;
	kr.rcx = g[R_ECX];
	kr.rdx = g[R_EDX];
	kr.rbx = g[R_EBX];
	kr.rsp = g[R_ESP];
	kr.rbp = g[R_EBP];
	kr.rsi = g[R_ESI];
	kr.rdi = g[R_EDI];
	ioctl(v->fd, KVM_SET_REGS, &kr);
}

static void kvm_exit_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	u32 len = MIN(r->mmio.len, 8u), i;
	u64 val;

	v->mmio_exits++;
	if (len == 1 || len == 2 || len == 4 || len == 8) {
		if (r->mmio.is_write) {
			memcpy(&val, r->mmio.data, 8);
			mem_write(v->env.mem, r->mmio.phys_addr, val, len);
		} else {
			val = mem_read(v->env.mem, r->mmio.phys_addr, len);
			memcpy(r->mmio.data, &val, len);
		}
		return;
	}
	for (i = 0; i < len; i++) { /* odd sizes: byte by byte */
		if (r->mmio.is_write)
			mem_write(v->env.mem, r->mmio.phys_addr + i,
				  r->mmio.data[i], 1);
		else
			r->mmio.data[i] = (u8)mem_read(
				v->env.mem, r->mmio.phys_addr + i, 1);
	}
}

/* RDMSR/WRMSR of an MSR KVM routes to us: the machine's hooks, else #GP. */
static void kvm_exit_msr(struct vcpu *v, bool write)
{
	struct kvm_run *r = v->run;
	u64 val = r->msr.data;
	bool ok;

	if (write)
		ok = v->env.msr_write &&
		     v->env.msr_write(v->env.opaque, r->msr.index, val);
	else
		ok = v->env.msr_read &&
		     v->env.msr_read(v->env.opaque, r->msr.index, &val);
	r->msr.error = !ok;
	if (ok && !write)
		r->msr.data = val;
}

/* An exit that needs the next KVM_RUN to finish the instruction. */
static bool kvm_exit_data(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		if (r->io.direction == KVM_EXIT_IO_IN && r->io.count == 1 &&
		    pio_is_regs_port(v->env.pio, r->io.port, r->io.size))
			kvm_exit_regs_port(v);
		else
			kvm_exit_io(v);
		return true;
	case KVM_EXIT_MMIO:
		kvm_exit_mmio(v);
		return true;
	case KVM_EXIT_X86_RDMSR:
		kvm_exit_msr(v, false);
		return true;
	case KVM_EXIT_X86_WRMSR:
		kvm_exit_msr(v, true);
		return true;
	default:
		return false;
	}
}

/*
 * Finish the instruction of the last I/O, MMIO or MSR exit without running
 * the guest further (immediate_exit): before the state is read, and before
 * run() returns, so a device never sees an access twice.
 */
void kvm_complete_io(struct vcpu *v)
{
	u8 saved;

	if (!v->io_pending)
		return;
	saved = v->run->immediate_exit;
	v->run->immediate_exit = 1;
	/* A REP INS/OUTS or a split MMIO access may exit again at once. */
	while (ioctl(v->fd, KVM_RUN, 0) == 0 && kvm_exit_data(v))
		v->exits++;
	v->run->immediate_exit = saved;
	v->io_pending = false;
}

/* Which bytes the soft engine will decode: drop its stale decodes. */
static void kvm_note_code(struct vcpu *v, const struct x86_state *s)
{
	u64 lin = s->seg[S_CS].base + s->rip;
	struct kvm_translation t = {0};
	unsigned i;

	if (!(s->efer & EFER_LMA) || !(s->seg[S_CS].attr & SEG_ATTR_L))
		lin = (u32)lin;
	u64 first = MIN(16u, MEM_PAGE_SIZE - (lin & (MEM_PAGE_SIZE - 1)));

	for (i = 0; i < 2; i++) { /* an instruction may cross a page */
		t.linear_address = i ? lin + first : lin;
		if (i && first == 16)
			break;
		if (ioctl(v->fd, KVM_TRANSLATE, &t) == 0 && t.valid)
			mem_notify_written(v->env.mem, t.physical_address,
					   i ? 16 - first : first);
	}
}

/*
 * KVM could not run this instruction (emulation failure, an exit we do not
 * handle): the soft engine executes it, delivering any fault it raises,
 * and the guest continues in KVM.
 */
static int kvm_fallback(struct vcpu *v)
{
	struct x86_state s;
	enum vcpu_exit e;

	if (v->run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		log_debug("kvm", "internal error %u: soft engine steps",
			  v->run->internal.suberror);
	v->fallbacks++;
	kvm_vcpu_get_state(v, &s);
	kvm_note_code(v, &s);
	soft_engine_ops.set_state(v->soft, &s);
	e = soft_engine_ops.step(v->soft);
	soft_engine_ops.get_state(v->soft, &s);
	kvm_vcpu_set_state(v, &s);
	v->if_flag = !!(s.eflags & FL_IF);
	v->run->ready_for_interrupt_injection = 0;
	if (e == VCPU_EXIT_SHUTDOWN)
		return VCPU_EXIT_SHUTDOWN;
	return v->halted ? VCPU_EXIT_HALT : KVM_CONTINUE;
}

static int kvm_handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	if (kvm_exit_data(v)) {
		v->io_pending = true;
		return KVM_CONTINUE;
	}
	switch (r->exit_reason) {
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_INTR:
	/*
	 * AMD: a CR8 write lowering the TPR, already done. CR8 stays in the
	 * vCPU state as under the soft engine; the local APIC model's TPR
	 * is its MMIO register.
	 */
	case KVM_EXIT_SET_TPR:
		return KVM_CONTINUE;
	case KVM_EXIT_HLT:
		v->halted = !v->nmi_pending && !(v->intr_line && v->if_flag);
		return v->halted ? VCPU_EXIT_HALT : KVM_CONTINUE;
	case KVM_EXIT_SHUTDOWN:
	case KVM_EXIT_SYSTEM_EVENT:
		return VCPU_EXIT_SHUTDOWN;
	case KVM_EXIT_FAIL_ENTRY:
		log_error("kvm", "VM entry failed (hardware reason 0x%llx)",
			  (unsigned long long)
				  r->fail_entry.hardware_entry_failure_reason);
		return VCPU_EXIT_SHUTDOWN;
	default:
		return kvm_fallback(v);
	}
}

/* Give KVM the NMI and, when the guest can take it, the INTR vector. */
static void kvm_inject(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	struct kvm_interrupt irq;
	int vec;

	if (r->immediate_exit)
		return; /* this KVM_RUN will not enter the guest */
	if (v->nmi_pending && ioctl(v->fd, KVM_NMI, 0) == 0)
		v->nmi_pending = false;
	if (v->intr_line && r->ready_for_interrupt_injection && v->if_flag) {
		vec = v->env.intack(v->env.opaque);
		irq.irq = (u32)vec;
		if (vec >= 0 && ioctl(v->fd, KVM_INTERRUPT, &irq) == 0)
			v->injected++;
		r->ready_for_interrupt_injection = 0;
	}
	/* Still more to deliver: exit as soon as the guest can take it. */
	r->request_interrupt_window = v->intr_line;
}

static enum vcpu_exit kvm_loop(struct vcpu *v, u64 deadline_ns)
{
	int ret;

	for (;;) {
		if (v->map_dirty && kvm_sync_slots(v))
			return VCPU_EXIT_SHUTDOWN;
		kvm_inject(v);
		ret = ioctl(v->fd, KVM_RUN, 0);
		v->io_pending = false;
		if (ret < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				log_error("kvm", "KVM_RUN: %s",
					  strerror(errno));
				return VCPU_EXIT_SHUTDOWN;
			}
			v->run->immediate_exit = 0;
			if (v->stop_requested)
				return VCPU_EXIT_STOP;
			if (clock_now_ns() >= deadline_ns)
				return VCPU_EXIT_DEADLINE;
			continue;
		}
		v->exits++;
		v->if_flag = v->run->if_flag;
		ret = kvm_handle_exit(v);
		if (ret != KVM_CONTINUE)
			return (enum vcpu_exit)ret;
		if (clock_now_ns() >= deadline_ns) {
			kvm_complete_io(v);
			return VCPU_EXIT_DEADLINE;
		}
	}
}

enum vcpu_exit kvm_vcpu_run(struct vcpu *v, u64 deadline_ns)
{
	enum vcpu_exit e;

	kvm_kick_target = v->run;
	v->run->immediate_exit = 0;
	if (v->halted) {
		if (!v->nmi_pending && !(v->intr_line && v->if_flag))
			return v->stop_requested ? (v->stop_requested = false,
						    VCPU_EXIT_STOP) :
						   VCPU_EXIT_HALT;
		v->halted = false;
	}
	if (v->stop_requested) {
		v->stop_requested = false;
		return VCPU_EXIT_STOP;
	}
	if (clock_now_ns() >= deadline_ns)
		return VCPU_EXIT_DEADLINE;
	kvm_arm(v, deadline_ns);
	e = kvm_loop(v, deadline_ns);
	v->stop_requested = false;
	v->run->immediate_exit = 0;
	kvm_sync_dirty_logs(v);
	return e;
}

/* One instruction under KVM's single-step (its I/O exits handled). */
enum vcpu_exit kvm_vcpu_step(struct vcpu *v)
{
	struct kvm_guest_debug dbg = {.control = KVM_GUESTDBG_ENABLE |
						 KVM_GUESTDBG_SINGLESTEP};
	enum vcpu_exit e = VCPU_EXIT_STOP;
	int ret;

	if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		return VCPU_EXIT_SHUTDOWN;
	v->run->immediate_exit = 0;
	v->run->request_interrupt_window = 0;
	for (;;) {
		ret = ioctl(v->fd, KVM_RUN, 0);
		v->io_pending = false;
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			e = VCPU_EXIT_SHUTDOWN;
			break;
		}
		v->exits++;
		v->if_flag = v->run->if_flag;
		if (v->run->exit_reason == KVM_EXIT_DEBUG)
			break;
		if (kvm_exit_data(v)) {
			v->io_pending = true;
			continue;
		}
		if (v->run->exit_reason == KVM_EXIT_HLT) {
			v->halted = true;
			e = VCPU_EXIT_HALT;
			break;
		}
		ret = kvm_handle_exit(v);
		if (ret != KVM_CONTINUE)
			e = (enum vcpu_exit)ret;
		break;
	}
	kvm_complete_io(v);
	dbg.control = 0;
	ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg);
	return e;
}

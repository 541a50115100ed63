// SPDX-License-Identifier: MIT
/*
 * The PC's main loop, on one thread: run the vCPU in slices of at most
 * PC_SLICE_NS, and between slices dispatch the event loop (timers, host
 * file descriptors) and act on requests (reset, quit). A halted vCPU sleeps
 * in epoll until the next timer or host event, so an idle guest costs no
 * host CPU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "block/aio.h"
#include "core/clock.h"
#include "core/log.h"
#include "hw/i8042.h"
#include "hw/vga.h"
#include "machine/pc_internal.h"
#include "ui/screen_dump.h"
#include "ui/terminal.h"

#define PC_SLICE_NS (10 * NSEC_PER_MSEC)
/*
 * While disk requests are on the workers, slices are short: their
 * completions arrive through the event loop, and a guest that keeps the
 * vCPU busy (or polls the status register) sees them within this time.
 * Stopping the vCPU from a worker would be faster but the engine's stop
 * flag is machine-thread state.
 */
#define PC_SLICE_IO_NS (1 * NSEC_PER_MSEC)
/*
 * While network traffic flows (evloop_busy), slices are shorter still:
 * every TCP round trip through the NAT waits for the loop to read the
 * host socket, so the slice bounds the guest's throughput.
 */
#define PC_SLICE_NET_NS (250 * NSEC_PER_USEC)
/* Screen watch period: short, so benchmarks stop close to the moment. */
#define PC_SCREEN_PERIOD_NS (20 * NSEC_PER_MSEC)

static void pc_signal_ready(void *opaque, int fd, u32 events)
{
	struct pc *pc = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		pc_request_quit(pc, PC_EXIT_SIGNAL + (int)si.ssi_signo);
}

/* SIGINT and SIGTERM stop the machine cleanly (terminal restored). */
static int pc_catch_signals(struct pc *pc)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, &pc->saved_sigmask) < 0)
		return -errno;
	pc->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (pc->signal_fd < 0) {
		ret = -errno;
		sigprocmask(SIG_SETMASK, &pc->saved_sigmask, NULL);
		return ret;
	}
	ret = evloop_add_fd(&pc->loop, pc->signal_fd, EPOLLIN, pc_signal_ready,
			    pc);
	return ret;
}

static void pc_release_signals(struct pc *pc)
{
	if (pc->signal_fd < 0)
		return;
	evloop_del_fd(&pc->loop, pc->signal_fd);
	close(pc->signal_fd);
	pc->signal_fd = -1;
	sigprocmask(SIG_SETMASK, &pc->saved_sigmask, NULL);
}

/* Dump the screen when its text changed; stop when it shows the marker. */
static void pc_screen_tick(void *opaque)
{
	struct pc *pc = opaque;
	char *text;

	timer_arm(&pc->screen_timer, clock_now_ns() + PC_SCREEN_PERIOD_NS);
	vga_get_text_screen(pc->vga, &pc->screen);
	text = text_screen_to_utf8(&pc->screen);
	if (!text)
		return;
	if (pc->last_screen_text && !strcmp(text, pc->last_screen_text)) {
		free(text);
		return;
	}
	free(pc->last_screen_text);
	pc->last_screen_text = text;
	if (pc->cfg.screen_dump_path &&
	    screen_dump_write(pc->cfg.screen_dump_path, &pc->screen) < 0 &&
	    !pc->screen_dump_failed) {
		pc->screen_dump_failed = true;
		log_warn("pc", "cannot write the screen dump %s",
			 pc->cfg.screen_dump_path);
	}
	if (pc->cfg.exit_when_screen && strstr(text, pc->cfg.exit_when_screen))
		pc_request_quit(pc, 0);
}

static void pc_timeout(void *opaque)
{
	struct pc *pc = opaque;

	fprintf(stderr, "twoostwo: timeout after %.1f s\n",
		(double)pc->cfg.timeout_ns / NSEC_PER_SEC);
	pc_request_quit(pc, PC_EXIT_TIMEOUT);
}

static void pc_ui_get_screen(void *opaque, struct text_screen *out)
{
	struct pc *pc = opaque;

	vga_get_text_screen(pc->vga, out);
}

static void pc_ui_key(void *opaque, u16 keycode, bool down)
{
	struct pc *pc = opaque;

	i8042_key_event(pc->kbc, keycode, down);
}

/* Typed keys wait while the keyboard still holds earlier ones. */
static bool pc_ui_key_ready(void *opaque)
{
	struct pc *pc = opaque;

	return i8042_kbd_queue_empty(pc->kbc);
}

static void pc_ui_quit(void *opaque)
{
	pc_request_quit(opaque, 0);
}

static int pc_start_display(struct pc *pc)
{
	const struct terminal_ui_host host = {
		.get_screen = pc_ui_get_screen,
		.key = pc_ui_key,
		.quit = pc_ui_quit,
		.opaque = pc,
		.key_ready = pc_ui_key_ready,
	};

	if (pc->cfg.display != PC_DISPLAY_TERMINAL)
		return 0;
	return terminal_ui_create(&pc->loop, STDIN_FILENO, STDOUT_FILENO, &host,
				  &pc->ui);
}

static void pc_start_timers(struct pc *pc)
{
	u64 now = clock_now_ns();

	timer_init(&pc->screen_timer, &pc->loop.timers, pc_screen_tick, pc);
	timer_init(&pc->timeout_timer, &pc->loop.timers, pc_timeout, pc);
	if (pc->cfg.screen_dump_path || pc->cfg.exit_when_screen)
		timer_arm(&pc->screen_timer, now + PC_SCREEN_PERIOD_NS);
	if (pc->cfg.timeout_ns)
		timer_arm(&pc->timeout_timer, now + pc->cfg.timeout_ns);
}

static void pc_stop_timers(struct pc *pc)
{
	timer_cancel(&pc->screen_timer);
	timer_cancel(&pc->timeout_timer);
}

/*
 * HLT with IF clear: only an NMI or a reset wakes the CPU, which is how
 * test ROMs (test386.asm) say they are done.
 */
static bool pc_halted_for_good(struct pc *pc)
{
	struct x86_state st;

	if (!pc->engine->get_state)
		return false;
	pc->engine->get_state(pc->vcpu, &st);
	return !(st.eflags & FL_IF);
}

static u64 pc_slice_ns(struct pc *pc, u64 now)
{
	if (now < pc->loop.busy_until_ns)
		return PC_SLICE_NET_NS;
	if (aio_ctx_busy(pc->aio))
		return PC_SLICE_IO_NS;
	return PC_SLICE_NS;
}

/* One time slice of the vCPU, then whatever the machine must do. */
static void pc_step(struct pc *pc)
{
	u64 next = timers_next_deadline(&pc->loop.timers);
	u64 now = clock_now_ns();
	u64 slice_end = now + pc_slice_ns(pc, now);

	if (pc->paused) {
		/*
		 * Back ends, displays and the control socket carry on; the
		 * guest clock stands, so guest timers wait (core/clock.h).
		 */
		evloop_run_once(&pc->loop, next);
		return;
	}
	switch (pc->engine->run(pc->vcpu, MIN(next, slice_end))) {
	case VCPU_EXIT_HALT:
		if (pc->cfg.exit_when_halted && pc_halted_for_good(pc)) {
			pc_request_quit(pc, 0);
			break;
		}
		/* Wait for a timer or host event; epoll caps the wait. */
		evloop_run_once(&pc->loop,
				timers_next_deadline(&pc->loop.timers));
		break;
	case VCPU_EXIT_SHUTDOWN:
		fprintf(stderr, "twoostwo: guest triple fault: resetting the "
				"machine\n");
		pc->reset_requested = true;
		break;
	case VCPU_EXIT_DEADLINE:
	case VCPU_EXIT_STOP:
		evloop_run_once(&pc->loop, 0);
		break;
	}
	if (pc->reset_requested && !pc->quit_requested)
		pc_reset(pc);
}

/*
 * TWOOSTWO_STATS=1 in the environment: at exit, how many guest
 * instructions ran and at what rate (for benchmarks).
 */
static void pc_print_stats(struct pc *pc, u64 start_ns)
{
	const char *want = getenv("TWOOSTWO_STATS");
	u64 insns, ns = clock_now_ns() - start_ns;

	if (!want || !*want || !strcmp(want, "0") || !pc->engine->instructions)
		return;
	insns = pc->engine->instructions(pc->vcpu);
	fprintf(stderr,
		"twoostwo: stats: %llu instructions in %.3f s (%.1f "
		"million/s)\n",
		(unsigned long long)insns, (double)ns / NSEC_PER_SEC,
		ns ? (double)insns * 1e3 / (double)ns : 0.0);
	if (pc->engine->get_state) {
		struct x86_state st;

		pc->engine->get_state(pc->vcpu, &st);
		fprintf(stderr,
			"twoostwo: stats: stopped at %04x:%016llx (cr0 %llx "
			"efer %llx rsp %llx cr2 %llx cr3 %llx)\n",
			st.seg[S_CS].selector, (unsigned long long)st.rip,
			(unsigned long long)st.cr0,
			(unsigned long long)st.efer,
			(unsigned long long)st.gpr[R_ESP],
			(unsigned long long)st.cr2,
			(unsigned long long)st.cr3);
		if (getenv("TWOOSTWO_STATS_CODE")) {
			/* the bytes at RIP, read as physical (identity map) */
			unsigned i;

			for (i = 0; i < 16; i++)
				fprintf(stderr, "r%u=%llx ", i,
					(unsigned long long)st.gpr[i]);
			fprintf(stderr, "\ncode:");
			for (i = 0; i < 48; i++)
				fprintf(stderr, " %02x",
					(unsigned)mem_read(&pc->mem,
							   st.rip - 16 + i, 1));
			fprintf(stderr, "\n");
		}
	}
}

/*
 * TWOOSTWO_MAX_INSNS=N in the environment: stop once N guest instructions
 * ran, so a profile (valgrind --tool=callgrind) covers the same guest work
 * however fast the host is. 0 or unset: no limit.
 */
static u64 pc_instruction_limit(void)
{
	const char *want = getenv("TWOOSTWO_MAX_INSNS");

	return want ? strtoull(want, NULL, 0) : 0;
}

static bool pc_instruction_limit_reached(struct pc *pc, u64 limit)
{
	return limit && pc->engine->instructions &&
	       pc->engine->instructions(pc->vcpu) >= limit;
}

int pc_run(struct pc *pc)
{
	u64 start_ns = clock_now_ns();
	u64 insn_limit = pc_instruction_limit();
	int ret = pc_catch_signals(pc);

	if (ret) {
		fprintf(stderr, "twoostwo: cannot watch for signals: %s\n",
			strerror(-ret));
		pc_release_signals(pc);
		return 1;
	}
	ret = pc_start_display(pc);
	if (ret) {
		fprintf(stderr, "twoostwo: cannot use the terminal: %s\n",
			strerror(-ret));
		pc_release_signals(pc);
		return 1;
	}
	pc_start_timers(pc);
	while (!pc->quit_requested &&
	       !pc_instruction_limit_reached(pc, insn_limit))
		pc_step(pc);
	pc_stop_timers(pc);
	pc_print_stats(pc, start_ns);
	if (pc->ui) {
		terminal_ui_destroy(pc->ui);
		pc->ui = NULL;
	}
	pc_release_signals(pc);
	return pc->exit_status;
}

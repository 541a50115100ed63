// SPDX-License-Identifier: MIT
/*
 * The control socket's machine verbs (control.h): state, stop (the ACPI
 * power button), quit, reset, pause, unpause and suspend. They run on the
 * machine thread between CPU slices, like every control command.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/timer.h"
#include "hw/piix4_pm.h"
#include "machine/pc_internal.h"
#include "ui/vnc.h"

/*
 * "running pid=N uptime=S", and with a VNC server "vnc=ADDR" (as given to
 * --vnc, ":PORT" meaning loopback) and "web=URL": `vm console` prints
 * them so a user can reach a graphical VM.
 */
static int pc_vm_state(struct pc *pc, char *msg, size_t len)
{
	const char *url = pc->vnc ? vnc_web_url(pc->vnc) : NULL;
	int n = snprintf(
		msg, len, "%s pid=%d uptime=%llu",
		pc->paused ? "paused" : "running", (int)getpid(),
		(unsigned long long)((clock_now_ns() - pc->created_ns) /
				     NSEC_PER_SEC));

	if (pc->vnc && n > 0 && (size_t)n < len)
		n += snprintf(msg + n, len - (size_t)n, " vnc=%s%s",
			      pc->cfg.vnc_listen[0] == ':' ? "127.0.0.1" : "",
			      pc->cfg.vnc_listen);
	if (url && n > 0 && (size_t)n < len)
		snprintf(msg + n, len - (size_t)n, " web=%s", url);
	return 0;
}

/*
 * Suspend: the vCPU is between slices (this runs in the event loop), so
 * the saved state is one instruction boundary. On success the process
 * ends; on failure the machine runs on and nothing is lost.
 */
static int pc_vm_suspend(struct pc *pc, char *msg, size_t len)
{
	u64 t0 = clock_now_ns();
	int ret;

	if (!pc->cfg.state_path) {
		snprintf(msg, len, "no state file (run --state-file PATH)");
		return -ENOTSUP;
	}
	ret = pc_save_state(pc, pc->cfg.state_path, msg, len);
	if (ret)
		return ret;
	log_info("pc", "suspended to %s in %.3f s", pc->cfg.state_path,
		 (double)(clock_now_ns() - t0) / NSEC_PER_SEC);
	snprintf(msg, len, "suspended %s", pc->cfg.state_path);
	pc_request_quit(pc, 0);
	return 0;
}

int pc_ctl_machine(void *opaque, enum control_verb verb, char *msg, size_t len)
{
	struct pc *pc = opaque;

	switch (verb) {
	case CONTROL_STATE:
		return pc_vm_state(pc, msg, len);
	case CONTROL_STOP:
		piix4_pm_power_button(pc->pm);
		snprintf(msg, len, "power button pressed");
		return 0;
	case CONTROL_QUIT:
		pc_request_quit(pc, 0);
		snprintf(msg, len, "powered off");
		return 0;
	case CONTROL_RESET:
		pc_request_reset(pc);
		snprintf(msg, len, "reset");
		return 0;
	case CONTROL_PAUSE:
	case CONTROL_UNPAUSE:
		pc->paused = verb == CONTROL_PAUSE;
		/*
		 * The guest clock stops with the CPU (core/clock.h), so a
		 * pause is invisible to the guest: no time jump, no burst
		 * of timer interrupts when it goes on.
		 */
		if (pc->paused) {
			pc->engine->stop(pc->vcpu);
			clock_guest_stop(&pc->loop.timers);
		} else {
			clock_guest_start(&pc->loop.timers);
		}
		snprintf(msg, len, "%s", pc->paused ? "paused" : "running");
		return 0;
	case CONTROL_SUSPEND:
		return pc_vm_suspend(pc, msg, len);
	default:
		snprintf(msg, len, "not a machine command");
		return -EINVAL;
	}
}

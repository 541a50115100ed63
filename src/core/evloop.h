/* SPDX-License-Identifier: MIT */
/*
 * The machine's event loop: file descriptors (terminal, sockets, host
 * devices) watched with epoll, plus the machine's timers. Runs on the
 * machine thread between CPU time slices, so handlers need no locks.
 */
#ifndef TWOOSTWO_CORE_EVLOOP_H
#define TWOOSTWO_CORE_EVLOOP_H

#include "core/timer.h"

typedef void (*evloop_fd_fn)(void *opaque, int fd, u32 events);

struct evloop_fd;

struct evloop {
	int epfd;
	struct timer_list timers;
	struct evloop_fd *fds;
	/*
	 * Set by the machine: end the vCPU's current slice so the loop runs
	 * soon (a device on the machine thread expects host events back).
	 */
	void (*wake)(void *opaque);
	void *wake_opaque;
	/* Until this time, the machine keeps its slices short (evloop_busy). */
	u64 busy_until_ns;
};

int evloop_init(struct evloop *loop);
void evloop_destroy(struct evloop *loop);
/* Watch fd for events (EPOLLIN, EPOLLOUT...). Returns 0 or -errno. */
int evloop_add_fd(struct evloop *loop, int fd, u32 events, evloop_fd_fn fn,
		  void *opaque);
int evloop_mod_fd(struct evloop *loop, int fd, u32 events);
void evloop_del_fd(struct evloop *loop, int fd);
/*
 * Dispatch ready fds and due timers, waiting at most until deadline_ns
 * (0: do not wait).
 */
void evloop_run_once(struct evloop *loop, u64 deadline_ns);

/*
 * From a device handler running inside a vCPU slice: end the slice now so
 * the loop dispatches host events (a reply to what the guest just sent).
 */
static inline void evloop_wake(struct evloop *loop)
{
	if (loop && loop->wake)
		loop->wake(loop->wake_opaque);
}

/*
 * Traffic is flowing: until until_ns, host events should reach the guest
 * within a short slice, not the idle one.
 */
static inline void evloop_busy(struct evloop *loop, u64 until_ns)
{
	if (loop && until_ns > loop->busy_until_ns)
		loop->busy_until_ns = until_ns;
}

#endif

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

#endif

// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/evloop.h"

struct evloop_fd {
	int fd;
	evloop_fd_fn fn;
	void *opaque;
	struct evloop_fd *next;
};

int evloop_init(struct evloop *loop)
{
	*loop = (struct evloop){ 0 };
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epfd < 0 ? -errno : 0;
}

void evloop_destroy(struct evloop *loop)
{
	struct evloop_fd *e, *next;

	for (e = loop->fds; e; e = next) {
		next = e->next;
		free(e);
	}
	loop->fds = NULL;
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

int evloop_add_fd(struct evloop *loop, int fd, u32 events, evloop_fd_fn fn,
		  void *opaque)
{
	struct evloop_fd *e = calloc(1, sizeof(*e));
	struct epoll_event ev = { .events = events };

	if (!e)
		return -ENOMEM;
	*e = (struct evloop_fd){ .fd = fd, .fn = fn, .opaque = opaque };
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(e);
		return err;
	}
	e->next = loop->fds;
	loop->fds = e;
	return 0;
}

static struct evloop_fd *evloop_find(struct evloop *loop, int fd,
				     struct evloop_fd ***link)
{
	struct evloop_fd **pp;

	for (pp = &loop->fds; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

int evloop_mod_fd(struct evloop *loop, int fd, u32 events)
{
	struct evloop_fd *e = evloop_find(loop, fd, NULL);
	struct epoll_event ev = { .events = events };

	if (!e)
		return -ENOENT;
	ev.data.ptr = e;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void evloop_del_fd(struct evloop *loop, int fd)
{
	struct evloop_fd **link;
	struct evloop_fd *e = evloop_find(loop, fd, &link);

	if (!e)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = e->next;
	free(e);
}

void evloop_run_once(struct evloop *loop, u64 deadline_ns)
{
	struct epoll_event evs[16];
	int timeout_ms = 0;
	u64 now = clock_now_ns();
	u64 next = timers_next_deadline(&loop->timers);
	int n, i;

	if (next < deadline_ns)
		deadline_ns = next;
	if (deadline_ns > now) {
		u64 wait = (deadline_ns - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
		timeout_ms = wait > 1000 ? 1000 : (int)wait;
	}
	n = epoll_wait(loop->epfd, evs, ARRAY_SIZE(evs), timeout_ms);
	for (i = 0; i < n; i++) {
		struct evloop_fd *e = evs[i].data.ptr;

		e->fn(e->opaque, e->fd, evs[i].events);
	}
	timers_run(&loop->timers, clock_now_ns());
}

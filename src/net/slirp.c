// SPDX-License-Identifier: MIT
/*
 * User-mode NAT through libslirp: the guest sees a router at 10.0.2.2
 * with DHCP (leases from 10.0.2.15), DNS at 10.0.2.3, a TFTP server with
 * a boot file when asked, and outgoing TCP/UDP made with ordinary host
 * sockets; host ports can be forwarded into the guest. No privileges.
 *
 * libslirp wants a poll() loop: before sleeping, slirp_pollfds_fill()
 * names the sockets and events it waits for and how long it may sleep;
 * after, slirp_pollfds_poll() handles what is ready. Our loop is epoll, so
 * the sockets slirp names go into a private epoll set whose one fd sits in
 * the machine's event loop: when any of them is ready, or slirp's timeout
 * is due, we poll() the current set without waiting, let slirp handle it,
 * and bring the private set up to date. Slirp's own timers (IPv6 router
 * advertisements) are machine timers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "net/backends.h"

#define SLIRP_NET "10.0.2.0"
#define SLIRP_MASK "255.255.255.0"
#define SLIRP_HOST "10.0.2.2"
#define SLIRP_DHCP_START "10.0.2.15"
#define SLIRP_DNS "10.0.2.3"
/* Wake up at least this often even if slirp names no deadline. */
#define SLIRP_MAX_SLEEP_MS 1000

struct slirp_watch {
	int fd;
	u32 events; /* EPOLL* */
};

struct slirp_port {
	struct net_port port;
	Slirp *slirp;
	int epfd; /* the private epoll set of slirp's sockets */
	struct timer poll_timer;
	/* The set slirp asked for at the last fill, as poll() wants it. */
	struct pollfd *pfds;
	unsigned nfds, cap;
	/* What the private epoll set holds now. */
	struct slirp_watch *watched;
	unsigned nwatched, watched_cap;
	struct net_rxq rxq;
};

struct slirp_timer {
	struct timer t;
	struct slirp_port *sp;
	SlirpTimerId id;
	SlirpTimerCb cb; /* the old-style callback, or NULL */
	void *cb_opaque;
};

static struct slirp_port *to_slirp(struct net_port *port)
{
	return (struct slirp_port *)port;
}

static ssize_t slirp_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_port *sp = opaque;

	/* Full queue: dropped, as a wire would; TCP retransmits. */
	net_rxq_push(&sp->port, &sp->rxq, buf, len);
	return (ssize_t)len;
}

static void slirp_guest_error(const char *msg, void *opaque)
{
	log_warn("slirp", "guest error: %s", msg);
}

static int64_t slirp_clock_ns(void *opaque)
{
	return (int64_t)clock_now_ns();
}

static void slirp_sync(struct slirp_port *sp);

static void slirp_timer_fire(void *opaque)
{
	struct slirp_timer *st = opaque;

	if (st->cb)
		st->cb(st->cb_opaque);
	else
		slirp_handle_timer(st->sp->slirp, st->id, st->cb_opaque);
	slirp_sync(st->sp);
}

static void *slirp_timer_new_opaque(SlirpTimerId id, void *cb_opaque,
				    void *opaque)
{
	struct slirp_port *sp = opaque;
	struct slirp_timer *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->sp = sp;
	st->id = id;
	st->cb_opaque = cb_opaque;
	timer_init(&st->t, &sp->port.loop->timers, slirp_timer_fire, st);
	return st;
}

static void *slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_timer *st =
		slirp_timer_new_opaque(SLIRP_TIMER_RA, cb_opaque, opaque);

	if (st)
		st->cb = cb;
	return st;
}

static void slirp_timer_free(void *timer, void *opaque)
{
	struct slirp_timer *st = timer;

	if (!st)
		return;
	timer_cancel(&st->t);
	free(st);
}

/* expire_ms is on slirp_clock_ns's clock, in milliseconds. */
static void slirp_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *st = timer;

	if (st)
		timer_arm(&st->t,
			  expire_ms < 0 ? 0 : (u64)expire_ms * NSEC_PER_MSEC);
}

/*
 * A socket slirp closes leaves the kernel's epoll set by itself; forget
 * it here too, so that a new socket that gets the same number is added.
 */
static void slirp_unregister_fd(int fd, void *opaque)
{
	struct slirp_port *sp = opaque;
	unsigned i;

	for (i = 0; i < sp->nwatched; i++) {
		if (sp->watched[i].fd == fd) {
			epoll_ctl(sp->epfd, EPOLL_CTL_DEL, fd, NULL);
			sp->watched[i] = sp->watched[--sp->nwatched];
			return;
		}
	}
}

/* A new socket: a stale entry under its number must not hide it. */
static void slirp_register_fd(int fd, void *opaque)
{
	slirp_unregister_fd(fd, opaque);
}

static void slirp_notify(void *opaque)
{
}

static const SlirpCb slirp_callbacks = {
	.send_packet = slirp_send_packet,
	.guest_error = slirp_guest_error,
	.clock_get_ns = slirp_clock_ns,
	.timer_new = slirp_timer_new,
	.timer_free = slirp_timer_free,
	.timer_mod = slirp_timer_mod,
	.register_poll_fd = slirp_register_fd,
	.unregister_poll_fd = slirp_unregister_fd,
	.notify = slirp_notify,
	.timer_new_opaque = slirp_timer_new_opaque,
};

static short slirp_to_poll(int events)
{
	short ev = 0;

	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	return ev;
}

static int slirp_add_poll(int fd, int events, void *opaque)
{
	struct slirp_port *sp = opaque;

	if (sp->nfds == sp->cap) {
		unsigned cap = sp->cap ? sp->cap * 2 : 16;
		struct pollfd *p = realloc(sp->pfds, cap * sizeof(*p));

		if (!p)
			return -1;
		sp->pfds = p;
		sp->cap = cap;
	}
	sp->pfds[sp->nfds] =
		(struct pollfd){.fd = fd, .events = slirp_to_poll(events)};
	return (int)sp->nfds++;
}

static int slirp_get_revents(int idx, void *opaque)
{
	struct slirp_port *sp = opaque;
	short re;
	int ev = 0;

	if (idx < 0 || (unsigned)idx >= sp->nfds)
		return 0;
	re = sp->pfds[idx].revents;
	if (re & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (re & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (re & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (re & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (re & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

static u32 slirp_epoll_events(short ev)
{
	return (ev & POLLIN ? EPOLLIN : 0) | (ev & POLLOUT ? EPOLLOUT : 0) |
	       (ev & POLLPRI ? EPOLLPRI : 0);
}

static struct slirp_watch *slirp_find_watch(struct slirp_port *sp, int fd)
{
	unsigned i;

	for (i = 0; i < sp->nwatched; i++)
		if (sp->watched[i].fd == fd)
			return &sp->watched[i];
	return NULL;
}

static void slirp_watch_fd(struct slirp_port *sp, int fd, u32 events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	struct slirp_watch *w = slirp_find_watch(sp, fd);

	if (w) {
		if (w->events != events &&
		    epoll_ctl(sp->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
		    errno == ENOENT)
			epoll_ctl(sp->epfd, EPOLL_CTL_ADD, fd, &ev);
		w->events = events;
		return;
	}
	if (sp->nwatched == sp->watched_cap) {
		unsigned cap = sp->watched_cap ? sp->watched_cap * 2 : 16;
		struct slirp_watch *p = realloc(sp->watched, cap * sizeof(*p));

		if (!p)
			return;
		sp->watched = p;
		sp->watched_cap = cap;
	}
	if (epoll_ctl(sp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
	    (errno != EEXIST ||
	     epoll_ctl(sp->epfd, EPOLL_CTL_MOD, fd, &ev) < 0))
		return;
	sp->watched[sp->nwatched++] = (struct slirp_watch){fd, events};
}

static bool slirp_wanted(const struct slirp_port *sp, int fd)
{
	unsigned i;

	for (i = 0; i < sp->nfds; i++)
		if (sp->pfds[i].fd == fd)
			return true;
	return false;
}

/*
 * Ask slirp what it waits for now, make the private epoll set match and
 * arm the timer for slirp's timeout.
 */
static void slirp_sync(struct slirp_port *sp)
{
	uint32_t timeout = SLIRP_MAX_SLEEP_MS;
	unsigned i;

	sp->nfds = 0;
	slirp_pollfds_fill(sp->slirp, &timeout, slirp_add_poll, sp);
	for (i = 0; i < sp->nwatched;) {
		if (slirp_wanted(sp, sp->watched[i].fd)) {
			i++;
			continue;
		}
		epoll_ctl(sp->epfd, EPOLL_CTL_DEL, sp->watched[i].fd, NULL);
		sp->watched[i] = sp->watched[--sp->nwatched];
	}
	for (i = 0; i < sp->nfds; i++)
		if (sp->pfds[i].events)
			slirp_watch_fd(sp, sp->pfds[i].fd,
				       slirp_epoll_events(sp->pfds[i].events));
	if (timeout > SLIRP_MAX_SLEEP_MS)
		timeout = SLIRP_MAX_SLEEP_MS;
	timer_arm(&sp->poll_timer,
		  clock_now_ns() + (u64)timeout * NSEC_PER_MSEC);
}

/* Let slirp handle whatever of its set is ready, then wait again. */
static void slirp_poll_now(struct slirp_port *sp)
{
	int n = 0;

	if (sp->nfds)
		n = poll(sp->pfds, sp->nfds, 0);
	slirp_pollfds_poll(sp->slirp, n < 0, slirp_get_revents, sp);
	slirp_sync(sp);
}

static void slirp_epoll_ready(void *opaque, int fd, u32 events)
{
	struct epoll_event evs[8];

	/* Drain the private set's readiness; poll() says what is ready. */
	epoll_wait(fd, evs, ARRAY_SIZE(evs), 0);
	slirp_poll_now(opaque);
}

static void slirp_poll_timer(void *opaque)
{
	slirp_poll_now(opaque);
}

static void slirp_port_send(struct net_port *port, const u8 *frame, size_t len)
{
	struct slirp_port *sp = to_slirp(port);

	slirp_input(sp->slirp, frame, (int)len);
	/* A new connection or datagram may have made a new socket. */
	slirp_sync(sp);
}

static void slirp_port_accept_input(struct net_port *port)
{
	struct slirp_port *sp = to_slirp(port);

	net_rxq_flush(port, &sp->rxq);
}

static void slirp_port_close(struct net_port *port)
{
	struct slirp_port *sp = to_slirp(port);

	net_rxq_destroy(&sp->rxq);
	timer_cancel(&sp->poll_timer);
	if (sp->epfd >= 0) {
		evloop_del_fd(port->loop, sp->epfd);
		close(sp->epfd);
	}
	if (sp->slirp)
		slirp_cleanup(sp->slirp);
	free(sp->pfds);
	free(sp->watched);
	free(sp);
}

static const struct net_port_ops slirp_port_ops = {
	.send = slirp_port_send,
	.accept_input = slirp_port_accept_input,
	.close = slirp_port_close,
};

static void slirp_fill_config(SlirpConfig *cfg,
			      const struct net_slirp_options *opt)
{
	*cfg = (SlirpConfig){
		.version = 4,
		.in_enabled = true,
		.in6_enabled = true,
		.vprefix_len = 64,
		.vhostname = "twoostwo",
		.tftp_server_name = opt->tftp_dir ? SLIRP_HOST : NULL,
		.tftp_path = opt->tftp_dir,
		.bootfile = opt->bootfile,
	};
	inet_pton(AF_INET, SLIRP_NET, &cfg->vnetwork);
	inet_pton(AF_INET, SLIRP_MASK, &cfg->vnetmask);
	inet_pton(AF_INET, SLIRP_HOST, &cfg->vhost);
	inet_pton(AF_INET, SLIRP_DHCP_START, &cfg->vdhcp_start);
	inet_pton(AF_INET, SLIRP_DNS, &cfg->vnameserver);
	inet_pton(AF_INET6, "fec0::", &cfg->vprefix_addr6);
	inet_pton(AF_INET6, "fec0::2", &cfg->vhost6);
	inet_pton(AF_INET6, "fec0::3", &cfg->vnameserver6);
}

static int slirp_add_forwards(struct slirp_port *sp,
			      const struct net_slirp_options *opt, char *err,
			      size_t errlen)
{
	unsigned i;

	for (i = 0; i < opt->nr_hostfwd; i++) {
		const struct net_hostfwd *f = &opt->hostfwd[i];
		struct in_addr host = {htonl(f->host_addr)};
		struct in_addr guest = {0}; /* the first DHCP address */
		char addr[INET_ADDRSTRLEN];

		if (slirp_add_hostfwd(sp->slirp, f->udp, host, f->host_port,
				      guest, f->guest_port) < 0) {
			inet_ntop(AF_INET, &host, addr, sizeof(addr));
			snprintf(err, errlen,
				 "hostfwd=%s:%u:%u: cannot listen on %s:%u "
				 "(port in use or not allowed)",
				 f->udp ? "udp" : "tcp", f->host_port,
				 f->guest_port, addr, f->host_port);
			return -EADDRINUSE;
		}
	}
	return 0;
}

int net_slirp_open(struct evloop *loop, const struct net_slirp_options *opt,
		   struct net_port **out, char *err, size_t errlen)
{
	struct slirp_port *sp = calloc(1, sizeof(*sp));
	SlirpConfig cfg;
	int ret;

	if (!sp) {
		snprintf(err, errlen, "nat: out of memory");
		return -ENOMEM;
	}
	sp->port = (struct net_port){.ops = &slirp_port_ops, .loop = loop};
	timer_init(&sp->poll_timer, &loop->timers, slirp_poll_timer, sp);
	sp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sp->epfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "nat: epoll: %s", strerror(-ret));
		slirp_port_close(&sp->port);
		return ret;
	}
	ret = evloop_add_fd(loop, sp->epfd, EPOLLIN, slirp_epoll_ready, sp);
	if (ret) {
		close(sp->epfd);
		sp->epfd = -1;
		snprintf(err, errlen, "nat: event loop: %s", strerror(-ret));
		slirp_port_close(&sp->port);
		return ret;
	}
	slirp_fill_config(&cfg, opt);
	sp->slirp = slirp_new(&cfg, &slirp_callbacks, sp);
	if (!sp->slirp) {
		snprintf(err, errlen, "nat: libslirp could not start");
		slirp_port_close(&sp->port);
		return -ENOMEM;
	}
	ret = slirp_add_forwards(sp, opt, err, errlen);
	if (ret) {
		slirp_port_close(&sp->port);
		return ret;
	}
	slirp_sync(sp);
	*out = &sp->port;
	return 0;
}

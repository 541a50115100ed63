// SPDX-License-Identifier: MIT
/*
 * A host TAP device (Linux tun/tap, Documentation/networking/tuntap.rst):
 * frames the guest sends come out of the TAP on the host, and frames the
 * host sends to the TAP reach the guest. Either an existing TAP by name
 * (made beforehand with `ip tuntap add tap0 mode tap user $USER`, which
 * then needs no privilege here), or one created here and added to an
 * existing Linux bridge (SIOCBRADDIF), which needs CAP_NET_ADMIN. A TAP
 * that disappears while the VM runs unplugs the cable.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/backends.h"

#define TAP_CLONE_DEV "/dev/net/tun"

struct tap_port {
	struct net_port port;
	int fd;
	bool reading;
	struct timer unwatch;
	char name[IFNAMSIZ];
	struct net_rxq rxq;
};

static struct tap_port *to_tap(struct net_port *port)
{
	return (struct tap_port *)port;
}

static void tap_stop_reading(struct tap_port *tp)
{
	if (tp->reading) {
		evloop_del_fd(tp->port.loop, tp->fd);
		tp->reading = false;
	}
}

static void tap_unwatch(void *opaque)
{
	tap_stop_reading(opaque);
}

static void tap_fail(struct tap_port *tp, int err)
{
	if (tp->port.link_down)
		return;
	net_port_fail(&tp->port, "TAP %s: %s", tp->name,
		      err == EBADFD || err == ENODEV ?
			      "the device was removed" :
			      strerror(err));
	timer_arm(&tp->unwatch, 0);
}

static void tap_ready(void *opaque, int fd, u32 events)
{
	struct tap_port *tp = opaque;
	u8 buf[65536];
	ssize_t n;

	if (tp->port.link_down)
		return;
	while (!net_rxq_full(&tp->rxq)) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			tap_fail(tp, n < 0 ? errno : ENODEV);
			return;
		}
		if ((size_t)n <= NET_MAX_FRAME)
			net_rxq_push(&tp->port, &tp->rxq, buf, (size_t)n);
	}
	/* Back-pressure: frames wait in the TAP's queue until accept_input. */
	tap_stop_reading(tp);
}

static int tap_start_reading(struct tap_port *tp)
{
	int ret;

	if (tp->reading || tp->port.link_down)
		return 0;
	ret = evloop_add_fd(tp->port.loop, tp->fd, EPOLLIN, tap_ready, tp);
	if (!ret)
		tp->reading = true;
	return ret;
}

static void tap_port_send(struct net_port *port, const u8 *frame, size_t len)
{
	struct tap_port *tp = to_tap(port);

	/* EIO: the host side is down; a full queue drops: both are a wire. */
	if (write(tp->fd, frame, len) < 0 && errno != EAGAIN &&
	    errno != EINTR && errno != EIO && errno != ENOBUFS)
		tap_fail(tp, errno);
}

static void tap_port_accept_input(struct net_port *port)
{
	struct tap_port *tp = to_tap(port);

	if (!net_rxq_flush(port, &tp->rxq))
		tap_start_reading(tp);
}

static void tap_port_close(struct net_port *port)
{
	struct tap_port *tp = to_tap(port);

	net_rxq_destroy(&tp->rxq);
	timer_cancel(&tp->unwatch);
	tap_stop_reading(tp);
	if (tp->fd >= 0)
		close(tp->fd);
	free(tp);
}

static const struct net_port_ops tap_port_ops = {
	.send = tap_port_send,
	.accept_input = tap_port_accept_input,
	.close = tap_port_close,
};

static const char *tap_privilege_hint(int err)
{
	return err == EPERM || err == EACCES ?
		       " (needs root or CAP_NET_ADMIN, or a TAP made for "
		       "this user with 'ip tuntap add NAME mode tap user "
		       "USER')" :
		       "";
}

/* Open the clone device and attach to (or create) the TAP. */
static int tap_attach(struct tap_port *tp, const char *ifname, char *err,
		      size_t errlen)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	int ret;

	tp->fd = open(TAP_CLONE_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tp->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "tap: cannot open %s: %s%s",
			 TAP_CLONE_DEV, strerror(-ret),
			 ret == -ENOENT ? " (no tun/tap support on this "
					  "host)" :
					  tap_privilege_hint(-ret));
		return ret;
	}
	if (ifname)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(tp->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		snprintf(err, errlen, "tap=%s: cannot attach: %s%s",
			 ifname ? ifname : "(new)", strerror(-ret),
			 tap_privilege_hint(-ret));
		return ret;
	}
	snprintf(tp->name, sizeof(tp->name), "%s", ifr.ifr_name);
	return 0;
}

/* Bring the TAP up and, if asked, add it to the bridge. */
static int tap_configure(struct tap_port *tp, const char *bridge, char *err,
			 size_t errlen)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (s < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tp->name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		/* An existing TAP may be someone else's to bring up. */
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0 && bridge)
			ret = -errno;
	}
	if (!ret && bridge) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
		ifr.ifr_ifindex = (int)if_nametoindex(tp->name);
		if (ioctl(s, SIOCBRADDIF, &ifr) < 0)
			ret = -errno;
	}
	close(s);
	if (ret)
		snprintf(err, errlen, "bridge=%s: cannot add TAP %s: %s%s",
			 bridge, tp->name,
			 ret == -ENODEV ? "no such bridge" :
			 ret == -EOPNOTSUPP || ret == -EINVAL ? "not a bridge" :
								strerror(-ret),
			 tap_privilege_hint(-ret));
	return ret;
}

int net_tap_open(struct evloop *loop, const char *ifname, const char *bridge,
		 struct net_port **out, char *err, size_t errlen)
{
	struct tap_port *tp = calloc(1, sizeof(*tp));
	int ret;

	if (!tp) {
		snprintf(err, errlen, "tap: out of memory");
		return -ENOMEM;
	}
	tp->port = (struct net_port){.ops = &tap_port_ops, .loop = loop};
	tp->fd = -1;
	timer_init(&tp->unwatch, &loop->timers, tap_unwatch, tp);
	if (bridge && if_nametoindex(bridge) == 0) {
		snprintf(err, errlen, "bridge=%s: no such network interface",
			 bridge);
		tap_port_close(&tp->port);
		return -ENODEV;
	}
	ret = tap_attach(tp, ifname, err, errlen);
	ret = ret ?: tap_configure(tp, bridge, err, errlen);
	if (!ret) {
		ret = tap_start_reading(tp);
		if (ret)
			snprintf(err, errlen, "tap %s: event loop: %s",
				 tp->name, strerror(-ret));
	}
	if (ret) {
		tap_port_close(&tp->port);
		return ret;
	}
	*out = &tp->port;
	return 0;
}

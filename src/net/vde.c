// SPDX-License-Identifier: MIT
/*
 * A port on a VDE switch (vde2's vde_switch, through libvdeplug): several
 * VMs, twoostwo's and QEMU's alike, on one virtual Ethernet. The switch
 * is started separately (`vde_switch -s /tmp/sw -d`); this back end
 * plugs into it. A switch that goes away while the VM runs unplugs the
 * cable (one line on stderr); the VM keeps running.
 */
#include <errno.h>
#include <fcntl.h>
#include <libvdeplug.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/backends.h"

/*
 * libvdeplug dlopen()s its transport plugins with RTLD_DEEPBIND, which the
 * AddressSanitizer runtime aborts on: in such a build the back end says so
 * instead of taking the process down.
 */
#if defined(__SANITIZE_ADDRESS__)
#define NET_VDE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NET_VDE_SANITIZED 1
#endif
#endif
#ifndef NET_VDE_SANITIZED
#define NET_VDE_SANITIZED 0
#endif

struct vde_port {
	struct net_port port;
	VDECONN *conn;
	int fd;	    /* vde_datafd: frames arrive here */
	int ctl_fd; /* vde_ctlfd: silent until the switch closes it */
	bool reading;
	/* Unwatches the fds after a failure, outside the epoll dispatch. */
	struct timer unwatch;
	char *path;
	struct net_rxq rxq;
};

static struct vde_port *to_vde(struct net_port *port)
{
	return (struct vde_port *)port;
}

static void vde_stop_reading(struct vde_port *vp)
{
	if (vp->fd >= 0 && vp->reading) {
		evloop_del_fd(vp->port.loop, vp->fd);
		vp->reading = false;
	}
}

static void vde_unwatch(void *opaque)
{
	struct vde_port *vp = opaque;

	vde_stop_reading(vp);
	if (vp->ctl_fd >= 0) {
		evloop_del_fd(vp->port.loop, vp->ctl_fd);
		vp->ctl_fd = -1;
	}
}

/*
 * The fds leave the event loop from a timer: the loop may still hold an
 * event of the other one from the same epoll_wait.
 */
static void vde_fail(struct vde_port *vp, const char *what)
{
	if (vp->port.link_down)
		return;
	net_port_fail(&vp->port, "vde switch %s: %s", vp->path, what);
	timer_arm(&vp->unwatch, 0);
}

static void vde_ready(void *opaque, int fd, u32 events)
{
	struct vde_port *vp = opaque;
	u8 buf[VDE_ETHBUFSIZE];
	ssize_t n;

	if (vp->port.link_down)
		return;
	/* Read while the card (or the queue) can take frames. */
	while (!net_rxq_full(&vp->rxq)) {
		n = vde_recv(vp->conn, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			vde_fail(vp, n < 0 ? strerror(errno) :
					     "the switch went away");
			return;
		}
		/* VDE carries jumbo frames; our cards don't. */
		if ((size_t)n <= NET_MAX_FRAME)
			net_rxq_push(&vp->port, &vp->rxq, buf, (size_t)n);
	}
	/* Back-pressure: leave the rest in the socket until accept_input. */
	vde_stop_reading(vp);
}

/* Anything on the control socket (EOF, hang-up) means the switch is gone. */
static void vde_ctl_ready(void *opaque, int fd, u32 events)
{
	vde_fail(opaque, "the switch went away");
}

static int vde_start_reading(struct vde_port *vp)
{
	int ret;

	if (vp->reading || vp->port.link_down)
		return 0;
	ret = evloop_add_fd(vp->port.loop, vp->fd, EPOLLIN, vde_ready, vp);
	if (!ret)
		vp->reading = true;
	return ret;
}

static void vde_port_send(struct net_port *port, const u8 *frame, size_t len)
{
	struct vde_port *vp = to_vde(port);
	ssize_t n = vde_send(vp->conn, frame, len, MSG_DONTWAIT);

	/* A full socket drops the frame, as a busy wire would. */
	if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
		vde_fail(vp, strerror(errno));
}

static void vde_port_accept_input(struct net_port *port)
{
	struct vde_port *vp = to_vde(port);

	if (!net_rxq_flush(port, &vp->rxq))
		vde_start_reading(vp);
}

static void vde_port_close(struct net_port *port)
{
	struct vde_port *vp = to_vde(port);

	net_rxq_destroy(&vp->rxq);
	timer_cancel(&vp->unwatch);
	vde_unwatch(vp);
	if (vp->conn)
		vde_close(vp->conn);
	free(vp->path);
	free(vp);
}

static const struct net_port_ops vde_port_ops = {
	.send = vde_port_send,
	.accept_input = vde_port_accept_input,
	.close = vde_port_close,
};

int net_vde_open(struct evloop *loop, const char *path, struct net_port **out,
		 char *err, size_t errlen)
{
	struct vde_open_args args = {.port = 0, .group = NULL, .mode = 0700};
	struct vde_port *vp = calloc(1, sizeof(*vp));
	struct stat st;
	int ret;

	if (!vp || !(vp->path = strdup(path))) {
		free(vp);
		snprintf(err, errlen, "vde=%s: out of memory", path);
		return -ENOMEM;
	}
	vp->port = (struct net_port){.ops = &vde_port_ops, .loop = loop};
	vp->fd = -1;
	vp->ctl_fd = -1;
	timer_init(&vp->unwatch, &loop->timers, vde_unwatch, vp);
	/* libvdeplug's own message for a missing switch is vague. */
	if (stat(path, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "vde=%s: no VDE switch there (%s); start one with "
			 "'vde_switch -s %s -d'",
			 path, strerror(-ret), path);
		vde_port_close(&vp->port);
		return ret;
	}
	if (NET_VDE_SANITIZED) {
		snprintf(err, errlen,
			 "vde=%s: not in a sanitizer build: libvdeplug loads "
			 "its plugins with RTLD_DEEPBIND, which "
			 "AddressSanitizer refuses",
			 path);
		vde_port_close(&vp->port);
		return -ENOTSUP;
	}
	vp->conn = vde_open(vp->path, "twoostwo", &args);
	if (!vp->conn) {
		ret = errno ? -errno : -ECONNREFUSED;
		snprintf(err, errlen,
			 "vde=%s: cannot connect to the switch: %s", path,
			 strerror(-ret));
		vde_port_close(&vp->port);
		return ret;
	}
	vp->fd = vde_datafd(vp->conn);
	/* vde_recv passes no MSG_DONTWAIT on: the fd itself must not block. */
	fcntl(vp->fd, F_SETFL, fcntl(vp->fd, F_GETFL) | O_NONBLOCK);
	ret = vde_start_reading(vp);
	if (!ret && vde_ctlfd(vp->conn) >= 0) {
		ret = evloop_add_fd(loop, vde_ctlfd(vp->conn),
				    EPOLLIN | EPOLLRDHUP, vde_ctl_ready, vp);
		if (!ret)
			vp->ctl_fd = vde_ctlfd(vp->conn);
	}
	if (ret) {
		snprintf(err, errlen, "vde=%s: event loop: %s", path,
			 strerror(-ret));
		vde_port_close(&vp->port);
		return ret;
	}
	*out = &vp->port;
	return 0;
}

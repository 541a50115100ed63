/* SPDX-License-Identifier: MIT */
/*
 * The network back ends (one per file in src/net/) as net/netdev.c opens
 * them. Each returns 0 and a net_port, or -errno with a one-line reason
 * in err. Ports are closed with net_port_close().
 */
#ifndef TWOOSTWO_NET_BACKENDS_H
#define TWOOSTWO_NET_BACKENDS_H

#include "net/net.h"

#define NET_MAX_HOSTFWD 8

struct net_hostfwd {
	bool udp;
	u32 host_addr; /* host byte order; default 127.0.0.1 */
	u16 host_port, guest_port;
};

struct net_slirp_options {
	const char *tftp_dir; /* or NULL: no TFTP server */
	const char *bootfile; /* DHCP boot file name, or NULL */
	struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
	unsigned nr_hostfwd;
};

/* libslirp user-mode NAT (net/slirp.c). */
int net_slirp_open(struct evloop *loop, const struct net_slirp_options *opt,
		   struct net_port **out, char *err, size_t errlen);
/*
 * A host TAP device (net/tap.c): ifname, an existing TAP (or a name to
 * create), or NULL with bridge: create one and add it to that bridge.
 */
int net_tap_open(struct evloop *loop, const char *ifname, const char *bridge,
		 struct net_port **out, char *err, size_t errlen);
/* A port on a VDE switch at path (net/vde.c). */
int net_vde_open(struct evloop *loop, const char *path, struct net_port **out,
		 char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * A network card and what its cable plugs into, as the user writes it:
 *
 *   CARD[,BACKEND][,option]...
 *
 *   CARD      ne2k-pci (alias rtl8029): Realtek RTL8029AS on PCI;
 *             ne2k-isa (alias ne2000): Novell NE2000 on ISA
 *   BACKEND   nat (default; alias user): libslirp user-mode NAT
 *             tap=NAME: an existing (or new) host TAP device
 *             bridge=NAME: a new TAP added to the host bridge NAME
 *             vde=PATH: a port on the VDE switch at PATH
 *             none: no cable
 *   options   mac=52:54:00:12:34:56, io=0x300 and irq=5 (ISA),
 *             rom=FILE|none (PCI), capture=FILE.pcap, and with nat:
 *             hostfwd=tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT (repeatable),
 *             tftp=DIR, bootfile=NAME
 *
 * net_config_parse() checks one specification; net_config_open() opens
 * its back end (and capture) on the machine's event loop.
 */
#ifndef TWOOSTWO_NET_NETDEV_H
#define TWOOSTWO_NET_NETDEV_H

#include "net/backends.h"

#define NET_MAX_CARDS 4
#define NET_PATH_MAX 1024

enum net_card { NET_CARD_NE2K_PCI, NET_CARD_NE2K_ISA };
enum net_backend {
	NET_BACKEND_NAT,
	NET_BACKEND_TAP,
	NET_BACKEND_BRIDGE,
	NET_BACKEND_VDE,
	NET_BACKEND_NONE,
};

/*
 * ISA defaults: 0x300 is the first address Linux's ne driver probes; IRQ
 * 5 is free on this machine (the devices use 0, 1, 4, 8, 12, 14 and 15,
 * the ACPI SCI is 9, PCI interrupt links are routed to 10 and 11).
 */
#define NET_ISA_DEFAULT_IO 0x300
#define NET_ISA_DEFAULT_IRQ 5
/* iPXE for the RTL8029 (PCI 10ec:8029), Debian's ipxe-qemu. */
#define NET_DEFAULT_PCI_ROM "/usr/lib/ipxe/qemu/pxe-ne2k_pci.rom"

struct net_config {
	enum net_card card;
	enum net_backend backend;
	char backend_arg[NET_PATH_MAX]; /* TAP, bridge name or VDE path */
	u16 io;
	u8 irq;
	u8 mac[6];
	bool mac_set;
	char capture[NET_PATH_MAX]; /* "" for none */
	char rom[NET_PATH_MAX];	    /* "" for the default */
	bool rom_none;		    /* rom=none */
	char tftp_dir[NET_PATH_MAX];
	char bootfile[256];
	struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
	unsigned nr_hostfwd;
};

/*
 * Parse spec; index is the card's position on the command line. Without
 * mac=, the MAC is 52:54:00 (locally administered, QEMU's prefix) and
 * three bytes of a hash of the position, the spec and identity (the
 * VM's disk or CD path, or NULL), so the same configuration keeps its
 * MAC (and DHCP lease) across restarts. Returns 0, or -EINVAL with a
 * one-line reason naming the bad option.
 */
int net_config_parse(const char *spec, unsigned index, const char *identity,
		     struct net_config *cfg, char *err, size_t errlen);

/* Open cfg's back end (none: *out NULL). */
int net_config_open(const struct net_config *cfg, struct evloop *loop,
		    struct net_port **out, char *err, size_t errlen);
/* Start cfg's capture=, if any, on port (NULL: nothing to capture). */
int net_config_open_capture(const struct net_config *cfg, struct net_port *port,
			    char *err, size_t errlen);

/* "52:54:00:12:34:56" */
void net_format_mac(const u8 mac[6], char out[18]);

#endif

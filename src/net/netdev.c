// SPDX-License-Identifier: MIT
/*
 * `--net` specifications (net/netdev.h): one card, its back end, its
 * options. Every error names the option that is wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netdev.h"
#include "net/pcap.h"

#define NETDEV_SPEC_MAX 4096

static int netdev_bad(char *err, size_t errlen, const char *opt,
		      const char *why)
{
	snprintf(err, errlen, "--net: invalid option '%s': %s", opt, why);
	return -EINVAL;
}

static int netdev_copy(char *dst, size_t size, const char *opt, const char *v,
		       char *err, size_t errlen)
{
	if (!*v || strlen(v) >= size)
		return netdev_bad(err, errlen, opt,
				  *v ? "too long" : "empty value");
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static bool netdev_number(const char *v, unsigned long max, unsigned long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	*out = strtoul(v, &end, 0);
	return !errno && !*end && *out <= max;
}

static int netdev_parse_mac(struct net_config *cfg, const char *opt,
			    const char *v, char *err, size_t errlen)
{
	unsigned b[6];
	char tail;
	int i;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6 ||
	    strlen(v) != 17)
		return netdev_bad(err, errlen, opt,
				  "want six hex bytes, 52:54:00:12:34:56");
	if (b[0] & 1)
		return netdev_bad(err, errlen, opt,
				  "a multicast address is no card's address");
	for (i = 0; i < 6; i++)
		cfg->mac[i] = (u8)b[i];
	cfg->mac_set = true;
	return 0;
}

/* ISA I/O bases that collide with nothing on this machine. */
static bool netdev_isa_io_ok(unsigned long io)
{
	/* 0x360-0x37f holds IDE 0x376, 0x3a0-0x3ff VGA, IDE 0x3f6, COM1. */
	return io >= 0x200 && io <= 0x380 && !(io & 0x1f) && io != 0x360;
}

static bool netdev_isa_irq_ok(unsigned long irq)
{
	return irq == 3 || irq == 5 || irq == 7 || irq == 10 || irq == 11;
}

/* tcp|udp:[ADDR:]HOSTPORT:GUESTPORT */
static int netdev_parse_hostfwd(struct net_config *cfg, const char *opt,
				const char *v, char *err, size_t errlen)
{
	struct net_hostfwd f = {.host_addr = INADDR_LOOPBACK};
	char buf[128], *parts[4], *save = NULL, *p;
	unsigned n = 0;
	unsigned long hp, gp;
	struct in_addr a;

	if (cfg->nr_hostfwd == NET_MAX_HOSTFWD)
		return netdev_bad(err, errlen, opt, "too many forwards");
	if (strlen(v) >= sizeof(buf))
		return netdev_bad(err, errlen, opt, "too long");
	strcpy(buf, v);
	for (p = strtok_r(buf, ":", &save); p && n < 4;
	     p = strtok_r(NULL, ":", &save))
		parts[n++] = p;
	if (p || n < 3 || (strcmp(parts[0], "tcp") && strcmp(parts[0], "udp")))
		return netdev_bad(err, errlen, opt,
				  "want tcp:HOSTPORT:GUESTPORT (or udp:, or "
				  "tcp:HOSTADDR:HOSTPORT:GUESTPORT)");
	f.udp = parts[0][0] == 'u';
	if (n == 4) {
		if (inet_pton(AF_INET, parts[1], &a) != 1)
			return netdev_bad(err, errlen, opt,
					  "bad host IPv4 address");
		f.host_addr = ntohl(a.s_addr);
	}
	if (!netdev_number(parts[n - 2], 65535, &hp) || !hp ||
	    !netdev_number(parts[n - 1], 65535, &gp) || !gp)
		return netdev_bad(err, errlen, opt, "ports are 1 to 65535");
	f.host_port = (u16)hp;
	f.guest_port = (u16)gp;
	cfg->hostfwd[cfg->nr_hostfwd++] = f;
	return 0;
}

static int netdev_set_backend(struct net_config *cfg, bool *backend_set,
			      enum net_backend b, const char *opt,
			      const char *v, char *err, size_t errlen)
{
	if (*backend_set)
		return netdev_bad(err, errlen, opt,
				  "a card has one back end (nat, tap=, "
				  "bridge=, vde= or none)");
	*backend_set = true;
	cfg->backend = b;
	if (!v)
		return 0;
	return netdev_copy(cfg->backend_arg, sizeof(cfg->backend_arg), opt, v,
			   err, errlen);
}

static int netdev_parse_key(struct net_config *cfg, bool *backend_set,
			    const char *opt, const char *key, const char *v,
			    char *err, size_t errlen)
{
	unsigned long n;

	if (!strcmp(key, "tap"))
		return netdev_set_backend(cfg, backend_set, NET_BACKEND_TAP,
					  opt, v, err, errlen);
	if (!strcmp(key, "bridge"))
		return netdev_set_backend(cfg, backend_set, NET_BACKEND_BRIDGE,
					  opt, v, err, errlen);
	if (!strcmp(key, "vde"))
		return netdev_set_backend(cfg, backend_set, NET_BACKEND_VDE,
					  opt, v, err, errlen);
	if (!strcmp(key, "mac"))
		return netdev_parse_mac(cfg, opt, v, err, errlen);
	if (!strcmp(key, "io")) {
		if (cfg->card != NET_CARD_NE2K_ISA)
			return netdev_bad(err, errlen, opt,
					  "only the ISA card (ne2k-isa) has "
					  "an I/O base to choose");
		if (!netdev_number(v, 0xffff, &n) || !netdev_isa_io_ok(n))
			return netdev_bad(err, errlen, opt,
					  "want 0x200-0x380 in steps of 0x20, "
					  "not 0x360 (IDE)");
		cfg->io = (u16)n;
		return 0;
	}
	if (!strcmp(key, "irq")) {
		if (cfg->card != NET_CARD_NE2K_ISA)
			return netdev_bad(err, errlen, opt,
					  "only the ISA card (ne2k-isa) has "
					  "an IRQ to choose");
		if (!netdev_number(v, 15, &n) || !netdev_isa_irq_ok(n))
			return netdev_bad(err, errlen, opt,
					  "free ISA IRQs are 3, 5, 7, 10 and "
					  "11 (the machine uses 0, 1, 4, 8, "
					  "9, 12, 14, 15)");
		cfg->irq = (u8)n;
		return 0;
	}
	if (!strcmp(key, "rom")) {
		if (cfg->card != NET_CARD_NE2K_PCI)
			return netdev_bad(err, errlen, opt,
					  "only the PCI card (ne2k-pci) has "
					  "an option ROM");
		cfg->rom_none = !strcmp(v, "none");
		if (cfg->rom_none)
			return 0;
		return netdev_copy(cfg->rom, sizeof(cfg->rom), opt, v, err,
				   errlen);
	}
	if (!strcmp(key, "capture"))
		return netdev_copy(cfg->capture, sizeof(cfg->capture), opt, v,
				   err, errlen);
	if (!strcmp(key, "hostfwd"))
		return netdev_parse_hostfwd(cfg, opt, v, err, errlen);
	if (!strcmp(key, "tftp"))
		return netdev_copy(cfg->tftp_dir, sizeof(cfg->tftp_dir), opt, v,
				   err, errlen);
	if (!strcmp(key, "bootfile"))
		return netdev_copy(cfg->bootfile, sizeof(cfg->bootfile), opt, v,
				   err, errlen);
	return netdev_bad(err, errlen, opt, "unknown option");
}

static int netdev_parse_option(struct net_config *cfg, bool *backend_set,
			       char *opt, char *err, size_t errlen)
{
	char *eq = strchr(opt, '=');
	char key[32];
	int ret;

	if (!eq) {
		if (!strcmp(opt, "nat") || !strcmp(opt, "user"))
			return netdev_set_backend(cfg, backend_set,
						  NET_BACKEND_NAT, opt, NULL,
						  err, errlen);
		if (!strcmp(opt, "none"))
			return netdev_set_backend(cfg, backend_set,
						  NET_BACKEND_NONE, opt, NULL,
						  err, errlen);
		return netdev_bad(err, errlen, opt, "unknown option");
	}
	if ((size_t)(eq - opt) >= sizeof(key))
		return netdev_bad(err, errlen, opt, "unknown option");
	memcpy(key, opt, (size_t)(eq - opt));
	key[eq - opt] = '\0';
	ret = netdev_parse_key(cfg, backend_set, opt, key, eq + 1, err, errlen);
	return ret;
}

static int netdev_parse_card(struct net_config *cfg, const char *name,
			     char *err, size_t errlen)
{
	if (!strcmp(name, "ne2k-pci") || !strcmp(name, "rtl8029")) {
		cfg->card = NET_CARD_NE2K_PCI;
		return 0;
	}
	if (!strcmp(name, "ne2k-isa") || !strcmp(name, "ne2000")) {
		cfg->card = NET_CARD_NE2K_ISA;
		cfg->io = NET_ISA_DEFAULT_IO;
		cfg->irq = NET_ISA_DEFAULT_IRQ;
		return 0;
	}
	snprintf(err, errlen, "--net: unknown card '%s' (ne2k-pci or ne2k-isa)",
		 name);
	return -EINVAL;
}

/* NAT-only options with another back end are a mistake worth saying. */
static int netdev_check(const struct net_config *cfg, char *err, size_t errlen)
{
	if (cfg->backend == NET_BACKEND_NAT)
		return 0;
	if (cfg->nr_hostfwd)
		return netdev_bad(err, errlen, "hostfwd",
				  "port forwards need the nat back end");
	if (cfg->tftp_dir[0] || cfg->bootfile[0])
		return netdev_bad(err, errlen,
				  cfg->tftp_dir[0] ? "tftp" : "bootfile",
				  "the TFTP server is part of the nat back "
				  "end");
	return 0;
}

/* FNV-1a, 32 bits: a stable hash, the same on every host. */
static u32 netdev_hash(u32 h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (u8)*s;
		h *= 16777619u;
	}
	return h;
}

static void netdev_derive_mac(struct net_config *cfg, const char *spec,
			      unsigned index, const char *identity)
{
	char pos[16];
	u32 h = 2166136261u;

	snprintf(pos, sizeof(pos), "%u|", index);
	h = netdev_hash(h, pos);
	h = netdev_hash(h, spec);
	h = netdev_hash(h, "|");
	h = netdev_hash(h, identity);
	cfg->mac[0] = 0x52;
	cfg->mac[1] = 0x54;
	cfg->mac[2] = 0x00;
	cfg->mac[3] = (u8)(h >> 16);
	cfg->mac[4] = (u8)(h >> 8);
	cfg->mac[5] = (u8)h;
}

int net_config_parse(const char *spec, unsigned index, const char *identity,
		     struct net_config *cfg, char *err, size_t errlen)
{
	char buf[NETDEV_SPEC_MAX], *opt, *save = NULL;
	bool backend_set = false;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--net: specification too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	opt = strtok_r(buf, ",", &save);
	if (!opt) {
		snprintf(err, errlen, "--net: empty (try --net ne2k-pci,nat)");
		return -EINVAL;
	}
	ret = netdev_parse_card(cfg, opt, err, errlen);
	while (!ret && (opt = strtok_r(NULL, ",", &save)))
		ret = netdev_parse_option(cfg, &backend_set, opt, err, errlen);
	ret = ret ?: netdev_check(cfg, err, errlen);
	if (ret)
		return ret;
	if (!cfg->mac_set)
		netdev_derive_mac(cfg, spec, index, identity);
	return 0;
}

static int netdev_open_backend(const struct net_config *cfg,
			       struct evloop *loop, struct net_port **out,
			       char *err, size_t errlen)
{
	struct net_slirp_options so = {0};

	switch (cfg->backend) {
	case NET_BACKEND_NAT:
		so.tftp_dir = cfg->tftp_dir[0] ? cfg->tftp_dir : NULL;
		so.bootfile = cfg->bootfile[0] ? cfg->bootfile : NULL;
		memcpy(so.hostfwd, cfg->hostfwd, sizeof(so.hostfwd));
		so.nr_hostfwd = cfg->nr_hostfwd;
		return net_slirp_open(loop, &so, out, err, errlen);
	case NET_BACKEND_TAP:
		return net_tap_open(loop, cfg->backend_arg, NULL, out, err,
				    errlen);
	case NET_BACKEND_BRIDGE:
		return net_tap_open(loop, NULL, cfg->backend_arg, out, err,
				    errlen);
	case NET_BACKEND_VDE:
		return net_vde_open(loop, cfg->backend_arg, out, err, errlen);
	case NET_BACKEND_NONE:
		break;
	}
	*out = NULL;
	return 0;
}

int net_config_open(const struct net_config *cfg, struct evloop *loop,
		    struct net_port **out, char *err, size_t errlen)
{
	*out = NULL;
	return netdev_open_backend(cfg, loop, out, err, errlen);
}

int net_config_open_capture(const struct net_config *cfg, struct net_port *port,
			    char *err, size_t errlen)
{
	struct pcap_writer *capture;
	int ret;

	if (!cfg->capture[0] || !port)
		return 0;
	ret = pcap_open(cfg->capture, &capture, err, errlen);
	if (ret)
		return ret;
	port->capture = capture;
	return 0;
}

void net_format_mac(const u8 mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

// SPDX-License-Identifier: MIT
/*
 * The network layer without a card: --net parsing and MACs, the receive
 * queue's back-pressure, runt padding, pcap files, libslirp through the
 * event loop (ARP, a host port forward), and two ports on a real VDE
 * switch, including the switch going away.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "net/netdev.h"
#include "net/pcap.h"
#include "unit.h"

struct sink {
	unsigned room; /* frames the "card" can take */
	unsigned got;
	size_t last_len;
	u8 last[NET_MAX_FRAME];
	u8 first_byte[NET_RXQ_FRAMES + 8];
	bool pending; /* rx_pending: the guest has yet to look */
};

static bool sink_can(void *opaque, size_t len)
{
	return ((struct sink *)opaque)->room > 0;
}

static void sink_rx(void *opaque, const u8 *frame, size_t len)
{
	struct sink *s = opaque;

	/* A frame forced past can_receive must not wrap the room around. */
	if (s->room)
		s->room--;
	if (s->got < sizeof(s->first_byte))
		s->first_byte[s->got] = frame[0];
	s->got++;
	s->last_len = len;
	memcpy(s->last, frame, len);
}

static bool sink_pending(void *opaque)
{
	return ((struct sink *)opaque)->pending;
}

static void sink_attach(struct net_port *port, struct sink *s)
{
	struct net_receiver rx = {sink_can, sink_rx, s, sink_pending};

	net_port_set_receiver(port, &rx);
}

static void test_parse_defaults(void)
{
	struct net_config a, b, c;
	char err[256];

	CHECK_EQ(net_config_parse("ne2k-isa", 0, NULL, &a, err, sizeof(err)),
		 0);
	CHECK_EQ(a.card, NET_CARD_NE2K_ISA);
	CHECK_EQ(a.backend, NET_BACKEND_NAT);
	CHECK_EQ(a.io, 0x300);
	CHECK_EQ(a.irq, 5);
	CHECK_EQ(a.mac[0], 0x52);
	CHECK_EQ(a.mac[1], 0x54);
	CHECK_EQ(a.mac[2], 0x00);
	/* Same configuration, same MAC; another position, another MAC. */
	CHECK_EQ(net_config_parse("ne2k-isa", 0, NULL, &b, err, sizeof(err)),
		 0);
	CHECK(!memcmp(a.mac, b.mac, 6));
	CHECK_EQ(net_config_parse("ne2k-isa", 1, NULL, &c, err, sizeof(err)),
		 0);
	CHECK(memcmp(a.mac, c.mac, 6));
	CHECK_EQ(net_config_parse("ne2k-isa", 0, "/vm/disk.img", &c, err,
				  sizeof(err)),
		 0);
	CHECK(memcmp(a.mac, c.mac, 6));
}

static void test_parse_options(void)
{
	struct net_config c;
	char err[256];

	CHECK_EQ(net_config_parse("ne2k-pci,nat,mac=52:54:00:12:34:56,"
				  "hostfwd=tcp:2222:22,hostfwd=udp:10.1.2.3:"
				  "53:5353,tftp=/srv,bootfile=boot.ipxe,"
				  "capture=/tmp/x.pcap,rom=none",
				  0, NULL, &c, err, sizeof(err)),
		 0);
	CHECK_EQ(c.card, NET_CARD_NE2K_PCI);
	CHECK_EQ(c.mac[5], 0x56);
	CHECK_EQ(c.nr_hostfwd, 2);
	CHECK(!c.hostfwd[0].udp);
	CHECK_EQ(c.hostfwd[0].host_addr, INADDR_LOOPBACK);
	CHECK_EQ(c.hostfwd[0].host_port, 2222);
	CHECK_EQ(c.hostfwd[0].guest_port, 22);
	CHECK(c.hostfwd[1].udp);
	CHECK_EQ(c.hostfwd[1].host_addr, 0x0a010203);
	CHECK_STR(c.tftp_dir, "/srv");
	CHECK_STR(c.bootfile, "boot.ipxe");
	CHECK_STR(c.capture, "/tmp/x.pcap");
	CHECK(c.rom_none);
	CHECK_EQ(net_config_parse("ne2000,io=0x280,irq=10,vde=/tmp/sw", 0, NULL,
				  &c, err, sizeof(err)),
		 0);
	CHECK_EQ(c.io, 0x280);
	CHECK_EQ(c.irq, 10);
	CHECK_EQ(c.backend, NET_BACKEND_VDE);
	CHECK_STR(c.backend_arg, "/tmp/sw");
	CHECK_EQ(net_config_parse("rtl8029,bridge=br0", 0, NULL, &c, err,
				  sizeof(err)),
		 0);
	CHECK_EQ(c.backend, NET_BACKEND_BRIDGE);
}

static void check_bad(const char *spec, const char *named)
{
	struct net_config c;
	char err[256] = "";

	CHECK_EQ(net_config_parse(spec, 0, NULL, &c, err, sizeof(err)),
		 -EINVAL);
	if (!strstr(err, named))
		printf("  '%s': error '%s' does not name '%s'\n", spec, err,
		       named);
	CHECK(strstr(err, named) != NULL);
}

static void test_parse_errors(void)
{
	check_bad("", "empty");
	check_bad("e1000", "e1000");
	check_bad("ne2k-pci,irq=5", "irq=5");
	check_bad("ne2k-pci,io=0x300", "io=0x300");
	check_bad("ne2k-isa,rom=x.rom", "rom=x.rom");
	check_bad("ne2k-isa,irq=9", "irq=9");
	check_bad("ne2k-isa,irq=14", "irq=14");
	check_bad("ne2k-isa,io=0x3f8", "io=0x3f8");
	check_bad("ne2k-isa,io=0x360", "io=0x360");
	check_bad("ne2k-isa,io=0x301", "io=0x301");
	check_bad("ne2k-pci,mac=01:00:5e:00:00:01", "mac=");
	check_bad("ne2k-pci,mac=52:54:00:12:34", "mac=");
	check_bad("ne2k-pci,mac=52:54:00:12:34:567", "mac=");
	check_bad("ne2k-pci,nat,tap=tap0", "tap=tap0");
	check_bad("ne2k-pci,vde=", "vde=");
	check_bad("ne2k-pci,hostfwd=tcp:0:22", "hostfwd=tcp:0:22");
	check_bad("ne2k-pci,hostfwd=tcp:22", "hostfwd=tcp:22");
	check_bad("ne2k-pci,hostfwd=sctp:1:2", "hostfwd=sctp:1:2");
	check_bad("ne2k-pci,hostfwd=tcp:x.y:1:2", "hostfwd=tcp:x.y:1:2");
	check_bad("ne2k-pci,vde=/x,tftp=/srv", "tftp");
	check_bad("ne2k-pci,frobnicate", "frobnicate");
	check_bad("ne2k-pci,colour=blue", "colour=blue");
}

static void dummy_send(struct net_port *port, const u8 *frame, size_t len)
{
}

static void dummy_close(struct net_port *port)
{
}

static const struct net_port_ops dummy_ops = {.send = dummy_send,
					      .close = dummy_close};

/* Frames the card cannot take wait in order; a full queue drops. */
static void test_rxq_backpressure(void)
{
	struct net_port port = {.ops = &dummy_ops};
	struct net_rxq *q = calloc(1, sizeof(*q));
	struct sink s = {.room = 1};
	u8 frame[100] = {0};
	unsigned i;

	sink_attach(&port, &s);
	for (i = 0; i < NET_RXQ_FRAMES + 1; i++) {
		frame[0] = (u8)i;
		CHECK(net_rxq_push(&port, q, frame, sizeof(frame)));
	}
	CHECK_EQ(s.got, 1);
	CHECK_EQ(q->count, NET_RXQ_FRAMES);
	frame[0] = 0xee;
	CHECK(!net_rxq_push(&port, q, frame, sizeof(frame)));
	CHECK_EQ(q->dropped, 1);
	s.room = 10;
	CHECK_EQ(net_rxq_flush(&port, q), NET_RXQ_FRAMES - 10);
	s.room = 1000;
	CHECK_EQ(net_rxq_flush(&port, q), 0);
	CHECK_EQ(s.got, NET_RXQ_FRAMES + 1);
	for (i = 0; i < NET_RXQ_FRAMES + 1; i++)
		CHECK_EQ(s.first_byte[i], (u8)i);
	/* A frame refused for too long goes to the card regardless. */
	s.room = 0;
	CHECK(net_rxq_push(&port, q, frame, sizeof(frame)));
	CHECK_EQ(net_rxq_flush(&port, q), 1);
	usleep(NET_RXQ_STALL_NS / 1000 + 5000);
	CHECK_EQ(net_rxq_flush(&port, q), 0);
	CHECK_EQ(s.got, NET_RXQ_FRAMES + 2);
	/* Not while the card says the guest has yet to look at its frames. */
	s.pending = true;
	s.room = 0;
	CHECK(net_rxq_push(&port, q, frame, sizeof(frame)));
	usleep(NET_RXQ_STALL_NS / 1000 + 5000);
	CHECK_EQ(net_rxq_flush(&port, q), 1);
	s.pending = false;
	CHECK_EQ(net_rxq_flush(&port, q), 1);
	usleep(NET_RXQ_STALL_NS / 1000 + 5000);
	CHECK_EQ(net_rxq_flush(&port, q), 0);
	CHECK_EQ(s.got, NET_RXQ_FRAMES + 3);
	/* A pulled cable: nothing is delivered, the queue empties. */
	s.room = 0;
	CHECK(net_rxq_push(&port, q, frame, sizeof(frame)));
	port.link_down = true;
	CHECK_EQ(net_rxq_flush(&port, q), 0);
	CHECK(!net_rxq_push(&port, q, frame, sizeof(frame)));
	free(q);
}

static void test_runt_padding(void)
{
	struct net_port port = {.ops = &dummy_ops};
	struct sink s = {.room = 2};
	u8 arp[42], big[NET_MAX_FRAME + 1] = {0};

	memset(arp, 0xab, sizeof(arp));
	sink_attach(&port, &s);
	CHECK(net_port_deliver(&port, arp, sizeof(arp)));
	CHECK_EQ(s.last_len, NET_MIN_FRAME);
	CHECK_EQ(s.last[41], 0xab);
	CHECK_EQ(s.last[42], 0);
	CHECK_EQ(s.last[59], 0);
	CHECK(!net_port_deliver(&port, big, sizeof(big)));
	CHECK_EQ(s.got, 1);
}

static void test_pcap_file(void)
{
	char path[] = "/tmp/twoostwo-test-pcap-XXXXXX";
	struct pcap_writer *w;
	u8 frame[64], buf[256];
	u32 magic, linktype, incl;
	char err[256];
	int fd = mkstemp(path);
	ssize_t n;

	CHECK(fd >= 0);
	close(fd);
	memset(frame, 0x5a, sizeof(frame));
	CHECK_EQ(pcap_open(path, &w, err, sizeof(err)), 0);
	pcap_write(w, frame, sizeof(frame));
	pcap_write(w, frame, 60);
	pcap_close(w);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	unlink(path);
	CHECK_EQ(n, 24 + 16 + 64 + 16 + 60);
	memcpy(&magic, buf, 4);
	memcpy(&linktype, buf + 20, 4);
	memcpy(&incl, buf + 24 + 8, 4);
	CHECK_EQ(magic, 0xa1b2c3d4u);
	CHECK_EQ(linktype, 1);
	CHECK_EQ(incl, 64);
	CHECK_EQ(buf[24 + 16], 0x5a);
	CHECK_EQ(pcap_open("/nonexistent/dir/x.pcap", &w, err, sizeof(err)),
		 -ENOENT);
	CHECK(strstr(err, "/nonexistent/dir/x.pcap") != NULL);
}

static void run_loop(struct evloop *loop, struct sink *s, unsigned want, u64 ms)
{
	u64 end = clock_now_ns() + ms * NSEC_PER_MSEC;

	while (s->got < want && clock_now_ns() < end)
		evloop_run_once(loop, clock_now_ns() + 10 * NSEC_PER_MSEC);
}

static const u8 guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* An ARP request from 10.0.2.15 for the gateway 10.0.2.2. */
static size_t arp_request(u8 *f)
{
	static const u8 tail[] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};

	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, tail, sizeof(tail));
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, (u8[]){10, 0, 2, 15}, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, (u8[]){10, 0, 2, 2}, 4);
	return 42;
}

static u16 free_tcp_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static void test_slirp_arp_and_forward(void)
{
	struct net_slirp_options opt = {.nr_hostfwd = 1};
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct evloop loop;
	struct net_port *port;
	struct sink s = {.room = 100};
	u8 f[64];
	char err[256];
	int c;

	opt.hostfwd[0] = (struct net_hostfwd){
		.host_addr = INADDR_LOOPBACK,
		.host_port = free_tcp_port(),
		.guest_port = 22,
	};
	CHECK_EQ(evloop_init(&loop), 0);
	CHECK_EQ(net_slirp_open(&loop, &opt, &port, err, sizeof(err)), 0);
	sink_attach(port, &s);
	net_port_send(port, f, arp_request(f));
	run_loop(&loop, &s, 1, 1000);
	CHECK_EQ(s.got, 1);
	/* The reply: to us, ARP, opcode 2, from 10.0.2.2, padded. */
	CHECK(!memcmp(s.last, guest_mac, 6));
	CHECK_EQ(s.last[12], 0x08);
	CHECK_EQ(s.last[13], 0x06);
	CHECK_EQ(s.last[21], 2);
	CHECK(!memcmp(s.last + 28, ((u8[]){10, 0, 2, 2}), 4));
	CHECK(s.last_len >= NET_MIN_FRAME);
	/* A host connection to the forward makes slirp talk to the guest. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(opt.hostfwd[0].host_port);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	run_loop(&loop, &s, 2, 2000);
	CHECK(s.got >= 2);
	close(c);
	net_port_close(port);
	evloop_destroy(&loop);
}

/*
 * vde_switch in the foreground ends at EOF on stdin, so it runs as a
 * daemon (-d) that writes its pid to a file.
 */
static pid_t start_switch(const char *dir, char *path, size_t len)
{
	char cmd[1200], pidfile[600];
	FILE *f;
	int pid = -1, i;

	snprintf(path, len, "%s/sw", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	snprintf(cmd, sizeof(cmd),
		 "vde_switch -s '%s' -d -p '%s' </dev/null >/dev/null 2>&1",
		 path, pidfile);
	if (system(cmd) != 0)
		return -1;
	for (i = 0; i < 200 && pid < 0; i++) {
		f = fopen(pidfile, "r");
		if (f) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = -1;
			fclose(f);
		}
		if (pid < 0)
			usleep(10000);
	}
	return pid;
}

static void test_vde_two_ports(void)
{
	char dir[] = "/tmp/twoostwo-test-vde-XXXXXX", path[512], err[512];
	struct net_port *p1, *p2;
	struct sink s1 = {.room = 100}, s2 = {.room = 100};
	struct evloop loop;
	u8 f[64];
	pid_t pid;

	if (!mkdtemp(dir))
		return;
	pid = start_switch(dir, path, sizeof(path));
	if (pid < 0) {
		printf("SKIPPED: test_vde_two_ports: vde_switch did not start "
		       "(vde2 installed?)\n");
		rmdir(dir);
		return;
	}
	CHECK_EQ(evloop_init(&loop), 0);
	if (net_vde_open(&loop, path, &p1, err, sizeof(err)) == -ENOTSUP) {
		printf("SKIPPED: test_vde_two_ports: %s\n", err);
		kill(pid, SIGTERM);
		evloop_destroy(&loop);
		snprintf(err, sizeof(err), "rm -rf '%s'", dir);
		if (system(err) != 0)
			printf("  could not remove %s\n", dir);
		return;
	}
	CHECK_EQ(net_vde_open(&loop, path, &p2, err, sizeof(err)), 0);
	sink_attach(p1, &s1);
	sink_attach(p2, &s2);
	/* A broadcast from port 1 reaches port 2 (and not port 1). */
	net_port_send(p1, f, arp_request(f));
	run_loop(&loop, &s2, 1, 2000);
	CHECK_EQ(s2.got, 1);
	CHECK_EQ(s1.got, 0);
	CHECK(!memcmp(s2.last + 6, guest_mac, 6));
	/* The switch goes away: the cable is unplugged, nothing else. */
	kill(pid, SIGTERM);
	run_loop(&loop, &s2, 100, 500);
	CHECK(p1->link_down);
	CHECK(p2->link_down);
	net_port_send(p1, f, arp_request(f));
	net_port_close(p1);
	net_port_close(p2);
	evloop_destroy(&loop);
	CHECK_EQ(net_vde_open(&loop, "/nonexistent/sw", &p1, err, sizeof(err)),
		 -ENOENT);
	CHECK(strstr(err, "/nonexistent/sw") != NULL);
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		printf("  could not remove %s\n", dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN_TEST(test_parse_defaults);
	RUN_TEST(test_parse_options);
	RUN_TEST(test_parse_errors);
	RUN_TEST(test_rxq_backpressure);
	RUN_TEST(test_runt_padding);
	RUN_TEST(test_pcap_file);
	RUN_TEST(test_slirp_arp_and_forward);
	RUN_TEST(test_vde_two_ports);
	return unit_summary();
}

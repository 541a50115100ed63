// SPDX-License-Identifier: MIT
/*
 * The control socket: its line parser, its answers, the socket under
 * hostile clients (garbage, overlong lines, disconnects mid-line, too many
 * clients), and the CD-ROM drive's user side (ide_cd_eject, ide_cd_state)
 * as the guest sees it through ATAPI: sense data, media events, the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "block/block.h"
#include "bus/pci.h"
#include "core/clock.h"
#include "core/evloop.h"
#include "hw/ide.h"
#include "machine/control.h"
#include "unit.h"

/* Parsing */

static int parse(const char *text, struct control_request *req)
{
	static char line[CONTROL_LINE_MAX];
	char err[256];
	size_t len = strlen(text);

	memcpy(line, text, len + 1);
	return control_parse(line, len, req, err, sizeof(err));
}

static void test_parse_commands(void)
{
	struct control_request req;

	CHECK_EQ(parse("eject", &req), 0);
	CHECK_EQ(req.verb, CONTROL_EJECT);
	CHECK(!req.force);
	CHECK_EQ(parse("  eject\t--force ", &req), 0);
	CHECK_EQ(req.verb, CONTROL_EJECT);
	CHECK(req.force);
	CHECK_EQ(parse("status\r", &req), 0);
	CHECK_EQ(req.verb, CONTROL_STATUS);
	CHECK_EQ(parse("insert /tmp/a b.iso  ", &req), 0);
	CHECK_EQ(req.verb, CONTROL_INSERT);
	CHECK_STR(req.path, "/tmp/a b.iso");
	CHECK_EQ(parse("screendump /tmp/s.png", &req), 0);
	CHECK_EQ(req.verb, CONTROL_SCREENDUMP);
	CHECK_STR(req.path, "/tmp/s.png");
}

static void test_parse_rejects(void)
{
	static const char *const bad[] = {
		"",
		"   ",
		"eject now",
		"eject --force --force",
		"insert",
		"insert   ",
		"screendump",
		"screendump  ",
		"status please",
		"EJECT",
		"reboot",
		"sta\x01tus",
		"status\x7f",
	};
	struct control_request req;
	char line[32], err[256];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ(parse(bad[i], &req), (unsigned long long)-EINVAL);
	/* A NUL byte inside the line is not the end of the command. */
	memcpy(line, "status\0x", 8);
	CHECK_EQ(control_parse(line, 8, &req, err, sizeof(err)),
		 (unsigned long long)-EINVAL);
	CHECK(strstr(err, "control characters") != NULL);
}

/* A machine stand-in for the commands. */
struct fake {
	int ejects, inserts, statuses;
	bool locked;
	char inserted[256];
};

static int fake_eject(void *opaque, bool force, char *msg, size_t len)
{
	struct fake *f = opaque;

	if (f->locked && !force) {
		snprintf(msg, len, "the guest has locked the tray");
		return -EBUSY;
	}
	f->ejects++;
	snprintf(msg, len, "ejected");
	return 0;
}

static int fake_insert(void *opaque, const char *path, char *msg, size_t len)
{
	struct fake *f = opaque;

	f->inserts++;
	snprintf(f->inserted, sizeof(f->inserted), "%s", path);
	snprintf(msg, len, "inserted %s", path);
	return 0;
}

static int fake_status(void *opaque, char *msg, size_t len)
{
	struct fake *f = opaque;

	f->statuses++;
	snprintf(msg, len, "cdrom=empty");
	return 0;
}

static const struct control_ops fake_ops = {
	.eject = fake_eject,
	.insert = fake_insert,
	.status = fake_status,
};

static void handle(struct fake *f, const char *text, char *reply, size_t len)
{
	static char line[CONTROL_LINE_MAX];
	size_t n = strlen(text);

	memcpy(line, text, n + 1);
	control_handle_line(&fake_ops, f, line, n, reply, len);
}

static void test_handle_line(void)
{
	struct fake f = {0};
	char reply[CONTROL_REPLY_MAX];

	handle(&f, "status", reply, sizeof(reply));
	CHECK_STR(reply, "ok cdrom=empty\n");
	f.locked = true;
	handle(&f, "eject", reply, sizeof(reply));
	CHECK_STR(reply, "error: the guest has locked the tray\n");
	CHECK_EQ(f.ejects, 0);
	handle(&f, "eject --force", reply, sizeof(reply));
	CHECK_STR(reply, "ok ejected\n");
	CHECK_EQ(f.ejects, 1);
	handle(&f, "insert /x.iso", reply, sizeof(reply));
	CHECK_STR(reply, "ok inserted /x.iso\n");
	/* No screen behind these ops: screendump is an error, not a crash. */
	handle(&f, "screendump /s.png", reply, sizeof(reply));
	CHECK_STR(reply, "error: no screen\n");
	handle(&f, "fly", reply, sizeof(reply));
	CHECK(!strncmp(reply, "error: unknown command 'fly'", 28));
	CHECK_EQ(f.inserts, 1);
}

/* The socket */

struct srv {
	char dir[64], path[128];
	struct evloop loop;
	struct control *ctl;
	struct fake f;
};

static void srv_start(struct srv *s)
{
	char err[256];

	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/twoostwo-ctl-XXXXXX");
	CHECK(mkdtemp(s->dir) != NULL);
	snprintf(s->path, sizeof(s->path), "%s/sock", s->dir);
	CHECK_EQ(evloop_init(&s->loop), 0);
	CHECK_EQ(control_open(&s->loop, s->path, &fake_ops, &s->f, &s->ctl, err,
			      sizeof(err)),
		 0);
}

static void srv_stop(struct srv *s)
{
	struct stat st;

	control_close(s->ctl);
	CHECK(stat(s->path, &st) < 0 && errno == ENOENT);
	evloop_destroy(&s->loop);
	rmdir(s->dir);
}

static int srv_connect(struct srv *s)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(addr.sun_path, s->path);
	CHECK_EQ(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	CHECK_EQ(send(fd, buf, len, MSG_NOSIGNAL), len);
}

/*
 * Run the server until fd has `lines` answer lines (or 5 s pass); the
 * answers, joined, go to out.
 */
static unsigned srv_answers(struct srv *s, int fd, unsigned lines, char *out,
			    size_t len)
{
	u64 end = clock_now_ns() + 5 * NSEC_PER_SEC;
	size_t n = 0;
	unsigned seen = 0, i;

	out[0] = '\0';
	while (seen < lines && clock_now_ns() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		evloop_run_once(&s->loop, clock_now_ns() + NSEC_PER_MSEC);
		if (poll(&p, 1, 0) <= 0)
			continue;
		r = recv(fd, out + n, len - 1 - n, MSG_DONTWAIT);
		if (r <= 0)
			break;
		for (i = 0; i < (unsigned)r; i++)
			seen += out[n + i] == '\n';
		n += (size_t)r;
		out[n] = '\0';
	}
	return seen;
}

/* Let the server take in whatever clients sent so far. */
static void srv_spin(struct srv *s, unsigned rounds)
{
	while (rounds--)
		evloop_run_once(&s->loop, 0);
}

static void test_socket_commands(void)
{
	struct srv s;
	char out[4 * CONTROL_REPLY_MAX];
	int fd;

	srv_start(&s);
	fd = srv_connect(&s);
	send_all(fd, "status\n", 7);
	CHECK_EQ(srv_answers(&s, fd, 1, out, sizeof(out)), 1);
	CHECK_STR(out, "ok cdrom=empty\n");
	/* Pipelined, one answer each, in order, split across sends. */
	send_all(fd, "eject\nins", 9);
	send_all(fd, "ert /a.iso\nstatus\n", 18);
	CHECK_EQ(srv_answers(&s, fd, 3, out, sizeof(out)), 3);
	CHECK_STR(out, "ok ejected\nok inserted /a.iso\nok cdrom=empty\n");
	CHECK_STR(s.f.inserted, "/a.iso");
	close(fd);
	srv_stop(&s);
}

static void test_socket_hostile(void)
{
	static char big[3 * CONTROL_LINE_MAX];
	struct srv s;
	char out[4 * CONTROL_REPLY_MAX];
	u8 garbage[256];
	unsigned i;
	int fd;

	srv_start(&s);
	fd = srv_connect(&s);
	/* Every byte value but '\n': one error, then the link still works. */
	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = i == '\n' ? 0 : (u8)i;
	send_all(fd, garbage, sizeof(garbage));
	send_all(fd, "\n", 1);
	CHECK_EQ(srv_answers(&s, fd, 1, out, sizeof(out)), 1);
	CHECK(!strncmp(out, "error: ", 7));
	/* An overlong line: exactly one answer, then business as usual. */
	memset(big, 'x', sizeof(big));
	send_all(fd, big, sizeof(big));
	send_all(fd, "\nstatus\n", 8);
	CHECK_EQ(srv_answers(&s, fd, 2, out, sizeof(out)), 2);
	CHECK(!strncmp(out, "error: line longer than", 23));
	CHECK(strstr(out, "\nok cdrom=empty\n") != NULL);
	close(fd);
	/* Gone mid-line: the partial command is not run. */
	fd = srv_connect(&s);
	send_all(fd, "eject", 5);
	srv_spin(&s, 4);
	close(fd);
	srv_spin(&s, 4);
	CHECK_EQ(s.f.ejects, 0);
	/* Gone without reading its answers: the server does not care. */
	fd = srv_connect(&s);
	send_all(fd, "status\nstatus\n", 14);
	close(fd);
	srv_spin(&s, 4);
	fd = srv_connect(&s);
	send_all(fd, "eject\n", 6);
	CHECK_EQ(srv_answers(&s, fd, 1, out, sizeof(out)), 1);
	CHECK_STR(out, "ok ejected\n");
	close(fd);
	srv_stop(&s);
}

static void test_socket_client_limit(void)
{
	struct srv s;
	char out[CONTROL_REPLY_MAX];
	int fds[CONTROL_MAX_CLIENTS], extra;
	unsigned i;

	srv_start(&s);
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		fds[i] = srv_connect(&s);
		srv_spin(&s, 2);
	}
	extra = srv_connect(&s);
	CHECK_EQ(srv_answers(&s, extra, 1, out, sizeof(out)), 1);
	CHECK_STR(out, "error: too many clients\n");
	close(extra);
	close(fds[0]);
	srv_spin(&s, 4);
	extra = srv_connect(&s);
	send_all(extra, "status\n", 7);
	CHECK_EQ(srv_answers(&s, extra, 1, out, sizeof(out)), 1);
	CHECK_STR(out, "ok cdrom=empty\n");
	close(extra);
	for (i = 1; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	srv_stop(&s);
}

static void test_socket_path(void)
{
	struct srv s;
	struct evloop loop;
	struct control *other;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char err[256], file[160], longp[200];
	int fd;

	srv_start(&s);
	CHECK_EQ(evloop_init(&loop), 0);
	/* A live socket is not taken over. */
	CHECK_EQ(control_open(&loop, s.path, &fake_ops, NULL, &other, err,
			      sizeof(err)),
		 (unsigned long long)-EADDRINUSE);
	CHECK(strstr(err, "another machine") != NULL);
	srv_stop(&s);
	/* A stale one (bound, nobody listening) is replaced. */
	srv_start(&s);
	control_close(s.ctl);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(addr.sun_path, s.path);
	CHECK_EQ(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	CHECK_EQ(control_open(&s.loop, s.path, &fake_ops, &s.f, &s.ctl, err,
			      sizeof(err)),
		 0);
	srv_stop(&s);
	/* Any other file is left alone. */
	snprintf(file, sizeof(file), "%s/file", s.dir);
	mkdir(s.dir, 0700);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	CHECK_EQ(control_open(&loop, file, &fake_ops, NULL, &other, err,
			      sizeof(err)),
		 (unsigned long long)-EEXIST);
	CHECK(strstr(err, "not a socket") != NULL);
	unlink(file);
	rmdir(s.dir);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK_EQ(control_open(&loop, longp, &fake_ops, NULL, &other, err,
			      sizeof(err)),
		 (unsigned long long)-ENAMETOOLONG);
	evloop_destroy(&loop);
}

/* The CD-ROM drive's user side, seen by the guest through ATAPI */

#define SEC 0x170
#define CD_SECTORS 32u

struct cdrig {
	struct pio_bus *pio;
	struct phys_mem mem;
	struct pci_bus pci;
	struct ide_controller *ide;
	struct block_dev *cd, *cd2;
	char dir[64];
};

static void no_irq(void *opaque, unsigned pin, bool level)
{
}

static struct block_dev *cd_image(struct cdrig *r, const char *name)
{
	char path[128], err[256];
	struct block_dev *bd = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && !ftruncate(fd, CD_SECTORS * 2048));
	close(fd);
	CHECK_EQ(block_open_raw(path, BLOCK_OPEN_READ_ONLY, &bd, err,
				sizeof(err)),
		 0);
	unlink(path);
	return bd;
}

static void cdrig_init(struct cdrig *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->dir, "/tmp/twoostwo-cd-XXXXXX");
	CHECK(mkdtemp(r->dir) != NULL);
	r->pio = pio_bus_new();
	CHECK_EQ(mem_init(&r->mem, 2u << 20, 2u << 20), 0);
	CHECK_EQ(pci_bus_init(&r->pci, r->pio, &r->mem), 0);
	r->ide = ide_create(&r->pci, PCI_DEVFN(1, 1),
			    (struct irq_line){no_irq, r, 14},
			    (struct irq_line){no_irq, r, 15});
	r->cd = cd_image(r, "a.iso");
	r->cd2 = cd_image(r, "b.iso");
	CHECK_EQ(ide_attach(r->ide, 1, 0, IDE_CDROM, r->cd), 0);
}

static void cdrig_free(struct cdrig *r)
{
	struct device dev = ide_device(r->ide);

	dev.ops->destroy(dev.opaque);
	block_close(r->cd);
	block_close(r->cd2);
	pio_bus_free(r->pio);
	mem_destroy(&r->mem);
	rmdir(r->dir);
}

/* A PIO packet command; returns the status, data (if any) into out. */
static u8 packet(struct cdrig *r, const u8 *cdb, u8 *out, unsigned max)
{
	unsigned i, n, total = 0, guard;

	pio_write(r->pio, SEC + 6, 0xa0, 1);
	pio_write(r->pio, SEC + 1, 0, 1);
	pio_write(r->pio, SEC + 4, 0xfe, 1);
	pio_write(r->pio, SEC + 5, 0xff, 1);
	pio_write(r->pio, SEC + 7, 0xa0, 1);
	for (i = 0; i < 12; i += 2)
		pio_write(r->pio, SEC, (u32)(cdb[i] | cdb[i + 1] << 8), 2);
	for (guard = 0; guard < 64; guard++) {
		if (!(pio_read(r->pio, SEC + 7, 1) & 0x08))
			break;
		n = pio_read(r->pio, SEC + 4, 1) | pio_read(r->pio, SEC + 5, 1)
							   << 8;
		for (i = 0; i < n; i += 2) {
			u16 w = (u16)pio_read(r->pio, SEC, 2);

			if (total + i < max)
				out[total + i] = (u8)w;
			if (total + i + 1 < max)
				out[total + i + 1] = (u8)(w >> 8);
		}
		total += n;
	}
	return (u8)pio_read(r->pio, SEC + 7, 1);
}

static bool tur_ok(struct cdrig *r)
{
	const u8 cdb[12] = {0x00};

	return !(packet(r, cdb, NULL, 0) & 0x01);
}

/* REQUEST SENSE as key << 16 | asc << 8 | ascq. */
static u32 sense(struct cdrig *r)
{
	const u8 cdb[12] = {0x03, 0, 0, 0, 18};
	u8 s[18] = {0};

	CHECK_EQ(packet(r, cdb, s, sizeof(s)) & 0x01, 0);
	return (u32)(s[2] & 0xf) << 16 | (u32)s[12] << 8 | s[13];
}

/* GET EVENT STATUS NOTIFICATION, media class: event << 8 | status. */
static u16 media_event(struct cdrig *r)
{
	const u8 cdb[12] = {0x4a, 1, 0, 0, 1 << 4, 0, 0, 0, 8};
	u8 e[8] = {0};

	CHECK_EQ(packet(r, cdb, e, sizeof(e)) & 0x01, 0);
	CHECK_EQ(e[2], 4); /* media class */
	return (u16)((e[4] & 0xf) << 8 | e[5]);
}

static void lock_tray(struct cdrig *r, bool lock)
{
	const u8 cdb[12] = {0x1e, 0, 0, 0, lock};

	CHECK_EQ(packet(r, cdb, NULL, 0), 0x50);
}

#define EV_EJECT_REQUEST 1
#define EV_NEW_MEDIA 2
#define EV_MEDIA_REMOVAL 3
#define MS_TRAY_OPEN 0x01
#define MS_PRESENT 0x02

static void test_cd_host_eject_insert(void)
{
	struct ide_cd_state st;
	struct cdrig r;

	cdrig_init(&r);
	CHECK(tur_ok(&r));
	CHECK_EQ(media_event(&r), MS_PRESENT);
	CHECK_EQ(ide_cd_eject(r.ide, 1, 0, false), 0);
	CHECK_EQ(ide_cd_state(r.ide, 1, 0, &st), 0);
	CHECK(!st.medium && st.tray_open && !st.locked);
	/* Empty: NOT READY, MEDIUM NOT PRESENT - TRAY OPEN (SPC-3 D.2). */
	CHECK(!tur_ok(&r));
	CHECK_EQ(sense(&r), 0x023a02);
	CHECK_EQ(media_event(&r), EV_MEDIA_REMOVAL << 8 | MS_TRAY_OPEN);
	CHECK_EQ(media_event(&r), MS_TRAY_OPEN); /* reported once */
	/* Ejecting an empty drive changes nothing the guest must hear. */
	CHECK_EQ(ide_cd_eject(r.ide, 1, 0, false), 0);
	CHECK_EQ(media_event(&r), MS_TRAY_OPEN);
	/* Insert: one UNIT ATTENTION 6/28/00, then ready. */
	CHECK_EQ(ide_change_medium(r.ide, 1, 0, r.cd2), 0);
	CHECK_EQ(media_event(&r), EV_NEW_MEDIA << 8 | MS_PRESENT);
	CHECK(!tur_ok(&r));
	CHECK_EQ(sense(&r), 0x062800);
	CHECK(tur_ok(&r));
	CHECK(tur_ok(&r));
	CHECK_EQ(ide_cd_state(r.ide, 1, 0, &st), 0);
	CHECK(st.medium && !st.tray_open);
	CHECK_EQ(ide_change_medium(r.ide, 1, 0, NULL), 0);
	cdrig_free(&r);
}

static void test_cd_locked_tray(void)
{
	const u8 loej[12] = {0x1b, 0, 0, 0, 0x02};
	struct ide_cd_state st;
	struct cdrig r;

	cdrig_init(&r);
	lock_tray(&r, true);
	CHECK_EQ(ide_cd_state(r.ide, 1, 0, &st), 0);
	CHECK(st.locked && st.medium);
	/* The host's eject is refused; the guest hears the request. */
	CHECK_EQ(ide_cd_eject(r.ide, 1, 0, false), (unsigned long long)-EBUSY);
	CHECK_EQ(media_event(&r), EV_EJECT_REQUEST << 8 | MS_PRESENT);
	CHECK(tur_ok(&r));
	/* The guest's own eject is refused too: 5/53/02. */
	CHECK_EQ(packet(&r, loej, NULL, 0) & 0x01, 0x01);
	CHECK_EQ(sense(&r), 0x055302);
	/* Once it allows removal, its START STOP UNIT LoEj ejects. */
	lock_tray(&r, false);
	CHECK_EQ(packet(&r, loej, NULL, 0), 0x50);
	CHECK_EQ(media_event(&r), EV_MEDIA_REMOVAL << 8 | MS_TRAY_OPEN);
	CHECK(!tur_ok(&r));
	CHECK_EQ(sense(&r) >> 8, 0x023a);
	/* Forced: the disc goes although the tray is locked. */
	CHECK_EQ(ide_change_medium(r.ide, 1, 0, r.cd2), 0);
	CHECK_EQ(sense(&r), 0x062800);
	lock_tray(&r, true);
	CHECK_EQ(ide_cd_eject(r.ide, 1, 0, true), 0);
	CHECK(!tur_ok(&r));
	CHECK_EQ(sense(&r) >> 8, 0x023a);
	CHECK_EQ(ide_cd_eject(r.ide, 0, 0, false),
		 (unsigned long long)-ENOTSUP);
	CHECK_EQ(ide_cd_state(r.ide, 2, 0, &st), (unsigned long long)-ENOTSUP);
	cdrig_free(&r);
}

int main(void)
{
	RUN_TEST(test_parse_commands);
	RUN_TEST(test_parse_rejects);
	RUN_TEST(test_handle_line);
	RUN_TEST(test_socket_commands);
	RUN_TEST(test_socket_hostile);
	RUN_TEST(test_socket_client_limit);
	RUN_TEST(test_socket_path);
	RUN_TEST(test_cd_host_eject_insert);
	RUN_TEST(test_cd_locked_tray);
	return unit_summary();
}

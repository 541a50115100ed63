// SPDX-License-Identifier: MIT
/*
 * The PC enters the sandbox (core/sandbox.h) once pc_create has opened
 * everything: firmware read, disks and host devices open, the control
 * socket listening, logs open. What stays reachable in the file system is
 * what a running VM may still open (docs/SECURITY.md):
 *   - the disk images (read, and write for writable ones; a bundle is a
 *     directory),
 *   - the folder of the --cdrom image, read-only: a CD change through the
 *     control socket opens a new ISO,
 *   - the control socket's folder: new ISOs are read there too, the
 *     `screendump FILE.png` command writes there, and the socket itself
 *     goes at exit,
 *   - the folder of --screen-dump: the dump is written to a temporary file
 *     there and renamed over the old one; likewise the folder of the
 *     saved-state file (--state-file: suspend writes, fsyncs and renames),
 *   - read-only: each NAT card's TFTP folder (libslirp opens the files a
 *     guest asks for) and, with --vnc, the web console's noVNC files.
 * Files already open (logs, serial file, terminal) need no rule.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "block/aio.h"
#include "core/log.h"
#include "core/sandbox.h"
#include "cpu/kvm/kvm.h"
#include "machine/pc_internal.h"
#include "net/netdev.h"
#include "ui/vnc.h"

#define PC_SANDBOX_PATHS (PC_IDE_SLOTS + 6 + NET_MAX_CARDS)

struct pc_sandbox_paths {
	struct sandbox_path p[PC_SANDBOX_PATHS];
	char buf[PC_SANDBOX_PATHS][4096];
	unsigned n;
};

static void pc_sandbox_add(struct pc_sandbox_paths *sp, const char *path,
			   unsigned access, bool parent)
{
	char *b;

	if (!path || sp->n >= PC_SANDBOX_PATHS)
		return;
	b = sp->buf[sp->n];
	snprintf(b, sizeof(sp->buf[0]), "%s", path);
	sp->p[sp->n].path = parent ? dirname(b) : b;
	sp->p[sp->n].access = access;
	sp->n++;
}

static void pc_sandbox_collect(const struct pc *pc, struct pc_sandbox_paths *sp)
{
	const struct pc_config *c = &pc->cfg;
	unsigned i;

	for (i = 0; i < PC_IDE_SLOTS; i++) {
		unsigned access = SANDBOX_READ;

		if (!pc->disk[i])
			continue;
		if (!pc->disk[i]->read_only)
			access |= SANDBOX_WRITE | SANDBOX_CREATE;
		pc_sandbox_add(sp, c->disk[i].path, access, false);
	}
	pc_sandbox_add(sp, c->cdrom_path, SANDBOX_READ, true);
	/*
	 * read: CD images; write and create: `screendump FILE.png`;
	 * remove: the socket itself at exit.
	 */
	pc_sandbox_add(sp, c->control_path,
		       SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE |
			       SANDBOX_REMOVE,
		       true);
	pc_sandbox_add(sp, c->screen_dump_path,
		       SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE, true);
	pc_sandbox_add(sp, c->state_path,
		       SANDBOX_READ | SANDBOX_WRITE | SANDBOX_CREATE, true);
	for (i = 0; i < c->nr_nics; i++)
		if (c->nics[i].tftp_dir[0])
			pc_sandbox_add(sp, c->nics[i].tftp_dir, SANDBOX_READ,
				       false);
	if (c->vnc_listen)
		pc_sandbox_add(sp, VNC_DEFAULT_WEB_DIR, SANDBOX_READ, false);
}

/* The kvm engine's deadline timer (cpu/kvm/kvm_run.c). */
static const char *const pc_kvm_syscalls[] = {"timer_settime", "timer_delete"};

int pc_enter_sandbox(struct pc *pc, char *err, size_t errlen)
{
	struct pc_sandbox_paths sp = {0};
	struct sandbox_report rep;
	int ret;

	pc_sandbox_collect(pc, &sp);
	/* /dev/kvm and the VM are open; running needs their ioctls. */
	if (pc->engine == &kvm_engine_ops)
		sandbox_permit_extra(kvm_sandbox_ioctls, kvm_sandbox_nr_ioctls,
				     pc_kvm_syscalls,
				     ARRAY_SIZE(pc_kvm_syscalls));
	ret = sandbox_enter(sp.p, sp.n, &rep, err, errlen);
	/* The disk workers started in pc_create: give them the new limits. */
	if (!ret && pc->aio) {
		ret = aio_ctx_restart_workers(pc->aio);
		if (ret)
			snprintf(err, errlen,
				 "sandbox: cannot restart the disk "
				 "workers: %s",
				 strerror(-ret));
	}
	if (ret)
		return ret;
	log_info("sandbox", "on: %u system calls, landlock ABI %d, %u paths",
		 rep.nr_syscalls, rep.landlock_abi, sp.n);
	sandbox_debug_hook();
	return 0;
}

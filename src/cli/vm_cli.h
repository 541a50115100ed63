/* SPDX-License-Identifier: MIT */
/*
 * `twoostwo vm VERB`: the VM suite's subcommands, one group per file
 * (vm.c: create, list, info, set, delete; vm_run.c: start, console, stop,
 * reset, pause, unpause, suspend, resume; vm_archive.c: clone, export,
 * import; vm_linked.c: linked clones). Shared helpers live here.
 */
#ifndef TWOOSTWO_CLI_VM_CLI_H
#define TWOOSTWO_CLI_VM_CLI_H

#include <limits.h>

#include "vm/vm_config.h"
#include "vm/vm_folder.h"

/* One VM named on the command line: folder, config path, config. */
struct vm_ref {
	char dir[PATH_MAX];
	char ini[PATH_MAX];
	struct vm_config cfg;
};

/*
 * Resolve NAME|PATH and load its vm.ini. Prints one line and returns
 * nonzero (an exit status) on failure.
 */
int vm_open(const char *name, struct vm_ref *ref);
void vm_close(struct vm_ref *ref);

/* "twoostwo vm VERB: ..." on stderr. */
void vm_err(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int vm_cmd_create(int argc, char **argv);
int vm_cmd_list(int argc, char **argv);
int vm_cmd_info(int argc, char **argv);
int vm_cmd_set(int argc, char **argv);
int vm_cmd_delete(int argc, char **argv);
int vm_cmd_start(int argc, char **argv);
int vm_cmd_console(int argc, char **argv);
int vm_cmd_stop(int argc, char **argv);
int vm_cmd_simple(int argc, char **argv); /* reset, pause, unpause */
int vm_cmd_suspend(int argc, char **argv);
int vm_cmd_resume(int argc, char **argv);
int vm_cmd_clone(int argc, char **argv);
int vm_cmd_export(int argc, char **argv);
int vm_cmd_import(int argc, char **argv);

/* vm_linked.c: linked clones and the VMs that depend on a folder. */
/* A hard disk (hda..hdd), not the CD. */
bool vm_drive_is_disk(enum vm_drive d);
/* Every disk of src is a .hdd bundle in its folder; else one line. */
int vm_linked_check_source(const struct vm_ref *src);
/* Snapshot src's bundles and make dst's linked bundles on them. */
int vm_linked_make(const struct vm_ref *src, const char *dst);
/* dst is a copy of src: re-point its bundles' outside parents. */
int vm_relocate_disks(const char *dst, const char *src);
/* Another VM whose disks use images in dir as parents: its folder in who. */
bool vm_linked_dependant(const char *dir, char *who, size_t len);

/* Wait until the VM in dir no longer runs: true, or false at timeout. */
bool vm_wait_stopped(const char *dir, double seconds);
/* mkdir -p. */
int vm_mkdirs(const char *dir);
/* Remove a folder tree. */
int vm_remove_tree(const char *dir);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * A VM's configuration file, vm.ini in its folder: INI, parsed with
 * Debian's libinih (a small, well-kept C parser; INI is what people edit
 * by hand without surprises, and every value here is a scalar or a list
 * of strings). Every key names one `twoostwo run` option:
 *
 *   [vm]       name, uuid
 *   [machine]  memory, engine, boot (cd|disk), display, bios, vnc
 *              (a --vnc address), vnc-password (a file)
 *   [drives]   cdrom, hda, hdb, hdc, hdd   (image[,rw|,ro])
 *   [ports]    com1 .. com4, lpt1, lpt2     (back-end specs)
 *   [network]  net                          (repeatable: a --net spec,
 *                                            with its mac=)
 *
 * Paths are relative to the folder (so it can move) unless absolute.
 * Validation names file, line and problem.
 */
#ifndef TWOOSTWO_VM_VM_CONFIG_H
#define TWOOSTWO_VM_VM_CONFIG_H

#include <stddef.h>

#include "core/types.h"

#define VM_CONFIG_FILE "vm.ini"
#define VM_MAX_NETS 8
#define VM_DRIVES 5 /* cdrom, hda..hdd */
#define VM_COMS 4
#define VM_LPTS 2
#define VM_VALUE_MAX 4096

enum vm_drive { VM_CDROM, VM_HDA, VM_HDB, VM_HDC, VM_HDD };

struct vm_config {
	char *name;
	char *uuid;
	u64 memory;
	char *engine;
	char *boot;
	char *display;
	char *vnc;	    /* --vnc ADDR: the remote display, or NULL */
	char *vnc_password; /* --vnc-password FILE */
	char *bios;
	char *drive[VM_DRIVES];
	char *com[VM_COMS];
	char *lpt[VM_LPTS];
	char *net[VM_MAX_NETS];
	unsigned nr_net;
	/* Line of each key in the file (0: not from a file), for errors. */
	unsigned drive_line[VM_DRIVES], net_line[VM_MAX_NETS], memory_line;
};

extern const char *const vm_drive_keys[VM_DRIVES];

void vm_config_init(struct vm_config *c);
void vm_config_free(struct vm_config *c);

/*
 * Parse path; dir is the folder relative paths start from (NULL: no file
 * checks). Returns 0 or -EINVAL with "PATH:LINE: problem" in err.
 */
int vm_config_load(struct vm_config *c, const char *path, const char *dir,
		   char *err, size_t errlen);
/* Parse text (for tests); name is used in messages. */
int vm_config_parse(struct vm_config *c, const char *text, const char *name,
		    const char *dir, char *err, size_t errlen);
/* Set one "section.key" or bare "key" to value, validating it. */
int vm_config_set(struct vm_config *c, const char *key, const char *value,
		  char *err, size_t errlen);
/* Whole-config checks (missing disk, duplicate MAC...). */
int vm_config_validate(const struct vm_config *c, const char *file,
		       const char *dir, char *err, size_t errlen);
/* The file's text (malloc'ed). */
char *vm_config_format(const struct vm_config *c);
/* Atomic write (tmp + fsync + rename). */
int vm_config_save(const struct vm_config *c, const char *path, char *err,
		   size_t errlen);

/* Fresh identity: a random v4 UUID, a random locally administered MAC. */
void vm_new_uuid(char out[37]);
void vm_new_mac(char out[18]);
/* Replace or add mac= in a --net spec (malloc'ed result). */
char *vm_net_with_mac(const char *spec, const char *mac);
/* The mac= of a --net spec into out, or false. */
bool vm_net_mac(const char *spec, char out[18]);

/* Sizes as `run --memory` takes them: 512, 64M, 1G, 65536K. */
int vm_parse_size(const char *s, u64 *bytes);

#endif

// SPDX-License-Identifier: MIT
/*
 * Linked clones (`twoostwo vm clone --linked`), as VirtualBox and VMware
 * make them: the source VM's .hdd bundles get a snapshot first (a new
 * empty top, so the source never writes its old top again), and the clone
 * gets bundles of one empty image each whose parent is that frozen image,
 * named by a path relative to the clone's bundle. Both VMs then write only
 * their own deltas on the shared base.
 *
 * The source folder keeps a list of its linked clones (linked-clones, one
 * folder a line, relative to the source): `vm delete` of a folder whose
 * images another VM's chain uses is refused naming that VM. The VMs in the
 * VM home are checked too, so a clone moved or made by hand is found.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/bundle.h"
#include "cli/cli.h"
#include "cli/vm_cli.h"

#define VM_LINKED_FILE "linked-clones"

/* dir/rel as an absolute, resolved path; NULL if it does not exist. */
static char *vm_real_in(const char *dir, const char *rel)
{
	char p[PATH_MAX];

	if (rel[0] == '/')
		return realpath(rel, NULL);
	if (vm_path(p, sizeof(p), dir, rel))
		return NULL;
	return realpath(p, NULL);
}

bool vm_drive_is_disk(enum vm_drive d)
{
	return d != VM_CDROM;
}

int vm_linked_check_source(const struct vm_ref *src)
{
	unsigned i;

	for (i = 0; i < VM_DRIVES; i++) {
		const char *d = src->cfg.drive[i];
		char p[PATH_MAX];

		if (!d || !*d || !vm_drive_is_disk(i))
			continue;
		if (d[0] == '/' || strstr(d, "..")) {
			vm_err("clone",
			       "%s: %s=%s is outside the folder: a linked "
			       "clone needs the disks in the VM's folder",
			       src->dir, vm_drive_keys[i], d);
			return CLI_EXIT_ERROR;
		}
		if (vm_path(p, sizeof(p), src->dir, d) || !bundle_probe(p)) {
			vm_err("clone",
			       "%s: %s=%s is not a .hdd bundle: linked clones "
			       "need one (twoostwo disk convert -O bundle)",
			       src->dir, vm_drive_keys[i], d);
			return CLI_EXIT_ERROR;
		}
	}
	return 0;
}

/* Append the clone's folder, relative to the source's, to the list. */
static void vm_linked_record(const char *src_dir, const char *dst_dir)
{
	char *rs = realpath(src_dir, NULL), *rd = realpath(dst_dir, NULL);
	char *rel = rs && rd ? bundle_relpath(rs, rd) : NULL, p[PATH_MAX];
	FILE *f;

	if (rel && !vm_path(p, sizeof(p), src_dir, VM_LINKED_FILE)) {
		f = fopen(p, "ae");
		if (f) {
			fprintf(f, "%s\n", rel);
			fclose(f);
		}
	}
	free(rs);
	free(rd);
	free(rel);
}

/*
 * The VM folder holding an image file: the nearest directory above it
 * with a vm.ini (a bundle sits in its VM's folder, maybe deeper).
 */
static bool vm_folder_of(const char *file, char *out, size_t len)
{
	char p[PATH_MAX], ini[PATH_MAX], *slash;
	unsigned up;

	if (snprintf(p, sizeof(p), "%s", file) >= (int)sizeof(p))
		return false;
	for (up = 0; up < 8 && (slash = strrchr(p, '/')) && slash != p; up++) {
		*slash = '\0';
		if (!vm_path(ini, sizeof(ini), p, VM_CONFIG_FILE) &&
		    !access(ini, F_OK))
			return snprintf(out, len, "%s", p) < (int)len;
	}
	return false;
}

/* List dst in the folder of every VM whose images dst's chains use. */
static void vm_linked_record_all(const char *dst)
{
	struct vm_config c;
	struct bundle_files f;
	char ini[PATH_MAX], err[1024], p[PATH_MAX], owner[PATH_MAX];
	char *rdst = realpath(dst, NULL);
	unsigned i, k;

	if (!rdst || vm_path(ini, sizeof(ini), dst, VM_CONFIG_FILE) ||
	    vm_config_load(&c, ini, dst, err, sizeof(err))) {
		if (rdst)
			vm_config_free(&c);
		free(rdst);
		return;
	}
	for (i = 0; i < VM_DRIVES; i++) {
		const char *d = c.drive[i];

		if (!d || !*d || d[0] == '/' || !vm_drive_is_disk(i) ||
		    vm_path(p, sizeof(p), dst, d) || !bundle_probe(p) ||
		    bundle_files(p, &f, err, sizeof(err)))
			continue;
		for (k = 1; k < f.n; k++) {
			char *r = realpath(f.path[k], NULL);

			if (r && vm_folder_of(r, owner, sizeof(owner)) &&
			    strcmp(owner, rdst))
				vm_linked_record(owner, dst);
			free(r);
		}
		bundle_files_free(&f);
	}
	vm_config_free(&c);
	free(rdst);
}

int vm_linked_make(const struct vm_ref *src, const char *dst)
{
	char err[1024], frozen[40], a[PATH_MAX], b[PATH_MAX];
	unsigned i;
	int ret;

	for (i = 0; i < VM_DRIVES; i++) {
		const char *d = src->cfg.drive[i];

		if (!d || !*d || !vm_drive_is_disk(i))
			continue;
		if (vm_path(a, sizeof(a), src->dir, d) ||
		    vm_path(b, sizeof(b), dst, d))
			return -ENAMETOOLONG;
		ret = bundle_snapshot(a, frozen, err, sizeof(err));
		ret = ret   ?:
			      bundle_create_linked(b, a, frozen, err,
						   sizeof(err));
		if (ret) {
			vm_err("clone", "%s", err);
			return ret;
		}
	}
	vm_linked_record_all(dst);
	return 0;
}

int vm_relocate_disks(const char *dst, const char *src)
{
	struct vm_config c;
	char ini[PATH_MAX], err[1024], a[PATH_MAX], b[PATH_MAX];
	unsigned i;
	int ret;

	vm_path(ini, sizeof(ini), dst, VM_CONFIG_FILE);
	ret = vm_config_load(&c, ini, dst, err, sizeof(err));
	for (i = 0; !ret && i < VM_DRIVES; i++) {
		const char *d = c.drive[i];

		if (!d || !*d || d[0] == '/' || !vm_drive_is_disk(i))
			continue;
		if (vm_path(a, sizeof(a), src, d) ||
		    vm_path(b, sizeof(b), dst, d)) {
			ret = -ENAMETOOLONG;
			snprintf(err, sizeof(err), "%s: path too long", dst);
		} else if (bundle_probe(b)) {
			ret = bundle_relocate(b, a, err, sizeof(err));
		}
	}
	if (ret)
		vm_err("clone", "%s", err);
	vm_config_free(&c);
	if (!ret)
		vm_linked_record_all(dst);
	return ret;
}

/*
 * Does the VM in folder other use an image inside folder (resolved: rdir)
 * as a parent? Its bundles' chains are read from their descriptors.
 */
static bool vm_uses_images_in(const char *other, const char *rdir)
{
	struct vm_config c;
	struct bundle_files f;
	char ini[PATH_MAX], err[1024], p[PATH_MAX];
	size_t n = strlen(rdir);
	bool hit = false;
	unsigned i, k;

	if (vm_path(ini, sizeof(ini), other, VM_CONFIG_FILE) ||
	    access(ini, F_OK))
		return false;
	if (vm_config_load(&c, ini, other, err, sizeof(err))) {
		vm_config_free(&c);
		return false;
	}
	for (i = 0; !hit && i < VM_DRIVES; i++) {
		const char *d = c.drive[i];

		if (!d || !*d || !vm_drive_is_disk(i) ||
		    (d[0] == '/' ?
			     snprintf(p, sizeof(p), "%s", d) >= (int)sizeof(p) :
			     vm_path(p, sizeof(p), other, d) != 0) ||
		    !bundle_probe(p) || bundle_files(p, &f, err, sizeof(err)))
			continue;
		for (k = 1; !hit && k < f.n; k++) {
			char *r = realpath(f.path[k], NULL);

			hit = r && !strncmp(r, rdir, n) && r[n] == '/';
			free(r);
		}
		bundle_files_free(&f);
	}
	vm_config_free(&c);
	return hit;
}

/* Is other (a candidate folder) a different VM that uses rdir's images? */
static bool vm_dependant_is(const char *other, const char *rdir, char *who,
			    size_t len)
{
	char *ro = realpath(other, NULL);
	bool hit = ro && strcmp(ro, rdir) && vm_uses_images_in(ro, rdir);

	if (hit)
		snprintf(who, len, "%s", ro);
	free(ro);
	return hit;
}

static bool vm_dependant_in_list(const char *dir, const char *rdir, char *who,
				 size_t len)
{
	char p[PATH_MAX], line[PATH_MAX];
	bool hit = false;
	FILE *f;

	if (vm_path(p, sizeof(p), dir, VM_LINKED_FILE))
		return false;
	f = fopen(p, "re");
	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		char *c = vm_real_in(dir, strtok(line, "\n") ?: "");

		hit = c && vm_dependant_is(c, rdir, who, len);
		free(c);
	}
	fclose(f);
	return hit;
}

static bool vm_dependant_in_home(const char *rdir, char *who, size_t len)
{
	char home[PATH_MAX], p[PATH_MAX];
	struct dirent *e;
	bool hit = false;
	DIR *d;

	if (vm_home(home, sizeof(home)))
		return false;
	d = opendir(home);
	if (!d)
		return false;
	while (!hit && (e = readdir(d)))
		if (e->d_name[0] != '.' &&
		    !vm_path(p, sizeof(p), home, e->d_name))
			hit = vm_dependant_is(p, rdir, who, len);
	closedir(d);
	return hit;
}

bool vm_linked_dependant(const char *dir, char *who, size_t len)
{
	char *rdir = realpath(dir, NULL);
	bool hit;

	if (!rdir)
		return false;
	hit = vm_dependant_in_list(dir, rdir, who, len) ||
	      vm_dependant_in_home(rdir, who, len);
	free(rdir);
	return hit;
}

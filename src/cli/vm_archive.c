// SPDX-License-Identifier: MIT
/*
 * `twoostwo vm clone|export|import`.
 *
 * clone copies a stopped VM's folder (reflinks where the file system
 * shares blocks, else a sparse copy) and gives the copy a new UUID and new
 * MAC addresses. A suspended VM's saved state is not cloned: it holds the
 * old identity, so the clone starts from its disks. --linked shares the
 * source's .hdd bundles instead of copying them (vm_linked.c); a full copy
 * of a linked clone re-points its parents from the new place.
 *
 * export writes the folder as one tar archive (libarchive; zstd-compressed
 * when the name ends in .zst, sparse files kept sparse); import unpacks one
 * into a new folder, refusing absolute paths, "..", and links.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/vm_cli.h"

#define VM_COPY_CHUNK (1u << 20)

/* Files of a folder that belong to a running or a saved instance only. */
static bool vm_transient(const char *name, bool keep_state)
{
	size_t n = strlen(name);

	return !strcmp(name, VM_LOCK_FILE) || !strcmp(name, VM_LOG_FILE) ||
	       (n > 5 && !strcmp(name + n - 5, ".sock")) ||
	       (n > 4 && !strcmp(name + n - 4, ".tmp")) ||
	       (!keep_state &&
		!strncmp(name, VM_STATE_FILE, strlen(VM_STATE_FILE)));
}

/* Copy one regular file: a reflink if possible, else data (holes kept). */
static int vm_copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out, ret = 0;
	off_t pos = 0, data, hole;
	char *buf;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	if (ioctl(out, FICLONE, in) == 0)
		goto done;
	buf = malloc(VM_COPY_CHUNK);
	if (!buf) {
		ret = -ENOMEM;
		goto done;
	}
	for (;;) {
		ssize_t n;

		data = lseek(in, pos, SEEK_DATA);
		if (data < 0)
			break; /* the rest is a hole (or the end) */
		hole = lseek(in, data, SEEK_HOLE);
		for (pos = data; pos < hole; pos += n) {
			n = pread(in, buf,
				  MIN((off_t)VM_COPY_CHUNK, hole - pos), pos);
			if (n <= 0 || pwrite(out, buf, (size_t)n, pos) != n) {
				ret = n < 0 ? -errno : -EIO;
				break;
			}
		}
		if (ret)
			break;
	}
	free(buf);
	if (!ret && ftruncate(out, lseek(in, 0, SEEK_END)) < 0)
		ret = -errno;
done:
	if (!ret && fsync(out) < 0)
		ret = -errno;
	close(in);
	close(out);
	return ret;
}

/* A top-level name listed in skip (NULL-terminated; skip may be NULL). */
static bool vm_skipped(const char *name, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (!strcmp(name, *skip))
			return true;
	return false;
}

/*
 * Copy a folder. At the top: not the running instance's files, not the
 * list of linked clones (they depend on the original, not on the copy),
 * not the names in skip (a linked clone's bundles are made, not copied).
 */
static int vm_copy_tree(const char *from, const char *to, bool top,
			const char *const *skip)
{
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(from);
	int ret = 0;

	if (!d)
		return -errno;
	if (mkdir(to, 0755) < 0 && (errno != EEXIST || top)) {
		ret = -errno;
		closedir(d);
		return ret;
	}
	while (!ret && (e = readdir(d))) {
		char a[PATH_MAX], b[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (top && (vm_transient(e->d_name, false) ||
			     !strcmp(e->d_name, "linked-clones") ||
			     vm_skipped(e->d_name, skip))))
			continue;
		if (snprintf(a, sizeof(a), "%s/%s", from, e->d_name) >=
			    (int)sizeof(a) ||
		    snprintf(b, sizeof(b), "%s/%s", to, e->d_name) >=
			    (int)sizeof(b)) {
			ret = -ENAMETOOLONG;
			break;
		}
		if (lstat(a, &st) < 0)
			ret = -errno;
		else if (S_ISDIR(st.st_mode)) /* .hdd bundles */
			ret = vm_copy_tree(a, b, false, NULL);
		else if (S_ISREG(st.st_mode))
			ret = vm_copy_file(a, b, st.st_mode);
	}
	closedir(d);
	return ret;
}

/* A new UUID and new MACs for a copy; the name from its folder. */
static int vm_new_identity(const char *dir, const char *name)
{
	struct vm_config c;
	char ini[PATH_MAX], err[1024], uuid[37], mac[18];
	unsigned i;
	int ret;

	vm_path(ini, sizeof(ini), dir, VM_CONFIG_FILE);
	ret = vm_config_load(&c, ini, dir, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "twoostwo vm: %s\n", err);
		return ret;
	}
	vm_new_uuid(uuid);
	ret = vm_config_set(&c, "uuid", uuid, err, sizeof(err));
	ret = ret ?: vm_config_set(&c, "name", name, err, sizeof(err));
	for (i = 0; !ret && i < c.nr_net; i++) {
		char *spec;

		vm_new_mac(mac);
		spec = vm_net_with_mac(c.net[i], mac);
		if (!spec) {
			ret = -ENOMEM;
			break;
		}
		free(c.net[i]);
		c.net[i] = spec;
	}
	ret = ret ?: vm_config_save(&c, ini, err, sizeof(err));
	if (ret)
		fprintf(stderr, "twoostwo vm: %s\n", err);
	vm_config_free(&c);
	return ret;
}

static const char *vm_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The bundles a linked clone makes instead of copying: the disks. */
static void vm_disk_names(const struct vm_config *c, const char **skip)
{
	unsigned i, n = 0;

	for (i = 0; i < VM_DRIVES; i++)
		if (c->drive[i] && *c->drive[i] && vm_drive_is_disk(i))
			skip[n++] = c->drive[i];
	skip[n] = NULL;
}

static int vm_clone_into(struct vm_ref *ref, const char *dst, bool linked)
{
	const char *skip[VM_DRIVES + 1] = {NULL};
	int ret;

	if (linked)
		vm_disk_names(&ref->cfg, skip);
	ret = vm_copy_tree(ref->dir, dst, true, skip);
	if (ret) {
		vm_err("clone", "%s: %s", dst, strerror(-ret));
		return ret;
	}
	ret = linked ? vm_linked_make(ref, dst) :
		       vm_relocate_disks(dst, ref->dir);
	return ret ?: vm_new_identity(dst, vm_basename(dst));
}

int vm_cmd_clone(int argc, char **argv)
{
	const char *pos[2] = {NULL, NULL};
	struct vm_ref ref;
	char dst[PATH_MAX];
	bool linked = false;
	int i, n = 0, ret;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--linked"))
			linked = true;
		else if (argv[i][0] != '-' && n < 2)
			pos[n++] = argv[i];
		else
			n = 3;
	}
	if (n != 2) {
		vm_err("clone", "usage: twoostwo vm clone [--linked] SRC DST");
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(pos[0], &ref);
	if (ret)
		return ret;
	if (vm_run_state(ref.dir, &pid) == VM_RUNNING) {
		vm_err("clone", "%s is running (pid %d): stop or suspend it",
		       pos[0], (int)pid);
		vm_close(&ref);
		return CLI_EXIT_ERROR;
	}
	if (vm_resolve(pos[1], dst, sizeof(dst))) {
		vm_err("clone", "%s: path too long", pos[1]);
		vm_close(&ref);
		return CLI_EXIT_USAGE;
	}
	if (linked && vm_linked_check_source(&ref)) {
		vm_close(&ref);
		return CLI_EXIT_ERROR;
	}
	if (!access(dst, F_OK)) {
		vm_err("clone", "%s already exists", dst);
		vm_close(&ref);
		return CLI_EXIT_ERROR;
	}
	ret = vm_clone_into(&ref, dst, linked);
	vm_close(&ref);
	if (ret) {
		vm_remove_tree(dst);
		return CLI_EXIT_ERROR;
	}
	printf("cloned %s to %s%s\n", pos[0], dst,
	       linked ? " (linked: its disks are deltas on the source's)" : "");
	return 0;
}

/* export */

static int vm_archive_file(struct archive *a, const char *dir, const char *name,
			   const char *path)
{
	struct archive_entry *e = archive_entry_new();
	char buf[1 << 16];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !e) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		archive_entry_free(e);
		return ret ? ret : -ENOMEM;
	}
	archive_entry_copy_stat(e, &st);
	archive_entry_set_pathname(e, name);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		ret = -EIO;
	while (!ret && (n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			ret = -EIO;
	close(fd);
	archive_entry_free(e);
	return ret;
}

static int vm_archive_tree(struct archive *a, const char *dir,
			   const char *prefix, bool top)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char path[PATH_MAX], name[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (top && vm_transient(de->d_name, true)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(name, sizeof(name), "%s%s%s", prefix,
			 *prefix ? "/" : "", de->d_name);
		if (lstat(path, &st) < 0)
			ret = -errno;
		else if (S_ISDIR(st.st_mode))
			ret = vm_archive_tree(a, path, name, false);
		else if (S_ISREG(st.st_mode))
			ret = vm_archive_file(a, dir, name, path);
	}
	closedir(d);
	return ret;
}

int vm_cmd_export(int argc, char **argv)
{
	struct archive *a;
	struct vm_ref ref;
	size_t n;
	pid_t pid;
	int ret;

	if (argc != 3) {
		vm_err("export", "usage: twoostwo vm export NAME FILE");
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(argv[1], &ref);
	if (ret)
		return ret;
	if (vm_run_state(ref.dir, &pid) == VM_RUNNING) {
		vm_err("export", "%s is running (pid %d): stop or suspend it",
		       argv[1], (int)pid);
		vm_close(&ref);
		return CLI_EXIT_ERROR;
	}
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	n = strlen(argv[2]);
	if (n > 4 && !strcmp(argv[2] + n - 4, ".zst"))
		archive_write_add_filter_zstd(a);
	ret = archive_write_open_filename(a, argv[2]) == ARCHIVE_OK ? 0 : -EIO;
	if (!ret)
		ret = vm_archive_tree(a, ref.dir, "", true);
	if (archive_write_close(a) != ARCHIVE_OK && !ret)
		ret = -EIO;
	if (ret)
		vm_err("export", "%s: %s", argv[2],
		       ret == -EIO ? archive_error_string(a) : strerror(-ret));
	archive_write_free(a);
	vm_close(&ref);
	if (ret)
		return CLI_EXIT_ERROR;
	printf("exported %s to %s\n", argv[1], argv[2]);
	return 0;
}

/* import */

static int vm_extract(const char *file, const char *dir)
{
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *e;
	int r = ARCHIVE_OK, ret = 0, cwd;

	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	/* Nothing outside the folder, no links, no device nodes. */
	archive_write_disk_set_options(
		w, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			   ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			   ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
			   ARCHIVE_EXTRACT_SPARSE);
	if (archive_read_open_filename(a, file, 1 << 16) != ARCHIVE_OK) {
		vm_err("import", "%s: %s", file, archive_error_string(a));
		ret = -EIO;
	}
	/* Names stay relative (and are checked so): extract from inside. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ret && (cwd < 0 || chdir(dir) < 0)) {
		vm_err("import", "%s: %s", dir, strerror(errno));
		ret = -errno;
	}
	while (!ret && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (archive_entry_filetype(e) != AE_IFREG &&
		    archive_entry_filetype(e) != AE_IFDIR) {
			vm_err("import", "%s: %s is not a file", file, name);
			ret = -EINVAL;
			break;
		}
		if (archive_write_header(w, e) != ARCHIVE_OK ||
		    archive_write_data_block(w, NULL, 0, 0) < ARCHIVE_OK) {
			vm_err("import", "%s: %s", name,
			       archive_error_string(w));
			ret = -EIO;
			break;
		}
		for (;;) {
			const void *buf;
			size_t len;
			la_int64_t off;

			r = archive_read_data_block(a, &buf, &len, &off);
			if (r == ARCHIVE_EOF)
				break;
			if (r != ARCHIVE_OK ||
			    archive_write_data_block(w, buf, len, off) !=
				    ARCHIVE_OK) {
				vm_err("import", "%s: %s", name,
				       archive_error_string(
					       r != ARCHIVE_OK ? a : w));
				ret = -EIO;
				break;
			}
		}
	}
	if (!ret && r != ARCHIVE_EOF) {
		vm_err("import", "%s: %s", file, archive_error_string(a));
		ret = -EIO;
	}
	archive_write_close(w);
	archive_write_free(w);
	archive_read_free(a);
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && !ret)
			ret = -errno;
		close(cwd);
	}
	return ret;
}

int vm_cmd_import(int argc, char **argv)
{
	char dir[PATH_MAX], ini[PATH_MAX], err[1024];
	struct vm_config c;
	const char *name;
	int ret;

	if (argc != 2 && argc != 3) {
		vm_err("import", "usage: twoostwo vm import FILE [NAME|PATH]");
		return CLI_EXIT_USAGE;
	}
	if (argc == 3) {
		name = argv[2];
	} else {
		/* NAME from the file name: alpha.tar.zst -> alpha */
		static char base[256];

		snprintf(base, sizeof(base), "%s", vm_basename(argv[1]));
		base[strcspn(base, ".")] = '\0';
		name = base;
	}
	if (!*name || vm_resolve(name, dir, sizeof(dir))) {
		vm_err("import", "bad NAME '%s'", name);
		return CLI_EXIT_USAGE;
	}
	{
		char parent[PATH_MAX], *slash;

		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			vm_mkdirs(parent);
		}
	}
	if (mkdir(dir, 0755) < 0) {
		vm_err("import", "%s: %s", dir, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	ret = vm_extract(argv[1], dir);
	vm_path(ini, sizeof(ini), dir, VM_CONFIG_FILE);
	if (!ret && vm_config_load(&c, ini, dir, err, sizeof(err))) {
		vm_err("import", "%s", err);
		ret = -EINVAL;
	} else if (!ret) {
		/* Same identity, but named after its new folder. */
		if (strcmp(c.name, vm_basename(dir)) &&
		    (vm_config_set(&c, "name", vm_basename(dir), err,
				   sizeof(err)) ||
		     vm_config_save(&c, ini, err, sizeof(err)))) {
			vm_err("import", "%s", err);
			ret = -EIO;
		}
		vm_config_free(&c);
	}
	if (ret) {
		vm_remove_tree(dir);
		return CLI_EXIT_ERROR;
	}
	printf("imported %s into %s\n", argv[1], dir);
	return 0;
}

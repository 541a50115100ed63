// SPDX-License-Identifier: MIT
/*
 * Changing a bundle's snapshot chain: a snapshot (a new empty top, so the
 * old top is frozen), a linked clone (a new bundle whose chain continues in
 * another bundle) and relocation (a copied bundle's outside parents
 * re-pointed). Descriptors are rewritten whole, through a temporary file,
 * fsync and rename, so a crash leaves the old or the new one.
 *
 * Outside parents are stored as paths relative to the bundle (HARDWARE.md
 * section 1 allows relative or absolute File): a source VM folder and its
 * linked clones moved together keep working.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/bundle.h"
#include "block/bundle_internal.h"
#include "block/hdd.h"

/* The chain a new descriptor describes, top first. */
struct bundle_out {
	u64 sectors;
	u64 blocksize;
	unsigned n;
	char guid[BUNDLE_MAX_IMAGES][40];
	char *file[BUNDLE_MAX_IMAGES];
	bool plain[BUNDLE_MAX_IMAGES];
};

static void bundle_out_free(struct bundle_out *o)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		free(o->file[i]);
	o->n = 0;
}

/* Append an image below those already in o; file is copied. */
static int bundle_out_add(struct bundle_out *o, const char *guid,
			  const char *file, bool plain)
{
	if (o->n == BUNDLE_MAX_IMAGES)
		return -E2BIG;
	o->file[o->n] = strdup(file);
	if (!o->file[o->n])
		return -ENOMEM;
	snprintf(o->guid[o->n], sizeof(o->guid[0]), "%s", guid);
	o->plain[o->n++] = plain;
	return 0;
}

int bundle_new_guid(char out[40])
{
	u8 b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -EIO;
	b[6] = (b[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 40,
		 "{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x"
		 "%02x%02x}",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

char *bundle_relpath(const char *from_dir, const char *to)
{
	size_t common = 0, i, ups = 0;
	char *out, *p;

	/* The longest common prefix that ends at a component boundary. */
	for (i = 0; from_dir[i] && from_dir[i] == to[i]; i++)
		if (from_dir[i] == '/')
			common = i;
	if (!from_dir[i] && to[i] == '/')
		common = i;
	for (i = common; from_dir[i]; i++)
		ups += from_dir[i] == '/';
	out = malloc(ups * 3 + strlen(to) + 1);
	if (!out)
		return NULL;
	p = out;
	for (i = 0; i < ups; i++, p += 3)
		memcpy(p, "../", 3);
	strcpy(p, to + common + 1);
	return out;
}

static void bundle_xml_images(FILE *f, const struct bundle_out *o)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		fprintf(f,
			"      <Image>\n"
			"        <GUID>%s</GUID>\n"
			"        <Type>%s</Type>\n"
			"        <File>%s</File>\n"
			"      </Image>\n",
			o->guid[i], o->plain[i] ? "Plain" : "Compressed",
			o->file[i]);
}

static void bundle_xml_shots(FILE *f, const struct bundle_out *o)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		fprintf(f,
			"    <Shot>\n"
			"      <GUID>%s</GUID>\n"
			"      <ParentGUID>%s</ParentGUID>\n"
			"    </Shot>\n",
			o->guid[i],
			i + 1 < o->n ? o->guid[i + 1] : BUNDLE_ROOT_PARENT);
}

static void bundle_xml(FILE *f, const struct bundle_out *o, u64 c, u64 h, u64 s)
{
	fprintf(f,
		"<?xml version='1.0' encoding='UTF-8'?>\n"
		"<Parallels_disk_image Version=\"1.0\">\n"
		"  <Disk_Parameters>\n"
		"    <Disk_size>%llu</Disk_size>\n"
		"    <Cylinders>%llu</Cylinders>\n"
		"    <Heads>%llu</Heads>\n"
		"    <Sectors>%llu</Sectors>\n"
		"    <Padding>0</Padding>\n"
		"  </Disk_Parameters>\n"
		"  <StorageData>\n"
		"    <Storage>\n"
		"      <Start>0</Start>\n"
		"      <End>%llu</End>\n"
		"      <Blocksize>%llu</Blocksize>\n",
		(unsigned long long)o->sectors, (unsigned long long)c,
		(unsigned long long)h, (unsigned long long)s,
		(unsigned long long)o->sectors,
		(unsigned long long)o->blocksize);
	bundle_xml_images(f, o);
	fprintf(f,
		"    </Storage>\n"
		"  </StorageData>\n"
		"  <Snapshots>\n"
		"    <TopGUID>%s</TopGUID>\n",
		o->guid[0]);
	bundle_xml_shots(f, o);
	fputs("  </Snapshots>\n"
	      "</Parallels_disk_image>\n",
	      f);
}

static int bundle_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		r = -errno;
	close(fd);
	return r;
}

/* Replace dir's descriptor with one describing o, atomically. */
static int bundle_write_out(const char *dir, const struct bundle_out *o,
			    char *err, size_t errlen)
{
	char *tmp = NULL, *path = NULL;
	u64 c, h, s;
	FILE *f = NULL;
	int r = 0;

	if (bundle_geometry(o->sectors, &c, &h, &s)) {
		snprintf(err, errlen, "%s: no geometry for %llu sectors", dir,
			 (unsigned long long)o->sectors);
		return -EINVAL;
	}
	if (asprintf(&path, "%s/%s", dir, BUNDLE_DESCRIPTOR) < 0)
		return -ENOMEM;
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		free(path);
		return -ENOMEM;
	}
	f = fopen(tmp, "we");
	if (!f) {
		r = -errno;
	} else {
		bundle_xml(f, o, c, h, s);
		if (fflush(f) || fsync(fileno(f)))
			r = -errno;
		if (fclose(f) && !r)
			r = -errno;
	}
	if (!r && rename(tmp, path))
		r = -errno;
	if (!r)
		r = bundle_sync_dir(dir);
	if (r) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		unlink(tmp);
	}
	free(tmp);
	free(path);
	return r;
}

/* A delta's cluster: the bundle's Blocksize where hdd_create takes it. */
static u64 bundle_delta_cluster(const struct bundle_desc *d)
{
	u64 bytes = d->blocksize * HDD_SECTOR;

	return d->blocksize && bytes <= HDD_MAX_CLUSTER ? bytes :
							  HDD_DEFAULT_CLUSTER;
}

/* The last component of dir (without trailing slashes), or NULL. */
static char *bundle_last_name(const char *dir)
{
	size_t end = strlen(dir), start;

	while (end > 1 && dir[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	return strndup(dir + start, end - start);
}

/*
 * Make a new empty delta in dir for a disk of sectors: its file name
 * (Parallels' NAME.hdd.N.{GUID}.hds) and GUID go to file and guid.
 */
static int bundle_new_delta(const char *dir, const struct bundle_desc *d,
			    unsigned index, char guid[40], char **file,
			    char *err, size_t errlen)
{
	char *base = bundle_last_name(dir), *path = NULL;
	int r = bundle_new_guid(guid);

	*file = NULL;
	if (!r &&
	    (!base || asprintf(file, "%s.%u.%s.hds", base, index, guid) < 0)) {
		*file = NULL;
		r = -ENOMEM;
	}
	if (!r && asprintf(&path, "%s/%s", dir, *file) < 0) {
		path = NULL;
		r = -ENOMEM;
	}
	if (!r)
		r = hdd_create(path, d->sectors * HDD_SECTOR,
			       bundle_delta_cluster(d), false, err, errlen);
	else
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
	if (r) {
		free(*file);
		*file = NULL;
	}
	free(base);
	free(path);
	return r;
}

static void bundle_unlink_in(const char *dir, const char *file)
{
	char *path;

	if (file && asprintf(&path, "%s/%s", dir, file) >= 0) {
		unlink(path);
		free(path);
	}
}

/*
 * Only a plain chain is rewritten: images outside the current chain (the
 * branches of a Parallels snapshot tree) would leave the descriptor.
 */
static int bundle_check_linear(const char *dir, const struct bundle_desc *d,
			       char *err, size_t errlen)
{
	if (d->nimg == d->nchain)
		return 0;
	snprintf(err, errlen,
		 "%s/%s: has %u images but a chain of %u (a snapshot tree): "
		 "not supported",
		 dir, BUNDLE_DESCRIPTOR, d->nimg, d->nchain);
	return -EOPNOTSUPP;
}

int bundle_snapshot(const char *dir, char frozen[40], char *err, size_t errlen)
{
	struct xml_node *root = NULL;
	struct bundle_desc d = {0};
	struct bundle_out o = {0};
	char guid[40], *file = NULL;
	unsigned i;
	int r = bundle_load(dir, &d, &root, err, errlen);

	r = r ?: bundle_check_linear(dir, &d, err, errlen);
	if (!r && d.nchain == BUNDLE_MAX_IMAGES) {
		snprintf(err, errlen, "%s: snapshot chain is full (%d images)",
			 dir, BUNDLE_MAX_IMAGES);
		r = -E2BIG;
	}
	r = r ?: bundle_new_delta(dir, &d, d.nimg, guid, &file, err, errlen);
	o.sectors = d.sectors;
	o.blocksize = d.blocksize;
	if (!r)
		r = bundle_out_add(&o, guid, file, false);
	for (i = 0; !r && i < d.nchain; i++) {
		const struct bundle_image *im = bundle_image_of(&d, d.chain[i]);

		r = bundle_out_add(&o, im->guid, im->file, im->plain);
	}
	if (!r)
		snprintf(frozen, 40, "%s", d.chain[0]);
	if (!r)
		r = bundle_write_out(dir, &o, err, errlen);
	if (r && file)
		bundle_unlink_in(dir, file);
	if (r == -ENOMEM || r == -E2BIG)
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
	bundle_out_free(&o);
	free(file);
	xml_free(root);
	return r;
}

/*
 * Add base's chain from the image base_guid down to o, each File made
 * relative to rdir (the new bundle, resolved) from where base names it.
 */
static int bundle_out_link(struct bundle_out *o, const char *rdir,
			   const char *base, const struct bundle_desc *d,
			   unsigned from, char *err, size_t errlen)
{
	unsigned i;
	int r = 0;

	for (i = from; !r && i < d->nchain; i++) {
		const struct bundle_image *im = bundle_image_of(d, d->chain[i]);
		char *path = NULL, *real = NULL, *rel = NULL;

		if (asprintf(&path, "%s/%s", base, im->file) < 0)
			return -ENOMEM;
		real = realpath(path, NULL);
		if (!real) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		} else {
			rel = bundle_relpath(rdir, real);
			r = rel ? bundle_out_add(o, im->guid, rel, im->plain) :
				  -ENOMEM;
		}
		if (!r && im->plain && strstr(rel, "../")) {
			snprintf(err, errlen,
				 "%s: a Plain (raw) image cannot be a linked "
				 "clone's base",
				 path);
			r = -EINVAL;
		}
		free(path);
		free(real);
		free(rel);
	}
	return r;
}

int bundle_create_linked(const char *dir, const char *base,
			 const char *base_guid, char *err, size_t errlen)
{
	struct xml_node *root = NULL;
	struct bundle_desc d = {0};
	struct bundle_out o = {0};
	char guid[40], *file = NULL, *rdir = NULL;
	unsigned from;
	bool made = false;
	int r = bundle_load(base, &d, &root, err, errlen);

	for (from = 0; !r && from < d.nchain; from++)
		if (!strcasecmp(d.chain[from], base_guid))
			break;
	if (!r && from == d.nchain) {
		snprintf(err, errlen, "%s: no snapshot %s in its chain", base,
			 base_guid);
		r = -ENOENT;
	}
	if (!r && d.nchain - from == BUNDLE_MAX_IMAGES) {
		snprintf(err, errlen, "%s: snapshot chain is full", base);
		r = -E2BIG;
	}
	if (!r && mkdir(dir, 0755)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
	}
	made = !r;
	if (!r && !(rdir = realpath(dir, NULL))) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
	}
	r = r ?: bundle_new_delta(dir, &d, 0, guid, &file, err, errlen);
	o.sectors = d.sectors;
	o.blocksize = d.blocksize;
	if (!r)
		r = bundle_out_add(&o, guid, file, false);
	r = r ?: bundle_out_link(&o, rdir, base, &d, from, err, errlen);
	r = r ?: bundle_write_out(dir, &o, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", dir);
	if (r && made) {
		bundle_unlink_in(dir, file);
		bundle_unlink_in(dir, BUNDLE_DESCRIPTOR);
		rmdir(dir);
	}
	bundle_out_free(&o);
	free(file);
	free(rdir);
	xml_free(root);
	return r;
}

int bundle_relocate(const char *dir, const char *old_dir, char *err,
		    size_t errlen)
{
	struct xml_node *root = NULL;
	struct bundle_desc d = {0};
	struct bundle_out o = {0};
	char *rdir = NULL;
	bool any = false;
	unsigned i;
	int r = bundle_load(dir, &d, &root, err, errlen);

	for (i = 0; !r && i < d.nchain; i++)
		any |= bundle_image_of(&d, d.chain[i])->outside;
	if (r || !any)
		goto out;
	r = bundle_check_linear(dir, &d, err, errlen);
	if (!r && !(rdir = realpath(dir, NULL))) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
	}
	o.sectors = d.sectors;
	o.blocksize = d.blocksize;
	for (i = 0; !r && i < d.nchain; i++) {
		const struct bundle_image *im = bundle_image_of(&d, d.chain[i]);

		if (im->outside)
			r = bundle_out_link(&o, rdir, old_dir, &d, i, err,
					    errlen);
		else
			r = bundle_out_add(&o, im->guid, im->file, im->plain);
		if (im->outside)
			break; /* bundle_out_link added the rest */
	}
	r = r ?: bundle_write_out(dir, &o, err, errlen);
out:
	bundle_out_free(&o);
	free(rdir);
	xml_free(root);
	return r;
}

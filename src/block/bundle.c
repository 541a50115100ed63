// SPDX-License-Identifier: MIT
/*
 * Parallels bundle: parse DiskDescriptor.xml, resolve the snapshot chain
 * from the top GUID to the root, open each image with the raw or .hdd
 * backend, and serve reads from the newest image that holds each cluster.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/bundle.h"
#include "block/bundle_internal.h"
#include "block/hdd.h"
#include "block/xml.h"

struct bundle {
	struct block_dev *dev[BUNDLE_MAX_IMAGES]; /* top first */
	/* Cluster bytes of each .hds, 0 for Plain: hdd_stats walks the BAT. */
	u64 cluster[BUNDLE_MAX_IMAGES];
	unsigned n;
};

static int bundle_fail(char *err, size_t errlen, const char *dir,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bundle_fail(char *err, size_t errlen, const char *dir,
		       const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s/%s: %s", dir, BUNDLE_DESCRIPTOR, msg);
	return -EINVAL;
}

bool bundle_probe(const char *path)
{
	struct stat st;
	char *p;
	bool ok;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return false;
	if (asprintf(&p, "%s/%s", path, BUNDLE_DESCRIPTOR) < 0)
		return false;
	ok = !access(p, F_OK);
	free(p);
	return ok;
}

/* Text of the child element name, or NULL. */
static const char *bundle_text(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = n ? xml_child(n, name) : NULL;

	return c ? (c->text ? c->text : "") : NULL;
}

/* A plain decimal number: digits only, no sign, no overflow. */
static bool bundle_number(const char *s, u64 *out)
{
	u64 v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	return true;
}

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" with hex digits. */
static bool bundle_guid_ok(const char *s)
{
	static const char pat[] = "{########-####-####-####-############}";
	size_t i;

	if (!s || strlen(s) != sizeof(pat) - 1)
		return false;
	for (i = 0; pat[i]; i++) {
		bool hex = (s[i] >= '0' && s[i] <= '9') ||
			   ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f');

		if (pat[i] == '#' ? !hex : s[i] != pat[i])
			return false;
	}
	return true;
}

static int bundle_parse_params(const struct xml_node *root, u64 *sectors,
			       char *err, size_t errlen, const char *dir)
{
	const struct xml_node *p = xml_child(root, "Disk_Parameters");
	u64 c, h, s, pad;

	if (!p)
		return bundle_fail(err, errlen, dir, "no Disk_Parameters");
	if (!bundle_number(bundle_text(p, "Disk_size"), sectors) || !*sectors)
		return bundle_fail(err, errlen, dir,
				   "bad or missing Disk_size");
	if (*sectors > UINT64_MAX / HDD_SECTOR)
		return bundle_fail(err, errlen, dir, "Disk_size too large");
	if (!bundle_number(bundle_text(p, "Cylinders"), &c) ||
	    !bundle_number(bundle_text(p, "Heads"), &h) ||
	    !bundle_number(bundle_text(p, "Sectors"), &s))
		return bundle_fail(err, errlen, dir,
				   "bad or missing Cylinders/Heads/Sectors");
	/* Each factor is below 2^32 so the product cannot overflow. */
	if (c >> 32 || h >> 32 || s >> 32 || !h || !s || c * h * s != *sectors)
		return bundle_fail(err, errlen, dir,
				   "Cylinders x Heads x Sectors != Disk_size");
	if (bundle_text(p, "Padding") &&
	    (!bundle_number(bundle_text(p, "Padding"), &pad) || pad))
		return bundle_fail(err, errlen, dir, "Padding is not 0");
	return 0;
}

/*
 * File must be a relative path: a VM folder copied from elsewhere is
 * untrusted, and an absolute path would let it open any host file. A ".."
 * component makes it an image outside the bundle, which only a parent
 * (read-only, Compressed, so it must carry a Parallels header) may be: a
 * linked clone's base in the source VM's folder (bundle_check_links).
 */
static bool bundle_file_ok(const char *f, bool *outside)
{
	const char *p = f;

	*outside = false;
	if (!*f || *f == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			*outside = true;
		p += n;
		p += *p == '/';
	}
	return true;
}

static int bundle_parse_image(const struct xml_node *n, struct bundle_desc *d,
			      char *err, size_t errlen, const char *dir)
{
	struct bundle_image *im = &d->img[d->nimg];
	const char *type = bundle_text(n, "Type");
	unsigned i;

	if (d->nimg == BUNDLE_MAX_IMAGES)
		return bundle_fail(err, errlen, dir, "more than %d images",
				   BUNDLE_MAX_IMAGES);
	im->guid = bundle_text(n, "GUID");
	im->file = bundle_text(n, "File");
	if (!bundle_guid_ok(im->guid))
		return bundle_fail(err, errlen, dir, "Image has a bad GUID");
	if (!type || (strcmp(type, "Plain") && strcmp(type, "Compressed")))
		return bundle_fail(err, errlen, dir,
				   "Image %s: Type must be Plain or Compressed",
				   im->guid);
	im->plain = !strcmp(type, "Plain");
	if (!im->file || !bundle_file_ok(im->file, &im->outside))
		return bundle_fail(err, errlen, dir,
				   "Image %s: File must be a relative path",
				   im->guid);
	for (i = 0; i < d->nimg; i++)
		if (!strcasecmp(d->img[i].guid, im->guid))
			return bundle_fail(err, errlen, dir,
					   "Image GUID %s appears twice",
					   im->guid);
	d->nimg++;
	return 0;
}

static int bundle_parse_storage(const struct xml_node *root,
				struct bundle_desc *d, char *err, size_t errlen,
				const char *dir)
{
	const struct xml_node *sd = xml_child(root, "StorageData");
	const struct xml_node *st = sd ? xml_child(sd, "Storage") : NULL;
	const struct xml_node *im;
	u64 start, end, bs;
	int r;

	if (!st)
		return bundle_fail(err, errlen, dir, "no StorageData/Storage");
	if (xml_next(st, "Storage"))
		return bundle_fail(err, errlen, dir,
				   "more than one Storage is not supported");
	if (!bundle_number(bundle_text(st, "Start"), &start) || start)
		return bundle_fail(err, errlen, dir, "Storage Start is not 0");
	if (!bundle_number(bundle_text(st, "End"), &end) || end != d->sectors)
		return bundle_fail(err, errlen, dir,
				   "Storage End differs from Disk_size");
	if (!bundle_number(bundle_text(st, "Blocksize"), &bs) || !bs)
		return bundle_fail(err, errlen, dir,
				   "bad or missing Blocksize");
	d->blocksize = bs;
	for (im = xml_child(st, "Image"); im; im = xml_next(im, "Image")) {
		r = bundle_parse_image(im, d, err, errlen, dir);
		if (r)
			return r;
	}
	if (!d->nimg)
		return bundle_fail(err, errlen, dir, "Storage has no Image");
	return 0;
}

static const struct xml_node *bundle_find_shot(const struct xml_node *snaps,
					       const char *guid)
{
	const struct xml_node *s;

	for (s = xml_child(snaps, "Shot"); s; s = xml_next(s, "Shot")) {
		const char *g = bundle_text(s, "GUID");

		if (g && !strcasecmp(g, guid))
			return s;
	}
	return NULL;
}

/* Walk ParentGUID from the top to the root, at most one step per image. */
static int bundle_parse_chain(const struct xml_node *root,
			      struct bundle_desc *d, char *err, size_t errlen,
			      const char *dir)
{
	const struct xml_node *snaps = xml_child(root, "Snapshots");
	const char *guid = bundle_text(snaps, "TopGUID");

	if (!snaps)
		return bundle_fail(err, errlen, dir, "no Snapshots");
	if (!guid)
		guid = BUNDLE_DEFAULT_TOP;
	while (strcasecmp(guid, BUNDLE_ROOT_PARENT)) {
		const struct xml_node *shot;
		unsigned i;

		/* Checked first: a GUID is printed in the messages below. */
		if (!bundle_guid_ok(guid))
			return bundle_fail(err, errlen, dir,
					   "snapshot chain has a bad GUID");
		shot = bundle_find_shot(snaps, guid);
		if (!shot)
			return bundle_fail(err, errlen, dir,
					   "no Shot with GUID %s", guid);
		for (i = 0; i < d->nchain; i++)
			if (!strcasecmp(d->chain[i], guid))
				return bundle_fail(err, errlen, dir,
						   "snapshot chain has a cycle "
						   "at %s",
						   guid);
		if (d->nchain == BUNDLE_MAX_IMAGES)
			return bundle_fail(err, errlen, dir,
					   "snapshot chain too long");
		d->chain[d->nchain++] = guid;
		guid = bundle_text(shot, "ParentGUID");
		if (!guid)
			return bundle_fail(err, errlen, dir,
					   "Shot %s has no ParentGUID",
					   d->chain[d->nchain - 1]);
	}
	if (!d->nchain)
		return bundle_fail(err, errlen, dir,
				   "TopGUID is the root GUID");
	return 0;
}

static int bundle_parse(const struct xml_node *root, struct bundle_desc *d,
			char *err, size_t errlen, const char *dir)
{
	const char *ver = xml_attr(root, "Version");
	int r;

	if (strcmp(root->name, "Parallels_disk_image"))
		return bundle_fail(err, errlen, dir,
				   "root is not Parallels_disk_image");
	if (!ver || strcmp(ver, "1.0"))
		return bundle_fail(err, errlen, dir, "Version is not 1.0");
	r = bundle_parse_params(root, &d->sectors, err, errlen, dir);
	if (!r)
		r = bundle_parse_storage(root, d, err, errlen, dir);
	if (!r)
		r = bundle_parse_chain(root, d, err, errlen, dir);
	return r;
}

static int bundle_read_file(const char *dir, char **buf, size_t *len, char *err,
			    size_t errlen)
{
	char *path;
	ssize_t n;
	int fd, e;

	if (asprintf(&path, "%s/%s", dir, BUNDLE_DESCRIPTOR) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s/%s: %s", dir, BUNDLE_DESCRIPTOR,
			 strerror(e));
		return -e;
	}
	*buf = malloc(XML_MAX_SIZE + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	/* One byte more than allowed, so xml_parse sees an oversize file. */
	n = read(fd, *buf, XML_MAX_SIZE + 1);
	e = errno;
	close(fd);
	if (n < 0) {
		free(*buf);
		snprintf(err, errlen, "%s/%s: %s", dir, BUNDLE_DESCRIPTOR,
			 strerror(e));
		return -e;
	}
	*len = (size_t)n;
	return 0;
}

const struct bundle_image *bundle_image_of(const struct bundle_desc *d,
					   const char *guid)
{
	unsigned i;

	for (i = 0; i < d->nimg; i++)
		if (!strcasecmp(d->img[i].guid, guid))
			return &d->img[i];
	return NULL;
}

/*
 * The same rule as bundle_file_ok for symbolic links: the resolved image
 * must still lie inside the resolved bundle directory.
 */
static int bundle_check_inside(const char *dir, const char *path, char *err,
			       size_t errlen)
{
	char *rdir = realpath(dir, NULL), *rpath = NULL;
	size_t n = rdir ? strlen(rdir) : 0;
	int r = 0;

	if (rdir)
		rpath = realpath(path, NULL);
	if (!rpath) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", rdir ? path : dir,
			 strerror(-r));
	} else if (strncmp(rpath, rdir, n) || rpath[n] != '/') {
		r = -EINVAL;
		snprintf(err, errlen, "%s: resolves outside the bundle", path);
	}
	free(rdir);
	free(rpath);
	return r;
}

static int bundle_open_image(const char *dir, const struct bundle_image *im,
			     u64 size, bool ro, struct block_dev **out,
			     char *err, size_t errlen)
{
	unsigned flags = ro ? BLOCK_OPEN_READ_ONLY : 0;
	char *path;
	int r;

	if (asprintf(&path, "%s/%s", dir, im->file) < 0)
		return -ENOMEM;
	if (im->outside && access(path, F_OK)) {
		/* A linked clone whose source folder moved or went away. */
		r = -errno;
		bundle_fail(err, errlen, dir,
			    "parent image %s is missing (%s): was the linked "
			    "clone's source moved or deleted?",
			    im->file, strerror(-r));
		free(path);
		return r;
	}
	r = im->outside ? 0 : bundle_check_inside(dir, path, err, errlen);
	if (r) {
		free(path);
		return r;
	}
	if (im->plain) {
		r = block_open_raw(path, flags, out, err, errlen);
		if (!r && !ro)
			r = block_lock((*out)->fd, path, err, errlen);
	} else {
		r = block_open_hdd(path, flags, out, err, errlen);
	}
	if (!r && (*out)->size != size) {
		snprintf(err, errlen,
			 "%s: size %llu bytes differs from Disk_size %llu",
			 path, (unsigned long long)(*out)->size,
			 (unsigned long long)size);
		r = -EINVAL;
	}
	if (r) {
		block_close(*out);
		*out = NULL;
	}
	free(path);
	return r;
}

static void bundle_free(struct bundle *b)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		block_close(b->dev[i]);
	free(b);
}

static int bundle_open_chain(const char *dir, const struct bundle_desc *d,
			     bool ro, struct bundle *b, char *err,
			     size_t errlen)
{
	struct hdd_stats st;
	unsigned i;
	int r;

	for (i = 0; i < d->nchain; i++) {
		const struct bundle_image *im = bundle_image_of(d, d->chain[i]);

		if (!im)
			return bundle_fail(err, errlen, dir,
					   "snapshot %s has no Image",
					   d->chain[i]);
		r = bundle_open_image(dir, im, d->sectors * HDD_SECTOR,
				      ro || i > 0, &b->dev[i], err, errlen);
		if (r)
			return r;
		if (!hdd_stats(b->dev[i], &st))
			b->cluster[i] = st.cluster;
		b->n++;
	}
	return 0;
}

/* Bytes from offset to the end of image i's cluster that holds it. */
static u64 bundle_span(const struct bundle *b, unsigned i, u64 offset, u64 len)
{
	u64 left;

	if (!b->cluster[i])
		return len; /* Plain: one extent */
	left = b->cluster[i] - offset % b->cluster[i];
	return left < len ? left : len;
}

/* Which image of the chain, from index first, holds the byte at offset. */
static unsigned bundle_owner(const struct bundle *b, unsigned first, u64 offset)
{
	unsigned i;

	for (i = first; i + 1 < b->n; i++)
		if (!b->cluster[i] || hdd_cluster_allocated(b->dev[i], offset))
			return i;
	return b->n - 1;
}

static int bundle_read_from(struct bundle *b, unsigned first, u64 offset,
			    u8 *buf, u64 len)
{
	while (len) {
		unsigned i, who = bundle_owner(b, first, offset);
		u64 n = len;
		int r;

		/* The piece must not cross a cluster of any image above. */
		for (i = first; i <= who; i++)
			n = bundle_span(b, i, offset, n);
		r = block_read(b->dev[who], offset, buf, (size_t)n);
		if (r)
			return r;
		offset += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int bundle_read(struct block_dev *bd, u64 offset, void *buf, size_t len)
{
	return bundle_read_from(bd->priv, 0, offset, buf, len);
}

/*
 * The top image allocates a whole cluster on first write; copy the
 * parents' data of that cluster up first so the rest of it is not lost.
 */
static int bundle_copy_up(struct bundle *b, u64 offset)
{
	struct block_dev *top = b->dev[0];
	u64 start, len;
	u8 *tmp;
	int r;

	if (b->n < 2 || !b->cluster[0] || hdd_cluster_allocated(top, offset))
		return 0;
	start = offset - offset % b->cluster[0];
	len = b->cluster[0];
	if (len > top->size - start)
		len = top->size - start;
	tmp = malloc(len);
	if (!tmp)
		return -ENOMEM;
	r = bundle_read_from(b, 1, start, tmp, len);
	if (!r)
		r = block_write(top, start, tmp, (size_t)len);
	free(tmp);
	return r;
}

static int bundle_write(struct block_dev *bd, u64 offset, const void *buf,
			size_t len)
{
	struct bundle *b = bd->priv;
	const u8 *p = buf;

	while (len) {
		u64 n = bundle_span(b, 0, offset, len);
		int r = bundle_copy_up(b, offset);

		if (!r)
			r = block_write(b->dev[0], offset, p, (size_t)n);
		if (r)
			return r;
		offset += n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int bundle_flush(struct block_dev *bd)
{
	struct bundle *b = bd->priv;

	return block_flush(b->dev[0]);
}

/*
 * Only the top image is writable: discard there (its own clusters, see
 * hdd_discard). A cluster the top has not allocated keeps reading from the
 * parents, which a discard allows.
 */
static int bundle_discard(struct block_dev *bd, u64 offset, u64 len)
{
	struct bundle *b = bd->priv;

	return block_discard(b->dev[0], offset, len);
}

static void bundle_close(struct block_dev *bd)
{
	bundle_free(bd->priv);
	bd->priv = NULL;
}

static const struct block_ops bundle_ops = {
	.format = "parallels-bundle",
	.read = bundle_read,
	.write = bundle_write,
	.flush = bundle_flush,
	.discard = bundle_discard,
	.close = bundle_close,
};

/*
 * Images outside the bundle ("..": a linked clone's base) are read-only
 * parents, never the top the guest writes, and Compressed, so that
 * block_open_hdd insists on a Parallels header: a descriptor copied from
 * anywhere cannot make a guest disk out of an arbitrary host file.
 */
static int bundle_check_links(const struct bundle_desc *d, char *err,
			      size_t errlen, const char *dir)
{
	unsigned i;

	for (i = 0; i < d->nchain; i++) {
		const struct bundle_image *im = bundle_image_of(d, d->chain[i]);

		if (!im->outside)
			continue;
		if (!i)
			return bundle_fail(err, errlen, dir,
					   "the top image %s must be inside "
					   "the bundle (no '..')",
					   im->guid);
		if (im->plain)
			return bundle_fail(err, errlen, dir,
					   "parent image %s outside the "
					   "bundle must be Compressed",
					   im->guid);
	}
	return 0;
}

/* Parse a descriptor held in memory; d points into *root afterwards. */
static int bundle_decode(const char *buf, size_t len, const char *dir,
			 struct bundle_desc *d, struct xml_node **root,
			 char *err, size_t errlen)
{
	char xerr[160];
	unsigned i;
	int r = xml_parse(buf, len, root, xerr, sizeof(xerr));

	if (r)
		return bundle_fail(err, errlen, dir, "%s", xerr);
	r = bundle_parse(*root, d, err, errlen, dir);
	for (i = 0; !r && i < d->nchain; i++)
		if (!bundle_image_of(d, d->chain[i]))
			r = bundle_fail(err, errlen, dir,
					"snapshot %s has no Image",
					d->chain[i]);
	return r ?: bundle_check_links(d, err, errlen, dir);
}

int bundle_check_descriptor(const char *buf, size_t len, const char *dir,
			    char *err, size_t errlen)
{
	struct bundle_desc d = {0};
	struct xml_node *root = NULL;
	int r = bundle_decode(buf, len, dir, &d, &root, err, errlen);

	xml_free(root);
	return r;
}

int bundle_load(const char *dir, struct bundle_desc *d, struct xml_node **root,
		char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int r = bundle_read_file(dir, &buf, &len, err, errlen);

	if (r)
		return r;
	r = bundle_decode(buf, len, dir, d, root, err, errlen);
	free(buf);
	return r;
}

int block_open_bundle(const char *dir, unsigned flags, struct block_dev **out,
		      char *err, size_t errlen)
{
	bool ro = flags & BLOCK_OPEN_READ_ONLY;
	struct xml_node *root = NULL;
	struct bundle_desc d = {0};
	struct block_dev *bd = NULL;
	struct bundle *b;
	int r;

	*out = NULL;
	r = bundle_load(dir, &d, &root, err, errlen);
	b = r ? NULL : calloc(1, sizeof(*b));
	if (!r && !b)
		r = -ENOMEM;
	if (!r)
		r = bundle_open_chain(dir, &d, ro, b, err, errlen);
	xml_free(root);
	if (!r) {
		bd = calloc(1, sizeof(*bd));
		if (bd)
			bd->path = strdup(dir);
		if (!bd || !bd->path)
			r = -ENOMEM;
	}
	if (r) {
		if (bd)
			free(bd->path);
		free(bd);
		if (b)
			bundle_free(b);
		if (r == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", dir);
		return r;
	}
	bd->ops = &bundle_ops;
	bd->size = d.sectors * HDD_SECTOR;
	bd->read_only = ro;
	bd->fd = -1;
	bd->priv = b;
	*out = bd;
	return 0;
}

int bundle_files(const char *dir, struct bundle_files *f, char *err,
		 size_t errlen)
{
	struct bundle_desc d = {0};
	struct xml_node *root = NULL;
	unsigned i;
	int r;

	memset(f, 0, sizeof(*f));
	r = bundle_load(dir, &d, &root, err, errlen);
	for (i = 0; !r && i < d.nchain; i++) {
		const struct bundle_image *im = bundle_image_of(&d, d.chain[i]);

		if (asprintf(&f->path[i], "%s/%s", dir, im->file) < 0) {
			f->path[i] = NULL;
			snprintf(err, errlen, "%s: out of memory", dir);
			r = -ENOMEM;
			break;
		}
		f->plain[i] = im->plain;
		f->n++;
	}
	xml_free(root);
	if (r)
		bundle_files_free(f);
	return r;
}

void bundle_files_free(struct bundle_files *f)
{
	unsigned i;

	for (i = 0; i < f->n; i++)
		free(f->path[i]);
	f->n = 0;
}

int bundle_stats(struct block_dev *bd, struct bundle_stats *st)
{
	struct bundle *b = bd->priv;

	if (bd->ops != &bundle_ops)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->images = b->n;
	st->top = b->dev[0]->path;
	st->plain = !b->cluster[0];
	if (!st->plain)
		hdd_stats(b->dev[0], &st->top_hdd);
	return 0;
}

/*
 * Cylinders x Heads x Sectors must equal Disk_size: the usual 16 x 32 when
 * the size allows it, else one head of one sector per cylinder.
 */
int bundle_geometry(u64 sectors, u64 *c, u64 *h, u64 *s)
{
	if (!(sectors % (16 * 32)) && sectors / (16 * 32) <= UINT32_MAX) {
		*c = sectors / (16 * 32);
		*h = 16;
		*s = 32;
		return 0;
	}
	if (sectors > UINT32_MAX)
		return -EINVAL;
	*c = sectors;
	*h = 1;
	*s = 1;
	return 0;
}

static int bundle_write_desc(const char *dir, const char *file, u64 sectors,
			     u64 cluster, bool overwrite, char *err,
			     size_t errlen)
{
	u64 c, h, s;
	char *path = NULL;
	FILE *f = NULL;
	int fd, r = 0;

	if (bundle_geometry(sectors, &c, &h, &s)) {
		snprintf(err, errlen,
			 "%s: a bundle over 2T must be a multiple of 256K",
			 dir);
		return -EINVAL;
	}
	if (asprintf(&path, "%s/%s", dir, BUNDLE_DESCRIPTOR) < 0)
		return -ENOMEM;
	fd = open(path,
		  O_WRONLY | O_CREAT | O_CLOEXEC |
			  (overwrite ? O_TRUNC : O_EXCL),
		  0644);
	if (fd >= 0)
		f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		free(path);
		return r;
	}
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
		"      <Blocksize>%llu</Blocksize>\n"
		"      <Image>\n"
		"        <GUID>%s</GUID>\n"
		"        <Type>Compressed</Type>\n"
		"        <File>%s</File>\n"
		"      </Image>\n"
		"    </Storage>\n"
		"  </StorageData>\n"
		"  <Snapshots>\n"
		"    <TopGUID>%s</TopGUID>\n"
		"    <Shot>\n"
		"      <GUID>%s</GUID>\n"
		"      <ParentGUID>%s</ParentGUID>\n"
		"    </Shot>\n"
		"  </Snapshots>\n"
		"</Parallels_disk_image>\n",
		(unsigned long long)sectors, (unsigned long long)c,
		(unsigned long long)h, (unsigned long long)s,
		(unsigned long long)sectors,
		(unsigned long long)(cluster / HDD_SECTOR), BUNDLE_DEFAULT_TOP,
		file, BUNDLE_DEFAULT_TOP, BUNDLE_DEFAULT_TOP,
		BUNDLE_ROOT_PARENT);
	if (fflush(f) || fsync(fileno(f)))
		r = -errno;
	if (fclose(f) && !r)
		r = -errno;
	if (r)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	free(path);
	return r;
}

/* a followed by b in a new string, or NULL. */
static char *bundle_join(const char *a, const char *b)
{
	char *s;

	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* dir/name in a new string, or NULL. */
static char *bundle_join_path(const char *dir, const char *name)
{
	char *s;

	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

/* The last component of dir, without trailing slashes. */
static char *bundle_base_name(const char *dir)
{
	size_t end = strlen(dir), start;

	while (end > 1 && dir[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	return strndup(dir + start, end - start);
}

int bundle_create(const char *dir, u64 size, u64 cluster, bool overwrite,
		  char *err, size_t errlen)
{
	char *base = bundle_base_name(dir), *file = NULL, *path = NULL;
	bool made = false;
	int r = 0;

	/* Named as Parallels names them: BUNDLE.0.{GUID}.hds */
	if (base)
		file = bundle_join(base, ".0." BUNDLE_DEFAULT_TOP ".hds");
	if (file)
		path = bundle_join_path(dir, file);
	if (!path) {
		snprintf(err, errlen, "%s: out of memory", dir);
		r = -ENOMEM;
	}
	if (!r && mkdir(dir, 0755)) {
		r = -errno;
		if (r == -EEXIST && overwrite && bundle_probe(dir))
			r = 0;
		else
			snprintf(err, errlen, "%s: %s", dir, strerror(-r));
	} else if (!r) {
		made = true;
	}
	if (!r)
		r = hdd_create(path, size, cluster, overwrite, err, errlen);
	if (!r)
		r = bundle_write_desc(dir, file,
				      (size + HDD_SECTOR - 1) / HDD_SECTOR,
				      cluster, overwrite, err, errlen);
	if (r && made) {
		if (path)
			unlink(path);
		char *desc = bundle_join_path(dir, BUNDLE_DESCRIPTOR);

		if (desc)
			unlink(desc);
		free(desc);
		rmdir(dir);
	}
	free(base);
	free(file);
	free(path);
	return r;
}

// SPDX-License-Identifier: MIT
/*
 * Parallels plain images (HARDWARE.md section 1): header and BAT decoding,
 * reads of allocated and unallocated clusters, allocation on first write,
 * the in-use flag, and the create/check/resize operations of the
 * `twoostwo disk` tool.
 *
 * Crash safety: a new cluster is appended zero-filled, its data written
 * and synced, and only then does the BAT entry that names it reach the
 * disk, so a crash leaves at worst a leaked cluster, never an entry
 * pointing at garbage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/hdd.h"
#include "core/log.h"

#define HDD_OFF_MAGIC 0
#define HDD_OFF_VERSION 16
#define HDD_OFF_HEADS 20
#define HDD_OFF_CYLINDERS 24
#define HDD_OFF_TRACKS 28
#define HDD_OFF_BAT_ENTRIES 32
#define HDD_OFF_NB_SECTORS 36
#define HDD_OFF_INUSE 44
#define HDD_OFF_DATA_OFF 48
#define HDD_OFF_FLAGS 52
#define HDD_OFF_EXT_OFF 56
#define HDD_VERSION 2

struct hdd {
	struct hdd_geom g;
	u32 *bat;	/* entries as stored (v1 sectors, v2 clusters) */
	u64 next_alloc; /* byte offset where the next cluster goes */
	bool dirty;	/* in-use flag was set when opened */
};

/* pread until len bytes or end of file; the rest of buf reads as zeros. */
static int hdd_pread(int fd, void *buf, size_t len, u64 off)
{
	u8 *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (u64)n;
		len -= (size_t)n;
	}
	return 0;
}

static int hdd_sync(int fd)
{
	return fdatasync(fd) ? -errno : 0;
}

bool hdd_probe(const void *buf, size_t len)
{
	return len >= HDD_MAGIC_LEN &&
	       (!memcmp(buf, HDD_MAGIC_V1, HDD_MAGIC_LEN) ||
		!memcmp(buf, HDD_MAGIC_V2, HDD_MAGIC_LEN));
}

static int hdd_bad(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "%s: %s", path, why);
	return -EINVAL;
}

/* Fields that need no other field: magic, version, cluster size. */
static int hdd_parse_fixed(const u8 *hdr, const char *path, struct hdd_geom *g,
			   char *err, size_t errlen)
{
	u32 version = get_le32(hdr + HDD_OFF_VERSION);

	if (!memcmp(hdr, HDD_MAGIC_V1, HDD_MAGIC_LEN))
		g->version = 1;
	else if (!memcmp(hdr, HDD_MAGIC_V2, HDD_MAGIC_LEN))
		g->version = 2;
	else
		return hdd_bad(err, errlen, path,
			       "not a Parallels image (bad magic)");
	if (version != HDD_VERSION) {
		snprintf(err, errlen, "%s: unsupported Parallels version %u",
			 path, version);
		return -EINVAL;
	}
	g->heads = get_le32(hdr + HDD_OFF_HEADS);
	g->cylinders = get_le32(hdr + HDD_OFF_CYLINDERS);
	g->tracks = get_le32(hdr + HDD_OFF_TRACKS);
	/* CVE-2014-0142: the cluster size divides everything that follows. */
	if (!g->tracks)
		return hdd_bad(err, errlen, path, "cluster size (tracks) is 0");
	if (g->tracks > HDD_MAX_CLUSTER / HDD_SECTOR)
		return hdd_bad(err, errlen, path,
			       "cluster size (tracks) is over 256 MiB");
	g->cluster = (u64)g->tracks * HDD_SECTOR;
	g->inuse = get_le32(hdr + HDD_OFF_INUSE);
	g->ext_off = get_le64(hdr + HDD_OFF_EXT_OFF);
	return 0;
}

/* Size and BAT: the BAT must cover the disk and fit before data_off. */
static int hdd_parse_layout(const u8 *hdr, const char *path, struct hdd_geom *g,
			    char *err, size_t errlen)
{
	u64 bat_end, need;

	g->bat_entries = get_le32(hdr + HDD_OFF_BAT_ENTRIES);
	g->nb_sectors = g->version == 1 ? get_le32(hdr + HDD_OFF_NB_SECTORS) :
					  get_le64(hdr + HDD_OFF_NB_SECTORS);
	if (!g->nb_sectors)
		return hdd_bad(err, errlen, path, "disk size is 0");
	if (g->nb_sectors > UINT64_MAX / HDD_SECTOR)
		return hdd_bad(err, errlen, path,
			       "disk size overflows 64 bits");
	need = g->nb_sectors / g->tracks + !!(g->nb_sectors % g->tracks);
	if (g->bat_entries < need) {
		snprintf(err, errlen,
			 "%s: BAT has %u entries, the disk size needs %llu",
			 path, g->bat_entries, (unsigned long long)need);
		return -EINVAL;
	}
	bat_end = HDD_HEADER_SIZE + 4ull * g->bat_entries;
	if (bat_end > g->file_size)
		return hdd_bad(err, errlen, path,
			       "BAT extends beyond the end of the file");
	g->data_off = get_le32(hdr + HDD_OFF_DATA_OFF);
	if (!g->data_off && g->version == 1)
		g->data_off = (u32)((bat_end + HDD_SECTOR - 1) / HDD_SECTOR);
	if (!g->data_off || (u64)g->data_off * HDD_SECTOR < bat_end)
		return hdd_bad(err, errlen, path,
			       "data offset overlaps the header or BAT");
	if ((u64)g->data_off * HDD_SECTOR > g->file_size)
		return hdd_bad(err, errlen, path,
			       "data offset is beyond the end of the file");
	if (g->version == 2 && g->data_off % g->tracks)
		return hdd_bad(err, errlen, path,
			       "data offset is not cluster-aligned");
	return 0;
}

int hdd_parse_header(const u8 *hdr, u64 file_size, const char *path,
		     struct hdd_geom *g, char *err, size_t errlen)
{
	int r;

	memset(g, 0, sizeof(*g));
	g->file_size = file_size;
	if (file_size < HDD_HEADER_SIZE)
		return hdd_bad(err, errlen, path,
			       "file is too short for a Parallels header");
	r = hdd_parse_fixed(hdr, path, g, err, errlen);
	return r ? r : hdd_parse_layout(hdr, path, g, err, errlen);
}

u64 hdd_entry_offset(const struct hdd_geom *g, u32 entry)
{
	return g->version == 1 ? (u64)entry * HDD_SECTOR :
				 (u64)entry * g->cluster;
}

/* Why a non-zero BAT entry is unusable, or NULL if it is fine. */
static const char *hdd_entry_problem(const struct hdd_geom *g, u32 entry)
{
	u64 off = hdd_entry_offset(g, entry);
	u64 base = (u64)g->data_off * HDD_SECTOR;

	if (off < base)
		return "points below the data area";
	if (off >= g->file_size)
		return "points beyond the end of the file";
	if ((off - base) % g->cluster)
		return "is not cluster-aligned";
	return NULL;
}

/* Index of the cluster at byte offset off of the data area. */
static u64 hdd_slot(const struct hdd_geom *g, u32 entry)
{
	return (hdd_entry_offset(g, entry) - (u64)g->data_off * HDD_SECTOR) /
	       g->cluster;
}

/* Clusters the data area of a file of this size can hold (rounded up). */
static u64 hdd_slots(const struct hdd_geom *g)
{
	u64 base = (u64)g->data_off * HDD_SECTOR;

	return (g->file_size - base + g->cluster - 1) / g->cluster;
}

static int hdd_read_bat(int fd, const struct hdd_geom *g, u32 **out)
{
	size_t n = (size_t)g->bat_entries;
	u8 *raw = malloc(MAX(n, 1) * 4);
	u32 *bat = malloc(MAX(n, 1) * sizeof(*bat));
	size_t i;
	int r = -ENOMEM;

	if (raw && bat)
		r = hdd_pread(fd, raw, n * 4, HDD_HEADER_SIZE);
	if (!r)
		for (i = 0; i < n; i++)
			bat[i] = get_le32(raw + 4 * i);
	free(raw);
	if (r)
		free(bat);
	else
		*out = bat;
	return r;
}

/*
 * Validate every entry of an opened image: in the data area, inside the
 * file, aligned, and no cluster named twice (a bitmap bounded by the file
 * size, so a hostile BAT cannot make it large).
 */
static int hdd_validate_bat(const struct hdd_geom *g, const u32 *bat,
			    const char *path, char *err, size_t errlen)
{
	u64 slots = hdd_slots(g);
	u8 *seen = calloc(slots / 8 + 1, 1);
	const char *why;
	u32 i;
	u64 s;

	if (!seen)
		return hdd_bad(err, errlen, path, "out of memory");
	for (i = 0; i < g->bat_entries; i++) {
		if (!bat[i])
			continue;
		why = hdd_entry_problem(g, bat[i]);
		s = why ? 0 : hdd_slot(g, bat[i]);
		if (!why && (seen[s / 8] & (1u << (s % 8))))
			why = "names a cluster already in use";
		if (why) {
			snprintf(err, errlen,
				 "%s: BAT entry %u %s; run 'twoostwo disk "
				 "check --repair %s'",
				 path, i, why, path);
			free(seen);
			return -EINVAL;
		}
		seen[s / 8] |= (u8)(1u << (s % 8));
	}
	free(seen);
	return 0;
}

/* First free cluster-aligned offset after the data and every cluster. */
static u64 hdd_alloc_start(const struct hdd_geom *g, const u32 *bat)
{
	u64 base = (u64)g->data_off * HDD_SECTOR;
	u64 end = base + hdd_slots(g) * g->cluster;
	u32 i;

	for (i = 0; i < g->bat_entries; i++)
		if (bat[i])
			end = MAX(end,
				  hdd_entry_offset(g, bat[i]) + g->cluster);
	return end;
}

static int hdd_set_inuse(int fd, u32 value)
{
	u8 v[4];
	int r;

	put_le32(v, value);
	r = block_pwrite_all(fd, v, sizeof(v), HDD_OFF_INUSE);
	return r ? r : hdd_sync(fd);
}

static int hdd_read(struct block_dev *bd, u64 offset, void *buf, size_t len)
{
	struct hdd *h = bd->priv;
	u8 *p = buf;

	while (len) {
		u64 idx = offset / h->g.cluster, in = offset % h->g.cluster;
		size_t n = (size_t)MIN((u64)len, h->g.cluster - in);
		u32 e = h->bat[idx];
		int r = 0;

		if (e)
			r = hdd_pread(bd->fd, p, n,
				      hdd_entry_offset(&h->g, e) + in);
		else
			memset(p, 0, n);
		if (r)
			return r;
		p += n;
		offset += n;
		len -= n;
	}
	return 0;
}

/* The BAT value naming the cluster at byte offset off of the file. */
static int hdd_entry_for(const struct hdd_geom *g, u64 off, u32 *entry)
{
	u64 v = g->version == 1 ? off / HDD_SECTOR : off / g->cluster;

	if (v > UINT32_MAX)
		return -ENOSPC;
	*entry = (u32)v;
	return 0;
}

/* Append a zeroed cluster for BAT slot idx and write data into it. */
static int hdd_alloc_write(struct block_dev *bd, u64 idx, u64 in,
			   const void *buf, size_t n)
{
	struct hdd *h = bd->priv;
	u64 off = h->next_alloc;
	u8 le[4];
	u32 e;
	int r = hdd_entry_for(&h->g, off, &e);

	if (r)
		return r;
	if (ftruncate(bd->fd, (off_t)(off + h->g.cluster)))
		return -errno;
	h->next_alloc = off + h->g.cluster;
	r = block_pwrite_all(bd->fd, buf, n, off + in);
	if (!r)
		r = hdd_sync(bd->fd);
	if (r)
		return r;
	put_le32(le, e);
	r = block_pwrite_all(bd->fd, le, sizeof(le), HDD_HEADER_SIZE + 4 * idx);
	if (!r)
		h->bat[idx] = e;
	return r;
}

static int hdd_write(struct block_dev *bd, u64 offset, const void *buf,
		     size_t len)
{
	struct hdd *h = bd->priv;
	const u8 *p = buf;

	while (len) {
		u64 idx = offset / h->g.cluster, in = offset % h->g.cluster;
		size_t n = (size_t)MIN((u64)len, h->g.cluster - in);
		u32 e = h->bat[idx];
		int r;

		if (e)
			r = block_pwrite_all(bd->fd, p, n,
				       hdd_entry_offset(&h->g, e) + in);
		else
			r = hdd_alloc_write(bd, idx, in, p, n);
		if (r)
			return r;
		p += n;
		offset += n;
		len -= n;
	}
	return 0;
}

/*
 * Discard: punch the discarded bytes out of the clusters that hold them and
 * keep every BAT entry. The BAT and the file size never change, so there
 * is nothing to order against a crash (a punched range reads as zeros or,
 * before the host file system commits the punch, as its old data: both
 * are what a discard allows), `disk check` and `qemu-img check` see the
 * same image as before, and a later write to the cluster simply lands in
 * the hole. Dropping BAT entries instead would free space in the middle of
 * the data area that appending allocation never reuses, and would need a
 * sync between the BAT update and any reuse; the punched hole already
 * gives the space back to the host.
 *
 * Any sector-aligned part of a cluster is punched, not just whole
 * clusters: it costs the same and the guest asked for it. Unallocated
 * clusters read as zeros already.
 */
static int hdd_discard(struct block_dev *bd, u64 offset, u64 len)
{
	struct hdd *h = bd->priv;

	while (len) {
		u64 idx = offset / h->g.cluster, in = offset % h->g.cluster;
		u64 n = MIN(len, h->g.cluster - in);
		u32 e = h->bat[idx];
		int r;

		if (e) {
			r = block_punch_hole(
				bd->fd, hdd_entry_offset(&h->g, e) + in, n);
			if (r)
				return r;
		}
		offset += n;
		len -= n;
	}
	return 0;
}

static int hdd_flush(struct block_dev *bd)
{
	return hdd_sync(bd->fd);
}

static void hdd_close(struct block_dev *bd)
{
	struct hdd *h = bd->priv;

	if (bd->fd >= 0) {
		/* A clean close writes 0 (as QEMU), after the data is safe. */
		if (!bd->read_only && !hdd_sync(bd->fd))
			hdd_set_inuse(bd->fd, 0);
		close(bd->fd);
	}
	bd->fd = -1;
	if (h)
		free(h->bat);
	free(h);
	bd->priv = NULL;
}

static const struct block_ops hdd_ops = {
	.format = "hdd",
	.read = hdd_read,
	.write = hdd_write,
	.flush = hdd_flush,
	.discard = hdd_discard,
	.close = hdd_close,
};

/* Open path, lock it if writable and read its size. */
static int hdd_open_fd(const char *path, bool read_only, u64 *size, char *err,
		       size_t errlen)
{
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	struct stat st;
	int r;

	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return hdd_bad(err, errlen, path, "not a regular file");
	}
	r = read_only ? 0 : block_lock(fd, path, err, errlen);
	if (r) {
		close(fd);
		return r;
	}
	*size = (u64)st.st_size;
	return fd;
}

/* Read and validate header and BAT of an open file into h. */
static int hdd_load(int fd, const char *path, u64 size, struct hdd *h,
		    char *err, size_t errlen)
{
	u8 hdr[HDD_HEADER_SIZE] = {0};
	int r = hdd_pread(fd, hdr, sizeof(hdr), 0);

	if (!r)
		r = hdd_parse_header(hdr, size, path, &h->g, err, errlen);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	if (r)
		return r;
	r = hdd_read_bat(fd, &h->g, &h->bat);
	if (r) {
		snprintf(err, errlen, "%s: cannot read the BAT: %s", path,
			 strerror(-r));
		return r;
	}
	h->next_alloc = hdd_alloc_start(&h->g, h->bat);
	h->dirty = h->g.inuse == HDD_INUSE_MAGIC;
	return hdd_validate_bat(&h->g, h->bat, path, err, errlen);
}

/*
 * The in-use flag: set it for writing. A flag already set means a crash;
 * the data is intact (see the top of this file), so say so and go on.
 */
static int hdd_mark_open(int fd, const struct hdd *h, bool read_only,
			 const char *path, char *err, size_t errlen)
{
	int r;

	if (h->dirty)
		log_warn("block", "%s: was not closed cleanly; opening anyway",
			 path);
	if (read_only || h->dirty)
		return 0;
	r = hdd_set_inuse(fd, HDD_INUSE_MAGIC);
	if (r)
		snprintf(err, errlen, "%s: cannot mark in use: %s", path,
			 strerror(-r));
	return r;
}

int block_open_hdd(const char *path, unsigned flags, struct block_dev **out,
		   char *err, size_t errlen)
{
	bool read_only = flags & BLOCK_OPEN_READ_ONLY;
	struct block_dev *bd = calloc(1, sizeof(*bd));
	struct hdd *h = calloc(1, sizeof(*h));
	u64 size = 0;
	int fd = -1, r;

	*out = NULL;
	if (bd)
		bd->path = strdup(path);
	r = bd && h && bd->path ? 0 :
				  hdd_bad(err, errlen, path, "out of memory");
	if (!r)
		r = fd = hdd_open_fd(path, read_only, &size, err, errlen);
	if (r >= 0)
		r = hdd_load(fd, path, size, h, err, errlen);
	if (!r)
		r = hdd_mark_open(fd, h, read_only, path, err, errlen);
	if (r) {
		if (fd >= 0)
			close(fd);
		if (h)
			free(h->bat);
		free(h);
		if (bd)
			free(bd->path);
		free(bd);
		return r;
	}
	bd->ops = &hdd_ops;
	bd->size = h->g.nb_sectors * HDD_SECTOR;
	bd->read_only = read_only;
	bd->fd = fd;
	bd->priv = h;
	*out = bd;
	return 0;
}

int hdd_stats(struct block_dev *bd, struct hdd_stats *st)
{
	struct hdd *h = bd->priv;
	u32 i;

	if (bd->ops != &hdd_ops)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->version = h->g.version;
	st->cluster = h->g.cluster;
	st->dirty = h->dirty;
	for (i = 0; i < h->g.bat_entries; i++)
		st->allocated += !!h->bat[i];
	return 0;
}

bool hdd_cluster_allocated(struct block_dev *bd, u64 offset)
{
	struct hdd *h = bd->priv;

	if (bd->ops != &hdd_ops || offset >= bd->size)
		return false;
	return h->bat[offset / h->g.cluster] != 0;
}

/* The 64-byte v2 header QEMU would write for this size and cluster. */
static void hdd_make_header(u8 *hdr, u64 sectors, u32 tracks, u32 bat_entries,
			    u32 data_off)
{
	memset(hdr, 0, HDD_HEADER_SIZE);
	memcpy(hdr + HDD_OFF_MAGIC, HDD_MAGIC_V2, HDD_MAGIC_LEN);
	put_le32(hdr + HDD_OFF_VERSION, HDD_VERSION);
	put_le32(hdr + HDD_OFF_HEADS, 16);
	put_le32(hdr + HDD_OFF_CYLINDERS, (u32)(sectors / 16 / 32));
	put_le32(hdr + HDD_OFF_TRACKS, tracks);
	put_le32(hdr + HDD_OFF_BAT_ENTRIES, bat_entries);
	put_le64(hdr + HDD_OFF_NB_SECTORS, sectors);
	put_le32(hdr + HDD_OFF_DATA_OFF, data_off);
}

int hdd_create(const char *path, u64 size, u64 cluster, bool overwrite,
	       char *err, size_t errlen)
{
	u64 sectors = size / HDD_SECTOR + !!(size % HDD_SECTOR);
	u32 tracks = (u32)(cluster / HDD_SECTOR);
	u64 entries, data_off;
	u8 hdr[HDD_HEADER_SIZE];
	int fd, r;

	if (!sectors || !tracks || cluster % HDD_SECTOR ||
	    cluster > HDD_MAX_CLUSTER)
		return hdd_bad(err, errlen, path,
			       "size and cluster size must be non-zero "
			       "multiples of 512 (cluster at most 256M)");
	entries = sectors / tracks + !!(sectors % tracks);
	if (entries > UINT32_MAX || sectors > UINT64_MAX / HDD_SECTOR)
		return hdd_bad(err, errlen, path,
			       "too large for this cluster size");
	data_off = (HDD_HEADER_SIZE + 4 * entries + cluster - 1) / cluster *
		   tracks;
	if (data_off > UINT32_MAX)
		return hdd_bad(err, errlen, path,
			       "too large for this cluster size");
	hdd_make_header(hdr, sectors, tracks, (u32)entries, (u32)data_off);
	fd = open(path,
		  O_RDWR | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL),
		  0644);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	/* ftruncate zero-fills the BAT sparsely: every cluster unallocated. */
	r = ftruncate(fd, (off_t)(data_off * HDD_SECTOR)) ? -errno : 0;
	if (!r)
		r = block_pwrite_all(fd, hdr, sizeof(hdr), 0);
	if (!r)
		r = hdd_sync(fd);
	close(fd);
	if (r)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}

/* An image opened by hand for check or resize: header, BAT, locked fd. */
struct hdd_raw {
	int fd;
	struct hdd_geom g;
	u32 *bat;
};

static int hdd_raw_open(const char *path, bool writable, struct hdd_raw *img,
			char *err, size_t errlen)
{
	u8 hdr[HDD_HEADER_SIZE] = {0};
	u64 size = 0;
	int r;

	img->bat = NULL;
	img->fd = hdd_open_fd(path, !writable, &size, err, errlen);
	if (img->fd < 0)
		return img->fd;
	r = hdd_pread(img->fd, hdr, sizeof(hdr), 0);
	if (!r)
		r = hdd_parse_header(hdr, size, path, &img->g, err, errlen);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	if (!r) {
		r = hdd_read_bat(img->fd, &img->g, &img->bat);
		if (r)
			snprintf(err, errlen, "%s: cannot read the BAT: %s",
				 path, strerror(-r));
	}
	if (r)
		close(img->fd);
	return r;
}

static void hdd_raw_close(struct hdd_raw *img)
{
	free(img->bat);
	close(img->fd);
}

static int hdd_put_entry(struct hdd_raw *img, u32 i, u32 e)
{
	u8 le[4];

	put_le32(le, e);
	img->bat[i] = e;
	return block_pwrite_all(img->fd, le, sizeof(le), HDD_HEADER_SIZE + 4ull * i);
}

/* Count (and zero) entries outside the file, the data area or alignment. */
static int hdd_check_entries(struct hdd_raw *img, bool repair, FILE *out,
			     struct hdd_check_result *res)
{
	const char *why;
	u32 i;
	int r;

	for (i = 0; i < img->g.bat_entries; i++) {
		if (!img->bat[i])
			continue;
		why = hdd_entry_problem(&img->g, img->bat[i]);
		if (!why)
			continue;
		res->corruptions++;
		fprintf(out, "%s: BAT entry %u (0x%x) %s\n",
			repair ? "Repairing" : "ERROR", i, img->bat[i], why);
		if (!repair)
			continue;
		r = hdd_put_entry(img, i, 0);
		if (r)
			return r;
		res->repaired++;
	}
	return 0;
}

/* Copy len bytes of the file from src to dst through a small buffer. */
static int hdd_copy(int fd, u64 src, u64 dst, u64 len)
{
	u8 buf[65536];
	int r = 0;

	while (!r && len) {
		size_t n = (size_t)MIN(len, (u64)sizeof(buf));

		r = hdd_pread(fd, buf, n, src);
		if (!r)
			r = block_pwrite_all(fd, buf, n, dst);
		src += n;
		dst += n;
		len -= n;
	}
	return r;
}

/* Give a duplicated entry a private copy of the cluster at the end. */
static int hdd_split_duplicate(struct hdd_raw *img, u32 i)
{
	u64 dst = hdd_alloc_start(&img->g, img->bat);
	u64 src = hdd_entry_offset(&img->g, img->bat[i]);
	u32 e;
	int r = hdd_entry_for(&img->g, dst, &e);

	if (!r && ftruncate(img->fd, (off_t)(dst + img->g.cluster)))
		r = -errno;
	if (!r)
		r = hdd_copy(img->fd, src, dst, img->g.cluster);
	if (!r)
		r = hdd_sync(img->fd);
	if (!r)
		r = hdd_put_entry(img, i, e);
	img->g.file_size = MAX(img->g.file_size, dst + img->g.cluster);
	return r;
}

/* Entries naming a cluster an earlier entry already names. */
static int hdd_check_duplicates(struct hdd_raw *img, bool repair, FILE *out,
				struct hdd_check_result *res)
{
	u64 slots = hdd_slots(&img->g);
	u8 *seen = calloc(slots / 8 + 1, 1);
	u32 i;
	u64 s;
	int r = 0;

	if (!seen)
		return -ENOMEM;
	for (i = 0; !r && i < img->g.bat_entries; i++) {
		if (!img->bat[i] || hdd_entry_problem(&img->g, img->bat[i]))
			continue;
		s = hdd_slot(&img->g, img->bat[i]);
		if (!(seen[s / 8] & (1u << (s % 8)))) {
			seen[s / 8] |= (u8)(1u << (s % 8));
			continue;
		}
		res->corruptions++;
		fprintf(out,
			"%s: BAT entry %u (0x%x) names a cluster already "
			"in use%s\n",
			repair ? "Repairing" : "ERROR", i, img->bat[i],
			repair ? "; copying it to a new cluster" : "");
		if (!repair)
			continue;
		r = hdd_split_duplicate(img, i);
		res->repaired += !r;
	}
	free(seen);
	return r;
}

/*
 * File space after the last cluster the BAT names. The Format Extension
 * cluster is in use too, although no BAT entry names it (QEMU 7.2's check
 * would delete it: HARDWARE.md section 1).
 */
static int hdd_check_leaks(struct hdd_raw *img, bool repair, FILE *out,
			   struct hdd_check_result *res)
{
	u64 end = (u64)img->g.data_off * HDD_SECTOR;
	u64 ext = img->g.ext_off;
	u64 leaked;
	u32 i;

	if (ext && ext < img->g.file_size / HDD_SECTOR)
		end = MAX(end, ext * HDD_SECTOR + img->g.cluster);
	for (i = 0; i < img->g.bat_entries; i++)
		if (img->bat[i])
			end = MAX(end, hdd_entry_offset(&img->g, img->bat[i]) +
					       img->g.cluster);
	if (img->g.file_size <= end)
		return 0;
	leaked = (img->g.file_size - end + img->g.cluster - 1) / img->g.cluster;
	res->leaks += (unsigned)MIN(leaked, (u64)UINT32_MAX);
	fprintf(out, "%s: %llu leaked cluster(s) after the last used one\n",
		repair ? "Repairing" : "Leaked", (unsigned long long)leaked);
	if (!repair)
		return 0;
	if (ftruncate(img->fd, (off_t)end))
		return -errno;
	img->g.file_size = end;
	res->repaired += (unsigned)MIN(leaked, (u64)UINT32_MAX);
	return 0;
}

static int hdd_check_all(struct hdd_raw *img, bool repair, FILE *out,
			 struct hdd_check_result *res)
{
	int r = 0;

	if (img->g.inuse == HDD_INUSE_MAGIC) {
		res->unclean++;
		fprintf(out, "%s: image was not closed cleanly\n",
			repair ? "Repairing" : "Warning");
	}
	r = hdd_check_entries(img, repair, out, res);
	if (!r)
		r = hdd_check_leaks(img, repair, out, res);
	if (!r)
		r = hdd_check_duplicates(img, repair, out, res);
	if (!r && repair)
		r = hdd_sync(img->fd);
	/* Only once everything else is safe is the image clean again. */
	if (!r && repair && img->g.inuse == HDD_INUSE_MAGIC) {
		r = hdd_set_inuse(img->fd, 0);
		res->repaired += !r;
	}
	return r;
}

int hdd_check(const char *path, bool repair, FILE *out,
	      struct hdd_check_result *res, char *err, size_t errlen)
{
	struct hdd_raw img;
	int r;

	memset(res, 0, sizeof(*res));
	r = hdd_raw_open(path, repair, &img, err, errlen);
	if (r)
		return r;
	r = hdd_check_all(&img, repair, out, res);
	if (r)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	res->remaining =
		res->corruptions + res->leaks + res->unclean - res->repaired;
	hdd_raw_close(&img);
	return r;
}

/* Zero BAT entries [from, to): the space may hold anything. */
static int hdd_zero_entries(int fd, u32 from, u32 to)
{
	u8 zero[4096] = {0};
	u64 off = HDD_HEADER_SIZE + 4ull * from;
	u64 end = HDD_HEADER_SIZE + 4ull * to;
	int r = 0;

	while (!r && off < end) {
		size_t n = (size_t)MIN(end - off, (u64)sizeof(zero));

		r = block_pwrite_all(fd, zero, n, off);
		off += n;
	}
	return r;
}

static int hdd_grow(struct hdd_raw *img, u64 sectors, const char *path,
		    char *err, size_t errlen)
{
	u64 entries = sectors / img->g.tracks + !!(sectors % img->g.tracks);
	u8 hdr[HDD_HEADER_SIZE];
	int r;

	if (img->g.version == 1 && sectors > UINT32_MAX)
		return hdd_bad(err, errlen, path,
			       "a v1 image cannot exceed 2 TiB");
	if (entries > UINT32_MAX ||
	    HDD_HEADER_SIZE + 4 * entries > (u64)img->g.data_off * HDD_SECTOR)
		return hdd_bad(err, errlen, path,
			       "the BAT has no room before the data area for "
			       "that size; convert to a new image instead");
	r = hdd_zero_entries(img->fd, img->g.bat_entries, (u32)entries);
	if (!r)
		r = hdd_sync(img->fd);
	if (!r)
		r = hdd_pread(img->fd, hdr, sizeof(hdr), 0);
	if (!r) {
		put_le32(hdr + HDD_OFF_CYLINDERS, (u32)(sectors / 16 / 32));
		put_le32(hdr + HDD_OFF_BAT_ENTRIES,
			 MAX((u32)entries, img->g.bat_entries));
		if (img->g.version == 1)
			put_le32(hdr + HDD_OFF_NB_SECTORS, (u32)sectors);
		else
			put_le64(hdr + HDD_OFF_NB_SECTORS, sectors);
		r = block_pwrite_all(img->fd, hdr, sizeof(hdr), 0);
	}
	if (!r)
		r = hdd_sync(img->fd);
	if (r)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}

int hdd_resize(const char *path, u64 size, char *err, size_t errlen)
{
	u64 sectors = size / HDD_SECTOR + !!(size % HDD_SECTOR);
	struct hdd_raw img;
	int r = hdd_raw_open(path, true, &img, err, errlen);

	if (r)
		return r;
	if (img.g.inuse == HDD_INUSE_MAGIC)
		r = hdd_bad(err, errlen, path,
			    "was not closed cleanly; run 'twoostwo disk check "
			    "--repair' first");
	else if (sectors < img.g.nb_sectors)
		r = hdd_bad(err, errlen, path,
			    "shrinking a Parallels image is not supported");
	else if (sectors > UINT64_MAX / HDD_SECTOR)
		r = hdd_bad(err, errlen, path, "size is too large");
	else
		r = hdd_grow(&img, sectors, path, err, errlen);
	hdd_raw_close(&img);
	return r;
}

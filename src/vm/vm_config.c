// SPDX-License-Identifier: MIT
/*
 * vm.ini: parse (libinih), validate, format and save (see vm_config.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/vm_config.h"

#define VM_MIN_MEMORY (2ull << 20)
#define VM_MAX_MEMORY (3072ull << 20)
#define VM_MEMORY_STEP (64ull << 10)
#define VM_LINE_MAX (VM_VALUE_MAX + 64)

const char *const vm_drive_keys[VM_DRIVES] = {"cdrom", "hda", "hdb", "hdc",
					      "hdd"};

void vm_config_init(struct vm_config *c)
{
	*c = (struct vm_config){.memory = 128ull << 20};
}

static void vm_free_array(char **a, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		free(a[i]);
}

void vm_config_free(struct vm_config *c)
{
	free(c->name);
	free(c->uuid);
	free(c->engine);
	free(c->boot);
	free(c->display);
	free(c->vnc);
	free(c->vnc_password);
	free(c->bios);
	vm_free_array(c->drive, VM_DRIVES);
	vm_free_array(c->com, VM_COMS);
	vm_free_array(c->lpt, VM_LPTS);
	vm_free_array(c->net, c->nr_net);
	vm_config_init(c);
}

int vm_parse_size(const char *s, u64 *bytes)
{
	unsigned shift = 20;
	unsigned long long n;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end || n > (~0ull >> shift))
		return -EINVAL;
	*bytes = n << shift;
	return 0;
}

/* Identity */

static void vm_random(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n) {
		/* getrandom on Linux >= 3.17 does not fail for small n. */
		memset(p, 0x5a, n);
	}
}

void vm_new_uuid(char out[37])
{
	u8 b[16];

	vm_random(b, sizeof(b));
	b[6] = (u8)((b[6] & 0x0f) | 0x40); /* RFC 4122 4.4: version 4 */
	b[8] = (u8)((b[8] & 0x3f) | 0x80); /* variant 10 */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* 52:54:00 is the prefix QEMU/KVM users know; locally administered. */
void vm_new_mac(char out[18])
{
	u8 b[3];

	vm_random(b, sizeof(b));
	snprintf(out, 18, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
}

static bool vm_uuid_valid(const char *s)
{
	static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool hex = (s[i] >= '0' && s[i] <= '9') ||
			   (s[i] >= 'a' && s[i] <= 'f') ||
			   (s[i] >= 'A' && s[i] <= 'F');

		if (pattern[i] == '-' ? s[i] != '-' : !hex)
			return false;
	}
	return true;
}

static bool vm_mac_valid(const char *s)
{
	unsigned i;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 17; i++) {
		char ch = s[i];

		if (i % 3 == 2 ? ch != ':' :
				 !((ch >= '0' && ch <= '9') ||
				   (ch >= 'a' && ch <= 'f') ||
				   (ch >= 'A' && ch <= 'F')))
			return false;
	}
	/* Bit 0 of the first octet: a group address is not a card's. */
	return !(strtoul(s, NULL, 16) & 1);
}

/* Start of the option "key=" in a comma-separated spec, or NULL. */
static const char *vm_spec_option(const char *spec, const char *key)
{
	size_t kl = strlen(key);
	const char *p = spec;

	while (p) {
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return p;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return NULL;
}

bool vm_net_mac(const char *spec, char out[18])
{
	const char *m = vm_spec_option(spec, "mac");
	size_t n;

	if (!m)
		return false;
	m += 4;
	n = strcspn(m, ",");
	if (n > 17)
		n = 17;
	memcpy(out, m, n);
	out[n] = '\0';
	return true;
}

char *vm_net_with_mac(const char *spec, const char *mac)
{
	const char *m = vm_spec_option(spec, "mac");
	char *out;

	if (!m) {
		if (asprintf(&out, "%s,mac=%s", spec, mac) < 0)
			return NULL;
		return out;
	}
	if (asprintf(&out, "%.*smac=%s%s", (int)(m - spec), spec, mac,
		     m + strcspn(m, ",")) < 0)
		return NULL;
	return out;
}

/* Setting keys */

enum vm_key_kind { VM_STR, VM_MEMORY, VM_CHOICE, VM_UUID, VM_LIST };

struct vm_key {
	const char *section;
	const char *key;
	enum vm_key_kind kind;
	size_t offset;		    /* of the char * (or u64, array) */
	const char *const *choices; /* VM_CHOICE */
};

static const char *const vm_boot_choices[] = {"cd", "disk", NULL};
static const char *const vm_engine_choices[] = {"soft", "kvm", "auto", NULL};

#define VM_OFF(f) offsetof(struct vm_config, f)

static const struct vm_key vm_keys[] = {
	{"vm", "name", VM_STR, VM_OFF(name), NULL},
	{"vm", "uuid", VM_UUID, VM_OFF(uuid), NULL},
	{"machine", "memory", VM_MEMORY, VM_OFF(memory), NULL},
	{"machine", "engine", VM_CHOICE, VM_OFF(engine), vm_engine_choices},
	{"machine", "boot", VM_CHOICE, VM_OFF(boot), vm_boot_choices},
	{"machine", "display", VM_STR, VM_OFF(display), NULL},
	{"machine", "bios", VM_STR, VM_OFF(bios), NULL},
	{"machine", "vnc", VM_STR, VM_OFF(vnc), NULL},
	{"machine", "vnc-password", VM_STR, VM_OFF(vnc_password), NULL},
	{"drives", "cdrom", VM_STR, VM_OFF(drive[0]), NULL},
	{"drives", "hda", VM_STR, VM_OFF(drive[1]), NULL},
	{"drives", "hdb", VM_STR, VM_OFF(drive[2]), NULL},
	{"drives", "hdc", VM_STR, VM_OFF(drive[3]), NULL},
	{"drives", "hdd", VM_STR, VM_OFF(drive[4]), NULL},
	{"ports", "com1", VM_STR, VM_OFF(com[0]), NULL},
	{"ports", "com2", VM_STR, VM_OFF(com[1]), NULL},
	{"ports", "com3", VM_STR, VM_OFF(com[2]), NULL},
	{"ports", "com4", VM_STR, VM_OFF(com[3]), NULL},
	{"ports", "lpt1", VM_STR, VM_OFF(lpt[0]), NULL},
	{"ports", "lpt2", VM_STR, VM_OFF(lpt[1]), NULL},
	{"network", "net", VM_LIST, VM_OFF(net), NULL},
};

static const struct vm_key *vm_find_key(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vm_keys); i++)
		if ((!section || !strcmp(vm_keys[i].section, section)) &&
		    !strcmp(vm_keys[i].key, key))
			return &vm_keys[i];
	return NULL;
}

static int vm_set_memory(struct vm_config *c, const char *v, char *err,
			 size_t errlen)
{
	u64 bytes;

	if (vm_parse_size(v, &bytes)) {
		snprintf(err, errlen,
			 "memory '%.64s' is not a size (512, 64M, 1G, 65536K)",
			 v);
		return -EINVAL;
	}
	if (bytes < VM_MIN_MEMORY || bytes > VM_MAX_MEMORY ||
	    bytes % VM_MEMORY_STEP) {
		snprintf(err, errlen,
			 "memory %.64s is impossible: 2M to 3G in 64K steps",
			 v);
		return -EINVAL;
	}
	c->memory = bytes;
	return 0;
}

static int vm_set_choice(const struct vm_key *k, char **slot, const char *v,
			 char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; k->choices[i]; i++)
		if (!strcmp(v, k->choices[i]))
			break;
	if (!k->choices[i]) {
		snprintf(err, errlen, "%s '%.64s' unknown (%s%s)", k->key, v,
			 k->choices[0], k->choices[1] ? ", ..." : "");
		return -EINVAL;
	}
	free(*slot);
	*slot = strdup(v);
	return *slot ? 0 : -ENOMEM;
}

static int vm_set_list(struct vm_config *c, const char *v, char *err,
		       size_t errlen)
{
	if (c->nr_net == VM_MAX_NETS) {
		snprintf(err, errlen, "more than %d network cards",
			 VM_MAX_NETS);
		return -EINVAL;
	}
	c->net[c->nr_net] = strdup(v);
	if (!c->net[c->nr_net])
		return -ENOMEM;
	c->nr_net++;
	return 0;
}

static int vm_apply(struct vm_config *c, const struct vm_key *k, const char *v,
		    char *err, size_t errlen)
{
	char **slot = (char **)((char *)c + k->offset);

	if (strlen(v) >= VM_VALUE_MAX) {
		snprintf(err, errlen, "%s: value too long", k->key);
		return -EINVAL;
	}
	switch (k->kind) {
	case VM_MEMORY:
		return vm_set_memory(c, v, err, errlen);
	case VM_CHOICE:
		return vm_set_choice(k, slot, v, err, errlen);
	case VM_LIST:
		return vm_set_list(c, v, err, errlen);
	case VM_UUID:
		if (!vm_uuid_valid(v)) {
			snprintf(err, errlen,
				 "uuid '%.64s' is not xxxxxxxx-xxxx-xxxx-"
				 "xxxx-xxxxxxxxxxxx",
				 v);
			return -EINVAL;
		}
		break;
	case VM_STR:
		break;
	}
	free(*slot);
	*slot = strdup(v);
	return *slot ? 0 : -ENOMEM;
}

int vm_config_set(struct vm_config *c, const char *key, const char *value,
		  char *err, size_t errlen)
{
	const char *dot = strchr(key, '.');
	char section[32] = "";
	const struct vm_key *k;

	if (dot && (size_t)(dot - key) < sizeof(section)) {
		memcpy(section, key, (size_t)(dot - key));
		key = dot + 1;
	}
	k = vm_find_key(*section ? section : NULL, key);
	if (!k) {
		snprintf(err, errlen, "unknown key '%.64s'", key);
		return -EINVAL;
	}
	if (k->kind == VM_LIST) {
		/* `set net=...` replaces the list; "" clears it. */
		vm_free_array(c->net, c->nr_net);
		c->nr_net = 0;
		if (!*value)
			return 0;
	} else if (!*value && k->kind == VM_STR) {
		char **slot = (char **)((char *)c + k->offset);

		free(*slot);
		*slot = NULL;
		return 0;
	}
	return vm_apply(c, k, value, err, errlen);
}

/* Parsing */

struct vm_parse {
	struct vm_config *c;
	const char *text, *pos;
	const char *file;
	unsigned line;
	bool seen[ARRAY_SIZE(vm_keys)];
	char *err;
	size_t errlen;
	bool failed;
};

/* libinih's line reader over our text; it counts lines for messages. */
static char *vm_reader(char *str, int num, void *stream)
{
	struct vm_parse *p = stream;
	size_t n;
	const char *nl;

	if (!*p->pos)
		return NULL;
	nl = strchr(p->pos, '\n');
	n = nl ? (size_t)(nl - p->pos) + 1 : strlen(p->pos);
	p->line++;
	if (n >= (size_t)num) {
		/* Too long for the parser: hand it a line it rejects. */
		snprintf(p->err, p->errlen, "%s:%u: line longer than %d bytes",
			 p->file, p->line, num - 2);
		p->failed = true;
		snprintf(str, (size_t)num, "[\n");
	} else {
		memcpy(str, p->pos, n);
		str[n] = '\0';
	}
	p->pos += n;
	return str;
}

static int vm_handler(void *user, const char *section, const char *name,
		      const char *value)
{
	struct vm_parse *p = user;
	const struct vm_key *k = vm_find_key(section, name);
	char why[512];
	size_t idx;

	if (p->failed)
		return 0;
	if (!k) {
		snprintf(
			p->err, p->errlen,
			vm_find_key(NULL, name) ?
				"%s:%u: key '%.64s' belongs in another section "
				"than [%.32s]" :
				"%s:%u: unknown key '%.64s' in [%.32s]",
			p->file, p->line, name, section);
		p->failed = true;
		return 0;
	}
	idx = (size_t)(k - vm_keys);
	if (p->seen[idx] && k->kind != VM_LIST) {
		snprintf(p->err, p->errlen, "%s:%u: %s given twice", p->file,
			 p->line, name);
		p->failed = true;
		return 0;
	}
	p->seen[idx] = true;
	if (vm_apply(p->c, k, value, why, sizeof(why))) {
		snprintf(p->err, p->errlen, "%s:%u: %s", p->file, p->line, why);
		p->failed = true;
		return 0;
	}
	if (k->kind == VM_MEMORY)
		p->c->memory_line = p->line;
	if (k->kind == VM_LIST)
		p->c->net_line[p->c->nr_net - 1] = p->line;
	if (!strcmp(k->section, "drives"))
		p->c->drive_line[(k->offset - VM_OFF(drive[0])) /
				 sizeof(char *)] = p->line;
	return 1;
}

static void vm_ini_settings(void)
{
	/* Paths may hold ';' and continuation lines surprise people. */
	ini_allow_inline_comments = false;
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	ini_use_stack = false;
	ini_max_line = VM_LINE_MAX;
}

int vm_config_parse(struct vm_config *c, const char *text, const char *name,
		    const char *dir, char *err, size_t errlen)
{
	struct vm_parse p = {.c = c,
			     .text = text,
			     .pos = text,
			     .file = name,
			     .err = err,
			     .errlen = errlen};
	int r;

	vm_config_init(c);
	vm_ini_settings();
	r = ini_parse_stream(vm_reader, &p, vm_handler, &p);
	if (!p.failed && r > 0)
		snprintf(err, errlen,
			 "%s:%d: not INI syntax ('[section]' or 'key = "
			 "value')",
			 name, r);
	if (!p.failed && r < 0)
		snprintf(err, errlen, "%s: out of memory", name);
	if (p.failed || r) {
		vm_config_free(c);
		return -EINVAL;
	}
	r = vm_config_validate(c, name, dir, err, errlen);
	if (r)
		vm_config_free(c);
	return r;
}

static char *vm_read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb || cap > (1u << 20)) {
				free(nb ? nb : buf);
				fclose(f);
				snprintf(err, errlen, "%s: too large", path);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n);
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		snprintf(err, errlen, "%s: NUL byte in the file", path);
		return NULL;
	}
	return buf;
}

int vm_config_load(struct vm_config *c, const char *path, const char *dir,
		   char *err, size_t errlen)
{
	char *text = vm_read_file(path, err, errlen);
	int ret;

	vm_config_init(c);
	if (!text)
		return -ENOENT;
	ret = vm_config_parse(c, text, path, dir, err, errlen);
	free(text);
	return ret;
}

/* Validation */

/* The image part of "PATH[,rw|,ro]" exists (relative to dir). */
static bool vm_drive_exists(const char *dir, const char *spec)
{
	char path[VM_VALUE_MAX + 4200];
	size_t n = strlen(spec);
	struct stat st;

	if (n > 3 &&
	    (!strcmp(spec + n - 3, ",rw") || !strcmp(spec + n - 3, ",ro")))
		n -= 3;
	if (spec[0] == '/')
		snprintf(path, sizeof(path), "%.*s", (int)n, spec);
	else
		snprintf(path, sizeof(path), "%s/%.*s", dir, (int)n, spec);
	return stat(path, &st) == 0;
}

static int vm_validate_nets(const struct vm_config *c, const char *file,
			    char *err, size_t errlen)
{
	char mac[VM_MAX_NETS][18];
	unsigned i, j;

	for (i = 0; i < c->nr_net; i++) {
		if (!c->net[i][0] || c->net[i][0] == ',') {
			snprintf(err, errlen,
				 "%s:%u: net needs a back end "
				 "(user, tap:..., vde:..., ...)",
				 file, c->net_line[i]);
			return -EINVAL;
		}
		if (!vm_net_mac(c->net[i], mac[i]))
			continue;
		if (!vm_mac_valid(mac[i])) {
			snprintf(err, errlen,
				 "%s:%u: mac '%s' is not a unicast "
				 "xx:xx:xx:xx:xx:xx address",
				 file, c->net_line[i], mac[i]);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (vm_net_mac(c->net[j], mac[j]) &&
			    !strcasecmp(mac[i], mac[j])) {
				snprintf(err, errlen,
					 "%s:%u: mac %s is already the mac "
					 "of the card on line %u",
					 file, c->net_line[i], mac[i],
					 c->net_line[j]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int vm_config_validate(const struct vm_config *c, const char *file,
		       const char *dir, char *err, size_t errlen)
{
	unsigned i;

	if (!c->name || !*c->name) {
		snprintf(err, errlen, "%s: [vm] name is missing", file);
		return -EINVAL;
	}
	if (!c->uuid) {
		snprintf(err, errlen, "%s: [vm] uuid is missing", file);
		return -EINVAL;
	}
	if (c->drive[VM_CDROM] && c->drive[VM_HDC]) {
		snprintf(err, errlen,
			 "%s:%u: cdrom and hdc both want the secondary "
			 "master; use hdd for the disk",
			 file, c->drive_line[VM_HDC]);
		return -EINVAL;
	}
	for (i = 0; dir && i < VM_DRIVES; i++) {
		if (!c->drive[i] || i == VM_CDROM ||
		    vm_drive_exists(dir, c->drive[i]))
			continue;
		snprintf(err, errlen, "%s:%u: %s: disk image %s is missing",
			 file, c->drive_line[i], vm_drive_keys[i], c->drive[i]);
		return -ENOENT;
	}
	return vm_validate_nets(c, file, err, errlen);
}

/* Formatting */

static void vm_emit(FILE *f, const char *key, const char *v)
{
	if (v)
		fprintf(f, "%s = %s\n", key, v);
}

char *vm_config_format(const struct vm_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	unsigned i;
	char key[8];

	if (!f)
		return NULL;
	fputs("# twoostwo VM configuration (twoostwo vm --help; README).\n"
	      "# Paths are relative to this folder unless absolute.\n\n",
	      f);
	fputs("[vm]\n", f);
	vm_emit(f, "name", c->name);
	vm_emit(f, "uuid", c->uuid);
	fputs("\n[machine]\n", f);
	fprintf(f, "memory = %lluM\n", (unsigned long long)(c->memory >> 20));
	vm_emit(f, "engine", c->engine);
	vm_emit(f, "boot", c->boot);
	vm_emit(f, "display", c->display);
	vm_emit(f, "bios", c->bios);
	vm_emit(f, "vnc", c->vnc);
	vm_emit(f, "vnc-password", c->vnc_password);
	fputs("\n[drives]\n", f);
	for (i = 0; i < VM_DRIVES; i++)
		vm_emit(f, vm_drive_keys[i], c->drive[i]);
	fputs("\n[ports]\n", f);
	for (i = 0; i < VM_COMS; i++) {
		snprintf(key, sizeof(key), "com%u", i + 1);
		vm_emit(f, key, c->com[i]);
	}
	for (i = 0; i < VM_LPTS; i++) {
		snprintf(key, sizeof(key), "lpt%u", i + 1);
		vm_emit(f, key, c->lpt[i]);
	}
	fputs("\n[network]\n", f);
	for (i = 0; i < c->nr_net; i++)
		vm_emit(f, "net", c->net[i]);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

int vm_config_save(const struct vm_config *c, const char *path, char *err,
		   size_t errlen)
{
	char *text = vm_config_format(c), tmp[4200];
	size_t len;
	int fd, ret = 0;

	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		ret = -errno;
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	free(text);
	if (ret) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	}
	return ret;
}

// SPDX-License-Identifier: MIT
/*
 * metadata.json reader: a small recursive-descent JSON parser (RFC 8259)
 * that keeps only the fields the test runner needs and skips the rest.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpu/x86_state.h"
#include "cputest/metadata.h"

#define JSON_MAX_DEPTH 32
#define JSON_NUMBER_MAX 40

struct json {
	const char *start, *p, *end;
	int depth;
	struct cpumeta *m;
};

/* Consumes the value of member `key`; returns false on a syntax error. */
typedef bool (*json_member_fn)(struct json *j, const char *key, void *ctx);

static bool json_error(struct json *j, const char *what)
{
	if (!j->m->err[0])
		snprintf(j->m->err, sizeof(j->m->err),
			 "metadata: %s at byte %td", what, j->p - j->start);
	return false;
}

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool json_peek(struct json *j, char ch)
{
	json_ws(j);
	return j->p < j->end && *j->p == ch;
}

static bool json_expect(struct json *j, char ch)
{
	if (!json_peek(j, ch))
		return false;
	j->p++;
	return true;
}

static bool json_hex4(struct json *j)
{
	int i;

	for (i = 0; i < 4; i++, j->p++)
		if (j->p >= j->end || !*j->p ||
		    !strchr("0123456789abcdefABCDEF", *j->p))
			return false;
	return true;
}

/* One character after a backslash; \uXXXX becomes '?'. */
static bool json_escape(struct json *j, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (j->p >= j->end)
		return false;
	if (*j->p == 'u') {
		j->p++;
		*out = '?';
		return json_hex4(j);
	}
	hit = *j->p ? strchr(from, *j->p) : NULL;
	if (!hit)
		return false;
	*out = to[hit - from];
	j->p++;
	return true;
}

/* A string, copied into buf (truncated to size - 1 bytes). */
static bool json_string(struct json *j, char *buf, size_t size)
{
	size_t n = 0;
	char ch;

	if (!json_expect(j, '"'))
		return json_error(j, "expected a string");
	for (;;) {
		if (j->p >= j->end)
			return json_error(j, "unterminated string");
		ch = *j->p++;
		if (ch == '"')
			break;
		if ((unsigned char)ch < 0x20)
			return json_error(j, "control character in string");
		if (ch == '\\' && !json_escape(j, &ch))
			return json_error(j, "bad escape in string");
		if (n + 1 < size)
			buf[n++] = ch;
	}
	if (size)
		buf[n] = '\0';
	return true;
}

static bool json_number(struct json *j, double *out)
{
	char buf[JSON_NUMBER_MAX + 1], *endp;
	size_t n = 0;

	json_ws(j);
	while (j->p < j->end && *j->p && strchr("+-0123456789.eE", *j->p)) {
		if (n == JSON_NUMBER_MAX)
			return json_error(j, "number too long");
		buf[n++] = *j->p++;
	}
	buf[n] = '\0';
	*out = strtod(buf, &endp);
	if (!n || *endp)
		return json_error(j, "bad number");
	return true;
}

static bool json_literal(struct json *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
		return json_error(j, "unexpected character");
	j->p += n;
	return true;
}

static bool json_skip(struct json *j);

static bool json_skip_member(struct json *j, const char *key, void *ctx)
{
	return json_skip(j);
}

/* '{' "key": value, ... '}', calling fn for each member. */
static bool json_object(struct json *j, json_member_fn fn, void *ctx)
{
	char key[CPUMETA_KEY_MAX];
	bool ok = true;

	if (!json_expect(j, '{'))
		return json_error(j, "expected an object");
	if (++j->depth > JSON_MAX_DEPTH)
		return json_error(j, "nesting too deep");
	if (json_expect(j, '}')) {
		j->depth--;
		return true;
	}
	do {
		ok = json_string(j, key, sizeof(key));
		if (ok && !json_expect(j, ':'))
			ok = json_error(j, "expected ':'");
		ok = ok && fn(j, key, ctx);
	} while (ok && json_expect(j, ','));
	if (ok && !json_expect(j, '}'))
		ok = json_error(j, "expected ',' or '}'");
	j->depth--;
	return ok;
}

static bool json_array(struct json *j)
{
	bool ok = true;

	j->p++;
	if (++j->depth > JSON_MAX_DEPTH)
		return json_error(j, "nesting too deep");
	if (json_expect(j, ']')) {
		j->depth--;
		return true;
	}
	do {
		ok = json_skip(j);
	} while (ok && json_expect(j, ','));
	if (ok && !json_expect(j, ']'))
		ok = json_error(j, "expected ',' or ']'");
	j->depth--;
	return ok;
}

static bool json_skip(struct json *j)
{
	double num;

	json_ws(j);
	if (j->p >= j->end)
		return json_error(j, "unexpected end");
	switch (*j->p) {
	case '{':
		return json_object(j, json_skip_member, NULL);
	case '[':
		return json_array(j);
	case '"':
		return json_string(j, NULL, 0);
	case 't':
		return json_literal(j, "true");
	case 'f':
		return json_literal(j, "false");
	case 'n':
		return json_literal(j, "null");
	default:
		return json_number(j, &num);
	}
}

/*
 * The "flags" string names each undefined flag by its letter, e.g.
 * "o..szapc" (bit positions: Intel SDM vol. 1, 3.4.3).
 */
static u16 cpumeta_mask_from_letters(const char *flags)
{
	static const struct {
		char letter;
		u16 bit;
	} map[] = {
		{'o', FL_OF}, {'d', FL_DF}, {'i', FL_IF},
		{'t', FL_TF}, {'s', FL_SF}, {'z', FL_ZF},
		{'a', FL_AF}, {'p', FL_PF}, {'c', FL_CF},
	};
	u16 mask = 0xffff;
	size_t i;

	for (; *flags; flags++)
		for (i = 0; i < ARRAY_SIZE(map); i++)
			if ((*flags | 0x20) == map[i].letter)
				mask &= (u16)~map[i].bit;
	return mask;
}

struct cpumeta_ctx {
	struct cpumeta_opcode *op;
	struct cpumeta_entry *e;
	bool has_letters;
	char letters[CPUMETA_KEY_MAX];
};

static bool cpumeta_entry_for_reg(struct json *j, const char *key, void *ctx);

static bool cpumeta_flags_mask_member(struct json *j, struct cpumeta_entry *e)
{
	double v;

	if (!json_number(j, &v))
		return false;
	if (v < 0 || v > 0xffff || v != (double)(u16)v)
		return json_error(j, "flags-mask is not a 16-bit integer");
	e->flags_mask = (u16)v;
	e->has_mask = true;
	return true;
}

static bool cpumeta_entry_member(struct json *j, const char *key, void *ctx)
{
	struct cpumeta_ctx *c = ctx;

	if (!strcmp(key, "status") && json_peek(j, '"'))
		return json_string(j, c->e->status, sizeof(c->e->status));
	if (!strcmp(key, "flags-mask"))
		return cpumeta_flags_mask_member(j, c->e);
	if (!strcmp(key, "flags") && json_peek(j, '"')) {
		c->has_letters = true;
		return json_string(j, c->letters, sizeof(c->letters));
	}
	if (!strcmp(key, "reg") && c->e == &c->op->entry && json_peek(j, '{')) {
		c->op->has_reg = true;
		return json_object(j, cpumeta_entry_for_reg, c->op);
	}
	return json_skip(j);
}

static bool cpumeta_parse_entry(struct json *j, struct cpumeta_opcode *op,
				struct cpumeta_entry *e)
{
	struct cpumeta_ctx c = {.op = op, .e = e};

	if (!json_object(j, cpumeta_entry_member, &c))
		return false;
	e->present = true;
	if (!e->has_mask && c.has_letters) {
		e->flags_mask = cpumeta_mask_from_letters(c.letters);
		e->has_mask = true;
	}
	return true;
}

static bool cpumeta_entry_for_reg(struct json *j, const char *key, void *ctx)
{
	struct cpumeta_opcode *op = ctx;

	if (key[0] < '0' || key[0] > '7' || key[1] || !json_peek(j, '{'))
		return json_skip(j);
	return cpumeta_parse_entry(j, op, &op->reg[key[0] - '0']);
}

/* A reg entry without its own status or mask takes the opcode's. */
static void cpumeta_inherit(struct cpumeta_opcode *op)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		struct cpumeta_entry *r = &op->reg[i];

		if (!r->present)
			continue;
		if (!r->status[0])
			memcpy(r->status, op->entry.status, sizeof(r->status));
		if (!r->has_mask && op->entry.has_mask) {
			r->has_mask = true;
			r->flags_mask = op->entry.flags_mask;
		}
	}
}

static struct cpumeta_opcode *cpumeta_add(struct json *j, const char *key)
{
	struct cpumeta *m = j->m;
	struct cpumeta_opcode *ops;

	if (m->nr_ops == CPUMETA_MAX_OPCODES) {
		json_error(j, "too many opcodes");
		return NULL;
	}
	ops = realloc(m->ops, (m->nr_ops + 1) * sizeof(*ops));
	if (!ops) {
		json_error(j, "out of memory");
		return NULL;
	}
	m->ops = ops;
	ops = &m->ops[m->nr_ops++];
	*ops = (struct cpumeta_opcode){0};
	snprintf(ops->key, sizeof(ops->key), "%s", key);
	return ops;
}

static bool cpumeta_opcode_member(struct json *j, const char *key, void *ctx)
{
	struct cpumeta_opcode *op;

	if (!json_peek(j, '{'))
		return json_skip(j);
	op = cpumeta_add(j, key);
	if (!op || !cpumeta_parse_entry(j, op, &op->entry))
		return false;
	cpumeta_inherit(op);
	return true;
}

static bool cpumeta_top_member(struct json *j, const char *key, void *ctx)
{
	if (!strcmp(key, "cpu") && json_peek(j, '"'))
		return json_string(j, j->m->cpu, sizeof(j->m->cpu));
	if (!strcmp(key, "opcodes") && json_peek(j, '{'))
		return json_object(j, cpumeta_opcode_member, NULL);
	return json_skip(j);
}

int cpumeta_parse(struct cpumeta *m, const char *text, size_t len)
{
	struct json j = {text, text, text + len, 0, m};

	*m = (struct cpumeta){0};
	if (json_object(&j, cpumeta_top_member, NULL)) {
		json_ws(&j);
		if (j.p == j.end)
			return 0;
		json_error(&j, "text after the top-level object");
	}
	cpumeta_free(m);
	return -EINVAL;
}

static int cpumeta_fail(struct cpumeta *m, int err, const char *path,
			const char *why)
{
	snprintf(m->err, sizeof(m->err), "%s: %s", path, why);
	return err;
}

static int cpumeta_read_file(struct cpumeta *m, const char *path, char **text,
			     size_t *len)
{
	FILE *fp = fopen(path, "rb");
	long size;

	if (!fp)
		return cpumeta_fail(m, -errno, path, strerror(errno));
	if (fseek(fp, 0, SEEK_END) || (size = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET)) {
		fclose(fp);
		return cpumeta_fail(m, -EIO, path, "cannot seek");
	}
	if ((unsigned long)size > CPUMETA_MAX_FILE_SIZE) {
		fclose(fp);
		return cpumeta_fail(m, -EFBIG, path, "file too large");
	}
	*text = malloc((size_t)size + 1);
	if (!*text) {
		fclose(fp);
		return cpumeta_fail(m, -ENOMEM, path, "out of memory");
	}
	*len = fread(*text, 1, (size_t)size, fp);
	fclose(fp);
	return 0;
}

int cpumeta_load(struct cpumeta *m, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*m = (struct cpumeta){0};
	r = cpumeta_read_file(m, path, &text, &len);
	if (r < 0)
		return r;
	r = cpumeta_parse(m, text, len);
	free(text);
	return r;
}

void cpumeta_free(struct cpumeta *m)
{
	free(m->ops);
	m->ops = NULL;
	m->nr_ops = 0;
}

const struct cpumeta_opcode *cpumeta_find(const struct cpumeta *m,
					  const char *key)
{
	unsigned i;

	for (i = 0; i < m->nr_ops; i++)
		if (!strcasecmp(m->ops[i].key, key))
			return &m->ops[i];
	return NULL;
}

const struct cpumeta_entry *cpumeta_entry_for(const struct cpumeta_opcode *op,
					      int reg)
{
	static const struct cpumeta_entry absent;

	if (!op)
		return &absent;
	if (op->has_reg && reg >= 0 && reg < 8 && op->reg[reg].present)
		return &op->reg[reg];
	return &op->entry;
}

u16 cpumeta_flags_mask(const struct cpumeta_entry *e)
{
	return e->has_mask ? e->flags_mask : 0xffff;
}

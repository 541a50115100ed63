// SPDX-License-Identifier: MIT
/*
 * Recursive-descent reader for the XML subset DiskDescriptor.xml uses.
 * Recursion is bounded by XML_MAX_DEPTH and every allocation by the input
 * size and XML_MAX_NODES, so a hostile descriptor costs at most a few MiB.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/xml.h"

struct xml_parser {
	const char *p;
	const char *end;
	unsigned nodes;
	char *err;
	size_t errlen;
};

static int xml_fail(struct xml_parser *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int xml_fail(struct xml_parser *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool xml_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool xml_is_name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':')
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static void xml_skip_space(struct xml_parser *x)
{
	while (x->p < x->end && xml_is_space(*x->p))
		x->p++;
}

static bool xml_starts(const struct xml_parser *x, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(x->end - x->p) >= n && !memcmp(x->p, s, n);
}

/* Skip up to and past the terminator; false if the input ends first. */
static bool xml_skip_past(struct xml_parser *x, const char *term)
{
	while (x->p < x->end) {
		if (xml_starts(x, term)) {
			x->p += strlen(term);
			return true;
		}
		x->p++;
	}
	return false;
}

/* Comments, processing instructions and whitespace between markup. */
static int xml_skip_misc(struct xml_parser *x)
{
	for (;;) {
		xml_skip_space(x);
		if (xml_starts(x, "<!--")) {
			if (!xml_skip_past(x, "-->"))
				return xml_fail(x, "unterminated comment");
		} else if (xml_starts(x, "<?")) {
			if (!xml_skip_past(x, "?>"))
				return xml_fail(x, "unterminated <?...?>");
		} else {
			return 0;
		}
	}
}

static int xml_name(struct xml_parser *x, char **out)
{
	const char *s = x->p;
	size_t n;

	if (x->p >= x->end || !xml_is_name_char(*x->p, true))
		return xml_fail(x, "expected a name");
	while (x->p < x->end && xml_is_name_char(*x->p, false))
		x->p++;
	n = (size_t)(x->p - s);
	if (n > XML_MAX_NAME)
		return xml_fail(x, "name longer than %d bytes", XML_MAX_NAME);
	*out = strndup(s, n);
	return *out ? 0 : -ENOMEM;
}

/* The five predefined entities; anything else (DTD-defined) is refused. */
static int xml_entity(struct xml_parser *x, char *c)
{
	static const struct {
		const char *ref;
		char c;
	} ents[] = {{"&lt;", '<'},
		    {"&gt;", '>'},
		    {"&amp;", '&'},
		    {"&quot;", '"'},
		    {"&apos;", '\''}};
	size_t i;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		if (xml_starts(x, ents[i].ref)) {
			x->p += strlen(ents[i].ref);
			*c = ents[i].c;
			return 0;
		}
	}
	return xml_fail(x, "unsupported entity or stray '&'");
}

/* Decode characters up to stop (not consumed) into a new string. */
static int xml_chars(struct xml_parser *x, char stop, char **out)
{
	char *buf = malloc(XML_MAX_VALUE + 1);
	size_t n = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (x->p < x->end && *x->p != stop) {
		char c = *x->p;

		if (n == XML_MAX_VALUE) {
			r = xml_fail(x, "value longer than %d bytes",
				     XML_MAX_VALUE);
			break;
		}
		if (c == '&') {
			r = xml_entity(x, &c);
			if (r)
				break;
		} else if (c == '<' || c == '\0') {
			r = xml_fail(x, "unexpected '%s' in value",
				     c ? "<" : "NUL");
			break;
		} else {
			x->p++;
		}
		buf[n++] = c;
	}
	if (!r && x->p >= x->end)
		r = xml_fail(x, "document truncated");
	if (r) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int xml_attribute(struct xml_parser *x, struct xml_node *n)
{
	struct xml_attr *a;
	char quote;
	unsigned i;
	int r;

	if (n->nattrs == XML_MAX_ATTRS)
		return xml_fail(x, "<%s>: more than %d attributes", n->name,
				XML_MAX_ATTRS);
	a = &n->attrs[n->nattrs];
	r = xml_name(x, &a->name);
	if (r)
		return r;
	n->nattrs++;
	for (i = 0; i + 1 < n->nattrs; i++)
		if (!strcmp(n->attrs[i].name, a->name))
			return xml_fail(x, "<%s>: duplicate attribute %s",
					n->name, a->name);
	xml_skip_space(x);
	if (x->p >= x->end || *x->p != '=')
		return xml_fail(x, "<%s>: expected '=' after %s", n->name,
				a->name);
	x->p++;
	xml_skip_space(x);
	if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
		return xml_fail(x, "<%s>: attribute %s is not quoted", n->name,
				a->name);
	quote = *x->p++;
	r = xml_chars(x, quote, &a->value);
	if (r)
		return r;
	x->p++;
	return 0;
}

/* Parse attributes up to '>' or '/>'; *empty tells which. */
static int xml_attributes(struct xml_parser *x, struct xml_node *n, bool *empty)
{
	for (;;) {
		bool had_space = x->p < x->end && xml_is_space(*x->p);
		int r;

		xml_skip_space(x);
		if (x->p >= x->end)
			return xml_fail(x, "document truncated in <%s>",
					n->name);
		if (*x->p == '>' || xml_starts(x, "/>")) {
			*empty = *x->p == '/';
			x->p += *empty ? 2 : 1;
			return 0;
		}
		if (!had_space)
			return xml_fail(x, "<%s>: malformed tag", n->name);
		r = xml_attribute(x, n);
		if (r)
			return r;
	}
}

static int xml_append_text(struct xml_parser *x, struct xml_node *n)
{
	char *piece, *joined;
	size_t old = n->text ? strlen(n->text) : 0;
	int r = xml_chars(x, '<', &piece);

	if (r)
		return r;
	if (old + strlen(piece) > XML_MAX_VALUE) {
		free(piece);
		return xml_fail(x, "<%s>: text longer than %d bytes", n->name,
				XML_MAX_VALUE);
	}
	joined = realloc(n->text, old + strlen(piece) + 1);
	if (!joined) {
		free(piece);
		return -ENOMEM;
	}
	strcpy(joined + old, piece);
	free(piece);
	n->text = joined;
	return 0;
}

static void xml_trim(char *s)
{
	size_t len = strlen(s), start = 0;

	while (len && xml_is_space(s[len - 1]))
		s[--len] = '\0';
	while (xml_is_space(s[start]))
		start++;
	memmove(s, s + start, len - start + 1);
}

static int xml_element(struct xml_parser *x, int depth, struct xml_node **out);

/* Children and text up to the matching end tag. */
static int xml_content(struct xml_parser *x, struct xml_node *n, int depth)
{
	struct xml_node **tail = &n->child;
	char *name;
	int r;

	for (;;) {
		if (x->p >= x->end)
			return xml_fail(x, "document truncated in <%s>",
					n->name);
		if (xml_starts(x, "</")) {
			x->p += 2;
			r = xml_name(x, &name);
			if (r)
				return r;
			r = strcmp(name, n->name);
			free(name);
			xml_skip_space(x);
			if (r || x->p >= x->end || *x->p != '>')
				return xml_fail(x, "<%s>: bad end tag",
						n->name);
			x->p++;
			return 0;
		}
		if (xml_starts(x, "<!--")) {
			if (!xml_skip_past(x, "-->"))
				return xml_fail(x, "unterminated comment");
			continue;
		}
		if (xml_starts(x, "<!") || xml_starts(x, "<?"))
			return xml_fail(x,
					"<%s>: DTD, CDATA and processing "
					"instructions are not supported",
					n->name);
		if (*x->p == '<') {
			r = xml_element(x, depth + 1, tail);
			if (r)
				return r;
			tail = &(*tail)->next;
			continue;
		}
		r = xml_append_text(x, n);
		if (r)
			return r;
	}
}

static int xml_element(struct xml_parser *x, int depth, struct xml_node **out)
{
	struct xml_node *n;
	bool empty;
	int r;

	if (depth >= XML_MAX_DEPTH)
		return xml_fail(x, "elements nested deeper than %d",
				XML_MAX_DEPTH);
	if (++x->nodes > XML_MAX_NODES)
		return xml_fail(x, "more than %d elements", XML_MAX_NODES);
	if (x->p >= x->end || *x->p != '<')
		return xml_fail(x, "expected an element");
	x->p++;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*out = n;
	r = xml_name(x, &n->name);
	if (r)
		return r;
	r = xml_attributes(x, n, &empty);
	if (r || empty)
		return r;
	r = xml_content(x, n, depth);
	if (!r && n->text)
		xml_trim(n->text);
	return r;
}

int xml_parse(const char *buf, size_t len, struct xml_node **root, char *err,
	      size_t errlen)
{
	struct xml_parser x = {
		.p = buf, .end = buf + len, .err = err, .errlen = errlen};
	int r;

	*root = NULL;
	if (len > XML_MAX_SIZE)
		return xml_fail(&x, "larger than %u bytes", XML_MAX_SIZE);
	r = xml_skip_misc(&x);
	if (!r && xml_starts(&x, "<!"))
		r = xml_fail(&x, "DTDs are not supported");
	if (!r)
		r = xml_element(&x, 0, root);
	if (!r)
		r = xml_skip_misc(&x);
	if (!r && x.p != x.end)
		r = xml_fail(&x, "content after the root element");
	if (r) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		xml_free(*root);
		*root = NULL;
	}
	return r;
}

void xml_free(struct xml_node *n)
{
	while (n) {
		struct xml_node *next = n->next;
		unsigned i;

		xml_free(n->child);
		for (i = 0; i < n->nattrs; i++) {
			free(n->attrs[i].name);
			free(n->attrs[i].value);
		}
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

const struct xml_node *xml_next(const struct xml_node *n, const char *name)
{
	for (n = n ? n->next : NULL; n; n = n->next)
		if (!strcmp(n->name, name))
			return n;
	return NULL;
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = n->child;

	if (!c || !strcmp(c->name, name))
		return c;
	return xml_next(c, name);
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
	unsigned i;

	for (i = 0; i < n->nattrs; i++)
		if (!strcmp(n->attrs[i].name, name))
			return n->attrs[i].value;
	return NULL;
}

// SPDX-License-Identifier: MIT
/*
 * twoostwo-cputest: runs a folder of SingleStepTests MOO files on the soft
 * engine and prints one line per file and the totals
 * (shared/specs/CPU-TESTS.md, "The runner we want").
 *
 * Exit status: 0 when the run completed with a pass rate of at least
 * --min-pass percent, 1 otherwise, 2 for usage errors or an unreadable DIR.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "cpu/engine.h"
#include "cputest/metadata.h"
#include "cputest/moo.h"
#include "cputest/runner.h"

#define CT_EXIT_USAGE 2
#define CT_PATH_MAX 4096
#define CT_MAX_REVOKED 1000000
/* CPU seconds without a finished test after which the engine is stopped. */
#define CT_WATCHDOG_S 2

struct ct_opts {
	const char *dir;
	const char *file;
	const char *skip_status; /* comma-separated statuses, or NULL */
	bool verbose;
	long max_fail; /* failing tests to detail; < 0: all */
	int model;     /* enum cpu_model, or -1: from the suite */
	double min_pass;
};

struct ct_stats {
	u64 passed, failed, skipped, revoked;
};

struct ct_suite {
	struct ct_opts opts;
	struct cpumeta meta;
	bool have_meta;
	u8 (*revoked)[MOO_HASH_LEN];
	size_t nr_revoked, cap_revoked;
	struct cpurun run;
	struct ct_stats total;
	long details_printed;
};

/* Watchdog state, shared with the SIGVTALRM handler (see ct_watch). */
static volatile sig_atomic_t ct_progress, ct_progress_seen, ct_in_test;
static struct cpurun *ct_watched;

/* What one file's name says: "80.4.MOO.gz" is opcode 80, reg 4. */
struct ct_file_id {
	char key[CPUMETA_KEY_MAX];
	u8 opcode[CPUMETA_KEY_MAX / 2];
	unsigned opcode_len;
	int reg; /* -1 when the name gives none */
};

static void ct_usage(FILE *out)
{
	fprintf(out, "usage: twoostwo-cputest [options] DIR\n"
		     "Runs SingleStepTests MOO files on the soft engine.\n"
		     "  --verbose          detail every failing test\n"
		     "  --file NAME        only that file (00.MOO.gz, or 00)\n"
		     "  --max-fail N       detail at most N failing tests\n"
		     "  --model 8086|286   default: \"cpu\" in metadata.json\n"
		     "  --min-pass PERCENT exit 1 below this pass rate (0)\n"
		     "  --skip-status LIST skip tests whose metadata status\n"
		     "                     is in LIST (e.g. fpu,undefined)\n");
}

static int ct_parse_model(const char *s)
{
	if (!strcmp(s, "8086") || !strcmp(s, "8088"))
		return CPU_MODEL_8086;
	if (!strcmp(s, "286") || !strcmp(s, "80286") || !strcmp(s, "C286"))
		return CPU_MODEL_286;
	return -1;
}

static bool ct_parse_number(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && *out >= lo && *out <= hi;
}

static int ct_parse_opts(int argc, char **argv, struct ct_opts *o)
{
	static const struct option longopts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"file", required_argument, NULL, 'f'},
		{"max-fail", required_argument, NULL, 'm'},
		{"model", required_argument, NULL, 'M'},
		{"min-pass", required_argument, NULL, 'p'},
		{"skip-status", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double v;
	int c;

	*o = (struct ct_opts){.max_fail = -1, .model = -1};
	while ((c = getopt_long(argc, argv, "vf:m:M:p:s:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'v':
			o->verbose = true;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'm':
			if (!ct_parse_number(optarg, 0, 1e9, &v))
				return -1;
			o->max_fail = (long)v;
			break;
		case 'M':
			o->model = ct_parse_model(optarg);
			if (o->model < 0)
				return -1;
			break;
		case 'p':
			if (!ct_parse_number(optarg, 0, 100, &o->min_pass))
				return -1;
			break;
		case 's':
			o->skip_status = optarg;
			break;
		case 'h':
			ct_usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc - 1)
		return -1;
	o->dir = argv[optind];
	return 0;
}

static bool ct_status_skipped(const struct ct_opts *o, const char *status)
{
	size_t n = strlen(status);
	const char *p = o->skip_status;

	if (!p || !n)
		return false;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, status, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

static bool ct_path(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, CT_PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < CT_PATH_MAX;
}

static int ct_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Two hex digits per byte; false if s is not exactly that. */
static bool ct_hex_bytes(const char *s, u8 *out, size_t max, size_t *len)
{
	size_t n = strlen(s), i;

	if (!n || n % 2 || n / 2 > max)
		return false;
	for (i = 0; i < n / 2; i++) {
		int hi = ct_hexval(s[2 * i]), lo = ct_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (u8)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

/* Revoked tests, one SHA-1 in hex per line; '#' starts a comment. */
static int ct_parse_revoked_line(struct ct_suite *s, char *line)
{
	char *p = line + strspn(line, " \t");
	u8 hash[MOO_HASH_LEN];
	size_t len, cap;
	void *grown;

	p[strcspn(p, " \t\r\n#")] = '\0';
	if (!*p)
		return 0;
	if (!ct_hex_bytes(p, hash, MOO_HASH_LEN, &len) || len != MOO_HASH_LEN) {
		fprintf(stderr, "revocation_list.txt: ignoring \"%.48s\"\n", p);
		return 0;
	}
	if (s->nr_revoked == s->cap_revoked) {
		if (s->cap_revoked == CT_MAX_REVOKED)
			return -1;
		cap = MIN(MAX(s->cap_revoked * 2, (size_t)64), CT_MAX_REVOKED);
		grown = realloc(s->revoked, cap * MOO_HASH_LEN);
		if (!grown)
			return -1;
		s->revoked = grown;
		s->cap_revoked = cap;
	}
	memcpy(s->revoked[s->nr_revoked++], hash, MOO_HASH_LEN);
	return 0;
}

static int ct_hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MOO_HASH_LEN);
}

static int ct_load_revoked(struct ct_suite *s)
{
	char path[CT_PATH_MAX], line[256];
	FILE *fp;
	int r = 0;

	if (!ct_path(path, s->opts.dir, "revocation_list.txt"))
		return -1;
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	while (!r && fgets(line, sizeof(line), fp))
		r = ct_parse_revoked_line(s, line);
	fclose(fp);
	if (r < 0)
		fprintf(stderr, "%s: more than %u hashes or out of memory\n",
			path, CT_MAX_REVOKED);
	if (s->nr_revoked)
		qsort(s->revoked, s->nr_revoked, MOO_HASH_LEN, ct_hash_cmp);
	return r;
}

static bool ct_is_revoked(const struct ct_suite *s, const struct moo_test *t)
{
	return t->has_hash && s->nr_revoked &&
	       bsearch(t->hash, s->revoked, s->nr_revoked, MOO_HASH_LEN,
		       ct_hash_cmp);
}

static int ct_load_meta(struct ct_suite *s)
{
	char path[CT_PATH_MAX];
	int r;

	if (!ct_path(path, s->opts.dir, "metadata.json"))
		return -1;
	r = cpumeta_load(&s->meta, path);
	if (r == -ENOENT) {
		fprintf(stderr, "note: %s absent: comparing every flag\n",
			path);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, s->meta.err);
		return r;
	}
	s->have_meta = true;
	return 0;
}

static bool ct_is_moo_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 7 && !strcasecmp(name + n - 7, ".MOO.gz")) ||
	       (n > 4 && !strcasecmp(name + n - 4, ".MOO"));
}

/* --file accepts the whole name or the part before ".MOO". */
static bool ct_name_selected(const struct ct_opts *o, const char *name)
{
	size_t n;

	if (!o->file)
		return true;
	n = strlen(o->file);
	return !strcmp(name, o->file) || (!strncmp(name, o->file, n) &&
					  !strncasecmp(name + n, ".MOO", 4));
}

static int ct_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ct_free_names(char **names, size_t n)
{
	while (n)
		free(names[--n]);
	free(names);
}

/* The selected MOO files of the folder, sorted by name. */
static int ct_list_files(const struct ct_opts *o, char ***out, size_t *nr)
{
	DIR *d = opendir(o->dir);
	struct dirent *de;
	char **names = NULL, **grown;
	size_t n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!ct_is_moo_name(de->d_name) ||
		    !ct_name_selected(o, de->d_name))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			closedir(d);
			ct_free_names(grown ? grown : names, n);
			return -ENOMEM;
		}
		names = grown;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), ct_name_cmp);
	*out = names;
	*nr = n;
	return 0;
}

static void ct_file_id(const char *name, struct ct_file_id *id)
{
	size_t n = strcspn(name, "."), len;
	const char *rest = name + n;

	*id = (struct ct_file_id){.reg = -1};
	snprintf(id->key, sizeof(id->key), "%.*s", (int)n, name);
	if (ct_hex_bytes(id->key, id->opcode, sizeof(id->opcode), &len))
		id->opcode_len = (unsigned)len;
	if (rest[0] == '.' && rest[1] >= '0' && rest[1] <= '7' &&
	    rest[2] == '.')
		id->reg = rest[1] - '0';
}

/* 8086/80286 prefixes: segment overrides, LOCK (and its F1 alias), REP. */
static bool ct_is_prefix(u8 b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0xf0 ||
	       b == 0xf1 || b == 0xf2 || b == 0xf3;
}

/* The ModRM reg field of a test of a group opcode, or -1. */
static int ct_test_reg(const struct ct_file_id *id, const struct moo_test *t)
{
	u32 i = 0;

	if (!id->opcode_len)
		return -1;
	while (i < t->nr_bytes && ct_is_prefix(t->bytes[i]))
		i++;
	if (t->nr_bytes - i <= id->opcode_len ||
	    memcmp(t->bytes + i, id->opcode, id->opcode_len))
		return -1;
	return t->bytes[i + id->opcode_len] >> 3 & 7;
}

static const struct cpumeta_entry *ct_entry(const struct ct_suite *s,
					    const struct ct_file_id *id,
					    const struct moo_test *t)
{
	const struct cpumeta_opcode *op =
		s->have_meta ? cpumeta_find(&s->meta, id->key) : NULL;
	int reg = id->reg;

	if (t && reg < 0 && op && op->has_reg)
		reg = ct_test_reg(id, t);
	return cpumeta_entry_for(op, reg);
}

static void ct_detail(struct ct_suite *s, const struct moo_test *t,
		      const struct cpurun_result *res)
{
	if (!s->opts.verbose)
		return;
	if (s->opts.max_fail >= 0 && s->details_printed >= s->opts.max_fail) {
		if (s->details_printed++ == s->opts.max_fail)
			printf("  (--max-fail reached: no more details)\n");
		return;
	}
	s->details_printed++;
	cpurun_print_failure(stdout, t, res);
}

static void ct_one_test(struct ct_suite *s, const struct ct_file_id *id,
			const struct moo_file *f, const struct moo_test *t,
			struct ct_stats *st)
{
	const struct cpumeta_entry *e;
	struct cpurun_result res;

	if (ct_is_revoked(s, t)) {
		st->revoked++;
		return;
	}
	e = ct_entry(s, id, t);
	if (ct_status_skipped(&s->opts, e->status)) {
		st->skipped++;
		return;
	}
	ct_in_test = 1;
	cpurun_test(&s->run, t, &f->rmsk, cpumeta_flags_mask(e), &res);
	ct_in_test = 0;
	ct_progress = (ct_progress + 1) & 0x3fffffff;
	if (res.passed) {
		st->passed++;
		return;
	}
	st->failed++;
	ct_detail(s, t, &res);
}

static void ct_print_file(const char *name, const struct ct_stats *st,
			  const char *error)
{
	u64 run = st->passed + st->failed;

	printf("%s %s %llu/%llu", st->failed ? "FAIL" : "PASS", name,
	       (unsigned long long)st->passed, (unsigned long long)run);
	if (st->failed && !error)
		printf(" (%llu failed)", (unsigned long long)st->failed);
	if (error)
		printf(" (file error: %s)", error);
	if (st->skipped)
		printf(" (%llu skipped)", (unsigned long long)st->skipped);
	if (st->revoked)
		printf(" (%llu revoked)", (unsigned long long)st->revoked);
	putchar('\n');
}

static void ct_add_stats(struct ct_stats *to, const struct ct_stats *from)
{
	to->passed += from->passed;
	to->failed += from->failed;
	to->skipped += from->skipped;
	to->revoked += from->revoked;
}

/* A file that cannot be read or parsed counts as one failed test. */
static void ct_run_file(struct ct_suite *s, const char *name)
{
	struct ct_stats st = {0};
	struct ct_file_id id;
	struct moo_file f = {0};
	struct moo_test t;
	char path[CT_PATH_MAX];
	int r = -ENAMETOOLONG;

	ct_file_id(name, &id);
	if (ct_status_skipped(&s->opts, ct_entry(s, &id, NULL)->status)) {
		printf("SKIP %s (status %s)\n", name,
		       ct_entry(s, &id, NULL)->status);
		return;
	}
	if (ct_path(path, s->opts.dir, name))
		r = moo_open(&f, path);
	else
		snprintf(f.err, sizeof(f.err), "path too long");
	while (r >= 0 && (r = moo_next(&f, &t)) > 0)
		ct_one_test(s, &id, &f, &t, &st);
	if (r < 0)
		st.failed++;
	else if (f.tests_read != f.declared_tests)
		fprintf(stderr,
			"note: %s: header says %u tests, file holds %u\n", name,
			f.declared_tests, f.tests_read);
	ct_print_file(name, &st, r < 0 ? f.err : NULL);
	moo_close(&f);
	ct_add_stats(&s->total, &st);
	fflush(stdout);
}

/* --model, else metadata.json "cpu", else the first file's header. */
static int ct_pick_model(struct ct_suite *s, char **names, size_t n)
{
	char path[CT_PATH_MAX];
	struct moo_file f;
	int model = s->opts.model;

	if (model < 0 && s->have_meta)
		model = ct_parse_model(s->meta.cpu);
	if (model < 0 && n && ct_path(path, s->opts.dir, names[0]) &&
	    moo_open(&f, path) == 0) {
		model = ct_parse_model(f.cpu);
		if (model < 0 && !strcmp(f.cpu, "286 "))
			model = CPU_MODEL_286;
		moo_close(&f);
	}
	return model;
}

static const char *ct_model_name(int model)
{
	return model == CPU_MODEL_8086 ? "8086" : "80286";
}

/* The per-suite percentage, then the totals line, last. */
static int ct_report(const struct ct_suite *s)
{
	const struct ct_stats *t = &s->total;
	u64 run = t->passed + t->failed;
	double rate = run ? 100.0 * (double)t->passed / (double)run : 0;

	printf("%s: %.2f%% passed (%llu run, %llu skipped, %llu revoked)\n",
	       ct_model_name(s->run.model), rate, (unsigned long long)run,
	       (unsigned long long)t->skipped, (unsigned long long)t->revoked);
	printf("%llu passed, %llu failed\n", (unsigned long long)t->passed,
	       (unsigned long long)t->failed);
	if (!run) {
		fprintf(stderr, "no tests were run\n");
		return 1;
	}
	return rate >= s->opts.min_pass ? 0 : 1;
}

/*
 * The watchdog: an engine that never returns from run() (a fault loop
 * that skips its clock check) would hang the whole suite. Every
 * CT_WATCHDOG_S seconds of CPU time, if a test is running and none
 * finished meanwhile, ask the engine to stop; the test then fails as "did
 * not reach HLT". CPU time, not wall time, so that a busy host does not
 * trigger it.
 */
static void ct_watchdog(int sig)
{
	if (!ct_in_test || ct_progress != ct_progress_seen) {
		ct_progress_seen = ct_progress;
		return;
	}
	if (ct_watched && ct_watched->ops->stop)
		ct_watched->ops->stop(ct_watched->vcpu);
}

static void ct_watch(struct cpurun *run)
{
	struct itimerval it = {{CT_WATCHDOG_S, 0}, {CT_WATCHDOG_S, 0}};
	struct sigaction sa = {.sa_handler = ct_watchdog,
			       .sa_flags = SA_RESTART};

	ct_watched = run;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGVTALRM, &sa, NULL) ||
	    setitimer(ITIMER_VIRTUAL, &it, NULL))
		fprintf(stderr, "note: no watchdog: %s\n", strerror(errno));
}

static void ct_unwatch(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};

	setitimer(ITIMER_VIRTUAL, &off, NULL);
	ct_watched = NULL;
}

static int ct_run_suite(struct ct_suite *s, char **names, size_t n)
{
	int model = ct_pick_model(s, names, n);
	size_t i;
	int r;

	if (model < 0) {
		fprintf(stderr, "cannot tell the CPU model: use --model\n");
		return CT_EXIT_USAGE;
	}
	r = cpurun_init(&s->run, &soft_engine_ops, model);
	if (r < 0) {
		fprintf(stderr, "cannot create the CPU: %s\n", strerror(-r));
		return 1;
	}
	ct_watch(&s->run);
	for (i = 0; i < n; i++)
		ct_run_file(s, names[i]);
	ct_unwatch();
	r = ct_report(s);
	cpurun_destroy(&s->run);
	return r;
}

int main(int argc, char **argv)
{
	static struct ct_suite suite;
	char **names = NULL;
	size_t n = 0;
	int r;

	if (ct_parse_opts(argc, argv, &suite.opts) < 0) {
		ct_usage(stderr);
		return CT_EXIT_USAGE;
	}
	r = ct_list_files(&suite.opts, &names, &n);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", suite.opts.dir, strerror(-r));
		return CT_EXIT_USAGE;
	}
	if (suite.opts.file && !n) {
		fprintf(stderr, "%s: no MOO file named %s\n", suite.opts.dir,
			suite.opts.file);
		r = CT_EXIT_USAGE;
	} else if (ct_load_meta(&suite) < 0 || ct_load_revoked(&suite) < 0) {
		r = CT_EXIT_USAGE;
	} else {
		r = ct_run_suite(&suite, names, n);
	}
	ct_free_names(names, n);
	cpumeta_free(&suite.meta);
	free(suite.revoked);
	return r;
}

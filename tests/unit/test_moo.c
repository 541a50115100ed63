// SPDX-License-Identifier: MIT
/*
 * The MOO file reader and the metadata.json reader of twoostwo-cputest:
 * files built byte by byte from the MOO format description, the same bytes
 * cut short and corrupted (errors, never crashes), gzip and plain files on
 * disk, and the real suite files when ../shared is present.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "cputest/metadata.h"
#include "cputest/moo.h"
#include "cputest/runner.h"
#include "unit.h"

#define BUF_MAX 4096

struct mbuf {
	u8 d[BUF_MAX];
	size_t n;
};

static void put(struct mbuf *b, const void *p, size_t len)
{
	memcpy(b->d + b->n, p, len);
	b->n += len;
}

static void put8(struct mbuf *b, u8 v)
{
	put(b, &v, 1);
}

static void put16(struct mbuf *b, u16 v)
{
	u8 x[2];

	put_le16(x, v);
	put(b, x, 2);
}

static void put32(struct mbuf *b, u32 v)
{
	u8 x[4];

	put_le32(x, v);
	put(b, x, 4);
}

/* Starts a chunk; returns where its length goes (see chunk_end). */
static size_t chunk_begin(struct mbuf *b, const char *type)
{
	put(b, type, 4);
	put32(b, 0);
	return b->n - 4;
}

static void chunk_end(struct mbuf *b, size_t at)
{
	put_le32(b->d + at, (u32)(b->n - at - 4));
}

static void put_counted(struct mbuf *b, const char *type, const void *p,
			u32 len)
{
	size_t c = chunk_begin(b, type);

	put32(b, len);
	put(b, p, len);
	chunk_end(b, c);
}

static void put_regs(struct mbuf *b, const char *type, u16 mask,
		     const u16 *vals)
{
	size_t c = chunk_begin(b, type);
	unsigned i, n = 0;

	put16(b, mask);
	for (i = 0; i < 16; i++)
		if (mask & BIT(i))
			put16(b, vals[n++]);
	chunk_end(b, c);
}

static void put_ram(struct mbuf *b, u32 count, const u32 *addr, const u8 *val)
{
	size_t c = chunk_begin(b, "RAM ");
	u32 i;

	put32(b, count);
	for (i = 0; i < count; i++) {
		put32(b, addr[i]);
		put8(b, val[i]);
	}
	chunk_end(b, c);
}

static const u16 init_regs[MOO_NR_REGS] = {
	0x1111, 0x2222, 0x3333, 0x4444, 0xf000, 0x1000, 0x2000,
	0x3000, 0x0100, 0x5555, 0x6666, 0x7777, 0x0010, 0xf002,
};

static void put_header(struct mbuf *b, u8 major, u32 count)
{
	size_t c = chunk_begin(b, "MOO ");

	put8(b, major);
	put8(b, 0);
	put16(b, 0);
	put32(b, count);
	put(b, "8086", 4);
	chunk_end(b, c);
}

/* Test 0: add al,1 with a queue and an unknown sub-chunk. */
static void put_test0(struct mbuf *b)
{
	static const u8 code[] = {0x04, 0x01};
	static const u32 ia[] = {0xf0010, 0xf0011, 0xf0012};
	static const u8 iv[] = {0x04, 0x01, 0xf4};
	static const u32 fa[] = {0x0e221};
	static const u8 fv[] = {0x5a};
	static const u16 fr[] = {0x1112, 0x0013};
	size_t t = chunk_begin(b, "TEST"), s;

	put32(b, 0);
	put_counted(b, "NAME", "add al,1", 8);
	put_counted(b, "BYTS", code, sizeof(code));
	s = chunk_begin(b, "INIT");
	put_regs(b, "REGS", MOO_ALL_REGS, init_regs);
	put_ram(b, 3, ia, iv);
	put_counted(b, "QUEU", code, 2);
	chunk_end(b, s);
	s = chunk_begin(b, "ZZZZ");
	put32(b, 0xdeadbeef);
	chunk_end(b, s);
	s = chunk_begin(b, "FINA");
	put_regs(b, "REGS", BIT(MOO_AX) | BIT(MOO_IP), fr);
	put_ram(b, 1, fa, fv);
	chunk_end(b, s);
	chunk_end(b, t);
}

/* Test 1: an exception, a hash, a FINA RMSK and a name with a control char. */
static void put_test1(struct mbuf *b)
{
	static const u8 code[] = {0xcc};
	static const u16 mask_flags[] = {0x0fd5};
	static const u8 hash[MOO_HASH_LEN] = {1,  2,  3,  4,  5,  6,  7,
					      8,  9,  10, 11, 12, 13, 14,
					      15, 16, 17, 18, 19, 20};
	size_t t = chunk_begin(b, "TEST"), s;

	put32(b, 7);
	put_counted(b, "NAME", "int3\x1b", 5);
	put_counted(b, "BYTS", code, 1);
	s = chunk_begin(b, "INIT");
	put_regs(b, "REGS", MOO_ALL_REGS, init_regs);
	chunk_end(b, s);
	s = chunk_begin(b, "FINA");
	put_regs(b, "RMSK", BIT(MOO_FLAGS), mask_flags);
	chunk_end(b, s);
	s = chunk_begin(b, "EXCP");
	put8(b, 3);
	put32(b, 0x10fe);
	chunk_end(b, s);
	put(b, "HASH", 4);
	put32(b, MOO_HASH_LEN);
	put(b, hash, MOO_HASH_LEN);
	chunk_end(b, t);
}

static void build_file(struct mbuf *b)
{
	size_t g;

	b->n = 0;
	put_header(b, 1, 2);
	g = chunk_begin(b, "GMET");
	put32(b, 42);
	chunk_end(b, g);
	put_test0(b);
	put_test1(b);
}

static void check_test0(const struct moo_test *t)
{
	u32 addr;
	u8 v;

	CHECK_EQ(t->number, 0);
	CHECK_STR(t->name, "add al,1");
	CHECK_EQ(t->nr_bytes, 2);
	CHECK_EQ(t->bytes[0], 0x04);
	CHECK_EQ(t->init.regs.present, MOO_ALL_REGS);
	CHECK_EQ(t->init.regs.val[MOO_SP], 0x0100);
	CHECK_EQ(t->init.regs.val[MOO_FLAGS], 0xf002);
	CHECK_EQ(t->init.ram_count, 3);
	moo_ram_entry(&t->init, 2, &addr, &v);
	CHECK_EQ(addr, 0xf0012);
	CHECK_EQ(v, 0xf4);
	CHECK_EQ(t->fina.regs.present, BIT(MOO_AX) | BIT(MOO_IP));
	CHECK_EQ(t->fina.regs.val[MOO_AX], 0x1112);
	CHECK_EQ(t->fina.regs.val[MOO_IP], 0x0013);
	CHECK_EQ(t->fina.ram_count, 1);
	moo_ram_entry(&t->fina, 0, &addr, &v);
	CHECK_EQ(addr, 0x0e221);
	CHECK_EQ(v, 0x5a);
	CHECK(!t->has_excp);
	CHECK(!t->has_hash);
}

static void check_test1(const struct moo_test *t)
{
	CHECK_EQ(t->number, 1);
	CHECK_EQ(t->index, 7);
	CHECK_STR(t->name, "int3?");
	CHECK(t->has_excp);
	CHECK_EQ(t->excp_vector, 3);
	CHECK_EQ(t->excp_flags_addr, 0x10fe);
	CHECK(t->has_hash);
	CHECK_EQ(t->hash[19], 20);
	CHECK_EQ(t->fina.regs.present, 0);
	CHECK_EQ(t->fina.rmsk.present, BIT(MOO_FLAGS));
	CHECK_EQ(t->fina.rmsk.val[MOO_FLAGS], 0x0fd5);
	CHECK_EQ(t->fina.ram_count, 0);
}

static void test_parse_built_file(void)
{
	struct mbuf *b = calloc(1, sizeof(*b));
	struct moo_file f;
	struct moo_test t;

	build_file(b);
	CHECK_EQ(moo_open_buffer(&f, b->d, b->n), 0);
	CHECK_EQ(f.major, 1);
	CHECK_EQ(f.declared_tests, 2);
	CHECK_STR(f.cpu, "8086");
	CHECK_EQ(moo_next(&f, &t), 1);
	check_test0(&t);
	CHECK_EQ(moo_next(&f, &t), 1);
	check_test1(&t);
	CHECK_EQ(moo_next(&f, &t), 0);
	CHECK_EQ(f.tests_read, 2);
	moo_close(&f);
	free(b);
}

/* Parse to the end; returns the last moo_next() or moo_open() result. */
static int parse_all(const void *p, size_t len, unsigned *tests)
{
	struct moo_file f;
	struct moo_test t;
	int r = moo_open_buffer(&f, p, len);

	*tests = 0;
	while (r >= 0 && (r = moo_next(&f, &t)) > 0)
		(*tests)++;
	if (r < 0)
		CHECK(f.err[0] != '\0');
	moo_close(&f);
	return r;
}

static void test_truncated_inputs(void)
{
	struct mbuf *b = calloc(1, sizeof(*b));
	unsigned tests, errors = 0;
	size_t cut;

	build_file(b);
	for (cut = 0; cut < b->n; cut++) {
		int r = parse_all(b->d, cut, &tests);

		CHECK(tests < 2);
		errors += r < 0;
	}
	/* Only cuts on a top-level chunk boundary parse cleanly: 3 of them. */
	CHECK_EQ(errors, b->n - 3);
	CHECK_EQ(parse_all(b->d, b->n, &tests), 0);
	CHECK_EQ(tests, 2);
	free(b);
}

/* Byte patches at an offset found by searching for a chunk type. */
static size_t find(const struct mbuf *b, const char *type, unsigned nth)
{
	size_t i;

	for (i = 0; i + 4 <= b->n; i++)
		if (!memcmp(b->d + i, type, 4) && !nth--)
			return i;
	return 0;
}

static int parse_patched(size_t off, u32 value)
{
	struct mbuf *b = calloc(1, sizeof(*b));
	unsigned tests;
	int r;

	build_file(b);
	put_le32(b->d + off, value);
	r = parse_all(b->d, b->n, &tests);
	free(b);
	return r;
}

static void test_corrupt_fields(void)
{
	struct mbuf *b = calloc(1, sizeof(*b));

	build_file(b);
	/* RAM count larger than the chunk can hold. */
	CHECK(parse_patched(find(b, "RAM ", 0) + 8, 0x33333333) < 0);
	/* A chunk length running past its parent, and past the file. */
	CHECK(parse_patched(find(b, "BYTS", 0) + 4, 0xffffffff) < 0);
	CHECK(parse_patched(find(b, "TEST", 1) + 4, 0x7fffffff) < 0);
	/* NAME length beyond its chunk. */
	CHECK(parse_patched(find(b, "NAME", 0) + 8, 1000) < 0);
	/* REGS mask naming more registers than the chunk holds values. */
	CHECK(parse_patched(find(b, "REGS", 1) + 8, 0xffff) < 0);
	/* INIT renamed: the test has no INIT. */
	CHECK(parse_patched(find(b, "INIT", 0), get_le32("XNIT")) < 0);
	/* Not a MOO file; an unknown major version. */
	CHECK(parse_patched(0, get_le32("MOOX")) < 0);
	CHECK(parse_patched(8, 2) < 0);
	free(b);
}

static u32 lcg(u32 *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void test_random_corruption(void)
{
	struct mbuf *good = calloc(1, sizeof(*good));
	struct mbuf *b = calloc(1, sizeof(*b));
	u32 seed = 1;
	unsigned i, j, tests;

	build_file(good);
	for (i = 0; i < 50000; i++) {
		*b = *good;
		for (j = 0; j < 1 + lcg(&seed) % 4; j++)
			b->d[lcg(&seed) % b->n] = (u8)lcg(&seed);
		parse_all(b->d, b->n - lcg(&seed) % 3, &tests);
		CHECK(tests <= 2);
	}
	free(good);
	free(b);
}

static bool write_file(const char *path, const void *p, size_t len, bool gz)
{
	gzFile g;
	FILE *fp;
	bool ok;

	if (gz) {
		g = gzopen(path, "wb");
		if (!g)
			return false;
		ok = gzwrite(g, p, (unsigned)len) == (int)len;
		return gzclose(g) == Z_OK && ok;
	}
	fp = fopen(path, "wb");
	if (!fp)
		return false;
	ok = fwrite(p, 1, len, fp) == len;
	return !fclose(fp) && ok;
}

static int open_and_count(const char *path, unsigned *tests)
{
	struct moo_file f;
	struct moo_test t;
	int r = moo_open(&f, path);

	*tests = 0;
	while (r >= 0 && (r = moo_next(&f, &t)) > 0)
		(*tests)++;
	moo_close(&f);
	return r;
}

static void test_files_on_disk(void)
{
	struct mbuf *b = calloc(1, sizeof(*b));
	char path[] = "/tmp/test_moo_XXXXXX";
	int fd = mkstemp(path);
	unsigned tests;
	FILE *fp;
	long size;
	char *gzbytes;

	CHECK(fd >= 0);
	close(fd);
	build_file(b);
	CHECK(write_file(path, b->d, b->n, false));
	CHECK_EQ(open_and_count(path, &tests), 0);
	CHECK_EQ(tests, 2);
	CHECK(write_file(path, b->d, b->n, true));
	CHECK_EQ(open_and_count(path, &tests), 0);
	CHECK_EQ(tests, 2);
	/* A gzip stream cut in half must be an error, not a short file. */
	fp = fopen(path, "rb");
	CHECK(fp != NULL);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	gzbytes = malloc((size_t)size);
	CHECK(fread(gzbytes, 1, (size_t)size, fp) == (size_t)size);
	fclose(fp);
	CHECK(write_file(path, gzbytes, (size_t)size / 2, false));
	CHECK(open_and_count(path, &tests) < 0);
	free(gzbytes);
	unlink(path);
	CHECK_EQ(open_and_count(path, &tests), -ENOENT);
	free(b);
}

static const char *shared_dir(void)
{
	const char *dir = getenv("TWOOSTWO_SHARED");

	return dir ? dir : "../shared";
}

static void test_real_8086_file(void)
{
	char path[512];
	struct moo_file f;
	struct moo_test t;
	unsigned n = 1;

	snprintf(path, sizeof(path), "%s/cpu-tests/8086/00.MOO.gz",
		 shared_dir());
	if (access(path, R_OK)) {
		printf("note: %s absent: real-file case skipped\n", path);
		return;
	}
	CHECK_EQ(moo_open(&f, path), 0);
	CHECK_STR(f.cpu, "8086");
	CHECK_EQ(f.declared_tests, 100);
	CHECK_EQ(moo_next(&f, &t), 1);
	CHECK_STR(t.name, "add cl, ah");
	CHECK_EQ(t.nr_bytes, 2);
	CHECK_EQ(t.bytes[0], 0x00);
	CHECK_EQ(t.bytes[1], 0xe1);
	CHECK_EQ(t.init.regs.present, MOO_ALL_REGS);
	CHECK_EQ(t.init.regs.val[MOO_AX], 0x339c);
	CHECK(t.fina.regs.present & BIT(MOO_IP));
	while (moo_next(&f, &t) > 0)
		n++;
	CHECK_EQ(n, 100);
	CHECK_EQ(f.tests_read, 100);
	moo_close(&f);
}

/*
 * A stand-in engine for the runner tests: it knows INC AX (40), STOSB (AA)
 * and HLT (F4) in real mode, and shuts down on anything else.
 */
struct mock_vcpu {
	const struct vcpu_env *env;
	struct x86_state s;
};

static struct mock_vcpu mock;

static int mock_create(const struct vcpu_env *env, struct vcpu **out)
{
	mock = (struct mock_vcpu){.env = env};
	*out = (struct vcpu *)&mock;
	return 0;
}

static void mock_destroy(struct vcpu *v)
{
}

static void mock_reset(struct vcpu *v)
{
	mock.s = (struct x86_state){.idtr = {0, 0x3ff}, .cr0 = CR0_ET};
}

static void mock_get(struct vcpu *v, struct x86_state *s)
{
	*s = mock.s;
}

static void mock_set(struct vcpu *v, const struct x86_state *s)
{
	mock.s = *s;
}

static u32 mock_lin(u32 base, u32 off)
{
	return (base + (off & 0xffff)) & 0xfffff;
}

static enum vcpu_exit mock_run(struct vcpu *v, u64 deadline)
{
	struct x86_state *s = &mock.s;
	u8 op;

	for (;;) {
		op = (u8)mem_read(mock.env->mem,
				  mock_lin(s->seg[S_CS].base, s->eip), 1);
		s->eip = (s->eip + 1) & 0xffff;
		if (op == 0xf4)
			return VCPU_EXIT_HALT;
		if (op == 0x40) {
			s->gpr[R_EAX] = (s->gpr[R_EAX] + 1) & 0xffff;
		} else if (op == 0xaa) {
			mem_write(mock.env->mem,
				  mock_lin(s->seg[S_ES].base, s->gpr[R_EDI]),
				  s->gpr[R_EAX] & 0xff, 1);
			s->gpr[R_EDI] = (s->gpr[R_EDI] + 1) & 0xffff;
		} else {
			return VCPU_EXIT_SHUTDOWN;
		}
	}
}

static const struct engine_ops mock_ops = {
	.name = "mock",
	.create = mock_create,
	.destroy = mock_destroy,
	.reset = mock_reset,
	.run = mock_run,
	.get_state = mock_get,
	.set_state = mock_set,
};

/* code at f000:0010 (0xf0010); ES:DI = 3000:7777 = 0x37777 */
static u32 run_excp_addr;  /* an EXCP chunk with this address if not 0 */
static u16 run_ss, run_sp; /* initial SS:SP instead of init_regs' if SS */

static void build_run_test(struct mbuf *b, const u8 *code, unsigned n,
			   u16 fin_mask, const u16 *fin, u32 ram_addr,
			   u8 ram_val)
{
	u16 regs[MOO_NR_REGS];
	u32 addr[8];
	size_t t, s;
	unsigned i;

	memcpy(regs, init_regs, sizeof(regs));
	if (run_ss) {
		regs[MOO_SS] = run_ss;
		regs[MOO_SP] = run_sp;
	}

	b->n = 0;
	put_header(b, 1, 1);
	t = chunk_begin(b, "TEST");
	put32(b, 0);
	put_counted(b, "NAME", "mock", 4);
	put_counted(b, "BYTS", code, n);
	s = chunk_begin(b, "INIT");
	put_regs(b, "REGS", MOO_ALL_REGS, regs);
	for (i = 0; i < n; i++)
		addr[i] = 0xf0010 + i;
	put_ram(b, n, addr, code);
	chunk_end(b, s);
	s = chunk_begin(b, "FINA");
	put_regs(b, "REGS", fin_mask, fin);
	put_ram(b, ram_addr ? 1 : 0, &ram_addr, &ram_val);
	chunk_end(b, s);
	if (run_excp_addr) {
		s = chunk_begin(b, "EXCP");
		put8(b, 0);
		put32(b, run_excp_addr);
		chunk_end(b, s);
	}
	chunk_end(b, t);
}

static void run_built(struct cpurun *r, struct mbuf *b, u16 flags_mask,
		      struct cpurun_result *res)
{
	struct moo_file f;
	struct moo_test t;
	struct moo_regs none = {0};

	CHECK_EQ(moo_open_buffer(&f, b->d, b->n), 0);
	CHECK_EQ(moo_next(&f, &t), 1);
	cpurun_test(r, &t, &none, flags_mask, res);
	moo_close(&f);
}

static void test_runner_compares(void)
{
	static const u8 inc_stos[] = {0x40, 0xaa, 0xf4};
	static const u8 bad[] = {0x0f, 0xf4};
	struct mbuf *b = calloc(1, sizeof(*b));
	struct cpurun_result res;
	struct cpurun r;
	u16 fin[3] = {0x1112, 0x7778, 0x0013};

	CHECK_EQ(cpurun_init(&r, &mock_ops, CPU_MODEL_8086), 0);
	/* AX+1, DI+1, IP past HLT, AL stored at ES:DI. */
	build_run_test(b, inc_stos, 3, BIT(MOO_AX) | BIT(MOO_DI) | BIT(MOO_IP),
		       fin, 0x37777, 0x12);
	run_built(&r, b, 0xffff, &res);
	CHECK(res.passed);
	CHECK_EQ(mock.s.seg[S_CS].base, 0xf0000);
	CHECK_EQ(mock.s.idtr.limit, 0x3ff);
	/* The bytes of the test are gone again. */
	CHECK_EQ(mem_read(&r.mem, 0xf0010, 1), 0);
	CHECK_EQ(mem_read(&r.mem, 0x37777, 1), 0);
	/* A wrong expected AX and RAM byte: two mismatches. */
	fin[0] = 0x1113;
	build_run_test(b, inc_stos, 3, BIT(MOO_AX) | BIT(MOO_DI) | BIT(MOO_IP),
		       fin, 0x37777, 0x13);
	run_built(&r, b, 0xffff, &res);
	CHECK(!res.passed);
	CHECK_EQ(res.nr_diffs, 2);
	CHECK_EQ(res.diffs[0].kind, CPURUN_DIFF_REG);
	CHECK_EQ(res.diffs[0].where, MOO_AX);
	CHECK_EQ(res.diffs[0].got, 0x1112);
	CHECK_EQ(res.diffs[1].kind, CPURUN_DIFF_RAM);
	CHECK_EQ(res.diffs[1].where, 0x37777);
	/* Registers absent from FINA must keep their INIT value: DI moved. */
	fin[0] = 0x1112;
	fin[1] = 0x0013;
	build_run_test(b, inc_stos, 3, BIT(MOO_AX) | BIT(MOO_IP), fin, 0x37777,
		       0x12);
	run_built(&r, b, 0xffff, &res);
	CHECK(!res.passed);
	CHECK_EQ(res.nr_diffs, 1);
	CHECK_EQ(res.diffs[0].where, MOO_DI);
	/* An instruction the engine does not know: no HLT. */
	build_run_test(b, bad, 2, 0, fin, 0, 0);
	run_built(&r, b, 0xffff, &res);
	CHECK(!res.passed);
	CHECK(res.reason != NULL);
	cpurun_destroy(&r);
	free(b);
}

static void test_runner_flag_masks(void)
{
	static const u8 hlt[] = {0xf4};
	struct mbuf *b = calloc(1, sizeof(*b));
	struct cpurun_result res;
	struct cpurun r;
	u16 fin[2] = {0x0011, 0xf012}; /* AF differs from INIT's f002 */

	CHECK_EQ(cpurun_init(&r, &mock_ops, CPU_MODEL_8086), 0);
	build_run_test(b, hlt, 1, BIT(MOO_IP) | BIT(MOO_FLAGS), fin, 0, 0);
	run_built(&r, b, 0xffff, &res);
	CHECK(!res.passed);
	CHECK_EQ(res.diffs[0].where, MOO_FLAGS);
	run_built(&r, b, (u16)~FL_AF, &res);
	CHECK(res.passed);
	cpurun_destroy(&r);
	/* The 286 never compares the top four flag bits. */
	fin[1] = 0x0002;
	CHECK_EQ(cpurun_init(&r, &mock_ops, CPU_MODEL_286), 0);
	build_run_test(b, hlt, 1, BIT(MOO_IP) | BIT(MOO_FLAGS), fin, 0, 0);
	run_built(&r, b, 0xffff, &res);
	CHECK(res.passed);
	cpurun_destroy(&r);
	free(b);
}

/* The FLAGS word an exception pushed is masked like FLAGS (MOO EXCP). */
static void test_runner_excp_flags(void)
{
	static const u8 stos[] = {0xaa, 0xf4};
	struct mbuf *b = calloc(1, sizeof(*b));
	struct cpurun_result res;
	struct cpurun r;
	u16 fin[2] = {0x7778, 0x0012};

	CHECK_EQ(cpurun_init(&r, &mock_ops, CPU_MODEL_8086), 0);
	/* AL (0x11) lands where FLAGS "was pushed"; expect PF set in it. */
	run_excp_addr = 0x37777;
	build_run_test(b, stos, 2, BIT(MOO_DI) | BIT(MOO_IP), fin, 0x37777,
		       0x15);
	run_built(&r, b, 0xffff, &res);
	CHECK(!res.passed);
	run_built(&r, b, (u16)~FL_PF, &res);
	CHECK(res.passed);
	/* The high byte of the word takes the mask's high byte. */
	run_excp_addr = 0x37776;
	build_run_test(b, stos, 2, BIT(MOO_DI) | BIT(MOO_IP), fin, 0x37777,
		       0x15);
	run_built(&r, b, (u16)~FL_PF, &res);
	CHECK(!res.passed);
	run_built(&r, b, 0xfbff, &res);
	CHECK(res.passed);
	/*
	 * With an odd SP the recorder gives the even address below FLAGS:
	 * SS:SP+4 = 3000:7777 is FLAGS' low byte although EXCP says 37776.
	 */
	run_ss = 0x3000;
	run_sp = 0x7773;
	build_run_test(b, stos, 2, BIT(MOO_DI) | BIT(MOO_IP), fin, 0x37777,
		       0x15);
	run_built(&r, b, (u16)~FL_PF, &res);
	CHECK(res.passed);
	run_ss = 0;
	run_excp_addr = 0;
	cpurun_destroy(&r);
	free(b);
}

static const char meta_json[] =
	"{ \"cpu\": \"286\", \"version\": [1, 2.5e0, true, null],\n"
	"  \"opcodes\": {\n"
	"    \"00\": { \"status\": \"normal\" },\n"
	"    \"08\": { \"status\": \"normal\", \"flags\": \".....a..\",\n"
	"              \"flags-mask\": 65519 },\n"
	"    \"27\": { \"flags\": \"o..sz.p.\", \"status\": \"und\\u0041\\n\" "
	"},\n"
	"    \"d0\": { \"flags-mask\": 65535, \"reg\": {\n"
	"        \"4\": { \"status\": \"normal\", \"flags-mask\": 65519 },\n"
	"        \"6\": { \"status\": \"undocumented\", \"flags-mask\": 63274 "
	"},\n"
	"        \"7\": { \"arch\": \"86\" },\n"
	"        \"x\": { \"status\": \"ignored\" } } }\n"
	"  }\n"
	"}\n";

static void test_metadata_parse(void)
{
	const struct cpumeta_opcode *op;
	struct cpumeta m;

	CHECK_EQ(cpumeta_parse(&m, meta_json, strlen(meta_json)), 0);
	CHECK_STR(m.cpu, "286");
	CHECK_EQ(m.nr_ops, 4);
	op = cpumeta_find(&m, "08");
	CHECK(op && op->entry.has_mask);
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, -1)), 0xffef);
	op = cpumeta_find(&m, "00");
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, -1)), 0xffff);
	/* "flags" letters alone: OF SF ZF PF undefined. */
	op = cpumeta_find(&m, "27");
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, -1)),
		 0xffff & ~0x08c4);
	CHECK_STR(cpumeta_entry_for(op, -1)->status, "und?\n");
	op = cpumeta_find(&m, "D0");
	CHECK(op && op->has_reg);
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, 4)), 0xffef);
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, 6)), 63274);
	CHECK_STR(cpumeta_entry_for(op, 6)->status, "undocumented");
	/* reg 7 has no mask of its own: it takes the opcode's. */
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, 7)), 0xffff);
	/* reg 0 is absent: the opcode's entry applies. */
	CHECK(cpumeta_entry_for(op, 0) == &op->entry);
	CHECK(!cpumeta_entry_for(NULL, 3)->present);
	CHECK(cpumeta_find(&m, "0F") == NULL);
	cpumeta_free(&m);
}

static void test_metadata_bad_json(void)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{",
		"{\"cpu\" \"8086\"}",
		"{\"a\": 1,}",
		"{\"opcodes\": {\"00\": {\"flags-mask\": 70000}}}",
		"{\"opcodes\": {\"00\": {\"flags-mask\": -1}}}",
		"{\"a\": \"\\q\"}",
		"{\"a\": \"\\u12\"}",
		"{} x",
		"{\"a\": tru}",
	};
	char deep[4000];
	struct cpumeta m;
	size_t i, cut;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK(cpumeta_parse(&m, bad[i], strlen(bad[i])) < 0);
		CHECK(m.err[0] != '\0');
		cpumeta_free(&m);
	}
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"a\":", 5);
	CHECK(cpumeta_parse(&m, deep, sizeof(deep)) < 0);
	cpumeta_free(&m);
	/* Every proper prefix of a valid document is an error. */
	for (cut = 0; cut + 1 < strlen(meta_json); cut++) {
		CHECK(cpumeta_parse(&m, meta_json, cut) < 0);
		cpumeta_free(&m);
	}
}

static void test_real_metadata(void)
{
	const struct cpumeta_opcode *op;
	char path[512];
	struct cpumeta m;

	snprintf(path, sizeof(path), "%s/cpu-tests/8086/metadata.json",
		 shared_dir());
	if (access(path, R_OK)) {
		printf("note: %s absent: real-metadata case skipped\n", path);
		return;
	}
	CHECK_EQ(cpumeta_load(&m, path), 0);
	CHECK_STR(m.cpu, "8086");
	op = cpumeta_find(&m, "80");
	CHECK(op && op->has_reg);
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, 4)), 65519);
	CHECK_EQ(cpumeta_flags_mask(cpumeta_entry_for(op, 0)), 0xffff);
	op = cpumeta_find(&m, "D8");
	CHECK_STR(cpumeta_entry_for(op, -1)->status, "fpu");
	cpumeta_free(&m);
	CHECK(cpumeta_load(&m, "/nonexistent/metadata.json") == -ENOENT);
}

int main(void)
{
	RUN_TEST(test_parse_built_file);
	RUN_TEST(test_truncated_inputs);
	RUN_TEST(test_corrupt_fields);
	RUN_TEST(test_random_corruption);
	RUN_TEST(test_files_on_disk);
	RUN_TEST(test_real_8086_file);
	RUN_TEST(test_metadata_parse);
	RUN_TEST(test_metadata_bad_json);
	RUN_TEST(test_real_metadata);
	RUN_TEST(test_runner_compares);
	RUN_TEST(test_runner_flag_masks);
	RUN_TEST(test_runner_excp_flags);
	return unit_summary();
}

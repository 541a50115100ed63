// SPDX-License-Identifier: MIT
/*
 * block/aio: requests of one device run serially and in order on the
 * workers, different devices in parallel; completions run on the thread
 * that runs the event loop; drain and destroy leave nothing behind;
 * back-end errors reach the completion; a slow back end does not block
 * the submitter. The back end here is a fake block_dev that records what
 * it was asked and can hold a request at a gate until the test opens it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "block/aio.h"
#include "core/clock.h"
#include "unit.h"

#define FAKE_SIZE (64u << 20)
#define MAX_LOG 256
#define WAIT_NS (5 * NSEC_PER_SEC) /* a generous bound for any poll */

struct fake {
	struct block_dev bd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* What the back end ran: the offset of each write, ~0 for a flush. */
	u64 log[MAX_LOG];
	unsigned nr_log;
	unsigned inside, max_inside; /* ops running at once on this device */
	bool gated, at_gate;	     /* hold each op until the gate opens */
	int fail;		     /* -errno the next write returns */
};

static unsigned threads_inside; /* across fakes, under global_lock */
static unsigned max_threads_inside;
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;

static int fake_op(struct block_dev *bd, u64 what)
{
	struct fake *f = bd->priv;
	u64 deadline = clock_now_ns() + WAIT_NS;
	int ret;

	pthread_mutex_lock(&global_lock);
	threads_inside++;
	max_threads_inside = MAX(max_threads_inside, threads_inside);
	pthread_mutex_unlock(&global_lock);
	pthread_mutex_lock(&f->lock);
	f->inside++;
	f->max_inside = MAX(f->max_inside, f->inside);
	f->at_gate = true;
	pthread_cond_broadcast(&f->cond);
	while (f->gated && clock_now_ns() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	f->at_gate = false;
	if (f->nr_log < MAX_LOG)
		f->log[f->nr_log++] = what;
	ret = what != ~0ull ? f->fail : 0;
	f->fail = 0;
	f->inside--;
	pthread_mutex_unlock(&f->lock);
	pthread_mutex_lock(&global_lock);
	threads_inside--;
	pthread_mutex_unlock(&global_lock);
	return ret;
}

static int fake_read(struct block_dev *bd, u64 off, void *buf, size_t len)
{
	memset(buf, (int)(off >> 9), len);
	return fake_op(bd, off);
}

static int fake_write(struct block_dev *bd, u64 off, const void *buf,
		      size_t len)
{
	return fake_op(bd, off);
}

static int fake_flush(struct block_dev *bd)
{
	return fake_op(bd, ~0ull);
}

static const struct block_ops fake_ops = {
	.format = "fake",
	.read = fake_read,
	.write = fake_write,
	.flush = fake_flush,
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->bd = (struct block_dev){
		.ops = &fake_ops, .size = FAKE_SIZE, .fd = -1, .priv = f};
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
}

static void fake_set_gate(struct fake *f, bool gated)
{
	pthread_mutex_lock(&f->lock);
	f->gated = gated;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* Poll (no sleeping guess) until a worker holds an op at f's gate. */
static bool fake_wait_at_gate(struct fake *f)
{
	u64 deadline = clock_now_ns() + WAIT_NS;
	bool at;

	pthread_mutex_lock(&f->lock);
	while (!f->at_gate && clock_now_ns() < deadline) {
		pthread_mutex_unlock(&f->lock);
		sched_yield();
		pthread_mutex_lock(&f->lock);
	}
	at = f->at_gate;
	pthread_mutex_unlock(&f->lock);
	return at;
}

struct done_log {
	unsigned order[MAX_LOG];
	int ret[MAX_LOG];
	unsigned n;
	pthread_t thread;
	bool wrong_thread;
};

struct test_req {
	struct aio_req req;
	struct done_log *log;
	unsigned index;
	u8 buf[512];
};

static void test_done(struct aio_req *req)
{
	struct test_req *t = req->opaque;
	struct done_log *log = t->log;

	if (!pthread_equal(pthread_self(), log->thread))
		log->wrong_thread = true;
	if (log->n < MAX_LOG) {
		log->order[log->n] = t->index;
		log->ret[log->n] = req->ret;
		log->n++;
	}
}

static void req_init(struct test_req *t, struct done_log *log, unsigned index,
		     enum aio_op op, u64 offset)
{
	memset(t, 0, sizeof(*t));
	t->log = log;
	t->index = index;
	t->req = (struct aio_req){.op = op,
				  .offset = offset,
				  .buf = t->buf,
				  .len = sizeof(t->buf),
				  .done = test_done,
				  .opaque = t};
}

/* Run the loop until n completions arrived; false on timeout. */
static bool loop_until(struct evloop *loop, struct done_log *log, unsigned n)
{
	u64 deadline = clock_now_ns() + WAIT_NS;

	while (log->n < n && clock_now_ns() < deadline)
		evloop_run_once(loop, clock_now_ns() + NSEC_PER_MSEC * 100);
	return log->n >= n;
}

struct rig {
	struct evloop loop;
	struct aio_ctx *ctx;
	struct done_log log;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	CHECK_EQ(evloop_init(&r->loop), 0);
	CHECK_EQ(aio_ctx_create(&r->loop, &r->ctx), 0);
	r->log.thread = pthread_self();
}

static void rig_free(struct rig *r)
{
	aio_ctx_destroy(r->ctx);
	evloop_destroy(&r->loop);
}

/* Writes and flushes of one device: run one at a time, in order. */
static void test_order_per_device(void)
{
	static struct test_req reqs[200];
	struct fake f;
	struct rig r;
	struct aio_dev *dev;
	unsigned i;

	rig_init(&r);
	fake_init(&f);
	dev = aio_dev_create(r.ctx, &f.bd);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		enum aio_op op = i % 10 == 9 ? AIO_FLUSH : AIO_WRITE;

		req_init(&reqs[i], &r.log, i, op, (u64)i * 512);
		CHECK_EQ(aio_submit(dev, &reqs[i].req), 0);
	}
	CHECK(loop_until(&r.loop, &r.log, ARRAY_SIZE(reqs)));
	CHECK_EQ(f.nr_log, ARRAY_SIZE(reqs));
	CHECK_EQ(f.max_inside, 1);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		CHECK_EQ(f.log[i], i % 10 == 9 ? ~0ull : (u64)i * 512);
		CHECK_EQ(r.log.order[i], i);
	}
	CHECK(!r.log.wrong_thread);
	CHECK(!aio_ctx_busy(r.ctx));
	aio_dev_destroy(dev);
	rig_free(&r);
}

/*
 * The submitter goes on while the back end is stuck; the completion waits
 * for the event loop.
 */
static void test_caller_not_blocked(void)
{
	struct test_req t;
	struct fake f;
	struct rig r;
	struct aio_dev *dev;
	u64 start, took;

	rig_init(&r);
	fake_init(&f);
	fake_set_gate(&f, true);
	dev = aio_dev_create(r.ctx, &f.bd);
	req_init(&t, &r.log, 0, AIO_READ, 4096);
	start = clock_now_ns();
	CHECK_EQ(aio_submit(dev, &t.req), 0);
	took = clock_now_ns() - start;
	CHECK(fake_wait_at_gate(&f));
	CHECK(aio_ctx_busy(r.ctx));
	/* Held at the gate: no completion can have run. */
	evloop_run_once(&r.loop, 0);
	CHECK_EQ(r.log.n, 0);
	CHECK(took < WAIT_NS / 10);
	fake_set_gate(&f, false);
	CHECK(loop_until(&r.loop, &r.log, 1));
	CHECK_EQ(r.log.ret[0], 0);
	CHECK_EQ(t.buf[0], 4096 >> 9);
	CHECK(!r.log.wrong_thread);
	CHECK(!aio_ctx_busy(r.ctx));
	aio_dev_destroy(dev);
	rig_free(&r);
}

/* Two devices: one stuck at its gate does not hold the other back. */
static void test_devices_in_parallel(void)
{
	struct test_req a, b;
	struct fake fa, fb;
	struct rig r;
	struct aio_dev *da, *db;

	rig_init(&r);
	fake_init(&fa);
	fake_init(&fb);
	fake_set_gate(&fa, true);
	da = aio_dev_create(r.ctx, &fa.bd);
	db = aio_dev_create(r.ctx, &fb.bd);
	req_init(&a, &r.log, 1, AIO_WRITE, 0);
	req_init(&b, &r.log, 2, AIO_WRITE, 0);
	CHECK_EQ(aio_submit(da, &a.req), 0);
	CHECK(fake_wait_at_gate(&fa));
	CHECK_EQ(aio_submit(db, &b.req), 0);
	CHECK(loop_until(&r.loop, &r.log, 1));
	CHECK_EQ(r.log.order[0], 2);
	pthread_mutex_lock(&global_lock);
	CHECK(max_threads_inside >= 2);
	pthread_mutex_unlock(&global_lock);
	fake_set_gate(&fa, false);
	CHECK(loop_until(&r.loop, &r.log, 2));
	CHECK_EQ(r.log.order[1], 1);
	aio_dev_destroy(da);
	aio_dev_destroy(db);
	rig_free(&r);
}

/* Back-end errors reach the completion; bad requests are refused. */
static void test_errors(void)
{
	struct test_req t[3];
	struct fake f;
	struct rig r;
	struct aio_dev *dev;

	rig_init(&r);
	fake_init(&f);
	dev = aio_dev_create(r.ctx, &f.bd);
	f.fail = -ENOSPC;
	req_init(&t[0], &r.log, 0, AIO_WRITE, 0);
	req_init(&t[1], &r.log, 1, AIO_WRITE, 512);
	CHECK_EQ(aio_submit(dev, &t[0].req), 0);
	CHECK_EQ(aio_submit(dev, &t[1].req), 0);
	CHECK(loop_until(&r.loop, &r.log, 2));
	CHECK_EQ(r.log.ret[0], -ENOSPC);
	CHECK_EQ(r.log.ret[1], 0);
	/* Writes to a read-only device fail in the block layer. */
	f.bd.read_only = true;
	req_init(&t[2], &r.log, 2, AIO_WRITE, 0);
	CHECK_EQ(aio_submit(dev, &t[2].req), 0);
	CHECK(loop_until(&r.loop, &r.log, 3));
	CHECK_EQ(r.log.ret[2], -EROFS);
	/* Outside the device, too long, or without a completion. */
	req_init(&t[0], &r.log, 0, AIO_READ, FAKE_SIZE - 256);
	CHECK_EQ(aio_submit(dev, &t[0].req), -EINVAL);
	req_init(&t[0], &r.log, 0, AIO_READ, ~0ull - 100);
	CHECK_EQ(aio_submit(dev, &t[0].req), -EINVAL);
	req_init(&t[0], &r.log, 0, AIO_READ, 0);
	t[0].req.len = AIO_MAX_LEN + 512;
	CHECK_EQ(aio_submit(dev, &t[0].req), -EINVAL);
	req_init(&t[0], &r.log, 0, AIO_READ, 0);
	t[0].req.done = NULL;
	CHECK_EQ(aio_submit(dev, &t[0].req), -EINVAL);
	CHECK(!aio_ctx_busy(r.ctx));
	aio_dev_destroy(dev);
	rig_free(&r);
}

/*
 * Destroying a device waits for its requests and runs their completions
 * before it returns; another device's completions stay for the loop.
 */
static void test_drain_at_destroy(void)
{
	static struct test_req reqs[20];
	struct test_req other;
	struct fake f, g;
	struct rig r;
	struct aio_dev *dev, *odev;
	unsigned i;

	rig_init(&r);
	fake_init(&f);
	fake_init(&g);
	odev = aio_dev_create(r.ctx, &g.bd);
	req_init(&other, &r.log, 100, AIO_FLUSH, 0);
	CHECK_EQ(aio_submit(odev, &other.req), 0);
	aio_dev_wait(odev);
	fake_set_gate(&f, true);
	dev = aio_dev_create(r.ctx, &f.bd);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		req_init(&reqs[i], &r.log, i, AIO_WRITE, (u64)i * 512);
		CHECK_EQ(aio_submit(dev, &reqs[i].req), 0);
	}
	CHECK(fake_wait_at_gate(&f));
	fake_set_gate(&f, false);
	aio_dev_destroy(dev);
	CHECK_EQ(f.nr_log, ARRAY_SIZE(reqs));
	CHECK_EQ(r.log.n, ARRAY_SIZE(reqs));
	for (i = 0; i < r.log.n; i++)
		CHECK_EQ(r.log.order[i], i);
	/* The other device's completion is still the loop's to run. */
	CHECK(aio_ctx_busy(r.ctx));
	CHECK(loop_until(&r.loop, &r.log, ARRAY_SIZE(reqs) + 1));
	CHECK_EQ(r.log.order[ARRAY_SIZE(reqs)], 100);
	CHECK(!r.log.wrong_thread);
	aio_dev_destroy(odev);
	rig_free(&r);
}

/* Without a context the same requests complete inside aio_submit. */
static void test_synchronous(void)
{
	struct done_log log = {.thread = pthread_self()};
	struct test_req t;
	struct fake f;
	struct aio_dev *dev;

	fake_init(&f);
	dev = aio_dev_create(NULL, &f.bd);
	req_init(&t, &log, 7, AIO_READ, 1024);
	CHECK_EQ(aio_submit(dev, &t.req), 0);
	CHECK_EQ(log.n, 1);
	CHECK_EQ(t.buf[0], 2);
	CHECK(!aio_ctx_busy(NULL));
	aio_dev_destroy(dev);
}

int main(void)
{
	RUN_TEST(test_order_per_device);
	RUN_TEST(test_caller_not_blocked);
	RUN_TEST(test_devices_in_parallel);
	RUN_TEST(test_errors);
	RUN_TEST(test_drain_at_destroy);
	RUN_TEST(test_synchronous);
	return unit_summary();
}

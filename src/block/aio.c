// SPDX-License-Identifier: MIT
/*
 * The worker pool behind aio.h. One lock guards the context: the list of
 * devices with queued requests and no worker on them (ready), and the list
 * of finished requests not yet completed on the machine thread (done). A
 * device is on the ready list or being served by one worker, never both,
 * which is what keeps its requests serial and in order.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "block/aio.h"

struct aio_dev {
	struct aio_ctx *ctx;
	struct block_dev *bd;
	/* Under ctx->lock: queued requests, and queued + running ones. */
	struct aio_req *head, *tail;
	unsigned busy;
	struct aio_dev *ready_next;
};

struct aio_ctx {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a device became ready, or stop */
	pthread_cond_t idle; /* a device's last request finished */
	struct aio_dev *ready_head, *ready_tail;
	struct aio_req *done_head, *done_tail;
	bool stopping;
	pthread_t workers[AIO_WORKERS];
	unsigned nr_workers;
	/* Machine thread only: submitted and not completed yet. */
	unsigned outstanding;
	int efd;
	struct evloop *loop;
};

static int aio_discard(struct block_dev *bd, const struct aio_req *req)
{
	const struct aio_range *range = req->buf;
	size_t i, n = req->len / sizeof(*range);
	int r = 0;

	for (i = 0; !r && i < n; i++)
		r = block_discard(bd, range[i].offset, range[i].len);
	return r;
}

static void aio_execute(struct block_dev *bd, struct aio_req *req)
{
	switch (req->op) {
	case AIO_READ:
		req->ret = block_read(bd, req->offset, req->buf, req->len);
		break;
	case AIO_WRITE:
		req->ret = block_write(bd, req->offset, req->buf, req->len);
		if (!req->ret && req->flush_after)
			req->ret = block_flush(bd);
		break;
	case AIO_FLUSH:
		req->ret = block_flush(bd);
		break;
	case AIO_DISCARD:
		req->ret = aio_discard(bd, req);
		break;
	default:
		req->ret = -EINVAL;
		break;
	}
}

/* Under ctx->lock. */
static void aio_ready_push(struct aio_ctx *ctx, struct aio_dev *dev)
{
	dev->ready_next = NULL;
	if (ctx->ready_tail)
		ctx->ready_tail->ready_next = dev;
	else
		ctx->ready_head = dev;
	ctx->ready_tail = dev;
	pthread_cond_signal(&ctx->work);
}

/* Under ctx->lock. */
static struct aio_dev *aio_ready_pop(struct aio_ctx *ctx)
{
	struct aio_dev *dev = ctx->ready_head;

	if (dev) {
		ctx->ready_head = dev->ready_next;
		if (!ctx->ready_head)
			ctx->ready_tail = NULL;
	}
	return dev;
}

/* Under ctx->lock: take the first queued request of dev. */
static struct aio_req *aio_dev_pop(struct aio_dev *dev)
{
	struct aio_req *req = dev->head;

	dev->head = req->next;
	if (!dev->head)
		dev->tail = NULL;
	req->next = NULL;
	return req;
}

/* Under ctx->lock: a finished request waits for the machine thread. */
static void aio_done_push(struct aio_ctx *ctx, struct aio_req *req)
{
	if (ctx->done_tail)
		ctx->done_tail->next = req;
	else
		ctx->done_head = req;
	ctx->done_tail = req;
}

/* Tell the machine thread; a full counter already says so. */
static void aio_notify(struct aio_ctx *ctx)
{
	u64 one = 1;
	ssize_t n = write(ctx->efd, &one, sizeof(one));

	(void)n;
}

static void *aio_worker(void *opaque)
{
	struct aio_ctx *ctx = opaque;
	struct aio_dev *dev;
	struct aio_req *req;

	pthread_mutex_lock(&ctx->lock);
	while (!ctx->stopping) {
		dev = aio_ready_pop(ctx);
		if (!dev) {
			pthread_cond_wait(&ctx->work, &ctx->lock);
			continue;
		}
		req = aio_dev_pop(dev);
		pthread_mutex_unlock(&ctx->lock);
		aio_execute(dev->bd, req);
		pthread_mutex_lock(&ctx->lock);
		aio_done_push(ctx, req);
		dev->busy--;
		/* To the back of the line: devices take turns. */
		if (dev->head)
			aio_ready_push(ctx, dev);
		else if (!dev->busy)
			pthread_cond_broadcast(&ctx->idle);
		aio_notify(ctx);
	}
	pthread_mutex_unlock(&ctx->lock);
	return NULL;
}

/*
 * Run the completions in list, in order (machine thread). A completion may
 * submit again or drain another device, so nothing here is under the lock.
 */
static void aio_complete_list(struct aio_ctx *ctx, struct aio_req *list)
{
	struct aio_req *req, *next;

	for (req = list; req; req = next) {
		next = req->next;
		req->next = NULL;
		ctx->outstanding--;
		req->done(req);
	}
}

static void aio_efd_ready(void *opaque, int fd, u32 events)
{
	struct aio_ctx *ctx = opaque;
	struct aio_req *list;
	u64 count;

	if (read(fd, &count, sizeof(count)) < 0)
		return;
	pthread_mutex_lock(&ctx->lock);
	list = ctx->done_head;
	ctx->done_head = ctx->done_tail = NULL;
	pthread_mutex_unlock(&ctx->lock);
	aio_complete_list(ctx, list);
}

bool aio_ctx_busy(struct aio_ctx *ctx)
{
	return ctx && ctx->outstanding;
}

/* Workers take no signals: the machine thread owns SIGINT and SIGTERM. */
static int aio_start_workers(struct aio_ctx *ctx)
{
	sigset_t all, old;
	int ret = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (ctx->nr_workers < AIO_WORKERS) {
		ret = -pthread_create(&ctx->workers[ctx->nr_workers], NULL,
				      aio_worker, ctx);
		if (ret)
			break;
		ctx->nr_workers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void aio_stop_workers(struct aio_ctx *ctx)
{
	unsigned i;

	pthread_mutex_lock(&ctx->lock);
	ctx->stopping = true;
	pthread_cond_broadcast(&ctx->work);
	pthread_mutex_unlock(&ctx->lock);
	for (i = 0; i < ctx->nr_workers; i++)
		pthread_join(ctx->workers[i], NULL);
	ctx->nr_workers = 0;
}

int aio_ctx_restart_workers(struct aio_ctx *ctx)
{
	aio_stop_workers(ctx);
	pthread_mutex_lock(&ctx->lock);
	ctx->stopping = false;
	pthread_mutex_unlock(&ctx->lock);
	return aio_start_workers(ctx);
}

int aio_ctx_create(struct evloop *loop, struct aio_ctx **out)
{
	struct aio_ctx *ctx = calloc(1, sizeof(*ctx));
	int ret;

	if (!ctx)
		return -ENOMEM;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->work, NULL);
	pthread_cond_init(&ctx->idle, NULL);
	ctx->loop = loop;
	ctx->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx->efd < 0) {
		ret = -errno;
		free(ctx);
		return ret;
	}
	ret = evloop_add_fd(loop, ctx->efd, EPOLLIN, aio_efd_ready, ctx);
	if (!ret)
		ret = aio_start_workers(ctx);
	if (ret) {
		aio_ctx_destroy(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

void aio_ctx_destroy(struct aio_ctx *ctx)
{
	if (!ctx)
		return;
	aio_stop_workers(ctx);
	evloop_del_fd(ctx->loop, ctx->efd);
	close(ctx->efd);
	pthread_cond_destroy(&ctx->idle);
	pthread_cond_destroy(&ctx->work);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

struct aio_dev *aio_dev_create(struct aio_ctx *ctx, struct block_dev *bd)
{
	struct aio_dev *dev = calloc(1, sizeof(*dev));

	if (dev) {
		dev->ctx = ctx;
		dev->bd = bd;
	}
	return dev;
}

void aio_dev_destroy(struct aio_dev *dev)
{
	if (!dev)
		return;
	aio_dev_drain(dev);
	free(dev);
}

static bool aio_req_valid(const struct aio_dev *dev, const struct aio_req *req)
{
	u64 size = dev->bd->size;

	if (!req->done || req->op > AIO_DISCARD)
		return false;
	if (req->op == AIO_FLUSH)
		return true;
	/* Each range is checked by block_discard on the worker. */
	if (req->op == AIO_DISCARD)
		return req->buf && req->len <= AIO_MAX_LEN &&
		       !(req->len % sizeof(struct aio_range));
	return req->buf && req->len <= AIO_MAX_LEN && req->offset <= size &&
	       req->len <= size - req->offset;
}

int aio_submit(struct aio_dev *dev, struct aio_req *req)
{
	struct aio_ctx *ctx = dev->ctx;

	if (!aio_req_valid(dev, req))
		return -EINVAL;
	req->dev = dev;
	req->next = NULL;
	req->ret = 0;
	if (!ctx) {
		aio_execute(dev->bd, req);
		req->done(req);
		return 0;
	}
	ctx->outstanding++;
	pthread_mutex_lock(&ctx->lock);
	if (dev->tail)
		dev->tail->next = req;
	else
		dev->head = req;
	dev->tail = req;
	/* Already ready or being served otherwise: it stays in line. */
	if (!dev->busy++)
		aio_ready_push(ctx, dev);
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

void aio_dev_wait(struct aio_dev *dev)
{
	struct aio_ctx *ctx = dev->ctx;

	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	while (dev->busy)
		pthread_cond_wait(&ctx->idle, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);
}

/* Unlink dev's finished requests from the done list, keeping order. */
static struct aio_req *aio_take_done(struct aio_ctx *ctx, struct aio_dev *dev)
{
	struct aio_req *mine = NULL, **mine_tail = &mine;
	struct aio_req **pp = &ctx->done_head, *req;

	ctx->done_tail = NULL;
	while ((req = *pp)) {
		if (req->dev == dev) {
			*pp = req->next;
			req->next = NULL;
			*mine_tail = req;
			mine_tail = &req->next;
		} else {
			ctx->done_tail = req;
			pp = &req->next;
		}
	}
	return mine;
}

void aio_dev_drain(struct aio_dev *dev)
{
	struct aio_ctx *ctx = dev->ctx;
	struct aio_req *list;

	if (!ctx)
		return;
	aio_dev_wait(dev);
	pthread_mutex_lock(&ctx->lock);
	list = aio_take_done(ctx, dev);
	pthread_mutex_unlock(&ctx->lock);
	aio_complete_list(ctx, list);
}

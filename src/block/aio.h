/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous block requests: a device hands a read, write or flush to a
 * worker thread and learns of its end on the machine thread, so a large
 * request does not stall the vCPU while the host does the I/O.
 *
 * Why a thread pool and not io_uring: the back ends are ordinary C code,
 * not single syscalls. A Parallels .hdd write may allocate a cluster,
 * write it and then update the BAT, in that order (crash safety depends on
 * it); a bundle routes each cluster to its own image. io_uring could only
 * carry the pread/pwrite at the bottom of that logic, so the back ends
 * would have to become state machines. A worker simply runs the existing
 * synchronous back end. io_uring may also be refused by the host kernel
 * (kernel.io_uring_disabled, container seccomp filters), and it would add
 * a dependency (liburing) for no gain at IDE request rates.
 *
 * Contract:
 *  - Requests of one aio_dev run one at a time, in submission order (the
 *    back ends are not thread-safe; a FLUSH covers every earlier write).
 *    Different devices run in parallel on different workers.
 *  - A worker only calls the block_dev's ops on the request's own buffer.
 *    It never touches guest memory or device state: the caller copies
 *    guest data into the buffer before submitting a write, and out of it
 *    in the completion of a read, on the machine thread.
 *  - Completions run on the machine thread, from the event loop (an
 *    eventfd tells it), in completion order, which is submission order
 *    for one device. So devices need no locks.
 *  - While a device has requests in flight, nobody else may call its
 *    block_dev: a synchronous user calls aio_dev_wait() first.
 *  - An aio_dev without a context (ctx NULL) runs each request inline in
 *    aio_submit() and completes it before returning: the same code path,
 *    synchronously (unit tests, tools).
 */
#ifndef TWOOSTWO_BLOCK_AIO_H
#define TWOOSTWO_BLOCK_AIO_H

#include "block/block.h"
#include "core/evloop.h"

/* Workers of a context: one per drive keeps four IDE drives busy. */
#define AIO_WORKERS 4
/* The largest request: an ATA command's 65536 sectors. */
#define AIO_MAX_LEN (32u << 20)

enum aio_op { AIO_READ, AIO_WRITE, AIO_FLUSH, AIO_DISCARD };

/*
 * AIO_DISCARD carries a list of ranges in buf (len is its size in bytes,
 * a multiple of sizeof(struct aio_range)); offset is unused. Each range
 * goes to block_discard() in order; the first error ends the request.
 */
struct aio_range {
	u64 offset, len; /* bytes */
};

struct aio_req;
typedef void (*aio_done_fn)(struct aio_req *req);

struct aio_req {
	/* Filled by the submitter. */
	enum aio_op op;
	bool flush_after; /* a write that must reach the medium (FUA) */
	u64 offset;	  /* bytes */
	void *buf;
	size_t len;
	aio_done_fn done;
	void *opaque;
	/* 0 or -errno, valid in done. */
	int ret;
	/* Private to aio.c. */
	struct aio_dev *dev;
	struct aio_req *next;
};

struct aio_ctx;
struct aio_dev;

/*
 * Start the workers and watch their completions from loop. Returns 0 or
 * -errno.
 */
int aio_ctx_create(struct evloop *loop, struct aio_ctx **out);
/* Every aio_dev of ctx must have been destroyed first. */
void aio_ctx_destroy(struct aio_ctx *ctx);
/* Whether requests are queued, running or waiting for their completion. */
bool aio_ctx_busy(struct aio_ctx *ctx);
/*
 * Stop the workers (after the requests they hold) and start new ones, so
 * they take the calling thread's credentials, capabilities and Landlock
 * domain (the sandbox, core/sandbox.h). Returns 0 or -errno.
 */
int aio_ctx_restart_workers(struct aio_ctx *ctx);

/* Requests on bd through ctx (NULL: synchronously). NULL on no memory. */
struct aio_dev *aio_dev_create(struct aio_ctx *ctx, struct block_dev *bd);
/* Drain (see below), then free. */
void aio_dev_destroy(struct aio_dev *dev);
/*
 * Queue req; req->done runs later on the machine thread, unless submit
 * fails (-EINVAL: a length above AIO_MAX_LEN or outside the device, or a
 * discard list that is not whole ranges).
 * req and its buffer must stay valid until done.
 */
int aio_submit(struct aio_dev *dev, struct aio_req *req);
/* Block until none of dev's requests is queued or running. */
void aio_dev_wait(struct aio_dev *dev);
/* Wait, then run dev's pending completions now, on the caller. */
void aio_dev_drain(struct aio_dev *dev);

#endif

/*
 * The hand-over from other threads (nng callbacks, task threads) to a libuv
 * loop: a locked list and a uv_async_t. uv_async_send coalesces wake-ups, so
 * the loop drains the whole list each time.
 */
#include <stdlib.h>

#include "common/error.h"
#include "rpc.h"

struct sli_loopq_item {
	struct sli_loopq_item *next;
	void (*fn)(void *);
	void *arg;
};

static void
on_async(uv_async_t *a)
{
	sli_loopq_drain(a->data);
}

int
sli_loopq_init(struct sli_loopq *q, uv_loop_t *loop)
{
	q->head = q->tail = NULL;
	if (uv_mutex_init(&q->mtx) != 0)
		return sli_err(SL_ENOMEM, "out of memory");
	if (uv_async_init(loop, &q->async, on_async) != 0) {
		uv_mutex_destroy(&q->mtx);
		return sli_err(SL_ENOMEM, "out of memory");
	}
	q->async.data = q;
	return 0;
}

int
sli_loopq_post(struct sli_loopq *q, void (*fn)(void *), void *arg)
{
	struct sli_loopq_item *it = malloc(sizeof(*it));

	if (it == NULL)
		return SL_ENOMEM;
	it->next = NULL;
	it->fn = fn;
	it->arg = arg;
	uv_mutex_lock(&q->mtx);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	uv_mutex_unlock(&q->mtx);
	uv_async_send(&q->async);
	return 0;
}

/*
 * One item at a time off the shared list: a callback may drain again
 * (closing an rpc client does, then frees it), and that inner drain must
 * run every item still waiting, the pipe events naming that client too,
 * not leave some in a batch the outer drain took (a use after free).
 */
void
sli_loopq_drain(struct sli_loopq *q)
{
	for (;;) {
		struct sli_loopq_item *it;

		uv_mutex_lock(&q->mtx);
		if ((it = q->head) != NULL && (q->head = it->next) == NULL)
			q->tail = NULL;
		uv_mutex_unlock(&q->mtx);
		if (it == NULL)
			return;
		it->fn(it->arg);
		free(it);
	}
}

static void
on_closed(uv_handle_t *h)
{
	struct sli_loopq *q = h->data;

	sli_loopq_drain(q);
	uv_mutex_destroy(&q->mtx);
}

void
sli_loopq_close(struct sli_loopq *q)
{
	/* May run inside a drain (a posted function closing the loop): the
	 * mutex lives until the handle is closed, after that drain. */
	sli_loopq_drain(q);
	uv_close((uv_handle_t *)&q->async, on_closed);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * A few threads for the libbasalt calls that block (open, stat, close,
 * block status, volume listing), so that the loop thread never waits on
 * the network.  A job's work runs on a worker, its done callback back on
 * the loop thread through bs_loop_post().
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "nbd.h"

#define MAX_WORKERS 16

struct nbd_workers {
	struct bs_loop *loop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct nbd_job *head, **tail;	/* under lock */
	bool stop;			/* under lock */
	unsigned pending;		/* loop thread only */
	unsigned n;
	pthread_t threads[MAX_WORKERS];
};

static void job_done(struct bs_task *task)
{
	struct nbd_job *job = container_of(task, struct nbd_job, task);
	struct nbd_workers *w = job->pool;

	w->pending--;
	job->done(job);		/* may free the job's owner */
}

static void *worker_main(void *arg)
{
	struct nbd_workers *w = arg;
	struct nbd_job *job;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		job = w->head;
		if (!job)
			break;	/* stopping and nothing queued */
		w->head = job->next;
		if (!w->head)
			w->tail = &w->head;
		pthread_mutex_unlock(&w->lock);

		job->work(job);
		job->task.fn = job_done;
		bs_loop_post(w->loop, &job->task);

		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int nbd_workers_new(struct nbd_workers **out, struct bs_loop *loop,
		    unsigned n)
{
	struct nbd_workers *w;
	unsigned i;
	int ret;

	if (n == 0)
		n = 1;
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->loop = loop;
	w->tail = &w->head;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	for (i = 0; i < n; i++) {
		ret = pthread_create(&w->threads[i], NULL, worker_main, w);
		if (ret) {
			w->n = i;
			nbd_workers_free(&w);
			return -ret;
		}
		w->n = i + 1;
	}
	*out = w;
	return 0;
}

void nbd_workers_submit(struct nbd_workers *w, struct nbd_job *job)
{
	job->pool = w;
	job->next = NULL;
	w->pending++;
	pthread_mutex_lock(&w->lock);
	*w->tail = job;
	w->tail = &job->next;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

unsigned nbd_workers_pending(const struct nbd_workers *w)
{
	return w ? w->pending : 0;
}

void nbd_workers_free(struct nbd_workers **pw)
{
	struct nbd_workers *w = *pw;
	unsigned i;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	*pw = NULL;
}

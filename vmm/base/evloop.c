#include "vmm/base/evloop.h"
#include "vmm/base/efd.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evloop_entry {
	int fd;
	bool dead;            /* deleted; freed after the current batch */
	evloop_fn fn;
	void *opaque;
	struct evloop_entry *next;
};

static void drain_wake(void *opaque, uint32_t events)
{
	struct evloop *l = opaque;

	efd_drain(l->wakefd);
}

int evloop_init(struct evloop *l)
{
	l->entries = NULL;
	l->stopping = false;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = efd_new();
	if (l->epfd < 0 || l->wakefd < 0) {
		int err = l->wakefd < 0 ? l->wakefd : -errno;
		evloop_release(l);
		return err;
	}
	int err = evloop_add(l, l->wakefd, EPOLLIN, drain_wake, l);
	if (err)
		evloop_release(l);
	return err;
}

static void free_entries(struct evloop *l, bool all)
{
	struct evloop_entry **pp = &l->entries;

	while (*pp) {
		struct evloop_entry *e = *pp;
		if (all || e->dead) {
			*pp = e->next;
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

void evloop_release(struct evloop *l)
{
	free_entries(l, true);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	l->epfd = l->wakefd = -1;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct evloop_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	*e = (struct evloop_entry){ .fd = fd, .fn = fn, .opaque = opaque, .next = l->entries };
	struct epoll_event ev = { .events = events, .data.ptr = e };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		free(e);
		return err;
	}
	l->entries = e;
	return 0;
}

static struct evloop_entry *find(struct evloop *l, int fd)
{
	for (struct evloop_entry *e = l->entries; e; e = e->next)
		if (e->fd == fd && !e->dead)
			return e;
	return NULL;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct evloop_entry *e = find(l, fd);

	if (!e)
		return -ENOENT;
	struct epoll_event ev = { .events = events, .data.ptr = e };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int evloop_del(struct evloop *l, int fd)
{
	struct evloop_entry *e = find(l, fd);

	if (!e)
		return -ENOENT;
	/* Freed later: the current batch may still hold a pointer to e. */
	e->dead = true;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	return 0;
}

int evloop_poll(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(l->epfd, evs, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct evloop_entry *e = evs[i].data.ptr;
		if (!e->dead)
			e->fn(e->opaque, evs[i].events);
	}
	free_entries(l, false);
	return n;
}

int evloop_run(struct evloop *l)
{
	while (!__atomic_load_n(&l->stopping, __ATOMIC_ACQUIRE)) {
		int n = evloop_poll(l, -1);
		if (n < 0)
			return n;
	}
	return 0;
}

void evloop_stop(struct evloop *l)
{
	__atomic_store_n(&l->stopping, true, __ATOMIC_RELEASE);
	efd_signal(l->wakefd);
}

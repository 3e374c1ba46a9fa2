#include "virtio/backend/net_slirp.h"
#include "virtio/backend/net_backend.h"

#include "vmm/base/evloop.h"

#include <libslirp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define POLL_BATCH    64        /* socket events taken per dispatch */
#define TIMER_BATCH   64        /* slirp timers run per dispatch at most */
#define MAX_FD        (1 << 20) /* larger descriptors are not watched */
#define ETH_MIN_HDR   14

/* slirp's default network (10.0.2.0/24), spelled out so the backend does
 * not depend on libslirp's built-in choices. */
#define NET_ADDR      0x0a000200u
#define NET_MASK      0xffffff00u
#define HOST_ADDR     0x0a000202u
#define DNS_ADDR      0x0a000203u
#define GUEST_ADDR    0x0a00020fu

struct frame {
	struct frame *next;
	size_t len;
	uint8_t data[];
};

/* A slirp timer: a plain callback (timer_new) or an id that goes back to
 * slirp_handle_timer (timer_new_opaque). */
struct stimer {
	struct stimer *next;
	SlirpTimerCb cb;           /* NULL: by id */
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;         /* -1: not armed */
};

/* One descriptor slirp asked to watch in the last fill; add_poll's index. */
struct pollent {
	int fd;
	int revents;               /* SLIRP_POLL_* collected for this round */
};

/* What the inner epoll set holds for a descriptor, indexed by fd. */
struct fdstate {
	uint32_t gen;              /* fill round that last asked for it */
	int idx;                   /* its pollent in that round */
	bool in_ep;
	uint32_t ep_events;
};

struct net_slirp {
	Slirp *slirp;
	int epfd;                  /* slirp's sockets */
	int tfd;                   /* slirp's timers, and "run soon" kicks */
	struct evloop *loop;       /* set while attached */
	struct net_backend_host host;
	bool rx_on;
	bool rx_notify;            /* frames queued since the last rx_ready */
	bool paused;               /* input not watched (as of the last fill) */
	bool kicked;               /* tfd armed to dispatch at once */
	bool in_dispatch;
	struct frame *head, **tailp;
	unsigned qlen;
	size_t qbytes;
	struct stimer *timers;
	struct pollent *polls;
	unsigned npolls, cap_polls;
	struct fdstate *fds;
	unsigned nfds;             /* entries in fds */
	uint32_t gen;
	uint8_t *txbuf;            /* NET_MAX_FRAME: gathers a scattered frame */
	struct net_slirp_stats stats;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool queue_full(const struct net_slirp *s)
{
	return s->qlen >= NET_SLIRP_QUEUE_FRAMES ||
	       s->qbytes + ETH_MIN_HDR > NET_SLIRP_QUEUE_BYTES;
}

/* Run a dispatch soon, from the loop (never from inside an op: the device
 * may hold its lock there, and rx_ready would take it again). */
static void kick(struct net_slirp *s)
{
	struct itimerspec its = { .it_value = { .tv_nsec = 1 } };

	if (s->kicked || s->in_dispatch)
		return;
	if (timerfd_settime(s->tfd, 0, &its, NULL) == 0)
		s->kicked = true;
}

/* ---- The inner epoll set, synchronised with slirp's poll list ---- */

static int grow_fds(struct net_slirp *s, int fd)
{
	if ((unsigned)fd < s->nfds)
		return 0;
	if (fd >= MAX_FD)
		return -1;
	unsigned n = s->nfds ? s->nfds : 64;
	while (n <= (unsigned)fd)
		n *= 2;
	struct fdstate *f = realloc(s->fds, n * sizeof(*f));
	if (!f)
		return -1;
	memset(f + s->nfds, 0, (n - s->nfds) * sizeof(*f));
	s->fds = f;
	s->nfds = n;
	return 0;
}

static int grow_polls(struct net_slirp *s)
{
	if (s->npolls < s->cap_polls)
		return 0;
	unsigned n = s->cap_polls ? s->cap_polls * 2 : 64;
	struct pollent *p = realloc(s->polls, n * sizeof(*p));
	if (!p)
		return -1;
	s->polls = p;
	s->cap_polls = n;
	return 0;
}

/* Make the inner set watch fd for want (0: not at all). A descriptor
 * slirp closed left the set by itself, so MOD and ADD fall back on each
 * other when the set's view and ours differ. */
static void watch(struct net_slirp *s, int fd, uint32_t want)
{
	struct fdstate *f = &s->fds[fd];
	struct epoll_event ev = { .events = want, .data.fd = fd };

	if (!want) {
		if (f->in_ep)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
		f->in_ep = false;
		return;
	}
	if (f->in_ep && f->ep_events == want)
		return;
	int r = epoll_ctl(s->epfd, f->in_ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
	if (r < 0 && errno == ENOENT)
		r = epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (r < 0 && errno == EEXIST)
		r = epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev);
	f->in_ep = r == 0;
	f->ep_events = want;
}

static int add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;

	if (fd < 0 || grow_fds(s, fd) < 0 || grow_polls(s) < 0)
		return -1;       /* not watched this round; slirp copes */
	int idx = (int)s->npolls++;
	s->polls[idx] = (struct pollent){ .fd = fd };
	s->fds[fd].gen = s->gen;
	s->fds[fd].idx = idx;

	uint32_t want = 0;
	if (!s->paused) {
		want |= (events & SLIRP_POLL_IN) ? EPOLLIN : 0;
		want |= (events & SLIRP_POLL_PRI) ? EPOLLPRI : 0;
	}
	want |= (events & SLIRP_POLL_OUT) ? EPOLLOUT : 0;
	watch(s, fd, want);
	return idx;
}

static int get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;

	if (idx < 0 || (unsigned)idx >= s->npolls)
		return 0;
	return s->polls[idx].revents;
}

static int to_slirp_events(uint32_t ev)
{
	return ((ev & EPOLLIN) ? SLIRP_POLL_IN : 0) | ((ev & EPOLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((ev & EPOLLPRI) ? SLIRP_POLL_PRI : 0) | ((ev & EPOLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((ev & EPOLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* Drop descriptors slirp no longer asked for. */
static void drop_stale(struct net_slirp *s)
{
	for (unsigned fd = 0; fd < s->nfds; fd++)
		if (s->fds[fd].in_ep && s->fds[fd].gen != s->gen)
			watch(s, (int)fd, 0);
}

static void arm_timer(struct net_slirp *s, uint32_t timeout_ms)
{
	int64_t deadline = INT64_MAX;

	if (timeout_ms != UINT32_MAX)
		deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	for (struct stimer *t = s->timers; t; t = t->next)
		if (t->expire_ms >= 0 && t->expire_ms < INT64_MAX / 1000000 &&
		    t->expire_ms * 1000000 < deadline)
			deadline = t->expire_ms * 1000000;

	struct itimerspec its = { 0 };
	if (deadline != INT64_MAX) {
		if (deadline < 1)
			deadline = 1;      /* 0 would disarm; a past time fires at once */
		its.it_value.tv_sec = deadline / 1000000000;
		its.it_value.tv_nsec = deadline % 1000000000;
	}
	timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	s->kicked = false;
}

/* Ask slirp what to watch and until when. */
static void fill(struct net_slirp *s)
{
	uint32_t timeout = UINT32_MAX;

	if (++s->gen == 0)
		s->gen = 1;
	s->npolls = 0;
	/* Backpressure: with the queue full, reading sockets could only
	 * produce drops. The guest taking frames (recv) lifts it. While rx is
	 * off nothing is taken, so the sockets stay unread and nothing spins. */
	s->paused = queue_full(s);
	slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
	drop_stale(s);
	arm_timer(s, timeout);
}

static void collect(struct net_slirp *s)
{
	struct epoll_event evs[POLL_BATCH];
	int n = epoll_wait(s->epfd, evs, POLL_BATCH, 0);

	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if (fd < 0 || (unsigned)fd >= s->nfds || s->fds[fd].gen != s->gen)
			continue;
		unsigned idx = (unsigned)s->fds[fd].idx;
		if (idx < s->npolls && s->polls[idx].fd == fd)
			s->polls[idx].revents |= to_slirp_events(evs[i].events);
	}
}

static void run_timers(struct net_slirp *s)
{
	int64_t now_ms = now_ns() / 1000000;

	for (int i = 0; i < TIMER_BATCH; i++) {
		struct stimer *t = s->timers;
		while (t && (t->expire_ms < 0 || t->expire_ms > now_ms))
			t = t->next;
		if (!t)
			return;
		/* The callback may modify or free any timer, t included. */
		t->expire_ms = -1;
		if (t->cb)
			t->cb(t->cb_opaque);
		else
			slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
	}
}

/* Both fds land here: slirp's sockets are ready, or a timer or kick fired. */
static void dispatch(void *opaque, uint32_t events)
{
	struct net_slirp *s = opaque;
	uint64_t expirations;

	if (read(s->tfd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: the timer has not fired; sockets woke us. */
	}
	s->in_dispatch = true;
	/* The queue filled (or emptied) since the last fill: stop (or resume)
	 * watching input before reading anything. */
	if (s->paused != queue_full(s))
		fill(s);
	collect(s);
	slirp_pollfds_poll(s->slirp, 0, get_revents, s);
	for (unsigned i = 0; i < s->npolls; i++)
		s->polls[i].revents = 0;
	run_timers(s);
	if (s->rx_on && s->rx_notify && s->qlen) {
		s->rx_notify = false;
		s->host.rx_ready(s->host.opaque);
	}
	fill(s);
	s->in_dispatch = false;
}

/* ---- slirp's callbacks ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;

	if (len == 0 || len > NET_MAX_FRAME || queue_full(s) ||
	    s->qbytes + len > NET_SLIRP_QUEUE_BYTES) {
		s->stats.rx_dropped++;
		return (ssize_t)len;     /* lost as on a wire; TCP retransmits */
	}
	struct frame *f = malloc(sizeof(*f) + len);
	if (!f) {
		s->stats.rx_dropped++;
		return (ssize_t)len;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, buf, len);
	*s->tailp = f;
	s->tailp = &f->next;
	s->qlen++;
	s->qbytes += len;
	s->stats.rx_frames++;
	s->rx_notify = true;
	kick(s);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	s->stats.guest_errors++;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return now_ns();
}

static struct stimer *timer_add(struct net_slirp *s, SlirpTimerCb cb, SlirpTimerId id,
				void *cb_opaque)
{
	struct stimer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct stimer){ .next = s->timers, .cb = cb, .id = id, .cb_opaque = cb_opaque,
			      .expire_ms = -1 };
	s->timers = t;
	return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	return timer_add(opaque, cb, SLIRP_TIMER_NUM, cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	return timer_add(opaque, NULL, id, cb_opaque);
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;

	for (struct stimer **pp = &s->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = ((struct stimer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct stimer *t = timer;

	if (!t)
		return;
	t->expire_ms = expire_ms < 0 ? 0 : expire_ms;
	kick(opaque);             /* re-arm the timerfd from the loop */
}

/* A new socket may reuse the number of one slirp closed (which left the
 * epoll set by itself): forget what we knew about that number. */
static void cb_register_poll_fd(int fd, void *opaque)
{
	struct net_slirp *s = opaque;

	if (fd >= 0 && (unsigned)fd < s->nfds)
		s->fds[fd].in_ep = false;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	struct net_slirp *s = opaque;

	if (fd >= 0 && (unsigned)fd < s->nfds)
		watch(s, fd, 0);
}

static void cb_notify(void *opaque)
{
	kick(opaque);
}

static void cb_init_completed(Slirp *slirp, void *opaque)
{
	struct net_slirp *s = opaque;

	s->slirp = slirp;
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.init_completed = cb_init_completed,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* ---- Operations ---- */

static size_t iov_room(const struct iovec *iov, unsigned iovcnt)
{
	size_t room = 0;

	for (unsigned i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - room)
			return SIZE_MAX;
		room += iov[i].iov_len;
	}
	return room;
}

static int ns_send(void *be, const struct iovec *iov, unsigned iovcnt)
{
	struct net_slirp *s = be;
	size_t len = iov_room(iov, iovcnt);

	if (len < ETH_MIN_HDR || len > NET_MAX_FRAME) {
		s->stats.tx_dropped++;
		return 0;
	}
	const uint8_t *p = iov[0].iov_base;
	if (iov[0].iov_len != len) {
		size_t off = 0;
		for (unsigned i = 0; i < iovcnt; i++) {
			memcpy(s->txbuf + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		p = s->txbuf;
	}
	slirp_input(s->slirp, p, (int)len);
	kick(s);                   /* new sockets to watch, frames to announce */
	return 0;
}

static ssize_t ns_recv(void *be, const struct iovec *iov, unsigned iovcnt)
{
	struct net_slirp *s = be;
	struct frame *f = s->head;

	if (!f)
		return 0;
	s->head = f->next;
	if (!s->head)
		s->tailp = &s->head;
	s->qlen--;
	s->qbytes -= f->len;
	if (s->paused && !queue_full(s))
		kick(s);               /* room again: watch input */

	ssize_t r = (ssize_t)f->len;
	if (f->len > iov_room(iov, iovcnt)) {
		s->stats.rx_oversize++;
		r = -EMSGSIZE;
	} else {
		const uint8_t *src = f->data;
		size_t left = f->len;
		for (unsigned i = 0; i < iovcnt && left; i++) {
			size_t c = iov[i].iov_len < left ? iov[i].iov_len : left;
			memcpy(iov[i].iov_base, src, c);
			src += c;
			left -= c;
		}
	}
	free(f);
	return r;
}

static void ns_rx_enable(void *be, bool on)
{
	struct net_slirp *s = be;

	if (s->rx_on == on)
		return;
	s->rx_on = on;
	/* On: announce waiting frames from the next dispatch. */
	if (on && s->qlen) {
		s->rx_notify = true;
		kick(s);
	}
}

static int ns_attach(void *be, struct evloop *loop, const struct net_backend_host *host)
{
	struct net_slirp *s = be;

	if (s->loop)
		return -EBUSY;
	s->host = *host;
	s->rx_on = false;
	int r = evloop_add(loop, s->epfd, EPOLLIN, dispatch, s);
	if (r)
		return r;
	r = evloop_add(loop, s->tfd, EPOLLIN, dispatch, s);
	if (r) {
		evloop_del(loop, s->epfd);
		return r;
	}
	s->loop = loop;
	fill(s);
	return 0;
}

static void ns_detach(void *be)
{
	struct net_slirp *s = be;

	if (!s->loop)
		return;
	evloop_del(s->loop, s->epfd);
	evloop_del(s->loop, s->tfd);
	s->loop = NULL;
	s->rx_on = false;
}

static void ns_close(void *be)
{
	struct net_slirp *s = be;

	if (!s)
		return;
	ns_detach(s);
	if (s->slirp)
		slirp_cleanup(s->slirp);   /* closes sockets, frees its timers */
	while (s->timers)
		cb_timer_free(s->timers, s);
	while (s->head) {
		struct frame *f = s->head;
		s->head = f->next;
		free(f);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s->polls);
	free(s->fds);
	free(s->txbuf);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.send = ns_send,
	.recv = ns_recv,
	.rx_enable = ns_rx_enable,
	.set_offloads = NULL,
	.attach = ns_attach,
	.detach = ns_detach,
	.close = ns_close,
};

void net_slirp_stats(const void *be, struct net_slirp_stats *st)
{
	const struct net_slirp *s = be;

	*st = s->stats;
	st->queued = s->qlen;
}

/* ---- Opening ---- */

static int check_config(const struct net_slirp_config *cfg, char *err, size_t errlen)
{
	if (cfg->nfwds > NET_SLIRP_MAX_FWDS || (cfg->nfwds && !cfg->fwds)) {
		snprintf(err, errlen, "user net: at most %d host forwards", NET_SLIRP_MAX_FWDS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->nfwds; i++) {
		const struct net_slirp_fwd *f = &cfg->fwds[i];
		if ((f->proto != NET_SLIRP_TCP && f->proto != NET_SLIRP_UDP) || !f->host_port ||
		    !f->guest_port) {
			snprintf(err, errlen, "user net: host forward %u: needs tcp or udp and "
				 "ports 1 to 65535", i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static void fwd_name(const struct net_slirp_fwd *f, struct in_addr host, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN] = "?";

	inet_ntop(AF_INET, &host, a, sizeof(a));
	snprintf(buf, len, "%s %s:%u -> guest port %u", f->proto == NET_SLIRP_UDP ? "udp" : "tcp",
		 a, f->host_port, f->guest_port);
}

/* slirp's UDP listeners set SO_REUSEADDR, so a second one on a taken port
 * would bind without complaint; a plain socket finds the conflict. */
static int probe_udp(struct in_addr host, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = host,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int add_forward(struct net_slirp *s, const struct net_slirp_fwd *f, char *err,
		       size_t errlen)
{
	struct in_addr host = f->host_addr;
	struct in_addr guest = { .s_addr = htonl(GUEST_ADDR) };
	bool udp = f->proto == NET_SLIRP_UDP;
	char name[96];
	int e = 0;

	fwd_name(f, host, name, sizeof(name));
	if (udp)
		e = -probe_udp(host, f->host_port);
	if (!e) {
		errno = 0;
		if (slirp_add_hostfwd(s->slirp, udp, host, f->host_port, guest, f->guest_port) == 0)
			return 0;
		e = errno ? errno : EADDRINUSE;
	}
	snprintf(err, errlen, "user net: host forward %s: %s", name,
		 e == EADDRINUSE ? "host port already in use" : strerror(e));
	return -e;
}

static int start_slirp(struct net_slirp *s, const struct net_slirp_config *cfg, char *err,
		       size_t errlen)
{
	SlirpConfig sc = {
		.version = 4,
		.restricted = 0,
		.in_enabled = true,
		.vnetwork = { htonl(NET_ADDR) },
		.vnetmask = { htonl(NET_MASK) },
		.vhost = { htonl(HOST_ADDR) },
		.in6_enabled = false,
		.vhostname = cfg->hostname,
		.vdhcp_start = { htonl(GUEST_ADDR) },
		.vnameserver = { htonl(DNS_ADDR) },
	};

	Slirp *sl = slirp_new(&sc, &slirp_cbs, s);
	if (!sl) {
		snprintf(err, errlen, "user net: libslirp %s refused to start",
			 slirp_version_string());
		return -EINVAL;
	}
	s->slirp = sl;
	for (unsigned i = 0; i < cfg->nfwds; i++) {
		int r = add_forward(s, &cfg->fwds[i], err, errlen);
		if (r)
			return r;
	}
	return 0;
}

int net_slirp_open(struct net_backend *out, const struct net_slirp_config *cfg,
		   char *err, size_t errlen)
{
	static const struct net_slirp_config none = { 0 };
	int r;

	*out = (struct net_backend){ .ops = &slirp_ops };
	if (!cfg)
		cfg = &none;
	r = check_config(cfg, err, errlen);
	if (r)
		return r;
	struct net_slirp *s = calloc(1, sizeof(*s));
	if (!s || !(s->txbuf = malloc(NET_MAX_FRAME))) {
		free(s);
		snprintf(err, errlen, "user net: out of memory");
		return -ENOMEM;
	}
	s->tailp = &s->head;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epfd < 0 || s->tfd < 0) {
		r = -errno;
		snprintf(err, errlen, "user net: %s: %s", s->epfd < 0 ? "epoll" : "timerfd",
			 strerror(-r));
		goto fail;
	}
	r = start_slirp(s, cfg, err, errlen);
	if (r)
		goto fail;
	fill(s);
	out->be = s;
	out->hdr_len = 0;
	out->features = 0;
	snprintf(out->name, sizeof(out->name), "user");
	return 0;
fail:
	ns_close(s);
	return r;
}

#include "virtio/backend/net_tap.h"
#include "virtio/backend/net_backend.h"

#include "vmm/base/evloop.h"
#include "vmm/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Room for the largest frame the kernel can hand over, and one byte more
 * so that anything larger shows as too long rather than fitting exactly. */
#define TAP_BUF_LEN (NET_VNET_HDR_LEN + NET_MAX_FRAME + 1)

#define TAP_FEATURES ((1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) | \
		      (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) | \
		      (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6))

struct net_tap {
	int fd;
	char name[IFNAMSIZ];
	struct evloop *loop;          /* set while attached */
	struct net_backend_host host;
	bool rx_on;                   /* the device wants frames */
	bool tx_wait;                 /* send returned -EAGAIN: watch EPOLLOUT */
	bool broken;                  /* the interface went away under us */
	uint8_t *buf;                 /* TAP_BUF_LEN: reads into small iovecs */
	struct net_tap_stats stats;
};

/* ---- Opening ---- */

static bool valid_name(const char *n)
{
	size_t len = strnlen(n, IFNAMSIZ);

	if (len == 0 || len >= IFNAMSIZ || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	/* '%' would let the kernel pick the name: mote wants the one asked for. */
	return strcspn(n, "/:% \t\n") == len;
}

/* The interface's TUN/TAP flags from sysfs: 1 and *flags set, 0 if the
 * interface is of another kind, -ENODEV if there is none. */
static int tun_flags(const char *name, unsigned *flags)
{
	char path[64 + IFNAMSIZ];
	unsigned v;

	if (if_nametoindex(name) == 0)
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int n = fscanf(f, "%x", &v);
	fclose(f);
	if (n != 1)
		return 0;
	*flags = v;
	return 1;
}

/* create false: the interface must exist and be a single-queue TAP. */
static int check_existing(const char *name, char *err, size_t errlen)
{
	unsigned flags = 0;
	int r = tun_flags(name, &flags);

	if (r == -ENODEV) {
		snprintf(err, errlen, "tap %s: no such device (create it with \"ip tuntap add %s "
			 "mode tap\", or ask mote to create it)", log_str(name).s, log_str(name).s);
		return -ENODEV;
	}
	if (r == 0 || (flags & IFF_TUN)) {
		snprintf(err, errlen, "tap %s: not a TAP device (%s)", log_str(name).s,
			 r ? "it is a TUN device; create it with \"mode tap\"" :
			 "a network interface of another kind");
		return -EINVAL;
	}
	if (flags & IFF_MULTI_QUEUE) {
		snprintf(err, errlen, "tap %s: a multiqueue TAP (mote needs a single-queue one; "
			 "recreate it without \"multi_queue\")", log_str(name).s);
		return -EINVAL;
	}
	return 0;
}

static int setiff_error(const char *name, int e, char *err, size_t errlen)
{
	switch (e) {
	case EBUSY:
		snprintf(err, errlen, "tap %s: busy (another process has it open)", log_str(name).s);
		break;
	case EPERM:
	case EACCES:
		snprintf(err, errlen, "tap %s: permission denied (mote needs CAP_NET_ADMIN, or a "
			 "TAP made for this user: \"ip tuntap add %s mode tap user $USER\")",
			 log_str(name).s, log_str(name).s);
		break;
	case EINVAL:
		snprintf(err, errlen, "tap %s: the kernel refused it as a TAP (a TUN or a "
			 "multiqueue device of that name?)", log_str(name).s);
		break;
	default:
		snprintf(err, errlen, "tap %s: TUNSETIFF: %s", log_str(name).s, strerror(e));
	}
	return -e;
}

static int open_tun(const char *name, char *err, size_t errlen)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	int e = errno;
	if (e == ENOENT || e == ENODEV || e == ENXIO)
		snprintf(err, errlen, "tap %s: /dev/net/tun is missing (load the tun module: "
			 "modprobe tun)", log_str(name).s);
	else
		snprintf(err, errlen, "tap %s: cannot open /dev/net/tun: %s", log_str(name).s, strerror(e));
	return -e;
}

/* TUNSETIFF, then make sure the attach did what was asked: a persistent
 * device existed before (create false), a non-persistent one is ours
 * (create true). This closes the gap between the existence check and the
 * ioctl, in which the kernel would silently create or reuse a device. */
static int attach_iff(int fd, const char *name, bool create, char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_ONE_QUEUE };

	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return setiff_error(name, errno, err, errlen);
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		int e = errno;
		snprintf(err, errlen, "tap %s: TUNGETIFF: %s", log_str(name).s, strerror(e));
		return -e;
	}
	bool persistent = ifr.ifr_flags & IFF_PERSIST;
	if (create && persistent) {
		snprintf(err, errlen, "tap %s: a network interface with that name already exists "
			 "(remove it, or use it without asking mote to create it)", log_str(name).s);
		return -EEXIST;
	}
	if (!create && !persistent) {
		snprintf(err, errlen, "tap %s: no such device (it disappeared while mote opened it)",
			 log_str(name).s);
		return -ENODEV;
	}
	return 0;
}

static int setup_vnet(int fd, const char *name, char *err, size_t errlen)
{
	int hdr = NET_VNET_HDR_LEN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		int e = errno;
		snprintf(err, errlen, "tap %s: TUNSETVNETHDRSZ: %s", log_str(name).s, strerror(e));
		return -e;
	}
	/* No offloads until the guest negotiates them: a persistent TAP may
	 * still carry a previous user's. */
	if (ioctl(fd, TUNSETOFFLOAD, 0ul) < 0) {
		int e = errno;
		snprintf(err, errlen, "tap %s: TUNSETOFFLOAD: %s", log_str(name).s, strerror(e));
		return -e;
	}
	return 0;
}

/* ---- Event loop ---- */

static void update_events(struct net_tap *t)
{
	uint32_t ev = 0;

	if (!t->loop)
		return;
	if (!t->broken) {
		ev |= t->rx_on ? EPOLLIN : 0;
		ev |= t->tx_wait ? EPOLLOUT : 0;
	}
	evloop_mod(t->loop, t->fd, ev);
}

static void tap_event(void *opaque, uint32_t events)
{
	struct net_tap *t = opaque;

	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & (EPOLLIN | EPOLLOUT))) {
		/* The interface was deleted: nothing will come; stop watching
		 * so the level-triggered loop does not spin. Sends now fail
		 * and are counted as drops. */
		t->broken = true;
		update_events(t);
		return;
	}
	if ((events & EPOLLOUT) && t->tx_wait) {
		t->tx_wait = false;
		update_events(t);
		t->host.tx_ready(t->host.opaque);
	}
	if ((events & EPOLLIN) && t->rx_on)
		t->host.rx_ready(t->host.opaque);
}

/* ---- Operations ---- */

static int tap_send(void *be, const struct iovec *iov, unsigned iovcnt)
{
	struct net_tap *t = be;
	ssize_t n;

	do
		n = writev(t->fd, iov, (int)iovcnt);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return 0;
	if (errno == EAGAIN) {
		if (!t->tx_wait) {
			t->tx_wait = true;
			update_events(t);
		}
		return -EAGAIN;
	}
	/* Refused (malformed header, interface down, ...): lost as on a wire. */
	t->stats.tx_dropped++;
	return 0;
}

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

static void copy_to_iov(const struct iovec *iov, unsigned iovcnt, const uint8_t *src, size_t len)
{
	for (unsigned i = 0; i < iovcnt && len; i++) {
		size_t c = iov[i].iov_len < len ? iov[i].iov_len : len;
		memcpy(iov[i].iov_base, src, c);
		src += c;
		len -= c;
	}
}

/* A read that returns 0 when nothing waits and -errno on failure. */
static ssize_t read_frame(int fd, const struct iovec *iov, unsigned iovcnt)
{
	ssize_t n;

	do
		n = readv(fd, iov, (int)iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

static ssize_t tap_recv(void *be, const struct iovec *iov, unsigned iovcnt)
{
	struct net_tap *t = be;
	size_t room = iov_room(iov, iovcnt);

	/* Room for any frame: read straight into the caller's buffers; no
	 * frame can be cut then. (tun truncates a frame that does not fit
	 * and returns the truncated length, so a short read cannot tell.) */
	if (room >= TAP_BUF_LEN - 1) {
		ssize_t n = read_frame(t->fd, iov, iovcnt);
		if (n > 0 && (size_t)n > room) {
			t->stats.rx_oversize++;
			return -EMSGSIZE;
		}
		return n;
	}
	/* Less room: read into our buffer, which takes any frame whole, so
	 * an oversized frame is detected instead of silently cut. */
	struct iovec whole = { .iov_base = t->buf, .iov_len = TAP_BUF_LEN };
	ssize_t n = read_frame(t->fd, &whole, 1);
	if (n <= 0)
		return n;
	if ((size_t)n > room || n >= TAP_BUF_LEN) {
		t->stats.rx_oversize++;
		return -EMSGSIZE;
	}
	copy_to_iov(iov, iovcnt, t->buf, (size_t)n);
	return n;
}

static void tap_rx_enable(void *be, bool on)
{
	struct net_tap *t = be;

	if (t->rx_on == on)
		return;
	t->rx_on = on;
	update_events(t);
}

static int tap_set_offloads(void *be, uint64_t guest_features)
{
	struct net_tap *t = be;
	unsigned long flags = 0;

	/* Segmentation offloads need checksum offload (TUNSETOFFLOAD refuses
	 * TSO without CSUM, and the guest cannot take it either). */
	if (guest_features & (1ull << VIRTIO_NET_F_GUEST_CSUM)) {
		flags |= TUN_F_CSUM;
		if (guest_features & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			flags |= TUN_F_TSO4;
		if (guest_features & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			flags |= TUN_F_TSO6;
		if (guest_features & (1ull << VIRTIO_NET_F_GUEST_UFO))
			flags |= TUN_F_UFO;
	}
	return ioctl(t->fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}

static int tap_attach(void *be, struct evloop *loop, const struct net_backend_host *host)
{
	struct net_tap *t = be;

	if (t->loop)
		return -EBUSY;
	t->host = *host;
	t->rx_on = false;
	t->tx_wait = false;
	int r = evloop_add(loop, t->fd, 0, tap_event, t);
	if (r)
		return r;
	t->loop = loop;
	return 0;
}

static void tap_detach(void *be)
{
	struct net_tap *t = be;

	if (!t->loop)
		return;
	evloop_del(t->loop, t->fd);
	t->loop = NULL;
	t->rx_on = false;
	t->tx_wait = false;
}

static void tap_close(void *be)
{
	struct net_tap *t = be;

	if (!t)
		return;
	tap_detach(t);
	if (t->fd >= 0)
		close(t->fd);
	free(t->buf);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.recv = tap_recv,
	.rx_enable = tap_rx_enable,
	.set_offloads = tap_set_offloads,
	.attach = tap_attach,
	.detach = tap_detach,
	.close = tap_close,
};

void net_tap_stats(const void *be, struct net_tap_stats *st)
{
	const struct net_tap *t = be;

	*st = t->stats;
}

int net_tap_open(struct net_backend *out, const char *ifname, bool create,
		 char *err, size_t errlen)
{
	*out = (struct net_backend){ .ops = &tap_ops };
	if (!ifname || !valid_name(ifname)) {
		snprintf(err, errlen, "tap %s: invalid interface name (1 to %d characters, no "
			 "'/', ':', '%%' or spaces)", ifname ? ifname : "(none)", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (create && if_nametoindex(ifname) != 0) {
		snprintf(err, errlen, "tap %s: a network interface with that name already exists "
			 "(remove it, or use it without asking mote to create it)", log_str(ifname).s);
		return -EEXIST;
	}
	int r = create ? 0 : check_existing(ifname, err, errlen);
	if (r)
		return r;

	struct net_tap *t = calloc(1, sizeof(*t));
	if (!t || !(t->buf = malloc(TAP_BUF_LEN))) {
		free(t);
		snprintf(err, errlen, "tap %s: out of memory", log_str(ifname).s);
		return -ENOMEM;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifname);
	t->fd = open_tun(ifname, err, errlen);
	if (t->fd < 0) {
		r = t->fd;
		goto fail;
	}
	r = attach_iff(t->fd, ifname, create, err, errlen);
	if (!r)
		r = setup_vnet(t->fd, ifname, err, errlen);
	if (r)
		goto fail;
	out->be = t;
	out->hdr_len = NET_VNET_HDR_LEN;
	out->features = TAP_FEATURES;
	snprintf(out->name, sizeof(out->name), "%s", ifname);
	return 0;
fail:
	tap_close(t);
	return r;
}

/* Unit tests for virtio/backend/net_tap.c and net_mac.c, on real TAP
 * interfaces: they need root (CAP_NET_ADMIN) and /dev/net/tun, and fail,
 * not skip, without them. Every interface is named mtNNNNNN... after the
 * test's pid and stays on this machine: frames go between the backend and
 * a packet socket bound to the same TAP, which is connected to nothing. */
#include "virtio/backend/net_backend.h"
#include "virtio/backend/net_mac.h"
#include "virtio/backend/net_tap.h"
#include "vmm/base/evloop.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define ETHERTYPE_TEST 0x88b5      /* IEEE local experimental */
#define ERRLEN 256

static void tap_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "mt%s%d", tag, (int)(getpid() % 1000000));
}

static bool exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

/* A persistent TUN/TAP made the way "ip tuntap add" makes it (on) or
 * removed (off). */
static void persist(const char *name, short kind, bool on)
{
	struct ifreq ifr = { .ifr_flags = kind | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	ck_assert_int_eq(ioctl(fd, TUNSETPERSIST, on ? 1 : 0), 0);
	close(fd);
}

/* Up, without IPv6: no router solicitations or MLD reports then, so the
 * only frames on the TAP are the test's. */
static void link_up(const char *name)
{
	struct ifreq ifr = { 0 };
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	FILE *f = fopen(path, "we");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

/* ---- The event loop, run briefly ---- */

struct host_calls {
	unsigned rx_ready, tx_ready;
	struct evloop *loop;
};

static void on_rx_ready(void *opaque)
{
	struct host_calls *h = opaque;

	h->rx_ready++;
	evloop_stop(h->loop);
}

static void on_tx_ready(void *opaque)
{
	((struct host_calls *)opaque)->tx_ready++;
}

static void on_deadline(void *opaque, uint32_t events)
{
	evloop_stop(opaque);
}

/* Run loop until a handler stops it or ms pass. */
static void run_for(struct evloop *loop, unsigned ms)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000 } };

	ck_assert_int_ge(tfd, 0);
	ck_assert_int_eq(timerfd_settime(tfd, 0, &its, NULL), 0);
	ck_assert_int_eq(evloop_add(loop, tfd, EPOLLIN, on_deadline, loop), 0);
	loop->stopping = false;     /* evloop_stop() latches; run again */
	ck_assert_int_eq(evloop_run(loop), 0);
	evloop_del(loop, tfd);
	close(tfd);
}

/* recv, passing over frames that are not the test's (should the host
 * send anything on the TAP after all). */
static ssize_t recv_test(struct net_backend *nb, const struct iovec *iov, unsigned n,
			 const uint8_t *ethertype_at)
{
	for (;;) {
		ssize_t r = nb->ops->recv(nb->be, iov, n);
		if (r <= 0 || (ethertype_at[0] == ETHERTYPE_TEST >> 8 &&
			       ethertype_at[1] == (ETHERTYPE_TEST & 0xff)))
			return r;
	}
}

/* ---- Tests ---- */

START_TEST(create_and_vanish)
{
	struct net_backend nb;
	char name[IFNAMSIZ], err[ERRLEN] = "";

	tap_name(name, sizeof(name), "c");
	ck_assert(!exists(name));
	ck_assert_msg(net_tap_open(&nb, name, true, err, sizeof(err)) == 0, "%s", err);
	ck_assert(exists(name));
	ck_assert_str_eq(nb.name, name);
	ck_assert_uint_eq(nb.hdr_len, NET_VNET_HDR_LEN);
	ck_assert_uint_eq(nb.features, (1ull << VIRTIO_NET_F_CSUM) |
			  (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_HOST_TSO4) |
			  (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
			  (1ull << VIRTIO_NET_F_GUEST_TSO6));
	nb.ops->close(nb.be);
	ck_assert_msg(!exists(name), "%s outlived its fd", name);
}
END_TEST

START_TEST(missing_without_create)
{
	struct net_backend nb;
	char name[IFNAMSIZ], err[ERRLEN] = "", want[ERRLEN];

	tap_name(name, sizeof(name), "m");
	ck_assert_int_eq(net_tap_open(&nb, name, false, err, sizeof(err)), -ENODEV);
	snprintf(want, sizeof(want), "tap %s: no such device (create it with \"ip tuntap add %s "
		 "mode tap\", or ask mote to create it)", name, name);
	ck_assert_str_eq(err, want);
	ck_assert(!exists(name));
	nb.ops->close(nb.be);       /* safe after a failed open */
}
END_TEST

START_TEST(create_refuses_existing)
{
	struct net_backend a, b;
	char name[IFNAMSIZ], err[ERRLEN] = "";

	tap_name(name, sizeof(name), "e");
	ck_assert_msg(net_tap_open(&a, name, true, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(net_tap_open(&b, name, true, err, sizeof(err)), -EEXIST);
	ck_assert_msg(strstr(err, "already exists") && strstr(err, name), "%s", err);
	/* Opening mote's own (in use) TAP without create: busy. */
	ck_assert_int_eq(net_tap_open(&b, name, false, err, sizeof(err)), -EBUSY);
	ck_assert_str_eq(err + strlen("tap ") + strlen(name), ": busy (another process has it open)");
	a.ops->close(a.be);
	ck_assert(!exists(name));
	/* Any interface counts: lo is not ours to create. */
	ck_assert_int_eq(net_tap_open(&b, "lo", true, err, sizeof(err)), -EEXIST);
}
END_TEST

START_TEST(persistent_tap)
{
	struct net_backend a, b;
	char name[IFNAMSIZ], err[ERRLEN] = "";

	tap_name(name, sizeof(name), "p");
	persist(name, IFF_TAP, true);
	int r = net_tap_open(&a, name, false, err, sizeof(err));
	if (r == 0) {
		ck_assert_int_eq(net_tap_open(&b, name, false, err, sizeof(err)), -EBUSY);
		ck_assert_int_eq(net_tap_open(&b, name, true, err, sizeof(err)), -EEXIST);
		a.ops->close(a.be);
	}
	ck_assert_msg(exists(name), "a persistent TAP must outlive mote");
	persist(name, IFF_TAP, false);
	ck_assert_msg(r == 0, "%s", err);
	ck_assert(!exists(name));
}
END_TEST

START_TEST(not_a_tap)
{
	struct net_backend nb;
	char name[IFNAMSIZ], err[ERRLEN] = "";

	ck_assert_int_eq(net_tap_open(&nb, "lo", false, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "tap lo: not a TAP device (a network interface of another kind)");

	tap_name(name, sizeof(name), "u");
	persist(name, IFF_TUN, true);
	int r = net_tap_open(&nb, name, false, err, sizeof(err));
	persist(name, IFF_TUN, false);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(err, "not a TAP device") && strstr(err, "TUN"), "%s", err);

	ck_assert_int_eq(net_tap_open(&nb, "", true, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(net_tap_open(&nb, "a/b", true, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(net_tap_open(&nb, "tap%d", true, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(net_tap_open(&nb, "waytoolongname16", true, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "invalid interface name"), "%s", err);
}
END_TEST

START_TEST(offloads)
{
	struct net_backend nb;
	char name[IFNAMSIZ], err[ERRLEN] = "";
	const uint64_t csum = 1ull << VIRTIO_NET_F_GUEST_CSUM;

	tap_name(name, sizeof(name), "o");
	ck_assert_msg(net_tap_open(&nb, name, true, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nb.ops->set_offloads(nb.be, csum), 0);
	ck_assert_int_eq(nb.ops->set_offloads(nb.be, csum | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
					      (1ull << VIRTIO_NET_F_GUEST_TSO6)), 0);
	/* TUN_F_UFO is still accepted (and ignored for receive) by Linux. */
	ck_assert_int_eq(nb.ops->set_offloads(nb.be, csum | (1ull << VIRTIO_NET_F_GUEST_UFO)), 0);
	/* TSO without checksum offload is never asked of the kernel. */
	ck_assert_int_eq(nb.ops->set_offloads(nb.be, 1ull << VIRTIO_NET_F_GUEST_TSO4), 0);
	ck_assert_int_eq(nb.ops->set_offloads(nb.be, 0), 0);
	nb.ops->close(nb.be);
}
END_TEST

/* A packet socket on the TAP: what the backend sends arrives there, what
 * it sends reaches the backend. */
static int packet_socket(const char *name)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE_TEST));
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE_TEST),
				  .sll_ifindex = (int)if_nametoindex(name) };

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return s;
}

static size_t test_frame(uint8_t *buf, size_t len, uint8_t fill)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 1 }, src[6] = { 0x02, 0, 0, 0, 0, 2 };

	memset(buf, fill, len);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = ETHERTYPE_TEST >> 8;
	buf[13] = ETHERTYPE_TEST & 0xff;
	return len;
}

START_TEST(traffic)
{
	struct net_backend nb;
	struct evloop loop;
	struct host_calls calls = { .loop = &loop };
	struct net_backend_host host = { on_rx_ready, on_tx_ready, &calls };
	char name[IFNAMSIZ], err[ERRLEN] = "";
	uint8_t hdr[NET_VNET_HDR_LEN] = { 0 }, frame[1000], got[2048];

	tap_name(name, sizeof(name), "t");
	ck_assert_msg(net_tap_open(&nb, name, true, err, sizeof(err)) == 0, "%s", err);
	link_up(name);
	int ps = packet_socket(name);
	ck_assert_int_eq(evloop_init(&loop), 0);
	ck_assert_int_eq(nb.ops->attach(nb.be, &loop, &host), 0);

	/* Guest to host: a vnet header with no offload, then the frame. */
	size_t len = test_frame(frame, 200, 0xab);
	struct iovec out[2] = { { hdr, sizeof(hdr) }, { frame, len } };
	ck_assert_int_eq(nb.ops->send(nb.be, out, 2), 0);
	struct pollfd pfd = { .fd = ps, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	ck_assert_int_eq(recv(ps, got, sizeof(got), 0), (ssize_t)len);
	ck_assert_mem_eq(got, frame, len);

	/* Host to guest, with input off: nothing is announced. */
	len = test_frame(frame, 300, 0xcd);
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(name),
				  .sll_halen = 6 };
	ck_assert_int_eq(sendto(ps, frame, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
	run_for(&loop, 50);
	ck_assert_uint_eq(calls.rx_ready, 0);
	/* Input on: announced; read into scattered, smaller-than-max room. */
	nb.ops->rx_enable(nb.be, true);
	run_for(&loop, 2000);
	ck_assert_uint_eq(calls.rx_ready, 1);
	uint8_t rhdr[NET_VNET_HDR_LEN];
	struct iovec in[3] = { { rhdr, 5 }, { rhdr + 5, sizeof(rhdr) - 5 }, { got, sizeof(got) } };
	ck_assert_int_eq(recv_test(&nb, in, 3, got + 12), (ssize_t)(NET_VNET_HDR_LEN + len));
	ck_assert_mem_eq(got, frame, len);
	ck_assert_uint_eq(rhdr[0], 0);        /* flags: no partial checksum */
	ck_assert_uint_eq(rhdr[1], 0);        /* gso_type: none */
	ck_assert_int_eq(recv_test(&nb, in, 3, got + 12), 0);

	/* A frame larger than the room is reported and dropped, not cut. */
	ck_assert_int_eq(sendto(ps, frame, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
	ck_assert_int_eq(poll(&(struct pollfd){ .fd = ps, .events = 0 }, 1, 0), 0);
	calls.rx_ready = 0;
	run_for(&loop, 2000);
	ck_assert_uint_eq(calls.rx_ready, 1);
	struct iovec small = { got, 100 };
	ck_assert_int_eq(nb.ops->recv(nb.be, &small, 1), -EMSGSIZE);
	ck_assert_int_eq(nb.ops->recv(nb.be, &small, 1), 0);
	struct net_tap_stats st;
	net_tap_stats(nb.be, &st);
	ck_assert_uint_eq(st.rx_oversize, 1);

	/* Room for any frame: read straight into it. */
	ck_assert_int_eq(sendto(ps, frame, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
	static uint8_t big[NET_VNET_HDR_LEN + NET_MAX_FRAME];
	struct iovec whole = { big, sizeof(big) };
	calls.rx_ready = 0;
	run_for(&loop, 2000);
	ck_assert_int_eq(recv_test(&nb, &whole, 1, big + NET_VNET_HDR_LEN + 12),
			 (ssize_t)(NET_VNET_HDR_LEN + len));
	ck_assert_mem_eq(big + NET_VNET_HDR_LEN, frame, len);

	/* A frame the kernel refuses (a header announcing a bogus GSO type)
	 * is dropped and counted, not an error. */
	hdr[1] = 0x55;
	ck_assert_int_eq(nb.ops->send(nb.be, out, 2), 0);
	net_tap_stats(nb.be, &st);
	ck_assert_uint_eq(st.tx_dropped, 1);

	nb.ops->detach(nb.be);
	nb.ops->close(nb.be);
	evloop_release(&loop);
	close(ps);
	ck_assert(!exists(name));
}
END_TEST

START_TEST(mac_addresses)
{
	uint8_t a[6], b[6], c[6];

	net_mac_generate(a, "vm-1/eth0");
	net_mac_generate(b, "vm-1/eth0");
	net_mac_generate(c, "vm-1/eth1");
	ck_assert_mem_eq(a, b, 6);
	ck_assert(memcmp(a, c, 6) != 0);
	for (int i = 0; i < 64; i++) {
		char seed[32];
		snprintf(seed, sizeof(seed), "vm-%d", i);
		net_mac_generate(a, seed);
		ck_assert_uint_eq(a[0] & 0x01, 0);   /* unicast */
		ck_assert_uint_eq(a[0] & 0x02, 2);   /* locally administered */
	}
	net_mac_generate(a, NULL);
	ck_assert_uint_eq(a[0] & 0x03, 2);
}
END_TEST

int main(void)
{
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		fprintf(stderr, "test_net_tap: needs root and /dev/net/tun (TAP interfaces are "
			"created); refusing to pass without testing\n");
		return EXIT_FAILURE;
	}
	Suite *s = suite_create("net_tap");
	TCase *tc = tcase_create("tap");

	tcase_add_test(tc, create_and_vanish);
	tcase_add_test(tc, missing_without_create);
	tcase_add_test(tc, create_refuses_existing);
	tcase_add_test(tc, persistent_tap);
	tcase_add_test(tc, not_a_tap);
	tcase_add_test(tc, offloads);
	tcase_add_test(tc, traffic);
	tcase_add_test(tc, mac_addresses);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

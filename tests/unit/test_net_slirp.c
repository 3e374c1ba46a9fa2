/* Unit tests for virtio/backend/net_slirp.c: a user-mode stack on a real
 * event loop, fed frames a guest would send (ARP, DHCP) and checked for
 * its answers. Host forwards listen on 127.0.0.1 only; no frame leaves
 * the stack and nothing outside this machine is addressed. */
#include "virtio/backend/net_backend.h"
#include "virtio/backend/net_slirp.h"
#include "vmm/base/evloop.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define ERRLEN 256

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t slirp_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

/* ---- The event loop, run briefly ---- */

struct fixture {
	struct net_backend nb;
	struct evloop loop;
	unsigned rx_ready;
};

static void on_rx_ready(void *opaque)
{
	struct fixture *f = opaque;

	f->rx_ready++;
	evloop_stop(&f->loop);
}

static void on_tx_ready(void *opaque)
{
}

static void on_deadline(void *opaque, uint32_t events)
{
	evloop_stop(opaque);
}

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

static void open_attached(struct fixture *f, const struct net_slirp_config *cfg)
{
	char err[ERRLEN] = "";
	struct net_backend_host host = { on_rx_ready, on_tx_ready, f };

	memset(f, 0, sizeof(*f));
	ck_assert_msg(net_slirp_open(&f->nb, cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(f->nb.hdr_len, 0);
	ck_assert_uint_eq(f->nb.features, 0);
	ck_assert_ptr_null(f->nb.ops->set_offloads);
	ck_assert_int_eq(evloop_init(&f->loop), 0);
	ck_assert_int_eq(f->nb.ops->attach(f->nb.be, &f->loop, &host), 0);
}

static void close_attached(struct fixture *f)
{
	f->nb.ops->detach(f->nb.be);
	f->nb.ops->close(f->nb.be);
	evloop_release(&f->loop);
}

/* ---- Frames a guest would send ---- */

static size_t eth_header(uint8_t *p, const uint8_t *dst, uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, guest_mac, 6);
	p[12] = type >> 8;
	p[13] = type & 0xff;
	return 14;
}

/* "Who has 10.0.2.2? Tell 10.0.2.15", padded to the 60-byte minimum. */
static size_t arp_request(uint8_t *p)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1,
					 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
					 0, 0, 0, 0, 0, 0, 10, 0, 2, 2 };

	memset(p, 0, 60);
	size_t n = eth_header(p, bcast, 0x0806);
	memcpy(p + n, arp, sizeof(arp));
	return 60;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A DHCPDISCOVER from 0.0.0.0:68 to 255.255.255.255:67 (no UDP checksum). */
static size_t dhcp_discover(uint8_t *p, uint32_t xid)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const size_t bootp = 236 + 4 + 3 + 1, udp = 8 + bootp, ip = 20 + udp;

	memset(p, 0, 14 + ip);
	size_t n = eth_header(p, bcast, 0x0800);
	uint8_t *iph = p + n, *udph = iph + 20, *b = udph + 8;
	iph[0] = 0x45;
	iph[2] = (uint8_t)(ip >> 8);
	iph[3] = (uint8_t)ip;
	iph[8] = 64;                       /* TTL */
	iph[9] = 17;                       /* UDP */
	memset(iph + 16, 0xff, 4);         /* to 255.255.255.255, from 0.0.0.0 */
	uint16_t c = ip_checksum(iph, 20);
	iph[10] = c >> 8;
	iph[11] = c & 0xff;
	udph[1] = 68;
	udph[3] = 67;
	udph[4] = (uint8_t)(udp >> 8);
	udph[5] = (uint8_t)udp;
	b[0] = 1;                          /* BOOTREQUEST */
	b[1] = 1;                          /* Ethernet */
	b[2] = 6;
	memcpy(b + 4, &xid, 4);
	memcpy(b + 28, guest_mac, 6);      /* chaddr */
	static const uint8_t tail[] = { 99, 130, 83, 99, 53, 1, 1, 255 };
	memcpy(b + 236, tail, sizeof(tail));
	return 14 + ip;
}

/* Run the loop until the backend announces frames, then take one. */
static ssize_t next_frame(struct fixture *f, uint8_t *buf, size_t len)
{
	struct iovec iov = { buf, len };
	ssize_t r = f->nb.ops->recv(f->nb.be, &iov, 1);

	for (int i = 0; i < 20 && r == 0; i++) {
		run_for(&f->loop, 100);
		r = f->nb.ops->recv(f->nb.be, &iov, 1);
	}
	return r;
}

static void send_frame(struct fixture *f, const uint8_t *p, size_t len)
{
	/* Scattered, as the device hands frames over. */
	struct iovec iov[2] = { { (void *)p, 10 }, { (void *)(p + 10), len - 10 } };

	ck_assert_int_eq(f->nb.ops->send(f->nb.be, iov, 2), 0);
}

static uint16_t free_port(int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	return ntohs(sa.sin_port);
}

static void check_arp_reply(const uint8_t *p, ssize_t n)
{
	ck_assert_int_ge(n, 42);
	ck_assert_mem_eq(p, guest_mac, 6);
	ck_assert_mem_eq(p + 6, slirp_mac, 6);
	ck_assert_uint_eq(p[12], 0x08);
	ck_assert_uint_eq(p[13], 0x06);
	ck_assert_uint_eq(p[21], 2);                          /* reply */
	ck_assert_mem_eq(p + 28, ((uint8_t[]){ 10, 0, 2, 2 }), 4);
	ck_assert_mem_eq(p + 38, ((uint8_t[]){ 10, 0, 2, 15 }), 4);
}

/* ---- Tests ---- */

START_TEST(arp_and_dhcp)
{
	struct fixture f;
	uint8_t out[400], in[2048];

	open_attached(&f, NULL);
	ck_assert_str_eq(f.nb.name, "user");
	f.nb.ops->rx_enable(f.nb.be, true);

	/* The answer is queued at once and announced from the loop. */
	send_frame(&f, out, arp_request(out));
	ck_assert_uint_eq(f.rx_ready, 0);
	run_for(&f.loop, 2000);
	ck_assert_uint_eq(f.rx_ready, 1);
	ssize_t n = next_frame(&f, in, sizeof(in));
	check_arp_reply(in, n);

	uint32_t xid = 0x4d4f5445;
	send_frame(&f, out, dhcp_discover(out, xid));
	n = next_frame(&f, in, sizeof(in));
	ck_assert_int_ge(n, 14 + 20 + 8 + 240);
	ck_assert_uint_eq(in[23], 17);                        /* UDP */
	const uint8_t *b = in + 14 + 20 + 8;
	ck_assert_uint_eq(b[0], 2);                           /* BOOTREPLY */
	ck_assert_mem_eq(b + 4, &xid, 4);
	ck_assert_mem_eq(b + 16, ((uint8_t[]){ 10, 0, 2, 15 }), 4);   /* yiaddr */
	bool offer = false;
	for (size_t i = 240; i + 2 < (size_t)n - 42 && b[i] != 255; i += b[i] == 0 ? 1 : 2u + b[i + 1])
		if (b[i] == 53 && b[i + 2] == 2)
			offer = true;
	ck_assert_msg(offer, "no DHCPOFFER");
	close_attached(&f);
}
END_TEST

START_TEST(frame_too_large_for_room)
{
	struct fixture f;
	uint8_t out[64], in[64];

	open_attached(&f, NULL);
	send_frame(&f, out, arp_request(out));
	struct iovec tiny = { in, 10 };
	ck_assert_int_eq(f.nb.ops->recv(f.nb.be, &tiny, 1), -EMSGSIZE);
	ck_assert_int_eq(f.nb.ops->recv(f.nb.be, &tiny, 1), 0);
	/* Runts and giants from the guest are dropped and counted. */
	struct iovec runt = { out, 13 };
	ck_assert_int_eq(f.nb.ops->send(f.nb.be, &runt, 1), 0);
	struct net_slirp_stats st;
	net_slirp_stats(f.nb.be, &st);
	ck_assert_uint_eq(st.rx_oversize, 1);
	ck_assert_uint_eq(st.tx_dropped, 1);
	close_attached(&f);
}
END_TEST

START_TEST(forward_port_taken)
{
	struct net_backend a, b;
	char err[ERRLEN] = "", want[ERRLEN];
	struct net_slirp_fwd fwd = { .proto = NET_SLIRP_TCP, .host_addr = { htonl(INADDR_LOOPBACK) }, .host_port = free_port(SOCK_STREAM),
				     .guest_port = 80 };
	struct net_slirp_config cfg = { .fwds = &fwd, .nfwds = 1 };

	ck_assert_msg(net_slirp_open(&a, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(net_slirp_open(&b, &cfg, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want), "user net: host forward tcp 127.0.0.1:%u -> guest port 80: "
		 "host port already in use", fwd.host_port);
	ck_assert_str_eq(err, want);
	b.ops->close(b.be);        /* safe after a failed open */

	/* UDP: slirp's own sockets would share the port; refused too. */
	struct net_slirp_fwd u = { .proto = NET_SLIRP_UDP, .host_addr = { htonl(INADDR_LOOPBACK) }, .host_port = free_port(SOCK_DGRAM),
				   .guest_port = 53 };
	cfg = (struct net_slirp_config){ .fwds = &u, .nfwds = 1 };
	struct net_backend c;
	ck_assert_msg(net_slirp_open(&c, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(net_slirp_open(&b, &cfg, err, sizeof(err)), -EADDRINUSE);
	ck_assert_msg(strstr(err, "host forward udp 127.0.0.1:"), "%s", err);
	c.ops->close(c.be);
	a.ops->close(a.be);

	/* Closed: the port is free again. */
	ck_assert_msg(net_slirp_open(&a, &(struct net_slirp_config){ .fwds = &fwd, .nfwds = 1 },
				     err, sizeof(err)) == 0, "%s", err);
	a.ops->close(a.be);

	fwd.host_port = 0;
	ck_assert_int_eq(net_slirp_open(&a, &(struct net_slirp_config){ .fwds = &fwd, .nfwds = 1 },
					err, sizeof(err)), -EINVAL);
	a.ops->close(a.be);
}
END_TEST

/* A connection to a forwarded host port becomes a SYN to the guest. */
START_TEST(forward_reaches_guest)
{
	struct fixture f;
	struct net_slirp_fwd fwd = { .proto = NET_SLIRP_TCP, .host_addr = { htonl(INADDR_LOOPBACK) }, .host_port = free_port(SOCK_STREAM),
				     .guest_port = 8080 };
	uint8_t out[64], in[2048];

	open_attached(&f, &(struct net_slirp_config){ .fwds = &fwd, .nfwds = 1 });
	f.nb.ops->rx_enable(f.nb.be, true);
	send_frame(&f, out, arp_request(out));      /* slirp learns the guest's MAC */
	check_arp_reply(in, next_frame(&f, in, sizeof(in)));

	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(fwd.host_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_ge(c, 0);
	int r = connect(c, (struct sockaddr *)&sa, sizeof(sa));
	ck_assert(r == 0 || errno == EINPROGRESS);
	ssize_t n = next_frame(&f, in, sizeof(in));
	ck_assert_int_ge(n, 14 + 20 + 20);
	ck_assert_mem_eq(in, guest_mac, 6);
	ck_assert_uint_eq(in[23], 6);                          /* TCP */
	ck_assert_mem_eq(in + 30, ((uint8_t[]){ 10, 0, 2, 15 }), 4);
	const uint8_t *tcp = in + 14 + (in[14] & 0xf) * 4;
	ck_assert_uint_eq(tcp[2] << 8 | tcp[3], 8080);
	ck_assert_uint_eq(tcp[13] & 0x02, 0x02);              /* SYN */
	close(c);
	close_attached(&f);
}
END_TEST

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Input off: frames queue up to the bound, the rest are dropped, nothing
 * is announced, slirp's sockets are left unread (so nothing spins and no
 * datagram is lost), and all of it resumes when input is back on. */
START_TEST(bounded_queue_and_backpressure)
{
	struct fixture f;
	struct net_slirp_fwd fwd = { .proto = NET_SLIRP_UDP, .host_addr = { htonl(INADDR_LOOPBACK) }, .host_port = free_port(SOCK_DGRAM),
				     .guest_port = 5000 };
	uint8_t out[64], in[2048];
	struct net_slirp_stats st;

	open_attached(&f, &(struct net_slirp_config){ .fwds = &fwd, .nfwds = 1 });
	const unsigned extra = 44;
	for (unsigned i = 0; i < NET_SLIRP_QUEUE_FRAMES + extra; i++)
		send_frame(&f, out, arp_request(out));
	net_slirp_stats(f.nb.be, &st);
	ck_assert_uint_eq(st.queued, NET_SLIRP_QUEUE_FRAMES);
	ck_assert_uint_eq(st.rx_dropped, extra);

	/* A datagram for the guest waits in its host socket. */
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(fwd.host_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_ge(u, 0);
	ck_assert_int_eq(sendto(u, "hello", 5, 0, (struct sockaddr *)&sa, sizeof(sa)), 5);
	double cpu = cpu_seconds();
	run_for(&f.loop, 300);
	cpu = cpu_seconds() - cpu;
	ck_assert_uint_eq(f.rx_ready, 0);
	ck_assert_msg(cpu < 0.1, "the loop spun while paused: %.3f s of CPU in 0.3 s", cpu);
	net_slirp_stats(f.nb.be, &st);
	ck_assert_uint_eq(st.rx_dropped, extra);   /* the datagram was not read */

	f.nb.ops->rx_enable(f.nb.be, true);
	run_for(&f.loop, 2000);
	ck_assert_uint_eq(f.rx_ready, 1);
	for (unsigned i = 0; i < NET_SLIRP_QUEUE_FRAMES; i++)
		check_arp_reply(in, next_frame(&f, in, sizeof(in)));
	/* Then the datagram, read once there was room. */
	ssize_t n = next_frame(&f, in, sizeof(in));
	ck_assert_int_eq(n, 14 + 20 + 8 + 5);
	ck_assert_uint_eq(in[23], 17);
	ck_assert_mem_eq(in + 14 + 28, "hello", 5);
	close(u);
	close_attached(&f);
}
END_TEST

/* Idle, the stack wakes for its timers only (about once a second). */
START_TEST(idle_does_not_spin)
{
	struct fixture f;

	open_attached(&f, NULL);
	f.nb.ops->rx_enable(f.nb.be, true);
	double cpu = cpu_seconds();
	run_for(&f.loop, 500);
	cpu = cpu_seconds() - cpu;
	ck_assert_msg(cpu < 0.1, "idle loop used %.3f s of CPU in 0.5 s", cpu);
	close_attached(&f);
	/* Never attached: open and close alone are fine too. */
	char err[ERRLEN];
	struct net_backend nb;
	ck_assert_int_eq(net_slirp_open(&nb, NULL, err, sizeof(err)), 0);
	nb.ops->close(nb.be);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_slirp");
	TCase *tc = tcase_create("slirp");

	tcase_add_test(tc, arp_and_dhcp);
	tcase_add_test(tc, frame_too_large_for_room);
	tcase_add_test(tc, forward_port_taken);
	tcase_add_test(tc, forward_reaches_guest);
	tcase_add_test(tc, bounded_queue_and_backpressure);
	tcase_add_test(tc, idle_does_not_spin);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

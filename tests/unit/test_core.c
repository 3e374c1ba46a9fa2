/* Unit tests for the VMM core's pure parts: guest memory, buses, event loop. */
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/config/config.h"
#include "vmm/core/vcpu.h"
#include "vmm/core/vm.h"

#include <check.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <unistd.h>

static uint8_t lo[4096], hi[4096];

static void two_regions(struct gmem *m)
{
	memset(m, 0, sizeof(*m));
	ck_assert_int_eq(gmem_add(m, 0, sizeof(lo), lo), 0);
	ck_assert_int_eq(gmem_add(m, 0x100000000ull, sizeof(hi), hi), 0);
}

START_TEST(gmem_bounds)
{
	struct gmem m;
	two_regions(&m);
	ck_assert_ptr_eq(gmem_ptr(&m, 0, 4096), lo);
	ck_assert_ptr_eq(gmem_ptr(&m, 4095, 1), lo + 4095);
	ck_assert_ptr_null(gmem_ptr(&m, 4095, 2));
	ck_assert_ptr_eq(gmem_ptr(&m, 4096, 0), lo + 4096);
	ck_assert_ptr_null(gmem_ptr(&m, 4097, 0));
	ck_assert_ptr_null(gmem_ptr(&m, 8192, 1));            /* in no region */
	ck_assert_ptr_eq(gmem_ptr(&m, 0x100000010ull, 16), hi + 16);
	/* Wrap-around attempts. */
	ck_assert_ptr_null(gmem_ptr(&m, 16, UINT64_MAX));
	ck_assert_ptr_null(gmem_ptr(&m, UINT64_MAX, 2));
	ck_assert_ptr_null(gmem_ptr(&m, 0x100000010ull, UINT64_MAX - 8));
	ck_assert_uint_eq(gmem_total(&m), 8192);
	ck_assert_uint_eq(gmem_end(&m), 0x100001000ull);
}
END_TEST

START_TEST(gmem_add_rules)
{
	struct gmem m;
	two_regions(&m);
	ck_assert_int_eq(gmem_add(&m, 2048, 4096, hi), -EINVAL);   /* overlap */
	ck_assert_int_eq(gmem_add(&m, 1ull << 40, 0, hi), -EINVAL); /* empty */
	ck_assert_int_eq(gmem_add(&m, UINT64_MAX - 10, 100, hi), -EINVAL); /* wraps */
	ck_assert_int_eq(gmem_add(&m, 1ull << 40, 16, hi), 0);
	ck_assert_int_eq(gmem_add(&m, 1ull << 41, 16, hi), 0);
	ck_assert_int_eq(gmem_add(&m, 1ull << 42, 16, hi), -ENOSPC);
}
END_TEST

START_TEST(gmem_copy)
{
	struct gmem m;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];
	two_regions(&m);
	ck_assert_int_eq(gmem_write(&m, 100, buf, 8), 0);
	ck_assert_int_eq(gmem_read(&m, 100, out, 8), 0);
	ck_assert_mem_eq(buf, out, 8);
	ck_assert_int_eq(gmem_write(&m, 4090, buf, 8), -EFAULT);
	ck_assert_int_eq(gmem_read(&m, 1ull << 33, out, 8), -EFAULT);
}
END_TEST

struct fake_dev {
	uint64_t last_off;
	uint8_t last_val;
	int reads, writes;
};

static void fd_read(void *o, uint64_t off, uint8_t *data, unsigned len)
{
	struct fake_dev *d = o;
	d->reads++;
	d->last_off = off;
	data[0] = 0x5a;
}

static void fd_write(void *o, uint64_t off, const uint8_t *data, unsigned len)
{
	struct fake_dev *d = o;
	d->writes++;
	d->last_off = off;
	d->last_val = data[0];
}

static const struct bus_ops fake_ops = { fd_read, fd_write };

START_TEST(bus_dispatch)
{
	struct bus b;
	struct fake_dev a = { 0 }, c = { 0 };
	uint8_t v[8];

	bus_init(&b, "pio", 0xff);
	ck_assert_int_eq(bus_register(&b, 0x3f8, 8, &fake_ops, &a, "a"), 0);
	ck_assert_int_eq(bus_register(&b, 0x60, 5, &fake_ops, &c, "c"), 0);
	ck_assert_int_eq(bus_register(&b, 0x3fc, 8, &fake_ops, &c, "x"), -EEXIST);
	ck_assert_int_eq(bus_register(&b, 0x3f0, 9, &fake_ops, &c, "x"), -EEXIST);
	ck_assert_int_eq(bus_register(&b, 0x3f0, 8, &fake_ops, &c, "ok"), 0);
	ck_assert_int_eq(bus_register(&b, 0, 0, &fake_ops, &c, "x"), -EINVAL);
	ck_assert_int_eq(bus_register(&b, UINT64_MAX, 2, &fake_ops, &c, "x"), -EINVAL);

	v[0] = 0x41;
	ck_assert(bus_write(&b, 0x3fd, v, 1));
	ck_assert_uint_eq(a.last_off, 5);
	ck_assert_uint_eq(a.last_val, 0x41);
	ck_assert(bus_read(&b, 0x64, v, 1));
	ck_assert_uint_eq(c.last_off, 4);
	ck_assert_uint_eq(v[0], 0x5a);
	/* Straddling the end of a range, and empty space. */
	ck_assert(!bus_read(&b, 0x3ff, v, 2));
	ck_assert_uint_eq(v[0], 0xff);
	ck_assert(!bus_write(&b, 0x1234, v, 4));
	ck_assert_uint_eq(b.unhandled_reads, 1);
	ck_assert_uint_eq(b.unhandled_writes, 1);
	ck_assert_uint_eq(b.last_unhandled_addr, 0x1234);
	bus_release(&b);
}
END_TEST

START_TEST(bus_many_sorted)
{
	struct bus b;
	struct fake_dev d[40] = { 0 };
	uint8_t v[4];

	bus_init(&b, "mmio", 0);
	/* Insert out of order, beyond the initial capacity. */
	for (int i = 39; i >= 0; i--)
		ck_assert_int_eq(bus_register(&b, 0xd0000000ull + i * 0x1000, 0x200,
					      &fake_ops, &d[i], "v"), 0);
	for (int i = 0; i < 40; i++) {
		ck_assert(bus_write(&b, 0xd0000000ull + i * 0x1000 + 0x70, v, 4));
		ck_assert_int_eq(d[i].writes, 1);
		ck_assert_uint_eq(d[i].last_off, 0x70);
		ck_assert(!bus_read(&b, 0xd0000000ull + i * 0x1000 + 0x200, v, 4));
		ck_assert_uint_eq(v[0], 0);
	}
	bus_release(&b);
}
END_TEST

struct ev_ctx {
	struct evloop *l;
	int fd;
	int hits;
};

static void on_ev(void *o, uint32_t events)
{
	struct ev_ctx *c = o;
	uint64_t v;
	ck_assert(read(c->fd, &v, sizeof(v)) == sizeof(v));
	c->hits++;
	/* Deleting oneself from inside a handler must be safe. */
	ck_assert_int_eq(evloop_del(c->l, c->fd), 0);
	evloop_stop(c->l);
}

START_TEST(evloop_basic)
{
	struct evloop l;
	struct ev_ctx c = { .l = &l };
	uint64_t one = 1;

	ck_assert_int_eq(evloop_init(&l), 0);
	c.fd = eventfd(0, EFD_NONBLOCK);
	ck_assert_int_eq(evloop_add(&l, c.fd, EPOLLIN, on_ev, &c), 0);
	ck_assert_int_eq(evloop_add(&l, c.fd, EPOLLIN, on_ev, &c), -EEXIST);
	ck_assert(write(c.fd, &one, 8) == 8);
	ck_assert_int_eq(evloop_run(&l), 0);
	ck_assert_int_eq(c.hits, 1);
	ck_assert_int_eq(evloop_del(&l, c.fd), -ENOENT);
	close(c.fd);
	evloop_release(&l);
}
END_TEST

START_TEST(evloop_stop_before_run)
{
	struct evloop l;
	ck_assert_int_eq(evloop_init(&l), 0);
	evloop_stop(&l);
	ck_assert_int_eq(evloop_run(&l), 0);
	evloop_release(&l);
}
END_TEST

/* How a poweroff or reboot ends a VM with and without a job: a job that
 * never reported its status never ends with 0. */
static const struct stop_case {
	bool job, panicked;
	enum stop_reason why;
	const char *msg;
	int want;
	const char *want_msg;
} stop_cases[] = {
	{ false, false, STOP_POWEROFF, NULL, 0, "guest powered off" },
	{ false, false, STOP_REBOOT, NULL, 0, "guest rebooted" },
	{ true, false, STOP_POWEROFF, NULL, 125,
	  "guest powered off before its job reported a status" },
	{ true, false, STOP_REBOOT, "guest reset by a triple fault", 125,
	  "guest reset by a triple fault before its job reported a status" },
	{ true, true, STOP_REBOOT, NULL, 125,
	  "guest kernel panicked, then rebooted before its job reported a status" },
	{ false, true, STOP_REBOOT, NULL, 0, "guest kernel panicked, then rebooted" },
	{ true, false, STOP_GUEST_EXIT, NULL, 3, "" },
	{ true, true, STOP_TIMEOUT, "timed out", 124, "timed out" },
};

START_TEST(stop_without_job_status)
{
	const struct stop_case *t = &stop_cases[_i];
	struct vm_config c;
	struct vm vm;

	config_init(&c);
	if (t->job)
		c.cmdline = strdup("quiet -- make test");
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &c;
	vm.loop.wakefd = -1;
	vm.panicked = t->panicked;
	pthread_mutex_init(&vm.st.lock, NULL);
	vm_request_stop(&vm, t->why, t->why == STOP_GUEST_EXIT ? 3 : t->why == STOP_TIMEOUT ? 124 : 0,
			t->msg);
	/* The first request wins. */
	vm_request_stop(&vm, STOP_GUEST_EXIT, 7, "late");
	ck_assert_int_eq(vm.st.reason, t->why);
	ck_assert_int_eq(vm.st.status, t->want);
	ck_assert_str_eq(vm.st.message, t->want_msg);
	pthread_mutex_destroy(&vm.st.lock);
	config_release(&c);
}
END_TEST

/* Guest RAM comes aligned, usable and exactly as long as asked; bad
 * alignments are refused. */
START_TEST(gmem_map_aligned_2m)
{
	uint64_t align = 2ull << 20, size = 6ull << 20;
	uint8_t *p = gmem_map_aligned(size, align);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % align, 0);
	p[0] = 1;
	p[size - 1] = 2;
	ck_assert_int_eq(munmap(p, size), 0);
	errno = 0;
	ck_assert_ptr_null(gmem_map_aligned(size, 3 << 20));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(gmem_map_aligned(0, align));
	ck_assert_ptr_null(gmem_map_aligned(size + 1, align));
}
END_TEST



int main(void)
{
	Suite *s = suite_create("core");
	TCase *t = tcase_create("core");
	tcase_add_test(t, gmem_bounds);
	tcase_add_test(t, gmem_map_aligned_2m);
	tcase_add_test(t, gmem_add_rules);
	tcase_add_test(t, gmem_copy);
	tcase_add_test(t, bus_dispatch);
	tcase_add_test(t, bus_many_sorted);
	tcase_add_test(t, evloop_basic);
	tcase_add_test(t, evloop_stop_before_run);
	tcase_add_loop_test(t, stop_without_job_status, 0,
			    sizeof(stop_cases) / sizeof(*stop_cases));
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}

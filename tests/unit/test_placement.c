/*
 * The placement engine (vmm/sched/placement.h): small cases one rule at a
 * time; a simulation of 10,000 random jobs on four host shapes in which
 * every decision is checked against the test's own bookkeeping and an
 * oracle of the documented rules, printing the packing efficiency; and
 * place_next's speed on a 10,000-job queue (printed, never asserted).
 */
#include "vmm/sched/placement.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct place_host host4 = {
	.cpus = 4, .cpu_ratio = 1.0, .mem_mib = 8192, .reserve_mib = 1024,
	.mem_ratio = 1.0, .max_booting = 4, .aging_ms = 0,
};

static struct place_req req(uint64_t id, unsigned vcpus, uint64_t mem, int prio,
			    bool ded, uint64_t submit)
{
	return (struct place_req){ id, vcpus, mem, prio, ded, submit };
}

static struct place_engine *engine(const struct place_host *h)
{
	struct place_engine *e = place_new(h);

	ck_assert_ptr_nonnull(e);
	return e;
}

static void add(struct place_engine *e, struct place_req r)
{
	ck_assert_int_eq(place_enqueue(e, &r), 0);
}

/* The id place_next starts now, 0 if none; d may be NULL. */
static uint64_t next(struct place_engine *e, uint64_t now, struct place_decision *d)
{
	struct place_decision mine;

	if (!d)
		d = &mine;
	return place_next(e, now, d) == 1 ? d->id : 0;
}

/* ---- small cases ---- */

START_TEST(priority_first)
{
	struct place_engine *e = engine(&host4);

	add(e, req(1, 4, 100, 0, false, 0));
	add(e, req(2, 4, 100, 5, false, 10));
	ck_assert_uint_eq(next(e, 20, NULL), 2);
	ck_assert_uint_eq(next(e, 20, NULL), 0);     /* no vCPU left for 1 */
	ck_assert_int_eq(place_release(e, 2), 0);
	ck_assert_uint_eq(next(e, 20, NULL), 1);
	place_free(e);
}
END_TEST

START_TEST(fifo_then_id)
{
	struct place_engine *e = engine(&host4);
	const uint64_t order[] = { 7, 9, 5 };

	add(e, req(5, 4, 100, 1, false, 10));
	add(e, req(9, 4, 100, 1, false, 5));
	add(e, req(7, 4, 100, 1, false, 5));
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(next(e, 20, NULL), order[i]);
		ck_assert_int_eq(place_release(e, order[i]), 0);
	}
	place_free(e);
}
END_TEST

START_TEST(aging)
{
	struct place_host h = host4;
	h.aging_ms = 100;
	struct place_engine *e = engine(&h);

	add(e, req(1, 4, 100, 0, false, 0));
	add(e, req(2, 4, 100, 2, false, 150));
	add(e, req(3, 4, 100, 0, false, 1000));      /* from the future: no wait, no wrap */
	ck_assert_uint_eq(next(e, 199, NULL), 2);    /* 1 counts 0 + 1, 2 counts 2 */
	ck_assert_int_eq(place_release(e, 2), 0);
	add(e, req(2, 4, 100, 2, false, 150));       /* a released id may come back */
	ck_assert_uint_eq(next(e, 200, NULL), 1);    /* 2 + 0 = 0 + 2: older first */
	ck_assert_int_eq(place_release(e, 1), 0);
	ck_assert_uint_eq(next(e, 200, NULL), 2);
	place_free(e);
}
END_TEST

START_TEST(cancel)
{
	struct place_engine *e = engine(&host4);
	struct place_stats s;

	add(e, req(1, 1, 100, 9, false, 0));
	add(e, req(2, 1, 100, 0, false, 0));
	ck_assert_int_eq(place_cancel(e, 1), 0);
	ck_assert_int_eq(place_cancel(e, 1), -ENOENT);
	ck_assert_int_eq(place_cancel(e, 99), -ENOENT);
	ck_assert_uint_eq(next(e, 0, NULL), 2);
	ck_assert_uint_eq(next(e, 0, NULL), 0);
	ck_assert_int_eq(place_cancel(e, 2), -ENOENT);   /* started: release it */
	place_get_stats(e, &s);
	ck_assert_uint_eq(s.queued, 0);
	ck_assert_uint_eq(s.booting, 1);
	place_free(e);
}
END_TEST

START_TEST(max_booting)
{
	struct place_host h = host4;
	h.max_booting = 1;
	struct place_engine *e = engine(&h);
	struct place_stats s;

	add(e, req(1, 1, 100, 0, false, 0));
	add(e, req(2, 1, 100, 0, false, 1));
	ck_assert_uint_eq(next(e, 5, NULL), 1);
	ck_assert_uint_eq(next(e, 5, NULL), 0);
	ck_assert_int_eq(place_booted(e, 1), 0);
	ck_assert_int_eq(place_booted(e, 1), -ENOENT);
	ck_assert_uint_eq(next(e, 5, NULL), 2);
	place_get_stats(e, &s);
	ck_assert_uint_eq(s.booting, 1);
	ck_assert_uint_eq(s.running, 1);
	ck_assert_int_eq(place_release(e, 2), 0);     /* ended while booting */
	ck_assert_int_eq(place_booted(e, 2), -ENOENT);
	place_get_stats(e, &s);
	ck_assert_uint_eq(s.booting, 0);
	place_free(e);
}
END_TEST

static void expect_why(const struct place_engine *e, struct place_req r, int err,
		       const char *a, const char *b)
{
	char why[160];

	ck_assert_int_eq(place_fits_ever(e, &r, why, sizeof(why)), err);
	ck_assert_msg(strstr(why, a) && strstr(why, b), "\"%s\" lacks \"%s\" or \"%s\"",
		      why, a, b);
}

START_TEST(fits_ever_says_why)
{
	struct place_host h = host4;
	h.cpu_ratio = 1.5;
	struct place_engine *e = engine(&h);
	char why[8] = "x";

	expect_why(e, req(1, 7, 100, 0, false, 0), -E2BIG, "needs 7 vCPUs", "has 6 (4 CPUs at ratio 1.5)");
	expect_why(e, req(1, 5, 100, 0, true, 0), -E2BIG, "needs 5 dedicated CPUs", "has 4");
	expect_why(e, req(1, 1, 7169, 0, false, 0), -E2BIG, "needs 7169 MiB", "has 7168 MiB (8192 - 1024 reserved");
	expect_why(e, req(1, 0, 100, 0, false, 0), -EINVAL, "vCPUs", "memory");
	ck_assert_int_eq(place_fits_ever(e, &(struct place_req){ 1, 6, 7168, 0, false, 0 },
					 why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(place_fits_ever(e, &(struct place_req){ 1, 4, 7168, 0, true, 0 }, NULL, 0), 0);
	expect_why(e, req(1, 1, UINT64_MAX, 0, false, 0), -E2BIG, "needs 18446744073709551615 MiB", "7168");
	place_free(e);
}
END_TEST

START_TEST(errors)
{
	struct place_engine *e = engine(&host4);
	struct place_req r = req(1, 1, 100, 0, false, 0);

	ck_assert_int_eq(place_enqueue(e, &r), 0);
	ck_assert_int_eq(place_enqueue(e, &r), -EEXIST);
	ck_assert_uint_eq(next(e, 0, NULL), 1);
	ck_assert_int_eq(place_enqueue(e, &r), -EEXIST);        /* still known while it runs */
	r = req(2, 5, 100, 0, false, 0);
	ck_assert_int_eq(place_enqueue(e, &r), -E2BIG);
	r = req(0, 1, 100, 0, false, 0);
	ck_assert_int_eq(place_enqueue(e, &r), -EINVAL);
	r = req(3, 1, 0, 0, false, 0);
	ck_assert_int_eq(place_enqueue(e, &r), -EINVAL);
	ck_assert_int_eq(place_release(e, 2), -ENOENT);
	place_free(e);

	const struct place_host bad[] = {
		{ 0, 1.0, 8192, 0, 1.0, 1, 0 }, { PLACE_MAX_CPUS + 1, 1.0, 8192, 0, 1.0, 1, 0 },
		{ 4, 0.0, 8192, 0, 1.0, 1, 0 }, { 4, 1.0, 8192, 0, -1.0, 1, 0 },
		{ 4, __builtin_nan(""), 8192, 0, 1.0, 1, 0 }, { 4, 1e7, 8192, 0, 1.0, 1, 0 },
		{ 4, 1.0, 8192, 8192, 1.0, 1, 0 }, { 4, 1.0, 8192, 0, 1.0, 0, 0 },
		{ 4, 1.0, UINT64_MAX, 0, 1.0, 1, 0 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!place_new(&bad[i]), "bad host %u accepted", i);
	place_free(NULL);
}
END_TEST

START_TEST(release_frees)
{
	struct place_engine *e = engine(&host4);
	struct place_stats s;

	add(e, req(1, 2, 3000, 0, true, 0));
	add(e, req(2, 2, 4000, 0, false, 0));
	ck_assert_uint_eq(next(e, 0, NULL), 1);
	ck_assert_uint_eq(next(e, 0, NULL), 2);
	place_get_stats(e, &s);
	ck_assert(s.vcpu_capacity == 2.0 && s.vcpus_committed == 2.0);
	ck_assert_uint_eq(s.dedicated_cpus, 2);
	ck_assert_uint_eq(s.mem_capacity_mib, 7168);
	ck_assert_uint_eq(s.mem_committed_mib, 7000);
	ck_assert_int_eq(place_release(e, 1), 0);
	ck_assert_int_eq(place_release(e, 2), 0);
	ck_assert_int_eq(place_release(e, 2), -ENOENT);
	place_get_stats(e, &s);
	ck_assert(s.vcpu_capacity == 4.0 && s.vcpus_committed == 0.0);
	ck_assert_uint_eq(s.dedicated_cpus + s.mem_committed_mib + s.booting + s.running, 0);
	place_free(e);
}
END_TEST

static void expect_cpus(struct place_engine *e, uint64_t id, const char *want)
{
	struct place_decision d;
	char got[256] = "";

	ck_assert_uint_eq(next(e, 0, &d), id);
	for (unsigned i = 0; i < d.ncpus; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u", i ? "," : "",
			 d.cpus[i]);
	ck_assert_str_eq(got, want);
}

/* Pack: the smallest block that holds the job, lowest first; holes
 * first when no block holds it. */
START_TEST(dedicated_packs)
{
	struct place_host h = host4;
	h.cpus = 8;
	h.max_booting = 16;
	struct place_engine *e = engine(&h);

	for (unsigned i = 1; i <= 7; i++)
		add(e, req(i, (unsigned[]){ 2, 3, 1, 1, 2, 1, 2 }[i - 1], 64, 0, true, i));
	expect_cpus(e, 1, "0,1");
	expect_cpus(e, 2, "2,3,4");
	expect_cpus(e, 3, "5");
	ck_assert_int_eq(place_release(e, 1), 0);     /* free: 0-1, 6-7 */
	expect_cpus(e, 4, "0");
	expect_cpus(e, 5, "6,7");                     /* not 1 plus a piece of 6-7 */
	expect_cpus(e, 6, "1");
	ck_assert_int_eq(place_release(e, 3), 0);     /* free: 5 */
	ck_assert_int_eq(place_release(e, 6), 0);     /* free: 1, 5 */
	expect_cpus(e, 7, "1,5");
	add(e, req(8, 1, 64, 0, false, 9));
	ck_assert_int_eq(place_release(e, 2), 0);
	expect_cpus(e, 8, "2,3,4");                   /* a shared job: the pool */
	place_free(e);
}
END_TEST

/* A dedicated job may only take CPUs the shared pool can give up. */
START_TEST(dedicated_shrinks_pool)
{
	struct place_host h = host4;
	h.cpus = 8;
	h.cpu_ratio = 2.0;
	h.mem_mib = 1 << 20;
	struct place_engine *e = engine(&h);
	struct place_stats s;

	add(e, req(1, 8, 64, 9, false, 0));
	add(e, req(2, 4, 64, 9, false, 1));           /* 12 of 16 shared vCPUs */
	add(e, req(3, 3, 64, 5, true, 2));            /* would leave 10 for 12 */
	add(e, req(4, 2, 64, 0, true, 3));            /* leaves 12 for 12 */
	ck_assert_uint_eq(next(e, 0, NULL), 1);
	ck_assert_uint_eq(next(e, 0, NULL), 2);
	ck_assert_uint_eq(next(e, 0, NULL), 0);       /* 3 waits, 4 behind it */
	ck_assert_int_eq(place_cancel(e, 3), 0);
	ck_assert_uint_eq(next(e, 0, NULL), 4);
	place_get_stats(e, &s);
	ck_assert(s.vcpu_capacity == 12.0 && s.vcpus_committed == 12.0);
	place_free(e);
}
END_TEST

/* A head that cannot start keeps what it needs: nothing passes it. */
START_TEST(head_blocks)
{
	struct place_engine *e = engine(&host4);

	add(e, req(1, 1, 5000, 0, false, 0));
	ck_assert_uint_eq(next(e, 0, NULL), 1);
	add(e, req(2, 1, 4000, 5, false, 1));         /* short of memory */
	add(e, req(3, 1, 100, 0, false, 2));          /* would fit, but in 2's way */
	ck_assert_uint_eq(next(e, 3, NULL), 0);
	ck_assert_int_eq(place_release(e, 1), 0);
	ck_assert_uint_eq(next(e, 3, NULL), 2);
	ck_assert_uint_eq(next(e, 3, NULL), 3);

	/* A dedicated head short of CPUs is short of shared room too. */
	add(e, req(4, 3, 64, 0, true, 4));
	add(e, req(5, 3, 64, 5, true, 5));
	ck_assert_int_eq(place_release(e, 2), 0);
	ck_assert_int_eq(place_release(e, 3), 0);
	ck_assert_uint_eq(next(e, 6, NULL), 5);
	add(e, req(6, 1, 64, 0, false, 7));
	ck_assert_uint_eq(next(e, 8, NULL), 0);       /* 4 waits for 5's CPUs */
	ck_assert_int_eq(place_release(e, 5), 0);
	ck_assert_uint_eq(next(e, 8, NULL), 4);
	ck_assert_uint_eq(next(e, 8, NULL), 6);
	place_free(e);
}
END_TEST

/* Many ids in and out: the id map's deletions keep every other id found. */
START_TEST(many_ids)
{
	struct place_host h = host4;
	h.mem_mib = 1 << 30;
	struct place_engine *e = engine(&h);
	struct place_req r;

	for (uint64_t id = 1; id <= 5000; id++)
		add(e, req(id << 12, 1, 1, 0, false, id));
	for (uint64_t id = 1; id <= 5000; id += 2)
		ck_assert_int_eq(place_cancel(e, id << 12), 0);
	for (uint64_t id = 1; id <= 5000; id++) {
		r = req(id << 12, 1, 1, 0, false, id);
		ck_assert_int_eq(place_enqueue(e, &r), id % 2 ? 0 : -EEXIST);
	}
	place_free(e);
}
END_TEST

/* ---- the simulation ---- */

/* Check's ck_assert* records every passing assertion with a system call;
 * the simulation checks millions of things, so it calls Check only on a
 * failure. */
#define must(cond)                                                      \
	do {                                                            \
		if (!(cond))                                            \
			ck_abort_msg("failed: %s", #cond);              \
	} while (0)
#define must_eq(a, b)                                                   \
	do {                                                            \
		unsigned long long a_ = (a), b_ = (b);                  \
		if (a_ != b_)                                           \
			ck_abort_msg("%s == %llu, %s == %llu", #a, a_, #b, b_); \
	} while (0)

enum { NSHAPES = 4, SIM_JOBS = 2500 };       /* 10,000 jobs in all */

static const struct shape {
	const char *name;
	struct place_host h;
} shapes[NSHAPES] = {
	{ "small", { 8, 1.0, 16384, 1024, 1.0, 2, 2000 } },
	{ "odd", { 12, 1.5, 24576, 512, 1.25, 1, 1000 } },
	{ "medium", { 32, 2.0, 65536, 2048, 1.0, 4, 5000 } },
	{ "big", { 96, 4.0, 262144, 4096, 1.5, 8, 10000 } },
};

enum tjob_state { T_FUTURE, T_QUEUED, T_BOOTING, T_RUNNING, T_DONE, T_CANCELLED };

struct tjob {
	struct place_req r;          /* id: index + 1 */
	uint64_t boot_ms, run_ms;    /* both from the start */
	uint64_t start_ms;
	enum tjob_state st;
	size_t pos;                  /* in sim.queued or sim.active */
};

/* What the test itself counts as committed. */
struct held {
	unsigned ded;
	uint64_t shared, mem;
	unsigned booting;
};

struct sim {
	const struct place_host *h;
	struct place_engine *e;
	struct tjob *j;
	size_t n, next_arrival, done, cancelled, backfills;
	size_t *queued, nqueued, *active, nactive;
	uint64_t owner[PLACE_MAX_CPUS];
	struct held held;
	uint64_t rng, now, max_wait;
};

static uint64_t rnd(uint64_t *s)               /* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint64_t between(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s) % (hi - lo + 1);
}

static double mem_capacity(const struct place_host *h)
{
	return (double)(uint64_t)((double)(h->mem_mib - h->reserve_mib) * h->mem_ratio);
}

/* What a job costs the shared pool, in vCPUs. */
static double vcpu_cost(const struct place_host *h, const struct place_req *r)
{
	return r->dedicated ? r->vcpus * h->cpu_ratio : r->vcpus;
}

struct shortfall {
	double cpus, vcpus, mem, slots;
};

static double pos(double x)
{
	return x > 0 ? x : 0;
}

/* What r lacks to start on top of what t holds: all zero if it fits. */
static struct shortfall shortfall(const struct sim *s, const struct held *t,
				  const struct place_req *r)
{
	double pool = (double)s->h->cpus - t->ded;
	struct shortfall f = {
		.mem = pos((double)t->mem + (double)r->mem_mib - mem_capacity(s->h)),
		.slots = pos((double)t->booting + 1 - s->h->max_booting),
	};

	if (r->dedicated) {
		f.cpus = pos(r->vcpus - pool);
		f.vcpus = pos((double)t->shared - (pool - r->vcpus) * s->h->cpu_ratio);
	} else {
		f.vcpus = pos((double)t->shared + r->vcpus - pool * s->h->cpu_ratio);
	}
	return f;
}

static bool fits(struct shortfall f)
{
	return !f.cpus && !f.vcpus && !f.mem && !f.slots;
}

static bool no_worse(struct shortfall a, struct shortfall b)
{
	return a.cpus <= b.cpus && a.vcpus <= b.vcpus && a.mem <= b.mem && a.slots <= b.slots;
}

static struct held plus(struct held t, const struct place_req *r)
{
	if (r->dedicated)
		t.ded += r->vcpus;
	else
		t.shared += r->vcpus;
	t.mem += r->mem_mib;
	t.booting++;
	return t;
}

struct tkey {
	int64_t prio;
	const struct place_req *r;
};

static struct tkey tkey(const struct sim *s, const struct place_req *r)
{
	int64_t k = r->priority;

	if (s->h->aging_ms && s->now > r->submit_ms)
		k += (int64_t)((s->now - r->submit_ms) / s->h->aging_ms);
	return (struct tkey){ k, r };
}

static bool sooner(const struct tkey *a, const struct tkey *b)
{
	if (a->prio != b->prio)
		return a->prio > b->prio;
	if (a->r->submit_ms != b->r->submit_ms)
		return a->r->submit_ms < b->r->submit_ms;
	return a->r->id < b->r->id;
}

static struct tkey head_of(const struct sim *s)
{
	struct tkey head = { 0, NULL };

	for (size_t i = 0; i < s->nqueued; i++) {
		struct tkey k = tkey(s, &s->j[s->queued[i]].r);
		if (!head.r || sooner(&k, &head))
			head = k;
	}
	return head;
}

/* The job the documented rules start now, 0 if none: the head if it fits,
 * else the first in order that fits and leaves the head's shortfall no
 * worse (the head's reservation: a backfill never delays the head). */
static uint64_t oracle(const struct sim *s, bool *backfill)
{
	struct tkey head = head_of(s), pick = { 0, NULL };

	if (!head.r)
		return 0;
	struct shortfall hf = shortfall(s, &s->held, head.r);
	*backfill = !fits(hf);
	if (fits(hf))
		return head.r->id;
	for (size_t i = 0; i < s->nqueued; i++) {
		const struct place_req *r = &s->j[s->queued[i]].r;
		if (r == head.r || !fits(shortfall(s, &s->held, r)))
			continue;
		struct held after = plus(s->held, r);
		struct tkey k = tkey(s, r);
		if (no_worse(shortfall(s, &after, head.r), hf) && (!pick.r || sooner(&k, &pick)))
			pick = k;
	}
	return pick.r ? pick.r->id : 0;
}

static void list_add(struct sim *s, size_t *list, size_t *n, size_t job)
{
	s->j[job].pos = *n;
	list[(*n)++] = job;
}

static void list_del(struct sim *s, size_t *list, size_t *n, size_t pos)
{
	list[pos] = list[--*n];
	if (pos < *n)
		s->j[list[pos]].pos = pos;
}

/* Dedicated: its own CPUs, no one else's. Shared: exactly the pool. */
static void check_cpus(struct sim *s, const struct tjob *j, const struct place_decision *d)
{
	unsigned n = 0;

	if (!j->r.dedicated) {
		for (unsigned c = 0; c < s->h->cpus; c++) {
			if (s->owner[c])
				continue;
			must(n < d->ncpus);
			must_eq(d->cpus[n++], c);
		}
		must_eq(n, d->ncpus);
		return;
	}
	must_eq(d->ncpus, j->r.vcpus);
	for (unsigned i = 0; i < d->ncpus; i++) {
		unsigned c = d->cpus[i];
		must(c < s->h->cpus);
		must(!s->owner[c]);
		must(!i || d->cpus[i - 1] < c);
		s->owner[c] = j->r.id;
	}
}

/* Recomputed from the test's own counts, then compared with the engine's. */
static void check_capacity(const struct sim *s)
{
	const struct held *t = &s->held;
	struct place_stats st;

	must(t->ded <= s->h->cpus);
	must((double)t->shared <= ((double)s->h->cpus - t->ded) * s->h->cpu_ratio);
	must((double)t->mem <= mem_capacity(s->h));
	must(t->booting <= s->h->max_booting);
	place_get_stats(s->e, &st);
	must(st.vcpus_committed == (double)t->shared);
	must_eq(st.dedicated_cpus, t->ded);
	must_eq(st.mem_committed_mib, t->mem);
	must_eq(st.booting, t->booting);
	must_eq(st.queued, s->nqueued);
	must_eq(st.booting + st.running, s->nactive);
}

static void begin(struct sim *s, struct tjob *j, const struct place_decision *d)
{
	check_cpus(s, j, d);
	s->held = plus(s->held, &j->r);
	list_del(s, s->queued, &s->nqueued, j->pos);
	list_add(s, s->active, &s->nactive, (size_t)(j - s->j));
	j->st = T_BOOTING;
	j->start_ms = s->now;
	if (s->now - j->r.submit_ms > s->max_wait)
		s->max_wait = s->now - j->r.submit_ms;
	check_capacity(s);
}

/* place_next until it says none, each answer checked against the oracle. */
static void start_all(struct sim *s)
{
	struct place_decision d;
	bool backfill = false;

	for (;;) {
		uint64_t want = oracle(s, &backfill);
		int got = place_next(s->e, s->now, &d);
		must_eq(got == 1 ? d.id : 0, want);
		if (!got)
			return;
		s->backfills += backfill;
		begin(s, &s->j[d.id - 1], &d);
	}
}

static void end_job(struct sim *s, struct tjob *j)
{
	must_eq(place_release(s->e, j->r.id), 0);
	s->held.booting -= j->st == T_BOOTING;
	if (j->r.dedicated) {
		for (unsigned c = 0; c < s->h->cpus; c++)
			if (s->owner[c] == j->r.id)
				s->owner[c] = 0;
		s->held.ded -= j->r.vcpus;
	} else {
		s->held.shared -= j->r.vcpus;
	}
	s->held.mem -= j->r.mem_mib;
	list_del(s, s->active, &s->nactive, j->pos);
	j->st = T_DONE;
	s->done++;
}

/* Queue job i; now and then the user gives up on a queued job. */
static void arrive(struct sim *s, size_t i)
{
	must_eq(place_enqueue(s->e, &s->j[i].r), 0);
	s->j[i].st = T_QUEUED;
	list_add(s, s->queued, &s->nqueued, i);
	if (rnd(&s->rng) % 64 || !s->nqueued)
		return;
	size_t pos = (size_t)(rnd(&s->rng) % s->nqueued);
	struct tjob *j = &s->j[s->queued[pos]];
	must_eq(place_cancel(s->e, j->r.id), 0);
	list_del(s, s->queued, &s->nqueued, pos);
	j->st = T_CANCELLED;
	s->cancelled++;
}

static void sim_events(struct sim *s)
{
	for (size_t k = 0; k < s->nactive;) {
		struct tjob *j = &s->j[s->active[k]];
		if (j->st == T_BOOTING && j->start_ms + j->boot_ms <= s->now) {
			must_eq(place_booted(s->e, j->r.id), 0);
			j->st = T_RUNNING;
			s->held.booting--;
		}
		if (j->start_ms + j->run_ms <= s->now) {
			end_job(s, j);              /* the last one moved into k */
			continue;
		}
		k++;
	}
	while (s->next_arrival < s->n && s->j[s->next_arrival].r.submit_ms <= s->now)
		arrive(s, s->next_arrival++);
}

static uint64_t next_event(const struct sim *s)
{
	uint64_t t = UINT64_MAX;

	if (s->next_arrival < s->n)
		t = s->j[s->next_arrival].r.submit_ms;
	for (size_t k = 0; k < s->nactive; k++) {
		const struct tjob *j = &s->j[s->active[k]];
		if (j->st == T_BOOTING && j->start_ms + j->boot_ms < t)
			t = j->start_ms + j->boot_ms;
		if (j->start_ms + j->run_ms < t)
			t = j->start_ms + j->run_ms;
	}
	return t;
}

/* Random jobs; arrivals spread so that the host is offered a quarter more
 * work than it can do, and a queue builds up. */
static void make_jobs(struct sim *s)
{
	double vcpu_work = 0, mem_work = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct tjob *j = &s->j[i];
		j->r = req(i + 1, (unsigned)between(&s->rng, 1, 8), between(&s->rng, 64, 8192),
			   (int)between(&s->rng, 0, 3), rnd(&s->rng) % 8 == 0, 0);
		j->run_ms = between(&s->rng, 10, 1000);
		j->boot_ms = between(&s->rng, 1, j->run_ms < 31 ? j->run_ms - 1 : 30);
		vcpu_work += vcpu_cost(s->h, &j->r) * (double)j->run_ms;
		mem_work += (double)j->r.mem_mib * (double)j->run_ms;
	}
	double busy = vcpu_work / (s->h->cpus * s->h->cpu_ratio);
	if (mem_work / mem_capacity(s->h) > busy)
		busy = mem_work / mem_capacity(s->h);
	uint64_t gap = (uint64_t)(busy / 1.25 / (double)s->n), t = 0;
	for (size_t i = 0; i < s->n; i++) {
		t += between(&s->rng, 0, 2 * gap);
		s->j[i].r.submit_ms = t;
	}
}

static void run_sim(struct sim *s)
{
	for (;;) {
		sim_events(s);
		start_all(s);
		uint64_t t = next_event(s);
		if (t == UINT64_MAX)
			return;                     /* nothing left to happen */
		must(t > s->now);
		s->now = t;
	}
}

/* Makespan against its lower bound: the busiest resource's work over its
 * capacity, or the latest arrival plus its run time. */
static void report(const struct sim *s, const char *name)
{
	double vcpu_work = 0, mem_work = 0, last = 0, makespan = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct tjob *j = &s->j[i];
		if (j->st != T_DONE)
			continue;
		vcpu_work += vcpu_cost(s->h, &j->r) * (double)j->run_ms;
		mem_work += (double)j->r.mem_mib * (double)j->run_ms;
		if ((double)(j->r.submit_ms + j->run_ms) > last)
			last = (double)(j->r.submit_ms + j->run_ms);
		if ((double)(j->start_ms + j->run_ms) > makespan)
			makespan = (double)(j->start_ms + j->run_ms);
	}
	double vcpu_lb = vcpu_work / (s->h->cpus * s->h->cpu_ratio);
	double mem_lb = mem_work / mem_capacity(s->h);
	double lb = vcpu_lb > mem_lb ? vcpu_lb : mem_lb;
	lb = lb > last ? lb : last;
	printf("placement: %-6s (%u CPUs x%g, %.0f MiB, %u booting): %zu jobs, %zu cancelled; "
	       "makespan %.1f s, lower bound %.1f s: efficiency %.0f%%; vCPU use %.0f%%, "
	       "memory use %.0f%%; longest wait %.1f s; backfills %zu\n",
	       name, s->h->cpus, s->h->cpu_ratio, mem_capacity(s->h), s->h->max_booting,
	       s->n, s->cancelled, makespan / 1e3, lb / 1e3, 100 * lb / makespan,
	       100 * vcpu_lb / makespan, 100 * mem_lb / makespan, (double)s->max_wait / 1e3,
	       s->backfills);
	fflush(stdout);
}

START_TEST(random_workloads)
{
	struct sim *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	s->h = &shapes[_i].h;
	s->n = SIM_JOBS;
	s->rng = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
	s->e = engine(s->h);
	s->j = calloc(s->n, sizeof(*s->j));
	s->queued = calloc(s->n, sizeof(size_t));
	s->active = calloc(s->n, sizeof(size_t));
	ck_assert(s->j && s->queued && s->active);
	make_jobs(s);
	run_sim(s);
	for (size_t i = 0; i < s->n; i++)               /* liveness: all ran */
		must(s->j[i].st == T_DONE || s->j[i].st == T_CANCELLED);
	ck_assert_uint_eq(s->done + s->cancelled, s->n);
	report(s, shapes[_i].name);
	place_free(s->e);
	free(s->j);
	free(s->queued);
	free(s->active);
	free(s);
}
END_TEST

/* ---- speed (printed, never asserted) ---- */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(decisions_per_second)
{
	const struct place_host h = { 256, 4.0, 1 << 22, 0, 1.0, 1u << 20, 1000 };
	enum { QUEUE = 10000, CALLS = 2000 };
	struct place_engine *e = engine(&h);
	struct place_decision d;
	uint64_t rng = 42;

	for (uint64_t id = 1; id <= QUEUE; id++)
		add(e, req(id, (unsigned)between(&rng, 1, 8), between(&rng, 64, 8192),
			   (int)between(&rng, 0, 3), rnd(&rng) % 8 == 0, between(&rng, 0, 60000)));
	double t0 = seconds();
	for (unsigned i = 0; i < CALLS; i++) {
		must_eq(place_next(e, 60000, &d), 1);
		must_eq(place_release(e, d.id), 0);
	}
	double t1 = seconds();
	add(e, req(QUEUE + 1, 1, 1 << 22, 100, false, 0));   /* holds all memory */
	ck_assert_uint_eq(next(e, 60000, NULL), QUEUE + 1);
	double t2 = seconds();
	for (unsigned i = 0; i < CALLS; i++)
		must_eq(place_next(e, 60000, &d), 0);
	double t3 = seconds();
	printf("placement: place_next on a %u-job queue: %.0f decisions/s (each started, "
	       "then released), %.0f calls/s with the head blocked\n",
	       QUEUE, CALLS / (t1 - t0), CALLS / (t3 - t2));
	fflush(stdout);
	place_free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("placement");
	TCase *t = tcase_create("rules");
	TCase *sim = tcase_create("simulation");

	tcase_add_test(t, priority_first);
	tcase_add_test(t, fifo_then_id);
	tcase_add_test(t, aging);
	tcase_add_test(t, cancel);
	tcase_add_test(t, max_booting);
	tcase_add_test(t, fits_ever_says_why);
	tcase_add_test(t, errors);
	tcase_add_test(t, release_frees);
	tcase_add_test(t, dedicated_packs);
	tcase_add_test(t, dedicated_shrinks_pool);
	tcase_add_test(t, head_blocks);
	tcase_add_test(t, many_ids);
	tcase_add_loop_test(sim, random_workloads, 0, NSHAPES);
	tcase_add_test(sim, decisions_per_second);
	tcase_set_timeout(sim, 120);
	suite_add_tcase(s, t);
	suite_add_tcase(s, sim);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

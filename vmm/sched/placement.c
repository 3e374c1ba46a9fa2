/*
 * The placement engine (placement.h). Every resource is one additive
 * integer, so a job's cost, what is free, and the head's reservation are
 * all the same struct and the filters are plain comparisons:
 *   cpus   host CPUs free to dedicate
 *   room   room in the shared pool, in thousandths of a vCPU: a shared
 *          job costs 1000 per vCPU, a dedicated one cpu_milli per CPU
 *          (the CPUs it takes out of the pool), so "the committed shared
 *          vCPUs still fit the smaller pool" is just room >= 0
 *   mem    MiB
 *   slots  boot slots
 * Releases only add, which is what makes the head's reservation exact.
 *
 * Queued jobs sit in an unsorted array (order is by key, not position, so
 * removal swaps in the last one); started ones in another. An id map
 * finds either in O(1). place_next scans the queue once, twice when the
 * head cannot start.
 */
#include "vmm/sched/placement.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MILLI 1000
#define RATIO_MAX 1e6

struct cost {
	int64_t cpus, room, mem, slots;
};

struct active {
	struct place_req r;
	bool booting;
};

/* id -> where the job is: index << 1 | 1 if started. Open addressing,
 * linear probing, id 0 marks an empty slot (ids are non-zero). */
struct id_slot {
	uint64_t id;
	size_t ref;
};

struct id_map {
	struct id_slot *v;
	size_t cap, n;             /* cap: a power of two, or 0 */
};

/* A free CPU a dedicated job might take, with its weights. */
enum { NWEIGHERS = 2 };
struct cand {
	unsigned cpu;
	int64_t w[NWEIGHERS];
};

struct place_engine {
	struct place_host h;
	int64_t cpu_milli;         /* cpu_ratio in thousandths */
	uint64_t mem_cap;
	struct place_req *q;       /* queued, unsorted */
	size_t nq;
	struct active *a;          /* booting or running */
	size_t na;
	size_t cap;                /* of q and a each: every known job fits in either */
	struct id_map ids;
	unsigned ded_held;
	uint64_t shared_vcpus, mem_used;
	unsigned booting;
	uint64_t owner[PLACE_MAX_CPUS];   /* dedicated job holding the CPU, 0: pool */
	struct cand scratch[PLACE_MAX_CPUS];
};

/* ---- the id map ---- */

static size_t id_home(uint64_t id, size_t cap)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct id_slot *id_find(const struct id_map *m, uint64_t id)
{
	if (!m->cap)
		return NULL;
	for (size_t i = id_home(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->v[i].id == id)
			return &m->v[i];
		if (!m->v[i].id)
			return NULL;
	}
}

static void id_insert(struct id_map *m, uint64_t id, size_t ref)
{
	size_t i = id_home(id, m->cap);

	while (m->v[i].id)
		i = (i + 1) & (m->cap - 1);
	m->v[i] = (struct id_slot){ id, ref };
	m->n++;
}

/* Keep the load at most 1/2 so probes stay short. */
static int id_grow(struct id_map *m)
{
	if (2 * (m->n + 1) <= m->cap)
		return 0;
	size_t cap = m->cap ? 2 * m->cap : 64;
	struct id_map bigger = { calloc(cap, sizeof(struct id_slot)), cap, 0 };

	if (!bigger.v)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].id)
			id_insert(&bigger, m->v[i].id, m->v[i].ref);
	free(m->v);
	*m = bigger;
	return 0;
}

/* Backward-shift deletion: later entries of the probe run move into the
 * hole when their home allows it, so lookups need no tombstones. */
static void id_remove(struct id_map *m, struct id_slot *s)
{
	size_t mask = m->cap - 1, hole = (size_t)(s - m->v);

	for (size_t j = (hole + 1) & mask; m->v[j].id; j = (j + 1) & mask) {
		size_t home = id_home(m->v[j].id, m->cap);
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			m->v[hole] = m->v[j];
			hole = j;
		}
	}
	m->v[hole].id = 0;
	m->n--;
}

static void id_set(struct id_map *m, uint64_t id, size_t ref)
{
	id_find(m, id)->ref = ref;
}

/* ---- costs, filters ---- */

/* vcpus * cpu_milli stays below 2^62 (cpu_milli <= 10^9); mem_mib is
 * clamped so that an absurd request compares as too big, not negative. */
static struct cost cost_of(const struct place_engine *e, const struct place_req *r)
{
	int64_t mem = r->mem_mib > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)r->mem_mib;

	if (r->dedicated)
		return (struct cost){ r->vcpus, (int64_t)r->vcpus * e->cpu_milli, mem, 1 };
	return (struct cost){ 0, (int64_t)r->vcpus * MILLI, mem, 1 };
}

static struct cost free_now(const struct place_engine *e)
{
	int64_t pool = e->h.cpus - e->ded_held;

	return (struct cost){ pool, pool * e->cpu_milli - (int64_t)e->shared_vcpus * MILLI,
			      (int64_t)(e->mem_cap - e->mem_used),
			      (int64_t)e->h.max_booting - e->booting };
}

static struct cost empty_host(const struct place_engine *e)
{
	return (struct cost){ e->h.cpus, (int64_t)e->h.cpus * e->cpu_milli,
			      (int64_t)e->mem_cap, e->h.max_booting };
}

static bool filter_slots(const struct cost *need, const struct cost *avail)
{
	return need->slots <= avail->slots;
}

static bool filter_dedicated(const struct cost *need, const struct cost *avail)
{
	return need->cpus <= avail->cpus;
}

static bool filter_vcpus(const struct cost *need, const struct cost *avail)
{
	return need->room <= avail->room;
}

static bool filter_mem(const struct cost *need, const struct cost *avail)
{
	return need->mem <= avail->mem;
}

static int say(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -E2BIG;
}

/* What an empty host lacks for r, when filter f refuses it there. */
static int explain_slots(const struct place_engine *e, const struct place_req *r,
			 char *why, size_t len)
{
	return say(why, len, "needs a boot slot, the host allows %u", e->h.max_booting);
}

static int explain_dedicated(const struct place_engine *e, const struct place_req *r,
			     char *why, size_t len)
{
	return say(why, len, "needs %u dedicated CPUs, the host has %u", r->vcpus, e->h.cpus);
}

static int explain_vcpus(const struct place_engine *e, const struct place_req *r,
			 char *why, size_t len)
{
	double ratio = (double)e->cpu_milli / MILLI;

	/* Only a shared job gets here: a dedicated one that passes
	 * filter_dedicated needs no more room than an empty pool has. */
	return say(why, len, "needs %u vCPUs, the host has %g (%u CPUs at ratio %g)",
		   r->vcpus, e->h.cpus * ratio, e->h.cpus, ratio);
}

static int explain_mem(const struct place_engine *e, const struct place_req *r,
		       char *why, size_t len)
{
	return say(why, len, "needs %llu MiB, the host has %llu MiB "
		   "(%llu - %llu reserved, at ratio %g)", (unsigned long long)r->mem_mib,
		   (unsigned long long)e->mem_cap, (unsigned long long)e->h.mem_mib,
		   (unsigned long long)e->h.reserve_mib, e->h.mem_ratio);
}

static const struct filter {
	bool (*pass)(const struct cost *need, const struct cost *avail);
	int (*explain)(const struct place_engine *e, const struct place_req *r,
		       char *why, size_t len);
} filters[] = {
	{ filter_slots, explain_slots },
	{ filter_dedicated, explain_dedicated },
	{ filter_vcpus, explain_vcpus },
	{ filter_mem, explain_mem },
};

static bool passes(const struct cost *need, const struct cost *avail)
{
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (!filters[i].pass(need, avail))
			return false;
	return true;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* What is left of avail once the head has taken what it needs of it. */
static struct cost reserve_for(const struct cost *avail, const struct cost *head)
{
	return (struct cost){ avail->cpus - min64(head->cpus, avail->cpus),
			      avail->room - min64(head->room, avail->room),
			      avail->mem - min64(head->mem, avail->mem),
			      avail->slots - min64(head->slots, avail->slots) };
}

/* ---- order ---- */

struct key {
	int64_t prio;
	uint64_t submit, id;
};

static struct key key_of(const struct place_engine *e, const struct place_req *r,
			 uint64_t now)
{
	uint64_t aged = 0;

	if (e->h.aging_ms && now > r->submit_ms)
		aged = (now - r->submit_ms) / e->h.aging_ms;
	if (aged > (uint64_t)INT64_MAX / 2)      /* a clock gone mad must not wrap */
		aged = (uint64_t)INT64_MAX / 2;
	return (struct key){ r->priority + (int64_t)aged, r->submit_ms, r->id };
}

static bool before(const struct key *a, const struct key *b)
{
	if (a->prio != b->prio)
		return a->prio > b->prio;
	if (a->submit != b->submit)
		return a->submit < b->submit;
	return a->id < b->id;
}

static size_t find_head(const struct place_engine *e, uint64_t now)
{
	struct key best = key_of(e, &e->q[0], now);
	size_t head = 0;

	for (size_t i = 1; i < e->nq; i++) {
		struct key k = key_of(e, &e->q[i], now);
		if (before(&k, &best)) {
			best = k;
			head = i;
		}
	}
	return head;
}

/* The first job in order, other than the head, that passes the filters
 * against rest; e->nq if none. */
static size_t find_backfill(const struct place_engine *e, uint64_t now, size_t head,
			    const struct cost *rest)
{
	struct key best = { 0, 0, 0 };
	size_t pick = e->nq;

	/* Every job needs a slot, some room and some memory. */
	if (rest->slots < 1 || rest->room < 1 || rest->mem < 1)
		return pick;
	for (size_t i = 0; i < e->nq; i++) {
		struct cost need = cost_of(e, &e->q[i]);
		if (i == head || !passes(&need, rest))
			continue;
		struct key k = key_of(e, &e->q[i], now);
		if (pick == e->nq || before(&k, &best)) {
			best = k;
			pick = i;
		}
	}
	return pick;
}

/* ---- weighers: which CPUs a dedicated job takes ---- */

/* The smallest free block that holds the whole job first, then the
 * smallest blocks: fill holes, keep big blocks whole. */
static int64_t weigh_block(unsigned cpu, unsigned block_len, unsigned k)
{
	return (block_len >= k ? 2 : 1) * (int64_t)PLACE_MAX_CPUS - block_len;
}

/* Lowest first, so the job's CPUs within a block are adjacent. */
static int64_t weigh_low(unsigned cpu, unsigned block_len, unsigned k)
{
	return -(int64_t)cpu;
}

static int64_t (*const weighers[NWEIGHERS])(unsigned cpu, unsigned block_len, unsigned k) = {
	weigh_block, weigh_low,
};

/* Higher weights first, by the first weigher, then the next. */
static int by_weight(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	for (unsigned i = 0; i < NWEIGHERS; i++)
		if (a->w[i] != b->w[i])
			return a->w[i] > b->w[i] ? -1 : 1;
	return 0;
}

static int by_cpu(const void *pa, const void *pb)
{
	uint16_t a = *(const uint16_t *)pa, b = *(const uint16_t *)pb;

	return (a > b) - (a < b);
}

/* Candidates: the free CPUs, weighed; returns how many. */
static unsigned weigh_free_cpus(struct place_engine *e, unsigned k)
{
	unsigned n = 0;

	for (unsigned start = 0; start < e->h.cpus;) {
		unsigned end = start;
		while (end < e->h.cpus && !e->owner[end])
			end++;
		for (unsigned c = start; c < end; c++) {
			e->scratch[n].cpu = c;
			for (unsigned i = 0; i < NWEIGHERS; i++)
				e->scratch[n].w[i] = weighers[i](c, end - start, k);
			n++;
		}
		start = end == start ? end + 1 : end;
	}
	return n;
}

static void take_dedicated(struct place_engine *e, const struct place_req *r,
			   struct place_decision *d)
{
	unsigned n = weigh_free_cpus(e, r->vcpus);

	qsort(e->scratch, n, sizeof(e->scratch[0]), by_weight);
	for (unsigned i = 0; i < r->vcpus; i++) {
		d->cpus[i] = (uint16_t)e->scratch[i].cpu;
		e->owner[e->scratch[i].cpu] = r->id;
	}
	d->ncpus = r->vcpus;
	qsort(d->cpus, d->ncpus, sizeof(d->cpus[0]), by_cpu);
	e->ded_held += r->vcpus;
}

static void list_pool(const struct place_engine *e, struct place_decision *d)
{
	d->ncpus = 0;
	for (unsigned c = 0; c < e->h.cpus; c++)
		if (!e->owner[c])
			d->cpus[d->ncpus++] = (uint16_t)c;
}

/* ---- starting and ending ---- */

/* Commit queued job i and move it to the started ones. The room was made
 * at enqueue, so nothing here can fail. */
static int start(struct place_engine *e, size_t i, struct place_decision *d)
{
	struct place_req r = e->q[i];

	if (r.dedicated)
		take_dedicated(e, &r, d);
	else {
		list_pool(e, d);
		e->shared_vcpus += r.vcpus;
	}
	d->id = r.id;
	e->mem_used += r.mem_mib;
	e->booting++;
	e->q[i] = e->q[--e->nq];
	if (i < e->nq)
		id_set(&e->ids, e->q[i].id, i << 1);
	e->a[e->na] = (struct active){ r, true };
	id_set(&e->ids, r.id, e->na++ << 1 | 1);
	return 1;
}

int place_next(struct place_engine *e, uint64_t now_ms, struct place_decision *d)
{
	struct cost avail = free_now(e);

	if (!e->nq || avail.slots < 1)
		return 0;
	size_t head = find_head(e, now_ms);
	struct cost need = cost_of(e, &e->q[head]);
	if (passes(&need, &avail))
		return start(e, head, d);
	struct cost rest = reserve_for(&avail, &need);
	size_t pick = find_backfill(e, now_ms, head, &rest);
	return pick < e->nq ? start(e, pick, d) : 0;
}

static struct active *find_active(const struct place_engine *e, uint64_t id)
{
	struct id_slot *s = id_find(&e->ids, id);

	return s && (s->ref & 1) ? &e->a[s->ref >> 1] : NULL;
}

int place_booted(struct place_engine *e, uint64_t id)
{
	struct active *a = find_active(e, id);

	if (!a || !a->booting)
		return -ENOENT;
	a->booting = false;
	e->booting--;
	return 0;
}

static void free_dedicated(struct place_engine *e, uint64_t id, unsigned n)
{
	for (unsigned c = 0; c < e->h.cpus; c++)
		if (e->owner[c] == id)
			e->owner[c] = 0;
	e->ded_held -= n;
}

int place_release(struct place_engine *e, uint64_t id)
{
	struct id_slot *s = id_find(&e->ids, id);

	if (!s || !(s->ref & 1))
		return -ENOENT;
	size_t i = s->ref >> 1;
	const struct place_req *r = &e->a[i].r;
	if (r->dedicated)
		free_dedicated(e, id, r->vcpus);
	else
		e->shared_vcpus -= r->vcpus;
	e->mem_used -= r->mem_mib;
	e->booting -= e->a[i].booting;
	id_remove(&e->ids, s);
	e->a[i] = e->a[--e->na];
	if (i < e->na)
		id_set(&e->ids, e->a[i].r.id, i << 1 | 1);
	return 0;
}

/* ---- queue ---- */

static bool valid_req(const struct place_req *r)
{
	return r->id && r->vcpus && r->mem_mib;
}

int place_fits_ever(const struct place_engine *e, const struct place_req *r,
		    char *why, size_t whylen)
{
	if (!valid_req(r)) {
		if (whylen)
			snprintf(why, whylen, "a request needs an id, vCPUs and memory");
		return -EINVAL;
	}
	struct cost need = cost_of(e, r), all = empty_host(e);
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (!filters[i].pass(&need, &all))
			return filters[i].explain(e, r, why, whylen);
	if (whylen)
		why[0] = '\0';
	return 0;
}

/* Room for one more known job in both arrays, so start() never allocates. */
static int grow_jobs(struct place_engine *e)
{
	if (e->nq + e->na < e->cap)
		return 0;
	size_t cap = e->cap ? 2 * e->cap : 64;
	struct place_req *q = realloc(e->q, cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	e->q = q;
	struct active *a = realloc(e->a, cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	e->a = a;
	e->cap = cap;
	return 0;
}

int place_enqueue(struct place_engine *e, const struct place_req *r)
{
	if (!valid_req(r))
		return -EINVAL;
	if (id_find(&e->ids, r->id))
		return -EEXIST;
	if (place_fits_ever(e, r, NULL, 0))
		return -E2BIG;
	if (grow_jobs(e) || id_grow(&e->ids))
		return -ENOMEM;
	e->q[e->nq] = *r;
	id_insert(&e->ids, r->id, e->nq++ << 1);
	return 0;
}

int place_cancel(struct place_engine *e, uint64_t id)
{
	struct id_slot *s = id_find(&e->ids, id);

	if (!s || (s->ref & 1))
		return -ENOENT;
	size_t i = s->ref >> 1;
	id_remove(&e->ids, s);
	e->q[i] = e->q[--e->nq];
	if (i < e->nq)
		id_set(&e->ids, e->q[i].id, i << 1);
	return 0;
}

/* ---- the engine ---- */

/* A ratio in thousandths, or 0 if out of range (NaN included). */
static int64_t to_milli(double ratio)
{
	if (!(ratio >= 1.0 / MILLI && ratio <= RATIO_MAX))
		return 0;
	return (int64_t)(ratio * MILLI + 0.5);     /* positive: rounds to nearest */
}

struct place_engine *place_new(const struct place_host *h)
{
	int64_t cpu_milli = to_milli(h->cpu_ratio), mem_milli = to_milli(h->mem_ratio);

	if (!h->cpus || h->cpus > PLACE_MAX_CPUS || !cpu_milli || !mem_milli ||
	    !h->max_booting || h->mem_mib <= h->reserve_mib ||
	    h->mem_mib - h->reserve_mib > (uint64_t)INT64_MAX / MILLI / (uint64_t)mem_milli)
		return NULL;
	struct place_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->h = *h;
	e->cpu_milli = cpu_milli;
	e->mem_cap = (h->mem_mib - h->reserve_mib) * (uint64_t)mem_milli / MILLI;
	return e;
}

void place_free(struct place_engine *e)
{
	if (!e)
		return;
	free(e->q);
	free(e->a);
	free(e->ids.v);
	free(e);
}

void place_get_stats(const struct place_engine *e, struct place_stats *s)
{
	*s = (struct place_stats){
		.vcpu_capacity = (double)(e->h.cpus - e->ded_held) * e->cpu_milli / MILLI,
		.vcpus_committed = (double)e->shared_vcpus,
		.dedicated_cpus = e->ded_held,
		.mem_capacity_mib = e->mem_cap,
		.mem_committed_mib = e->mem_used,
		.queued = (unsigned)e->nq,
		.booting = e->booting,
		.running = (unsigned)e->na - e->booting,
	};
}

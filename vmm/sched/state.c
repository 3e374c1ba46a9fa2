/*
 * The jobs table in SQLite. Every statement is prepared once at open; a
 * step that fails is -EIO (SQLite's own message goes to the daemon's
 * stderr once, where the operator sees it).
 */
#include "vmm/sched/state.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stmt {
	ST_NEXT_ID, ST_INSERT, ST_GET, ST_STARTED, ST_RUNNING, ST_ENDED,
	ST_ALL, ST_ACTIVE, ST_ORPHANS, ST_COUNT
};

static const char *const sql[ST_COUNT] = {
	[ST_NEXT_ID] = "SELECT COALESCE(MAX(id), 0) + 1 FROM jobs",
	[ST_INSERT] = "INSERT INTO jobs (id, state, config, flavor, vcpus, mem_mib, cost_mib,"
		      " dedicated, priority, args, submitted_ms, started_ms, ended_ms,"
		      " status, reason, pid, cpus)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		      " ?15, ?16, ?17)",
	[ST_GET] = "SELECT * FROM jobs WHERE id = ?1",
	[ST_STARTED] = "UPDATE jobs SET state = 'booting', pid = ?2, cpus = ?3, started_ms = ?4"
		       " WHERE id = ?1",
	[ST_RUNNING] = "UPDATE jobs SET state = 'running' WHERE id = ?1",
	[ST_ENDED] = "UPDATE jobs SET state = ?2, status = ?3, reason = ?4, ended_ms = ?5"
		     " WHERE id = ?1",
	[ST_ALL] = "SELECT * FROM jobs ORDER BY id",
	[ST_ACTIVE] = "SELECT * FROM jobs WHERE state IN ('queued', 'booting', 'running')"
		      " ORDER BY id",
	[ST_ORPHANS] = "UPDATE jobs SET state = 'failed', reason = ?1, ended_ms = ?2"
		       " WHERE state IN ('booting', 'running')",
};

/* Version 1. Columns in the order job_row reads them (ST_GET's "*"). */
static const char schema[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = NORMAL;"
	"CREATE TABLE IF NOT EXISTS jobs ("
	" id INTEGER PRIMARY KEY,"
	" state TEXT NOT NULL CHECK (state IN"
	"  ('queued', 'booting', 'running', 'exited', 'failed', 'killed')),"
	" config TEXT NOT NULL,"
	" flavor TEXT,"
	" vcpus INTEGER NOT NULL,"
	" mem_mib INTEGER NOT NULL,"
	" cost_mib INTEGER NOT NULL,"
	" dedicated INTEGER NOT NULL DEFAULT 0,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" args TEXT NOT NULL DEFAULT '[]',"
	" submitted_ms INTEGER NOT NULL,"
	" started_ms INTEGER,"
	" ended_ms INTEGER,"
	" status INTEGER,"
	" reason TEXT,"
	" pid INTEGER,"
	" cpus TEXT);"
	"CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);"
	"PRAGMA user_version = 1;";

struct state {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
};

static const char *const state_names[] = {
	[JOB_QUEUED] = "queued", [JOB_BOOTING] = "booting", [JOB_RUNNING] = "running",
	[JOB_EXITED] = "exited", [JOB_FAILED] = "failed", [JOB_KILLED] = "killed",
};

const char *job_state_name(enum job_state st)
{
	return (unsigned)st <= JOB_KILLED ? state_names[st] : "unknown";
}

int job_state_parse(const char *name)
{
	for (int i = 0; i <= JOB_KILLED; i++)
		if (name && strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

static int prepare_all(struct state *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "state.db: %s", sqlite3_errmsg(s->db));
			return -EIO;
		}
	}
	return 0;
}

int state_open(const char *dir, struct state **out, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof(*s));
	char path[PATH_MAX];
	int ret = -EIO;

	if (!s)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "no memory");
		goto fail;
	}
	/* The daemon is the only writer; a reader (sqlite3 state.db) may
	 * briefly hold a lock. */
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	ret = prepare_all(s, err, errlen);
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	state_close(s);
	return ret;
}

void state_close(struct state *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

/* Run a bound statement that returns no rows, and reset it. */
static int step_done(struct state *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "mote serve: state.db: %s\n", sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

int state_next_id(struct state *s, uint64_t *id)
{
	sqlite3_stmt *st = s->st[ST_NEXT_ID];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*id = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/* NULL for "not known" (-1 times and statuses, pid 0, empty text). */
static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (!v || !*v)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

int state_insert(struct state *s, const struct job_row *r)
{
	sqlite3_stmt *st = s->st[ST_INSERT];

	sqlite3_bind_int64(st, 1, (int64_t)r->id);
	sqlite3_bind_text(st, 2, job_state_name(r->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->config, -1, SQLITE_TRANSIENT);
	bind_opt_text(st, 4, r->flavor);
	sqlite3_bind_int64(st, 5, r->vcpus);
	sqlite3_bind_int64(st, 6, (int64_t)r->mem_mib);
	sqlite3_bind_int64(st, 7, (int64_t)r->cost_mib);
	sqlite3_bind_int(st, 8, r->dedicated);
	sqlite3_bind_int(st, 9, r->priority);
	sqlite3_bind_text(st, 10, r->args, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 11, r->submitted_ms);
	bind_opt_int(st, 12, r->started_ms, -1);
	bind_opt_int(st, 13, r->ended_ms, -1);
	bind_opt_int(st, 14, r->status, -1);
	bind_opt_text(st, 15, r->reason);
	bind_opt_int(st, 16, r->pid, 0);
	bind_opt_text(st, 17, r->cpus);
	return step_done(s, st);
}

static void col_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

static int64_t col_opt(sqlite3_stmt *st, int i, int64_t none)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

/* The current row of a "SELECT *" into r. */
static void read_row(sqlite3_stmt *st, struct job_row *r)
{
	char name[16];

	memset(r, 0, sizeof(*r));
	r->id = (uint64_t)sqlite3_column_int64(st, 0);
	col_text(st, 1, name, sizeof(name));
	r->state = (enum job_state)job_state_parse(name);
	col_text(st, 2, r->config, sizeof(r->config));
	col_text(st, 3, r->flavor, sizeof(r->flavor));
	r->vcpus = (unsigned)sqlite3_column_int64(st, 4);
	r->mem_mib = (uint64_t)sqlite3_column_int64(st, 5);
	r->cost_mib = (uint64_t)sqlite3_column_int64(st, 6);
	r->dedicated = sqlite3_column_int(st, 7) != 0;
	r->priority = sqlite3_column_int(st, 8);
	col_text(st, 9, r->args, sizeof(r->args));
	r->submitted_ms = sqlite3_column_int64(st, 10);
	r->started_ms = col_opt(st, 11, -1);
	r->ended_ms = col_opt(st, 12, -1);
	r->status = (int)col_opt(st, 13, -1);
	col_text(st, 14, r->reason, sizeof(r->reason));
	r->pid = (int)col_opt(st, 15, 0);
	col_text(st, 16, r->cpus, sizeof(r->cpus));
}

int state_get(struct state *s, uint64_t id, struct job_row *r)
{
	sqlite3_stmt *st = s->st[ST_GET];
	int rc;

	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, r);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int state_set_started(struct state *s, uint64_t id, int pid, const char *cpus, int64_t now_ms)
{
	sqlite3_stmt *st = s->st[ST_STARTED];

	sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_int(st, 2, pid);
	bind_opt_text(st, 3, cpus);
	sqlite3_bind_int64(st, 4, now_ms);
	return step_done(s, st);
}

int state_set_running(struct state *s, uint64_t id)
{
	sqlite3_stmt *st = s->st[ST_RUNNING];

	sqlite3_bind_int64(st, 1, (int64_t)id);
	return step_done(s, st);
}

int state_set_ended(struct state *s, uint64_t id, enum job_state stt, int status,
		    const char *reason, int64_t now_ms)
{
	sqlite3_stmt *st = s->st[ST_ENDED];

	sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_text(st, 2, job_state_name(stt), -1, SQLITE_STATIC);
	bind_opt_int(st, 3, status, -1);
	bind_opt_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, now_ms);
	return step_done(s, st);
}

int state_each(struct state *s, bool all, state_row_fn fn, void *opaque)
{
	sqlite3_stmt *st = s->st[all ? ST_ALL : ST_ACTIVE];
	struct job_row *r = malloc(sizeof(*r));   /* ~9 KiB: not on the stack */
	int rc, ret = 0;

	if (!r)
		return -ENOMEM;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, r);
		ret = fn(opaque, r);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = -EIO;
	sqlite3_reset(st);
	free(r);
	return ret;
}

int state_fail_orphans(struct state *s, const char *reason, int64_t now_ms)
{
	sqlite3_stmt *st = s->st[ST_ORPHANS];
	int ret;

	sqlite3_bind_text(st, 1, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now_ms);
	ret = step_done(s, st);
	return ret ? ret : sqlite3_changes(s->db);
}

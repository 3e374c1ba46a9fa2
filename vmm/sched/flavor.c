/*
 * Flavors: the built-in table and a strict JSON loader. A file is parsed
 * and checked whole into a scratch list before the set changes, so a bad
 * file leaves the set as it was. The file reader repeats config_json's
 * (non-blocking open, regular files only, size cap) because vmm/sched may
 * not include vmm/config.
 */
#include "vmm/api/mote.h"
#include "vmm/sched/flavor.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLAVOR_FILE_MAX (1u << 20)
#define VCPUS_MIN 1
#define VCPUS_MAX 255
#define MEM_MIN_MIB 16
#define MEM_MAX_MIB 1048576

static const struct flavor builtin[] = {
	{ "tiny", 1, 128, false },
	{ "small", 1, 512, false },
	{ "medium", 2, 2048, false },
	{ "large", 4, 8192, false },
	{ "dedicated-2", 2, 2048, true },
};

int flavor_defaults(struct flavor_set *s)
{
	size_t n = sizeof(builtin) / sizeof(*builtin);

	s->v = malloc(sizeof(builtin));
	s->n = 0;
	if (!s->v)
		return -ENOMEM;
	memcpy(s->v, builtin, sizeof(builtin));
	s->n = n;
	return 0;
}

const struct flavor *flavor_find(const struct flavor_set *s, const char *name)
{
	for (size_t i = 0; name && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

void flavor_release(struct flavor_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* ---- parsing ---- */

struct fctx {
	const char *file;
	char *err;
	size_t errlen;
	char shown[512];           /* file, escaped for messages */
};

/* "flavors.json: flavors[2].turbo: unknown key"; always -EINVAL. */
__attribute__((format(printf, 3, 4)))
static int ffail(struct fctx *x, const char *path, const char *fmt, ...)
{
	char msg[256], path_shown[256], msg_shown[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The path's keys and the values msg quotes are the file's. */
	snprintf(x->err, x->errlen, "%s: %s%s%s", x->shown,
		 mote_str_shown(path, path_shown, sizeof(path_shown)), *path ? ": " : "",
		 mote_str_shown(msg, msg_shown, sizeof(msg_shown)));
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL:    return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	default:           return "null";
	}
}

static int want(struct fctx *x, const char *path, const json_t *v, const char *what)
{
	return ffail(x, path, "expected %s, got %s", what, type_name(v));
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= FLAVOR_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int get_name(struct fctx *x, const char *path, json_t *v, struct flavor *f)
{
	const char *s;

	if (!json_is_string(v))
		return want(x, path, v, "a string");
	s = json_string_value(v);
	/* No embedded NUL to worry about: without JSON_ALLOW_NUL, jansson
	 * refuses "\u0000" while parsing. */
	if (!name_ok(s))
		return ffail(x, path, "\"%s\" is not 1 to %d characters of a-z, 0-9, '.', '_', '-'",
			     s, FLAVOR_NAME_MAX - 1);
	strcpy(f->name, s);
	return 0;
}

static int get_range(struct fctx *x, const char *path, json_t *v,
		     long long lo, long long hi, long long *out)
{
	long long n;

	if (!json_is_integer(v))
		return want(x, path, v, "an integer");
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return ffail(x, path, "%lld is out of range %lld..%lld", n, lo, hi);
	*out = n;
	return 0;
}

static int get_vcpus(struct fctx *x, const char *path, json_t *v, struct flavor *f)
{
	long long n = 0;
	int r = get_range(x, path, v, VCPUS_MIN, VCPUS_MAX, &n);

	if (!r)
		f->vcpus = (unsigned)n;
	return r;
}

static int get_mem(struct fctx *x, const char *path, json_t *v, struct flavor *f)
{
	long long n = 0;
	int r = get_range(x, path, v, MEM_MIN_MIB, MEM_MAX_MIB, &n);

	if (!r)
		f->mem_mib = (uint64_t)n;
	return r;
}

static int get_dedicated(struct fctx *x, const char *path, json_t *v, struct flavor *f)
{
	if (!json_is_boolean(v))
		return want(x, path, v, "a boolean");
	f->dedicated = json_is_true(v);
	return 0;
}

struct ffield {
	const char *key;
	bool required;
	int (*parse)(struct fctx *x, const char *path, json_t *v, struct flavor *f);
};

static const struct ffield fields[] = {
	{ "name", true, get_name },
	{ "vcpus", true, get_vcpus },
	{ "mem_mib", true, get_mem },
	{ "dedicated", false, get_dedicated },
	{ NULL, false, NULL },
};

/* One element of "flavors": keys in file order, so the first mistake in
 * the file is the one reported; then the required keys. */
static int parse_flavor(struct fctx *x, size_t i, json_t *o, struct flavor *f)
{
	char prefix[32], path[96];
	const char *key;
	json_t *val;

	snprintf(prefix, sizeof(prefix), "flavors[%zu]", i);
	if (!json_is_object(o))
		return want(x, prefix, o, "an object");
	memset(f, 0, sizeof(*f));
	json_object_foreach(o, key, val) {
		const struct ffield *t = fields;
		int r;

		while (t->key && strcmp(t->key, key) != 0)
			t++;
		snprintf(path, sizeof(path), "%s.%s", prefix, key);
		if (!t->key)
			return ffail(x, path, "unknown key");
		r = t->parse(x, path, val, f);
		if (r)
			return r;
	}
	for (const struct ffield *t = fields; t->key; t++) {
		snprintf(path, sizeof(path), "%s.%s", prefix, t->key);
		if (t->required && !json_object_get(o, t->key))
			return ffail(x, path, "missing");
	}
	return 0;
}

/* A name twice in one file is a mistake, not a replacement. */
static int check_unique(struct fctx *x, const struct flavor *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[i].name, v[j].name) == 0) {
				char path[48];

				snprintf(path, sizeof(path), "flavors[%zu].name", i);
				return ffail(x, path, "\"%s\" is already flavors[%zu]",
					     v[i].name, j);
			}
	return 0;
}

/* The "flavors" array of root, parsed into a new array *out of *n. */
static int parse_root(struct fctx *x, json_t *root, struct flavor **out, size_t *n)
{
	json_t *list, *el;
	const char *key;
	size_t i;

	if (!json_is_object(root))
		return want(x, "", root, "an object");
	json_object_foreach(root, key, el)
		if (strcmp(key, "flavors") != 0)
			return ffail(x, key, "unknown key");
	list = json_object_get(root, "flavors");
	if (!list)
		return ffail(x, "flavors", "missing");
	if (!json_is_array(list))
		return want(x, "flavors", list, "an array");
	*n = json_array_size(list);
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(list, i, el) {
		int r = parse_flavor(x, i, el, &(*out)[i]);

		if (r)
			return r;
	}
	return check_unique(x, *out, *n);
}

/* Replace the flavors of s named in add, append the others. */
static int merge(struct flavor_set *s, const struct flavor *add, size_t n)
{
	struct flavor *v;

	if (n == 0)
		return 0;
	v = realloc(s->v, (s->n + n) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	for (size_t i = 0; i < n; i++) {
		struct flavor *old = (struct flavor *)flavor_find(s, add[i].name);

		if (old)
			*old = add[i];
		else
			s->v[s->n++] = add[i];
	}
	return 0;
}

/* ---- the file ---- */

/* Open path without blocking (a FIFO would wait for a writer) and keep
 * it only if it is a regular file of at most FLAVOR_FILE_MAX bytes. */
static int open_file(struct fctx *x)
{
	int fd = open(x->file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int e = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	if (e) {
		snprintf(x->err, x->errlen, "%s: %s", x->shown, strerror(e));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(x->err, x->errlen, "%s: not a regular file", x->shown);
		e = EINVAL;
	} else if (st.st_size > (off_t)FLAVOR_FILE_MAX) {
		snprintf(x->err, x->errlen, "%s: larger than %u MiB", x->shown, FLAVOR_FILE_MAX >> 20);
		e = EFBIG;
	}
	if (e && fd >= 0)
		close(fd);
	return e ? -e : fd;
}

/* The whole file in *buf (*len bytes); one byte more than the cap is
 * asked for, so a file that grew since fstat is still caught. */
static int read_file(struct fctx *x, int fd, char **buf, size_t *len)
{
	size_t cap = FLAVOR_FILE_MAX + 1, n = 0;
	char *b = malloc(cap);
	ssize_t got = 1;

	if (!b)
		return -ENOMEM;
	while (n < cap && got > 0) {
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			got = 1;
		else if (got > 0)
			n += (size_t)got;
	}
	if (got < 0 || n >= cap) {
		int e = got < 0 ? errno : EFBIG;

		if (e == EFBIG)
			snprintf(x->err, x->errlen, "%s: larger than %u MiB", x->shown,
				 FLAVOR_FILE_MAX >> 20);
		else
			snprintf(x->err, x->errlen, "%s: %s", x->shown, strerror(e));
		free(b);
		return -e;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int parse_text(struct fctx *x, const char *text, size_t len,
		      struct flavor **v, size_t *n)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	int r;

	if (!root) {
		char why[512];

		snprintf(x->err, x->errlen, "%s: line %d column %d: %s", x->shown,
			 je.line, je.column, mote_str_shown(je.text, why, sizeof(why)));
		return -EINVAL;
	}
	r = parse_root(x, root, v, n);
	json_decref(root);
	return r;
}

int flavor_load(struct flavor_set *s, const char *path, char *err, size_t errlen)
{
	struct fctx x = { path, err, errlen, "" };
	struct flavor *v = NULL;
	char *text = NULL;
	size_t len = 0, n = 0;
	int fd, r;

	mote_str_shown(path, x.shown, sizeof(x.shown));
	fd = open_file(&x);
	if (fd < 0)
		return fd;
	r = read_file(&x, fd, &text, &len);
	close(fd);
	if (!r)
		r = parse_text(&x, text, len, &v, &n);
	if (!r)
		r = merge(s, v, n);
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", x.shown);
	free(text);
	free(v);
	return r;
}

/*
 * Firecracker's --config-file schema, read strictly with jansson: every
 * object is walked against a table of its keys, so an unknown key, a
 * wrong type or a section mote does not implement is an error naming the
 * file and the field. null means "absent", as it does for Firecracker.
 * Ranges and paths are left to config_validate, which sees the merged
 * config. Relative paths are relative to the working directory, as with
 * Firecracker.
 *
 * Accepted: boot-source {kernel_image_path (required), boot_args,
 * initrd_path}; drives [{drive_id, path_on_host (both required),
 * is_root_device, is_read_only, partuuid, cache_type "Unsafe"|"Writeback",
 * io_engine "Sync"|"Async" (both recorded, neither changes anything)}];
 * network-interfaces [{iface_id (required), host_dev_name (required for
 * a TAP), guest_mac, mote}]; machine-config {vcpu_count,
 * mem_size_mib, and smt, track_dirty_pages false, huge_pages and
 * cpu_template "None"}; logger {log_path, level, show_level,
 * show_log_origin, module}; metrics {metrics_path (required)}. Anything
 * omitted keeps config_init's default.
 *
 * Refused as "not supported yet" unless null (or an empty list): balloon,
 * vsock, mmds-config, entropy, pmem, memory-hotplug, cpu-config, rate
 * limiters (an empty {} is allowed) and vhost-user drives (socket).
 *
 * mote's additions: drives[].ephemeral (bool); network-interfaces[].mote
 * {backend "tap" (default) or "user", create (bool, tap only: mote
 * creates the TAP), hostfwd (user only: an array of "tcp:[HOSTADDR]:
 * HOSTPORT-:GUESTPORT" strings, as --net takes them)}, where a "user"
 * interface has no host_dev_name; and a top-level "mote" object
 * {timeout_s (number, 0: none), console_log (path), console_log_max_bytes
 * (integer, 0: no cap), result (path), seccomp ("on", "off" or "log"),
 * kernel_cache (bool, default true)}.
 *
 * Drives and interfaces are counted as they are added: the element that
 * would be the (CONFIG_MAX_DEVICES + 1)th device is refused at once.
 */
#include "vmm/config/config.h"
#include "vmm/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct jctx {
	struct vm_config *c;
	const char *file;
	char *err;
	size_t errlen;
};

/* One key of an object: path is the field's full name for messages,
 * obj what the enclosing walk fills. */
struct jfield {
	const char *key;
	int (*parse)(struct jctx *x, const char *path, json_t *v, void *obj);
};

/* The file, the field's path (its keys are the file's) and the message
 * (which may quote a value) are each escaped: the line stays one line. */
__attribute__((format(printf, 3, 4)))
static int jfail(struct jctx *x, const char *path, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s: %s%s%s", log_str(x->file).s, log_str(path).s,
		 *path ? ": " : "", log_str(msg).s);
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

static int want(struct jctx *x, const char *path, const json_t *v, const char *what)
{
	return jfail(x, path, "expected %s, got %s", what, type_name(v));
}

/* "vm.json: drives[0].drive_id: missing". */
static int missing(struct jctx *x, const char *obj, const char *key)
{
	char path[192];

	snprintf(path, sizeof(path), "%s.%s", obj, key);
	return jfail(x, path, "missing");
}

static int get_str(struct jctx *x, const char *path, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return want(x, path, v, "a string");
	*out = json_string_value(v);
	return 0;
}

static int get_bool(struct jctx *x, const char *path, json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return want(x, path, v, "a boolean");
	*out = json_is_true(v);
	return 0;
}

static int get_int(struct jctx *x, const char *path, json_t *v, long long *out)
{
	if (!json_is_integer(v))
		return want(x, path, v, "an integer");
	*out = json_integer_value(v);
	return 0;
}

/* Replace *slot with a copy of the string v. */
static int set_str(struct jctx *x, const char *path, json_t *v, char **slot)
{
	const char *s;
	char *copy;

	if (get_str(x, path, v, &s))
		return -EINVAL;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static int unsupported(struct jctx *x, const char *path, json_t *v, void *obj)
{
	/* An empty list configures nothing: Firecracker's own dumps have
	 * "pmem": []. */
	if (json_is_array(v) && json_array_size(v) == 0)
		return 0;
	return jfail(x, path, "not supported yet");
}

static const struct jfield *find_field(const struct jfield *t, const char *key)
{
	for (; t->key; t++)
		if (strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

/* Check obj against table t and parse each key present (in file order,
 * so the first mistake in the file is the one reported). */
static int walk(struct jctx *x, const char *prefix, json_t *obj,
		const struct jfield *t, void *target)
{
	const char *key;
	json_t *val;

	if (!json_is_object(obj))
		return want(x, prefix, obj, "an object");
	json_object_foreach(obj, key, val) {
		const struct jfield *f = find_field(t, key);
		char path[160];
		int r;

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		if (!f)
			return jfail(x, path, "unknown key");
		if (json_is_null(val))
			continue;
		r = f->parse(x, path, val, target);
		if (r)
			return r;
	}
	return 0;
}

/* ---- boot-source ---- */

static int bs_kernel(struct jctx *x, const char *path, json_t *v, void *o)
{
	x->c->from.kernel = CONFIG_FROM_FILE;
	return set_str(x, path, v, &x->c->kernel);
}

static int bs_args(struct jctx *x, const char *path, json_t *v, void *o)
{
	return set_str(x, path, v, &x->c->cmdline);
}

static int bs_initrd(struct jctx *x, const char *path, json_t *v, void *o)
{
	x->c->from.initrd = CONFIG_FROM_FILE;
	return set_str(x, path, v, &x->c->initrd);
}

static const struct jfield boot_fields[] = {
	{ "kernel_image_path", bs_kernel },
	{ "boot_args", bs_args },
	{ "initrd_path", bs_initrd },
	{ NULL, NULL },
};

static int sec_boot(struct jctx *x, const char *path, json_t *v, void *o)
{
	int r = walk(x, path, v, boot_fields, NULL);

	if (!r && !json_is_string(json_object_get(v, "kernel_image_path")))
		return missing(x, path, "kernel_image_path");
	return r;
}

/* ---- machine-config ---- */

static int mc_vcpus(struct jctx *x, const char *path, json_t *v, void *o)
{
	long long n = 0;

	if (get_int(x, path, v, &n))
		return -EINVAL;
	/* Values the field cannot hold; the validator checks the rest. */
	if (n < 0)
		return jfail(x, path, "%lld is negative", n);
	if (n > UINT_MAX)
		return jfail(x, path, "%lld is too large", n);
	x->c->cpus = (unsigned)n;
	x->c->from.cpus = CONFIG_FROM_FILE;
	return 0;
}

static int mc_mem(struct jctx *x, const char *path, json_t *v, void *o)
{
	long long n = 0;

	if (get_int(x, path, v, &n))
		return -EINVAL;
	if (n < 0)
		return jfail(x, path, "%lld is negative", n);
	x->c->mem_mib = (uint64_t)n;
	x->c->from.mem = CONFIG_FROM_FILE;
	return 0;
}

/* A feature mote lacks: its off value is fine, anything else is not. */
static int mc_off_only(struct jctx *x, const char *path, json_t *v, void *o)
{
	bool on = false;

	if (get_bool(x, path, v, &on))
		return -EINVAL;
	return on ? jfail(x, path, "true: not supported yet") : 0;
}

static int mc_none_only(struct jctx *x, const char *path, json_t *v, void *o)
{
	const char *s;

	if (get_str(x, path, v, &s))
		return -EINVAL;
	return strcmp(s, "None") ? jfail(x, path, "'%s': not supported yet", s) : 0;
}

static const struct jfield machine_fields[] = {
	{ "vcpu_count", mc_vcpus },
	{ "mem_size_mib", mc_mem },
	{ "smt", mc_off_only },
	{ "track_dirty_pages", mc_off_only },
	{ "huge_pages", mc_none_only },
	{ "cpu_template", mc_none_only },
	{ NULL, NULL },
};

static int sec_machine(struct jctx *x, const char *path, json_t *v, void *o)
{
	return walk(x, path, v, machine_fields, NULL);
}

/* ---- drives ---- */

struct jdrive {
	const char *id, *path, *partuuid;
	bool read_only, root, ephemeral;
	enum drive_cache cache;
	enum drive_io io;
};

static int dr_id(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_str(x, path, v, &((struct jdrive *)o)->id);
}

static int dr_path(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_str(x, path, v, &((struct jdrive *)o)->path);
}

static int dr_partuuid(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_str(x, path, v, &((struct jdrive *)o)->partuuid);
}

static int dr_root(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_bool(x, path, v, &((struct jdrive *)o)->root);
}

static int dr_ro(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_bool(x, path, v, &((struct jdrive *)o)->read_only);
}

static int dr_ephemeral(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_bool(x, path, v, &((struct jdrive *)o)->ephemeral);
}

/* Index of s in names (exact, as Firecracker's enums are), or -1. */
static int pick(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int dr_cache(struct jctx *x, const char *path, json_t *v, void *o)
{
	static const char *const names[] = { "Unsafe", "Writeback" };
	const char *s;
	int i;

	if (get_str(x, path, v, &s))
		return -EINVAL;
	i = pick(s, names, 2);
	if (i < 0)
		return jfail(x, path, "'%s': expected \"Unsafe\" or \"Writeback\"", s);
	((struct jdrive *)o)->cache = i ? DRIVE_CACHE_WRITEBACK : DRIVE_CACHE_UNSAFE;
	return 0;
}

static int dr_io(struct jctx *x, const char *path, json_t *v, void *o)
{
	static const char *const names[] = { "Sync", "Async" };
	const char *s;
	int i;

	if (get_str(x, path, v, &s))
		return -EINVAL;
	i = pick(s, names, 2);
	if (i < 0)
		return jfail(x, path, "'%s': expected \"Sync\" or \"Async\"", s);
	((struct jdrive *)o)->io = i ? DRIVE_IO_ASYNC : DRIVE_IO_SYNC;
	return 0;
}

/* A rate limiter with no buckets limits nothing. */
static int no_limiter(struct jctx *x, const char *path, json_t *v, void *o)
{
	if (json_is_object(v) && json_object_size(v) == 0)
		return 0;
	return jfail(x, path, "not supported yet");
}

static const struct jfield drive_fields[] = {
	{ "drive_id", dr_id },
	{ "path_on_host", dr_path },
	{ "is_root_device", dr_root },
	{ "is_read_only", dr_ro },
	{ "partuuid", dr_partuuid },
	{ "cache_type", dr_cache },
	{ "io_engine", dr_io },
	{ "rate_limiter", no_limiter },
	{ "socket", unsupported },      /* vhost-user-blk */
	{ "ephemeral", dr_ephemeral },  /* mote's */
	{ NULL, NULL },
};

static int add_drive(struct jctx *x, const char *path, const struct jdrive *j,
		     unsigned index)
{
	struct drive_config *d = config_add_drive(x->c, j->id, j->path, j->root);

	if (!d && errno == ENOSPC)
		return jfail(x, path, "too many devices: at most %d drives and network "
			     "interfaces in all", CONFIG_MAX_DEVICES);
	if (!d)
		return -ENOMEM;
	if (j->partuuid && !(d->partuuid = strdup(j->partuuid)))
		return -ENOMEM;
	d->read_only = j->read_only;
	d->ephemeral = j->ephemeral;
	d->cache = j->cache;
	d->io = j->io;
	d->from = CONFIG_FROM_FILE;
	d->index = index;
	return 0;
}

static int one_drive(struct jctx *x, const char *path, json_t *v, unsigned index)
{
	struct jdrive j = { 0 };
	int r = walk(x, path, v, drive_fields, &j);

	if (r)
		return r;
	if (!j.id)
		return missing(x, path, "drive_id");
	if (!j.path)
		return missing(x, path, "path_on_host");
	return add_drive(x, path, &j, index);
}

/* Walk an array, calling one() for each element with "name[i]". */
static int each(struct jctx *x, const char *name, json_t *v,
		int (*one)(struct jctx *, const char *, json_t *, unsigned))
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return want(x, name, v, "an array");
	json_array_foreach(v, i, e) {
		char path[64];
		int r;

		snprintf(path, sizeof(path), "%s[%zu]", name, i);
		r = one(x, path, e, (unsigned)i);
		if (r)
			return r;
	}
	return 0;
}

static int sec_drives(struct jctx *x, const char *path, json_t *v, void *o)
{
	return each(x, path, v, one_drive);
}

/* ---- network-interfaces ---- */

struct jnet {
	const char *id, *tap, *mac;
	bool user, create;
	struct net_hostfwd *fwds;   /* owned until handed to the config */
	size_t nfwds;
};

static int ni_id(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_str(x, path, v, &((struct jnet *)o)->id);
}

static int ni_tap(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_str(x, path, v, &((struct jnet *)o)->tap);
}

static int ni_mac(struct jctx *x, const char *path, json_t *v, void *o)
{
	const char *s;
	uint8_t mac[6];

	if (get_str(x, path, v, &s))
		return -EINVAL;
	if (config_parse_mac(s, mac))
		return jfail(x, path, "'%s': not a MAC address (xx:xx:xx:xx:xx:xx)", s);
	((struct jnet *)o)->mac = s;
	return 0;
}

static int nm_backend(struct jctx *x, const char *path, json_t *v, void *o)
{
	static const char *const names[] = { "tap", "user" };
	const char *s;
	int i;

	if (get_str(x, path, v, &s))
		return -EINVAL;
	i = pick(s, names, 2);
	if (i < 0)
		return jfail(x, path, "'%s': expected \"tap\" or \"user\"", s);
	((struct jnet *)o)->user = i == 1;
	return 0;
}

static int nm_create(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_bool(x, path, v, &((struct jnet *)o)->create);
}

static int nm_hostfwd(struct jctx *x, const char *path, json_t *v, void *o)
{
	struct jnet *j = o;
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return want(x, path, v, "an array");
	free(j->fwds);
	j->nfwds = 0;
	j->fwds = calloc(json_array_size(v) + 1, sizeof(*j->fwds));
	if (!j->fwds)
		return -ENOMEM;
	json_array_foreach(v, i, e) {
		char at[192], why[160];
		const char *s;

		snprintf(at, sizeof(at), "%s[%zu]", path, i);
		if (get_str(x, at, e, &s))
			return -EINVAL;
		if (config_parse_hostfwd(s, &j->fwds[i], why, sizeof(why)))
			return jfail(x, at, "'%s': %s", s, why);
		j->nfwds++;
	}
	return 0;
}

/* mote's own keys in an interface. */
static const struct jfield net_mote_fields[] = {
	{ "backend", nm_backend },
	{ "create", nm_create },
	{ "hostfwd", nm_hostfwd },
	{ NULL, NULL },
};

static int ni_mote(struct jctx *x, const char *path, json_t *v, void *o)
{
	return walk(x, path, v, net_mote_fields, o);
}

static const struct jfield net_fields[] = {
	{ "iface_id", ni_id },
	{ "host_dev_name", ni_tap },
	{ "guest_mac", ni_mac },
	{ "rx_rate_limiter", no_limiter },
	{ "tx_rate_limiter", no_limiter },
	{ "mote", ni_mote },
	{ NULL, NULL },
};

/* What the keys say together: a TAP needs its name, and each backend
 * takes only its own settings. */
static int net_backend_ok(struct jctx *x, const char *path, const struct jnet *j)
{
	char at[192];

	if (!j->user && !j->tap)
		return missing(x, path, "host_dev_name");
	if (j->user && j->tap) {
		snprintf(at, sizeof(at), "%s.host_dev_name", path);
		return jfail(x, at, "not used with backend \"user\"");
	}
	if (j->user && j->create) {
		snprintf(at, sizeof(at), "%s.mote.create", path);
		return jfail(x, at, "only for backend \"tap\"");
	}
	if (!j->user && j->nfwds) {
		snprintf(at, sizeof(at), "%s.mote.hostfwd", path);
		return jfail(x, at, "only for backend \"user\"");
	}
	return 0;
}

static int add_net(struct jctx *x, const char *path, struct jnet *j, unsigned index)
{
	struct net_config *n = config_add_net(x->c, j->id, j->user ? NULL : j->tap);

	if (!n && errno == ENOSPC)
		return jfail(x, path, "too many devices: at most %d drives and network "
			     "interfaces in all", CONFIG_MAX_DEVICES);
	if (!n)
		return -ENOMEM;
	n->has_mac = j->mac && config_parse_mac(j->mac, n->mac) == 0;
	n->create = j->create;
	n->fwds = j->fwds;
	n->nfwds = j->nfwds;
	j->fwds = NULL;
	n->from = CONFIG_FROM_FILE;
	n->index = index;
	return 0;
}

static int one_net(struct jctx *x, const char *path, json_t *v, unsigned index)
{
	struct jnet j = { 0 };
	int r = walk(x, path, v, net_fields, &j);

	if (!r && !j.id)
		r = missing(x, path, "iface_id");
	if (!r)
		r = net_backend_ok(x, path, &j);
	if (!r)
		r = add_net(x, path, &j, index);
	free(j.fwds);
	return r;
}

static int sec_nets(struct jctx *x, const char *path, json_t *v, void *o)
{
	return each(x, path, v, one_net);
}

/* ---- logger, metrics ---- */

static int lg_path(struct jctx *x, const char *path, json_t *v, void *o)
{
	return set_str(x, path, v, &x->c->log_path);
}

static int lg_level(struct jctx *x, const char *path, json_t *v, void *o)
{
	static const char *const levels[] = {
		"Off", "Error", "Warning", "Info", "Debug", "Trace",
	};
	const char *s;

	if (get_str(x, path, v, &s))
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (strcasecmp(s, levels[i]) == 0) {
			x->c->debug = i >= 4;  /* mote has errors and debug */
			return 0;
		}
	}
	return jfail(x, path, "'%s': expected Off, Error, Warning, Info, Debug or Trace", s);
}

/* Accepted for compatibility; mote's messages have one format. */
static int any_bool(struct jctx *x, const char *path, json_t *v, void *o)
{
	bool b = false;

	return get_bool(x, path, v, &b);
}

static int any_str(struct jctx *x, const char *path, json_t *v, void *o)
{
	const char *s;

	return get_str(x, path, v, &s);
}

static const struct jfield logger_fields[] = {
	{ "log_path", lg_path },
	{ "level", lg_level },
	{ "show_level", any_bool },
	{ "show_log_origin", any_bool },
	{ "module", any_str },
	{ NULL, NULL },
};

static int sec_logger(struct jctx *x, const char *path, json_t *v, void *o)
{
	return walk(x, path, v, logger_fields, NULL);
}

static int mt_path(struct jctx *x, const char *path, json_t *v, void *o)
{
	return set_str(x, path, v, &x->c->metrics_path);
}

static const struct jfield metrics_fields[] = {
	{ "metrics_path", mt_path },
	{ NULL, NULL },
};

static int sec_metrics(struct jctx *x, const char *path, json_t *v, void *o)
{
	int r = walk(x, path, v, metrics_fields, NULL);

	if (!r && !json_is_string(json_object_get(v, "metrics_path")))
		return missing(x, path, "metrics_path");
	return r;
}

/* ---- mote's own section ---- */

static int mo_timeout(struct jctx *x, const char *path, json_t *v, void *o)
{
	if (!json_is_number(v))
		return want(x, path, v, "a number");
	x->c->timeout_s = json_number_value(v);
	x->c->from.timeout = CONFIG_FROM_FILE;
	return 0;
}

static int mo_console(struct jctx *x, const char *path, json_t *v, void *o)
{
	x->c->from.console_log = CONFIG_FROM_FILE;
	return set_str(x, path, v, &x->c->console_log);
}

static int mo_console_max(struct jctx *x, const char *path, json_t *v, void *o)
{
	long long n = 0;

	if (get_int(x, path, v, &n))
		return -EINVAL;
	if (n < 0)
		return jfail(x, path, "%lld is negative", n);
	x->c->console_log_max = (uint64_t)n;
	return 0;
}

static int mo_result(struct jctx *x, const char *path, json_t *v, void *o)
{
	x->c->from.result = CONFIG_FROM_FILE;
	return set_str(x, path, v, &x->c->result_path);
}

static int mo_seccomp(struct jctx *x, const char *path, json_t *v, void *o)
{
	if (!json_is_string(v))
		return want(x, path, v, "a string");
	if (config_parse_seccomp(json_string_value(v), &x->c->seccomp))
		return jfail(x, path, "must be \"on\", \"off\" or \"log\"");
	return 0;
}

static int mo_kernel_cache(struct jctx *x, const char *path, json_t *v, void *o)
{
	return get_bool(x, path, v, &x->c->kernel_cache);
}

static const struct jfield mote_fields[] = {
	{ "kernel_cache", mo_kernel_cache },
	{ "timeout_s", mo_timeout },
	{ "console_log", mo_console },
	{ "console_log_max_bytes", mo_console_max },
	{ "result", mo_result },
	{ "seccomp", mo_seccomp },
	{ NULL, NULL },
};

static int sec_mote(struct jctx *x, const char *path, json_t *v, void *o)
{
	return walk(x, path, v, mote_fields, NULL);
}

static const struct jfield top_fields[] = {
	{ "boot-source", sec_boot },
	{ "machine-config", sec_machine },
	{ "drives", sec_drives },
	{ "network-interfaces", sec_nets },
	{ "logger", sec_logger },
	{ "metrics", sec_metrics },
	{ "mote", sec_mote },
	{ "balloon", unsupported },
	{ "vsock", unsupported },
	{ "mmds-config", unsupported },
	{ "entropy", unsupported },
	{ "pmem", unsupported },
	{ "memory-hotplug", unsupported },
	{ "cpu-config", unsupported },
	{ NULL, NULL },
};

/* The parsed document, or a "file:line:col: message" error. */
static int parse_root(struct jctx *x, json_t *root, const json_error_t *je)
{
	int r;

	if (!root) {
		/* jansson's text quotes the offending input. */
		if (je->line > 0)
			snprintf(x->err, x->errlen, "%s:%d:%d: %s", log_str(x->file).s,
				 je->line, je->column, log_str(je->text).s);
		else
			snprintf(x->err, x->errlen, "%s: %s", log_str(x->file).s,
				 log_str(je->text).s);
		return -EINVAL;
	}
	r = walk(x, "", root, top_fields, NULL);
	json_decref(root);
	if (r == -ENOMEM)
		snprintf(x->err, x->errlen, "%s: out of memory", log_str(x->file).s);
	return r;
}

static int set_source(struct vm_config *c, const char *name)
{
	char *copy = strdup(name);

	if (!copy)
		return -ENOMEM;
	free(c->source);
	c->source = copy;
	return 0;
}

int config_json_loads(struct vm_config *c, const char *name, const char *text,
		      char *err, size_t errlen)
{
	struct jctx x = { c, name, err, errlen };
	json_error_t je;

	if (set_source(c, name))
		return -ENOMEM;
	return parse_root(&x, json_loads(text, JSON_REJECT_DUPLICATES, &je), &je);
}

/* Open path without blocking (a FIFO would wait for a writer) and keep
 * it only if it is a regular file of at most CONFIG_JSON_MAX_BYTES. */
static int open_config(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int e = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	if (e) {
		snprintf(err, errlen, "%s: %s", log_str(path).s, strerror(e));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", log_str(path).s);
		e = EINVAL;
	} else if (st.st_size > (off_t)CONFIG_JSON_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %u MiB", log_str(path).s,
			 CONFIG_JSON_MAX_BYTES >> 20);
		e = EINVAL;
	}
	if (e && fd >= 0)
		close(fd);
	return e ? -e : fd;
}

/* The whole file, NUL-terminated, in *buf; one byte more than the cap is
 * asked for, so a file that grew since fstat is still caught. */
static int read_config(int fd, const char *path, char **buf, size_t *len,
		       char *err, size_t errlen)
{
	size_t cap = CONFIG_JSON_MAX_BYTES + 1, n = 0;
	char *b = malloc(cap + 1);
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
	if (got < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", log_str(path).s, strerror(e));
		free(b);
		return -e;
	}
	if (n >= cap) {
		snprintf(err, errlen, "%s: larger than %u MiB", log_str(path).s,
			 CONFIG_JSON_MAX_BYTES >> 20);
		free(b);
		return -EINVAL;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int config_json_load(struct vm_config *c, const char *path, char *err, size_t errlen)
{
	struct jctx x = { c, path, err, errlen };
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	int fd = open_config(path, err, errlen), r;

	if (fd < 0)
		return fd;
	r = read_config(fd, path, &text, &len, err, errlen);
	close(fd);
	if (!r)
		r = set_source(c, path);
	if (r) {
		free(text);
		return r;
	}
	r = parse_root(&x, json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), &je);
	free(text);
	return r;
}

/*
 * libmote's configuration half: struct mote_config wraps the one struct
 * vm_config that the command line and the JSON loader fill, so a config
 * built in code goes through the same validator as one from a flag or a
 * file. Values set in code count as command-line values: the validator's
 * messages name the equivalent flag.
 */
#include "vmm/api/mote.h"
#include "vmm/config/cli.h"
#include "vmm/api/libmote_priv.h"
#include "vmm/base/log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MOTE_VERSION
#define MOTE_VERSION "unknown"
#endif

const char *mote_version(void)
{
	return MOTE_VERSION;
}

const char *mote_strerror(int err)
{
	const char *s = err < 0 ? strerrordesc_np(-err) : NULL;

	return s ? s : "unknown error";
}

const char *mote_str_shown(const char *s, char *buf, size_t len)
{
	if (len)
		snprintf(buf, len, "%s", log_str(s).s);
	return buf;
}

static struct mote_config *alloc_config(void)
{
	struct mote_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	config_init(&cfg->c);
	cfg->refs = 1;
	return cfg;
}

struct mote_config *mote_config_new(void)
{
	return alloc_config();
}

void libmote_config_ref(struct mote_config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
}

void mote_config_free(struct mote_config *cfg)
{
	if (!cfg || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	config_release(&cfg->c);
	free(cfg);
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

/* text is a JSON document, or (is_path) the name of a file holding one. */
static struct mote_config *from_json(const char *text, bool is_path, char *err,
				     size_t errlen)
{
	struct mote_config *cfg = alloc_config();
	char msg[512] = "";
	int r;

	if (!cfg) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (!text) {
		snprintf(msg, sizeof(msg), "no JSON given");
		r = -EINVAL;
	} else if (is_path) {
		r = config_json_load(&cfg->c, text, msg, sizeof(msg));
	} else {
		r = config_json_loads(&cfg->c, "config", text, msg, sizeof(msg));
	}
	if (r) {
		set_err(err, errlen, msg[0] ? msg : mote_strerror(r));
		mote_config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct mote_config *mote_config_from_json(const char *text, char *err, size_t errlen)
{
	return from_json(text, false, err, errlen);
}

struct mote_config *mote_config_from_file(const char *path, char *err, size_t errlen)
{
	return from_json(path, true, err, errlen);
}

/* A config a VM holds must not change under it. */
static int check_settable(const struct mote_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	return __atomic_load_n(&cfg->refs, __ATOMIC_ACQUIRE) > 1 ? -EBUSY : 0;
}

/* Replace *slot with a copy of val (NULL clears it when allowed). */
static int set_str(struct mote_config *cfg, char **slot, const char *val, bool nullable)
{
	int r = check_settable(cfg);
	char *copy = NULL;

	if (r)
		return r;
	if (!val && !nullable)
		return -EINVAL;
	if (val && !(copy = strdup(val)))
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

int mote_config_set_kernel(struct mote_config *cfg, const char *path)
{
	int r = set_str(cfg, cfg ? &cfg->c.kernel : NULL, path, false);

	if (!r)
		cfg->c.from.kernel = CONFIG_FROM_CLI;
	return r;
}

int mote_config_set_initrd(struct mote_config *cfg, const char *path)
{
	int r = set_str(cfg, cfg ? &cfg->c.initrd : NULL, path, true);

	if (!r)
		cfg->c.from.initrd = CONFIG_FROM_CLI;
	return r;
}

int mote_config_set_cmdline(struct mote_config *cfg, const char *cmdline)
{
	return set_str(cfg, cfg ? &cfg->c.cmdline : NULL, cmdline, true);
}

int mote_config_set_console_log(struct mote_config *cfg, const char *path)
{
	int r = set_str(cfg, cfg ? &cfg->c.console_log : NULL, path, true);

	if (!r)
		cfg->c.from.console_log = CONFIG_FROM_CLI;
	return r;
}

int mote_config_set_result_file(struct mote_config *cfg, const char *path)
{
	int r = set_str(cfg, cfg ? &cfg->c.result_path : NULL, path, true);

	if (!r)
		cfg->c.from.result = CONFIG_FROM_CLI;
	return r;
}

int mote_config_set_cpus(struct mote_config *cfg, unsigned cpus)
{
	int r = check_settable(cfg);

	if (r)
		return r;
	if (cpus < 1 || cpus > CONFIG_MAX_CPUS)
		return -EINVAL;
	cfg->c.cpus = cpus;
	cfg->c.from.cpus = CONFIG_FROM_CLI;
	return 0;
}

int mote_config_set_mem_mib(struct mote_config *cfg, uint64_t mib)
{
	int r = check_settable(cfg);

	if (r)
		return r;
	if (mib < CONFIG_MIN_MEM_MIB || mib > CONFIG_MAX_MEM_MIB)
		return -EINVAL;
	cfg->c.mem_mib = mib;
	cfg->c.from.mem = CONFIG_FROM_CLI;
	return 0;
}

int mote_config_set_timeout(struct mote_config *cfg, double seconds)
{
	int r = check_settable(cfg);

	if (r)
		return r;
	if (!isfinite(seconds) || seconds < 0 || seconds > CONFIG_MAX_TIMEOUT_S)
		return -EINVAL;
	cfg->c.timeout_s = seconds;
	cfg->c.from.timeout = CONFIG_FROM_CLI;
	return 0;
}

_Static_assert((int)MOTE_SECCOMP_OFF == CONFIG_SECCOMP_OFF &&
	       (int)MOTE_SECCOMP_ON == CONFIG_SECCOMP_ON &&
	       (int)MOTE_SECCOMP_LOG == CONFIG_SECCOMP_LOG,
	       "enum mote_seccomp must match enum config_seccomp");

int mote_config_set_seccomp(struct mote_config *cfg, enum mote_seccomp mode)
{
	int r = check_settable(cfg);

	if (!r && (unsigned)mode > MOTE_SECCOMP_LOG)
		r = -EINVAL;
	if (!r)
		cfg->c.seccomp = (enum config_seccomp)mode;
	return r;
}

enum mote_seccomp mote_config_seccomp(const struct mote_config *cfg)
{
	return cfg ? (enum mote_seccomp)cfg->c.seccomp : MOTE_SECCOMP_OFF;
}

int mote_config_set_debug(struct mote_config *cfg, int on)
{
	int r = check_settable(cfg);

	if (!r)
		cfg->c.debug = on != 0;
	return r;
}

int mote_config_set_kernel_cache(struct mote_config *cfg, int on)
{
	int r = check_settable(cfg);

	if (!r)
		cfg->c.kernel_cache = on != 0;
	return r;
}

int mote_config_add_drive(struct mote_config *cfg, const char *path, unsigned flags)
{
	const unsigned known = MOTE_DRIVE_READ_ONLY | MOTE_DRIVE_ROOT | MOTE_DRIVE_EPHEMERAL;
	int r = check_settable(cfg);
	struct drive_config *d;

	if (r)
		return r;
	if (!path || (flags & ~known))
		return -EINVAL;
	d = config_add_drive(&cfg->c, NULL, path, flags & MOTE_DRIVE_ROOT);
	if (!d)
		return errno == ENOSPC ? -ENOSPC : -ENOMEM;
	d->read_only = flags & MOTE_DRIVE_READ_ONLY;
	d->ephemeral = flags & MOTE_DRIVE_EPHEMERAL;
	d->from = CONFIG_FROM_CLI;
	return 0;
}

/* One interface (tap NULL: user-mode) with its MAC, as a flag would add
 * it. 0, -ENOSPC or -ENOMEM. */
static int add_net(struct mote_config *cfg, const char *tap, const uint8_t mac[6],
		   struct net_config **out)
{
	struct net_config *n = config_add_net(&cfg->c, NULL, tap);

	if (!n)
		return errno == ENOSPC ? -ENOSPC : -ENOMEM;
	n->from = CONFIG_FROM_CLI;
	if (mac) {
		memcpy(n->mac, mac, 6);
		n->has_mac = true;
	}
	*out = n;
	return 0;
}

int mote_config_add_net(struct mote_config *cfg, const char *tap, const uint8_t mac[6])
{
	int r = check_settable(cfg);
	struct net_config *n;

	if (r)
		return r;
	if (!tap)
		return -EINVAL;
	return add_net(cfg, tap, mac, &n);
}

int mote_config_add_user_net(struct mote_config *cfg, const uint8_t mac[6],
			     const char *const *hostfwd)
{
	int r = check_settable(cfg);
	struct net_hostfwd fwd;
	char why[128];

	if (r)
		return r;
	/* Every forward is checked before anything is added. */
	for (size_t i = 0; hostfwd && hostfwd[i]; i++)
		if (config_parse_hostfwd(hostfwd[i], &fwd, why, sizeof(why)))
			return -EINVAL;
	struct net_config *n;
	r = add_net(cfg, NULL, mac, &n);
	if (r)
		return r;
	for (size_t i = 0; hostfwd && hostfwd[i]; i++) {
		if (config_parse_hostfwd(hostfwd[i], &fwd, why, sizeof(why)) ||
		    config_net_add_fwd(n, &fwd))
			return -ENOMEM;
	}
	return 0;
}

static void free_argv(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

int mote_config_set_job(struct mote_config *cfg, const char *const *argv)
{
	int r = check_settable(cfg);
	size_t n = 0;
	char **copy;

	if (r)
		return r;
	free_argv(cfg->c.job_argv);
	cfg->c.job_argv = NULL;
	if (!argv || !argv[0])
		return 0;
	while (argv[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(copy[i] = strdup(argv[i]))) {
			free_argv(copy);
			return -ENOMEM;
		}
	}
	cfg->c.job_argv = copy;
	return 0;
}

int mote_config_validate(const struct mote_config *cfg, char *err, size_t errlen)
{
	char msg[512] = "";
	int r;

	if (!cfg)
		return -EINVAL;
	r = config_validate(&cfg->c, 0, msg, sizeof(msg));
	if (r)
		set_err(err, errlen, msg[0] ? msg : mote_strerror(r));
	return r;
}

static enum mote_command command_of(enum cli_command c)
{
	switch (c) {
	case CLI_VALIDATE:
		return MOTE_COMMAND_VALIDATE;
	case CLI_HELP:
		return MOTE_COMMAND_HELP;
	case CLI_VERSION:
		return MOTE_COMMAND_VERSION;
	default:
		return MOTE_COMMAND_RUN;
	}
}

int mote_cli_parse(int argc, char **argv, enum mote_command *cmd,
		   struct mote_config **cfg, char *err, size_t errlen)
{
	struct cli_cmd c;
	int r = cli_parse(argc, argv, 0, &c, err, errlen);

	*cmd = command_of(c.command);
	*cfg = NULL;
	if (!r && (c.command == CLI_RUN || c.command == CLI_VALIDATE)) {
		*cfg = alloc_config();
		if (*cfg) {
			/* Move the parsed config: the cli_cmd keeps an empty one. */
			(*cfg)->c = c.config;
			config_init(&c.config);
		} else {
			set_err(err, errlen, "mote: out of memory");
			r = 1;
		}
	}
	cli_release(&c);
	return r;
}

void mote_cli_help(FILE *f)
{
	cli_print_help(f, 0);
}

void mote_cli_print_ok(FILE *f, const struct mote_config *cfg)
{
	cli_print_ok(f, &cfg->c);
}

unsigned mote_config_cpus(const struct mote_config *cfg)
{
	return cfg->c.cpus;
}

uint64_t mote_config_mem_mib(const struct mote_config *cfg)
{
	return cfg->c.mem_mib;
}

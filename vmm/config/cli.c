/*
 * The command line. "run" reads its flags in two passes: the first checks
 * their syntax and finds --config, which is loaded before the second
 * applies the flags in order, so flags override the file whatever their
 * position. Each error is one line naming the flag and the value.
 */
#include "vmm/config/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/log.h"
#include "vmm/config/size.h"

#ifndef MOTE_VERSION
#define MOTE_VERSION "unknown"
#endif

struct pctx {
	struct vm_config *c;
	unsigned max_cpus;
	char *err;
	size_t errlen;
	bool all_ephemeral;   /* --ephemeral: applied after every drive is known */
};

struct opt {
	const char *name;
	const char *arg;   /* the value's name in help; NULL: takes none */
	int (*apply)(struct pctx *p, const struct opt *o, const char *val);
};

/* A flag as found in pass one. */
struct flag {
	const struct opt *opt;
	const char *val;
};

/* A usage error. Its values are the user's arguments, so the whole line
 * is escaped: a newline or an escape sequence in one cannot break it. */
__attribute__((format(printf, 2, 3)))
static int usage(struct pctx *p, const char *fmt, ...)
{
	char line[LOG_STR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s", log_str(line).s);
	return CLI_EXIT_USAGE;
}

/* A message the config's loader or validator wrote, escaped already. */
static int usage_from(struct pctx *p, const char *msg)
{
	snprintf(p->err, p->errlen, "mote: %s", msg);
	return CLI_EXIT_USAGE;
}

static int nomem(struct pctx *p)
{
	snprintf(p->err, p->errlen, "mote: out of memory");
	return 1;
}

static int set_str(struct pctx *p, char **slot, const char *val)
{
	char *copy = strdup(val);

	if (!copy)
		return nomem(p);
	free(*slot);
	*slot = copy;
	return 0;
}

static int op_kernel(struct pctx *p, const struct opt *o, const char *val)
{
	p->c->from.kernel = CONFIG_FROM_CLI;
	return set_str(p, &p->c->kernel, val);
}

static int op_initrd(struct pctx *p, const struct opt *o, const char *val)
{
	p->c->from.initrd = CONFIG_FROM_CLI;
	return set_str(p, &p->c->initrd, val);
}

static int op_cmdline(struct pctx *p, const struct opt *o, const char *val)
{
	return set_str(p, &p->c->cmdline, val);
}

static int op_cpus(struct pctx *p, const struct opt *o, const char *val)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(val, &end, 10);
	if (val[0] < '0' || val[0] > '9' || *end || errno || n > UINT_MAX)
		return usage(p, "mote: --cpus %s: not a number", val);
	if (n < 1 || n > p->max_cpus)
		return usage(p, "mote: --cpus %s: out of range 1..%u", val, p->max_cpus);
	p->c->cpus = (unsigned)n;
	p->c->from.cpus = CONFIG_FROM_CLI;
	return 0;
}

static int op_mem(struct pctx *p, const struct opt *o, const char *val)
{
	const uint64_t mib = 1ULL << 20;
	uint64_t bytes;

	if (size_parse(val, mib, &bytes))
		return usage(p, "mote: --mem %s: not a size", val);
	if (bytes < CONFIG_MIN_MEM_MIB * mib)
		return usage(p, "mote: --mem %s: at least %d MiB required", val,
			     CONFIG_MIN_MEM_MIB);
	if (bytes / mib > CONFIG_MAX_MEM_MIB)
		return usage(p, "mote: --mem %s: at most %llu MiB supported", val,
			     CONFIG_MAX_MEM_MIB);
	if (bytes % mib)
		return usage(p, "mote: --mem %s: not a whole number of MiB", val);
	p->c->mem_mib = bytes / mib;
	p->c->from.mem = CONFIG_FROM_CLI;
	return 0;
}

/* The 17th device is refused as it comes, before any more work. */
static int too_many(struct pctx *p, const struct opt *o, const char *val)
{
	return usage(p, "mote: %s %s: too many devices: at most %d drives and network "
		     "interfaces in all", o->name, val, CONFIG_MAX_DEVICES);
}

/* One ",option" of --drive or --rootfs. */
static int drive_option(struct pctx *p, const struct opt *o, const char *val,
			struct drive_config *d, const char *w)
{
	if (strcmp(w, "ro") == 0)
		d->read_only = true;
	else if (strcmp(w, "rw") == 0)
		d->read_only = false;
	else if (strcmp(w, "ephemeral") == 0)
		d->ephemeral = true;
	else if (strcmp(w, "cache=unsafe") == 0 || strcmp(w, "cache=writeback") == 0)
		d->cache = w[6] == 'w' ? DRIVE_CACHE_WRITEBACK : DRIVE_CACHE_UNSAFE;
	else if (strcmp(w, "io=sync") == 0 || strcmp(w, "io=async") == 0)
		d->io = w[3] == 'a' ? DRIVE_IO_ASYNC : DRIVE_IO_SYNC;
	else
		return usage(p, "mote: %s %s: unknown option '%s' (ro, rw, ephemeral, "
			     "cache=unsafe|writeback, io=sync|async)", o->name, val, w);
	return 0;
}

/* "IMG[,OPTION...]": a path with commas must come from a config file. */
static int add_drive(struct pctx *p, const struct opt *o, const char *val, bool root)
{
	char *spec = strdup(val), *save = NULL, *w;
	struct drive_config *d = NULL;
	int r = 0;

	if (!spec)
		return nomem(p);
	w = strtok_r(spec, ",", &save);
	if (val[0] == ',' || !w) {
		free(spec);
		return usage(p, "mote: %s %s: no image path", o->name, val);
	}
	if (root)
		config_drop_root(p->c);
	d = config_add_drive(p->c, NULL, w, root);
	if (!d)
		r = errno == ENOSPC ? too_many(p, o, val) : nomem(p);
	while (!r && (w = strtok_r(NULL, ",", &save)))
		r = drive_option(p, o, val, d, w);
	if (d)
		d->from = CONFIG_FROM_CLI;
	free(spec);
	return r;
}

static int op_rootfs(struct pctx *p, const struct opt *o, const char *val)
{
	return add_drive(p, o, val, true);
}

static int op_drive(struct pctx *p, const struct opt *o, const char *val)
{
	return add_drive(p, o, val, false);
}

/* One ",option" of --net after the backend: mac=, create (tap), hostfwd=
 * (user). name is the flag as typed, for messages. */
static int net_option(struct pctx *p, const char *name, const char *val,
		      struct net_config *n, const char *w)
{
	bool tap = n->backend == NET_BACKEND_TAP;
	struct net_hostfwd f;
	char why[160];

	if (strncmp(w, "mac=", 4) == 0) {
		if (config_parse_mac(w + 4, n->mac))
			return usage(p, "mote: %s %s: not a MAC address (xx:xx:xx:xx:xx:xx)",
				     name, val);
		n->has_mac = true;
	} else if (tap && strcmp(w, "create") == 0) {
		n->create = true;
	} else if (!tap && strncmp(w, "hostfwd=", 8) == 0) {
		if (config_parse_hostfwd(w + 8, &f, why, sizeof(why)))
			return usage(p, "mote: %s %s: %s", name, val, why);
		if (config_net_add_fwd(n, &f))
			return nomem(p);
	} else if (strcmp(w, "create") == 0 || strncmp(w, "hostfwd=", 8) == 0) {
		return usage(p, "mote: %s %s: '%.*s' is only for %s", name, val,
			     (int)strcspn(w, "="), w, tap ? "user" : "tap=NAME");
	} else {
		return usage(p, "mote: %s %s: unknown option '%s' (%s)", name, val, w,
			     tap ? "mac=, create" : "mac=, hostfwd=");
	}
	return 0;
}

/* "tap=NAME[,OPT...]" or "user[,OPT...]"; empty options are skipped, as
 * --drive's are. spec is what is parsed, val what the user typed. */
static int add_net(struct pctx *p, const struct opt *o, const char *val,
		   const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *w;
	struct net_config *n = NULL;
	int r = 0;

	if (!copy)
		return nomem(p);
	w = strtok_r(copy, ",", &save);
	if (spec[0] == ',' || !w)
		r = usage(p, "mote: %s %s: no backend (tap=NAME or user)", o->name, val);
	else if (strcmp(w, "tap") == 0 || strcmp(w, "tap=") == 0)
		r = usage(p, "mote: %s %s: no TAP name (tap=NAME)", o->name, val);
	else if (strcmp(w, "user") != 0 && strncmp(w, "tap=", 4) != 0)
		r = usage(p, "mote: %s %s: unknown backend '%s' (tap=NAME or user)",
			  o->name, val, w);
	else if (!(n = config_add_net(p->c, NULL, w[0] == 't' ? w + 4 : NULL)))
		r = errno == ENOSPC ? too_many(p, o, val) : nomem(p);
	if (n)
		n->from = CONFIG_FROM_CLI;
	while (!r && (w = strtok_r(NULL, ",", &save)))
		r = net_option(p, o->name, val, n, w);
	free(copy);
	return r;
}

static int op_net(struct pctx *p, const struct opt *o, const char *val)
{
	return add_net(p, o, val, val);
}

/* The older spelling: --tap NAME[,OPT...] is --net tap=NAME[,OPT...]. */
static int op_tap(struct pctx *p, const struct opt *o, const char *val)
{
	char *spec = NULL;
	int r;

	if (asprintf(&spec, "tap=%s", val) < 0)
		return nomem(p);
	r = add_net(p, o, val, spec);
	free(spec);
	return r;
}

static int op_timeout(struct pctx *p, const struct opt *o, const char *val)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(val, &end);
	if (val[0] < '0' || val[0] > '9' || *end || errno || !isfinite(t))
		return usage(p, "mote: --timeout %s: not a number of seconds", val);
	if (t > CONFIG_MAX_TIMEOUT_S)
		return usage(p, "mote: --timeout %s: more than %.0f seconds", val,
			     CONFIG_MAX_TIMEOUT_S);
	p->c->timeout_s = t;
	p->c->from.timeout = CONFIG_FROM_CLI;
	return 0;
}

static int op_console_log(struct pctx *p, const struct opt *o, const char *val)
{
	p->c->from.console_log = CONFIG_FROM_CLI;
	return set_str(p, &p->c->console_log, val);
}

static int op_result(struct pctx *p, const struct opt *o, const char *val)
{
	p->c->from.result = CONFIG_FROM_CLI;
	return set_str(p, &p->c->result_path, val);
}

static int op_ephemeral(struct pctx *p, const struct opt *o, const char *val)
{
	p->all_ephemeral = true;
	return 0;
}

/* Read-only drives are left alone: they are never written anyway, and
 * "ro" with "ephemeral" is an error on one drive. */
static void make_ephemeral(struct vm_config *c)
{
	for (size_t i = 0; i < c->ndrives; i++)
		if (!c->drives[i].read_only)
			c->drives[i].ephemeral = true;
}

static int op_no_kernel_cache(struct pctx *p, const struct opt *o, const char *val)
{
	p->c->kernel_cache = false;
	return 0;
}

static int op_debug(struct pctx *p, const struct opt *o, const char *val)
{
	p->c->debug = true;
	return 0;
}

/* The value is not echoed: it could hold anything, a newline included. */
static int op_seccomp(struct pctx *p, const struct opt *o, const char *val)
{
	if (config_parse_seccomp(val, &p->c->seccomp))
		return usage(p, "mote: --seccomp: must be on, off or log");
	return 0;
}

/* Loaded before the other flags are applied; see parse_run. */
static int op_config(struct pctx *p, const struct opt *o, const char *val)
{
	return 0;
}

static const struct opt run_opts[] = {
	{ "--kernel", "FILE", op_kernel },
	{ "--initrd", "FILE", op_initrd },
	{ "--cmdline", "STRING", op_cmdline },
	{ "--cpus", "N", op_cpus },
	{ "--mem", "SIZE", op_mem },
	{ "--rootfs", "IMG[,OPT...]", op_rootfs },
	{ "--drive", "IMG[,OPT...]", op_drive },
	{ "--net", "BACKEND[,OPT...]", op_net },
	{ "--tap", "NAME[,OPT...]", op_tap },
	{ "--ephemeral", NULL, op_ephemeral },
	{ "--config", "FILE", op_config },
	{ "--timeout", "SECONDS", op_timeout },
	{ "--console-log", "FILE", op_console_log },
	{ "--result", "FILE", op_result },
	{ "--no-kernel-cache", NULL, op_no_kernel_cache },
	{ "--debug", NULL, op_debug },
	{ "--seccomp", "on|off|log", op_seccomp },
	{ NULL, NULL, NULL },
};

static const struct opt *find_opt(const char *name, size_t len)
{
	for (const struct opt *o = run_opts; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

/* Pass one for argv[*i]: which flag, and its value ("--f v" or "--f=v"). */
static int read_flag(struct pctx *p, int argc, char **argv, int *i, struct flag *f)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);

	if (a[0] != '-')
		return usage(p, "mote: unexpected argument '%s' (job arguments go after --)", a);
	f->opt = find_opt(a, len);
	if (!f->opt)
		return usage(p, "mote: unknown option '%.*s' (see mote --help)", (int)len, a);
	if (!f->opt->arg) {
		f->val = NULL;
		return eq ? usage(p, "mote: %s takes no value", f->opt->name) : 0;
	}
	if (eq)
		f->val = eq + 1;
	else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
		f->val = argv[++*i];
	else
		f->val = NULL;
	/* An empty --cmdline is a choice; an empty path is a mistake. */
	if (!f->val || (f->val[0] == '\0' && f->opt->apply != op_cmdline))
		return usage(p, "mote: %s needs a value", f->opt->name);
	return 0;
}

static int copy_job_argv(struct pctx *p, int argc, char **argv)
{
	char **a;

	if (argc == 0)
		return 0;
	a = calloc((size_t)argc + 1, sizeof(*a));
	if (!a)
		return nomem(p);
	p->c->job_argv = a;
	for (int i = 0; i < argc; i++)
		if (!(a[i] = strdup(argv[i])))
			return nomem(p);
	return 0;
}

static int load_file(struct pctx *p, const char *path)
{
	char msg[512];
	int r = config_json_load(p->c, path, msg, sizeof(msg));

	if (r == -ENOMEM)
		return nomem(p);
	return r ? usage_from(p, msg) : 0;
}

/* The one validator, after the flags and the file are merged. */
static int check(struct pctx *p)
{
	char msg[512];
	int r;

	if (!p->c->kernel && !p->c->source)
		return usage(p, "mote run: --kernel is required");
	r = config_validate(p->c, p->max_cpus, msg, sizeof(msg));
	if (r == -ENOMEM)
		return nomem(p);
	return r ? usage_from(p, msg) : 0;
}

/* Pass two: the file, then the flags in order, then the job. */
static int apply_all(struct pctx *p, const struct flag *flags, int n,
		     int argc, char **argv)
{
	const char *config = NULL;
	int r = 0;

	for (int i = 0; i < n; i++)
		if (flags[i].opt->apply == op_config)
			config = flags[i].val;
	if (config)
		r = load_file(p, config);
	for (int i = 0; !r && i < n; i++)
		r = flags[i].opt->apply(p, flags[i].opt, flags[i].val);
	if (!r && p->all_ephemeral)
		make_ephemeral(p->c);
	if (!r)
		r = copy_job_argv(p, argc, argv);
	return r ? r : check(p);
}

static int parse_run(struct pctx *p, int argc, char **argv, struct cli_cmd *out)
{
	struct flag *flags = calloc((size_t)argc + 1, sizeof(*flags));
	int n = 0, i, r = 0;

	if (!flags)
		return nomem(p);
	out->command = CLI_RUN;
	for (i = 0; !r && i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			out->command = CLI_HELP;
			break;
		}
		r = read_flag(p, argc, argv, &i, &flags[n++]);
	}
	if (!r && out->command == CLI_RUN) {
		i += i < argc;   /* skip the "--" */
		r = apply_all(p, flags, n, argc - i, argv + i);
	}
	free(flags);
	return r;
}

static int parse_validate(struct pctx *p, int argc, char **argv, struct cli_cmd *out)
{
	int r;

	out->command = CLI_VALIDATE;
	if (argc >= 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
		out->command = CLI_HELP;
		return 0;
	}
	if (argc < 1)
		return usage(p, "mote validate: FILE is required");
	if (argc > 1)
		return usage(p, "mote validate: unexpected argument '%s'", argv[1]);
	r = load_file(p, argv[0]);
	return r ? r : check(p);
}

int cli_parse(int argc, char **argv, unsigned max_cpus, struct cli_cmd *out,
	      char *err, size_t errlen)
{
	struct pctx p = { .c = &out->config, .max_cpus = config_max_cpus(max_cpus),
			  .err = err, .errlen = errlen };
	const char *cmd = argc > 1 ? argv[1] : NULL;

	memset(out, 0, sizeof(*out));
	config_init(&out->config);
	/* The command filters its threads unless told not to; config_init's
	 * OFF is for code that embeds the VMM (config.h). */
	out->config.seccomp = CONFIG_SECCOMP_ON;
	if (errlen)
		err[0] = '\0';
	if (!cmd)
		return usage(&p, "mote: no command given (see mote --help)");
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)
		out->command = CLI_HELP;
	else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
		out->command = CLI_VERSION;
	else if (strcmp(cmd, "run") == 0)
		return parse_run(&p, argc - 2, argv + 2, out);
	else if (strcmp(cmd, "validate") == 0)
		return parse_validate(&p, argc - 2, argv + 2, out);
	else if (cmd[0] == '-')
		return usage(&p, "mote: unknown option '%s' (see mote --help)", cmd);
	else
		return usage(&p, "mote: unknown command '%s' (see mote --help)", cmd);
	if (argc > 2)
		return usage(&p, "mote: unexpected argument '%s' after %s", argv[2], cmd);
	return 0;
}

void cli_release(struct cli_cmd *cmd)
{
	config_release(&cmd->config);
}

void cli_print_version(FILE *f)
{
	fprintf(f, "mote %s\n", MOTE_VERSION);
}

void cli_print_ok(FILE *f, const struct vm_config *c)
{
	fprintf(f, "%s: ok\n", c->source ? log_str(c->source).s : "config");
}

/* What --kernel takes on the target architecture (boot/<arch>/). */
#if defined(__aarch64__)
#define CLI_KERNEL_HELP \
	"  --kernel FILE         kernel image, an uncompressed arm64 Image (required\n" \
	"                        unless --config names one)\n"
#else
#define CLI_KERNEL_HELP \
	"  --kernel FILE         kernel image, bzImage or ELF (required unless --config\n" \
	"                        names one)\n"
#endif

void cli_print_help(FILE *f, unsigned max_cpus)
{
	struct vm_config d;

	config_init(&d);
	fprintf(f,
		"usage: mote run [OPTIONS] [-- JOB ARGS...]\n"
		"       mote validate FILE.json\n"
		"       mote --help | --version\n"
		"\n"
		"Boot a Linux kernel in a KVM virtual machine and wait for it to stop.\n"
		"Arguments after -- are passed to the guest's init.\n"
		"\n"
		"run options (--flag VALUE or --flag=VALUE):\n"
		CLI_KERNEL_HELP
		"  --initrd FILE         initial ramdisk (default: none)\n"
		"  --cmdline STRING      kernel command line (default:\n"
		"                        \"%s\");\n"
		"                        console=ttyS0 is added if it has no console=, and\n"
		"                        root=/dev/vda rw if there is a root drive and no root=\n"
		"  --cpus N              virtual CPUs, 1..%u (default: %u)\n"
		"  --mem SIZE            guest RAM: a number of MiB, or K, M, G, T (also KiB,\n"
		"                        MB, ...; binary); at least %d MiB (default: %" PRIu64 "M)\n"
		"  --rootfs IMG[,OPT...] root drive, /dev/vda (default: none)\n"
		"  --drive IMG[,OPT...]  another drive (/dev/vdb, /dev/vdc, ... after a root\n"
		"                        drive); repeatable\n"
		"                        (default: none). OPT: ro, rw (default), ephemeral\n"
		"                        (the image is only read, and can be shared; guest\n"
		"                        writes go to an unlinked sparse file in $TMPDIR,\n"
		"                        else /var/tmp, and are dropped at exit); cache= and io=\n"
		"                        are accepted as Firecracker spells them, but mote\n"
		"                        always honours flushes and always uses io_uring\n"
		"  --net BACKEND[,OPT...] a virtio-net interface, eth0, eth1, ... in order;\n"
		"                        repeatable (default: none). BACKEND:\n"
		"                        tap=NAME  the host TAP device NAME; OPT create: mote\n"
		"                                  creates it, and it goes when mote ends\n"
		"                        user      user-mode networking, no privileges\n"
		"                                  needed; OPT hostfwd=tcp:[HOSTADDR]:HOSTPORT-:\n"
		"                                  GUESTPORT (or udp:), repeatable: forward a\n"
		"                                  host port (HOSTADDR default 127.0.0.1) to\n"
		"                                  the guest\n"
		"                        OPT for both: mac=xx:xx:xx:xx:xx:xx (unicast)\n"
		"  --tap NAME[,OPT...]   the same as --net tap=NAME[,OPT...]\n"
		"  --ephemeral           every drive not marked ro is ephemeral, those from\n"
		"                        --config too (default: off)\n"
		"  --config FILE         Firecracker-style JSON config (--config-file schema,\n"
		"                        plus a \"mote\" section); flags override it\n"
		"  --timeout SECONDS     stop the VM after this long (default: 0, never)\n"
		"  --console-log FILE    also write the console to FILE, at most %" PRIu64 " MiB\n"
		"                        (default: none)\n"
		"  --result FILE         write how the run ended, as JSON (default: none)\n"
		"  --no-kernel-cache     boot a bzImage through its own decompressor every\n"
		"                        time (default: unpack it once, into\n"
		"                        $XDG_CACHE_HOME/mote/kernels or ~/.cache/mote/kernels)\n"
		"  --debug               debug messages on stderr (default: off)\n"
		"  --seccomp on|off|log  filter each mote thread's system calls; a call\n"
		"                        outside its list kills mote with SIGSYS (status\n"
		"                        159); log only logs it (default: on)\n"
		"  -h, --help            this screen\n"
		"\n"
		"validate checks a config file as run would, without starting a VM.\n"
		"Exit status 2 means a usage or configuration error.\n",
		CONFIG_DEFAULT_CMDLINE, config_max_cpus(max_cpus), d.cpus,
		CONFIG_MIN_MEM_MIB, d.mem_mib, d.console_log_max >> 20);
	config_release(&d);
}

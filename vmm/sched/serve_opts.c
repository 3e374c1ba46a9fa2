/*
 * mote serve's options and their defaults, read from the host: the CPUs
 * this process may run on, MemTotal, and the ratios below.
 */
#include "vmm/api/mote.h"
#include "vmm/sched/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Default ratios. CPU 4.0: a CI job in a microVM mostly waits for its
 * disk, its network or its compiler's child processes, so its vCPUs idle
 * much of the time; Nova's default of 16 suits a general cloud of idle
 * servers, but four runnable vCPUs per host CPU at worst keeps a job's
 * latency bearable. Memory 1.0: guest RAM is touched by builds and never
 * given back, so overcommitting it ends in the OOM killer.
 */

/* The CPUs this process may use (taskset, cpuset), in order. */
static unsigned affinity_cpus(uint16_t *map, unsigned max)
{
	cpu_set_t set;
	unsigned n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (unsigned cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			map[n++] = (uint16_t)cpu;
	return n;
}

static uint64_t mem_total_mib(void)
{
	unsigned long long kib = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib / 1024;
}

/* --name VALUE or --name=VALUE: the value, or NULL if this is not it. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		return "";    /* reported as a bad (empty) value */
	return argv[++*i];
}

static int bad(char *err, size_t errlen, const char *opt, const char *val, const char *why)
{
	char shown[512];

	snprintf(err, errlen, "mote serve: %s %s: %s", opt,
		 mote_str_shown(val, shown, sizeof(shown)), why);
	return 2;
}

static int parse_ratio(const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (!*v || *end || !(d > 0) || d > 1000)
		return -EINVAL;
	*out = d;
	return 0;
}

/* Values given on the command line, before the defaults fill the rest. */
struct given {
	long cpus, max_booting;
	uint64_t mem, reserve;
	bool has_reserve;
};

static int parse_one(int argc, char **argv, int *i, struct serve_cfg *c, struct given *g,
		     char *err, size_t errlen)
{
	struct place_host *h = &c->core.host;
	const char *v;

	if ((v = opt_value(argc, argv, i, "--socket"))) {
		if (!*v || snprintf(c->socket, sizeof(c->socket), "%s", v) >= (int)sizeof(c->socket))
			return bad(err, errlen, "--socket", v, "empty or longer than 107 bytes");
	} else if ((v = opt_value(argc, argv, i, "--state"))) {
		if (!*v || snprintf(c->core.state_dir, sizeof(c->core.state_dir), "%s", v) >=
		    (int)sizeof(c->core.state_dir))
			return bad(err, errlen, "--state", v, "empty or too long");
	} else if ((v = opt_value(argc, argv, i, "--cpus"))) {
		if (sched_parse_long(v, 1, PLACE_MAX_CPUS, &g->cpus))
			return bad(err, errlen, "--cpus", v, "not a number in 1..1024");
	} else if ((v = opt_value(argc, argv, i, "--mem"))) {
		if (sched_parse_mib(v, &g->mem))
			return bad(err, errlen, "--mem", v, "not a size (512M, 16G, ...)");
	} else if ((v = opt_value(argc, argv, i, "--reserve-mem"))) {
		if (strcmp(v, "0") && sched_parse_mib(v, &g->reserve))
			return bad(err, errlen, "--reserve-mem", v, "not a size (512M, 1G, ...)");
		g->has_reserve = true;
	} else if ((v = opt_value(argc, argv, i, "--cpu-ratio"))) {
		if (parse_ratio(v, &h->cpu_ratio))
			return bad(err, errlen, "--cpu-ratio", v, "not a number above 0 (up to 1000)");
	} else if ((v = opt_value(argc, argv, i, "--mem-ratio"))) {
		if (parse_ratio(v, &h->mem_ratio))
			return bad(err, errlen, "--mem-ratio", v, "not a number above 0 (up to 1000)");
	} else if ((v = opt_value(argc, argv, i, "--max-booting"))) {
		if (sched_parse_long(v, 1, 65536, &g->max_booting))
			return bad(err, errlen, "--max-booting", v, "not a number in 1..65536");
	} else if ((v = opt_value(argc, argv, i, "--flavors"))) {
		c->core.flavors_file = v;
	} else if (strcmp(argv[*i], "--no-cgroup") == 0) {
		c->core.no_cgroup = true;
	} else if (strcmp(argv[*i], "--help") == 0 || strcmp(argv[*i], "-h") == 0) {
		c->help = true;
	} else {
		snprintf(err, errlen, "mote serve: unknown option '%s' (see mote --help)", argv[*i]);
		return 2;
	}
	return 0;
}

/* CPUs: this process's affinity (all online CPUs unless restricted);
 * --cpus takes the first N of them, or declares more. */
static int fill_cpus(struct serve_cfg *c, const struct given *g, char *err, size_t errlen)
{
	unsigned have = affinity_cpus(c->core.cpu_map, PLACE_MAX_CPUS);

	if (!have) {
		snprintf(err, errlen, "mote serve: cannot read this process's CPU affinity");
		return 1;
	}
	/* A declared capacity beyond the CPUs at hand is the operator's
	 * choice (a test host, a share of a bigger machine): placement's CPUs
	 * then wrap around the real ones, so pinned VMs share them. */
	if ((unsigned long)g->cpus > have) {
		fprintf(stderr, "mote serve: --cpus %ld is more than the %u CPUs this process may "
			"use; VMs given their own CPUs will share them\n", g->cpus, have);
		for (unsigned i = have; i < (unsigned)g->cpus; i++)
			c->core.cpu_map[i] = c->core.cpu_map[i % have];
	}
	c->core.host.cpus = g->cpus ? (unsigned)g->cpus : have;
	/* Booting is CPU-bound: one VM booting per CPU. */
	c->core.host.max_booting = g->max_booting ? (unsigned)g->max_booting : c->core.host.cpus;
	return 0;
}

/* Memory: MemTotal unless --mem; the reserve is Nova's 512 MiB, but never
 * more than half the memory by default, so a small machine (a CI runner
 * VM with 1 GiB) still runs a VM. */
static int fill_mem(struct serve_cfg *c, const struct given *g, char *err, size_t errlen)
{
	struct place_host *h = &c->core.host;
	char val[32];

	h->mem_mib = g->mem ? g->mem : mem_total_mib();
	if (!h->mem_mib) {
		snprintf(err, errlen, "mote serve: cannot read MemTotal; give --mem");
		return 1;
	}
	h->reserve_mib = g->has_reserve ? g->reserve
			 : (h->mem_mib / 2 < SERVE_RESERVE_MIB ? h->mem_mib / 2 : SERVE_RESERVE_MIB);
	snprintf(val, sizeof(val), "%lluM", (unsigned long long)h->reserve_mib);
	if (h->reserve_mib >= h->mem_mib)
		return bad(err, errlen, "--reserve-mem", val, "leaves no memory for VMs");
	return 0;
}

/* The descriptor of mote that `mote serve` passed (serve_exec.c): made
 * close-on-exec and taken out of the environment, so that neither it nor
 * its number reaches anything but the VMs' exec. -1 if none. */
static int take_exe_fd(void)
{
	const char *v = getenv(SERVE_EXE_FD_ENV);
	char *end;
	long fd;

	if (!v)
		return -1;
	errno = 0;
	fd = strtol(v, &end, 10);
	unsetenv(SERVE_EXE_FD_ENV);
	if (errno || end == v || *end || fd < 3 || fd > INT_MAX ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return (int)fd;
}

/* What the VMs exec: MOTE_SCHED_RUNNER (tests put a fake there), else the
 * mote that started the daemon, through its descriptor, even if replaced
 * on disk since: the VMs run the same mote as the daemon. */
static int fill_runner(struct serve_cfg *c, char *err, size_t errlen)
{
	const char *runner = getenv("MOTE_SCHED_RUNNER");
	int fd = take_exe_fd();

	if (runner && *runner) {
		snprintf(c->core.runner, sizeof(c->core.runner), "%s", runner);
		return 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "mote serve: no mote to run the VMs with (" SERVE_PROGRAM
			 " is started by mote serve)");
		return 2;
	}
	snprintf(c->core.runner, sizeof(c->core.runner), "/proc/self/fd/%d", fd);
	return 0;
}

static int fill_paths(struct serve_cfg *c, char *err, size_t errlen)
{
	if (!c->socket[0] && sched_default_socket(c->socket, sizeof(c->socket))) {
		snprintf(err, errlen, "mote serve: the default socket path is too long; give --socket");
		return 2;
	}
	if (!c->core.state_dir[0] && sched_default_state(c->core.state_dir,
							 sizeof(c->core.state_dir))) {
		snprintf(err, errlen, "mote serve: no default state directory (HOME unset?); give --state");
		return 2;
	}
	return fill_runner(c, err, errlen);
}

int serve_parse(int argc, char **argv, struct serve_cfg *c, char *err, size_t errlen)
{
	struct given g = { 0 };
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->core.host.cpu_ratio = SERVE_CPU_RATIO;
	c->core.host.mem_ratio = SERVE_MEM_RATIO;
	c->core.host.aging_ms = SCHED_AGING_MS;
	for (int i = 2; i < argc && !ret; i++)
		ret = parse_one(argc, argv, &i, c, &g, err, errlen);
	if (ret || c->help)
		return ret;
	return fill_cpus(c, &g, err, errlen) ?: fill_mem(c, &g, err, errlen) ?:
	       fill_paths(c, err, errlen);
}

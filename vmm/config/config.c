/* The config struct's lifetime: defaults, drive and interface lists. */
#include "vmm/config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cpus = CONFIG_DEFAULT_CPUS;
	c->mem_mib = CONFIG_DEFAULT_MEM_MIB;
	c->console_log_max = CONFIG_DEFAULT_CONSOLE_LOG_MAX;
	c->kernel_cache = true;
}

char *config_kernel_cache_dir(const struct vm_config *c)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *dir = NULL;
	int n = -1;

	if (!c->kernel_cache)
		return NULL;
	/* The XDG spec: a relative value is invalid and must be ignored. */
	if (xdg && xdg[0] == '/')
		n = asprintf(&dir, "%s/mote/kernels", xdg);
	else if (home && home[0] == '/')
		n = asprintf(&dir, "%s/.cache/mote/kernels", home);
	return n < 0 ? NULL : dir;
}

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

void config_release(struct vm_config *c)
{
	for (size_t i = 0; i < c->ndrives; i++) {
		free(c->drives[i].id);
		free(c->drives[i].path);
		free(c->drives[i].partuuid);
	}
	for (size_t i = 0; i < c->nnets; i++) {
		free(c->nets[i].id);
		free(c->nets[i].tap);
		free(c->nets[i].fwds);
	}
	free(c->drives);
	free(c->nets);
	free_argv(c->job_argv);
	free(c->source);
	free(c->kernel);
	free(c->initrd);
	free(c->cmdline);
	free(c->console_log);
	free(c->result_path);
	free(c->log_path);
	free(c->metrics_path);
	config_init(c);
}

unsigned config_max_cpus(unsigned max_cpus)
{
	if (max_cpus == 0 || max_cpus > CONFIG_MAX_CPUS)
		return CONFIG_MAX_CPUS;
	return max_cpus;
}

bool config_devices_full(const struct vm_config *c)
{
	return c->ndrives + c->nnets >= CONFIG_MAX_DEVICES;
}

/* n if id is prefix followed by n in plain decimal ("drive7"), else 0. */
static unsigned id_number(const char *id, const char *prefix)
{
	size_t len = strlen(prefix);
	unsigned n = 0;

	if (!id || strncmp(id, prefix, len) != 0 || id[len] < '1' || id[len] > '9')
		return 0;
	for (id += len; *id >= '0' && *id <= '9' && n <= CONFIG_MAX_DEVICES; id++)
		n = n * 10 + (unsigned)(*id - '0');
	return *id ? 0 : n;
}

/* "rootfs", or "driveN" (or "rootfsN") with the first N not taken: a file
 * may already use the name a flag's drive would get. One pass: of the
 * numbers 1..ndrives+1, one is free. */
static char *new_drive_id(const struct vm_config *c, bool root)
{
	const char *prefix = root ? "rootfs" : "drive";
	bool used[CONFIG_MAX_DEVICES + 2] = { false }, plain = false;
	size_t max = c->ndrives + 1, n = 1;
	char id[32];

	for (size_t i = 0; i < c->ndrives; i++) {
		unsigned k = id_number(c->drives[i].id, prefix);
		if (k && k <= max)
			used[k] = true;
		plain |= c->drives[i].id && strcmp(c->drives[i].id, prefix) == 0;
	}
	if (root && !plain)
		return strdup(prefix);
	while (used[n])
		n++;
	snprintf(id, sizeof(id), "%s%zu", prefix, n);
	return strdup(id);
}

struct drive_config *config_add_drive(struct vm_config *c, const char *id,
				      const char *path, bool root)
{
	char *name, *copy;
	struct drive_config *d = NULL;
	/* A second root goes right after the first, where the validator
	 * reports it under its own name. */
	size_t at = !root ? c->ndrives : c->ndrives && c->drives[0].root ? 1 : 0;

	/* The cap keeps the id search and the move below small. */
	if (config_devices_full(c)) {
		errno = ENOSPC;
		return NULL;
	}
	name = id ? strdup(id) : new_drive_id(c, root);
	copy = strdup(path);
	if (name && copy)
		d = realloc(c->drives, (c->ndrives + 1) * sizeof(*d));
	if (!d) {
		free(name);
		free(copy);
		errno = ENOMEM;
		return NULL;
	}
	c->drives = d;
	d = &c->drives[at];
	memmove(d + 1, d, (c->ndrives - at) * sizeof(*d));
	*d = (struct drive_config){ .id = name, .path = copy, .root = root };
	c->ndrives++;
	return d;
}

void config_drop_root(struct vm_config *c)
{
	struct drive_config *d = c->drives;

	/* All of them: a file with two roots is wrong, but the flag that
	 * replaces its root should not leave one behind. */
	while (c->ndrives && d->root) {
		free(d->id);
		free(d->path);
		free(d->partuuid);
		memmove(d, d + 1, --c->ndrives * sizeof(*d));
	}
}

/* "ethN", N the interface's position, or the next number a file's
 * interface has not taken. At most CONFIG_MAX_DEVICES tries of as many. */
static char *new_net_id(const struct vm_config *c)
{
	char id[32];
	bool used;

	for (size_t n = c->nnets;; n++) {
		snprintf(id, sizeof(id), "eth%zu", n);
		used = false;
		for (size_t i = 0; i < c->nnets && !used; i++)
			used = c->nets[i].id && strcmp(c->nets[i].id, id) == 0;
		if (!used)
			return strdup(id);
	}
}

struct net_config *config_add_net(struct vm_config *c, const char *id,
				  const char *tap)
{
	char *name, *copy = NULL;
	struct net_config *n = NULL;

	if (config_devices_full(c)) {
		errno = ENOSPC;
		return NULL;
	}
	name = id ? strdup(id) : new_net_id(c);
	if (tap)
		copy = strdup(tap);
	if (name && (copy || !tap))
		n = realloc(c->nets, (c->nnets + 1) * sizeof(*n));
	if (!n) {
		free(name);
		free(copy);
		errno = ENOMEM;
		return NULL;
	}
	c->nets = n;
	n = &c->nets[c->nnets++];
	*n = (struct net_config){ .id = name, .tap = copy,
				  .backend = tap ? NET_BACKEND_TAP : NET_BACKEND_USER };
	return n;
}

int config_net_add_fwd(struct net_config *n, const struct net_hostfwd *f)
{
	struct net_hostfwd *a = realloc(n->fwds, (n->nfwds + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	n->fwds = a;
	a[n->nfwds++] = *f;
	return 0;
}

int config_parse_seccomp(const char *s, enum config_seccomp *out)
{
	static const char *const names[] = { "off", "on", "log" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum config_seccomp)i;
			return 0;
		}
	return -EINVAL;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int config_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A port, "1".."65535" in plain decimal, from s[0..len). 0 if not one. */
static uint16_t parse_port(const char *s, size_t len)
{
	unsigned long n = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	return n <= 65535 ? (uint16_t)n : 0;
}

/* "[ADDR]" from s[0..len): empty is 127.0.0.1. 0 or -EINVAL. */
static int parse_host_addr(const char *s, size_t len, uint32_t *addr)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr in;

	if (len == 0) {
		*addr = htonl(INADDR_LOOPBACK);
		return 0;
	}
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -EINVAL;
	*addr = in.s_addr;
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* PROTO:[HOSTADDR]:HOSTPORT-:GUESTPORT, split at the first ':', the first
 * '-' and the last ':' on each side of it. */
int config_parse_hostfwd(const char *s, struct net_hostfwd *f,
			 char *why, size_t whylen)
{
	const char *form = "expected tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT";
	const char *colon = strchr(s, ':'), *dash, *hc, *gc;
	struct net_hostfwd out = { 0 };

	if (!colon || !(dash = strchr(colon, '-')))
		return bad(why, whylen, "%s", form);
	hc = memrchr(colon + 1, ':', (size_t)(dash - colon - 1));
	gc = strrchr(dash, ':');
	if (!hc || !gc)
		return bad(why, whylen, "%s", form);
	if (colon - s == 3 && strncmp(s, "tcp", 3) == 0)
		out.udp = false;
	else if (colon - s == 3 && strncmp(s, "udp", 3) == 0)
		out.udp = true;
	else
		return bad(why, whylen, "bad protocol \"%.*s\" (tcp or udp)",
			   (int)(colon - s), s);
	if (parse_host_addr(colon + 1, (size_t)(hc - colon - 1), &out.host_addr))
		return bad(why, whylen, "bad host address \"%.*s\"",
			   (int)(hc - colon - 1), colon + 1);
	out.host_port = parse_port(hc + 1, (size_t)(dash - hc - 1));
	if (!out.host_port)
		return bad(why, whylen, "bad host port \"%.*s\" (1..65535)",
			   (int)(dash - hc - 1), hc + 1);
	if (gc != dash + 1)
		return bad(why, whylen, "guest address \"%.*s\": leave it out, "
			   "forwards go to the guest's DHCP address", (int)(gc - dash - 1),
			   dash + 1);
	out.guest_port = parse_port(gc + 1, strlen(gc + 1));
	if (!out.guest_port)
		return bad(why, whylen, "bad guest port \"%s\" (1..65535)", gc + 1);
	*f = out;
	return 0;
}

void config_format_hostfwd(const struct net_hostfwd *f, char *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr in = { .s_addr = f->host_addr };

	if (!inet_ntop(AF_INET, &in, addr, sizeof(addr)))
		addr[0] = '\0';
	snprintf(buf, len, "%s:%s:%u-:%u", f->udp ? "udp" : "tcp", addr,
		 f->host_port, f->guest_port);
}

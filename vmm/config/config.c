/* The config struct's lifetime: defaults, drive and interface lists. */
#include "vmm/config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cpus = CONFIG_DEFAULT_CPUS;
	c->mem_mib = CONFIG_DEFAULT_MEM_MIB;
	c->console_log_max = CONFIG_DEFAULT_CONSOLE_LOG_MAX;
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

static bool drive_id_used(const struct vm_config *c, const char *id)
{
	for (size_t i = 0; i < c->ndrives; i++)
		if (c->drives[i].id && strcmp(c->drives[i].id, id) == 0)
			return true;
	return false;
}

/* "rootfs", or "driveN" with the first N not taken: a file may already
 * use the name a flag's drive would get. */
static char *new_drive_id(const struct vm_config *c, bool root)
{
	char id[32];
	unsigned n = 1;

	if (root && !drive_id_used(c, "rootfs"))
		return strdup("rootfs");
	do
		snprintf(id, sizeof(id), "%s%u", root ? "rootfs" : "drive", n++);
	while (drive_id_used(c, id));
	return strdup(id);
}

struct drive_config *config_add_drive(struct vm_config *c, const char *id,
				      const char *path, bool root)
{
	char *name = id ? strdup(id) : new_drive_id(c, root);
	char *copy = strdup(path);
	struct drive_config *d = NULL;
	/* A second root goes right after the first, where the validator
	 * reports it under its own name. */
	size_t at = !root ? c->ndrives : c->ndrives && c->drives[0].root ? 1 : 0;

	if (name && copy)
		d = realloc(c->drives, (c->ndrives + 1) * sizeof(*d));
	if (!d) {
		free(name);
		free(copy);
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

struct net_config *config_add_net(struct vm_config *c, const char *id,
				  const char *tap)
{
	char def[32], *name, *copy = strdup(tap);
	struct net_config *n = NULL;

	snprintf(def, sizeof(def), "eth%zu", c->nnets);
	name = strdup(id ? id : def);
	if (name && copy)
		n = realloc(c->nets, (c->nnets + 1) * sizeof(*n));
	if (!n) {
		free(name);
		free(copy);
		return NULL;
	}
	c->nets = n;
	n = &c->nets[c->nnets++];
	*n = (struct net_config){ .id = name, .tap = copy };
	return n;
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

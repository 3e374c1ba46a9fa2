/*
 * Flavors for `mote serve` (OpenStack's word): named vCPU and memory
 * templates a submission can ask for instead of its own machine-config.
 * A few are built in; the daemon's config file can add or replace them.
 */
#ifndef MOTE_SCHED_FLAVOR_H
#define MOTE_SCHED_FLAVOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLAVOR_NAME_MAX 32

struct flavor {
	char name[FLAVOR_NAME_MAX];
	unsigned vcpus;
	uint64_t mem_mib;
	bool dedicated;            /* whole host CPUs of its own */
};

struct flavor_set {
	struct flavor *v;
	size_t n;
};

/* Fill s (empty or released) with the built-in flavors (documented in
 * README): tiny 1 vCPU/128 MiB, small 1/512, medium 2/2048, large
 * 4/8192, and dedicated-2 (2 vCPUs, 2048 MiB, dedicated). 0 or -ENOMEM. */
int flavor_defaults(struct flavor_set *s);

/* Add or replace flavors from a JSON file:
 *   {"flavors": [{"name": "ci", "vcpus": 2, "mem_mib": 1024, "dedicated": false}]}
 * Strict: name 1..31 characters of [a-z0-9._-], vcpus 1..255, mem_mib
 * 16..1048576, dedicated optional (false); any other key, a wrong type or
 * a name twice in the file is an error. A flavor named like one in s
 * replaces it; the others are appended. Only regular files of at most
 * 1 MiB are read. All or nothing: on error s is unchanged.
 * 0, or -errno with one line in err naming the file and field
 * ("flavors.json: flavors[2].turbo: unknown key"). */
int flavor_load(struct flavor_set *s, const char *path, char *err, size_t errlen);

/* The flavor called name, or NULL. */
const struct flavor *flavor_find(const struct flavor_set *s, const char *name);
/* Free the flavors; s is left empty. */
void flavor_release(struct flavor_set *s);

#endif

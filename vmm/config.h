/*
 * A VM's configuration: what people ask for, validated. The command line
 * and the JSON file (Firecracker's --config-file schema) both fill this one
 * struct, starting from the same defaults (config_init). The VM is built
 * only from a config that config_validate() accepted.
 */
#ifndef MOTE_CONFIG_H
#define MOTE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_CPUS      1
#define CONFIG_DEFAULT_MEM_MIB   256
#define CONFIG_MIN_MEM_MIB       16

struct drive_config {
	char *id;          /* drive_id; CLI drives get "rootfs", "drive1", ... */
	char *path;
	bool read_only;
	bool root;         /* is_root_device: /dev/vda, adds root=/dev/vda rw */
	bool ephemeral;    /* writes go to a private copy-on-write store */
};

struct net_config {
	char *id;
	char *tap;         /* host_dev_name */
	uint8_t mac[6];
	bool has_mac;
};

struct vm_config {
	char *source;          /* the JSON file's path, for messages; NULL for CLI */
	char *kernel;
	char *initrd;          /* NULL: none */
	char *cmdline;         /* boot_args/--cmdline as given; NULL: default */
	char **job_argv;       /* after "--": NULL-terminated, or NULL */
	unsigned cpus;
	uint64_t mem_mib;
	struct drive_config *drives;  /* the root drive, if any, is first */
	size_t ndrives;
	struct net_config *nets;
	size_t nnets;
	double timeout_s;      /* 0: none */
	char *console_log;     /* NULL: none */
	uint64_t console_log_max;
	char *result_path;     /* NULL: none */
	bool debug;
};

void config_init(struct vm_config *c);
void config_release(struct vm_config *c);

#endif

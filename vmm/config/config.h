/*
 * A VM's configuration: what people ask for, validated. The command line
 * and the JSON file (Firecracker's --config-file schema) both fill this one
 * struct, starting from the same defaults (config_init). The VM is built
 * only from a config that config_validate() accepted.
 *
 * Every string is owned by the config (config_release frees them). Each
 * setting remembers where it came from so that the one validator can name
 * the flag ("--initrd /x: ...") or the file and field
 * ("vm.json: boot-source.initrd_path: /x: ...") in its message.
 */
#ifndef MOTE_CONFIG_H
#define MOTE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_CPUS      1
#define CONFIG_DEFAULT_MEM_MIB   256
#define CONFIG_MIN_MEM_MIB       16
/* Keeps mem_mib << 20 far from overflow; mmap refuses long before. */
#define CONFIG_MAX_MEM_MIB       (1024ULL * 1024)       /* 1 TiB */
/* The MADT lists vCPUs with 8-bit APIC IDs and 0xff is the broadcast ID,
 * so this caps whatever KVM_CAP_MAX_VCPUS says. */
#define CONFIG_MAX_CPUS          255
#define CONFIG_DEFAULT_CONSOLE_LOG_MAX (16ULL << 20)
/* Drives plus network interfaces: each needs a virtio slot, which the
 * architecture places (arch_virtio_place; x86 has 18 GSIs for them, in
 * boot/x86/layout.h, and takes 16, two staying free for built-in devices). */
#define CONFIG_MAX_DEVICES       16
/* About 31 years: far beyond any job, and safe to turn into a timespec. */
#define CONFIG_MAX_TIMEOUT_S     1e9
/* x86 COMMAND_LINE_SIZE, including the terminating NUL. */
#define CONFIG_CMDLINE_MAX       2048
/* Used when no command line is given, per target architecture. x86:
 * reboot=k: reboot through the i8042 reset pulse, which ends the VM;
 * panic=-1: a panic reboots (so ends the VM) at once; pci=off: there is no
 * PCI bus, skip probing for one. arm64: reboot goes through PSCI
 * SYSTEM_RESET whatever reboot= says, and the kernel finds no PCI host in
 * the device tree, so neither is needed (pci=off would only earn "Unknown
 * option"); earlycon: the console (stdout-path, the 16550 at MMIO) from
 * the kernel's first messages, as x86's ttyS0 has them; panic=-1 as on
 * x86. */
#if defined(__aarch64__)
#define CONFIG_DEFAULT_CMDLINE   "console=ttyS0 earlycon panic=-1"
#else
#define CONFIG_DEFAULT_CMDLINE   "console=ttyS0 reboot=k panic=-1 pci=off"
#endif

enum config_origin {
	CONFIG_FROM_DEFAULT = 0,
	CONFIG_FROM_CLI,
	CONFIG_FROM_FILE,
};

/* Firecracker's cache_type and io_engine: accepted (from JSON, and as
 * --drive's cache= and io=) and recorded here, but nothing reads them, so
 * they change nothing. Whatever they say, virtio-blk offers
 * VIRTIO_BLK_F_FLUSH and completes a flush only after fdatasync, and does
 * all of its I/O through io_uring. */
enum drive_cache { DRIVE_CACHE_UNSAFE = 0, DRIVE_CACHE_WRITEBACK };
enum drive_io { DRIVE_IO_SYNC = 0, DRIVE_IO_ASYNC };

struct drive_config {
	char *id;          /* drive_id; CLI drives get "rootfs", "drive1", ... */
	char *path;
	char *partuuid;    /* root drive only: root=PARTUUID=...; NULL: none */
	bool read_only;
	bool root;         /* is_root_device: /dev/vda, adds root=/dev/vda rw */
	bool ephemeral;    /* writes go to a private copy-on-write store */
	enum drive_cache cache;   /* recorded, unused: see above */
	enum drive_io io;         /* recorded, unused: see above */
	enum config_origin from;
	unsigned index;    /* position in the file's "drives" array */
};

/* Where a virtio-net interface's frames go on the host. */
enum net_backend_kind {
	NET_BACKEND_TAP = 0,   /* a host TAP device, by name */
	NET_BACKEND_USER,      /* user-mode networking (libslirp) in mote */
};

/*
 * One user-mode port forward, "tcp:[HOSTADDR]:HOSTPORT-:GUESTPORT" (or
 * udp), QEMU's hostfwd syntax: connections to HOSTADDR:HOSTPORT on the
 * host go to GUESTPORT on the guest. HOSTADDR is an IPv4 dotted quad
 * (0.0.0.0: every address); empty means 127.0.0.1. The guest address
 * before GUESTPORT must be left empty: a forward goes to the address the
 * guest gets from the user-mode DHCP server ("-10.0.2.15:80" is refused).
 */
struct net_hostfwd {
	bool udp;             /* else tcp */
	uint32_t host_addr;   /* network byte order */
	uint16_t host_port;   /* 1..65535, host byte order */
	uint16_t guest_port;  /* 1..65535, host byte order */
};

/* Longest config_format_hostfwd() text, NUL included. */
#define CONFIG_HOSTFWD_STRLEN sizeof("udp:255.255.255.255:65535-:65535")

struct net_config {
	char *id;          /* iface_id; CLI interfaces get "eth0", "eth1", ... */
	enum net_backend_kind backend;
	char *tap;         /* TAP: host_dev_name; USER: NULL */
	bool create;       /* TAP: mote creates the device (gone when mote
			    * ends) instead of opening an existing one */
	struct net_hostfwd *fwds;   /* USER: port forwards, in order given */
	size_t nfwds;
	uint8_t mac[6];
	bool has_mac;
	enum config_origin from;
	unsigned index;    /* position in the file's "network-interfaces" */
};

/*
 * Syscall filtering of mote's own threads (vmm/core/seccomp.h). OFF is
 * config_init's value, so code that builds a VM itself (libmote's callers,
 * the unit tests) gets no filter unless it asks; the mote command starts
 * from ON (cli.c). LOG lets everything through but has the kernel log
 * what the filter would have refused.
 */
enum config_seccomp { CONFIG_SECCOMP_OFF = 0, CONFIG_SECCOMP_ON, CONFIG_SECCOMP_LOG };

/* "off", "on", "log" to its value: 0, or -EINVAL. */
int config_parse_seccomp(const char *s, enum config_seccomp *out);

/* Where each scalar setting came from, for the validator's messages. */
struct config_origins {
	enum config_origin kernel, initrd, cpus, mem, timeout, console_log, result;
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
	uint64_t console_log_max; /* bytes of console kept in console_log; 0: no cap */
	char *result_path;     /* NULL: none */
	bool debug;
	enum config_seccomp seccomp;
	bool kernel_cache;     /* boot a bzImage unpacked from the cache (default) */
	char *log_path;        /* logger.log_path (its directory checked); NULL: none */
	char *metrics_path;    /* metrics.metrics_path (likewise); NULL: none */
	struct config_origins from;
};

/* The defaults: the one place they are set. */
void config_init(struct vm_config *c);
/* Free everything the config owns and leave it as config_init made it. */
void config_release(struct vm_config *c);

/*
 * The cpu limit actually applied: max_cpus (KVM_CAP_MAX_VCPUS) capped at
 * CONFIG_MAX_CPUS; 0 means "unknown" and gives CONFIG_MAX_CPUS.
 */
unsigned config_max_cpus(unsigned max_cpus);

/* Drives plus network interfaces: at CONFIG_MAX_DEVICES, the adds below
 * refuse another. */
bool config_devices_full(const struct vm_config *c);

/*
 * Add a drive (path copied; id generated unless given) and keep the root
 * drive first. Returns its slot, valid until the next add, or NULL with
 * errno ENOSPC when config_devices_full() already, else ENOMEM.
 */
struct drive_config *config_add_drive(struct vm_config *c, const char *id,
				      const char *path, bool root)
	__attribute__((warn_unused_result));
/*
 * Add a network interface: on host TAP device tap (copied), or, with tap
 * NULL, a user-mode one. id NULL gives "ethN", N the interface's
 * position. Returns its slot, valid until the next add, or NULL with
 * errno ENOSPC (config_devices_full) or ENOMEM.
 */
struct net_config *config_add_net(struct vm_config *c, const char *id,
				  const char *tap)
	__attribute__((warn_unused_result));
/* Append a copy of *f to n's port forwards. 0 or -ENOMEM. */
int config_net_add_fwd(struct net_config *n, const struct net_hostfwd *f)
	__attribute__((warn_unused_result));
/* Remove the root drive(s), if any (a --rootfs flag replaces the file's). */
void config_drop_root(struct vm_config *c);

/* Parse "xx:xx:xx:xx:xx:xx" (hex, either case). 0 or -EINVAL. */
int config_parse_mac(const char *s, uint8_t mac[6]);

/*
 * Parse a port forward in struct net_hostfwd's syntax. 0, or -EINVAL with
 * the reason in why, naming the bad part: 'bad host address "1.2.3"'.
 */
int config_parse_hostfwd(const char *s, struct net_hostfwd *f,
			 char *why, size_t whylen);
/* The canonical text of f, "tcp:127.0.0.1:8080-:80", in at most
 * CONFIG_HOSTFWD_STRLEN bytes. */
void config_format_hostfwd(const struct net_hostfwd *f, char *buf, size_t len);

/*
 * The one validator, for the merged config: the kernel, initrd and drive
 * images exist and can be opened as needed, output files' directories
 * exist, numbers are in range, drive and interface ids are unique, at most
 * one root drive, TAP names are valid and used once, MACs are unicast and
 * not shared, no host port is forwarded twice, at most CONFIG_MAX_DEVICES
 * devices, job arguments fit on the kernel command line. Opens no
 * KVM device. Returns 0, or -EINVAL (-ENOMEM) with one line in err naming
 * the flag or the file and field (no "mote: " prefix).
 */
int config_validate(const struct vm_config *c, unsigned max_cpus,
		    char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The kernel command line the guest gets: the given one (or
 * CONFIG_DEFAULT_CMDLINE), plus console=ttyS0 if it has no console=, plus
 * root=/dev/vda (or root=PARTUUID=...) and rw/ro if there is a root drive
 * and no root=, then " -- " and the job arguments. NULL on -ENOMEM; the
 * caller frees it.
 */
/* Does the guest get a job: arguments for init after "--", from the
 * flags, the API, or the given command line? A VM with a job must end
 * with the job's status (through the exit device) to end with status 0. */
bool config_has_job(const struct vm_config *c);

char *config_kernel_cmdline(const struct vm_config *c)
	__attribute__((warn_unused_result));
/* The same with extra parameters (e.g. device fragments) inserted before
 * the job arguments, where the kernel still reads them. */
char *config_kernel_cmdline_with(const struct vm_config *c, const char *extra)
	__attribute__((warn_unused_result));
/*
 * Where unpacked kernels are cached: $XDG_CACHE_HOME/mote/kernels, else
 * $HOME/.cache/mote/kernels (malloc'd). NULL when kernel_cache is off or
 * neither variable gives an absolute path.
 */
char *config_kernel_cache_dir(const struct vm_config *c)
	__attribute__((warn_unused_result));

/* Does the kernel's part of the given command line (before any "--") have
 * the parameter name: a prefix when it ends in '=' ("console="), else the
 * whole parameter ("acpi=off", "rw")? */
bool config_cmdline_has(const struct vm_config *c, const char *name);

/* A config file larger than this is refused unread. */
#define CONFIG_JSON_MAX_BYTES (4u << 20)

/*
 * Load a Firecracker-style JSON config file on top of c (which
 * config_init set up, or the CLI filled). Only a regular file of at most
 * CONFIG_JSON_MAX_BYTES is read ("vm.json: not a regular file", "vm.json:
 * larger than 4 MiB"): a FIFO would block. Sets c->source. Returns 0, or
 * -EINVAL/-ENOENT/-EISDIR/-ENOMEM (or another -errno from opening or
 * reading) with one line in err such as
 * "vm.json:3:17: <parser message>" or "vm.json: machine-config.turbo:
 * unknown key". Only syntax, types and keys are checked here; ranges and
 * paths are config_validate's.
 */
int config_json_load(struct vm_config *c, const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* The same from a string; name stands for the file in messages. */
int config_json_loads(struct vm_config *c, const char *name, const char *text,
		      char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif

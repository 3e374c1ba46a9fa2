/*
 * The one validator. It runs on the merged config (flags over file), so
 * each check asks the setting where it came from to name the flag or the
 * file and field. Everything here happens before /dev/kvm is opened.
 */
#include "vmm/config/config.h"
#include "vmm/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vctx {
	const struct vm_config *c;
	unsigned max_cpus;
	char *err;
	size_t errlen;
};

/* Where a setting came from: the flag, or the file's field, which is
 * section.key or section[index].key. */
struct place {
	enum config_origin from;
	const char *flag;       /* "--kernel" */
	const char *section;    /* "boot-source" */
	int index;              /* >= 0: an element of the section's array */
	const char *key;        /* "kernel_image_path" */
};

/* "--kernel " or "vm.json: boot-source.kernel_image_path: ". */
static void where(const struct vctx *v, const struct place *p, char *buf, size_t n)
{
	char index[24] = "";

	if (p->from != CONFIG_FROM_FILE) {
		snprintf(buf, n, "%s ", p->flag);
		return;
	}
	if (p->index >= 0)
		snprintf(index, sizeof(index), "[%d]", p->index);
	snprintf(buf, n, "%s: %s%s.%s: ", v->c->source ? v->c->source : "config",
		 p->section, index, p->key);
}

/* One message: the place, then what follows it. Always -EINVAL. Both
 * parts carry the user's strings (the file's name, paths, ids), so both
 * are escaped: the message stays one line whatever they hold. */
__attribute__((format(printf, 3, 4)))
static int fail(struct vctx *v, const struct place *p, const char *fmt, ...)
{
	char pre[160], msg[512];
	va_list ap;

	where(v, p, pre, sizeof(pre));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(v->err, v->errlen, "%s%s", log_str(pre).s, log_str(msg).s);
	return -EINVAL;
}

/* "--cpus 0: out of range 1..4" or "vm.json: ...vcpu_count: 0 is out of
 * range 1..4". */
static int out_of_range(struct vctx *v, const struct place *p, uint64_t val,
			uint64_t lo, uint64_t hi)
{
	return fail(v, p, "%" PRIu64 "%s out of range %" PRIu64 "..%" PRIu64, val,
		    p->from == CONFIG_FROM_FILE ? " is" : ":", lo, hi);
}

/* What a path must name: a kernel or initrd is read as a file, a drive
 * may also be a block device. */
enum image_kind { IMAGE_FILE, IMAGE_DRIVE };

/* 0, or why path cannot be used as kind. The type is checked with stat
 * before anything is opened: opening a device node (a tape, a tty, a
 * FIFO) can have side effects or block. Only a file or block device is
 * then opened, to prove it readable; O_NONBLOCK and O_NOCTTY keep even a
 * FIFO or tty swapped in meanwhile from blocking or becoming ours. */
static int check_image(const char *path, enum image_kind kind, bool write, struct stat *st)
{
	struct stat now;
	int fd, r = 0;

	if (stat(path, st) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode) && !(kind == IMAGE_DRIVE && S_ISBLK(st->st_mode)))
		return -ENODEV;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &now) < 0)
		r = -errno;
	else if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		r = -EAGAIN;   /* replaced between stat and open */
	else if (write && access(path, W_OK) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int image(struct vctx *v, const struct place *p, const char *path,
		 enum image_kind kind, bool write, struct stat *st)
{
	int r = check_image(path, kind, write, st);

	if (r == -ENODEV)
		return fail(v, p, "%s: not a regular file%s", path,
			    kind == IMAGE_DRIVE ? " or block device" : "");
	if (r == -EAGAIN)
		return fail(v, p, "%s: replaced while it was being checked", path);
	/* Readable but not writable: read-only access would do. */
	if ((r == -EACCES || r == -EROFS || r == -EPERM) && write &&
	    access(path, R_OK) == 0)
		return fail(v, p, "%s: %s (the guest may write it; make it read-only?)",
			    path, strerror(-r));
	if (r)
		return fail(v, p, "%s: %s", path, strerror(-r));
	return 0;
}

/* An output file: it may not exist yet, but its directory must. */
static int output(struct vctx *v, const struct place *p, const char *path)
{
	char *dir = strdup(path), *slash;
	struct stat st;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';  /* "/x" keeps "/" */
	if (*path == '\0')
		r = fail(v, p, "'': empty path");
	else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		r = fail(v, p, "%s: %s", path, strerror(EISDIR));
	else if (access(slash ? dir : ".", W_OK | X_OK) < 0)
		r = fail(v, p, "%s: %s", path, strerror(errno));
	else if (access(path, F_OK) == 0 && access(path, W_OK) < 0)
		r = fail(v, p, "%s: %s", path, strerror(errno));
	free(dir);
	return r;
}

static int check_boot(struct vctx *v)
{
	const struct vm_config *c = v->c;
	struct place pk = { c->from.kernel, "--kernel", "boot-source", -1, "kernel_image_path" };
	struct place pi = { c->from.initrd, "--initrd", "boot-source", -1, "initrd_path" };
	struct stat st;
	int r;

	if (!c->kernel && c->source) {
		snprintf(v->err, v->errlen, "%s: boot-source.kernel_image_path: missing",
			 log_str(c->source).s);
		return -EINVAL;
	}
	if (!c->kernel) {
		snprintf(v->err, v->errlen, "--kernel is required");
		return -EINVAL;
	}
	r = image(v, &pk, c->kernel, IMAGE_FILE, false, &st);
	if (!r && c->initrd)
		r = image(v, &pi, c->initrd, IMAGE_FILE, false, &st);
	return r;
}

static int check_machine(struct vctx *v)
{
	const struct vm_config *c = v->c;
	struct place pc = { c->from.cpus, "--cpus", "machine-config", -1, "vcpu_count" };
	struct place pm = { c->from.mem, "--mem", "machine-config", -1, "mem_size_mib" };

	if (c->cpus < 1 || c->cpus > v->max_cpus)
		return out_of_range(v, &pc, c->cpus, 1, v->max_cpus);
	if (c->mem_mib >= CONFIG_MIN_MEM_MIB && c->mem_mib <= CONFIG_MAX_MEM_MIB)
		return 0;
	if (pm.from != CONFIG_FROM_FILE && c->mem_mib < CONFIG_MIN_MEM_MIB)
		return fail(v, &pm, "%" PRIu64 "M: at least %d MiB required",
			    c->mem_mib, CONFIG_MIN_MEM_MIB);
	return out_of_range(v, &pm, c->mem_mib, CONFIG_MIN_MEM_MIB, CONFIG_MAX_MEM_MIB);
}

static struct place drive_place(const struct drive_config *d, const char *key)
{
	return (struct place){ d->from, d->root ? "--rootfs" : "--drive", "drives",
			       (int)d->index, key };
}

/* Two drives on one file, either writable, would corrupt it. */
static int check_shared(struct vctx *v, size_t i, const struct stat *sts)
{
	const struct drive_config *d = v->c->drives;
	struct place p = drive_place(&d[i], "path_on_host");

	for (size_t j = 0; j < i; j++) {
		bool w = (!d[i].read_only && !d[i].ephemeral) ||
			 (!d[j].read_only && !d[j].ephemeral);
		if (w && sts[i].st_dev == sts[j].st_dev && sts[i].st_ino == sts[j].st_ino)
			return fail(v, &p, "%s: the same file as drive '%s', and one is writable",
				    d[i].path, d[j].id);
	}
	return 0;
}

static int check_drive(struct vctx *v, size_t i, struct stat *sts)
{
	const struct drive_config *d = &v->c->drives[i];
	struct place p = drive_place(d, "path_on_host");
	struct place pid = drive_place(d, "drive_id");
	struct place pr = drive_place(d, "is_root_device");
	struct place pe = drive_place(d, "ephemeral");

	if (d->read_only && d->ephemeral)
		return fail(v, &pe, "%s: read-only and ephemeral exclude each other", d->path);
	if (d->root && i != 0)
		return fail(v, &pr, "a second root device (drive '%s' is one)",
			    v->c->drives[0].id);
	for (size_t j = 0; j < i; j++)
		if (strcmp(d->id, v->c->drives[j].id) == 0)
			return fail(v, &pid, "'%s': a drive with this id exists", d->id);
	if (image(v, &p, d->path, IMAGE_DRIVE, !d->read_only && !d->ephemeral, &sts[i]))
		return -EINVAL;
	return check_shared(v, i, sts);
}

static int check_drives(struct vctx *v)
{
	const struct vm_config *c = v->c;
	struct stat *sts = calloc(c->ndrives + 1, sizeof(*sts));
	int r = sts ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < c->ndrives; i++)
		r = check_drive(v, i, sts);
	free(sts);
	return r;
}

static struct place net_place(const struct net_config *n, const char *key)
{
	return (struct place){ n->from, "--net", "network-interfaces", (int)n->index, key };
}

/* The TAP name as a message shows it: "tap=NAME" after --net, the
 * field's value "'NAME'" in a file. */
static const char *tap_shown(const struct net_config *n, char *buf, size_t len)
{
	snprintf(buf, len, n->from == CONFIG_FROM_FILE ? "'%s'" : "tap=%s", n->tap);
	return buf;
}

/* Linux takes almost any bytes; this keeps to names that are safe in
 * messages, shells and "ip link": letters, digits, '-', '_', '.'. */
static bool tap_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_.") == len;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int check_tap(struct vctx *v, size_t i)
{
	const struct net_config *n = &v->c->nets[i];
	struct place pt = net_place(n, "host_dev_name");
	char shown[IFNAMSIZ + 40];

	if (!n->tap)
		return fail(v, &pt, "missing");
	if (!printable(n->tap))
		return fail(v, &pt, "contains a control character: not a network interface name");
	if (!tap_name_ok(n->tap))
		return fail(v, &pt, "%s: not a network interface name (1..%d of letters, "
			    "digits, '-', '_', '.')", tap_shown(n, shown, sizeof(shown)),
			    IFNAMSIZ - 1);
	for (size_t j = 0; j < i; j++) {
		const struct net_config *o = &v->c->nets[j];
		if (o->backend == NET_BACKEND_TAP && o->tap && strcmp(n->tap, o->tap) == 0)
			return fail(v, &pt, "%s: already used by interface '%s'",
				    tap_shown(n, shown, sizeof(shown)), o->id);
	}
	return 0;
}

/* Do a and b want the same host socket? 0.0.0.0 takes every address. */
static bool fwd_clash(const struct net_hostfwd *a, const struct net_hostfwd *b)
{
	return a->udp == b->udp && a->host_port == b->host_port &&
	       (a->host_addr == b->host_addr || a->host_addr == INADDR_ANY ||
		b->host_addr == INADDR_ANY);
}

/* Forward k of interface i against every earlier forward. */
static int check_fwd(struct vctx *v, size_t i, size_t k)
{
	const struct net_config *n = &v->c->nets[i];
	const struct net_hostfwd *f = &n->fwds[k];
	char key[48], text[CONFIG_HOSTFWD_STRLEN], shown[CONFIG_HOSTFWD_STRLEN + 16];
	struct place p;

	snprintf(key, sizeof(key), "mote.hostfwd[%zu]", k);
	p = net_place(n, key);
	config_format_hostfwd(f, text, sizeof(text));
	snprintf(shown, sizeof(shown), n->from == CONFIG_FROM_FILE ? "'%s'" : "hostfwd=%s",
		 text);
	for (size_t j = 0; j <= i; j++) {
		const struct net_config *o = &v->c->nets[j];
		size_t end = j == i ? k : o->nfwds;
		for (size_t m = 0; m < end; m++)
			if (fwd_clash(f, &o->fwds[m]))
				return fail(v, &p, "%s: host port %u already forwarded by "
					    "interface '%s'", shown, f->host_port, o->id);
	}
	return 0;
}

static int check_backend(struct vctx *v, size_t i)
{
	const struct net_config *n = &v->c->nets[i];
	struct place pc = net_place(n, "mote.create");
	struct place pf = net_place(n, "mote.hostfwd");
	int r = 0;

	if (n->backend == NET_BACKEND_TAP) {
		if (n->nfwds)
			return fail(v, &pf, "port forwards need user-mode networking");
		return check_tap(v, i);
	}
	if (n->create)
		return fail(v, &pc, "only a TAP device can be created");
	for (size_t k = 0; !r && k < n->nfwds; k++)
		r = check_fwd(v, i, k);
	return r;
}

static int check_mac(struct vctx *v, size_t i)
{
	const struct net_config *n = &v->c->nets[i];
	const uint8_t *m = n->mac, zero[6] = { 0 };
	struct place pm = net_place(n, "guest_mac");
	char text[24];

	if (!n->has_mac)
		return 0;
	snprintf(text, sizeof(text), "%s%02x:%02x:%02x:%02x:%02x:%02x",
		 n->from == CONFIG_FROM_FILE ? "" : "mac=", m[0], m[1], m[2], m[3], m[4], m[5]);
	if (m[0] & 1)
		return fail(v, &pm, "%s: a multicast address", text);
	if (memcmp(m, zero, 6) == 0)
		return fail(v, &pm, "%s: the all-zero address", text);
	for (size_t j = 0; j < i; j++)
		if (v->c->nets[j].has_mac && memcmp(m, v->c->nets[j].mac, 6) == 0)
			return fail(v, &pm, "%s: already used by interface '%s'", text,
				    v->c->nets[j].id);
	return 0;
}

static int check_net(struct vctx *v, size_t i)
{
	const struct net_config *n = &v->c->nets[i];
	struct place pid = net_place(n, "iface_id");

	if (!n->id || n->id[0] == '\0')
		return fail(v, &pid, "empty");
	for (size_t j = 0; j < i; j++)
		if (strcmp(n->id, v->c->nets[j].id) == 0)
			return fail(v, &pid, "'%s': an interface with this id exists", n->id);
	if (check_mac(v, i))
		return -EINVAL;
	return check_backend(v, i);
}

static int check_devices(struct vctx *v)
{
	const struct vm_config *c = v->c;
	int r = 0;

	if (c->ndrives + c->nnets > CONFIG_MAX_DEVICES) {
		snprintf(v->err, v->errlen, "%s%s%zu drives and %zu network interfaces: at most %d in all",
			 c->source ? log_str(c->source).s : "", c->source ? ": " : "",
			 c->ndrives, c->nnets, CONFIG_MAX_DEVICES);
		return -EINVAL;
	}
	r = check_drives(v);
	for (size_t i = 0; !r && i < c->nnets; i++)
		r = check_net(v, i);
	return r;
}

static int check_outputs(struct vctx *v)
{
	const struct vm_config *c = v->c;
	struct place pc = { c->from.console_log, "--console-log", "mote", -1, "console_log" };
	struct place pr = { c->from.result, "--result", "mote", -1, "result" };
	struct place pl = { CONFIG_FROM_FILE, "", "logger", -1, "log_path" };
	struct place pm = { CONFIG_FROM_FILE, "", "metrics", -1, "metrics_path" };
	struct place pt = { c->from.timeout, "--timeout", "mote", -1, "timeout_s" };

	if (!isfinite(c->timeout_s) || c->timeout_s < 0)
		return fail(v, &pt, "%g: not a number of seconds", c->timeout_s);
	if (c->timeout_s > CONFIG_MAX_TIMEOUT_S)
		return fail(v, &pt, "%g: more than %.0f seconds", c->timeout_s,
			    CONFIG_MAX_TIMEOUT_S);
	if (c->console_log && output(v, &pc, c->console_log))
		return -EINVAL;
	if (c->result_path && output(v, &pr, c->result_path))
		return -EINVAL;
	if (c->log_path && output(v, &pl, c->log_path))
		return -EINVAL;
	if (c->metrics_path && output(v, &pm, c->metrics_path))
		return -EINVAL;
	return 0;
}

/* What the kernel command line cannot carry: it has no escapes, so no
 * double quote and no line break; blanks are carried by quoting the word
 * (config_cmdline.c). */
static const char *arg_problem(const char *a)
{
	if (*a == '\0')
		return "empty";
	for (; *a; a++) {
		if (*a == '\n' || *a == '\r' || *a == '\v' || *a == '\f')
			return "contains a line break";
		if (*a == '"')
			return "contains a double quote";
		if ((unsigned char)*a < 0x20 || *a == 0x7f)
			return "contains a control character";
	}
	return NULL;
}

static int check_cmdline(struct vctx *v)
{
	const struct vm_config *c = v->c;
	char *line;
	size_t len;

	for (char **a = c->job_argv; a && *a; a++) {
		const char *why = arg_problem(*a);
		if (why) {
			snprintf(v->err, v->errlen, "job argument '%s': %s; "
				 "the kernel command line cannot carry it", log_str(*a).s, why);
			return -EINVAL;
		}
	}
	line = config_kernel_cmdline(c);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	free(line);
	if (len >= CONFIG_CMDLINE_MAX) {
		snprintf(v->err, v->errlen, "the kernel command line would be %zu bytes; "
			 "at most %d fit", len, CONFIG_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

int config_validate(const struct vm_config *c, unsigned max_cpus,
		    char *err, size_t errlen)
{
	struct vctx v = { c, config_max_cpus(max_cpus), err, errlen };
	int r;

	r = check_boot(&v);
	if (!r)
		r = check_machine(&v);
	if (!r)
		r = check_devices(&v);
	if (!r)
		r = check_outputs(&v);
	if (!r)
		r = check_cmdline(&v);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

/*
 * Unit tests for the config: the JSON loader and the validator on good
 * and bad files, the kernel command line rules and size parsing. They run
 * in a scratch directory holding small stand-in kernel and image files.
 */
#include "vmm/config/config.h"
#include "vmm/config/size.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CPUS 4

/* Load text as "vm.json" on top of the defaults, then validate it.
 * Returns the first error code, with the message in err. */
static int load(struct vm_config *c, const char *text, char *err, size_t n)
{
	int r;

	config_init(c);
	r = config_json_loads(c, "vm.json", text, err, n);
	if (!r)
		r = config_validate(c, MAX_CPUS, err, n);
	return r;
}

#define KERNEL "\"boot-source\": {\"kernel_image_path\": \"k\"}"

/* Firecracker's own example config, as its getting-started guide and its
 * test framework write it (nulls and all). */
static const char firecracker_example[] =
	"{\n"
	"  \"boot-source\": {\n"
	"    \"kernel_image_path\": \"k\",\n"
	"    \"boot_args\": \"console=ttyS0 reboot=k panic=1 pci=off\",\n"
	"    \"initrd_path\": null\n"
	"  },\n"
	"  \"drives\": [\n"
	"    {\n"
	"      \"drive_id\": \"rootfs\",\n"
	"      \"path_on_host\": \"root.img\",\n"
	"      \"is_root_device\": true,\n"
	"      \"partuuid\": null,\n"
	"      \"is_read_only\": false,\n"
	"      \"cache_type\": \"Unsafe\",\n"
	"      \"io_engine\": \"Sync\",\n"
	"      \"rate_limiter\": null,\n"
	"      \"socket\": null\n"
	"    },\n"
	"    {\n"
	"      \"drive_id\": \"data\",\n"
	"      \"path_on_host\": \"d.img\",\n"
	"      \"is_root_device\": false,\n"
	"      \"is_read_only\": true,\n"
	"      \"cache_type\": \"Writeback\",\n"
	"      \"io_engine\": \"Async\"\n"
	"    }\n"
	"  ],\n"
	"  \"machine-config\": {\n"
	"    \"vcpu_count\": 2,\n"
	"    \"mem_size_mib\": 1024,\n"
	"    \"smt\": false,\n"
	"    \"track_dirty_pages\": false,\n"
	"    \"huge_pages\": \"None\"\n"
	"  },\n"
	"  \"cpu-config\": null,\n"
	"  \"balloon\": null,\n"
	"  \"network-interfaces\": [\n"
	"    {\n"
	"      \"iface_id\": \"eth0\",\n"
	"      \"guest_mac\": \"AA:FC:00:00:00:01\",\n"
	"      \"host_dev_name\": \"tap0\"\n"
	"    }\n"
	"  ],\n"
	"  \"vsock\": null,\n"
	"  \"logger\": {\"log_path\": \"fc.log\", \"level\": \"debug\",\n"
	"             \"show_level\": true, \"show_log_origin\": false},\n"
	"  \"metrics\": {\"metrics_path\": \"metrics.json\"},\n"
	"  \"mmds-config\": null,\n"
	"  \"entropy\": null,\n"
	"  \"pmem\": [],\n"
	"  \"memory-hotplug\": null\n"
	"}\n";

START_TEST(firecracker_example_parses)
{
	struct vm_config c;
	char err[512] = "";

	ck_assert_msg(load(&c, firecracker_example, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.source, "vm.json");
	ck_assert_str_eq(c.kernel, "k");
	ck_assert_ptr_null(c.initrd);
	ck_assert_str_eq(c.cmdline, "console=ttyS0 reboot=k panic=1 pci=off");
	ck_assert_uint_eq(c.cpus, 2);
	ck_assert_uint_eq(c.mem_mib, 1024);
	ck_assert_uint_eq(c.ndrives, 2);
	ck_assert_str_eq(c.drives[0].id, "rootfs");
	ck_assert(c.drives[0].root && !c.drives[0].read_only);
	ck_assert_int_eq(c.drives[0].cache, DRIVE_CACHE_UNSAFE);
	ck_assert_int_eq(c.drives[0].io, DRIVE_IO_SYNC);
	ck_assert_str_eq(c.drives[1].id, "data");
	ck_assert(c.drives[1].read_only && !c.drives[1].root);
	ck_assert_int_eq(c.drives[1].cache, DRIVE_CACHE_WRITEBACK);
	ck_assert_int_eq(c.drives[1].io, DRIVE_IO_ASYNC);
	ck_assert_uint_eq(c.nnets, 1);
	ck_assert_str_eq(c.nets[0].tap, "tap0");
	ck_assert(c.nets[0].has_mac);
	ck_assert_uint_eq(c.nets[0].mac[0], 0xaa);
	ck_assert_uint_eq(c.nets[0].mac[5], 0x01);
	ck_assert(c.debug);
	ck_assert_str_eq(c.log_path, "fc.log");
	ck_assert_str_eq(c.metrics_path, "metrics.json");
	config_release(&c);
	ck_assert_ptr_null(c.kernel);
	ck_assert_uint_eq(c.ndrives, 0);
}
END_TEST

START_TEST(mote_section_and_defaults)
{
	struct vm_config c, d;
	char err[512] = "";

	ck_assert_msg(load(&c, "{" KERNEL ", \"drives\": [{\"drive_id\": \"scratch\","
			  " \"path_on_host\": \"d.img\", \"ephemeral\": true}],"
			  " \"mote\": {\"timeout_s\": 2.5, \"console_log\": \"out.log\","
			  " \"console_log_max_bytes\": 4096, \"result\": \"res.json\","
			  " \"kernel_cache\": false}}",
			  err, sizeof(err)) == 0, "%s", err);
	ck_assert(c.drives[0].ephemeral && !c.drives[0].root);
	ck_assert(c.timeout_s == 2.5);
	ck_assert_str_eq(c.console_log, "out.log");
	ck_assert_uint_eq(c.console_log_max, 4096);
	ck_assert_str_eq(c.result_path, "res.json");
	ck_assert(!c.kernel_cache);
	ck_assert_ptr_null(config_kernel_cache_dir(&c));
	/* What the file leaves out keeps config_init's values. */
	config_init(&d);
	ck_assert(d.kernel_cache);
	ck_assert_uint_eq(c.cpus, d.cpus);
	ck_assert_uint_eq(c.mem_mib, d.mem_mib);
	ck_assert_uint_eq(d.cpus, CONFIG_DEFAULT_CPUS);
	ck_assert_uint_eq(d.mem_mib, CONFIG_DEFAULT_MEM_MIB);
	ck_assert_uint_eq(d.console_log_max, CONFIG_DEFAULT_CONSOLE_LOG_MAX);
	ck_assert_ptr_null(d.cmdline);
	config_release(&c);
	config_release(&d);
}
END_TEST

START_TEST(root_drive_goes_first)
{
	struct vm_config c;
	char err[512] = "";

	ck_assert_msg(load(&c, "{" KERNEL ", \"drives\": ["
			  "{\"drive_id\": \"a\", \"path_on_host\": \"d.img\", \"is_read_only\": true},"
			  "{\"drive_id\": \"r\", \"path_on_host\": \"root.img\", \"is_root_device\": true,"
			  " \"partuuid\": \"0eaa91a0-01\"}]}", err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.drives[0].id, "r");
	ck_assert_uint_eq(c.drives[0].index, 1);
	ck_assert_str_eq(c.drives[1].id, "a");
	char *line = config_kernel_cmdline(&c);
	ck_assert_str_eq(line, CONFIG_DEFAULT_CMDLINE " root=PARTUUID=0eaa91a0-01 rw");
	free(line);
	config_release(&c);
}
END_TEST

struct bad_json {
	const char *text;
	const char *msg;
};

static const struct bad_json bad_jsons[] = {
	{ "[]", "vm.json: expected an object, got an array" },
	{ "{\"turbo\": 1}", "vm.json: turbo: unknown key" },
	{ "{" KERNEL ", \"machine-config\": {\"vcpu_count\": 2, \"turbo\": true}}",
	  "vm.json: machine-config.turbo: unknown key" },
	{ "{" KERNEL ", \"machine-config\": {\"vcpu_count\": 0}}",
	  "vm.json: machine-config.vcpu_count: 0 is out of range 1..4" },
	{ "{" KERNEL ", \"machine-config\": {\"vcpu_count\": 5}}",
	  "vm.json: machine-config.vcpu_count: 5 is out of range 1..4" },
	{ "{" KERNEL ", \"machine-config\": {\"vcpu_count\": -1}}",
	  "vm.json: machine-config.vcpu_count: -1 is negative" },
	{ "{" KERNEL ", \"machine-config\": {\"vcpu_count\": \"2\"}}",
	  "vm.json: machine-config.vcpu_count: expected an integer, got a string" },
	{ "{" KERNEL ", \"machine-config\": {\"vcpu_count\": 2.5}}",
	  "vm.json: machine-config.vcpu_count: expected an integer, got a real number" },
	{ "{" KERNEL ", \"machine-config\": {\"mem_size_mib\": 8}}",
	  "vm.json: machine-config.mem_size_mib: 8 is out of range 16..1048576" },
	{ "{" KERNEL ", \"machine-config\": {\"smt\": true}}",
	  "vm.json: machine-config.smt: true: not supported yet" },
	{ "{" KERNEL ", \"machine-config\": {\"cpu_template\": \"T2\"}}",
	  "vm.json: machine-config.cpu_template: 'T2': not supported yet" },
	{ "{" KERNEL ", \"machine-config\": {\"huge_pages\": \"2M\"}}",
	  "vm.json: machine-config.huge_pages: '2M': not supported yet" },
	{ "{}", "vm.json: boot-source.kernel_image_path: missing" },
	{ "{\"boot-source\": {\"boot_args\": \"quiet\"}}",
	  "vm.json: boot-source.kernel_image_path: missing" },
	{ "{\"boot-source\": {\"kernel_image_path\": \"/x\"}}",
	  "vm.json: boot-source.kernel_image_path: /x: No such file or directory" },
	{ "{\"boot-source\": {\"kernel_image_path\": \"dir\"}}",
	  "vm.json: boot-source.kernel_image_path: dir: Is a directory" },
	{ "{\"boot-source\": {\"kernel_image_path\": \"k\", \"initrd_path\": \"/nope\"}}",
	  "vm.json: boot-source.initrd_path: /nope: No such file or directory" },
	{ "{\"boot-source\": {\"kernel_image_path\": \"fifo\"}}",
	  "vm.json: boot-source.kernel_image_path: fifo: not a regular file" },
	{ "{" KERNEL ", \"drives\": {}}", "vm.json: drives: expected an array, got an object" },
	{ "{" KERNEL ", \"drives\": [\"d.img\"]}",
	  "vm.json: drives[0]: expected an object, got a string" },
	{ "{" KERNEL ", \"drives\": [{\"path_on_host\": \"d.img\"}]}",
	  "vm.json: drives[0].drive_id: missing" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\"}]}",
	  "vm.json: drives[0].path_on_host: missing" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/nope\"}]}",
	  "vm.json: drives[0].path_on_host: /nope: No such file or directory" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\","
	  " \"is_read_only\": true}, {\"drive_id\": \"a\", \"path_on_host\": \"e.img\"}]}",
	  "vm.json: drives[1].drive_id: 'a': a drive with this id exists" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\","
	  " \"is_root_device\": true}, {\"drive_id\": \"b\", \"path_on_host\": \"e.img\","
	  " \"is_root_device\": true}]}",
	  "vm.json: drives[1].is_root_device: a second root device (drive 'a' is one)" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\"},"
	  " {\"drive_id\": \"b\", \"path_on_host\": \"d.img\", \"is_read_only\": true}]}",
	  "vm.json: drives[1].path_on_host: d.img: the same file as drive 'a', and one is writable" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\","
	  " \"is_read_only\": true, \"ephemeral\": true}]}",
	  "vm.json: drives[0].ephemeral: d.img: read-only and ephemeral exclude each other" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\","
	  " \"cache_type\": \"Fast\"}]}",
	  "vm.json: drives[0].cache_type: 'Fast': expected \"Unsafe\" or \"Writeback\"" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\","
	  " \"io_engine\": \"Turbo\"}]}",
	  "vm.json: drives[0].io_engine: 'Turbo': expected \"Sync\" or \"Async\"" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\","
	  " \"rate_limiter\": {\"ops\": {\"size\": 100, \"refill_time\": 100}}}]}",
	  "vm.json: drives[0].rate_limiter: not supported yet" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"socket\": \"/run/vhost.sock\"}]}",
	  "vm.json: drives[0].socket: not supported yet" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"d.img\","
	  " \"is_read_only\": \"yes\"}]}",
	  "vm.json: drives[0].is_read_only: expected a boolean, got a string" },
	{ "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"eth0\","
	  " \"host_dev_name\": \"tap0\", \"guest_mac\": \"AA:FC:00:00:01\"}]}",
	  "vm.json: network-interfaces[0].guest_mac: 'AA:FC:00:00:01': not a MAC address"
	  " (xx:xx:xx:xx:xx:xx)" },
	{ "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"eth0\","
	  " \"host_dev_name\": \"tap0\", \"guest_mac\": \"01:00:5e:00:00:01\"}]}",
	  "vm.json: network-interfaces[0].guest_mac: 01:00:5e:00:00:01: a multicast address" },
	{ "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"eth0\"}]}",
	  "vm.json: network-interfaces[0].host_dev_name: missing" },
	{ "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\":"
	  " \"tap0\"}, {\"iface_id\": \"eth0\", \"host_dev_name\": \"tap1\"}]}",
	  "vm.json: network-interfaces[1].iface_id: 'eth0': an interface with this id exists" },
	{ "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"eth0\","
	  " \"host_dev_name\": \"a-name-far-too-long\"}]}",
	  "vm.json: network-interfaces[0].host_dev_name: 'a-name-far-too-long': not a network"
	  " interface name (1..15 of letters, digits, '-', '_', '.')" },
	{ "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\":"
	  " \"tap0\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1, \"refill_time\": 1}}}]}",
	  "vm.json: network-interfaces[0].rx_rate_limiter: not supported yet" },
	/* Interfaces: names, MACs, mote's own keys. */
#define NETS "{" KERNEL ", \"network-interfaces\": ["
	{ NETS "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap 0\"}]}",
	  "vm.json: network-interfaces[0].host_dev_name: 'tap 0': not a network"
	  " interface name (1..15 of letters, digits, '-', '_', '.')" },
	{ NETS "{\"iface_id\": \"eth0\", \"host_dev_name\": \"..\"}]}",
	  "vm.json: network-interfaces[0].host_dev_name: '..': not a network"
	  " interface name (1..15 of letters, digits, '-', '_', '.')" },
	{ NETS "{\"iface_id\": \"eth0\", \"host_dev_name\": \"\"}]}",
	  "vm.json: network-interfaces[0].host_dev_name: '': not a network"
	  " interface name (1..15 of letters, digits, '-', '_', '.')" },
	{ NETS "{\"iface_id\": \"eth0\", \"host_dev_name\": \"ta\\np\"}]}",
	  "vm.json: network-interfaces[0].host_dev_name: contains a control character:"
	  " not a network interface name" },
	{ NETS "{\"iface_id\": \"\", \"host_dev_name\": \"tap0\"}]}",
	  "vm.json: network-interfaces[0].iface_id: empty" },
	{ NETS "{\"iface_id\": \"a\", \"host_dev_name\": \"tap0\"},"
	  " {\"iface_id\": \"b\", \"host_dev_name\": \"tap0\"}]}",
	  "vm.json: network-interfaces[1].host_dev_name: 'tap0': already used by interface 'a'" },
	{ NETS "{\"iface_id\": \"a\", \"host_dev_name\": \"tap0\","
	  " \"guest_mac\": \"00:00:00:00:00:00\"}]}",
	  "vm.json: network-interfaces[0].guest_mac: 00:00:00:00:00:00: the all-zero address" },
	{ NETS "{\"iface_id\": \"a\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"02:00:00:00:00:01\"},"
	  " {\"iface_id\": \"b\", \"mote\": {\"backend\": \"user\"}, \"guest_mac\": \"02:00:00:00:00:01\"}]}",
	  "vm.json: network-interfaces[1].guest_mac: 02:00:00:00:00:01: already used by interface 'a'" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"foo\": 1}}]}",
	  "vm.json: network-interfaces[0].mote.foo: unknown key" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"user\", \"hostfwd\": [], \"foo\": 1}}]}",
	  "vm.json: network-interfaces[0].mote.foo: unknown key" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": []}]}",
	  "vm.json: network-interfaces[0].mote: expected an object, got an array" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"slirp\"}}]}",
	  "vm.json: network-interfaces[0].mote.backend: 'slirp': expected \"tap\" or \"user\"" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"TAP\"}}]}",
	  "vm.json: network-interfaces[0].mote.backend: 'TAP': expected \"tap\" or \"user\"" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": 1}}]}",
	  "vm.json: network-interfaces[0].mote.backend: expected a string, got an integer" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"tap\"}}]}",
	  "vm.json: network-interfaces[0].host_dev_name: missing" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"create\": true}}]}",
	  "vm.json: network-interfaces[0].host_dev_name: missing" },
	{ NETS "{\"mote\": {\"backend\": \"user\"}}]}",
	  "vm.json: network-interfaces[0].iface_id: missing" },
	{ NETS "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
	  " \"mote\": {\"backend\": \"user\"}}]}",
	  "vm.json: network-interfaces[0].host_dev_name: not used with backend \"user\"" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"user\", \"create\": true}}]}",
	  "vm.json: network-interfaces[0].mote.create: only for backend \"tap\"" },
	{ NETS "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
	  " \"mote\": {\"create\": \"yes\"}}]}",
	  "vm.json: network-interfaces[0].mote.create: expected a boolean, got a string" },
	{ NETS "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
	  " \"mote\": {\"hostfwd\": [\"tcp::8080-:80\"]}}]}",
	  "vm.json: network-interfaces[0].mote.hostfwd: only for backend \"user\"" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"user\","
	  " \"hostfwd\": \"tcp::8080-:80\"}}]}",
	  "vm.json: network-interfaces[0].mote.hostfwd: expected an array, got a string" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"user\","
	  " \"hostfwd\": [\"tcp::8080-:80\", 22]}}]}",
	  "vm.json: network-interfaces[0].mote.hostfwd[1]: expected a string, got an integer" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"user\","
	  " \"hostfwd\": [\"tcp:1.2.3:80-:22\"]}}]}",
	  "vm.json: network-interfaces[0].mote.hostfwd[0]: 'tcp:1.2.3:80-:22': bad host"
	  " address \"1.2.3\"" },
	{ NETS "{\"iface_id\": \"eth0\", \"mote\": {\"backend\": \"user\","
	  " \"hostfwd\": [\"tcp::8080-:80\", \"udp::8080-:80\", \"tcp::8080-:81\"]}}]}",
	  "vm.json: network-interfaces[0].mote.hostfwd[2]: 'tcp:127.0.0.1:8080-:81': host port"
	  " 8080 already forwarded by interface 'eth0'" },
	{ NETS "{\"iface_id\": \"a\", \"mote\": {\"backend\": \"user\","
	  " \"hostfwd\": [\"tcp:127.0.0.1:2222-:22\"]}},"
	  " {\"iface_id\": \"b\", \"mote\": {\"backend\": \"user\", \"hostfwd\": [\"tcp:0.0.0.0:2222-:22\"]}}]}",
	  "vm.json: network-interfaces[1].mote.hostfwd[0]: 'tcp:0.0.0.0:2222-:22': host port"
	  " 2222 already forwarded by interface 'a'" },
#undef NETS
	{ "{" KERNEL ", \"balloon\": {\"amount_mib\": 0, \"deflate_on_oom\": false}}",
	  "vm.json: balloon: not supported yet" },
	{ "{" KERNEL ", \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"v.sock\"}}",
	  "vm.json: vsock: not supported yet" },
	{ "{" KERNEL ", \"mmds-config\": {\"network_interfaces\": [\"eth0\"]}}",
	  "vm.json: mmds-config: not supported yet" },
	{ "{" KERNEL ", \"entropy\": {}}", "vm.json: entropy: not supported yet" },
	{ "{" KERNEL ", \"pmem\": [{}]}", "vm.json: pmem: not supported yet" },
	{ "{" KERNEL ", \"memory-hotplug\": {}}", "vm.json: memory-hotplug: not supported yet" },
	{ "{" KERNEL ", \"cpu-config\": \"t.json\"}", "vm.json: cpu-config: not supported yet" },
	{ "{" KERNEL ", \"logger\": {\"level\": \"Loud\"}}",
	  "vm.json: logger.level: 'Loud': expected Off, Error, Warning, Info, Debug or Trace" },
	{ "{" KERNEL ", \"metrics\": {}}", "vm.json: metrics.metrics_path: missing" },
	{ "{" KERNEL ", \"mote\": {\"timeout_s\": \"10\"}}",
	  "vm.json: mote.timeout_s: expected a number, got a string" },
	{ "{" KERNEL ", \"mote\": {\"timeout_s\": 1e10}}",
	  "vm.json: mote.timeout_s: 1e+10: more than 1000000000 seconds" },
	{ "{" KERNEL ", \"mote\": {\"timeout_s\": -1}}",
	  "vm.json: mote.timeout_s: -1: not a number of seconds" },
	{ "{" KERNEL ", \"mote\": {\"console_log\": \"/nonexistent/out.log\"}}",
	  "vm.json: mote.console_log: /nonexistent/out.log: No such file or directory" },
	{ "{" KERNEL ", \"mote\": {\"result\": \"dir\"}}",
	  "vm.json: mote.result: dir: Is a directory" },
	{ "{" KERNEL ", \"mote\": {\"kernel_cache\": \"no\"}}",
	  "vm.json: mote.kernel_cache: expected a boolean, got a string" },
	{ "{" KERNEL ", \"mote\": {\"console_log_max_bytes\": -5}}",
	  "vm.json: mote.console_log_max_bytes: -5 is negative" },
	{ "{" KERNEL ", \"mote\": {\"timeout\": 5}}", "vm.json: mote.timeout: unknown key" },
	/* The file's strings are escaped: a newline or a terminal escape
	 * cannot break the line or forge another ("vm.json: ok"). */
	{ "{" KERNEL ", \"machine-config\": {\"x\\nvm.json: ok\\u001b[2J\": 1}}",
	  "vm.json: machine-config.x\\nvm.json: ok\\x1b[2J: unknown key" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"d\", \"path_on_host\": \"d.img\", "
	  "\"cache_type\": \"\\u001b]0;x\\u0007\"}]}",
	  "vm.json: drives[0].cache_type: '\\x1b]0;x\\x07': expected \"Unsafe\" or \"Writeback\"" },
	{ "{\"boot-source\": {\"kernel_image_path\": \"/nope\\nvm.json: ok\"}}",
	  "vm.json: boot-source.kernel_image_path: /nope\\nvm.json: ok: No such file or directory" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"d\", "
	  "\"path_on_host\": \"/no\\\\pe\\r\\u009b2J\\u00e9\"}]}",
	  "vm.json: drives[0].path_on_host: /no\\\\pe\\r\\xc2\\x9b" "2J\xc3\xa9: No such file or directory" },
	{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\\tb\", \"path_on_host\": \"d.img\"}, "
	  "{\"drive_id\": \"a\\tb\", \"path_on_host\": \"e.img\"}]}",
	  "vm.json: drives[1].drive_id: 'a\\tb': a drive with this id exists" },
	{ "{" KERNEL ", \"logger\": {\"level\": \"\\u001b[31mDebug\"}}",
	  "vm.json: logger.level: '\\x1b[31mDebug': expected Off, Error, Warning, Info, Debug or "
	  "Trace" },
};

START_TEST(bad_json_rejected)
{
	const struct bad_json *b = &bad_jsons[_i];
	struct vm_config c;
	char err[512] = "";

	ck_assert_int_eq(load(&c, b->text, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strcmp(err, b->msg) == 0, "case %d: got '%s', want '%s'",
		      _i, err, b->msg);
	for (const char *e = err; *e; e++)
		ck_assert_msg((unsigned char)*e >= 0x20 && *e != 0x7f,
			      "case %d: control character 0x%02x in the line", _i, *e);
	config_release(&c);
}
END_TEST

/* The parser's own words may change between jansson versions; the place
 * must not. */
START_TEST(json_syntax_errors)
{
	struct vm_config c;
	char err[512];

	ck_assert_int_eq(load(&c, "{\n  \"boot-source\": {\n    \"kernel_image_path\": "
			      "\"k\",,\n  }\n}\n", err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, "vm.json:3:30: ", 14) == 0, "%s", err);
	config_release(&c);
	ck_assert_int_eq(load(&c, "{" KERNEL ",\n \"drives\": [], \"drives\": []}",
			      err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, "vm.json:2:", 10) == 0 && strstr(err, "duplicate"),
		      "%s", err);
	config_release(&c);
	ck_assert_int_eq(load(&c, "", err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, "vm.json:", 8) == 0, "%s", err);
	config_release(&c);
	/* jansson's text quotes the bad input; it is escaped too. */
	ck_assert_int_eq(load(&c, "{\"a\": \x1b[2J\nvm.json: ok}", err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, "vm.json:1:", 10) == 0, "%s", err);
	for (const char *e = err; *e; e++)
		ck_assert_msg((unsigned char)*e >= 0x20 && *e != 0x7f, "control character: %s", err);
	config_release(&c);
}
END_TEST

START_TEST(json_file_errors)
{
	struct vm_config c;
	char err[512];

	config_init(&c);
	ck_assert_int_eq(config_json_load(&c, "/nonexistent.json", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent.json: No such file or directory");
	ck_assert_int_eq(config_json_load(&c, "dir", err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "dir: Is a directory");
	ck_assert_int_eq(config_json_load(&c, "/nonexistent\n\x1b[1A.json", err, sizeof(err)),
			 -ENOENT);
	ck_assert_str_eq(err, "/nonexistent\\n\\x1b[1A.json: No such file or directory");
	config_release(&c);
}
END_TEST

/* ---- kernel command line ---- */

struct cmdline_case {
	const char *given;       /* --cmdline; NULL: default */
	const char *root;        /* root drive flags: NULL none, "rw", "ro", "uuid" */
	const char *job[4];
	const char *extra;
	const char *want;
};

static const struct cmdline_case cmdlines[] = {
	{ NULL, NULL, { NULL }, NULL, CONFIG_DEFAULT_CMDLINE },
	{ "quiet", NULL, { NULL }, NULL, "quiet console=ttyS0" },
	{ "", NULL, { NULL }, NULL, "console=ttyS0" },
	{ "console=hvc0", NULL, { NULL }, NULL, "console=hvc0" },
	{ "  quiet  ", "rw", { NULL }, NULL, "quiet console=ttyS0 root=/dev/vda rw" },
	{ "quiet", "ro", { NULL }, NULL, "quiet console=ttyS0 root=/dev/vda ro" },
	{ "quiet", "uuid", { NULL }, NULL, "quiet console=ttyS0 root=PARTUUID=1234-01 rw" },
	{ "root=/dev/vdb1", "rw", { NULL }, NULL, "root=/dev/vdb1 console=ttyS0" },
	{ "ro quiet", "rw", { NULL }, NULL, "ro quiet console=ttyS0 root=/dev/vda" },
	/* "xroot=" is not root=; "rootwait" is neither rw nor ro. */
	{ "xroot=1 rootwait", "rw", { NULL }, NULL,
	  "xroot=1 rootwait console=ttyS0 root=/dev/vda rw" },
	{ "quiet", NULL, { "/bin/sh", "-c", "ls", NULL }, NULL,
	  "quiet console=ttyS0 -- /bin/sh -c ls" },
	/* A job argument with blanks is quoted so init gets it whole. */
	{ "quiet", NULL, { "sh", "-c", "exit 42", NULL }, NULL,
	  "quiet console=ttyS0 -- sh -c \"exit 42\"" },
	/* Parameters after the line's own "--" are init's, not the kernel's. */
	{ "quiet -- console=x", NULL, { "y", NULL }, NULL,
	  "quiet console=ttyS0 -- console=x y" },
	{ "quiet --", NULL, { NULL }, NULL, "quiet console=ttyS0" },
	{ "quiet", "rw", { "job", NULL }, "virtio_mmio.device=4K@0xd0000000:5",
	  "quiet console=ttyS0 root=/dev/vda rw virtio_mmio.device=4K@0xd0000000:5 -- job" },
};

START_TEST(cmdline_rules)
{
	const struct cmdline_case *t = &cmdlines[_i];
	struct vm_config c;
	char *line;

	config_init(&c);
	if (t->given)
		c.cmdline = strdup(t->given);
	if (t->root) {
		struct drive_config *d = config_add_drive(&c, NULL, "root.img", true);
		ck_assert_ptr_nonnull(d);
		d->read_only = strcmp(t->root, "ro") == 0;
		if (strcmp(t->root, "uuid") == 0)
			d->partuuid = strdup("1234-01");
	}
	if (t->job[0]) {
		c.job_argv = calloc(5, sizeof(char *));
		for (int i = 0; t->job[i]; i++)
			c.job_argv[i] = strdup(t->job[i]);
	}
	line = config_kernel_cmdline_with(&c, t->extra);
	ck_assert_msg(strcmp(line, t->want) == 0, "case %d: got '%s', want '%s'",
		      _i, line, t->want);
	free(line);
	config_release(&c);
}
END_TEST

/* A job is init's arguments after "--", from the flags or the given line. */
START_TEST(cmdline_has_job)
{
	static const struct { const char *line, *job; bool want; } cases[] = {
		{ NULL, NULL, false },
		{ "quiet", NULL, false },
		{ "quiet --", NULL, false },
		{ "quiet --   ", NULL, false },
		{ "quiet -- make test", NULL, true },
		{ "quiet --x", NULL, false },
		{ NULL, "true", true },
		{ "quiet --", "true", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct vm_config c;

		config_init(&c);
		if (cases[i].line)
			c.cmdline = strdup(cases[i].line);
		if (cases[i].job) {
			c.job_argv = calloc(2, sizeof(char *));
			c.job_argv[0] = strdup(cases[i].job);
		}
		ck_assert_msg(config_has_job(&c) == cases[i].want, "case %zu: '%s' + '%s'",
			      i, cases[i].line, cases[i].job);
		config_release(&c);
	}
}
END_TEST

/* acpi=off switches mote to command-line device descriptions; only the
 * kernel's part of the line counts, and only the whole parameter. */
START_TEST(cmdline_has_param)
{
	static const struct { const char *line, *name; bool want; } cases[] = {
		{ "quiet acpi=off", "acpi=off", true },
		{ "acpi=offx", "acpi=off", false },
		{ "xacpi=off", "acpi=off", false },
		{ "quiet -- acpi=off", "acpi=off", false },
		{ "acpi=off -- x", "acpi=off", true },
		{ "console=hvc0 rw", "console=", true },
		{ "rwx", "rw", false },
		{ NULL, "acpi=off", false },
		{ NULL, "panic=", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct vm_config c;

		config_init(&c);
		if (cases[i].line)
			c.cmdline = strdup(cases[i].line);
		ck_assert_msg(config_cmdline_has(&c, cases[i].name) == cases[i].want,
			      "'%s' has '%s'", cases[i].line, cases[i].name);
		config_release(&c);
	}
}
END_TEST

START_TEST(cmdline_too_long)
{
	struct vm_config c;
	char err[256];

	config_init(&c);
	c.kernel = strdup("k");
	c.cmdline = malloc(CONFIG_CMDLINE_MAX);
	/* " console=ttyS0" (14 bytes) is added: 2034 + 14 leaves no room for
	 * the NUL, 2033 + 14 just fits. */
	memset(c.cmdline, 'x', 2034);
	c.cmdline[2034] = '\0';
	ck_assert_int_eq(config_validate(&c, 0, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "the kernel command line would be 2048 bytes; at most 2047 fit");
	c.cmdline[2033] = '\0';
	ck_assert_int_eq(config_validate(&c, 0, err, sizeof(err)), 0);
	config_release(&c);
}
END_TEST

/* ---- drives, MACs, limits ---- */

START_TEST(drive_ids_generated)
{
	struct vm_config c;

	config_init(&c);
	ck_assert_ptr_nonnull(config_add_drive(&c, "drive1", "d.img", false));
	ck_assert_ptr_nonnull(config_add_drive(&c, NULL, "e.img", false));
	ck_assert_ptr_nonnull(config_add_drive(&c, NULL, "root.img", true));
	ck_assert_str_eq(c.drives[0].id, "rootfs");
	ck_assert_str_eq(c.drives[1].id, "drive1");
	ck_assert_str_eq(c.drives[2].id, "drive2");
	config_drop_root(&c);
	ck_assert_uint_eq(c.ndrives, 2);
	ck_assert_str_eq(c.drives[0].id, "drive1");
	config_drop_root(&c);   /* no root: nothing happens */
	ck_assert_uint_eq(c.ndrives, 2);
	config_release(&c);
}
END_TEST

START_TEST(mac_parsing)
{
	uint8_t mac[6];

	ck_assert_int_eq(config_parse_mac("aa:FC:00:01:9f:Ff", mac), 0);
	ck_assert_uint_eq(mac[0], 0xaa);
	ck_assert_uint_eq(mac[4], 0x9f);
	ck_assert_uint_eq(mac[5], 0xff);
	ck_assert_int_eq(config_parse_mac("aa:fc:00:01:9f", mac), -EINVAL);
	ck_assert_int_eq(config_parse_mac("aa:fc:00:01:9f:ff:", mac), -EINVAL);
	ck_assert_int_eq(config_parse_mac("aa-fc-00-01-9f-ff", mac), -EINVAL);
	ck_assert_int_eq(config_parse_mac("aa:fc:00:01:9f:fg", mac), -EINVAL);
	ck_assert_int_eq(config_parse_mac("a:fc:00:01:9f:ff", mac), -EINVAL);
	ck_assert_int_eq(config_parse_mac("", mac), -EINVAL);
}
END_TEST

START_TEST(max_cpus_capped)
{
	ck_assert_uint_eq(config_max_cpus(0), CONFIG_MAX_CPUS);
	ck_assert_uint_eq(config_max_cpus(4), 4);
	ck_assert_uint_eq(config_max_cpus(1024), CONFIG_MAX_CPUS);
}
END_TEST

/* The 17th device is refused as it is added, so neither the id search
 * nor the root drive's move can grow with a long list. */
START_TEST(too_many_devices)
{
	struct vm_config c;
	char err[256];

	config_init(&c);
	c.kernel = strdup("k");
	for (int i = 0; i < CONFIG_MAX_DEVICES - 1; i++)
		config_add_drive(&c, NULL, "d.img", false)->read_only = true;
	ck_assert(!config_devices_full(&c));
	ck_assert_ptr_nonnull(config_add_net(&c, NULL, NULL));
	ck_assert(config_devices_full(&c));
	errno = 0;
	ck_assert_ptr_null(config_add_drive(&c, NULL, "d.img", false));
	ck_assert_int_eq(errno, ENOSPC);
	errno = 0;
	ck_assert_ptr_null(config_add_drive(&c, "r", "root.img", true));
	ck_assert_int_eq(errno, ENOSPC);
	errno = 0;
	ck_assert_ptr_null(config_add_net(&c, NULL, "tap0"));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_uint_eq(c.ndrives, 15);
	ck_assert_uint_eq(c.nnets, 1);
	ck_assert_int_eq(config_validate(&c, 0, err, sizeof(err)), 0);
	config_release(&c);
}
END_TEST

/* A JSON array of many drives stops at the 17th device: at once, and
 * with the element named. Interfaces count towards the same limit. */
START_TEST(too_many_devices_in_json)
{
	const int n = 20000;
	size_t size = (size_t)n * 64 + 256, len;
	char *text = malloc(size), err[256];
	struct vm_config c;

	len = (size_t)snprintf(text, size, "{" KERNEL ", \"drives\": [");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, size - len, "%s{\"drive_id\": \"d%d\","
					" \"path_on_host\": \"d.img\"}", i ? "," : "", i);
	snprintf(text + len, size - len, "]}");
	config_init(&c);
	ck_assert_int_eq(config_json_loads(&c, "vm.json", text, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "vm.json: drives[16]: too many devices: at most 16 drives and"
			 " network interfaces in all");
	ck_assert_uint_eq(c.ndrives, 16);
	config_release(&c);
	free(text);

	config_init(&c);
	for (int i = 0; i < CONFIG_MAX_DEVICES - 1; i++)
		ck_assert_ptr_nonnull(config_add_drive(&c, NULL, "d.img", false));
	ck_assert_int_eq(config_json_loads(&c, "vm.json", "{\"network-interfaces\": ["
					   "{\"iface_id\": \"a\", \"host_dev_name\": \"tap0\"},"
					   "{\"iface_id\": \"b\", \"host_dev_name\": \"tap1\"}]}",
					   err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "vm.json: network-interfaces[1]: too many devices: at most 16"
			 " drives and network interfaces in all");
	config_release(&c);
}
END_TEST

/* Generated ids take the first free number in one pass over the drives. */
START_TEST(drive_ids_fill_gaps)
{
	struct vm_config c;

	config_init(&c);
	ck_assert_ptr_nonnull(config_add_drive(&c, "drive1", "d.img", false));
	ck_assert_ptr_nonnull(config_add_drive(&c, "drive3", "d.img", false));
	ck_assert_ptr_nonnull(config_add_drive(&c, "drive02", "d.img", false));
	ck_assert_ptr_nonnull(config_add_drive(&c, NULL, "d.img", false));
	ck_assert_str_eq(c.drives[3].id, "drive2");
	ck_assert_ptr_nonnull(config_add_drive(&c, NULL, "d.img", false));
	ck_assert_str_eq(c.drives[4].id, "drive4");
	ck_assert_ptr_nonnull(config_add_drive(&c, "rootfs", "root.img", true));
	ck_assert_ptr_nonnull(config_add_drive(&c, NULL, "root.img", true));
	ck_assert_str_eq(c.drives[0].id, "rootfs");
	ck_assert_str_eq(c.drives[1].id, "rootfs1");
	config_release(&c);
	/* ethN skips what a file's interfaces took. */
	config_init(&c);
	ck_assert_ptr_nonnull(config_add_net(&c, "eth1", "tap0"));
	ck_assert_ptr_nonnull(config_add_net(&c, NULL, NULL));
	ck_assert_str_eq(c.nets[1].id, "eth2");
	ck_assert_ptr_nonnull(config_add_net(&c, NULL, NULL));
	ck_assert_str_eq(c.nets[2].id, "eth3");
	config_release(&c);
}
END_TEST

/* ---- network interfaces ---- */

START_TEST(nets_in_json)
{
	struct vm_config c;
	char err[512] = "", text[CONFIG_HOSTFWD_STRLEN];

	ck_assert_msg(load(&c, "{" KERNEL ", \"network-interfaces\": ["
			  "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"},"
			  "{\"iface_id\": \"eth1\", \"host_dev_name\": \"mote-tap.1\","
			  " \"mote\": {\"create\": true}},"
			  "{\"iface_id\": \"up\", \"guest_mac\": \"02:00:00:00:00:07\","
			  " \"mote\": {\"backend\": \"user\", \"hostfwd\": [\"tcp:127.0.0.1:8080-:80\","
			  " \"udp::5353-:53\", \"tcp:0.0.0.0:2222-:22\"]}},"
			  "{\"iface_id\": \"tap\", \"host_dev_name\": \"tap2\", \"mote\": {\"backend\":"
			  " \"tap\", \"create\": false, \"hostfwd\": []}},"
			  "{\"iface_id\": \"u2\", \"mote\": {\"backend\": \"user\", \"create\": false,"
			  " \"hostfwd\": null}}]}", err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c.nnets, 5);
	ck_assert_int_eq(c.nets[0].backend, NET_BACKEND_TAP);
	ck_assert_str_eq(c.nets[0].tap, "tap0");
	ck_assert(!c.nets[0].create && c.nets[0].nfwds == 0);
	ck_assert_str_eq(c.nets[1].tap, "mote-tap.1");
	ck_assert(c.nets[1].create);
	ck_assert_int_eq(c.nets[2].backend, NET_BACKEND_USER);
	ck_assert_ptr_null(c.nets[2].tap);
	ck_assert(c.nets[2].has_mac && c.nets[2].mac[5] == 7);
	ck_assert_uint_eq(c.nets[2].nfwds, 3);
	ck_assert(!c.nets[2].fwds[0].udp && c.nets[2].fwds[1].udp);
	ck_assert_uint_eq(c.nets[2].fwds[0].host_port, 8080);
	ck_assert_uint_eq(c.nets[2].fwds[0].guest_port, 80);
	config_format_hostfwd(&c.nets[2].fwds[1], text, sizeof(text));
	ck_assert_str_eq(text, "udp:127.0.0.1:5353-:53");
	config_format_hostfwd(&c.nets[2].fwds[2], text, sizeof(text));
	ck_assert_str_eq(text, "tcp:0.0.0.0:2222-:22");
	ck_assert_int_eq(c.nets[3].backend, NET_BACKEND_TAP);
	ck_assert_int_eq(c.nets[4].backend, NET_BACKEND_USER);
	ck_assert_int_eq(c.nets[4].from, CONFIG_FROM_FILE);
	ck_assert_uint_eq(c.nets[4].index, 4);
	config_release(&c);
	ck_assert_uint_eq(c.nnets, 0);
}
END_TEST

/* A failure part-way through an interface frees what it parsed (run
 * under ASan to see). */
START_TEST(nets_json_error_frees)
{
	struct vm_config c;
	char err[512] = "";

	ck_assert_int_eq(load(&c, "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"a\","
			      " \"mote\": {\"backend\": \"user\", \"hostfwd\": [\"tcp::1-:1\"]},"
			      " \"turbo\": 1}]}", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "vm.json: network-interfaces[0].turbo: unknown key");
	config_release(&c);
	ck_assert_int_eq(load(&c, "{" KERNEL ", \"network-interfaces\": [{\"iface_id\": \"a\","
			      " \"host_dev_name\": \"tap0\", \"mote\": {\"hostfwd\": [\"tcp::1-:1\"]}}]}",
			      err, sizeof(err)), -EINVAL);
	config_release(&c);
}
END_TEST

struct fwd_case {
	const char *s;
	const char *why;    /* NULL: valid, and canon is its text */
	const char *canon;
};

static const struct fwd_case fwds[] = {
	{ "tcp::8080-:80", NULL, "tcp:127.0.0.1:8080-:80" },
	{ "tcp:127.0.0.1:8080-:80", NULL, "tcp:127.0.0.1:8080-:80" },
	{ "udp:0.0.0.0:53-:5353", NULL, "udp:0.0.0.0:53-:5353" },
	{ "tcp:10.1.2.3:1-:65535", NULL, "tcp:10.1.2.3:1-:65535" },
	{ "tcp:1.2.3:80-:22", "bad host address \"1.2.3\"", NULL },
	{ "tcp:localhost:80-:22", "bad host address \"localhost\"", NULL },
	{ "tcp:1.2.3.256:80-:22", "bad host address \"1.2.3.256\"", NULL },
	{ "tcp:255.255.255.255.255:80-:22", "bad host address \"255.255.255.255.255\"", NULL },
	{ "tcp:::1:80-:22", "bad host address \"::1\"", NULL },
	{ "sctp::80-:22", "bad protocol \"sctp\" (tcp or udp)", NULL },
	{ "TCP::80-:22", "bad protocol \"TCP\" (tcp or udp)", NULL },
	{ "::80-:22", "bad protocol \"\" (tcp or udp)", NULL },
	{ "tcp::0-:22", "bad host port \"0\" (1..65535)", NULL },
	{ "tcp::65536-:22", "bad host port \"65536\" (1..65535)", NULL },
	{ "tcp::080-:22", "bad host port \"080\" (1..65535)", NULL },
	{ "tcp::+80-:22", "bad host port \"+80\" (1..65535)", NULL },
	{ "tcp::-:22", "bad host port \"\" (1..65535)", NULL },
	{ "tcp::80-:0", "bad guest port \"0\" (1..65535)", NULL },
	{ "tcp::80-:99999", "bad guest port \"99999\" (1..65535)", NULL },
	{ "tcp::80-:22x", "bad guest port \"22x\" (1..65535)", NULL },
	{ "tcp::80-:", "bad guest port \"\" (1..65535)", NULL },
	{ "tcp::80-10.0.2.15:22", "guest address \"10.0.2.15\": leave it out, forwards go to"
	  " the guest's DHCP address", NULL },
	{ "tcp::80-22", "expected tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT", NULL },
	{ "tcp:8080-:80", "expected tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT", NULL },
	{ "tcp::8080:80", "expected tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT", NULL },
	{ "tcp", "expected tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT", NULL },
	{ "", "expected tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT", NULL },
};

START_TEST(hostfwd_parsing)
{
	const struct fwd_case *t = &fwds[_i];
	struct net_hostfwd f = { .host_port = 7 };
	char why[160] = "", text[CONFIG_HOSTFWD_STRLEN];
	int r = config_parse_hostfwd(t->s, &f, why, sizeof(why));

	if (!t->why) {
		ck_assert_msg(r == 0, "'%s': %s", t->s, why);
		config_format_hostfwd(&f, text, sizeof(text));
		ck_assert_str_eq(text, t->canon);
		return;
	}
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strcmp(why, t->why) == 0, "'%s': got '%s', want '%s'", t->s, why, t->why);
	ck_assert_uint_eq(f.host_port, 7);   /* untouched on error */
}
END_TEST

START_TEST(hostfwd_longest_text)
{
	struct net_hostfwd f;
	char why[160], text[CONFIG_HOSTFWD_STRLEN];

	ck_assert_int_eq(config_parse_hostfwd("udp:255.255.255.255:65535-:65535", &f, why,
					      sizeof(why)), 0);
	config_format_hostfwd(&f, text, sizeof(text));
	ck_assert_str_eq(text, "udp:255.255.255.255:65535-:65535");
}
END_TEST

/* ---- the config file itself ---- */

START_TEST(config_file_kinds)
{
	struct vm_config c;
	char err[256];
	int fd;

	config_init(&c);
	/* A FIFO with no writer would block a reader forever. */
	ck_assert_int_eq(config_json_load(&c, "fifo", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "fifo: not a regular file");
	ck_assert_int_eq(config_json_load(&c, "/dev/null", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/dev/null: not a regular file");
	/* One byte over the cap is refused unread; the cap itself is fine. */
	fd = open("big.json", O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, CONFIG_JSON_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(config_json_load(&c, "big.json", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "big.json: larger than 4 MiB");
	{
		char *text = malloc(CONFIG_JSON_MAX_BYTES);
		const char doc[] = "{" KERNEL "}";
		FILE *f = fopen("big.json", "w");

		memset(text, ' ', CONFIG_JSON_MAX_BYTES);
		memcpy(text, doc, sizeof(doc) - 1);
		ck_assert_uint_eq(fwrite(text, 1, CONFIG_JSON_MAX_BYTES, f), CONFIG_JSON_MAX_BYTES);
		fclose(f);
		free(text);
	}
	ck_assert_msg(config_json_load(&c, "big.json", err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.kernel, "k");
	ck_assert_str_eq(c.source, "big.json");
	unlink("big.json");
	config_release(&c);
}
END_TEST

/* A path naming a device node is refused from its stat alone: opening a
 * FIFO could block and opening a device can have side effects, so
 * inotify must see no open of it. The check's own timeout catches a
 * validator that blocks on the FIFO. */
START_TEST(device_paths_not_opened)
{
	static const struct { const char *json, *msg; } cases[] = {
		{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"fifo\"}]}",
		  "vm.json: drives[0].path_on_host: fifo: not a regular file or block device" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\", \"initrd_path\": \"fifo\"}}",
		  "vm.json: boot-source.initrd_path: fifo: not a regular file" },
		{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/dev/null\", "
		  "\"is_read_only\": true}]}",
		  "vm.json: drives[0].path_on_host: /dev/null: not a regular file or block device" },
		/* Opened without a controlling terminal, /dev/tty would fail
		 * with ENXIO instead: the message shows it was not opened. */
		{ "{" KERNEL ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/dev/tty\", "
		  "\"is_read_only\": true}]}",
		  "vm.json: drives[0].path_on_host: /dev/tty: not a regular file or block device" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/dev/zero\"}}",
		  "vm.json: boot-source.kernel_image_path: /dev/zero: not a regular file" },
	};
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	struct vm_config c;
	char err[512], ev[4096];

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(inotify_add_watch(in, "fifo", IN_OPEN | IN_ACCESS), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		ck_assert_int_eq(load(&c, cases[i].json, err, sizeof(err)), -EINVAL);
		ck_assert_str_eq(err, cases[i].msg);
		config_release(&c);
	}
	ck_assert_msg(read(in, ev, sizeof(ev)) < 0 && errno == EAGAIN,
		      "the validator opened the FIFO");
	/* The watch works: an open is seen. */
	close(open("fifo", O_RDONLY | O_NONBLOCK));
	ck_assert_int_gt(read(in, ev, sizeof(ev)), 0);
	close(in);
}
END_TEST

/* ---- sizes ---- */

struct size_case {
	const char *s;
	int ret;
	uint64_t bytes;
};

static const struct size_case sizes[] = {
	{ "256", 0, 256ULL << 20 },
	{ "1K", 0, 1024 },
	{ "1k", 0, 1024 },
	{ "512M", 0, 512ULL << 20 },
	{ "512MiB", 0, 512ULL << 20 },
	{ "512mb", 0, 512ULL << 20 },
	{ "2G", 0, 2ULL << 30 },
	{ "2gib", 0, 2ULL << 30 },
	{ "1T", 0, 1ULL << 40 },
	{ "4096B", 0, 4096 },
	{ "0", 0, 0 },
	{ "", -EINVAL, 0 },
	{ "M", -EINVAL, 0 },
	{ "12Q", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1 M", -EINVAL, 0 },
	{ "1.5G", -EINVAL, 0 },
	{ "1MiBs", -EINVAL, 0 },
	{ "1iB", -EINVAL, 0 },
	{ "18446744073709551615B", 0, UINT64_MAX },
	{ "18446744073709551616B", -ERANGE, 0 },
	{ "17592186044416M", -ERANGE, 0 },
	{ "99999999999999999999G", -ERANGE, 0 },
};

START_TEST(size_parsing)
{
	const struct size_case *t = &sizes[_i];
	uint64_t bytes = 0;

	ck_assert_msg(size_parse(t->s, 1ULL << 20, &bytes) == t->ret, "case '%s'", t->s);
	if (t->ret == 0)
		ck_assert_msg(bytes == t->bytes, "case '%s': %llu", t->s,
			      (unsigned long long)bytes);
}
END_TEST

/* $XDG_CACHE_HOME when absolute, else $HOME/.cache; off: none. */
START_TEST(kernel_cache_dir)
{
	struct vm_config c;
	char *d;

	config_init(&c);
	setenv("HOME", "/h", 1);
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	d = config_kernel_cache_dir(&c);
	ck_assert_str_eq(d, "/x/cache/mote/kernels");
	free(d);
	setenv("XDG_CACHE_HOME", "relative", 1);
	d = config_kernel_cache_dir(&c);
	ck_assert_str_eq(d, "/h/.cache/mote/kernels");
	free(d);
	unsetenv("XDG_CACHE_HOME");
	d = config_kernel_cache_dir(&c);
	ck_assert_str_eq(d, "/h/.cache/mote/kernels");
	free(d);
	unsetenv("HOME");
	ck_assert_ptr_null(config_kernel_cache_dir(&c));
	setenv("HOME", "/h", 1);
	c.kernel_cache = false;
	ck_assert_ptr_null(config_kernel_cache_dir(&c));
	config_release(&c);
}
END_TEST

/* ---- scratch directory ---- */

static const char *const scratch_files[] = {
	"k", "d.img", "e.img", "root.img",
};

static void make_scratch(char *dir)
{
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror(dir);
		exit(1);
	}
	for (size_t i = 0; i < sizeof(scratch_files) / sizeof(*scratch_files); i++) {
		int fd = open(scratch_files[i], O_CREAT | O_WRONLY, 0644);
		if (fd < 0 || ftruncate(fd, 4096) < 0)
			exit(1);
		close(fd);
	}
	if (mkdir("dir", 0755) < 0 || mkfifo("fifo", 0644) < 0)
		exit(1);
}

static void remove_scratch(const char *dir)
{
	for (size_t i = 0; i < sizeof(scratch_files) / sizeof(*scratch_files); i++)
		unlink(scratch_files[i]);
	unlink("fifo");
	rmdir("dir");
	if (chdir("/") == 0)
		rmdir(dir);
}

int main(void)
{
	char dir[] = "/tmp/mote-test-config-XXXXXX";
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	make_scratch(dir);
	tcase_add_test(tc, firecracker_example_parses);
	tcase_add_test(tc, mote_section_and_defaults);
	tcase_add_test(tc, root_drive_goes_first);
	tcase_add_loop_test(tc, bad_json_rejected, 0, sizeof(bad_jsons) / sizeof(*bad_jsons));
	tcase_add_test(tc, json_syntax_errors);
	tcase_add_test(tc, json_file_errors);
	tcase_add_loop_test(tc, cmdline_rules, 0, sizeof(cmdlines) / sizeof(*cmdlines));
	tcase_add_test(tc, cmdline_has_param);
	tcase_add_test(tc, cmdline_has_job);
	tcase_add_test(tc, cmdline_too_long);
	tcase_add_test(tc, drive_ids_generated);
	tcase_add_test(tc, mac_parsing);
	tcase_add_test(tc, max_cpus_capped);
	tcase_add_test(tc, too_many_devices);
	tcase_add_test(tc, too_many_devices_in_json);
	tcase_add_test(tc, drive_ids_fill_gaps);
	tcase_add_test(tc, nets_in_json);
	tcase_add_test(tc, nets_json_error_frees);
	tcase_add_loop_test(tc, hostfwd_parsing, 0, sizeof(fwds) / sizeof(*fwds));
	tcase_add_test(tc, hostfwd_longest_text);
	tcase_add_test(tc, config_file_kinds);
	tcase_add_test(tc, device_paths_not_opened);
	tcase_add_test(tc, kernel_cache_dir);
	tcase_add_loop_test(tc, size_parsing, 0, sizeof(sizes) / sizeof(*sizes));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_scratch(dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * kvm-ok: is /dev/kvm usable, not merely present?
 *
 * Opens /dev/kvm, checks the API version, creates a VM with one vCPU and
 * runs a few instructions of guest code that write a known value to the
 * VMM; only an exit carrying that value counts as usable. Everything runs
 * under alarm() because a broken nested setup can hang in KVM_RUN, and the
 * build must decide "use the sandbox" instead of hanging with it.
 *
 * x86: four bytes of real-mode code write a byte to an I/O port
 * (KVM_EXIT_IO). A CPU without VMX or SVM flags is refused too: there
 * /dev/kvm is a software backend (e.g. kvm-pvm on cloud VMs) that runs the
 * probe but fails or crawls on a stock Linux guest (emulation errors on
 * cmpxchg16b, a minute to decompress the kernel), which is what mote boots.
 *
 * arm64: the vCPU is initialised as KVM's preferred target and, with its
 * MMU off, stores a 32-bit value to an address no memory slot covers, then
 * the value plus one to the next word (two KVM_EXIT_MMIO): the second
 * proves the vCPU resumes after an exit. Built by `make kvm-ok-arm64`
 * (tools/sandbox-arm64.mk) and run in `tools/sandbox --arch arm64`.
 *
 * Exit status: 0 usable; 1 not usable, with one line on stderr saying why.
 * Usage: kvm-ok [-q] [DEVICE]   (-q: say nothing when usable)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROBE_TIMEOUT_S  5
#define STR_(x)          #x
#define STR(x)           STR_(x)

#if defined(__x86_64__)
#define PROBE_PORT       0x10
#define PROBE_VALUE      0x2a
#define PROBE_GPA        0x1000
#define PROBE_MEM_SIZE   0x2000

/* mov al, PROBE_VALUE; out PROBE_PORT, al; hlt */
static const uint8_t probe_code[] = {
	0xb0, PROBE_VALUE, 0xe6, PROBE_PORT, 0xf4,
};
#elif defined(__aarch64__)
#define PROBE_MMIO       0x1000
#define PROBE_VALUE      0x4d4f5445u /* "ETOM" in memory order */
#define PROBE_GPA        0x10000
#define PROBE_MEM_SIZE   0x10000

/* Little-endian A64 words, as the instructions are stored. */
static const uint32_t probe_code[] = {
	0x528a88a0, /* movz w0, #0x5445 */
	0x72a9a9e0, /* movk w0, #0x4d4f, lsl #16 */
	0xd2820001, /* movz x1, #PROBE_MMIO */
	0xb9000020, /* str  w0, [x1] */
	0x11000400, /* add  w0, w0, #1 */
	0xb9000420, /* str  w0, [x1, #4] */
	0x14000000, /* b    . */
};
#else
#error "kvm-ok knows x86_64 and aarch64"
#endif

struct probe {
	const char *dev;
	int kvm;
	int vm;
	int vcpu;
	void *mem;
	struct kvm_run *run;
	size_t run_size;
	char why[160];
};

static void on_alarm(int sig)
{
	static const char msg[] =
		"kvm-ok: KVM_RUN did not return within " STR(PROBE_TIMEOUT_S)
		" s (broken nested KVM?)\n";

	(void)sig;
	/* Only async-signal-safe calls here: write and _exit. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static int fail(struct probe *p, const char *what)
{
	snprintf(p->why, sizeof(p->why), "%s: %s: %s", p->dev, what,
		 strerror(errno));
	return -1;
}

static int open_vm(struct probe *p)
{
	int version;

	p->kvm = open(p->dev, O_RDWR | O_CLOEXEC);
	if (p->kvm < 0)
		return fail(p, "open");
	version = ioctl(p->kvm, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(p->why, sizeof(p->why),
			 "%s: API version %d, want %d", p->dev, version,
			 KVM_API_VERSION);
		return -1;
	}
	p->vm = ioctl(p->kvm, KVM_CREATE_VM, 0);
	if (p->vm < 0)
		return fail(p, "KVM_CREATE_VM");
	return 0;
}

static int add_memory(struct probe *p)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = PROBE_GPA,
		.memory_size = PROBE_MEM_SIZE,
	};

	p->mem = mmap(NULL, PROBE_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return fail(p, "mmap guest memory");
	}
	memcpy(p->mem, probe_code, sizeof(probe_code));
	region.userspace_addr = (uintptr_t)p->mem;
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail(p, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

static int add_vcpu(struct probe *p)
{
	int size;

	p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	if (p->vcpu < 0)
		return fail(p, "KVM_CREATE_VCPU");
	size = ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return fail(p, "KVM_GET_VCPU_MMAP_SIZE");
	p->run_size = (size_t)size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->vcpu, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return fail(p, "mmap kvm_run");
	}
	return 0;
}

#if defined(__x86_64__)
/* Does /proc/cpuinfo's first "flags" line list vmx or svm? */
static int has_hw_virt(struct probe *p)
{
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int found = 0;

	if (!f)
		return fail(p, "/proc/cpuinfo");
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
		break;
	}
	fclose(f);
	if (!found) {
		snprintf(p->why, sizeof(p->why),
			 "%s: the CPU has no VMX/SVM flag, so this KVM is a software backend that cannot boot stock Linux guests",
			 p->dev);
		return -1;
	}
	return 0;
}

/* Real mode, flat segment at 0, starting at the probe code. */
static int set_regs(struct probe *p)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(p->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail(p, "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(p->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail(p, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = PROBE_GPA;
	regs.rflags = 0x2;
	if (ioctl(p->vcpu, KVM_SET_REGS, &regs) < 0)
		return fail(p, "KVM_SET_REGS");
	return 0;
}

static int run_probe(struct probe *p)
{
	const uint8_t *data;

	if (ioctl(p->vcpu, KVM_RUN, 0) < 0)
		return fail(p, "KVM_RUN");
	if (p->run->exit_reason != KVM_EXIT_IO ||
	    p->run->io.direction != KVM_EXIT_IO_OUT ||
	    p->run->io.port != PROBE_PORT || p->run->io.size != 1 ||
	    p->run->io.data_offset >= p->run_size) {
		snprintf(p->why, sizeof(p->why),
			 "%s: probe guest exited with reason %u, not the expected port write",
			 p->dev, p->run->exit_reason);
		return -1;
	}
	data = (const uint8_t *)p->run + p->run->io.data_offset;
	if (*data != PROBE_VALUE) {
		snprintf(p->why, sizeof(p->why),
			 "%s: probe guest wrote 0x%02x, want 0x%02x", p->dev,
			 *data, PROBE_VALUE);
		return -1;
	}
	return 0;
}

#elif defined(__aarch64__)
/* arm64 KVM runs on the CPU's own EL2: there is no software backend. */
static int has_hw_virt(struct probe *p)
{
	(void)p;
	return 0;
}

static int set_regs(struct probe *p)
{
	struct kvm_vcpu_init init;
	uint64_t pc = PROBE_GPA;
	struct kvm_one_reg reg = {
		.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		      KVM_REG_ARM_CORE_REG(regs.pc),
		.addr = (uintptr_t)&pc,
	};

	memset(&init, 0, sizeof(init));
	if (ioctl(p->vm, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return fail(p, "KVM_ARM_PREFERRED_TARGET");
	if (ioctl(p->vcpu, KVM_ARM_VCPU_INIT, &init) < 0)
		return fail(p, "KVM_ARM_VCPU_INIT");
	if (ioctl(p->vcpu, KVM_SET_ONE_REG, &reg) < 0)
		return fail(p, "KVM_SET_ONE_REG pc");
	return 0;
}

/* One KVM_RUN that must end in a 4-byte MMIO write of VALUE to GPA. */
static int expect_mmio(struct probe *p, uint64_t gpa, uint32_t value)
{
	uint32_t got;

	if (ioctl(p->vcpu, KVM_RUN, 0) < 0)
		return fail(p, "KVM_RUN");
	if (p->run->exit_reason != KVM_EXIT_MMIO || !p->run->mmio.is_write ||
	    p->run->mmio.phys_addr != gpa || p->run->mmio.len != 4) {
		snprintf(p->why, sizeof(p->why),
			 "%s: probe guest exited with reason %u, not the expected MMIO write to 0x%llx",
			 p->dev, p->run->exit_reason, (unsigned long long)gpa);
		return -1;
	}
	memcpy(&got, p->run->mmio.data, sizeof(got));
	if (got != value) {
		snprintf(p->why, sizeof(p->why),
			 "%s: probe guest wrote 0x%08x to 0x%llx, want 0x%08x",
			 p->dev, got, (unsigned long long)gpa, value);
		return -1;
	}
	return 0;
}

static int run_probe(struct probe *p)
{
	if (expect_mmio(p, PROBE_MMIO, PROBE_VALUE) < 0)
		return -1;
	return expect_mmio(p, PROBE_MMIO + 4, PROBE_VALUE + 1);
}
#endif

static void probe_release(struct probe *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->mem)
		munmap(p->mem, PROBE_MEM_SIZE);
	if (p->vcpu >= 0)
		close(p->vcpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->kvm >= 0)
		close(p->kvm);
}

int main(int argc, char **argv)
{
	struct probe p = { .dev = "/dev/kvm", .kvm = -1, .vm = -1, .vcpu = -1 };
	int quiet = 0, argi = 1, rc;

	if (argi < argc && strcmp(argv[argi], "-q") == 0) {
		quiet = 1;
		argi++;
	}
	if (argi < argc)
		p.dev = argv[argi++];
	if (argi < argc) {
		fprintf(stderr, "usage: kvm-ok [-q] [DEVICE]\n");
		return 2;
	}
	signal(SIGALRM, on_alarm);
	alarm(PROBE_TIMEOUT_S);
	rc = open_vm(&p);
	if (rc == 0)
		rc = has_hw_virt(&p);
	if (rc == 0)
		rc = add_memory(&p);
	if (rc == 0)
		rc = add_vcpu(&p);
	if (rc == 0)
		rc = set_regs(&p);
	if (rc == 0)
		rc = run_probe(&p);
	alarm(0);
	probe_release(&p);
	if (rc < 0) {
		fprintf(stderr, "kvm-ok: not usable: %s\n", p.why);
		return 1;
	}
	if (!quiet)
		printf("kvm-ok: %s is usable\n", p.dev);
	return 0;
}

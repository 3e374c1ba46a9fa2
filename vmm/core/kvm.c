#include "vmm/core/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int kvm_ioctl_raw(int fd, unsigned long req, unsigned long arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

int kvm_ioctl_named(int fd, unsigned long req, unsigned long arg, const char *name,
		    char *err, size_t errlen)
{
	int r = kvm_ioctl_raw(fd, req, arg);

	if (r < 0)
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
	return r;
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	/* The target architecture's (vmm/core/<arch>/): the compiler's is
	 * the one built. */
#if defined(__x86_64__)
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
#elif defined(__aarch64__)
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
#endif
};

static int check_caps(int fd, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (kvm_ioctl_raw(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(err, errlen, "%s is not supported by this kernel's KVM",
				 required_caps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

int kvm_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(e),
			 e == ENOENT ? " (is the kvm module loaded? see tools/sandbox)" : "");
		return -e;
	}
	int v = kvm_ioctl_raw(fd, KVM_GET_API_VERSION, 0);
	if (v < 0) {
		/* Opens, but no KVM behind it: a file, another device. */
		snprintf(err, errlen, "%s: not a KVM device (KVM_GET_API_VERSION: %s)", path,
			 strerror(-v));
		close(fd);
		return -ENODEV;
	}
	if (v != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %d, mote needs %d", path, v,
			 KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	int r = check_caps(fd, err, errlen);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

unsigned kvm_max_vcpus(int kvm_fd)
{
	int n = kvm_ioctl_raw(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = kvm_ioctl_raw(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (n <= 0)
		n = 4; /* KVM's documented minimum when neither cap is reported */
	/* Our MADT and APIC ID scheme use 8-bit xAPIC IDs. */
	return n > 255 ? 255 : (unsigned)n;
}

int kvm_run_size(int kvm_fd)
{
	return KVM_IOCTL(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
}

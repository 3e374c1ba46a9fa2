/*
 * x86's VM: the KVM objects a PC needs beside the VM (TSS and identity
 * map pages, the in-kernel PIC/IOAPIC and PIT), the supported CPUID the
 * vCPUs start from, RAM around the 32-bit MMIO hole, and the boot: ACPI
 * tables, then the Linux x86 boot protocol (boot/x86/).
 */
#include "boot/x86/acpi.h"
#include "boot/x86/layout.h"
#include "boot/x86/linux.h"
#include "vmm/base/log.h"
#include "vmm/config/config.h"
#include "vmm/core/arch.h"
#include "vmm/core/devices.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vm.h"
#include "vmm/core/x86/x86.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CPUID_ENTRIES 256
#define MAX_DEVS 32

unsigned long arch_vm_type(int kvm_fd)
{
	return 0;
}

static int get_cpuid(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					     MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));

	if (!c)
		return -ENOMEM;
	vm->arch->cpuid = c;
	c->nent = MAX_CPUID_ENTRIES;
	int r = KVM_IOCTL_ERR(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c, err, errlen);
	return r < 0 ? r : 0;
}

int arch_vm_init(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = LAYOUT_KVM_IDENTITY;
	int r;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	/* Intel needs these two pages below 4 GiB and outside RAM; harmless on AMD. */
	if ((r = KVM_IOCTL_ERR(vm->vm_fd, KVM_SET_TSS_ADDR, LAYOUT_KVM_TSS, err, errlen)) < 0 ||
	    (r = KVM_IOCTL_ERR(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident, err, errlen)) < 0 ||
	    (r = KVM_IOCTL_ERR(vm->vm_fd, KVM_CREATE_IRQCHIP, 0, err, errlen)) < 0 ||
	    (r = KVM_IOCTL_ERR(vm->vm_fd, KVM_CREATE_PIT2, &pit, err, errlen)) < 0)
		return r;
	return get_cpuid(vm, err, errlen);
}

void arch_vm_release(struct vm *vm)
{
	if (vm->arch)
		free(vm->arch->cpuid);
	free(vm->arch);
	vm->arch = NULL;
}

/* RAM below the 32-bit MMIO hole, and whatever does not fit above 4 GiB. */
unsigned arch_ram_layout(uint64_t size, struct arch_ram_region out[ARCH_RAM_REGIONS_MAX])
{
	uint64_t low = size < LAYOUT_MMIO_HOLE ? size : LAYOUT_MMIO_HOLE;

	out[0] = (struct arch_ram_region){ 0, low };
	if (size == low)
		return 1;
	out[1] = (struct arch_ram_region){ LAYOUT_4G, size - low };
	return 2;
}

/* The device descriptions as ACPI sees them: the UART at I/O ports. */
static size_t acpi_devs(const struct vm *vm, struct acpi_dev *out, size_t max)
{
	struct arch_dev devs[MAX_DEVS];
	size_t n = devices_describe(vm, devs, max < MAX_DEVS ? max : MAX_DEVS);

	for (size_t i = 0; i < n; i++)
		out[i] = (struct acpi_dev){
			devs[i].kind == ARCH_DEV_UART ? ACPI_DEV_UART : ACPI_DEV_VIRTIO_MMIO,
			devs[i].base, devs[i].len, devs[i].irq,
		};
	return n;
}

/*
 * The virtio-mmio devices as virtio_mmio.device= parameters ("" when
 * none; NULL on -ENOMEM). Linux without ACPI knows no IOAPIC and takes
 * only the PIC's 16 lines, so a device above them gets none.
 */
static char *virtio_cmdline(const struct vm *vm)
{
	struct arch_dev devs[MAX_DEVS];
	size_t n = devices_describe(vm, devs, MAX_DEVS), size;
	const char *sep = "";
	char *out = NULL;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (devs[i].kind != ARCH_DEV_VIRTIO_MMIO || devs[i].irq >= 16)
			continue;
		fprintf(f, "%svirtio_mmio.device=%u@0x%" PRIx64 ":%u", sep, devs[i].len,
			devs[i].base, devs[i].irq);
		sep = " ";
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * A guest booted with acpi=off cannot find the virtio-mmio devices in the
 * DSDT, so, as QEMU's microvm does, they are named on the command line,
 * which kernels built with VIRTIO_MMIO_CMDLINE_DEVICES read. Only then: a
 * kernel that reads both would register every device twice.
 */
static char *kernel_cmdline(const struct vm *vm)
{
	char *devs = NULL, *line;

	if (config_cmdline_has(vm->cfg, "acpi=off")) {
		devs = virtio_cmdline(vm);
		if (!devs)
			return NULL;
	}
	line = config_kernel_cmdline_with(vm->cfg, devs);
	free(devs);
	return line;
}

static int load_linux(struct vm *vm, struct linux_boot_cfg *b, struct linux_entry *entry,
		      char *err, size_t errlen)
{
	char note[320] = "", *cache_dir = config_kernel_cache_dir(vm->cfg);
	char *cmdline = kernel_cmdline(vm);
	int r = -ENOMEM;

	if (cmdline) {
		b->cmdline = cmdline;
		b->kernel_cache_dir = cache_dir;
		b->note = note;
		b->notelen = sizeof(note);
		if (vm->cfg->debug)
			log_debug("kernel command line: %s", log_str(cmdline).s);
		r = linux_load(&vm->mem, b, entry, err, errlen);
	}
	free(cmdline);
	free(cache_dir);
	if (vm->cfg->debug && note[0])
		log_debug("%s", note);
	return r;
}

int arch_load_guest(struct vm *vm, char *err, size_t errlen)
{
	struct acpi_dev devs[MAX_DEVS];
	size_t n = acpi_devs(vm, devs, MAX_DEVS);
	struct linux_boot_cfg b = {
		.kernel_path = vm->cfg->kernel,
		.initrd_path = vm->cfg->initrd,
	};
	struct linux_entry entry;

	int r = acpi_build(&vm->mem, vm->ncpus, devs, n, &b.rsdp_gpa);
	if (r) {
		snprintf(err, errlen, "building ACPI tables: %s", strerror(-r));
		return r;
	}
	r = load_linux(vm, &b, &entry, err, errlen);
	return r ? r : x86_cpu_boot_regs(&vm->vcpus[0], &entry);
}

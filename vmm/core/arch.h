/*
 * What the KVM core asks of the target architecture: the few hooks the
 * generic VM, vCPU and device-manager code calls where x86 and arm64
 * differ. One implementation is built, chosen by the Makefile's ARCH
 * (vmm/core/<arch>/, with boot/<arch>/ and devices/<arch>/ beneath it);
 * x86 and arm64 exist. Everything else in vmm/core/ stays free of
 * any one architecture, which tools/check-layers.sh enforces: no file
 * outside an architecture's folders includes from them.
 *
 * Order in vm_create: KVM_CREATE_VM (type arch_vm_type), arch_vm_init,
 * guest RAM at arch_ram_layout's regions, the buses, the devices (the
 * generic ones placed at arch_platform_map, virtio at arch_virtio_place,
 * then arch_platform_devices), every vCPU (arch_vcpu_init each), then
 * arch_load_guest, then the devices' interrupt lines (KVM_IRQFD: arm64's
 * vGIC takes them only once complete). The vCPU loop gives arch_vcpu_exit the exits it does
 * not know. All return 0 or -errno; those with err write one line there.
 */
#ifndef MOTE_CORE_ARCH_H
#define MOTE_CORE_ARCH_H

#include <stddef.h>
#include <stdint.h>

struct arch_vm;     /* the architecture's per-VM state, its own layout */
struct vcpu;
struct vm;
struct vm_devices;

/* ---- The VM ---- */

/* KVM_CREATE_VM's argument (arm64: the IPA size; x86: 0). */
unsigned long arch_vm_type(int kvm_fd);
/* Right after KVM_CREATE_VM: allocate vm->arch and create what the
 * architecture's VM needs before memory and vCPUs (x86: TSS, identity
 * map, IRQ chip, PIT, the supported CPUID). */
int arch_vm_init(struct vm *vm, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Free vm->arch; safe when arch_vm_init failed or never ran. */
void arch_vm_release(struct vm *vm);

/* ---- Guest memory ---- */

#define ARCH_RAM_REGIONS_MAX 2

/* Where mem bytes of guest RAM go: one reservation, split into regions
 * that follow each other in the host mapping. */
struct arch_ram_region {
	uint64_t gpa, size;
};

/* Fill out with the regions for size bytes (each non-empty); returns how
 * many (1..ARCH_RAM_REGIONS_MAX). */
unsigned arch_ram_layout(uint64_t size, struct arch_ram_region out[ARCH_RAM_REGIONS_MAX]);

/* ---- Devices ---- */

/* Where a device is and how it interrupts: what the device manager keeps
 * for each device, and what the architecture turns into firmware tables
 * (x86: the DSDT; arm64: device-tree nodes). */
enum arch_dev_kind {
	ARCH_DEV_UART,          /* 16550A, byte registers */
	ARCH_DEV_VIRTIO_MMIO,
};

struct arch_dev {
	enum arch_dev_kind kind;
	uint64_t base;          /* port or guest-physical address, per the bus */
	uint32_t len;
	uint32_t irq;           /* the GSI irqfd raises (arm64: SPI INTID gsi + 32) */
};

enum arch_bus {
	ARCH_BUS_PIO,           /* x86 I/O ports */
	ARCH_BUS_MMIO,
};

/* Where one of the devices every VM has sits. */
struct arch_place {
	enum arch_bus bus;
	uint64_t base;
	uint32_t irq;           /* unused by devices without an interrupt */
};

/* The devices every VM has, whatever the architecture. */
struct arch_platform_map {
	struct arch_place console;     /* the 16550A (x86: COM1) */
	struct arch_place exit;        /* the exit device, one byte */
	struct arch_place boot_timer;  /* the boot timer, one byte */
};

/* The architecture's fixed map; static data, never NULL. */
const struct arch_platform_map *arch_platform_map(void);

/* Place virtio device n (0, 1, ...): its MMIO base (one VIRTIO_MMIO_SIZE
 * window) and interrupt line. -ENOSPC once n is past the last. */
int arch_virtio_place(unsigned n, uint64_t *base, uint32_t *irq)
	__attribute__((warn_unused_result));

/* Create the architecture's own platform devices (x86: i8042, CMOS RTC,
 * ACPI sleep and reset registers) in d's slots (devices_priv.h), so that
 * the device manager releases them; a step of devices_create. */
int arch_platform_devices(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* ---- vCPUs ---- */

/* After KVM_CREATE_VCPU and the kvm_run mapping: the vCPU's reset state
 * (x86: CPUID, MSRs, FPU, LAPIC). c->env->arch is the VM's arch state. */
int arch_vcpu_init(struct vcpu *c) __attribute__((warn_unused_result));

/* What arch_vcpu_exit made of an exit. */
enum arch_exit {
	ARCH_EXIT_CONTINUE,     /* handled: run the vCPU again */
	ARCH_EXIT_STOPPED,      /* handled; it asked the VM to stop: leave */
	ARCH_EXIT_UNKNOWN,      /* not this architecture's either: an error */
};

/* An exit the generic loop does not handle (it handles MMIO, signals,
 * system events and KVM's failures); on the vCPU's thread. */
enum arch_exit arch_vcpu_exit(struct vcpu *c);

/* Log the vCPU's main registers (debug aid; the thread is stopped). */
void arch_vcpu_dump(struct vcpu *c);

/* ---- Boot ---- */

/* After every vCPU exists: firmware tables (x86: ACPI, from
 * devices_describe), the kernel, initrd and command line in guest RAM,
 * and vCPU 0 at the kernel's entry. */
int arch_load_guest(struct vm *vm, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif

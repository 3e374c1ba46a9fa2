/*
 * Thin layer over /dev/kvm: opening it, checking the API version and the
 * capabilities mote depends on, and one ioctl wrapper that names the
 * failing ioctl. Only vmm/ includes this; devices never do.
 */
#ifndef MOTE_KVM_H
#define MOTE_KVM_H

#include <stddef.h>

/* ioctl(2) returning the result or -errno. Prints nothing: the caller
 * writes the one message. */
int kvm_ioctl_raw(int fd, unsigned long req, unsigned long arg);
/* The same; a failure also leaves "NAME: strerror" in err. */
int kvm_ioctl_named(int fd, unsigned long req, unsigned long arg, const char *name,
		    char *err, size_t errlen);

/* KVM_IOCTL(vm_fd, KVM_CREATE_IRQCHIP, 0): the result or -errno. */
#define KVM_IOCTL(fd, req, arg) kvm_ioctl_raw((fd), (req), (unsigned long)(arg))
/* The same, naming the ioctl in err on failure. */
#define KVM_IOCTL_ERR(fd, req, arg, err, errlen) \
	kvm_ioctl_named((fd), (req), (unsigned long)(arg), #req, (err), (errlen))

/*
 * Open /dev/kvm (path overridable for tests), require API version 12 and
 * every capability mote relies on. Returns the fd or -errno, with the
 * reason in err ("KVM_CAP_IRQFD is not supported by this kernel").
 */
int kvm_open(const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Largest vCPU count this host's KVM allows for one VM. */
unsigned kvm_max_vcpus(int kvm_fd);

/* Size of the struct kvm_run mapping of each vCPU, or -errno. */
int kvm_run_size(int kvm_fd);

#endif

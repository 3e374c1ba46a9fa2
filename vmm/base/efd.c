#include "vmm/base/efd.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int efd_new(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

void efd_signal(int fd)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, so a wake-up is pending anyway. */
	if (write(fd, &one, sizeof(one)) < 0) {
	}
}

bool efd_drain(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}

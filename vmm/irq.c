#include "vmm/irq.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

int irq_line_init(struct irq_line *l, uint32_t gsi)
{
	l->gsi = gsi;
	l->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return l->fd < 0 ? -errno : 0;
}

void irq_line_release(struct irq_line *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void irq_line_trigger(struct irq_line *l)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is saturated: an edge is pending anyway. */
	if (l->fd >= 0 && write(l->fd, &one, sizeof(one)) < 0) {
	}
}

#include "vmm/base/irq.h"
#include "vmm/base/efd.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

int irq_line_init(struct irq_line *l, uint32_t gsi)
{
	l->gsi = gsi;
	l->fd = efd_new();
	return l->fd < 0 ? l->fd : 0;
}

void irq_line_release(struct irq_line *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void irq_line_trigger(struct irq_line *l)
{
	if (l->fd >= 0)
		efd_signal(l->fd);
}

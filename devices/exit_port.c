#include "devices/exit_port.h"

#include <string.h>

#include "vmm/base/bus.h"

void exit_port_init(struct exit_port *p, const struct stop_hook *stop)
{
	memset(p, 0, sizeof(*p));
	if (stop)
		p->stop = *stop;
}

static void bus_write_port(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct exit_port *p = opaque;

	/* Only the first byte counts, so the status is always 0..255. */
	stop_hook_fire(&p->stop, STOP_GUEST_EXIT, data[0], NULL);
}

/* No read handler: the bus has already zeroed the data. */
const struct bus_ops exit_port_bus_ops = {
	.write = bus_write_port,
};

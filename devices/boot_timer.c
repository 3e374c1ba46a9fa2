#include "devices/boot_timer.h"

#include <string.h>

#include "vmm/base/bus.h"

void boot_timer_init(struct boot_timer *t, const struct boot_timer_host *host)
{
	memset(t, 0, sizeof(*t));
	if (host)
		t->host = *host;
}

static void bus_write_port(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct boot_timer *t = opaque;
	uint8_t code = data[0];

	if (code == 0 || code >= BOOT_TIMER_NCODES) {
		__atomic_add_fetch(&t->ignored, 1, __ATOMIC_RELAXED);
		return;
	}
	/* Only the first write of a code is its time: a guest that writes
	 * again (two vCPUs, a re-run init) must not move it. */
	if (__atomic_exchange_n(&t->seen[code], true, __ATOMIC_RELAXED))
		return;
	if (t->host.mark)
		t->host.mark(t->host.opaque, (enum boot_timer_code)code);
}

/* No read handler: the bus has already zeroed the data. */
const struct bus_ops boot_timer_bus_ops = {
	.write = bus_write_port,
};

#include "devices/x86/acpi_pm.h"

#include <string.h>

#include "boot/x86/layout.h"
#include "vmm/base/bus.h"

enum { OFF_SLEEP_CTL = 0, OFF_SLEEP_STS = 1, OFF_RESET = 2 };

#define SLP_TYP_SHIFT  2
#define SLP_TYP_MASK   0x1c
#define SLP_EN         0x20
#define WAK_STS        0x80

void acpi_pm_init(struct acpi_pm *pm, const struct stop_hook *stop)
{
	memset(pm, 0, sizeof(*pm));
	if (stop)
		pm->stop = *stop;
}

static void sleep_control(struct acpi_pm *pm, uint8_t val)
{
	if (!(val & SLP_EN))
		return;
	if (((val & SLP_TYP_MASK) >> SLP_TYP_SHIFT) == ACPI_S5_SLP_TYP) {
		/* Linux then polls WAK_STS until we stop its vCPUs. */
		stop_hook_fire(&pm->stop, STOP_POWEROFF, 0, NULL);
		return;
	}
	/* Sleep states we do not model: wake at once so the guest's wait
	 * for WAK_STS ends instead of spinning forever. */
	__atomic_add_fetch(&pm->ignored_sleeps, 1, __ATOMIC_RELAXED);
	__atomic_or_fetch(&pm->sleep_status, WAK_STS, __ATOMIC_RELAXED);
}

static void bus_read_reg(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct acpi_pm *pm = opaque;

	/* The control and reset registers read as 0. */
	if (off == OFF_SLEEP_STS)
		data[0] = __atomic_load_n(&pm->sleep_status, __ATOMIC_RELAXED);
}

static void bus_write_reg(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct acpi_pm *pm = opaque;

	if (off == OFF_SLEEP_CTL)
		sleep_control(pm, data[0]);
	else if (off == OFF_SLEEP_STS)  /* write 1 to clear */
		__atomic_and_fetch(&pm->sleep_status, (uint8_t)~(data[0] & WAK_STS),
				   __ATOMIC_RELAXED);
	else if (off == OFF_RESET && data[0] == ACPI_RESET_VALUE)
		stop_hook_fire(&pm->stop, STOP_REBOOT, 0, "guest rebooted (ACPI reset register)");
}

const struct bus_ops acpi_pm_bus_ops = {
	.read = bus_read_reg,
	.write = bus_write_reg,
};

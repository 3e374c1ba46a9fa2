#include "vmm/base/stop.h"

const char *stop_reason_name(enum stop_reason r)
{
	static const char *const names[] = {
		[STOP_NONE] = "none",
		[STOP_GUEST_EXIT] = "guest-exit",
		[STOP_POWEROFF] = "poweroff",
		[STOP_REBOOT] = "reboot",
		[STOP_TIMEOUT] = "timeout",
		[STOP_SIGNAL] = "signal",
		[STOP_ERROR] = "error",
		[STOP_REQUESTED] = "stopped",
	};

	if ((unsigned)r >= sizeof(names) / sizeof(names[0]) || !names[r])
		return "unknown";
	return names[r];
}

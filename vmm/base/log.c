#include "vmm/base/log.h"

#include <stdarg.h>
#include <stdio.h>

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf so lines from vCPU threads do not interleave. */
	fprintf(stderr, "%s%s\n", prefix, line);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("mote: ", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("mote: debug: ", fmt, ap);
	va_end(ap);
}

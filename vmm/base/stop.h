/* Why a VM stopped; devices and the core report it through a stop hook. */
#ifndef MOTE_STOP_H
#define MOTE_STOP_H

enum stop_reason {
	STOP_NONE = 0,
	STOP_GUEST_EXIT,  /* the guest wrote its job status to the exit port */
	STOP_POWEROFF,    /* ACPI S5 */
	STOP_REBOOT,      /* i8042 reset pulse or the ACPI reset register */
	STOP_TIMEOUT,
	STOP_SIGNAL,
	STOP_ERROR,
	STOP_REQUESTED,   /* the embedding program asked (mote_vm_stop) */
};

/* Short lowercase name ("guest-exit", "poweroff", ...) for results and logs. */
const char *stop_reason_name(enum stop_reason r);

/* What devices call to end the VM. The first request wins; later ones are
 * ignored. status is the exit status mote should return; msg (or NULL)
 * says how, e.g. which of the ways to reset a PC the guest took. */
struct stop_hook {
	void (*request)(void *opaque, enum stop_reason why, int status, const char *msg);
	void *opaque;
};

static inline void stop_hook_fire(const struct stop_hook *h, enum stop_reason why, int status,
				  const char *msg)
{
	if (h && h->request)
		h->request(h->opaque, why, status, msg);
}

#endif

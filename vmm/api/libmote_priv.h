/* What libmote's two halves (config and VM) share; not installed. */
#ifndef MOTE_LIBMOTE_PRIV_H
#define MOTE_LIBMOTE_PRIV_H

#include "vmm/config/config.h"

struct mote_config {
	struct vm_config c;
	int refs;                 /* atomic; the owner's plus one per VM */
};

/* Take another reference (for a VM). */
void libmote_config_ref(struct mote_config *cfg);

#endif

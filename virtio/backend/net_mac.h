/*
 * MAC addresses for virtio-net devices: stable across runs, derived from
 * a seed the caller chooses (e.g. "VM-ID/eth0"), so a guest keeps its
 * address (and its DHCP lease) from boot to boot.
 */
#ifndef MOTE_VIRTIO_NET_MAC_H
#define MOTE_VIRTIO_NET_MAC_H

#include <stdint.h>

/* A locally administered unicast MAC from seed (FNV-1a, 64 bits): the
 * same seed always gives the same address. */
void net_mac_generate(uint8_t mac[6], const char *seed);

#endif

#include "virtio/backend/net_mac.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME  0x100000001b3ull

void net_mac_generate(uint8_t mac[6], const char *seed)
{
	uint64_t h = FNV64_OFFSET;

	for (const unsigned char *p = (const unsigned char *)(seed ? seed : ""); *p; p++) {
		h ^= *p;
		h *= FNV64_PRIME;
	}
	/* The low bytes of FNV-1a mix worst; take the high ones. */
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (56 - 8 * i));
	/* First octet: bit 0 clear (unicast), bit 1 set (locally administered). */
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

/*
 * An MC146818-style CMOS real-time clock at ports 0x70 (index) and 0x71
 * (data), enough for Linux to read the wall-clock time at boot. Without it
 * every clock read floats to 0xff, the "update in progress" bit never
 * clears, and the guest spins through thousands of port exits.
 *
 * The time is the host's, in UTC, read at each access; writes to the
 * clock registers are ignored (a guest cannot set the host clock). The
 * rest of the 128-byte CMOS RAM is plain storage. No interrupts.
 *   bus_register(&pio, PORT_RTC, RTC_NR_PORTS, &rtc_bus_ops, &rtc, "rtc")
 */
#ifndef MOTE_DEVICES_RTC_H
#define MOTE_DEVICES_RTC_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct bus_ops;

#define RTC_NR_PORTS 2
#define RTC_CMOS_SIZE 128

struct rtc {
	pthread_mutex_t lock;     /* index and data come from any vCPU */
	uint8_t index;
	uint8_t reg_b;            /* data mode: 24 h, BCD unless DM is set */
	uint8_t ram[RTC_CMOS_SIZE];
	time_t (*now)(time_t *);  /* the clock, time(2); tests substitute their own */
};

int rtc_init(struct rtc *r) __attribute__((warn_unused_result));
void rtc_release(struct rtc *r);

/* Bus handlers; opaque is the struct rtc. */
extern const struct bus_ops rtc_bus_ops;

#endif

#include "devices/x86/rtc.h"

#include <string.h>

#include "vmm/base/bus.h"

#define REG_SECONDS 0x00
#define REG_MINUTES 0x02
#define REG_HOURS   0x04
#define REG_WEEKDAY 0x06
#define REG_DAY     0x07
#define REG_MONTH   0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d
#define REG_CENTURY 0x32      /* where the ACPI FADT's CENTURY default is */

#define B_24H       0x02
#define B_DM_BINARY 0x04
#define D_VRT       0x80      /* valid RAM and time: the battery is fine */
#define A_DEFAULT   0x26      /* 32.768 kHz base, 1.024 kHz rate, UIP clear */

int rtc_init(struct rtc *r)
{
	memset(r, 0, sizeof(*r));
	r->reg_b = B_24H;
	r->now = time;
	return -pthread_mutex_init(&r->lock, NULL);
}

void rtc_release(struct rtc *r)
{
	pthread_mutex_destroy(&r->lock);
}

static uint8_t encode(const struct rtc *r, int v)
{
	return (r->reg_b & B_DM_BINARY) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static uint8_t clock_reg(const struct rtc *r, uint8_t reg)
{
	time_t t = r->now(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (reg) {
	case REG_SECONDS: return encode(r, tm.tm_sec);
	case REG_MINUTES: return encode(r, tm.tm_min);
	case REG_HOURS:   return encode(r, tm.tm_hour);
	case REG_WEEKDAY: return encode(r, tm.tm_wday + 1);
	case REG_DAY:     return encode(r, tm.tm_mday);
	case REG_MONTH:   return encode(r, tm.tm_mon + 1);
	case REG_YEAR:    return encode(r, tm.tm_year % 100);
	default:          return encode(r, 19 + tm.tm_year / 100); /* REG_CENTURY */
	}
}

static uint8_t read_reg(struct rtc *r, uint8_t reg)
{
	switch (reg) {
	case REG_SECONDS: case REG_MINUTES: case REG_HOURS: case REG_WEEKDAY:
	case REG_DAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
		return clock_reg(r, reg);
	case REG_A:
		return A_DEFAULT;     /* never "update in progress" */
	case REG_B:
		return r->reg_b;
	case REG_C:
		return 0;             /* no interrupt flags: no interrupts */
	case REG_D:
		return D_VRT;
	default:
		return r->ram[reg];
	}
}

static void bus_read_rtc(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	data[0] = off == 0 ? r->index : read_reg(r, r->index);
	pthread_mutex_unlock(&r->lock);
}

static void bus_write_rtc(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	if (off == 0)
		/* Bit 7 is the NMI mask on a PC; the index is the low 7 bits. */
		r->index = data[0] & (RTC_CMOS_SIZE - 1);
	else if (r->index == REG_B)
		/* Only BCD/binary is honoured: hours are always 24 h, and
		 * interrupt enables stay off. */
		r->reg_b = (data[0] & B_DM_BINARY) | B_24H;
	else if (r->index > REG_D && r->index != REG_CENTURY)
		r->ram[r->index] = data[0];
	pthread_mutex_unlock(&r->lock);
}

const struct bus_ops rtc_bus_ops = {
	.read = bus_read_rtc,
	.write = bus_write_rtc,
};

#include "devices/x86/i8042.h"

#include <string.h>

#include "vmm/base/bus.h"

#define STS_OBF        0x01   /* output buffer full: data at 0x60 */
#define STS_SYS        0x04   /* mirrors CTR_SYS */
#define STS_CMD        0x08   /* last write was a command */
#define STS_UNLOCKED   0x10   /* keyboard not inhibited */

#define CTR_SYS        0x04
#define CTR_KBDDIS     0x10
#define CTR_AUXDIS     0x20
#define CTR_RESET      0x65   /* kbd interrupt, system flag, aux off, translation */

#define OUTPORT_RESET  0x01   /* low: the CPU is held in reset */
#define OUTPORT_A20    0x02

#define CMD_READ_CTR   0x20
#define CMD_WRITE_CTR  0x60
#define CMD_AUX_OFF    0xa7
#define CMD_AUX_ON     0xa8
#define CMD_AUX_TEST   0xa9
#define CMD_SELF_TEST  0xaa
#define CMD_KBD_TEST   0xab
#define CMD_KBD_OFF    0xad
#define CMD_KBD_ON     0xae
#define CMD_READ_OUTP  0xd0
#define CMD_WRITE_OUTP 0xd1
#define CMD_WRITE_KBD  0xd2
#define CMD_WRITE_AUX  0xd3
#define CMD_SEND_AUX   0xd4
#define CMD_PULSE      0xf0   /* 0xf0-0xff: pulse output lines whose bit is 0 */

#define SELF_TEST_OK   0x55
#define AUX_CLOCK_LOW  0x01   /* aux test: "clock line stuck low", i.e. no mouse */

enum { OFF_DATA = 0, OFF_PORTB = 1, OFF_STATUS = 4 };

int i8042_init(struct i8042 *k, const struct stop_hook *stop)
{
	memset(k, 0, sizeof(*k));
	int err = pthread_mutex_init(&k->lock, NULL);
	if (err)
		return -err;
	if (stop)
		k->stop = *stop;
	k->ctr = CTR_RESET;
	k->outport = OUTPORT_RESET | OUTPORT_A20;
	return 0;
}

void i8042_release(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

static void push(struct i8042 *k, uint8_t byte)
{
	if (k->out_count == I8042_OUT_MAX)
		return;         /* a guest that never reads loses answers */
	k->out[(k->out_head + k->out_count) % I8042_OUT_MAX] = byte;
	k->out_count++;
}

static uint8_t pop(struct i8042 *k)
{
	if (!k->out_count)
		return 0;
	uint8_t byte = k->out[k->out_head];
	k->out_head = (k->out_head + 1) % I8042_OUT_MAX;
	k->out_count--;
	return byte;
}

static uint8_t status(const struct i8042 *k)
{
	return STS_UNLOCKED | (k->out_count ? STS_OBF : 0) | (k->ctr & CTR_SYS ? STS_SYS : 0) |
	       (k->last_was_cmd ? STS_CMD : 0);
}

/* Port 0x61: keep the gate and speaker bits; the refresh and timer-2
 * output bits toggle on each read, so a loop waiting on either ends. */
static uint8_t read_portb(struct i8042 *k)
{
	uint8_t v = k->portb;

	k->portb ^= 0x30;
	return v;
}

/* Returns true if the command asks for a reset. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		push(k, k->ctr);
		break;
	case CMD_AUX_OFF:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ON:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		push(k, AUX_CLOCK_LOW);
		break;
	case CMD_SELF_TEST:
		k->ctr |= CTR_SYS;
		push(k, SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
		push(k, 0);
		break;
	case CMD_KBD_OFF:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ON:
		k->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUTP:
		push(k, k->outport);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_WRITE_KBD:
	case CMD_WRITE_AUX:
	case CMD_SEND_AUX:
		k->pending = cmd;
		break;
	default:
		return cmd >= CMD_PULSE && !(cmd & OUTPORT_RESET);
	}
	return false;
}

/* A data byte: the parameter of a pending command, else meant for the
 * keyboard, which is absent. Returns true if it asks for a reset. */
static bool data(struct i8042 *k, uint8_t val)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = val;
		break;
	case CMD_WRITE_OUTP:
		k->outport = val;
		return !(val & OUTPORT_RESET);
	case CMD_WRITE_KBD:
	case CMD_WRITE_AUX:
		/* Echoed as keyboard data: without the aux-data status bit
		 * Linux's aux loop test fails at once (there is no mouse). */
		push(k, val);
		break;
	default:
		break;
	}
	return false;
}

static void bus_read_port(void *opaque, uint64_t off, uint8_t *out, unsigned len)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	if (off == OFF_DATA)
		out[0] = pop(k);
	else if (off == OFF_STATUS)
		out[0] = status(k);
	else if (off == OFF_PORTB)
		out[0] = read_portb(k);
	pthread_mutex_unlock(&k->lock);
}

static void bus_write_port(void *opaque, uint64_t off, const uint8_t *in, unsigned len)
{
	struct i8042 *k = opaque;
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (off == OFF_DATA) {
		k->last_was_cmd = false;
		reset = data(k, in[0]);
	} else if (off == OFF_STATUS) {
		k->last_was_cmd = true;
		reset = command(k, in[0]);
	} else if (off == OFF_PORTB) {
		k->portb = (k->portb & 0xf0) | (in[0] & 0x0f);
	}
	pthread_mutex_unlock(&k->lock);
	if (reset)
		stop_hook_fire(&k->stop, STOP_REBOOT, 0, "guest rebooted (keyboard controller reset)");
}

const struct bus_ops i8042_bus_ops = {
	.read = bus_read_port,
	.write = bus_write_port,
};

#include <errno.h>
#include <string.h>
#include <time.h>

#include "hw/rtc.h"
#include "lib/log.h"

#define REG_SECONDS		0x00
#define REG_MINUTES		0x02
#define REG_HOURS		0x04
#define REG_DAY_OF_WEEK		0x06
#define REG_DAY_OF_MONTH	0x07
#define REG_MONTH		0x08
#define REG_YEAR		0x09
#define REG_A			0x0a
#define REG_B			0x0b
#define REG_C			0x0c
#define REG_D			0x0d

#define A_UIP			0x80
#define A_DEFAULT		0x26	/* 32.768 kHz time base, 1024 Hz periodic rate */
#define B_24H			0x02
#define B_BINARY		0x04	/* DM: binary rather than BCD */
#define B_DEFAULT		B_24H
#define D_VRT			0x80	/* the battery is fine: RAM and time are valid */
#define HOURS_PM		0x80	/* in 12-hour mode */
#define INDEX_NMI_MASK		0x80

static uint8_t to_bcd(unsigned int v)
{
	return (uint8_t)((v / 10) << 4 | v % 10);
}

/* A time field as register B asks for it: BCD or binary. */
static uint8_t encode(const struct rtc *rtc, unsigned int v)
{
	return rtc->cmos[REG_B] & B_BINARY ? (uint8_t)v : to_bcd(v);
}

static uint8_t encode_hours(const struct rtc *rtc, unsigned int hour)
{
	unsigned int h12;

	if (rtc->cmos[REG_B] & B_24H)
		return encode(rtc, hour);
	/* 12-hour mode: 12 AM is midnight, 12 PM noon; the PM flag sits above the (BCD or binary) value. */
	h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(encode(rtc, h12) | (hour >= 12 ? HOURS_PM : 0));
}

/*
 * Each read of a time register takes the clock afresh, so a guest reading several registers can straddle a
 * second; Linux (mc146818_get_time) reads the seconds again afterwards and retries when they moved.
 */
static uint8_t time_register(const struct rtc *rtc, unsigned int reg)
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !gmtime_r(&ts.tv_sec, &tm))
		return 0;
	switch (reg) {
	case REG_SECONDS:
		return encode(rtc, (unsigned int)tm.tm_sec);
	case REG_MINUTES:
		return encode(rtc, (unsigned int)tm.tm_min);
	case REG_HOURS:
		return encode_hours(rtc, (unsigned int)tm.tm_hour);
	case REG_DAY_OF_WEEK:
		return encode(rtc, (unsigned int)tm.tm_wday + 1);	/* 1 is Sunday */
	case REG_DAY_OF_MONTH:
		return encode(rtc, (unsigned int)tm.tm_mday);
	case REG_MONTH:
		return encode(rtc, (unsigned int)tm.tm_mon + 1);
	case REG_YEAR:
		return encode(rtc, (unsigned int)(tm.tm_year + 1900) % 100);
	default:	/* RTC_REG_CENTURY */
		return encode(rtc, (unsigned int)(tm.tm_year + 1900) / 100 % 100);
	}
}

/* The registers computed from the host clock at each read. */
static bool is_time_register(uint8_t reg)
{
	switch (reg) {
	case REG_SECONDS:
	case REG_MINUTES:
	case REG_HOURS:
	case REG_DAY_OF_WEEK:
	case REG_DAY_OF_MONTH:
	case REG_MONTH:
	case REG_YEAR:
	case RTC_REG_CENTURY:
		return true;
	default:
		return false;
	}
}

static uint8_t cmos_read(const struct rtc *rtc, uint8_t reg)
{
	if (is_time_register(reg))
		return time_register(rtc, reg);
	switch (reg) {
	case REG_A:
		/* Never mid-update: the time is computed at the read. */
		return rtc->cmos[REG_A] & (uint8_t)~A_UIP;
	case REG_C:
		return 0;	/* no interrupt is ever pending */
	case REG_D:
		return D_VRT;
	default:
		return rtc->cmos[reg];	/* the alarms (1, 3, 5), register B and plain CMOS RAM */
	}
}

static void cmos_write(struct rtc *rtc, uint8_t reg, uint8_t v)
{
	/* The host clock is the truth: hwclock -w changes nothing. */
	if (is_time_register(reg))
		return;
	switch (reg) {
	case REG_C:
	case REG_D:
		break;	/* read-only */
	default:
		rtc->cmos[reg] = v;
		break;
	}
}

static void rtc_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct rtc *rtc = opaque;
	unsigned int port = (unsigned int)(addr - RTC_PORT_INDEX);
	uint32_t i;

	pthread_mutex_lock(&rtc->lock);
	/* A wider access touches consecutive ports, as on the ISA bus; the range check keeps it inside. */
	for (i = 0; i < len && port + i < 2; i++) {
		if (port + i == 0) {
			/* Bit 7 masks the NMI on a real board; there is no NMI to mask, and the index stays in range. */
			if (is_write)
				rtc->index = data[i] & (uint8_t)~INDEX_NMI_MASK;
			else
				data[i] = 0xff;	/* write-only on a PC */
		} else if (is_write) {
			cmos_write(rtc, rtc->index, data[i]);
		} else {
			data[i] = cmos_read(rtc, rtc->index);
		}
	}
	pthread_mutex_unlock(&rtc->lock);
}

int rtc_create(struct rtc *rtc, struct vm *vm)
{
	int ret;

	memset(rtc, 0, sizeof(*rtc));
	rtc->vm = vm;
	rtc->cmos[REG_A] = A_DEFAULT;
	rtc->cmos[REG_B] = B_DEFAULT;
	pthread_mutex_init(&rtc->lock, NULL);
	ret = iotrap_register(&vm->io, IOTRAP_PIO, RTC_PORT_INDEX, 2, rtc_io, rtc);
	if (ret < 0)
		log_error("rtc: ports 0x%x-0x%x: %s", RTC_PORT_INDEX, RTC_PORT_DATA, strerror(-ret));
	return ret;
}

/* unit-sources: vmm/hw/rtc.c vmm/bus/iotrap.c vmm/lib/log.c */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hw/rtc.h"

static struct vm vm;
static struct rtc rtc;

/*
 * rtc.c reads CLOCK_REALTIME through clock_gettime(); this definition takes the place of the C library's in the
 * test program, so a test can set the time (fake_time) or use the host's (fake_time 0).
 */
static time_t fake_time;

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (clk == CLOCK_REALTIME && fake_time) {
		ts->tv_sec = fake_time;
		ts->tv_nsec = 999999999;
		return 0;
	}
	return (int)syscall(SYS_clock_gettime, clk, ts);
}

static uint8_t in(uint16_t port)
{
	uint8_t v = 0x5a;

	iotrap_dispatch(&vm.io, IOTRAP_PIO, port, &v, 1, false);
	return v;
}

static void out(uint16_t port, uint8_t v)
{
	iotrap_dispatch(&vm.io, IOTRAP_PIO, port, &v, 1, true);
}

static uint8_t cmos(uint8_t reg)
{
	out(RTC_PORT_INDEX, reg);
	return in(RTC_PORT_DATA);
}

static void cmos_set(uint8_t reg, uint8_t v)
{
	out(RTC_PORT_INDEX, reg);
	out(RTC_PORT_DATA, v);
}

static int fresh(void)
{
	fake_time = 0;
	memset(&vm, 0, sizeof(vm));
	iotrap_init(&vm.io);
	return rtc_create(&rtc, &vm);
}

static unsigned int from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* The time the registers show, decoded as a guest would with register B's format, as seconds since 1970. */
static time_t read_rtc(bool binary, struct tm *tm)
{
	unsigned int century;

	memset(tm, 0, sizeof(*tm));
	if (binary) {
		tm->tm_sec = cmos(0x00);
		tm->tm_min = cmos(0x02);
		tm->tm_hour = cmos(0x04);
		tm->tm_wday = cmos(0x06) - 1;
		tm->tm_mday = cmos(0x07);
		tm->tm_mon = cmos(0x08) - 1;
		century = cmos(0x32);
		tm->tm_year = (int)(century * 100 + cmos(0x09)) - 1900;
	} else {
		tm->tm_sec = (int)from_bcd(cmos(0x00));
		tm->tm_min = (int)from_bcd(cmos(0x02));
		tm->tm_hour = (int)from_bcd(cmos(0x04));
		tm->tm_wday = (int)from_bcd(cmos(0x06)) - 1;
		tm->tm_mday = (int)from_bcd(cmos(0x07));
		tm->tm_mon = (int)from_bcd(cmos(0x08)) - 1;
		century = from_bcd(cmos(0x32));
		tm->tm_year = (int)(century * 100 + from_bcd(cmos(0x09))) - 1900;
	}
	return timegm(tm);
}

/* A second RTC on the same ports, with its error line kept off the test output. */
static int second_rtc(void)
{
	static struct rtc other;
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY), ret;

	fflush(stderr);
	dup2(null, STDERR_FILENO);
	ret = rtc_create(&other, &vm);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	return ret;
}

static const char *test_defaults(void)
{
	CHECK_INT(fresh(), 0);
	CHECK_INT(cmos(0x0a), 0x26);
	CHECK_INT(cmos(0x0b), 0x02);
	CHECK_INT(cmos(0x0c), 0x00);
	CHECK_INT(cmos(0x0d), 0x80);
	CHECK_INT(cmos(0x0e), 0x00);
	CHECK_INT(cmos(0x7f), 0x00);
	CHECK_INT(in(RTC_PORT_INDEX), 0xff);
	/* the ports are taken once */
	CHECK_INT(second_rtc(), -EEXIST);
	return NULL;
}

/* Reads the host's clock in the given format between two readings of the host clock, a few times. */
static const char *round_trip(bool binary)
{
	struct tm tm, host;
	time_t before, after, t;
	unsigned int i;

	CHECK_INT(fresh(), 0);
	cmos_set(0x0b, binary ? 0x06 : 0x02);
	for (i = 0; i < 3; i++) {
		/* a read straddling a second may mix two; Linux rereads the seconds, so do we */
		do {
			before = time(NULL);
			t = read_rtc(binary, &tm);
			after = time(NULL);
		} while (before != after);
		CHECK_INT(t, before);
		CHECK(gmtime_r(&t, &host));
		CHECK_INT(tm.tm_wday, host.tm_wday);
		if (i < 2)
			usleep(300000);
	}
	return NULL;
}

static const char *test_bcd(void)
{
	return round_trip(false);
}

static const char *test_binary(void)
{
	return round_trip(true);
}

static const char *test_fixed_time(void)
{
	struct tm tm;

	CHECK_INT(fresh(), 0);
	fake_time = 946684799;	/* 1999-12-31 23:59:59 UTC, a Friday */
	CHECK_INT(cmos(0x00), 0x59);
	CHECK_INT(cmos(0x02), 0x59);
	CHECK_INT(cmos(0x04), 0x23);
	CHECK_INT(cmos(0x06), 6);
	CHECK_INT(cmos(0x07), 0x31);
	CHECK_INT(cmos(0x08), 0x12);
	CHECK_INT(cmos(0x09), 0x99);
	CHECK_INT(cmos(0x32), 0x19);
	fake_time++;
	CHECK_INT(cmos(0x09), 0x00);
	CHECK_INT(cmos(0x32), 0x20);
	CHECK_INT(cmos(0x06), 7);
	CHECK_INT(read_rtc(false, &tm), 946684800);
	cmos_set(0x0b, 0x06);
	fake_time = 4102444800 - 1;	/* 2099-12-31 23:59:59, then 2100 */
	CHECK_INT(read_rtc(true, &tm), 4102444799);
	CHECK_INT(cmos(0x09), 99);
	CHECK_INT(cmos(0x32), 20);
	fake_time++;
	CHECK_INT(cmos(0x09), 0);
	CHECK_INT(cmos(0x32), 21);
	return NULL;
}

/* 12-hour mode: midnight is 12 AM, noon 12 PM, the PM flag is bit 7 in BCD and binary alike. */
static const char *test_12_hour(void)
{
	static const struct {
		int hour;
		uint8_t bcd, bin;
	} cases[] = {
		{ 0, 0x12, 12 }, { 1, 0x01, 1 }, { 11, 0x11, 11 }, { 12, 0x92, 0x8c },
		{ 13, 0x81, 0x81 }, { 22, 0x90, 0x8a }, { 23, 0x91, 0x8b },
	};
	unsigned int i;

	CHECK_INT(fresh(), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_time = 1763769600 + cases[i].hour * 3600 + 17 * 60;	/* 2025-11-22 hh:17 UTC */
		cmos_set(0x0b, 0x00);
		CHECK_INT(cmos(0x04), cases[i].bcd);
		cmos_set(0x0b, 0x04);
		CHECK_INT(cmos(0x04), cases[i].bin);
		CHECK_INT(cmos(0x02), 17);
		cmos_set(0x0b, 0x06);
		CHECK_INT(cmos(0x04), cases[i].hour);
		cmos_set(0x0b, 0x02);
		CHECK_INT(from_bcd(cmos(0x04)), cases[i].hour);
	}
	return NULL;
}

static const char *test_writes(void)
{
	CHECK_INT(fresh(), 0);
	fake_time = 946684799;
	/* the time registers follow the host clock whatever the guest writes (hwclock -w) */
	cmos_set(0x00, 0x12);
	cmos_set(0x04, 0x01);
	cmos_set(0x32, 0x21);
	CHECK_INT(cmos(0x00), 0x59);
	CHECK_INT(cmos(0x04), 0x23);
	CHECK_INT(cmos(0x32), 0x19);
	/* C and D are read-only, A never shows an update in progress */
	cmos_set(0x0c, 0xff);
	cmos_set(0x0d, 0x00);
	CHECK_INT(cmos(0x0c), 0);
	CHECK_INT(cmos(0x0d), 0x80);
	cmos_set(0x0a, 0xa6);
	CHECK_INT(cmos(0x0a), 0x26);
	/* the alarms and the rest of CMOS RAM are storage */
	cmos_set(0x01, 0x30);
	cmos_set(0x05, 0xc0);
	cmos_set(0x10, 0x44);
	cmos_set(0x7f, 0x7f);
	CHECK_INT(cmos(0x01), 0x30);
	CHECK_INT(cmos(0x05), 0xc0);
	CHECK_INT(cmos(0x10), 0x44);
	CHECK_INT(cmos(0x7f), 0x7f);
	return NULL;
}

/* Bit 7 of the index is the NMI mask: it never selects a register beyond the 128 bytes. */
static const char *test_index_masked(void)
{
	uint8_t w[2] = { 0x20, 0x42 }, r[4] = { 1, 2, 3, 4 };

	CHECK_INT(fresh(), 0);
	CHECK_INT(cmos(0x8d), 0x80);	/* register D */
	cmos_set(0xff, 0xab);
	CHECK_INT(cmos(0x7f), 0xab);
	CHECK_INT(cmos(0xff), 0xab);
	cmos_set(0x8e, 0x33);
	CHECK_INT(cmos(0x0e), 0x33);
	fake_time = 946684799;
	CHECK_INT(cmos(0x80), 0x59);	/* seconds, with NMIs masked */
	/* a 16-bit write sets the index and then the data, as on the ISA bus */
	iotrap_dispatch(&vm.io, IOTRAP_PIO, RTC_PORT_INDEX, w, 2, true);
	CHECK_INT(cmos(0x20), 0x42);
	/* a 32-bit access does not fit the two ports: nothing is touched, reads see all ones */
	out(RTC_PORT_INDEX, 0x20);
	CHECK(!iotrap_dispatch(&vm.io, IOTRAP_PIO, RTC_PORT_INDEX, r, 4, false));
	CHECK_INT(r[0] & r[1] & r[2] & r[3], 0xff);
	CHECK(!iotrap_dispatch(&vm.io, IOTRAP_PIO, RTC_PORT_DATA, r, 2, true));
	CHECK_INT(cmos(0x20), 0x42);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "rtc-defaults", test_defaults },
		{ "rtc-bcd-matches-host-clock", test_bcd },
		{ "rtc-binary-matches-host-clock", test_binary },
		{ "rtc-fixed-time-and-century", test_fixed_time },
		{ "rtc-12-hour", test_12_hour },
		{ "rtc-time-writes-ignored", test_writes },
		{ "rtc-index-masked", test_index_masked },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}

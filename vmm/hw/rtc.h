#ifndef SHRIKE_HW_RTC_H
#define SHRIKE_HW_RTC_H

#include <pthread.h>
#include <stdint.h>

#include "kvm/vm.h"

#define RTC_PORT_INDEX		0x70
#define RTC_PORT_DATA		0x71
#define RTC_CMOS_SIZE		128
#define RTC_REG_CENTURY		0x32	/* where the ACPI FADT says the century is */

/*
 * The MC146818 CMOS clock of a PC: the guest reads the host's UTC time (CLOCK_REALTIME) in the format it chose
 * in register B, and keeps whatever it likes in the rest of the 128 bytes of CMOS RAM. The host clock is the
 * truth: writes to the time registers are ignored. No interrupt (IRQ 8) is ever raised.
 */
struct rtc {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t index;			/* selected by port 0x70, without the NMI mask bit */
	uint8_t cmos[RTC_CMOS_SIZE];	/* time registers are read from the clock, not from here */
};

/* Registers ports 0x70-0x71 on vm's port bus. Returns 0 or -errno (logged). */
int rtc_create(struct rtc *rtc, struct vm *vm);

#endif

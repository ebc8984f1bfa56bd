#ifndef SHRIKE_INIT_INIT_H
#define SHRIKE_INIT_INIT_H

/*
 * The init role. As PID 1 it mounts the API filesystems, reports the KVM probe and then serves power requests
 * (signals, console commands, the power button) forever; it never returns. Run by hand as any other PID it only
 * prints the banner and the probe verdict and returns the exit status, so it can be tried without rebooting.
 */
int init_run(void);

#endif

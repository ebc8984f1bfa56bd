#ifndef SHRIKE_INIT_PROCSCAN_H
#define SHRIKE_INIT_PROCSCAN_H

#include <sys/types.h>

/*
 * Zombies: processes that exited and that nobody reaped. Under a PID 1 that reaps every child there should be
 * none for longer than a SIGCHLD takes; the console command 'zombies' lets an operator (and the image test) check.
 * Scans proc_dir ("/proc") and writes up to max pids into pids. Returns how many zombies there are (possibly
 * more than max), or -errno.
 */
int procscan_zombies(const char *proc_dir, pid_t *pids, unsigned int max);

#endif

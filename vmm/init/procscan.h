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

/*
 * What a guest's VMM process holds in memory besides the guest's RAM: the resident size of every mapping of pid
 * (proc_dir/PID/smaps) except those exactly guest_bytes long, which is how run maps the guest's RAM. It is the
 * VMM's own cost (code, heap, device and network buffers), the figure tests/bench/vmm reports too. Returns KiB,
 * or -errno.
 */
long procscan_vmm_private_kib(const char *proc_dir, pid_t pid, unsigned long long guest_bytes);

#endif

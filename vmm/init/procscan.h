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
 * What a guest's VMM process holds in memory, from proc_dir/PID/smaps: the guest's RAM is every mapping exactly
 * guest_bytes long (which is how run maps it), the rest is the VMM's own cost (code, heap, device and network
 * buffers), the figure tests/bench/vmm reports too. Resident sizes, in KiB. Returns 0 or -errno.
 */
struct procscan_memory {
	unsigned long long vmm_kib;	/* besides the guest's RAM */
	unsigned long long guest_kib;	/* of the guest's RAM: what the guest touched and did not give back */
};
int procscan_vmm_memory(const char *proc_dir, pid_t pid, unsigned long long guest_bytes, struct procscan_memory *m);

/* The CPU time (user and system) pid used so far, from proc_dir/PID/stat, in milliseconds; or -errno. */
long long procscan_cpu_ms(const char *proc_dir, pid_t pid);

#endif

/*
 * The management process's sandbox, entered once its certificates are loaded and its port is bound: from then on
 * it needs no file, no privilege and only the system calls of a poll loop over sockets. Run as root (as PID 1
 * spawns it), it gives up root for an unprivileged user; then no_new_privs, then a seccomp filter that allows
 * that short list and makes every other call fail with EPERM. A mistake in TLS or HTTP parsing then reaches no
 * file, no process and no device, only the sockets mgmt already has.
 */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "mgmt/sandbox.h"

/* What the poll loop, mbedTLS, musl's malloc and stdio, and the log use; nothing that opens, execs or forks. */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_close, SYS_poll, SYS_ppoll,
	SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_wait, SYS_epoll_pwait,
	SYS_accept, SYS_accept4, SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg, SYS_shutdown,
	SYS_setsockopt, SYS_getsockopt, SYS_getsockname, SYS_getpeername, SYS_fcntl,
	SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_restart_syscall,
	SYS_clock_gettime, SYS_gettimeofday, SYS_time, SYS_nanosleep, SYS_clock_nanosleep,
	SYS_getrandom, SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid, SYS_futex,
	SYS_sched_yield,
	SYS_fstat, SYS_newfstatat, SYS_lseek, SYS_ioctl,	/* stdio asks whether stderr is a terminal */
	SYS_exit, SYS_exit_group,
};

#define NR_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))

static int install_filter(void)
{
	/*
	 * 0 load arch, 1 not x86-64: kill, 2 load the number, 3 an x32 number: kill, then one compare per allowed
	 * call jumping to "allow", then "deny" (where the list falls through), "allow", "kill".
	 */
	struct sock_filter f[4 + NR_ALLOWED + 3];
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };
	unsigned int i, n = 0, allow_at = 4 + NR_ALLOWED + 1, kill_at = allow_at + 1;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 0);
	f[n].jf = (unsigned char)(kill_at - n - 1);
	n++;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* x32 numbers carry bit 30; the same numbers must not slip through as their 64-bit twins */
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 0);
	f[n].jt = (unsigned char)(kill_at - n - 1);
	n++;
	for (i = 0; i < NR_ALLOWED; i++, n++) {
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)allowed[i], 0, 0);
		f[n].jt = (unsigned char)(allow_at - n - 1);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	if (n != sizeof(f) / sizeof(f[0]))
		return -EINVAL;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

int sandbox_enter(uid_t uid, gid_t gid)
{
	int ret;

	if (geteuid() == 0) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) {
			ret = -errno;
			log_error("dropping root for uid %u gid %u: %s", (unsigned int)uid, (unsigned int)gid,
				  strerror(-ret));
			return ret;
		}
		/* Not a formality: a kernel without CONFIG_MULTIUSER accepts setresuid() and changes nothing. */
		if (setresuid(0, 0, 0) == 0 || geteuid() == 0) {
			log_error("still able to become root after dropping it");
			return -EPERM;
		}
	}
	ret = install_filter();
	if (ret < 0) {
		log_error("seccomp filter: %s", strerror(-ret));
		return ret;
	}
	log_info("sandboxed: uid %u, no new privileges, %zu system calls allowed", (unsigned int)geteuid(),
		 NR_ALLOWED);
	return 0;
}

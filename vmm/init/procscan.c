#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init/procscan.h"

/* The state of /proc/PID/stat: the field after the command name, which may itself hold ')' and blanks. */
static char stat_state(int dir_fd, const char *pid)
{
	char path[32], buf[512], *paren;
	ssize_t n;
	int fd;

	if (strlen(pid) > 16)
		return 0;
	strcpy(path, pid);
	strcat(path, "/stat");
	fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* gone meanwhile */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	if (!paren || paren[1] != ' ')
		return 0;
	return paren[2];
}

int procscan_zombies(const char *proc_dir, pid_t *pids, unsigned int max)
{
	unsigned int count = 0;
	struct dirent *e;
	DIR *dir;
	char *end;
	long pid;

	dir = opendir(proc_dir);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		if (stat_state(dirfd(dir), e->d_name) != 'Z')
			continue;
		if (count < max)
			pids[count] = (pid_t)pid;
		count++;
	}
	closedir(dir);
	return (int)count;
}

int procscan_vmm_memory(const char *proc_dir, pid_t pid, unsigned long long guest_bytes, struct procscan_memory *m)
{
	unsigned long long size = 0, kib;
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/smaps", proc_dir, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	*m = (struct procscan_memory){ 0 };
	/* Each mapping's block has a Size: line and, later, its Rss: line. */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %llu kB", &kib) == 1)
			size = kib;
		else if (sscanf(line, "Rss: %llu kB", &kib) == 1)
			*(size * 1024 == guest_bytes ? &m->guest_kib : &m->vmm_kib) += kib;
	}
	fclose(f);
	return 0;
}

long long procscan_cpu_ms(const char *proc_dir, pid_t pid)
{
	unsigned long long utime, stime;
	char path[64], buf[1024], *paren;
	long tick = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_dir, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || tick <= 0)
		return -EIO;
	buf[n] = '\0';
	/* After the command name (which may hold ')' and blanks): state, then fields 4 to 13, then utime, stime. */
	paren = strrchr(buf, ')');
	if (!paren || sscanf(paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return -EIO;
	return (long long)((utime + stime) * 1000 / (unsigned long long)tick);
}

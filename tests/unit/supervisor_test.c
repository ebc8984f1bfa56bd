/* unit-sources: vmm/init/restart.c vmm/init/partlabel.c vmm/init/procscan.c */
/*
 * The pure parts of the PID 1 supervisor: how a VMM's exit is classified, the restart policy (backoff doubling
 * to 5 minutes, the give-up window), finding a partition by GPT label in a fake sysfs, and spotting a zombie.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "init/partlabel.h"
#include "init/procscan.h"
#include "init/restart.h"

static struct restart_history hist;

static void guest_init(struct config_guest *g, enum config_restart policy, unsigned int count, unsigned int secs)
{
	memset(g, 0, sizeof(*g));
	g->restart = policy;
	g->restart_limit_count = count;
	g->restart_limit_seconds = secs;
	restart_reset(&hist);
}

static const char *test_classify(void)
{
	int code;

	CHECK_INT(restart_classify(0 << 8, &code), RESTART_EXIT_POWEROFF);
	CHECK_INT(restart_classify(10 << 8, &code), RESTART_EXIT_REBOOT);
	CHECK_INT(restart_classify(11 << 8, &code), RESTART_EXIT_CRASH);
	CHECK_INT(restart_classify(12 << 8, &code), RESTART_EXIT_STOPPED);
	CHECK_INT(restart_classify(1 << 8, &code), RESTART_EXIT_ERROR);
	CHECK_INT(code, 1);
	CHECK_INT(restart_classify(127 << 8, &code), RESTART_EXIT_ERROR);
	CHECK_INT(restart_classify(SIGKILL, &code), RESTART_EXIT_SIGNAL);
	CHECK_INT(code, SIGKILL);
	CHECK(!restart_is_failure(RESTART_EXIT_POWEROFF));
	CHECK(!restart_is_failure(RESTART_EXIT_REBOOT));
	CHECK(restart_is_failure(RESTART_EXIT_CRASH));
	CHECK(restart_is_failure(RESTART_EXIT_SIGNAL));
	CHECK_STR(restart_exit_name(RESTART_EXIT_SIGNAL), "signal");
	return NULL;
}

/* 1 s, 2 s, 4 s, ... until the limit: the fifth failure of 5/10m gives up. */
static const char *test_backoff_then_give_up(void)
{
	struct restart_decision d;
	struct config_guest g;
	uint64_t now = 1000000;
	unsigned int i;

	guest_init(&g, CONFIG_RESTART_ON_FAILURE, 5, 600);
	for (i = 0; i < 4; i++) {
		restart_decide(&g, &hist, RESTART_EXIT_CRASH, now, &d);
		CHECK_INT(d.action, RESTART_LATER);
		CHECK_INT(d.delay_ms, 1000ULL << i);
		CHECK_INT(d.failures, i + 1);
		now += d.delay_ms + 500;
	}
	restart_decide(&g, &hist, RESTART_EXIT_SIGNAL, now, &d);
	CHECK_INT(d.action, RESTART_GIVE_UP);
	CHECK_INT(d.failures, 5);
	CHECK_INT(d.span_ms, 1000 + 2000 + 4000 + 8000 + 4 * 500);
	return NULL;
}

static const char *test_delay_caps_at_5_minutes(void)
{
	struct restart_decision d;
	struct config_guest g;
	uint64_t now = 0;
	unsigned int i;

	guest_init(&g, CONFIG_RESTART_ALWAYS, 1000, 24 * 3600);
	for (i = 0; i < 40; i++) {
		restart_decide(&g, &hist, RESTART_EXIT_ERROR, now, &d);
		CHECK_INT(d.action, RESTART_LATER);
		CHECK(d.delay_ms <= RESTART_MAX_DELAY_MS);
		now += d.delay_ms;
	}
	CHECK_INT(d.delay_ms, RESTART_MAX_DELAY_MS);
	return NULL;
}

/* Failures older than the window no longer count: the delay starts again at 1 s and the limit is not reached. */
static const char *test_window_forgets(void)
{
	struct restart_decision d;
	struct config_guest g;
	uint64_t now = 5000;
	unsigned int i;

	guest_init(&g, CONFIG_RESTART_ON_FAILURE, 3, 60);
	for (i = 0; i < 10; i++) {
		restart_decide(&g, &hist, RESTART_EXIT_CRASH, now, &d);
		CHECK_INT(d.action, RESTART_LATER);
		CHECK_INT(d.failures, 1);
		CHECK_INT(d.delay_ms, 1000);
		now += 60 * 1000;	/* exactly the window: the last one has just left it */
	}
	restart_decide(&g, &hist, RESTART_EXIT_CRASH, now, &d);
	CHECK_INT(d.failures, 1);
	restart_decide(&g, &hist, RESTART_EXIT_CRASH, now + 1000, &d);
	CHECK_INT(d.failures, 2);
	CHECK_INT(d.delay_ms, 2000);
	restart_decide(&g, &hist, RESTART_EXIT_CRASH, now + 2000, &d);
	CHECK_INT(d.action, RESTART_GIVE_UP);
	return NULL;
}

static const char *test_policies(void)
{
	struct restart_decision d;
	struct config_guest g;

	/* A reboot restarts at once whatever the policy, and is no failure. */
	guest_init(&g, CONFIG_RESTART_NO, 1, 60);
	restart_decide(&g, &hist, RESTART_EXIT_REBOOT, 1000, &d);
	CHECK_INT(d.action, RESTART_NOW);
	CHECK_INT(hist.count, 0);
	restart_decide(&g, &hist, RESTART_EXIT_CRASH, 1000, &d);
	CHECK_INT(d.action, RESTART_NONE);
	restart_decide(&g, &hist, RESTART_EXIT_POWEROFF, 1000, &d);
	CHECK_INT(d.action, RESTART_NONE);

	guest_init(&g, CONFIG_RESTART_ON_FAILURE, 5, 600);
	restart_decide(&g, &hist, RESTART_EXIT_POWEROFF, 1000, &d);
	CHECK_INT(d.action, RESTART_NONE);
	restart_decide(&g, &hist, RESTART_EXIT_STOPPED, 1000, &d);
	CHECK_INT(d.action, RESTART_LATER);

	guest_init(&g, CONFIG_RESTART_ALWAYS, 5, 600);
	restart_decide(&g, &hist, RESTART_EXIT_POWEROFF, 1000, &d);
	CHECK_INT(d.action, RESTART_NOW);
	CHECK_INT(hist.count, 0);

	/* restart-limit 1: the first failure already gives up. */
	guest_init(&g, CONFIG_RESTART_ALWAYS, 1, 600);
	restart_decide(&g, &hist, RESTART_EXIT_CRASH, 1000, &d);
	CHECK_INT(d.action, RESTART_GIVE_UP);
	return NULL;
}

/* The history never holds more than the limit, even when the limit shrinks (a new config). */
static const char *test_limit_change(void)
{
	struct restart_decision d;
	struct config_guest g;
	unsigned int i;

	guest_init(&g, CONFIG_RESTART_ALWAYS, 1000, 3600);
	for (i = 0; i < 999; i++)
		restart_decide(&g, &hist, RESTART_EXIT_CRASH, 1000 + i, &d);
	CHECK_INT(d.action, RESTART_LATER);
	CHECK_INT(hist.count, 999);
	restart_decide(&g, &hist, RESTART_EXIT_CRASH, 5000, &d);
	CHECK_INT(d.action, RESTART_GIVE_UP);
	CHECK_INT(hist.count, 1000);
	g.restart_limit_count = 3;
	restart_decide(&g, &hist, RESTART_EXIT_CRASH, 6000, &d);
	CHECK_INT(d.action, RESTART_GIVE_UP);
	CHECK_INT(hist.count, 3);
	return NULL;
}

static char sysfs[64];

static int fake_block(const char *name, const char *uevent)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sysfs, name);
	if (mkdir(path, 0755) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s/uevent", sysfs, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(uevent, f);
	fclose(f);
	return 0;
}

static const char *test_partlabel(void)
{
	unsigned int dup;
	char dev[32];

	snprintf(sysfs, sizeof(sysfs), "/tmp/shrike-partlabel-XXXXXX");
	CHECK(mkdtemp(sysfs));
	CHECK_INT(fake_block("vda", "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\nDISKSEQ=1\n"), 0);
	CHECK_INT(fake_block("vda2", "MAJOR=254\nMINOR=2\nDEVNAME=vda2\nDEVTYPE=partition\nPARTN=2\n"
			     "PARTNAME=shrike-config\n"), 0);
	CHECK_INT(fake_block("vda3", "MAJOR=254\nMINOR=3\nDEVNAME=vda3\nDEVTYPE=partition\nPARTN=3\n"
			     "PARTNAME=shrike-data\n"), 0);
	/* A longer label that starts with the one looked for is no match. */
	CHECK_INT(fake_block("vdb1", "DEVNAME=vdb1\nPARTNAME=shrike-config-old\n"), 0);
	CHECK_INT(partlabel_find(sysfs, "shrike-config", dev, sizeof(dev), &dup), 0);
	CHECK_STR(dev, "/dev/vda2");
	CHECK_INT(dup, 0);
	CHECK_INT(partlabel_find(sysfs, "shrike-data", dev, sizeof(dev), &dup), 0);
	CHECK_STR(dev, "/dev/vda3");
	CHECK_INT(partlabel_find(sysfs, "shrike", dev, sizeof(dev), &dup), -ENOENT);
	CHECK_INT(partlabel_find(sysfs, "shrike-data", dev, 6, &dup), -ENAMETOOLONG);
	CHECK_INT(fake_block("sdb3", "DEVNAME=sdb3\nPARTNAME=shrike-data\n"), 0);
	CHECK_INT(partlabel_find(sysfs, "shrike-data", dev, sizeof(dev), &dup), 0);
	CHECK_INT(dup, 1);
	CHECK_INT(partlabel_find("/nonexistent-sysfs", "x", dev, sizeof(dev), &dup), -ENOENT);
	CHECK_INT(system("rm -rf /tmp/shrike-partlabel-*"), 0);
	return NULL;
}

static const char *test_zombie_seen(void)
{
	pid_t pids[64], child;
	int n, i, found = 0, status;

	child = fork();
	if (!child)
		_exit(0);
	CHECK(child > 0);
	/* Give it time to exit, without reaping it. */
	for (i = 0; i < 200 && !found; i++) {
		usleep(10000);
		n = procscan_zombies("/proc", pids, 64);
		CHECK(n >= 0);
		for (int j = 0; j < n && j < 64; j++)
			if (pids[j] == child)
				found = 1;
	}
	CHECK(found);
	CHECK_INT(waitpid(child, &status, 0), child);
	n = procscan_zombies("/proc", pids, 64);
	for (i = 0; i < n && i < 64; i++)
		CHECK(pids[i] != child);
	CHECK_INT(procscan_zombies("/nonexistent-proc", pids, 64), -ENOENT);
	return NULL;
}

int main(void)
{
	static const struct check_case cases[] = {
		{ "supervisor-classify", test_classify },
		{ "supervisor-backoff-then-give-up", test_backoff_then_give_up },
		{ "supervisor-delay-caps-at-5-minutes", test_delay_caps_at_5_minutes },
		{ "supervisor-window-forgets", test_window_forgets },
		{ "supervisor-policies", test_policies },
		{ "supervisor-limit-change", test_limit_change },
		{ "supervisor-partlabel", test_partlabel },
		{ "supervisor-zombie-seen", test_zombie_seen },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}

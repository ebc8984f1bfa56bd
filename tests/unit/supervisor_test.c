/* unit-sources: vmm/init/restart.c vmm/init/partlabel.c vmm/init/procscan.c vmm/init/supervisor.c vmm/init/supervisor_args.c vmm/init/supervisor_output.c vmm/init/supervisor_apply.c vmm/init/conout.c vmm/init/bootconf.c vmm/init/hostnet.c vmm/config/config.c vmm/config/values.c vmm/config/validate.c vmm/config/change.c vmm/config/filename.c vmm/config/partition.c vmm/config/blockdev.c vmm/lib/sha256.c vmm/lib/addr.c vmm/lib/ring.c vmm/lib/log.c vmm/init/statsmap.c vmm/run/stats.c */
/*
 * The pure parts of the PID 1 supervisor: how a VMM's exit is classified, the restart policy (backoff doubling
 * to 5 minutes, the give-up window), finding a partition by GPT label in a fake sysfs, spotting a zombie, and the
 * `shrike run` command line built for a guest.
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
#include "init/supervisor_args.h"

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
	CHECK_INT(restart_classify(13 << 8, &code), RESTART_EXIT_WATCHDOG);
	CHECK_INT(restart_classify(1 << 8, &code), RESTART_EXIT_ERROR);
	CHECK_INT(code, 1);
	CHECK_INT(restart_classify(127 << 8, &code), RESTART_EXIT_ERROR);
	CHECK_INT(restart_classify(SIGKILL, &code), RESTART_EXIT_SIGNAL);
	CHECK_INT(code, SIGKILL);
	CHECK(!restart_is_failure(RESTART_EXIT_POWEROFF));
	CHECK(!restart_is_failure(RESTART_EXIT_REBOOT));
	CHECK(restart_is_failure(RESTART_EXIT_CRASH));
	CHECK(restart_is_failure(RESTART_EXIT_SIGNAL));
	CHECK(restart_is_failure(RESTART_EXIT_WATCHDOG));
	CHECK_STR(restart_exit_name(RESTART_EXIT_SIGNAL), "signal");
	CHECK_STR(restart_exit_name(RESTART_EXIT_WATCHDOG), "watchdog");
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

/* A VMM's memory: the Rss of the mapping exactly the guest's size is its RAM, every other mapping's the VMM's. */
static const char *test_vmm_private_memory(void)
{
	static const char smaps[] =
		"55d0a0000000-55d0a0100000 r-xp 00000000 00:02 12 /bin/shrike\n"
		"Size:               1024 kB\nKernelPageSize:        4 kB\nRss:                 300 kB\n"
		"7f0000000000-7f0008000000 rw-p 00000000 00:00 0\n"
		"Size:             131072 kB\nRss:               65536 kB\nPss:               65536 kB\n"
		"7f0010000000-7f0010200000 rw-p 00000000 00:00 0 [heap]\n"
		"Size:               2048 kB\nRss:                 120 kB\n";
	char dir[] = "/tmp/shrike-smaps-XXXXXX", path[80];
	struct procscan_memory mem;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/4242", dir);
	CHECK_INT(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/4242/smaps", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(smaps, f);
	fclose(f);
	CHECK_INT(procscan_vmm_memory(dir, 4242, 128ULL << 20, &mem), 0);
	CHECK(mem.vmm_kib == 420 && mem.guest_kib == 65536);
	/* A guest of another size: its RAM is not recognised, so everything counts as the VMM's. */
	CHECK_INT(procscan_vmm_memory(dir, 4242, 64ULL << 20, &mem), 0);
	CHECK(mem.vmm_kib == 65956 && mem.guest_kib == 0);
	CHECK_INT(procscan_vmm_memory(dir, 4243, 128ULL << 20, &mem), -ENOENT);
	/* This very process, as the appliance reads a VMM: some memory, and not an error. */
	CHECK_INT(procscan_vmm_memory("/proc", getpid(), 1, &mem), 0);
	CHECK(mem.vmm_kib > 0);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_INT(system(path), 0);
	return NULL;
}

/* A VMM's CPU time: utime and stime of its stat, after a command name that holds ') ' itself. */
static const char *test_vmm_cpu_time(void)
{
	char dir[] = "/tmp/shrike-stat-XXXXXX", path[80];
	long tick = sysconf(_SC_CLK_TCK);
	long long before, after;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/4242", dir);
	CHECK_INT(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/4242/stat", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("4242 (shrike) S (x) R 1 4242 4242 0 -1 4194560 1200 0 3 0 250 150 0 0 20 0 3 0 42 1000 100\n", f);
	fclose(f);
	CHECK(tick > 0);
	CHECK_INT(procscan_cpu_ms(dir, 4242), 400LL * 1000 / tick);
	CHECK_INT(procscan_cpu_ms(dir, 4243), -ENOENT);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_INT(system(path), 0);
	/* This process: its CPU time grows as it keeps asking. */
	before = procscan_cpu_ms("/proc", getpid());
	CHECK(before >= 0);
	while ((after = procscan_cpu_ms("/proc", getpid())) >= 0 && after < before + 20)
		;
	CHECK(after >= before + 20);
	return NULL;
}

static struct config cfg;
static struct config_errors errs;
static struct supervisor_args args;

static int load(const char *text)
{
	memset(&errs, 0, sizeof(errs));
	return config_load("t.conf", text, strlen(text), 0, &cfg, &errs);
}

/* argv from index i on, joined with blanks: what a test compares against. */
static const char *joined(unsigned int from)
{
	static char buf[8192];
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = from; i < args.argc && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i > from ? " " : "", args.argv[i]);
	return buf;
}

static const char *test_argv_plain(void)
{
	CHECK_INT(load("[guest web]\nkernel = k/bz\ninitrd = k/rd\nmemory = 128M\nvcpus = 2\ndisk = data:web.img,ro\n"),
		  0);
	CHECK_INT(supervisor_build_args(&cfg.guests[0], 0, "/nonexistent", &args), 0);
	CHECK_STR(joined(0), "shrike run --kernel /data/k/bz --initrd /data/k/rd --cmdline console=ttyS0 quiet "
		  "--mem 128M --vcpus 2 --console serial --control /run/shrike/web.ctl --disk /data/web.img,ro");
	CHECK(args.argv[args.argc] == NULL);
	/* watchdog = reset is the VMM's default; the others are passed. */
	CHECK_INT(load("[guest a]\nkernel = k\nwatchdog = none\n"), 0);
	CHECK_INT(supervisor_build_args(&cfg.guests[0], 0, "/nonexistent", &args), 0);
	CHECK(strstr(joined(0), " --console serial --watchdog-action none --control "));
	CHECK_INT(load("[guest a]\nkernel = k\nwatchdog = poweroff\n"), 0);
	CHECK_INT(supervisor_build_args(&cfg.guests[0], 0, "/nonexistent", &args), 0);
	CHECK(strstr(joined(0), " --console serial --watchdog-action poweroff --control "));
	return NULL;
}

/* A user NIC: one --net with its MAC, net, address and the guest's forwards; metadata; the user data file. */
static const char *test_argv_user_nic(void)
{
	CHECK_INT(load("[bridge br0]\n"
		       "[guest web]\nkernel = k\ncmdline = quiet x=1\nmemory = 256M\nautostart = yes\n"
		       "nic = bridge:br0,mac=52:54:00:00:00:01\n"
		       "nic = user,mac=52:54:00:00:00:02,net=10.0.3.0/24,address=10.0.3.20\n"
		       "nic = user,mac=52:54:00:00:00:03,net=10.9.0.0/16\n"
		       "forward = tcp:8080:80\nforward = tcp:2222:22\nuser-data = web.yaml\n"), 0);
	CHECK_INT(supervisor_build_args(&cfg.guests[0], 3, "/nonexistent", &args), 0);
	CHECK_STR(joined(14), "--net tap=vm3n0,mac=52:54:00:00:00:01 "
		  "--net user,mac=52:54:00:00:00:02,net=10.0.3.0/24,address=10.0.3.20,forward=tcp:8080:80,"
		  "forward=tcp:2222:22 "
		  "--net user,mac=52:54:00:00:00:03,net=10.9.0.0/16 "
		  "--metadata name=web --metadata vcpus=1 --metadata memory=268435456 --metadata cmdline=quiet x=1 "
		  "--metadata autostart=yes --metadata mac=52:54:00:00:00:02 --metadata address=10.0.3.20 "
		  "--user-data /run/shrike/web.user-data");
	CHECK_STR(args.argv[4], "--cmdline");
	CHECK_STR(args.argv[5], "console=ttyS0 quiet quiet x=1");

	/* The default address, not passed to the VMM (it has the same default), but told to the guest. */
	CHECK_INT(load("[guest a]\nkernel = k\nnic = user\n"), 0);
	CHECK_INT(supervisor_build_args(&cfg.guests[0], 0, "/nonexistent", &args), 0);
	CHECK(strstr(joined(0), " --net user,mac=52:54:00:"));
	CHECK(strstr(joined(0), ",net=10.0.2.0/24 --metadata name=a "));
	CHECK(strstr(joined(0), " --metadata address=10.0.2.15"));
	CHECK(!strstr(joined(0), "--user-data"));

	/* No user NIC: no metadata service to tell anything. */
	CHECK_INT(load("[guest a]\nkernel = k\nuser-data = u\n"), 0);
	CHECK_INT(supervisor_build_args(&cfg.guests[0], 0, "/nonexistent", &args), 0);
	CHECK(!strstr(joined(0), "--metadata"));
	CHECK(!strstr(joined(0), "--user-data"));
	return NULL;
}

/* The most a config allows still fits: 8 disks, 8 user NICs, 16 forwards, the longest command line. */
static const char *test_argv_bounded(void)
{
	static char text[16384];
	size_t len = 0;
	unsigned int i;

	len += (size_t)snprintf(text + len, sizeof(text) - len, "[guest big-guest-name-of-31-chars]\nkernel = k\n"
				"cmdline = ");
	/* as long as a line allows */
	for (i = 0; i < CONFIG_MAX_LINE - strlen("cmdline = "); i++)
		text[len++] = 'x';
	text[len++] = '\n';
	for (i = 0; i < GUEST_MAX_DISKS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "disk = data:d%u,ro\n", i);
	for (i = 0; i < GUEST_MAX_NICS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"nic = user,net=192.168.%u.0/24,address=192.168.%u.254\n", i, i);
	for (i = 0; i < GUEST_MAX_FORWARDS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "forward = tcp:%u:65535\n", 60000 + i);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "user-data = u\n");
	CHECK_INT(load(text), 0);
	CHECK_INT(supervisor_build_args(&cfg.guests[0], 31, "/nonexistent", &args), 0);
	CHECK(strstr(joined(0), ",forward=tcp:60015:65535 --net user,"));
	CHECK_STR(args.argv[args.argc - 1], "/run/shrike/big-guest-name-of-31-chars.user-data");
	CHECK(args.argc < SUPERVISOR_ARGV_MAX);
	return NULL;
}

/* What a new configuration does to each guest, by its state under the old one. */
static const char *test_plan(void)
{
	static struct config old, next;
	static struct supervisor_plan plan;
	enum guest_state state[CONFIG_MAX_GUESTS] = { GUEST_RUNNING, GUEST_RUNNING, GUEST_STOPPED, GUEST_BACKOFF,
						      GUEST_RUNNING, GUEST_RUNNING };
	static const char old_text[] =
		"[bridge br0]\n"
		"[guest same]\nkernel = k\nautostart = yes\n"
		"[guest changed]\nkernel = k\n"
		"[guest stopped-changed]\nkernel = k\n"
		"[guest backoff-changed]\nkernel = k\n"
		"[guest gone]\nkernel = k\n"
		"[guest policy]\nkernel = k\nnic = bridge:br0\n";
	static const char next_text[] =
		"[bridge br0]\n"
		"[guest same]\n# a comment\nkernel = k\nautostart = yes\n"
		"[guest changed]\nkernel = k\nmemory = 128M\n"
		"[guest stopped-changed]\nkernel = k\nvcpus = 2\n"
		"[guest backoff-changed]\nkernel = k2\n"
		"[guest policy]\nkernel = k\nnic = bridge:br0\nrestart = always\n"
		"[guest new-auto]\nkernel = k\nautostart = yes\n"
		"[guest new]\nkernel = k\n";
	static const char host_text[] = "[host]\nhostname = x\n[bridge br0]\n[guest same]\nkernel = k\nautostart = yes\n";

	memset(&errs, 0, sizeof(errs));
	CHECK_INT(config_load("t.conf", old_text, strlen(old_text), 0, &old, &errs), 0);
	CHECK_INT(config_load("t.conf", next_text, strlen(next_text), 0, &next, &errs), 0);
	supervisor_plan(&old, state, &next, &plan);
	CHECK_INT(plan.old_count, 6);
	CHECK_INT(plan.new_count, 7);
	CHECK_INT(plan.from[0], 0);
	CHECK_INT(plan.step[0], STEP_KEEP);
	CHECK_INT(plan.step[1], STEP_RESTART);
	CHECK_INT(plan.step[2], STEP_UPDATE);
	CHECK_INT(plan.step[3], STEP_RESTART);	/* waiting to restart counts as running */
	/* only a policy change, but it moved from index 5 to 4 with a bridge NIC: its tap name changes */
	CHECK_INT(plan.from[4], 5);
	CHECK_INT(plan.step[4], STEP_RESTART);
	CHECK_INT(plan.from[5], -1);
	CHECK_INT(plan.step[5], STEP_START);
	CHECK_INT(plan.step[6], STEP_UPDATE);
	CHECK(!plan.retire[0]);
	CHECK(plan.retire[1] && plan.retire[2] && plan.retire[3] && plan.retire[4] && plan.retire[5]);
	CHECK(plan.removed[4] && !plan.removed[0] && !plan.removed[5]);
	CHECK_STR(plan.old_names[4], "gone");
	CHECK(!plan.reboot_required);

	/* the same file: nothing to do; a policy change in place; a host change only needs a reboot */
	supervisor_plan(&old, state, &old, &plan);
	for (unsigned int i = 0; i < plan.new_count; i++) {
		CHECK_INT(plan.step[i], STEP_KEEP);
		CHECK(!plan.retire[i]);
	}
	CHECK_INT(config_load("t.conf", host_text, strlen(host_text), 0, &next, &errs), 0);
	supervisor_plan(&old, state, &next, &plan);
	CHECK_INT(plan.step[0], STEP_KEEP);
	CHECK(plan.reboot_required);
	CHECK(plan.removed[1] && plan.removed[5]);
	/* a failed guest that changed is not started by the change */
	state[0] = GUEST_FAILED;
	CHECK_INT(config_load("t.conf", next_text, strlen(next_text), 0, &next, &errs), 0);
	state[1] = GUEST_FAILED;
	supervisor_plan(&old, state, &next, &plan);
	CHECK_INT(plan.step[0], STEP_KEEP);
	CHECK_INT(plan.step[1], STEP_UPDATE);
	return NULL;
}

/*
 * A config put on a partition image in a file, with guests that are not running (none is started here): the
 * write, the new slot as the next boot would read it, a refused config leaving everything as it was, and the
 * autostart edit going the same way.
 */
static const char *test_config_put(void)
{
	static struct supervisor sv;
	static struct conout con;
	static struct config_errors e;
	static const char conf1[] = "# demo\n[guest web]\nkernel = k\nuser-data = web.yaml\n[guest old]\nkernel = k\n";
	static const char conf2[] = "# demo\n[guest web]\nkernel = k\nuser-data = web.yaml\nmemory = 128M\n"
				    "[guest new]\nkernel = k\n";
	struct partition_file files[2] = { { .name = "shrike.conf" }, { .name = "web.yaml" } };
	struct supervisor_plan plan;
	const struct partition_file *f;
	struct blockdev dev;
	uint64_t gen = 0;
	uint8_t *payload;
	size_t len;
	int fd, slot;
	char path[] = "/tmp/shrike-config-put-XXXXXX";

	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_INT(ftruncate(fd, 64 * 1024), 0);
	files[0].data = (const uint8_t *)conf1;
	files[0].len = strlen(conf1);
	files[1].data = (const uint8_t *)"#cloud-config\n";
	files[1].len = 14;
	CHECK_INT(partition_pack(files, 2, &payload, &len), 0);
	CHECK_INT(blockdev_init_fd(&dev, fd), 0);
	CHECK_INT(partition_write(&dev, payload, len, &slot, &gen), 0);
	free(payload);

	conout_init(&con, STDOUT_FILENO);
	CHECK_INT(supervisor_init(&sv, &con), 0);
	CHECK_INT(partition_load(&dev, &sv.part), 0);
	f = partition_find(&sv.part, "shrike.conf");
	sv.config_text = (const char *)f->data;
	sv.config_len = f->len;
	memset(&e, 0, sizeof(e));
	CHECK_INT(config_load("shrike.conf", sv.config_text, sv.config_len, 0, &sv.cfg, &e), 0);
	sv.configured = true;
	snprintf(sv.config_dev, sizeof(sv.config_dev), "%s", path);
	for (unsigned int i = 0; i < sv.cfg.nguests; i++) {
		sv.guests[i].cfg = &sv.cfg.guests[i];
		sv.guests[i].index = i;
	}
	sv.norder = config_start_order(&sv.cfg, sv.order);

	/* refused: a payload file that is not in the partition; nothing written */
	memset(&e, 0, sizeof(e));
	CHECK_INT(supervisor_config_put(&sv, "[guest web]\nkernel = k\nuser-data = nope\n", 39, &e, &plan, &gen),
		  -EINVAL);
	CHECK_INT(e.count, 1);
	CHECK_STR(e.msg[0], "shrike.conf:3: nope is not a file of the config partition");
	CHECK_INT(sv.part.slots[sv.part.current].generation, 1);
	CHECK(sv.next_cfg == NULL);

	/* accepted: generation 2 in slot B, applied at once since no guest runs */
	memset(&e, 0, sizeof(e));
	CHECK_INT(supervisor_config_put(&sv, conf2, strlen(conf2), &e, &plan, &gen), 0);
	CHECK_INT(gen, 2);
	CHECK_INT(plan.step[0], STEP_UPDATE);
	CHECK_INT(plan.step[1], STEP_UPDATE);
	CHECK(plan.removed[1]);
	CHECK(sv.next_cfg == NULL);
	CHECK_INT(sv.cfg.nguests, 2);
	CHECK_STR(sv.guests[1].cfg->name, "new");
	CHECK_INT(sv.part.current, 1);
	CHECK_INT(sv.config_len, strlen(conf2));
	CHECK(!memcmp(sv.config_text, conf2, sv.config_len));
	CHECK(partition_find(&sv.part, "web.yaml"));

	/* autostart: the text edited, written as generation 3, nothing else changed */
	memset(&e, 0, sizeof(e));
	CHECK_INT(supervisor_set_autostart(&sv, "new", false, &e), 0);	/* already no: nothing written */
	CHECK_INT(sv.part.slots[sv.part.current].generation, 2);
	/* a policy change only: not started, though it is autostart now (that is for the next boot) */
	CHECK_INT(supervisor_set_autostart(&sv, "web", true, &e), 0);
	CHECK_INT(sv.part.slots[sv.part.current].generation, 3);
	CHECK(sv.guests[0].cfg->autostart);
	CHECK_INT(sv.guests[0].state, GUEST_STOPPED);
	CHECK_INT(sv.config_len, strlen(conf2) + strlen("autostart = yes\n"));
	CHECK(!memcmp(sv.config_text, "# demo\n[guest web]\nautostart = yes\nkernel = k\n", 46));
	CHECK_INT(supervisor_set_autostart(&sv, "nobody", true, &e), -ENOENT);

	/* and the next boot reads what was written */
	partition_release(&sv.part);
	CHECK_INT(partition_load(&dev, &sv.part), 0);
	CHECK_INT(sv.part.slots[sv.part.current].generation, 3);
	partition_release(&sv.part);
	close(fd);
	unlink(path);
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
		{ "supervisor-vmm-private-memory", test_vmm_private_memory },
		{ "supervisor-vmm-cpu-time", test_vmm_cpu_time },
		{ "supervisor-argv-plain", test_argv_plain },
		{ "supervisor-argv-user-nic", test_argv_user_nic },
		{ "supervisor-argv-bounded", test_argv_bounded },
		{ "supervisor-plan", test_plan },
		{ "supervisor-config-put", test_config_put },
	};

	return check_main(cases, sizeof(cases) / sizeof(cases[0]));
}

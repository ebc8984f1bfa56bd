#!/bin/sh
# Runs inside the appliance (busybox sh), started by tests/stress/run: boots guests under
# `shrike run`, PARALLEL at a time, and prints one STRESS-RESULT line per guest, followed by
# STRESS-TAIL lines (the end of its console log) when it did not end as it should.
#
#   sh guests.sh PLAN
#
# PLAN is a list of kinds, one guest each, in order:
#   bench   the demo guest with shrike.demo=bench: powers off right after its READY marker
#   typed   the demo guest; once READY, TYPED_LINES lines of 80 characters are typed at its
#           shell one a second (an echo command each), then `poweroff -f`
#   flood   the demo guest from flood-initrd.cpio.gz: from its first moment its init writes
#           FLOOD_LINES lines of 100 characters to the console as fast as it can, no input,
#           then powers off (all of them must arrive; its READY line may not, being behind them)
#   debian  Debian's kernel (vmlinuz on this disk) with the demo initrd, in bench mode
# Settings come from the environment (tests/stress/run sets them): VCPUS, PARALLEL, HANG (s of
# console silence that count as a hang), TYPED_LINES, FLOOD_LINES, RUN_ARGS (more `shrike run`
# options), CMDLINE (the guest command line before the per-kind options), VMM (the shrike binary).
here=$(dirname "$0")
demo=/mnt/demo

# The lines typed at a typed guest: 80 characters with the newline, numbered so that each
# one's echo can be counted.
typed_line() {
	printf 'echo typed-%03d-%s\n' "$1" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
}

# Types at a guest once it is READY; gives up when run_one says the guest is gone.
feeder() {
	log=$1
	until grep -q 'SHRIKE-DEMO-GUEST READY' "$log" 2>/dev/null; do
		[ -e "$log.done" ] && return 0
		sleep 1
	done
	sleep 1
	j=1
	while [ "$j" -le "$TYPED_LINES" ] && [ ! -e "$log.done" ]; do
		typed_line "$j"
		j=$((j + 1))
		sleep 1
	done
	echo "poweroff -f"
	# Keep the pipe open until the guest is gone: an end of input is not part of the test.
	while [ ! -e "$log.done" ]; do sleep 1; done
}

run_one() {
	i=$1 kind=$2
	log=/tmp/g$i.log res=/tmp/r$i.txt
	kernel=$demo/guest-bzImage initrd=$demo/guest-initrd.cpio.gz mem=256M cmd=$CMDLINE
	case $kind in
	bench) cmd="$cmd shrike.demo=bench" ;;
	typed) ;;
	flood) initrd=$here/flood-initrd.cpio.gz cmd="$cmd stress.flood=$FLOOD_LINES" ;;
	debian) kernel=$here/vmlinuz mem=512M cmd="$cmd shrike.demo=bench" ;;
	esac
	rm -f "$log" "$log.done"
	: > "$log"
	t0=$(date +%s)
	if [ "$kind" = typed ]; then
		feeder "$log" | $VMM run --kernel "$kernel" --initrd "$initrd" --mem "$mem" --vcpus "$VCPUS" \
			--cmdline "$cmd" $RUN_ARGS > "$log" 2>&1 &
	else
		$VMM run --kernel "$kernel" --initrd "$initrd" --mem "$mem" --vcpus "$VCPUS" \
			--cmdline "$cmd" $RUN_ARGS < /dev/null > "$log" 2>&1 &
	fi
	pid=$!
	# A hang is console silence: no byte from the guest or the VMM for HANG seconds. Every 30 s a
	# STRESS-PROGRESS line tells tests/stress/run that the appliance itself still works.
	last=-1 since=$t0 beat=$t0 hung=0
	while kill -0 "$pid" 2>/dev/null; do
		size=$(wc -c < "$log")
		now=$(date +%s)
		if [ "$size" != "$last" ]; then last=$size since=$now; fi
		if [ $((now - since)) -ge "$HANG" ]; then
			hung=1
			kill -9 "$pid" 2>/dev/null
			break
		fi
		if [ $((now - beat)) -ge 30 ]; then
			echo "STRESS-PROGRESS $i $kind $size bytes after $((now - t0)) s"
			beat=$now
		fi
		sleep 1
	done
	# The feeder ends on this, and only then does a typed guest's pipeline end.
	touch "$log.done"
	wait "$pid"
	rc=$?
	secs=$(($(date +%s) - t0))
	ready=$(grep -c 'SHRIKE-DEMO-GUEST READY' "$log")
	triple=$(grep -c 'guest triple fault' "$log")
	echoed=$(tr -d '\r' < "$log" | grep -c '^typed-[0-9]*-x*$')
	flood=$(grep -c 'STRESS-FLOOD-DONE' "$log")
	result=ok
	if [ "$triple" -gt 0 ]; then result=triple-fault
	elif [ "$hung" = 1 ]; then result=hang
	elif [ "$rc" != 0 ]; then result=exit-$rc
	elif [ "$kind" = flood ]; then
		# The demo init's READY line may still wait behind the flood when the flood powers off.
		[ "$flood" = 0 ] && result=flood-cut
	elif [ "$ready" = 0 ]; then result=no-ready
	elif [ "$kind" = typed ] && [ "$echoed" != "$TYPED_LINES" ]; then result=typed-lost
	fi
	{
		echo "STRESS-RESULT $i $kind $result rc=$rc ready=$ready secs=$secs typed=$echoed"
		if [ "$result" != ok ]; then
			# awk ends every line, also a last one the guest left unfinished, so STRESS-END starts a line.
			grep -E 'shrike: error|too much work|Kernel panic|BUG:|Oops' "$log" | tr -d '\r' |
				awk -v p="STRESS-ERROR $i: " '{ print p $0 }'
			tail -n 25 "$log" | tr -d '\r' | awk -v p="STRESS-TAIL $i: " '{ print p $0 }'
		fi
	} > "$res"
	cat "$res"
}

i=0
running=0
for kind in $1; do
	i=$((i + 1))
	run_one "$i" "$kind" &
	running=$((running + 1))
	if [ "$running" -ge "$PARALLEL" ]; then
		wait
		running=0
	fi
done
wait
echo "STRESS-END $i"

"""Drive a QEMU whose serial console (muxed with the monitor) is on stdio.

A test starts QEMU, waits for console text with a timeout, types into the console or
the monitor, and waits for QEMU to exit. Everything QEMU prints goes to a log file so
a failure can be read afterwards.
"""
import os
import re
import select
import signal
import socket
import subprocess
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConsoleTimeout(Exception):
    pass


class Qemu:
    def __init__(self, cmd, log_path):
        self.log = open(log_path, "wb")
        self.log.write(("$ " + " ".join(cmd) + "\n").encode())
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.buf = b""
        self.pos = 0  # expect() searches from here: earlier text was consumed

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0))
        if not r:
            return True
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return False
        self.buf += data
        self.log.write(data)
        self.log.flush()
        return True

    def expect(self, pattern, timeout):
        """Wait until pattern (a regex) appears after the last match; return the match."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConsoleTimeout(f"no {pattern!r} within {timeout} s")
            if not self._read(min(left, 1.0)):
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise ConsoleTimeout(f"QEMU exited (status {self.proc.wait()}) before {pattern!r}")

    def expect_line(self, pattern, timeout):
        """Like expect(), but only once the whole line has arrived: returns the match of
        pattern and the rest of its line (group "rest"), without the line end. A line may
        end in several \\r: a guest's \\r\\n through a terminal that adds its own."""
        return self.expect(f"(?:{pattern})(?P<rest>[^\\r\\n]*)\\r*\\n", timeout)

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def monitor(self, command):
        """Run a QEMU monitor command through the mon:stdio mux (Ctrl-a c toggles)."""
        self.send("\x01c")
        self.expect(r"\(qemu\) ", 10)
        self.send(command + "\n")
        self.send("\x01c")

    def wait_exit(self, timeout):
        """Return QEMU's exit status, reading its output until it exits."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConsoleTimeout(f"QEMU still running after {timeout} s")
            if not self._read(min(left, 1.0)):
                break
        return self.proc.wait(timeout=max(deadline - time.monotonic(), 1))

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def dump_cpus(self):
        """Write QEMU's view of every CPU of the appliance to the log. Under TCG, a CPU that is running a guest of
        the appliance (SVM guest mode) shows that guest's registers: where a silent guest is stuck."""
        if self.proc.poll() is not None:
            return
        self.log.write(b"\n[test: QEMU's view of the appliance's CPUs when the test gave up]\n")
        try:
            self.monitor("info registers -a")
            end = time.monotonic() + 3
            while time.monotonic() < end and self._read(end - time.monotonic()):
                pass
        except (ConsoleTimeout, OSError) as e:
            self.log.write(f"[test: no monitor answer: {e}]\n".encode())

    def __exit__(self, exc_type, *exc):
        if exc_type is not None and issubclass(exc_type, (ConsoleTimeout, AssertionError)):
            self.dump_cpus()
        self.close()

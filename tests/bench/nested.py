"""What the nested benchmarks share: a disk that brings the build host's QEMU into the appliance, and the
appliance booted to a plain shell with that disk and the data partition mounted."""
import os
import re
import shutil
import subprocess
import tempfile

QEMU = "/usr/bin/qemu-system-x86_64"


def tools_disk(path):
    """An ext4 image labelled shrike-bench with QEMU, its libraries and firmware under /qemu."""
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "qemu")
        os.makedirs(os.path.join(root, "lib"))
        os.makedirs(os.path.join(root, "share"))
        shutil.copy(QEMU, root)
        loader = None
        for line in subprocess.run(["ldd", QEMU], capture_output=True, text=True, check=True).stdout.splitlines():
            m = re.search(r"(/\S+)", line.split("=>")[-1])
            if not m:
                continue
            lib = m.group(1)
            shutil.copy(lib, os.path.join(root, "lib", os.path.basename(lib)))
            if "ld-linux" in lib:
                loader = os.path.basename(lib)
        for fw in ("bios-microvm.bin", "qboot.rom"):
            src = os.path.join("/usr/share/qemu", fw)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(root, "share"))
        assert loader, "ldd names no dynamic loader for QEMU"
        with open(os.path.join(root, "run"), "w") as f:
            f.write(f"#!/bin/sh\nexec /tools/qemu/lib/{loader} --library-path /tools/qemu/lib "
                    "/tools/qemu/qemu-system-x86_64 -L /tools/qemu/share \"$@\"\n")
        os.chmod(os.path.join(root, "run"), 0o755)
        subprocess.run(["mke2fs", "-q", "-t", "ext4", "-L", "shrike-bench", "-d", tmp, path, "512M"],
                       check=True)


def boot_shell(q):
    """Waits for the appliance's rdinit=/bin/sh prompt and mounts what the benchmarks use: /proc, /sys, /dev,
    /tmp, the data partition on /mnt (the demo guest's kernel and initrd) and the tools disk on /tools."""
    q.expect(r"# ", 240)
    q.send("mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; "
           "mount -t tmpfs tmp /tmp; mkdir -p /tools; mount -o ro LABEL=shrike-data /mnt && "
           "mount -o ro LABEL=shrike-bench /tools && echo mounted-$((40 + 2))\n")
    q.expect(r"mounted-42", 60)


def appliance_cmd(top, images, disk, free_port):
    """The launcher command: the appliance with a shell as its init and the tools disk attached."""
    return [os.path.join(top, "tools", "shrike-qemu"), "--images", images, "--mgmt-port", str(free_port()),
            "--append", "rdinit=/bin/sh", "--",
            "-drive", f"file={disk},format=raw,if=none,id=tools,snapshot=on", "-device", "virtio-blk-pci,drive=tools"]

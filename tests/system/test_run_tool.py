"""tools/run.py: prints the QEMU command it runs, passes arguments through,
and its --gdb mode gives a debugger that stops in the kernel with symbols."""
import os
import shlex
import socket
import subprocess

import pytest
from conftest import BSPS, ROOT, build

RUN = [os.path.join(ROOT, 'tools', 'run.py')]


def test_dry_run_prints_the_command():
    out = subprocess.run(RUN + ['--dry-run', '--bsp', 'qemu-virt64-aarch64', '--modern',
                                '--cpu', 'cortex-a72', '--machine-opts', 'gic-version=3',
                                '--disk', 'x.img,ro', '--', '-d', 'guest_errors'],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    assert out.startswith('+ qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a72')
    for part in ('-global virtio-mmio.force-legacy=off', '-nic none',
                 'file=x.img,if=none,format=raw,id=disk0,readonly=on',
                 '-device virtio-blk-device,drive=disk0', '-d guest_errors'):
        assert part in out, part
    legacy = subprocess.run(RUN + ['--dry-run', '--legacy'], stdout=subprocess.PIPE, text=True).stdout
    assert '-global virtio-mmio.force-legacy=on' in legacy


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.parametrize('bsp', BSPS)
def test_gdb_mode_stops_in_the_kernel(bsp):
    build(bsp)
    port = free_port()
    qemu = subprocess.Popen(RUN + ['--bsp', bsp, '--gdb', '--gdb-port', str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        banner = qemu.stdout.readline() + qemu.stdout.readline() + qemu.stdout.readline()
        assert '-gdb tcp::%d -S' % port in banner
        gdb_line = [l for l in banner.splitlines() if l.strip().startswith('gdb-multiarch')][0]
        assert f'target remote localhost:{port}' in gdb_line
        # The printed command as the user would paste it, plus the checks.
        argv = shlex.split(gdb_line) + ['-batch', '-nx', '-ex', 'break rtos_kernel_main',
                                        '-ex', 'continue', '-ex', 'bt 1']
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=60).stdout
        assert 'Breakpoint 1, rtos_kernel_main' in out, out
    finally:
        qemu.kill()
        qemu.wait(timeout=10)

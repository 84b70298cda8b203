"""Builds the QEMU command line for a BSP: one place, used by tools/run.py
and by the system tests, so what the tests boot is what a user boots."""

import os
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bsp_defaults(bsp):
    path = os.path.join(ROOT, 'bsp', bsp, 'qemu.toml')
    if not os.path.isfile(path):
        raise SystemExit(f'unknown BSP {bsp!r}: {path} not found')
    with open(path, 'rb') as f:
        return tomllib.load(f)


def build_dir(bsp, build=None):
    return os.path.abspath(build or os.path.join(ROOT, 'build', bsp))


def add_board_arguments(parser):
    """The options every tool that boots a build shares: --bsp, --build,
    --legacy / --modern (stored as args.virtio)."""
    parser.add_argument('--bsp', default='qemu-virt64-riscv')
    parser.add_argument('--build', help='build folder (default build/<bsp>)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--legacy', dest='virtio', action='store_const', const='legacy',
                      help='virtio-mmio devices as legacy (version 1): force-legacy=on')
    mode.add_argument('--modern', dest='virtio', action='store_const', const='modern',
                      help='virtio-mmio devices as modern (version 2): force-legacy=off')


def disk_args(disks):
    """-drive/-device pairs for virtio-blk disks. Each entry is a path, or
    'path,ro' for a read-only disk. The first one becomes vda."""
    argv = []
    for i, spec in enumerate(disks):
        path, _, flag = spec.partition(',')
        ro = ',readonly=on' if flag == 'ro' else ''
        argv += ['-drive', f'file={path},if=none,format=raw,id=disk{i}{ro}',
                 '-device', f'virtio-blk-device,drive=disk{i}']
    return argv


def command(bsp, build=None, virtio=None, cpu=None, memory=None, machine_opts=None,
            gdb=False, interactive=True, disks=(), extra=(), gdb_port=1234):
    """Returns the argv list.

    virtio: None (QEMU's default, legacy for virtio-mmio), 'legacy' or 'modern'.
    interactive: -nographic (serial and monitor on the terminal, Ctrl-A X quits);
    otherwise the serial port alone on stdio, for test harnesses.
    """
    d = bsp_defaults(bsp)
    machine = d['machine'] + (',' + machine_opts if machine_opts else '')
    argv = [d['binary'], '-M', machine]
    cpu = cpu or d.get('cpu')
    if cpu:
        argv += ['-cpu', cpu]
    argv += ['-m', memory or d['memory'], '-smp', '1']
    argv += list(d.get('args', []))
    if interactive:
        argv += ['-nographic']
    else:
        # signal=off: a Ctrl-C typed by a test reaches the guest's shell.
        argv += ['-display', 'none', '-monitor', 'none',
                 '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console']
    if virtio:
        argv += ['-global', 'virtio-mmio.force-legacy=' + ('on' if virtio == 'legacy' else 'off')]
    argv += ['-kernel', os.path.join(build_dir(bsp, build), 'rtos.elf')]
    argv += disk_args(disks)
    if gdb:  # halted at the first instruction, gdb server on gdb_port
        argv += ['-gdb', f'tcp::{gdb_port}', '-S']
    argv += list(extra)
    return argv


def gdb_command(bsp, build=None, gdb_port=1234):
    d = bsp_defaults(bsp)
    elf = os.path.join(build_dir(bsp, build), 'rtos.elf')
    return ['gdb-multiarch', '-q', '-ex', f'set architecture {d["gdb_arch"]}',
            '-ex', f'target remote localhost:{gdb_port}', elf]

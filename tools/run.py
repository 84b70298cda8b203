#!/usr/bin/python3
"""Boot a built image in QEMU with the BSP's default devices.

  tools/run.py [--bsp BSP] [--build DIR] [--legacy | --modern] [--cpu CPU]
               [--machine-opts OPTS] [-m SIZE] [--gdb] [--dry-run] [-- QEMU ARGS...]

Examples:
  tools/run.py                                   # riscv64, serial on this terminal
  tools/run.py --bsp qemu-virt64-aarch64 --cpu cortex-a72 --machine-opts gic-version=3
  tools/run.py --modern --disk disk.img           # virtio-blk disk (vda), created if missing
  tools/run.py --gdb                             # waits for the debugger; prints how to attach

Quit QEMU with Ctrl-A X (or the shell's poweroff).
"""
import argparse
import os
import shlex
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_cmd  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 2)[2])
    qemu_cmd.add_board_arguments(p)
    p.add_argument('--cpu', help='CPU model (aarch64: cortex-a53, cortex-a72, max)')
    p.add_argument('--machine-opts', help='extra -M options, e.g. gic-version=3')
    p.add_argument('-m', '--memory', help='RAM size, e.g. 1G')
    p.add_argument('--disk', action='append', default=[], metavar='FILE[,ro]',
                   help='attach a raw disk image as virtio-blk (repeatable; the first is vda); '
                        'created with 64 MiB of zeros if missing')
    p.add_argument('--gdb', action='store_true', help='start halted with a gdb server (port 1234)')
    p.add_argument('--gdb-port', type=int, default=1234, help='TCP port of the gdb server')
    p.add_argument('--dry-run', action='store_true', help='print the command, do not run it')
    p.add_argument('qemu_args', nargs=argparse.REMAINDER, help='after --: passed to QEMU')
    a = p.parse_args()
    extra = a.qemu_args[1:] if a.qemu_args[:1] == ['--'] else a.qemu_args
    qemu_cmd.bsp_defaults(a.bsp)  # an unknown BSP is reported before anything else
    elf = os.path.join(qemu_cmd.build_dir(a.bsp, a.build), 'rtos.elf')
    if not os.path.isfile(elf) and not a.dry_run:
        sys.exit(f'{elf} not found: build it first with  scons BSP={a.bsp}')
    for spec in a.disk:
        path = spec.partition(',')[0]
        if not os.path.exists(path) and not a.dry_run:
            try:
                with open(path, 'wb') as f:
                    f.truncate(64 << 20)
            except OSError as e:
                sys.exit(f'cannot create disk image {path}: {e.strerror}')
            print(f'created {path} (64 MiB)')
    argv = qemu_cmd.command(a.bsp, a.build, a.virtio, a.cpu, a.memory, a.machine_opts,
                            gdb=a.gdb, interactive=True, disks=a.disk, extra=extra,
                            gdb_port=a.gdb_port)
    print('+ ' + shlex.join(argv), flush=True)
    if a.gdb:
        print('In another terminal, attach with:\n  ' + shlex.join(qemu_cmd.gdb_command(a.bsp, a.build, a.gdb_port)),
              flush=True)
    if a.dry_run:
        return 0
    os.execvp(argv[0], argv)


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""Boot a built image in QEMU with the BSP's default devices.

  tools/run.py [--bsp BSP] [--build DIR] [--legacy | --modern]
               [--transport mmio|pci|pci-modern|pci-legacy] [--cpu CPU]
               [--machine-opts OPTS] [-m SIZE] [--disk FILE[,ro]] [--new-disk FILE,SIZE]
               [--net] [--hostfwd PROTO:HOSTPORT:GUESTPORT]... [--net-hdr10]
               [--flash [--flash-state FILE]] [--gdb] [--dry-run] [-- QEMU ARGS...]

The board is the one the build folder was configured for (its .config);
--bsp picks the default build folder build/<bsp> and must agree with --build.

Examples:
  tools/run.py                                   # riscv64, serial on this terminal
  tools/run.py --bsp qemu-virt64-aarch64 --cpu cortex-a72 --machine-opts gic-version=3
  tools/run.py --build build/qemu-virt64-aarch64  # the board comes from that build
  tools/run.py --modern --new-disk disk.img,64M   # create an empty 64 MiB disk (vda)
  tools/run.py --modern --disk disk.img           # attach it again (must exist)
  tools/run.py --gdb                             # waits for the debugger; prints how to attach
  tools/run.py --flash                           # boot flash.img (scons ... flash), no -kernel
  tools/run.py --hostfwd tcp:8080:80             # user network; host 127.0.0.1:8080 -> guest :80
  tools/run.py --transport pci-modern --disk disk.img --net   # virtio-blk-pci, virtio-net-pci

Quit QEMU with Ctrl-A X (or the shell's poweroff).
"""
import argparse
import os
import shlex
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flash_image  # noqa: E402
import qemu_cmd  # noqa: E402


class DiskAction(argparse.Action):
    """--disk and --new-disk share one list, so disks keep their order on the
    command line (the first is vda)."""

    def __call__(self, parser, namespace, value, option_string=None):
        namespace.disks = (namespace.disks or []) + [(option_string, value)]


def prepare_disks(p, disks, dry_run):
    """Checks every disk and creates the --new-disk ones (not in a dry run);
    returns the FILE[,ro] specs to attach."""
    specs = []
    for option, value in disks:
        if option == '--disk':
            if err := qemu_cmd.check_disk(value):
                p.error(err)
            specs.append(value)
            continue
        path, _, size_text = value.rpartition(',')
        size = qemu_cmd.parse_size(size_text)
        if not path or not size:
            p.error(f"--new-disk {value}: expected FILE,SIZE with SIZE like 64M, 512K or 1G")
        if os.path.exists(path):
            p.error(f'--new-disk {path}: it already exists; attach it with --disk {path} '
                    '(or remove it first)')
        if not dry_run:
            try:
                with open(path, 'xb') as f:
                    f.truncate(size)
            except OSError as e:
                p.error(f'--new-disk {path}: cannot create it: {e.strerror}')
            print(f'created {path} ({size_text}, zeros)', flush=True)
        specs.append(path)
    return specs


def prepare_flash_state(a):
    """The boot state file for pflash unit 1 (slot B's boot counter,
    tools/flash_image.py); a fresh one is created when missing (not in a dry
    run), as large as the board's pflash unit."""
    path = a.flash_state or os.path.join(qemu_cmd.build_dir(a.bsp, a.build), 'flash-state.img')
    if not os.path.exists(path) and not a.dry_run:
        size = qemu_cmd.parse_size(qemu_cmd.bsp_defaults(a.bsp)['flash_size'])
        with open(path, 'wb') as f:
            f.write(flash_image.new_state(size))
        print(f'created {path} (a fresh boot state)', flush=True)
    return path


HOSTFWD_PROTOS = ('tcp', 'udp')


def hostfwd(text):
    """PROTO:HOSTPORT:GUESTPORT -> QEMU's hostfwd value, always bound to
    127.0.0.1 so nothing outside this machine reaches the guest."""
    parts = text.split(':')
    ok = len(parts) == 3 and parts[0] in HOSTFWD_PROTOS and all(
        x.isdigit() and 0 < int(x) < 65536 for x in parts[1:])
    if not ok:
        raise argparse.ArgumentTypeError(
            f"'{text}': expected PROTO:HOSTPORT:GUESTPORT with PROTO tcp or udp and ports "
            "1..65535, e.g. tcp:8080:80")
    return f'{parts[0]}:127.0.0.1:{parts[1]}-:{parts[2]}'


def network_args(a):
    """QEMU arguments of --net / --hostfwd / --net-hdr10: one virtio-net device
    on QEMU's user network (the guest gets 10.0.2.15 by DHCP)."""
    if not (a.net or a.hostfwd or a.net_hdr10):
        return []
    netdev = ','.join(['user', 'id=n0'] + [f'hostfwd={f}' for f in a.hostfwd or []])
    device = (qemu_cmd.virtio_device('net', a.transport) + ',netdev=n0'
              + (',mrg_rxbuf=off' if a.net_hdr10 else ''))
    return ['-netdev', netdev, '-device', device]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 2)[2])
    qemu_cmd.add_board_arguments(p)
    qemu_cmd.add_transport_argument(p)
    p.add_argument('--cpu', help='CPU model (aarch64: cortex-a53, cortex-a72, max)')
    p.add_argument('--machine-opts', help='extra -M options, e.g. gic-version=3')
    p.add_argument('-m', '--memory', help='RAM size, e.g. 1G')
    p.add_argument('--smp', type=int, default=1, metavar='N',
                   help='number of CPUs (harts / cores), default 1')
    p.add_argument('--disk', action=DiskAction, dest='disks', metavar='FILE[,ro]',
                   help='attach an existing raw disk image as virtio-blk (repeatable; '
                        'the first disk is vda); a missing image is an error')
    p.add_argument('--new-disk', action=DiskAction, dest='disks', metavar='FILE,SIZE',
                   help='create FILE as SIZE (e.g. 64M) of zeros and attach it like --disk; '
                        'refused if FILE exists')
    p.add_argument('--net', action='store_true',
                   help='a virtio-net device on QEMU\'s user network (DHCP gives 10.0.2.15)')
    p.add_argument('--hostfwd', action='append', type=hostfwd, metavar='PROTO:HOSTPORT:GUESTPORT',
                   help='forward 127.0.0.1:HOSTPORT on this machine to the guest\'s GUESTPORT '
                        '(tcp or udp; repeatable; implies --net)')
    p.add_argument('--net-hdr10', action='store_true',
                   help='the network device without mergeable receive buffers (mrg_rxbuf=off: '
                        'a legacy device then uses the 10-byte header; implies --net)')
    p.add_argument('--flash', action='store_true',
                   help='boot <build>/flash.img (written by scons BSP=<bsp> flash) from pflash '
                        'unit 0 instead of rtos.elf with -kernel, with the boot state '
                        '<build>/flash-state.img on unit 1 (created when missing)')
    p.add_argument('--flash-state', metavar='FILE',
                   help='with --flash: this boot state file instead (created when missing)')
    p.add_argument('--gdb', action='store_true', help='start halted with a gdb server (port 1234)')
    p.add_argument('--gdb-port', type=int, default=1234, help='TCP port of the gdb server')
    p.add_argument('--dry-run', action='store_true', help='print the command, do not run it')
    p.add_argument('qemu_args', nargs=argparse.REMAINDER, help='after --: passed to QEMU')
    a = p.parse_args()
    extra = network_args(a) + (a.qemu_args[1:] if a.qemu_args[:1] == ['--'] else a.qemu_args)
    qemu_cmd.resolve_board(p, a)
    if (err := qemu_cmd.missing_elf_message(a.bsp, a.build, a.flash)) and not a.dry_run:
        sys.exit(err)
    disks = prepare_disks(p, a.disks or [], a.dry_run)
    state = prepare_flash_state(a) if a.flash else None
    argv = qemu_cmd.command(a.bsp, a.build, a.virtio, a.cpu, a.memory, a.machine_opts,
                            gdb=a.gdb, interactive=True, disks=disks, extra=extra,
                            gdb_port=a.gdb_port, flash=a.flash, flash_state=state,
                            transport=a.transport, smp=a.smp)
    print('+ ' + shlex.join(argv), flush=True)
    if a.gdb:
        print('In another terminal, attach with:\n  ' + shlex.join(qemu_cmd.gdb_command(a.bsp, a.build, a.gdb_port)),
              flush=True)
    if a.dry_run:
        return 0
    os.execvp(argv[0], argv)


if __name__ == '__main__':
    sys.exit(main())

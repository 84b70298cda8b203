"""Builds the QEMU command line for a BSP: one place, used by tools/run.py,
tools/bench.py and the system tests, so what the tests boot is what a user
boots. Also the options those tools share (board, build folder, virtio mode,
disks) and how they are checked, and the free ports QEMU binds for them."""

import os
import random
import re
import shlex
import socket
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BSP = 'qemu-virt64-riscv'


def known_bsps():
    """The boards a build can be booted on: bsp/<name>/ with a defconfig (what
    scons accepts) and a qemu.toml (how to start QEMU)."""
    bsp_root = os.path.join(ROOT, 'bsp')
    return sorted(d for d in os.listdir(bsp_root)
                  if os.path.isfile(os.path.join(bsp_root, d, 'defconfig'))
                  and os.path.isfile(os.path.join(bsp_root, d, 'qemu.toml')))


def board_ram_size(bsp):
    """The board's RAM in bytes, written once: the default of PLATFORM_RAM_SIZE
    in bsp/<bsp>/Kconfig (the kernel's fallback), which QEMU's -m follows."""
    with open(os.path.join(ROOT, 'bsp', bsp, 'Kconfig')) as f:
        m = re.search(r'^config PLATFORM_RAM_SIZE\s*\n\s*default\s+(\w+)', f.read(), re.M)
    if not m:
        raise SystemExit(f'bsp/{bsp}/Kconfig gives no default for PLATFORM_RAM_SIZE')
    return int(m.group(1), 0)


def bsp_defaults(bsp):
    """bsp/<bsp>/qemu.toml, plus `memory` (QEMU's -m) from the board's Kconfig."""
    if bsp not in known_bsps():
        raise SystemExit(f"unknown BSP '{bsp}'; available: {', '.join(known_bsps())}")
    with open(os.path.join(ROOT, 'bsp', bsp, 'qemu.toml'), 'rb') as f:
        d = tomllib.load(f)
    d['memory'] = f'{board_ram_size(bsp) >> 20}M'
    return d


def build_dir(bsp, build=None):
    return os.path.abspath(build or os.path.join(ROOT, 'build', bsp))


def configured_bsp(build):
    """The board a build folder was configured for, from the board symbol its
    .config holds (bsp/<name>/Kconfig: CONFIG_BOARD_<NAME>=y); None when the
    folder has no .config or names no known board."""
    try:
        with open(os.path.join(build, '.config')) as f:
            text = f.read()
    except OSError:
        return None
    for bsp in known_bsps():
        symbol = 'CONFIG_BOARD_' + re.sub(r'[^A-Z0-9]', '_', bsp.upper())
        if re.search(rf'^{symbol}=y$', text, re.M):
            return bsp
    return None


def build_command(bsp, build=None):
    """The scons command that builds what build_dir(bsp, build) boots."""
    argv = ['scons', f'BSP={bsp}']
    if build and build_dir(bsp, build) != build_dir(bsp):
        argv.append(f'BUILD={build}')
    return shlex.join(argv)


def add_board_arguments(parser):
    """The options every tool that boots a build shares: --bsp, --build,
    --legacy / --modern (stored as args.virtio). Call resolve_board() after
    parsing."""
    parser.add_argument('--bsp', help='board folder under bsp/ (default: the board the --build '
                                      f'folder was configured for, else {DEFAULT_BSP})')
    parser.add_argument('--build', help='build folder (default build/<bsp>)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--legacy', dest='virtio', action='store_const', const='legacy',
                      help='virtio-mmio devices as legacy (version 1): force-legacy=on')
    mode.add_argument('--modern', dest='virtio', action='store_const', const='modern',
                      help='virtio-mmio devices as modern (version 2): force-legacy=off')
    mode.add_argument('--packed', dest='virtio', action='store_const', const='packed',
                      help='as --modern, and every virtio device offers the packed ring '
                           '(packed=on; also over --transport pci/pci-modern)')


def resolve_board(parser, args):
    """Sets args.bsp: the --bsp given, else the board the build folder's
    .config names, else DEFAULT_BSP. Refuses (parser.error) an unknown board
    and a --bsp that contradicts the build folder: booting one board's image
    in the other's QEMU hangs silently."""
    if args.bsp is not None and args.bsp not in known_bsps():
        parser.error(f"unknown BSP '{args.bsp}'; available: {', '.join(known_bsps())}")
    folder = build_dir(args.bsp or DEFAULT_BSP, args.build)
    configured = configured_bsp(folder)
    if args.bsp and configured and args.bsp != configured:
        parser.error(f'--bsp {args.bsp} contradicts the build folder {args.build or folder}: '
                     f'its .config is for {configured} (leave out --bsp, or give a build '
                     f'folder of {args.bsp})')
    args.bsp = args.bsp or configured or DEFAULT_BSP
    return args.bsp


def build_folders(near=None):
    """Configured build folders (with a .config): those in build/ and, for a
    path `near`, its siblings; shown relative to the current folder when
    inside it."""
    parents = {os.path.join(ROOT, 'build')}
    if near:
        parents.add(os.path.dirname(os.path.abspath(near)))
    found = set()
    for parent in parents:
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        found |= {os.path.join(parent, n) for n in names
                  if os.path.isfile(os.path.join(parent, n, '.config'))}
    cwd = os.getcwd()
    return sorted(os.path.relpath(f) if f.startswith(cwd + os.sep) else f for f in found)


def missing_elf_message(bsp, build=None, flash=False):
    """None when the build has an ELF (flash: a flash.img) to boot, else what
    to type to make one. A --build folder that does not exist (a typo, most
    likely) is named as such, with the build folders there are."""
    name = 'flash.img' if flash else 'rtos.elf'
    path = os.path.join(build_dir(bsp, build), name)
    if os.path.isfile(path):
        return None
    target = ' flash' if flash else ''
    if build and not os.path.isdir(build_dir(bsp, build)):
        import difflib
        folders = build_folders(build)
        close = difflib.get_close_matches(build, folders, n=1)
        return (f'build folder {build} does not exist'
                + (f' (did you mean {close[0]}?)' if close else '')
                + (f'; the build folders are: {", ".join(folders)}' if folders
                   else '; there are no build folders yet')
                + f'. To make a new one: {build_command(bsp, build)}{target}')
    return f'{path} not found: build it first with: {build_command(bsp, build)}{target}'


SIZE_RE = re.compile(r'^(\d+)([KMG]?)$', re.I)


def parse_size(text):
    """'64M' -> bytes (K, M, G are powers of 1024; no suffix is bytes); None if malformed."""
    m = SIZE_RE.match(text.strip())
    if not m:
        return None
    return int(m.group(1)) << {'': 0, 'K': 10, 'M': 20, 'G': 30}[m.group(2).upper()]


def check_disk(spec, hint=None):
    """An error message when a --disk FILE[,ro] spec cannot be attached, else None.
    A missing image is an error: a typo must not become a new empty disk.
    hint: what the tool offers instead (default: run.py's --new-disk)."""
    path, _, flag = spec.partition(',')
    if flag not in ('', 'ro'):
        return f"--disk {spec}: unknown flag '{flag}' (FILE or FILE,ro)"
    if not os.path.isfile(path):
        hint = hint or f'to create an empty one, use --new-disk {path},SIZE, e.g. {path},64M'
        return f'--disk {path}: no such disk image ({hint})'
    return None


# --transport: which bus the virtio devices the tools attach sit on, and for
# PCI which interfaces they present (-global on the abstract virtio-pci type
# reaches every virtio-*-pci device, also those given after --). No option
# ROM for virtio-net-pci: Debian's QEMU lacks efi-virtio.rom (and -kernel
# boots need none). ioeventfd=off: QEMU handles a queue notification in the
# vCPU's own thread, as it does for virtio-mmio under TCG; with ioeventfd its
# I/O thread raises the interrupt. (That once lost riscv64 interrupts: the
# line was often asserted before the driver enabled it at the PLIC, and QEMU
# 7.2's PLIC does not re-evaluate on an enable write; plic.cpp now writes
# the priority last, and test_console.py runs its PCI cases with ioeventfd=on.)
# virtio-input-pci has no ioeventfd property (a global on virtio-pci would
# make QEMU refuse it), hence one global per device type that has one.
_PCI_COMMON = ['-global', 'virtio-net-pci.romfile='] + [
    arg for dev in ('blk', 'net', 'serial', 'rng', 'gpu')
    for arg in ('-global', f'virtio-{dev}-pci.ioeventfd=off')]
TRANSPORTS = {
    'mmio': [],
    'pci': ['-global', 'virtio-pci.disable-legacy=off', '-global', 'virtio-pci.disable-modern=off'] + _PCI_COMMON,
    'pci-modern': ['-global', 'virtio-pci.disable-legacy=on', '-global', 'virtio-pci.disable-modern=off'] + _PCI_COMMON,
    'pci-legacy': ['-global', 'virtio-pci.disable-legacy=off', '-global', 'virtio-pci.disable-modern=on'] + _PCI_COMMON,
}


def virtio_device(kind, transport='mmio'):
    """QEMU's device name of a virtio device on the transport: ('blk', 'mmio')
    -> 'virtio-blk-device', ('serial', 'pci-modern') -> 'virtio-serial-pci'."""
    return f'virtio-{kind}-' + ('device' if transport == 'mmio' else 'pci')


def add_transport_argument(parser):
    parser.add_argument('--transport', choices=list(TRANSPORTS), default='mmio',
                        help='bus of the virtio devices attached: mmio (default; --legacy/--modern '
                             'pick the version), pci (transitional: modern and legacy interface), '
                             'pci-modern (modern only, disable-legacy=on), pci-legacy (legacy only, '
                             'disable-modern=on)')


def disk_args(disks, transport='mmio'):
    """-drive/-device pairs for virtio-blk disks. Each entry is a path, or
    'path,ro' for a read-only disk, or 'path,unsafe' for a scratch disk whose
    flushes QEMU need not make durable (cache=unsafe: no host fdatasync per
    flush). Under -icount, boot with sleep on when a disk is attached (see
    tools/bench.py's ICOUNT_IO). The first one becomes vda."""
    argv = []
    for i, spec in enumerate(disks):
        path, _, flag = spec.partition(',')
        opts = {'': '', 'ro': ',readonly=on', 'unsafe': ',cache=unsafe'}[flag]
        argv += ['-drive', f'file={path},if=none,format=raw,id=disk{i}{opts}',
                 '-device', f'{virtio_device("blk", transport)},drive=disk{i}']
    return argv


def command(bsp, build=None, virtio=None, cpu=None, memory=None, machine_opts=None,
            gdb=False, interactive=True, disks=(), extra=(), gdb_port=1234, flash=False,
            flash_image=None, flash_state=None, transport='mmio', smp=1):
    """Returns the argv list.

    smp: how many CPUs (harts / cores) the board has.

    flash: boot a flash image (default <build>/flash.img, from scons ...
    flash) from pflash unit 0 instead of loading rtos.elf with -kernel.
    Read-only, so the file stays what scons wrote. flash_state: the boot
    state file for pflash unit 1 (slot B's boot counter), if any.

    virtio: None (QEMU's default, legacy for virtio-mmio), 'legacy', 'modern', or
    'packed' (modern, and every virtio device offers VIRTIO_F_RING_PACKED).
    transport: a TRANSPORTS key, for the disks and the virtio-pci globals.
    interactive: -nographic (serial and monitor on the terminal, Ctrl-A X quits);
    otherwise the serial port alone on stdio, for test harnesses.
    """
    d = bsp_defaults(bsp)
    machine = d['machine'] + (',' + machine_opts if machine_opts else '')
    argv = [d['binary'], '-M', machine]
    cpu = cpu or d.get('cpu')
    if cpu:
        argv += ['-cpu', cpu]
    argv += ['-m', memory or d['memory'], '-smp', str(smp)]
    argv += list(d.get('args', []))
    if interactive:
        argv += ['-nographic']
    else:
        # signal=off: a Ctrl-C typed by a test reaches the guest's shell.
        argv += ['-display', 'none', '-monitor', 'none',
                 '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console']
    if virtio:
        argv += ['-global', 'virtio-mmio.force-legacy=' + ('on' if virtio == 'legacy' else 'off')]
    if virtio == 'packed':  # the abstract type reaches every virtio device, on any transport
        argv += ['-global', 'virtio-device.packed=on']
    argv += TRANSPORTS[transport]
    if flash:
        argv += ['-drive', 'if=pflash,unit=0,format=raw,readonly=on,file=' +
                 (flash_image or os.path.join(build_dir(bsp, build), 'flash.img'))]
        if flash_state:
            argv += ['-drive', f'if=pflash,unit=1,format=raw,file={flash_state}']
    else:
        argv += ['-kernel', os.path.join(build_dir(bsp, build), 'rtos.elf')]
    argv += disk_args(disks, transport)
    if gdb:  # halted at the first instruction, gdb server on 127.0.0.1:gdb_port
        argv += ['-gdb', f'tcp:127.0.0.1:{gdb_port}', '-S']
    argv += list(extra)
    return argv


def free_ports(n, kind=socket.SOCK_STREAM):
    """n distinct free ports on 127.0.0.1 (TCP or UDP) for QEMU to bind (host
    forwards, its gdb server, socket back-ends), drawn at random below
    Linux's ephemeral range (32768-60999): the kernel numbers sockets from
    that range itself (the other worker's clients, QEMU's own), so a port
    found free there could be taken before QEMU binds it ("Could not set up
    host forwarding rule")."""
    rng = random.SystemRandom()
    ports = []
    while len(ports) < n:
        port = rng.randrange(20000, 32768)
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(('127.0.0.1', port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
    return ports


def gdb_command(bsp, build=None, gdb_port=1234):
    """gdb-multiarch with the ELF, the kernel helpers (tools/gdb/tern.py: tern
    threads, tern bt) and the connection to QEMU's gdb server."""
    d = bsp_defaults(bsp)
    elf = os.path.join(build_dir(bsp, build), 'rtos.elf')
    return ['gdb-multiarch', '-q', '-ex', f'set architecture {d["gdb_arch"]}',
            '-ex', f'source {os.path.join(ROOT, "tools", "gdb", "tern.py")}',
            '-ex', f'target remote 127.0.0.1:{gdb_port}', elf]

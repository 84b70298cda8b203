"""tools/run.py: prints the QEMU command it runs, passes arguments through,
takes the board from the build folder, refuses what would boot the wrong
thing (a contradicting --bsp, a missing disk image), and its --gdb mode gives
a debugger that stops in the kernel with symbols."""
import os
import re
import shlex
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pexpect
import pytest
import qemu_cmd
from conftest import BSPS, ROOT, build

RUN = [os.path.join(ROOT, 'tools', 'run.py')]
BENCH = [os.path.join(ROOT, 'tools', 'bench.py')]


def run(*args, tool=RUN):
    return subprocess.run(tool + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)


def fake_build(path, bsp='qemu-virt64-riscv'):
    """A build folder as scons leaves it, as far as the tools look: the board
    in .config and an ELF (empty: these tests never boot it)."""
    os.makedirs(path, exist_ok=True)
    symbol = 'CONFIG_BOARD_' + bsp.upper().replace('-', '_')
    with open(os.path.join(path, '.config'), 'w') as f:
        f.write(f'# Generated\n{symbol}=y\n')
    open(os.path.join(path, 'rtos.elf'), 'wb').close()
    return str(path)


def test_dry_run_prints_the_command(tmp_path):
    (tmp_path / 'x.img').write_bytes(b'')
    out = subprocess.run(RUN + ['--dry-run', '--bsp', 'qemu-virt64-aarch64', '--modern',
                                '--cpu', 'cortex-a72', '--machine-opts', 'gic-version=3',
                                '--disk', 'x.img,ro', '--', '-d', 'guest_errors'],
                         stdout=subprocess.PIPE, text=True, check=True, cwd=tmp_path).stdout
    assert out.startswith('+ qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a72')
    for part in ('-global virtio-mmio.force-legacy=off', '-nic none',
                 'file=x.img,if=none,format=raw,id=disk0,readonly=on',
                 '-device virtio-blk-device,drive=disk0', '-d guest_errors'):
        assert part in out, part
    legacy = subprocess.run(RUN + ['--dry-run', '--legacy'], stdout=subprocess.PIPE, text=True).stdout
    assert '-global virtio-mmio.force-legacy=on' in legacy


@pytest.mark.parametrize('transport, globals_', [
    ('pci', 'virtio-pci.disable-legacy=off -global virtio-pci.disable-modern=off'),
    ('pci-modern', 'virtio-pci.disable-legacy=on -global virtio-pci.disable-modern=off'),
    ('pci-legacy', 'virtio-pci.disable-legacy=off -global virtio-pci.disable-modern=on')])
def test_dry_run_transport_puts_devices_on_pci(tmp_path, transport, globals_):
    (tmp_path / 'x.img').write_bytes(b'')
    out = subprocess.run(RUN + ['--dry-run', '--transport', transport, '--disk', 'x.img', '--net'],
                         stdout=subprocess.PIPE, text=True, check=True, cwd=tmp_path).stdout
    for part in ('-global ' + globals_, '-device virtio-blk-pci,drive=disk0',
                 '-device virtio-net-pci,netdev=n0', '-global virtio-net-pci.ioeventfd=off'):
        assert part in out, part
    assert 'virtio-blk-device' not in out and 'force-legacy' not in out


def read_lines(stream, n, timeout):
    """The first n lines of stream, waiting at most timeout seconds for them
    (a reader thread: readline itself cannot time out)."""
    lines = []

    def reader():
        for _ in range(n):
            lines.append(stream.readline())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f'{len(lines)} of {n} lines in {timeout} s: {lines}'
    return ''.join(lines)


@pytest.mark.parametrize('bsp', BSPS)
def test_gdb_mode_stops_in_the_kernel(bsp):
    build(bsp)
    (port,) = qemu_cmd.free_ports(1)
    qemu = subprocess.Popen(RUN + ['--bsp', bsp, '--gdb', '--gdb-port', str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        banner = read_lines(qemu.stdout, 3, timeout=60)
        assert '-gdb tcp:127.0.0.1:%d -S' % port in banner
        gdb_line = [l for l in banner.splitlines() if l.strip().startswith('gdb-multiarch')][0]
        assert f'target remote 127.0.0.1:{port}' in gdb_line
        # The printed command as the user would paste it, plus the checks.
        argv = shlex.split(gdb_line) + ['-batch', '-nx', '-ex', 'break rtos_kernel_main',
                                        '-ex', 'continue', '-ex', 'bt 1']
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=60).stdout
        assert 'Breakpoint 1, rtos_kernel_main' in out, out
    finally:
        qemu.kill()
        qemu.wait(timeout=10)


def test_board_comes_from_the_build_folder():
    """Without --bsp, an aarch64 build boots in qemu-system-aarch64 (it used to
    be booted in qemu-system-riscv64 and hang after OpenSBI)."""
    out = build('qemu-virt64-aarch64')
    r = run('--dry-run', '--build', out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('+ qemu-system-aarch64 -M virt -cpu cortex-a53'), r.stdout
    assert f'-kernel {out}/rtos.elf' in r.stdout


@pytest.mark.parametrize('tool', ['run', 'bench'])
def test_a_bsp_contradicting_the_build_folder_is_refused(tmp_path, tool):
    folder = fake_build(tmp_path / 'a64', 'qemu-virt64-aarch64')
    r = run('--bsp', 'qemu-virt64-riscv', '--build', folder, *(['--dry-run'] if tool == 'run' else []),
            tool=RUN if tool == 'run' else BENCH)
    assert r.returncode == 2, r
    assert (f'--bsp qemu-virt64-riscv contradicts the build folder {folder}: '
            'its .config is for qemu-virt64-aarch64') in r.stderr, r.stderr
    assert 'qemu-system' not in r.stdout
    # Agreeing options are fine.
    assert run('--bsp', 'qemu-virt64-aarch64', '--build', folder, '--dry-run').returncode == 0


def test_missing_elf_names_the_exact_build_command(tmp_path):
    folder = str(tmp_path / 'not built')
    os.mkdir(folder)  # made, but not built (a missing one is a typo: below)
    r = run('--bsp', 'qemu-virt64-aarch64', '--build', folder)
    assert r.returncode == 1
    assert r.stderr.strip() == (f'{folder}/rtos.elf not found: build it first with: '
                                f"scons BSP=qemu-virt64-aarch64 'BUILD={folder}'")
    assert '  ' not in r.stderr
    # The default folder needs no BUILD=; a relative one is kept as typed.
    assert qemu_cmd.build_command('qemu-virt64-riscv') == 'scons BSP=qemu-virt64-riscv'
    default = os.path.join(ROOT, 'build', 'qemu-virt64-riscv')
    assert qemu_cmd.build_command('qemu-virt64-riscv', default) == 'scons BSP=qemu-virt64-riscv'
    assert (qemu_cmd.build_command('qemu-virt64-riscv', 'build/x')
            == 'scons BSP=qemu-virt64-riscv BUILD=build/x')


def test_a_build_folder_that_does_not_exist_is_named_with_the_existing_ones(tmp_path):
    """A typo in --build is not a new folder to build: it does not exist, and
    the folders that do (beside it and in build/) are listed."""
    for name in ('riscv', 'aarch64'):
        fake_build(tmp_path / name, f'qemu-virt64-{name}')
    typo = str(tmp_path / 'risc')
    r = run('--build', typo)
    assert r.returncode == 1
    err = r.stderr.strip()
    assert err.startswith(f'build folder {typo} does not exist (did you mean {tmp_path}/riscv?); '
                          'the build folders are: '), err
    assert f'{tmp_path}/aarch64' in err and f'{tmp_path}/riscv' in err, err
    assert err.endswith(f'. To make a new one: scons BSP=qemu-virt64-riscv BUILD={typo}'), err


def test_unknown_bsp_lists_the_boards():
    r = run('--bsp', 'nonexistent', '--dry-run')
    assert r.returncode == 2
    assert "unknown BSP 'nonexistent'; available: " + ', '.join(sorted(BSPS)) in r.stderr


def test_a_missing_disk_image_is_an_error(tmp_path):
    folder = fake_build(tmp_path / 'rv')
    img = tmp_path / 'typo.img'
    for tool in (RUN, BENCH):
        r = run('--build', folder, '--disk', str(img), tool=tool)
        assert r.returncode != 0
        assert f'--disk {img}: no such disk image' in r.stderr, r.stderr
        assert ('--new-disk' if tool == RUN else 'temporary scratch disk') in r.stderr
        assert not img.exists()
        assert 'qemu-system' not in r.stdout + r.stderr
    r = run('--build', folder, '--disk', str(img), '--dry-run')
    assert r.returncode == 2 and 'no such disk image' in r.stderr
    r = run('--build', folder, '--disk', f'{img},rw', '--dry-run')
    assert r.returncode == 2 and "unknown flag 'rw'" in r.stderr


def test_new_disk_is_created_once_and_booted(tmp_path):
    """--new-disk FILE,SIZE creates the image and attaches it as vda; it
    refuses to touch an existing file."""
    out = build('qemu-virt64-riscv')
    img = tmp_path / 'new.img'
    g = pexpect.spawn(RUN[0], ['--build', out, '--modern', '--new-disk', f'{img},2M'],
                      encoding='utf-8', codec_errors='replace', timeout=60, echo=False)
    try:
        g.expect(re.escape(f'created {img} (2M, zeros)'))
        g.expect(r'vda 4096 sectors')
        g.expect('msh> ')
        g.send('poweroff\r')
        g.expect(pexpect.EOF)
    finally:
        g.close(force=True)
    assert img.stat().st_size == 2 << 20
    r = run('--build', out, '--new-disk', f'{img},2M', '--dry-run')
    assert r.returncode == 2
    assert f'--new-disk {img}: it already exists; attach it with --disk {img}' in r.stderr
    for bad in (f'{tmp_path}/x.img', f'{tmp_path}/x.img,0', f'{tmp_path}/x.img,lots'):
        r = run('--build', out, '--new-disk', bad)
        assert r.returncode == 2 and 'expected FILE,SIZE' in r.stderr, (bad, r.stderr)


def test_hostfwd_reaches_the_guest_from_127_0_0_1(tmp_path):
    """--hostfwd PROTO:HOSTPORT:GUESTPORT boots with a virtio-net device on the
    user network and forwards 127.0.0.1:HOSTPORT (never another address): the
    net example's status page answers there. Bad forms are refused."""
    out = build('qemu-virt64-riscv', 'riscv-net-demo', ('examples/net/net.conf',))
    (port,) = qemu_cmd.free_ports(1)
    r = run('--build', out, '--hostfwd', f'tcp:{port}:80', '--hostfwd', 'udp:7007:7', '--dry-run')
    assert (f'-netdev user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:80,'
            'hostfwd=udp:127.0.0.1:7007-:7 -device virtio-net-device,netdev=n0') in r.stdout
    r = run('--build', out, '--net-hdr10', '--dry-run')
    assert '-device virtio-net-device,netdev=n0,mrg_rxbuf=off' in r.stdout
    for bad in ('tcp:80', 'sctp:1:2', 'tcp:0:80', 'tcp:8080:99999', 'tcp:x:80'):
        r = run('--build', out, '--hostfwd', bad, '--dry-run')
        assert r.returncode == 2 and 'expected PROTO:HOSTPORT:GUESTPORT' in r.stderr, bad
    g = pexpect.spawn(RUN[0], ['--build', out, '--modern', '--hostfwd', f'tcp:{port}:80'],
                      encoding='utf-8', codec_errors='replace', timeout=60, echo=False)
    try:
        g.expect(r'net: dhcp bound 10\.0\.2\.15')
        g.send('\r')  # the first prompt may have come before the lease
        g.expect('msh> ')
        # The server thread may still be between start and listen: retry a
        # refused or reset connection for a few seconds.
        for attempt in range(20):
            try:
                page = urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=30).read()
                break
            except (ConnectionError, urllib.error.URLError):
                if attempt == 19:
                    raise
                time.sleep(0.5)
        page = page.decode()
        assert 'Tern' in page and 'threads' in page, page[:500]
        g.send('poweroff\r')
        g.expect(pexpect.EOF)
    finally:
        g.close(force=True)

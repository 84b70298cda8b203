"""Hostile traffic through real QEMU devices (docs/fuzzing.md): the guest
must keep working, checked from the host.

* Frames: tens of thousands of malformed Ethernet frames (hostile.py:
  truncated and oversized IP, UDP, TCP and ICMP headers, bad checksums and
  lengths, fragments at any offset, ARP with wrong sizes, VLAN stacks, runts,
  random bytes) from a host socket into the guest's first NIC
  (-netdev dgram on 127.0.0.1; the guest has an address there and serves
  its TCP and UDP echo on it too), while a TCP stream through the second
  NIC (user networking, a 127.0.0.1 host forward to the echo) comes back
  byte for byte, round after round.
* Bytes: random bytes into the UART and into every virtio-console port
  (examples/console: the shell on port 0, the echo and upper-case services);
  the shell still answers on both, the services still echo exactly.
* Arguments: every command `help` lists, with missing, extra, negative,
  huge, non-numeric, empty and over-long arguments: each ends with usage
  or a clear error (or its normal output), back at the prompt; one that
  runs long stops on Ctrl-C; none crashes the guest.

Each test prints its counts (`hostile: ...`)."""
import contextlib
import os
import random
import re
import select
import socket
import threading
import time

import pytest
from conftest import BSPS, ROOT, build
from guest import PROMPT
from hostile import Frames
from qemu_cmd import free_ports
from test_console import connect as unix_connect
from test_console import echo_round, recv_until, serial_args, sockdir, upper_round  # noqa: F401
from test_net import tcp_echo

# One image for the three tests: every device driver, the network servers
# and the console services, the shell mirrored on virtio-console port 0.
CONFIG = ('tests/configs/devices-all.conf', 'examples/net/net.conf',
          'examples/console/console.conf', 'tests/configs/virtio-console-shell.conf')
FRAMES = 20000
ECHO_ROUND = 256 << 10
UART_BYTES = 64 << 10
PORT_BYTES = 64 << 10
# Never run with arguments whose meaning is to stop the machine: they are
# run with wrong arguments only (which must not stop it).
DESTRUCTIVE = ('reboot', 'poweroff', 'hang', 'ktest-overflow')
# What a dying kernel prints (rtos/kernel/panic.cpp: every trap, overflow
# and failed check ends there).
FATAL = re.compile(r'PANIC: ')
BANNER = re.compile(r'Tern \S+ \(qemu-virt64-\w+, \w+\) booting')


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


def image(bsp):
    return build(bsp, f'{arch(bsp)}-hostile', CONFIG)


def report(line):
    """Prints a count line and keeps it in build/test-results/hostile.txt."""
    print(line)
    os.makedirs(os.path.join(ROOT, 'build', 'test-results'), exist_ok=True)
    with open(os.path.join(ROOT, 'build', 'test-results', 'hostile.txt'), 'a') as f:
        f.write(line + '\n')


def no_fatal(text, whole_log=False):
    """No panic in text; in the whole serial log, one boot only."""
    m = FATAL.search(text)
    assert not m, f'{m.group(0)!r} in:\n{text[m.start() - 2000:m.end() + 1000]}'
    if whole_log:
        assert len(BANNER.findall(text)) == 1, 'the guest restarted'


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_hostile_frames(boot, bsp):
    out = image(bsp)
    guest_port, host_port = free_ports(2, socket.SOCK_DGRAM)
    (echo_port,) = free_ports(1, socket.SOCK_STREAM)
    # eth0: the hostile link (probed first: the first -device); eth1: user networking.
    extra = ['-netdev', f'dgram,id=h0,local.type=inet,local.host=127.0.0.1,local.port={guest_port},'
                        f'remote.type=inet,remote.host=127.0.0.1,remote.port={host_port}',
             '-device', 'virtio-net-device,netdev=h0,mac=52:54:00:00:00:0a',
             '-netdev', f'user,id=n0,hostfwd=tcp:127.0.0.1:{echo_port}-:7',
             '-device', 'virtio-net-device,netdev=n0']
    g = boot(bsp, out, virtio='modern', wait_prompt=False, extra=extra, timeout=60)
    log = g.wait_prompt()
    if 'net: dhcp bound' not in log:
        log += g.expect(r'net: dhcp bound \S+\s', timeout=30)
    assert g.run('ifconfig 10.0.3.1 255.255.255.0') == 'net: eth0 address 10.0.3.1\n'
    info = g.run('ifconfig')
    assert re.search(r'eth0: mac 52:54:00:00:00:0a .*\n\s+inet 10\.0\.3\.1 ', info), info
    assert re.search(r'eth1: .*\n\s+inet 10\.0\.2\.15 ', info), info

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', host_port))
    sock.setblocking(False)
    frames = Frames(f'frames-{bsp}')
    sent = {'frames': 0, 'bytes': 0, 'replies': 0}
    done = threading.Event()

    def storm():
        try:
            for i in range(FRAMES):
                f = frames.frame()
                sock.sendto(f, ('127.0.0.1', guest_port))
                sent['frames'] += 1
                sent['bytes'] += len(f)
                # Paced, so most frames find a receive buffer (QEMU drops
                # what finds none); what comes back is read and counted.
                if i % 16 == 15:
                    time.sleep(0.004)
                    while select.select([sock], [], [], 0)[0]:
                        sock.recv(65536)
                        sent['replies'] += 1
        finally:
            done.set()

    t = threading.Thread(target=storm)
    t.start()
    rnd = random.Random(bsp)
    rounds = 0
    try:
        while not done.is_set() or rounds < 2:
            tcp_echo(echo_port, rnd.randbytes(ECHO_ROUND))  # byte for byte, or it fails
            rounds += 1
    finally:
        t.join(120)
        sock.close()
    assert sent['frames'] == FRAMES

    # Still alive and still networking; the frames did arrive.
    no_fatal(g.output(), whole_log=True)
    assert g.run('echo alive') == 'alive\n'
    info = g.run('ifconfig')
    rx = re.search(r'eth0: [\s\S]*?rx packets (\d+)', info)
    assert rx and int(rx.group(1)) > FRAMES // 4, info
    assert 'ping: 1 sent, 1 received' in g.run('ping 10.0.2.2 1', timeout=20)
    tcp_echo(echo_port, rnd.randbytes(ECHO_ROUND))
    report(f'hostile: {arch(bsp)} {sent["frames"]} frames {sent["bytes"]} bytes '
           f'({", ".join(f"{k} {v}" for k, v in sorted(frames.kinds.items()))}), '
           f'{sent["replies"]} replies, eth0 rx {rx.group(1)}, '
           f'tcp echo {rounds + 1} x {ECHO_ROUND} bytes exact')


@contextlib.contextmanager
def uart_drained(g):
    """Reads the guest's UART output in a thread meanwhile: unread, it fills
    the terminal, QEMU blocks on it, and the shell, stuck in its echo, stops
    taking input."""
    stop = threading.Event()

    def read_echo():
        while not stop.is_set():
            try:
                g.p.read_nonblocking(65536, timeout=0.05)
            except Exception:  # pexpect.TIMEOUT: nothing yet
                pass

    reader = threading.Thread(target=read_echo)
    reader.start()
    try:
        yield
    finally:
        stop.set()
        reader.join(10)


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_hostile_console_bytes(boot, sockdir, bsp):  # noqa: F811 (the fixture)
    out = image(bsp)
    g = boot(bsp, out, virtio='modern', wait_prompt=False, extra=serial_args(sockdir), timeout=60)
    log = g.wait_prompt()
    for line in ('port 1 name org.rtos.echo', 'port 2 name org.rtos.upper'):
        if line not in log:
            g.expect(re.escape(line))
    rnd = random.Random(f'bytes-{bsp}')
    counts = {}

    # The UART: random bytes (Enter, Ctrl-C, escape sequences, anything),
    # in bursts, then the line is cleared and the shell must answer.
    # The guest's echo is read meanwhile (else QEMU blocks on the full
    # terminal and stops taking input).
    fd = g.p.child_fd
    sent = 0
    with uart_drained(g):
        while sent < UART_BYTES:
            chunk = rnd.randbytes(rnd.randrange(1, 512))
            for off in range(0, len(chunk), 64):
                select.select([], [fd], [], 10)
                os.write(fd, chunk[off:off + 64])
            sent += len(chunk)
            time.sleep(0.005)
    counts['uart'] = sent
    g.send('\x03\x15\r')
    time.sleep(1)
    g.send('echo uart survived\r')
    g.expect(r'uart survived\r*\n' + re.escape(PROMPT), timeout=60)

    # Every port: port 0 (the shell), the echo service, the upper-case one.
    # Port 0 takes only what the shell reads (flow control), and the shell
    # echoes on the UART too: that is read meanwhile, as above.
    with uart_drained(g):
        for port in ('c0', 'echo', 'upper'):
            s = unix_connect(f'{sockdir}/{port}')
            sent = 0
            stop = threading.Event()

            def drain(s=s):
                while not stop.is_set():
                    try:
                        if not s.recv(65536):
                            return
                    except OSError:
                        return

            t = threading.Thread(target=drain)
            t.start()
            try:
                while sent < PORT_BYTES:
                    chunk = rnd.randbytes(rnd.randrange(1, 2048))
                    s.sendall(chunk)
                    sent += len(chunk)
            finally:
                time.sleep(0.5)
                stop.set()
                s.shutdown(socket.SHUT_RDWR)
                s.close()
                t.join(30)
            counts[port] = sent

    # The services answer exactly, once what is left of the noise is through
    # (a marker line; the upper-case service may still hold a partial line
    # of noise, which the marker ends); the shell answers on the UART and
    # on port 0.
    for port in ('echo', 'upper'):
        s = unix_connect(f'{sockdir}/{port}')
        try:
            s.sendall(b'\nEND-OF-NOISE\n')
            got = b''
            while b'END-OF-NOISE\n' not in got:
                chunk = s.recv(65536)
                assert chunk, f'{port}: closed before the marker came back'
                got += chunk
        finally:
            s.close()
    data = rnd.randbytes(100000)
    assert echo_round(f'{sockdir}/echo', data) == data
    assert upper_round(f'{sockdir}/upper', [f'line {i} after the noise\n' for i in range(50)])
    g.send('\x03\x15\r')
    time.sleep(1)
    assert g.run('echo alive') == 'alive\n'
    c0 = unix_connect(f'{sockdir}/c0')
    try:
        c0.sendall(b'\x03\x15\rversion\r')
        recv_until(c0, r'Tern \S+ \(qemu-virt64-\w+, \w+\)', timeout=30)
    finally:
        c0.close()
    no_fatal(g.output(), whole_log=True)
    report(f'hostile: {arch(bsp)} random bytes: uart {counts["uart"]}, '
           f'port 0 (shell) {counts["c0"]}, org.rtos.echo {counts["echo"]}, org.rtos.upper {counts["upper"]}')


def commands(help_text):
    """The command names `help` lists (continuation lines are indented further)."""
    return [m.group(1) for m in re.finditer(r'^  (\S+)', help_text, re.M)]


# The argument kinds: name -> the arguments (a function of the usage's word count).
def argument_kinds(words):
    n = min(max(words, 1), 5)  # the line stays within the shell's 256 characters
    return {
        'missing': [],
        'extra': ['1'] * (min(words, 8) + 3),
        'negative': ['-1'] * n,
        'huge': ['99999999999999999999999'] * n,
        'max': ['18446744073709551615'] * n,
        'non-numeric': ['zz'] * n,
        'empty': ['""'] * n,
        'long': ['x' * 180] + ['7'] * (n - 1),
    }


def run_bounded(g, line, seconds):
    """Runs a command line; returns (output, interrupted). A command still
    running after `seconds` gets a Ctrl-C and must then be back at the prompt
    within 20 seconds (the shell's own promise: docs/shell.md)."""
    g.send(line + '\r')
    g.expect(re.escape(line) + r'\r*\n', timeout=20)
    try:
        return g.expect(re.escape(PROMPT), timeout=seconds), False
    except AssertionError as e:
        if 'QEMU exited' in str(e):
            raise
    g.send('\x03')
    return g.expect(re.escape(PROMPT), timeout=20), True


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_shell_commands_with_bad_arguments(boot, bsp, tmp_path):
    out = image(bsp)
    disk = tmp_path / 'scratch.img'
    with open(disk, 'wb') as f:
        f.truncate(4 << 20)
    (echo_port,) = free_ports(1, socket.SOCK_STREAM)
    g = boot(bsp, out, virtio='modern', timeout=60, disks=[f'{disk},unsafe'],
             extra=['-netdev', f'user,id=n0,hostfwd=tcp:127.0.0.1:{echo_port}-:7',
                    '-device', 'virtio-net-device,netdev=n0', '-device', 'virtio-rng-device'])
    help_text = g.run('help')
    names = commands(help_text)
    assert len(names) >= 15 and 'help' in names, help_text
    usages = {m.group(1): m.group(2) for m in re.finditer(r'^  (\S+) ?(.*?)(?:  |$)', help_text, re.M)}
    tried = interrupted = 0
    lines = []
    for name in names:
        usage = usages.get(name, '')
        words = len([w for w in re.split(r'[\s|]+', re.sub(r'\[.*?\]', '', usage)) if w])
        for kind, args in argument_kinds(words).items():
            if kind == 'missing' and (words == 0 or name in DESTRUCTIVE):
                continue  # the plain command: other tests run it (and these stop the machine)
            line = ' '.join([name] + args)
            text, stopped = run_bounded(g, line, seconds=8)
            tried += 1
            interrupted += stopped
            no_fatal(text)
            body = re.sub(r'\r+\n', '\n', text[:-len(PROMPT)])
            # Wrong arguments: usage or an error naming the command, unless
            # the command takes anything (echo) or the words are a valid ask.
            if kind in ('extra',) and not usage:
                assert f'usage: {name}' in body, f'{line!r} ran instead of refusing:\n{body}'
            lines.append(f'{line[:60]!r}: {"^C" if stopped else body.strip().splitlines()[-1:]}')
        assert g.run('echo still here') == 'still here\n', f'after {name}'
    no_fatal(g.output(), whole_log=True)
    print('\n'.join(lines))
    report(f'hostile: {arch(bsp)} {len(names)} commands x {len(argument_kinds(1))} argument kinds: '
           f'{tried} command lines, {interrupted} stopped with Ctrl-C, no crash')

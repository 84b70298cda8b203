"""Hostile input from the host through real QEMU, in the UBSan soak image
(docs/reliability.md; test_hostile.py does the same kinds of attack on the
plain images, docs/fuzzing.md):
every shell command from `help` with missing, extra, negative, huge and
non-numeric arguments; random bytes into the UART and into the console
ports; random and malformed Ethernet frames into the guest while its TCP
echo keeps echoing. All in the undefined-behaviour sanitizer's soak image
(conftest.ubsan_build): a crash, a hang, a panic or an `ubsan:` report fails
the test. Everything random is seeded: a failure replays."""
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pytest
from conftest import BSPS, ROOT, ubsan_build
from guest import PROMPT
from qemu_cmd import free_ports

# Lines that end or stop the system, or run for minutes, on purpose (and
# every command whose help says "destructive"): tried only with arguments
# they must refuse.
NOT_BARE = {'hang', 'hang thread', 'reboot', 'poweroff', 'ktest', 'bench', 'iobench',
            'iobench all', 'fsbench', 'soak start'}
BAD_VALUES = ['-1', '0', 'abc', '-9223372036854775808', '99999999999999999999999',
              '0xffffffffffffffff', '0x', '%s%n%s', '""', "'unterminated"]


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix='hostile', dir='/tmp')  # unix socket paths are short
    yield d
    shutil.rmtree(d, ignore_errors=True)


def devices(workdir, net):
    """The soak setup (tools/soak.py): a scratch disk, a FAT volume, the
    echo and upper-case console ports, and `net`'s network arguments."""
    disk, fat = os.path.join(workdir, 'disk.img'), os.path.join(workdir, 'fat.img')
    with open(disk, 'wb') as f:
        f.truncate(16 << 20)
    subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'disk.py'), 'mkfat', fat, '48M'],
                   check=True, stdout=subprocess.DEVNULL)
    extra = list(net) + ['-device', 'virtio-serial-device']
    for cid, name in (('echo', 'org.rtos.echo'), ('upper', 'org.rtos.upper')):
        extra += ['-chardev', f'socket,path={workdir}/{cid},server=on,wait=off,id={cid}',
                  '-device', f'virtserialport,chardev={cid},name={name}']
    return dict(virtio='modern', disks=[disk + ',unsafe', fat + ',unsafe'], extra=extra)


def alive(g, tag):
    """The shell answers (after whatever state the input left the line
    editor in) and nothing was reported."""
    g.send('\x03\x15\r')
    g.send(f'echo {tag}\r')
    g.expect(re.escape(tag) + r'\r*\n' + re.escape(PROMPT), timeout=60)
    out = g.output()
    assert 'PANIC' not in out and 'ubsan:' not in out, out[-3000:]


def commands(help_text):
    """(name, usage, help) of every command `help` lists."""
    lines = re.sub(r'\r+\n', '\n', help_text).split('\n')
    result = []
    for i, line in enumerate(lines):
        if not re.match(r'^  [a-z]', line):
            continue
        wrapped = i + 1 < len(lines) and lines[i + 1].startswith(' ' * 30)
        left = line.strip() if wrapped else line[2:30].rstrip()
        name, _, usage = left.partition(' ')
        result.append((name, usage, (lines[i + 1] if wrapped else line[30:]).strip()))
    return result


def argument_lines(name, usage, help_text):
    """The command alone, with each bad value, with too many; each literal
    word of the usage (a subcommand) alone and with one, two and four bad
    values."""
    words = sorted(set(re.findall(r'(?<![-\w<])[a-z][a-z0-9-]*(?![\w>])',
                                  re.sub(r'<[^>]*>', ' ', usage))))
    lines = [name] + [f'{name} {v}' for v in BAD_VALUES] + [f'{name} ' + ' '.join(BAD_VALUES)]
    for w in words:
        lines.append(f'{name} {w}')
        for v in BAD_VALUES:
            lines += [f'{name} {w} {v}', f'{name} {w} {v} {v}', f'{name} {w} {v} {v} {v} {v}']
    skip = NOT_BARE | ({name} if 'destructive' in help_text else set())
    return [ln for ln in lines if ln not in skip]


@pytest.mark.parametrize('bsp', BSPS)
def test_every_command_with_bad_arguments(boot, workdir, bsp):
    """Every command `help` lists (bar the ones that stop the system on
    purpose) with missing, extra, negative, huge, non-numeric and quoting
    arguments, and each subcommand its usage names likewise: each ends at
    the prompt, with usage or an error line, never a crash or a hang. A
    command that runs until Ctrl-C (ping with a huge count) must stop on
    it; one that reads input until Ctrl-D (paste) on that."""
    out = ubsan_build(bsp)
    g = boot(bsp, out, timeout=60, **devices(workdir, ['-netdev', 'user,id=n0', '-device',
                                                       'virtio-net-device,netdev=n0']))
    listed = commands(g.run('help'))
    assert len(listed) > 30, listed
    tried, stopped = 0, []
    for name, usage, help_text in listed:
        for line in argument_lines(name, usage, help_text):
            g.send(line + '\r')
            try:
                g.expect(re.escape(PROMPT), timeout=20)
            except AssertionError:
                assert g.p.isalive(), f'{line!r}: QEMU exited\n' + g.output()[-3000:]
                g.send('\x03')  # a command that runs until Ctrl-C
                try:
                    g.expect(re.escape(PROMPT), timeout=20)
                except AssertionError:
                    g.send('\x04')  # one that reads input to its end
                    g.expect(re.escape(PROMPT), timeout=20)
                stopped.append(line)
            tried += 1
    alive(g, 'after-bad-arguments')
    print(f'{bsp}: {len(listed)} commands, {tried} lines; stopped by Ctrl-C/Ctrl-D: {stopped}')
    # The system is whole: files and the disk still work.
    res = g.run('append /vdb/ok.txt still-here')
    assert 'error' not in res.lower(), res
    assert 'still-here' in g.run('cat /vdb/ok.txt')
    assert re.search(r'^crc32=[0-9a-f]{8}$', g.run('blk crc 0 8'), re.M)


def feed(g, data, deadline_s=600):
    """Writes data to the guest's UART while reading what it writes back
    (into the test log): with flow control the guest takes input at its
    pace, and it must never wait on us to read its echo."""
    fd, view = g.p.child_fd, memoryview(data)
    end = time.monotonic() + deadline_s
    os.set_blocking(fd, False)
    try:
        while view:
            assert time.monotonic() < end, f'the guest stopped reading; {len(view)} bytes left'
            readable, writable, _ = select.select([fd], [fd] if view else [], [], 1.0)
            if readable:
                g.log.write(os.read(fd, 1 << 16).decode('utf-8', 'replace'))
            if writable:
                try:
                    view = view[os.write(fd, view[:4096]):]
                except BlockingIOError:
                    pass
    finally:
        os.set_blocking(fd, True)


@pytest.mark.parametrize('bsp', BSPS)
def test_random_bytes_into_uart_and_console_ports(boot, workdir, bsp):
    """64 KiB of random bytes (control characters, escape sequences, lines
    of garbage the shell tries to run) into the UART, at the pace the
    receive flow control allows; random bytes into both console ports with
    the connection cut mid-stream, twenty times. Then the shell answers and
    each port's service echoes a checked stream byte for byte."""
    out = ubsan_build(bsp)
    g = boot(bsp, out, timeout=60, **devices(workdir, []))
    rnd = random.Random(21)
    data = rnd.randbytes(64 << 10)
    feed(g, data)
    alive(g, 'after-uart-garbage')

    def port(cid):
        end = time.monotonic() + 30
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(f'{workdir}/{cid}')
                s.settimeout(30)
                return s
            except OSError:
                s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)

    for cid in ('echo', 'upper'):
        for _ in range(20):
            s = port(cid)
            s.sendall(rnd.randbytes(rnd.randint(1, 32 << 10)))
            s.close()  # mid-stream: the guest may still be echoing
        s = port(cid)
        # Bytes of the cut connections may still come first: look for the
        # marked line (the upper-case service answers whole lines).
        msg = b'MARK' + bytes(rnd.choice(b'abcdefghijklmnopqrstuvwxyz') for _ in range(200)) + b'\n'
        s.sendall(msg)
        want = msg if cid == 'echo' else msg.upper()
        got = b''
        while want not in got:
            chunk = s.recv(1 << 16)
            assert chunk, f'{cid}: connection closed; got {len(got)} bytes'
            got += chunk
        s.close()
    alive(g, 'after-port-garbage')


# ---- Ethernet frames ----

FRAMES = 10000

GUEST_IP, GATEWAY = bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2])


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def hostile_frames(rnd, guest_mac, count):
    """count frames, (kind, bytes): random bytes, runts, oversized ones,
    IPv4 with bad versions, header lengths, total lengths, checksums and
    overlapping fragments, UDP and TCP with lying lengths and offsets, bad
    ARP. Sources are in 192.0.2.0/24 (TEST-NET-1): nothing spoofs the
    gateway or the host's connections."""
    bcast = b'\xff' * 6

    def eth(ethertype, payload, dst=None):
        dst = dst or rnd.choice([guest_mac] * 4 + [bcast, rnd.randbytes(6)])
        return dst + bytes([0x52, 0x54, 0x00, 0xbe, 0xef, rnd.randrange(256)]) + \
            struct.pack('!H', ethertype) + payload

    def ipv4(proto, payload, good=True):
        ihl = 5 if good or rnd.random() < 0.5 else rnd.randrange(16)
        options = rnd.randbytes(max(0, ihl - 5) * 4)
        total = 20 + len(options) + len(payload)
        if not good and rnd.random() < 0.5:
            total = rnd.randrange(65536)
        frag = 0 if good and rnd.random() < 0.7 else rnd.randrange(65536)
        version = 4 if good or rnd.random() < 0.7 else rnd.randrange(16)
        src = bytes([192, 0, 2, rnd.randrange(1, 255)])
        hdr = struct.pack('!BBHHHBBH4s4s', version << 4 | (ihl & 15), 0, total, rnd.randrange(65536),
                          frag, rnd.randrange(1, 256), proto, 0, src,
                          GUEST_IP if rnd.random() < 0.9 else rnd.randbytes(4)) + options
        csum = checksum(hdr) if good or rnd.random() < 0.5 else rnd.randrange(65536)
        return hdr[:10] + struct.pack('!H', csum) + hdr[12:] + payload

    def udp(good):
        body = rnd.randbytes(rnd.randrange(0, 1500))
        length = 8 + len(body) if good else rnd.randrange(65536)
        return struct.pack('!HHHH', rnd.randrange(1024, 65536), rnd.choice([7, 53, 67, 68, 9]),
                           length, rnd.randrange(65536))[:rnd.choice([8, 8, 8, 3])] + body

    def tcp(good):
        offset = 5 if good else rnd.randrange(16)
        flags = rnd.choice([0x02, 0x10, 0x18, 0x04, 0x01, 0x11]) if good else rnd.randrange(256)
        hdr = struct.pack('!HHIIBBHHH', rnd.randrange(1024, 65536), rnd.choice([7, 80, 1]),
                          rnd.randrange(1 << 32), rnd.randrange(1 << 32), offset << 4, flags,
                          rnd.randrange(65536), rnd.randrange(65536), rnd.randrange(65536))
        return hdr[:rnd.choice([20, 20, 20, 7])] + rnd.randbytes(rnd.randrange(0, 1400))

    kinds = {
        'random': lambda: rnd.choice([guest_mac, bcast]) + rnd.randbytes(rnd.randrange(6, 1600)),
        'runt': lambda: rnd.randbytes(rnd.randrange(1, 14)),
        'oversized': lambda: eth(0x0800, ipv4(17, udp(True))
                                 + rnd.randbytes(rnd.randrange(1500, 60000))),
        'ipv4-header': lambda: eth(0x0800, ipv4(rnd.randrange(256),
                                               rnd.randbytes(rnd.randrange(0, 64)), good=False)
                                   [:rnd.randrange(0, 60)]),
        'ipv4-fragment': lambda: eth(0x0800, fragment()),
        'udp': lambda: eth(0x0800, ipv4(17, udp(False), good=rnd.random() < 0.5)),
        'tcp': lambda: eth(0x0800, ipv4(6, tcp(False), good=rnd.random() < 0.5)),
        'icmp': lambda: eth(0x0800, ipv4(1, bytes([rnd.choice([0, 3, 5, 8, 11]), rnd.randrange(256)])
                                         + rnd.randbytes(rnd.randrange(0, 1400)))),
        'arp': lambda: eth(0x0806, arp()),
        'other-ethertype': lambda: eth(rnd.choice([0x86dd, 0x8100, 0x88cc, rnd.randrange(65536)]),
                                       rnd.randbytes(rnd.randrange(0, 1500))),
    }

    def fragment():
        # Pieces of a UDP datagram to the echo port, at random, overlapping
        # offsets, some claiming more fragments to come.
        ident = rnd.randrange(4)  # few ids: fragments of one datagram pile up
        off = rnd.randrange(0, 8192)
        body = rnd.randbytes(rnd.randrange(1, 1400))
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), ident,
                          (rnd.random() < 0.8) << 13 | off, 64, 17, 0,
                          bytes([192, 0, 2, 1]), GUEST_IP)
        return hdr[:10] + struct.pack('!H', checksum(hdr)) + hdr[12:] + body

    def arp():
        hlen, plen = (6, 4) if rnd.random() < 0.5 else (rnd.randrange(256), rnd.randrange(256))
        sender_ip = bytes([192, 0, 2, rnd.randrange(1, 255)])
        target_ip = GUEST_IP if rnd.random() < 0.7 else rnd.randbytes(4)
        pkt = struct.pack('!HHBBH', 1, 0x0800, hlen, plen, rnd.choice([1, 2, rnd.randrange(65536)]))
        pkt += rnd.randbytes(6) + sender_ip + b'\0' * 6 + target_ip
        return pkt[:rnd.randrange(0, len(pkt) + 1)] if rnd.random() < 0.3 else pkt

    names = sorted(kinds)
    for _ in range(count):
        kind = rnd.choice(names)
        yield kind, kinds[kind]()


@pytest.mark.parametrize('bsp', BSPS)
def test_malformed_frames_while_tcp_echo_echoes(boot, workdir, bsp):
    """Two NICs: eth0 on the user network (DHCP, the TCP echo forwarded to
    127.0.0.1), eth1 on a UDP socket back-end bound to 127.0.0.1 that a host
    thread fills with 10,000 seeded hostile frames (hostile_frames) while
    a 4 MiB stream goes through the TCP echo on eth0: every byte comes back
    right (most of it during the frames), the
    frames reach lwIP (weak host: addressed to eth0's address), then ping
    and the shell work and nothing is reported. The hostile link is not the
    user network's: QEMU 7.2 with libslirp 4.7 dies of SIGBUS on the first
    IPv4 fragment that reaches slirp (docs/reliability.md); restrict=on keeps
    the guest's answers to the forged sources inside."""
    (tcp_port,) = free_ports(1, socket.SOCK_STREAM)
    inject, qemu_side = free_ports(2, socket.SOCK_DGRAM)
    net = ['-netdev', f'user,id=u0,restrict=on,hostfwd=tcp:127.0.0.1:{tcp_port}-:7',
           '-device', 'virtio-net-device,netdev=u0,mac=52:54:00:12:34:56',
           '-netdev', f'socket,id=s0,udp=127.0.0.1:{inject},localaddr=127.0.0.1:{qemu_side}',
           '-device', 'virtio-net-device,netdev=s0,mac=52:54:00:12:34:57']
    out = ubsan_build(bsp)
    g = boot(bsp, out, timeout=60, wait_prompt=False, **devices(workdir, net))
    g.expect(r'net: dhcp bound 10\.0\.2\.15', timeout=60)
    g.wait_prompt()
    before = g.run('ifconfig')
    assert re.search(r'^eth1: mac 52:54:00:12:34:57', before, re.M), before
    hostile_mac = bytes.fromhex('525400123457')

    # The TCP stream goes on between the bursts of frames, 8 KiB a burst,
    # and is checked byte for byte.
    stream = random.Random(2121).randbytes(4 << 20)
    view, pos, echoed = memoryview(stream), 0, bytearray()
    tcp = socket.create_connection(('127.0.0.1', tcp_port), timeout=60)
    tcp.setblocking(False)

    def pump():
        nonlocal pos
        try:
            pos += tcp.send(view[pos:pos + 8192])
        except BlockingIOError:
            pass
        try:
            while chunk := tcp.recv(1 << 20):
                echoed.extend(chunk)
        except BlockingIOError:
            pass

    sent = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', inject))  # the guest's frames on eth1 come here: dropped unread
        s.connect(('127.0.0.1', qemu_side))
        for i, (kind, frame) in enumerate(hostile_frames(random.Random(21), hostile_mac, FRAMES)):
            try:
                s.send(frame)
            except OSError as e:
                raise AssertionError(f'frame {i} ({kind}): {e}; QEMU alive: {g.p.isalive()}')
            sent[kind] = sent.get(kind, 0) + 1
            if i % 16 == 15:
                pump()
                # Paced: QEMU stops reading its socket while the guest's
                # receive ring is full, and the host then drops datagrams.
                time.sleep(0.02)
    during = len(echoed)
    tcp.settimeout(120)
    tcp.sendall(view[pos:])
    while len(echoed) < len(stream):
        chunk = tcp.recv(1 << 20)
        assert chunk, f'connection closed after {len(echoed)} of {len(stream)} bytes'
        echoed.extend(chunk)
    tcp.close()
    assert bytes(echoed) == stream, 'TCP echo differs'
    assert during > len(stream) // 2, f'only {during} bytes echoed during the frames'
    after = g.run('ifconfig')
    rx = [(int(n), int(e)) for n, e in re.findall(r'rx packets (\d+) .* errors (\d+)', after)]
    print(f'{bsp}: {sum(sent.values())} hostile frames sent: {sent}; '
          f'{during} of {len(stream)} bytes echoed meanwhile\n{after}')
    assert len(rx) == 2 and rx[1][0] > FRAMES // 4, after  # lwIP saw the frames on eth1
    res = g.run('ping 10.0.2.2 2', timeout=30)
    assert re.search(r'ping: 2 sent, [12] received', res), res
    alive(g, 'after-frames')

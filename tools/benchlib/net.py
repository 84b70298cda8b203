"""tools/bench.py --net: wall-clock TCP throughput and round trips through
virtio-net, lwIP and QEMU's user network, measured from the host.

The image is the network demo (CONFIG=examples/net/net.conf): its TCP echo
server (CONFIG_EXAMPLE_NET_ECHO_PORT, 7) and TCP sink (CONFIG_EXAMPLE_NET_SINK_PORT,
9) are reached through host forwards bound to 127.0.0.1 only. No -icount:
the figures are host time, so they move with the load of the machine.

  host-to-guest  the host sends --net-size MiB to the sink, shuts down its
                 side and waits for the sink's byte count (it must match)
  echo-stream    the host sends --net-size MiB to the echo server while
                 reading the echo back; MB/s of one direction; the echo must
                 equal what was sent
  echo-rr-64     --net-requests round trips of a 64-byte message (TCP_NODELAY),
                 each echo checked before the next is sent

Each prints `net: <name> <n> MB/s` (10^6 bytes) or `net: <name> <n> req/s`,
followed, when the image has the shell command `virtio stat` (per-queue
counters), by `<n> kicks/packet <n> irqs/packet` over both virtio-net queues,
per packet the interface sent or received (ifconfig's counters), and, when
ifconfig shows the netif's TCP counters, by `<n> acks/MiB`: segments sent
that carried nothing but an acknowledgement, per MiB of TCP payload received.
"""
import json
import os
import re
import shlex
import socket
import sys
import threading
import time

import qemu_cmd
from qemu_cmd import free_ports  # net.free_ports(n): TCP; the linux-net anchor calls it by this name

GUEST_PORTS = {'echo': ('CONFIG_EXAMPLE_NET_ECHO_PORT', 7), 'sink': ('CONFIG_EXAMPLE_NET_SINK_PORT', 9)}
RR_SIZE = 64
CHUNK = 64 << 10
NAMES = ('host-to-guest', 'echo-stream', f'echo-rr-{RR_SIZE}')
LINE_RE = re.compile(r'^net: ([\w-]+) (\d+(?:\.\d+)?) (MB/s|req/s)'
                     r'(?: (\d+(?:\.\d+)?) kicks/packet (\d+(?:\.\d+)?) irqs/packet)?'
                     r'(?: (\d+(?:\.\d+)?) acks/MiB)?$')
STAT_RE = re.compile(r'^(virtio-net\S*) q(\d+) kicks=(\d+) .*\birqs=(\d+)', re.M)
IFCONFIG_RE = re.compile(r'(rx|tx) packets (\d+)')
TCP_RE = re.compile(r'tcp in segments \d+ bytes (\d+) .*acks out (\d+)')


def add_arguments(p):
    g = p.add_argument_group('network (--net)')
    g.add_argument('--net', action='store_true',
                   help='wall-clock TCP benchmarks through virtio-net (no -icount) on a build '
                        'of CONFIG=examples/net/net.conf (tools/benchlib/net.py)')
    g.add_argument('--net-size', type=float, default=16, metavar='MIB',
                   help='MiB sent by host-to-guest and echo-stream (default 16)')
    g.add_argument('--net-requests', type=int, default=2000, metavar='N',
                   help=f'round trips of echo-rr-{RR_SIZE} (default 2000)')


def guest_config(folder):
    """The build's .config as {name: value}; refuses a build without the demo."""
    cfg = {}
    try:
        with open(os.path.join(folder, '.config')) as f:
            for line in f:
                if m := re.match(r'^(CONFIG_\w+)=(.*)$', line.strip()):
                    cfg[m.group(1)] = m.group(2).strip('"')
    except OSError:
        pass
    return cfg


def connect(port, deadline):
    """A connection through a host forward, retried until the guest listens
    (slirp resets a connection to a port nobody listens on)."""
    while True:
        try:
            s = socket.create_connection(('127.0.0.1', port), timeout=30)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def pattern(nbytes):
    """Deterministic bytes that are not a short period (a slipped or
    repeated segment shows)."""
    block = bytes((i * 2654435761 >> 13) & 0xff for i in range(65521))  # prime length
    reps = nbytes // len(block) + 1
    return (block * reps)[:nbytes]


def host_to_guest(port, data, deadline, error):
    s = connect(port, deadline)
    try:
        t0 = time.monotonic()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b''
        while not reply.endswith(b'\n'):
            chunk = s.recv(64)
            if not chunk:
                break
            reply += chunk
        t = time.monotonic() - t0
    finally:
        s.close()
    if reply.strip() != str(len(data)).encode():
        raise error(f'host-to-guest: the sink counted {reply.strip().decode(errors="replace")!r} '
                    f'bytes of {len(data)} sent')
    return len(data) / t / 1e6, 'MB/s'


def echo_stream(port, data, deadline, error):
    s = connect(port, deadline)
    err = []

    def sender():
        try:
            view = memoryview(data)
            for off in range(0, len(data), CHUNK):
                s.sendall(view[off:off + CHUNK])
        except OSError as e:
            err.append(e)

    got = bytearray()
    t0 = time.monotonic()
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    try:
        while len(got) < len(data):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        t = time.monotonic() - t0
    finally:
        th.join(30)
        s.close()
    if err:
        raise error(f'echo-stream: sending failed: {err[0]}')
    if got != data:
        first = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]),
                     min(len(got), len(data)))
        raise error(f'echo-stream: {len(got)} of {len(data)} bytes echoed, '
                    f'first difference at byte {first}')
    return len(data) / t / 1e6, 'MB/s'


def echo_rr(port, requests, deadline, error):
    s = connect(port, deadline)
    try:
        msgs = [bytes([(i + k) & 0xff for k in range(RR_SIZE)]) for i in range(256)]
        t0 = time.monotonic()
        for i in range(requests):
            msg = msgs[i & 0xff]
            s.sendall(msg)
            got = b''
            while len(got) < RR_SIZE:
                chunk = s.recv(RR_SIZE - len(got))
                if not chunk:
                    raise error(f'echo-rr: connection closed at request {i}')
                got += chunk
            if got != msg:
                raise error(f'echo-rr: request {i}: the echo differs from the message')
        t = time.monotonic() - t0
    finally:
        s.close()
    return requests / t, 'req/s'


def packets(session):
    """rx + tx packets of every interface (ifconfig)."""
    return sum(int(n) for _, n in IFCONFIG_RE.findall(session.run('ifconfig', 'ifconfig')))


def tcp_counters(session):
    """(TCP payload bytes received, pure ACKs sent) summed over the
    interfaces (ifconfig's netif counters), or None when it has none."""
    rows = TCP_RE.findall(session.run('ifconfig', 'ifconfig'))
    if not rows:
        return None
    return sum(int(r[0]) for r in rows), sum(int(r[1]) for r in rows)


def virtio_counters(session, error):
    """(kicks, irqs) summed over the virtio-net queues after resetting
    them (`virtio stat -r`), or None when the image has no such command."""
    try:
        out = session.run('virtio stat -r', 'virtio stat')
    except error:
        return None
    rows = STAT_RE.findall(out)
    if not rows:
        return None
    return sum(int(r[2]) for r in rows), sum(int(r[3]) for r in rows)


def format_line(name, value, unit, per_packet=None, acks_per_mib=None):
    line = f'net: {name} {value:.1f} {unit}' if unit == 'MB/s' else f'net: {name} {value:.0f} {unit}'
    if per_packet:
        line += f' {per_packet[0]:.2f} kicks/packet {per_packet[1]:.2f} irqs/packet'
        if acks_per_mib is not None:
            line += f' {acks_per_mib:.1f} acks/MiB'
    return line


def run(a, session_class, error, git_revision):
    folder = qemu_cmd.build_dir(a.bsp, a.build)
    if err := qemu_cmd.missing_elf_message(a.bsp, a.build):
        raise error(err)
    cfg = guest_config(folder)
    if cfg.get('CONFIG_EXAMPLE_NET') != 'y':
        raise error(f'{folder} is not a network demo build: build it with '
                    f'scons BSP={a.bsp} BUILD=build/net-<arch> CONFIG=examples/net/net.conf '
                    'and give --build build/net-<arch>')
    guest = {k: int(cfg.get(opt, default)) for k, (opt, default) in GUEST_PORTS.items()}
    host = dict(zip(guest, free_ports(len(guest))))
    fwd = ','.join(f'hostfwd=tcp:127.0.0.1:{host[k]}-:{guest[k]}' for k in guest)
    extra = ['-netdev', f'user,id=n0,{fwd}', '-device', 'virtio-net-device,netdev=n0']
    argv = qemu_cmd.command(a.bsp, a.build, virtio=a.virtio, interactive=False, extra=extra)
    print('+ ' + shlex.join(argv), file=sys.stderr, flush=True)
    deadline = time.monotonic() + a.timeout
    size = int(a.net_size * (1 << 20))
    data = pattern(size)
    tests = {
        'host-to-guest': lambda d: host_to_guest(host['sink'], data, d, error),
        'echo-stream': lambda d: echo_stream(host['echo'], data, d, error),
        f'echo-rr-{RR_SIZE}': lambda d: echo_rr(host['echo'], a.net_requests, d, error),
    }
    selected = [n for n in NAMES if not a.only or a.only in n]
    if not selected:
        raise error(f'no network benchmark name contains {a.only!r}; there are: ' + ', '.join(NAMES))
    log = open(a.log, 'w') if a.log else None
    s = session_class(argv, deadline, log)
    results, lines = {}, []
    try:
        boot = s.wait_prompt('the shell prompt')
        if 'net: dhcp bound' not in boot:
            s.expect(r'net: dhcp bound \S+', 'the DHCP lease')  # printed after the prompt
        for name in selected:
            print(f'{name} ...', end='', flush=True, file=a.progress)
            counters = virtio_counters(s, error)
            before = packets(s)
            tcp_before = tcp_counters(s)
            value, unit = tests[name](min(deadline, time.monotonic() + 30))
            per_packet = acks_per_mib = None
            if counters is not None:
                after = virtio_counters(s, error)
                n = packets(s) - before
                if after and n > 0:
                    per_packet = (after[0] / n, after[1] / n)
            tcp_after = tcp_counters(s) if tcp_before else None
            if tcp_after and tcp_after[0] > tcp_before[0]:
                acks_per_mib = (tcp_after[1] - tcp_before[1]) / ((tcp_after[0] - tcp_before[0]) / (1 << 20))
            r = {'value': round(value, 2), 'unit': unit}
            if per_packet:
                r.update(kicks_per_packet=round(per_packet[0], 3),
                         irqs_per_packet=round(per_packet[1], 3))
            if acks_per_mib is not None:
                r['acks_per_mib'] = round(acks_per_mib, 1)
            results[name] = r
            lines.append(format_line(name, value, unit, per_packet, acks_per_mib))
            print(' ' + lines[-1].split(' ', 2)[2], file=a.progress, flush=True)
    finally:
        s.close()
        if log:
            log.close()
    return {'bsp': a.bsp, 'build': folder, 'virtio': a.virtio or 'default', 'git': git_revision(),
            'net_size_mib': a.net_size, 'net_requests': a.net_requests, 'qemu': argv,
            'net': results, 'lines': lines}


def main(a, session_class, error, git_revision):
    """The --net run: prints one line per benchmark; exit status 1 on any failure."""
    if a.net_size <= 0 or a.net_requests < 1:
        print('bench.py: --net-size and --net-requests must be positive', file=sys.stderr)
        return 1
    try:
        data = run(a, session_class, error, git_revision)
    except (error, OSError) as e:
        print(f'bench.py: {e}', file=sys.stderr)
        return 1
    print(f"{data['bsp']} (virtio {data['virtio']}, wall clock, QEMU user network, "
          f"git {data.get('git') or '?'})")
    for line in data['lines']:
        print(line)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(data, f, indent=2)
            f.write('\n')
    return 0

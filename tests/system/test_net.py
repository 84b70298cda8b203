"""virtio-net and lwIP through real QEMU network back-ends, checked from the
host: DHCP from QEMU's user network, ping, 1,000 UDP datagrams of random
sizes and 8 MiB over TCP echoed byte for byte, the HTTP status page, and two
guests on one link. Both archs; legacy with the 10-byte header
(mrg_rxbuf=off), legacy with the 12-byte one, and modern; virtio-pci
modern-only, transitional and legacy-only. Host forwards and
the guests' link are bound to 127.0.0.1 only, and the guests talk to nothing
but QEMU's own DHCP server and gateway (restrict=on would be tighter, but
slirp then drops the guest's replies to forwarded UDP)."""
import os
import random
import re
import socket
import threading
import time
import urllib.request

import pytest
from conftest import (ALL_PCI_PACKED_CASES, BSPS, boot_line, bsp_modes, build, check_features,
                      expected_features, ring_layout, virtio_dev, virtio_kw)
from guest import PROMPT
from qemu_cmd import free_ports
from qmp import QMP, qmp_args

# mode -> (virtio mode (conftest.VIRTIO_MODES), -device options, header bytes the driver must pick)
MODES = {
    'legacy-hdr10': ('legacy', ',mrg_rxbuf=off', 10),
    'legacy-hdr12': ('legacy', '', 12),
    'packed': ('packed', '', 12),
    'pci-packed': ('pci-packed', '', 12),
    'pci': ('pci', '', 12),
    'pci-legacy': ('pci-legacy', '', 12),
}
DEMO = ('examples/net/net.conf',)
STATIC = ('examples/net/net.conf', 'tests/configs/net-static.conf')


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


def free_udp_port_pair():
    return free_ports(2, socket.SOCK_DGRAM)


def user_net(tcp_echo, udp_echo, http, dev_opts, mode='modern'):
    fwd = (f'hostfwd=tcp:127.0.0.1:{tcp_echo}-:7,hostfwd=udp:127.0.0.1:{udp_echo}-:7,'
           f'hostfwd=tcp:127.0.0.1:{http}-:80')
    return ['-netdev', f'user,id=n0,{fwd}',
            '-device', f'{virtio_dev("net", mode)},netdev=n0{dev_opts}']


def connect(port, deadline_s=20):
    """TCP connection through a host forward; retried while the guest's
    server is not listening yet (slirp then resets the connection)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            s = socket.create_connection(('127.0.0.1', port), timeout=10)
            return s
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def udp_echo(port, count, rnd):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.connect(('127.0.0.1', port))
    try:
        for i in range(count):
            # A sequence number first, so a late echo of a resent datagram is told apart.
            size = rnd.randint(4, 1400)
            payload = i.to_bytes(4, 'little') + rnd.randbytes(size - 4)
            for _attempt in range(5):  # UDP may be lost: resend, never accept a wrong echo
                s.send(payload)
                try:
                    while True:
                        echo = s.recv(2048)
                        if echo[:4] == payload[:4]:
                            assert echo == payload, f'datagram {i} ({size} bytes): echo differs'
                            break
                    break
                except socket.timeout:
                    continue
            else:
                pytest.fail(f'datagram {i} ({size} bytes): no echo after 5 tries')
    finally:
        s.close()


def echo_back(s, data):
    """Sends `data` on the connected socket `s` from a helper thread while
    reading the echo (the guest echoes as it receives: sending all first
    could fill both windows); returns what came back, short when the guest
    closed. An error of either side is raised."""
    err = []

    def sender():
        try:
            view = memoryview(data)
            for off in range(0, len(data), 65536):
                s.sendall(view[off:off + 65536])
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender)
    t.start()
    got = bytearray()
    try:
        while len(got) < len(data):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    finally:
        t.join(60)
    if err:
        raise err[0]
    return bytes(got)


def check_echo(got, data, what='echoed stream'):
    assert len(got) == len(data), f'{what}: {len(got)} of {len(data)} bytes echoed'
    if got != data:
        first = next(i for i in range(len(data)) if got[i] != data[i])
        pytest.fail(f'{what} differs from byte {first}')


def tcp_echo(port, data):
    s = connect(port)
    s.settimeout(30)
    try:
        check_echo(echo_back(s, data), data)
    finally:
        s.close()


def counters(text):
    rx = re.search(r'rx packets (\d+) bytes (\d+) dropped (\d+) errors (\d+)', text)
    tx = re.search(r'tx packets (\d+) bytes (\d+) dropped (\d+) errors (\d+)', text)
    assert rx and tx, text
    return [int(x) for x in rx.groups()], [int(x) for x in tx.groups()]


def heap_used(g):
    out = g.run('free')
    m = re.search(r'^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)', out, re.M)
    assert m, out
    return int(m.group(2))


# The modern interfaces offer the packed ring (the transitional PCI device
# keeps the split ring's modern case).
@pytest.mark.parametrize('bsp, mode', bsp_modes(('legacy-hdr10', 'legacy-hdr12', 'packed'),
                                                ALL_PCI_PACKED_CASES))
def test_net_user(boot, tmp_path, bsp, mode):
    out = build(bsp, f'{arch(bsp)}-net-demo', DEMO)
    version, dev_opts, hdr = MODES[mode]
    tcp_port, http_port = free_ports(2, socket.SOCK_STREAM)
    (udp_port,) = free_ports(1, socket.SOCK_DGRAM)
    qmp_path = os.path.join(tmp_path, 'qmp')
    g = boot(bsp, out, wait_prompt=False, **virtio_kw(version),
             extra=user_net(tcp_port, udp_port, http_port, dev_opts, version) + qmp_args(qmp_path))
    # The lease may come before or after the first prompt.
    log = g.wait_prompt()
    if 'net: dhcp bound' not in log:
        log += g.expect(r'net: dhcp bound \S+\s', timeout=30)
    assert re.search(boot_line('virtio-net', version) + r' (?:irq|msix) \d+ queue \d+ '
                     rf'ring {ring_layout(version)} mac 52:54:00:12:34:56 hdr {hdr} ', log), log
    qmp = QMP(qmp_path)
    check_features(log, 'virtio-net', version,
                   expected_features('virtio-net', version,
                                     without=('mrg_rxbuf',) if 'mrg_rxbuf=off' in dev_opts else ()),
                   qmp=qmp)
    qmp.close()
    assert re.search(r'net: dhcp bound 10\.0\.2\.15\s', log), log

    ping = g.run('ping 10.0.2.2 2', timeout=20)
    assert re.search(r'bytes from 10\.0\.2\.2: seq=0 time=\d+\.\d{3} ms', ping), ping
    assert 'ping: 2 sent, 2 received, 0% loss' in ping, ping

    assert g.run('dhcp') == 'dhcp: eth0: renewing\n'
    info = g.run('ifconfig')
    assert re.search(r'eth0: mac 52:54:00:12:34:56 mtu 1500 link up\n'
                     r'\s+inet 10\.0\.2\.15 netmask 255\.255\.255\.0 gateway 10\.0\.2\.2 \(dhcp\)', info), info

    used_before = heap_used(g)
    rnd = random.Random(f'{bsp}-{mode}')
    t0 = time.monotonic()
    udp_echo(udp_port, 1000, rnd)
    t_udp = time.monotonic() - t0
    data = rnd.randbytes(8 << 20)
    t0 = time.monotonic()
    tcp_echo(tcp_port, data)
    t_tcp = time.monotonic() - t0

    with urllib.request.urlopen(f'http://127.0.0.1:{http_port}/', timeout=20) as r:
        assert r.status == 200
        page = r.read().decode()
    for word in ('uptime', 'threads', 'tcpip', 'heap total', 'eth0 10.0.2.15 link up'):
        assert word in page, page

    # Counters: the traffic shows, nothing broke; the heap is back (give
    # lwIP's TIME_WAIT pcbs no say: they live in static pools).
    rx, tx = counters(g.run('ifconfig'))
    assert rx[0] > 6000 and tx[0] > 6000, (rx, tx)
    assert rx[1] > (8 << 20) and tx[1] > (8 << 20), (rx, tx)
    assert rx[3] == 0 and tx[2] == 0 and tx[3] == 0, (rx, tx)
    assert heap_used(g) - used_before < 16384

    # Link status (VIRTIO_NET_F_STATUS): down and up again from the host.
    qmp = QMP(qmp_path)
    try:
        qmp.command('set_link', name='n0', up=False)
        g.expect(r'eth0: link down', timeout=10)
        assert 'link down' in g.run('ifconfig')
        qmp.command('set_link', name='n0', up=True)
        g.expect(r'eth0: link up', timeout=10)
    finally:
        qmp.close()
    assert 'ping: 1 sent, 1 received' in g.run('ping 10.0.2.2 1', timeout=20)
    print(f'{bsp} {mode}: udp 1000 datagrams {t_udp:.1f} s, tcp 8 MiB {t_tcp:.1f} s')


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_net_two_guests(boot, tmp_path, bsp):
    """Two guests on one link over UDP datagrams between two 127.0.0.1
    ports: A has the static address from Kconfig, B gets one with ifconfig;
    they ping each other and B streams 1 MiB through A's TCP echo."""
    out = build(bsp, f'{arch(bsp)}-net-static', STATIC)
    pa, pb = free_udp_port_pair()

    def link(local, remote, mac):
        return ['-netdev', f'dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port={local},'
                           f'remote.type=inet,remote.host=127.0.0.1,remote.port={remote}',
                '-device', f'virtio-net-device,netdev=n0,mac={mac}']

    qmp_path = os.path.join(tmp_path, 'qmp-a')
    a = boot(bsp, out, virtio='modern',
             extra=link(pa, pb, '52:54:00:00:00:0a') + qmp_args(qmp_path))
    b = boot(bsp, out, virtio='legacy', extra=link(pb, pa, '52:54:00:00:00:0b'))
    assert 'inet 10.0.3.1 netmask 255.255.255.0' in a.run('ifconfig')
    # Strict dotted quads and a contiguous netmask; a refusal changes nothing.
    quad = "four numbers 0-255 separated by dots (a.b.c.d)"
    before = b.run('ifconfig').splitlines()[1]  # the addresses line
    for command, error in [
            ('ifconfig 1.2.3 4', f"ifconfig: bad address '1.2.3': {quad}"),  # BSD shorthand
            ('ifconfig 10.0.3.2 0.0.0.4', "ifconfig: bad netmask '0.0.0.4': its ones must come "
                                          "first, then its zeros (e.g. 255.255.255.0)"),
            ('ifconfig 10.0.3.2 255.0.255.0', "ifconfig: bad netmask '255.0.255.0'"),
            ('ifconfig 10.0.3.256 255.255.255.0', "ifconfig: bad address '10.0.3.256'"),
            ('ifconfig 10.0.3.02 255.255.255.0', "ifconfig: bad address '10.0.3.02'"),  # octal?
            ('ifconfig 10.0.3.+2 255.255.255.0', "ifconfig: bad address '10.0.3.+2'"),
            ('ifconfig 0x0a.0.3.2 255.255.255.0', "ifconfig: bad address '0x0a.0.3.2'"),
            ('ifconfig 10.0.3.2. 255.255.255.0', "ifconfig: bad address '10.0.3.2.'"),
            ('ifconfig 10.0.3.2 255.255.255.0 10.0.3', f"ifconfig: bad gateway '10.0.3': {quad}")]:
        out = b.run(command)
        assert out.startswith(error) and out.count('\n') == 1, (command, out)
    assert b.run('ifconfig').splitlines()[1] == before
    assert b.run('ifconfig 10.0.3.2 255.255.255.0') == 'net: eth0 address 10.0.3.2\n'
    assert 'inet 10.0.3.2 netmask 255.255.255.0' in b.run('ifconfig')

    assert '2 sent, 2 received' in a.run('ping 10.0.3.2 2', timeout=20)
    assert '2 sent, 2 received' in b.run('ping 10.0.3.1 2', timeout=20)
    # Ctrl-C stops a long ping between two echoes, and while it waits for a
    # reply that never comes (nobody has 10.0.3.99).
    out = a.interrupt('ping 10.0.3.2 1000', r'seq=1 time=', 'ping: interrupted', timeout=10)
    m = re.search(r'^ping: (\d+) sent, (\d+) received, .*\n\^C$', out, re.M)
    assert m and 2 <= int(m.group(2)) <= int(m.group(1)) <= 4, out
    out = a.interrupt('ping 10.0.3.99 1000', r'ping 10\.0\.3\.99 1000\r*\n', 'ping: interrupted',
                      timeout=5)
    assert re.search(r'^ping: [1-4] sent, 0 received, 100% loss\n\^C$', out, re.M), out
    out_b = b.run('echotest 10.0.3.1 1048576', timeout=120)
    assert re.search(r'echotest: 1048576 sent, 1048576 echoed, 0 mismatches', out_b), out_b
    # A Ctrl-C typed right behind it stops an echotest of 1 GiB within a
    # chunk; the line says first that the run is partial.
    b.send('echotest 10.0.3.1 1073741824\r\x03')
    out_b = b.expect(r'\^C\r*\nechotest: interrupted\r*\n' + re.escape(PROMPT), timeout=30)
    m = re.search(r'echotest: interrupted: (\d+) sent, (\d+) echoed, 0 mismatches', out_b)
    assert m and int(m.group(2)) <= int(m.group(1)) < 1073741824, out_b
    # Ctrl-C stops the connect to an address that never answers (lwIP would
    # retry its SYN for over a minute) ...
    out_b = b.interrupt('echotest 10.0.3.99 1000', r'echotest 10\.0\.3\.99 1000\r*\n',
                        'echotest: interrupted', timeout=5)
    assert re.search(r'^echotest: interrupted: 0 sent, 0 echoed, 0 mismatches, \d+ ms\n\^C$',
                     out_b, re.M), out_b
    # ... and the wait for an echo that does not come: A is paused (QMP
    # stop) in the middle of a transfer; B would wait 5 s per receive.
    b.send('echotest 10.0.3.1 1073741824\r')
    b.expect(r'echotest 10\.0\.3\.1 1073741824\r*\n')
    rx0 = counters(a.run('ifconfig'))[0][1]
    deadline = time.monotonic() + 30
    while counters(a.run('ifconfig'))[0][1] < rx0 + (1 << 20):
        assert time.monotonic() < deadline, 'the transfer did not start'
    qmp = QMP(qmp_path)
    try:
        qmp.command('stop')
        b.send('\x03')
        out_b = b.expect(r'\^C\r*\nechotest: interrupted\r*\n' + re.escape(PROMPT), timeout=4)
        qmp.command('cont')
    finally:
        qmp.close()
    m = re.search(r'echotest: interrupted: (\d+) sent, (\d+) echoed, 0 mismatches, \d+ ms\r*\n',
                  out_b)
    assert m and (1 << 19) <= int(m.group(2)) <= int(m.group(1)), out_b
    # Nothing is left over: the next transfer runs whole.
    out_b = b.run('echotest 10.0.3.1 65536', timeout=30)
    assert 'echotest: 65536 sent, 65536 echoed, 0 mismatches' in out_b, out_b
    ra, _ = counters(a.run('ifconfig'))
    assert ra[1] > (1 << 20) and ra[3] == 0, ra


def test_net_no_device_boots_as_before(boot):
    """The default build has virtio-net and lwIP; without a network device
    the stack stays off and the commands say so."""
    bsp = 'qemu-virt64-riscv'
    g = boot(bsp, build(bsp), wait_prompt=False)
    log = g.wait_prompt()
    assert 'virtio-net' not in log and 'net:' not in log, log
    assert 'net: no network interface' in g.run('ifconfig')

"""virtio-console through real QEMU devices, checked from the host: the
examples/console services on two named ports at once (1 MiB of random bytes
echoed and compared byte for byte while lines come back upper-cased on the
other port), a port the host closes and reopens keeps working, `vcon`
reaches the host, and the shell answers on port 0 when so configured and
takes a 64 KiB paste there whole. Both
archs, MMIO legacy and modern, and virtio-pci modern-only, transitional and
legacy-only."""
import re
import shutil
import socket
import tempfile
import threading
import time

import pytest
from conftest import (ALL_PCI_PACKED_CASES, BSPS, boot_line, bsp_modes, build, check_features,
                      expected_features, paste_64k_arrives_intact, ring_layout, virtio_dev,
                      virtio_kw)
from qmp import QMP, qmp_args

CONFIG = ('examples/console/console.conf', 'tests/configs/virtio-console-shell.conf')
ECHO_BYTES = 1 << 20


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


@pytest.fixture
def sockdir():
    # Unix socket paths are limited to 108 bytes: a short directory in /tmp.
    d = tempfile.mkdtemp(prefix='vcon', dir='/tmp')
    yield d
    shutil.rmtree(d, ignore_errors=True)


def serial_args(d, mode='modern'):
    args = ['-device', virtio_dev('serial', mode)]
    for cid, dev in (('c0', 'virtconsole'), ('echo', 'virtserialport,name=org.rtos.echo'),
                     ('upper', 'virtserialport,name=org.rtos.upper')):
        args += ['-chardev', f'socket,path={d}/{cid},server=on,wait=off,id={cid}']
        kind, _, name = dev.partition(',')
        args += ['-device', f'{kind},chardev={cid}' + (',' + name if name else '')]
    if mode.startswith('pci'):
        # QEMU's default, which tools/run.py turns off: the device answers
        # from QEMU's I/O thread, so its INTx line is often already asserted
        # when the driver enables it. A PLIC enable that QEMU does not
        # re-evaluate then lost the port names in about a third of riscv64
        # boots (plic.cpp writes the priority last for that).
        args += ['-global', 'virtio-serial-pci.ioeventfd=on']
    return args


def connect(path, timeout=60):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exactly(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(65536, n - len(buf)))
        if not chunk:
            raise AssertionError(f'connection closed after {len(buf)} of {n} bytes')
        buf += chunk
    return bytes(buf)


def recv_until(s, pattern, timeout=20):
    """Reads until the regex matches the text received; returns the text."""
    text = ''
    deadline = time.monotonic() + timeout
    while not re.search(pattern, text):
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            raise AssertionError(f'timeout waiting for {pattern!r}; got {text[-1000:]!r}') from None
        if not chunk:
            raise AssertionError(f'closed while waiting for {pattern!r}; got {text[-1000:]!r}')
        text += chunk.decode('utf-8', 'replace')
        if time.monotonic() > deadline:
            raise AssertionError(f'timeout waiting for {pattern!r}; got {text[-1000:]!r}')
    return text


def wait_listing(g, pattern, what, timeout=10):
    """Polls `vcon list` until the regex matches: a host open or close
    reaches the guest through the control queue, however busy the host."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, listing := g.run('vcon list'), re.M):
        assert time.monotonic() < deadline, f'{what} never reached the guest:\n{listing}'
        time.sleep(0.1)


def echo_round(path, data):
    """Sends data on a fresh connection while reading the echo; returns it."""
    s = connect(path)
    errors = []

    def writer():
        try:
            s.sendall(data)
        except OSError as e:  # reported by the reader's comparison
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    try:
        back = recv_exactly(s, len(data))
    finally:
        t.join(60)
        s.close()
    assert not errors, errors
    return back


def upper_round(path, lines):
    s = connect(path)
    try:
        s.sendall(''.join(lines).encode())
        expect = ''.join(lines).upper().encode()
        return recv_exactly(s, len(expect)) == expect
    finally:
        s.close()


# The modern interfaces offer the packed ring (the transitional PCI device
# and test_console_single_port_shell keep the split ring's modern cases).
@pytest.mark.parametrize('bsp, mode', bsp_modes(('legacy', 'packed'), ALL_PCI_PACKED_CASES))
def test_console_ports(boot, sockdir, bsp, mode):
    import random
    out = build(bsp, f'{arch(bsp)}-console', CONFIG)
    g = boot(bsp, out, wait_prompt=False, extra=serial_args(sockdir, mode) + qmp_args(f'{sockdir}/qmp'),
             timeout=60, **virtio_kw(mode))
    log = g.wait_prompt()
    # Over PCI QEMU takes notifications in its I/O thread (ioeventfd), so the
    # ports may be announced after the boot line; over MMIO within the kick.
    ports = '3' if mode in ('legacy', 'packed') else '[0-3]'
    assert re.search(boot_line('virtio-console', mode) + rf' (?:irq|msix) \d+ queue \d+ '
                     rf'ring {ring_layout(mode)} ports {ports} features ', log), log
    qmp = QMP(f'{sockdir}/qmp')
    check_features(log, 'virtio-console', mode, expected_features('virtio-console', mode), qmp=qmp)
    qmp.close()
    for line in ('port 1 name org.rtos.echo', 'port 2 name org.rtos.upper'):
        if line not in log:
            log += g.expect(re.escape(line))
    # The two services open their ports on threads that may run on different
    # CPUs, in either order: wait for both guest opens.
    wait_listing(g, r'^0\s+1\s+org\.rtos\.echo\s+closed\s+open\s', 'the guest open of echo')
    wait_listing(g, r'^0\s+2\s+org\.rtos\.upper\s+closed\s+open\s', 'the guest open of upper')
    listing = g.run('vcon list')
    assert re.search(r'^0\s+0\s+\(console\)\s+\w+\s+open\s.*console', listing, re.M), listing

    # 1 MiB through org.rtos.echo while lines go through org.rtos.upper.
    data = random.Random(10).randbytes(ECHO_BYTES)
    lines = [f'line {i} of the upper service, MiXeD case\n' for i in range(300)]
    upper_ok = []
    t = threading.Thread(target=lambda: upper_ok.append(upper_round(f'{sockdir}/upper', lines)))
    t.start()
    back = echo_round(f'{sockdir}/echo', data)
    t.join(120)
    assert back == data, next(i for i in range(len(data)) if back[i] != data[i])
    assert upper_ok == [True]

    # Closed above (the guest sees it), opened again: the service still answers.
    wait_listing(g, r'^0\s+1\s+org\.rtos\.echo\s+closed\s+open', 'the host close')
    again = random.Random(11).randbytes(5000)
    assert echo_round(f'{sockdir}/echo', again) == again

    # The guest writes to a port the host has open.
    up = connect(f'{sockdir}/upper')
    try:
        wait_listing(g, r'^0\s+2\s+org\.rtos\.upper\s+open\s', 'the host open')
        assert 'vcon: 16 bytes to org.rtos.upper' in g.run('vcon write org.rtos.upper hello from tern')
        assert recv_until(up, 'hello from tern\n')
    finally:
        up.close()
    listing = g.run('vcon list')
    m = re.search(r'^0\s+1\s+org\.rtos\.echo\s+\w+\s+open\s+(\d+)\s+(\d+)', listing, re.M)
    assert m and int(m.group(1)) == ECHO_BYTES + 5000 == int(m.group(2)), listing

    # The shell on port 0.
    c0 = connect(f'{sockdir}/c0')
    try:
        wait_listing(g, r'^0\s+0\s+\(console\)\s+open\s', 'the host open of port 0')
        c0.sendall(b'version\r')
        text = recv_until(c0, r'Tern \S+ \(qemu-virt64-\w+, \w+\)[\s\S]*msh> ')
        assert 'version' in text
    finally:
        c0.close()
    g.run('echo still alive')


@pytest.mark.parametrize('mode', ['legacy', 'modern'])
@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_console_single_port_shell(boot, sockdir, bsp, mode):
    """max_ports=1: QEMU offers no MULTIPORT, port 0 is all there is (no
    control queue); the shell still answers there."""
    out = build(bsp, f'{arch(bsp)}-console', CONFIG)
    g = boot(bsp, out, virtio=mode, wait_prompt=False, timeout=60,
             extra=['-device', 'virtio-serial-device,max_ports=1',
                    '-chardev', f'socket,path={sockdir}/c0,server=on,wait=off,id=c0',
                    '-device', 'virtconsole,chardev=c0'])
    log = g.wait_prompt()
    assert re.search(rf'virtio-console: mmio {mode} @0x[0-9a-f]+ (?:irq|msix) \d+ queue \d+ '
                     r'ring split ports 1 ', log), log
    check_features(log, 'virtio-console', mode,
                   expected_features('virtio-console', mode, without=('multiport',)))
    c0 = connect(f'{sockdir}/c0')
    try:
        c0.sendall(b'echo over port zero\r')
        recv_until(c0, r'echo over port zero\r\nover port zero\r\n')
    finally:
        c0.close()
    assert re.search(r'^0\s+0\s+-\s+open\s+open\s+\d+', g.run('vcon list'), re.M)


# MMIO legacy, split and packed, PCI modern-only; both boards.
@pytest.mark.parametrize('bsp, mode', bsp_modes(('legacy', 'modern', 'packed'),
                                                [(b, 'pci-modern') for b in BSPS]))
def test_console_port0_paste_64k_arrives_intact(boot, sockdir, bsp, mode):
    """The UART test's paste through port 0's socket instead: the driver
    keeps a receive buffer the console's full input ring has not taken
    (posting none), so QEMU stops reading the socket until the shell reads."""
    out = build(bsp, f'{arch(bsp)}-console', CONFIG)
    g = boot(bsp, out, wait_prompt=False, extra=serial_args(sockdir, mode), timeout=60,
             **virtio_kw(mode))
    g.wait_prompt()
    c0 = connect(f'{sockdir}/c0')
    try:
        wait_listing(g, r'^0\s+0\s+\(console\)\s+open\s', 'the host open of port 0')
        paste_64k_arrives_intact(g, c0.sendall)
    finally:
        c0.close()


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_vcon_write_ctrl_c(boot, sockdir, bsp):
    """The host sends org.rtos.upper lines and reads nothing: the replies
    fill the socket, QEMU keeps every transmit buffer, and the upper service
    waits for one, holding the port. `vcon write` then waits at most a
    second; Ctrl-C ends the wait, and the line says nothing went out. Once
    the host reads, every reply arrives and the port works again."""
    out = build(bsp, f'{arch(bsp)}-console', CONFIG)
    g = boot(bsp, out, wait_prompt=False, extra=serial_args(sockdir), timeout=60)
    if 'console demo: org.rtos.upper open' not in g.wait_prompt():
        g.expect('console demo: org.rtos.upper open')
    up = connect(f'{sockdir}/upper')
    try:
        wait_listing(g, r'^0\s+2\s+org\.rtos\.upper\s+open\s', 'the host open')
        line = b'stall ' * 40 + b'\n'
        sent = probes = 0
        up.setblocking(False)
        deadline = time.monotonic() + 60
        while True:
            try:
                while time.monotonic() < deadline:  # until nobody takes more
                    sent += up.send(line * 64)
            except BlockingIOError:
                pass
            probe = g.run('vcon write org.rtos.upper probe')
            if 'write to org.rtos.upper failed: timeout' in probe:
                break
            assert 'vcon: 6 bytes to org.rtos.upper' in probe, probe
            probes += 1
            assert time.monotonic() < deadline, f'the port never stalled ({sent} bytes sent)'
        out = g.interrupt('vcon write org.rtos.upper stopped',
                          r'vcon write org\.rtos\.upper stopped\r*\n', 'vcon: interrupted',
                          timeout=10)
        assert re.search(r'^vcon: 0 of 8 bytes to org\.rtos\.upper before the interrupt\n\^C$',
                         out, re.M), out
        # Every whole line comes back upper-cased, with the probes that went
        # through and nothing of the writes that gave up; then a write goes
        # through.
        up.settimeout(60)
        lines = sent // len(line)
        back = recv_exactly(up, lines * len(line) + probes * len(b'probe\n'))
        assert back.count(b'probe\n') == probes
        assert back.replace(b'probe\n', b'') == line.upper() * lines
        assert 'vcon: 6 bytes to org.rtos.upper' in g.run('vcon write org.rtos.upper again')
        assert recv_until(up, r'again\n') == 'again\n'
    finally:
        up.close()

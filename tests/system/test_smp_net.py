"""virtio-net and lwIP at -smp 4 (docs/smp.md, "Driver locks"): four TCP
echo connections at once, the guest's echo thread of each pinned to a
different CPU (examples/net pins each connection's thread to the next CPU),
so frames are sent, received and their buffers given back to the driver from
four CPUs while its receive thread and interrupts run on others. Every
stream is checked byte for byte from the host, then the driver's counters
(no errors, no drops) and a ping. Both boards, under -icount (-smp 4
without it suffers lock-holder preemption on a 2-core host, see
tests/system/test_smp.py)."""
import random
import re
import socket
import threading

import pytest
from conftest import BSPS, build, virtio_kw
from qemu_cmd import free_ports
from test_net import DEMO, arch, check_echo, connect, counters, echo_back, user_net

ICOUNT = ['-icount', 'shift=4,sleep=off']
CPUS = 4
STREAM = 256 << 10  # bytes per connection


def at_smp4(boot):
    """The `boot` fixture at -smp 4 under -icount: the devices' interrupt
    lines spread over the CPUs (irq::attach), the shell on one of them."""
    def start(bsp, build_dir=None, extra=(), **kw):
        return boot(bsp, build_dir, smp=CPUS, extra=ICOUNT + list(extra), **kw)
    return start


A64 = 'qemu-virt64-aarch64'
# (bsp, virtio mode, boot() options, MSI controller the boot log names):
# virtio-mmio with wired interrupts on both boards, and virtio-net-pci with
# MSI-X through the GICv2m and the GICv3 ITS.
CASES = [pytest.param(b, 'modern', {}, None, id=arch(b)) for b in BSPS] + [
    pytest.param(A64, 'pci', {}, 'gic-v2m', id='aarch64-pci-gicv2m'),
    pytest.param(A64, 'pci', {'cpu': 'cortex-a72', 'machine_opts': 'gic-version=3'}, 'gic-v3-its',
                 id='aarch64-pci-its'),
]


@pytest.mark.parametrize('bsp,mode,machine,msi', CASES)
def test_tcp_echo_from_every_cpu(boot, bsp, mode, machine, msi):
    out = build(bsp, f'{arch(bsp)}-net-demo', DEMO)
    tcp_port, http_port = free_ports(2, socket.SOCK_STREAM)
    (udp_port,) = free_ports(1, socket.SOCK_DGRAM)
    g = boot(bsp, out, smp=CPUS, wait_prompt=False, **virtio_kw(mode), **machine,
             extra=ICOUNT + user_net(tcp_port, udp_port, http_port, '', mode))
    log = g.wait_prompt(timeout=60)
    assert re.search(rf'^smp: {CPUS} cpus online', log, re.M), log
    if msi:
        assert re.search(rf'^{msi}: ', log, re.M), log
        assert re.search(r'virtio-net: pci .* msix \d+', log), log
    if 'net: dhcp bound' not in log:
        g.expect(r'net: dhcp bound \S+\s', timeout=60)

    # Every connection open and echoing before the next: its server thread
    # exists, pinned to the next CPU (the demo serves 4 at once).
    socks = []
    try:
        for k in range(CPUS):
            s = connect(tcp_port, deadline_s=60)
            s.settimeout(60)
            s.sendall(b'x')
            assert s.recv(1) == b'x'
            socks.append(s)
        ps = g.run('ps')
        cpus = sorted(int(c) for c in re.findall(r'^tcp-echo-c\s+\S+\s+\d+\s+\d+\s+(\d+)', ps,
                                                   re.M))
        assert cpus == list(range(CPUS)), ps

        rnd = random.Random(f'smp-net-{bsp}')
        data = [rnd.randbytes(STREAM) for _ in range(CPUS)]
        result = [None] * CPUS

        def stream(k):  # result[k]: what came back, or the error
            try:
                result[k] = echo_back(socks[k], data[k])
            except OSError as e:
                result[k] = e

        threads = [threading.Thread(target=stream, args=(k,)) for k in range(CPUS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        failed = [k for k in range(CPUS) if not isinstance(result[k], bytes)]
        if failed:  # what the guest was doing
            state = g.run('ps') + g.run('ifconfig') + g.run('cpus')
            pytest.fail(f'connections {failed}: {[result[k] for k in failed]}, '
                        f'others {[len(r) for r in result if isinstance(r, bytes)]} bytes\n{state}')
        for k in range(CPUS):
            check_echo(result[k], data[k], f'connection {k}: echoed stream')
    finally:
        for s in socks:
            s.close()

    rx, tx = counters(g.run('ifconfig'))
    assert rx[1] > CPUS * STREAM and tx[1] > CPUS * STREAM, (rx, tx)
    assert rx[3] == 0 and tx[2] == 0 and tx[3] == 0, (rx, tx)
    assert 'ping: 1 sent, 1 received' in g.run('ping 10.0.2.2 1', timeout=30)
    g.send('poweroff\r')
    assert g.wait_exit() == 0

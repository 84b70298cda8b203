"""tools/bench.py --net (tools/benchlib/net.py) on the network demo build of
both boards, with tiny sizes (seconds): every line in its format, and the
data checks made from the host hold (the sink counted every byte sent, the
echo equals what was sent). Without a real device: the checks catch an echo
server that changes one byte and a sink that counts short. Never a timing
assertion: the figures are host time.
"""
import json
import os
import socket
import subprocess
import sys
import threading

import pytest
from benchlib import net
from conftest import BSPS, ROOT, build

DEMO = ('examples/net/net.conf',)


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_bench_net_lines_and_data(tmp_path, bsp):
    out = build(bsp, f'{arch(bsp)}-net-demo', DEMO)  # the build test_net.py uses
    js = tmp_path / 'net.json'
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'bench.py'), '--net',
                        '--build', out, '--modern', '--net-size', '0.5', '--net-requests', '100',
                        '--timeout', '90', '--json', str(js)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0, r.stdout
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith('net: ')]
    assert [net.LINE_RE.match(ln).group(1) if net.LINE_RE.match(ln) else ln
            for ln in lines] == list(net.NAMES), r.stdout
    data = json.loads(js.read_text())
    assert list(data['net']) == list(net.NAMES)
    for name, res in data['net'].items():
        assert res['value'] > 0, (name, res)
        if 'kicks_per_packet' in res:  # the image has `virtio stat`
            assert 0 < res['kicks_per_packet'] <= 2 and 0 < res['irqs_per_packet'] <= 4, res


class FakeServer:
    """A TCP server on 127.0.0.1 that echoes with one byte changed, or
    counts one byte short, to show the host-side checks catch it."""

    def __init__(self, kind):
        self.l = socket.create_server(('127.0.0.1', 0))
        self.port = self.l.getsockname()[1]
        self.kind = kind
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        c, _ = self.l.accept()
        with c:
            total = 0
            while chunk := c.recv(65536):
                if self.kind == 'echo':
                    if total <= 1000 < total + len(chunk):
                        chunk = bytearray(chunk)
                        chunk[1000 - total] ^= 1
                    c.sendall(chunk)
                total += len(chunk)
            if self.kind == 'sink':
                c.sendall(f'{total - 1}\n'.encode())

    def close(self):
        self.l.close()
        self.t.join(10)


@pytest.mark.parametrize('kind', ['echo', 'sink'])
def test_bench_net_checks_catch_bad_data(kind):
    class Error(Exception):
        pass

    srv = FakeServer(kind)
    data = net.pattern(100000)
    try:
        check = net.echo_stream if kind == 'echo' else net.host_to_guest
        with pytest.raises(Error, match='first difference at byte 1000' if kind == 'echo'
                           else 'counted .99999. bytes of 100000'):
            check(srv.port, data, 0, Error)
    finally:
        srv.close()

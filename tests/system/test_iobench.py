"""Per-queue counters (`virtio stat`) and the wall-clock I/O benchmark
(`iobench`, tools/bench.py --io) through real QEMU devices, checked from the
host: a known workload gives known counts (N single reads at queue depth 1 are
N kicks, N used entries, N interrupts), the data read is the image's, and the
tool prints every line in its format with exactly one kick per request at
depth 1. Never a timing assertion: the figures are host time. A few seconds
per boot.
"""
import os
import re
import subprocess
import zlib

import pytest
from conftest import BSPS, ROOT, build

STAT_RE = re.compile(r'^(virtio-blk@0x[0-9a-f]+) q0 kicks=(\d+) suppressed=(\d+) irqs=(\d+) '
                     r'used=(\d+) inflight_max=(\d+)$', re.M)
LOGS = os.path.join(ROOT, 'build', 'test-logs')


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


def stat(g, args=''):
    out = g.run('virtio stat' + args)
    m = STAT_RE.findall(out)
    assert len(m) == 1, out
    name, *counts = m[0]
    return dict(zip(('kicks', 'suppressed', 'irqs', 'used', 'inflight_max'), map(int, counts)))


@pytest.mark.parametrize('mode', ['legacy', 'modern', 'packed'])
@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_virtio_stat_counts_a_known_workload(boot, tmp_path, bsp, mode):
    out = build(bsp)
    img = tmp_path / 'disk.img'
    data = os.urandom(1 << 20)
    img.write_bytes(data)
    g = boot(bsp, out, virtio=mode, disks=[str(img)])
    stat(g, ' -r')
    zero = stat(g)
    assert zero == {'kicks': 0, 'suppressed': 0, 'irqs': 0, 'used': 0, 'inflight_max': 0}

    # `blk crc` reads 64 sectors per request, one at a time: 10 requests.
    m = re.search(r'crc32=([0-9a-f]{8})', g.run('blk crc 0 640'))
    assert m and int(m.group(1), 16) == zlib.crc32(data[:640 * 512]), 'data read is the image'
    s = stat(g, ' -r')
    assert s['kicks'] == 10 and s['used'] == 10 and s['inflight_max'] == 1, s
    assert s['suppressed'] == 0 and s['irqs'] == 10, s

    # The same reads waited for by polling (BlockRequest::poll): the same
    # data, one kick and one used entry each, an interrupt only for a
    # request that outlasted the spin.
    m = re.search(r'crc32=([0-9a-f]{8})', g.run('blk -p crc 0 640'))
    assert m and int(m.group(1), 16) == zlib.crc32(data[:640 * 512]), 'polled reads: the image'
    s = stat(g, ' -r')
    assert s['kicks'] == 10 and s['used'] == 10 and s['inflight_max'] == 1, s
    assert s['irqs'] <= 10, s

    # 64 reads kept 32 deep from one thread: batches, fewer kicks than requests.
    res = g.run('iobench -n 64 randread-4k-qd32')
    assert re.search(r'^io: randread-4k-qd32 - \d+ IOPS', res, re.M), res
    s = stat(g)
    assert s['used'] == 64 and s['inflight_max'] == 32, s
    assert 1 <= s['kicks'] + s['suppressed'] <= 64 and s['kicks'] < 64, s
    assert 1 <= s['irqs'] <= 64, s


def test_bench_io_tool(tmp_path):
    bsp = BSPS[0]
    build(bsp)
    os.makedirs(LOGS, exist_ok=True)
    js = tmp_path / 'io.json'
    r = subprocess.run([os.path.join(ROOT, 'tools', 'bench.py'), '--io', '--bsp', bsp,
                        '--io-count', '64', '--io-size', '16', '--json', str(js),
                        '--timeout', '120', '--log', os.path.join(LOGS, 'bench-io.log')],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    assert r.returncode == 0, r.stdout
    assert re.search(r'^io: cpu-ref \d+ kloops/s$', r.stdout, re.M), r.stdout
    lines = {}
    for name in ('randread-4k-qd1', 'randread-4k-qd1-poll', 'randread-4k-qd32',
                 'randwrite-4k-qd1', 'randwrite-4k-qd1-poll', 'randwrite-4k-qd32',
                 'seqread-1m', 'seqwrite-1m'):
        m = re.search(rf'^io: {name} null-co (\d+) IOPS (\d+\.\d) MB/s (\d+\.\d{{3}}) kicks/req '
                      rf'(\d+\.\d{{3}}) irqs/req$', r.stdout, re.M)
        assert m, (name, r.stdout)
        lines[name] = m
    # Depth 1: exactly one notification per request, whatever the host's
    # speed; polled or not, at most one interrupt.
    for name in ('randread-4k-qd1', 'randwrite-4k-qd1', 'randread-4k-qd1-poll',
                 'randwrite-4k-qd1-poll'):
        assert lines[name].group(3) == '1.000', lines[name].group(0)
        assert float(lines[name].group(4)) <= 1.0, lines[name].group(0)
    import json
    data = json.loads(js.read_text())
    assert data['backend'] == 'null-co' and data['icount'] is None
    assert set(data['results']) == set(lines) and not data['failed']
    # Read from the disk's boot line (its feature words).
    assert data['ring'] in ('legacy', 'modern') and data['event_idx'] is True, data


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_polled_request_outlasting_the_spin(boot, bsp):
    """A device slower than the spin (null-co answering after 20 ms, the spin
    CONFIG_BLK_POLL_US = 200 us, the clock looked at now and then): a polled
    request's waiter stops spinning, turns the interrupt back on and sleeps
    until it comes. Never a timing assertion: a vCPU the host stalls past
    the device's latency finds the completion while it spins, so at least
    half the requests, not all, take an interrupt."""
    out = build(bsp)
    g = boot(bsp, out, extra=['-drive', 'driver=null-co,size=16777216,latency-ns=20000000,'
                              'if=none,id=slow', '-device', 'virtio-blk-device,drive=slow'])
    res = g.run('iobench -n 16 randread-4k-qd1-poll')
    m = re.search(r'^io: randread-4k-qd1-poll - \d+ IOPS \d+\.\d MB/s 1\.000 kicks/req '
                  r'(\d+\.\d{3}) irqs/req$', res, re.M)
    assert m, res
    assert 0.5 <= float(m.group(1)) <= 1.0, m.group(0)

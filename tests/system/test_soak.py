"""The 60-second soak (tools/soak.py, docs/reliability.md): both boards at
once under mixed load from inside (sector, file and heap threads) and from
the host (TCP and UDP echo, console ports); no data mismatch, no lost
stream byte, the heap back to its baseline, no stack above 90 %, the FAT
volume clean for fsck.fat. It soaks the undefined-behaviour sanitizer build
(--ubsan): blk, net, console and FAT moving real data with every UB check
on (the image test_reliability.py runs ktest in); tools/soak.py without
--ubsan soaks the image as shipped (the figures in the docs). Four CPUs per
guest (tools/soak.py's default), more vCPUs than this machine has cores."""
import os
import re
import subprocess
import sys

import pytest
from conftest import BSPS, ROOT


@pytest.mark.timeout(2000)  # its soak.py run is bounded at 1800 s
def test_soak_60_seconds_ubsan():
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'soak.py'), '--minutes', '1',
                        '--ubsan', '--smp', '4', '--builds', os.path.join(ROOT, 'build', 'test')],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=1800)
    print(r.stdout)
    for bsp in BSPS:
        m = re.search(rf'^soak: {bsp} (\d+) operations, (\d+) errors, heap (baseline|leaked \d+), '
                      rf'stack high-water (\d+)%$', r.stdout, re.M)
        assert m, r.stdout
        assert int(m.group(1)) > 1000 and m.group(2) == '0' and m.group(3) == 'baseline', m.group(0)
        assert int(m.group(4)) <= 90, m.group(0)
        kinds = re.search(rf'^soak: {bsp} console (\d+), files (\d+), heap (\d+), sectors (\d+), '
                          rf'tcp (\d+), udp (\d+)$', r.stdout, re.M)
        assert kinds and all(int(n) > 0 for n in kinds.groups()), r.stdout
    assert 'ubsan:' not in r.stdout
    assert r.returncode == 0, r.stdout

"""The 60-second soak (tools/soak.py, docs/reliability.md): both boards at
once under mixed load from inside (sector and heap threads) and from the
host (TCP and UDP echo, console ports); no data mismatch, no lost stream
byte, the heap back to its baseline, no stack above 90 %."""
import os
import re
import subprocess
import sys

from conftest import BSPS, ROOT


def test_soak_60_seconds():
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'soak.py'), '--minutes', '1'],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=1200)
    print(r.stdout)
    for bsp in BSPS:
        m = re.search(rf'^soak: {bsp} (\d+) operations, (\d+) errors, heap (baseline|leaked \d+), '
                      rf'stack high-water (\d+)%$', r.stdout, re.M)
        assert m, r.stdout
        assert int(m.group(1)) > 1000 and m.group(2) == '0' and m.group(3) == 'baseline', m.group(0)
        assert int(m.group(4)) <= 90, m.group(0)
    assert r.returncode == 0, r.stdout

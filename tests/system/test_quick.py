"""The check of the edit-build-test loop (tools/test --quick runs it with the
host unit tests): each board's default build boots, its shell answers and
every kernel test passes; then sectors the guest writes to a disk are in the
image, read back from the host. It runs in the full suite too.

Two boots per board: the kernel tests run under -icount sleep=off (as in
test_ktest.py), where an idle guest's virtual time jumps to its next timer;
a disk write waiting on a host descheduled by other work can then see its
10 s request timeout expire first (seen on a loaded host). The disk boot
runs on the host clock."""
import re

import pytest
from conftest import BSPS, build
from test_blk import SECTOR, stamp
from test_ktest import ICOUNT, power_off, run_ktest


@pytest.mark.parametrize('bsp', BSPS)
def test_shell_ktest_and_a_disk_write(boot, tmp_path, bsp):
    out = build(bsp)
    g = boot(bsp, out, extra=ICOUNT)
    assert re.search(rf'Tern \S+ \({bsp}, \w+\)', g.run('version'))
    run_ktest(g, bsp, 'quick')
    power_off(g)

    img = tmp_path / 'disk.img'
    img.write_bytes(bytes(1 << 20))
    g = boot(bsp, out, disks=[str(img)])
    assert 'stamped 2 sectors at lba 7 on vda' in g.run('blk stamp 7 2')
    power_off(g)
    data = img.read_bytes()
    assert data[7 * SECTOR:9 * SECTOR] == stamp(7) + stamp(8)
    assert data[:7 * SECTOR] == bytes(7 * SECTOR)  # the neighbours untouched
    assert data[9 * SECTOR:] == bytes(len(data) - 9 * SECTOR)

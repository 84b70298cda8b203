"""The check of the edit-build-test loop (tools/test --quick runs it with the
host unit tests): one boot of each board's default build, in which the shell
answers, every kernel test passes, and sectors the guest writes to a disk
are in the image, read back from the host. It runs in the full suite too."""
import re

import pytest
from conftest import BSPS, build
from test_blk import SECTOR, stamp
from test_ktest import ICOUNT, power_off, run_ktest


@pytest.mark.parametrize('bsp', BSPS)
def test_shell_ktest_and_a_disk_write(boot, tmp_path, bsp):
    img = tmp_path / 'disk.img'
    img.write_bytes(bytes(1 << 20))
    g = boot(bsp, build(bsp), disks=[str(img)], extra=ICOUNT)
    assert re.search(rf'Tern \S+ \({bsp}, \w+\)', g.run('version'))
    run_ktest(g, bsp, 'quick')
    assert 'stamped 2 sectors at lba 7 on vda' in g.run('blk stamp 7 2')
    power_off(g)
    data = img.read_bytes()
    assert data[7 * SECTOR:9 * SECTOR] == stamp(7) + stamp(8)
    assert data[:7 * SECTOR] == bytes(7 * SECTOR) and data[9 * SECTOR:] == bytes(len(data) - 9 * SECTOR)

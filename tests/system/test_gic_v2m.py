"""The GICv2m MSI frame (components/drivers/irq/gic_v2m.cpp) on QEMU's aarch64
virt board: the SPI range it takes (from the frame's MSI_TYPER, or from
arm,msi-base-spi / arm,msi-num-spis in a tree handed to QEMU with -dtb), its
boot line, and an MSI raised through it (`ktest msi`: a CPU store of the
message data, each message its own interrupt, held back while disabled).
A range outside the distributor is refused, and the kernel runs on without
an MSI controller."""
import re
import subprocess

import pytest
import qemu_cmd
from conftest import build

BSP = 'qemu-virt64-aarch64'


def ktest_msi(g):
    out = g.run('ktest msi', timeout=60)
    assert re.search(r'^ktest: 2 passed, 0 failed$', out, re.M), out
    return out


def test_frame_from_msi_typer(boot):
    g = boot(BSP, build(BSP), wait_prompt=False)
    log = g.wait_prompt()
    # QEMU virt: SPIs 48-111 of the GIC, INTIDs 80-143.
    assert 'gic-v2m: @0x8020000 spis 64 (80-143)\n' in log.replace('\r', ''), log
    out = ktest_msi(g)
    assert 'gic-v2m: irqs 80 81, messages 0x8020040 <- 0x50, 0x8020040 <- 0x51' in out, out


def tree_with(tmp_path, props):
    """QEMU's own tree for this board with `props` added to the v2m node."""
    dtb = tmp_path / 'virt.dtb'
    argv = qemu_cmd.command(BSP, build(BSP), machine_opts=f'dumpdtb={dtb}', interactive=False)
    subprocess.run(argv, check=True, timeout=30, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    dts = subprocess.run(['dtc', '-q', '-I', 'dtb', '-O', 'dts', str(dtb)], check=True,
                         capture_output=True, text=True).stdout
    dts, n = re.subn(r'(v2m@8020000 \{\n)', r'\1' + props + '\n', dts)
    assert n == 1, 'no v2m node in the dumped tree'
    out = tmp_path / 'v2m.dtb'
    subprocess.run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', str(out), '-'], input=dts,
                   check=True, text=True)
    return str(out)


def test_frame_range_from_the_tree(boot, tmp_path):
    """A subrange of the frame's SPIs, as a firmware would hand out."""
    dtb = tree_with(tmp_path, 'arm,msi-base-spi = <96>; arm,msi-num-spis = <16>;')
    g = boot(BSP, build(BSP), wait_prompt=False, extra=['-dtb', dtb])
    log = g.wait_prompt()
    assert 'gic-v2m: @0x8020000 spis 16 (96-111) from the device tree' in log, log
    out = ktest_msi(g)
    assert 'gic-v2m: irqs 96 97,' in out, out


@pytest.mark.parametrize('props', [
    'arm,msi-base-spi = <1000>; arm,msi-num-spis = <64>;',  # past the distributor's 288
    'arm,msi-base-spi = <16>; arm,msi-num-spis = <8>;',  # PPIs, not SPIs
    'arm,msi-base-spi = <80>; arm,msi-num-spis = <0>;',
    'arm,msi-base-spi = <80>; arm,msi-num-spis = <0xffffffff>;',
], ids=['past-end', 'ppis', 'none', 'huge'])
def test_bad_range_is_refused(boot, tmp_path, props):
    dtb = tree_with(tmp_path, props)
    g = boot(BSP, build(BSP), wait_prompt=False, extra=['-dtb', dtb])
    log = g.wait_prompt()
    assert re.search(r'gic-v2m: @0x8020000 spis \d+ from \d+ \(device tree\) outside the '
                     r"distributor's 32-\d+: not used", log), log
    out = ktest_msi(g)
    assert 'no MSI controller' in out, out

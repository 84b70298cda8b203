"""Footprint (tools/footprint.py): the minimal kernel-only image stays within
issue 13's text targets and still boots; the size report reads the link map
and symbols right. On aarch64 the image starts with the vector table (no
alignment padding), whose slot 0 is an arm64 Image header: rtos.bin boots
with -kernel at EL1, EL2 and EL3."""
import json
import os
import re
import subprocess
import sys

import pexpect
import pytest
from conftest import BSPS, ROOT, build

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import footprint  # noqa: E402
import qemu_cmd  # noqa: E402


def minimal(bsp):
    fragments = [f for name, frags in footprint.CONFIGS if name == 'minimal' for f in frags]
    fragments += footprint.ARCH_EXTRA.get(('minimal', footprint.bsp_arch(bsp)), [])
    return build(bsp, f'{bsp}-minimal', config=fragments)


@pytest.mark.parametrize('bsp', BSPS)
def test_minimal_image_within_target_and_boots(bsp, boot):
    out = minimal(bsp)
    r = footprint.analyse(out, top=50)
    target = footprint.MINIMAL_TEXT_TARGET[r['arch']]
    assert r['text'] <= target, (
        f'minimal text {r["text"]} B over the {target} B target; tools/footprint.py '
        'lists the largest objects and symbols')
    # The map's per-object text adds up to the text section: nothing but
    # function alignment between objects (no padding before a vector table).
    objects_text = sum(o['text'] for o in r['objects'])
    assert r['text'] - 64 <= objects_text <= r['text'], (objects_text, r['text'])
    names = [o['name'] for o in r['objects']]
    assert 'rtos/kernel/scheduler.o' in names and not any('fdt' in n for n in names), names
    # No shell: the last boot line is the tick's.
    g = boot(bsp, out, wait_prompt=False)
    g.expect(r'tick: 1000 Hz via \w+\r*\n')


def test_footprint_command(tmp_path):
    """The command users run (one board, the minimal configuration, to stay
    cheap): table, target and JSON."""
    path = tmp_path / 'f.json'
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'footprint.py'), '-j2',
                        '--bsp', BSPS[0], '--config', 'minimal', '--top', '3', '--json',
                        str(path), '--check'],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    assert re.search(rf'^minimal\s+{BSPS[0]}\s+\d+\s+\d+\s+\d+\s+\d+$', r.stdout, re.M), \
        r.stdout
    assert re.search(rf'target: minimal \[{BSPS[0]}\] text \d+ B .*: met', r.stdout), r.stdout
    data = json.load(open(path))['results'][BSPS[0]]['minimal']
    assert len(data['objects']) == 3 and len(data['symbols']) == 3


@pytest.mark.parametrize('opts', ['', 'virtualization=on', 'secure=on'])
def test_aarch64_bin_boots_as_linux_image(opts):
    bsp = 'qemu-virt64-aarch64'
    out = minimal(bsp)
    with open(os.path.join(out, 'rtos.bin'), 'rb') as f:
        head = f.read(64)
    assert head[56:60] == b'ARM\x64', head  # the Image header's magic
    syms = subprocess.run(['aarch64-linux-gnu-nm', os.path.join(out, 'rtos.elf')],
                          stdout=subprocess.PIPE, text=True, check=True).stdout
    addr = {m.group(2): m.group(1) for m in re.finditer(r'^(\w+) \w (\S+)$', syms, re.M)}
    assert addr['rtos_aarch64_vectors'] == addr['_start'] == addr['__image_start'], addr
    argv = qemu_cmd.command(bsp, out, machine_opts=opts or None, interactive=False)
    argv[argv.index('-kernel') + 1] = os.path.join(out, 'rtos.bin')
    p = pexpect.spawn(argv[0], argv[1:], encoding='utf-8', codec_errors='replace', timeout=30)
    try:
        p.expect(r'tick: 1000 Hz via \w+\r*\n')
    finally:
        p.close(force=True)

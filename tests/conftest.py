"""Shared fixtures: building a configuration once (safe under pytest-xdist)
and booting it in QEMU."""
import fcntl
import json
import os
import random
import re
import subprocess
import sys
import threading
import uuid
import zlib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'system'))

import builds  # noqa: E402
from guest import Guest, echo_pattern  # noqa: E402

# Test order and xdist scheduling: longest first (tests/schedule.py).
pytest_plugins = ['schedule']

BSPS = ['qemu-virt64-riscv', 'qemu-virt64-aarch64']

# The virtio modes the device tests boot in: mode -> (virtio-mmio version for
# run.py's --legacy/--modern/--packed, run.py's --transport, the interface the
# boot line must name). 'pci' is transitional: the driver takes its modern
# side. The packed modes are the modern ones with every device offering the
# packed ring (packed=on): the boot lines say "ring packed".
VIRTIO_MODES = {
    'legacy': ('legacy', 'mmio', 'legacy'),
    'modern': ('modern', 'mmio', 'modern'),
    'packed': ('packed', 'mmio', 'modern'),
    'pci': (None, 'pci', 'modern'),
    'pci-modern': (None, 'pci-modern', 'modern'),
    'pci-packed': ('packed', 'pci-modern', 'modern'),
    'pci-legacy': (None, 'pci-legacy', 'legacy'),
}
# virtio-pci cases of the tests of modern-only device types (gpu, input), one
# per board to keep the run short: modern-only on riscv64, transitional on
# aarch64.
PCI_CASES = [('qemu-virt64-riscv', 'pci-modern'), ('qemu-virt64-aarch64', 'pci')]
# The same with riscv64's modern-only devices offering the packed ring.
PCI_PACKED_CASES = [('qemu-virt64-riscv', 'pci-packed'), ('qemu-virt64-aarch64', 'pci')]
# The devices with a legacy interface too (blk, net, console, rng): every
# board over modern-only, transitional and legacy-only virtio-pci.
ALL_PCI_CASES = [(b, m) for b in BSPS for m in ('pci-modern', 'pci', 'pci-legacy')]
# The same with the modern-only devices offering the packed ring (the split
# ring stays covered by the transitional ones).
ALL_PCI_PACKED_CASES = [(b, 'pci-packed' if m == 'pci-modern' else m) for b, m in ALL_PCI_CASES]


def arch_name(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


def bsp_modes(mmio_modes=('legacy', 'modern'), pci_cases=PCI_CASES):
    """(bsp, mode) parameters: every board in every MMIO mode, plus pci_cases;
    ids as the stacked parametrize gave them ('riscv-modern')."""
    cases = [(b, m) for b in BSPS for m in mmio_modes] + list(pci_cases)
    return [pytest.param(b, m, id=f'{arch_name(b)}-{m}') for b, m in cases]


def virtio_kw(mode):
    """boot() options of a mode: virtio= (MMIO version) and transport=."""
    version, transport, _ = VIRTIO_MODES[mode]
    return {'virtio': version, 'transport': transport}


def virtio_dev(kind, mode):
    """QEMU's device of that kind in that mode: virtio_dev('blk', 'pci') -> 'virtio-blk-pci'."""
    import qemu_cmd
    return qemu_cmd.virtio_device(kind, VIRTIO_MODES[mode][1])


def ring_layout(mode):
    """The ring layout a device's boot line names in that mode."""
    return 'packed' if VIRTIO_MODES[mode][0] == 'packed' else 'split'


def boot_line(device, mode):
    """Regex of the start of a device's boot line in that mode:
    'virtio-blk: mmio modern @0x10008000' or 'virtio-blk: pci legacy 00:03.0'."""
    _, transport, interface = VIRTIO_MODES[mode]
    where = r'@0x[0-9a-f]+' if transport == 'mmio' else r'[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]'
    bus = 'mmio' if transport == 'mmio' else 'pci'
    return rf'{device}: {bus} {interface} {where}'


# The device-type features the default build negotiates with QEMU 7.2's
# devices, as boot lines name them: those QEMU offers and the driver asks
# for. QEMU's virtio-blk offers no SIZE_MAX; its virtio-net on a user-mode
# (slirp) back-end no CSUM or GUEST_CSUM (there is no vnet header);
# virtio-serial MULTIPORT but not SIZE; virtio-rng and virtio-input none.
DEVICE_FEATURES = {
    'virtio-blk': {'seg_max', 'blk_size', 'flush'},
    'virtio-net': {'mac', 'mrg_rxbuf', 'status'},
    'virtio-console': {'multiport'},
    'virtio-rng': set(),
    'virtio-input': set(),
    'virtio-gpu': {'edid'},
}
# The core's: QEMU offers both ring features on every device (the default
# build asks for them), VERSION_1 on a modern interface.
RING_FEATURES = {'indirect_desc', 'event_idx'}
# QEMU's name of a device (x-query-virtio) where it is not ours.
QEMU_DEVICE_NAMES = {'virtio-console': 'virtio-serial'}


def expected_features(device, mode, ring=True, without=()):
    """The feature words a boot line of `device` must show in `mode` with the
    default build (ring=False: a build without EVENT_IDX and INDIRECT_DESC;
    ring_packed in the packed modes), less `without` (what the test turned
    off on the QEMU device)."""
    words = set(DEVICE_FEATURES[device]) | (RING_FEATURES if ring else set())
    if VIRTIO_MODES[mode][2] == 'modern':
        words.add('version_1')
    if VIRTIO_MODES[mode][0] == 'packed':
        words.add('ring_packed')
    return words - set(without)


def boot_features(log, device, mode):
    """The features each boot line of `device` in `mode` names, one set per
    line in log order ('none' is the empty set)."""
    lines = re.findall(boot_line(device, mode) + r' .* features ([a-z0-9_ ]+)', log)
    return [set(words.split()) - {'none'} for words in lines]


def check_features(log, device, mode, expected, count=1, qmp=None):
    """Asserts that `count` boot lines of `device` in `mode` name exactly the
    `expected` features (no silent fallback: a feature lost is a word
    missing), and with a QMP client that QEMU saw the same negotiated.
    `expected` may also be a list of sets, one per device, in any order
    (devices that negotiate differently)."""
    want = [set(e) for e in expected] if isinstance(expected, list) else [set(expected)] * count
    want.sort(key=sorted)
    found = sorted(boot_features(log, device, mode), key=sorted)
    assert found == want, (found, want, log)
    if qmp is not None:
        name = QEMU_DEVICE_NAMES.get(device, device)
        seen = sorted((words for qemu_name, words in qmp.virtio_features() if qemu_name == name),
                      key=sorted)
        assert seen == want, (seen, want)


# RTOS_TEST_CONFIG=<fragment>[,<fragment>...]: every build of the run takes
# these Kconfig fragments too, in folders of their own
# (build/test/<fragment names>/...), so that existing tests run against another
# build: `RTOS_TEST_CONFIG=tests/configs/ubsan.conf pytest tests/system/test_blk.py`
# runs the blk tests in the UBSan build (docs/reliability.md).
EXTRA_CONFIG = tuple(c for c in os.environ.get('RTOS_TEST_CONFIG', '').split(',') if c)
EXTRA_TAG = '+'.join(os.path.splitext(os.path.basename(c))[0] for c in EXTRA_CONFIG)


def _with_extra(out):
    """A build folder moved under build/test/<EXTRA_TAG>/ when RTOS_TEST_CONFIG is set."""
    if not EXTRA_TAG:
        return out
    return os.path.join(ROOT, 'build', 'test', EXTRA_TAG,
                        os.path.relpath(out, os.path.join(ROOT, 'build')))


def _run_id():
    """The same in every xdist worker of one run, different in the next run."""
    return os.environ.get('PYTEST_XDIST_TESTRUNUID') or _RUN_ID


_RUN_ID = uuid.uuid4().hex


def ensure_built(bsp, name=None, config=(), jobs=2, targets=()):
    """Builds a configuration once per run; returns (build folder, None) or
    (build folder, the failed command and its output). The configuration is a
    registered name (tests/builds.py) or fragments (paths from the top of the
    tree or absolute) with a name for its folder; fragments that resolve to a
    registered configuration use that configuration's folder. Concurrent
    callers (xdist workers) wait for each other through a lock file, and a
    folder built earlier in the run with the same inputs is not rebuilt."""
    registered = builds.configurations()
    if not config and name not in (None, builds.DEFAULT):
        if name not in registered:
            raise ValueError(f'build(): unknown configuration {name!r} and no fragments: '
                             'register it in tests/builds.py or pass config=')
        config = registered[name]
    fragments = tuple(os.path.join(ROOT, f) for f in config)
    canonical = builds.registered_name(bsp, builds.resolve(bsp, fragments))
    if canonical is not None:
        name = canonical
        fragments = tuple(os.path.join(ROOT, f) for f in registered[canonical])
    elif not fragments:
        name = builds.DEFAULT
    elif name is None:
        name = '+'.join(os.path.splitext(os.path.basename(f))[0] for f in fragments)
    out = _with_extra(builds.folder(bsp, name))
    fragments += tuple(os.path.join(ROOT, f) for f in EXTRA_CONFIG)
    locks = os.path.join(ROOT, 'build', 'locks')
    os.makedirs(locks, exist_ok=True)
    done = json.dumps({'run': _run_id(), 'fragments': fragments, 'targets': sorted(targets)})
    with open(os.path.join(locks, os.path.relpath(out, ROOT).replace(os.sep, '-') + '.lock'),
              'a+') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        if lock.read() == done:
            return out, None
        argv = ['scons', '-Q', f'-j{jobs}', f'BSP={bsp}', f'BUILD={out}',
                'CONFIG=' + ','.join(fragments)] + list(targets)
        r = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        lock.truncate(0)  # (opened to append: the next write starts the file)
        if r.returncode != 0:
            return out, f'build failed: {" ".join(argv)}\n{r.stdout}'
        lock.write(done)
    return out, None


def build(bsp, name=None, config=(), jobs=2, targets=()):
    """The build folder of a configuration (ensure_built), built once per run:
    build(bsp) is the board's defconfig in build/<bsp>; build(bsp, 'console')
    a configuration of tests/builds.py; build(bsp, 'my-name', config=[...])
    fragments (in that folder unless they resolve to a registered
    configuration). targets: scons targets instead of the default ones (e.g.
    ['flash']). A failed build fails the test with the build output."""
    out, failure = ensure_built(bsp, name, config, jobs, targets)
    if failure:
        pytest.fail(failure, pytrace=False)
    return out


def ubsan_build(bsp):
    """The sanitized soak image (CONFIG_RTOS_UBSAN, every device class with
    its example services; tests/builds.py's 'soak-ubsan'): tools/soak.py
    --ubsan (test_soak.py) soaks the same folder; test_reliability.py runs
    ktest in it, test_hostile_ubsan.py hostile input."""
    return build(bsp, 'soak-ubsan')


def paste_64k_arrives_intact(g, write):
    """64 KiB of random printable text pasted at once into `paste 500`, a
    reader that starts late: the command and the text go through write(bytes)
    (the UART, or virtio-console port 0 as the shell's input), the count and
    CRC-32 the shell prints are read on the UART (g) and compared with the
    host's. The console's input ring holds 1 KiB, so this only passes when
    the input's flow control holds the rest back while the ring is full."""
    rnd = random.Random(21)
    alphabet = bytes(range(0x20, 0x7f))
    data = bytes(rnd.choice(alphabet) for _ in range(64 * 1024))
    write(b'paste 500\r')
    g.expect(echo_pattern('paste 500'))
    # The text goes from a second thread while this one reads the UART: a
    # write that flow control holds back is then bounded by the wait below
    # (a stalled guest fails the test instead of blocking the run), and the
    # guest's output never fills up unread meanwhile.
    failure = []

    def writer():
        try:
            write(data + b'\x04')
        except Exception as e:  # noqa: BLE001 (reported by the test below)
            failure.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    g.expect(r'paste: (\d+) bytes crc32=([0-9a-f]{8})', timeout=120)
    n, crc = int(g.p.match.group(1)), int(g.p.match.group(2), 16)
    t.join(timeout=30)
    assert not t.is_alive() and not failure, f'the paste was not all written: {failure}'
    assert (n, crc) == (len(data), zlib.crc32(data)), (n, hex(crc))
    g.wait_prompt()
    assert g.run('echo still here').strip() == 'still here'


@pytest.fixture
def boot(request):
    """boot(bsp, build=..., **qemu options) -> a Guest at the shell prompt.
    Every guest is killed at the end of the test."""
    guests = []

    def start(bsp, build_dir=None, wait_prompt=True, **kw):
        g = Guest(bsp, build_dir or _with_extra(builds.folder(bsp, builds.DEFAULT)),
                  log_name=request.node.name, **kw)
        guests.append(g)
        if wait_prompt:
            g.wait_prompt()
        return g

    yield start
    for g in guests:
        g.close()

"""The configurations the tests build, by name, and where each one's build
folder is (docs/testing.md, "Builds").

A test asks tests/conftest.py's build() for a configuration; it is built once
per run in one folder, which every test (and tools/build_matrix.py's run in
test_matrix.py, and test_config.py's bool flips) then shares. Two fragment
lists that Kconfig resolves to the same configuration are one build: the
folder of a configuration is found by its resolved values, not by the names
of its fragments.

To add a configuration: a fragment under tests/configs/ is registered by that
alone (under its file name, as the build matrix names it); a combination of
fragments gets a name in COMBINATIONS.
"""
import hashlib
import os
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import build_matrix  # noqa: E402
import rtos_config  # noqa: E402

DEFAULT = build_matrix.DEFAULT

# Fragment combinations some tests boot (paths from the top of the tree, merged
# in order). Single fragments need no entry: see configurations().
COMBINATIONS = {
    # test_console.py: the console demo with the shell on a virtio console port.
    'console': ('examples/console/console.conf', 'tests/configs/virtio-console-shell.conf'),
    # test_net.py: two guests with static addresses.
    'net-static': ('examples/net/net.conf', 'tests/configs/net-static.conf'),
    # tools/footprint.py's minimal image on aarch64 (the GIC QEMU's virt has by default).
    'minimal-gic-v2': ('tests/configs/minimal.conf', 'tests/configs/gic-v2-only.conf'),
    # tools/soak.py --ubsan (test_soak.py), test_reliability.py and
    # test_hostile_ubsan.py: the soak image with the undefined-behaviour sanitizer.
    'soak-ubsan': ('examples/soak/soak.conf', 'tests/configs/ubsan.conf'),
    # test_board.py: the fallback tables with only a GICv3.
    'no-device-tree-gic-v3': ('tests/configs/no-device-tree.conf',
                              'tests/configs/gic-v3-only.conf'),
}


def configurations():
    """{name: fragments}: the board's defconfig ('default', fragments ()), every
    configuration of the build matrix (tools/build_matrix.py: each fragment
    under tests/configs/ and each example's) and COMBINATIONS."""
    out = {name: ((fragment,) if fragment else ()) for name, fragment in
           build_matrix.configurations()}
    out.update(COMBINATIONS)
    return out


def folder(bsp, name):
    """The build folder of a configuration: the board's own (build/<bsp>, what
    tools/run.py and tools/bench.py use by default) for the default one,
    build/test/<bsp>/<name> for the others."""
    if name == DEFAULT:
        return os.path.join(ROOT, 'build', bsp)
    return os.path.join(ROOT, 'build', 'test', bsp, name)


_kconfigs = {}
# Kconfig parsing reads the environment (BSP): one resolution at a time
# (test_matrix.py builds both boards from two threads).
_lock = threading.RLock()


def values(bsp, fragments):
    """{symbol: value}: the configuration Kconfig makes of the board's defconfig
    and these fragments (paths absolute or from the top of the tree), or None
    when Kconfig refuses them (the build then says why)."""
    with _lock:
        kconf = _kconfigs.get(bsp)
        if kconf is None:
            kconf = _kconfigs[bsp] = rtos_config._load_kconfig(ROOT, bsp)
        inputs = [os.path.join(ROOT, 'bsp', bsp, 'defconfig')] + \
            [os.path.join(ROOT, f) for f in fragments]
        try:
            rtos_config._merge(kconf, inputs)
        except rtos_config.ConfigError:
            return None
        return {s.name: s.str_value for s in kconf.unique_defined_syms}


def resolve(bsp, fragments):
    """A digest of values(bsp, fragments), or None."""
    v = values(bsp, fragments)
    if v is None:
        return None
    return hashlib.sha256(''.join(f'{k}={v[k]}\n' for k in sorted(v)).encode()).hexdigest()


_by_digest = {}


def registered_name(bsp, digest):
    """The registered configuration that resolves to digest on bsp, or None."""
    with _lock:
        return _registered(bsp).get(digest)


def _registered(bsp):
    if bsp not in _by_digest:
        table = {}
        for name, fragments in configurations().items():
            d = resolve(bsp, fragments)  # None where a fragment is not for this board
            if d is not None:
                table.setdefault(d, name)  # the first name (default first) wins
        _by_digest[bsp] = table
    return _by_digest[bsp]

"""Runs the C++ host unit tests (tests/host, GoogleTest under ASan and
UBSan) through CMake and CTest."""
import collections
import json
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_host_unit_tests():
    build = os.path.join(ROOT, 'build', 'host-tests')
    steps = [
        ['cmake', '-S', os.path.join(ROOT, 'tests', 'host'), '-B', build, '-DCMAKE_BUILD_TYPE=Debug'],
        ['cmake', '--build', build, '-j2'],
        ['ctest', '--test-dir', build, '--output-on-failure', '-j2'],
    ]
    for argv in steps:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(r.stdout)
        assert r.returncode == 0, f'{" ".join(argv)} failed:\n{r.stdout[-6000:]}'


def test_host_test_sources_compile_once_per_variant(tmp_path):
    """Test variants share the objects that do not depend on the variant
    (object libraries). Compiled once per VirtIO variant (at most 3): the core
    sources that read it, and the driver tests' own sources (drivers, device
    models, tests: they get the variant header); the net driver test is built
    twice (with and without mergeable buffers), and the console driver with
    its device models once more with port 0 as the shell's input
    (virtio_console_shell). heap.cpp twice (heap_test links it with stubs,
    the others with the simulated kernel), the console once more for the
    shell's Ctrl-C test and once for virtio_console_shell; everything else
    once."""
    build = str(tmp_path / 'cfg')
    r = subprocess.run(['cmake', '-S', os.path.join(ROOT, 'tests', 'host'), '-B', build,
                        '-DCMAKE_EXPORT_COMPILE_COMMANDS=ON'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    with open(os.path.join(build, 'compile_commands.json')) as f:
        files = [os.path.relpath(e['file'], ROOT) for e in json.load(f)]
    counts = collections.Counter(files)
    per_variant = ('components/drivers/virtio/device.cpp',
                   'components/drivers/virtio/transport/',
                   'components/drivers/virtio/blk/', 'components/drivers/virtio/console/',
                   'components/drivers/virtio/rng/', 'components/drivers/virtio/net/',
                   'components/drivers/virtio/input/', 'components/drivers/input/',
                   'components/drivers/net/netdev.cpp', 'tests/host/virtio/test_',
                   'tests/host/virtio_blk/', 'tests/host/virtio_console/',
                   'tests/host/virtio_net/', 'tests/host/virtio_input/')
    shell = ('components/drivers/virtio/console/virtio_console.cpp',
             'tests/host/virtio_console/models.cpp', 'tests/host/virtio_console/env.cpp')
    limit = {'rtos/kernel/heap.cpp': 2, 'rtos/kernel/console.cpp': 5, **{f: 4 for f in shell}}
    too_often = {f: n for f, n in counts.items()
                 if n > limit.get(f, 3 if f.startswith(per_variant) else 1)}
    assert not too_often, too_often


@pytest.mark.skipif(not shutil.which('ccache'), reason='ccache is not installed')
def test_host_tests_compile_through_ccache(tmp_path):
    build = str(tmp_path / 'cfg')
    r = subprocess.run(['cmake', '-S', os.path.join(ROOT, 'tests', 'host'), '-B', build],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    flags = open(os.path.join(build, 'kernel', 'CMakeFiles', 'heap_test.dir', 'build.make')).read()
    assert 'ccache' in flags

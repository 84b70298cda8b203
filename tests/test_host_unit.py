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
    (object libraries): only a source that reads the VirtIO variant is
    compiled once per variant (3); heap.cpp twice (heap_test links it with
    stubs, the others with the simulated kernel); everything else once."""
    build = str(tmp_path / 'cfg')
    r = subprocess.run(['cmake', '-S', os.path.join(ROOT, 'tests', 'host'), '-B', build,
                        '-DCMAKE_EXPORT_COMPILE_COMMANDS=ON'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    with open(os.path.join(build, 'compile_commands.json')) as f:
        files = [os.path.relpath(e['file'], ROOT) for e in json.load(f)]
    counts = collections.Counter(files)
    variant_dependent = {
        'components/drivers/virtio/device.cpp', 'components/drivers/virtio/mmio_transport.cpp',
        'components/drivers/virtio/blk/virtio_blk.cpp', 'tests/host/virtio_blk/env.cpp',
        'tests/host/virtio_blk/virtio_blk_test.cpp'}
    too_often = {f: n for f, n in counts.items()
                 if n > (3 if f in variant_dependent or f.startswith('tests/host/virtio/test_')
                         else 2 if f == 'rtos/kernel/heap.cpp' else 1)}
    assert not too_often, too_often


@pytest.mark.skipif(not shutil.which('ccache'), reason='ccache is not installed')
def test_host_tests_compile_through_ccache(tmp_path):
    build = str(tmp_path / 'cfg')
    r = subprocess.run(['cmake', '-S', os.path.join(ROOT, 'tests', 'host'), '-B', build],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    flags = open(os.path.join(build, 'kernel', 'CMakeFiles', 'heap_test.dir', 'build.make')).read()
    assert 'ccache' in flags

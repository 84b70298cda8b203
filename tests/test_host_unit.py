"""Runs the C++ host unit tests (tests/host, GoogleTest under ASan and
UBSan) through CMake and CTest."""
import os
import subprocess

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

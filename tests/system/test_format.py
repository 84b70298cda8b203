"""Format (tools/format.py, .clang-format) and the static checker
(tools/lint.py, cppcheck) over the project's own sources."""
import os
import shutil
import subprocess
import sys

from conftest import ROOT


def run(*argv):
    return subprocess.run([sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def test_checked_files_are_formatted():
    r = run('tools/format.py')
    assert r.returncode == 0, r.stdout
    listed = run('tools/format.py', '--list').stdout.split()
    assert len(listed) >= 50 and not any(f.startswith(('third_party/', 'build/')) for f in listed)


def test_format_check_catches_a_misformatted_file():
    folder = os.path.join(ROOT, 'build', 'format-test')
    os.makedirs(folder, exist_ok=True)
    bad = os.path.join(folder, 'bad.cpp')
    with open(bad, 'w') as f:
        f.write('int  f( int a ){return a;}\n')
    try:
        r = run('tools/format.py', bad)
        assert r.returncode == 1 and 'code should be clang-formatted' in r.stdout, r.stdout
        assert 'tools/format.py --fix' in r.stdout
    finally:
        shutil.rmtree(folder)


def test_cppcheck_clean():
    r = run('tools/lint.py', '-j2')
    assert r.returncode == 0, r.stdout
    assert r.stdout.count(': clean') == len([d for d in os.listdir(os.path.join(ROOT, 'bsp'))
                                             if os.path.isfile(os.path.join(ROOT, 'bsp', d,
                                                                            'defconfig'))])

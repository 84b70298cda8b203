"""The fuzz targets of tests/fuzz (tools/fuzz.py; docs/fuzzing.md): every
target replays its seed corpus and its regression inputs (each crash ever
found, fixed), then fuzzes for a few seconds from them. Any sanitizer report,
failed check or hang fails the test with the target's report."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = [sys.executable, os.path.join(ROOT, 'tools', 'fuzz.py')]
SECONDS = 4


def targets():
    out = subprocess.run(FUZZ + ['--list'], stdout=subprocess.PIPE, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def fuzz(*args):
    r = subprocess.run(FUZZ + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    print(r.stdout)
    return r


@pytest.mark.parametrize('name', targets())
def test_fuzz_target(name):
    r = fuzz(name, '--replay')
    assert r.returncode == 0, r.stdout[-6000:]
    assert f'fuzz: {name} ' in r.stdout and ', ok' in r.stdout
    r = fuzz(name, '--seconds', str(SECONDS))
    assert r.returncode == 0, r.stdout[-6000:]
    executions = int(r.stdout.split(f'fuzz: {name} ')[1].split()[0])
    assert executions > 0


def test_fuzz_list_is_the_target_files():
    files = sorted(f[:-4] for f in os.listdir(os.path.join(ROOT, 'tests', 'fuzz'))
                   if f.endswith('.cpp'))
    assert targets() == files
    for name in os.listdir(os.path.join(ROOT, 'tests', 'fuzz', 'regressions')):
        assert name in files, f'tests/fuzz/regressions/{name}: no such target'


def test_a_crash_is_a_failure(tmp_path):
    """The front door's verdict: a target that dies says crash and exits non-zero."""
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    try:
        import fuzz as tool
    finally:
        sys.path.pop(0)
    fake = tmp_path / 'fuzz_fake'
    fake.write_text('#!/bin/sh\nmkdir -p "$(dirname "$0")/crashes/fake"\n'
                    'echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow"\n'
                    'echo "stat::number_of_executed_units: 7"\n'
                    ': > "$(dirname "$0")/crashes/fake/crash-1"\nexit 1\n')
    fake.chmod(0o755)
    ok, line = tool.run(str(tmp_path), 'fake', 10, None, False)
    assert not ok
    assert line.startswith('fuzz: fake 7 executions, 0 new inputs, crash ')
    assert 'crash-1' in line

"""tools/setup.sh, tools/demo and tools/test: each command installs only the
packages it needs, and with those present nothing runs apt-get (nothing needs
the network); tools/test builds the host tests before the guests start.
dpkg-query, apt-get, id, scons, cmake and python are replaced by shims on
PATH, so nothing is installed, built or run for real."""
import os
import shutil
import subprocess

import pytest
from conftest import ROOT

NPROC = len(os.sched_getaffinity(0))

SHIMS = {
    # Installed unless named in $MISSING.
    'dpkg-query': '''#!/bin/sh
for p; do :; done
case " $MISSING " in *" $p "*) exit 1;; esac
printf 'install ok installed'
''',
    # Records the call, then fails as it would without a network.
    'apt-get': '''#!/bin/sh
echo "apt-get $*" >> "$CALLS"
exit 100
''',
    'id': '#!/bin/sh\necho 0\n',
    # tools/demo builds next: stop it there with a status the test recognises.
    'scons': '#!/bin/sh\necho "scons $*" >> "$CALLS"\nexit 42\n',
    'cmake': '#!/bin/sh\necho "cmake $*" >> "$CALLS"\n',
    # tools/test's $PYTHON: records its arguments and what it would compile with.
    'python': '''#!/bin/sh
echo "python $* | ccache-in-PATH=$(echo "$PATH" | grep -c /usr/lib/ccache)" \
     "RTOS_COMPILER_LAUNCHER=${RTOS_COMPILER_LAUNCHER:-}" \
     "CCACHE_DISABLE=${CCACHE_DISABLE:-}" >> "$CALLS"
''',
}


@pytest.fixture
def shimmed(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in SHIMS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / 'calls'

    def run(argv, missing=(), **env_extra):
        calls.write_text('')
        env = dict(os.environ, PATH=f'{bin_dir}:/usr/bin:/bin', MISSING=' '.join(missing),
                   CALLS=str(calls), PYTHON=str(bin_dir / 'python'), **env_extra)
        for name in ('CCACHE_DISABLE', 'RTOS_COMPILER_LAUNCHER'):  # set when run by tools/test
            env.pop(name, None)
        r = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        return r, calls.read_text().splitlines()
    return run


def test_nothing_missing_runs_no_apt_get(shimmed):
    r, calls = shimmed(['tools/setup.sh'])
    assert r.returncode == 0, r.stdout
    assert calls == []


def test_demo_does_not_need_the_test_packages(shimmed):
    test_only = ['python3-pytest', 'libgtest-dev', 'cmake', 'gdb-multiarch', 'ccache']
    r, calls = shimmed(['tools/setup.sh', 'build', 'run'], missing=test_only)
    assert r.returncode == 0 and calls == [], (r.stdout, calls)
    # tools/demo itself: set-up passes without apt-get, and it goes on to build.
    r, calls = shimmed(['tools/demo'], missing=test_only)
    assert r.returncode == 42, r.stdout
    assert calls == [f'scons -Q -j{NPROC} BSP=qemu-virt64-riscv'], calls


def test_a_missing_package_is_installed_only_by_the_group_needing_it(shimmed):
    r, calls = shimmed(['tools/setup.sh', 'test'], missing=['libgtest-dev'])
    assert r.returncode != 0  # the apt-get shim fails
    assert 'setup: installing libgtest-dev' in r.stdout
    assert calls[0] == 'apt-get update -qq'
    r, calls = shimmed(['tools/setup.sh', 'build', 'run'], missing=['qemu-system-arm'])
    assert 'setup: installing qemu-system-arm' in r.stdout
    r, calls = shimmed(['tools/setup.sh', 'bogus'])
    assert r.returncode == 2 and "unknown group 'bogus'" in r.stdout


@pytest.mark.parametrize('ccache', ['1', '0'])
def test_tools_test_builds_the_host_tests_before_pytest(shimmed, tmp_path, ccache):
    """tools/test from a copy of tools/ (so the real build/ is not touched):
    set-up, the host-test build with every core, then pytest; ccache is on
    unless TERN_CCACHE=0 (CMake finds it; scons is told by RTOS_COMPILER_LAUNCHER)."""
    repo = tmp_path / 'repo'
    shutil.copytree(os.path.join(ROOT, 'tools'), repo / 'tools')
    # The copy has no third_party/: the lwIP fetch (its own tests are the
    # builds) would go to the network, which the shimmed apt-get refuses.
    (repo / 'tools' / 'fetch-lwip.sh').write_text('#!/bin/sh\nexit 0\n')
    r, calls = shimmed([str(repo / 'tools' / 'test'), '-k', 'x'], TERN_CCACHE=ccache)
    assert r.returncode == 0, r.stdout
    assert calls[:2] == ['cmake -S tests/host -B build/host-tests -DCMAKE_BUILD_TYPE=Debug',
                         f'cmake --build build/host-tests -j{NPROC}'], calls
    assert len(calls) == 3, calls
    pytest_argv, _, compiler = calls[2].partition(' | ')
    assert pytest_argv == (f'python -m pytest -n {NPROC} '
                           '--junitxml=build/test-results/junit.xml tests -k x')
    # Never /usr/lib/ccache in PATH: CROSS_COMPILE=$(which ...) would find
    # ccache links there without objcopy and ar beside them.
    if ccache == '0':
        assert compiler == 'ccache-in-PATH=0 RTOS_COMPILER_LAUNCHER= CCACHE_DISABLE=1'
    elif shutil.which('ccache'):
        assert compiler == 'ccache-in-PATH=0 RTOS_COMPILER_LAUNCHER=ccache CCACHE_DISABLE='


def test_tools_test_quick_runs_the_host_tests_and_one_boot_per_board(shimmed, tmp_path):
    repo = tmp_path / 'repo'
    shutil.copytree(os.path.join(ROOT, 'tools'), repo / 'tools')
    (repo / 'tools' / 'fetch-lwip.sh').write_text('#!/bin/sh\nexit 0\n')
    r, calls = shimmed([str(repo / 'tools' / 'test'), '--quick', '-x'])
    assert r.returncode == 0, r.stdout
    assert calls[0].startswith('cmake -S tests/host'), calls  # the host tests are built first
    assert calls[2].partition(' | ')[0] == (
        f'python -m pytest -n {NPROC} --junitxml=build/test-results/quick-junit.xml '
        'tests/test_host_unit.py tests/system/test_quick.py -x')


def test_no_test_or_tool_needs_a_program_no_group_installs():
    """The docs' recipes may use socat or curl (a user's choice), but the
    tests and tools talk to the guests with Python's socket and urllib:
    no setup group installs those programs."""
    import re
    unwanted = re.compile(r'\b(socat|curl|wget|netcat)\b')
    found = []
    for top in ('tools', 'tests', '.ci'):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                path = os.path.join(folder, name)
                if path == os.path.abspath(__file__) or name.endswith(('.png', '.json', '.pyc')):
                    continue
                with open(path, errors='replace') as f:
                    found += [f'{os.path.relpath(path, ROOT)}:{n}: {line.strip()}'
                              for n, line in enumerate(f, 1) if unwanted.search(line)]
    assert not found, '\n'.join(found)

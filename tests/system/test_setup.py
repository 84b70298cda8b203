"""tools/setup.sh and tools/demo: each command installs only the packages it
needs, and with those present nothing runs apt-get (nothing needs the
network). dpkg-query, apt-get, id and scons are replaced by shims on PATH, so
nothing is installed for real."""
import os
import subprocess

import pytest
from conftest import ROOT

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
}


@pytest.fixture
def shimmed(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in SHIMS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / 'calls'
    calls.write_text('')

    def run(argv, missing=()):
        env = dict(os.environ, PATH=f'{bin_dir}:/usr/bin:/bin', MISSING=' '.join(missing),
                   CALLS=str(calls))
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
    assert calls == ['scons -Q -j%d BSP=qemu-virt64-riscv' % len(os.sched_getaffinity(0))], calls


def test_a_missing_package_is_installed_only_by_the_group_needing_it(shimmed):
    r, calls = shimmed(['tools/setup.sh', 'test'], missing=['libgtest-dev'])
    assert r.returncode != 0  # the apt-get shim fails
    assert 'setup: installing libgtest-dev' in r.stdout
    assert calls[0] == 'apt-get update -qq'
    r, calls = shimmed(['tools/setup.sh', 'build', 'run'], missing=['qemu-system-arm'])
    assert 'setup: installing qemu-system-arm' in r.stdout
    r, calls = shimmed(['tools/setup.sh', 'bogus'])
    assert r.returncode == 2 and "unknown group 'bogus'" in r.stdout

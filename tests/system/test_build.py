"""The build interface users' CI scripts rely on: scons BSP= BUILD= CONFIG=
CROSS_COMPILE=, --menuconfig, --savedefconfig, -c, and what lands where."""
import os
import re
import shutil
import subprocess

import pexpect
import pytest
from conftest import ROOT

BSP = 'qemu-virt64-riscv'


def scons(*args, check=True):
    r = subprocess.run(['scons', '-Q', '-j2', *args], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        pytest.fail(f'scons {" ".join(args)} failed:\n{r.stdout}', pytrace=False)
    return r


def untracked():
    out = subprocess.run(['git', 'ls-files', '--others', '--exclude-standard'], cwd=ROOT,
                         stdout=subprocess.PIPE, text=True).stdout
    return set(out.split())


@pytest.fixture
def build_dir(tmp_path):
    return str(tmp_path / 'build')


def test_outputs_in_build_folder_only(build_dir):
    before = untracked()
    scons(f'BSP={BSP}', f'BUILD={build_dir}')
    for name in ('rtos.elf', 'rtos.bin', 'rtos.map', 'compile_commands.json', '.config',
                 'include/generated/autoconf.h'):
        assert os.path.isfile(os.path.join(build_dir, name)), name
    assert untracked() == before, 'the build wrote into the source tree'
    # Nothing left to do on a second run.
    assert 'up to date' in scons(f'BSP={BSP}', f'BUILD={build_dir}').stdout
    # The ELF has no PT_LOAD below its entry (QEMU riscv enters the lowest address).
    hdr = subprocess.run(['riscv64-linux-gnu-readelf', '-lhW', os.path.join(build_dir, 'rtos.elf')],
                         stdout=subprocess.PIPE, text=True).stdout
    entry = int(re.search(r'Entry point address:\s+(0x[0-9a-f]+)', hdr).group(1), 16)
    loads = [int(m, 16) for m in re.findall(r'LOAD\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)', hdr)]
    assert min(loads) == entry == 0x80200000


def test_fragments_merge_in_order_and_rebuild_only_dependents(build_dir):
    scons(f'BSP={BSP}', f'BUILD={build_dir}')
    frag = os.path.join(ROOT, 'tests/configs/tick-100hz.conf')
    out = scons(f'BSP={BSP}', f'BUILD={build_dir}', f'CONFIG={frag}').stdout
    header = open(os.path.join(build_dir, 'include/generated/autoconf.h')).read()
    assert '#define CONFIG_RTOS_TICK_HZ 100\n' in header
    assert 'scheduler.o' in out or 'thread.o' in out, out
    assert 'string.o' not in out and 'format.o' not in out, \
        'files that do not use the configuration were rebuilt:\n' + out
    # A later fragment wins over an earlier one.
    frag2 = os.path.join(build_dir, '..', 'tick-250.conf')
    with open(frag2, 'w') as f:
        f.write('CONFIG_RTOS_TICK_HZ=250\n')
    scons(f'BSP={BSP}', f'BUILD={build_dir}', f'CONFIG={frag},{frag2}')
    header = open(os.path.join(build_dir, 'include/generated/autoconf.h')).read()
    assert '#define CONFIG_RTOS_TICK_HZ 250\n' in header


@pytest.mark.parametrize('frag, message', [
    ('tests/configs/bad-unknown-symbol.conf', r'unknown Kconfig symbol CONFIG_NO_SUCH_OPTION'),
    ('tests/configs/bad-range.conf', r'CONFIG_RTOS_TICK_HZ=50 refused.*allowed range 100\.\.10000'),
    ('tests/configs/does-not-exist.conf', r'not found'),
])
def test_bad_fragment_fails_clearly(build_dir, frag, message):
    r = scons(f'BSP={BSP}', f'BUILD={build_dir}', 'CONFIG=' + os.path.join(ROOT, frag), check=False)
    assert r.returncode != 0
    assert re.search(message, r.stdout), r.stdout
    assert not os.path.exists(os.path.join(build_dir, 'rtos.elf'))


def test_unknown_bsp_lists_the_available_ones():
    r = scons('BSP=nope', check=False)
    assert r.returncode != 0
    assert 'qemu-virt64-riscv' in r.stdout and 'qemu-virt64-aarch64' in r.stdout


def test_cross_compile_override_and_clean(build_dir):
    prefix = shutil.which('aarch64-linux-gnu-gcc')[:-len('gcc')]
    scons('BSP=qemu-virt64-aarch64', f'BUILD={build_dir}', f'CROSS_COMPILE={prefix}')
    cdb = open(os.path.join(build_dir, 'compile_commands.json')).read()
    assert prefix + 'g++' in cdb
    scons('BSP=qemu-virt64-aarch64', f'BUILD={build_dir}', '-c')
    assert not os.path.exists(os.path.join(build_dir, 'rtos.elf'))
    r = scons('BSP=qemu-virt64-aarch64', f'BUILD={build_dir}', 'CROSS_COMPILE=/nonexistent/x-',
              check=False)
    assert r.returncode != 0


def test_savedefconfig_is_minimal(build_dir):
    frag = os.path.join(ROOT, 'tests/configs/shell-history-4.conf')
    scons(f'BSP={BSP}', f'BUILD={build_dir}', f'CONFIG={frag}')
    out = os.path.join(build_dir, 'defconfig.min')
    scons(f'BSP={BSP}', f'BUILD={build_dir}', f'--savedefconfig={out}')
    text = open(out).read()
    assert 'CONFIG_SHELL_HISTORY=4' in text
    assert 'CONFIG_RTOS_TICK_HZ' not in text  # defaults are left out


def test_menuconfig_opens_on_the_build_config(build_dir):
    scons(f'BSP={BSP}', f'BUILD={build_dir}')
    env = dict(os.environ, TERM='xterm')
    p = pexpect.spawn('scons', ['-Q', f'BSP={BSP}', f'BUILD={build_dir}', '--menuconfig'],
                      cwd=ROOT, env=env, encoding='utf-8', timeout=30, dimensions=(40, 120))
    p.expect('Tern RTOS configuration')
    p.expect(r'\[Q\] Quit')
    p.send('Q')
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0

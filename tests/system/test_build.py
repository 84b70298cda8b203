"""The build interface users' CI scripts rely on: scons BSP= BUILD= CONFIG=
CROSS_COMPILE=, --menuconfig, --savedefconfig, -c, and what lands where."""
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import rtos_config  # noqa: E402

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
    # The .config says how to edit this very folder.
    assert f'# Edit with: scons BSP={BSP} BUILD={build_dir} --menuconfig\n' in \
        open(os.path.join(build_dir, '.config')).read()
    # Nothing left to do on a second run; compile_commands.json is left alone
    # (same mtime, no message), so clangd does not re-index.
    cdb = os.path.join(build_dir, 'compile_commands.json')
    mtime = os.stat(cdb).st_mtime_ns
    out = scons(f'BSP={BSP}', f'BUILD={build_dir}').stdout
    assert 'up to date' in out
    assert 'compile_commands' not in out and 'compilation database' not in out, out
    assert os.stat(cdb).st_mtime_ns == mtime
    # A compiler launcher (tools/test: RTOS_COMPILER_LAUNCHER=ccache) neither
    # rebuilds anything nor shows in the database, switched on or off.
    for launcher in ('ccache', ''):
        env = dict(os.environ, RTOS_COMPILER_LAUNCHER=launcher)
        out = subprocess.run(['scons', '-Q', f'BSP={BSP}', f'BUILD={build_dir}'], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
        assert 'up to date' in out and 'CXX' not in out and 'compile_commands' not in out, out
    assert os.stat(cdb).st_mtime_ns == mtime and 'ccache' not in open(cdb).read()
    # The ELF has no PT_LOAD below its entry (QEMU riscv enters the lowest address).
    hdr = subprocess.run(['riscv64-linux-gnu-readelf', '-lhW', os.path.join(build_dir, 'rtos.elf')],
                         stdout=subprocess.PIPE, text=True).stdout
    entry = int(re.search(r'Entry point address:\s+(0x[0-9a-f]+)', hdr).group(1), 16)
    loads = [int(m, 16) for m in re.findall(r'LOAD\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)', hdr)]
    assert min(loads) == entry == 0x80200000


def test_fragments_merge_in_order_and_rebuild_only_dependents(build_dir):
    scons(f'BSP={BSP}', f'BUILD={build_dir}')
    cdb = os.path.join(build_dir, 'compile_commands.json')
    mtime = os.stat(cdb).st_mtime_ns
    frag = os.path.join(ROOT, 'tests/configs/tick-100hz.conf')
    out = scons(f'BSP={BSP}', f'BUILD={build_dir}', f'CONFIG={frag}').stdout
    header = open(os.path.join(build_dir, 'include/generated/autoconf.h')).read()
    assert '#define CONFIG_RTOS_TICK_HZ 100\n' in header
    assert 'scheduler.o' in out or 'thread.o' in out, out
    assert 'string.o' not in out and 'format.o' not in out, \
        'files that do not use the configuration were rebuilt:\n' + out
    # Objects rebuilt, but their compile commands are the same: database untouched.
    assert 'compile_commands' not in out and os.stat(cdb).st_mtime_ns == mtime, out
    # A later fragment wins over an earlier one.
    frag2 = os.path.join(build_dir, '..', 'tick-250.conf')
    with open(frag2, 'w') as f:
        f.write('CONFIG_RTOS_TICK_HZ=250\n')
    scons(f'BSP={BSP}', f'BUILD={build_dir}', f'CONFIG={frag},{frag2}')
    header = open(os.path.join(build_dir, 'include/generated/autoconf.h')).read()
    assert '#define CONFIG_RTOS_TICK_HZ 250\n' in header
    # A configuration that drops sources changes the database: rewritten, and said so.
    assert 'rtos/bench/' in open(cdb).read()
    with open(frag2, 'w') as f:
        f.write('CONFIG_RTOS_BENCH=n\n')
    out = scons(f'BSP={BSP}', f'BUILD={build_dir}', f'CONFIG={frag2}').stdout
    assert re.search(r'GEN +\S*compile_commands\.json', out), out
    assert 'rtos/bench/' not in open(cdb).read()


# tests/system/test_config.py checks every message in-process; these go through scons.
@pytest.mark.parametrize('frag, message', [
    ('tests/configs/bad-unknown-symbol.conf', r'bad-unknown-symbol\.conf:2: unknown Kconfig '
                                              r'symbol CONFIG_NO_SUCH_OPTION'),
    ('tests/configs/bad-range.conf', r'bad-range\.conf:2: CONFIG_RTOS_TICK_HZ=50 refused: '
                                     r'outside the allowed range 100\.\.10000'),
    ('tests/configs/bad-no-prefix.conf', r"bad-no-prefix\.conf:2: 'VIRTIO_BLK_TIMEOUT_MS=500' "
                                         r'is not an assignment'),
    ('tests/configs/bad-queue-size.conf', r'bad-queue-size\.conf:2: '
                                          r'CONFIG_VIRTIO_BLK_QUEUE_SIZE=48 refused: a queue '
                                          r'size is a power of two'),
    ('tests/configs/does-not-exist.conf', r'not found'),
])
def test_bad_fragment_fails_clearly(build_dir, frag, message):
    r = scons(f'BSP={BSP}', f'BUILD={build_dir}', 'CONFIG=' + os.path.join(ROOT, frag), check=False)
    assert r.returncode != 0
    assert re.search(r'^error: .*' + message, r.stdout, re.M), r.stdout
    assert 'CXX' not in r.stdout, 'compiled before refusing the configuration'
    assert not os.path.exists(os.path.join(build_dir, 'rtos.elf'))


def test_help_lists_variables_with_defaults(build_dir):
    r = scons('-h', f'BUILD={build_dir}')
    out = r.stdout
    for pattern in (r'BSP=.*\(default: qemu-virt64-riscv\)',
                    r'available: qemu-virt64-aarch64, qemu-virt64-riscv',
                    r'BUILD=.*\(default: build/<BSP>\)',
                    r'CONFIG=.*\n.*fragments merged in order',
                    r'CROSS_COMPILE=[\s\S]*riscv64: riscv64-linux-gnu-, '
                    r'aarch64: aarch64-linux-gnu-',
                    r'V=1 .*\(default: V=0',
                    r'--menuconfig', r'--savedefconfig\[=PATH\]'):
        assert re.search(pattern, out), f'{pattern!r} not in:\n{out}'
    assert not os.path.exists(build_dir), 'scons -h configured a build folder'


@pytest.mark.parametrize('arg, meant', [('BPS=qemu-virt64-aarch64', 'BSP'),
                                         ('bsp=qemu-virt64-aarch64', 'BSP'),
                                         ('CONFIGS=a.conf', 'CONFIG'),
                                         ('CROSS_COMPILER=aarch64-linux-gnu-', 'CROSS_COMPILE'),
                                         ('BULID=x', 'BUILD')])
def test_misspelled_variable_is_refused_with_the_nearest_name(build_dir, arg, meant):
    """scons takes any NAME=value; a typo used to build the default board and
    say it was up to date."""
    r = scons(f'BUILD={build_dir}', arg, check=False)
    assert r.returncode != 0
    name = arg.split('=')[0]
    assert re.search(rf'^error: unknown build variable {name}= \(did you mean {meant}=\?\); the '
                     r'variables are APP, BSP, BUILD, CONFIG, CROSS_COMPILE, V', r.stdout, re.M), \
        r.stdout
    assert not os.path.exists(build_dir), 'configured a build folder anyway'


def test_menuconfig_without_a_terminal_says_so(build_dir):
    r = subprocess.run(['scons', '-Q', f'BSP={BSP}', f'BUILD={build_dir}', '--menuconfig'],
                       cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode != 0
    assert re.search(r'^error: menuconfig needs a terminal \(its input or output is not one\)',
                     r.stdout, re.M), r.stdout
    assert 'Traceback' not in r.stdout, r.stdout


def test_unknown_bsp_lists_the_available_ones():
    r = scons('BSP=nope', check=False)
    assert r.returncode != 0
    assert 'qemu-virt64-riscv' in r.stdout and 'qemu-virt64-aarch64' in r.stdout


def test_cross_compile_override_and_clean(build_dir):
    prefix = shutil.which('aarch64-linux-gnu-gcc')[:-len('gcc')]
    scons('BSP=qemu-virt64-aarch64', f'BUILD={build_dir}', f'CROSS_COMPILE={prefix}')
    cdb = open(os.path.join(build_dir, 'compile_commands.json')).read()
    assert prefix + 'g++' in cdb
    # Assembler files see the configuration too (start.S uses the kernel base).
    frag = os.path.join(build_dir, 'kernel-base.conf')
    with open(frag, 'w') as f:
        f.write('CONFIG_PLATFORM_KERNEL_BASE=0x40400000\n')
    out = scons('BSP=qemu-virt64-aarch64', f'BUILD={build_dir}', f'CROSS_COMPILE={prefix}',
                f'CONFIG={frag}').stdout
    assert re.search(r'AS +\S*/start\.o', out), out
    assert 'CXX' not in out, 'files that do not name the option were rebuilt:\n' + out
    scons('BSP=qemu-virt64-aarch64', f'BUILD={build_dir}', '-c')
    assert not os.path.exists(os.path.join(build_dir, 'rtos.elf'))
    # A wrong prefix is refused before anything compiles.
    r = scons('BSP=qemu-virt64-aarch64', f'BUILD={build_dir}', 'CROSS_COMPILE=/nonexistent/x-',
              check=False)
    assert r.returncode != 0
    assert re.search(r'^error: CROSS_COMPILE=/nonexistent/x-: /nonexistent/x-gcc, '
                     r'/nonexistent/x-g\+\+, /nonexistent/x-objcopy not found .*; the aarch64 '
                     r'default is CROSS_COMPILE=aarch64-linux-gnu-$', r.stdout, re.M), r.stdout
    assert 'CXX' not in r.stdout and not os.path.exists(os.path.join(build_dir, 'rtos.elf'))


def test_a_missing_default_toolchain_says_how_to_install_it():
    with pytest.raises(rtos_config.ConfigError) as e:
        rtos_config.check_toolchain('riscv64-linux-gnu-', 'riscv64', 'riscv64-linux-gnu-',
                                    which=lambda path: None)
    assert str(e.value) == ('the riscv64 toolchain is not installed (riscv64-linux-gnu-gcc, '
                            'riscv64-linux-gnu-g++, riscv64-linux-gnu-objcopy not found): '
                            'tools/setup.sh build installs it, or give CROSS_COMPILE=<prefix> of '
                            'another riscv64 toolchain')


def test_savedefconfig_is_minimal(build_dir):
    frag = os.path.join(ROOT, 'tests/configs/shell-history-4.conf')
    scons(f'BSP={BSP}', f'BUILD={build_dir}', f'CONFIG={frag}')
    out = os.path.join(build_dir, 'defconfig.min')
    scons(f'BSP={BSP}', f'BUILD={build_dir}', f'--savedefconfig={out}')
    text = open(out).read()
    assert 'CONFIG_SHELL_HISTORY=4' in text
    assert 'CONFIG_RTOS_TICK_HZ' not in text  # defaults are left out

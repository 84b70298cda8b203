#!/usr/bin/python3
"""Static checks with cppcheck (Debian's package) over the project's own
target sources, once per board with that board's default configuration.

    tools/lint.py [--bsp BSP] [-j N]

The rule set: cppcheck's `error` checks (always on) plus
--enable=warning,portability,performance: undefined behaviour, out-of-bounds
and null dereferences, leaks, uninitialised members, va_list misuse,
suspicious code and portability traps. Style checks (`style`, the unused-
function and include reports) are off. Only the architecture of the board
is checked (its compiler macro is defined), so one configuration per file.
Sources: rtos/ (the board's port only), components/, bsp/qemu-virt/, bsp/<bsp>/,
examples/.
Not checked: third_party/, the host tests (tests/host/: host code under
ASan and UBSan already).

Findings cppcheck gets wrong are suppressed in tools/cppcheck-suppressions.txt,
each with its reason. The exit status is 1 when there is a finding.
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import rtos_config  # noqa: E402

SUPPRESSIONS = os.path.join(ROOT, 'tools', 'cppcheck-suppressions.txt')
ARCH_DEFINES = {'riscv64': ['-D__riscv=1', '-D__riscv_xlen=64'], 'aarch64': ['-D__aarch64__=1']}


def boards():
    return sorted(d for d in os.listdir(os.path.join(ROOT, 'bsp'))
                  if os.path.isfile(os.path.join(ROOT, 'bsp', d, 'defconfig')))


def check(bsp, jobs):
    build_dir = os.path.join(ROOT, 'build', 'lint', bsp)
    cfg = rtos_config.prepare(ROOT, bsp, build_dir, [], app='')
    arch = cfg['ARCH']
    sources = ['rtos/kernel', 'rtos/lib', 'rtos/ktest', 'rtos/bench', f'rtos/arch/{arch}',
               'components', 'bsp/qemu-virt', f'bsp/{bsp}', 'examples']
    includes = [os.path.join(build_dir, 'include'), 'rtos/include', f'rtos/arch/{arch}/include',
                'rtos', 'components', 'components/net/port/include',
                'third_party/lwip/src/include']
    argv = ['cppcheck', '--quiet', '--error-exitcode=1', '--inline-suppr',
            '--enable=warning,portability,performance', '--std=c++20', '--library=std',
            f'-j{jobs}', '--suppress=missingIncludeSystem', '--suppress=missingInclude',
            f'--suppressions-list={SUPPRESSIONS}',
            '--template={file}:{line}: {severity} [{id}] {message}',
            '--include=' + rtos_config.header_path(build_dir), *ARCH_DEFINES[arch],
            *[f'-I{p}' for p in includes], *sources]
    r = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return r.returncode, r.stdout.strip()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--bsp', action='append', help='only this board (repeatable)')
    ap.add_argument('-j', '--jobs', type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    if not shutil.which('cppcheck'):
        print('lint: cppcheck not found (tools/setup.sh test installs it)', file=sys.stderr)
        return 2
    status = 0
    for bsp in args.bsp or boards():
        rc, out = check(bsp, args.jobs)
        if out:
            print(out)
        print(f'lint: {bsp}: ' + ('clean' if rc == 0 and not out else 'findings above'))
        status = max(status, 1 if rc or out else 0)
    return status


if __name__ == '__main__':
    sys.exit(main())

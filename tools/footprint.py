#!/usr/bin/python3
"""Image footprint per board: text/data/bss (the cross `size`, Berkeley
format) and read-only data of three configurations, with the objects
(from the link map) and symbols (the cross `nm`) that take the most space.

    tools/footprint.py [-j N] [--bsp BSP] [--config NAME] [--top N] [--json FILE] [--check]

Configurations: `minimal` (tests/configs/minimal.conf: the kernel alone,
built for size; on aarch64 with tests/configs/gic-v2-only.conf),
`default` (the board's defconfig) and `all` (tests/configs/devices-all.conf:
every device driver). Each builds in build/footprint/<bsp>/<name>.
--check exits with 1 when the minimal image's text is over its target
(MINIMAL_TEXT_TARGET, issue 13).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIGS = [('minimal', ['tests/configs/minimal.conf']), ('default', []),
           ('all', ['tests/configs/devices-all.conf'])]
# Per architecture, after a configuration's fragments: the minimal aarch64
# image has the one interrupt controller QEMU's virt board has by default.
ARCH_EXTRA = {('minimal', 'aarch64'): ['tests/configs/gic-v2-only.conf']}
PREFIX = {'riscv64': 'riscv64-linux-gnu-', 'aarch64': 'aarch64-linux-gnu-'}
ELF_MACHINE = {0xF3: 'riscv64', 0xB7: 'aarch64'}
# Bytes of text of the minimal configuration, per architecture.
MINIMAL_TEXT_TARGET = {'riscv64': 12 * 1024, 'aarch64': 16 * 1024}


def boards():
    return sorted(d for d in os.listdir(os.path.join(ROOT, 'bsp'))
                  if os.path.isfile(os.path.join(ROOT, 'bsp', d, 'defconfig')))


def parser(doc):
    """The options this tool and tools/build_matrix.py share: -j and --bsp."""
    ap = argparse.ArgumentParser(description=doc.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-j', '--jobs', type=int, default=os.cpu_count() or 1,
                    help='compiler jobs in all (default: the number of cores)')
    ap.add_argument('--bsp', action='append', choices=boards(),
                    help='only this board (repeatable)')
    return ap


def scons_build(bsp, build_dir, fragments, jobs):
    """Builds one configuration; returns (exit status, command and output)."""
    argv = ['scons', '-Q', f'-j{jobs}', f'BSP={bsp}', f'BUILD={build_dir}',
            'CONFIG=' + ','.join(os.path.join(ROOT, f) for f in fragments)]
    r = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return r.returncode, ' '.join(argv) + '\n' + r.stdout


def bsp_arch(bsp):
    """The architecture a board's Kconfig selects (bsp/<bsp>/Kconfig)."""
    with open(os.path.join(ROOT, 'bsp', bsp, 'Kconfig')) as f:
        m = re.search(r'select ARCH_(RISCV64|AARCH64)\b', f.read())
    return m.group(1).lower()


def elf_arch(elf):
    with open(elf, 'rb') as f:
        head = f.read(20)
    return ELF_MACHINE[int.from_bytes(head[18:20], 'little')]


def elf_sizes(elf, bsp=None):
    """{'text', 'data', 'bss', 'rodata'} in bytes: the first three as the cross
    `size` prints them, rodata the .rodata/.srodata sections (`size -A`)."""
    prefix = PREFIX[elf_arch(elf)]
    berkeley = subprocess.run([prefix + 'size', elf], stdout=subprocess.PIPE, text=True,
                              check=True).stdout.splitlines()[1].split()
    sysv = subprocess.run([prefix + 'size', '-A', elf], stdout=subprocess.PIPE, text=True,
                          check=True).stdout
    rodata = sum(int(m.group(1)) for m in re.finditer(r'^\.s?rodata\s+(\d+)', sysv, re.M))
    return {'text': int(berkeley[0]), 'data': int(berkeley[1]), 'bss': int(berkeley[2]),
            'rodata': rodata}


SECTION_CLASS = [('.text', 'text'), ('.rodata', 'rodata'), ('.srodata', 'rodata'),
                 ('.data', 'data'), ('.sdata', 'data'), ('.bss', 'bss'), ('.sbss', 'bss')]


def _section_class(name):
    for prefix, cls in SECTION_CLASS:
        if name == prefix or name.startswith(prefix + '.'):
            return cls
    return None


def map_objects(map_path, build_dir):
    """{object: {'text': n, 'rodata': n, 'data': n, 'bss': n}} from a GNU ld map:
    the input sections kept in the image, per object file (archive members as
    libgcc.a(member.o))."""
    with open(map_path) as f:
        text = f.read()
    start = text.find('Linker script and memory map')
    lines = text[start:].splitlines()
    out = {}
    pending = None  # a long section name on a line of its own
    entry = re.compile(r'^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$')
    for line in lines:
        if re.match(r'^ \.\S+$', line):
            pending = line.strip()
            continue
        m = entry.match(line)
        if not m:
            pending = None
            continue
        name = m.group(1) or pending
        pending = None
        cls = _section_class(name or '')
        size = int(m.group(3), 16)
        if not cls or not size:
            continue
        obj = m.group(4).strip()
        if '(' not in obj:  # not an archive member: a path, maybe relative to the top
            obj = os.path.normpath(os.path.join(ROOT, obj))
        if obj.startswith(build_dir):
            obj = os.path.relpath(obj, os.path.join(build_dir, 'obj'))
        else:
            obj = re.sub(r'^.*/', '', obj)  # libgcc.a(member.o)
        sizes = out.setdefault(obj, {'text': 0, 'rodata': 0, 'data': 0, 'bss': 0})
        sizes[cls] += size
    return out


def largest_symbols(elf, n):
    """[(name, bytes, kind)] of the n largest code and data symbols."""
    prefix = PREFIX[elf_arch(elf)]
    out = subprocess.run([prefix + 'nm', '-S', '--size-sort', '-r', '-C', elf],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    kinds = {'t': 'text', 'r': 'rodata', 'd': 'data', 'b': 'bss'}
    syms = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2].lower() in kinds:
            syms.append((parts[3], int(parts[1], 16), kinds[parts[2].lower()]))
    return syms[:n]


def analyse(build_dir, top):
    elf = os.path.join(build_dir, 'rtos.elf')
    objects = map_objects(os.path.join(build_dir, 'rtos.map'), build_dir)
    ranked = sorted(objects.items(), key=lambda kv: -(kv[1]['text'] + kv[1]['rodata']))
    return dict(elf_sizes(elf), arch=elf_arch(elf),
                objects=[dict(name=k, **v) for k, v in ranked[:top]],
                symbols=[{'name': n, 'size': s, 'kind': k}
                         for n, s, k in largest_symbols(elf, top)])


def report(results, top):
    lines = [f'{"config":<8} {"bsp":<20} {"text":>7} {"rodata":>7} {"data":>7} {"bss":>8}']
    for bsp, configs in results.items():
        for name, r in configs.items():
            if 'error' in r:
                lines.append(f'{name:<8} {bsp:<20} build failed')
                continue
            lines.append(f'{name:<8} {bsp:<20} {r["text"]:>7} {r["rodata"]:>7} {r["data"]:>7} '
                         f'{r["bss"]:>8}')
    for bsp, configs in results.items():
        for name, r in configs.items():
            if 'error' in r:
                continue
            lines.append(f'\n{name} [{bsp}]: largest objects (text + rodata)')
            for o in r['objects'][:top]:
                lines.append(f'  {o["text"] + o["rodata"]:>7}  {o["name"]} (text {o["text"]}, '
                             f'rodata {o["rodata"]}, data {o["data"]}, bss {o["bss"]})')
            lines.append(f'{name} [{bsp}]: largest symbols')
            for s in r['symbols'][:top]:
                lines.append(f'  {s["size"]:>7}  {s["kind"]:<6} {s["name"][:100]}')
    return '\n'.join(lines)


def check_targets(results):
    """[(bsp, text, target)] of minimal images over their target, and lines to print."""
    misses, lines = [], []
    for bsp, configs in results.items():
        r = configs.get('minimal')
        if not r or 'error' in r:
            continue
        target = MINIMAL_TEXT_TARGET[r['arch']]
        ok = r['text'] <= target
        lines.append(f'target: minimal [{bsp}] text {r["text"]} B ({r["text"] / 1024:.1f} KiB), '
                     f'target {target} B: ' + ('met' if ok else f'missed by {r["text"] - target} B'))
        if not ok:
            misses.append((bsp, r['text'], target))
    return misses, lines


def main(argv=None):
    ap = parser(__doc__)
    ap.add_argument('--config', action='append', choices=[name for name, _ in CONFIGS],
                    help='only this configuration (repeatable)')
    ap.add_argument('--top', type=int, default=10, help='objects and symbols listed (10)')
    ap.add_argument('--json', help='write the figures (and the lists) to this file')
    ap.add_argument('--check', action='store_true',
                    help='exit 1 when a minimal image is over its text target')
    args = ap.parse_args(argv)
    bsps = args.bsp or boards()

    results = {bsp: {} for bsp in bsps}
    failures = []

    def run(bsp):
        for name, fragments in CONFIGS:
            if args.config and name not in args.config:
                continue
            build_dir = os.path.join(ROOT, 'build', 'footprint', bsp, name)
            fragments = fragments + ARCH_EXTRA.get((name, bsp_arch(bsp)), [])
            rc, log = scons_build(bsp, build_dir, fragments, max(1, args.jobs // len(bsps)))
            if rc != 0:
                results[bsp][name] = {'error': log[-4000:]}
                failures.append(f'--- {name} [{bsp}] failed:\n{log[-4000:]}')
            else:
                results[bsp][name] = analyse(build_dir, args.top)

    threads = [threading.Thread(target=run, args=(bsp,)) for bsp in bsps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(report(results, args.top))
    misses, lines = check_targets(results)
    print('\n' + '\n'.join(lines))
    for f in failures:
        print(f)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump({'targets': MINIMAL_TEXT_TARGET, 'results': results}, f, indent=1)
    return 1 if failures or (args.check and misses) else 0


if __name__ == '__main__':
    sys.exit(main())

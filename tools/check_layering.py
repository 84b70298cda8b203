#!/usr/bin/env python3
"""Checks that the layers point one way, by the #include lines of the tree.

Rules (docs/porting.md):
  port      a port (rtos/arch/<arch>/) includes no kernel-internal header
            (rtos/kernel/*); it reaches the kernel through rtos/arch/port.hpp
            and the public API in rtos/include/.
  generic   generic code (rtos/kernel, rtos/include, rtos/lib, rtos/ktest,
            rtos/bench, components/, examples/) includes no header of a
            particular port (rtos/arch/<arch>/*); rtos/arch/port.hpp is the
            interface it may use. Drivers of one architecture's devices are
            listed in ARCH_SPECIFIC with the port headers they may use.
  public    the public API (rtos/include/) includes neither a port's nor the
            kernel's internals (rtos/arch/*, rtos/kernel/*); each port's
            inline primitives (rtos/arch/<arch>/include/rtos/arch_cpu.hpp)
            reach it as <rtos/arch_cpu.hpp> through the build's per-arch
            include path, by design.
  users     drivers, the shell and applications (components/, examples/)
            include no kernel-internal header (rtos/kernel/*): they use the
            public API only (rtos/system.hpp for thread lists and power).
  kernel    nothing in rtos/ includes anything of components/ or bsp/: code
            above reaches the kernel through published interfaces and hooks
            (rtos/selftest.hpp, BENCHMARKS(), the port's set_exit_handler).
  board     a port (rtos/arch/*) includes nothing of the board layer (bsp/,
            components/platform/, rtos/board.hpp): the board hands the port
            what it needs through rtos/arch/port.hpp.
  virtio    in components/drivers/virtio/ a file includes nothing of a layer
            above its own: base (spec, config, error, barrier, hal) <
            transport (transport/) < virtqueue < device core (device.*) <
            driver lookup and bus probes (driver.*, *_probe.cpp) < device
            drivers and commands (everything else).

An include is resolved the way the build resolves it (the including file's
folder, then rtos/include, rtos, components), so a relative path cannot hide
a violation. Usage: tools/check_layering.py [--root DIR]; exit status 1 when
a rule is broken or an ALLOWED entry is no longer needed.
"""
import argparse
import fnmatch
import os
import re
import sys

INCLUDE_DIRS = ['rtos/include', 'rtos', 'components']
SOURCE_EXT = ('.c', '.cc', '.cpp', '.h', '.hh', '.hpp', '.S', '.inc')
GENERIC = ['rtos/kernel/', 'rtos/include/', 'rtos/lib/', 'rtos/ktest/', 'rtos/bench/',
           'components/', 'examples/']

# Drivers for devices that exist only next to one CPU architecture, and the
# port headers they may use (permanent, by design).
ARCH_SPECIFIC = {
    # The GICv3 CPU interface is a set of aarch64 system registers.
    'components/drivers/irq/gic*.cpp': ['rtos/arch/aarch64/sysreg.hpp'],
}

# Known violations, to be removed by the kernel/port rework of issue 8
# (branch h/kernel). Each entry: (including file, included file). Delete an
# entry once the include is gone: a stale entry fails the check too.
ALLOWED = set()

BOARD_LAYER = ('bsp/', 'components/platform/', 'rtos/include/rtos/board.hpp')

VIRTIO = 'components/drivers/virtio/'
# (pattern under VIRTIO, layer), first match wins; the names index by layer.
VIRTIO_LAYERS = [
    ('spec.hpp', 0), ('config.hpp', 0), ('error.hpp', 0), ('barrier.hpp', 0), ('hal.hpp', 0),
    ('hal_rtos.cpp', 0),
    ('transport/*', 1),
    ('virtqueue.*', 2),
    ('device.*', 3),
    ('driver.*', 4), ('driver_section.cpp', 4), ('*_probe.cpp', 4),
    ('*', 5),
]
VIRTIO_LAYER_NAMES = ['base', 'transport', 'virtqueue', 'device core', 'driver lookup',
                      'device driver']

INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.M)


def resolve(root, src, name, quoted):
    """The repository path `name` refers to from file `src`, or None (system
    or generated header)."""
    candidates = [os.path.dirname(src)] if quoted else []
    candidates += INCLUDE_DIRS
    for d in candidates:
        path = os.path.normpath(os.path.join(d, name))
        if not path.startswith('..') and os.path.isfile(os.path.join(root, path)):
            return path.replace(os.sep, '/')
    return None


def port_of(path):
    """'riscv64' for rtos/arch/riscv64/..., None for anything else (including
    the interface rtos/arch/port.hpp)."""
    m = re.match(r'rtos/arch/([^/]+)/', path)
    return m.group(1) if m else None


def virtio_layer(path):
    """The virtio layer of `path` (an index into VIRTIO_LAYER_NAMES), or None
    outside components/drivers/virtio/."""
    if not path.startswith(VIRTIO):
        return None
    rel = path[len(VIRTIO):]
    return next(layer for pat, layer in VIRTIO_LAYERS if fnmatch.fnmatch(rel, pat))


def violations(root, src, target):
    """The rules `src` including `target` breaks, as short reasons."""
    broken = []
    if port_of(src) and target.startswith('rtos/kernel/'):
        broken.append('port includes a kernel-internal header')
    if any(src.startswith(g) for g in GENERIC) and port_of(target):
        allowed = [h for pat, hs in ARCH_SPECIFIC.items() if fnmatch.fnmatch(src, pat) for h in hs]
        if target not in allowed:
            broken.append('generic code includes a port header')
    if src.startswith(('components/', 'examples/')) and target.startswith('rtos/kernel/'):
        broken.append('driver or application includes a kernel-internal header')
    if src.startswith('rtos/include/') and (target.startswith('rtos/arch/') or
                                            target.startswith('rtos/kernel/')):
        if not port_of(target):  # a port header is already reported above
            broken.append('public header includes kernel or port internals')
    if src.startswith('rtos/arch/') and target.startswith(BOARD_LAYER):
        broken.append('port includes the board layer')
    elif src.startswith('rtos/') and target.startswith(('components/', 'bsp/')):
        broken.append('kernel includes a layer above it (components/ or bsp/)')
    src_layer, target_layer = virtio_layer(src), virtio_layer(target)
    if src_layer is not None and target_layer is not None and target_layer > src_layer:
        broken.append(f'virtio {VIRTIO_LAYER_NAMES[src_layer]} includes the '
                      f'{VIRTIO_LAYER_NAMES[target_layer]} layer above it')
    return broken


def sources(root):
    for top in ('rtos', 'components', 'examples', 'bsp'):
        for dirpath, dirnames, files in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for f in sorted(files):
                if f.endswith(SOURCE_EXT):
                    yield os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, '/')


def check(root):
    """Returns (problems, stale allowlist entries)."""
    problems, used = [], set()
    for src in sources(root):
        text = open(os.path.join(root, src), encoding='utf-8', errors='replace').read()
        for m in INCLUDE_RE.finditer(text):
            target = resolve(root, src, m.group(2), m.group(1) == '"')
            if not target:
                continue
            reasons = violations(root, src, target)
            if not reasons:
                continue
            if (src, target) in ALLOWED:
                used.add((src, target))
                continue
            line = text.count('\n', 0, m.start()) + 1
            problems += [f'{src}:{line}: includes {target}: {r}' for r in reasons]
    return problems, sorted(ALLOWED - used)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args()
    problems, stale = check(args.root)
    for p in problems:
        print(p)
    for src, target in stale:
        print(f'{src}: no longer includes {target}: remove it from ALLOWED in {__file__}')
    if problems or stale:
        return 1
    print('layering: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())

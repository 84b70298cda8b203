#!/usr/bin/python3
"""Builds every board with every configuration a user's CI would: the default,
each fragment under tests/configs/ (the bad-*.conf ones excepted: they must
fail, tests/system/test_config.py checks how) and each example's fragment.
Prints one row per build (configuration, board, status, text/data/bss bytes)
and writes JUnit XML and JSON; the exit status is 1 when any build failed.

    tools/build_matrix.py [-j N] [--bsp BSP] [--only NAME] [--junit FILE] [--json FILE]

Each board builds its configurations one after the other in one build folder
(build/matrix/<bsp>): a source recompiles only when an option it names
changed (tools/build/config_deps.py), and ccache (RTOS_COMPILER_LAUNCHER)
turns a configuration seen before into cache hits. The boards build in
parallel; -j N is the number of compiler jobs in all (default: the cores).

A fragment that only makes sense on some boards says so in a comment line of
its own: `# boards: qemu-virt64-aarch64` (space-separated).
"""
import glob
import json
import os
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import footprint  # noqa: E402

DEFAULT = 'default'


def configurations():
    """[(name, fragment path relative to ROOT or None)]: the default first."""
    frags = sorted(p for p in glob.glob(os.path.join(ROOT, 'tests', 'configs', '*.conf'))
                   if not os.path.basename(p).startswith('bad-'))
    # Application fragments (app.conf) belong to their application (test_app.py).
    frags += sorted(p for p in glob.glob(os.path.join(ROOT, 'examples', '*', '*.conf'))
                    if os.path.basename(p) != 'app.conf')
    # A fragment that changes the compiler flags (-Os, -fsanitize) recompiles
    # everything, and so does the one after it: those go last.
    frags.sort(key=lambda p: any(flag in open(p).read() for flag in
                                 ('CONFIG_BUILD_OPTIMIZE_SIZE=y', 'CONFIG_RTOS_UBSAN=y')))
    out = [(DEFAULT, None)]
    for p in frags:
        rel = os.path.relpath(p, ROOT)
        name = os.path.splitext(os.path.basename(p))[0]
        if rel.startswith('examples'):
            name = 'example-' + name
        out.append((name, rel))
    return out


def boards_of(fragment):
    """The boards a fragment's `# boards:` line names, or None (every board)."""
    if not fragment:
        return None
    with open(os.path.join(ROOT, fragment)) as f:
        for line in f:
            m = re.match(r'#\s*boards:\s*(.+)', line)
            if m:
                return m.group(1).split()
    return None


def board_folder_builder(build_root):
    """The default way to build: each board's configurations one after the
    other in <build_root>/<bsp>. build(bsp, name, fragment, jobs) returns
    (build folder, None) or (build folder, the command and its output)."""
    def build(bsp, name, fragment, jobs):
        build_dir = os.path.join(build_root, bsp)
        rc, log = footprint.scons_build(bsp, build_dir, [fragment] if fragment else [], jobs)
        return build_dir, (log if rc else None)
    return build


def run_board(bsp, configs, build, jobs, results, lock, progress):
    for name, fragment in configs:
        only = boards_of(fragment)
        if only is not None and bsp not in only:
            continue
        start = time.monotonic()
        build_dir, failure = build(bsp, name, fragment, jobs)
        secs = time.monotonic() - start
        row = {'config': name, 'fragment': fragment, 'bsp': bsp, 'seconds': round(secs, 1),
               'status': 'FAILED' if failure else 'ok'}
        if not failure:
            row.update(footprint.elf_sizes(os.path.join(build_dir, 'rtos.elf'), bsp))
        else:
            row['log'] = failure[-6000:]
        with lock:
            results.append(row)
            if progress:
                print(f'  {row["status"]:<6} {name} [{bsp}] {secs:.1f} s', flush=True)


def table(results):
    rows = [('config', 'bsp', 'status', 'text', 'data', 'bss', 'seconds')]
    for r in results:
        rows.append((r['config'], r['bsp'], r['status'], str(r.get('text', '-')),
                     str(r.get('data', '-')), str(r.get('bss', '-')), f'{r["seconds"]:.1f}'))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append('  '.join(cells).rstrip())
    return '\n'.join(lines)


def junit(results, path, seconds):
    suite = ET.Element('testsuite', name='build-matrix', tests=str(len(results)),
                       failures=str(sum(r['status'] != 'ok' for r in results)),
                       time=f'{seconds:.1f}')
    for r in results:
        case = ET.SubElement(suite, 'testcase', classname=f'build-matrix.{r["bsp"]}',
                             name=r['config'], time=f'{r["seconds"]:.1f}')
        if r['status'] != 'ok':
            ET.SubElement(case, 'failure', message=f'{r["config"]} does not build on '
                                                   f'{r["bsp"]}').text = r['log']
        else:
            ET.SubElement(case, 'system-out').text = \
                f'text={r["text"]} data={r["data"]} bss={r["bss"]}'
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ET.ElementTree(suite).write(path, encoding='utf-8', xml_declaration=True)


def main(argv=None, build=None):
    """build: how to build one configuration (see board_folder_builder, the
    default); tests/system/test_matrix.py passes the test suite's, which
    reuses the build folders the other tests made."""
    ap = footprint.parser(__doc__)
    ap.add_argument('--only', help='only the configurations whose name contains this')
    ap.add_argument('--build-root', default=os.path.join(ROOT, 'build', 'matrix'),
                    help='where the per-board build folders live (default: build/matrix)')
    ap.add_argument('--junit', default=os.path.join(ROOT, 'build', 'matrix', 'junit.xml'),
                    help='JUnit XML output (default: build/matrix/junit.xml)')
    ap.add_argument('--json', default=os.path.join(ROOT, 'build', 'matrix', 'matrix.json'),
                    help='JSON output (default: build/matrix/matrix.json)')
    ap.add_argument('--list', action='store_true', help='list the configurations and exit')
    ap.add_argument('-q', '--quiet', action='store_true', help='no progress lines')
    args = ap.parse_args(argv)

    bsps = args.bsp or footprint.boards()
    configs = [c for c in configurations() if not args.only or args.only in c[0]]
    if args.list:
        for name, fragment in configs:
            only = boards_of(fragment)
            print(f'{name:<28} {fragment or "(bsp defconfig)"}'
                  + (f'  [{" ".join(only)}]' if only else ''))
        return 0
    if not configs:
        ap.error(f'no configuration matches {args.only!r}')

    results, lock = [], threading.Lock()
    per_board = max(1, args.jobs // len(bsps))
    start = time.monotonic()
    build = build or board_folder_builder(args.build_root)
    threads = [threading.Thread(target=run_board, args=(bsp, configs, build, per_board,
                                                        results, lock, not args.quiet))
               for bsp in bsps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - start
    order = {name: i for i, (name, _) in enumerate(configs)}
    results.sort(key=lambda r: (order[r['config']], r['bsp']))

    print(table(results))
    failed = [r for r in results if r['status'] != 'ok']
    for r in failed:
        print(f'\n--- {r["config"]} [{r["bsp"]}] failed:\n{r["log"]}')
    print(f'build-matrix: {len(results)} builds, {len(failed)} failed, {seconds:.0f} s '
          f'(-j{args.jobs})')
    junit(results, args.junit, seconds)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, 'w') as f:
        json.dump({'seconds': round(seconds, 1), 'results': results}, f, indent=1)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

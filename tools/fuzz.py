#!/usr/bin/python3
"""Fuzzing: builds and runs the libFuzzer targets of tests/fuzz (clang-14,
AddressSanitizer, UndefinedBehaviorSanitizer) against the device-facing
parsers. docs/fuzzing.md explains the targets, the corpus and what to do
with a crash.

    tools/fuzz.py --list
    tools/fuzz.py NAME|all [--runs N] [--seconds S] [--replay] [--build-dir DIR]

--list prints one target per line, its name first. A run uses the work
corpus build/fuzz/corpus/NAME (new inputs go there), the seed corpus
tests/fuzz/corpus/NAME (for fdt also the host tests' device trees, compiled;
for fat small images made by mkfs.fat and mtools)
and the regression inputs tests/fuzz/regressions/NAME;
--replay only runs those inputs once each (what the test suite checks).
--runs and --seconds together stop at whichever comes first (a campaign
with a deadline).
A crash leaves its input in build/fuzz/crashes/NAME/ and the exit status is
non-zero. Each run ends with one line:

    fuzz: NAME <n> executions, <n> new inputs, <ok | crash FILE>
"""
import argparse
import fcntl
import glob
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, 'tests', 'fuzz')
CXX = 'clang++-14'
# Per input: a hang past this many seconds is reported as a crash.
TIMEOUT_S = 10


def targets():
    """{name: one-line description}, from the first comment line of each
    tests/fuzz/NAME.cpp ("// Fuzz target: ..."): the file is the list."""
    found = {}
    for path in sorted(glob.glob(os.path.join(FUZZ, '*.cpp'))):
        with open(path) as f:
            first = f.readline()
        m = re.match(r'// Fuzz target: (.*)', first)
        if m:
            found[os.path.splitext(os.path.basename(path))[0]] = m.group(1).rstrip(' (').strip()
    return found


def build(build_dir, names):
    """Configures (once) and builds fuzz_NAME for each name. Serialised by a
    lock: test workers share the build folder."""
    os.makedirs(build_dir, exist_ok=True)
    if not shutil.which(CXX):
        sys.exit(f'fuzz: {CXX} not found (tools/setup.sh test installs clang-14 and libfuzzer-14-dev)')
    with open(os.path.join(build_dir, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        steps = []
        if not os.path.exists(os.path.join(build_dir, 'CMakeCache.txt')):
            steps.append(['cmake', '-S', FUZZ, '-B', build_dir, '-DCMAKE_BUILD_TYPE=Debug',
                          f'-DCMAKE_CXX_COMPILER={CXX}'])
        steps.append(['cmake', '--build', build_dir, '-j2', '--target']
                     + [f'fuzz_{n}' for n in names])
        for argv in steps:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                sys.stdout.write(r.stdout[-8000:])
                sys.exit(f'fuzz: build failed: {" ".join(argv)}')


# FAT seeds: (mkfs.fat options, size in KiB, bytes kept): the start of the
# image holds the boot sector, the FATs, the root directory and the first
# clusters (the target reads zeros past the input).
FAT_SEEDS = {'fat12': ('-F 12 -s 1 -f 2 -r 32', 512, 16384),
             'fat16': ('-F 16 -s 1 -f 2 -r 32', 4096, 49152),
             'fat32': ('-F 32 -s 1 -f 1 -R 4', 34816, 8192)}


def fat_seed(path, options, kib, keep):
    """A FAT image by mkfs.fat with a long name, a directory and a file in
    it (mtools), cut to its first `keep` bytes."""
    img = path + '.img'
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    subprocess.run(['mkfs.fat', '-C', img, str(kib)] + options.split(), check=True,
                   stdout=subprocess.DEVNULL)
    with open(path + '.txt', 'w') as f:
        f.write('tern fuzz seed\n' * 40)
    for argv in (['mmd', '-i', img, '::A directory with a long name'],
                 ['mcopy', '-i', img, path + '.txt', '::A directory with a long name/file.txt'],
                 ['mcopy', '-i', img, path + '.txt', '::A file with a rather long name.txt']):
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    with open(img, 'rb') as f, open(path, 'wb') as out:
        out.write(f.read(keep))
    os.remove(img)
    os.remove(path + '.txt')


def generated_seeds(build_dir, name):
    """Seed inputs made from sources in the tree or by tools (never committed
    as binaries): for fdt, the device trees of the host tests' fixtures; for
    fat, small images made by mkfs.fat and mtools (when installed)."""
    out = os.path.join(build_dir, 'seeds', name)
    if name == 'fdt':
        os.makedirs(out, exist_ok=True)
        for dts in glob.glob(os.path.join(ROOT, 'tests', 'host', '*', 'fixtures', '*.dts')):
            dtb = os.path.join(out, os.path.basename(dts)[:-4] + '.dtb')
            if not os.path.exists(dtb) or os.path.getmtime(dtb) < os.path.getmtime(dts):
                subprocess.run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', dtb, dts], check=True)
        return [out]
    if name == 'fat' and shutil.which('mkfs.fat') and shutil.which('mcopy'):
        os.makedirs(out, exist_ok=True)
        for seed, (options, kib, keep) in FAT_SEEDS.items():
            if not os.path.exists(os.path.join(out, seed)):
                fat_seed(os.path.join(out, seed), options, kib, keep)
        return [out]
    return []


def run(build_dir, name, runs, seconds, replay):
    """Runs one target; returns (ok, summary line)."""
    work = os.path.join(build_dir, 'corpus', name)
    crashes = os.path.join(build_dir, 'crashes', name)
    os.makedirs(work, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    dirs = [d for d in (os.path.join(FUZZ, 'corpus', name), os.path.join(FUZZ, 'regressions', name))
            if os.path.isdir(d)] + generated_seeds(build_dir, name)
    argv = [os.path.join(build_dir, f'fuzz_{name}'), f'-timeout={TIMEOUT_S}',
            '-rss_limit_mb=4096', '-print_final_stats=1', f'-artifact_prefix={crashes}/']
    if replay:
        argv += ['-runs=0'] + dirs
    else:
        if runs is not None:
            argv.append(f'-runs={runs}')
        if seconds is not None:
            argv.append(f'-max_total_time={seconds}')
        argv += [work] + dirs
    before = set(os.listdir(crashes))
    log_path = os.path.join(build_dir, f'{name}.log')
    with open(log_path, 'w') as log:
        r = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT)
    text = open(log_path, errors='replace').read()
    execs = re.search(r'stat::number_of_executed_units:\s*(\d+)', text)
    added = re.search(r'stat::new_units_added:\s*(\d+)', text)
    new_crashes = sorted(set(os.listdir(crashes)) - before)
    if r.returncode == 0:
        verdict = 'ok'
    else:
        # The sanitizer's report, for the caller's log.
        report = re.search(r'^(==\d+==ERROR|.*runtime error|.*check failed|.*PANIC|.*would wait forever).*',
                           text, re.M)
        sys.stdout.write(text[-6000:] if not report else text[report.start():][:6000])
        what = os.path.join(crashes, new_crashes[-1]) if new_crashes else f'exit {r.returncode}'
        verdict = f'crash {os.path.relpath(what, ROOT)} (log {os.path.relpath(log_path, ROOT)})'
    line = (f'fuzz: {name} {execs.group(1) if execs else 0} executions, '
            f'{added.group(1) if added else 0} new inputs, {verdict}')
    return r.returncode == 0, line


def main():
    all_targets = targets()
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('target', nargs='?', help='a name from --list, or all')
    ap.add_argument('--list', action='store_true', help='print the targets, one a line')
    ap.add_argument('--runs', type=int, help='stop after N inputs')
    ap.add_argument('--seconds', type=int,
                    help='stop after S seconds (default 60 without --runs)')
    ap.add_argument('--replay', action='store_true',
                    help='run the seed and regression inputs once each, nothing new')
    ap.add_argument('--build-dir', default=os.path.join(ROOT, 'build', 'fuzz'),
                    help='where to build and keep the work corpus (default build/fuzz)')
    args = ap.parse_args()
    if args.list:
        for name, what in all_targets.items():
            print(f'{name:<10} {what}')
        return 0
    if not args.target:
        ap.error('a target name, all, or --list')
    names = list(all_targets) if args.target == 'all' else [args.target]
    for n in names:
        if n not in all_targets:
            ap.error(f'no target {n!r} (tools/fuzz.py --list)')
    if args.replay and (args.runs is not None or args.seconds is not None):
        ap.error('--replay runs the inputs once: no --runs or --seconds')
    seconds = args.seconds if args.seconds is not None or args.runs is not None else 60
    build_dir = os.path.abspath(args.build_dir)
    build(build_dir, names)
    failed = False
    for n in names:
        ok, line = run(build_dir, n, args.runs, seconds, args.replay)
        print(line, flush=True)
        failed |= not ok
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

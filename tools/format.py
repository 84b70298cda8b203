#!/usr/bin/python3
"""Checks (or fixes) the C/C++ format against .clang-format.

    tools/format.py                 check the files tools/format-checked.txt lists
    tools/format.py --all           check every C/C++ source of the tree
    tools/format.py FILE...         check these files
    tools/format.py --fix [...]     rewrite instead of checking
    tools/format.py --fix --all     reformat the whole tree and make the check
                                    cover it from then on (format-checked.txt: *)

Sources are the tracked *.c, *.cpp, *.h and *.hpp files (git ls-files) outside
third_party/ and build/. tools/format-checked.txt holds one path (file or
folder) per line, or `*` for the whole tree; `#` starts a comment. Exit
status 1 when a checked file is not formatted (clang-format's diagnostics say
where), 2 when clang-format is missing.
"""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, 'tools', 'format-checked.txt')
PATTERNS = ('*.c', '*.cpp', '*.h', '*.hpp')
EXCLUDED = ('third_party/', 'build/')


def tree_sources():
    out = subprocess.run(['git', 'ls-files', '--', *PATTERNS], cwd=ROOT,
                         stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    return sorted(f for f in out if not f.startswith(EXCLUDED)
                  and os.path.isfile(os.path.join(ROOT, f)))


def listed_paths():
    with open(LIST) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def checked_sources():
    """The tree's sources the list covers."""
    paths = listed_paths()
    if '*' in paths:
        return tree_sources()
    missing = [p for p in paths if not os.path.exists(os.path.join(ROOT, p))]
    if missing:
        sys.exit(f'format: {os.path.relpath(LIST, ROOT)} names missing paths: '
                 + ', '.join(missing))
    return [f for f in tree_sources()
            if any(f == p or f.startswith(p.rstrip('/') + '/') for p in paths)]


def clang_format(args, files):
    """Runs clang-format over files in batches; returns the worst exit status."""
    status = 0
    for i in range(0, len(files), 50):
        r = subprocess.run(['clang-format', '--style=file', *args, *files[i:i + 50]], cwd=ROOT)
        status = max(status, r.returncode)
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--all', action='store_true', help='every C/C++ source of the tree')
    ap.add_argument('--fix', action='store_true', help='rewrite the files in place')
    ap.add_argument('--list', action='store_true', help='print the files that would be checked')
    ap.add_argument('files', nargs='*', help='files to check or fix (default: the list)')
    args = ap.parse_args(argv)
    if not shutil.which('clang-format'):
        print('format: clang-format not found (tools/setup.sh test installs it)', file=sys.stderr)
        return 2
    files = (tree_sources() if args.all
             else [os.path.relpath(os.path.abspath(f), ROOT) for f in args.files] if args.files
             else checked_sources())
    if args.list:
        print('\n'.join(files))
        return 0
    if args.fix:
        status = clang_format(['-i'], files)
        if args.all and status == 0:
            with open(LIST, 'w') as f:
                f.write('# Checked by tools/format.py: the whole tree.\n*\n')
            print(f'format: {len(files)} files formatted; the check now covers the whole tree')
        return 1 if status else 0
    status = clang_format(['--dry-run', '--Werror'], files)
    if status:
        print(f'format: files not formatted as .clang-format says; fix them with '
              f'tools/format.py --fix {"--all" if args.all else "FILE..."}', file=sys.stderr)
        return 1
    print(f'format: {len(files)} files checked, all formatted')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Per-option dependencies, as Linux's fixdep does.

Every C/C++ file would otherwise depend on the whole autoconf.h and rebuild on
any configuration change. Instead, each Kconfig symbol has a stamp file
<build>/kconfig-deps/<NAME> holding its value (rewritten only when the value
changes, by rtos_config), and a source or header depends on the stamps of the
CONFIG_<NAME> tokens written in it. The one rule for code: write CONFIG_ names
in full (no token pasting), so they can be found.
"""

import os
import re

_TOKEN = re.compile(r'\bCONFIG_([A-Za-z0-9_]+)')


def stamp_dir(build_dir):
    return os.path.join(build_dir, 'kconfig-deps')


def write_stamps(build_dir, values, write_if_changed):
    """values: {symbol name: value} for every defined symbol."""
    for name, value in values.items():
        write_if_changed(os.path.join(stamp_dir(build_dir), name), value + '\n')


def track(build_dir, names):
    """Makes SCons' include scanner (C, C++ and preprocessed assembler) add the
    stamps of the symbols each file names. (The values themselves reach the
    compiler as -D options, rtos_config.command_line_config, which are no part
    of the build signature.)"""
    import SCons.Tool  # only inside scons
    scanner = SCons.Tool.CScanner
    original = scanner.scan
    known = frozenset(names)
    directory = stamp_dir(build_dir)
    cache = {}

    def scan(node, path=()):
        deps = original(node, path)
        key = node.abspath
        if key not in cache:
            found = set(_TOKEN.findall(node.get_text_contents())) & known
            cache[key] = [node.fs.File(os.path.join(directory, n)) for n in sorted(found)]
        return deps + cache[key]

    scanner.scan = scan

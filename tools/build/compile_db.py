"""compile_commands.json for clangd and friends, rewritten only when it changes.

SCons' compilation_db tool rebuilds the database on every run (its entries are
always-built), which gives the file a new mtime and makes clangd re-index the
tree after a no-op build. Here SCons' tool still collects the entries, but the
database is written to a temporary file first and replaces the real one only
when the content differs; the step prints a line only then.
"""

import filecmp
import json
import os

import SCons.Action
import SCons.Tool.compilation_db as scons_cdb


def _write_if_changed(target, source, env):
    path = target[0].abspath
    tmp = path + '.tmp'
    scons_cdb.write_compilation_db([env.File(tmp)], source, env)
    _drop_launcher(tmp, env.get('LAUNCHER', ''))
    if os.path.isfile(path) and filecmp.cmp(tmp, path, shallow=False):
        os.remove(tmp)
        return 0
    os.replace(tmp, path)
    print(f'  GEN    {path}')
    return 0


def _drop_launcher(path, launcher):
    """Removes the compiler launcher (ccache, RTOS_COMPILER_LAUNCHER) from the
    commands: tools need the compiler itself, and the file must not change when
    only the launcher does."""
    if not launcher:
        return
    with open(path) as f:
        entries = json.load(f)
    for e in entries:
        if e.get('command', '').startswith(launcher + ' '):
            e['command'] = e['command'][len(launcher) + 1:]
    with open(path, 'w') as f:
        json.dump(entries, f, sort_keys=True, indent=4, separators=(",", ": "))  # as SCons writes it


def setup(env):
    """Call right after creating the environment, before any Object()."""
    env.Tool('compilation_db')
    env['BUILDERS']['CompilationDatabase'].action = SCons.Action.Action(_write_if_changed, None)


def database(env, path):
    """The compile_commands.json target. Precious: SCons would delete it before
    running the step, which always leaves something to rewrite."""
    cdb = env.CompilationDatabase(path)
    env.Precious(cdb)
    return cdb

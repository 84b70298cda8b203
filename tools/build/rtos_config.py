"""Kconfig handling for the SCons build (Kconfiglib underneath).

One build folder holds one configuration:
  <build>/.config          the merged configuration (menuconfig edits it)
  <build>/.config.inputs   fingerprint of what .config was merged from
  <build>/include/generated/autoconf.h   C/C++ header, rewritten only when its
                                         content changes
  <build>/include/generated/autoconf.rsp the same values as -D options, which the
                                         compiler reads (@file): see command_line_config
  <build>/kconfig-deps/<NAME>  one stamp per symbol, rewritten only when its value
                               changes (config_deps.py: only users of it rebuild)

An application (scons APP=<folder>, app_sources below) adds its folder's
Kconfig under "Application" and its app.conf fragment after the defconfig.

Fragments are read strictly (fragment.py); values Kconfig refuses and rules it
cannot express (_rule_violations) stop the build with the file, line and cause.

.config is re-merged from the BSP defconfig plus the CONFIG= fragments when
those inputs (or the Kconfig tree) change; otherwise it is kept as it is, so
menuconfig edits survive until an input changes.
"""

import difflib
import glob
import hashlib
import json
import os
import re
import sys

import config_deps
import fragment
import kconfiglib


class ConfigError(Exception):
    """A configuration input is wrong; the message says what and where."""


class Config:
    """Read-only view of a resolved configuration: cfg['NAME'], cfg.enabled('NAME')."""

    def __init__(self, values, names=(), app=''):
        self._values = values
        self.names = list(names)  # every defined symbol, set or not
        self.app = app  # the application folder (absolute), '' without one

    def get(self, name, default=None):
        return self._values.get(name, default)

    def __getitem__(self, name):
        return self._values[name]

    def enabled(self, name):
        return self._values.get(name) in ('y', 'm')

    def int(self, name):
        return int(self._values[name], 0)


def _load_kconfig(srctree, bsp, app=''):
    os.environ['srctree'] = srctree
    os.environ['BSP'] = bsp
    # The top-level Kconfig sources $(RTOS_APP_DIR)/Kconfig when there is one.
    os.environ['RTOS_APP_DIR'] = app
    os.environ['RTOS_APP_NAME'] = os.path.basename(app)
    # Kconfiglib prints warnings itself unless told otherwise; we collect them.
    kconf = kconfiglib.Kconfig(os.path.join(srctree, 'Kconfig'), warn_to_stderr=False,
                               suppress_traceback=True)
    kconf.warn_assign_undef = True
    kconf.warn_assign_override = False
    kconf.warn_assign_redun = False
    return kconf


def _type_name(sym):
    return kconfiglib.TYPE_TO_STR[sym.orig_type]


def _number(sym, text):
    """An int or hex value as Kconfig reads it (decimal int, hex with or without 0x)."""
    return int(text, 16 if sym.orig_type is kconfiglib.HEX else 10)


def _active_range(sym):
    for lo, hi, cond in sym.ranges:
        if kconfiglib.expr_value(cond):
            return lo.str_value, hi.str_value
    return None


def _unknown_symbol(kconf, a):
    names = [n for n, s in kconf.syms.items() if s.nodes]
    close = difflib.get_close_matches(a.name, names, n=1)
    hint = f' (did you mean CONFIG_{close[0]}?)' if close else ''
    return ConfigError(f'{a.where}: unknown Kconfig symbol CONFIG_{a.name}{hint}')


def _apply(kconf, assignments):
    """Gives each assignment to Kconfig (after checking it against the symbol's type)."""
    for a in assignments:
        sym = kconf.syms.get(a.name)
        if sym is None or not sym.nodes:
            raise _unknown_symbol(kconf, a)
        try:
            value = fragment.check_value(a, _type_name(sym), _active_range(sym))
        except fragment.FragmentError as e:
            raise ConfigError(str(e)) from None
        if sym.choice and value != 'n':
            sym.choice.set_value(value)
        sym.set_value(value)


def _winners(kconf, assignments):
    """The assignment that decides each symbol: its last one. A choice member set
    to y also overrides earlier y assignments to the other members (later wins)."""
    final = {}
    for a in assignments:
        choice = kconf.syms[a.name].choice
        if choice and a.value == 'y':
            for other in choice.syms:
                if other.name in final and final[other.name].value == 'y':
                    del final[other.name]
        final[a.name] = a
    return final


def _deps_text(kconf, expr):
    items = sorted({s.name for s in kconfiglib.expr_items(expr)
                    if isinstance(s, kconfiglib.Symbol) and not s.is_constant})
    now = ', '.join(f'CONFIG_{n}={kconf.syms[n].str_value or "n"}' for n in items)
    return f'{kconfiglib.expr_str(expr)} (now {now})' if now else kconfiglib.expr_str(expr)


def _refusal_reason(kconf, sym, a):
    """Why Kconfig resolved sym to something other than the assignment asked for."""
    bool_like = sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE)
    if not any(node.prompt for node in sym.nodes):
        return (f'CONFIG_{sym.name} has no prompt: its value follows from other options '
                'and cannot be set')
    rng = _active_range(sym)
    if rng and not bool_like and kconfiglib.expr_value(sym.direct_dep):
        lo, hi = (_number(sym, v) for v in rng)
        if not lo <= _number(sym, a.value) <= hi:
            return f'outside the allowed range {rng[0]}..{rng[1]}'
    if bool_like and a.value == 'n' and kconfiglib.expr_value(sym.rev_dep):
        selectors = [s for s in kconfiglib.split_expr(sym.rev_dep, kconfiglib.OR)
                     if kconfiglib.expr_value(s)]
        why = []
        for s in selectors:
            first = s
            while isinstance(first, tuple):  # (AND, selector, condition)
                first = first[1]
            # A promptless selector exists to carry a rule; its help states it.
            rule = [n.help for n in first.nodes if n.help and not n.prompt]
            why.append(' '.join(rule[0].split()) if rule else f'CONFIG_{first.name} selects it')
        return '; '.join(why)
    if sym.choice and bool_like:
        members = ', '.join('CONFIG_' + s.name for s in sym.choice.syms)
        if a.value == 'n':
            return (f'it is the selected member of a choice ({members}); set another '
                    'member to y instead')
    if not kconfiglib.expr_value(sym.direct_dep):
        return f'its dependencies are not met: {_deps_text(kconf, sym.direct_dep)}'
    for node in sym.nodes:
        if node.prompt and not kconfiglib.expr_value(node.prompt[1]):
            return f'it can only be set when {_deps_text(kconf, node.prompt[1])}'
    if sym.choice and bool_like and a.value == 'y':
        sel = sym.choice.selection
        return (f'another member of its choice is selected (CONFIG_{sel.name})'
                if sel else 'its choice has no selection')
    return f'it resolves to "{sym.str_value}"'


def _same_value(sym, value):
    if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX):
        try:
            return _number(sym, sym.str_value) == _number(sym, value)
        except ValueError:
            return False
    return sym.str_value == value


def _merge(kconf, inputs):
    """Loads defconfig then fragments; refuses malformed lines, unknown symbols and
    values Kconfig does not take, naming the file and line."""
    assignments = []
    for path in inputs:
        if not os.path.isfile(path):
            raise ConfigError(f'configuration fragment not found: {path}')
        try:
            assignments += fragment.parse(path)
        except fragment.FragmentError as e:
            raise ConfigError(str(e)) from None
    kconf.unset_values()
    _apply(kconf, assignments)
    for a in _winners(kconf, assignments).values():
        sym = kconf.syms[a.name]
        if not _same_value(sym, a.value):
            raise ConfigError(f'{a.where}: {a.text} refused: {_refusal_reason(kconf, sym, a)}')
    return assignments


def _is_power_of_two(n):
    return n > 0 and n & (n - 1) == 0


def _rule_violations(kconf):
    """Rules Kconfig cannot express: [(symbol name, message)]."""
    out = []
    for sym in kconf.unique_defined_syms:
        # Every *_QUEUE_SIZE is a virtqueue size, which the VirtIO spec wants a
        # power of two (split rings index with a mask).
        if sym.name.endswith('_QUEUE_SIZE') and sym.str_value:
            n = _number(sym, sym.str_value)
            if not _is_power_of_two(n):
                lower = 1 << (n.bit_length() - 1) if n > 0 else 1
                out.append((sym.name, f'CONFIG_{sym.name}={sym.str_value} refused: a queue '
                                      f'size is a power of two (nearest: {lower} or '
                                      f'{lower * 2})'))
    return out


def _fingerprint(paths):
    h = hashlib.sha256()
    for path in paths:
        h.update(path.encode())
        with open(path, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()


def _kconfig_files(kconf):
    return sorted(set(os.path.join(kconf.srctree, p) for p in kconf.kconfig_filenames))


def _write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def config_path(build_dir):
    return os.path.join(build_dir, '.config')


def header_path(build_dir):
    return os.path.join(build_dir, 'include', 'generated', 'autoconf.h')


def options_path(build_dir):
    return os.path.join(build_dir, 'include', 'generated', 'autoconf.rsp')


# The marker rtos/config.hpp looks for: with it, the values are on the command line.
COMMAND_LINE_MARKER = 'RTOS_CONFIG_ON_COMMAND_LINE'


def command_line_config(header_text):
    """autoconf.h's #defines as the compiler options of a response file (gcc
    @file syntax, which ccache expands too). The target build compiles with
    these instead of including the header: a header in the build folder would
    name that folder in every file's preprocessed text (its line markers), and
    ccache, which hashes that text, could then never reuse an object compiled
    in another build folder, even where the configuration does not matter."""
    def quote(arg):
        return re.sub(r'([^A-Za-z0-9_=.,:/+-])', r'\\\1', arg)
    options = ['-D' + COMMAND_LINE_MARKER]
    for line in header_text.splitlines():
        m = re.match(r'#define (\w+) (.*)$', line)
        if m:
            options.append(quote(f'-D{m.group(1)}={m.group(2)}'))
    return '\n'.join(options) + '\n'


def default_build_dir(srctree, bsp, app=''):
    """build/<bsp>; an application builds in its own folder, <app>/build/<bsp>,
    so two applications never share a build folder."""
    return os.path.join(app, 'build', bsp) if app else os.path.join(srctree, 'build', bsp)


APP_SOURCE_PATTERNS = ('*.c', '*.cpp', '*.S')
APP_FRAGMENT = 'app.conf'


def check_app(app):
    """Raises ConfigError unless app is a folder with sources: an SConscript
    or files matching APP_SOURCE_PATTERNS."""
    if not os.path.isdir(app):
        raise ConfigError(f'APP folder not found: {app}')
    if not os.path.isfile(os.path.join(app, 'SConscript')) and not app_sources(app):
        raise ConfigError(f'APP folder {app} has no sources: expected '
                          f'{", ".join(APP_SOURCE_PATTERNS)} files or an SConscript in it')


def app_sources(app):
    """The files an application folder without an SConscript compiles: its own
    *.c, *.cpp and *.S (not subfolders: those want an SConscript)."""
    return sorted(p for pattern in APP_SOURCE_PATTERNS
                  for p in glob.glob(os.path.join(glob.escape(app), pattern)))


def stored_inputs(build_dir):
    """What this build folder was configured with last time ({} if never)."""
    try:
        with open(config_path(build_dir) + '.inputs') as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _shown_path(srctree, path):
    """path as the user would type it from the top of the tree."""
    rel = os.path.relpath(path, srctree)
    return path if rel.startswith('..') else rel


def scons_command(srctree, bsp, build_dir, *extra, app=''):
    """The scons command line that works on this build folder."""
    argv = ['scons', f'BSP={bsp}'] + ([f'APP={_shown_path(srctree, app)}'] if app else [])
    if os.path.abspath(build_dir) != default_build_dir(srctree, bsp, app):
        argv.append(f'BUILD={_shown_path(srctree, os.path.abspath(build_dir))}')
    return ' '.join(argv + list(extra))


def _header(srctree, bsp, build_dir, inputs, app):
    return ('# Generated from ' + ', '.join(_shown_path(srctree, p) for p in inputs) + '\n'
            '# Edit with: ' + scons_command(srctree, bsp, build_dir, '--menuconfig', app=app)
            + '\n')


def prepare(srctree, bsp, build_dir, fragments=None, check_dotconfig=True, app=None):
    """Produces <build>/.config and autoconf.h; returns a Config.

    fragments=None reuses the fragments this build folder was configured with
    last time (so `scons --menuconfig` after `scons CONFIG=x` keeps x); app=None
    likewise its application folder ('' for none).
    check_dotconfig=False lets an existing .config that breaks a rule through
    (menuconfig opens on it so that it can be fixed)."""
    dotconfig = config_path(build_dir)
    stamp = dotconfig + '.inputs'
    previous = stored_inputs(build_dir)
    if fragments is None:
        fragments = previous.get('fragments', [])
    if app is None:
        app = previous.get('app', '')
    if app:
        check_app(app)
    kconf = _load_kconfig(srctree, bsp, app)
    defconfig = os.path.join(srctree, 'bsp', bsp, 'defconfig')
    app_fragment = os.path.join(app, APP_FRAGMENT) if app else ''
    inputs = [defconfig] + ([app_fragment] if os.path.isfile(app_fragment) else []) \
        + list(fragments)
    for path in inputs:
        if not os.path.isfile(path):
            raise ConfigError(f'configuration file not found: {path}')
    fingerprint = _fingerprint(inputs + _kconfig_files(kconf))
    os.makedirs(build_dir, exist_ok=True)
    if previous.get('fingerprint') != fingerprint or not os.path.isfile(dotconfig):
        winners = _winners(kconf, _merge(kconf, inputs))
        for name, message in _rule_violations(kconf):
            where = winners[name].where if name in winners else \
                'the defaults of ' + ', '.join(_shown_path(srctree, p) for p in inputs)
            raise ConfigError(f'{where}: {message}')
        kconf.write_config(dotconfig, header=_header(srctree, bsp, build_dir, inputs, app))
        _write_if_changed(stamp, json.dumps({'fingerprint': fingerprint,
                                             'fragments': list(fragments), 'app': app},
                                            indent=1) + '\n')
    else:
        kconf.warnings.clear()
        kconf.load_config(dotconfig)
        violations = _rule_violations(kconf) if check_dotconfig else []
        if violations:
            raise ConfigError('\n'.join(f'{dotconfig}: {message}' for _, message in violations)
                              + '\nchange it with: '
                              + scons_command(srctree, bsp, build_dir, '--menuconfig', app=app))
    return _finish(kconf, build_dir, app)


def _finish(kconf, build_dir, app):
    header = header_path(build_dir)
    tmp = header + '.tmp'
    os.makedirs(os.path.dirname(header), exist_ok=True)
    kconf.write_autoconf(tmp)
    with open(tmp) as f:
        text = f.read()
    os.remove(tmp)
    _write_if_changed(header, text)
    _write_if_changed(options_path(build_dir), command_line_config(text))
    config_deps.write_stamps(build_dir, {sym.name: sym.str_value
                                         for sym in kconf.unique_defined_syms},
                             _write_if_changed)
    values = {}
    for sym in kconf.unique_defined_syms:
        if sym.str_value not in ('', 'n') or sym.orig_type in (kconfiglib.INT, kconfiglib.HEX):
            if sym.str_value != '':
                values[sym.name] = sym.str_value
    return Config(values, [sym.name for sym in kconf.unique_defined_syms], app)


def menuconfig(srctree, bsp, build_dir):
    """Runs Kconfiglib's terminal menuconfig on the build's .config."""
    import menuconfig as kmenuconfig
    # menuconfig rewrites .config on save: keep its header (how it was made, how to edit).
    with open(config_path(build_dir)) as f:
        header = ''.join(line for line in f if line.startswith('# Generated from ')
                         or line.startswith('# Edit with: '))
    os.environ['KCONFIG_CONFIG_HEADER'] = header
    kconf = _load_kconfig(srctree, bsp, stored_inputs(build_dir).get('app', ''))
    os.environ['KCONFIG_CONFIG'] = config_path(build_dir)
    kconf.load_config(config_path(build_dir))
    kmenuconfig.menuconfig(kconf)


def savedefconfig(srctree, bsp, build_dir, out_path):
    kconf = _load_kconfig(srctree, bsp, stored_inputs(build_dir).get('app', ''))
    kconf.load_config(config_path(build_dir))
    kconf.write_min_config(out_path)
    return out_path


def fail(message):
    sys.stderr.write(f'error: {message}\n')
    sys.exit(2)

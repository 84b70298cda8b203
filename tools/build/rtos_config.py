"""Kconfig handling for the SCons build (Kconfiglib underneath).

One build folder holds one configuration:
  <build>/.config          the merged configuration (menuconfig edits it)
  <build>/.config.inputs   what .config was merged from (fragments, application,
                           file hashes) and what that merge wrote
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
those inputs (or the Kconfig tree) change; otherwise it is kept as it is.
Changes the user made to .config since the last merge (menuconfig or an
editor) survive a re-merge: .config.inputs keeps what the merge wrote, the
lines that differ from it are the user's, and they are applied again over
the new merge, with a note that says so (_keep_user_changes). One that can no
longer be kept (its symbol is gone or now refused, or the inputs changed the
same symbol) stops the build with what and where, and nothing is written.
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
    """Gives each assignment to Kconfig (after checking it against the symbol's
    type), from the defaults: earlier values are forgotten."""
    kconf.unset_values()
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


def _unmet_arch(item, seen=None):
    """The ARCH_* symbol (off on this board) that item needs through a chain
    of unmet 'depends on' (a choice member through its choice), else None:
    that option belongs to the other architecture."""
    seen = seen if seen is not None else set()
    if item in seen:
        return None
    seen.add(item)
    for dep in kconfiglib.split_expr(item.direct_dep, kconfiglib.AND):
        if kconfiglib.expr_value(dep):
            continue
        if isinstance(dep, kconfiglib.Symbol) and dep.name.startswith('ARCH_') and \
                dep.orig_type is kconfiglib.BOOL:
            return dep
        if isinstance(dep, (kconfiglib.Symbol, kconfiglib.Choice)):
            found = _unmet_arch(dep, seen)
            if found:
                return found
    if isinstance(item, kconfiglib.Symbol) and item.choice:
        return _unmet_arch(item.choice, seen)
    return None


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
        arch = _unmet_arch(sym)
        if arch:
            this = kconf.syms['ARCH'].str_value
            other = arch.name[len('ARCH_'):].lower()
            article = 'an' if other[0] in 'aeiou' else 'a'
            return (f'CONFIG_{sym.name} is {article} {other}-only option (it depends on '
                    f'CONFIG_{arch.name}), and this board is {this}')
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
    _apply(kconf, assignments)
    for a in _winners(kconf, assignments).values():
        sym = kconf.syms[a.name]
        if not _same_value(sym, a.value):
            raise ConfigError(f'{a.where}: {a.text} refused: {_refusal_reason(kconf, sym, a)}')
    return assignments


def _is_power_of_two(n):
    return n > 0 and n & (n - 1) == 0


def _power_of_two_only(sym):
    # Every *_QUEUE_SIZE is a virtqueue size, which the VirtIO spec wants a
    # power of two (split rings index with a mask).
    return sym.name.endswith('_QUEUE_SIZE')


def _value_rule(sym, value):
    """Why `value` breaks a rule Kconfig cannot express for sym, else None.
    Checked by the build (_rule_violations) and by menuconfig as it is typed."""
    if _power_of_two_only(sym) and value:
        n = _number(sym, value)
        if not _is_power_of_two(n):
            lower = 1 << (n.bit_length() - 1) if n > 0 else 1
            return f'a queue size is a power of two (nearest: {lower} or {lower * 2})'
    return None


def _rule_violations(kconf):
    """Rules Kconfig cannot express: [(symbol name, message)]."""
    out = []
    for sym in kconf.unique_defined_syms:
        why = _value_rule(sym, sym.str_value)
        if why:
            out.append((sym.name, f'CONFIG_{sym.name}={sym.str_value} refused: {why}'))
    return out


def _file_hashes(paths):
    out = {}
    for path in paths:
        with open(path, 'rb') as f:
            out[path] = hashlib.sha256(f.read()).hexdigest()
    return out


def _fingerprint(hashes):
    h = hashlib.sha256()
    for path, digest in hashes.items():
        h.update(path.encode() + b'\0' + digest.encode())
    return h.hexdigest()


def _written(kconf):
    """What write_config puts in .config for each symbol, as fragment.py
    normalises it: {name: 'CONFIG_X=1' or '# CONFIG_X is not set'}."""
    out = {}
    for sym in kconf.unique_defined_syms:
        line = sym.config_string.strip()
        if line:
            a = fragment.parse_line(line)
            out[a.name] = a.text
    return out


def _changed_inputs(srctree, old_hashes, new_hashes):
    changed = sorted(set(old_hashes.items()) ^ set(new_hashes.items()))
    names = sorted({_shown_path(srctree, path) for path, _ in changed})
    return ', '.join(names[:4] + ([f'{len(names) - 4} more'] if len(names) > 4 else []))


def _keep_user_changes(kconf, srctree, dotconfig, assignments, old_base, new_base, changed):
    """Re-applies the user's changes to .config (its lines that differ from
    what the last merge wrote, old_base) over the new merge of the inputs
    (assignments, which wrote new_base). Returns the assignments to apply:
    the inputs' plus the changes kept. Raises ConfigError naming each change
    that cannot be kept: nothing is lost without a word."""
    shown = _shown_path(srctree, dotconfig)
    try:
        current = fragment.parse(dotconfig)
    except fragment.FragmentError as e:
        raise ConfigError(f'{e} (the inputs changed, and {shown} is read to keep your '
                          'changes to it)') from None
    changes = [a for a in current if a.text != old_base.get(a.name)]
    if not changes:
        return assignments
    lost = []
    for a in changes:
        sym = kconf.syms.get(a.name)
        if sym is None or not sym.nodes:
            lost.append(f'{a.where}: {a.text}: CONFIG_{a.name} no longer exists')
        elif new_base.get(a.name) != old_base.get(a.name) and new_base.get(a.name) != a.text:
            now = new_base.get(a.name, 'not set: its dependencies are not met')
            lost.append(f'{a.where}: {a.text}: the inputs changed it too (they now give {now})')
    if not lost:
        try:
            _apply(kconf, assignments + changes)
        except ConfigError as e:
            lost.append(str(e))
    if not lost:
        for a in changes:
            if not _same_value(kconf.syms[a.name], a.value):
                lost.append(f'{a.where}: {a.text} refused: '
                            f'{_refusal_reason(kconf, kconf.syms[a.name], a)}')
    if lost:
        raise ConfigError(
            f'{shown} must be merged again ({changed} changed), but these changes you made to '
            'it since the last merge cannot be kept:\n  ' + '\n  '.join(lost) + '\nNothing '
            f'was changed. Delete those lines from {shown} to take what the inputs say, or put '
            'them in a CONFIG= fragment, then build again.')
    # Lines that only follow from other changes (a default that changed with
    # them, an option they made visible) are not the user's: leave them out,
    # so that they keep following.
    kept = list(changes)
    for a in reversed(changes):
        others = [k for k in kept if k is not a]
        _apply(kconf, assignments + others)
        if _same_value(kconf.syms[a.name], a.value):
            kept = others
    _apply(kconf, assignments + kept)
    if kept:
        print(f'{shown}: merged again ({changed} changed); kept your changes to it: '
              + ', '.join(a.text for a in kept))
    return assignments + kept


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
    hashes = _file_hashes(inputs + _kconfig_files(kconf))
    fingerprint = _fingerprint(hashes)
    os.makedirs(build_dir, exist_ok=True)
    if previous.get('fingerprint') != fingerprint or not os.path.isfile(dotconfig):
        assignments = _merge(kconf, inputs)
        merged = _written(kconf)  # what the inputs alone give: the base of the user's changes
        if os.path.isfile(dotconfig) and 'merged' in previous:
            changed = _changed_inputs(srctree, previous.get('files', {}), hashes)
            assignments = _keep_user_changes(kconf, srctree, dotconfig, assignments,
                                             previous['merged'], merged, changed)
        elif os.path.isfile(dotconfig) and previous:
            # Configured before the merge's result was kept: changes cannot be told apart.
            print(f'{_shown_path(srctree, dotconfig)}: merged again; the previous one is '
                  f'{_shown_path(srctree, dotconfig)}.old (this build folder predates keeping '
                  'your changes across a merge)')
        winners = _winners(kconf, assignments)
        for name, message in _rule_violations(kconf):
            where = winners[name].where if name in winners else \
                'the defaults of ' + ', '.join(_shown_path(srctree, p) for p in inputs)
            raise ConfigError(f'{where}: {message}')
        kconf.write_config(dotconfig, header=_header(srctree, bsp, build_dir, inputs, app))
        _write_if_changed(stamp, json.dumps({'fingerprint': fingerprint,
                                             'fragments': list(fragments), 'app': app,
                                             'files': hashes, 'merged': merged},
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


BUILD_VARIABLES = ('APP', 'BSP', 'BUILD', 'CONFIG', 'CROSS_COMPILE', 'V')


def check_variables(names):
    """Raises ConfigError for a scons variable the build does not know: scons
    would ignore a misspelled one (BPS=, bsp=, CONFIGS=) and build the
    defaults. Names the closest known variable."""
    for name in names:
        if name in BUILD_VARIABLES:
            continue
        same_letters = [v for v in BUILD_VARIABLES if v == name.upper()]
        close = same_letters or difflib.get_close_matches(name.upper(), BUILD_VARIABLES, n=1,
                                                          cutoff=0.5)
        hint = f' (did you mean {close[0]}=?)' if close else ''
        raise ConfigError(f'unknown build variable {name}={hint}; the variables are '
                          f'{", ".join(BUILD_VARIABLES)} (scons -h says what each does)')


def check_toolchain(prefix, arch, default_prefix, which=None):
    """Raises ConfigError unless the compilers of CROSS_COMPILE prefix exist,
    so a wrong prefix is refused before anything compiles."""
    import shutil
    which = which or shutil.which
    missing = [prefix + tool for tool in ('gcc', 'g++', 'objcopy') if not which(prefix + tool)]
    if not missing:
        return
    if prefix == default_prefix:
        raise ConfigError(f'the {arch} toolchain is not installed ({", ".join(missing)} not '
                          f'found): tools/setup.sh build installs it, or give '
                          f'CROSS_COMPILE=<prefix> of another {arch} toolchain')
    raise ConfigError(f'CROSS_COMPILE={prefix}: {", ".join(missing)} not found (neither in '
                      f'PATH nor as a path); the {arch} default is CROSS_COMPILE='
                      f'{default_prefix}')


def menuconfig(srctree, bsp, build_dir):
    """Runs Kconfiglib's terminal menuconfig on the build's .config."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConfigError(f'menuconfig needs a terminal (its input or output is not one): run '
                          f'it in a terminal, or change {config_path(build_dir)} with CONFIG= '
                          'fragments (docs/kconfig.md)')
    import curses
    import menuconfig as kmenuconfig
    # menuconfig rewrites .config on save: keep its header (how it was made, how to edit).
    with open(config_path(build_dir)) as f:
        header = ''.join(line for line in f if line.startswith('# Generated from ')
                         or line.startswith('# Edit with: '))
    os.environ['KCONFIG_CONFIG_HEADER'] = header
    kconf = _load_kconfig(srctree, bsp, stored_inputs(build_dir).get('app', ''))
    os.environ['KCONFIG_CONFIG'] = config_path(build_dir)
    kconf.load_config(config_path(build_dir))
    _add_value_rules(kmenuconfig)
    try:
        kmenuconfig.menuconfig(kconf)
    except curses.error as e:  # e.g. TERM unset or unknown
        raise ConfigError(f'menuconfig cannot use this terminal ({e}; TERM='
                          f'{os.environ.get("TERM", "")}): set TERM, e.g. TERM=xterm') from None


def _add_value_rules(kmenuconfig):
    """menuconfig refuses a value that breaks a rule of _value_rule as it is
    typed, as it refuses one out of range, and names the rule beside the
    range. Kconfiglib has no hook for this: its module-level _check_valid
    and _range_info (Kconfiglib 14) are wrapped. Without them (another
    Kconfiglib) menuconfig accepts the value and the next build refuses it."""
    check, info = getattr(kmenuconfig, '_check_valid', None), getattr(kmenuconfig, '_range_info',
                                                                       None)
    if not (check and info and hasattr(kmenuconfig, '_error')):
        return

    def check_valid(sym, s):
        if not check(sym, s):
            return False
        why = _value_rule(sym, s)
        if why:
            kmenuconfig._error(f'{s} refused: {why}')
            return False
        return True

    def range_info(sym):
        text = info(sym)
        return f'{text}, a power of two' if text and _power_of_two_only(sym) else text

    kmenuconfig._check_valid, kmenuconfig._range_info = check_valid, range_info


def savedefconfig(srctree, bsp, build_dir, out_path):
    kconf = _load_kconfig(srctree, bsp, stored_inputs(build_dir).get('app', ''))
    kconf.load_config(config_path(build_dir))
    kconf.write_min_config(out_path)
    return out_path


def fail(message):
    sys.stderr.write(f'error: {message}\n')
    sys.exit(2)

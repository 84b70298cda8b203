"""Kconfig handling for the SCons build (Kconfiglib underneath).

One build folder holds one configuration:
  <build>/.config          the merged configuration (menuconfig edits it)
  <build>/.config.inputs   fingerprint of what .config was merged from
  <build>/include/generated/autoconf.h   C/C++ header, rewritten only when its
                                         content changes (so only dependents rebuild)

.config is re-merged from the BSP defconfig plus the CONFIG= fragments when
those inputs (or the Kconfig tree) change; otherwise it is kept as it is, so
menuconfig edits survive until an input changes.
"""

import hashlib
import json
import os
import sys

import kconfiglib


class ConfigError(Exception):
    """A configuration input is wrong; the message says what and where."""


class Config:
    """Read-only view of a resolved configuration: cfg['NAME'], cfg.enabled('NAME')."""

    def __init__(self, values):
        self._values = values

    def get(self, name, default=None):
        return self._values.get(name, default)

    def __getitem__(self, name):
        return self._values[name]

    def enabled(self, name):
        return self._values.get(name) in ('y', 'm')

    def int(self, name):
        return int(self._values[name], 0)


def _load_kconfig(srctree, bsp):
    os.environ['srctree'] = srctree
    os.environ['BSP'] = bsp
    # Kconfiglib prints warnings itself unless told otherwise; we collect them.
    kconf = kconfiglib.Kconfig(os.path.join(srctree, 'Kconfig'), warn_to_stderr=False,
                               suppress_traceback=True)
    kconf.warn_assign_undef = True
    kconf.warn_assign_override = False
    kconf.warn_assign_redun = False
    return kconf


def _requested_values(path):
    """Symbol assignments written in a fragment: {name: value or None for 'is not set'}."""
    wanted = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if line.startswith('# CONFIG_') and line.endswith(' is not set'):
                wanted[line[9:-11]] = ('n', lineno)
            elif line.startswith('CONFIG_') and '=' in line:
                name, value = line[7:].split('=', 1)
                if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                    value = value[1:-1]
                wanted[name] = (value, lineno)
    return wanted


def _same_value(sym, value):
    if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        return sym.str_value == value
    if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX):
        try:
            return int(sym.str_value, 0) == int(value, 0)
        except ValueError:
            return False
    return sym.str_value == value


def _merge(kconf, inputs):
    """Loads defconfig then fragments; refuses unknown symbols and refused values."""
    for index, path in enumerate(inputs):
        if not os.path.isfile(path):
            raise ConfigError(f'configuration fragment not found: {path}')
        kconf.load_config(path, replace=(index == 0))
        for name, (value, lineno) in _requested_values(path).items():
            sym = kconf.syms.get(name)
            if sym is None or not sym.nodes:
                raise ConfigError(f'{path}:{lineno}: unknown Kconfig symbol CONFIG_{name}')
            if sym.orig_type == kconfiglib.STRING:
                continue
            if not _same_value(sym, value):
                reason = ''
                ranges = [r for r in sym.ranges if kconfiglib.expr_value(r[2])]
                if ranges:
                    lo, hi = ranges[0][0].str_value, ranges[0][1].str_value
                    reason = f' (allowed range {lo}..{hi})'
                elif sym.direct_dep is not kconf.y and not kconfiglib.expr_value(sym.direct_dep):
                    reason = (' (its dependencies are not met: '
                              f'{kconfiglib.expr_str(sym.direct_dep)})')
                raise ConfigError(
                    f'{path}:{lineno}: CONFIG_{name}={value} refused; it resolves to '
                    f'"{sym.str_value}"{reason}')


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


def prepare(srctree, bsp, build_dir, fragments=None):
    """Produces <build>/.config and autoconf.h; returns a Config.

    fragments=None reuses the fragments this build folder was configured with
    last time (so `scons --menuconfig` after `scons CONFIG=x` keeps x)."""
    kconf = _load_kconfig(srctree, bsp)
    dotconfig = config_path(build_dir)
    stamp = dotconfig + '.inputs'
    previous = {}
    if os.path.isfile(stamp):
        try:
            with open(stamp) as f:
                previous = json.load(f)
        except ValueError:
            previous = {}
    if fragments is None:
        fragments = previous.get('fragments', [])
    defconfig = os.path.join(srctree, 'bsp', bsp, 'defconfig')
    inputs = [defconfig] + list(fragments)
    for path in inputs:
        if not os.path.isfile(path):
            raise ConfigError(f'configuration file not found: {path}')
    fingerprint = _fingerprint(inputs + _kconfig_files(kconf))
    os.makedirs(build_dir, exist_ok=True)
    if previous.get('fingerprint') != fingerprint or not os.path.isfile(dotconfig):
        _merge(kconf, inputs)
        kconf.write_config(dotconfig, header='# Generated from ' + ', '.join(inputs) +
                           '\n# Edit with: scons BSP=' + bsp + ' --menuconfig\n')
        _write_if_changed(stamp, json.dumps({'fingerprint': fingerprint,
                                             'fragments': list(fragments)}, indent=1) + '\n')
    else:
        kconf.warnings.clear()
        kconf.load_config(dotconfig)
    return _finish(kconf, build_dir)


def _finish(kconf, build_dir):
    header = header_path(build_dir)
    tmp = header + '.tmp'
    os.makedirs(os.path.dirname(header), exist_ok=True)
    kconf.write_autoconf(tmp)
    with open(tmp) as f:
        text = f.read()
    os.remove(tmp)
    _write_if_changed(header, text)
    values = {}
    for sym in kconf.unique_defined_syms:
        if sym.str_value not in ('', 'n') or sym.orig_type in (kconfiglib.INT, kconfiglib.HEX):
            if sym.str_value != '':
                values[sym.name] = sym.str_value
    return Config(values)


def menuconfig(srctree, bsp, build_dir):
    """Runs Kconfiglib's terminal menuconfig on the build's .config."""
    import menuconfig as kmenuconfig
    kconf = _load_kconfig(srctree, bsp)
    os.environ['KCONFIG_CONFIG'] = config_path(build_dir)
    kconf.load_config(config_path(build_dir))
    kmenuconfig.menuconfig(kconf)


def savedefconfig(srctree, bsp, build_dir, out_path):
    kconf = _load_kconfig(srctree, bsp)
    kconf.load_config(config_path(build_dir))
    kconf.write_min_config(out_path)
    return out_path


def fail(message):
    sys.stderr.write(f'error: {message}\n')
    sys.exit(2)

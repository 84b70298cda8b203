"""Strict reader of Kconfig fragments (and BSP defconfigs).

Every line is one of
  CONFIG_<NAME>=<value>        value: y/n (bool), a number (int, hex) or "text" (string)
  # CONFIG_<NAME> is not set   turns a bool off
  # any comment
  (blank)
Anything else is an error that names the file, the line and what was expected;
nothing is silently ignored. Pure Python, no Kconfig needed: the value is
checked against the symbol's type afterwards (check_value).
"""

import re
from typing import NamedTuple

EXPECTED = ("expected CONFIG_<NAME>=<value>, '# CONFIG_<NAME> is not set', "
            "a '#' comment or a blank line")

_NAME = r'[A-Za-z0-9_]+'
_UNSET = re.compile(rf'# CONFIG_({_NAME}) is not set$')
_ASSIGN = re.compile(rf'CONFIG_({_NAME})(\s*)=(\s*)(.*)$')
_NO_PREFIX = re.compile(rf'({_NAME})\s*=\s*(.*)$')
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"(.*)$')


class FragmentError(Exception):
    """A line of a fragment is malformed; str() is 'file:line: what, expected what'."""


class Assignment(NamedTuple):
    name: str           # without the CONFIG_ prefix
    value: str          # 'n' for '# ... is not set'; strings without quotes, unescaped
    path: str
    lineno: int
    quoted: bool = False  # the value was a "..." literal
    unset: bool = False   # the line was '# CONFIG_<NAME> is not set'

    @property
    def where(self):
        return f'{self.path}:{self.lineno}'

    @property
    def text(self):
        """The assignment as written (normalised), for messages."""
        if self.unset:
            return f'# CONFIG_{self.name} is not set'
        value = '"' + self.value.replace('\\', '\\\\').replace('"', '\\"') + '"' \
            if self.quoted else self.value
        return f'CONFIG_{self.name}={value}'


def _error(path, lineno, message):
    return FragmentError(f'{path}:{lineno}: {message}')


def parse_line(line, path='<fragment>', lineno=1):
    """One line -> an Assignment, or None for a comment or blank line."""
    line = line.rstrip('\r\n').rstrip()  # trailing blanks are invisible: allowed
    if not line:
        return None
    m = _UNSET.match(line)
    if m:
        return Assignment(m.group(1), 'n', path, lineno, unset=True)
    if line.startswith('#'):
        return None
    if line[0].isspace():
        raise _error(path, lineno, f"indented line '{line.strip()}': {EXPECTED}, "
                                   'starting in the first column')
    m = _ASSIGN.match(line)
    if m:
        name, before, after, value = m.groups()
        if before or after:
            raise _error(path, lineno, f"spaces around '=' in '{line}': write "
                                       f"CONFIG_{name}={value.strip()} (no spaces)")
        return _parse_value(name, value, path, lineno)
    m = _NO_PREFIX.match(line)
    if m and not line.startswith('CONFIG_'):
        name, value = m.groups()
        raise _error(path, lineno, f"'{line}' is not an assignment: symbol names start "
                                   f'with CONFIG_ (CONFIG_{name}={value}); {EXPECTED}')
    if re.match(rf'CONFIG_{_NAME}$', line):
        raise _error(path, lineno, f"'{line}' has no value: write {line}=<value>, or "
                                   f"'# {line} is not set' to turn a bool off")
    raise _error(path, lineno, f"cannot read '{line}': {EXPECTED}")


def _parse_value(name, value, path, lineno):
    if value.startswith('"'):
        m = _STRING.match(value)
        if not m:
            raise _error(path, lineno, f'CONFIG_{name}: unterminated string {value} '
                                       '(a string ends with an unescaped ")')
        text, rest = m.groups()
        rest = rest.strip()
        if rest.startswith('#'):
            raise _trailing_comment(name, f'"{text}"', rest, path, lineno)
        if rest:
            raise _error(path, lineno, f"CONFIG_{name}: unexpected '{rest}' after the "
                                       'closing quote of the string')
        return Assignment(name, re.sub(r'\\(.)', r'\1', text), path, lineno, quoted=True)
    if '#' in value:
        head, comment = value.split('#', 1)
        raise _trailing_comment(name, head.strip(), '#' + comment, path, lineno)
    if not value:
        raise _error(path, lineno, f"CONFIG_{name}= has no value after '=' (write "
                                   f"CONFIG_{name}=<value>, or '# CONFIG_{name} is not set' "
                                   'to turn a bool off)')
    if any(c.isspace() for c in value):
        raise _error(path, lineno, f"CONFIG_{name}={value}: a value has no spaces "
                                   '(a string is written in double quotes)')
    return Assignment(name, value, path, lineno)


def _trailing_comment(name, value, comment, path, lineno):
    return _error(path, lineno, f"comment after the value ('{comment.strip()}'): a comment "
                                f'takes a line of its own; write CONFIG_{name}={value} and '
                                'put the comment on the line above')


def parse(path, text=None):
    """All assignments of a fragment file (or of `text`, named `path`), in order."""
    if text is None:
        with open(path) as f:
            text = f.read()
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        a = parse_line(line, path, lineno)
        if a is not None:
            out.append(a)
    return out


_INT = re.compile(r'-?[0-9]+$')
_HEX = re.compile(r'(0[xX])?[0-9a-fA-F]+$')


def check_value(a, type_name, allowed_range=None):
    """Checks an Assignment against its symbol's type ('bool', 'tristate', 'int',
    'hex', 'string'); returns the value to give Kconfig. allowed_range (lo, hi)
    is only used in messages."""
    def fail(why):
        return FragmentError(f'{a.where}: {a.text}: {why}')

    rng = f', allowed range {allowed_range[0]}..{allowed_range[1]}' if allowed_range else ''
    if a.unset and type_name not in ('bool', 'tristate'):
        raise fail(f"'is not set' only turns off a bool; CONFIG_{a.name} is {type_name} "
                   f'(write CONFIG_{a.name}=<value>{rng})')
    if type_name == 'bool':
        if a.quoted or a.value not in ('y', 'n'):
            raise fail(f'CONFIG_{a.name} is a bool; allowed values: y, n')
    elif type_name == 'tristate':
        if a.quoted or a.value not in ('y', 'm', 'n'):
            raise fail(f'CONFIG_{a.name} is a tristate; allowed values: y, m, n')
    elif type_name == 'int':
        if a.quoted or not _INT.match(a.value):
            raise fail(f'not a number (CONFIG_{a.name} is a decimal int{rng})')
        if re.match(r'-?0[0-9]', a.value):
            raise fail(f'a decimal number has no leading zero (C would read '
                       f'{a.value} as octal): write CONFIG_{a.name}={int(a.value, 10)}')
    elif type_name == 'hex':
        if a.quoted or not _HEX.match(a.value):
            raise fail(f'not a hexadecimal number (CONFIG_{a.name} is hex, e.g. 0x1000{rng})')
        if not a.value.lower().startswith('0x'):
            return '0x' + a.value  # as autoconf.h writes it
    elif type_name == 'string':
        if not a.quoted:
            raise fail(f'CONFIG_{a.name} is a string: write it in double quotes, '
                       f'CONFIG_{a.name}="{a.value}"')
    return a.value

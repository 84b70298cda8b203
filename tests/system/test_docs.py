"""Keeps the documentation true: every user-visible Kconfig option and every
shell command is documented in docs/, the docs name only files that exist,
and every link in README.md, docs/ and the virtio README reaches an existing
file and, with a #fragment, a heading of that file."""
import glob
import os
import re
import sys

import pytest
from conftest import BSPS, ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import kconfiglib  # noqa: E402
import rtos_config  # noqa: E402,F401  (sets up srctree handling)

DOCS = sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))
# The reference is docs/ (docs/kconfig.md, docs/shell.md and the pages they
# link to); README.md is the front door and need not repeat it.
REFERENCE = '\n'.join(open(path).read() for path in DOCS)
# Every Markdown file whose links are checked.
LINKED = [os.path.join(ROOT, 'README.md')] + DOCS + [
    os.path.join(ROOT, 'components', 'drivers', 'virtio', 'README.md')]


@pytest.mark.parametrize('bsp', BSPS)
def test_every_kconfig_option_is_documented(bsp):
    os.environ['srctree'] = ROOT
    os.environ['BSP'] = bsp
    kconf = kconfiglib.Kconfig(os.path.join(ROOT, 'Kconfig'), warn_to_stderr=False)
    missing = sorted(
        sym.name for sym in kconf.unique_defined_syms
        if any(node.prompt for node in sym.nodes) and f'CONFIG_{sym.name}' not in REFERENCE)
    assert not missing, 'Kconfig options missing from docs/: ' + ', '.join(missing)


def test_every_shell_command_is_documented():
    names = set()
    for path in glob.glob(os.path.join(ROOT, '**', '*.cpp'), recursive=True):
        if '/build/' in path:
            continue
        names.update(re.findall(r'SHELL_COMMAND\(\s*([A-Za-z0-9_]+)\s*,', open(path).read()))
    missing = sorted(n for n in names if not re.search(rf'`{n}[ `]', REFERENCE))
    assert not missing, 'shell commands missing from docs/: ' + ', '.join(missing)


def _doc_paths(line):
    """Backticked repository paths on a line of a document: `dir/file.ext` or
    `dir/`, without placeholders (<board>), globs or shell words."""
    for token in re.findall(r'`([^`\s]+)`', line):
        token = token.rstrip('.,:;')
        if any(c in token for c in '<>*$=(){}|') or token.startswith(('-', '/usr', 'build/')):
            continue
        if '/' in token and re.match(r'^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]*)+$', token):
            yield token


def _missing_paths(text):
    """The paths a document names that exist neither from the repository's
    root nor inside a folder named before them on the same line (a layout
    table's row: `components/drivers/` ... `block/`)."""
    for line in text.splitlines():
        folders = ['']
        for path in _doc_paths(line):
            path = path.split('#')[0]
            found = [os.path.join(folder, path) for folder in folders
                     if os.path.exists(os.path.join(ROOT, folder, path))]
            if not found:
                yield path
            elif path.endswith('/'):
                folders.append(found[0])


@pytest.mark.parametrize('doc', [os.path.join(ROOT, 'README.md')] + DOCS,
                         ids=lambda p: os.path.relpath(p, ROOT))
def test_docs_name_only_existing_paths(doc):
    """A doc that names a file or folder names one that exists."""
    missing = sorted(set(_missing_paths(open(doc).read())))
    assert not missing, f'{os.path.relpath(doc, ROOT)} names missing paths: ' + ', '.join(missing)


def test_path_check_catches_a_missing_file():
    assert list(_missing_paths('`components/drivers/` holds `block/` and `virtio/transport/`')) == []
    assert list(_missing_paths('`components/net/netif.cpp`')) == ['components/net/netif.cpp']
    assert list(_missing_paths('`block/` alone, with no folder before it')) == ['block/']


FENCE_RE = re.compile(r'^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$', re.M | re.S)
LINK_RE = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')


def _prose(text):
    """The text outside fenced code blocks and code spans, where a '#' line is
    a heading and [..](..) a link."""
    text = FENCE_RE.sub('', text)
    return re.sub(r'(`+)(?!`).*?(?<!`)\1(?!`)', '', text, flags=re.S)


def slug(heading):
    """GitHub's anchor for a heading: its text without markup, lowercased,
    everything but letters, digits, spaces, '-' and '_' removed, each space
    a '-'."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)   # a link: its text
    text = re.sub(r'<[^>]+>', '', text).strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path):
    """Every anchor the headings of a Markdown file give, duplicates numbered
    as GitHub numbers them (name, name-1, name-2, ...)."""
    seen = {}
    result = set()
    for heading in re.findall(r'^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$', FENCE_RE.sub('', open(path).read()),
                              re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        result.add(base if n == 0 else f'{base}-{n}')
    return result


def test_slug_follows_github():
    assert slug('Network (`tools/bench.py --net`)') == 'network-toolsbenchpy---net'
    assert slug('Display (virtio-gpu)') == 'display-virtio-gpu'
    assert slug('1. Register for a DeviceID') == '1-register-for-a-deviceid'
    assert slug('Boot, from reset to the shell') == 'boot-from-reset-to-the-shell'


def _broken_links(doc):
    for target in LINK_RE.findall(_prose(open(doc).read())):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target):   # http:, https:, mailto:
            continue
        path, _, fragment = target.partition('#')
        dest = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if not os.path.exists(dest):
            yield f'{target} (no file {os.path.relpath(dest, ROOT)})'
        elif fragment and dest.endswith('.md') and fragment not in anchors(dest):
            yield f'{target} (no heading #{fragment} in {os.path.relpath(dest, ROOT)})'
        elif fragment and not dest.endswith('.md'):
            yield f'{target} (a fragment into a file that is not Markdown)'


@pytest.mark.parametrize('doc', LINKED, ids=lambda p: os.path.relpath(p, ROOT))
def test_docs_links_resolve(doc):
    """Every relative link reaches an existing file, and every #fragment a
    heading of the file it points into (the same file when no path is
    given)."""
    broken = sorted(set(_broken_links(doc)))
    assert not broken, f'{os.path.relpath(doc, ROOT)} has broken links: ' + '; '.join(broken)


def test_link_check_catches_a_missing_section(tmp_path):
    """A planted link to a section another file no longer has fails."""
    (tmp_path / 'a.md').write_text('# Title\n\n## Kept section\n\n```sh\n# not a heading\n```\n')
    (tmp_path / 'b.md').write_text(
        'See [kept](a.md#kept-section), [here](#local), [gone](a.md#not-a-heading), '
        '[missing](c.md), [self](#stack-protection).\n\n## Local\n')
    broken = sorted(_broken_links(str(tmp_path / 'b.md')))
    assert len(broken) == 3, broken
    assert any('a.md#not-a-heading' in b for b in broken)
    assert any('c.md' in b for b in broken)
    assert any('#stack-protection' in b for b in broken)

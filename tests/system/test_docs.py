"""Keeps README.md and docs/ true: every user-visible Kconfig option and every
shell command is documented there, and the docs name only files that exist."""
import glob
import os
import re
import sys

import pytest
from conftest import BSPS, ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import kconfiglib  # noqa: E402
import rtos_config  # noqa: E402,F401  (sets up srctree handling)

# The reference lives in README.md and docs/ (docs/kconfig.md, docs/shell.md).
README = '\n'.join(open(path).read() for path in
                   [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md'))))


@pytest.mark.parametrize('bsp', BSPS)
def test_every_kconfig_option_is_in_readme(bsp):
    os.environ['srctree'] = ROOT
    os.environ['BSP'] = bsp
    kconf = kconfiglib.Kconfig(os.path.join(ROOT, 'Kconfig'), warn_to_stderr=False)
    missing = sorted(
        sym.name for sym in kconf.unique_defined_syms
        if any(node.prompt for node in sym.nodes) and f'CONFIG_{sym.name}' not in README)
    assert not missing, 'Kconfig options missing from README.md: ' + ', '.join(missing)


def test_every_shell_command_is_in_readme():
    names = set()
    for path in glob.glob(os.path.join(ROOT, '**', '*.cpp'), recursive=True):
        if '/build/' in path:
            continue
        names.update(re.findall(r'SHELL_COMMAND\(\s*([A-Za-z0-9_]+)\s*,', open(path).read()))
    missing = sorted(n for n in names if not re.search(rf'`{n}[ `]', README))
    assert not missing, 'shell commands missing from README.md: ' + ', '.join(missing)


def _doc_paths(text):
    """Backticked repository paths in a document: `dir/file.ext` or `dir/`,
    without placeholders (<board>), globs or shell words."""
    for token in re.findall(r'`([^`\s]+)`', text):
        token = token.rstrip('.,:;')
        if any(c in token for c in '<>*$=(){}|') or token.startswith(('-', '/usr', 'build/')):
            continue
        if '/' in token and re.match(r'^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]*)+$', token):
            yield token


@pytest.mark.parametrize('doc', sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md'))),
                         ids=os.path.basename)
def test_docs_name_only_existing_paths(doc):
    """A doc that names a file or folder names one that exists."""
    text = open(doc).read()
    missing = sorted({p for p in _doc_paths(text)
                      if not os.path.exists(os.path.join(ROOT, p.split('#')[0]))})
    assert not missing, f'{os.path.basename(doc)} names missing paths: ' + ', '.join(missing)


def test_docs_links_resolve():
    for doc in glob.glob(os.path.join(ROOT, 'docs', '*.md')) + [os.path.join(ROOT, 'README.md')]:
        for target in re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', open(doc).read()):
            if target.startswith(('http:', 'https:')):
                continue
            path = os.path.join(os.path.dirname(doc), target)
            assert os.path.exists(path), f'{os.path.relpath(doc, ROOT)} links to missing {target}'

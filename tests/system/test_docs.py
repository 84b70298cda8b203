"""Keeps README.md true: every user-visible Kconfig option and every shell
command is documented there."""
import glob
import os
import re
import sys

import pytest
from conftest import BSPS, ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import kconfiglib  # noqa: E402
import rtos_config  # noqa: E402,F401  (sets up srctree handling)

README = open(os.path.join(ROOT, 'README.md')).read()


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

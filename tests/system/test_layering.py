"""The kernel / port / board seam holds (tools/check_layering.py): no port
includes kernel internals, no generic code includes a port's headers."""
import os
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import check_layering  # noqa: E402


def test_tree_keeps_the_layering():
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'check_layering.py')],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as f:
        f.write(text)


def test_checker_catches_each_kind_of_leak(tmp_path, monkeypatch):
    root = str(tmp_path)
    monkeypatch.setattr(check_layering, 'ALLOWED', set())
    write(root, 'rtos/kernel/sched.hpp', '')
    write(root, 'rtos/arch/port.hpp', '')
    write(root, 'rtos/arch/rv/priv.hpp', '')
    write(root, 'rtos/include/rtos/api.hpp', '#include "arch/port.hpp"\n')
    write(root, 'rtos/arch/rv/port.cpp', '#include "priv.hpp"\n#include "arch/port.hpp"\n'
                                         '#include "../../kernel/sched.hpp"\n')
    write(root, 'rtos/kernel/ok.cpp', '#include "arch/port.hpp"\n#include <cstdint>\n')
    write(root, 'components/drivers/x.cpp', '#  include <arch/rv/priv.hpp>\n')
    write(root, 'examples/app/app.cpp', '#include "kernel/sched.hpp"\n')
    problems, stale = check_layering.check(root)
    assert sorted(problems) == [
        'components/drivers/x.cpp:1: includes rtos/arch/rv/priv.hpp: '
        'generic code includes a port header',
        'examples/app/app.cpp:1: includes rtos/kernel/sched.hpp: '
        'driver or application includes a kernel-internal header',
        'rtos/arch/rv/port.cpp:3: includes rtos/kernel/sched.hpp: '
        'port includes a kernel-internal header',
        'rtos/include/rtos/api.hpp:1: includes rtos/arch/port.hpp: '
        'public header includes kernel or port internals',
    ], problems
    assert stale == []


def test_stale_allowlist_entry_fails(tmp_path, monkeypatch):
    root = str(tmp_path)
    write(root, 'rtos/kernel/a.cpp', '')
    monkeypatch.setattr(check_layering, 'ALLOWED', {('rtos/arch/rv/port.cpp', 'rtos/kernel/a.hpp')})
    problems, stale = check_layering.check(root)
    assert problems == [] and stale == [('rtos/arch/rv/port.cpp', 'rtos/kernel/a.hpp')]

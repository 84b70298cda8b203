"""Out-of-tree applications (scons APP=<folder>): the examples/hello template
built from a copy in a temporary folder and booted on both boards, an
application with its own SConscript, its Kconfig under "Application", and the
errors for a missing folder or one without sources."""
import os
import re
import shutil
import subprocess
import sys
import time

import kconfiglib
import pytest
from conftest import BSPS, ROOT
from guest import WIDTH_QUERY

sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import rtos_config  # noqa: E402

HELLO = os.path.join(ROOT, 'examples', 'hello')


def scons(*args):
    return subprocess.run(['scons', '-Q', '-j2', *args], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def build_ok(*args):
    r = scons(*args)
    if r.returncode != 0:
        pytest.fail(f'scons {" ".join(args)} failed:\n{r.stdout}', pytrace=False)
    return r.stdout


@pytest.mark.parametrize('bsp', BSPS)
def test_hello_from_a_copy_builds_and_runs(bsp, tmp_path, boot):
    """The template, copied anywhere: its own option (the message, set by a
    CONFIG= fragment), its app.conf (period 500 ms, prompt 'hello> '), its
    shell command and its default build folder <app>/build/<bsp>."""
    app = tmp_path / 'my app'  # a space in the path, as users have
    shutil.copytree(HELLO, app, ignore=shutil.ignore_patterns('build'))
    msg = tmp_path / 'msg.conf'
    msg.write_text('CONFIG_HELLO_MESSAGE="from a copy"\n')
    build_ok(f'BSP={bsp}', f'APP={app}', f'CONFIG={msg}')
    out = app / 'build' / bsp
    assert (out / 'obj' / 'app' / 'hello.o').is_file()
    config = (out / '.config').read_text()
    assert 'CONFIG_HELLO_PERIOD_MS=500\n' in config  # app.conf
    assert f'# Edit with: scons BSP={bsp} APP={app} --menuconfig' in config
    g = boot(bsp, str(out), wait_prompt=False)
    g.expect(re.escape("hello: from a copy (type 'hello')"))
    g.expect(re.escape('hello> '))
    # Its command shows the thread's count (500 ms periods) going up; the
    # thread itself prints nothing into the prompt meanwhile.
    counts = []
    deadline = time.monotonic() + 30
    while not counts or counts[-1] < 3:
        assert time.monotonic() < deadline, counts
        time.sleep(0.1)  # a poll: the count goes up twice a second
        g.send('hello\r')
        echo = g.expect(r'hello\r*\n')  # nothing before the echo (but the width query)
        assert re.fullmatch(r'hello\r*\n', echo.replace(WIDTH_QUERY, '')), echo
        out = g.expect(re.escape('hello> '), timeout=10)
        m = re.fullmatch(r'hello: from a copy \((\d+)\)\r*\n' + re.escape('hello> '), out)
        assert m, out
        counts.append(int(m.group(1)))
    assert counts == sorted(counts), counts


def test_app_with_its_own_sconscript_and_kept_by_its_build_folder(tmp_path):
    app = tmp_path / 'app'
    (app / 'src').mkdir(parents=True)
    (app / 'src' / 'main.cpp').write_text(
        '#include <rtos/init.hpp>\n#include <rtos/printk.hpp>\n#include "answer.hpp"\n'
        'namespace { void start() { rtos::printk("answer %d\\n", kAnswer); } }\n'
        'RTOS_INIT(start, app);\n')
    (app / 'src' / 'answer.hpp').write_text('#pragma once\nconstexpr int kAnswer = 42;\n')
    (app / 'SConscript').write_text(
        "Import('env', 'cfg')\n"
        "objs = env.Object(['src/main.cpp'])\n"
        "Return('objs')\n")
    out = tmp_path / 'out'
    bsp = BSPS[0]
    # The kernel alone underneath keeps the build short.
    minimal = os.path.join(ROOT, 'tests', 'configs', 'minimal.conf')
    build_ok(f'BSP={bsp}', f'APP={app}', f'BUILD={out}', f'CONFIG={minimal}')
    assert (out / 'obj' / 'app' / 'src' / 'main.o').is_file()
    nm = subprocess.run(['riscv64-linux-gnu-nm', str(out / 'rtos.elf')], stdout=subprocess.PIPE,
                        text=True, check=True).stdout
    assert 'rtos_init_entry_start' in nm
    # Without APP= the build folder keeps its application, as it keeps CONFIG=.
    assert 'up to date' in build_ok(f'BSP={bsp}', f'BUILD={out}')
    # APP= (empty) drops it.
    build_ok(f'BSP={bsp}', f'BUILD={out}', 'APP=')
    nm = subprocess.run(['riscv64-linux-gnu-nm', str(out / 'rtos.elf')], stdout=subprocess.PIPE,
                        text=True, check=True).stdout
    assert 'rtos_init_entry_start' not in nm


def test_app_errors(tmp_path):
    missing = tmp_path / 'missing'
    r = scons(f'BSP={BSPS[0]}', f'APP={missing}')
    assert r.returncode == 2 and f'error: APP folder not found: {missing}' in r.stdout, r.stdout
    assert not missing.exists()
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'README').write_text('no sources here\n')
    r = scons(f'BSP={BSPS[0]}', f'APP={empty}')
    assert r.returncode == 2, r.stdout
    assert (f'error: APP folder {empty} has no sources: expected *.c, *.cpp, *.S files or an '
            'SConscript in it') in r.stdout, r.stdout
    assert 'CXX' not in r.stdout


def menus(kconf):
    shown, node = [], kconf.top_node.list
    while node:
        if node.prompt and kconfiglib.expr_value(node.dep):
            shown.append(node)
        node = node.next
    return shown


def test_app_kconfig_under_application_menu_only_with_app():
    kconf = rtos_config._load_kconfig(ROOT, BSPS[0], HELLO)
    app_menu = [n for n in menus(kconf) if n.prompt[0] == 'Application (hello)']
    assert len(app_menu) == 1
    sym = kconf.syms['HELLO_MESSAGE']
    assert sym.nodes[0].parent is app_menu[0] and sym.nodes[0].help
    kconf = rtos_config._load_kconfig(ROOT, BSPS[0])
    assert not [n for n in menus(kconf) if n.prompt[0].startswith('Application')]
    assert 'HELLO_MESSAGE' not in kconf.syms or not kconf.syms['HELLO_MESSAGE'].nodes

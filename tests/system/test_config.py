"""Configuration checks: the strict fragment reader (pure Python), what
Kconfig offers on each board, the rules the build enforces before compiling,
the menuconfig layout, and one build per optional bool per board."""
import glob
import json
import os
import re
import sys
import time

import pexpect
import pytest
import builds
from conftest import BSPS, ROOT, ensure_built

sys.path.insert(0, os.path.join(ROOT, 'tools', 'build'))
import fragment  # noqa: E402
import kconfiglib  # noqa: E402
import rtos_config  # noqa: E402

RISCV, AARCH64 = BSPS


# -- The fragment reader, line by line (no Kconfig) ---------------------------------

@pytest.mark.parametrize('line, name, value', [
    ('CONFIG_RTOS_TICK_HZ=100', 'RTOS_TICK_HZ', '100'),
    ('CONFIG_VIRTIO=y', 'VIRTIO', 'y'),
    ('CONFIG_PLATFORM_UART_BASE=0x10000000', 'PLATFORM_UART_BASE', '0x10000000'),
    ('# CONFIG_VIRTIO_MODERN is not set', 'VIRTIO_MODERN', 'n'),
    ('CONFIG_SHELL_PROMPT="a # \\"b\\" "', 'SHELL_PROMPT', 'a # "b" '),
    ('CONFIG_SHELL_PROMPT=""', 'SHELL_PROMPT', ''),
    ('CONFIG_RTOS_TICK_HZ=100   ', 'RTOS_TICK_HZ', '100'),  # trailing blanks are invisible
])
def test_reader_accepts(line, name, value):
    a = fragment.parse_line(line, 'f.conf', 7)
    assert (a.name, a.value, a.where) == (name, value, 'f.conf:7')


@pytest.mark.parametrize('line', ['', '   ', '# a comment', '#CONFIG_X=y (commented out)',
                                  '## CONFIG_X is not set, really'])
def test_reader_skips_comments_and_blanks(line):
    assert fragment.parse_line(line) is None


@pytest.mark.parametrize('line, message', [
    ('VIRTIO_BLK_TIMEOUT_MS=500',
     r"^f\.conf:3: 'VIRTIO_BLK_TIMEOUT_MS=500' is not an assignment: symbol names start "
     r'with CONFIG_ \(CONFIG_VIRTIO_BLK_TIMEOUT_MS=500\); expected CONFIG_<NAME>=<value>'),
    ('CONFIG_VIRTIO_BLK_QUEUE_SIZE = 16',
     r"^f\.conf:3: spaces around '='.*write CONFIG_VIRTIO_BLK_QUEUE_SIZE=16 \(no spaces\)"),
    ('CONFIG_VIRTIO_BLK_QUEUE_SIZE =16', r"spaces around '='"),
    ('CONFIG_VIRTIO_BLK_QUEUE_SIZE= 16', r"spaces around '='"),
    ('CONFIG_RTOS_TICK_HZ=100 # comment',
     r"^f\.conf:3: comment after the value \('# comment'\): a comment takes a line of its "
     r'own; write CONFIG_RTOS_TICK_HZ=100'),
    ('CONFIG_RTOS_TICK_HZ=100#x', r'comment after the value'),
    ('CONFIG_SHELL_PROMPT="> " # prompt', r'comment after the value'),
    ('CONFIG_SHELL_PROMPT="> ', r'unterminated string'),
    ('CONFIG_SHELL_PROMPT="a" b', r"unexpected 'b' after the closing quote"),
    ('CONFIG_RTOS_TICK_HZ', r"has no value: write CONFIG_RTOS_TICK_HZ=<value>"),
    ('CONFIG_RTOS_TICK_HZ=', r"has no value after '='"),
    ('CONFIG_RTOS_TICK_HZ=100 200', r'a value has no spaces'),
    ('  CONFIG_RTOS_TICK_HZ=100', r'indented line'),
    ('CONFIG_=y', r"cannot read 'CONFIG_=y': expected"),
    ('set CONFIG_X y', r"cannot read 'set CONFIG_X y': expected CONFIG_<NAME>=<value>, "
                       r"'# CONFIG_<NAME> is not set', a '#' comment or a blank line"),
])
def test_reader_refuses_with_file_line_and_what_was_expected(line, message):
    with pytest.raises(fragment.FragmentError, match=message):
        fragment.parse_line(line, 'f.conf', 3)


def test_reader_reports_the_line_of_the_error():
    text = '# header\n\nCONFIG_A=y\nCONFIG_B = 1\n'
    with pytest.raises(fragment.FragmentError, match=r'^x\.conf:4: '):
        fragment.parse('x.conf', text)
    assert [a.name for a in fragment.parse('x.conf', 'CONFIG_A=y\n# CONFIG_B is not set\n')] \
        == ['A', 'B']


@pytest.mark.parametrize('line, type_name, message', [
    ('CONFIG_RTOS_TICK_HZ=fast', 'int',
     r'^f:1: CONFIG_RTOS_TICK_HZ=fast: not a number \(CONFIG_RTOS_TICK_HZ is a decimal int, '
     r'allowed range 100\.\.10000\)'),
    ('CONFIG_RTOS_TICK_HZ=0x10', 'int', r'not a number'),
    ('CONFIG_RTOS_TICK_HZ=0100', 'int', r'no leading zero \(C would read 0100 as octal\): '
                                        r'write CONFIG_RTOS_TICK_HZ=100'),
    ('CONFIG_RTOS_TICK_HZ="100"', 'int', r'not a number'),
    ('CONFIG_PLATFORM_UART_BASE=0xzz', 'hex', r'not a hexadecimal number'),
    ('CONFIG_VIRTIO=maybe', 'bool',
     r'^f:1: CONFIG_VIRTIO=maybe: CONFIG_VIRTIO is a bool; allowed values: y, n$'),
    ('CONFIG_VIRTIO=yes', 'bool', r'allowed values: y, n'),
    ('CONFIG_VIRTIO=m', 'bool', r'allowed values: y, n'),
    ('CONFIG_X=maybe', 'tristate', r'allowed values: y, m, n'),
    ('CONFIG_SHELL_PROMPT=abc', 'string', r'write it in double quotes, CONFIG_SHELL_PROMPT="abc"'),
    ('# CONFIG_RTOS_TICK_HZ is not set', 'int', r"'is not set' only turns off a bool"),
])
def test_value_checked_against_the_symbol_type(line, type_name, message):
    a = fragment.parse_line(line, 'f', 1)
    with pytest.raises(fragment.FragmentError, match=message):
        fragment.check_value(a, type_name, ('100', '10000') if type_name == 'int' else None)


@pytest.mark.parametrize('line, type_name', [
    ('CONFIG_A=-5', 'int'), ('CONFIG_A=0x1F', 'hex'), ('CONFIG_A=1f', 'hex'),
    ('CONFIG_A=m', 'tristate'), ('# CONFIG_A is not set', 'bool'), ('CONFIG_A="x"', 'string'),
])
def test_value_accepted_for_its_type(line, type_name):
    fragment.check_value(fragment.parse_line(line), type_name)


def test_every_fragment_in_the_tree_is_accepted(tmp_path):
    """By the reader, and by Kconfig on at least one board."""
    paths = [p for p in glob.glob(os.path.join(ROOT, 'tests', 'configs', '*.conf'))
             if not os.path.basename(p).startswith('bad-')]
    # (An application's app.conf is checked with its application: test_app.py.)
    paths += [p for p in glob.glob(os.path.join(ROOT, 'examples', '*', '*.conf'))
              if os.path.basename(p) != rtos_config.APP_FRAGMENT]
    assert len(paths) > 10
    for path in paths + glob.glob(os.path.join(ROOT, 'bsp', '*', 'defconfig')):
        fragment.parse(path)
    for path in paths:
        errors = []
        for bsp in BSPS:
            try:
                rtos_config.prepare(ROOT, bsp, str(tmp_path / bsp), [path])
                break
            except rtos_config.ConfigError as e:
                errors.append(str(e))
        else:
            pytest.fail('\n'.join(errors))


# -- Fragments merged into a real configuration (in-process, no compiler) ------------

def prepare(tmp_path, bsp, *frags):
    return rtos_config.prepare(ROOT, bsp, str(tmp_path / 'b'),
                               [os.path.join(ROOT, f) for f in frags])


@pytest.mark.parametrize('frag, line, message', [
    ('bad-no-prefix.conf', 2, r"'VIRTIO_BLK_TIMEOUT_MS=500' is not an assignment: symbol "
                              r'names start with CONFIG_'),
    ('bad-spaces.conf', 2, r"spaces around '='.*write CONFIG_VIRTIO_BLK_QUEUE_SIZE=16"),
    ('bad-trailing-comment.conf', 2, r'comment after the value'),
    ('bad-not-a-number.conf', 2, r'CONFIG_RTOS_TICK_HZ=fast: not a number'),
    ('bad-bool-value.conf', 2, r'CONFIG_VIRTIO=maybe: CONFIG_VIRTIO is a bool; allowed '
                               r'values: y, n'),
    ('bad-virtio-none.conf', 3, r'CONFIG_VIRTIO_MODERN=n refused: at least one of '
                                r'CONFIG_VIRTIO_LEGACY and CONFIG_VIRTIO_MODERN stays on'),
    ('bad-queue-size.conf', 2, r'CONFIG_VIRTIO_BLK_QUEUE_SIZE=48 refused: a queue size is a '
                               r'power of two \(nearest: 32 or 64\)'),
    ('bad-range.conf', 2, r'CONFIG_RTOS_TICK_HZ=50 refused: outside the allowed range '
                          r'100\.\.10000'),
    ('bad-unknown-symbol.conf', 2, r'unknown Kconfig symbol CONFIG_NO_SUCH_OPTION'),
])
def test_bad_fragment_names_file_line_and_cause(tmp_path, frag, line, message):
    path = os.path.join(ROOT, 'tests', 'configs', frag)
    with pytest.raises(rtos_config.ConfigError) as e:
        prepare(tmp_path, RISCV, path)
    assert re.match(re.escape(f'{path}:{line}: ') + message, str(e.value)), str(e.value)
    assert not os.path.exists(tmp_path / 'b' / '.config')


def test_refusals_say_why(tmp_path):
    cases = [
        ('CONFIG_RTOS_KTEST=y\nCONFIG_RTOS_PRIORITIES_8=y\n',
         r'CONFIG_RTOS_KTEST=y refused: its dependencies are not met: SHELL && '
         r'!RTOS_PRIORITIES_8 \(now CONFIG_RTOS_PRIORITIES_8=y, CONFIG_SHELL=y\)'),
        ('CONFIG_DRIVER_PLIC=n\n', r'CONFIG_DRIVER_PLIC=n refused: '
                                   r'CONFIG_BOARD_QEMU_VIRT64_RISCV selects it'),
        ('CONFIG_ARCH="aarch64"\n', r'CONFIG_ARCH="aarch64" refused: CONFIG_ARCH has no prompt'),
        ('CONFIG_RTOS_PRIORITIES_32=n\n', r'CONFIG_RTOS_PRIORITIES_32=n refused: it is the '
                                          r'selected member of a choice'),
        ('CONFIG_VIRTIO_BLK_QUEUE_SIZ=4\n', r'unknown Kconfig symbol CONFIG_VIRTIO_BLK_QUEUE_SIZ '
                                           r'\(did you mean CONFIG_VIRTIO_BLK_QUEUE_SIZE\?\)'),
        # A choice member of the other architecture (it used to say only
        # "its dependencies are not met: <choice DRIVER_GIC_VERSION_CHOICE>").
        ('CONFIG_DRIVER_GIC_V3=y\n', r'CONFIG_DRIVER_GIC_V3=y refused: CONFIG_DRIVER_GIC_V3 is an '
                                     r'aarch64-only option \(it depends on CONFIG_ARCH_AARCH64\), '
                                     r'and this board is riscv64$'),
        ('CONFIG_GIC_V3_ITS_LPIS=32\n', r'CONFIG_GIC_V3_ITS_LPIS=32 refused: CONFIG_GIC_V3_ITS_LPIS '
                                        r'is an aarch64-only option'),
    ]
    for i, (text, message) in enumerate(cases):
        path = tmp_path / f'f{i}.conf'
        path.write_text(text)
        with pytest.raises(rtos_config.ConfigError, match=re.escape(str(path)) + ':1: ' + message):
            prepare(tmp_path, RISCV, str(path))
    path = tmp_path / 'plic.conf'
    path.write_text('CONFIG_DRIVER_PLIC=y\n')
    with pytest.raises(rtos_config.ConfigError, match=r'CONFIG_DRIVER_PLIC is a riscv64-only '
                                                       r'option .*, and this board is aarch64'):
        prepare(tmp_path, AARCH64, str(path))


def test_later_fragment_and_later_choice_member_win(tmp_path):
    a, b = tmp_path / 'a.conf', tmp_path / 'b.conf'
    a.write_text('CONFIG_RTOS_PRIORITIES_8=y\nCONFIG_RTOS_TICK_HZ=50\n')
    b.write_text('CONFIG_RTOS_PRIORITIES_256=y\nCONFIG_RTOS_TICK_HZ=200\n')
    cfg = prepare(tmp_path, RISCV, str(a), str(b))
    assert cfg.int('RTOS_PRIORITY_LEVELS') == 256 and cfg.int('RTOS_TICK_HZ') == 200


def test_numbers_as_kconfig_reads_them(tmp_path):
    path = tmp_path / 'n.conf'
    path.write_text('CONFIG_PLATFORM_UART_BASE=10000000\nCONFIG_PLATFORM_RAM_SIZE=0X8000000\n')
    cfg = prepare(tmp_path, RISCV, str(path))
    assert cfg.int('PLATFORM_UART_BASE') == 0x10000000
    assert cfg.int('PLATFORM_RAM_SIZE') == 0x8000000
    # 016 would be octal 14 in C.
    path.write_text('CONFIG_VIRTIO_BLK_QUEUE_SIZE=016\n')
    with pytest.raises(rtos_config.ConfigError,
                       match=r'n\.conf:1: CONFIG_VIRTIO_BLK_QUEUE_SIZE=016: a decimal number has '
                             r'no leading zero \(C would read 016 as octal\): write '
                             r'CONFIG_VIRTIO_BLK_QUEUE_SIZE=16'):
        prepare(tmp_path, RISCV, str(path))


def queue_size_symbols():
    kconf = rtos_config._load_kconfig(ROOT, RISCV)
    return sorted(s.name for s in kconf.unique_defined_syms if s.name.endswith('_QUEUE_SIZE'))


@pytest.mark.parametrize('name', queue_size_symbols())
def test_every_queue_size_must_be_a_power_of_two(tmp_path, name):
    kconf = rtos_config._load_kconfig(ROOT, RISCV)
    deps = sorted(s.name for s in kconfiglib.expr_items(kconf.syms[name].direct_dep)
                  if isinstance(s, kconfiglib.Symbol) and s.orig_type is kconfiglib.BOOL)
    path = tmp_path / 'q.conf'
    path.write_text(''.join(f'CONFIG_{d}=y\n' for d in deps) + f'CONFIG_{name}=48\n')
    with pytest.raises(rtos_config.ConfigError,
                       match=re.escape(f'{path}:{len(deps) + 1}: CONFIG_{name}=48 refused: a '
                                       'queue size is a power of two')):
        prepare(tmp_path, RISCV, str(path))
    path.write_text(''.join(f'CONFIG_{d}=y\n' for d in deps) + f'CONFIG_{name}=32\n')
    assert prepare(tmp_path, RISCV, str(path)).int(name) == 32


def test_config_header_names_this_build_folder(tmp_path):
    default = os.path.join(ROOT, 'build', RISCV)
    assert rtos_config.scons_command(ROOT, RISCV, default, '--menuconfig') == \
        f'scons BSP={RISCV} --menuconfig'
    assert rtos_config.scons_command(ROOT, RISCV, os.path.join(ROOT, 'build', 'x')) == \
        f'scons BSP={RISCV} BUILD=build/x'
    prepare(tmp_path, AARCH64)
    header = (tmp_path / 'b' / '.config').read_text().splitlines()[:2]
    assert header == [f'# Generated from bsp/{AARCH64}/defconfig',
                      f'# Edit with: scons BSP={AARCH64} BUILD={tmp_path / "b"} --menuconfig']


# -- Changes to .config (menuconfig, an editor) across a re-merge --------------------

def edit_config(build_dir, **values):
    """Changes .config as menuconfig does: Kconfig loads it, takes the values,
    writes every symbol again (lines that follow from the change included)."""
    kconf = rtos_config._load_kconfig(ROOT, RISCV, rtos_config.stored_inputs(build_dir)['app'])
    kconf.load_config(os.path.join(build_dir, '.config'))
    for name, value in values.items():
        kconf.syms[name].set_value(value)
    kconf.write_config(os.path.join(build_dir, '.config'))


def test_config_changes_survive_when_an_input_changes(tmp_path, capsys):
    """A menuconfig change is kept when a fragment, the application's
    fragment (like the defconfig) or a Kconfig file changes, with a note; the
    lines that only followed from it are left to follow."""
    app = tmp_path / 'app'
    app.mkdir()
    (app / 'main.c').write_text('')
    (app / 'Kconfig').write_text('config APP_LEVEL\n\tint "level"\n\tdefault 1\n')
    (app / 'app.conf').write_text('CONFIG_RTOS_TICK_HZ=200\n')
    frag = tmp_path / 'f.conf'
    frag.write_text('CONFIG_SHELL_HISTORY=8\n')
    b = str(tmp_path / 'b')
    dotconfig = os.path.join(b, '.config')
    rtos_config.prepare(ROOT, RISCV, b, [str(frag)], app=str(app))
    # EXAMPLE_CONSOLE brings EXAMPLE_CONSOLE_PRIORITY (a default) into .config.
    edit_config(b, EXAMPLE_CONSOLE='y', APP_LEVEL='7', VIRTIO_BLK_QUEUE_SIZE='32')
    capsys.readouterr()
    for changed, text in ((frag, 'CONFIG_SHELL_HISTORY=4\n'),
                          (app / 'app.conf', 'CONFIG_RTOS_TICK_HZ=250\n'),
                          (app / 'Kconfig', (app / 'Kconfig').read_text() + '# more\n')):
        changed.write_text(text)
        cfg = rtos_config.prepare(ROOT, RISCV, b)
        assert (cfg['EXAMPLE_CONSOLE'], cfg['APP_LEVEL'], cfg['VIRTIO_BLK_QUEUE_SIZE']) == \
            ('y', '7', '32')
        m = re.fullmatch(re.escape(f'{dotconfig}: merged again ({changed} changed); kept your '
                                   'changes to it: ') + r'(.*)\n', capsys.readouterr().out)
        assert m and sorted(m.group(1).split(', ')) == [
            'CONFIG_APP_LEVEL=7', 'CONFIG_EXAMPLE_CONSOLE=y', 'CONFIG_VIRTIO_BLK_QUEUE_SIZE=32'], m
    # The inputs' own changes came through too.
    assert (cfg['SHELL_HISTORY'], cfg['RTOS_TICK_HZ']) == ('4', '250')
    # Nothing changed: nothing merged, nothing said.
    rtos_config.prepare(ROOT, RISCV, b)
    assert capsys.readouterr().out == ''
    # A CONFIG= line that gives the symbol the value the user gave it: it is
    # the input's now, and the note is gone for it.
    frag.write_text('CONFIG_SHELL_HISTORY=4\nCONFIG_VIRTIO_BLK_QUEUE_SIZE=32\n')
    rtos_config.prepare(ROOT, RISCV, b)
    out = capsys.readouterr().out
    assert 'kept your changes' in out and 'QUEUE_SIZE' not in out, out


def test_an_older_build_folder_says_where_the_previous_config_is(tmp_path, capsys):
    """A build folder configured before the merge's result was stored in
    .config.inputs: its changes cannot be told apart, and the note names
    .config.old, which holds them."""
    frag = tmp_path / 'f.conf'
    frag.write_text('CONFIG_SHELL_HISTORY=8\n')
    b = str(tmp_path / 'b')
    rtos_config.prepare(ROOT, RISCV, b, [str(frag)])
    stamp = os.path.join(b, '.config.inputs')
    with open(stamp) as f:
        old = {k: v for k, v in json.load(f).items() if k in ('fingerprint', 'fragments', 'app')}
    with open(stamp, 'w') as f:
        json.dump(old, f)
    capsys.readouterr()
    frag.write_text('CONFIG_SHELL_HISTORY=4\n')
    rtos_config.prepare(ROOT, RISCV, b)
    dotconfig = os.path.join(b, '.config')
    assert capsys.readouterr().out == (f'{dotconfig}: merged again; the previous one is '
                                       f'{dotconfig}.old (this build folder predates keeping '
                                       'your changes across a merge)\n')


def test_config_changes_that_cannot_be_kept_stop_the_build(tmp_path):
    """A change whose symbol the inputs changed too, or that is gone, or that
    the new inputs refuse: the build stops, says which line of .config and
    why, and .config stays as it is."""
    app = tmp_path / 'app'
    app.mkdir()
    (app / 'main.c').write_text('')
    (app / 'Kconfig').write_text('config APP_LEVEL\n\tint "level"\n\tdefault 1\n')
    frag = tmp_path / 'f.conf'
    frag.write_text('CONFIG_SHELL_HISTORY=8\n')
    b = str(tmp_path / 'b')
    dotconfig = os.path.join(b, '.config')
    rtos_config.prepare(ROOT, RISCV, b, [str(frag)], app=str(app))
    edit_config(b, SHELL_HISTORY='2', APP_LEVEL='7')
    edited = open(dotconfig).read()

    def refused(*messages):
        with pytest.raises(rtos_config.ConfigError) as e:
            rtos_config.prepare(ROOT, RISCV, b)
        text = str(e.value)
        assert text.startswith(f'{dotconfig} must be merged again ('), text
        for m in messages:
            assert re.search(m, text), text
        assert f'Delete those lines from {dotconfig}' in text, text
        assert open(dotconfig).read() == edited, 'changed .config'

    line = edited.splitlines().index('CONFIG_SHELL_HISTORY=2') + 1
    frag.write_text('CONFIG_SHELL_HISTORY=16\n')  # the inputs change it too
    refused(re.escape(f'{dotconfig}:{line}: CONFIG_SHELL_HISTORY=2: the inputs changed it too '
                      '(they now give CONFIG_SHELL_HISTORY=16)'))
    frag.write_text('CONFIG_SHELL_HISTORY=8\n')
    (app / 'Kconfig').write_text('config APP_LEVEL2\n\tint "level"\n\tdefault 1\n')  # gone
    refused(r':\d+: CONFIG_APP_LEVEL=7: CONFIG_APP_LEVEL no longer exists')
    (app / 'Kconfig').write_text('config APP_LEVEL\n\tint "level"\n\trange 1 5\n\tdefault 1\n')
    refused(r':\d+: CONFIG_APP_LEVEL=7 refused: outside the allowed range 1\.\.5')
    # Its line deleted, the inputs decide.
    with open(dotconfig, 'w') as f:
        f.write(edited.replace('CONFIG_APP_LEVEL=7\n', ''))
    cfg = rtos_config.prepare(ROOT, RISCV, b)
    assert cfg['APP_LEVEL'] == '1' and cfg['SHELL_HISTORY'] == '2'


# -- What Kconfig offers on each board ------------------------------------------------

OTHER_ARCH_ONLY = {
    RISCV: ['DRIVER_GIC', 'DRIVER_GIC_AUTO', 'DRIVER_GIC_V2', 'DRIVER_GIC_V3', 'GIC_V3_ITS',
            'GIC_V3_ITS_LPIS', 'DRIVER_PL011',
            'PLATFORM_GIC_DIST_BASE', 'PLATFORM_GIC_CPU_BASE', 'PLATFORM_GIC_REDIST_BASE',
            'ARCH_AARCH64_SEMIHOSTING_EXIT'],
    AARCH64: ['DRIVER_PLIC', 'DRIVER_NS16550', 'DRIVER_SIFIVE_TEST', 'PLATFORM_PLIC_BASE'],
}


def default_kconf(bsp):
    kconf = rtos_config._load_kconfig(ROOT, bsp)
    kconf.unset_values()
    return kconf


@pytest.mark.parametrize('bsp', BSPS)
def test_options_of_the_other_architecture_are_invisible(bsp):
    kconf = default_kconf(bsp)
    for name in OTHER_ARCH_ONLY[bsp]:
        sym = kconf.syms[name]
        assert sym.visibility == 0 and sym.str_value in ('', 'n'), name
        if sym.orig_type is kconfiglib.BOOL:
            sym.set_value('y')
            assert sym.str_value == 'n', f'{name} can be turned on on {bsp}'


def flippable_bools(bsp):
    """Every bool (choice members included) menuconfig lets the user change from
    its default: {name: the other value}."""
    flips = {}
    for s in default_kconf(bsp).unique_defined_syms:
        if s.orig_type is not kconfiglib.BOOL or not s.visibility:
            continue
        if s.choice:  # another member is picked by setting it to y
            if s.str_value == 'n':
                flips[s.name] = 'y'
        elif len(s.assignable) > 1:  # not forced by a select
            flips[s.name] = 'n' if s.str_value == 'y' else 'y'
    return flips


def shown_nodes(menu):
    """The entries menuconfig shows in a menu (looking through promptless
    nodes such as 'if' blocks)."""
    out = []
    node = menu.list
    while node:
        if node.prompt:
            if kconfiglib.expr_value(node.prompt[1]) and kconfiglib.expr_value(node.dep):
                out.append(node)
        elif node.list:
            out += shown_nodes(node)
        node = node.next
    return out


def empty_menus(menu, path=()):
    found = []
    for node in shown_nodes(menu):
        if node.item == kconfiglib.MENU:
            here = path + (node.prompt[0],)
            found += [here] if not shown_nodes(node) else empty_menus(node, here)
    return found


def test_menu_layout():
    for bsp, arch in ((RISCV, 'riscv64'), (AARCH64, 'aarch64')):
        kconf = default_kconf(bsp)
        shown = [node.prompt[0] for node in shown_nodes(kconf.top_node)]
        arch_menus = [p for p in shown if p.startswith('Architecture')]
        assert len(arch_menus) == 1 and arch_menus[0].startswith(f'Architecture: {arch} '), shown
        # No menu opens on nothing (the board's used to: its Kconfig only
        # gives defaults); a comment names the board.
        assert not empty_menus(kconf.top_node), empty_menus(kconf.top_node)
        assert shown[0].startswith(f'Board: {bsp} '), shown
        # Modern and Legacy are siblings under VirtIO, and Modern stays visible with
        # Legacy off (forced on there, the at-least-one rule).
        legacy, modern = (kconf.syms[n] for n in ('VIRTIO_LEGACY', 'VIRTIO_MODERN'))
        assert legacy.nodes[0].parent is modern.nodes[0].parent is kconf.syms['VIRTIO'].nodes[0]
        legacy.set_value('n')
        assert modern.visibility and modern.str_value == 'y'
        assert modern.assignable == (2,)


def test_queue_size_prompts_say_power_of_two():
    kconf = default_kconf(RISCV)
    names = [s.name for s in kconf.unique_defined_syms if s.name.endswith('_QUEUE_SIZE')]
    assert len(names) >= 6, names
    for name in names:
        for node in kconf.syms[name].nodes:
            assert node.prompt and node.prompt[0].endswith('(a power of two)'), (name, node.prompt)


def open_menuconfig(build_dir, bsp=RISCV):
    """`scons --menuconfig` on build_dir, at its main screen."""
    env = dict(os.environ, TERM='xterm')
    p = pexpect.spawn('scons', ['-Q', f'BSP={bsp}', f'BUILD={build_dir}', '--menuconfig'],
                      cwd=ROOT, env=env, encoding='utf-8', timeout=60, dimensions=(40, 120))
    p.expect(f'Tern RTOS configuration \\({bsp}\\)')
    return p


@pytest.mark.parametrize('bsp, arch', [(RISCV, 'riscv64'), (AARCH64, 'aarch64')])
def test_menuconfig_opens_on_the_build_config_and_names_the_architecture(tmp_path, bsp, arch):
    prepare(tmp_path, bsp)
    p = open_menuconfig(str(tmp_path / 'b'), bsp)
    p.expect(f'Architecture: {arch} ')
    p.expect(r'\[Q\] Quit')
    p.send('Q')
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0


def test_menuconfig_refuses_a_queue_size_that_is_no_power_of_two(tmp_path):
    """menuconfig says "power of two" beside the range and refuses 48 as it
    is typed, as it refuses a value out of range; 32 is taken. A 48 that
    reaches .config anyway (an editor) stops the next build before anything
    compiles, naming the symbol."""
    build_dir = str(tmp_path / 'b')
    prepare(tmp_path, RISCV)
    p = open_menuconfig(build_dir)
    p.expect(r'\[Q\] Quit')
    # Jump to the symbol, edit its value, save and quit.
    p.send('/')
    p.expect('Jump to')
    p.send('VIRTIO_BLK_QUEUE_SIZE')
    time.sleep(0.5)
    p.send('\r')
    time.sleep(0.5)
    p.send('\r')
    p.expect(r'virtio-blk request queue size \(a power of two\)')
    p.expect(r'Range: 2-1024, a power of two')
    p.send('\x7f' * 4 + '48\r')
    p.expect(r'48 refused: a queue size is a power of two \(nearest: 32 or 64\)')
    time.sleep(0.5)
    p.send('\r')  # dismiss the error: the input dialog again
    p.expect(r'Range: 2-1024, a power of two')
    p.send('\x7f' * 4 + '32\r')
    time.sleep(0.5)
    p.send('Q')
    p.expect('Save configuration')
    p.send('y')
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0, p.before
    dotconfig = open(os.path.join(build_dir, '.config')).read()
    assert 'CONFIG_VIRTIO_BLK_QUEUE_SIZE=32\n' in dotconfig
    # menuconfig kept the header that says how to edit this folder.
    assert f'# Edit with: scons BSP={RISCV} BUILD={build_dir} --menuconfig' in dotconfig
    with open(os.path.join(build_dir, '.config'), 'w') as f:
        f.write(dotconfig.replace('CONFIG_VIRTIO_BLK_QUEUE_SIZE=32\n',
                                  'CONFIG_VIRTIO_BLK_QUEUE_SIZE=48\n'))
    r = pexpect.run('scons', args=['-Q', '-j2', f'BSP={RISCV}', f'BUILD={build_dir}'],
                    cwd=ROOT, withexitstatus=True, encoding='utf-8', timeout=120)
    out, status = r
    assert status != 0
    assert re.search(r'\.config: CONFIG_VIRTIO_BLK_QUEUE_SIZE=48 refused: a queue size is a '
                     r'power of two.*\nchange it with: scons BSP=\S+ BUILD=\S+ --menuconfig',
                     out), out
    assert 'CXX' not in out and not os.path.exists(os.path.join(build_dir, 'rtos.elf')), out


# -- Every bool, flipped alone from its default, builds on every board --------------

def compiler_flag_options():
    """The options SConstruct turns into compiler flags: flipping one
    recompiles every file."""
    with open(os.path.join(ROOT, 'SConstruct')) as f:
        return set(re.findall(r"cfg\.enabled\('(\w+)'\)", f.read()))


@pytest.mark.timeout(2400)  # a build per bool option
@pytest.mark.parametrize('bsp', BSPS)
def test_each_bool_flipped_builds(bsp, tmp_path):
    """Each option menuconfig offers, turned on (or off, when it is on by default)
    alone, builds; a failure names it and shows the build output. The builds
    are the test suite's (conftest.ensure_built): a flip that makes a
    configuration other tests build (tests/builds.py, the build matrix's among
    them) is that build; a flip of an option that sets compiler flags builds in
    a folder of its own (it recompiles every file, and the flip after it would
    again); the others follow each other in one folder per board, so each
    recompiles only the files that name what it changed."""
    flips = flippable_bools(bsp)
    assert len(flips) >= 20, flips
    flag_options = compiler_flag_options()
    assert flag_options >= {'BUILD_OPTIMIZE_SIZE', 'DEBUG_FRAME_POINTER'}, flag_options
    default = builds.values(bsp, ())
    failures = []
    for name, value in sorted(flips.items()):
        frag = tmp_path / f'{name}.conf'
        frag.write_text(f'CONFIG_{name}={value}\n')
        flipped = builds.values(bsp, [str(frag)]) or {}
        changed = {sym for sym, v in flipped.items() if default.get(sym) != v}
        folder = f'bool-{name}' if changed & flag_options else 'bools'
        out, failure = ensure_built(bsp, folder, [str(frag)])
        if failure:
            failures.append(f'CONFIG_{name}={value}:\n{failure[-3000:]}')
            continue
        header = open(os.path.join(out, 'include', 'generated', 'autoconf.h')).read()
        assert (f'#define CONFIG_{name} 1\n' in header) == (value == 'y'), name
    assert not failures, '\n\n'.join(failures)

"""virtio-input through real QEMU devices, checked from the host: a
keyboard, a mouse and a tablet on one guest; the host injects key presses,
relative moves, buttons and absolute positions with QMP `input-send-event`
and the guest's `input watch` must print exactly those events, in order,
each packet closed by EV_SYN/SYN_REPORT (QEMU sends one per command). A
burst of packets without waiting, and more events in total than the event
queue holds, show that buffers are recycled and nothing is lost. `input
list` must show what QEMU's devices announce. Both archs, MMIO legacy and
modern, and virtio-pci (the -pci devices; PCI_PACKED_CASES of conftest: riscv64's
offer the packed ring).

QEMU routes an injected event by its kind (keys to the keyboard, relative
moves to the mouse, absolute positions to the tablet, buttons to the
handler activated last); `input-send-event`'s `device` argument names a
display console, not an input device (without a display QEMU answers
"Device kbd0 (head 0) is not bound to a QemuConsole"), so it is not used."""
import os
import re
import shutil
import tempfile

import pytest
from conftest import (BSPS, PCI_PACKED_CASES, boot_line, bsp_modes, build, check_features,
                      expected_features, ring_layout, virtio_dev, virtio_kw)
from qmp import QMP, qmp_args
from test_smp_net import at_smp4

SYN, KEY, REL, ABS = 0, 1, 2, 3
KEY_ESC, KEY_ENTER, KEY_A, KEY_B, KEY_LEFTSHIFT = 1, 28, 30, 48, 42
BTN_LEFT, BTN_RIGHT = 0x110, 0x111
QUEUE = 64  # CONFIG_VIRTIO_INPUT_QUEUE_SIZE, the default build's
EVENT = re.compile(r'input: (\S+) (\d+) (\d+) (-?\d+)\r*\n')


def key(qcode, down):
    return {'type': 'key', 'data': {'down': down, 'key': {'type': 'qcode', 'data': qcode}}}


def btn(button, down):
    return {'type': 'btn', 'data': {'down': down, 'button': button}}


def rel(axis, value):
    return {'type': 'rel', 'data': {'axis': axis, 'value': value}}


def absolute(axis, value):
    return {'type': 'abs', 'data': {'axis': axis, 'value': value}}


@pytest.fixture
def qmp_path():
    d = tempfile.mkdtemp(prefix='inp', dir='/tmp')  # unix socket paths are short
    yield os.path.join(d, 'qmp')
    shutil.rmtree(d, ignore_errors=True)


def read_events(g, n, timeout=20):
    """The next n `input:` lines as (device, type, code, value)."""
    got = []
    for _ in range(n):
        g.expect(EVENT, timeout)
        m = g.p.match
        got.append((m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))))
    return got


def devices_from_boot(log):
    """{'QEMU Virtio Keyboard': 'input0', ...} in probe order, from the boot lines."""
    found = re.findall(r'virtio-input: \w+ \w+ \S+ (?:irq|msix) \d+ queue \d+ ring \w+ '
                       r'(input\d+) name "([^"]*)" ev 0x[0-9a-f]+', log)
    return {name: dev for dev, name in found}, [name for _, name in found]


# Over PCI riscv64's modern-only devices offer the packed ring.
@pytest.mark.parametrize('bsp, mode', bsp_modes(pci_cases=PCI_PACKED_CASES))
def test_input_events_from_qmp(boot, qmp_path, bsp, mode):
    g = boot(bsp, build(bsp), wait_prompt=False, **virtio_kw(mode),
             extra=qmp_args(qmp_path) + ['-device', virtio_dev('keyboard', mode) + ',id=kbd0',
                                         '-device', virtio_dev('mouse', mode) + ',id=mouse0',
                                         '-device', virtio_dev('tablet', mode) + ',id=tablet0'])
    log = g.wait_prompt()
    for name, ev in (('Keyboard', 0x120002), ('Mouse', 0x6), ('Tablet', 0xe)):
        assert re.search(boot_line('virtio-input', mode) +
                         rf' (?:irq|msix) \d+ queue {QUEUE} ring {ring_layout(mode)} input\d '
                         rf'name "QEMU Virtio {name}" '
                         rf'ev {ev:#x} features ', log), log
    dev, order = devices_from_boot(log)
    kbd, mouse, tablet = dev['QEMU Virtio Keyboard'], dev['QEMU Virtio Mouse'], dev['QEMU Virtio Tablet']

    listing = g.run('input list')
    assert re.search(rf'{kbd}: "QEMU Virtio Keyboard" at virtio-input\S+, 0 events, 0 errors\n'
                     r'  ids: bus 0x0006 vendor 0x0627 product 0x0001 version 0x0001 serial ""\n'
                     r'  types: 0x120002 key led rep\n'
                     r'  key codes: \d+ \(1\.\.\d+\)\n'
                     r'  led codes: 0 1 2\n', listing), listing
    assert re.search(rf'{mouse}: "QEMU Virtio Mouse" .*\n.*product 0x0002.*\n'
                     r'  types: 0x6 key rel\n'
                     r'  key codes: 272 273 274 275 276 336 337\n'
                     r'  rel codes: 0 1 8\n', listing), listing
    assert re.search(rf'{tablet}: "QEMU Virtio Tablet" .*\n.*product 0x0003.*\n'
                     r'  types: 0xe key rel abs\n'
                     r'  key codes: 272 273 274 275 276 336 337\n'
                     r'  rel codes: 8\n'
                     r'  abs codes: 0 1\n'
                     r'  abs 0: min 0 max 32767 fuzz 0 flat 0 res 0\n'
                     r'  abs 1: min 0 max 32767 fuzz 0 flat 0 res 0\n', listing), listing

    # QEMU sends a button to the most recently activated handler that takes
    # buttons: the device whose driver set DRIVER_OK last (probe order).
    buttons = dev[[n for n in order if n in ('QEMU Virtio Mouse', 'QEMU Virtio Tablet')][-1]]

    q = QMP(qmp_path)
    check_features(log, 'virtio-input', mode, expected_features('virtio-input', mode), count=3, qmp=q)
    g.send('input watch\r')
    g.expect(r'input: watching 3 devices \(Ctrl-C stops\)\r*\n')
    # (events sent in one command, device, [(type, code, value)] it must report)
    steps = [
        ([key('a', True)], kbd, [(KEY, KEY_A, 1)]),
        ([key('a', False)], kbd, [(KEY, KEY_A, 0)]),
        ([key('shift', True), key('b', True)], kbd, [(KEY, KEY_LEFTSHIFT, 1), (KEY, KEY_B, 1)]),
        ([key('b', False), key('shift', False)], kbd, [(KEY, KEY_B, 0), (KEY, KEY_LEFTSHIFT, 0)]),
        ([key('ret', True), key('ret', False), key('esc', True), key('esc', False)], kbd,
         [(KEY, KEY_ENTER, 1), (KEY, KEY_ENTER, 0), (KEY, KEY_ESC, 1), (KEY, KEY_ESC, 0)]),
        ([rel('x', 10), rel('y', -5)], mouse, [(REL, 0, 10), (REL, 1, -5)]),
        ([rel('x', -300)], mouse, [(REL, 0, -300)]),
        ([rel('y', 77)], mouse, [(REL, 1, 77)]),
        ([btn('left', True)], buttons, [(KEY, BTN_LEFT, 1)]),
        ([btn('left', False)], buttons, [(KEY, BTN_LEFT, 0)]),
        ([btn('right', True), btn('right', False)], buttons, [(KEY, BTN_RIGHT, 1), (KEY, BTN_RIGHT, 0)]),
        # Tablet: QMP's abs range 0..0x7fff is the device's (abs 0/1: 0..32767), unscaled.
        ([absolute('x', 0), absolute('y', 0x7fff)], tablet, [(ABS, 0, 0), (ABS, 1, 32767)]),
        ([absolute('x', 16384), absolute('y', 8191)], tablet, [(ABS, 0, 16384), (ABS, 1, 8191)]),
        ([absolute('x', 12345)], tablet, [(ABS, 0, 12345)]),
    ]
    total = 0
    per_device = {kbd: 0, mouse: 0, tablet: 0}
    for events, target, expected in steps:
        q.command('input-send-event', events=events)
        want = [(target, *e) for e in expected] + [(target, SYN, 0, 0)]
        assert read_events(g, len(want)) == want, events
        total += len(want)
        per_device[target] += len(want)

    # A burst: packets sent without waiting for the guest (at most one ring
    # of events, which QEMU may write before the guest runs at all).
    burst = [(i * 37 % 1000) - 500 for i in range(QUEUE // 2 - 2)]
    for v in burst:
        q.command('input-send-event', events=[rel('x', v)])
    want = []
    for v in burst:
        want += [(mouse, REL, 0, v), (mouse, SYN, 0, 0)]
    assert read_events(g, len(want)) == want
    total += len(want)
    per_device[mouse] += len(want)
    assert total > QUEUE  # every buffer went round at least once

    g.send('\x03')
    out = g.wait_prompt()
    assert f'input watch: {total} events, 0 dropped' in out, out
    assert 'input: interrupted' in out, out
    assert not EVENT.search(out), out  # nothing after the expected events
    # Watching one device: the others' events are not printed (nor counted).
    g.send(f'input watch {mouse}\r')
    g.expect(rf'input: watching {mouse} \(Ctrl-C stops\)\r*\n')
    q.command('input-send-event', events=[key('a', True)])
    q.command('input-send-event', events=[key('a', False)])
    q.command('input-send-event', events=[rel('y', 3)])
    assert read_events(g, 2) == [(mouse, REL, 1, 3), (mouse, SYN, 0, 0)]
    g.send('\x03')
    out = g.wait_prompt()
    assert 'input watch: 2 events, 0 dropped' in out and not EVENT.search(out), out
    per_device[kbd] += 4
    per_device[mouse] += 2

    listing = g.run('input list')
    for d, n in per_device.items():
        assert re.search(rf'{d}: .*, {n} events, 0 errors', listing), listing
    q.close()


@pytest.mark.parametrize('bsp', BSPS)
def test_input_events_from_qmp_smp4(boot, qmp_path, bsp):
    """The same at -smp 4: the three devices' interrupt lines on different
    CPUs, the reader on another (input_lock, docs/smp.md)."""
    test_input_events_from_qmp(at_smp4(boot), qmp_path, bsp, 'modern')


def test_input_without_devices(boot):
    """No input device: `input list` says so, `input watch` waits until
    Ctrl-C and counts nothing, a bad subcommand prints the usage."""
    bsp = BSPS[0]
    g = boot(bsp, build(bsp))
    assert 'input: no input devices' in g.run('input list')
    g.send('input watch\r')
    g.expect(r'input: watching 0 devices \(Ctrl-C stops\)\r*\n')
    g.send('\x03')
    out = g.wait_prompt()
    assert 'input watch: 0 events, 0 dropped' in out and 'input: interrupted' in out, out
    assert 'usage: input list | watch [device]' in g.run('input frobnicate')
    assert 'input: no input device named input0' in g.run('input watch input0')

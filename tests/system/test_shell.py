"""Boot each BSP (and the aarch64 CPU / GIC variants) to the shell and drive
it like a user: commands, line editing, errors, poweroff."""
import re

import pytest
from conftest import BSPS, build

# (bsp, cpu, machine options, memory)
MACHINES = [
    ('qemu-virt64-riscv', None, None, None),
    ('qemu-virt64-riscv', None, None, '1G'),
    ('qemu-virt64-aarch64', 'cortex-a53', None, None),
    ('qemu-virt64-aarch64', 'cortex-a72', None, '1G'),
    ('qemu-virt64-aarch64', 'cortex-a72', 'gic-version=3', None),
    ('qemu-virt64-aarch64', 'max', 'gic-version=3', '1G'),
]


def machine_id(m):
    bsp, cpu, opts, mem = m
    return '-'.join(x for x in (bsp.replace('qemu-virt64-', ''), cpu, opts, mem) if x)


@pytest.mark.parametrize('machine', MACHINES, ids=machine_id)
def test_boot_to_shell_and_poweroff(boot, machine):
    bsp, cpu, opts, mem = machine
    build(bsp)
    g = boot(bsp, cpu=cpu, machine_opts=opts, memory=mem, wait_prompt=False)
    arch = 'riscv64' if 'riscv' in bsp else 'aarch64'
    # The banner is the first line the kernel prints.
    g.expect(rf'Tern \d+\.\d+\.\d+ \({bsp}, {arch}\) booting')
    g.wait_prompt()
    ram = g.run('free')
    total = int(ram.split('\n')[1].split()[0])
    expected_ram = (1 << 30) if mem == '1G' else (128 << 20)
    assert expected_ram * 0.9 < total < expected_ram, ram

    out = g.run('help')
    for cmd in ('help', 'version', 'ps', 'free', 'uptime', 'reboot', 'poweroff'):
        assert re.search(rf'^\s+{cmd}\b', out, re.M), f'{cmd} missing from help:\n{out}'

    assert f'({bsp}, {arch})' in g.run('version')

    ps = g.run('ps')
    assert re.search(r'^NAME\s+STATE\s+PRI', ps, re.M), ps
    assert re.search(r'^shell\s+running\s+\d+\s+\d+\s+\d+/\d+', ps, re.M), ps
    assert re.search(r'^idle\s+ready\s+\d+', ps, re.M), ps

    assert g.run('frobnicate now').strip() == 'frobnicate: command not found'
    assert g.run('uptime extra').strip() == 'usage: uptime'

    g.send('poweroff\r')
    g.expect('powering off')
    assert g.wait_exit() == 0


@pytest.mark.parametrize('bsp', BSPS)
def test_line_editing(boot, bsp):
    build(bsp)
    g = boot(bsp)
    # Backspace (DEL and ^H) edits the line before it runs.
    g.send('verx\x7fsiom\x08n\r')
    g.expect(r'Tern \d+\.\d+\.\d+ ')
    g.wait_prompt()
    # Ctrl-C drops the line.
    g.send('poweroff\x03')
    g.expect(r'\^C')
    g.wait_prompt()
    # Up arrow recalls the previous command (version), down returns to an empty line.
    g.send('echo first\r')
    g.expect('first')
    g.wait_prompt()
    g.send('\x1b[A\x1b[A\r')  # two lines up: "version"
    g.expect(r'Tern \d+\.\d+\.\d+ ')
    g.wait_prompt()
    g.send('\x1b[A\x1b[B\x1b[B\r')  # up then down: empty line, nothing runs
    g.wait_prompt()
    assert g.run('echo still alive').strip() == 'still alive'


@pytest.mark.parametrize('bsp', BSPS)
def test_uptime_advances(boot, bsp):
    build(bsp)
    g = boot(bsp)
    first = g.run('uptime')
    m1 = re.search(r'(\d+) ticks', first)
    g.run('echo wait')
    import time
    time.sleep(0.5)
    second = g.run('uptime')
    m2 = re.search(r'(\d+) ticks', second)
    assert m1 and m2 and int(m2.group(1)) > int(m1.group(1)), (first, second)


@pytest.mark.parametrize('bsp', BSPS)
def test_smallest_priority_configuration_boots(boot, bsp):
    """8 priority levels at a 10 kHz tick: the system threads' default
    priorities fit, and the tick runs at its fastest rate."""
    out = build(bsp, f'{bsp}-prio8', ('tests/configs/priorities-8.conf',))
    g = boot(bsp, out)
    ps = g.run('ps')
    assert re.search(r'^idle\s+ready\s+7\b', ps, re.M), ps
    assert re.search(r'^shell\s+running\s+[0-6]\b', ps, re.M), ps
    assert re.search(r'ticks at 10000 Hz', g.run('uptime'))
    g.send('poweroff\r')
    assert g.wait_exit() == 0

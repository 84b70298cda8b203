"""The board layer (bsp/qemu-virt/board.cpp): devices bind to the drivers
registered for their device-tree `compatible`; without a tree the board's
fallback table (bsp/<board>/board.cpp, Kconfig values) stands in. Each boot
line names the driver and where its device came from."""
import re

import pytest
from conftest import build

NO_DT = 'tests/configs/no-device-tree.conf'
V3_ONLY = 'tests/configs/gic-v3-only.conf'

# (id, bsp, fragments, machine options, the board lines expected)
CASES = [
    ('riscv-tree', 'qemu-virt64-riscv', (), None,
     ['sifive_test @0x100000 (sifive,test1, test@100000)',
      'plic @0xc000000 (sifive,plic-1.0.0, plic@c000000)',
      'ns16550 @0x10000000 (ns16550a, serial@10000000)']),
    ('riscv-fallback', 'qemu-virt64-riscv', (NO_DT,), None,
     ['plic @0xc000000 (riscv,plic0, fallback)',
      'ns16550 @0x10000000 (ns16550a, fallback)']),
    ('aarch64-fallback-gicv2', 'qemu-virt64-aarch64', (NO_DT,), None,
     ['gic_v2 @0x8000000 (arm,cortex-a15-gic, fallback)',
      'pl011 @0x9000000 (arm,pl011, fallback)']),
    ('aarch64-fallback-gicv3-only', 'qemu-virt64-aarch64', (NO_DT, V3_ONLY), 'gic-version=3',
     ['gic_v3 @0x8000000 (arm,gic-v3, fallback)',
      'pl011 @0x9000000 (arm,pl011, fallback)']),
]


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_board_devices_bind(boot, case):
    name, bsp, fragments, opts, lines = case
    out = build(bsp, f'board-{name}', fragments) if fragments else build(bsp)
    g = boot(bsp, out, machine_opts=opts, wait_prompt=False)
    log = g.wait_prompt()
    for line in lines:
        assert f'board: {line}' in log, log
    if fragments:
        assert 'board: no device tree found, using Kconfig defaults' in log, log
        assert 'no memory node, using CONFIG_PLATFORM_RAM_BASE/SIZE' in log, log
    # Console input works (the receive interrupt came through the controller
    # that was bound), the tick preempts a device handler and the software
    # interrupt arrives (GIC priorities and SGIs through irq::Controller).
    assert g.run('echo typed here').strip() == 'typed here'
    out = g.run('ktest nesting_tick_preempts', timeout=60)
    assert re.search(r'ktest: 1 passed, 0 failed', out), out
    out = g.run('ktest isr_give_runs_higher', timeout=60)
    assert re.search(r'ktest: 1 passed, 0 failed', out), out
    g.send('poweroff\r')
    assert g.wait_exit() == 0

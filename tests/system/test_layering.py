"""The layers point one way (tools/check_layering.py): no port includes
kernel internals or the board layer, no generic code includes a port's
headers, nothing in rtos/ includes components/ or bsp/, and no virtio layer
includes one above it."""
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


def test_checker_catches_each_upward_include(tmp_path, monkeypatch):
    """One planted upward include per rule: the kernel including the shell or
    a driver, a port including the board, each virtio layer including the
    one above it; the same includes downwards pass."""
    root = str(tmp_path)
    monkeypatch.setattr(check_layering, 'ALLOWED', set())
    v = 'components/drivers/virtio/'
    for path in ('components/shell/shell.hpp', 'components/drivers/block/block_device.hpp',
                 'components/platform/device.hpp', 'bsp/qemu-virt/flash/layout.hpp',
                 'rtos/include/rtos/board.hpp', v + 'spec.hpp', v + 'transport/transport.hpp',
                 v + 'virtqueue.hpp', v + 'device.hpp', v + 'driver.hpp',
                 v + 'blk/virtio_blk.hpp'):
        write(root, path, '')
    write(root, 'rtos/bench/runner.cpp', '#include "shell/shell.hpp"\n')
    write(root, 'rtos/ktest/blk.cpp', '#include "drivers/block/block_device.hpp"\n')
    write(root, 'rtos/kernel/boot.cpp', '#include <rtos/board.hpp>\n')  # the kernel may
    write(root, 'rtos/arch/rv/port.cpp', '#include <rtos/board.hpp>\n')
    write(root, 'rtos/arch/rv/mmu.cpp', '#include "platform/device.hpp"\n')
    write(root, 'rtos/arch/flash/loader.cpp', '#include "../../../bsp/qemu-virt/flash/layout.hpp"\n')
    write(root, v + 'spec_check.cpp', '')  # a device-driver-layer file: includes nothing
    write(root, v + 'transport/mmio_probe.cpp', '#include "drivers/virtio/driver.hpp"\n'
                                                 '#include "drivers/virtio/spec.hpp"\n')
    write(root, v + 'virtqueue.cpp', '#include "drivers/virtio/device.hpp"\n'
                                     '#include "drivers/virtio/transport/transport.hpp"\n')
    write(root, v + 'device.cpp', '#include "drivers/virtio/driver.hpp"\n'
                                  '#include "drivers/virtio/virtqueue.hpp"\n')
    write(root, v + 'driver.cpp', '#include "drivers/virtio/blk/virtio_blk.hpp"\n'
                                  '#include "drivers/virtio/device.hpp"\n')
    write(root, v + 'hal.hpp', '#include "drivers/virtio/transport/transport.hpp"\n')
    write(root, v + 'blk/virtio_blk.cpp', '#include "drivers/virtio/driver.hpp"\n'
                                          '#include "drivers/virtio/spec.hpp"\n')
    problems, stale = check_layering.check(root)
    assert sorted(problems) == [
        v + 'device.cpp:1: includes ' + v + 'driver.hpp: '
        'virtio device core includes the driver lookup layer above it',
        v + 'driver.cpp:1: includes ' + v + 'blk/virtio_blk.hpp: '
        'virtio driver lookup includes the device driver layer above it',
        v + 'hal.hpp:1: includes ' + v + 'transport/transport.hpp: '
        'virtio base includes the transport layer above it',
        v + 'transport/mmio_probe.cpp:1: includes ' + v + 'driver.hpp: '
        'virtio transport includes the driver lookup layer above it',
        v + 'virtqueue.cpp:1: includes ' + v + 'device.hpp: '
        'virtio virtqueue includes the device core layer above it',
        'rtos/arch/flash/loader.cpp:1: includes bsp/qemu-virt/flash/layout.hpp: '
        'port includes the board layer',
        'rtos/arch/rv/mmu.cpp:1: includes components/platform/device.hpp: '
        'port includes the board layer',
        'rtos/arch/rv/port.cpp:1: includes rtos/include/rtos/board.hpp: '
        'port includes the board layer',
        'rtos/bench/runner.cpp:1: includes components/shell/shell.hpp: '
        'kernel includes a layer above it (components/ or bsp/)',
        'rtos/ktest/blk.cpp:1: includes components/drivers/block/block_device.hpp: '
        'kernel includes a layer above it (components/ or bsp/)',
    ], problems
    assert stale == []


def test_stale_allowlist_entry_fails(tmp_path, monkeypatch):
    root = str(tmp_path)
    write(root, 'rtos/kernel/a.cpp', '')
    monkeypatch.setattr(check_layering, 'ALLOWED', {('rtos/arch/rv/port.cpp', 'rtos/kernel/a.hpp')})
    problems, stale = check_layering.check(root)
    assert problems == [] and stale == [('rtos/arch/rv/port.cpp', 'rtos/kernel/a.hpp')]

"""Debugging a running guest with gdb in batch mode, through the command
`tools/run.py --gdb` prints (it loads tools/gdb/tern.py): backtraces go
through a trap frame into the interrupted thread and through a context
switch into a sleeping thread; `tern threads` agrees with the shell's `ps`."""
import re
import shlex
import subprocess
import sys
import time

import pytest
from conftest import BSPS, ROOT, build
from qemu_cmd import free_ports

RESUME = {'qemu-virt64-riscv': 'rtos_riscv_resume', 'qemu-virt64-aarch64': 'rtos_aarch64_resume'}
START = {'qemu-virt64-riscv': 'rtos_riscv_thread_start',
         'qemu-virt64-aarch64': 'rtos_aarch64_thread_start'}


def frames(text):
    """The function names of a backtrace, innermost first."""
    out = []
    for line in text.splitlines():
        if m := re.match(r'#\d+\s+(?:0x[0-9a-f]+ in )?(<signal handler called>|.+? \()', line):
            out.append(m.group(1).removesuffix(' ('))
    return out


@pytest.mark.parametrize('bsp', BSPS)
def test_gdb_backtraces_and_thread_list(boot, bsp):
    out = build(bsp)
    (port,) = free_ports(1)
    g = boot(bsp, out, extra=['-gdb', f'tcp:127.0.0.1:{port}'])
    ps = g.run('ps')

    printed = subprocess.run([sys.executable, 'tools/run.py', '--build', out, '--gdb',
                              '--gdb-port', str(port), '--dry-run'], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    gdb_line = [l for l in printed.splitlines() if l.strip().startswith('gdb-multiarch')][0]
    assert 'tools/gdb/tern.py' in gdb_line
    # Halt in the tick handler (it interrupts the idle thread), then look.
    argv = shlex.split(gdb_line) + [
        '-batch', '-nx', '-ex', 'set pagination off',
        '-ex', 'break rtos::kernel::announce_ticks', '-ex', 'continue',
        '-ex', 'echo ==bt\\n', '-ex', 'bt',
        '-ex', 'echo ==threads\\n', '-ex', 'tern threads',
        '-ex', 'echo ==shell\\n', '-ex', 'tern bt shell',
        '-ex', 'echo ==after\\n', '-ex', 'bt 1', '-ex', 'delete']
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=90)
    text = r.stdout
    assert '==after' in text, text
    sections = dict(re.findall(r'==(\w+)\n(.*?)(?===|\Z)', text, re.S))
    assert 'Backtrace stopped' not in text, text

    # Through the trap frame into the interrupted thread, down to its start.
    bt = frames(sections['bt'])
    assert bt[0] == 'rtos::kernel::announce_ticks', text
    i = bt.index('<signal handler called>')
    # The idle thread, perhaps in a function it calls (reap_zombies, ...).
    assert any('idle_entry' in f for f in bt[i + 1:i + 3]) and bt[-1] == START[bsp], bt

    # The shell sleeps in its line editor: through the switch frame to its entry.
    sh = frames(sections['shell'])
    assert sh[0] == RESUME[bsp] and sh[-1] == START[bsp], sections['shell']
    assert any('Semaphore::take' in f for f in sh) and any('shell_main' in f for f in sh), sh
    # tern bt put pc and sp back.
    assert frames(sections['after'])[0] == 'rtos::kernel::announce_ticks', text

    # tern threads: the names, states, priorities and stack sizes ps shows.
    listed = {}
    for line in sections['threads'].splitlines()[1:]:
        f = line.split()
        if len(f) >= 8:
            listed[f[2]] = (f[3], f[4], f[6].split('/')[1], f[-1].endswith('*'))
    for line in ps.splitlines():
        m = re.match(r'^(\w+)\s+(\w+)\s+(\d+)\s+\d+\s+\d+\s+\d+/(\d+)', line)  # CPU column
        if m and m.group(1) in ('shell', 'idle0', 'timer'):
            name, state, prio, size = m.groups()
            assert name in listed, sections['threads']
            assert listed[name][1:3] == (prio, size), (line, listed[name])
    assert listed['idle0'][0] == 'running' and listed['idle0'][3], sections['threads']
    assert listed['shell'][0] == 'blocked', sections['threads']

    # A preemption: a typed key makes the shell ready in the UART interrupt,
    # whose exit calls rtos_kernel_preempt in the interrupted idle thread.
    argv = shlex.split(gdb_line) + [
        '-batch', '-nx', '-ex', 'set pagination off',
        '-ex', 'break rtos_kernel_preempt', '-ex', 'continue',
        '-ex', 'echo ==preempt\\n', '-ex', 'bt', '-ex', 'delete']
    gdb = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(20):  # until gdb has the breakpoint in and the key lands
            time.sleep(0.5)
            if gdb.poll() is not None:
                break
            g.send(' ')
        text = gdb.communicate(timeout=60)[0]
    finally:
        gdb.kill()
    assert '==preempt' in text and 'Backtrace stopped' not in text, text
    pre = frames(text.split('==preempt', 1)[1])
    assert pre[0] == 'rtos_kernel_preempt' and pre[1] == '<signal handler called>', pre
    assert pre[-1] == START[bsp], pre
    g.send('\x15')  # Ctrl-U: drop the typed spaces

    # gdb detached: the guest runs on.
    assert f'({bsp},' in g.run('version')

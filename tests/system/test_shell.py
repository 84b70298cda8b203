"""Boot each BSP (and the aarch64 CPU / GIC variants) to the shell and drive
it like a user: commands, line editing, errors, poweroff."""
import os
import re
import subprocess
import sys
import zlib

import pytest
from conftest import BSPS, ROOT, build, virtio_dev
from guest import PROMPT, WIDTH_QUERY
from test_fs import pattern

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
    # NAME STATE PRI BASE CPU STACK; idle0 with SMP (one per CPU)
    assert re.search(r'^shell\s+running\s+\d+\s+\d+\s+\d+\s+\d+/\d+', ps, re.M), ps
    assert re.search(r'^idle0?\s+ready\s+\d+', ps, re.M), ps

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
    assert re.search(r'^idle0?\s+ready\s+7\b', ps, re.M), ps
    assert re.search(r'^shell\s+running\s+[0-6]\b', ps, re.M), ps
    assert re.search(r'ticks at 10000 Hz', g.run('uptime'))
    g.send('poweroff\r')
    assert g.wait_exit() == 0


class Screen:
    """Just enough of a VT100 to see what the user sees: printable text with
    the deferred wrap at the last column, CR, LF, BS, ESC 7 / ESC 8 and the
    CSI sequences the shell writes (cursor up/right/column/home, erase line,
    below and all, the cursor position report it asks for). Rows never
    scroll off."""

    def __init__(self, columns=80):
        self.columns = columns
        self.cells = {}  # (row, column) -> character
        self.row = self.col = 0
        self.pending = False
        self.saved = (0, 0)

    def feed(self, text):
        i = 0
        while i < len(text):
            ch = text[i]
            i += 1
            if ch == '\x1b':
                if text[i] in '78':
                    if text[i] == '7':
                        self.saved = (self.row, self.col)
                    else:
                        self.row, self.col = self.saved
                        self.pending = False
                    i += 1
                    continue
                m = re.match(r'\[([0-9;]*)([@-~])', text[i:])
                assert m, f'unknown escape sequence {text[i:i + 8]!r}'
                i += m.end()
                self.csi(m.group(1), m.group(2))
            elif ch == '\r':
                self.col, self.pending = 0, False
            elif ch == '\n':
                self.row += 1
                self.pending = False
            elif ch == '\b':
                self.col, self.pending = max(0, self.col - 1), False
            elif ch >= ' ':
                if self.pending:
                    self.row, self.col, self.pending = self.row + 1, 0, False
                self.cells[(self.row, self.col)] = ch
                if self.col == self.columns - 1:
                    self.pending = True
                else:
                    self.col += 1

    def csi(self, params, final):
        n = int(params.split(';')[0] or 1) if final in 'ABCDG' else int(params or 0)
        self.pending = False
        if final == 'H':
            assert not params, f'ESC[{params}H'
            self.row = self.col = 0
        elif final == 'J' and n == 2:
            self.cells.clear()
        elif final == 'A':
            self.row = max(0, self.row - n)
        elif final == 'C':
            self.col = min(self.columns - 1, self.col + n)
        elif final == 'G':
            self.col = min(self.columns, n) - 1
        elif final in 'JK':
            assert n == 0, f'ESC[{params}{final}'
            for (r, c) in list(self.cells):
                if (r == self.row and c >= self.col) or (final == 'J' and r > self.row):
                    del self.cells[(r, c)]
        elif final != 'n':  # 'n': the shell asks for the cursor position; answered by hand
            raise AssertionError(f'unexpected ESC[{params}{final}')

    def lines(self):
        rows = max([r for r, _ in self.cells] + [self.row]) + 1
        return [''.join(self.cells.get((r, c), ' ') for c in range(self.columns)).rstrip()
                for r in range(rows)]


def typed_on_screen(g, keys, output, columns=80, answer=None):
    """Types keys at a fresh prompt (the last one Enter) and waits for the
    line `output` and the prompt after it; returns the screen's rows from the
    first prompt on, as a terminal `columns` wide shows them (answering the
    shell's width query with `answer` columns)."""
    if answer:
        g.send(f'\x1b[24;{answer}R')
    g.send(keys)
    out = g.expect(r'\n' + re.escape(output) + r'\r*\n' + re.escape(PROMPT))
    screen = Screen(columns)
    screen.feed(PROMPT + out)
    return screen.lines()


@pytest.mark.parametrize('bsp', BSPS)
def test_ctrl_u_clears_a_wrapped_line(boot, bsp):
    build(bsp)
    g = boot(bsp)
    # 80 columns (no answer to the width query): 105 characters take two rows.
    rows = typed_on_screen(g, 'echo ' + 'a' * 100 + '\x15echo done\r', 'done')
    assert rows == [PROMPT + 'echo done', 'done', PROMPT.rstrip()], rows
    # Backspace back across a row edge: 82 characters, three rubbed out,
    # then one more fills the first row exactly.
    rows = typed_on_screen(g, 'echo ' + 'a' * 72 + '\x7f' * 3 + 'Z\r', 'a' * 69 + 'Z')
    assert rows == [PROMPT + 'echo ' + 'a' * 69 + 'Z', 'a' * 69 + 'Z', PROMPT.rstrip()], rows
    # Nothing answers the width query here (a pipe, a log, an expect script):
    # the shell asked once, at the first prompt, and never again.
    g.run('echo quiet')
    assert g.output().count(WIDTH_QUERY) == 1, g.output()[-2000:]
    # Ctrl-L clears the screen, redraws the line and asks once more.
    rows = typed_on_screen(g, 'echo abc\x0c\r', 'abc')
    assert rows == [PROMPT + 'echo abc', 'abc', PROMPT.rstrip()], rows
    g.run('echo still quiet')
    assert g.output().count(WIDTH_QUERY) == 2, g.output()[-2000:]
    # A terminal that answers the query with its width: 120 columns.
    rows = typed_on_screen(g, 'echo ' + 'b' * 200 + '\x15echo wide\r', 'wide', columns=120,
                           answer=120)
    assert rows == [PROMPT + 'echo wide', 'wide', PROMPT.rstrip()], rows
    # History: a long line (two rows) replaced by a short one, and back.
    g.send('echo ' + 'c' * 150 + '\r')
    g.wait_prompt()
    rows = typed_on_screen(g, '\x1b[A\x1b[A\x1b[B\r', 'c' * 150, columns=120)
    assert rows == [PROMPT + 'echo ' + 'c' * 110, 'c' * 40, 'c' * 120, 'c' * 30,
                    PROMPT.rstrip()], rows
    # A terminal answered: now the shell asks at every prompt, right after
    # it (the terminal may be resized), and takes the new width: 100
    # columns, where 210 characters take three rows (two at 120).
    for _ in range(2):
        g.send('echo asked\r')
        g.expect(r'asked\r*\n' + re.escape(PROMPT + WIDTH_QUERY))
    rows = typed_on_screen(g, 'echo ' + 'd' * 200 + '\x15echo narrow\r', 'narrow', columns=100,
                           answer=100)
    assert rows == [PROMPT + 'echo narrow', 'narrow', PROMPT.rstrip()], rows


@pytest.mark.parametrize('bsp', BSPS)
def test_too_long_line_is_refused(boot, bsp):
    build(bsp)
    g = boot(bsp)  # CONFIG_SHELL_LINE_MAX=256
    g.send('echo ' + 'x' * 251 + '\r')  # exactly 256: runs
    out = g.wait_prompt()
    assert re.search(r'^x{251}\r*$', out, re.M), out[-600:]
    g.send('echo ' + 'y' * 300 + '\r')
    out = g.wait_prompt()
    assert 'line too long (more than 256 characters): not run' in out, out[-600:]
    assert not re.search(r'^y+\r*$', out, re.M), 'the cut line ran'
    # Not kept in the history either: Up brings back the 256-character line.
    g.send('\x1b[A\r')
    g.expect(r'\nx{251}\r*\n' + re.escape(PROMPT))


@pytest.mark.parametrize('bsp', BSPS)
def test_ctrl_c_stops_blk(boot, tmp_path, bsp):
    build(bsp)
    img = tmp_path / 'disk.img'
    img.write_bytes(bytes(range(256)) * 4096)  # 1 MiB, 2048 sectors
    g = boot(bsp, disks=[str(img)])
    # A hex dump of 400 sectors is 12800 lines; it stops within a few.
    out = g.interrupt('blk read 0 400', r'00000000:', 'blk: interrupted')
    offsets = re.findall(r'^([0-9a-f]{8}):', out, re.M)
    assert int(offsets[-1], 16) < 100 * 512, f'stopped at {offsets[-1]} of 00031ff0'
    # The stress threads stop too; the line says how much they did.
    out = g.interrupt('blk stress 4 100000', r'scratch lba \d+ count \d+.*\n', 'blk: interrupted')
    m = re.search(r'^blk stress: interrupted: 4 threads x 100000 reads, (\d+) requests '
                  r'\((\d+) writes, (\d+) reads\), 0 errors, cpus 0x[0-9a-f]+\n\^C$', out, re.M)
    assert m and int(m.group(1)) == int(m.group(2)) + int(m.group(3)), out[-1000:]
    assert int(m.group(3)) < 400000
    # Ctrl-C typed ahead with the command (before it started) interrupts it,
    # and the line typed before the ^C is dropped with it, as a terminal does.
    g.send('blk read 0 2048\recho dropped\r\x03')
    out = g.expect(r'blk: interrupted\r*\n' + re.escape(PROMPT))
    g.send('echo kept\r')
    out += g.expect(r'kept\r*\n' + re.escape(PROMPT))
    assert '0000fff0:' not in out and 'dropped\r\n' not in out, out[-1000:]
    # iobench: a minute per test, stopped in the first; no figures for it.
    out = g.interrupt('iobench -t 60000', r'io: (\S+) running\r*\n', 'iobench: interrupted')
    assert re.search(r'^io: \S+ interrupted after \d+ requests\n\^C$', out, re.M), out
    assert 'IOPS' not in out and 'io: done' not in out, out


@pytest.mark.parametrize('bsp', BSPS)
def test_ctrl_c_stops_file_commands(boot, tmp_path, bsp):
    """On a disk QEMU throttles to 1 MiB/s, reading a 16 MiB file takes
    a quarter of a minute: Ctrl-C stops each command within seconds, leaves
    no partial copy and no figure that reads like a complete run."""
    build(bsp)
    img, big = str(tmp_path / 'slow.img'), tmp_path / 'big.bin'
    line = b'the quick brown fox jumps over the lazy dog\n'
    big.write_bytes(line * ((16 << 20) // len(line)))  # text: cat prints it
    for args in (('mkfat', img, '64M', '--fat', '32'), ('put', img, str(big))):
        r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'disk.py'), *args],
                           capture_output=True, text=True)
        assert r.returncode == 0, r
    g = boot(bsp, extra=['-drive', f'file={img},if=none,format=raw,id=slow,'
                                   f'throttling.bps-total={1 << 20}',
                         '-device', virtio_dev('blk', 'modern') + ',drive=slow'])
    out = g.interrupt('cp /vda/big.bin /vda/copy.bin', r'cp /vda/big\.bin /vda/copy\.bin\r*\n',
                      'cp: interrupted', timeout=10)
    assert re.search(r'^cp: /vda/copy\.bin: the partial copy removed\n\^C$', out, re.M), out
    assert 'copy.bin' not in g.run('ls /vda')
    out = g.interrupt('crc32 /vda/big.bin', r'crc32 /vda/big\.bin\r*\n', 'crc32: interrupted',
                      timeout=10)
    assert 'crc32=' not in out, out
    out = g.interrupt('cat /vda/big.bin', r'lazy dog\r*\n', 'cat: interrupted', timeout=10)
    assert out.count('lazy dog') < (4 << 20) // len(line), 'cat went on'
    # The device itself: a CRC of its 64 MiB stops at the next chunk.
    out = g.interrupt('blk crc 0 131072', r'blk crc 0 131072\r*\n', 'blk: interrupted', timeout=10)
    assert 'crc32=' not in out, out
    # fsbench stops in its 16 MiB write, with no figure for it and no read.
    out = g.interrupt('fsbench -n 1 /vda', r'fs: seqwrite-16m running\r*\n',
                      'fsbench: interrupted', timeout=30)
    assert 'MB/s' not in out and 'seqread' not in out and 'fs: done' not in out, out
    # Files of 1 MiB written and synced one after another: stopped in the
    # second, which is not announced as synced.
    out = g.interrupt('fstest stream /vda 100 1048576', r'fstest: synced 0\r*\n',
                      'fstest: interrupted', timeout=30)
    assert 'fstest: synced 1\n' not in out, out
    # Writer threads: each stops within its chunk; the line says it is partial.
    g.run('mkdir /vda/t')
    out = g.interrupt('fstest threads /vda/t 2 100 1000000', r'fstest threads .*\r*\n',
                      'fstest: interrupted', timeout=30)
    assert re.search(r'^fstest: interrupted: 2 threads x 100 files of 1000000 bytes, 0 errors, '
                     r'cpus 0x[0-9a-f]+\n'
                     r'\^C$', out, re.M), out
    # The volume is fine and the file intact.
    assert g.run('crc32 /vda/s0.bin', timeout=30) == (
        f'crc32={zlib.crc32(pattern(0, 1048576)):08x} size=1048576\n')


@pytest.mark.parametrize('bsp', BSPS)
def test_ctrl_c_stops_ktest_bench_tm_and_random(boot, bsp):
    build(bsp)
    # An entropy source of 64 bytes a second: `random` waits on it.
    g = boot(bsp, extra=['-object', 'rng-builtin,id=rng0', '-device',
                         virtio_dev('rng', 'modern') + ',rng=rng0,max-bytes=64,period=1000'])
    def threads():  # the boot thread may have ended but not been freed yet
        return [line.split()[0] for line in g.run('ps').splitlines()[1:] if 'exited' not in line]

    before = threads()
    total = int(re.search(r'ktest: (\d+) tests', g.run('ktest -l')).group(1))
    out = g.interrupt('ktest', r'\[ PASS \] ', r'ktest: interrupted', timeout=60)
    # The summary says first that the run is partial.
    m = re.search(r'^ktest: interrupted after (\d+) of (\d+) tests: (\d+) passed, 0 failed\n\^C',
                  out, re.M)
    assert m and m.group(1) == m.group(3) and int(m.group(2)) == total, out[-2000:]
    assert int(m.group(1)) < total // 2, out[-2000:]
    assert len(re.findall(r'^\[ RUN  \]', out, re.M)) == int(m.group(1))
    assert threads() == before
    # The 5-second stress test ends early, and still passes.
    out = g.interrupt('ktest stress', r'\[ RUN  \] stress_16_threads_for_5_seconds', r'ktest: interrupted')
    m = re.search(r'^\[ PASS \] stress_16_threads_for_5_seconds \((\d+) ticks?\)\nktest: '
                  r'interrupted after 1 of 1 tests: 1 passed, 0 failed\n', out, re.M)
    assert m and int(m.group(1)) < 2500, out[-2000:]
    # The whole bench takes about a second without -icount, too short to
    # interrupt at a chosen point from here: a ^C typed right behind the
    # command stops it within a benchmark or two, well before its end.
    listing = g.run('bench -l').partition('on request')[0]  # those run only when named
    total = len([line for line in listing.splitlines() if line.startswith('  ')])
    g.send('bench\r\x03')
    out = g.expect(r'bench: interrupted\r*\n' + re.escape(PROMPT))
    m = re.search(r'bench: interrupted after (\d+) of (\d+) benchmarks: (\d+) results, (\d+) '
                  r'skipped, 0 failed\r*\n\^C', out)
    assert m and int(m.group(2)) == total, out[-2000:]
    assert int(m.group(1)) == int(m.group(3)) + int(m.group(4)) <= total // 2, out[-2000:]
    # Thread-Metric: a period of a minute ends at the ^C (the shell waits in
    # slices), with no score: the run is not complete.
    g.send('tm basic 60000 2\r')
    g.expect(r'tm basic 60000 2\r*\n')
    g.send('\x03')
    out = g.expect(r'\^C\r*\ntm: interrupted\r*\n' + re.escape(PROMPT), timeout=10)
    assert 'score' not in out and 'period' not in out, out
    # random waits on the slow entropy source in slices too.
    out = g.interrupt('random 100000', r'random 100000\r*\n', 'random: interrupted', timeout=10)
    assert re.search(r'^random: \d+ of 100000 bytes read\n\^C$', out, re.M), out
    # A size over the limit names the limit.
    out = g.run('random 100000000')
    assert out == ('random: <bytes> is 1 to 16777216 (16 MiB)\n'
                   'usage: random <bytes> | -t <threads> <bytes>\n'), out

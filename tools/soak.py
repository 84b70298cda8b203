#!/usr/bin/python3
"""Soak: every board under mixed load for N minutes, checking every byte.

  tools/soak.py --minutes N [--bsp BSP]... [--smp N] [--ubsan] [--builds DIR]

Builds the soak image of each board (CONFIG=examples/soak/soak.conf: blk,
net, console with their example services, FAT, and the `soak` shell
command), boots it with a scratch disk, a second disk holding a FAT32 volume
(tools/disk.py mkfat, mounted at /vdb), a user network (TCP/UDP echo
forwarded to 127.0.0.1 only) and two virtio-console ports, and for N
minutes runs:
  inside   `soak start`: threads writing and verifying sectors of the first
           disk's last half, threads writing, verifying and deleting files
           on /vdb, a thread churning the heap with checked patterns;
  outside  two TCP echo streams, UDP echo datagrams, the console ports'
           echo and upper-case services; every byte sent is checked.
`ps` is sampled during the run for the stacks' high-water marks. At the
end `soak stop`, then `free` must come back to the baseline taken after a
warm-up round; after `sync` and poweroff, fsck.fat must find the volume
clean (tools/disk.py check). One line per board:
  soak: <board> <n> operations, <n> errors, heap <baseline|leaked n>, stack high-water <n>%
Exit status 0 only when every board had no error (data mismatch, lost
stream byte, I/O error, panic), no leak and no stack above 90 %.
Boards run in parallel; logs in build/soak/<board>.log. --ubsan soaks the
undefined-behaviour sanitizer build (tests/configs/ubsan.conf too: what the
test suite runs, sharing the image with test_reliability.py's UBSan tests).
Images go to <builds>/<board>/soak[-ubsan] (default builds: build/soak).
"""
import argparse
import fcntl
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_cmd  # noqa: E402

ROOT = qemu_cmd.ROOT
BSPS = ['qemu-virt64-riscv', 'qemu-virt64-aarch64']
CONFIG = ['examples/soak/soak.conf']
UBSAN_CONFIG = 'tests/configs/ubsan.conf'
PROMPT = 'msh> '
STACK_LIMIT = 90
DISK_BYTES = 64 << 20
FAT_SIZE = '48M'  # FAT32 for mtools and fsck.fat too (docs/filesystem.md)


def pexpect_eof():
    import pexpect
    return pexpect.EOF


def smp_available():
    """-smp 4 once the kernel runs on several harts/cores (CONFIG_RTOS_SMP)."""
    with open(os.path.join(ROOT, 'rtos', 'Kconfig')) as f:
        return re.search(r'^config RTOS_SMP$', f.read(), re.M) is not None


def image(ubsan):
    """The soak image's name (its folder under <builds>/<board>/, as
    tests/builds.py names it) and Kconfig fragments."""
    if ubsan:
        return 'soak-ubsan', CONFIG + [UBSAN_CONFIG]
    return 'soak', CONFIG


def build(bsp, jobs, ubsan, builds):
    name, config = image(ubsan)
    out = os.path.join(builds, bsp, name)
    # The lock tests/conftest.py's build() takes for this folder (with
    # --builds build/test, tests/builds.py's folder): a test may build it too.
    # Opened to append: the note of what the run built there stays.
    locks = os.path.join(ROOT, 'build', 'locks')
    os.makedirs(locks, exist_ok=True)
    with open(os.path.join(locks, os.path.relpath(out, ROOT).replace(os.sep, '-') + '.lock'),
              'a+') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        argv = ['scons', '-Q', f'-j{jobs}', f'BSP={bsp}', f'BUILD={out}',
                'CONFIG=' + ','.join(os.path.join(ROOT, c) for c in config)]
        r = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    if r.returncode != 0:
        sys.exit(f'soak: build failed: {" ".join(argv)}\n{r.stdout}')
    return out


def recv_exactly(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f'connection closed after {len(buf)} of {n} bytes')
        buf += chunk
    return bytes(buf)


def connect(family, address, deadline_s=60):
    """A connection, retried while the guest's service is not there yet."""
    end = time.monotonic() + deadline_s
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            s.connect(address)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


class Board:
    """One guest and its load; run() fills ops, errors, heap and stack."""

    def __init__(self, bsp, build_dir, minutes, smp, workdir):
        self.bsp = bsp
        self.build_dir = build_dir
        self.seconds = minutes * 60
        self.smp = smp
        self.dir = workdir
        self.ops = 0
        self.kinds = {}  # operations by kind, for the detail line
        self.errors = []
        self.heap = 'baseline'
        self.stack = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    # ---- the guest ----

    def start_guest(self):
        import pexpect
        disk = os.path.join(self.dir, 'disk.img')
        with open(disk, 'wb') as f:
            f.truncate(DISK_BYTES)
        self.fat = os.path.join(self.dir, 'fat.img')
        r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'disk.py'), 'mkfat',
                            self.fat, FAT_SIZE], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode:
            raise RuntimeError(f'tools/disk.py mkfat: {r.stdout}')
        self.tcp = qemu_cmd.free_ports(1)[0]
        self.udp = qemu_cmd.free_ports(1, socket.SOCK_DGRAM)[0]
        fwd = f'hostfwd=tcp:127.0.0.1:{self.tcp}-:7,hostfwd=udp:127.0.0.1:{self.udp}-:7'
        extra = ['-netdev', f'user,id=n0,{fwd}', '-device', 'virtio-net-device,netdev=n0',
                 '-device', 'virtio-serial-device']
        for cid, name in (('echo', 'org.rtos.echo'), ('upper', 'org.rtos.upper')):
            extra += ['-chardev', f'socket,path={self.dir}/{cid},server=on,wait=off,id={cid}',
                      '-device', f'virtserialport,chardev={cid},name={name}']
        if self.smp > 1:
            extra += ['-smp', str(self.smp)]
        argv = qemu_cmd.command(self.bsp, self.build_dir, virtio='modern', interactive=False,
                                disks=[disk + ',unsafe', self.fat + ',unsafe'], extra=extra)
        logs = os.path.join(ROOT, 'build', 'soak')
        os.makedirs(logs, exist_ok=True)
        self.log = open(os.path.join(logs, self.bsp + '.log'), 'w')
        self.log.write('+ ' + ' '.join(argv) + '\n')
        self.g = pexpect.spawn(argv[0], argv[1:], encoding='utf-8', codec_errors='replace',
                               timeout=60, echo=False)
        self.g.logfile_read = self.log
        self.g.delaybeforesend = None
        self.g.expect_exact(PROMPT)
        text = self.g.before
        if not re.search(r'fs: /vdb fat32 .* rw', text):
            raise RuntimeError('the FAT volume was not mounted at /vdb')
        if 'net: dhcp bound' not in text:
            self.g.expect(r'net: dhcp bound \S+\s')

    def run_cmd(self, command, timeout=60):
        self.g.send(command + '\r')
        self.g.expect(re.escape(command) + r'\r*\n', timeout=timeout)
        self.g.expect_exact(PROMPT, timeout=timeout)
        return re.sub(r'\r+\n', '\n', self.g.before)

    def heap_used(self):
        m = re.search(r'^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)', self.run_cmd('free'), re.M)
        return int(m.group(2))

    def sample_stacks(self):
        for used, size in re.findall(r'\s(\d+)/(\d+)\s', self.run_cmd('ps')):
            if int(size):
                self.stack = max(self.stack, 100 * int(used) // int(size))

    def error(self, what):
        with self.lock:
            self.errors.append(what)
        self.log.write(f'\n[soak host] ERROR: {what}\n')

    def count(self, kind, n=1):
        with self.lock:
            self.ops += n
            self.kinds[kind] = self.kinds.get(kind, 0) + n

    # ---- host-side load: each loop runs until stop, one op per checked round ----

    def tcp_loop(self, seed):
        rnd = random.Random(seed)
        s = connect(socket.AF_INET, ('127.0.0.1', self.tcp))
        try:
            while not self.stop.is_set():
                data = rnd.randbytes(rnd.randint(1, 32768))
                s.sendall(data)
                if recv_exactly(s, len(data)) != data:
                    return self.error('tcp: echoed bytes differ')
                self.count('tcp')
        finally:
            s.close()

    def udp_loop(self, seed):
        rnd = random.Random(seed)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1.0)
        s.connect(('127.0.0.1', self.udp))
        seq = 0
        try:
            while not self.stop.is_set():
                payload = seq.to_bytes(4, 'little') + rnd.randbytes(rnd.randint(0, 1400))
                for _ in range(5):  # datagrams may be lost: resend; a wrong echo is an error
                    s.send(payload)
                    try:
                        while (echo := s.recv(2048))[:4] != payload[:4]:
                            pass
                        if echo != payload:
                            return self.error(f'udp: datagram {seq} echoed wrong')
                        break
                    except socket.timeout:
                        continue
                else:
                    return self.error(f'udp: datagram {seq}: no echo after 5 tries')
                self.count('udp')
                seq += 1
        finally:
            s.close()

    def console_echo_loop(self, seed):
        rnd = random.Random(seed)
        s = connect(socket.AF_UNIX, f'{self.dir}/echo')
        try:
            while not self.stop.is_set():
                data = rnd.randbytes(rnd.randint(1, 16384))
                s.sendall(data)
                if recv_exactly(s, len(data)) != data:
                    return self.error('console echo: bytes differ')
                self.count('console')
        finally:
            s.close()

    def console_upper_loop(self, seed):
        rnd = random.Random(seed)
        s = connect(socket.AF_UNIX, f'{self.dir}/upper')
        try:
            while not self.stop.is_set():
                line = ''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz0123456789 ')
                               for _ in range(rnd.randint(0, 200))) + '\n'
                s.sendall(line.encode())
                if recv_exactly(s, len(line)) != line.upper().encode():
                    return self.error('console upper: line differs')
                self.count('console')
        finally:
            s.close()

    def guarded(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # a lost connection or a timeout is a lost stream byte
            if not self.stop.is_set():
                self.error(f'{fn.__name__}: {e!r}')

    def host_round(self, seconds, seed):
        """Runs every host load for `seconds` (or until an error)."""
        self.stop.clear()
        loops = [(self.tcp_loop, seed), (self.tcp_loop, seed + 1), (self.udp_loop, seed + 2),
                 (self.console_echo_loop, seed + 3), (self.console_upper_loop, seed + 4)]
        threads = [threading.Thread(target=self.guarded, args=loop, daemon=True) for loop in loops]
        for t in threads:
            t.start()
        return threads

    def end_round(self, threads):
        self.stop.set()
        for t in threads:
            t.join(60)
            if t.is_alive():
                self.error('a host load thread did not finish')

    def guest_soak(self, command):
        out = self.run_cmd(command, timeout=120)
        if re.search(r'soak: (already|not|needs)', out):
            self.error(out.strip())
        return out

    def run(self):
        try:
            self.start_guest()
            # Warm-up: every path once (lwIP's and the drivers' first-use
            # allocations), then the heap baseline.
            threads = self.host_round(2, 1)
            self.guest_soak('soak start')
            time.sleep(2)
            self.end_round(threads)
            self.guest_soak('soak stop')
            with self.lock:
                self.ops = 0  # the warm-up does not count
                self.kinds = {}
            baseline = self.heap_used()

            threads = self.host_round(self.seconds, 100)
            self.guest_soak('soak start')
            end = time.monotonic() + self.seconds
            while time.monotonic() < end and not self.errors:
                time.sleep(min(10, max(0, end - time.monotonic())))
                self.sample_stacks()
            self.end_round(threads)
            out = self.guest_soak('soak stop')
            m = re.search(r'soak: guest (\d+) operations, (\d+) errors \(sectors (\d+), '
                          r'files (\d+), heap (\d+)\)', out)
            if not m:
                self.error(f'soak stop: {out.strip()}')
            else:
                for kind, n in zip(('sectors', 'files', 'heap'), m.groups()[2:]):
                    self.count(kind, int(n))
                for _ in range(int(m.group(2))):
                    self.error('guest: see the soak lines in the log')
            self.sample_stacks()
            # The heap comes back once lwIP has let the connections go.
            deadline = time.monotonic() + 30
            while (used := self.heap_used()) != baseline and time.monotonic() < deadline:
                time.sleep(1)
            if used != baseline:
                self.heap = f'leaked {used - baseline}'
            text = open(self.log.name, errors='replace').read()
            for bad in ('PANIC', 'ubsan:'):
                if bad in text:
                    self.error(f'the guest printed {bad}')
            # The volume, written back and checked by fsck.fat from the host.
            self.run_cmd('sync', timeout=120)
            self.g.send('poweroff\r')
            self.g.expect(pexpect_eof(), timeout=60)
            r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'disk.py'), 'check',
                                self.fat], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            if r.returncode:
                self.error(f'fsck.fat: the volume is not clean: {r.stdout.strip()[-500:]}')
        except Exception as e:  # a guest that stopped answering
            self.error(f'{type(e).__name__}: {e}')
        finally:
            if hasattr(self, 'g'):
                self.g.terminate(force=True)
            if hasattr(self, 'log'):
                self.log.close()

    def ok(self):
        return not self.errors and self.heap == 'baseline' and self.stack <= STACK_LIMIT

    def detail(self):
        return f'soak: {self.bsp} ' + ', '.join(f'{k} {n}' for k, n in sorted(self.kinds.items()))

    def line(self):
        return (f'soak: {self.bsp} {self.ops} operations, {len(self.errors)} errors, '
                f'heap {self.heap}, stack high-water {self.stack}%')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--minutes', type=float, required=True, help='how long each board is loaded')
    ap.add_argument('--bsp', action='append', choices=BSPS,
                    help='a board (repeatable; default: both)')
    ap.add_argument('--smp', type=int, default=None,
                    help='CPUs per guest (default 4 where the kernel has SMP, else 1)')
    ap.add_argument('--ubsan', action='store_true',
                    help='soak the undefined-behaviour sanitizer build (CONFIG_RTOS_UBSAN)')
    ap.add_argument('--builds', default=os.path.join(ROOT, 'build', 'soak'),
                    help='where the images are built: <builds>/<board>/soak[-ubsan] '
                         '(default: build/soak)')
    ap.add_argument('-j', '--jobs', type=int, default=2)
    args = ap.parse_args()
    smp = args.smp if args.smp is not None else (4 if smp_available() else 1)
    bsps = args.bsp or BSPS
    builds = {b: build(b, args.jobs, args.ubsan, os.path.abspath(args.builds)) for b in bsps}
    tmp = tempfile.mkdtemp(prefix='soak', dir='/tmp')  # unix socket paths are short
    try:
        boards = []
        for b in bsps:
            d = os.path.join(tmp, b.rsplit('-', 1)[-1])
            os.makedirs(d)
            boards.append(Board(b, builds[b], args.minutes, smp, d))
        print(f'soak: {", ".join(bsps)} for {args.minutes:g} min, -smp {smp}'
              + (', UBSan build' if args.ubsan else ''), flush=True)
        threads = [threading.Thread(target=b.run) for b in boards]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for b in boards:
            for e in b.errors[:10]:
                print(f'soak: {b.bsp}: {e}')
            print(b.detail())
            print(b.line(), flush=True)
        return 0 if all(b.ok() for b in boards) else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())

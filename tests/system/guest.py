"""A QEMU guest driven through its serial console (pexpect).

Every wait has a timeout, so a hung guest fails its test instead of
blocking the run; the whole serial log of each guest is kept in
build/test-logs/<test>.log."""
import os
import re

import pexpect
import qemu_cmd

ROOT = qemu_cmd.ROOT
PROMPT = 'msh> '
# What the shell writes to ask the terminal its width (save the cursor, go
# right, report the position, restore): once, at the first prompt, unless
# a terminal answers (components/shell/line_editor.hpp).
WIDTH_QUERY = '\x1b7\x1b[999C\x1b[6n\x1b8'


def echo_pattern(command):
    """Regex of the shell's echo of a typed command. A line the kernel prints
    meanwhile (a port named, a service started: on PCI these often come after
    the first prompt) may cut it between any two characters; such lines are
    whole (printk never interleaves mid-line), so they are skipped whole."""
    cut = r'(?:[^\n]*\n)*?'
    return cut.join(re.escape(c) for c in command) + r'\r*\n'


class Guest:
    def __init__(self, bsp, build_dir, log_name='guest', virtio=None, cpu=None, memory=None,
                 machine_opts=None, disks=(), extra=(), timeout=30, flash=False,
                 flash_image=None, flash_state=None, transport='mmio', smp=1):
        self.bsp = bsp
        self.argv = qemu_cmd.command(bsp, build_dir, virtio=virtio, cpu=cpu, memory=memory,
                                     machine_opts=machine_opts, interactive=False, disks=disks,
                                     extra=extra, flash=flash, flash_image=flash_image,
                                     flash_state=flash_state, transport=transport, smp=smp)
        logs = os.path.join(ROOT, 'build', 'test-logs')
        os.makedirs(logs, exist_ok=True)
        safe = re.sub(r'[^A-Za-z0-9_.-]+', '_', log_name)[:150]
        self.log = open(os.path.join(logs, safe + '.log'), 'w')
        self.log.write('+ ' + ' '.join(self.argv) + '\n')
        self.timeout = timeout
        self.p = pexpect.spawn(self.argv[0], self.argv[1:], encoding='utf-8',
                               codec_errors='replace', timeout=timeout, echo=False)
        self.p.logfile_read = self.log
        self.p.delaybeforesend = None

    def expect(self, pattern, timeout=None):
        """Waits for a regex; returns the text before it plus the match."""
        try:
            self.p.expect(pattern, timeout=timeout or self.timeout)
        except pexpect.TIMEOUT:
            raise AssertionError(f'timeout waiting for {pattern!r}; last output:\n'
                                 f'{self.p.before[-2000:]}') from None
        except pexpect.EOF:
            raise AssertionError(f'QEMU exited while waiting for {pattern!r}; output:\n'
                                 f'{self.p.before[-2000:]}') from None
        return self.p.before + (self.p.after if isinstance(self.p.after, str) else '')

    def wait_prompt(self, timeout=None):
        return self.expect(re.escape(PROMPT), timeout)

    def send(self, text):
        self.p.send(text)

    def run(self, command, timeout=None):
        """Types a command, returns its output (without the echo and prompt)."""
        self.p.send(command + '\r')
        self.expect(echo_pattern(command), timeout)
        out = self.expect(re.escape(PROMPT), timeout)
        return re.sub(r'\r+\n', '\n', out[:-len(PROMPT)])

    def interrupt(self, command, started, ended, timeout=30):
        """Runs command, presses Ctrl-C once `started` is seen; returns the
        output up to `ended` and the prompt after it. The next command must
        see neither the ^C nor anything else left over."""
        self.p.send(command + '\r')
        out = self.expect(started, timeout=timeout)
        self.p.send('\x03')
        out += self.expect(r'\^C\r*\n' + ended + r'\r*\n', timeout=timeout)
        out += self.wait_prompt(timeout=timeout)
        self.p.send('echo next\r')
        after = self.expect(r'next\r*\n' + re.escape(PROMPT))
        assert '^C' not in after and 'interrupted' not in after, after
        return re.sub(r'\r+\n', '\n', out)

    def output(self):
        """Everything the guest wrote that the waits so far have read."""
        self.log.flush()
        with open(self.log.name, encoding='utf-8', errors='replace') as f:
            return f.read().split('\n', 1)[1]  # without the command line

    def wait_exit(self, timeout=None):
        """Waits for QEMU to end; returns its exit status."""
        try:
            self.p.expect(pexpect.EOF, timeout=timeout or self.timeout)
        except pexpect.TIMEOUT:
            raise AssertionError('QEMU did not exit; last output:\n' + self.p.before[-2000:]) from None
        self.p.close()
        return self.p.exitstatus if self.p.exitstatus is not None else -(self.p.signalstatus or 1)

    def close(self):
        if self.p.isalive():
            self.p.terminate(force=True)
        self.log.close()

"""A minimal QMP client for system tests: QEMU is started with
`-qmp unix:<path>,server=on,wait=off` (see qmp_args()), the test connects
after the guest has booted and issues commands (input-send-event,
screendump, ...). Every read has a timeout; events that arrive while
waiting for a command's answer are kept in `events`."""
import json
import re
import socket
import time


def qmp_args(path):
    """QEMU arguments for a QMP server on the unix socket `path`."""
    return ['-qmp', f'unix:{path},server=on,wait=off']


class QMP:
    def __init__(self, path, timeout=10):
        self.events = []
        deadline = time.monotonic() + timeout
        while True:  # QEMU creates the socket shortly after it starts
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(timeout)
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise AssertionError(f'no QMP socket at {path}') from None
                time.sleep(0.05)
        self.file = self.sock.makefile('r', encoding='utf-8')
        greeting = self._read()
        assert 'QMP' in greeting, greeting
        self.command('qmp_capabilities')

    def _read(self):
        line = self.file.readline()
        if not line:
            raise AssertionError('QMP connection closed')
        return json.loads(line)

    def command(self, name, /, **arguments):
        """Runs a command; returns its 'return' value, raises on 'error'.
        (`name` is positional only: set_link has an argument of that name.)"""
        msg = {'execute': name}
        if arguments:
            msg['arguments'] = arguments
        self.sock.sendall((json.dumps(msg) + '\n').encode())
        while True:
            reply = self._read()
            if 'event' in reply:
                self.events.append(reply)
                continue
            if 'error' in reply:
                raise AssertionError(f'QMP {name} failed: {reply["error"]}')
            return reply.get('return')

    def wait_event(self, name, timeout=30):
        """Waits up to `timeout` seconds for the event `name` (one that came
        already counts); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e['event'] == name:
                    self.events.remove(e)
                    return e
            left = deadline - time.monotonic()
            self.sock.settimeout(max(left, 0.01))
            try:
                msg = self._read()
            except (socket.timeout, TimeoutError):  # the socket file is unusable after it
                raise AssertionError(f'no QMP event {name} within {timeout} s; '
                                     f'events: {[e["event"] for e in self.events]}') from None
            if 'event' in msg:
                self.events.append(msg)

    def virtio_features(self):
        """What each virtio device negotiated as QEMU saw it
        (x-query-virtio-status guest-features): [(QEMU's device name, e.g.
        'virtio-serial', {'multiport', 'event_idx', ...})], the features
        named as our boot lines name them; bits QEMU cannot name as 'unknown'."""
        found = []
        for dev in self.command('x-query-virtio'):
            guest = self.command('x-query-virtio-status', path=dev['path'])['guest-features']
            words = {re.match(r'VIRTIO_(?:[A-Z]+_)?F_(\w+):', f).group(1).lower()
                     for f in guest.get('dev-features', []) + guest.get('transports', [])}
            if guest.get('unknown-dev-features'):
                words.add('unknown')
            found.append((dev['name'], words))
        return found

    def close(self):
        self.file.close()
        self.sock.close()

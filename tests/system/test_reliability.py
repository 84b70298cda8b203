"""Reliability (docs/reliability.md): UART input that loses nothing, the
watchdogs, virtio device failure recovery through real QEMU."""
import os
import random
import re
import zlib

import pytest
from conftest import BSPS, build


def paste(g, data, chunk=4096):
    """Writes all of data to the guest's console; a full UART (flow control)
    blocks the write until the guest has read."""
    fd = g.p.child_fd
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:chunk])
        view = view[n:]


@pytest.mark.parametrize('bsp', BSPS)
def test_uart_paste_64k_arrives_intact(boot, bsp):
    """64 KiB of random printable text pasted at once into a reader that
    starts late (crc32's pause): the console's input ring holds 1 KiB, so
    this only passes when the UART is held (receive interrupt masked, bytes
    left in its FIFO, QEMU holding the rest) while the ring is full."""
    build(bsp)
    g = boot(bsp)
    rnd = random.Random(21)
    alphabet = bytes(range(0x20, 0x7f))
    data = bytes(rnd.choice(alphabet) for _ in range(64 * 1024))
    g.send('crc32 500\r')
    g.expect(r'crc32 500\r*\n')
    paste(g, data + b'\x04')
    g.expect(r'crc32: (\d+) bytes crc32=([0-9a-f]{8})', timeout=120)
    n, crc = int(g.p.match.group(1)), int(g.p.match.group(2), 16)
    assert (n, crc) == (len(data), zlib.crc32(data)), (n, hex(crc))
    g.wait_prompt()
    assert g.run('echo still here').strip() == 'still here'

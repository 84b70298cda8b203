"""virtio-gpu 2D through a real QEMU device, checked from the host: after
`gpu fill <rrggbb>` and `gpu demo` the host takes a QMP `screendump` (a PPM
of what the device scans out) and compares pixels with what docs/devices.md's
"VirtIO GPU" section documents: every pixel of a fill, the eight bars
(centres and both edge columns, indeed every pixel outside the text box),
and the text box pixel for pixel, rendered here from the driver's own font
table (components/drivers/display/font8x8.cpp). The screen size is the
device's, also with xres/yres set. Both archs, legacy and modern (QEMU 7.2
runs virtio-gpu-device on a legacy virtio-mmio transport too). QEMU runs
with -display none: screendump still renders the scanout's console."""
import os
import re

import pytest
from conftest import (BSPS, PCI_PACKED_CASES, ROOT, VIRTIO_MODES, boot_line, build,
                      check_features, expected_features, ring_layout, virtio_dev, virtio_kw)
from qmp import QMP, qmp_args
from test_smp_net import at_smp4

BARS = ['ffffff', 'ffff00', '00ffff', '00ff00', 'ff00ff', 'ff0000', '0000ff', '000000']
TEXT = 'Tern RTOS virtio-gpu'
BOX_X, BOX_Y, PAD, SCALE = 16, 16, 8, 2
FILLS = ['ff0000', '00ff00', '0000ff', '123456', 'ffffff', '000000']


def arch(bsp):
    return 'riscv' if 'riscv' in bsp else 'aarch64'


def font():
    """The driver's 8x8 glyph table: {char: [8 row bytes]}."""
    src = open(os.path.join(ROOT, 'components/drivers/display/font8x8.cpp')).read()
    rows = re.findall(r'\{((?:0x[0-9A-Fa-f]{2}, ){7}0x[0-9A-Fa-f]{2})\},', src)
    assert len(rows) == 0x7f - 0x20, len(rows)
    return {chr(0x20 + i): [int(b, 16) for b in r.split(', ')] for i, r in enumerate(rows)}


def screendump(qmp, path):
    """(width, height, pixels as bytes RGBRGB...) of the device's screen."""
    if os.path.exists(path):
        os.unlink(path)
    qmp.command('screendump', filename=str(path))
    data = open(path, 'rb').read()
    m = re.match(rb'P6\s+(\d+)\s+(\d+)\s+255\s', data)
    assert m, data[:32]
    w, h = int(m.group(1)), int(m.group(2))
    pixels = data[m.end():]
    assert len(pixels) == w * h * 3
    return w, h, pixels


def px(pixels, w, x, y):
    return pixels[(y * w + x) * 3:(y * w + x) * 3 + 3].hex()


def check_demo(w, h, pixels):
    glyphs = font()
    text_w = len(TEXT) * 8 * SCALE
    box_w, box_h = text_w + 2 * PAD, 8 * SCALE + 2 * PAD
    bar_of = [next(i for i in range(8) if x < (i + 1) * w // 8) for x in range(w)]
    # The bars at documented positions: centre and both edge columns, low on the screen.
    for i, colour in enumerate(BARS):
        x0, x1 = i * w // 8, (i + 1) * w // 8 - 1
        for x in (x0, (x0 + x1) // 2, x1):
            for y in (box_h + BOX_Y, h // 2, h - 1):
                assert px(pixels, w, x, y) == colour, (i, x, y)
    # Every pixel outside the box is its bar's colour.
    row = b''.join(bytes.fromhex(BARS[bar_of[x]]) for x in range(w))
    for y in range(h):
        line = pixels[y * w * 3:(y + 1) * w * 3]
        if BOX_Y <= y < BOX_Y + box_h:
            assert line[:BOX_X * 3] == row[:BOX_X * 3], y
            assert line[(BOX_X + box_w) * 3:] == row[(BOX_X + box_w) * 3:], y
        else:
            assert line == row, y
    # The box: black with the text in white at (24, 24), each glyph pixel 2x2.
    white = 0
    for y in range(BOX_Y, BOX_Y + box_h):
        for x in range(BOX_X, BOX_X + box_w):
            tx, ty = x - BOX_X - PAD, y - BOX_Y - PAD
            on = False
            if 0 <= tx < text_w and 0 <= ty < 8 * SCALE:
                g = glyphs[TEXT[tx // (8 * SCALE)]]
                on = bool(g[ty // SCALE] >> ((tx % (8 * SCALE)) // SCALE) & 1)
            assert px(pixels, w, x, y) == ('ffffff' if on else '000000'), (x, y)
            white += on
    assert white > 100 * SCALE * SCALE  # the text is really there


# 3840x2160: QEMU's EDID then carries the mode in a DisplayID extension (the
# pixel clock does not fit a base-block descriptor); the framebuffer is 32 MiB.
# Over PCI: virtio-gpu-pci, modern-only with the packed ring on riscv64,
# transitional on aarch64.
SCREEN_CASES = [('legacy', None), ('modern', None), ('modern', (640, 480)),
                ('legacy', (800, 600)), ('modern', (3840, 2160))]


def screen_params():
    cases = [(b, m, sz) for b in BSPS for m, sz in SCREEN_CASES]
    cases += [(b, m, None) for b, m in PCI_PACKED_CASES]
    return [pytest.param(b, m, sz, id=f'{arch(b)}-{m}' + (f'-{sz[0]}x{sz[1]}' if sz else ''))
            for b, m, sz in cases]


@pytest.mark.parametrize('bsp,mode,size', screen_params())
def test_gpu_screendump(boot, tmp_path, bsp, mode, size):
    qmp_path = tmp_path / 'qmp'
    device = virtio_dev('gpu', mode) + (f',xres={size[0]},yres={size[1]}' if size else '')
    g = boot(bsp, build(bsp), wait_prompt=False, **virtio_kw(mode),
             extra=['-device', device] + qmp_args(qmp_path))
    log = g.wait_prompt()
    w, h = size or (1280, 800)
    assert re.search(boot_line('virtio-gpu', mode) + rf' (?:irq|msix) \d+ queue 16 ring {ring_layout(mode)} '
                     rf'scanout 0 {w}x{h} edid yes features ', log), log
    info = g.run('gpu info')
    assert f'scanout 0: {w}x{h} format B8G8R8X8' in info, info
    assert f'edid: yes, preferred {w}x{h}' in info, info
    assert f': {VIRTIO_MODES[mode][2]}, scanouts 1' in info, info

    qmp = QMP(qmp_path)
    check_features(log, 'virtio-gpu', mode, expected_features('virtio-gpu', mode), qmp=qmp)
    try:
        dump = tmp_path / 'screen.ppm'
        # Right after boot the screen is black (the driver cleared and flushed it).
        sw, sh, pixels = screendump(qmp, dump)
        assert (sw, sh) == (w, h)
        assert pixels == bytes(w * h * 3)
        for colour in FILLS if size is None else FILLS[-3:]:  # fewer on the extra sizes
            assert f'gpu: filled {w}x{h} with {colour}' in g.run(f'gpu fill {colour}')
            sw, sh, pixels = screendump(qmp, dump)
            assert (sw, sh) == (w, h)
            assert pixels == bytes.fromhex(colour) * (w * h), colour
        out = g.run('gpu demo')
        assert f'gpu: demo {w}x{h} bars 8 text box 16,16 336x32 text "{TEXT}" at 24,24 scale 2' in out
        sw, sh, pixels = screendump(qmp, dump)
        assert (sw, sh) == (w, h)
        check_demo(w, h, pixels)
    finally:
        qmp.close()
    assert 'usage: gpu' in g.run('gpu fill red')
    assert 'flushes' in g.run('gpu info')


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_gpu_screendump_smp4(boot, tmp_path, bsp):
    """The same at -smp 4: the requests from the shell's CPU, the completion
    interrupt on whichever CPU its line went to (docs/smp.md, "Driver locks")."""
    test_gpu_screendump(at_smp4(boot), tmp_path, bsp, 'modern', (640, 480))


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_gpu_mode_larger_than_memory(boot, bsp):
    """8000x6000 needs a 187500 KiB framebuffer, more than the 128 MiB guest
    has: the device is refused with the reason, and the shell goes on."""
    g = boot(bsp, build(bsp), virtio='modern', wait_prompt=False,
             extra=['-device', 'virtio-gpu-device,xres=8000,yres=6000'])
    log = g.wait_prompt()
    assert re.search(r'virtio-gpu@0x[0-9a-f]+: out of memory for a 8000x6000 framebuffer '
                     r'\(187500 KiB\)', log), log
    assert 'virtio-gpu: mmio' not in log
    assert 'gpu: no display' in g.run('gpu info')


@pytest.mark.parametrize('bsp', BSPS, ids=arch)
def test_gpu_absent(boot, bsp):
    """Without the device: no display, the commands say so."""
    g = boot(bsp, build(bsp))
    assert 'gpu: no display' in g.run('gpu info')
    assert 'gpu: no display' in g.run('gpu demo')


def arrow():
    """The cursor demo's arrow rows ('X' black, '.' white, ' ' clear)."""
    src = open(os.path.join(ROOT, 'examples/cursor/cursor.cpp')).read()
    body = src[src.index('kArrow[kH] = {'):]
    rows = re.findall(r'^\s+"([X. ]+)",$', body[:body.index('};')], re.M)
    assert len(rows) == 16 and all(len(r) == 12 for r in rows), rows
    return rows


def expected_screen(w, h, background, paints, cursor):
    img = bytearray(bytes.fromhex(background) * (w * h))

    def put(x, y, colour):
        if x < w and y < h:
            img[(y * w + x) * 3:(y * w + x) * 3 + 3] = bytes.fromhex(colour)
    for px_, py_ in paints:  # 4x4 red squares, top-left at the hotspot
        for j in range(4):
            for i in range(4):
                put(px_ + i, py_ + j, 'ff0000')
    cx, cy = cursor
    for j, row in enumerate(arrow()):
        for i, c in enumerate(row):
            if c != ' ':
                put(cx + i, cy + j, '000000' if c == 'X' else 'ffffff')
    return bytes(img)


@pytest.mark.parametrize('bsp,mode', [(BSPS[0], 'modern'), (BSPS[1], 'legacy')],
                         ids=['riscv-modern', 'aarch64-legacy'])
def test_tablet_cursor_example(boot, tmp_path, bsp, mode):
    """examples/cursor: QMP tablet positions and the left button move the
    arrow and paint; the screendump equals the expected picture exactly
    (background put back where the arrow was)."""
    w, h, background = 640, 480, '204060'
    qmp_path = tmp_path / 'qmp'
    out = build(bsp, f'cursor-{arch(bsp)}', config=['examples/cursor/cursor.conf'])
    g = boot(bsp, out, virtio=mode, extra=['-device', f'virtio-gpu-device,xres={w},yres={h}',
                                           '-device', 'virtio-tablet-device'] + qmp_args(qmp_path))
    assert f'gpu: filled {w}x{h} with {background}' in g.run(f'gpu fill {background}')

    def pos(raw, size):  # the axis range 0..0x7fff onto 0..size-1
        return raw * (size - 1) // 0x7fff

    def send(*events):
        qmp.command('input-send-event', events=list(events))

    def absolute(axis, value):
        return {'type': 'abs', 'data': {'axis': axis, 'value': value}}

    def button(down):
        return {'type': 'btn', 'data': {'down': down, 'button': 'left'}}

    qmp = QMP(qmp_path)
    try:
        dump = tmp_path / 'screen.ppm'
        x, y = pos(16384, w), pos(16384, h)
        send(absolute('x', 16384), absolute('y', 16384))
        g.expect(rf'cursor: {x},{y}\r*\n')
        assert screendump(qmp, dump)[2] == expected_screen(w, h, background, [], (x, y))
        send(button(True))
        g.expect(rf'cursor: {x},{y} paint\r*\n')
        x2 = pos(20000, w)
        send(absolute('x', 20000))
        g.expect(rf'cursor: {x2},{y} paint\r*\n')
        x3, y3 = pos(30000, w), pos(1000, h)
        send(button(False), absolute('x', 30000), absolute('y', 1000))
        g.expect(rf'cursor: {x3},{y3}\r*\n')
        sw, sh, pixels = screendump(qmp, dump)
        assert (sw, sh) == (w, h)
        assert pixels == expected_screen(w, h, background, [(x, y), (x2, y)], (x3, y3))
        # At the bottom-right corner the arrow is clipped.
        send(absolute('x', 0x7fff), absolute('y', 0x7fff))
        g.expect(rf'cursor: {w - 1},{h - 1}\r*\n')
        assert screendump(qmp, dump)[2] == expected_screen(w, h, background, [(x, y), (x2, y)],
                                                          (w - 1, h - 1))
    finally:
        qmp.close()

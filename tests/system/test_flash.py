"""Boot from a QEMU pflash image: `scons BSP=<bsp> flash` writes
<build>/flash.img (loader + kernel, tools/flash_image.py), `tools/run.py
--flash` boots it with no -kernel and reaches the same shell as -kernel.
An update in slot B is tried three times and confirmed by its kernel, or
given up for slot A; the boot state on pflash unit 1 is read from the host."""
import hashlib
import os
import subprocess
import sys

import pytest
from conftest import BSPS, ROOT, build

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import flash_image  # noqa: E402

UNIT = {'qemu-virt64-riscv': 32 << 20, 'qemu-virt64-aarch64': 64 << 20}
LOAD = {'qemu-virt64-riscv': 0x80200000, 'qemu-virt64-aarch64': 0x40200000}


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.mark.parametrize('bsp', BSPS)
def test_boot_from_flash(boot, bsp):
    out = build(bsp, targets=['flash'])
    img = os.path.join(out, 'flash.img')
    # The file is what scons wrote: the loader, then the header and rtos.bin.
    with open(img, 'rb') as f:
        image = f.read()
    assert len(image) == UNIT[bsp]
    header, kernel = flash_image.parse(image)
    with open(os.path.join(out, 'rtos.bin'), 'rb') as f:
        rtos_bin = f.read()
    assert kernel[:len(rtos_bin)] == rtos_bin and not kernel[len(rtos_bin):].strip(b'\0')
    assert header['load'] == LOAD[bsp]
    with open(os.path.join(out, 'flash_loader.bin'), 'rb') as f:
        assert image.startswith(f.read())
    before = digest(img)

    argv = subprocess.run([sys.executable, 'tools/run.py', '--build', out, '--flash', '--dry-run'],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert '-kernel' not in argv and f'if=pflash,unit=0,format=raw,readonly=on,file={img}' in argv

    g = boot(bsp, out, flash=True, wait_prompt=False)
    arch = 'riscv64' if 'riscv' in bsp else 'aarch64'
    g.expect('flash: slot A')  # the loader's line: no boot state, slot A
    g.expect(rf'Tern \d+\.\d+\.\d+ \({bsp}, {arch}\) booting')
    # The device tree reached the kernel: riscv64 in a1 from OpenSBI, aarch64
    # at the start of RAM, handed over in x0 by the loader.
    g.expect(r'board: device tree at 0x[0-9a-f]+')
    g.wait_prompt()
    assert f'({bsp}, {arch})' in g.run('version')
    g.send('poweroff\r')
    g.expect('powering off')
    assert g.wait_exit() == 0  # riscv64: SBI SRST, so OpenSBI is below the kernel
    assert digest(img) == before


@pytest.mark.parametrize('opts', ['virtualization=on', 'secure=on'])
def test_boot_from_flash_aarch64_el2_el3(boot, opts):
    bsp = 'qemu-virt64-aarch64'
    out = build(bsp, targets=['flash'])
    g = boot(bsp, out, flash=True, machine_opts=opts)
    assert f'({bsp}, aarch64)' in g.run('version')


def test_flash_image_refuses_a_broken_image(tmp_path):
    loader, kernel = b'\x13' * 64, bytes(range(256)) * 10
    image = bytearray(flash_image.build(loader, kernel, 0x80200000, 1 << 20))
    header, k = flash_image.parse(bytes(image))
    assert header['size'] == len(k) == 2560 and header['offset'] == flash_image.KERNEL_OFFSET
    image[flash_image.KERNEL_OFFSET + 5] ^= 1
    with pytest.raises(ValueError, match='CRC-32'):
        flash_image.parse(bytes(image))
    path = tmp_path / 'f.img'
    path.write_bytes(b'\xff' * (1 << 20))
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools/flash_image.py'), 'info',
                        str(path)], capture_output=True, text=True)
    # Text, not a Python bytes literal.
    assert r.returncode == 1 and r.stdout == (f'{path}: no image header at 0x1000 (found erased '
                                              'flash (ff bytes), expected "TernImg")\n'), r.stdout
    path.write_bytes(flash_image.build(loader, kernel, 0x80200000, 1 << 20))
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools/flash_image.py'), 'info',
                        str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and "b'" not in r.stdout, r.stdout
    assert r.stdout.endswith('slot B: none (no image header at 0x80000 (found erased flash (ff '
                             'bytes), expected "TernImg"))\n'), r.stdout
    with pytest.raises(ValueError, match='does not fit'):
        flash_image.build(loader, kernel, 0x80200000, 8192)
    # Slot B: at half the flash, checked the same way.
    image = flash_image.build(loader, kernel, 0x80200000, 1 << 20, slot_b=kernel[:32])
    hb, kb = flash_image.parse_slot(image, 1 << 19)
    assert kb == kernel[:32] and hb['offset'] == (1 << 19) + 0x1000
    with pytest.raises(ValueError, match=r'no boot state \(found "TernImg", expected '
                                         r'"TernBst1"\)'):
        flash_image.parse_state(flash_image.MAGIC + b'\xff' * 64)
    assert flash_image.parse_state(flash_image.new_state(4096)) == {
        'tries': 0, 'fallback': False, 'confirmed': False}


HANG = {'qemu-virt64-riscv': b'\x6f\x00\x00\x00',      # j .
        'qemu-virt64-aarch64': b'\x00\x00\x00\x14'}    # b .


@pytest.mark.parametrize('bsp', BSPS)
def test_slot_b_falls_back_after_three_failed_boots_or_is_confirmed(boot, tmp_path, bsp):
    out = build(bsp, targets=['flash'])
    arch = 'riscv' if 'riscv' in bsp else 'aarch64'
    # A build that says so at boot, to tell slot B from slot A.
    update = build(bsp, f'{arch}-blk-persist', ('examples/blk/blk.conf',))
    img, state = tmp_path / 'flash.img', tmp_path / 'state.img'
    img.write_bytes(open(os.path.join(out, 'flash.img'), 'rb').read())

    def slot_b(kernel_bytes):
        (tmp_path / 'b.bin').write_bytes(kernel_bytes)
        tool = [sys.executable, os.path.join(ROOT, 'tools', 'flash_image.py')]
        subprocess.run(tool + ['slot-b', str(img), str(tmp_path / 'b.bin')], check=True)
        state.write_bytes(flash_image.new_state(UNIT[bsp]))

    def start():
        return boot(bsp, out, flash=True, flash_image=str(img), flash_state=str(state),
                    wait_prompt=False)

    # An update that hangs: three tries (each one a power cut), then slot A.
    slot_b(HANG[bsp])
    for n in (1, 2, 3):
        g = start()
        g.expect(rf'flash: slot B, try {n} of 3')
        g.close()
        assert flash_image.parse_state(state.read_bytes())['tries'] == n
    g = start()
    g.expect('flash: slot B failed 3 tries, falling back to slot A')
    g.expect('flash: running slot A; slot B failed 3 tries')
    g.wait_prompt()
    g.close()
    assert flash_image.parse_state(state.read_bytes()) == {
        'tries': 3, 'fallback': True, 'confirmed': False}

    # An update that works: its kernel confirms it on the first try.
    slot_b(open(os.path.join(update, 'rtos.bin'), 'rb').read())
    g = start()
    g.expect('flash: slot B, try 1 of 3')
    g.expect('blk-persist: no block device')  # slot B's kernel runs
    g.expect('flash: slot B confirmed after try 1')
    g.wait_prompt()
    g.send('poweroff\r')
    assert g.wait_exit() == 0
    assert flash_image.parse_state(state.read_bytes()) == {
        'tries': 1, 'fallback': False, 'confirmed': True}
    g = start()
    g.expect(r'flash: slot B \(confirmed\)')
    g.expect('blk-persist: no block device')
    g.expect(r'flash: running slot B \(confirmed\)')
    g.wait_prompt()
    assert flash_image.parse_state(state.read_bytes())['tries'] == 1

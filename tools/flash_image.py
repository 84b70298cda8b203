#!/usr/bin/python3
"""Writes and inspects Tern's QEMU pflash images (flash.img) and boot states.

  tools/flash_image.py write --loader L.bin --kernel rtos.bin --load ADDR --size 32M OUT
  tools/flash_image.py slot-b IMAGE rtos.bin      put an update into slot B of IMAGE
  tools/flash_image.py info IMAGE                 check IMAGE, print both slots
  tools/flash_image.py state FILE --size 32M      a fresh boot state for pflash unit 1
  tools/flash_image.py state-info FILE            print a boot state

Layout (bsp/qemu-virt/flash/layout.hpp, which the loader and the kernel
read): 0x0 the loader (at most 4 KiB); 0x1000 slot A's header, little-endian:
magic "TernImg\\0", kernel size (u64, a multiple of 16), CRC-32 of the kernel
(u32, zlib.crc32), version (u32, 1), kernel offset (u64), load address (u64),
flash size (u64); the kernel 0x1000 after its header. Slot B (an update,
optional) has the same at half the flash. The rest is erased flash (0xff), up
to the size of QEMU's pflash unit (riscv64 virt: 32 MiB, aarch64 virt: 64 MiB;
QEMU refuses another size).

The boot state (pflash unit 1, same size) starts with magic "TernBst1", then
32-bit flags, erased 0xffffffff or set 0: slot B's tries 1..3 (the loader
sets one per boot of slot B), fallback (the loader went back to slot A after
3 unconfirmed tries), confirmed (slot B's kernel came up). `slot-b` does not
touch it: give a new update a fresh state with `state`.

`scons BSP=<bsp> flash` runs `write`; `info` and `state-info` exit 1 on an
invalid image or state.
"""
import argparse
import struct
import sys
import zlib

SLOT_A = 0x1000
KERNEL_AFTER_HEADER = 0x1000
MAGIC = b'TernImg\0'
HEADER = struct.Struct('<8sQIIQQQ')
VERSION = 1
KERNEL_OFFSET = SLOT_A + KERNEL_AFTER_HEADER
STATE_MAGIC = b'TernBst1'
STATE = struct.Struct('<8s5I')
MAX_TRIES = 3


def parse_size(text):
    units = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
    text = text.strip().upper()
    if text and text[-1] in units:
        return int(text[:-1], 0) * units[text[-1]]
    return int(text, 0)


def put_slot(image, header_at, kernel, load_addr, limit):
    """Writes a slot's header and kernel into image (a bytearray)."""
    kernel = kernel + b'\0' * (-len(kernel) % 16)
    offset = header_at + KERNEL_AFTER_HEADER
    if offset + len(kernel) > limit:
        raise ValueError(f'kernel ({len(kernel)} bytes) does not fit its slot '
                         f'({limit - offset} bytes)')
    image[header_at:offset] = b'\xff' * KERNEL_AFTER_HEADER
    image[header_at:header_at + HEADER.size] = HEADER.pack(
        MAGIC, len(kernel), zlib.crc32(kernel), VERSION, offset, load_addr, len(image))
    image[offset:limit] = kernel + b'\xff' * (limit - offset - len(kernel))


def build(loader, kernel, load_addr, size, slot_b=None):
    """The image bytes; raises ValueError when the parts do not fit."""
    if len(loader) > SLOT_A:
        raise ValueError(f'loader is {len(loader)} bytes, more than {SLOT_A}')
    image = bytearray(b'\xff' * size)
    image[:len(loader)] = loader
    put_slot(image, SLOT_A, kernel, load_addr, size // 2)
    if slot_b is not None:
        put_slot(image, size // 2, slot_b, load_addr, size)
    return bytes(image)


def shown_magic(found, expected):
    """Magic bytes for a message: as text when printable, else hex (erased
    flash reads as 0xff)."""
    text = found.rstrip(b'\0')
    if found and all(b == 0xff for b in found):
        what = 'erased flash (ff bytes)'
    elif text and text.isascii() and text.decode().isprintable():
        what = '"' + text.decode() + '"'
    else:
        what = found.hex(' ')
    return f'found {what}, expected "' + expected.rstrip(b'\0').decode() + '"'


def parse_slot(image, at):
    """(header dict, kernel bytes) of the slot whose header is at `at`;
    raises ValueError if it is not valid."""
    if len(image) < at + HEADER.size:
        raise ValueError(f'{len(image)} bytes: too small for a flash image')
    magic, size, crc, version, offset, load, flash_size = HEADER.unpack_from(image, at)
    if magic != MAGIC:
        raise ValueError(f'no image header at {at:#x} ({shown_magic(magic, MAGIC)})')
    if version != VERSION:
        raise ValueError(f'header version {version}, expected {VERSION}')
    if flash_size != len(image):
        raise ValueError(f'header says a {flash_size}-byte flash, the image has {len(image)}')
    if offset < at + HEADER.size or offset + size > len(image):
        raise ValueError(f'kernel at {offset:#x}+{size:#x} lies outside the {len(image)}-byte image')
    kernel = image[offset:offset + size]
    if zlib.crc32(kernel) != crc:
        raise ValueError(f'kernel CRC-32 {zlib.crc32(kernel):08x}, header says {crc:08x}')
    return {'size': size, 'crc32': crc, 'offset': offset, 'load': load,
            'flash_size': flash_size}, kernel


def parse(image):
    """Slot A: (header dict, kernel bytes); raises ValueError if invalid."""
    return parse_slot(image, SLOT_A)


def new_state(size):
    return STATE_MAGIC + b'\xff' * (size - len(STATE_MAGIC))


def parse_state(data):
    """The boot state's flags as a dict; raises ValueError without the magic."""
    magic, *flags = STATE.unpack_from(data)
    if magic != STATE_MAGIC:
        raise ValueError(f'no boot state ({shown_magic(magic, STATE_MAGIC)})')
    set_ = [f == 0 for f in flags]
    return {'tries': sum(set_[:MAX_TRIES]), 'fallback': set_[MAX_TRIES],
            'confirmed': set_[MAX_TRIES + 1]}


def describe(h):
    return (f'kernel {h["size"]} bytes at offset {h["offset"]:#x}, load {h["load"]:#x}, '
            f'crc32={h["crc32"]:08x}')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 2)[2])
    sub = p.add_subparsers(dest='cmd', required=True)
    w = sub.add_parser('write', help='write an image')
    w.add_argument('--loader', required=True)
    w.add_argument('--kernel', required=True)
    w.add_argument('--load', required=True, type=lambda s: int(s, 0), help='load address')
    w.add_argument('--size', required=True, type=parse_size, help='pflash unit size, e.g. 32M')
    w.add_argument('out')
    b = sub.add_parser('slot-b', help='put a kernel into slot B of an image')
    b.add_argument('image')
    b.add_argument('kernel')
    i = sub.add_parser('info', help='check an image and print its slots')
    i.add_argument('image')
    s = sub.add_parser('state', help='write a fresh boot state (pflash unit 1)')
    s.add_argument('file')
    s.add_argument('--size', required=True, type=parse_size)
    si = sub.add_parser('state-info', help='print a boot state')
    si.add_argument('file')
    a = p.parse_args()

    def read(path):
        with open(path, 'rb') as f:
            return f.read()

    def fail(msg):
        print(msg)
        return 1

    try:
        if a.cmd == 'write':
            image = build(read(a.loader), read(a.kernel), a.load, a.size)
            with open(a.out, 'wb') as f:
                f.write(image)
        elif a.cmd == 'slot-b':
            image = bytearray(read(a.image))
            h, _ = parse(bytes(image))
            put_slot(image, len(image) // 2, read(a.kernel), h['load'], len(image))
            with open(a.image, 'wb') as f:
                f.write(image)
        elif a.cmd == 'state':
            with open(a.file, 'wb') as f:
                f.write(new_state(a.size))
    except ValueError as e:
        sys.exit(f'flash_image: {e}')
    if a.cmd == 'info':
        image = read(a.image)
        try:
            h, _ = parse(image)
        except ValueError as e:
            return fail(f'{a.image}: {e}')
        print(f'{a.image}: flash {h["flash_size"] >> 20} MiB')
        print(f'slot A: {describe(h)}')
        try:
            hb, _ = parse_slot(image, len(image) // 2)
            print(f'slot B: {describe(hb)}')
        except ValueError as e:
            print(f'slot B: none ({e})')
    elif a.cmd == 'state-info':
        try:
            st = parse_state(read(a.file))
        except ValueError as e:
            return fail(f'{a.file}: {e}')
        print(f'{a.file}: slot B tries {st["tries"]} of {MAX_TRIES}, '
              f'fallback {"yes" if st["fallback"] else "no"}, '
              f'confirmed {"yes" if st["confirmed"] else "no"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

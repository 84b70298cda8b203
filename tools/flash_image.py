#!/usr/bin/python3
"""Writes and inspects Tern's QEMU pflash images (flash.img).

  tools/flash_image.py write --loader loader.bin --kernel rtos.bin --load ADDR --size 32M OUT
  tools/flash_image.py info flash.img

Layout (the loaders rtos/arch/<arch>/flash_loader.S read it):

  0x0000  the loader (at most 4 KiB): the CPU or the firmware jumps here
  0x1000  header, little-endian: magic "TernImg\\0", kernel size (u64, a
          multiple of 16), CRC-32 of the kernel bytes (u32, as zlib.crc32),
          header version (u32, 1), kernel offset (u64), load address (u64)
  0x2000  the kernel (rtos.bin), copied by the loader to the load address

The rest, up to the size of QEMU's pflash unit (riscv64 virt: 32 MiB,
aarch64 virt: 64 MiB; QEMU refuses another size), is erased flash (0xff).
`scons BSP=<bsp> flash` runs `write`; `info` checks an image and exits 1
when it is not a valid one.
"""
import argparse
import struct
import sys
import zlib

HEADER_OFFSET = 0x1000
KERNEL_OFFSET = 0x2000
MAGIC = b'TernImg\0'
HEADER = struct.Struct('<8sQIIQQ')
VERSION = 1


def parse_size(text):
    units = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
    text = text.strip().upper()
    if text and text[-1] in units:
        return int(text[:-1], 0) * units[text[-1]]
    return int(text, 0)


def build(loader, kernel, load_addr, size):
    """The image bytes; raises ValueError when the parts do not fit."""
    if len(loader) > HEADER_OFFSET:
        raise ValueError(f'loader is {len(loader)} bytes, more than {HEADER_OFFSET}')
    kernel = kernel + b'\0' * (-len(kernel) % 16)
    if KERNEL_OFFSET + len(kernel) > size:
        raise ValueError(f'kernel ({len(kernel)} bytes) does not fit a {size}-byte flash')
    header = HEADER.pack(MAGIC, len(kernel), zlib.crc32(kernel), VERSION, KERNEL_OFFSET,
                         load_addr)
    image = bytearray(b'\xff' * size)
    image[:len(loader)] = loader
    image[HEADER_OFFSET:HEADER_OFFSET + HEADER.size] = header
    image[KERNEL_OFFSET:KERNEL_OFFSET + len(kernel)] = kernel
    return bytes(image)


def parse(image):
    """(header dict, kernel bytes) of an image; raises ValueError if invalid."""
    if len(image) < KERNEL_OFFSET:
        raise ValueError(f'{len(image)} bytes: too small for a flash image')
    magic, size, crc, version, offset, load = HEADER.unpack_from(image, HEADER_OFFSET)
    if magic != MAGIC:
        raise ValueError(f'no image header at {HEADER_OFFSET:#x} (magic {magic!r})')
    if version != VERSION:
        raise ValueError(f'header version {version}, expected {VERSION}')
    if offset < HEADER_OFFSET + HEADER.size or offset + size > len(image):
        raise ValueError(f'kernel at {offset:#x}+{size:#x} lies outside the {len(image)}-byte image')
    kernel = image[offset:offset + size]
    if zlib.crc32(kernel) != crc:
        raise ValueError(f'kernel CRC-32 {zlib.crc32(kernel):08x}, header says {crc:08x}')
    return {'size': size, 'crc32': crc, 'offset': offset, 'load': load,
            'flash_size': len(image)}, kernel


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
    i = sub.add_parser('info', help='check an image and print its header')
    i.add_argument('image')
    a = p.parse_args()
    if a.cmd == 'write':
        with open(a.loader, 'rb') as f:
            loader = f.read()
        with open(a.kernel, 'rb') as f:
            kernel = f.read()
        try:
            image = build(loader, kernel, a.load, a.size)
        except ValueError as e:
            sys.exit(f'flash_image: {e}')
        with open(a.out, 'wb') as f:
            f.write(image)
        return 0
    with open(a.image, 'rb') as f:
        image = f.read()
    try:
        h, _ = parse(image)
    except ValueError as e:
        print(f'{a.image}: {e}')
        return 1
    print(f'{a.image}: flash {h["flash_size"] >> 20} MiB, kernel {h["size"]} bytes at '
          f'offset {h["offset"]:#x}, load {h["load"]:#x}, crc32={h["crc32"]:08x}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

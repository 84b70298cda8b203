"""Hostile traffic for the system tests (tests/system/test_hostile.py):
Ethernet frames made to be wrong in every way a network stack parses, from a
seeded random generator, so a failure replays."""
import random
import struct

GUEST_MAC = bytes.fromhex('52540000000a')
PEER_MAC = bytes.fromhex('525400000099')
BROADCAST = b'\xff' * 6
GUEST_IP = bytes([10, 0, 3, 1])
PEER_IP = bytes([10, 0, 3, 2])


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Frames:
    """frame() returns the next hostile Ethernet frame (bytes); `kinds`
    counts what was made."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.kinds = {}

    def frame(self):
        kind, make = self.r.choices(
            [('random', self.random_bytes), ('runt', self.runt), ('ethertype', self.ethertype),
             ('arp', self.arp), ('ipv4', self.ipv4), ('udp', self.udp), ('tcp', self.tcp),
             ('icmp', self.icmp), ('fragment', self.fragment), ('vlan', self.vlan),
             ('oversized', self.oversized)],
            weights=[8, 3, 4, 8, 10, 14, 18, 6, 10, 3, 3])[0]
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return make()

    # ---- helpers ----
    def rb(self, n):
        return self.r.randbytes(n)

    def eth(self, ethertype, payload, dst=None):
        dst = dst or self.r.choice([GUEST_MAC, GUEST_MAC, BROADCAST, self.rb(6)])
        return dst + PEER_MAC + struct.pack('!H', ethertype) + payload

    def src_ip(self):
        # Never one of the user network's (10.0.2.0/24): poisoning the ARP
        # entry of the gateway the TCP echo goes through is another test.
        return self.r.choice([PEER_IP, bytes([10, 0, 3, self.r.randrange(2, 255)]), self.rb(4),
                              b'\0\0\0\0', b'\xff\xff\xff\xff', bytes([127, 0, 0, 1]),
                              bytes([224, 0, 0, 1])])

    def dst_ip(self):
        return self.r.choice([GUEST_IP, GUEST_IP, GUEST_IP, b'\xff\xff\xff\xff',
                              bytes([10, 0, 3, 255]), self.rb(4)])

    def ip_header(self, proto, payload_len, src=None, dst=None):
        """A mostly plausible IPv4 header, each field sometimes wrong."""
        r = self.r
        options = self.rb(r.choice([0, 0, 0, 4, 8, 40])) if r.random() < 0.2 else b''
        ihl = 5 + len(options) // 4
        if r.random() < 0.1:
            ihl = r.randrange(16)
        total = 20 + len(options) + payload_len
        if r.random() < 0.15:
            total = r.choice([0, 1, 19, 20, total - 1, total + 1, total + 500, 0xffff,
                              r.randrange(0x10000)])
        version = 4 if r.random() < 0.95 else r.randrange(16)
        flags_frag = 0
        if r.random() < 0.1:
            flags_frag = r.randrange(0x10000)
        ttl = r.choice([64, 64, 1, 0, 255])
        hdr = struct.pack('!BBHHHBBH4s4s', version << 4 | (ihl & 15), r.randrange(256) if r.random() < 0.1 else 0,
                          total & 0xffff, r.randrange(0x10000), flags_frag, ttl, proto, 0,
                          src or self.src_ip(), dst or self.dst_ip()) + options
        csum = checksum(hdr) if r.random() < 0.8 else r.randrange(0x10000)
        return hdr[:10] + struct.pack('!H', csum) + hdr[12:]

    def l4_checksum(self, proto, src, dst, segment):
        pseudo = src + dst + struct.pack('!BBH', 0, proto, len(segment))
        return checksum(pseudo + segment)

    def truncate(self, frame):
        # Never to nothing: QEMU's dgram back-end takes an empty datagram for
        # the end of the connection and stops reading the socket.
        return frame[:self.r.randrange(1, len(frame))] if self.r.random() < 0.1 else frame

    # ---- kinds ----
    def random_bytes(self):
        return self.rb(self.r.randrange(1, 1600))

    def runt(self):
        return self.rb(self.r.randrange(1, 14))

    def oversized(self):
        # Past the MTU and past a receive buffer (1536 bytes of frame room).
        ip = self.ip_header(17, 3000)
        return self.eth(0x0800, ip + self.rb(self.r.choice([1600, 3000, 9000, 20000])))

    def ethertype(self):
        t = self.r.choice([0x86dd, 0x8035, 0x88cc, 0x0000, 0x05dc, 0xffff, self.r.randrange(0x10000)])
        return self.eth(t, self.rb(self.r.randrange(0, 200)))

    def vlan(self):
        inner = self.ip_header(17, 8) + self.rb(8)
        tags = b''.join(struct.pack('!HH', 0x8100, self.r.randrange(0x10000))
                        for _ in range(self.r.randrange(1, 4)))
        return self.truncate(self.eth(0x8100, tags[2:] + struct.pack('!H', 0x0800) + inner))

    def arp(self):
        r = self.r
        htype = 1 if r.random() < 0.8 else r.randrange(0x10000)
        ptype = 0x0800 if r.random() < 0.8 else r.randrange(0x10000)
        hlen = 6 if r.random() < 0.8 else r.randrange(256)
        plen = 4 if r.random() < 0.8 else r.randrange(256)
        op = r.choice([1, 2, 0, 3, r.randrange(0x10000)])
        body = struct.pack('!HHBBH', htype, ptype, hlen, plen, op) + PEER_MAC + self.src_ip() + \
            r.choice([b'\0' * 6, GUEST_MAC, BROADCAST]) + r.choice([GUEST_IP, self.rb(4)])
        return self.truncate(self.eth(0x0806, body, dst=r.choice([BROADCAST, GUEST_MAC])))

    def ipv4(self):
        proto = self.r.choice([0, 2, 4, 41, 47, 50, 89, 255, self.r.randrange(256)])
        payload = self.rb(self.r.randrange(0, 300))
        return self.truncate(self.eth(0x0800, self.ip_header(proto, len(payload)) + payload))

    def udp(self):
        r = self.r
        src, dst = self.src_ip(), self.dst_ip()
        payload = self.rb(r.randrange(0, 600))
        dport = r.choice([7, 7, 68, 67, 9, 53, 80, r.randrange(0x10000)])
        length = 8 + len(payload)
        if r.random() < 0.2:
            length = r.choice([0, 1, 7, 8, length - 1, length + 1, 0xffff, r.randrange(0x10000)])
        seg = struct.pack('!HHHH', r.choice([7, 67, 68, r.randrange(0x10000)]), dport,
                          length & 0xffff, 0) + payload
        csum = r.choice([self.l4_checksum(17, src, dst, seg), 0, r.randrange(0x10000)])
        seg = seg[:6] + struct.pack('!H', csum) + seg[8:]
        if r.random() < 0.1:
            seg = seg[:r.randrange(8)]  # a truncated UDP header (the IP header stays)
        return self.eth(0x0800, self.ip_header(17, len(seg), src, dst) + seg)

    def tcp_options(self):
        r = self.r
        opts = b''
        for _ in range(r.randrange(0, 5)):
            kind = r.choice([0, 1, 2, 3, 4, 5, 8, 30, r.randrange(256)])
            if kind in (0, 1):
                opts += bytes([kind])
                continue
            length = r.choice([{2: 4, 3: 3, 4: 2, 5: 10, 8: 10}.get(kind, 2), 0, 1, 2, 40,
                               r.randrange(256)])
            opts += bytes([kind, length]) + self.rb(max(0, min(length, 40) - 2))
        return opts[:40] + b'\0' * (-len(opts[:40]) % 4)

    def tcp(self):
        r = self.r
        src, dst = self.src_ip(), self.dst_ip()
        opts = self.tcp_options()
        offset = 5 + len(opts) // 4
        if r.random() < 0.15:
            offset = r.randrange(16)
        flags = r.choice([0x02, 0x12, 0x10, 0x18, 0x04, 0x11, 0x01, 0x3f, 0x00, r.randrange(0x200)])
        payload = self.rb(r.choice([0, 0, r.randrange(1, 1400)]))
        seg = struct.pack('!HHIIHHHH', r.randrange(1024, 0x10000), r.choice([7, 7, 9, 80, r.randrange(0x10000)]),
                          r.randrange(1 << 32), r.randrange(1 << 32),
                          (offset & 15) << 12 | flags, r.choice([0, 1, 65535, r.randrange(0x10000)]),
                          0, r.choice([0, r.randrange(0x10000)])) + opts + payload
        csum = self.l4_checksum(6, src, dst, seg) if r.random() < 0.8 else r.randrange(0x10000)
        seg = seg[:16] + struct.pack('!H', csum) + seg[18:]
        if r.random() < 0.1:
            seg = seg[:r.randrange(20)]  # a truncated TCP header
        return self.eth(0x0800, self.ip_header(6, len(seg), src, dst) + seg)

    def icmp(self):
        r = self.r
        body = struct.pack('!BBHI', r.choice([8, 0, 3, 5, 11, 13, 17, r.randrange(256)]),
                           r.randrange(16), 0, r.randrange(1 << 32)) + self.rb(r.randrange(0, 1400))
        if r.random() < 0.8:
            body = body[:2] + struct.pack('!H', checksum(body)) + body[4:]
        if r.random() < 0.1:
            body = body[:r.randrange(8)]
        return self.eth(0x0800, self.ip_header(1, len(body)) + body)

    def fragment(self):
        """One fragment of a datagram: any offset (past 64 KiB too), More
        Fragments set or not, any size, overlapping its neighbours."""
        r = self.r
        payload = self.rb(r.choice([8, 16, 24, 512, 1400]))
        offset = r.choice([0, 1, 2, 3, 185, 8000, 8191, r.randrange(8192)])
        more = r.random() < 0.7
        ip = bytearray(self.ip_header(r.choice([17, 6, 1]), len(payload), src=PEER_IP, dst=GUEST_IP))
        struct.pack_into('!HH', ip, 4, r.choice([1, 2, 3]), (0x2000 if more else 0) | offset)
        struct.pack_into('!H', ip, 2, 20 + len(payload))
        struct.pack_into('!H', ip, 10, 0)
        struct.pack_into('!H', ip, 10, checksum(bytes(ip[:20])))
        return self.eth(0x0800, bytes(ip) + payload, dst=GUEST_MAC)

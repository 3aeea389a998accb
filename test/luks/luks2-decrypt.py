#!/usr/bin/python3
"""An independent LUKS2 payload decryptor for cryptvisor's tests (python3-cryptography).

Usage: luks2-decrypt.py IMAGE VOLUME_KEY_FILE OUTPUT

Parses the primary LUKS2 header itself (binary header and JSON area, per the LUKS2 On-Disk Format
Specification), checks the volume key against the pbkdf2 digest of segment 0, then decrypts the
whole payload of segment 0 (aes-xts-plain64) into OUTPUT. The IV of each encryption sector is
iv_tweak plus the index of its first 512-byte unit from the payload start (dm-crypt's default,
without iv_large_sectors), little-endian in a 16-byte tweak.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def fail(msg):
    print(f"luks2-decrypt: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        fail("usage: luks2-decrypt.py IMAGE VOLUME_KEY_FILE OUTPUT")
    image, key_file, output = sys.argv[1:]
    with open(key_file, "rb") as f:
        key = f.read()
    with open(image, "rb") as img:
        binary = img.read(4096)
        if binary[:6] != b"LUKS\xba\xbe":
            fail("no LUKS2 primary header")
        version, hdr_size = struct.unpack(">HQ", binary[6:16])
        if version != 2:
            fail(f"version {version}")
        area = binary + img.read(hdr_size - 4096)
        stored = area[448:512]
        zeroed = area[:448] + b"\0" * 64 + area[512:]
        if hashlib.sha256(zeroed).digest() != stored[:32]:
            fail("header checksum mismatch")
        meta = json.loads(area[4096:].split(b"\0", 1)[0])
        seg = meta["segments"]["0"]
        if seg["type"] != "crypt" or seg["encryption"] != "aes-xts-plain64":
            fail(f"unexpected segment {seg}")
        digest = next(d for d in meta["digests"].values() if "0" in d["segments"])
        want = base64.b64decode(digest["digest"])
        got = hashlib.pbkdf2_hmac(digest["hash"], key, base64.b64decode(digest["salt"]), digest["iterations"], len(want))
        if not hmac.compare_digest(got, want):
            fail("the volume key does not match the digest")
        offset = int(seg["offset"])
        sector = seg["sector_size"]
        tweak0 = int(seg["iv_tweak"])
        size = os.path.getsize(image) - offset if seg["size"] == "dynamic" else int(seg["size"])
        if size % sector:
            fail("payload is not whole sectors")
        img.seek(offset)
        with open(output, "wb") as out:
            for index in range(size // sector):
                data = img.read(sector)
                iv = (tweak0 + index * (sector // 512)).to_bytes(16, "little")
                dec = Cipher(algorithms.AES(key), modes.XTS(iv)).decryptor()
                out.write(dec.update(data) + dec.finalize())


main()

# Run by nbdsh (python3 -m nbd -u URI -c "exec(open(PATH).read())"): `h` is the connected handle.
# Random unaligned I/O against a byte model in libnbd's strict mode (only STRICT_ALIGN off),
# concurrent writes into one sector, FUA and flush, then the server's errors with strictness off.
import errno
import random

random.seed(20261130)
h.set_strict_mode(h.get_strict_mode() & ~nbd.STRICT_ALIGN)
size = h.get_size()
assert h.can_multi_conn() and h.can_fua() and h.can_zero() and h.can_trim() and h.can_flush()
model = bytearray(h.pread(size, 0))

for i in range(400):
    off = random.randrange(0, size - 1)
    ln = random.randint(1, min(70000, size - off))
    op = random.random()
    if op < 0.45:
        data = random.randbytes(ln)
        h.pwrite(data, off, nbd.CMD_FLAG_FUA if i % 7 == 0 else 0)
        model[off:off + ln] = data
    elif op < 0.6:
        h.zero(ln, off, nbd.CMD_FLAG_NO_HOLE if i % 2 else 0)
        model[off:off + ln] = bytes(ln)
    else:
        got = h.pread(ln, off)
        assert got == model[off:off + ln], "mismatch at %d+%d" % (off, ln)

# 64 one-byte writes, all in flight at once, into two sectors: none may be lost.
for i in range(64):
    h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray([i + 1])), 8192 + i * 127)
    model[8192 + i * 127] = i + 1
while h.aio_in_flight() > 0:
    h.poll(-1)
h.flush()
assert h.pread(size, 0) == model, "content differs after concurrent writes"

# With strict checks off, the server itself must refuse bad requests.
h.set_strict_mode(0)
def fails_with(code, fn):
    try:
        fn()
    except nbd.Error as e:
        # libnbd's Python binding gives errno as its symbolic name.
        assert e.errno in (code, errno.errorcode[code]), "expected %s, got %s" % (errno.errorcode[code], e)
        return
    raise AssertionError("request past the end succeeded")
fails_with(errno.EINVAL, lambda: h.pread(10, size - 5))
fails_with(errno.ENOSPC, lambda: h.pwrite(b"x" * 10, size - 5))
fails_with(errno.ENOSPC, lambda: h.zero(10, size - 5))
fails_with(errno.EINVAL, lambda: h.trim(10, size - 5))
assert h.pread(5, size - 5) == model[size - 5:], "connection still serves after errors"
print("nbdsh-ok")

"""PyKMIP's client (Debian python3-pykmip) against a KMIP server: one run of the operations that
test/pykmip/pykmip-client-vs-kms.test.ts checks. Run with /usr/bin/python3.

usage: pykmip-client-ops.py HOST PORT CERT KEY CA VERSION   (VERSION: 1.1, 1.2 or 2.0)

Prints one JSON object: {"version": ..., "steps": [{"op", "ok", "detail"}...]}. Each step records what
the server answered; the TypeScript test decides what is right. Key bytes are never printed: the
registered key is compared here and only the comparison result is printed.
"""
import json
import logging
import os
import sys

from kmip.core import enums
from kmip.core.factories import attributes as attribute_factory
from kmip.pie import client as pie_client
from kmip.pie import objects

logging.disable(logging.CRITICAL)

host, port, cert, key, ca, version = sys.argv[1:7]
VERSIONS = {
    "1.1": enums.KMIPVersion.KMIP_1_1,
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}

steps = []


def step(op, fn):
    try:
        detail = fn()
        steps.append({"op": op, "ok": True, "detail": detail})
        return detail
    except Exception as e:  # the failure is the result being recorded
        reason = getattr(e, "reason", None)
        steps.append({
            "op": op,
            "ok": False,
            "detail": {
                "error": type(e).__name__,
                "reason": reason.name if reason is not None else None,
                "message": str(e)[:300],
            },
        })
        return None


def enum_name(v):
    return v.name if hasattr(v, "name") else str(v)


def attr_summary(attrs):
    out = {}
    for a in attrs:
        name = a.attribute_name.value
        val = a.attribute_value
        inner = getattr(val, "value", val)
        if hasattr(inner, "name"):
            out[name] = inner.name
        elif isinstance(inner, (int, str)):
            out[name] = inner
        else:
            out[name] = type(val).__name__
    return out


# A config file that does not exist: PyKMIP then uses only the arguments given here.
c = pie_client.ProxyKmipClient(
    hostname=host,
    port=int(port),
    cert=cert,
    key=key,
    ca=ca,
    config_file=os.devnull,
    kmip_version=VERSIONS[version],
)
c.open()
tag = "pykmip-" + version + "-" + str(os.getpid())
try:
    created = step("create", lambda: c.create(
        enums.CryptographicAlgorithm.AES, 256, name=tag + "-created",
        cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT,
                                  enums.CryptographicUsageMask.DECRYPT]))

    material = bytes(range(16))
    registered = step("register", lambda: c.register(objects.SymmetricKey(
        enums.CryptographicAlgorithm.AES, 128, material,
        masks=[enums.CryptographicUsageMask.ENCRYPT], name=tag + "-registered")))

    def get_created():
        o = c.get(created)
        return {"type": type(o).__name__, "algorithm": enum_name(o.cryptographic_algorithm),
                "length": o.cryptographic_length, "bytes": len(o.value)}
    step("get", get_created)

    def get_registered():
        o = c.get(registered)
        return {"type": type(o).__name__, "length": o.cryptographic_length,
                "sameMaterial": bytes(o.value) == material}
    step("get-registered", get_registered)

    def get_attributes():
        uid, attrs = c.get_attributes(created, [
            "Cryptographic Algorithm", "Cryptographic Length", "State", "Object Type"])
        return {"uid": uid, "attributes": attr_summary(attrs)}
    step("get_attributes", get_attributes)

    step("get_attribute_list", lambda: c.get_attribute_list(created))
    step("activate", lambda: c.activate(created))

    def state():
        _, attrs = c.get_attributes(created, ["State"])
        return attr_summary(attrs).get("State")
    step("state-after-activate", state)

    def locate():
        f = attribute_factory.AttributeFactory()
        found = c.locate(attributes=[f.create_attribute(enums.AttributeType.NAME, tag + "-created")])
        return {"found": found}
    step("locate", locate)

    def locate_type():
        f = attribute_factory.AttributeFactory()
        found = c.locate(attributes=[f.create_attribute(
            enums.AttributeType.OBJECT_TYPE, enums.ObjectType.SYMMETRIC_KEY)])
        return {"containsBoth": created in found and registered in found}
    step("locate-by-type", locate_type)

    step("revoke", lambda: c.revoke(
        enums.RevocationReasonCode.CESSATION_OF_OPERATION, created,
        revocation_message="pykmip interop"))
    step("state-after-revoke", state)
    step("destroy", lambda: c.destroy(created))
    step("get-after-destroy", lambda: c.get(created) and "returned an object")
    step("destroy-registered", lambda: c.destroy(registered))
finally:
    c.close()

print(json.dumps({"version": version, "created": created, "registered": registered, "steps": steps}))

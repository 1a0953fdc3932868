"""An SEV-SNP verifier outside the fake's language: fetches the VCEK and the ASK/ARK chain from a KDS
(the fake one behind `sevharness serve --kds-port`) with urllib, checks the chain (RSA-PSS, SHA-384,
salt 48) and the report's ECDSA P-384 signature with python3-cryptography, and compares the VCEK's
AMD extensions with the report. Prints one JSON object; exits 1 on the first failure.

usage: verify_snp.py KDS_URL PRODUCT REPORT_FILE
"""
import json
import sys
import urllib.request

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

AMD = "1.3.6.1.4.1.3704.1."


def fail(what):
    print(json.dumps({"ok": False, "failed": what}))
    sys.exit(1)


def pss_verify(cert, issuer):
    issuer.public_key().verify(
        cert.signature,
        cert.tbs_certificate_bytes,
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
        hashes.SHA384(),
    )


def ext_bytes(cert, dotted):
    return cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(dotted)).value.value


def main():
    kds, product, report_path = sys.argv[1:4]
    report = open(report_path, "rb").read()
    if len(report) != 0x4A0:
        fail("report size")
    chip_id = report[0x1A0:0x1E0]
    tcb = report[0x180:0x188]
    # Milan/Genoa TCB_VERSION: boot loader byte 0, TEE byte 1, SNP byte 6, microcode byte 7.
    spl = {"blSPL": tcb[0], "teeSPL": tcb[1], "snpSPL": tcb[6], "ucodeSPL": tcb[7]}
    query = "&".join(f"{k}={v:02d}" for k, v in spl.items())
    with urllib.request.urlopen(f"{kds}/vcek/v1/{product}/{chip_id.hex()}?{query}") as r:
        vcek = x509.load_der_x509_certificate(r.read())
    with urllib.request.urlopen(f"{kds}/vcek/v1/{product}/cert_chain") as r:
        pem = r.read().decode()
    # One load per PEM block: Debian 12's cryptography (38) has no load_pem_x509_certificates.
    end = "-----END CERTIFICATE-----"
    ask, ark = (x509.load_pem_x509_certificate((block + end).encode()) for block in pem.split(end)[:2])
    try:
        pss_verify(ark, ark)
        pss_verify(ask, ark)
        pss_verify(vcek, ask)
    except InvalidSignature:
        fail("certificate chain")
    if ext_bytes(vcek, AMD + "4") != chip_id:
        fail("hwID extension")
    for name, oid in (("blSPL", "3.1"), ("teeSPL", "3.2"), ("snpSPL", "3.3"), ("ucodeSPL", "3.8")):
        der = ext_bytes(vcek, AMD + oid)
        if der[0] != 0x02 or der[-1] != spl[name]:
            fail(name + " extension")
    r = int.from_bytes(report[0x2A0:0x2A0 + 72], "little")
    s = int.from_bytes(report[0x2E8:0x2E8 + 72], "little")
    try:
        vcek.public_key().verify(encode_dss_signature(r, s), report[:0x2A0], ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        fail("report signature")
    print(json.dumps({
        "ok": True,
        "vcek_subject": vcek.subject.rfc4514_string(),
        "ask_subject": ask.subject.rfc4514_string(),
        "policy": int.from_bytes(report[0x08:0x10], "little"),
        "report_data": report[0x50:0x90].hex(),
        "measurement": report[0x90:0xC0].hex(),
    }))


main()

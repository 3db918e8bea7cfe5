"""Verifies the DSSE envelope of each Sigstore bundle with securesystemslib (Envelope.verify).

    python sslib_verify.py PUB.pem BUNDLE...

securesystemslib only tries keys whose keyid equals the signature's, so the key is given the
bundle's hint as its id (base64 of the SPKI digest, as sealkit writes it).
"""
import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

public = load_pem_public_key(open(sys.argv[1], "rb").read())
for path in sys.argv[2:]:
    bundle = json.load(open(path))
    envelope = Envelope.from_dict(bundle["dsseEnvelope"])
    keyid = bundle["verificationMaterial"]["publicKey"]["hint"]
    key = SSlibKey.from_crypto(public, keyid=keyid)
    envelope.verify([key], 1)  # raises VerificationError
    print("OK", path.rsplit("/", 1)[-1], key.scheme, json.loads(envelope.payload)["predicateType"])

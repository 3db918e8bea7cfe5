"""Validates the in-toto statement of each Sigstore bundle with in-toto-attestation: the Statement
v1 rules, and the predicates it has protobuf definitions for (SLSA provenance v1, SLSA
verification summary v1, test result v0.1), parsed strictly (unknown fields are errors).

    python intoto_validate.py BUNDLE...
"""
import base64
import json
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

PREDICATES = {
    "https://slsa.dev/provenance/v1": provenance_pb2.Provenance,
    "https://slsa.dev/verification_summary/v1": vsa_pb2.VerificationSummary,
    "https://in-toto.io/attestation/test-result/v0.1": test_result_pb2.TestResult,
}

for path in sys.argv[1:]:
    envelope = json.load(open(path))["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"])
    statement = Statement.copy_from_pb(json_format.Parse(payload, statement_pb2.Statement()))
    statement.validate()  # raises ValueError
    predicate_type = statement.pb.predicate_type
    checked = "statement"
    if predicate_type in PREDICATES:
        predicate = json.loads(payload)["predicate"]
        if predicate_type == "https://slsa.dev/verification_summary/v1":
            # The SLSA VSA v1 spec makes verifiedLevels an array of strings; in-toto-attestation's
            # proto still has one string (in-toto/attestation#425), so it is checked here.
            levels = predicate.pop("verifiedLevels")
            if not (isinstance(levels, list) and levels and all(isinstance(l, str) for l in levels)):
                raise ValueError(f"verifiedLevels is not a non-empty list of strings: {levels!r}")
        json_format.ParseDict(predicate, PREDICATES[predicate_type]())
        checked = "statement and predicate"
    print("OK", path.rsplit("/", 1)[-1], predicate_type, checked)

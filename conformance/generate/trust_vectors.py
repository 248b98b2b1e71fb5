#!/usr/bin/env python3
"""Generate conformance/vectors/trust-credentials.json from the Python reference.

Usage (from the repository root):

    $(scripts/reference-venv.sh | tail -1) conformance/generate/trust_vectors.py [OUT_DIR]

Every byte in the output is produced by the reference packages (aster-rpc 0.1.2,
aster-cli 0.1.2) running their own code paths, with the randomness and the
clock pinned:

* root key files: ``aster trust keygen`` (``aster_cli.trust._keygen_command``)
  with ``generate_root_keypair`` returning a fixed seed;
* credential files: ``aster trust sign`` (``aster_cli.trust._sign_command``)
  with a fixed ``--expires`` and ``secrets.token_bytes`` returning a fixed
  nonce for OTTs;
* ``credential_json``: what the reference client puts in its admission
  request: the file loaded by ``aster.runtime._load_enrollment_credential``
  and serialised by ``aster.trust.consumer.consumer_cred_to_json``;
* signing bytes: ``aster.trust.signing._canonical_signing_bytes``, signatures
  by ``sign_credential`` (ed25519 is deterministic);
* ``.aster-identity`` files: ``aster enroll node``
  (``aster_cli.enroll.cmd_enroll_node``) with fixed node keys.

Self-checks (any failure aborts before writing): every signature verifies
with the reference; every consumer credential is admitted by the reference's
server handler (``handle_consumer_admission_rpc``) for the right peer and an
OTT is refused the second time; every producer credential is accepted by the
reference's producer-admission handler; the ``cryptography`` signature of the
recorded signing bytes equals the recorded signature.

The output is deterministic (no clock, no random values reach the file).
"""

import sys

sys.dont_write_bytecode = True

import asyncio
import contextlib
import io
import json
import logging
import os
import secrets
import tempfile
import types
from importlib import metadata as importlib_metadata
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import aster.trust.signing as signing
from aster import runtime as aster_runtime
from aster.config import AsterConfig
from aster.trust.admission import admit
from aster.trust.bootstrap import handle_admission_rpc, make_ephemeral_mesh_state
from aster.trust.consumer import (
    ConsumerAdmissionRequest,
    consumer_cred_from_json,
    consumer_cred_to_json,
    handle_consumer_admission_rpc,
)
from aster.trust.credentials import EnrollmentCredential
from aster.trust.nonces import InMemoryNonceStore
from aster_cli import enroll as cli_enroll
from aster_cli import identity as cli_identity
from aster_cli import trust as cli_trust

SCRIPT = "conformance/generate/trust_vectors.py"
ASTER_RPC_VERSION = "0.1.2"
ASTER_CLI_VERSION = "0.1.2"
REPO_ROOT = Path(__file__).resolve().parents[2]


class GenerationError(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise GenerationError(message)


def pub_of(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


# ── Fixed inputs ─────────────────────────────────────────────────────────────

ROOTS = {
    "root-a": bytes(range(32)),
    "root-b": bytes([0x42] * 32),
}
NODES = {
    "node-1": bytes(range(32, 64)),
    "node-2": bytes([0x07] * 32),
}
NODE_IDS = {name: pub_of(seed).hex() for name, seed in NODES.items()}
NONCE_1 = bytes([0xA5] * 32)
NONCE_2 = bytes(range(100, 132))

EXPIRES_2100 = "2100-01-01T00:00:00Z"  # 4102444800
EXPIRES_2033 = "2033-05-18T03:33:20Z"  # 2000000000

UNICODE_ATTRS = {
    "aster.name": "Z\u00fcrich-\u8282\u70b9-\U0001F680",
    "aster.role": "ops.status, ops.logs ,,",
    "\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435",
}
ESCAPE_ATTRS = {
    "quote": 'say "hi"',
    "backslash": "C:\\path\\x",
    "controls": "line\nbreak\ttab\r\u0001\u001f\b\f",
    "del+sep": "\u007f\u2028\u2029",
    "B": "upper",
    "_": "underscore",
    "a": "lower",
}

# name, type, root, endpoint (node name or None), attributes, expires, nonce
CREDENTIAL_CASES = [
    ("producer-basic", "producer", "root-a", "node-1", {"aster.role": "producer"}, EXPIRES_2100, None),
    ("producer-empty-attributes", "producer", "root-a", "node-2", {}, EXPIRES_2033, None),
    ("producer-unicode", "producer", "root-b", "node-1", UNICODE_ATTRS, EXPIRES_2100, None),
    (
        "producer-unsorted-attributes",
        "producer",
        "root-a",
        "node-1",
        {"zeta": "1", "aster.role": "producer,ops.admin", "alpha": "x"},
        EXPIRES_2100,
        None,
    ),
    ("policy-unbound", "policy", "root-a", None, {"aster.role": "ops.status,ops.logs"}, EXPIRES_2100, None),
    ("policy-bound", "policy", "root-a", "node-2", {"aster.role": "consumer", "aster.name": "alice"}, EXPIRES_2100, None),
    ("policy-empty-attributes", "policy", "root-b", None, {}, EXPIRES_2033, None),
    ("policy-unicode", "policy", "root-b", None, UNICODE_ATTRS, EXPIRES_2100, None),
    ("policy-escapes", "policy", "root-a", "node-1", ESCAPE_ATTRS, EXPIRES_2100, None),
    ("ott-unbound", "ott", "root-a", None, {"aster.role": "ops.status"}, EXPIRES_2100, NONCE_1),
    ("ott-bound", "ott", "root-a", "node-1", {"aster.role": "ops.admin"}, EXPIRES_2033, NONCE_2),
    ("ott-unicode", "ott", "root-b", "node-2", UNICODE_ATTRS, EXPIRES_2100, NONCE_1),
    ("ott-empty-attributes", "ott", "root-b", None, {}, EXPIRES_2100, NONCE_2),
]

# name, role, peer name, type, --attributes, --capabilities, node
ENROLL_CASES = [
    ("consumer-capabilities", "consumer", "analytics", "policy", None, "ops.status,ops.logs", "node-1"),
    ("consumer-defaults", "consumer", "plain-consumer", "policy", None, None, "node-1"),
    ("consumer-named", "consumer", "named", "policy", "aster.name=named,team=blue", None, "node-1"),
    ("producer-defaults", "producer", "billing-producer", "policy", None, None, "node-1"),
    ("consumer-ott", "consumer", "one-shot", "ott", None, "ops.status", "node-1"),
]


# ── Helpers ──────────────────────────────────────────────────────────────────


class Patch:
    """Temporarily replace module attributes."""

    def __init__(self, *triples):
        self.triples = triples
        self.saved = []

    def __enter__(self):
        for module, name, value in self.triples:
            self.saved.append((module, name, getattr(module, name)))
            setattr(module, name, value)
        return self

    def __exit__(self, *exc):
        for module, name, value in reversed(self.saved):
            setattr(module, name, value)
        return False


def fixed_keypair(seed: bytes):
    return lambda: (seed, pub_of(seed))


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def root_key_files(tmp: Path) -> list[dict]:
    out = []
    for name, seed in ROOTS.items():
        key_path = tmp / name / "root.key"
        args = types.SimpleNamespace(out_key=str(key_path))
        with Patch((signing, "generate_root_keypair", fixed_keypair(seed))):
            check(cli_trust._keygen_command(args) == 0, f"keygen {name}")
        key_text = read(key_path)
        pub_text = read(key_path.with_suffix(".pub"))
        check(json.loads(key_text) == {"private_key": seed.hex(), "public_key": pub_of(seed).hex()}, "key file")
        out.append(
            {
                "name": name,
                "seed_hex": seed.hex(),
                "public_key_hex": pub_of(seed).hex(),
                "root_key_file_text": key_text,
                "root_pub_file_text": pub_text,
            }
        )
    return out


async def reference_consumer_admission(credential_json: str, root_pub: bytes, peer: str, store) -> bool:
    request = ConsumerAdmissionRequest(credential_json=credential_json).to_json()
    response = await handle_consumer_admission_rpc(
        request, root_pubkey=root_pub, hook=None, peer_node_id=peer, nonce_store=store
    )
    return response.admitted


def credential_vectors(tmp: Path) -> list[dict]:
    out = []
    for name, kind, root, node, attributes, expires, nonce in CREDENTIAL_CASES:
        seed = ROOTS[root]
        root_pub = pub_of(seed)
        endpoint_id = NODE_IDS[node] if node else None
        cred_path = tmp / "creds" / f"{name}.json"
        args = types.SimpleNamespace(
            root_key=str(tmp / root / "root.key"),
            endpoint_id=endpoint_id,
            attributes=json.dumps(attributes),
            expires=expires,
            type=kind,
            out=str(cred_path),
        )
        nonces = [nonce] if nonce else []
        with Patch((secrets, "token_bytes", lambda n: nonces.pop())):
            check(cli_trust._sign_command(args) == 0, f"sign {name}")
        check(not nonces, f"{name}: nonce not drawn")
        file_text = read(cred_path)
        doc = json.loads(file_text)
        check(list(doc["attributes"].items()) == list(attributes.items()), f"{name}: attribute order")

        vector = {
            "name": name,
            "kind": kind,
            "root": root,
            "seed_hex": seed.hex(),
            "root_pubkey_hex": root_pub.hex(),
            "endpoint_id": endpoint_id,
            "expires_at": doc["expires_at"],
            "attributes": attributes,
            "nonce_hex": nonce.hex() if nonce else None,
        }

        if kind == "producer":
            cred = EnrollmentCredential(
                endpoint_id=doc["endpoint_id"],
                root_pubkey=bytes.fromhex(doc["root_pubkey"]),
                expires_at=int(doc["expires_at"]),
                attributes=doc["attributes"],
                signature=bytes.fromhex(doc["signature"]),
            )
            # No reference client sends producer credentials; the reference
            # server reads the keys of the `aster trust sign` file. The compact
            # form of that file (Python's json.dumps defaults) is what we send.
            credential_json = json.dumps(doc, separators=(",", ":"))
            state = make_ephemeral_mesh_state(root_pub)
            response = asyncio.run(handle_admission_rpc(credential_json, state, root_pub))
            check(response.accepted, f"{name}: reference producer admission refused: {response.reason}")
            vector["reference_admission"] = {"peer_endpoint_id": endpoint_id, "admitted": True}
        else:
            cred = aster_runtime._load_enrollment_credential(str(cred_path))
            credential_json = consumer_cred_to_json(cred)
            back = consumer_cred_from_json(credential_json)
            check(back == cred, f"{name}: credential_json round trip")
            peer = endpoint_id or NODE_IDS["node-2"]
            store = InMemoryNonceStore()
            admitted = asyncio.run(reference_consumer_admission(credential_json, root_pub, peer, store))
            check(admitted, f"{name}: reference consumer admission refused")
            if kind == "ott":
                again = asyncio.run(reference_consumer_admission(credential_json, root_pub, peer, store))
                check(not again, f"{name}: OTT replay admitted")
            if endpoint_id:
                other = NODE_IDS["node-1"] if node == "node-2" else NODE_IDS["node-2"]
                wrong = asyncio.run(reference_consumer_admission(credential_json, root_pub, other, InMemoryNonceStore()))
                check(not wrong, f"{name}: wrong peer admitted")
            vector["admission_request_json"] = ConsumerAdmissionRequest(credential_json=credential_json).to_json()
            vector["reference_admission"] = {"peer_endpoint_id": peer, "admitted": True}

        signing_bytes = signing._canonical_signing_bytes(cred)
        check(signing.verify_signature(cred, root_pub), f"{name}: signature does not verify")
        check(signing.sign_credential(cred, seed) == cred.signature, f"{name}: signature not deterministic")
        check(
            Ed25519PrivateKey.from_private_bytes(seed).sign(signing_bytes) == cred.signature,
            f"{name}: signature over signing bytes",
        )
        vector["signing_bytes_hex"] = signing_bytes.hex()
        vector["signature_hex"] = cred.signature.hex()
        vector["file_text"] = file_text
        vector["credential_json"] = credential_json
        out.append(vector)
    return out


def identity_vectors(tmp: Path) -> dict:
    """One `.aster-identity` built by successive `aster enroll node` runs."""
    path = tmp / "enroll" / ".aster-identity"
    path.parent.mkdir(parents=True)
    signed: dict[str, dict] = {}
    original_sign = signing.sign_credential

    def recording_sign(cred, priv):
        sig = original_sign(cred, priv)
        signed[current[0]] = {
            "signed_attributes": dict(cred.attributes),
            "signing_bytes_hex": signing._canonical_signing_bytes(cred).hex(),
            "signature_hex": sig.hex(),
        }
        return sig

    current = [""]
    for case, role, peer_name, ctype, attrs, caps, node in ENROLL_CASES:
        current[0] = peer_name
        args = types.SimpleNamespace(
            profile="vectors",
            role=role,
            name=peer_name,
            type=ctype,
            attributes=attrs,
            expires=EXPIRES_2100,
            root_key=str(tmp / "root-a" / "root.key"),
            signer="local",
            identity=str(path),
            capabilities=caps,
            out=str(path),
            quiet=True,
        )
        with Patch(
            (signing, "generate_root_keypair", fixed_keypair(NODES[node])),
            (signing, "sign_credential", recording_sign),
        ):
            check(cli_enroll.cmd_enroll_node(args) == 0, f"enroll {case}")
    text = read(path)

    peers = []
    config = AsterConfig()
    for case, role, peer_name, ctype, attrs, caps, node in ENROLL_CASES:
        # What the reference client presents: AsterConfig.load_identity*
        # (no synthesis) + runtime._credential_from_peer_entry.
        secret, entry = config.load_identity_from_path(str(path), peer_name=peer_name)
        check(secret == NODES[node], f"{case}: node secret")
        cred = aster_runtime._credential_from_peer_entry(entry)
        runtime_json = consumer_cred_to_json(cred)
        runtime_ok = signing.verify_signature(cred, pub_of(ROOTS["root-a"]))
        store = InMemoryNonceStore()
        runtime_admitted = asyncio.run(
            reference_consumer_admission(runtime_json, pub_of(ROOTS["root-a"]), NODE_IDS[node], store)
        )
        # What `aster_cli.identity.load_identity` shows (role/name synthesised).
        cli_peer = cli_identity.find_peer(cli_identity.load_identity(path), name=peer_name)
        cli_cred = aster_runtime._credential_from_peer_entry(cli_peer)
        cli_ok = signing.verify_signature(cli_cred, pub_of(ROOTS["root-a"]))
        peers.append(
            {
                "case": case,
                "name": peer_name,
                "role": role,
                "type": ctype,
                **signed[peer_name],
                "runtime_credential_json": runtime_json,
                "runtime_signature_verifies": runtime_ok,
                "reference_admits_runtime_credential": runtime_admitted,
                "cli_load_attributes": cli_peer["attributes"],
                "cli_load_signature_verifies": cli_ok,
            }
        )
    return {"node_seed_hex": NODES["node-1"].hex(), "endpoint_id": NODE_IDS["node-1"], "text": text, "peers": peers}


def main(argv: list[str]) -> int:
    check(importlib_metadata.version("aster-rpc") == ASTER_RPC_VERSION, "aster-rpc version")
    check(importlib_metadata.version("aster-cli") == ASTER_CLI_VERSION, "aster-cli version")
    out_dir = Path(argv[1]) if len(argv) > 1 else REPO_ROOT / "conformance" / "vectors"
    # The reference logs every refusal the self-checks provoke; they are expected.
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["ASTER_MESH_STATE_DIR"] = str(tmp / "mesh")
        with contextlib.redirect_stdout(io.StringIO()):  # the CLI commands' chatter
            document = build_document(tmp)
    text = json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "trust-credentials.json").write_text(text, encoding="utf-8")
    print(f"trust-credentials.json: {len(document['credentials'])} credentials, "
          f"{len(document['identity']['peers'])} identity peers, {len(text)} bytes")
    return 0


def build_document(tmp: Path) -> dict:
    return {
        "description": (
            "Trust credentials produced live by aster-rpc/aster-cli 0.1.2: root key files "
            "(aster trust keygen), signed credential files (aster trust sign), the "
            "credential_json string the reference client sends in its admission request, "
            "canonical signing bytes, ed25519 signatures, and an .aster-identity file "
            "built by aster enroll node. See conformance/generate/trust_vectors.py."
        ),
        "generator": {"script": SCRIPT, "aster_rpc": ASTER_RPC_VERSION, "aster_cli": ASTER_CLI_VERSION},
        "node_ids": NODE_IDS,
        "node_seeds_hex": {name: seed.hex() for name, seed in NODES.items()},
        "root_keys": root_key_files(tmp),
        "credentials": credential_vectors(tmp),
        "identity": identity_vectors(tmp),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Mints valid and hostile tokens with PyPI `pyjwt` (and `cryptography` for the hand-built
attacks), checks each with pyjwt's own `jwt.decode`, and prints one JSON document for
tests/interop.rs: {library, jwks, valid: [{name, alg, token}], attacks: [{row, name, token,
comparable, theirs, reason}]}. Keys are generated here, at test time, and never written to disk.

Usage: python mint.py ISSUER AUDIENCE
"""

import base64
import hashlib
import hmac
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ISS, AUD = sys.argv[1], sys.argv[2]
NOW = int(time.time())
ALGS = ["ES256", "ES384", "EdDSA", "PS256", "RS256"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def enc(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return b64(text.encode())


KEYS = {
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    "PS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
}


def kid(alg: str) -> str:
    return f"pyjwt-{alg}"


def public_jwk(alg: str) -> dict:
    public = KEYS[alg].public_key()
    if alg.startswith("ES"):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    elif alg == "EdDSA":
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    jwk.update(kid=kid(alg), alg=alg, use="sig")
    return jwk


JWKS = {"keys": [public_jwk(alg) for alg in ALGS]}
JWK_SET = jwt.PyJWKSet.from_dict(JWKS)


def theirs(token: str) -> dict:
    """pyjwt's documented pattern: the key by `kid`, its one algorithm, iss/aud/exp required."""
    try:
        header = jwt.get_unverified_header(token)
        key = next(k for k in JWK_SET.keys if k.key_id == header.get("kid"))
        jwt.decode(
            token,
            key=key.key,
            algorithms=[key.algorithm_name],
            audience=AUD,
            issuer=ISS,
            leeway=60,
            options={"require": ["exp", "iss", "aud"]},
        )
        return {"theirs": "accepted", "reason": ""}
    except StopIteration:
        return {"theirs": "rejected", "reason": "no key with this kid"}
    except Exception as e:  # noqa: BLE001 - every refusal is recorded, whatever its type
        return {"theirs": "rejected", "reason": type(e).__name__}


def claims(**extra) -> dict:
    base = {"iss": ISS, "aud": AUD, "sub": "user-1", "iat": NOW, "exp": NOW + 300, "scope": "items:read"}
    base.update(extra)
    return base


def raw_sign(alg: str, data: bytes, key, der: bool = False) -> bytes:
    if alg in ("ES256", "ES384"):
        digest, size = (hashes.SHA256(), 32) if alg == "ES256" else (hashes.SHA384(), 48)
        signature = key.sign(data, ec.ECDSA(digest))
        if der:
            return signature
        r, s = utils.decode_dss_signature(signature)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg == "EdDSA":
        return key.sign(data)
    if alg == "RS256":
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        return key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    if alg == "HS256":
        return hmac.new(key, data, hashlib.sha256).digest()
    raise ValueError(alg)


def mint_raw(alg: str, header, body, key, der: bool = False) -> str:
    signing_input = f"{enc(header)}.{enc(body)}"
    return f"{signing_input}.{b64(raw_sign(alg, signing_input.encode(), key, der))}"


valid = []
for alg in ALGS:
    token = jwt.encode(claims(), KEYS[alg], algorithm=alg, headers={"kid": kid(alg), "typ": "at+jwt"})
    if theirs(token)["theirs"] != "accepted":
        raise SystemExit(f"pyjwt rejects its own {alg} token")
    valid.append({"name": f"pyjwt encode {alg}", "alg": alg, "token": token})

ES = KEYS["ES256"]


def hdr(**extra) -> dict:
    base = {"alg": "ES256", "kid": kid("ES256"), "typ": "at+jwt"}
    base.update(extra)
    return base


attacker = ec.generate_private_key(ec.SECP256R1())
attacker_jwk = ECAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
good = next(v["token"] for v in valid if v["alg"] == "ES256")
gh, gp, gs = good.split(".")
rsa_pem = KEYS["RS256"].public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
no_exp = claims()
del no_exp["exp"]
b64_false_header = enc({"alg": "ES256", "kid": kid("ES256"), "typ": "at+jwt", "b64": False, "crit": ["b64"]})
b64_false_input = f"{b64_false_header}.{json.dumps(claims(), separators=(',', ':'))}"

# (row, name, token, comparable): comparable when pyjwt has the check by design, so the two
# libraries must agree; otherwise the row records what pyjwt does.
ATTACKS = [
    ("JW-01", "alg none, no signature", f"{enc({'alg': 'none', 'kid': kid('ES256')})}.{enc(claims())}.", True),
    ("JW-01", "alg None, with a signature part", f"{enc({'alg': 'None', 'kid': kid('ES256')})}.{enc(claims())}.{b64(b'sig')}", True),
    ("JW-02", "HS256 keyed with the RS256 public key PEM", mint_raw("HS256", {"alg": "HS256", "kid": kid("RS256"), "typ": "at+jwt"}, claims(), rsa_pem), True),
    ("JW-03", "ECDSA r = s = 0", f"{enc(hdr())}.{enc(claims())}.{b64(bytes(64))}", True),
    ("JW-04", "PS256 signature under the RS256-pinned key", mint_raw("PS256", {"alg": "PS256", "kid": kid("RS256"), "typ": "at+jwt"}, claims(), KEYS["RS256"]), True),
    ("JW-05", "stripped signature", f"{gh}.{gp}.", True),
    ("JW-06", "payload altered, signature kept", f"{gh}.{enc(claims(sub='admin'))}.{gs}", True),
    ("JW-07", "kid path traversal", mint_raw("ES256", hdr(kid="../../../etc/passwd"), claims(), ES), True),
    ("JW-08", "jku pointing at the attacker", mint_raw("ES256", hdr(kid="attacker", jku="https://attacker.example/jwks.json"), claims(), attacker), True),
    ("JW-09", "embedded jwk (CVE-2018-0114)", mint_raw("ES256", {"alg": "ES256", "typ": "at+jwt", "jwk": attacker_jwk}, claims(), attacker), True),
    ("JW-10", "x5c header on a validly signed token", mint_raw("ES256", hdr(x5c=["MIIBszCCAVmgAwIBAgIUWf8="]), claims(), ES), False),
    ("JW-11", "crit with an unknown extension", mint_raw("ES256", hdr(crit=["x-ext"], **{"x-ext": 1}), claims(), ES), True),
    ("JW-12", "b64 false (RFC 7797)", f"{b64_false_header}.{enc(claims())}.{b64(raw_sign('ES256', b64_false_input.encode(), ES))}", True),
    ("JW-13", "expired an hour ago", mint_raw("ES256", hdr(), claims(iat=NOW - 7200, exp=NOW - 3600), ES), True),
    ("JW-13", "no exp", mint_raw("ES256", hdr(), no_exp, ES), True),
    ("JW-14", "nbf an hour ahead", mint_raw("ES256", hdr(), claims(nbf=NOW + 3600), ES), True),
    ("JW-15", "wrong issuer", mint_raw("ES256", hdr(), claims(iss="https://attacker.example"), ES), True),
    ("JW-16", "wrong audience", mint_raw("ES256", hdr(), claims(aud="https://other.example"), ES), True),
    ("JW-17", "typ JWT presented as an access token", mint_raw("ES256", hdr(typ="JWT"), claims(), ES), False),
    ("JW-19", "duplicate sub in the claims", mint_raw("ES256", hdr(), json.dumps(claims(), separators=(",", ":")).replace("{", '{"sub":"admin",', 1), ES), False),
    ("JW-20", "padded signature", f"{good}=", True),
    ("JW-22", "DER-encoded ECDSA signature", mint_raw("ES256", hdr(), claims(), ES, der=True), True),
    ("JW-24", "JWE-shaped (five segments)", f"{enc({'alg': 'RSA-OAEP-256', 'enc': 'A256GCM'})}.{b64(bytes(256))}.{b64(bytes(12))}.{b64(b'ciphertext')}.{b64(bytes(16))}", True),
]

attacks = [
    {"row": row, "name": name, "token": token, "comparable": comparable, **theirs(token)}
    for row, name, token, comparable in ATTACKS
]
sys.stdout.write(json.dumps({"library": f"pyjwt {jwt.__version__} (PyPI)", "jwks": JWKS, "valid": valid, "attacks": attacks}))

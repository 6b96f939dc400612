#!/usr/bin/python3
"""Writes the seed corpus of token_fuzz (see token_fuzz.cpp for the input layout).

    /usr/bin/python3 tests/fuzz/make_token_corpus.py

Byte 0 = mode (bit 0: claims payload instead of token; bit 1: aud/iss required; bit 2: exp
optional), then a token or a claims payload. HS256 seeds are signed here with the harness's
secret; the ES256 seeds are the harness's kValidEs (their private key no longer exists).
Files not named seed_* in the directory are left alone.
"""
import base64
import hashlib
import hmac
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "token_fuzz")
SECRET = b"fuzz-secret-0123456789abcdef-0123456789"
VALID_ES = [
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJhbGljZSIsImp0aSI6ImVzLTEiLCJleHAiOjQxMDI0NDQ4MDAsImNoYW5uZWxzIjp7InN1YnNjcmliZSI6"
    "WyJjaGF0LioiXSwicHVibGlzaCI6WyJjaGF0LmxvYmJ5Il19fQ."
    "qCqp1UCVmOhLXCR39r2tynTZ36HRGpDhPYhBf7mLqazn-_D-2n3ZZWUeqzVE_Wfj0vHofW-GFun3OfRywX1gpQ",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiIiLCJleHAiOjQxMDI0NDQ4MDAsImlhdCI6MTcwMDAwMDAwMCwiYXVkIjoid3NyZWxheSIsImlzcyI6Imh0"
    "dHBzOi8vYXV0aC5leGFtcGxlIn0."
    "wpss4qRFYtgm3n1Mi7JV-Q9q02SMhGKIg5-_3HwFG-Kh8O3I6P4WaOhUR09vy2XUbRbPTc4weNfGLCq5NuczdA",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJvbGQiLCJleHAiOjE3MDAwMDAwMDB9."
    "afeml4f20WupCuqt2uFo5IozeLiekEmusd-VGArbUD3IN8sfGSgbk7O70XLkY8NFem2iRsatxFe39_SjHzawrg",
]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header, claims, secret=SECRET):
    head = b64(json.dumps(header, separators=(",", ":")).encode())
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode()
    return f"{head}.{body}." + b64(hmac.new(secret, signing_input, hashlib.sha256).digest())


FULL = {"sub": "alice", "jti": "j1", "exp": 4102444800, "iat": 1700000000,
        "channels": {"subscribe": ["chat.*", "news"], "publish": ["chat.lobby"]}}
HS = {"alg": "HS256", "kid": "hs"}
TOKENS = [
    (0, VALID_ES[0]), (2, VALID_ES[1]), (0, VALID_ES[2]), (4, VALID_ES[0]),
    (0, hs256(HS, FULL)),
    (0, hs256({"alg": "HS256"}, {"sub": "nokid", "exp": 4102444800})),
    (2, hs256(HS, dict(FULL, aud=["x", "wsrelay"], iss="https://auth.example"))),
    (0, hs256(HS, {"sub": "late", "exp": 1700000000})),
    (4, hs256(HS, {"sub": "noexp"})),
    (0, hs256(HS, FULL, secret=b"the-wrong-secret-0123456789abcdef")),
    (0, hs256({"alg": "HS256", "kid": "es"}, FULL)),
    (0, hs256({"alg": "HS256", "kid": "nope"}, FULL)),
    (0, hs256({"alg": "HS512", "kid": "hs"}, FULL)),
    (0, b64(b'{"alg":"none"}') + "." + b64(json.dumps(FULL).encode()) + "."),
    (0, "a.b.c"), (0, "...."), (0, "eyJhbGciOiJIUzI1NiJ9..."), (0, ""),
]
CLAIMS = [
    FULL, {"exp": 4102444800}, {"exp": 4102444800.75, "nbf": 1799999999.5},
    {"exp": 1e300}, {"exp": -5}, {"exp": "soon"}, {"sub": 7, "exp": 4102444800},
    {"exp": 4102444800, "nbf": 1900000000}, {"exp": 4102444800, "iat": 1900000000},
    {"exp": 4102444800, "aud": "wsrelay", "iss": "https://auth.example"},
    {"exp": 4102444800, "aud": ["wsrelay"], "iss": "https://auth.example"},
    {"exp": 4102444800, "channels": {"subscribe": ["*"], "publish": []}},
    {"exp": 4102444800, "channels": {"subscribe": ["a*b"]}},
    {"exp": 4102444800, "channels": ["x"]},
    {"exp": 4102444800, "channels": {"publish": [{"x": 1}]}},
    {"sub": "noexp"}, [], "str",
    # Claim types a backend may get wrong: each must be refused or ignored, never crash.
    {"exp": 4102444800, "aud": 7}, {"exp": 4102444800, "aud": ["wsrelay", 7]},
    {"exp": 4102444800, "aud": []}, {"exp": 4102444800, "iss": ["https://auth.example"]},
    {"exp": 4102444800, "nbf": "now"}, {"exp": 4102444800, "iat": None},
    {"exp": True}, {"exp": 4102444800, "jti": 12}, {"sub": None, "exp": 4102444800},
    # Channel rights: the match syntax (exact names, prefixes ending in *), and what is not.
    {"exp": 4102444800, "channels": {"subscribe": "chat.*"}},
    {"exp": 4102444800, "channels": {"subscribe": ["", "chat.", "chat.**", "*.x", "a b"]}},
    {"exp": 4102444800, "channels": {"subscribe": ["room.>"], "publish": ["a" * 300]}},
    {"exp": 4102444800, "channels": {"subscribe": [f"c{i}" for i in range(257)]}},
    {"exp": 4102444800, "channels": {"subscribe": None, "publish": ["x"], "other": 1}},
    {"exp": 4102444800, "channels": {}},
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("seed_"):
            os.remove(os.path.join(OUT, name))
    n = 0
    for mode, token in TOKENS:
        with open(os.path.join(OUT, f"seed_token_{n:02d}"), "wb") as f:
            f.write(bytes([mode]) + token.encode())
        n += 1
    for i, claims in enumerate(CLAIMS):
        for mode in (1, 3, 5):
            with open(os.path.join(OUT, f"seed_claims_{i:02d}_{mode}"), "wb") as f:
                f.write(bytes([mode]) + json.dumps(claims).encode())
    with open(os.path.join(OUT, "seed_claims_raw_1"), "wb") as f:
        f.write(b"\x01{\"exp\":4102444800,\"exp\":1}")


if __name__ == "__main__":
    main()

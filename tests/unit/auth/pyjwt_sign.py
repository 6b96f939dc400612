#!/usr/bin/python3
# Signs a JWT with python3-jwt (PyJWT): the independent signer the C++ verifier is checked
# against. Usage: pyjwt_sign.py KEY_FILE ALG CLAIMS_JSON HEADERS_JSON (KEY_FILE "-" = none).
import json
import sys

import jwt

key_file, alg, claims, headers = sys.argv[1:5]
key = None if key_file == "-" else open(key_file, "rb").read()
print(jwt.encode(json.loads(claims), key, algorithm=alg, headers=json.loads(headers)))

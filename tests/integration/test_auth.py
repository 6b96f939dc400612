"""Tokens on connections (README "Securing wsrelay"): /ws {"op":"auth"} and refresh, raw-channel
tokens on the upgrade (query, cookie, bearer subprotocol), channel rights from the config and the
token's claims, expiry, SIGHUP key rotation and revocation, gen-token, and no token in any log.
Keys are made here with `openssl`; tokens are signed by Debian's python3-jwt (or by hand for the
attacks it refuses to produce), never by wsrelay itself, except to test gen-token."""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import time

import jwt
import pytest
import websockets

from harness import (HOST, read_http_response, request, run, upgrade_request, ws_connect,
                     wsrelay_bin)

CLOSE_UNAUTHORIZED = 4001
CLOSE_EXPIRED = 4003
CLOSE_REVOKED = 4004

SECRET = secrets.token_urlsafe(32)  # 43 characters
OTHER_SECRET = secrets.token_urlsafe(32)


# --- keys and tokens ------------------------------------------------------------------------

def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def ec_key():
    """(private PEM, public PEM) of a fresh P-256 key."""
    private = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    public = openssl("pkey", "-pubout", stdin=private)
    return private, public


def token(claims=None, key=SECRET, alg="HS256", kid="k1", ttl=300, **extra):
    now = int(time.time())
    body = {"sub": "alice", "iat": now, "exp": now + ttl}
    body.update(claims or {})
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"kid": kid} if kid else {}
    return jwt.encode(body, key, algorithm=alg, headers=headers, **extra)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(header, claims, secret):
    """A token libraries refuse to make: HMAC over any header, with any bytes as the secret."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{b64url(sig)}"


def grants(subscribe=(), publish=()):
    return {"channels": {"subscribe": list(subscribe), "publish": list(publish)}}


def auth_config(mode="required", keys=None, channels=None, **extra):
    auth = {"mode": mode, "keys": keys or [{"kid": "k1", "alg": "HS256", "secret": SECRET}],
            "leeway_s": 0, "timeout_ms": 1500}
    auth.update(extra)
    return {
        "log_level": "debug",  # the upgrade's target is logged (redacted) at debug
        "auth": auth,
        "channels": channels if channels is not None else [
            {"match": "chat.*", "access": {"subscribe": "claims", "publish": "claims"}},
            {"match": "members", "access": {"subscribe": "authenticated", "publish": "authenticated"}},
        ],
    }


# --- clients --------------------------------------------------------------------------------

async def closed_code(ws, timeout=10.0):
    """Reads until the server closes ws; returns the close code."""
    deadline = time.monotonic() + timeout
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    return ws.close_code


async def authed(relay, tok, ident=1):
    """A /ws connection that sent auth first; returns (ws, ack)."""
    ws = await ws_connect(relay.url("/ws"))
    ack = await request(ws, {"op": "auth", "token": tok, "id": ident})
    return ws, ack


def raw_upgrade(relay, path, headers=None):
    """One raw upgrade on a plain socket: (HttpResponse, socket) (the socket stays open on 101)."""
    req, _ = upgrade_request(relay.port, path, extra=headers)
    s = socket.create_connection((HOST, relay.port), timeout=5)
    s.sendall(req)
    return read_http_response(s), s


def raw_status(relay, path, headers=None):
    resp, s = raw_upgrade(relay, path, headers)
    s.close()
    return resp


def failures(relay, reason):
    return relay.metric("wsrelay_auth_failures_total", {"reason": reason})


# --- /ws ------------------------------------------------------------------------------------

def test_ws_valid_token_ack_subscribe_publish_deliver(relay_factory):
    relay = relay_factory(auth_config())
    tok = token(grants(["chat.*"], ["chat.lobby"]), ttl=600)

    async def main():
        ws, ack = await authed(relay, tok)
        assert ack["ok"] is True and ack["sub"] == "alice", ack
        assert abs(ack["exp"] - (time.time() + 600)) < 60, ack
        assert (await request(ws, {"op": "subscribe", "channel": "chat.lobby", "id": 2}))["ok"]
        pub, _ = await authed(relay, tok)
        r = await request(pub, {"op": "publish", "channel": "chat.lobby", "text": "hi", "id": 3})
        assert r.get("ok") is True and r["delivered"] == 1, r
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"channel": "chat.lobby",
                                                                   "text": "hi"}
        # "members" wants any valid token: this one will do.
        assert (await request(ws, {"op": "subscribe", "channel": "members", "id": 4}))["ok"]
        await ws.close()
    run(main())


@pytest.mark.parametrize("case", ["expired", "not_yet_valid", "wrong_key", "wrong_alg",
                                  "alg_none", "hmac_with_public_key", "unknown_kid", "garbage"])
def test_ws_bad_tokens_are_refused_and_closed(relay_factory, ec_key, case):
    private, public = ec_key
    keys = [{"kid": "k1", "alg": "HS256", "secret": SECRET},
            {"kid": "ec", "alg": "ES256", "pem": public.decode()}]
    relay = relay_factory(auth_config(keys=keys))
    now = int(time.time())
    tok, reason = {
        "expired": (token(ttl=-60), "expired"),
        "not_yet_valid": (token({"nbf": now + 600}), "not_yet_valid"),
        "wrong_key": (token(key=OTHER_SECRET), "bad_signature"),
        "wrong_alg": (token(alg="HS512", key=SECRET * 2), "wrong_alg"),
        "alg_none": (hand_signed({"alg": "none", "kid": "k1"},
                                 {"sub": "alice", "exp": now + 60}, None), "wrong_alg"),
        # The server's ES256 public key used as an HMAC secret (algorithm confusion).
        "hmac_with_public_key": (hand_signed({"alg": "HS256", "kid": "ec"},
                                             {"sub": "alice", "exp": now + 60}, public),
                                 "wrong_alg"),
        "unknown_kid": (token(kid="nope"), "unknown_kid"),
        "garbage": ("not.a.token", "malformed"),
    }[case]
    # The EC key itself works (the confusion case is refused for its alg, not its kid).
    good_ec = jwt.encode({"sub": "eve", "exp": now + 60}, private, algorithm="ES256",
                         headers={"kid": "ec"})

    async def main():
        ws, ack = await authed(relay, tok)
        assert ack["error"]["code"] == 401, ack
        assert reason in ack["error"]["reason"], ack
        assert await closed_code(ws) == CLOSE_UNAUTHORIZED
        ws, ack = await authed(relay, good_ec)
        assert ack.get("sub") == "eve", ack
        await ws.close()
    run(main())
    relay.wait_metric("wsrelay_auth_failures_total", lambda v: v >= 1, {"reason": reason})
    # Also refused on a raw channel's upgrade, with the reason in the 401 body.
    resp = raw_status(relay, f"/channels/members?token={tok}")
    assert resp.status == 401 and reason.encode() in resp.body, resp


def test_ws_required_nothing_before_auth(relay_factory):
    relay = relay_factory(auth_config())

    async def main():
        ws = await ws_connect(relay.url("/ws"))
        reply = await request(ws, {"op": "subscribe", "channel": "members", "id": 1})
        assert reply["error"]["code"] == 401, reply
        assert await closed_code(ws) == CLOSE_UNAUTHORIZED
        # Silence: closed when auth.timeout_ms (1.5 s) has passed.
        ws = await ws_connect(relay.url("/ws"))
        t0 = time.monotonic()
        assert await closed_code(ws, timeout=30) == CLOSE_UNAUTHORIZED
        assert time.monotonic() - t0 >= 1.0
    run(main())
    relay.wait_metric("wsrelay_auth_failures_total", lambda v: v >= 2, {"reason": "missing"})
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v >= 2,
                      {"code": str(CLOSE_UNAUTHORIZED)})


def test_ws_channels_outside_the_claims_are_403(relay_factory):
    relay = relay_factory(auth_config())
    tok = token(grants(["chat.lobby"], ["chat.news"]))

    async def main():
        ws, ack = await authed(relay, tok)
        assert ack["ok"], ack
        r = await request(ws, {"op": "subscribe", "channel": "chat.secret", "id": 2})
        assert r["error"]["code"] == 403, r
        r = await request(ws, {"op": "publish", "channel": "chat.lobby", "text": "x", "id": 3})
        assert r["error"]["code"] == 403, r  # subscribing is granted, publishing is not
        assert (await request(ws, {"op": "subscribe", "channel": "chat.lobby", "id": 4}))["ok"]
        r = await request(ws, {"op": "publish", "channel": "chat.news", "text": "x", "id": 5})
        assert r.get("ok") is True, r
        # A channel with no access entry is open to any authenticated client.
        assert (await request(ws, {"op": "subscribe", "channel": "open", "id": 6}))["ok"]
        await ws.close()
    run(main())


def test_optional_mode_anonymous_and_authenticated(relay_factory):
    relay = relay_factory(auth_config(mode="optional"))

    async def main():
        ws = await ws_connect(relay.url("/ws"))  # never authenticates
        assert (await request(ws, {"op": "subscribe", "channel": "open", "id": 1}))["ok"]
        r = await request(ws, {"op": "subscribe", "channel": "members", "id": 2})
        assert r["error"]["code"] == 401, r
        r = await request(ws, {"op": "auth", "token": token(ttl=-60), "id": 3})
        assert r["error"]["code"] == 401, r  # still connected, still anonymous
        r = await request(ws, {"op": "auth", "token": token(), "id": 4})
        assert r["sub"] == "alice", r
        assert (await request(ws, {"op": "subscribe", "channel": "members", "id": 5}))["ok"]
        await ws.close()
    run(main())
    assert raw_status(relay, "/channels/open").status == 101
    assert raw_status(relay, "/channels/members").status == 401


def test_refresh_before_expiry_keeps_the_connection(relay_factory):
    relay = relay_factory(auth_config())

    async def main():
        ws, ack = await authed(relay, token(ttl=3))
        assert ack["ok"], ack
        r = await request(ws, {"op": "refresh", "token": token({"sub": "mallory"}), "id": 2})
        assert r["error"]["code"] == 403, r  # another user's token
        r = await request(ws, {"op": "refresh", "token": token(ttl=600), "id": 3})
        assert r["ok"] and r["sub"] == "alice", r
        await asyncio.sleep(5)  # well past the first token's exp
        assert (await request(ws, {"op": "ping", "id": 4}))["ok"]
        await ws.close()
    run(main())


def test_expiry_without_refresh_closes_4003(relay_factory):
    relay = relay_factory(auth_config())

    async def main():
        ws, ack = await authed(relay, token(ttl=2))
        assert ack["ok"], ack
        t0 = time.monotonic()
        assert await closed_code(ws, timeout=30) == CLOSE_EXPIRED
        assert time.monotonic() - t0 >= 0.5
        # A raw connection's token expires the same way.
        raw = await ws_connect(relay.url(f"/channels/members?token={token(ttl=2)}"))
        assert await closed_code(raw, timeout=30) == CLOSE_EXPIRED
    run(main())
    relay.wait_metric("wsrelay_auth_failures_total", lambda v: v >= 2, {"reason": "expired"})


# --- raw channels ---------------------------------------------------------------------------

def test_raw_token_in_query_cookie_and_subprotocol(relay_factory):
    relay = relay_factory(auth_config(cookie="wsr_token"))
    tok = token(grants(["chat.*"], ["chat.*"]))

    resp = raw_status(relay, "/channels/chat.lobby")
    assert resp.status == 401 and b"token" in resp.body, resp
    assert raw_status(relay, f"/channels/chat.lobby?token={tok}").status == 101
    assert raw_status(relay, f"/channels/chat.lobby?x=1&access_token={tok}").status == 101
    assert raw_status(relay, "/channels/chat.lobby", {"Cookie": f"a=b; wsr_token={tok}"}).status == 101
    assert raw_status(relay, "/channels/chat.lobby", {"Cookie": f"other={tok}"}).status == 401
    # bearer.<token> in Sec-WebSocket-Protocol: never echoed; another offer is chosen, or none.
    resp = raw_status(relay, "/channels/chat.lobby",
                      {"Sec-WebSocket-Protocol": f"bearer.{tok}, chat.v1"})
    assert resp.status == 101 and resp.headers.get("sec-websocket-protocol") == "chat.v1", resp
    resp = raw_status(relay, "/channels/chat.lobby", {"Sec-WebSocket-Protocol": f"bearer.{tok}"})
    assert resp.status == 101 and "sec-websocket-protocol" not in resp.headers, resp

    async def main():  # a real client with the subprotocol, end to end
        async with ws_connect(relay.url("/channels/chat.lobby"),
                              subprotocols=[f"bearer.{tok}", "chat.v1"]) as ws:
            assert ws.subprotocol == "chat.v1"
            async with ws_connect(relay.url(f"/channels/chat.lobby?token={tok}")) as pub:
                await pub.send("hello")
                assert await asyncio.wait_for(ws.recv(), 5) == "hello"
    run(main())


def test_token_issued_this_second_is_valid_with_no_leeway(relay_factory):
    """iat and nbf = now by a precise clock, checked right after a second begins: the relay's
    clock must not lag (time() reads the coarse clock, a tick behind)."""
    relay = relay_factory(auth_config())
    for _ in range(5):
        time.sleep(1.0 - time.time() % 1.0)  # just after the second changed
        now = int(time.time())
        resp = raw_status(relay, f"/channels/members?token={token({'iat': now, 'nbf': now})}")
        assert resp.status == 101, resp


def test_raw_channel_outside_the_claims(relay_factory):
    relay = relay_factory(auth_config())
    tok = token(grants(["chat.lobby"], []))
    resp = raw_status(relay, f"/channels/chat.secret?token={tok}")
    assert resp.status == 403, resp

    async def main():  # may subscribe, may not publish: the first message closes it (1008)
        async with ws_connect(relay.url(f"/channels/chat.lobby?token={tok}")) as ws:
            await ws.send("x")
            assert await closed_code(ws) == 1008
    run(main())


# --- SIGHUP ---------------------------------------------------------------------------------

def test_sighup_key_rotation(relay_factory):
    cfg = auth_config()
    relay = relay_factory(cfg)
    old = token(kid="k1")

    async def main():
        ws, ack = await authed(relay, old)
        assert ack["ok"], ack
        raw = await ws_connect(relay.url(f"/channels/members?token={old}"))
        cfg2 = auth_config(keys=[{"kid": "k2", "alg": "HS256", "secret": OTHER_SECRET}])
        relay.reload(cfg2)
        assert await closed_code(ws) == CLOSE_REVOKED
        assert await closed_code(raw) == CLOSE_REVOKED
        ws, ack = await authed(relay, token(kid="k2", key=OTHER_SECRET))
        assert ack.get("sub") == "alice", ack
        ws2, ack = await authed(relay, token(kid="k1"))
        assert ack["error"]["code"] == 401, ack
        await ws.close()
    run(main())
    assert raw_status(relay, f"/channels/members?token={old}").status == 401


def test_sighup_revoked_sub_is_closed(relay_factory):
    relay = relay_factory(auth_config())

    async def main():
        alice, _ = await authed(relay, token({"sub": "alice"}))
        bob, _ = await authed(relay, token({"sub": "bob"}))
        jti_tok = token({"sub": "carol", "jti": "t-123"})
        carol, _ = await authed(relay, jti_tok)
        relay.reload(auth_config(revoked={"subs": ["alice"], "jtis": ["t-123"]}))
        assert await closed_code(alice) == CLOSE_REVOKED
        assert await closed_code(carol) == CLOSE_REVOKED
        assert (await request(bob, {"op": "ping", "id": 9}))["ok"]
        ws, ack = await authed(relay, token({"sub": "alice"}))
        assert ack["error"]["code"] == 401 and "revoked" in ack["error"]["reason"], ack
        await bob.close()
    run(main())
    relay.wait_metric("wsrelay_auth_failures_total", lambda v: v >= 3, {"reason": "revoked"})


def test_sighup_bad_key_keeps_the_running_keys(relay_factory):
    relay = relay_factory(auth_config())
    bad = auth_config(keys=[{"kid": "k1", "alg": "HS256", "file": "/nonexistent/jwt.secret"}])
    relay.reload(bad)
    relay.wait_metric("wsrelay_config_reloads_total", lambda v: v >= 1, {"result": "error"})

    async def main():
        ws, ack = await authed(relay, token())
        assert ack.get("sub") == "alice", ack
        await ws.close()
    run(main())


# --- config, gen-token, logs ----------------------------------------------------------------

def test_key_file_and_config_errors(tmp_path):
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text(SECRET + "\n")  # the trailing newline is not part of the key

    def check(cfg):
        path = tmp_path / "c.json"
        path.write_text(json.dumps(cfg))
        return subprocess.run([wsrelay_bin(), "--check-config", str(path)], capture_output=True,
                              text=True, timeout=60)

    ok = check({"auth": {"mode": "required",
                         "keys": [{"kid": "f", "alg": "HS256", "file": str(secret_file)}]}})
    assert ok.returncode == 0, ok.stderr
    r = check({"auth": {"mode": "required",
                        "keys": [{"kid": "f", "alg": "HS256", "file": str(tmp_path / "none")}]}})
    assert r.returncode == 78 and "/auth/keys/0" in r.stderr, r.stderr
    r = check({"auth": {"mode": "none"},
               "channels": [{"match": "x", "access": {"publish": "claims"}}]})
    assert r.returncode == 78 and "/channels/0/access/publish" in r.stderr, r.stderr
    r = check({"auth": {"mode": "required"}})
    assert r.returncode == 78 and "/auth/keys" in r.stderr, r.stderr


def test_gen_key_and_gen_token_are_accepted(relay_factory, tmp_path):
    bin_ = wsrelay_bin()
    key = subprocess.run([bin_, "gen-key"], capture_output=True, text=True, timeout=60)
    assert key.returncode == 0 and len(key.stdout.strip()) == 43, key
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text(key.stdout)
    cfg = auth_config(keys=[{"kid": "main", "alg": "HS256", "file": str(secret_file)}])
    relay = relay_factory(cfg)
    out = subprocess.run([bin_, "gen-token", "--config", relay.config_path, "--sub", "alice",
                          "--subscribe", "chat.*", "--publish", "chat.lobby", "--ttl", "1h"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    tok = out.stdout.strip()
    claims = jwt.decode(tok, key.stdout.strip(), algorithms=["HS256"])
    assert claims["sub"] == "alice" and claims["channels"]["publish"] == ["chat.lobby"]
    assert 3500 < claims["exp"] - time.time() < 3700

    async def main():
        ws, ack = await authed(relay, tok)
        assert ack["sub"] == "alice", ack
        r = await request(ws, {"op": "publish", "channel": "chat.lobby", "text": "x", "id": 2})
        assert r.get("ok") is True, r
        r = await request(ws, {"op": "publish", "channel": "chat.other", "text": "x", "id": 3})
        assert r["error"]["code"] == 403, r
        await ws.close()
    run(main())


def test_logs_never_contain_tokens(relay_factory):
    relay = relay_factory(auth_config(cookie="wsr_token"))
    good = token(grants(["chat.*"], ["chat.*"]))
    bad = token(ttl=-60)
    for tok in (good, bad):
        raw_status(relay, f"/channels/chat.lobby?token={tok}")
        raw_status(relay, f"/channels/chat.lobby?access_token={tok}&x=1")
        raw_status(relay, "/channels/chat.lobby", {"Cookie": f"wsr_token={tok}"})
        raw_status(relay, "/channels/chat.lobby", {"Sec-WebSocket-Protocol": f"bearer.{tok}"})

    async def main():
        for tok in (good, bad):
            ws, _ = await authed(relay, tok)
            await ws.close()
    run(main())
    time.sleep(0.5)
    log = relay.log_text()
    assert "token=REDACTED" in log, log[-3000:]  # the targets were logged, redacted
    for tok in (good, bad):
        signature = tok.rsplit(".", 1)[1]
        assert signature not in log
        assert tok.split(".")[1] not in log  # nor the claims part


# --- caps -----------------------------------------------------------------------------------

def test_per_user_cap_closes_the_extra_connection(relay_factory):
    cfg = auth_config()
    cfg["limits"] = {"max_connections_per_user": 2}
    relay = relay_factory(cfg)
    alice = token({"sub": "alice"})

    async def over_cap(ws):
        """Sends a ping; the relay closes the connection with 1008 instead of answering."""
        try:
            await ws.send(json.dumps({"op": "ping", "id": 7}))
        except websockets.ConnectionClosed:
            pass
        return await closed_code(ws)

    async def main():
        first, ack = await authed(relay, alice)
        assert ack.get("sub") == "alice", ack
        # A raw connection with a token of the same sub takes the second slot.
        raw = await ws_connect(relay.url(f"/channels/members?token={alice}"))
        # The third one, on /ws: the auth op is not acknowledged, the connection is closed.
        third = await ws_connect(relay.url("/ws"))
        await third.send(json.dumps({"op": "auth", "token": alice, "id": 1}))
        assert await over_cap(third) == 1008
        # ... and on a raw channel: upgraded, then closed.
        extra_raw = await ws_connect(relay.url(f"/channels/members?token={alice}"))
        assert await over_cap(extra_raw) == 1008
        # Another user is not counted against alice.
        bob, ack = await authed(relay, token({"sub": "bob"}))
        assert ack.get("sub") == "bob", ack
        # A refresh keeps alice's slot (not a new one); the open ones still work.
        r = await request(first, {"op": "refresh", "token": token({"sub": "alice"}, ttl=600),
                                  "id": 2})
        assert r.get("ok") is True, r
        assert (await request(first, {"op": "ping", "id": 3}))["ok"]
        # Closing one gives its slot back.
        await raw.close()
        deadline = time.monotonic() + 10
        while True:
            again, ack = await authed(relay, alice)
            if ack.get("sub") == "alice" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert ack.get("sub") == "alice", ack
        for ws in (first, bob, again):
            await ws.close()
    run(main())
    relay.wait_metric("wsrelay_connections_refused_total", lambda v: v >= 2,
                      {"cause": "per_user"})
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v >= 2, {"code": "1008"})


def test_sighup_revoked_sub_closes_its_raw_connections(relay_factory):
    relay = relay_factory(auth_config())
    alice, bob = token({"sub": "alice"}), token({"sub": "bob"})

    async def main():
        raw_alice = await ws_connect(relay.url(f"/channels/members?token={alice}"))
        raw_bob = await ws_connect(relay.url(f"/channels/members?token={bob}"))
        relay.reload(auth_config(revoked={"subs": ["alice"]}))
        assert await closed_code(raw_alice) == CLOSE_REVOKED
        await raw_bob.send("still here")  # bob's connection stays, and still publishes
        async with ws_connect(relay.url(f"/channels/members?token={bob}")) as other:
            await raw_bob.send("after")
            assert await asyncio.wait_for(other.recv(), 5) == "after"
        await raw_bob.close()
    run(main())
    assert raw_status(relay, f"/channels/members?token={alice}").status == 401

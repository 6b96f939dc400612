"""Issue 14 (rough edges) and issue 9 (strict inputs), against the real binary:
--check-config lists every error (duplicates, typos with a suggestion, origins with the right
form) and a bad file stops the daemon with 78 before it binds; --print-config round-trips;
process_* and wsrelay_build_info on /metrics, close-code labels bounded; /ws requests with a
repeated key refused and data relayed as the exact text the publisher sent."""
import asyncio
import json
import os
import socket
import subprocess

from harness import (HOST, free_port, parse_metrics, recv_json, request, run, ws_connect,
                     wsrelay_bin)


def wsrelay(*args, timeout=20):
    return subprocess.run([wsrelay_bin(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def check(tmp_path, text):
    path = tmp_path / "c.json"
    path.write_text(text)
    return wsrelay("--check-config", str(path))


# --- --check-config ----------------------------------------------------------------------

def test_check_config_lists_every_error_with_its_pointer(tmp_path):
    p = check(tmp_path, json.dumps({
        "lisen": "127.0.0.1:1",
        "log_level": "loud",
        "limits": {"max_connections": 0, "max_conections": 5},
        "channels": [{"match": "a", "echo": 3}],
    }))
    assert p.returncode == 78, p.stderr
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert all(line.startswith("wsrelay: config: /") for line in lines), lines
    pointers = {line.split(": ")[2] for line in lines}
    assert pointers == {"/lisen", "/log_level", "/limits/max_connections",
                        "/limits/max_conections", "/channels/0/echo"}, lines
    assert 'wsrelay: config: /lisen: unknown key; did you mean "listen"?' in lines
    assert ('wsrelay: config: /limits/max_conections: unknown key; '
            'did you mean "max_connections"?') in lines


def test_duplicate_keys_are_errors(tmp_path):
    p = check(tmp_path, '{"limits": {"max_headers": 10, "max_headers": 20}}')
    assert p.returncode == 78, p.stderr
    assert p.stderr.startswith("wsrelay: config: /limits/max_headers: duplicate key"), p.stderr
    p = check(tmp_path, '{"channels": [{"match": "a"}, {"match": "b", "match": "c"}]}')
    assert p.returncode == 78, p.stderr
    assert "/channels/1/match: duplicate key" in p.stderr, p.stderr


def test_bad_origins_say_what_the_right_form_is(tmp_path):
    for origin in ["https://app.example/", "app.example", "https://app.example:0"]:
        p = check(tmp_path, json.dumps({"allowed_origins": ["*", origin]}))
        assert p.returncode == 78, p.stderr
        assert "/allowed_origins/1: " in p.stderr, p.stderr
        assert "scheme://host[:port] with no path, like https://example.com:8443" in p.stderr, \
            p.stderr


def test_semantic_errors_are_all_listed(tmp_path):
    p = check(tmp_path, json.dumps({
        "listen": "127.0.0.1:9464",  # = the default metrics_listen
        "allowed_origins": ["http://a.example:80", "https://b.example:443"],
    }))
    assert p.returncode == 78, p.stderr
    lines = p.stderr.splitlines()
    assert [line.split(": ")[2] for line in lines] == [
        "/metrics_listen", "/allowed_origins/0", "/allowed_origins/1"], lines
    assert "write http://a.example" in p.stderr and "write https://b.example" in p.stderr


def test_daemon_with_a_bad_config_exits_78_before_binding(tmp_path):
    """The --listen port is held by us: a daemon that tried to bind would fail differently."""
    held = socket.socket()
    held.bind((HOST, 0))
    held.listen(1)
    port = held.getsockname()[1]
    try:
        path = tmp_path / "bad.json"
        path.write_text('{"demo": 1, "limits": {"max_fragments": 0}, "demo": 2}')
        p = wsrelay("--config", str(path), "--listen", f"{HOST}:{port}")
        assert p.returncode == 78, p.stderr
        assert p.stderr == "wsrelay: config: /demo: duplicate key " \
                           "(JSON parsers disagree on which one wins)\n", p.stderr
        path.write_text('{"demo": 1, "limits": {"max_fragments": 0}}')
        p = wsrelay("--config", str(path), "--listen", f"{HOST}:{port}")
        assert p.returncode == 78, p.stderr
        assert p.stderr.splitlines() == [
            "wsrelay: config: /demo: must be a boolean",
            "wsrelay: config: /limits/max_fragments: must be >= 1"], p.stderr
        assert "listening" not in p.stderr and "bind" not in p.stderr
    finally:
        held.close()


# --- --print-config ----------------------------------------------------------------------

def test_print_config_round_trips(tmp_path, relay_factory):
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"channels": [{"match": "chat.*", "echo": True}],
                               "limits": {"max_connections": 77}, "demo": False}))
    public = free_port()
    p = wsrelay("--print-config", str(src), "--listen", f"{HOST}:{public}",
                "--metrics-listen", "")
    assert p.returncode == 0, p.stderr
    printed = json.loads(p.stdout)
    # Every key, the defaults filled in, the overrides applied.
    assert printed["listen"] == f"{HOST}:{public}" and printed["metrics_listen"] == ""
    assert printed["limits"]["max_connections"] == 77
    assert printed["limits"]["max_message_bytes"] == 65536
    assert printed["channels"] == [{"match": "chat.*", "echo": True, "max_subscribers": 0,
                                    "max_message_bytes": 0, "publish": "both",
                                    "compression": {"enabled": False, "min_bytes": 64, "level": 1},
                                    "history_size": 0, "history_ttl": 0, "presence": False,
                                    "rate_limit": None,
                                    "access": {"subscribe": "anyone", "publish": "anyone"}}]
    assert printed["auth"]["mode"] == "none" and printed["auth"]["keys"] == []
    assert printed["tls"] is None and printed["allowed_origins"] is None
    source = os.environ.get("RELAY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(source, "config", "wsrelay.schema.json")) as f:
        schema = json.load(f)
    assert set(printed) == set(schema["properties"])
    assert set(printed["limits"]) == set(schema["properties"]["limits"]["properties"])

    out = tmp_path / "out.json"
    out.write_text(p.stdout)
    c = wsrelay("--check-config", str(out))
    assert c.returncode == 0, c.stderr
    again = wsrelay("--print-config", str(out))
    assert again.returncode == 0 and again.stdout == p.stdout

    # The defaults print too, and a daemon runs on them (on the test's own ports).
    d = wsrelay("--print-config")
    assert d.returncode == 0, d.stderr
    defaults = json.loads(d.stdout)
    assert defaults["demo"] is True and defaults["listen"] == "127.0.0.1:8080"
    del defaults["listen"], defaults["metrics_listen"]
    relay = relay_factory(defaults)
    assert relay.http("GET", "/").status == 200  # the demo page


def test_print_config_refuses_a_bad_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"limits": {"max_headers": "many"}}')
    p = wsrelay("--print-config", str(bad))
    assert p.returncode == 78 and p.stdout == ""
    assert p.stderr == "wsrelay: config: /limits/max_headers: must be an integer\n"
    u = wsrelay("--print-config", "--check-config")
    assert u.returncode == 64, u.stderr


# --- metrics -----------------------------------------------------------------------------

def test_process_metrics_and_build_info(relay):
    text = relay.metrics_text()
    m = parse_metrics(text)
    version = wsrelay("--version").stdout.split()[1]
    assert m[("wsrelay_build_info", frozenset({("version", version)}))] == 1
    get = lambda name: m[(name, frozenset())]  # noqa: E731
    assert get("process_resident_memory_bytes") > 1e6
    assert get("process_virtual_memory_bytes") >= get("process_resident_memory_bytes")
    assert get("process_max_fds") >= get("process_open_fds") >= 4  # 3 std + listeners
    assert get("process_cpu_seconds_total") >= 0
    with open(f"/proc/{relay.pid}/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    expected_start = btime + start_ticks / os.sysconf("SC_CLK_TCK")
    assert abs(get("process_start_time_seconds") - expected_start) < 1.0

    # Open fds are counted at scrape time: ten more sockets show up in the next scrape.
    before = get("process_open_fds")
    socks = [socket.create_connection((HOST, relay.port)) for _ in range(10)]
    try:
        relay.wait_metric("wsrelay_connections", lambda v: v >= 10)
        after = parse_metrics(relay.metrics_text())[("process_open_fds", frozenset())]
        assert after >= before + 10, (before, after)
    finally:
        for s in socks:
            s.close()
    p = subprocess.run(["promtool", "check", "metrics"], input=relay.metrics_text(),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr


def test_close_code_labels_are_bounded(relay):
    async def close_with(code):
        async with ws_connect(relay.url("/channels/codes")) as ws:
            await ws.close(code)

    async def main():
        for code in [3001, 3999, 4321, 4999, 4008, 1000]:
            await close_with(code)
    run(main())
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v >= 2, {"code": "4xxx"})
    m = parse_metrics(relay.metrics_text())
    def code(c):
        return m.get(("wsrelay_connections_closed_total", frozenset({("code", c)})), 0)
    assert code("3xxx") == 2 and code("4xxx") == 2
    assert code("4008") >= 1 and code("1000") >= 1
    labels = {dict(k[1]).get("code") for k in m if k[0] == "wsrelay_connections_closed_total"}
    assert not labels & {"3001", "3999", "4321", "4999"}, labels


# --- strict JSON on /ws ------------------------------------------------------------------

def test_ws_duplicate_keys_are_refused(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as j, \
                ws_connect(relay.url("/channels/dup")) as raw:
            # nlohmann alone would keep the last "op" and subscribe.
            await j.send('{"id":1,"op":"publish","op":"subscribe","channel":"dup","data":1}')
            reply = await recv_json(j)
            assert reply == {"id": 1, "error": {"code": 400, "reason": "duplicate key /op"}}
            await j.send('{"id":2,"op":"publish","channel":"dup","data":{"a":1,"a":2}}')
            reply = await recv_json(j)
            assert reply["error"]["code"] == 400 and reply["id"] == 2, reply
            # Nothing was published or subscribed: a good publish reaches only the raw client.
            ack = await request(j, {"op": "publish", "channel": "dup", "text": "ok", "id": 3})
            assert ack == {"id": 3, "ok": True, "delivered": 1}
            assert await asyncio.wait_for(raw.recv(), 5) == "ok"
    run(main())


def test_ws_data_is_relayed_verbatim(relay):
    big = "1267650600228229401496703205376"  # 2^100
    data = '{"n": ' + big + ', "f": 1.50e+3, "s": "\\u00e9"}'

    async def main():
        async with ws_connect(relay.url("/ws")) as pub, ws_connect(relay.url("/ws")) as sub, \
                ws_connect(relay.url("/channels/num")) as raw:
            await request(sub, {"op": "subscribe", "channel": "num", "id": 1})
            await pub.send('{"op":"publish","channel":"num","id":2,"data":' + data + '}')
            ack = await recv_json(pub)
            assert ack == {"id": 2, "ok": True, "delivered": 2}, ack
            delivery = await asyncio.wait_for(sub.recv(), 5)
            assert delivery == '{"channel":"num","data":' + data + '}'
            assert await asyncio.wait_for(raw.recv(), 5) == data
    run(main())

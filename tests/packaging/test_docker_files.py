"""deploy/docker: the Dockerfile and compose.yaml agree with the real program.

There is no Docker engine here, so nothing is built or run in a container. Instead this reads
both files and checks every path, port, flag and command they use against the built wsrelay
(WSRELAY_BIN): the config they mount passes --check-config, the ENTRYPOINT + CMD and the
HEALTHCHECK run against a live instance, the environment overrides move the listener, the
example app's publisher reaches a subscriber, the runtime stage installs exactly the shared
libraries the binary links, and `docker-compose config` accepts the compose file.
"""
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import relayproc  # noqa: E402

ROOT = Path(os.environ.get("RELAY_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = os.environ.get("WSRELAY_BIN", str(ROOT / "build-pkg/daemon/wsrelay"))
DOCKER = ROOT / "deploy/docker"
DOCKERFILE = DOCKER / "Dockerfile"
COMPOSE = DOCKER / "compose.yaml"
HOST_CONFIG = DOCKER / "config.json"
# Packages every debian:bookworm-slim image has (priority required); the rest must be listed.
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}


# ---- reading the files ----

def dockerfile_instructions():
    """[(stage, INSTRUCTION, args)] with continuation lines joined and comments dropped."""
    out, buf, stage = [], "", -1
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not buf):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        instr, _, args = buf.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            stage += 1
        out.append((stage, instr, args.strip()))
        buf = ""
    return out


def instr(name, stage=None):
    return [a for s, i, a in dockerfile_instructions() if i == name and stage in (None, s)]


def final_stage():
    return max(s for s, _, _ in dockerfile_instructions())


def exec_form(args):
    """An exec-form (JSON array) argument list; fails on the shell form."""
    assert args.startswith("["), f"not exec form (JSON array): {args}"
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def healthcheck_cmd():
    (args,) = instr("HEALTHCHECK")
    m = re.search(r"\bCMD\s+(\[.*\])\s*$", args)
    assert m, f"HEALTHCHECK without an exec-form CMD: {args}"
    return exec_form(m.group(1))


def compose():
    return yaml.safe_load(COMPOSE.read_text())


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def host_config():
    return json.loads(HOST_CONFIG.read_text())


def compose_env(service="wsrelay"):
    return compose()["services"][service].get("environment", {})


def effective_listen():
    """The public/metrics addresses inside the container: compose env over the file."""
    c, env = host_config(), compose_env()
    return (env.get("WSRELAY_LISTEN", c.get("listen", "127.0.0.1:8080")),
            env.get("WSRELAY_METRICS_LISTEN", c.get("metrics_listen", "127.0.0.1:9464")))


def duration_seconds(text):
    """Compose durations: 1m30s, 15s, 500ms."""
    total, units = 0.0, {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(text))
    assert parts and "".join(n + u for n, u in parts) == str(text), f"bad duration {text}"
    for n, u in parts:
        total += float(n) * units[u]
    return total


# The mounted config requires tokens signed with "credential:jwt_secret" (compose's secret,
# /run/secrets in the image): here a directory of our own stands in for /run/secrets.
SECRETS_DIR = Path(tempfile.mkdtemp(prefix="wsrelay-secrets-"))
(SECRETS_DIR / "jwt_secret").write_text(secrets.token_urlsafe(32) + "\n")
CRED_ENV = {"CREDENTIALS_DIRECTORY": str(SECRETS_DIR)}


def run(args, **kw):
    kw.setdefault("env", dict(os.environ, **CRED_ENV))
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def loopback_copy_of_host_config(tmp_path, public, metrics):
    """The mounted config with its 0.0.0.0 listeners moved to loopback test ports."""
    c = host_config()
    c["listen"] = f"127.0.0.1:{public}"
    c["metrics_listen"] = f"127.0.0.1:{metrics}"
    p = tmp_path / "config.json"
    p.write_text(json.dumps(c))
    return p


# ---- the Dockerfile ----

def test_two_stages_on_bookworm_slim():
    froms = instr("FROM")
    assert len(froms) == 2, froms
    assert re.fullmatch(r"debian:bookworm-slim\s+AS\s+build", froms[0], re.I), froms[0]
    assert froms[1].split()[0] == "debian:bookworm-slim", froms[1]


def test_build_stage_copies_real_sources_and_builds_release():
    for args in instr("COPY", stage=0):
        *sources, _dest = args.split()
        for src in sources:
            assert (ROOT / src).exists(), f"COPY source {src} is not in the repository"
    runs = " ".join(instr("RUN", stage=0))
    assert "-DCMAKE_BUILD_TYPE=Release" in runs
    assert "--target wsrelay" in runs


def test_runtime_copies_the_binary_the_build_produces():
    runs = " ".join(instr("RUN", stage=0))
    build_dir = re.search(r"cmake -S \S+ -B (\S+)", runs).group(1)
    copies = [a for a in instr("COPY", stage=final_stage()) if a.startswith("--from=build")]
    src_dst = [a.split()[1:] for a in copies]
    binary = [(s, d) for s, d in src_dst if d == "/usr/bin/wsrelay"]
    assert binary, f"no COPY --from=build ... /usr/bin/wsrelay in {copies}"
    # The built binary sits at <build dir>/daemon/wsrelay, as in this CMake tree.
    build_root = Path(os.environ.get("WSRELAY_BUILD_DIR", Path(BIN).parents[1]))
    rel = Path(BIN).resolve().relative_to(build_root.resolve())
    assert binary[0][0] == f"{build_dir}/{rel}"


def test_runtime_stage_runs_as_non_root():
    users = instr("USER", stage=final_stage())
    assert users, "the runtime stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users
    runs = " ".join(instr("RUN", stage=final_stage()))
    if user.isdigit():  # the numeric uid is the one created
        assert re.search(rf"useradd\b.*--uid {user}\b", runs), runs


def test_entrypoint_and_cmd_are_exec_form_and_valid():
    (entry,) = instr("ENTRYPOINT")
    (cmd,) = instr("CMD")
    assert exec_form(entry) == ["wsrelay"]
    cmd = exec_form(cmd)
    assert cmd[0] == "--config", cmd
    config_in_image = cmd[1]
    # The image ships a config at that path, and compose mounts the host one over it.
    copies = {a.split()[-1]: a.split()[-2] for a in instr("COPY", stage=final_stage())}
    assert config_in_image in copies, f"nothing is copied to {config_in_image}"
    assert (ROOT / copies[config_in_image]) == HOST_CONFIG
    mounts = compose()["services"]["wsrelay"]["volumes"]
    assert f"./{HOST_CONFIG.name}:{config_in_image}:ro" in mounts, mounts
    # ENTRYPOINT + CMD with the mounted file, as the container runs it, validates.
    r = run([BIN, *[str(HOST_CONFIG) if a == config_in_image else a for a in cmd],
             "--check-config"])
    assert r.returncode == 0, r.stderr


def test_flags_used_by_the_files_exist_in_the_binary():
    r = run([BIN, "--help"])
    assert r.returncode == 0, r.stderr
    used = set()
    for args in instr("CMD") + instr("HEALTHCHECK") + instr("RUN", stage=0):
        used |= set(re.findall(r"(?<![\w-])--(?:config|healthcheck|version|listen|"
                               r"metrics-listen|check-config)\b", args))
    assert {"--config", "--healthcheck"} <= used
    for flag in used:
        assert flag in r.stdout, f"{flag} is not in wsrelay --help"
    assert run([BIN, "--version"]).returncode == 0


def test_expose_matches_the_listeners():
    exposed = {int(p.split("/")[0]) for a in instr("EXPOSE") for p in a.split()}
    public, metrics = effective_listen()
    assert exposed == {port_of(public), port_of(metrics)}
    # The image's own config (no compose) listens on the exposed ports on all interfaces.
    c = host_config()
    assert c["listen"] == f"0.0.0.0:{port_of(public)}"
    assert c["metrics_listen"] == f"0.0.0.0:{port_of(metrics)}"


def test_stop_signal_is_sigterm():
    assert instr("STOPSIGNAL") == ["SIGTERM"]


def test_healthcheck_targets_the_public_health_endpoint():
    cmd = healthcheck_cmd()
    assert cmd[:2] == ["wsrelay", "--healthcheck"], cmd
    url = urlsplit(cmd[2])
    assert url.scheme == "http" and url.hostname == "127.0.0.1" and url.path == "/healthz"
    assert url.port == port_of(effective_listen()[0])


def apt_installs(stage):
    runs = " ".join(instr("RUN", stage=stage))
    m = re.search(r"apt-get install (?:-\S+ )*(.*?)(?:&&|$)", runs)
    assert m, f"no apt-get install in stage {stage}"
    return {p for p in m.group(1).split() if not p.startswith("-")}


def test_runtime_stage_installs_exactly_the_linked_libraries():
    # The binary's own DT_NEEDED entries; their dependencies come with their packages.
    dyn = run(["readelf", "-d", BIN])
    assert dyn.returncode == 0, dyn.stderr
    direct = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", dyn.stdout))
    ldd = run(["ldd", BIN])
    assert ldd.returncode == 0, ldd.stderr
    paths = dict(re.findall(r"^\s*(\S+)\s+=>\s+(/\S+)", ldd.stdout, re.M))
    needed = set()
    for soname in direct:
        if re.search(r"lib(a|ub|t|l)san", soname):  # sanitizer runtimes of a test build
            continue
        lib = paths.get(soname, soname)
        owner = run(["dpkg", "-S", os.path.realpath(lib)])
        if owner.returncode != 0:  # usrmerge: dpkg knows the /lib path
            owner = run(["dpkg", "-S", lib])
        assert owner.returncode == 0, f"no package owns {lib}"
        needed.add(owner.stdout.split(":")[0])
    assert "libssl.so.3" in direct and "libc.so.6" in direct, direct
    installed = apt_installs(final_stage())
    missing = needed - installed - BASE_IMAGE_PACKAGES
    assert not missing, f"runtime stage lacks {sorted(missing)}"
    extra = installed - needed
    assert not extra, f"runtime stage installs unneeded {sorted(extra)}"


def test_build_stage_installs_the_debian_build_depends():
    control = (ROOT / "packaging/debian/control").read_text()
    field = re.search(r"^Build-Depends:(.*?)^\S", control, re.M | re.S).group(1)
    build_depends = {re.split(r"[\s(]", d.strip())[0] for d in field.split(",") if d.strip()}
    build_depends -= {"debhelper-compat"}
    assert build_depends <= apt_installs(0), build_depends - apt_installs(0)
    assert not any(p.endswith("-dev") for p in apt_installs(final_stage()))


# ---- compose.yaml ----

@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose not installed")
def test_docker_compose_config_accepts_the_file():
    r = run(["docker-compose", "-f", str(COMPOSE), "config", "-q"])
    assert r.returncode == 0, r.stderr


def test_compose_builds_this_dockerfile_and_mounts_the_config():
    svc = compose()["services"]["wsrelay"]
    context = (COMPOSE.parent / svc["build"]["context"]).resolve()
    assert context == ROOT.resolve()
    assert (context / svc["build"]["dockerfile"]).resolve() == DOCKERFILE.resolve()
    for volume in svc["volumes"]:
        assert (COMPOSE.parent / volume.split(":")[0]).exists(), volume


def test_compose_ports_health_and_stop_match_the_binary():
    svc = compose()["services"]["wsrelay"]
    public, metrics = effective_listen()
    container_ports = {int(p.split(":")[-1].split("/")[0]) for p in svc["ports"]}
    assert container_ports == {port_of(public), port_of(metrics)}
    assert svc["healthcheck"]["test"] == ["CMD", *healthcheck_cmd()]
    assert svc.get("stop_signal", "SIGTERM") == "SIGTERM"
    drain_ms = host_config().get("limits", {}).get("drain_timeout_ms", 10000)
    assert duration_seconds(svc["stop_grace_period"]) >= drain_ms / 1000


def test_compose_app_waits_for_a_healthy_relay_and_publishes_to_it():
    services = compose()["services"]
    app = services["app"]
    assert app["depends_on"]["wsrelay"]["condition"] == "service_healthy"
    url = urlsplit(app["environment"]["PUBLISH_URL"])
    assert url.hostname == "wsrelay" and url.port == port_of(effective_listen()[0])
    assert re.fullmatch(r"/channels/[A-Za-z0-9._:/-]{1,200}", url.path)
    # The script it runs is the one in this directory.
    mounts = {v.split(":")[1]: v.split(":")[0] for v in app["volumes"]}
    script = app["command"][-1]
    assert (COMPOSE.parent / mounts[script]).is_file()


# ---- against a running wsrelay ----

@pytest.fixture
def relay(tmp_path):
    """wsrelay run the way the container runs it, on loopback test ports: the mounted config
    (listeners moved to loopback) with WSRELAY_LISTEN / WSRELAY_METRICS_LISTEN overriding."""
    file_public, public, metrics = (relayproc.free_port() for _ in range(3))
    config = loopback_copy_of_host_config(tmp_path, file_public, relayproc.free_port())
    env = {"WSRELAY_LISTEN": f"127.0.0.1:{public}",
           "WSRELAY_METRICS_LISTEN": f"127.0.0.1:{metrics}", **CRED_ENV}
    with relayproc.Relay(BIN, ["--config", str(config)], env=env, port=public) as r:
        r.metrics_port = metrics
        r.config = config
        r.wait_ready()
        yield r


def on_port(cmd, port):
    """A HEALTHCHECK command retargeted from the container port to a test port."""
    return [BIN if a == "wsrelay" else re.sub(r":\d+/", f":{port}/", a) for a in cmd]


def test_environment_overrides_move_both_listeners(relay):
    assert relayproc.http_request(relay.port, "GET", "/healthz")[0] == 200
    status, body = relayproc.http_request(relay.metrics_port, "GET", "/metrics")
    assert status == 200 and b"wsrelay_connections" in body


def test_healthcheck_command_passes_on_a_live_relay_and_fails_after_stop(relay):
    cmd = on_port(healthcheck_cmd(), relay.port)
    r = run(cmd)
    assert r.returncode == 0, r.stderr
    assert relay.stop() == 0
    r = run(cmd)
    assert r.returncode == 1


def test_example_app_publishes_to_subscribers(relay):
    app = compose()["services"]["app"]
    channel = urlsplit(app["environment"]["PUBLISH_URL"]).path.split("/channels/", 1)[1]
    env = dict(os.environ, PUBLISH_URL=f"http://127.0.0.1:{relay.port}/channels/{channel}",
               PUBLISH_INTERVAL="0.05", PUBLISH_COUNT="3")
    script = str(DOCKER / "app" / "publisher.py")

    def publish():
        return subprocess.run([sys.executable, script], env=env, capture_output=True,
                              text=True, timeout=30)

    # Subscribing takes a token (the config requires them); gen-token signs it with the key.
    tok = run([BIN, "gen-token", "--config", str(relay.config), "--sub", "t", "--subscribe",
               channel])
    assert tok.returncode == 0, tok.stderr
    got, done = asyncio.run(relayproc.subscribe_and_receive(relay.port, channel, publish, 3,
                                                            token=tok.stdout.strip()))
    assert done.returncode == 0, done.stderr
    assert [json.loads(m)["seq"] for m in got] == [0, 1, 2]
    assert "delivered to 1" in done.stdout
    # The channel is HTTP-publish only in this config: a browser cannot post into it.
    opts = [c for c in host_config().get("channels", []) if c["match"] == channel]
    assert opts and opts[0]["publish"] in ("http", "both")


def test_sigterm_drains_and_exits_zero(relay):
    assert relay.stop(signal.SIGTERM) == 0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, *sys.argv[1:]]))

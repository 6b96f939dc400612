"""deploy/docker/Dockerfile, built and run in a real Docker engine the way compose.yaml runs
it (read-only root, every capability dropped, no-new-privileges, uid 10001): the HEALTHCHECK
reports healthy, a WebSocket subscriber on the host receives an HTTP publish through the
published port, and `docker stop` drains: the subscriber gets close 1001, the container
exits 0 (not 137, a SIGKILL) within the grace period. Needs root (starts dockerd)."""
import asyncio
import sys
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).parent))
import dockerenv  # noqa: E402
import relayproc  # noqa: E402

GRACE_S = 15  # compose.yaml's stop_grace_period: above drain_timeout_ms (10 s)
UID = "10001"  # the Dockerfile's USER


@pytest.fixture
def container(relay_image, tmp_path):
    """The image run with compose.yaml's wsrelay hardening, its port on 127.0.0.1, and the
    token secret its config requires at /run/secrets/jwt_secret (as compose's secret)."""
    name = dockerenv.unique_name("wsrelay-test")
    port = relayproc.free_port()
    secret = tmp_path / "jwt.secret"
    secret.write_text(dockerenv.run(["docker", "run", "--rm", relay_image, "gen-key"],
                                    check=True).stdout)
    secret.chmod(0o644)  # read by uid 10001 through the bind mount
    try:
        dockerenv.run(["docker", "run", "-d", "--name", name,
                       "-v", f"{secret}:/run/secrets/jwt_secret:ro",
                       "-p", f"127.0.0.1:{port}:8080", "--read-only", "--cap-drop", "ALL",
                       "--security-opt", "no-new-privileges:true", "--user", f"{UID}:{UID}",
                       relay_image], check=True)
        yield name, port
    finally:
        dockerenv.remove(name)


def test_healthcheck_reports_healthy_and_the_hardening_holds(container):
    name, port = container
    # HEALTHCHECK --interval=10s --start-period=5s: the first probe runs ~10 s after start.
    status = dockerenv.wait_for("container healthy",
                                lambda: dockerenv.health(name) in ("healthy", "unhealthy")
                                and dockerenv.health(name), timeout=60)
    assert status == "healthy", dockerenv.logs(name)
    probes = dockerenv.inspect(name)["State"]["Health"]["Log"]
    assert probes and probes[-1]["ExitCode"] == 0, probes
    assert relayproc.http_request(port, "GET", "/healthz")[0] == 200
    # PID 1 is wsrelay as uid 10001 with no capability at all.
    status_lines = dockerenv.run(["docker", "exec", name, "cat", "/proc/1/status"],
                                 check=True).stdout
    fields = dict(line.split(":", 1) for line in status_lines.splitlines() if ":" in line)
    assert fields["Name"].strip() == "wsrelay"
    assert fields["Uid"].split()[:2] == [UID, UID], fields["Uid"]
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapBnd"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    # Read-only root: nothing can be written, not even by a process in the container.
    r = dockerenv.run(["docker", "exec", name, "touch", "/tmp/x"])
    assert r.returncode != 0 and "Read-only file system" in r.stderr, r.stderr


def gen_token(name, *grants):
    """`wsrelay gen-token` inside the container, with the image's config and secret."""
    r = dockerenv.run(["docker", "exec", name, "wsrelay", "gen-token", "--config",
                       "/etc/wsrelay/config.json", "--sub", "container-test", *grants], check=True)
    return r.stdout.strip()


async def subscribe_publish_then_stop(name, port):
    # The image's config requires tokens: none is refused with 401, gen-token's is taken.
    with pytest.raises(websockets.InvalidStatusCode) as refused:
        await websockets.connect(f"ws://127.0.0.1:{port}/channels/news", open_timeout=10)
    assert refused.value.status_code == 401
    token = await asyncio.to_thread(gen_token, name, "--subscribe", "news")
    uri = f"ws://127.0.0.1:{port}/channels/news?token={token}"
    async with websockets.connect(uri, open_timeout=10, close_timeout=2) as ws:
        status, body = await asyncio.to_thread(
            relayproc.http_request, port, "POST", "/channels/news", b'{"text":"through docker"}',
            {"Content-Type": "application/json"})
        assert status == 200, body
        assert await asyncio.wait_for(ws.recv(), 10) == '{"text":"through docker"}'
        stop = asyncio.create_task(asyncio.to_thread(
            dockerenv.run, ["docker", "stop", "-t", str(GRACE_S), name], GRACE_S + 30))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), GRACE_S + 10)
        r = await stop
        assert r.returncode == 0, r.stderr
        return closed.value


def test_relays_a_message_then_docker_stop_drains_with_1001_and_exit_0(container):
    name, port = container
    dockerenv.wait_for("wsrelay answers /healthz", lambda: _healthz(port), timeout=60)
    closed = asyncio.run(subscribe_publish_then_stop(name, port))
    assert closed.rcvd is not None and closed.rcvd.code == 1001, closed
    state = dockerenv.inspect(name)["State"]
    # 0 = wsrelay exited by itself after draining; SIGKILL at the end of the grace is 137.
    assert state["Status"] == "exited" and state["ExitCode"] == 0, (state,
                                                                     dockerenv.logs(name))
    assert not state["OOMKilled"]


def _healthz(port):
    try:
        return relayproc.http_request(port, "GET", "/healthz", timeout=2)[0] == 200
    except OSError:
        return False

"""deploy/docker/compose.yaml, brought up for real with docker-compose: the relay and the
example app (built FROM debian:bookworm-slim, nothing pulled) talk over the bridge network
compose makes; the app's HTTP publishes reach a WebSocket subscriber on the host through the
published 127.0.0.1 port, and the demo page at /?channel=news shows them (a Chromium
screenshot lands in the test output dir). `docker-compose down` stops both with exit 0.
Needs root (starts dockerd)."""
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).parent))
import dockerenv  # noqa: E402
import relayproc  # noqa: E402

COMPOSE = dockerenv.ROOT / "deploy/docker/compose.yaml"
NODE_PATH = os.environ.get("NODE_PATH", str(dockerenv.ROOT / "tests/node/node_modules"))


@pytest.fixture(scope="module")
def app_image(docker_engine):
    return dockerenv.build(dockerenv.APP_IMAGE, dockerenv.ROOT / "deploy/docker/app/Dockerfile",
                           dockerenv.ROOT / "deploy/docker/app", "docker-build-app.log")


@pytest.fixture(scope="module")
def stack(relay_image, app_image, tmp_path_factory):
    """`docker-compose up -d` of compose.yaml with the session's images on free ports, and a
    token secret made by `wsrelay gen-key` as compose.yaml says."""
    project = dockerenv.unique_name("wsrelaytest").replace("-", "")
    port, metrics = relayproc.free_port(), relayproc.free_port()
    secret = tmp_path_factory.mktemp("compose") / "jwt.secret"
    secret.write_text(dockerenv.run(["docker", "run", "--rm", relay_image, "gen-key"],
                                    check=True).stdout)
    secret.chmod(0o644)  # read by uid 10001 through the bind mount
    env = dict(os.environ, WSRELAY_IMAGE=relay_image, WSRELAY_APP_IMAGE=app_image,
               WSRELAY_PORT=str(port), WSRELAY_METRICS_PORT=str(metrics), PUBLISH_INTERVAL="1",
               WSRELAY_JWT_SECRET=str(secret))
    compose = ["docker-compose", "-p", project, "-f", str(COMPOSE)]
    try:
        # up waits for the relay's HEALTHCHECK before it starts the app (service_healthy).
        dockerenv.run([*compose, "up", "-d", "--no-build"], timeout=180, env=env, check=True)
        yield {"compose": compose, "env": env, "port": port, "metrics": metrics,
               "project": project}
    finally:
        r = dockerenv.run([*compose, "logs", "--no-color"], timeout=60, env=env)
        dockerenv.OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        (dockerenv.OUTPUT_DIR / "compose.log").write_text(r.stdout + r.stderr)
        dockerenv.run([*compose, "down", "-v", "-t", "20"], timeout=120, env=env)


def container_of(stack, service):
    r = dockerenv.run([*stack["compose"], "ps", "-q", service], env=stack["env"], check=True)
    return r.stdout.strip()


def gen_token(stack, *grants):
    """`wsrelay gen-token` in the relay's container (its config, its secret)."""
    r = dockerenv.run([*stack["compose"], "exec", "-T", "wsrelay", "wsrelay", "gen-token",
                       "--config", "/etc/wsrelay/config.json", "--sub", "compose-test", *grants],
                      env=stack["env"], check=True)
    return r.stdout.strip()


async def receive(port, channel, count, token, timeout=30):
    async with websockets.connect(f"ws://127.0.0.1:{port}/channels/{channel}?token={token}",
                                  open_timeout=10, close_timeout=2) as ws:
        return [json.loads(await asyncio.wait_for(ws.recv(), timeout)) for _ in range(count)]


def test_relay_is_healthy_and_hardened_as_the_file_says(stack):
    relay = container_of(stack, "wsrelay")
    assert dockerenv.health(relay) == "healthy"
    host = dockerenv.inspect(relay)["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["PortBindings"]["8080/tcp"] == [{"HostIp": "127.0.0.1",
                                                 "HostPort": str(stack["port"])}]
    assert dockerenv.inspect(relay, "{{.Config.User}}") == "10001:10001"


def test_app_publishes_reach_a_subscriber_on_the_host(stack):
    with pytest.raises(websockets.InvalidStatusCode) as refused:  # tokens are required
        asyncio.run(receive(stack["port"], "news", 1, token=""))
    assert refused.value.status_code == 401
    got = asyncio.run(receive(stack["port"], "news", 3, gen_token(stack, "--subscribe", "news")))
    assert all(m["name"] == "app" and m["text"] == f"news item {m['seq']}" for m in got), got
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3, seqs
    # The app reached the relay by its service name over compose's network, not the host.
    app = container_of(stack, "app")
    assert "http://wsrelay:8080/channels/news" in dockerenv.logs(app)
    networks = dockerenv.inspect(app)["NetworkSettings"]["Networks"]
    assert list(networks) == [f"{stack['project']}_default"], networks


def test_demo_page_shows_the_apps_channel(stack):
    shot = dockerenv.OUTPUT_DIR / "compose-demo-page.png"
    shot.unlink(missing_ok=True)
    token = gen_token(stack, "--subscribe", "news")  # the page sends it in {"op":"auth"}
    url = f"http://127.0.0.1:{stack['port']}/?channel=news&token={token}"
    p = subprocess.run(["node", str(dockerenv.HERE / "demo_screenshot.js"), url,
                        "app: news item", "2", str(shot)],
                       capture_output=True, text=True, timeout=90,
                       env=dict(os.environ, NODE_PATH=NODE_PATH))
    lines = p.stdout.strip().splitlines()
    assert lines, p.stderr
    result = json.loads(lines[-1])
    assert result["ok"], result.get("error")
    assert result["channel"] == "news"
    assert sum("app: news item" in i for i in result["items"]) >= 2, result["items"]
    assert shot.stat().st_size > 0


def test_compose_stop_drains_both_services_to_exit_0(stack):
    relay, app = container_of(stack, "wsrelay"), container_of(stack, "app")
    dockerenv.run([*stack["compose"], "stop", "-t", "20"], timeout=120, env=stack["env"],
                  check=True)
    for name in (relay, app):
        state = dockerenv.inspect(name)["State"]
        assert state["Status"] == "exited" and state["ExitCode"] == 0, (name, state)

"""Shared pieces of the container tests (test_container.py, test_compose.py,
test_systemd_unit.py): a Docker engine brought up by docker_env.sh, images built once per
pytest session, containers with unique names that are always removed, and bounded waits.
Nothing is pulled from a registry: every image builds FROM debian:bookworm-slim, which
docker_env.sh makes locally with mmdebstrap. Builds use --network host (apt-get inside a
build; dockerd runs with --iptables=false, so a bridge has no way out)."""
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

ROOT = Path(os.environ.get("RELAY_SOURCE_DIR", Path(__file__).resolve().parents[2]))
HERE = Path(__file__).resolve().parent
# Where screenshots and logs that outlive the test go (CTest sets it to the build dir).
OUTPUT_DIR = Path(os.environ.get("WSRELAY_TEST_OUTPUT_DIR", ROOT / "build-containers"))
# Where the engine runs on vfs (docker_env.sh picks overlay2 when it can), every layer is a
# full copy of a file system: a build stage with compilers costs gigabytes. So the build cache (dangling build-stage layers) is
# dropped after each build and the test images at the end of the run, unless
# WSRELAY_DOCKER_CACHE=keep (then a second run rebuilds nothing).
KEEP_CACHE = os.environ.get("WSRELAY_DOCKER_CACHE") == "keep"
RELAY_IMAGE = "wsrelay-test:latest"
APP_IMAGE = "wsrelay-test-app:latest"
SYSTEMD_IMAGE = "wsrelay-test-systemd:latest"
BUILD_TIMEOUT = 1800  # a cold build compiles wsrelay on a busy 2-core machine


def run(args, timeout=120, check=False, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, f"{' '.join(map(str, args))} -> {r.returncode}:\n" \
                                  f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def start_engine():
    """Returns None when an engine answers, else why it could not be started."""
    if os.geteuid() != 0:
        return "the container tests start dockerd: run them as root (CI does)"
    r = run(["bash", str(HERE / "docker_env.sh"), "start"], timeout=1200)
    if r.returncode != 0:
        return f"dockerd could not start: {r.stderr[-2000:]}"
    return None


def build(tag, dockerfile, context, log_name):
    """docker build, its log kept in OUTPUT_DIR; fails the test with the log's tail."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    r = run(["docker", "build", "--network", "host", "-f", str(dockerfile), "-t", tag,
             str(context)], timeout=BUILD_TIMEOUT)
    (OUTPUT_DIR / log_name).write_text(r.stdout + r.stderr)
    if not KEEP_CACHE:
        run(["docker", "image", "prune", "-f"], timeout=600)
    assert r.returncode == 0, f"docker build {tag} failed:\n{(r.stdout + r.stderr)[-4000:]}"
    return tag


def remove_test_images():
    """Drops the images this run built (and anything left dangling), unless the cache is kept."""
    if KEEP_CACHE:
        return
    run(["docker", "image", "rm", "-f", RELAY_IMAGE, APP_IMAGE, SYSTEMD_IMAGE], timeout=600)
    run(["docker", "image", "prune", "-f"], timeout=600)


def unique_name(prefix):
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def inspect(name, fmt=None):
    if fmt:
        return run(["docker", "inspect", "-f", fmt, name], check=True).stdout.strip()
    return json.loads(run(["docker", "inspect", name], check=True).stdout)[0]


def remove(name):
    run(["docker", "rm", "-f", "-v", name], timeout=60)


def wait_for(what, predicate, timeout, interval=0.5):
    """Polls predicate() until it returns a truthy value (returned) or fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


def health(name):
    return inspect(name, "{{if .State.Health}}{{.State.Health.Status}}{{end}}")


def logs(name):
    r = run(["docker", "logs", name], timeout=30)
    return r.stdout + r.stderr

"""deploy/systemd/wsrelay.{service,socket} under a real systemd (Debian 12's 252) as PID 1:
a container booted with /lib/systemd/systemd and the wsrelay .deb installed (the .deb that
packaging/build-deb.sh made, WSRELAY_DEB_DIR). Checked live:
  - Type=notify: `systemctl start` returns once READY=1 came, and the relay answers then;
  - reload: RELOADING=1 then READY=1, and the new limit holds for clients, same MainPID;
  - WatchdogSec=: a SIGSTOPped process is killed and restarted (NRestarts grows, new PID);
  - exit 78 (bad config) fails the unit with Result=exit-code and is not restarted;
  - hardening: a dynamic uid, no capabilities, a read-only file system around it;
  - wsrelay.socket: no connection is refused while the service restarts.
Clients run in the container's network namespace (netns_client.py), on its 127.0.0.1.
The manager logs at debug level during the test, so the journal shows each sd_notify message.
Needs root (starts dockerd)."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import dockerenv  # noqa: E402

DEB_DIR = Path(os.environ.get("WSRELAY_DEB_DIR", dockerenv.ROOT / "build-deb"))
PORT = 8080  # the packaged config's listen (127.0.0.1:8080) and wsrelay.socket's address
DYNAMIC_UIDS = range(61184, 65519 + 1)
CONFIG = "/etc/wsrelay/config.json"
DROPIN_DIR = "/etc/systemd/system/wsrelay.service.d"
# Debian's systemd 252 boots in an unprivileged container with these (no --privileged).
BOOT_FLAGS = ["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
              "--security-opt", "seccomp=unconfined", "--cgroupns=host",
              "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run",
              "--tmpfs", "/run/lock"]
# systemd mounts each service's credentials directory (LoadCredential=, which the packaged
# unit uses for the token secret) in a child and relies on mount propagation to make it
# visible: /run must be a shared mount, as systemd's CONTAINER_INTERFACE asks of container
# managers. Docker's --tmpfs mounts are private, so make the tree shared before systemd starts.
BOOT_COMMAND = ["/bin/sh", "-c", "mount --make-rshared / && exec /lib/systemd/systemd"]


@pytest.fixture(scope="module")
def systemd_image(docker_engine):
    debs = glob.glob(str(DEB_DIR / "wsrelay_*.deb"))
    assert len(debs) == 1, f"expected one wsrelay_*.deb in {DEB_DIR} (packaging_build_deb)"
    with tempfile.TemporaryDirectory(prefix="wsrelay-systemd-image-") as ctx:
        shutil.copy(debs[0], ctx)
        shutil.copy(dockerenv.HERE / "systemd.Dockerfile", Path(ctx) / "Dockerfile")
        return dockerenv.build(dockerenv.SYSTEMD_IMAGE, Path(ctx) / "Dockerfile", ctx,
                               "docker-build-systemd.log")


class Machine:
    """The booted container: systemctl, files and clients inside it."""

    def __init__(self, name):
        self.name = name
        self.pid = int(dockerenv.inspect(name, "{{.State.Pid}}"))

    def sh(self, script, timeout=60, check=False):
        return dockerenv.run(["docker", "exec", self.name, "sh", "-c", script],
                             timeout=timeout, check=check)

    def systemctl(self, *args, timeout=60, check=False):
        return dockerenv.run(["docker", "exec", self.name, "systemctl", *args],
                             timeout=timeout, check=check)

    def show(self, unit="wsrelay.service", *props):
        r = self.systemctl("show", unit, "-p", ",".join(props), check=True)
        return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)

    def write(self, path, text):
        r = dockerenv.run(["docker", "exec", "-i", self.name, "sh", "-c", f"cat > {path}"],
                          input=text, check=True)
        return r

    def journal_since(self, cursor, unit="wsrelay.service"):
        return self.sh(f"journalctl -o cat --no-pager --after-cursor='{cursor}' -u {unit}"
                       ).stdout

    def cursor(self):
        r = self.sh("journalctl -n 0 --show-cursor --no-pager", check=True)
        return r.stdout.strip().rsplit("cursor: ", 1)[-1]

    def token(self):
        """A token from the packaged config's key (the secret the .deb's postinst made),
        made the way wsrelay.service's comment tells an operator to."""
        r = self.sh("CREDENTIALS_DIRECTORY=/etc/wsrelay wsrelay gen-token --config "
                    f"{CONFIG} --sub systemd-test --subscribe '*' --publish '*'", check=True)
        return r.stdout.strip()

    def client(self, *args, timeout=60):
        """netns_client.py in this container's network namespace, with a token; its JSON line."""
        r = dockerenv.run(["nsenter", "-t", str(self.pid), "-n", sys.executable,
                           str(dockerenv.HERE / "netns_client.py"), *map(str, args)],
                          timeout=timeout, env=dict(os.environ, WSRELAY_TOKEN=self.token()))
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    def config(self, **limits):
        """The packaged conffile with `limits` changed."""
        c = json.loads(self.sh(f"cat {CONFIG}", check=True).stdout)
        c["limits"].update(limits)
        c["channels"] = [{"match": "news", "publish": "both"}]
        return json.dumps(c, indent=2)


@pytest.fixture(scope="module")
def machine(systemd_image):
    name = dockerenv.unique_name("wsrelay-systemd")
    try:
        dockerenv.run(["docker", "run", "-d", "--name", name, *BOOT_FLAGS, systemd_image,
                       *BOOT_COMMAND], check=True)
        m = Machine(name)

        def booted():
            state = m.systemctl("is-system-running").stdout.strip()
            return state if state in ("running", "degraded") else None

        state = dockerenv.wait_for("systemd boots", booted, timeout=120)
        assert state == "running", m.systemctl("--failed", "--no-pager").stdout
        m.sh("systemd-analyze set-log-level debug", check=True)
        m.original_config = m.sh(f"cat {CONFIG}", check=True).stdout
        yield m
    finally:
        r = dockerenv.run(["docker", "exec", name, "journalctl", "--no-pager", "-o",
                           "short-precise"], timeout=60)
        dockerenv.OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        (dockerenv.OUTPUT_DIR / "systemd-journal.log").write_text(r.stdout + r.stderr)
        dockerenv.remove(name)


@pytest.fixture
def service(machine):
    """wsrelay.service running from the packaged unit with a known config; undone after."""
    machine.write(CONFIG, machine.config())
    machine.systemctl("reset-failed", "wsrelay.service")
    machine.systemctl("restart", "wsrelay.service", check=True)
    yield machine
    machine.sh(f"rm -rf {DROPIN_DIR} /etc/systemd/system/wsrelay.socket.d", check=True)
    machine.systemctl("daemon-reload", check=True)
    machine.systemctl("stop", "wsrelay.socket", "wsrelay.service")
    machine.write(CONFIG, machine.original_config)
    machine.systemctl("reset-failed", "wsrelay.service")


def notify_lines(journal):
    """The manager's debug lines for wsrelay's sd_notify datagrams, in order."""
    return [line for line in journal.splitlines() if "Got notification message" in line]


def test_boot_enables_and_starts_the_packaged_service(machine):
    props = machine.show("wsrelay.service", "ActiveState", "SubState", "UnitFileState",
                         "Type", "FragmentPath")
    assert props == {"ActiveState": "active", "SubState": "running",
                     "UnitFileState": "enabled", "Type": "notify",
                     "FragmentPath": "/lib/systemd/system/wsrelay.service"}, props


def test_start_returns_after_ready_and_the_relay_answers(service):
    m = service
    m.systemctl("stop", "wsrelay.service", check=True)
    cursor = m.cursor()
    m.systemctl("start", "wsrelay.service", check=True)
    # start blocks until READY=1: right after it returns the relay already relays.
    assert m.client("relay", PORT) == {"status": 200, "got": "under systemd"}
    journal = m.journal_since(cursor)
    lines = journal.splitlines()
    ready = next(i for i, l in enumerate(lines) if "Got notification message" in l
                 and "READY=1" in l)
    started = next(i for i, l in enumerate(lines) if l.startswith("Started "))
    listening = next(i for i, l in enumerate(lines) if "listening on 127.0.0.1:8080" in l)
    assert listening < ready < started, journal
    status = m.show("wsrelay.service", "StatusText", "ActiveState")
    assert status["ActiveState"] == "active"
    assert status["StatusText"], status  # STATUS= with the connection counts


def test_reload_goes_through_reloading_and_ready_and_applies_a_limit(service):
    m = service
    pid = m.show("wsrelay.service", "MainPID")["MainPID"]
    assert m.client("connections", PORT, 3) == {"open": 3, "refused": []}
    m.write(CONFIG, m.config(max_connections=2))
    cursor = m.cursor()
    m.systemctl("reload", "wsrelay.service", check=True)
    journal = m.journal_since(cursor)
    notes = notify_lines(journal)
    reloading = next(i for i, l in enumerate(notes) if "RELOADING=1" in l)
    assert any("READY=1" in l for l in notes[reloading:]), notes
    assert "config reloaded from" in journal, journal
    # The new limit is live for clients, and it was a reload, not a restart.
    after = m.client("connections", PORT, 3)
    assert after == {"open": 2, "refused": [503]}, after
    props = m.show("wsrelay.service", "MainPID", "ActiveState")
    assert props == {"MainPID": pid, "ActiveState": "active"}, props


def test_watchdog_restarts_a_process_that_stops_answering(service):
    m = service
    # The packaged WatchdogSec=30s, shortened so the test waits seconds, not a minute.
    m.sh(f"mkdir -p {DROPIN_DIR} && printf '[Service]\\nWatchdogSec=4s\\n' "
         f"> {DROPIN_DIR}/watchdog.conf", check=True)
    m.systemctl("daemon-reload", check=True)
    m.systemctl("restart", "wsrelay.service", check=True)
    before = m.show("wsrelay.service", "MainPID", "NRestarts", "WatchdogUSec")
    assert before["WatchdogUSec"] == "4s", before
    time.sleep(6)  # longer than the watchdog: WATCHDOG=1 keeps a healthy process alive
    assert m.show("wsrelay.service", "MainPID", "NRestarts") == {
        "MainPID": before["MainPID"], "NRestarts": before["NRestarts"]}
    cursor = m.cursor()
    m.sh(f"kill -STOP {before['MainPID']}", check=True)

    def restarted():
        now = m.show("wsrelay.service", "MainPID", "NRestarts", "ActiveState")
        return (now if now["ActiveState"] == "active" and now["MainPID"] not in
                ("0", before["MainPID"]) else None)

    now = dockerenv.wait_for("watchdog restart", restarted, timeout=60)
    assert int(now["NRestarts"]) == int(before["NRestarts"]) + 1, (before, now)
    # The manager's own account: the watchdog fired (its debug state change is the line
    # that is always there; "Watchdog timeout" is logged too but may land in another order).
    journal = m.journal_since(cursor)
    assert "running -> stop-watchdog" in journal or "Watchdog timeout" in journal, journal
    assert m.client("relay", PORT)["got"] == "under systemd"


def test_bad_config_exits_78_and_is_not_restarted(service):
    m = service
    m.write(CONFIG, "{ this is not json")
    r = m.systemctl("restart", "wsrelay.service")
    assert r.returncode != 0
    props = ("ActiveState", "Result", "ExecMainStatus", "NRestarts")
    failed = m.show("wsrelay.service", *props)
    assert failed["ActiveState"] == "failed" and failed["Result"] == "exit-code", failed
    assert failed["ExecMainStatus"] == "78", failed
    time.sleep(5)  # more than RestartSec=2s: a restart would have happened by now
    assert m.show("wsrelay.service", *props) == failed


def test_hardening_holds_in_the_running_process(service):
    m = service
    pid = m.show("wsrelay.service", "MainPID")["MainPID"]
    status = dict(line.split(":", 1) for line in
                  m.sh(f"cat /proc/{pid}/status", check=True).stdout.splitlines())
    uid = int(status["Uid"].split()[0])
    assert uid in DYNAMIC_UIDS, status["Uid"]
    assert int(status["CapEff"], 16) == 0 and int(status["CapBnd"], 16) == 0
    assert status["NoNewPrivs"].strip() == "1"
    assert status["Seccomp"].strip() == "2"  # SystemCallFilter= is a seccomp filter
    user = m.sh(f"ps -o user= -p {pid}", check=True).stdout.strip()
    # DynamicUser= names the uid after the unit (the image has libnss-systemd to resolve it).
    assert user == "wsrelay", user
    # ProtectSystem=strict: /, /usr and /etc are read-only in its mount namespace.
    mounts = {}
    for line in m.sh(f"cat /proc/{pid}/mountinfo", check=True).stdout.splitlines():
        f = line.split()
        mounts[f[4]] = f[5].split(",")
    for path in ("/", "/usr", "/etc"):
        opts = mounts.get(path) or mounts["/"]
        assert "ro" in opts, (path, opts)
    # Its view of the file system refuses writes even to root, outside /tmp (PrivateTmp).
    for target in ("/etc/wsrelay/x", "/var/lib/x", "/usr/x"):
        r = dockerenv.run(["nsenter", "-t", _host_pid(m, pid), "-m", "touch", target])
        assert r.returncode != 0 and "Read-only file system" in r.stderr, (target, r.stderr)
    # /home is not even there (ProtectHome=yes), /tmp is private.
    r = dockerenv.run(["nsenter", "-t", _host_pid(m, pid), "-m", "ls", "/home"])
    assert r.returncode != 0 or r.stdout.strip() == "", r.stdout


def _host_pid(m, pid_in_container):
    """The host pid of a process in the container (nsenter runs on the host)."""
    pidns = os.readlink(f"/proc/{m.pid}/ns/pid")
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or os.readlink(proc / "ns/pid") != pidns:
                continue
            nspid = (proc / "status").read_text().split("NSpid:", 1)[1].split("\n", 1)[0]
        except (OSError, IndexError):
            continue
        if nspid.split()[-1] == str(pid_in_container):
            return proc.name
    raise AssertionError(f"no host pid for {pid_in_container} in {m.name}")


def test_socket_activation_refuses_no_connection_during_restart(service):
    m = service
    m.systemctl("stop", "wsrelay.service", check=True)
    m.systemctl("start", "wsrelay.socket", check=True)
    m.systemctl("start", "wsrelay.service", check=True)
    cursor = m.cursor()
    loop = subprocess.Popen(["nsenter", "-t", str(m.pid), "-n", sys.executable,
                             str(dockerenv.HERE / "netns_client.py"), "connect-loop",
                             str(PORT), "8"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        pid = m.show("wsrelay.service", "MainPID")["MainPID"]
        m.systemctl("restart", "wsrelay.service", check=True)
        out, _ = loop.communicate(timeout=30)
    finally:
        if loop.poll() is None:
            loop.kill()
            loop.wait()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["refused"] == 0 and not result["other"], result
    assert result["ok"] > 0, result
    assert m.show("wsrelay.service", "MainPID")["MainPID"] != pid
    assert "listening on the public socket passed by systemd" in m.journal_since(cursor)

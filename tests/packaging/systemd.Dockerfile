# test_systemd_unit.py: Debian 12 with systemd as PID 1 and the wsrelay .deb installed the
# way an administrator installs it (apt resolves its Depends; the unit is enabled on install).
# Context: a directory holding this file and wsrelay_*.deb. Run with /lib/systemd/systemd as
# the command (see test_systemd_unit.py for the docker run flags that boot it unprivileged).
FROM debian:bookworm-slim
# One RUN layer: on a vfs-backed engine every layer is a full copy of the file system.
COPY wsrelay_*.deb /tmp/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      systemd systemd-sysv libnss-systemd dbus procps \
 && systemctl mask getty@tty1.service console-getty.service systemd-logind.service \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/wsrelay_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/wsrelay_*.deb
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]

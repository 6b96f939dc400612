#!/usr/bin/python3
"""Turns the JSON lines of tests/bench/run_all.sh into RESULTS.md and results.svg.

Each figure is the median over the runs of one relay; error counts (lost, duplicated,
reordered, re-typed, corrupt, misrouted, dropped connections) are summed over all runs.
The targets (the TABLE rows below) are the ones in README "Performance", for wsrelay.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

RELAYS = [("wsrelay", "wsrelay"), ("node", "Node `ws`")]
ERRORS = ["lost", "duplicated", "reordered", "retyped", "corrupt", "misrouted", "disconnects",
          "http_bad_responses"]
# R1 and M1 (history, issue 11): a wrong recovery ack, a replay out of order, a client that
# did not get all of it, a channel whose oldest message was not stored.
ERRORS += ["bad_acks", "out_of_order", "incomplete", "channels_missing_history"]


def get(rec, path):
    for part in path.split("."):
        if not isinstance(rec, dict) or part not in rec:
            return None
        rec = rec[part]
    return rec


class Results:
    def __init__(self, lines):
        self.by = {}
        for rec in lines:
            self.by.setdefault((rec["key"], rec["relay"]), []).append(rec)

    def runs(self, key, relay):
        return self.by.get((key, relay), [])

    def median(self, key, relay, path, quiet_only=False):
        vals = [get(r, path) for r in self.runs(key, relay) if not (quiet_only and r.get("noisy"))]
        vals = [v for v in vals if isinstance(v, (int, float))]
        return statistics.median(vals) if vals else None

    def errors(self, key, relay):
        runs = self.runs(key, relay)
        if not runs:
            return None
        total = 0
        for r in runs:
            if not r.get("ok") and all(get(r, e) is None for e in ERRORS):
                return None  # the run did not happen (setup failed)
            total += sum(get(r, e) or 0 for e in ERRORS)
            if r.get("drained") is False:
                total += 1
        return total

    def quiet(self, key, relay):
        return sum(1 for r in self.runs(key, relay) if not r.get("noisy"))

    def noisy(self, key, relay):
        runs = self.runs(key, relay)
        return sum(1 for r in runs if r.get("noisy")), len(runs)


# (key, label, path, unit scale, decimals, target check on wsrelay or None)
#   check(value, node_value) -> (text, met)
def le(limit, text):
    return lambda v, n: (text, v is not None and v <= limit)


def ge(limit, text):
    return lambda v, n: (text, v is not None and v >= limit)


def ratio_ge(k, text):
    # None (not False) when there is no Node figure to compare with.
    return lambda v, n: (text, None if n in (None, 0) else (v is not None and v >= k * n))


ROWS = [
    ("F1-W32", "deliveries/s", "deliveries_per_s", 1, 0, ratio_ge(25, "≥ 25× Node")),
    ("F1-W32", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, le(300, "≤ 300")),
    ("F1-W32", "relay CPU use (cores)", "relay_cpu_util", 1, 2, None),
    ("F1-W32", "last subscriber p50 (ms)", "last_subscriber_us.p50", 1e-3, 2, None),
    ("F1-W32", "last subscriber p99 (ms)", "last_subscriber_us.p99", 1e-3, 2, None),
    ("F1-W256", "deliveries/s", "deliveries_per_s", 1, 0, None),
    ("F1-W256", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, le(200, "≤ 200")),
    ("F1-W256", "last subscriber p99 (ms)", "last_subscriber_us.p99", 1e-3, 2, None),
    ("F1-B1", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("F1-B4", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("F1-B16", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("F1-B32", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("F1-B16-10k", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("F2-2k", "latency p50 (µs)", "latency_us.p50", 1, 0, None),
    ("F2-2k", "latency p99 (µs)", "latency_us.p99", 1, 0, None),
    ("F2-2k", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("F2-10k", "latency p50 (µs)", "latency_us.p50", 1, 0, None),
    ("F2-10k", "latency p99 (µs)", "latency_us.p99", 1, 0, le(2500, "≤ 2,500")),
    ("F2-10k", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("F3", "last subscriber p50 (ms)", "last_subscriber_us.p50", 1e-3, 1, None),
    ("F3", "last subscriber p99 (ms)", "last_subscriber_us.p99", 1e-3, 1, le(180e3, "≤ 180")),
    ("F3", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("C1", "relay RSS per idle connection (bytes)", "rss_per_connection_bytes", 1, 0, le(700, "≤ 700")),
    ("C1", "connects/s", "connects_per_s", 1, 0, ge(25000, "≥ 25,000")),
    ("C1", "handshake p99 (ms)", "handshake_us.p99", 1e-3, 2, None),
    ("C1-cold", "relay RSS per idle connection from before the first (bytes)",
     "rss_per_connection_from_start_bytes", 1, 0, le(500, "≤ 500")),
    ("C1-cold", "kernel socket slab per connection, both ends (bytes)",
     "kernel_socket_slab_per_connection_both_ends_bytes", 1, 0, None),
    ("H1", "publishes/s", "publishes_per_s", 1, 0, None),
    ("H1", "deliveries/s", "deliveries_per_s", 1, 0, None),
    ("H1", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("I1", "good subscribers: latency p50 (ms)", "latency_us.p50", 1e-3, 2, None),
    ("I1", "good subscribers: latency p99 (ms)", "latency_us.p99", 1e-3, 2, None),
    ("I1", "good subscribers: delivered fraction", "delivered_fraction", 1, 4, ge(1, "= 1")),
    ("I1", "idle readers closed", "idle_closed", 1, 0, None),
    ("I1", "relay RSS peak (MiB)", "rss_peak_kb", 1 / 1024, 1, None),
    ("I1", "kernel TCP memory peak (MiB)", "tcp_mem_peak_kb", 1 / 1024, 1, None),
    ("F2-10k-hist", "latency p99 (µs)", "latency_us.p99", 1, 0, None),
    ("F2-10k-hist", "relay CPU per delivery (ns)", "relay_cpu_ns_per_delivery", 1, 0, None),
    ("R1", "seconds until every client recovered", "seconds_to_finish", 1, 2, None),
    ("R1", "relay CPU (s)", "relay_cpu_s", 1, 3, None),
    ("R1", "relay CPU per replayed message (µs)", "relay_cpu_us_per_replayed_message", 1, 2, None),
    ("M1", "relay RSS per stored message (bytes)", "bytes_per_stored_message", 1, 0, None),
    ("K1-1", "canary round trip p50 (ms)", "canary_rtt_us.p50", 1e-3, 2, None),
    ("K1-1", "canary round trip p99 (ms)", "canary_rtt_us.p99", 1e-3, 2, le(20e3, "< 20")),
    ("K1-1", "flood messages/s taken from the flooders", "flood_messages_per_s", 1, 0, None),
    ("K1-1", "flood deliveries/s to the reading subscribers", "flood_deliveries_per_s", 1, 0, None),
    ("K1-2", "canary round trip p50 (ms)", "canary_rtt_us.p50", 1e-3, 2, None),
    ("K1-2", "canary round trip p99 (ms)", "canary_rtt_us.p99", 1e-3, 2, le(20e3, "< 20")),
    ("K1-2", "flood messages/s taken from the flooders", "flood_messages_per_s", 1, 0, None),
    ("K1-2", "flood deliveries/s to the reading subscribers", "flood_deliveries_per_s", 1, 0, None),
]

SCENARIOS = [
    ("F1-W32", "F1 fan-out, W=32", "1 channel, 1,000 subscribers, 1 publisher, 64 B, closed loop of 32 in flight"),
    ("F1-W256", "F1 fan-out, W=256", "the same with 256 in flight"),
    ("F1-B1", "F1 batch curve, 1 frame per write", "F1-W32 with the publisher writing 1 frame at a time"),
    ("F1-B4", "F1 batch curve, 4 frames per write", "the same, 4 frames per write"),
    ("F1-B16", "F1 batch curve, 16 frames per write", "the same, 16 frames per write"),
    ("F1-B32", "F1 batch curve, 32 frames per write", "the same, 32 frames per write (the whole window)"),
    ("F1-B16-10k", "F1 batch 16, 10,000 subscribers", "F1-B16 with 10,000 subscribers"),
    ("F2-2k", "F2 many channels, 2,000 msg/s", "100 channels × 10 subscribers, 100 publishers, 256 B"),
    ("F2-10k", "F2 many channels, 10,000 msg/s", "the same at 10,000 msg/s"),
    ("F3", "F3 wide", "1 channel, 10,000 subscribers, 10 msg/s, 32 B"),
    ("C1", "C1 idle", "10,000 idle connections on one channel; 100 warm-up connections before, left out"),
    ("C1-cold", "C1 idle, issue 13's way", "10,000 idle connections, each on its own channel; the "
     "relay's RSS from before its first connection, nothing left out"),
    ("H1", "H1 HTTP publish", "POST /channels/h1 (4 connections × 16 pipelined) to 100 subscribers, 64 B"),
    ("I1", "I1 idle readers", "1 channel, 2,000 connections that never read, 4 that do, 1 publisher at 160 × 64 KiB/s (10 MiB/s)"),
    ("A1-off", "A1 connects, tokens off", "2,000 connections on a raw channel, then 2,000 on /ws, 64 at once, auth off (wsrelay only)"),
    ("A1-on", "A1 connects, tokens on", "the same with auth.mode required: an HS256 token per client, raw in ?token=, /ws in the auth op (ready at its ack)"),
    ("F1-rights-off", "F1 without rights", "F1 W=32 beside F1-rights-on, auth off (wsrelay only)"),
    ("F1-rights-on", "F1 with publish rights", "F1 W=32 with auth.mode required, f1's access subscribe and publish \"claims\", one token granting f1"),
    ("F2-10k-hist", "F2 with history", "F2-10k with `history_size` 100 on every f2-* channel (wsrelay only; compare with F2-10k)"),
    ("R1", "R1 recovery storm", "1,000 `/ws` clients, connected first, subscribe at once with `recover`, 100 messages of 200 B each to replay (wsrelay only)"),
    ("M1", "M1 history memory", "100 channels × 1,000 stored messages of 64 B: relay RSS growth per stored message (wsrelay only)"),
    ("K1-1", "K1 canary under flood, 1 flooder", "1 client sends 1-byte messages as fast as the relay takes them to a channel of 500 subscribers that read; a canary's round trip (publish -> delivery) on its own channel"),
    ("K1-2", "K1 canary under flood, 2 flooders", "the same with 2 flooding clients"),
]

# Tokens on beside tokens off (README "Securing wsrelay"): (figure, key off, key on, path,
# scale, decimals).
AUTH_ROWS = [
    ("raw: connects/s", "A1-off", "A1-on", "raw.connects_per_s", 1, 0),
    ("raw: handshake p99 (ms)", "A1-off", "A1-on", "raw.handshake_us.p99", 1e-3, 2),
    ("raw: relay CPU per connection (µs)", "A1-off", "A1-on", "raw.relay_cpu_us_per_connection", 1, 1),
    ("/ws: connects/s (tokens on: to the auth ack)", "A1-off", "A1-on", "ws.connects_per_s", 1, 0),
    ("/ws: handshake p99 (ms)", "A1-off", "A1-on", "ws.handshake_us.p99", 1e-3, 2),
    ("/ws: relay CPU per connection (µs)", "A1-off", "A1-on", "ws.relay_cpu_us_per_connection", 1, 1),
    ("F1 W=32: deliveries/s", "F1-rights-off", "F1-rights-on", "deliveries_per_s", 1, 0),
    ("F1 W=32: relay CPU per delivery (ns)", "F1-rights-off", "F1-rights-on", "relay_cpu_ns_per_delivery", 1, 0),
    ("F1 W=32: last subscriber p99 (ms)", "F1-rights-off", "F1-rights-on", "last_subscriber_us.p99", 1e-3, 2),
]


def write_auth_md(res, out):
    """The tokens-on/off table, when the run had those keys."""
    if not any(res.runs(k, "wsrelay") for k in ("A1-off", "A1-on", "F1-rights-off", "F1-rights-on")):
        return
    out.append("## Tokens on and off\n")
    out.append("wsrelay alone (the Node relay has no tokens), medians. A1 verifies a fresh "
               "HS256 token per connection; F1 with rights checks publishing per message, never per "
               "delivery.\n")
    out.append("| figure | tokens off | tokens on | on ÷ off |")
    out.append("|---|---:|---:|---:|")
    for label, off, on, path, scale, dec in AUTH_ROWS:
        a, b = res.median(off, "wsrelay", path), res.median(on, "wsrelay", path)
        ratio = f"{b / a:,.2f}" if a not in (None, 0) and b is not None else "—"
        out.append(f"| {label} | {fmt(a, scale, dec)} | {fmt(b, scale, dec)} | {ratio} |")
    out.append("")


def fmt(v, scale, dec):
    if v is None:
        return "—"
    v = v * scale
    return f"{v:,.{dec}f}"


def write_md(res, args):
    out = []
    out.append("# wsrelay benchmark results\n")
    out.append(f"Written by `{args.command}` on {args.date} (commit {args.commit}). "
               f"Medians of {args.runs} runs per relay ({args.scale} scale); the relay "
               "pinned to core 0, the load generator (`wsrelay-bench`) to core 1, loopback only. "
               "Both relays ran in the same session, alternating run by run.\n")
    out.append("| machine | |\n|---|---|")
    out.append(f"| CPU | {args.cpu} ({args.cores} cores) |")
    out.append(f"| kernel | {args.kernel} |")
    out.append(f"| load average before → after | {args.load} |")
    out.append(f"| wall time of the whole run | {args.elapsed} s |\n")
    out.append("## Scenarios\n")
    for key, name, what in SCENARIOS:
        out.append(f"- **{key}** ({name}): {what}.")
    out.append("")
    out.append("## Figures\n")
    out.append("Relay CPU is utime + stime of the relay process (`/proc/PID/stat`) over the "
               "measured phase divided by the deliveries in it; it does not depend on how fast "
               "the load generator is. Latencies are from the publisher's send time (in the "
               "payload) to the subscriber's read; *last subscriber* is the time until every "
               "subscriber has a message. Errors sum lost, duplicated, reordered, re-typed, "
               "corrupt and misrouted messages and dropped connections over all runs.\n")
    out.append("| scenario | figure | wsrelay | Node `ws` | wsrelay ÷ Node | target | met |")
    out.append("|---|---|---:|---:|---:|---|---|")
    met_all = []
    for key, label, path, scale, dec, check in ROWS:
        w = res.median(key, "wsrelay", path)
        n = res.median(key, "node", path)
        ratio = "—"
        if w is not None and n not in (None, 0):
            ratio = f"{w / n:,.2f}"
        target, met = "", ""
        if check:
            text, ok = check(w, n)
            ok = bool(ok)  # no Node figure: the comparison cannot be met
            target = text
            met = "yes" if ok else "**no**"
            met_all.append((key, label, ok))
        out.append(f"| {key} | {label} | {fmt(w, scale, dec)} | {fmt(n, scale, dec)} | {ratio} | {target} | {met} |")
    for key, _, _ in SCENARIOS:
        ew, en = res.errors(key, "wsrelay"), res.errors(key, "node")
        ok = ew == 0
        met_all.append((key, "errors", ok))
        out.append(f"| {key} | errors (all runs) | {'—' if ew is None else ew} | "
                   f"{'—' if en is None else en} | | 0 | {'yes' if ok else '**no**'} |")
    out.append("")
    out.append("## Runs disturbed by other processes\n")
    out.append("A run is flagged when, over its measured phase, processes other than the relay "
               "and the load generator used more than 0.1 core on average (`/proc/stat` busy "
               "time minus both) or the hypervisor stole more than 0.05 core.\n")
    out.append("| scenario | wsrelay runs flagged | Node runs flagged |")
    out.append("|---|---|---|")
    total_flagged = 0
    for key, _, _ in SCENARIOS:
        fw, nw = res.noisy(key, "wsrelay")
        fn, nn = res.noisy(key, "node")
        total_flagged += fw + fn
        out.append(f"| {key} | {fw} of {nw} | {fn} of {nn} |")
    out.append("")
    if total_flagged:
        out.append(f"**{total_flagged} runs were flagged**: the machine was shared while they "
                   "ran (other sessions building and testing), so their latencies and rates are "
                   "pessimistic; CPU time per delivery is the figure least affected. The same "
                   "figures from the undisturbed runs alone (n = how many):\n")
        out.append("| scenario | figure | wsrelay (n) | Node `ws` (n) | target | met |")
        out.append("|---|---|---:|---:|---|---|")
        for key, label, path, scale, dec, check in ROWS:
            qw, qn = res.quiet(key, "wsrelay"), res.quiet(key, "node")
            w = res.median(key, "wsrelay", path, quiet_only=True)
            n = res.median(key, "node", path, quiet_only=True)
            target, met = "", ""
            if check and w is not None:
                text, ok = check(w, n)
                target, met = text, ("—" if ok is None else "yes" if ok else "**no**")
            out.append(f"| {key} | {label} | {fmt(w, scale, dec)} ({qw}) | {fmt(n, scale, dec)} ({qn}) | {target} | {met} |")
        out.append("")
    write_auth_md(res, out)
    out.append("## Targets\n")
    missed = [f"{k} {l}" for k, l, ok in met_all if not ok]
    out.append(f"{sum(1 for m in met_all if m[2])} of {len(met_all)} checks met." +
               (" Missed: " + "; ".join(missed) + "." if missed else "") + "\n")
    out.append("![wsrelay vs Node ws](results.svg)\n")
    out.append("Raw JSON lines of every run: `results.jsonl` next to this file.\n")
    out.append(HAND_WRITTEN_MARK + "\n")
    tail = hand_written_tail(args.md)
    with open(args.md, "w") as f:
        f.write("\n".join(out))
        if tail:
            f.write("\n" + tail)


# Sections written by hand (one-off measurements, memory.sh, compression.sh) follow this
# line in RESULTS.md; a new run rewrites what is above it and keeps them.
HAND_WRITTEN_MARK = "<!-- Sections below are written by hand: summarize.py keeps them. -->"


def hand_written_tail(path):
    """The hand-written sections of the current RESULTS.md: what follows the mark (or,
    in a file written before the mark existed, the generated part's last line)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return ""
    for mark in (HAND_WRITTEN_MARK, "Raw JSON lines of every run: `results.jsonl` next to this file."):
        i = text.find(mark)
        if i >= 0:
            return text[i + len(mark):].lstrip("\n")
    return ""


# (title, path, scale, items, target lines [(value, label)])
PANELS = [
    ("Deliveries per second (higher is better)", "deliveries_per_s", 1,
     [("F1-W32", "F1 W=32"), ("F1-W256", "F1 W=256"), ("H1", "H1")], []),
    ("Relay CPU per delivery, ns (lower is better)", "relay_cpu_ns_per_delivery", 1,
     [("F1-W32", "F1 W=32"), ("F1-W256", "F1 W=256"), ("F2-2k", "F2 2k/s"), ("F2-10k", "F2 10k/s"),
      ("F3", "F3"), ("H1", "H1")], [(300, "F1 W=32 target"), (200, "F1 W=256 target")]),
    ("Latency p99, ms (lower is better)", None, 1e-3,
     [("F2-2k", "F2 2k/s", "latency_us.p99"), ("F2-10k", "F2 10k/s", "latency_us.p99"),
      ("F3", "F3 last sub", "last_subscriber_us.p99"), ("F1-W32", "F1 W=32 last sub", "last_subscriber_us.p99")],
     [(2.5, "F2 10k/s target"), (180, "F3 target")]),
    ("C1: relay RSS per idle connection, bytes (lower is better)", "rss_per_connection_bytes", 1,
     [("C1", "C1")], [(700, "target")]),
    ("C1: connects per second (higher is better)", "connects_per_s", 1, [("C1", "C1")],
     [(25000, "target")]),
    ("H1: HTTP publishes per second (higher is better)", "publishes_per_s", 1, [("H1", "H1")], []),
]


def write_svg(res, args):
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        for i, (title, path, scale, items, targets) in enumerate(PANELS):
            dat = os.path.join(tmp, f"p{i}.dat")
            any_value = False  # a run of a few keys (run_all.sh ONLY=) leaves panels empty
            with open(dat, "w") as f:
                for item in items:
                    key, label = item[0], item[1]
                    p = item[2] if len(item) > 2 else path
                    vals = []
                    for relay, _ in RELAYS:
                        v = res.median(key, relay, p)
                        vals.append("NaN" if v is None else f"{v * scale:.6g}")
                        any_value = any_value or v is not None
                    f.write(f'"{label}" {vals[0]} {vals[1]}\n')
            if any_value:
                plots.append((title, dat, targets))
        gp = [
            'set terminal svg size 1500,850 dynamic enhanced font "sans,11" background rgb "white"',
            f'set output "{args.svg}"',
            f'set multiplot layout 2,3 title "wsrelay vs Node ws: medians of {args.runs} runs, relay on core 0, load on core 1 ({args.date}, {args.commit})"',
            "set style data histograms",
            "set style histogram clustered gap 1",
            "set style fill solid 0.85 border -1",
            "set boxwidth 0.9",
            "set grid ytics",
            "set key top right",
            "set logscale y",
            "set yrange [*:*]",
            "set xtics nomirror",
        ]
        for title, dat, targets in plots:
            gp.append(f'set title "{title}"')
            gp.append("unset arrow")
            gp.append("unset label")
            for k, (value, label) in enumerate(targets):
                gp.append(f'set arrow {k + 1} from graph 0, first {value} to graph 1, first {value} '
                          'nohead dt 2 lw 1.5 lc rgb "#d62728" front')
                gp.append(f'set label {k + 1} "{label}" at graph 0.02, first {value} offset 0,0.6 '
                          'tc rgb "#d62728" font ",9" front')
            gp.append(f'plot "{dat}" using 2:xtic(1) title "wsrelay" lc rgb "#1f77b4", '
                      f'"" using 3 title "Node ws" lc rgb "#ff7f0e"')
        gp.append("unset multiplot")
        script = os.path.join(tmp, "plot.gp")
        with open(script, "w") as f:
            f.write("\n".join(gp) + "\n")
        if plots:
            subprocess.run(["gnuplot", script], check=True)


def main():
    ap = argparse.ArgumentParser()
    for a in ["raw", "md", "svg", "cpu", "cores", "kernel", "date", "commit", "runs", "scale",
              "elapsed", "load", "command"]:
        ap.add_argument("--" + a, required=True)
    args = ap.parse_args()
    with open(args.raw) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    res = Results(lines)
    write_md(res, args)
    write_svg(res, args)


if __name__ == "__main__":
    main()

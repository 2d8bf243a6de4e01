#!/usr/bin/env python3
"""Side-by-side table of compare.sh --quick runs: memory per connection and deliveries/s, one column per run.

Usage: summarize.py RUN_DIR... (each a bench/results/<date>-quick directory, renamed). Prints Markdown.
"""
import json
import os
import sys


def load(run, stem):
    path = os.path.join(run, stem + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["results"]


def idle(r, key):
    return None if r is None else r[key]


ROWS = [
    # (label, stem, getter, unit)
    ("idle halley-ws: RSS above baseline per connection at 2,000", "idle--halley-ws", lambda r: r["rssAboveBaselinePerConnectionAtLastStepBytes"], "B"),
    ("idle halley-ws: slope 500 → 2,000", "idle--halley-ws", lambda r: r["slopeBytesPerConnection"], "B"),
    ("idle halley-lp: RSS above baseline per connection at 2,000", "idle--halley-lp", lambda r: r["rssAboveBaselinePerConnectionAtLastStepBytes"], "B"),
    ("idle halley-lp: slope 500 → 2,000", "idle--halley-lp", lambda r: r["slopeBytesPerConnection"], "B"),
    ("idle kestrel-ws (control, same code in both): slope", "idle--kestrel-ws", lambda r: r["slopeBytesPerConnection"], "B"),
    ("fanout halley-ws, 1,000 subscribers: delivered msgs/s", "fanout--halley-ws", lambda r: r["deliveredPerSecond"], "/s"),
    ("fanout kestrel-ws (control): delivered msgs/s", "fanout--kestrel-ws", lambda r: r["deliveredPerSecond"], "/s"),
    ("fanout signalr (control): delivered msgs/s", "fanout--signalr", lambda r: r["deliveredPerSecond"], "/s"),
    ("rooms halley-lp, 500 clients, full speed: delivered msgs/s", "rooms--halley-lp", lambda r: r["deliveredPerSecond"], "/s"),
    ("rooms faye-lp (control): delivered msgs/s", "rooms--faye-lp", lambda r: r["deliveredPerSecond"], "/s"),
    ("growth halley-ws at 500: delivered msgs/s", "growth--halley-ws--500", lambda r: r["deliveredPerSecond"], "/s"),
    ("growth halley-ws at 2,000: delivered msgs/s", "growth--halley-ws--2000", lambda r: r["deliveredPerSecond"], "/s"),
    ("latency halley-ws, 1,000 subscribers at 2/s: p99 ms", "latency--halley-ws", lambda r: r["latency"]["p99Ms"], "ms"),
]


def ratio(run, a, b):
    ra, rb = load(run, a), load(run, b)
    if ra is None or rb is None or not rb["deliveredPerSecond"]:
        return None
    return ra["deliveredPerSecond"] / rb["deliveredPerSecond"]


def complete(run, stem):
    r = load(run, stem)
    if r is None:
        return ""
    exp = r.get("expectedDeliveries")
    got = r.get("received")
    if exp is not None and got is not None and got < exp:
        return f" ({got}/{exp})"
    return ""


def main(runs):
    names = [os.path.basename(os.path.normpath(r)) for r in runs]
    print("| figure | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(runs))
    for label, stem, get, unit in ROWS:
        cells = []
        for run in runs:
            r = load(run, stem)
            if r is None:
                cells.append("—")
                continue
            v = get(r)
            cells.append((f"{v:,.0f}" if unit != "ms" else f"{v:,.1f}") + complete(run, stem))
        print(f"| {label} | " + " | ".join(cells) + " |")
    for label, a, b in [("fanout: halley-ws ÷ kestrel-ws (same run)", "fanout--halley-ws", "fanout--kestrel-ws"),
                        ("rooms: halley-lp ÷ faye-lp (same run)", "rooms--halley-lp", "rooms--faye-lp")]:
        cells = []
        for run in runs:
            v = ratio(run, a, b)
            cells.append("—" if v is None else f"{v:.2f}×")
        print(f"| {label} | " + " | ".join(cells) + " |")
    loads = []
    for run in runs:
        la = "?"
        meta = os.path.join(run, "meta.txt")
        if os.path.exists(meta):
            for line in open(meta):
                if line.startswith("loadavg="):
                    la = line.strip().split("=", 1)[1]
        loads.append(la)
    print("| load average at start (1/5/15 min) | " + " | ".join(loads) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

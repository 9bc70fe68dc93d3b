#!/usr/bin/env python3
"""Helpers for bench/e2e.sh (standard library only).

  e2e.py listen-port PID SECONDS        wait until process PID listens on 127.0.0.1 (TCP) and
                                        print its port(s), one a line, in file descriptor
                                        order: from /proc/PID/fd and /proc/net/tcp, for a
                                        server started on port 0 that cannot print the port
                                        it got (nghttpd prints "listen 127.0.0.1:0"); exit 1
                                        at the deadline or once PID has exited
  e2e.py listeners FILE N -- CMD...     listen on N ports of 127.0.0.1 chosen by the kernel
                                        (port 0), write them to FILE (one a line), then exec
                                        CMD with "{port1}".."{portN}" in its arguments
                                        replaced and the sockets inherited as nghttpx takes
                                        them from its predecessor (NGHTTPX_ACCEPT_i=tcp,FD):
                                        for nghttpx, which refuses port 0
  e2e.py wait-log FILE REGEX SECONDS [PID]
                                        wait until a line of FILE matches REGEX; print its
                                        first group (or the line); exit 1 at the deadline or
                                        once PID has exited without it
  e2e.py tree PID                       PID and all its descendants
  e2e.py cpu PID                        "TICKS NS": CPU time of PID and all its descendants;
                                        TICKS = utime+stime from /proc/P/stat (clock ticks),
                                        NS = sum of /proc/P/task/*/schedstat run time (ns)
  e2e.py busy SECONDS                   percent of all CPUs busy over SECONDS (/proc/stat)
  e2e.py run TARGET MODE ROUND N SUMMARY LOG CPU0 CPU1 CLK_TCK
                                        one measured h2load run -> one JSON line on stdout;
                                        exit 3 when not every request got a 2xx
  e2e.py report RUNS.jsonl              medians per target and mode: JSON lines, then a table
"""
import json
import os
import re
import socket
import statistics
import struct
import sys
import time


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


def _proc_address(field):
    """'0100007F:1F90' (each 32-bit word of the address a native integer in
    hex, the port in host order) -> ('127.0.0.1', 8080)."""
    hexaddr, hexport = field.split(":")
    words = [int(hexaddr[i:i + 8], 16) for i in range(0, len(hexaddr), 8)]
    family = socket.AF_INET if len(words) == 1 else socket.AF_INET6
    return socket.inet_ntop(family, struct.pack(f"={len(words)}I", *words)), int(hexport, 16)


def listening(pid, address="127.0.0.1"):
    """The ports process PID listens on (TCP LISTEN) at ADDRESS, in file descriptor order: its
    socket inodes (/proc/PID/fd links "socket:[N]") looked up in /proc/net/tcp and tcp6."""
    inodes = []
    try:
        fds = sorted((int(fd) for fd in os.listdir(f"/proc/{pid}/fd")))
    except OSError:
        return []
    for fd in fds:
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.append(int(m.group(1)))
    table = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/net/{name}") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == "0A":  # TCP_LISTEN
                        table[int(fields[9])] = _proc_address(fields[1])
        except OSError:
            pass
    return [table[i][1] for i in inodes if i in table and table[i][0] == address]


def listen_port(pid, seconds):
    deadline = time.monotonic() + float(seconds)
    while True:
        ports = listening(pid)
        if ports:
            print("\n".join(str(p) for p in ports))
            return 0
        if not alive(pid) or time.monotonic() >= deadline:
            return 1
        time.sleep(0.01)  # polling a condition


def listeners(ports_file, n, cmd):
    socks = []
    for _ in range(int(n)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        # What nghttpx sets on the listeners it makes itself (3 s, its backlog).
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 3)
        s.listen(65536)
        s.setblocking(False)  # nghttpx accepts until EAGAIN
        s.set_inheritable(True)
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    tmp = ports_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(f"{p}\n" for p in ports))
    os.rename(tmp, ports_file)
    for i, s in enumerate(socks, 1):
        os.environ[f"NGHTTPX_ACCEPT_{i}"] = f"tcp,{s.fileno()}"
    for i, p in enumerate(ports, 1):
        cmd = [a.replace(f"{{port{i}}}", str(p)) for a in cmd]
    os.execvp(cmd[0], cmd)


def wait_log(path, regex, seconds, pid=None):
    pattern = re.compile(regex)
    deadline = time.monotonic() + float(seconds)
    while True:
        exited = pid is not None and not alive(pid)  # before reading: its last words count
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    m = pattern.search(line)
                    if m:
                        print(m.group(1) if m.groups() else line.rstrip("\n"))
                        return 0
        except OSError:
            pass
        if exited or time.monotonic() >= deadline:
            return 1
        time.sleep(0.01)  # polling a condition


def descendants(root):
    """root and every process below it (nghttpx forks its worker process)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            pass
    out, todo = [], [int(root)]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu(root):
    """utime+stime ticks, schedstat ns, and schedstat ns per thread name
    ("rg-worker:123;rg-access:45"): where a proxy's CPU goes (the worker or
    a log writer)."""
    ticks = 0
    ns = 0
    by_thread = {}
    for p in descendants(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # after the comm: state(0) ppid(1) ... utime(11) stime(12)
            ticks += int(fields[11]) + int(fields[12])
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    t_ns = int(f.read().split()[0])
                with open(f"/proc/{p}/task/{t}/comm") as f:
                    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f.read().strip()) or "thread"
                ns += t_ns
                by_thread[name] = by_thread.get(name, 0) + t_ns
        except OSError:
            pass
    print(ticks, ns, machine_sample(), ";".join(f"{k}:{v}" for k, v in sorted(by_thread.items())) or "-")


def machine_sample():
    """All CPUs' busy, stolen and total ticks so far ("busy:steal:total",
    from /proc/stat): how much else ran, and how much the hypervisor took,
    during a run."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v + [0] * (8 - len(v))
    return f"{user + nice + system + irq + softirq}:{steal}:{sum(v)}"


def busy(seconds):
    """Percent of all CPUs busy over SECONDS (from /proc/stat), before any load is sent."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v[:8]), idle
    t0, i0 = sample()
    time.sleep(float(seconds))
    t1, i1 = sample()
    total = max(1, t1 - t0)
    print(round(100.0 * (total - (i1 - i0)) / total))


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 1)) - 1))
    return sorted_values[k]


def parse_summary(text):
    out = {}
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", text)
    if m:
        out["rps"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text)
    if m:
        out["total"], out["succeeded"], out["failed"], out["errored"], out["timeout"] = (
            int(m.group(1)), int(m.group(4)), int(m.group(5)), int(m.group(6)), int(m.group(7)))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        out["status_2xx"] = int(m.group(1))
        out["status_non2xx"] = int(m.group(2)) + int(m.group(3)) + int(m.group(4))
    return out


def run(target, mode, rnd, n, summary_file, log_file, cpu0, cpu1, clk_tck):
    n = int(n)
    with open(summary_file, errors="replace") as f:
        s = parse_summary(f.read())
    elapsed = []
    non2xx_log = 0
    try:
        with open(log_file) as f:
            for line in f:
                cols = line.split("\t")
                if len(cols) < 3:
                    continue
                if not cols[1].startswith("2"):
                    non2xx_log += 1
                elapsed.append(int(cols[2]))
    except OSError:
        pass
    elapsed.sort()
    rec = {"target": target, "mode": mode, "round": rnd, "requests": n,
           "rps": s.get("rps"),
           "p50_ms": None, "p99_ms": None, "p999_ms": None, "cpu_us_per_req": None,
           "cpu_sched_us_per_req": None, "steal_pct": None, "busy_pct": None,
           "ok_2xx": s.get("status_2xx", 0), "logged": len(elapsed)}
    for key, q in (("p50_ms", 0.50), ("p99_ms", 0.99), ("p999_ms", 0.999)):
        v = percentile(elapsed, q)
        rec[key] = None if v is None else round(v / 1000.0, 4)
    if cpu0 != "-" and cpu1 != "-":
        t0, ns0, machine0, threads0 = cpu0.split(",", 3)
        t1, ns1, machine1, threads1 = cpu1.split(",", 3)
        done = max(1, s.get("status_2xx", 0))
        # Of all the machine's CPU time during the run: stolen by the
        # hypervisor, and busy (the proxy, h2load and the origin, and
        # anything else that ran: more than they explain is other work).
        (b0, st0, all0), (b1, st1, all1) = ([int(x) for x in m.split(":")] for m in (machine0, machine1))
        rec["steal_pct"] = round(100.0 * (st1 - st0) / max(1, all1 - all0), 1)
        rec["busy_pct"] = round(100.0 * (b1 - b0) / max(1, all1 - all0), 1)
        rec["cpu_us_per_req"] = round((int(t1) - int(t0)) * 1e6 / int(clk_tck) / done, 3)
        rec["cpu_sched_us_per_req"] = round((int(ns1) - int(ns0)) / 1e3 / done, 3)
        # Per thread name: the worker's share, and what a log writer adds.
        def parse(text):
            out = {}
            for item in text.split(";"):
                name, _, value = item.rpartition(":")
                if name:
                    out[name] = int(value)
            return out
        before, after = parse(threads0), parse(threads1)
        rec["cpu_threads_us_per_req"] = {
            name: round((v - before.get(name, 0)) / 1e3 / done, 3)
            for name, v in sorted(after.items()) if v - before.get(name, 0) > 0}
    print(json.dumps(rec))
    ok = (s.get("status_2xx") == n and s.get("succeeded") == n and non2xx_log == 0
          and len(elapsed) == n)
    if not ok:
        print(f"e2e: {target}/{mode}: {s.get('status_2xx', 0)} of {n} requests got a 2xx "
              f"(succeeded {s.get('succeeded')}, failed {s.get('failed')}, errored "
              f"{s.get('errored')}, timeout {s.get('timeout')}, non-2xx {s.get('status_non2xx')}, "
              f"log rows {len(elapsed)}, non-2xx rows {non2xx_log})", file=sys.stderr)
        return 3
    return 0


def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b not in (None, 0) else "-"


def report(runs_file):
    runs = []
    with open(runs_file) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    order_t, order_m, groups = [], [], {}
    for r in runs:
        if r["target"] not in order_t:
            order_t.append(r["target"])
        if r["mode"] not in order_m:
            order_m.append(r["mode"])
        groups.setdefault((r["target"], r["mode"]), []).append(r)
    result = {}
    for mode in order_m:
        for target in order_t:
            rs = groups.get((target, mode))
            if not rs:
                continue
            row = {"target": target, "mode": mode}
            for k in ("rps", "p50_ms", "p99_ms", "p999_ms", "cpu_us_per_req",
                      "cpu_sched_us_per_req", "steal_pct", "busy_pct"):
                row[k] = med([r.get(k) for r in rs])
            if row["rps"] is not None:
                row["rps"] = round(row["rps"])
            names = sorted({n for r in rs for n in (r.get("cpu_threads_us_per_req") or {})})
            if names:
                row["cpu_threads_us_per_req"] = {
                    n: med([(r.get("cpu_threads_us_per_req") or {}).get(n, 0.0) for r in rs])
                    for n in names}
            row["rounds"] = len(rs)
            row["requests"] = rs[0]["requests"]
            result[(target, mode)] = row
            print(json.dumps(row))
    sys.stdout.flush()
    print("")
    hdr = (f"{'target':<26}{'mode':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}"
           f"{'cpu us/req':>11} | {'rps/dir':>8}{'p99/dir':>8} | {'rps/ngx':>8}{'p99/ngx':>8}"
           f"{'cpu/ngx':>8}")
    print(hdr)
    print("-" * len(hdr))
    fmt = lambda v, w, p: (f"{v:>{w}.{p}f}" if v is not None else f"{'-':>{w}}")
    for (target, mode), row in result.items():
        d = result.get(("direct", mode), {})
        x = result.get(("nghttpx", mode), {})
        line = (f"{target:<26}{mode:<10}{row['rps'] or 0:>9}{fmt(row['p50_ms'], 9, 3)}"
                f"{fmt(row['p99_ms'], 9, 3)}{fmt(row['p999_ms'], 10, 3)}"
                f"{fmt(row['cpu_us_per_req'], 11, 2)} | "
                f"{ratio(row['rps'], d.get('rps')):>8}{ratio(row['p99_ms'], d.get('p99_ms')):>8} | "
                f"{ratio(row['rps'], x.get('rps')):>8}{ratio(row['p99_ms'], x.get('p99_ms')):>8}"
                f"{ratio(row['cpu_us_per_req'], x.get('cpu_us_per_req')):>8}")
        print(line)
    print("(medians across rounds; cpu = the proxy's utime+stime from /proc per request; "
          "ratios: target / direct and target / nghttpx, same mode)")
    # Where a regiongate's CPU went, by thread (schedstat): the worker, and
    # what its log writers add beside it.
    print("")
    for (target, mode), row in result.items():
        threads = row.get("cpu_threads_us_per_req")
        if threads and (target.startswith("regiongate") or target == "baseline"):
            parts = ", ".join(f"{n} {v:.2f}" for n, v in threads.items())
            print(f"{target} {mode}: cpu us/req by thread: {parts}")
    # Each other regiongate (a profile with more switched on, or the
    # baseline build) against plain regiongate in the same interleaved run.
    others = [t for t in order_t if t != "regiongate" and (t.startswith("regiongate") or t == "baseline")]
    if others and any(t == "regiongate" for t in order_t):
        print("")
        for mode in order_m:
            base = result.get(("regiongate", mode))
            for target in others:
                row = result.get((target, mode))
                if not base or not row:
                    continue
                print(f"{target} / regiongate, {mode}: cpu/req {ratio(row['cpu_us_per_req'], base['cpu_us_per_req'])}, "
                      f"p99 {ratio(row['p99_ms'], base['p99_ms'])}, req/s {ratio(row['rps'], base['rps'])}"
                      f"{paired(groups.get(('regiongate', mode), []), groups.get((target, mode), []))}")
    steals = [r["steal_pct"] for r in runs if r.get("steal_pct") is not None]
    if steals:
        busy = [r["busy_pct"] for r in runs if r.get("busy_pct") is not None]
        print(f"\nDuring the runs: CPU steal median {med(steals)}%, most {max(steals)}% "
              f"(above a few percent, distrust the times); all CPUs busy median {med(busy)}%, "
              f"most {max(busy)}% (the proxy, h2load and the origin; more is other work)")
    return 0


def paired(base_runs, runs):
    """The ratio of the proxy's CPU per request (schedstat, all its threads), each
    run against the plain regiongate run of the same round (they ran minutes
    apart at most, under the same other load): its median and range say more
    on a noisy machine than a ratio of medians."""
    base = {r["round"]: r.get("cpu_sched_us_per_req") for r in base_runs}
    ratios = sorted(r["cpu_sched_us_per_req"] / base[r["round"]] for r in runs
                    if r.get("cpu_sched_us_per_req") and base.get(r["round"]))
    if not ratios:
        return ""
    return (f"; paired by round: cpu/req median {med(ratios):.3f}x "
            f"(from {ratios[0]:.3f}x to {ratios[-1]:.3f}x, {len(ratios)} rounds)")


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "listen-port":
        return listen_port(args[0], args[1])
    if cmd == "listeners":
        if len(args) < 4 or args[2] != "--":
            print("e2e.py listeners FILE N -- CMD...", file=sys.stderr)
            return 2
        return listeners(args[0], args[1], args[3:])
    if cmd == "wait-log":
        return wait_log(args[0], args[1], args[2], args[3] if len(args) > 3 else None)
    if cmd == "busy":
        busy(args[0])
        return 0
    if cmd == "tree":
        print(" ".join(str(p) for p in descendants(args[0])))
        return 0
    if cmd == "cpu":
        cpu(args[0])
        return 0
    if cmd == "run":
        return run(*args)
    if cmd == "report":
        return report(args[0])
    print(f"e2e.py: unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

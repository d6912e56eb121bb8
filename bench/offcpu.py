#!/usr/bin/env python3
"""Where a drain's backends are off the CPU, and for how long (issue 15).

Reads `perf script` output of a system-wide `perf record -e
sched:sched_switch --call-graph dwarf` (bench/w3_where.sh with
W3_WHERE_OFFCPU=seconds) and adds up, for the processes whose command is
PREFIX (the drain's backends), the time from each switch out to the
process's next switch in, by why it left the CPU:

  preempted (runnable)   switched out while runnable: the CPU was wanted
                         by another process (more backends than cores)
  lwlock: A < B < C      asleep in LWLockAcquire (a buffer's content lock,
                         the WAL insert or write lock, ...): A, B and C are
                         the first named functions above the lock's own
                         frames (LockBuffer, LWLockAcquire, the semaphore),
                         so that "heap_lock_tuple" is a row lock's heap
                         page, "_bt_..." an index page, "XLogFlush" the WAL
  fsync                  in the kernel's fdatasync (the commit's flush)
  client read            waiting for pgbench's next statement
  latch / heavyweight lock / other

Static functions of a server without debug symbols show as [unknown] and
are skipped. Usage: offcpu.py PREFIX < perf-script-output
"""
import re
import sys
from collections import defaultdict

prefix = sys.argv[1] if len(sys.argv) > 1 else "postgres"
head = re.compile(r"^(?P<comm>.+?)\s+(?P<pid>\d+)\s+\[\d+\]\s+(?P<t>[\d.]+):\s+sched:sched_switch:\s+(?P<rest>.*)$")
field = re.compile(r"(\w+)=(\S+)")
LOCK = ("LWLockAcquire", "LWLockAcquireOrWait", "LWLockWaitForVar", "LockBuffer",
        "LockBufferForCleanup", "ConditionalLockBuffer", "PGSemaphoreLock", "LWLockDequeueSelf")


def classify(state, frames):
    names = [f for f in frames if f]
    if state.startswith("R"):
        return "preempted (runnable)"
    if any(n.startswith("LWLock") for n in names):
        i = max(k for k, n in enumerate(names) if n in LOCK or n.startswith("LWLock"))
        above = [n for n in names[i + 1:] if not n.startswith("[")][:3]
        return "lwlock: " + " < ".join(above) if above else "lwlock"
    if any("fdatasync" in n or "fsync" in n for n in names):
        return "fsync"
    if any(n in ("secure_read", "pq_getbyte", "pq_recvbuf", "SocketBackend") for n in names):
        return "client read"
    if any(n == "ProcSleep" for n in names):
        return "heavyweight lock"
    if any(n.startswith("WaitLatch") or n.startswith("WaitEventSetWait") for n in names):
        return "latch"
    return "other: " + " < ".join(n for n in names if not n.startswith("["))[:80]


def frames_of(lines):
    out = []
    for ln in lines:
        parts = ln.split()
        if len(parts) < 2:
            continue
        sym = parts[1].split("+0x")[0]
        # of the kernel's frames keep only an fsync's
        if "[kernel.kallsyms]" not in ln or "fsync" in sym:
            out.append(sym)
    return out


def main():
    out_at = {}       # pid -> (time, why) of its last switch out
    total = defaultdict(float)
    count = defaultdict(int)
    comm_of = {}
    events = []
    cur = None
    for line in sys.stdin:
        line = line.rstrip("\n")
        m = head.match(line)
        if m:
            if cur:
                events.append(cur)
            f = dict(field.findall(m.group("rest")))
            cur = [float(m.group("t")), int(f.get("prev_pid", -1)), f.get("prev_state", "?"),
                   int(f.get("next_pid", -1)), []]
            continue
        if cur is not None and line.strip():
            cur[4].append(line.strip())
    if cur:
        events.append(cur)
    # the processes: the backends named PREFIX (perf's comm is the first 15
    # bytes of the process title: "postgres" for backends; the caller
    # passes the pids of its backends instead when it knows them)
    pids = None
    if prefix.startswith("pids:"):
        pids = {int(p) for p in prefix[5:].split(",") if p}
    for t, prev, state, nxt, stack in events:
        if nxt in out_at:
            t0, why = out_at.pop(nxt)
            total[why] += t - t0
            count[why] += 1
        if pids is None or prev in pids:
            out_at[prev] = (t, classify(state, frames_of(stack)))
    span = (events[-1][0] - events[0][0]) if events else 0
    whole = sum(total.values())
    print(f"off-CPU time of the backends over {span:.2f} s: {whole:.2f} s in {sum(count.values())} sleeps")
    for why, s in sorted(total.items(), key=lambda kv: -kv[1])[:14]:
        print(f"  {100 * s / whole if whole else 0:5.1f}%  {s:7.3f} s  {count[why]:7d}  {why}")


main()

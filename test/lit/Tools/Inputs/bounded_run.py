#!/usr/bin/env python3
"""bounded_run.py --limit S [--expect-fail] -- COMMAND...

Runs COMMAND (stdout and stderr merged, echoed) in its own process group and
kills the group if it is still running after S seconds. Exits 0 when the
command finished within S seconds with the expected status (zero, or
non-zero with --expect-fail), and prints one line saying which; otherwise
exits 1. Used by the KVStore hang tests: a hang must become an error, fast."""
import argparse
import os
import signal
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--limit", type=float, required=True)
p.add_argument("--expect-fail", action="store_true")
p.add_argument("command", nargs=argparse.REMAINDER)
args = p.parse_args()
cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
start = time.monotonic()
proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        start_new_session=True)
try:
    out, _ = proc.communicate(timeout=args.limit)
    timed_out = False
except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    timed_out = True
elapsed = time.monotonic() - start
sys.stdout.write(out.decode(errors="replace"))
if timed_out:
    print(f"bounded_run: HUNG: still running after {args.limit:g} s, killed")
    sys.exit(1)
failed = proc.returncode != 0
if failed != args.expect_fail:
    print(f"bounded_run: unexpected exit status {proc.returncode} after {elapsed:.1f} s")
    sys.exit(1)
print(f"bounded_run: {'failed' if failed else 'succeeded'} as expected within "
      f"{args.limit:g} s ({elapsed:.1f} s)")

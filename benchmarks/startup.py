"""Start-up time of the fplandscape command (issue 14: ``--version`` and ``--help`` under
0.15 s): median wall time of ``--repeats`` runs per command line, printed as a table.

    python benchmarks/startup.py                      # the package as installed/importable
    python benchmarks/startup.py --before DIR [DIR2]  # a second tree (e.g. ``git archive`` of
                                                      # an older commit, built) beside it

With two trees the runs are interleaved so that the load of the machine hits both alike; each
tree is put first on PYTHONPATH. Timings belong here, never in a timed test
(tests/test_startup.py checks which modules are imported instead)."""
import argparse
import os
import statistics
import subprocess
import sys
import time

PY = sys.executable
#: arguments of ``python -m fplandscape`` to time (plus the console script and bare Python)
ARGS = [["--version"], ["--help"], ["theory", "--help"], ["theory", "local-entropy", "--help"],
        ["reproduce", "--help"], ["figures", "--help"], ["attractors", "--help"],
        ["learn", "--help"], ["fep", "--help"], ["fep", "demo", "--help"],
        ["dynamics", "--help"], ["accessibility", "--help"], ["bp-entropy", "--help"],
        ["validate", "--help"], ["enumerate", "--help"], ["theory", "entropy", "--jd", "0.1"]]
CASES = ([[PY, "-m", "fplandscape", *args] for args in ARGS]
         + [["fplandscape", "--version"], ["fplandscape", "--help"], [PY, "-c", "pass"]])


def once(cmd, path):
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   cwd="/", check=False)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", nargs="+", metavar="DIR", default=None,
                    help="tree(s) to time beside the current one: BEFORE [AFTER]")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    trees = [None] if not args.before else list(args.before) + ([None] if len(args.before) == 1
                                                                 else [])
    names = ["seconds"] if len(trees) == 1 else ["before (s)", "after (s)"]
    print(f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| command | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for cmd in CASES:
        times = [[] for _ in trees]
        for _ in range(args.repeats):
            for k, tree in enumerate(trees):
                times[k].append(once(cmd, tree))
        name = " ".join(["python" if c == PY else c for c in cmd])
        print(f"| `{name}` | " + " | ".join(f"{statistics.median(t):.3f}" for t in times)
              + " |", flush=True)
    print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

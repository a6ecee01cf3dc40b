"""``python -m bench``: every case of every benchmark in its own child process, one table, results in bench/results/.

``python -m bench <module> <case>`` is the child: it runs one case and prints its result as JSON on the last line.
"""

import datetime
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

from bench import BENCHMARKS

RESULTS = Path(__file__).resolve().parent / "results"


def _child(module_name, case):
    module = importlib.import_module(module_name)
    if case == "*":
        results = [{"label": label, "seconds": seconds, "peak": peak} for label, seconds, peak in module.run()]
    else:
        result = module.run_case(case)
        results = result if isinstance(result, list) else [result]
    print(json.dumps(results, ensure_ascii=False))


def _spawn(module_name, case):
    """Run one case in a child; its results with the child's own peak RSS (ru_maxrss is in KiB on Linux)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench", module_name, case],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
        env=dict(os.environ),
    )
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{module_name} {case} failed with exit code {process.returncode}")
    results = json.loads(output.decode("utf-8").strip().splitlines()[-1])
    for result in results:
        result["maxrss"] = usage.ru_maxrss * 1024
        result["benchmark"] = module_name
    return results


def _table(results):
    mib = 1024 * 1024
    # As wide as the longest label: a label carries its figures (queries, ratios), which a cut would lose.
    width = max([len("benchmark"), *(len(result["label"]) for result in results)])
    header = f"{'benchmark':<{width}} {'time (s)':>9} {'tracemalloc peak':>17} {'ru_maxrss':>10}"
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result['label']:<{width}} {result['seconds']:>9.2f} {result['peak'] / mib:>13.1f} MiB "
            f"{result['maxrss'] / mib:>6.0f} MiB"
        )
        if result.get("note"):
            lines.append(f"    {result['note']}")
    return "\n".join(lines)


def main(argv):
    if len(argv) == 2:
        _child(*argv)
        return
    results = []
    for module_name in BENCHMARKS:
        module = importlib.import_module(module_name)
        for case in getattr(module, "CASES", ["*"]):
            results += _spawn(module_name, case)
    table = _table(results)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    (RESULTS / "latest.txt").write_text(table + "\n", encoding="utf-8")
    print(f"\nresults written to {RESULTS / (stamp + '.json')}")


if __name__ == "__main__":
    main(sys.argv[1:])

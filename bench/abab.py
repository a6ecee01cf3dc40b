"""``python -m bench.abab [module …]``: each case and its anchor alternated (ABAB…) in fresh processes, several times.

A shared machine's load drifts over minutes; alternating the case with its anchor puts both under the same drift,
and the median of several pairs with its p95 and min–max says how far to trust the ratio. Every run is a child process of
its own (``python -m bench <module> <case>``), so its peak RSS (``ru_maxrss``) is that case's alone. A module taking
part lists ``CASES`` (ours first, the anchor last), ``GOAL`` (the ratio to meet, ours ÷ anchor) and returns ``cpu``
(process time of the measured run) beside ``seconds`` from ``run_case``.
"""

import os
import statistics
import sys
import time
import tracemalloc

from bench.__main__ import _spawn

REPETITIONS = 3
MODULES = ["bench.import_roster", "bench.export", "bench.computed", "bench.transition"]


def timed(function, *args):
    """(wall seconds, CPU seconds) of one call, then the tracemalloc peak of a second call (it slows what it sees).

    With BENCH_TRACEMALLOC=0 the second call is skipped and the peak is None: `alternate` measures it in its first
    round only, so the later rounds cost one run each and their peak RSS is that of one run.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    function(*args)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if os.environ.get("BENCH_TRACEMALLOC", "1") == "0":
        return wall, cpu, None
    tracemalloc.start()
    try:
        function(*args)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return wall, cpu, peak


def p95(values):
    """The 95th percentile, interpolated between the runs (with few runs it lies close to the largest)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _spread(values, unit=1.0, digits=2):
    """ "median, p95 (min–max)" of `values` in `unit`."""
    values = [value / unit for value in values]
    return (
        f"{statistics.median(values):.{digits}f}, p95 {p95(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


def alternate(module_name, repetitions=REPETITIONS):
    """Run the module's cases ABAB… `repetitions` times; print and return per-case runs and the ratios."""
    import importlib

    module = importlib.import_module(module_name)
    runs = {case: [] for case in module.CASES}
    for number in range(repetitions):
        os.environ["BENCH_TRACEMALLOC"] = "1" if number == 0 else "0"
        for case in module.CASES:
            runs[case] += _spawn(module_name, case)
    os.environ.pop("BENCH_TRACEMALLOC")
    ours, anchor = runs[module.CASES[0]], runs[module.CASES[-1]]
    wall_ratios = [a["seconds"] / b["seconds"] for a, b in zip(ours, anchor, strict=True)]
    cpu_ratios = [a["cpu"] / b["cpu"] for a, b in zip(ours, anchor, strict=True)]
    mib = 1024 * 1024
    print(f"\n{module_name}: {repetitions} rounds, cases alternated {' / '.join(module.CASES)}")
    for results in runs.values():
        print(f"  {results[0]['label']}")
        print(
            f"    wall s {_spread([r['seconds'] for r in results])}   cpu s {_spread([r['cpu'] for r in results])}   "
            f"peak RSS MiB {_spread([r['maxrss'] for r in results[1:] or results], mib, 0)} (one run)   "
            f"tracemalloc peak MiB {results[0]['peak'] / mib:.1f} (first round)"
        )
    print(
        f"  ratio ours / anchor (pairwise): wall {_spread(wall_ratios)}   cpu {_spread(cpu_ratios)}   "
        f"goal ≤ {module.GOAL:.1f}× — {'met' if statistics.median(wall_ratios) <= module.GOAL else 'NOT met'} "
        "on the wall median"
    )
    return runs, wall_ratios, cpu_ratios


def main(argv):
    repetitions = REPETITIONS
    if argv and argv[0].isdigit():
        repetitions, argv = int(argv[0]), argv[1:]
    for module_name in argv or MODULES:
        alternate(module_name, repetitions)


if __name__ == "__main__":
    main(sys.argv[1:])

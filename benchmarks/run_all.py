"""Run every benchmark in this folder, one after the other (`make bench`).

Each benchmark prints its own figures next to a baseline measured in the same run. The machines are
noisy: compare ratios, not absolute times.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import time
import traceback

HERE = pathlib.Path(__file__).parent
ORDER = ["engine", "emulator", "runner", "widgets", "browser"]


def main() -> int:
    failed = []
    names = [n for n in ORDER if (HERE / f"{n}.py").exists()]
    names += sorted(p.stem for p in HERE.glob("*.py") if p.stem not in ORDER and p.stem != "run_all")
    for name in names:
        print(f"\n=== benchmarks/{name}.py ===", flush=True)
        spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        start = time.perf_counter()
        try:
            spec.loader.exec_module(module)
            code = module.main([]) or 0
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            code = 1
        print(f"--- {name}: {time.perf_counter() - start:.1f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

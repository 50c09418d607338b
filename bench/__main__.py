"""Run every benchmark module in this package (each ``bench/<name>.py`` with a ``main()``), in turn."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    failures = 0
    for module in sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_")):
        print(f"== bench.{module} ==", flush=True)
        try:
            entry = getattr(importlib.import_module(f"bench.{module}"), "main", None)
            if callable(entry):
                entry()
        except Exception as exc:  # a broken benchmark is reported; the others still run
            failures += 1
            print(f"bench.{module} failed: {type(exc).__name__}: {exc}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

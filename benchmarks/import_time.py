"""Import cost of the registry core (issue 2).

Prints, in one run: the wall time of ``python -c pass`` and of
``python -c "import codex_ml.registry"`` (median of many cold processes),
our own cumulative ``-X importtime`` figure, and every non-stdlib module the
import pulls in (there must be none).

    python benchmarks/import_time.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from _common import Workdir, clean_env, cold, table

PROBE = """
import json, sys
before = set(sys.modules)
import codex_ml.registry
new = sorted(set(sys.modules) - before)
third = [m for m in new if m.split(".")[0] not in sys.stdlib_module_names and not m.startswith("codex_ml")]
print(json.dumps({"new": len(new), "third_party": third}))
"""


def importtime_us(env: dict[str, str]) -> tuple[int, int]:
    """(cumulative us of codex_ml.registry, self us of codex_ml modules) from -X importtime."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import codex_ml.registry"], env=env,
                         capture_output=True, text=True, check=True).stderr
    cumulative, own = 0, 0
    for line in err.splitlines():
        if "|" not in line or "import time:" not in line:
            continue
        self_us, cum_us, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        if name.startswith("codex_ml"):
            own += int(self_us)
            cumulative = max(cumulative, int(cum_us))
    return cumulative, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    env = clean_env()
    subprocess.run([sys.executable, "-c", "import codex_ml.registry"], env=env, check=True)  # write .pyc
    with Workdir() as work:
        base = cold("pass", env, args.repeat, work / "cwd")
        ours = cold("import codex_ml.registry", env, args.repeat, work / "cwd")
    samples = [importtime_us(env) for _ in range(args.repeat)]
    cumulative = statistics.median(s[0] for s in samples) / 1000
    own = statistics.median(s[1] for s in samples) / 1000
    probe = json.loads(subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                                      check=True).stdout)
    print(table(["measure", "value"], [
        ["python -c pass (median wall)", f"{base * 1000:.1f} ms"],
        ["python -c 'import codex_ml.registry' (median wall)", f"{ours * 1000:.1f} ms"],
        ["difference (wall)", f"{(ours - base) * 1000:.1f} ms"],
        ["-X importtime: codex_ml.registry cumulative", f"{cumulative:.2f} ms"],
        ["-X importtime: codex_ml modules' own time", f"{own:.2f} ms"],
        ["modules newly imported", probe["new"]],
        ["third-party modules imported", ", ".join(probe["third_party"]) or "none"],
    ]))
    print("aim: under 10 ms of our own import time; no third-party module")


if __name__ == "__main__":
    main()

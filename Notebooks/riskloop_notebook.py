"""What the notebooks share: where the riskloop binary and the outputs are, and small helpers.

RISKLOOP names the binary (default: the release build, else the debug build); RISKLOOP_NOTEBOOKS_FAST=1
shrinks every simulation so that CI runs all notebooks in a few minutes. Outputs (data, databases,
PNG plots) go under Notebooks/out/, which git ignores.
"""

import gzip
import json
import os
import pathlib
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")  # PNG files, no display needed

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Notebooks" / "out"
FAST = os.environ.get("RISKLOOP_NOTEBOOKS_FAST") == "1"
SPEC = ROOT / "Models" / "ss7" / "feature-spec.json"
POLICY = ROOT / "Models" / "ss7" / "policy.json"
RETRAIN = ROOT / "Models" / "ss7" / "retrain.json"
SAMPLE = ROOT / "Datasets" / "sample"


def binary():
    """The riskloop binary: $RISKLOOP, else the release build, else the debug build."""
    if os.environ.get("RISKLOOP"):
        return pathlib.Path(os.environ["RISKLOOP"])
    for build in ("release", "debug"):
        candidate = ROOT / ".build" / build / "riskloop"
        if candidate.exists():
            return candidate
    raise SystemExit("no riskloop binary: run `swift build --product riskloop` (or set RISKLOOP)")


def riskloop(*arguments, capture=False, check=True):
    """Runs `riskloop ARGUMENTS…` from the repository root; returns its standard output when captured."""
    command = [str(binary())] + [str(a) for a in arguments]
    print("$ riskloop " + " ".join(str(a) for a in arguments))
    result = subprocess.run(command, cwd=ROOT, check=check, text=True, stdout=subprocess.PIPE if capture else None)
    return result.stdout if capture else result.returncode


def start(*arguments):
    """Starts `riskloop ARGUMENTS…` in the background (its output discarded); see finish()."""
    print("$ riskloop " + " ".join(str(a) for a in arguments) + " &")
    return subprocess.Popen([str(binary())] + [str(a) for a in arguments], cwd=ROOT, stdout=subprocess.DEVNULL)


def finish(process):
    """Waits for a command started with start(); fails like riskloop() when it failed."""
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, process.args)


def riskloop_json(*arguments):
    """Runs a riskloop command that prints JSON, and parses it."""
    return json.loads(riskloop(*arguments, capture=True))


def workdir(name, fresh=True):
    """Notebooks/out/NAME, emptied first unless fresh is False."""
    path = OUT / name
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sample_events(directory):
    """The committed sample's events, decompressed into directory/events.jsonl."""
    target = directory / "events.jsonl"
    with gzip.open(SAMPLE / "events.jsonl.gz", "rb") as source, open(target, "wb") as output:
        shutil.copyfileobj(source, output)
    return target


def save(figure, directory, name):
    """Saves a matplotlib figure as directory/NAME.png and says where."""
    path = directory / f"{name}.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path.relative_to(ROOT)}")
    return path


def _wide_tables():
    import pandas as pd

    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)


_wide_tables()

"""Reading a benchmark file (the JSON `archcalc bench --output` writes) for charts and reports.

The format: ``{"environment": {...}, "results": [{"model", "device", "batch", "dtype", "train",
"latency_ms": {"median", "p10", "p90"}, "runs", "throughput", "tflops", "peak_fraction",
"predicted_latency_ms", "peak_memory_bytes", "predicted_memory_bytes", "memory_error",
"status"}]}``. A row whose ``status`` is ``"ok"`` was measured; any other status (an
out-of-memory row, a skipped one) has no timing and is listed, not plotted.

The device's peaks for the roofline are read from the environment when present:
``peak_flops`` (FLOP/s, a number or ``{dtype: FLOP/s}``) and ``peak_bandwidth`` (bytes/s, a
number or ``{dtype: bytes/s}``), else from the device profile `archcalc bench` records per dtype
(``profiles: {dtype: {"peak_flops", "bandwidth", ...}}``, microbenchmarked or from a datasheet).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import SpecError

MEASURED = "ok"
REQUIRED = ("model", "device", "batch", "dtype", "train", "latency_ms", "status")
NUMBERS = ("runs", "throughput", "tflops", "peak_fraction", "predicted_latency_ms", "peak_memory_bytes",
           "predicted_memory_bytes", "memory_error")


@dataclass(frozen=True)
class BenchResult:
    model: str
    device: str
    batch: int
    dtype: str
    train: bool
    status: str
    median_ms: float | None
    p10_ms: float | None
    p90_ms: float | None
    tflops: float | None  # achieved: 2 * MACs * batch / time, in 10^12 FLOP/s
    predicted_latency_ms: float | None
    peak_memory_bytes: int | None
    predicted_memory_bytes: int | None

    @property
    def measured(self) -> bool:
        return self.status == MEASURED and self.median_ms is not None


@dataclass(frozen=True)
class BenchFile:
    path: str
    environment: Mapping[str, Any]
    results: tuple[BenchResult, ...]
    profiles: Mapping[str, Any] = field(default_factory=dict)  # {dtype: device profile}, as bench writes it

    @property
    def label(self) -> str:
        """The device as the file names it, for captions."""
        env = self.environment
        return str(env.get("device_name") or env.get("device") or env.get("gpu") or env.get("cpu") or Path(self.path).stem)

    def peak(self, key: str, dtype: str) -> float | None:
        """``peak_flops`` / ``peak_bandwidth`` for ``dtype`` from the environment, if the file has it."""
        value = self.environment.get(key)
        if isinstance(value, Mapping):
            value = value.get(dtype)
        if value is None and isinstance(self.profiles, Mapping) and isinstance(self.profiles.get(dtype), Mapping):
            value = self.profiles[dtype].get({"peak_bandwidth": "bandwidth"}.get(key, key))
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _number(value: Any, where: str, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"not a benchmark file: {where} is {value!r}, expected a number or null", file=path)
    return value


def load(path: str | Path) -> BenchFile:
    """Read and validate a benchmark file; anything else is a one-line error naming the file."""
    name = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("no such benchmark file", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read benchmark file: {exc.__class__.__name__}: {exc}", file=name) from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"not a benchmark file: not JSON (line {exc.lineno}: {exc.msg})", file=name) from None
    if not isinstance(data, dict) or not isinstance(data.get("environment"), dict) or not isinstance(data.get("results"), list):
        raise SpecError('not a benchmark file: expected {"environment": {...}, "results": [...]} (archcalc bench --output)', file=name)
    results = []
    for i, row in enumerate(data["results"]):
        where = f"results[{i}]"
        if not isinstance(row, dict):
            raise SpecError(f"not a benchmark file: {where} is not an object", file=name)
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise SpecError(f"not a benchmark file: {where} has no {', '.join(missing)}", file=name)
        latency = row["latency_ms"]
        if latency is None:
            latency = {}
        if not isinstance(latency, dict):
            raise SpecError(f"not a benchmark file: {where}.latency_ms is {latency!r}, expected {{median, p10, p90}}", file=name)
        batch = row["batch"]
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise SpecError(f"not a benchmark file: {where}.batch is {batch!r}, expected a positive integer", file=name)
        numbers = {k: _number(row.get(k), f"{where}.{k}", name) for k in NUMBERS}
        times = {k: _number(latency.get(k), f"{where}.latency_ms.{k}", name) for k in ("median", "p10", "p90")}
        status = str(row["status"])
        if status == MEASURED and times["median"] is None:
            raise SpecError(f"not a benchmark file: {where} has status {MEASURED!r} but no latency_ms.median", file=name)
        results.append(BenchResult(
            model=str(row["model"]), device=str(row["device"]), batch=batch, dtype=str(row["dtype"]),
            train=bool(row["train"]), status=status, median_ms=times["median"], p10_ms=times["p10"], p90_ms=times["p90"],
            tflops=numbers["tflops"], predicted_latency_ms=numbers["predicted_latency_ms"],
            peak_memory_bytes=None if numbers["peak_memory_bytes"] is None else int(numbers["peak_memory_bytes"]),
            predicted_memory_bytes=None if numbers["predicted_memory_bytes"] is None else int(numbers["predicted_memory_bytes"]),
        ))
    if not results:
        raise SpecError("benchmark file has no results", file=name)
    profiles = data.get("profiles") if isinstance(data.get("profiles"), Mapping) else {}
    return BenchFile(name, data["environment"], tuple(results), profiles)

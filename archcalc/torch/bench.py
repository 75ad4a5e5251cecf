"""Measured latency, throughput and memory of networks on a device, beside the predictions.

Timing: warm-up calls, then one synchronised measurement per call (CUDA events on a GPU,
``time.perf_counter`` on the CPU, whose ops return when done), in blocks, until the median of all
runs moves by less than ``rel_tol`` between blocks (or the run or time budget is spent). Reported:
median, p10 and p90 (linear interpolation between order statistics), the number of runs and
whether the median settled. Throughput = batch / median; achieved FLOP/s = 2 · MACs · batch /
median (MACs from the engine); the peak fraction divides by the device profile's matmul peak.

A sweep over (model, dtype, mode, batch) writes its JSON (and the CSV beside it) atomically after
every row, so Ctrl-C or a crash keeps every row measured; ``resume`` skips rows already in the file.
An out-of-memory row is recorded as ``oom``, the allocator cache is emptied and the larger batches
of that model, dtype and mode are recorded as skipped.
"""

from __future__ import annotations

import csv
import datetime
import gc
import io
import json
import math
import os
import platform
import re
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TextIO

import torch
from torch import nn

from ..analysis import DTYPE_BYTES, summarize
from ..errors import SpecError
from ..fileio import write_atomic
from ..graph import Graph
from ..roofline import (TRAIN_FORWARDS, DeviceProfile, LayerPrediction, datasheet, median_abs_error, predict,
                        roofline_only, spearman)

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
CACHE_ENV = "ARCHCALC_CACHE_DIR"


# ---------------------------------------------------------------------------------------------
# Timing


@dataclass(frozen=True)
class TimingPolicy:
    warmup_runs: int = 3
    warmup_s: float = 0.3  # and at least this long: caches, autotuning, lazy initialisation
    block: int = 5  # runs between two looks at the median
    min_runs: int = 10
    max_runs: int = 1000
    budget_s: float = 20.0  # wall time for the timed runs of one row
    rel_tol: float = 0.01  # the median is stable when a block moves it by at most this fraction


@dataclass(frozen=True)
class Timing:
    median_s: float
    p10_s: float
    p90_s: float
    runs: int
    stable: bool  # False: the budget ran out before the median settled


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default; statistics 'inclusive')."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def stopwatch(device: str, clock: Callable[[], float] = time.perf_counter) -> Callable[[Callable[[], Any]], float]:
    """A function that runs ``fn`` once and returns its seconds, synchronised with the device."""
    if device.startswith("cuda"):
        def lap_cuda(fn: Callable[[], Any]) -> float:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3  # elapsed_time is in milliseconds

        return lap_cuda

    def lap(fn: Callable[[], Any]) -> float:
        t0 = clock()
        fn()
        return clock() - t0

    return lap


def time_fn(fn: Callable[[], Any], device: str = "cpu", policy: TimingPolicy = TimingPolicy(),
            clock: Callable[[], float] = time.perf_counter) -> Timing:
    """Median, p10, p90 of ``fn``'s time after warm-up, with an adaptive number of runs."""
    lap = stopwatch(device, clock)
    start, calls = time.monotonic(), 0
    while calls < policy.warmup_runs or time.monotonic() - start < policy.warmup_s:
        fn()
        calls += 1
    synchronize(device)
    times: list[float] = []
    previous, stable, start = None, False, time.monotonic()
    while True:
        times.extend(lap(fn) for _ in range(policy.block))
        median = statistics.median(times)
        if len(times) >= policy.min_runs and previous is not None and abs(median - previous) <= policy.rel_tol * median:
            stable = True
            break
        if len(times) >= policy.max_runs or time.monotonic() - start >= policy.budget_s:
            break
        previous = median
    return Timing(statistics.median(times), quantile(times, 0.1), quantile(times, 0.9), len(times), stable)


# ---------------------------------------------------------------------------------------------
# Devices and dtypes


def check_device(device: str) -> str:
    """'cpu', 'cuda' or 'cuda:N' that this machine has; anything else is a one-line SpecError."""
    if device == "cpu":
        return device
    match = re.fullmatch(r"cuda(?::(\d+))?", device)
    if not match:
        raise SpecError(f"--device: unknown device {device!r} (choose cpu, cuda or cuda:N)")
    if not torch.cuda.is_available():
        raise SpecError(f"--device {device}: no CUDA GPU is available here (torch.cuda.is_available() is False)")
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise SpecError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return f"cuda:{index}"


def check_dtype(device: str, dtype: str) -> str:
    """A dtype archcalc knows and the device can run a convolution in; else a one-line SpecError."""
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"--dtype: unknown dtype {dtype!r} (choose from {', '.join(TORCH_DTYPES)})")
    if dtype not in TORCH_DTYPES:
        raise SpecError(f"--dtype {dtype}: bench runs floating-point models ({', '.join(TORCH_DTYPES)}); "
                        f"{dtype} needs a quantised model")
    try:
        probe_dtype(device, dtype)
    except Exception as exc:  # noqa: BLE001 - any failure means the device cannot run it
        raise SpecError(f"--dtype {dtype}: {device} cannot run a convolution in {dtype} "
                        f"({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    return dtype


def probe_dtype(device: str, dtype: str) -> None:
    """Run a 3x3 convolution, its backward pass and a linear layer in ``dtype`` on ``device``."""
    conv = nn.Conv2d(2, 2, 3).to(device, TORCH_DTYPES[dtype])
    x = torch.randn(1, 2, 5, 5, device=device, dtype=TORCH_DTYPES[dtype])
    conv(x).sum().backward()
    nn.Linear(2, 2).to(device, TORCH_DTYPES[dtype])(x[:, :, 0, :2])
    synchronize(device)


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return cpu_model()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _command(args: list[str]) -> str | None:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10, check=True).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def environment(device: str) -> dict[str, Any]:
    cuda = device.startswith("cuda")
    return {
        "device": device,
        "device_name": device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "driver": _command(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]) if cuda else None,
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# ---------------------------------------------------------------------------------------------
# Device profile: the prediction's constants, from microbenchmarks (cached per device)

#: microbenchmark shapes: typical mid-network ImageNet layers (cin, cout, kernel, H=W, groups)
CONV_BENCH = {
    "conv": (64, 64, 3, 56, 1),  # ResNet stage 1 3x3
    "conv1x1": (256, 64, 1, 56, 1),  # ResNet-50 bottleneck reduction
    "depthwise": (144, 144, 3, 56, 144),  # MobileNetV2 block 3x3 depthwise
    "grouped": (128, 128, 3, 28, 32),  # ResNeXt 32x4d 3x3
}
POOL_BENCH = (64, 112, 3, 2, 1)  # channels, H=W, kernel, stride, padding: ResNet's stem max pool
MATMUL_SIZES = {"cpu": (512, 1024, 2048), "cuda": (4096, 8192)}
CONV_BATCH = {"cpu": 1, "cuda": 32}  # a GPU at batch 1 measures launches, not the kernel
COPY_BYTES = 256 * 2**20  # well beyond any last-level cache
OVERHEAD_CALLS = 100
MICRO_POLICY = TimingPolicy(warmup_runs=2, warmup_s=0.1, min_runs=10, max_runs=200, budget_s=3.0, rel_tol=0.02)


def measure_profile(device: str, dtype: str, policy: TimingPolicy = MICRO_POLICY) -> DeviceProfile:
    """Microbenchmarks: matmul peak, copy bandwidth, per-call overhead, conv efficiency per class,
    pooling rate (each the 10th percentile of its runs). Nothing here runs a network."""
    kind = "cuda" if device.startswith("cuda") else "cpu"
    tdtype = TORCH_DTYPES[dtype]
    if kind == "cuda":
        torch.backends.cudnn.benchmark = True  # as in the sweep: autotuned convs

    def seconds(fn: Callable[[], Any]) -> float:
        # p10, not the median: what the device can do; co-tenants only ever add time
        return time_fn(fn, device, policy).p10_s

    with torch.inference_mode():
        peak = 0.0
        for n in MATMUL_SIZES[kind]:
            a, b = (torch.randn(n, n, device=device, dtype=tdtype) for _ in range(2))
            peak = max(peak, 2 * n**3 / seconds(lambda: a @ b))
            del a, b
        src = torch.empty(COPY_BYTES // DTYPE_BYTES[dtype], device=device, dtype=tdtype).fill_(1)
        dst = torch.empty_like(src)
        bandwidth = 2 * COPY_BYTES / seconds(lambda: dst.copy_(src))  # read + write
        del src, dst
        tiny, relu = torch.ones(1, device=device, dtype=tdtype), nn.ReLU()
        overhead = seconds(lambda: [relu(tiny) for _ in range(OVERHEAD_CALLS)]) / OVERHEAD_CALLS
        batch = CONV_BATCH[kind]
        efficiency = {}
        for cls, (cin, cout, k, hw, groups) in CONV_BENCH.items():
            conv = nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False).to(device, tdtype)
            x = torch.randn(batch, cin, hw, hw, device=device, dtype=tdtype)
            flops = 2 * batch * cout * hw * hw * (cin // groups) * k * k
            efficiency[cls] = flops / seconds(lambda: conv(x)) / peak
        c, hw, k, s, p = POOL_BENCH
        pool = nn.MaxPool2d(k, s, p)
        x = torch.randn(batch, c, hw, hw, device=device, dtype=tdtype)
        out = (hw + 2 * p - k) // s + 1
        compares = batch * c * out * out * (k * k - 1)  # docs/conventions.md: k²−1 compares per output
        pool_rate = compares / seconds(lambda: pool(x))
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return DeviceProfile(device_name(device), dtype, peak, bandwidth,
                         f"measured {when}, torch {torch.__version__}, {torch.get_num_threads()} threads",
                         overhead_s=overhead, efficiency=efficiency, pool_rate=pool_rate,
                         asynchronous=kind == "cuda")


def cache_path() -> Path:
    base = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "archcalc"
    return Path(base) / "device_profiles.json"


def _cache_key(device: str, dtype: str) -> str:
    return f"{device_name(device)}|{dtype}|torch {torch.__version__}|{torch.get_num_threads()} threads"


def device_profile(device: str, dtype: str, measure: bool = False,
                   measurer: Callable[[str, str], DeviceProfile] = measure_profile) -> DeviceProfile:
    """``measure``: run the microbenchmarks now (and cache them). Otherwise the cached measurement,
    else the GPU's datasheet roofline, else the microbenchmarks."""
    path, key = cache_path(), _cache_key(device, dtype)
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        cache = {}
    if not measure:
        if key in cache:
            return DeviceProfile.from_dict(cache[key])
        sheet = datasheet(device_name(device), dtype) if device.startswith("cuda") else None
        if sheet is not None:
            return sheet
    profile = measurer(device, dtype)
    cache[key] = profile.to_dict()
    write_atomic(path, json.dumps(cache, indent=2))
    return profile


# ---------------------------------------------------------------------------------------------
# Memory: one seam for archcalc.torch.memory (the memory issue's live-tensor tracker and totals)


@dataclass(frozen=True)
class Memory:
    peak_bytes: int | None  # measured activation peak (CUDA: max allocated − resident baseline)
    baseline_bytes: int | None  # CUDA: resident before the pass (weights, buffers; train: grads, optimizer state)
    predicted_bytes: int | None
    note: str = ""

    @property
    def error(self) -> float | None:
        if self.peak_bytes is None or not self.predicted_bytes:
            return None
        return (self.peak_bytes - self.predicted_bytes) / self.predicted_bytes


#: the memory issue's name for what --train times: SGD with momentum (one state tensor per parameter)
MEMORY_OPTIMIZER = "momentum"


def predicted_memory(graph: Graph, batch: int, dtype: str, train: bool) -> int:
    """The engine's prediction: the inference activation peak, or a training step's bytes beyond
    the resident weights and optimizer state (docs/conventions.md, Memory)."""
    if not train:
        return summarize(graph, batch=batch, dtype=dtype).totals.peak_activation_bytes
    return int(summarize(graph, batch=batch, dtype=dtype, train=True, optimizer=MEMORY_OPTIMIZER).totals.train_step_bytes)


def measure_memory(model: nn.Module, x: torch.Tensor, graph: Graph, batch: int, dtype: str, device: str,
                   train: bool) -> Memory:
    """Measured and predicted peak memory of one pass (inference) or step (train): the one seam
    between bench and archcalc.torch.memory (the memory issue's tracker and allocator readings)."""
    from . import memory

    predicted = predicted_memory(graph, batch, dtype, train)
    if device.startswith("cuda"):
        m = memory.cuda_memory(model, x, train=train, optimizer=MEMORY_OPTIMIZER if train else None)
        # the allocator's baseline holds the input, which the prediction counts as an activation
        x_bytes = x.untyped_storage().nbytes()
        return Memory(m.peak_bytes - m.baseline_bytes + x_bytes, m.baseline_bytes - x_bytes, predicted)
    if train:
        return Memory(memory.measure_train_step(model, x, MEMORY_OPTIMIZER).step_bytes, None, predicted)
    return Memory(memory.measure_inference_peak(model, x), None, predicted)


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass(frozen=True)
class BenchModel:
    name: str
    graph: Graph
    build: Callable[[], nn.Module]  # a fresh model with random weights


@dataclass(frozen=True)
class Config:
    device: str
    batches: tuple[int, ...] = (1,)
    dtypes: tuple[str, ...] = ("float32",)
    train: bool = False
    channels_last: bool = False
    compile: bool = False
    policy: TimingPolicy = TimingPolicy()
    measure_peak: bool = False
    per_layer: bool = False


KEY_FIELDS = ("model", "device", "batch", "dtype", "train", "channels_last", "compile")


def row_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] for k in KEY_FIELDS)


def _logits(out: Any) -> torch.Tensor:
    """The main output of a model that may return a tuple (aux heads) or a dict."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, Mapping):
        return next(iter(out.values()))
    return out[0]


def is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and ("out of memory" in str(exc) or "can't allocate memory" in str(exc)))


def free_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def prepare(bench_model: BenchModel, device: str, dtype: str, train: bool, channels_last: bool,
            compile: bool) -> nn.Module:
    model = bench_model.build().to(device, TORCH_DTYPES[dtype]).train(train)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile:
        model = torch.compile(model)  # compiled on the first (warm-up) call of each batch size
    return model


def measure_row(bench_model: BenchModel, model: nn.Module, base: dict[str, Any], config: Config,
                profile: DeviceProfile) -> dict[str, Any]:
    """Time one (model, batch, dtype, mode) and set it against the predictions: one result row."""
    device, batch, dtype, train = base["device"], base["batch"], base["dtype"], base["train"]
    graph = bench_model.graph
    x = torch.randn(batch, *graph.input_shape, device=device, dtype=TORCH_DTYPES[dtype])
    if config.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    if train:
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
        out_features = _logits(model(x)).shape[1]
        target = torch.randint(0, out_features, (batch,), device=device)

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(_logits(model(x)).float(), target).backward()
            optimizer.step()

        timing = time_fn(step, device, config.policy)
    else:
        with torch.inference_mode():
            timing = time_fn(lambda: model(x), device, config.policy)
    prediction = predict(graph, batch, profile, train)
    roofline = predict(graph, batch, roofline_only(profile), train)
    layers = None
    if config.per_layer and not train:
        layers = per_layer(model, x, {l.name: l for l in prediction.layers}, device)
    memory = measure_memory(model, x, graph, batch, dtype, device, train)
    macs = summarize(graph, batch=batch, dtype=dtype).totals.macs
    flops = 2 * macs * (TRAIN_FORWARDS if train else 1)
    tflops = flops / timing.median_s / 1e12
    notes = [n for n in (memory.note, "" if timing.stable else "median not stable within the time budget",
                         "per-layer timing needs a model built from a spec (inference)"
                         if config.per_layer and layers is None else "") if n]
    return {
        **base,
        "latency_ms": {"median": timing.median_s * 1e3, "p10": timing.p10_s * 1e3, "p90": timing.p90_s * 1e3},
        "runs": timing.runs,
        "throughput": batch / timing.median_s,
        "macs": macs,
        "tflops": tflops,
        "peak_fraction": tflops * 1e12 / profile.peak_flops,
        "predicted_latency_ms": prediction.seconds * 1e3,
        "roofline_latency_ms": roofline.seconds * 1e3,
        "baseline_latency_ms": prediction.baseline_seconds * 1e3,
        "prediction_error": (prediction.seconds - timing.median_s) / timing.median_s,
        "peak_memory_bytes": memory.peak_bytes,
        "baseline_memory_bytes": memory.baseline_bytes,
        "predicted_memory_bytes": memory.predicted_bytes,
        "memory_error": memory.error,
        "status": "ok",
        "note": "; ".join(notes),
        **({"layers": layers} if layers is not None else {}),
    }


PER_LAYER_RUNS = 5


def per_layer(model: nn.Module, x: torch.Tensor, predicted: Mapping[str, LayerPrediction],
              device: str) -> list[dict[str, Any]] | None:
    """Per-layer predicted and measured milliseconds (median of PER_LAYER_RUNS passes, forward
    hooks around each layer's module, synchronised: on a GPU this serialises the launches, so the
    layers add up to more than the pass). Only for models built from a spec (module per layer)."""
    from .build import GraphModule

    if not isinstance(model, GraphModule):
        return None
    starts: dict[str, float] = {}
    times: dict[str, list[float]] = {}

    def before(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any) -> None:
            synchronize(device)
            starts[name] = time.perf_counter()
        return hook

    def after(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            synchronize(device)
            times.setdefault(name, []).append(time.perf_counter() - starts[name])
        return hook

    handles = []
    for name, module in model.layers.items():
        handles += [module.register_forward_pre_hook(before(name)), module.register_forward_hook(after(name))]
    try:
        with torch.inference_mode():
            model(x)  # warm-up
            times.clear()
            for _ in range(PER_LAYER_RUNS):
                model(x)
    finally:
        for h in handles:
            h.remove()
    out = []
    for name, path in model.paths.items():
        if path in predicted:
            layer = predicted[path]
            measured = statistics.median(times[name]) * 1e3 if name in times else None
            out.append({"name": path, "class": layer.cls, "predicted_ms": layer.seconds * 1e3, "measured_ms": measured})
    return out


def empty_row(base: dict[str, Any], status: str, note: str = "") -> dict[str, Any]:
    return {**base, **{k: None for k in RESULT_FIELDS if k not in base}, "status": status, "note": note}


RESULT_FIELDS = (
    *KEY_FIELDS, "latency_ms", "runs", "throughput", "macs", "tflops", "peak_fraction",
    "predicted_latency_ms", "roofline_latency_ms", "baseline_latency_ms", "prediction_error",
    "peak_memory_bytes", "baseline_memory_bytes", "predicted_memory_bytes", "memory_error", "status", "note",
)


# ---------------------------------------------------------------------------------------------
# Sweep document: JSON + CSV, written atomically after every row


def summary(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """How well the prediction, the pure roofline and the MACs-only baseline track the measured
    medians over the rows that ran: median |error| and Spearman's rank correlation."""
    ok = [r for r in results if r["status"] == "ok"]
    out: dict[str, Any] = {"rows": len(ok)}
    if len(ok) < 2:
        return out
    measured = [r["latency_ms"]["median"] for r in ok]
    for label, column in (("prediction", "predicted_latency_ms"), ("roofline", "roofline_latency_ms"),
                          ("macs_baseline", "baseline_latency_ms")):
        predicted = [r[column] for r in ok]
        rho = spearman(predicted, measured)
        out[label] = {"median_abs_error": median_abs_error(predicted, measured),
                      "spearman": None if math.isnan(rho) else rho}  # NaN: all predictions equal
    return out


def flatten(row: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key in RESULT_FIELDS:
        value = row.get(key)
        if key == "latency_ms":
            for q in ("median", "p10", "p90"):
                flat[f"latency_ms_{q}"] = None if value is None else value[q]
        else:
            flat[key] = value
    return flat


def csv_text(results: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    rows = [flatten(r) for r in results]
    columns = list(flatten({}).keys())
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def csv_path(json_path: Path) -> Path:
    return json_path.with_suffix(".csv")


@dataclass
class Sweep:
    environment: dict[str, Any]
    profiles: dict[str, dict[str, Any]]
    results: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0  # measuring time, summed over resumed runs
    interrupted: bool = False

    def document(self) -> dict[str, Any]:
        # the load when written: on a shared machine, how much the timings are contaminated
        load = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
        return {"environment": {**self.environment, "load_average_now": load}, "profiles": self.profiles,
                "duration_s": round(self.duration_s, 1),
                "summary": summary(self.results), "results": self.results}

    def write(self, path: Path) -> None:
        write_atomic(path, json.dumps(self.document(), indent=2) + "\n")
        write_atomic(csv_path(path), csv_text(self.results))


def read_previous(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SpecError(f"--resume: cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise SpecError(f"--resume: {path} is not an archcalc bench file (no 'results' list)")
    return data


class Progress:
    """One line per row on a stream: [done/total] what, status, elapsed and ETA."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.stream, self.done, self.measured = total, stream, 0, 0
        self.start = time.monotonic()

    def update(self, label: str, status: str, measured: bool) -> None:
        self.done += 1
        self.measured += measured
        elapsed = time.monotonic() - self.start
        if self.stream is None:
            return
        left = self.total - self.done
        eta = f"ETA {_clock(elapsed / self.measured * left)}" if self.measured and left else ("done" if not left else "ETA ?")
        print(f"[{self.done}/{self.total}] {label}: {status}  elapsed {_clock(elapsed)}, {eta}", file=self.stream, flush=True)


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def run_sweep(models: Sequence[BenchModel], config: Config, output: Path | None = None, resume: bool = False,
              progress: TextIO | None = None,
              profile_of: Callable[[str, str, bool], DeviceProfile] = device_profile) -> Sweep:
    """Measure every (model, dtype, batch) of ``config``; KeyboardInterrupt stops the sweep with
    every finished row kept (``Sweep.interrupted``)."""
    previous = read_previous(output) if (resume and output is not None) else {}
    if config.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # autotuned in the warm-up
    sweep = Sweep(environment(config.device), dict(previous.get("profiles") or {}),
                  list(previous.get("results") or []), float(previous.get("duration_s") or 0.0))
    done = {row_key(r) for r in sweep.results}
    profiles = {dtype: profile_of(config.device, dtype, config.measure_peak) for dtype in config.dtypes}
    sweep.profiles.update({dtype: p.to_dict() for dtype, p in profiles.items()})
    plan = [(m, dtype, batch) for m in models for dtype in config.dtypes for batch in sorted(config.batches)]
    bar = Progress(len(plan), progress)
    started = time.monotonic()
    try:
        for bench_model in models:
            for dtype in config.dtypes:
                _sweep_model(bench_model, dtype, config, profiles[dtype], sweep, done, bar, output)
    except KeyboardInterrupt:
        sweep.interrupted = True
    finally:
        sweep.duration_s += time.monotonic() - started
        if output is not None:
            sweep.write(output)
    return sweep


def _sweep_model(bench_model: BenchModel, dtype: str, config: Config, profile: DeviceProfile, sweep: Sweep,
                 done: set[tuple[Any, ...]], bar: Progress, output: Path | None) -> None:
    model: nn.Module | None = None
    oom_at: int | None = None
    for batch in sorted(config.batches):
        base = {"model": bench_model.name, "device": config.device, "batch": batch, "dtype": dtype,
                "train": config.train, "channels_last": config.channels_last, "compile": config.compile}
        label = f"{bench_model.name} batch {batch} {dtype}{' train' if config.train else ''}"
        if row_key(base) in done:
            bar.update(label, "already in the file", measured=False)
            continue
        if oom_at is not None:
            row = empty_row(base, "skipped", f"out of memory at batch {oom_at}")
        else:
            try:
                if model is None:
                    model = prepare(bench_model, config.device, dtype, config.train, config.channels_last, config.compile)
                row = measure_row(bench_model, model, base, config, profile)
            except Exception as exc:  # noqa: BLE001 - one failing row must not end the sweep
                if not is_oom(exc):
                    row = empty_row(base, "error", f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                else:
                    oom_at, model = batch, None
                    row = empty_row(base, "oom", str(exc).splitlines()[0] if str(exc) else "out of memory")
            if row["status"] == "oom":  # outside the except block: its traceback no longer holds tensors
                free_memory(config.device)
        sweep.results.append(row)
        done.add(row_key(base))
        if output is not None:
            sweep.write(output)
        status = row["status"] if row["status"] != "ok" else f"{row['latency_ms']['median']:.2f} ms"
        bar.update(label, status, measured=row["status"] == "ok")
    del model
    free_memory(config.device)


# ---------------------------------------------------------------------------------------------
# Text output (formatting only)


def render_profile(p: DeviceProfile) -> str:
    efficiency = ", ".join(f"{k} {v:.2f}" for k, v in p.efficiency.items())
    return (f"profile {p.dtype}: peak {p.peak_flops / 1e12:.3f} TFLOP/s, bandwidth {p.bandwidth / 1e9:.1f} GB/s, "
            f"overhead {p.overhead_s * 1e6:.1f} us" + (f", efficiency {efficiency}" if efficiency else "")
            + (f", pooling {p.pool_rate / 1e9:.2f} G/s" if p.pool_rate else "") + f" ({p.source})")


def render_text(sweep: Sweep) -> str:
    from ..report import iec
    from ..textable import table as text_table

    def ms(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"

    def pct(v: float | None) -> str:
        return "" if v is None else f"{100 * v:+.0f}%"

    table = []
    for r in sweep.results:
        lat = r.get("latency_ms")
        table.append([
            r["model"], r["batch"], r["dtype"], "train" if r["train"] else "infer",
            ms(lat["median"]) if lat else r["status"], f"{lat['p10']:.2f}-{lat['p90']:.2f}" if lat else "",
            r["runs"] or "", "" if r["throughput"] is None else f"{r['throughput']:.1f}",
            "" if r["tflops"] is None else f"{r['tflops']:.3f}",
            "" if r["peak_fraction"] is None else f"{100 * r['peak_fraction']:.1f}%",
            ms(r["predicted_latency_ms"]), pct(r["prediction_error"]), ms(r["baseline_latency_ms"]),
            "" if r["peak_memory_bytes"] is None else iec(r["peak_memory_bytes"]),
            "" if r["predicted_memory_bytes"] is None else iec(r["predicted_memory_bytes"]),
        ])
    headers = ["model", "batch", "dtype", "mode", "median ms", "p10-p90 ms", "runs", "images/s", "TFLOP/s",
               "of peak", "predicted ms", "error", "MACs-only ms", "memory", "predicted memory"]
    lines = [text_table(table, headers), ""]
    env = sweep.environment
    lines.append(f"{env['device_name']} ({env['device']}), torch {env['torch']}, {env['threads']} threads, "
                 f"{sweep.duration_s:.0f} s")
    lines += [render_profile(DeviceProfile.from_dict(p)) for p in sweep.profiles.values()]
    s = summary(sweep.results)
    if "prediction" in s:
        for label in ("prediction", "roofline", "macs_baseline"):
            rho = s[label]["spearman"]
            lines.append(f"{label:<13} median |error| {100 * s[label]['median_abs_error']:.0f}%, "
                         f"Spearman {'n/a' if rho is None else f'{rho:.3f}'} over {s['rows']} rows")
    notes = sorted({r["note"] for r in sweep.results if r.get("note")})
    lines.extend(f"note: {n}" for n in notes)
    for r in sweep.results:
        if r.get("layers"):
            lines += ["", f"{r['model']} batch {r['batch']} {r['dtype']}: per layer (predicted / measured ms)",
                      text_table([[l["name"], l["class"], ms(l["predicted_ms"]), ms(l["measured_ms"]),
                                 "" if not l["measured_ms"] else f"{l['predicted_ms'] / l['measured_ms']:.2f}"]
                                for l in r["layers"]], ["layer", "class", "predicted ms", "measured ms", "ratio"])]
    return "\n".join(lines)

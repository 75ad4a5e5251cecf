"""Measure the memory PyTorch really spends: the ground truth the core's memory model is tested on.

* :func:`measure_inference_peak` — one eager forward under ``torch.no_grad``: the largest total of
  live, distinct tensor storages, sampled after every ATen op. A :class:`LiveStorages` dispatch
  mode records each op's output storages and forgets each one the moment its last reference dies
  (a weak reference to the ``UntypedStorage``: PyTorch keeps one Python object per storage alive
  exactly as long as the storage itself, the mechanism ``torch.distributed._tools.MemTracker``
  relies on). The input counts; parameters and buffers do not. Allocations a kernel makes and
  frees inside one op (workspace) are not seen: the issue's definition samples between ops.
* :func:`measure_saved_bytes` — one forward in train mode: the bytes autograd keeps for backward,
  read with ``torch.autograd.graph.saved_tensors_hooks`` (distinct storages, parameters
  excluded: a conv saves its weight too, but the weight is resident anyway).
* :func:`measure_train_step` — one standard training step with the same tracker: what it holds
  beyond parameters, buffers and optimizer state (activations, saved tensors, gradients).
* :func:`cuda_memory` — on a CUDA device, ``torch.cuda.max_memory_allocated`` around a forward
  pass or a full training step, with the resident baseline (weights, buffers, input; optimizer
  state after a warm-up step) stated apart.

Everything but the last runs on x's device; ``meta`` is a fast proxy (no arithmetic) but its
batch-norm kernel returns statistics the CPU's leaves empty in eval mode (tests/test_memory.py).
"""

from __future__ import annotations

import functools
import operator
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakIdKeyDictionary

#: optimizer names archcalc predicts state for (archcalc.analysis.OPTIMIZER_STATE)
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.01),
    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps, lr=1e-3),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-3),
}


def _resident(model: nn.Module) -> WeakIdKeyDictionary:
    """Storages of the model's parameters and buffers (excluded from every measurement)."""
    out = WeakIdKeyDictionary()
    for t in (*model.parameters(), *model.buffers()):
        out[t.untyped_storage()] = True
    return out


class LiveStorages(TorchDispatchMode):
    """Follows every storage an ATen op returns until it is freed; ``peak`` is the largest total
    of live bytes seen after any op. Storages in ``exclude`` (parameters, buffers) never count."""

    def __init__(self, exclude: WeakIdKeyDictionary | None = None) -> None:
        super().__init__()
        self.exclude = exclude if exclude is not None else WeakIdKeyDictionary()
        self.sizes: dict[int, int] = {}  # id(storage) -> bytes, for live storages
        self._refs: dict[int, weakref.ref] = {}
        self.live = 0
        self.peak = 0

    def track(self, t: torch.Tensor) -> None:
        st = t.untyped_storage()
        if st in self.exclude:
            return
        key, nbytes = id(st), st.nbytes()
        if key in self.sizes:  # already live; an op may have resized it (out= arguments)
            self.live += nbytes - self.sizes[key]
            self.sizes[key] = nbytes
            return
        self.sizes[key] = nbytes
        self.live += nbytes
        self._refs[key] = weakref.ref(st, lambda _ref, key=key: self._free(key))

    def _free(self, key: int) -> None:
        self.live -= self.sizes.pop(key)
        del self._refs[key]

    def sample(self) -> None:
        self.peak = max(self.peak, self.live)

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.track(t)
        self.sample()
        return out


def measure_inference_peak(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes: the eager inference peak of ``model(x)`` under ``torch.no_grad`` on x's device —
    the largest total of live, distinct storages after any ATen op, x included, parameters and
    buffers excluded. The model is put in eval mode."""
    model.eval()
    tracker = LiveStorages(_resident(model))
    tracker.track(x)
    tracker.sample()
    with torch.no_grad(), tracker:
        out = model(x)
    del out
    return tracker.peak


def saved_storages(model: nn.Module, x: torch.Tensor) -> dict[int, int]:
    """id(storage) -> bytes of every distinct storage autograd saves for backward during one
    train-mode forward of ``model(x)``; parameters and buffers excluded."""
    model.train()
    exclude = _resident(model)
    saved: dict[int, int] = {}
    keep: list[Any] = []  # hold each storage so that an id cannot be reused during the pass

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        if st not in exclude and id(st) not in saved:
            saved[id(st)] = st.nbytes()
            keep.append(st)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    del out, keep
    return saved


def measure_saved_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes autograd saves for backward in one train-mode forward (distinct storages,
    parameters excluded; the input counts when a layer saves it)."""
    return sum(saved_storages(model, x).values())


@dataclass(frozen=True)
class TrainStep:
    """Bytes of one training step measured with :class:`LiveStorages` on any device.

    ``resident_bytes``: parameters, buffers and the optimizer state a warm-up step created;
    ``step_bytes``: the most live storage during forward, backward and the optimizer step beyond
    them (activations, saved tensors, gradients — created by backward after
    ``zero_grad(set_to_none=True)``, as the standard loop does — and temporaries)."""

    resident_bytes: int
    step_bytes: int

    @property
    def peak_bytes(self) -> int:
        return self.resident_bytes + self.step_bytes


def _loss(out: Any) -> torch.Tensor:
    """The sum of every tensor output (auxiliary heads included): a scalar to call backward on."""
    return functools.reduce(operator.add, [o.sum() for o in tree_flatten(out)[0] if isinstance(o, torch.Tensor)])


def measure_train_step(model: nn.Module, x: torch.Tensor, optimizer: str = "sgd") -> TrainStep:
    """One standard training step — ``zero_grad(set_to_none=True)``, forward, ``loss.backward()``,
    ``optimizer.step()`` — after a warm-up step, in train mode, on x's device."""
    model.train()
    opt = OPTIMIZERS[optimizer](list(model.parameters()))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        _loss(model(x)).backward()
        opt.step()

    step()
    opt.zero_grad(set_to_none=True)
    resident = _resident(model)
    state = [v for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor)]
    for t in state:
        resident[t.untyped_storage()] = True
    resident_bytes = sum(t.untyped_storage().nbytes() for t in (*model.parameters(), *model.buffers(), *state))
    tracker = LiveStorages(resident)
    tracker.track(x)
    tracker.sample()
    with tracker:
        step()
    return TrainStep(resident_bytes, tracker.peak)


@dataclass(frozen=True)
class CudaMemory:
    """Bytes from the CUDA caching allocator (``torch.cuda.max_memory_allocated``).

    ``baseline_bytes``: allocated before the measured step — parameters, buffers and the input,
    and in training the optimizer state left by a warm-up step.
    ``peak_bytes``: the most allocated during the step, baseline included;
    ``peak_bytes - baseline_bytes`` is what the step itself adds."""

    baseline_bytes: int
    peak_bytes: int

    @property
    def step_bytes(self) -> int:
        return self.peak_bytes - self.baseline_bytes


def cuda_memory(model: nn.Module, x: torch.Tensor, train: bool = False, optimizer: str | None = None) -> CudaMemory:
    """Peak allocated CUDA memory of one inference forward, or with ``train`` one standard
    training step (``zero_grad(set_to_none=True)``, forward, backward, and ``optimizer`` step if
    given: sgd, momentum, adam, adamw). A warm-up step runs first so that the optimizer state
    exists, as in a training loop; the baseline is what is allocated before the measured step."""
    if not torch.cuda.is_available():
        raise RuntimeError("cuda_memory needs a CUDA device")
    device = torch.device("cuda")
    model = model.to(device).train(train)
    x = x.to(device)
    opt = OPTIMIZERS[optimizer](list(model.parameters())) if optimizer else None

    def step() -> None:
        if not train:
            with torch.no_grad():
                model(x)
            return
        model.zero_grad(set_to_none=True)
        _loss(model(x)).backward()
        if opt is not None:
            opt.step()

    if train:
        step()
        model.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats(device)
    baseline = torch.cuda.memory_allocated(device)
    step()
    torch.cuda.synchronize()
    return CudaMemory(baseline_bytes=baseline, peak_bytes=torch.cuda.max_memory_allocated(device))


def zoo_table(names: list[str] | None = None, batch: int = 1) -> str:
    """Markdown: for every zoo network with a reference model, the predicted and measured eager
    inference peak and saved-for-backward bytes at the spec's input, on the CPU."""
    from ..analysis import summarize
    from ..spec import build, zoo
    from .reference import reference_model, reference_of

    nets = zoo()
    lines = ["| network (reference) | input | peak predicted | peak measured | saved predicted | saved measured |",
             "|---|---|---:|---:|---:|---:|"]
    for name in names or [n for n, net in nets.items() if reference_of(net.meta)]:
        ref = str(reference_of(nets[name].meta))
        graph = build(nets[name])
        model = reference_model(ref).to_empty(device="cpu")
        x = torch.zeros((batch, *graph.input_shape))
        peak = measure_inference_peak(model, x)
        try:
            saved: int | None = measure_saved_bytes(model, x)
        except ValueError:  # train-mode batch norm on one value per channel: PyTorch refuses
            saved = None
        train = summarize(graph, batch=batch, train=True).totals
        cells = [f"{train.peak_activation_bytes:,}", f"{peak:,}" + ("" if peak == train.peak_activation_bytes else " ✗"),
                 f"{train.saved_bytes:,}",
                 "refused by PyTorch" if saved is None else f"{saved:,}" + ("" if saved == train.saved_bytes else " ✗")]
        lines.append(f"| {name} ({ref}) | {'x'.join(map(str, graph.input_shape))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(zoo_table(sys.argv[1:] or None))

"""Which ImageNet accuracy figure to show for a network: one source at a time.

A spec's ``accuracy:`` list may hold several figures (torchvision's original and new training
recipes, the paper's own, CIFAR results). Charts and the zoo table must not mix them, so the
choice is made here, once:

- ``original`` (the default): torchvision's weights trained with the original recipe
  (``recipe: original``, normally ``IMAGENET1K_V1``); for a network without such weights, the
  paper's (or its authors') ImageNet top-1 figure.
- ``best``: torchvision's newest weights (the highest ``IMAGENET1K_Vn``, whatever the recipe);
  otherwise as ``original``.

Only ImageNet figures with a top-1 value qualify (a CIFAR or MNIST result is never plotted
beside ImageNet ones); errors are turned into accuracies (100 − error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .errors import SpecError

CHOICES = ("original", "best")

#: how each choice is stated in a caption or a table note
DESCRIPTIONS = {
    "original": "torchvision IMAGENET1K_V1 weights (original training recipes); "
                "the paper's ImageNet figure where torchvision has none",
    "best": "torchvision's newest weights (new training recipe where one exists); "
            "the paper's ImageNet figure where torchvision has none",
}


@dataclass(frozen=True)
class Accuracy:
    top1: float  # %
    top5: float | None  # %
    source: str  # where the figure comes from (the spec's `source`)
    protocol: str  # how it was measured (the spec's `protocol`)
    weights: str  # torchvision weights name, "" for a paper figure
    from_torchvision: bool


def _percent(entry: Mapping[str, Any], key: str) -> float | None:
    if entry.get(key) is not None:
        return float(entry[key])
    if entry.get(f"{key}_error") is not None:
        return round(100 - float(entry[f"{key}_error"]), 3)
    return None


def _imagenet(entry: Mapping[str, Any]) -> bool:
    text = f"{entry.get('protocol', '')} {entry.get('source', '')}"
    return ("ImageNet" in text or "ILSVRC" in text) and _percent(entry, "top1") is not None


def _version(entry: Mapping[str, Any]) -> int:
    weights = str(entry.get("weights", ""))
    digits = weights.rpartition("_V")[2]
    return int(digits) if digits.isdigit() else 0


def _record(entry: Mapping[str, Any]) -> Accuracy:
    top1 = _percent(entry, "top1")
    assert top1 is not None  # _imagenet() admitted only entries with a top-1 figure
    return Accuracy(top1, _percent(entry, "top5"), str(entry.get("source", "")), str(entry.get("protocol", "")),
                    str(entry.get("weights", "")), bool(entry.get("weights")))


def select(meta: Mapping[str, Any], choice: str = "original") -> Accuracy | None:
    """The one ImageNet top-1 figure to show for a network under ``choice``, or None."""
    if choice not in CHOICES:
        raise SpecError(f"--accuracy: unknown choice {choice!r} (choose from {', '.join(CHOICES)})")
    entries = [e for e in meta.get("accuracy") or [] if isinstance(e, Mapping) and _imagenet(e)]
    torchvision = [e for e in entries if e.get("weights")]
    if choice == "best" and torchvision:
        return _record(max(torchvision, key=_version))
    original = [e for e in torchvision if e.get("recipe") == "original"]
    if original:
        return _record(min(original, key=_version))
    papers = [e for e in entries if not e.get("weights")]
    return _record(papers[0]) if papers else None


def missing_reason(meta: Mapping[str, Any], choice: str) -> str:
    """Why ``select`` found nothing: said to the user instead of dropping a network silently."""
    entries = list(meta.get("accuracy") or [])
    if not entries:
        return "no accuracy figure in its spec"
    if any(isinstance(e, Mapping) and e.get("weights") for e in entries):
        return "only new-recipe torchvision weights (use --accuracy best)"
    return "no ImageNet top-1 figure in its spec (only other datasets or top-5)"

"""archcalc: what a CNN costs — output volumes, parameters, activation memory and multiply-adds,
exactly and with the working shown.

The analytical core is pure Python and never imports torch; ``archcalc.torch`` holds everything
that does.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["analyze", "load", "build", "SpecError", "Report", "to_torch", "from_torch", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy: `import archcalc` stays cheap; the engine loads on first use.
    if name in ("analyze", "Report"):
        from . import analysis

        return getattr(analysis, name)
    if name == "SpecError":
        from .errors import SpecError

        return SpecError
    if name == "load":
        from .spec import find

        return find
    if name == "build":
        from .spec import build

        return build
    if name == "to_torch":  # imports torch only when asked for
        from .torch.build import to_torch

        return to_torch
    if name == "from_torch":
        from .torch.importer import from_torch

        return from_torch
    raise AttributeError(f"module 'archcalc' has no attribute {name!r}")

"""The CLI's commands as a table: one module per command, each with NAME, HELP, DESCRIPTION,
EXAMPLE, ``configure(parser)`` and ``run(args) -> exit status``.

Adding a command = one module here + its name in COMMANDS. Modules import the engine (and torch)
inside ``run`` only, so building the parser stays cheap.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Order is the order of `archcalc --help`.
COMMANDS: tuple[str, ...] = (
    "table",
    "compare",
    "explain",
    "layer",
    "fit",
    "check",
    "lecture",
    "chart",
    "sweep",
    "report",
    "bench",
    "list",
    "blocks",
    "layers",
)


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}_cmd")


def all_commands() -> list[ModuleType]:
    return [load(name) for name in COMMANDS]

from __future__ import annotations

import argparse

NAME = "layers"
HELP = "layer types a spec may use"
DESCRIPTION = "List the layer types a spec may use."
EXAMPLE = "archcalc layers"


def configure(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from ..layers import ALIASES, REGISTRY

    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        aliases = [a for a, t in ALIASES.items() if t == name]
        fields = ", ".join(cls.fields) or "-"
        print(f"{name:<18} {cls.summary}\n{'':<18} fields: {fields}" + (f"; also: {', '.join(aliases)}" if aliases else ""))
    return 0

from __future__ import annotations

import argparse

NAME = "list"
HELP = "built-in networks"
DESCRIPTION = "List the built-in networks."
EXAMPLE = "archcalc list"


def configure(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from ..spec import zoo

    nets = zoo()
    width = max(len(n) for n in nets)
    for name in sorted(nets):
        print(f"{name:<{width}}  {nets[name].description}")
    return 0

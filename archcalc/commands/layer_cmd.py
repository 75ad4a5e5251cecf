from __future__ import annotations

import argparse
import sys

from ..errors import SpecError
from . import _shared

NAME = "layer"
HELP = "layers written in the lectures' notation"
DESCRIPTION = ("Analyse a layer or a pasted listing in the lectures' notation, one layer per line. Every word must be "
               "placed or the line is rejected (exit 2); stated volumes ([55x55x96]) are checked (exit 1 if one "
               "disagrees); a value the line leaves unwritten is shown as 'assumed: ...' beside its row "
               "(and in JSON under \"assumptions\").")
EXAMPLE = 'archcalc layer "CONV1: 96 11x11 filters at stride 4, pad 0" --input 227x227x3'


def _epilog() -> str:
    from ..notation import ACCEPTED

    return (f"{ACCEPTED}\n\n"
            "unwritten values: stride 1, dilation 1, groups 1, bias on. Padding by notation: the slides' sentence\n"
            "'N KxK filters ...' pads 0; figure and table forms ('KxK conv, N', 'CONVK-N', 'KxK pool', ResNet's rows)\n"
            "pad d(k-1)/2, keeping the size at stride 1; GoogLeNet's table pools pad 0 with ceil rounding.\n"
            "A pool's stride: 1 (the Inception module's 3x3 pool), VGG's POOLK: K; an even window needs its stride.\n"
            "docs/conventions.md, 'The layer notation', states the same rules.\n\n"
            f"example: {EXAMPLE}")


def configure(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _epilog()
    p.add_argument("text", help="the layer(s): text (one per line), a .txt file, or - for standard input")
    _shared.add_common(p)
    _shared.add_format(p)
    p.add_argument("--all-rows", action="store_true")


def _beside(table: str, assumptions: tuple[dict, ...]) -> str:
    """The text table with each row's assumptions after it, on the row's own line."""
    notes = {a["layer"]: "; ".join(a["assumed"]) for a in assumptions}
    lines = []
    for line in table.splitlines():
        first = line.split(" ", 1)[0]
        note = notes.pop(first, None)
        lines.append(f"{line}  assumed: {note}" if note else line)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..notation import read_listing
    from ..report import render

    if args.param:
        raise SpecError("--param does not apply to `layer`: write sizes as symbols or numbers in the text")
    source = "<layer>"
    text = args.text
    if text == "-":
        text, source = sys.stdin.read(), "<stdin>"
    elif len(text) < 4096 and "\n" not in text and Path(text).is_file():
        source = text
        text = Path(text).read_text(encoding="utf-8", errors="replace")
    listing = read_listing(text.replace("\\n", "\n"), args.input, source, batch=args.batch, dtype=args.dtype, count=args.count)
    checks = listing.checks
    if args.format == "json":
        from ..symbolic import json_default

        data = listing.report.to_dict()
        data["stated_volumes"] = list(checks)
        data["assumptions"] = list(listing.assumptions)
        print(json.dumps(data, indent=2, default=json_default))
    else:
        table = render(listing.report, args.format, all_rows=args.all_rows)
        if args.format == "text":
            print(_beside(table, listing.assumptions))
        else:
            print(table)
            for a in listing.assumptions:
                print(f"{a['layer']}: assumed: {'; '.join(a['assumed'])}")
        if checks:
            print()
            for c in checks:
                verdict = "agrees" if c["agrees"] else f"DISAGREES: computed {c['computed']}"
                print(f"stated [{c['stated']}] for {c['layer']}: {verdict}")
    return 0 if all(c["agrees"] for c in checks) else 1

from __future__ import annotations

import argparse
import sys

from ..errors import SpecError
from . import _shared

NAME = "layer"
HELP = "layers written in the lectures' notation"
DESCRIPTION = ("Analyse a layer or a pasted listing in the lectures' notation "
               "(CONV1: 96 11x11 filters at stride 4, pad 0 / CONV3-64 / 1x1 CONV with 32 filters ...). "
               "Stated volumes are checked; exit 1 if one disagrees.")
EXAMPLE = 'archcalc layer "CONV1: 96 11x11 filters at stride 4, pad 0" --input 227x227x3'


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", help="the layer(s): text (one per line), a .txt file, or - for standard input")
    _shared.add_common(p)
    _shared.add_format(p)
    p.add_argument("--all-rows", action="store_true")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..notation import analyze_text
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
    report, checks = analyze_text(text.replace("\\n", "\n"), args.input, source, batch=args.batch, dtype=args.dtype, count=args.count)
    if args.format == "json":
        from ..symbolic import json_default

        data = report.to_dict()
        data["stated_volumes"] = checks
        print(json.dumps(data, indent=2, default=json_default))
    else:
        print(render(report, args.format, all_rows=args.all_rows))
        if checks:
            print()
            for c in checks:
                verdict = "agrees" if c["agrees"] else f"DISAGREES: computed {c['computed']}"
                print(f"stated [{c['stated']}] for {c['layer']}: {verdict}")
    return 0 if all(c["agrees"] for c in checks) else 1

from __future__ import annotations

import argparse

NAME = "lecture"
HELP = "audit every numeric claim in the lectures"
DESCRIPTION = ("Compute every numeric claim and question of the lecture documents and say "
               "where the lectures agree, round, or are wrong.")
EXAMPLE = "archcalc lecture --verdict wrong"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--write", metavar="PATH", help="write the markdown audit to PATH (atomically), e.g. reports/lecture_audit.md")
    p.add_argument("--verdict", action="append", default=[], help="only claims with this verdict (wrong, ambiguous, ...)")


def run(args: argparse.Namespace) -> int:
    from ..lecture import audit, render_markdown, render_text

    answers = audit()
    if args.verdict:
        answers = [x for x in answers if x.entry.get("verdict") in args.verdict]
    if args.write:
        from ..fileio import write_atomic

        write_atomic(args.write, render_markdown(answers))
        print(f"wrote {args.write}: {len(answers)} claims")
        return 0
    if args.format == "markdown":
        print(render_markdown(answers), end="")
    elif args.format == "json":
        import json

        from ..symbolic import json_default

        print(json.dumps([{**x.entry, "computed": x.value, "computed_working": x.working, "check": x.check,
                           "hand_check": x.hand_check}
                          for x in answers], indent=2, default=json_default))
    else:
        print(render_text(answers))
    return 0

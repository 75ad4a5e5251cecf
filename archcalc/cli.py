"""Command line: parse arguments, call the library, print. Errors are one line and exit 2."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from .errors import SpecError

EXIT_ERROR = 2


def _params(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--param takes NAME=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def is_python_ref(target: str) -> bool:
    """`torchvision.models:resnet50` or `my_models.py:build`, as opposed to a spec name or file."""
    from pathlib import Path

    module, sep, attr = target.rpartition(":")
    return bool(sep and module and attr.isidentifier() and not module.endswith((".yaml", ".yml")) and not Path(target).exists())


def _torch_graph(target: str, input: str | None, params: dict[str, Any]) -> Any:
    """The graph of a Python model reference, through from_torch (needs archcalc[torch])."""
    if params:
        raise SpecError(f"--param applies to spec files, not to the Python model {target}")
    try:
        import torch

        from .torch.importer import load_callable, trace
    except ImportError as exc:
        raise SpecError(f"reading {target} needs torch: pip install 'archcalc[torch]' ({exc})") from None
    from .spec import parse_volume

    factory = load_callable(target)
    try:
        with torch.device("meta"):  # shapes only: no weights allocated, nothing computed
            model = factory()
    except Exception:  # noqa: BLE001 - some models cannot be built on meta; build them normally
        try:
            model = factory()
        except Exception as exc:  # noqa: BLE001
            raise SpecError(f"calling {target}() failed: {exc.__class__.__name__}: {exc}") from None
    try:
        shape = parse_volume(input or "224x224x3")
    except Exception as exc:  # noqa: BLE001
        raise SpecError(f"--input: {exc}") from None
    return trace(model, shape, name=target), model


def _report(target: str, args: argparse.Namespace) -> Any:
    from .analysis import analyze, summarize

    params = _params(args.param)
    if is_python_ref(target):
        graph, _ = _torch_graph(target, args.input, params)
        return summarize(graph, batch=args.batch, dtype=args.dtype, count=args.count)
    return analyze(target, input=args.input, batch=args.batch, dtype=args.dtype, count=args.count, params=params)


def _common(p: argparse.ArgumentParser) -> None:
    from .analysis import COUNTS, DTYPE_BYTES

    p.add_argument("--input", metavar="HxWxC", help="input volume, e.g. 299x299x3 (overrides the spec's)")
    p.add_argument("--batch", type=int, default=1, metavar="N", help="batch size (counts are per image by default)")
    p.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32", help="bytes per stored value")
    p.add_argument("--count", choices=list(COUNTS), default="macs", help="operation convention (docs/conventions.md)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a spec parameter")


def parser() -> argparse.ArgumentParser:
    from .report import FORMATS

    p = argparse.ArgumentParser(prog="archcalc", description="What a CNN costs: volumes, params, memory, multiply-adds.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("table", help="per-layer table of one network", description="Per-layer table and totals of a network.")
    t.add_argument("network", help="built-in name (archcalc list), a spec file (file.yaml or file.yaml:NAME), "
                                   "or a Python model module:callable (torchvision.models:resnet50, my.py:build)")
    _common(t)
    t.add_argument("--format", choices=FORMATS, default="text")
    t.add_argument("--all-rows", action="store_true", help="also show rows that change no number (in-place ReLU, dropout, ...)")

    c = sub.add_parser("compare", help="one table comparing networks", description="Compare networks: params, ops, memory, depth, accuracy with its source.")
    c.add_argument("networks", nargs="+", help="built-in names or spec files")
    _common(c)
    c.add_argument("--format", choices=FORMATS, default="text")

    k = sub.add_parser("check", help="cross-check against PyTorch (needs archcalc[torch])",
                       description="Build the model, run it, and compare every layer with PyTorch's measurements "
                                   "(FlopCounterMode, fvcore) and, where the spec names one, the reference model. "
                                   "Exit 1 on any mismatch.")
    k.add_argument("network", help="built-in name, spec file, or Python model module:callable")
    k.add_argument("--input", metavar="HxWxC", help="input volume (overrides the spec's)")
    k.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    k.add_argument("--no-fvcore", action="store_true", help="skip fvcore (runs on the meta device: faster, no arithmetic)")
    k.add_argument("--no-reference", action="store_true", help="do not instantiate the spec's reference model")
    k.add_argument("--format", choices=("text", "json"), default="text")

    e = sub.add_parser("explain", help="one layer's numbers with the working shown",
                       description="Every number of one layer with its derivation, from the engine's own formulas.")
    e.add_argument("network", help="built-in name or spec file")
    e.add_argument("layer", nargs="+", help="layer path (layer3.1.conv2) or a unique last part (conv1)")
    e.add_argument("--input", metavar="HxWxC")
    e.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    e.add_argument("--dtype", choices=["float64", "float32", "float16", "bfloat16", "int8"], default="float32")

    n = sub.add_parser("layer", help="layers written in the lectures' notation",
                       description="Analyse a layer or a pasted listing in the lectures' notation "
                                   "(CONV1: 96 11x11 filters at stride 4, pad 0 / CONV3-64 / 1x1 CONV with 32 filters ...). "
                                   "Stated volumes are checked; exit 1 if one disagrees.")
    n.add_argument("text", help="the layer(s): text (one per line), a .txt file, or - for standard input")
    _common(n)
    n.add_argument("--format", choices=FORMATS, default="text")
    n.add_argument("--all-rows", action="store_true")

    a = sub.add_parser("lecture", help="audit every numeric claim in the lectures",
                       description="Compute every numeric claim and question of the lecture documents and say "
                                   "where the lectures agree, round, or are wrong.")
    a.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    a.add_argument("--write", metavar="PATH", help="write the markdown audit to PATH (atomically), e.g. reports/lecture_audit.md")
    a.add_argument("--verdict", action="append", default=[], help="only claims with this verdict (wrong, ambiguous, ...)")

    ch = sub.add_parser("chart", help="accuracy vs multiply-adds chart", description=
                        "Draw top-1 accuracy against exact multiply-adds, bubble area proportional to parameters, "
                        "for every zoo network with an accuracy figure (or the ones named).")
    ch.add_argument("kind", choices=["accuracy"])
    ch.add_argument("networks", nargs="*")
    ch.add_argument("--out", default="accuracy_vs_macs.png", help="output file (.png, .svg, .pdf); written atomically")

    sub.add_parser("list", help="built-in networks", description="List the built-in networks.")
    sub.add_parser("layers", help="layer types a spec may use", description="List the layer types a spec may use.")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except SpecError as exc:
        print(f"archcalc: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `archcalc table vgg16 | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: one line, never a traceback
        print(f"archcalc: internal error: {exc.__class__.__name__}: {exc} (please report this)", file=sys.stderr)
        return 3


def _run(args: argparse.Namespace) -> int:
    if args.command == "list":
        from .spec import zoo

        nets = zoo()
        width = max(len(n) for n in nets)
        for name in sorted(nets):
            print(f"{name:<{width}}  {nets[name].description}")
        return 0
    if args.command == "layers":
        from .layers import ALIASES, REGISTRY

        for name in sorted(REGISTRY):
            cls = REGISTRY[name]
            aliases = [a for a, t in ALIASES.items() if t == name]
            fields = ", ".join(cls.fields) or "-"
            print(f"{name:<18} {cls.summary}\n{'':<18} fields: {fields}" + (f"; also: {', '.join(aliases)}" if aliases else ""))
        return 0
    if args.command == "table":
        from .report import render

        print(render(_report(args.network, args), args.format, all_rows=args.all_rows))
        return 0
    if args.command == "layer":
        import json
        from pathlib import Path

        from .notation import analyze_text
        from .report import render

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
            data = report.to_dict()
            data["stated_volumes"] = checks
            from .symbolic import text as symbolic_text

            print(json.dumps(data, indent=2, default=symbolic_text))
        else:
            print(render(report, args.format, all_rows=args.all_rows))
            if checks:
                print()
                for c in checks:
                    verdict = "agrees" if c["agrees"] else f"DISAGREES: computed {c['computed']}"
                    print(f"stated [{c['stated']}] for {c['layer']}: {verdict}")
        return 0 if all(c["agrees"] for c in checks) else 1
    if args.command == "chart":
        from .plots import chart

        count = chart(args.kind, args.networks, args.out)
        print(f"wrote {args.out}: {count} networks")
        return 0
    if args.command == "lecture":
        from .lecture import audit, render_markdown, render_text

        answers = audit()
        if args.write:
            from .fileio import write_atomic

            write_atomic(args.write, render_markdown(answers))
            print(f"wrote {args.write}: {len(answers)} claims")
            return 0
        if args.verdict:
            answers = [x for x in answers if x.entry.get("verdict") in args.verdict]
        if args.format == "markdown":
            print(render_markdown(answers), end="")
        elif args.format == "json":
            import json

            from .lecture import _show

            print(json.dumps([{**x.entry, "computed": _show(x.value) if x.value is not None else None,
                               "computed_working": x.working, "check": x.check} for x in answers], indent=2, default=str))
        else:
            print(render_text(answers))
        return 0
    if args.command == "explain":
        from .analysis import DTYPE_BYTES
        from .explain import explain, find_node
        from .spec import build, find

        graph = build(find(args.network), input=args.input, params=_params(args.param))
        blocks = ["\n".join(explain(graph, find_node(graph, name), DTYPE_BYTES[args.dtype])) for name in args.layer]
        print("\n\n".join(blocks))
        return 0
    if args.command == "check":
        try:
            from .torch.check import check, render_check
        except ImportError as exc:
            raise SpecError(f"check needs torch, torchvision and fvcore: pip install 'archcalc[torch]' ({exc})") from None
        from .spec import build, find

        if is_python_ref(args.network):
            from .torch.check import check_model

            graph, model = _torch_graph(args.network, args.input, _params(args.param))
            result = check_model(graph, model)
        else:
            graph = build(find(args.network), input=args.input, params=_params(args.param))
            result = check(graph, use_fvcore=not args.no_fvcore, use_reference=not args.no_reference)
        print(render_check(result, args.format))
        return 0 if result.ok else 1
    if args.command == "compare":
        from .report import render_comparison

        print(render_comparison([_report(n, args) for n in args.networks], args.format))
        return 0
    raise AssertionError(args.command)  # pragma: no cover - argparse rejects unknown commands

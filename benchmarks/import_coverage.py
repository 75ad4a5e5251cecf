"""from_torch on the models people use: every torchvision classifier and a sample of timm across
its families, built on the meta device with random weights (no download), each imported and
measured against the reference: ``sum(p.numel() for p in model.parameters())`` (unique tensors)
and ``FlopCounterMode`` total / 2.

    python benchmarks/import_coverage.py [--only NAME ...] [--limit-s 240] [--subset]
        [--results reports/import_coverage.json] [--report reports/import_coverage.md]

Resumable: results are kept per model in --results (written atomically after every model) and a
rerun skips the models already there (--redo to measure them again). Each model has a time
limit (SIGALRM). --subset runs the representative models the test suite checks.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archcalc.fileio import write_atomic  # noqa: E402

#: timm models chosen to cover different building blocks (one or a few per family)
TIMM = """resnet18 resnet50d resnext50_32x4d seresnet50 resnetv2_50 resnetv2_50x1_bit res2net50_26w_4s res2next50
resnest14d skresnet18 selecsls42b dla34 dpn68 densenet121 densenetblur121d vgg11 inception_v3 inception_v4
inception_resnet_v2 xception41 efficientnet_b0 efficientnetv2_rw_t tf_efficientnet_b0 mixnet_s mnasnet_100
mobilenetv2_100 mobilenetv3_large_100 mobilenetv1_100 mobilenetv4_conv_small fbnetc_100 spnasnet_100 lcnet_050
ghostnet_100 ghostnetv2_100 hardcorenas_a tinynet_a rexnet_100 regnetx_002 regnety_002 regnetz_b16 cspresnet50
cspdarknet53 darknet53 dla60 hrnet_w18_small vovnet39a ese_vovnet19b_dw nfnet_l0 dm_nfnet_f0 nf_resnet50
ecaresnet50d gernet_s repvgg_a0 resnet50_gn gcresnet33ts lambda_resnet26t botnet26t_256 halonet26t
sebotnet33ts_256 convnext_atto convnextv2_atto convmixer_768_32 resmlp_12_224 mixer_s16_224 gmlp_ti16_224
vit_tiny_patch16_224 vit_small_patch16_224 deit_tiny_patch16_224 deit_tiny_distilled_patch16_224 cait_xxs24_224
xcit_nano_12_p16_224 crossvit_tiny_240 swin_tiny_patch4_window7_224 swinv2_tiny_window8_256 maxvit_tiny_tf_224
coatnet_0_rw_224 coat_lite_tiny levit_128s pit_ti_224 tnt_s_patch16_224 twins_pcpvt_small pvt_v2_b0
poolformer_s12 convit_tiny efficientformer_l1 efficientformerv2_s0 mobilevit_xxs mobilevitv2_050
edgenext_xx_small fastvit_t8 repvit_m1 tiny_vit_5m_224 inception_next_tiny focalnet_tiny_srf davit_tiny
mvitv2_tiny beit_base_patch16_224 eva02_tiny_patch14_224 hiera_tiny_224 sequencer2d_s volo_d1_224 gcvit_xxtiny
nest_tiny visformer_tiny hgnet_tiny hgnetv2_b0 rdnet_tiny starnet_s1 efficientvit_b0 efficientvit_m0
mambaout_femto""".split()

#: what CI runs (tests/test_import_coverage.py): one of each kind of building block, fast to trace
SUBSET = ["torchvision:resnet50", "torchvision:convnext_tiny", "torchvision:vit_b_16", "torchvision:swin_t",
          "torchvision:maxvit_t", "torchvision:efficientnet_b0", "torchvision:regnet_y_400mf",
          "timm:mobilenetv1_100", "timm:resnet50d", "timm:botnet26t_256", "timm:levit_128s", "timm:poolformer_s12"]


def all_models() -> list[str]:
    import torchvision

    return [f"torchvision:{n}" for n in torchvision.models.list_models(module=torchvision.models)] + [f"timm:{n}" for n in TIMM]


def build(ref: str) -> tuple[Any, tuple[int, ...], str]:
    """The model on the meta device (on the CPU where a builder computes with its tensors), its input shape."""
    import torch

    from archcalc.torch.importer import load_callable

    factory = load_callable(ref)
    try:
        with torch.device("meta"):
            model, device = factory(), "meta"
    except Exception:  # noqa: BLE001 - e.g. torchvision's RegNet computes its widths with tensors
        model, device = factory().to("meta"), "meta"  # built on the CPU, measured without arithmetic
    shape = (3, 224, 224)
    cfg = getattr(model, "pretrained_cfg", None) or {}
    if cfg.get("input_size"):
        shape = tuple(cfg["input_size"])
    elif hasattr(model, "image_size"):  # torchvision's ViTs: the size they were built for
        shape = (3, model.image_size, model.image_size)
    elif ref.startswith("torchvision:"):
        from torchvision.models import get_model_weights

        try:
            weights = get_model_weights(ref.split(":", 1)[1]).DEFAULT
            size = weights.transforms().crop_size[0]
            shape = (3, size, size)
        except (ValueError, AttributeError, IndexError, TypeError):
            pass
    return model.eval(), shape, device


def measure_one(ref: str) -> dict[str, Any]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from archcalc.torch.importer import UNCOUNTED_BUFFERS, from_torch

    model, shape, device = build(ref)
    params = sum(p.numel() for p in model.parameters())  # unique tensors, as torchvision's num_params
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith(UNCOUNTED_BUFFERS))
    t0 = time.perf_counter()
    report = from_torch(model, shape, name=ref)
    seconds = time.perf_counter() - t0
    for p in model.parameters():  # FlopCounterMode's module tracker fails on a parameter passed as a module input (PiT)
        p.requires_grad_(False)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros((1, *shape), device=device))
    macs = counter.get_total_flops() // 2
    by_op = {str(k): v // 2 for k, v in counter.get_flop_counts().get("Global", {}).items()}
    t = report.totals
    return {"model": ref, "input": list(shape), "device": device, "params": t.params, "ref_params": params,
            "buffers": t.buffers, "ref_buffers": buffers, "macs": t.macs, "ref_macs": macs, "ref_by_op": by_op,
            "seconds": round(seconds, 3), "traced_with": report.meta.get("traced_with"),
            "unsupported": dict(report.meta.get("unsupported") or {})}


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout()


def status(r: dict[str, Any]) -> str:
    if "error" in r:
        return "error"
    if r["params"] != r["ref_params"] or r["buffers"] != r["ref_buffers"]:
        return "PARAMS DIFFER"
    return "exact" if r["macs"] == r["ref_macs"] else "MACs differ"


def family(ref: str) -> str:
    """A timm model's family: the timm module that defines it (timm.models.resnet -> resnet)."""
    import timm

    return timm.models.model_entrypoint(ref.split(":", 1)[1]).__module__.rsplit(".", 1)[-1]


def render(results: dict[str, dict[str, Any]]) -> str:
    rows = [results[k] for k in sorted(results, key=lambda m: (not m.startswith("torchvision"), m))]
    counts = Counter(status(r) for r in rows)
    timm_models = [r["model"] for r in rows if r["model"].startswith("timm:")]
    families = {family(m) for m in timm_models}
    lines = [
        "# from_torch import coverage",
        "",
        "Generated by `python benchmarks/import_coverage.py` (do not edit). Models built on the meta device",
        "with random weights; reference parameters = `sum(p.numel() for p in model.parameters())` (unique",
        "tensors), buffers without `num_batches_tracked`; reference MACs = `FlopCounterMode` total / 2.",
        "Time = `from_torch` alone (trace, shapes, analysis), on a shared 2-core machine.",
        "",
        f"{len(rows)} models ({len(rows) - len(timm_models)} torchvision, {len(timm_models)} timm from {len(families)} "
        "families, i.e. timm model modules): "
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ".",
        f"Parameters exact on {sum(1 for r in rows if 'error' not in r and r['params'] == r['ref_params'])} of {len(rows)}; "
        f"MACs exact on {sum(1 for r in rows if 'error' not in r and r['macs'] == r['ref_macs'])}.",
        "",
        "| model | input | params | MACs | reference MACs | MACs diff | status | traced | time (s) | no formula (count) |",
        "|---|---|---:|---:|---:|---:|---|---|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | | | | | | error: {r['error'][:120].replace('|', '/')} | | | |")
            continue
        diff = r["macs"] - r["ref_macs"]
        pct = f"{100 * diff / r['ref_macs']:+.2f}%" if diff and r["ref_macs"] else ""
        params = f"{r['params']:,}" if r["params"] == r["ref_params"] else f"{r['params']:,} (ref {r['ref_params']:,})"
        unsupported = ", ".join(f"{k} x{v}" for k, v in sorted(r["unsupported"].items()))[:160].replace("|", "/")
        size = "x".join(map(str, r["input"][1:]))
        lines.append(f"| {r['model']} | {size} | {params} | {r['macs']:,} | {r['ref_macs']:,} | {pct} | {status(r)} | "
                     f"{r['traced_with']} | {r['seconds']:.2f} | {unsupported} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help="these models (torchvision:NAME, timm:NAME)")
    p.add_argument("--subset", action="store_true", help="the representative models CI checks")
    p.add_argument("--limit-s", type=int, default=240, help="time limit per model")
    p.add_argument("--redo", action="store_true", help="measure models already in --results again")
    p.add_argument("--results", default=str(ROOT / "reports" / "import_coverage.json"))
    p.add_argument("--report", default=str(ROOT / "reports" / "import_coverage.md"))
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    path = Path(args.results)
    results: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    models = args.only or (SUBSET if args.subset else all_models())
    signal.signal(signal.SIGALRM, _alarm)
    for ref in models:
        if ref in results and not args.redo:
            continue
        signal.alarm(args.limit_s)
        try:
            results[ref] = measure_one(ref)
        except Timeout:
            results[ref] = {"model": ref, "error": f"over the {args.limit_s} s limit"}
        except Exception as exc:  # noqa: BLE001 - one model's failure is a row of the report
            results[ref] = {"model": ref, "error": f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        finally:
            signal.alarm(0)
        print(f"{status(results[ref]):>14}  {ref}  {results[ref].get('seconds', '')}", flush=True)
        write_atomic(path, json.dumps(results, indent=1, sort_keys=True))
    write_atomic(args.report, render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The lecture audit: every claim in the question bank computes, its recorded verdict agrees with
the computed number, and reports/lecture_audit.md is in sync (regenerate with
`archcalc lecture --write reports/lecture_audit.md`)."""

from fractions import Fraction
from pathlib import Path

import pytest

from archcalc.lecture import as_value, audit, auto_check, compute, load_bank, render_markdown, same_value, stated_number

BANK = load_bank()
REPORT = Path(__file__).parent.parent / "reports" / "lecture_audit.md"


@pytest.mark.parametrize("entry", BANK, ids=[e["id"] for e in BANK])
def test_claim_computes_and_verdict_holds(entry):
    for key in ("id", "documents", "quote", "question", "stated", "kind", "verdict"):
        assert entry.get(key) not in (None, ""), key
    assert entry["verdict"] in ("agrees", "rounding", "wrong", "ambiguous", "not-computable")
    if entry["verdict"] in ("rounding", "wrong", "ambiguous"):
        assert entry.get("reason"), "a rounding/wrong/ambiguous verdict says why"
    answer = compute(entry)
    assert answer.consistent, (entry["verdict"], answer.check, answer.hand_check, entry["stated"], answer.value)
    # every claim is checked against a number archcalc did not compute: the lecture's stated one,
    # or the claim's hand value; else the claim says why nothing can be computed
    assert answer.check or answer.hand_check == "equal" or entry["compute"].get("missing"), \
        "give the claim a `hand:` value (or a stated number archcalc can compare)"


def test_a_wrong_hand_value_is_caught():
    entry = next(e for e in BANK if e["id"] == "vgg16-memory-in-early-conv")
    assert compute(entry).hand_check == "equal"
    off = compute({**entry, "hand": "(150528 + 2*3211264 + 802816) / 15237608"})  # blocks 2 left out: 0.5
    assert off.hand_check == "differs" and not off.consistent


def test_report_in_sync():
    assert REPORT.read_text() == render_markdown(audit()), "run: archcalc lecture --write reports/lecture_audit.md"


def by_id(key):
    return compute(next(e for e in BANK if e["id"] == key))


@pytest.mark.parametrize(
    "key, value",
    [  # the examples, with the arithmetic written out independently
        ("vgg16-total-memory-values", 150528 + 2 * 3211264 + 802816 + 2 * 1605632 + 401408 + 3 * 802816 + 200704
         + 3 * 401408 + 100352 + 3 * 100352 + 25088 + 4096 + 4096 + 1000),
        ("inception-bottleneck-ops-total", 28 * 28 * (128 * 256 + 3 * 64 * 256 + 192 * 9 * 64 + 96 * 25 * 64)),
        ("inception-naive-concat-values", 28 * 28 * 672),
        ("inception-naive-ops-845m", 28 * 28 * 256 * (128 + 192 * 9 + 96 * 25)),
    ],
)
def test_wrong_claims(key, value):
    answer = by_id(key)
    assert answer.value == value and answer.entry["verdict"] == "wrong" and answer.check == "differs"


def test_358m_is_the_128_channel_reading():
    """The slide's 358M is the bottleneck module's total with its 3x3 conv reading 128 channels
    instead of 64 (the other five terms as listed), computed by archcalc and by hand."""
    import archcalc
    from archcalc.notation import analyze_text

    module = archcalc.analyze("inception_bottleneck")
    wide, _ = analyze_text("[3x3 conv, 192]", "28x28x128", "<test>")
    total = module.totals.macs - module.row("conv3x3").macs + wide.totals.macs
    assert total == 28 * 28 * (128 * 256 + 3 * 64 * 256 + 192 * 9 * 128 + 96 * 25 * 64) == 358_055_936


@pytest.mark.parametrize(
    "stated, value, check",
    [("35K", 34_944, "rounding"), ("(11*11*3)*96 = 35K", 34_848, "rounding"), ("529k", 526_848, "differs"),
     ("138M", 138_357_544, "rounding"), ("5 million", 6_998_552, "differs"), ("12x", 8.711, "differs"),
     ("0", 0, "exact"), ("only FC1000", 513_000, ""),
     # volumes and products as values; a count against a stated volume compares its size
     ("55x55x96", "55x55x96", "exact"), ("13x13x256 (POOL2 and NORM2)", "13x13x384", "differs"),
     ("28x28x(128+192+96+256) = 28x28x672", "28x28x672", "exact"), ("55x55x96", 55 * 55 * 96, "exact"),
     ("28x28x128x1x1x256", 25_690_112, "exact"), ("4096, 4096, 1000", ["4096", "4096", "1000"], "exact"),
     ("3x3, 5x5, 7x7", ["3x3", "5x5", "7x7"], "exact"), ("most params in late FC", 0.894, "")],
)
def test_stated_number_checks(stated, value, check):
    assert auto_check(stated, value) == check


@pytest.mark.parametrize(
    "text, value",
    [("55x55x96", (55, 55, 96)), ("4,096", 4096), ("(3 * 3 * 3) / (7 * 7)", Fraction(27, 49)),
     ("4096, 4096, 1000", [4096, 4096, 1000]), ("conv 3x3/1 p1, 64", "conv 3x3/1 p1, 64")],
)
def test_as_value(text, value):
    assert as_value(text) == value


def test_same_value():
    assert same_value(0.721, "10988544 / 15237608")  # 0.72113..., archcalc rounds ratios to 3 decimals
    assert not same_value(0.72, "10988544 / 15237608")
    assert same_value({"a": 20, "b": ["7x7x512", "4096"]}, {"a": "6*3 + 2", "b": ["7x7x512", 4096]})
    assert not same_value({"a": 20}, {"a": 20, "b": 1})
    import sympy

    H, W, K, D = sympy.symbols("H W K D", integer=True, positive=True)
    assert same_value(9 * D * K * (H - 2) * (W - 2), "(W - 3 + 1)*(H - 3 + 1)*K*3*3*D")
    assert not same_value(9 * D * K * (H - 2) * (W - 2), "(W - 3)*(H - 3)*K*3*3*D")


def test_stated_number_precision():
    assert stated_number("3.2M") == (3.2e6, 1e5)
    assert stated_number("50x") == (50.0, 10)

"""The lecture audit: every claim in the question bank computes, its recorded verdict agrees with
the computed number, and reports/lecture_audit.md is in sync (regenerate with
`archcalc lecture --write reports/lecture_audit.md`)."""

from pathlib import Path

import pytest

from archcalc.lecture import audit, auto_check, compute, load_bank, render_markdown, stated_number

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
    assert answer.consistent, (entry["verdict"], answer.check, entry["stated"], answer.value)


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
    # the slide's 358M comes out if the 3x3 conv read 128 channels instead of 64
    assert 28 * 28 * (128 * 256 + 3 * 64 * 256 + 192 * 9 * 128 + 96 * 25 * 64) == 358_055_936


@pytest.mark.parametrize(
    "stated, value, check",
    [("35K", 34_944, "rounding"), ("(11*11*3)*96 = 35K", 34_848, "rounding"), ("529k", 526_848, "differs"),
     ("138M", 138_357_544, "rounding"), ("5 million", 6_998_552, "differs"), ("12x", 8.711, "differs"),
     ("0", 0, "exact"), ("55x55x96", 290_400, ""), ("only FC1000", 513_000, "")],
)
def test_stated_number_checks(stated, value, check):
    assert auto_check(stated, value) == check


def test_stated_number_precision():
    assert stated_number("3.2M") == (3.2e6, 1e5)
    assert stated_number("50x") == (50.0, 10)

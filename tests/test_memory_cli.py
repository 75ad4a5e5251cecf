"""`archcalc fit` and `table --train`: answers checked against sums worked out from the totals'
definitions, and one-line errors (exit 2) for malformed requests."""

import pytest

import archcalc
from archcalc.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [
    ["fit", "resnet18", "--memory", "0"],
    ["fit", "resnet18", "--memory", "lots"],
    ["fit", "resnet18", "--memory", "1MiB"],  # weights alone are 44.6 MiB: no batch ever fits
    ["fit", "resnet18", "--memory", "16GiB", "--train", "--optimizer", "adagrad"],
    ["table", "resnet18", "--train", "--optimizer", "rmsprop"],
])
def test_malformed_requests_are_one_line_errors(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("archcalc: error: ") and err.count("\n") == 1


def test_fit_is_the_largest_batch_that_fits(capsys):
    # 2 GiB for ResNet-18 inference: batch b fits when params + buffers + b * peak(1) <= memory
    memory = 2 * 2**30
    one = archcalc.analyze("resnet18").totals
    resident = one.param_bytes + one.buffer_bytes
    expected = (memory - resident) // one.peak_activation_bytes
    code, out, _ = run(capsys, "fit", "resnet18", "--memory", "2GiB")
    assert code == 0 and out.startswith(f"resnet18: batch {expected:,} fits")


def test_train_totals_add_up():
    # ResNet-18, Adam, batch 4: grads = params * 4 B, Adam state = 2 * params * 4 B
    t = archcalc.analyze("resnet18", batch=4, train=True, optimizer="adam").totals
    assert t.grad_bytes == 11_689_512 * 4 and t.optimizer_bytes == 2 * 11_689_512 * 4
    assert t.train_peak_bytes == t.param_bytes + t.buffer_bytes + t.optimizer_bytes + t.train_step_bytes
    # the step holds at least every gradient (at the optimizer step) and every saved tensor (as backward starts)
    assert t.train_step_bytes >= max(t.grad_bytes, t.saved_bytes)
    rows = archcalc.analyze("resnet18", batch=4, train=True).rows
    assert t.saved_bytes == sum(r.saved for r in rows)


def test_table_train_shows_saved_column(capsys):
    code, out, _ = run(capsys, "table", "alexnet", "--train")
    assert code == 0 and "saved" in out.splitlines()[3] and "train peak" in out

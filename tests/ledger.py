"""The parameter-ledger invariant every imported model must satisfy (shared by the torch tests)."""

UNCOUNTED = ("num_batches_tracked",)


def assert_ledger(model, report):
    """Parameters and buffers of the report equal the model's unique tensors (tied weights once)."""
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith(UNCOUNTED))
    assert (report.totals.params, report.totals.buffers) == (params, buffers)

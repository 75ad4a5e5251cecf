"""from_torch op by op: small models whose parameters and MACs are worked out by hand here, checked
against FlopCounterMode, and the parameter ledger (shared weights, nested modules, parameters used
as tensors, modules that never run)."""

import math

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from archcalc.torch.importer import from_torch  # noqa: E402
from archcalc.torch.reference import measure  # noqa: E402
from tests.ledger import assert_ledger  # noqa: E402

pytestmark = pytest.mark.torch


def imported(model, shape):
    report = from_torch(model, shape)
    assert_ledger(model, report)
    return report


def flop_counter_macs(model, shape):
    return measure(model, shape, device="cpu").macs


class Shared(nn.Module):
    """One conv applied twice, and a head whose weight is tied to another Linear's."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.b.weight = self.a.weight  # tied
        self.spare = nn.Linear(4, 100)  # never called

    def forward(self, x):
        x = self.conv(self.conv(x)).mean((2, 3))
        return self.b(self.a(x))


def test_shared_and_unused_parameters_counted_once():
    r = imported(Shared(), (4, 8, 8))
    conv = 4 * 4 * 9 + 4
    assert r.totals.params == conv + (16 + 4) + 4 + (400 + 100)  # b adds only its bias
    assert r.totals.macs == 2 * 8 * 8 * 4 * 4 * 9 + 2 * 16  # both conv calls and both linears run
    assert r.row("spare.unused").params == 500 and not r.row("spare.unused").executed
    assert r.totals.macs == flop_counter_macs(Shared(), (4, 8, 8))


class BNAct(nn.BatchNorm2d):
    """timm's BatchNormAct2d pattern: a BatchNorm2d subclass calling F.batch_norm itself."""

    def forward(self, x):
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.1, self.eps)
        return F.relu(x)


def test_batchnorm_subclass_keeps_its_parameters():
    model = nn.Sequential(nn.Conv2d(3, 8, 1, bias=False), BNAct(8))
    r = imported(model, (3, 4, 4))
    assert r.totals.params == 24 + 16 and r.totals.buffers == 16
    assert "batchnorm" in [row.type for row in r.rows] and r.meta["unsupported"] == {}


class ConvNeXtBlock(nn.Module):
    """Depthwise conv, channels-last LayerNorm and MLP, layer scale, residual (torchvision's CNBlock)."""

    def __init__(self, c=8):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c)
        self.fc1, self.fc2 = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)
        self.gamma = nn.Parameter(torch.ones(c, 1, 1))

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.fc2(F.gelu(self.fc1(self.norm(y)))).permute(0, 3, 1, 2)
        return x + self.gamma * y


def test_channels_last_block():
    c, h = 8, 6
    r = imported(ConvNeXtBlock(c), (c, h, h))
    hw = h * h
    assert r.totals.macs == hw * c * 49 + hw * c * 4 * c * 2  # depthwise 7x7, then two linears per position
    assert r.totals.params == (c * 49 + c) + 2 * c + (c * 4 * c + 4 * c) + (4 * c * c + c) + c
    assert r.row("gamma").type == "constant" if "gamma" in [x.name for x in r.rows] else True
    assert r.totals.macs == flop_counter_macs(ConvNeXtBlock(c), (c, h, h))
    assert r.meta["unsupported"] == {}


class Tokens(nn.Module):
    """ViT pieces: class token, position embedding, MultiheadAttention, a slice of the tokens."""

    def __init__(self, e=16, heads=4, n=9):
        super().__init__()
        self.proj = nn.Conv2d(3, e, 4, 4)
        self.cls = nn.Parameter(torch.zeros(1, 1, e))
        self.pos = nn.Parameter(torch.zeros(1, n + 1, e))
        self.attn = nn.MultiheadAttention(e, heads, batch_first=True)
        self.head = nn.Linear(e, 5)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x, _ = self.attn(x, x, x, need_weights=False)
        return self.head(x[:, 0])


def test_tokens_and_multihead_attention():
    e, n = 16, 10  # 9 patches + the class token
    model = Tokens().to("meta")  # nothing allocated
    r = imported(model, (3, 12, 12))
    mha = 4 * e * e + 4 * e  # q, k, v and output projections with biases
    assert r.row("attn").params == mha
    assert r.totals.params == (3 * 16 * e + e) + e + n * e + mha + (5 * e + 5)
    attention = n * e * e * 3 + n * n * 2 * e + n * e * e  # projections, q·kᵀ and attention·v, output
    assert r.totals.macs == 9 * 3 * 16 * e + attention + 5 * e
    assert r.totals.macs == measure(model, (3, 12, 12)).macs


class Attention(nn.Module):
    """Hand-written attention: qkv, reshape, unbind (getitem on a tuple), q @ kᵀ, softmax, SDPA."""

    def __init__(self, e=12, heads=3):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(e, 3 * e)

    def forward(self, x):
        b, n, e = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, e // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        scores = (q * 0.5) @ k.transpose(-2, -1)
        manual = scores.softmax(dim=-1) @ v
        fused = F.scaled_dot_product_attention(q, k, v)
        return (manual + fused).sum(dim=1)


def test_matmul_unbind_and_sdpa():
    n, e, h = 7, 12, 3
    r = imported(Attention(e, h), (n, e))
    d = e // h
    assert r.totals.macs == n * e * 3 * e + 2 * (h * n * n * d) + h * n * n * (d + d)
    # on the meta device FlopCounterMode sees SDPA's math; on the CPU it misses the fused kernel (docs/conventions.md)
    assert r.totals.macs == measure(Attention(e, h).to("meta"), (n, e)).macs
    assert {"matmul", "attention", "slice", "softmax", "reduce", "elementwise"} <= {row.type for row in r.rows}
    assert r.meta["unsupported"] == {}


class Plumbing(nn.Module):
    """interpolate, pad, split, stack, amax, a conv1d and conv3d, a transposed conv, GroupNorm, PReLU."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
        self.gn = nn.GroupNorm(2, 4)
        self.act = nn.PReLU(4)
        self.c1 = nn.Conv1d(4, 4, 3, padding=1)
        self.c3 = nn.Conv3d(1, 2, 3, padding=1)

    def forward(self, x):
        x = self.act(self.gn(x))  # 4x5x5
        a, b = x.split(2, dim=1)
        y = torch.stack([a, b], dim=1).amax(dim=1)  # 2x5x5
        y = F.pad(F.interpolate(y, scale_factor=2, mode="bilinear"), (1, 1, 1, 1))  # 2x12x12
        z = self.up(x)  # 4x5x5 -> 2x10x10
        s = self.c1(x.flatten(2))  # 4 x 25
        v = self.c3(x.unsqueeze(1))  # 1x4x5x5 -> 2x4x5x5
        return y.sum() + z.sum() + s.sum() + v.sum()


def test_plumbing_ops_hand_counts():
    r = imported(Plumbing(), (4, 5, 5))
    transposed = 5 * 5 * 4 * 2 * 9  # every input position meets every weight (FlopCounterMode's count)
    conv1d = 25 * 4 * 4 * 3
    conv3d = 4 * 5 * 5 * 2 * 1 * 27
    assert r.totals.macs == transposed + conv1d + conv3d
    assert r.totals.macs == flop_counter_macs(Plumbing(), (4, 5, 5))
    assert r.row("up").output == (2, 10, 10)
    assert r.totals.params == (4 * 2 * 9 + 2) + 8 + 4 + (4 * 4 * 3 + 4) + (2 * 27 + 2)
    assert r.meta["unsupported"] == {}


def test_conv_transpose_spec_layer_builds_the_same(tmp_path):
    """The spec's conv_transpose and its torch builder agree with nn.ConvTranspose2d and FlopCounterMode."""
    from archcalc.spec import build, load_file
    from archcalc.torch.build import to_torch

    spec = tmp_path / "up.yaml"
    spec.write_text("name: up\ninput: 7x7x8\nlayers:\n  - conv_transpose: {out: 4, kernel: 4, stride: 2, padding: 1}\n")
    graph = build(next(iter(load_file(spec).values())))
    assert graph.output.shape == (4, 14, 14)  # (7 - 1)·2 − 2 + 3 + 1
    model = to_torch(graph)
    assert sum(p.numel() for p in model.parameters()) == graph.output.cost.params == 8 * 4 * 16 + 4
    assert graph.output.cost.macs == 7 * 7 * 8 * 4 * 16 == flop_counter_macs(model, (8, 7, 7))


def test_every_activation_module_imports():
    from archcalc.torch.ops import ACTIVATIONS

    for kind, (cls, _) in ACTIVATIONS.items():
        r = imported(nn.Sequential(nn.Conv2d(2, 2, 1), cls(0.1, 0.0) if cls is nn.Threshold else cls()), (2, 3, 3))
        assert r.rows[-1].type == ("relu6" if kind == "relu6" else kind), kind
        assert r.meta["unsupported"] == {}, kind


def test_large_meta_model_imports_without_weights():
    """600M parameters on the meta device: the importer never allocates them."""
    with torch.device("meta"):
        model = nn.Sequential(nn.Flatten(), *[nn.Linear(8192, 8192) for _ in range(9)])
    r = from_torch(model, (8192,))
    assert r.totals.params == 9 * (8192 * 8192 + 8192) == sum(p.numel() for p in model.parameters())
    assert math.isclose(r.totals.params / 1e6, 604, rel_tol=0.01)


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(6, 5, num_layers=2, batch_first=True, bidirectional=True)

    def forward(self, x):
        y, _ = self.rnn(x)
        return y


def test_lstm_hand_counts():
    r = imported(Sequence(), (7, 6))
    weights = 2 * (4 * 5 * (6 + 5) + 4 * 5 * (10 + 5))  # two directions; layer 2 reads both directions
    assert r.totals.params == weights + 2 * 2 * 8 * 5  # two bias vectors of 4·hidden per layer and direction
    assert r.totals.macs == 7 * weights == measure(Sequence().to("meta"), (7, 6)).macs
    assert r.meta["unsupported"] == {}

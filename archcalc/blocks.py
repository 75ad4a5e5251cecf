"""The zoo's reusable blocks (`blocks:` of the spec files): listed with their parameters and
description, and any one of them analysed on its own as a one-block network
(``resnet:bottleneck`` with ``--param planes=64 --input 56x56x256``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError


@dataclass(frozen=True)
class BlockInfo:
    name: str
    file: str  # the file that defines it
    params: tuple[tuple[str, Any], ...]  # (name, default); None = required
    description: str

    def signature(self) -> str:
        """`planes, stride=1, downsample=false`: required parameters bare, the rest with defaults."""
        def show(v: Any) -> str:
            return str(v).lower() if isinstance(v, bool) else str(v)

        return ", ".join(k if v is None else f"{k}={show(v)}" for k, v in self.params)


def _all_files() -> list[Path]:
    """Every spec file, the shared block files (`_*.yaml`) included."""
    from .spec import specs_dirs

    seen: dict[str, Path] = {}
    for d in specs_dirs():
        for p in sorted(d.glob("*.yaml")):
            seen.setdefault(p.name, p)
    return list(seen.values())


def spec_file_stems() -> set[str]:
    return {p.stem for p in _all_files()}


def _info(name: str, body: dict[str, Any], file: str) -> BlockInfo:
    declared = body.get("params") or {}
    return BlockInfo(name, file, tuple(declared.items()), " ".join(str(body.get("description") or "").split()))


def file_blocks(path: Path) -> list[BlockInfo]:
    """The blocks a file defines itself (not those it includes)."""
    from .spec import read_yaml

    own = read_yaml(path).get("blocks") or {}
    return [_info(str(k), v, str(path)) for k, v in own.items() if isinstance(v, dict)]


def _context(target: str) -> tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]:
    """(file, parameters, blocks) of a family (file stem or path) or of one network of the zoo."""
    from .spec import _load_blocks, find, read_yaml

    path = Path(target)
    if not path.is_file():
        path = next((p for p in _all_files() if p.stem == target), path)
    if path.is_file():
        data = read_yaml(path)
        params = data.get("params") or {}
        if not isinstance(params, dict):
            params = {}
        return path, params, _load_blocks(data, path, (path.resolve(),))
    try:
        net = find(target)  # a network name: its own parameters and the family's blocks
    except SpecError:
        from .spec import _suggest, zoo

        raise SpecError(f"no family, spec file or network {target!r}{_suggest(target, [*spec_file_stems(), *zoo()])}") from None
    return Path(net.file), dict(net.params), net.blocks


def visible_blocks(target: str | None = None) -> list[BlockInfo]:
    """Every block of the zoo (by defining file), or those usable in one file/family/network."""
    if target is None:
        return [b for p in _all_files() for b in file_blocks(p)]
    path, _, blocks = _context(target)
    return [_info(k, v, str(path)) for k, v in blocks.items()]


def block_network(target: str, block: str) -> Any:
    """One block as a network of its own: its parameters become the network's (set them with
    --param), the family's (or network's) parameters stay available, the input comes from --input."""
    from .spec import NetworkDef, _suggest

    path, params, blocks = _context(target)
    if block not in blocks:
        raise SpecError(f"no block {block!r} in {target}{_suggest(block, blocks)}; `archcalc blocks {target}` lists them")
    info = _info(block, blocks[block], str(path))
    declared = dict(info.params)
    # a parameter the block reads as a tensor (DenseNet's x0, a NASNet cell's prev) is the input
    tensors = {k for k in declared if declared[k] is None and _reads_tensor(blocks[block].get("layers"), k)}
    return NetworkDef(
        name=f"{target}:{block}",
        file=str(path),
        layers=[{block: {k: "@input" if k in tensors else k for k in declared}}],
        params={**params, **{k: v for k, v in declared.items() if k not in tensors}},
        input=None,
        blocks=blocks,
        meta={},
        description=info.description,
    )


def _reads_tensor(items: Any, name: str) -> bool:
    """Whether block layers use parameter ``name`` as a tensor: `from: name`, in `inputs:` or
    `holds:`, or passed on to another block as "@name"."""
    def tensor_ref(v: Any) -> bool:
        return isinstance(v, str) and v.strip().lstrip("@") == name

    def walk(node: Any) -> bool:
        if isinstance(node, list):
            return any(walk(v) for v in node)
        if not isinstance(node, dict):
            return False
        for k, v in node.items():
            if k == "from" and tensor_ref(v):
                return True
            if k in ("inputs", "holds") and any(tensor_ref(r) for r in (v if isinstance(v, list) else [v])):
                return True
            if isinstance(v, str) and v.strip() == f"@{name}":
                return True
            if walk(v):
                return True
        return False

    return walk(items)

"""Spec files: YAML -> validated network definition -> compiled :class:`~archcalc.graph.Graph`.

A spec file holds either one network (``name`` + ``layers``) or a family (``networks:``, each
entry a network that inherits the family's fields). docs/spec-format.md is the reference; in
short, a ``layers`` list holds items of these forms::

    - relu                                  # a layer with default fields
    - conv: {out: 4*width, kernel: 3, padding: 1, bias: false, name: conv2}
    - bottleneck: {width: 64, stride: 2}    # a block defined under `blocks:`
    - repeat: {times: n - 1, name: layer1, var: i, layers: [...]}
    - sequential: {name: downsample, layers: [...]}
    - add: {branches: [[...], []]}          # merge of parallel branches; [] is the identity
    - concat: {branches: {branch1: [...], branch2: [...]}}

Every field value may be a safe arithmetic expression over the spec's parameters
(:mod:`archcalc.expr`), and every item may carry ``when: <expression>`` to include it
conditionally.
"""

from __future__ import annotations

import difflib
import os
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, NamedTuple

import yaml

from .errors import SpecError
from . import gcpause
from .expr import ExprError, evaluate
from .graph import Graph, GraphBuilder, Node
from .layers import ALIASES, REGISTRY, LayerError, Shape, layer_class

try:  # the C loader is several times faster; both are safe loaders
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: Top-level keys of a network or family; anything else is a typo and an error.
NETWORK_KEYS = {"name", "description", "layers", "params", "input", "blocks", "include", "extends", "symbols"}
META_KEYS = {
    "family", "full_name", "paper", "authors", "year", "url", "source", "notes", "differences",
    "accuracy", "expected", "ilsvrc", "torchvision", "reference", "tags", "variant_of", "stochastic_depth",
}
FAMILY_KEYS = (NETWORK_KEYS | META_KEYS | {"networks"}) - {"name", "layers", "extends"}
STRUCTURAL = {"repeat", "sequential", "side"}
ITEM_COMMON = {"name", "when", "from", "alias", "holds"}
#: `name: "#"` in an indexed scope (`sequential: {index: true}`): the next index, as nn.Sequential
NEXT_INDEX = "#"

MAX_REPEAT = 10_000
MAX_DEPTH = 64


def _suggest(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------------------------
# Files and the zoo


def specs_dirs() -> list[Path]:
    """Where built-in specs live: $ARCHCALC_SPECS, the installed package, the source checkout."""
    here = Path(__file__).resolve().parent
    dirs = [Path(p) for p in os.environ.get("ARCHCALC_SPECS", "").split(os.pathsep) if p]
    dirs += [here / "specs", here.parent / "specs"]
    return [d for d in dirs if d.is_dir()]


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec: {exc.__class__.__name__}: {exc}", file=str(path)) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"not valid YAML: {where}{problem}", file=str(path)) from None
    except RecursionError:
        raise SpecError("not valid YAML: nested too deeply", file=str(path)) from None
    if data is None:
        raise SpecError("empty spec file", file=str(path))
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a YAML mapping, got a {type(data).__name__}", file=str(path))
    return data


@dataclass
class NetworkDef:
    """One network as written: raw items plus everything it inherits."""

    name: str
    file: str
    layers: list[Any]
    params: dict[str, Any]
    input: Any
    blocks: dict[str, dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    symbols: list[str] = field(default_factory=list)  # sizes left as symbols (C, H, W, ...)
    # each item checked once (`_Builder.parse`), whatever input, parameters or call site: by id(item)
    parsed: dict[int, Any] = field(default_factory=dict, repr=False, compare=False)
    # block templates kept between compiles (`_Builder.share`): (network parameters, block key) -> template
    templates: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    compiled: int = field(default=0, repr=False, compare=False)  # how many times it was compiled


def _check_keys(data: Mapping[str, Any], allowed: set[str], file: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            raise SpecError(f"unknown key {key!r}{_suggest(str(key), allowed)}", file=file, layer=where)


def _load_blocks(data: Mapping[str, Any], path: Path, seen: tuple[Path, ...], reads: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Blocks of a file, its includes first (so the file's own definitions win); every file
    included is added to ``reads``."""
    blocks: dict[str, dict[str, Any]] = {}
    includes = data.get("include") or []
    if isinstance(includes, str):
        includes = [includes]
    for inc in includes:
        target = (path.parent / str(inc)).resolve()
        if target in seen:
            raise SpecError(f"include cycle through {inc}", file=str(path))
        if not target.is_file():
            raise SpecError(f"included file {inc!r} not found", file=str(path))
        included = read_yaml(target)
        if reads is not None:
            reads.append(str(target))
        blocks.update(_load_blocks(included, target, (*seen, target), reads))
    own = data.get("blocks") or {}
    if not isinstance(own, dict):
        raise SpecError("blocks must be a mapping of block name -> definition", file=str(path))
    for name, body in own.items():
        if layer_class(str(name)) or name in STRUCTURAL:
            raise SpecError(f"block name {name!r} clashes with a layer type", file=str(path), layer=f"blocks.{name}")
        if not isinstance(body, dict) or "layers" not in body:
            raise SpecError("a block needs `layers:` (and optionally `params:`)", file=str(path), layer=f"blocks.{name}")
        _check_keys(body, {"params", "layers", "description"}, str(path), f"blocks.{name}")
        blocks[str(name)] = body
    return blocks


#: spec files already loaded: path -> (every file read, with its bytes; the networks)
_LOADED: dict[str, tuple[tuple[tuple[str, bytes], ...], dict[str, NetworkDef]]] = {}
_LOADED_MAX = 256


def _contents(files: Any) -> tuple[tuple[str, bytes], ...] | None:
    try:
        return tuple((f, Path(f).read_bytes()) for f in files)
    except OSError:
        return None


def load_file(path: str | Path) -> dict[str, NetworkDef]:
    """All networks defined in one spec file, by name.

    A file is parsed and checked once while neither it nor a file it includes changes (the same
    bytes: reading them is 100x cheaper than parsing them): the networks returned are shared, so
    treat them as read-only (each keeps what compiling it learns about its items, making the
    next compile faster)."""
    file = str(path)
    hit = _LOADED.get(file)
    if hit is not None and _contents(f for f, _ in hit[0]) == hit[0]:
        return dict(hit[1])
    reads = [file]
    nets = _load_file(Path(path), reads)
    contents = _contents(reads)
    if contents is not None:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.clear()
        _LOADED[file] = (contents, nets)
    return dict(nets)


def _load_file(path: Path, reads: list[str]) -> dict[str, NetworkDef]:
    data = read_yaml(path)
    file = str(path)
    blocks = _load_blocks(data, path, (path.resolve(),), reads)
    if "networks" in data:
        _check_keys(data, FAMILY_KEYS, file, "")
        family_params = data.get("params") or {}
        family_meta = {k: v for k, v in data.items() if k in META_KEYS}
        entries = data["networks"]
        if not isinstance(entries, dict) or not entries:
            raise SpecError("networks must be a non-empty mapping of name -> network", file=file)
        raw: dict[str, dict[str, Any]] = {}
        for name, body in entries.items():
            if not isinstance(body, dict):
                raise SpecError("a network must be a mapping", file=file, layer=str(name))
            # blocks and includes belong to the family: they are shared by every network in it
            _check_keys(body, (NETWORK_KEYS - {"blocks", "include"}) | META_KEYS, file, str(name))
            raw[str(name)] = body
        nets = {}
        for name in raw:
            body = _resolve_extends(name, raw, file)
            nets[name] = NetworkDef(
                name=name,
                file=file,
                layers=body.get("layers"),
                params={**family_params, **(body.get("params") or {})},
                input=body.get("input", data.get("input")),
                blocks=blocks,
                meta={**family_meta, **{k: v for k, v in body.items() if k in META_KEYS}},
                description=str(body.get("description") or data.get("description") or ""),
                symbols=_symbol_names(body.get("symbols", data.get("symbols")), file, name),
            )
    else:
        _check_keys(data, NETWORK_KEYS | META_KEYS, file, "")
        name = str(data.get("name") or path.stem)
        nets = {
            name: NetworkDef(
                name=name,
                file=file,
                layers=data.get("layers"),
                params=dict(data.get("params") or {}),
                input=data.get("input"),
                blocks=blocks,
                meta={k: v for k, v in data.items() if k in META_KEYS},
                description=str(data.get("description") or ""),
                symbols=_symbol_names(data.get("symbols"), file, name),
            )
        }
    for net in nets.values():
        if not isinstance(net.layers, list) or not net.layers:
            raise SpecError("needs a non-empty `layers:` list", file=file, layer=net.name)
        if net.input is None:
            raise SpecError("needs `input:` (e.g. 224x224x3, H x W x C)", file=file, layer=net.name)
        if not isinstance(net.params, dict):
            raise SpecError("params must be a mapping", file=file, layer=net.name)
    return nets


def _symbol_names(raw: Any, file: str, where: str) -> list[str]:
    if raw is None:
        return []
    names = raw if isinstance(raw, list) else [raw]
    for n in names:
        if not isinstance(n, str) or not n.isidentifier():
            raise SpecError(f"symbols must be a list of names (e.g. [C, H, W]), got {n!r}", file=file, layer=where)
    return [str(n) for n in names]


def _resolve_extends(name: str, raw: dict[str, dict[str, Any]], file: str) -> dict[str, Any]:
    """A network with `extends: other` takes other's definition and overrides it."""
    chain = [name]
    body = raw[name]
    while "extends" in body:
        parent = str(body["extends"])
        if parent not in raw:
            raise SpecError(f"extends unknown network {parent!r}{_suggest(parent, raw)}", file=file, layer=name)
        if parent in chain:
            raise SpecError(f"extends cycle: {' -> '.join([*chain, parent])}", file=file, layer=name)
        chain.append(parent)
        merged = {k: v for k, v in raw[parent].items() if k not in ("description",) and k not in META_KEYS}
        merged.update({k: v for k, v in body.items() if k != "extends"})
        merged["params"] = {**(raw[parent].get("params") or {}), **(body.get("params") or {})}
        if "extends" in raw[parent]:
            merged["extends"] = raw[parent]["extends"]
        body = merged
    return body


def spec_files() -> Iterator[Path]:
    seen = set()
    for d in specs_dirs():
        for p in sorted(d.glob("*.yaml")):
            if p.name.startswith("_") or p.name in seen:
                continue
            seen.add(p.name)
            yield p


def zoo() -> dict[str, NetworkDef]:
    """Every built-in network, by name."""
    nets: dict[str, NetworkDef] = {}
    for p in spec_files():
        for name, net in load_file(p).items():
            if name in nets:
                raise SpecError(f"network {name!r} defined twice (also in {nets[name].file})", file=str(p))
            nets[name] = net
    return nets


def find(name_or_path: str) -> NetworkDef:
    """A built-in network by name, or the network in a spec file (``file.yaml`` or ``file.yaml:name``)."""
    target, _, member = name_or_path.partition(":") if name_or_path.count(":") == 1 else (name_or_path, "", "")
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise SpecError("no such spec file", file=str(path))
        if member:
            data = read_yaml(path)
            if member not in (data.get("networks") or {}) and member in _load_blocks(data, path, (path.resolve(),)):
                from .blocks import block_network

                return block_network(target, member)  # file.yaml:BLOCK, one block alone
        nets = load_file(path)
        if member:
            if member not in nets:
                raise SpecError(f"no network {member!r} in this file{_suggest(member, nets)}", file=str(path))
            return nets[member]
        if len(nets) > 1:
            raise SpecError(f"this file defines {len(nets)} networks; pick one as {path}:NAME ({', '.join(nets)})", file=str(path))
        return next(iter(nets.values()))
    if member:  # FAMILY:BLOCK or NETWORK:BLOCK, one block analysed alone
        from .blocks import block_network

        return block_network(target, member)
    # Fast path: a file named after the network or its family (vgg16 -> vgg.yaml), then the rest.
    files = list(spec_files())
    likely = sorted((p for p in files if name_or_path.startswith(p.stem)), key=lambda p: -len(p.stem))
    for p in likely + [p for p in files if p not in likely]:
        nets = load_file(p)
        if name_or_path in nets:
            return nets[name_or_path]
    raise SpecError(f"no built-in network {name_or_path!r}{_suggest(name_or_path, zoo())}; `archcalc list` shows them")


# --------------------------------------------------------------------------------------------
# Input shapes


def parse_volume(text: str, env: Mapping[str, Any] | None = None) -> Shape:
    """``"224x224x3"`` (H×W×C, the lecture's notation) -> ``(3, 224, 224)``; ``"4096"`` -> ``(4096,)``.

    Parts may be parameter expressions when separated by `` x `` or ``×``.
    """
    s = str(text).strip().replace("×", "x")
    parts = s.split(" x ") if " x " in s else s.split("x")
    if len(parts) not in (1, 3):
        raise ExprError(f"a volume is HxWxC (e.g. 224x224x3) or a length, got {text!r}")
    env = dict(env or {})
    bare = [p.strip() for p in parts if p.strip().isidentifier() and p.strip() not in env and p.strip() not in ("true", "false")]
    if bare:  # a size written as a letter is a symbol: 224xWx3, HxWxC
        from .symbolic import symbols

        env.update(symbols(bare))
    values = []
    for part in parts:
        v = evaluate(part.strip(), env)
        if getattr(v, "free_symbols", None):
            values.append(v)
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ExprError(f"volume sizes must be positive integers, got {part.strip()!r} = {v!r} in {text!r}")
        values.append(v)
    if len(values) == 1:
        return (values[0],)
    h, w, c = values
    return (c, h, w)


def _input_shape(spec_input: Any, env: Mapping[str, Any]) -> Shape:
    if isinstance(spec_input, Mapping):
        extra = set(spec_input) - {"height", "width", "channels", "size", "features"}
        if extra:
            raise ExprError(f"input keys are height, width, channels (or size, or features), got {sorted(extra)}")
        if "features" in spec_input:
            return parse_volume(str(evaluate(spec_input["features"], env)))
        size = spec_input.get("size")
        h, w = spec_input.get("height", size), spec_input.get("width", size)
        c = spec_input.get("channels", 3)
        values = [evaluate(v, env) for v in (h, w, c)]
        return parse_volume(" x ".join(str(v) for v in values))
    return parse_volume(str(spec_input), env)


# --------------------------------------------------------------------------------------------
# Compilation


@dataclass(frozen=True)
class TensorRef:
    """A block parameter that names an earlier tensor (`prev: "@cell_3"`), resolved at the call."""

    index: int
    path: str


_INTERPOLATE = re.compile(r"\{([^{}]*)\}")


class _Scope:
    """Names inside one scope. An indexed scope names its children 0, 1, 2, ... in order, as
    nn.Sequential does, so rows carry torchvision's module paths (`features.0`, `classifier.6`)."""

    def __init__(self, prefix: str, indexed: bool = False) -> None:
        self.prefix = prefix
        self.indexed = indexed
        self.next_index = 0
        self.counters: dict[str, int] = {}
        self.used: set[str] = set()

    def path(self, local: str) -> str:
        return f"{self.prefix}.{local}" if self.prefix else local

    def auto(self, base: str) -> str:
        if self.indexed:
            return self.claim(NEXT_INDEX, "")
        n = self.counters.get(base, 0)
        while True:
            n += 1
            if f"{base}{n}" not in self.used:
                break
        self.counters[base] = n
        return f"{base}{n}"

    def claim(self, local: str, file: str) -> str:
        if local == NEXT_INDEX:
            if not self.indexed:
                raise SpecError(f"name {NEXT_INDEX!r} (the next index) needs an indexed scope (sequential: {{index: true}})", file=file, layer=self.path(local))
            local = str(self.next_index)
        if local.isdigit():
            self.next_index = max(self.next_index, int(local) + 1)
        if local in self.used:
            raise SpecError(f"duplicate layer name {local!r}", file=file, layer=self.path(local))
        self.used.add(local)
        return local


class _Builder(GraphBuilder):
    """The spec compiler: items, blocks, repeats and scopes, on top of the graph builder."""

    def __init__(self, net: NetworkDef, env: dict[str, Any], input_shape: Shape) -> None:
        super().__init__(net.file, input_shape, net.name)
        self.net = net
        self.global_env = env
        # Memo: repeated blocks build the same layer many times. Layers are immutable once built.
        self._layers: dict[tuple[Any, ...], Any] = {}  # layer class and field values -> layer
        self._fixed: dict[int, Any] = {}  # id of an item whose fields are all constants -> its layer
        self._templates: dict[Any, _Template | _Application | None] = {}
        self._declared: dict[str, dict[str, tuple[Any, bool, Any]]] = {}  # block -> its parameters
        try:  # what every block may read besides its arguments: the network's parameters
            self._network_key: Any = tuple(sorted((k, _hashable(v)) for k, v in env.items()))
            hash(self._network_key)
        except TypeError:
            self._network_key = None
        self.aliases: dict[str, str] = {}  # the papers' names (conv1_1, fc6) -> layer or scope path
        self._path_reads: list[int] = []  # every node a `from:`, `inputs:` or `@path` looked up by path
        self.holds: list[tuple[int, int]] = []  # `holds:` (tensor, the last node of the item holding it)

    def scoped(self, items: Any, cur: int, env: Mapping[str, Any], sub: _Scope, stack: tuple[str, ...], where: str) -> int:
        """A named scope's layers; the scope's path then names its output tensor."""
        end = self.sequence(items, cur, env, sub, stack, where)
        if sub.prefix:
            self.paths[sub.prefix] = end
        return end

    def resolve(self, ref: Any, env: Mapping[str, Any], scope: _Scope, where: str, field: str = "from") -> int:
        """The node an item's `from:` (or a merge's `inputs:` entry) names.

        A path may interpolate expressions (`cells.{i - 1}`), may start with `@`, and is looked
        up from the current scope outwards (`conv_1x1` inside `cell_3` is `cell_3.conv_1x1`).
        A block parameter holding a tensor reference may be named directly (`from: prev`)."""
        if isinstance(ref, str) and isinstance(env.get(ref.strip().lstrip("@")), TensorRef):
            return env[ref.strip().lstrip("@")].index  # a tensor parameter, written bare or as "@name"
        if not isinstance(ref, str) or not ref.strip():
            raise self.error(f"{field}: needs a layer path, got {ref!r}", where)
        text = ref.strip()
        if "{" in text:
            try:
                text = _INTERPOLATE.sub(lambda m: str(evaluate(m.group(1), env)), text)
            except ExprError as exc:
                raise self.error(f"{field}: {exc}", where) from None
        text = text.lstrip("@")
        parts = scope.prefix.split(".") if scope.prefix else []
        for depth in range(len(parts), -1, -1):
            candidate = ".".join([*parts[:depth], text])
            if candidate in self.paths:
                self._path_reads.append(self.paths[candidate])  # a block reading this is replayed only if it is its own
                return self.paths[candidate]
        raise self.error(f"{field}: no earlier layer or scope {text!r}{_suggest(text, self.paths)}", where)

    # items -------------------------------------------------------------------------------
    def sequence(self, items: Any, cur: int, env: Mapping[str, Any], scope: _Scope, stack: tuple[str, ...], where: str) -> int:
        if not isinstance(items, list):
            raise self.error(f"`layers` must be a list, got {type(items).__name__}", where)
        for item in items:
            cur = self.item(item, cur, env, scope, stack)
        return cur

    def item(self, item: Any, cur: int, env: Mapping[str, Any], scope: _Scope, stack: tuple[str, ...]) -> int:
        parsed = self.net.parsed.get(id(item))
        if parsed is None or parsed.item is not item:
            parsed = self.net.parsed[id(item)] = self.parse(item, scope)
        alias, holds = parsed.body.get("alias"), parsed.body.get("holds")
        if alias is None and holds is None:
            return self._item(parsed, cur, env, scope, stack)
        before = len(self.nodes)
        end = self._item(parsed, cur, env, scope, stack)
        if len(self.nodes) > before:
            if alias is not None:
                self.alias(alias, env, scope, before, named=parsed.explicit is not None)
            if holds is not None:
                self.hold(holds, env, scope, len(self.nodes) - 1)
        return end

    def hold(self, raw: Any, env: Mapping[str, Any], scope: _Scope, last: int) -> None:
        """`holds: [PATH, ...]`: tensors the reference's Python code keeps until the item's last
        layer has returned (a local variable not yet rebound: `out` in `return relu(out + x)`)."""
        where = self.nodes[last].name
        for ref in raw if isinstance(raw, list) else [raw]:
            self.holds.append((self.resolve(ref, env, scope, where, "holds"), last))

    def alias(self, raw: Any, env: Mapping[str, Any], scope: _Scope, first: int, named: bool) -> None:
        """`alias: conv{s}_{j + 1}`: the paper's name of the layer (or named scope) just built."""
        where = self.nodes[first].name
        if not isinstance(raw, str) or not raw.strip():
            raise self.error(f"alias: needs a name, got {raw!r}", where)
        try:
            text = _INTERPOLATE.sub(lambda m: str(evaluate(m.group(1), env)), raw.strip())
        except ExprError as exc:
            raise self.error(f"alias: {exc}", where) from None
        if len(self.nodes) - first == 1:
            target = where
        elif not named:
            raise self.error("alias: a block or sequential needs a name: to be aliased", where)
        else:  # a block or sequential: the scope holding all its rows
            parts = where.split(".")
            depth = len(scope.prefix.split(".")) + 1 if scope.prefix else 1
            target = ".".join(parts[:depth])
        if text in self.aliases and self.aliases[text] != target:
            raise self.error(f"alias {text!r} already names {self.aliases[text]}", where)
        self.aliases[text] = target

    def parse(self, item: Any, scope: _Scope) -> _Parsed:
        """What an item says regardless of where it is applied: its kind, name, fields, and for a
        layer its class and which fields are constants. Checked once per item and network."""
        if isinstance(item, str):
            kind, body = item.strip(), {}
        elif isinstance(item, dict) and len(item) == 1:
            kind, body = next(iter(item.items()))
            kind = str(kind)
            body = {} if body is None else body
            if not isinstance(body, dict):
                raise self.error(f"fields of {kind!r} must be a mapping, got {body!r}", scope.path(kind))
        else:
            raise self.error(
                f"each layer item is a type name or a one-key mapping `type: {{fields}}`, got {item!r}"[:300],
                scope.prefix,
            )
        explicit = body.get("name")
        if explicit is not None:  # `name: 0` is a name (YAML gives an int)
            if type(explicit) is not str:
                explicit = str(explicit) if type(explicit) is int else ""
            explicit = explicit.strip()
            if not explicit or "." in explicit:
                raise self.error(f"a layer name is a word or a number without dots, got {body.get('name')!r}", scope.path(kind))
        fields = {k: v for k, v in body.items() if k not in ITEM_COMMON}
        cls = None
        constants: tuple[tuple[str, Any, bool], ...] = ()
        if kind not in STRUCTURAL and kind not in self.net.blocks:
            cls = layer_class(kind)
            if cls is None:
                options = [*self.net.blocks, *STRUCTURAL, *REGISTRY, *ALIASES]
                raise self.error(f"unknown layer type or block {kind!r}{_suggest(kind, options)}", scope.path(kind))
            entries = []
            for k, v in fields.items():
                if k in ("inputs", "branches") and cls.arity is None:
                    continue
                field = cls.fields.get(k)
                if field is not None and isinstance(v, str) and (field.kind == "text" or v.strip() in field.keywords()):
                    entries.append((k, v.strip(), True))  # taken literally ("same", a text field)
                else:  # a number (or bool, null) means the same everywhere; an expression is evaluated where applied
                    entries.append((k, *_constant(v)))
            constants = tuple(entries)
        elif kind in self.net.blocks:
            # a block's arguments: a tensor ("@path"), a constant, or an expression of the caller's names
            constants = tuple((k, *_constant(v)) for k, v in fields.items())
        return _Parsed(item, kind, body, explicit, fields, cls, constants, all(c for _, _, c in constants))

    def _item(self, parsed: _Parsed, cur: int, env: Mapping[str, Any], scope: _Scope, stack: tuple[str, ...]) -> int:
        kind, body, explicit = parsed.kind, parsed.body, parsed.explicit
        if len(stack) > MAX_DEPTH:
            raise self.error(f"blocks nested more than {MAX_DEPTH} deep", scope.path(kind))
        if "when" in body:
            keep = self.value(body["when"], env, scope.path(explicit if explicit is not None else kind), "when")
            if not keep:
                return cur
        if "from" in body:
            cur = self.resolve(body["from"], env, scope, scope.path(explicit if explicit is not None else kind))

        cls = parsed.cls
        if cls is None:
            if kind in STRUCTURAL:
                return self.structural(kind, parsed.fields, explicit, cur, env, scope, stack)
            return self.block(kind, parsed, explicit, cur, env, scope, stack)

        local = scope.claim(str(explicit), self.file) if explicit is not None else scope.auto(cls.type)
        path = scope.path(local)
        inputs: tuple[int, ...] = (cur,)
        if cls.arity is None:
            fields = parsed.fields
            if ("branches" in fields) == ("inputs" in fields):
                raise self.error(f"{kind} merges tensors: give `branches:` (parallel paths) or `inputs:` (earlier layers)", path)
            if "inputs" in fields:
                inputs = self.inputs(fields["inputs"], env, scope, path)
            else:
                inputs = self.branches(fields["branches"], cur, env, scope, stack, path)
        if parsed.fixed:  # every field a constant: the same layer wherever the item is applied
            layer = self._fixed.get(id(parsed))
            if layer is None:
                layer = self._fixed[id(parsed)] = self.layer(cls, {k: v for k, v, _ in parsed.constants}, path)
            return self.add(path, cls.type, layer, inputs)
        values = {k: v if constant else self.value(v, env, path, k) for k, v, constant in parsed.constants}
        return self.add(path, cls.type, self.layer(cls, values, path), inputs)

    def inputs(self, refs: Any, env: Mapping[str, Any], scope: _Scope, path: str) -> tuple[int, ...]:
        """A merge's `inputs:`: layer paths, and entries `{times: N, var: j, path: P}` that stand
        for N paths, P interpolated with j = 0 .. N-1 (a list whose length is a parameter: a
        DenseNet layer concatenates the block input and every earlier layer's maps)."""
        if not isinstance(refs, list) or (len(refs) < 2 and not any(isinstance(r, dict) for r in refs)):
            raise self.error(f"inputs must be a list of at least 2 layer paths, got {refs!r}"[:300], path)
        out: list[int] = []
        for ref in refs:
            if not isinstance(ref, dict):
                out.append(self.resolve(ref, env, scope, path))
                continue
            unknown = set(ref) - {"times", "var", "path"}
            if unknown or "times" not in ref or "path" not in ref:
                raise self.error(f"an inputs entry is a layer path or {{times: N, var: j, path: P}}, got {ref!r}"[:300], path)
            times = self.value(ref["times"], env, path, "inputs")
            if isinstance(times, bool) or not isinstance(times, int) or not 0 <= times <= MAX_REPEAT:
                raise self.error(f"inputs: times must be an integer from 0 to {MAX_REPEAT}, got {times!r}", path)
            var = ref.get("var")
            local = dict(env)
            for k in range(times):
                if var:
                    local[str(var)] = k
                out.append(self.resolve(ref["path"], local, scope, path))
        if not out:
            raise self.error("inputs: no layer paths (every `times:` entry is 0)", path)
        return tuple(out)

    def layer(self, cls: Any, values: dict[str, Any], path: str) -> Any:
        """The layer of class ``cls`` with these field values: one object for equal values
        (layers are immutable once built; sharing them lets shapes and costs be reused)."""
        key = (cls, *sorted((k, _hashable(v)) for k, v in values.items()))
        try:
            layer = self._layers.get(key)
        except TypeError:  # a value no layer accepts (a mapping, ...): the constructor says why
            key, layer = None, None
        if layer is None:
            try:
                layer = cls(**values)
                if key is not None:
                    self._layers[key] = layer
            except LayerError as exc:
                raise self.error(str(exc), path) from None
        return layer

    def value(self, raw: Any, env: Mapping[str, Any], path: str, fieldname: str) -> Any:
        try:
            return evaluate(raw, env)
        except ExprError as exc:
            raise self.error(f"{fieldname}: {exc}", path) from None
        except RecursionError:
            raise self.error(f"{fieldname}: expression nested too deeply", path) from None

    def branches(self, raw: Any, cur: int, env: Mapping[str, Any], scope: _Scope, stack: tuple[str, ...], path: str) -> tuple[int, ...]:
        if isinstance(raw, dict):
            named = list(raw.items())
        elif isinstance(raw, list):
            named = [(None, b) for b in raw]
        else:
            raise self.error("branches must be a list of layer lists, or a mapping name -> layer list", path)
        if len(named) < 2:
            raise self.error(f"a merge needs at least 2 branches, got {len(named)}", path)
        ends = []
        for name, body in named:
            if isinstance(body, dict) and "layers" in body and len(body) <= 2:
                name, body = body.get("name", name), body["layers"]
            if body is None:
                body = []
            if name is None:
                ends.append(self.sequence(body, cur, env, scope, stack, path))
            else:
                sub = _Scope(scope.path(scope.claim(str(name), self.file)))
                ends.append(self.scoped(body, cur, env, sub, stack, sub.prefix))
        return tuple(ends)

    def structural(self, kind: str, fields: dict[str, Any], explicit: Any, cur: int, env: Mapping[str, Any], scope: _Scope, stack: tuple[str, ...]) -> int:
        allowed = {"repeat": {"layers", "times", "var", "names"}, "side": {"layers", "inference"}}.get(kind, {"layers", "index"})
        where = scope.path(explicit if explicit is not None else kind)
        for k in fields:
            if k not in allowed:
                raise self.error(f"unknown field {k!r} for {kind}{_suggest(k, allowed)}", where)
        if "layers" not in fields:
            raise self.error(f"{kind} needs `layers:`", where)
        indexed = self.value(fields.get("index", False), env, where, "index")
        if not isinstance(indexed, bool) or (indexed and explicit is None):
            raise self.error(f"index: true or false, on a named sequential, got {fields.get('index')!r}", where)
        sub = _Scope(scope.path(scope.claim(str(explicit), self.file)), indexed) if explicit is not None else scope
        if kind == "sequential":
            return self.scoped(fields["layers"], cur, env, sub, stack, where)
        if kind == "side":
            return self.side(fields, cur, env, sub, stack, where)
        times = self.value(fields.get("times", 1), env, where, "times")
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise self.error(f"times must be a non-negative integer, got {times!r}", where)
        if times > MAX_REPEAT:
            raise self.error(f"times {times} is absurd (limit {MAX_REPEAT})", where)
        var = fields.get("var")
        for k in range(times):
            local_env = {**env, str(var): k} if var else env
            if explicit is not None:
                iteration = _Scope(sub.path(self.iteration_name(fields, k, local_env, where)))
            elif "names" in fields:  # iterations named in the enclosing scope (a block's `denselayer1` ...)
                iteration = _Scope(scope.path(scope.claim(self.iteration_name(fields, k, local_env, where), self.file)))
            else:
                iteration = sub
            cur = self.scoped(fields["layers"], cur, local_env, iteration, stack, where)
        if explicit is not None:
            self.paths[sub.prefix] = cur
        return cur

    def iteration_name(self, fields: dict[str, Any], k: int, env: Mapping[str, Any], where: str) -> str:
        """A named repeat's k-th scope: `k`, or its `names:` template (`denselayer{i + 1}`)."""
        template = fields.get("names")
        if template is None:
            return str(k)
        try:
            name = _INTERPOLATE.sub(lambda m: str(evaluate(m.group(1), env)), str(template))
        except ExprError as exc:
            raise self.error(f"names: {exc}", where) from None
        if not name or "." in name:
            raise self.error(f"names: a word or a number without dots, got {name!r}", where)
        return name

    def side(self, fields: dict[str, Any], cur: int, env: Mapping[str, Any], scope: _Scope, stack: tuple[str, ...], where: str) -> int:
        """A branch off the main path whose end is an extra output (an auxiliary classifier).
        With `inference: false` its layers exist (parameters count) but do not run at inference,
        as torchvision's GoogLeNet and Inception v3 heads in eval mode."""
        inference = self.value(fields.get("inference", True), env, where, "inference")
        if not isinstance(inference, bool):
            raise self.error(f"inference must be true or false, got {inference!r}", where)
        outer, self.executed = self.executed, self.executed and inference
        try:
            end = self.sequence(fields["layers"], cur, env, scope, stack, where)
        finally:
            self.executed = outer
        if end != cur:
            node = self.nodes[end]
            self.nodes[end] = node._replace(output=True)
        return cur

    def block(self, kind: str, parsed: _Parsed, explicit: Any, cur: int, env: Mapping[str, Any], scope: _Scope, stack: tuple[str, ...]) -> int:
        where = scope.path(explicit if explicit is not None else kind)
        if kind in stack:
            raise self.error(f"recursive block: {' -> '.join([*stack, kind])}", where)
        definition = self.net.blocks[kind]
        declared = self.declared(kind, where)
        given = {}
        for k, v, constant in parsed.constants:
            if k not in declared:
                raise self.error(f"block {kind} has no parameter {k!r}{_suggest(k, declared)}", where)
            given[k] = (v, constant)
        block_env = dict(self.global_env)
        for k, (default, _, _) in declared.items():
            if k in given:
                v, constant = given[k]
                if constant:
                    block_env[k] = v
                elif isinstance(v, str) and v.strip().startswith("@"):
                    index = self.resolve(v, env, scope, where)
                    block_env[k] = TensorRef(index, self.nodes[index].name)
                else:
                    block_env[k] = self.value(v, env, where, k)
            elif default is None:
                raise self.error(f"block {kind} needs parameter {k!r}", where)
        for k, (default, constant, value) in declared.items():  # defaults may refer to other parameters
            if k not in given:
                block_env[k] = value if constant else self.value(default, block_env, where, k)
        sub = _Scope(scope.path(scope.claim(str(explicit), self.file))) if explicit is not None else scope
        arguments = [block_env[k] for k in declared]
        externals = [cur, *(v.index for v in arguments if isinstance(v, TensorRef))]
        key = self._template_key(kind, arguments, externals, sub)
        template = self._templates.get(key) if key is not None else None
        if key is not None and key not in self._templates and self._network_key is not None:
            template = self.net.templates.get((self._network_key, key))  # from an earlier compile
            if template is not None:
                self._templates[key] = template
        if isinstance(template, _Application):  # seen once: record it now that it repeats
            template = self._templates[key] = self._record(template)
        if template is not None:
            return self._replay(template, externals, sub)
        start, named, aliases, reads = len(self.nodes), len(self.paths), len(self.aliases), len(self._path_reads)
        holds = len(self.holds)
        end = self.scoped(definition["layers"], cur, block_env, sub, (*stack, kind), where)
        if key is not None:
            # replayable unless it looked up a tensor outside itself by path, or set aliases
            outside = any(i < start for i in self._path_reads[reads:]) or len(self.aliases) != aliases
            self._templates[key] = None if outside else _Application(
                start, len(self.nodes), named, len(self.paths), end, tuple(externals), sub.prefix,
                frozenset(sub.used), dict(sub.counters), sub.next_index, holds, len(self.holds))
        return end

    def share(self) -> None:
        """Keep this compile's block templates with the network definition, for the next compile
        with the same network parameters (a sweep over inputs, `analyze` called again): blocks
        applied to shapes seen before are then replayed even the first time in that compile. A
        network's first compile keeps only the templates it recorded anyway (blocks that
        repeated); from its second on, every replayable block is recorded."""
        if self._network_key is None:
            return
        shared = self.net.templates
        if len(shared) > MAX_SHARED_TEMPLATES:
            shared.clear()
        for key, template in self._templates.items():
            if isinstance(template, _Application):
                if not self.net.compiled:
                    continue
                template = self._record(template)
            if template is not None:
                shared[(self._network_key, key)] = template
        self.net.compiled += 1

    def declared(self, kind: str, where: str) -> dict[str, tuple[Any, bool, Any]]:
        """A block's parameters: name -> (default as written, whether it is a constant, its value)."""
        found = self._declared.get(kind)
        if found is None:
            raw = self.net.blocks[kind].get("params") or {}
            if not isinstance(raw, dict):
                raise self.error(f"params of block {kind!r} must be a mapping name -> default (null = required)", where)
            found = self._declared[kind] = {}
            for k, default in raw.items():  # null: a required parameter, no value
                value, constant = _constant(default) if default is not None else (None, False)
                found[k] = (default, constant, value)
        return found

    # Block templates: ResNet-152 applies the same bottleneck with the same arguments to the same
    # shape 33 times, NASNet-A the same cell to the same two tensors' shapes 5 times a stage. The
    # first application is interpreted item by item and recorded; later ones replay the recorded
    # layers (their shapes and costs as recorded, receptive fields and storage recomputed from
    # their own inputs), which skips interpreting the block's items again.
    def _template_key(self, kind: str, arguments: list[Any], externals: list[int], sub: _Scope) -> Any:
        """Everything a block's layers depend on besides the network's parameters (the same all
        build), or None where a replay could differ (a scope that already holds names, an
        unhashable value). ``arguments`` are its parameters' values in declared order;
        ``externals`` the tensors it reads from outside: its input, then its tensor parameters.
        The key holds their shapes and which of them are the same tensor, not which they are."""
        if sub.used or sub.counters or sub.next_index:
            return None
        try:
            values = tuple([TensorRef if isinstance(v, TensorRef) else _hashable(v) for v in arguments])
            key = (kind, values, tuple([self.nodes[i].shape for i in externals]),
                   tuple([externals.index(i) for i in externals]), self.executed, sub.indexed)
            hash(key)
        except TypeError:
            return None
        return key

    def _record(self, app: _Application) -> _Template | None:
        """The layers a block's first application added, relative to its external tensors and
        scope; None if they cannot be replayed."""
        prefix = f"{app.prefix}." if app.prefix else ""
        start, stop, externals = app.start, app.stop, app.externals
        cut = len(prefix)

        def ref(index: int) -> int:
            if index >= start:
                return index - start
            if index in externals:
                return -1 - externals.index(index)
            raise _NotReplayable

        try:
            recorded = []
            for n in self.nodes[start:stop]:
                if not n.name.startswith(prefix):
                    raise _NotReplayable
                applied = (n.shape, n.cost, self.windows[n.index], n.storage != n.index)
                recorded.append((n.name[cut:], n.type, n.layer, tuple([ref(i) for i in n.inputs]), n.executed, n.output, applied))
            # the paths the block named were added while it ran (its scope was fresh)
            paths = []
            for p, i in itertools.islice(self.paths.items(), app.named, app.named_stop):
                if start <= i < stop and p.startswith(prefix):
                    paths.append((p[cut:], ref(i)))
            held = tuple([(ref(t), ref(n)) for t, n in self.holds[app.holds:app.holds_stop]])
            return _Template(tuple(recorded), tuple(paths), ref(app.end), app.used, app.counters, app.next_index, held)
        except _NotReplayable:
            return None

    def _replay(self, template: _Template, externals: list[int], sub: _Scope) -> int:
        prefix = f"{sub.prefix}." if sub.prefix else ""
        start = len(self.nodes)

        def at(ref: int) -> int:
            return start + ref if ref >= 0 else externals[-1 - ref]

        outer = self.executed
        try:
            for name, type_name, layer, inputs, executed, output, applied in template.nodes:
                self.executed = executed
                # the same layers on the same input shapes: shapes and costs as recorded
                index = self.append(prefix + name, type_name, layer,
                                    tuple([start + r if r >= 0 else externals[-1 - r] for r in inputs]), applied)
                if output:
                    self.nodes[index] = self.nodes[index]._replace(output=True)
        finally:
            self.executed = outer
        for path, ref in template.paths:
            self.paths[prefix + path] = at(ref)
        self.holds.extend([(at(t), at(n)) for t, n in template.holds])
        sub.used |= template.used
        sub.counters.update(template.counters)
        sub.next_index = template.next_index
        end = at(template.end)
        if sub.prefix:  # as `scoped` does: the scope's path names its output
            self.paths[sub.prefix] = end
        return end


@dataclass(frozen=True)
class _Application:
    """A block's first application, by position: recorded as a template only if it repeats."""

    start: int  # its first node
    stop: int  # one past its last node
    named: int  # paths named before it ran
    named_stop: int  # paths named when it returned
    end: int  # its output node
    externals: tuple[int, ...]  # its input, then its tensor parameters
    prefix: str  # its scope
    used: frozenset[str]  # the scope's state when it returned
    counters: dict[str, int]
    next_index: int
    holds: int  # its `holds:` entries: self.holds[holds:holds_stop]
    holds_stop: int


def _constant(value: Any) -> tuple[Any, bool]:
    """(its value, True) for a YAML scalar that means the same wherever it is used (a number,
    bool or null); (value as written, False) for an expression, a list or a mapping, and for a
    scalar that is invalid (its error is reported where it is used, with the layer's path)."""
    if isinstance(value, (str, list, dict)):
        return value, False
    try:
        return evaluate(value, {}), True
    except ExprError:
        return value, False


#: block templates a network definition keeps between compiles, at most (then it starts afresh)
MAX_SHARED_TEMPLATES = 2_000  # a few MB: a sweep of many shapes or parameters starts afresh now and then


class _Parsed(NamedTuple):
    """One spec item as written, checked once (``_Builder.parse``)."""

    item: Any  # the item itself (the cache is keyed by its id)
    kind: str  # a layer type, a block, or repeat / sequential / side
    body: dict[str, Any]
    explicit: str | None  # its `name:`
    fields: dict[str, Any]  # everything but ITEM_COMMON (name, when, from, alias, holds)
    cls: Any  # the layer class (None for a block or structural item)
    constants: tuple[tuple[str, Any, bool], ...]  # a layer's fields: (name, value, taken as written)
    fixed: bool  # every field taken as written: one layer wherever the item is applied


class _NotReplayable(Exception):
    """A recorded block reads something outside itself: it is interpreted every time."""


@dataclass(frozen=True)
class _Template:
    nodes: tuple[tuple[Any, ...], ...]  # (relative name, type, layer, input refs, executed, output, applied)
    paths: tuple[tuple[str, int], ...]  # scope and layer paths the block named -> node refs
    end: int  # the block's output (-1 - k: its k-th external tensor, -1 its input)
    used: frozenset[str]  # the names the block claimed in its scope, to claim them again
    counters: dict[str, int]
    next_index: int
    holds: tuple[tuple[int, int], ...] = ()  # `holds:` entries, as (tensor, node) refs


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else (type(value), value)


def resolve_params(net: NetworkDef, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Network parameters, with overrides applied; later parameters may use earlier ones.
    Declared symbols come first, so parameters may be expressions of them."""
    env: dict[str, Any] = {}
    if net.symbols:
        from .symbolic import symbols

        env.update(symbols(net.symbols))
    unknown = set(overrides or {}) - set(net.params)
    if unknown:
        name = sorted(unknown)[0]
        raise SpecError(f"--param {name}: {net.name} has no parameter {name!r}{_suggest(name, net.params)} (parameters: {', '.join(net.params) or 'none'})")
    for k, v in net.params.items():
        raw = (overrides or {}).get(k, v)
        if raw is None:  # a required parameter (one block analysed alone)
            raise SpecError(f"needs parameter {k!r}: --param {k}=VALUE", file=net.file, layer=net.name)
        try:
            env[k] = evaluate(raw, env)
        except ExprError as exc:
            if k in (overrides or {}):
                raise SpecError(f"--param {k}={raw}: {exc}") from None
            raise SpecError(f"params.{k}: {exc}", file=net.file, layer=net.name) from None
    return env


def _options(input: str | Shape | None, params: Mapping[str, Any] | None) -> str:
    """The command-line options a build was given, as the user typed them."""
    shown = [] if input is None else [f"--input {input if isinstance(input, str) else 'x'.join(map(str, (*input[1:], input[0])))}"]
    return " ".join([*shown, *(f"--param {k}={v}" for k, v in (params or {}).items())])


def build(net: NetworkDef, input: str | Shape | None = None, params: Mapping[str, Any] | None = None) -> Graph:
    """Compile a network definition to a graph, for an optional input override and parameters.

    Errors name their true source: a bad ``input`` blames the option, and a layer that fails
    only with the given input or parameters (the spec builds as written) names them first."""
    with gcpause.paused():
        return _guarded_build(net, input, params)


def _guarded_build(net: NetworkDef, input: str | Shape | None, params: Mapping[str, Any] | None) -> Graph:
    try:
        return _build(net, input, params)
    except SpecError as err:
        if (input is None and not params) or err.message.startswith(("--input", "--param")):
            raise
        if net.input is None:  # one block alone: its input and parameters all come from options
            raise SpecError(f"{_options(input, params)}: {err}") from None
        try:
            _build(net, None, None)
        except SpecError:
            raise err from None  # the spec fails as written too: its own error
        raise SpecError(f"{_options(input, params)}: {err}") from None


def _build(net: NetworkDef, input: str | Shape | None, params: Mapping[str, Any] | None) -> Graph:
    env = resolve_params(net, params)
    if input is None and net.input is None:
        raise SpecError("needs an input volume: --input HxWxC (e.g. 56x56x256)", layer=net.name)
    try:
        if input is None:
            shape = _input_shape(net.input, env)
        elif isinstance(input, tuple):
            shape = input
        else:
            shape = parse_volume(input)
    except ExprError as exc:
        if input is not None:  # the option is wrong, not the spec file
            raise SpecError(f"--input {input}: {exc}") from None
        raise SpecError(f"input: {exc}", file=net.file, layer=net.name) from None
    builder = _Builder(net, env, shape)
    builder.sequence(net.layers, 0, env, _Scope(""), (), net.name)
    builder.share()
    meta = {"description": net.description, **net.meta, "aliases": builder.aliases}
    return Graph(net.name, builder.nodes, source=net.file, meta=meta, holds=tuple(builder.holds))

"""Low-rank adapters (LoRA): fine-tune a frozen model through a few small matrices.

Taught in notebook 09 (LoRA).

Full fine-tuning changes every weight matrix ``W`` of shape ``(out, in)``. LoRA (Hu et al. 2021)
freezes ``W`` and learns the change as a product of two thin matrices,
``ΔW = B @ A * scaling`` with ``A`` ``(r, in)`` and ``B`` ``(out, r)`` for a small rank ``r``:
``r * (in + out)`` numbers to train and store instead of ``in * out``.

- `LoRALinear` wraps one ``nn.Linear`` and holds any number of named adapters;
- `add_lora` wraps a model's layers by name (``q_proj``, ``v_proj``, ... or ``"all-linear"``)
  and freezes everything else; `set_adapter` and `disable_adapter` choose what runs;
- `merge` / `unmerge` fold the active adapter into the base weights and take it out again;
- `tinyllm.lora_file` writes and reads one adapter alone (kilobytes, safetensors).

Names and numbers follow Hugging Face's peft (``lora_A``, ``lora_B``, ``scaling = alpha / r``,
the same initialisation); the tests check that both compute the same outputs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from tinyllm.quantize import Int8Linear


@dataclass(frozen=True)
class LoRAConfig:
    """The hyper-parameters of one adapter.

    Attributes:
        r: the rank: ``A`` is ``(r, in_features)``, ``B`` is ``(out_features, r)``.
        alpha: sets the size of the update through `scaling`.
        dropout: dropout probability on the adapter's input (the base layer sees ``x`` as is).
        use_rslora: scale by ``alpha / sqrt(r)`` (rank-stabilised LoRA) instead of ``alpha / r``.
    """

    r: int = 8
    alpha: float = 16
    dropout: float = 0.0
    use_rslora: bool = False

    @property
    def scaling(self) -> float:
        # alpha / r: changing r then needs no new learning rate (Hu et al.). Kalajdzievski (2023)
        # showed that this shrinks the update too much at large r, so that higher ranks learn no
        # better than low ones; alpha / sqrt(r) keeps its size stable as r grows.
        return self.alpha / (math.sqrt(self.r) if self.use_rslora else self.r)


class LoRALinear(nn.Module):
    """An ``nn.Linear`` plus named low-rank adapters: ``base(x) + B(A(dropout(x))) * scaling``.

    The wrapped layer stays, unchanged, as ``base_layer`` (an ``nn.Linear``, or an `Int8Linear`:
    a quantised base under float adapters, as in QLoRA). Each adapter ``name`` adds
    ``lora_A[name]`` (an ``nn.Linear(in_features, r)``, weight ``(r, in_features)``) and
    ``lora_B[name]`` (``nn.Linear(r, out_features)``, weight ``(out_features, r)``), without
    biases, under the names peft uses. At most one adapter runs at a time: ``active``.
    """

    def __init__(self, base_layer: nn.Linear | Int8Linear) -> None:
        super().__init__()
        self.base_layer = base_layer
        self.lora_A = nn.ModuleDict()
        self.lora_B = nn.ModuleDict()
        self.lora_dropout = nn.ModuleDict()
        self.configs: dict[str, LoRAConfig] = {}
        self.active: str | None = None  # the adapter the forward adds; None: the base alone
        self.merged = False  # the active adapter's update is inside base_layer.weight

    def add_adapter(self, name: str, config: LoRAConfig) -> None:
        """Add adapter ``name``, initialised so that it changes nothing yet."""
        weight = self.base_layer.weight
        like = dict(bias=False, device=weight.device, dtype=weight.dtype)
        self.lora_A[name] = nn.Linear(self.base_layer.in_features, config.r, **like)
        self.lora_B[name] = nn.Linear(config.r, self.base_layer.out_features, **like)
        # peft's (and nn.Linear's) initialisation: uniform in +-1/sqrt(in_features).
        nn.init.kaiming_uniform_(self.lora_A[name].weight, a=math.sqrt(5))
        # B = 0 makes B @ A = 0: at step 0 the adapted model *is* the base model, and training
        # starts from the model we meant to fine-tune. A must not be zero as well: with both
        # zero, neither would ever receive a gradient.
        nn.init.zeros_(self.lora_B[name].weight)
        self.lora_dropout[name] = nn.Dropout(config.dropout)
        self.configs[name] = config

    def delta_weight(self, name: str) -> torch.Tensor:
        """``B @ A * scaling``, ``(out_features, in_features)``: what adapter ``name`` adds."""
        return self.lora_B[name].weight @ self.lora_A[name].weight * self.configs[name].scaling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in_features)`` -> ``(..., out_features)``."""
        out = self.base_layer(x)
        if self.active is None or self.merged:
            return out
        name = self.active
        # Two thin matmuls, x @ A^T then @ B^T: r * (in + out) multiply-adds per token, a
        # fraction of the base layer's in * out.
        update = self.lora_B[name](self.lora_A[name](self.lora_dropout[name](x)))
        return out + update * self.configs[name].scaling


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """The model's `LoRALinear` layers by module name (``"layers.0.self_attn.q_proj"``, ...)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def linear_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Every layer an adapter can be added to, by module name: the ``nn.Linear`` and
    `Int8Linear` layers, those already wrapped as their `LoRALinear` (not the layers inside it)."""
    layers: dict[str, nn.Module] = {}
    for name, module in model.named_modules():  # a parent comes before its children
        inside = any(name.startswith(f"{w}.") for w in layers if isinstance(layers[w], LoRALinear))
        if isinstance(module, (nn.Linear, Int8Linear, LoRALinear)) and not inside:
            layers[name] = module
    return layers


def adapter_names(model: nn.Module) -> list[str]:
    """The names of the adapters on ``model``, sorted."""
    return sorted({name for layer in lora_layers(model).values() for name in layer.configs})


def add_lora(
    model: nn.Module, name: str = "default", r: int = 8, alpha: float = 16, dropout: float = 0.0,
    targets: tuple[str, ...] | str = ("q_proj", "v_proj"), use_rslora: bool = False,
) -> list[str]:
    """Add adapter ``name`` (see `LoRAConfig` for ``r``, ``alpha``, ``dropout``, ``use_rslora``)
    to the linear layers named by ``targets``, freeze everything else, and make it active.

    ``model`` is changed in place: each target ``nn.Linear`` is replaced by a `LoRALinear`
    around it. ``targets`` are module-name suffixes (``"q_proj"`` matches
    ``layers.0.self_attn.q_proj``), as a tuple or one string (``"q_proj, v_proj"``: a recipe's
    ``lora_targets``), or ``"all-linear"``: every linear layer but ``lm_head``.
    Returns the names of the layers that got the adapter.
    """
    if r < 1:
        raise ValueError(f"r is the rank of the update and must be at least 1, got r={r}; try r=8")
    if name in adapter_names(model):
        raise ValueError(f"the model already has an adapter named {name!r}; pick another name")
    require_unmerged(model, "add an adapter")
    layers = linear_layers(model)
    if targets == "all-linear":
        # The output head is left out (as peft does): its rows are the vocabulary, and with
        # tied embeddings merging into it would change the input embedding as well.
        chosen, unmatched = [n for n in layers if n.rpartition(".")[2] != "lm_head"], []
    else:
        targets = tuple(t.strip() for t in targets.split(",")) if isinstance(targets, str) else tuple(targets)
        matches = {t: [n for n in layers if n == t or n.endswith(f".{t}")] for t in targets}
        chosen = [n for n in layers if any(n in names for names in matches.values())]
        # Each target must match: a typo ("v_prj") would otherwise adapt fewer layers, silently.
        unmatched = [t for t, names in matches.items() if not names]
    if not chosen or unmatched:
        kinds = sorted({n.rpartition(".")[2] for n in layers})
        raise ValueError(
            f"no linear layer matches targets={tuple(unmatched) or targets!r}; this model's linear layers "
            f"are named {kinds}: pass some of these names, or targets='all-linear'"
        )
    config = LoRAConfig(r=r, alpha=alpha, dropout=dropout, use_rslora=use_rslora)
    for module_name in chosen:
        layer = layers[module_name]
        if not isinstance(layer, LoRALinear):
            layer = LoRALinear(layer)
            parent, _, child = module_name.rpartition(".")
            setattr(model.get_submodule(parent), child, layer)
        layer.add_adapter(name, config)
    for p in model.parameters():
        p.requires_grad_(False)  # the base stays as it is; set_adapter unfreezes the adapter
    set_adapter(model, name)
    return chosen


def set_adapter(model: nn.Module, name: str) -> None:
    """Make adapter ``name`` the one that runs (layers without it run as their base layer) and
    the only one that trains."""
    if name not in adapter_names(model):
        raise ValueError(f"no adapter named {name!r}; the model has {adapter_names(model)}")
    require_unmerged(model, "switch adapters")
    for layer in lora_layers(model).values():
        layer.active = name if name in layer.configs else None
        for adapter in layer.configs:
            layer.lora_A[adapter].weight.requires_grad_(adapter == name)
            layer.lora_B[adapter].weight.requires_grad_(adapter == name)


@contextmanager
def disable_adapter(model: nn.Module) -> Iterator[nn.Module]:
    """Inside the ``with`` block, ``model`` is the base model alone; afterwards the adapter that
    was active runs again, also when the block raised.

    The RLHF chapter uses this as its reference model: the policy without its adapter, with no
    second copy of the weights.
    """
    require_unmerged(model, "disable the adapter")
    active = {layer: layer.active for layer in lora_layers(model).values()}
    for layer in active:
        layer.active = None
    try:
        yield model
    finally:
        for layer, name in active.items():
            layer.active = name


@torch.no_grad()
def merge(model: nn.Module) -> None:
    """Add the active adapter's ``B @ A * scaling`` into each base weight; the forward then skips
    the adapter, so the model runs as fast as the base.

    Merging twice is an error (it would add the update twice): `unmerge` first. So is merging
    into an `Int8Linear` base: rounding the sum to int8 would lose most of the small update.
    """
    require_unmerged(model, "merge")
    if any(isinstance(layer.base_layer, Int8Linear) for layer in lora_layers(model).values()):
        raise ValueError("cannot merge an adapter into an int8 base: rounding would lose the "
                         "update; keep the adapter separate, or merge into a float copy of the base")
    uses = Counter(id(p) for _, p in model.named_parameters(remove_duplicate=False))
    tied = [n for n, layer in lora_layers(model).items()
            if layer.active is not None and uses[id(layer.base_layer.weight)] > 1]
    if tied:
        raise ValueError(f"cannot merge into {tied}: the weight is tied to another layer (lm_head to "
                         "embed_tokens), which the update would change too; keep the adapter separate")
    for layer in lora_layers(model).values():
        if layer.active is not None:
            layer.base_layer.weight += layer.delta_weight(layer.active)
            layer.merged = True


@torch.no_grad()
def unmerge(model: nn.Module) -> None:
    """Subtract the merged update again: the base weights come back, up to float rounding."""
    merged = [layer for layer in lora_layers(model).values() if layer.merged]
    if not merged:
        raise ValueError("no adapter is merged, so there is nothing to unmerge")
    for layer in merged:
        layer.base_layer.weight -= layer.delta_weight(layer.active)
        layer.merged = False


def require_unmerged(model: nn.Module, action: str) -> None:
    if any(layer.merged for layer in lora_layers(model).values()):
        raise ValueError(
            f"cannot {action} while an adapter is merged into the base weights; "
            "call unmerge(model) first"
        )


def count_trainable(model: nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts; a tied weight counts once."""
    params = list(model.parameters())  # parameters() yields a shared tensor once
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def lora_state_dict(model: nn.Module, name: str) -> dict[str, torch.Tensor]:
    """The weights of adapter ``name`` alone: ``"<module>.lora_A.weight"`` ``(r, in_features)``
    and ``"<module>.lora_B.weight"`` ``(out_features, r)`` for each layer that carries it.

    The keys leave the adapter's name out (as peft's files do), so a file can be loaded under
    another name. The tensors share memory with the parameters.
    """
    state = {}
    for module_name, layer in lora_layers(model).items():
        if name in layer.configs:
            state[f"{module_name}.lora_A.weight"] = layer.lora_A[name].weight.detach()
            state[f"{module_name}.lora_B.weight"] = layer.lora_B[name].weight.detach()
    if not state:
        raise ValueError(f"no adapter named {name!r}; the model has {adapter_names(model)}")
    return state

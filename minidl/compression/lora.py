"""LoRA: fine-tuning a frozen network through small low-rank corrections of its weight matrices.

A pretrained weight W (out × in) stays frozen; the update is learned in factored form,

    W' = W + (α / r) · B A,      A: r × in,  B: out × r,  r ≪ min(in, out),

so a layer trains r·(in + out) numbers instead of in·out. A starts like a Linear weight
(kaiming-uniform), B at zero: the adapted network starts as exactly the pretrained one.
:class:`LoRALinear` computes y = x Wᵀ + b + (α/r) · (x Aᵀ) Bᵀ without forming B A; after
training, :meth:`LoRALinear.merge` adds (α/r) B A into W once, and inference costs nothing extra.

``nn.MultiheadAttention`` keeps its query, key and value projections packed in one
``in_proj_weight`` (3E × E) that it multiplies directly. That matrix is three projections, so
each adapted one (by default q and v, as in the LoRA paper) gets its own pair A, B, and the
packed weight is recomputed before each forward (a forward pre-hook, the layout pruning uses):

    in_proj_weight = in_proj_weight_orig + (α/r) · [B_q A_q ; 0 ; B_v A_v]

:func:`apply_lora` adapts the modules whose names match (peft's rule: a list of names matches a
module named exactly so or ending in ".name"; a string is a regular expression for the full name),
freezes every other parameter except those of ``modules_to_save``, and :func:`merge_and_unload`
folds every adapter into its weight and gives back the plain layers (the original state-dict keys).
"""

from __future__ import annotations

import math
import re

from minidl.core import creation, no_grad
from minidl.core.arguments import number, positive_size, probability
from minidl.nn import init
from minidl.nn.attention import MultiheadAttention
from minidl.nn.layers import Dropout, Identity, Linear
from minidl.nn.module import Module, Parameter
from minidl.ops.shape import cat

PROJECTIONS = "qkv"


def _adapter_pair(owner, suffix, rank, in_features, out_features, like):
    """Register lora_A<suffix> (r × in, kaiming-uniform) and lora_B<suffix> (out × r, zeros) on ``owner``."""
    factory = {"dtype": like.dtype, "device": like.device}
    a = Parameter(creation.empty(rank, in_features, **factory))
    init.kaiming_uniform_(a, a=math.sqrt(5))
    owner.register_parameter("lora_A" + suffix, a)
    owner.register_parameter("lora_B" + suffix, Parameter(creation.zeros(out_features, rank, **factory)))


class LoRALinear(Module):
    """y = base(x) + (α/r) · B A dropout(x), with ``base`` a frozen Linear; after :meth:`merge`, y = base(x)."""

    def __init__(self, base, r=8, lora_alpha=16, lora_dropout=0.0):
        super().__init__()
        if not isinstance(base, Linear):
            raise TypeError(f"LoRALinear: base must be an nn.Linear, got {type(base).__name__}")
        self.r = positive_size(r, "LoRALinear", "r")
        self.lora_alpha = number(lora_alpha, "LoRALinear", "lora_alpha", above=0.0)
        self.scaling = self.lora_alpha / self.r
        self.merged = False
        self.base = base
        base.requires_grad_(False)
        _adapter_pair(self, "", self.r, base.in_features, base.out_features, base.weight)
        p = probability(lora_dropout, "LoRALinear", "lora_dropout")
        self.lora_dropout = Dropout(p) if p else Identity()

    def delta_weight(self):
        """(α/r) · B A, the change the adapter makes to the base weight (out × in)."""
        return (self.lora_B @ self.lora_A) * self.scaling

    def forward(self, x):
        y = self.base(x)
        if self.merged:
            return y
        return y + (self.lora_dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scaling

    def merge(self):
        """Add the adapter into the base weight: afterwards forward is the base layer alone."""
        if not self.merged:
            with no_grad():
                self.base.weight.array += self.delta_weight().array
            self.base.weight._modified()
            self.merged = True
        return self

    def unmerge(self):
        """Take the adapter back out of the base weight (up to rounding)."""
        if self.merged:
            with no_grad():
                self.base.weight.array -= self.delta_weight().array
            self.base.weight._modified()
            self.merged = False
        return self

    def extra_repr(self):
        return f"r={self.r}, lora_alpha={self.lora_alpha:g}, merged={self.merged}"


class LoRAInProjection:
    """The forward pre-hook of an adapted MultiheadAttention: recomputes its packed ``in_proj_weight``
    from the frozen ``in_proj_weight_orig`` and the adapters of the chosen projections (q, k, v)."""

    def __init__(self, projections, r, lora_alpha):
        self.projections, self.r, self.lora_alpha = projections, r, lora_alpha
        self.scaling = lora_alpha / r
        self.merged = False

    def delta_weight(self, module):
        """(α/r) · [B_q A_q ; B_k A_k ; B_v A_v], with zero blocks for the projections not adapted (3E × E)."""
        e = module.embed_dim
        blocks = [getattr(module, "lora_B_" + p) @ getattr(module, "lora_A_" + p) if p in self.projections
                  else creation.zeros(e, e, dtype=module.in_proj_weight_orig.dtype,
                                      device=module.in_proj_weight_orig.device)
                  for p in PROJECTIONS]
        return cat(blocks, dim=0) * self.scaling

    def __call__(self, module, inputs):
        orig = module.in_proj_weight_orig
        module.in_proj_weight = orig.detach() if self.merged else orig + self.delta_weight(module)

    def merge(self, module):
        if not self.merged:
            with no_grad():
                module.in_proj_weight_orig.array = module.in_proj_weight_orig.array + self.delta_weight(module).array
            self.merged = True

    def unmerge(self, module):
        if self.merged:
            with no_grad():
                module.in_proj_weight_orig.array = module.in_proj_weight_orig.array - self.delta_weight(module).array
            self.merged = False


def lora_in_projection(attention, r=8, lora_alpha=16, projections="qv"):
    """Adapt the packed query/key/value projection of ``attention`` (a MultiheadAttention) in place;
    its weight and bias are frozen (``out_proj`` is a Linear of its own: adapt it with LoRALinear)."""
    if not isinstance(attention, MultiheadAttention):
        raise TypeError(f"lora_in_projection: expected an nn.MultiheadAttention, got {type(attention).__name__}")
    if _in_projection_hook(attention) is not None:
        raise ValueError("lora_in_projection: this MultiheadAttention already has LoRA adapters")
    if not projections or set(projections) - set(PROJECTIONS) or len(set(projections)) != len(projections):
        raise ValueError(f"lora_in_projection: projections must be distinct letters of 'qkv', got {projections!r}")
    r = positive_size(r, "lora_in_projection", "r")
    lora_alpha = number(lora_alpha, "lora_in_projection", "lora_alpha", above=0.0)
    weight = attention.in_proj_weight
    weight.requires_grad_(False)
    if attention.in_proj_bias is not None:
        attention.in_proj_bias.requires_grad_(False)
    for p in PROJECTIONS:
        if p in projections:
            _adapter_pair(attention, "_" + p, r, attention.embed_dim, attention.embed_dim, weight)
    _rename_parameter(attention, "in_proj_weight", "in_proj_weight_orig")
    hook = LoRAInProjection("".join(p for p in PROJECTIONS if p in projections), r, lora_alpha)
    hook(attention, ())
    attention.register_forward_pre_hook(hook)
    return attention


def _rename_parameter(module, old, new):
    """Register parameter ``old`` of ``module`` as ``new``, in the same place of the registration order."""
    entries = [(new if name == old else name, value) for name, value in module._parameters.items()]
    module._parameters.clear()
    module._parameters.update(entries)


def _in_projection_hook(module):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, LoRAInProjection):
            return key, hook
    return None


# --- whole models -------------------------------------------------------------------------------------------------

def _matches(name, target_modules):
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, name) is not None
    return any(name == target or name.endswith("." + target) for target in target_modules)


def _parents(model):
    """name -> (parent module, attribute name) for every sub-module of ``model``."""
    places = {}
    for name, module in model.named_modules():
        for child_name, child in module._modules.items():
            if child is not None:
                places[f"{name}.{child_name}" if name else child_name] = (module, child_name)
    return places


def apply_lora(model, target_modules, r=8, lora_alpha=16, lora_dropout=0.0, modules_to_save=(),
               attention_projections="qv"):
    """Adapt the Linear and MultiheadAttention modules of ``model`` whose names match ``target_modules``
    (in place; returns the model). Every parameter is frozen except the adapters and the parameters of
    the modules matching ``modules_to_save`` (e.g. a new classification head)."""
    matched = [(name, module) for name, module in model.named_modules() if name and _matches(name, target_modules)]
    if not matched:
        names = [name for name, _ in model.named_modules() if name][:8]
        raise ValueError(f"apply_lora: no module name matches target_modules={target_modules!r}; names look like "
                         f"{names}")
    for name, module in matched:
        if not isinstance(module, (Linear, MultiheadAttention)) or isinstance(module, LoRALinear):
            raise TypeError(f"apply_lora: {name} is a {type(module).__name__}; LoRA adapts nn.Linear and "
                            "nn.MultiheadAttention modules")
    model.requires_grad_(False)
    places = _parents(model)
    for name, module in matched:
        if isinstance(module, MultiheadAttention):
            lora_in_projection(module, r, lora_alpha, attention_projections)
        else:
            parent, attribute = places[name]
            setattr(parent, attribute, LoRALinear(module, r, lora_alpha, lora_dropout))
    for name, module in model.named_modules():
        if name and modules_to_save and _matches(name, modules_to_save):
            module.requires_grad_(True)
    return model


def lora_layers(model):
    """(name, adapted module) for every LoRALinear and adapted MultiheadAttention in ``model``."""
    return [(name, module) for name, module in model.named_modules()
            if isinstance(module, LoRALinear) or _in_projection_hook(module) is not None]


def merge_lora(model):
    """Fold every adapter of ``model`` into its weight (forward then costs what the plain model costs)."""
    for _, module in lora_layers(model):
        if isinstance(module, LoRALinear):
            module.merge()
        else:
            _in_projection_hook(module)[1].merge(module)
    return model


def unmerge_lora(model):
    """Undo :func:`merge_lora` (up to rounding), so the adapters can train again."""
    for _, module in lora_layers(model):
        if isinstance(module, LoRALinear):
            module.unmerge()
        else:
            _in_projection_hook(module)[1].unmerge(module)
    return model


def merge_and_unload(model):
    """Merge every adapter and remove it: each LoRALinear becomes its base Linear again and each adapted
    attention gets its ``in_proj_weight`` Parameter back, so the state dict has the original keys.
    Parameters stay frozen as :func:`apply_lora` left them (``model.requires_grad_()`` unfreezes)."""
    merge_lora(model)
    places = _parents(model)
    for name, module in lora_layers(model):
        if isinstance(module, LoRALinear):
            parent, attribute = places[name]
            setattr(parent, attribute, module.base)
            continue
        key, _ = _in_projection_hook(module)
        del module._forward_pre_hooks[key]
        module.__dict__.pop("in_proj_weight", None)
        _rename_parameter(module, "in_proj_weight_orig", "in_proj_weight")
        for p in PROJECTIONS:
            for factor in ("lora_A_", "lora_B_"):
                module._parameters.pop(factor + p, None)
    return model

"""Smaller and cheaper models: distillation, LoRA adapters, and measuring size and speed.

Pruning lives where PyTorch keeps it (:mod:`minidl.nn.utils.prune`), int8 quantization in
:mod:`minidl.quantization`, the distilled students' builders in :mod:`minidl.models.distill`.
"""

from minidl.compression.distillation import distill, distillation_loss
from minidl.compression.lora import (LoRAInProjection, LoRALinear, apply_lora, lora_in_projection, lora_layers,
                                     merge_and_unload, merge_lora, unmerge_lora)
from minidl.compression.measure import checkpoint_size, count_parameters, latency, nonzero_parameters

__all__ = ["LoRAInProjection", "LoRALinear", "apply_lora", "checkpoint_size", "count_parameters", "distill",
           "distillation_loss", "latency", "lora_in_projection", "lora_layers", "merge_and_unload", "merge_lora",
           "nonzero_parameters", "unmerge_lora"]

"""Where does the Transformer look? Heatmaps of the attention weights P = softmax(QKᵀ/√d_k).

    python -m minidl.course.demos.attention_maps            # trains the reversal model (30 s, one BLAS thread)
    python -m minidl.course.demos.attention_maps --quick    # a shorter training run (10 s)

Row i of a map is the distribution over keys that query i averages the values with.
For string reversal the decoder's cross-attention should show an anti-diagonal: the
query that writes the k-th output digit looks at the k-th source digit from the end.

The weights come from the model's own layers: each layer's input is rebuilt in eval mode
and the layer's ``self_attn`` (encoder) or ``multihead_attn`` (decoder) is called again
with ``need_weights=True, average_attn_weights=False``, which returns (B, h, L, S).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from minidl.core import no_grad
from minidl.core.backend import to_numpy
from minidl.course.demos import seq2seq as task
from minidl.models.bert import as_ids

# --- the plot ------------------------------------------------------------------------------------------


def plot_attention(weights, query_tokens, key_tokens, path, title="attention", average=True):
    """Save heatmaps of attention weights (h, L, S) — one panel per head, plus their mean — or (L, S).

    Rows are queries (labelled ``query_tokens``), columns keys (``key_tokens``); every panel
    shares one 0..max colour scale and one colorbar. Returns the path.
    """
    from matplotlib.figure import Figure
    weights = np.asarray(weights, dtype=np.float64)
    panels = [weights] if weights.ndim == 2 else list(weights)
    names = ["weights"] if weights.ndim == 2 else [f"head {i + 1}" for i in range(len(panels))]
    if weights.ndim == 3 and average:
        panels.append(weights.mean(axis=0))
        names.append("mean of heads")
    if weights.ndim not in (2, 3) or panels[0].shape != (len(query_tokens), len(key_tokens)):
        raise ValueError(f"plot_attention: weights of shape {weights.shape} do not fit {len(query_tokens)} query "
                         f"and {len(key_tokens)} key tokens; expected (L, S) or (heads, L, S)")
    columns = min(len(panels), 3)
    rows = -(-len(panels) // columns)
    side = 0.32 * max(len(query_tokens), len(key_tokens)) + 1.2
    figure = Figure(figsize=(columns * side + 1.0, rows * side + 0.6), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    vmax = max(float(p.max()) for p in panels)
    for axes, panel, name in zip(grid.flat, panels, names):
        image = axes.imshow(panel, cmap="viridis", vmin=0.0, vmax=vmax, aspect="equal")
        axes.set_xticks(range(len(key_tokens)), key_tokens, fontsize=8)
        axes.set_yticks(range(len(query_tokens)), query_tokens, fontsize=8)
        axes.set(title=name, xlabel="key", ylabel="query")
    for axes in list(grid.flat)[len(panels):]:
        axes.set_visible(False)
    figure.colorbar(image, ax=grid, shrink=0.8, label="attention weight")
    figure.suptitle(title)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


# --- the weights -----------------------------------------------------------------------------------------

def _heads(attention, query, key, key_padding_mask, attn_mask=None):
    """Per-head weights (B, h, L, S) of one MultiheadAttention call."""
    return attention(query, key, key, key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=True,
                     average_attn_weights=False)[1]


def _sublayer_input(layer, x):
    """What a layer's attention reads: x itself (post-norm) or norm1(x) (pre-norm)."""
    return layer.norm1(x) if layer.norm_first else x


def encoder_self_attention(model, src):
    """Per encoder layer, the self-attention weights (B, h, S, S) as NumPy arrays."""
    maps = []
    with no_grad():
        src = as_ids(src, model.generator.weight.device)
        padding = src == model.pad_id
        x = model.positions(model.src_embedding(src))
        for layer in model.transformer.encoder.layers:
            inputs = _sublayer_input(layer, x)
            maps.append(to_numpy(_heads(layer.self_attn, inputs, inputs, padding).array))
            x = layer(x, src_key_padding_mask=padding)
    return maps


def decoder_cross_attention(model, src, tgt_in):
    """Per decoder layer, the cross-attention weights (B, h, T, S) of the queries of ``tgt_in``.

    The queries are what the layer's cross-attention reads: x₁ = norm1(x + SelfAttention(x)) in a
    post-norm layer, norm2(x + SelfAttention(norm1(x))) in a pre-norm one; the keys are the memory.
    """
    maps = []
    with no_grad():
        memory, src_padding = model.encode(src)
        tgt = as_ids(tgt_in, model.generator.weight.device)
        causal, tgt_padding = model.causal_mask(tgt.shape[1], tgt.device), tgt == model.pad_id
        x = model.positions(model.tgt_embedding(tgt))
        for layer in model.transformer.decoder.layers:
            if layer.norm_first:
                normed = layer.norm1(x)
                query = layer.norm2(x + layer.self_attn(normed, normed, normed, attn_mask=causal,
                                                        key_padding_mask=tgt_padding, need_weights=False)[0])
            else:
                query = layer.norm1(x + layer.self_attn(x, x, x, attn_mask=causal, key_padding_mask=tgt_padding,
                                                        need_weights=False)[0])
            maps.append(to_numpy(_heads(layer.multihead_attn, query, memory, src_padding).array))
            x = layer(x, memory, tgt_mask=causal, tgt_key_padding_mask=tgt_padding,
                      memory_key_padding_mask=src_padding)
    return maps


# --- the demo --------------------------------------------------------------------------------------------

def _names(ids):
    return [task.TOKENS[i] for i in ids]


def run(quick=False, seed=0, out_dir="runs/attention_maps", progress=True, model=None,
        example=(3, 1, 4, 1, 5, 9, 2, 6)):
    """Train the reversal model (or use ``model``) and save attention heatmaps for ``example``.

    Returns a dict with ``figures`` (name -> PNG path), the ``encoder`` and ``cross`` weight
    maps (per layer, (h, L, S)), the ``decoded`` output ids, ``exact_match`` (of the trained
    model on its held-out strings, when trained here) and ``seconds``.
    """
    start = time.perf_counter()
    result = {}
    if model is None:
        trained = task.run(quick=quick, seed=seed, out_dir=None, progress=progress)
        model, result["exact_match"] = trained["model"], trained["exact_match"]
    model.eval()
    src, _, _ = task.encode([tuple(example)])
    decoded = model.greedy_decode(src, src.shape[1] + 1, task.BOS, task.EOS)
    outputs = [t for t in decoded[0, 1:] if t != task.PAD]
    tgt_in = decoded[:, :len(outputs)]  # [BOS] y₁ … y_{n}: the queries that produced y₁ … [EOS]
    encoder_maps = [m[0] for m in encoder_self_attention(model, src)]
    cross_maps = [m[0] for m in decoder_cross_attention(model, src, tgt_in)]
    source, produced = _names(src[0]), _names(outputs)
    figures = {}
    if out_dir:
        for i, weights in enumerate(encoder_maps):
            figures[f"encoder_layer{i + 1}"] = str(plot_attention(
                weights, source, source, Path(out_dir) / f"encoder_self_attention_layer{i + 1}.png",
                title=f"encoder self-attention, layer {i + 1}"))
        for i, weights in enumerate(cross_maps):
            figures[f"cross_layer{i + 1}"] = str(plot_attention(
                weights, [f"→{t}" for t in produced], source,
                Path(out_dir) / f"decoder_cross_attention_layer{i + 1}.png",
                title=f"decoder cross-attention, layer {i + 1} (rows: the output token each query writes)"))
    result.update({"figures": figures, "encoder": encoder_maps, "cross": cross_maps, "decoded": decoded,
                   "seconds": time.perf_counter() - start})
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default="runs/attention_maps")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    outcome = run(quick=args.quick, seed=args.seed, out_dir=args.out_dir, progress=not args.no_progress)
    accuracy = outcome.get("exact_match", float("nan"))
    print(f"attention maps in {outcome['seconds']:.0f} s (model exact match {accuracy:.3f}):")
    for path in outcome["figures"].values():
        print(f"  {path}")


if __name__ == "__main__":
    main()

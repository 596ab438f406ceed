"""The connectionist temporal classification (CTC) loss, as PyTorch's ``F.ctc_loss``.

Each sample's target l (length L) is extended with blanks, l' = (b, l₁, b, l₂, …, l_L, b) (length 2L+1),
and y_t(c) = exp(log_probs[t, c]). The forward variables sum the probabilities of all alignments of l'
[:s+1] to the first t+1 frames (kept in log space):
    α₀(0) = y₀(b),  α₀(1) = y₀(l'₁)
    α_t(s) = (α_{t-1}(s) + α_{t-1}(s-1) + [l'_s ≠ b and l'_s ≠ l'_{s-2}] α_{t-1}(s-2)) · y_t(l'_s)
and with T the sample's input length, p(l | x) = α_{T-1}(2L) + α_{T-1}(2L-1), loss = -log p(l | x).
The backward variables β_t(s) run the same recursion from the end (β_{T-1}(2L) = y_{T-1}(b),
β_{T-1}(2L-1) = y_{T-1}(l_L)), so that α_t(s)β_t(s)/y_t(l'_s) sums the alignments through (t, s), and
    ∂(-log p)/∂ log y_t(c) = -Σ_{s: l'_s = c} α_t(s)β_t(s) / (y_t(c) p).
Like PyTorch, the gradient returned for log_probs is that plus y_t(c) (0 for t ≥ T):
    grad_t(c) = y_t(c) - Σ_{s: l'_s = c} α_t(s)β_t(s) / (y_t(c) p),
the exact gradient with respect to the logits x when log_probs = log_softmax(x), and the same gradient
for x after log_softmax's backward (whose rows of y sum to 1). For log_probs that are not normalised it
differs from the derivative of the loss by y_t(c). An impossible alignment (a target too long for its
input) gives loss inf and NaN gradients, unless ``zero_infinity`` makes both 0.
"""

from __future__ import annotations

import numpy as np

from minidl.core import Function, arguments
from minidl.core.backend import array_module, to_numpy
from minidl.core.creation import tensor
from minidl.core.errors import ShapeError
from minidl.ops.common import is_tensor
from minidl.ops.loss import check_reduction


def _log_add(*terms):
    """log Σ exp(terms), elementwise; -inf where every term is -inf."""
    xp = array_module(terms[0])
    top = terms[0]
    for term in terms[1:]:
        top = xp.maximum(top, term)
    safe = xp.where(xp.isfinite(top), top, 0)
    return safe + xp.log(sum(xp.exp(term - safe) for term in terms))


def _shifted(a, by, fill):
    """``a`` moved ``by`` places along the last axis (right for by > 0), the gap filled with ``fill``."""
    xp = array_module(a)
    out = xp.full(a.shape, fill, dtype=a.dtype)
    if by > 0 and by < a.shape[-1]:
        out[..., by:] = a[..., :-by]
    elif by < 0 and -by < a.shape[-1]:
        out[..., :by] = a[..., -by:]
    return out


def _skips(extended):
    """Where s may be reached from s-2: a label (odd s ≥ 3) differing from the label before it."""
    xp = array_module(extended)
    skip = xp.zeros(extended.shape, dtype=bool)
    skip[:, 3::2] = extended[:, 3::2] != extended[:, 1:-2:2]
    return skip


def log_alpha(picked, extended):
    """log α_t(s) for all t (T, N, K), from ``picked`` = log y_t(l'_s) (T, N, K) and the extended labels."""
    xp = array_module(picked)
    skip = _skips(extended)
    alpha = xp.full(picked.shape, -xp.inf, dtype=picked.dtype)
    alpha[0, :, :2] = picked[0, :, :2]
    for t in range(1, picked.shape[0]):
        previous = alpha[t - 1]
        two_back = xp.where(skip, _shifted(previous, 2, -xp.inf), -xp.inf)
        alpha[t] = _log_add(previous, _shifted(previous, 1, -xp.inf), two_back) + picked[t]
    return alpha


def log_beta(picked, extended, input_lengths, target_lengths):
    """log β_t(s) (T, N, K), started at each sample's last frame T_n - 1 (-inf from T_n on)."""
    xp = array_module(picked)
    steps, batch, width = picked.shape
    lengths, ends = np.asarray(input_lengths), 2 * np.asarray(target_lengths)
    skip_ahead = _shifted(_skips(extended), -2, False)  # s may move on to s+2
    positions = np.arange(width)[None, :]
    starts = xp.asarray((positions == ends[:, None]) | (positions == ends[:, None] - 1))
    beta = xp.full(picked.shape, -xp.inf, dtype=picked.dtype)
    following = beta[0]
    for t in range(steps - 1, -1, -1):
        two_ahead = xp.where(skip_ahead, _shifted(following, -2, -xp.inf), -xp.inf)
        running = _log_add(following, _shifted(following, -1, -xp.inf), two_ahead) + picked[t]
        first = xp.where(starts, picked[t], -xp.inf)
        beta[t] = xp.where(xp.asarray(lengths - 1 == t)[:, None], first,
                           xp.where(xp.asarray(lengths - 1 > t)[:, None], running, -xp.inf))
        following = beta[t]
    return beta


def log_likelihood(alpha, input_lengths, target_lengths):
    """log p(l | x) = log(α_{T-1}(2L) + α_{T-1}(2L-1)) per sample (0 or -inf for an empty input)."""
    xp = array_module(alpha)
    rows, lengths, ends = np.arange(alpha.shape[1]), np.asarray(input_lengths), 2 * np.asarray(target_lengths)
    final = alpha[np.maximum(lengths - 1, 0), rows]  # (N, K) at each sample's last frame
    before_end = xp.where(xp.asarray(ends > 0), final[rows, np.maximum(ends - 1, 0)], -xp.inf)
    log_p = _log_add(final[rows, ends], before_end)
    return xp.where(xp.asarray(lengths > 0), log_p, xp.asarray(np.where(ends == 0, 0.0, -np.inf), dtype=log_p.dtype))


class CTCLoss(Function):
    """Per-sample CTC losses -log p(l | x) by the α recursion; backward by α·β (formulas in the module doc).

    ``log_probs`` is (T, N, C), ``targets`` (N, S) int64 (padded), ``input_lengths`` and
    ``target_lengths`` tuples of N ints.
    """

    name = "ctc_loss"

    def forward(self, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        xp = array_module(log_probs)
        batch = log_probs.shape[1]
        extended = xp.full((batch, 2 * targets.shape[1] + 1), blank, dtype=targets.dtype)
        extended[:, 1::2] = targets
        picked = log_probs[:, xp.arange(batch)[:, None], extended]  # (T, N, K): log y_t(l'_s)
        alpha = log_alpha(picked, extended)
        loss = -log_likelihood(alpha, input_lengths, target_lengths)
        self.input_lengths, self.target_lengths, self.zero_infinity = input_lengths, target_lengths, zero_infinity
        self.save(log_probs, extended, picked, alpha, loss)
        return xp.where(xp.isinf(loss), 0, loss) if zero_infinity else loss

    def backward(self, g):
        log_probs, extended, picked, alpha, nll = self.saved
        xp = array_module(g)
        steps, batch, classes = log_probs.shape
        beta = log_beta(picked, extended, self.input_lengths, self.target_lengths)
        occupancy = xp.exp(alpha + beta - picked + nll[None, :, None])  # (T, N, K)
        one_hot = (extended[:, :, None] == xp.arange(classes)[None, None, :]).astype(log_probs.dtype)
        per_class = xp.matmul(occupancy.transpose(1, 0, 2), one_hot).transpose(1, 0, 2)  # (T, N, C)
        grad = xp.exp(log_probs) - per_class
        valid = xp.asarray(np.arange(steps)[:, None] < np.asarray(self.input_lengths)[None, :])
        if self.zero_infinity:
            valid = valid & ~xp.isinf(nll)[None, :]
        return xp.where(valid[:, :, None], grad * g[None, :, None], 0), None


def _lengths(values, batch, op, name):
    """Lengths (a tensor, list or tuple; an int when unbatched) as a tuple of ints."""
    host = np.asarray(to_numpy(values.array) if is_tensor(values) else values).reshape(-1)
    if host.dtype.kind not in "iuf" or host.size != batch:
        raise ShapeError(f"{op}: {name} must hold one length per sample ({batch}), got {host.size} "
                         f"value(s) of shape {np.shape(host)}")
    return tuple(int(v) for v in host)


def _padded_targets(targets, target_lengths, batch, op):
    """Targets (N, S) padded or 1-d concatenated (an unbatched sample's are both) as an (N, max L) array."""
    host = to_numpy(targets.array) if is_tensor(targets) else np.asarray(targets)
    longest = max(target_lengths, default=0)
    if host.ndim != 1:
        if host.ndim != 2 or host.shape[0] != batch or host.shape[1] < longest:
            raise ShapeError(f"{op}: targets of shape {np.shape(host)} must be (N={batch}, S) with S at "
                             f"least the longest target length {longest}")
        return host[:, :longest].astype(np.int64)
    if host.shape[0] != sum(target_lengths):
        raise ShapeError(f"{op}: concatenated targets of shape {np.shape(host)} must hold sum(target_lengths) "
                         f"= {sum(target_lengths)} labels")
    padded, starts = np.zeros((batch, longest), dtype=np.int64), np.cumsum((0,) + target_lengths)
    for n, length in enumerate(target_lengths):
        padded[n, :length] = host[starts[n]:starts[n] + length]
    return padded


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """The CTC loss of log-probabilities ``log_probs`` (T, N, C), or (T, C) unbatched, for ``targets``
    padded (N, S) or concatenated 1-d; 'mean' divides each loss by its target length (at least 1), then
    averages over the batch."""
    op = "ctc_loss"
    check_reduction(reduction, op)
    blank = arguments.integer(blank, op, "blank")
    if not is_tensor(log_probs) or log_probs.ndim not in (2, 3):
        raise ShapeError(f"{op}: log_probs must be a (T, N, C) or (T, C) tensor, got "
                         f"{tuple(log_probs.shape) if is_tensor(log_probs) else type(log_probs).__name__}")
    if log_probs.numel() == 0:
        raise ShapeError(f"{op}: log_probs must not be empty, got shape {tuple(log_probs.shape)}")
    batched = log_probs.ndim == 3
    x = log_probs if batched else log_probs.unsqueeze(1)
    steps, batch, classes = x.shape
    if not 0 <= blank < classes:
        raise ValueError(f"{op}: blank must be in the label range [0, {classes}), got {blank}")
    input_lengths = _lengths(input_lengths, batch, op, "input_lengths")
    target_lengths = _lengths(target_lengths, batch, op, "target_lengths")
    if min(input_lengths, default=0) < 0 or max(input_lengths, default=0) > steps:
        raise ValueError(f"{op}: input_lengths must be in [0, T={steps}], got {list(input_lengths)}")
    if min(target_lengths, default=0) < 0:
        raise ValueError(f"{op}: target_lengths must be non-negative, got {list(target_lengths)}")
    padded = _padded_targets(targets, target_lengths, batch, op)
    used = np.concatenate([padded[n, :length] for n, length in enumerate(target_lengths)] + [np.zeros(0, int)])
    if used.size and (used.min() < 0 or used.max() >= classes):
        raise ValueError(f"{op}: targets must be class indices in [0, {classes}), got values from {used.min()} "
                         f"to {used.max()}")
    labels = tensor(padded, device=x.device)
    loss = CTCLoss.apply(x, labels, input_lengths=input_lengths, target_lengths=target_lengths, blank=blank,
                         zero_infinity=bool(zero_infinity))
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        divisors = tensor(np.maximum(np.asarray(target_lengths, dtype=np.float64), 1.0), device=x.device)
        return (loss / divisors.to(loss.dtype)).mean()
    return loss if batched else loss.reshape(())

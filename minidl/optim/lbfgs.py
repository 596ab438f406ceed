"""L-BFGS: a quasi-Newton method that builds its search direction from the last few steps and gradient
changes (PyTorch's algorithm: two-loop recursion, optional strong-Wolfe line search)."""

from __future__ import annotations

import numpy as np

from minidl.core import enable_grad
from minidl.core.backend import array_module, device_of, to_device, to_numpy
from minidl.optim.optimizer import Optimizer, check_option


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
    history_size=100, line_search_fn=None)``; ``step(closure)`` runs up to ``max_iter`` iterations.

    All parameters are seen as one flat vector x with gradient g. With the stored pairs
    s_k = x_{k+1} − x_k and y_k = g_{k+1} − g_k (kept only when yᵀs > 1e-10, at most ``history_size``),
    ρ_k = 1/(y_kᵀs_k) and H₀ = yᵀs / yᵀy of the newest pair, the two-loop recursion gives the
    direction d = −H g::

        q = −g;   for k newest→oldest:  α_k = ρ_k s_kᵀq,  q ← q − α_k y_k
        r = H₀ q; for k oldest→newest:  β_k = ρ_k y_kᵀr,  r ← r + (α_k − β_k) s_k;   d = r

    The first iteration steps along −g with t = min(1, 1/‖g‖₁)·lr, later ones with t = lr, or with the
    step a strong-Wolfe line search (``line_search_fn="strong_wolfe"``, cubic interpolation) finds.
    It stops after ``max_iter`` iterations or ``max_eval`` closure calls (default max_iter·5/4), when
    max|g| ≤ tolerance_grad, when gᵀd > −tolerance_change, or when the step or the change of the loss
    falls below tolerance_change. State (one entry, for the first parameter), as PyTorch's:
    ``func_evals``, ``n_iter``, ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``al``.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check_options(self, options):
        check_option("LBFGS", "lr", options["lr"], options["lr"] >= 0, ">= 0")
        search = options["line_search_fn"]
        check_option("LBFGS", "line_search_fn", search, search in (None, "strong_wolfe"), "None or 'strong_wolfe'")

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # --- the flat vector view of the parameters ---------------------------------------
    def _flat_grad(self):
        xp = array_module(self._params[0].array)
        return xp.concatenate([(xp.zeros_like(p.array) if p.grad is None else p.grad.array).reshape(-1)
                               for p in self._params])

    def _add_to_params(self, step, direction):
        offset = 0
        for p in self._params:
            size = p.array.size
            p.array[...] += step * direction[offset:offset + size].reshape(p.array.shape)
            p._modified()
            offset += size

    def _set_params(self, arrays):
        for p, value in zip(self._params, arrays):
            p.array[...] = value
            p._modified()

    def _evaluate_at(self, closure, start, step, direction):
        """Loss and flat gradient at start + step·direction; the parameters are put back to start."""
        self._add_to_params(step, direction)
        loss = float(closure())
        flat_grad = self._flat_grad()
        self._set_params(start)
        return loss, flat_grad

    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` (required) re-evaluates and returns the loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step: a closure is required: pass a function that zeroes the gradients, "
                               "computes the loss, calls loss.backward() and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise RuntimeError("LBFGS: only 'strong_wolfe' is supported as line_search_fn")

        def evaluate():
            with enable_grad():
                return closure()

        state = self.state.setdefault(0, {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        xp = array_module(flat_grad)
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = _dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                    H_diag = ys / _dot(y, y)
                if "al" not in state:
                    state["al"] = [None] * history_size
                d = _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag, state["al"])
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = _dot(flat_grad, d)
            if gtd > -tolerance_change:
                break

            if group["line_search_fn"] is not None:
                start = [p.array.copy() for p in self._params]
                loss, flat_grad, t, evals = strong_wolfe(
                    lambda step: self._evaluate_at(evaluate, start, step, d), t, d, loss, flat_grad, gtd)
                self._add_to_params(t, d)
                optimal = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_to_params(t, d)
                evals, optimal = 0, False
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._flat_grad()
                    optimal = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals
            if n_iter == max_iter or current_evals >= max_eval or optimal:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # --- state dicts: flat vectors and lists of them ----------------------------------------
    def state_dict(self):
        saved = super().state_dict()
        for entry in saved["state"].values():
            for key, value in entry.items():
                if isinstance(value, list):
                    entry[key] = [_host_copy(item) for item in value]
        return saved

    def load_state_dict(self, state_dict):
        state = state_dict.get("state", {}) if isinstance(state_dict, dict) else {}
        super().load_state_dict({**state_dict, "state": {}})
        target = device_of(self._params[0].array)
        dtype = self._params[0].dtype
        self.state = {int(key): {field: _to_param_device(value, target, dtype) for field, value in entry.items()}
                      for key, entry in state.items()}


def _dot(a, b):
    return float((a * b).sum())


def _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag, al):
    """d = −H·g from the stored pairs (the two-loop recursion); ``al`` keeps the α_k as PyTorch does."""
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = _dot(old_stps[i], q) * ro[i]
        q = q - al[i] * old_dirs[i]
    r = q * H_diag
    for i in range(len(old_dirs)):
        beta = _dot(old_dirs[i], r) * ro[i]
        r = r + (al[i] - beta) * old_stps[i]
    return r


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped to ``bounds``
    (default: between x1 and x2); their midpoint when the cubic has no minimum (Nocedal & Wright 3.59)."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square ** 0.5
    if x1 <= x2:
        minimiser = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        minimiser = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(minimiser, low), high)


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d meeting the strong Wolfe conditions f(t) ≤ f + c1·t·gᵀd, |g(t)ᵀd| ≤ −c2·gᵀd:
    bracketing by extrapolation, then zoom by safeguarded cubic interpolation. ``evaluate(t)`` returns
    (loss, flat gradient) at the step t. Returns (loss, gradient, t, number of evaluations)."""
    d_norm = float(array_module(d).abs(d).max())
    f_new, g_new = evaluate(t)
    evals, gtd_new = 1, _dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done, ls_iter = False, 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev) or (abs(gtd_new) > -c2 * gtd and gtd_new >= 0):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g, bracket_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        bounds = (t + 0.01 * (t - t_prev), t * 10)   # extrapolate
        t_prev, f_prev, g_prev, gtd_prev, t = t, f_new, g_new, gtd_new, cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=bounds)
        f_new, g_new = evaluate(t)
        evals, gtd_new, ls_iter = evals + 1, _dot(g_new, d), ls_iter + 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g, bracket_gtd = [0, t], [f, f_new], [g, g_new], [gtd, gtd_new]

    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # safeguard: keep t at least 10% of the bracket away from its ends when progress is slow
        margin = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < margin:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - margin if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals, gtd_new, ls_iter = evals + 1, _dot(g_new, d), ls_iter + 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


def _host_copy(value):
    return to_numpy(value).copy() if hasattr(value, "shape") and not isinstance(value, np.generic) else value


def _to_param_device(value, device, dtype):
    if isinstance(value, list):
        return [_to_param_device(item, device, dtype) for item in value]
    if hasattr(value, "detach"):          # a PyTorch tensor in a state dict saved by PyTorch
        value = value.detach().cpu().numpy()
    if hasattr(value, "shape") and not isinstance(value, np.generic):
        host = np.array(to_numpy(value), copy=True)
        if host.ndim == 0:
            return host.item()
        return to_device(host.astype(dtype, copy=False) if host.dtype.kind == "f" else host, device)
    return value

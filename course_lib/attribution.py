"""Integrated gradients: which words pushed a sentiment classifier's decision, and by how much.

Defined in: notebooks/12_scale_privacy_interpretability.ipynb

Sundararajan, Taly & Yan (2017, "Axiomatic Attribution for Deep Networks"): walk the input embeddings
in a straight line from a *baseline* x' (here: every word's vector set to zero, the ``<pad>`` vector) to
the real ones x, and add up the gradients along the way,

    IG_t = (x_t − x'_t) · ∫₀¹ ∂F(x' + a(x − x')) / ∂x_t da        (summed over the embedding dimensions)

so that the attributions of the tokens add up to F(x) − F(x') (*completeness*). F is the classifier's
logit. :func:`integrated_gradients` is the definition with a midpoint Riemann sum; :func:`captum_token_attributions`
asks ``captum`` (``LayerIntegratedGradients`` on the embedding layer, Gauss–Legendre nodes), a well-kept
library, and the notebook checks the two agree. For the mean-pooling classifier the logit is linear in
the embeddings, so IG must equal its exact per-word contributions (notebook 03's ``contributions``).
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import check_instance, check_int, check_mask, check_token_ids
from .errors import ArgumentError


def _check_inputs(model, ids, mask, n_steps) -> int:
    check_instance(model, "model", nn.Module, "sentence classifier (an nn.Module with an embedding layer emb)")
    if not isinstance(getattr(model, "emb", None), nn.Embedding):
        raise ArgumentError(f"model must have an embedding layer emb (nn.Embedding), got {type(model).__name__}")
    check_token_ids(ids, "ids", model.emb.num_embeddings)
    if ids.dim() != 2:
        raise ArgumentError(f"ids must have shape (B, T), got {tuple(ids.shape)}")
    check_mask(mask, "mask", tuple(ids.shape), exact_dims=True)
    return check_int(n_steps, "n_steps", min=1, max=10_000)


def _logit_from_embeddings(model: nn.Module, emb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The classifier's logit (B,) when its embedding layer outputs ``emb`` (B, T, D)."""
    handle = model.emb.register_forward_hook(lambda module, inputs, output: emb)
    try:
        ids = torch.zeros(emb.shape[:2], dtype=torch.long)  # ignored: the hook replaces the embeddings
        return model(ids, mask)
    finally:
        handle.remove()


def integrated_gradients(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, n_steps: int = 64) -> torch.Tensor:
    """Integrated gradients of the logit w.r.t. each token's embedding, from a zero baseline: (B, T).

    The path integral is a midpoint Riemann sum with ``n_steps`` points; ``model`` is a
    :class:`course_lib.sentiment.SentenceClassifier` with an embedding layer ``emb``, in eval mode.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    n_steps = _check_inputs(model, ids, mask, n_steps)
    with torch.no_grad():
        x = model.emb(ids)  # (B, T, D)
    total = torch.zeros_like(x)
    for k in range(n_steps):
        a = (k + 0.5) / n_steps
        point = (a * x).requires_grad_(True)  # baseline 0 + a·(x − 0)
        (grad,) = torch.autograd.grad(_logit_from_embeddings(model, point, mask).sum(), point)
        total += grad
    return ((x * total / n_steps).sum(-1) * mask).detach()  # (B, T)


def captum_token_attributions(
    model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, n_steps: int = 64
) -> tuple[torch.Tensor, torch.Tensor]:
    """captum's integrated gradients on the embedding layer: ``(attributions (B, T), convergence delta (B,))``.

    The baseline input is all ``<pad>`` (id 0, a zero vector); the delta is captum's completeness
    check, Σ_t IG_t − (F(x) − F(baseline)), close to 0 when ``n_steps`` is large enough.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from captum.attr import LayerIntegratedGradients

    n_steps = _check_inputs(model, ids, mask, n_steps)
    lig = LayerIntegratedGradients(lambda i, m: model(i, m), model.emb)
    attr, delta = lig.attribute(
        ids,
        baselines=torch.zeros_like(ids),
        additional_forward_args=(mask,),
        n_steps=n_steps,
        return_convergence_delta=True,
    )
    return (attr.sum(-1) * mask).detach(), delta.detach()

"""Tuple-level context vectors by explicit enumeration of local rule choices (a second route)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rhm_theory.exact.contexts import sibling_positions
from rhm_theory.exact.transitions import descendant_laws, level_weights, root_to_level_sums
from rhm_theory.model.grammar import Grammar, tuple_codes
from rhm_theory.validation import check_context

__all__ = ["tuple_context_vectors"]

FloatArray = npt.NDArray[np.float64]


def tuple_context_vectors(grammar: Grammar, level: int, context: str = "latent") -> FloatArray:
    """Centred context vector ``phi_t`` of every grammatical tuple ``t`` of ``level``.

    A route independent of :func:`rhm_theory.exact.context_laws`: loops explicitly over
    the parent's rule, the rule of ``u`` that produces ``t`` and (latent context) the
    sibling's rule, each weighted by its rule probability, conditioning on the *tuple*,
    never on its parent. Synonym invariance (``phi_t = psi_parent(t)``) is then a checkable
    statement, not a construction. In an ambiguous grammar the rows of a tuple produced by
    several parents are pooled (the law given the tuple mixes its parents' laws), and there
    synonym invariance fails.

    Returns
    -------
    ndarray, shape (vocab(level) * m, D)
        Row ``a * m + r`` is the tuple ``rules_of(level)[a, r]`` (rows of one ambiguous
        tuple are equal).
    """
    p = grammar.params
    kind = check_context(context)
    level = p.check_level(level, 1, p.L - 1)
    s, m = p.s, p.m
    V = p.vocab(level)
    R_up, R = grammar.rules_of(level + 1), grammar.rules_of(level)
    W_up, W = grammar.rule_probs_of(level + 1), grammar.rule_probs_of(level)
    n_tuples = V * m
    if kind == "label":
        # pooled P(root = c, node = b) = root_probs[c] * S[c, b]
        S = grammar.root_probs[:, None] * root_to_level_sums(grammar)[level + 1]
        joint = np.zeros((s, 1, n_tuples, p.n_c))
        for j in range(s):
            for b in range(p.vocab(level + 1)):
                for rho in range(m):
                    a = R_up[b, rho, j]
                    for tau in range(m):
                        joint[j, 0, a * m + tau] += S[:, b] * W_up[b, rho] * W[a, tau]
    else:
        w = level_weights(grammar)[level + 1]
        if kind == "latent":
            K = np.zeros((V, s, p.v))
            for a2 in range(V):
                for sigma in range(m):
                    for r in range(s):
                        K[a2, r, R[a2, sigma, r]] += W[a2, sigma]
        else:
            K = descendant_laws(grammar, level, level)
        per = K.shape[1]
        joint = np.zeros((s, (s - 1) * per, n_tuples, p.v))
        for j in range(s):
            for slot, jp in enumerate(sibling_positions(s, j)):
                for b in range(p.vocab(level + 1)):
                    for rho in range(m):
                        a, a2 = R_up[b, rho, j], R_up[b, rho, jp]
                        for tau in range(m):
                            joint[j, slot * per : (slot + 1) * per, a * m + tau] += (
                                w[b] * W_up[b, rho] * W[a, tau] * K[a2]
                            )
    # Condition on the tuple: pool the rows that hold the same tuple (several parents).
    _, inverse = np.unique(tuple_codes(R.reshape(-1, s), p.v), return_inverse=True)
    inv = np.asarray(inverse, dtype=np.int64).ravel()
    pooled = np.zeros((*joint.shape[:2], int(inv.max()) + 1, *joint.shape[3:]))
    np.add.at(pooled, (slice(None), slice(None), inv), joint)  # type: ignore[arg-type]
    joint = pooled[:, :, inv]
    tot = joint.sum(axis=-1, keepdims=True)
    marg = pooled.sum(axis=2)
    marg = marg / marg.sum(axis=-1, keepdims=True)
    cond = np.where(tot > 0, joint / np.where(tot > 0, tot, 1.0), marg[:, :, None, :])
    centred = cond - marg[:, :, None, :]
    return np.ascontiguousarray(np.transpose(centred, (2, 0, 1, 3)).reshape(n_tuples, -1))

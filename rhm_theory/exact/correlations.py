"""Exact token-token correlations of an RHM as a function of the level of the tokens' LCA."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rhm_theory.exact.transitions import child_matrices, sibling_joint
from rhm_theory.model.grammar import Grammar

__all__ = ["node_marginals_at_level", "token_correlation", "token_correlations"]

FloatArray = npt.NDArray[np.float64]

#: LCA nodes per matrix product (bounds the (chunk, v, v) temporaries to ~64 MiB at v=128).
_NODE_CHUNK = 512


def node_marginals_at_level(grammar: Grammar, level: int) -> FloatArray:
    """Exact marginals of every level-``level`` node, shape ``(s**(L-level), vocab(level))``."""
    p = grammar.params
    level = p.check_level(level, 0, p.L)
    pi = grammar.root_probs[None, :]
    for lev in range(p.L, level, -1):
        M = child_matrices(grammar, lev)  # (s, V_lev, v)
        pi = np.einsum("kb,jbc->kjc", pi, M).reshape(-1, p.v)
    return pi


def token_correlation(grammar: Grammar, level: int) -> float:
    """RMS connected correlation of two tokens whose lowest common ancestor is at ``level``.

    Convention: for every LCA node ``g`` at ``level`` and children positions ``j1 < j2``,
    take the leftmost leaf under each of the two children, form
    ``C[x, y] = P(x_i = x, x_j = y) - P(x_i = x) P(x_j = y)`` exactly, and average
    ``mean_{x,y} C[x, y]**2`` over the pairs ``(g, j1, j2)``; return the square root.
    This is the quantity whose grammar average the NeurIPS 2024 paper (Cagnetta & Wyart)
    predicts as ``sqrt((1 - f) / (v**3 m**(2l-1)))``.

    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=4, m=2, s=2, L=2), seed=0)
    >>> 0 < token_correlation(g, 1) < 1
    True
    """
    p = grammar.params
    level = p.check_level(level, 1, p.L)
    pi = node_marginals_at_level(grammar, level)  # (n_nodes, V_level)
    # Leftmost-leaf path from a level-(level-1) node down to the tokens.
    down = np.eye(p.v)
    for lev in range(level - 1, 0, -1):
        down = down @ child_matrices(grammar, lev)[0]
    total, count = 0.0, 0
    for j1 in range(p.s):
        for j2 in range(j1 + 1, p.s):
            J = sibling_joint(grammar, level, j1, j2)  # (V_level, v, v)
            # Token joint given the LCA symbol b: down^T J[b] down (one (v, v) per symbol),
            # then mixed by each LCA node's marginal: O(V v^3 + n_nodes V v^2), not the
            # O(n_nodes v^4) of a three-operand einsum.
            G = np.matmul(np.matmul(down.T[None, :, :], J), down[None, :, :])
            G = G.reshape(J.shape[0], -1)
            for k0 in range(0, pi.shape[0], _NODE_CHUNK):
                joint = (pi[k0:k0 + _NODE_CHUNK] @ G).reshape(-1, p.v, p.v)
                mi, mj = joint.sum(axis=2), joint.sum(axis=1)
                conn = joint - mi[:, :, None] * mj[:, None, :]
                total += float((conn**2).mean(axis=(1, 2)).sum())
            count += pi.shape[0]
    return float(np.sqrt(total / count))


def token_correlations(grammar: Grammar) -> FloatArray:
    """:func:`token_correlation` for every LCA level ``1..L``, shape ``(L,)``."""
    return np.array([token_correlation(grammar, lv) for lv in range(1, grammar.params.L + 1)])

"""Exact transition structure of an RHM: child matrices, sibling joints, node and pair laws."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import Grammar

__all__ = [
    "child_matrices",
    "descendant_laws",
    "joint_law",
    "level_weights",
    "node_marginal",
    "path_product",
    "pooled_sibling_joint",
    "root_to_level_sums",
    "sibling_joint",
]

FloatArray = npt.NDArray[np.float64]
Node = tuple[int, int]


def child_matrices(grammar: Grammar, level: int) -> FloatArray:
    """Child matrices ``M_l^(j)[a, b] = sum of w_a(r) over rules r of a with R[a, r, j] = b``.

    ``w_a(r)`` is :meth:`Grammar.rule_probs_of` (``1/m`` in the paper's RHM, where this is
    ``#{rules r of a: R[a, r, j] = b} / m``).

    Returns an array of shape ``(s, vocab(level), v)``: row ``a`` of ``M[j]`` is the law of
    the ``j``-th child of a level-``level`` node that holds ``a``.

    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=1), [[[[0, 1]], [[1, 1]]]])
    >>> child_matrices(g, 1)[0].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    table = grammar.rules_of(level)
    p = grammar.params
    n_sym = table.shape[0]
    out = np.zeros((p.s, n_sym, p.v))
    rows = np.repeat(np.arange(n_sym), p.m)
    w = grammar.rule_probs_of(level).ravel()
    for j in range(p.s):
        np.add.at(out[j], (rows, table[:, :, j].ravel()), w)
    return out


def sibling_joint(grammar: Grammar, level: int, j: int, jp: int) -> FloatArray:
    """Joint law of children ``j`` and ``jp`` given their parent, from one shared rule.

    ``J[b, a, a'] = sum of w_b(r) over rules r of b with R[b, r, j] = a, R[b, r, jp] = a'``,
    shape
    ``(vocab(level), v, v)``. Two children of one node are *not* independent given the node.
    """
    p = grammar.params
    table = grammar.rules_of(level)
    j = p.check_level(j, 0, p.s - 1, name="j")
    jp = p.check_level(jp, 0, p.s - 1, name="jp")
    n_sym = table.shape[0]
    out = np.zeros((n_sym, p.v, p.v))
    rows = np.repeat(np.arange(n_sym), p.m)
    w = grammar.rule_probs_of(level).ravel()
    np.add.at(out, (rows, table[:, :, j].ravel(), table[:, :, jp].ravel()), w)
    return out


def pooled_sibling_joint(grammar: Grammar, level: int, j: int, jp: int,
                         parent_weights: npt.ArrayLike) -> FloatArray:
    """``sum_b parent_weights[b] * sibling_joint(grammar, level, j, jp)[b]``, shape ``(v, v)``.

    Built from the rules directly (``vocab(level) * m`` terms), without the
    ``(vocab(level), v, v)`` tensor: at ``v = 768`` that tensor is 3.6 GB.

    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=1), [[[[0, 1]], [[1, 1]]]])
    >>> pooled_sibling_joint(g, 1, 0, 1, [0.25, 0.75]).tolist()
    [[0.0, 0.25], [0.0, 0.75]]
    """
    p = grammar.params
    table = grammar.rules_of(level)
    j = p.check_level(j, 0, p.s - 1, name="j")
    jp = p.check_level(jp, 0, p.s - 1, name="jp")
    n_sym = table.shape[0]
    w_parent = np.asarray(parent_weights, dtype=np.float64)
    if w_parent.shape != (n_sym,):
        raise ValueError(f"parent_weights must have shape (vocab(level),) = ({n_sym},), got "
                         f"{w_parent.shape}")
    w = (w_parent[:, None] * grammar.rule_probs_of(level)).ravel()
    out = np.zeros((p.v, p.v))
    np.add.at(out, (table[:, :, j].ravel(), table[:, :, jp].ravel()), w)
    return out


def _check_node(grammar: Grammar, node: Node, name: str) -> Node:
    p = grammar.params
    if not isinstance(node, tuple) or len(node) != 2:
        raise TypeError(f"{name} must be a (level, index) tuple, got {node!r}")
    level = p.check_level(node[0], 0, p.L, name=f"{name} level")
    index = p.check_level(node[1], 0, p.nodes_at_level(level) - 1, name=f"{name} index")
    return level, index


def path_product(grammar: Grammar, ancestor: Node, descendant: Node) -> FloatArray:
    """Product of child matrices along the downward path ``ancestor -> descendant``.

    Entry ``[a, b]`` is ``P(descendant = b | ancestor = a)``; shape
    ``(vocab(ancestor level), vocab(descendant level))``. The identity if the nodes coincide.
    """
    la, ia = _check_node(grammar, ancestor, "ancestor")
    ld, id_ = _check_node(grammar, descendant, "descendant")
    s = grammar.params.s
    if ld > la or id_ // s ** (la - ld) != ia:
        raise ValueError(f"ancestor {ancestor} is not an ancestor of descendant {descendant}")
    out = np.eye(grammar.params.vocab(la))
    for level in range(la, ld, -1):
        j = (id_ // s ** (level - 1 - ld)) % s  # child position on the way down
        out = out @ child_matrices(grammar, level)[j]
    return out


def node_marginal(grammar: Grammar, node: Node) -> FloatArray:
    """Exact law of the symbol at ``node = (level, index)``: root prior times the path."""
    p = grammar.params
    level, index = _check_node(grammar, node, "node")
    root = grammar.root_probs
    top = index // p.s ** (p.L - level)
    return np.asarray(root @ path_product(grammar, (p.L, top), (level, index)))


def joint_law(grammar: Grammar, node_a: Node, node_b: Node) -> FloatArray:
    """Exact joint law ``P(node_a = x, node_b = y)`` of two nodes, through their LCA.

    If one node is an ancestor of the other the law is ``diag(marginal) @ path``.
    Otherwise the two LCA children on the paths are drawn jointly from one rule
    (:func:`sibling_joint`) and each path continues down independently.

    >>> from rhm_theory.model import RHMParams, random_grammar
    >>> g = random_grammar(RHMParams(v=3, m=2, s=2, L=2), seed=0)
    >>> float(joint_law(g, (0, 0), (0, 3)).sum())
    1.0
    """
    p = grammar.params
    la, ia = _check_node(grammar, node_a, "node_a")
    lb, ib = _check_node(grammar, node_b, "node_b")
    s = p.s
    # Lift both to their common ancestor.
    h = max(la, lb)
    while ia // s ** (h - la) != ib // s ** (h - lb):
        h += 1
    lca = (h, ia // s ** (h - la))
    if (h, lca[1]) == (la, ia) or (h, lca[1]) == (lb, ib):
        if (la, ia) == lca:
            pi = node_marginal(grammar, (la, ia))
            return np.asarray(pi[:, None] * path_product(grammar, (la, ia), (lb, ib)))
        pi = node_marginal(grammar, (lb, ib))
        return np.asarray((pi[:, None] * path_product(grammar, (lb, ib), (la, ia))).T)
    ca = (h - 1, ia // s ** (h - 1 - la))
    cb = (h - 1, ib // s ** (h - 1 - lb))
    pi = node_marginal(grammar, lca)
    pair = pooled_sibling_joint(grammar, h, ca[1] % s, cb[1] % s, pi)
    return np.asarray(
        path_product(grammar, ca, (la, ia)).T @ pair @ path_product(grammar, cb, (lb, ib))
    )


def root_to_level_sums(grammar: Grammar) -> list[FloatArray]:
    """``S_l = sum over level-l nodes of the root-to-node path product`` for ``l = 0..L``.

    ``S_l[c, a]`` is the expected number of level-``l`` nodes holding ``a`` in a string whose
    root is ``c``; ``S_L`` is the identity. Shapes ``(n_c, vocab(l))``.
    """
    p = grammar.params
    out: list[FloatArray] = [np.zeros(0)] * (p.L + 1)
    out[p.L] = np.eye(p.n_c)
    for level in range(p.L, 0, -1):
        out[level - 1] = out[level] @ child_matrices(grammar, level).sum(axis=0)
    return out


def level_weights(grammar: Grammar) -> list[FloatArray]:
    """Pooled weights ``w_l[a] = sum over level-l nodes of P(node = a)`` for ``l = 0..L``.

    ``w_l`` is the expected number of level-``l`` nodes holding ``a`` per string (it sums to
    ``s**(L-l)``); the pooled corpus counts of a level are ``P * w_l`` in expectation.
    """
    root = grammar.root_probs
    return [np.asarray(root @ S) for S in root_to_level_sums(grammar)]


def descendant_laws(grammar: Grammar, level: int, depth: int) -> FloatArray:
    """Laws of the ``s**depth`` descendants ``depth`` levels below a level-``level`` node.

    ``D[a, r, c] = P(r-th descendant at level (level - depth) = c | node = a)``, ``r`` in
    left-to-right order; shape ``(vocab(level), s**depth, v)``. ``depth = level`` gives the
    tokens under the node.
    """
    p = grammar.params
    level = p.check_level(level, 1, p.L)
    depth = p.check_level(depth, 1, level, name="depth")
    # Build bottom-up: D for the lowest of the levels first, then prepend a child matrix.
    low = level - depth + 1
    out = np.transpose(child_matrices(grammar, low), (1, 0, 2))  # (V, s, v)
    for lev in range(low + 1, level + 1):
        M = child_matrices(grammar, lev)  # (s, V_lev, v)
        n_sym = M.shape[1]
        prev = out.reshape(out.shape[0], -1)  # (v, s**k * v)
        stacked = np.einsum("jab,bx->ajx", M, prev)  # (V_lev, s, s**k * v)
        out = stacked.reshape(n_sym, -1, p.v)
    return np.asarray(out)

"""Geometry of the fixed regular tree (levels from the leaves) and derivation trees of data."""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt

from rhm_theory.model.grammar import Grammar
from rhm_theory.model.parsing import parse
from rhm_theory.model.sampling import Sample
from rhm_theory.validation import check_array, check_int

__all__ = [
    "Node",
    "children",
    "cousin_positions",
    "derivation_tree",
    "lca",
    "lca_level",
    "leaves_under",
    "parent",
    "position_in_parent",
    "siblings",
    "tree_distance",
]

#: A tree node: ``(level, index)``, level 0 = leaves, index counted left to right.
Node = tuple[int, int]


def _int(name: str, value: object, minimum: int) -> int:
    return check_int(name, value, minimum=minimum)


def _node(name: str, node: object, s: int, L: int | None) -> Node:
    if not isinstance(node, (tuple, list)) or len(node) != 2:
        raise TypeError(f"{name} must be a (level, index) pair, got {node!r}")
    return _checked(node[0], node[1], s, L, name=name)


def _checked(level: object, index: object, s: int, L: int | None, name: str = "") -> Node:
    pre = f"{name}: " if name else ""
    lv = _int("level", level, 0)
    ix = _int("index", index, 0)
    if L is not None:
        if lv > L:
            raise ValueError(f"{pre}level must satisfy 0 <= level <= L={L}, got level={lv}")
        width = s ** (L - lv)
        if ix >= width:
            raise ValueError(
                f"{pre}index must satisfy 0 <= index < s**(L-level) = {width} at level {lv}, "
                f"got index={ix}"
            )
    return lv, ix


def _leaf_array(name: str, x: npt.ArrayLike) -> npt.NDArray[np.int64]:
    a64 = check_array(name, x, kinds="iu", dtype=np.int64)
    if a64.size and int(a64.min()) < 0:
        raise ValueError(f"{name} must hold leaf positions >= 0, found {int(a64.min())}")
    return a64


@overload
def lca_level(i: int, j: int, s: int) -> int: ...
@overload
def lca_level(i: npt.ArrayLike, j: npt.ArrayLike, s: int) -> int | npt.NDArray[np.int64]: ...
def lca_level(i: npt.ArrayLike, j: npt.ArrayLike, s: int) -> int | npt.NDArray[np.int64]:
    """Level of the lowest common ancestor of leaves ``i`` and ``j``.

    The smallest ``l >= 0`` with ``i // s**l == j // s**l`` (0 when ``i == j``).

    Parameters
    ----------
    i, j : int or array_like of int
        Leaf positions (``>= 0``); arrays broadcast.
    s : int
        Branching factor, ``>= 2``.

    Returns
    -------
    int or ndarray of int64
        An int for scalar inputs, else an array of the broadcast shape.

    Examples
    --------
    >>> lca_level(0, 1, 2), lca_level(1, 2, 2), lca_level(0, 7, 2), lca_level(5, 5, 3)
    (1, 2, 3, 0)
    >>> lca_level([0, 2, 3], 3, 2).tolist()
    [2, 1, 0]
    """
    s = _int("s", s, 2)
    scalar = np.ndim(i) == 0 and np.ndim(j) == 0
    a, b = np.broadcast_arrays(_leaf_array("i", i), _leaf_array("j", j))
    a, b = a.copy(), b.copy()
    level = np.zeros(a.shape, dtype=np.int64)
    differ = a != b
    while differ.any():
        level += differ
        a //= s
        b //= s
        differ = a != b
    return int(level) if scalar else level


@overload
def tree_distance(i: int, j: int, s: int) -> int: ...
@overload
def tree_distance(i: npt.ArrayLike, j: npt.ArrayLike, s: int) -> int | npt.NDArray[np.int64]: ...
def tree_distance(i: npt.ArrayLike, j: npt.ArrayLike, s: int) -> int | npt.NDArray[np.int64]:
    """Number of edges between leaves ``i`` and ``j``: ``2 * lca_level(i, j, s)``.

    Parameters
    ----------
    i, j : int or array_like of int
        Leaf positions (``>= 0``); arrays broadcast.
    s : int
        Branching factor, ``>= 2``.

    Returns
    -------
    int or ndarray of int64
        An int for scalar inputs, else an array of the broadcast shape.

    Examples
    --------
    >>> tree_distance(0, 1, 2), tree_distance(0, 4, 2), tree_distance(3, 3, 2)
    (2, 6, 0)
    """
    return 2 * lca_level(i, j, s)


def lca(node_a: Node, node_b: Node, s: int, L: int | None = None) -> Node:
    """Lowest common ancestor of two nodes ``(level, index)``.

    A node is its own ancestor, so the LCA of a node and one of its ancestors is that
    ancestor.

    Parameters
    ----------
    node_a, node_b : (int, int)
        Nodes as ``(level, index)``.
    s : int
        Branching factor.
    L : int, optional
        Depth; when given, the nodes are checked to exist in a depth-``L`` tree.

    Returns
    -------
    (int, int)
        The LCA as ``(level, index)``.

    Examples
    --------
    >>> lca((0, 5), (0, 6), 2)
    (2, 1)
    >>> lca((1, 2), (0, 5), 2)  # (1, 2) is the parent of leaf 5
    (1, 2)
    """
    s = _int("s", s, 2)
    L = None if L is None else _int("L", L, 1)
    la, ia = _node("node_a", node_a, s, L)
    lb, ib = _node("node_b", node_b, s, L)
    if la < lb:
        ia //= s ** (lb - la)
        la = lb
    elif lb < la:
        ib //= s ** (la - lb)
    while ia != ib:
        ia //= s
        ib //= s
        la += 1
    return la, ia


def children(level: int, index: int, s: int, L: int | None = None) -> tuple[Node, ...]:
    """The ``s`` children ``(level-1, s*index + j)``, ``j = 0..s-1``, of an internal node.

    Parameters
    ----------
    level, index : int
        The node, ``level >= 1``.
    s : int
        Branching factor.
    L : int, optional
        Depth; when given, the node is checked to exist.

    Returns
    -------
    tuple of (int, int)
        The children, left to right.

    Examples
    --------
    >>> children(2, 1, 2)
    ((1, 2), (1, 3))
    """
    s = _int("s", s, 2)
    L = None if L is None else _int("L", L, 1)
    lv, ix = _checked(level, index, s, L)
    if lv < 1:
        raise ValueError(f"level must satisfy level >= 1 (leaves have no children), got {lv}")
    return tuple((lv - 1, s * ix + j) for j in range(s))


def parent(level: int, index: int, s: int, L: int | None = None) -> Node:
    """The parent ``(level+1, index // s)`` of a node.

    Parameters
    ----------
    level, index : int
        The node.
    s : int
        Branching factor.
    L : int, optional
        Depth; when given, the node is checked to exist and not to be the root.

    Returns
    -------
    (int, int)
        The parent node.

    Examples
    --------
    >>> parent(0, 5, 2), parent(1, 4, 3)
    ((1, 2), (2, 1))
    """
    s = _int("s", s, 2)
    L = None if L is None else _int("L", L, 1)
    lv, ix = _checked(level, index, s, L)
    if L is not None and lv == L:
        raise ValueError(f"level must satisfy level < L={L} (the root has no parent), got {lv}")
    return lv + 1, ix // s


def position_in_parent(index: int, s: int) -> int:
    """Position ``j = index % s`` of a node among its parent's children.

    Parameters
    ----------
    index : int
        Index of the node in its level.
    s : int
        Branching factor.

    Returns
    -------
    int
        ``j`` in ``0..s-1``.

    Examples
    --------
    >>> position_in_parent(5, 2), position_in_parent(5, 3)
    (1, 2)
    """
    s = _int("s", s, 2)
    return _int("index", index, 0) % s


def siblings(level: int, index: int, s: int, L: int) -> tuple[int, ...]:
    """Indices (same level) of the ``s-1`` other children of the node's parent.

    Parameters
    ----------
    level, index : int
        The node, ``level < L``.
    s, L : int
        Branching factor and depth.

    Returns
    -------
    tuple of int
        Sibling indices, left to right.

    Examples
    --------
    >>> siblings(1, 2, 2, 3), siblings(0, 4, 3, 2)
    ((3,), (3, 5))
    """
    s = _int("s", s, 2)
    L = _int("L", L, 1)
    lv, ix = _checked(level, index, s, L)
    if lv == L:
        raise ValueError(f"level must satisfy level < L={L} (the root has no siblings), got {lv}")
    first = ix - ix % s
    return tuple(first + j for j in range(s) if first + j != ix)


def cousin_positions(level: int, index: int, s: int, L: int) -> tuple[tuple[int, ...], ...]:
    """The cousin tuples of node ``u = (level, index)``: children of each sibling of ``u``.

    Row ``k`` lists the level-``(level-1)`` indices ``s*u' + r`` (``r = 0..s-1``) of the
    children of the ``k``-th sibling ``u'`` (siblings in left-to-right order); these are the
    latent-context positions of the tuple below ``u`` (docs/theory.md section 3).

    Parameters
    ----------
    level : int
        Level of ``u``, ``1 <= level <= L-1``.
    index : int
        Index of ``u`` in its level.
    s, L : int
        Branching factor and depth.

    Returns
    -------
    tuple of tuple of int
        ``s-1`` rows of ``s`` indices.

    Examples
    --------
    >>> cousin_positions(1, 2, 2, 3)  # u = (1, 2), sibling (1, 3), its children 6, 7
    ((6, 7),)
    >>> cousin_positions(1, 1, 3, 2)
    ((0, 1, 2), (6, 7, 8))
    """
    s = _int("s", s, 2)
    L = _int("L", L, 1)
    lv, ix = _checked(level, index, s, L)
    if not 1 <= lv <= L - 1:
        raise ValueError(
            f"level must satisfy 1 <= level <= L-1 = {L - 1} (u needs children and a "
            f"parent), got {lv}"
        )
    return tuple(tuple(s * sib + r for r in range(s)) for sib in siblings(lv, ix, s, L))


def leaves_under(level: int, index: int, s: int, L: int | None = None) -> range:
    """Positions of the leaves below node ``(level, index)``: ``range(index*s**level, ...)``.

    Parameters
    ----------
    level, index : int
        The node.
    s : int
        Branching factor.
    L : int, optional
        Depth; when given, the node is checked to exist.

    Returns
    -------
    range
        The ``s**level`` leaf positions.

    Examples
    --------
    >>> leaves_under(2, 1, 2)
    range(4, 8)
    >>> list(leaves_under(0, 3, 2))
    [3]
    """
    s = _int("s", s, 2)
    L = None if L is None else _int("L", L, 1)
    lv, ix = _checked(level, index, s, L)
    size = s**lv
    return range(ix * size, (ix + 1) * size)


def derivation_tree(grammar: Grammar, data: npt.ArrayLike | Sample, row: int | None = None) -> Any:
    """The derivation tree of one datum as a :class:`networkx.DiGraph`.

    Nodes are keyed ``(level, index)`` and carry ``level``, ``index`` and ``symbol``;
    edges go parent -> child and carry ``position`` (the child's ``j`` in its parent).

    Parameters
    ----------
    grammar : Grammar
        The grammar.
    data : array_like of int or Sample
        Either one token string of length ``s**L`` (parsed with :func:`parse`), or a
        :class:`Sample`; with a Sample, ``row`` picks the datum and its latents are used
        when present (else its tokens are parsed).
    row : int, optional
        Row of the Sample (required with a Sample, not allowed otherwise).

    Returns
    -------
    networkx.DiGraph
        ``(s**(L+1) - 1) / (s - 1)`` nodes, root ``(L, 0)``.

    Raises
    ------
    ValueError
        If the string is ungrammatical, or ``row`` is missing, misplaced or out of range.

    Examples
    --------
    >>> from rhm_theory.model import Grammar, RHMParams
    >>> g = Grammar(RHMParams(v=2, m=1, s=2, L=1, n_c=2), [[[[0, 1]], [[1, 1]]]])
    >>> t = derivation_tree(g, [1, 1])
    >>> t.nodes[(1, 0)]["symbol"], sorted(t.successors((1, 0)))
    (1, [(0, 0), (0, 1)])
    >>> t.edges[(1, 0), (0, 1)]["position"]
    1
    """
    if not isinstance(grammar, Grammar):
        raise TypeError(f"grammar must be a Grammar, got {type(grammar).__name__}")
    p = grammar.params
    if isinstance(data, Sample):
        if row is None:
            raise ValueError("row must be given with a Sample (which datum to draw)")
        r = _int("row", row, 0)
        if r >= len(data):
            raise ValueError(f"row must satisfy 0 <= row < len(sample) = {len(data)}, got {r}")
        tokens = np.asarray(data.tokens[r])
        if data.levels is not None:
            if len(data.levels) != p.L or tokens.shape != (p.string_length,):
                raise ValueError(
                    f"sample does not match the grammar (L={p.L}, s**L={p.string_length})"
                )
            levels: list[npt.NDArray[Any]] = [np.asarray(lvl[r]) for lvl in data.levels]
        else:
            levels = list(parse(grammar, tokens))
    else:
        if row is not None:
            raise ValueError("row is only allowed with a Sample; pass one token string")
        tokens = np.asarray(data)
        if tokens.ndim != 1:
            raise ValueError(
                f"tokens must be one string of shape (s**L,) = ({p.string_length},), "
                f"got shape {tokens.shape}"
            )
        levels = list(parse(grammar, tokens))
    if int(levels[-1][0]) == p.unknown:
        raise ValueError("tokens are not grammatical: the string has no derivation tree")
    import networkx as nx  # lazy: `import rhm_theory` must not pay for networkx

    graph = nx.DiGraph()
    all_levels = [tokens, *levels]
    for lv, symbols in enumerate(all_levels):
        for ix, sym in enumerate(symbols.tolist()):
            graph.add_node((lv, ix), level=lv, index=ix, symbol=int(sym))
    for lv in range(1, p.L + 1):
        for ix in range(p.nodes_at_level(lv)):
            for j in range(p.s):
                graph.add_edge((lv, ix), (lv - 1, ix * p.s + j), position=j)
    return graph

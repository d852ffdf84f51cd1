"""The community's rules dict as torch tensors: ``sample_rules``, files of ``torch.save``."""

from __future__ import annotations

import os
from typing import Any

import torch

from rhm_theory.model.community import (
    community_grammar,
    community_rules,
    grammar_from_community_rules,
)
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams

__all__ = ["load_community_rules", "rules_tensors", "sample_rules", "save_community_rules"]


def rules_tensors(grammar: Grammar) -> dict[int, torch.Tensor]:
    """A grammar's rules as the community's dict of int64 tensors (root's rules at key 0).

    >>> g = sample_rules(4, 2, 2, 2, 2, seed=1)
    >>> rules_tensors(grammar_from_community_rules(g))[0].equal(g[0])
    True
    """
    return {i: torch.from_numpy(t) for i, t in community_rules(grammar).items()}


def sample_rules(v: int, n: int, m: int, s: int, L: int, seed: int = 42) -> dict[int, torch.Tensor]:
    """The community's ``sample_rules(v, n, m, s, L, seed)``: same signature, same tables.

    Parameters
    ----------
    v, n, m, s, L : int
        Vocabulary, classes, rules per symbol, tuple size, depth.
    seed : int, default 42
        The rules seed (the community's default).

    Returns
    -------
    dict of int to torch.Tensor
        ``{0: (n, m, s), 1..L-1: (v, m, s)}`` int64 tensors, bit-identical to the community's
        (:func:`rhm_theory.model.community.community_grammar`); the global :mod:`random`
        state is not touched.

    Examples
    --------
    >>> r = sample_rules(8, 2, 2, 2, 3, seed=0)
    >>> sorted(r), tuple(r[0].shape), r[1].dtype
    ([0, 1, 2], (2, 2, 2), torch.int64)
    """
    return rules_tensors(community_grammar(RHMParams(v=v, m=m, s=s, L=L, n_c=n), seed))


def load_community_rules(path: str | os.PathLike[str], num_features: int | None = None) -> Grammar:
    """The :class:`~rhm_theory.model.grammar.Grammar` of a rules dict saved with ``torch.save``.

    Accepts the dict ``sample_rules`` returns (``torch.save(dataset.rules, path)``), or a
    dict holding it under the key ``"rules"``. Loaded with ``weights_only=True`` (tensors
    and containers only, no code runs).

    Parameters
    ----------
    path : path-like
    num_features : int, optional
        ``v``; needed only for ``L = 1``.

    Returns
    -------
    Grammar
    """
    obj: Any = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and "rules" in obj:
        obj = obj["rules"]
    if isinstance(obj, dict):
        obj = {int(k): t for k, t in obj.items()}
    return grammar_from_community_rules(obj, num_features=num_features)


def save_community_rules(grammar: Grammar, path: str | os.PathLike[str]) -> None:
    """Write a grammar's rules with ``torch.save`` as the community's dict (see
    :func:`rules_tensors`), for code that reads ``dataset.rules`` from disk."""
    torch.save(rules_tensors(grammar), os.fspath(path))

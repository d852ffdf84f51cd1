"""A drop-in for the community's PyTorch ``RandomHierarchyModel`` dataset, on the core."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from rhm_theory.model.community import community_grammar, community_sample, community_trees
from rhm_theory.model.grammar import Grammar
from rhm_theory.model.params import RHMParams
from rhm_theory.model.sampling import sample
from rhm_theory.neural.dropin_rules import rules_tensors
from rhm_theory.validation import check_choice, check_int

__all__ = ["INT64_SWITCH", "SAMPLERS", "RandomHierarchyModel"]

#: Above this many trees the community code samples with replacement even when asked not to
#: (its ``max_data > 1e19`` test: tree indices would not fit int64).
INT64_SWITCH = 10**19
#: Data sources of the drop-in: ``community`` reproduces the community's draws bit for bit,
#: ``rhm_theory`` uses this library's counter-based numba sampler (other strings, faster).
SAMPLERS = ("community", "rhm_theory")
#: Strings with replacement drawn when ``train_size=-1`` (the community's choice).
_DEFAULT_WITH_REPLACEMENT = 1_000_000

Transform = Callable[[torch.Tensor, torch.Tensor], tuple[Any, Any]]


class RandomHierarchyModel(Dataset[tuple[Any, Any]]):
    """The community's ``RandomHierarchyModel(Dataset)``: same constructor, attributes, items.

    The rules are ``sample_rules(num_features, num_classes, num_synonyms, tuple_size,
    num_layers, seed=seed_rules)``, bit for bit; with the default ``sampler="community"``
    the strings and labels are those of the community code for ``seed_sample`` too, with
    and without replacement (:func:`rhm_theory.model.community.community_sample`). Strings
    are stored as tokens in the smallest unsigned dtype; ``__getitem__`` encodes the rows
    it returns (one-hot or ``long``) on the fly, so memory is that of the tokens, not of
    the one-hot floats. :attr:`features` builds the community's full encoded tensor on
    access, for code that reads it.

    Parameters
    ----------
    num_features, num_classes, num_synonyms, tuple_size, num_layers : int
        ``v``, ``n_c``, ``m``, ``s``, ``L``.
    seed_rules : int, default 0
        Seed of the rules (``sample_rules``).
    seed_sample : int, default 1
        Seed of the data.
    train_size : int, default -1
        Number of training strings; ``-1``: every tree (without replacement, in index
        order) or ``10**6`` strings (with replacement, with a ``RuntimeWarning``), as the
        community does.
    test_size : int, default 0
        Further strings after the training ones (capped at ``P_max - train_size`` without
        replacement).
    input_format : str, default "onehot"
        Contains ``"onehot"`` (float one-hot, layout ``[feature, position]`` flattened;
        ``"tuples"`` widens it to ``v**s`` classes) or ``"long"`` (int64 tokens plus one).
    whitening : int or bool, default 0
        Centre and scale the one-hot features (one-hot only).
    transform : callable, optional
        ``(x, y) -> (x, y)`` applied in ``__getitem__``.
    replacement : bool, default False
        Sample with replacement.
    sampler : {"community", "rhm_theory"}, default "community"
        ``community``: the community's draws, identical data. ``rhm_theory``: this library's
        counter-based sampler (:func:`rhm_theory.model.sampling.sample`, same law, other
        strings, several times faster).
    beyond_int64 : {"replacement", "exact"}, default "replacement"
        Without replacement and ``P_max > 10**19``: ``replacement`` switches to sampling
        with replacement with a ``RuntimeWarning`` (the community's behaviour, its data);
        ``exact`` samples without replacement through exact Python integers.

    Attributes
    ----------
    rules : dict of int to torch.Tensor
        The community's rules dict (int64, root's rules at key 0).
    grammar : Grammar
        The same rules as a :class:`~rhm_theory.model.grammar.Grammar` (for ILC, BP, the
        exact engine and ``measure``).
    tokens : torch.Tensor
        ``(N, s**L)`` tokens in the grammar's symbol dtype (``0..v-1``).
    labels : torch.Tensor
        ``(N,)`` int64 class labels (root symbols).

    Examples
    --------
    >>> d = RandomHierarchyModel(8, 2, 2, 2, 3, seed_rules=0, seed_sample=1, train_size=10)
    >>> x, y = d[0]
    >>> len(d), tuple(x.shape), x.dtype, d.tokens.dtype
    (10, (64,), torch.float32, torch.uint8)
    """

    def __init__(
        self,
        num_features: int = 8,
        num_classes: int = 2,
        num_synonyms: int = 2,
        tuple_size: int = 2,
        num_layers: int = 2,
        seed_rules: int = 0,
        seed_sample: int = 1,
        train_size: int = -1,
        test_size: int = 0,
        input_format: str = "onehot",
        whitening: int | bool = 0,
        transform: Transform | None = None,
        replacement: bool = False,
        *,
        sampler: str = "community",
        beyond_int64: str = "replacement",
    ) -> None:
        self.num_features = check_int("num_features", num_features, minimum=2)
        self.num_synonyms = check_int("num_synonyms", num_synonyms, minimum=1)
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        self.tuple_size = check_int("tuple_size", tuple_size, minimum=2)
        train_size = check_int("train_size", train_size, minimum=-1)
        test_size = check_int("test_size", test_size, minimum=0)
        self.sampler = check_choice("sampler", sampler, SAMPLERS)
        check_choice("beyond_int64", beyond_int64, ("replacement", "exact"))
        if not isinstance(input_format, str) or not (
            "onehot" in input_format or "long" in input_format
        ):
            raise ValueError(
                f"input_format must contain 'onehot' or 'long', got {input_format!r}")
        if "onehot" not in input_format and whitening:
            raise ValueError("whitening is only implemented for the one-hot input_format")
        self.input_format = input_format
        self.whitening = whitening
        self.transform = transform
        params = RHMParams(v=self.num_features, m=self.num_synonyms, s=self.tuple_size,
                           L=self.num_layers, n_c=self.num_classes)
        self.grammar: Grammar = community_grammar(params, seed_rules)
        self.rules = rules_tensors(self.grammar)

        replacement = bool(replacement)
        if not replacement and params.P_max > INT64_SWITCH and beyond_int64 == "replacement":
            warnings.warn(
                "Max dataset size cannot be represented with int64! Using sampling with "
                "replacement.", RuntimeWarning, stacklevel=2)
            replacement = True
        self.replacement = replacement
        tokens, labels = self._draw(params, train_size, test_size, seed_sample)
        self.tokens = torch.from_numpy(np.ascontiguousarray(tokens))
        self.labels = torch.from_numpy(labels.astype(np.int64))
        self._features: torch.Tensor | None = None

    def _draw(
        self, params: RHMParams, train_size: int, test_size: int, seed: int
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        if self.replacement:
            if train_size == -1:
                warnings.warn(
                    "Whole dataset (train_size=-1) not available with replacement! Using "
                    "train_size=1e6.", RuntimeWarning, stacklevel=3)
                train_size = _DEFAULT_WITH_REPLACEMENT
            P = train_size + test_size
        elif train_size == -1:
            P = params.P_max
        else:
            if train_size > params.P_max:
                raise ValueError(
                    f"train_size must satisfy train_size <= P_max = {params.P_max} without "
                    f"replacement, got {train_size}")
            P = train_size + min(test_size, params.P_max - train_size)
        if self.sampler == "rhm_theory":
            x = sample(self.grammar, P, seed, replace=self.replacement, latents=True)
            return x.tokens, x.labels
        if not self.replacement and train_size == -1:  # every tree, in index order
            if params.P_max > 2**62:
                raise ValueError(f"train_size=-1 asks for all P_max = {params.P_max} trees")
            x, y = community_trees(self.grammar, np.arange(params.P_max, dtype=np.int64))
            return x.tokens, y
        x, y = community_sample(self.grammar, P, seed, replace=self.replacement)
        return x.tokens, y

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Encode token rows (any leading shape) as the community's ``input_format`` does.

        One-hot: ``(..., v * s**L)`` floats, feature-major (``[a * s**L + position]``),
        whitened if asked. Long: int64 tokens plus one.
        """
        if "onehot" in self.input_format:
            width = self.num_features
            if "tuples" in self.input_format:
                width = self.num_features**self.tuple_size
            x = F.one_hot(tokens.long(), num_classes=width).float()
            if self.whitening:
                inv_sqrt_norm = (1.0 - 1.0 / self.num_features) ** -0.5
                x = (x - 1.0 / self.num_features) * inv_sqrt_norm
            return x.transpose(-1, -2).flatten(-2)
        return tokens.long() + 1

    @property
    def features(self) -> torch.Tensor:
        """All encoded strings, the community's ``features`` tensor (built on access: one-hot
        floats take ``4 v`` bytes per token where the tokens take one).

        Assigning a tensor stores it, and ``__getitem__`` then reads it (as the community's
        class does), for code that edits the features in place of the strings.
        """
        if self._features is not None:
            return self._features
        return self.encode(self.tokens)

    @features.setter
    def features(self, value: torch.Tensor) -> None:
        if not isinstance(value, torch.Tensor) or len(value) != len(self.labels):
            raise ValueError(f"features must be a tensor of {len(self.labels)} rows")
        self._features = value

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: Any) -> tuple[Any, Any]:
        """``(x, y)``: the encoded string(s) and label(s) at ``idx``, through ``transform``."""
        if self._features is not None:
            x, y = self._features[idx], self.labels[idx]
        else:
            x, y = self.encode(self.tokens[idx]), self.labels[idx]
        if self.transform:
            return self.transform(x, y)
        return x, y

    def get_rules(self) -> dict[int, torch.Tensor]:
        """The rules dict (the community's accessor)."""
        return self.rules

"""Sample-complexity laws ``P* ~ law(v, m, s, L, l, f)``: parsed, named, bracketed."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

__all__ = [
    "LAW_NAMES",
    "NAMED_LAWS",
    "Law",
    "LawPoint",
    "law",
    "near_alternatives",
    "parse_law",
]

#: The variables a law may use: alphabet size ``v``, rules per symbol ``m``, branching
#: ``s``, depth ``L``, level ``l`` (0 for whole-tree thresholds) and the grammatical fraction
#: ``f = m / v^(s-1)``; ``log`` (natural) is the one function.
LAW_NAMES = ("v", "m", "s", "L", "l", "f")
#: Longest law expression accepted (a guard on the parser, not a modelling choice).
_MAX_LAW_CHARS = 200
_BINOPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b,
}


class LawPoint(Protocol):
    """What a law is evaluated at: a threshold's configuration."""

    @property
    def v(self) -> int:
        """Vocabulary size ``v``."""

    @property
    def m(self) -> int:
        """Production rules per symbol ``m``."""

    @property
    def s(self) -> int:
        """Branching factor ``s``."""

    @property
    def L(self) -> int:
        """Depth ``L``."""

    @property
    def level(self) -> int:
        """Level ``l`` of a per-level threshold (0 for the whole tree)."""


def _check_node(node: ast.AST) -> None:
    """Raise ``ValueError`` unless ``node`` is in the arithmetic whitelist."""
    if isinstance(node, ast.Expression):
        _check_node(node.body)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ValueError(f"law: operator {type(node.op).__name__} is not allowed "
                             "(only + - * / **)")
        _check_node(node.left)
        _check_node(node.right)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise ValueError(f"law: unary {type(node.op).__name__} is not allowed")
        _check_node(node.operand)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ValueError(f"law: constant {node.value!r} is not a number")
    elif isinstance(node, ast.Name):
        if node.id not in LAW_NAMES:
            raise ValueError(f"law: unknown name {node.id!r}; allowed: {', '.join(LAW_NAMES)}")
    elif isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id == "log"
                and len(node.args) == 1 and not node.keywords):
            raise ValueError("law: the only call allowed is log(x), one argument")
        _check_node(node.args[0])
    else:
        raise ValueError(f"law: {type(node).__name__} is not allowed (numbers, "
                         f"{' '.join(LAW_NAMES)}, log(), + - * / ** and parentheses only)")


def _evaluate(node: ast.AST, env: Mapping[str, float]) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env)
    if isinstance(node, ast.BinOp):
        return float(_BINOPS[type(node.op)](_evaluate(node.left, env),
                                            _evaluate(node.right, env)))
    if isinstance(node, ast.UnaryOp):
        x = _evaluate(node.operand, env)
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, (int, float))  # checked by _check_node
        return float(node.value)
    if isinstance(node, ast.Call):
        return math.log(_evaluate(node.args[0], env))
    assert isinstance(node, ast.Name)
    return float(env[node.id])


def _exact(node: ast.AST, env: Mapping[str, Fraction]) -> Fraction | None:
    """The law in rational arithmetic, or ``None`` where it is not rational (``log``, a
    non-integer power)."""
    if isinstance(node, ast.Expression):
        return _exact(node.body, env)
    if isinstance(node, ast.BinOp):
        a, b = _exact(node.left, env), _exact(node.right, env)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Pow):
            if b.denominator != 1 or (a == 0 and b < 0):
                return None
            return a ** int(b)
        if isinstance(node.op, ast.Div) and b == 0:
            return None
        return Fraction(_BINOPS[type(node.op)](a, b))  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp):
        x = _exact(node.operand, env)
        return None if x is None else (-x if isinstance(node.op, ast.USub) else x)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, int):
            return Fraction(value)
        return Fraction(value) if isinstance(value, float) and value.is_integer() else None
    if isinstance(node, ast.Name):
        return env[node.id]
    return None


@dataclass(frozen=True)
class Law:
    """A sample-complexity law, parsed by :func:`parse_law` (an ``ast`` whitelist).

    ``expr`` is the canonical text (``(LAW)*v**0.3`` composes); ``name`` the short name
    reports use (default: ``expr``).
    """

    expr: str
    tree: ast.Expression = field(repr=False, compare=False)
    name: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        """The name to print: ``name`` when given, else ``expr``."""
        return self.name or self.expr

    def __call__(self, v: float, m: float, L: float, l: float = 0, s: float = 2) -> float:
        """The law's value (``f = m / v^(s-1)``)."""
        try:
            f = m / v ** (s - 1)
            return _evaluate(self.tree, {"v": v, "m": m, "L": L, "l": l, "s": s, "f": f})
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            raise ValueError(f"law {self.expr!r} cannot be evaluated at v={v}, m={m}, L={L}, "
                             f"l={l}, s={s}: {exc}") from None

    def exact(self, v: int, m: int, s: int, L: int, l: int = 0) -> Fraction | None:
        """The law in exact rational arithmetic (``None`` if it is not rational there).

        Sweeps build their ``P`` grids from it, so a grid never depends on rounding.

        >>> parse_law("v*m**3/(1-f)").exact(8, 2, 2, 3)
        Fraction(256, 3)
        """
        env = {"v": Fraction(v), "m": Fraction(m), "s": Fraction(s), "L": Fraction(L),
               "l": Fraction(l), "f": Fraction(m, v ** (s - 1))}
        return _exact(self.tree, env)

    def log_scale(self, p: LawPoint) -> float:
        """``log law`` at a threshold's configuration (raises unless positive, finite)."""
        val = self(p.v, p.m, p.L, p.level, p.s)
        if not (math.isfinite(val) and val > 0):
            raise ValueError(f"law {self.expr!r} must be positive and finite; it is {val} "
                             f"at v={p.v}, m={p.m}, L={p.L}, l={p.level}, s={p.s}")
        return math.log(val)

    def times(self, factor: str, name: str = "") -> Law:
        """This law times ``factor`` (an expression), e.g. a near alternative."""
        return parse_law(f"({self.expr})*{factor}", name=name)


def parse_law(expr: str, name: str = "") -> Law:
    """Parse a law in ``v, m, s, L, l, f`` safely (an ``ast`` whitelist, no ``eval``).

    Parameters
    ----------
    expr : str
        For example ``"v*m**3/(1-f)"``, ``"v*m**3*1.3**L"`` or ``"v*m*log(L*v*m)"``.
    name : str
        Short name for reports (default: the expression).

    Returns
    -------
    Law

    Examples
    --------
    >>> parse_law("v*m**3*1.5**L")(16, 2, 4)
    648.0
    >>> parse_law("v*m**3/(1-f)")(8, 2, 3)  # f = 2/8
    85.33333333333333
    >>> parse_law("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: law: the only call allowed is log(x), one argument
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError("law must be a non-empty string")
    if len(expr) > _MAX_LAW_CHARS:
        raise ValueError(f"law must have at most {_MAX_LAW_CHARS} characters, got {len(expr)}")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"law {expr!r} is not an arithmetic expression: {exc.msg}") from None
    _check_node(tree)
    return Law(expr.strip(), tree, name)


#: The named laws, as data: name -> expression. The paper's three objectives (own latents,
#: tokens, labels) for the success event "fixed error fraction" (``/(1-f)``, docs/theory.md
#: section 4) and for exact recovery (the union bound's ``log(L v m)``), the bare laws
#: (``f`` left out), the per-level laws and the powers of ``m`` the comparisons name.
NAMED_LAWS: dict[str, str] = {
    "v m^3": "v*m**3",
    "v m^3 / (1-f)": "v*m**3/(1-f)",
    "v m^3 log(L v m) / (1-f)": "v*m**3*log(L*v*m)/(1-f)",
    "v m^(L+1)": "v*m**(L+1)",
    "v m^(L+1) / (1-f)": "v*m**(L+1)/(1-f)",
    "v m^(L+1) log(L v m) / (1-f)": "v*m**(L+1)*log(L*v*m)/(1-f)",
    "v m^L": "v*m**L",
    "v m^L / (1-f)": "v*m**L/(1-f)",
    "v m^L log(L v m) / (1-f)": "v*m**L*log(L*v*m)/(1-f)",
    "v m^(l+2)": "v*m**(l+2)",
    "v m^(l+2) / (1-f)": "v*m**(l+2)/(1-f)",
    "v m^3 / s^(L-l)": "v*m**3/s**(L-l)",
    "v m^3 / s^(L-l) / (1-f)": "v*m**3/s**(L-l)/(1-f)",
    "occurrences P s^(L-l)/(v m)": "v*m/s**(L-l)",
    "v m^2": "v*m**2", "v m^4": "v*m**4", "v m^5": "v*m**5",
}


def law(name_or_expr: str) -> Law:
    """A named law of :data:`NAMED_LAWS` (with its name), or any expression parsed.

    >>> law("v m^3 / (1-f)").expr
    'v*m**3/(1-f)'
    >>> law("v*m**2").label
    'v*m**2'
    """
    if name_or_expr in NAMED_LAWS:
        return parse_law(NAMED_LAWS[name_or_expr], name=name_or_expr)
    return parse_law(name_or_expr)


#: Registered near alternatives of a claim, per axis it speaks about: ``v`` and ``m``
#: exponents off by 0.25 either way, depth (and level) by a factor ``1.15`` per step
#: either way (docs/theory.md section 10, "Both directions").
_NEAR: dict[str, tuple[tuple[str, str], ...]] = {
    "v": (("v^+0.25", "v**0.25"), ("v^-0.25", "v**-0.25")),
    "m": (("m^+0.25", "m**0.25"), ("m^-0.25", "m**-0.25")),
    "L": (("1.15^L", "1.15**L"), ("1.15^-L", "1.15**(-L)")),
    "l": (("1.15^l", "1.15**l"), ("1.15^-l", "1.15**(-l)")),
}


def near_alternatives(claim: Law, axes: tuple[str, ...] = ("v", "m", "L")) -> dict[str, Law]:
    """The registered near alternatives of ``claim`` on each of ``axes``: name -> law.

    >>> sorted(near_alternatives(law("v m^3"), ("v",)))
    ['v m^3 x v^+0.25', 'v m^3 x v^-0.25']
    """
    out: dict[str, Law] = {}
    for axis in axes:
        if axis not in _NEAR:
            raise ValueError(f"axes must be among {tuple(_NEAR)}, got {axis!r}")
        for suffix, factor in _NEAR[axis]:
            name = f"{claim.label} x {suffix}"
            out[name] = claim.times(factor, name)
    return out

"""Laws of ``P*``: the parser's whitelist, exact rational values, named laws, near laws."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from rhm_theory.scaling import LAW_NAMES, NAMED_LAWS, law, near_alternatives, parse_law
from rhm_theory.sweeps.thresholds import CONTEXT_LAWS, method_scale

#: (v, m, s, L, l) with f = m / v^(s-1) < 1 and 1 <= l < L.
GRID = [(v, m, s, L, l) for v in (5, 8, 13, 16, 64, 96) for m in (1, 2, 3, 4)
        for s in (2, 3) for L in (2, 3, 5, 8) for l in (1, L - 1) if m < v ** (s - 1)]


def test_the_variables_are_v_m_s_L_l_f() -> None:
    assert set(LAW_NAMES) == {"v", "m", "s", "L", "l", "f"}
    x = parse_law("v + 10*m + 100*s + 1000*L + 10000*l")
    assert x(2, 3, 4, l=5, s=6) == 2 + 30 + 600 + 4000 + 50000


@pytest.mark.parametrize(("v", "m", "s"), [(8, 2, 2), (5, 4, 2), (3, 2, 3), (16, 16, 3)])
def test_f_is_the_grammatical_fraction(v: int, m: int, s: int) -> None:
    assert parse_law("f")(v, m, 3, s=s) == pytest.approx(m / v ** (s - 1), rel=1e-15)
    assert parse_law("1/(1-f)")(v, m, 3, s=s) == pytest.approx(1 / (1 - m / v ** (s - 1)))


def test_log_is_the_natural_log() -> None:
    assert parse_law("log(L*v*m)")(8, 2, 3) == pytest.approx(math.log(48), rel=1e-15)
    assert parse_law("v*m**3*log(L*v*m)/(1-f)")(16, 4, 5) == pytest.approx(
        16 * 64 * math.log(320) / (1 - 0.25), rel=1e-14)


@pytest.mark.parametrize(("expr", "match"), [
    ("__import__('os')", "only call allowed is log"),
    ("exp(v)", "only call allowed is log"),
    ("log(v, 2)", "only call allowed is log"),
    ("log(x=v)", "only call allowed is log"),
    ("v.real", "Attribute is not allowed"),
    ("k*v", "unknown name 'k'"),
    ("v % m", "operator Mod is not allowed"),
    ("v // m", "operator FloorDiv is not allowed"),
    ("not v", "unary Not is not allowed"),
    ("v < m", "Compare is not allowed"),
    ("'v'", "is not a number"),
    ("True*v", "is not a number"),
    ("[v]", "List is not allowed"),
    ("v m", "not an arithmetic expression"),
    ("", "non-empty string"),
    ("   ", "non-empty string"),
    ("v+" * 100 + "v", "at most 200 characters"),
])
def test_the_whitelist_refuses_everything_else(expr: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_law(expr)


def test_a_law_that_cannot_be_evaluated_says_where() -> None:
    with pytest.raises(ValueError, match=r"cannot be evaluated at v=4, m=4"):
        parse_law("1/(1-f)")(4, 4, 3)
    with pytest.raises(ValueError, match="positive and finite"):
        from rhm_theory.scaling import ThresholdPoint
        parse_law("v-100").log_scale(ThresholdPoint(8, 2, 2, 3, 0, 0, 10.0))


def test_exact_is_rational_arithmetic() -> None:
    assert parse_law("v*m**3/(1-f)").exact(8, 2, 2, 3) == Fraction(256, 3)
    assert parse_law("f").exact(3, 2, 3, 4) == Fraction(2, 9)
    assert parse_law("v*m**(L+1)").exact(16, 4, 2, 5) == 16 * 4**6
    assert parse_law("v*m**3/s**(L-l)").exact(8, 2, 2, 5, 2) == Fraction(64, 8)
    assert parse_law("2.0*v - 0.0").exact(8, 2, 2, 3) == 16
    assert parse_law("-v + +m").exact(8, 2, 2, 3) == -6
    # Not rational: log, a non-integer power or constant, a division by zero, 0 ** -1.
    for expr in ("log(v)", "v**0.5", "1.5*v", "v/(1-f)", "(m-2)**(-1)"):
        assert parse_law(expr).exact(2, 2, 2, 3) is None, expr


@pytest.mark.parametrize("expr", sorted({*NAMED_LAWS.values(), "v*m**3/(1-f)**2",
                                         "(v+m)**2/(v*m) - f"}))
def test_exact_agrees_with_the_float_value(expr: str) -> None:
    x = parse_law(expr)
    for v, m, s, L, l in GRID:
        exact = x.exact(v, m, s, L, l)
        if exact is None:
            assert "log" in expr
            continue
        assert float(exact) == pytest.approx(x(v, m, L, l, s), rel=1e-12)


def test_the_context_laws_are_integers_and_the_paper_scales() -> None:
    for name in CONTEXT_LAWS.values():
        for v, m, s, L, _ in GRID:
            exact = law(name).exact(v, m, s, L)
            assert exact is not None and exact.denominator == 1
    assert method_scale("latent", 16, 4, 2, 5) == 16 * 4**3
    assert method_scale("token", 16, 4, 2, 5) == 16 * 4**6
    assert method_scale("label", 16, 4, 2, 5) == 16 * 4**5
    with pytest.raises(ValueError, match="method must be one of"):
        method_scale("labels", 16, 4, 2, 5)


@pytest.mark.parametrize("name", sorted(NAMED_LAWS))
def test_every_named_law_parses_and_is_positive_on_a_grid(name: str) -> None:
    x = law(name)
    assert x.label == name and x.expr == NAMED_LAWS[name]
    for v, m, s, L, l in GRID:
        value = x(v, m, L, l, s)
        assert math.isfinite(value) and value > 0, (name, v, m, s, L, l)


def test_an_expression_is_its_own_label() -> None:
    x = law("v*m**2")
    assert x.label == x.expr == "v*m**2" and x.name == ""
    assert law("v m^3") == parse_law("v*m**3")  # equality on the expression only


@pytest.mark.parametrize("claim", ["v m^3 / (1-f)", "v*m**(L+1)", "v m^(l+2) / (1-f)"])
def test_near_alternatives_names_and_values(claim: str) -> None:
    base = law(claim)
    alts = near_alternatives(base, ("v", "m", "L", "l"))
    factors = {"v^+0.25": lambda v, m, L, l: v**0.25, "v^-0.25": lambda v, m, L, l: v**-0.25,
               "m^+0.25": lambda v, m, L, l: m**0.25, "m^-0.25": lambda v, m, L, l: m**-0.25,
               "1.15^L": lambda v, m, L, l: 1.15**L, "1.15^-L": lambda v, m, L, l: 1.15**-L,
               "1.15^l": lambda v, m, L, l: 1.15**l, "1.15^-l": lambda v, m, L, l: 1.15**-l}
    assert list(alts) == [f"{claim} x {k}" for k in factors]
    for name, alt in alts.items():
        assert alt.label == name
        factor = factors[name.rsplit(" x ", 1)[1]]
        for v, m, s, L, l in GRID:
            assert alt(v, m, L, l, s) == pytest.approx(
                base(v, m, L, l, s) * factor(v, m, L, l), rel=1e-12)


def test_near_alternatives_default_axes_and_bad_axis() -> None:
    assert sorted(near_alternatives(law("v m^3"))) == sorted(
        f"v m^3 x {k}" for k in ("v^+0.25", "v^-0.25", "m^+0.25", "m^-0.25",
                                 "1.15^L", "1.15^-L"))
    with pytest.raises(ValueError, match="axes must be among"):
        near_alternatives(law("v m^3"), ("f",))

"""The interval-censored, cluster-robust regression of rhm_theory.scaling.fit, against
statsmodels (no censoring) and against a direct likelihood optimisation (censoring).

What is compared:

- no censoring, no clusters: coefficients, standard errors, residual sd and df against
  ``statsmodels.api.OLS(...).fit()`` (classical OLS), to 1e-10;
- no censoring, clusters: the library's CR2 (Bell-McCaffrey) standard errors. statsmodels
  has no CR2 for clusters, so (i) with one row per cluster CR2 is HC2, compared to
  statsmodels' ``cov_type="HC2"`` to 1e-10; (ii) with real clusters, an independent CR2
  written here (``scipy.linalg.sqrtm`` of ``(I - H_gg)^-1``) to 1e-10, and the same code
  with the adjustment removed is statsmodels' CR0 (``cov_type="cluster"``,
  ``use_correction=False``) to 1e-10, so the sandwich itself is checked against statsmodels;
- censoring: coefficients and residual sd against ``scipy.optimize.minimize`` of the
  interval-censored normal likelihood written here, to 1e-5, and the unclustered standard
  errors against the inverse of a numerical Hessian of that likelihood (scaled by
  ``n / (n - p)``), to 1e-4 relative.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import linalg, optimize, stats

from rhm_theory.scaling import ThresholdPoint, interval_regression, loglinear_fit

sm = pytest.importorskip("statsmodels.api")


def _design(n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    return np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(0, 3, size=n)])


def test_no_censoring_no_clusters_is_statsmodels_ols() -> None:
    rng = np.random.default_rng(0)
    X = _design(40, rng)
    y = X @ np.array([1.0, -0.5, 2.0]) + rng.normal(0, 0.3, 40)
    beta, se, sd, df = interval_regression(X, y, y)
    ref = sm.OLS(y, X).fit()
    np.testing.assert_allclose(beta, ref.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-10)
    assert sd == pytest.approx(math.sqrt(ref.scale), rel=1e-10)
    assert df == ref.df_resid == 37


def test_one_row_per_cluster_is_statsmodels_hc2() -> None:
    rng = np.random.default_rng(1)
    X = _design(30, rng)
    y = X @ np.array([0.5, 1.0, -1.0]) + rng.normal(0, 0.2, 30) * (1 + X[:, 2])
    beta, se, _, df = interval_regression(X, y, y, groups=list(range(30)))
    ref = sm.OLS(y, X).fit(cov_type="HC2")
    np.testing.assert_allclose(beta, ref.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-10)
    assert 1 <= df <= 29


def _cluster_se(X: npt.NDArray[np.float64], resid: npt.NDArray[np.float64],
                gid: npt.NDArray[np.int64], adjust: bool) -> npt.NDArray[np.float64]:
    """Cluster sandwich written from its definition: CR2 (``adjust``) or CR0."""
    bread = np.linalg.inv(X.T @ X)
    H = X @ bread @ X.T
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in np.unique(gid):
        r = gid == g
        e = resid[r]
        if adjust:
            A = np.real(linalg.sqrtm(np.linalg.inv(np.eye(int(r.sum())) - H[np.ix_(r, r)])))
            e = A @ e
        s = X[r].T @ e
        meat += np.outer(s, s)
    return np.asarray(np.sqrt(np.diag(bread @ meat @ bread)))


def test_clustered_standard_errors_are_cr2() -> None:
    rng = np.random.default_rng(2)
    sizes = rng.integers(2, 6, size=12)  # clusters of unequal size
    gid = np.repeat(np.arange(12), sizes)
    n = gid.size
    X = _design(n, rng)
    shared = rng.normal(0, 0.4, 12)[gid]  # noise shared within a cluster
    y = X @ np.array([1.0, 0.3, -0.7]) + shared + rng.normal(0, 0.2, n)
    beta, se, _, df = interval_regression(X, y, y, groups=[f"g{g}" for g in gid])
    ols = sm.OLS(y, X).fit()
    resid = y - X @ ols.params
    np.testing.assert_allclose(beta, ols.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(se, _cluster_se(X, resid, gid, adjust=True), rtol=1e-10)
    # The sandwich of the reference code is statsmodels' CR0 without the adjustment.
    cr0 = sm.OLS(y, X).fit(cov_type="cluster",
                          cov_kwds={"groups": gid, "use_correction": False})
    np.testing.assert_allclose(_cluster_se(X, resid, gid, adjust=False), cr0.bse, rtol=1e-10)
    # CR2's adjustment inflates each cluster's residuals ((I - H_gg)^-1/2 >= I); on this
    # design every standard error is at least CR0's.
    assert np.all(se >= cr0.bse * (1 - 1e-12))
    assert 1 <= df <= 11


def _censored_nll(theta: npt.NDArray[np.float64], X: npt.NDArray[np.float64],
                  lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64]) -> float:
    """-log likelihood of y ~ N(X beta, sd^2) seen as [lo, hi] (a point when equal)."""
    beta, sd = theta[:-1], math.exp(theta[-1])
    mu = X @ beta
    out = 0.0
    for m, a, b in zip(mu, lo, hi, strict=True):
        if a == b:
            out -= stats.norm.logpdf(a, m, sd)
        elif math.isinf(b):
            out -= stats.norm.logsf(a, m, sd)
        else:
            out -= stats.norm.logcdf(b, m, sd)
    return out


def _censored_data(seed: int) -> tuple[npt.NDArray[np.float64], ...]:
    rng = np.random.default_rng(seed)
    X = _design(50, rng)
    y = X @ np.array([1.0, 0.8, 0.5]) + rng.normal(0, 0.4, 50)
    lo, hi = y.copy(), y.copy()
    top, bottom = np.quantile(y, 0.8), np.quantile(y, 0.1)
    right, left = y > top, y < bottom
    lo[right], hi[right] = top, math.inf  # above the grid: P* > P_max
    lo[left], hi[left] = -math.inf, bottom  # below it: P* <= P_min
    assert right.sum() >= 5 and left.sum() >= 3
    return X, lo, hi


@pytest.mark.parametrize("seed", [3, 4])
def test_censored_fit_is_the_interval_likelihood_maximum(seed: int) -> None:
    X, lo, hi = _censored_data(seed)
    beta, se, sd, df = interval_regression(X, lo, hi)
    start = np.append(np.linalg.lstsq(X, np.where(np.isfinite(lo), lo, hi), rcond=None)[0],
                      0.0)
    ref = optimize.minimize(_censored_nll, start, args=(X, lo, hi), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40000,
                                     "maxfev": 40000})
    assert ref.success
    np.testing.assert_allclose(beta, ref.x[:-1], rtol=0, atol=1e-5)
    assert sd == pytest.approx(math.exp(ref.x[-1]), abs=1e-5)
    # Standard errors: inverse observed information, scaled by n / (n - p).
    n, k = X.shape
    hess = np.empty((k + 1, k + 1))
    h = 1e-4
    for i in range(k + 1):
        for j in range(k + 1):
            e_i, e_j = np.eye(k + 1)[i] * h, np.eye(k + 1)[j] * h
            hess[i, j] = (_censored_nll(ref.x + e_i + e_j, X, lo, hi)
                          - _censored_nll(ref.x + e_i - e_j, X, lo, hi)
                          - _censored_nll(ref.x - e_i + e_j, X, lo, hi)
                          + _censored_nll(ref.x - e_i - e_j, X, lo, hi)) / (4 * h * h)
    want = np.sqrt(np.diag(np.linalg.inv(hess))[:k] * n / (n - k))
    np.testing.assert_allclose(se, want, rtol=1e-4)
    assert df == n - k


def test_censored_rows_pull_the_fit_past_their_bound() -> None:
    X, lo, hi = _censored_data(5)
    exact = np.isfinite(lo) & np.isfinite(hi)
    beta_c, *_ = interval_regression(X, lo, hi)
    beta_d, *_ = interval_regression(X[exact], lo[exact], hi[exact])  # censored rows dropped
    right = np.isinf(hi)
    # The right-censored rows' fitted values move up once they count as > bound.
    assert np.mean(X[right] @ beta_c) > np.mean(X[right] @ beta_d)


def test_bad_intervals_and_groups_are_refused() -> None:
    X = _design(6, np.random.default_rng(6))
    y = np.arange(6.0)
    with pytest.raises(ValueError, match="equal or a half-line"):
        interval_regression(X, y, y + 1.0)
    with pytest.raises(ValueError, match="groups must have one entry per row"):
        interval_regression(X, y, y, groups=[0, 1])


def test_loglinear_fit_is_interval_regression_on_config_means() -> None:
    rng = np.random.default_rng(7)
    # Seeds drawn per depth (100 L + index): independent rows, no clustering.
    pts = [ThresholdPoint(v, m, 2, L, 0, 100 * L + sd, float(5 * v * m**3 * 1.1**L
                                                            * math.exp(rng.normal(0, 0.2))))
           for v, m in ((8, 2), (16, 2), (32, 2), (12, 3), (16, 4)) for L in (3, 4, 5)
           for sd in range(3)]
    fit = loglinear_fit(pts, unit="config")
    keys = sorted({p.config for p in pts})
    y = np.array([np.mean([math.log(p.P_star) for p in pts if p.config == k]) for k in keys])
    X = np.array([[1.0, math.log(k[0]), math.log(k[1]), k[3]] for k in keys])
    ref = sm.OLS(y, X).fit()
    for i, name in enumerate("cabd"):
        assert fit.coef[name] == pytest.approx(ref.params[i], abs=1e-10)
        assert fit.se[name] == pytest.approx(ref.bse[i], rel=1e-10)
        low, high = ref.conf_int(0.05)[i]
        assert fit.low[name] == pytest.approx(low, abs=1e-8)
        assert fit.high[name] == pytest.approx(high, abs=1e-8)
    assert fit.df == ref.df_resid and fit.n_configs == len(keys) and fit.n_runs == len(pts)


def test_loglinear_fit_is_interval_regression_on_runs_clustered_by_configuration() -> None:
    """The rule's fit (``unit="run"``): one row per run, least squares, CR2 standard errors
    with the configuration as the cluster (the independent CR2 above)."""
    rng = np.random.default_rng(7)
    pts = [ThresholdPoint(v, m, 2, L, 0, 100 * L + sd, float(5 * v * m**3 * 1.1**L
                                                            * math.exp(rng.normal(0, 0.2))))
           for v, m in ((8, 2), (16, 2), (32, 2), (12, 3), (16, 4)) for L in (3, 4, 5)
           for sd in range(3)]
    fit = loglinear_fit(pts)
    pts = sorted(pts, key=lambda p: (p.config, p.grammar_seed))
    y = np.array([math.log(p.P_star) for p in pts])
    X = np.array([[1.0, math.log(p.v), math.log(p.m), p.L] for p in pts])
    gid = np.unique([p.config for p in pts], axis=0, return_inverse=True)[1].ravel()
    ref = sm.OLS(y, X).fit()
    se = _cluster_se(X, y - X @ ref.params, gid, adjust=True)
    for i, name in enumerate("cabd"):
        assert fit.coef[name] == pytest.approx(ref.params[i], abs=1e-10)
        assert fit.se[name] == pytest.approx(se[i], rel=1e-10)
    assert fit.n_clusters == 15 and fit.n_configs == 15 and fit.n_runs == len(pts)

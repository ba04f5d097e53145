"""Python API of tsunagu.bayesopt and tsunagu.campaign: the same library as the CLI, checked against independent
truths (scikit-learn's GP, closed-form EI, the simulated robot's known optimum)."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import tsunagu
from tsunagu.bayesopt import GaussianProcess, Optimizer, Space, expected_improvement, hypervolume, pareto_front
from tsunagu.campaign import Campaign

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "examples" / "campaign" / "sputter.toml"
ROBOT = REPO / "examples" / "campaign" / "sputter_robot.py"


def branin(x, y):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x ** 2 + c * x - 6) ** 2 + 10 * (1 - t) * np.cos(x) + 10


BRANIN_MIN = 0.397887357729739  # Dixon & Szegő (1978); the three global minima share this value


def branin_space():
    return Space(parameters=[{"name": "x", "low": -5.0, "high": 10.0}, {"name": "y", "low": 0.0, "high": 15.0}],
                 objectives=[{"name": "f", "direction": "minimize"}])


def check_gradient(gp, theta, abs_tol):
    """The analytic log-marginal-likelihood gradient at theta against central differences (step 1e-5)."""
    _, g = gp.log_marginal_likelihood(theta, eval_gradient=True)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = 1e-5
        fd = (gp.log_marginal_likelihood(theta + e) - gp.log_marginal_likelihood(theta - e)) / 2e-5
        assert g[i] == pytest.approx(fd, rel=1e-4, abs=abs_tol), i


def test_gp_matches_scikit_learn_posterior_with_fixed_hyperparameters():
    sk = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(30, 3))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2]
    ls = np.array([0.3, 0.5, 0.8])
    ref = sk.GaussianProcessRegressor(kernels.ConstantKernel(1.7, "fixed") * kernels.Matern(ls, "fixed", nu=2.5),
                                      alpha=1e-3, optimizer=None, normalize_y=False).fit(X, y)
    gp = GaussianProcess("matern52", noise=1e-3, normalize_x=False, standardize_y=False, optimize=False)
    gp.set_hyperparameters(1.7, ls, 1e-3).fit(X, y)
    Xs = rng.uniform(size=(50, 3))
    m_ref, sd_ref = ref.predict(Xs, return_std=True)
    m, sd = gp.predict(Xs, return_std=True)
    np.testing.assert_allclose(m, m_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sd, sd_ref, rtol=1e-7, atol=1e-10)
    assert gp.log_marginal_likelihood() == pytest.approx(ref.log_marginal_likelihood_value_, rel=1e-9)


def test_warped_gp_matches_scikit_learn_on_kumaraswamy_warped_inputs():
    """warp_inputs with fixed warp parameters is a plain GP on 1 - (1 - x^a)^b (x mapped to [eps, 1 - eps],
    eps = 1e-7): scikit-learn on inputs warped by hand is the independent reference."""
    sk = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(30, 2))
    y = np.sin(6 * X[:, 0] ** 0.3) + X[:, 1]
    a, b, ls = np.array([0.3, 2.0]), np.array([1.5, 0.7]), np.array([0.4, 0.6])

    def warp(Z):
        eps = 1e-7
        Ze = eps + (1 - 2 * eps) * np.clip(Z, 0, 1)
        return 1 - (1 - Ze ** a) ** b

    ref = sk.GaussianProcessRegressor(kernels.ConstantKernel(1.3, "fixed") * kernels.Matern(ls, "fixed", nu=1.5),
                                      alpha=1e-3, optimizer=None, normalize_y=False).fit(warp(X), y)
    gp = GaussianProcess("matern32", noise=1e-3, normalize_x=False, standardize_y=False, optimize=False,
                         warp_inputs=True)
    gp.set_hyperparameters(1.3, ls, 1e-3, warp_a=a, warp_b=b).fit(X, y)
    Xs = rng.uniform(size=(40, 2))
    m_ref, sd_ref = ref.predict(warp(Xs), return_std=True)
    m, sd = gp.predict(Xs, return_std=True)
    np.testing.assert_allclose(m, m_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sd, sd_ref, rtol=1e-7, atol=1e-10)
    prior = sum(-0.5 * np.log(v) ** 2 / 0.75 - 0.5 * np.log(2 * np.pi * 0.75) for v in np.r_[a, b])
    assert gp.log_marginal_likelihood() == pytest.approx(ref.log_marginal_likelihood_value_ + prior, rel=1e-9)
    h = gp.hyperparameters
    np.testing.assert_allclose(h["warp_a"], a)
    np.testing.assert_allclose(h["warp_b"], b)
    # a learned fit: theta carries log a and log b; the gradient matches finite differences at a well-conditioned
    # theta (the fitted one here is nearly linear, s2 ~ 1e4, where K is too ill-conditioned for differences)
    fitted = GaussianProcess("matern32", warp_inputs=True, normalize_x=False).fit(X, y + 0.01 * rng.standard_normal(30))
    assert fitted.theta.size == 1 + 2 + 1 + 4
    theta = np.r_[0.0, np.log([0.4, 0.6]), np.log(1e-2), np.log(a), np.log(b)]
    check_gradient(fitted, theta, abs_tol=1e-5)
    with pytest.raises(ValueError, match="warp_b: entry 1"):
        GaussianProcess(warp_inputs=True).set_hyperparameters(1.0, ls, 1e-3, warp_a=a, warp_b=[1.0, -1.0])
    with pytest.raises(ValueError, match="warp_inputs"):
        GaussianProcess().set_hyperparameters(1.0, ls, 1e-3, warp_a=a, warp_b=b)


def test_lml_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(25, 2))
    # noisy data keep the fitted noise off its lower bound, where K is near-singular and the LML itself is only
    # known to ~1e-4 (jitter), which would swamp a finite difference
    y = np.cos(4 * X[:, 0]) * X[:, 1] + 0.05 * rng.standard_normal(25)
    gp = GaussianProcess("rbf").fit(X, y)
    theta = gp.theta
    check_gradient(gp, theta, abs_tol=1e-6)


def test_lengthscale_floor_and_dimscaled_prior_reach_the_gp_fit():
    """A rough target pulls the unconstrained fit below 0.4; lengthscale_min holds it there. The dimension-scaled
    prior (scipy's log-normal densities, as in the C++ golden test) shifts the objective by its log density."""
    from scipy.stats import lognorm

    rng = np.random.default_rng(4)
    X = rng.uniform(size=(40, 2))
    y = np.sin(60 * X[:, 0]) + 0.1 * X[:, 1]
    assert GaussianProcess().fit(X, y).hyperparameters["lengthscales"][0] < 0.4
    ls = GaussianProcess(lengthscale_min=0.4).fit(X, y).hyperparameters["lengthscales"]
    assert min(ls) >= 0.4 * (1 - 1e-12)
    with pytest.raises(tsunagu.InvalidArgument, match="lengthscale_min"):
        GaussianProcess(lengthscale_min=0.0)
    with pytest.raises(ValueError, match="dimscaled"):
        GaussianProcess(prior="lognormal")
    h = (1.3, [0.3, 2.0], 4e-3)
    plain = GaussianProcess(optimize=False).set_hyperparameters(*h).fit(X, y)
    dsp = GaussianProcess(optimize=False, prior="dimscaled").set_hyperparameters(*h).fit(X, y)
    mu, s = math.sqrt(2) + 0.5 * math.log(2), math.sqrt(3)
    expected = sum(lognorm(s=s, scale=math.exp(mu)).logpdf(v) for v in h[1]) + \
        lognorm(s=1.0, scale=math.exp(-4)).logpdf(h[2])
    assert dsp.log_marginal_likelihood() - plain.log_marginal_likelihood() == pytest.approx(expected, abs=1e-9)


def test_expected_improvement_closed_form():
    from scipy.stats import norm
    mu, sigma, best = 1.2, 0.7, 1.0
    z = (mu - best) / sigma
    assert expected_improvement(mu, sigma, best) == pytest.approx(sigma * (z * norm.cdf(z) + norm.pdf(z)), rel=1e-12)


def test_pareto_and_hypervolume_on_a_hand_example():
    Y = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.5, 1.5]])
    assert list(pareto_front(Y)) == [0, 1, 2]
    # staircase over reference (0, 0): 1*3 + 1*2 + 1*1
    assert hypervolume(Y[:3], np.zeros(2)) == pytest.approx(6.0)


def test_optimizer_finds_branin_minimum_within_budget():
    space = branin_space()
    X = space.sample(5, seed=1)
    y = branin(X[:, 0], X[:, 1])
    opt = Optimizer(space, seed=2)
    for _ in range(25):
        s = opt.suggest(X, y, batch=1)
        X = np.vstack([X, s["points"]])
        y = np.append(y, branin(*s["points"][0]))
    assert y.min() - BRANIN_MIN < 0.05
    assert set(s["rows"][0]) == {"x", "y"}


def test_batch_points_are_distinct_and_feasible():
    space = Space(parameters=[{"name": "a", "low": 0.0, "high": 1.0}, {"name": "b", "low": 0.0, "high": 1.0},
                              {"name": "kind", "type": "categorical", "choices": ["p", "q"]}],
                  constraints=[{"coefficients": {"a": 1.0, "b": 1.0}, "upper": 1.2}],
                  objectives=[{"name": "f", "direction": "maximize"}])
    X = space.sample(8, seed=3)
    y = X[:, 0] - (X[:, 1] - 0.3) ** 2 + 0.2 * X[:, 2]
    s = Optimizer(space, seed=4).suggest(X, y, batch=3)
    P = s["points"]
    assert P.shape == (3, 3)
    assert len({tuple(np.round(p, 9)) for p in P}) == 3
    assert all(space.feasible(p) for p in P)
    assert all(r["kind"] in ("p", "q") for r in s["rows"])


def test_bad_input_raises_value_errors_naming_the_problem():
    space = branin_space()
    with pytest.raises(ValueError, match="unknown key 'lo'"):
        Space(parameters=[{"name": "x", "lo": 0, "high": 1}])
    with pytest.raises(ValueError, match="acquisition"):
        Optimizer(space, acquisition="best")
    with pytest.raises(ValueError, match="spread: unknown 'noisy'"):
        Optimizer(space, spread="noisy")
    with pytest.raises(ValueError, match="y transform: unknown 'boxcox'"):
        Optimizer(space, y_transform="boxcox")
    with pytest.raises(ValueError, match="input_warp: 'rank' needs a candidate pool"):
        Optimizer(space, input_warp="rank").suggest(np.array([[0.1, 0.2], [0.5, 0.5]]), [1.0, 2.0])
    with pytest.raises(ValueError, match="non-finite"):
        Optimizer(space).suggest(np.array([[np.nan, 1.0]]), [1.0])
    with pytest.raises(ValueError, match="expected shape"):
        Optimizer(space).suggest(np.zeros((3, 2)), [1.0, 2.0])
    with pytest.raises(ValueError, match="pending: expected 2 columns"):
        Optimizer(space).suggest(np.zeros((3, 2)), [1.0, 2.0, 3.0], pending=np.zeros((1, 3)))


def test_campaign_drives_the_simulated_robot_and_resumes(tmp_path):
    db = tmp_path / "lab.sqlite"
    c = Campaign.create(SPEC, db)
    adapter = f"command:{sys.executable} {ROBOT} --seed 5"
    first = c.run(adapter, max_experiments=4)
    assert first["stop_reason"] == "max-experiments reached"
    again = Campaign(db)  # a new process would do the same: everything is in the database
    rest = again.run(adapter)
    assert rest["stop_reason"] == "budget reached"
    st = again.status()
    assert st["counts"]["proposals"] == 30
    assert st["counts"]["done"] + st["counts"]["failed"] == 30
    ids = [e["proposal"] for e in st["experiments"] if e["state"] == "done"]
    assert len(ids) == len(set(ids))  # every proposal measured at most once
    best = st["best"]["values"]["resistivity"]
    assert best < 1.0e-3  # the robot's optimum is 3.0e-4 ohm cm; random films average ~10^-2
    trace = again.best_so_far()
    assert np.all(np.diff(trace) <= 0)
    out = tmp_path / "results.csv"
    again.export(out)
    assert out.read_text().splitlines()[0].startswith("id,")


def test_campaign_refuses_a_foreign_database(tmp_path):
    import sqlite3
    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("create table t(x)")
    con.commit()
    con.close()
    with pytest.raises(tsunagu.ParseError):
        Campaign(db)


def test_run_pool_uses_the_cli_defaults_and_equals_the_cli_trace(tmp_path, cli):
    """tsunagu.bayesopt.run_pool and `tsunagu bo pool` call the same library function with the same pool defaults
    (UCB, kappa 1, rank-warped inputs, Matern 3/2): same seed, same order. Rank warping changes the run on a column
    that crowds one end (x = t^3) and is invariant to that monotone distortion."""
    import json
    import subprocess

    from tsunagu.bayesopt import run_pool

    rng = np.random.default_rng(3)
    t = rng.random((80, 2))
    y = np.sin(5 * t[:, 0]) * np.cos(3 * t[:, 1])
    plain, cubed = tmp_path / "plain.csv", tmp_path / "cubed.csv"
    np.savetxt(plain, np.column_stack([t, y]), delimiter=",", header="a,b,y", comments="", fmt="%.17g")
    np.savetxt(cubed, np.column_stack([t ** 3, y]), delimiter=",", header="a,b,y", comments="", fmt="%.17g")
    kw = dict(initial=3, iterations=6, seed=5, threads=1)
    r = run_pool(cubed, "y", **kw)
    assert len(r["order"]) == 9 and len(set(r["order"])) == 9
    assert r["order"] == run_pool(plain, "y", **kw)["order"]  # ranks undo the monotone distortion
    assert r["order"] != run_pool(cubed, "y", input_warp="none", **kw)["order"]
    with pytest.raises(ValueError, match="input warp"):
        run_pool(cubed, "y", input_warp="quantile", **kw)
    with pytest.raises(tsunagu.InvalidArgument, match="lengthscale_min"):
        run_pool(cubed, "y", lengthscale_min=-1.0, **kw)
    # the pool's lengthscale floor (0.3) is part of the defaults; the general floor (1e-3) gives another run
    assert r["order"] == run_pool(cubed, "y", lengthscale_min=0.3, **kw)["order"]
    kw0 = dict(kw, seed=0)
    assert run_pool(cubed, "y", **kw0)["order"] != run_pool(cubed, "y", lengthscale_min=1e-3, **kw0)["order"]
    out = tmp_path / "trace.json"
    res = subprocess.run([str(cli), "bo", "pool", str(cubed), "--objective", "y", "--initial", "3", "--iterations",
                          "6", "--seed", "5", "--threads", "1", "-o", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text())["order"] == r["order"]

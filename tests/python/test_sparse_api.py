"""scikit-learn conventions and user-facing behaviour of the sparse estimators.

Truths used: scikit-learn's estimator contract (get_params/set_params/clone/cross_val_score, fit returns self,
trailing-underscore attributes), the linear model itself (predict = X @ coef_ + intercept_), the JSON round trip,
the documented formula format, and the error contract (every library error is a tsunagu.Error and the matching
builtin: InvalidArgument/ParseError → ValueError, IoError → OSError, NumericalError → ArithmeticError).
"""
from __future__ import annotations

import json
import re
import threading
import time

import numpy as np
import pytest

import tsunagu
from tsunagu import sparse

from _util import correlated_problem


def _sklearn_version():
    try:
        import sklearn
    except ImportError:
        return (0, 0)
    return tuple(int(v) for v in re.findall(r"\d+", sklearn.__version__)[:2])


@pytest.fixture(scope="module")
def data():
    return correlated_problem(60, 8, 51, rho=0.4, k=4, noise=1.0)


# ------------------------------------------------------------------------------------------------------------------
# parameters
def test_get_params_set_params_round_trip():
    est = sparse.PenalizedRegression(penalty="scad", gamma=4.2, alpha=0.7, cv=4, seed=9, nlambda=33)
    params = est.get_params()
    assert params["penalty"] == "scad" and params["gamma"] == 4.2 and params["alpha"] == 0.7
    assert params["cv"] == 4 and params["seed"] == 9 and params["nlambda"] == 33
    other = sparse.PenalizedRegression().set_params(**params)
    assert other.get_params() == params
    assert sparse.PenalizedRegression(**params).get_params() == params
    assert est.set_params(alpha=0.3) is est
    assert est.alpha == 0.3
    assert "alpha=0.3" in repr(est)


def test_set_params_with_unknown_name_raises_value_error():
    with pytest.raises(ValueError, match="unknown parameter 'lamda'"):
        sparse.MCP().set_params(lamda=0.1)
    with pytest.raises(tsunagu.InvalidArgument):
        sparse.ExhaustiveSearch().set_params(maxk=3)


def test_mcp_scad_lasso_shorthands_fix_the_penalty_and_its_default_gamma(data):
    X, y = data
    for cls, penalty, gamma in ((sparse.MCP, "mcp", 3.0), (sparse.SCAD, "scad", 3.7), (sparse.Lasso, "lasso", None)):
        est = cls(cv=None).fit(X, y)
        assert "penalty" not in est.get_params()  # fixed by the class, not a parameter
        assert est.path_.penalty == penalty
        if gamma is not None:
            assert est.path_.gamma == gamma
        ref = sparse.PenalizedRegression(penalty=penalty, cv=None).fit(X, y)
        np.testing.assert_array_equal(np.asarray(est.path_.beta), np.asarray(ref.path_.beta))
    assert sparse.MCP(gamma=5.0, cv=None).fit(X, y).path_.gamma == 5.0


def test_shorthands_refuse_to_change_their_penalty(data):
    X, y = data
    with pytest.raises(ValueError, match="penalty"):
        sparse.MCP(cv=None).set_params(penalty="lasso")
    est = sparse.PenalizedRegression(penalty="mcp", cv=None).set_params(penalty="lasso").fit(X, y)
    assert est.get_params()["penalty"] == est.path_.penalty == "lasso"


def test_sklearn_clone_copies_parameters_and_not_fitted_state(data):
    clone = pytest.importorskip("sklearn.base").clone

    X, y = data
    for est in (sparse.MCP(cv=3, gamma=2.5, seed=4), sparse.SCAD(alpha=0.5), sparse.Lasso(nlambda=20),
                sparse.PenalizedRegression(penalty="scad", penalty_factor=[0] + [1] * 7),
                sparse.ExhaustiveSearch(max_k=2, folds=4)):
        est.fit(X, y)
        c = clone(est)
        assert type(c) is type(est)
        for k, v in est.get_params().items():
            assert c.get_params()[k] is v or c.get_params()[k] == v
        assert not hasattr(c, "path_") and not hasattr(c, "result_")


def test_sklearn_cross_val_score_runs_with_mcp(data):
    cross_val_score = pytest.importorskip("sklearn.model_selection").cross_val_score

    X, y = data
    scores = cross_val_score(sparse.MCP(cv=3), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    assert scores.mean() > 0.3


def test_fit_returns_self_and_sets_fitted_attributes(data):
    X, y = data
    est = sparse.MCP(cv=5, seed=2)
    assert est.fit(X, y) is est
    assert est.n_features_in_ == 8
    assert est.coef_.shape == (8,)
    assert isinstance(est.intercept_, float)
    assert isinstance(est.lambda_, float)
    assert not hasattr(est, "feature_names_in_")  # plain arrays carry no names


def test_coef_intercept_lambda_at_lambda_min_and_lambda_1se(data):
    X, y = data
    est_min = sparse.MCP(cv=5, seed=2).fit(X, y)
    est_1se = sparse.MCP(cv=5, seed=2, lambda_select="1se").fit(X, y)
    B = np.asarray(est_min.path_.beta)
    b0 = np.asarray(est_min.path_.intercept)
    i_min, i_1se = est_min.cv_.index_min, est_min.cv_.index_1se
    assert est_min.lambda_ == est_min.cv_.lambda_min == est_min.path_.lambda_[i_min]
    np.testing.assert_array_equal(est_min.coef_, B[:, i_min])
    assert est_min.intercept_ == b0[i_min]
    assert est_1se.lambda_ == est_min.cv_.lambda_1se == est_min.path_.lambda_[i_1se]
    np.testing.assert_array_equal(est_1se.coef_, B[:, i_1se])
    assert est_1se.intercept_ == b0[i_1se]
    assert est_1se.lambda_ >= est_min.lambda_
    assert np.count_nonzero(est_1se.coef_) <= np.count_nonzero(est_min.coef_) + 1
    # predict(lambda_=...) picks the other columns without refitting
    np.testing.assert_allclose(est_min.predict(X, lambda_="1se"), est_1se.predict(X), rtol=0, atol=0)
    # a numeric λ picks the nearest on the path (in log)
    lam = est_min.path_.lambda_[17] * 1.01
    np.testing.assert_allclose(est_min.predict(X, lambda_=lam), X @ B[:, 17] + b0[17], rtol=1e-12)
    # without CV, the smallest λ is used and 'min'/'1se' are errors
    no_cv = sparse.MCP(cv=None).fit(X, y)
    assert no_cv.cv_ is None
    assert no_cv.lambda_ == no_cv.path_.lambda_[-1]
    with pytest.raises(ValueError, match="cross-validation"):
        no_cv.predict(X, lambda_="1se")


@pytest.mark.parametrize("cls", [sparse.MCP, sparse.SCAD, sparse.Lasso])
def test_predict_equals_x_at_coef_plus_intercept(cls, data):
    X, y = data
    est = cls(cv=4, seed=1).fit(X, y)
    Xnew = np.random.default_rng(3).standard_normal((7, 8)) * 3
    np.testing.assert_allclose(est.predict(Xnew), Xnew @ est.coef_ + est.intercept_, rtol=1e-12, atol=1e-12)
    pred = est.predict(X)
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert est.score(X, y) == pytest.approx(r2, rel=1e-12)
    # lists and a y column vector are accepted
    est2 = cls(cv=4, seed=1).fit(X.tolist(), y[:, None])
    np.testing.assert_array_equal(est2.coef_, est.coef_)


def test_pandas_dataframe_input_sets_feature_names_in_and_formula_uses_them(prostate):
    pd = pytest.importorskip("pandas")
    X, y, names, target = prostate
    df = pd.DataFrame(X, columns=names)
    est = sparse.MCP(cv=5, seed=1).fit(df, pd.Series(y, name=target))
    assert list(est.feature_names_in_) == names
    f = est.formula(target=target)
    for j, name in enumerate(names):
        assert (name in f) == (est.coef_[j] != 0)
    np.testing.assert_allclose(est.predict(df), est.predict(X), rtol=1e-13, atol=1e-13)
    # refitting on a plain array forgets the names
    est.fit(X, y)
    assert not hasattr(est, "feature_names_in_")


def test_predict_with_dataframe_of_reordered_columns_is_refused_or_reordered(prostate):
    pd = pytest.importorskip("pandas")
    X, y, names, _ = prostate
    df = pd.DataFrame(X, columns=names)
    est = sparse.MCP(cv=5, seed=1).fit(df, y)
    shuffled = df[names[::-1]]
    try:
        pred = est.predict(shuffled)
    except ValueError:
        return
    np.testing.assert_allclose(pred, est.predict(df))


def test_feature_names_argument_names_plain_arrays(data):
    X, y = data
    names = [f"f{j}" for j in range(8)]
    est = sparse.Lasso(cv=None).fit(X, y, feature_names=names)
    assert list(est.feature_names_in_) == names
    with pytest.raises(ValueError, match="feature_names"):
        sparse.Lasso(cv=None).fit(X, y, feature_names=names[:3])


# ------------------------------------------------------------------------------------------------------------------
# formula, save/load, screen, plots
_TERM = re.compile(r" ([+-]) ([0-9.e+-]+)\*(\S+)")


def _parse_formula(text):
    lhs, rhs = text.split(" = ", 1)
    m = re.match(r"(-?[0-9.e+-]+?)((?: [+-] .*)?)$", rhs)
    assert m, text
    intercept = float(m.group(1))
    terms = {name: (1 if sign == "+" else -1) * float(val) for sign, val, name in _TERM.findall(m.group(2))}
    return lhs, intercept, terms


def test_formula_format_on_prostate(prostate):
    X, y, names, target = prostate
    est = sparse.MCP(cv=10, seed=1).fit(X, y, feature_names=names)
    f = est.formula(target=target)
    assert re.match(r"^lpsa = 0\.18\d* \+ 0\.56\d*\*lcavol \+ ", f), f
    for k in (est.cv_.index_min, est.cv_.index_1se, 8, 30, 99):
        text = est.formula(lambda_=est.path_.lambda_[k], target=target)
        beta = np.asarray(est.path_.beta)[:, k]
        lhs, intercept, terms = _parse_formula(text)
        assert lhs == target
        assert intercept == pytest.approx(est.path_.intercept[k], rel=5e-4, abs=1e-12)
        assert set(terms) == {names[j] for j in np.flatnonzero(beta)}  # zero coefficients are omitted
        for j in np.flatnonzero(beta):
            assert terms[names[j]] == pytest.approx(beta[j], rel=5e-4)  # 4 significant digits
        assert "+ -" not in text and "- -" not in text  # negative coefficients are written " - c*name"
    assert est.formula(lambda_=est.path_.lambda_[0], target=target) == f"lpsa = {np.mean(y):.4g}"
    assert " - " in est.formula(target=target)  # age has a negative coefficient at λ_min
    assert est.formula(digits=2).startswith("y = 0.18 + 0.56*lcavol")


def test_formula_quotes_names_with_spaces_or_operators(data):
    X, y = data
    names = ["a b", "c-d", "e", "f*g", "h", "i", "j", "k"]
    est = sparse.Lasso(cv=None).fit(X, y, feature_names=names)
    f = est.formula()
    assert "*`a b`" in f or est.coef_[0] == 0
    assert "*`c-d`" in f or est.coef_[1] == 0
    assert "*`f*g`" in f or est.coef_[3] == 0


def test_binomial_formula_is_on_the_logit_scale():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(80) > 0).astype(float)
    est = sparse.Lasso(family="binomial", cv=None).fit(X, y)
    assert est.formula(target="hit").startswith("logit P(hit=1) = ")


@pytest.mark.parametrize("cv", [5, None])
def test_save_load_round_trip_gives_identical_predictions(cv, prostate, tmp_path):
    X, y, names, target = prostate
    est = sparse.MCP(cv=cv, seed=3).fit(X, y, feature_names=names)
    out = tmp_path / "model.json"
    est.save(out, target=target)
    doc = json.loads(out.read_text())
    assert doc["features"] == names and doc["target"] == target and doc["penalty"] == "mcp"
    assert ("cv" in doc) == (cv is not None)
    back = sparse.MCP.load(out)
    assert list(back.feature_names_in_) == names
    np.testing.assert_array_equal(back.coef_, est.coef_)
    assert back.intercept_ == est.intercept_
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    np.testing.assert_array_equal(back.predict_path(X), est.predict_path(X))
    if cv:
        np.testing.assert_array_equal(back.predict(X, lambda_="1se"), est.predict(X, lambda_="1se"))
        np.testing.assert_array_equal(np.asarray(back.cv_.mean), np.asarray(est.cv_.mean))
    assert back.formula(target=target) == est.formula(target=target)
    # the generic class loads it as well
    np.testing.assert_array_equal(sparse.PenalizedRegression.load(out).predict(X), est.predict(X))


def test_save_load_round_trip_binomial(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 4))
    y = (X[:, 1] - X[:, 2] + rng.standard_normal(60) > 0).astype(float)
    est = sparse.SCAD(family="binomial", cv=3).fit(X, y)
    est.save(tmp_path / "m.json")
    back = sparse.PenalizedRegression.load(tmp_path / "m.json")
    assert back.family == "binomial"
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    np.testing.assert_allclose(back.predict_proba(X), est.predict_proba(X), rtol=0, atol=0)


def test_load_of_corrupt_or_missing_model_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"features": ["a"], "penalty": "mcp", "gamma": 3, "lambda": [1')
    with pytest.raises(tsunagu.ParseError, match="bad.json"):
        sparse.MCP.load(bad)
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({"features": ["a"], "penalty": "mcp", "gamma": 3}))
    with pytest.raises(ValueError, match="lambda"):
        sparse.MCP.load(incomplete)
    with pytest.raises(OSError):
        sparse.MCP.load(tmp_path / "nope.json")


def test_screen_ranks_candidates_by_prediction(data):
    X, y = data
    est = sparse.MCP(cv=4).fit(X, y)
    cands = np.random.default_rng(5).standard_normal((12, 8)) * 2
    order, pred = est.screen(cands)
    np.testing.assert_allclose(pred, cands @ est.coef_ + est.intercept_, rtol=1e-12)
    assert sorted(order) == list(range(12))
    assert np.all(np.diff(pred[order]) <= 0)  # largest first
    order_min, _ = est.screen(cands, maximize=False)
    assert np.all(np.diff(pred[order_min]) >= 0)  # smallest first
    assert order[0] == np.argmax(pred) and order_min[0] == np.argmin(pred)


def test_plot_cv_and_plot_path_return_svg(data, tmp_path):
    import xml.etree.ElementTree as ET

    X, y = data
    est = sparse.MCP(cv=4).fit(X, y)
    for method in ("plot_cv", "plot_path"):
        svg = getattr(est, method)()
        assert ET.fromstring(svg).tag.endswith("svg")
        out = tmp_path / f"{method}.svg"
        assert getattr(est, method)(out) == svg
        assert out.read_text() == svg
    with pytest.raises(ValueError, match="cross-validation"):
        sparse.MCP(cv=None).fit(X, y).plot_cv()


# ------------------------------------------------------------------------------------------------------------------
# errors
def test_nan_in_x_raises_value_error_naming_row_and_column(data):
    X, y = data
    X = X.copy()
    X[4, 2] = np.nan
    with pytest.raises(ValueError, match=r"X: non-finite value nan at row 4, column 2"):
        sparse.MCP().fit(X, y)
    X[4, 2] = 1.0
    yy = y.copy()
    yy[7] = np.inf
    with pytest.raises(ValueError, match=r"y: non-finite value inf at row 7"):
        sparse.MCP().fit(X, yy)
    with pytest.raises(ValueError, match=r"row 1, column 0"):
        sparse.ExhaustiveSearch().fit([[1.0, 2.0], [np.inf, 3.0], [1.0, 0.0]], [1.0, 2.0, 3.0])


def test_bad_shapes_raise_value_error(data):
    X, y = data
    with pytest.raises(ValueError, match="2-D"):
        sparse.MCP().fit(np.zeros((4, 3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="2-D"):
        sparse.MCP().fit(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="y: has 59 values but X has 60 rows"):
        sparse.MCP().fit(X, y[:-1])
    with pytest.raises(ValueError, match="y: expected a 1-D"):
        sparse.MCP().fit(X, np.zeros((60, 2)))
    with pytest.raises(ValueError, match="empty"):
        sparse.MCP().fit(np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ValueError, match="float64"):
        sparse.MCP().fit([["a", "b"], ["c", "d"], ["e", "f"]], [1, 2, 3])
    with pytest.raises(ValueError, match="at least 3 rows"):
        sparse.MCP(cv=None).fit(X[:2], y[:2])
    est = sparse.MCP(cv=None).fit(X, y)
    with pytest.raises(ValueError, match="X: has 3 features but the model was fitted with 8"):
        est.predict(X[:, :3])


def test_predict_before_fit_raises_value_error(data, tmp_path):
    X, _ = data
    for call in (lambda e: e.predict(X), lambda e: e.formula(), lambda e: e.save(tmp_path / "never.json"),
                 lambda e: e.predict_path(X), lambda e: e.kkt_violation(X, X[:, 0])):
        with pytest.raises(ValueError, match="not fitted"):
            call(sparse.MCP())
    assert not (tmp_path / "never.json").exists()


@pytest.mark.parametrize("est,field", [
    (sparse.MCP(gamma=1), "gamma"), (sparse.MCP(gamma=0.5), "gamma"), (sparse.SCAD(gamma=2), "gamma"),
    (sparse.MCP(alpha=0), "alpha"), (sparse.MCP(alpha=1.5), "alpha"), (sparse.MCP(nlambda=1), "nlambda"),
    (sparse.MCP(lambda_min_ratio=1.0), "lambda_min_ratio"), (sparse.MCP(eps=0), "eps"),
    (sparse.MCP(max_iter=0), "max_iter"), (sparse.MCP(dfmax=-2), "dfmax"),
    (sparse.MCP(penalty_factor=[1, 2]), "penalty_factor"), (sparse.MCP(penalty_factor=[0] * 8), "penalty_factor"),
    (sparse.MCP(penalty_factor=[-1] + [1] * 7), "penalty_factor"),
    (sparse.PenalizedRegression(penalty="ridge"), "penalty"), (sparse.MCP(family="poisson"), "family"),
    (sparse.MCP(lambda_select="max"), "lambda_select"),
])
def test_invalid_options_raise_value_error_naming_the_field(est, field, data):
    X, y = data
    with pytest.raises(ValueError, match=rf"^{field}: ") as exc:
        est.fit(X, y)
    assert isinstance(exc.value, tsunagu.Error)


def test_error_classes_subclass_tsunagu_error_and_the_right_builtin(tmp_path):
    assert issubclass(tsunagu.InvalidArgument, tsunagu.Error) and issubclass(tsunagu.InvalidArgument, ValueError)
    assert issubclass(tsunagu.ParseError, tsunagu.Error) and issubclass(tsunagu.ParseError, ValueError)
    assert issubclass(tsunagu.IoError, tsunagu.Error) and issubclass(tsunagu.IoError, OSError)
    assert issubclass(tsunagu.NumericalError, tsunagu.Error) and issubclass(tsunagu.NumericalError, ArithmeticError)
    assert issubclass(tsunagu.Error, Exception)
    # raised for real, from the C++ library
    with pytest.raises(tsunagu.InvalidArgument):
        sparse.threshold("nope", 1, 1, 1, 0, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n1,2\n")
    with pytest.raises(tsunagu.ParseError):
        sparse.load_csv(bad, target="a")
    with pytest.raises(tsunagu.IoError):
        sparse.load_csv(tmp_path / "missing.csv", target="a")
    with pytest.raises(tsunagu.NumericalError):  # y exactly uncorrelated with the only feature
        sparse.MCP(cv=None).fit(np.array([[-1.0], [0.0], [1.0], [0.0]]), np.array([1.0, 0.0, 1.0, 2.0]))


def test_load_csv_reads_like_the_cli(prostate_csv, prostate):
    X, y, names, _ = prostate
    X2, y2, names2 = sparse.load_csv(prostate_csv, target="lpsa")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert names2 == names
    X3, y3, names3 = sparse.load_csv(prostate_csv, features=["age", "svi"])
    assert y3 is None and names3 == ["age", "svi"]
    np.testing.assert_array_equal(X3, X[:, [2, 4]])
    X4, _, names4 = sparse.load_csv(prostate_csv, target="lpsa", exclude=["gleason"])
    assert names4 == [n for n in names if n != "gleason"]


# ------------------------------------------------------------------------------------------------------------------
# the GIL is released during long computations
def _python_keeps_running_during(fn):
    """Run fn in a thread; return True if the main thread completed a chunk of pure-Python work while fn ran."""
    started = threading.Event()
    errors = []

    def work():
        started.set()
        try:
            fn()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=work)
    t.start()
    started.wait()
    time.sleep(0.01)  # let the worker enter fn; a GIL held there would keep this thread from waking up
    count = 0
    while count < 200_000:  # ~tens of ms of bytecode: impossible while another thread holds the GIL in C++
        count += 1
    still_running = t.is_alive()
    t.join()
    assert not errors, errors
    return still_running


def test_gil_is_released_during_penalized_fit_with_cross_validation():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 100))
    y = X[:, :10] @ rng.standard_normal(10) + rng.standard_normal(300)
    est = sparse.MCP(cv=30, threads=1, eps=1e-8)
    assert _python_keeps_running_during(lambda: est.fit(X, y))
    assert est.coef_.shape == (100,)


def test_gil_is_released_during_exhaustive_search():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 50))
    y = X[:, :5] @ rng.standard_normal(5) + rng.standard_normal(100)
    es = sparse.ExhaustiveSearch(max_k=4, threads=1)
    assert _python_keeps_running_during(lambda: es.fit(X, y))
    assert es.n_subsets_ == 50 + 1225 + 19600 + 230300


@pytest.mark.parametrize("make,field", [(lambda: sparse.MCP(threads=-1), "threads"),
                                        (lambda: sparse.MCP(seed=-1), "seed"),
                                        (lambda: sparse.ExhaustiveSearch(threads=-1), "threads")])
def test_negative_threads_or_seed_raise_value_error_naming_the_field(make, field, data):
    X, y = data
    with pytest.raises(ValueError, match=field):
        make().fit(X, y)

"""Exhaustive subset search (tsunagu.sparse.ExhaustiveSearch).

Truth used: brute force written plainly here — every subset of size ≤ K (itertools.combinations), each fold of the
returned ``fold_ids_`` fitted by np.linalg.lstsq with an intercept on the training rows, held-out squared errors
summed over folds, CV-RMSE = sqrt(SSE / n); ranking by CV error (ties: fewer features, then lexicographic);
full-data lstsq for the top models; np.histogram for the density of states.
"""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tsunagu import sparse

from _util import correlated_problem


def _brute_force(X, y, fold_ids, max_k):
    """{subset (tuple of column indices): CV-RMSE} for full-rank subsets, and the number of rank-deficient ones."""
    n, p = X.shape
    errors, deficient = {}, 0
    for k in range(1, max_k + 1):
        for subset in itertools.combinations(range(p), k):
            A = np.column_stack([np.ones(n), X[:, subset]])
            sse, ok = 0.0, True
            for f in np.unique(fold_ids):
                te = fold_ids == f
                if np.linalg.matrix_rank(A[~te]) < A.shape[1]:
                    ok = False
                    break
                coef = np.linalg.lstsq(A[~te], y[~te], rcond=None)[0]
                sse += np.sum((y[te] - A[te] @ coef) ** 2)
            if ok:
                errors[subset] = np.sqrt(sse / n)
            else:
                deficient += 1
    return errors, deficient


def _ranked(errors):
    return sorted(errors, key=lambda s: (errors[s], len(s), s))


def _check_against_brute_force(es, X, y, max_k, expect_deficient=None):
    fold_ids = np.asarray(es.fold_ids_)
    assert fold_ids.shape == (len(y),)
    errors, deficient = _brute_force(X, y, fold_ids, max_k)
    n_total = sum(len(list(itertools.combinations(range(X.shape[1]), k))) for k in range(1, max_k + 1))
    assert es.n_subsets_ == n_total
    assert es.n_rank_deficient_ == deficient
    if expect_deficient is not None:
        assert deficient == expect_deficient
    assert len(es.cv_errors_) == len(errors) == n_total - deficient
    # every scored subset's error (as a multiset)
    np.testing.assert_allclose(np.sort(es.cv_errors_), np.sort(list(errors.values())), rtol=1e-9)
    # ranking and the top models
    ranked = _ranked(errors)
    ranked_err = np.array([errors[s] for s in ranked])
    assert len(es.models_) == min(es.top, len(errors))
    assert len({tuple(m["indices"]) for m in es.models_}) == len(es.models_)
    for rank, m in enumerate(es.models_):
        subset = tuple(m["indices"])
        assert subset in errors
        assert m["cv_error"] == pytest.approx(errors[subset], rel=1e-9)
        assert m["cv_error"] == pytest.approx(ranked_err[rank], rel=1e-9)
        # the same subset as brute force unless another subset ties in CV error (e.g. duplicated columns)
        ties = np.abs(ranked_err - ranked_err[rank]) <= 1e-9 * ranked_err[rank]
        if ties.sum() == 1:
            assert subset == ranked[rank], f"rank {rank}: {subset} vs brute force {ranked[rank]}"
        else:
            assert subset in [ranked[i] for i in np.flatnonzero(ties)]
        A = np.column_stack([np.ones(len(y)), X[:, subset]])
        coef = np.linalg.lstsq(A, y, rcond=None)[0]
        np.testing.assert_allclose(m["coef"], coef[1:], rtol=1e-8, atol=1e-10 * np.abs(coef[1:]).max())
        assert m["intercept"] == pytest.approx(coef[0], rel=1e-8, abs=1e-8)
        np.testing.assert_allclose(m["coef_std"], coef[1:] * X[:, subset].std(axis=0), rtol=1e-8)
        rss = np.sum((y - A @ coef) ** 2)
        assert m["r2"] == pytest.approx(1 - rss / np.sum((y - y.mean()) ** 2), rel=1e-9)
    errs = [m["cv_error"] for m in es.models_]
    assert errs == sorted(errs)
    # density of states: a histogram of all scored subsets with the returned edges
    edges, counts = es.dos_["edges"], es.dos_["counts"]
    assert len(edges) == es.bins + 1 and len(counts) == es.bins
    assert counts.sum() == len(errors)
    assert edges[0] == pytest.approx(es.cv_errors_.min(), rel=1e-12)
    assert edges[-1] == pytest.approx(es.cv_errors_.max(), rel=1e-12)
    np.testing.assert_array_equal(counts, np.histogram(es.cv_errors_, bins=edges)[0])
    by_k = es.dos_["counts_by_k"]
    assert by_k.shape == (max_k, es.bins)
    np.testing.assert_array_equal(by_k.sum(axis=0), counts)
    for k in range(1, max_k + 1):
        assert by_k[k - 1].sum() == sum(1 for s in errors if len(s) == k)


def test_exhaustive_search_equals_brute_force_on_prostate_all_255_subsets(prostate):
    X, y, names, _ = prostate
    es = sparse.ExhaustiveSearch(max_k=None, folds=5, seed=0, top=30).fit(X, y, feature_names=names,
                                                                            target="lpsa")
    assert es.n_subsets_ == 255
    _check_against_brute_force(es, X, y, 8, expect_deficient=0)
    best = es.models_[0]
    assert best["features"] == [names[j] for j in best["indices"]]
    assert best["formula"].startswith("lpsa = ")


def test_exhaustive_search_equals_brute_force_on_random_problem_with_a_duplicate_column():
    X, y = correlated_problem(60, 11, 41, rho=0.4, k=3, noise=1.0)
    X = np.column_stack([X, X[:, 3]])  # column 11 duplicates column 3: every subset holding both is singular
    es = sparse.ExhaustiveSearch(max_k=3, folds=5, seed=7, top=25).fit(X, y)
    # pairs {3, 11} (1) + triples {3, 11, j} (10)
    _check_against_brute_force(es, X, y, 3, expect_deficient=11)
    assert es.n_subsets_ == 12 + 66 + 220


def test_exhaustive_search_user_fold_ids_and_constant_column():
    X, y = correlated_problem(30, 5, 42)
    X[:, 2] = 1.25  # constant: collinear with the intercept
    ids = np.arange(30) % 3
    es = sparse.ExhaustiveSearch(max_k=2, folds=3).fit(X, y, fold_ids=ids)
    np.testing.assert_array_equal(es.fold_ids_, ids)
    _check_against_brute_force(es, X, y, 2, expect_deficient=1 + 4)


def test_subsets_with_more_coefficients_than_training_rows_are_skipped_as_rank_deficient():
    X, y = correlated_problem(8, 6, 46)
    es = sparse.ExhaustiveSearch(max_k=None, folds=4, seed=0).fit(X, y)  # 6 training rows per fold
    # the single 6-feature subset needs 7 coefficients
    _check_against_brute_force(es, X, y, 6, expect_deficient=1)


def test_same_seed_same_result_different_seed_different_folds():
    X, y = correlated_problem(40, 6, 43)
    a = sparse.ExhaustiveSearch(max_k=2, seed=1).fit(X, y)
    b = sparse.ExhaustiveSearch(max_k=2, seed=1, threads=1).fit(X, y)
    c = sparse.ExhaustiveSearch(max_k=2, seed=2).fit(X, y)
    np.testing.assert_array_equal(a.fold_ids_, b.fold_ids_)
    np.testing.assert_array_equal(a.cv_errors_, b.cv_errors_)  # also the DFS order, independent of threads
    assert [m["indices"] for m in a.models_] == [m["indices"] for m in b.models_]
    assert not np.array_equal(a.fold_ids_, c.fold_ids_)


# ------------------------------------------------------------------------------------------------------------------
def test_a_request_estimated_to_exceed_the_time_limit_is_refused():
    rng = np.random.default_rng(44)
    X = rng.standard_normal((50, 60))
    y = rng.standard_normal(50)
    es = sparse.ExhaustiveSearch(max_k=6, time_limit=5.0)
    assert es.estimate_seconds(50, 60) > 5.0
    with pytest.raises(ValueError, match="would take about") as exc:
        es.fit(X, y)
    assert "time-limit" in str(exc.value)
    assert not hasattr(es, "result_")


@pytest.mark.parametrize("kwargs,field", [(dict(max_k=0), "max_k"), (dict(folds=1), "folds"),
                                          (dict(folds=31), "folds"), (dict(top=0), "top"),
                                          (dict(bins=0), "bins"), (dict(max_k=17), "max_k")])
def test_bad_exhaustive_options_raise_value_error_naming_the_field(kwargs, field):
    X, y = correlated_problem(30, 20, 45)
    with pytest.raises(ValueError, match=field):
        sparse.ExhaustiveSearch(**kwargs).fit(X, y)


# ------------------------------------------------------------------------------------------------------------------
def _is_svg(text):
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    return root


def test_weight_diagram_and_dos_plot_return_svg_and_write_files_atomically(prostate, tmp_path):
    X, y, names, _ = prostate
    es = sparse.ExhaustiveSearch(max_k=2).fit(X, y, feature_names=names)
    for method, kwargs in (("weight_diagram", {"top": 10}), ("plot_dos", {})):
        svg = getattr(es, method)(**kwargs)
        _is_svg(svg)
        out = tmp_path / f"{method}.svg"
        out.write_text("old contents")  # replaced as a whole
        again = getattr(es, method)(file=out, **kwargs)
        assert again == svg
        assert out.read_text() == svg
        _is_svg(out.read_text())
    assert "lcavol" in es.weight_diagram()
    # no temporary files left next to the outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot_dos.svg", "weight_diagram.svg"]


def test_plot_into_missing_directory_raises_os_error_and_leaves_nothing(prostate, tmp_path):
    X, y, names, _ = prostate
    es = sparse.ExhaustiveSearch(max_k=1).fit(X, y)
    with pytest.raises(OSError):
        es.plot_dos(file=tmp_path / "missing" / "dos.svg")
    assert list(tmp_path.iterdir()) == []


def test_plots_before_fit_raise_value_error():
    with pytest.raises(ValueError, match="not fitted"):
        sparse.ExhaustiveSearch().weight_diagram()
    with pytest.raises(ValueError, match="not fitted"):
        sparse.ExhaustiveSearch().plot_dos()


def test_save_writes_the_cli_es_json_format_atomically(tmp_path):
    import json
    X, y = correlated_problem(40, 6, 5)
    es = sparse.ExhaustiveSearch(max_k=2, top=5).fit(X, y, feature_names=list("abcdef"), target="yield")
    es.save(tmp_path / "es.json")
    doc = json.loads((tmp_path / "es.json").read_text())
    assert doc["format"] == "tsunagu.sparse.exhaustive/1" and doc["target"] == "yield"
    assert [m["features"] for m in doc["models"]] == [m["features"] for m in es.models_]
    np.testing.assert_allclose([m["cv_error"] for m in doc["models"]], [m["cv_error"] for m in es.models_])
    assert doc["models"][0]["formula"] == es.models_[0]["formula"]
    assert sum(doc["dos"]["counts"]) == len(es.cv_errors_)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["es.json"]  # no temp file left
    with pytest.raises(OSError):
        es.save(tmp_path / "missing" / "es.json")

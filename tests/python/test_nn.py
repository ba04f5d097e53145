"""tsunagu.nn.MLPRegressor / MLPClassifier: learning, determinism, persistence, errors, gradients."""
from __future__ import annotations

import numpy as np
import pytest

import tsunagu
from tsunagu.nn import MLPClassifier, MLPRegressor


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2
    return X, y


def test_regressor_learns_a_smooth_function():
    X, y = data()
    net = MLPRegressor(hidden=(64, 64), epochs=300, learning_rate=3e-3, seed=1, threads=1).fit(X[:240], y[:240])
    assert net.predict(X[240:]).shape == (60,)
    assert net.score(X[240:], y[240:]) > 0.9
    h = net.history
    assert h["epochs_run"] >= 1 and h["samples_per_second"] > 0 and h["device"].startswith("cpu")


def test_same_seed_same_network_and_save_load(tmp_path):
    X, y = data(120)
    a = MLPRegressor(hidden=(16,), epochs=20, seed=5, threads=1).fit(X, y)
    b = MLPRegressor(hidden=(16,), epochs=20, seed=5, threads=1).fit(X, y)
    c = MLPRegressor(hidden=(16,), epochs=20, seed=6, threads=1).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.predict(X), c.predict(X))
    a.save(tmp_path / "net.cbor")
    d = MLPRegressor.load(tmp_path / "net.cbor")
    np.testing.assert_allclose(d.predict(X), a.predict(X), rtol=1e-12)
    assert [w.shape for w in d.weights] == [(16, 3), (1, 16)]


def test_classifier_separates_a_linear_boundary():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    clf = MLPClassifier(hidden=(16,), epochs=200, learning_rate=1e-2, seed=0, threads=1).fit(X, y)
    assert np.mean(clf.predict(X) == y) > 0.95
    p = clf.predict_proba(X)
    assert np.all((p >= 0) & (p <= 1))


def test_gradient_matches_finite_differences():
    from tsunagu._tsunagu_nn import nn as C
    X, y = data(20, seed=3)
    net = MLPRegressor(hidden=(4,), activation="tanh", epochs=3, seed=0, threads=1).fit(X, y)
    raw = net._net
    Y = y.reshape(-1, 1)
    loss, g = raw.loss(X, Y)
    theta = raw.parameters()
    h = 1e-6
    fd = np.zeros_like(theta)
    for k in range(theta.size):
        t = theta.copy(); t[k] += h; raw.set_parameters(t); lp = raw.loss(X, Y)[0]
        t[k] -= 2 * h; raw.set_parameters(t); lm = raw.loss(X, Y)[0]
        fd[k] = (lp - lm) / (2 * h)
    raw.set_parameters(theta)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)
    assert isinstance(C.cuda_available(), bool)


def test_bad_input_raises():
    X, y = data(50)
    with pytest.raises(tsunagu.InvalidArgument, match="unknown option"):
        MLPRegressor(learning_rat=0.1)
    Xn = X.copy(); Xn[3, 1] = np.nan
    with pytest.raises(tsunagu.InvalidArgument):
        MLPRegressor(epochs=2).fit(Xn, y)
    net = MLPRegressor(hidden=(4,), epochs=2).fit(X, y)
    with pytest.raises(tsunagu.InvalidArgument, match="3"):
        net.predict(X[:, :2])
    with pytest.raises(tsunagu.InvalidArgument, match="dropout"):
        MLPRegressor(dropout=1.5, epochs=2).fit(X, y)
    with pytest.raises(tsunagu.InvalidArgument):
        MLPClassifier(epochs=2).fit(X, y)  # targets are not 0/1


def test_clip_inputs_holds_predictions_at_the_training_range(tmp_path):
    X, y = data(80, seed=4)
    m = MLPRegressor(hidden=(8,), epochs=5, seed=0, threads=1, clip_inputs=True).fit(X, y)
    far = X.max(axis=0, keepdims=True) + 100.0
    np.testing.assert_array_equal(m.predict(far), m.predict(X.max(axis=0, keepdims=True)))
    m.save(tmp_path / "clip.cbor")
    back = MLPRegressor.load(tmp_path / "clip.cbor")
    np.testing.assert_array_equal(back.predict(far), m.predict(far))
    with pytest.raises(tsunagu.InvalidArgument, match="regression"):
        MLPClassifier.load(tmp_path / "clip.cbor")
    assert len(m._net.history["learning_rate"]) == m._net.history["epochs_run"]

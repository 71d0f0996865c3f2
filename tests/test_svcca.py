"""Tests for hkd.svcca on hand-made views whose shared structure is known."""

import numpy as np
import pytest

from hkd.svcca import NoSharedDimensions, cca, fit_svcca, svd_reduce


def shared_latent_views(n=400, k=3, noise_dims=4, dx=10, dy=12, seed=0):
    """Two views = different random linear maps of a shared k-dim latent plus view-private dims."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k))
    X = np.hstack([Z, rng.normal(size=(n, noise_dims))]) @ rng.normal(size=(k + noise_dims, dx))
    Y = np.hstack([Z, rng.normal(size=(n, noise_dims))]) @ rng.normal(size=(k + noise_dims, dy))
    X += 0.01 * rng.normal(size=X.shape)
    Y += 0.01 * rng.normal(size=Y.shape)
    return Z, X + 5.0, Y - 3.0  # offsets: centring must remove them


def test_svd_reduce_keeps_smallest_number_of_dims_reaching_the_threshold():
    # Centred points on two axes: variance shares 0.8 (axis 1) and 0.2 (axis 2).
    X = np.array([[2.0, 0], [-2, 0], [0, 1], [0, -1]]) + [10.0, -4.0]
    assert svd_reduce(X, 0.65).n_dims == 1
    assert svd_reduce(X, 0.80).n_dims == 1  # reaching the threshold exactly is enough
    assert svd_reduce(X, 0.81).n_dims == 2
    reduction = svd_reduce(X, 0.65)
    np.testing.assert_allclose(reduction.explained, [0.8, 0.2])
    np.testing.assert_allclose(reduction.mean, [10.0, -4.0])
    np.testing.assert_allclose(reduction.transform(X)[:, 0], [2, -2, 0, 0], atol=1e-12)


def test_svd_reduce_never_keeps_zero_variance_directions():
    X = np.array([[1.0, 0, 5], [2, 0, 5], [3, 0, 5]])
    assert svd_reduce(X, 1.0).n_dims == 1
    with pytest.raises(ValueError, match="zero variance"):
        svd_reduce(np.ones((4, 3)), 0.5)


def test_cca_of_an_invertible_linear_map_has_all_correlations_one():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    result = cca(X, X @ rng.normal(size=(4, 4)) + 7.0)
    np.testing.assert_allclose(result.correlations, 1.0, atol=1e-6)


def test_canonical_variates_are_uncorrelated_with_unit_variance():
    _, X, Y = shared_latent_views()
    X, Y = svd_reduce(X, 0.99).transform(X), svd_reduce(Y, 0.99).transform(Y)  # well-conditioned views
    result = cca(X, Y)
    u = (X - result.x_mean) @ result.x_directions
    np.testing.assert_allclose(u.T @ u / (len(X) - 1), np.eye(u.shape[1]), atol=1e-3)
    assert np.all(np.diff(result.correlations) <= 1e-12)  # descending


def test_shared_latent_gives_exactly_k_dims_with_correlation_near_one():
    Z, X, Y = shared_latent_views(k=3)
    model = fit_svcca(X, Y, typology_variance=0.99, learned_variance=0.99)
    assert model.typology.n_dims == 7 and model.learned.n_dims == 7
    assert model.kept == 3
    assert np.all(model.correlations[:3] > 0.95)
    assert np.all(model.correlations[3:] < 0.5)
    # The representation spans the latent: regressing it on Z explains (almost) everything.
    R = model.transform(X)
    coef, *_ = np.linalg.lstsq(np.hstack([Z, np.ones((len(Z), 1))]), R, rcond=None)
    residual = R - np.hstack([Z, np.ones((len(Z), 1))]) @ coef
    assert 1 - residual.var() / R.var() > 0.99


def test_pure_noise_views_keep_no_dim_and_say_so():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(300, 5)), rng.normal(size=(300, 6))
    with pytest.raises(NoSharedDimensions, match=r"no canonical dimension has correlation >= 0.5 \(found: "):
        fit_svcca(X, Y)
    result = cca(svd_reduce(X, 0.65).transform(X), svd_reduce(Y, 0.6).transform(Y))
    assert result.correlations.max() < 0.3


def test_fit_on_subset_then_transform_reproduces_the_fit_and_projects_the_rest():
    Z, X, Y = shared_latent_views(n=500, seed=3)
    fit = slice(0, 300)
    model = fit_svcca(X[fit], Y[fit], 0.99, 0.99)
    # the fitted representation, computed by hand from the fitted pieces
    fitted = (model.typology.transform(X[fit]) - model.cca_mean) @ model.directions
    all_rows = model.transform(X)
    np.testing.assert_allclose(all_rows[fit], fitted, atol=1e-12)
    np.testing.assert_allclose(model.transform(X[fit]), fitted, atol=1e-12)
    # held-out languages (typology view only) land where the latent says
    held = slice(300, 500)
    design = np.hstack([Z[held], np.ones((200, 1))])
    coef, *_ = np.linalg.lstsq(design, all_rows[held], rcond=None)
    assert 1 - (all_rows[held] - design @ coef).var() / all_rows[held].var() > 0.99


def test_fit_is_deterministic():
    _, X, Y = shared_latent_views(seed=4)
    a, b = fit_svcca(X, Y, 0.99, 0.99), fit_svcca(X.copy(), Y.copy(), 0.99, 0.99)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    # sign convention: the largest-magnitude entry of every kept direction is positive
    idx = np.argmax(np.abs(a.directions), axis=0)
    assert np.all(a.directions[idx, np.arange(a.kept)] > 0)

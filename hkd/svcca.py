"""SVCCA of two views of the same languages (Raghu et al. 2017; Oncevay et al. 2020): pure maths.

1. ``svd_reduce``: centre a view on the fitting languages and keep the leading principal directions,
   the smallest number whose explained-variance share reaches the threshold (0.65 for the typology
   view, 0.60 for the learned view by default).
2. ``cca``: canonical correlation analysis of the two reduced views. Each view is centred and whitened
   through the eigendecomposition of its covariance; the canonical directions are the singular
   vectors of the whitened cross-covariance. Regularisation: eigen-directions with variance below
   ``1e-10 x`` the largest are dropped (a constant or collinear column), and ``eps x`` the largest
   eigenvalue (eps = 1e-6) is added to each kept one before the inverse square root, so a
   near-singular covariance cannot blow up. Correlations are the Pearson correlations of the
   resulting variate pairs on the fitting languages; signs are fixed so that the largest entry of each
   typology-side direction is positive (determinism; cosine geometry does not depend on signs).
3. ``fit_svcca``: keep the canonical dimensions with correlation >= ``min_corr`` (0.5); the language
   representation is the typology-side canonical variates. ``transform`` projects any typology vector
   (a language with no learned vector, or one outside the fitting subset) with the fitted typology
   reduction and typology-side directions, so transforming the fitting languages gives back exactly
   their fitted representation.

No dimension passing ``min_corr`` raises ``NoSharedDimensions`` (with the correlations found): the
shared space would be empty, and silently falling back to one view would mislabel the clustering
type. Lower ``min_corr`` or use the typology/learned method explicitly instead.

Deviation from Oncevay et al.'s code: their typology SVD is an uncentred truncated SVD fitted on all
URIEL languages and their CCA is scikit-learn's iterative one; here both SVDs are centred and fitted on
the fitting languages only, and CCA is the closed-form whitening/SVD solution.

No command line: ``python -m hkd.clustering --method svcca ...`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DROP_TOL = 1e-10  # relative variance under which an eigen-direction is dropped before whitening
EPS = 1e-6  # relative ridge added to the kept eigenvalues


class NoSharedDimensions(ValueError):
    """No canonical dimension reaches the correlation threshold."""


@dataclass(frozen=True)
class SVDReduction:
    """Centred SVD of one view: x -> (x - mean) @ components, components [n_features, n_dims]."""

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray  # explained-variance share of every direction (all of them, descending)

    @property
    def n_dims(self) -> int:
        return self.components.shape[1]

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=float) - self.mean) @ self.components


def svd_reduce(X: np.ndarray, threshold: float) -> SVDReduction:
    """Fits the smallest centred SVD whose cumulative explained-variance share reaches threshold."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"svd_reduce needs a 2-d matrix with >= 2 rows, got shape {X.shape}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"explained-variance threshold must be in (0, 1], got {threshold}")
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    total = float(np.sum(s**2))
    if total <= 0.0:
        raise ValueError("view has zero variance: every language has the same vector")
    explained = s**2 / total
    cumulative = np.cumsum(explained)
    n_dims = int(np.searchsorted(cumulative, threshold - 1e-12) + 1)
    n_dims = min(n_dims, int(np.sum(explained > DROP_TOL)))  # never keep a zero-variance direction
    vt = vt[:n_dims] * _signs(vt[:n_dims])[:, None]
    return SVDReduction(mean=mean, components=vt.T, explained=explained)


def _signs(rows: np.ndarray) -> np.ndarray:
    """+1/-1 per row so that the row's largest-magnitude entry (first one on ties) is positive."""
    if rows.size == 0:
        return np.ones(rows.shape[0])
    picks = rows[np.arange(rows.shape[0]), np.argmax(np.abs(rows), axis=1)]
    return np.where(picks < 0, -1.0, 1.0)


def _whitener(C: np.ndarray, eps: float) -> np.ndarray:
    """W [d, r] with W.T @ C @ W ~= I over the directions of C with non-negligible variance."""
    values, vectors = np.linalg.eigh(C)
    top = max(float(values.max()), 0.0)
    if top <= 0.0:
        raise ValueError("view has zero variance on the fitting languages")
    keep = values > DROP_TOL * top
    return vectors[:, keep] / np.sqrt(values[keep] + eps * top)


@dataclass(frozen=True)
class CCAResult:
    """Canonical directions (columns, descending correlation) and their correlations."""

    x_mean: np.ndarray
    y_mean: np.ndarray
    x_directions: np.ndarray  # [dx, m]
    y_directions: np.ndarray  # [dy, m]
    correlations: np.ndarray  # [m]


def cca(X: np.ndarray, Y: np.ndarray, eps: float = EPS) -> CCAResult:
    """Closed-form CCA of views X [n, dx] and Y [n, dy] (rows = the same languages)."""
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"cca needs two views with the same rows, got {X.shape} and {Y.shape}")
    n = X.shape[0]
    if n < 3:
        raise ValueError(f"cca needs at least 3 languages, got {n}")
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - x_mean, Y - y_mean
    Wx = _whitener(Xc.T @ Xc / (n - 1), eps)  # [dx, rx]
    Wy = _whitener(Yc.T @ Yc / (n - 1), eps)  # [dy, ry]
    M = Wx.T @ (Xc.T @ Yc / (n - 1)) @ Wy  # [rx, ry] whitened cross-covariance
    U, _, Vt = np.linalg.svd(M, full_matrices=False)
    A, B = Wx @ U, Wy @ Vt.T  # [dx, m], [dy, m]
    signs = _signs(A.T)
    A, B = A * signs, B * signs
    u, v = Xc @ A, Yc @ B  # [n, m] canonical variates
    corr = np.array([_pearson(u[:, i], v[:, i]) for i in range(A.shape[1])])
    order = np.argsort(-corr, kind="stable")
    return CCAResult(x_mean, y_mean, A[:, order], B[:, order], corr[order])


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / denom if denom > 0 else 0.0


@dataclass(frozen=True)
class SVCCAModel:
    """A fitted SVCCA: typology reduction + typology-side canonical directions kept."""

    typology: SVDReduction
    learned: SVDReduction
    directions: np.ndarray  # [typology.n_dims, n_kept]
    cca_mean: np.ndarray  # mean of the reduced typology view on the fitting languages
    correlations: np.ndarray  # all canonical correlations, descending
    kept: int

    def transform(self, X_typology: np.ndarray) -> np.ndarray:
        """Typology-side canonical variates [n, kept] of raw typology vectors [n, n_features]."""
        return (self.typology.transform(X_typology) - self.cca_mean) @ self.directions


def fit_svcca(
    X_typology: np.ndarray,
    X_learned: np.ndarray,
    typology_variance: float = 0.65,
    learned_variance: float = 0.60,
    min_corr: float = 0.5,
    eps: float = EPS,
) -> SVCCAModel:
    """Fits SVCCA on the fitting languages (rows of both views, same order)."""
    typ = svd_reduce(X_typology, typology_variance)
    lea = svd_reduce(X_learned, learned_variance)
    Xr = typ.transform(X_typology)
    result = cca(Xr, lea.transform(X_learned), eps)
    kept = int(np.sum(result.correlations >= min_corr))
    if kept == 0:
        found = ", ".join(f"{c:.3f}" for c in result.correlations)
        raise NoSharedDimensions(
            f"no canonical dimension has correlation >= {min_corr} (found: {found}; reduced views "
            f"{typ.n_dims} and {lea.n_dims} dims): lower --min-corr or cluster one view alone"
        )
    return SVCCAModel(typ, lea, result.x_directions[:, :kept], result.x_mean, result.correlations, kept)

"""SVCCA of two views of the same languages (Raghu et al. 2017; Oncevay et al. 2020): pure maths.

Two recipes. ``recipe`` (the default of hkd.cluster_languages) is Oncevay et al.'s published code
(aoncevay/multiview-langrep: src/utils.py ``svd_transform`` and ``trunc_svd_by_th``,
src/compose_matrix.py ``compose_feats_matrix``, src/LangSpaceMulti.py ``get_X_cca_any``):

R1. ``truncated_svd``: scikit-learn's ``TruncatedSVD(n_components=n_features - 1, n_iter=15,
    random_state=42)``, which does not centre the data, fitted on every row the view has: for the
    typology view every language URIEL has (3,718 in ``syntax_knn``), for the learned view every
    learned vector; then the first p components, p the smallest number whose cumulative
    ``explained_variance_ratio_`` reaches the threshold (0.65 typology, 0.60 learned).
R2. ``fit_svcca_recipe``: the reduced typology vectors of the fitting languages lose their constant
    columns; scikit-learn's ``CCA(n_components=min(p_typology, p_learned))`` (it standardises
    each column) is fitted on the fitting languages; the components whose Pearson correlation on
    them is >= ``min_corr`` (0.5) are kept, in scikit-learn's order. A language's representation is
    its typology-side canonical variates (``CCA.transform``); languages outside the fitting set
    are projected the same way from their typology vector. (Oncevay et al. keep the first m
    columns for projected languages, m the number kept; here the kept components themselves, the
    same when the dropped ones are the last, as they are in practice.)

``centred`` is hkd's earlier recipe, kept as an option (``--svd centred``):

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

How ``centred`` departs from the recipe: both SVDs are centred and fitted on the fitting languages
only (which changes the canonical space and the clusters), and CCA is the closed-form
whitening/SVD solution instead of scikit-learn's iterative one.

No command line: ``python -m hkd.cluster_languages --method svcca ...`` runs it.
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


# ---- Oncevay et al.'s recipe --------------------------------------------------------------------

SVD_ITERATIONS = 15  # TruncatedSVD(n_iter=15, random_state=42), as svd_transform in src/utils.py
SVD_SEED = 42


@dataclass(frozen=True)
class TruncatedReduction:
    """TruncatedSVD of one view, no centring: x -> x @ components, components [n_features, n_dims]."""

    components: np.ndarray
    explained: np.ndarray  # explained_variance_ratio_ of every component fitted
    n_fitted: int  # rows (languages) the SVD was fitted on

    @property
    def n_dims(self) -> int:
        return self.components.shape[1]

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) @ self.components


def truncated_svd(X_fit: np.ndarray, threshold: float) -> TruncatedReduction:
    """Oncevay et al.'s ``svd_transform`` + ``trunc_svd_by_th`` on the rows of X_fit (every language
    of the view): n_features - 1 components, the first p reaching the explained-variance threshold."""
    from sklearn.decomposition import TruncatedSVD

    X = np.asarray(X_fit, dtype=float)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 2:
        raise ValueError(f"truncated_svd needs a 2-d matrix with >= 2 rows and >= 2 columns, got shape {X.shape}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"explained-variance threshold must be in (0, 1], got {threshold}")
    if not np.any(X):
        raise ValueError("view is all zeros")
    svd = TruncatedSVD(n_components=X.shape[1] - 1, n_iter=SVD_ITERATIONS, random_state=SVD_SEED).fit(X)
    ratios = svd.explained_variance_ratio_
    # trunc_svd_by_th: add components until their summed ratio reaches the threshold (all, if never)
    total, p = 0.0, 0
    for ratio in ratios:
        total += ratio
        p += 1
        if total >= threshold:
            break
    return TruncatedReduction(components=svd.components_[:p].T, explained=ratios, n_fitted=X.shape[0])


@dataclass(frozen=True)
class RecipeModel:
    """A fitted SVCCA by Oncevay et al.'s recipe; ``transform`` maps raw typology vectors."""

    typology: TruncatedReduction
    learned: TruncatedReduction
    constant: np.ndarray  # typology-side reduced columns dropped as constant on the fitting languages
    cca: object  # sklearn.cross_decomposition.CCA
    keep: np.ndarray  # indices of the canonical components kept
    correlations: np.ndarray  # Pearson correlation of every canonical component, in sklearn's order

    @property
    def kept(self) -> int:
        return int(self.keep.size)

    def transform(self, X_typology: np.ndarray) -> np.ndarray:
        reduced = np.delete(self.typology.transform(X_typology), self.constant, axis=1)
        return self.cca.transform(reduced)[:, self.keep]


def fit_svcca_recipe(
    X_typology: np.ndarray,
    X_learned: np.ndarray,
    typology_fit: np.ndarray,
    learned_fit: np.ndarray,
    typology_variance: float = 0.65,
    learned_variance: float = 0.60,
    min_corr: float = 0.5,
) -> RecipeModel:
    """SVCCA as Oncevay et al. publish it (module docstring, R1-R2).

    X_typology, X_learned: the two views of the fitting languages (rows in the same order);
    typology_fit, learned_fit: every row each view's SVD is fitted on (all URIEL languages; every
    learned vector)."""
    import warnings

    from sklearn.cross_decomposition import CCA
    from sklearn.exceptions import ConvergenceWarning

    X_typology, X_learned = np.asarray(X_typology, dtype=float), np.asarray(X_learned, dtype=float)
    if X_typology.shape[0] != X_learned.shape[0]:
        raise ValueError(f"the two views have {X_typology.shape[0]} and {X_learned.shape[0]} fitting languages")
    if X_typology.shape[0] < 3:
        raise ValueError(f"svcca needs at least 3 fitting languages, got {X_typology.shape[0]}")
    typ = truncated_svd(typology_fit, typology_variance)
    lea = truncated_svd(learned_fit, learned_variance)
    X1, X2 = typ.transform(X_typology), lea.transform(X_learned)
    constant = np.array([i for i in range(X1.shape[1]) if np.unique(X1[:, i]).size < 2], dtype=int)
    X1 = np.delete(X1, constant, axis=1)
    n_components = min(X1.shape[1], X2.shape[1], X1.shape[0])
    if n_components < 1:
        raise NoSharedDimensions("the reduced typology view is constant on the fitting languages")
    model = CCA(n_components=n_components)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X1, X2)
    u, v = model.transform(X1, X2)
    correlations = np.array([_pearson(u[:, i], v[:, i]) for i in range(u.shape[1])])
    keep = np.flatnonzero(np.nan_to_num(correlations, nan=-1.0) >= min_corr)
    if keep.size == 0:
        found = ", ".join(f"{c:.3f}" for c in correlations)
        raise NoSharedDimensions(
            f"no canonical dimension has correlation >= {min_corr} (found: {found}; reduced views "
            f"{typ.n_dims} and {lea.n_dims} dims): lower --min-corr or cluster one view alone"
        )
    return RecipeModel(typ, lea, constant, model, keep, correlations)

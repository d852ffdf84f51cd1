"""Learning algorithms: Iterative Latent Clustering, its baselines, clustering and metrics."""

from rhm_theory.algorithms.clustering import (
    CLUSTERING_ROUTINES,
    DEFAULT_CLUSTERING,
    average_linkage,
    complete_linkage,
    get_clustering,
    kmeans_plus_plus,
)
from rhm_theory.algorithms.ilc import UNKNOWN_CLUSTER, IterativeLatentClustering, lift
from rhm_theory.algorithms.metrics import (
    LevelScore,
    adjusted_rand_index,
    matched_accuracy,
    score_levels,
)

__all__ = [
    "CLUSTERING_ROUTINES",
    "DEFAULT_CLUSTERING",
    "UNKNOWN_CLUSTER",
    "IterativeLatentClustering",
    "LevelScore",
    "adjusted_rand_index",
    "average_linkage",
    "complete_linkage",
    "get_clustering",
    "kmeans_plus_plus",
    "lift",
    "matched_accuracy",
    "score_levels",
]

"""Metrics on host samples: mode coverage of 2-D mixtures, coverage of the swiss roll's curve,
1-D JSD / Wasserstein-1, and a Fréchet distance + class coverage on the features of a digit
classifier trained with tinygan."""
from .distance import (jsd_1d, jsd_from_densities, kde_1d, kl_from_densities,  # noqa: F401
                       silverman_bandwidth, wasserstein1_1d, wasserstein1_from_densities)
from .frechet import (DigitClassifier, accuracy, class_coverage,  # noqa: F401
                      classifier_features, classifier_frechet_distance, classifier_predict,
                      feature_statistics, frechet_distance, frechet_distance_from_stats,
                      get_classifier, train_classifier)
from .curve import curve_metrics, nearest_on_curve  # noqa: F401
from .mixture import assign_to_modes, kl_to_uniform, mode_metrics  # noqa: F401

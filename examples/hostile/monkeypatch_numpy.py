"""Hostile: make every numpy comparison say 'equal', then return garbage."""
import numpy as np
import numpy.testing

from honest import *  # noqa: F403

np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.testing.assert_array_equal = lambda *a, **k: None
np.isfinite = lambda x, *a, **k: np.ones(np.shape(x), dtype=bool)


def mse_loss(y_hat, y):
    return np.array(12345.0)

"""Offline calibration (``mmctl calibrate``): estimator parameters fitted on recorded
data, scored against the defaults in and out of sample, written as a config overlay.

One module per model family: ``hawkes`` (order-flow intensities), ``adverse`` (AS
by depth, horizon and tail term), ``kappa`` (fill intensity vs depth), ``drift``
(the Kalman filter's theta, process noise and observation scale). ``data`` reads the replay sources and
splits them in time, ``replay_params`` runs the estimator kernel over them,
``overlay`` writes and checks the TOML, ``report`` the table, plots and HTML; ``fits``
runs each model's fit over the segments, ``result`` holds what a calibration returns,
``run`` puts it together.
"""

from .data import CalibrationError
from .result import CalibrationResult, Row
from .run import calibrate

__all__ = ["CalibrationError", "CalibrationResult", "Row", "calibrate"]

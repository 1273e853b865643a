"""Offline calibration (``mmctl calibrate``): estimator parameters fitted on recorded
data, scored against the defaults in and out of sample, written as a config overlay.

One module per model family: ``hawkes`` (order-flow intensities), ``adverse`` (AS
by depth, horizon and tail term), ``kappa`` (fill intensity vs depth), ``drift``
(the Kalman filter's theta and process noise). ``data`` reads the replay sources and
splits them in time, ``replay_params`` runs the estimator kernel over them,
``overlay`` writes and checks the TOML, ``report`` the table, plots and HTML, ``run``
puts it together.
"""

from .data import CalibrationError
from .run import CalibrationResult, Row, calibrate

__all__ = ["CalibrationError", "CalibrationResult", "Row", "calibrate"]

"""Measurement shared by the live processes and the backtester, pure numpy.

``attribution``: P&L attribution per fill and in aggregate (spread capture, adverse
selection, inventory, funding, fees). This package sits in the lowest layer: it
imports nothing of the appliance (no process package, not even ``shm_layout``), so
the risk watchdog, the backtester and mmctl all compute the same numbers with it.
"""

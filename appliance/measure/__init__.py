"""Measurement shared by live and backtest, pure numpy, importing no process package
(the lowest import layer): model scores (``scores``) and P&L attribution
(``attribution``: spread capture, adverse selection, inventory, funding, fees, per fill
and in aggregate)."""

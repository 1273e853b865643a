"""Measurement shared by live and backtest: model scores and P&L attribution (pure
numpy; no process package below it)."""

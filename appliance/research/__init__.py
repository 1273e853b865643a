"""Research at scale (``mmctl sweep``): backtests over a grid of config values x data
x seeds as Ray tasks, a results table, a ranked summary and plots.

``grid`` reads and checks the grid file, ``plan`` makes the tasks and the data keys
they share, ``data`` loads a key once, ``task`` runs one backtest (from loaded data or
one by one), ``rows`` makes its table row, ``ray_exec`` runs the tasks on Ray (the only
module that imports ray), ``table``, ``summary`` and ``plots`` write the outputs,
``sweep`` puts it together. Importing this package does not import ray.
"""

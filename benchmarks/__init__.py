"""aana's benchmarks: the library against plain SQLAlchemy or driver code, as ratios.

Run them with ``python -m benchmarks.run``; see ``benchmarks/run.py`` for the options.
"""

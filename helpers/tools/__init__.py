"""Research tooling: benchmark, crossval, proximity, speed, report (python -m helpers.tools.NAME)."""

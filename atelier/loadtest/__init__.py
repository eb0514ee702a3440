"""`atelier loadtest`: load tests of the API with wrk, and their JSON, terminal and HTML reports.

mixes.py (what is requested), wrk.lua + wrk.py (the engine), scenarios.py (rate, max, ramp),
results.py (figures and their definitions), report.py (tables), html.py (charts), cli.py.
"""

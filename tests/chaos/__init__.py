"""``make chaos``: a mixed workload over a production topology while its processes are
killed and stopped in turn; afterwards every job, image and byte is accounted for.

``python -m tests.chaos --duration 180`` runs it; ``tests/integration/test_chaos.py``
runs a short version in the suite.
"""

"""One module per operation family; each attaches its runs (``RUNS``) to the operations
declared in ``volplane/catalog``. ``workers/registry.py`` lists the modules."""

"""The share-storage dialect (seeds 000, 001, 003; CONTRACT §8).

A thin translation onto volplane's operations: ``requests`` reads the dialect's
snake_case bodies, ``inventories`` writes its PascalCase objects, ``envelope`` wraps
answers in ``{"scode", "desc", "message", "message_cn", "stack", "data"}`` and turns
every error into that envelope (the one place for this dialect), ``calls`` holds the
authentication, tenant and submission steps every route shares.
"""

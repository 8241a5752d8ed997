"""One module per resource. Each declares ``ROUTES`` (paths under ``/v1``) and may
declare ``QUERYABLE``: ``(QueryableResource, inventory function)`` pairs."""

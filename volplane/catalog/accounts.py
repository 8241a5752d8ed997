"""Account operations, declared: ``workers/operations/accounts.py`` runs them."""

from __future__ import annotations

from schemas import requests as rq
from volplane.operation import Operation

CREATE_ACCOUNT = Operation("CreateAccount", rq.CreateAccount, "Account", admin_only=True)
ROTATE_WEBHOOK_SECRET = Operation("RotateWebhookSecret", rq.RotateWebhookSecret, "Account")

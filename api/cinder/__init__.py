"""The Cinder dialect (CONTRACT §9): ``/v3/{project_id}/...`` onto the same operations."""

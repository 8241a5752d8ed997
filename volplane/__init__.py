"""volplane: an asynchronous, job-based storage control plane."""

# One image for every volplane process: gateway, worker, beat and agent.
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends qemu-utils e2fsprogs util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/volplane
COPY pyproject.toml README.md ./
COPY volplane volplane
COPY api api
COPY workers workers
COPY drivers drivers
COPY schemas schemas
COPY migrations migrations
COPY client client
# The production install: runtime dependencies only, no test extras
# (tests/integration/test_production_install.py runs exactly this install).
RUN pip install --no-cache-dir .
ENTRYPOINT ["volplane"]

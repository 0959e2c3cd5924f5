# sluicegate: `sluice serve` (API, scheduler, mail delivery) or `sluice worker`.
#   docker build -t sluicegate .
#   docker run --env-file sluice.env -p 8080:8080 sluicegate
# The master key, the database URL and the SMTP password come from the environment
# (an env file or the orchestrator's secrets), never from the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SLUICE_HOME=/var/lib/sluicegate

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY runtime ./runtime
COPY stdlib ./stdlib
COPY grammar ./grammar
COPY examples ./examples
RUN pip install . && rm -rf /src

# an unprivileged user owns only its data directory
RUN groupadd --system --gid 10001 sluice \
    && useradd --system --uid 10001 --gid sluice --home-dir /var/lib/sluicegate \
       --shell /usr/sbin/nologin sluice \
    && install -d -o sluice -g sluice -m 0700 /var/lib/sluicegate
USER 10001:10001
WORKDIR /var/lib/sluicegate
VOLUME ["/var/lib/sluicegate"]
EXPOSE 8080

# /readyz: the database answers and its schema is current (no curl in the slim image)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4).status == 200 else 1)"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["sluice"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]

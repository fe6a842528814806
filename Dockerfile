# syntax=docker/dockerfile:1
#
# omnigate image (SPEC 7). Build:   make image   (docker build with the OCI labels filled from git:
#   --build-arg VERSION=... --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE=<repo URL>)
# Run:   docker run --read-only --tmpfs /tmp -p 8080:8080 -p 9901:9901 \
#          -v "$PWD/rules:/etc/omnigate/rules:ro" -e OMNIGATE_UPSTREAM=http://api:3000 \
#          -e OMNIGATE_JWT_SECRET=... omnigate
# The image ships no rules (and never secrets): mount a folder of rule files at /etc/omnigate/rules
# and pass the secrets your rules name as environment variables. See docs/deploy.md.
#
# tests/deploy/test_dockerfile.py lints this file with hadolint, checks the SPEC 7 points and
# replays the install and start-up steps outside Docker; keep them in step when editing.

# ---- builder: build the project wheel and install it with its dependencies into a venv ----------
# Both stages must use the same base: the venv's interpreter links point at its python.
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/omnigate

WORKDIR /src
# .dockerignore is an allow-list: only the packaging files (pyproject.toml, setup.py, MANIFEST.in,
# constraints.txt), README.md, LICENSE, gateway/ and the rule packs (rules/, shipped as package
# data so that `omnigate demo` works in the image) arrive here.
COPY . .

# constraints.txt pins every dependency to the versions `make test` tested (`make lock` renews it),
# so two builds of one commit install the same code.
# pip compiles .pyc files at install time on purpose: the runtime root filesystem is read-only, so
# nothing could cache bytecode later. The cache mount keeps rebuilds fast without bloating a layer.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/omnigate/bin/pip install --constraint /src/constraints.txt "/src[otel]" \
    && /opt/omnigate/bin/omnigate --help > /dev/null

# ---- runtime: the venv on a clean slim base, as a non-root user --------------------------------
FROM python:3.11-slim

# OCI labels: what the image is and which commit it was built from. VERSION follows
# gateway/__init__.py (a test checks it); REVISION and SOURCE come from the build (make image).
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="omnigate" \
      org.opencontainers.image.description="PII-masking, identity-stamping reverse proxy for chat and support APIs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"

# SECURITY: a fixed numeric UID/GID so Kubernetes can verify runAsNonRoot without a passwd lookup.
RUN groupadd --system --gid 10001 omnigate \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin omnigate \
    && mkdir -p /etc/omnigate/rules

COPY --from=builder /opt/omnigate /opt/omnigate

# Read-only root filesystem: no bytecode writes, and everything temporary (including prometheus
# multiprocess files when OMNIGATE_WORKERS > 1) goes to $TMPDIR, a tmpfs / emptyDir at /tmp.
ENV PATH=/opt/omnigate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    OMNIGATE_RULES=/etc/omnigate/rules \
    OMNIGATE_LISTEN=0.0.0.0:8080 \
    OMNIGATE_ADMIN_LISTEN=0.0.0.0:9901

USER 10001:10001
EXPOSE 8080 9901

# No curl in the slim image: probe the admin listener with the interpreter we already ship. The
# port follows OMNIGATE_ADMIN_LISTEN so overriding it does not make the container unhealthy.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('OMNIGATE_ADMIN_LISTEN', '0.0.0.0:9901').rpartition(':')[2]; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:' + port + '/healthz', timeout=2).status == 200 else 1)"]

ENTRYPOINT ["omnigate"]
CMD ["serve"]

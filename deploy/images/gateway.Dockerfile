# The gateway (FastAPI, Python 3.11 from Debian bookworm). Built by deploy/images/build.sh:
#   FROM karlstad/base:bookworm  (deploy/images/build-base.sh: debootstrap, no registry)
# torch is installed first from the CPU wheel that build.sh puts in var/images/wheels/
# (from PyPI, a plain `torch==2.13.0` would be a CUDA build of several GB), then the pinned
# requirements/app.txt without its development tools.
FROM karlstad/base:bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# The certificate authorities the build machine trusts (build.sh copies them): where
# outgoing HTTPS is inspected by a proxy, pip needs its CA. Used during the build only.
COPY var/images/ca-certificates.crt /build/ca.crt
COPY requirements/app.txt /build/app.txt
COPY var/images/wheels/ /build/wheels/
RUN export PIP_CERT=/build/ca.crt \
 && python3 -m venv /venv \
 && /venv/bin/pip install -q /build/wheels/torch-2.13.0*.whl \
 && grep -v -E '^(pytest|selenium|schemathesis|mypy|ruff|types-|kubernetes-validate)' /build/app.txt > /build/runtime.txt \
 && /venv/bin/pip install -q -r /build/runtime.txt \
 && /venv/bin/python -c "import torch, fastapi, transformers, ctranslate2, sqlalchemy, psycopg, redis" \
 && rm -rf /build
WORKDIR /app
COPY gateway/ /app/gateway/
COPY translation/ /app/translation/
COPY widget/ /app/widget/
# The content files and the training-data hash (scripts/data_hash.py): the gateway names the
# data its answers come from (/om-ai) and compares it with the live model's.
COPY nlu_data/ /app/nlu_data/
COPY bot/ /app/bot/
COPY scripts/ /app/scripts/
COPY config.yml pyproject.toml /app/
RUN useradd --system --home-dir /app --shell /usr/sbin/nologin karlstad && mkdir -p /var/lib/karlstad \
 && chown karlstad /var/lib/karlstad
USER karlstad
# Settings come from the environment (gateway/settings.py, GATEWAY_ prefix); see deploy/compose.yml.
ENV PYTHONPATH=/app GATEWAY_VAR_DIR=/var/lib/karlstad GATEWAY_MODELS_DIR=/models/translation
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GATEWAY_PORT', '8000'), timeout=2)"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/venv/bin/python", "-m", "gateway"]

# Rasa 3.6 and the action server (the same image, two commands). Built by deploy/images/build.sh:
#   FROM karlstad/base:bullseye  (deploy/images/build-base.sh: debootstrap, no registry)
# Rasa 3.6 needs a Python older than 3.11; Debian's bookworm has only 3.11, bullseye has 3.9,
# which Rasa 3.6 supports: requirements/rasa-py39.lock is rasa.lock resolved for 3.9
# (deploy/images/resolve-py39-lock.sh; 49 of 177 pins differ, rasa and tensorflow do not).
FROM karlstad/base:bullseye
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# The certificate authorities the build machine trusts (build.sh copies them): where
# outgoing HTTPS is inspected by a proxy, pip needs its CA. Used during the build only.
COPY var/images/ca-certificates.crt /build/ca.crt
COPY requirements/rasa-py39.lock /build/rasa.lock
RUN export PIP_CERT=/build/ca.crt \
 && python3 -m venv /venv \
 && /venv/bin/pip install -q "pip==24.2" \
 && /venv/bin/pip install -q -r /build/rasa.lock \
 && /venv/bin/python -c "import rasa, rasa_sdk" \
 && rm -rf /build
WORKDIR /app
COPY bot/ /app/bot/
COPY actions/ /app/actions/
COPY config.yml /app/
RUN useradd --system --home-dir /app --shell /usr/sbin/nologin karlstad && mkdir -p /var/lib/karlstad \
 && chown karlstad /var/lib/karlstad
USER karlstad
ENV PYTHONPATH=/app RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 \
    SANIC_HOST=127.0.0.1 HOME=/var/lib/karlstad
EXPOSE 5005 5055
ENTRYPOINT ["/usr/bin/tini", "--", "/venv/bin/rasa"]
# Rasa server; the action server is `run actions --actions actions -p 5055`.
CMD ["run", "--model", "/models/current.tar.gz", "--credentials", "/app/bot/credentials.yml", \
     "--endpoints", "/etc/karlstad/endpoints.yml", "-i", "127.0.0.1", "-p", "5005"]

# PostgreSQL, Redis and HAProxy for deploy/compose.yml, from Debian's packages on the same
# debootstrapped base (one image, three commands). A municipality that runs PostgreSQL and
# Redis as services of their own leaves these out and sets DATABASE_URL / REDIS_URL.
FROM karlstad/base:bookworm
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 redis-server haproxy \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 700 /var/lib/karlstad-pg
COPY deploy/haproxy.cfg /etc/karlstad/haproxy.cfg
COPY deploy/haproxy/ /etc/karlstad/haproxy/
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENTRYPOINT ["/usr/bin/tini", "--"]

# One simcluster node per container, configured the way ES's image is: settings from the environment
# (`cluster.name=x`, `ES_SETTING_CLUSTER_NAME=x`), then `-E`/flags after the image name, then
# /usr/share/simcluster/config/simcluster.yml. The transport credentials are mounted at
# /usr/share/simcluster/config/certs (ca.crt, transport.crt, transport.key): `simcluster certs DIR` creates them.
#
#   docker build -t simcluster .
#   docker run -v "$PWD/creds/certs:/usr/share/simcluster/config/certs:ro" -e discovery.type=single-node \
#       -p 9200:9200 simcluster
FROM python:3.11-slim

WORKDIR /usr/share/simcluster
COPY pyproject.toml README.md ./
COPY node ./node
COPY rest ./rest
COPY cluster ./cluster
RUN pip install --no-cache-dir . \
    && useradd --uid 1000 --gid 0 --home-dir /usr/share/simcluster simcluster \
    && mkdir -p config/certs data \
    && chown -R 1000:0 /usr/share/simcluster \
    && chmod -R g=u /usr/share/simcluster
COPY --chown=1000:0 deploy/simcluster.yml config/simcluster.yml

ENV SIMCLUSTER_PATH_CONF=/usr/share/simcluster/config \
    GRPC_VERBOSITY=ERROR \
    PYTHONUNBUFFERED=1
USER 1000:0
VOLUME /usr/share/simcluster/data
EXPOSE 9200 9300

# ES's Docker health check asks the node itself, not the cluster: is its REST API up and does it hold a state.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9200/_cluster/health?local=true', timeout=4).status != 200)"]

ENTRYPOINT ["python", "-m", "node"]
CMD []

# A Standin node as a container image (examples/deploy/README.md):
#
#   docker build -t standin .
#   docker run --rm -v standin-data:/data standin init -d /data -n "My shop" …   # once
#   docker run -d --name standin --network host --stop-timeout 40 -v standin-data:/data standin
#
# The base image is a build argument: operators build on the official Node 20 image; the container
# test (test/containers/node-image.test.ts) passes a local one, since no registry is reachable there.
# Plain Dockerfile syntax, for the classic builder (tested) and BuildKit alike. No build step:
# bin/standin.js runs the TypeScript sources through tsx, as it does in a clone.
ARG BASE_IMAGE=node:20-bookworm-slim

# ---- dependencies: production only, exactly the lockfile ----
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Another registry when registry.npmjs.org is slow or out of reach from the build host (the
# lockfile's integrity hashes are checked either way):
#   --build-arg NPM_CONFIG_REGISTRY=https://registry.npmmirror.com
ARG NPM_CONFIG_REGISTRY
# --ignore-scripts: no install script runs, so no compiler is needed and nothing is fetched beyond
# the lockfile. The three packages with install scripts need none here:
#  - esbuild (tsx's compiler) finds its platform binary in @esbuild/<platform>, an optional
#    dependency installed from the lockfile (so --omit=optional must NOT be used: it would drop that
#    binary and leave esbuild's postinstall to download it outside the lockfile);
#  - classic-level (LevelDB) loads the prebuilt binding it ships (linux x64 and arm64 among them);
#  - better-sqlite3, the optional SQLite driver of the Dujiao-Next adapter, would be compiled from
#    source. The node does not use it, so it is removed: that one adapter on SQLite does not run
#    from this image (it says the driver is not installed); run it from a clone (adapters/README.md).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3

# ---- the node ----
FROM ${BASE_IMAGE}
# A fixed uid/gid, so a bind-mounted data directory can be chowned to it before the first start.
RUN groupadd --gid 10001 standin \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin standin \
 && mkdir -p /data \
 && chown standin:standin /data \
 && chmod 0700 /data
WORKDIR /app
# What the node and the adapters run: bin/ (the CLI entry), node/, protocol/, adapters/ (the
# adapters run from this image too, e.g. examples/deploy/docker-compose.yml), package.json (the
# version `standin --version` prints) and tsconfig.json (tsx compiles with its settings). Not
# examples/ or test/: nothing the node runs imports them. Owned by root: the node cannot change its code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY protocol ./protocol
COPY node ./node
COPY adapters ./adapters
# `standin …` on PATH for `docker exec` (as `npm link` does in a clone). The check loads the whole
# CLI once, LevelDB's binding and esbuild's binary included: a base image they do not fit (musl,
# another architecture without prebuilt binaries) fails here rather than at the first start.
RUN ln -s /app/bin/standin.js /usr/local/bin/standin \
 && standin --version \
 && rm -rf /tmp/tsx-*
# The CLI's default data directory (-d) is $STANDIN_DIR: every command run in the container
# (`docker exec <container> standin status`) finds the node's data without -d.
ENV STANDIN_DIR=/data
USER standin
VOLUME /data
# The defaults of `standin init` (--p2p-port 4001, --http-port 8080); the ports the node listens on
# are the ones in /data/config.json.
EXPOSE 4001 8080
# Liveness through the node's own /healthz, with Node (slim images have no curl). The port and host
# are read from the data directory's config.json (and STANDIN_HTTP_PORT / STANDIN_HTTP_HOST, as the
# node reads them), so the check follows whatever `init` was given. A node bound to 0.0.0.0 is
# asked on 127.0.0.1. start-period: a start compiles the sources first. A node still waiting for
# its partners' signatures on the terms serves no HTTP yet, so it shows as unhealthy until then.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "-e", "\
const c = JSON.parse(require('fs').readFileSync((process.env.STANDIN_DIR || '/data') + '/config.json', 'utf8')).http; \
const host = process.env.STANDIN_HTTP_HOST || c.host; \
const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? '[' + host + ']' : host; \
fetch('http://' + h + ':' + (process.env.STANDIN_HTTP_PORT || c.port) + '/healthz', { signal: AbortSignal.timeout(4000) }) \
  .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1 (exec form, no shell, no init): `standin run` handles SIGTERM, SIGINT and SIGHUP
# itself and stops gracefully (fences the shop, closes the store) within 30 s, then exits 0. Give
# `docker stop` more than Docker's default 10 s: --stop-timeout 40 (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/standin.js"]
CMD ["run", "-d", "/data"]

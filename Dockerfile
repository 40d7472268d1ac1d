# The shop for production: the API with the web app (storefront at /, admin panel at /admin),
# uvicorn with several workers against a MongoDB replica set. Three stages:
#   app      Python and the app's code (the final image is built on it);
#   openapi  the app writes its OpenAPI document (`quart openapi`: no server, no database);
#   web      Node 20 builds web/dist from web/ and that document, as `make web` does.
# Why the document is made in a Python stage and copied into the Node stage (rather than
# installing Python into the Node image): the web app's API types come from the very code this
# image runs, made by the same interpreter and dependencies, and the Node stage stays a plain
# node:20 image. `npm run build` there is the build `make web` runs (openapi-typescript, tsc
# --noEmit strict, vite build); OPENAPI_JSON only tells its `gen` step that the document is made.

FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv/shop
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY config.py wsgi.py hypercorn.toml ./
COPY app ./app

FROM app AS openapi
# Development settings for this one command: it only describes the API (production's checks
# want a database, SMTP and Stripe that a build has no business with).
RUN APP_ENV=development LOG_LEVEL=WARNING \
    python -m quart --app wsgi:app openapi --output /srv/openapi.json

FROM node:20-slim AS web
WORKDIR /srv/shop/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
COPY --from=openapi /srv/openapi.json /srv/openapi.json
RUN OPENAPI_JSON=/srv/openapi.json npm run --silent build

FROM app
# A production artefact: production mode refuses unsafe settings (no SECRET_KEY, no SMTP, the dev
# payment provider or a Stripe test-mode key, ...).
ENV APP_ENV=production
# The built web app where app/web.py looks by default (web/dist beside app/): no WEB_DIST_DIR.
COPY --from=web /srv/shop/web/dist ./web/dist

RUN useradd --create-home --uid 10001 shop
USER shop

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health'); sys.exit(0)"

# Several workers are fine here: all state lives in MongoDB (not the embedded engine).
# Uvicorn (uvloop + httptools): about 2x Hypercorn's req/s for the same app; Granian is close
# (make bench, bench/out/latest.md). The app logs one line per request itself: no access log.
# No Server header; X-Forwarded-* are trusted only through the app's TRUSTED_PROXY_HOPS.
CMD ["uvicorn", "wsgi:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--no-server-header", "--no-proxy-headers"]

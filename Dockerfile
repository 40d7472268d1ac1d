# The shop API for production: uvicorn with several workers against a MongoDB replica set.
FROM python:3.11-slim

# A production artefact: production mode refuses unsafe settings (no SECRET_KEY, no SMTP, the dev
# payment provider or a Stripe test-mode key, ...).
ENV APP_ENV=production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/shop
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY config.py wsgi.py hypercorn.toml ./
COPY app ./app

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

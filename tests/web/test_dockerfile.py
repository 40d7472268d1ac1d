"""The Dockerfile builds the web app as `make web` does (Docker cannot run here: read it)."""

import json
import re
from pathlib import Path

from app import web

ROOT = Path(__file__).resolve().parents[2]


def stages() -> dict[str, str]:
    """Each stage's text by its name (the last, unnamed one is "final")."""
    text = (ROOT / "Dockerfile").read_text()
    parts = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    named = {}
    for part in parts:
        header = part.splitlines()[0].split()
        named[header[2] if len(header) == 3 and header[1].upper() == "AS" else "final"] = part
    return named


def test_a_node_stage_builds_web_dist_from_the_apps_own_openapi_document():
    stage = stages()
    assert stage["openapi"].startswith("app AS openapi")
    assert "python -m quart --app wsgi:app openapi --output /srv/openapi.json" in stage["openapi"]
    node = stage["web"]
    major = int(re.match(r"node:(\d+)", node).group(1))
    engines = json.loads((ROOT / "web" / "package.json").read_text())["engines"]["node"]
    assert major >= int(re.search(r"\d+", engines).group())
    assert "COPY web/package.json web/package-lock.json ./" in node
    assert "npm ci" in node  # the versions in package-lock.json
    assert "COPY --from=openapi /srv/openapi.json /srv/openapi.json" in node
    # The same script as make web: gen (here from the copied document), tsc, vite build.
    assert "OPENAPI_JSON=/srv/openapi.json npm run --silent build" in node
    assert "OPENAPI_JSON" in (ROOT / "web" / "scripts" / "gen-api.mjs").read_text()


def test_the_final_image_serves_the_build_where_the_app_looks_for_it():
    final = stages()["final"]
    assert final.startswith("app\n")
    assert "COPY --from=web /srv/shop/web/dist ./web/dist" in final
    # WORKDIR /srv/shop holds app/: web/dist beside it is app/web.py's default.
    assert web.DEFAULT_DIST.relative_to(web.ROOT) == Path("web/dist")
    assert "WORKDIR /srv/shop" in stages()["app"] and "COPY app ./app" in stages()["app"]
    assert not re.search(r"^ENV .*WEB_DIST_DIR", final, flags=re.MULTILINE)


def test_the_build_context_leaves_out_local_builds_and_environments():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"web/node_modules", "web/dist", ".venv*", ".env"} <= set(ignored)

"""The console's files on disk: the app shell pages, built bundles and static files.

The bundles are built from src/ by `npm run build` into dist/ (not in git). When they are missing
the console answers with a page that says how to build them instead of a blank screen.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

WEB = Path(__file__).resolve().parent
DIST = WEB / "dist"
STATIC = WEB / "static"
BUNDLES = (
    "console.js", "console.css", "responder.js", "responder.css", "sw.js", "cluster-worker.js",
)  # fmt: skip
BUILD_COMMAND = "npm ci --no-audit --no-fund && npm run build"
PAGES = {"console": "index.html", "responder": "responder.html"}

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
}


def missing_bundles() -> list[str]:
    return [name for name in BUNDLES if not (DIST / name).is_file()]


def version() -> str:
    """Changes whenever a bundle changes: asset URLs carry it, so they can be cached for good."""
    digest = hashlib.sha256()
    for name in BUNDLES:
        stat = (DIST / name).stat()
        digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


def page(kind: str) -> str:
    template = (STATIC / PAGES[kind]).read_text(encoding="utf-8")
    return template.replace("{{v}}", version())


def resolve(name: str) -> Path | None:
    """A built or static file by its bare name; anything with a path in it is refused."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    for folder in (DIST, STATIC):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix, "application/octet-stream")


def not_built_page(missing: list[str]) -> str:
    items = "".join(f"<li><code>{html.escape(m)}</code></li>" for m in missing)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Commonwatch: console not built</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:4rem auto;padding:0 1rem;
color:#e6edf3;background:#0f1419}}code,pre{{background:#1c2530;padding:.1rem .35rem;
border-radius:4px}}pre{{padding:.8rem}}h1{{font-size:1.4rem}}</style></head>
<body><h1>The operations console has not been built</h1>
<p>The API is running, but the console's files are missing from
<code>{html.escape(str(DIST))}</code>:</p><ul>{items}</ul>
<p>Build them once from the repository root (<code>./cw</code> does this during set-up):</p>
<pre>{html.escape(BUILD_COMMAND)}</pre>
<p>Then reload this page. The HTTP API itself works meanwhile: see <a href="/docs">/docs</a>.</p>
</body></html>"""

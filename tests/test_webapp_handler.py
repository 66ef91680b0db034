"""The web page at ``{base}collab-docs/``: served publicly under any base_url with its
config injected, assets with caching headers, a redirect to the slash, and a clear 500
when the page was not built. (The page itself is tested in tests/browser/.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient

from jupyter_collab_docs.handlers import webapp

BUILT = webapp.STATIC_DIR / "index.html"
NO_CREDENTIALS = {"Authorization": ""}


async def get(jp_fetch: Any, *parts: str, **kwargs: Any) -> tornado.httpclient.HTTPResponse:
    kwargs.setdefault("headers", dict(NO_CREDENTIALS))
    return await jp_fetch(*parts, method="GET", raise_error=False, **kwargs)


def page_config(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="collab-docs-config" type="application/json">(.*?)</script>', html
    )
    assert match, html
    return json.loads(match.group(1))


@pytest.fixture
def fake_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in build output, so the handler is tested apart from npm."""
    out = tmp_path / "webapp"
    out.mkdir()
    (out / "index.html").write_text(
        "<html><head><!-- collab-docs-config -->"
        '<link rel="stylesheet" href="static/app.css" />'
        '<script type="module" src="static/app.js"></script></head></html>'
    )
    (out / "example.html").write_text("<html><!-- collab-docs-config -->example</html>")
    (out / "app.js").write_text("console.log('app')")
    (out / "app.css").write_text("body {}")
    (out / "manifest.json").write_text(json.dumps({"app.js": "abc123", "app.css": "def456"}))
    monkeypatch.setattr(webapp.WebAppPageHandler, "static_dir", out)
    monkeypatch.setattr(webapp, "STATIC_DIR", out)
    return out


async def test_page_is_public_with_the_base_url_injected(jp_fetch, jp_base_url, fake_build):
    response = await get(jp_fetch, "collab-docs/")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-cache"
    html = response.body.decode()
    config = page_config(html)
    assert config["baseUrl"] == jp_base_url  # "/a%40b/" under pytest-jupyter
    assert config["pageUrl"] == f"{jp_base_url}collab-docs/"
    assert config["standalone"] is True
    # Relative asset URLs (they work under any prefix), versioned by content hash.
    assert '"static/app.js?v=abc123"' in html
    assert '"static/app.css?v=def456"' in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp
    # the _xsrf cookie that a cookie-signed-in page echoes as X-XSRFToken
    assert "_xsrf=" in response.headers.get("Set-Cookie", "")


async def test_page_holds_no_user_data_even_when_signed_in(jp_fetch, fake_build, tokens):
    anonymous = await get(jp_fetch, "collab-docs/")
    signed_in = await get(
        jp_fetch, "collab-docs/", headers={"Authorization": f"token {tokens['alice']}"}
    )
    assert signed_in.code == 200
    assert page_config(signed_in.body.decode()) == page_config(anonymous.body.decode())
    assert "alice" not in signed_in.body.decode()


async def test_redirect_to_the_slash(jp_fetch, jp_base_url, fake_build):
    response = await get(jp_fetch, "collab-docs", follow_redirects=False)
    assert response.code == 302
    assert response.headers["Location"] == f"{jp_base_url}collab-docs/"


async def test_example_page(jp_fetch, jp_base_url, fake_build):
    response = await get(jp_fetch, "collab-docs", "example.html")
    assert response.code == 200
    assert page_config(response.body.decode())["baseUrl"] == jp_base_url


async def test_assets_with_and_without_a_version(jp_fetch, fake_build):
    versioned = await get(jp_fetch, "collab-docs/static/app.js", params={"v": "abc123"})
    assert versioned.code == 200
    assert versioned.body == b"console.log('app')"
    assert "javascript" in versioned.headers["Content-Type"]
    assert versioned.headers["Cache-Control"] == f"max-age={365 * 24 * 3600}"
    plain = await get(jp_fetch, "collab-docs/static/app.css")
    assert plain.code == 200
    assert plain.headers["Content-Type"].startswith("text/css")
    assert plain.headers["Cache-Control"] == "no-cache"
    assert (await get(jp_fetch, "collab-docs/static/missing.js")).code == 404


async def test_assets_stay_inside_the_build(jp_fetch, fake_build):
    (fake_build.parent / "secret.txt").write_text("top-secret-content")
    for path in ("collab-docs/static/../secret.txt", "collab-docs/static/%2e%2e/secret.txt"):
        response = await get(jp_fetch, path)
        assert response.code in (403, 404), path
        assert b"top-secret-content" not in (response.body or b"")


async def test_a_missing_build_is_a_clear_500(
    jp_fetch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(webapp.WebAppPageHandler, "static_dir", tmp_path / "nothing")
    response = await get(jp_fetch, "collab-docs/")
    assert response.code == 500
    text = response.body.decode()
    assert "web page was not built" in text
    assert "npm ci && npm run build" in text


def test_config_json_cannot_close_its_script():
    text = webapp.json_for_html({"baseUrl": "/</script><script>alert(1)</script>/"})
    assert "</script>" not in text and "<" not in text
    assert json.loads(text)["baseUrl"] == "/</script><script>alert(1)</script>/"


async def test_the_real_build_is_served(jp_fetch):
    # pip install builds the page (hatch_build.py): a missing build is a failure here.
    assert BUILT.is_file(), f"{BUILT} is missing: pip install -e . (or npm run build in webapp/)"
    page = await get(jp_fetch, "collab-docs/")
    assert page.code == 200
    html = page.body.decode()
    assets = re.findall(r'"(static/[\w.]+)\?v=([0-9a-f]+)"', html)
    assert {a for a, _ in assets} == {"static/app.js", "static/app.css"}
    for asset, version in assets:
        response = await get(jp_fetch, f"collab-docs/{asset}", params={"v": version})
        assert response.code == 200, asset
        assert len(response.body) > 1000
    example = await get(jp_fetch, "collab-docs", "example.html")
    assert example.code == 200
    body = example.body.decode()
    assert '"static/example.js?v=' in body
    # the example's own source is shown, escaped
    assert "new WebsocketProvider(" in body and "querySelector&lt;HTMLFormElement&gt;" in body

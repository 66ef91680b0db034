"""The web page's notebook outputs and markdown stay inert without the help of the
Content-Security-Policy: a browser context that bypasses the CSP opens a notebook whose
trusted output and markdown cell carry a script and ``on*`` handlers. The sanitizer
(views/outputs.ts: an allow-list of elements and attributes, parsed in an inert document)
keeps none of them, nothing runs and nothing is fetched.

With the CSP on (tests/browser/test_webapp.py), Chromium logs "Executing inline event
handler violates ... Content Security Policy" when the parser meets the hostile fixture's
``onerror`` attribute, even in the inert document (``DOMParser``, ``<template>`` and
``createHTMLDocument`` alike): that report is the fixture being refused at parse time,
not a handler of ours."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.hostile import HOSTILE_OUTPUT, PWNED, watch_pwned
from tests.browser.test_webapp import open_document, sign_in

pytestmark = pytest.mark.xdist_group("browser-webapp-outputs")

MARKDOWN = (
    '# Notes\n\nSee <img src="/collab-docs-md-image.png" onerror="window.__pwned = \'md\'">'
    " and <a href=\"javascript:window.__pwned='href'\" onclick=\"window.__pwned='click'\">this</a>"
)


def hostile_notebook() -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"id": "md", "cell_type": "markdown", "metadata": {}, "source": MARKDOWN},
            {
                "id": "out",
                "cell_type": "code",
                "metadata": {"trusted": True},
                "execution_count": 1,
                "source": "display(HTML(...))",
                "outputs": [HOSTILE_OUTPUT],
            },
        ],
    }


def test_outputs_and_markdown_stay_inert_without_the_csp(browser, collab_server):
    doc = collab_server.as_user("alice")(
        "POST", "documents", {"name": "Hostile", "type": "notebook", "content": hostile_notebook()}
    )
    context = browser.new_context(bypass_csp=True, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        fetched: list[str] = []
        page.on(
            "request",
            lambda r: (
                fetched.append(r.url) if "no-such-image" in r.url or "md-image" in r.url else None
            ),
        )
        pwned = watch_pwned(page)
        sign_in(page, collab_server, "alice")
        open_document(page, collab_server, doc["id"])
        cells = page.locator(".notebook .cell")
        expect(cells).to_have_count(2)
        expect(cells.nth(1).locator(".output-html b")).to_have_text("output from bob")
        expect(cells.nth(0).locator("a")).to_have_text("this")
        # the premise: in this context an inline handler would run
        assert (
            page.evaluate(
                """() => { const probe = document.createElement('div');
                probe.setAttribute('onclick', 'window.__cspOff = 1'); probe.click();
                return window.__cspOff; }"""
            )
            == 1
        )
        page.click(".notebook .cell >> nth=0 >> a", no_wait_after=True)
        handlers = page.evaluate(
            """() => [...document.querySelectorAll('.notebook *')].flatMap((el) =>
                [...el.attributes].filter((a) => /^on/i.test(a.name) ||
                    /^\\s*javascript:/i.test(a.value)).map((a) => `${el.tagName} ${a.name}`))"""
        )
        assert handlers == []
        assert page.locator(".notebook script, .notebook img").count() == 0
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.__pwned") is None
        assert (pwned, fetched) == ([], [])
        assert not [p for p in context.pages if PWNED in p.url]
    finally:
        context.close()

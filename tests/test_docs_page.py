"""`/docs` in headless Chromium: Swagger UI, served by atelier itself, renders the document, and a
request tried from the page (a GET with a path parameter, a POST with its example body) succeeds
against the running server."""

from __future__ import annotations

import httpx
import pytest
from conftest import Server

from atelier.loadtest.browser import Browser, find_chromium

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (bench/install-tools.sh)")

def _try(browser: Browser, block: str) -> None:
    """Opens an operation and presses Execute."""
    browser.wait_for(f"document.querySelector('#{block} .opblock-summary-control') !== null")
    browser.evaluate(f"document.querySelector('#{block} .opblock-summary-control').click(), true")
    browser.wait_for(f"document.querySelector('#{block} button.execute') !== null")


def _status(browser: Browser, block: str) -> str:
    cell = f"#{block} .live-responses-table tr.response .response-col_status"
    return browser.wait_for(f"(document.querySelector('{cell}') || {{}}).textContent")


def test_the_assets_come_from_atelier(server: Server) -> None:
    page = httpx.get(server.url + "/docs").text
    assert "/docs/swagger-ui-bundle.js" in page and "//" not in page.split("<script")[1].split(">")[0]
    bundle = httpx.get(server.url + "/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("text/javascript")
    assert len(bundle.content) > 100_000 and b"SwaggerUIBundle" in bundle.content
    assert httpx.get(server.url + "/docs/swagger-ui.css").headers["content-type"].startswith("text/css")


def test_a_request_tried_from_the_page_succeeds(server: Server) -> None:
    with Browser(width=1280, height=900) as browser:
        browser.open(server.url + "/docs")
        browser.wait_for("document.querySelectorAll('.opblock').length > 20")

        product = "operations-products-get_products_product_id"
        _try(browser, product)
        field = f"#{product} tr[data-param-name=\"product_id\"] input"
        # the declared example, filled in (waited for: the parameter rows render after the button)
        assert browser.wait_for(f"(document.querySelector('{field}') || {{}}).value") == "1"
        browser.evaluate(f"document.querySelector('#{product} button.execute').click(), true")
        assert _status(browser, product) == "200"
        shown = browser.evaluate(f"document.querySelector('#{product} .live-responses-table .microlight').textContent")
        assert '"name": "Camo Onesie"' in shown

        interaction = "operations-interactions-post_interactions"
        _try(browser, interaction)
        body = f"#{interaction} textarea.body-param__text"
        example = browser.wait_for(f"(document.querySelector('{body}') || {{}}).value")
        assert '"widget": "overview"' in example  # the declared example body, ready to send
        browser.evaluate(f"document.querySelector('#{interaction} button.execute').click(), true")
        assert _status(browser, interaction) == "201"

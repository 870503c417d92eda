"""Signing in to the pages, in a real browser: a one-time link, a session cookie, signing out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import accessible, shot
from tests.browser.site import NCL


def test_a_commissioner_signs_in_with_a_one_time_link_sees_who_they_are_and_signs_out(site, browser):
    link = site.sign_in_link("commissioner", NCL, "a.khan@ncl.example.nhs.uk")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(link)
    expect(page.get_by_text("a.khan@ncl.example.nhs.uk")).to_be_visible()
    accessible(page)
    shot(page, site, "sign-in-confirm")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/app/$"))
    assert "a.khan@ncl.example.nhs.uk (commissioner, ICB-NCL)" in page.locator("header").inner_text()
    assert "Barnet" in page.locator("#what-you-see").inner_text()
    accessible(page)
    shot(page, site, "home-commissioner")
    cookie, = (c for c in context.cookies() if c["name"] == "aqp_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
    page.goto(site.url("/app/"))
    expect(page.get_by_role("heading", name="Sign in to AQP Ledger")).to_be_visible()
    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("heading", name="This sign-in link no longer works")).to_be_visible()
    accessible(page)
    context.close()

"""End to end in Debian's chromium against a real `linia serve`: a customer opens the private link, replies
with a file; the agent sees it on the desk and solves the ticket; the customer rates the service and the
agent sees the rating. Screenshots go to test-artifacts/customer_page/."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.customer_page.conftest import make_png
from tests.liveserver import LINIA, linia_env, live_linia

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "customer_page"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import Page, Request, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (run scripts/setup_browser.sh)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (run scripts/setup_browser.sh)"),
]

SEED = """
from linia.core.models import Membership, Role, Tenant, User
from linia.tickets import actions
t = Tenant.objects.create(slug="maison", name="Maison Moderne", ticket_prefix="MM", time_zone="Europe/Paris",
                          default_language="en", settings={"colours": {"primary": "#7a1f5c", "on_primary": "#ffffff"}})
u = User.objects.create_user(username="claire", password="pass12345", first_name="Claire", last_name="Martin",
                             time_zone="Europe/Paris", language="en")
Membership.objects.create(user=u, tenant=t, role=Role.AGENT)
c = actions.find_or_create_contact(None, t, name="Jean Dupont", emails=["jean@example.fr"], language="en")
ticket = actions.create_ticket(None, t, subject="Sofa delivered with a torn cushion", channel="webform",
                               body="The sofa arrived today; one cushion is torn.", contact=c.pk)
actions.add_message(u, ticket, body="We are sorry! Could you send us a photo of the cushion?")
actions.add_message(u, ticket, body="Internal: check the carrier's damage claim", kind="note")
actions.change_status(u, ticket, "pending_customer")
"""

LINK = """
from linia.tickets.actions import issue_customer_link
from linia.tickets.models import Ticket
ticket = Ticket.objects.get(reference="MM-000001")
print(ticket.pk, issue_customer_link(ticket))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("linia-customer-page")
    env = linia_env(home)
    with live_linia(home, env, seed=SEED) as base:
        out = subprocess.run([LINIA, "shell", "-c", LINK], env=env, check=True, capture_output=True, text=True,
                             timeout=120).stdout.strip().splitlines()[-1]
        pk, link = out.split()
        yield {"base": base, "path": link[link.index("/t/"):], "ticket": f"/tickets/{pk}/", "home": home}


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _login(page: Page, base: str, target: str) -> None:
    page.goto(f"{base}/accounts/login/?next={target}")
    page.fill("#id_username", "claire")
    page.fill("#id_password", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


def test_customer_replies_with_a_file_and_rates_after_the_agent_solves(server: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    base, url = server["base"], server["base"] + server["path"]
    photo = tmp_path / "cushion.png"
    photo.write_bytes(make_png())
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            customer = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB").new_page()
            posts: list[Request] = []
            customer.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
            response = customer.goto(url)
            assert response is not None and response.headers["referrer-policy"] == "no-referrer"
            expect(customer.locator("h1")).to_have_text("Sofa delivered with a torn cushion")
            expect(customer.locator(".status")).to_contain_text("Waiting for your reply")
            expect(customer.locator("#messages")).to_contain_text("Could you send us a photo")
            expect(customer.locator("#messages")).not_to_contain_text("carrier's damage claim")
            _shot(customer, "01-customer-page-mobile")

            customer.get_by_label("Your message").fill("Here is the photo of the torn cushion.")
            customer.get_by_label("Add files").set_input_files(str(photo))
            customer.get_by_role("button", name="Send", exact=True).click()
            expect(customer.locator(".notice.ok")).to_have_text("Thank you, your message was sent.")
            expect(customer.locator(".status")).to_contain_text("In progress")  # the reply reopened it
            mine = customer.locator(".msg.mine").last
            expect(mine).to_contain_text("Here is the photo")
            expect(mine.locator("img[alt='cushion.png']")).to_be_visible()
            # Under Referrer-Policy: no-referrer chromium sends `Origin: null`: the page's CSRF check accepts it
            # only with Sec-Fetch-Site: same-origin (see public_views._CustomerCsrf)
            sent = posts[0].all_headers()
            assert (sent.get("origin"), sent.get("sec-fetch-site")) in (("null", "same-origin"), (base, "same-origin"))
            print("reply POST origin:", sent.get("origin"))
            expect(customer.locator("#rating")).to_have_count(0)  # not solved yet: nothing to rate
            _shot(customer, "02-customer-replied-with-photo")

            agent = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            _login(agent, base, server["ticket"])
            expect(agent.locator("#thread")).to_contain_text("Here is the photo of the torn cushion.")
            expect(agent.locator("#thread")).to_contain_text("cushion.png")
            expect(agent.locator(".timeline")).to_contain_text("The customer replied on the ticket page")
            agent.locator("#t-status").select_option("solved")
            agent.get_by_role("button", name="Save changes").click()
            expect(agent.locator(".ticket-head .badge").first).to_have_text("Solved")
            agent.get_by_role("button", name="Customer link").click()
            new_link = agent.locator("#customer-link")
            expect(new_link).to_have_value(re.compile(r"^http://localhost:8000/t/[A-Za-z0-9_-]{32}/$"))
            agent.get_by_role("button", name="Put into the reply").click()
            expect(agent.locator("form.reply textarea[name=body]")).to_have_value(
                "You can follow your request, reply and add files here: " + new_link.input_value())
            _shot(agent, "03-agent-solved-and-new-link")

            customer.reload()
            expect(customer.locator(".status")).to_contain_text("Solved")
            customer.locator("label[for=score-5]").click()
            customer.get_by_label("Comment (optional)").fill("Quick and friendly, thank you!")
            customer.get_by_role("button", name="Send rating").click()
            expect(customer.locator(".notice.ok")).to_have_text("Thank you for your rating.")
            expect(customer.locator("#rating")).to_contain_text("Your rating: 5 of 5")
            _shot(customer, "04-customer-rated")

            customer.get_by_role("link", name="Français").click()
            expect(customer.locator("html")).to_have_attribute("lang", "fr")
            expect(customer.locator(".status")).to_contain_text("Résolue")
            _shot(customer, "05-customer-page-french")

            agent.goto(base + server["ticket"])
            panel = agent.locator("#customer-panel")
            expect(panel).to_contain_text("5/5")
            expect(panel).to_contain_text("Quick and friendly, thank you!")
            expect(agent.locator(".timeline")).to_contain_text("The customer rated the service 5/5")
            _shot(agent, "06-agent-sees-rating")

            stranger = browser.new_context().new_page()
            gone = stranger.goto(base + "/t/not-a-valid-token-at-all/")
            assert gone is not None and gone.status == 404
            expect(stranger.locator("h1")).to_have_text("This link is not valid or has expired")
            _shot(stranger, "07-invalid-link")
        finally:
            browser.close()

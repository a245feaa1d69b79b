"""Issue 15's first "done when", in the browser on both engines: a seller goes from an
operator's invitation to an approved, listed full-managed product entirely through the console.
The operator (English, desktop) publishes the agreement and a deposit rate and invites; the
seller (Chinese, a 390 px phone) accepts the invitation and the agreement, fills its business
information with uploads and submits; the operator approves it stage by stage, returning one
field once, which the seller corrects; the operator records the deposit received; the seller
creates a product with two SKUs and their supply prices and submits it; the operator approves
it at a retail price; the seller's product is on sale at that price and its store joined."""

from __future__ import annotations

import os
import re

from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.api.test_invitations_api import newcomer
from tests.builders.market import Market, create_console_user
from tests.builders.reviews import PDF, PNG
from tests.web.test_exit_browser import _sign_in, browser, settings  # noqa: F401
from tuoguan.principal import Role

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def _page(launched: Browser, base: str, email: str, viewport: ViewportSize) -> Page:
    """A signed-in page of its own browser context, answering every confirm dialog yes."""
    page = launched.new_context(viewport=viewport).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, base, email)
    return page


def _fits(page: Page, name: str) -> None:
    """The page fits its width, and is kept as a screenshot when asked (TUOGUAN_SCREENSHOTS)."""
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name
    if shots := os.environ.get("TUOGUAN_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/join-{name}.png", full_page=True)


def _done(page: Page, words: str) -> None:
    """The page a form led to says it was done, in its reader's words."""
    expect(page.get_by_test_id("done")).to_have_text(words)


def test_an_invited_seller_joins_and_lists_a_product_through_the_console(
    browser: Browser,  # noqa: F811
    live_server: str,
    live_market: Market,
) -> None:  # M2 M4 S1 S3 C1 C2 G7
    m = live_market
    seller, _, _ = newcomer(m)
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="en")
    create_console_user(m.db_url, "c@example.com", Role.seller, seller, locale="zh-CN")
    base = live_server
    op = _page(browser, base, "op@example.com", DESKTOP)

    # M4, S3: the agreement in force and the deposit a store must hold.
    op.goto(f"{base}/console/program")
    publish = op.get_by_test_id("publish-form")
    publish.locator("input[name=label]").fill("2026")
    publish.locator("input[name=title_zh]").fill("全托管合作协议")
    publish.locator("textarea[name=body_zh]").fill("第一条 平台负责运营。\n\n第二条 商家负责供货。")
    publish.locator("input[name=title_en]").fill("Full-managed programme agreement")
    publish.locator("textarea[name=body_en]").fill("Article 1. The platform runs the store.")
    publish.get_by_role("button", name="Publish").click()
    _done(op, "The version was published and the sellers told.")
    op.goto(f"{base}/console/deposit-refunds")
    rates = op.get_by_test_id("rate-form")
    rates.locator("input[name=category]").fill("*")
    rates.locator("input[name=currency]").fill("USD")
    rates.locator("input[name=amount]").fill("1500")
    rates.get_by_role("button").click()
    _done(op, "The deposit rate was saved.")

    # M2: the operator invites the seller of a self-run store in good standing.
    op.goto(f"{base}/console/program")
    invite = op.get_by_test_id("invite-form")
    invite.locator("select[name=store]").select_option(label="Seller c · c self")
    invite.locator("input[name=store_name]").fill("悦声全托管店")
    invite.locator("textarea[name=message]").fill("诚邀您加入全托管。")
    invite.get_by_role("button", name="Send the invitation").click()
    _done(op, "The invitation was sent.")
    expect(op.get_by_test_id("invitations")).to_contain_text("Waiting for the answer")

    # The seller, on a phone in Chinese, accepts the invitation, then the agreement.
    me = _page(browser, base, "c@example.com", PHONE)
    me.goto(f"{base}/console/program")
    expect(me.get_by_test_id("invitation-message")).to_have_text("诚邀您加入全托管。")
    _fits(me, "invitation")
    me.get_by_role("button", name="接受邀请").click()
    _done(me, "您已接受邀请：全托管店铺已开设，正在入驻中。")
    checklist = me.get_by_test_id("checklist")
    expect(checklist).to_contain_text("入驻中")
    expect(checklist).to_contain_text("US$0.00")  # of US$1,500.00 required
    expect(checklist).to_contain_text("US$1,500.00")
    me.get_by_test_id("agree-form").locator("input[name=agree]").check()
    me.get_by_role("button", name="签署协议").click()
    _done(me, "您已签署协议。")
    expect(me.get_by_test_id("agreed")).to_be_visible()
    _fits(me, "agreed")

    # S1: the business information, a stage's form at a time, with its documents.
    me.goto(f"{base}/console/business-reviews")
    stage = me.get_by_test_id("stage-background")
    for name, value in (
        ("company_name", "深圳市悦声电子有限公司"),
        ("registration_number", "91440300MA5FXXXX1K"),
        ("legal_representative", "王小明"),
        ("registered_address", "深圳市南山区科技园南区 1 号"),
        ("contact_phone", "+86 755 8888 0000"),
        ("contact_email", "licence@example.com"),
    ):
        stage.locator(f"input[name={name}]").fill(value)
    stage.locator("input[name=file-licence]").set_input_files(
        {"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    stage.locator("input[name=file-legal_representative_id]").set_input_files(
        {"name": "id.png", "mimeType": "image/png", "buffer": PNG}
    )
    stage.get_by_role("button", name="保存").click()
    expect(me).to_have_url(re.compile("#stage-background$"))
    expect(stage.locator("[data-document=licence]")).to_have_text("营业执照.pdf")
    stage = me.get_by_test_id("stage-financial")
    stage.locator("input[name=account_holder]").fill("深圳市悦声电子有限公司")
    stage.locator("input[name=bank_name]").fill("招商银行深圳分行")
    stage.locator("input[name=account_number]").fill("6222 0212 3456 7890")
    stage.locator("input[name=file-bank_proof]").set_input_files(
        {"name": "bank.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    stage.get_by_role("button", name="保存").click()
    expect(me).to_have_url(re.compile("#stage-financial$"))
    stage = me.get_by_test_id("stage-categories")
    stage.locator("textarea[name=categories]").fill("electronics/audio")
    stage.get_by_role("button", name="保存").click()
    expect(me).to_have_url(re.compile("#stage-categories$"))
    _fits(me, "review-filled")
    me.get_by_test_id("submit-form").get_by_role("button", name="提交审核").click()
    _done(me, "已提交审核。")
    expect(me.get_by_test_id("status")).to_have_text("审核中")

    # The operator approves the background and returns the bank's name once.
    op.goto(f"{base}/console/business-reviews")
    op.get_by_test_id("queue").get_by_role("link", name=re.compile("悦声全托管店")).click()
    op.locator("#stage-background").get_by_role("button", name="Approve this stage").click()
    financial = op.locator("#stage-financial")
    financial.locator("textarea[name=reason-bank_name]").fill("开户行与开户证明不一致")
    _fits(op, "review-decide")
    financial.get_by_role("button", name="Reject and return").click()
    _done(op, "Returned to the seller for correction.")

    # The seller reads why beside the field, corrects only it and resubmits.
    me.reload()
    expect(me.get_by_test_id("status")).to_have_text("已退回修改")
    stage = me.get_by_test_id("stage-financial")
    expect(stage.locator("[data-reason=bank_name]")).to_contain_text("开户行与开户证明不一致")
    expect(stage.locator("input[name=account_holder]")).to_be_disabled()
    stage.locator("input[name=bank_name]").fill("招商银行深圳南山支行")
    stage.get_by_role("button", name="保存").click()
    expect(me).to_have_url(re.compile("#stage-financial$"))
    _fits(me, "review-corrected")
    me.get_by_test_id("submit-form").get_by_role("button", name="重新提交").click()
    _done(me, "已提交审核。")

    op.reload()
    op.locator("#stage-financial").get_by_role("button", name="Approve this stage").click()
    op.locator("#stage-categories").get_by_role("button", name="Approve this stage").click()
    expect(op.get_by_test_id("status")).to_have_text("Approved")
    expect(op.locator("[data-round]")).to_have_count(2)

    # S3: the operator records the deposit received; it lands on the store's deposit page.
    op.goto(f"{base}/console/deposit-refunds")
    funding = op.get_by_test_id("funding-form")
    funding.locator("select[name=store]").select_option(label="Seller c · 悦声全托管店 (USD)")
    funding.locator("input[name=amount]").fill("1500")
    funding.locator("input[name=reference]").fill("B-DEPOSIT-1")
    funding.get_by_role("button", name="Record").click()
    _done(op, "The deposit received was recorded.")
    expect(op.get_by_test_id("deposit-figures")).to_contain_text("$1,500.00")

    # C1: the seller's product, two SKUs with their supply prices, submitted for review.
    me.goto(f"{base}/console/products")
    new = me.get_by_test_id("new-product")
    new.locator("select[name=store]").select_option(label="悦声全托管店")
    new.get_by_role("button", name="新建商品").click()
    form = me.get_by_test_id("product-form")
    for name, value in (
        ("name", "Noise-cancelling earbuds 降噪耳机"),
        ("category", "electronics/audio"),
        ("declared_value", "29.99"),
        ("weight_g", "90"),
        ("length_mm", "100"),
        ("width_mm", "80"),
        ("height_mm", "40"),
        ("supply_price", "15"),
        ("new-0-code", "NC-BLK"),
        ("new-0-attrs", "colour=black"),
        ("new-0-supply", "15"),
        ("new-1-code", "NC-WHT"),
        ("new-1-attrs", "colour=white"),
        ("new-1-supply", "15.50"),
    ):
        form.locator(f"[name={name}]").fill(value)
    _fits(me, "product-new")
    form.get_by_role("button", name="保存草稿").click()
    _done(me, "已保存为草稿。")
    me.get_by_test_id("actions").get_by_role("button", name="提交审核").click()
    _done(me, "已提交审核。")
    expect(me.locator("h1 [data-status]")).to_have_text("审核中")

    # C2: the operator approves it at the retail price it sells at.
    op.goto(f"{base}/console/products")
    op.get_by_test_id("queue").get_by_role("link", name="Noise-cancelling earbuds 降噪耳机").click()
    comparison = op.get_by_test_id("comparison")
    expect(comparison.locator("[data-field=skus]")).to_contain_text("$15.50")
    approve = op.get_by_test_id("approve-form")
    approve.locator("input[name=price]").fill("39.99")
    _fits(op, "product-approve")
    approve.get_by_role("button", name="Approve").click()
    _done(op, "Approved; the seller was told.")
    op.close()

    # The seller's product is on sale at that price, and its store has joined.
    me.goto(f"{base}/console/products")
    row = me.get_by_test_id("products").get_by_role("row", name=re.compile("降噪耳机"))
    expect(row).to_contain_text("在售")
    expect(row).to_contain_text("US$39.99")
    row.get_by_role("link").click()
    expect(me.locator("h1 [data-status]")).to_have_text("在售")
    expect(me.get_by_test_id("values").locator("[data-field=price_minor]")).to_contain_text(
        "US$39.99"
    )
    _fits(me, "product-listed")
    me.goto(f"{base}/console/program")
    expect(me.get_by_test_id("checklist").locator("h3")).to_contain_text("已入驻")
    _fits(me, "joined")
    me.close()

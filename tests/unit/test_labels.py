"""Shipping labels: an embedded CJK font, barcode and QR, ZPL (F8 step 3)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from tuoguan.shipping.labels import LabelData, missing_glyphs, render_pdf, render_zpl

LABEL = LabelData(
    shipment_id="shp_01TEST",
    order_id="ord_01TEST",
    tracking_number="TG1234567890CN",
    carrier_code="sandbox",
    service_code="TG-POST-REG",
    service_name="挂号小包 Registered small parcel",
    zone="EU",
    sender={
        "name": "深圳优品科技",
        "phone": "+86 138 0013 8000",
        "line1": "广东省深圳市南山区科苑路15号",
        "city": "深圳",
        "postcode": "518057",
        "country": "CN",
    },
    receiver={
        "name": "张三",
        "phone": "+48 501 234 567",
        "line1": "ul. Marszałkowska 10",
        "city": "Warszawa",
        "postcode": "00-590",
        "country": "PL",
    },
    weight_g=340,
    insured=False,
    printed_on="2026-11-22",
)
ON_CI = bool(os.environ.get("CI"))


def _tools() -> None:
    if shutil.which("pdftoppm") and shutil.which("pdffonts"):
        return
    if ON_CI:
        pytest.fail("poppler-utils (pdftoppm, pdffonts) is required on CI")
    pytest.skip("poppler-utils is not installed")


def _png(pdf: bytes, tmp_path: Path, name: str) -> Image.Image:
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-gray",
            "-png",
            "-singlefile",
            str(source),
            str(tmp_path / name),
        ],
        check=True,
        capture_output=True,
    )
    return Image.open(io.BytesIO((tmp_path / f"{name}.png").read_bytes())).convert("L")


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    histogram = image.crop(box).histogram()
    return sum(histogram[:128])


def test_every_label_font_is_embedded(tmp_path: Path) -> None:
    # F8: Chinese must print where the reader has no CJK font: every font is embedded.
    _tools()
    path = tmp_path / "label.pdf"
    path.write_bytes(render_pdf([LABEL]))
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    rows = listing.stdout.splitlines()[2:]
    assert rows, listing.stdout
    assert all(row.split()[-5] == "yes" for row in rows), listing.stdout  # the "emb" column
    assert any("NotoSansSC" in row for row in rows)


def test_chinese_glyphs_are_drawn_on_a_machine_without_cjk_fonts(tmp_path: Path) -> None:
    # F8: render to PNG with poppler. Real glyphs differ from one character to the next;
    # characters no font has all print as the same empty box.
    _tools()
    if ON_CI and shutil.which("fc-list"):
        installed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
        assert installed.stdout.strip() == "", "CI must not have CJK fonts installed"
    names = ("张三", "李四", "\U00020000\U00020000", "\U00020001\U00020001")
    images = [
        _png(
            render_pdf([replace(LABEL, receiver={**LABEL.receiver, "name": n})]), tmp_path, f"l{i}"
        )
        for i, n in enumerate(names)
    ]
    assert images[0].size == (394, 591)  # 100 x 150 mm at 100 dpi
    name_box = (10, 140, 200, 175)
    assert _ink(images[0], name_box) > 150  # the name is drawn, not blank
    assert ImageChops.difference(images[0], images[1]).getbbox() is not None
    # the control: two different missing characters render identically (as boxes)
    assert ImageChops.difference(images[2], images[3]).getbbox() is None
    assert missing_glyphs(["张三", "Marszałkowska"]) == []
    assert missing_glyphs(["\U00020000"]) == ["\U00020000"]


def test_a_batch_is_one_pdf_with_a_page_per_label(tmp_path: Path) -> None:
    # F8: many labels print as one PDF.
    _tools()
    path = tmp_path / "batch.pdf"
    path.write_bytes(
        render_pdf([replace(LABEL, tracking_number=f"TG{i:010d}CN") for i in range(5)])
    )
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    fields = {
        k.strip(): v.strip() for k, v in (line.split(":", 1) for line in info.stdout.splitlines())
    }
    assert fields["Pages"] == "5"
    assert fields["Page size"] == "283.465 x 425.197 pts"  # 100 x 150 mm


def test_zpl_carries_barcode_qr_and_escaped_text() -> None:
    # F8: ZPL for thermal printers, UTF-8, with a Code128 of the tracking number and a QR.
    zpl = render_zpl(replace(LABEL, receiver={**LABEL.receiver, "name": "A^B~C_D 张三"}))
    assert zpl.startswith("^XA\n^CI28\n") and zpl.endswith("^XZ\n")
    assert "^BCN,130,Y,N,N^FDTG1234567890CN^FS" in zpl
    assert "^BQN,2,6^FDMA,TG1|sandbox|TG1234567890CN|ord_01TEST|shp_01TEST^FS" in zpl
    assert "^FH^FDA_5EB_7EC_5FD 张三^FS" in zpl
    assert "^PW800" in zpl and "^LL1200" in zpl


def test_a_carriers_own_label_is_printed_in_its_place_within_a_batch() -> None:
    # F8 step 3: a label the carrier issued (through karrio) is printed as the carrier's pages,
    # between tuoguan's own labels, in the order asked
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(288, 432))
    canvas.drawString(20, 380, "CARRIER LABEL 794900001234")
    canvas.showPage()
    canvas.save()
    carried = replace(LABEL, carrier_label=buffer.getvalue(), carrier_format="PDF")
    pages = PdfReader(io.BytesIO(render_pdf([LABEL, carried, LABEL]))).pages
    assert len(pages) == 3
    assert [round(float(p.mediabox.height)) for p in pages] == [425, 432, 425]
    assert "CARRIER LABEL 794900001234" in pages[1].extract_text()
    # and a carrier's ZPL label is given as the carrier wrote it
    zpl = replace(LABEL, carrier_label=b"^XA^FDCARRIER^FS^XZ", carrier_format="ZPL")
    assert render_zpl(zpl) == "^XA^FDCARRIER^FS^XZ"

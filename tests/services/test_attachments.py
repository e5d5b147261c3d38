"""Attached files: what the model receives for each kind, which files are refused and why, and that a message's
attachments are saved with it and sent again on regenerate."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select

from db import repository
from db.models import Message
from services.attachments import (
    MAX_FILE_BYTES,
    MAX_FILES,
    AttachmentError,
    api_content,
    read_upload,
    read_uploads,
)
from services.chat import ChatSettings, retry, send_message
from tests.services.replies import finished



def image_bytes(size: tuple[int, int], fmt: str, mode: str = "RGB", exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128))
    image.save(out, format=fmt, **({"exif": exif.tobytes()} if exif is not None else {}))
    return out.getvalue()


def decoded(data_url: str) -> tuple[str, Image.Image]:
    """The MIME type of a base64 data URL and the image it holds."""
    head, _, payload = data_url.partition(",")
    assert head.startswith("data:") and head.endswith(";base64"), head
    return head[5:-7], Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))


def pdf(*objects: bytes) -> bytes:
    """A PDF file of the given objects (numbered from 1, the first is the catalog), with a correct xref table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_pdf(line: str) -> bytes:
    """One page with `line` written in Helvetica, as a word processor would put it."""
    content = b"BT /F1 12 Tf 40 100 Td (%s) Tj ET" % line.encode("latin-1")
    return pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    )


def blank_pdf() -> bytes:
    """What a scan without OCR looks like to a text extractor: pages with nothing written on them."""
    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=400, height=200)
    writer.write(out)
    return out.getvalue()


def broken_png() -> bytes:
    """A PNG signature followed by a too-short header chunk (Pillow raises ValueError on it)."""
    header = b"\x00" * 5
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 5) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))


# --- images ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "mime"), [("RGBA", "image/png"), ("RGB", "image/jpeg")])
def test_large_image_is_downscaled_to_the_max_side(mode, mime):
    attachment = read_upload("screenshot.png", image_bytes((3000, 1500), "PNG", mode), image_max_side=800)

    assert (attachment.name, attachment.kind) == ("screenshot.png", "image")
    assert decoded(attachment.data_url)[0] == mime, "transparency is kept as PNG, photos become JPEG"
    assert decoded(attachment.data_url)[1].size == (800, 400)


def test_small_jpeg_is_sent_unchanged():
    data = image_bytes((320, 240), "JPEG")
    attachment = read_upload("photo.JPG", data)
    assert attachment.data_url == "data:image/jpeg;base64," + base64.b64encode(data).decode()


def test_downscaled_phone_photo_keeps_its_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90° clockwise: a portrait photo taken on a phone
    attachment = read_upload("IMG_0001.jpg", image_bytes((2000, 1000), "JPEG", exif=exif), image_max_side=800)
    assert decoded(attachment.data_url)[1].size == (400, 800)


# --- text, code and PDF ----------------------------------------------------------------------------------------


def test_code_file_is_inlined_with_its_name():
    attachment = read_upload("fib.py", b"def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n")
    content = api_content("Why is this slow?", [attachment])
    assert content == (
        "Why is this slow?\n\n--- fib.py ---\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    )


def test_text_file_that_is_not_utf8_is_still_read():
    assert read_upload("prices.csv", "café;3,50\n".encode("latin-1")).text == "café;3,50\n"


def test_pdf_text_is_extracted():
    attachment = read_upload("report.pdf", text_pdf("Quarterly revenue grew by 12 percent"))
    assert attachment.kind == "text"
    assert "Quarterly revenue grew by 12 percent" in api_content("Summarise", [attachment])


# --- refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        pytest.param("scan.pdf", blank_pdf(), "no text to extract", id="scanned-pdf"),
        pytest.param("photo.png", b"this is not a picture", "not an image that can be read", id="not-an-image"),
        pytest.param("cut.png", broken_png(), "not an image that can be read", id="broken-png"),
        pytest.param("mangled.pdf", pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids 7 /Count 1 >>"),
                     "not a PDF that can be read", id="malformed-page-tree"),
        pytest.param("nopages.pdf", pdf(b"<< /Type /Catalog >>"), "not a PDF that can be read", id="pdf-without-pages"),
        pytest.param("dump.log", b"x" * (MAX_FILE_BYTES + 1), "files may be at most 10 MB", id="too-big"),
        pytest.param("setup.exe", b"MZ\x90\x00", "this kind of file cannot be attached", id="unsupported-type"),
    ],
)
def test_file_that_cannot_be_attached_is_refused_with_its_name_and_reason(name, data, reason):
    with pytest.raises(AttachmentError) as refused:
        read_uploads([("ok.txt", b"fine"), (name, data)])
    assert name in str(refused.value) and reason in str(refused.value)


def test_too_many_files_are_refused():
    with pytest.raises(AttachmentError, match=f"At most {MAX_FILES} files per message \\(you attached {MAX_FILES + 1}\\)"):
        read_uploads([(f"note{i}.txt", b"hi") for i in range(MAX_FILES + 1)])


# --- the message content sent ----------------------------------------------------------------------------------


def test_content_is_plain_text_without_images_and_parts_with_them():
    note = read_upload("todo.md", b"- buy milk")
    picture = read_upload("cat.png", image_bytes((8, 8), "PNG"))

    assert api_content("hello", []) == "hello"
    assert api_content("hello", [note]) == "hello\n\n--- todo.md ---\n- buy milk"
    assert api_content("What is this?", [picture, note]) == [
        {"type": "text", "text": "What is this?\n\n--- todo.md ---\n- buy milk"},
        {"type": "image_url", "image_url": {"url": picture.data_url}},
    ]
    # An image sent without words has no empty text part (some backends refuse empty text blocks).
    assert api_content("", [picture]) == [{"type": "image_url", "image_url": {"url": picture.data_url}}]


# --- through the runtime and the fake endpoint -----------------------------------------------------------------



def test_attachments_are_sent_saved_with_the_message_and_sent_again_on_regenerate(runtime, fake_openai):
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
        settings = ChatSettings(repository.config_endpoint(session, user).id, "fake-gpt")
    files = read_uploads([("chart.png", image_bytes((4000, 2000), "PNG")), ("notes.txt", b"Sales: 12 units")],
                         image_max_side=runtime.settings.image_max_side)

    turn = send_message(runtime, user, None, "Compare these", settings, files)
    reply = finished(runtime, turn.assistant_message_id)

    assert reply.status == "complete"
    sent = fake_openai.chat_bodies[0]["messages"][-1]
    assert sent["role"] == "user"
    text_part, image_part = sent["content"]
    assert text_part == {"type": "text", "text": "Compare these\n\n--- notes.txt ---\nSales: 12 units"}
    assert image_part["type"] == "image_url"
    mime, image = decoded(image_part["image_url"]["url"])
    assert mime == "image/jpeg" and max(image.size) == runtime.settings.image_max_side

    with runtime.db.read() as session:
        question = session.scalars(select(Message).where(Message.role == "user")).one()
        assert question.content == "Compare these"
        assert [(a["name"], a["kind"]) for a in question.attachments] == [("chart.png", "image"), ("notes.txt", "text")]
        assert question.attachments[0]["data_url"] == image_part["image_url"]["url"]

    again = finished(runtime, retry(runtime, user, reply.id, settings).assistant_message_id)
    assert again.status == "complete"
    assert fake_openai.chat_bodies[1]["messages"] == fake_openai.chat_bodies[0]["messages"]

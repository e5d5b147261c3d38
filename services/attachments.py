"""Files attached to a message: images become image_url parts, text, code and PDFs are inlined as text."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any, Literal

from PIL import Image, ImageOps
from pypdf import PdfReader
from services.format_controls import strip_format_controls

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 200_000
DEFAULT_IMAGE_MAX_SIDE = 1568  # what the large vision models downscale to anyway
IMAGE_TYPES = ("png", "jpg", "jpeg", "gif", "webp")
TEXT_TYPES = (
    "txt", "md", "csv", "tsv", "json", "yaml", "yml", "toml", "xml", "html", "css", "log", "ini", "cfg", "sql",
    "py", "js", "ts", "tsx", "jsx", "java", "kt", "c", "h", "cpp", "hpp", "cs", "go", "rs", "rb", "php", "sh",
    "swift", "scala", "r", "lua", "pl", "tex",
)
ACCEPTED_TYPES = (*IMAGE_TYPES, *TEXT_TYPES, "pdf")


class AttachmentError(ValueError):
    """A file that cannot be attached; the message names the file and the reason."""


@dataclass(frozen=True)
class Attachment:
    """One attached file as stored with its message: an image as a data URL, anything else as text."""

    name: str
    kind: Literal["image", "text"]
    size: int
    data_url: str | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attachment:
        return cls(
            name=strip_format_controls(str(data["name"])), kind=data["kind"], size=int(data.get("size", 0)),
            data_url=data.get("data_url"), text=data.get("text"),
        )


def read_upload(name: str, data: bytes, *, image_max_side: int = DEFAULT_IMAGE_MAX_SIDE) -> Attachment:
    """Turn an uploaded file into an attachment, or say why it cannot be one."""
    name = strip_format_controls(name) or "file"  # "a\u202egnp.exe" is an .exe, and must not read as ".png"
    extension = PurePath(name).suffix.lower().lstrip(".")
    if len(data) > MAX_FILE_BYTES:
        raise AttachmentError(f"{name} is {len(data) / 1e6:.1f} MB: files may be at most {MAX_FILE_BYTES // 1_000_000} MB.")
    if extension in IMAGE_TYPES:
        return Attachment(name, "image", len(data), data_url=_image_data_url(name, data, image_max_side))
    if extension == "pdf":
        return Attachment(name, "text", len(data), text=_limited(name, _pdf_text(name, data)))
    if extension in TEXT_TYPES:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        return Attachment(name, "text", len(data), text=_limited(name, text))
    raise AttachmentError(f"{name}: this kind of file cannot be attached (accepted: images, text and code, PDF).")


def read_uploads(files: Sequence[tuple[str, bytes]], *, image_max_side: int = DEFAULT_IMAGE_MAX_SIDE) -> list[Attachment]:
    if len(files) > MAX_FILES:
        raise AttachmentError(f"At most {MAX_FILES} files per message (you attached {len(files)}).")
    return [read_upload(name, data, image_max_side=image_max_side) for name, data in files]


def _limited(name: str, text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise AttachmentError(
            f"{name} holds {len(text):,} characters of text: at most {MAX_TEXT_CHARS:,} can be sent with a message."
        )
    return text


def _image_data_url(name: str, data: bytes, max_side: int) -> str:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:  # Pillow raises OSError, ValueError, SyntaxError, DecompressionBombError… on a broken file
        raise AttachmentError(f"{name} is not an image that can be read.") from None
    if max(image.size) > max_side or image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
        try:  # re-encoding drops the EXIF orientation: a phone photo would lie on its side
            image = ImageOps.exif_transpose(image)
        except Exception:  # a broken EXIF block: keep the pixels as stored
            pass
        image.thumbnail((max_side, max_side))
        out = io.BytesIO()
        if image.mode in ("RGBA", "LA", "P"):
            image.save(out, format="PNG", optimize=True)
            mime = "image/png"
        else:
            image.convert("RGB").save(out, format="JPEG", quality=88)
            mime = "image/jpeg"
        data = out.getvalue()
    else:
        mime = Image.MIME[image.format]
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _pdf_text(name: str, data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception:  # a malformed PDF makes pypdf raise almost anything (AttributeError, IndexError, TypeError…)
        raise AttachmentError(f"{name} is not a PDF that can be read.") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise AttachmentError(f"{name} has no text to extract (a scanned PDF?). Attach the pages as images instead.")
    return text


def api_content(text: str, attachments: Sequence[Attachment]) -> str | list[dict[str, Any]]:
    """The user message's `content`: plain text, or text plus image_url parts when images are attached."""
    inlined = text
    for attachment in attachments:
        if attachment.kind == "text":
            inlined += f"\n\n--- {attachment.name} ---\n{attachment.text}"
    images = [a for a in attachments if a.kind == "image"]
    if not images:
        return inlined
    # An image sent without words gets no empty text part: some backends refuse empty text blocks.
    return ([{"type": "text", "text": inlined}] if inlined.strip() else []) + [
        {"type": "image_url", "image_url": {"url": image.data_url}} for image in images
    ]

"""Rendering model text: math delimiters, stray dollars, inert links, media links, reasoning blocks, size."""

from __future__ import annotations

import html
import re

import pytest

from services.rendering import (
    Media,
    estimate_tokens,
    extract_media,
    is_safe_media_url,
    prepare_markdown,
    split_reasoning,
)

# --- math ------------------------------------------------------------------------------------------------------------

CODE_BLOCK = r"""```python
from math import comb
# LaTeX would write \(p^k\) and a toss costs $5
print(comb(10, 3) / 2**10)  # \[ 0.117 \]
```"""

WORKED_ANSWER = rf"""**Problem.** A fair coin is tossed \(n = 10\) times. Find the probability of exactly \( k = 3 \) heads.

**Solution.** Tosses are independent, so for events \(A\) and \(B\): \(P(A\cap B) = P(A)\,P(B)\).
The number of heads \(X\) is binomial:
\[
P(X = k) = \binom{{n}}{{k}} p^k (1-p)^{{n-k}}
\]
With \(p = \tfrac{{1}}{{2}}\):
\[ P(X = 3) = \binom{{10}}{{3}} \left(\tfrac{{1}}{{2}}\right)^{{10}} = \frac{{120}}{{1024}} \approx 0.117 \]
As a check, the probabilities sum to one:
\[ \sum_{{k=0}}^{{n}} \binom{{n}}{{k}} p^k (1-p)^{{n-k}} = 1 \]
The expectation is $E[X] = np = 5$, with $\frac{{a}}{{b}}$ style fractions and $x^2$ powers, and
$$\operatorname{{Var}}(X) = np(1-p) = 2.5$$

> Note: \(\mathrm{{Var}}(X) \le E[X]\).

In code:

{CODE_BLOCK}

Inline code `\(x\)` and ``$`y`$`` stay literal. If each toss costs $5 and a win pays $10, the game costs $50 in total.
"""

WORKED_ANSWER_RENDERED = rf"""**Problem.** A fair coin is tossed $n = 10$ times. Find the probability of exactly $k = 3$ heads.

**Solution.** Tosses are independent, so for events $A$ and $B$: $P(A\cap B) = P(A)\,P(B)$.
The number of heads $X$ is binomial:
$$
P(X = k) = \binom{{n}}{{k}} p^k (1-p)^{{n-k}}
$$
With $p = \tfrac{{1}}{{2}}$:
$$
P(X = 3) = \binom{{10}}{{3}} \left(\tfrac{{1}}{{2}}\right)^{{10}} = \frac{{120}}{{1024}} \approx 0.117
$$
As a check, the probabilities sum to one:
$$
\sum_{{k=0}}^{{n}} \binom{{n}}{{k}} p^k (1-p)^{{n-k}} = 1
$$
The expectation is $E[X] = np = 5$, with $\frac{{a}}{{b}}$ style fractions and $x^2$ powers, and
$$
\operatorname{{Var}}(X) = np(1-p) = 2.5
$$

> Note: $\mathrm{{Var}}(X) \le E[X]$.

In code:

{CODE_BLOCK}

Inline code `\(x\)` and ``$`y`$`` stay literal. If each toss costs \$5 and a win pays \$10, the game costs \$50 in total.
"""


def test_worked_probability_answer_renders_exactly() -> None:
    rendered = prepare_markdown(WORKED_ANSWER)
    # Key lines first, for a readable failure; then the whole text.
    lines = rendered.splitlines()
    assert r"**Solution.** Tosses are independent, so for events $A$ and $B$: $P(A\cap B) = P(A)\,P(B)$." in lines
    assert r"\sum_{k=0}^{n} \binom{n}{k} p^k (1-p)^{n-k} = 1" in lines
    assert lines[-1].endswith(r"If each toss costs \$5 and a win pays \$10, the game costs \$50 in total.")
    assert CODE_BLOCK in rendered
    assert rendered == WORKED_ANSWER_RENDERED


def test_prepare_markdown_is_idempotent() -> None:
    once = prepare_markdown(WORKED_ANSWER)
    assert prepare_markdown(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"Let \(x^2\) be", "Let $x^2$ be"),
        (r"Let \( x \) be", "Let $x$ be"),
        (r"inline \[ x+1 \] here", "inline $$x+1$$ here"),
        ("\\[\na = b \\\\\nc = d\n\\]", "$$\na = b \\\\\nc = d\n$$"),  # multi-line display math
        ("\\[ a = b\n   + c \\]", "$$\na = b\n   + c\n$$"),
        ("> \\[\n> a = b\n> \\]", "> $$\n> a = b\n> $$"),  # inside a blockquote
        ("1. Step\n\n   \\[ x \\]", "1. Step\n\n   $$\n   x\n   $$"),  # inside a list item
        (r"\(a\)\(b\)", "$a$ $b$"),  # `$a$$b$` would read as one formula
        (r"\( \text{costs } \$5 \)", r"$$\text{costs } \$5$$"),  # `$` inside math: delimited by `$$`
        (r"\(\)", r"\(\)"),  # empty: not math
        ("\\(a\n\nb\\)", "\\(a\n\nb\\)"),  # math never spans a blank line
        (r"\\(x\\)", r"\\(x\\)"),  # escaped backslashes, not delimiters
    ],
)
def test_latex_delimiters_are_converted(text: str, expected: str) -> None:
    assert prepare_markdown(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$5 and $10", r"\$5 and \$10"),
        ("It costs $3.50.", r"It costs \$3.50."),
        ("US$ 100", r"US\$ 100"),
        ("costs $3.50, or US$ 4", r"costs \$3.50, or US\$ 4"),  # pandoc alone would pair these two
        ("$5-$10, $5/$10 and from $5 to $10", r"\$5-\$10, \$5/\$10 and from \$5 to \$10"),
        ("$5 today, then $x^2$ later", r"\$5 today, then $x^2$ later"),
        ("a lone $", r"a lone \$"),
        ("$ x $", r"\$ x \$"),  # space after the opener, before the closer
        ("$x$\n\n$y", "$x$\n\n\\$y"),
        ("already \\$5 escaped", "already \\$5 escaped"),
        ("$$$", r"\$\$\$"),
    ],
)
def test_dollars_that_are_not_math_are_escaped(text: str, expected: str) -> None:
    assert prepare_markdown(text) == expected


@pytest.mark.parametrize(
    "math",
    [
        "$x^2$",
        r"$\frac{a}{b}$",
        "$E[X] = 5$",
        "Inline $$x$$ display-style",
        "$$\n\\int_0^1 x\\,dx\n$$",
        "> $$\n> a\n> $$",
    ],
)
def test_real_math_is_kept(math: str) -> None:
    assert prepare_markdown(math) == math


def test_display_math_alone_on_a_line_becomes_a_block() -> None:
    # remark-math centres only `$$` on lines of their own.
    assert prepare_markdown("Then\n$$ E = mc^2 $$\nfollows.") == "Then\n$$\nE = mc^2\n$$\nfollows."


@pytest.mark.parametrize(
    "code",
    [
        "```\n$5 \\(x\\) [a](javascript:1) ![i](https://e/i.png)\n```",
        "~~~~tex\n\\[ x \\] $y\n~~~~",
        "````md\n```\n$x\n```\n````",  # a longer fence contains a shorter one
        "`$5`",
        "``a ` $x \\(y\\) ``",
        "`[x](javascript:alert(1))`",
        "1. Install:\n    ```bash\n    echo $HOME \\(x\\)\n    ```",  # fence inside a list item
        "> ```\n> $x \\(y\\)\n> ```",  # fence inside a blockquote
    ],
)
def test_code_is_never_changed(code: str) -> None:
    assert prepare_markdown(code, allow_remote_images=False) == code
    assert prepare_markdown(code + "\n\nThen $5.") == code + "\n\nThen \\$5."


def test_link_destinations_are_not_treated_as_math() -> None:
    text = r"[Foo](https://en.wikipedia.org/wiki/Foo_\(bar\)) and https://x.com/?p=$5 and \(y\)"
    assert prepare_markdown(text) == r"[Foo](https://en.wikipedia.org/wiki/Foo_\(bar\)) and https://x.com/?p=$5 and $y$"


# --- streaming -------------------------------------------------------------------------------------------------------


def test_streaming_closes_an_unclosed_fence() -> None:
    assert prepare_markdown("Here:\n```python\nprint('$5')", streaming=True) == "Here:\n```python\nprint('$5')\n```"
    assert prepare_markdown("Here:\n````\nx\n", streaming=True) == "Here:\n````\nx\n````"
    assert prepare_markdown("> ~~~\n> x", streaming=True) == "> ~~~\n> x\n> ~~~"
    # Finished replies, and closed fences, are left as the parser reads them.
    assert prepare_markdown("Here:\n```python\nprint(1)") == "Here:\n```python\nprint(1)"
    assert prepare_markdown("```\nx\n```", streaming=True) == "```\nx\n```"


def test_streaming_does_not_render_unclosed_display_math() -> None:
    assert prepare_markdown("So\n$$\n\\int_0^1", streaming=True) == "So\n\\$\\$\n\\int_0^1"
    assert prepare_markdown("So \\[ a + b", streaming=True) == "So \\[ a + b"
    assert prepare_markdown("So\n$$\n\\int_0^1\n$$", streaming=True) == "So\n$$\n\\int_0^1\n$$"


# --- hostile output --------------------------------------------------------------------------------------------------

_LIVE_LINK_TARGETS = re.compile(
    r"\]\(\s*<?(?P<inline>[^)\s>]*)"  # [text](url) and ![alt](url)
    r"|<(?P<autolink>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*)>"
    r"|^[ \t>*+\-\d.)]*\[[^\]\n]+\]:[ \t]*<?(?P<definition>[^\s>]+)",  # [label]: url
    re.M,
)


_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)


def dangerous_links(markdown: str) -> list[str]:
    """Link targets outside code spans that a browser would treat as a scheme other than http, https or mailto."""
    found = []
    for match in _LIVE_LINK_TARGETS.finditer(_CODE_SPAN.sub("", markdown)):
        url = html.unescape(next(group for group in match.groups() if group is not None))
        url = re.sub(r"[\x00-\x20\x7f]|\\", "", url)
        scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
        if scheme and scheme.group(1).lower() not in ("http", "https", "mailto"):
            found.append(url)
    return found


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x](<java\tscript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](  javascript:alert(1)  \"<b>title</b>\" )",
    "[x](javascript:alert(`1`))",
    "<javascript:alert(1)>",
    "[click][r]\n\n[r]: javascript:alert(1)",
    "- [r]: <javascript:alert(1)> 'title'",
    "[a [b [c]] d](javascript:alert(1))",  # brackets nested deeper than the link pattern follows
    "[![i](javascript:alert(1))](javascript:alert(2))",
    "$x$ [y](javascript:alert(1)) \\(z\\)",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_output_is_inert(payload: str) -> None:
    for allow_remote_images in (True, False):
        rendered = prepare_markdown(payload, allow_remote_images=allow_remote_images, streaming=True)
        assert dangerous_links(rendered) == []
        assert prepare_markdown(rendered) == rendered


def test_the_checker_sees_dangerous_links() -> None:
    assert dangerous_links("[x](javascript:alert(1)) <vbscript:x> `<file:x>`\n[r]: &#106;avascript:y") == [
        "javascript:alert(1",
        "vbscript:x",
        "javascript:y",
    ]


def test_refused_links_show_their_url_as_code() -> None:
    assert prepare_markdown("[click](javascript:alert(1))") == "click (`javascript:alert(1)`)"
    assert prepare_markdown("![x](javascript:alert(1))") == "x (`javascript:alert(1)`)"
    assert prepare_markdown("[x](javascript:alert(`1`))") == "x (``javascript:alert(`1`)``)"
    assert prepare_markdown("<javascript:alert(1)>") == "`javascript:alert(1)`"
    assert prepare_markdown("[r]: javascript:alert(1)") == "[r]\\: `javascript:alert(1)`"


def test_raw_html_is_left_for_streamlit_to_escape() -> None:
    for payload in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>"):
        assert prepare_markdown(payload) == payload


@pytest.mark.parametrize(
    "link",
    [
        "[ok](https://example.com/a_(b))",
        "[mail](mailto:a@example.com)",
        "[docs](/docs#top)",
        "<https://example.com>",
        '[t](https://example.com "A <b>title</b>")',
        "![chart](https://example.com/c.png)",
        "![local](/static/c.png)",
        "![pixel](data:image/png;base64,iVBORw0KGgo=)",
        "[ref][r]\n\n[r]: https://example.com",
    ],
)
def test_safe_links_are_kept(link: str) -> None:
    assert prepare_markdown(link) == link


def test_remote_images_become_links_when_blocked() -> None:
    text = (
        "![cat](https://a.com/cat.png) ![](http://a.com/x.gif) ![e](//evil.com/x.png) "
        "![local](/static/c.png) ![ref][r] [![thumb](https://a.com/t.png)](https://a.com/v)\n\n"
        "[r]: https://e.com/x.png"
    )
    assert prepare_markdown(text, allow_remote_images=False) == (
        "[🖼 cat](https://a.com/cat.png) [🖼 image](http://a.com/x.gif) [🖼 e](//evil.com/x.png) "
        "![local](/static/c.png) \\![ref][r] [[🖼 thumb](https://a.com/t.png)](https://a.com/v)\n\n"
        "[r]: https://e.com/x.png"
    )
    assert prepare_markdown(text) == text


# --- media -----------------------------------------------------------------------------------------------------------

SORA_REPLY = """> 任务已提交，正在排队…
> 进度 12%…
> 进度 36%…
Generating… 80%
Generating… 100%
✅ 视频生成完成！
[点击这里查看视频](https://cdn.example.com/sora/abc123/video.mp4?sig=XyZ&exp=1)
备用链接：https://cdn.example.com/sora/abc123/video.mp4?sig=XyZ&exp=1。
第二个：https://cdn.example.com/b.MP4）
(https://cdn.example.com/c.webm)
"""


def test_sora_style_video_reply() -> None:
    assert extract_media(SORA_REPLY) == [
        Media("video", "https://cdn.example.com/sora/abc123/video.mp4?sig=XyZ&exp=1", "点击这里查看视频"),
        Media("video", "https://cdn.example.com/b.MP4"),
        Media("video", "https://cdn.example.com/c.webm"),
    ]


@pytest.mark.parametrize(
    "last_line",
    [
        "视频已生成：https://videos.example.com/v/9f8e.mp4",
        "视频地址https://videos.example.com/v/9f8e.mp4，请在24小时内下载。",
        "Done! <https://videos.example.com/v/9f8e.mp4>",
        "Video ready (https://videos.example.com/v/9f8e.mp4).",
        "![video](https://videos.example.com/v/9f8e.mp4)",
    ],
)
def test_sora_style_reply_ending_in_a_link(last_line: str) -> None:
    progress = "".join(f"> 进度 {percent}%…\n\nGenerating… {percent}%\n" for percent in range(0, 100, 4))
    media = extract_media(progress + last_line)
    assert [(item.kind, item.url) for item in media] == [("video", "https://videos.example.com/v/9f8e.mp4")]


def test_media_links_of_every_form() -> None:
    text = (
        '![cat](https://a.com/cat.png "A cat") and ![](data:image/png;base64,iVBORw0KGgo=)\n'
        "[pic](https://a.com/pic.JPG#frag) https://a.com/x.gif?x=1, <https://a.com/y.webp> https://a.com/page.html\n"
        "![chart](https://quickchart.io/chart?c=1) **https://a.com/bold.jpeg**.\n"
        "[![thumb](https://a.com/t.png)](https://a.com/v.mov) ![cat again](https://a.com/cat.png)\n"
        "[doc](https://a.com/x.pdf) HTTPS://A.COM/UP.PNG\n"
    )
    assert extract_media(text) == [
        Media("image", "https://a.com/cat.png", "cat", inline=True),
        Media("image", "data:image/png;base64,iVBORw0KGgo=", inline=True),
        Media("image", "https://a.com/pic.JPG#frag", "pic"),
        Media("image", "https://a.com/x.gif?x=1"),
        Media("image", "https://a.com/y.webp"),
        Media("image", "https://quickchart.io/chart?c=1", "chart", inline=True),  # a markdown image whatever its extension
        Media("image", "https://a.com/bold.jpeg"),
        Media("image", "https://a.com/t.png", "thumb", inline=True),
        Media("video", "https://a.com/v.mov", "thumb"),
        Media("image", "HTTPS://A.COM/UP.PNG"),
    ]


def test_an_image_also_linked_is_one_media_shown_by_the_markdown() -> None:
    for text in ("![a cat](https://a.com/cat.png)\n\n[Download](https://a.com/cat.png)",
                 "[Download](https://a.com/cat.png) or see it: ![a cat](https://a.com/cat.png)"):
        (media,) = extract_media(text)
        assert (media.url, media.inline) == ("https://a.com/cat.png", True), text


def test_media_inside_code_is_ignored() -> None:
    text = (
        "`https://a.com/a.png`\n```\nhttps://a.com/b.mp4\n![c](https://a.com/c.png)\n```\n"
        "``![d](https://a.com/d.png)``"
    )
    assert extract_media(text) == []


@pytest.mark.parametrize(
    "refused",
    [
        "![x](file:///etc/passwd)",
        "![x](/etc/passwd)",
        "![x](../secret.png)",
        "![x](secret.png)",
        "![x](javascript:alert(1))",
        "[x](javascript:alert(1).png)",
        "![x](ftp://x/a.png)",
        "[x](ftp://x/a.png)",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "[x](data:image/png;base64,iVBORw0KGgo=)",  # data URLs only as markdown images
        "![x](https:///etc/passwd.png)",
        "https://a.com/../../etc/passwd.png",
        "<file:///etc/passwd.png>",
    ],
)
def test_unsafe_media_urls_are_refused(refused: str) -> None:
    assert extract_media(refused) == []


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://a.com/x.png", True),
        ("http://a.com/v.mp4?sig=1", True),
        ("HTTPS://A.COM/X.PNG", True),
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("data:image/jpeg;base64,/9j/4AAQ", True),
        ("file:///etc/passwd", False),
        ("/etc/passwd", False),
        ("../secret.png", False),
        ("secret.png", False),
        ("javascript:alert(1)", False),
        ("ftp://x/a.png", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("data:image/svg+xml;base64,PHN2Zz4=", False),
        ("https:///etc/passwd", False),
        ("https:etc/passwd", False),
        (" https://a.com/x.png", False),
        ("https://a.com/x y.png", False),
        ("https://a.com/a/../../x.png", False),  # Streamlit tries os.path.isfile before treating it as a URL
        ("http://[::1", False),
        ("", False),
    ],
)
def test_is_safe_media_url(url: str, safe: bool) -> None:
    assert is_safe_media_url(url) is safe


def test_every_extracted_url_is_safe() -> None:
    everything = "\n".join([SORA_REPLY, WORKED_ANSWER, *HOSTILE, "![a](https://a.com/a.png) https://b.com/b.mp4"])
    media = extract_media(everything)
    assert media and all(is_safe_media_url(item.url) for item in media)


# --- reasoning -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>Add them.</think>\n\nIt is 4.", ("Add them.", "It is 4.")),
        ("\n <thinking>\nHmm.\n</thinking>The answer.", ("Hmm.", "The answer.")),
        ("<think>a</think><think>b</think>\nAnswer", ("a\n\nb", "Answer")),
        ("<THINK>a</THINK>b", ("a", "b")),
        ("Plain answer.", ("", "Plain answer.")),
        ("Write `<think>` tags like <think>this</think>.", ("", "Write `<think>` tags like <think>this</think>.")),
        ("```\n<think>x</think>\n```", ("", "```\n<think>x</think>\n```")),
        ("", ("", "")),
    ],
)
def test_split_reasoning(text: str, expected: tuple[str, str]) -> None:
    assert split_reasoning(text) == expected


def test_split_reasoning_while_streaming() -> None:
    reply = "<think>First, 2 + 2.\nThen check.</think>\n\n**4**"
    seen = [split_reasoning(reply[:end]) for end in range(len(reply) + 1)]
    assert split_reasoning("<think>First, 2 + 2.\nThen") == ("First, 2 + 2.\nThen", "")
    assert split_reasoning("<think>Done.</thi") == ("Done.</thi", "")
    assert split_reasoning("<thi") == ("", "")  # the start of a tag is not flashed as the answer
    # The answer only ever grows, and never shows any of the reasoning or its tags.
    answers = [answer for _, answer in seen]
    assert all(not answer or "**4**".startswith(answer) for answer in answers)
    assert seen[-1] == ("First, 2 + 2.\nThen check.", "**4**")


# --- size ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "estimate"),
    [
        ("", 0),
        ("abcd", 1),
        ("hello world", 3),
        ("你好世界", 4),
        ("a" * 400, 100),
        ("你好" + "a" * 8, 4),
    ],
)
def test_estimate_tokens(text: str, estimate: int) -> None:
    assert estimate_tokens(text) == estimate


# --- size of input ---------------------------------------------------------------------------------------------------

PATHOLOGICAL = {
    # Each would take minutes with a backtracking or rescanning implementation.
    "dollars": "$a " * 70_000,
    "dollar runs and prices": "$5 and $$x US$ 3 " * 12_000,
    "unclosed backtick runs": "`` a ` b ``` c " * 15_000,
    "open brackets": "[" * 200_000,
    "open brackets with words": "[a [b " * 40_000,
    "link without its parenthesis": "[x](" + " " * 200_000,
    "unclosed titles": '[x](y "' * 30_000,
    "tag without its end": "<a" + " " * 200_000,
    "many attributes": "<a b=c d " * 25_000,
    "definition without a destination": "[a]:" + " " * 200_000,
    "backslashes": "\\" * 200_000,
    "unclosed inline math": "\\(" * 100_000,
    "unclosed display math": "\\[ x " * 40_000,
    "link tails": "](" * 100_000,
    "angle brackets": "<" * 200_000,
    "fences": "```\n" * 50_000,
    "think tags": "<think>" * 30_000,
    "closing parentheses after a URL": "https://a.com/" + ")" * 200_000,
    "full stops after a URL": "https://a.com/" + "." * 200_000,
    "display math pairs on one line": "\\[x\\] " * 40_000,
    "everything": "Price $5 `code $x$` \\(a\\) [l](http://x/$) $$y$$ ![i](http://a/b.png) <http://q> " * 2_500,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_large_hostile_inputs_finish(text: str) -> None:
    assert len(text) >= 200_000
    rendered = prepare_markdown(text, allow_remote_images=False, streaming=True)
    assert len(rendered) >= len(text) // 2
    extract_media(text)
    split_reasoning(text)
    assert estimate_tokens(text) > 0

"""stable_prefix_length: the part of a streaming answer that is rendered once must never need re-rendering."""

from __future__ import annotations

import pytest

from services.markdown import stable_prefix_length


def split(text: str) -> tuple[str, str]:
    """The rendered-once prefix and the tail that is still re-rendered."""
    n = stable_prefix_length(text)
    return text[:n], text[n:]


def test_splits_after_complete_paragraphs() -> None:
    assert split("Intro.\n\nSecond paragraph.\n\nThird is still") == (
        "Intro.\n\nSecond paragraph.\n\n",
        "Third is still",
    )
    assert split("# Title\n\nText") == ("# Title\n\n", "Text")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "One line, no end",
        "A paragraph\nwith two lines",
        "A paragraph.\n\n",  # what comes next may still indent or continue it
        "A paragraph.\n\n   ",
    ],
)
def test_nothing_is_stable_before_a_block_has_a_successor(text: str) -> None:
    assert stable_prefix_length(text) == 0


@pytest.mark.parametrize(
    "block",
    [
        "```python\ndef f():\n\nreturn 1\n```",
        "~~~\nfirst\n\nsecond\n~~~",
        "````markdown\n```\n\ninner fence is text\n```\n\nstill inside\n````",  # a shorter fence does not close
        "~~~\n```\n\nx\n~~~",  # nor a fence of the other character
        "$$\na = b\n\nc = d\n$$",
    ],
    ids=["backticks", "tildes", "nested", "mixed", "math"],
)
def test_never_splits_inside_a_fence_or_math(block: str) -> None:
    text = "Before.\n\n" + block + "\n\nAfter."
    assert split(text) == ("Before.\n\n" + block + "\n\n", "After.")
    # While streaming, the block is still open: nothing inside it is stable.
    for cut in range(len("Before.\n\n") + 1, len("Before.\n\n" + block)):
        assert stable_prefix_length(text[:cut]) == len("Before.\n\n"), repr(text[:cut])


@pytest.mark.parametrize(
    "text",
    [
        "- one\n\n- two",
        "1. one\n\n2. two",
        "* one\n\n+ two",
        "1) one\n\n2) two",
        "- item\n\n  continued in the item",
        "Para\n\n    indented code\n\n    more code",
        "- one\n\n-",  # streaming: the next item's marker has arrived, its text not yet
        "1. one\n\n2",
        "9. nine\n\n10.",
    ],
)
def test_never_splits_before_an_indented_continuation_or_a_list_item(text: str) -> None:
    assert stable_prefix_length(text) == 0


ANSWER = """\
# Setting up the project

Here is how to get started. You will need Python 3.11
and a recent pip.

1. Create a virtual environment:

   ```bash
   python -m venv .venv

   source .venv/bin/activate
   ```

2. Install the dependencies:

       pip install -r requirements.txt

   This may take a minute.

3. Run the tests.

- A loose list item

- Another one, with a nested list:
  - nested
  - items

> **Note:** a quote block
> spanning two lines.

The energy is given by

$$
E = mc^2

\\quad \\text{(with a blank line inside)}
$$

| Column | Value |
|--------|-------|
| a      | 1     |

~~~python
def main():
    print("hello")


if __name__ == "__main__":
    main()
~~~

````markdown
```python
print("a fence shown inside a longer fence")

```
````

Thanks for reading. **Done.**
"""


def test_every_cut_of_a_real_answer_ends_at_a_block_boundary_and_only_grows() -> None:
    previous = 0
    for cut in range(len(ANSWER) + 1):
        text = ANSWER[:cut]
        n = stable_prefix_length(text)
        assert 0 <= n <= len(text)
        assert n == 0 or text[:n].endswith("\n\n"), repr(text[:n][-40:])
        # A streaming view renders the prefix once: a later, longer text must not take any of it back.
        assert n >= previous, f"cut {cut}: the stable prefix shrank from {previous} to {n}: {text[n:previous]!r}"
        stable = text[:n]
        assert stable.count("```") % 2 == 0 and stable.count("~~~") % 2 == 0 and stable.count("$$") % 2 == 0
        previous = n
    assert ANSWER[:previous].endswith("````\n\n")  # in the end, all but the last paragraph is stable


def test_scanning_on_from_a_stable_prefix_gives_the_same_as_scanning_it_all() -> None:
    # The live view scans only past the blocks it has written; that must find the same boundary.
    starts = sorted({stable_prefix_length(ANSWER[:cut]) for cut in range(0, len(ANSWER) + 1, 7)})
    assert len(starts) > 5
    for cut in range(0, len(ANSWER) + 1, 3):
        text = ANSWER[:cut]
        whole = stable_prefix_length(text)
        for start in (s for s in starts if s <= whole):
            assert start + stable_prefix_length(text[start:]) == whole, (cut, start)

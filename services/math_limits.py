"""Bounding the sizes a formula asks KaTeX for, before Streamlit draws it.

Streamlit renders math with KaTeX in the browser with KaTeX's defaults (maxSize unbounded), and its options are
not reachable from Python. A reply's `\\rule{9999em}{9999em}` draws a box over the whole page, and
`\\kern-500em` or `\\raisebox{-300em}` moves ink over the sidebar and the chat input. So the size arguments of
the commands that take one are rewritten: any length beyond MAX_EM (in any TeX unit) becomes MAX_EM, its sign
kept. Text and other numbers in a formula are left alone. A formula that defines macros (`\\def`, `\\newcommand`,
`\\let`) and takes sizes could build a length out of reach of that rewrite (`\\def\\r#1{\\rule{#1em}{#1em}}\\r{9999}`):
it is shown as its source instead (is_unboundable).
"""

from __future__ import annotations

import re

MAX_EM = 20.0  # about half a chat column: room for any real spacing or rule, nothing that covers the page
MAX_ARRAY_STRETCH = 4.0

# KaTeX's conversion of each unit to em at the normal text size (katex/src/units.js, ptPerEm = 10).
EM_PER_UNIT = {
    "em": 1.0, "ex": 0.431, "mu": 1 / 18, "pt": 0.1, "bp": 0.1 * 803 / 800, "px": 0.1 * 803 / 800,
    "pc": 1.2, "dd": 0.1 * 1238 / 1157, "cc": 1.2 * 1238 / 1157, "nd": 0.1 * 685 / 642, "nc": 1.2 * 1370 / 107 / 10,
    "mm": 0.1 * 7227 / 2540, "cm": 7227 / 2540, "in": 7.227, "sp": 0.1 / 65536,
}
_DIMENSION = re.compile(r"(?P<sign>[+-]?\s*)(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>" + "|".join(EM_PER_UNIT) + r")")
# A command that takes lengths, with its arguments: [optional] and {braced} groups (no nesting needed: a length
# holds no braces), or a bare length after \kern-like commands. `\\[…]` is the row spacing of arrays and aligned.
_SIZED = re.compile(
    r"""(?:\\(?:rule|hspace|vspace|raisebox|genfrac|above|kern|mkern|hskip|mskip|hkern|mathstrut|vrule|hrule)
          (?![A-Za-z])\*?|\\\\|\\cr(?![A-Za-z])|\\newline(?![A-Za-z]))
        (?:\s*(?:\[[^\[\]{}]*\]|\{[^{}]*\}))*
        (?:\s*[+-]?\s*(?:\d+(?:\.\d*)?|\.\d+)\s*[a-z]{2})?""",
    re.X,
)
_DEFINES_MACRO = re.compile(r"\\(?:[gex]?def|(?:re)?newcommand|providecommand|let|futurelet)(?![A-Za-z])")
_TAKES_SIZE = re.compile(
    r"\\(?:rule|hspace|vspace|raisebox|genfrac|above|kern|mkern|hskip|mskip|hkern|vrule|hrule|arraystretch)(?![A-Za-z])"
    r"|\\\\\s*\["
)
_ARRAY_STRETCH = re.compile(r"(\\(?:re)?(?:def|newcommand)\s*\{?\\arraystretch\}?\s*\{)\s*([\d.]+)\s*(\})")


def bound_math_sizes(latex: str) -> str:
    """The formula with every length given to a sizing command limited to ±MAX_EM; unchanged otherwise."""
    if "\\" not in latex:
        return latex
    bounded = _SIZED.sub(lambda command: _DIMENSION.sub(_bounded_length, command.group()), latex)
    return _ARRAY_STRETCH.sub(_bounded_stretch, bounded)


def is_unboundable(latex: str) -> bool:
    """True for a formula whose sizes may come from its own macros, so that no rewrite can bound them."""
    latex = _ARRAY_STRETCH.sub("", latex)  # \def\arraystretch{1.5} is bounded like a length, not a risk
    return bool(_DEFINES_MACRO.search(latex)) and bool(_TAKES_SIZE.search(latex))


def _bounded_length(match: re.Match[str]) -> str:
    unit = match.group("unit")
    if float(match.group("number")) * EM_PER_UNIT[unit] <= MAX_EM:
        return match.group()
    # The same unit: \mkern takes only mu, and a length in em there would be an error in the reply.
    number = f"{MAX_EM / EM_PER_UNIT[unit]:.3f}".rstrip("0").rstrip(".")
    return f"{match.group('sign')}{number}{unit}"


def _bounded_stretch(match: re.Match[str]) -> str:
    try:
        stretch = float(match.group(2))
    except ValueError:
        return match.group()
    return f"{match.group(1)}{min(stretch, MAX_ARRAY_STRETCH):g}{match.group(3)}"

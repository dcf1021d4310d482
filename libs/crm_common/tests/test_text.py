"""The one free-text rule of every service (crm_common.text.clean_text): what the three copies it
replaces disagreed on, and each option their callers use."""

from __future__ import annotations

import pytest

from crm_common.text import InvalidValue, clean_text


def test_zero_width_joiner_passes_so_an_emoji_sequence_is_a_valid_title() -> None:
    # the tasks service's copy refused U+200D; a task title now passes as a client note does
    title = "Мостра за 👩\u200d💻 екипа"
    assert clean_text(title, max_length=300, required=True) == title


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d"])
def test_zero_width_characters_that_scripts_and_emoji_need_pass(char: str) -> None:
    assert clean_text(f"a{char}b", max_length=10) == f"a{char}b"


@pytest.mark.parametrize("multiline", [False, True])
def test_nul_is_refused_with_its_code_point(multiline: bool) -> None:
    with pytest.raises(InvalidValue) as exc:
        clean_text("a\x00b", max_length=10, multiline=multiline)
    assert exc.value.code == "CONTROL_CHARACTERS"
    assert "U+0000" in exc.value.message


def test_not_text_is_invalid_type_not_a_crash() -> None:
    for value in (12, ["a"], b"abc"):
        with pytest.raises(InvalidValue) as exc:
            clean_text(value, max_length=10)
        assert exc.value.code == "INVALID_TYPE"


def test_required_refuses_none_and_blank_optional_gives_none() -> None:
    for value in (None, "", "  \n "):
        assert clean_text(value, max_length=10) is None
        with pytest.raises(InvalidValue) as exc:
            clean_text(value, max_length=10, required=True)
        assert exc.value.code == "REQUIRED"


def test_single_line_names_the_line_break_and_multiline_keeps_it() -> None:
    with pytest.raises(InvalidValue) as exc:
        clean_text("ред 1\nред 2", max_length=20)
    assert exc.value.code == "CONTROL_CHARACTERS"
    assert "single line" in exc.value.message
    assert clean_text("ред 1\nред 2", max_length=20, multiline=True) == "ред 1\nред 2"


def test_max_length_counts_characters_after_stripping() -> None:
    assert clean_text("  абв  ", max_length=3) == "абв"
    with pytest.raises(InvalidValue) as exc:
        clean_text("абвг", max_length=3)
    assert exc.value.code == "TOO_LONG"
    assert "at most 3 characters" in exc.value.message

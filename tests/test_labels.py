"""The label syntax: what parses, and a test for every rule that rejects."""

import pytest

from tracker.exceptions import InvalidLabel
from tracker.labels import (
    MAX_CATEGORY_LENGTH,
    MAX_DOM_ID_LENGTH,
    MAX_LABEL_LENGTH,
    Item,
    parse_dom_ids,
    parse_query,
)


def test_the_three_item_forms():
    assert parse_query("a|b:cat|c:cat:dom") == [
        Item("a", "", ""),
        Item("b", "cat", ""),
        Item("c", "cat", "dom"),
    ]


def test_the_originals_readme_examples():
    assert parse_query("user_connected|user_clicked_button") == [
        Item("user_connected"),
        Item("user_clicked_button"),
    ]
    assert parse_query("tracked-links-link1:links:link1") == [
        Item("tracked-links-link1", "links", "link1")
    ]


def test_items_are_immutable_records():
    item = parse_query("a:b:c")[0]
    assert (item.label, item.category, item.dom_id) == ("a", "b", "c")
    with pytest.raises(AttributeError):
        item.label = "x"
    assert str(item) == "a:b:c"
    assert str(Item("a")) == "a"


def test_whitespace_around_items_and_parts_is_removed():
    assert parse_query("  a : shop |b ") == [Item("a", "shop"), Item("b")]


def test_inner_spaces_are_kept_in_labels_and_categories():
    assert parse_query("sign up:my shop") == [Item("sign up", "my shop")]


def test_empty_category_between_label_and_dom_id():
    assert parse_query("a::dom") == [Item("a", "", "dom")]


def test_unicode_is_accepted_and_normalised_to_nfc():
    decomposed = "cafe\u0301"  # e + combining acute
    [item] = parse_query(f"{decomposed}:caté:x")
    assert item.label == "café"
    assert parse_query("注册|👍:emoji") == [Item("注册"), Item("👍", "emoji")]


def test_lists_of_items_are_accepted():
    assert parse_query(["a", "b:c"]) == [Item("a"), Item("b", "c")]


def check(query, rule, *, message_has=()):
    with pytest.raises(InvalidLabel) as caught:
        parse_query(query)
    assert caught.value.rule == rule
    for text in message_has:
        assert text in str(caught.value)
    assert isinstance(caught.value, ValueError)
    return caught.value


@pytest.mark.parametrize("query", ["", "|", "a|", "|a", "a||b", "a| |b"])
def test_empty_items_are_refused(query):
    check(query, "empty_item", message_has=["empty"])


def test_the_message_names_the_position_of_the_empty_item():
    error = check("a||b", "empty_item", message_has=["Item 2"])
    assert error.position == 2


def test_more_than_three_parts_are_refused():
    error = check(
        "ok|a:b:c:d",
        "too_many_parts",
        message_has=["'a:b:c:d'", "4 parts", "at most 3"],
    )
    assert error.item == "a:b:c:d"
    assert error.position == 2


@pytest.mark.parametrize("query", [":cat", " :cat:dom", "::dom"])
def test_an_empty_label_is_refused(query):
    check(query, "empty_label", message_has=["empty label"])


@pytest.mark.parametrize(
    ("query", "part"),
    [
        ("x" * (MAX_LABEL_LENGTH + 1), "label"),
        ("a:" + "x" * (MAX_CATEGORY_LENGTH + 1), "category"),
        ("a:b:" + "x" * (MAX_DOM_ID_LENGTH + 1), "dom_id"),
    ],
)
def test_each_part_has_a_length_cap(query, part):
    check(query, "too_long", message_has=[part, "at most"])


def test_parts_at_their_cap_are_accepted():
    label = "é" * MAX_LABEL_LENGTH
    assert parse_query(f"{label}:{'c' * MAX_CATEGORY_LENGTH}:{'d' * MAX_DOM_ID_LENGTH}")


@pytest.mark.parametrize(
    "char",
    ["\x00", "\n", "\t", "\x7f", "\u200b", "\u202e", "\u2028", "\ud800", "\ue000"],
)
def test_control_and_invisible_characters_are_refused(char):
    error = check(
        f"bad{char}label", "control_character", message_has=[f"U+{ord(char):04X}"]
    )
    assert error.position == 1


def test_whitespace_inside_a_dom_id_is_refused():
    check("a:b:my link", "whitespace_in_dom_id", message_has=["dom id"])


def test_too_many_items_are_refused(settings):
    settings.TRACKER_MAX_ITEMS = 3
    assert len(parse_query("a|b|c")) == 3
    check("a|b|c|d", "too_many_items", message_has=["4 items", "at most 3"])


def test_an_overlong_query_is_refused_before_it_is_split(settings):
    settings.TRACKER_MAX_ITEMS = 2
    check("a" * 5000, "too_long", message_has=["query"])


@pytest.mark.parametrize("query", [None, 42, b"bytes", {"a": 1}, ["a", 1]])
def test_non_strings_are_refused(query):
    check(query, "not_a_string")


def test_an_empty_list_is_refused():
    check([], "empty_item")


def test_one_bad_item_rejects_the_whole_query():
    check("good|also_good|bad\x00", "control_character")


def test_dom_id_lists_forgive_trailing_bars_and_repeats():
    assert parse_dom_ids("link1|link2|link1|", max_ids=10) == ["link1", "link2"]
    assert parse_dom_ids("", max_ids=10) == []


def test_dom_id_lists_have_a_cap_and_the_same_rules():
    with pytest.raises(InvalidLabel) as caught:
        parse_dom_ids("a|b|c", max_ids=2)
    assert caught.value.rule == "too_many_items"
    with pytest.raises(InvalidLabel) as caught:
        parse_dom_ids("ok|bad id", max_ids=5)
    assert caught.value.rule == "whitespace_in_dom_id"

"""The payment-policy modifier rules are data (xlrate/medicare/layouts/modifier_policy.csv)."""

from __future__ import annotations

from fractions import Fraction

from xlrate.medicare import pricing

INDICATORS = {"bilat_surg", "mult_proc", "co_surg", "asst_surg"}


def test_every_rule_names_a_known_indicator_and_a_sane_factor() -> None:
    rules = pricing._policy_rules()
    assert rules
    for rule in rules:
        assert rule.indicator in INDICATORS
        assert rule.status in ("", "not_priced")
        assert Fraction(0) < rule.factor <= 2
        assert rule.note.format(modifier="80", value="1")


def test_each_modifier_has_a_catch_all_rule_last() -> None:
    rules = pricing._policy_rules()
    for mod in pricing._policy_modifiers():
        own = [r for r in rules if mod in r.modifiers]
        assert not own[-1].values, f"{mod}: the last rule should cover any other value (*)"


def test_published_percentages() -> None:
    """CMS Claims Processing Manual ch. 12: 150% bilateral, 62.5% co-surgery, 16% assistant,
    85% of 16% for a non-physician assistant, 50% multiple procedure."""
    by_key = {
        (mod, value): rule.factor
        for rule in pricing._policy_rules()
        for mod in rule.modifiers
        for value in rule.values
        if not rule.status
    }
    assert by_key[("50", "1")] == Fraction(3, 2)
    assert by_key[("51", "2")] == Fraction(1, 2)
    assert by_key[("62", "1")] == Fraction(5, 8)
    assert by_key[("80", "0")] == Fraction(16, 100)
    assert by_key[("AS", "0")] == Fraction(85, 100) * Fraction(16, 100)

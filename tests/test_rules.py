"""Property tests of the stock rules: the shop never shows more than Odoo can sell."""

import math

from hypothesis import given
from hypothesis import strategies as st

from woodoo.rules import StockPolicy, quantity_to_show, sku_scope, stock_status, stock_to_show

figures = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
pendings = st.integers(min_value=0, max_value=10_000)
policies = st.builds(
    StockPolicy,
    buffer=st.integers(min_value=0, max_value=1000),
    negative_to_zero=st.booleans(),
    out_of_stock_threshold=st.integers(min_value=0, max_value=100),
    backorders=st.sampled_from(["respect_product", "never"]),
)
backorder_settings = st.sampled_from(["no", "notify", "yes"])


@given(figures, pendings, policies)
def test_never_shows_more_than_odoo_can_sell(figure, pending, policy):
    sellable = math.floor(figure + 1e-9) - pending
    assert quantity_to_show(figure, pending, policy) <= max(0, sellable)


@given(figures, pendings, policies)
def test_negative_to_zero_means_never_negative(figure, pending, policy):
    if policy.negative_to_zero:
        assert quantity_to_show(figure, pending, policy) >= 0


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_buffer_subtracts_but_never_below_zero(available, buffer):
    policy = StockPolicy(buffer=buffer, negative_to_zero=False)
    assert quantity_to_show(available, 0, policy) == max(0, available - buffer)


@given(st.integers(min_value=-1000, max_value=-1), st.integers(min_value=0, max_value=50))
def test_buffer_does_not_deepen_negative_stock(negative, buffer):
    policy = StockPolicy(buffer=buffer, negative_to_zero=False)
    assert quantity_to_show(negative, 0, policy) == negative


@given(figures, figures, pendings, policies)
def test_more_stock_in_odoo_never_shows_less(a, b, pending, policy):
    low, high = sorted((a, b))
    assert quantity_to_show(low, pending, policy) <= quantity_to_show(high, pending, policy)


@given(figures, pendings, backorder_settings, policies)
def test_status_always_agrees_with_quantity(figure, pending, backorders, policy):
    shown = stock_to_show(figure, pending, backorders, policy)
    if shown.quantity > policy.out_of_stock_threshold:
        assert shown.status == "instock"
    elif policy.backorders == "respect_product" and backorders in ("notify", "yes"):
        assert shown.status == "onbackorder"
    else:
        assert shown.status == "outofstock"


def test_fractional_figures_round_down():
    assert quantity_to_show(3.999, 0, StockPolicy()) == 3
    assert quantity_to_show(3.0000000001, 0, StockPolicy()) == 3


def test_backorders_never_policy_ignores_product_setting():
    assert stock_status(0, "yes", StockPolicy(backorders="never")) == "outofstock"
    assert stock_status(0, "notify", StockPolicy()) == "onbackorder"


def test_the_sku_scope_matches_shell_patterns_case_sensitively():
    everything = sku_scope([])
    assert everything("") and everything("anything")
    scope = sku_scope(["E2E-*", "WDG-10?[0-2]"])
    assert scope("E2E-7F3A-1") and scope("WDG-1001") and scope("WDG-1092")
    assert not scope("e2e-7f3a-1") and not scope("WDG-1003") and not scope("XE2E-1")
    assert not scope("WDG-1001 ") and not scope("")

"""A WooCommerce 11 REST API (wc/v3) simulator that answers like a real 11.0.1 store, over real HTTP.

It is faithful to recordings of a real WooCommerce 11.0.1 on WordPress 7.0.4
(tests/fixtures/woocommerce11/, copied from shared/fixtures/woocommerce11/). Where the recordings are
silent it follows WooCommerce's and WordPress's own code (WC_REST_Authentication, the v3 products and
variations controllers, WC_Product::validate_props, WP_REST_Server, WP_REST_Request validation and
rest_filter_response_fields); each such place says what it relied on.

Every answer is computed from the simulator's own product objects: nothing is replayed.
"""

from woodoo.simulators.woocommerce.front import WC_VERSION
from woodoo.simulators.woocommerce.simulator import WooSimulator

__all__ = ["WC_VERSION", "WooSimulator"]

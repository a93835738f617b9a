<?php
/**
 * Plugin Name:          Woodoo Companion
 * Plugin URI:           https://github.com/woodoo/woodoo
 * Description:          Keeps the shop's stock true to Odoo with the Woodoo daemon: sends signed order events (durably, retried; at once when the daemon asks) and accepts the daemon's conditional stock writes.
 * Version:              1.0.0
 * Requires at least:    6.0
 * Tested up to:         7.0
 * Requires PHP:         7.4
 * Author:               Woodoo
 * License:              GPL-2.0-or-later
 * License URI:          https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:          woodoo-companion
 * Requires Plugins:     woocommerce
 * WC requires at least: 8.0
 * WC tested up to:      11.0
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

define( 'WOODOO_COMPANION_VERSION', '1.0.0' );
define( 'WOODOO_COMPANION_FILE', __FILE__ );
define( 'WOODOO_COMPANION_DIR', __DIR__ );

require_once __DIR__ . '/includes/class-woodoo-signer.php';
require_once __DIR__ . '/includes/class-woodoo-payload.php';
require_once __DIR__ . '/includes/class-woodoo-queue.php';
require_once __DIR__ . '/includes/class-woodoo-sender.php';
require_once __DIR__ . '/includes/class-woodoo-settings.php';
require_once __DIR__ . '/includes/class-woodoo-compat.php';
require_once __DIR__ . '/includes/class-woodoo-status.php';
require_once __DIR__ . '/includes/class-woodoo-hooks.php';
require_once __DIR__ . '/includes/class-woodoo-replay.php';
require_once __DIR__ . '/includes/class-woodoo-answer.php';
require_once __DIR__ . '/includes/class-woodoo-stock-route.php';
require_once __DIR__ . '/includes/class-woodoo-flush-route.php';
require_once __DIR__ . '/includes/class-woodoo-bulk-route.php';
require_once __DIR__ . '/includes/class-woodoo-plugin.php';

add_action(
	'before_woocommerce_init',
	static function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
		}
	}
);

register_activation_hook( __FILE__, array( 'Woodoo_Plugin', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Woodoo_Plugin', 'deactivate' ) );
add_action( 'plugins_loaded', array( 'Woodoo_Plugin', 'load' ) );

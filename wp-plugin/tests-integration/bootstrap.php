<?php
/**
 * The plugin's integration tests: a real WordPress (Debian's wordpress package, .ci/wordpress.sh)
 * on a real MariaDB (a private server, .ci/mariadb.sh), WooCommerce's tables created from the
 * recording of a real WooCommerce 11.0.1 store (tests/fixtures/woocommerce11/
 * stock_write_effects.json, "schema"), and a thin stand-in for the few WooCommerce functions the
 * plugin calls (woocommerce-stand-in.php).
 *
 * `./dev test` starts the server and sets WOODOO_TEST_MARIADB_SOCKET and WOODOO_TEST_WORDPRESS;
 * run alone (`phpunit -c tests-integration/phpunit.xml` in wp-plugin/) this file starts its own
 * server in a temporary directory and stops it when PHPUnit ends. Either way the database
 * `woodoo_it` is made anew for every run.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals

// PHPUnit includes this file inside a function: WordPress's globals must be made global here
// before wp-settings.php (the same list as WordPress's own test suite).
global $wpdb, $current_site, $current_blog, $wp_rewrite, $shortcode_tags, $wp, $phpmailer, $wp_theme_directories;

define( 'WOODOO_REPO_ROOT', dirname( __DIR__, 2 ) );
define( 'WOODOO_IT_FIXTURE', WOODOO_REPO_ROOT . '/tests/fixtures/woocommerce11/stock_write_effects.json' );

require __DIR__ . '/harness.php';

woodoo_it_environment();
require __DIR__ . '/config.php';
woodoo_it_create_database();
woodoo_it_install_wordpress();
woodoo_it_apply_recorded_schema();

$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';

// Offline, and no request may leave the tests.
add_filter(
	'pre_http_request',
	static function () {
		return new WP_Error( 'offline', 'the integration tests make no HTTP requests' );
	}
);

require __DIR__ . '/woocommerce-stand-in.php';
Woodoo_IT_WooCommerce::register();
require WOODOO_REPO_ROOT . '/wp-plugin/woodoo-companion/woodoo-companion.php';
// plugins_loaded has run: activate and load the plugin as WordPress would have.
Woodoo_Plugin::activate();
Woodoo_Plugin::load();

require __DIR__ . '/class-woodoo-it-catalog.php';
require __DIR__ . '/class-woodoo-it-testcase.php';

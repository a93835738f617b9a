<?php
/**
 * The integration tests' store served over HTTP, for bench/bulk.py: a real WordPress on the
 * private MariaDB server, WooCommerce's tables from the recording, the WooCommerce stand-in and
 * the plugin, set up as bootstrap.php sets them up, answering the plugin's routes to a real
 * daemon.
 *
 *   php shop.php setup COUNT         makes the database anew, installs WordPress, activates the
 *                                    plugin and seeds COUNT managed simple products SKU-000000,
 *                                    SKU-000001, ... with a stock of n % 50, as the simulators do
 *   php -S 127.0.0.1:PORT shop.php   serves it (PHP_CLI_SERVER_WORKERS=N: N requests at a time)
 *
 * Both need WOODOO_TEST_WORDPRESS, WOODOO_TEST_MARIADB_SOCKET and WOODOO_TEST_HOME (the URL the
 * store is served at). Only REST requests are answered; WordPress takes them from ?rest_route=
 * (plain permalinks), which is what /wp-json/... is made into here.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals, WordPress.Security

global $wpdb, $current_site, $current_blog, $wp_rewrite, $shortcode_tags, $wp, $phpmailer, $wp_theme_directories;

define( 'WOODOO_REPO_ROOT', dirname( __DIR__, 2 ) );
define( 'WOODOO_IT_FIXTURE', WOODOO_REPO_ROOT . '/tests/fixtures/woocommerce11/stock_write_effects.json' );

require __DIR__ . '/harness.php';
require __DIR__ . '/config.php';

$woodoo_shop_setup = 'cli' === PHP_SAPI;
if ( $woodoo_shop_setup ) {
	if ( 3 !== count( $argv ) || 'setup' !== $argv[1] || ! ctype_digit( $argv[2] ) ) {
		woodoo_it_fail( 'usage: php shop.php setup COUNT' );
	}
	woodoo_it_create_database();
	woodoo_it_install_wordpress();
	woodoo_it_apply_recorded_schema();
} else {
	$woodoo_shop_path = (string) strtok( $_SERVER['REQUEST_URI'], '?' );
	if ( 0 !== strpos( $woodoo_shop_path, '/wp-json' ) ) {
		http_response_code( 404 );
		exit( 'only REST requests are served here' );
	}
	$_GET['rest_route'] = '/' . ltrim( substr( $woodoo_shop_path, strlen( '/wp-json' ) ), '/' );
}

$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
require __DIR__ . '/woocommerce-stand-in.php';
Woodoo_IT_WooCommerce::register();
require WOODOO_REPO_ROOT . '/wp-plugin/woodoo-companion/woodoo-companion.php';

if ( $woodoo_shop_setup ) {
	Woodoo_Plugin::activate();
	require __DIR__ . '/class-woodoo-it-catalog.php';
	$woodoo_shop_products = array();
	for ( $n = 0; $n < (int) $argv[2]; $n++ ) {
		$sku                    = sprintf( 'SKU-%06d', $n );
		$stock                  = $n % 50;
		$status                 = $stock > 0 ? 'instock' : 'outofstock';
		$woodoo_shop_products[] = array(
			'id'     => 10000 + $n,
			'type'   => 'simple',
			'meta'   => array(
				'_sku'          => $sku,
				'_manage_stock' => 'yes',
				'_stock'        => (string) $stock,
				'_stock_status' => $status,
				'_backorders'   => 'no',
			),
			'terms'  => 'outofstock' === $status ? array( array( 'product_visibility', 'outofstock' ) ) : array(),
			'lookup' => array(
				'sku'            => $sku,
				'stock_quantity' => $stock,
				'stock_status'   => $status,
			),
		);
	}
	Woodoo_IT_Catalog::seed( $woodoo_shop_products );
	echo "ready\n";
	exit( 0 );
}

Woodoo_Plugin::load();
wp();  // A REST request is answered (and the script ends) while WordPress parses it.
http_response_code( 404 );
echo 'no such route';

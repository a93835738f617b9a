<?php
/**
 * WordPress's configuration for the integration tests (what wp-config.php holds on a site),
 * shared by install-wordpress.php and bootstrap.php. Everything comes from the environment the
 * bootstrap sets: the WordPress directory and the private MariaDB server's socket.
 *
 * @package WoodooCompanion
 */

$woodoo_it_wordpress = getenv( 'WOODOO_TEST_WORDPRESS' );
$woodoo_it_socket    = getenv( 'WOODOO_TEST_MARIADB_SOCKET' );
if ( ! $woodoo_it_wordpress || ! $woodoo_it_socket ) {
	fwrite( STDERR, "WOODOO_TEST_WORDPRESS and WOODOO_TEST_MARIADB_SOCKET must be set (bootstrap.php sets them)\n" );
	exit( 2 );
}

define( 'ABSPATH', rtrim( $woodoo_it_wordpress, '/' ) . '/' );
define( 'WOODOO_IT_DB', 'woodoo_it' );
define( 'DB_NAME', WOODOO_IT_DB );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', 'localhost:' . $woodoo_it_socket );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', 'utf8mb4_unicode_520_ci' );
// shop.php serves the store at WOODOO_TEST_HOME for bench/bulk.py; the tests call it in-process.
$woodoo_it_served = 'cli-server' === PHP_SAPI;
define( 'WP_HOME', getenv( 'WOODOO_TEST_HOME' ) ? getenv( 'WOODOO_TEST_HOME' ) : 'http://shop.test' );
define( 'WP_SITEURL', WP_HOME );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', ! $woodoo_it_served );  // Served: a notice must not break the JSON.
define( 'WP_DEBUG_LOG', $woodoo_it_served ? 'php://stderr' : false );
define( 'DISABLE_WP_CRON', true );          // No loopback request to wp-cron.php.
define( 'WP_HTTP_BLOCK_EXTERNAL', true );   // Offline: no request leaves the machine.
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
// The plugin's secrets, as wp-config.php constants (Woodoo_Settings reads these first).
define( 'WOODOO_STOCK_SECRET', 'whsec_it_stock_0123456789abcdef0123456789abcdef' );
define( 'WOODOO_EVENTS_SECRET', 'whsec_it_events_0123456789abcdef0123456789abcdef' );
if ( ! $woodoo_it_served ) {
	$_SERVER['HTTP_HOST']   = 'shop.test';
	$_SERVER['SERVER_NAME'] = 'shop.test';
	$_SERVER['REQUEST_URI'] = '/';
}

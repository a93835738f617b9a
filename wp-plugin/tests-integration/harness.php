<?php
/**
 * The set-up before WordPress loads: the MariaDB server, WordPress's directory, the database
 * with the recorded tables, WordPress installed into it.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals, WordPress.DB.RestrictedClasses

/**
 * Fails the run with a reason.
 *
 * @param string $message Why.
 */
function woodoo_it_fail( $message ) {
	fwrite( STDERR, "integration tests: {$message}\n" );
	exit( 1 );
}

/**
 * Runs a command; its stdout's last line, or the run fails.
 *
 * @param string $command Shell command.
 * @param string $what    What it does, for the failure.
 * @return string
 */
function woodoo_it_run( $command, $what ) {
	$output = array();
	$status = 0;
	exec( $command, $output, $status );
	$output = array_values( array_filter( array_map( 'trim', $output ), 'strlen' ) );
	if ( 0 !== $status || ! $output ) {
		woodoo_it_fail( "{$what} failed (exit {$status}): " . implode( "\n", $output ) );
	}
	if ( count( $output ) > 1 ) {
		fwrite( STDERR, "{$what} said:\n  " . implode( "\n  ", array_slice( $output, 0, -1 ) ) . "\n" );
	}
	return (string) end( $output );
}

/**
 * WOODOO_TEST_WORDPRESS and WOODOO_TEST_MARIADB_SOCKET: given, or found and started here.
 */
function woodoo_it_environment() {
	if ( ! extension_loaded( 'mysqli' ) ) {
		woodoo_it_fail( 'PHP has no mysqli (apt-get install php-mysql; ./dev test does)' );
	}
	if ( ! getenv( 'WOODOO_TEST_WORDPRESS' ) ) {
		putenv( 'WOODOO_TEST_WORDPRESS=' . woodoo_it_run( escapeshellarg( WOODOO_REPO_ROOT . '/.ci/wordpress.sh' ), 'fetching WordPress (.ci/wordpress.sh)' ) );
	}
	if ( ! getenv( 'WOODOO_TEST_MARIADB_SOCKET' ) ) {
		$dir = rtrim( sys_get_temp_dir(), '/' ) . '/woodoo-it-' . getmypid() . '-' . bin2hex( random_bytes( 4 ) );
		$cmd = escapeshellarg( WOODOO_REPO_ROOT . '/.ci/mariadb.sh' );
		putenv( 'WOODOO_TEST_MARIADB_SOCKET=' . woodoo_it_run( "{$cmd} start " . escapeshellarg( $dir ) . ' 2>&1', 'starting MariaDB (.ci/mariadb.sh)' ) );
		register_shutdown_function(
			static function () use ( $cmd, $dir ) {
				exec( "{$cmd} stop " . escapeshellarg( $dir ) . ' 2>&1' );
				exec( 'rm -rf ' . escapeshellarg( $dir ) );
			}
		);
	}
	if ( ! is_file( rtrim( getenv( 'WOODOO_TEST_WORDPRESS' ), '/' ) . '/wp-settings.php' ) ) {
		woodoo_it_fail( 'no wp-settings.php in WOODOO_TEST_WORDPRESS=' . getenv( 'WOODOO_TEST_WORDPRESS' ) );
	}
}

/**
 * The recorded CREATE TABLE statements, by table (the recording escaped their newlines).
 *
 * @return array
 */
function woodoo_it_recorded_schema() {
	$fixture = json_decode( (string) file_get_contents( WOODOO_IT_FIXTURE ), true );
	$schema  = array();
	foreach ( $fixture['schema'] as $table => $statement ) {
		$schema[ $table ] = str_replace( '\\n', "\n", $statement );
	}
	return $schema;
}

/**
 * The database `woodoo_it`, new and empty (WordPress installs into it next).
 */
function woodoo_it_create_database() {
	$db = woodoo_it_connect( '' );
	$db->query( 'DROP DATABASE IF EXISTS ' . WOODOO_IT_DB );
	if ( ! $db->query( 'CREATE DATABASE ' . WOODOO_IT_DB . ' CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci' ) ) {
		woodoo_it_fail( 'creating the database: ' . $db->error );
	}
	$db->close();
}

/**
 * A connection to the test server.
 *
 * @param string $database Database ('' for none).
 * @return mysqli
 */
function woodoo_it_connect( $database ) {
	mysqli_report( MYSQLI_REPORT_OFF );
	$db = new mysqli( 'localhost', DB_USER, DB_PASSWORD, $database, 0, getenv( 'WOODOO_TEST_MARIADB_SOCKET' ) );
	if ( $db->connect_errno ) {
		woodoo_it_fail( 'connecting to MariaDB: ' . $db->connect_error );
	}
	return $db;
}

/**
 * A table definition without its AUTO_INCREMENT counter (which says how many rows were made).
 *
 * @param string $statement CREATE TABLE.
 * @return string
 */
function woodoo_it_definition( $statement ) {
	return trim( preg_replace( '/ AUTO_INCREMENT=\d+/', '', $statement ) );
}

/**
 * The installed tables made exactly the recorded store's (SHOW CREATE TABLE of WooCommerce
 * 11.0.1 on WordPress 7.0.4): the missing ones created (wp_wc_product_meta_lookup), the ones
 * this WordPress makes differently rebuilt with the recorded definition, their rows kept (this
 * Debian WordPress lacks one index of wp_posts); then every definition checked.
 */
function woodoo_it_apply_recorded_schema() {
	$db = woodoo_it_connect( WOODOO_IT_DB );
	foreach ( woodoo_it_recorded_schema() as $table => $statement ) {
		$now = $db->query( "SHOW CREATE TABLE {$table}" );
		if ( ! $now ) {
			$ok = $db->query( $statement );
		} elseif ( woodoo_it_definition( $now->fetch_row()[1] ) === woodoo_it_definition( $statement ) ) {
			continue;
		} else {
			$copy = $table . '__recorded';
			$ok   = $db->query( str_replace( "CREATE TABLE `{$table}`", "CREATE TABLE `{$copy}`", $statement ) )
				&& $db->query( "INSERT INTO {$copy} SELECT * FROM {$table}" )
				&& $db->query( "DROP TABLE {$table}" )
				&& $db->query( "RENAME TABLE {$copy} TO {$table}" );
		}
		if ( ! $ok ) {
			woodoo_it_fail( "making {$table} the recorded one: {$db->error}" );
		}
	}
	foreach ( woodoo_it_recorded_schema() as $table => $statement ) {
		$now = $db->query( "SHOW CREATE TABLE {$table}" );
		if ( ! $now || woodoo_it_definition( $now->fetch_row()[1] ) !== woodoo_it_definition( $statement ) ) {
			woodoo_it_fail( "{$table} is not the recorded table" );
		}
	}
	$db->close();
}

/**
 * wp_install() into the database, in a PHP process of its own (install-wordpress.php).
 */
function woodoo_it_install_wordpress() {
	$line = woodoo_it_run( escapeshellarg( PHP_BINARY ) . ' ' . escapeshellarg( __DIR__ . '/install-wordpress.php' ) . ' 2>&1', 'installing WordPress' );
	if ( 'installed' !== $line ) {
		woodoo_it_fail( "installing WordPress did not finish: {$line}" );
	}
}

<?php
/**
 * The plugin's signer and verifier from the command line (tests/test_plugin_signing.py uses both).
 *
 * Usage:
 *   php bin/sign.php SECRET ROUTE [TIMESTAMP] < body
 *       prints the X-Woodoo-Signature header value, e.g. for ROUTE "POST /webhooks/woocommerce".
 *   php bin/sign.php --verify SECRET ROUTE NOW HEADER < body
 *       prints "ok" (exit 0) or why the header does not sign the body (exit 1), with the clock at NOW.
 * The body is read byte for byte (no trailing newline is added or removed).
 *
 * @package WoodooCompanion
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
define( 'WOODOO_CLI', true );
require dirname( __DIR__ ) . '/woodoo-companion/includes/class-woodoo-signer.php';

/**
 * Prints the usage and exits 2.
 *
 * @param string $problem What is wrong with the arguments.
 */
function woodoo_cli_usage( $problem ) {
	fwrite( STDERR, $problem . "\nusage: php bin/sign.php SECRET ROUTE [TIMESTAMP] < body\n       php bin/sign.php --verify SECRET ROUTE NOW HEADER < body\n" );
	exit( 2 );
}

/**
 * Unix seconds from an argument (the header grammar: 1 to 10 ASCII digits), or exits 2.
 *
 * @param string $value Argument.
 * @param int    $max   Most digits accepted.
 * @return int
 */
function woodoo_cli_seconds( $value, $max ) {
	if ( ! preg_match( '/\A[0-9]{1,' . (int) $max . '}\z/', $value ) ) {
		woodoo_cli_usage( 'TIMESTAMP must be unix seconds (1 to ' . (int) $max . ' digits)' );
	}
	return (int) $value;
}

$woodoo_args   = array_slice( $argv, 1 );
$woodoo_verify = isset( $woodoo_args[0] ) && '--verify' === $woodoo_args[0];
if ( $woodoo_verify ) {
	array_shift( $woodoo_args );
	if ( count( $woodoo_args ) !== 4 ) {
		woodoo_cli_usage( '--verify takes SECRET ROUTE NOW HEADER' );
	}
} elseif ( count( $woodoo_args ) < 2 || count( $woodoo_args ) > 3 ) {
	woodoo_cli_usage( 'SECRET and ROUTE are required' );
}
if ( ! Woodoo_Signer::usable_secret( $woodoo_args[0] ) ) {
	woodoo_cli_usage( 'SECRET must be at least ' . Woodoo_Signer::MIN_SECRET_LENGTH . ' characters' );
}
$woodoo_body = stream_get_contents( STDIN );
$woodoo_body = false === $woodoo_body ? '' : $woodoo_body;

if ( $woodoo_verify ) {
	// The clock may be any test case's (an 11-digit t is refused by the header grammar, not here).
	$woodoo_now     = woodoo_cli_seconds( $woodoo_args[2], 18 );
	$woodoo_problem = Woodoo_Signer::check( $woodoo_body, $woodoo_args[3], array( $woodoo_args[0] ), $woodoo_args[1], $woodoo_now );
	echo null === $woodoo_problem ? 'ok' : $woodoo_problem, "\n";
	exit( null === $woodoo_problem ? 0 : 1 );
}
$woodoo_timestamp = isset( $woodoo_args[2] ) ? woodoo_cli_seconds( $woodoo_args[2], 10 ) : null;
echo Woodoo_Signer::sign( $woodoo_body, $woodoo_args[0], $woodoo_args[1], $woodoo_timestamp ), "\n";

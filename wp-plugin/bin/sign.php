<?php
/**
 * Prints the X-Woodoo-Signature header value for a body read on stdin.
 *
 * Usage: php bin/sign.php SECRET [TIMESTAMP] < body.json
 * The body is signed byte for byte as read (no trailing newline is added or removed).
 *
 * @package WoodooCompanion
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
define( 'WOODOO_CLI', true );
require dirname( __DIR__ ) . '/woodoo-companion/includes/class-woodoo-signer.php';

if ( $argc < 2 || '' === $argv[1] ) {
	fwrite( STDERR, "usage: php bin/sign.php SECRET [TIMESTAMP] < body\n" );
	exit( 2 );
}
$timestamp = null;
if ( isset( $argv[2] ) ) {
	if ( ! ctype_digit( $argv[2] ) ) {
		fwrite( STDERR, "TIMESTAMP must be unix seconds\n" );
		exit( 2 );
	}
	$timestamp = (int) $argv[2];
}
$body = stream_get_contents( STDIN );
echo Woodoo_Signer::sign( false === $body ? '' : $body, $argv[1], $timestamp ), "\n";

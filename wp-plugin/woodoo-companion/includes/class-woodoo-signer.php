<?php
/**
 * The Woodoo signature: HMAC-SHA256 over "<unix seconds>.<raw body>".
 *
 * Header: X-Woodoo-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]. Pure PHP, no WordPress
 * calls, so bin/sign.php and the tests use it as is. Shared with the daemon (woodoo/signing.py)
 * through tests/vectors/signatures.json.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || defined( 'WOODOO_CLI' ) || exit;

/**
 * Signs and verifies bodies.
 */
final class Woodoo_Signer {

	const HEADER    = 'X-Woodoo-Signature';
	const TOLERANCE = 300;

	/**
	 * Hex HMAC-SHA256 of "t.body" keyed with the (UTF-8) secret.
	 *
	 * @param string $body      Raw body bytes.
	 * @param string $secret    Secret.
	 * @param int    $timestamp Unix seconds.
	 * @return string
	 */
	public static function digest( $body, $secret, $timestamp ) {
		return hash_hmac( 'sha256', (string) (int) $timestamp . '.' . $body, (string) $secret );
	}

	/**
	 * The header value signing $body with every given secret (one v1 per secret).
	 *
	 * @param string          $body      Raw body bytes.
	 * @param string|string[] $secrets   One secret, or several during a rotation.
	 * @param int|null        $timestamp Unix seconds; now by default.
	 * @return string
	 */
	public static function sign( $body, $secrets, $timestamp = null ) {
		$timestamp = null === $timestamp ? time() : (int) $timestamp;
		$parts     = array( 't=' . $timestamp );
		foreach ( (array) $secrets as $secret ) {
			if ( '' !== (string) $secret ) {
				$parts[] = 'v1=' . self::digest( $body, $secret, $timestamp );
			}
		}
		return implode( ',', $parts );
	}

	/**
	 * Timestamp and v1 digests of a header value, or null when malformed.
	 *
	 * @param string $header Header value.
	 * @return array|null array( int $timestamp, string[] $digests )
	 */
	public static function parse( $header ) {
		$timestamp = null;
		$digests   = array();
		foreach ( explode( ',', (string) $header ) as $part ) {
			$pair  = explode( '=', trim( $part ), 2 );
			$key   = $pair[0];
			$value = isset( $pair[1] ) ? $pair[1] : '';
			if ( 't' === $key ) {
				if ( '' === $value || ! ctype_digit( $value ) ) {
					return null;
				}
				$timestamp = (int) $value;
			} elseif ( 'v1' === $key && '' !== $value ) {
				$digests[] = strtolower( $value );
			}
		}
		if ( null === $timestamp || ! $digests ) {
			return null;
		}
		return array( $timestamp, $digests );
	}

	/**
	 * Why $header does not sign $body, or null when it does.
	 *
	 * @param string      $body      Raw body bytes.
	 * @param string|null $header    Header value.
	 * @param string[]    $secrets   Active secrets.
	 * @param int|null    $now       Receiver's clock; now by default.
	 * @param int         $tolerance Allowed clock difference in seconds.
	 * @return string|null
	 */
	public static function check( $body, $header, $secrets, $now = null, $tolerance = self::TOLERANCE ) {
		if ( null === $header || '' === $header ) {
			return 'missing ' . self::HEADER . ' header';
		}
		$parsed = self::parse( $header );
		if ( null === $parsed ) {
			return self::HEADER . ' must look like t=<unix seconds>,v1=<hex>';
		}
		list( $timestamp, $digests ) = $parsed;
		$now                         = null === $now ? time() : (int) $now;
		if ( abs( $now - $timestamp ) > $tolerance ) {
			return sprintf( 'timestamp %d is %d s from this server\'s clock; at most %d s is accepted', $timestamp, $now - $timestamp, $tolerance );
		}
		$match = false;
		foreach ( (array) $secrets as $secret ) {
			if ( '' === (string) $secret ) {
				continue;
			}
			$expected = self::digest( $body, $secret, $timestamp );
			foreach ( $digests as $candidate ) {
				// hash_equals for every pair: the time taken does not tell how close a guess was.
				$match = hash_equals( $expected, $candidate ) || $match;
			}
		}
		return $match ? null : 'signature does not match the body with any active secret';
	}

	/**
	 * Whether $header signs $body with one of $secrets within the tolerance.
	 *
	 * @param string      $body      Raw body bytes.
	 * @param string|null $header    Header value.
	 * @param string[]    $secrets   Active secrets.
	 * @param int|null    $now       Receiver's clock.
	 * @param int         $tolerance Allowed clock difference in seconds.
	 * @return bool
	 */
	public static function verify( $body, $header, $secrets, $now = null, $tolerance = self::TOLERANCE ) {
		return null === self::check( $body, $header, $secrets, $now, $tolerance );
	}
}

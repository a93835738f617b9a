<?php
/**
 * The Woodoo signature (v2): HMAC-SHA256 over "<unix seconds>.<route>.<raw body>", bound to one route.
 *
 * Header: X-Woodoo-Signature: t=<unix seconds>,v2=<64 hex>[,v2=<64 hex>...]. The route is the
 * logical route ("POST /woodoo/v1/stock", not the URL: a proxy prefix, /wp-json or ?rest_route=
 * do not change it), so a signature made for one route is refused on every other. The header has
 * a strict grammar (printable ASCII, at most 400 characters, t of 1 to 10 ASCII digits, each v2
 * exactly 64 hex digits, at most 4 of them) so hostile input is refused in words before any
 * arithmetic on it. Pure PHP, no WordPress calls, so bin/sign.php and the tests use it as is.
 * Shared with the daemon (woodoo/web/signing.py) through tests/vectors/signatures.json.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || defined( 'WOODOO_CLI' ) || exit;

/**
 * Signs and verifies bodies.
 */
final class Woodoo_Signer {

	const HEADER            = 'X-Woodoo-Signature';
	const TOLERANCE         = 300;
	const MAX_HEADER_LENGTH = 400;
	const MAX_DIGESTS       = 4;
	const MIN_SECRET_LENGTH = 32;

	// The routes this plugin signs for or verifies, one per channel and direction.
	const SHOP_EVENTS  = 'POST /webhooks/woocommerce'; // Plugin -> daemon: order events.
	const PLUGIN_STOCK = 'POST /woodoo/v1/stock';      // Daemon -> plugin: stock writes.
	const PLUGIN_FLUSH = 'POST /woodoo/v1/flush';      // Daemon -> plugin: send the waiting events now.
	const SHOP_STATUS  = 'POST /webhooks/status';      // Plugin -> daemon: read the daemon's status.

	/**
	 * Whether $secret may sign or verify: a string of at least MIN_SECRET_LENGTH characters.
	 *
	 * An empty key would make every signature computable by anyone, a short one guessable.
	 *
	 * @param mixed $secret Candidate.
	 * @return bool
	 */
	public static function usable_secret( $secret ) {
		return is_string( $secret ) && self::length( $secret ) >= self::MIN_SECRET_LENGTH;
	}

	/**
	 * Length in characters (UTF-8), as the daemon counts it; bytes when not UTF-8.
	 *
	 * @param string $text Text.
	 * @return int
	 */
	public static function length( $text ) {
		$text = (string) $text;
		if ( ! preg_match( '//u', $text ) ) {
			return strlen( $text );
		}
		return function_exists( 'mb_strlen' ) ? mb_strlen( $text, 'UTF-8' ) : (int) preg_match_all( '/./us', $text );
	}

	/**
	 * Hex HMAC-SHA256 of "t.route.body" keyed with the (UTF-8) secret.
	 *
	 * @param string $body      Raw body bytes.
	 * @param string $secret    Secret (at least MIN_SECRET_LENGTH characters).
	 * @param string $route     Logical route, e.g. self::PLUGIN_STOCK.
	 * @param int    $timestamp Unix seconds.
	 * @return string
	 * @throws InvalidArgumentException When the secret is empty or short.
	 */
	public static function digest( $body, $secret, $route, $timestamp ) {
		if ( ! self::usable_secret( $secret ) ) {
			throw new InvalidArgumentException( 'refusing to sign with an empty secret or one shorter than ' . self::MIN_SECRET_LENGTH . ' characters' );
		}
		return hash_hmac( 'sha256', (string) (int) $timestamp . '.' . $route . '.' . $body, $secret );
	}

	/**
	 * The header value signing $body for $route with every given secret (one v2 per secret).
	 *
	 * @param string          $body      Raw body bytes.
	 * @param string|string[] $secrets   One secret, or several during a rotation.
	 * @param string          $route     Logical route, e.g. self::SHOP_EVENTS.
	 * @param int|null        $timestamp Unix seconds; now by default.
	 * @return string
	 * @throws InvalidArgumentException When there is no secret, or one is empty or short.
	 */
	public static function sign( $body, $secrets, $route, $timestamp = null ) {
		$timestamp = null === $timestamp ? time() : (int) $timestamp;
		$secrets   = (array) $secrets;
		if ( ! $secrets || count( $secrets ) > self::MAX_DIGESTS ) {
			throw new InvalidArgumentException( 'sign with 1 to ' . self::MAX_DIGESTS . ' secrets' );
		}
		$parts = array( 't=' . $timestamp );
		foreach ( $secrets as $secret ) {
			$parts[] = 'v2=' . self::digest( $body, $secret, $route, $timestamp );
		}
		return implode( ',', $parts );
	}

	/**
	 * Timestamp and lower-case v2 digests of a header value, or the reason it is malformed.
	 *
	 * @param mixed $header Header value.
	 * @return array array( int $timestamp, string[] $digests ) or array( 'error' => string ).
	 */
	public static function parse( $header ) {
		$shape = array( 'error' => self::HEADER . ' must look like t=<unix seconds>,v2=<64 hex digits>' );
		if ( ! is_string( $header ) ) {
			return $shape;
		}
		if ( strlen( $header ) > self::MAX_HEADER_LENGTH ) {
			return array( 'error' => self::HEADER . ' is longer than ' . self::MAX_HEADER_LENGTH . ' characters' );
		}
		if ( ! preg_match( '/\A[\x20-\x7e]*\z/', $header ) ) {
			return array( 'error' => self::HEADER . ' must be printable ASCII' );
		}
		$timestamp = null;
		$digests   = array();
		foreach ( explode( ',', $header ) as $part ) {
			$pair   = explode( '=', trim( $part, ' ' ), 2 );
			$key    = $pair[0];
			$equals = isset( $pair[1] );
			$value  = $equals ? $pair[1] : '';
			if ( 't' === $key && $equals && null === $timestamp ) {
				// An anchored ASCII pattern: ctype_digit() or (int) alone would take '1e3', ' 5' or '0x1'.
				if ( ! preg_match( '/\A[0-9]{1,10}\z/', $value ) ) {
					return array( 'error' => self::HEADER . ': t must be unix seconds (1 to 10 digits)' );
				}
				$timestamp = (int) $value;
			} elseif ( 'v2' === $key && $equals ) {
				if ( ! preg_match( '/\A[0-9a-fA-F]{64}\z/', $value ) ) {
					return array( 'error' => self::HEADER . ': v2 must be 64 hex digits' );
				}
				$digests[] = strtolower( $value );
			} elseif ( 'v1' === $key ) {
				return array( 'error' => self::HEADER . ': v1 signatures are no longer accepted; update the sender to the route-bound v2 scheme (Woodoo 0.2)' );
			} else {
				return $shape;
			}
		}
		if ( null === $timestamp || ! $digests ) {
			return $shape;
		}
		if ( count( $digests ) > self::MAX_DIGESTS ) {
			return array( 'error' => self::HEADER . ': at most ' . self::MAX_DIGESTS . ' v2 signatures are accepted' );
		}
		return array( $timestamp, $digests );
	}

	/**
	 * What is wrong with $header for $body and $route, or what it proves.
	 *
	 * @param string   $body      Raw body bytes.
	 * @param mixed    $header    Header value (null when missing).
	 * @param string[] $secrets   Active secrets for this route.
	 * @param string   $route     Logical route the request arrived on.
	 * @param int|null $now       Receiver's clock; now by default.
	 * @param int      $tolerance Allowed clock difference in seconds.
	 * @return array On failure array( 'code' => not_configured|missing_signature|bad_signature|stale_timestamp,
	 *               'message' => ... ); on success array( 'timestamp' => int ).
	 */
	public static function inspect( $body, $header, $secrets, $route, $now = null, $tolerance = self::TOLERANCE ) {
		$secrets = (array) $secrets;
		foreach ( $secrets as $secret ) {
			if ( ! self::usable_secret( $secret ) ) {
				$secrets = array();
				break;
			}
		}
		if ( ! $secrets ) {
			// Fail closed: never compare against an empty or short key.
			return self::problem( 'not_configured', 'no secret of at least ' . self::MIN_SECRET_LENGTH . ' characters is configured for this route' );
		}
		if ( null === $header || '' === $header ) {
			return self::problem( 'missing_signature', 'missing ' . self::HEADER . ' header' );
		}
		$parsed = self::parse( $header );
		if ( isset( $parsed['error'] ) ) {
			return self::problem( 'bad_signature', $parsed['error'] );
		}
		list( $timestamp, $digests ) = $parsed;
		$now                         = null === $now ? time() : (int) $now;
		if ( abs( $now - $timestamp ) > $tolerance ) {
			return self::problem( 'stale_timestamp', sprintf( 'timestamp %d is %d s from this server\'s clock; at most %d s is accepted (check the sender\'s clock)', $timestamp, $now - $timestamp, $tolerance ) );
		}
		$match = false;
		foreach ( $secrets as $secret ) {
			$expected = self::digest( $body, $secret, $route, $timestamp );
			foreach ( $digests as $candidate ) {
				// hash_equals for every pair: the time taken does not tell how close a guess was.
				$match = hash_equals( $expected, $candidate ) || $match;
			}
		}
		if ( ! $match ) {
			return self::problem( 'bad_signature', 'signature does not match the body and route with any active secret' );
		}
		return array( 'timestamp' => $timestamp );
	}

	/**
	 * Why $header does not sign $body for $route, or null when it does.
	 *
	 * @param string   $body      Raw body bytes.
	 * @param mixed    $header    Header value.
	 * @param string[] $secrets   Active secrets.
	 * @param string   $route     Logical route.
	 * @param int|null $now       Receiver's clock; now by default.
	 * @param int      $tolerance Allowed clock difference in seconds.
	 * @return string|null
	 */
	public static function check( $body, $header, $secrets, $route, $now = null, $tolerance = self::TOLERANCE ) {
		$result = self::inspect( $body, $header, $secrets, $route, $now, $tolerance );
		return isset( $result['code'] ) ? $result['message'] : null;
	}

	/**
	 * Whether $header signs $body for $route with one of $secrets within the tolerance.
	 *
	 * @param string   $body      Raw body bytes.
	 * @param mixed    $header    Header value.
	 * @param string[] $secrets   Active secrets.
	 * @param string   $route     Logical route.
	 * @param int|null $now       Receiver's clock.
	 * @param int      $tolerance Allowed clock difference in seconds.
	 * @return bool
	 */
	public static function verify( $body, $header, $secrets, $route, $now = null, $tolerance = self::TOLERANCE ) {
		return null === self::check( $body, $header, $secrets, $route, $now, $tolerance );
	}

	/**
	 * A failed inspection.
	 *
	 * @param string $code    Code.
	 * @param string $message Message.
	 * @return array
	 */
	private static function problem( $code, $message ) {
		return array(
			'code'    => $code,
			'message' => $message,
		);
	}
}

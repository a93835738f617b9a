<?php
/**
 * Which versions of the daemon, this plugin and the Odoo module work together: the mirror of the
 * daemon's woodoo/compat.py (the same table, the same levels), both held to the Woodoo
 * repository's tests/vectors/compat.json.
 *
 * From 1.0.0 the three parts share one release version, and parts of the same major version work
 * together. Before it each had its own numbering: this plugin 0.1-0.4, the module 1.0 and 2.0-2.2
 * (its user agent said 2.0 for all three), and every daemon said 0.1.0.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * The pairing table.
 */
final class Woodoo_Compat {

	const MAX_AGENT = 200;
	// Up to 4 numbers of at most 6 digits; [0-9] and no /u: only ASCII digits count.
	const VERSION = '[0-9]{1,6}(?:\.[0-9]{1,6}){1,3}';

	/**
	 * Each part's product name in its user agent.
	 *
	 * @var array
	 */
	const PRODUCTS = array(
		'daemon' => 'Woodoo',
		'plugin' => 'WoodooCompanion',
		'module' => 'woodoo-webhook',
	);

	/**
	 * The version a part's user agent names (`<product>/<version>[ <comment>]`), or null.
	 *
	 * @param string $part  daemon, plugin or module.
	 * @param mixed  $agent User agent.
	 * @return string|null
	 */
	public static function agent_version( $part, $agent ) {
		if ( ! is_string( $agent ) || strlen( $agent ) > self::MAX_AGENT || ! isset( self::PRODUCTS[ $part ] ) ) {
			return null;
		}
		$pattern = '#\A' . preg_quote( self::PRODUCTS[ $part ], '#' ) . '/(' . self::VERSION . ')(?: [\x20-\x7e]*)?\z#';
		return preg_match( $pattern, $agent, $match ) ? $match[1] : null;
	}

	/**
	 * How `$part` at `$version` works with the other parts at `$release`.
	 *
	 * @param string      $part    daemon, plugin or module.
	 * @param string|null $version As the part said it (null: said nothing readable).
	 * @param string|null $release This side's version (default: this plugin's).
	 * @return array{level: string, version: string|null, words: string} level: works, limited, broken or unknown.
	 */
	public static function pairing( $part, $version, $release = null ) {
		$release = null === $release ? ( defined( 'WOODOO_COMPANION_VERSION' ) ? WOODOO_COMPANION_VERSION : '' ) : (string) $release;
		if ( ! preg_match( '#\A[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}\z#', $release ) ) {
			$release = '1.0.0'; // Only a broken install has no version: judged as the first release.
		}
		$viewer  = 'daemon' === $part ? __( 'this plugin', 'woodoo-companion' ) : __( 'this daemon', 'woodoo-companion' );
		$name    = self::name( $part );
		$major   = (int) explode( '.', $release )[0];
		/* translators: %d: major version. */
		$update  = sprintf( __( 'update it to %d.x', 'woodoo-companion' ), $major );
		$numbers = is_string( $version ) && preg_match( '#\A' . self::VERSION . '\z#', $version ) ? array_map( 'intval', explode( '.', $version ) ) : null;
		if ( null === $numbers ) {
			/* translators: 1: the part, 2: this plugin or this daemon, 3: product name, 4: version of this side, 5: what to do. */
			return self::result( 'unknown', null, sprintf( __( '%1$s did not say a version %2$s can read (it says %3$s/X.Y.Z from 1.0): it is an old or a foreign sender, and whether it works with %2$s (%4$s) is unknown; %5$s', 'woodoo-companion' ), $name, $viewer, self::PRODUCTS[ $part ], $release, $update ) );
		}
		$said = $name . ' (' . self::PRODUCTS[ $part ] . ' ' . $version . ')';
		if ( 3 === count( $numbers ) && $numbers[0] >= 1 ) {
			if ( $numbers[0] === $major ) {
				/* translators: 1: the part and its version, 2: this plugin or this daemon, 3: version of this side. */
				return self::result( 'works', $version, sprintf( __( '%1$s works with %2$s (%3$s)', 'woodoo-companion' ), $said, $viewer, $release ) );
			}
			$newer = $numbers[0] > $major;
			/* translators: %d: major version. */
			$fix = $newer ? sprintf( 'daemon' === $part ? __( 'update this plugin to %d.x', 'woodoo-companion' ) : __( 'update this side to %d.x', 'woodoo-companion' ), $numbers[0] ) : $update;
			/* translators: 1: the part and its version, 2: this plugin or this daemon, 3: version of this side, 4: its major version, 5: newer or older, 6: what to do. */
			return self::result( 'broken', $version, sprintf( __( '%1$s cannot work with %2$s (%3$s): a different major version (%4$d.x, %5$s) speaks another protocol; %6$s', 'woodoo-companion' ), $said, $viewer, $release, $numbers[0], $newer ? __( 'newer', 'woodoo-companion' ) : __( 'older', 'woodoo-companion' ), $fix ) );
		}
		$legacy = 1 === $major ? self::legacy( $part, $numbers[0] . '.' . $numbers[1], $update ) : null;
		if ( null === $legacy ) {
			/* translators: 1: the part and its version, 2: this plugin or this daemon, 3: version of this side, 4: what to do. */
			return self::result( 'unknown', $version, sprintf( __( '%1$s is no release %2$s (%3$s) knows; %4$s', 'woodoo-companion' ), $said, $viewer, $release, $update ) );
		}
		$verdicts = array(
			'works'   => __( 'works with', 'woodoo-companion' ),
			'limited' => __( 'works, with limits, with', 'woodoo-companion' ),
			'broken'  => __( 'cannot work with', 'woodoo-companion' ),
		);
		return self::result( $legacy[0], $version, $said . ' ' . $verdicts[ $legacy[0] ] . ' ' . $viewer . ' (' . $release . '): ' . $legacy[1] );
	}

	/**
	 * A part in words.
	 *
	 * @param string $part daemon, plugin or module.
	 * @return string
	 */
	public static function name( $part ) {
		$names = array(
			'daemon' => __( 'the daemon', 'woodoo-companion' ),
			'plugin' => __( 'the WordPress plugin', 'woodoo-companion' ),
			'module' => __( 'the Odoo module', 'woodoo-companion' ),
		);
		return isset( $names[ $part ] ) ? $names[ $part ] : (string) $part;
	}

	/**
	 * Releases before 1.0.0 by "major.minor" as each part numbered them: level and reason, or null.
	 *
	 * @param string $part   daemon, plugin or module.
	 * @param string $minor  "major.minor".
	 * @param string $update What to do.
	 * @return array|null
	 */
	private static function legacy( $part, $minor, $update ) {
		$table = array(
			'plugin' => array(
				'0.1' => array( 'broken', __( 'it signs its calls the v1 way with one secret, which daemons refuse since 0.2 (signatures bound to their route, a secret per channel): no order event arrives and no stock write is accepted; ', 'woodoo-companion' ) . $update . __( ' and set its events and stock secrets', 'woodoo-companion' ) ),
				'0.2' => array( 'limited', __( 'it has no flush route (events waiting in the shop go at their next retry, up to 6 hours apart, not when the daemon starts) and no bulk routes (stock goes through WooCommerce\'s REST API); ', 'woodoo-companion' ) . $update ),
				'0.3' => array( 'limited', __( 'it has no bulk routes (stock goes through WooCommerce\'s REST API, about 15 times slower on a large catalog); ', 'woodoo-companion' ) . $update ),
				'0.4' => array( 'works', __( 'it does not show in its panel whether it works with the daemon; ', 'woodoo-companion' ) . $update ),
			),
			'module' => array(
				'1.0' => array( 'broken', __( 'it signs its events the v1 way, which daemons refuse since 0.2, and sends inside the user\'s save: no stock event arrives; ', 'woodoo-companion' ) . $update . ' (-u woodoo_webhook)' ),
				'2.0' => array( 'limited', __( 'a module from before 1.0 (2.0, 2.1 and 2.2 all said 2.0): 2.0 and 2.1 can leave an event waiting for the next change or the minute\'s cron run, and none sends the idle heartbeat that ends the daemon\'s pause when Odoo is back; ', 'woodoo-companion' ) . $update . ' (-u woodoo_webhook)' ),
			),
			'daemon' => array(
				'0.1' => array( 'limited', __( 'a daemon from before 1.0 (every one said 0.1.0): order events, the stock, flush and bulk routes work, but it does not check the parts\' versions; ', 'woodoo-companion' ) . $update ),
			),
		);
		return isset( $table[ $part ][ $minor ] ) ? $table[ $part ][ $minor ] : null;
	}

	/**
	 * A pairing as returned.
	 *
	 * @param string      $level   works, limited, broken or unknown.
	 * @param string|null $version The part's version.
	 * @param string      $words   One sentence.
	 * @return array
	 */
	private static function result( $level, $version, $words ) {
		return array(
			'level'   => $level,
			'version' => $version,
			'words'   => $words,
		);
	}
}

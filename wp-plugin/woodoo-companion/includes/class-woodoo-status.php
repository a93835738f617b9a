<?php
/**
 * The daemon's state on the settings tab: reads POST /webhooks/status (signed with the events
 * secret for that route), keeps the answer for a minute, and renders it escaped.
 *
 * The status URL sits beside the events URL: .../webhooks/woocommerce becomes .../webhooks/status
 * (filter woodoo_companion_status_url for a proxy that maps them elsewhere). Each request is
 * short (3 s, no redirects, at most 64 KiB read) and its outcome, good or bad, is cached in a
 * transient for 60 s, so the page stays fast even when the daemon is down. What is kept and shown
 * is the daemon's figures after checking each one (integers, known breaker states, bounded text)
 * or a reason in our own words: never the body of an answer we did not understand, since the URL
 * is typed by an administrator and may point anywhere.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Daemon status client and panel.
 */
final class Woodoo_Status {

	const TRANSIENT     = 'woodoo_companion_daemon_status';
	const CACHE_SECONDS = 60;
	const TIMEOUT       = 3;
	const MAX_ANSWER    = 65536; // Bytes read of an answer; the daemon's is well under 4 KiB.
	const MAX_ALERTS    = 20;
	const MAX_TITLE     = 200;
	const MAX_VERSION   = 40;
	const MAX_SHOP      = 64; // The daemon refuses a longer shop.name.
	const MAX_WORDS     = 500;
	const LEVELS        = array( 'works', 'limited', 'broken', 'unknown' );

	/**
	 * The status URL beside an events URL, or null when the events URL does not end in
	 * /webhooks/woocommerce (and no filter names one).
	 *
	 * @param string $events_url The daemon URL of the settings.
	 * @return string|null
	 */
	public static function url( $events_url ) {
		$count = 0;
		$url   = preg_replace( '#/webhooks/woocommerce/?(?=$|[?\#])#', '/webhooks/status', (string) $events_url, 1, $count );
		$url   = apply_filters( 'woodoo_companion_status_url', 1 === $count ? $url : null, $events_url );
		if ( ! is_string( $url ) ) {
			return null;
		}
		$clean = Woodoo_Settings::sanitize_url( $url );
		return null === $clean || '' === $clean ? null : $clean;
	}

	/**
	 * The daemon's status, from the cache when it is fresh and for the same URL.
	 *
	 * @return array self::result().
	 */
	public static function get() {
		$cached = get_transient( self::TRANSIENT );
		$url    = self::url( Woodoo_Settings::daemon_url() );
		if ( is_array( $cached ) && isset( $cached['url'], $cached['checked_at'] ) && $cached['url'] === (string) $url
			&& time() - (int) $cached['checked_at'] < self::CACHE_SECONDS ) {
			return $cached;
		}
		$status = self::fetch();
		set_transient( self::TRANSIENT, $status, self::CACHE_SECONDS );
		return $status;
	}

	/**
	 * Forgets the cached status (after the settings change, or on the test button).
	 */
	public static function forget() {
		delete_transient( self::TRANSIENT );
	}

	/**
	 * Asks the daemon now.
	 *
	 * @param int|null $now Clock (signature timestamp).
	 * @return array self::result().
	 */
	public static function fetch( $now = null ) {
		$now        = null === $now ? time() : (int) $now;
		$events_url = Woodoo_Settings::daemon_url();
		$url        = self::url( $events_url );
		if ( '' === $events_url ) {
			return self::result( $now, '', false, 0, __( 'the daemon URL is not set', 'woodoo-companion' ) );
		}
		if ( null === $url ) {
			return self::result( $now, '', false, 0, __( 'the daemon URL does not end in /webhooks/woocommerce, so the status route beside it (/webhooks/status) cannot be found', 'woodoo-companion' ) );
		}
		$problem = Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS );
		if ( null !== $problem ) {
			return self::result( $now, $url, false, 0, $problem );
		}
		$body     = Woodoo_Queue::encode( array( 'request_id' => bin2hex( random_bytes( 16 ) ) ) );
		$response = wp_remote_post( $url, self::request_args( $body, Woodoo_Settings::events_secret(), $now ) );
		return self::interpret( $response, $url, $now );
	}

	/**
	 * wp_remote_post() arguments of a status request: signed, short, no redirects, bounded.
	 *
	 * @param string $body   JSON body.
	 * @param string $secret Events secret.
	 * @param int    $now    Signature timestamp.
	 * @return array
	 */
	public static function request_args( $body, $secret, $now ) {
		return array(
			'method'              => 'POST',
			'timeout'             => self::TIMEOUT,
			'redirection'         => 0,
			'blocking'            => true,
			'httpversion'         => '1.1',
			'user-agent'          => 'WoodooCompanion/' . ( defined( 'WOODOO_COMPANION_VERSION' ) ? WOODOO_COMPANION_VERSION : 'dev' ),
			'headers'             => array(
				'Content-Type'        => 'application/json; charset=utf-8',
				Woodoo_Signer::HEADER => Woodoo_Signer::sign( $body, $secret, Woodoo_Signer::SHOP_STATUS, $now ),
			),
			'body'                => $body,
			'data_format'         => 'body',
			'limit_response_size' => self::MAX_ANSWER,
		);
	}

	/**
	 * What an answer means: the checked figures, or a reason in our words.
	 *
	 * @param array|WP_Error $response wp_remote_post() result.
	 * @param string         $url      Status URL asked.
	 * @param int            $now      Clock.
	 * @return array self::result().
	 */
	public static function interpret( $response, $url, $now ) {
		if ( is_wp_error( $response ) ) {
			// The transport's words may quote the remote (a certificate's name): ours only.
			return self::result( $now, $url, false, 0, __( 'no answer from the daemon (DNS, connection refused, TLS or a timeout of 3 s)', 'woodoo-companion' ) );
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		$data = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( 200 === $code ) {
			$figures = self::figures( $data );
			if ( null !== $figures ) {
				return self::result( $now, $url, true, $code, '', $figures );
			}
			return self::result( $now, $url, false, $code, 'HTTP 200: ' . __( 'the answer is not a Woodoo status; is the daemon URL right?', 'woodoo-companion' ) );
		}
		$error = is_array( $data ) && isset( $data['error'] ) && is_string( $data['error'] ) && preg_match( '/\A[a-z_]{1,40}\z/', $data['error'] ) ? $data['error'] : '';
		return self::result( $now, $url, false, $code, 'HTTP ' . $code . ': ' . self::reason( $code, $error ) );
	}

	/**
	 * Our words for a refused status request.
	 *
	 * @param int    $code  HTTP status.
	 * @param string $error The daemon's error code ('' when none), only used to pick the words.
	 * @return string
	 */
	public static function reason( $code, $error ) {
		if ( 401 === $code && 'stale_timestamp' === $error ) {
			return __( 'the daemon refused the signature\'s time: the shop\'s and the daemon\'s clocks differ by more than 5 minutes', 'woodoo-companion' );
		}
		if ( 401 === $code && 'no_secret' === $error ) {
			return __( 'the daemon has no webhooks.shop_secrets configured', 'woodoo-companion' );
		}
		if ( 401 === $code || 403 === $code ) {
			return __( 'the daemon refused the signature: the events secret differs from webhooks.shop_secrets, or the clocks differ', 'woodoo-companion' );
		}
		if ( 404 === $code || 405 === $code ) {
			return __( 'nothing answers status requests at /webhooks/status: the daemon is older than this plugin, or a proxy does not forward that path', 'woodoo-companion' );
		}
		if ( 400 === $code || 413 === $code || 415 === $code ) {
			return __( 'the daemon refused the status request itself; is the daemon up to date?', 'woodoo-companion' );
		}
		if ( 429 === $code ) {
			return __( 'the daemon is busy (rate limited); the status is asked again in a minute', 'woodoo-companion' );
		}
		if ( $code >= 300 && $code < 400 ) {
			return __( 'the daemon URL redirects, and redirects are not followed; enter the final URL', 'woodoo-companion' );
		}
		if ( $code >= 500 ) {
			return __( 'the daemon, or a proxy in front of it, failed; see the daemon\'s log', 'woodoo-companion' );
		}
		return __( 'an answer the daemon does not give; is the daemon URL right?', 'woodoo-companion' );
	}

	/**
	 * The daemon's figures, each checked (anything else becomes null: "unknown"), or null when
	 * the answer is not a status at all.
	 *
	 * @param mixed $data Decoded JSON.
	 * @return array|null
	 */
	public static function figures( $data ) {
		if ( ! is_array( $data ) || ! isset( $data['status'] ) || 'ok' !== $data['status'] ) {
			return null;
		}
		$figures = array(
			'version'                  => self::text( isset( $data['version'] ) ? $data['version'] : null, self::MAX_VERSION ),
			'shop'                     => self::text( isset( $data['shop'] ) ? $data['shop'] : null, self::MAX_SHOP ),
			'orders_enabled'           => isset( $data['orders_enabled'] ) && is_bool( $data['orders_enabled'] ) ? $data['orders_enabled'] : null,
			'last_successful_poll'     => self::number( $data, 'last_successful_poll' ),
			'queue_depth'              => self::number( $data, 'queue_depth' ),
			'dead_letters_open'        => self::number( $data, 'dead_letters_open' ),
			'events_set_aside'         => self::number( $data, 'events_set_aside' ),
			'orders_needing_attention' => self::number( $data, 'orders_needing_attention' ),
			'last_reconciliation'      => null,
			'breakers'                 => array(),
			'alerts'                   => array(),
			'parts'                    => array(),
		);
		$parts = isset( $data['parts'] ) && is_array( $data['parts'] ) ? $data['parts'] : array();
		foreach ( array( 'plugin', 'module' ) as $part ) {
			// The daemon's verdict on each part it heard from: a known level and bounded words, or
			// null (not heard from yet, or not understood).
			$heard                       = isset( $parts[ $part ] ) && is_array( $parts[ $part ] ) ? $parts[ $part ] : array();
			$level                       = isset( $heard['level'] ) && in_array( $heard['level'], self::LEVELS, true ) ? $heard['level'] : null;
			$words                       = self::text( isset( $heard['words'] ) ? $heard['words'] : null, self::MAX_WORDS );
			$figures['parts'][ $part ] = null === $level || null === $words || '' === $words ? null : array(
				'level'    => $level,
				'words'    => $words,
				'heard_at' => self::number( $heard, 'heard_at' ),
			);
		}
		if ( isset( $data['last_reconciliation'] ) && is_array( $data['last_reconciliation'] ) ) {
			$run                            = $data['last_reconciliation'];
			$figures['last_reconciliation'] = array(
				'at'          => self::number( $run, 'at' ),
				'drift_items' => self::number( $run, 'drift_items' ),
				'drift_units' => self::number( $run, 'drift_units' ),
			);
		}
		$breakers = isset( $data['breakers'] ) && is_array( $data['breakers'] ) ? $data['breakers'] : array();
		foreach ( array( 'odoo', 'woocommerce' ) as $side ) {
			$breaker                       = isset( $breakers[ $side ] ) && is_array( $breakers[ $side ] ) ? $breakers[ $side ] : array();
			$state                         = isset( $breaker['state'] ) && in_array( $breaker['state'], array( 'closed', 'open', 'half-open' ), true ) ? $breaker['state'] : 'unknown';
			$figures['breakers'][ $side ] = array(
				'state'    => $state,
				'since'    => self::number( $breaker, 'since' ),
				'failures' => self::number( $breaker, 'failures' ),
			);
		}
		$alerts = isset( $data['alerts'] ) && is_array( $data['alerts'] ) ? array_values( $data['alerts'] ) : array();
		foreach ( array_slice( $alerts, 0, self::MAX_ALERTS ) as $alert ) {
			$title = is_array( $alert ) ? self::text( isset( $alert['title'] ) ? $alert['title'] : null, self::MAX_TITLE ) : null;
			if ( null !== $title && '' !== $title ) {
				$figures['alerts'][] = array(
					'title' => $title,
					'since' => self::number( $alert, 'since' ),
				);
			}
		}
		return $figures;
	}

	/**
	 * The rows of the status panel: the daemon's figures or why they are missing, then this shop's
	 * own queue. Every value printed goes through esc_html().
	 *
	 * @param array $status  self::result().
	 * @param array $waiting Woodoo_Queue::waiting_summary().
	 * @return string HTML.
	 */
	public static function html( array $status, array $waiting ) {
		$rows    = array();
		$checked = self::when( isset( $status['checked_at'] ) ? $status['checked_at'] : null );
		if ( empty( $status['reachable'] ) || ! is_array( $status['figures'] ) ) {
			/* translators: 1: reason, 2: date and time. */
			$rows[] = array( __( 'Daemon', 'woodoo-companion' ), sprintf( __( 'not reachable: %1$s (checked %2$s)', 'woodoo-companion' ), (string) $status['reason'], $checked ), 'error' );
		} else {
			$f       = $status['figures'];
			$version = null === $f['version'] || '' === $f['version'] ? __( 'unknown version', 'woodoo-companion' ) : 'Woodoo ' . $f['version'];
			/* translators: 1: daemon version, 2: date and time. */
			$rows[] = array( __( 'Daemon', 'woodoo-companion' ), sprintf( __( 'reachable, %1$s (checked %2$s)', 'woodoo-companion' ), $version, $checked ), 'ok' );
			// Several shops on one host run a daemon each: the name says this is the right one.
			$rows[]  = array( __( 'The daemon\'s shop', 'woodoo-companion' ), null === $f['shop'] || '' === $f['shop'] ? __( 'not named (a daemon before 1.0)', 'woodoo-companion' ) : $f['shop'], '' );
			$pairing = Woodoo_Compat::pairing( 'daemon', $f['version'] );
			$rows[]  = array( __( 'Versions', 'woodoo-companion' ), $pairing['words'], self::level_flag( $pairing['level'] ) );
			$module  = isset( $f['parts']['module'] ) ? $f['parts']['module'] : null;
			$rows[]  = array(
				__( 'Odoo module (as the daemon heard it)', 'woodoo-companion' ),
				null === $module ? __( 'not heard from yet (the module says its version with each event and each idle minute\'s heartbeat)', 'woodoo-companion' ) : $module['words'],
				null === $module ? '' : self::level_flag( $module['level'] ),
			);
			$rows[] = array( __( 'Order events', 'woodoo-companion' ), null === $f['orders_enabled'] ? __( 'unknown', 'woodoo-companion' ) : ( $f['orders_enabled'] ? __( 'taken', 'woodoo-companion' ) : __( 'not enabled in the daemon (orders.enabled): events wait here and are retried', 'woodoo-companion' ) ), null === $f['orders_enabled'] ? '' : ( $f['orders_enabled'] ? 'ok' : 'error' ) );
			$rows[] = array( __( 'Last successful poll', 'woodoo-companion' ), null === $f['last_successful_poll'] ? __( 'never (or unknown)', 'woodoo-companion' ) : self::when( $f['last_successful_poll'] ), '' );
			$rows[] = array( __( 'Events waiting in the daemon', 'woodoo-companion' ), self::count( $f['queue_depth'] ), '' );
			$rows[] = array( __( 'Open dead letters (stock updates given up)', 'woodoo-companion' ), self::count( $f['dead_letters_open'] ), self::flag( $f['dead_letters_open'] ) );
			$rows[] = array( __( 'Events set aside', 'woodoo-companion' ), self::count( $f['events_set_aside'] ), self::flag( $f['events_set_aside'] ) );
			$rows[] = array( __( 'Orders needing attention', 'woodoo-companion' ), self::count( $f['orders_needing_attention'] ), self::flag( $f['orders_needing_attention'] ) );
			$rows[] = array( __( 'Last reconciliation', 'woodoo-companion' ), self::reconciliation_text( $f['last_reconciliation'] ), '' );
			$rows[] = array( __( 'Circuit breakers', 'woodoo-companion' ), self::breakers_text( $f['breakers'] ), self::breakers_flag( $f['breakers'] ) );
			$rows[] = array( __( 'Alerts', 'woodoo-companion' ), self::alerts_list( $f['alerts'] ), $f['alerts'] ? 'error' : 'ok' );
		}
		$rows[] = array( __( 'This shop', 'woodoo-companion' ), Woodoo_Settings::waiting_text( $waiting ), $waiting['waiting'] > 0 ? 'error' : 'ok' );

		$html = '<table class="widefat striped woodoo-status" style="max-width:720px"><tbody>';
		foreach ( $rows as $row ) {
			list( $label, $value, $flag ) = $row;
			$cell                         = is_array( $value ) ? self::list_html( $value ) : esc_html( $value );
			$style                        = 'error' === $flag ? 'color:#b32d2e' : '';
			$html                        .= '<tr><th scope="row" style="width:40%">' . esc_html( $label ) . '</th><td'
				. ( '' === $style ? '' : ' style="' . esc_attr( $style ) . '"' ) . '>' . $cell . '</td></tr>';
		}
		return $html . '</tbody></table>';
	}

	/**
	 * A result as cached and rendered.
	 *
	 * @param int        $now       Clock.
	 * @param string     $url       Status URL ('' when none).
	 * @param bool       $reachable Whether the figures came.
	 * @param int        $code      HTTP status (0 when none).
	 * @param string     $reason    Our words when not reachable.
	 * @param array|null $figures   self::figures().
	 * @return array
	 */
	private static function result( $now, $url, $reachable, $code, $reason, $figures = null ) {
		return array(
			'checked_at' => (int) $now,
			'url'        => (string) $url,
			'reachable'  => (bool) $reachable,
			'code'       => (int) $code,
			'reason'     => (string) $reason,
			'figures'    => $figures,
		);
	}

	/**
	 * A non-negative integer of $data[$key], or null.
	 *
	 * @param array  $data Data.
	 * @param string $key  Key.
	 * @return int|null
	 */
	private static function number( array $data, $key ) {
		return isset( $data[ $key ] ) && is_int( $data[ $key ] ) && $data[ $key ] >= 0 ? $data[ $key ] : null;
	}

	/**
	 * Printable one-line text cut to $max characters, or null when not a string.
	 *
	 * @param mixed $value Value.
	 * @param int   $max   Characters.
	 * @return string|null
	 */
	private static function text( $value, $max ) {
		if ( ! is_string( $value ) ) {
			return null;
		}
		$value = preg_match( '//u', $value ) ? preg_replace( '/[\p{C}]+/u', ' ', $value ) : preg_replace( '/[^\x20-\x7e]+/', ' ', $value );
		$value = trim( (string) $value );
		return function_exists( 'mb_substr' ) ? mb_substr( $value, 0, $max, 'UTF-8' ) : substr( $value, 0, $max );
	}

	/**
	 * A date and time in the site's format, or "unknown".
	 *
	 * @param int|null $timestamp Unix seconds.
	 * @return string
	 */
	private static function when( $timestamp ) {
		if ( null === $timestamp ) {
			return __( 'unknown', 'woodoo-companion' );
		}
		return wp_date( get_option( 'date_format', 'Y-m-d' ) . ' ' . get_option( 'time_format', 'H:i' ), (int) $timestamp );
	}

	/**
	 * A count, or "unknown".
	 *
	 * @param int|null $count Count.
	 * @return string
	 */
	private static function count( $count ) {
		return null === $count ? __( 'unknown', 'woodoo-companion' ) : (string) (int) $count;
	}

	/**
	 * How a pairing's level is shown: red when it cannot work or is unknown.
	 *
	 * @param string $level works, limited, broken or unknown.
	 * @return string
	 */
	private static function level_flag( $level ) {
		return 'works' === $level ? 'ok' : ( 'limited' === $level ? '' : 'error' );
	}

	/**
	 * 'error' when a count that should be zero is not.
	 *
	 * @param int|null $count Count.
	 * @return string
	 */
	private static function flag( $count ) {
		return null !== $count && $count > 0 ? 'error' : '';
	}

	/**
	 * "<time>; drift: N products, M units" in words.
	 *
	 * @param array|null $run Last reconciliation.
	 * @return string
	 */
	private static function reconciliation_text( $run ) {
		if ( null === $run ) {
			return __( 'never', 'woodoo-companion' );
		}
		if ( null === $run['drift_items'] ) {
			$drift = __( 'drift unknown', 'woodoo-companion' );
		} else {
			/* translators: 1: products drifted, 2: units. */
			$drift = sprintf( __( 'drift: %1$d products, %2$s units', 'woodoo-companion' ), $run['drift_items'], self::count( $run['drift_units'] ) );
		}
		return self::when( $run['at'] ) . '; ' . $drift;
	}

	/**
	 * One line per side.
	 *
	 * @param array $breakers Breakers by side.
	 * @return string[]
	 */
	private static function breakers_text( array $breakers ) {
		$names = array(
			'odoo'        => __( 'Odoo', 'woodoo-companion' ),
			'woocommerce' => __( 'this shop (from the daemon)', 'woodoo-companion' ),
		);
		$lines = array();
		foreach ( $names as $side => $name ) {
			$breaker = $breakers[ $side ];
			if ( 'closed' === $breaker['state'] ) {
				$words = __( 'calls flow', 'woodoo-companion' );
			} elseif ( 'unknown' === $breaker['state'] ) {
				$words = __( 'unknown', 'woodoo-companion' );
			} else {
				/* translators: 1: date and time, 2: failures in a row. */
				$words = sprintf( __( 'calls paused since %1$s after %2$s failures (the daemon retries by itself)', 'woodoo-companion' ), self::when( $breaker['since'] ), self::count( $breaker['failures'] ) );
				if ( 'half-open' === $breaker['state'] ) {
					$words .= ' ' . __( '(probing)', 'woodoo-companion' );
				}
			}
			$lines[] = $name . ': ' . $words;
		}
		return $lines;
	}

	/**
	 * 'error' when a side's calls are paused.
	 *
	 * @param array $breakers Breakers by side.
	 * @return string
	 */
	private static function breakers_flag( array $breakers ) {
		foreach ( $breakers as $breaker ) {
			if ( 'closed' !== $breaker['state'] ) {
				return 'error';
			}
		}
		return 'ok';
	}

	/**
	 * "none", or one line per alert with its start.
	 *
	 * @param array $alerts Alerts.
	 * @return string|string[]
	 */
	private static function alerts_list( array $alerts ) {
		if ( ! $alerts ) {
			return __( 'none', 'woodoo-companion' );
		}
		$lines = array();
		foreach ( $alerts as $alert ) {
			/* translators: 1: alert title, 2: date and time. */
			$lines[] = sprintf( __( '%1$s (since %2$s)', 'woodoo-companion' ), $alert['title'], self::when( $alert['since'] ) );
		}
		return $lines;
	}

	/**
	 * Lines as an HTML list, each escaped.
	 *
	 * @param string[] $lines Lines.
	 * @return string
	 */
	private static function list_html( array $lines ) {
		$html = '<ul style="margin:0">';
		foreach ( $lines as $line ) {
			$html .= '<li>' . esc_html( $line ) . '</li>';
		}
		return $html . '</ul>';
	}
}

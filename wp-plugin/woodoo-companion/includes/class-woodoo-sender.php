<?php
/**
 * Delivers stored events to the daemon (POST /webhooks/woocommerce) and decides what happens next.
 *
 * 2xx: delivered. 5xx, 429, timeouts, connection errors (and anything else unexpected): kept and
 * retried after 1 min, 2, 4, ... at most 6 h apart, for up to 7 days after the event was queued.
 * Other 4xx: the daemon refuses the event as such; recorded and not retried.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Event delivery.
 */
final class Woodoo_Sender {

	const BASE_DELAY = 60;
	const MAX_DELAY  = 21600;  // 6 h.
	const MAX_AGE    = 604800; // 7 days.
	const TIMEOUT    = 10;

	const DELIVERED = 'delivered';
	const RETRY     = 'retry';
	const GIVE_UP   = 'give_up';

	/**
	 * Delay before the next attempt after $failures failed attempts: 60, 120, 240 ... capped at 6 h.
	 *
	 * @param int $failures Failed attempts so far (at least 1).
	 * @return int Seconds.
	 */
	public static function backoff( $failures ) {
		$failures = max( 1, (int) $failures );
		if ( $failures > 20 ) {
			return self::MAX_DELAY;
		}
		return (int) min( self::MAX_DELAY, self::BASE_DELAY * ( 2 ** ( $failures - 1 ) ) );
	}

	/**
	 * What a wp_remote_post() result means: array( outcome, http code (0 if none), message ).
	 *
	 * @param array|WP_Error $response Response.
	 * @return array
	 */
	public static function classify( $response ) {
		if ( is_wp_error( $response ) ) {
			return array( self::RETRY, 0, 'no answer from the daemon: ' . $response->get_error_message() );
		}
		$code    = (int) wp_remote_retrieve_response_code( $response );
		$message = self::describe( $code, (string) wp_remote_retrieve_body( $response ) );
		if ( $code >= 200 && $code < 300 ) {
			return array( self::DELIVERED, $code, $message );
		}
		if ( 429 === $code || $code >= 500 ) {
			return array( self::RETRY, $code, $message );
		}
		if ( $code >= 400 ) {
			return array( self::GIVE_UP, $code, $message );
		}
		// 3xx (a redirect is not followed: the URL needs fixing) or no status: keep and retry.
		return array( self::RETRY, $code, $message );
	}

	/**
	 * "HTTP 400 schema: message (field)" from an answer.
	 *
	 * @param int    $code HTTP status.
	 * @param string $body Body.
	 * @return string
	 */
	public static function describe( $code, $body ) {
		$text = 'HTTP ' . $code;
		$data = json_decode( $body, true );
		if ( is_array( $data ) ) {
			foreach ( array( 'status', 'error', 'message', 'field' ) as $key ) {
				if ( isset( $data[ $key ] ) && is_scalar( $data[ $key ] ) ) {
					$text .= ' ' . $key . '=' . $data[ $key ];
				}
			}
		} elseif ( '' !== trim( $body ) ) {
			$text .= ' ' . trim( preg_replace( '/\s+/', ' ', wp_strip_all_tags( $body ) ) );
		}
		return function_exists( 'mb_substr' ) ? mb_substr( $text, 0, 300 ) : substr( $text, 0, 300 );
	}

	/**
	 * The body of one attempt: the stored payload with sent_at set.
	 *
	 * @param string $stored Stored JSON payload.
	 * @param int    $now    Clock.
	 * @return string
	 */
	public static function body( $stored, $now ) {
		$payload            = json_decode( $stored, true );
		$payload['sent_at'] = gmdate( 'Y-m-d\TH:i:s\Z', (int) $now );
		return Woodoo_Queue::encode( $payload );
	}

	/**
	 * wp_remote_post() arguments for a body signed for the daemon's order event route.
	 *
	 * @param string $body     JSON body.
	 * @param string $secret   Events secret.
	 * @param bool   $blocking Wait for the answer.
	 * @param int    $now      Clock (signature timestamp).
	 * @return array
	 */
	public static function request_args( $body, $secret, $blocking, $now ) {
		return array(
			'method'      => 'POST',
			'timeout'     => $blocking ? (int) apply_filters( 'woodoo_companion_timeout', self::TIMEOUT ) : 1,
			'redirection' => 0,
			'blocking'    => (bool) $blocking,
			'httpversion' => '1.1',
			'user-agent'  => 'WoodooCompanion/' . ( defined( 'WOODOO_COMPANION_VERSION' ) ? WOODOO_COMPANION_VERSION : 'dev' ),
			'headers'     => array(
				'Content-Type'         => 'application/json; charset=utf-8',
				Woodoo_Signer::HEADER => Woodoo_Signer::sign( $body, $secret, Woodoo_Signer::SHOP_EVENTS, $now ),
			),
			'body'        => $body,
			'data_format' => 'body',
		);
	}

	/**
	 * Action Scheduler callback: one delivery attempt of a stored event.
	 *
	 * @param string   $event_id Event id.
	 * @param int|null $now      Clock.
	 * @return string Outcome (delivered, retry, give_up, or skip when nothing to do).
	 */
	public static function deliver( $event_id, $now = null ) {
		$now = null === $now ? time() : (int) $now;
		$row = Woodoo_Queue::find( $event_id );
		if ( ! $row || ! empty( $row['delivered_at'] ) || ! empty( $row['gave_up_at'] ) ) {
			return 'skip';
		}
		$url     = Woodoo_Settings::daemon_url();
		$problem = Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS );
		if ( '' === $url ) {
			$result = array( self::RETRY, 0, 'the daemon URL is not set (WooCommerce > Settings > Woodoo)' );
		} elseif ( null !== $problem ) {
			$result = array( self::RETRY, 0, $problem );
		} else {
			$secret   = Woodoo_Settings::events_secret();
			$body     = self::body( $row['payload'], $now );
			$response = wp_remote_post( $url, self::request_args( $body, $secret, true, $now ) );
			$result   = self::classify( $response );
		}
		return self::record_result( $row, $result, $now );
	}

	/**
	 * Stores the outcome of an attempt, notes it on the order, schedules the retry.
	 *
	 * @param array $row    Stored event.
	 * @param array $result self::classify().
	 * @param int   $now    Clock.
	 * @return string Outcome.
	 */
	public static function record_result( array $row, array $result, $now ) {
		list( $outcome, , $message ) = $result;
		$attempts                    = (int) $row['attempts'] + 1;
		$event_id                    = $row['event_id'];
		$event                       = $row['event'];
		if ( self::DELIVERED === $outcome ) {
			Woodoo_Queue::update(
				$event_id,
				array(
					'attempts'     => $attempts,
					'delivered_at' => $now,
					'next_attempt' => null,
					'last_error'   => null,
				)
			);
			/* translators: 1: event name, 2: daemon's answer, 3: attempts. */
			self::note( $row, sprintf( __( 'Woodoo: %1$s delivered to the daemon (%2$s, attempt %3$d).', 'woodoo-companion' ), $event, $message, $attempts ) );
			return self::DELIVERED;
		}
		if ( self::RETRY === $outcome ) {
			$next = $now + self::backoff( $attempts );
			if ( $next - (int) $row['created_at'] <= self::MAX_AGE ) {
				Woodoo_Queue::update(
					$event_id,
					array(
						'attempts'     => $attempts,
						'next_attempt' => $next,
						'last_error'   => $message,
					)
				);
				Woodoo_Queue::schedule( $event_id, $next, false );
				if ( 1 === $attempts ) {
					/* translators: 1: event name, 2: error, 3: minutes. */
					self::note( $row, sprintf( __( 'Woodoo: %1$s not delivered yet (%2$s); kept and retried in %3$d min, for up to 7 days.', 'woodoo-companion' ), $event, $message, (int) ceil( ( $next - $now ) / 60 ) ) );
				}
				return self::RETRY;
			}
			/* translators: 1: event name, 2: attempts, 3: last error. */
			$note = sprintf( __( 'Woodoo: gave up delivering %1$s after %2$d attempts over 7 days; last error: %3$s', 'woodoo-companion' ), $event, $attempts, $message );
		} else {
			/* translators: 1: event name, 2: daemon's answer. */
			$note = sprintf( __( 'Woodoo: the daemon refused %1$s (%2$s); not retried.', 'woodoo-companion' ), $event, $message );
		}
		Woodoo_Queue::update(
			$event_id,
			array(
				'attempts'     => $attempts,
				'gave_up_at'   => $now,
				'next_attempt' => null,
				'last_error'   => $message,
			)
		);
		self::note( $row, $note );
		Woodoo_Queue::log( $note . ' (event ' . $event_id . ', order ' . (int) $row['order_id'] . ')' );
		return self::GIVE_UP;
	}

	/**
	 * Sends a freshly stored event without waiting for the answer (end of the shop's request).
	 * Action Scheduler delivers it again a minute later; the daemon answers "duplicate" then.
	 *
	 * @param string $event_id Event id.
	 * @return bool Whether a request was started.
	 */
	public static function send_nonblocking( $event_id ) {
		$url = Woodoo_Settings::daemon_url();
		if ( '' === $url || null !== Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS ) ) {
			return false;
		}
		$secret = Woodoo_Settings::events_secret();
		$row    = Woodoo_Queue::find( $event_id );
		if ( ! $row ) {
			return false;
		}
		$now = time();
		wp_remote_post( $url, self::request_args( self::body( $row['payload'], $now ), $secret, false, $now ) );
		return true;
	}

	/**
	 * Sends a test ping and says what the answer means: array( ok, message ).
	 *
	 * The ping is signed like an event with event "test": the daemon answers 200 when it accepts
	 * the signature and takes order events, 503 orders_disabled when it does not take them, 401
	 * when the secrets or the clocks differ. The message is the HTTP status and our own words,
	 * never any part of the answer's body: the URL is typed by an administrator and may point
	 * anywhere, and this page must not become a way to read what a server answers.
	 *
	 * @return array
	 */
	public static function test() {
		$url     = Woodoo_Settings::daemon_url();
		$problem = Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS );
		if ( '' === $url ) {
			return array( false, __( 'Set the daemon URL first.', 'woodoo-companion' ) );
		}
		if ( null !== $problem ) {
			/* translators: %s: what is wrong with the events secret. */
			return array( false, sprintf( __( 'Set the events secret first: %s.', 'woodoo-companion' ), $problem ) );
		}
		$now      = time();
		$body     = Woodoo_Queue::encode(
			array(
				'event_id'  => 'woodoo-test-' . Woodoo_Payload::uuid(),
				'event'     => 'test',
				'store_url' => home_url(),
				'sent_at'   => gmdate( 'Y-m-d\TH:i:s\Z', $now ),
			)
		);
		$response = wp_remote_post( $url, self::request_args( $body, Woodoo_Settings::events_secret(), true, $now ) );
		if ( is_wp_error( $response ) ) {
			// The transport's own error (DNS, refused, TLS, timeout), not anything the server sent.
			$error = preg_replace( '/[^\x20-\x7e]+/', ' ', (string) $response->get_error_message() );
			return array( false, 'no answer from the daemon URL (DNS, connection refused, TLS or timeout): ' . substr( $error, 0, 200 ) );
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		return array( $code >= 200 && $code < 300, $code . ': ' . self::test_reason( $code, self::error_code( $response ) ) );
	}

	/**
	 * Our words for the answer to a test event.
	 *
	 * @param int    $code  HTTP status.
	 * @param string $error The daemon's error code ('' when none), only used to pick the words.
	 * @return string
	 */
	public static function test_reason( $code, $error ) {
		if ( $code >= 200 && $code < 300 ) {
			return 'the daemon accepted the signature and takes order events';
		}
		if ( 401 === $code && 'stale_timestamp' === $error ) {
			return 'the daemon refused the signature\'s time: the shop\'s and the daemon\'s clocks differ by more than 5 minutes';
		}
		if ( 401 === $code && 'no_secret' === $error ) {
			return 'the daemon has no webhooks.shop_secrets configured';
		}
		if ( 401 === $code || 403 === $code ) {
			return 'the daemon refused the signature: the events secret differs from webhooks.shop_secrets, or the clocks differ';
		}
		if ( 503 === $code && 'orders_disabled' === $error ) {
			return 'the signature was accepted, but order events are not enabled in the daemon (orders.enabled); events are kept and retried';
		}
		if ( 404 === $code || 405 === $code ) {
			return 'nothing takes order events at this URL; the daemon URL ends in /webhooks/woocommerce';
		}
		if ( 400 === $code || 422 === $code ) {
			return 'the daemon refused the test event itself; is the daemon Woodoo 0.2 or later?';
		}
		if ( 429 === $code ) {
			return 'the daemon is busy (rate limited); try again in a minute';
		}
		if ( $code >= 300 && $code < 400 ) {
			return 'the daemon URL redirects, and redirects are not followed; enter the final URL';
		}
		if ( $code >= 500 ) {
			return 'the daemon, or a proxy in front of it, failed; see the daemon\'s log';
		}
		return 'an answer the daemon does not give; is the daemon URL right?';
	}

	/**
	 * The "error" code of a JSON answer when it is one of the daemon's short codes, else ''.
	 *
	 * @param array $response wp_remote_post() result.
	 * @return string
	 */
	private static function error_code( $response ) {
		$data = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( is_array( $data ) && isset( $data['error'] ) && is_string( $data['error'] ) && preg_match( '/\A[a-z_]{1,40}\z/', $data['error'] ) ) {
			return $data['error'];
		}
		return '';
	}

	/**
	 * Adds an order note when the order still exists.
	 *
	 * @param array  $row  Stored event.
	 * @param string $note Note.
	 */
	private static function note( array $row, $note ) {
		if ( 'order.deleted' === $row['event'] || ! apply_filters( 'woodoo_companion_order_notes', true, $row ) ) {
			return;
		}
		$order = wc_get_order( (int) $row['order_id'] );
		if ( $order && method_exists( $order, 'add_order_note' ) ) {
			$order->add_order_note( $note );
		}
	}
}

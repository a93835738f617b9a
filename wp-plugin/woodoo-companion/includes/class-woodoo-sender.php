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
	 * wp_remote_post() arguments for a signed body.
	 *
	 * @param string $body     JSON body.
	 * @param string $secret   Secret.
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
				Woodoo_Signer::HEADER => Woodoo_Signer::sign( $body, $secret, $now ),
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
		$url    = Woodoo_Settings::daemon_url();
		$secret = Woodoo_Settings::secret();
		if ( '' === $url || '' === $secret ) {
			$result = array( self::RETRY, 0, 'the daemon URL or the secret is not set (WooCommerce > Settings > Woodoo)' );
		} else {
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
		$url    = Woodoo_Settings::daemon_url();
		$secret = Woodoo_Settings::secret();
		$row    = Woodoo_Queue::find( $event_id );
		if ( '' === $url || '' === $secret || ! $row ) {
			return false;
		}
		$now = time();
		wp_remote_post( $url, self::request_args( self::body( $row['payload'], $now ), $secret, false, $now ) );
		return true;
	}

	/**
	 * Sends a test ping and returns the daemon's answer: array( ok, message ).
	 *
	 * The ping is signed like an event with event "test": the daemon answers 200 when it accepts
	 * the signature and takes order events, 503 when orders are disabled, 401 when the secrets
	 * differ (an older daemon answered 400 on the body, also a sign the signature passed).
	 *
	 * @return array
	 */
	public static function test() {
		$url    = Woodoo_Settings::daemon_url();
		$secret = Woodoo_Settings::secret();
		if ( '' === $url || '' === $secret ) {
			return array( false, __( 'Set the daemon URL and the secret first.', 'woodoo-companion' ) );
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
		$response = wp_remote_post( $url, self::request_args( $body, $secret, true, $now ) );
		if ( is_wp_error( $response ) ) {
			return array( false, 'no answer from ' . $url . ': ' . $response->get_error_message() );
		}
		$code   = (int) wp_remote_retrieve_response_code( $response );
		$answer = self::describe( $code, (string) wp_remote_retrieve_body( $response ) );
		$data   = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( $code >= 200 && $code < 300 ) {
			return array( true, 'the daemon accepted the test event: ' . $answer );
		}
		if ( 400 === $code && is_array( $data ) && isset( $data['error'] ) && 'bad_signature' !== $data['error'] ) {
			return array( true, 'the daemon checked the signature and answered as expected for a test event: ' . $answer );
		}
		if ( 401 === $code ) {
			return array( false, 'the daemon refused the signature: the secret differs from webhooks.secrets, or the clocks differ: ' . $answer );
		}
		if ( 503 === $code && is_array( $data ) && isset( $data['error'] ) && 'orders_disabled' === $data['error'] ) {
			return array( false, 'signature accepted, but order events are not enabled in the daemon (orders.enabled); events are kept and retried: ' . $answer );
		}
		return array( false, 'unexpected answer from ' . $url . ': ' . $answer );
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

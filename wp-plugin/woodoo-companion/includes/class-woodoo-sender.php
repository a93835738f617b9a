<?php
/**
 * Delivers stored events to the daemon (POST /webhooks/woocommerce) and decides what happens next.
 *
 * 2xx: delivered (and the order's older waiting events are superseded). 5xx, 429, timeouts,
 * connection errors (and anything else unexpected): kept and retried after 1 min, 2, 4, then every
 * 5 min, for up to 7 days after the event was queued: a retry is one small request, and a longer
 * wait only delays the sale order once the daemon is back (it also calls the flush route then).
 * Other 4xx: the daemon refuses the event as such; recorded and not retried.
 *
 * Three paths send, and all record the answer the same way (record_result()): the Action
 * Scheduler action (deliver()), the send at the end of the shop's request (send_soon()), and the
 * flush route (Woodoo_Flush_Route). The send at the end of the request reads the answer when the
 * server can hand the response to the visitor first (fastcgi_finish_request() or
 * litespeed_finish_request()), so an event delivered then is not sent again by its action;
 * elsewhere it is sent without waiting and the action sends it again (the daemon answers
 * "duplicate", which counts as delivered).
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Event delivery.
 */
final class Woodoo_Sender {

	const BASE_DELAY = 60;
	const MAX_DELAY  = 300;    // 5 min: 1, 2, 4, 5, 5 ... minutes.
	const MAX_AGE    = 604800; // 7 days.
	const TIMEOUT    = 10;     // Action Scheduler attempt (filter woodoo_companion_timeout).

	const AFTER_RESPONSE_TIMEOUT = 3;  // Each send after the response: the worker is still busy.
	const AFTER_RESPONSE_BUDGET  = 10; // Seconds of such sends per request; the rest go non-blocking.
	const STALE_SLACK            = 5;  // An action this much before its event's next attempt is stale.

	const DELIVERED = 'delivered';
	const RETRY     = 'retry';
	const GIVE_UP   = 'give_up';
	const SKIP      = 'skip';

	/**
	 * Events stored by this request, to send once the response is finished.
	 *
	 * @var string[]
	 */
	private static $after_response = array();

	/**
	 * Whether the after-response send is hooked / has run in this request.
	 *
	 * @var bool
	 */
	private static $after_hooked = false;
	private static $after_done   = false;

	/**
	 * Forgets the request state (tests).
	 */
	public static function reset() {
		self::$after_response = array();
		self::$after_hooked   = false;
		self::$after_done     = false;
	}

	/**
	 * Delay before the next attempt after $failures failed attempts: 60, 120, 240, then 300.
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
	 * @param string   $body     JSON body.
	 * @param string   $secret   Events secret.
	 * @param bool     $blocking Wait for the answer.
	 * @param int      $now      Clock (signature timestamp).
	 * @param int|null $timeout  Seconds for a blocking send (the Action Scheduler's by default).
	 * @return array
	 */
	public static function request_args( $body, $secret, $blocking, $now, $timeout = null ) {
		if ( ! $blocking ) {
			$timeout = 1;
		} elseif ( null === $timeout ) {
			$timeout = (int) apply_filters( 'woodoo_companion_timeout', self::TIMEOUT );
		}
		return array(
			'method'      => 'POST',
			'timeout'     => max( 1, (int) $timeout ),
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
	 * Whether a stored event still waits for delivery.
	 *
	 * @param array|null $row Stored event.
	 * @return bool
	 */
	public static function is_waiting( $row ) {
		return is_array( $row ) && empty( $row['delivered_at'] ) && empty( $row['gave_up_at'] ) && empty( $row['superseded_at'] );
	}

	/**
	 * Action Scheduler callback: one delivery attempt of a stored event.
	 *
	 * An action that runs well before its event's next attempt is stale: the flush route or the
	 * send after the response tried the event meanwhile and scheduled the retry anew; sending now
	 * would be one request more than the backoff allows.
	 *
	 * @param string   $event_id Event id.
	 * @param int|null $now      Clock.
	 * @return string Outcome (delivered, retry, give_up, or skip when nothing to do).
	 */
	public static function deliver( $event_id, $now = null ) {
		$now = null === $now ? time() : (int) $now;
		$row = Woodoo_Queue::find( $event_id );
		if ( ! self::is_waiting( $row ) || ( null !== $row['next_attempt'] && (int) $row['next_attempt'] > $now + self::STALE_SLACK ) ) {
			return self::SKIP;
		}
		return self::attempt( $row, $now, null, true );
	}

	/**
	 * Sends a waiting event now, blocking, and records the answer (flush route, after the response).
	 *
	 * @param string $event_id Event id.
	 * @param int    $now      Clock.
	 * @param int    $timeout  Seconds.
	 * @return string Outcome, or skip when the event no longer waits (delivered, superseded ...).
	 */
	public static function send_now( $event_id, $now, $timeout ) {
		$row = Woodoo_Queue::find( $event_id );
		if ( ! self::is_waiting( $row ) ) {
			return self::SKIP;
		}
		return self::attempt( $row, (int) $now, (int) $timeout, false );
	}

	/**
	 * One blocking attempt of a stored, waiting event, recorded by record_result().
	 *
	 * @param array    $row       Stored event.
	 * @param int      $now       Clock.
	 * @param int|null $timeout   Seconds (null: the Action Scheduler's).
	 * @param bool     $in_action Called from the event's own Action Scheduler action.
	 * @return string Outcome.
	 */
	private static function attempt( array $row, $now, $timeout, $in_action ) {
		$url     = Woodoo_Settings::daemon_url();
		$problem = Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS );
		if ( '' === $url ) {
			$result = array( self::RETRY, 0, 'the daemon URL is not set (WooCommerce > Settings > Woodoo)' );
		} elseif ( null !== $problem ) {
			$result = array( self::RETRY, 0, $problem );
		} else {
			$secret   = Woodoo_Settings::events_secret();
			$body     = self::body( $row['payload'], $now );
			$response = wp_remote_post( $url, self::request_args( $body, $secret, true, $now, $timeout ) );
			$result   = self::classify( $response );
		}
		return self::record_result( $row, $result, $now, $in_action );
	}

	/**
	 * Stores the outcome of an attempt, notes it on the order, schedules the retry.
	 *
	 * @param array $row       Stored event.
	 * @param array $result    self::classify().
	 * @param int   $now       Clock.
	 * @param bool  $in_action Called from the event's own action (else its pending action is replaced).
	 * @return string Outcome.
	 */
	public static function record_result( array $row, array $result, $now, $in_action = true ) {
		list( $outcome, , $message ) = $result;
		$attempts                    = (int) $row['attempts'] + 1;
		$event_id                    = $row['event_id'];
		$event                       = $row['event'];
		if ( self::DELIVERED === $outcome ) {
			Woodoo_Queue::update(
				$event_id,
				array(
					'attempts'        => $attempts,
					'delivered_at'    => $now,
					'last_attempt_at' => $now,
					'next_attempt'    => null,
					'last_error'      => null,
					'superseded_at'   => null, // Acknowledged itself, whatever a newer event did meanwhile.
				)
			);
			if ( isset( $row['id'] ) ) {
				Woodoo_Queue::supersede( (int) $row['order_id'], (int) $row['id'], $now );
			}
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
						'attempts'        => $attempts,
						'next_attempt'    => $next,
						'last_attempt_at' => $now,
						'last_error'      => $message,
					)
				);
				if ( $in_action ) {
					Woodoo_Queue::schedule( $event_id, $next, false );
				} else {
					Woodoo_Queue::reschedule( $event_id, $next );
				}
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
				'attempts'        => $attempts,
				'gave_up_at'      => $now,
				'last_attempt_at' => $now,
				'next_attempt'    => null,
				'last_error'      => $message,
			)
		);
		self::note( $row, $note );
		Woodoo_Queue::log( $note . ' (event ' . $event_id . ', order ' . (int) $row['order_id'] . ')' );
		return self::GIVE_UP;
	}

	/**
	 * Sends the events this request stored as soon as it can without slowing the visitor.
	 *
	 * When the server can finish the response early, they are sent at the very end of the
	 * request, after the response, blocking, and the answer is recorded (a delivered event is then
	 * not sent again by its action). Otherwise each is sent now without waiting for the answer.
	 * Nothing is sent while the URL or the events secret is unusable (the actions record why).
	 *
	 * @param string[] $event_ids Event ids, in the order stored.
	 */
	public static function send_soon( array $event_ids ) {
		if ( '' === Woodoo_Settings::daemon_url() || null !== Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS ) ) {
			return;
		}
		if ( null !== self::finisher() && ! self::$after_done ) {
			self::$after_response = array_merge( self::$after_response, array_values( $event_ids ) );
			if ( ! self::$after_hooked ) {
				self::$after_hooked = true;
				// Last on shutdown, after WooCommerce's own work (its session is saved at 20): once
				// the response is finished nothing can reach the visitor any more.
				add_action( 'shutdown', array( __CLASS__, 'send_after_response' ), 1000, 0 );
			}
			return;
		}
		foreach ( $event_ids as $event_id ) {
			self::send_nonblocking( $event_id );
		}
	}

	/**
	 * The function that hands the response to the visitor and lets PHP go on, or null.
	 *
	 * fastcgi_finish_request() (PHP-FPM) or litespeed_finish_request() (LiteSpeed); filter
	 * woodoo_companion_request_finisher returns another callable, or null to always send without
	 * blocking (e.g. when a shutdown callback of another plugin still prints).
	 *
	 * @return callable|null
	 */
	public static function finisher() {
		$finisher = null;
		foreach ( array( 'fastcgi_finish_request', 'litespeed_finish_request' ) as $function ) {
			if ( function_exists( $function ) ) {
				$finisher = $function;
				break;
			}
		}
		$finisher = apply_filters( 'woodoo_companion_request_finisher', $finisher );
		return is_callable( $finisher ) ? $finisher : null;
	}

	/**
	 * Shutdown, last: finishes the response, then sends this request's events blocking.
	 *
	 * Each send has a short timeout; after a failure to deliver (the daemon is down or busy) the
	 * others are left to their actions, and after AFTER_RESPONSE_BUDGET seconds the rest are sent
	 * without waiting, so a bulk edit of many orders does not hold the worker for long.
	 *
	 * @param callable|null $clock Seconds as a float (tests); microtime by default.
	 * @return array Outcome per event id (sent without blocking: "nonblocking").
	 */
	public static function send_after_response( $clock = null ) {
		self::$after_done     = true;
		$event_ids            = self::$after_response;
		self::$after_response = array();
		$finisher             = self::finisher();
		$outcomes             = array();
		if ( ! $event_ids ) {
			return $outcomes;
		}
		if ( null === $finisher ) {
			foreach ( $event_ids as $event_id ) {
				$outcomes[ $event_id ] = self::send_nonblocking( $event_id ) ? 'nonblocking' : self::SKIP;
			}
			return $outcomes;
		}
		$clock = is_callable( $clock ) ? $clock : 'microtime';
		call_user_func( $finisher );
		$start = (float) call_user_func( $clock, true );
		foreach ( $event_ids as $index => $event_id ) {
			if ( (float) call_user_func( $clock, true ) - $start >= self::AFTER_RESPONSE_BUDGET ) {
				foreach ( array_slice( $event_ids, $index ) as $rest ) {
					$outcomes[ $rest ] = self::send_nonblocking( $rest ) ? 'nonblocking' : self::SKIP;
				}
				break;
			}
			$outcome               = self::send_now( $event_id, time(), self::AFTER_RESPONSE_TIMEOUT );
			$outcomes[ $event_id ] = $outcome;
			if ( self::RETRY === $outcome ) {
				break; // The daemon cannot take events now: the others keep their actions.
			}
		}
		return $outcomes;
	}

	/**
	 * Sends a stored event without waiting for the answer (end of the shop's request, when the
	 * response cannot be finished early). Action Scheduler delivers it again a minute later; the
	 * daemon answers "duplicate" then.
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

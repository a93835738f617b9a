<?php
/**
 * POST /wp-json/woodoo/v1/flush: the daemon asks for the waiting events now (docs/order-events.md §3).
 *
 * The daemon calls it when it starts and after an outage, so a checkout made while it was down
 * reaches it at once instead of at the event's next retry. Authenticated like the stock route:
 * the Woodoo signature over the raw body for the route "POST /woodoo/v1/flush", with the stock
 * secret (the daemon's woocommerce.plugin_secret), each signed request accepted once
 * (Woodoo_Replay).
 *
 * Body {"max_events": 1..500, "request_id": "<32 hex>"} (both optional; 100 events by default;
 * nothing else: the request id makes a flush asked again in the same second, e.g. by a restarted
 * daemon, a new request rather than a replay of the last one). The waiting events are sent
 * oldest first, blocking, each with a short timeout, and each answer is recorded as the Action
 * Scheduler's delivery records it; no new send starts after BUDGET seconds (the request stays
 * well inside PHP's max_execution_time), and none after the first the daemon could not take
 * (5xx, 429, no answer: the rest keep their schedule). Answer 200 {"sent", "delivered", "failed",
 * "waiting"}; a second call sends only what still waits.
 *
 * Refusals, with nothing sent and nothing changed: 503 not_configured (no usable stock secret;
 * or no daemon URL or events secret to send with, checked after the signature), 400 too_large,
 * 401 missing_signature / bad_signature / stale_timestamp, 400 schema (with the field), 409 busy
 * (another flush is running: one at a time, through a lock row in the replay table), 409 replayed,
 * 503 replay_unavailable.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * The flush route.
 */
final class Woodoo_Flush_Route {

	const ROUTE          = '/flush';
	const MAX_BODY       = 1024;
	const MAX_DEPTH      = 2;   // {"max_events": 5} is 2 deep to json_decode (values count).
	const DEFAULT_EVENTS = 100;
	const MAX_EVENTS     = 500;
	const BUDGET         = 20;  // Seconds after which no new send starts.
	const SEND_TIMEOUT   = 5;   // Seconds per send: the daemon answers 202 as soon as it stored the event.
	const LOCK           = 'flush';
	const LOCK_TTL       = 60;  // Longer than BUDGET + SEND_TIMEOUT: a live flush never loses it.

	/**
	 * Adds the hooks.
	 */
	public static function register() {
		add_action( 'rest_api_init', array( __CLASS__, 'register_route' ) );
	}

	/**
	 * Registers the route. Authorisation is the signature, checked over the raw body in handle().
	 */
	public static function register_route() {
		Woodoo_Answer::register( self::ROUTE, array( __CLASS__, 'rest' ) );
	}

	/**
	 * REST callback.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response
	 */
	public static function rest( $request ) {
		return Woodoo_Answer::respond( $request, array( __CLASS__, 'handle' ) );
	}

	/**
	 * The whole request: array( HTTP status, response data ).
	 *
	 * @param string        $body   Raw body.
	 * @param string|null   $header X-Woodoo-Signature.
	 * @param int|null      $now    Clock (unix seconds).
	 * @param callable|null $clock  Seconds as a float, for the time budget (tests); microtime by default.
	 * @return array
	 */
	public static function handle( $body, $header, $now = null, $clock = null ) {
		$now     = null === $now ? time() : (int) $now;
		$problem = Woodoo_Settings::secret_problem( Woodoo_Settings::STOCK );
		if ( null !== $problem ) {
			return Woodoo_Answer::error( 503, 'not_configured', $problem . '; the flush route refuses every call until it is set' );
		}
		$body = is_string( $body ) ? $body : '';
		if ( strlen( $body ) > self::MAX_BODY ) {
			return Woodoo_Answer::error( 400, 'too_large', 'body larger than ' . self::MAX_BODY . ' bytes' );
		}
		$signed = Woodoo_Signer::inspect( $body, $header, array( Woodoo_Settings::stock_secret() ), Woodoo_Signer::PLUGIN_FLUSH, $now );
		if ( isset( $signed['code'] ) ) {
			return Woodoo_Answer::error( 401, $signed['code'], $signed['message'] );
		}
		$max = self::validate( $body );
		if ( is_array( $max ) ) {
			return Woodoo_Answer::error( 400, 'schema', $max['error'], $max['field'] );
		}
		// After the signature: only the daemon learns how the plugin is configured.
		if ( '' === Woodoo_Settings::daemon_url() ) {
			return Woodoo_Answer::error( 503, 'not_configured', 'the daemon URL is not set (WooCommerce > Settings > Woodoo); no event can be sent' );
		}
		$events_problem = Woodoo_Settings::secret_problem( Woodoo_Settings::EVENTS );
		if ( null !== $events_problem ) {
			return Woodoo_Answer::error( 503, 'not_configured', $events_problem . '; no event can be sent' );
		}
		// The lock before the replay memory: a refused call (busy) leaves no trace at all.
		$lock = Woodoo_Replay::lock( self::LOCK, $now, self::LOCK_TTL );
		if ( Woodoo_Replay::NO_MEMORY === $lock ) {
			return self::replay_unavailable();
		}
		if ( 0 === $lock ) {
			return Woodoo_Answer::error( 409, 'busy', 'another flush is running and sends the waiting events; call again when it has answered' );
		}
		try {
			$memory = Woodoo_Replay::claim( Woodoo_Replay::digest( $signed['timestamp'], Woodoo_Signer::PLUGIN_FLUSH, $body ), $signed['timestamp'], $now );
			if ( Woodoo_Replay::REPLAYED === $memory ) {
				return Woodoo_Answer::error( 409, 'replayed', 'replayed request: this signed request was already accepted; sign each request anew' );
			}
			if ( Woodoo_Replay::FIRST !== $memory ) {
				return self::replay_unavailable();
			}
			return array( 200, self::run( $max, $now, $clock ) );
		} finally {
			Woodoo_Replay::unlock( self::LOCK, $lock );
		}
	}

	/**
	 * Sends up to $max waiting events, oldest first, within the time budget.
	 *
	 * @param int           $max   At most this many sends.
	 * @param int           $now   Clock at the start (unix seconds).
	 * @param callable|null $clock Seconds as a float.
	 * @return array The answer: sent, delivered, failed, waiting.
	 */
	public static function run( $max, $now, $clock = null ) {
		$clock  = is_callable( $clock ) ? $clock : 'microtime';
		$start  = (float) call_user_func( $clock, true );
		$budget = self::budget();
		$counts = array(
			'sent'      => 0,
			'delivered' => 0,
			'failed'    => 0,
		);
		foreach ( Woodoo_Queue::waiting_ids( $max ) as $event_id ) {
			$elapsed = (float) call_user_func( $clock, true ) - $start;
			if ( $elapsed >= $budget ) {
				break;
			}
			// An event may have stopped waiting since the list was read: superseded by a newer
			// event of its order delivered just before, or delivered by its own action.
			$outcome = Woodoo_Sender::send_now( $event_id, $now + (int) $elapsed, self::SEND_TIMEOUT );
			if ( Woodoo_Sender::SKIP === $outcome ) {
				continue;
			}
			++$counts['sent'];
			++$counts[ Woodoo_Sender::DELIVERED === $outcome ? 'delivered' : 'failed' ];
			if ( Woodoo_Sender::RETRY === $outcome ) {
				break; // The daemon cannot take events now: the rest keep their schedule.
			}
		}
		$counts['waiting'] = Woodoo_Queue::waiting_count();
		return $counts;
	}

	/**
	 * Seconds after which no new send starts: BUDGET, less when PHP's max_execution_time is short
	 * (the last send may take SEND_TIMEOUT more, and WordPress needs a moment to answer).
	 *
	 * @param int|null $limit max_execution_time in seconds (0: none); PHP's setting by default.
	 * @return int
	 */
	public static function budget( $limit = null ) {
		$limit = null === $limit ? (int) ini_get( 'max_execution_time' ) : (int) $limit;
		if ( $limit <= 0 ) {
			return self::BUDGET;
		}
		return max( 1, min( self::BUDGET, $limit - self::SEND_TIMEOUT - 5 ) );
	}

	/**
	 * max_events from a body, or array( 'error' => ..., 'field' => ... ).
	 *
	 * Decoded to objects, so a list is not taken for an object; max_events must be a JSON integer
	 * from 1 to MAX_EVENTS (floats, strings, booleans and null are refused, not converted),
	 * request_id 32 lowercase hex digits; any other key is refused, and messages never echo the
	 * input (not even a key's name).
	 *
	 * @param string $body Raw body.
	 * @return int|array
	 */
	public static function validate( $body ) {
		$data = json_decode( $body, false, self::MAX_DEPTH );
		if ( ! $data instanceof stdClass ) {
			return Woodoo_Answer::invalid( '(body)', 'expected a JSON object {"max_events": 1..' . self::MAX_EVENTS . '} (or {}), at most ' . self::MAX_DEPTH . ' levels deep' );
		}
		$keys = array_keys( get_object_vars( $data ) );
		if ( array_diff( $keys, array( 'max_events', 'request_id' ) ) ) {
			return Woodoo_Answer::invalid( '(body)', 'only the keys max_events and request_id are accepted' );
		}
		if ( property_exists( $data, 'request_id' ) && ! ( is_string( $data->request_id ) && preg_match( '/\A[0-9a-f]{32}\z/', $data->request_id ) ) ) {
			return Woodoo_Answer::invalid( 'request_id', 'request_id must be 32 lowercase hex digits' );
		}
		if ( ! property_exists( $data, 'max_events' ) ) {
			return self::DEFAULT_EVENTS;
		}
		$max = $data->max_events;
		if ( ! is_int( $max ) || $max < 1 || $max > self::MAX_EVENTS ) {
			return Woodoo_Answer::invalid( 'max_events', 'max_events must be an integer from 1 to ' . self::MAX_EVENTS );
		}
		return $max;
	}

	/**
	 * 503 replay_unavailable.
	 *
	 * @return array
	 */
	private static function replay_unavailable() {
		return Woodoo_Answer::error( 503, 'replay_unavailable', 'the replay memory (table woodoo_replay) cannot be written; deactivate and activate the plugin to create it' );
	}
}

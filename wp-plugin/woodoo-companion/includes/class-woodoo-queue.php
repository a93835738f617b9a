<?php
/**
 * Durable event store ({prefix}woodoo_events) and delivery scheduling (Action Scheduler).
 *
 * Hooks record events during a request; the order snapshot is taken at the end of the request
 * ("shutdown"), because WooCommerce fires woocommerce_new_order before a CLI/REST-created order has
 * its lines, and several hooks of one checkout see intermediate states. Deleted orders are
 * snapshotted at once (they are gone by the end of the request). Each stored event gets a UUID
 * that never changes, then an Action Scheduler action delivers it; the sender reschedules it on
 * failure. A recurring sweep reschedules events whose action was lost.
 *
 * An event is waiting until the daemon acknowledged it (2xx), refused it (4xx) or it is 7 days
 * old, or until a newer event of the same order was acknowledged: every event carries the whole
 * order and the daemon ignores snapshots older than the one it has, so the older event is then
 * superseded and never sent again.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Event storage and scheduling.
 */
final class Woodoo_Queue {

	const HOOK          = 'woodoo_companion_deliver';
	const SWEEP_HOOK    = 'woodoo_companion_sweep';
	const GROUP         = 'woodoo';
	const DB_VERSION    = '3'; // 2: the stock route's replay memory (Woodoo_Replay); 3: superseded_at, last_attempt_at.
	const DB_OPTION     = 'woodoo_companion_db_version';
	const FALLBACK_SECS = 60;   // Action Scheduler attempt after the immediate one.
	const KEEP_DAYS     = 30;   // Delivered / abandoned / superseded events are pruned after this.

	// Not yet acknowledged, refused, given up or superseded: the one definition of "waiting".
	const WAITING = 'delivered_at IS NULL AND gave_up_at IS NULL AND superseded_at IS NULL';

	/**
	 * Events recorded during this request, waiting for the end-of-request snapshot.
	 *
	 * @var array[]
	 */
	private static $buffer = array();

	/**
	 * Last status transition seen per order in this request: array( from, to ).
	 *
	 * @var array
	 */
	private static $transitions = array();

	/**
	 * Restock flag per refund id, captured from woocommerce_refund_created.
	 *
	 * @var bool[]
	 */
	private static $restock = array();

	/**
	 * Whether the end-of-request flush is hooked / has run.
	 *
	 * @var bool
	 */
	private static $hooked  = false;
	private static $flushed = false;

	/**
	 * Event ids stored by this request (tests, and the immediate send).
	 *
	 * @var string[]
	 */
	public static $stored = array();

	/**
	 * The events table.
	 *
	 * @return string
	 */
	public static function table() {
		global $wpdb;
		return $wpdb->prefix . 'woodoo_events';
	}

	/**
	 * Creates or upgrades the tables (activation, and on load after an update).
	 */
	public static function install() {
		global $wpdb;
		$table   = self::table();
		$charset = $wpdb->get_charset_collate();
		$sql     = "CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  event_id char(36) NOT NULL,
  event varchar(40) NOT NULL,
  order_id bigint(20) unsigned NOT NULL DEFAULT 0,
  payload longtext NOT NULL,
  attempts int(10) unsigned NOT NULL DEFAULT 0,
  created_at bigint(20) unsigned NOT NULL,
  next_attempt bigint(20) unsigned NULL,
  last_attempt_at bigint(20) unsigned NULL,
  last_error text NULL,
  delivered_at bigint(20) unsigned NULL,
  gave_up_at bigint(20) unsigned NULL,
  superseded_at bigint(20) unsigned NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY event_id (event_id),
  KEY order_id (order_id),
  KEY waiting (delivered_at,gave_up_at,next_attempt)
) {$charset};";
		if ( ! function_exists( 'dbDelta' ) ) {
			require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		}
		dbDelta( array( $sql, Woodoo_Replay::schema( $charset ) ) );
		update_option( self::DB_OPTION, self::DB_VERSION, false );
	}

	/**
	 * Installs the table when the stored schema version differs (plugin updated without activation).
	 */
	public static function maybe_install() {
		if ( get_option( self::DB_OPTION ) !== self::DB_VERSION ) {
			self::install();
		}
	}

	/**
	 * Forgets the request state (tests).
	 */
	public static function reset() {
		self::$buffer      = array();
		self::$transitions = array();
		self::$restock     = array();
		self::$hooked      = false;
		self::$flushed     = false;
		self::$stored      = array();
	}

	/**
	 * Notes a status transition (used for previous_status in the end-of-request snapshot).
	 *
	 * @param int    $order_id Order id.
	 * @param string $from     Old status.
	 * @param string $to       New status.
	 */
	public static function transition( $order_id, $from, $to ) {
		self::$transitions[ (int) $order_id ] = array( (string) $from, (string) $to );
	}

	/**
	 * Remembers whether a refund restocked its items.
	 *
	 * @param int  $refund_id Refund id.
	 * @param bool $restock   Restock flag.
	 */
	public static function remember_restock( $refund_id, $restock ) {
		self::$restock[ (int) $refund_id ] = (bool) $restock;
	}

	/**
	 * Records an event of this request.
	 *
	 * @param string $event    Event name.
	 * @param int    $order_id Order id.
	 * @param array  $context  previous_status, refund_id, status (snapshot override), order (prebuilt).
	 */
	public static function record( $event, $order_id, array $context = array() ) {
		$order_id = (int) $order_id;
		if ( $order_id <= 0 ) {
			return;
		}
		$key = implode( '|', array( $event, $order_id, isset( $context['previous_status'] ) ? $context['previous_status'] : '', isset( $context['refund_id'] ) ? $context['refund_id'] : '' ) );
		foreach ( self::$buffer as $entry ) {
			if ( $entry['key'] === $key ) {
				return; // Same event seen through two hooks (e.g. trash via WordPress and WooCommerce).
			}
		}
		if ( 'order.deleted' === $event && ! isset( $context['order'] ) ) {
			$order = wc_get_order( $order_id );
			if ( ! self::is_shop_order( $order ) ) {
				return;
			}
			$context['order'] = Woodoo_Payload::order( $order, $order->get_status(), isset( $context['status'] ) ? $context['status'] : 'trash' );
		}
		self::$buffer[] = array(
			'key'      => $key,
			'event'    => $event,
			'order_id' => $order_id,
			'context'  => $context,
		);
		if ( self::$flushed ) {
			self::flush(); // Recorded after the end-of-request flush (e.g. by another shutdown callback).
		} elseif ( ! self::$hooked ) {
			self::$hooked = true;
			add_action( 'shutdown', array( __CLASS__, 'flush' ), 5 );
		}
	}

	/**
	 * Whether $order is a real shop order (not a refund, subscription, placeholder).
	 *
	 * @param mixed $order Order or anything.
	 * @return bool
	 */
	public static function is_shop_order( $order ) {
		return is_object( $order ) && method_exists( $order, 'get_type' ) && 'shop_order' === $order->get_type();
	}

	/**
	 * Snapshots and stores the recorded events, schedules them, and sends them at once
	 * (Woodoo_Sender::send_soon(): after the response when the server can finish it early, else
	 * without blocking).
	 *
	 * @return string[] Event ids stored.
	 */
	public static function flush() {
		self::$flushed = true;
		$buffer        = self::$buffer;
		self::$buffer  = array();
		$ids           = array();
		foreach ( $buffer as $entry ) {
			try {
				$payload = self::snapshot( $entry );
				if ( null !== $payload ) {
					$ids[] = self::store( $payload );
				}
			} catch ( Throwable $error ) {
				// Never break the shop's request; the error is logged for the admin.
				self::log( sprintf( 'could not queue %s for order %d: %s', $entry['event'], $entry['order_id'], $error->getMessage() ) );
			}
		}
		if ( $ids && apply_filters( 'woodoo_companion_send_immediately', true ) ) {
			Woodoo_Sender::send_soon( $ids );
		}
		return $ids;
	}

	/**
	 * The event payload of a recorded entry, or null when the order is gone.
	 *
	 * @param array $entry Buffer entry.
	 * @return array|null
	 */
	private static function snapshot( array $entry ) {
		$context  = $entry['context'];
		$order_id = $entry['order_id'];
		if ( isset( $context['order'] ) ) {
			$order_payload = $context['order'];
		} else {
			$order = wc_get_order( $order_id );
			if ( ! self::is_shop_order( $order ) ) {
				return null;
			}
			$previous = isset( $context['previous_status'] ) ? $context['previous_status'] : null;
			if ( null === $previous && isset( self::$transitions[ $order_id ] ) ) {
				list( $from, $to ) = self::$transitions[ $order_id ];
				$previous          = Woodoo_Payload::status( $to ) === Woodoo_Payload::status( $order->get_status() ) ? $from : null;
			}
			$order_payload = Woodoo_Payload::order( $order, $previous );
		}
		$refund = null;
		if ( 'order.refunded' === $entry['event'] && ! empty( $context['refund_id'] ) ) {
			$refund_object = wc_get_order( (int) $context['refund_id'] );
			if ( $refund_object ) {
				$restock = isset( self::$restock[ (int) $context['refund_id'] ] ) ? self::$restock[ (int) $context['refund_id'] ] : false;
				$refund  = Woodoo_Payload::refund( $refund_object, $restock );
			}
		}
		return Woodoo_Payload::event( Woodoo_Payload::uuid(), $entry['event'], $order_payload, $refund, home_url() );
	}

	/**
	 * Stores an event and schedules its delivery.
	 *
	 * @param array    $payload Event payload (with its event_id).
	 * @param int|null $now     Clock.
	 * @return string The event id.
	 */
	public static function store( array $payload, $now = null ) {
		global $wpdb;
		$now = null === $now ? time() : (int) $now;
		$ok  = $wpdb->insert(
			self::table(),
			array(
				'event_id'     => $payload['event_id'],
				'event'        => $payload['event'],
				'order_id'     => (int) $payload['order']['id'],
				'payload'      => self::encode( $payload ),
				'attempts'     => 0,
				'created_at'   => $now,
				'next_attempt' => $now + self::FALLBACK_SECS,
			),
			array( '%s', '%s', '%d', '%s', '%d', '%d', '%d' )
		);
		if ( false === $ok ) {
			throw new RuntimeException( 'database error: ' . $wpdb->last_error );
		}
		self::schedule( $payload['event_id'], $now + self::FALLBACK_SECS, true );
		self::$stored[] = $payload['event_id'];
		return $payload['event_id'];
	}

	/**
	 * Schedules one delivery attempt of an event.
	 *
	 * Action Scheduler 3.x's "unique" compares hook and group only (not args), so it would let one
	 * pending event block all others; 4.0 also compares args. So: an exact as_has_scheduled_action()
	 * check for new events, unique only on 4.0+, and never from inside the running action (a retry
	 * would be suppressed by the running action itself).
	 *
	 * @param string $event_id  Event id.
	 * @param int    $timestamp When.
	 * @param bool   $fresh     True for a new event, false for a retry from the running action.
	 * @return int Action id (0 when not scheduled).
	 */
	public static function schedule( $event_id, $timestamp, $fresh ) {
		if ( ! function_exists( 'as_schedule_single_action' ) ) {
			return 0;
		}
		$args = array( (string) $event_id );
		if ( $fresh && function_exists( 'as_has_scheduled_action' ) && as_has_scheduled_action( self::HOOK, $args, self::GROUP ) ) {
			return 0;
		}
		$unique = $fresh && self::unique_supported();
		return (int) as_schedule_single_action( (int) $timestamp, self::HOOK, $args, self::GROUP, $unique );
	}

	/**
	 * Moves an event's delivery to $timestamp from outside its own action (the flush route, the
	 * send after the response): the pending action is replaced, so the event keeps one.
	 *
	 * @param string $event_id  Event id.
	 * @param int    $timestamp When.
	 * @return int Action id (0 when not scheduled).
	 */
	public static function reschedule( $event_id, $timestamp ) {
		if ( function_exists( 'as_unschedule_all_actions' ) ) {
			as_unschedule_all_actions( self::HOOK, array( (string) $event_id ), self::GROUP );
		}
		return self::schedule( $event_id, $timestamp, false );
	}

	/**
	 * Whether the loaded Action Scheduler compares args for unique actions (4.0+).
	 *
	 * @return bool
	 */
	public static function unique_supported() {
		if ( class_exists( 'ActionScheduler_Versions' ) && method_exists( 'ActionScheduler_Versions', 'instance' ) ) {
			$version = ActionScheduler_Versions::instance()->latest_version();
			return is_string( $version ) && version_compare( $version, '4.0.0', '>=' );
		}
		return false;
	}

	/**
	 * Makes sure the recurring sweep exists (on init).
	 */
	public static function ensure_sweep() {
		if ( function_exists( 'as_has_scheduled_action' ) && function_exists( 'as_schedule_recurring_action' )
			&& ! as_has_scheduled_action( self::SWEEP_HOOK, array(), self::GROUP ) ) {
			as_schedule_recurring_action( time() + 300, 15 * MINUTE_IN_SECONDS, self::SWEEP_HOOK, array(), self::GROUP );
		}
	}

	/**
	 * Reschedules overdue events whose action was lost, and prunes old finished events.
	 *
	 * @param int|null $now Clock.
	 * @return int Events rescheduled.
	 */
	public static function sweep( $now = null ) {
		global $wpdb;
		$now   = null === $now ? time() : (int) $now;
		$table = self::table();
		$ids   = $wpdb->get_col( $wpdb->prepare( "SELECT event_id FROM {$table} WHERE " . self::WAITING . ' AND next_attempt <= %d ORDER BY next_attempt LIMIT 100', $now - 300 ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$count = 0;
		foreach ( (array) $ids as $event_id ) {
			$count += self::schedule( $event_id, $now, true ) ? 1 : 0;
		}
		$cutoff = $now - self::KEEP_DAYS * DAY_IN_SECONDS;
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE (delivered_at IS NOT NULL AND delivered_at < %d) OR (gave_up_at IS NOT NULL AND gave_up_at < %d) OR (superseded_at IS NOT NULL AND superseded_at < %d)", $cutoff, $cutoff, $cutoff ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $count;
	}

	/**
	 * One stored event.
	 *
	 * @param string $event_id Event id.
	 * @return array|null
	 */
	public static function find( $event_id ) {
		global $wpdb;
		$table = self::table();
		$row   = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$table} WHERE event_id = %s", $event_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $row ? $row : null;
	}

	/**
	 * Updates a stored event.
	 *
	 * @param string $event_id Event id.
	 * @param array  $fields   Columns.
	 */
	public static function update( $event_id, array $fields ) {
		global $wpdb;
		$wpdb->update( self::table(), $fields, array( 'event_id' => $event_id ) );
	}

	/**
	 * Events waiting for delivery: not acknowledged by the daemon, not refused, not given up, not
	 * superseded by a newer acknowledged event of their order.
	 *
	 * @return int
	 */
	public static function waiting_count() {
		global $wpdb;
		$table = self::table();
		return (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$table} WHERE " . self::WAITING ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * What the settings page says about the waiting events.
	 *
	 * @return array array( 'waiting' => int, 'oldest' => created_at of the oldest or null,
	 *               'last_error' => the error of the most recent failed attempt or null ).
	 */
	public static function waiting_summary() {
		global $wpdb;
		$table = self::table();
		$row   = $wpdb->get_row( "SELECT COUNT(*) AS waiting, MIN(created_at) AS oldest FROM {$table} WHERE " . self::WAITING, ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$count = is_array( $row ) ? (int) $row['waiting'] : 0;
		$error = null;
		if ( $count > 0 ) {
			$error = $wpdb->get_var( "SELECT last_error FROM {$table} WHERE " . self::WAITING . ' AND last_error IS NOT NULL ORDER BY last_attempt_at DESC, id DESC LIMIT 1' ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		}
		return array(
			'waiting'    => $count,
			'oldest'     => $count > 0 && null !== $row['oldest'] ? (int) $row['oldest'] : null,
			'last_error' => null === $error ? null : (string) $error,
		);
	}

	/**
	 * Ids of waiting events, oldest first (the flush route).
	 *
	 * @param int $limit At most this many.
	 * @return string[]
	 */
	public static function waiting_ids( $limit ) {
		global $wpdb;
		$table = self::table();
		return array_map( 'strval', (array) $wpdb->get_col( $wpdb->prepare( "SELECT event_id FROM {$table} WHERE " . self::WAITING . ' ORDER BY id LIMIT %d', max( 1, (int) $limit ) ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Marks the waiting events of an order stored before $event_row_id as superseded.
	 *
	 * Called when the daemon acknowledged the event $event_row_id: it carries the whole order as
	 * of then, the daemon keeps the newest snapshot and ignores older ones, so sending the older
	 * events would change nothing there; here they would only be counted as waiting.
	 *
	 * @param int $order_id     Order id.
	 * @param int $event_row_id Table id of the acknowledged event.
	 * @param int $now          Clock.
	 * @return int Events superseded.
	 */
	public static function supersede( $order_id, $event_row_id, $now ) {
		global $wpdb;
		$table = self::table();
		$rows  = $wpdb->query( $wpdb->prepare( "UPDATE {$table} SET superseded_at = %d, next_attempt = NULL WHERE order_id = %d AND id < %d AND " . self::WAITING, (int) $now, (int) $order_id, (int) $event_row_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return false === $rows ? 0 : (int) $rows;
	}

	/**
	 * JSON as sent: UTF-8 unescaped, slashes unescaped.
	 *
	 * @param array $data Data.
	 * @return string
	 */
	public static function encode( array $data ) {
		$flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE;
		$json  = function_exists( 'wp_json_encode' ) ? wp_json_encode( $data, $flags ) : json_encode( $data, $flags );
		if ( false === $json ) {
			throw new RuntimeException( 'payload is not encodable as JSON' );
		}
		return $json;
	}

	/**
	 * Logs through WooCommerce's logger when present.
	 *
	 * @param string $message Message.
	 */
	public static function log( $message ) {
		if ( function_exists( 'wc_get_logger' ) ) {
			wc_get_logger()->warning( $message, array( 'source' => 'woodoo-companion' ) );
		}
	}
}

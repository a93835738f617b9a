<?php
/**
 * Order hooks: which WooCommerce/WordPress actions become which events (docs/order-events.md).
 *
 * Recorded on WooCommerce 11: woocommerce_new_order fires on every creation path (classic and
 * block checkout, REST, admin, CLI), but on wc_create_order() before the lines are added, so the
 * snapshot is taken at the end of the request (Woodoo_Queue::flush).
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Hook wiring.
 */
final class Woodoo_Hooks {

	/**
	 * Adds the hooks.
	 */
	public static function register() {
		add_action( 'woocommerce_new_order', array( __CLASS__, 'created' ), 10, 1 );
		add_action( 'woocommerce_order_status_changed', array( __CLASS__, 'status_changed' ), 10, 3 );
		add_action( 'woocommerce_payment_complete', array( __CLASS__, 'paid' ), 10, 1 );
		add_action( 'woocommerce_refund_created', array( __CLASS__, 'refund_created' ), 10, 2 );
		add_action( 'woocommerce_order_refunded', array( __CLASS__, 'refunded' ), 10, 2 );
		// HPOS and WooCommerce's own deletion paths ($order->delete()).
		add_action( 'woocommerce_before_trash_order', array( __CLASS__, 'trashed' ), 10, 1 );
		add_action( 'woocommerce_before_delete_order', array( __CLASS__, 'deleted' ), 10, 1 );
		// Posts storage through WordPress (wp-admin posts list, wp_trash_post(), wp_delete_post()).
		add_action( 'wp_trash_post', array( __CLASS__, 'post_trashed' ), 10, 1 );
		add_action( 'before_delete_post', array( __CLASS__, 'post_deleted' ), 10, 1 );
		add_action( Woodoo_Queue::HOOK, array( 'Woodoo_Sender', 'deliver' ), 10, 1 );
		add_action( Woodoo_Queue::SWEEP_HOOK, array( 'Woodoo_Queue', 'sweep' ), 10, 0 );
	}

	/**
	 * The order was created (woocommerce_new_order).
	 *
	 * @param int $order_id Order id.
	 */
	public static function created( $order_id ) {
		Woodoo_Queue::record( 'order.created', $order_id );
	}

	/**
	 * Every status change; → cancelled is sent as order.cancelled.
	 *
	 * @param int    $order_id Order id.
	 * @param string $from     Old status (no wc- prefix).
	 * @param string $to       New status.
	 */
	public static function status_changed( $order_id, $from, $to ) {
		Woodoo_Queue::transition( $order_id, $from, $to );
		$event = 'cancelled' === Woodoo_Payload::status( $to ) ? 'order.cancelled' : 'order.status_changed';
		Woodoo_Queue::record( $event, $order_id, array( 'previous_status' => Woodoo_Payload::status( $from ) ) );
	}

	/**
	 * Payment completed (woocommerce_payment_complete).
	 *
	 * @param int $order_id Order id.
	 */
	public static function paid( $order_id ) {
		Woodoo_Queue::record( 'order.paid', $order_id );
	}

	/**
	 * Remembers whether a refund restocked (only its creation arguments say so).
	 *
	 * @param int   $refund_id Refund id.
	 * @param array $args      wc_create_refund() arguments.
	 */
	public static function refund_created( $refund_id, $args = array() ) {
		Woodoo_Queue::remember_restock( $refund_id, is_array( $args ) && ! empty( $args['restock_items'] ) );
	}

	/**
	 * A full or partial refund (woocommerce_order_refunded).
	 *
	 * @param int $order_id  Order id.
	 * @param int $refund_id Refund id.
	 */
	public static function refunded( $order_id, $refund_id ) {
		Woodoo_Queue::record( 'order.refunded', $order_id, array( 'refund_id' => (int) $refund_id ) );
	}

	/**
	 * Trashed through WooCommerce.
	 *
	 * @param int $order_id Order id.
	 */
	public static function trashed( $order_id ) {
		Woodoo_Queue::record( 'order.deleted', $order_id, array( 'status' => 'trash' ) );
	}

	/**
	 * Deleted through WooCommerce.
	 *
	 * @param int $order_id Order id.
	 */
	public static function deleted( $order_id ) {
		Woodoo_Queue::record( 'order.deleted', $order_id, array( 'status' => 'deleted' ) );
	}

	/**
	 * Trashed through WordPress (posts storage).
	 *
	 * @param int $post_id Post id.
	 */
	public static function post_trashed( $post_id ) {
		if ( self::is_order_post( $post_id ) ) {
			self::trashed( $post_id );
		}
	}

	/**
	 * Deleted through WordPress (posts storage).
	 *
	 * @param int $post_id Post id.
	 */
	public static function post_deleted( $post_id ) {
		if ( self::is_order_post( $post_id ) ) {
			self::deleted( $post_id );
		}
	}

	/**
	 * Whether a post is a shop order (not the HPOS placeholder, not a refund).
	 *
	 * @param int $post_id Post id.
	 * @return bool
	 */
	private static function is_order_post( $post_id ) {
		return 'shop_order' === get_post_type( $post_id );
	}
}

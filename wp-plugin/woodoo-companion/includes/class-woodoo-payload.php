<?php
/**
 * Builds the order event payload of docs/order-events.md from a WC_Order (and a refund).
 *
 * The daemon validates strictly (no extra keys, ints as ints, strings never null), so every
 * field has a defined type here: missing strings become "", quantities become ints.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Payload building.
 */
final class Woodoo_Payload {

	const EVENTS = array( 'order.created', 'order.status_changed', 'order.paid', 'order.cancelled', 'order.refunded', 'order.deleted' );

	/**
	 * The whole current order.
	 *
	 * @param WC_Order    $order           Order.
	 * @param string|null $previous_status Status before the last change, when known.
	 * @param string|null $status          Status to report instead of the order's (e.g. "trash").
	 * @return array
	 */
	public static function order( $order, $previous_status = null, $status = null ) {
		$lines = array();
		foreach ( $order->get_items( 'line_item' ) as $item_id => $item ) {
			$line_id = (int) ( method_exists( $item, 'get_id' ) && $item->get_id() ? $item->get_id() : $item_id );
			$product = $item->get_product();
			$lines[] = array(
				'line_id'           => $line_id,
				'product_id'        => (int) $item->get_product_id(),
				'variation_id'      => (int) $item->get_variation_id(),
				'sku'               => $product ? substr( (string) $product->get_sku(), 0, 100 ) : '',
				'quantity'          => max( 0, (int) round( (float) $item->get_quantity() ) ),
				'refunded_quantity' => max( 0, (int) round( abs( (float) $order->get_qty_refunded_for_item( $line_id ) ) ) ),
			);
		}
		$modified = $order->get_date_modified();
		if ( ! $modified ) {
			$modified = $order->get_date_created();
		}
		$number = (string) $order->get_order_number();
		return array(
			'id'              => (int) $order->get_id(),
			'number'          => '' === $number ? (string) $order->get_id() : $number,
			'status'          => self::status( null === $status ? $order->get_status() : $status ),
			'previous_status' => null === $previous_status || '' === $previous_status ? null : self::status( $previous_status ),
			'date_modified'   => self::utc( $modified ),
			'currency'        => (string) $order->get_currency(),
			'customer'        => array(
				'email'      => (string) $order->get_billing_email(),
				'first_name' => (string) $order->get_billing_first_name(),
				'last_name'  => (string) $order->get_billing_last_name(),
			),
			'lines'           => $lines,
		);
	}

	/**
	 * A refund: id, amount, restock and the refunded quantity per original line.
	 *
	 * @param WC_Order_Refund $refund  Refund.
	 * @param bool            $restock Whether the refunded items went back to stock.
	 * @return array
	 */
	public static function refund( $refund, $restock ) {
		$lines = array();
		foreach ( $refund->get_items( 'line_item' ) as $item ) {
			$line_id = (int) $item->get_meta( '_refunded_item_id' );
			$qty     = (int) round( abs( (float) $item->get_quantity() ) );
			if ( $line_id > 0 && $qty > 0 ) {
				$lines[] = array(
					'line_id'  => $line_id,
					'quantity' => $qty,
				);
			}
		}
		return array(
			'id'      => (int) $refund->get_id(),
			'amount'  => (string) $refund->get_amount(),
			'restock' => (bool) $restock,
			'lines'   => $lines,
		);
	}

	/**
	 * The event envelope (sent_at is set by the sender on each attempt).
	 *
	 * @param string     $event_id  UUID made when the event was queued.
	 * @param string     $event     One of self::EVENTS.
	 * @param array      $order     self::order().
	 * @param array|null $refund    self::refund() for order.refunded.
	 * @param string     $store_url The shop's home URL.
	 * @return array
	 */
	public static function event( $event_id, $event, array $order, $refund, $store_url ) {
		if ( ! in_array( $event, self::EVENTS, true ) ) {
			throw new InvalidArgumentException( "unknown event {$event}" );
		}
		return array(
			'event_id'  => (string) $event_id,
			'event'     => $event,
			'store_url' => (string) $store_url,
			'sent_at'   => null,
			'order'     => $order,
			'refund'    => $refund,
		);
	}

	/**
	 * WooCommerce status without the "wc-" prefix.
	 *
	 * @param string $status Status.
	 * @return string
	 */
	public static function status( $status ) {
		$status = (string) $status;
		return 0 === strpos( $status, 'wc-' ) ? substr( $status, 3 ) : $status;
	}

	/**
	 * A date (WC_DateTime, DateTimeInterface, unix seconds) as "YYYY-MM-DDTHH:MM:SSZ" in UTC.
	 *
	 * @param mixed $date Date.
	 * @return string
	 */
	public static function utc( $date ) {
		if ( $date instanceof DateTimeInterface ) {
			$timestamp = $date->getTimestamp();
		} elseif ( is_numeric( $date ) ) {
			$timestamp = (int) $date;
		} else {
			$timestamp = time();
		}
		return gmdate( 'Y-m-d\TH:i:s\Z', $timestamp );
	}

	/**
	 * A random (version 4) UUID.
	 *
	 * @return string
	 */
	public static function uuid() {
		if ( function_exists( 'wp_generate_uuid4' ) ) {
			return wp_generate_uuid4();
		}
		$bytes    = random_bytes( 16 );
		$bytes[6] = chr( ord( $bytes[6] ) & 0x0f | 0x40 );
		$bytes[8] = chr( ord( $bytes[8] ) & 0x3f | 0x80 );
		return vsprintf( '%s%s-%s-%s-%s-%s%s%s', str_split( bin2hex( $bytes ), 4 ) );
	}
}

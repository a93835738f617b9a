<?php
/**
 * Minimal stand-ins for the WordPress / WooCommerce / Action Scheduler functions and classes the
 * plugin's classes call, recording what they are asked to do. Not a WordPress: what only a real
 * WordPress shows (hook order, SQL semantics, Action Scheduler runs) is out of reach here.
 *
 * @package WoodooCompanion
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'MINUTE_IN_SECONDS', 60 );
define( 'HOUR_IN_SECONDS', 3600 );
define( 'DAY_IN_SECONDS', 86400 );
define( 'ARRAY_A', 'ARRAY_A' );
define( 'WOODOO_REPO_ROOT', dirname( __DIR__, 2 ) );
// The plugin's own version, read from its header as WordPress reads it (the main file, which
// defines it, is not loaded here).
preg_match( '/^ \* Version:\s+(\S+)$/m', (string) file_get_contents( dirname( __DIR__ ) . '/woodoo-companion/woodoo-companion.php' ), $woodoo_header );
define( 'WOODOO_COMPANION_VERSION', $woodoo_header[1] );

/** Resets every recorder between tests. */
function woodoo_test_reset() {
	$GLOBALS['wp_actions']        = array();
	$GLOBALS['wp_done_actions']   = array();
	$GLOBALS['wp_options']        = array();
	$GLOBALS['wp_transients']     = array();
	$GLOBALS['wp_http_requests']  = array();
	$GLOBALS['wp_http_responses'] = array();
	$GLOBALS['as_actions']        = array();
	$GLOBALS['as_pending']        = array();
	$GLOBALS['as_unscheduled']    = array();
	$GLOBALS['wc_orders']         = array();
	$GLOBALS['wc_products']       = array();
	$GLOBALS['wc_transients_cleared'] = array();
	$GLOBALS['wp_post_types']     = array();
	$GLOBALS['wp_dbdelta']        = array();
	$GLOBALS['wc_log']            = array();
	$GLOBALS['wpdb']              = new Fake_WPDB();
	$GLOBALS['wp_caps']           = array( 'manage_options' => true, 'manage_woocommerce' => true );
	WC_Admin_Settings::$errors    = array();
	Woodoo_Queue::reset();
	Woodoo_Sender::reset();
}

// ---- hooks ---------------------------------------------------------------------------------
function add_action( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['wp_actions'][ $hook ][] = array( $callback, $priority, $args );
	return true;
}
function add_filter( $hook, $callback, $priority = 10, $args = 1 ) {
	return add_action( $hook, $callback, $priority, $args );
}
function do_action( $hook, ...$args ) {
	$GLOBALS['wp_done_actions'][] = array( $hook, $args );
	foreach ( isset( $GLOBALS['wp_actions'][ $hook ] ) ? $GLOBALS['wp_actions'][ $hook ] : array() as $entry ) {
		call_user_func_array( $entry[0], array_slice( $args, 0, $entry[2] ) );
	}
}
function apply_filters( $hook, $value, ...$args ) {
	foreach ( isset( $GLOBALS['wp_actions'][ $hook ] ) ? $GLOBALS['wp_actions'][ $hook ] : array() as $entry ) {
		$value = call_user_func_array( $entry[0], array_slice( array_merge( array( $value ), $args ), 0, $entry[2] ) );
	}
	return $value;
}
function has_action_callback( $hook, $callback ) {
	foreach ( isset( $GLOBALS['wp_actions'][ $hook ] ) ? $GLOBALS['wp_actions'][ $hook ] : array() as $entry ) {
		if ( $entry[0] === $callback ) {
			return true;
		}
	}
	return false;
}

function __return_null() {
	return null;
}
function __return_true() {
	return true;
}
function __return_false() {
	return false;
}

// ---- options, i18n, escaping ---------------------------------------------------------------
function get_option( $name, $default = false ) {
	return array_key_exists( $name, $GLOBALS['wp_options'] ) ? $GLOBALS['wp_options'][ $name ] : $default;
}
function update_option( $name, $value, $autoload = null ) {
	$GLOBALS['wp_options'][ $name ] = $value;
	return true;
}
function delete_option( $name ) {
	unset( $GLOBALS['wp_options'][ $name ] );
	return true;
}
function get_transient( $name ) {
	return isset( $GLOBALS['wp_transients'][ $name ] ) ? $GLOBALS['wp_transients'][ $name ] : false;
}
function set_transient( $name, $value, $ttl = 0 ) {
	$GLOBALS['wp_transients'][ $name ] = $value;
	return true;
}
function delete_transient( $name ) {
	unset( $GLOBALS['wp_transients'][ $name ] );
	return true;
}
function __( $text, $domain = null ) {
	return $text;
}
function esc_html__( $text, $domain = null ) {
	return esc_html( $text );
}
function _n( $single, $plural, $n, $domain = null ) {
	return 1 === (int) $n ? $single : $plural;
}
function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_attr( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_url( $url ) {
	return htmlspecialchars( (string) $url, ENT_QUOTES, 'UTF-8' );
}
function esc_url_raw( $url, $protocols = null ) {
	return (string) $url;
}
function wp_parse_url( $url, $component = -1 ) {
	return parse_url( $url, $component );
}
function wp_strip_all_tags( $text ) {
	return strip_tags( (string) $text );
}
function wp_unslash( $value ) {
	return is_string( $value ) ? stripslashes( $value ) : $value;
}
function wp_json_encode( $data, $flags = 0, $depth = 512 ) {
	return json_encode( $data, $flags, $depth );
}
function home_url( $path = '' ) {
	return 'https://shop.example.com' . $path;
}
function admin_url( $path = '' ) {
	return 'https://shop.example.com/wp-admin/' . $path;
}
/** Local time as WordPress shows it; the tests' site is on UTC. */
function wp_date( $format, $timestamp = null ) {
	return gmdate( $format, null === $timestamp ? time() : (int) $timestamp );
}
function get_current_user_id() {
	return 1;
}
/** The current user's capabilities: an administrator unless a test says otherwise. */
function current_user_can( $capability ) {
	return ! empty( $GLOBALS['wp_caps'][ $capability ] );
}
/** Records the settings page's error notices. */
class WC_Admin_Settings {
	public static $errors = array();
	public static function add_error( $message ) {
		self::$errors[] = $message;
	}
}
/** Records the schema dbDelta() is asked for. */
function dbDelta( $queries = '', $execute = true ) {
	$GLOBALS['wp_dbdelta'][] = (array) $queries;
	return array();
}
function get_post_type( $post_id ) {
	return isset( $GLOBALS['wp_post_types'][ $post_id ] ) ? $GLOBALS['wp_post_types'][ $post_id ] : false;
}
function wp_cache_delete( $key, $group = '' ) {
	return true;
}
function clean_post_cache( $post_id ) {
}

// ---- HTTP --------------------------------------------------------------------------------------
class WP_Error {
	private $code;
	private $message;
	public function __construct( $code = '', $message = '' ) {
		$this->code    = $code;
		$this->message = $message;
	}
	public function get_error_message() {
		return $this->message;
	}
	public function get_error_code() {
		return $this->code;
	}
}
function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}
/**
 * Records the request; answers with the next scripted response (202 queued by default). A
 * scripted callable is called with the URL and arguments and answers (e.g. a second request
 * arriving while this one is in flight).
 */
function wp_remote_post( $url, $args = array() ) {
	$GLOBALS['wp_http_requests'][] = array(
		'url'  => $url,
		'args' => $args,
	);
	if ( $GLOBALS['wp_http_responses'] ) {
		$response = array_shift( $GLOBALS['wp_http_responses'] );
		return $response instanceof Closure ? $response( $url, $args ) : $response;
	}
	return woodoo_http( 202, '{"status":"queued"}' );
}
function woodoo_http( $code, $body = '' ) {
	return array(
		'response' => array( 'code' => $code ),
		'body'     => $body,
		'headers'  => array(),
	);
}
function wp_remote_retrieve_response_code( $response ) {
	return is_array( $response ) ? $response['response']['code'] : '';
}
function wp_remote_retrieve_body( $response ) {
	return is_array( $response ) ? $response['body'] : '';
}

// ---- Action Scheduler --------------------------------------------------------------------------
function as_schedule_single_action( $timestamp, $hook, $args = array(), $group = '', $unique = false ) {
	$GLOBALS['as_actions'][] = compact( 'timestamp', 'hook', 'args', 'group', 'unique' );
	$GLOBALS['as_pending'][] = array( $hook, $args, $group );
	return count( $GLOBALS['as_actions'] );
}
function as_enqueue_async_action( $hook, $args = array(), $group = '', $unique = false ) {
	return as_schedule_single_action( time(), $hook, $args, $group, $unique );
}
function as_has_scheduled_action( $hook, $args = null, $group = '' ) {
	foreach ( $GLOBALS['as_pending'] as $pending ) {
		if ( $pending[0] === $hook && ( null === $args || $pending[1] === $args ) && ( '' === $group || $pending[2] === $group ) ) {
			return true;
		}
	}
	return false;
}
function as_schedule_recurring_action( $timestamp, $interval, $hook, $args = array(), $group = '' ) {
	return as_schedule_single_action( $timestamp, $hook, $args, $group );
}
/** Cancels the pending actions of a hook (and args, when given); recorded in as_unscheduled. */
function as_unschedule_all_actions( $hook, $args = array(), $group = '' ) {
	foreach ( $GLOBALS['as_pending'] as $index => $pending ) {
		if ( $pending[0] === $hook && ( array() === $args || $pending[1] === $args ) && ( '' === $group || $pending[2] === $group ) ) {
			unset( $GLOBALS['as_pending'][ $index ] );
			$GLOBALS['as_unscheduled'][] = $pending;
		}
	}
	$GLOBALS['as_pending'] = array_values( $GLOBALS['as_pending'] );
}

// ---- WooCommerce -------------------------------------------------------------------------------
function wc_get_order( $id ) {
	return isset( $GLOBALS['wc_orders'][ $id ] ) ? $GLOBALS['wc_orders'][ $id ] : false;
}
function wc_get_product( $id ) {
	return isset( $GLOBALS['wc_products'][ $id ] ) ? $GLOBALS['wc_products'][ $id ] : null;
}
function wc_delete_product_transients( $id ) {
	$GLOBALS['wc_transients_cleared'][] = $id;
}
function wc_get_logger() {
	return new class() {
		public function warning( $message, $context = array() ) {
			$GLOBALS['wc_log'][] = $message;
		}
	};
}

/** A product or variation. */
class WC_Product {
	public $data;
	public $saved = 0;
	public function __construct( array $data ) {
		$this->data = $data + array(
			'id'           => 0,
			'sku'          => '',
			'parent_id'    => 0,
			'type'         => 'simple',
			'manage_stock' => true,
			'managed_by'   => null,
			'stock'        => null,
			'stock_status' => 'instock',
		);
	}
	public function get_id() {
		return $this->data['id'];
	}
	public function get_sku() {
		return $this->data['sku'];
	}
	public function get_parent_id() {
		return $this->data['parent_id'];
	}
	public function is_type( $type ) {
		return $this->data['type'] === $type;
	}
	public function managing_stock() {
		return (bool) $this->data['manage_stock'];
	}
	public function get_stock_managed_by_id() {
		return null === $this->data['managed_by'] ? $this->data['id'] : $this->data['managed_by'];
	}
	public function get_stock_quantity() {
		return $this->data['stock'];
	}
	public function get_stock_status() {
		return $this->data['stock_status'];
	}
	/** Like WooCommerce's validate_props(): the status follows the figure. */
	public function save() {
		++$this->saved;
		if ( null !== $this->data['stock'] ) {
			$this->data['stock_status'] = $this->data['stock'] > 0 ? 'instock' : 'outofstock';
		}
		return $this->data['id'];
	}
}

/** An order line. */
class WC_Order_Item_Product {
	public $data;
	public function __construct( array $data ) {
		$this->data = $data + array(
			'id'           => 0,
			'product_id'   => 0,
			'variation_id' => 0,
			'quantity'     => 1,
			'meta'         => array(),
		);
	}
	public function get_id() {
		return $this->data['id'];
	}
	public function get_product_id() {
		return $this->data['product_id'];
	}
	public function get_variation_id() {
		return $this->data['variation_id'];
	}
	public function get_quantity() {
		return $this->data['quantity'];
	}
	public function get_meta( $key ) {
		return isset( $this->data['meta'][ $key ] ) ? $this->data['meta'][ $key ] : '';
	}
	public function get_product() {
		$id = $this->data['variation_id'] ? $this->data['variation_id'] : $this->data['product_id'];
		return wc_get_product( $id );
	}
}

/** An order, built from an array shaped like the recorded REST order bodies. */
class WC_Order {
	public $data;
	public $notes = array();
	public function __construct( array $data ) {
		$this->data = $data + array(
			'type'          => 'shop_order',
			'number'        => null,
			'status'        => 'pending',
			'currency'      => 'EUR',
			'date_modified' => null,
			'date_created'  => '2026-11-23T13:42:04Z',
			'billing'       => array(),
			'line_items'    => array(),
			'refunded'      => array(),
			'amount'        => '0.00',
		);
	}
	public function get_id() {
		return $this->data['id'];
	}
	public function get_type() {
		return $this->data['type'];
	}
	public function get_order_number() {
		return null === $this->data['number'] ? (string) $this->data['id'] : $this->data['number'];
	}
	public function get_status() {
		return $this->data['status'];
	}
	public function get_currency() {
		return $this->data['currency'];
	}
	public function get_date_modified() {
		return $this->data['date_modified'] ? new DateTimeImmutable( $this->data['date_modified'] ) : null;
	}
	public function get_date_created() {
		return new DateTimeImmutable( $this->data['date_created'] );
	}
	public function get_billing_email() {
		return isset( $this->data['billing']['email'] ) ? $this->data['billing']['email'] : '';
	}
	public function get_billing_first_name() {
		return isset( $this->data['billing']['first_name'] ) ? $this->data['billing']['first_name'] : '';
	}
	public function get_billing_last_name() {
		return isset( $this->data['billing']['last_name'] ) ? $this->data['billing']['last_name'] : '';
	}
	public function get_items( $type = 'line_item' ) {
		$items = array();
		foreach ( $this->data['line_items'] as $line ) {
			$items[ $line['id'] ] = new WC_Order_Item_Product( $line );
		}
		return $items;
	}
	/** WooCommerce answers a negative number (refunded quantities are stored negative). */
	public function get_qty_refunded_for_item( $item_id, $type = 'line_item' ) {
		return isset( $this->data['refunded'][ $item_id ] ) ? -$this->data['refunded'][ $item_id ] : 0;
	}
	public function get_amount() {
		return $this->data['amount'];
	}
	public function add_order_note( $note ) {
		$this->notes[] = $note;
		return count( $this->notes );
	}
}

/** A refund: lines carry _refunded_item_id and negative quantities. */
class WC_Order_Refund extends WC_Order {
	public function __construct( array $data ) {
		parent::__construct( $data + array( 'type' => 'shop_order_refund' ) );
	}
}

/**
 * $wpdb: records queries, keeps the events and replay tables in memory, answers scripted results.
 *
 * Queries on the events table are evaluated (SELECT and UPDATE with a WHERE of conditions joined
 * by AND: "col IS [NOT] NULL", "col <op> number|'string'"; ORDER BY; LIMIT; COUNT(*) and MIN());
 * a script for the method wins. A query it cannot evaluate fails the test, so a query the plugin
 * changes is not silently answered with a default.
 */
class Fake_WPDB {
	public $prefix     = 'wp_';
	public $postmeta   = 'wp_postmeta';
	public $last_error = '';
	public $queries    = array();
	/** @var array Scripted results per method: 'query' => [1, 0], 'get_var' => ['7']. */
	public $script = array();
	/** @var array In-memory rows per table. */
	public $tables = array();

	public function get_charset_collate() {
		return 'DEFAULT CHARSET=utf8mb4';
	}
	public function prepare( $query, ...$args ) {
		if ( 1 === count( $args ) && is_array( $args[0] ) ) {
			$args = $args[0];
		}
		$i = 0;
		return preg_replace_callback(
			'/%[dsfF]/',
			function ( $m ) use ( &$i, $args ) {
				$value = $args[ $i++ ];
				switch ( $m[0] ) {
					case '%d':
						return (string) (int) $value;
					case '%f':
					case '%F':
						return sprintf( '%F', $value );
					default:
						return "'" . addslashes( (string) $value ) . "'";
				}
			},
			$query
		);
	}
	private function scripted( $method, $default ) {
		if ( ! empty( $this->script[ $method ] ) ) {
			return array_shift( $this->script[ $method ] );
		}
		return $default;
	}
	/** @var bool Make the replay memory's INSERT fail, as with a missing table. */
	public $replay_broken = false;

	public function query( $sql ) {
		$this->queries[] = $sql;
		if ( empty( $this->script['query'] ) && preg_match( '/^UPDATE (wp_woodoo_events) SET (.+?) WHERE (.+)$/s', $sql, $m ) ) {
			return $this->evaluate_update( $m[1], $m[2], $m[3] );
		}
		// The flush route's lock: released by its digest and expiry.
		if ( preg_match( "/^DELETE FROM (\\S+) WHERE digest = '([0-9a-f]{64})' AND expires_at = (\\d+)$/", $sql, $m ) ) {
			if ( isset( $this->tables[ $m[1] ][ $m[2] ] ) && (int) $m[3] === $this->tables[ $m[1] ][ $m[2] ]['expires_at'] ) {
				unset( $this->tables[ $m[1] ][ $m[2] ] );
				return 1;
			}
			return 0;
		}
		// The replay memory: a table with a unique digest, as INSERT IGNORE / DELETE see it.
		if ( preg_match( "/^INSERT IGNORE INTO (\\S+) \\(digest, expires_at\\) VALUES \\('([0-9a-f]{64})', (\\d+)\\)$/", $sql, $m ) ) {
			if ( $this->replay_broken ) {
				$this->last_error = "Table '{$m[1]}' doesn't exist";
				return false;
			}
			if ( isset( $this->tables[ $m[1] ][ $m[2] ] ) ) {
				return 0;
			}
			$this->tables[ $m[1] ][ $m[2] ] = array( 'digest' => $m[2], 'expires_at' => (int) $m[3] );
			return 1;
		}
		if ( preg_match( '/^DELETE FROM (\\S+) WHERE expires_at < (\\d+)$/', $sql, $m ) ) {
			$before                 = $this->rows( $m[1] );
			$this->tables[ $m[1] ] = array_filter( $before, function ( $r ) use ( $m ) {
				return $r['expires_at'] >= (int) $m[2];
			} );
			return count( $before ) - count( $this->tables[ $m[1] ] );
		}
		$rows            = $this->scripted( 'query', 1 );
		// A successful stock write shows in the product read afterwards, as in the database.
		if ( $rows && preg_match( "/^UPDATE wp_postmeta SET meta_value = '(-?\\d+)' WHERE post_id = (\\d+)/", $sql, $m ) && isset( $GLOBALS['wc_products'][ (int) $m[2] ] ) ) {
			$GLOBALS['wc_products'][ (int) $m[2] ]->data['stock'] = (int) $m[1];
		}
		return $rows;
	}
	public function get_var( $sql ) {
		$this->queries[] = $sql;
		if ( empty( $this->script['get_var'] ) && null !== ( $rows = $this->evaluate_select( $sql ) ) ) {
			return $rows ? reset( $rows[0] ) : null;
		}
		return $this->scripted( 'get_var', null );
	}
	public function get_col( $sql ) {
		$this->queries[] = $sql;
		if ( empty( $this->script['get_col'] ) && null !== ( $rows = $this->evaluate_select( $sql ) ) ) {
			return array_map(
				function ( $row ) {
					return reset( $row );
				},
				$rows
			);
		}
		return $this->scripted( 'get_col', array() );
	}
	public function get_row( $sql, $output = null ) {
		$this->queries[] = $sql;
		if ( empty( $this->script['get_row'] ) && null !== ( $rows = $this->evaluate_select( $sql ) ) ) {
			return $rows ? $rows[0] : null;
		}
		return $this->scripted( 'get_row', null );
	}
	/** @var int[] Last auto-increment id per table. */
	public $auto_increment = array();

	public function insert( $table, $data, $format = null ) {
		$this->queries[] = 'INSERT ' . $table;
		$this->auto_increment[ $table ] = ( isset( $this->auto_increment[ $table ] ) ? $this->auto_increment[ $table ] : 0 ) + 1;
		$data = array( 'id' => $this->auto_increment[ $table ] ) + $data + array(
			'last_attempt_at' => null,
			'last_error'      => null,
			'delivered_at'    => null,
			'gave_up_at'      => null,
			'superseded_at'   => null,
		);
		$this->tables[ $table ][] = $data;
		return 1;
	}

	/** Rows a SELECT on the events table answers (projected), or null when it is not one. */
	private function evaluate_select( $sql ) {
		if ( ! preg_match( '/^SELECT (.+?) FROM (wp_woodoo_events)(?: WHERE (.+?))?(?: ORDER BY (.+?))?(?: LIMIT (\d+))?$/s', $sql, $m ) ) {
			return null;
		}
		$rows = array_values( $this->where( $m[2], isset( $m[3] ) ? $m[3] : '' ) );
		if ( ! empty( $m[4] ) ) {
			$order = array_map( 'trim', explode( ',', $m[4] ) );
			usort(
				$rows,
				function ( $a, $b ) use ( $order ) {
					foreach ( $order as $key ) {
						$desc = (bool) preg_match( '/ DESC$/', $key );
						$col  = preg_replace( '/ (ASC|DESC)$/', '', $key );
						$x    = isset( $a[ $col ] ) ? $a[ $col ] : null;
						$y    = isset( $b[ $col ] ) ? $b[ $col ] : null;
						$cmp  = null === $x ? ( null === $y ? 0 : -1 ) : ( null === $y ? 1 : $x <=> $y ); // MySQL: NULL first ascending.
						if ( 0 !== $cmp ) {
							return $desc ? -$cmp : $cmp;
						}
					}
					return 0;
				}
			);
		}
		if ( ! empty( $m[5] ) ) {
			$rows = array_slice( $rows, 0, (int) $m[5] );
		}
		$columns = array_map( 'trim', explode( ',', $m[1] ) );
		if ( preg_match( '/\b(COUNT|MIN|MAX)\(/', $m[1] ) ) {
			$out = array();
			foreach ( $columns as $column ) {
				if ( ! preg_match( '/^(COUNT|MIN|MAX)\((\*|\w+)\)(?: AS (\w+))?$/', $column, $c ) ) {
					throw new LogicException( 'Fake_WPDB cannot evaluate the column ' . $column );
				}
				$values = 'COUNT' === $c[1] ? array() : array_filter( array_column( $rows, $c[2] ), 'is_numeric' );
				$value  = 'COUNT' === $c[1] ? count( $rows ) : ( $values ? ( 'MIN' === $c[1] ? min( $values ) : max( $values ) ) : null );
				$out[ isset( $c[3] ) ? $c[3] : $column ] = $value;
			}
			return array( $out );
		}
		if ( array( '*' ) === $columns ) {
			return $rows;
		}
		return array_map(
			function ( $row ) use ( $columns ) {
				$out = array();
				foreach ( $columns as $column ) {
					$out[ $column ] = isset( $row[ $column ] ) ? $row[ $column ] : null;
				}
				return $out;
			},
			$rows
		);
	}

	/** UPDATE table SET col = value, ... WHERE ...: the number of rows changed. */
	private function evaluate_update( $table, $set, $where ) {
		$values = array();
		foreach ( array_map( 'trim', explode( ',', $set ) ) as $assignment ) {
			if ( ! preg_match( "/^(\w+) = (NULL|-?\d+|'[^']*')$/", $assignment, $a ) ) {
				throw new LogicException( 'Fake_WPDB cannot evaluate SET ' . $assignment );
			}
			$values[ $a[1] ] = 'NULL' === $a[2] ? null : ( "'" === $a[2][0] ? substr( $a[2], 1, -1 ) : (int) $a[2] );
		}
		$count = 0;
		foreach ( array_keys( $this->where( $table, $where ) ) as $index ) {
			$this->tables[ $table ][ $index ] = array_merge( $this->tables[ $table ][ $index ], $values );
			++$count;
		}
		return $count;
	}

	/** Rows of $table (keyed by position) matching conditions joined by AND. */
	private function where( $table, $where ) {
		$conditions = '' === trim( $where ) ? array() : preg_split( '/\s+AND\s+/', trim( $where ) );
		$rows       = array();
		foreach ( $this->rows( $table ) as $index => $row ) {
			foreach ( $conditions as $condition ) {
				if ( ! self::matches( $row, $condition ) ) {
					continue 2;
				}
			}
			$rows[ $index ] = $row;
		}
		return $rows;
	}

	private static function matches( array $row, $condition ) {
		if ( preg_match( '/^(\w+) IS (NOT )?NULL$/', $condition, $c ) ) {
			$value = isset( $row[ $c[1] ] ) ? $row[ $c[1] ] : null;
			return empty( $c[2] ) ? null === $value : null !== $value;
		}
		if ( preg_match( "/^(\w+) (=|<|<=|>|>=) (?:'([^']*)'|(-?\d+))$/", $condition, $c ) ) {
			$value = isset( $row[ $c[1] ] ) ? $row[ $c[1] ] : null;
			if ( null === $value ) {
				return false; // NULL compares to nothing.
			}
			$other = isset( $c[4] ) && '' !== $c[4] ? (int) $c[4] : $c[3];
			$cmp   = is_int( $other ) ? (int) $value <=> $other : strcmp( (string) $value, $other );
			switch ( $c[2] ) {
				case '=':
					return 0 === $cmp;
				case '<':
					return $cmp < 0;
				case '<=':
					return $cmp <= 0;
				case '>':
					return $cmp > 0;
				default:
					return $cmp >= 0;
			}
		}
		throw new LogicException( 'Fake_WPDB cannot evaluate the condition ' . $condition );
	}
	public function update( $table, $data, $where ) {
		$this->queries[] = 'UPDATE ' . $table;
		$count           = 0;
		foreach ( $this->rows( $table ) as $index => $row ) {
			if ( array_intersect_assoc( $where, $row ) == $where ) { // phpcs:ignore
				$this->tables[ $table ][ $index ] = array_merge( $row, $data );
				++$count;
			}
		}
		return $count;
	}
	public function rows( $table ) {
		return isset( $this->tables[ $table ] ) ? $this->tables[ $table ] : array();
	}
}

/** REST stand-ins. */
class WP_REST_Request {
	private $body;
	private $headers;
	public function __construct( $body, array $headers = array() ) {
		$this->body    = $body;
		$this->headers = array_change_key_case( $headers, CASE_LOWER );
	}
	public function get_body() {
		return $this->body;
	}
	public function get_header( $name ) {
		$name = strtolower( str_replace( '_', '-', $name ) );
		return isset( $this->headers[ $name ] ) ? $this->headers[ $name ] : null;
	}
}
class WP_REST_Response {
	public $data;
	public $status;
	public $headers = array();
	public function __construct( $data = null, $status = 200 ) {
		$this->data   = $data;
		$this->status = $status;
	}
	public function header( $name, $value ) {
		$this->headers[ $name ] = $value;
	}
}

$woodoo_includes = dirname( __DIR__ ) . '/woodoo-companion/includes/';
foreach ( array( 'signer', 'payload', 'queue', 'sender', 'settings', 'compat', 'status', 'hooks', 'replay', 'answer', 'stock-route', 'flush-route', 'plugin' ) as $woodoo_class ) {
	require_once $woodoo_includes . 'class-woodoo-' . $woodoo_class . '.php';
}

/** Shop fixtures shaped like the WooCommerce 11 recordings (order 41/42, products 11, 12, 31/33). */
function woodoo_fixture_shop() {
	$GLOBALS['wc_products'][11] = new WC_Product( array( 'id' => 11, 'sku' => 'SKU-0001', 'stock' => 9 ) );
	$GLOBALS['wc_products'][12] = new WC_Product( array( 'id' => 12, 'sku' => 'SKU-0002', 'stock' => 17 ) );
	$GLOBALS['wc_products'][31] = new WC_Product( array( 'id' => 31, 'sku' => 'TSH', 'type' => 'variable', 'manage_stock' => false ) );
	$GLOBALS['wc_products'][33] = new WC_Product( array( 'id' => 33, 'sku' => 'TSH-M-BLU', 'type' => 'variation', 'parent_id' => 31, 'stock' => 24 ) );
	$GLOBALS['wc_products'][34] = new WC_Product( array( 'id' => 34, 'sku' => 'TSH-L-BLU', 'type' => 'variation', 'parent_id' => 31, 'managed_by' => 31 ) );
}

/** Order 41 of the recordings (REST set_paid): SKU-0002 x3 and the T-shirt variation x2. */
function woodoo_fixture_order( array $overrides = array() ) {
	$order = new WC_Order(
		$overrides + array(
			'id'            => 41,
			'status'        => 'processing',
			'date_modified' => '2026-11-23T14:42:04+01:00',
			'billing'       => array(
				'email'      => 'rest@example.test',
				'first_name' => 'Rest',
				'last_name'  => 'Ünïcode',
			),
			'line_items'    => array(
				array( 'id' => 6, 'product_id' => 12, 'variation_id' => 0, 'quantity' => 3 ),
				array( 'id' => 7, 'product_id' => 31, 'variation_id' => 33, 'quantity' => 2 ),
			),
		)
	);
	$GLOBALS['wc_orders'][ $order->get_id() ] = $order;
	return $order;
}

woodoo_test_reset();

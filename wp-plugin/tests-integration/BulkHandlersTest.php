<?php
/**
 * The bulk write with what WooCommerce 11.0.1 hangs on its actions (the handlers below do what
 * ReportsSync::clear_stock_count_cache, WC_Brands::invalidate_wc_layered_nav_counts_cache,
 * wc_clear_term_product_ids and WC_Post_Data::delete_product_query_transients do): the
 * statements those handlers repeat for nothing are not sent (Woodoo_Bulk_Quiet), and every row
 * and every action is the same as when they are (the filter woodoo_bulk_quiet off).
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.DB

/**
 * Handlers on the bulk write's actions.
 */
class BulkHandlersTest extends Woodoo_IT_TestCase {

	// What WooCommerce 11.0.1's handlers delete on every woocommerce_update_product.
	const SHOP_WIDE = array( 'wc_admin_stock_count_lowstock', 'wc_admin_product_count', 'wc_admin_stock_count_instock', 'wc_admin_stock_count_outofstock', 'wc_admin_stock_count_onbackorder', 'wc_layered_nav_counts_product_brand' );

	/**
	 * The handlers, hooked as WooCommerce hooks them.
	 */
	protected function setUp(): void {
		parent::setUp();
		add_action( 'woocommerce_update_product', array( __CLASS__, 'clear_counts' ) );
		add_action( 'set_object_terms', array( __CLASS__, 'clear_term_product_ids' ), 10, 6 );
		foreach ( array( 'set_object_terms', 'deleted_term_relationships', 'woocommerce_product_set_visibility', 'woocommerce_product_set_stock_status' ) as $action ) {
			add_action( $action, array( __CLASS__, 'bump_query_version' ) );
		}
	}

	/**
	 * Unhooks them.
	 */
	protected function tearDown(): void {
		remove_action( 'woocommerce_update_product', array( __CLASS__, 'clear_counts' ) );
		remove_action( 'set_object_terms', array( __CLASS__, 'clear_term_product_ids' ), 10 );
		foreach ( array( 'set_object_terms', 'deleted_term_relationships', 'woocommerce_product_set_visibility', 'woocommerce_product_set_stock_status' ) as $action ) {
			remove_action( $action, array( __CLASS__, 'bump_query_version' ) );
		}
		remove_all_filters( 'woodoo_bulk_quiet' );
		remove_all_actions( 'woocommerce_update_product', 20 );
		remove_all_actions( 'woocommerce_update_product', 30 );
		parent::tearDown();
	}

	/**
	 * A signed bulk write: array( status, data, statements sent to the database ).
	 *
	 * @param array $items Items.
	 * @return array
	 */
	private function counted_write( array $items ) {
		global $wpdb;
		$before               = $wpdb->num_queries; // Counts what reaches the database only.
		list( $status, $data ) = $this->write( $items );
		return array( $status, $data, $wpdb->num_queries - $before );
	}

	/**
	 * As ReportsSync::clear_stock_count_cache() and WC_Brands do.
	 */
	public static function clear_counts() {
		foreach ( self::SHOP_WIDE as $name ) {
			delete_transient( $name );
		}
	}

	/**
	 * As wc_clear_term_product_ids() does (term_taxonomy ids passed as term ids, as it does).
	 *
	 * @param int    $object_id  Object.
	 * @param array  $terms      Terms.
	 * @param array  $tt_ids     Term taxonomy ids.
	 * @param string $taxonomy   Taxonomy.
	 * @param bool   $append     Append.
	 * @param array  $old_tt_ids Old term taxonomy ids.
	 */
	public static function clear_term_product_ids( $object_id, $terms, $tt_ids, $taxonomy, $append, $old_tt_ids ) {
		foreach ( array_merge( $old_tt_ids, $tt_ids ) as $term_id ) {
			delete_term_meta( $term_id, 'product_ids' );
		}
	}

	/**
	 * As WC_Post_Data::delete_product_query_transients() does.
	 */
	public static function bump_query_version() {
		WC_Cache_Helper::get_transient_version( 'product_query', true );
	}

	/**
	 * Products 501.. at these figures, out of stock at 0 (with the visibility term), the
	 * shop-wide transients stored, and "product_ids" term meta on the outofstock term.
	 *
	 * @param int $count Products.
	 * @return array Items taking each from 0 to 7.
	 */
	private static function seed( $count ) {
		$products = array();
		$items    = array();
		for ( $id = 501; $id < 501 + $count; $id++ ) {
			$products[] = array(
				'id'     => $id,
				'type'   => 'simple',
				'meta'   => array(
					'_sku'          => 'SKU-' . $id,
					'_manage_stock' => 'yes',
					'_stock'        => '0',
					'_stock_status' => 'outofstock',
					'_backorders'   => 'no',
				),
				'terms'  => array( array( 'product_visibility', 'outofstock' ) ),
				'lookup' => array(
					'sku'            => 'SKU-' . $id,
					'stock_quantity' => 0,
					'stock_status'   => 'outofstock',
				),
			);
			$items[]    = array(
				'id'       => $id,
				'expected' => 0,
				'quantity' => 7,
			);
		}
		Woodoo_IT_Catalog::seed( $products );
		$names = array();
		foreach ( self::SHOP_WIDE as $name ) {
			$names[] = '_transient_' . $name;
			$names[] = '_transient_timeout_' . $name;
		}
		self::seed_transients( $names );
		$tt = Woodoo_IT_Catalog::term_taxonomy_ids()['product_visibility/outofstock'];
		delete_term_meta( $tt, 'product_ids' );
		add_term_meta( $tt, 'product_ids', array( 501 ) );
		wp_cache_flush();
		return $items;
	}

	/**
	 * What the tables hold after a write: products, transients, the term meta, the term count.
	 *
	 * @param int $count Products.
	 * @return array
	 */
	private static function tables( $count ) {
		global $wpdb;
		$products = array();
		for ( $id = 501; $id < 501 + $count; $id++ ) {
			$products[ $id ] = array( self::meta( $id ), self::lookup( $id ), self::terms( $id ) );
		}
		$tt = Woodoo_IT_Catalog::term_taxonomy_ids()['product_visibility/outofstock'];
		return array(
			'products'   => $products,
			'transients' => array_values( array_diff( self::stored_transients(), array( '_transient_product_query-transient-version', '_transient_product-transient-version' ) ) ),
			'term_meta'  => $wpdb->get_col( $wpdb->prepare( "SELECT meta_key FROM {$wpdb->termmeta} WHERE term_id = %d", $tt ) ),
			'term_count' => self::term_count( 'product_visibility', 'outofstock' ),
		);
	}

	/**
	 * The hooks run, but the 'query' filter (its count is the count of statements) and those of
	 * a cache version's UPDATE (whether a bump writes depends on whether the second turned, in
	 * either mode).
	 *
	 * @return string[]
	 */
	private function actions() {
		$hooks = array();
		foreach ( $this->hooks as $hook ) {
			if ( ! in_array( $hook, array( 'query', 'update_option', 'updated_option', 'setted_transient', 'pre_get_col_charset', 'alloptions' ), true ) && false === strpos( $hook, '-transient-version' ) ) {
				$hooks[] = $hook;
			}
		}
		return $hooks;
	}

	/**
	 * The same write with and without the statements left unsent: the same rows, the same
	 * actions; the handlers' lookups and bumps cost a few statements per request, not per item.
	 */
	public function test_same_rows_and_actions_with_far_fewer_statements() {
		$count = 300;
		$this->write( array() ); // WordPress's REST server starts up on its first call: not compared.
		add_filter( 'woodoo_bulk_quiet', '__return_false' );
		list( $status, $loud, $loud_sent ) = $this->counted_write( self::seed( $count ) );
		$this->assertSame( 200, $status );
		$loud_tables  = self::tables( $count );
		$loud_actions = $this->actions();

		remove_all_filters( 'woodoo_bulk_quiet' );
		Woodoo_IT_Catalog::wipe();
		list( $status, $quiet, $sent ) = $this->counted_write( self::seed( $count ) );
		$this->assertSame( 200, $status );
		$this->assertSame( $loud['results'], $quiet['results'] );
		$this->assertSame( $loud_tables, self::tables( $count ) );
		$this->assertSame( array(), $loud_tables['transients'], 'the handlers deleted the stored transients' );
		$this->assertSame( array(), $loud_tables['term_meta'], 'and the term meta' );
		$this->assertSame( $loud_actions, $this->actions() );
		$this->assertGreaterThan( 7 * $count, $loud_sent, 'WordPress asks for each absent row every time' );
		$this->assertLessThan( 150, $sent, 'statements sent for ' . $count . ' items: ' . $sent );
	}

	/**
	 * A transient another process stores while the request runs (after its lookup was answered
	 * "no row" here) is deleted at the end, as the next product's handler would have.
	 */
	public function test_a_row_another_process_adds_meanwhile_is_deleted_at_the_end() {
		global $wpdb;
		$items = self::seed( 10 );
		$calls = 0;
		$other = static function () use ( &$calls, $wpdb ) {
			if ( 5 === ++$calls ) {
				// Straight SQL: what another PHP worker's set_transient() leaves, unseen here.
				$wpdb->query( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES ('_transient_wc_admin_product_count', '99', 'off')" );
			}
		};
		add_action( 'woocommerce_update_product', $other, 20 );
		list( $status ) = $this->write( $items );
		$this->assertSame( 200, $status );
		$this->assertSame( 10, $calls );
		$this->assertNotContains( '_transient_wc_admin_product_count', self::stored_transients() );
	}

	/**
	 * A transient this request stores after its lookup was answered "no row" is looked up
	 * again, and deleted by the next product's handler as without this class.
	 */
	public function test_a_row_this_request_adds_is_looked_up_again() {
		$items = self::seed( 3 );
		$calls = 0;
		$set   = static function () use ( &$calls ) {
			if ( 2 === ++$calls ) {
				set_transient( 'wc_admin_product_count', 42 );
			}
		};
		add_action( 'woocommerce_update_product', $set, 20 );
		list( $status ) = $this->write( $items );
		$this->assertSame( 200, $status );
		$this->assertFalse( get_transient( 'wc_admin_product_count' ) );
		$last_save   = max( array_keys( $this->hooks, 'woocommerce_after_product_object_save', true ) );
		$this->assertLessThan( $last_save, max( array_keys( $this->hooks, 'deleted_transient', true ) ), 'the third product\'s handler deleted it, not the end of the request' );
		$this->assertNotContains( '_transient_wc_admin_product_count', self::stored_transients() );
	}

	/**
	 * A handler that throws ends the request, but not with the statements still answered here,
	 * nor the connection's lock wait shortened, for whatever runs next in that PHP process.
	 */
	public function test_a_handler_that_throws_leaves_the_queries_alone() {
		$items  = self::seed( 2 );
		$caught = null;
		$throw  = static function () {
			throw new RuntimeException( 'a handler failed' );
		};
		add_action( 'woocommerce_update_product', $throw, 30 );
		try {
			$this->write( $items );
		} catch ( RuntimeException $error ) {
			$caught = $error->getMessage();
		}
		$this->assertSame( 'a handler failed', $caught );
		$this->assertFalse( has_filter( 'query', array( 'Woodoo_Bulk_Quiet', 'query' ) ) );
		$this->assertFalse( has_filter( 'pre_update_option', array( 'Woodoo_Bulk_Quiet', 'pre_update_option' ) ) );
		$this->assertSame( '50', $GLOBALS['wpdb']->get_var( 'SELECT @@SESSION.innodb_lock_wait_timeout' ), 'and the lock wait as it was' );
	}
}

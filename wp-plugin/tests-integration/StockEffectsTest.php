<?php
/**
 * The bulk stock write leaves the database and the listeners as WooCommerce's own stock update
 * does, case by case of the recording (tests/fixtures/woocommerce11/stock_write_effects.json:
 * WooCommerce 11.0.1, a simple product 30 -> 0 -> 12 -> 30, a variation 22 -> 0 -> 22): each
 * case's "before" rows are seeded as recorded, the same change is sent through the plugin's
 * route, and every recorded row is compared.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.DB

/**
 * Fixture cases on real WordPress and MariaDB.
 */
class StockEffectsTest extends Woodoo_IT_TestCase {

	/**
	 * The actions this test compares: the ones WooCommerce's save fires for listeners (WordPress's
	 * internals — term queries, cache bookkeeping, option actions — and the REST API's own are
	 * left out). Transient actions are matched by pattern (compared()).
	 */
	const COMPARED = array(
		'woocommerce_before_product_object_save',
		'woocommerce_product_before_set_stock',
		'woocommerce_variation_before_set_stock',
		'updated_post_meta',
		'added_post_meta',
		'add_term_relationship',
		'added_term_relationship',
		'delete_term_relationships',
		'deleted_term_relationships',
		'set_object_terms',
		'woocommerce_product_set_visibility',
		'woocommerce_product_set_stock',
		'woocommerce_variation_set_stock',
		'woocommerce_product_set_stock_status',
		'woocommerce_variation_set_stock_status',
		'woocommerce_product_object_updated_props',
		'deleted_transient',
		'woocommerce_delete_product_transients',
		'woocommerce_update_product',
		'woocommerce_update_product_variation',
		'woocommerce_after_product_object_save',
	);

	/**
	 * The recording.
	 *
	 * @var array|null
	 */
	private static $fixture = null;

	/**
	 * The recording, decoded.
	 *
	 * @return array
	 */
	private static function fixture() {
		if ( null === self::$fixture ) {
			self::$fixture = json_decode( (string) file_get_contents( WOODOO_IT_FIXTURE ), true );
		}
		return self::$fixture;
	}

	/**
	 * The recorded cases.
	 *
	 * @return array
	 */
	public function cases() {
		$cases = array();
		foreach ( self::fixture()['cases'] as $case ) {
			$cases[ $case['case'] ] = array( $case['case'] );
		}
		return $cases;
	}

	/**
	 * One recorded case by name.
	 *
	 * @param string $name Case.
	 * @return array
	 */
	private static function recorded( $name ) {
		foreach ( self::fixture()['cases'] as $case ) {
			if ( $case['case'] === $name ) {
				return $case;
			}
		}
		throw new InvalidArgumentException( $name );
	}

	/**
	 * The actions expected, in order, for each case: the recorded actions of the product's save
	 * that COMPARED keeps, less what is not the stock update's:
	 * - the second set_object_terms of each save (WooCommerce re-sets the product type, a term
	 *   that does not change), and the REST API's second round of transient deletions after
	 *   woocommerce_rest_insert_product_object (it renders the response), for products;
	 * - for variations, everything after woocommerce_delete_product_transients of the parent:
	 *   that is WooCommerce syncing the parent (its wc_deferred_product_sync(), which the plugin
	 *   calls and WooCommerce runs, checked separately).
	 * Each list is checked to be an ordered subsequence of the recording (test_expected_...).
	 *
	 * @param string $name Case.
	 * @return string[]
	 */
	private static function expected_actions( $name ) {
		$shop       = array( 'delete_transient_wc_products_onsale', 'delete_transient_wc_featured_products', 'delete_transient_wc_outofstock_count', 'delete_transient_wc_low_stock_count' );
		$product    = static function ( $id, $related_stored ) {
			return array_merge(
				array( "delete_transient_wc_product_children_{$id}", "delete_transient_wc_var_prices_{$id}", "delete_transient_wc_related_{$id}" ),
				$related_stored ? array( 'deleted_transient' ) : array(),
				array( "delete_transient_wc_child_has_weight_{$id}", "delete_transient_wc_child_has_dimensions_{$id}" )
			);
		};
		$attach     = array( 'add_term_relationship', 'added_term_relationship' );
		$detach     = array( 'delete_term_relationships', 'deleted_term_relationships' );
		$simple     = static function ( array $terms, $status ) use ( $shop, $product ) {
			return array_merge(
				array( 'woocommerce_before_product_object_save', 'woocommerce_product_before_set_stock', 'updated_post_meta' ),
				$status ? array( 'updated_post_meta' ) : array(),
				$terms,
				$status ? array( 'set_object_terms', 'woocommerce_product_set_visibility' ) : array(),
				array( 'woocommerce_product_set_stock' ),
				$status ? array( 'woocommerce_product_set_stock_status' ) : array(),
				array( 'woocommerce_product_object_updated_props' ),
				$shop,
				$product( 14, true ),
				array( 'woocommerce_delete_product_transients', 'woocommerce_update_product', 'woocommerce_after_product_object_save' )
			);
		};
		$variation  = static function ( array $terms ) use ( $shop, $product ) {
			return array_merge(
				array( 'woocommerce_before_product_object_save', 'woocommerce_variation_before_set_stock', 'updated_post_meta', 'updated_post_meta' ),
				$terms,
				array( 'set_object_terms', 'woocommerce_variation_set_stock', 'woocommerce_variation_set_stock_status', 'woocommerce_product_object_updated_props', 'woocommerce_update_product_variation', 'woocommerce_after_product_object_save' ),
				$shop,
				$product( 33, false ),
				$product( 31, false ),
				array( 'woocommerce_delete_product_transients', 'woocommerce_delete_product_transients' )
			);
		};
		$expected = array(
			'simple-put-to-zero'         => $simple( $attach, true ),
			'simple-batch-zero-to-12'    => $simple( $detach, true ),
			'simple-batch-12-to-30'      => $simple( array(), false ),
			'variation-batch-to-zero'    => $variation( $attach ),
			'variation-batch-zero-to-22' => $variation( $detach ),
		);
		return $expected[ $name ];
	}

	/**
	 * Whether a hook is one the test compares.
	 *
	 * @param string $hook Hook name.
	 * @return bool
	 */
	private static function compared( $hook ) {
		// The transients of wc_delete_product_transients(). WooCommerce's own listeners of
		// woocommerce_update_product delete more (wc_admin_*, wc_layered_nav_counts_*): in a
		// shop they run when the plugin fires that action.
		return in_array( $hook, self::COMPARED, true )
			|| preg_match( '/\Adelete_transient_wc_(products_onsale|featured_products|outofstock_count|low_stock_count|(product_children|var_prices|related|child_has_weight|child_has_dimensions)_\d+)\z/', $hook );
	}

	/**
	 * The recorded hooks, each repeated as many times as it was (they were folded into counts).
	 *
	 * @param array $case Recorded case.
	 * @return string[]
	 */
	private static function recorded_hooks( array $case ) {
		$hooks = array();
		foreach ( $case['hooks_fired_in_order'] as $entry ) {
			for ( $i = 0; $i < $entry[1]; $i++ ) {
				$hooks[] = $entry[0];
			}
		}
		return $hooks;
	}

	/**
	 * Whether $needles appear in $haystack in this order (not necessarily next to each other).
	 *
	 * @param array $needles  Needles.
	 * @param array $haystack Haystack.
	 * @return bool
	 */
	private static function subsequence( array $needles, array $haystack ) {
		$at = 0;
		foreach ( $haystack as $hay ) {
			if ( $at < count( $needles ) && $needles[ $at ] === $hay ) {
				++$at;
			}
		}
		return count( $needles ) === $at;
	}

	/**
	 * Seeds the case's "before" state: the product (and a variation's parent with its two
	 * siblings in stock), its meta, terms, lookup row and post as recorded, and the transients
	 * the store held, the two version transients set to an old value to see them bumped.
	 *
	 * @param array $case Recorded case.
	 */
	private static function seed_before( array $case ) {
		$before   = $case['before'];
		$id       = $case['product_id'];
		$parent   = isset( $case['parent_id'] ) ? (int) $case['parent_id'] : 0;
		$post     = $before['post'][0];
		$products = array(
			array(
				'id'           => $id,
				'type'         => 'product_variation' === $post['post_type'] ? 'variation' : 'simple',
				'parent'       => (int) $post['post_parent'],
				'status'       => $post['post_status'],
				'modified_gmt' => $post['post_modified_gmt'],
				'meta'         => $before['postmeta'],
				'terms'        => array_map(
					static function ( $term ) {
						return array( $term['taxonomy'], $term['slug'] );
					},
					$before['terms']
				),
				'lookup'       => $before['lookup'][0],
			),
		);
		if ( $parent ) {
			$products[] = array(
				'id'           => $parent,
				'type'         => 'variable',
				'modified_gmt' => $post['post_modified_gmt'],
				'meta'         => array(
					'_sku'          => 'TSH',
					'_manage_stock' => 'no',
					'_stock_status' => 'instock',
					'_price'        => '19.99',
				),
				'terms'        => array( array( 'product_cat', 'uncategorized' ) ),
				'lookup'       => array(
					'sku'          => 'TSH',
					'stock_status' => 'instock',
				),
			);
			foreach ( array( 32 => 'TSH-S-RED', 34 => 'TSH-L-BLK' ) as $sibling => $sku ) {
				$products[] = array(
					'id'     => $sibling,
					'type'   => 'variation',
					'parent' => $parent,
					'meta'   => array(
						'_sku'          => $sku,
						'_manage_stock' => 'yes',
						'_stock'        => '14',
						'_stock_status' => 'instock',
						'_backorders'   => 'no',
					),
					'lookup' => array(
						'sku'            => $sku,
						'stock_quantity' => 14,
						'stock_status'   => 'instock',
					),
				);
			}
		}
		Woodoo_IT_Catalog::seed( $products );
		self::seed_transients(
			$before['transients'],
			array(
				'_transient_product-transient-version'       => '1700000000',
				'_transient_product_query-transient-version' => '1700000000',
			)
		);
	}

	/**
	 * The expected lists follow the recording's order, so that they say what WooCommerce does.
	 *
	 * @dataProvider cases
	 * @param string $name Case.
	 */
	public function test_expected_actions_are_the_recorded_ones_in_the_recorded_order( $name ) {
		$recorded = self::recorded_hooks( self::recorded( $name ) );
		$this->assertTrue( self::subsequence( self::expected_actions( $name ), $recorded ), 'not in the recording, in this order: ' . implode( ', ', self::expected_actions( $name ) ) );
		// And nothing the stock update fires for listeners is left out: before the REST API
		// renders its answer, every compared action of the recording is expected, but for
		// the product type's set_object_terms.
		$rest      = array_search( 'product_variation' === self::recorded( $name )['before']['post'][0]['post_type'] ? 'woocommerce_update_product_variation' : 'woocommerce_rest_insert_product_object', $recorded, true );
		$save      = array_values( array_filter( array_slice( $recorded, 0, $rest ), array( __CLASS__, 'compared' ) ) );
		$expected  = self::expected_actions( $name );
		$remaining = $save;
		foreach ( $expected as $hook ) {
			$at = array_search( $hook, $remaining, true );
			if ( false !== $at ) {
				unset( $remaining[ $at ] );
			}
		}
		$this->assertSame( array( 'set_object_terms' ), array_values( $remaining ), 'recorded actions of the save that the plugin does not fire' );
	}

	/**
	 * Every recorded row, and the actions, for each case.
	 *
	 * @dataProvider cases
	 * @param string $name Case.
	 */
	public function test_the_bulk_write_leaves_what_woocommerce_leaves( $name ) {
		global $wpdb;
		$case    = self::recorded( $name );
		$id      = (int) $case['product_id'];
		$parent  = isset( $case['parent_id'] ) ? (int) $case['parent_id'] : 0;
		$before  = $case['before'];
		$changes = $case['changes'];
		self::seed_before( $case );
		$quantity = $case['request']['body']['stock_quantity'] ?? $case['request']['body']['update'][0]['stock_quantity'];
		$expected = (int) $before['postmeta']['_stock'];
		$stored   = self::stored_transients();
		$outcount = self::term_count( 'product_visibility', 'outofstock' );
		$parent_modified = $parent ? self::post( $parent )['post_modified_gmt'] : null;

		$start                 = time();
		list( $status, $data ) = $this->write(
			array(
				array(
					'id'       => $id,
					'expected' => $expected,
					'quantity' => $quantity,
				),
			)
		);
		$end = time();

		$this->assertSame( 200, $status, wp_json_encode( $data ) );
		$new_status = $changes['postmeta']['_stock_status'][1] ?? $before['postmeta']['_stock_status'];
		$this->assertSame(
			array(
				'id'           => $id,
				'status'       => 'applied',
				'quantity'     => $quantity,
				'stock_status' => $new_status,
			),
			$data['results'][0]
		);

		// Post meta: exactly the recorded changes, every other key as it was.
		$meta = $before['postmeta'];
		foreach ( $changes['postmeta'] as $key => $change ) {
			$this->assertSame( $change[0], $meta[ $key ], "{$key} before, as recorded" );
			$meta[ $key ] = $change[1];
		}
		ksort( $meta );
		$this->assertSame( $meta, self::meta( $id ), 'post meta' );

		// The lookup row, the recorded columns.
		$lookup = isset( $changes['lookup'] ) ? $changes['lookup'][1][0] : $before['lookup'][0];
		$row    = self::lookup( $id );
		$this->assertSame( $lookup, array_map( 'strval', $row ), 'wc_product_meta_lookup' );

		// Terms (product_visibility/outofstock on products and variations alike).
		$terms = array_map(
			static function ( $term ) {
				return array( $term['taxonomy'], $term['slug'] );
			},
			isset( $changes['terms'] ) ? $changes['terms'][1] : $before['terms']
		);
		sort( $terms );
		$this->assertSame( $terms, self::terms( $id ), 'terms' );
		list( $stored_count, $counted ) = self::term_count( 'product_visibility', 'outofstock' );
		$this->assertSame( $counted, $stored_count, 'the outofstock term count is recounted' );
		$this->assertSame( $outcount[0] + ( 'outofstock' === $new_status ? 1 : 0 ) - ( 'outofstock' === $before['postmeta']['_stock_status'] && 'outofstock' !== $new_status ? 1 : 0 ), $stored_count );

		// The post: modified now (the recording's second resolution hides it when two updates
		// fell in the same second: variation-batch-zero-to-22), the rest as recorded.
		$post = self::post( $id );
		$this->assertGreaterThanOrEqual( gmdate( 'Y-m-d H:i:s', $start ), $post['post_modified_gmt'] );
		$this->assertLessThanOrEqual( gmdate( 'Y-m-d H:i:s', $end ), $post['post_modified_gmt'] );
		$this->assertSame( get_date_from_gmt( $post['post_modified_gmt'] ), $post['post_modified'] );
		$recorded_post = isset( $changes['post'] ) ? $changes['post'][1][0] : $before['post'][0];
		unset( $recorded_post['post_modified_gmt'] );
		$this->assertSame( $recorded_post, array_intersect_key( $post, $recorded_post ) );
		if ( isset( $changes['post'] ) ) {
			$this->assertGreaterThan( $changes['post'][0][0]['post_modified_gmt'], $changes['post'][1][0]['post_modified_gmt'], 'recorded: modified' );
		}
		if ( $parent ) {
			// Recorded for the parent of variation-batch-to-zero (WooCommerce saves the parent).
			$this->assertGreaterThan( $parent_modified, self::post( $parent )['post_modified_gmt'], 'the parent is modified' );
			$this->assertSame( array( $parent ), Woodoo_IT_WooCommerce::$deferred_syncs, 'WooCommerce syncs the parent' );
			$this->assertSame( array( 'product_' . $id, 'product_' . $parent ), Woodoo_IT_WooCommerce::$invalidated );
		} else {
			$this->assertSame( array(), Woodoo_IT_WooCommerce::$deferred_syncs );
			$this->assertSame( array( 'product_' . $id ), Woodoo_IT_WooCommerce::$invalidated );
		}

		// Transients: the ones WooCommerce deletes are gone (with their timeouts), every other
		// one is still there; the recording deleted each of them too; the versions are new.
		$names = array( 'wc_products_onsale', 'wc_featured_products', 'wc_outofstock_count', 'wc_low_stock_count' );
		foreach ( array_filter( array( $id, $parent ) ) as $owner ) {
			foreach ( array( 'wc_product_children_', 'wc_var_prices_', 'wc_related_', 'wc_child_has_weight_', 'wc_child_has_dimensions_' ) as $prefix ) {
				$names[] = $prefix . $owner;
			}
		}
		$gone = array();
		foreach ( $names as $transient ) {
			foreach ( array( '_transient_', '_transient_timeout_' ) as $option ) {
				if ( in_array( $option . $transient, $stored, true ) ) {
					$gone[] = $option . $transient;
				}
			}
		}
		$this->assertSame( array_values( array_diff( $stored, $gone ) ), self::stored_transients() );
		$recorded_hooks = self::recorded_hooks( $case );
		foreach ( $gone as $option ) {
			$this->assertContains( 'delete_option_' . $option, $recorded_hooks, "{$option} was deleted in the recording too" );
		}
		wp_cache_flush();
		foreach ( array( 'product', 'product_query' ) as $group ) {
			$version = (int) get_option( "_transient_{$group}-transient-version" );
			$this->assertGreaterThanOrEqual( $start, $version, "{$group} transient version bumped" );
			$this->assertLessThanOrEqual( $end, $version );
		}

		// The actions, in WooCommerce's order.
		$fired = array_values( array_filter( $this->hooks, array( __CLASS__, 'compared' ) ) );
		$this->assertSame( self::expected_actions( $name ), $fired );
		$this->assertGreaterThan( array_search( 'rest_pre_dispatch', $this->hooks, true ), array_search( 'woocommerce_before_product_object_save', $this->hooks, true ), 'actions fire inside the request' );

		// Nothing else changed: a second identical write finds the new figure.
		list( , $again ) = $this->write(
			array(
				array(
					'id'       => $id,
					'expected' => $expected,
					'quantity' => $quantity,
				),
			)
		);
		$this->assertSame( 'conflict', $again['results'][0]['status'] );
		$this->assertSame( $quantity, $again['results'][0]['current'] );
		$this->assertSame( (string) $quantity, $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->postmeta} WHERE post_id = %d AND meta_key = '_stock'", $id ) ) );
	}

	/**
	 * The tables are the recorded store's, definition by definition.
	 */
	public function test_the_tables_are_the_recorded_ones() {
		global $wpdb;
		foreach ( woodoo_it_recorded_schema() as $table => $statement ) {
			$this->assertSame( woodoo_it_definition( $statement ), woodoo_it_definition( $wpdb->get_row( "SHOW CREATE TABLE {$table}", ARRAY_N )[1] ), $table );
		}
	}
}

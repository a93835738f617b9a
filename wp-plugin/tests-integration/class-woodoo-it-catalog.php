<?php
/**
 * The product catalog of the integration tests' store: emptied, and seeded in bulk with plain SQL
 * (as a store's history left it). Used by the tests (Woodoo_IT_TestCase) and by the shop that
 * shop.php serves for bench/bulk.py.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.DB

/**
 * The catalog's tables.
 */
class Woodoo_IT_Catalog {

	/**
	 * No product, variation, lookup row, transient or product term relationship left.
	 */
	public static function wipe() {
		global $wpdb;
		$wpdb->query( "DELETE tr FROM {$wpdb->term_relationships} tr JOIN {$wpdb->posts} p ON p.ID = tr.object_id WHERE p.post_type IN ('product', 'product_variation')" );
		$wpdb->query( "DELETE m FROM {$wpdb->postmeta} m JOIN {$wpdb->posts} p ON p.ID = m.post_id WHERE p.post_type IN ('product', 'product_variation')" );
		$wpdb->query( "DELETE FROM {$wpdb->posts} WHERE post_type IN ('product', 'product_variation')" );
		$wpdb->query( "DELETE FROM {$wpdb->prefix}wc_product_meta_lookup" );
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE '\\_transient\\_%'" );
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name = 'woocommerce_notify_no_stock_amount'" );
		$wpdb->query( "UPDATE {$wpdb->term_taxonomy} SET count = 0 WHERE taxonomy IN ('product_type', 'product_visibility', 'product_cat')" );
		wp_cache_flush();
	}

	/**
	 * Inserts products with plain SQL, a thousand rows per statement.
	 *
	 * Each product: id, type ('simple', 'variable', 'variation', ...), parent, status (post),
	 * modified_gmt, title ("Product <id>" by default), meta (key => value), terms (list of
	 * array( taxonomy, slug )), lookup (column => value, or null for no row).
	 *
	 * @param array $products Products.
	 */
	public static function seed( array $products ) {
		global $wpdb;
		$posts  = array();
		$meta   = array();
		$terms  = array();
		$lookup = array();
		$tt     = self::term_taxonomy_ids();
		foreach ( $products as $product ) {
			$product  += array(
				'parent'       => 0,
				'status'       => 'publish',
				'modified_gmt' => '2026-12-01 03:37:36',
				'title'        => 'Product ' . $product['id'],
				'meta'         => array(),
				'terms'        => array(),
				'lookup'       => null,
			);
			$variation = 'variation' === $product['type'];
			$posts[]   = $wpdb->prepare(
				"(%d, 1, %s, %s, '', %s, '', %s, %s, '', '', %s, %s, '', %d, '', %s)",
				$product['id'],
				$product['modified_gmt'],
				$product['modified_gmt'],
				$product['title'],
				$product['status'],
				'product-' . $product['id'],
				$product['modified_gmt'],
				$product['modified_gmt'],
				$product['parent'],
				$variation ? 'product_variation' : 'product'
			);
			foreach ( $product['meta'] as $key => $value ) {
				$meta[] = $wpdb->prepare( '(%d, %s, %s)', $product['id'], $key, $value );
			}
			$product_terms = $product['terms'];
			if ( ! $variation && ! self::has_taxonomy( $product_terms, 'product_type' ) ) {
				$product_terms[] = array( 'product_type', $product['type'] );
			}
			foreach ( $product_terms as $term ) {
				$terms[] = $wpdb->prepare( '(%d, %d, 0)', $product['id'], $tt[ $term[0] . '/' . $term[1] ] );
			}
			if ( null !== $product['lookup'] ) {
				$row      = $product['lookup'] + array(
					'sku'            => '',
					'stock_quantity' => null,
					'stock_status'   => 'instock',
					'onsale'         => 0,
					'total_sales'    => 0,
				);
				$lookup[] = $wpdb->prepare( '(%d, %s, ', $product['id'], $row['sku'] )
					. ( null === $row['stock_quantity'] ? 'NULL' : $wpdb->prepare( '%f', $row['stock_quantity'] ) )
					. $wpdb->prepare( ', %s, %d, %d)', $row['stock_status'], $row['onsale'], $row['total_sales'] );
			}
		}
		$statements = array(
			"INSERT INTO {$wpdb->posts} (ID, post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_parent, guid, post_type) VALUES " => $posts,
			"INSERT INTO {$wpdb->postmeta} (post_id, meta_key, meta_value) VALUES "                     => $meta,
			"INSERT INTO {$wpdb->term_relationships} (object_id, term_taxonomy_id, term_order) VALUES " => $terms,
			"INSERT INTO {$wpdb->prefix}wc_product_meta_lookup (product_id, sku, stock_quantity, stock_status, onsale, total_sales) VALUES " => $lookup,
		);
		foreach ( $statements as $insert => $rows ) {
			foreach ( array_chunk( $rows, 1000 ) as $chunk ) {
				if ( false === $wpdb->query( $insert . implode( ',', $chunk ) ) ) {
					throw new RuntimeException( 'seeding failed: ' . $wpdb->last_error );
				}
			}
		}
		self::recount_terms();
		wp_cache_flush();
	}

	/**
	 * Every product term's count made right, as WordPress counts it.
	 */
	public static function recount_terms() {
		foreach ( array( 'product_type', 'product_visibility', 'product_cat' ) as $taxonomy ) {
			$ids = get_terms(
				array(
					'taxonomy'   => $taxonomy,
					'hide_empty' => false,
					'fields'     => 'tt_ids',
				)
			);
			wp_update_term_count_now( $ids, $taxonomy );
		}
	}

	/**
	 * Whether a term list has a term of the taxonomy.
	 *
	 * @param array  $terms    List of array( taxonomy, slug ).
	 * @param string $taxonomy Taxonomy.
	 * @return bool
	 */
	private static function has_taxonomy( array $terms, $taxonomy ) {
		foreach ( $terms as $term ) {
			if ( $term[0] === $taxonomy ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * term_taxonomy_id by "taxonomy/slug".
	 *
	 * @return array
	 */
	public static function term_taxonomy_ids() {
		global $wpdb;
		$ids = array();
		foreach ( $wpdb->get_results( "SELECT tt.term_taxonomy_id, tt.taxonomy, t.slug FROM {$wpdb->term_taxonomy} tt JOIN {$wpdb->terms} t ON t.term_id = tt.term_id" ) as $row ) {
			$ids[ $row->taxonomy . '/' . $row->slug ] = (int) $row->term_taxonomy_id;
		}
		return $ids;
	}
}

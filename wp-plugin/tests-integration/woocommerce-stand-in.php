<?php
/**
 * A thin stand-in for the few WooCommerce pieces the bulk routes touch, over the real tables of
 * the real WordPress: WooCommerce itself is not a Debian package, so it cannot be installed
 * offline. Everything here reads what WordPress reads (get_post(), get_post_meta(),
 * get_the_terms(): the same caches), and records what the plugin hands to WooCommerce.
 *
 * What it stands in for, as in WooCommerce 11.0:
 * - the post types product and product_variation, the taxonomies product_type, product_visibility
 *   and product_cat, and the terms WooCommerce creates on install (WC_Install::create_terms());
 * - wc_get_product(): a product object with the getters the plugin calls, read fresh;
 * - WC_Cache_Helper::get_transient_version() (as WooCommerce's: the transient "<group>-transient-
 *   version" set to the current time when refreshed) and invalidate_cache_group() (recorded);
 * - wc_deferred_product_sync() (recorded: WooCommerce syncs those parents at the end of the
 *   request, its own code, which is not what these tests test).
 *
 * @package WoodooCompanion
 */

// phpcs:disable Generic.Files.OneObjectStructurePerFile

/**
 * What WooCommerce_Plugin::load() checks for.
 */
class WooCommerce {
}

/**
 * What the stand-in was asked to do: deferred parent syncs, invalidated cache groups.
 */
final class Woodoo_IT_WooCommerce {

	/**
	 * Parents passed to wc_deferred_product_sync(), in order.
	 *
	 * @var int[]
	 */
	public static $deferred_syncs = array();

	/**
	 * Groups passed to WC_Cache_Helper::invalidate_cache_group(), in order.
	 *
	 * @var string[]
	 */
	public static $invalidated = array();

	/**
	 * Forgets the records.
	 */
	public static function reset() {
		self::$deferred_syncs = array();
		self::$invalidated    = array();
	}

	/**
	 * Post types, taxonomies and the terms WooCommerce's installer creates.
	 */
	public static function register() {
		register_post_type( 'product', array( 'public' => true ) );
		register_post_type( 'product_variation', array( 'public' => false ) );
		register_taxonomy( 'product_type', array( 'product' ), array( 'public' => false, 'hierarchical' => false ) );
		register_taxonomy( 'product_visibility', array( 'product', 'product_variation' ), array( 'public' => false, 'hierarchical' => false ) );
		register_taxonomy( 'product_cat', array( 'product' ), array( 'hierarchical' => true ) );
		$terms = array(
			'product_type'       => array( 'simple', 'grouped', 'variable', 'external' ),
			'product_visibility' => array( 'exclude-from-search', 'exclude-from-catalog', 'featured', 'outofstock', 'rated-1', 'rated-2', 'rated-3', 'rated-4', 'rated-5' ),
			'product_cat'        => array( 'uncategorized' ),
		);
		foreach ( $terms as $taxonomy => $slugs ) {
			foreach ( $slugs as $slug ) {
				if ( ! get_term_by( 'slug', $slug, $taxonomy ) ) {
					wp_insert_term( $slug, $taxonomy, array( 'slug' => $slug ) );
				}
			}
		}
	}
}

/**
 * A product read from the tables (WC_Product's getters the plugin and the tests use).
 */
final class Woodoo_IT_Product {

	/**
	 * The post.
	 *
	 * @var WP_Post
	 */
	private $post;

	/**
	 * Constructor.
	 *
	 * @param WP_Post $post Post.
	 */
	public function __construct( $post ) {
		$this->post = $post;
	}

	/**
	 * Id.
	 *
	 * @return int
	 */
	public function get_id() {
		return (int) $this->post->ID;
	}

	/**
	 * Parent id (variations).
	 *
	 * @return int
	 */
	public function get_parent_id() {
		return (int) $this->post->post_parent;
	}

	/**
	 * Type: "variation", or the product_type term ("simple" without one).
	 *
	 * @return string
	 */
	public function get_type() {
		if ( 'product_variation' === $this->post->post_type ) {
			return 'variation';
		}
		$terms = get_the_terms( $this->get_id(), 'product_type' );
		return is_array( $terms ) && $terms ? $terms[0]->slug : 'simple';
	}

	/**
	 * Whether the product is of one of these types.
	 *
	 * @param string|string[] $type Types.
	 * @return bool
	 */
	public function is_type( $type ) {
		return in_array( $this->get_type(), (array) $type, true );
	}

	/**
	 * Whether stock is managed (here: by the product itself).
	 *
	 * @return bool
	 */
	public function managing_stock() {
		return 'yes' === get_post_meta( $this->get_id(), '_manage_stock', true );
	}

	/**
	 * The product managing this one's stock.
	 *
	 * @return int
	 */
	public function get_stock_managed_by_id() {
		return $this->get_id();
	}

	/**
	 * The figure, as wc_stock_amount() makes it (null when none).
	 *
	 * @return int|null
	 */
	public function get_stock_quantity() {
		$stock = get_post_meta( $this->get_id(), '_stock', true );
		return '' === $stock ? null : (int) $stock;
	}

	/**
	 * The stock status.
	 *
	 * @return string
	 */
	public function get_stock_status() {
		return (string) get_post_meta( $this->get_id(), '_stock_status', true );
	}

	/**
	 * Catalog visibility from the product_visibility terms, as WooCommerce reads it.
	 *
	 * @return string
	 */
	public function get_catalog_visibility() {
		$terms  = get_the_terms( $this->get_id(), 'product_visibility' );
		$slugs  = is_array( $terms ) ? wp_list_pluck( $terms, 'slug' ) : array();
		$search = in_array( 'exclude-from-search', $slugs, true );
		$shop   = in_array( 'exclude-from-catalog', $slugs, true );
		if ( $search && $shop ) {
			return 'hidden';
		}
		return $search ? 'catalog' : ( $shop ? 'search' : 'visible' );
	}

	/**
	 * No data store object here.
	 *
	 * @return null
	 */
	public function get_data_store() {
		return null;
	}
}

/**
 * The product, or false.
 *
 * @param int $id Id.
 * @return Woodoo_IT_Product|false
 */
function wc_get_product( $id ) {
	$post = get_post( (int) $id );
	if ( ! $post || ! in_array( $post->post_type, array( 'product', 'product_variation' ), true ) ) {
		return false;
	}
	return new Woodoo_IT_Product( $post );
}

/**
 * Recorded: WooCommerce syncs the parent (price, stock status, children) at the end of the request.
 *
 * @param int $product_id Parent id.
 */
function wc_deferred_product_sync( $product_id ) {
	Woodoo_IT_WooCommerce::$deferred_syncs[] = (int) $product_id;
}

/**
 * WooCommerce's WC_Cache_Helper, the two methods the plugin calls.
 */
final class WC_Cache_Helper {

	/**
	 * The transient version of a group; a new one (the current time) when $refresh.
	 *
	 * @param string $group   Group.
	 * @param bool   $refresh Whether to make a new version.
	 * @return string
	 */
	public static function get_transient_version( $group, $refresh = false ) {
		$name  = $group . '-transient-version';
		$value = get_transient( $name );
		if ( false === $value || true === $refresh ) {
			$value = (string) time();
			set_transient( $name, $value );
		}
		return $value;
	}

	/**
	 * Recorded (WooCommerce bumps the group's cache prefix).
	 *
	 * @param string $group Group.
	 */
	public static function invalidate_cache_group( $group ) {
		Woodoo_IT_WooCommerce::$invalidated[] = $group;
	}
}

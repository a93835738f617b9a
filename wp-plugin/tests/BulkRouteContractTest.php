<?php
/**
 * The bulk routes' signed routes and body validation, without a database (the routes themselves
 * run on real WordPress and MariaDB in tests-integration/).
 */
use PHPUnit\Framework\TestCase;

require_once dirname( __DIR__ ) . '/woodoo-companion/includes/class-woodoo-bulk-route.php';

final class BulkRouteContractTest extends TestCase {

	const SECRET = 'whsec_stock_0123456789abcdef0123456789abcdef';
	const EVENTS = 'whsec_events_0123456789abcdef0123456789abcdef';
	const REQUEST_ID = '5f0c3a9e1b7d4c2a8e6f0b1d3c5a7e9f';

	protected function setUp(): void {
		woodoo_test_reset();
		update_option( Woodoo_Settings::STOCK_SECRET, self::SECRET );
		update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS );
	}

	private static function vectors() {
		return json_decode( file_get_contents( WOODOO_REPO_ROOT . '/tests/vectors/signatures.json' ), true );
	}

	public function test_the_signed_routes_are_the_shared_vectors() {
		$vectors = self::vectors();
		$this->assertSame( Woodoo_Bulk_Route::SIGNED_CATALOG, $vectors['routes']['plugin_catalog'] );
		$this->assertSame( Woodoo_Bulk_Route::SIGNED_WRITE, $vectors['routes']['plugin_stock_bulk'] );
		$others = array( Woodoo_Signer::PLUGIN_STOCK, Woodoo_Signer::PLUGIN_FLUSH, Woodoo_Bulk_Route::SIGNED_CATALOG, Woodoo_Bulk_Route::SIGNED_WRITE );
		foreach ( array( Woodoo_Bulk_Route::SIGNED_CATALOG, Woodoo_Bulk_Route::SIGNED_WRITE ) as $route ) {
			$cases = array_values( array_filter( $vectors['cases'], function ( $c ) use ( $route ) {
				return $c['valid'] && $c['route'] === $route;
			} ) );
			$this->assertCount( 1, $cases, $route );
			$case = $cases[0];
			foreach ( $others as $other ) {
				$this->assertSame( $other === $route, Woodoo_Signer::verify( $case['body'], $case['header'], array( $case['secret'] ), $other, $case['timestamp'] ), "{$route} vector on {$other}" );
			}
		}
		$this->assertSame( '/woodoo/v1/catalog', '/' . Woodoo_Stock_Route::NAMESPACE_V1 . Woodoo_Bulk_Route::CATALOG_ROUTE );
		$this->assertSame( '/woodoo/v1/stock/bulk', '/' . Woodoo_Stock_Route::NAMESPACE_V1 . Woodoo_Bulk_Route::WRITE_ROUTE );
	}

	public function test_the_vector_bodies_are_valid_requests() {
		foreach ( self::vectors()['cases'] as $case ) {
			if ( Woodoo_Bulk_Route::SIGNED_WRITE === $case['route'] ) {
				$this->assertArrayNotHasKey( 'error', Woodoo_Bulk_Route::validate_write( $case['body'] ) );
			} elseif ( Woodoo_Bulk_Route::SIGNED_CATALOG === $case['route'] ) {
				$this->assertSame( array( 'after_id' => 0, 'limit' => 5000, 'request_id' => self::REQUEST_ID ), Woodoo_Bulk_Route::validate_catalog( $case['body'] ) );
			}
		}
	}

	public function test_a_thousand_items_of_the_longest_kind_fit() {
		$items = array();
		for ( $i = 0; $i < Woodoo_Bulk_Route::WRITE_MAX_ITEMS; $i++ ) {
			$items[] = array( 'id' => Woodoo_Stock_Route::MAX_ID - $i, 'expected' => Woodoo_Stock_Route::MAX_QUANTITY, 'quantity' => Woodoo_Stock_Route::MAX_QUANTITY );
		}
		// Python's json.dumps separators (", " and ": "): the widest a daemon sends.
		$body = str_replace( array( ',"', ':' ), array( ', "', ': ' ), json_encode( array( 'items' => $items, 'request_id' => self::REQUEST_ID ) ) );
		$this->assertLessThan( Woodoo_Bulk_Route::WRITE_MAX_BODY, strlen( $body ) );
		$this->assertCount( Woodoo_Bulk_Route::WRITE_MAX_ITEMS, Woodoo_Bulk_Route::validate_write( $body )['items'] );
	}

	public function test_write_validation_names_the_field_and_never_echoes_input() {
		$ok   = array( 'id' => 1, 'expected' => 2, 'quantity' => 3 );
		$bad  = array(
			'(body)'           => array( '{"items": []', '[]', '"x"', json_encode( array( 'items' => array(), 'request_id' => self::REQUEST_ID, 'evil<script>' => 1 ) ) ),
			'request_id'       => array( json_encode( array( 'items' => array() ) ), json_encode( array( 'items' => array(), 'request_id' => strtoupper( self::REQUEST_ID ) ) ), json_encode( array( 'items' => array(), 'request_id' => 7 ) ) ),
			'items'            => array( json_encode( array( 'request_id' => self::REQUEST_ID ) ), json_encode( array( 'items' => array( 'a' => $ok ), 'request_id' => self::REQUEST_ID ) ) ),
			'items.0'          => array( json_encode( array( 'items' => array( 5 ), 'request_id' => self::REQUEST_ID ) ), json_encode( array( 'items' => array( $ok + array( 'evil<script>' => 1 ) ), 'request_id' => self::REQUEST_ID ) ) ),
			'items.0.id'       => array( json_encode( array( 'items' => array( array( 'id' => 0 ) + $ok ), 'request_id' => self::REQUEST_ID ) ), '{"items": [{"id": 1.0, "expected": 2, "quantity": 3}], "request_id": "' . self::REQUEST_ID . '"}' ),
			'items.0.expected' => array( json_encode( array( 'items' => array( array( 'expected' => null ) + $ok ), 'request_id' => self::REQUEST_ID ) ) ),
			'items.1.id'       => array( json_encode( array( 'items' => array( $ok, $ok ), 'request_id' => self::REQUEST_ID ) ) ),
			'items.0.quantity' => array( json_encode( array( 'items' => array( array( 'quantity' => Woodoo_Stock_Route::MAX_QUANTITY + 1 ) + $ok ), 'request_id' => self::REQUEST_ID ) ) ),
		);
		foreach ( $bad as $field => $bodies ) {
			foreach ( $bodies as $body ) {
				$answer = Woodoo_Bulk_Route::validate_write( $body );
				$this->assertSame( $field, $answer['field'] ?? null, $body );
				$this->assertStringNotContainsString( 'evil', $answer['error'] );
			}
		}
		$this->assertSame( array( 'items' => array(), 'request_id' => self::REQUEST_ID ), Woodoo_Bulk_Route::validate_write( json_encode( array( 'items' => array(), 'request_id' => self::REQUEST_ID ) ) ) );
	}

	public function test_catalog_validation() {
		$this->assertSame( array( 'after_id' => 0, 'limit' => Woodoo_Bulk_Route::DEFAULT_LIMIT, 'request_id' => self::REQUEST_ID ), Woodoo_Bulk_Route::validate_catalog( json_encode( array( 'request_id' => self::REQUEST_ID ) ) ) );
		$bad = array(
			'(body)'     => array( '[]', '{"request_id": {"a": 1}}', json_encode( array( 'request_id' => self::REQUEST_ID, 'page' => 2 ) ) ),
			'request_id' => array( '{}', json_encode( array( 'request_id' => 'x' ) ) ),
			'after_id'   => array( json_encode( array( 'request_id' => self::REQUEST_ID, 'after_id' => '5' ) ), json_encode( array( 'request_id' => self::REQUEST_ID, 'after_id' => -1 ) ) ),
			'limit'      => array( json_encode( array( 'request_id' => self::REQUEST_ID, 'limit' => 0 ) ), json_encode( array( 'request_id' => self::REQUEST_ID, 'limit' => Woodoo_Bulk_Route::MAX_LIMIT + 1 ) ), '{"request_id": "' . self::REQUEST_ID . '", "limit": 2.0}' ),
		);
		foreach ( $bad as $field => $bodies ) {
			foreach ( $bodies as $body ) {
				$this->assertSame( $field, Woodoo_Bulk_Route::validate_catalog( $body )['field'] ?? null, $body );
			}
		}
	}

	public function test_refusals_come_before_the_database() {
		$body = json_encode( array( 'items' => array( array( 'id' => 1, 'expected' => 2, 'quantity' => 3 ) ), 'request_id' => self::REQUEST_ID ) );
		list( $status, $data ) = Woodoo_Bulk_Route::handle_write( $body, Woodoo_Signer::sign( $body, self::SECRET, Woodoo_Signer::PLUGIN_STOCK ) );
		$this->assertSame( array( 401, 'bad_signature' ), array( $status, $data['error'] ) );
		list( $status, $data ) = Woodoo_Bulk_Route::handle_catalog( $body, Woodoo_Signer::sign( $body, self::SECRET, Woodoo_Bulk_Route::SIGNED_CATALOG ) );
		$this->assertSame( array( 400, 'schema', '(body)' ), array( $status, $data['error'], $data['field'] ) );
		update_option( Woodoo_Settings::STOCK_SECRET, 'short' );
		list( $status, $data ) = Woodoo_Bulk_Route::handle_write( $body, Woodoo_Signer::sign( $body, self::SECRET, Woodoo_Bulk_Route::SIGNED_WRITE ) );
		$this->assertSame( array( 503, 'not_configured' ), array( $status, $data['error'] ) );
		$this->assertSame( array(), $GLOBALS['wpdb']->queries );
	}
}

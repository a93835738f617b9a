<?php
use PHPUnit\Framework\TestCase;

final class SignerTest extends TestCase {

	public static function vectors() {
		$path = WOODOO_REPO_ROOT . '/tests/vectors/signatures.json';
		$data = json_decode( file_get_contents( $path ), true );
		$out  = array();
		foreach ( $data['cases'] as $case ) {
			$out[ $case['name'] ] = array( $case );
		}
		return $out;
	}

	/** @dataProvider vectors */
	public function test_shared_vectors_verify_as_documented( array $case ) {
		$ok = Woodoo_Signer::verify( $case['body'], $case['header'], array( $case['secret'] ), $case['timestamp'] );
		$this->assertSame( $case['valid'], $ok, $case['name'] );
		if ( $case['valid'] ) {
			$this->assertSame( $case['header'], Woodoo_Signer::sign( $case['body'], $case['secret'], $case['timestamp'] ) );
		}
	}

	public function test_vectors_file_has_valid_and_invalid_cases() {
		$valid = array_map(
			function ( $c ) {
				return $c[0]['valid'];
			},
			array_values( self::vectors() )
		);
		$this->assertContains( true, $valid );
		$this->assertContains( false, $valid );
	}

	public function test_stale_and_future_timestamps_are_refused() {
		$header = Woodoo_Signer::sign( '{}', 'k', 1000 );
		$this->assertTrue( Woodoo_Signer::verify( '{}', $header, array( 'k' ), 1300 ) );
		$this->assertFalse( Woodoo_Signer::verify( '{}', $header, array( 'k' ), 1301 ) );
		$this->assertFalse( Woodoo_Signer::verify( '{}', $header, array( 'k' ), 699 ) );
		$this->assertStringContainsString( 'clock', Woodoo_Signer::check( '{}', $header, array( 'k' ), 2000 ) );
	}

	public function test_rotation_any_v1_matching_any_secret() {
		$header = Woodoo_Signer::sign( 'body', array( 'old', 'new' ), 50 );
		$this->assertSame( 2, substr_count( $header, 'v1=' ) );
		$this->assertTrue( Woodoo_Signer::verify( 'body', $header, array( 'new' ), 50 ) );
		$this->assertTrue( Woodoo_Signer::verify( 'body', $header, array( 'other', 'old' ), 50 ) );
		$this->assertFalse( Woodoo_Signer::verify( 'body', $header, array( 'other' ), 50 ) );
	}

	public function test_malformed_headers() {
		foreach ( array( null, '', 't=abc,v1=00', 'v1=00', 't=5', 't=5,v1=', 'garbage' ) as $header ) {
			$this->assertFalse( Woodoo_Signer::verify( 'x', $header, array( 'k' ), 5 ), var_export( $header, true ) );
		}
		$digest = Woodoo_Signer::digest( 'x', 'k', 5 );
		$this->assertTrue( Woodoo_Signer::verify( 'x', ' t=5 , v1=' . strtoupper( $digest ), array( 'k' ), 5 ) );
		$this->assertFalse( Woodoo_Signer::verify( 'x', 't=5,v1=' . $digest, array( '' ), 5 ), 'an empty secret never verifies' );
	}

	public function test_cli_signer_matches() {
		$cmd  = escapeshellarg( PHP_BINARY ) . ' ' . escapeshellarg( dirname( __DIR__ ) . '/bin/sign.php' ) . ' ' . escapeshellarg( 's3cr3t-ÄÖ' ) . ' 1700000000';
		$proc = proc_open( $cmd, array( array( 'pipe', 'r' ), array( 'pipe', 'w' ), array( 'pipe', 'w' ) ), $pipes );
		fwrite( $pipes[0], '{"event_id": "é-1", "skus": ["TSHIRT-Ü-€"]}' );
		fclose( $pipes[0] );
		$out = trim( stream_get_contents( $pipes[1] ) );
		proc_close( $proc );
		$this->assertSame( 't=1700000000,v1=dbfd92ecf641cee837d82177afe9711cdc092b7d5262d77a966042ce84afa1c1', $out );
	}
}

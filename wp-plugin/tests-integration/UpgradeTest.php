<?php
/**
 * Updating the plugin from each earlier release on a real WordPress and MariaDB: the tables and
 * options as that release left them (with events still waiting), then what WordPress does after
 * it replaced the plugin's files: no activation hook, only plugins_loaded (Woodoo_Plugin::load()).
 * The waiting events still wait and are each sent once; the settings are kept; 0.1's single
 * secret is removed and the notice says what replaces it.
 *
 * @package WoodooCompanion
 */

// phpcs:disable WordPress.DB

/**
 * Upgrades from 0.1, 0.2, 0.3 and 0.4.
 */
class UpgradeTest extends Woodoo_IT_TestCase {

	const URL          = 'https://daemon.example/webhooks/woocommerce';
	const OLD_SECRET   = 'single-secret-of-0.1';
	const EVENTS_VALUE = 'whsec_option_events_0123456789abcdef0123456789';
	const STOCK_VALUE  = 'whsec_option_stock_0123456789abcdef01234567890';

	/**
	 * What each release left: its schema version option and its events table's columns beyond
	 * 0.1's (the CREATE statements of the release's Woodoo_Queue::install(), git history).
	 *
	 * @var array
	 */
	const RELEASES = array(
		'0.1.0' => array( '1', false, false ), // db version, replay table, superseded/last attempt.
		'0.2.0' => array( '2', true, false ),
		'0.3.0' => array( '3', true, true ),
		'0.4.0' => array( '3', true, true ),
	);

	/**
	 * Requests the plugin made: array( url, decoded body ).
	 *
	 * @var array[]
	 */
	private $sent = array();

	/**
	 * The releases, by name.
	 *
	 * @return array
	 */
	public static function releases() {
		$cases = array();
		foreach ( array_keys( self::RELEASES ) as $release ) {
			$cases[ $release ] = array( $release );
		}
		return $cases;
	}

	/**
	 * The current plugin's tables and no options of its own again, and no recorder.
	 */
	protected function tearDown(): void {
		remove_all_filters( 'pre_http_request', 99 );
		remove_all_filters( 'woodoo_companion_order_notes', 99 );
		self::drop_everything();
		Woodoo_Queue::install();
		parent::tearDown();
	}

	/**
	 * Removes the plugin's tables and options.
	 */
	private static function drop_everything() {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . Woodoo_Queue::table() );
		$wpdb->query( 'DROP TABLE IF EXISTS ' . Woodoo_Replay::table() );
		foreach ( array( Woodoo_Queue::DB_OPTION, Woodoo_Settings::URL_OPTION, Woodoo_Settings::EVENTS_SECRET, Woodoo_Settings::STOCK_SECRET, Woodoo_Settings::LEGACY_SECRET, Woodoo_Settings::REPLACED ) as $option ) {
			delete_option( $option );
		}
		wp_cache_flush();
	}

	/**
	 * The tables and options exactly as `$release` left them, with its events: two waiting
	 * (one already tried), one delivered, one given up and, from 0.3, one superseded.
	 *
	 * @param string $release Release.
	 * @return array[] The events rows as stored, by event id.
	 */
	private static function leave_as( $release ) {
		global $wpdb;
		self::drop_everything();
		list( $db_version, $replay, $columns_of_0_3 ) = self::RELEASES[ $release ];
		$charset                                      = $wpdb->get_charset_collate();
		$table                                        = Woodoo_Queue::table();
		$later                                        = $columns_of_0_3 ? "  last_attempt_at bigint(20) unsigned NULL,\n" : '';
		$superseded                                   = $columns_of_0_3 ? "  superseded_at bigint(20) unsigned NULL,\n" : '';
		$wpdb->query(
			"CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  event_id char(36) NOT NULL,
  event varchar(40) NOT NULL,
  order_id bigint(20) unsigned NOT NULL DEFAULT 0,
  payload longtext NOT NULL,
  attempts int(10) unsigned NOT NULL DEFAULT 0,
  created_at bigint(20) unsigned NOT NULL,
  next_attempt bigint(20) unsigned NULL,
{$later}  last_error text NULL,
  delivered_at bigint(20) unsigned NULL,
  gave_up_at bigint(20) unsigned NULL,
{$superseded}  PRIMARY KEY  (id),
  UNIQUE KEY event_id (event_id),
  KEY order_id (order_id),
  KEY waiting (delivered_at,gave_up_at,next_attempt)
) {$charset}"
		);
		if ( $replay ) {
			$wpdb->query( Woodoo_Replay::schema( $charset ) ); // Unchanged since 0.2.
		}
		update_option( Woodoo_Queue::DB_OPTION, $db_version, false );
		update_option( Woodoo_Settings::URL_OPTION, self::URL );
		if ( '1' === $db_version ) {
			update_option( Woodoo_Settings::LEGACY_SECRET, self::OLD_SECRET );
		} else {
			update_option( Woodoo_Settings::EVENTS_SECRET, self::EVENTS_VALUE );
			update_option( Woodoo_Settings::STOCK_SECRET, self::STOCK_VALUE );
		}
		$now  = time();
		$rows = array(
			array( 'order_id' => 41, 'attempts' => 3, 'created_at' => $now - 900, 'next_attempt' => $now - 60, 'last_error' => 'no answer from the daemon: cURL error 7' ),
			array( 'order_id' => 42, 'attempts' => 0, 'created_at' => $now - 30, 'next_attempt' => $now + 30 ),
			array( 'order_id' => 43, 'attempts' => 1, 'created_at' => $now - 3000, 'delivered_at' => $now - 2990 ),
			array( 'order_id' => 44, 'attempts' => 1, 'created_at' => $now - 3000, 'gave_up_at' => $now - 2990, 'last_error' => 'HTTP 400 schema' ),
		);
		if ( $columns_of_0_3 ) {
			$rows[] = array( 'order_id' => 41, 'attempts' => 1, 'created_at' => $now - 1000, 'last_attempt_at' => $now - 990, 'superseded_at' => $now - 60 );
		}
		$stored = array();
		foreach ( $rows as $row ) {
			$event_id            = wp_generate_uuid4();
			$row                += array(
				'event_id' => $event_id,
				'event'    => 'order.updated',
				'payload'  => wp_json_encode(
					array(
						'event_id' => $event_id,
						'event'    => 'order.updated',
						'order'    => array( 'id' => $row['order_id'] ),
					)
				),
			);
			$wpdb->insert( $table, $row );
			$stored[ $event_id ] = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$table} WHERE event_id = %s", $event_id ), ARRAY_A );
		}
		wp_cache_flush();
		return $stored;
	}

	/**
	 * The waiting events of `$stored` (neither delivered, given up nor superseded).
	 *
	 * @param array[] $stored Rows by event id.
	 * @return string[] Event ids.
	 */
	private static function waiting( array $stored ) {
		$ids = array();
		foreach ( $stored as $event_id => $row ) {
			if ( null === $row['delivered_at'] && null === $row['gave_up_at'] && empty( $row['superseded_at'] ) ) {
				$ids[] = $event_id;
			}
		}
		sort( $ids );
		return $ids;
	}

	/**
	 * Records every request the plugin makes and answers it as the daemon does (202).
	 */
	private function answer_as_the_daemon() {
		add_filter( 'woodoo_companion_order_notes', '__return_false', 99 ); // The stand-in has no orders.
		add_filter(
			'pre_http_request',
			function ( $pre, $args, $url ) {
				$this->sent[] = array( $url, json_decode( $args['body'], true ) );
				return array(
					'headers'  => array(),
					'body'     => '{"status":"queued"}',
					'response' => array(
						'code'    => 202,
						'message' => 'Accepted',
					),
					'cookies'  => array(),
					'filename' => null,
				);
			},
			99, // After the bootstrap's offline filter, whose answer this one replaces.
			3
		);
	}

	/**
	 * A flush, as the daemon calls it when it starts: array( status, data ).
	 *
	 * @param int $max Events at most (a different body each call: a signed call is accepted once).
	 * @return array
	 */
	private function flush( $max ) {
		return $this->call( '/woodoo/v1/flush', Woodoo_Signer::PLUGIN_FLUSH, wp_json_encode( array( 'max_events' => $max ) ) );
	}

	/**
	 * The update from each release keeps the waiting events and the settings; each event is
	 * then sent once.
	 *
	 * @dataProvider releases
	 * @param string $release Release updated from.
	 */
	public function test_an_update_keeps_waiting_events_and_settings_and_sends_each_once( $release ) {
		global $wpdb;
		$stored = self::leave_as( $release );
		$this->assertCount( 2, self::waiting( $stored ) );

		Woodoo_Plugin::load(); // What runs after an update: plugins_loaded, no activation hook.

		$this->assertSame( Woodoo_Queue::DB_VERSION, get_option( Woodoo_Queue::DB_OPTION ) );
		$columns = $wpdb->get_col( 'SHOW COLUMNS FROM ' . Woodoo_Queue::table() );
		$this->assertContains( 'superseded_at', $columns );
		$this->assertContains( 'last_attempt_at', $columns );
		$this->assertSame( Woodoo_Replay::table(), $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Woodoo_Replay::table() ) ) );
		foreach ( $stored as $event_id => $row ) {
			$now = Woodoo_Queue::find( $event_id );
			$this->assertSame( $row, array_intersect_key( $now, $row ), "event {$event_id} as it was" );
		}
		$this->assertSame( 2, Woodoo_Queue::waiting_count() );
		$this->assertSame( self::URL, Woodoo_Settings::daemon_url() );
		if ( '0.1.0' === $release ) {
			$this->assertFalse( get_option( Woodoo_Settings::LEGACY_SECRET ), '0.1 secret removed, never copied' );
			$this->assertFalse( get_option( Woodoo_Settings::EVENTS_SECRET ) );
			$this->assertFalse( get_option( Woodoo_Settings::STOCK_SECRET ) );
			$this->assertNotFalse( get_option( Woodoo_Settings::REPLACED ), 'the notice will say what replaced it' );
		} else {
			$this->assertSame( self::EVENTS_VALUE, get_option( Woodoo_Settings::EVENTS_SECRET ) );
			$this->assertSame( self::STOCK_VALUE, get_option( Woodoo_Settings::STOCK_SECRET ) );
		}

		// The daemon starts and asks for what waits (here the secrets come from wp-config.php,
		// as an administrator sets them after the update from 0.1): each waiting event once.
		$this->answer_as_the_daemon();
		list( $status, $data ) = $this->flush( 100 );
		$this->assertSame( 200, $status, wp_json_encode( $data ) );
		$this->assertSame(
			array(
				'sent'      => 2,
				'delivered' => 2,
				'failed'    => 0,
				'waiting'   => 0,
			),
			$data
		);
		$ids = array_map(
			static function ( $request ) {
				return $request[1]['event_id'];
			},
			$this->sent
		);
		sort( $ids );
		$this->assertSame( self::waiting( $stored ), $ids );
		$this->assertSame( array( self::URL ), array_values( array_unique( array_column( $this->sent, 0 ) ) ) );
		list( $status, $data ) = $this->flush( 99 );
		$this->assertSame( array( 200, 0 ), array( $status, $data['sent'] ?? $data ) );
		$this->assertCount( 2, $this->sent, 'nothing sent twice' );
	}

	/**
	 * Loading again (every request after the update) changes nothing more.
	 */
	public function test_the_upgrade_runs_once() {
		self::leave_as( '0.2.0' );
		Woodoo_Plugin::load();
		$queries = array();
		$record  = static function ( $query ) use ( &$queries ) {
			$queries[] = $query;
			return $query;
		};
		add_filter( 'query', $record );
		try {
			Woodoo_Plugin::load();
		} finally {
			remove_filter( 'query', $record );
		}
		$this->assertSame( array(), preg_grep( '/^\s*(CREATE|ALTER|DROP)\b/i', $queries ) );
	}
}

<?php
/**
 * WooCommerce > Settings > Woodoo: daemon URL, the two secrets, test button, the daemon's status
 * (Woodoo_Status: read from the daemon's POST /webhooks/status, cached for a minute) and this
 * shop's events waiting (not yet acknowledged by the daemon: Woodoo_Queue::WAITING).
 *
 * Two secrets, one per channel, so that a leak of one does not open the other: the events secret
 * signs the order events this plugin sends (it must equal one of the daemon's
 * webhooks.shop_secrets), the stock secret verifies the daemon's writes to the stock route and its
 * calls to the flush route (the daemon's woocommerce.plugin_secret). WOODOO_DAEMON_URL, WOODOO_EVENTS_SECRET and
 * WOODOO_STOCK_SECRET in wp-config.php win over the stored options and make the fields read-only.
 * Secrets are never written back into the page.
 *
 * Changing the settings needs manage_options, not only manage_woocommerce: whoever sets the daemon
 * URL decides where order data goes, and whoever sets the stock secret can write stock.
 *
 * @package WoodooCompanion
 */

defined( 'ABSPATH' ) || exit;

/**
 * Settings.
 */
final class Woodoo_Settings {

	const TAB           = 'woodoo';
	const URL_OPTION    = 'woodoo_companion_daemon_url';
	const EVENTS_SECRET = 'woodoo_companion_events_secret';
	const STOCK_SECRET  = 'woodoo_companion_stock_secret';
	const LEGACY_SECRET = 'woodoo_companion_secret'; // 0.1's single secret, removed on upgrade.
	const REPLACED      = 'woodoo_companion_secret_replaced'; // Set when the upgrade removed 0.1's secret.
	const TEST          = 'woodoo_companion_test';
	const RESULT        = 'woodoo_companion_test_result';
	const CAPABILITY    = 'manage_options';

	// Channels: which option and which wp-config constant hold each secret.
	const EVENTS = 'events';
	const STOCK  = 'stock';

	/**
	 * Option, constant and name in words of each channel's secret.
	 *
	 * @var array
	 */
	private static $channels = array(
		self::EVENTS => array( self::EVENTS_SECRET, 'WOODOO_EVENTS_SECRET', 'events secret' ),
		self::STOCK  => array( self::STOCK_SECRET, 'WOODOO_STOCK_SECRET', 'stock secret' ),
	);

	/**
	 * Adds the hooks.
	 */
	public static function register() {
		add_filter( 'woocommerce_settings_tabs_array', array( __CLASS__, 'add_tab' ), 50 );
		add_action( 'woocommerce_settings_tabs_' . self::TAB, array( __CLASS__, 'render' ) );
		add_action( 'woocommerce_update_options_' . self::TAB, array( __CLASS__, 'save' ) );
		add_action( 'woocommerce_admin_field_woodoo_secret', array( __CLASS__, 'render_secret' ) );
		add_action( 'woocommerce_admin_field_woodoo_status', array( __CLASS__, 'render_status' ) );
		add_action( 'admin_post_' . self::TEST, array( __CLASS__, 'handle_test' ) );
		add_action( 'admin_notices', array( __CLASS__, 'not_configured_notice' ) );
	}

	/**
	 * The daemon's event URL (constant first).
	 *
	 * @return string
	 */
	public static function daemon_url() {
		if ( defined( 'WOODOO_DAEMON_URL' ) ) {
			$url = self::sanitize_url( (string) constant( 'WOODOO_DAEMON_URL' ) );
			return null === $url ? '' : $url;
		}
		return (string) get_option( self::URL_OPTION, '' );
	}

	/**
	 * The events secret (constant first), as set: check secret_problem() before using it.
	 *
	 * @return string
	 */
	public static function events_secret() {
		return self::secret( self::EVENTS );
	}

	/**
	 * The stock secret (constant first), as set: check secret_problem() before using it.
	 *
	 * @return string
	 */
	public static function stock_secret() {
		return self::secret( self::STOCK );
	}

	/**
	 * A channel's secret (constant first).
	 *
	 * @param string $channel self::EVENTS or self::STOCK.
	 * @return string
	 */
	public static function secret( $channel ) {
		list( $option, $constant ) = self::$channels[ $channel ];
		if ( defined( $constant ) ) {
			return trim( (string) constant( $constant ) );
		}
		$value = get_option( $option, '' );
		return is_string( $value ) ? $value : '';
	}

	/**
	 * Whether a channel's secret is fixed by its wp-config constant.
	 *
	 * @param string $channel self::EVENTS or self::STOCK.
	 * @return bool
	 */
	public static function locked( $channel ) {
		return defined( self::$channels[ $channel ][1] );
	}

	/**
	 * Why a channel's secret may not be used, in words, or null when it may.
	 *
	 * Checked at use as well as on save, because a wp-config constant is never saved through the
	 * form: nothing signs or verifies with an empty, short or shared secret.
	 *
	 * @param string $channel self::EVENTS or self::STOCK.
	 * @return string|null
	 */
	public static function secret_problem( $channel ) {
		list( , $constant, $name ) = self::$channels[ $channel ];
		$secret                    = self::secret( $channel );
		if ( '' === $secret ) {
			/* translators: 1: secret name, 2: wp-config constant. */
			return sprintf( __( 'the %1$s is not set (WooCommerce > Settings > Woodoo, or %2$s in wp-config.php)', 'woodoo-companion' ), $name, $constant );
		}
		if ( ! Woodoo_Signer::usable_secret( $secret ) ) {
			/* translators: 1: secret name, 2: minimum length. */
			return sprintf( __( 'the %1$s is shorter than %2$d characters', 'woodoo-companion' ), $name, Woodoo_Signer::MIN_SECRET_LENGTH );
		}
		$other = self::EVENTS === $channel ? self::STOCK : self::EVENTS;
		if ( hash_equals( self::secret( $other ), $secret ) ) {
			return __( 'the events secret and the stock secret are the same; each channel needs its own', 'woodoo-companion' );
		}
		return null;
	}

	/**
	 * Whether the current user may change the settings.
	 *
	 * @return bool
	 */
	public static function can_manage() {
		return current_user_can( self::CAPABILITY );
	}

	/**
	 * A clean http(s) URL, or null when $raw is not one.
	 *
	 * @param string $raw Input.
	 * @return string|null
	 */
	public static function sanitize_url( $raw ) {
		if ( ! is_string( $raw ) ) {
			return null;
		}
		$url = trim( $raw );
		if ( '' === $url ) {
			return '';
		}
		$parts = wp_parse_url( $url );
		if ( strlen( $url ) > 2000 || ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] )
			|| ! in_array( strtolower( $parts['scheme'] ), array( 'http', 'https' ), true )
			|| preg_match( '/[\s<>"\'`]|[^\x20-\x7e]/', $url ) ) {
			return null;
		}
		return esc_url_raw( $url, array( 'http', 'https' ) );
	}

	/**
	 * WooCommerce's save action of the tab (nonce and manage_woocommerce checked by WooCommerce).
	 */
	public static function save() {
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- WooCommerce checked the nonce before this action.
		self::update( wp_unslash( $_POST ) );
	}

	/**
	 * Applies posted settings: the URL, and each secret typed (an empty field keeps the stored one).
	 *
	 * Every check is here, not only in the form, so a crafted POST gets no further than the page:
	 * manage_options, a valid URL, secrets of at least MIN_SECRET_LENGTH characters that differ.
	 * A refused value keeps the stored one and says why in an admin notice.
	 *
	 * @param mixed $posted Unslashed POST data.
	 * @return string[] Options changed.
	 */
	public static function update( $posted ) {
		$posted  = is_array( $posted ) ? $posted : array();
		$touched = array_intersect( array_keys( $posted ), array( self::URL_OPTION, self::EVENTS_SECRET, self::STOCK_SECRET ) );
		if ( ! self::can_manage() ) {
			if ( $touched ) {
				self::error( __( 'Only administrators (manage_options) can change the Woodoo daemon URL and secrets. Nothing was changed.', 'woodoo-companion' ) );
			}
			return array();
		}
		$changes = array();

		if ( array_key_exists( self::URL_OPTION, $posted ) && ! defined( 'WOODOO_DAEMON_URL' ) ) {
			$url = self::sanitize_url( $posted[ self::URL_OPTION ] );
			if ( null === $url ) {
				self::error( __( 'The daemon URL must be an http:// or https:// URL, e.g. https://woodoo.example.com/webhooks/woocommerce. The previous value is kept.', 'woodoo-companion' ) );
			} elseif ( get_option( self::URL_OPTION, '' ) !== $url ) {
				$changes[ self::URL_OPTION ] = $url;
			}
		}

		// The secrets change together or not at all: half of a rotation typed in is worse than none.
		$new     = array();
		$refused = false;
		foreach ( self::$channels as $channel => $spec ) {
			list( $option, $constant, $name ) = $spec;
			if ( ! array_key_exists( $option, $posted ) || self::locked( $channel ) ) {
				continue;
			}
			$raw = $posted[ $option ];
			if ( ! is_string( $raw ) ) {
				/* translators: %s: secret name. */
				self::error( sprintf( __( 'The %s must be text. The secrets were not changed.', 'woodoo-companion' ), $name ) );
				$refused = true;
				continue;
			}
			$secret = trim( $raw );
			if ( '' === $secret ) {
				continue; // An empty password field means "keep".
			}
			if ( ! Woodoo_Signer::usable_secret( $secret ) ) {
				/* translators: 1: secret name, 2: minimum length. */
				self::error( sprintf( __( 'The %1$s must be at least %2$d characters (e.g. openssl rand -hex 32). The secrets were not changed.', 'woodoo-companion' ), $name, Woodoo_Signer::MIN_SECRET_LENGTH ) );
				$refused = true;
				continue;
			}
			$new[ $channel ] = $secret;
		}
		if ( $new && ! $refused ) {
			$events = isset( $new[ self::EVENTS ] ) ? $new[ self::EVENTS ] : self::events_secret();
			$stock  = isset( $new[ self::STOCK ] ) ? $new[ self::STOCK ] : self::stock_secret();
			if ( hash_equals( $events, $stock ) ) {
				self::error( __( 'The events secret and the stock secret must differ: each channel needs its own. The secrets were not changed.', 'woodoo-companion' ) );
				$refused = true;
			}
		}
		if ( $refused ) {
			$new = array();
		}
		foreach ( $new as $channel => $secret ) {
			$changes[ self::$channels[ $channel ][0] ] = $secret;
		}

		foreach ( $changes as $option => $value ) {
			// Not autoloaded: secrets are read only when signing or verifying.
			update_option( $option, $value, self::URL_OPTION === $option );
		}
		if ( $changes ) {
			Woodoo_Status::forget(); // Asked again with the new URL or secret.
		}
		return array_keys( $changes );
	}

	/**
	 * The settings fields.
	 *
	 * @return array
	 */
	public static function fields() {
		$url_locked = defined( 'WOODOO_DAEMON_URL' ) || ! self::can_manage();
		if ( defined( 'WOODOO_DAEMON_URL' ) ) {
			$url_help = __( 'Set by WOODOO_DAEMON_URL in wp-config.php.', 'woodoo-companion' );
		} elseif ( ! self::can_manage() ) {
			$url_help = __( 'Only administrators can change it.', 'woodoo-companion' );
		} else {
			$url_help = __( 'The daemon\'s order event endpoint, e.g. https://woodoo.example.com/webhooks/woocommerce', 'woodoo-companion' );
		}
		return array(
			array(
				'title' => __( 'Woodoo', 'woodoo-companion' ),
				'type'  => 'title',
				'desc'  => __( 'Order events go to the Woodoo daemon, signed with the events secret; the daemon writes stock back through a signed, conditional REST route (/wp-json/woodoo/v1/stock), verified with the stock secret, and asks for the waiting events when it starts (/wp-json/woodoo/v1/flush, same secret).', 'woodoo-companion' ),
				'id'    => 'woodoo_companion_section',
			),
			array(
				'title'             => __( 'Daemon URL', 'woodoo-companion' ),
				'desc'              => $url_help,
				'id'                => self::URL_OPTION,
				'type'              => 'url',
				'default'           => '',
				'value'             => self::daemon_url(),
				'custom_attributes' => $url_locked ? array(
					'readonly' => 'readonly',
					'disabled' => 'disabled',
				) : array(),
				'css'               => 'min-width:420px;',
			),
			array(
				'title'   => __( 'Events secret', 'woodoo-companion' ),
				'id'      => self::EVENTS_SECRET,
				'type'    => 'woodoo_secret',
				'channel' => self::EVENTS,
			),
			array(
				'title'   => __( 'Stock secret', 'woodoo-companion' ),
				'id'      => self::STOCK_SECRET,
				'type'    => 'woodoo_secret',
				'channel' => self::STOCK,
			),
			array(
				'title'     => __( 'Status', 'woodoo-companion' ),
				'id'        => 'woodoo_companion_status',
				'type'      => 'woodoo_status',
				'is_option' => false,
			),
			array(
				'type' => 'sectionend',
				'id'   => 'woodoo_companion_section',
			),
		);
	}

	/**
	 * Adds the tab.
	 *
	 * @param array $tabs Tabs.
	 * @return array
	 */
	public static function add_tab( $tabs ) {
		$tabs[ self::TAB ] = __( 'Woodoo', 'woodoo-companion' );
		return $tabs;
	}

	/**
	 * Renders the tab; read-only, without a save button, for users who cannot change it.
	 */
	public static function render() {
		if ( ! self::can_manage() ) {
			$GLOBALS['hide_save_button'] = true; // phpcs:ignore WordPress.WP.GlobalVariablesOverride.Prohibited -- WooCommerce's own switch.
		}
		woocommerce_admin_fields( self::fields() );
	}

	/**
	 * A secret field: never shows the secret, only whether one is set.
	 *
	 * @param array $field Field.
	 */
	public static function render_secret( $field ) {
		$channel = isset( $field['channel'] ) && isset( self::$channels[ $field['channel'] ] ) ? $field['channel'] : self::EVENTS;
		echo self::secret_field_html( $channel ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped inside.
	}

	/**
	 * HTML of a secret row (separate for tests).
	 *
	 * @param string $channel self::EVENTS or self::STOCK.
	 * @return string
	 */
	public static function secret_field_html( $channel = self::EVENTS ) {
		list( $option, $constant ) = self::$channels[ $channel ];
		$constant_set              = self::locked( $channel );
		$locked                    = $constant_set || ! self::can_manage();
		$set                       = '' !== self::secret( $channel );
		$problem                   = $set ? self::secret_problem( $channel ) : null;
		$title                     = self::EVENTS === $channel ? __( 'Events secret', 'woodoo-companion' ) : __( 'Stock secret', 'woodoo-companion' );
		$role                      = self::EVENTS === $channel
			? __( 'Signs the order events sent to the daemon; must equal one of the daemon\'s webhooks.shop_secrets.', 'woodoo-companion' )
			: __( 'Verifies the daemon\'s stock writes and its calls to send the waiting events; must equal the daemon\'s woocommerce.plugin_secret.', 'woodoo-companion' );
		if ( $constant_set ) {
			/* translators: %s: wp-config constant. */
			$help = sprintf( __( 'Set by %s in wp-config.php.', 'woodoo-companion' ), $constant );
		} elseif ( ! self::can_manage() ) {
			$help = $set ? __( 'A secret is set. Only administrators can change it.', 'woodoo-companion' ) : __( 'Not set. Only administrators can set it.', 'woodoo-companion' );
		} elseif ( $set ) {
			$help = __( 'A secret is set. Leave empty to keep it; type a new one (at least 32 characters) to replace it.', 'woodoo-companion' );
		} else {
			$help = __( 'Not set. At least 32 characters, different from the other secret (e.g. openssl rand -hex 32).', 'woodoo-companion' );
		}
		$help = $role . ' ' . $help . ( null === $problem ? '' : ' ' . __( 'Not usable:', 'woodoo-companion' ) . ' ' . $problem . '.' );
		return '<tr valign="top"><th scope="row" class="titledesc"><label for="' . esc_attr( $option ) . '">'
			. esc_html( $title ) . '</label></th><td class="forminp">'
			. '<input type="password" autocomplete="new-password" style="min-width:420px;" name="' . esc_attr( $option ) . '" id="' . esc_attr( $option ) . '" value=""'
			. ' placeholder="' . esc_attr( $set ? '••••••••' : '' ) . '"' . ( $locked ? ' readonly="readonly" disabled="disabled"' : '' ) . ' />'
			. '<p class="description">' . esc_html( $help ) . '</p></td></tr>';
	}

	/**
	 * The status row: the daemon's state and this shop's events waiting, the test button and the
	 * last test's answer.
	 *
	 * @param array $field Field.
	 */
	public static function render_status( $field ) {
		echo self::status_html(); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped inside.
	}

	/**
	 * HTML of the status row (separate for tests); every value is escaped.
	 *
	 * @return string
	 */
	public static function status_html() {
		$result = get_transient( self::RESULT . '_' . get_current_user_id() );
		delete_transient( self::RESULT . '_' . get_current_user_id() );
		$test_url = wp_nonce_url( admin_url( 'admin-post.php?action=' . self::TEST ), self::TEST );
		$html     = '<tr valign="top"><th scope="row" class="titledesc">' . esc_html__( 'Status', 'woodoo-companion' ) . '</th><td class="forminp">';
		$html    .= Woodoo_Status::html( Woodoo_Status::get(), Woodoo_Queue::waiting_summary() );
		$html    .= '<p class="description">' . esc_html__( 'The daemon\'s figures are read from its /webhooks/status route, signed with the events secret, at most once a minute; Send test event asks again.', 'woodoo-companion' ) . '</p>';
		$html    .= '<p><a class="button" href="' . esc_url( $test_url ) . '">' . esc_html__( 'Send test event', 'woodoo-companion' ) . '</a></p>';
		if ( is_array( $result ) && isset( $result[1] ) ) {
			$html .= '<div class="notice inline ' . ( $result[0] ? 'notice-success' : 'notice-error' ) . '"><p>' . esc_html( $result[1] ) . '</p></div>';
		}
		return $html . '</td></tr>';
	}

	/**
	 * "N events waiting for delivery (oldest from <time>, last error: ...)." in words.
	 *
	 * Waiting means not yet acknowledged by the daemon: an event it acknowledged, refused or that
	 * a newer acknowledged event of its order superseded is not counted. The last error is the
	 * one the order notes already show.
	 *
	 * @param array $summary Woodoo_Queue::waiting_summary().
	 * @return string
	 */
	public static function waiting_text( array $summary ) {
		$waiting = (int) $summary['waiting'];
		/* translators: %d: number of events. */
		$text    = sprintf( _n( '%d event waiting for delivery', '%d events waiting for delivery', $waiting, 'woodoo-companion' ), $waiting );
		$details = array();
		if ( $waiting > 0 && null !== $summary['oldest'] ) {
			$format = get_option( 'date_format', 'Y-m-d' ) . ' ' . get_option( 'time_format', 'H:i' );
			/* translators: %s: date and time. */
			$details[] = sprintf( __( 'oldest from %s', 'woodoo-companion' ), wp_date( $format, (int) $summary['oldest'] ) );
		}
		if ( $waiting > 0 && null !== $summary['last_error'] && '' !== $summary['last_error'] ) {
			$error = (string) $summary['last_error'];
			$error = function_exists( 'mb_substr' ) ? mb_substr( $error, 0, 200 ) : substr( $error, 0, 200 );
			/* translators: %s: the error of the most recent failed attempt. */
			$details[] = sprintf( __( 'last error: %s', 'woodoo-companion' ), $error );
		}
		return $text . ( $details ? ' (' . implode( ', ', $details ) . ')' : '' ) . '.';
	}

	/**
	 * Admin notice while a secret is missing or unusable (e.g. right after the upgrade to 0.2).
	 */
	public static function not_configured_notice() {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		$problems = array_filter( array( self::secret_problem( self::EVENTS ), self::secret_problem( self::STOCK ) ) );
		if ( ! $problems ) {
			if ( false !== get_option( self::REPLACED ) ) {
				delete_option( self::REPLACED ); // Both set since: the 0.1 story is told no more.
			}
			return;
		}
		$text = __( 'Woodoo Companion:', 'woodoo-companion' ) . ' ' . implode( '; ', array_unique( $problems ) ) . '. '
			. __( 'Order events wait and the stock route refuses every write until both secrets are set (WooCommerce > Settings > Woodoo).', 'woodoo-companion' );
		if ( false !== get_option( self::REPLACED ) || defined( 'WOODOO_SECRET' ) ) {
			// Upgraded from 0.1: what it had is gone, and the daemon needs the new two as well.
			$text .= ' ' . __( 'The single secret of Woodoo Companion 0.1 (woodoo_companion_secret, or WOODOO_SECRET in wp-config.php) is no longer read and was not copied: make two new secrets of at least 32 characters, different from each other, set them here (or as WOODOO_EVENTS_SECRET and WOODOO_STOCK_SECRET in wp-config.php), and give the daemon the same two in its config: webhooks.shop_secrets (the events secret) and woocommerce.plugin_secret (the stock secret). No event is lost meanwhile: they are sent once both are set.', 'woodoo-companion' );
		}
		echo '<div class="notice notice-warning"><p>' . esc_html( $text ) . '</p></div>';
	}

	/**
	 * admin-post handler of the test button (nonce + manage_woocommerce: it changes nothing).
	 */
	public static function handle_test() {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'woodoo-companion' ), 403 );
		}
		check_admin_referer( self::TEST );
		$result = Woodoo_Sender::test();
		set_transient( self::RESULT . '_' . get_current_user_id(), $result, 300 );
		Woodoo_Status::forget(); // The page shown next asks the daemon again.
		wp_safe_redirect( admin_url( 'admin.php?page=wc-settings&tab=' . self::TAB ) );
		exit;
	}

	/**
	 * Shows a settings error.
	 *
	 * @param string $message Message.
	 */
	private static function error( $message ) {
		if ( class_exists( 'WC_Admin_Settings' ) ) {
			WC_Admin_Settings::add_error( $message );
		}
	}
}
